//! Root `POST /.search`: Users then Groups, paged over both.

use serde_json::{json, Value};

use super::Env;
use crate::scim::ListQuery;

fn search(body: Value) -> ListQuery {
    ListQuery::from_search_body(&body).expect("search body")
}

fn names(l: &Value) -> Vec<String> {
    l["Resources"]
        .as_array()
        .expect("Resources")
        .iter()
        .map(|r| {
            let n = r.get("userName").or_else(|| r.get("displayName"));
            format!(
                "{}:{}",
                r["meta"]["resourceType"].as_str().unwrap_or("?"),
                n.and_then(Value::as_str).unwrap_or("?")
            )
        })
        .collect()
}

#[tokio::test]
async fn root_search_pages_over_users_then_groups() {
    let env = Env::start().await;
    for u in ["a", "b", "c"] {
        env.prov
            .create_user(&env.ctx, json!({"userName": u}))
            .await
            .expect("user");
    }
    for g in ["G1", "G2"] {
        env.prov
            .create_group(&env.ctx, json!({"displayName": g}))
            .await
            .expect("group");
    }
    let all = env
        .prov
        .search_all(&env.ctx, &search(json!({})))
        .await
        .expect("search");
    assert_eq!(all["totalResults"], json!(5));
    assert_eq!(
        names(&all),
        ["User:a", "User:b", "User:c", "Group:G1", "Group:G2"]
    );

    // A page across the boundary, and one inside the groups.
    let p = env
        .prov
        .search_all(&env.ctx, &search(json!({"startIndex": 3, "count": 2})))
        .await
        .expect("search");
    assert_eq!(p["totalResults"], json!(5));
    assert_eq!(p["startIndex"], json!(3));
    assert_eq!(p["itemsPerPage"], json!(2));
    assert_eq!(names(&p), ["User:c", "Group:G1"]);
    let p = env
        .prov
        .search_all(&env.ctx, &search(json!({"startIndex": 5, "count": 10})))
        .await
        .expect("search");
    assert_eq!(names(&p), ["Group:G2"]);
    assert_eq!(p["totalResults"], json!(5));
    let p = env
        .prov
        .search_all(
            &env.ctx,
            &search(json!({"startIndex": i64::MAX, "count": i64::MAX})),
        )
        .await
        .expect("search far past the end");
    assert_eq!(p["totalResults"], json!(5));
    assert_eq!(p["Resources"], json!([]));

    // The filter decides the types.
    let f = env
        .prov
        .search_all(
            &env.ctx,
            &search(json!({"filter": "userName eq \"b\"", "attributes": ["userName"]})),
        )
        .await
        .expect("search");
    assert_eq!(names(&f), ["?:b"], "projected: {f}");
    assert_eq!(f["totalResults"], json!(1));
    let f = env
        .prov
        .search_all(
            &env.ctx,
            &search(json!({"filter": "displayName eq \"G2\""})),
        )
        .await
        .expect("search");
    assert_eq!(names(&f), ["Group:G2"]);
}

#[tokio::test]
async fn a_start_index_past_any_index_is_an_empty_page_not_a_502() {
    let env = Env::start().await;
    env.prov
        .create_user(&env.ctx, json!({"userName": "a"}))
        .await
        .expect("user");
    env.prov
        .create_group(&env.ctx, json!({"displayName": "G"}))
        .await
        .expect("group");
    for start in ["2147483648", "4294967296", "9223372036854775807"] {
        let q = super::q(&format!("startIndex={start}&count=100"));
        let u = env.prov.list_users(&env.ctx, &q).await.expect("users");
        assert_eq!(u["totalResults"], json!(1), "{start}");
        assert_eq!(u["Resources"], json!([]));
        let g = env.prov.list_groups(&env.ctx, &q).await.expect("groups");
        assert_eq!(g["totalResults"], json!(1), "{start}");
        assert_eq!(g["Resources"], json!([]));
    }
}
