//! Operations: readiness, graceful drain, certificate reload, plain HTTP on the TLS
//! port, metrics, config exit code, bearer auth outcomes, routing errors.

mod chart;
mod harness;

use std::time::Duration;

use harness::{make_certs, sample, write_pair, Gateway};
use serde_json::json;

fn calls_to(g: &Gateway, endpoint: &str) -> u64 {
    g.emu.call_counts().get(endpoint).copied().unwrap_or(0)
}

#[tokio::test]
async fn ready_follows_gms_health() {
    let g = Gateway::start(&[]).await;
    assert_eq!(g.admin_get("/live").await.0, 200);
    g.wait_admin_status("/ready", 200).await;

    g.emu.faults().fail_next_on("health", 10_000, 503);
    g.wait_admin_status("/ready", 503).await;
    assert_eq!(
        g.admin_get("/live").await.0,
        200,
        "live stays up while GMS is down"
    );

    g.emu.faults().clear();
    g.wait_admin_status("/ready", 200).await;
}

#[tokio::test]
async fn shutdown_drains_a_request_in_flight() {
    let mut g = Gateway::ready(&[]).await;
    let token = g.emu.admin_token();
    // The token check (GMS `me`) takes 700 ms, so the request is in flight when
    // shutdown starts.
    g.emu.faults().set_latency(Duration::from_millis(700));
    let path = "/scim/v2/Users";
    let in_flight = {
        let ca = g.certs.ca_pem.clone();
        let port = g.scim.port();
        let token = token.clone();
        tokio::spawn(async move {
            let probe = ProbeClient { ca, port };
            probe.get(path, &token).await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    g.shutdown();
    g.wait_admin_status("/ready", 503).await;

    let status = in_flight
        .await
        .expect("join")
        .expect("in-flight request completes");
    assert_ne!(status, 0);
    assert!(status < 600, "got a real HTTP answer: {status}");

    let result = tokio::time::timeout(Duration::from_secs(10), g.task)
        .await
        .expect("run returns within the grace");
    result.expect("join").expect("run ends cleanly");
    assert!(
        tokio::net::TcpStream::connect(g.scim).await.is_err(),
        "no longer accepting"
    );
}

/// Holds what a spawned request needs.
struct ProbeClient {
    ca: String,
    port: u16,
}

impl ProbeClient {
    async fn get(&self, path: &str, token: &str) -> Result<u16, String> {
        // Reuse the harness client through a throwaway Gateway-less call.
        harness_tls_get(&self.ca, self.port, path, token).await
    }
}

async fn harness_tls_get(ca: &str, port: u16, path: &str, token: &str) -> Result<u16, String> {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_slice_iter(ca.as_bytes()) {
        roots
            .add(c.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(cfg)
        .https_only()
        .enable_http1()
        .build();
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https);
    let req = hyper::Request::get(format!("https://127.0.0.1:{port}{path}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let resp = client.request(req).await.map_err(|e| format!("{e:?}"))?;
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    Ok(status)
}

#[tokio::test]
async fn certificate_reload_keeps_old_config_on_bad_files() {
    let g = Gateway::ready(&[]).await;
    let old_ca = g.certs.ca_pem.clone();
    assert_eq!(
        g.scim_with_ca(&old_ca, "GET", "/scim/v2/Users", None)
            .await
            .expect("old CA trusted")
            .status,
        401
    );

    // Good new material signed by another CA.
    let other = tempfile::tempdir().expect("tempdir");
    let fresh = make_certs(other.path());
    let (cert, key) = (
        std::fs::read_to_string(&fresh.cert).expect("c"),
        std::fs::read_to_string(&fresh.key).expect("k"),
    );
    write_pair(&g.certs.cert, &g.certs.key, &cert, &key);
    wait_for(|| async {
        g.scim_with_ca(&fresh.ca_pem, "GET", "/scim/v2/Users", None)
            .await
            .is_ok()
    })
    .await;
    assert!(
        g.scim_with_ca(&old_ca, "GET", "/scim/v2/Users", None)
            .await
            .is_err(),
        "old certificate no longer served"
    );
    let m = g.metrics().await;
    assert_eq!(
        sample(&m, "datahub_scim_tls_reloads_total{result=\"ok\"}"),
        Some(1.0),
        "{m}"
    );

    // Bad material: counted, logged, and the good certificate stays.
    write_pair(
        &g.certs.cert,
        &g.certs.key,
        "not a certificate",
        "not a key",
    );
    let mut failed = None;
    for _ in 0..100 {
        failed = sample(
            &g.metrics().await,
            "datahub_scim_tls_reloads_total{result=\"failed\"}",
        );
        if failed.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(failed, Some(1.0));
    let r = g
        .scim_with_ca(&fresh.ca_pem, "GET", "/scim/v2/Users", None)
        .await
        .expect("still serving the good certificate");
    assert_eq!(r.status, 401);
    assert_eq!(g.admin_get("/ready").await.0, 200);
}

async fn wait_for<F, Fut>(mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition never held");
}

#[tokio::test]
async fn plain_http_on_the_tls_port_fails_cleanly() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let g = Gateway::ready(&[]).await;
    let mut s = tokio::net::TcpStream::connect(g.scim)
        .await
        .expect("connect");
    s.write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
        .await
        .expect("server closes");
    let _ = read; // reset or clean close are both fine
    assert!(
        !buf.starts_with(b"HTTP/"),
        "no plain-HTTP answer on the TLS port"
    );
    // The listener is unharmed.
    assert_eq!(g.scim("GET", "/scim/v2/Users", None).await.status, 401);
}

#[tokio::test]
async fn metrics_move_as_requests_are_served() {
    let g = Gateway::ready(&[]).await;
    let key = "datahub_scim_requests_total{operation=\"users.list\",resource=\"User\",status_class=\"4xx\"}";
    let before = g.metrics().await;
    assert_eq!(sample(&before, key), None);
    assert!(
        before.contains("datahub_scim_build_info{version=\""),
        "{before}"
    );
    assert!(sample(
        &before,
        "datahub_scim_tls_certificate_expiry_timestamp_seconds"
    )
    .is_some_and(|v| v > 1.7e9));

    for _ in 0..2 {
        assert_eq!(g.scim("GET", "/scim/v2/Users", None).await.status, 401);
    }
    let after = g.metrics().await;
    assert_eq!(sample(&after, key), Some(2.0), "{after}");
    assert_eq!(
        sample(
            &after,
            "datahub_scim_auth_total{outcome=\"invalid\",cached=\"false\"}"
        ),
        Some(2.0)
    );
    assert_eq!(sample(&after, "datahub_scim_requests_in_flight"), Some(0.0));
    assert!(
        sample(
            &after,
            "datahub_scim_gms_requests_total{endpoint=\"gms.health\",outcome=\"ok\"}"
        )
        .is_some(),
        "{after}"
    );
}

#[test]
fn bad_config_exits_64_before_binding() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_datahub-scim"))
        .env_clear()
        .env("DATAHUB_SCIM_LISTEN", "not-an-address")
        .env("DATAHUB_SCIM_USERNAME_REGEX", "([")
        .env("DATAHUB_GMS_URL", "ftp://x")
        .output()
        .expect("binary runs");
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    for name in [
        "DATAHUB_SCIM_LISTEN",
        "DATAHUB_SCIM_USERNAME_REGEX",
        "DATAHUB_GMS_URL",
        "DATAHUB_SCIM_TLS_CERT_FILE",
    ] {
        assert!(err.contains(name), "{name} missing from:\n{err}");
    }
}

fn jwt(claims: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(b"some-key-some-key-some-key-some-key");
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )
    .expect("jwt")
}

#[tokio::test]
async fn garbage_and_expired_tokens_are_401_without_asking_gms() {
    let g = Gateway::ready(&[]).await;
    let expired = jwt(
        json!({"version":"2","type":"PERSONAL","actorType":"USER","actorId":"datahub","exp": 1_000_000_000}),
    );
    for token in [Some("garbage"), Some(expired.as_str()), None] {
        let r = g.scim("GET", "/scim/v2/Users", token).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.headers["www-authenticate"],
            "Bearer realm=\"datahub-scim\""
        );
        assert_eq!(r.headers["content-type"], "application/scim+json");
        assert_eq!(r.body["status"], "401");
        assert_eq!(
            r.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
    }
    assert_eq!(calls_to(&g, "graphql.me"), 0);
}

#[tokio::test]
async fn a_token_without_manage_identities_is_403() {
    let g = Gateway::ready(&[]).await;
    let token = g.emu.create_user_token("viewer", false);
    let r = g.scim("GET", "/scim/v2/Users", Some(&token)).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(r.body["status"], "403");
}

#[tokio::test]
async fn accepted_tokens_are_cached_and_gms_outage_is_503() {
    let g = Gateway::ready(&[]).await;
    let token = g.emu.admin_token();
    for _ in 0..3 {
        let r = g.scim("GET", "/scim/v2/Schemas", Some(&token)).await;
        assert_ne!(r.status, 401);
        assert_ne!(r.status, 403);
    }
    assert_eq!(
        calls_to(&g, "graphql.me"),
        1,
        "one `me` call for three requests"
    );
    let m = g.metrics().await;
    assert_eq!(
        sample(
            &m,
            "datahub_scim_auth_total{outcome=\"ok\",cached=\"true\"}"
        ),
        Some(2.0),
        "{m}"
    );

    // A different token while GMS fails: 503, not 401, and not cached.
    let other = g.emu.create_user_token("second-admin", true);
    g.emu.faults().fail_next_on("graphql.me", 1, 503);
    let r = g.scim("GET", "/scim/v2/Schemas", Some(&other)).await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    let r = g.scim("GET", "/scim/v2/Schemas", Some(&other)).await;
    assert_ne!(r.status, 503, "the outage was not cached");
}

#[tokio::test]
async fn unknown_paths_and_methods_get_scim_errors() {
    let g = Gateway::ready(&[]).await;
    let token = g.emu.admin_token();
    let r = g.scim("GET", "/scim/v2/Nope", Some(&token)).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["status"], "404");
    let r = g
        .scim("DELETE", "/openapi/scim/v2/Users", Some(&token))
        .await;
    assert_eq!(r.status, 405);
    assert_eq!(r.headers["allow"], "GET, POST");
    assert_eq!(r.body["status"], "405");
    assert!(r.headers.contains_key("x-request-id"));
}
