//! Privileges from policies (Q11): the Admin role through the bootstrap policies,
//! `Emulator::grant` policies, the operation each change type needs per release, the 403
//! of every unauthorized proposal before any validation, `manageIdentities`, and the
//! GraphQL checks (MANAGE for identity mutations, EDIT_GROUP_MEMBERS for membership).

use super::*;

const ME: &str = "query { me { platformPrivileges { manageIdentities manageTokens generatePersonalAccessTokens managePolicies } } }";

fn manage_identities(b: &Value) -> bool {
    b["data"]["me"]["platformPrivileges"]["manageIdentities"]
        .as_bool()
        .expect("manageIdentities")
}

#[tokio::test]
async fn the_admin_role_grants_everything_and_plain_users_only_the_base_policy() {
    let emu = start().await;
    let (_, b) = gql(&emu, &emu.admin_token(), ME, json!({})).await;
    assert_eq!(
        b["data"]["me"]["platformPrivileges"],
        json!({"manageIdentities": true, "manageTokens": true, "generatePersonalAccessTokens": true, "managePolicies": true})
    );
    let t = emu.create_user_token("plain", false);
    let (_, b) = gql(&emu, &t, ME, json!({})).await;
    assert_eq!(
        b["data"]["me"]["platformPrivileges"],
        json!({"manageIdentities": false, "manageTokens": false, "generatePersonalAccessTokens": true, "managePolicies": false})
    );
    // The Admin role through a group counts too.
    let g = "urn:li:corpGroup:admins";
    emu.put_aspect(
        g,
        "roleMembership",
        json!({"roles": ["urn:li:dataHubRole:Admin"]}),
    );
    emu.put_aspect(
        "urn:li:corpuser:plain",
        "groupMembership",
        json!({"groups": [g]}),
    );
    let (_, b) = gql(&emu, &t, ME, json!({})).await;
    assert!(manage_identities(&b));
}

#[tokio::test]
async fn fine_user_and_group_privileges_count_from_1_2_0() {
    for (version, fine) in [("1.1.0", false), ("1.2.0", true), ("1.7.0", true)] {
        let emu = start_release(version).await;
        let t = emu.create_user_token("svc", false);
        let user = "urn:li:corpuser:someone";
        let up = || vec![mcp(user, "corpUserInfo", json!({"active": true}))];
        let (s, b) = ingest(&emu, &t, up()).await;
        assert_eq!(s, 403, "{version}");
        assert_eq!(
            b["message"],
            "User urn:li:corpuser:svc is unauthorized to modify entity: HttpStatus: 403 Urn: urn:li:corpuser:someone"
        );
        emu.grant("svc", &["UPDATE_USERS"]);
        assert_eq!(
            ingest(&emu, &t, up()).await.0,
            if fine { 200 } else { 403 },
            "{version}"
        );
        // UPDATE_USERS alone is not manageIdentities; with UPDATE_GROUPS it is (1.2.0+).
        let (_, b) = gql(&emu, &t, ME, json!({})).await;
        assert!(!manage_identities(&b), "{version}");
        emu.grant("svc", &["UPDATE_GROUPS"]);
        let (_, b) = gql(&emu, &t, ME, json!({})).await;
        assert_eq!(manage_identities(&b), fine, "{version}");
        // The coarse privileges work everywhere.
        let t2 = emu.create_user_token("coarse", false);
        emu.grant("coarse", &["UPDATE_USERS_AND_GROUPS"]);
        assert_eq!(ingest(&emu, &t2, up()).await.0, 200, "{version}");
        let (_, b) = gql(&emu, &t2, ME, json!({})).await;
        assert!(!manage_identities(&b), "UPDATE_* is not DELETE");
        emu.grant("coarse", &["MANAGE_USERS_AND_GROUPS"]);
        let (_, b) = gql(&emu, &t2, ME, json!({})).await;
        assert!(manage_identities(&b));
    }
}

#[tokio::test]
async fn every_proposal_is_authorized_before_any_validation() {
    let emu = start().await;
    let t = emu.create_user_token("half", false);
    emu.grant("half", &["UPDATE_USERS"]);
    let batch = vec![
        mcp("urn:li:corpuser:a", "corpUserInfo", json!({"active": true})),
        mcp("urn:li:corpGroup:g", "bogusAspect", json!({})),
        mcp(
            "urn:li:corpGroup:h",
            "corpGroupInfo",
            json!({"admins": [], "members": [], "groups": []}),
        ),
    ];
    let (s, b) = ingest(&emu, &t, batch).await;
    assert_eq!(s, 403, "the invalid aspect is never looked at: {b}");
    assert_eq!(
        b["message"],
        "User urn:li:corpuser:half is unauthorized to modify entity: HttpStatus: 403 Urn: urn:li:corpGroup:g, HttpStatus: 403 Urn: urn:li:corpGroup:h"
    );
    assert!(!emu.entity_exists("urn:li:corpuser:a"), "all or nothing");
    // CREATE_ENTITY needs CREATE; UPDATE_USERS covers it from 1.2.0, CREATE_USERS alone
    // does not cover an UPSERT.
    let mut ce = mcp("urn:li:corpuser:b", "corpUserInfo", json!({"active": true}));
    ce["changeType"] = json!("CREATE_ENTITY");
    assert_eq!(ingest(&emu, &t, vec![ce]).await.0, 200);
    let c = emu.create_user_token("creator", false);
    emu.grant("creator", &["CREATE_USERS"]);
    let up = vec![mcp(
        "urn:li:corpuser:c",
        "corpUserInfo",
        json!({"active": true}),
    )];
    assert_eq!(ingest(&emu, &c, up).await.0, 403);
    // A hard delete needs DELETE: MANAGE_USERS_AND_GROUPS, or UPDATE_USERS from 1.2.0.
    let (s, b) = call(
        &emu,
        Some(&c),
        "POST",
        "/entities?action=delete",
        Some(json!({"urn": "urn:li:corpuser:b"})),
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(
        b["message"],
        "User is unauthorized to delete entity: urn:li:corpuser:b"
    );
    let (s, _) = call(
        &emu,
        Some(&t),
        "POST",
        "/entities?action=delete",
        Some(json!({"urn": "urn:li:corpuser:b"})),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn graphql_checks_manage_for_identities_and_edit_group_members_for_membership() {
    let emu = start().await;
    let g = "urn:li:corpGroup:team";
    emu.put_aspect(
        g,
        "corpGroupInfo",
        json!({"admins": [], "members": [], "groups": []}),
    );
    emu.put_aspect(g, "origin", json!({"type": "NATIVE"}));
    emu.put_aspect("urn:li:corpuser:m", "corpUserInfo", json!({"active": true}));
    let t = emu.create_user_token("editor", false);
    let add = "mutation($i: AddGroupMembersInput!) { addGroupMembers(input: $i) }";
    let vars = json!({"i": {"groupUrn": g, "userUrns": ["urn:li:corpuser:m"]}});
    let (_, b) = gql(&emu, &t, add, vars.clone()).await;
    assert_eq!(gql_error(&b).0, 403, "{b}");
    emu.grant("editor", &["EDIT_GROUP_MEMBERS"]);
    let (_, b) = gql(&emu, &t, add, vars).await;
    assert_eq!(b["data"]["addGroupMembers"], true, "{b}");
    // Membership rights are not identity management.
    let create = "mutation { createGroup(input: {id: \"x\", name: \"X\"}) }";
    let (_, b) = gql(&emu, &t, create, json!({})).await;
    assert_eq!(gql_error(&b).0, 403);
    // MANAGE_USERS_AND_GROUPS alone does not edit members (canEditGroupMembers asks
    // EDIT_ENTITY or EDIT_GROUP_MEMBERS on the group).
    let m = emu.create_user_token("manager", false);
    emu.grant("manager", &["MANAGE_USERS_AND_GROUPS"]);
    let (_, b) = gql(&emu, &m, create, json!({})).await;
    assert_eq!(b["data"]["createGroup"], "urn:li:corpGroup:x", "{b}");
    let rm = "mutation($i: RemoveGroupMembersInput!) { removeGroupMembers(input: $i) }";
    let vars = json!({"i": {"groupUrn": g, "userUrns": ["urn:li:corpuser:m"]}});
    let (_, b) = gql(&emu, &m, rm, vars).await;
    assert_eq!(gql_error(&b).0, 403, "{b}");
}
