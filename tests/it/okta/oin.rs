//! Okta OIN catalog apps: pathless PATCH for (de)activation and passwords, and Push
//! Groups with PATCH (keep-alive rename, mixed add/remove, full replace, unlink-delete).

use crate::fixture;
use crate::harness::TestApp;
use crate::support::datahub::{assert_group, assert_user};
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::json;

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

/// SCIM 1.1-era Okta apps put the group description in an `urn:okta:custom:group:1.0`
/// extension (idp-scim-clients.md §2.9): unknown extension URNs are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_group_with_a_custom_extension() {
    let app = TestApp::spawn().await;
    let display = app.uniq("Okta Custom Group");
    let body = json!({
        "schemas": [GROUP_SCHEMA, "urn:okta:custom:group:1.0"],
        "displayName": display,
        "members": [],
        "urn:okta:custom:group:1.0": {"description": "Pushed with a description"}
    });
    let g = app.post("/scim/v2/Groups", body).expect(201).await;
    assert_group_shape(&g);
    assert_eq!(g["displayName"], json!(display));
    assert_group(&app, &display).await;
    app.shutdown().await;
}
