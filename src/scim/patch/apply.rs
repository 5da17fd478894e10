//! Applying a PatchOp to a resource's SCIM JSON, atomically: every operation runs on
//! a copy, and the input is replaced only when all succeed. Semantics follow RFC 7644
//! §3.5.2.1–3, with the IdP leniencies listed in `idp-scim-clients.md` §8.

use serde_json::{Map, Value};

use super::changes::{diff, fix_primary, sync_schemas, Changes};
use super::coerce::{coerce, single};
use super::filtered::filtered;
use super::{OpKind, PatchOp, PatchPath, PatchRequest};
use crate::scim::error::Error;
use crate::scim::json::{get_ci, get_mut_ci, is_empty, key_ci, remove_ci};
use crate::scim::path::AttrPath;
use crate::scim::resource::expand_keys;
use crate::scim::schema::{self, AttrDef, Mutability, ResourceKind};

/// Applies `req` to `resource` (the resource's SCIM JSON, as `to_json` writes it).
/// On error `resource` is untouched. Errors: `noTarget` (a filtered replace matching
/// nothing that cannot be created), `invalidPath`, `invalidValue` (wrong type, removing
/// a required attribute), `mutability` (changing a readOnly attribute).
pub fn apply(
    resource: &mut Value,
    req: &PatchRequest,
    kind: ResourceKind,
) -> Result<Changes, Error> {
    let mut work = resource.clone();
    let root = work
        .as_object_mut()
        .ok_or_else(|| Error::invalid_syntax("the resource is not a JSON object"))?;
    for op in &req.operations {
        apply_op(root, op, kind)?;
    }
    for def in kind.core().attrs.iter().filter(|d| d.required) {
        if get_ci(root, def.name).is_none_or(is_empty) {
            return Err(Error::invalid_value(format!("'{}' is required", def.name)));
        }
    }
    sync_schemas(root, kind);
    let changes = diff(resource, &work, kind);
    *resource = work;
    Ok(changes)
}

/// Where an attribute lives: its extension container (if any) and its definition.
pub(super) struct Target {
    pub(super) ext: Option<String>,
    pub(super) def: Option<&'static AttrDef>,
    pub(super) name: String,
}

fn target(kind: ResourceKind, path: &AttrPath) -> Target {
    match schema::resolve(kind, path) {
        Some(r) => Target {
            ext: r.ext.map(str::to_owned),
            def: Some(r.attr),
            name: r.attr.name.to_owned(),
        },
        None => Target {
            ext: path
                .urn
                .clone()
                .filter(|u| !u.eq_ignore_ascii_case(kind.core().id)),
            def: None,
            name: path.attr.clone(),
        },
    }
}

fn apply_op(root: &mut Map<String, Value>, op: &PatchOp, kind: ResourceKind) -> Result<(), Error> {
    let value = op.value.as_ref().unwrap_or(&Value::Null);
    match &op.path {
        None => {
            let obj = value
                .as_object()
                .ok_or_else(|| Error::invalid_value("'value' must be an object"))?;
            for (k, v) in expand_keys(obj, kind) {
                if k.eq_ignore_ascii_case("schemas") || k.eq_ignore_ascii_case("meta") {
                    continue;
                }
                match (kind.extension(&k), v) {
                    (Some(ext), Value::Object(inner)) => {
                        for (ak, av) in inner {
                            let t = target(
                                kind,
                                &AttrPath {
                                    urn: Some(ext.id.to_owned()),
                                    attr: ak,
                                    sub: None,
                                },
                            );
                            set_attr(root, &t, &av, op.op)?;
                        }
                    }
                    (_, v) => {
                        let t = match AttrPath::parse(&k) {
                            Ok(p) => target(kind, &p),
                            Err(_) => Target {
                                ext: None,
                                def: None,
                                name: k.clone(),
                            },
                        };
                        set_attr(root, &t, &v, op.op)?;
                    }
                }
            }
            Ok(())
        }
        Some(PatchPath::Extension(urn)) => {
            if op.op == OpKind::Remove {
                remove_ci(root, urn);
                return Ok(());
            }
            let obj = value
                .as_object()
                .ok_or_else(|| Error::invalid_value("an extension value must be an object"))?;
            for (ak, av) in obj {
                let t = target(
                    kind,
                    &AttrPath {
                        urn: Some(urn.clone()),
                        attr: ak.clone(),
                        sub: None,
                    },
                );
                set_attr(root, &t, av, op.op)?;
            }
            Ok(())
        }
        Some(PatchPath::Attr(path)) => {
            let t = target(kind, path);
            match (&path.sub, op.op) {
                (None, OpKind::Remove) => remove_attr(root, &t, op.value.as_ref()),
                (None, o) => set_attr(root, &t, value, o),
                (Some(sub), o) => set_sub(
                    root,
                    &t,
                    sub,
                    op.value.as_ref().filter(|_| o != OpKind::Remove),
                ),
            }
        }
        Some(PatchPath::Filtered { attr, filter, sub }) => {
            let t = target(kind, attr);
            filtered(root, kind, &t, filter, sub.as_deref(), op)
        }
    }
}

/// The object holding `t` (the root or an extension object), created on demand.
pub(super) fn container<'a>(
    root: &'a mut Map<String, Value>,
    t: &Target,
    create: bool,
) -> Option<&'a mut Map<String, Value>> {
    let Some(ext) = &t.ext else { return Some(root) };
    if key_ci(root, ext).is_none() {
        if !create {
            return None;
        }
        root.insert(ext.clone(), Value::Object(Map::new()));
    }
    get_mut_ci(root, ext).and_then(Value::as_object_mut)
}

/// Drops an extension object left empty.
pub(super) fn prune(root: &mut Map<String, Value>, t: &Target) {
    if let Some(ext) = &t.ext {
        if get_ci(root, ext).is_some_and(is_empty) {
            remove_ci(root, ext);
        }
    }
}

/// Sets `name` in `o`, replacing a key spelled in another case.
pub(super) fn put(o: &mut Map<String, Value>, name: &str, v: Value) {
    remove_ci(o, name);
    o.insert(name.to_owned(), v);
}

/// readOnly: equal (or both empty) is a no-op, anything else is `mutability`.
/// writeOnly (`password`): ignored, we store no passwords.
fn guard(o: Option<&Map<String, Value>>, t: &Target, v: Option<&Value>) -> Result<bool, Error> {
    match t.def.map(|d| d.mutability) {
        Some(Mutability::WriteOnly) => Ok(false),
        Some(Mutability::ReadOnly) => {
            let cur = o.and_then(|o| get_ci(o, &t.name));
            let same = match (cur, v) {
                (Some(a), Some(b)) => a == b || (is_empty(a) && is_empty(b)),
                (a, b) => a.is_none_or(is_empty) && b.is_none_or(is_empty),
            };
            if same {
                Ok(false)
            } else {
                Err(Error::mutability(format!("'{}' is read-only", t.name)))
            }
        }
        _ => Ok(true),
    }
}

fn set_attr(root: &mut Map<String, Value>, t: &Target, v: &Value, op: OpKind) -> Result<(), Error> {
    let coerced = coerce(t.def, v)?;
    let cur = container(root, t, false).map(|c| &*c);
    if !guard(cur, t, coerced.as_ref())? {
        return Ok(());
    }
    let Some(new) = coerced else {
        if op == OpKind::Replace {
            if let Some(c) = container(root, t, false) {
                remove_ci(c, &t.name);
            }
            prune(root, t);
        }
        return Ok(());
    };
    let multi = t.def.is_some_and(|d| d.multi);
    let c = container(root, t, true).ok_or_else(|| not_object(t))?;
    match (get_mut_ci(c, &t.name), new) {
        (Some(Value::Array(existing)), Value::Array(items)) if multi && op == OpKind::Add => {
            // An element whose `value` is already there is merged, not duplicated
            // (re-adding a member with a `display` must not list it twice).
            for it in items {
                let pos = it
                    .get("value")
                    .and_then(|v| existing.iter().position(|e| e.get("value") == Some(v)));
                match (pos, it) {
                    (Some(i), Value::Object(n)) => {
                        if let Some(e) = existing[i].as_object_mut() {
                            for (k, x) in n {
                                put(e, &k, x);
                            }
                        }
                    }
                    (Some(_), _) => {}
                    (None, it) => {
                        if !existing.contains(&it) {
                            existing.push(it);
                        }
                    }
                }
            }
            fix_primary(existing);
        }
        (Some(Value::Object(existing)), Value::Object(items)) if !multi => {
            for (k, x) in items {
                put(existing, &k, x);
            }
        }
        (_, mut new) => {
            if let Value::Array(a) = &mut new {
                fix_primary(a);
            }
            put(c, &t.name, new);
        }
    }
    Ok(())
}

/// `attr.sub` without a filter: on a complex attribute, or on every element of a
/// multi-valued one. `v = None` removes the sub-attribute.
fn set_sub(
    root: &mut Map<String, Value>,
    t: &Target,
    sub: &str,
    v: Option<&Value>,
) -> Result<(), Error> {
    let sub_def = t.def.and_then(|d| d.sub_attr(sub));
    if sub_def.is_some_and(|d| d.mutability == Mutability::ReadOnly) {
        return Err(Error::mutability(format!(
            "'{}.{sub}' is read-only",
            t.name
        )));
    }
    let sub_name = sub_def.map_or(sub, |d| d.name);
    let coerced = match (sub_def, v) {
        (_, None) => None,
        (Some(d), Some(v)) => single(d, v)?,
        (None, Some(v)) => coerce(None, v)?,
    };
    let multi = t.def.is_some_and(|d| d.multi);
    let Some(c) = container(root, t, coerced.is_some()) else {
        return Ok(());
    };
    let slot = match (key_ci(c, &t.name), &coerced) {
        (Some(k), _) => c.get_mut(&k).ok_or_else(Error::internal)?,
        (None, None) => return Ok(()),
        (None, Some(_)) => {
            let fresh = if multi {
                Value::Array(vec![Value::Object(Map::new())])
            } else {
                Value::Object(Map::new())
            };
            c.insert(t.name.clone(), fresh);
            c.get_mut(&t.name).ok_or_else(Error::internal)?
        }
    };
    let targets: Vec<&mut Map<String, Value>> = match slot {
        Value::Array(a) => a.iter_mut().filter_map(Value::as_object_mut).collect(),
        Value::Object(o) => vec![o],
        _ => {
            return Err(Error::invalid_path(format!(
                "'{}' has no sub-attributes",
                t.name
            )))
        }
    };
    for o in targets {
        match &coerced {
            Some(x) => put(o, sub_name, x.clone()),
            None => {
                remove_ci(o, sub_name);
            }
        }
    }
    if is_empty(slot) {
        remove_ci(c, &t.name);
    }
    prune(root, t);
    Ok(())
}

fn remove_attr(
    root: &mut Map<String, Value>,
    t: &Target,
    listed: Option<&Value>,
) -> Result<(), Error> {
    if let Some(d) = t.def {
        if d.required {
            return Err(Error::invalid_value(format!(
                "'{}' is required and cannot be removed",
                d.name
            )));
        }
        if d.mutability == Mutability::ReadOnly {
            return Err(Error::mutability(format!("'{}' is read-only", d.name)));
        }
    }
    let Some(c) = container(root, t, false) else {
        return Ok(());
    };
    match (get_mut_ci(c, &t.name), listed.filter(|v| !v.is_null())) {
        // Entra: remove only the listed values (by `value` when given).
        (Some(Value::Array(arr)), Some(listed)) => {
            let items: Vec<&Value> = match listed {
                Value::Array(a) => a.iter().collect(),
                v => vec![v],
            };
            arr.retain(|el| !items.iter().any(|it| same_value(el, it)));
            if arr.is_empty() {
                remove_ci(c, &t.name);
            }
        }
        _ => {
            remove_ci(c, &t.name);
        }
    }
    prune(root, t);
    Ok(())
}

fn same_value(el: &Value, item: &Value) -> bool {
    let v = |x: &Value| x.as_object().and_then(|o| get_ci(o, "value")).cloned();
    match (v(el), v(item)) {
        (Some(a), Some(b)) => a == b,
        _ => el == item,
    }
}

/// The extension holding `t` exists but is not an object.
pub(super) fn not_object(t: &Target) -> Error {
    Error::invalid_value(format!(
        "the extension holding '{}' is not an object",
        t.name
    ))
}
