//! Coercion of PATCH values to the attribute's schema type: the forgiving part
//! (`"True"` for booleans, a bare string for `manager`, one object for a
//! multi-valued attribute) and the strict part (`400 invalidValue` for a value of
//! the wrong type). `Ok(None)` means "unassign" (null, `""`, empty list).

use serde_json::{Map, Value};

use crate::scim::error::Error;
use crate::scim::resource::lenient_bool;
use crate::scim::schema::{AttrDef, AttrType};

/// Coerces `v` for attribute `def` (unknown attributes pass through).
pub(super) fn coerce(def: Option<&AttrDef>, v: &Value) -> Result<Option<Value>, Error> {
    let Some(def) = def else {
        return Ok(if crate::scim::json::is_empty(v) {
            None
        } else {
            Some(v.clone())
        });
    };
    if def.multi {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            Value::Null => Vec::new(),
            v => vec![v],
        };
        let mut out = Vec::new();
        for it in items {
            if let Some(x) = single(def, it)? {
                out.push(x);
            }
        }
        return Ok(if out.is_empty() {
            None
        } else {
            Some(Value::Array(out))
        });
    }
    single(def, v)
}

/// Coerces one value (one element of a multi-valued attribute).
pub(super) fn single(def: &AttrDef, v: &Value) -> Result<Option<Value>, Error> {
    let bad = || Error::invalid_value(format!("invalid value for '{}'", def.name));
    match (def.ty, v) {
        (_, Value::Null) => Ok(None),
        (AttrType::Complex, Value::Object(o)) => {
            let mut out = Map::new();
            for (k, x) in o {
                let sub = def.sub_attr(k);
                let name = sub.map_or(k.as_str(), |d| d.name);
                let coerced = match sub {
                    Some(d) => single(d, x)?,
                    None => coerce(None, x)?,
                };
                if let Some(c) = coerced {
                    out.insert(name.to_owned(), c);
                }
            }
            Ok(if out.is_empty() {
                None
            } else {
                Some(Value::Object(out))
            })
        }
        // Entra sends `manager` as a bare id string; store it as `{"value": id}`.
        (AttrType::Complex, Value::String(s)) if def.sub_attr("value").is_some() => {
            Ok(if s.is_empty() {
                None
            } else {
                Some(serde_json::json!({ "value": s }))
            })
        }
        // An older Entra document sends the manager as `[{"$ref": …, "value": id}]`: a
        // single-valued complex attribute wrapped in a one-element array.
        (AttrType::Complex, Value::Array(a)) if !def.multi && a.len() == 1 => single(def, &a[0]),
        (AttrType::Complex, _) => Err(bad()),
        (AttrType::Boolean, v) => lenient_bool(v, def.name).map(|b| b.map(Value::Bool)),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(v.clone())),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(v.clone())),
        (AttrType::Integer | AttrType::Decimal, _) => Err(bad()),
        (_, Value::String(s)) if s.is_empty() => Ok(None),
        (_, Value::String(_)) => Ok(Some(v.clone())),
        _ => Err(bad()),
    }
}
