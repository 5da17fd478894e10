//! `GET /Users`, `GET /Groups`: key lookups, index pages, bounded scans.
//!
//! Key lookups (never the index alone, so they read our own writes):
//! `id eq` decodes the id; `userName eq` derives the urn with the naming rule
//! (and compares case-insensitively with the stored `scim.userName`); group
//! `displayName eq` derives the urn (plus the rename cache, plus a search for
//! groups renamed elsewhere); user `externalId eq` goes through the ID-mapping
//! cache, then a search. Every candidate is hydrated from the primary store and
//! checked with `Filter::matches` before it is returned.
//!
//! Everything else is answered from the search index (eventually consistent: a
//! user created a moment ago by another replica may be missing from a list page
//! until DataHub has indexed it; our own writes are sync-indexed):
//! - users: the index selects SCIM-managed users by their marker
//!   (`customProperties EQUAL "scim.managed=true"`), ANDed with what of the filter
//!   maps onto index fields (`index_filter`). When that is the whole filter and
//!   there is no `sortBy`, a page is ONE `searchAcrossEntities` (`start =
//!   startIndex-1`, `count`, urn order, `totalResults` = the index total) plus ONE
//!   batch read of that page; each hit is still re-checked.
//! - groups without filter or `sortBy`: the same, one search + one batch read.
//! - otherwise (a filter the index cannot answer, `sortBy`, any group filter that
//!   is not a key lookup): the (narrowed) candidates are read from the index, at
//!   most `max_filter_scan` of them (else `400 tooMany`), hydrated, checked,
//!   sorted and sliced in memory; totals are exact.
//!
//! Group members for a page come from ONE aliased relationships request
//! (`current_members_many`). `startIndex`/`count` follow RFC 7644 §3.4.2.4;
//! `count` is capped at `max_page_size`.

mod index_filter;
mod lookup;
mod search;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::datahub::{EntityKind, FacetFilter, Urn};
use crate::provision::record::{GroupRecord, UserRecord};
use crate::provision::{naming, Ctx, Provisioner, UsernameSource};
use crate::scim::filter::Filter;
use crate::scim::list::{list_response, Projection};
use crate::scim::{self, ListQuery, ResourceKind};
use index_filter::IndexFilter;

/// Applies `attributes` / `excludedAttributes`.
pub(in crate::provision) fn project(mut v: Value, q: &ListQuery, kind: ResourceKind) -> Value {
    scim::list::project(&mut v, &q.attributes, &q.excluded_attributes, kind);
    v
}

/// True when the response will not carry `members`, so they need not be loaded.
pub(in crate::provision) fn skips_members(q: &ListQuery) -> bool {
    Projection {
        attributes: q.attributes.clone(),
        excluded_attributes: q.excluded_attributes.clone(),
    }
    .excludes("members", ResourceKind::Group)
}

/// What a filter lets us look up by key; `R` is the record type read.
enum Candidates<R> {
    /// These urns, and only these, can match.
    Some(Vec<Urn>),
    /// These records (already read from the primary store), and only these, can match.
    Read(Vec<R>),
    /// `userName eq`: this urn by key; when it does not match, the index is asked
    /// case-insensitively for this username and for the folded `userName` given
    /// (userName is not case-exact, DataHub urns are).
    Key(Urn, String, String),
    /// No key: the search index.
    Index,
}

impl Provisioner {
    /// `GET /Users` (and `POST /Users/.search`).
    pub async fn list_users(&self, ctx: &Ctx, q: &ListQuery) -> Result<Value, scim::Error> {
        let (total, page) = self.users_page(ctx, q).await?;
        Ok(list_response(total, q.start_index, page))
    }

    /// `GET /Groups` (and `POST /Groups/.search`).
    pub async fn list_groups(&self, ctx: &Ctx, q: &ListQuery) -> Result<Value, scim::Error> {
        let (total, page) = self.groups_page(ctx, q).await?;
        Ok(list_response(total, q.start_index, page))
    }

    /// The total and the requested page of a user list, projected.
    pub(in crate::provision) async fn users_page(
        &self,
        ctx: &Ctx,
        q: &ListQuery,
    ) -> Result<(usize, Vec<Value>), scim::Error> {
        let (start, count) = self.page_of(q);
        if let Some(f) = &q.filter {
            f.validate(ResourceKind::User)?;
        }
        let cands = match &q.filter {
            Some(f) => self.user_candidates(ctx, f).await?,
            None => Candidates::Index,
        };
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
            Candidates::Read(recs) => matching(recs),
            Candidates::Key(urn, username, value) => {
                let hit = matching(self.hydrate_users(ctx, std::slice::from_ref(&urn)).await?);
                if hit.is_empty() {
                    let folded = format!(
                        "{}={}",
                        crate::provision::users::map::KEY_USER_NAME_FOLDED,
                        naming::fold_case(&value)
                    );
                    let or_filters = vec![
                        vec![FacetFilter::iequal("ldap", &username)],
                        vec![FacetFilter::equal("customProperties", &folded)],
                    ];
                    let urns = self
                        .search_any(ctx, EntityKind::CorpUser, or_filters)
                        .await?;
                    matching(self.hydrate_users(ctx, &urns).await?)
                } else {
                    hit
                }
            }
            Candidates::Index => {
                let pre = IndexFilter::users(q.filter.as_ref());
                if pre.exact && q.sort_by.is_none() {
                    // One page: one search, one batch read.
                    let page = self
                        .index_page(
                            ctx,
                            EntityKind::CorpUser,
                            pre.groups,
                            off(start),
                            cnt(count),
                        )
                        .await?;
                    let recs = self.hydrate_users(ctx, &page.urns).await?;
                    let out = matching(recs)
                        .into_iter()
                        .map(|v| project(v, q, ResourceKind::User))
                        .collect();
                    return Ok((page.total as usize, out));
                }
                let urns = self
                    .scan_index(ctx, EntityKind::CorpUser, pre.groups)
                    .await?;
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
        Ok((total, out))
    }

    /// The total and the requested page of a group list, projected.
    pub(in crate::provision) async fn groups_page(
        &self,
        ctx: &Ctx,
        q: &ListQuery,
    ) -> Result<(usize, Vec<Value>), scim::Error> {
        let (start, count) = self.page_of(q);
        if let Some(f) = &q.filter {
            f.validate(ResourceKind::Group)?;
        }
        let keyed = match &q.filter {
            Some(f) => self.group_candidates(ctx, f).await?,
            None => Candidates::Index,
        };
        let fast = q.filter.is_none() && q.sort_by.is_none();
        let with_members = !skips_members(q);
        let mut page: Vec<(GroupRecord, Option<BTreeSet<String>>)> = Vec::new();
        let total = if fast {
            let p = self
                .index_page(
                    ctx,
                    EntityKind::CorpGroup,
                    Vec::new(),
                    off(start),
                    cnt(count),
                )
                .await?;
            let recs = self.hydrate_groups(ctx, &p.urns).await?;
            page.extend(
                recs.into_iter()
                    .filter(GroupRecord::live)
                    .map(|r| (r, None)),
            );
            p.total as usize
        } else {
            let needs_members = q
                .filter
                .as_ref()
                .is_some_and(|f| f.to_string().to_ascii_lowercase().contains("members"));
            let recs = match keyed {
                Candidates::Read(recs) => recs,
                Candidates::Some(u) => self.hydrate_groups(ctx, &u).await?,
                Candidates::Key(u, _, _) => self.hydrate_groups(ctx, &[u]).await?,
                Candidates::Index => {
                    let urns = self
                        .scan_index(ctx, EntityKind::CorpGroup, Vec::new())
                        .await?;
                    self.hydrate_groups(ctx, &urns).await?
                }
            };
            let recs: Vec<GroupRecord> = recs.into_iter().filter(GroupRecord::live).collect();
            let members: Vec<Option<BTreeSet<String>>> = if needs_members {
                let urns: Vec<Urn> = recs.iter().map(|r| r.urn.clone()).collect();
                self.current_members_many(ctx, &urns)
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
            let missing: Vec<Urn> = page
                .iter()
                .filter(|(_, m)| m.is_none())
                .map(|(r, _)| r.urn.clone())
                .collect();
            let mut loaded = self.current_members_many(ctx, &missing).await?.into_iter();
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
        Ok((total, out))
    }

    /// 1-based start and the page size (default and cap: `max_page_size`).
    pub(in crate::provision) fn page_of(&self, q: &ListQuery) -> (usize, usize) {
        let max = self.cfg.max_page_size.max(1);
        (q.start_index.max(1), q.count.unwrap_or(max).min(max))
    }

    async fn user_candidates(
        &self,
        ctx: &Ctx,
        f: &Filter,
    ) -> Result<Candidates<UserRecord>, scim::Error> {
        let Some(terms) = f.eq_conjunction() else {
            return Ok(Candidates::Index);
        };
        let kind = ResourceKind::User;
        for (path, value) in &terms {
            if path.is(kind, "id") {
                return Ok(Candidates::Some(
                    crate::provision::users::user_urn(value)
                        .into_iter()
                        .collect(),
                ));
            }
            if path.is(kind, "userName") && self.cfg.username_source == UsernameSource::UserName {
                return Ok(match naming::derive_username(&self.cfg, value) {
                    Some(u) => Candidates::Key(Urn::corp_user(&u), u, value.to_string()),
                    None => Candidates::Some(Vec::new()),
                });
            }
            let is_email = path.is(kind, "emails.value") || path.is(kind, "emails");
            if is_email && self.cfg.username_source == UsernameSource::PrimaryEmail {
                return Ok(match naming::derive_username(&self.cfg, value) {
                    Some(u) => Candidates::Key(Urn::corp_user(&u), u, value.to_string()),
                    None => Candidates::Some(Vec::new()),
                });
            }
            if path.is(kind, "externalId") {
                return Ok(Candidates::Read(self.by_external_id(ctx, value).await?));
            }
        }
        Ok(Candidates::Index)
    }

    async fn group_candidates(
        &self,
        ctx: &Ctx,
        f: &Filter,
    ) -> Result<Candidates<GroupRecord>, scim::Error> {
        let Some(terms) = f.eq_conjunction() else {
            return Ok(Candidates::Index);
        };
        let kind = ResourceKind::Group;
        for (path, value) in &terms {
            if path.is(kind, "id") {
                return Ok(Candidates::Some(
                    crate::provision::groups::group_urn(value)
                        .into_iter()
                        .collect(),
                ));
            }
            if path.is(kind, "displayName") {
                return Ok(Candidates::Read(self.by_display_name(ctx, value).await?));
            }
            if path.is(kind, "externalId") {
                // Never stored for groups (DataHub has no field): nothing can match.
                return Ok(Candidates::Some(Vec::new()));
            }
        }
        Ok(Candidates::Index)
    }
}

/// 0-based index offset of a 1-based `startIndex`.
fn off(start: usize) -> u32 {
    u32::try_from(start.saturating_sub(1)).unwrap_or(u32::MAX)
}

/// A page size as the index takes it.
fn cnt(count: usize) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}
