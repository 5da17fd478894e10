//! What a PatchOp changed (a diff of before and after, so no-ops report nothing),
//! and the invariants restored after applying: one `primary`, `schemas` in sync.

use serde_json::{Map, Value};

use crate::scim::json::{get_ci, is_empty};
use crate::scim::schema::ResourceKind;

/// What a PatchOp changed, so the caller writes only that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Whether the resource differs from before.
    pub changed: bool,
    /// Changed top-level attributes by canonical name (`"name"`, `"active"`, …);
    /// extension attributes as `"<extension urn>:<attr>"`.
    pub attributes: Vec<String>,
}

impl Changes {
    /// Whether `name` (a top-level attribute, or `urn:…:attr`) changed; case-insensitive.
    pub fn touched(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

/// At most one `primary: true` per attribute (RFC 7643 §2.4): the last one wins.
pub(super) fn fix_primary(arr: &mut [Value]) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    if let Some(last) = arr.iter().rposition(is_primary) {
        for (i, el) in arr.iter_mut().enumerate() {
            if i != last && is_primary(el) {
                if let Some(o) = el.as_object_mut() {
                    o.insert("primary".into(), Value::Bool(false));
                }
            }
        }
    }
}

/// Keeps `schemas` (when present) listing exactly the extensions that hold data.
pub(super) fn sync_schemas(root: &mut Map<String, Value>, kind: ResourceKind) {
    if !root.contains_key("schemas") {
        return;
    }
    let mut schemas = vec![Value::from(kind.core().id)];
    for ext in kind.extensions() {
        if get_ci(root, ext.id).is_some_and(|v| !is_empty(v)) {
            schemas.push(ext.id.into());
        }
    }
    root.insert("schemas".into(), Value::Array(schemas));
}

pub(super) fn diff(before: &Value, after: &Value, kind: ResourceKind) -> Changes {
    let empty = Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut attrs: Vec<String> = Vec::new();
    let keys = b.keys().chain(a.keys().filter(|k| !b.contains_key(*k)));
    for k in keys {
        if k == "meta" || k == "schemas" {
            continue;
        }
        let (x, y) = (b.get(k), a.get(k));
        if x == y {
            continue;
        }
        match (kind.extension(k), x, y) {
            (Some(ext), x, y) => {
                let (xo, yo) = (
                    x.and_then(Value::as_object).unwrap_or(&empty),
                    y.and_then(Value::as_object).unwrap_or(&empty),
                );
                for sk in xo
                    .keys()
                    .chain(yo.keys().filter(|sk| !xo.contains_key(*sk)))
                {
                    if xo.get(sk) != yo.get(sk) {
                        attrs.push(format!("{}:{sk}", ext.id));
                    }
                }
            }
            _ => attrs.push(k.clone()),
        }
    }
    Changes {
        changed: !attrs.is_empty(),
        attributes: attrs,
    }
}
