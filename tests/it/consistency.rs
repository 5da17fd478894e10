//! Consistency: read-your-writes through an index that lags 2 s behind writes (the
//! Okta and Entra core flows), two gateways on one GMS racing on the same user and the
//! same group (DataHub is the only state), and GMS faults (503, stall) that must
//! surface as SCIM errors with nothing half-written.

use std::time::{Duration, Instant};

use http::Method;
use serde_json::{json, Value};

use crate::fixture;
use crate::harness::{keys, TestApp};
use crate::require_emulator;
use crate::support::datahub::{assert_group, assert_user};
use crate::support::flows::*;
use crate::support::scim::*;

const LAG: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_flow_reads_its_writes_under_index_lag() {
    let app = TestApp::builder().index_lag(LAG).spawn().await;
    require_emulator!(app);
    let t0 = Instant::now();
    let un = "lagged.user@okta.local";
    assert!(lookup_user(&app, un).await.is_empty());
    let body = fixture(
        "okta/create_user.json",
        &[("userName", un), ("externalId", "00ulag0000000000000")],
    );
    let id = app.post("/scim/v2/Users", body.clone()).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        app.get(&user_path(&id)).expect(200).await["userName"],
        json!(un)
    );
    assert_eq!(
        ids(&lookup_user(&app, un).await),
        vec![id.clone()],
        "userName eq right after create"
    );
    assert_eq!(
        ids(&lookup_user(&app, &un.to_uppercase()).await),
        vec![id.clone()]
    );
    app.post("/scim/v2/Users", body).expect(409).await;
    // A lookup in another case than the stored one, right after create.
    let mixed = create_user(&app, "Mixed.Lagged@Example.com").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        ids(&lookup_user(&app, "mixed.lagged@example.com").await),
        vec![mixed]
    );

    // PUT deactivate, read back at once.
    let mut u = app.get(&user_path(&id)).expect(200).await;
    u["active"] = json!(false);
    app.put(&user_path(&id), u).expect(200).await;
    assert_eq!(
        app.get(&user_path(&id)).expect(200).await["active"],
        json!(false)
    );
    assert_eq!(lookup_user(&app, un).await[0]["active"], json!(false));
    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "replace", "value": {"active": true}}])),
    )
    .await;
    assert_eq!(lookup_user(&app, un).await[0]["active"], json!(true));

    // Push a group, find it by name, add and remove members, read them back at once.
    let other = create_user(&app, "lagged.other").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let gid = create_group(&app, "Lagged Group").await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(
        ids(&lookup_group(&app, "Lagged Group").await),
        vec![gid.clone()],
        "displayName eq right after create"
    );
    app.post(
        "/scim/v2/Groups",
        fixture("okta/create_group.json", &[("displayName", "Lagged Group")]),
    )
    .expect(409)
    .await;
    patch_ok(
        &app,
        &group_path(&gid),
        patch(
            json!([{"op": "add", "path": "members", "value": [{"value": id}, {"value": other}]}]),
        ),
    )
    .await;
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[id.clone(), other.clone()]),
        "GET by id sees new members"
    );
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}])),
    )
    .await;
    assert_eq!(
        members(&app, &gid).await,
        vec![other.clone()],
        "GET by id sees removed members"
    );
    let g = lookup_group(&app, "Lagged Group").await;
    assert_eq!(
        member_ids(&g[0]),
        vec![other.clone()],
        "displayName eq sees members too"
    );
    app.put(&group_path(&gid), json!({"schemas": [GROUP_SCHEMA], "displayName": "Lagged Group", "members": [{"value": id}]}))
        .expect(200)
        .await;
    assert_eq!(members(&app, &gid).await, vec![id.clone()]);
    assert!(
        t0.elapsed() < LAG * 4,
        "the flow must not wait for the index ({:?})",
        t0.elapsed()
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_flow_reads_its_writes_under_index_lag() {
    let app = TestApp::builder().index_lag(LAG).spawn().await;
    require_emulator!(app);
    let un = "Lagged_Entra_User";
    let body = fixture(
        "entra/create_user.json",
        &[("userName", un), ("externalId", "0a21f0f2-lag")],
    );
    let id = app.post("/scim/v2/Users", body.clone()).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let f = enc_plus(&format!("userName eq \"{un}\""));
    let find = |app: &TestApp| app.get(&format!("/scim/v2/Users?filter={f}")).expect(200);
    assert_eq!(ids(&assert_list(&find(&app).await, 1)), vec![id.clone()]);

    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "Replace", "path": "name.familyName", "value": "Lagson"}])),
    )
    .await;
    assert_eq!(
        app.get(&user_path(&id)).expect(200).await["name"]["familyName"],
        json!("Lagson")
    );
    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
    )
    .await;
    assert_eq!(assert_list(&find(&app).await, 1)[0]["active"], json!(false));

    let g = app
        .post(
            "/scim/v2/Groups",
            fixture(
                "entra/create_group.json",
                &[("displayName", "Lagged Sales"), ("externalId", "g-lag")],
            ),
        )
        .expect(201)
        .await;
    let gid = g["id"].as_str().expect("id").to_owned();
    let gf = enc_plus("displayName eq \"Lagged Sales\"");
    let v = app
        .get(&format!(
            "/scim/v2/Groups?excludedAttributes=members&filter={gf}"
        ))
        .expect(200)
        .await;
    assert_eq!(ids(&assert_list(&v, 1)), vec![gid.clone()]);
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}]}])),
    )
    .await;
    assert_eq!(members(&app, &gid).await, vec![id.clone()]);

    // Delete: gone at once; re-hire: back at once.
    app.delete(&user_path(&id)).expect(204).await;
    app.get(&user_path(&id)).expect(404).await;
    assert_empty_list(&find(&app).await);
    app.post("/scim/v2/Users", body).expect(201).await;
    assert_eq!(ids(&assert_list(&find(&app).await, 1)), vec![id.clone()]);
    assert_eq!(
        app.get(&user_path(&id)).expect(200).await["active"],
        json!(true)
    );
    app.shutdown().await;
}

/// Two replicas receive the same create at the same moment: exactly one 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_racing_on_one_create() {
    let app = TestApp::builder().gateways(2).spawn().await;
    for i in 0..8 {
        let un = app.uniq(&format!("race{i}@okta.local"));
        let body = fixture(
            "okta/create_user.json",
            &[("userName", &un), ("externalId", &format!("00urace{i}"))],
        );
        let a = app
            .on(0, Method::POST, "/scim/v2/Users", Some(body.clone()))
            .send();
        let b = app.on(1, Method::POST, "/scim/v2/Users", Some(body)).send();
        let (a, b) = tokio::join!(a, b);
        let mut st = [a.status, b.status];
        st.sort();
        assert_eq!(
            st,
            [201, 409],
            "{un}: {} / {}",
            String::from_utf8_lossy(&a.body),
            String::from_utf8_lossy(&b.body)
        );
        let loser = if a.status == 409 { &a } else { &b };
        loser.assert_scim_envelope();
        assert_error(&loser.json(), 409, Some("uniqueness"));
        assert_user(&app, &un, &un, "ACTIVE").await;
        assert_eq!(lookup_user(&app, &un).await.len(), 1);
    }
    for i in 0..4 {
        let display = app.uniq(&format!("Race Group {i}"));
        let body = fixture("okta/create_group.json", &[("displayName", &display)]);
        let (a, b) = tokio::join!(
            app.on(0, Method::POST, "/scim/v2/Groups", Some(body.clone()))
                .send(),
            app.on(1, Method::POST, "/scim/v2/Groups", Some(body))
                .send()
        );
        let mut st = [a.status, b.status];
        st.sort();
        assert_eq!(st, [201, 409], "{display}");
        assert_group(&app, &display).await;
    }
    app.shutdown().await;
}

/// Concurrent membership PATCHes through two replicas lose nothing: disjoint members of
/// one group, and the same users into two groups (every user's `groupMembership` is
/// then written by both replicas at once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_member_patches_lose_nothing() {
    let app = TestApp::builder().gateways(2).spawn().await;
    let mut uids = Vec::new();
    let mut names = Vec::new();
    for i in 0..16 {
        let n = app.uniq(&format!("member{i:02}"));
        uids.push(
            create_user(&app, &n).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
        names.push(n);
    }
    let (g1, g2) = (app.uniq("Concurrent One"), app.uniq("Concurrent Two"));
    let gid1 = create_group(&app, &g1).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let gid2 = create_group(&app, &g2).await["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let add = |gw: usize, gid: &str, uid: &str| {
        let body = patch(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]));
        app.on(gw, Method::PATCH, &group_path(gid), Some(body))
            .send()
    };
    // Disjoint halves of one group, one member per PATCH, both replicas at once.
    let half = uids.len() / 2;
    let left = async {
        for u in &uids[..half] {
            let r = add(0, &gid1, u).await;
            assert!(
                r.status == 200 || r.status == 204,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
        }
    };
    let right = async {
        for u in &uids[half..] {
            let r = add(1, &gid1, u).await;
            assert!(
                r.status == 200 || r.status == 204,
                "{}",
                String::from_utf8_lossy(&r.body)
            );
        }
    };
    tokio::join!(left, right);
    assert_eq!(members(&app, &gid1).await, sorted(&uids));

    // The same user into two groups at the same moment, for every user.
    for u in &uids {
        let (a, b) = tokio::join!(add(0, &gid2, u), add(1, &gid2, u));
        assert!(
            a.status < 300 && b.status < 300,
            "{} / {}",
            a.status,
            b.status
        );
    }
    let urn1 = group_urn(&g1);
    let urn2 = group_urn(&g2);
    for n in &names {
        assert_eq!(
            app.groups_of(&user_urn(n)).await,
            sorted(&[urn1.clone(), urn2.clone()]),
            "{n}"
        );
    }
    // Both replicas rewrite the same users at once: g1 emptied, one user leaves g2.
    let (a, b) = tokio::join!(
        app.on(
            0,
            Method::PATCH,
            &group_path(&gid1),
            Some(patch(
                json!([{"op": "replace", "path": "members", "value": []}])
            ))
        )
        .send(),
        app.on(
            1,
            Method::PATCH,
            &group_path(&gid2),
            Some(patch(
                json!([{"op": "remove", "path": "members", "value": [{"value": uids[0]}]}])
            ))
        )
        .send()
    );
    assert!(a.status < 300 && b.status < 300);
    assert!(members(&app, &gid1).await.is_empty());
    let mut rest = uids[1..].to_vec();
    rest.sort();
    assert_eq!(members(&app, &gid2).await, rest);
    assert!(app.groups_of(&user_urn(&names[0])).await.is_empty());
    assert_eq!(
        app.groups_of(&user_urn(&names[1])).await,
        vec![urn2.clone()]
    );
    app.shutdown().await;
}

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

/// A GMS that stops answering: 504 within the configured deadline, not a hung IdP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_gms_is_a_504_within_the_deadline() {
    let app = TestApp::builder()
        .config(keys::REQUEST_DEADLINE, "2s")
        .config(keys::GMS_REQUEST_TIMEOUT, "1s")
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
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    emu.faults().clear();
    app.get(&user_path(&user_id("someone"))).expect(404).await;
    let v: Value = app.get("/scim/v2/Users?count=1").expect(200).await;
    assert_list(&v, 1);
    app.shutdown().await;
}
