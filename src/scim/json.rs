//! Small helpers over `serde_json` objects: case-insensitive key lookup (attribute
//! names are case-insensitive, RFC 7643 §2.1) and emptiness.

use serde_json::{Map, Value};

/// The value under `name`, matching the key case-insensitively (exact match first).
pub fn get_ci<'a>(o: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    o.get(name).or_else(|| {
        o.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// The actual key spelling under which `name` is stored, if any.
pub fn key_ci(o: &Map<String, Value>, name: &str) -> Option<String> {
    if o.contains_key(name) {
        return Some(name.to_owned());
    }
    o.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Removes `name` (case-insensitive) and returns its value.
pub fn remove_ci(o: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let k = key_ci(o, name)?;
    o.shift_remove(&k)
}

/// Mutable access to `name` (case-insensitive).
pub fn get_mut_ci<'a>(o: &'a mut Map<String, Value>, name: &str) -> Option<&'a mut Value> {
    let k = key_ci(o, name)?;
    o.get_mut(&k)
}

/// Null, `""`, `[]` and `{}` (or objects holding only such values) count as absent.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.iter().all(is_empty),
        Value::Object(o) => o.values().all(is_empty),
        _ => false,
    }
}
