//! Naming rules: which DataHub urn a SCIM user or group becomes.
//!
//! They reproduce, character for character, what DataHub's frontend does at SSO
//! login, so the person provisioned by SCIM and the person signing in are one
//! DataHub user, and a pushed group and the same group seen in an OIDC `groups`
//! claim are one DataHub group (see `docs/provisioning.md`).

use serde_json::Value;

use super::{ProvisionConfig, UsernameSource};
use crate::scim;
use crate::scim::json;
use crate::scim::resource::MultiValue;

/// The DataHub username for a SCIM user body, per the configured source attribute,
/// regex (whole match of the first `find`, as `AUTH_OIDC_USER_NAME_CLAIM_REGEX`) and
/// optional lower-casing. A missing source or a value the regex does not match is
/// the client's fault: 400 `invalidValue`.
pub fn username_for(cfg: &ProvisionConfig, user: &Value) -> Result<String, scim::Error> {
    let (attr, source) = match cfg.username_source {
        UsernameSource::UserName => ("userName", user_name_of(user)),
        UsernameSource::PrimaryEmail => ("emails", primary_email(user)),
    };
    let source = source.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
        scim::Error::invalid_value(format!("{attr} is required to derive the DataHub username"))
    })?;
    check_chars(attr, &source)?;
    derive_username(cfg, &source).ok_or_else(|| {
        scim::Error::invalid_value(format!(
            "{attr} does not match the configured username pattern `{}`",
            cfg.username_regex.as_str()
        ))
    })
}

/// Applies regex (whole match of the first `find`) and lower-casing to one value.
/// `None` when the regex does not match, the value holds a character no name may
/// hold ([`forbidden_char`]), or the result is not a usable urn key.
pub fn derive_username(cfg: &ProvisionConfig, source: &str) -> Option<String> {
    if source.chars().any(forbidden_char) {
        return None;
    }
    let m = cfg.username_regex.find(source)?;
    let name = if cfg.username_lowercase {
        m.as_str().to_lowercase()
    } else {
        m.as_str().to_owned()
    };
    valid_key(&name).then_some(name)
}

/// Characters no user name (nor group displayName) may hold: control characters
/// (C0, DEL, C1: newline, tab, NUL, …), the invisible *format* characters of Unicode
/// category Cf (bidi embeddings, overrides and isolates such as U+202E, zero-width
/// space and joiners U+200B–U+200D, word joiner, BOM, soft hyphen, tags, …) and the
/// line and paragraph separators U+2028/U+2029. They cut a name short under a
/// regex (`.` stops at a newline, so `datahub\nx` would become `datahub`), hide
/// part of it from people reading it, or make two names look alike.
pub fn forbidden_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}')
}

/// `400 invalidValue` when `value` (of attribute `attr`) holds a [`forbidden_char`].
/// The detail names the code point, never the value.
pub fn check_chars(attr: &str, value: &str) -> Result<(), scim::Error> {
    match value.chars().find(|c| forbidden_char(*c)) {
        None => Ok(()),
        Some(c) => Err(scim::Error::invalid_value(format!(
            "{attr} must not contain control, bidi-override or invisible format characters (found U+{:04X})",
            c as u32
        ))),
    }
}

/// Usernames DataHub keeps for itself, which SCIM never creates, adopts, changes
/// or deletes whatever the name rule yields (compared ignoring ASCII case):
/// `datahub` (the root user, `corpUserInfo.system`), `__datahub_system` (the system
/// actor and default system client id), `__anonymous`, `UNKNOWN` (DataHub's actor
/// for unauthenticated and unknown callers), every name starting with `__` (DataHub's
/// internal principals) and every name starting with `service_` (service accounts,
/// `ServiceAccountUtils.SERVICE_ACCOUNT_PREFIX`). Users DataHub flags as system or
/// support users are refused by their `corpUserInfo` (`UserRecord::is_system`).
pub fn reserved_username(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["datahub", "__datahub_system", "__anonymous", "unknown"].contains(&lower.as_str())
        || lower.starts_with("__")
        || lower.starts_with("service_")
}

/// The case-insensitive form of a `userName` (RFC 7643: `caseExact: false`) for
/// uniqueness checks: full Unicode case folding as far as `char` can do it
/// (upper-casing then lower-casing, so `ß`, `ẞ` and `SS` agree, and `ſ` and `s`).
pub fn fold_case(s: &str) -> String {
    crate::scim::fold_case(s)
}

/// `userName` as sent (a string), if any; the attribute name is case-insensitive.
pub fn user_name_of(user: &Value) -> Option<String> {
    json::get_ci(user.as_object()?, "userName")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// The primary email, else the first one, read as `scim::User` reads `emails`
/// (OneLogin's single object, `"True"` strings, empty values dropped).
pub fn primary_email(user: &Value) -> Option<String> {
    let emails = MultiValue::list_from_json(json::get_ci(user.as_object()?, "emails")?).ok()?;
    MultiValue::primary(&emails).map(|e| e.value.clone())
}

/// The DataHub group name for a displayName: `java.net.URLEncoder.encode(name, UTF-8)`,
/// the encoding DataHub's OIDC group extraction uses.
pub fn group_name_for(display_name: &str) -> Result<String, scim::Error> {
    if display_name.trim().is_empty() {
        return Err(scim::Error::invalid_value("displayName is required"));
    }
    check_chars("displayName", display_name)?;
    let name = java_url_encode(display_name);
    if !valid_key(&name) {
        return Err(scim::Error::invalid_value(
            "displayName is too long for a DataHub group name",
        ));
    }
    Ok(name)
}

/// `java.net.URLEncoder.encode(s, "UTF-8")`: ASCII alphanumerics and `.-*_` are
/// kept, space becomes `+`, every other byte of the UTF-8 encoding is `%XX` with
/// upper-case hex.
pub fn java_url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xF) as usize] as char);
            }
        }
    }
    out
}

/// DataHub refuses urns over 512 bytes URL-encoded; keep keys well inside that.
/// GMS drops (silently, answering "success") MCPs whose urn is longer than 512
/// bytes URL-encoded (`UrnValidationUtil`), so such keys are refused up front.
const MAX_ENCODED_URN: usize = 512;

/// Whether `key` can be the last component of a DataHub urn: non-empty, no
/// surrounding whitespace, no U+241F, and the urn (`corpGroup`, the longer prefix)
/// at most 512 bytes URL-encoded (`UrnValidationUtil`).
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.trim() == key
        && !key.contains('\u{241F}')
        && crate::datahub::Urn::corp_group(key).encoded().len() <= MAX_ENCODED_URN
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn cfg(regex: &str, lower: bool, source: UsernameSource) -> ProvisionConfig {
        ProvisionConfig {
            username_source: source,
            username_regex: regex::Regex::new(regex).expect("test regex"),
            username_lowercase: lower,
            idp_name: "OKTA".into(),
            user_delete: Default::default(),
            group_delete: Default::default(),
            user_rename: Default::default(),
            idp_roles: false,
            max_page_size: 100,
            cache_capacity: 100,
            cache_ttl: std::time::Duration::from_secs(60),
            max_write_retries: 3,
            write_batch: super::super::DEFAULT_WRITE_BATCH,
            max_filter_scan: super::super::DEFAULT_MAX_FILTER_SCAN,
        }
    }

    #[test]
    fn default_regex_keeps_the_whole_value() {
        let c = cfg("(.*)", false, UsernameSource::UserName);
        let u = json!({"userName": "Jane.Doe@Example.com"});
        assert_eq!(
            username_for(&c, &u).expect("derives"),
            "Jane.Doe@Example.com"
        );
    }

    #[test]
    fn helm_default_regex_strips_the_domain_and_lowercases() {
        let c = cfg("([^@]+)", true, UsernameSource::UserName);
        let u = json!({"userName": "Jane.Doe@Example.com"});
        assert_eq!(username_for(&c, &u).expect("derives"), "jane.doe");
        let c = cfg("([^@]+)", false, UsernameSource::UserName);
        assert_eq!(username_for(&c, &u).expect("derives"), "Jane.Doe");
    }

    #[test]
    fn whole_match_not_capture_group() {
        // DataHub uses matcher.group() (group 0), not group(1).
        let c = cfg("u-(\\d+)", false, UsernameSource::UserName);
        assert_eq!(
            username_for(&c, &json!({"userName": "xx u-42 yy"})).expect("derives"),
            "u-42"
        );
    }

    #[test]
    fn no_match_is_invalid_value() {
        let c = cfg("^[a-z]+$", false, UsernameSource::UserName);
        let e = username_for(&c, &json!({"userName": "Jane Doe"})).expect_err("no match");
        assert_eq!(e.status, 400);
        assert_eq!(e.scim_type, Some(scim::ScimType::InvalidValue));
        let e = username_for(&c, &json!({})).expect_err("missing");
        assert_eq!(e.status, 400);
        // A match that would make an unusable urn (surrounding whitespace) is refused.
        let c = cfg("(.*)", false, UsernameSource::UserName);
        assert!(username_for(&c, &json!({"userName": " jdoe"})).is_err());
    }

    #[test]
    fn primary_email_source() {
        let c = cfg("([^@]+)", false, UsernameSource::PrimaryEmail);
        let u = json!({"userName": "ignored", "emails": [
            {"value": "second@x.com"}, {"value": "first@x.com", "primary": true}]});
        assert_eq!(username_for(&c, &u).expect("derives"), "first");
        let u = json!({"emails": [{"value": "only@x.com"}]});
        assert_eq!(username_for(&c, &u).expect("derives"), "only");
        let u = json!({"emails": {"value": "onelogin@x.com", "primary": "True"}});
        assert_eq!(username_for(&c, &u).expect("derives"), "onelogin");
        assert!(username_for(&c, &json!({"userName": "a@b"})).is_err());
        // Attribute names are case-insensitive (RFC 7643 §2.1).
        let u = json!({"Emails": [{"Value": "x@y.com"}, {"Value": "p@y.com", "Primary": true}]});
        assert_eq!(username_for(&c, &u).expect("derives"), "p");
        let c = cfg("(.*)", false, UsernameSource::UserName);
        let u = json!({"USERNAME": "Jo"});
        assert_eq!(username_for(&c, &u).expect("derives"), "Jo");
    }

    #[test]
    fn url_encoder_parity() {
        assert_eq!(java_url_encode("Data Eng (EU)"), "Data+Eng+%28EU%29");
        assert_eq!(java_url_encode("a/b"), "a%2Fb");
        assert_eq!(java_url_encode("ü"), "%C3%BC");
        assert_eq!(java_url_encode("a+b=c&d"), "a%2Bb%3Dc%26d");
        assert_eq!(java_url_encode("keep.-*_AZaz09"), "keep.-*_AZaz09");
        assert_eq!(java_url_encode("~!'"), "%7E%21%27");
        assert_eq!(java_url_encode("日"), "%E6%97%A5");
        assert_eq!(java_url_encode("😀"), "%F0%9F%98%80");
        assert_eq!(group_name_for("Sales").expect("ok"), "Sales");
        assert!(group_name_for("  ").is_err());
    }

    #[test]
    fn keys_gms_would_silently_drop_are_refused() {
        assert!(valid_key(&"a".repeat(400)));
        // 170 × "ü" is 340 bytes, but 1020 bytes URL-encoded: GMS would drop it.
        assert!(!valid_key(&"ü".repeat(170)));
        assert!(!valid_key(&"a".repeat(600)));
        assert!(!valid_key("a\u{241F}b"));
        assert!(group_name_for(&"ü".repeat(100)).is_err());
    }

    proptest::proptest! {
        /// What URLEncoder writes, URLDecoder reads back; and only the characters
        /// Java keeps unescaped ever appear raw.
        #[test]
        fn url_encoder_round_trips(s in "\\PC{0,40}") {
            let enc = java_url_encode(&s);
            proptest::prop_assert!(enc.bytes().all(|b| b.is_ascii_alphanumeric() || b"%+.-*_".contains(&b)));
            let spaced = enc.replace('+', " ");
            let back = percent_encoding::percent_decode_str(&spaced).decode_utf8().map(|c| c.into_owned());
            proptest::prop_assert_eq!(back.ok(), Some(s));
        }

        #[test]
        fn ids_round_trip(s in "\\PC{1,40}") {
            let id = crate::provision::ids::user_id(&s);
            let ok = !s.trim().is_empty() && s.trim() == s;
            proptest::prop_assert_eq!(crate::provision::ids::decode(&id), ok.then(|| s.clone()));
        }
    }
}
