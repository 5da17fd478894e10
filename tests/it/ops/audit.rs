//! The built binary's audit trail on its output streams: off by default (nothing on
//! stdout or stderr), and with `--audit-log stdout` one JSON line per entity written,
//! on stdout only, while the ordinary logs on stderr stay free of personal data.

use std::process::Stdio;
use std::time::Duration;

use datahub_scim::emulator::{Emulator, EmulatorConfig};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

const USER: &str = "audited.person@example.com";

/// What one run of the binary printed, and the write calls GMS received.
struct Run {
    stdout: String,
    stderr: String,
    /// `(urn, aspect)` pairs of each write call, in order.
    writes: Vec<Vec<(String, String)>>,
}

/// Starts the binary (plain HTTP, JSON logs at debug) with `audit` as
/// `DATAHUB_SCIM_AUDIT_LOG`, creates a user, suspends it and pushes a group with it
/// as a member, then stops the binary.
async fn run(audit: Option<&str>) -> Run {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let emu = Emulator::start(EmulatorConfig::default(), listener)
        .await
        .expect("emulator");
    let token = emu.admin_token();
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_datahub-scim"));
    cmd.env_clear()
        .env("DATAHUB_GMS_URL", emu.base_url())
        .env("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "true")
        .env("DATAHUB_SCIM_LISTEN", "127.0.0.1:0")
        .env("DATAHUB_SCIM_ADMIN_LISTEN", "127.0.0.1:0")
        .env("DATAHUB_SCIM_LOG_FORMAT", "json")
        .env("DATAHUB_SCIM_LOG_LEVEL", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(a) = audit {
        cmd.env("DATAHUB_SCIM_AUDIT_LOG", a);
    }
    let mut child = cmd.spawn().expect("binary starts");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));

    let mut seen = String::new();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).await.expect("read") > 0,
                "exited early:\n{seen}"
            );
            seen.push_str(&line);
            let Ok(v) = serde_json::from_str::<Value>(&line) else {
                continue;
            };
            if v["message"] == "datahub-scim listening" {
                return v["scim.addr"].as_str().expect("scim.addr").to_owned();
            }
        }
    })
    .await
    .expect("the gateway starts");

    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let send = |method: &str, path: String, body: Value| {
        let req = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/scim+json")
            .body(http_body_util::Full::new(bytes::Bytes::from(
                serde_json::to_vec(&body).expect("json"),
            )))
            .expect("request");
        let client = client.clone();
        async move {
            let resp = client.request(req).await.expect("answer");
            let status = resp.status();
            let body = http_body_util::BodyExt::collect(resp.into_body())
                .await
                .expect("body")
                .to_bytes();
            assert!(status.is_success(), "{status}: {body:?}");
            serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null)
        }
    };
    let user = crate::fixture(
        "okta/create_user.json",
        &[("userName", USER), ("externalId", "00uaudit00000000000")],
    );
    let id = send("POST", "/scim/v2/Users".into(), user).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let off = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                     "Operations": [{"op": "replace", "value": {"active": false}}]});
    send("PATCH", format!("/scim/v2/Users/{id}"), off).await;
    let group = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                       "displayName": "Audited Team", "members": [{"value": id}]});
    send("POST", "/scim/v2/Groups".into(), group).await;

    child.start_kill().expect("stop");
    let _ = child.wait().await;
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest).await;
    seen.push_str(&rest);
    let mut out = String::new();
    let _ = stdout.read_to_string(&mut out).await;
    let writes = emu
        .calls()
        .into_iter()
        .filter(|c| !c.writes.is_empty())
        .map(|c| c.writes)
        .collect();
    emu.shutdown().await;
    Run {
        stdout: out,
        stderr: seen,
        writes,
    }
}

#[tokio::test]
async fn audit_trail_is_off_by_default() {
    let r = run(None).await;
    assert!(r.writes.len() >= 3, "the run wrote to DataHub");
    assert_eq!(r.stdout, "", "nothing on stdout");
    assert!(!r.stderr.contains("\"log\":\"audit\""), "{}", r.stderr);
    assert!(!r.stderr.contains(USER), "logs name nobody:\n{}", r.stderr);
}

#[tokio::test]
async fn audit_trail_on_stdout_is_one_line_per_entity_written() {
    let r = run(Some("stdout")).await;
    let events: Vec<Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let expected: usize = r
        .writes
        .iter()
        .map(|w| {
            w.iter()
                .map(|(u, _)| u)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        })
        .sum();
    assert_eq!(events.len(), expected, "{}", r.stdout);
    assert!(events
        .iter()
        .all(|e| e["log"] == "audit" && e["outcome"] == "ok"));
    let urn = format!("urn:li:corpuser:{USER}");
    let ops: Vec<&str> = events
        .iter()
        .filter(|e| e["urn"] == urn.as_str())
        .map(|e| e["scim_operation"].as_str().expect("operation"))
        .collect();
    assert_eq!(ops, ["users.create", "users.patch", "groups.create"]);
    // The ordinary logs (stderr) carry neither the events nor the person.
    assert!(!r.stderr.contains("\"log\":\"audit\""), "{}", r.stderr);
    assert!(!r.stderr.contains(USER), "{}", r.stderr);
    assert!(r.stderr.contains("audit trail of DataHub writes enabled"));
}
