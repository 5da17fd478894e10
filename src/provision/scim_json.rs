//! Small lenient readers of SCIM JSON shared by the user and group mappings:
//! empty strings count as absent (OneLogin templates send `""` for unset
//! parameters), booleans may arrive as `"True"`/`"false"` (Entra), and
//! timestamps render as RFC 3339.

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::scim;

/// Core User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Enterprise User extension URN.
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Core Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// `obj[key]` as a non-empty string, looking the key up case-insensitively
/// (SCIM attribute names are case-insensitive).
pub fn str_at(obj: &Value, key: &str) -> Option<String> {
    match get_ci(obj, key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `obj[key]`, key matched case-insensitively.
pub fn get_ci<'a>(obj: &'a Value, key: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// A SCIM boolean: JSON `true`/`false` or the strings Entra sends. `Ok(None)`
/// when absent or null; a value of any other shape is `invalidValue`.
pub fn bool_at(obj: &Value, key: &str) -> Result<Option<bool>, scim::Error> {
    match get_ci(obj, key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(scim::Error::invalid_value(format!(
            "{key} must be a boolean"
        ))),
    }
}

/// A multi-valued attribute as a list: arrays as they are, a single object as a
/// one-element list (OneLogin sends `emails` as an object), absent/null as empty.
pub fn multi_at<'a>(obj: &'a Value, key: &str) -> Vec<&'a Value> {
    match get_ci(obj, key) {
        Some(Value::Array(a)) => a.iter().filter(|v| !v.is_null()).collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

/// RFC 3339 text of a millisecond timestamp.
pub fn rfc3339(ms: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_readers() {
        let v = json!({"Title": "", "nickName": "J", "active": "False", "n": 3, "emails": {"value": "a"}});
        assert_eq!(str_at(&v, "title"), None);
        assert_eq!(str_at(&v, "NICKNAME").as_deref(), Some("J"));
        assert_eq!(str_at(&v, "n").as_deref(), Some("3"));
        assert_eq!(bool_at(&v, "active").expect("bool"), Some(false));
        assert_eq!(
            bool_at(&json!({"active": true}), "active").expect("bool"),
            Some(true)
        );
        assert_eq!(bool_at(&json!({}), "active").expect("bool"), None);
        assert!(bool_at(&json!({"active": "yes"}), "active").is_err());
        assert_eq!(multi_at(&v, "emails").len(), 1);
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(
            rfc3339(1_760_000_000_123).as_deref(),
            Some("2025-10-09T08:53:20.123Z")
        );
    }
}
