//! DataHub's own Okta guide (an AIW app: PUT for users and whole-list PUT for groups),
//! its four scenarios with group `governance-team` and users `john` and `sid`; the
//! admin-owned aspects (roles, native groups, editable info) that no sync may touch;
//! and SSO identity: adopting a user who already logged in, and the username regex.

use serde_json::{json, Value};

use crate::fixture;
use crate::harness::{keys, TestApp};
use crate::support::datahub::{assert_group, assert_user, snapshot};
use crate::support::flows::*;
use crate::support::scim::*;

/// Okta AIW: GET then PUT the whole user with `active` set.
async fn put_active(app: &TestApp, id: &str, active: bool) {
    let mut u = app.get(&user_path(id)).expect(200).await;
    u["active"] = json!(active);
    u["password"] = json!("kX9-placeholder");
    let r = app.put(&user_path(id), u).expect(200).await;
    assert_eq!(r["active"], json!(active));
}

/// Okta AIW group push: PUT with the complete member list.
async fn push_group(app: &TestApp, gid: &str, display: &str, members: &[(&str, &str)]) {
    let m: Vec<Value> = members
        .iter()
        .map(|(id, un)| json!({"value": id, "display": un}))
        .collect();
    app.put(
        &group_path(gid),
        json!({"schemas": [GROUP_SCHEMA], "id": gid, "displayName": display, "members": m}),
    )
    .expect(200)
    .await;
}

async fn assign(app: &TestApp, user_name: &str, first: &str) -> String {
    assert!(lookup_user(app, user_name).await.is_empty());
    let mut body = fixture(
        "okta/create_user.json",
        &[
            ("userName", user_name),
            ("externalId", &format!("00u{first}0000000000")),
        ],
    );
    body["name"]["givenName"] = json!(first);
    body["displayName"] = json!(format!("{first} User"));
    body["roles"] = json!([{"primary": true, "value": "Reader"}]);
    app.post("/scim/v2/Users", body).expect(201).await["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// The guide's four scenarios, with admin-given roles and policies surviving all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_guide_scenarios_and_admin_aspects_survive() {
    let app = TestApp::builder()
        .config(keys::IDP_NAME, "OKTA")
        .spawn()
        .await;
    let team = app.uniq("governance-team");
    let john = app.uniq("john");
    let sid = app.uniq("sid");
    let (gurn, jurn, surn) = (group_urn(&team), user_urn(&john), user_urn(&sid));

    // 1. Push the group.
    assert!(lookup_group(&app, &team).await.is_empty());
    let gid = app
        .post(
            "/scim/v2/Groups",
            fixture("okta/create_group.json", &[("displayName", &team)]),
        )
        .expect(201)
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(gurn, format!("urn:li:corpGroup:{team}"));
    assert_group(&app, &team).await;

    // 2. Assign the group to the app: both users are created, then the push lists them.
    let jid = assign(&app, &john, "John").await;
    let sid_id = assign(&app, &sid, "Sid").await;
    push_group(&app, &gid, &team, &[(&jid, &john), (&sid_id, &sid)]).await;
    for (un, urn, first) in [(&john, &jurn, "John"), (&sid, &surn, "Sid")] {
        let info = assert_user(&app, un, un, "ACTIVE").await;
        assert_eq!(info["firstName"], json!(first));
        assert_eq!(info["displayName"], json!(format!("{first} User")));
        // The guide's role attribute (`roles.^[primary==true].value`) round-trips in
        // SCIM; DataHub roles stay the admins' business (no roleMembership written).
        let u = app.get(&user_path(&user_id(un))).expect(200).await;
        assert_eq!(
            u["roles"],
            json!([{"primary": true, "value": "Reader"}]),
            "{u}"
        );
        assert!(app.aspect(urn, "roleMembership").await.is_none());
        assert_eq!(
            app.groups_of(urn).await,
            vec![gurn.clone()],
            "{un} in {team}"
        );
    }
    assert_eq!(
        members(&app, &gid).await,
        sorted(&[jid.clone(), sid_id.clone()])
    );
    for urn in [&gurn, &jurn, &surn] {
        let o = app.aspect(urn, "origin").await.expect("origin");
        assert_eq!(
            o,
            json!({"type": "EXTERNAL", "externalType": "OKTA"}),
            "{urn}: the configured IdP name"
        );
    }

    // Admins work inside DataHub: a role on the group and on john, a native group and
    // an edited profile on john.
    let role = json!({"roles": ["urn:li:dataHubRole:Editor"]});
    app.put_aspect(&gurn, "roleMembership", role.clone()).await;
    app.put_aspect(
        &jurn,
        "roleMembership",
        json!({"roles": ["urn:li:dataHubRole:Admin"]}),
    )
    .await;
    app.put_aspect(
        &jurn,
        "nativeGroupMembership",
        json!({"nativeGroups": ["urn:li:corpGroup:datahub-admins"]}),
    )
    .await;
    app.put_aspect(
        &jurn,
        "corpUserEditableInfo",
        json!({"aboutMe": "Owns the governance policies", "teams": ["governance"], "skills": ["sql"],
               "pictureLink": "assets/platforms/default_avatar.png", "slack": "@john", "title": "Data Governor"}),
    )
    .await;
    let admin_user = [
        "roleMembership",
        "nativeGroupMembership",
        "corpUserEditableInfo",
    ];
    let before_john = snapshot(&app, &jurn, &admin_user).await;
    let before_group = snapshot(
        &app,
        &gurn,
        &["roleMembership", "ownership", "corpGroupEditableInfo"],
    )
    .await;
    assert!(
        before_john.iter().all(|(_, v, _)| v.is_some()),
        "seeded: {before_john:?}"
    );

    // Another writer (an ingestion, an admin script) adds a customProperties key of its
    // own to john's corpUserInfo.
    let mut info = app.aspect(&jurn, "corpUserInfo").await.expect("info");
    info["customProperties"]["hr.costCenter"] = json!("CC-7");
    app.put_aspect(&jurn, "corpUserInfo", info).await;

    // A profile push and a keep-alive push change nothing the admins own.
    let mut u = app.get(&user_path(&jid)).expect(200).await;
    u["name"]["familyName"] = json!("Smith");
    app.put(&user_path(&jid), u).expect(200).await;
    let info = app.aspect(&jurn, "corpUserInfo").await.expect("info");
    assert_eq!(info["lastName"], json!("Smith"));
    assert_eq!(
        info["customProperties"]["hr.costCenter"],
        json!("CC-7"),
        "customProperties not ours are kept"
    );
    push_group(&app, &gid, &team, &[(&jid, &john), (&sid_id, &sid)]).await;

    // 3. John is removed from the assigned group: Okta deactivates john and pushes the
    // group without him.
    put_active(&app, &jid, false).await;
    push_group(&app, &gid, &team, &[(&sid_id, &sid)]).await;
    assert_user(&app, &john, &john, "SUSPENDED").await;
    assert!(app.groups_of(&jurn).await.is_empty(), "john left {team}");
    assert_eq!(app.groups_of(&surn).await, vec![gurn.clone()]);
    assert_eq!(
        app.get(&user_path(&jid)).expect(200).await["active"],
        json!(false)
    );
    assert_eq!(members(&app, &gid).await, vec![sid_id.clone()]);

    // 4. Sid is unassigned: Okta deactivates sid (a user PUT never touches membership).
    put_active(&app, &sid_id, false).await;
    assert_user(&app, &sid, &sid, "SUSPENDED").await;
    assert_eq!(
        app.groups_of(&surn).await,
        vec![gurn.clone()],
        "PUT /Users with groups: [] keeps membership"
    );

    // Re-assignment: lookup by userName, reactivate.
    assert_eq!(ids(&lookup_user(&app, &john).await), vec![jid.clone()]);
    put_active(&app, &jid, true).await;
    push_group(&app, &gid, &team, &[(&jid, &john), (&sid_id, &sid)]).await;
    assert_user(&app, &john, &john, "ACTIVE").await;
    assert_eq!(app.groups_of(&jurn).await, vec![gurn.clone()]);

    // Rename the group in Okta, then unlink and delete it.
    let renamed = format!("{team}-renamed");
    push_group(&app, &gid, &renamed, &[(&jid, &john)]).await;
    assert_eq!(
        app.aspect(&gurn, "corpGroupInfo").await.expect("info")["displayName"],
        json!(renamed)
    );
    app.delete(&group_path(&gid)).expect(204).await;

    assert_eq!(
        app.aspect(&jurn, "corpUserInfo").await.expect("info")["customProperties"]["hr.costCenter"],
        json!("CC-7"),
        "customProperties not ours survive every sync"
    );
    assert_eq!(
        snapshot(&app, &jurn, &admin_user).await,
        before_john,
        "john's admin-owned aspects untouched"
    );
    assert_eq!(
        snapshot(
            &app,
            &gurn,
            &["roleMembership", "ownership", "corpGroupEditableInfo"]
        )
        .await,
        before_group,
        "the group's admin-owned aspects untouched"
    );
    assert_eq!(app.aspect(&gurn, "roleMembership").await, Some(role));
    assert!(app.aspect(&jurn, "corpUserCredentials").await.is_none());
    app.shutdown().await;
}

/// Seeds a user as DataHub's OIDC login leaves it (no `scim.*` properties).
async fn seed_sso_user(app: &TestApp, username: &str) {
    let urn = user_urn(username);
    app.put_aspect(&urn, "corpUserKey", json!({"username": username}))
        .await;
    app.put_aspect(
        &urn,
        "corpUserInfo",
        json!({"active": true, "displayName": "Jane SSO", "email": "jane@example.com",
               "firstName": "Jane", "lastName": "Doe", "fullName": "Jane Doe",
               "customProperties": {"costCenter": "42"}}),
    )
    .await;
    app.put_aspect(
        &urn,
        "corpUserStatus",
        json!({"status": "ACTIVE", "lastModified": {"time": 1_760_000_000_000_i64, "actor": "urn:li:corpuser:__datahub_system"}}),
    )
    .await;
    app.put_aspect(
        &urn,
        "corpUserEditableInfo",
        json!({"aboutMe": "logged in by SSO", "teams": [], "skills": [],
        "pictureLink": "assets/platforms/default_avatar.png"}),
    )
    .await;
}

async fn adopt(app: &TestApp, user_name: &str, username: &str) {
    let urn = user_urn(username);
    let editable = snapshot(app, &urn, &["corpUserEditableInfo"]).await;
    let body = fixture(
        "okta/create_user.json",
        &[
            ("userName", user_name),
            ("externalId", "00ujane000000000000"),
        ],
    );
    let u = app.post("/scim/v2/Users", body.clone()).expect(201).await;
    assert_eq!(
        u["id"],
        json!(user_id(username)),
        "the SSO user's urn is adopted"
    );
    assert_eq!(u["userName"], json!(user_name));
    let info = assert_user(app, username, user_name, "ACTIVE").await;
    assert_eq!(
        info["customProperties"]["costCenter"],
        json!("42"),
        "customProperties not ours are kept"
    );
    assert_eq!(
        info["firstName"],
        json!("Test"),
        "SCIM now manages the profile"
    );
    assert_eq!(
        snapshot(app, &urn, &["corpUserEditableInfo"]).await,
        editable
    );
    assert_eq!(
        ids(&lookup_user(app, user_name).await),
        vec![user_id(username)]
    );
    // Adopted once: a second create is a conflict.
    let e = app.post("/scim/v2/Users", body).expect(409).await;
    assert_error(&e, 409, Some("uniqueness"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_user_is_adopted_not_duplicated() {
    let app = TestApp::spawn().await;
    let un = app.uniq("jane@example.com");
    seed_sso_user(&app, &un).await;
    adopt(&app, &un, &un).await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn username_regex_strips_the_domain_like_datahubs_helm_default() {
    let app = TestApp::builder()
        .config(keys::USERNAME_REGEX, "([^@]+)")
        .spawn()
        .await;
    let local = app.uniq("jane");
    let un = format!("{local}@example.com");
    seed_sso_user(&app, &local).await;
    adopt(&app, &un, &local).await;
    assert!(
        !app.exists(&user_urn(&un)).await,
        "no second user urn:li:corpuser:{un}"
    );

    // A user who never logged in gets the same short urn.
    let bob = format!("{}@example.com", app.uniq("bob"));
    let short = bob.split('@').next().expect("local part").to_owned();
    let u = app
        .post(
            "/scim/v2/Users",
            fixture(
                "okta/create_user.json",
                &[("userName", &bob), ("externalId", "00ubob")],
            ),
        )
        .expect(201)
        .await;
    assert_eq!(u["id"], json!(user_id(&short)));
    assert_eq!(u["userName"], json!(bob), "SCIM keeps the IdP's userName");
    assert_user(&app, &short, &bob, "ACTIVE").await;
    assert_eq!(ids(&lookup_user(&app, &bob).await), vec![user_id(&short)]);

    // Another address with the same local part is the same DataHub user: a conflict.
    let other = format!("{short}@other.example");
    let e = app
        .post(
            "/scim/v2/Users",
            fixture(
                "okta/create_user.json",
                &[("userName", &other), ("externalId", "00ubob2")],
            ),
        )
        .expect(409)
        .await;
    assert_error(&e, 409, Some("uniqueness"));

    // Okta "update application username": a new domain keeps the urn, so it is allowed,
    // and the new userName finds the user.
    let moved = format!("{short}@newco.example");
    let mut u = app.get(&user_path(&user_id(&short))).expect(200).await;
    u["userName"] = json!(moved);
    let put = app.put(&user_path(&user_id(&short)), u).expect(200).await;
    assert_eq!(put["userName"], json!(moved));
    assert_eq!(put["id"], json!(user_id(&short)));
    assert_user(&app, &short, &moved, "ACTIVE").await;
    assert_eq!(ids(&lookup_user(&app, &moved).await), vec![user_id(&short)]);
    assert!(
        lookup_user(&app, &bob).await.is_empty(),
        "the old userName no longer matches"
    );
    app.shutdown().await;
}
