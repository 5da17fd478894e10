//! List cost at scale: a page costs a constant number of GMS calls whatever the
//! number of users or groups, only SCIM users are listed, paging is stable, and
//! what the index cannot answer is bounded (`400 tooMany`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{calls, q, Env};
use crate::scim::ScimType;

/// A user DataHub knows from an SSO login only (no SCIM marker).
fn sso_user(env: &Env, name: &str) {
    let urn = format!("urn:li:corpuser:{name}");
    env.emu
        .put_aspect(&urn, "corpUserKey", json!({"username": name}));
    env.emu.put_aspect(
        &urn,
        "corpUserInfo",
        json!({"active": true, "displayName": name, "email": format!("{name}@x.com")}),
    );
}

async fn users(env: &Env, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let body = json!({"userName": format!("u{i:03}"), "externalId": format!("e{i}"),
            "emails": [{"value": format!("u{i}@x.com"), "type": "work", "primary": true}]});
        let u = env.prov.create_user(&env.ctx, body).await.expect("user");
        ids.push(u["id"].as_str().expect("id").to_owned());
    }
    ids
}

fn names(l: &Value, attr: &str) -> Vec<String> {
    l["Resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r[attr].as_str().expect("attr").to_owned())
        .collect()
}

async fn page_cost(env: &Env, qs: &str, groups: bool) -> (Value, BTreeMap<String, u64>) {
    env.take_calls();
    let l = if groups {
        env.prov.list_groups(&env.ctx, &q(qs)).await
    } else {
        env.prov.list_users(&env.ctx, &q(qs)).await
    }
    .expect("list");
    (l, env.take_calls())
}

#[tokio::test]
async fn a_user_page_costs_the_same_for_1_and_300_users() {
    let small = Env::start().await;
    users(&small, 1).await;
    let big = Env::start().await;
    users(&big, 300).await;
    for i in 0..20 {
        sso_user(&big, &format!("sso{i:02}"));
    }
    let qs = "startIndex=1&count=100";
    let (l1, c1) = page_cost(&small, qs, false).await;
    let (l300, c300) = page_cost(&big, qs, false).await;
    let want = calls(&[
        ("graphql.scrollAcrossEntities", 1),
        ("restli.entitiesV2.batchGet", 1),
    ]);
    assert_eq!(c1, want);
    assert_eq!(c300, want, "same cost with 300 users");
    assert_eq!(
        (l1["totalResults"].clone(), l1["itemsPerPage"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(
        l300["totalResults"],
        json!(300),
        "SSO-only users and the root are not counted"
    );
    assert_eq!(l300["itemsPerPage"], json!(100));
    // A later page costs the same (no scan of what comes before).
    let (l, c) = page_cost(&big, "startIndex=201&count=100", false).await;
    assert_eq!(c, want);
    assert_eq!(names(&l, "userName")[0], "u200");
    // An exact index filter is one page too.
    let (l, c) = page_cost(
        &big,
        "filter=active%20eq%20true&startIndex=101&count=50",
        false,
    )
    .await;
    assert_eq!(c, want);
    assert_eq!(l["totalResults"], json!(300));
    assert_eq!(names(&l, "userName")[0], "u100");
}

#[tokio::test]
async fn only_scim_users_appear_and_paging_is_stable() {
    let env = Env::start().await;
    let ids = users(&env, 7).await;
    for n in ["a-sso", "u003x", "zz-sso"] {
        sso_user(&env, n);
    }
    env.prov
        .delete_user(&env.ctx, &ids[4])
        .await
        .expect("deleted");
    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let l = env.users(&format!("startIndex={start}&count=2")).await;
        assert_eq!(
            l["totalResults"],
            json!(6),
            "soft-deleted users are not counted"
        );
        seen.extend(names(&l, "userName"));
        start += 2;
        if start > 6 {
            break;
        }
    }
    assert_eq!(seen, ["u000", "u001", "u002", "u003", "u005", "u006"]);
    // Not even a filter that matches them finds users outside SCIM.
    for f in [
        "displayName%20eq%20%22a-sso%22",
        "emails.value%20eq%20%22zz-sso@x.com%22",
        "userName%20sw%20%22u003x%22",
        "active%20eq%20true%20and%20displayName%20pr",
    ] {
        let l = env.users(&format!("filter={f}")).await;
        assert!(
            names(&l, "userName")
                .iter()
                .all(|n| n.starts_with('u') && n.len() == 4),
            "{f}: {l}"
        );
    }
    let l = env.users("filter=displayName%20eq%20%22a-sso%22").await;
    assert_eq!(l["totalResults"], json!(0));
}

#[tokio::test]
async fn adopting_and_rewriting_keep_the_marker() {
    let env = Env::start().await;
    sso_user(&env, "jo");
    let l = env.users("").await;
    assert_eq!(l["totalResults"], json!(0));
    let u = env
        .prov
        .create_user(&env.ctx, json!({"userName": "jo"}))
        .await
        .expect("adopted");
    let id = u["id"].as_str().expect("id").to_owned();
    let marker = |env: &Env| {
        env.aspect("urn:li:corpuser:jo", "corpUserInfo")["customProperties"]["scim.managed"].clone()
    };
    assert_eq!(marker(&env), json!("true"));
    let l = env.users("").await;
    assert_eq!(names(&l, "userName"), ["jo"]);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false, "title": "T"}}]});
    env.prov
        .patch_user(&env.ctx, &id, patch)
        .await
        .expect("patched");
    assert_eq!(marker(&env), json!("true"));
    env.prov
        .replace_user(&env.ctx, &id, json!({"userName": "jo", "active": true}))
        .await
        .expect("put");
    assert_eq!(marker(&env), json!("true"));
    env.prov.delete_user(&env.ctx, &id).await.expect("deleted");
    env.prov
        .create_user(&env.ctx, json!({"userName": "jo"}))
        .await
        .expect("revived");
    assert_eq!(marker(&env), json!("true"));
    let l = env.users("").await;
    assert_eq!(l["totalResults"], json!(1));
}

#[tokio::test]
async fn translated_filters_are_index_pages_and_suspension_counts_as_inactive() {
    let env = Env::start().await;
    users(&env, 5).await;
    // An admin suspends u001 in DataHub: SCIM shows it inactive.
    env.emu.put_aspect(
        "urn:li:corpuser:u001",
        "corpUserStatus",
        json!({"status": "SUSPENDED", "lastModified": {"time": 1, "actor": "urn:li:corpuser:datahub"}}),
    );
    let want = calls(&[
        ("graphql.scrollAcrossEntities", 1),
        ("restli.entitiesV2.batchGet", 1),
    ]);
    let (l, c) = page_cost(&env, "filter=active%20eq%20false", false).await;
    assert_eq!(c, want);
    assert_eq!(names(&l, "userName"), ["u001"]);
    let (l, c) = page_cost(&env, "filter=active%20eq%20true", false).await;
    assert_eq!(c, want);
    assert_eq!(l["totalResults"], json!(4));
    let f = "filter=externalId%20eq%20%22e3%22%20and%20active%20eq%20true";
    let (l, c) = page_cost(&env, f, false).await;
    assert_eq!(c, want);
    assert_eq!(names(&l, "userName"), ["u003"]);
    // Entra's email filter narrows by the primary email, then checks the type.
    let f = "filter=emails%5Btype%20eq%20%22work%22%5D.value%20eq%20%22U2@x.com%22";
    let (l, c) = page_cost(&env, f, false).await;
    assert_eq!(c, want);
    assert_eq!(names(&l, "userName"), ["u002"]);
}

#[tokio::test]
async fn untranslatable_filters_and_sorting_are_bounded() {
    let mut cfg = super::config();
    cfg.max_filter_scan = 5;
    let env = Env::with(cfg).await;
    users(&env, 5).await;
    // Within the bound: scanned, checked in memory, exact totals.
    let (l, c) = page_cost(&env, "filter=userName%20co%20%2200%22&count=2", false).await;
    assert_eq!(l["totalResults"], json!(5));
    assert_eq!(
        c,
        calls(&[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1)
        ])
    );
    env.prov
        .create_user(&env.ctx, json!({"userName": "u005"}))
        .await
        .expect("sixth");
    for qs in [
        "filter=userName%20co%20%2200%22",
        "filter=not%20(title%20eq%20%22x%22)",
        "sortBy=userName",
        "filter=title%20eq%20%22x%22%20or%20displayName%20eq%20%22y%22",
    ] {
        env.take_calls();
        let e = env
            .prov
            .list_users(&env.ctx, &q(qs))
            .await
            .expect_err("too many");
        assert_eq!(
            (e.status, e.scim_type),
            (400, Some(ScimType::TooMany)),
            "{qs}"
        );
        assert_eq!(
            env.take_calls(),
            calls(&[("graphql.scrollAcrossEntities", 1)]),
            "{qs}: refused before any hydration"
        );
    }
    // What the index answers is not bounded, nor are key lookups.
    let l = env.users("count=100").await;
    assert_eq!(l["totalResults"], json!(6));
    let l = env.users("filter=userName%20eq%20%22u005%22").await;
    assert_eq!(l["totalResults"], json!(1));
    // Groups: a filter that is not a key lookup is bounded too.
    for i in 0..6 {
        env.prov
            .create_group(&env.ctx, json!({"displayName": format!("g{i}")}))
            .await
            .expect("group");
    }
    let e = env
        .prov
        .list_groups(&env.ctx, &q("filter=displayName%20co%20%22g%22"))
        .await
        .expect_err("too many");
    assert_eq!(e.scim_type, Some(ScimType::TooMany));
    let l = env.groups("").await;
    assert_eq!(l["totalResults"], json!(6));
}

#[tokio::test]
async fn a_groups_page_with_members_costs_a_constant_number_of_calls() {
    async fn setup(n: usize) -> Env {
        let env = Env::start().await;
        let ids = users(&env, 3).await;
        for i in 0..n {
            let members: Vec<Value> = ids
                .iter()
                .take(1 + i % 3)
                .map(|id| json!({"value": id}))
                .collect();
            let body = json!({"displayName": format!("G{i:02}"), "members": members});
            env.prov.create_group(&env.ctx, body).await.expect("group");
        }
        env
    }
    let want = calls(&[
        ("graphql.corpGroup", 1),
        ("graphql.scrollAcrossEntities", 1),
        ("restli.entitiesV2.batchGet", 1),
    ]);
    let one = setup(1).await;
    let (l, c) = page_cost(&one, "startIndex=1&count=100", true).await;
    assert_eq!(c, want);
    assert_eq!(
        l["Resources"][0]["members"].as_array().map(Vec::len),
        Some(1)
    );
    let many = setup(30).await;
    let (l, c) = page_cost(&many, "startIndex=1&count=100", true).await;
    assert_eq!(c, want, "30 groups: still one relationships request");
    assert_eq!(l["totalResults"], json!(30));
    let sizes: Vec<usize> = l["Resources"]
        .as_array()
        .expect("r")
        .iter()
        .map(|g| g["members"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes.len(), 30);
    assert!(
        sizes.iter().enumerate().all(|(i, n)| *n == 1 + i % 3),
        "{sizes:?}"
    );
    let (l, c) = page_cost(
        &many,
        "startIndex=11&count=5&excludedAttributes=members",
        true,
    )
    .await;
    assert_eq!(
        c,
        calls(&[
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1)
        ]),
        "no members asked, none read"
    );
    assert_eq!(
        names(&l, "displayName"),
        ["G10", "G11", "G12", "G13", "G14"]
    );
}

#[tokio::test]
async fn only_groups_with_more_than_a_page_of_members_are_paged_on() {
    let env = Env::start().await;
    for g in ["big", "small"] {
        env.prov
            .create_group(&env.ctx, json!({"displayName": g}))
            .await
            .expect("group");
    }
    // 1001 members of "big" (written straight to the store: only the edges matter).
    for i in 0..1001 {
        let urn = format!("urn:li:corpuser:m{i:04}");
        env.emu
            .put_aspect(&urn, "corpUserKey", json!({"username": format!("m{i:04}")}));
        env.emu.put_aspect(
            &urn,
            "groupMembership",
            json!({"groups": ["urn:li:corpGroup:big"]}),
        );
    }
    let (l, c) = page_cost(&env, "", true).await;
    assert_eq!(
        c,
        calls(&[
            ("graphql.corpGroup", 2),
            ("graphql.scrollAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
        ]),
        "one aliased request for both groups, one more page for the big one"
    );
    let sizes: Vec<usize> = l["Resources"]
        .as_array()
        .expect("r")
        .iter()
        .map(|g| g["members"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, [1001, 0]);
}
