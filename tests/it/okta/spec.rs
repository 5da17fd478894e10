//! Okta's own spec test sequence (idp-scim-clients.md §2.12) and the userName rules it
//! probes: case-insensitive lookups, special characters, renames, `meta`.

use crate::fixture;
use crate::harness::TestApp;
use crate::support::datahub::{assert_group, assert_user};
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::json;

/// Okta's Runscope/BlazeMeter spec test (idp-scim-clients.md §2.12), in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_spec_test_sequence() {
    let app = TestApp::spawn().await;
    // The suite expects at least one user to exist.
    let seed = format!("{}@example.com", app.uniq("spec.seed"));
    app.post(
        "/scim/v2/Users",
        fixture(
            "okta/spec_create_user.json",
            &[
                ("userName", &seed),
                ("givenName", "Seed"),
                ("familyName", "User"),
            ],
        ),
    )
    .plain_json()
    .expect(201)
    .await;

    // 1. GET /Users?count=1&startIndex=1
    let v = app
        .get("/scim/v2/Users?count=1&startIndex=1")
        .expect(200)
        .await;
    let r = assert_list(&v, 1);
    assert_eq!(r.len(), 1, "{v}");
    let first = &r[0];
    // The suite requires these on the first listed user; DataHub's root user `datahub`
    // (no name, no email) must therefore never be listed first — only SCIM-managed
    // users are SCIM resources.
    assert!(
        first["name"]["givenName"].is_string() && first["name"]["familyName"].is_string(),
        "{first}"
    );
    assert!(first["emails"][0]["value"].is_string(), "{first}");
    assert!(first["id"].is_string());
    assert!(first["userName"].is_string());
    assert!(first["active"].is_boolean());
    // 2. GET /Users/{id}
    let id = first["id"].as_str().expect("id");
    let u = app.get(&user_path(id)).expect(200).await;
    assert_eq!(u["id"], first["id"]);
    assert_eq!(u["userName"], first["userName"]);
    // 3. Filter on a username that does not exist.
    assert!(lookup_user(&app, "doesnotexist@example.com")
        .await
        .is_empty());
    // 4. An id that does not exist: 404 with the Error schema and a detail.
    let e = app
        .get("/scim/v2/Users/010101001010101011001010101011")
        .expect(404)
        .await;
    assert_error(&e, 404, None);
    assert!(e["detail"].as_str().is_some_and(|d| !d.is_empty()), "{e}");
    // 5. Filter on a random new username.
    let un = format!(
        "{}@example.com",
        app.uniq(&format!(
            "spec{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        ))
    );
    assert!(lookup_user(&app, &un).await.is_empty());
    // 6. Create it (Content-Type: application/json).
    let c = app
        .post(
            "/scim/v2/Users",
            fixture(
                "okta/spec_create_user.json",
                &[
                    ("userName", &un),
                    ("givenName", "Spec"),
                    ("familyName", "Tester"),
                ],
            ),
        )
        .plain_json()
        .expect(201)
        .await;
    assert_eq!(c["userName"], json!(un));
    assert_eq!(c["name"]["givenName"], json!("Spec"));
    assert_eq!(c["name"]["familyName"], json!("Tester"));
    assert_eq!(c["active"], json!(true));
    let cid = c["id"].as_str().expect("id").to_owned();
    // 7. GET it.
    let g = app.get(&user_path(&cid)).expect(200).await;
    assert_eq!(g["userName"], json!(un));
    // 8. Create it again: 409.
    let e = app
        .post(
            "/scim/v2/Users",
            fixture(
                "okta/spec_create_user.json",
                &[
                    ("userName", &un),
                    ("givenName", "Spec"),
                    ("familyName", "Tester"),
                ],
            ),
        )
        .plain_json()
        .expect(409)
        .await;
    assert_error(&e, 409, Some("uniqueness"));
    // 9. Filter with the username upper-cased finds it (userName is caseExact=false).
    let found = lookup_user(&app, &un.to_uppercase()).await;
    assert_eq!(ids(&found), vec![cid.clone()]);
    // 10. GET /Groups
    let v = app.get("/scim/v2/Groups").expect(200).await;
    assert_list(&v, 1);
    // 11. A bad credential: 401 with an Error body whose status is "401".
    let e = app
        .get("/scim/v2/Users")
        .authorization("non-token")
        .expect(401)
        .await;
    assert_error(&e, 401, None);
    let e = app.get("/scim/v2/Users").no_auth().expect(401).await;
    assert_error(&e, 401, None);
    let e = app
        .get("/scim/v2/Users")
        .token("eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl")
        .expect(401)
        .await;
    assert_error(&e, 401, None);
    // 12. Another unknown id.
    let e = app
        .get("/scim/v2/Users/00919288221112222")
        .expect(404)
        .await;
    assert_error(&e, 404, None);
    // And the DataHub side of step 6.
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["firstName"], json!("Spec"));
    app.shutdown().await;
}

/// Names with `+`, `&`, `/` and non-ASCII: userName lookups with Okta's encoding, and
/// group urns with `URLEncoder` encoding (as DataHub's OIDC group extraction makes them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_names_with_special_characters() {
    let app = TestApp::spawn().await;
    let un = format!("{}+scim@example.com", app.uniq("jöhn.o'neil"));
    let u = create_user(&app, &un).await;
    let id = u["id"].as_str().expect("id").to_owned();
    assert_eq!(id, user_id(&un));
    assert_eq!(u["userName"], json!(un));
    assert_eq!(ids(&lookup_user(&app, &un).await), vec![id.clone()]);
    assert_user(&app, &un, &un, "ACTIVE").await;

    let display = app.uniq("R&D / Ünïcode team");
    let g = create_group(&app, &display).await;
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(gid, group_id(&display));
    let gurn = group_urn(&display);
    assert!(
        gurn.starts_with("urn:li:corpGroup:R%26D+%2F+%C3%9Cn%C3%AFcode+team"),
        "{gurn}"
    );
    assert_group(&app, &display).await;
    assert_eq!(ids(&lookup_group(&app, &display).await), vec![gid.clone()]);
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
    )
    .await;
    assert_eq!(app.groups_of(&user_urn(&un)).await, vec![gurn]);
    app.shutdown().await;
}

/// userName is caseExact=false (RFC 7643 §4.1.1): an upper-cased non-ASCII userName
/// (as Okta's spec test upper-cases) still finds the user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "product: userName eq folds ASCII case only (reported to the lead)"]
async fn okta_username_filter_folds_non_ascii_case() {
    let app = TestApp::spawn().await;
    let un = format!("{}@example.com", app.uniq("jöhn.ürün"));
    let id = create_user(&app, &un).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(ids(&lookup_user(&app, &un.to_uppercase()).await), vec![id]);
    app.shutdown().await;
}

/// `meta.created` and `meta.lastModified` (RFC 7643 §3.1) on users, as groups have them;
/// Okta echoes `meta` on every PUT and scim-sanity requires `created`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_meta_has_created_and_last_modified() {
    let app = TestApp::spawn().await;
    let un = app.uniq("meta.user");
    let u = create_user(&app, &un).await;
    for f in ["created", "lastModified"] {
        let t = u["meta"][f]
            .as_str()
            .unwrap_or_else(|| panic!("meta.{f}: {u}"));
        assert!(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok(),
            "{t}"
        );
    }
    let g = app
        .get(&user_path(u["id"].as_str().expect("id")))
        .expect(200)
        .await;
    assert_eq!(g["meta"]["created"], u["meta"]["created"]);
    app.shutdown().await;
}

/// An admin who pastes the PAT of a user without "Manage Users & Groups" learns it at
/// "Test Connector Configuration": 403 with a SCIM error, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_test_connection_with_an_unprivileged_token_is_403() {
    let app = TestApp::spawn().await;
    let emu = crate::require_emulator!(app);
    let token = emu.create_user_token("just.a.reader", false);
    let e = app
        .get("/scim/v2/Users?startIndex=1&count=2")
        .token(&token)
        .expect(403)
        .await;
    assert_error(&e, 403, None);
    let un = "never.created@okta.local";
    let body = fixture(
        "okta/create_user.json",
        &[("userName", un), ("externalId", "00unever")],
    );
    app.post("/scim/v2/Users", body)
        .token(&token)
        .expect(403)
        .await;
    assert!(!app.exists(&user_urn(un)).await);
    app.shutdown().await;
}
