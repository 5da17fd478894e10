//! Applying a PatchOp to a resource's SCIM JSON, atomically: every operation runs on
//! a copy, and the input is replaced only when all succeed. Semantics follow RFC 7644
//! §3.5.2.1–3, with the IdP leniencies listed in `idp-scim-clients.md` §8.

use serde_json::{Map, Value};

use super::coerce::{coerce, single};
use super::{OpKind, PatchOp, PatchPath, PatchRequest};
use crate::scim::error::Error;
use crate::scim::filter::Filter;
use crate::scim::json::{get_ci, get_mut_ci, is_empty, key_ci, remove_ci};
use crate::scim::path::AttrPath;
use crate::scim::resource::expand_keys;
use crate::scim::schema::{self, AttrDef, Mutability, ResourceKind};

/// What a PatchOp changed, so the caller writes only that.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Whether the resource differs from before.
    pub changed: bool,
    /// Changed top-level attributes by canonical name (`"name"`, `"active"`, …);
    /// extension attributes as `"<extension urn>:<attr>"`.
    pub attributes: Vec<String>,
}

impl Changes {
    /// Whether `name` (a top-level attribute, or `urn:…:attr`) changed; case-insensitive.
    pub fn touched(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

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
    let changes = diff(resource, &work, kind);
    *resource = work;
    Ok(changes)
}

/// Where an attribute lives: its extension container (if any) and its definition.
struct Target {
    ext: Option<String>,
    def: Option<&'static AttrDef>,
    name: String,
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
fn container<'a>(
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
fn prune(root: &mut Map<String, Value>, t: &Target) {
    if let Some(ext) = &t.ext {
        if get_ci(root, ext).is_some_and(is_empty) {
            remove_ci(root, ext);
        }
    }
}

/// Sets `name` in `o`, replacing a key spelled in another case.
fn put(o: &mut Map<String, Value>, name: &str, v: Value) {
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
    let c = container(root, t, true).ok_or_else(Error::internal)?;
    match (get_mut_ci(c, &t.name), new) {
        (Some(Value::Array(existing)), Value::Array(items)) if multi && op == OpKind::Add => {
            for it in items {
                if !existing.contains(&it) {
                    existing.push(it);
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

/// `attr[filter]` and `attr[filter].sub`.
fn filtered(
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
    match (op.op, &sub_name, value) {
        (OpKind::Remove, None, _) => {
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
        let name = t
            .def
            .and_then(|d| d.sub_attr(&p.attr))
            .map_or(p.attr.clone(), |d| d.name.to_owned());
        el.insert(name, Value::String(v.to_owned()));
    }
    Ok(el)
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

/// At most one `primary: true` per attribute (RFC 7643 §2.4): the last one wins.
fn fix_primary(arr: &mut [Value]) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    if let Some(last) = arr.iter().rposition(is_primary) {
        for (i, el) in arr.iter_mut().enumerate() {
            if i != last && is_primary(el) {
                if let Some(o) = el.as_object_mut() {
                    o.insert("primary".into(), Value::Bool(false));
                }
            }
        }
    }
}

fn diff(before: &Value, after: &Value, kind: ResourceKind) -> Changes {
    let empty = Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let mut attrs: Vec<String> = Vec::new();
    let keys = b.keys().chain(a.keys().filter(|k| !b.contains_key(*k)));
    for k in keys {
        if k == "meta" {
            continue;
        }
        let (x, y) = (b.get(k), a.get(k));
        if x == y {
            continue;
        }
        match (kind.extension(k), x, y) {
            (Some(ext), x, y) => {
                let (xo, yo) = (
                    x.and_then(Value::as_object).unwrap_or(&empty),
                    y.and_then(Value::as_object).unwrap_or(&empty),
                );
                for sk in xo
                    .keys()
                    .chain(yo.keys().filter(|sk| !xo.contains_key(*sk)))
                {
                    if xo.get(sk) != yo.get(sk) {
                        attrs.push(format!("{}:{sk}", ext.id));
                    }
                }
            }
            _ => attrs.push(k.clone()),
        }
    }
    Changes {
        changed: !attrs.is_empty(),
        attributes: attrs,
    }
}
