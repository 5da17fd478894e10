//! Operations: readiness, graceful drain, certificate reload, plain HTTP on the TLS
//! port, metrics, config exit code, bearer auth outcomes, routing errors.

mod audit;
mod auth;
mod bodies;
mod chart;
mod check;
mod connections;
mod dashboard;
mod demo;
mod gms_gate;
mod logs;
mod tls;

use std::time::Duration;

use crate::harness::{self, sample, Gateway};

fn calls_to(g: &Gateway, endpoint: &str) -> u64 {
    g.emu.call_counts().get(endpoint).copied().unwrap_or(0)
}

#[tokio::test]
async fn ready_follows_gms_health() {
    let g = Gateway::start(&[]).await;
    assert_eq!(g.admin_get("/live").await.0, 200);
    g.wait_admin_status("/ready", 200).await;

    g.emu.faults().fail_next_on("config", 10_000, 503);
    g.wait_admin_status("/ready", 503).await;
    assert_eq!(
        g.admin_get("/live").await.0,
        200,
        "live stays up while GMS is down"
    );

    g.emu.faults().clear();
    g.wait_admin_status("/ready", 200).await;
}

/// DataHub 0.14.1 lacks what the gateway relies on (`IEQUAL`, the 0.15 validation
/// layout): `/ready` stays 503 and says which release was found and which are
/// supported, every SCIM request answers 503 with the same words, the metric names it.
/// A release newer than tested is served, and says so.
#[tokio::test]
async fn an_unsupported_datahub_release_is_refused_with_its_name() {
    let old = datahub_scim::emulator::EmulatorConfig {
        datahub_version: "0.14.1".into(),
        ..harness::emulator_config()
    };
    let g = Gateway::start_on(old, &[]).await;
    let mut body = String::new();
    for _ in 0..100 {
        let (status, b) = g.admin_get("/ready").await;
        assert_eq!(status, 503);
        body = b;
        if body.contains("v0.14.1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        body.trim(),
        "not ready: DataHub v0.14.1 is not supported by datahub-scim (supported: 0.15.0 to 1.7.x (newer 1.x releases are accepted with a warning))"
    );
    let token = g.emu.admin_token();
    let r = g.scim("GET", "/scim/v2/Users", Some(&token)).await;
    assert_eq!(r.status, 503);
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("DataHub v0.14.1 is not supported"),
        "{}",
        r.body
    );
    assert!(r.headers.get("retry-after").is_some(), "Retry-After");
    let m = g.metrics().await;
    assert_eq!(
        sample(
            &m,
            "datahub_scim_datahub_release_info{release=\"v0.14.1\",support=\"unsupported\"}"
        ),
        Some(1.0),
        "{m}"
    );

    let newer = datahub_scim::emulator::EmulatorConfig {
        datahub_version: "1.8.0".into(),
        ..harness::emulator_config()
    };
    let g = Gateway::start_on(newer, &[]).await;
    g.wait_admin_status("/ready", 200).await;
    let m = g.metrics().await;
    assert_eq!(
        sample(
            &m,
            "datahub_scim_datahub_release_info{release=\"v1.8.0\",support=\"untested\"}"
        ),
        Some(1.0),
        "{m}"
    );
}

#[tokio::test]
async fn shutdown_drains_a_request_in_flight() {
    let mut g = Gateway::ready(&[]).await;
    let token = g.emu.admin_token();
    // The token check (GMS `me`) takes 1 s, so the request is in flight when
    // shutdown starts.
    g.emu.faults().set_latency(Duration::from_millis(1000));
    let path = "/scim/v2/Users";
    let in_flight = {
        let ca = g.certs.ca_pem.clone();
        let port = g.scim.port();
        let token = token.clone();
        tokio::spawn(async move { harness::tls_get(&ca, port, path, &token).await })
    };
    // Shut down only once the request is inside the gateway.
    let mut inside = false;
    for _ in 0..200 {
        if sample(&g.metrics().await, "datahub_scim_requests_in_flight") == Some(1.0) {
            inside = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(inside, "the request never reached the gateway");
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
            "datahub_scim_gms_requests_total{endpoint=\"gms.config\",outcome=\"ok\"}"
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

#[tokio::test]
async fn oversized_bodies_are_413_before_auth() {
    let g = Gateway::ready(&[("DATAHUB_SCIM_MAX_BODY_BYTES", "2048")]).await;
    let big = vec![b'x'; 4096];
    let r = g
        .scim_body(
            "POST",
            "/scim/v2/Users",
            None,
            &[("content-type", "application/scim+json")],
            big,
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.body["status"], "413");
    assert_eq!(calls_to(&g, "graphql.me"), 0);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let g = Gateway::ready(&[]).await;
    let token = g.emu.admin_token();
    let r = g
        .scim_body(
            "POST",
            "/scim/v2/Users",
            Some(&token),
            &[("content-type", "text/plain")],
            "{}",
        )
        .await;
    assert_eq!(r.status, 415, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/scim+json");
}

#[tokio::test]
async fn requests_past_the_deadline_are_504() {
    let g = Gateway::ready(&[("DATAHUB_SCIM_REQUEST_DEADLINE", "300ms")]).await;
    let token = g.emu.admin_token();
    g.emu.faults().set_latency(Duration::from_millis(1500));
    let r = g.scim("GET", "/scim/v2/Users", Some(&token)).await;
    assert_eq!(r.status, 504, "{:?}", r.body);
    assert_eq!(r.body["status"], "504");
    assert!(
        r.headers
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s > 0)),
        "504 carries Retry-After: {:?}",
        r.headers
    );
    g.emu.faults().clear();
}

#[tokio::test]
async fn discovery_and_locations_use_the_public_url_or_the_host() {
    let g = Gateway::ready(&[("DATAHUB_SCIM_PUBLIC_URL", "https://scim.example.com/gms")]).await;
    let token = g.emu.admin_token();
    let r = g
        .scim(
            "GET",
            "/openapi/scim/v2/ServiceProviderConfig",
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["meta"]["location"],
        "https://scim.example.com/gms/openapi/scim/v2/ServiceProviderConfig"
    );
    assert_eq!(r.body["filter"]["maxResults"], 100);
    assert_eq!(r.body["sort"]["supported"], true, "sortBy is honoured");
    let r = g
        .scim("GET", "/scim/v2/Schemas/urn:nope", Some(&token))
        .await;
    assert_eq!(r.status, 404);

    let g = Gateway::ready(&[]).await;
    let token = g.emu.admin_token();
    let r = g
        .scim("GET", "/scim/v2/ResourceTypes/User", Some(&token))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let expected = format!(
        "https://127.0.0.1:{}/scim/v2/ResourceTypes/User",
        g.scim.port()
    );
    assert_eq!(r.body["meta"]["location"], expected.as_str());
}

#[tokio::test]
async fn a_created_user_has_a_location_and_the_id_cache_is_reported() {
    let g = Gateway::ready(&[]).await;
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "jane@example.com",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": "jane@example.com", "primary": true}],
        "active": true
    });
    // Same as the IdP sends, with the admin token, through the shared helper.
    let r = g.scim_json("POST", "/openapi/scim/v2/Users", &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.headers["content-type"], "application/scim+json");
    let location = r.body["meta"]["location"].as_str().expect("meta.location");
    assert_eq!(r.headers["location"], location);
    assert!(location.starts_with(&format!(
        "https://127.0.0.1:{}/openapi/scim/v2/Users/",
        g.scim.port()
    )));

    let m = g.metrics().await;
    assert!(
        sample(&m, "datahub_scim_cache_entries{cache=\"id\"}").is_some(),
        "{m}"
    );
    assert_eq!(
        sample(&m, "datahub_scim_requests_total{operation=\"users.create\",resource=\"User\",status_class=\"2xx\"}"),
        Some(1.0)
    );
}

#[tokio::test]
async fn root_search_answers_users_and_groups_with_a_list_response() {
    let g = Gateway::ready(&[]).await;
    let r = g
        .scim_json(
            "POST",
            "/scim/v2/Users",
            &serde_json::json!({"userName": "ann"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = g
        .scim_json(
            "POST",
            "/scim/v2/Groups",
            &serde_json::json!({"displayName": "Ops"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let search = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "startIndex": 1,
        "count": 10
    });
    let r = g.scim_json("POST", "/scim/v2/.search", &search).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["totalResults"], 2);
    assert_eq!(r.body["Resources"][0]["userName"], "ann");
    assert_eq!(r.body["Resources"][1]["displayName"], "Ops");
    let bad = serde_json::json!({"filter": "userName eq"});
    let r = g.scim_json("POST", "/scim/v2/.search", &bad).await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.body["scimType"], "invalidFilter");
}

#[tokio::test]
async fn during_the_shutdown_delay_new_requests_are_still_served() {
    let mut g = Gateway::ready(&[("DATAHUB_SCIM_SHUTDOWN_DELAY", "800ms")]).await;
    g.shutdown();
    g.wait_admin_status("/ready", 503).await;
    let r = g.scim("GET", "/scim/v2/Users", None).await;
    assert_eq!(r.status, 401, "still accepting while unready");
    let result = tokio::time::timeout(Duration::from_secs(10), g.task)
        .await
        .expect("run returns");
    result.expect("join").expect("run ends cleanly");
    assert!(
        tokio::net::TcpStream::connect(g.scim).await.is_err(),
        "listener closed after the delay"
    );
}
