//! Resource versions (RFC 7644 §3.14): `meta.version` and `ETag`, conditional GET
//! (304), `If-Match` on PUT, PATCH and DELETE (412 when the resource changed), groups
//! with and without their members, and the race between the gateway's read and its
//! write that DataHub's conditional writes close.

use std::time::Duration;

use http::Method;
use serde_json::{json, Value};

use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::flows::*;
use crate::support::http::Resp;
use crate::support::scim::*;

/// An RFC fixture from `src/scim/fixtures/rfc`.
fn rfc(text: &str) -> Value {
    serde_json::from_str(text).expect("RFC fixture is JSON")
}

/// The `ETag` header, which must be a weak tag equal to the body's `meta.version` when
/// the body has one.
fn etag(r: &Resp) -> String {
    let tag = r
        .header("etag")
        .unwrap_or_else(|| panic!("{}: no ETag", r.what));
    assert!(
        tag.starts_with("W/\"") && tag.ends_with('"'),
        "{}: weak tag: {tag}",
        r.what
    );
    if !r.body.is_empty() {
        assert_eq!(
            r.json()["meta"]["version"],
            json!(tag),
            "{}: ETag is meta.version",
            r.what
        );
    }
    tag
}

fn expect(r: &Resp, status: u16) {
    assert_eq!(
        r.status,
        status,
        "{}: {}",
        r.what,
        String::from_utf8_lossy(&r.body)
    );
    r.assert_scim_envelope();
}

/// RFC 7644 §3.14, step by step: the create request and response of the section (the
/// version in `meta` and in `ETag`), the conditional GET (304, empty body), then
/// `If-Match` on PUT and PATCH: the current version succeeds, a version the resource
/// has moved past answers 412 (RFC 7644 §3.12: "Failed to update. Resource has changed
/// on the server"; no `scimType`) and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rfc7644_3_14_versioning_resources() {
    let app = TestApp::spawn().await;
    let mut create = rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.3-create-request.json"
    ));
    let user_name = app.uniq("bjensen");
    create["userName"] = json!(user_name);
    let r = app.post("/scim/v2/Users", create.clone()).send().await;
    expect(&r, 201);
    let v1 = etag(&r);
    // The response has the RFC example's shape: the version inside `meta`.
    let want = rfc(include_str!(
        "../../src/scim/fixtures/rfc/7644-3.14-create-response.json"
    ));
    let created = r.json();
    for key in [
        "resourceType",
        "created",
        "lastModified",
        "location",
        "version",
    ] {
        assert!(
            want["meta"].get(key).is_some() && created["meta"][key].is_string(),
            "meta.{key}: {created}"
        );
    }
    assert_eq!(created["name"], want["name"]);
    let id = created["id"].as_str().expect("id").to_owned();
    let path = user_path(&id);

    // GET: the same version, on either SCIM prefix (the base URL is not part of it).
    let r = app.get(&path).send().await;
    expect(&r, 200);
    assert_eq!(etag(&r), v1, "GET shows the version the create answered");
    let r = app
        .get(&format!("/openapi/scim/v2/Users/{id}"))
        .send()
        .await;
    assert_eq!(etag(&r), v1, "/openapi/scim/v2 shows the same version");
    // A projection that leaves `meta` out still has the version in its ETag.
    let r = app.get(&format!("{path}?attributes=userName")).send().await;
    expect(&r, 200);
    assert!(r.json().get("meta").is_none());
    assert_eq!(r.header("etag").as_deref(), Some(v1.as_str()));

    // §3.14: "If-None-Match: W/"e180ee84f0671b1"" → 304, empty body.
    let r = app.get(&path).header("If-None-Match", &v1).send().await;
    assert_eq!(r.status, 304, "{}", String::from_utf8_lossy(&r.body));
    assert!(r.body.is_empty(), "304 has no body");
    assert_eq!(r.header("etag").as_deref(), Some(v1.as_str()));
    // A list of tags, and the strong form of the same tag, match too (weak comparison).
    let strong = v1.trim_start_matches("W/").to_owned();
    let r = app
        .get(&path)
        .header("If-None-Match", &format!("W/\"nope\", {strong}"))
        .send()
        .await;
    assert_eq!(r.status, 304);
    let r = app
        .get(&path)
        .header("If-None-Match", "W/\"nope\"")
        .send()
        .await;
    expect(&r, 200);
    // If-Match on GET: 412 when it does not match.
    let r = app.get(&path).header("If-Match", "W/\"nope\"").send().await;
    expect(&r, 412);

    // PUT with the current version: applied, new version, which GET then shows.
    let mut put = create.clone();
    put["displayName"] = json!("Babs");
    let r = app
        .put(&path, put.clone())
        .header("If-Match", &v1)
        .send()
        .await;
    expect(&r, 200);
    let v2 = etag(&r);
    assert_ne!(v2, v1, "the representation changed");
    let r = app.get(&path).send().await;
    assert_eq!(
        etag(&r),
        v2,
        "a write answers the version a later GET shows"
    );
    // The old version no longer matches: 412, nothing changed.
    let stale_patch = patch(json!([{"op": "replace", "path": "displayName", "value": "Stale"}]));
    let r = app
        .patch(&path, stale_patch.clone())
        .header("If-Match", &v1)
        .send()
        .await;
    expect(&r, 412);
    assert_error(&r.json(), 412, None);
    assert!(
        r.json().get("scimType").is_none(),
        "RFC 7644 §3.12: no scimType for 412"
    );
    let r = app
        .put(&path, put.clone())
        .header("If-Match", &v1)
        .send()
        .await;
    expect(&r, 412);
    let r = app.get(&path).send().await;
    assert_eq!(r.json()["displayName"], json!("Babs"));
    assert_eq!(etag(&r), v2);
    // PATCH with the current version (the RFC's example header form).
    let r = app
        .patch(
            &path,
            patch(json!([{"op": "replace", "path": "title", "value": "Tour Guide"}])),
        )
        .header("If-Match", &v2)
        .send()
        .await;
    expect(&r, 200);
    let v3 = etag(&r);
    assert_ne!(v3, v2);
    // A PATCH that changes nothing keeps the version (no write, nothing moved).
    let r = app
        .patch(
            &path,
            patch(json!([{"op": "replace", "path": "title", "value": "Tour Guide"}])),
        )
        .header("If-Match", &v3)
        .send()
        .await;
    expect(&r, 200);
    assert_eq!(etag(&r), v3);

    // DELETE: a stale version is 412 and deletes nothing; `*` matches what exists.
    let r = app.delete(&path).header("If-Match", &v2).send().await;
    expect(&r, 412);
    app.get(&path).expect(200).await;
    let r = app.delete(&path).header("If-Match", "*").send().await;
    expect(&r, 204);
    // Gone: 404 comes before any precondition (RFC 7232 §5).
    let r = app.get(&path).header("If-None-Match", &v3).send().await;
    expect(&r, 404);
    let r = app.delete(&path).header("If-Match", "*").send().await;
    expect(&r, 404);
    app.shutdown().await;
}

/// Every place a user is shown carries the same version: GET, lists (`filter`),
/// `.search`, and the version moves when DataHub changes the user outside SCIM
/// (a group membership added in DataHub shows in the user's `groups`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_agree_everywhere_and_follow_datahub() {
    let app = TestApp::spawn().await;
    let name = app.uniq("versions@example.com");
    let u = create_user(&app, &name).await;
    let id = u["id"].as_str().expect("id").to_owned();
    let v1 = u["meta"]["version"].as_str().expect("version").to_owned();
    let listed = lookup_user(&app, &name).await;
    assert_eq!(listed[0]["meta"]["version"], json!(v1));
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                      "filter": format!("userName eq \"{name}\"")});
    let found = app.post("/scim/v2/Users/.search", body).expect(200).await;
    assert_eq!(found["Resources"][0]["meta"]["version"], json!(v1));

    // A group membership written in DataHub (the user's `groupMembership`).
    let gname = app.uniq("Versions Group");
    create_group(&app, &gname).await;
    let gurn = group_urn(&gname);
    app.put_aspect(
        &user_urn(&name),
        "groupMembership",
        json!({"groups": [gurn]}),
    )
    .await;
    let r = app
        .get(&user_path(&id))
        .header("If-None-Match", &v1)
        .send()
        .await;
    expect(&r, 200);
    let v2 = etag(&r);
    assert_ne!(v2, v1, "the user's groups changed, so did its version");
    let r = app
        .patch(
            &user_path(&id),
            patch(json!([{"op": "replace", "path": "title", "value": "x"}])),
        )
        .header("If-Match", &v1)
        .send()
        .await;
    expect(&r, 412);
    app.shutdown().await;
}

/// A group has two representations, each with its version: with its members (GET,
/// POST, PUT) and without (`excludedAttributes=members`). A member change moves the
/// first and not the second; `If-Match` accepts either, judged against the group as it
/// is now; a stale one is 412 and adds nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_versions_with_and_without_members() {
    let app = TestApp::spawn().await;
    let alice = create_user(&app, &app.uniq("g.alice@example.com")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bob = create_user(&app, &app.uniq("g.bob@example.com")).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let r = app
        .post(
            "/scim/v2/Groups",
            json!({"schemas": [GROUP_SCHEMA], "displayName": app.uniq("Versioned"),
                   "members": [{"value": alice}]}),
        )
        .send()
        .await;
    expect(&r, 201);
    let full1 = etag(&r);
    let gid = r.json()["id"].as_str().expect("id").to_owned();
    let path = group_path(&gid);
    let r = app.get(&path).send().await;
    assert_eq!(etag(&r), full1, "GET shows the version the create answered");
    let bare_path = format!("{path}?excludedAttributes=members");
    let r = app.get(&bare_path).send().await;
    let bare1 = etag(&r);
    assert_ne!(bare1, full1, "two representations, two versions");

    // Add bob with the current full version: done (204, no body).
    let add =
        |uid: &str| patch(json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]));
    let r = app
        .patch(&path, add(&bob))
        .header("If-Match", &full1)
        .send()
        .await;
    expect(&r, 204);
    let r = app.get(&path).header("If-None-Match", &full1).send().await;
    expect(&r, 200);
    let full2 = etag(&r);
    assert_ne!(full2, full1, "the members changed");
    assert_eq!(member_ids(&r.json()), sorted(&[alice.clone(), bob.clone()]));
    let r = app
        .get(&bare_path)
        .header("If-None-Match", &bare1)
        .send()
        .await;
    assert_eq!(r.status, 304, "without members, nothing changed");

    // The stale full version: 412, bob is not removed.
    let remove_bob =
        patch(json!([{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]));
    let r = app
        .patch(&path, remove_bob.clone())
        .header("If-Match", &full1)
        .send()
        .await;
    expect(&r, 412);
    assert_eq!(members(&app, &gid).await.len(), 2);
    // The member-less version is still current: it matches.
    let r = app
        .patch(&path, remove_bob)
        .header("If-Match", &bare1)
        .send()
        .await;
    expect(&r, 204);
    assert_eq!(members(&app, &gid).await, vec![alice.clone()]);

    // A rename moves both versions.
    let r = app.get(&path).send().await;
    let full3 = etag(&r);
    let rename =
        patch(json!([{"op": "replace", "path": "displayName", "value": app.uniq("Renamed")}]));
    let r = app
        .patch(&path, rename)
        .header("If-Match", &full3)
        .send()
        .await;
    expect(&r, 204);
    let r = app
        .get(&bare_path)
        .header("If-None-Match", &bare1)
        .send()
        .await;
    expect(&r, 200);
    // PUT answers the group with its version; DELETE with a stale one is 412.
    let r = app.get(&path).send().await;
    let full4 = etag(&r);
    let mut body = r.json();
    body["members"] = json!([{"value": alice}, {"value": bob}]);
    let r = app.put(&path, body).header("If-Match", &full4).send().await;
    expect(&r, 200);
    let full5 = etag(&r);
    assert_eq!(etag(&app.get(&path).send().await), full5);
    let r = app.delete(&path).header("If-Match", &full4).send().await;
    expect(&r, 412);
    assert_eq!(members(&app, &gid).await.len(), 2, "nothing unlinked");
    let r = app.delete(&path).header("If-Match", &full5).send().await;
    expect(&r, 204);
    app.get(&path).expect(404).await;
    app.shutdown().await;
}

/// Waits until the emulator has answered `n` batch reads since the last reset.
async fn reads_answered(emu: &datahub_scim::emulator::Emulator, n: usize) {
    for _ in 0..2000 {
        let done = emu
            .calls()
            .iter()
            .filter(|c| c.endpoint == "restli.entitiesV2.batchGet" && c.status != 0)
            .count();
        if done >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("the gateway never read");
}

/// The race the conditional write closes: the gateway reads the user (the version
/// matches `If-Match`), then — before its write lands — DataHub changes an aspect the
/// PATCH does not write (the user joins a group in DataHub). The write carries a guard
/// on that aspect's version, so GMS refuses the batch; the round is read again, the
/// version no longer matches, and the answer is 412 with nothing written. A change
/// that does not alter the SCIM representation (a `customProperties` key DataHub keeps
/// for itself) only makes the round run again: the PATCH succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_between_read_and_write_is_caught() {
    let app = TestApp::spawn().await;
    let emu = require_emulator!(app);
    let name = "race.etag@example.com";
    let urn = user_urn(name);
    let u = create_user(&app, name).await;
    let id = u["id"].as_str().expect("id").to_owned();
    let v1 = u["meta"]["version"].as_str().expect("version").to_owned();
    let g = create_group(&app, "Race Group").await;
    let gurn = group_urn("Race Group");
    assert_eq!(g["displayName"], json!("Race Group"));

    // Every GMS call waits 300 ms before it is served: the window between the read
    // being answered and the write being applied.
    emu.faults().set_latency(Duration::from_millis(300));
    emu.reset_calls();
    let rename = patch(json!([{"op": "replace", "path": "displayName", "value": "Raced"}]));
    let req = app
        .patch(&user_path(&id), rename.clone())
        .header("If-Match", &v1)
        .send();
    let meddle = async {
        reads_answered(emu, 1).await;
        emu.put_aspect(&urn, "groupMembership", json!({"groups": [gurn]}));
    };
    let (r, ()) = tokio::join!(req, meddle);
    emu.faults().clear();
    expect(&r, 412);
    let writes: Vec<u16> = emu
        .calls()
        .iter()
        .filter(|c| c.endpoint == "restli.ingestProposalBatch")
        .map(|c| c.status)
        .collect();
    assert_eq!(
        writes,
        vec![422],
        "one write, refused by GMS's precondition"
    );
    let info = app.aspect(&urn, "corpUserInfo").await.expect("info");
    assert_eq!(
        info["displayName"],
        json!(format!("{name} display")),
        "nothing written"
    );

    // The same race with a change SCIM does not show: the round is retried and the
    // PATCH applies on top of it, keeping DataHub's key.
    let r = app.get(&user_path(&id)).send().await;
    let v2 = etag(&r);
    emu.faults().set_latency(Duration::from_millis(300));
    emu.reset_calls();
    let req = app
        .patch(&user_path(&id), rename)
        .header("If-Match", &v2)
        .send();
    let meddle = async {
        reads_answered(emu, 1).await;
        let mut info = emu.aspect(&urn, "corpUserInfo").expect("info");
        info["customProperties"]["datahub.owner"] = json!("platform-team");
        emu.put_aspect(&urn, "corpUserInfo", info);
    };
    let (r, ()) = tokio::join!(req, meddle);
    emu.faults().clear();
    expect(&r, 200);
    assert_eq!(r.json()["displayName"], json!("Raced"));
    let info = app.aspect(&urn, "corpUserInfo").await.expect("info");
    assert_eq!(info["displayName"], json!("Raced"));
    assert_eq!(
        info["customProperties"]["datahub.owner"],
        json!("platform-team")
    );
    let writes: Vec<u16> = emu
        .calls()
        .iter()
        .filter(|c| c.endpoint == "restli.ingestProposalBatch")
        .map(|c| c.status)
        .collect();
    assert_eq!(writes, vec![422, 200], "lost once, re-read, applied");
    app.shutdown().await;
}

/// Guards change no value in DataHub: an `If-Match` PATCH changes exactly the aspects
/// a PATCH without it changes; the versions of the guarded ones do not move (the
/// user's absent `groupMembership` is stored empty: no group, as before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_write_nothing() {
    let app = TestApp::spawn().await;
    let emu = require_emulator!(app);
    let name = "guards@example.com";
    let urn = user_urn(name);
    let u = create_user(&app, name).await;
    let id = u["id"].as_str().expect("id").to_owned();
    let before: Vec<Option<u64>> = ["corpUserInfo", "corpUserStatus", "status"]
        .iter()
        .map(|a| emu.aspect_version(&urn, a))
        .collect();
    let r = app
        .on(
            0,
            Method::PATCH,
            &user_path(&id),
            Some(patch(
                json!([{"op": "replace", "path": "title", "value": "Chief"}]),
            )),
        )
        .header("If-Match", u["meta"]["version"].as_str().expect("v"))
        .send()
        .await;
    expect(&r, 200);
    let after: Vec<Option<u64>> = ["corpUserInfo", "corpUserStatus", "status"]
        .iter()
        .map(|a| emu.aspect_version(&urn, a))
        .collect();
    assert_eq!(after[0], before[0].map(|v| v + 1), "corpUserInfo changed");
    assert_eq!(
        after[1..],
        before[1..],
        "guarded aspects keep their versions"
    );
    assert_eq!(app.groups_of(&urn).await, Vec::<String>::new());
    let last_write = emu
        .calls()
        .into_iter()
        .rev()
        .find(|c| c.endpoint == "restli.ingestProposalBatch")
        .expect("a write");
    assert_eq!(last_write.status, 200);
    app.shutdown().await;
}
