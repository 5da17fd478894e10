//! Projection (RFC 7644 §3.4.2.5): `attributes` keeps only what is asked (plus what is
//! always returned: `id`, `schemas`, attributes with `returned: always`);
//! `excludedAttributes` drops what is named. Sub-attribute and URN-qualified paths
//! work; naming an extension URN selects the whole extension.

use serde_json::{Map, Value};

use super::query::pairs;
use crate::scim::error::Error;
use crate::scim::json::key_ci;
use crate::scim::path::AttrPath;
use crate::scim::schema::{self, ResourceKind, Returned};

/// `attributes` / `excludedAttributes` alone, for `GET /Users/{id}`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded_attributes: Vec<AttrPath>,
}

impl Projection {
    /// Reads `attributes` and `excludedAttributes` from a query string, ignoring the rest.
    pub fn from_query_string(qs: &str) -> Result<Projection, Error> {
        let mut p = Projection::default();
        for (k, v) in pairs(qs)? {
            if k.eq_ignore_ascii_case("attributes") {
                p.attributes = parse_paths(&v)?;
            } else if k.eq_ignore_ascii_case("excludedAttributes") {
                p.excluded_attributes = parse_paths(&v)?;
            }
        }
        Ok(p)
    }

    /// Applies the projection to a resource's JSON.
    pub fn apply(&self, resource: &mut Value, kind: ResourceKind) {
        project(resource, &self.attributes, &self.excluded_attributes, kind)
    }

    /// Whether `attr` (a top-level attribute name) will be dropped, so the caller can
    /// skip loading it (`excludedAttributes=members`).
    pub fn excludes(&self, attr: &str, kind: ResourceKind) -> bool {
        let named = |p: &AttrPath| p.sub.is_none() && p.is(kind, attr);
        if !self.attributes.is_empty() && !self.attributes.iter().any(|p| p.parent().is(kind, attr))
        {
            return !always(attr, kind);
        }
        self.excluded_attributes.iter().any(named) && !always(attr, kind)
    }
}

/// A comma-separated list of attribute paths.
pub(crate) fn parse_paths(s: &str) -> Result<Vec<AttrPath>, Error> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(AttrPath::parse)
        .collect()
}

fn always(key: &str, kind: ResourceKind) -> bool {
    key.eq_ignore_ascii_case("id")
        || key.eq_ignore_ascii_case("schemas")
        || schema::resolve(kind, &AttrPath::new(key))
            .is_some_and(|r| r.attr.returned == Returned::Always)
}

/// The extension a path names as a whole (`urn:…:enterprise:2.0:User`), if any.
fn whole_extension(p: &AttrPath, kind: ResourceKind) -> Option<&'static str> {
    let urn = p.urn.as_ref()?;
    if p.sub.is_some() {
        return None;
    }
    kind.extension(&format!("{urn}:{}", p.attr)).map(|s| s.id)
}

/// The container key (`None` = root) a path's attribute lives in.
fn container_of(p: &AttrPath, kind: ResourceKind) -> Option<String> {
    match &p.urn {
        Some(u) if !u.eq_ignore_ascii_case(kind.core().id) => {
            Some(kind.extension(u).map_or(u.clone(), |s| s.id.to_owned()))
        }
        _ => None,
    }
}

/// Applies `attributes` then `excludedAttributes` to `resource`.
pub fn project(
    resource: &mut Value,
    attributes: &[AttrPath],
    excluded: &[AttrPath],
    kind: ResourceKind,
) {
    let Some(o) = resource.as_object_mut() else {
        return;
    };
    // Never returned, whatever was asked.
    for d in kind
        .core()
        .attrs
        .iter()
        .filter(|d| d.returned == Returned::Never)
    {
        if let Some(k) = key_ci(o, d.name) {
            o.shift_remove(&k);
        }
    }
    if !attributes.is_empty() {
        let old = std::mem::take(o);
        for (k, v) in old {
            if always(&k, kind) {
                o.insert(k, v);
                continue;
            }
            let is_ext = k.to_ascii_lowercase().starts_with("urn:");
            let kept = if is_ext {
                if attributes
                    .iter()
                    .any(|p| whole_extension(p, kind).is_some_and(|e| e.eq_ignore_ascii_case(&k)))
                {
                    Some(v)
                } else {
                    let wanted: Vec<&AttrPath> = attributes
                        .iter()
                        .filter(|p| {
                            container_of(p, kind).is_some_and(|c| c.eq_ignore_ascii_case(&k))
                        })
                        .collect();
                    select(v, &wanted)
                }
            } else {
                let wanted: Vec<&AttrPath> = attributes
                    .iter()
                    .filter(|p| container_of(p, kind).is_none() && p.attr.eq_ignore_ascii_case(&k))
                    .collect();
                if wanted.is_empty() {
                    None
                } else if wanted.iter().any(|p| p.sub.is_none()) {
                    Some(v)
                } else {
                    Some(keep_subs(v, &wanted))
                }
            };
            if let Some(v) = kept {
                o.insert(k, v);
            }
        }
    }
    for p in excluded {
        if let Some(ext) = whole_extension(p, kind) {
            if let Some(k) = key_ci(o, ext) {
                o.shift_remove(&k);
            }
            continue;
        }
        let slot = match container_of(p, kind) {
            None => Some(&mut *o),
            Some(c) => key_ci(o, &c)
                .and_then(|k| o.get_mut(&k))
                .and_then(Value::as_object_mut),
        };
        let Some(slot) = slot else { continue };
        if container_of(p, kind).is_none() && always(&p.attr, kind) {
            continue;
        }
        let Some(k) = key_ci(slot, &p.attr) else {
            continue;
        };
        match &p.sub {
            None => {
                slot.shift_remove(&k);
            }
            Some(sub) => {
                if let Some(v) = slot.get_mut(&k) {
                    drop_sub(v, sub);
                }
            }
        }
    }
}

/// From an extension object, the attributes `wanted` names.
fn select(v: Value, wanted: &[&AttrPath]) -> Option<Value> {
    let Value::Object(m) = v else { return None };
    let mut out = Map::new();
    for (k, x) in m {
        let w: Vec<&AttrPath> = wanted
            .iter()
            .copied()
            .filter(|p| p.attr.eq_ignore_ascii_case(&k))
            .collect();
        if w.is_empty() {
            continue;
        }
        let x = if w.iter().any(|p| p.sub.is_none()) {
            x
        } else {
            keep_subs(x, &w)
        };
        out.insert(k, x);
    }
    if out.is_empty() {
        None
    } else {
        Some(Value::Object(out))
    }
}

/// Keeps only the named sub-attributes of a complex value (or of each element).
fn keep_subs(v: Value, wanted: &[&AttrPath]) -> Value {
    let keep = |m: Map<String, Value>| -> Map<String, Value> {
        m.into_iter()
            .filter(|(k, _)| {
                wanted
                    .iter()
                    .any(|p| p.sub.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(k)))
            })
            .collect()
    };
    match v {
        Value::Object(m) => Value::Object(keep(m)),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|e| match e {
                    Value::Object(m) => Value::Object(keep(m)),
                    e => e,
                })
                .collect(),
        ),
        v => v,
    }
}

fn drop_sub(v: &mut Value, sub: &str) {
    let drop = |m: &mut Map<String, Value>| {
        if let Some(k) = key_ci(m, sub) {
            m.shift_remove(&k);
        }
    };
    match v {
        Value::Object(m) => drop(m),
        Value::Array(a) => a.iter_mut().filter_map(Value::as_object_mut).for_each(drop),
        _ => {}
    }
}
