//! RFC 7644 §3.5.2 examples, replayed from `fixtures/rfc`.

#![allow(clippy::unwrap_used)] // tests may unwrap

use serde_json::json;

use super::*;
use crate::scim::schema::ResourceKind;

// === RFC 7644 §3.5.2 ===

#[test]
fn rfc_add_member() {
    let r = req(include_str!(
        "../../fixtures/rfc/7644-3.5.2.1-add-member.json"
    ));
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
        include_str!("../../fixtures/rfc/7644-3.5.2.1-add-pathless.json"),
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
        include_str!("../../fixtures/rfc/7644-3.5.2.1-add-pathless.json"),
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
        "../../fixtures/rfc/7644-3.5.2.2-remove-member.json"
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
        "../../fixtures/rfc/7644-3.5.2.2-remove-all-members.json"
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
        include_str!("../../fixtures/rfc/7644-3.5.2.2-remove-filtered-emails.json"),
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
        "../../fixtures/rfc/7644-3.5.2.2-remove-then-add-members.json"
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
        "../../fixtures/rfc/7644-3.5.2.3-replace-members.json"
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
        include_str!("../../fixtures/rfc/7644-3.5.2.3-replace-work-address.json"),
    )
    .unwrap();
    let addrs = u["addresses"].as_array().unwrap();
    assert_eq!(addrs.len(), 2);
    assert_eq!(addrs[0]["streetAddress"], "911 Universal City Plaza");
    assert_eq!(addrs[0]["country"], "US");
    assert_eq!(addrs[1]["streetAddress"], "456 Hollywood Blvd");
    let c = user_patch(
        &mut u,
        include_str!("../../fixtures/rfc/7644-3.5.2.3-replace-street-address.json"),
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
        include_str!("../../fixtures/rfc/7644-3.5.2.3-replace-pathless.json"),
    )
    .unwrap();
    assert_eq!(u["emails"].as_array().unwrap().len(), 2);
    assert_eq!(u["emails"][0]["value"], "bjensen@example.com");
    assert_eq!(u["nickName"], "Babs");
}
