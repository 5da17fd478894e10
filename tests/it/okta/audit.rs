//! The audit trail (`--audit-log`) over an Okta provisioning run: exactly one event
//! per entity per DataHub write call, matching the emulator's call log write for
//! write (urns, aspects, outcome), naming the SCIM request behind it; none for reads,
//! and none at all when the trail is off.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::fixture;
use crate::harness::{sample, TestApp};
use crate::support::flows::*;
use crate::support::scim::*;

const AUDIT_LOG: &str = "DATAHUB_SCIM_AUDIT_LOG";

/// One Okta run, each request tagged with its own `X-Request-Id`: assign two users
/// (lookup + create), push a group, add both (OIN PATCH), deactivate one (AIW PUT),
/// a membership write that loses a race once (412, retried), one GMS outage on a
/// write (503, then Okta's retry), remove a member, and unlink-delete the group (a hard
/// delete when the app is configured with `--group-delete hard`).
/// Returns the request ids that were expected to write, with their SCIM operation.
async fn okta_run(app: &TestApp) -> Vec<(&'static str, &'static str)> {
    let emu = app.emu().expect("emulator");
    let john = "john@okta.local";
    let sid = "sid@okta.local";
    let send = |r: crate::support::http::Req, id: &str| r.header("x-request-id", id);

    let mut ids = Vec::new();
    for (i, (un, rid)) in [(john, "okta-create-john"), (sid, "okta-create-sid")]
        .into_iter()
        .enumerate()
    {
        let filter = format!("/scim/v2/Users?filter=userName%20eq%20%22{}%22", enc(un));
        send(app.get(&filter), "okta-lookup").expect(200).await;
        let body = fixture(
            "okta/create_user.json",
            &[
                ("userName", un),
                ("externalId", &format!("00u{i}audit000000000")),
            ],
        );
        let u = send(app.post("/scim/v2/Users", body), rid)
            .expect(201)
            .await;
        ids.push(u["id"].as_str().expect("id").to_owned());
    }
    let g = send(
        app.post(
            "/scim/v2/Groups",
            fixture(
                "okta/create_group.json",
                &[("displayName", "governance-team")],
            ),
        ),
        "okta-push-group",
    )
    .expect(201)
    .await;
    let gid = g["id"].as_str().expect("id").to_owned();

    let add = patch(json!([{"op": "add", "path": "members", "value": [
        {"value": ids[0], "display": john}, {"value": ids[1], "display": sid}]}]));
    send(app.patch(&group_path(&gid), add), "okta-add-members")
        .send()
        .await;

    // AIW deactivation: GET, then PUT with active=false.
    let mut u = send(app.get(&user_path(&ids[0])), "okta-get-john")
        .expect(200)
        .await;
    u["active"] = json!(false);
    send(app.put(&user_path(&ids[0]), u), "okta-deactivate-john")
        .expect(200)
        .await;

    // A membership write that loses a conditional-write race once, then succeeds.
    emu.faults()
        .fail_next_on("restli.ingestProposalBatch", 1, 412);
    let remove =
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])}]));
    let r = send(app.patch(&group_path(&gid), remove), "okta-remove-sid")
        .send()
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);

    // GMS down for one write: 503 to Okta, which retries the same request later.
    emu.faults()
        .fail_next_on("restli.ingestProposalBatch", 1, 503);
    let off = patch(json!([{"op": "replace", "value": {"active": false}}]));
    let r = send(
        app.patch(&user_path(&ids[1]), off.clone()),
        "okta-deactivate-sid",
    )
    .send()
    .await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    let r = send(
        app.patch(&user_path(&ids[1]), off),
        "okta-deactivate-sid-retry",
    )
    .send()
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    // Reads write nothing.
    send(app.get(&group_path(&gid)), "okta-read-group")
        .expect(200)
        .await;
    send(
        app.get("/scim/v2/Users?startIndex=1&count=100"),
        "okta-import",
    )
    .expect(200)
    .await;

    // Unlink-delete of the pushed group.
    let r = send(app.delete(&group_path(&gid)), "okta-delete-group")
        .send()
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);

    vec![
        ("okta-create-john", "users.create"),
        ("okta-create-sid", "users.create"),
        ("okta-push-group", "groups.create"),
        ("okta-add-members", "groups.patch"),
        ("okta-deactivate-john", "users.replace"),
        ("okta-remove-sid", "groups.patch"),
        ("okta-deactivate-sid", "users.patch"),
        ("okta-deactivate-sid-retry", "users.patch"),
        ("okta-delete-group", "groups.delete"),
    ]
}

/// The events of one write call, in file order: consecutive lines with the same
/// `(request_id, write)`.
fn calls_of(events: &[Value]) -> Vec<Vec<&Value>> {
    let mut out: Vec<Vec<&Value>> = Vec::new();
    for e in events {
        let key = (&e["request_id"], &e["write"]);
        match out.last_mut() {
            Some(last) if (&last[0]["request_id"], &last[0]["write"]) == key => last.push(e),
            _ => out.push(vec![e]),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_run_leaves_one_audit_event_per_datahub_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.jsonl");
    let app = TestApp::builder()
        .config(AUDIT_LOG, &path.display().to_string())
        .config("DATAHUB_SCIM_IDP_NAME", "OKTA")
        .config("DATAHUB_SCIM_GROUP_DELETE", "hard")
        .spawn()
        .await;
    let emu = crate::require_emulator!(app);
    emu.reset_calls();
    let writers = okta_run(&app).await;

    let text = std::fs::read_to_string(&path).expect("the audit log");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let writes: Vec<_> = emu
        .calls()
        .into_iter()
        .filter(|c| {
            [
                "restli.ingestProposalBatch",
                "restli.ingestProposal",
                "restli.delete",
            ]
            .contains(&c.endpoint.as_str())
        })
        .collect();
    let calls = calls_of(&events);
    assert_eq!(
        calls.len(),
        writes.len(),
        "one group of events per write call in the emulator's log\n{text}"
    );

    let admin = format!("urn:li:corpuser:{}", emu.admin_username());
    for (call, w) in calls.iter().zip(&writes) {
        // The same entities and aspects as the request GMS received.
        let logged: BTreeSet<(String, String)> = w.writes.iter().cloned().collect();
        let mut audited = BTreeSet::new();
        let mut urns = BTreeSet::new();
        for e in call {
            let urn = e["urn"].as_str().expect("urn").to_owned();
            assert!(urns.insert(urn.clone()), "one event per entity: {call:?}");
            match e["change"].as_str() {
                Some("upsert") => {
                    for a in e["aspects"].as_array().expect("aspects") {
                        audited.insert((urn.clone(), a.as_str().expect("name").to_owned()));
                    }
                }
                Some("hard_delete") => {
                    audited.insert((urn.clone(), String::new()));
                }
                other => panic!("change {other:?}"),
            }
            let outcome = match w.status {
                200 => "ok",
                412 => "conflict",
                503 => "server_error",
                s => panic!("unexpected GMS status {s}"),
            };
            assert_eq!(e["outcome"], outcome, "{e} vs GMS {}", w.status);
            assert_eq!(e["log"], "audit");
            assert_eq!(e["actor"], json!(admin), "the IdP token's DataHub user");
            let rid = e["request_id"].as_str().expect("request id");
            let (_, op) = writers
                .iter()
                .find(|(r, _)| *r == rid)
                .unwrap_or_else(|| panic!("{rid} should not have written: {e}"));
            assert_eq!(e["scim_operation"], *op, "{e}");
            assert!(e["time"].as_str().is_some_and(|t| t.ends_with('Z')));
        }
        assert_eq!(audited, logged, "audit vs GMS request");
    }

    // Every writing request is in the trail; the reads and lookups are not.
    let audited: BTreeSet<&str> = events
        .iter()
        .map(|e| e["request_id"].as_str().expect("request id"))
        .collect();
    let expected: BTreeSet<&str> = writers.iter().map(|(r, _)| *r).collect();
    assert_eq!(audited, expected);

    // The story a security team reads back: john deactivated by his PUT, sid's group
    // membership first lost a race and was then written, the outage is visible.
    let john = user_urn("john@okta.local");
    let about = |rid: &str, urn: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| e["request_id"] == rid && e["urn"] == urn)
            .collect()
    };
    let put = about("okta-deactivate-john", &john);
    assert_eq!(put.len(), 1);
    let aspects = put[0]["aspects"].as_array().expect("aspects");
    assert!(aspects.contains(&json!("corpUserStatus")), "{aspects:?}");
    let sid = user_urn("sid@okta.local");
    let race: Vec<_> = about("okta-remove-sid", &sid)
        .iter()
        .map(|e| (e["write"].clone(), e["outcome"].clone()))
        .collect();
    assert_eq!(
        race,
        vec![(json!(1), json!("conflict")), (json!(2), json!("ok"))]
    );
    let outage: Vec<_> = about("okta-deactivate-sid", &sid)
        .iter()
        .map(|e| e["outcome"].clone())
        .collect();
    assert_eq!(outage, vec![json!("server_error")]);
    let gone = about("okta-delete-group", &group_urn("governance-team"));
    assert_eq!(
        gone.iter().map(|e| e["change"].clone()).collect::<Vec<_>>(),
        vec![json!("hard_delete")],
        "--group-delete hard: {gone:?}"
    );
    assert_eq!(gone[0]["aspects"], json!([]));

    let m = app.admin_get("/metrics").expect(200).send().await.body;
    let m = String::from_utf8_lossy(&m).into_owned();
    assert_eq!(
        sample(&m, "datahub_scim_audit_events_total{result=\"written\"}"),
        Some(events.len() as f64),
        "{m}"
    );
    app.shutdown().await;
}

/// Off by default: the same run installs no audit hook (the binary's own output
/// streams are checked in `ops::audit`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_run_without_audit_log_records_nothing() {
    let app = TestApp::builder().spawn().await;
    let emu = crate::require_emulator!(app);
    emu.reset_calls();
    let writers = okta_run(&app).await;
    let wrote = emu.calls().iter().filter(|c| !c.writes.is_empty()).count();
    assert!(wrote > writers.len(), "the run wrote to DataHub: {wrote}");
    let m = app.admin_get("/metrics").expect(200).send().await.body;
    let m = String::from_utf8_lossy(&m).into_owned();
    assert!(
        m.contains("# TYPE datahub_scim_audit_events_total counter"),
        "{m}"
    );
    assert!(
        !m.contains("datahub_scim_audit_events_total{"),
        "no event: {m}"
    );
    app.shutdown().await;
}
