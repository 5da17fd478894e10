//! Fault switches, the call log and the control endpoints.

use super::*;
use std::time::Duration;

#[tokio::test]
async fn fail_drop_stall_latency_and_call_log() {
    let emu = start().await;
    let t = emu.admin_token();
    let me = "{ me { corpUser { urn } } }";
    emu.faults().fail_next_on("graphql.me", 1, 503);
    let (s, _) = call(
        &emu,
        Some(&t),
        "GET",
        "/entitiesV2/urn%3Ali%3Acorpuser%3Adatahub",
        None,
    )
    .await;
    assert_eq!(s, 200, "other endpoints unaffected");
    assert_eq!(gql(&emu, &t, me, json!({})).await.0, 503);
    assert_eq!(gql(&emu, &t, me, json!({})).await.0, 200);

    emu.faults().drop_next(1);
    assert!(
        try_send(&emu, "GET", "/health", &[], None).await.is_err(),
        "dropped without a response"
    );

    emu.faults().stall_next(1);
    let stalled = tokio::time::timeout(
        Duration::from_millis(200),
        try_send(&emu, "GET", "/health", &[], None),
    )
    .await;
    assert!(stalled.is_err(), "stalled call never answers");

    emu.faults().set_latency(Duration::from_millis(150));
    let t0 = std::time::Instant::now();
    call(&emu, None, "GET", "/health", None).await;
    assert!(t0.elapsed() >= Duration::from_millis(150));
    emu.faults().clear();

    let counts = emu.call_counts();
    assert_eq!(counts.get("graphql.me"), Some(&2));
    assert_eq!(counts.get("restli.entitiesV2.get"), Some(&1));
    assert_eq!(counts.get("health"), Some(&3));
    assert_eq!(emu.calls()[1].status, 503);
    emu.reset_calls();
    assert!(emu.calls().is_empty());
}

#[tokio::test]
async fn control_endpoints() {
    let emu = start().await;
    let (s, _) = call(
        &emu,
        None,
        "POST",
        "/__emulator/faults",
        Some(json!({"fail_next": {"n": 1, "status": 500, "endpoint": "health"}})),
    )
    .await;
    assert_eq!(s, 204);
    assert_eq!(call(&emu, None, "GET", "/health", None).await.0, 500);
    assert_eq!(call(&emu, None, "GET", "/health", None).await.0, 200);
    let (_, log) = call(&emu, None, "GET", "/__emulator/calls", None).await;
    assert_eq!(
        log["calls"].as_array().map(Vec::len),
        Some(2),
        "control calls are not logged"
    );
    assert_eq!(log["calls"][0]["status"], 500);
    let (s, _) = call(
        &emu,
        None,
        "POST",
        "/__emulator/faults",
        Some(json!({"bogus": 1})),
    )
    .await;
    assert_eq!(s, 400);
    emu.shutdown().await;
}
