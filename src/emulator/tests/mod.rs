//! Loopback tests of the emulator with a plain hyper client (no gateway code).

mod auth;
mod errors;
mod faults;
mod graphql;
mod privileges;
mod profiles;
mod restli;
mod scroll;
mod search;
mod window;

use super::{Emulator, EmulatorConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

pub(super) const KEY: &str = "test-signing-key-0123456789abcdefghij";

pub(super) async fn start() -> Emulator {
    start_with(EmulatorConfig {
        signing_key: KEY.into(),
        salt: "test-salt".into(),
        ..EmulatorConfig::default()
    })
    .await
}

/// An emulator of DataHub `version`.
pub(super) async fn start_release(version: &str) -> Emulator {
    start_with(EmulatorConfig {
        signing_key: KEY.into(),
        salt: "test-salt".into(),
        datahub_version: version.into(),
        ..EmulatorConfig::default()
    })
    .await
}

pub(super) async fn start_with(cfg: EmulatorConfig) -> Emulator {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    Emulator::start(cfg, l).await.expect("start")
}

/// Sends one request; `Err` when the connection broke without a response.
pub(super) async fn try_send(
    emu: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Result<(u16, Value), hyper::Error> {
    send_full(emu, method, path, headers, body)
        .await
        .map(|(s, _, v)| (s, v))
}

/// Sends one request and returns the response headers too.
pub(super) async fn send_full(
    emu: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<String>,
) -> Result<(u16, http::HeaderMap, Value), hyper::Error> {
    let addr = emu.base_url().trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut b = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1")
        .header("content-type", "application/json")
        .header("X-RestLi-Protocol-Version", "2.0.0");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .expect("request");
    let resp = sender.send_request(req).await?;
    let status = resp.status().as_u16();
    let hdrs = resp.headers().clone();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)))
    };
    Ok((status, hdrs, v))
}

/// Sends an authenticated request with a JSON body.
pub(super) async fn call(
    emu: &Emulator,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
    try_send(emu, method, path, &headers, body.map(|b| b.to_string()))
        .await
        .expect("response")
}

/// GraphQL call; returns (status, body).
pub(super) async fn gql(emu: &Emulator, token: &str, query: &str, vars: Value) -> (u16, Value) {
    call(
        emu,
        Some(token),
        "POST",
        "/api/graphql",
        Some(json!({"query": query, "variables": vars})),
    )
    .await
}

/// An MCP (UPSERT unless changed) with the value serialized as a JSON string.
pub(super) fn mcp(urn: &str, aspect: &str, value: Value) -> Value {
    let ety = super::store::entity_type(urn).unwrap_or("corpuser");
    json!({
        "entityType": ety, "entityUrn": urn, "changeType": "UPSERT", "aspectName": aspect,
        "aspect": {"value": value.to_string(), "contentType": "application/json"},
    })
}

/// `ingestProposalBatch` with `async=false`.
pub(super) async fn ingest(emu: &Emulator, token: &str, mcps: Vec<Value>) -> (u16, Value) {
    call(
        emu,
        Some(token),
        "POST",
        "/aspects?action=ingestProposalBatch",
        Some(json!({"proposals": mcps, "async": "false"})),
    )
    .await
}

pub(super) fn enc(urn: &str) -> String {
    percent_encoding::utf8_percent_encode(urn, percent_encoding::NON_ALPHANUMERIC).to_string()
}

pub(super) fn status_aspect(s: &str) -> Value {
    json!({"status": s, "lastModified": {"time": 1, "actor": "urn:li:corpuser:datahub"}})
}

/// A realistic `corpUserInfo` as an IdP import writes it (names, e-mail, SCIM
/// properties).
pub(super) fn realistic_user_info(username: &str) -> Value {
    json!({
        "active": true,
        "displayName": "Jöhn Dœ-Smithson",
        "email": format!("{username}@example.com"),
        "title": "Senior Staff Engineer, Platform Reliability",
        "firstName": "Jöhn",
        "lastName": "Dœ-Smithson",
        "fullName": "Jöhn Dœ-Smithson",
        "departmentName": "Engineering",
        "countryCode": "DE",
        "customProperties": {
            "scim.userName": format!("{username}@example.com"),
            "scim.externalId": "00u1a2b3c4d5e6f7g8h9",
            "scim.managed": "true",
            "scim.emails": format!("[{{\"value\":\"{username}@example.com\",\"type\":\"work\",\"primary\":true}}]"),
        },
    })
}

/// Seeds `n` users `u00000`… (key + `corpUserInfo`), indexed at once.
pub(super) fn seed_users(emu: &Emulator, n: usize) {
    for i in 0..n {
        let name = format!("u{i:05}");
        emu.put_aspect(
            &format!("urn:li:corpuser:{name}"),
            "corpUserInfo",
            json!({"active": true, "email": format!("{name}@example.com")}),
        );
    }
}

/// The GraphQL error's `extensions.code`, `type` and message.
pub(super) fn gql_error(b: &Value) -> (Value, Value, String) {
    let e = &b["errors"][0];
    (
        e["extensions"]["code"].clone(),
        e["extensions"]["type"].clone(),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

/// Every test docs/emulator.md names (`file::test`) exists, so the table stays true.
#[test]
fn docs_name_only_existing_tests() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/emulator.md")).expect("docs/emulator.md");
    let re = regex::Regex::new(r"`([a-z_]+)::([a-z0-9_]+)`").expect("regex");
    let mut checked = 0;
    for c in re.captures_iter(&doc) {
        let (file, name) = (&c[1], &c[2]);
        if file == "crate" {
            continue;
        }
        let found = [
            root.join(format!("src/emulator/tests/{file}.rs")),
            root.join(format!("src/emulator/{file}.rs")),
        ]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .any(|src| src.contains(&format!("fn {name}(")));
        assert!(
            found,
            "docs/emulator.md names {file}::{name}, which does not exist"
        );
        checked += 1;
    }
    assert!(checked > 40, "the table names the tests ({checked})");
}
