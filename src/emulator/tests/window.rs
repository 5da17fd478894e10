//! The 10,000-hit result window (Q2–Q4) over a 15,000-user index: `total` capped at
//! 10,000 while the `_entityType` facet and `aggregateAcrossEntities` count exactly,
//! `count` is the requested page size, `CacheableSearcher` batches of 100 from offset 0
//! (cost and the deep-page error up to 1.6.x, empty pages from 1.7.0), and `listUsers`
//! as one direct engine query.

use super::*;

const SEARCH: &str = "query($i: SearchAcrossEntitiesInput!) { searchAcrossEntities(input: $i) { start count total searchResults { entity { urn } } facets { field displayName aggregations { value count } } } }";

fn page(start: i64, count: i64) -> Value {
    json!({"i": {"types": ["CORP_USER"], "query": "*", "start": start, "count": count}})
}

fn urns(b: &Value, field: &str) -> Vec<String> {
    b["data"][field]["searchResults"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["entity"]["urn"].as_str().map(str::to_owned))
        .collect()
}

/// `(field, [(value, count)])` of each facet.
fn facets(r: &Value) -> Vec<(String, Vec<(String, u64)>)> {
    r["facets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let aggs = f["aggregations"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    (
                        a["value"].as_str().unwrap_or_default().to_string(),
                        a["count"].as_u64().unwrap_or_default(),
                    )
                })
                .collect();
            (f["field"].as_str().unwrap_or_default().to_string(), aggs)
        })
        .collect()
}

/// Runs one search and returns (body, engine queries it cost).
async fn search(emu: &Emulator, vars: Value) -> (Value, u64) {
    emu.reset_calls();
    let (s, b) = gql(emu, &emu.admin_token(), SEARCH, vars).await;
    assert_eq!(s, 200);
    (b, emu.engine_queries())
}

#[tokio::test]
async fn totals_stop_at_10000_but_the_entity_type_facet_counts_all_15000() {
    let emu = start().await;
    seed_users(&emu, 14_999); // + the admin user: 15,000 documents
    let (b, cost) = search(&emu, page(0, 10)).await;
    let r = &b["data"]["searchAcrossEntities"];
    assert_eq!(
        (r["start"].clone(), r["count"].clone(), r["total"].clone()),
        (json!(0), json!(10), json!(10_000))
    );
    assert_eq!(
        urns(&b, "searchAcrossEntities")[0],
        "urn:li:corpuser:datahub"
    );
    let exact = vec![("CORP_USER".to_string(), 15_000)];
    assert_eq!(
        facets(r),
        [
            ("_entityType".to_string(), exact.clone()),
            ("entity".to_string(), exact.clone())
        ]
    );
    assert_eq!(r["facets"][0]["displayName"], "Type");
    assert_eq!(cost, 1);
    // skipAggregates: no aggregation; the `entity` facet falls back to the page's counts.
    let mut v = page(0, 10);
    v["i"]["searchFlags"] = json!({"skipAggregates": true});
    let (b, _) = search(&emu, v).await;
    assert_eq!(
        facets(&b["data"]["searchAcrossEntities"]),
        [("entity".to_string(), vec![("CORP_USER".to_string(), 10)])]
    );
    // aggregateAcrossEntities: the uncapped count in one engine query, filters honoured.
    let agg = "query($i: AggregateAcrossEntitiesInput!) { aggregateAcrossEntities(input: $i) { facets { field aggregations { value count } } } }";
    let vars = json!({"i": {"types": ["CORP_USER"], "query": "*", "facets": ["_entityType"],
        "orFilters": [{"and": [{"field": "email", "values": ["u0"], "condition": "START_WITH"}]}]}});
    emu.reset_calls();
    let (_, b) = gql(&emu, &emu.admin_token(), agg, vars).await;
    let exact = vec![("CORP_USER".to_string(), 10_000)];
    assert_eq!(
        facets(&b["data"]["aggregateAcrossEntities"]),
        [
            ("_entityType".to_string(), exact.clone()),
            ("entity".to_string(), exact)
        ],
        "{b}"
    );
    assert_eq!(emu.engine_queries(), 1);
}

#[tokio::test]
async fn count_is_the_requested_page_size_and_limited_from_1_2_0() {
    let emu = start().await;
    seed_users(&emu, 25);
    let (b, _) = search(&emu, page(20, 10)).await;
    let r = &b["data"]["searchAcrossEntities"];
    assert_eq!(
        urns(&b, "searchAcrossEntities").len(),
        6,
        "26 users: 6 left"
    );
    assert_eq!(
        (r["count"].clone(), r["total"].clone()),
        (json!(10), json!(26))
    );
    let (b, _) = search(&emu, page(0, 20_000)).await;
    assert_eq!(
        b["data"]["searchAcrossEntities"]["count"], 5000,
        "applyLimit"
    );
    let old = start_release("1.1.0").await;
    seed_users(&old, 25);
    let (b, _) = search(&old, page(0, 20_000)).await;
    assert_eq!(b["data"]["searchAcrossEntities"]["count"], 20_000, "{b}");
    assert_eq!(urns(&b, "searchAcrossEntities").len(), 26);
}

#[tokio::test]
async fn deep_pages_cost_a_batch_per_100_hits_and_end_empty_from_1_7_0() {
    let emu = start().await;
    seed_users(&emu, 15_000);
    let (_, shallow) = search(&emu, page(0, 100)).await;
    assert_eq!(shallow, 1);
    let (b, cost) = search(&emu, page(9900, 100)).await;
    assert_eq!(
        cost, 100,
        "CacheableSearcher walks 100 batches from offset 0"
    );
    assert_eq!(urns(&b, "searchAcrossEntities").len(), 100);
    let (b, cost) = search(&emu, page(9995, 10)).await;
    assert_eq!(cost, 100);
    let r = &b["data"]["searchAcrossEntities"];
    assert_eq!(urns(&b, "searchAcrossEntities").len(), 5, "{b}");
    assert_eq!(
        (r["count"].clone(), r["total"].clone()),
        (json!(10), json!(10_000))
    );
    let (b, _) = search(&emu, page(12_000, 10)).await;
    assert!(b.get("errors").is_none(), "{b}");
    assert!(urns(&b, "searchAcrossEntities").is_empty());
    assert_eq!(b["data"]["searchAcrossEntities"]["total"], 10_000);
}

#[tokio::test]
async fn deep_pages_fail_in_the_engine_up_to_1_6() {
    for (version, message) in [
        ("0.15.0", "An unknown error occurred."),
        ("1.2.0", "An unknown error occurred."),
        (
            "1.3.0",
            "java.lang.RuntimeException: Failed to execute search: ",
        ),
        (
            "1.6.0",
            "java.lang.RuntimeException: Failed to execute search: ",
        ),
    ] {
        let emu = start_release(version).await;
        seed_users(&emu, 9_999);
        // Exactly 10,000 users: every batch up to 9,900 is full, so the 101st is asked.
        let (b, cost) = search(&emu, page(9995, 10)).await;
        let (code, ty, msg) = gql_error(&b);
        assert_eq!(
            (code, ty),
            (json!(500), json!("SERVER_ERROR")),
            "{version}: {b}"
        );
        assert!(msg.starts_with(message), "{version}: {msg}");
        assert_eq!(msg.contains("Root cause"), version == "1.6.0", "{msg}");
        assert_eq!(cost, 101, "{version}");
        assert!(b["data"]["searchAcrossEntities"].is_null());
        // Within the window all is well.
        let (b, _) = search(&emu, page(9990, 10)).await;
        assert_eq!(urns(&b, "searchAcrossEntities").len(), 10, "{version}");
        // Fewer than 10,000 matches: the short last batch stops the walk, no error.
        for i in 0..50 {
            let urn = format!("urn:li:corpuser:u{i:05}");
            emu.put_aspect(&urn, "status", json!({"removed": true}));
        }
        let (b, cost) = search(&emu, page(9990, 20)).await;
        assert!(b.get("errors").is_none(), "{version}: {b}");
        assert!(urns(&b, "searchAcrossEntities").is_empty());
        assert_eq!(b["data"]["searchAcrossEntities"]["total"], 9_950);
        assert_eq!(cost, 100, "{version}");
    }
}

#[tokio::test]
async fn list_users_is_one_engine_query_and_fails_past_the_window_everywhere() {
    for version in ["0.15.0", "1.7.0"] {
        let emu = start_release(version).await;
        seed_users(&emu, 10_000);
        let t = emu.admin_token();
        let list = "query($i: ListUsersInput!) { listUsers(input: $i) { start count total users { urn } } }";
        emu.reset_calls();
        let (_, b) = gql(&emu, &t, list, json!({"i": {"start": 9900, "count": 100}})).await;
        let r = &b["data"]["listUsers"];
        assert_eq!(
            (r["count"].clone(), r["total"].clone()),
            (json!(100), json!(10_000)),
            "{b}"
        );
        assert_eq!(r["users"].as_array().map(Vec::len), Some(100));
        assert_eq!(emu.engine_queries(), 1, "{version}");
        let (_, b) = gql(&emu, &t, list, json!({"i": {"start": 9990, "count": 20}})).await;
        assert_eq!(gql_error(&b).0, 500, "{version}: {b}");
        let groups = "query { listGroups(input: {start: 9999, count: 2}) { total } }";
        let (_, b) = gql(&emu, &t, groups, json!({})).await;
        assert_eq!(
            gql_error(&b).0,
            500,
            "{version}: the window is checked before matching"
        );
    }
}
