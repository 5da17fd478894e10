//! Microsoft Entra ID's non-gallery `scim` job (idp-scim-clients.md §3): test
//! connection, create with the enterprise extension, the legacy PATCH dialect
//! (capitalised ops, "True"/"False" strings) and the `aadOptscim062020` one, manager,
//! groups with `$ref: null` value lists, and hard delete followed by a re-hire.

use crate::fixture;
use crate::harness::TestApp;
use crate::support::scim::*;
use serde_json::{json, Value};

mod filters;
mod groups;
mod protocol;
mod users;

/// The query flag that switches Entra to RFC-compliant PATCH; it rides on every URL.
const FLAG: &str = "aadOptscim062020";

fn guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// `GET /Users?filter=userName eq "…"` as Entra sends it (form-encoded).
async fn entra_lookup(app: &TestApp, user_name: &str, flag: bool) -> Vec<Value> {
    let f = enc_plus(&format!("userName eq \"{user_name}\""));
    let q = if flag {
        format!("{FLAG}&filter={f}")
    } else {
        format!("filter={f}")
    };
    let v = app.get(&format!("/scim/v2/Users?{q}")).expect(200).await;
    assert_list(&v, 1)
}

async fn entra_create(app: &TestApp, user_name: &str) -> (String, String) {
    let ext = guid();
    let body = fixture(
        "entra/create_user.json",
        &[("userName", user_name), ("externalId", &ext)],
    );
    let u = app
        .post("/scim/v2/Users", body)
        .content_type("application/scim+json")
        .expect(201)
        .await;
    assert_user_shape(&u);
    assert_eq!(u["userName"], json!(user_name));
    assert_eq!(u["externalId"], json!(ext));
    assert_eq!(u["active"], json!(true));
    assert_eq!(
        u["emails"][0]["value"],
        json!(format!("{user_name}@testuser.com"))
    );
    assert_eq!(u["name"]["givenName"], json!("givenName"));
    (u["id"].as_str().expect("id").to_owned(), ext)
}
