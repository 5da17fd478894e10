//! Our aspect types against DataHub's `.avsc` files: same field names,
//! required exactly where the schema has no default, no `null` on the wire,
//! unknown members preserved.

use super::*;
use serde_json::json;

/// Access to the `extra` bag, to prove every schema field is modeled.
trait HasExtra {
    fn extra_len(&self) -> usize;
}
macro_rules! has_extra {
    ($($t:ty),*) => {$(impl HasExtra for $t { fn extra_len(&self) -> usize { self.extra.len() } })*};
}
has_extra!(
    CorpUserInfo,
    CorpUserEditableInfo,
    CorpUserStatus,
    GroupMembership,
    NativeGroupMembership,
    RoleMembership,
    CorpGroupInfo,
    Origin,
    Status
);
impl HasExtra for CorpUserKey {
    fn extra_len(&self) -> usize {
        0
    }
}
impl HasExtra for CorpGroupKey {
    fn extra_len(&self) -> usize {
        0
    }
}

/// A sample value for an Avro type; every string is a valid urn because
/// several string fields are typed as urns.
fn sample(field: &str, ty: &Value) -> Value {
    match ty {
        Value::String(s) => match s.as_str() {
            "string" if field == "status" => json!("ACTIVE"),
            "string" => json!("urn:li:corpuser:sample"),
            "boolean" => json!(true),
            "long" | "int" => json!(7),
            other => panic!("unhandled avro type {other}"),
        },
        Value::Array(union) => {
            let t = union
                .iter()
                .find(|t| *t != &json!("null"))
                .expect("union has a non-null branch");
            sample(field, t)
        }
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("map") => json!({"k": sample(field, &o["values"])}),
            Some("array") => json!([sample(field, &o["items"])]),
            Some("enum") => o["symbols"][0].clone(),
            Some("record") => full_record(o["fields"].as_array().expect("fields")),
            other => panic!("unhandled avro complex type {other:?}"),
        },
        other => panic!("unhandled avro type {other}"),
    }
}

fn full_record(fields: &[Value]) -> Value {
    let mut m = serde_json::Map::new();
    for f in fields {
        let name = f["name"].as_str().expect("field name");
        m.insert(name.to_owned(), sample(name, &f["type"]));
    }
    Value::Object(m)
}

fn contains_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(contains_null),
        Value::Object(o) => o.values().any(contains_null),
        _ => false,
    }
}

fn check<A: Aspect + HasExtra>(dir: &std::path::Path, file: &str) {
    let text = std::fs::read_to_string(dir.join(file)).expect("read avsc");
    let schema: Value = serde_json::from_str(&text).expect("avsc is JSON");
    assert_eq!(
        schema["Aspect"]["name"].as_str(),
        Some(A::NAME),
        "{file}: aspect name"
    );
    let fields = schema["fields"].as_array().expect("record fields");
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.get("default").is_none())
        .map(|f| f["name"].as_str().expect("name"))
        .collect();

    // Every schema field is modeled (nothing lands in `extra`) and survives.
    let full = full_record(fields);
    let typed: A = serde_json::from_value(full.clone())
        .unwrap_or_else(|e| panic!("{file}: full sample does not parse: {e}"));
    assert_eq!(
        typed.extra_len(),
        0,
        "{file}: a schema field is not modeled"
    );
    let back = serde_json::to_value(&typed).expect("serialize");
    assert_eq!(back, full, "{file}: full round trip differs");

    // Only the required fields: parses, and is written back without nulls,
    // with every required field present.
    let mut minimal = serde_json::Map::new();
    for r in &required {
        minimal.insert((*r).to_owned(), full[*r].clone());
    }
    let typed: A = serde_json::from_value(Value::Object(minimal.clone()))
        .unwrap_or_else(|e| panic!("{file}: required-only sample does not parse: {e}"));
    let out = serde_json::to_value(&typed).expect("serialize");
    assert!(!contains_null(&out), "{file}: null on the wire: {out}");
    for r in &required {
        assert!(out.get(*r).is_some(), "{file}: required {r} not sent");
    }
    for k in out.as_object().expect("object").keys() {
        assert!(
            fields.iter().any(|f| f["name"] == json!(k)),
            "{file}: we send {k}, which the schema does not have"
        );
    }

    // A required field missing is an error; an optional one is not.
    for f in fields {
        let name = f["name"].as_str().expect("name");
        let mut without = full.as_object().expect("object").clone();
        without.remove(name);
        let parsed = serde_json::from_value::<A>(Value::Object(without));
        if required.contains(&name) {
            assert!(
                parsed.is_err(),
                "{file}: {name} is required but optional here"
            );
        } else {
            assert!(
                parsed.is_ok(),
                "{file}: {name} is optional but required here"
            );
        }
    }
}

#[test]
fn aspects_match_avsc() {
    let Some(dir) = super::super::reference_dir("datahub-aspects") else {
        return;
    };
    check::<CorpUserKey>(&dir, "CorpUserKey.avsc");
    check::<CorpUserInfo>(&dir, "CorpUserInfo.avsc");
    check::<CorpUserEditableInfo>(&dir, "CorpUserEditableInfo.avsc");
    check::<CorpUserStatus>(&dir, "CorpUserStatus.avsc");
    check::<GroupMembership>(&dir, "GroupMembership.avsc");
    check::<NativeGroupMembership>(&dir, "NativeGroupMembership.avsc");
    check::<RoleMembership>(&dir, "RoleMembership.avsc");
    check::<CorpGroupKey>(&dir, "CorpGroupKey.avsc");
    check::<CorpGroupInfo>(&dir, "CorpGroupInfo.avsc");
    check::<Origin>(&dir, "Origin.avsc");
    check::<Status>(&dir, "Status.avsc");
}

#[test]
fn unknown_members_survive_read_modify_write() {
    let stored = json!({
        "active": true,
        "email": "a@example.com",
        "customProperties": {"theirs": "1"},
        "futureField": {"nested": [1, 2]}
    });
    let mut info: CorpUserInfo = serde_json::from_value(stored).expect("parse");
    info.display_name = Some("A".into());
    info.custom_properties
        .insert("scim.userName".into(), "a".into());
    let out = serde_json::to_value(&info).expect("serialize");
    assert_eq!(out["futureField"], json!({"nested": [1, 2]}));
    assert_eq!(
        out["customProperties"],
        json!({"theirs": "1", "scim.userName": "a"})
    );
    assert_eq!(out["displayName"], json!("A"));
}

#[test]
fn group_info_always_sends_member_lists() {
    let g = CorpGroupInfo {
        display_name: Some("Data Eng".into()),
        ..CorpGroupInfo::default()
    };
    let out = serde_json::to_value(&g).expect("serialize");
    assert_eq!(
        out,
        json!({"displayName": "Data Eng", "admins": [], "members": [], "groups": []})
    );
}

#[test]
fn user_status_only_active_or_suspended_on_the_wire() {
    let s = CorpUserStatus {
        status: UserStatus::Suspended,
        last_modified: AuditStamp {
            time: 5,
            actor: Urn::corp_user("scim-bot"),
            impersonator: None,
            message: None,
        },
        extra: Extra::new(),
    };
    assert_eq!(
        serde_json::to_value(&s).expect("serialize"),
        json!({"status": "SUSPENDED", "lastModified": {"time": 5, "actor": "urn:li:corpuser:scim-bot"}})
    );
    // Someone else's value reads, but is never written back.
    let odd: CorpUserStatus = serde_json::from_value(json!({
        "status": "PROVISIONED",
        "lastModified": {"time": 1, "actor": "urn:li:corpuser:x"}
    }))
    .expect("readable");
    assert_eq!(odd.status, UserStatus::Unrecognized);
    assert!(serde_json::to_value(&odd).is_err());
}

#[test]
fn origin_and_status_shapes() {
    assert_eq!(
        serde_json::to_value(Origin::external("OKTA")).expect("ser"),
        json!({"type": "EXTERNAL", "externalType": "OKTA"})
    );
    assert_eq!(
        serde_json::to_value(Status::removed(false)).expect("ser"),
        json!({"removed": false})
    );
    let read: Status = serde_json::from_value(json!({})).expect("removed defaults");
    assert!(!read.removed);
}
