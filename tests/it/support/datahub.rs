//! What a SCIM-managed user or group must look like inside DataHub
//! (`docs/architecture.md`, "What we own in DataHub"), asserted on the aspects the
//! gateway wrote.

use serde_json::{json, Value};

use crate::harness::TestApp;
use crate::support::scim::{group_name, group_urn, user_urn};

/// Asserts the aspects of a SCIM-managed user and returns its `corpUserInfo`:
/// key, `corpUserInfo` (boolean `active`, `customProperties["scim.userName"]`),
/// `corpUserStatus` with an audit stamp, `origin {EXTERNAL, <idp>}`, not removed.
pub async fn assert_user(
    app: &TestApp,
    username: &str,
    scim_user_name: &str,
    status: &str,
) -> Value {
    let urn = user_urn(username);
    let key = app
        .aspect(&urn, "corpUserKey")
        .await
        .unwrap_or_else(|| panic!("{urn}: no corpUserKey"));
    assert_eq!(key["username"], json!(username), "{urn} corpUserKey");

    let info = app
        .aspect(&urn, "corpUserInfo")
        .await
        .unwrap_or_else(|| panic!("{urn}: no corpUserInfo"));
    assert!(
        info["active"].is_boolean(),
        "{urn} corpUserInfo.active is required: {info}"
    );
    assert_eq!(
        info["customProperties"]["scim.userName"],
        json!(scim_user_name),
        "{urn}: scim.userName marks a SCIM-managed user: {info}"
    );

    let st = app
        .aspect(&urn, "corpUserStatus")
        .await
        .unwrap_or_else(|| panic!("{urn}: no corpUserStatus"));
    assert_eq!(st["status"], json!(status), "{urn} corpUserStatus: {st}");
    assert!(
        st["lastModified"]["time"].is_i64(),
        "{urn} corpUserStatus.lastModified.time: {st}"
    );
    assert!(
        st["lastModified"]["actor"]
            .as_str()
            .is_some_and(|a| a.starts_with("urn:li:corpuser:")),
        "{urn} corpUserStatus.lastModified.actor: {st}"
    );

    assert_origin_external(app, &urn).await;
    assert!(!app.removed(&urn).await, "{urn} must not be soft-deleted");
    assert_not_written(app, &urn, NOT_OURS_USER).await;
    info
}

/// User aspects the gateway never writes (architecture.md, "What we own in DataHub").
const NOT_OURS_USER: &[&str] = &[
    "corpUserEditableInfo",
    "roleMembership",
    "nativeGroupMembership",
    "corpUserCredentials",
    "corpUserSettings",
    "globalTags",
];
/// Group aspects the gateway never writes.
const NOT_OURS_GROUP: &[&str] = &[
    "roleMembership",
    "ownership",
    "corpGroupEditableInfo",
    "globalTags",
];

/// Asserts none of `aspects` exists on `urn`, unless the test seeded it itself.
async fn assert_not_written(app: &TestApp, urn: &str, aspects: &[&str]) {
    for a in aspects {
        if !app.seeded(urn, a) {
            assert!(
                app.aspect(urn, a).await.is_none(),
                "{urn}: the gateway wrote {a}, which it does not own"
            );
        }
    }
}

/// Asserts the aspects of a SCIM-managed group and returns its `corpGroupInfo`.
pub async fn assert_group(app: &TestApp, display_name: &str) -> Value {
    let urn = group_urn(display_name);
    let key = app
        .aspect(&urn, "corpGroupKey")
        .await
        .unwrap_or_else(|| panic!("{urn}: no corpGroupKey"));
    assert_eq!(
        key["name"],
        json!(group_name(display_name)),
        "{urn} corpGroupKey"
    );
    let info = app
        .aspect(&urn, "corpGroupInfo")
        .await
        .unwrap_or_else(|| panic!("{urn}: no corpGroupInfo"));
    assert_eq!(
        info["displayName"],
        json!(display_name),
        "{urn} corpGroupInfo.displayName"
    );
    for f in ["admins", "members", "groups"] {
        assert!(
            info[f].is_array(),
            "{urn} corpGroupInfo.{f} is required: {info}"
        );
    }
    assert_origin_external(app, &urn).await;
    assert!(!app.removed(&urn).await, "{urn} must not be soft-deleted");
    assert_not_written(app, &urn, NOT_OURS_GROUP).await;
    info
}

/// `origin {type: EXTERNAL, externalType: <non-empty IdP name>}`.
pub async fn assert_origin_external(app: &TestApp, urn: &str) {
    let o = app
        .aspect(urn, "origin")
        .await
        .unwrap_or_else(|| panic!("{urn}: no origin"));
    assert_eq!(o["type"], json!("EXTERNAL"), "{urn} origin: {o}");
    assert!(
        o["externalType"].as_str().is_some_and(|s| !s.is_empty()),
        "{urn} origin.externalType: {o}"
    );
}

/// Value (and, on the emulator, version) of some aspects, to prove they were not touched.
pub async fn snapshot(
    app: &TestApp,
    urn: &str,
    aspects: &[&str],
) -> Vec<(String, Option<Value>, Option<String>)> {
    let mut out = Vec::new();
    for a in aspects {
        let v = app.aspect(urn, a).await;
        let ver = app
            .emu()
            .and_then(|e| e.aspect_version(urn, a))
            .map(|v| v.to_string());
        out.push((a.to_string(), v, ver));
    }
    out
}
