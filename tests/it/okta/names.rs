//! Names Okta and Entra send that must not become DataHub users (issue 9): control,
//! bidi-override and zero-width characters, DataHub's own users, and `userName`s that
//! differ from an existing SCIM user's only in case.

use serde_json::{json, Value};

use crate::fixture;
use crate::harness::{keys, TestApp};
use crate::support::flows::*;
use crate::support::scim::*;

fn okta(user_name: &str) -> Value {
    let mut body = fixture(
        "okta/create_user.json",
        &[("userName", "placeholder"), ("externalId", "00unames")],
    );
    body["userName"] = json!(user_name);
    body["emails"][0]["value"] = json!(user_name);
    body
}

/// `{"userName":"datahub\nx"}` once answered 201 and adopted DataHub's root user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_and_bidi_characters_are_400_and_the_root_user_is_untouched() {
    let app = TestApp::spawn().await;
    let root = user_urn("datahub");
    let before = app.aspect(&root, "corpUserInfo").await;
    for bad in [
        "datahub\nx",
        "datahub\u{0}",
        "da\ttahub",
        "admin\u{202E}moc.elpmaxe@evil.com",
        "jane\u{200B}doe@example.com",
    ] {
        let r = app.post("/scim/v2/Users", okta(bad)).send().await;
        assert_eq!(
            r.status,
            400,
            "{bad:?}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.assert_scim_envelope();
        assert_eq!(r.json()["scimType"], "invalidValue", "{bad:?}");
        // Entra's body shape, same answer.
        let mut entra = fixture(
            "entra/create_user.json",
            &[("userName", "placeholder"), ("externalId", "e-names")],
        );
        entra["userName"] = json!(bad);
        let r = app.post("/scim/v2/Users", entra).send().await;
        assert_eq!(r.status, 400, "Entra {bad:?}");
    }
    assert_eq!(app.aspect(&root, "corpUserInfo").await, before);
    assert!(lookup_user(&app, "datahub").await.is_empty());
    app.shutdown().await;
}

/// DataHub's own users are never adopted, whatever the name rule yields: with
/// DataHub's Helm-default regex `([^@]+)`, `datahub@corp.example` yields `datahub`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datahubs_own_users_are_never_adopted() {
    let app = TestApp::builder()
        .config(keys::USERNAME_REGEX, "([^@]+)")
        .spawn()
        .await;
    let root = user_urn("datahub");
    let before = app.aspect(&root, "corpUserInfo").await;
    for name in [
        "datahub@corp.example",
        "__datahub_system@corp.example",
        "service_ingestion@corp.example",
    ] {
        let r = app.post("/scim/v2/Users", okta(name)).send().await;
        assert_eq!(
            r.status,
            400,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json()["scimType"], "invalidValue");
    }
    assert_eq!(app.aspect(&root, "corpUserInfo").await, before);
    app.get(&user_path(&user_id("datahub"))).expect(404).await;
    app.delete(&user_path(&user_id("datahub")))
        .expect(404)
        .await;
    app.shutdown().await;
}

/// Okta's create flow with a case variant: the pre-create lookup finds the existing
/// user (so Okta links it), and a create anyway is 409 uniqueness, non-ASCII letters
/// included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_variants_of_a_user_name_are_one_user() {
    let app = TestApp::spawn().await;
    let first = app
        .post("/scim/v2/Users", okta("dup@example.com"))
        .expect(201)
        .await;
    let second = app
        .post("/scim/v2/Users", okta("Ærøskøbing.ÖZTÜRK@example.com"))
        .expect(201)
        .await;
    for (variant, existing) in [
        ("DUP@EXAMPLE.COM", &first),
        ("ærøskøbing.öztürk@EXAMPLE.com", &second),
    ] {
        let found = lookup_user(&app, variant).await;
        assert_eq!(
            ids(&found),
            vec![existing["id"].as_str().expect("id")],
            "{variant}"
        );
        let r = app.post("/scim/v2/Users", okta(variant)).send().await;
        assert_eq!(
            r.status,
            409,
            "{variant}: {}",
            String::from_utf8_lossy(&r.body)
        );
        r.assert_scim_envelope();
        assert_eq!(r.json()["scimType"], "uniqueness");
        assert!(
            !app.exists(&user_urn(variant)).await,
            "{variant}: not created"
        );
    }
    app.shutdown().await;
}
