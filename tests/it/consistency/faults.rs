//! GMS faults surface as SCIM errors (503, 504), never 500, with nothing half-written.

use crate::fixture;
use crate::harness::{keys, TestApp};
use crate::require_emulator;
use crate::support::datahub::assert_user;
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// GMS answers 503 once during a create: the IdP gets a SCIM 503 (not 500) and
/// nothing is half-written; its retry succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gms_503_during_create_is_a_clean_503() {
    let app = TestApp::spawn().await;
    let emu = require_emulator!(app);
    // Warm the token cache so the fault hits the create itself.
    app.get("/scim/v2/Users?count=1").expect(200).await;
    let un = "faulty@okta.local";
    let body = fixture(
        "okta/create_user.json",
        &[("userName", un), ("externalId", "00ufault")],
    );

    // Learn which GMS endpoints a create calls, then fail the first call to each of
    // them in turn: every time a 503 (or 502) SCIM error, and either no user at all or a
    // complete one (a failure after the write).
    emu.reset_calls();
    app.post(
        "/scim/v2/Users",
        fixture(
            "okta/create_user.json",
            &[("userName", "probe@okta.local"), ("externalId", "00uprobe")],
        ),
    )
    .expect(201)
    .await;
    let mut endpoints: Vec<String> = Vec::new();
    for c in emu.calls() {
        if !endpoints.contains(&c.endpoint) {
            endpoints.push(c.endpoint);
        }
    }
    assert!(!endpoints.is_empty());
    let urn = user_urn(un);
    for ep in &endpoints {
        emu.faults().fail_next_on(ep, 1, 503);
        let r = app.post("/scim/v2/Users", body.clone()).send().await;
        emu.faults().clear();
        assert!(
            r.status == 503 || r.status == 502,
            "GMS 503 on {ep} during a create: got {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        r.assert_scim_envelope();
        if r.status == 503 {
            assert_retry_after(&r);
        }
        if app.exists(&urn).await {
            for a in ["corpUserInfo", "corpUserStatus", "origin"] {
                assert!(
                    app.aspect(&urn, a).await.is_some(),
                    "503 on {ep}: user written without {a}"
                );
            }
            break;
        }
    }
    // A plain fail_next(1, 503) on the first call, then the IdP's retry.
    emu.faults().fail_next(1, 503);
    let r = app
        .post(
            "/scim/v2/Users",
            fixture(
                "okta/create_user.json",
                &[("userName", "retry@okta.local"), ("externalId", "00uretry")],
            ),
        )
        .send()
        .await;
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    r.assert_scim_envelope();
    assert!(!app.exists(&user_urn("retry@okta.local")).await);
    app.post(
        "/scim/v2/Users",
        fixture(
            "okta/create_user.json",
            &[("userName", "retry@okta.local"), ("externalId", "00uretry")],
        ),
    )
    .expect(201)
    .await;
    assert_user(&app, "retry@okta.local", "retry@okta.local", "ACTIVE").await;
    app.shutdown().await;
}

/// Every 429, 503 and 504 tells the IdP when to come back (issue 9: Okta and Entra
/// retry a failure with `Retry-After` instead of counting it against the app).
fn assert_retry_after(r: &crate::support::http::Resp) {
    let after = r.header("retry-after");
    assert!(
        after
            .as_deref()
            .is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 0)),
        "{} without a usable Retry-After: {after:?}",
        r.status
    );
}

/// A GMS that stops answering: 504 within the configured deadline, not a hung IdP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_gms_is_a_504_within_the_deadline() {
    // The per-call GMS timeout (10 s by default) is longer than the request deadline,
    // so the deadline is what answers.
    let app = TestApp::builder()
        .config(keys::REQUEST_DEADLINE, "2s")
        .spawn()
        .await;
    let emu = require_emulator!(app);
    app.get("/scim/v2/Users?count=1").expect(200).await;
    emu.faults().stall_next(1000);
    let t0 = Instant::now();
    let r = app.get(&user_path(&user_id("someone"))).send().await;
    let took = t0.elapsed();
    assert_eq!(r.status, 504, "{}", String::from_utf8_lossy(&r.body));
    r.assert_scim_envelope();
    assert_retry_after(&r);
    // Deadline 2 s; the slack absorbs a loaded CI machine, not a missing timeout (30 s).
    assert!(
        took < Duration::from_millis(4500),
        "answered after {took:?}"
    );
    emu.faults().clear();
    app.get(&user_path(&user_id("someone"))).expect(404).await;
    let v: Value = app.get("/scim/v2/Users?count=1").expect(200).await;
    assert_list(&v, 1);
    app.shutdown().await;
}

/// A membership change of many users is one batched write: when GMS fails it, no member
/// is half-added, and the IdP's retry adds them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_membership_write_changes_no_member() {
    let app = TestApp::spawn().await;
    let emu = require_emulator!(app);
    let mut uids = Vec::new();
    for i in 0..20 {
        uids.push(
            create_user(&app, &format!("fault.member{i:02}")).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let gid = create_group(&app, "Fault Group").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let value: Vec<_> = uids.iter().map(|u| json!({"value": u})).collect();
    let add = patch(json!([{"op": "add", "path": "members", "value": value}]));

    emu.faults()
        .fail_next_on("restli.ingestProposalBatch", 1, 503);
    let r = app.patch(&group_path(&gid), add.clone()).send().await;
    emu.faults().clear();
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    r.assert_scim_envelope();
    assert!(members(&app, &gid).await.is_empty(), "no member half-added");
    for i in [0, 7, 19] {
        assert!(app
            .groups_of(&user_urn(&format!("fault.member{i:02}")))
            .await
            .is_empty());
    }
    patch_ok(&app, &group_path(&gid), add).await;
    assert_eq!(members(&app, &gid).await, sorted(&uids));

    // A GMS that drops the connection: a gateway error, not a 500, and the next call works.
    emu.faults().drop_next(1);
    let r = app.get(&group_path(&gid)).send().await;
    emu.faults().clear();
    assert!(
        matches!(r.status, 502..=504),
        "dropped GMS connection: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.assert_scim_envelope();
    assert_eq!(members(&app, &gid).await, sorted(&uids));
    app.shutdown().await;
}

/// The per-call GMS timeout alone (request deadline left at its default) also turns a
/// stalled GMS into a 504, long before the IdP's own 60 s socket timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_gms_call_times_out_at_the_gms_timeout() {
    let app = TestApp::builder()
        .config(keys::GMS_REQUEST_TIMEOUT, "1s")
        .spawn()
        .await;
    let emu = require_emulator!(app);
    app.get("/scim/v2/Users?count=1").expect(200).await;
    emu.faults().stall_next(1000);
    let t0 = Instant::now();
    let r = app
        .post("/scim/v2/Users", json!({"userName": "stalled@example.com"}))
        .send()
        .await;
    let took = t0.elapsed();
    emu.faults().clear();
    assert!(
        matches!(r.status, 503 | 504),
        "{} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.assert_scim_envelope();
    assert_retry_after(&r);
    assert!(
        took < Duration::from_millis(3500),
        "answered after {took:?}"
    );
    app.shutdown().await;
}

/// DataHub throttling (429) reaches the IdP as 429 with `Retry-After`, which Okta and
/// Entra both honour by backing off and retrying (idp-scim-clients.md §2.10, §3.6, §8);
/// a bare 503 makes Okta open a manual task and counts toward Entra's quarantine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gms_throttling_is_a_429_with_retry_after() {
    let app = TestApp::spawn().await;
    let emu = require_emulator!(app);
    app.get("/scim/v2/Users?count=1").expect(200).await;
    emu.faults().fail_next(1, 429);
    let r = app.get(&user_path(&user_id("someone"))).send().await;
    emu.faults().clear();
    assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
    r.assert_scim_envelope();
    let after = r.header("retry-after").expect("Retry-After on 429");
    assert!(
        after.parse::<u64>().is_ok_and(|s| s > 0),
        "Retry-After: {after}"
    );
    app.shutdown().await;
}
