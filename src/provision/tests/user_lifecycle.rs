//! User lifecycle edges: delete policies, unknown ids, upstream failures, races,
//! the externalId cache.

use serde_json::json;

use super::{calls, okta_user, q, Env};
use crate::provision::ids;

#[tokio::test]
async fn soft_delete_hides_then_create_revives() {
    let env = Env::start().await;
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("d@x.com"))
        .await
        .expect("created");
    let id = u["id"].as_str().expect("id").to_owned();
    let urn = "urn:li:corpuser:d@x.com";
    env.take_calls();
    env.prov.delete_user(&env.ctx, &id).await.expect("deleted");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1)
        ])
    );
    assert_eq!(env.aspect(urn, "status")["removed"], json!(true));
    assert_eq!(
        env.aspect(urn, "corpUserStatus")["status"],
        json!("SUSPENDED")
    );
    assert_eq!(
        env.prov
            .get_user(&env.ctx, &id, &q(""))
            .await
            .expect_err("gone")
            .status,
        404
    );
    assert_eq!(
        env.prov
            .delete_user(&env.ctx, &id)
            .await
            .expect_err("gone")
            .status,
        404
    );
    let list = env.users("filter=userName%20eq%20%22d@x.com%22").await;
    assert_eq!(list["totalResults"], json!(0));
    let list = env
        .users("filter=externalId%20eq%20%2200ujl29u0le5T6Aj10h7%22")
        .await;
    assert_eq!(list["totalResults"], json!(0));

    let again = env
        .prov
        .create_user(&env.ctx, okta_user("d@x.com"))
        .await
        .expect("revived");
    assert_eq!(again["id"], json!(id));
    assert_eq!(env.aspect(urn, "status")["removed"], json!(false));
    assert_eq!(env.aspect(urn, "corpUserStatus")["status"], json!("ACTIVE"));
}

#[tokio::test]
async fn hard_delete_policy() {
    let mut cfg = super::config();
    cfg.user_delete = crate::provision::DeletePolicy::Hard;
    let env = Env::with(cfg).await;
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("h@x.com"))
        .await
        .expect("created");
    let id = u["id"].as_str().expect("id").to_owned();
    env.take_calls();
    env.prov.delete_user(&env.ctx, &id).await.expect("deleted");
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1), ("restli.delete", 1)])
    );
    assert!(!env.emu.entity_exists("urn:li:corpuser:h@x.com"));
    assert_eq!(
        env.prov
            .get_user(&env.ctx, &id, &q(""))
            .await
            .expect_err("gone")
            .status,
        404
    );
}

#[tokio::test]
async fn unknown_ids_are_404_and_upstream_failures_map() {
    let env = Env::start().await;
    for id in [
        "010101001010101011001010101011",
        "00919288221112222",
        "%%",
        "_w",
    ] {
        let e = env
            .prov
            .get_user(&env.ctx, id, &q(""))
            .await
            .expect_err("404");
        assert_eq!(e.status, 404, "{id}");
    }
    env.emu
        .faults()
        .fail_next_on("restli.entitiesV2.batchGet", 1, 503);
    let e = env
        .prov
        .create_user(&env.ctx, okta_user("f@x.com"))
        .await
        .expect_err("503");
    assert_eq!(e.status, 503);
    let mut ctx = env.ctx.clone();
    ctx.token = "not-a-token".into();
    assert_eq!(
        env.prov
            .get_user(&ctx, &ids::user_id("f@x.com"), &q(""))
            .await
            .expect_err("401")
            .status,
        401
    );
}

#[tokio::test]
async fn two_replicas_creating_at_once_cannot_both_win() {
    let env = Env::start().await;
    let other =
        crate::provision::Provisioner::new(super::config(), super::replica_client(&env.emu).await);
    let (a, b) = tokio::join!(
        env.prov.create_user(&env.ctx, okta_user("race@x.com")),
        other.create_user(&env.ctx, okta_user("race@x.com")),
    );
    let statuses: Vec<u16> = [a, b]
        .into_iter()
        .map(|r| r.map(|_| 201).unwrap_or_else(|e| e.status))
        .collect();
    assert!(
        statuses.contains(&201) && statuses.contains(&409),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn lost_races_are_retried_then_503_with_retry_after() {
    let env = Env::start().await;
    env.emu
        .faults()
        .fail_next_on("restli.ingestProposalBatch", 2, 412);
    env.take_calls();
    env.prov
        .create_user(&env.ctx, okta_user("retry@x.com"))
        .await
        .expect("third round wins");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.searchAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 3),
            ("restli.ingestProposalBatch", 3)
        ])
    );

    env.emu
        .faults()
        .fail_next_on("restli.ingestProposalBatch", 3, 412);
    let e = env
        .prov
        .create_user(&env.ctx, okta_user("never@x.com"))
        .await
        .expect_err("exhausted");
    assert_eq!((e.status, e.retry_after), (503, Some(1)));
    assert!(
        !env.emu.entity_exists("urn:li:corpuser:never@x.com"),
        "nothing half-written"
    );
}

#[tokio::test]
async fn external_id_lookups_hit_the_cache_and_stay_verified() {
    let env = Env::start().await;
    env.prov
        .create_user(&env.ctx, okta_user("c@x.com"))
        .await
        .expect("created");
    env.take_calls();
    let f = super::q("filter=externalId%20eq%20%2200ujl29u0le5T6Aj10h7%22");
    let l = env.prov.list_users(&env.ctx, &f).await.expect("list");
    assert_eq!(l["totalResults"], json!(1));
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)]),
        "remembered at create: one read (the check is what is rendered), no search"
    );
    let before = env.prov.cache_stats();
    assert!(before.hits >= 1);

    // Someone else moves the externalId in DataHub: the stale entry is not trusted.
    let mut info = env.aspect("urn:li:corpuser:c@x.com", "corpUserInfo");
    info["customProperties"]["scim.externalId"] = json!("other");
    env.emu
        .put_aspect("urn:li:corpuser:c@x.com", "corpUserInfo", info);
    let l = env.prov.list_users(&env.ctx, &f).await.expect("list");
    assert_eq!(l["totalResults"], json!(0));
}

#[tokio::test]
async fn users_scim_does_not_manage_are_not_its_resources_until_adopted() {
    let env = Env::start().await;
    let urn = "urn:li:corpuser:sso@x.com";
    env.emu.put_aspect(
        urn,
        "corpUserInfo",
        json!({"active": true, "displayName": "SSO"}),
    );
    let id = ids::user_id("sso@x.com");
    assert_eq!(
        env.prov
            .get_user(&env.ctx, &id, &q(""))
            .await
            .expect_err("not ours")
            .status,
        404
    );
    let e = env
        .prov
        .replace_user(&env.ctx, &id, okta_user("sso@x.com"))
        .await
        .expect_err("not ours");
    assert_eq!(e.status, 404);
    assert_eq!(
        env.prov
            .delete_user(&env.ctx, &id)
            .await
            .expect_err("not ours")
            .status,
        404
    );
    let l = env.users("filter=userName%20eq%20%22sso@x.com%22").await;
    assert_eq!(
        l["totalResults"],
        json!(0),
        "Okta's lookup misses, so it creates, which adopts"
    );
    let l = env.users("").await;
    assert_eq!(l["totalResults"], json!(0), "nor the `datahub` root user");
    assert_eq!(
        env.aspect(urn, "corpUserInfo")["displayName"],
        json!("SSO"),
        "untouched"
    );
    env.prov
        .create_user(&env.ctx, okta_user("sso@x.com"))
        .await
        .expect("adopted");
    env.prov
        .get_user(&env.ctx, &id, &q(""))
        .await
        .expect("now ours");
}

#[tokio::test]
async fn system_users_are_never_adopted() {
    let env = Env::start().await;
    let urn = "urn:li:corpuser:svc";
    env.emu
        .put_aspect(urn, "corpUserInfo", json!({"active": true, "system": true}));
    let e = env
        .prov
        .create_user(&env.ctx, okta_user("svc"))
        .await
        .expect_err("system");
    assert_eq!(e.status, 409);
    assert_eq!(
        env.aspect(urn, "corpUserInfo"),
        json!({"active": true, "system": true})
    );
}
