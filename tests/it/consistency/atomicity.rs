//! Group writes larger than one `ingestProposalBatch` (issue 9): whatever upstream call
//! fails, and wherever the process dies, the IdP's retry of the same request ends in
//! the operation's full effect, and nothing half-made is visible meanwhile.
//!
//! - The fault matrix walks a 503 across every upstream call of every group operation
//!   (create with members, PATCH add, PUT, PATCH remove, DELETE), with the batch size
//!   at 10 (`DATAHUB_SCIM_WRITE_BATCH_SIZE`) so 25 members take first, middle and last
//!   batches in milliseconds.
//! - `kill -9` of the real binary between the batches of 1 500-member operations at
//!   the default batch size (1 000), then a fresh process serves the retry.

use std::collections::BTreeSet;
use std::time::Duration;

use http::Method;
use serde_json::{json, Value};

use datahub_scim::emulator::{Emulator, EmulatorConfig};

use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::child::Child;
use crate::support::flows::*;
use crate::support::http::{Req, Resp};
use crate::support::scim::*;

const INGEST: &str = "restli.ingestProposalBatch";

/// The group operations of the matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    /// `POST /Groups` with every member (a generic client's create).
    Create,
    /// Entra's `PATCH` `Add` `members` value list.
    Add,
    /// Okta AIW's `PUT` with the full list (first 8 out, 13 new in).
    Put,
    /// Entra's `PATCH` `Remove` `members` value list (everyone).
    Remove,
    /// `DELETE /Groups/{id}`.
    Delete,
}

const OPS: [Op; 5] = [Op::Create, Op::Add, Op::Put, Op::Remove, Op::Delete];

fn value_list(ids: &[String]) -> Vec<Value> {
    ids.iter()
        .map(|u| json!({"$ref": null, "value": u}))
        .collect()
}

/// Members before the operation.
fn before(op: Op, uids: &[String]) -> Vec<String> {
    match op {
        Op::Create | Op::Add => Vec::new(),
        Op::Put => uids[..12].to_vec(),
        Op::Remove | Op::Delete => uids.to_vec(),
    }
}

/// Members after the operation's full effect (`None`: the group is gone).
fn after(op: Op, uids: &[String]) -> Option<Vec<String>> {
    match op {
        Op::Create | Op::Add => Some(uids.to_vec()),
        Op::Put => Some(uids[8..].to_vec()),
        Op::Remove => Some(Vec::new()),
        Op::Delete => None,
    }
}

/// Sets the group up (unless the operation creates it); its SCIM id.
async fn setup(app: &TestApp, op: Op, name: &str, uids: &[String]) -> String {
    if op != Op::Create {
        let body = json!({"schemas": [GROUP_SCHEMA], "displayName": name,
            "members": value_list(&before(op, uids))});
        app.post("/scim/v2/Groups", body).expect(201).await;
    }
    group_id(name)
}

fn request(app: &TestApp, op: Op, name: &str, uids: &[String]) -> Req {
    let path = group_path(&group_id(name));
    match op {
        Op::Create => app.post(
            "/scim/v2/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": name,
                   "members": uids.iter().map(|u| json!({"value": u, "type": "User"})).collect::<Vec<_>>()}),
        ),
        Op::Add => app.patch(
            &path,
            patch(json!([{"op": "Add", "path": "members", "value": value_list(uids)}])),
        ),
        Op::Put => app.put(
            &path,
            json!({"schemas": [GROUP_SCHEMA], "id": group_id(name), "displayName": name,
                   "members": uids[8..].iter().map(|u| json!({"value": u, "display": u})).collect::<Vec<_>>()}),
        ),
        Op::Remove => app.patch(
            &path,
            patch(json!([{"op": "Remove", "path": "members", "value": value_list(uids)}])),
        ),
        Op::Delete => app.delete(&path),
    }
}

/// Users (of `uids`) whose `groupMembership` names the group, sorted.
async fn linked(app: &TestApp, name: &str, uids: &[String]) -> Vec<String> {
    let urn = group_urn(name);
    let mut out = Vec::new();
    for u in uids {
        let username = String::from_utf8(
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, u)
                .expect("id"),
        )
        .expect("utf8");
        if app.groups_of(&user_urn(&username)).await.contains(&urn) {
            out.push(u.clone());
        }
    }
    out.sort();
    out
}

/// Asserts the operation's full effect, in SCIM and in DataHub.
async fn assert_done(app: &TestApp, op: Op, name: &str, uids: &[String], case: &str) {
    let gid = group_id(name);
    match after(op, uids) {
        Some(want) => {
            assert_eq!(members(app, &gid).await, sorted(&want), "{case}: members");
            assert_eq!(
                linked(app, name, uids).await,
                sorted(&want),
                "{case}: DataHub"
            );
            assert!(!app.removed(&group_urn(name)).await, "{case}: live");
        }
        None => {
            app.get(&group_path(&gid)).expect(404).await;
            assert!(linked(app, name, uids).await.is_empty(), "{case}: unlinked");
            assert!(app.removed(&group_urn(name)).await, "{case}: removed");
        }
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn is_success(r: &Resp) -> bool {
    (200..300).contains(&r.status)
}

/// Every upstream call of every group operation fails once (503): the IdP sees a 503
/// with `Retry-After`, nothing half-made is visible (a created group only once
/// complete, a deleted one until complete, members only ever between the before and
/// after lists), and the retry of the same request ends in the full effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_on_any_upstream_call_of_any_group_operation_is_finished_by_the_retry() {
    let app = TestApp::builder()
        .config("DATAHUB_SCIM_WRITE_BATCH_SIZE", "10")
        .spawn()
        .await;
    let emu = require_emulator!(app);
    let mut uids = Vec::new();
    for i in 0..25 {
        let u = create_user(&app, &format!("mx.member{i:02}")).await;
        uids.push(u["id"].as_str().expect("id").to_owned());
    }
    let mut cases = 0;
    for op in OPS {
        // The calls this operation makes, in order (the readiness probe, `GET /config`,
        // excluded).
        let probe = format!("probe {op:?}");
        setup(&app, op, &probe, &uids).await;
        emu.reset_calls();
        let r = request(&app, op, &probe, &uids).send().await;
        assert!(is_success(&r), "{op:?} probe: {}", r.status);
        let calls: Vec<String> = emu
            .calls()
            .into_iter()
            .map(|c| c.endpoint)
            .filter(|e| e != "health" && e != "config")
            .collect();
        assert!(
            calls.iter().filter(|e| *e == INGEST).count() >= 3,
            "{op:?}: several batches: {calls:?}"
        );
        for (i, endpoint) in calls.iter().enumerate() {
            let nth = calls[..=i].iter().filter(|e| *e == endpoint).count() as u32;
            let case = format!("{op:?}, 503 on call {} ({endpoint} #{nth})", i + 1);
            let name = format!("mx {op:?} {i}");
            setup(&app, op, &name, &uids).await;
            emu.faults().fail_nth_on(endpoint, nth, 503);
            let r = request(&app, op, &name, &uids).send().await;
            emu.faults().clear();
            assert_eq!(
                r.status,
                503,
                "{case}: {}",
                String::from_utf8_lossy(&r.body)
            );
            r.assert_scim_envelope();
            assert!(
                r.header("retry-after")
                    .is_some_and(|s| s.parse::<u64>().is_ok_and(|s| s > 0)),
                "{case}: Retry-After"
            );
            // In between: never a half-made group, never a member outside before ∪ after.
            let gid = group_id(&name);
            let seen = app.get(&group_path(&gid)).send().await;
            match op {
                Op::Create => assert_eq!(seen.status, 404, "{case}: not visible yet"),
                _ => assert_eq!(seen.status, 200, "{case}: still there"),
            }
            let allowed: BTreeSet<String> = before(op, &uids)
                .into_iter()
                .chain(after(op, &uids).unwrap_or_default())
                .collect();
            for u in linked(&app, &name, &uids).await {
                assert!(allowed.contains(&u), "{case}: {u} linked");
            }
            // The IdP retries the same request.
            let r = request(&app, op, &name, &uids).send().await;
            assert!(
                is_success(&r),
                "{case}: retry got {} {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            assert_done(&app, op, &name, &uids, &case).await;
            cases += 1;
        }
    }
    // Each operation: at least the group read, a member read, three batches and the
    // re-read before the last one.
    assert!(cases >= 30, "{cases} cases");
    app.shutdown().await;
}

/// 1 500 SCIM users written straight into the emulator; their ids.
fn seed(emu: &Emulator, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = format!("k9.{i:04}");
            let urn = user_urn(&name);
            emu.put_aspect(
                &urn,
                "corpUserInfo",
                json!({"active": true, "customProperties": {"scim.userName": name, "scim.managed": "true"}}),
            );
            emu.put_aspect(
                &urn,
                "corpUserStatus",
                json!({"status": "ACTIVE", "lastModified": {"time": 0, "actor": "urn:li:corpuser:datahub"}}),
            );
            user_id(&name)
        })
        .collect()
}

/// Members as DataHub holds them, straight from the emulator.
fn linked_in(emu: &Emulator, group: &str, uids: &[String]) -> usize {
    uids.iter()
        .filter(|u| {
            let username = String::from_utf8(
                base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, u)
                    .expect("id"),
            )
            .expect("utf8");
            emu.aspect(&user_urn(&username), "groupMembership")
                .and_then(|m| m["groups"].as_array().cloned())
                .is_some_and(|g| g.iter().any(|x| x == group))
        })
        .count()
}

/// Sends `req` and, once the gateway is stuck in front of its second batch (the
/// emulator holds it unanswered and unapplied), kills the process with SIGKILL.
async fn kill_between_batches(emu: &Emulator, gw: Child, req: Req) {
    emu.reset_calls();
    emu.faults().stall_nth_on(INGEST, 2);
    let in_flight = tokio::spawn(req.send_raw());
    let mut stuck = false;
    for _ in 0..1000 {
        if emu
            .calls()
            .iter()
            .any(|c| c.endpoint == INGEST && c.status == 0)
        {
            stuck = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(stuck, "the second batch never arrived");
    let ok_batches = emu
        .calls()
        .iter()
        .filter(|c| c.endpoint == INGEST && c.status == 200)
        .count();
    assert_eq!(ok_batches, 1, "exactly one batch applied before the kill");
    gw.kill9().await;
    let r = in_flight.await.expect("join");
    assert!(r.is_none(), "the IdP got no answer from the killed process");
    emu.faults().clear();
}

/// `kill -9` of the real binary between the two batches of a 1 500-member create,
/// PATCH add and DELETE: what is left is invisible or still whole to SCIM, and a new
/// process completes the IdP's retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_between_batches_is_finished_by_the_retry_on_a_new_process() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let emu = Emulator::start(EmulatorConfig::default(), listener)
        .await
        .expect("emulator");
    let token = emu.admin_token();
    let uids = seed(&emu, 1500);
    let all: Vec<Value> = uids.iter().map(|u| json!({"value": u})).collect();

    // POST /Groups with 1 500 members: killed after the first batch.
    let name = "Killed Push";
    let urn = group_urn(name);
    let gid = group_id(name);
    let gw = Child::start(&emu.base_url(), &token, &[]).await;
    let body = json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": all});
    let req = gw.req(Method::POST, "/scim/v2/Groups", Some(&body));
    kill_between_batches(&emu, gw, req).await;
    assert_eq!(
        emu.aspect(&urn, "status").map(|s| s["removed"].clone()),
        Some(json!(true)),
        "left soft-deleted (pending)"
    );
    assert_eq!(linked_in(&emu, &urn, &uids), 996);
    let gw = Child::start(&emu.base_url(), &token, &[]).await;
    gw.req(Method::GET, &group_path(&gid), None)
        .expect(404)
        .await;
    let g = gw
        .req(Method::POST, "/scim/v2/Groups", Some(&body))
        .expect(201)
        .await;
    assert_eq!(g["members"].as_array().map(Vec::len), Some(1500));
    assert_eq!(linked_in(&emu, &urn, &uids), 1500);

    // PATCH add 1 500 members to an empty group: killed after the first batch.
    let name = "Killed Add";
    let urn = group_urn(name);
    let gid = group_id(name);
    gw.req(
        Method::POST,
        "/scim/v2/Groups",
        Some(&json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": []})),
    )
    .expect(201)
    .await;
    let add = patch(json!([{"op": "Add", "path": "members", "value": all}]));
    let req = gw.req(Method::PATCH, &group_path(&gid), Some(&add));
    kill_between_batches(&emu, gw, req).await;
    assert_eq!(linked_in(&emu, &urn, &uids), 1000);
    let gw = Child::start(&emu.base_url(), &token, &[]).await;
    let r = gw
        .req(Method::PATCH, &group_path(&gid), Some(&add))
        .send()
        .await;
    assert!(matches!(r.status, 200 | 204), "{}", r.status);
    assert_eq!(linked_in(&emu, &urn, &uids), 1500);

    // DELETE of the 1 500-member group: killed after the first batch.
    let req = gw.req(Method::DELETE, &group_path(&gid), None);
    kill_between_batches(&emu, gw, req).await;
    assert_eq!(linked_in(&emu, &urn, &uids), 500);
    assert_ne!(
        emu.aspect(&urn, "status").map(|s| s["removed"].clone()),
        Some(json!(true)),
        "still live: the retry finds it"
    );
    let gw = Child::start(&emu.base_url(), &token, &[]).await;
    let g = gw
        .req(Method::GET, &group_path(&gid), None)
        .expect(200)
        .await;
    assert_eq!(g["members"].as_array().map(Vec::len), Some(500));
    gw.req(Method::DELETE, &group_path(&gid), None)
        .expect(204)
        .await;
    assert_eq!(linked_in(&emu, &urn, &uids), 0);
    gw.req(Method::GET, &group_path(&gid), None)
        .expect(404)
        .await;
    gw.kill9().await;
    emu.shutdown().await;
}
