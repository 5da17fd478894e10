//! Lenient readers for client JSON: what real IdPs send (see
//! `idp-scim-clients.md`): case-insensitive names, `"True"` strings, a single object
//! where an array belongs, empty strings meaning "absent".

use serde_json::{Map, Value};

use crate::scim::error::Error;
use crate::scim::json::get_ci;

/// A string attribute; `""` and `null` are absent; numbers and booleans are rejected.
pub fn string(o: &Map<String, Value>, name: &str) -> Result<Option<String>, Error> {
    match get_ci(o, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::invalid_value(format!("'{name}' must be a string"))),
    }
}

/// A boolean: JSON `true`/`false` or the strings `"true"`/`"false"` in any case (Entra).
pub fn boolean(v: &Value, name: &str) -> Result<Option<bool>, Error> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(Error::invalid_value(format!("'{name}' must be a boolean"))),
    }
}

/// A boolean attribute of an object.
pub fn bool_attr(o: &Map<String, Value>, name: &str) -> Result<Option<bool>, Error> {
    get_ci(o, name).map_or(Ok(None), |v| boolean(v, name))
}

/// The elements of a multi-valued attribute: an array, or a single object (OneLogin).
pub fn multi<'a>(
    o: &'a Map<String, Value>,
    name: &str,
) -> Result<Vec<&'a Map<String, Value>>, Error> {
    match get_ci(o, name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => Ok(vec![m]),
        Some(Value::Array(a)) => a
            .iter()
            .filter(|v| !v.is_null())
            .map(|v| {
                v.as_object()
                    .ok_or_else(|| Error::invalid_value(format!("'{name}' must hold objects")))
            })
            .collect(),
        Some(_) => Err(Error::invalid_value(format!("'{name}' must be an array"))),
    }
}

/// A complex single-valued attribute: an object, or absent.
pub fn complex<'a>(
    o: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, Error> {
    match get_ci(o, name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(Error::invalid_value(format!("'{name}' must be an object"))),
    }
}

/// Inserts `v` under `k` when present.
pub fn put(m: &mut Map<String, Value>, k: &str, v: &Option<String>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), Value::String(v.clone()));
    }
}
