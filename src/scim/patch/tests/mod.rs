//! PATCH: every RFC 7644 §3.5.2 example and every IdP shape of idp-scim-clients.md,
//! replayed from fixtures; errors; limits; atomicity (unit and property tests).

#![allow(clippy::unwrap_used)] // tests may unwrap

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

mod idp;
mod rfc;
use crate::scim::error::ScimType;
use crate::scim::resource::{Meta, User};
use crate::scim::schema::ResourceKind;

pub(super) fn req(s: &str) -> PatchRequest {
    PatchRequest::from_json(&serde_json::from_str(s).expect("fixture is JSON"))
        .expect("valid PatchOp")
}

pub(super) fn bjensen() -> Value {
    let f: Value = serde_json::from_str(include_str!(
        "../../fixtures/rfc/7643-8.3-enterprise-user.json"
    ))
    .unwrap();
    User::from_json(&f)
        .unwrap()
        .to_json("2819c223-7f76-453a-919d-413861904646", &Meta::default())
}

pub(super) fn tour_guides() -> Value {
    serde_json::from_str(include_str!("../../fixtures/rfc/7643-8.4-group.json")).unwrap()
}

pub(super) fn member_values(g: &Value) -> Vec<&str> {
    g["members"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["value"].as_str()).collect())
        .unwrap_or_default()
}

pub(super) fn user_patch(u: &mut Value, s: &str) -> Result<Changes, crate::scim::Error> {
    apply(u, &req(s), ResourceKind::User)
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
fn adding_an_existing_member_merges_instead_of_duplicating() {
    let mut g = json!({"id": "g", "displayName": "G", "members": [{"value": "u1"}]});
    let r = req(
        r#"{"Operations":[{"op":"add","path":"members","value":[{"value":"u1","display":"a@x"},{"value":"u2"}]}]}"#,
    );
    apply(&mut g, &r, ResourceKind::Group).unwrap();
    assert_eq!(
        g["members"],
        json!([{"value": "u1", "display": "a@x"}, {"value": "u2"}])
    );
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
        // Never "zz…": the failing op below targets emails starting with "zz".
        emails in prop::collection::vec("[a-y][a-z]{0,2}@x", 0..3),
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
        // One request of n operations equals n requests of one.
        let mut step = bjensen();
        for op in &ok.operations {
            apply(&mut step, &PatchRequest { operations: vec![op.clone()] }, ResourceKind::User).unwrap();
        }
        prop_assert_eq!(step, u);
    }
}
