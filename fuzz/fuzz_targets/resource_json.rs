//! Resources: arbitrary JSON through User/Group from_json, then to_json; what we write
//! reads back to the same value.
#![no_main]

use datahub_scim::scim::{Group, Meta, User};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Our output is absent-not-null (RFC 7643 §2.5).
fn no_nulls(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => a.iter().all(no_nulls),
        Value::Object(o) => o.values().all(no_nulls),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let meta = Meta::default();
    if let Ok(u) = User::from_json(&v) {
        let out = u.to_json("id", &meta);
        assert!(no_nulls(&out), "null in User output");
        assert!(out["active"].is_boolean());
        let back = User::from_json(&out).expect("our own output parses");
        assert_eq!(back.to_json("id", &meta), out, "User round trip");
    }
    if let Ok(g) = Group::from_json(&v) {
        let out = g.to_json("id", &meta);
        assert!(no_nulls(&out), "null in Group output");
        let back = Group::from_json(&out).expect("our own output parses");
        assert_eq!(back.to_json("id", &meta), out, "Group round trip");
    }
});
