//! Expansion of flattened keys into nested attributes: `"name.givenName": "x"` becomes
//! `{"name": {"givenName": "x"}}` and
//! `"urn:…:enterprise:2.0:User:department": "x"` becomes
//! `{"urn:…:enterprise:2.0:User": {"department": "x"}}`. Entra sends such keys in
//! pathless PATCH values; they must never be stored as literal attribute names.

use serde_json::{Map, Value};

use crate::scim::json::key_ci;
use crate::scim::path::AttrPath;
use crate::scim::schema::ResourceKind;

/// Returns `o` with dotted and URN-prefixed keys nested. Keys naming the core
/// schema URN are unwrapped into the root; extension objects are merged.
pub fn expand_keys(o: &Map<String, Value>, kind: ResourceKind) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in o {
        if k.eq_ignore_ascii_case(kind.core().id) {
            if let Value::Object(inner) = v {
                for (ik, iv) in expand_keys(inner, kind) {
                    merge_into(&mut out, &[ik.as_str()], iv);
                }
                continue;
            }
        }
        if let Some(ext) = kind.extension(k) {
            if let Value::Object(inner) = v {
                for (ik, iv) in inner {
                    merge_into(&mut out, &[ext.id, ik.as_str()], iv.clone());
                }
                continue;
            }
        }
        let parsed = if k.contains('.') || k.contains(':') {
            AttrPath::parse(k).ok()
        } else {
            None
        };
        match parsed {
            Some(p) => {
                let container = match &p.urn {
                    Some(u) if u.eq_ignore_ascii_case(kind.core().id) => None,
                    Some(u) => Some(kind.extension(u).map_or(u.as_str(), |s| s.id)),
                    None => None,
                };
                let mut keys: Vec<&str> = container.into_iter().collect();
                keys.push(&p.attr);
                if let Some(s) = &p.sub {
                    keys.push(s);
                }
                merge_into(&mut out, &keys, v.clone());
            }
            None => merge_into(&mut out, &[k.as_str()], v.clone()),
        }
    }
    out
}

/// Sets `keys` (a nested path) to `v`, merging objects that already exist there.
fn merge_into(o: &mut Map<String, Value>, keys: &[&str], v: Value) {
    let Some((first, rest)) = keys.split_first() else {
        return;
    };
    let key = key_ci(o, first).unwrap_or_else(|| (*first).to_owned());
    if rest.is_empty() {
        match (o.get_mut(&key), v) {
            (Some(Value::Object(existing)), Value::Object(new)) => {
                for (k, v) in new {
                    merge_into(existing, &[k.as_str()], v);
                }
            }
            (_, v) => {
                o.insert(key, v);
            }
        }
        return;
    }
    let slot = o.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(inner) = slot {
        merge_into(inner, rest, v);
    }
}
