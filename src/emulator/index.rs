//! The search/graph index (DataHub's Elasticsearch entity and graph indexes): a per-aspect
//! copy of the primary store that sees each write only after the configured lag, unless
//! the write was sync-indexed. Each document keeps its index fields and relationship
//! edges, recomputed when a change is applied (as DataHub's `UpdateIndicesService` does
//! per MCL), so searches only read. Search, list and relationship reads use it.

use super::fields::{self, Fields};
use super::store;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
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

/// Relationship types derived from membership aspects: (aspect, field, type).
const EDGE_ASPECTS: &[(&str, &str, &str)] = &[
    ("groupMembership", "groups", "IsMemberOfGroup"),
    (
        "nativeGroupMembership",
        "nativeGroups",
        "IsMemberOfNativeGroup",
    ),
    ("roleMembership", "roles", "IsMemberOfRole"),
];

/// One indexed document.
#[derive(Debug, Default)]
pub struct Doc {
    /// aspect → (sequence number of the write, value).
    aspects: BTreeMap<String, (u64, Value)>,
    /// Index fields (see [`fields::index_fields`]).
    pub fields: Fields,
    /// Entity type (`corpuser`, `corpGroup`, …).
    pub entity_type: String,
    /// Whether the key aspect is indexed (documents without it are not searchable).
    pub has_key: bool,
    /// `status.removed`.
    pub removed: bool,
    /// Outgoing edges: (type, destination).
    edges: Vec<(&'static str, String)>,
}

impl Doc {
    fn refresh(&mut self, urn: &str) {
        self.fields = fields::index_fields(urn, &self.aspects);
        self.entity_type = store::entity_type(urn).unwrap_or_default().to_string();
        self.has_key =
            store::key_aspect(&self.entity_type).is_some_and(|(k, _)| self.aspects.contains_key(k));
        self.removed = self
            .fields
            .get("removed")
            .and_then(|v| v.first())
            .map(String::as_str)
            == Some("true");
        self.edges.clear();
        for (aspect, field, ty) in EDGE_ASPECTS {
            let Some((_, v)) = self.aspects.get(*aspect) else {
                continue;
            };
            for dst in v
                .get(*field)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(dst) = dst.as_str() {
                    self.edges.push((ty, dst.to_string()));
                }
            }
        }
    }

    /// The indexed value of an aspect.
    #[cfg(test)]
    pub fn aspect(&self, name: &str) -> Option<&Value> {
        self.aspects.get(name).map(|(_, v)| v)
    }
}

/// The lagging index.
#[derive(Debug, Default)]
pub struct Index {
    /// urn → document, in urn order.
    docs: BTreeMap<String, Doc>,
    /// destination → (source, type): the graph index's reverse edges.
    incoming: BTreeMap<String, BTreeSet<(String, &'static str)>>,
    /// field → ASCII-folded value → urns: the inverted index that lets a term query
    /// (`EQUAL`, `IEQUAL`) find its documents without a scan, as Lucene's does. Holds
    /// candidates only: the matcher still checks each hit exactly.
    terms: HashMap<&'static str, HashMap<String, BTreeSet<String>>>,
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

    fn unlink(&mut self, urn: &str) {
        let Some(doc) = self.docs.get(urn) else {
            return;
        };
        for (field, values) in &doc.fields {
            if let Some(by_value) = self.terms.get_mut(field) {
                for v in values {
                    let key = v.to_ascii_lowercase();
                    if let Some(set) = by_value.get_mut(&key) {
                        set.remove(urn);
                        if set.is_empty() {
                            by_value.remove(&key);
                        }
                    }
                }
            }
        }
        for (ty, dst) in &doc.edges {
            if let Some(set) = self.incoming.get_mut(dst) {
                set.remove(&(urn.to_string(), *ty));
                if set.is_empty() {
                    self.incoming.remove(dst);
                }
            }
        }
    }

    fn link(&mut self, urn: &str) {
        let Some(doc) = self.docs.get(urn) else {
            return;
        };
        for (field, values) in &doc.fields {
            let by_value = self.terms.entry(field).or_default();
            for v in values {
                by_value
                    .entry(v.to_ascii_lowercase())
                    .or_default()
                    .insert(urn.to_string());
            }
        }
        for (ty, dst) in &doc.edges {
            self.incoming
                .entry(dst.clone())
                .or_default()
                .insert((urn.to_string(), *ty));
        }
    }

    fn apply(&mut self, seq: u64, change: Change) {
        let urn = match &change {
            Change::Aspect(u, ..) | Change::DeleteEntity(u) => u.clone(),
        };
        self.unlink(&urn);
        match change {
            Change::Aspect(_, aspect, value) => {
                if self.deleted_at.get(&urn).is_none_or(|d| *d <= seq) {
                    let doc = self.docs.entry(urn.clone()).or_default();
                    if doc.aspects.get(&aspect).is_none_or(|(s, _)| *s <= seq) {
                        match value {
                            Some(v) => {
                                doc.aspects.insert(aspect, (seq, v));
                            }
                            None => {
                                doc.aspects.remove(&aspect);
                            }
                        }
                    }
                }
            }
            Change::DeleteEntity(_) => {
                if let Some(doc) = self.docs.get_mut(&urn) {
                    doc.aspects.retain(|_, (s, _)| *s > seq);
                }
                let d = self.deleted_at.entry(urn.clone()).or_default();
                *d = (*d).max(seq);
            }
        }
        match self.docs.get_mut(&urn) {
            Some(doc) if doc.aspects.is_empty() => {
                self.docs.remove(&urn);
            }
            Some(doc) => doc.refresh(&urn),
            None => {}
        }
        self.link(&urn);
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

    /// Visible documents in urn order (call [`Index::catch_up`] first).
    pub fn docs(&self) -> impl Iterator<Item = (&String, &Doc)> {
        self.docs.iter()
    }

    /// Visible documents with `value` in `field`, compared with ASCII case folded, in
    /// urn order: the candidates of a term query (a superset of an `EQUAL`'s hits).
    pub fn term_candidates(&self, field: &str, value: &str) -> Vec<&str> {
        self.terms
            .get(field)
            .and_then(|m| m.get(&value.to_ascii_lowercase()))
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// One visible document.
    pub fn doc(&self, urn: &str) -> Option<&Doc> {
        self.docs.get(urn)
    }

    /// One visible document with its urn as the index holds it.
    pub fn entry(&self, urn: &str) -> Option<(&String, &Doc)> {
        self.docs.get_key_value(urn)
    }

    /// Outgoing relationship edges of `urn`: (type, destination).
    pub fn edges_from(&self, urn: &str) -> Vec<(&'static str, String)> {
        self.docs
            .get(urn)
            .map(|d| d.edges.clone())
            .unwrap_or_default()
    }

    /// Incoming relationship edges of `urn`: (source, type), sources in urn order.
    pub fn edges_to(&self, urn: &str) -> Vec<(String, &'static str)> {
        self.incoming
            .get(urn)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
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
        assert!(ix.doc("urn:li:corpuser:b").is_some_and(|d| d.has_key));
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
        assert_eq!(doc.aspect("status"), Some(&json!({"removed": false})));
        assert!(!doc.removed);
    }

    #[test]
    fn fields_and_edges_follow_each_applied_change() {
        let mut ix = Index::default();
        let u = "urn:li:corpuser:a";
        let g = "urn:li:corpGroup:g";
        ix.aspect(u, "corpUserKey", Some(json!({"username": "a"})), true);
        ix.aspect(u, "groupMembership", Some(json!({"groups": [g]})), true);
        ix.aspect(
            u,
            "corpUserInfo",
            Some(json!({"active": true, "email": "A@x"})),
            true,
        );
        let d = ix.doc(u).expect("doc");
        assert_eq!(d.fields["email"], ["A@x"]);
        assert_eq!(ix.term_candidates("email", "a@X"), [u]);
        ix.aspect(
            u,
            "corpUserInfo",
            Some(json!({"active": true, "email": "b@x"})),
            true,
        );
        assert!(ix.term_candidates("email", "a@x").is_empty());
        assert_eq!(ix.term_candidates("email", "B@X"), [u]);
        assert_eq!(ix.edges_to(g), [(u.to_string(), "IsMemberOfGroup")]);
        ix.aspect(u, "groupMembership", Some(json!({"groups": []})), true);
        assert!(ix.edges_to(g).is_empty());
        ix.aspect(u, "groupMembership", Some(json!({"groups": [g]})), true);
        ix.delete_entity(u, true);
        assert!(ix.doc(u).is_none() && ix.edges_to(g).is_empty());
        assert!(ix.term_candidates("email", "b@x").is_empty());
    }
}
