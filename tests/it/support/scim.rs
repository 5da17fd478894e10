//! SCIM vocabulary for the tests: schema URNs, the id and urn rules of
//! `docs/architecture.md` (computed independently of the product), query encoding,
//! and assertions on ListResponses and error bodies.

use base64::Engine;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Characters left as-is in a query value (RFC 3986 unreserved).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a query value the way Okta does (space → `%20`, `"` → `%22`, `@` → `%40`).
pub fn enc(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string()
}

/// Form-encodes a query value (space → `+`), as older Okta captures and Entra do.
pub fn enc_plus(s: &str) -> String {
    enc(s).replace("%20", "+")
}

/// `base64url-nopad`, the SCIM id of a DataHub username or group name.
pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.as_bytes())
}

/// SCIM id of the user whose DataHub username is `username`.
pub fn user_id(username: &str) -> String {
    b64(username)
}

/// DataHub urn of a username.
pub fn user_urn(username: &str) -> String {
    format!("urn:li:corpuser:{username}")
}

/// `java.net.URLEncoder.encode(s, UTF-8)`: alphanumerics and `.-*_` kept, space → `+`,
/// everything else `%XX` (upper-case hex) of its UTF-8 bytes.
pub fn java_url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// DataHub group name of a SCIM displayName.
pub fn group_name(display_name: &str) -> String {
    java_url_encode(display_name)
}

/// SCIM id of the group whose displayName is `display_name`.
pub fn group_id(display_name: &str) -> String {
    b64(&group_name(display_name))
}

/// DataHub urn of the group whose displayName is `display_name`.
pub fn group_urn(display_name: &str) -> String {
    format!("urn:li:corpGroup:{}", group_name(display_name))
}

/// A PatchOp message with these operations.
pub fn patch(ops: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// Asserts `v` is a complete ListResponse (RFC 7644 §3.4.2, idp-scim-clients.md §0.7):
/// the schema, integer `totalResults`/`startIndex`/`itemsPerPage`, and a `Resources`
/// array whose length is `itemsPerPage`. Returns the resources.
pub fn assert_list(v: &Value, start_index: u64) -> Vec<Value> {
    assert_eq!(
        v["schemas"],
        json!([LIST_RESPONSE]),
        "ListResponse schema: {v}"
    );
    assert!(
        v["totalResults"].is_u64(),
        "totalResults must be an integer: {v}"
    );
    assert_eq!(v["startIndex"], json!(start_index), "startIndex: {v}");
    assert!(
        v["itemsPerPage"].is_u64(),
        "itemsPerPage must be an integer: {v}"
    );
    let res = v["Resources"]
        .as_array()
        .unwrap_or_else(|| panic!("Resources must be an array: {v}"));
    assert_eq!(
        v["itemsPerPage"].as_u64(),
        Some(res.len() as u64),
        "itemsPerPage = len(Resources): {v}"
    );
    assert!(
        v["totalResults"].as_u64().unwrap_or(0) >= res.len() as u64,
        "totalResults >= page: {v}"
    );
    res.clone()
}

/// Asserts an empty ListResponse, exactly as Okta and Entra expect it.
pub fn assert_empty_list(v: &Value) {
    assert_list(v, 1);
    assert_eq!(v["totalResults"], json!(0), "{v}");
    assert_eq!(v["Resources"], json!([]), "{v}");
}

/// The ids of a list's resources.
pub fn ids(resources: &[Value]) -> Vec<String> {
    resources
        .iter()
        .map(|r| r["id"].as_str().expect("resource id").to_owned())
        .collect()
}

/// The member ids of a SCIM group (empty when `members` is absent).
pub fn member_ids(group: &Value) -> Vec<String> {
    let mut v: Vec<String> = group["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().expect("member value").to_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Sorted copy, for set comparisons.
pub fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

/// Asserts the invariants every SCIM user body must meet (§0.12, §8): string id,
/// schemas, userName, boolean `active`, `meta.resourceType`, arrays for multi-valued
/// attributes, enterprise manager as an object.
pub fn assert_user_shape(u: &Value) {
    assert!(
        u["id"].as_str().is_some_and(|s| !s.is_empty()),
        "user id: {u}"
    );
    assert!(
        u["schemas"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == USER_SCHEMA)),
        "schemas: {u}"
    );
    assert!(u["userName"].is_string(), "userName: {u}");
    assert!(
        u["active"].is_boolean(),
        "active must be a JSON boolean: {u}"
    );
    assert_eq!(u["meta"]["resourceType"], "User", "meta.resourceType: {u}");
    for multi in ["emails", "phoneNumbers", "addresses", "groups", "roles"] {
        if !u[multi].is_null() {
            assert!(u[multi].is_array(), "{multi} must be an array: {u}");
        }
    }
    let mgr = &u[ENTERPRISE]["manager"];
    if !mgr.is_null() {
        assert!(mgr.is_object(), "enterprise manager must be an object: {u}");
    }
}

/// Asserts the invariants of a SCIM group body.
pub fn assert_group_shape(g: &Value) {
    assert!(
        g["id"].as_str().is_some_and(|s| !s.is_empty()),
        "group id: {g}"
    );
    assert!(
        g["schemas"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == GROUP_SCHEMA)),
        "schemas: {g}"
    );
    assert!(g["displayName"].is_string(), "displayName: {g}");
    assert_eq!(g["meta"]["resourceType"], "Group", "meta.resourceType: {g}");
    if !g["members"].is_null() {
        assert!(g["members"].is_array(), "members must be an array: {g}");
    }
}

/// Asserts a SCIM error body with this status (and `scimType`, if given).
pub fn assert_error(v: &Value, status: u16, scim_type: Option<&str>) {
    assert!(
        v["schemas"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x == ERROR_SCHEMA)),
        "{v}"
    );
    assert_eq!(v["status"], json!(status.to_string()), "{v}");
    if let Some(t) = scim_type {
        assert_eq!(v["scimType"], json!(t), "{v}");
    }
}
