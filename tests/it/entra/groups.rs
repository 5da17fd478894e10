//! Entra groups: create without members, match with `excludedAttributes=members`,
//! `$ref: null` member lists, rename, delete, and `externalId` matching.

use crate::fixture;
use crate::harness::TestApp;
use crate::support::datahub::assert_group;
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::json;

use super::{entra_create, guid};

/// Group lifecycle: create without members (vendor schema URN listed), match with
/// `excludedAttributes=members`, Add/Remove with `$ref: null` lists, rename, delete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_group_lifecycle() {
    let app = TestApp::spawn().await;
    let display = app.uniq("Sales");
    let f = enc_plus(&format!("displayName eq \"{display}\""));
    let v = app
        .get(&format!(
            "/scim/v2/Groups?excludedAttributes=members&filter={f}"
        ))
        .expect(200)
        .await;
    assert_empty_list(&v);

    let ext = guid();
    let g = app
        .post(
            "/scim/v2/Groups",
            fixture(
                "entra/create_group.json",
                &[("displayName", &display), ("externalId", &ext)],
            ),
        )
        .expect(201)
        .await;
    assert_group_shape(&g);
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(gid, group_id(&display));
    assert_eq!(g["displayName"], json!(display));
    assert_group(&app, &display).await;

    let v = app
        .get(&format!(
            "/scim/v2/Groups?excludedAttributes=members&filter={f}"
        ))
        .expect(200)
        .await;
    let found = assert_list(&v, 1);
    assert_eq!(ids(&found), vec![gid.clone()]);
    assert!(
        found[0].get("members").is_none(),
        "excludedAttributes=members: {v}"
    );
    let one = app
        .get(&format!("{}?excludedAttributes=members", group_path(&gid)))
        .expect(200)
        .await;
    assert!(one.get("members").is_none(), "{one}");
    assert_eq!(one["displayName"], json!(display));

    let mut uid = Vec::new();
    let mut names = Vec::new();
    for n in ["alice", "bert", "carl"] {
        let un = app.uniq(&format!("{n}@contoso.com"));
        uid.push(entra_create(&app, &un).await.0);
        names.push(un);
    }
    let add = patch(json!([{"op": "Add", "path": "members", "value": [
        {"$ref": null, "value": uid[0]}, {"$ref": null, "value": uid[1]}, {"$ref": null, "value": uid[2]}]}]));
    patch_ok(&app, &group_path(&gid), add).await;
    assert_eq!(members(&app, &gid).await, sorted(&uid));
    for n in &names {
        assert_eq!(app.groups_of(&user_urn(n)).await, vec![group_urn(&display)]);
    }
    // Adding a member again does not duplicate it.
    let again = patch(
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": uid[0]}]}]),
    );
    patch_ok(&app, &group_path(&gid), again).await;
    assert_eq!(members(&app, &gid).await, sorted(&uid));
    assert_eq!(
        app.groups_of(&user_urn(&names[0])).await,
        vec![group_urn(&display)]
    );
    // Remove with a value list removes only the listed member.
    let rm = patch(
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": uid[0]}]}]),
    );
    patch_ok(&app, &group_path(&gid), rm).await;
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[uid[1].clone(), uid[2].clone()])
    );
    assert!(app.groups_of(&user_urn(&names[0])).await.is_empty());
    assert_eq!(
        app.groups_of(&user_urn(&names[1])).await,
        vec![group_urn(&display)]
    );

    // Rename.
    let renamed = format!("{display} EMEA");
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "Replace", "path": "displayName", "value": renamed}])),
    )
    .await;
    let got = app.get(&group_path(&gid)).expect(200).await;
    assert_eq!(got["displayName"], json!(renamed));
    assert_eq!(member_ids(&got), sorted(&[uid[1].clone(), uid[2].clone()]));
    assert_eq!(
        app.aspect(&group_urn(&display), "corpGroupInfo")
            .await
            .expect("info")["displayName"],
        json!(renamed)
    );

    // Delete.
    app.delete(&group_path(&gid)).expect(204).await;
    app.get(&group_path(&gid)).expect(404).await;
    assert!(app.groups_of(&user_urn(&names[1])).await.is_empty());
    assert!(app.groups_of(&user_urn(&names[2])).await.is_empty());
    app.shutdown().await;
}

/// Entra's matching attribute may be `externalId` (idp-scim-clients.md §3.4): the filter
/// finds a user at once, also through a lagging index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_match_users_by_external_id() {
    let app = TestApp::builder()
        .index_lag(std::time::Duration::from_secs(2))
        .spawn()
        .await;
    let un = app.uniq("Test_User_ext");
    let (id, ext) = entra_create(&app, &un).await;
    let f = enc_plus(&format!("externalId eq \"{ext}\""));
    let v = app
        .get(&format!("/scim/v2/Users?filter={f}"))
        .expect(200)
        .await;
    assert_eq!(
        ids(&assert_list(&v, 1)),
        vec![id.clone()],
        "externalId eq finds the user"
    );

    app.shutdown().await;
}

/// Groups keep the `externalId` Entra creates them with (§3.5: match by `externalId eq`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "product: POST /Groups echoes externalId but does not store it; GET and filters lose it (reported to the lead)"]
async fn entra_match_groups_by_external_id() {
    let app = TestApp::builder()
        .index_lag(std::time::Duration::from_secs(2))
        .spawn()
        .await;
    let display = app.uniq("Ext Group");
    let gext = guid();
    let g = app
        .post(
            "/scim/v2/Groups",
            fixture(
                "entra/create_group.json",
                &[("displayName", &display), ("externalId", &gext)],
            ),
        )
        .expect(201)
        .await;
    assert_eq!(g["externalId"], json!(gext), "groups echo externalId");
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.get(&group_path(&gid)).expect(200).await["externalId"],
        json!(gext)
    );
    let f = enc_plus(&format!("externalId eq \"{gext}\""));
    let v = app
        .get(&format!(
            "/scim/v2/Groups?excludedAttributes=members&filter={f}"
        ))
        .expect(200)
        .await;
    assert_eq!(
        ids(&assert_list(&v, 1)),
        vec![gid],
        "externalId eq finds the group"
    );
    app.shutdown().await;
}
