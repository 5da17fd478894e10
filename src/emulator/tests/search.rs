//! Index-side selection and batching: `corpUserInfo.customProperties` indexed as
//! `key=value` strings under `customProperties`, filtered pages (`start`, `count`,
//! `total`, `sortInput` by urn), and aliased `corpGroup` selections in one request.

use super::*;

const SEARCH: &str = "query($i: SearchAcrossEntitiesInput!) { searchAcrossEntities(input: $i) { start count total searchResults { entity { urn } } } }";

fn urns(b: &Value) -> Vec<String> {
    b["data"]["searchAcrossEntities"]["searchResults"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["entity"]["urn"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn custom_properties_filter_pages_with_honest_totals() {
    let emu = start().await;
    let t = emu.admin_token();
    for i in 0..7 {
        let urn = format!("urn:li:corpuser:m{i}");
        emu.put_aspect(&urn, "corpUserKey", json!({"username": format!("m{i}")}));
        let mut props = json!({"scim.userName": format!("M{i}")});
        if i % 2 == 0 {
            props["scim.managed"] = json!("true");
        }
        emu.put_aspect(
            &urn,
            "corpUserInfo",
            json!({"active": true, "customProperties": props}),
        );
    }
    // Managed m0 is soft-deleted: the index leaves it out unless asked.
    emu.put_aspect("urn:li:corpuser:m0", "status", json!({"removed": true}));
    let vars = |cond: &str, val: &str, start: u32, count: u32, desc: bool| {
        let order = if desc { "DESCENDING" } else { "ASCENDING" };
        json!({"i": {"types": ["CORP_USER"], "query": "*", "start": start, "count": count,
            "orFilters": [{"and": [{"field": "customProperties", "values": [val], "condition": cond}]}],
            "sortInput": {"sortCriteria": [{"field": "urn", "sortOrder": order}]}}})
    };
    let (s, b) = gql(
        &emu,
        &t,
        SEARCH,
        vars("EQUAL", "scim.managed=true", 0, 2, false),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let r = &b["data"]["searchAcrossEntities"];
    assert_eq!(
        (r["start"].clone(), r["count"].clone(), r["total"].clone()),
        (json!(0), json!(2), json!(3))
    );
    assert_eq!(urns(&b), ["urn:li:corpuser:m2", "urn:li:corpuser:m4"]);
    let (_, b) = gql(
        &emu,
        &t,
        SEARCH,
        vars("EQUAL", "scim.managed=true", 2, 2, false),
    )
    .await;
    assert_eq!(urns(&b), ["urn:li:corpuser:m6"]);
    assert_eq!(b["data"]["searchAcrossEntities"]["total"], 3);
    let (_, b) = gql(
        &emu,
        &t,
        SEARCH,
        vars("EQUAL", "scim.managed=true", 0, 10, true),
    )
    .await;
    assert_eq!(
        urns(&b),
        [
            "urn:li:corpuser:m6",
            "urn:li:corpuser:m4",
            "urn:li:corpuser:m2"
        ]
    );
    // EQUAL is exact: another case or a prefix is no match; IEQUAL folds case.
    let (_, b) = gql(
        &emu,
        &t,
        SEARCH,
        vars("EQUAL", "scim.managed=TRUE", 0, 10, false),
    )
    .await;
    assert_eq!(b["data"]["searchAcrossEntities"]["total"], 0);
    let (_, b) = gql(
        &emu,
        &t,
        SEARCH,
        vars("EQUAL", "scim.managed", 0, 10, false),
    )
    .await;
    assert_eq!(b["data"]["searchAcrossEntities"]["total"], 0);
    let (_, b) = gql(
        &emu,
        &t,
        SEARCH,
        vars("IEQUAL", "SCIM.USERNAME=m3", 0, 10, false),
    )
    .await;
    assert_eq!(urns(&b), ["urn:li:corpuser:m3"]);
    let (_, b) = gql(
        &emu,
        &t,
        SEARCH,
        vars("START_WITH", "scim.userName=", 0, 10, false),
    )
    .await;
    assert_eq!(
        b["data"]["searchAcrossEntities"]["total"], 6,
        "m0 is soft-deleted"
    );
    // Full text reaches customProperties too (queryByDefault).
    let text = json!({"i": {"types": ["CORP_USER"], "query": "M5", "start": 0, "count": 10}});
    let (_, b) = gql(&emu, &t, SEARCH, text).await;
    assert!(urns(&b).contains(&"urn:li:corpuser:m5".to_string()), "{b}");
}

#[tokio::test]
async fn aliased_group_selections_resolve_in_one_request() {
    let emu = start().await;
    let t = emu.admin_token();
    for g in ["a", "b"] {
        emu.put_aspect(
            &format!("urn:li:corpGroup:{g}"),
            "corpGroupKey",
            json!({"name": g}),
        );
    }
    for (u, groups) in [("x", vec!["a"]), ("y", vec!["a", "b"])] {
        let urn = format!("urn:li:corpuser:{u}");
        emu.put_aspect(&urn, "corpUserKey", json!({"username": u}));
        let groups: Vec<String> = groups
            .iter()
            .map(|g| format!("urn:li:corpGroup:{g}"))
            .collect();
        emu.put_aspect(&urn, "groupMembership", json!({"groups": groups}));
    }
    let doc = crate::datahub::group_members_many_document(3);
    let vars = json!({
        "input": {"types": ["IsMemberOfGroup", "IsMemberOfNativeGroup"], "direction": "INCOMING", "start": 0, "count": 10},
        "u0": "urn:li:corpGroup:a", "u1": "urn:li:corpGroup:b", "u2": "urn:li:corpGroup:nope",
    });
    emu.reset_calls();
    let (s, b) = gql(&emu, &t, &doc, vars).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.get("errors").is_none(), "{b}");
    let members = |alias: &str| -> Vec<String> {
        b["data"][alias]["relationships"]["relationships"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["entity"]["urn"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(b["data"]["g0"]["relationships"]["total"], 2);
    let mut a = members("g0");
    a.sort();
    assert_eq!(a, ["urn:li:corpuser:x", "urn:li:corpuser:y"]);
    assert_eq!(members("g1"), ["urn:li:corpuser:y"]);
    assert_eq!(b["data"]["g2"]["relationships"]["total"], 0, "{b}");
    let calls: u64 = emu.call_counts().values().sum();
    assert_eq!(calls, 1, "one HTTP request for three groups");
}

/// The `entity` of an edge is the member loaded from the primary store, as DataHub's
/// entity batch loader does: its names and `customProperties` (as
/// `CustomPropertiesMapper` entries) come with the edges, in the same request.
#[tokio::test]
async fn member_edges_load_the_member_entity_with_custom_properties() {
    let emu = start().await;
    let t = emu.admin_token();
    emu.put_aspect("urn:li:corpGroup:a", "corpGroupKey", json!({"name": "a"}));
    let urn = "urn:li:corpuser:x";
    emu.put_aspect(urn, "corpUserKey", json!({"username": "x"}));
    emu.put_aspect(
        urn,
        "corpUserInfo",
        json!({"active": true, "displayName": "Ex", "fullName": "E X",
               "customProperties": {"scim.id": "b2xk", "k": "v"}}),
    );
    emu.put_aspect(
        urn,
        "corpUserEditableInfo",
        json!({"displayName": "Edited"}),
    );
    emu.put_aspect(
        urn,
        "groupMembership",
        json!({"groups": ["urn:li:corpGroup:a"]}),
    );
    let vars = json!({"urn": "urn:li:corpGroup:a",
        "input": {"types": ["IsMemberOfGroup"], "direction": "INCOMING", "start": 0, "count": 10}});
    let (s, b) = gql(
        &emu,
        &t,
        crate::datahub::GRAPHQL_DOCUMENTS
            .iter()
            .find(|(n, _)| *n == "groupMembers")
            .map(|(_, d)| *d)
            .unwrap_or_default(),
        vars,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let e = &b["data"]["corpGroup"]["relationships"]["relationships"][0]["entity"];
    assert_eq!(e["username"], json!("x"), "{b}");
    assert_eq!(e["properties"]["displayName"], json!("Ex"));
    assert_eq!(e["properties"]["fullName"], json!("E X"));
    assert_eq!(e["editableProperties"]["displayName"], json!("Edited"));
    let mut props: Vec<(String, String)> = e["properties"]["customProperties"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|p| {
            (
                p["key"].as_str().unwrap_or_default().to_owned(),
                p["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    props.sort();
    assert_eq!(
        props,
        [("k".into(), "v".into()), ("scim.id".into(), "b2xk".into())]
    );
    assert_eq!(emu.call_counts().values().sum::<u64>(), 1);
}

#[tokio::test]
async fn iequal_trims_and_folds_ascii_only_while_equal_is_exact() {
    let emu = start().await;
    let t = emu.admin_token();
    for (u, email) in [("a", "Jane.Doe@Example.com"), ("b", "ÖSTEN@example.com")] {
        emu.put_aspect(
            &format!("urn:li:corpuser:{u}"),
            "corpUserInfo",
            json!({"active": true, "email": email}),
        );
    }
    let q = |cond: &str, v: &str| {
        json!({"i": {"types": ["CORP_USER"], "query": "*", "start": 0, "count": 10,
            "orFilters": [{"and": [{"field": "email", "values": [v], "condition": cond}]}]}})
    };
    let cases = [
        (
            "IEQUAL",
            "  jane.doe@EXAMPLE.COM\t",
            vec!["urn:li:corpuser:a"],
        ),
        ("IEQUAL", "östen@example.com", vec![]),
        ("IEQUAL", "ÖSTEN@EXAMPLE.COM", vec!["urn:li:corpuser:b"]),
        ("EQUAL", "jane.doe@example.com", vec![]),
        ("EQUAL", " Jane.Doe@Example.com", vec![]),
        ("EQUAL", "Jane.Doe@Example.com", vec!["urn:li:corpuser:a"]),
    ];
    for (cond, v, want) in cases {
        let (_, b) = gql(&emu, &t, SEARCH, q(cond, v)).await;
        assert_eq!(urns(&b), want, "{cond} {v:?}");
    }
}
