//! Resources: arbitrary JSON through User/Group from_json, then to_json; what we write
//! reads back to the same value.
#![no_main]

use datahub_scim::scim::{Group, Meta, User};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else { return };
    let meta = Meta::default();
    if let Ok(u) = User::from_json(&v) {
        let out = u.to_json("id", &meta);
        let back = User::from_json(&out).expect("our own output parses");
        assert_eq!(back.to_json("id", &meta), out, "User round trip");
    }
    if let Ok(g) = Group::from_json(&v) {
        let out = g.to_json("id", &meta);
        let back = Group::from_json(&out).expect("our own output parses");
        assert_eq!(back.to_json("id", &meta), out, "Group round trip");
    }
});
