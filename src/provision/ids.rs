//! SCIM ids: `base64url-nopad` of the DataHub key (username or group name).
//!
//! Ids are derived from DataHub state alone, so every replica, restarted or not,
//! hands out and understands the same ids. An id that is not valid base64url or
//! does not decode to UTF-8 names nothing: callers answer 404.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// Prefix of every DataHub user urn.
pub const USER_URN_PREFIX: &str = "urn:li:corpuser:";
/// Prefix of every DataHub group urn (capital G, as DataHub spells it).
pub const GROUP_URN_PREFIX: &str = "urn:li:corpGroup:";

/// The SCIM id of the user `urn:li:corpuser:<username>`.
pub fn user_id(username: &str) -> String {
    URL_SAFE_NO_PAD.encode(username.as_bytes())
}

/// The SCIM id of the group `urn:li:corpGroup:<name>`.
pub fn group_id(name: &str) -> String {
    URL_SAFE_NO_PAD.encode(name.as_bytes())
}

/// The DataHub key (username or group name) a SCIM id stands for, or `None`
/// when the id cannot be one of ours.
pub fn decode(id: &str) -> Option<String> {
    if id.is_empty() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(id.as_bytes()).ok()?;
    let key = String::from_utf8(bytes).ok()?;
    if key.is_empty() || key.trim() != key {
        return None;
    }
    Some(key)
}

/// `urn:li:corpuser:<username>`.
pub fn user_urn(username: &str) -> String {
    format!("{USER_URN_PREFIX}{username}")
}

/// `urn:li:corpGroup:<name>`.
pub fn group_urn(name: &str) -> String {
    format!("{GROUP_URN_PREFIX}{name}")
}

/// The username of a user urn.
pub fn username_of(urn: &str) -> Option<&str> {
    urn.strip_prefix(USER_URN_PREFIX).filter(|s| !s.is_empty())
}

/// The name of a group urn.
pub fn group_name_of(urn: &str) -> Option<&str> {
    urn.strip_prefix(GROUP_URN_PREFIX).filter(|s| !s.is_empty())
}

/// The user urn a SCIM user id stands for.
pub fn user_urn_of_id(id: &str) -> Option<String> {
    decode(id).map(|u| user_urn(&u))
}

/// The group urn a SCIM group id stands for.
pub fn group_urn_of_id(id: &str) -> Option<String> {
    decode(id).map(|g| group_urn(&g))
}

/// The SCIM id of a user urn.
pub fn user_id_of_urn(urn: &str) -> Option<String> {
    username_of(urn).map(user_id)
}

/// The SCIM id of a group urn.
pub fn group_id_of_urn(urn: &str) -> Option<String> {
    group_name_of(urn).map(group_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_ascii_non_ascii_and_url_specials() {
        for key in [
            "jdoe",
            "jdoe@example.com",
            "Jöhn.Dœ",
            "日本語",
            "a/b+c=d",
            "Data+Eng+%28EU%29",
            "x",
        ] {
            let id = user_id(key);
            assert!(!id.contains('='), "no padding: {id}");
            assert!(
                !id.contains('+') && !id.contains('/'),
                "url-safe alphabet: {id}"
            );
            assert_eq!(decode(&id).as_deref(), Some(key));
            assert_eq!(user_urn_of_id(&id), Some(format!("urn:li:corpuser:{key}")));
            assert_eq!(
                group_urn_of_id(&group_id(key)),
                Some(format!("urn:li:corpGroup:{key}"))
            );
        }
    }

    #[test]
    fn known_vector() {
        assert_eq!(user_id("jdoe"), "amRvZQ");
        assert_eq!(user_id("?>?"), "Pz4_");
    }

    #[test]
    fn garbage_ids_name_nothing() {
        // Okta's spec test probes these; they must be 404s, never 500s.
        for id in [
            "",
            "010101001010101011001010101011",
            "00919288221112222",
            "0",
            "a",
            "%%%",
            "aGk=",
            "_w",
        ] {
            let d = decode(id);
            // "0101..." happens to be valid base64 but not UTF-8 / or valid: either way it is
            // only a key, looked up like any other; what matters is no panic.
            if let Some(k) = d {
                assert!(!k.is_empty());
            }
        }
        assert_eq!(decode(""), None);
        assert_eq!(decode("_w"), None, "0xff is not UTF-8");
        assert_eq!(decode("aGk="), None, "padding is not our alphabet");
        assert_eq!(
            decode("IGpkb2U"),
            None,
            "leading whitespace is never a DataHub key"
        );
    }

    #[test]
    fn urn_helpers() {
        assert_eq!(username_of("urn:li:corpuser:jdoe"), Some("jdoe"));
        assert_eq!(username_of("urn:li:corpGroup:jdoe"), None);
        assert_eq!(group_name_of("urn:li:corpGroup:eng"), Some("eng"));
        assert_eq!(
            user_id_of_urn("urn:li:corpuser:jdoe").as_deref(),
            Some("amRvZQ")
        );
        assert_eq!(group_id_of_urn("urn:li:corpuser:jdoe"), None);
    }
}
