//! Filter parser: never panics; whatever parses prints to a form that parses back to
//! the same AST, and evaluating it on a sample user does not panic.
#![no_main]

use datahub_scim::scim::{filter, ResourceKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(f) = filter::parse(s) else { return };
    let printed = f.to_string();
    if printed.len() <= filter::MAX_FILTER_LEN {
        let back = filter::parse(&printed).expect("printed filter parses");
        assert_eq!(back, f, "round trip of {printed}");
    }
    let user = serde_json::json!({
        "id": "1", "userName": "Alice", "active": true, "title": "x",
        "emails": [{"value": "a@x", "type": "work", "primary": true}],
        "meta": {"created": "2020-01-01T00:00:00Z"}
    });
    let _ = f.matches(&user, ResourceKind::User);
    let _ = f.validate(ResourceKind::User);
    let _ = f.eq_conjunction();
});
