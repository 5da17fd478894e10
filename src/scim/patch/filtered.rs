//! Filtered PATCH paths: `attr[filter]` and `attr[filter].sub` (RFC 7644 §3.5.2),
//! including Entra's add-on-absent (`emails[type eq "work"].value` creates the entry).

use serde_json::{Map, Value};

use super::apply::{container, prune, put, Target};
use super::changes::fix_primary;
use super::coerce::{coerce, single};
use super::{OpKind, PatchOp};
use crate::scim::error::Error;
use crate::scim::filter::Filter;
use crate::scim::json::{get_mut_ci, key_ci, remove_ci};
use crate::scim::schema::{Mutability, ResourceKind};

/// `attr[filter]` and `attr[filter].sub`.
pub(super) fn filtered(
    root: &mut Map<String, Value>,
    kind: ResourceKind,
    t: &Target,
    filter: &Filter,
    sub: Option<&str>,
    op: &PatchOp,
) -> Result<(), Error> {
    let def = t.def;
    if def.is_some_and(|d| !d.multi) {
        return Err(Error::invalid_path(format!(
            "'{}' is not multi-valued",
            t.name
        )));
    }
    if let Some(d) = def {
        if d.mutability == Mutability::ReadOnly {
            return Err(Error::mutability(format!("'{}' is read-only", t.name)));
        }
    }
    let sub_def = sub.and_then(|s| def.and_then(|d| d.sub_attr(s)));
    let sub_name = sub.map(|s| sub_def.map_or(s, |d| d.name).to_owned());
    let value = match (op.op, &op.value) {
        (OpKind::Remove, _) | (_, None) => None,
        (_, Some(v)) => match (sub_def, &sub_name) {
            (Some(d), _) => single(d, v)?,
            (None, Some(_)) => coerce(None, v)?,
            (None, None) => match def {
                Some(d) => single(d, v)?,
                None => coerce(None, v)?,
            },
        },
    };
    let c = container(root, t, value.is_some())
        .ok_or_else(|| Error::no_target("no value matches the filter"));
    let c = match c {
        Ok(c) => c,
        Err(_) if op.op == OpKind::Remove => return Ok(()),
        Err(e) => return Err(e),
    };
    if key_ci(c, &t.name).is_none() {
        c.insert(t.name.clone(), Value::Array(Vec::new()));
    }
    let arr = get_mut_ci(c, &t.name)
        .and_then(Value::as_array_mut)
        .ok_or_else(|| Error::invalid_path(format!("'{}' is not multi-valued", t.name)))?;
    let hits: Vec<usize> = (0..arr.len())
        .filter(|i| filter.matches_element(&arr[*i], kind, def))
        .collect();
    // Removing the `value` of matched elements (Entra clearing a work phone:
    // `phoneNumbers[type eq "work"].value`) removes the elements: an entry of a
    // multi-valued attribute without its value is no entry at all.
    let whole = op.op == OpKind::Remove
        && sub_name
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("value"));
    match (op.op, &sub_name, value) {
        (OpKind::Remove, _, _) if whole => {
            let mut i = 0;
            arr.retain(|_| {
                i += 1;
                !hits.contains(&(i - 1))
            });
        }
        (_, Some(s), v) => {
            if hits.is_empty() {
                if let Some(v) = &v {
                    let mut el = seed(filter, t)?;
                    el.insert(s.clone(), v.clone());
                    arr.push(Value::Object(el));
                }
            }
            for i in &hits {
                if let Some(o) = arr[*i].as_object_mut() {
                    match &v {
                        Some(x) => put(o, s, x.clone()),
                        None => {
                            remove_ci(o, s);
                        }
                    }
                }
            }
        }
        (op, None, Some(v)) => {
            if hits.is_empty() {
                let mut el = seed(filter, t)?;
                if let Value::Object(o) = &v {
                    for (k, x) in o {
                        put(&mut el, k, x.clone());
                    }
                }
                arr.push(Value::Object(el));
            }
            for i in &hits {
                match (&mut arr[*i], &v, op) {
                    (Value::Object(o), Value::Object(n), OpKind::Add) => {
                        for (k, x) in n {
                            put(o, k, x.clone());
                        }
                    }
                    (slot, v, _) => *slot = v.clone(),
                }
            }
        }
        (_, None, None) => {}
    }
    fix_primary(arr);
    if arr.is_empty() {
        remove_ci(c, &t.name);
    }
    prune(root, t);
    Ok(())
}

/// A new element for a filtered add/replace that matched nothing: only possible when
/// the filter is `a eq "x" and b eq "y"` (Entra's `emails[type eq "work"].value`).
fn seed(filter: &Filter, t: &Target) -> Result<Map<String, Value>, Error> {
    let eqs = filter
        .eq_conjunction()
        .filter(|e| e.iter().all(|(p, _)| p.urn.is_none() && p.sub.is_none()))
        .ok_or_else(|| Error::no_target(format!("no '{}' value matches the filter", t.name)))?;
    let mut el = Map::new();
    for (p, v) in eqs {
        let sub = t.def.and_then(|d| d.sub_attr(&p.attr));
        let name = sub.map_or(p.attr.clone(), |d| d.name.to_owned());
        // `roles[primary eq "True"]` (Entra) seeds a boolean `primary`.
        let boolean = sub.is_some_and(|d| d.ty == crate::scim::schema::AttrType::Boolean);
        let value = match crate::scim::filter::eval::bool_text(v) {
            Some(b) if boolean => Value::Bool(b),
            _ => Value::String(v.to_owned()),
        };
        el.insert(name, value);
    }
    Ok(el)
}
