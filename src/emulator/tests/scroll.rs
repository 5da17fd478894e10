//! `scrollAcrossEntities` (Q1): `search_after` paging past 10,000 at a constant cost,
//! the `SearchAfterWrapper` scroll id, `nextScrollId` on full pages only, `count` per
//! release, the count limit, bad scroll ids, `sortInput` (ignored before 1.0), and
//! stateless continuation across writes.

use super::*;
use base64::Engine as _;

const SCROLL: &str = "query($i: ScrollAcrossEntitiesInput!) { scrollAcrossEntities(input: $i) { nextScrollId count total searchResults { entity { urn } } facets { field aggregations { value count } } } }";

fn input(scroll_id: Option<&str>, count: i64) -> Value {
    json!({"i": {"types": ["CORP_USER"], "query": "*", "scrollId": scroll_id, "count": count, "keepAlive": "1m"}})
}

fn urns(b: &Value) -> Vec<String> {
    b["data"]["scrollAcrossEntities"]["searchResults"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["entity"]["urn"].as_str().map(str::to_owned))
        .collect()
}

fn decode(id: &Value) -> Value {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(id.as_str().expect("scroll id"))
        .expect("standard padded base64");
    serde_json::from_slice(&raw).expect("json")
}

async fn scroll(emu: &Emulator, vars: Value) -> Value {
    let (s, b) = gql(emu, &emu.admin_token(), SCROLL, vars).await;
    assert_eq!(s, 200);
    b
}

#[tokio::test]
async fn scroll_walks_15000_users_in_150_pages_at_one_query_each() {
    let emu = start().await;
    seed_users(&emu, 14_999);
    let mut id: Option<String> = None;
    let mut seen = Vec::new();
    for n in 0..150 {
        emu.reset_calls();
        let b = scroll(&emu, input(id.as_deref(), 100)).await;
        assert_eq!(emu.engine_queries(), 1, "page {n}");
        let r = &b["data"]["scrollAcrossEntities"];
        assert_eq!(
            (r["count"].clone(), r["total"].clone()),
            (json!(100), json!(10_000)),
            "page {n}"
        );
        let page = urns(&b);
        assert_eq!(page.len(), 100, "page {n}");
        let last = page.last().cloned().expect("a row");
        // Default sort `_score DESC, urn ASC`: the id holds the last hit's sort values.
        assert_eq!(
            decode(&r["nextScrollId"]),
            json!({"sort": [1.0, last], "pitId": null, "expirationTime": 0}),
            "a full last page still carries an id"
        );
        id = r["nextScrollId"].as_str().map(str::to_owned);
        seen.extend(page);
    }
    let b = scroll(&emu, input(id.as_deref(), 100)).await;
    assert!(urns(&b).is_empty());
    assert!(b["data"]["scrollAcrossEntities"]["nextScrollId"].is_null());
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!((seen.len(), sorted.len()), (15_000, 15_000));
    assert_eq!(seen, sorted, "urn order");
    let facets = &b["data"]["scrollAcrossEntities"]["facets"];
    assert_eq!(facets[0]["field"], "_entityType");
    assert_eq!(facets[0]["aggregations"][0]["count"], 15_000);
    assert_eq!(facets[1]["field"], "entity");
}

#[tokio::test]
async fn scroll_continues_after_its_anchor_whatever_changed_between_pages() {
    let emu = start().await;
    seed_users(&emu, 9);
    let b = scroll(&emu, input(None, 4)).await;
    let first = urns(&b);
    assert_eq!(
        first.last().map(String::as_str),
        Some("urn:li:corpuser:u00002")
    );
    let id = b["data"]["scrollAcrossEntities"]["nextScrollId"].clone();
    // A user before the anchor appears, one after it goes away: nothing passed shifts.
    emu.put_aspect(
        "urn:li:corpuser:a-new",
        "corpUserInfo",
        json!({"active": true}),
    );
    emu.put_aspect("urn:li:corpuser:u00003", "status", json!({"removed": true}));
    let b = scroll(&emu, input(id.as_str(), 4)).await;
    assert_eq!(
        urns(&b),
        [
            "urn:li:corpuser:u00004",
            "urn:li:corpuser:u00005",
            "urn:li:corpuser:u00006",
            "urn:li:corpuser:u00007"
        ]
    );
    // Scroll ids never expire (no point in time): the first one still works.
    let b = scroll(&emu, input(id.as_str(), 100)).await;
    assert_eq!(urns(&b).len(), 5);
    assert!(
        b["data"]["scrollAcrossEntities"]["nextScrollId"].is_null(),
        "short page"
    );
    // includeSoftDeleted and orFilters as in search.
    let mut v = input(None, 100);
    v["i"]["searchFlags"] = json!({"includeSoftDeleted": true});
    v["i"]["orFilters"] = json!([{"and": [{"field": "email", "values": [" U00003@EXAMPLE.COM "], "condition": "IEQUAL"}]}]);
    let b = scroll(&emu, v).await;
    assert_eq!(urns(&b), ["urn:li:corpuser:u00003"]);
}

#[tokio::test]
async fn scroll_count_follows_the_release() {
    // count: requested up to 1.2.x, min(requested, total) from 1.3.0; above 10,000:
    // 5,000 from 1.2.0, an engine error before.
    for (version, small, big) in [
        ("0.15.0", 10, None),
        ("1.2.0", 10, Some(5000)),
        ("1.3.0", 4, Some(4)),
        ("1.7.0", 4, Some(4)),
    ] {
        let emu = start_release(version).await;
        seed_users(&emu, 3);
        let b = scroll(&emu, input(None, 10)).await;
        assert_eq!(
            b["data"]["scrollAcrossEntities"]["count"], small,
            "{version}"
        );
        assert_eq!(b["data"]["scrollAcrossEntities"]["total"], 4);
        let b = scroll(&emu, input(None, 20_000)).await;
        match big {
            Some(n) => assert_eq!(b["data"]["scrollAcrossEntities"]["count"], n, "{b}"),
            None => assert_eq!(gql_error(&b).0, 500, "{version}: {b}"),
        }
    }
}

#[tokio::test]
async fn bad_scroll_ids_are_400_or_500() {
    let emu = start().await;
    seed_users(&emu, 3);
    let b = scroll(&emu, input(Some("not-base64!"), 10)).await;
    let (code, ty, msg) = gql_error(&b);
    assert_eq!((code, ty), (json!(400), json!("BAD_REQUEST")), "{b}");
    assert_eq!(msg, "Illegal base64 character 2d");
    let junk = base64::engine::general_purpose::STANDARD.encode("{\"sort\": oops");
    let b = scroll(&emu, input(Some(&junk), 10)).await;
    let (code, ty, msg) = gql_error(&b);
    assert_eq!((code, ty), (json!(500), json!("SERVER_ERROR")), "{b}");
    assert!(
        msg.starts_with("Invalid scroll Id cannot be mapped: "),
        "{msg}"
    );
    let old = start_release("1.2.0").await;
    let b = scroll(&old, input(Some(&junk), 10)).await;
    assert_eq!(gql_error(&b).2, "An unknown error occurred.");
    // Sort values that do not fit the sort: the engine refuses search_after.
    let one = base64::engine::general_purpose::STANDARD
        .encode(r#"{"sort":["urn:li:corpuser:u00001"],"pitId":null,"expirationTime":0}"#);
    let b = scroll(&emu, input(Some(&one), 10)).await;
    assert_eq!(gql_error(&b).0, 500, "{b}");
}

#[tokio::test]
async fn sort_input_shapes_the_scroll_from_1_0_0() {
    let sorted = |v: Option<&str>| {
        let mut i = input(v, 2);
        i["i"]["sortInput"] =
            json!({"sortCriteria": [{"field": "urn", "sortOrder": "DESCENDING"}]});
        i
    };
    let emu = start().await;
    seed_users(&emu, 4);
    let b = scroll(&emu, sorted(None)).await;
    assert_eq!(
        urns(&b),
        ["urn:li:corpuser:u00003", "urn:li:corpuser:u00002"]
    );
    let id = b["data"]["scrollAcrossEntities"]["nextScrollId"].clone();
    assert_eq!(
        decode(&id)["sort"],
        json!(["urn:li:corpuser:u00002"]),
        "urn only"
    );
    let b = scroll(&emu, sorted(id.as_str())).await;
    assert_eq!(
        urns(&b),
        ["urn:li:corpuser:u00001", "urn:li:corpuser:u00000"]
    );
    // 0.15: sortInput is not passed on, the default sort applies; no `entity` facet.
    let old = start_release("0.15.0").await;
    seed_users(&old, 4);
    let b = scroll(&old, sorted(None)).await;
    assert_eq!(
        urns(&b),
        ["urn:li:corpuser:datahub", "urn:li:corpuser:u00000"]
    );
    let id = &b["data"]["scrollAcrossEntities"]["nextScrollId"];
    assert_eq!(decode(id)["sort"], json!([1.0, "urn:li:corpuser:u00000"]));
    let fields: Vec<&str> = b["data"]["scrollAcrossEntities"]["facets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["field"].as_str())
        .collect();
    assert_eq!(fields, ["_entityType"]);
}
