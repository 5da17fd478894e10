//! The built binary's logs, at debug level, never carry the bearer token, user names
//! or emails, and every request ends with one "request completed" line.

use std::process::Stdio;
use std::time::Duration;

use datahub_scim::emulator::Emulator;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

#[tokio::test]
async fn debug_logs_hold_no_token_and_no_personal_data() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let emu = Emulator::start(crate::harness::emulator_config(), listener)
        .await
        .expect("emulator");
    let token = emu.admin_token();

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_datahub-scim"))
        .env_clear()
        .env("DATAHUB_GMS_URL", emu.base_url())
        .env("DATAHUB_SCIM_INSECURE_PLAIN_HTTP", "true")
        .env("DATAHUB_SCIM_LISTEN", "127.0.0.1:0")
        .env("DATAHUB_SCIM_ADMIN_LISTEN", "127.0.0.1:0")
        .env("DATAHUB_SCIM_LOG_FORMAT", "json")
        .env("DATAHUB_SCIM_LOG_LEVEL", "debug")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));

    // The listening line names the bound address.
    let mut seen = String::new();
    let addr = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let mut line = String::new();
            assert!(
                stderr.read_line(&mut line).await.expect("read") > 0,
                "exited early:\n{seen}"
            );
            seen.push_str(&line);
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if v["message"] == "datahub-scim listening" {
                return v["scim.addr"].as_str().expect("scim.addr").to_owned();
            }
        }
    })
    .await
    .expect("the gateway starts");

    let user = "very.secret.person@example.com";
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user,
        "emails": [{"value": user, "primary": true}],
        "name": {"givenName": "Verysecret", "familyName": "Personname"}
    });
    let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    for (method, path, body) in [
        (
            "POST",
            "/scim/v2/Users".to_owned(),
            serde_json::to_vec(&body).expect("json"),
        ),
        (
            "GET",
            format!("/scim/v2/Users?filter=userName%20eq%20%22{user}%22"),
            Vec::new(),
        ),
    ] {
        let req = hyper::Request::builder()
            .method(method)
            .uri(format!("http://{addr}{path}"))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/scim+json")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .expect("request");
        let resp = client.request(req).await.expect("answer");
        assert!(
            resp.status().is_success(),
            "{method} {path}: {}",
            resp.status()
        );
    }

    child.start_kill().expect("stop");
    let _ = child.wait().await;
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest).await;
    seen.push_str(&rest);

    assert_eq!(seen.matches("\"request completed\"").count(), 2, "{seen}");
    assert!(
        seen.contains("\"operation\":\"users.create\"") && seen.contains("\"status\":201"),
        "{seen}"
    );
    for secret in [
        token.as_str(),
        user,
        "very.secret.person",
        "Verysecret",
        "Personname",
    ] {
        assert!(!seen.contains(secret), "logs contain {secret:?}");
    }
    // Only the token's signature would be unique; check it is absent too.
    let sig = token.rsplit('.').next().expect("jwt");
    assert!(!seen.contains(sig));
}
