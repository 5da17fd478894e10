//! Directories past Elasticsearch's 10,000-hit window: a 15,000-user and a
//! 10,500-group directory list completely by `startIndex`/`count` (as Okta and Entra
//! page) and by RFC 9865 cursors, with exact `totalResults`, one scroll per page
//! however deep, on either replica. The emulator enforces DataHub's window (search
//! totals stop at 10,000; pages past it fail up to 1.6 and are empty from 1.7), so
//! any fallback to `searchAcrossEntities` paging would lose users here.

use std::collections::BTreeSet;

use http::Method;
use serde_json::Value;

use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::flows::*;
use crate::support::scim::*;

const USERS: usize = 15_000;
const GROUPS: usize = 10_500;

/// Seeds `n` users that look exactly like one the gateway provisioned (its aspects,
/// names changed), straight into the emulator's store.
fn seed_users(app: &TestApp, template: &Value, n: usize) {
    let emu = app.emu().expect("emulator");
    let name = template["userName"].as_str().expect("userName");
    let urn = format!("urn:li:corpuser:{name}");
    let aspects: Vec<(&str, Value)> = ["corpUserInfo", "corpUserStatus", "origin", "status"]
        .into_iter()
        .filter_map(|a| emu.aspect(&urn, a).map(|v| (a, v)))
        .collect();
    assert!(aspects.len() >= 3, "template user aspects: {aspects:?}");
    for i in 0..n {
        let user = format!("dir{i:05}@example.com");
        let u = format!("urn:li:corpuser:{user}");
        for (a, v) in &aspects {
            let text = v.to_string().replace(name, &user);
            emu.put_aspect(&u, a, serde_json::from_str(&text).expect("json"));
        }
    }
}

fn seed_groups(app: &TestApp, template: &Value, n: usize) {
    let emu = app.emu().expect("emulator");
    let name = template["displayName"].as_str().expect("displayName");
    let id = template["id"].as_str().expect("id");
    let urn = datahub_scim::provision::ids::group_urn_of_id(id).expect("group id");
    let aspects: Vec<(&str, Value)> = ["corpGroupInfo", "origin", "status"]
        .into_iter()
        .filter_map(|a| emu.aspect(&urn, a).map(|v| (a, v)))
        .collect();
    assert!(aspects.len() >= 2, "template group aspects: {aspects:?}");
    for i in 0..n {
        let g = format!("dirgroup{i:05}");
        for (a, v) in &aspects {
            let text = v.to_string().replace(name, &g);
            emu.put_aspect(
                &format!("urn:li:corpGroup:{g}"),
                a,
                serde_json::from_str(&text).expect("json"),
            );
        }
    }
}

fn scrolls(app: &TestApp) -> u64 {
    let emu = app.emu().expect("emulator");
    let n = emu
        .call_counts()
        .get("graphql.scrollAcrossEntities")
        .copied()
        .unwrap_or(0);
    emu.reset_calls();
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifteen_thousand_users_list_completely_by_index_and_by_cursor() {
    let app = TestApp::builder().gateways(2).spawn().await;
    let emu = require_emulator!(app);
    let template = create_user(&app, "dir-template@example.com").await;
    seed_users(&app, &template, USERS - 1);
    let all = USERS as u64;

    // Okta's import: startIndex/count=100 pages on replica 0, one scroll each.
    emu.reset_calls();
    let mut seen = BTreeSet::new();
    let mut start = 1u64;
    while start <= all {
        let path = format!("/scim/v2/Users?startIndex={start}&count=100&attributes=userName");
        let page = app.get(&path).expect(200).await;
        let items = assert_list(&page, start);
        assert_eq!(
            page["totalResults"].as_u64(),
            Some(all),
            "exact total at {start}"
        );
        assert_eq!(
            items.len() as u64,
            (all - start + 1).min(100),
            "page at {start}"
        );
        for id in ids(&items) {
            assert!(seen.insert(id), "a user listed twice (page at {start})");
        }
        assert_eq!(scrolls(&app), 1, "one scroll for the page at {start}");
        start += 100;
    }
    assert_eq!(seen.len(), USERS, "every user listed once");
    // Past the end: empty, still exact.
    let past = app
        .get(&format!("/scim/v2/Users?startIndex={}&count=100", all + 1))
        .expect(200)
        .await;
    assert_eq!(assert_list(&past, all + 1).len(), 0);
    assert_eq!(past["totalResults"].as_u64(), Some(all));

    // A deep page on a replica that has walked nothing: hops 10,000 at a time.
    emu.reset_calls();
    let deep = app
        .on(
            1,
            Method::GET,
            "/scim/v2/Users?startIndex=14901&count=100",
            None,
        )
        .expect(200)
        .await;
    let items = assert_list(&deep, 14_901);
    assert_eq!(items.len(), 100);
    assert_eq!(scrolls(&app), 2, "⌈14,900 / 10,000⌉ hop + the page");
    // Its next page is then one scroll there too.
    app.on(
        1,
        Method::GET,
        "/scim/v2/Users?startIndex=15001&count=100",
        None,
    )
    .expect(200)
    .await;
    assert_eq!(scrolls(&app), 1);

    // Cursors: any replica continues any walk, one scroll per page.
    let mut cursor_seen = BTreeSet::new();
    let mut next = String::new();
    let mut pages = 0;
    loop {
        let path = format!("/scim/v2/Users?cursor={next}&count=100&attributes=userName");
        let page = app
            .on(pages % 2, Method::GET, &path, None)
            .expect(200)
            .await;
        assert_eq!(page["totalResults"].as_u64(), Some(all));
        assert!(
            page.get("startIndex").is_none(),
            "cursor pages have no startIndex"
        );
        for id in ids(page["Resources"].as_array().expect("Resources")) {
            assert!(cursor_seen.insert(id), "a user on two cursor pages");
        }
        assert_eq!(scrolls(&app), 1, "one scroll for cursor page {pages}");
        pages += 1;
        match page["nextCursor"].as_str() {
            Some(c) => next = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, USERS / 100, "no empty page after the last one");
    assert_eq!(cursor_seen, seen);

    // A cursor replayed with another filter, or edited, is invalidCursor.
    let first = app.get("/scim/v2/Users?cursor=&count=10").expect(200).await;
    let c = first["nextCursor"].as_str().expect("nextCursor").to_owned();
    let other = app
        .get(&format!(
            "/scim/v2/Users?cursor={c}&count=10&filter=active%20eq%20true"
        ))
        .expect(400)
        .await;
    assert_eq!(other["scimType"], "invalidCursor");
    app.get("/scim/v2/Users?cursor=&startIndex=1")
        .expect(400)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_past_ten_thousand_list_by_index_and_by_cursor() {
    let app = TestApp::spawn().await;
    let emu = require_emulator!(app);
    let template = create_group(&app, "dirgroup-template").await;
    seed_groups(&app, &template, GROUPS - 1);
    let all = GROUPS as u64;
    emu.reset_calls();
    // Deep pages by index: exact total, full pages, the last one short.
    for start in [1u64, 9_951, 10_001, 10_401, 10_451] {
        let path =
            format!("/scim/v2/Groups?startIndex={start}&count=100&excludedAttributes=members");
        let page = app.get(&path).expect(200).await;
        let items = assert_list(&page, start);
        assert_eq!(page["totalResults"].as_u64(), Some(all), "at {start}");
        assert_eq!(items.len() as u64, (all - start + 1).min(100), "at {start}");
    }
    // The whole directory by cursor, 1000 at a time.
    let mut seen = BTreeSet::new();
    let mut next = String::new();
    loop {
        let page = app
            .get(&format!(
                "/scim/v2/Groups?cursor={next}&count=1000&excludedAttributes=members"
            ))
            .expect(200)
            .await;
        assert_eq!(page["totalResults"].as_u64(), Some(all));
        for id in ids(page["Resources"].as_array().expect("Resources")) {
            assert!(seen.insert(id), "a group on two pages");
        }
        match page["nextCursor"].as_str() {
            Some(c) => next = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), GROUPS);
}
