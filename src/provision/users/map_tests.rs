//! Tests of the SCIM ⇄ aspect user mapping.

use super::*;
use crate::datahub::aspects::AuditStamp;
use crate::datahub::Urn;
use crate::scim::schema::{ENTERPRISE_URN as ENTERPRISE_SCHEMA, USER_URN as USER_SCHEMA};
use serde_json::json;

const BASE: &str = "https://scim.example/scim/v2";

fn okta_body() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "userName": "Jane.Doe@Example.com",
        "name": {"givenName": "Jane", "familyName": "Doe", "middleName": "Q"},
        "emails": [{"primary": true, "value": "jane@example.com", "type": "work"}],
        "displayName": "Jane Doe",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true,
        "title": "Engineer",
        "addresses": [{"type": "work", "country": "DE", "locality": "Berlin"}],
        ENTERPRISE_SCHEMA: {"department": "Data", "employeeNumber": "42", "manager": {"value": ids::user_id("boss")}},
    })
}

#[test]
fn scim_to_corp_user_info() {
    let info = info_from_scim(&okta_body(), None, true).expect("maps");
    assert!(info.active);
    assert_eq!(info.display_name.as_deref(), Some("Jane Doe"));
    assert_eq!(info.email.as_deref(), Some("jane@example.com"));
    assert_eq!(info.first_name.as_deref(), Some("Jane"));
    assert_eq!(info.last_name.as_deref(), Some("Doe"));
    assert_eq!(info.full_name.as_deref(), Some("Jane Doe"));
    assert_eq!(info.title.as_deref(), Some("Engineer"));
    assert_eq!(info.department_name.as_deref(), Some("Data"));
    assert_eq!(info.country_code.as_deref(), Some("DE"));
    assert_eq!(info.manager_urn, Some(Urn::corp_user("boss")));
    let p = &info.custom_properties;
    assert_eq!(
        p.get("scim.userName").map(String::as_str),
        Some("Jane.Doe@Example.com")
    );
    assert_eq!(
        p.get("scim.externalId").map(String::as_str),
        Some("00ujl29u0le5T6Aj10h7")
    );
    assert_eq!(p.get("scim.locale").map(String::as_str), Some("en-US"));
    assert_eq!(p.get("scim.name.middleName").map(String::as_str), Some("Q"));
    assert_eq!(
        p.get("scim.enterprise.employeeNumber").map(String::as_str),
        Some("42")
    );
    assert!(p.keys().all(|k| k.starts_with("scim.")));
    assert!(
        !p.contains_key("scim.password") && !p.contains_key("scim.groups"),
        "ignored attributes"
    );
    assert_eq!(p.get("scim.managed").map(String::as_str), Some("true"));
    assert_eq!(super::managed_marker(), "scim.managed=true");
}

#[test]
fn the_list_marker_survives_every_rewrite_and_never_renders() {
    // A PUT/PATCH body (or one that forgot everything but userName) rebuilds the
    // scim.* keys from scratch: the marker is written again every time.
    let first = info_from_scim(&okta_body(), None, true).expect("maps");
    let again = info_from_scim(&json!({"userName": "j"}), Some(&first), false).expect("maps");
    assert_eq!(
        again
            .custom_properties
            .get("scim.managed")
            .map(String::as_str),
        Some("true")
    );
    let view = UserView {
        username: "j",
        info: Some(&again),
        ..UserView::default()
    };
    let out = render(&view, "https://x/scim/v2").to_string();
    assert!(!out.contains("managed"), "{out}");
}

#[test]
fn keeps_foreign_custom_properties_and_unowned_fields() {
    let mut existing = CorpUserInfo {
        active: true,
        department_id: Some(7),
        system: Some(false),
        ..Default::default()
    };
    existing
        .custom_properties
        .insert("costCenter".into(), "from-ingestion".into());
    existing
        .custom_properties
        .insert("scim.nickName".into(), "stale".into());
    let info = info_from_scim(&json!({"userName": "j"}), Some(&existing), true).expect("maps");
    assert_eq!(
        info.custom_properties.get("costCenter").map(String::as_str),
        Some("from-ingestion")
    );
    assert!(
        !info.custom_properties.contains_key("scim.nickName"),
        "our stale keys are replaced"
    );
    assert_eq!(info.department_id, Some(7));
    assert_eq!(info.system, Some(false));
}

#[test]
fn active_strings_and_defaults() {
    let info =
        info_from_scim(&json!({"userName": "j", "active": "False"}), None, true).expect("maps");
    assert!(!info.active);
    let info = info_from_scim(&json!({"userName": "j"}), None, false).expect("maps");
    assert!(!info.active, "absent active takes the default given");
    assert!(info_from_scim(&json!({"userName": "j", "active": 3}), None, true).is_err());
}

#[test]
fn entra_manager_string_and_onelogin_empties() {
    let body =
        json!({"userName": "j", "title": "", ENTERPRISE_SCHEMA: {"manager": ids::user_id("m")}});
    let info = info_from_scim(&body, None, true).expect("maps");
    assert_eq!(info.manager_urn, Some(Urn::corp_user("m")));
    assert_eq!(info.title, None);
    let body = json!({"userName": "j", ENTERPRISE_SCHEMA: {"manager": {"value": ""}}});
    assert_eq!(
        info_from_scim(&body, None, true).expect("maps").manager_urn,
        None
    );
    let body = json!({"userName": "j", ENTERPRISE_SCHEMA: {"manager": {"value": "%%%"}}});
    let e = info_from_scim(&body, None, true).expect_err("bad manager id");
    assert_eq!(e.status, 400);
}

#[test]
fn full_name_from_parts_when_not_formatted() {
    let info = info_from_scim(
        &json!({"userName": "j", "name": {"familyName": "Doe"}}),
        None,
        true,
    )
    .expect("maps");
    assert_eq!(info.full_name.as_deref(), Some("Doe"));
}

fn view<'a>(
    username: &'a str,
    info: &'a CorpUserInfo,
    status: Option<&'a CorpUserStatus>,
) -> UserView<'a> {
    UserView {
        username,
        info: Some(info),
        status,
        created_ms: Some(1_760_000_000_000),
        ..Default::default()
    }
}

#[test]
fn renders_what_entra_and_okta_need() {
    let info = info_from_scim(&okta_body(), None, true).expect("maps");
    let u = render(&view("Jane.Doe", &info, None), BASE);
    assert_eq!(u["id"], json!(ids::user_id("Jane.Doe")));
    assert_eq!(u["userName"], json!("Jane.Doe@Example.com"));
    assert_eq!(u["active"], json!(true));
    assert_eq!(u["emails"][0]["value"], json!("jane@example.com"));
    assert_eq!(u["name"]["givenName"], json!("Jane"));
    let ent = &u[ENTERPRISE_SCHEMA];
    assert_eq!(
        ent["manager"]["value"],
        json!(ids::user_id("boss")),
        "manager is an object"
    );
    assert_eq!(ent["department"], json!("Data"));
    assert_eq!(u["meta"]["resourceType"], json!("User"));
    assert_eq!(
        u["meta"]["location"],
        json!(format!("{BASE}/Users/{}", ids::user_id("Jane.Doe")))
    );
    assert!(u.get("password").is_none());
    assert_eq!(u["schemas"], json!([USER_SCHEMA, ENTERPRISE_SCHEMA]));
}

#[test]
fn render_then_map_is_a_fixed_point() {
    // A PATCH that changes nothing must produce no write: mapping the rendered
    // user back gives the same aspect.
    let info = info_from_scim(&okta_body(), None, true).expect("maps");
    let rendered = render(&view("Jane.Doe", &info, None), BASE);
    let again = info_from_scim(&rendered, Some(&info), true).expect("maps back");
    assert_eq!(again, info);
}

#[test]
fn suspended_renders_inactive_and_jit_user_renders_username() {
    let info = CorpUserInfo {
        active: true,
        ..Default::default()
    };
    let st = CorpUserStatus {
        status: UserStatus::Suspended,
        last_modified: AuditStamp::now(Urn::corp_user("x")),
        extra: Default::default(),
    };
    let u = render(&view("jit.user", &info, Some(&st)), BASE);
    assert_eq!(u["active"], json!(false));
    assert_eq!(
        u["userName"],
        json!("jit.user"),
        "no scim.userName: the DataHub username"
    );
    assert!(!is_scim_managed(Some(&info)));
}

#[test]
fn email_changed_in_datahub_wins_over_stored_list() {
    let mut info = info_from_scim(&okta_body(), None, true).expect("maps");
    info.email = Some("new@example.com".into());
    let u = render(&view("j", &info, None), BASE);
    assert_eq!(
        u["emails"],
        json!([{"value": "new@example.com", "type": "work", "primary": true}])
    );
}

#[test]
fn user_name_is_required() {
    let e = info_from_scim(&json!({"displayName": "No Name"}), None, true)
        .expect_err("userName is required");
    assert_eq!(e.status, 400);
    let e = info_from_scim(&json!({"userName": "  "}), None, true).expect_err("blank");
    assert_eq!(e.status, 400);
}

#[test]
fn manager_ids_must_be_usable_urn_keys() {
    // Decodes, but to a key no DataHub urn can have (surrounding whitespace).
    let body =
        json!({"userName": "j", ENTERPRISE_SCHEMA: {"manager": {"value": ids::user_id(" boss")}}});
    let e = info_from_scim(&body, None, true).expect_err("bad manager key");
    assert_eq!(e.status, 400);
}

#[test]
fn lenient_bodies_map_through_the_typed_user() {
    // Formerly `scim_json::lenient_readers`: case-insensitive names, "" as absent,
    // "False" strings, a single object for a multi-valued attribute.
    let body = json!({
        "userName": "j", "Title": "", "NICKNAME": "J", "active": "False",
        "emails": {"value": "a@x"}, "ims": {"value": "j@chat", "type": "xmpp"},
        "phoneNumbers": [{"value": "1", "type": ""}]
    });
    let info = info_from_scim(&body, None, true).expect("maps");
    assert_eq!(info.title, None);
    assert_eq!(
        info.custom_properties
            .get("scim.nickName")
            .map(String::as_str),
        Some("J")
    );
    assert!(!info.active);
    assert_eq!(info.email.as_deref(), Some("a@x"));
    let u = render(&view("j", &info, None), BASE);
    assert_eq!(u["nickName"], json!("J"));
    assert_eq!(u["emails"], json!([{"value": "a@x"}]));
    assert_eq!(u["ims"], json!([{"value": "j@chat", "type": "xmpp"}]));
    // Lists come back exactly as sent (Okta compares what it reads with what it sent).
    assert_eq!(u["phoneNumbers"], json!([{"value": "1", "type": ""}]));
    assert!(u.get("title").is_none());
    assert!(info_from_scim(&json!({"userName": "j", "active": "yes"}), None, true).is_err());
}

#[test]
fn meta_times_are_rfc3339() {
    use crate::scim::resource::rfc3339_millis;
    assert_eq!(rfc3339_millis(0).as_deref(), Some("1970-01-01T00:00:00Z"));
    assert_eq!(
        rfc3339_millis(1_760_000_000_123).as_deref(),
        Some("2025-10-09T08:53:20.123Z")
    );
}

#[test]
fn one_render_made_absolute_equals_the_render_with_the_base() {
    let mut info = info_from_scim(&okta_body(), None, true).expect("maps");
    info.manager_urn = Some(Urn::corp_user("boss"));
    let membership = crate::datahub::aspects::GroupMembership {
        groups: vec![Urn::corp_group("eng"), Urn::corp_group("ops")],
        ..Default::default()
    };
    let v = UserView {
        membership: Some(&membership),
        ..view("Jane.Doe", &info, None)
    };
    let expected = render(&v, BASE);
    let mut got = crate::provision::version::finish(render(&v, ""), BASE);
    let tag = got["meta"]
        .as_object_mut()
        .and_then(|m| m.remove("version"))
        .expect("a version");
    assert_eq!(got, expected);
    assert_eq!(
        tag,
        json!(crate::provision::version::tag_of(&render(&v, ""))),
        "the digest is over the render without the base URL"
    );
    let refs = [
        &expected["groups"][0]["$ref"],
        &expected["groups"][1]["$ref"],
        &expected[ENTERPRISE_SCHEMA]["manager"]["$ref"],
        &expected["meta"]["location"],
    ];
    for r in refs {
        assert!(r.as_str().is_some_and(|r| r.starts_with(BASE)), "{r}");
    }
}
