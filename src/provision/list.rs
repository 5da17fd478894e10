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
        // Which users are ours is only known from the primary store, so a scan
        // hydrates the whole index (in batches of 100); totals are exact and the
        // order (urn, or `sortBy`) is stable across pages.
        let matches = |v: &Value| {
            q.filter
                .as_ref()
                .is_none_or(|f| f.matches(v, ResourceKind::User))
        };
        let matching = |recs: Vec<UserRecord>| -> Vec<Value> {
            recs.iter()
                .filter(|r| r.visible())
                .map(|r| self.render_user(ctx, r))
                .filter(|v| matches(v))
                .collect()
        };
        let mut found = match cands {
            Candidates::Some(urns) => matching(self.hydrate_users(ctx, &urns).await?),
            Candidates::Key(urn, username) => {
                let hit = matching(self.hydrate_users(ctx, std::slice::from_ref(&urn)).await?);
                if hit.is_empty() {
                    let f = FacetFilter::iequal("ldap", &username);
                    let urns = self.search_filtered(ctx, EntityKind::CorpUser, f).await?;
                    matching(self.hydrate_users(ctx, &urns).await?)
                } else {
                    hit
                }
            }
            Candidates::Scan => {
                let urns = self.scan(ctx, Kind::User).await?;
                matching(self.hydrate_users(ctx, &urns).await?)
            }
        };
        q.sort(&mut found, ResourceKind::User);
        let total = found.len();
        let out = found
            .into_iter()
            .skip(start - 1)
            .take(count)
            .map(|v| project(v, q, ResourceKind::User))
            .collect();
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
        let mut page: Vec<(GroupRecord, Option<BTreeSet<String>>)> = Vec::new();
        let total = if q.filter.is_none() && q.sort_by.is_none() {
            // The fast path (Okta's group import): urn order from the index, and only
            // the requested page is read.
            let slice: Vec<Urn> = urns.iter().skip(start - 1).take(count).cloned().collect();
            let recs = self.hydrate_groups(ctx, &slice).await?;
            page.extend(
                recs.into_iter()
                    .filter(GroupRecord::live)
                    .map(|r| (r, None)),
            );
            urns.len()
        } else {
            let needs_members = q
                .filter
                .as_ref()
                .is_some_and(|f| f.to_string().to_ascii_lowercase().contains("members"));
            let recs: Vec<GroupRecord> = self
                .hydrate_groups(ctx, &urns)
                .await?
                .into_iter()
                .filter(GroupRecord::live)
                .collect();
            let members: Vec<Option<BTreeSet<String>>> = if needs_members {
                self.members_of_many(ctx, &recs)
                    .await?
                    .into_iter()
                    .map(Some)
                    .collect()
            } else {
                vec![None; recs.len()]
            };
            // Render, keep what matches, sort (stable: urn order breaks ties), slice.
            let mut found: Vec<(Value, GroupRecord, Option<BTreeSet<String>>)> = recs
                .into_iter()
                .zip(members)
                .map(|(rec, m)| (self.render_group(ctx, &rec, m.clone()), rec, m))
                .filter(|(v, _, _)| {
                    q.filter
                        .as_ref()
                        .is_none_or(|f| f.matches(v, ResourceKind::Group))
                })
                .collect();
            if let Some(by) = &q.sort_by {
                found.sort_by(|a, b| {
                    let o = scim::list::compare(&a.0, &b.0, by, ResourceKind::Group);
                    if q.sort_order == scim::SortOrder::Descending {
                        o.reverse()
                    } else {
                        o
                    }
                });
            }
            let n = found.len();
            page.extend(
                found
                    .into_iter()
                    .skip(start - 1)
                    .take(count)
                    .map(|(_, r, m)| (r, m)),
            );
            n
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
