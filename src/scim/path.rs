//! Attribute paths (RFC 7644 §3.10): `attr`, `attr.sub`, and the URN-qualified forms
//! `urn:…:User:userName`, `urn:…:enterprise:2.0:User:manager.value`. Names keep the
//! client's spelling; comparisons fold case (attribute names are case-insensitive).

use std::fmt;

use super::error::Error;
use super::schema::{self, ResourceKind};

/// An attribute path: optional schema URN, attribute, optional sub-attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, as written (e.g. the enterprise extension).
    pub urn: Option<String>,
    /// The top-level attribute name.
    pub attr: String,
    /// The sub-attribute name (`name.familyName` → `familyName`).
    pub sub: Option<String>,
}

/// Whether `s` is an ATTRNAME (RFC 7643 §2.1: ALPHA *(nameChar)) or `$ref`.
pub fn valid_name(s: &str) -> bool {
    if s == "$ref" {
        return true;
    }
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl AttrPath {
    /// A path to a top-level core attribute.
    pub fn new(attr: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            attr: attr.into(),
            sub: None,
        }
    }

    /// A path to a sub-attribute of a top-level core attribute.
    pub fn with_sub(attr: impl Into<String>, sub: impl Into<String>) -> Self {
        AttrPath {
            urn: None,
            attr: attr.into(),
            sub: Some(sub.into()),
        }
    }

    /// Parses `[urn:…:]attr[.sub]`. Errors are `invalidPath`; callers that parse a
    /// filter re-map them to `invalidFilter`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = || Error::invalid_path(format!("invalid attribute path '{}'", truncate(s)));
        let (urn, rest) = if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
            let i = s.rfind(':').ok_or_else(bad)?;
            (Some(s[..i].to_owned()), &s[i + 1..])
        } else {
            (None, s)
        };
        let (attr, sub) = match rest.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        if !valid_name(attr) || sub.is_some_and(|b| !valid_name(b)) {
            return Err(bad());
        }
        Ok(AttrPath {
            urn,
            attr: attr.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }

    /// The same path with the URN dropped when it is `kind`'s core schema and names
    /// spelled as in the schema table (unknown names are kept as written).
    pub fn canonical(&self, kind: ResourceKind) -> AttrPath {
        match schema::resolve(kind, self) {
            Some(r) => AttrPath {
                urn: r.ext.map(str::to_owned),
                attr: r.attr.name.to_owned(),
                sub: match (&self.sub, r.sub) {
                    (_, Some(d)) => Some(d.name.to_owned()),
                    (s, None) => s.clone(),
                },
            },
            None => self.clone(),
        }
    }

    /// Whether this path names `other` (a path in text form, e.g. `"userName"`,
    /// `"emails.value"`, `"urn:…:enterprise:2.0:User:department"`), ignoring case and a
    /// core-schema URN prefix.
    pub fn is(&self, kind: ResourceKind, other: &str) -> bool {
        match AttrPath::parse(other) {
            Ok(o) => self.same(&o, kind),
            Err(_) => false,
        }
    }

    /// Equality ignoring case and a redundant core-schema URN.
    pub fn same(&self, other: &AttrPath, kind: ResourceKind) -> bool {
        let (x, y) = (self.canonical(kind), other.canonical(kind));
        let eq = |p: &Option<String>, q: &Option<String>| match (p, q) {
            (None, None) => true,
            (Some(p), Some(q)) => p.eq_ignore_ascii_case(q),
            _ => false,
        };
        eq(&x.urn, &y.urn) && x.attr.eq_ignore_ascii_case(&y.attr) && eq(&x.sub, &y.sub)
    }

    /// The path without its sub-attribute.
    pub fn parent(&self) -> AttrPath {
        AttrPath {
            urn: self.urn.clone(),
            attr: self.attr.clone(),
            sub: None,
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// At most 64 characters of client input, for error details.
pub(crate) fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn parses_simple_sub_and_urn_paths() {
        assert_eq!(
            AttrPath::parse("userName").unwrap(),
            AttrPath::new("userName")
        );
        assert_eq!(
            AttrPath::parse("name.familyName").unwrap(),
            AttrPath::with_sub("name", "familyName")
        );
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(p.urn.as_deref(), Some(schema::ENTERPRISE_URN));
        assert_eq!(
            (p.attr.as_str(), p.sub.as_deref()),
            ("manager", Some("value"))
        );
        assert_eq!(
            p.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        );
        assert!(AttrPath::parse("members.$ref").is_ok());
        // Regression (patch_parse fuzzer): a multi-byte character across byte 4.
        for bad in [
            "", "1abc", "a..b", "a.b.c", "na me", "urn:x:", "a.", "namƑ.x", "urnƑ",
        ] {
            assert!(AttrPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn same_ignores_case_and_core_urn() {
        let p = AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:USERNAME").unwrap();
        assert!(p.is(ResourceKind::User, "userName"));
        assert!(!p.is(ResourceKind::User, "displayName"));
        assert_eq!(p.canonical(ResourceKind::User), AttrPath::new("userName"));
        let e = AttrPath::parse("EMAILS.Value").unwrap();
        assert!(e.is(ResourceKind::User, "emails.value"));
    }
}
