//! What IdPs and conformance suites still tripped over (issue 10): group
//! `externalId`, members' `display`, `PATCH remove` of optional attributes, and
//! DataHub roles from the IdP (`--idp-roles`). Renames are in `renames.rs`.

use http::Method;
use serde_json::{json, Value};

use crate::fixture;
use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::flows::*;
use crate::support::scim::*;

// === Group externalId ===

/// Entra creates a group with its object id as `externalId`, reads it back, and
/// matches groups by `externalId eq` (on any replica); a `Replace externalId` moves
/// the match. DataHub keeps it where DataHub Cloud does:
/// `origin.externalType = SCIM_client_<externalId>`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_group_external_id_is_stored_returned_and_matched() {
    let app = TestApp::builder().gateways(2).spawn().await;
    let display = app.uniq("Entra Sales");
    let ext = uuid::Uuid::new_v4().to_string();
    let body = fixture(
        "entra/create_group.json",
        &[("displayName", &display), ("externalId", &ext)],
    );
    let g = app.post("/scim/v2/Groups", body).expect(201).await;
    assert_group_shape(&g);
    assert_eq!(g["externalId"], json!(ext));
    let gid = g["id"].as_str().expect("id").to_owned();
    let q = format!("/scim/v2/Groups/{gid}?excludedAttributes=members");
    assert_eq!(app.get(&q).expect(200).await["externalId"], json!(ext));
    let origin = app
        .aspect(&group_urn(&display), "origin")
        .await
        .expect("origin");
    assert_eq!(
        origin,
        json!({"type": "EXTERNAL", "externalType": format!("SCIM_client_{ext}")})
    );
    // Entra's matching query, on the replica that wrote and on one that did not.
    for gw in [0, 1] {
        let f = enc_plus(&format!("externalId eq \"{ext}\""));
        let l = app
            .on(
                gw,
                Method::GET,
                &format!("/scim/v2/Groups?excludedAttributes=members&filter={f}"),
                None,
            )
            .expect(200)
            .await;
        let res = assert_list(&l, 1);
        assert_eq!(ids(&res), vec![gid.clone()], "replica {gw}: {l}");
        assert_eq!(res[0]["externalId"], json!(ext));
        assert!(res[0].get("members").is_none());
    }
    // The group is still ours: a second create is 409, members and renames work.
    let again = fixture(
        "entra/create_group.json",
        &[("displayName", &display), ("externalId", &ext)],
    );
    app.post("/scim/v2/Groups", again).expect(409).await;
    let new_ext = uuid::Uuid::new_v4().to_string();
    let upd = patch(
        json!([{"op": "Replace", "path": "externalId", "value": new_ext},
                           {"op": "Replace", "path": "displayName", "value": format!("{display} 2")}]),
    );
    patch_ok(&app, &group_path(&gid), upd).await;
    for (value, want) in [(&ext, 0), (&new_ext, 1)] {
        let f = enc(&format!("externalId eq \"{value}\""));
        let l = app
            .on(1, Method::GET, &format!("/scim/v2/Groups?filter={f}"), None)
            .expect(200)
            .await;
        assert_eq!(l["totalResults"], json!(want), "{value}: {l}");
    }
    let g = app.get(&group_path(&gid)).expect(200).await;
    assert_eq!(g["externalId"], json!(new_ext));
    assert_eq!(g["displayName"], json!(format!("{display} 2")));
    // RFC 7644 §3.5.2.2: removing it leaves it unassigned; the IdP name comes back.
    patch_ok(
        &app,
        &group_path(&gid),
        patch(json!([{"op": "Remove", "path": "externalId"}])),
    )
    .await;
    let g = app.get(&group_path(&gid)).expect(200).await;
    assert!(g.get("externalId").is_none(), "{g}");
    let origin = app
        .aspect(&group_urn(&display), "origin")
        .await
        .expect("origin");
    assert_eq!(origin["externalType"], json!("SCIM"));
    app.delete(&group_path(&gid)).expect(204).await;
    app.shutdown().await;
}

// === Members carry display ===

/// Members come back with the user's display name, read in the same relationships
/// request that lists them: a GET of a group costs what it did (1 read + 1 rel).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_members_carry_display_without_extra_calls() {
    let app = TestApp::spawn().await;
    let jane = app.uniq("jane.display");
    let jid = create_user(&app, &jane).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // A user without displayName shows its full name (name.formatted).
    let bare = app.uniq("bare.display");
    let body = json!({"schemas": [USER_SCHEMA], "userName": bare,
                      "name": {"givenName": "Bare", "familyName": "Bones"}});
    let bid = app.post("/scim/v2/Users", body).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let display = app.uniq("Displayed");
    let gid = create_group(&app, &display).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Okta's membership PATCH (idp-scim-clients.md §2.9): members with `display`.
    let add = patch(json!([{"op": "add", "path": "members", "value": [
        {"value": jid, "display": jane}, {"value": bid, "display": bare}]}]));
    patch_ok(&app, &group_path(&gid), add).await;
    let emu = app.emu();
    if let Some(e) = emu {
        e.reset_calls();
    }
    let g = app.get(&group_path(&gid)).expect(200).await;
    if let Some(e) = emu {
        let c = e.call_counts();
        assert_eq!(c.get("restli.entitiesV2.batchGet"), Some(&1), "{c:?}");
        assert_eq!(c.get("graphql.corpGroup"), Some(&1), "{c:?}");
        assert_eq!(c.values().sum::<u64>(), 2, "{c:?}");
    }
    let by_id = |id: &str| {
        g["members"]
            .as_array()
            .expect("members")
            .iter()
            .find(|m| m["value"] == json!(id))
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(
        by_id(&jid)["display"],
        json!(format!("{jane} display")),
        "{g}"
    );
    assert_eq!(by_id(&bid)["display"], json!("Bare Bones"), "{g}");
    assert_eq!(by_id(&jid)["type"], json!("User"));
    // The import page (one aliased request for every group's members) carries them too.
    let f = enc(&format!("displayName eq \"{display}\""));
    let l = app
        .get(&format!("/scim/v2/Groups?filter={f}"))
        .expect(200)
        .await;
    assert_eq!(assert_list(&l, 1)[0]["members"], g["members"]);
    let l = app
        .get("/scim/v2/Groups?startIndex=1&count=100")
        .expect(200)
        .await;
    let listed = assert_list(&l, 1)
        .into_iter()
        .find(|r| r["id"] == json!(gid))
        .expect("listed");
    assert_eq!(listed["members"], g["members"]);
    app.shutdown().await;
}

// === PATCH remove of optional attributes ===

/// RFC 7644 §3.5.2.2: a removed attribute is unassigned. Entra removes attributes
/// that became empty one by one (`Remove` with a path); the RFC's own example removes
/// filtered `emails`. GET agrees, and DataHub's fields are cleared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_remove_leaves_optional_attributes_unassigned() {
    let app = TestApp::spawn().await;
    let un = app.uniq("removals@example.com");
    let mgr = app.uniq("boss@example.com");
    let mid = create_user(&app, &mgr).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let body = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": un, "externalId": "ext-removals", "title": "Engineer",
        "displayName": "Remo Vals", "nickName": "remo",
        "name": {"givenName": "Remo", "familyName": "Vals", "middleName": "M"},
        "emails": [{"value": "remo@example.com", "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
        ENTERPRISE: {"department": "R&D", "employeeNumber": "42", "manager": {"value": mid}}
    });
    let id = app.post("/scim/v2/Users", body).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let urn = user_urn(&un);
    patch_ok(
        &app,
        &user_path(&id),
        fixture("entra/remove_attributes.json", &[]),
    )
    .await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_user_shape(&u);
    for gone in ["title", "displayName", "phoneNumbers"] {
        assert!(u.get(gone).is_none(), "{gone} unassigned: {u}");
    }
    assert!(u["name"].get("givenName").is_none(), "{u}");
    assert_eq!(u["name"]["familyName"], json!("Vals"));
    assert_eq!(u["name"]["middleName"], json!("M"));
    assert_eq!(
        u["name"]["formatted"],
        json!("Vals"),
        "the derived full name follows"
    );
    for gone in ["department", "employeeNumber", "manager"] {
        assert!(u[ENTERPRISE].get(gone).is_none(), "{gone}: {u}");
    }
    let info = app.aspect(&urn, "corpUserInfo").await.expect("info");
    for gone in [
        "title",
        "displayName",
        "firstName",
        "departmentName",
        "managerUrn",
    ] {
        assert!(
            info.get(gone).is_none(),
            "{gone} cleared in DataHub: {info}"
        );
    }
    assert_eq!(info["fullName"], json!("Vals"));
    assert!(info["customProperties"]
        .get("scim.enterprise.employeeNumber")
        .is_none());
    assert!(info["customProperties"].get("scim.phoneNumbers").is_none());

    // RFC 7644 §3.5.2.2's example: remove the work emails ending in example.com.
    patch_ok(
        &app,
        &user_path(&id),
        fixture("rfc/7644-3.5.2.2-remove-work-emails.json", &[]),
    )
    .await;
    let u = app.get(&user_path(&id)).expect(200).await;
    assert!(u.get("emails").is_none(), "{u}");
    assert!(app
        .aspect(&urn, "corpUserInfo")
        .await
        .expect("info")
        .get("email")
        .is_none());
    // Whole complex and simple attributes, and the externalId (no longer matched).
    let rm = patch(
        json!([{"op": "remove", "path": "name"}, {"op": "remove", "path": "nickName"},
                          {"op": "remove", "path": "externalId"}]),
    );
    patch_ok(&app, &user_path(&id), rm).await;
    let u = app.get(&user_path(&id)).expect(200).await;
    for gone in ["name", "nickName", "externalId"] {
        assert!(u.get(gone).is_none(), "{gone}: {u}");
    }
    let info = app.aspect(&urn, "corpUserInfo").await.expect("info");
    assert!(
        info.get("fullName").is_none() && info.get("lastName").is_none(),
        "{info}"
    );
    let f = enc("externalId eq \"ext-removals\"");
    assert_empty_list(
        &app.get(&format!("/scim/v2/Users?filter={f}"))
            .expect(200)
            .await,
    );
    assert_eq!(u["userName"], json!(un), "userName is required and stays");
    app.shutdown().await;
}

/// Removing `active` leaves it unassigned, which for DataHub (whose users always have
/// a status) is the default a user created without it gets: active. GET agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_remove_active_is_the_default_active() {
    let app = TestApp::spawn().await;
    let un = app.uniq("inactive@example.com");
    let id = create_user(&app, &un).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    // Entra's disable (legacy dialect), then the RFC's remove.
    let off = patch(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    patch_ok(&app, &user_path(&id), off).await;
    assert_eq!(
        app.user_status(&user_urn(&un)).await.as_deref(),
        Some("SUSPENDED")
    );
    let rm = patch(json!([{"op": "remove", "path": "active"}]));
    let u = patch_ok(&app, &user_path(&id), rm)
        .await
        .expect("200 with the user");
    assert_eq!(u["active"], json!(true));
    assert_eq!(
        app.get(&user_path(&id)).expect(200).await["active"],
        json!(true)
    );
    assert_eq!(
        app.user_status(&user_urn(&un)).await.as_deref(),
        Some("ACTIVE")
    );
    let info = app
        .aspect(&user_urn(&un), "corpUserInfo")
        .await
        .expect("info");
    assert_eq!(info["active"], json!(true));
    // A PUT without `active` still means "not asserted": the state is kept.
    let off = patch(json!([{"op": "replace", "path": "active", "value": false}]));
    patch_ok(&app, &user_path(&id), off).await;
    let mut u = app.get(&user_path(&id)).expect(200).await;
    u.as_object_mut().expect("object").remove("active");
    let u = app.put(&user_path(&id), u).expect(200).await;
    assert_eq!(u["active"], json!(false));
    app.shutdown().await;
}

// === DataHub roles from the IdP ===

async fn roles_of(app: &TestApp, un: &str) -> Option<Value> {
    app.aspect(&user_urn(un), "roleMembership")
        .await
        .map(|r| r["roles"].clone())
}

/// Off by default: roles the IdP sends are kept as SCIM attributes, never written to
/// DataHub's `roleMembership`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_roles_are_off_by_default() {
    let app = TestApp::spawn().await;
    let un = app.uniq("norole@okta.local");
    let body = fixture(
        "okta/create_user_with_role.json",
        &[
            ("userName", &un),
            ("externalId", "00unorole"),
            ("role", "Admin"),
        ],
    );
    let u = app.post("/scim/v2/Users", body).expect(201).await;
    assert_eq!(u["roles"], json!([{"primary": true, "value": "Admin"}]));
    assert_eq!(roles_of(&app, &un).await, None);
    app.shutdown().await;
}

/// `--idp-roles`: Okta's `roles.^[primary==true].value` and Entra's
/// `roles[primary eq "True"].value` set the user's one DataHub role; an unknown one is
/// `400 invalidValue` naming the allowed ones; the IdP owns the role it sets (a role
/// an admin gives in DataHub is replaced by its next write that carries one, and taken
/// back when it stops sending one), and leaves alone the roles of users it never
/// sent one for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_roles_set_replace_and_take_back_datahub_roles() {
    let app = TestApp::builder()
        .config("DATAHUB_SCIM_IDP_ROLES", "true")
        .spawn()
        .await;
    let role = |r: &str| json!([format!("urn:li:dataHubRole:{r}")]);
    // Okta: create with Reader, AIW PUT with Editor.
    let un = app.uniq("okta.role@okta.local");
    let body = fixture(
        "okta/create_user_with_role.json",
        &[
            ("userName", &un),
            ("externalId", "00urole1"),
            ("role", "Reader"),
        ],
    );
    let id = app.post("/scim/v2/Users", body).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(roles_of(&app, &un).await, Some(role("Reader")));
    let mut u = app.get(&user_path(&id)).expect(200).await;
    u["roles"] = json!([{"primary": true, "value": "Editor"}]);
    app.put(&user_path(&id), u.clone()).expect(200).await;
    assert_eq!(roles_of(&app, &un).await, Some(role("Editor")));
    // An admin makes the user Admin in DataHub; Okta's next push says Editor: Editor.
    app.put_aspect(
        &user_urn(&un),
        "roleMembership",
        json!({"roles": ["urn:li:dataHubRole:Admin"]}),
    )
    .await;
    app.put(&user_path(&id), u.clone()).expect(200).await;
    assert_eq!(roles_of(&app, &un).await, Some(role("Editor")));
    // Unknown roles are refused clearly, and nothing is written.
    u["roles"] = json!([{"primary": true, "value": "Owner"}]);
    u["title"] = json!("Not written");
    let e = app.put(&user_path(&id), u.clone()).expect(400).await;
    assert_error(&e, 400, Some("invalidValue"));
    let detail = e["detail"].as_str().expect("detail");
    assert!(
        detail.contains("Owner") && detail.contains("Admin, Editor, Reader"),
        "{detail}"
    );
    assert!(app
        .get(&user_path(&id))
        .expect(200)
        .await
        .get("title")
        .is_none());
    // Okta stops sending the role: the one it set is taken back.
    u.as_object_mut().expect("object").remove("roles");
    u.as_object_mut().expect("object").remove("title");
    app.put(&user_path(&id), u).expect(200).await;
    assert_eq!(roles_of(&app, &un).await, Some(json!([])));

    // Entra: create with Admin (`"primary": "True"`), then its role mapping's PATCH.
    let un = app.uniq("entra.role@contoso.com");
    let body = fixture(
        "entra/create_user_with_role.json",
        &[
            ("userName", &un),
            ("externalId", "e-role"),
            ("role", "Admin"),
        ],
    );
    let id = app.post("/scim/v2/Users", body).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(roles_of(&app, &un).await, Some(role("Admin")));
    for (op, r) in [("Replace", "Reader"), ("Add", "editor")] {
        let p = fixture("entra/set_role.json", &[("op", op), ("role", r)]);
        patch_ok(&app, &user_path(&id), p).await;
    }
    assert_eq!(roles_of(&app, &un).await, Some(role("Editor")));
    let u = app.get(&user_path(&id)).expect(200).await;
    assert_eq!(
        u["roles"].as_array().map(Vec::len),
        Some(1),
        "one primary role: {u}"
    );
    let rm = patch(json!([{"op": "Remove", "path": "roles[primary eq \"True\"].value"}]));
    patch_ok(&app, &user_path(&id), rm).await;
    assert_eq!(roles_of(&app, &un).await, Some(json!([])));

    // A user the IdP never sent a role for keeps the one given in DataHub.
    let un = app.uniq("datahub.role@okta.local");
    let id = create_user(&app, &un).await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.put_aspect(
        &user_urn(&un),
        "roleMembership",
        json!({"roles": ["urn:li:dataHubRole:Admin"]}),
    )
    .await;
    let mut u = app.get(&user_path(&id)).expect(200).await;
    u["title"] = json!("Changed");
    app.put(&user_path(&id), u).expect(200).await;
    assert_eq!(roles_of(&app, &un).await, Some(role("Admin")));
    app.shutdown().await;
}

/// Assigning roles is what DataHub guards with Manage Policies (`batchAssignRole`): a
/// token whose user may manage users and groups but not policies gets `403` for a
/// role change, and everything else still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idp_roles_need_manage_policies() {
    let app = TestApp::builder()
        .config("DATAHUB_SCIM_IDP_ROLES", "true")
        .spawn()
        .await;
    let emu = require_emulator!(app);
    let token = emu.create_user_token("scim-bot", false);
    emu.grant("scim-bot", &["MANAGE_USERS_AND_GROUPS"]);
    let un = app.uniq("guarded@okta.local");
    let body = fixture(
        "okta/create_user_with_role.json",
        &[
            ("userName", &un),
            ("externalId", "00uguard"),
            ("role", "Admin"),
        ],
    );
    let e = app
        .post("/scim/v2/Users", body)
        .token(&token)
        .expect(403)
        .await;
    assert_error(&e, 403, None);
    assert!(
        e["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Manage Policies")),
        "{e}"
    );
    assert!(!app.exists(&user_urn(&un)).await, "nothing written");
    let body = fixture(
        "okta/create_user.json",
        &[("userName", &un), ("externalId", "00uguard")],
    );
    app.post("/scim/v2/Users", body)
        .token(&token)
        .expect(201)
        .await;
    app.shutdown().await;
}
