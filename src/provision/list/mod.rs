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

mod cursor;
mod index_filter;
mod lookup;
mod paging;
mod search;

use serde_json::Value;

use crate::datahub::{EntityKind, FacetFilter, Urn};
use crate::provision::membership::Members;
use crate::provision::record::{GroupRecord, UserRecord};
use crate::provision::{naming, Ctx, Provisioner, UsernameSource};
use crate::scim::filter::Filter;
use crate::scim::list::{cursor_list_response, list_response, Projection};
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

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::provision) enum At {
    /// A 0-based offset: index paging, and cursors off the scroll path.
    Offset(u64),
    /// A cursor position: the offset, and DataHub's `scrollId` there when the
    /// previous page came from the scroll path (`None` at the start).
    Scroll(u64, Option<String>),
}

impl At {
    fn offset(&self) -> u64 {
        match self {
            At::Offset(o) | At::Scroll(o, _) => *o,
        }
    }
}

/// A page of a list, projected, and where the next one starts.
#[derive(Debug, Default)]
pub(in crate::provision) struct ListPage {
    /// Matches in the whole list.
    pub total: usize,
    /// The page's resources.
    pub items: Vec<Value>,
    /// Where the next page starts (`None`: this is the last page): its offset, and
    /// DataHub's `scrollId` there when the page came from the scroll path.
    pub next: Option<(u64, Option<String>)>,
}

impl ListPage {
    /// A page sliced from a complete, ordered result set.
    fn sliced(all: Vec<Value>, at: &At, count: usize, q: &ListQuery, kind: ResourceKind) -> Self {
        let total = all.len();
        let start = usize::try_from(at.offset()).unwrap_or(usize::MAX);
        let end = start.saturating_add(count);
        let items = all
            .into_iter()
            .skip(start)
            .take(count)
            .map(|v| project(v, q, kind))
            .collect();
        ListPage {
            total,
            items,
            next: (end < total).then_some((end as u64, None)),
        }
    }

    /// A page from the scroll path: `window` holds offsets `at .. at + count`.
    fn scrolled(items: Vec<Value>, at: &At, count: usize, window: paging::Window) -> Self {
        let end = at.offset() + count as u64;
        // DataHub hands out a next position after any full page; an exact total
        // tells a last page apart (without it, one more, empty, page follows).
        let more = window.next.is_some() && (!window.exact || end < window.total);
        ListPage {
            total: usize::try_from(window.total).unwrap_or(usize::MAX),
            items,
            next: if more { Some((end, window.next)) } else { None },
        }
    }
}

impl Provisioner {
    /// `GET /Users` (and `POST /Users/.search`).
    pub async fn list_users(&self, ctx: &Ctx, q: &ListQuery) -> Result<Value, scim::Error> {
        self.list(ctx, q, cursor::Walk::Users).await
    }

    /// `GET /Groups` (and `POST /Groups/.search`).
    pub async fn list_groups(&self, ctx: &Ctx, q: &ListQuery) -> Result<Value, scim::Error> {
        self.list(ctx, q, cursor::Walk::Groups).await
    }

    /// A list by index (`startIndex`/`count`) or by cursor (RFC 9865).
    pub(in crate::provision) async fn list(
        &self,
        ctx: &Ctx,
        q: &ListQuery,
        walk: cursor::Walk,
    ) -> Result<Value, scim::Error> {
        let (start, count) = self.page_of(q);
        let at = match &q.cursor {
            None => At::Offset(start as u64 - 1),
            Some(text) => match cursor::Cursor::decode(text, walk, q)? {
                None => At::Scroll(0, None),
                Some(c) => At::Scroll(c.p, c.s),
            },
        };
        let page = match walk {
            cursor::Walk::Users => self.users_page(ctx, q, &at, count).await?,
            cursor::Walk::Groups => self.groups_page(ctx, q, &at, count).await?,
            cursor::Walk::Root => self.search_page(ctx, q, &at, count).await?,
        };
        Ok(match q.cursor {
            None => list_response(page.total, start, page.items),
            Some(_) => {
                let next = page
                    .next
                    .map(|(p, s)| cursor::Cursor::new(walk, q, p, s).encode());
                cursor_list_response(page.total, page.items, next)
            }
        })
    }

    /// A page of users at `at`, `count` long, projected.
    pub(in crate::provision) async fn users_page(
        &self,
        ctx: &Ctx,
        q: &ListQuery,
        at: &At,
        count: usize,
    ) -> Result<ListPage, scim::Error> {
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
                    // One page: one scroll, one batch read, at any depth.
                    let window = self
                        .window(ctx, EntityKind::CorpUser, pre.groups, at, count)
                        .await?;
                    let recs = self.hydrate_users(ctx, &window.urns).await?;
                    let items = matching(recs)
                        .into_iter()
                        .map(|v| project(v, q, ResourceKind::User))
                        .collect();
                    return Ok(ListPage::scrolled(items, at, count, window));
                }
                let urns = self
                    .scan_index(ctx, EntityKind::CorpUser, pre.groups)
                    .await?;
                matching(self.hydrate_users(ctx, &urns).await?)
            }
        };
        q.sort(&mut found, ResourceKind::User);
        Ok(ListPage::sliced(found, at, count, q, ResourceKind::User))
    }

    /// The scroll-path page at `at`: from the cursor's `scrollId`, or from an offset.
    async fn window(
        &self,
        ctx: &Ctx,
        kind: EntityKind,
        or_filters: Vec<Vec<FacetFilter>>,
        at: &At,
        count: usize,
    ) -> Result<paging::Window, scim::Error> {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        match at {
            At::Scroll(p, Some(id)) => {
                self.scroll_window(ctx, kind, or_filters, *p, Some(id.clone()), count)
                    .await
            }
            At::Scroll(p, None) | At::Offset(p) => {
                self.index_window(ctx, kind, or_filters, *p, count).await
            }
        }
    }

    /// A page of groups at `at`, `count` long, projected.
    pub(in crate::provision) async fn groups_page(
        &self,
        ctx: &Ctx,
        q: &ListQuery,
        at: &At,
        count: usize,
    ) -> Result<ListPage, scim::Error> {
        if let Some(f) = &q.filter {
            f.validate(ResourceKind::Group)?;
        }
        let keyed = match &q.filter {
            Some(f) => self.group_candidates(ctx, f).await?,
            None => Candidates::Index,
        };
        let fast = q.filter.is_none() && q.sort_by.is_none();
        let with_members = !skips_members(q);
        let mut page: Vec<(GroupRecord, Option<Members>)> = Vec::new();
        let (total, next) = if fast {
            let window = self
                .window(ctx, EntityKind::CorpGroup, Vec::new(), at, count)
                .await?;
            let recs = self.hydrate_groups(ctx, &window.urns).await?;
            page.extend(
                recs.into_iter()
                    .filter(GroupRecord::live)
                    .map(|r| (r, None)),
            );
            let shape = ListPage::scrolled(Vec::new(), at, count, window);
            (shape.total, shape.next)
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
            let members: Vec<Option<Members>> = if needs_members {
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
            let mut found: Vec<(Value, GroupRecord, Option<Members>)> = recs
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
            let start = usize::try_from(at.offset()).unwrap_or(usize::MAX);
            page.extend(
                found
                    .into_iter()
                    .skip(start)
                    .take(count)
                    .map(|(_, r, m)| (r, m)),
            );
            let end = start.saturating_add(count);
            (n, (end < n).then_some((end as u64, None)))
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
        let items = page
            .into_iter()
            .map(|(rec, m)| {
                let m = if with_members { m } else { None };
                project(self.render_group(ctx, &rec, m), q, ResourceKind::Group)
            })
            .collect();
        Ok(ListPage { total, items, next })
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
                // The id names its origin urn, or (renamed) the user it forwards to.
                return Ok(Candidates::Read(
                    match self.resolve_user(ctx, value).await {
                        Ok(rec) => vec![rec],
                        Err(e) if e.status == 404 => Vec::new(),
                        Err(e) => return Err(e),
                    },
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
                return Ok(Candidates::Read(
                    self.groups_by_external_id(ctx, value).await?,
                ));
            }
        }
        Ok(Candidates::Index)
    }
}
