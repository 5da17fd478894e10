//! Mutable emulator state behind one mutex: the primary store, the lagging index, and
//! the write primitives (version bump only on change, automatic key aspect, hard
//! delete) every endpoint goes through.

use super::index::Index;
use super::store::{self, Entities, Row};
use serde_json::{json, Value};

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// One aspect write, already validated.
#[derive(Debug, Clone)]
pub struct Write {
    /// Entity urn.
    pub urn: String,
    /// Aspect name.
    pub aspect: String,
    /// Validated aspect value.
    pub value: Value,
    /// Writer urn (audit stamp).
    pub actor: String,
    /// Index synchronously (sync-index header or `appSource=ui`).
    pub sync: bool,
    /// System metadata sent with the write (`version` is set by the store).
    pub system_metadata: Value,
}

/// Primary store + index.
#[derive(Debug, Default)]
pub struct State {
    /// The primary store.
    pub entities: Entities,
    /// The lagging search/graph index.
    pub index: Index,
}

impl State {
    /// Latest row of an aspect.
    pub fn get(&self, urn: &str, aspect: &str) -> Option<&Row> {
        self.entities.get(urn)?.get(aspect)
    }

    /// Latest value of an aspect.
    pub fn value(&self, urn: &str, aspect: &str) -> Option<&Value> {
        self.get(urn, aspect).map(|r| &r.value)
    }

    /// Entity existence as GMS defines it: the key aspect row is present.
    pub fn exists(&self, urn: &str) -> bool {
        store::entity_type(urn)
            .and_then(store::key_aspect)
            .is_some_and(|(k, _)| self.get(urn, k).is_some())
    }

    /// `status.removed == true`.
    pub fn removed(&self, urn: &str) -> bool {
        self.value(urn, "status")
            .and_then(|v| v.get("removed"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// Applies a write; returns the resulting version. The version starts at 1 and
    /// moves only when the stored value changes. The key aspect is created on first
    /// write.
    pub fn write(&mut self, w: Write) -> u64 {
        let now = now_ms();
        if let Some((key_name, key_val)) = store::key_value(&w.urn) {
            if w.aspect != key_name && self.get(&w.urn, key_name).is_none() {
                self.write(Write {
                    aspect: key_name.to_string(),
                    value: key_val,
                    ..w.clone()
                });
            }
        }
        let rows = self.entities.entry(w.urn.clone()).or_default();
        let (version, changed) = match rows.get(&w.aspect) {
            Some(old) if old.value == w.value => (old.version, false),
            Some(old) => (old.version + 1, true),
            None => (1, true),
        };
        let mut sm = match w.system_metadata {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        sm.entry("lastObserved").or_insert(json!(now));
        sm.entry("runId").or_insert(json!("no-run-id-provided"));
        sm.insert("version".into(), json!(version.to_string()));
        let row = match rows.get(&w.aspect) {
            Some(old) if !changed => Row {
                system_metadata: Value::Object(sm),
                ..old.clone()
            },
            _ => Row {
                value: w.value.clone(),
                version,
                actor: w.actor.clone(),
                time: now,
                system_metadata: Value::Object(sm),
            },
        };
        rows.insert(w.aspect.clone(), row);
        if changed || w.sync {
            self.index.aspect(&w.urn, &w.aspect, Some(w.value), w.sync);
        }
        version
    }

    /// Stores an aspect as written before DataHub recorded versions: its system metadata
    /// carries no `version` (a conditional write compares it as "1").
    pub fn write_legacy(&mut self, w: Write) {
        let (urn, aspect) = (w.urn.clone(), w.aspect.clone());
        self.write(w);
        if let Some(row) = self.entities.get_mut(&urn).and_then(|r| r.get_mut(&aspect)) {
            row.version = 1;
            if let Some(sm) = row.system_metadata.as_object_mut() {
                sm.remove("version");
            }
        }
    }

    /// The version a conditional write compares `If-Version-Match` with
    /// (`ConditionalWriteValidator`): the stored `systemMetadata.version` as a number,
    /// `max(1, row version 0)` = "1" without one, "-1" for an absent aspect.
    pub fn compared_version(&self, urn: &str, aspect: &str) -> String {
        let Some(row) = self.get(urn, aspect) else {
            return "-1".into();
        };
        match row.system_metadata.get("version").and_then(Value::as_str) {
            Some(v) => v
                .parse::<i64>()
                .map(|n| n.to_string())
                .unwrap_or_else(|_| v.to_string()),
            None => "1".into(),
        }
    }

    /// Hard delete of every aspect of an entity (key included); returns the row count.
    pub fn delete_entity(&mut self, urn: &str, sync: bool) -> usize {
        let n = self.entities.remove(urn).map(|r| r.len()).unwrap_or(0);
        if n > 0 {
            self.index.delete_entity(urn, sync);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(urn: &str, aspect: &str, value: Value) -> Write {
        Write {
            urn: urn.into(),
            aspect: aspect.into(),
            value,
            actor: "urn:li:corpuser:t".into(),
            sync: true,
            system_metadata: Value::Null,
        }
    }

    #[test]
    fn version_moves_only_on_change_and_key_is_created() {
        let mut s = State::default();
        let u = "urn:li:corpuser:a";
        assert_eq!(s.write(w(u, "corpUserInfo", json!({"active": true}))), 1);
        assert_eq!(s.write(w(u, "corpUserInfo", json!({"active": true}))), 1);
        assert_eq!(s.write(w(u, "corpUserInfo", json!({"active": false}))), 2);
        assert!(s.exists(u));
        assert_eq!(s.value(u, "corpUserKey"), Some(&json!({"username": "a"})));
        assert_eq!(s.delete_entity(u, true), 2);
        assert!(!s.exists(u));
    }
}
