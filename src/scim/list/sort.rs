//! Sorting (RFC 7644 §3.4.2.3): by one attribute; strings fold case unless the schema
//! says caseExact; a multi-valued attribute sorts by its primary value, else its
//! first; resources without a value sort last when ascending (and so first when the
//! caller reverses for descending).

use std::cmp::Ordering;

use serde_json::Value;

use super::query::{ListQuery, SortOrder};
use crate::scim::json::get_ci;
use crate::scim::path::AttrPath;
use crate::scim::schema::{self, ResourceKind};

/// Ascending order of `a` and `b` by `by`.
pub fn compare(a: &Value, b: &Value, by: &AttrPath, kind: ResourceKind) -> Ordering {
    let exact = schema::case_exact(kind, by);
    match (key(a, by, kind), key(b, by, kind)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => match (x, y) {
            (Value::String(x), Value::String(y)) if !exact => {
                x.to_lowercase().cmp(&y.to_lowercase())
            }
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::Number(x), Value::Number(y)) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            _ => Ordering::Equal,
        },
    }
}

fn key<'v>(r: &'v Value, by: &AttrPath, kind: ResourceKind) -> Option<&'v Value> {
    let resolved = schema::resolve(kind, by);
    let root = match resolved.and_then(|r| r.ext) {
        Some(ext) => get_ci(r.as_object()?, ext)?,
        None => r,
    };
    let v = get_ci(root.as_object()?, &by.attr)?;
    let v = match v {
        Value::Array(a) => a
            .iter()
            .find(|e| e.get("primary") == Some(&Value::Bool(true)))
            .or_else(|| a.first())?,
        v => v,
    };
    let v = match (&by.sub, v) {
        (Some(s), Value::Object(o)) => get_ci(o, s)?,
        (None, Value::Object(o)) => get_ci(o, "value")?,
        (_, v) => v,
    };
    (!v.is_null()).then_some(v)
}

impl ListQuery {
    /// Sorts `resources` in place by `sort_by` (stable), honouring `sort_order`.
    /// Does nothing without `sort_by`.
    pub fn sort(&self, resources: &mut [Value], kind: ResourceKind) {
        let Some(by) = &self.sort_by else { return };
        resources.sort_by(|a, b| {
            let o = compare(a, b, by, kind);
            if self.sort_order == SortOrder::Descending {
                o.reverse()
            } else {
                o
            }
        });
    }
}
