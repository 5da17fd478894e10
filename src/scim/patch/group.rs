//! The group member plan: a Group PatchOp split into operations on ordinary
//! attributes (applied with [`super::apply`] to the group JSON *without* members) and
//! an ordered list of member operations, so a group with 100 000 members is never
//! materialised to add one.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{OpKind, PatchOp, PatchPath, PatchRequest};
use crate::scim::error::Error;
use crate::scim::filter::{CompValue, CompareOp, Filter};
use crate::scim::json::{get_ci, key_ci};
use crate::scim::schema::ResourceKind;

/// One operation on the member list, by member id (`value`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberOp {
    /// Add these (already-present ones are no-ops).
    Add(Vec<String>),
    /// Remove exactly these (absent ones are no-ops).
    Remove(Vec<String>),
    /// Remove every member.
    RemoveAll,
    /// Set the members to exactly this list (may be empty).
    Replace(Vec<String>),
}

/// A Group PatchOp, split.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPatchPlan {
    /// Operations on non-member attributes, in order.
    pub other: PatchRequest,
    /// Member operations, in order.
    pub members: Vec<MemberOp>,
}

/// Splits a Group PatchOp. Okta's pathless `replace` `{id, displayName}` has no
/// `members` key and so yields no member operation.
pub fn plan_group(req: &PatchRequest) -> Result<GroupPatchPlan, Error> {
    let mut other = Vec::new();
    let mut members = Vec::new();
    for op in &req.operations {
        match &op.path {
            None => {
                // Pathless add/replace: pull out a `members` key, keep the rest.
                let obj = op
                    .value
                    .as_ref()
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let mut rest: Map<String, Value> = obj;
                if let Some(k) = key_ci(&rest, "members") {
                    let v = rest.shift_remove(&k).unwrap_or(Value::Null);
                    let ids = member_ids(&v)?;
                    members.push(match op.op {
                        OpKind::Replace => MemberOp::Replace(ids),
                        _ => MemberOp::Add(ids),
                    });
                }
                if !rest.is_empty() {
                    other.push(PatchOp {
                        op: op.op,
                        path: None,
                        value: Some(Value::Object(rest)),
                    });
                }
            }
            Some(PatchPath::Attr(a)) if a.parent().is(ResourceKind::Group, "members") => {
                if a.sub.is_some() {
                    return Err(Error::invalid_path(
                        "member sub-attributes cannot be modified",
                    ));
                }
                let ids = op.value.as_ref().map(member_ids).transpose()?;
                members.push(match (op.op, ids) {
                    (OpKind::Add, Some(ids)) => MemberOp::Add(ids),
                    (OpKind::Replace, Some(ids)) => MemberOp::Replace(ids),
                    (OpKind::Remove, None) => MemberOp::RemoveAll,
                    (OpKind::Remove, Some(ids)) => MemberOp::Remove(ids),
                    (_, None) => {
                        return Err(Error::invalid_value("add and replace need a 'value'"))
                    }
                });
            }
            Some(PatchPath::Filtered { attr, filter, sub })
                if attr.is(ResourceKind::Group, "members") =>
            {
                if op.op != OpKind::Remove || sub.is_some() {
                    return Err(Error::invalid_path(
                        "only 'remove' is supported on a filtered members path",
                    ));
                }
                let mut ids = Vec::new();
                value_eqs(filter, &mut ids).ok_or_else(|| {
                    Error::invalid_path("member filters must be 'value eq \"id\"', joined by 'or'")
                })?;
                members.push(MemberOp::Remove(ids));
            }
            _ => other.push(op.clone()),
        }
    }
    Ok(GroupPatchPlan {
        other: PatchRequest { operations: other },
        members,
    })
}

/// Ids from a member value: an array of `{"value": id, …}` (or one such object).
fn member_ids(v: &Value) -> Result<Vec<String>, Error> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        v => vec![v],
    };
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    let mut seen: HashSet<&str> = HashSet::with_capacity(items.len());
    for it in items {
        let id = it
            .as_object()
            .and_then(|o| get_ci(o, "value"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::invalid_value("every member needs a string 'value'"))?;
        if seen.insert(id) {
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

/// `value eq "a" or value eq "b"` → `[a, b]`.
fn value_eqs(f: &Filter, out: &mut Vec<String>) -> Option<()> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(s),
        } if path.urn.is_none()
            && path.sub.is_none()
            && path.attr.eq_ignore_ascii_case("value") =>
        {
            out.push(s.clone());
            Some(())
        }
        Filter::Or(l, r) => {
            value_eqs(l, out)?;
            value_eqs(r, out)
        }
        _ => None,
    }
}
