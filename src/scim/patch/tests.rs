//! PATCH: every RFC 7644 §3.5.2 example and every IdP shape of idp-scim-clients.md,
//! replayed from fixtures; errors; limits; atomicity (unit and property tests).

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::scim::error::ScimType;
use crate::scim::resource::{Meta, User};
use crate::scim::schema::{ResourceKind, ENTERPRISE_URN};

fn req(s: &str) -> PatchRequest {
    PatchRequest::from_json(&serde_json::from_str(s).expect("fixture is JSON"))
        .expect("valid PatchOp")
}

fn bjensen() -> Value {
    let f: Value = serde_json::from_str(include_str!(
        "../fixtures/rfc/7643-8.3-enterprise-user.json"
    ))
    .unwrap();
    User::from_json(&f)
        .unwrap()
        .to_json("2819c223-7f76-453a-919d-413861904646", &Meta::default())
}

fn tour_guides() -> Value {
    serde_json::from_str(include_str!("../fixtures/rfc/7643-8.4-group.json")).unwrap()
}

fn member_values(g: &Value) -> Vec<&str> {
    g["members"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default()
}

fn user_patch(u: &mut Value, s: &str) -> Result<Changes, crate::scim::Error> {
    apply(u, &req(s), ResourceKind::User)
}

// === RFC 7644 §3.5.2 ===

#[test]
fn rfc_add_member() {
    let r = req(include_str!("../fixtures/rfc/7644-3.5.2.1-add-member.json"));
    let mut g = json!({"schemas": [crate::scim::schema::GROUP_URN], "id": "g", "displayName": "G"});
    let c = apply(&mut g, &r, ResourceKind::Group).unwrap();
    assert_eq!(member_values(&g), ["2819c223-7f76-453a-919d-413861904646"]);
    assert_eq!(g["members"][0]["display"], "Babs Jensen");
    assert_eq!(c.attributes, ["members"]);
    let plan = plan_group(&r).unwrap();
    assert_eq!(
        plan.members,
        [MemberOp::Add(vec![
            "2819c223-7f76-453a-919d-413861904646".into()
        ])]
    );
    assert!(plan.other.operations.is_empty());
}

#[test]
fn rfc_add_pathless_with_lowercase_nickname() {
    let mut u = bjensen();
    let c = user_patch(
        &mut u,
        include_str!("../fixtures/rfc/7644-3.5.2.1-add-pathless.json"),
    )
    .unwrap();
    // babs@jensen.org/home is already there: add does not duplicate it.
    assert_eq!(u["emails"].as_array().unwrap().len(), 2);
    assert_eq!(u["nickName"], "Babs");
    assert!(u.get("nickname").is_none());
    assert!(!c.changed, "same values: nothing changed");
    let mut min = json!({"id": "1", "userName": "b"});
    let c = user_patch(
        &mut min,
        include_str!("../fixtures/rfc/7644-3.5.2.1-add-pathless.json"),
    )
    .unwrap();
    assert_eq!(
        min["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
    assert_eq!(c.attributes, ["emails", "nickName"]);
}

#[test]
fn rfc_remove_member_by_filter() {
    let r = req(include_str!(
        "../fixtures/rfc/7644-3.5.2.2-remove-member.json"
    ));
    let mut g = tour_guides();
    let before = g.clone();
    let c = apply(&mut g, &r, ResourceKind::Group).unwrap();
    assert_eq!(g, before, "the RFC's elided id matches no member");
    assert!(!c.changed);
    assert_eq!(
        plan_group(&r).unwrap().members,
        [MemberOp::Remove(vec![
            "2819c223-7f76-...413861904646".into()
        ])]
    );
    let mut g = tour_guides();
    apply(&mut g, &req(r#"{"Operations":[{"op":"remove","path":"members[value eq \"2819c223-7f76-453a-919d-413861904646\"]"}]}"#), ResourceKind::Group).unwrap();
    assert_eq!(member_values(&g), ["902c246b-6245-4190-8e05-00816be7344a"]);
}

#[test]
fn rfc_remove_all_members() {
    let r = req(include_str!(
        "../fixtures/rfc/7644-3.5.2.2-remove-all-members.json"
    ));
    let mut g = tour_guides();
    assert_eq!(
        apply(&mut g, &r, ResourceKind::Group).unwrap().attributes,
        ["members"]
    );
    assert!(g.get("members").is_none());
    assert_eq!(plan_group(&r).unwrap().members, [MemberOp::RemoveAll]);
}

#[test]
fn rfc_remove_filtered_emails() {
    let mut u = bjensen();
    user_patch(
        &mut u,
        include_str!("../fixtures/rfc/7644-3.5.2.2-remove-filtered-emails.json"),
    )
    .unwrap();
    assert_eq!(
        u["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );
}

#[test]
fn rfc_remove_then_add_members() {
    let r = req(include_str!(
        "../fixtures/rfc/7644-3.5.2.2-remove-then-add-members.json"
    ));
    let mut g = tour_guides();
    apply(&mut g, &r, ResourceKind::Group).unwrap();
    assert_eq!(
        member_values(&g),
        [
            "2819c223-7f76-453a-919d-413861904646",
            "08e1d05d-121c-4561-8b96-473d93df9210"
        ]
    );
    let plan = plan_group(&r).unwrap();
    assert_eq!(plan.members[0], MemberOp::RemoveAll);
    let d = plan.fold();
    assert!(d.reset);
    assert_eq!(
        d.add,
        [
            "2819c223-7f76-453a-919d-413861904646",
            "08e1d05d-121c-4561-8b96-473d93df9210"
        ]
    );
}

#[test]
fn rfc_replace_members() {
    let r = req(include_str!(
        "../fixtures/rfc/7644-3.5.2.3-replace-members.json"
    ));
    let mut g = tour_guides();
    apply(&mut g, &r, ResourceKind::Group).unwrap();
    assert_eq!(
        member_values(&g),
        ["2819c223...413861904646", "08e1d05d...473d93df9210"]
    );
    assert_eq!(
        plan_group(&r).unwrap().members,
        [MemberOp::Replace(vec![
            "2819c223...413861904646".into(),
            "08e1d05d...473d93df9210".into()
        ])]
    );
}

#[test]
fn rfc_replace_work_address_and_street() {
    let mut u = bjensen();
    user_patch(
        &mut u,
        include_str!("../fixtures/rfc/7644-3.5.2.3-replace-work-address.json"),
    )
    .unwrap();
    let addrs = u["addresses"].as_array().unwrap();
    assert_eq!(addrs.len(), 2);
    assert_eq!(addrs[0]["streetAddress"], "911 Universal City Plaza");
    assert_eq!(addrs[0]["country"], "US");
    assert_eq!(addrs[1]["streetAddress"], "456 Hollywood Blvd");
    let c = user_patch(
        &mut u,
        include_str!("../fixtures/rfc/7644-3.5.2.3-replace-street-address.json"),
    )
    .unwrap();
    assert_eq!(u["addresses"][0]["streetAddress"], "1010 Broadway Ave");
    assert_eq!(u["addresses"][1]["streetAddress"], "456 Hollywood Blvd");
    assert_eq!(c.attributes, ["addresses"]);
}

#[test]
fn rfc_replace_pathless() {
    let mut u =
        json!({"id": "1", "userName": "b", "emails": [{"value": "old@x"}], "nickName": "B"});
    user_patch(
        &mut u,
        include_str!("../fixtures/rfc/7644-3.5.2.3-replace-pathless.json"),
    )
    .unwrap();
    assert_eq!(u["emails"].as_array().unwrap().len(), 2);
    assert_eq!(u["emails"][0]["value"], "bjensen@example.com");
    assert_eq!(u["nickName"], "Babs");
}

// === Okta ===

#[test]
fn okta_deactivate_and_password_sync() {
    let mut u = bjensen();
    let c = user_patch(
        &mut u,
        include_str!("../fixtures/idp/okta-2.8-deactivate.json"),
    )
    .unwrap();
    assert_eq!(u["active"], json!(false));
    assert_eq!(c.attributes, ["active"]);
    let before = u.clone();
    let c = user_patch(
        &mut u,
        include_str!("../fixtures/idp/okta-2.8-password-sync.json"),
    )
    .unwrap();
    assert!(!c.changed);
    assert_eq!(u, before, "passwords are not stored");
}

#[test]
fn okta_rename_carries_the_id_and_leaves_members_alone() {
    let r = req(include_str!("../fixtures/idp/okta-2.9-rename.json"));
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
    let r = req(include_str!("../fixtures/idp/okta-2.9-membership.json"));
    let plan = plan_group(&r).unwrap();
    assert_eq!(
        plan.members,
        [
            MemberOp::Remove(vec!["89bb1940-b905-4575-9e7f-6f887cfb368e".into()]),
            MemberOp::Add(vec!["23a35c27-23d3-4c03-b4c5-6443c09e7173".into()])
        ]
    );
    let d = plan.fold();
    assert!(!d.reset);
    assert_eq!(d.remove, ["89bb1940-b905-4575-9e7f-6f887cfb368e"]);
    let mut g = json!({"id": "g", "displayName": "G", "members": [{"value": "89bb1940-b905-4575-9e7f-6f887cfb368e"}]});
    apply(&mut g, &r, ResourceKind::Group).unwrap();
    assert_eq!(member_values(&g), ["23a35c27-23d3-4c03-b4c5-6443c09e7173"]);

    let push = req(include_str!("../fixtures/idp/okta-2.9-push-empty.json"));
    assert_eq!(
        plan_group(&push).unwrap().members,
        [MemberOp::Replace(vec![])]
    );
    let d = plan_group(&push).unwrap().fold();
    assert!(d.reset && d.add.is_empty());
    apply(&mut g, &push, ResourceKind::Group).unwrap();
    assert!(g.get("members").is_none());
}

// === Entra ===

#[test]
fn entra_manager_add_and_remove() {
    let mut u = json!({"schemas": [crate::scim::schema::USER_URN], "id": "1", "userName": "a"});
    let c = user_patch(
        &mut u,
        include_str!("../fixtures/idp/entra-3.4-manager-add.json"),
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
        include_str!("../fixtures/idp/entra-3.4-manager-remove.json"),
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
        include_str!("../fixtures/idp/entra-3.4-update-legacy.json"),
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
        include_str!("../fixtures/idp/entra-3.4-update-flag.json"),
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
        include_str!("../fixtures/idp/entra-3.4-disable-legacy.json"),
    )
    .unwrap();
    assert_eq!(u["active"], json!(false));
    user_patch(
        &mut u,
        include_str!("../fixtures/idp/entra-3.4-enable-lowercase.json"),
    )
    .unwrap();
    assert_eq!(u["active"], json!(true));
    user_patch(
        &mut u,
        include_str!("../fixtures/idp/entra-3.4-disable-flag.json"),
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
    let add = req(include_str!("../fixtures/idp/entra-3.5-add-members.json"));
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
        "../fixtures/idp/entra-3.5-remove-members-legacy.json"
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
        "../fixtures/idp/entra-3.5-remove-member-flag.json"
    ));
    assert_eq!(
        plan_group(&flag).unwrap().members,
        [MemberOp::Remove(vec!["u1".into()])]
    );
    apply(&mut g, &flag, ResourceKind::Group).unwrap();
    assert_eq!(member_values(&g), ["u2"]);

    let rename = req(include_str!("../fixtures/idp/entra-3.5-rename.json"));
    let plan = plan_group(&rename).unwrap();
    assert!(plan.members.is_empty());
    apply(&mut g, &plan.other, ResourceKind::Group).unwrap();
    assert_eq!(g["displayName"], "New name");
}

// === Parsing, errors, limits ===

#[test]
fn parsing_is_forgiving_where_idps_are() {
    let r = req(r#"{"operations":[{"OP":"REPLACE","Path":"title","Value":"x"}]}"#);
    assert_eq!(r.operations[0].op, OpKind::Replace);
    assert!(req(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}"#
    )
    .operations
    .is_empty());
}

#[test]
fn parse_errors() {
    let err = |s: &str| PatchRequest::from_json(&serde_json::from_str(s).unwrap()).unwrap_err();
    assert_eq!(
        err(r#"{"schemas":["urn:x"],"Operations":[]}"#).scim_type,
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        err(r#"{"Operations":{}}"#).scim_type,
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        err(r#"{"Operations":[{"op":"move","path":"a"}]}"#).scim_type,
        Some(ScimType::InvalidSyntax)
    );
    assert_eq!(
        err(r#"{"Operations":[{"op":"remove"}]}"#).scim_type,
        Some(ScimType::NoTarget)
    );
    assert_eq!(
        err(r#"{"Operations":[{"op":"add","path":"title"}]}"#).scim_type,
        Some(ScimType::InvalidValue)
    );
    assert_eq!(
        err(r#"{"Operations":[{"op":"add","value":"x"}]}"#).scim_type,
        Some(ScimType::InvalidValue)
    );
    for p in [
        "emails[type eq",
        "emails[type eq \"w\"].",
        "a b",
        "emails.value[type eq \"w\"]",
        "x[y eq 1]z",
        "urn:ietf:params:scim:schemas:core:2.0:User",
    ] {
        let body = json!({"Operations": [{"op": "replace", "path": p, "value": "v"}]});
        assert_eq!(
            PatchRequest::from_json(&body).unwrap_err().scim_type,
            Some(ScimType::InvalidPath),
            "{p}"
        );
    }
}

#[test]
fn operation_count_limit() {
    let ops = |n: usize| json!({"Operations": vec![json!({"op": "replace", "path": "title", "value": "t"}); n]});
    assert_eq!(
        PatchRequest::from_json(&ops(MAX_OPERATIONS))
            .unwrap()
            .operations
            .len(),
        MAX_OPERATIONS
    );
    let e = PatchRequest::from_json(&ops(MAX_OPERATIONS + 1)).unwrap_err();
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
}

#[test]
fn apply_errors() {
    let mut u = bjensen();
    let before = u.clone();
    let cases = [
        (
            r#"{"Operations":[{"op":"remove","path":"userName"}]}"#,
            ScimType::InvalidValue,
        ),
        (
            r#"{"Operations":[{"op":"replace","path":"userName","value":""}]}"#,
            ScimType::InvalidValue,
        ),
        (
            r#"{"Operations":[{"op":"replace","path":"id","value":"other"}]}"#,
            ScimType::Mutability,
        ),
        (
            r#"{"Operations":[{"op":"remove","path":"id"}]}"#,
            ScimType::Mutability,
        ),
        (
            r#"{"Operations":[{"op":"replace","path":"emails[value co \"zzz\"].type","value":"x"}]}"#,
            ScimType::NoTarget,
        ),
        (
            r#"{"Operations":[{"op":"replace","path":"title[value eq \"x\"]","value":"x"}]}"#,
            ScimType::InvalidPath,
        ),
        (
            r#"{"Operations":[{"op":"replace","path":"title","value":{"a":1}}]}"#,
            ScimType::InvalidValue,
        ),
        (
            r#"{"Operations":[{"op":"replace","path":"name","value":"x"}]}"#,
            ScimType::InvalidValue,
        ),
        (
            r#"{"Operations":[{"op":"add","path":"groups","value":[{"value":"g"}]}]}"#,
            ScimType::Mutability,
        ),
    ];
    for (body, want) in cases {
        let e = user_patch(&mut u, body).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some(want)), "{body}");
        assert_eq!(u, before, "{body}");
    }
    // Same id: a no-op, not an error.
    assert!(!user_patch(&mut u, r#"{"Operations":[{"op":"replace","path":"id","value":"2819c223-7f76-453a-919d-413861904646"}]}"#).unwrap().changed);
}

#[test]
fn last_op_failing_leaves_the_resource_untouched() {
    let mut u = bjensen();
    let before = u.clone();
    let e = user_patch(
        &mut u,
        r#"{"Operations":[
        {"op":"replace","path":"title","value":"Boss"},
        {"op":"add","path":"emails","value":{"value":"x@y"}},
        {"op":"remove","path":"userName"}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert_eq!(u, before);
}

#[test]
fn primary_is_unique() {
    let mut u = bjensen();
    user_patch(
        &mut u,
        r#"{"Operations":[{"op":"add","path":"emails","value":[{"value":"n@x","primary":true}]}]}"#,
    )
    .unwrap();
    let prim: Vec<&Value> = u["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["primary"] == json!(true))
        .collect();
    assert_eq!(prim.len(), 1);
    assert_eq!(prim[0]["value"], "n@x");
}

#[test]
fn member_fold_semantics() {
    let plan = |ops: Vec<MemberOp>| GroupPatchPlan {
        other: PatchRequest { operations: vec![] },
        members: ops,
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let d = plan(vec![
        MemberOp::Add(s(&["a", "b"])),
        MemberOp::Remove(s(&["a", "c"])),
    ])
    .fold();
    assert_eq!(
        (d.reset, d.add.clone(), d.remove.clone()),
        (false, s(&["b"]), s(&["a", "c"]))
    );
    let d = plan(vec![MemberOp::Remove(s(&["b"])), MemberOp::Add(s(&["b"]))]).fold();
    assert_eq!((d.add.clone(), d.remove.clone()), (s(&["b"]), vec![]));
    let d = plan(vec![
        MemberOp::Add(s(&["z"])),
        MemberOp::Replace(s(&["x"])),
        MemberOp::Add(s(&["y"])),
        MemberOp::Remove(s(&["x"])),
    ])
    .fold();
    assert_eq!(
        (d.reset, d.add.clone(), d.remove.clone()),
        (true, s(&["y"]), vec![])
    );
    // Only touched ids' membership is needed to find the real writes.
    let d = plan(vec![
        MemberOp::Add(s(&["a", "b"])),
        MemberOp::Remove(s(&["c", "d"])),
    ])
    .fold();
    let (add, remove) = d.effective(|id| id == "a" || id == "c");
    assert_eq!((add, remove), (s(&["b"]), s(&["c"])));
}

#[test]
fn member_plan_errors_and_pathless_members() {
    let r = req(
        r#"{"Operations":[{"op":"replace","value":{"displayName":"N","members":[{"value":"u9"}]}}]}"#,
    );
    let plan = plan_group(&r).unwrap();
    assert_eq!(plan.members, [MemberOp::Replace(vec!["u9".into()])]);
    assert_eq!(
        plan.other.operations[0].value,
        Some(json!({"displayName": "N"}))
    );
    let or = req(
        r#"{"Operations":[{"op":"remove","path":"members[value eq \"a\" or value eq \"b\"]"}]}"#,
    );
    assert_eq!(
        plan_group(&or).unwrap().members,
        [MemberOp::Remove(vec!["a".into(), "b".into()])]
    );
    for bad in [
        r#"{"Operations":[{"op":"remove","path":"members[display eq \"a\"]"}]}"#,
        r#"{"Operations":[{"op":"replace","path":"members[value eq \"a\"]","value":{"value":"b"}}]}"#,
        r#"{"Operations":[{"op":"add","path":"members","value":[{"display":"no id"}]}]}"#,
    ] {
        assert!(plan_group(&req(bad)).is_err(), "{bad}");
    }
}

proptest! {
    /// All or nothing: any prefix of valid operations followed by a failing one
    /// leaves the resource exactly as it was.
    #[test]
    fn patch_is_all_or_nothing(
        titles in prop::collection::vec("[a-z]{0,4}", 0..4),
        active in prop::collection::vec(any::<bool>(), 0..3),
        emails in prop::collection::vec("[a-z]{1,3}@x", 0..3),
        fail in 0usize..4,
    ) {
        let mut ops: Vec<Value> = Vec::new();
        for t in titles { ops.push(json!({"op": "replace", "path": "title", "value": t})); }
        for a in active { ops.push(json!({"op": "Replace", "path": "active", "value": if a { "True" } else { "False" }})); }
        for e in emails { ops.push(json!({"op": "add", "path": "emails[type eq \"work\"].value", "value": e})); }
        ops.push([
            json!({"op": "remove", "path": "userName"}),
            json!({"op": "replace", "path": "id", "value": "nope"}),
            json!({"op": "replace", "path": "active", "value": 3}),
            json!({"op": "replace", "path": "emails[value sw \"zz\"].type", "value": "x"}),
        ][fail].clone());
        let r = PatchRequest::from_json(&json!({"Operations": ops})).unwrap();
        let mut u = bjensen();
        let before = u.clone();
        prop_assert!(apply(&mut u, &r, ResourceKind::User).is_err());
        prop_assert_eq!(u, before);
        // Without the failing op the same request succeeds and the result reads back.
        let mut ok = r.clone();
        ok.operations.pop();
        let mut u = bjensen();
        apply(&mut u, &ok, ResourceKind::User).unwrap();
        prop_assert!(User::from_json(&u).is_ok());
    }
}
