//! Index pages of any depth, at a constant cost per page.
//!
//! DataHub's `searchAcrossEntities` cannot page past Elasticsearch's 10,000-hit
//! window (`start + count > 10000` fails up to 1.6, answers empty from 1.7), its
//! `total` stops at 10,000, and GMS fetches a page at `start` in batches of 100 from
//! offset 0, so deep pages get slower. Every list page here is a
//! `scrollAcrossEntities` call instead (`search_after` in urn order), with the exact
//! number of matches from its `_entityType` facet.
//!
//! A scroll continues from a `scrollId`, not an offset, so:
//! - cursor paging (RFC 9865) carries the `scrollId` in the cursor: one scroll per
//!   page on any replica;
//! - index paging (`startIndex`/`count`, what Okta and Entra send) finds the
//!   `scrollId` where the asked offset starts in the ID-mapping cache: each page
//!   served remembers where the next one starts, so an IdP walking the list costs
//!   one scroll per page. A replica that has not seen the previous page starts from
//!   the nearest offset it knows (a few pages back, else a multiple of 10,000, else
//!   the start) and scrolls forward 10,000 urns per call: ⌈gap / 10,000⌉ extra calls,
//!   never a wrong page.

use std::sync::Arc;

use crate::datahub::{EntityKind, FacetFilter, ScrollPage, ScrollRequest, Urn, SCROLL_MAX};
use crate::provision::errors::from_datahub;
use crate::provision::{Ctx, Provisioner};
use crate::scim;

/// How many page sizes back a missed offset looks for a known one: an IdP whose
/// pages land on several replicas in turn finds a page this replica served.
const LOOK_BACK_PAGES: u64 = 8;

/// How many multiples of [`HOP`] below a missed offset are looked up (1,000,000
/// positions): past that a walk starts from the beginning, whose first scroll's exact
/// count also ends a request for an offset beyond the list.
const LANDMARKS: u64 = 100;

/// One page of the index.
#[derive(Debug, Clone, Default)]
pub(in crate::provision) struct Window {
    /// The urns of the page, in urn order.
    pub urns: Vec<Urn>,
    /// Matches in the whole list: exact when DataHub returned the `_entityType`
    /// facet, else its (10,000-capped) total.
    pub total: u64,
    /// Whether `total` is exact (the facet came back).
    pub exact: bool,
    /// DataHub's `scrollId` where the page after this one starts; `None` at the end.
    pub next: Option<String>,
}

/// One list of the index: an entity type under an index filter, and its cache key.
struct List {
    kind: EntityKind,
    or_filters: Vec<Vec<FacetFilter>>,
    key: Arc<str>,
}

impl List {
    fn new(kind: EntityKind, or_filters: Vec<Vec<FacetFilter>>) -> List {
        let or_filters: Vec<Vec<FacetFilter>> =
            or_filters.into_iter().filter(|g| !g.is_empty()).collect();
        let key = Arc::from(format!("{kind:?}{or_filters:?}"));
        List {
            kind,
            or_filters,
            key,
        }
    }
}

/// The biggest scroll page, as an offset.
const HOP: u64 = SCROLL_MAX as u64;

impl Provisioner {
    /// One scroll call from offset `pos` (`scroll_id` starts there), remembering where
    /// the page after it starts.
    async fn scroll_at(
        &self,
        ctx: &Ctx,
        list: &List,
        pos: u64,
        scroll_id: Option<String>,
        count: u32,
    ) -> Result<ScrollPage, scim::Error> {
        let req = ScrollRequest {
            types: vec![list.kind],
            or_filters: list.or_filters.clone(),
            scroll_id,
            count: count.min(SCROLL_MAX),
        };
        let page = self
            .client
            .scroll(&ctx.token, &req)
            .await
            .map_err(from_datahub)?;
        // DataHub returns a next position only after a full page of raw hits.
        if let (Some(next), true) = (&page.next_scroll_id, req.count > 0) {
            self.cache
                .set_anchor(&list.key, pos + u64::from(req.count), next)
                .await;
        }
        Ok(page)
    }

    /// Offsets `start .. start + count` of the index for `kind` under `or_filters`
    /// (0-based, urn order), for index paging.
    pub(in crate::provision) async fn index_window(
        &self,
        ctx: &Ctx,
        kind: EntityKind,
        or_filters: Vec<Vec<FacetFilter>>,
        start: u64,
        count: u32,
    ) -> Result<Window, scim::Error> {
        let list = List::new(kind, or_filters);
        let (mut pos, mut id) = self.nearest_anchor(&list.key, start, count).await;
        // Hop forward until the page is within one scroll of where we are.
        while start - pos + u64::from(count) > HOP {
            let hop = (start - pos).min(HOP);
            let page = self
                .scroll_at(ctx, &list, pos, id.clone(), hop as u32)
                .await?;
            let total = page.matches();
            let exact = page.exact_total.is_some();
            let ends_before = |next: &Option<String>| {
                next.is_none() || page.exact_total.is_some_and(|t| start >= t)
            };
            if ends_before(&page.next_scroll_id) {
                // The list ends before `start`.
                return Ok(Window {
                    urns: Vec::new(),
                    total,
                    exact,
                    next: None,
                });
            }
            pos += hop;
            id = page.next_scroll_id;
        }
        let skip = start - pos;
        let page = self
            .scroll_at(ctx, &list, pos, id, (skip + u64::from(count)) as u32)
            .await?;
        Ok(Window {
            total: page.matches(),
            exact: page.exact_total.is_some(),
            urns: page.urns.into_iter().skip(skip as usize).collect(),
            next: page.next_scroll_id,
        })
    }

    /// One page from DataHub's scroll position `scroll_id` (offset `pos`), for cursor
    /// paging: one call whatever the depth.
    pub(in crate::provision) async fn scroll_window(
        &self,
        ctx: &Ctx,
        kind: EntityKind,
        or_filters: Vec<Vec<FacetFilter>>,
        pos: u64,
        scroll_id: Option<String>,
        count: u32,
    ) -> Result<Window, scim::Error> {
        let list = List::new(kind, or_filters);
        let page = self.scroll_at(ctx, &list, pos, scroll_id, count).await?;
        Ok(Window {
            total: page.matches(),
            exact: page.exact_total.is_some(),
            urns: page.urns,
            next: page.next_scroll_id,
        })
    }

    /// The known offset nearest below `start` (and its `scrollId`): `start` itself,
    /// a few pages back, a multiple of [`HOP`], or the beginning.
    async fn nearest_anchor(
        &self,
        key: &Arc<str>,
        start: u64,
        count: u32,
    ) -> (u64, Option<String>) {
        if start == 0 {
            return (0, None);
        }
        let known = |p: u64| async move { self.cache.anchor(key, p).await.map(|s| s.to_string()) };
        if let Some(id) = known(start).await {
            return (start, Some(id));
        }
        let step = u64::from(count);
        if step > 0 {
            for k in 1..=LOOK_BACK_PAGES {
                let Some(p) = start.checked_sub(k * step).filter(|p| *p > 0) else {
                    break;
                };
                if let Some(id) = known(p).await {
                    return (p, Some(id));
                }
            }
        }
        // Multiples of HOP below `start` (the hops of a walk from the start land there),
        // nearest first; a bounded number, since `start` may lie far past the list.
        let mut landmark = start / HOP * HOP;
        for _ in 0..LANDMARKS {
            if landmark == 0 {
                break;
            }
            if let Some(id) = known(landmark).await {
                return (landmark, Some(id));
            }
            landmark -= HOP;
        }
        (0, None)
    }

    /// Every urn of the index for `kind` under `or_filters`, in urn order, scrolled
    /// [`SCROLL_MAX`] at a time: at most `max_filter_scan` of them, else `400 tooMany`
    /// (RFC 7644 §3.12), decided on the first page's exact count before anything is
    /// hydrated.
    pub(in crate::provision) async fn scan_index(
        &self,
        ctx: &Ctx,
        kind: EntityKind,
        or_filters: Vec<Vec<FacetFilter>>,
    ) -> Result<Vec<Urn>, scim::Error> {
        let bound = self.cfg.max_filter_scan as u64;
        let too_many = || {
            scim::Error::too_many(format!(
                "answering this needs more than {bound} candidates checked one by one; \
                 narrow the filter (userName, externalId, emails.value, active or title \
                 with eq) or drop sortBy"
            ))
        };
        let list = List::new(kind, or_filters);
        let mut urns: Vec<Urn> = Vec::new();
        let mut id: Option<String> = None;
        loop {
            let want = (bound + 1 - urns.len() as u64).min(HOP) as u32;
            let pos = urns.len() as u64;
            let page = self.scroll_at(ctx, &list, pos, id.take(), want).await?;
            if page.exact_total.is_some_and(|t| t > bound) {
                return Err(too_many());
            }
            urns.extend(page.urns);
            if urns.len() as u64 > bound {
                return Err(too_many());
            }
            match page.next_scroll_id {
                Some(next) => id = Some(next),
                None => break,
            }
        }
        urns.dedup();
        Ok(urns)
    }
}
