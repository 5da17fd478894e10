//! Micro-benchmarks of the pure SCIM core (`src/scim/`): filter parsing and
//! evaluation, PATCH parsing and application, the group member plan, and resource
//! (de)serialisation, on the request shapes Okta and Entra ID really send
//! (`src/scim/fixtures/idp/`). No I/O. Short runs: the whole file takes well under a
//! minute (`cargo bench --bench scim`). Results: `docs/benchmarks.md`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use datahub_scim::scim::{self, Meta, PatchRequest, ResourceKind, User};
use serde_json::{json, Value};

/// Okta's lookup before a create (`GET /Users?filter=userName eq "…"`).
const OKTA_FILTER: &str = r#"userName eq "test.user@okta.local""#;
/// Entra ID's value-path lookup.
const ENTRA_FILTER: &str = r#"emails[type eq "work"].value eq "Test_User@contoso.com""#;
/// Ten clauses: every logical operator, grouping, `not`, a value path, `pr`, string
/// and boolean comparisons, a URN-qualified enterprise attribute and a date.
const COMPLEX_FILTER: &str = concat!(
    r#"(userName eq "alice@example.com" or userName sw "bob") and active eq true"#,
    r#" and not (title co "Intern") and emails[type eq "work" and value ew "@example.com"]"#,
    r#" and name.familyName pr and displayName ne "Robot""#,
    r#" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Retail""#,
    r#" and meta.lastModified gt "2011-05-13T04:42:34Z""#,
);

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/src/scim/fixtures/idp/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("fixture is readable");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// A user as the gateway renders it: core + enterprise, several emails, meta.
fn realistic_user() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "id": "YWxpY2VAZXhhbXBsZS5jb20",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "userName": "alice@example.com",
        "name": {"givenName": "Alice", "familyName": "Liddell", "formatted": "Alice Liddell"},
        "displayName": "Alice Liddell",
        "title": "Data Engineer",
        "active": true,
        "emails": [
            {"value": "alice@home.example.org", "type": "home"},
            {"value": "a.liddell@example.com", "type": "other"},
            {"value": "alice@example.com", "type": "work", "primary": true}
        ],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "department": "Retail",
            "employeeNumber": "701984",
            "manager": {"value": "Ym9iQGV4YW1wbGUuY29t"}
        },
        "meta": {
            "resourceType": "User",
            "created": "2010-01-23T04:56:22Z",
            "lastModified": "2024-05-13T04:42:34Z",
            "location": "https://scim.example.com/scim/v2/Users/YWxpY2VAZXhhbXBsZS5jb20"
        }
    })
}

fn filters(c: &mut Criterion) {
    let mut g = c.benchmark_group("filter");
    for (name, text) in [
        ("parse/okta_userName_eq", OKTA_FILTER),
        ("parse/entra_emails_work_value_eq", ENTRA_FILTER),
        ("parse/complex_10_clauses", COMPLEX_FILTER),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| scim::parse_filter(black_box(text)).expect("filter parses"))
        });
    }
    let user = realistic_user();
    for (name, text, expect) in [
        ("matches/okta_userName_eq", OKTA_FILTER, false),
        (
            "matches/entra_emails_work_value_eq",
            r#"emails[type eq "work"].value eq "alice@example.com""#,
            true,
        ),
        ("matches/complex_10_clauses", COMPLEX_FILTER, true),
    ] {
        let f = scim::parse_filter(text).expect("filter parses");
        assert_eq!(f.matches(&user, ResourceKind::User), expect, "{name}");
        g.bench_function(name, |b| {
            b.iter(|| f.matches(black_box(&user), ResourceKind::User))
        });
    }
    g.finish();
}

fn patches(c: &mut Criterion) {
    let mut g = c.benchmark_group("patch");
    let user = realistic_user();
    for (name, file) in [
        ("user/entra_legacy_multi_op", "entra-3.4-update-legacy.json"),
        ("user/okta_deactivate", "okta-2.8-deactivate.json"),
    ] {
        let body = fixture(file);
        g.bench_function(format!("{name}/from_json"), |b| {
            b.iter(|| PatchRequest::from_json(black_box(&body)).expect("PatchOp parses"))
        });
        let req = PatchRequest::from_json(&body).expect("PatchOp parses");
        let mut probe = user.clone();
        scim::apply(&mut probe, &req, ResourceKind::User).expect("PatchOp applies");
        g.bench_function(format!("{name}/from_json+apply"), |b| {
            b.iter_batched_ref(
                || user.clone(),
                |u| {
                    let req = PatchRequest::from_json(black_box(&body)).expect("parses");
                    scim::apply(u, &req, ResourceKind::User).expect("applies")
                },
                BatchSize::SmallInput,
            )
        });
    }
    // Entra/Okta push big groups as one `add members`; 4000 shows how it scales.
    for size in [1000usize, 4000] {
        let members: Vec<Value> = (0..size)
            .map(|i| json!({"value": format!("dXNlci17aX0tZXhhbXBsZQ{i:05}")}))
            .collect();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": members}]
        });
        let req = PatchRequest::from_json(&body).expect("parses");
        assert_eq!(
            scim::plan_group(&req).expect("plans").fold().add.len(),
            size
        );
        g.bench_function(format!("group/add_{size}_members/from_json"), |b| {
            b.iter(|| PatchRequest::from_json(black_box(&body)).expect("parses"))
        });
        g.bench_function(format!("group/add_{size}_members/plan_group"), |b| {
            b.iter(|| scim::plan_group(black_box(&req)).expect("plans"))
        });
        let plan = scim::plan_group(&req).expect("plans");
        g.bench_function(format!("group/add_{size}_members/fold"), |b| {
            b.iter(|| black_box(&plan).fold())
        });
    }
    g.finish();
}

fn resources(c: &mut Criterion) {
    let mut g = c.benchmark_group("user");
    let meta = Meta {
        created: Some("2024-05-13T04:42:34Z".into()),
        last_modified: Some("2024-05-13T04:42:34Z".into()),
        location: Some("https://scim.example.com/scim/v2/Users/dGVzdA".into()),
        version: Some("W/\"3\"".into()),
    };
    for (name, file) in [
        ("okta_create", "okta-2.5-create-user.json"),
        ("entra_create", "entra-3.4-create-user.json"),
    ] {
        let body = fixture(file);
        g.bench_function(format!("{name}/from_json"), |b| {
            b.iter(|| User::from_json(black_box(&body)).expect("user parses"))
        });
        let u = User::from_json(&body).expect("user parses");
        g.bench_function(format!("{name}/to_json"), |b| {
            b.iter(|| black_box(&u).to_json("dGVzdA", &meta))
        });
    }
    g.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1200))
        .without_plots()
}

criterion_group! {
    name = benches;
    config = config();
    targets = filters, patches, resources
}
criterion_main!(benches);
