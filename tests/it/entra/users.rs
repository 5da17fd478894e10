//! Entra users: test connection, create, the legacy and `aadOptscim062020` PATCH
//! dialects, manager, disable/enable, hard delete and re-hire.

use crate::fixture;
use crate::harness::{keys, TestApp};
use crate::support::datahub::assert_user;
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::{json, Value};

use super::{entra_create, entra_lookup, guid, FLAG};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_test_connection_finds_nothing() {
    let app = TestApp::spawn().await;
    assert!(entra_lookup(&app, &guid(), false).await.is_empty());
    let v = app
        .get(&format!(
            "/scim/v2/Users?filter={}",
            enc_plus(&format!("userName eq \"{}\"", guid()))
        ))
        .expect(200)
        .await;
    assert_empty_list(&v);
    let f = enc_plus(&format!("displayName eq \"{}\"", guid()));
    let v = app
        .get(&format!(
            "/scim/v2/Groups?excludedAttributes=members&filter={f}"
        ))
        .expect(200)
        .await;
    assert_empty_list(&v);
    // The keep-alive with the flag on the URL behaves the same.
    assert!(entra_lookup(&app, &guid(), true).await.is_empty());
    app.shutdown().await;
}

/// Create, then the legacy dialect: capitalised ops, filtered email path, enterprise
/// department Add, manager Add (bare string) / Remove, "False"/"True" strings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_user_lifecycle_legacy_dialect() {
    let app = TestApp::spawn().await;
    let un = app.uniq("Test_User_legacy");
    let mgr = app.uniq("Test_User_manager");
    let (id, ext) = entra_create(&app, &un).await;
    let (mid, _) = entra_create(&app, &mgr).await;

    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["email"], json!(format!("{un}@testuser.com")));
    assert_eq!(info["firstName"], json!("givenName"));
    assert_eq!(info["lastName"], json!("familyName"));
    assert_eq!(info["customProperties"]["scim.externalId"], json!(ext));
    assert_eq!(ids(&entra_lookup(&app, &un, false).await), vec![id.clone()]);

    // Profile update, one operation per attribute.
    let upd = patch(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@contoso.com"},
        {"op": "Replace", "path": "name.familyName", "value": "NewName"},
        {"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Retail"}]));
    patch_ok(&app, &user_path(&id), upd).await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_user_shape(&u);
    let work: Vec<&Value> = u["emails"]
        .as_array()
        .expect("emails")
        .iter()
        .filter(|e| e["type"] == "work")
        .collect();
    assert_eq!(work.len(), 1, "{u}");
    assert_eq!(work[0]["value"], json!("new@contoso.com"));
    assert_eq!(u["name"]["familyName"], json!("NewName"));
    assert_eq!(
        u["name"]["givenName"],
        json!("givenName"),
        "other sub-attributes kept"
    );
    assert_eq!(u[ENTERPRISE]["department"], json!("Retail"));
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["email"], json!("new@contoso.com"));
    assert_eq!(info["lastName"], json!("NewName"));
    assert_eq!(
        info["departmentName"],
        json!("Retail"),
        "department has a DataHub field"
    );

    // Manager: sent as a bare string, returned as an object.
    let add_mgr =
        patch(json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"), "value": mid}]));
    patch_ok(&app, &user_path(&id), add_mgr).await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_user_shape(&u);
    assert_eq!(
        u[ENTERPRISE]["manager"]["value"],
        json!(mid),
        "manager comes back as {{\"value\": id}}: {u}"
    );
    let info = app
        .aspect(&user_urn(&un), "corpUserInfo")
        .await
        .expect("info");
    assert_eq!(
        info["managerUrn"],
        json!(user_urn(&mgr)),
        "manager has a DataHub field"
    );
    let rm_mgr = patch(json!([{"op": "Remove", "path": format!("{ENTERPRISE}:manager")}]));
    patch_ok(&app, &user_path(&id), rm_mgr).await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert!(u[ENTERPRISE]["manager"].is_null(), "manager removed: {u}");
    assert_eq!(
        u[ENTERPRISE]["department"],
        json!("Retail"),
        "removing manager keeps department"
    );
    let info = app
        .aspect(&user_urn(&un), "corpUserInfo")
        .await
        .expect("info");
    assert!(info.get("managerUrn").is_none(), "{info}");

    // Disable with the string "False"; still readable and found; enable with "True".
    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "Replace", "path": "active", "value": "False"}])),
    )
    .await;
    assert_user(&app, &un, &un, "SUSPENDED").await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(u["active"], json!(false), "active is a JSON boolean");
    assert_eq!(
        entra_lookup(&app, &un, false).await[0]["active"],
        json!(false)
    );
    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "Replace", "path": "active", "value": "True"}])),
    )
    .await;
    assert_user(&app, &un, &un, "ACTIVE").await;
    // Some tenants send lower-case strings.
    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "Replace", "path": "active", "value": "false"}])),
    )
    .await;
    assert_user(&app, &un, &un, "SUSPENDED").await;
    patch_ok(
        &app,
        &user_path(&id),
        patch(json!([{"op": "Replace", "path": "active", "value": "true"}])),
    )
    .await;
    assert_user(&app, &un, &un, "ACTIVE").await;
    app.shutdown().await;
}

/// With `aadOptscim062020` on the URL: lowercase ops, boolean active, pathless replace
/// with dotted and URN keys, filtered member removal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_flag_dialect() {
    let app = TestApp::spawn().await;
    let un = app.uniq("Test_User_flag");
    let other = app.uniq("Test_User_other");
    let (id, _) = entra_create(&app, &un).await;
    let (oid, _) = entra_create(&app, &other).await;
    assert_eq!(ids(&entra_lookup(&app, &un, true).await), vec![id.clone()]);

    let upd = patch(json!([{"op": "replace", "value": {
        "displayName": "Bjfe",
        "name.givenName": "Kkom",
        "name.familyName": "Unua",
        format!("{ENTERPRISE}:employeeNumber"): "Aklq"}}]));
    patch_ok(&app, &format!("{}?{FLAG}", user_path(&id)), upd).await;
    let u = app
        .get(&format!("{}?{FLAG}", user_path(&id)))
        .expect(200)
        .await;
    assert_user_shape(&u);
    assert_eq!(u["displayName"], json!("Bjfe"));
    assert_eq!(u["name"]["givenName"], json!("Kkom"));
    assert_eq!(u["name"]["familyName"], json!("Unua"));
    assert_eq!(u[ENTERPRISE]["employeeNumber"], json!("Aklq"));
    for literal in [
        "name.givenName",
        "name.familyName",
        &format!("{ENTERPRISE}:employeeNumber"),
    ] {
        assert!(
            u.get(literal).is_none(),
            "dotted/URN key {literal} stored literally: {u}"
        );
    }
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["displayName"], json!("Bjfe"));
    assert_eq!(info["firstName"], json!("Kkom"));
    assert_eq!(info["lastName"], json!("Unua"));
    let props = info["customProperties"]
        .as_object()
        .expect("customProperties");
    assert!(
        props.keys().all(|k| !k.contains("name.givenName")),
        "{info}"
    );
    assert!(
        props.values().any(|v| v == "Aklq"),
        "employeeNumber has no DataHub field: kept under scim.*: {info}"
    );

    // Pathless add with dotted keys works too.
    let add =
        patch(json!([{"op": "add", "value": {"title": "Engineer", "name.givenName": "Kkom2"}}]));
    patch_ok(&app, &format!("{}?{FLAG}", user_path(&id)), add).await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(u["title"], json!("Engineer"));
    assert_eq!(u["name"]["givenName"], json!("Kkom2"));
    assert_eq!(
        app.aspect(&user_urn(&un), "corpUserInfo")
            .await
            .expect("info")["title"],
        json!("Engineer")
    );

    // Boolean active.
    patch_ok(
        &app,
        &format!("{}?{FLAG}", user_path(&id)),
        patch(json!([{"op": "replace", "path": "active", "value": false}])),
    )
    .await;
    assert_user(&app, &un, &un, "SUSPENDED").await;
    patch_ok(
        &app,
        &format!("{}?{FLAG}", user_path(&id)),
        patch(json!([{"op": "replace", "path": "active", "value": true}])),
    )
    .await;
    assert_user(&app, &un, &un, "ACTIVE").await;

    // Groups: add two, remove one by filter path.
    let display = app.uniq("Flag Group");
    let g = app
        .post(
            &format!("/scim/v2/Groups?{FLAG}"),
            fixture(
                "entra/create_group.json",
                &[("displayName", &display), ("externalId", &guid())],
            ),
        )
        .expect(201)
        .await;
    let gid = g["id"].as_str().expect("id").to_owned();
    let add =
        patch(json!([{"op": "add", "path": "members", "value": [{"value": id}, {"value": oid}]}]));
    patch_ok(&app, &format!("{}?{FLAG}", group_path(&gid)), add).await;
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[id.clone(), oid.clone()])
    );
    let rm = patch(json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]));
    patch_ok(&app, &format!("{}?{FLAG}", group_path(&gid)), rm).await;
    assert_eq!(members(&app, &gid).await, vec![oid.clone()]);
    assert!(app.groups_of(&user_urn(&un)).await.is_empty());
    assert_eq!(
        app.groups_of(&user_urn(&other)).await,
        vec![group_urn(&display)]
    );
    app.shutdown().await;
}

/// Legacy `Add` on `emails[type eq "work"].value` when the user has no work email
/// creates the entry (idp-scim-clients.md §3.4), and `Replace displayName` on a user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_add_creates_a_missing_work_email() {
    let app = TestApp::spawn().await;
    let un = app.uniq("no.mail@contoso.com");
    let body = json!({"schemas": [USER_SCHEMA, ENTERPRISE], "externalId": guid(), "userName": un,
        "active": true, "name": {"givenName": "No", "familyName": "Mail"}, "roles": []});
    let id = app.post("/scim/v2/Users", body).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let add = patch(json!([
        {"op": "Add", "path": "emails[type eq \"work\"].value", "value": "found@contoso.com"},
        {"op": "Replace", "path": "displayName", "value": "Found Mail"}]));
    patch_ok(&app, &user_path(&id), add).await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_user_shape(&u);
    let emails = u["emails"].as_array().expect("emails");
    assert_eq!(emails.len(), 1, "{u}");
    assert_eq!(emails[0]["type"], json!("work"));
    assert_eq!(emails[0]["value"], json!("found@contoso.com"));
    assert_eq!(u["displayName"], json!("Found Mail"));
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["email"], json!("found@contoso.com"));
    assert_eq!(info["displayName"], json!("Found Mail"));
    app.shutdown().await;
}

/// Hard delete in Entra: 204, then gone for SCIM; a re-hire with the same userName is
/// a fresh 201, not a 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_delete_then_rehire() {
    let app = TestApp::spawn().await;
    let un = app.uniq("leaver@contoso.com");
    let urn = user_urn(&un);
    let (id, _) = entra_create(&app, &un).await;
    let display = app.uniq("Leavers");
    let gid = create_group(&app, &display).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "Add", "path": "members", "value": [{"value": id}]}])),
    )
    .await;

    let resp = app.delete(&user_path(&id)).send().await;
    assert_eq!(resp.status, 204, "{}", String::from_utf8_lossy(&resp.body));
    assert!(resp.body.is_empty());
    let e = app.get(&user_path(&id)).expect(404).await;
    assert_error(&e, 404, None);
    assert!(
        entra_lookup(&app, &un, false).await.is_empty(),
        "filters skip deleted users"
    );
    assert!(
        !members(&app, &gid).await.contains(&id),
        "a deleted user is no member"
    );
    app.delete(&user_path(&id)).expect(404).await;
    // DataHub: soft delete by default: removed + SUSPENDED, kept.
    if app.exists(&urn).await {
        assert!(
            app.removed(&urn).await,
            "soft-deleted user has status.removed = true"
        );
        assert_eq!(app.user_status(&urn).await.as_deref(), Some("SUSPENDED"));
    }

    // Re-hired and re-assigned.
    let (id2, _) = entra_create(&app, &un).await;
    assert_eq!(id2, id, "the id derives from the username");
    let info = assert_user(&app, &un, &un, "ACTIVE").await;
    assert_eq!(info["email"], json!(format!("{un}@testuser.com")));
    assert_eq!(
        app.get(&user_path(&id)).expect(200).await["active"],
        json!(true)
    );
    assert_eq!(ids(&entra_lookup(&app, &un, false).await), vec![id.clone()]);
    app.shutdown().await;
}

/// With `DATAHUB_SCIM_USER_DELETE=hard` the user entity is deleted in DataHub; the
/// re-hire is again a fresh 201.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_hard_delete_policy() {
    let app = TestApp::builder()
        .config(keys::USER_DELETE, "hard")
        .spawn()
        .await;
    let un = app.uniq("hard.leaver@contoso.com");
    let urn = user_urn(&un);
    let (id, _) = entra_create(&app, &un).await;
    app.delete(&user_path(&id)).expect(204).await;
    app.get(&user_path(&id)).expect(404).await;
    assert!(
        !app.exists(&urn).await,
        "hard delete removes the key aspect"
    );
    assert!(app.aspect(&urn, "corpUserInfo").await.is_none());
    assert!(entra_lookup(&app, &un, false).await.is_empty());
    app.delete(&user_path(&id)).expect(404).await;
    let (id2, _) = entra_create(&app, &un).await;
    assert_eq!(id2, id);
    assert_user(&app, &un, &un, "ACTIVE").await;
    app.shutdown().await;
}

/// An older Entra document sends the manager as `[{"$ref": …, "value": …}]`; it must set
/// the same manager as the bare string form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_manager_as_a_reference_list() {
    let app = TestApp::spawn().await;
    let un = app.uniq("Test_User_mgr_list");
    let mgr = app.uniq("Test_User_mgr_boss");
    let (id, _) = entra_create(&app, &un).await;
    let (mid, _) = entra_create(&app, &mgr).await;
    let add = patch(
        json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"),
        "value": [{"$ref": format!("../Users/{mid}"), "value": mid}]}]),
    );
    patch_ok(&app, &user_path(&id), add).await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(u[ENTERPRISE]["manager"]["value"], json!(mid), "{u}");
    assert_eq!(
        app.aspect(&user_urn(&un), "corpUserInfo")
            .await
            .expect("info")["managerUrn"],
        json!(user_urn(&mgr))
    );
    app.shutdown().await;
}
