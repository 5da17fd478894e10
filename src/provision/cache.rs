//! The ID-mapping cache: a small typed wrapper around moka.
//!
//! It only saves round trips. Every urn it yields is re-read from DataHub's
//! primary store before it shapes an answer, so a missing or stale entry never
//! changes a response. Three maps:
//!
//! - `externalId` → user/group urn (a search otherwise),
//! - lower-cased group `displayName` → group urn, for groups renamed after
//!   creation (whose urn no longer follows from the name),
//! - recent membership writes per group: what this replica wrote in the last
//!   `cache_ttl`, overlaid on the (lagging) relationship index so a GET right after
//!   a PATCH shows the write. Another replica converges within the index lag.
//! - list positions: (list query, offset) → DataHub's `scrollId` where that offset
//!   starts, so an IdP walking `startIndex`/`count` pages gets each page from one
//!   scroll call however deep it is (see `list/paging.rs`). A miss costs scroll hops
//!   from the nearest known position, never a wrong page.
//!
//! Loads go through `try_get_with`, so concurrent misses for one key share one
//! upstream call; writes invalidate what they touch; hits and misses are counted.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use moka::future::Cache;

use crate::scim;

/// Cache counters for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Entries currently held (approximate, as moka reports it).
    pub entries: u64,
    /// Lookups answered from the cache.
    pub hits: u64,
    /// Lookups that had to ask DataHub.
    pub misses: u64,
}

/// Which resource type a mapping is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `/Users`.
    User,
    /// `/Groups` (a group's `externalId` is in `origin.externalType`).
    Group,
}

/// Why a load did not produce a value: nothing there (not cached), or a failure.
#[derive(Debug)]
enum Miss {
    Absent,
    Failed(scim::Error),
}

/// Membership writes of this replica to one group: user urn → (added?, when).
type Recent = Mutex<HashMap<String, (bool, Instant)>>;

/// The ID-mapping cache. Cheap to clone (shared maps).
#[derive(Clone)]
pub struct IdCache {
    /// `(kind, externalId)` → urn.
    external: Cache<(Kind, String), String>,
    /// lower-cased displayName → group urn, for renamed groups.
    group_names: Cache<String, String>,
    /// group urn → this replica's recent membership writes.
    recent: Cache<String, Arc<Recent>>,
    /// (list query key, offset) → DataHub `scrollId` starting at that offset.
    anchors: Cache<(Arc<str>, u64), Arc<str>>,
    /// How long a recent membership write overlays the relationship index.
    overlay_ttl: Duration,
    /// Lookups answered from the cache.
    hits: Arc<AtomicU64>,
    /// Lookups that loaded from DataHub.
    misses: Arc<AtomicU64>,
}

impl IdCache {
    /// A cache of `capacity` entries per map, each living `ttl`.
    pub fn new(capacity: u64, ttl: Duration) -> Self {
        IdCache {
            external: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            group_names: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            recent: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            anchors: Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            overlay_ttl: ttl,
            hits: Arc::default(),
            misses: Arc::default(),
        }
    }

    /// Counters for `/metrics`.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            entries: self.external.entry_count()
                + self.group_names.entry_count()
                + self.recent.entry_count()
                + self.anchors.entry_count(),
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Lets moka finish its pending housekeeping (admissions, evictions), so entry
    /// counts and memory reflect every insert so far (benchmarks, tests).
    pub async fn run_pending_tasks(&self) {
        self.external.run_pending_tasks().await;
        self.group_names.run_pending_tasks().await;
        self.recent.run_pending_tasks().await;
        self.anchors.run_pending_tasks().await;
    }

    /// DataHub's `scrollId` where offset `pos` of the list `list` starts, if this
    /// replica has seen it.
    pub async fn anchor(&self, list: &Arc<str>, pos: u64) -> Option<Arc<str>> {
        let hit = self.anchors.get(&(list.clone(), pos)).await;
        let counter = if hit.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        hit
    }

    /// Remembers where offset `pos` of `list` starts.
    pub async fn set_anchor(&self, list: &Arc<str>, pos: u64, scroll_id: &str) {
        self.anchors
            .insert((list.clone(), pos), Arc::from(scroll_id))
            .await;
    }

    /// The urn for an `externalId`, loading it with `load` on a miss. `Ok(None)`
    /// (not cached) when DataHub has none.
    pub async fn external_id<F, Fut>(
        &self,
        kind: Kind,
        external_id: &str,
        load: F,
    ) -> Result<Option<String>, scim::Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<String>, scim::Error>>,
    {
        self.load(&self.external, (kind, external_id.to_owned()), load)
            .await
    }

    /// Remembers `externalId` → urn after a write.
    pub async fn remember_external_id(&self, kind: Kind, external_id: &str, urn: &str) {
        self.external
            .insert((kind, external_id.to_owned()), urn.to_owned())
            .await;
    }

    /// Forgets an `externalId` mapping (it changed, or proved stale).
    pub async fn forget_external_id(&self, kind: Kind, external_id: &str) {
        self.external
            .invalidate(&(kind, external_id.to_owned()))
            .await;
    }

    /// The group urn for a displayName whose urn no longer follows from it.
    pub async fn group_name<F, Fut>(
        &self,
        display_name: &str,
        load: F,
    ) -> Result<Option<String>, scim::Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<String>, scim::Error>>,
    {
        self.load(&self.group_names, display_name.to_lowercase(), load)
            .await
    }

    /// Remembers displayName → group urn (after a create or rename).
    pub async fn remember_group_name(&self, display_name: &str, urn: &str) {
        self.group_names
            .insert(display_name.to_lowercase(), urn.to_owned())
            .await;
    }

    /// Forgets a displayName mapping.
    pub async fn forget_group_name(&self, display_name: &str) {
        self.group_names
            .invalidate(&display_name.to_lowercase())
            .await;
    }

    /// Records membership writes this replica just made to `group`.
    pub async fn record_members(&self, group: &str, added: &[String], removed: &[String]) {
        if added.is_empty() && removed.is_empty() {
            return;
        }
        let entry = self
            .recent
            .get_with(group.to_owned(), async { Arc::new(Recent::default()) })
            .await;
        let now = Instant::now();
        let mut map = entry.lock().unwrap_or_else(|p| p.into_inner());
        for u in added {
            map.insert(u.clone(), (true, now));
        }
        for u in removed {
            map.insert(u.clone(), (false, now));
        }
    }

    /// This replica's recent writes to `group` (user urn → added?), still within
    /// the overlay window.
    pub async fn recent_members(&self, group: &str) -> Vec<(String, bool)> {
        let Some(entry) = self.recent.get(group).await else {
            return Vec::new();
        };
        let map = entry.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<(String, bool)> = map
            .iter()
            .filter(|(_, (_, at))| at.elapsed() <= self.overlay_ttl)
            .map(|(u, (a, _))| (u.clone(), *a))
            .collect();
        out.sort();
        out
    }

    /// Drops every overlay for `group` (it was deleted: a later push starts clean).
    pub async fn forget_group(&self, group: &str) {
        self.recent.invalidate(group).await;
    }

    async fn load<K, F, Fut>(
        &self,
        cache: &Cache<K, String>,
        key: K,
        load: F,
    ) -> Result<Option<String>, scim::Error>
    where
        K: std::hash::Hash + Eq + Send + Sync + Clone + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<String>, scim::Error>>,
    {
        let ran = AtomicBool::new(false);
        let result = cache
            .try_get_with(key, async {
                ran.store(true, Ordering::Relaxed);
                match load().await {
                    Ok(Some(v)) => Ok(v),
                    Ok(None) => Err(Miss::Absent),
                    Err(e) => Err(Miss::Failed(e)),
                }
            })
            .await;
        let counter = if ran.load(Ordering::Relaxed) {
            &self.misses
        } else {
            &self.hits
        };
        counter.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(v) => Ok(Some(v)),
            Err(miss) => match &*miss {
                Miss::Absent => Ok(None),
                Miss::Failed(e) => Err(e.clone()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loads_once_then_hits_and_absent_is_not_cached() {
        let c = IdCache::new(100, Duration::from_secs(60));
        let got = c
            .external_id(Kind::User, "00u1", || async {
                Ok(Some("urn:li:corpuser:a".to_owned()))
            })
            .await;
        assert_eq!(got.expect("ok").as_deref(), Some("urn:li:corpuser:a"));
        let got = c
            .external_id(Kind::User, "00u1", || async { panic!("must be a hit") })
            .await;
        assert_eq!(got.expect("ok").as_deref(), Some("urn:li:corpuser:a"));
        // Same externalId, other kind: a different key.
        let got = c
            .external_id(Kind::Group, "00u1", || async { Ok(None) })
            .await;
        assert_eq!(got.expect("ok"), None);
        let got = c
            .external_id(Kind::Group, "00u1", || async {
                Ok(Some("urn:li:corpGroup:g".to_owned()))
            })
            .await;
        assert_eq!(
            got.expect("ok").as_deref(),
            Some("urn:li:corpGroup:g"),
            "absent was not cached"
        );
        let s = c.stats();
        assert_eq!((s.hits, s.misses), (1, 3));
        // Errors pass through and are not cached.
        let e = c
            .external_id(Kind::User, "x", || async {
                Err(scim::Error::upstream(503, "down"))
            })
            .await;
        assert_eq!(e.expect_err("fails").status, 503);
        c.forget_external_id(Kind::User, "00u1").await;
        let got = c
            .external_id(Kind::User, "00u1", || async { Ok(None) })
            .await;
        assert_eq!(got.expect("ok"), None, "invalidated");
    }

    #[tokio::test]
    async fn group_names_fold_case() {
        let c = IdCache::new(100, Duration::from_secs(60));
        c.remember_group_name("Data Eng", "urn:li:corpGroup:Old")
            .await;
        let got = c
            .group_name("DATA ENG", || async { panic!("hit expected") })
            .await;
        assert_eq!(got.expect("ok").as_deref(), Some("urn:li:corpGroup:Old"));
    }

    #[tokio::test]
    async fn membership_overlay_latest_write_wins_and_expires() {
        let c = IdCache::new(100, Duration::from_millis(50));
        c.record_members("g", &["u1".into(), "u2".into()], &[])
            .await;
        c.record_members("g", &[], &["u2".into()]).await;
        assert_eq!(
            c.recent_members("g").await,
            vec![("u1".into(), true), ("u2".into(), false)]
        );
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(c.recent_members("g").await.is_empty());
        c.record_members("g", &["u3".into()], &[]).await;
        c.forget_group("g").await;
        assert!(c.recent_members("g").await.is_empty());
    }
}
