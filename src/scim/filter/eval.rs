//! The evaluator: does a filter match the SCIM JSON of a resource? Case-exactness and
//! types come from the schema table; multi-valued attributes match when any value
//! matches (RFC 7644 §3.4.2.2), and a complex multi-valued attribute without a
//! sub-attribute compares its `value` sub-attribute (`emails co "@x.com"`).
//! `ne` is the negation of `eq` (an absent attribute is "not equal"); `eq null`
//! matches an absent attribute; values of another JSON type never match.

use std::cmp::Ordering;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{AttrPath, CompValue, CompareOp, Filter};
use crate::scim::error::Error;
use crate::scim::json::get_ci;
use crate::scim::schema::{self, AttrDef, AttrType, ResourceKind};

/// Where paths are looked up: the resource root, or one element of a multi-valued
/// complex attribute inside `attr[...]`.
#[derive(Clone, Copy)]
enum Scope {
    Root,
    Element(Option<&'static AttrDef>),
}

impl Filter {
    /// Whether `resource` (its SCIM JSON) matches this filter.
    pub fn matches(&self, resource: &Value, kind: ResourceKind) -> bool {
        eval(self, resource, kind, Scope::Root)
    }

    /// Whether one element of a multi-valued attribute matches a value-path filter
    /// (`type eq "work"` against one email); `parent` is the attribute's definition.
    pub(crate) fn matches_element(
        &self,
        element: &Value,
        kind: ResourceKind,
        parent: Option<&'static AttrDef>,
    ) -> bool {
        eval(self, element, kind, Scope::Element(parent))
    }

    /// Rejects filters the RFC says must fail even when well-formed: ordering
    /// operators (`gt ge lt le`) on boolean attributes (RFC 7644 §3.4.2.2), and a
    /// value of the wrong type for an attribute of `kind` (`active eq "yes"`,
    /// `meta.lastModified gt "garbage"`, `emails[primary eq "x"]`): a boolean takes
    /// `true`/`false`, a number a number, a dateTime an RFC 3339 timestamp (any string
    /// for `co`, `sw`, `ew`); `null` fits every type. Attributes the schema does not
    /// know are not checked.
    pub fn validate(&self, kind: ResourceKind) -> Result<(), Error> {
        validate(self, kind, None)
    }
}

/// Whether a filter literal fits an attribute of type `ty` under `op`.
fn literal_fits(ty: AttrType, op: CompareOp, value: &CompValue) -> bool {
    match (ty, value) {
        (_, CompValue::Null) => true,
        (AttrType::Boolean, v) => matches!(v, CompValue::Bool(_)),
        (AttrType::Integer | AttrType::Decimal, v) => matches!(v, CompValue::Num(_)),
        (AttrType::DateTime, CompValue::Str(s)) => {
            matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
                || OffsetDateTime::parse(s, &Rfc3339).is_ok()
        }
        (AttrType::DateTime, _) => false,
        _ => true,
    }
}

fn validate(f: &Filter, kind: ResourceKind, parent: Option<&AttrPath>) -> Result<(), Error> {
    match f {
        Filter::Compare { path, op, value } => {
            let full = match parent {
                Some(p) => AttrPath {
                    sub: Some(path.attr.clone()),
                    ..p.clone()
                },
                None => path.clone(),
            };
            let leaf = schema::resolve(kind, &full).map(|r| {
                let l = r.leaf();
                // A complex attribute without a sub-attribute compares its `value`.
                if l.ty == AttrType::Complex {
                    l.sub_attr("value").unwrap_or(l)
                } else {
                    l
                }
            });
            if let Some(def) = leaf.filter(|d| !literal_fits(d.ty, *op, value)) {
                return Err(Error::invalid_filter(format!(
                    "'{full}' is a {} attribute; the value compared with it is not one",
                    def.ty.as_str()
                )));
            }
            let boolean = leaf.is_some_and(|d| d.ty == AttrType::Boolean);
            let ordering = matches!(
                op,
                CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
            );
            if boolean && ordering {
                return Err(Error::invalid_filter(format!(
                    "'{}' cannot be used on the boolean attribute '{full}'",
                    op.as_str()
                )));
            }
            Ok(())
        }
        Filter::Present(_) => Ok(()),
        Filter::And(l, r) | Filter::Or(l, r) => {
            validate(l, kind, parent)?;
            validate(r, kind, parent)
        }
        Filter::Not(inner) => validate(inner, kind, parent),
        Filter::ValuePath { path, filter } => validate(filter, kind, Some(path)),
    }
}

fn eval(f: &Filter, node: &Value, kind: ResourceKind, scope: Scope) -> bool {
    match f {
        Filter::And(l, r) => eval(l, node, kind, scope) && eval(r, node, kind, scope),
        Filter::Or(l, r) => eval(l, node, kind, scope) || eval(r, node, kind, scope),
        Filter::Not(inner) => !eval(inner, node, kind, scope),
        Filter::Present(path) => {
            let (raw, _) = lookup(node, path, kind, scope);
            raw.into_iter().any(present)
        }
        Filter::Compare { path, op, value } => {
            let (raw, def) = lookup(node, path, kind, scope);
            let mut vals: Vec<&Value> = Vec::new();
            for v in raw {
                match v {
                    Value::Object(o) if path.sub.is_none() => vals.extend(get_ci(o, "value")),
                    v => vals.push(v),
                }
            }
            let def = match def {
                Some(d) if d.ty == AttrType::Complex => d.sub_attr("value"),
                d => d,
            };
            let exact = def.is_some_and(|d| d.case_exact);
            let date = def.is_some_and(|d| d.ty == AttrType::DateTime);
            let any_eq = |op| vals.iter().any(|v| compare(v, op, value, exact, date));
            match op {
                CompareOp::Ne => !any_eq(CompareOp::Eq),
                CompareOp::Eq if *value == CompValue::Null => vals.iter().all(|v| !present(v)),
                op => any_eq(*op),
            }
        }
        Filter::ValuePath { path, filter } => {
            if matches!(scope, Scope::Element(_)) {
                return false;
            }
            let (raw, def) = lookup(node, path, kind, scope);
            let inner = Scope::Element(def);
            raw.into_iter().any(|el| eval(filter, el, kind, inner))
        }
    }
}

/// The values a path reaches, flattened over arrays, and the schema definition of
/// what they are (if known).
fn lookup<'v>(
    node: &'v Value,
    path: &AttrPath,
    kind: ResourceKind,
    scope: Scope,
) -> (Vec<&'v Value>, Option<&'static AttrDef>) {
    let (top, def) = match scope {
        Scope::Root => {
            let resolved = schema::resolve(kind, path);
            let container = match (&path.urn, resolved.and_then(|r| r.ext)) {
                (_, Some(ext)) => node.as_object().and_then(|o| get_ci(o, ext)),
                (Some(urn), None) if !urn.eq_ignore_ascii_case(kind.core().id) => {
                    node.as_object().and_then(|o| get_ci(o, urn))
                }
                _ => Some(node),
            };
            let top = container
                .and_then(Value::as_object)
                .and_then(|o| get_ci(o, &path.attr));
            (top, resolved.map(|r| r.leaf()))
        }
        Scope::Element(parent) => {
            let top = node.as_object().and_then(|o| get_ci(o, &path.attr));
            (top, parent.and_then(|p| p.sub_attr(&path.attr)))
        }
    };
    let mut out = Vec::new();
    let Some(top) = top else { return (out, def) };
    let items: Vec<&Value> = match top {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    match (&path.sub, scope) {
        (Some(sub), Scope::Root) => {
            for it in items {
                if let Some(v) = it.as_object().and_then(|o| get_ci(o, sub)) {
                    match v {
                        Value::Array(a) => out.extend(a.iter()),
                        v => out.push(v),
                    }
                }
            }
        }
        _ => out = items,
    }
    (out, def)
}

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(present),
        Value::Object(o) => o.values().any(present),
        _ => true,
    }
}

fn compare(v: &Value, op: CompareOp, lit: &CompValue, exact: bool, date: bool) -> bool {
    match (v, lit) {
        (Value::String(a), CompValue::Str(b)) => {
            if date && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                if let (Ok(x), Ok(y)) = (
                    OffsetDateTime::parse(a, &Rfc3339),
                    OffsetDateTime::parse(b, &Rfc3339),
                ) {
                    return ordered(x.cmp(&y), op);
                }
            }
            let (a, b) = if exact {
                (a.clone(), b.clone())
            } else {
                (fold(a), fold(b))
            };
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                op => ordered(a.cmp(&b), op),
            }
        }
        (Value::Number(a), CompValue::Num(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| ordered(o, op)),
            _ => false,
        },
        (Value::Bool(a), CompValue::Bool(b)) => op == CompareOp::Eq && a == b,
        // Entra writes booleans as strings in PATCH paths (`roles[primary eq "True"]`),
        // and lists stored as sent may hold `"primary": "True"`: compare them as the
        // booleans they stand for. (List filters never get here: `validate` refuses a
        // string compared with a boolean attribute.)
        (Value::Bool(a), CompValue::Str(b)) => {
            op == CompareOp::Eq && bool_text(b).is_some_and(|b| *a == b)
        }
        (Value::String(a), CompValue::Bool(b)) => {
            op == CompareOp::Eq && bool_text(a).is_some_and(|a| a == *b)
        }
        _ => false,
    }
}

/// `"true"` / `"false"` in any case, as a boolean.
pub(crate) fn bool_text(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Case folding for case-insensitive attributes: upper-casing then lower-casing, the
/// closest `char` gets to Unicode full case folding (`ß`, `ẞ` and `SS` agree).
pub fn fold(s: &str) -> String {
    s.to_uppercase().to_lowercase()
}

fn ordered(o: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => o == Ordering::Equal,
        CompareOp::Gt => o == Ordering::Greater,
        CompareOp::Ge => o != Ordering::Less,
        CompareOp::Lt => o == Ordering::Less,
        CompareOp::Le => o != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
