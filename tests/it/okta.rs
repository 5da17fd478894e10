//! Okta, both client flavours (idp-scim-clients.md §2): the App Integration Wizard app
//! DataHub's guide uses (PUT for every update, PUT of whole member lists) and OIN
//! catalog apps (PATCH), plus Okta's own spec test sequence (§2.12), each asserting the
//! SCIM answers and the DataHub aspects behind them.

use serde_json::{json, Value};

use crate::fixture;
use crate::harness::TestApp;
use crate::support::datahub::{assert_group, assert_user};
use crate::support::flows::*;
use crate::support::scim::*;

const OKTA_EXTERNAL_ID: &str = "00ujl29u0le5T6Aj10h7";

/// Test connection, pre-create lookup, create, profile update, deactivate and
/// reactivate, exactly as an AIW app sends them (all PUT).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_aiw_user_lifecycle_is_all_put() {
    let app = TestApp::spawn().await;
    let un = format!("{}@okta.local", app.uniq("test.user"));
    let urn = user_urn(&un);

    // "Test Connector Configuration": integer fields and `Resources: []` even when empty.
    let v = app
        .get("/scim/v2/Users?startIndex=1&count=2")
        .expect(200)
        .await;
    let page = assert_list(&v, 1);
    assert!(page.len() <= 2, "count=2 caps the page: {v}");
    let v = app
        .get("/scim/v2/Groups?startIndex=1&count=100")
        .expect(200)
        .await;
    if app.emu().is_some() {
        assert_empty_list(&v);
    } else {
        assert_list(&v, 1);
    }

    // Pre-create lookup, `%20` and `+` encodings: no match.
    assert!(lookup_user(&app, &un).await.is_empty());
    let plus = enc_plus(&format!("userName eq \"{un}\""));
    let v = app
        .get(&format!(
            "/scim/v2/Users?filter={plus}&startIndex=1&count=100"
        ))
        .expect(200)
        .await;
    assert_empty_list(&v);

    // Create with Okta's exact body (password, groups: [], locale, externalId 00u…).
    let body = fixture(
        "okta/create_user.json",
        &[("userName", &un), ("externalId", OKTA_EXTERNAL_ID)],
    );
    let resp = app
        .post("/scim/v2/Users", body)
        .header("user-agent", "Okta SCIM Client 1.0.0")
        .send()
        .await;
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    resp.assert_scim_envelope();
    let created = resp.json();
    assert_user_shape(&created);
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(id, user_id(&un), "id = base64url(username)");
    assert_eq!(created["userName"], json!(un));
    assert_eq!(created["active"], json!(true));
    assert_eq!(created["externalId"], json!(OKTA_EXTERNAL_ID));
    assert_eq!(created["name"]["givenName"], json!("Test"));
    assert_eq!(created["name"]["familyName"], json!("User"));
    assert_eq!(created["emails"][0]["value"], json!(un));
    assert!(
        created.get("password").is_none(),
        "password is never returned (RFC 7643 §4.1.1)"
    );
    let location = resp
        .header("location")
        .expect("201 carries Location (RFC 7644 §3.3)");
    assert!(
        location.ends_with(&format!("/Users/{id}")),
        "Location {location}"
    );
    assert_eq!(created["meta"]["location"], json!(location));

    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["email"], json!(un));
    assert_eq!(info["firstName"], json!("Test"));
    assert_eq!(info["lastName"], json!("User"));
    assert_eq!(info["displayName"], json!("Test User"));
    assert_eq!(
        info["customProperties"]["scim.externalId"],
        json!(OKTA_EXTERNAL_ID)
    );
    assert!(
        app.aspect(&urn, "corpUserCredentials").await.is_none(),
        "the Okta password is never stored"
    );
    assert!(
        app.groups_of(&urn).await.is_empty(),
        "groups: [] on create adds no membership"
    );

    // Test connection again on a non-empty store.
    let v = app
        .get("/scim/v2/Users?startIndex=1&count=2")
        .expect(200)
        .await;
    let page = assert_list(&v, 1);
    assert!(!page.is_empty() && page.len() <= 2, "{v}");
    page.iter().for_each(assert_user_shape);

    // Lookup now links to the user, with either encoding.
    let found = lookup_user(&app, &un).await;
    assert_eq!(ids(&found), vec![id.clone()]);
    let v = app
        .get(&format!(
            "/scim/v2/Users?filter={plus}&startIndex=1&count=100"
        ))
        .expect(200)
        .await;
    assert_eq!(ids(&assert_list(&v, 1)), vec![id.clone()]);

    // Profile update: GET, then PUT the representation back with one change, echoing
    // id, meta, groups and a password, as Okta does.
    let mut u = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(
        strip_meta(&u),
        strip_meta(&created),
        "GET returns what POST returned"
    );
    u["name"]["familyName"] = json!("Userson");
    u["password"] = json!("1mz050nq");
    u["groups"] = json!([]);
    let put = app.put(&user_path(&id), u.clone()).expect(200).await;
    assert_user_shape(&put);
    assert_eq!(put["id"], json!(id));
    assert_eq!(put["name"]["familyName"], json!("Userson"));
    assert_eq!(
        put["name"]["givenName"],
        json!("Test"),
        "PUT keeps what Okta re-sent"
    );
    assert_eq!(put["externalId"], json!(OKTA_EXTERNAL_ID));
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["lastName"], json!("Userson"));
    assert_eq!(info["email"], json!(un));

    // Round trip is lossless: PUT of what GET returned changes nothing.
    let again = app.get(&user_path(&id)).expect(200).await;
    let put2 = app.put(&user_path(&id), again.clone()).expect(200).await;
    assert_eq!(
        strip_meta(&put2),
        strip_meta(&again),
        "PUT of a GET is a no-op"
    );

    // An old Okta sample echoes a non-ISO meta.created and extra meta members: ignored.
    let mut odd = app.get(&user_path(&id)).expect(200).await;
    odd["meta"] = json!({"resourceType": "User", "created": "2018-05-03 10:24:23", "lastModified": "yesterday"});
    let put3 = app.put(&user_path(&id), odd).expect(200).await;
    assert_eq!(strip_meta(&put3)["name"], strip_meta(&again)["name"]);

    // Deactivate (unassign / Okta deactivation): PUT the whole user with active:false.
    let mut u = app.get(&user_path(&id)).expect(200).await;
    u["active"] = json!(false);
    let put = app.put(&user_path(&id), u).expect(200).await;
    assert_eq!(put["active"], json!(false));
    assert_user(&app, &un, &un, "SUSPENDED").await;
    // Still readable, still found by the lookup Okta re-links with.
    let got = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(got["active"], json!(false));
    let found = lookup_user(&app, &un).await;
    assert_eq!(ids(&found), vec![id.clone()]);
    assert_eq!(found[0]["active"], json!(false));

    // Reactivate: PUT with active:true.
    let mut u = app.get(&user_path(&id)).expect(200).await;
    u["active"] = json!(true);
    let put = app.put(&user_path(&id), u).expect(200).await;
    assert_eq!(put["active"], json!(true));
    assert_user(&app, &un, &un, "ACTIVE").await;

    app.shutdown().await;
}

fn strip_meta(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(m) = v.get_mut("meta").and_then(Value::as_object_mut) {
        m.remove("lastModified");
        m.remove("version");
    }
    v
}

/// AIW group push: POST the group, then PUT it with the complete member list each time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_aiw_group_membership_is_a_full_put() {
    let app = TestApp::spawn().await;
    let names: Vec<String> = ["ann", "bob", "cid"].iter().map(|n| app.uniq(n)).collect();
    let mut uid = Vec::new();
    for n in &names {
        uid.push(
            create_user(&app, n).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let display = app.uniq("Data Stewards");
    assert!(lookup_group(&app, &display).await.is_empty());
    let resp = app
        .post(
            "/scim/v2/Groups",
            fixture("okta/create_group.json", &[("displayName", &display)]),
        )
        .send()
        .await;
    assert_eq!(resp.status, 201, "{}", String::from_utf8_lossy(&resp.body));
    resp.assert_scim_envelope();
    let g = resp.json();
    assert_group_shape(&g);
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(
        gid,
        group_id(&display),
        "group id = base64url(URLEncoder(displayName))"
    );
    let location = resp.header("location").expect("201 carries Location");
    assert!(location.ends_with(&format!("/Groups/{gid}")), "{location}");
    assert_eq!(g["meta"]["location"], json!(location));
    assert_eq!(member_ids(&g), Vec::<String>::new());
    let info = assert_group(&app, &display).await;
    assert_eq!(
        info["members"],
        json!([]),
        "a new group has corpGroupInfo.members = []"
    );
    let gurn = group_urn(&display);

    let put_members = |ids: Vec<&str>| {
        let members: Vec<Value> = ids
            .iter()
            .map(|i| json!({"value": i, "display": format!("{i}@okta.local")}))
            .collect();
        json!({"schemas": [GROUP_SCHEMA], "id": gid, "displayName": display, "members": members})
    };

    // [ann, bob]
    let r = app
        .put(&group_path(&gid), put_members(vec![&uid[0], &uid[1]]))
        .expect(200)
        .await;
    assert_group_shape(&r);
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[uid[0].clone(), uid[1].clone()])
    );
    assert_eq!(
        app.groups_of(&user_urn(&names[0])).await,
        vec![gurn.clone()]
    );
    assert_eq!(
        app.groups_of(&user_urn(&names[1])).await,
        vec![gurn.clone()]
    );
    assert!(app.groups_of(&user_urn(&names[2])).await.is_empty());

    // [bob, cid]: ann leaves, cid joins.
    app.put(&group_path(&gid), put_members(vec![&uid[1], &uid[2]]))
        .expect(200)
        .await;
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[uid[1].clone(), uid[2].clone()])
    );
    assert!(app.groups_of(&user_urn(&names[0])).await.is_empty());
    assert_eq!(
        app.groups_of(&user_urn(&names[2])).await,
        vec![gurn.clone()]
    );

    // The same list again is a no-op.
    app.put(&group_path(&gid), put_members(vec![&uid[1], &uid[2]]))
        .expect(200)
        .await;
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[uid[1].clone(), uid[2].clone()])
    );

    // Rename through PUT keeps the id and the members.
    let renamed = format!("{display} (renamed)");
    let r = app
        .put(
            &group_path(&gid),
            json!({"schemas": [GROUP_SCHEMA], "displayName": renamed,
            "members": [{"value": uid[1]}, {"value": uid[2]}]}),
        )
        .expect(200)
        .await;
    assert_eq!(r["id"], json!(gid));
    assert_eq!(r["displayName"], json!(renamed));
    let info = app
        .aspect(&gurn, "corpGroupInfo")
        .await
        .expect("corpGroupInfo");
    assert_eq!(
        info["displayName"],
        json!(renamed),
        "rename changes corpGroupInfo.displayName only"
    );

    // Empty list: everyone leaves, the group stays.
    app.put(
        &group_path(&gid),
        json!({"schemas": [GROUP_SCHEMA], "displayName": renamed, "members": []}),
    )
    .expect(200)
    .await;
    assert!(members(&app, &gid).await.is_empty());
    for n in &names {
        assert!(
            app.groups_of(&user_urn(n)).await.is_empty(),
            "{n} left the group"
        );
    }
    assert!(app.exists(&gurn).await);

    // A large group arrives as one big PUT, and shrinks the same way.
    let mut big = Vec::new();
    for i in 0..120 {
        let n = app.uniq(&format!("big{i:03}"));
        big.push((
            create_user(&app, &n).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
            n,
        ));
    }
    let all: Vec<Value> = big
        .iter()
        .map(|(id, n)| json!({"value": id, "display": n}))
        .collect();
    app.put(
        &group_path(&gid),
        json!({"schemas": [GROUP_SCHEMA], "displayName": renamed, "members": all}),
    )
    .expect(200)
    .await;
    let want: Vec<String> = big.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(members(&app, &gid).await, sorted(&want));
    for (_, n) in big.iter().step_by(17) {
        assert_eq!(app.groups_of(&user_urn(n)).await, vec![gurn.clone()], "{n}");
    }
    let half: Vec<Value> = big
        .iter()
        .step_by(2)
        .map(|(id, _)| json!({"value": id}))
        .collect();
    app.put(
        &group_path(&gid),
        json!({"schemas": [GROUP_SCHEMA], "displayName": renamed, "members": half}),
    )
    .expect(200)
    .await;
    let want: Vec<String> = big.iter().step_by(2).map(|(id, _)| id.clone()).collect();
    assert_eq!(members(&app, &gid).await, sorted(&want));
    assert!(app.groups_of(&user_urn(&big[1].1)).await.is_empty());
    assert_eq!(
        app.groups_of(&user_urn(&big[2].1)).await,
        vec![gurn.clone()]
    );
    app.shutdown().await;
}

/// Import: `startIndex=1&count=100`, then `101`, stable and without duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_import_pages_by_100() {
    let app = TestApp::spawn().await;
    let mut created = Vec::new();
    for i in 0..105 {
        let u = create_user(&app, &app.uniq(&format!("import{i:03}"))).await;
        created.push(u["id"].as_str().expect("id").to_owned());
    }
    let p1 = app
        .get("/scim/v2/Users?startIndex=1&count=100")
        .expect(200)
        .await;
    let r1 = assert_list(&p1, 1);
    let total = p1["totalResults"].as_u64().expect("total");
    assert!(total >= 105, "{total}");
    assert_eq!(r1.len(), 100);
    let p2 = app
        .get("/scim/v2/Users?startIndex=101&count=100")
        .expect(200)
        .await;
    let r2 = assert_list(&p2, 101);
    assert_eq!(
        p2["totalResults"].as_u64(),
        Some(total),
        "totalResults is stable across pages"
    );
    assert_eq!(r2.len() as u64, (total - 100).min(100));
    let mut all = ids(&r1);
    all.extend(ids(&r2));
    let uniq = sorted(&all);
    let mut dedup = uniq.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), all.len(), "no user on two pages");
    if app.emu().is_some() {
        for id in &created {
            assert!(all.contains(id), "{id} imported");
        }
    }
    r1.iter().chain(r2.iter()).for_each(assert_user_shape);
    // RFC 7644 §3.4.2.4: startIndex < 1 is 1; count 0 returns only totalResults.
    let v = app
        .get("/scim/v2/Users?startIndex=0&count=5")
        .expect(200)
        .await;
    assert_eq!(ids(&assert_list(&v, 1)), ids(&r1[..5]));
    let v = app
        .get("/scim/v2/Users?startIndex=1&count=0")
        .expect(200)
        .await;
    assert_eq!(assert_list(&v, 1).len(), 0);
    assert_eq!(v["totalResults"].as_u64(), Some(total));
    // Past the end: an empty page, not an error.
    let v = app
        .get(&format!(
            "/scim/v2/Users?startIndex={}&count=100",
            total + 1
        ))
        .expect(200)
        .await;
    assert_eq!(assert_list(&v, total + 1).len(), 0);
    // The same first page again, in the same order.
    let again = app
        .get("/scim/v2/Users?startIndex=1&count=100")
        .expect(200)
        .await;
    assert_eq!(ids(&assert_list(&again, 1)), ids(&r1), "stable ordering");

    // Groups import page.
    for g in ["Import A", "Import B", "Import C"] {
        create_group(&app, &app.uniq(g)).await;
    }
    let v = app
        .get("/scim/v2/Groups?startIndex=1&count=100")
        .expect(200)
        .await;
    let gs = assert_list(&v, 1);
    assert!(gs.len() >= 3);
    gs.iter().for_each(assert_group_shape);
    app.shutdown().await;
}

/// OIN apps deactivate, reactivate and sync passwords with pathless PATCH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_oin_user_patches() {
    let app = TestApp::spawn().await;
    let un = format!("{}@okta.local", app.uniq("oin.user"));
    let body = fixture(
        "okta/create_user.json",
        &[("userName", &un), ("externalId", "00uoin0000000000000")],
    );
    let id = app.post("/scim/v2/Users", body).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let off = patch(json!([{"op": "replace", "value": {"active": false}}]));
    if let Some(u) = patch_ok(&app, &user_path(&id), off).await {
        assert_eq!(u["active"], json!(false));
    }
    assert_user(&app, &un, &un, "SUSPENDED").await;
    assert_eq!(
        app.get(&user_path(&id)).expect(200).await["active"],
        json!(false)
    );
    assert_eq!(
        ids(&lookup_user(&app, &un).await),
        vec![id.clone()],
        "deactivated users are still found"
    );

    let on = patch(json!([{"op": "replace", "value": {"active": true}}]));
    if let Some(u) = patch_ok(&app, &user_path(&id), on).await {
        assert_eq!(u["active"], json!(true));
    }
    assert_user(&app, &un, &un, "ACTIVE").await;

    // Password sync: accepted, never stored.
    let pw = patch(json!([{"op": "replace", "value": {"password": "n3wPassw0rd!"}}]));
    patch_ok(&app, &user_path(&id), pw).await;
    assert!(app
        .aspect(&user_urn(&un), "corpUserCredentials")
        .await
        .is_none());
    let u = app.get(&user_path(&id)).expect(200).await;
    assert!(u.get("password").is_none());
    assert_eq!(u["active"], json!(true));
    app.shutdown().await;
}

/// OIN Push Groups: lookup, create, keep-alive rename, mixed add/remove, full push
/// (incl. `[]`), duplicate push, unlink-delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_oin_push_groups() {
    let app = TestApp::spawn().await;
    let names: Vec<String> = ["u1", "u2", "u3"]
        .iter()
        .map(|n| format!("{}@okta.local", app.uniq(n)))
        .collect();
    let mut uid = Vec::new();
    for n in &names {
        uid.push(
            create_user(&app, n).await["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let display = app.uniq("Push Group");
    let gurn = group_urn(&display);
    assert!(
        lookup_group(&app, &display).await.is_empty(),
        "filter on a group that does not exist: 0"
    );
    let g = app
        .post(
            "/scim/v2/Groups",
            fixture("okta/create_group.json", &[("displayName", &display)]),
        )
        .expect(201)
        .await;
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(gid, group_id(&display));
    assert_eq!(
        gurn,
        format!("urn:li:corpGroup:{}", display.replace(' ', "+")),
        "space → + as URLEncoder does"
    );
    assert_group(&app, &display).await;
    assert_eq!(ids(&lookup_group(&app, &display).await), vec![gid.clone()]);
    assert_eq!(
        ids(&lookup_group(&app, &display.to_uppercase()).await),
        vec![gid.clone()],
        "displayName eq is case-insensitive"
    );
    let dup = app
        .post(
            "/scim/v2/Groups",
            fixture("okta/create_group.json", &[("displayName", &display)]),
        )
        .expect(409)
        .await;
    assert_error(&dup, 409, Some("uniqueness"));

    // Add two members (value + display, no type).
    let add = patch(json!([{"op": "add", "path": "members", "value": [
        {"value": uid[0], "display": names[0]}, {"value": uid[1], "display": names[1]}]}]));
    patch_ok(&app, &group_path(&gid), add).await;
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[uid[0].clone(), uid[1].clone()])
    );
    assert_eq!(
        app.groups_of(&user_urn(&names[0])).await,
        vec![gurn.clone()]
    );

    // Rename / keep-alive with the id inside the value: members untouched.
    let renamed = format!("{display} Renamed");
    let keep = patch(json!([{"op": "replace", "value": {"id": gid, "displayName": renamed}}]));
    patch_ok(&app, &group_path(&gid), keep.clone()).await;
    let got = app.get(&group_path(&gid)).expect(200).await;
    assert_eq!(got["displayName"], json!(renamed));
    assert_eq!(
        member_ids(&got),
        sorted(&[uid[0].clone(), uid[1].clone()]),
        "keep-alive must not touch members"
    );
    assert_eq!(
        app.aspect(&gurn, "corpGroupInfo").await.expect("info")["displayName"],
        json!(renamed)
    );
    patch_ok(&app, &group_path(&gid), keep).await;
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[uid[0].clone(), uid[1].clone()]),
        "idempotent"
    );
    assert_eq!(
        ids(&lookup_group(&app, &renamed).await),
        vec![gid.clone()],
        "found by its new name"
    );

    // Mixed remove (filter path) + add in one PATCH.
    let mixed = patch(json!([
        {"op": "remove", "path": format!("members[value eq \"{}\"]", uid[0])},
        {"op": "add", "path": "members", "value": [{"value": uid[2], "display": names[2]}]}]));
    patch_ok(&app, &group_path(&gid), mixed).await;
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[uid[1].clone(), uid[2].clone()])
    );
    assert!(app.groups_of(&user_urn(&names[0])).await.is_empty());
    assert_eq!(
        app.groups_of(&user_urn(&names[2])).await,
        vec![gurn.clone()]
    );

    // Full push: replace members with [u1], then with [].
    let full = patch(
        json!([{"op": "replace", "path": "members", "value": [{"value": uid[0], "display": names[0]}]}]),
    );
    patch_ok(&app, &group_path(&gid), full).await;
    assert_eq!(members(&app, &gid).await, vec![uid[0].clone()]);
    assert_eq!(
        app.groups_of(&user_urn(&names[0])).await,
        vec![gurn.clone()]
    );
    assert!(app.groups_of(&user_urn(&names[1])).await.is_empty());
    assert!(app.groups_of(&user_urn(&names[2])).await.is_empty());
    let empty = patch(json!([{"op": "replace", "path": "members", "value": []}]));
    patch_ok(&app, &group_path(&gid), empty).await;
    assert!(members(&app, &gid).await.is_empty());
    assert!(app.groups_of(&user_urn(&names[0])).await.is_empty());

    // Pushing a group whose name exists: 409 uniqueness (the admin links instead). The
    // renamed group keeps its urn, so its original name still conflicts.
    let dup = app
        .post(
            "/scim/v2/Groups",
            fixture("okta/create_group.json", &[("displayName", &display)]),
        )
        .expect(409)
        .await;
    assert_error(&dup, 409, Some("uniqueness"));
    assert_eq!(
        members(&app, &gid).await,
        Vec::<String>::new(),
        "a refused push changes nothing"
    );

    // Unlink → "delete the group in the target app": 204, then gone; members cleaned.
    let add = patch(
        json!([{"op": "add", "path": "members", "value": [{"value": uid[1]}, {"value": uid[2]}]}]),
    );
    patch_ok(&app, &group_path(&gid), add).await;
    let resp = app.delete(&group_path(&gid)).send().await;
    assert_eq!(resp.status, 204, "{}", String::from_utf8_lossy(&resp.body));
    assert!(resp.body.is_empty(), "204 has no body");
    let e = app.get(&group_path(&gid)).expect(404).await;
    assert_error(&e, 404, None);
    assert!(lookup_group(&app, &display).await.is_empty());
    assert!(
        app.groups_of(&user_urn(&names[1])).await.is_empty(),
        "members' groupMembership cleaned"
    );
    assert!(
        app.groups_of(&user_urn(&names[2])).await.is_empty(),
        "members' groupMembership cleaned"
    );
    app.delete(&group_path(&gid)).expect(404).await;
    app.shutdown().await;
}

/// Okta's Runscope/BlazeMeter spec test (idp-scim-clients.md §2.12), in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_spec_test_sequence() {
    let app = TestApp::spawn().await;
    // The suite expects at least one user to exist.
    let seed = format!("{}@example.com", app.uniq("spec.seed"));
    app.post(
        "/scim/v2/Users",
        fixture(
            "okta/spec_create_user.json",
            &[
                ("userName", &seed),
                ("givenName", "Seed"),
                ("familyName", "User"),
            ],
        ),
    )
    .plain_json()
    .expect(201)
    .await;

    // 1. GET /Users?count=1&startIndex=1
    let v = app
        .get("/scim/v2/Users?count=1&startIndex=1")
        .expect(200)
        .await;
    let r = assert_list(&v, 1);
    assert_eq!(r.len(), 1, "{v}");
    let first = &r[0];
    // The suite also wants name.givenName/familyName and emails[0].value here: see
    // okta_spec_test_first_listed_user_has_names_and_email.
    assert!(first["id"].is_string());
    assert!(first["userName"].is_string());
    assert!(first["active"].is_boolean());
    // 2. GET /Users/{id}
    let id = first["id"].as_str().expect("id");
    let u = app.get(&user_path(id)).expect(200).await;
    assert_eq!(u["id"], first["id"]);
    assert_eq!(u["userName"], first["userName"]);
    // 3. Filter on a username that does not exist.
    assert!(lookup_user(&app, "doesnotexist@example.com")
        .await
        .is_empty());
    // 4. An id that does not exist: 404 with the Error schema and a detail.
    let e = app
        .get("/scim/v2/Users/010101001010101011001010101011")
        .expect(404)
        .await;
    assert_error(&e, 404, None);
    assert!(e["detail"].as_str().is_some_and(|d| !d.is_empty()), "{e}");
    // 5. Filter on a random new username.
    let un = format!(
        "{}@example.com",
        app.uniq(&format!(
            "spec{}",
            &uuid::Uuid::new_v4().simple().to_string()[..10]
        ))
    );
    assert!(lookup_user(&app, &un).await.is_empty());
    // 6. Create it (Content-Type: application/json).
    let c = app
        .post(
            "/scim/v2/Users",
            fixture(
                "okta/spec_create_user.json",
                &[
                    ("userName", &un),
                    ("givenName", "Spec"),
                    ("familyName", "Tester"),
                ],
            ),
        )
        .plain_json()
        .expect(201)
        .await;
    assert_eq!(c["userName"], json!(un));
    assert_eq!(c["name"]["givenName"], json!("Spec"));
    assert_eq!(c["name"]["familyName"], json!("Tester"));
    assert_eq!(c["active"], json!(true));
    let cid = c["id"].as_str().expect("id").to_owned();
    // 7. GET it.
    let g = app.get(&user_path(&cid)).expect(200).await;
    assert_eq!(g["userName"], json!(un));
    // 8. Create it again: 409.
    let e = app
        .post(
            "/scim/v2/Users",
            fixture(
                "okta/spec_create_user.json",
                &[
                    ("userName", &un),
                    ("givenName", "Spec"),
                    ("familyName", "Tester"),
                ],
            ),
        )
        .plain_json()
        .expect(409)
        .await;
    assert_error(&e, 409, Some("uniqueness"));
    // 9. Filter with the username upper-cased finds it (userName is caseExact=false).
    let found = lookup_user(&app, &un.to_uppercase()).await;
    assert_eq!(ids(&found), vec![cid.clone()]);
    // 10. GET /Groups
    let v = app.get("/scim/v2/Groups").expect(200).await;
    assert_list(&v, 1);
    // 11. A bad credential: 401 with an Error body whose status is "401".
    let e = app
        .get("/scim/v2/Users")
        .authorization("non-token")
        .expect(401)
        .await;
    assert_error(&e, 401, None);
    let e = app.get("/scim/v2/Users").no_auth().expect(401).await;
    assert_error(&e, 401, None);
    let e = app
        .get("/scim/v2/Users")
        .token("eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl")
        .expect(401)
        .await;
    assert_error(&e, 401, None);
    // 12. Another unknown id.
    let e = app
        .get("/scim/v2/Users/00919288221112222")
        .expect(404)
        .await;
    assert_error(&e, 404, None);
    // And the DataHub side of step 6.
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["firstName"], json!("Spec"));
    app.shutdown().await;
}

/// Step 1 of Okta's spec test reads `Resources[0]` of `GET /Users?count=1&startIndex=1`
/// and requires `name.givenName`, `name.familyName` and `emails[0].value`. DataHub always
/// holds its root user `datahub` (no name, no email), and the emulator lists it first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "product: /Users lists DataHub's root user `datahub` first, without name or emails (reported to the lead)"]
async fn okta_spec_test_first_listed_user_has_names_and_email() {
    let app = TestApp::spawn().await;
    let seed = format!("{}@example.com", app.uniq("spec.seed"));
    app.post(
        "/scim/v2/Users",
        fixture(
            "okta/spec_create_user.json",
            &[
                ("userName", &seed),
                ("givenName", "Seed"),
                ("familyName", "User"),
            ],
        ),
    )
    .plain_json()
    .expect(201)
    .await;
    let v = app
        .get("/scim/v2/Users?count=1&startIndex=1")
        .expect(200)
        .await;
    let r = assert_list(&v, 1);
    let first = &r[0];
    assert!(
        first["name"]["givenName"].is_string() && first["name"]["familyName"].is_string(),
        "{first}"
    );
    assert!(first["emails"][0]["value"].is_string(), "{first}");
    app.shutdown().await;
}

/// Okta's "update application username" with the default naming rule would move the
/// user to another DataHub urn; urns are immutable, so the PUT is refused (400
/// mutability) and nothing changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_username_change_that_moves_the_urn_is_refused() {
    let app = TestApp::spawn().await;
    let old = format!("{}@example.com", app.uniq("old.name"));
    let new = format!("{}@example.com", app.uniq("new.name"));
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

/// Names with `+`, `&`, `/` and non-ASCII: userName lookups with Okta's encoding, and
/// group urns with `URLEncoder` encoding (as DataHub's OIDC group extraction makes them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_names_with_special_characters() {
    let app = TestApp::spawn().await;
    let un = format!("{}+scim@example.com", app.uniq("jöhn.o'neil"));
    let u = create_user(&app, &un).await;
    let id = u["id"].as_str().expect("id").to_owned();
    assert_eq!(id, user_id(&un));
    assert_eq!(u["userName"], json!(un));
    assert_eq!(ids(&lookup_user(&app, &un).await), vec![id.clone()]);
    assert_user(&app, &un, &un, "ACTIVE").await;

    let display = app.uniq("R&D / Ünïcode team");
    let g = create_group(&app, &display).await;
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(gid, group_id(&display));
    let gurn = group_urn(&display);
    assert!(
        gurn.starts_with("urn:li:corpGroup:R%26D+%2F+%C3%9Cn%C3%AFcode+team"),
        "{gurn}"
    );
    assert_group(&app, &display).await;
    assert_eq!(ids(&lookup_group(&app, &display).await), vec![gid.clone()]);
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "add", "path": "members", "value": [{"value": id}]}])),
    )
    .await;
    assert_eq!(app.groups_of(&user_urn(&un)).await, vec![gurn]);
    app.shutdown().await;
}

/// userName is caseExact=false (RFC 7643 §4.1.1): an upper-cased non-ASCII userName
/// (as Okta's spec test upper-cases) still finds the user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "product: userName eq folds ASCII case only (reported to the lead)"]
async fn okta_username_filter_folds_non_ascii_case() {
    let app = TestApp::spawn().await;
    let un = format!("{}@example.com", app.uniq("jöhn.ürün"));
    let id = create_user(&app, &un).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(ids(&lookup_user(&app, &un.to_uppercase()).await), vec![id]);
    app.shutdown().await;
}

/// `meta.created` and `meta.lastModified` (RFC 7643 §3.1) on users, as groups have them;
/// Okta echoes `meta` on every PUT and scim-sanity requires `created`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "product: users carry no meta.created (UserRecord.created_ms is never set; reported to the lead)"]
async fn user_meta_has_created_and_last_modified() {
    let app = TestApp::spawn().await;
    let un = app.uniq("meta.user");
    let u = create_user(&app, &un).await;
    for f in ["created", "lastModified"] {
        let t = u["meta"][f]
            .as_str()
            .unwrap_or_else(|| panic!("meta.{f}: {u}"));
        assert!(
            time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).is_ok(),
            "{t}"
        );
    }
    let g = app
        .get(&user_path(u["id"].as_str().expect("id")))
        .expect(200)
        .await;
    assert_eq!(g["meta"]["created"], u["meta"]["created"]);
    app.shutdown().await;
}
