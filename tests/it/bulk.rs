//! `POST /Bulk` (RFC 7644 §3.7): the RFC's own examples replayed (§3.7.1 circular
//! references, §3.7.2 `bulkId`s in values, §3.7.3 `failOnErrors` and versions, §3.7.4
//! limits), `bulkId` in paths and forward references, a conformance-tool-like flow,
//! both SCIM prefixes, the limits as settings, and the request deadline.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::flows::*;
use crate::support::scim::*;

const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";

fn rfc(text: &str) -> Value {
    serde_json::from_str(text).expect("RFC fixture is JSON")
}

/// The operations of a BulkResponse (HTTP 200, the BulkResponse schema).
fn operations(v: &Value) -> Vec<Value> {
    assert_eq!(v["schemas"], json!([BULK_RESPONSE]), "{v}");
    v["Operations"].as_array().expect("Operations").clone()
}

/// The shape of an operation result: which keys it has and its status.
fn shape(op: &Value) -> (Vec<String>, String) {
    let mut keys: Vec<String> = op.as_object().expect("operation").keys().cloned().collect();
    keys.sort();
    (
        keys,
        op["status"]
            .as_str()
            .expect("status is a string")
            .to_owned(),
    )
}

/// RFC 7644 §3.7.2: a User with `bulkId` "qwerty" and a Group whose member is
/// "bulkId:qwerty". Both are created, the member is the new user, and the response has
/// the RFC's shape: location, method, bulkId, version, status "201". The group's
/// version is the one a later GET shows; Alice's moved on when the second operation
/// made her a member (her `groups` changed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7644_3_7_2_bulk_id_temporary_identifiers() {
    let app = TestApp::spawn().await;
    let mut req = rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.7.2-bulkid-request.json"
    ));
    let alice = app.uniq("Alice");
    let guides = app.uniq("Tour Guides");
    req["Operations"][0]["data"]["userName"] = json!(alice);
    req["Operations"][1]["data"]["displayName"] = json!(guides);
    let v = app.post("/scim/v2/Bulk", req).expect(200).await;
    let ops = operations(&v);
    let want = operations(&rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.7.2-bulkid-response.json"
    )));
    assert_eq!(
        ops.iter().map(shape).collect::<Vec<_>>(),
        want.iter().map(shape).collect::<Vec<_>>(),
        "{v}"
    );
    assert_eq!(ops[0]["bulkId"], json!("qwerty"));
    assert_eq!(ops[1]["bulkId"], json!("ytrewq"));
    let uid = user_id(&alice);
    let gid = group_id(&guides);
    assert!(ops[0]["location"]
        .as_str()
        .expect("location")
        .ends_with(&format!("/scim/v2/Users/{uid}")));
    assert!(ops[1]["location"]
        .as_str()
        .expect("location")
        .ends_with(&format!("/scim/v2/Groups/{gid}")));
    let u = app.get(&user_path(&uid)).expect(200).await;
    assert_ne!(u["meta"]["version"], ops[0]["version"]);
    assert_eq!(u["groups"][0]["value"], json!(gid));
    let g = app.get(&group_path(&gid)).expect(200).await;
    assert_eq!(g["meta"]["version"], ops[1]["version"]);
    assert_eq!(
        member_ids(&g),
        vec![uid.clone()],
        "bulkId:qwerty became Alice's id"
    );
    assert_eq!(
        app.groups_of(&user_urn(&alice)).await,
        vec![group_urn(&guides)]
    );
    app.shutdown().await;
}

/// RFC 7644 §3.7.2's second example: Bob's enterprise `manager.value` is
/// "bulkId:qwerty", the user created by the first operation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7644_3_7_2_manager_reference() {
    let app = TestApp::spawn().await;
    let mut req = rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.7.2-manager-request.json"
    ));
    let (alice, bob) = (app.uniq("Alice"), app.uniq("Bob"));
    req["Operations"][0]["data"]["userName"] = json!(alice);
    req["Operations"][1]["data"]["userName"] = json!(bob);
    let v = app.post("/scim/v2/Bulk", req).expect(200).await;
    let ops = operations(&v);
    assert_eq!(
        ops.iter().map(|o| o["status"].clone()).collect::<Vec<_>>(),
        vec![json!("201"), json!("201")],
        "{v}"
    );
    let b = app.get(&user_path(&user_id(&bob))).expect(200).await;
    assert_eq!(b[ENTERPRISE]["manager"]["value"], json!(user_id(&alice)));
    assert_eq!(b[ENTERPRISE]["employeeNumber"], json!("11250"));
    let info = app
        .aspect(&user_urn(&bob), "corpUserInfo")
        .await
        .expect("info");
    assert_eq!(info["managerUrn"], json!(user_urn(&alice)));
    app.shutdown().await;
}

/// RFC 7644 §3.7.1: Group A's member is "bulkId:ytrewq" (Group B) and B's is
/// "bulkId:qwerty" (A). The circle is found before anything runs: both operations
/// answer 409 (the RFC's "MAY stop … and instead return 409") and neither group exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7644_3_7_1_circular_references_are_409() {
    let app = TestApp::spawn().await;
    let req = rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.7.1-circular-request.json"
    ));
    let v = app.post("/scim/v2/Bulk", req).expect(200).await;
    let ops = operations(&v);
    assert_eq!(ops.len(), 2, "{v}");
    for (op, bulk_id) in ops.iter().zip(["qwerty", "ytrewq"]) {
        assert_eq!(op["status"], json!("409"), "{v}");
        assert_eq!(op["bulkId"], json!(bulk_id));
        assert_eq!(op["method"], json!("POST"));
        assert_error(&op["response"], 409, None);
        assert!(op.get("location").is_none() && op.get("version").is_none());
    }
    assert!(lookup_group(&app, "Group A").await.is_empty());
    assert!(lookup_group(&app, "Group B").await.is_empty());
    assert!(!app.exists(&group_urn("Group A")).await);
    app.shutdown().await;
}

/// The RFC 7644 §3.7.3 request with the ids and versions of real users. Its POST names
/// the schema `urn:ietf:params:scim:api:messages:2.0:User` (an erratum of the RFC), which
/// is not the User schema: that operation fails with 400 `invalidSyntax`, exactly as
/// the RFC's own "stopped" response shows.
fn rfc_3_7_3_request(put: (&str, &str), patch: (&str, &str), delete: (&str, &str)) -> Value {
    let text = include_str!("../../src/scim/fixtures/rfc/7644-3.7.3-request.json")
        .replace("b7c14771-226c-4d05-8860-134711653041", put.0)
        .replace("3694e05e9dff591", put.1)
        .replace("5d8d29d3-342c-4b5f-8683-a3cb6763ffcc", patch.0)
        .replace("edac3253e2c0ef2", patch.1)
        .replace("e9025315-6bea-44e1-899c-1e07454e468b", delete.0)
        .replace("0ee8add0a938e1a", delete.1);
    serde_json::from_str(&text).expect("JSON")
}

/// The opaque part of a version (`W/"abc"` → `abc`).
fn opaque(v: &Value) -> String {
    v.as_str()
        .expect("version")
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

/// RFC 7644 §3.7.3, the three responses of the section, from its one request (POST,
/// PUT and PATCH with `version`, DELETE with `version`, `failOnErrors: 1`):
/// 1. as the RFC sends it, the POST fails (400 `invalidSyntax`) and processing stops:
///    one result, nothing else done;
/// 2. without `failOnErrors`, with versions the users have moved past and a DELETE of
///    a user that does not exist: 400, 412, 412, 404 — every one with its `response`;
/// 3. with the POST's schema corrected and the current versions: 201, 200, 200, 204,
///    with locations and the new versions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7644_3_7_3_fail_on_errors_and_versions() {
    let app = TestApp::spawn().await;
    let bob = create_user(&app, "Bob").await;
    let dave_body = json!({"schemas": [USER_SCHEMA], "userName": "Dave", "nickName": "Davey"});
    let dave = app.post("/scim/v2/Users", dave_body).expect(201).await;
    let (bob_id, dave_id) = (
        bob["id"].as_str().expect("id"),
        dave["id"].as_str().expect("id"),
    );
    let gone = user_id("nobody-here");

    // 1. As sent: failOnErrors 1, the POST fails, processing stops.
    let stale = "0000000000000000";
    let req = rfc_3_7_3_request((bob_id, stale), (dave_id, stale), (&gone, stale));
    let v = app.post("/scim/v2/Bulk", req.clone()).expect(200).await;
    let ops = operations(&v);
    let want = operations(&rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.7.3-response-stopped.json"
    )));
    assert_eq!(
        ops.iter().map(shape).collect::<Vec<_>>(),
        want.iter().map(shape).collect::<Vec<_>>(),
        "{v}"
    );
    assert_error(&ops[0]["response"], 400, Some("invalidSyntax"));
    assert_eq!(ops[0]["bulkId"], json!("qwerty"));
    assert!(lookup_user(&app, "Alice").await.is_empty());

    // 2. Every operation runs; all fail, each in its own way.
    let mut all = req.clone();
    all.as_object_mut().expect("object").remove("failOnErrors");
    let v = app.post("/scim/v2/Bulk", all).expect(200).await;
    let ops = operations(&v);
    let want = operations(&rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.7.3-response-all-failed.json"
    )));
    assert_eq!(
        ops.iter().map(shape).collect::<Vec<_>>(),
        want.iter().map(shape).collect::<Vec<_>>(),
        "{v}"
    );
    assert_error(&ops[1]["response"], 412, None);
    assert_error(&ops[3]["response"], 404, None);
    assert!(ops[1]["location"]
        .as_str()
        .expect("loc")
        .ends_with(&user_path(bob_id)));
    let still = app.get(&user_path(dave_id)).expect(200).await;
    assert_eq!(
        still["nickName"],
        json!("Davey"),
        "the stale PATCH changed nothing"
    );

    // 3. Corrected and current: every operation succeeds.
    let erin = create_user(&app, "Erin").await;
    let erin_id = erin["id"].as_str().expect("id");
    let mut ok = rfc_3_7_3_request(
        (bob_id, &opaque(&bob["meta"]["version"])),
        (dave_id, &opaque(&dave["meta"]["version"])),
        (erin_id, &opaque(&erin["meta"]["version"])),
    );
    ok["Operations"][0]["data"]["schemas"] = json!([USER_SCHEMA]);
    let v = app.post("/scim/v2/Bulk", ok).expect(200).await;
    let ops = operations(&v);
    let want = operations(&rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.7.3-response.json"
    )));
    assert_eq!(
        ops.iter().map(shape).collect::<Vec<_>>(),
        want.iter().map(shape).collect::<Vec<_>>(),
        "{v}"
    );
    let alice = app.get(&user_path(&user_id("Alice"))).expect(200).await;
    assert_eq!(alice["meta"]["version"], ops[0]["version"]);
    let dave = app.get(&user_path(dave_id)).expect(200).await;
    assert!(
        dave.get("nickName").is_none(),
        "remove nickName applied: {dave}"
    );
    assert_eq!(dave["meta"]["version"], ops[2]["version"]);
    app.get(&user_path(erin_id)).expect(404).await;
    app.shutdown().await;
}

/// What a conformance tool does with Bulk: forward references (an operation naming a
/// `bulkId` a later operation defines runs after it), `bulkId:` in paths, references
/// to nothing (400) and to a failed operation (409), `failOnErrors` counting, and the
/// whole lifecycle of a user and a group through `/openapi/scim/v2/Bulk`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_ids_in_paths_forward_references_and_a_lifecycle() {
    let app = TestApp::spawn().await;
    let (jo, team) = (app.uniq("jo@example.com"), app.uniq("Bulk Team"));
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
        {"method": "PATCH", "path": "/Groups/bulkId:team", "data": {"schemas": [PATCH_OP],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:jo"}]}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "team",
            "data": {"schemas": [GROUP_SCHEMA], "displayName": team}},
        {"method": "POST", "path": "/Users", "bulkId": "jo",
            "data": {"schemas": [USER_SCHEMA], "userName": jo, "active": true}},
        {"method": "PUT", "path": "/Users/bulkId:jo",
            "data": {"schemas": [USER_SCHEMA], "userName": jo, "title": "Lead"}},
        {"method": "DELETE", "path": "/Users/bulkId:nobody"},
        {"method": "POST", "path": "/Users", "bulkId": "dup",
            "data": {"schemas": [USER_SCHEMA], "userName": jo}},
        {"method": "PATCH", "path": "/Users/bulkId:dup", "data": {"schemas": [PATCH_OP],
            "Operations": [{"op": "replace", "path": "title", "value": "x"}]}},
        {"method": "GET", "path": "/Users"},
    ]});
    let v = app.post("/openapi/scim/v2/Bulk", body).expect(200).await;
    let ops = operations(&v);
    let status: Vec<&str> = ops
        .iter()
        .map(|o| o["status"].as_str().expect("status"))
        .collect();
    assert_eq!(
        status,
        ["204", "201", "201", "200", "400", "409", "409", "400"],
        "{v}"
    );
    assert_error(&ops[4]["response"], 400, Some("invalidValue"));
    assert_error(&ops[5]["response"], 409, Some("uniqueness"));
    assert_error(&ops[7]["response"], 400, Some("invalidValue"));
    let (uid, gid) = (user_id(&jo), group_id(&team));
    // Locations under the prefix the request used; ids in place of the bulkIds.
    assert_eq!(
        ops[0]["location"].as_str().expect("loc"),
        format!("{}/openapi/scim/v2/Groups/{gid}", app.gateway(0).base)
    );
    assert!(ops[3]["location"]
        .as_str()
        .expect("loc")
        .ends_with(&format!("/openapi/scim/v2/Users/{uid}")));
    assert_eq!(members(&app, &gid).await, vec![uid.clone()]);
    let u = app.get(&user_path(&uid)).expect(200).await;
    assert_eq!(u["title"], json!("Lead"));
    assert_eq!(u["meta"]["version"], ops[3]["version"]);

    // failOnErrors 2: the first two errors are reported, the rest does not run.
    let body = json!({"failOnErrors": 2, "Operations": [
        {"method": "DELETE", "path": format!("/Users/{}", user_id("nobody1"))},
        {"method": "PATCH", "path": format!("/Users/{uid}"), "version": "W/\"stale\"",
            "data": {"Operations": [{"op": "replace", "path": "title", "value": "Nope"}]}},
        {"method": "DELETE", "path": format!("/Users/{uid}")},
    ]});
    let v = app.post("/scim/v2/Bulk", body).expect(200).await;
    let ops = operations(&v);
    assert_eq!(
        ops.iter().map(|o| o["status"].clone()).collect::<Vec<_>>(),
        vec![json!("404"), json!("412")],
        "{v}"
    );
    app.get(&user_path(&uid)).expect(200).await;

    // Clean up through Bulk, with the versions just read. Deleting the group first
    // takes jo out of it, which moves jo's version (its `groups`): jo's DELETE is 412.
    let g = app.get(&group_path(&gid)).expect(200).await;
    let u = app.get(&user_path(&uid)).expect(200).await;
    let body = json!({"Operations": [
        {"method": "DELETE", "path": format!("/Groups/{gid}"), "version": g["meta"]["version"]},
        {"method": "DELETE", "path": format!("/Users/{uid}"), "version": u["meta"]["version"]},
    ]});
    let v = app.post("/scim/v2/Bulk", body).expect(200).await;
    let ops = operations(&v);
    assert_eq!(
        ops.iter().map(|o| o["status"].clone()).collect::<Vec<_>>(),
        vec![json!("204"), json!("412")],
        "{v}"
    );
    let u = app.get(&user_path(&uid)).expect(200).await;
    let body = json!({"Operations": [
        {"method": "DELETE", "path": format!("/Users/{uid}"), "version": u["meta"]["version"]},
    ]});
    let v = app.post("/scim/v2/Bulk", body).expect(200).await;
    assert_eq!(operations(&v)[0]["status"], json!("204"), "{v}");
    app.get(&group_path(&gid)).expect(404).await;
    app.get(&user_path(&uid)).expect(404).await;
    app.shutdown().await;
}

/// The limits are settings, advertised in ServiceProviderConfig and enforced with 413
/// (RFC 7644 §3.7.4: the limit named in the detail, no `scimType`): too many
/// operations, a body over `maxPayloadSize` (declared or not). The bulk body limit is
/// its own: a body too large for `/Users` is fine for `/Bulk`. `0` operations turns
/// Bulk off (501, `supported: false`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_are_advertised_and_enforced() {
    let app = TestApp::builder()
        .config("DATAHUB_SCIM_BULK_MAX_OPERATIONS", "3")
        .config("DATAHUB_SCIM_BULK_MAX_PAYLOAD_BYTES", "8192")
        .config("DATAHUB_SCIM_MAX_BODY_BYTES", "2048")
        .spawn()
        .await;
    let spc = app.get("/scim/v2/ServiceProviderConfig").expect(200).await;
    assert_eq!(
        spc["bulk"],
        json!({"supported": true, "maxOperations": 3, "maxPayloadSize": 8192})
    );
    assert_eq!(spc["etag"], json!({"supported": true}));

    let del = |n: usize| json!({"method": "DELETE", "path": format!("/Users/{}", user_id(&format!("x{n}")))});
    let four = json!({"Operations": (0..4).map(del).collect::<Vec<_>>()});
    let v = app.post("/scim/v2/Bulk", four).expect(413).await;
    assert_eq!(
        v["detail"],
        json!("The number of operations exceeds the maxOperations (3).")
    );
    assert!(v.get("scimType").is_none(), "{v}");

    // A 3 KiB body: over --max-body-bytes for /Users, within the bulk limit.
    let pad = "p".repeat(3000);
    let user = json!({"schemas": [USER_SCHEMA], "userName": "padded", "nickName": pad});
    app.post("/scim/v2/Users", user.clone()).expect(413).await;
    let ok =
        json!({"Operations": [{"method": "POST", "path": "/Users", "bulkId": "p", "data": user}]});
    let v = app.post("/scim/v2/Bulk", ok).expect(200).await;
    assert_eq!(operations(&v)[0]["status"], json!("201"), "{v}");

    // Over maxPayloadSize: the RFC's error body (§3.7.4).
    let big = json!({"Operations": [{"method": "POST", "path": "/Users", "bulkId": "b",
        "data": {"userName": "big", "nickName": "p".repeat(9000)}}]});
    let v = app.post("/scim/v2/Bulk", big.clone()).expect(413).await;
    let want = rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.7.4-error-too-large.json"
    ));
    assert_eq!(
        want["detail"],
        json!("The size of the bulk operation exceeds the maxPayloadSize (1048576).")
    );
    assert_eq!(
        v,
        json!({"schemas": want["schemas"], "status": "413",
               "detail": "The size of the bulk operation exceeds the maxPayloadSize (8192)."})
    );
    // The same without Content-Length (chunked): refused while reading.
    let r = app
        .post("/scim/v2/Bulk", big)
        .header("transfer-encoding", "chunked")
        .send()
        .await;
    assert_eq!(r.status, 413);
    assert!(lookup_user(&app, "big").await.is_empty());
    app.shutdown().await;

    let off = TestApp::builder()
        .config("DATAHUB_SCIM_BULK_MAX_OPERATIONS", "0")
        .spawn()
        .await;
    let spc = off.get("/scim/v2/ServiceProviderConfig").expect(200).await;
    assert_eq!(spc["bulk"]["supported"], json!(false));
    let v = off
        .post("/scim/v2/Bulk", json!({"Operations": []}))
        .expect(501)
        .await;
    assert_error(&v, 501, None);
    off.shutdown().await;
}

/// One bulk request lives within one request deadline: operations start while there is
/// time left (a tenth of the deadline is kept for the response), one still running
/// when time is up answers 504, the ones not started answer 503 and write nothing, and
/// the response is a 200 that arrives before the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_deadline_bounds_a_bulk_request() {
    let app = TestApp::builder()
        .config("DATAHUB_SCIM_REQUEST_DEADLINE", "3s")
        .spawn()
        .await;
    let emu = require_emulator!(app);
    // Every GMS call takes 400 ms: a user create (3 calls) takes 1.2 s.
    emu.faults().set_latency(Duration::from_millis(400));
    let names: Vec<String> = (0..5).map(|i| format!("slow{i}@example.com")).collect();
    let ops: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                             "data": {"schemas": [USER_SCHEMA], "userName": n}})
        })
        .collect();
    let started = std::time::Instant::now();
    let v = app
        .post("/scim/v2/Bulk", json!({"Operations": ops}))
        .expect(200)
        .await;
    let took = started.elapsed();
    emu.faults().clear();
    assert!(
        took < Duration::from_secs(3),
        "answered within the deadline: {took:?}"
    );
    let ops = operations(&v);
    assert_eq!(ops.len(), 5, "every operation is reported: {v}");
    let status: Vec<String> = ops
        .iter()
        .map(|o| o["status"].as_str().expect("s").to_owned())
        .collect();
    let created = status.iter().take_while(|s| *s == "201").count();
    assert!(created >= 1, "{status:?}");
    let rest = &status[created..];
    let cut = usize::from(rest.first().is_some_and(|s| s == "504"));
    assert!(
        !rest[cut..].is_empty(),
        "some operations did not start: {status:?}"
    );
    assert!(rest[cut..].iter().all(|s| s == "503"), "{status:?}");
    for (n, s) in names.iter().zip(&status) {
        match s.as_str() {
            "201" => assert!(app.exists(&user_urn(n)).await),
            "503" => assert!(!app.exists(&user_urn(n)).await, "{n} was not started"),
            _ => {}
        }
    }
    app.shutdown().await;
}

/// The audit trail names each bulk operation's writes by its own SCIM operation, under
/// the bulk request's id, with the request's writes numbered in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_trail_names_each_operation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.log");
    let app = TestApp::builder()
        .config("DATAHUB_SCIM_AUDIT_LOG", &path.display().to_string())
        .spawn()
        .await;
    let body = json!({"Operations": [
        {"method": "POST", "path": "/Users", "bulkId": "u",
         "data": {"schemas": [USER_SCHEMA], "userName": "audited@example.com"}},
        {"method": "POST", "path": "/Groups", "bulkId": "g",
         "data": {"schemas": [GROUP_SCHEMA], "displayName": "Audited",
                  "members": [{"value": "bulkId:u"}]}},
    ]});
    app.post("/scim/v2/Bulk", body)
        .header("x-request-id", "bulk-audit-1")
        .expect(200)
        .await;
    app.shutdown().await;
    let text = std::fs::read_to_string(&path).expect("the audit log");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let seen: Vec<(String, String, u64)> = events
        .iter()
        .map(|e| {
            assert_eq!(e["request_id"], json!("bulk-audit-1"), "{e}");
            (
                e["scim_operation"].as_str().expect("op").to_owned(),
                e["urn"].as_str().expect("urn").to_owned(),
                e["write"].as_u64().expect("write"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            ("users.create".into(), user_urn("audited@example.com"), 1),
            ("groups.create".into(), group_urn("Audited"), 2),
            ("groups.create".into(), user_urn("audited@example.com"), 2),
        ],
        "{text}"
    );
}
