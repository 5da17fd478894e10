//! Small steps the IdP flows share: lookups, a minimal user or group, PATCH accepting
//! either documented success status, member listing.

use serde_json::{json, Value};

use crate::harness::TestApp;
use crate::support::scim::{assert_list, enc, member_ids, GROUP_SCHEMA, USER_SCHEMA};

pub fn user_path(id: &str) -> String {
    format!("/scim/v2/Users/{id}")
}

pub fn group_path(id: &str) -> String {
    format!("/scim/v2/Groups/{id}")
}

/// `GET /Users?filter=userName eq "…"&startIndex=1&count=100` (Okta's pre-create lookup).
pub async fn lookup_user(app: &TestApp, user_name: &str) -> Vec<Value> {
    let f = enc(&format!("userName eq \"{user_name}\""));
    let v = app
        .get(&format!("/scim/v2/Users?filter={f}&startIndex=1&count=100"))
        .expect(200)
        .await;
    let res = assert_list(&v, 1);
    assert_eq!(
        v["totalResults"].as_u64(),
        Some(res.len() as u64),
        "one page holds every match: {v}"
    );
    res
}

/// `GET /Groups?filter=displayName eq "…"` (Okta's group push lookup).
pub async fn lookup_group(app: &TestApp, display_name: &str) -> Vec<Value> {
    let f = enc(&format!("displayName eq \"{display_name}\""));
    let v = app
        .get(&format!("/scim/v2/Groups?filter={f}"))
        .expect(200)
        .await;
    assert_list(&v, 1)
}

/// Creates a user with a minimal body; returns the SCIM resource.
pub async fn create_user(app: &TestApp, user_name: &str) -> Value {
    let body = json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"primary": true, "value": format!("{user_name}@example.com"), "type": "work"}],
        "displayName": format!("{user_name} display"),
        "active": true
    });
    app.post("/scim/v2/Users", body).expect(201).await
}

/// Creates a group without members; returns the SCIM resource.
pub async fn create_group(app: &TestApp, display_name: &str) -> Value {
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": display_name, "members": []});
    app.post("/scim/v2/Groups", body).expect(201).await
}

/// Sends a PATCH and accepts 200 (with the resource) or 204, as Okta and Entra do.
pub async fn patch_ok(app: &TestApp, path: &str, body: Value) -> Option<Value> {
    let resp = app.patch(path, body).send().await;
    assert!(
        resp.status == 200 || resp.status == 204,
        "{}: got {}, body: {}",
        resp.what,
        resp.status,
        String::from_utf8_lossy(&resp.body)
    );
    resp.assert_scim_envelope();
    (resp.status == 200).then(|| resp.json())
}

/// The member ids of a group as `GET /Groups/{id}` returns them, sorted.
pub async fn members(app: &TestApp, gid: &str) -> Vec<String> {
    let g = app.get(&group_path(gid)).expect(200).await;
    member_ids(&g)
}
