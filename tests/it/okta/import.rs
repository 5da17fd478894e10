//! Okta import ("Import Now"): pages of 100, stable order, no duplicates, RFC 7644
//! §3.4.2.4 paging edges.

use crate::harness::TestApp;
use crate::require_emulator;
use crate::support::flows::*;
use crate::support::scim::*;
use serde_json::json;

/// Import: `startIndex=1&count=100`, then `101`, stable and without duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_import_pages_by_100() {
    let app = TestApp::spawn().await;
    // Exact paging needs a store no other test writes to at the same time.
    require_emulator!(app);
    let mut created = Vec::new();
    for i in 0..105 {
        let u = create_user(&app, &app.uniq(&format!("import{i:03}"))).await;
        created.push(u["id"].as_str().expect("id").to_owned());
    }
    let p1 = app
        .get("/scim/v2/Users?startIndex=1&count=100")
        .expect(200)
        .await;
    let r1 = assert_list(&p1, 1);
    let total = p1["totalResults"].as_u64().expect("total");
    assert!(total >= 105, "{total}");
    assert_eq!(r1.len(), 100);
    let p2 = app
        .get("/scim/v2/Users?startIndex=101&count=100")
        .expect(200)
        .await;
    let r2 = assert_list(&p2, 101);
    assert_eq!(
        p2["totalResults"].as_u64(),
        Some(total),
        "totalResults is stable across pages"
    );
    assert_eq!(r2.len() as u64, (total - 100).min(100));
    let mut all = ids(&r1);
    all.extend(ids(&r2));
    let uniq = sorted(&all);
    let mut dedup = uniq.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), all.len(), "no user on two pages");
    for id in &created {
        assert!(all.contains(id), "{id} imported");
    }
    r1.iter().chain(r2.iter()).for_each(assert_user_shape);
    // RFC 7644 §3.4.2.4: startIndex < 1 is 1; count 0 returns only totalResults.
    let v = app
        .get("/scim/v2/Users?startIndex=0&count=5")
        .expect(200)
        .await;
    assert_eq!(ids(&assert_list(&v, 1)), ids(&r1[..5]));
    let v = app
        .get("/scim/v2/Users?startIndex=1&count=0")
        .expect(200)
        .await;
    assert_eq!(assert_list(&v, 1).len(), 0);
    assert_eq!(v["totalResults"].as_u64(), Some(total));
    // Past the end: an empty page, not an error.
    let v = app
        .get(&format!(
            "/scim/v2/Users?startIndex={}&count=100",
            total + 1
        ))
        .expect(200)
        .await;
    assert_eq!(assert_list(&v, total + 1).len(), 0);
    // The same first page again, in the same order.
    let again = app
        .get("/scim/v2/Users?startIndex=1&count=100")
        .expect(200)
        .await;
    assert_eq!(ids(&assert_list(&again, 1)), ids(&r1), "stable ordering");

    // Groups import page.
    for g in ["Import A", "Import B", "Import C"] {
        create_group(&app, &app.uniq(g)).await;
    }
    let v = app
        .get("/scim/v2/Groups?startIndex=1&count=100")
        .expect(200)
        .await;
    let gs = assert_list(&v, 1);
    assert_eq!(gs.len(), 3);
    gs.iter().for_each(assert_group_shape);

    // Okta learns group memberships from the members arrays of the import pages.
    let gid = group_id("Import B");
    let add = patch(
        json!([{"op": "add", "path": "members", "value": [{"value": created[0]}, {"value": created[104]}]}]),
    );
    patch_ok(&app, &group_path(&gid), add).await;
    let v = app
        .get("/scim/v2/Groups?startIndex=1&count=100")
        .expect(200)
        .await;
    let gs = assert_list(&v, 1);
    let b = gs
        .iter()
        .find(|g| g["id"] == json!(gid))
        .expect("Import B listed");
    assert_eq!(
        member_ids(b),
        sorted(&[created[0].clone(), created[104].clone()]),
        "{b}"
    );

    // A count above the server's page size is capped, and paging still adds up.
    let v = app
        .get("/scim/v2/Users?startIndex=1&count=1000")
        .expect(200)
        .await;
    let big = assert_list(&v, 1);
    assert!(
        big.len() <= 100,
        "count is capped at the configured page size"
    );
    assert_eq!(v["totalResults"].as_u64(), Some(total));
    app.shutdown().await;
}
