//! The search/graph index (DataHub's Elasticsearch entity and graph indexes): a per-aspect
//! copy of the primary store that sees each write only after the configured lag, unless
//! the write was sync-indexed. Search, list and relationship reads use it.

use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One change waiting to reach the index.
#[derive(Debug, Clone)]
enum Change {
    Aspect(String, String, Option<Value>),
    DeleteEntity(String),
}

#[derive(Debug)]
struct Pending {
    due: Instant,
    seq: u64,
    change: Change,
}

/// The lagging index.
#[derive(Debug, Default)]
pub struct Index {
    /// urn → aspect → (sequence number of the write, value).
    docs: BTreeMap<String, BTreeMap<String, (u64, Value)>>,
    /// urn → sequence number of its last applied entity deletion.
    deleted_at: BTreeMap<String, u64>,
    pending: Vec<Pending>,
    seq: u64,
    /// How long an unsynced write takes to become visible.
    pub lag: Duration,
}

impl Index {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Records an aspect write (`None` = aspect removed).
    pub fn aspect(&mut self, urn: &str, aspect: &str, value: Option<Value>, sync: bool) {
        let change = Change::Aspect(urn.to_string(), aspect.to_string(), value);
        self.record(change, sync);
    }

    /// Records a hard delete of a whole entity.
    pub fn delete_entity(&mut self, urn: &str, sync: bool) {
        self.record(Change::DeleteEntity(urn.to_string()), sync);
    }

    fn record(&mut self, change: Change, sync: bool) {
        let seq = self.next_seq();
        if sync || self.lag.is_zero() {
            self.apply(seq, change);
        } else {
            let due = Instant::now() + self.lag;
            self.pending.push(Pending { due, seq, change });
        }
    }

    fn apply(&mut self, seq: u64, change: Change) {
        match change {
            Change::Aspect(urn, aspect, value) => {
                if self.deleted_at.get(&urn).is_some_and(|d| *d > seq) {
                    return;
                }
                let doc = self.docs.entry(urn).or_default();
                if doc.get(&aspect).is_some_and(|(s, _)| *s > seq) {
                    return;
                }
                match value {
                    Some(v) => {
                        doc.insert(aspect, (seq, v));
                    }
                    None => {
                        doc.remove(&aspect);
                    }
                }
            }
            Change::DeleteEntity(urn) => {
                if let Some(doc) = self.docs.get_mut(&urn) {
                    doc.retain(|_, (s, _)| *s > seq);
                    if doc.is_empty() {
                        self.docs.remove(&urn);
                    }
                }
                let d = self.deleted_at.entry(urn).or_default();
                *d = (*d).max(seq);
            }
        }
    }

    /// Applies every pending change whose time has come.
    pub fn catch_up(&mut self) {
        let now = Instant::now();
        if self.pending.iter().all(|p| p.due > now) {
            return;
        }
        let (ready, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.due <= now);
        self.pending = rest;
        for p in ready {
            self.apply(p.seq, p.change);
        }
    }

    /// Visible documents: urn → aspect → value (call [`Index::catch_up`] first).
    pub fn docs(&self) -> impl Iterator<Item = (&String, BTreeMap<&str, &Value>)> {
        self.docs
            .iter()
            .map(|(u, d)| (u, d.iter().map(|(a, (_, v))| (a.as_str(), v)).collect()))
    }

    /// One visible document.
    pub fn doc(&self, urn: &str) -> Option<BTreeMap<&str, &Value>> {
        self.docs
            .get(urn)
            .map(|d| d.iter().map(|(a, (_, v))| (a.as_str(), v)).collect())
    }

    /// Relationship edges visible in the index: (source, type, destination), from
    /// `groupMembership`, `nativeGroupMembership` and `roleMembership`.
    pub fn edges(&self) -> Vec<(String, &'static str, String)> {
        let mut out = Vec::new();
        for (urn, doc) in &self.docs {
            for (aspect, field, ty) in [
                ("groupMembership", "groups", "IsMemberOfGroup"),
                (
                    "nativeGroupMembership",
                    "nativeGroups",
                    "IsMemberOfNativeGroup",
                ),
                ("roleMembership", "roles", "IsMemberOfRole"),
            ] {
                let Some((_, v)) = doc.get(aspect) else {
                    continue;
                };
                for dst in v.get(field).and_then(Value::as_array).into_iter().flatten() {
                    if let Some(dst) = dst.as_str() {
                        out.push((urn.clone(), ty, dst.to_string()));
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lagged_writes_appear_later_and_sync_writes_at_once() {
        let mut ix = Index {
            lag: Duration::from_millis(40),
            ..Index::default()
        };
        ix.aspect(
            "urn:li:corpuser:a",
            "corpUserKey",
            Some(json!({"username": "a"})),
            false,
        );
        ix.catch_up();
        assert!(ix.doc("urn:li:corpuser:a").is_none());
        ix.aspect(
            "urn:li:corpuser:b",
            "corpUserKey",
            Some(json!({"username": "b"})),
            true,
        );
        assert!(ix.doc("urn:li:corpuser:b").is_some());
        std::thread::sleep(Duration::from_millis(60));
        ix.catch_up();
        assert!(ix.doc("urn:li:corpuser:a").is_some());
    }

    #[test]
    fn a_late_stale_write_never_overwrites_a_newer_sync_write() {
        let mut ix = Index {
            lag: Duration::from_millis(20),
            ..Index::default()
        };
        ix.aspect(
            "urn:li:corpuser:a",
            "status",
            Some(json!({"removed": true})),
            false,
        );
        ix.aspect(
            "urn:li:corpuser:a",
            "status",
            Some(json!({"removed": false})),
            true,
        );
        std::thread::sleep(Duration::from_millis(40));
        ix.catch_up();
        let doc = ix.doc("urn:li:corpuser:a").expect("doc");
        assert_eq!(doc.get("status"), Some(&&json!({"removed": false})));
    }
}
