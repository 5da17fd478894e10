//! JumpCloud's "Test Connection" (idp-scim-clients.md §5): it creates a real test user
//! and test group, then deletes both; POST and DELETE must work before activation, and
//! the next test run (same test email) must work again.

use serde_json::json;

use crate::fixture;
use crate::harness::TestApp;
use crate::support::datahub::{assert_group, assert_user};
use crate::support::flows::*;
use crate::support::scim::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jumpcloud_connection_test_creates_and_deletes() {
    let app = TestApp::spawn().await;
    let un = app.uniq("jc-test@jumpcloud.example");
    let display = app.uniq("JumpCloud Test Group");
    for round in 0..2 {
        assert!(
            lookup_user(&app, &un).await.is_empty(),
            "round {round}: the test user does not exist yet"
        );
        let u = app
            .post(
                "/scim/v2/Users",
                fixture("jumpcloud/create_user.json", &[("userName", &un)]),
            )
            .expect(201)
            .await;
        assert_user_shape(&u);
        let uid = u["id"].as_str().expect("id").to_owned();
        assert_user(&app, &un, &un, "ACTIVE").await;
        let g = app
            .post(
                "/scim/v2/Groups",
                fixture("jumpcloud/create_group.json", &[("displayName", &display)]),
            )
            .expect(201)
            .await;
        assert_group_shape(&g);
        let gid = g["id"].as_str().expect("id").to_owned();
        assert_group(&app, &display).await;
        assert_eq!(g["members"].as_array().map(Vec::len).unwrap_or(0), 0);

        let r = app.delete(&user_path(&uid)).send().await;
        assert_eq!(
            r.status,
            204,
            "round {round}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let r = app.delete(&group_path(&gid)).send().await;
        assert_eq!(
            r.status,
            204,
            "round {round}: {}",
            String::from_utf8_lossy(&r.body)
        );
        app.get(&user_path(&uid)).expect(404).await;
        app.get(&group_path(&gid)).expect(404).await;
        assert!(lookup_group(&app, &display).await.is_empty());
        assert_eq!(
            app.get(&format!(
                "/scim/v2/Users?filter={}",
                enc(&format!("userName eq \"{un}\""))
            ))
            .expect(200)
            .await["totalResults"],
            json!(0)
        );
    }
    app.shutdown().await;
}

/// After activation JumpCloud logs: user lookup, create, update, deprovision (active
/// false), delete; group create, update, delete; member removal Entra-style.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jumpcloud_lifecycle() {
    let app = TestApp::spawn().await;
    let un = app.uniq("jc.user@jumpcloud.example");
    let buddy = app.uniq("jc.buddy@jumpcloud.example");
    assert!(lookup_user(&app, &un).await.is_empty());
    let uid = app
        .post(
            "/scim/v2/Users",
            fixture("jumpcloud/create_user.json", &[("userName", &un)]),
        )
        .expect(201)
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let bid = create_user(&app, &buddy).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    patch_ok(
        &app,
        &user_path(&uid),
        patch(json!([{"op": "replace", "path": "title", "value": "Operator"}])),
    )
    .await;
    assert_eq!(
        app.aspect(&user_urn(&un), "corpUserInfo")
            .await
            .expect("info")["title"],
        json!("Operator")
    );

    let display = app.uniq("JumpCloud Ops");
    let gid = app
        .post(
            "/scim/v2/Groups",
            fixture("jumpcloud/create_group.json", &[("displayName", &display)]),
        )
        .expect(201)
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "add", "path": "members", "value": [{"value": uid}, {"value": bid}]}])),
    )
    .await;
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "remove", "path": "members", "value": [{"value": uid}]}])),
    )
    .await;
    assert_eq!(members(&app, &gid).await, vec![bid.clone()]);
    assert!(app.groups_of(&user_urn(&un)).await.is_empty());
    assert_eq!(
        app.groups_of(&user_urn(&buddy)).await,
        vec![group_urn(&display)]
    );

    patch_ok(
        &app,
        &user_path(&uid),
        patch(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await;
    assert_user(&app, &un, &un, "SUSPENDED").await;
    app.delete(&user_path(&uid)).expect(204).await;
    app.delete(&group_path(&gid)).expect(204).await;
    assert!(app.groups_of(&user_urn(&buddy)).await.is_empty());
    app.shutdown().await;
}
