//! A user's `userName` changes (Entra UPN change, Okta username format change,
//! marriage): the person moves to the DataHub user their SSO login lands on, and
//! keeps the SCIM id (issue 10 §1). Okta AIW sends `PUT /Users/{id}` with the whole
//! user; Entra sends `PATCH` `Replace userName` (idp-scim-clients.md §2.7, §3.4).

use http::Method;
use serde_json::{json, Value};

use crate::fixture;
use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::flows::*;
use crate::support::scim::*;

/// Okta's create, then its push of group `display` with the user (AIW: PUT with the
/// full member list). Returns (user id, group id).
async fn okta_user_in_group(app: &TestApp, un: &str, display: &str) -> (String, String) {
    let body = fixture(
        "okta/create_user.json",
        &[("userName", un), ("externalId", "00u1rename0000000001")],
    );
    let id = app.post("/scim/v2/Users", body).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let g = create_group(app, display).await;
    let gid = g["id"].as_str().expect("gid").to_owned();
    let put = json!({"schemas": [GROUP_SCHEMA], "id": gid, "displayName": display,
                     "members": [{"value": id, "display": un}]});
    app.put(&group_path(&gid), put).expect(200).await;
    (id, gid)
}

/// Okta AIW's profile push: GET the user, change what changed, PUT it all back.
async fn okta_put(app: &TestApp, gw: usize, id: &str, change: impl Fn(&mut Value)) -> Value {
    let mut u = app
        .on(gw, Method::GET, &user_path(id), None)
        .expect(200)
        .await;
    change(&mut u);
    app.on(gw, Method::PUT, &user_path(id), Some(u))
        .expect(200)
        .await
}

/// Entra's rename, in the legacy dialect or with `aadOptscim062020`.
fn entra_rename(to: &str, flag: bool) -> Value {
    let op = if flag { "replace" } else { "Replace" };
    patch(json!([{"op": op, "path": "userName", "value": to}]))
}

/// After a rename of id `id` from `old` to `new`: one resource under the old id,
/// found by the new name and not the old one, listed once, a member of `gid` under
/// its id; in DataHub the profile, status and group are on the new urn, and the old
/// one is suspended and forwards.
async fn assert_moved(app: &TestApp, id: &str, old: &str, new: &str, gid: &str) {
    let u = app.get(&user_path(id)).expect(200).await;
    assert_user_shape(&u);
    assert_eq!(u["id"], json!(id), "RFC 7643 §3.1: the id stays");
    assert_eq!(u["userName"], json!(new));
    assert_eq!(u["active"], json!(true));
    assert_eq!(ids(&lookup_user(app, new).await), vec![id.to_owned()]);
    assert!(
        lookup_user(app, old).await.is_empty(),
        "{old} is no user now"
    );
    let all = app
        .get("/scim/v2/Users?startIndex=1&count=100")
        .expect(200)
        .await;
    let listed = assert_list(&all, 1);
    assert_eq!(
        listed.iter().filter(|r| r["id"] == json!(id)).count(),
        1,
        "listed once: {all}"
    );
    assert!(listed.iter().all(|r| r["userName"] != json!(old)));
    let g = app.get(&group_path(gid)).expect(200).await;
    assert_eq!(member_ids(&g), vec![id.to_owned()], "{g}");
    assert!(g["members"][0]["display"].is_string(), "{g}");

    let new_urn = user_urn(new);
    let info = app
        .aspect(&new_urn, "corpUserInfo")
        .await
        .expect("moved to");
    assert_eq!(info["customProperties"]["scim.userName"], json!(new));
    assert_eq!(app.user_status(&new_urn).await.as_deref(), Some("ACTIVE"));
    assert_eq!(
        app.groups_of(&new_urn).await,
        vec![group_urn_of(app, gid).await]
    );
    let old_urn = user_urn(old);
    assert_eq!(
        app.user_status(&old_urn).await.as_deref(),
        Some("SUSPENDED")
    );
    assert!(app.groups_of(&old_urn).await.is_empty());
    let old_info = app.aspect(&old_urn, "corpUserInfo").await.expect("former");
    assert_eq!(old_info["customProperties"]["scim.movedTo"], json!(new_urn));
    assert!(old_info["customProperties"].get("scim.userName").is_none());
}

async fn group_urn_of(app: &TestApp, gid: &str) -> String {
    let g = app.get(&group_path(gid)).expect(200).await;
    group_urn(g["displayName"].as_str().expect("name"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_aiw_put_with_a_new_username_moves_the_user() {
    let app = TestApp::spawn().await;
    let old = format!("{}@example.com", app.uniq("old.name"));
    let new = format!("{}@example.com", app.uniq("new.name"));
    let (id, gid) = okta_user_in_group(&app, &old, &app.uniq("Renamers")).await;
    let u = okta_put(&app, 0, &id, |u| {
        u["userName"] = json!(new);
        u["emails"] = json!([{"primary": true, "value": new, "type": "work"}]);
        u["name"]["familyName"] = json!("Married");
    })
    .await;
    assert_eq!(u["id"], json!(id));
    assert_eq!(u["name"]["familyName"], json!("Married"));
    assert_eq!(
        u["name"]["formatted"],
        json!("Test Married"),
        "the full name follows the family name Okta changed"
    );
    assert_moved(&app, &id, &old, &new, &gid).await;
    // Okta's next pushes use the id it has: profile, deactivation, group membership.
    let u = okta_put(&app, 0, &id, |u| u["active"] = json!(false)).await;
    assert_eq!(u["active"], json!(false));
    assert_eq!(
        app.user_status(&user_urn(&new)).await.as_deref(),
        Some("SUSPENDED")
    );
    let g = app.get(&group_path(&gid)).expect(200).await;
    let put = json!({"schemas": [GROUP_SCHEMA], "id": gid, "displayName": g["displayName"],
                     "members": []});
    app.put(&group_path(&gid), put).expect(200).await;
    assert!(app.groups_of(&user_urn(&new)).await.is_empty());
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_patch_replace_username_moves_the_user_in_both_dialects() {
    let app = TestApp::spawn().await;
    for flag in [false, true] {
        let old = app.uniq(&format!("old{flag}@contoso.com"));
        let new = app.uniq(&format!("new{flag}@contoso.com"));
        let (id, gid) = okta_user_in_group(&app, &old, &app.uniq(&format!("Entra {flag}"))).await;
        let path = if flag {
            format!("{}?aadOptscim062020", user_path(&id))
        } else {
            user_path(&id)
        };
        let r = patch_ok(&app, &path, entra_rename(&new, flag)).await;
        if let Some(u) = r {
            assert_eq!(u["id"], json!(id));
            assert_eq!(u["userName"], json!(new));
        }
        assert_moved(&app, &id, &old, &new, &gid).await;
        // Entra's legacy member removal and re-add by the id it cached.
        let rm = patch(
            json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": id}]}]),
        );
        patch_ok(&app, &group_path(&gid), rm).await;
        assert!(members(&app, &gid).await.is_empty());
        let add = patch(
            json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": id}]}]),
        );
        patch_ok(&app, &group_path(&gid), add).await;
        assert_eq!(members(&app, &gid).await, vec![id.clone()]);
        // And its eventual DELETE reaches the user the person is now.
        app.delete(&user_path(&id)).expect(204).await;
        app.get(&user_path(&id)).expect(404).await;
        assert!(app.removed(&user_urn(&new)).await);
    }
    app.shutdown().await;
}

/// Renaming back (Entra: A→B→A) and renaming twice (Okta: A→B→C): one resource, one
/// id, A's, throughout; renaming back makes the first user the person again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_back_and_renaming_twice() {
    let app = TestApp::spawn().await;
    let a = app.uniq("anna.a@contoso.com");
    let b = app.uniq("anna.b@contoso.com");
    let c = app.uniq("anna.c@contoso.com");
    let (id, gid) = okta_user_in_group(&app, &a, &app.uniq("Back and forth")).await;
    patch_ok(&app, &user_path(&id), entra_rename(&b, false)).await;
    assert_moved(&app, &id, &a, &b, &gid).await;
    patch_ok(&app, &user_path(&id), entra_rename(&a, false)).await;
    assert_moved(&app, &id, &b, &a, &gid).await;
    let info = app.aspect(&user_urn(&a), "corpUserInfo").await.expect("a");
    assert!(info["customProperties"].get("scim.id").is_none(), "{info}");
    assert!(
        info["customProperties"].get("scim.movedTo").is_none(),
        "{info}"
    );

    okta_put(&app, 0, &id, |u| u["userName"] = json!(b)).await;
    okta_put(&app, 0, &id, |u| u["userName"] = json!(c)).await;
    assert_moved(&app, &id, &b, &c, &gid).await;
    let info = app.aspect(&user_urn(&c), "corpUserInfo").await.expect("c");
    assert_eq!(
        info["customProperties"]["scim.id"],
        json!(id),
        "A→B→C keeps A's id"
    );
    assert!(lookup_user(&app, &a).await.is_empty());
    // Okta's re-link after reassignment looks the user up by its current name.
    assert_eq!(
        ids(&lookup_user(&app, &c.to_uppercase()).await),
        vec![id.clone()]
    );
    app.shutdown().await;
}

/// The common real case: the person signed in under the new name before the IdP
/// pushed the change, so DataHub's SSO made a bare user there (no SCIM marker). The
/// rename adopts it: SSO keeps landing on it, now with the profile and the groups.
/// A name another SCIM user holds is `409 uniqueness`, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_adopts_the_sso_user_of_the_new_name_and_refuses_another_scim_user() {
    let app = TestApp::spawn().await;
    let old = app.uniq("pat.old@contoso.com");
    let new = app.uniq("pat.new@contoso.com");
    let (id, gid) = okta_user_in_group(&app, &old, &app.uniq("Adopters")).await;
    let new_urn = user_urn(&new);
    app.put_aspect(&new_urn, "corpUserKey", json!({"username": new}))
        .await;
    app.put_aspect(
        &new_urn,
        "corpUserInfo",
        json!({"active": true, "displayName": "Pat (SSO)", "email": new}),
    )
    .await;
    app.put_aspect(
        &new_urn,
        "corpUserEditableInfo",
        json!({"aboutMe": "edited in DataHub"}),
    )
    .await;
    assert!(
        lookup_user(&app, &new).await.is_empty(),
        "not a SCIM user yet"
    );
    patch_ok(&app, &user_path(&id), entra_rename(&new, true)).await;
    assert_moved(&app, &id, &old, &new, &gid).await;
    assert_eq!(
        app.aspect(&new_urn, "corpUserEditableInfo")
            .await
            .expect("kept")["aboutMe"],
        json!("edited in DataHub"),
        "what people edited in DataHub stays"
    );

    let other = app.uniq("taken@contoso.com");
    let oid = create_user(&app, &other).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let e = app
        .patch(&user_path(&id), entra_rename(&other, true))
        .expect(409)
        .await;
    assert_error(&e, 409, Some("uniqueness"));
    assert!(
        e["detail"].as_str().is_some_and(|d| d.contains(&oid)),
        "{e}"
    );
    assert_moved(&app, &id, &old, &new, &gid).await;
    app.shutdown().await;
}

/// Two replicas behind one load balancer, an index that lags: the rename on one is
/// seen at once by the other's key lookups, lists never show the person twice, and the
/// same rename sent to both at once (an IdP retry racing the original) ends as one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renames_on_two_replicas_under_index_lag() {
    let app = TestApp::builder()
        .gateways(2)
        .index_lag(std::time::Duration::from_secs(2))
        .spawn()
        .await;
    require_emulator!(app);
    let old = "lag.old@contoso.com";
    let new = "lag.new@contoso.com";
    let (id, gid) = okta_user_in_group(&app, old, "Laggards").await;
    let (a, b) = tokio::join!(
        app.on(
            0,
            Method::PATCH,
            &user_path(&id),
            Some(entra_rename(new, true))
        )
        .send(),
        app.on(
            1,
            Method::PATCH,
            &user_path(&id),
            Some(entra_rename(new, true))
        )
        .send(),
    );
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "{:?} / {:?}",
        a.body,
        b.body
    );
    for gw in [0, 1] {
        let u = app
            .on(gw, Method::GET, &user_path(&id), None)
            .expect(200)
            .await;
        assert_eq!(u["userName"], json!(new));
        let f = enc(&format!("userName eq \"{new}\""));
        let l = app
            .on(gw, Method::GET, &format!("/scim/v2/Users?filter={f}"), None)
            .expect(200)
            .await;
        assert_eq!(ids(&assert_list(&l, 1)), vec![id.clone()]);
        let f = enc("externalId eq \"00u1rename0000000001\"");
        let l = app
            .on(gw, Method::GET, &format!("/scim/v2/Users?filter={f}"), None)
            .expect(200)
            .await;
        assert_eq!(ids(&assert_list(&l, 1)), vec![id.clone()]);
        let l = app
            .on(gw, Method::GET, "/scim/v2/Users", None)
            .expect(200)
            .await;
        let n = assert_list(&l, 1)
            .iter()
            .filter(|r| r["id"] == json!(id))
            .count();
        assert!(n <= 1, "never twice: {l}");
    }
    // Once the index caught up: listed exactly once, everywhere.
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    for gw in [0, 1] {
        let l = app
            .on(gw, Method::GET, "/scim/v2/Users", None)
            .expect(200)
            .await;
        assert_eq!(ids(&assert_list(&l, 1)), vec![id.clone()]);
        let g = app
            .on(gw, Method::GET, &group_path(&gid), None)
            .expect(200)
            .await;
        assert_eq!(member_ids(&g), vec![id.clone()]);
    }
    assert_moved(&app, &id, old, new, &gid).await;
    app.shutdown().await;
}

/// The rename's writes are one atomic batch: a GMS failure on any upstream call of it
/// leaves the user as it was, and the IdP's retry of the same request completes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_stopped_by_any_failed_call_is_finished_by_the_retry() {
    let app = TestApp::spawn().await;
    let emu = require_emulator!(app);
    let (id, gid) = okta_user_in_group(&app, "fail.old@contoso.com", "Failures").await;
    let mut k = 1;
    loop {
        let new = format!("fail.new{k}@contoso.com");
        emu.reset_calls();
        emu.faults().fail_nth(k, 503);
        let r = app
            .patch(&user_path(&id), entra_rename(&new, true))
            .send()
            .await;
        emu.faults().clear();
        let calls = emu.calls().len() as u32;
        if r.status == 200 {
            assert!(k > calls, "call {k} of {calls} failed, yet 200");
            break;
        }
        assert_eq!(r.status, 503, "call {k}: {:?}", r.body);
        let u = app.get(&user_path(&id)).expect(200).await;
        assert_ne!(u["userName"], json!(new), "call {k}: nothing half-made");
        // The IdP retries.
        patch_ok(&app, &user_path(&id), entra_rename(&new, true)).await;
        let prev = app.get(&user_path(&id)).expect(200).await["userName"].clone();
        assert_eq!(prev, json!(new));
        assert_eq!(members(&app, &gid).await, vec![id.clone()]);
        k += 1;
        assert!(k < 20, "bounded");
    }
    app.shutdown().await;
}

/// `--user-rename reject` keeps the old behaviour: `400 mutability`, nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renames_refused_by_the_setting_change_nothing() {
    let app = TestApp::builder()
        .config("DATAHUB_SCIM_USER_RENAME", "reject")
        .spawn()
        .await;
    let old = format!("{}@example.com", app.uniq("kept.name"));
    let new = format!("{}@example.com", app.uniq("other.name"));
    let id = create_user(&app, &old).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut u = app.get(&user_path(&id)).expect(200).await;
    u["userName"] = json!(new);
    u["name"]["familyName"] = json!("Changed");
    let e = app.put(&user_path(&id), u).expect(400).await;
    assert_error(&e, 400, Some("mutability"));
    let got = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(got["userName"], json!(old));
    assert_eq!(
        got["name"]["familyName"],
        json!("Family"),
        "a refused PUT changes nothing"
    );
    assert!(lookup_user(&app, &new).await.is_empty());
    assert!(!app.exists(&user_urn(&new)).await);
    app.shutdown().await;
}

/// `If-Match` on a rename (RFC 7644 §3.14) is judged on the user the id names, and
/// the version moves with the person: the version a rename answers is the one GET shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rename_honours_if_match() {
    let app = TestApp::spawn().await;
    let old = app.uniq("etag.old@contoso.com");
    let new = app.uniq("etag.new@contoso.com");
    let (id, _) = okta_user_in_group(&app, &old, &app.uniq("Versions")).await;
    let v1 = app.get(&user_path(&id)).expect(200).await["meta"]["version"]
        .as_str()
        .expect("version")
        .to_owned();
    // A stale version: 412, nothing moves.
    let r = app
        .patch(&user_path(&id), entra_rename(&new, true))
        .header("If-Match", "W/\"stale\"")
        .send()
        .await;
    assert_eq!(r.status, 412, "{:?}", r.body);
    assert!(!app.exists(&user_urn(&new)).await);
    // The current one: renamed, and the answer's version is what GET shows.
    let r = app
        .patch(&user_path(&id), entra_rename(&new, true))
        .header("If-Match", &v1)
        .send()
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let u = r.json();
    let got = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(got["userName"], json!(new));
    assert_eq!(u["meta"]["version"], got["meta"]["version"]);
    assert_ne!(got["meta"]["version"], json!(v1));
    app.shutdown().await;
}
