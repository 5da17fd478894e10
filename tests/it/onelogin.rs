//! OneLogin's SCIM Provisioner (idp-scim-clients.md §4): bodies are the admin's JSON
//! template with empty strings for unset parameters, `emails` as a single object and
//! possibly a SCIM 1.1 schema URN; suspend by PATCH, delete by DELETE; Entra-style
//! member value lists.

use serde_json::json;

use crate::fixture;
use crate::harness::TestApp;
use crate::support::datahub::assert_user;
use crate::support::flows::*;
use crate::support::scim::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onelogin_template_user_suspend_and_delete() {
    let app = TestApp::spawn().await;
    // OneLogin probes the base URL when the API connection is enabled.
    assert_list(&app.get("/scim/v2/Users").expect(200).await, 1);

    let un = app.uniq("olivia@onelogin.example");
    let body = fixture(
        "onelogin/create_user.json",
        &[
            ("userName", &un),
            ("externalId", "123456789"),
            ("givenName", "Olivia"),
            ("familyName", "Login"),
        ],
    );
    let u = app.post("/scim/v2/Users", body).expect(201).await;
    assert_user_shape(&u);
    let id = u["id"].as_str().expect("id").to_owned();
    assert_eq!(u["userName"], json!(un));
    assert_eq!(u["name"]["givenName"], json!("Olivia"));
    let emails = u["emails"]
        .as_array()
        .expect("emails come back as an array");
    assert_eq!(emails.len(), 1, "{u}");
    assert_eq!(emails[0]["value"], json!(un));
    assert!(
        u[ENTERPRISE]["manager"].is_null()
            || u[ENTERPRISE]["manager"]["value"]
                .as_str()
                .is_some_and(|v| !v.is_empty()),
        "an empty manager from a template is no manager: {u}"
    );

    let urn = user_urn(&un);
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["email"], json!(un));
    assert_eq!(info["firstName"], json!("Olivia"));
    assert_eq!(info["lastName"], json!("Login"));
    assert!(
        info.get("managerUrn").is_none(),
        "empty manager.value must not become a urn: {info}"
    );
    assert_ne!(
        info["title"],
        json!(""),
        "an empty template value is not a title"
    );
    assert_eq!(ids(&lookup_user(&app, &un).await), vec![id.clone()]);

    // The template is also the PUT body.
    let body = fixture(
        "onelogin/create_user.json",
        &[
            ("userName", &un),
            ("externalId", "123456789"),
            ("givenName", "Olivia"),
            ("familyName", "Relogin"),
        ],
    );
    let u = app.put(&user_path(&id), body).expect(200).await;
    assert_eq!(u["name"]["familyName"], json!("Relogin"));
    assert_eq!(
        app.aspect(&urn, "corpUserInfo").await.expect("info")["lastName"],
        json!("Relogin")
    );

    // Suspend, re-enable.
    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await;
    assert_user(&app, &un, &un, "SUSPENDED").await;
    assert_eq!(
        app.get(&user_path(&id)).expect(200).await["active"],
        json!(false)
    );
    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "replace", "path": "active", "value": true}])),
    )
    .await;
    assert_user(&app, &un, &un, "ACTIVE").await;

    // Groups from roles, membership by value lists.
    let display = app.uniq("OneLogin Role");
    let gid = create_group(&app, &display).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
    )
    .await;
    assert_eq!(app.groups_of(&urn).await, vec![group_urn(&display)]);
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "remove", "path": "members", "value": [{"value": id}]}])),
    )
    .await;
    assert!(app.groups_of(&urn).await.is_empty());
    // `remove` of `members` without a value removes everyone (RFC 7644 §3.5.2.2).
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
    )
    .await;
    assert_eq!(app.groups_of(&urn).await, vec![group_urn(&display)]);
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "remove", "path": "members"}])),
    )
    .await;
    assert!(app.groups_of(&urn).await.is_empty());
    assert!(members(&app, &gid).await.is_empty());

    // Deprovisioning action "Delete".
    app.delete(&user_path(&id)).expect(204).await;
    app.get(&user_path(&id)).expect(404).await;
    assert!(lookup_user(&app, &un).await.is_empty());
    app.shutdown().await;
}

/// A template without `schemas` (or with a foreign one) is still a user (§8: ignore a
/// `schemas` mismatch instead of answering 400).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn onelogin_template_without_schemas() {
    let app = TestApp::spawn().await;
    let un = app.uniq("no.schemas@onelogin.example");
    let u = app
        .post(
            "/scim/v2/Users",
            json!({"userName": un, "name": {"givenName": "No", "familyName": "Schemas"},
            "emails": {"value": un}, "active": true}),
        )
        .expect(201)
        .await;
    assert_user_shape(&u);
    assert_eq!(u["emails"][0]["value"], json!(un));
    assert_user(&app, &un, &un, "ACTIVE").await;
    app.shutdown().await;
}
