//! Okta App Integration Wizard apps (DataHub's documented setup): PUT for every user
//! update, PUT of whole member lists for groups, and import pages.

use crate::fixture;
use crate::harness::TestApp;
use crate::support::datahub::{assert_group, assert_user};
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::{json, Value};

use super::OKTA_EXTERNAL_ID;

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
