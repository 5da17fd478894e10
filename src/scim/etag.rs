//! Resource versions (RFC 7644 §3.14): entity tags, the `If-Match` / `If-None-Match`
//! preconditions a request carries, and how they are judged against a resource's
//! current version. Pure: the caller says what the current version is.
//!
//! Comparison is **weak** for both headers (`W/"a"` matches `"a"` and `W/"a"`): our
//! versions are weak tags, and RFC 7644 §3.14's own examples send `If-Match:
//! W/"e180ee84f0671b1"` on PUT and PATCH, which RFC 7232's strong comparison would never
//! let match. Headers are read leniently (an unquoted tag is taken as it is), so a
//! client's slip does not turn into a 400.

use super::error::Error;

/// One parsed `If-Match` / `If-None-Match` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagList {
    /// `*`: any current version.
    Any,
    /// The listed tags, opaque part only (without `W/` and quotes).
    Tags(Vec<String>),
}

impl TagList {
    /// Parses a header value: `*`, or a comma-separated list of entity tags. Empty
    /// items are skipped; `None` when nothing is left.
    pub fn parse(value: &str) -> Option<TagList> {
        if value.trim() == "*" {
            return Some(TagList::Any);
        }
        let mut tags = Vec::new();
        let mut rest = value.trim();
        while !rest.is_empty() {
            rest = rest.trim_start_matches([',', ' ', '\t']);
            if rest.is_empty() {
                break;
            }
            let body = rest.strip_prefix("W/").unwrap_or(rest);
            if let Some(quoted) = body.strip_prefix('"') {
                // A quoted tag: everything to the next quote (etagc has no quote).
                let end = quoted.find('"').unwrap_or(quoted.len());
                tags.push(quoted[..end].to_owned());
                rest = quoted.get(end + 1..).unwrap_or("");
            } else {
                // Lenient: an unquoted token up to the next comma.
                let end = body.find(',').unwrap_or(body.len());
                let tok = body[..end].trim();
                if !tok.is_empty() {
                    tags.push(tok.to_owned());
                }
                rest = &body[end..];
            }
        }
        (!tags.is_empty()).then_some(TagList::Tags(tags))
    }

    /// Whether the list matches a resource whose current versions are `current` (a
    /// resource may have one version per representation, e.g. a group with and
    /// without its members). Weak comparison.
    pub fn matches(&self, current: &[String]) -> bool {
        match self {
            TagList::Any => !current.is_empty(),
            TagList::Tags(tags) => current.iter().any(|c| tags.iter().any(|t| t == opaque(c))),
        }
    }
}

/// The opaque part of an entity tag (`W/"abc"` → `abc`).
pub fn opaque(tag: &str) -> &str {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(t)
}

/// The weak entity tag for an opaque value: `W/"<opaque>"`.
pub fn weak(opaque: &str) -> String {
    format!("W/\"{opaque}\"")
}

/// What a GET with preconditions turns into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Serve the resource (200).
    Serve,
    /// `If-None-Match` matched: 304 Not Modified, no body.
    NotModified,
}

/// The preconditions of one request (RFC 7232 §3.1, §3.2), evaluated in RFC 7232 §6
/// order: `If-Match` first, then `If-None-Match`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preconditions {
    /// `If-Match` (or a bulk operation's `version`).
    pub if_match: Option<TagList>,
    /// `If-None-Match`.
    pub if_none_match: Option<TagList>,
}

impl Preconditions {
    /// Only an `If-Match` with this tag (a bulk operation's `version`).
    pub fn if_match(tag: &str) -> Self {
        Preconditions {
            if_match: TagList::parse(tag),
            if_none_match: None,
        }
    }

    /// True when the request carries none.
    pub fn is_empty(&self) -> bool {
        self.if_match.is_none() && self.if_none_match.is_none()
    }

    /// Whether judging them needs the resource's version of each representation (a
    /// listed tag) rather than just its existence (`*`).
    pub fn names_tags(&self) -> bool {
        [&self.if_match, &self.if_none_match]
            .into_iter()
            .any(|l| matches!(l, Some(TagList::Tags(_))))
    }

    /// For PUT, PATCH and DELETE of a resource whose current versions are `current`
    /// (empty: it has no current representation): `Ok` to go on, else
    /// `412 Precondition Failed` (RFC 7644 §3.14; RFC 7644 §3.12 defines no `scimType`
    /// for it).
    pub fn check_write(&self, current: &[String]) -> Result<(), Error> {
        if let Some(m) = &self.if_match {
            if !m.matches(current) {
                return Err(Error::precondition_failed(
                    "Failed to update. Resource changed on the server (If-Match does not match \
                     its current version, meta.version).",
                ));
            }
        }
        if let Some(n) = &self.if_none_match {
            if n.matches(current) {
                return Err(Error::precondition_failed(
                    "If-None-Match matches the resource's current version",
                ));
            }
        }
        Ok(())
    }

    /// For GET of a resource whose current version is `current`: serve, 304 (an
    /// `If-None-Match` that matches), or 412 (an `If-Match` that does not).
    pub fn check_read(&self, current: &str) -> Result<ReadOutcome, Error> {
        let current = [current.to_owned()];
        if let Some(m) = &self.if_match {
            if !m.matches(&current) {
                return Err(Error::precondition_failed(
                    "If-Match does not match the resource's current version",
                ));
            }
        }
        match &self.if_none_match {
            Some(n) if n.matches(&current) => Ok(ReadOutcome::NotModified),
            _ => Ok(ReadOutcome::Serve),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(v: &str) -> Vec<String> {
        match TagList::parse(v) {
            Some(TagList::Tags(t)) => t,
            other => panic!("{v}: {other:?}"),
        }
    }

    #[test]
    fn parses_weak_strong_lists_and_leniently() {
        assert_eq!(tags(r#"W/"e180ee84f0671b1""#), vec!["e180ee84f0671b1"]);
        assert_eq!(tags(r#""a", W/"b",W/"c""#), vec!["a", "b", "c"]);
        assert_eq!(tags("abc"), vec!["abc"]);
        assert_eq!(tags(r#" W/"a,b" , x "#), vec!["a,b", "x"]);
        assert_eq!(TagList::parse(" * "), Some(TagList::Any));
        assert_eq!(TagList::parse(""), None);
        assert_eq!(TagList::parse(" , "), None);
    }

    #[test]
    fn weak_comparison_and_star() {
        let cur = vec![weak("abc")];
        assert!(TagList::parse(r#""abc""#).expect("tag").matches(&cur));
        assert!(TagList::parse(r#"W/"abc""#).expect("tag").matches(&cur));
        assert!(!TagList::parse(r#"W/"abd""#).expect("tag").matches(&cur));
        assert!(TagList::Any.matches(&cur));
        assert!(!TagList::Any.matches(&[]));
        assert_eq!(opaque(r#"W/"x""#), "x");
        assert_eq!(opaque("x"), "x");
    }

    #[test]
    fn writes_412_when_changed_and_reads_304_when_unchanged() {
        let cur = vec![weak("v2")];
        let stale = Preconditions::if_match(r#"W/"v1""#);
        let e = stale.check_write(&cur).expect_err("stale");
        assert_eq!((e.status, e.scim_type), (412, None));
        assert!(Preconditions::if_match(r#"W/"v2""#)
            .check_write(&cur)
            .is_ok());
        // No current representation: If-Match fails even for `*`.
        assert!(Preconditions::if_match("*").check_write(&[]).is_err());
        let none_match = Preconditions {
            if_match: None,
            if_none_match: TagList::parse("*"),
        };
        assert!(none_match.check_write(&cur).is_err());
        assert!(none_match.check_write(&[]).is_ok());

        let cached = Preconditions {
            if_match: None,
            if_none_match: TagList::parse(r#"W/"v2""#),
        };
        assert_eq!(cached.check_read("W/\"v2\""), Ok(ReadOutcome::NotModified));
        assert_eq!(cached.check_read("W/\"v3\""), Ok(ReadOutcome::Serve));
        assert_eq!(stale.check_read("W/\"v2\"").map_err(|e| e.status), Err(412));
        assert!(Preconditions::default().is_empty());
        assert!(!Preconditions::if_match("*").names_tags());
        assert!(stale.names_tags());
    }
}
