//! DataHub urns (`urn:li:<entityType>:<key>`) for the two entities we manage,
//! and their percent-encoding for Rest.li paths and `List(...)` parameters.
//!
//! The key is kept verbatim: DataHub never encodes or case-folds it, so a
//! username such as `Jöhn Doe,(x)%/+` is stored as is and only encoded when it
//! travels in a URL.

use std::fmt;
use std::str::FromStr;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Entity type of users.
pub const CORP_USER: &str = "corpuser";
/// Entity type of groups (capital G).
pub const CORP_GROUP: &str = "corpGroup";

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`),
/// exactly Python's `urllib.parse.quote(s, safe="")`.
const RESTLI: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A DataHub urn `urn:li:<entity_type>:<key>`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Urn {
    /// The whole urn text.
    full: String,
    /// Byte offset where the key starts in `full`.
    key_at: usize,
}

/// Why a string is not a urn we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a DataHub urn (expected urn:li:<type>:<key>)")]
pub struct UrnParseError;

impl Urn {
    /// Build `urn:li:<entity_type>:<key>`. The key is taken verbatim.
    pub fn new(entity_type: &str, key: &str) -> Self {
        let full = format!("urn:li:{entity_type}:{key}");
        let key_at = full.len() - key.len();
        Urn { full, key_at }
    }

    /// `urn:li:corpuser:<username>`.
    pub fn corp_user(username: &str) -> Self {
        Urn::new(CORP_USER, username)
    }

    /// `urn:li:corpGroup:<name>`.
    pub fn corp_group(name: &str) -> Self {
        Urn::new(CORP_GROUP, name)
    }

    /// `urn:li:dataHubRole:<name>` (DataHub's built-in roles: `Admin`, `Editor`,
    /// `Reader`).
    pub fn role(name: &str) -> Self {
        Urn::new("dataHubRole", name)
    }

    /// The entity type, e.g. `corpuser` or `corpGroup`.
    pub fn entity_type(&self) -> &str {
        // "urn:li:" is 7 bytes; the type ends at the ':' before the key.
        &self.full[7..self.key_at - 1]
    }

    /// The key: the username of a corpuser, the name of a corpGroup.
    pub fn key(&self) -> &str {
        &self.full[self.key_at..]
    }

    /// The urn text.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// True for `urn:li:corpuser:…`.
    pub fn is_corp_user(&self) -> bool {
        self.entity_type() == CORP_USER
    }

    /// True for `urn:li:corpGroup:…`.
    pub fn is_corp_group(&self) -> bool {
        self.entity_type() == CORP_GROUP
    }

    /// The urn fully percent-encoded (everything but unreserved characters),
    /// for a Rest.li path segment (`/aspects/{urn}`) or an item inside a
    /// Rest.li `List(...)` query parameter (where `,` `(` `)` `:` must not
    /// appear raw).
    pub fn encoded(&self) -> String {
        encode_component(&self.full)
    }
}

/// Percent-encode like Python `quote(s, safe="")`.
pub(crate) fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, RESTLI).to_string()
}

impl FromStr for Urn {
    type Err = UrnParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.strip_prefix("urn:li:").ok_or(UrnParseError)?;
        let colon = rest.find(':').ok_or(UrnParseError)?;
        let (entity_type, key) = (&rest[..colon], &rest[colon + 1..]);
        let type_ok =
            !entity_type.is_empty() && entity_type.bytes().all(|b| b.is_ascii_alphanumeric());
        if !type_ok || key.is_empty() {
            return Err(UrnParseError);
        }
        Ok(Urn {
            full: s.to_owned(),
            key_at: 7 + colon + 1,
        })
    }
}

impl fmt::Display for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

/// Debug shows only the entity type: urns of people are personal data and
/// must not leak into logs through `{:?}`.
impl fmt::Debug for Urn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Urn(urn:li:{}:…)", self.entity_type())
    }
}

impl serde::Serialize for Urn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.full)
    }
}

impl<'de> serde::Deserialize<'de> for Urn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWKWARD: &[&str] = &[
        "jdoe",
        "jdoe@example.com",
        "Data Eng (EU)",
        "a,b(c)d%e/f+g",
        "Jöhn Dœ",
        "名前",
        "emoji 🚀",
        "x:y:z",
        "100%25",
    ];

    #[test]
    fn builds_and_splits() {
        let u = Urn::corp_user("jdoe@example.com");
        assert_eq!(u.to_string(), "urn:li:corpuser:jdoe@example.com");
        assert_eq!(u.entity_type(), "corpuser");
        assert_eq!(u.key(), "jdoe@example.com");
        assert!(u.is_corp_user());
        let g = Urn::corp_group("Data+Eng");
        assert_eq!(g.as_str(), "urn:li:corpGroup:Data+Eng");
        assert_eq!(g.entity_type(), "corpGroup");
        assert!(g.is_corp_group() && !g.is_corp_user());
    }

    #[test]
    fn awkward_names_round_trip() {
        for name in AWKWARD {
            for u in [Urn::corp_user(name), Urn::corp_group(name)] {
                assert_eq!(u.key(), *name);
                let parsed: Urn = u.to_string().parse().expect("own output parses");
                assert_eq!(parsed, u);
                assert_eq!(parsed.key(), *name);
                let enc = u.encoded();
                let decoded = percent_encoding::percent_decode_str(&enc)
                    .decode_utf8()
                    .expect("utf8");
                assert_eq!(decoded, u.as_str());
            }
        }
    }

    #[test]
    fn encoding_matches_python_quote_safe_empty() {
        // Values computed with Python: urllib.parse.quote(urn, safe="").
        assert_eq!(
            Urn::corp_user("jdoe@example.com").encoded(),
            "urn%3Ali%3Acorpuser%3Ajdoe%40example.com"
        );
        assert_eq!(
            Urn::corp_group("a,b(c)d%e/f+g h").encoded(),
            "urn%3Ali%3AcorpGroup%3Aa%2Cb%28c%29d%25e%2Ff%2Bg%20h"
        );
        assert_eq!(
            Urn::corp_user("Jö-._~").encoded(),
            "urn%3Ali%3Acorpuser%3AJ%C3%B6-._~"
        );
        for name in AWKWARD {
            let enc = Urn::corp_group(name).encoded();
            assert!(
                !enc.contains([',', '(', ')', ':', '/', '+', ' ', '@']),
                "{enc}"
            );
            assert!(enc.is_ascii());
        }
    }

    #[test]
    fn rejects_non_urns() {
        for bad in [
            "",
            "urn:li:corpuser:",
            "urn:li::x",
            "urn:li:corpuser",
            "corpuser:jdoe",
            "urn:xx:corpuser:jdoe",
            "urn:li:corp user:jdoe",
        ] {
            assert!(bad.parse::<Urn>().is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let s = format!("{:?}", Urn::corp_user("secret.person"));
        assert!(!s.contains("secret"), "{s}");
    }

    #[test]
    fn serde_as_string() {
        let u = Urn::corp_group("Data Eng (EU)");
        let j = serde_json::to_string(&u).expect("ser");
        assert_eq!(j, "\"urn:li:corpGroup:Data Eng (EU)\"");
        let back: Urn = serde_json::from_str(&j).expect("de");
        assert_eq!(back, u);
    }
}
