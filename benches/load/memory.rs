//! Bytes per cached ID mapping: a fresh process (`load __cache-memory N`) fills the
//! gateway's own ID cache (`provision::IdCache`, the moka maps the gateway serves from)
//! with N `externalId` → urn mappings, then N list positions, and reports the RSS
//! growth per entry after moka's housekeeping has run.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use datahub_scim::provision::{IdCache, Kind};
use serde::{Deserialize, Serialize};

use crate::procs;

/// What the child measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheMemory {
    pub entries: usize,
    /// RSS growth per `externalId` → urn mapping, bytes.
    pub id_bytes_per_entry: f64,
    /// RSS growth per list position (query, offset) → scroll id, bytes.
    pub anchor_bytes_per_entry: f64,
    /// Bytes of key + value payload per mapping (the strings themselves).
    pub id_payload_bytes: f64,
    pub anchor_payload_bytes: f64,
    /// RSS growth per entry of a bare moka cache built the same way (`u64` → `u64`):
    /// the part of an entry that is moka's own bookkeeping.
    pub moka_bytes_per_entry: f64,
}

impl CacheMemory {
    /// The Markdown lines for the report.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "| ID cache, {} entries each | bytes per entry (RSS growth) | of which key + value text |\n| --- | ---: | ---: |",
            self.entries
        );
        let _ = writeln!(
            s,
            "| `externalId` → urn mapping | {:.0} | {:.0} |",
            self.id_bytes_per_entry, self.id_payload_bytes
        );
        let _ = writeln!(
            s,
            "| list position (query, offset) → scroll id | {:.0} | {:.0} |",
            self.anchor_bytes_per_entry, self.anchor_payload_bytes
        );
        let _ = writeln!(
            s,
            "| moka alone, same settings (`u64` → `u64`) | {:.0} | 16 |",
            self.moka_bytes_per_entry
        );
        s
    }
}

/// Runs the child and parses its answer.
pub fn measure(dir: &Path, entries: usize) -> CacheMemory {
    eprintln!("ID cache memory: {entries} entries");
    let exe = std::env::current_exe().expect("exe");
    let out = std::process::Command::new(exe)
        .arg("__cache-memory")
        .arg(entries.to_string())
        .current_dir(dir)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("cache memory child");
    assert!(out.status.success(), "cache memory child failed");
    let m: CacheMemory = serde_json::from_slice(&out.stdout).expect("cache memory JSON");
    eprintln!(
        "  {:.0} bytes per ID mapping, {:.0} per list position",
        m.id_bytes_per_entry, m.anchor_bytes_per_entry
    );
    m
}

/// A DataHub-shaped scroll id (base64 of the sort values and a point in time).
fn scroll_id(i: usize) -> String {
    format!("eyJzb3J0IjpbMS4wLCJ1cm46bGk6Y29ycHVzZXI6dXNlci{i:08}QGV4YW1wbGUuY29tIl0sInBpdElkIjpudWxsfQ")
}

/// `load __cache-memory N`.
pub fn cache_child(args: &[String]) {
    let n: usize = args.first().and_then(|v| v.parse().ok()).expect("N");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let me = std::process::id();
    let out = rt.block_on(async move {
        let cache = IdCache::new(n as u64 + 1, Duration::from_secs(3600));
        // Warm the allocator and moka's own structures before the baseline.
        for i in 0..1000 {
            cache
                .remember_external_id(Kind::User, &format!("warm{i}"), "urn:li:corpuser:w")
                .await;
        }
        cache.run_pending_tasks().await;
        let base = procs::rss_kib(me);
        let mut payload = 0usize;
        for i in 0..n {
            // Okta user ids are 20 characters; urns carry the e-mail-like username.
            let ext = format!("00u{i:017}");
            let urn = format!("urn:li:corpuser:first.last.{i}@example.com");
            payload += ext.len() + urn.len();
            cache.remember_external_id(Kind::User, &ext, &urn).await;
        }
        cache.run_pending_tasks().await;
        let ids = procs::rss_kib(me);
        let list: Arc<str> = Arc::from("users|filter=|sort=");
        let mut anchor_payload = 0usize;
        for i in 0..n {
            let s = scroll_id(i);
            anchor_payload += s.len() + 8;
            cache.set_anchor(&list, (i as u64) * 100, &s).await;
        }
        cache.run_pending_tasks().await;
        let anchors = procs::rss_kib(me);
        assert!(
            cache.stats().entries as usize >= 2 * n,
            "every entry is held"
        );
        let bare: moka::future::Cache<u64, u64> = moka::future::Cache::builder()
            .max_capacity(n as u64 + 1)
            .time_to_live(Duration::from_secs(3600))
            .build();
        for i in 0..n as u64 {
            bare.insert(i, i).await;
        }
        bare.run_pending_tasks().await;
        let moka_only = procs::rss_kib(me);
        assert_eq!(bare.entry_count() as usize, n, "every entry is held");
        CacheMemory {
            entries: n,
            id_bytes_per_entry: (ids.saturating_sub(base) * 1024) as f64 / n as f64,
            anchor_bytes_per_entry: (anchors.saturating_sub(ids) * 1024) as f64 / n as f64,
            id_payload_bytes: payload as f64 / n as f64,
            anchor_payload_bytes: anchor_payload as f64 / n as f64,
            moka_bytes_per_entry: (moka_only.saturating_sub(anchors) * 1024) as f64 / n as f64,
        }
    });
    println!("{}", serde_json::to_string(&out).expect("JSON"));
}
