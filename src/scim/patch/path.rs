//! PATCH paths (RFC 7644 §3.5.2 `PATH = attrPath / valuePath [subAttr]`), plus the
//! whole-extension form some clients send (`"path": "urn:…:enterprise:2.0:User"`).

use std::fmt;

use crate::scim::error::Error;
use crate::scim::filter::{self, Filter};
use crate::scim::path::{truncate, AttrPath};
use crate::scim::schema::{ENTERPRISE_URN, GROUP_URN, USER_URN};

/// The target of an operation.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    /// `attr`, `attr.sub`, URN-qualified.
    Attr(AttrPath),
    /// `attr[filter]` or `attr[filter].sub`; filter paths are relative to `attr`.
    Filtered {
        attr: AttrPath,
        filter: Filter,
        sub: Option<String>,
    },
    /// A whole schema extension, by URN.
    Extension(String),
}

impl PatchPath {
    /// Parses a path; failures are `400 invalidPath`.
    pub fn parse(s: &str) -> Result<PatchPath, Error> {
        let s = s.trim();
        if s.len() > filter::MAX_FILTER_LEN {
            return Err(Error::invalid_path("path too long"));
        }
        if s.eq_ignore_ascii_case(ENTERPRISE_URN) {
            return Ok(PatchPath::Extension(ENTERPRISE_URN.to_owned()));
        }
        if s.eq_ignore_ascii_case(USER_URN) || s.eq_ignore_ascii_case(GROUP_URN) {
            return Err(Error::invalid_path(
                "a path cannot name the core schema alone",
            ));
        }
        let Some(open) = s.find('[') else {
            return Ok(PatchPath::Attr(AttrPath::parse(s)?));
        };
        let close = s.rfind(']').filter(|c| *c > open).ok_or_else(|| {
            Error::invalid_path(format!("unbalanced '[' in path '{}'", truncate(s)))
        })?;
        let attr = AttrPath::parse(&s[..open])?;
        if attr.sub.is_some() {
            return Err(Error::invalid_path(
                "a value filter must follow a top-level attribute",
            ));
        }
        let filter = filter::parse(&s[open + 1..close])
            .map_err(|e| Error::invalid_path(format!("invalid value filter: {}", e.detail)))?;
        let rest = &s[close + 1..];
        let sub = match rest.strip_prefix('.') {
            None if rest.is_empty() => None,
            Some(name) if crate::scim::path::valid_name(name) => Some(name.to_owned()),
            _ => {
                return Err(Error::invalid_path(format!(
                    "invalid path '{}'",
                    truncate(s)
                )))
            }
        };
        Ok(PatchPath::Filtered { attr, filter, sub })
    }

    /// The attribute the path is rooted at (`None` for a whole extension).
    pub fn attr(&self) -> Option<&AttrPath> {
        match self {
            PatchPath::Attr(a) | PatchPath::Filtered { attr: a, .. } => Some(a),
            PatchPath::Extension(_) => None,
        }
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatchPath::Attr(a) => write!(f, "{a}"),
            PatchPath::Filtered { attr, filter, sub } => {
                write!(f, "{attr}[{filter}]")?;
                if let Some(s) = sub {
                    write!(f, ".{s}")?;
                }
                Ok(())
            }
            PatchPath::Extension(u) => f.write_str(u),
        }
    }
}
