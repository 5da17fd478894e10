//! PATCH (RFC 7644 §3.5.2): the parsed request, its paths, atomic application to a
//! resource's JSON, and the plan that keeps group member lists out of memory.
//!
//! Parsing is forgiving exactly where IdPs are sloppy: op names and the
//! `Operations` key are case-insensitive (Entra sends `Replace`), a missing `schemas`
//! is tolerated.

mod apply;
mod changes;
mod coerce;
mod filtered;
mod group;
mod path;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use apply::apply;
pub use changes::Changes;
pub use group::{plan_group, GroupPatchPlan, MemberDelta, MemberOp};
pub use path::PatchPath;

use super::error::Error;
use super::json::get_ci;
use super::schema::PATCH_OP_URN;

/// Most operations one PatchOp may carry. More is `400 invalidValue`: the RFC's
/// `tooMany` is defined for filters that match too many results (§3.12), not for
/// request size, so the honest keyword is that the `Operations` value is not one we
/// accept. Large membership pushes are one operation with many values, so real IdPs
/// stay far below this.
pub const MAX_OPERATIONS: usize = 1000;

/// `add`, `replace`, `remove`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

/// One operation.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    /// `None`: the value is an object of attributes on the resource itself.
    pub path: Option<PatchPath>,
    /// Required for add/replace; optional for remove (Entra lists members to remove).
    pub value: Option<Value>,
}

/// A parsed PatchOp request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRequest {
    pub operations: Vec<PatchOp>,
}

impl PatchRequest {
    /// Parses a PatchOp body. Errors: `invalidSyntax` for a malformed body,
    /// `invalidPath` for a bad path, `noTarget` for a remove without path,
    /// `invalidValue` for add/replace without value or over [`MAX_OPERATIONS`].
    pub fn from_json(v: &Value) -> Result<PatchRequest, Error> {
        let o = v
            .as_object()
            .ok_or_else(|| Error::invalid_syntax("PatchOp must be a JSON object"))?;
        if let Some(schemas) = get_ci(o, "schemas") {
            let ok = schemas.as_array().is_some_and(|a| {
                a.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(PATCH_OP_URN))
                })
            });
            if !ok {
                return Err(Error::invalid_syntax(format!(
                    "'schemas' must contain {PATCH_OP_URN}"
                )));
            }
        }
        let ops = get_ci(o, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::invalid_syntax("'Operations' must be an array"))?;
        if ops.len() > MAX_OPERATIONS {
            return Err(Error::invalid_value(format!(
                "a PatchOp may carry at most {MAX_OPERATIONS} operations"
            )));
        }
        let operations = ops.iter().map(parse_op).collect::<Result<Vec<_>, _>>()?;
        Ok(PatchRequest { operations })
    }
}

fn parse_op(v: &Value) -> Result<PatchOp, Error> {
    let o = v
        .as_object()
        .ok_or_else(|| Error::invalid_syntax("each operation must be an object"))?;
    let name = get_ci(o, "op")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_syntax("each operation needs an 'op'"))?;
    let op = match name.to_ascii_lowercase().as_str() {
        "add" => OpKind::Add,
        "replace" => OpKind::Replace,
        "remove" => OpKind::Remove,
        _ => return Err(Error::invalid_syntax("'op' must be add, replace or remove")),
    };
    let path = match get_ci(o, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(PatchPath::parse(s)?),
        Some(_) => return Err(Error::invalid_path("'path' must be a string")),
    };
    let value = get_ci(o, "value").cloned();
    match (op, &path, &value) {
        (OpKind::Remove, None, _) => Err(Error::no_target("remove needs a 'path'")),
        (OpKind::Add | OpKind::Replace, _, None) => {
            Err(Error::invalid_value("add and replace need a 'value'"))
        }
        (OpKind::Add | OpKind::Replace, None, Some(v)) if !v.is_object() => Err(
            Error::invalid_value("without 'path', 'value' must be an object of attributes"),
        ),
        _ => Ok(PatchOp { op, path, value }),
    }
}
