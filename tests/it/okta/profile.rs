//! Okta's default "To App" mappings (idp-scim-clients.md §2.6): a create carrying every
//! mapped attribute must round-trip losslessly through GET and PUT (Okta re-sends what
//! it read), and land in the DataHub fields that exist for it.

use serde_json::{json, Value};

use crate::harness::TestApp;
use crate::support::datahub::assert_user;
use crate::support::flows::*;
use crate::support::scim::*;

/// Everything Okta's SCIM 2.0 template maps by default, as Okta would send it.
fn full_profile(user_name: &str, manager_id: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace", "middleName": "Augusta",
                 "honorificPrefix": "Dr.", "honorificSuffix": "PhD"},
        "emails": [
            {"primary": true, "value": user_name, "type": "work"},
            {"value": "ada.home@example.org", "type": ""}
        ],
        "displayName": "Ada Lovelace",
        "nickName": "ada",
        "profileUrl": "https://intranet.example.com/ada",
        "title": "Analyst",
        "userType": "Employee",
        "preferredLanguage": "en-GB",
        "locale": "en-GB",
        "timezone": "Europe/London",
        "phoneNumbers": [
            {"primary": true, "value": "+44 20 7946 0000", "type": "work"},
            {"value": "+44 7700 900000", "type": "mobile"}
        ],
        "addresses": [{"primary": true, "type": "work", "streetAddress": "1 Analytical Row",
                       "locality": "London", "region": "LND", "postalCode": "N1 9GU", "country": "GB"}],
        "externalId": "00uada00000000000000",
        "groups": [],
        "password": "ignored-by-the-server",
        "active": true,
        ENTERPRISE: {
            "employeeNumber": "1815", "costCenter": "CC-42", "organization": "Engines",
            "division": "Research", "department": "Mathematics",
            "manager": {"value": manager_id, "displayName": "Charles Babbage"}
        }
    })
}

/// The body without what a server must not echo (password, groups: []), with the
/// manager reduced to its value and without a server-composed `name.formatted`, for
/// comparisons.
fn comparable(v: &Value) -> Value {
    let mut v = v.clone();
    let o = v.as_object_mut().expect("object");
    for k in ["password", "groups", "meta", "id", "schemas"] {
        o.remove(k);
    }
    if let Some(n) = o.get_mut("name").and_then(Value::as_object_mut) {
        n.remove("formatted");
    }
    if let Some(m) = o
        .get_mut(ENTERPRISE)
        .and_then(|e| e.get_mut("manager"))
        .and_then(Value::as_object_mut)
    {
        m.retain(|k, _| k == "value");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_full_profile_round_trips() {
    let app = TestApp::spawn().await;
    let boss = app.uniq("charles.babbage@example.com");
    let boss_id = create_user(&app, &boss).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let un = app.uniq("ada.lovelace@example.com");
    let body = full_profile(&un, &boss_id);
    let created = app.post("/scim/v2/Users", body.clone()).expect(201).await;
    assert_user_shape(&created);
    let id = created["id"].as_str().expect("id").to_owned();
    assert!(created.get("password").is_none());
    assert!(
        created["schemas"]
            .as_array()
            .expect("schemas")
            .iter()
            .any(|s| s == ENTERPRISE),
        "{created}"
    );
    assert_eq!(
        comparable(&created),
        comparable(&body),
        "POST echoes every mapped attribute"
    );

    let got = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(
        comparable(&got),
        comparable(&body),
        "GET returns every mapped attribute"
    );

    // DataHub fields that exist for them.
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["email"], json!(un), "primary email");
    assert_eq!(info["firstName"], json!("Ada"));
    assert_eq!(info["lastName"], json!("Lovelace"));
    assert_eq!(info["displayName"], json!("Ada Lovelace"));
    assert_eq!(info["title"], json!("Analyst"));
    assert_eq!(info["departmentName"], json!("Mathematics"));
    assert_eq!(info["countryCode"], json!("GB"));
    assert_eq!(info["managerUrn"], json!(user_urn(&boss)));

    // Okta's profile push: PUT what it read with one change; nothing else moves.
    let mut put = got.clone();
    put["title"] = json!("Senior Analyst");
    put["password"] = json!("again");
    let after = app.put(&user_path(&id), put).expect(200).await;
    let mut want = comparable(&body);
    want["title"] = json!("Senior Analyst");
    assert_eq!(comparable(&after), want, "PUT round trip is lossless");
    assert_eq!(
        comparable(&app.get(&user_path(&id)).expect(200).await),
        want
    );
    assert_eq!(
        app.aspect(&user_urn(&un), "corpUserInfo")
            .await
            .expect("info")["title"],
        json!("Senior Analyst")
    );
    app.shutdown().await;
}
