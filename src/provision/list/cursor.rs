//! RFC 9865 cursors: what a `nextCursor` carries, and how it is checked when it
//! comes back.
//!
//! A cursor is stateless, so any replica continues any walk: it holds the resource
//! list it belongs to, a fingerprint of the query (filter, `sortBy`, `sortOrder`:
//! a cursor replayed with another query is `invalidCursor`), the position reached,
//! and — on the index fast path — DataHub's `scrollId` (a `search_after` position
//! that does not expire). The bytes are base64url (RFC 3986 unreserved characters
//! only) of a small JSON object followed by 8 bytes of its SHA-256, so a cursor that
//! was cut or edited is refused before anything reaches DataHub.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::scim::{self, ListQuery};

/// Which list a cursor walks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::provision) enum Walk {
    /// `/Users`.
    #[serde(rename = "u")]
    Users,
    /// `/Groups`.
    #[serde(rename = "g")]
    Groups,
    /// `POST /.search` at the root (Users then Groups).
    #[serde(rename = "s")]
    Root,
}

/// A decoded cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(in crate::provision) struct Cursor {
    /// Format version.
    v: u8,
    /// The list walked.
    w: Walk,
    /// Fingerprint of the query this cursor belongs to.
    q: String,
    /// How many results come before the page this cursor starts.
    pub p: u64,
    /// DataHub's `scrollId` where that page starts, on the scroll fast path.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub s: Option<String>,
}

const VERSION: u8 = 1;
const CHECK_LEN: usize = 8;

/// The fingerprint of what decides a walk's order and content.
fn fingerprint(walk: Walk, q: &ListQuery) -> String {
    let text = format!(
        "{walk:?}\u{1f}{}\u{1f}{}\u{1f}{:?}",
        q.filter
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        q.sort_by
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        q.sort_order,
    );
    let d = Sha256::digest(text.as_bytes());
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Cursor {
    /// A cursor for `walk` under `q` at position `p`, optionally with DataHub's
    /// scroll position.
    pub fn new(walk: Walk, q: &ListQuery, p: u64, s: Option<String>) -> Cursor {
        Cursor {
            v: VERSION,
            w: walk,
            q: fingerprint(walk, q),
            p,
            s,
        }
    }

    /// The `nextCursor` text.
    pub fn encode(&self) -> String {
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        let check = Sha256::digest(&bytes);
        bytes.extend_from_slice(&check[..CHECK_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The cursor of a request: `Ok(None)` for the first page (an empty `cursor`),
    /// `400 invalidCursor` for anything this server did not issue for this very query.
    pub fn decode(text: &str, walk: Walk, q: &ListQuery) -> Result<Option<Cursor>, scim::Error> {
        if text.is_empty() {
            return Ok(None);
        }
        let invalid = || {
            scim::Error::invalid_cursor(
                "this cursor was not issued for this query; start again with an empty cursor",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        if bytes.len() <= CHECK_LEN {
            return Err(invalid());
        }
        let (body, check) = bytes.split_at(bytes.len() - CHECK_LEN);
        if Sha256::digest(body)[..CHECK_LEN] != *check {
            return Err(invalid());
        }
        let c: Cursor = serde_json::from_slice(body).map_err(|_| invalid())?;
        if c.v != VERSION || c.w != walk || c.q != fingerprint(walk, q) {
            return Err(invalid());
        }
        Ok(Some(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::ScimType;

    fn q(s: &str) -> ListQuery {
        ListQuery::from_query_string(s).expect("query")
    }

    #[test]
    fn round_trip_and_unreserved_characters() {
        let query = q("filter=active%20eq%20true&cursor=&count=100");
        let c = Cursor::new(Walk::Users, &query, 300, Some("eyJzb3J0Ijpb+/=".into()));
        let text = c.encode();
        assert!(text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)));
        assert_eq!(
            Cursor::decode(&text, Walk::Users, &query).expect("ok"),
            Some(c)
        );
        // count and attributes may change between pages; the query may not.
        let other_count = q("filter=active%20eq%20true&cursor=&count=7&attributes=userName");
        assert!(Cursor::decode(&text, Walk::Users, &other_count).is_ok());
        assert_eq!(
            Cursor::decode("", Walk::Users, &query).expect("first"),
            None
        );
    }

    #[test]
    fn anything_else_is_an_invalid_cursor() {
        let query = q("cursor=");
        let text = Cursor::new(Walk::Groups, &query, 100, None).encode();
        let bad = |t: &str, w: Walk, q: &ListQuery| {
            let e = Cursor::decode(t, w, q).expect_err("invalid");
            assert_eq!(
                (e.status, e.scim_type),
                (400, Some(ScimType::InvalidCursor))
            );
        };
        bad(&text, Walk::Users, &query);
        bad(
            &text,
            Walk::Groups,
            &q("filter=displayName%20sw%20%22a%22&cursor="),
        );
        bad(&text, Walk::Groups, &q("sortBy=displayName&cursor="));
        bad(&text[..text.len() - 2], Walk::Groups, &query);
        let mut edited = text.clone().into_bytes();
        edited[3] = if edited[3] == b'A' { b'B' } else { b'A' };
        bad(
            &String::from_utf8(edited).expect("ascii"),
            Walk::Groups,
            &query,
        );
        bad("not-a-cursor", Walk::Groups, &query);
        bad("AAAA", Walk::Groups, &query);
    }
}
