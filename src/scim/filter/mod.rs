//! SCIM filters (RFC 7644 §3.4.2.2): the AST, the parser entry point, and helpers
//! that let the DataHub side recognise filters it can answer with key lookups.
//! Lexing, parsing, printing and evaluation live in the submodules.

pub(crate) mod eval;
mod lexer;
mod parser;
mod print;

#[cfg(test)]
mod tests;

use serde_json::Number;

use super::error::Error;
pub use super::path::AttrPath;
pub use eval::fold as fold_case;

/// Longest filter we parse, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// Deepest nesting of parentheses, `not` and value-path brackets we parse.
pub const MAX_FILTER_DEPTH: usize = 32;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The lower-case keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// The operator for a keyword, case-insensitive.
    pub fn from_keyword(s: &str) -> Option<Self> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(s))
    }
}

/// A comparison literal.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Str(String),
    Num(Number),
    Bool(bool),
    Null,
}

impl CompValue {
    /// The string, for `Str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            CompValue::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// A parsed filter. Paths inside a `ValuePath` filter are relative to the multi-valued
/// attribute (`emails[type eq "work"]` holds `type eq "work"`).
///
/// Entra's `emails[type eq "work"].value eq "x"` is normalised into
/// `emails[type eq "work" and value eq "x"]`, which has the same meaning (one email
/// that is both work and `x`).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`.
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    /// `path pr`.
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `path[filter]`.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// Parses a filter. Failures are `400 invalidFilter` with the byte position.
pub fn parse(input: &str) -> Result<Filter, Error> {
    parser::parse(input)
}

// === impl Filter ===

impl Filter {
    /// `path eq "value"` for a top-level attribute or a sub-attribute, when the filter
    /// is exactly that: the shape DataHub can answer by key (`userName eq "x"`,
    /// `externalId eq "x"`, `displayName eq "x"`, `id eq "x"`). Compare the path with
    /// [`AttrPath::is`], which ignores case and the core-schema URN.
    pub fn as_simple_eq(&self) -> Option<(&AttrPath, &str)> {
        match self {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: CompValue::Str(s),
            } => Some((path, s)),
            _ => None,
        }
    }

    /// Whether any attribute the filter names exists for `kind` (in its core schema,
    /// an extension of it, or the common attributes). Paths inside a value filter
    /// are relative to their attribute and are not looked at.
    pub fn names_attribute_of(&self, kind: super::schema::ResourceKind) -> bool {
        match self {
            Filter::Compare { path, .. }
            | Filter::Present(path)
            | Filter::ValuePath { path, .. } => super::schema::resolve(kind, path).is_some(),
            Filter::And(l, r) | Filter::Or(l, r) => {
                l.names_attribute_of(kind) || r.names_attribute_of(kind)
            }
            Filter::Not(f) => f.names_attribute_of(kind),
        }
    }

    /// When the filter is a conjunction (`and` tree) of string `eq` comparisons,
    /// the comparisons in order, with value-path terms flattened to sub-attribute
    /// paths: `emails[type eq "work"].value eq "x"` gives `emails.type = work` and
    /// `emails.value = x`. The flattening forgets that both must hold for the same
    /// email; that is harmless when the other side keeps one email per user, and a
    /// caller that needs the exact meaning re-checks candidates with [`Filter::matches`].
    /// `None` when any term is something else (`or`, `not`, another operator).
    pub fn eq_conjunction(&self) -> Option<Vec<(AttrPath, &str)>> {
        let mut out = Vec::new();
        collect_eqs(self, None, &mut out)?;
        Some(out)
    }
}

fn collect_eqs<'a>(
    f: &'a Filter,
    parent: Option<&AttrPath>,
    out: &mut Vec<(AttrPath, &'a str)>,
) -> Option<()> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(s),
        } => {
            let p = match parent {
                None => path.clone(),
                Some(parent) if path.urn.is_none() && path.sub.is_none() => AttrPath {
                    urn: parent.urn.clone(),
                    attr: parent.attr.clone(),
                    sub: Some(path.attr.clone()),
                },
                Some(_) => return None,
            };
            out.push((p, s.as_str()));
            Some(())
        }
        Filter::And(l, r) => {
            collect_eqs(l, parent, out)?;
            collect_eqs(r, parent, out)
        }
        Filter::ValuePath { path, filter } if parent.is_none() => {
            collect_eqs(filter, Some(path), out)
        }
        _ => None,
    }
}
