//! The integration tests: one binary, one module per area, one harness that starts the
//! GMS emulator and the gateway in-process (see `harness.rs`).

/// The GMS emulator driven through the real DataHub client (or a real GMS when
/// `DATAHUB_GMS_URL` + `DATAHUB_GMS_TOKEN` are set).
mod emulator;
/// The shared harness: emulator + gateway in-process on 127.0.0.1:0, TLS from a
/// fresh CA, typed request helpers.
mod harness;
/// Operations: readiness, shutdown, TLS, metrics, config exit codes, bearer auth, chart.
mod ops;
/// Helpers for the IdP tests: request helper, SCIM vocabulary, DataHub expectations, PKI.
mod support;

// Replays of what each identity provider sends, asserting SCIM answers and DataHub aspects.
mod bulk; // POST /Bulk: RFC 7644 §3.7's examples, bulkId references, limits, deadline
mod conformance; // group externalId, members' display, PATCH remove, roles from the IdP (issue 10)
mod consistency; // read-your-writes under index lag, two gateways racing, GMS faults
mod directory; // directories past DataHub's 10,000-hit search window, by index and by cursor
mod entra; // Microsoft Entra ID, legacy and aadOptscim062020 PATCH dialects
mod etag; // meta.version, ETag, If-Match / If-None-Match (RFC 7644 §3.14), read-write races
mod guide; // DataHub's Okta guide scenarios, admin-owned aspects, SSO identity adoption
mod jumpcloud; // JumpCloud's connection test (create + delete a user and a group)
mod okta; // Okta AIW (PUT) and OIN (PATCH) apps, and Okta's own spec test sequence
mod onelogin; // OneLogin template bodies, suspend and delete
mod renames; // userName changes: the person moves to the DataHub user SSO lands on, the id stays
mod upstream_calls; // the GMS calls each SCIM operation costs (docs/upstream-calls.md)

/// Loads `fixtures/<name>` and replaces every `{{key}}` with its value.
pub fn fixture(name: &str, vars: &[(&str, &str)]) -> serde_json::Value {
    let path = format!("{}/tests/it/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (k, v) in vars {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    assert!(
        !text.contains("{{"),
        "{name}: unreplaced placeholder in {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}
