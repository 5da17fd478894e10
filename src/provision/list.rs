//! `GET /Users`, `GET /Groups`: filters DataHub can answer by key, everything
//! else by paging the search index.
//!
//! Key lookups (never the index alone, so they read our own writes):
//! `id eq` decodes the id; `userName eq` derives the urn with the naming rule
//! (and compares case-insensitively with the stored `scim.userName`); group
//! `displayName eq` derives the urn (plus the rename cache, plus a search for
//! groups renamed elsewhere); `externalId eq` goes through the ID-mapping cache,
//! then a search. Every candidate is hydrated from the primary store and checked
//! with `Filter::matches` before it is returned.
//!
//! Anything else pages through `listUsers` / `listGroups`, sorts the urns (stable
//! order across pages whatever `count` is), hydrates in batches and evaluates the
//! filter in memory. `startIndex`/`count` follow RFC 7644 §3.4.2.4; `count` is
//! capped at `max_page_size`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::record::{GroupRecord, UserRecord};
use super::{cache::Kind, naming, Ctx, Provisioner, UsernameSource};
use crate::datahub::{EntityKind, FacetFilter, Urn};
use crate::scim::filter::Filter;
use crate::scim::list::{list_response, Projection};
use crate::scim::{self, ListQuery, ResourceKind};

/// Relationship reads in flight at once while listing groups with members.
const MEMBER_FETCH_CONCURRENCY: usize = 8;

/// Applies `attributes` / `excludedAttributes`.
pub(super) fn project(mut v: Value, q: &ListQuery, kind: ResourceKind) -> Value {
    scim::list::project(&mut v, &q.attributes, &q.excluded_attributes, kind);
    v
}

/// True when the response will not carry `members`, so they need not be loaded.
pub(super) fn skips_members(q: &ListQuery) -> bool {
    Projection {
        attributes: q.attributes.clone(),
        excluded_attributes: q.excluded_attributes.clone(),
    }
    .excludes("members", ResourceKind::Group)
}

/// What a filter lets us look up by key.
enum Candidates {
    /// These urns, and only these, can match.
    Some(Vec<Urn>),
    /// `userName eq`: this urn by key; when it does not match, the index is asked
    /// case-insensitively for this username (userName is not case-exact, DataHub
    /// urns are).
    Key(Urn, String),
    /// No shortcut: scan the index.
    Scan,
}

impl Provisioner {
    /// `GET /Users` (and `POST /Users/.search`).
    pub async fn list_users(&self, ctx: &Ctx, q: &ListQuery) -> Result<Value, scim::Error> {
        let (start, count) = self.page_of(q);
        let cands = match &q.filter {
            Some(f) => self.user_candidates(ctx, f).await?,
            None => Candidates::Scan,
        };
        let wanted = |i: usize| i + 1 >= start && i + 1 < start + count;
        let mut out = Vec::new();
        let mut total = 0usize;
        let Some(f) = &q.filter else {
            // No filter: every SCIM-managed user in urn order. Which users are ours is
            // only known from the primary store, so the whole index is hydrated (in
            // batches of 100); totals are exact and pages stable.
            let urns = self.scan(ctx, Kind::User).await?;
            for rec in self.hydrate_users(ctx, &urns).await? {
                if rec.visible() {
                    if wanted(total) {
                        out.push(project(self.render_user(ctx, &rec), q, ResourceKind::User));
                    }
                    total += 1;
                }
            }
            return Ok(list_response(total, start, out));
        };
        let matching = |recs: Vec<UserRecord>| -> Vec<Value> {
            recs.iter()
                .filter(|r| r.visible())
                .map(|r| self.render_user(ctx, r))
                .filter(|v| f.matches(v, ResourceKind::User))
                .collect()
        };
        let found = match cands {
            Candidates::Some(urns) => matching(self.hydrate_users(ctx, &urns).await?),
            Candidates::Key(urn, username) => {
                let hit = matching(self.hydrate_users(ctx, std::slice::from_ref(&urn)).await?);
                if hit.is_empty() {
                    let urns = self
                        .search_filtered(
                            ctx,
                            EntityKind::CorpUser,
                            FacetFilter::iequal("ldap", &username),
                        )
                        .await?;
                    matching(self.hydrate_users(ctx, &urns).await?)
                } else {
                    hit
                }
            }
            Candidates::Scan => matching(
                self.hydrate_users(ctx, &self.scan(ctx, Kind::User).await?)
                    .await?,
            ),
        };
        for v in found {
            if wanted(total) {
                out.push(project(v, q, ResourceKind::User));
            }
            total += 1;
        }
        Ok(list_response(total, start, out))
    }

    /// `GET /Groups` (and `POST /Groups/.search`).
    pub async fn list_groups(&self, ctx: &Ctx, q: &ListQuery) -> Result<Value, scim::Error> {
        let (start, count) = self.page_of(q);
        let urns = match &q.filter {
            Some(f) => match self.group_candidates(ctx, f).await? {
                Candidates::Some(u) => u,
                Candidates::Key(u, _) => vec![u],
                Candidates::Scan => self.scan(ctx, Kind::Group).await?,
            },
            None => self.scan(ctx, Kind::Group).await?,
        };
        let with_members = !skips_members(q);
        let wanted = |i: usize| i + 1 >= start && i + 1 < start + count;
        let mut page: Vec<(GroupRecord, Option<BTreeSet<String>>)> = Vec::new();
        let total = match &q.filter {
            None => {
                let slice: Vec<Urn> = urns
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| wanted(*i))
                    .map(|(_, u)| u.clone())
                    .collect();
                let recs = self.hydrate_groups(ctx, &slice).await?;
                page.extend(
                    recs.into_iter()
                        .filter(GroupRecord::live)
                        .map(|r| (r, None)),
                );
                urns.len()
            }
            Some(f) => {
                let needs_members = f.to_string().to_ascii_lowercase().contains("members");
                let recs: Vec<GroupRecord> = self
                    .hydrate_groups(ctx, &urns)
                    .await?
                    .into_iter()
                    .filter(GroupRecord::live)
                    .collect();
                let members = if needs_members {
                    self.members_of_many(ctx, &recs)
                        .await?
                        .into_iter()
                        .map(Some)
                        .collect()
                } else {
                    vec![None; recs.len()]
                };
                let mut n = 0usize;
                for (rec, m) in recs.into_iter().zip(members) {
                    if f.matches(
                        &self.render_group(ctx, &rec, m.clone()),
                        ResourceKind::Group,
                    ) {
                        if wanted(n) {
                            page.push((rec, m));
                        }
                        n += 1;
                    }
                }
                n
            }
        };
        if with_members {
            let missing: Vec<GroupRecord> = page
                .iter()
                .filter(|(_, m)| m.is_none())
                .map(|(r, _)| r.clone())
                .collect();
            let mut loaded = self.members_of_many(ctx, &missing).await?.into_iter();
            for (_, m) in page.iter_mut().filter(|(_, m)| m.is_none()) {
                *m = loaded.next();
            }
        }
        let out = page
            .into_iter()
            .map(|(rec, m)| {
                let m = if with_members { m } else { None };
                project(self.render_group(ctx, &rec, m), q, ResourceKind::Group)
            })
            .collect();
        Ok(list_response(total, start, out))
    }

    /// Members of several groups, [`MEMBER_FETCH_CONCURRENCY`] relationship reads at a
    /// time, in input order.
    async fn members_of_many(
        &self,
        ctx: &Ctx,
        groups: &[GroupRecord],
    ) -> Result<Vec<BTreeSet<String>>, scim::Error> {
        let mut out = Vec::with_capacity(groups.len());
        for chunk in groups.chunks(MEMBER_FETCH_CONCURRENCY) {
            let mut set = tokio::task::JoinSet::new();
            for (i, g) in chunk.iter().enumerate() {
                let (this, ctx, urn) = (self.clone(), ctx.clone(), g.urn.clone());
                set.spawn(async move { (i, this.current_members(&ctx, &urn).await) });
            }
            let mut got: Vec<Option<BTreeSet<String>>> = vec![None; chunk.len()];
            while let Some(joined) = set.join_next().await {
                let (i, r) = joined.map_err(|_| scim::Error::internal())?;
                got[i] = Some(r?);
            }
            out.extend(got.into_iter().map(Option::unwrap_or_default));
        }
        Ok(out)
    }

    /// 1-based start and the page size (default and cap: `max_page_size`).
    fn page_of(&self, q: &ListQuery) -> (usize, usize) {
        let max = self.cfg.max_page_size.max(1);
        (q.start_index.max(1), q.count.unwrap_or(max).min(max))
    }

    async fn user_candidates(&self, ctx: &Ctx, f: &Filter) -> Result<Candidates, scim::Error> {
        let Some(terms) = f.eq_conjunction() else {
            return Ok(Candidates::Scan);
        };
        let kind = ResourceKind::User;
        for (path, value) in &terms {
            if path.is(kind, "id") {
                return Ok(Candidates::Some(
                    super::users::user_urn(value).into_iter().collect(),
                ));
            }
            if path.is(kind, "userName") && self.cfg.username_source == UsernameSource::UserName {
                return Ok(match naming::derive_username(&self.cfg, value) {
                    Some(u) => Candidates::Key(Urn::corp_user(&u), u),
                    None => Candidates::Some(Vec::new()),
                });
            }
            let is_email = path.is(kind, "emails.value") || path.is(kind, "emails");
            if is_email && self.cfg.username_source == UsernameSource::PrimaryEmail {
                return Ok(match naming::derive_username(&self.cfg, value) {
                    Some(u) => Candidates::Key(Urn::corp_user(&u), u),
                    None => Candidates::Some(Vec::new()),
                });
            }
            if is_email {
                // Entra's `emails[type eq "work"].value eq "x"`: the index knows the
                // primary email; every hit is re-checked against the primary store.
                let f = FacetFilter::iequal("email", value);
                return Ok(Candidates::Some(
                    self.search_filtered(ctx, EntityKind::CorpUser, f).await?,
                ));
            }
            if path.is(kind, "externalId") {
                return Ok(Candidates::Some(self.by_external_id(ctx, value).await?));
            }
        }
        Ok(Candidates::Scan)
    }

    async fn group_candidates(&self, ctx: &Ctx, f: &Filter) -> Result<Candidates, scim::Error> {
        let Some(terms) = f.eq_conjunction() else {
            return Ok(Candidates::Scan);
        };
        let kind = ResourceKind::Group;
        for (path, value) in &terms {
            if path.is(kind, "id") {
                return Ok(Candidates::Some(
                    super::groups::group_urn(value).into_iter().collect(),
                ));
            }
            if path.is(kind, "displayName") {
                return Ok(Candidates::Some(self.by_display_name(ctx, value).await?));
            }
            if path.is(kind, "externalId") {
                // Never stored for groups (DataHub has no field): nothing can match.
                return Ok(Candidates::Some(Vec::new()));
            }
        }
        Ok(Candidates::Scan)
    }
}
