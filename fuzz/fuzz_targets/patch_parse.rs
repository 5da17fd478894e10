//! PATCH: parse arbitrary JSON as a PatchOp, apply it to a sample user and group and
//! plan it as a group patch. Never panics; a failed apply leaves the resource as it was.
#![no_main]

use datahub_scim::scim::{apply, plan_group, PatchRequest, ResourceKind, User};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(req) = PatchRequest::from_json(&v) else {
        return;
    };
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "u1", "userName": "alice", "active": true,
        "name": {"givenName": "A", "familyName": "L"},
        "emails": [{"value": "a@x", "type": "work", "primary": true}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m"}},
        "meta": {"resourceType": "User"}
    });
    let mut u = user.clone();
    match apply(&mut u, &req, ResourceKind::User) {
        Ok(_) => {
            User::from_json(&u).expect("a patched user still reads back");
        }
        Err(_) => assert_eq!(u, user, "failed PATCH changed the user"),
    }
    let group =
        json!({"id": "g1", "displayName": "G", "members": [{"value": "u1"}, {"value": "u2"}]});
    let mut g = group.clone();
    if apply(&mut g, &req, ResourceKind::Group).is_err() {
        assert_eq!(g, group, "failed PATCH changed the group");
    }
    if let Ok(plan) = plan_group(&req) {
        let _ = plan.fold();
    }
});
