//! Lists: key lookups, stable paging, index pre-filters, filters in memory.

use serde_json::json;

use super::{calls, config, q, replica_client, Env};
use crate::provision::Provisioner;

#[tokio::test]
async fn username_filter_is_one_key_read_and_case_insensitive() {
    let env = Env::start().await;
    env.prov
        .create_user(&env.ctx, json!({"userName": "Jane@X.com"}))
        .await
        .expect("user");
    env.take_calls();
    let l = env
        .users("filter=userName+eq+%22jane@x.com%22&startIndex=1&count=100")
        .await;
    // No lower-casing: another spelling is another urn, so the key read misses and
    // one case-insensitive index query finds the user (verified by a batch read).
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(l["Resources"][0]["userName"], json!("Jane@X.com"));
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("restli.entitiesV2.batchGet", 2),
            ("graphql.searchAcrossEntities", 1)
        ])
    );
    let l = env.users("filter=userName+eq+%22Jane@X.com%22").await;
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)]),
        "exact spelling: one key read, no search"
    );

    let mut cfg = super::config();
    cfg.username_lowercase = true;
    let env = Env::with(cfg).await;
    env.prov
        .create_user(&env.ctx, json!({"userName": "Jane@X.com"}))
        .await
        .expect("user");
    let l = env.users("filter=userName%20eq%20%22JANE@X.COM%22").await;
    assert_eq!(
        l["totalResults"],
        json!(1),
        "Okta probes with the username upper-cased"
    );
    let l = env.users("filter=userName%20eq%20%22f9a6-guid%22").await;
    assert_eq!(
        l,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );
}

#[tokio::test]
async fn okta_import_pages_are_stable_and_complete() {
    let env = Env::start().await;
    for i in 0..7 {
        env.prov
            .create_user(&env.ctx, json!({"userName": format!("user{}", 7 - i)}))
            .await
            .expect("user");
    }
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = env.users(&format!("startIndex={start}&count=3")).await;
        let total = page["totalResults"].as_u64().expect("total") as usize;
        let res = page["Resources"].as_array().expect("resources").clone();
        seen.extend(
            res.iter()
                .map(|r| r["userName"].as_str().expect("userName").to_owned()),
        );
        start += 3;
        if start > total {
            break;
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "urn order");
    assert_eq!(seen.len(), 7);
    // The admin user "datahub" is a DataHub user, but not one of SCIM's resources.
    assert!(seen.contains(&"user1".to_string()) && !seen.contains(&"datahub".to_string()));
}

#[tokio::test]
async fn external_id_and_generic_filters() {
    let env = Env::start().await;
    env.prov
        .create_user(
            &env.ctx,
            json!({"userName": "a", "externalId": "ext-a", "title": "Eng"}),
        )
        .await
        .expect("user");
    env.prov
        .create_user(
            &env.ctx,
            json!({"userName": "b", "externalId": "ext-b", "title": "Ops", "active": false}),
        )
        .await
        .expect("user");
    let l = env.users("filter=externalId%20eq%20%22ext-b%22").await;
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(l["Resources"][0]["userName"], json!("b"));
    let l = env
        .users("filter=title%20eq%20%22Eng%22%20or%20active%20eq%20false")
        .await;
    assert_eq!(l["totalResults"], json!(2));
    let l = env
        .users("filter=title%20eq%20%22Eng%22&attributes=userName")
        .await;
    assert_eq!(l["totalResults"], json!(1));
    assert!(l["Resources"][0].get("title").is_none(), "projection");
}

#[tokio::test]
async fn count_is_capped() {
    let mut cfg = super::config();
    cfg.max_page_size = 2;
    let env = Env::with(cfg).await;
    for n in ["x1", "x2", "x3"] {
        env.prov
            .create_user(&env.ctx, json!({"userName": n}))
            .await
            .expect("user");
    }
    let l = env.users("count=500").await;
    assert_eq!(l["itemsPerPage"], json!(2));
    assert_eq!(l["totalResults"], json!(3));
}

#[tokio::test]
async fn entra_email_filter_uses_the_index_then_verifies() {
    let env = Env::start().await;
    let body = json!({"userName": "e1", "emails": [{"value": "E1@contoso.com", "type": "work", "primary": true}]});
    env.prov.create_user(&env.ctx, body).await.expect("user");
    env.prov
        .create_user(
            &env.ctx,
            json!({"userName": "e2", "emails": [{"value": "e2@contoso.com", "type": "work"}]}),
        )
        .await
        .expect("user");
    env.take_calls();
    let l = env
        .users("filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22e1@contoso.com%22")
        .await;
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(l["Resources"][0]["userName"], json!("e1"));
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1)
        ])
    );
}

#[tokio::test]
async fn group_import_pages_carry_members_and_filters_work() {
    let env = Env::start().await;
    let a = env
        .prov
        .create_user(&env.ctx, json!({"userName": "a"}))
        .await
        .expect("user");
    let aid = a["id"].as_str().expect("id").to_owned();
    for name in ["G3", "G1", "G2"] {
        let body = json!({"displayName": name, "members": [{"value": aid}]});
        env.prov.create_group(&env.ctx, body).await.expect("group");
    }
    let l = env.groups("startIndex=2&count=2").await;
    assert_eq!(l["totalResults"], json!(3));
    let names: Vec<&str> = l["Resources"]
        .as_array()
        .expect("r")
        .iter()
        .map(|g| g["displayName"].as_str().expect("n"))
        .collect();
    assert_eq!(names, vec!["G2", "G3"], "urn order");
    assert_eq!(l["Resources"][0]["members"][0]["value"], json!(aid));
    let f = format!("filter=members%5Bvalue%20eq%20%22{aid}%22%5D&excludedAttributes=members");
    let l = env.groups(&f).await;
    assert_eq!(l["totalResults"], json!(3));
    assert!(l["Resources"][0].get("members").is_none());
    // Group externalIds live in `origin`, which DataHub does not index: a miss scans
    // the groups once (1 scroll + 1 read) and remembers every externalId it saw.
    for (name, ext) in [("E1", "8aa1a0c0-1"), ("E2", "8aa1a0c0-2")] {
        let body = json!({"displayName": name, "externalId": ext});
        env.prov.create_group(&env.ctx, body).await.expect("group");
    }
    let replica = Provisioner::new(config(), replica_client(&env.emu).await);
    env.take_calls();
    let l = replica
        .list_groups(&env.ctx, &q("filter=externalId%20eq%20%228aa1a0c0-1%22"))
        .await
        .expect("list");
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(l["Resources"][0]["displayName"], json!("E1"));
    assert_eq!(l["Resources"][0]["externalId"], json!("8aa1a0c0-1"));
    let calls = env.take_calls();
    assert_eq!(
        calls.get("graphql.scrollAcrossEntities"),
        Some(&1),
        "{calls:?}"
    );
    let l = replica
        .list_groups(
            &env.ctx,
            &q("excludedAttributes=members&filter=externalId%20eq%20%228aa1a0c0-2%22"),
        )
        .await
        .expect("list");
    assert_eq!(l["Resources"][0]["displayName"], json!("E2"));
    let calls = env.take_calls();
    assert!(
        !calls.contains_key("graphql.scrollAcrossEntities"),
        "the scan remembered E2's externalId: {calls:?}"
    );
    let l = replica
        .list_groups(&env.ctx, &q("filter=externalId%20eq%20%22x%22"))
        .await
        .expect("list");
    assert_eq!(l["totalResults"], json!(0));
}

#[tokio::test]
async fn a_list_over_many_batches_keeps_urn_order_and_exact_totals() {
    let mut cfg = super::config();
    cfg.max_page_size = 100;
    let env = Env::with(cfg).await;
    for i in 0..250 {
        let body = json!({"userName": format!("bulk{i:03}")});
        env.prov.create_user(&env.ctx, body).await.expect("user");
    }
    env.take_calls();
    let l = env.users("startIndex=201&count=100").await;
    assert_eq!(l["totalResults"], json!(250));
    assert_eq!(l["itemsPerPage"], json!(50));
    assert_eq!(l["Resources"][0]["userName"], json!("bulk200"));
    assert_eq!(l["Resources"][49]["userName"], json!("bulk249"));
    // The index selects the SCIM users and this page only: one scroll, one batch read.
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1)
        ])
    );
}

#[tokio::test]
async fn sort_by_is_honoured_before_paging() {
    let env = Env::start().await;
    for (u, t) in [("a", "Zeta"), ("b", "Alpha"), ("c", "Mid")] {
        env.prov
            .create_user(&env.ctx, json!({"userName": u, "title": t}))
            .await
            .expect("user");
    }
    let l = env.users("sortBy=title&startIndex=2&count=1").await;
    assert_eq!(l["totalResults"], json!(3));
    assert_eq!(l["Resources"][0]["userName"], json!("c"));
    let l = env.users("sortBy=title&sortOrder=descending&count=1").await;
    assert_eq!(l["Resources"][0]["userName"], json!("a"));
    for g in ["b-group", "A-group", "c-group"] {
        env.prov
            .create_group(&env.ctx, json!({"displayName": g}))
            .await
            .expect("group");
    }
    let l = env
        .groups("sortBy=displayName&sortOrder=descending&excludedAttributes=members")
        .await;
    let names: Vec<&str> = l["Resources"]
        .as_array()
        .expect("r")
        .iter()
        .map(|g| g["displayName"].as_str().expect("n"))
        .collect();
    assert_eq!(names, vec!["c-group", "b-group", "A-group"]);
}

#[tokio::test]
async fn key_lookups_read_each_candidate_once() {
    let env = Env::start().await;
    env.prov
        .create_user(&env.ctx, json!({"userName": "e", "externalId": "ext-e"}))
        .await
        .expect("user");
    env.prov
        .create_group(&env.ctx, json!({"displayName": "Data Eng"}))
        .await
        .expect("group");
    // A replica with a cold ID-mapping cache.
    let client = super::replica_client(&env.emu).await;
    let cold = crate::provision::Provisioner::new(super::config(), client);
    env.take_calls();
    let l = cold
        .list_users(&env.ctx, &q("filter=externalId%20eq%20%22ext-e%22"))
        .await
        .expect("list");
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.searchAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1)
        ]),
        "cache miss: one search, one read"
    );
    let l = cold
        .list_groups(
            &env.ctx,
            &q("filter=displayName%20eq%20%22data%20eng%22&excludedAttributes=members"),
        )
        .await
        .expect("list");
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(l["Resources"][0]["displayName"], json!("Data Eng"));
    // "data eng" derives another urn (urns are case-exact): that read misses, then
    // one search and one read of the hit.
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.searchAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 2)
        ])
    );
    let l = cold
        .list_groups(
            &env.ctx,
            &q("filter=displayName%20eq%20%22Data%20Eng%22&excludedAttributes=members"),
        )
        .await
        .expect("list");
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)]),
        "the exact name: one key read"
    );
}
