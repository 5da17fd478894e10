//! §2: GraphQL envelope, validation, execution details, identity mutations and
//! index-backed reads.

use super::*;

#[tokio::test]
async fn envelope_errors() {
    let emu = start().await;
    let t = emu.admin_token();
    assert_eq!(
        call(&emu, Some(&t), "GET", "/api/graphql", None).await.0,
        405
    );
    let auth = format!("Bearer {t}");
    let (s, b) = try_send(
        &emu,
        "POST",
        "/api/graphql",
        &[("authorization", &auth)],
        Some("{not json".into()),
    )
    .await
    .expect("resp");
    assert_eq!((s, b), (400, Value::Null));
    let (s, b) = call(
        &emu,
        Some(&t),
        "POST",
        "/api/graphql",
        Some(json!({"variables": {}})),
    )
    .await;
    assert_eq!((s, b), (400, Value::Null));
    let (s, b) = gql(&emu, &t, "{ me { corpUser { noSuchField } } }", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(
        b["errors"][0]["extensions"]["classification"],
        "ValidationError"
    );
    assert!(b.get("data").is_none());
    let (s, b) = gql(&emu, &t, "{ me { ", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(
        b["errors"][0]["extensions"]["classification"],
        "InvalidSyntax"
    );
    // a schema field the upstream schema does not have at all
    let (_, b) = gql(
        &emu,
        &t,
        "{ corpUser(urn: \"urn:li:corpuser:x\") { members { urn } } }",
        json!({}),
    )
    .await;
    assert!(
        b.to_string().contains("does not have a field `members`"),
        "{b}"
    );
}

#[tokio::test]
async fn selection_sets_aliases_typename_and_phantoms() {
    let emu = start().await;
    let t = emu.admin_token();
    let q = "query q($u: String!) { a: corpUser(urn: $u) { __typename urn username exists properties { active } ...F } }
             fragment F on CorpUser { st: status }";
    let (_, b) = gql(&emu, &t, q, json!({"u": "urn:li:corpuser:ghost"})).await;
    assert_eq!(
        b["data"]["a"],
        json!({"__typename": "CorpUser", "urn": "urn:li:corpuser:ghost", "username": "ghost", "exists": false, "properties": null, "st": null})
    );
    emu.put_aspect(
        "urn:li:corpuser:ghost",
        "corpUserInfo",
        json!({"active": true, "email": "g@x"}),
    );
    let (_, b) = gql(
        &emu,
        &t,
        "{ corpUser(urn: \"urn:li:corpuser:ghost\") { exists properties { email displayName } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        b["data"]["corpUser"],
        json!({"exists": true, "properties": {"email": "g@x", "displayName": null}})
    );
}

#[tokio::test]
async fn an_unknown_status_breaks_graphql_loads_of_that_user() {
    let emu = start().await;
    let t = emu.admin_token();
    emu.put_aspect(
        "urn:li:corpuser:p",
        "corpUserStatus",
        status_aspect("PROVISIONED"),
    );
    let (_, b) = gql(
        &emu,
        &t,
        "{ corpUser(urn: \"urn:li:corpuser:p\") { urn } }",
        json!({}),
    )
    .await;
    assert_eq!(b["data"]["corpUser"], Value::Null);
    assert!(b["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("PROVISIONED"));
    let (_, b) = gql(
        &emu,
        &t,
        "{ listUsers(input: {start: 0, count: 50}) { total users { urn } } }",
        json!({}),
    )
    .await;
    assert_eq!(b["data"]["listUsers"], Value::Null);
}

#[tokio::test]
async fn create_group_and_native_membership() {
    let emu = start().await;
    let t = emu.admin_token();
    let create = "mutation($i: CreateGroupInput!) { createGroup(input: $i) }";
    let (_, b) = gql(
        &emu,
        &t,
        create,
        json!({"i": {"id": "Data Eng", "name": "Data Eng"}}),
    )
    .await;
    let g = "urn:li:corpGroup:Data Eng";
    assert_eq!(b["data"]["createGroup"], g, "id used verbatim");
    assert_eq!(emu.aspect(g, "origin"), Some(json!({"type": "NATIVE"})));
    assert_eq!(
        emu.aspect(g, "corpGroupInfo").map(|i| i["admins"].clone()),
        Some(json!([]))
    );
    let (_, b) = gql(
        &emu,
        &t,
        create,
        json!({"i": {"id": "Data Eng", "name": "again"}}),
    )
    .await;
    assert_eq!(b["errors"][0]["message"], "This Group already exists!");
    assert_eq!(b["errors"][0]["extensions"]["code"], 400);

    emu.put_aspect(
        "urn:li:corpuser:ann",
        "corpUserInfo",
        json!({"active": true}),
    );
    let add = "mutation($i: AddGroupMembersInput!) { addGroupMembers(input: $i) }";
    let (_, b) = gql(
        &emu,
        &t,
        add,
        json!({"i": {"groupUrn": g, "userUrns": ["urn:li:corpuser:ann"]}}),
    )
    .await;
    assert_eq!(b["data"]["addGroupMembers"], true);
    assert_eq!(
        emu.aspect("urn:li:corpuser:ann", "nativeGroupMembership"),
        Some(json!({"nativeGroups": [g]}))
    );
    let (_, b) = gql(
        &emu,
        &t,
        add,
        json!({"i": {"groupUrn": g, "userUrns": ["urn:li:corpuser:nobody"]}}),
    )
    .await;
    assert_eq!(b["errors"][0]["extensions"]["code"], 500);
    let (_, b) = gql(
        &emu,
        &t,
        add,
        json!({"i": {"groupUrn": "urn:li:corpGroup:missing", "userUrns": []}}),
    )
    .await;
    assert_eq!(b["errors"][0]["extensions"]["code"], 404);

    let rel = "query($g: String!) { corpGroup(urn: $g) { relationships(input: {types: [\"IsMemberOfGroup\", \"IsMemberOfNativeGroup\"], direction: INCOMING, start: 0, count: 10}) { total relationships { type entity { urn } } } } }";
    let (_, b) = gql(&emu, &t, rel, json!({"g": g})).await;
    let r = &b["data"]["corpGroup"]["relationships"];
    assert_eq!(r["total"], 1);
    assert_eq!(
        r["relationships"][0],
        json!({"type": "IsMemberOfNativeGroup", "entity": {"urn": "urn:li:corpuser:ann"}})
    );

    let (_, b) = gql(
        &emu,
        &t,
        "mutation($u: String!) { removeGroup(urn: $u) }",
        json!({"u": g}),
    )
    .await;
    assert_eq!(b["data"]["removeGroup"], true);
    assert!(!emu.entity_exists(g));
    assert_eq!(
        emu.aspect("urn:li:corpuser:ann", "nativeGroupMembership"),
        Some(json!({"nativeGroups": []})),
        "references cleaned"
    );
}

#[tokio::test]
async fn external_groups_refuse_and_originless_groups_migrate() {
    let emu = start().await;
    let t = emu.admin_token();
    let ext = "urn:li:corpGroup:okta";
    emu.put_aspect(
        ext,
        "origin",
        json!({"type": "EXTERNAL", "externalType": "OKTA"}),
    );
    emu.put_aspect(
        "urn:li:corpuser:bo",
        "corpUserInfo",
        json!({"active": true}),
    );
    let add = "mutation($i: AddGroupMembersInput!) { addGroupMembers(input: $i) }";
    let (_, b) = gql(
        &emu,
        &t,
        add,
        json!({"i": {"groupUrn": ext, "userUrns": ["urn:li:corpuser:bo"]}}),
    )
    .await;
    assert!(b["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("was ingested from an external provider"));
    assert_eq!(b["errors"][0]["extensions"]["code"], 500);

    let jit = "urn:li:corpGroup:jit";
    emu.put_aspect(
        jit,
        "corpGroupInfo",
        json!({"admins": [], "members": [], "groups": []}),
    );
    emu.put_aspect(
        "urn:li:corpuser:bo",
        "groupMembership",
        json!({"groups": [jit]}),
    );
    let (_, b) = gql(
        &emu,
        &t,
        add,
        json!({"i": {"groupUrn": jit, "userUrns": []}}),
    )
    .await;
    assert_eq!(b["data"]["addGroupMembers"], true);
    assert_eq!(emu.aspect(jit, "origin"), Some(json!({"type": "NATIVE"})));
    assert_eq!(
        emu.aspect("urn:li:corpuser:bo", "groupMembership"),
        Some(json!({"groups": []}))
    );
    assert_eq!(
        emu.aspect("urn:li:corpuser:bo", "nativeGroupMembership"),
        Some(json!({"nativeGroups": [jit]}))
    );
}

#[tokio::test]
async fn status_listing_and_search_filters() {
    let emu = start().await;
    let t = emu.admin_token();
    emu.put_aspect(
        "urn:li:corpuser:cy",
        "corpUserInfo",
        json!({"active": true, "email": "Cy@Example.com"}),
    );
    emu.put_aspect(
        "urn:li:corpuser:dee",
        "corpUserInfo",
        json!({"active": true}),
    );
    emu.put_aspect("urn:li:corpuser:dee", "status", json!({"removed": true}));
    let (_, b) = gql(
        &emu,
        &t,
        "mutation { updateUserStatus(urn: \"urn:li:corpuser:cy\", status: SUSPENDED) }",
        json!({}),
    )
    .await;
    assert_eq!(b["data"]["updateUserStatus"], "urn:li:corpuser:cy");
    assert_eq!(
        emu.aspect("urn:li:corpuser:cy", "corpUserStatus")
            .map(|s| s["status"].clone()),
        Some(json!("SUSPENDED"))
    );
    let (_, b) = gql(
        &emu,
        &t,
        "{ listUsers(input: {}) { total users { urn status } } }",
        json!({}),
    )
    .await;
    let urns: Vec<&str> = b["data"]["listUsers"]["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["urn"].as_str())
        .collect();
    assert!(
        urns.contains(&"urn:li:corpuser:cy") && !urns.contains(&"urn:li:corpuser:dee"),
        "{b}"
    );
    let q = "query($i: SearchAcrossEntitiesInput!) { searchAcrossEntities(input: $i) { total searchResults { entity { urn ... on CorpUser { username } } } } }";
    let search = |cond: &str, val: &str, soft: bool| {
        json!({"i": {"types": ["CORP_USER"], "query": "*", "searchFlags": {"includeSoftDeleted": soft},
            "orFilters": [{"and": [{"field": "email", "values": [val], "condition": cond}]}]}})
    };
    assert_eq!(
        gql(&emu, &t, q, search("EQUAL", "cy@example.com", false))
            .await
            .1["data"]["searchAcrossEntities"]["total"],
        0
    );
    let (_, b) = gql(&emu, &t, q, search("IEQUAL", "cy@example.com", false)).await;
    assert_eq!(
        b["data"]["searchAcrossEntities"]["searchResults"][0]["entity"],
        json!({"urn": "urn:li:corpuser:cy", "username": "cy"})
    );
    let removed = json!({"i": {"types": ["CORP_USER"], "query": "*", "searchFlags": {"includeSoftDeleted": true},
        "orFilters": [{"and": [{"field": "removed", "values": ["true"]}]}]}});
    assert_eq!(
        gql(&emu, &t, q, removed).await.1["data"]["searchAcrossEntities"]["total"],
        1
    );
}
