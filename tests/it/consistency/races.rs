//! Two gateways (replicas) on one GMS racing on the same user and group: DataHub is
//! the only state, conditional writes decide.

use crate::fixture;
use crate::harness::TestApp;
use crate::support::datahub::{assert_group, assert_user};
use crate::support::flows::*;
use crate::support::scim::*;
use http::Method;
use serde_json::json;

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

/// DataHub answers a lost conditional write with a 422 whose message prints the whole
/// change item (names and emails of the aspect value) before `subType=PRECONDITION`,
/// hundreds of characters in (0.15.0 and later; the emulator reproduces the layout).
/// Two replicas adding the same users to two groups in lockstep (every read of each
/// user's `groupMembership` is followed by the other replica's write) must see those
/// 422s as lost races, re-read and re-apply: every membership lands, no 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_races_in_datahubs_real_422_layout_are_retried_not_failed() {
    let app = TestApp::builder().gateways(2).spawn().await;
    let emu = crate::require_emulator!(app);
    let mut uids = Vec::new();
    let mut names = Vec::new();
    for i in 0..6 {
        let n = app.uniq(&format!("lockstep{i}@example.com"));
        uids.push(
            create_user(&app, &n).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
        names.push(n);
    }
    let (g1, g2) = (app.uniq("Lockstep One"), app.uniq("Lockstep Two"));
    let gid1 = create_group(&app, &g1).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let gid2 = create_group(&app, &g2).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Every GMS call takes 40 ms, so both replicas read a user before either writes.
    emu.faults()
        .set_latency(std::time::Duration::from_millis(40));
    emu.reset_calls();
    let add = |gw: usize, gid: &str, uid: &str| {
        let body = patch(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]));
        app.on(gw, Method::PATCH, &group_path(gid), Some(body))
            .send()
    };
    for u in &uids {
        let (a, b) = tokio::join!(add(0, &gid1, u), add(1, &gid2, u));
        for r in [&a, &b] {
            assert!(
                r.status == 200 || r.status == 204,
                "{}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
        }
    }
    emu.faults().clear();
    let lost = emu
        .calls()
        .iter()
        .filter(|c| c.endpoint == "restli.ingestProposalBatch" && c.status == 422)
        .count();
    assert!(
        lost > 0,
        "the lockstep produced no lost race: the test proves nothing"
    );
    let (urn1, urn2) = (group_urn(&g1), group_urn(&g2));
    for n in &names {
        assert_eq!(
            app.groups_of(&user_urn(n)).await,
            sorted(&[urn1.clone(), urn2.clone()]),
            "{n} is in both groups"
        );
    }
    assert_eq!(members(&app, &gid1).await, sorted(&uids));
    assert_eq!(members(&app, &gid2).await, sorted(&uids));
    app.shutdown().await;
}

/// Each replica keeps its own ID-mapping cache; a change made through one replica is
/// what the other answers next (architecture.md: a stale entry never changes an answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_never_answer_from_a_stale_cache() {
    let app = TestApp::builder().gateways(2).spawn().await;
    let get = |gw: usize, path: String| app.on(gw, Method::GET, &path, None);
    let write = |gw: usize, method: Method, path: String, body: serde_json::Value| {
        app.on(gw, method, &path, Some(body))
    };
    let lookup_on = |gw: usize, display: String| {
        let f = enc(&format!("displayName eq \"{display}\""));
        app.on(
            gw,
            Method::GET,
            &format!("/scim/v2/Groups?filter={f}"),
            None,
        )
    };

    let un = app.uniq("cached.user@example.com");
    let uid = create_user(&app, &un).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let display = app.uniq("Cached Group");
    let gid = create_group(&app, &display).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Warm replica 0's caches.
    assert_eq!(
        get(0, user_path(&uid)).expect(200).await["active"],
        json!(true)
    );
    assert_eq!(
        ids(&assert_list(
            &lookup_on(0, display.clone()).expect(200).await,
            1
        )),
        vec![gid.clone()]
    );
    assert!(member_ids(&get(0, group_path(&gid)).expect(200).await).is_empty());

    // Replica 1 renames the group, adds the member, deactivates the user.
    let renamed = format!("{display} Renamed");
    let ops = patch(
        json!([{"op": "replace", "path": "displayName", "value": renamed},
        {"op": "add", "path": "members", "value": [{"value": uid}]}]),
    );
    let r = write(1, Method::PATCH, group_path(&gid), ops).send().await;
    assert!(
        r.status == 200 || r.status == 204,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let off = patch(json!([{"op": "replace", "value": {"active": false}}]));
    let r = write(1, Method::PATCH, user_path(&uid), off).send().await;
    assert!(r.status == 200 || r.status == 204);

    // Replica 0 sees all of it.
    assert_eq!(
        get(0, user_path(&uid)).expect(200).await["active"],
        json!(false)
    );
    let g = get(0, group_path(&gid)).expect(200).await;
    assert_eq!(g["displayName"], json!(renamed));
    assert_eq!(member_ids(&g), vec![uid.clone()]);
    assert_eq!(
        ids(&assert_list(
            &lookup_on(0, renamed.clone()).expect(200).await,
            1
        )),
        vec![gid.clone()]
    );
    let old = lookup_on(0, display.clone()).expect(200).await;
    assert!(
        assert_list(&old, 1).is_empty(),
        "the old name no longer matches: {old}"
    );

    // Replica 1 deletes both; replica 0 answers 404; replica 1 re-creates; replica 0 sees it.
    app.on(1, Method::DELETE, &user_path(&uid), None)
        .expect(204)
        .await;
    app.on(1, Method::DELETE, &group_path(&gid), None)
        .expect(204)
        .await;
    get(0, user_path(&uid)).expect(404).await;
    get(0, group_path(&gid)).expect(404).await;
    assert!(assert_list(&lookup_on(0, renamed.clone()).expect(200).await, 1).is_empty());
    let body = json!({"schemas": [USER_SCHEMA], "userName": un, "active": true});
    app.on(1, Method::POST, "/scim/v2/Users", Some(body))
        .expect(201)
        .await;
    assert_eq!(
        get(0, user_path(&uid)).expect(200).await["active"],
        json!(true)
    );
    app.shutdown().await;
}

/// Assigning a big group to the app makes Okta fire creates and membership updates in
/// parallel: none may fail on a lost conditional write (retries are bounded, but must
/// suffice for this), and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_assignment_burst() {
    let app = TestApp::builder().gateways(2).spawn().await;
    let display = app.uniq("Burst Group");
    let gid = create_group(&app, &display).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let names: Vec<String> = (0..40)
        .map(|i| app.uniq(&format!("burst{i:02}@okta.local")))
        .collect();

    let creates = names.iter().enumerate().map(|(i, n)| {
        let body = json!({"schemas": [USER_SCHEMA], "userName": n, "active": true,
            "name": {"givenName": "Burst", "familyName": format!("{i}")}});
        app.on(i % 2, Method::POST, "/scim/v2/Users", Some(body))
    });
    let created = send_all(creates).await;
    let mut uids = Vec::new();
    for r in &created {
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        uids.push(r.json()["id"].as_str().expect("id").to_owned());
    }

    let adds = uids.iter().enumerate().map(|(i, u)| {
        let body = patch(json!([{"op": "add", "path": "members", "value": [{"value": u}]}]));
        app.on(i % 2, Method::PATCH, &group_path(&gid), Some(body))
    });
    for r in send_all(adds).await {
        assert!(
            r.status == 200 || r.status == 204,
            "{} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(members(&app, &gid).await, sorted(&uids));
    for n in names.iter().step_by(7) {
        assert_eq!(app.groups_of(&user_urn(n)).await, vec![group_urn(&display)]);
    }

    // Several pushed groups sharing every member, pushed at once: each user's
    // groupMembership is rewritten by all of them concurrently.
    let mut gids = Vec::new();
    let mut gurns = vec![group_urn(&display)];
    for g in 0..6 {
        let d = app.uniq(&format!("Burst Push {g}"));
        gids.push(
            create_group(&app, &d).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
        gurns.push(group_urn(&d));
    }
    let everyone: Vec<_> = uids.iter().map(|u| json!({"value": u})).collect();
    let pushes = gids.iter().enumerate().map(|(i, g)| {
        let body = patch(json!([{"op": "replace", "path": "members", "value": everyone}]));
        app.on(i % 2, Method::PATCH, &group_path(g), Some(body))
    });
    for r in send_all(pushes).await {
        assert!(
            r.status == 200 || r.status == 204,
            "{} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    gurns.sort();
    for n in &names {
        assert_eq!(app.groups_of(&user_urn(n)).await, gurns, "{n}");
    }
    for g in &gids {
        assert_eq!(members(&app, g).await, sorted(&uids));
    }
    app.shutdown().await;
}

/// Sends all requests at once (each on its own task) and returns the responses in order.
async fn send_all(
    reqs: impl IntoIterator<Item = crate::support::http::Req>,
) -> Vec<crate::support::http::Resp> {
    let tasks: Vec<_> = reqs.into_iter().map(|r| tokio::spawn(r.send())).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("request task"));
    }
    out
}
