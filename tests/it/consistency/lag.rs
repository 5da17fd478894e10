//! Read-your-writes through an index that lags behind writes: the Okta and Entra core
//! flows never wait for it.

use crate::fixture;
use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::json;
use std::time::Instant;

use super::LAG;

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
