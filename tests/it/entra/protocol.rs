//! What Entra's strict client needs beyond resources: discovery documents and 4xx (never
//! 5xx) answers to malformed requests.

use crate::harness::TestApp;
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::{json, Value};

use super::{entra_create, FLAG};

/// Discovery (RFC 7644 §4): Entra reads `/Schemas` when the provisioning config is
/// saved; Okta's entitlement templates read all three. What is advertised must match
/// what the gateway does: PATCH yes, bulk (with its limits), no passwords, ETags, bearer tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_schema_discovery() {
    let app = TestApp::spawn().await;
    for prefix in ["/scim/v2", "/openapi/scim/v2"] {
        let spc = app
            .get(&format!("{prefix}/ServiceProviderConfig?{FLAG}"))
            .expect(200)
            .await;
        check_service_provider_config(&spc);
        let s = app.get(&format!("{prefix}/Schemas")).expect(200).await;
        check_schemas(&s);
        let rt = app
            .get(&format!("{prefix}/ResourceTypes"))
            .expect(200)
            .await;
        check_resource_types(&rt);
    }
    let u = app
        .get(&format!("/scim/v2/Schemas/{USER_SCHEMA}"))
        .expect(200)
        .await;
    assert_eq!(u["id"], json!(USER_SCHEMA));
    let r = app.get("/scim/v2/ResourceTypes/User").expect(200).await;
    assert_eq!(r["endpoint"], json!("/Users"));
    app.get("/scim/v2/Schemas/urn:example:nope")
        .expect(404)
        .await;
    app.shutdown().await;
}

pub fn check_service_provider_config(v: &Value) {
    assert!(
        v["schemas"].as_array().is_some_and(|s| s
            .iter()
            .any(|x| x == "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig")),
        "{v}"
    );
    assert_eq!(v["patch"]["supported"], json!(true), "{v}");
    assert_eq!(v["bulk"]["supported"], json!(true), "{v}");
    assert_eq!(v["bulk"]["maxOperations"], json!(100), "{v}");
    assert_eq!(v["bulk"]["maxPayloadSize"], json!(1_048_576), "{v}");
    assert_eq!(v["filter"]["supported"], json!(true), "{v}");
    assert!(v["filter"]["maxResults"].is_u64(), "{v}");
    assert_eq!(
        v["changePassword"]["supported"],
        json!(false),
        "passwords are never stored: {v}"
    );
    assert_eq!(v["etag"]["supported"], json!(true), "{v}");
    assert!(v["sort"]["supported"].is_boolean(), "{v}");
    let schemes = v["authenticationSchemes"]
        .as_array()
        .expect("authenticationSchemes");
    assert!(
        schemes.iter().any(|s| s["type"] == "oauthbearertoken"),
        "{v}"
    );
}

pub fn check_schemas(v: &Value) {
    let res = assert_list(v, 1);
    let ids: Vec<&str> = res.iter().filter_map(|s| s["id"].as_str()).collect();
    for want in [USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE] {
        assert!(ids.contains(&want), "{want} advertised: {ids:?}");
    }
    let user = res
        .iter()
        .find(|s| s["id"] == USER_SCHEMA)
        .expect("user schema");
    let attrs = user["attributes"].as_array().expect("attributes");
    let user_name = attrs
        .iter()
        .find(|a| a["name"] == "userName")
        .expect("userName attribute");
    assert_eq!(user_name["caseExact"], json!(false), "{user_name}");
    assert_eq!(user_name["uniqueness"], json!("server"), "{user_name}");
    assert_eq!(user_name["required"], json!(true), "{user_name}");
    let active = attrs
        .iter()
        .find(|a| a["name"] == "active")
        .expect("active attribute");
    assert_eq!(active["type"], json!("boolean"));
    let group = res
        .iter()
        .find(|s| s["id"] == GROUP_SCHEMA)
        .expect("group schema");
    let members = group["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .find(|a| a["name"] == "members")
        .expect("members");
    assert_eq!(members["multiValued"], json!(true));
}

pub fn check_resource_types(v: &Value) {
    let res = assert_list(v, 1);
    let user = res
        .iter()
        .find(|r| r["name"] == "User")
        .expect("User resource type");
    assert_eq!(user["endpoint"], json!("/Users"));
    assert_eq!(user["schema"], json!(USER_SCHEMA));
    let ext = user["schemaExtensions"]
        .as_array()
        .expect("schemaExtensions");
    assert!(ext.iter().any(|e| e["schema"] == ENTERPRISE), "{user}");
    let group = res
        .iter()
        .find(|r| r["name"] == "Group")
        .expect("Group resource type");
    assert_eq!(group["endpoint"], json!("/Groups"));
    assert_eq!(group["schema"], json!(GROUP_SCHEMA));
}

/// Entra quarantines an app that answers 5xx, so every malformed request must be a 4xx
/// SCIM error (idp-scim-clients.md §3.6, §8 "avoid 5xx for validation problems").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_malformed_requests_are_4xx_scim_errors() {
    let app = TestApp::spawn().await;
    let (id, _) = entra_create(&app, &app.uniq("Test_User_4xx")).await;
    let gid = create_group(&app, &app.uniq("4xx Group")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let cases: Vec<(&str, crate::support::http::Req)> = vec![
        ("malformed JSON", {
            let mut r = app.post("/scim/v2/Users", json!(null));
            r.body = Some(bytes::Bytes::from_static(b"{\"userName\": "));
            r
        }),
        ("no userName", app.post("/scim/v2/Users", json!({"schemas": [USER_SCHEMA], "active": true}))),
        ("userName not a string", app.post("/scim/v2/Users", json!({"schemas": [USER_SCHEMA], "userName": 42}))),
        ("unknown PATCH op", app.patch(&user_path(&id), patch(json!([{"op": "Move", "path": "active", "value": false}])))),
        ("PatchOp without Operations", app.patch(&user_path(&id), json!({"schemas": [PATCH_OP]}))),
        ("active not a boolean", app.patch(&user_path(&id), patch(json!([{"op": "Replace", "path": "active", "value": "maybe"}])))),
        ("bad filter", app.get(&format!("/scim/v2/Users?filter={}", enc_plus("userName eq")))),
        ("unbalanced filter", app.get(&format!("/scim/v2/Users?filter={}", enc_plus("(userName eq \"a\"")))),
        ("member that is no user", app.patch(&group_path(&gid), patch(json!([{"op": "Add", "path": "members", "value": [{"value": "bm8tc3VjaC11c2Vy"}]}])))),
        ("member without value", app.patch(&group_path(&gid), patch(json!([{"op": "Add", "path": "members", "value": [{"display": "x"}]}])))),
        ("group without displayName", app.post("/scim/v2/Groups", json!({"schemas": [GROUP_SCHEMA]}))),
    ];
    for (what, req) in cases {
        let r = req.send().await;
        assert!(
            (400..500).contains(&r.status),
            "{what}: got {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        r.assert_scim_envelope();
    }
    // Nothing above changed the user or the group.
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(u["active"], json!(true));
    assert!(members(&app, &gid).await.is_empty());
    app.shutdown().await;
}

/// Issue 9: lenient input that is now `400`: `schemas` as a string or naming no User
/// schema, and filter values of the wrong type for the attribute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemas_and_filter_values_of_the_wrong_type_are_400() {
    let app = TestApp::spawn().await;
    for schemas in [
        json!("urn:ietf:params:scim:schemas:core:2.0:User"),
        json!(["urn:example:unknown"]),
    ] {
        let body = json!({"schemas": schemas, "userName": "strict@example.com"});
        let r = app.post("/scim/v2/Users", body).send().await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
        r.assert_scim_envelope();
        assert_eq!(r.json()["scimType"], "invalidSyntax");
    }
    for filter in [r#"active eq "yes""#, r#"meta.lastModified gt "garbage""#] {
        let r = app
            .get(&format!("/scim/v2/Users?filter={}", enc(filter)))
            .send()
            .await;
        assert_eq!(r.status, 400, "{filter}");
        r.assert_scim_envelope();
        assert_eq!(r.json()["scimType"], "invalidFilter", "{filter}");
    }
    app.get(&format!(
        "/scim/v2/Users?filter={}",
        enc(r#"active eq true and meta.lastModified gt "2020-01-01T00:00:00Z""#)
    ))
    .expect(200)
    .await;
    app.shutdown().await;
}
