//! Resources: RFC 7643/7644 examples round-trip, and every IdP create shape parses.

#![allow(clippy::unwrap_used)] // tests may unwrap

use serde_json::{json, Value};

use super::*;
use crate::scim::error::ScimType;
use crate::scim::schema::ENTERPRISE_URN;

fn fixture(s: &str) -> Value {
    serde_json::from_str(s).expect("fixture is JSON")
}

fn meta_of(v: &Value) -> Meta {
    let m = &v["meta"];
    let s = |k: &str| m[k].as_str().map(str::to_owned);
    Meta {
        created: s("created"),
        last_modified: s("lastModified"),
        location: s("location"),
        version: s("version"),
    }
}

/// The fixture as we return it: without what we never return (`password`) or do not
/// model (`groups` is computed by the caller, `ims`, `photos`, `x509Certificates`).
fn without(mut v: Value, keys: &[&str]) -> Value {
    for k in keys {
        v.as_object_mut().unwrap().shift_remove(*k);
    }
    v
}

#[test]
fn rfc7643_minimal_user_round_trips() {
    let f = fixture(include_str!("../fixtures/rfc/7643-8.1-minimal-user.json"));
    let u = User::from_json(&f).unwrap();
    let mut want = f.clone();
    want["active"] = json!(true);
    assert_eq!(u.to_json(f["id"].as_str().unwrap(), &meta_of(&f)), want);
}

#[test]
fn rfc7643_full_user_round_trips() {
    let f = fixture(include_str!("../fixtures/rfc/7643-8.2-full-user.json"));
    let u = User::from_json(&f).unwrap();
    assert_eq!(u.emails.len(), 2);
    assert_eq!(u.addresses[0].primary, Some(true));
    assert!(u.extra.contains_key("ims") && u.extra.contains_key("x509Certificates"));
    assert!(!u.extra.contains_key("password") && !u.extra.contains_key("groups"));
    let out = u.to_json(f["id"].as_str().unwrap(), &meta_of(&f));
    assert_eq!(
        out,
        without(
            f,
            &["password", "groups", "ims", "photos", "x509Certificates"]
        )
    );
    assert!(out.get("password").is_none());
}

#[test]
fn rfc7643_enterprise_user_round_trips() {
    let f = fixture(include_str!(
        "../fixtures/rfc/7643-8.3-enterprise-user.json"
    ));
    let u = User::from_json(&f).unwrap();
    let mgr = u.enterprise.manager.as_ref().unwrap();
    assert_eq!(mgr.value, "26118915-6090-4610-87e4-49d8ca9f808d");
    assert_eq!(mgr.display_name.as_deref(), Some("John Smith"));
    let out = u.to_json(f["id"].as_str().unwrap(), &meta_of(&f));
    assert_eq!(
        out,
        without(
            f,
            &["password", "groups", "ims", "photos", "x509Certificates"]
        )
    );
}

#[test]
fn rfc7643_group_round_trips() {
    let f = fixture(include_str!("../fixtures/rfc/7643-8.4-group.json"));
    let g = Group::from_json(&f).unwrap();
    assert_eq!(g.members.len(), 2);
    assert_eq!(g.to_json(f["id"].as_str().unwrap(), &meta_of(&f)), f);
}

#[test]
fn rfc7644_create_request_gives_the_response() {
    let req = fixture(include_str!("../fixtures/rfc/7644-3.3-create-request.json"));
    let resp = fixture(include_str!(
        "../fixtures/rfc/7644-3.3-create-response.json"
    ));
    let u = User::from_json(&req).unwrap();
    let mut want = resp.clone();
    want["active"] = json!(true);
    assert_eq!(
        u.to_json(resp["id"].as_str().unwrap(), &meta_of(&resp)),
        want
    );
}

#[test]
fn rfc7644_put_request_ignores_id() {
    let req = fixture(include_str!("../fixtures/rfc/7644-3.5.1-put-request.json"));
    let u = User::from_json(&req).unwrap();
    assert_eq!(u.user_name, "bjensen");
    assert!(u.roles.is_empty());
    assert_eq!(
        u.emails
            .iter()
            .map(|e| e.value.as_str())
            .collect::<Vec<_>>(),
        ["bjensen@example.com", "babs@jensen.org"]
    );
    assert!(u.extra.is_empty(), "{:?}", u.extra);
    let out = u.to_json("x", &Meta::default());
    assert!(
        out.get("roles").is_none(),
        "empty multi-valued attributes are omitted"
    );
    assert_eq!(out["id"], "x");
}

#[test]
fn rfc7644_error_bodies() {
    let e404 = fixture(include_str!("../fixtures/rfc/7644-3.12-error-404.json"));
    let err =
        crate::scim::Error::not_found("Resource 2819c223-7f76-453a-919d-413861904646 not found");
    assert_eq!(err.to_body(), e404);
    let emut = fixture(include_str!(
        "../fixtures/rfc/7644-3.12-error-mutability.json"
    ));
    assert_eq!(
        crate::scim::Error::mutability("Attribute 'id' is readOnly").to_body(),
        emut
    );
}

#[test]
fn okta_create_ignores_password_and_groups() {
    let f = fixture(include_str!("../fixtures/idp/okta-2.5-create-user.json"));
    let u = User::from_json(&f).unwrap();
    assert_eq!(u.user_name, "test.user@okta.local");
    assert_eq!(u.external_id.as_deref(), Some("00ujl29u0le5T6Aj10h7"));
    assert_eq!(u.primary_email(), Some("test.user@okta.local"));
    assert!(u.extra.is_empty());
    let out = u.to_json("id1", &Meta::default());
    assert!(out.get("password").is_none() && out.get("groups").is_none());
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert_eq!(out["meta"], json!({"resourceType": "User"}));
}

#[test]
fn entra_create_with_enterprise_schema_but_no_data() {
    let f = fixture(include_str!("../fixtures/idp/entra-3.4-create-user.json"));
    let u = User::from_json(&f).unwrap();
    assert!(u.enterprise.is_empty());
    assert_eq!(
        u.name.as_ref().unwrap().formatted.as_deref(),
        Some("givenName familyName")
    );
    let out = u.to_json("id1", &Meta::default());
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    assert_eq!(out["active"], json!(true));
    assert_eq!(out["emails"][0]["primary"], json!(true));

    let legacy = fixture(include_str!(
        "../fixtures/idp/entra-3.4-create-user-legacy-nulls.json"
    ));
    let u = User::from_json(&legacy).unwrap();
    assert!(u.addresses.is_empty() && u.enterprise.manager.is_none());
    assert_eq!(u.enterprise.department.as_deref(), Some("Sales"));
    let out = u.to_json("id1", &Meta::default());
    assert_eq!(out["schemas"][1], ENTERPRISE_URN);
    assert!(out.get("addresses").is_none());
}

#[test]
fn entra_manager_string_comes_back_as_object() {
    let u = User::from_json(&json!({
        "userName": "a", ENTERPRISE_URN: {"manager": "m1"}
    }))
    .unwrap();
    let out = u.to_json("x", &Meta::default());
    assert_eq!(out[ENTERPRISE_URN]["manager"], json!({"value": "m1"}));
    let old = User::from_json(
        &json!({"userName": "a", ENTERPRISE_URN: {"manager": [{"$ref": "r", "value": "m2"}]}}),
    )
    .unwrap();
    assert_eq!(old.enterprise.manager.unwrap().value, "m2");
}

#[test]
fn onelogin_template_quirks() {
    let f = fixture(include_str!(
        "../fixtures/idp/onelogin-4-template-user.json"
    ));
    let u = User::from_json(&f).unwrap();
    assert_eq!(u.title, None, "empty strings are absent");
    assert_eq!(
        u.primary_email(),
        Some("jdoe@example.com"),
        "a single object is one email"
    );
    assert!(
        u.enterprise.is_empty(),
        "empty manager value and department are absent"
    );
    let out = u.to_json("x", &Meta::default());
    assert!(out["emails"].is_array());
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
}

#[test]
fn lenient_names_booleans_and_dotted_keys() {
    let u = User::from_json(&json!({
        "USERNAME": "Alice", "Active": "False", "name.givenName": "A",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "D",
        "emails": [{"value": "a@x", "Primary": "true"}],
        "customThing": 1, "urn:okta:custom:group:1.0": {"description": "d"}
    }))
    .unwrap();
    assert_eq!(u.user_name, "Alice");
    assert!(!u.active);
    assert_eq!(u.name.unwrap().given_name.as_deref(), Some("A"));
    assert_eq!(u.enterprise.department.as_deref(), Some("D"));
    assert_eq!(u.emails[0].primary, Some(true));
    assert!(
        u.extra.contains_key("customThing") && u.extra.contains_key("urn:okta:custom:group:1.0")
    );
    assert!(User::from_json(&json!({"userName": "a", "active": "yes"})).is_err());
    assert!(User::from_json(&json!({"userName": "a", "title": 5})).is_err());
}

#[test]
fn required_attributes() {
    for bad in [
        json!({}),
        json!({"userName": ""}),
        json!({"userName": null}),
        json!({"userName": "  "}),
    ] {
        let e = User::from_json(&bad).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
    }
    let e = Group::from_json(&json!({"members": []})).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    let e =
        Group::from_json(&json!({"displayName": "g", "members": [{"display": "x"}]})).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert_eq!(
        User::from_json(&json!([])).unwrap_err().scim_type,
        Some(ScimType::InvalidSyntax)
    );
}

#[test]
fn idp_group_shapes() {
    let okta = Group::from_json(&fixture(include_str!(
        "../fixtures/idp/okta-2.9-create-group.json"
    )))
    .unwrap();
    assert!(okta.members.is_empty());
    assert!(okta.to_json("g", &Meta::default()).get("members").is_none());
    let aiw = Group::from_json(&fixture(include_str!(
        "../fixtures/idp/okta-9-aiw-put-group.json"
    )))
    .unwrap();
    assert_eq!(
        aiw.members,
        vec![Member {
            value: "u1".into(),
            display: Some("a@x".into()),
            ..Member::default()
        }]
    );
    let entra = Group::from_json(&fixture(include_str!(
        "../fixtures/idp/entra-3.5-create-group.json"
    )))
    .unwrap();
    assert_eq!(entra.display_name, "displayName");
    assert!(
        entra.extra.is_empty(),
        "schemas and meta are not extra: {:?}",
        entra.extra
    );
    let refnull = Group::from_json(
        &json!({"displayName": "g", "members": [{"$ref": null, "value": "u1"}, {"value": "u1"}]}),
    )
    .unwrap();
    assert_eq!(
        refnull.members,
        vec![Member::new("u1")],
        "null $ref accepted, duplicates dropped"
    );
}

#[test]
fn schemas_must_name_the_resource_type_when_given() {
    // Issue 9: a string, or only unknown URNs, is 400 invalidSyntax.
    for bad in [
        json!({"schemas": "urn:ietf:params:scim:schemas:core:2.0:User", "userName": "a"}),
        json!({"schemas": ["urn:example:not-a-user"], "userName": "a"}),
        json!({"schemas": [42], "userName": "a"}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "a"}),
    ] {
        let e = User::from_json(&bad).expect_err("refused");
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax), "{bad}");
    }
    for good in [
        json!({"userName": "a"}),
        json!({"schemas": [], "userName": "a"}),
        json!({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "a"}),
        json!({"schemas": ["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"], "userName": "a"}),
        json!({"schemas": [ENTERPRISE_URN], "userName": "a"}),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/User"], "userName": "a"}),
    ] {
        assert!(User::from_json(&good).is_ok(), "{good}");
    }
    let e = Group::from_json(
        &json!({"schemas": "urn:ietf:params:scim:schemas:core:2.0:Group",
        "displayName": "g"}),
    )
    .expect_err("string");
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    let e = Group::from_json(
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "g"}),
    )
    .expect_err("a User schema on a Group");
    assert_eq!(e.status, 400);
    // Entra's group create lists a vendor URN next to the core one.
    assert!(Group::from_json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"], "displayName": "g"}))
    .is_ok());
}
