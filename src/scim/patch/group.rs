//! The group member plan: a Group PatchOp split into operations on ordinary
//! attributes (applied with [`super::apply`] to the group JSON *without* members) and
//! an ordered list of member operations, so a group with 100 000 members is never
//! materialised to add one.

use std::collections::{HashMap, HashSet};

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

/// The net effect of the member operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberDelta {
    /// When true, the final member list is exactly `add`: the caller must remove every
    /// current member not in `add` (this is the only case that needs the full list).
    pub reset: bool,
    /// Ids that are members afterwards (when `reset` is false: ids the request wants
    /// present; some may be members already).
    pub add: Vec<String>,
    /// Ids that are not members afterwards (empty when `reset`).
    pub remove: Vec<String>,
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

impl GroupPatchPlan {
    /// Folds the member operations into their net effect. After the last
    /// `Replace`/`RemoveAll` the result is a reset to a known list; without one, each
    /// touched id's final state is decided by the last operation naming it, so the
    /// caller never needs members it did not touch.
    pub fn fold(&self) -> MemberDelta {
        // Each touched id's final state and the step at which it last changed, so the
        // output keeps the order of the last transitions (as applying the operations one
        // by one to two lists would) in O(n log n), not O(n²), for large member pushes.
        #[derive(Clone, Copy, PartialEq, Eq)]
        enum State {
            Add,
            Remove,
            /// Removed after a reset: neither added nor removed.
            Drop,
        }
        fn set<'a>(
            states: &mut HashMap<&'a str, (State, usize)>,
            step: &mut usize,
            id: &'a str,
            target: State,
        ) {
            let entry = states.entry(id).or_insert((target, *step));
            if entry.0 != target {
                *entry = (target, *step);
            }
            *step += 1;
        }
        let mut reset = false;
        let mut states: HashMap<&str, (State, usize)> = HashMap::new();
        let mut step = 0usize;
        for op in &self.members {
            match op {
                MemberOp::Replace(ids) => {
                    reset = true;
                    states.clear();
                    for id in ids {
                        set(&mut states, &mut step, id.as_str(), State::Add);
                    }
                }
                MemberOp::RemoveAll => {
                    reset = true;
                    states.clear();
                }
                MemberOp::Add(ids) => {
                    for id in ids {
                        set(&mut states, &mut step, id.as_str(), State::Add);
                    }
                }
                MemberOp::Remove(ids) => {
                    let target = if reset { State::Drop } else { State::Remove };
                    for id in ids {
                        set(&mut states, &mut step, id.as_str(), target);
                    }
                }
            }
        }
        let mut touched: Vec<(&str, State, usize)> = states
            .into_iter()
            .map(|(id, (st, at))| (id, st, at))
            .collect();
        touched.sort_unstable_by_key(|t| t.2);
        let pick = |want: State| -> Vec<String> {
            touched
                .iter()
                .filter(|t| t.1 == want)
                .map(|t| t.0.to_owned())
                .collect()
        };
        MemberDelta {
            reset,
            add: pick(State::Add),
            remove: pick(State::Remove),
        }
    }
}

impl MemberDelta {
    /// For a non-reset delta: the writes actually needed, given membership of the
    /// touched ids only (`is_member(id)`): `(to_add, to_remove)` with no-ops dropped.
    /// For a reset, `to_add` is the ids not yet members and `to_remove` is empty: the
    /// caller must still remove current members outside `self.add`.
    pub fn effective(&self, is_member: impl Fn(&str) -> bool) -> (Vec<String>, Vec<String>) {
        let add = self
            .add
            .iter()
            .filter(|id| !is_member(id))
            .cloned()
            .collect();
        let remove = self
            .remove
            .iter()
            .filter(|id| is_member(id))
            .cloned()
            .collect();
        (add, remove)
    }
}
