//! IdP PATCH shapes of idp-scim-clients.md (§2.8, §2.9, §3.4, §3.5, §9), replayed from `fixtures/idp`.

#![allow(clippy::unwrap_used)] // tests may unwrap

use serde_json::json;

use super::*;
use crate::scim::schema::{ResourceKind, ENTERPRISE_URN};

// === Okta ===

#[test]
fn okta_deactivate_and_password_sync() {
    let mut u = bjensen();
    let c = user_patch(
        &mut u,
        include_str!("../../fixtures/idp/okta-2.8-deactivate.json"),
    )
    .unwrap();
    assert_eq!(u["active"], json!(false));
    assert_eq!(c.attributes, ["active"]);
    let before = u.clone();
    let c = user_patch(
        &mut u,
        include_str!("../../fixtures/idp/okta-2.8-password-sync.json"),
    )
    .unwrap();
    assert!(!c.changed);
    assert_eq!(u, before, "passwords are not stored");
}

#[test]
fn okta_rename_carries_the_id_and_leaves_members_alone() {
    let r = req(include_str!("../../fixtures/idp/okta-2.9-rename.json"));
    let mut g = json!({"schemas": [crate::scim::schema::GROUP_URN], "id": "g1", "displayName": "Old", "members": [{"value": "u1"}]});
    let c = apply(&mut g, &r, ResourceKind::Group).unwrap();
    assert_eq!(g["displayName"], "X");
    assert_eq!(member_values(&g), ["u1"]);
    assert_eq!(c.attributes, ["displayName"]);
    let plan = plan_group(&r).unwrap();
    assert!(
        plan.members.is_empty(),
        "no `members` key: members untouched"
    );
    assert_eq!(plan.other, r);
    // A different id is a real attempt to change a readOnly attribute.
    let mut other = json!({"id": "g2", "displayName": "Old"});
    let e = apply(&mut other, &r, ResourceKind::Group).unwrap_err();
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::Mutability)));
    assert_eq!(other["displayName"], "Old");
}

#[test]
fn okta_membership_and_push() {
    let r = req(include_str!("../../fixtures/idp/okta-2.9-membership.json"));
    let plan = plan_group(&r).unwrap();
    assert_eq!(
        plan.members,
        [
            MemberOp::Remove(vec!["89bb1940-b905-4575-9e7f-6f887cfb368e".into()]),
            MemberOp::Add(vec!["23a35c27-23d3-4c03-b4c5-6443c09e7173".into()])
        ]
    );
    let mut g = json!({"id": "g", "displayName": "G", "members": [{"value": "89bb1940-b905-4575-9e7f-6f887cfb368e"}]});
    apply(&mut g, &r, ResourceKind::Group).unwrap();
    assert_eq!(member_values(&g), ["23a35c27-23d3-4c03-b4c5-6443c09e7173"]);

    let push = req(include_str!("../../fixtures/idp/okta-2.9-push-empty.json"));
    assert_eq!(
        plan_group(&push).unwrap().members,
        [MemberOp::Replace(vec![])]
    );
    apply(&mut g, &push, ResourceKind::Group).unwrap();
    assert!(g.get("members").is_none());
}

// === Entra ===

#[test]
fn entra_manager_add_and_remove() {
    let mut u = json!({"schemas": [crate::scim::schema::USER_URN], "id": "1", "userName": "a"});
    let c = user_patch(
        &mut u,
        include_str!("../../fixtures/idp/entra-3.4-manager-add.json"),
    )
    .unwrap();
    assert_eq!(u[ENTERPRISE_URN]["manager"], json!({"value": "m1"}));
    assert_eq!(u["schemas"][1], ENTERPRISE_URN);
    assert_eq!(c.attributes, [format!("{ENTERPRISE_URN}:manager")]);
    assert!(c.touched(&format!("{ENTERPRISE_URN}:MANAGER")));
    let typed = User::from_json(&u).unwrap();
    assert_eq!(typed.enterprise.manager.unwrap().value, "m1");
    user_patch(
        &mut u,
        include_str!("../../fixtures/idp/entra-3.4-manager-remove.json"),
    )
    .unwrap();
    assert!(u.get(ENTERPRISE_URN).is_none(), "empty extension dropped");
    assert_eq!(u["schemas"], json!([crate::scim::schema::USER_URN]));
}

#[test]
fn entra_legacy_update() {
    let mut u = bjensen();
    let c = user_patch(
        &mut u,
        include_str!("../../fixtures/idp/entra-3.4-update-legacy.json"),
    )
    .unwrap();
    assert_eq!(
        u["emails"][0],
        json!({"value": "new@contoso.com", "type": "work", "primary": true})
    );
    assert_eq!(u["name"]["familyName"], "NewName");
    assert_eq!(u[ENTERPRISE_URN]["department"], "Retail");
    assert_eq!(
        c.attributes,
        [
            "name".to_owned(),
            "emails".into(),
            format!("{ENTERPRISE_URN}:department")
        ]
    );
    // On a user without a work email, both Add and Replace create the entry.
    for op in ["Add", "Replace"] {
        let mut u =
            json!({"id": "1", "userName": "a", "emails": [{"value": "h@x", "type": "home"}]});
        let body = format!(
            r#"{{"Operations":[{{"op":"{op}","path":"emails[type eq \"work\"].value","value":"w@x"}}]}}"#
        );
        user_patch(&mut u, &body).unwrap();
        assert_eq!(
            u["emails"],
            json!([{"value": "h@x", "type": "home"}, {"type": "work", "value": "w@x"}]),
            "{op}"
        );
    }
}

#[test]
fn entra_flag_pathless_dotted_keys() {
    let mut u = bjensen();
    user_patch(
        &mut u,
        include_str!("../../fixtures/idp/entra-3.4-update-flag.json"),
    )
    .unwrap();
    assert_eq!(u["displayName"], "Bjfe");
    assert_eq!(u["name"]["givenName"], "Kkom");
    assert_eq!(u["name"]["familyName"], "Unua");
    assert_eq!(u["name"]["middleName"], "Jane", "other sub-attributes kept");
    assert_eq!(u[ENTERPRISE_URN]["employeeNumber"], "Aklq");
    let keys: Vec<&String> = u.as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| !k.starts_with("name.") && !k.ends_with(":employeeNumber")),
        "{keys:?}"
    );
}

#[test]
fn entra_active_strings() {
    let mut u = bjensen();
    user_patch(
        &mut u,
        include_str!("../../fixtures/idp/entra-3.4-disable-legacy.json"),
    )
    .unwrap();
    assert_eq!(u["active"], json!(false));
    user_patch(
        &mut u,
        include_str!("../../fixtures/idp/entra-3.4-enable-lowercase.json"),
    )
    .unwrap();
    assert_eq!(u["active"], json!(true));
    user_patch(
        &mut u,
        include_str!("../../fixtures/idp/entra-3.4-disable-flag.json"),
    )
    .unwrap();
    assert_eq!(u["active"], json!(false));
    let e = user_patch(
        &mut u,
        r#"{"Operations":[{"op":"replace","path":"active","value":"nope"}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
}

#[test]
fn entra_group_members() {
    let add = req(include_str!(
        "../../fixtures/idp/entra-3.5-add-members.json"
    ));
    assert_eq!(
        plan_group(&add).unwrap().members,
        [MemberOp::Add(vec!["u1".into(), "u2".into()])]
    );
    let mut g = json!({"id": "g", "displayName": "G"});
    apply(&mut g, &add, ResourceKind::Group).unwrap();
    assert_eq!(
        g["members"],
        json!([{"value": "u1"}, {"value": "u2"}]),
        "null $ref dropped"
    );

    let legacy = req(include_str!(
        "../../fixtures/idp/entra-3.5-remove-members-legacy.json"
    ));
    assert_eq!(
        plan_group(&legacy).unwrap().members,
        [MemberOp::Remove(vec!["u1".into()])]
    );
    let mut g2 = g.clone();
    apply(&mut g2, &legacy, ResourceKind::Group).unwrap();
    assert_eq!(
        member_values(&g2),
        ["u2"],
        "only the listed member is removed"
    );

    let flag = req(include_str!(
        "../../fixtures/idp/entra-3.5-remove-member-flag.json"
    ));
    assert_eq!(
        plan_group(&flag).unwrap().members,
        [MemberOp::Remove(vec!["u1".into()])]
    );
    apply(&mut g, &flag, ResourceKind::Group).unwrap();
    assert_eq!(member_values(&g), ["u2"]);

    let rename = req(include_str!("../../fixtures/idp/entra-3.5-rename.json"));
    let plan = plan_group(&rename).unwrap();
    assert!(plan.members.is_empty());
    apply(&mut g, &plan.other, ResourceKind::Group).unwrap();
    assert_eq!(g["displayName"], "New name");
}

// === Entra: roles, cleared sub-attributes (issue 10) ===

#[test]
fn entra_role_path_with_a_string_boolean_keeps_one_primary_role() {
    // `SingleAppRoleAssignment` → `roles[primary eq "True"].value` (DataHub Cloud's
    // Entra guide): the first Add creates the entry with a boolean `primary`, later
    // ones replace its value instead of adding a second primary role.
    let mut u = json!({"schemas": [crate::scim::schema::USER_URN], "userName": "r"});
    let set = |op: &str, role: &str| {
        format!(
            r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"{op}","path":"roles[primary eq \"True\"].value","value":"{role}"}}]}}"#
        )
    };
    user_patch(&mut u, &set("Add", "Admin")).unwrap();
    assert_eq!(u["roles"], json!([{"primary": true, "value": "Admin"}]));
    user_patch(&mut u, &set("Replace", "Reader")).unwrap();
    user_patch(&mut u, &set("Add", "Editor")).unwrap();
    assert_eq!(u["roles"], json!([{"primary": true, "value": "Editor"}]));
    // A list stored as sent may hold the string form; it matches too.
    let mut u = json!({"userName": "r", "roles": [{"primary": "True", "value": "Admin"}]});
    user_patch(&mut u, &set("Replace", "Reader")).unwrap();
    assert_eq!(u["roles"], json!([{"primary": "True", "value": "Reader"}]));
}

#[test]
fn removing_the_value_of_filtered_entries_removes_the_entries() {
    // Entra clears a work phone with `Remove phoneNumbers[type eq "work"].value`: no
    // `{"type": "work"}` shell is left behind (RFC 7644 §3.5.2.2: unassigned).
    let mut u = json!({"userName": "p", "phoneNumbers": [
        {"value": "+1 555 0100", "type": "work"}, {"value": "+1 555 0199", "type": "mobile"}]});
    let rm = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"phoneNumbers[type eq \"work\"].value"}]}"#;
    user_patch(&mut u, rm).unwrap();
    assert_eq!(
        u["phoneNumbers"],
        json!([{"value": "+1 555 0199", "type": "mobile"}])
    );
    user_patch(&mut u, &rm.replace("work", "mobile")).unwrap();
    assert!(u.get("phoneNumbers").is_none(), "{u}");
    // Removing another sub-attribute keeps the entry.
    let mut u =
        json!({"userName": "p", "emails": [{"value": "a@x", "type": "work", "display": "A"}]});
    let rm = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[type eq \"work\"].display"}]}"#;
    user_patch(&mut u, rm).unwrap();
    assert_eq!(u["emails"], json!([{"value": "a@x", "type": "work"}]));
}
