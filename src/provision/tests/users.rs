//! User flows: create/adopt/revive, PUT and PATCH, deactivate, delete.

use serde_json::json;

use super::{calls, okta_user, q, Env};
use crate::provision::ids;
use crate::scim::ScimType;

#[tokio::test]
async fn create_writes_all_aspects_in_one_batch_and_three_calls() {
    let env = Env::start().await;
    env.take_calls();
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("test.user@okta.local"))
        .await
        .expect("created");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.searchAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1)
        ]),
        "the case-variant search, the key read, one batch"
    );
    let urn = "urn:li:corpuser:test.user@okta.local";
    assert_eq!(u["id"], json!(ids::user_id("test.user@okta.local")));
    assert_eq!(u["active"], json!(true));
    let info = env.aspect(urn, "corpUserInfo");
    assert_eq!(info["active"], json!(true));
    assert_eq!(info["email"], json!("test.user@okta.local"));
    assert_eq!(info["firstName"], json!("Test"));
    assert_eq!(info["fullName"], json!("Test User"));
    assert_eq!(
        info["customProperties"]["scim.userName"],
        json!("test.user@okta.local")
    );
    assert_eq!(
        info["customProperties"]["scim.externalId"],
        json!("00ujl29u0le5T6Aj10h7")
    );
    assert_eq!(env.aspect(urn, "corpUserStatus")["status"], json!("ACTIVE"));
    assert_eq!(
        env.aspect(urn, "corpUserStatus")["lastModified"]["actor"],
        json!("urn:li:corpuser:datahub")
    );
    assert_eq!(
        env.aspect(urn, "origin"),
        json!({"type": "EXTERNAL", "externalType": "OKTA"})
    );
    assert_eq!(env.aspect(urn, "status")["removed"], json!(false));
    assert!(env.emu.entity_exists(urn));
    assert!(env.emu.aspect(urn, "corpUserEditableInfo").is_none());

    // A second create of the same userName is 409 uniqueness, and writes nothing.
    let e = env
        .prov
        .create_user(&env.ctx, okta_user("test.user@okta.local"))
        .await
        .expect_err("duplicate");
    assert_eq!((e.status, e.scim_type), (409, Some(ScimType::Uniqueness)));
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.searchAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 1)
        ])
    );
}

#[tokio::test]
async fn adopts_a_jit_user_keeping_foreign_properties() {
    let env = Env::start().await;
    let urn = "urn:li:corpuser:jit@x.com";
    env.emu.put_aspect(
        urn,
        "corpUserInfo",
        json!({"active": true, "displayName": "JIT", "customProperties": {"team": "a"}}),
    );
    env.emu.put_aspect(
        urn,
        "corpUserEditableInfo",
        json!({"pictureLink": "p", "teams": [], "skills": []}),
    );
    env.prov
        .create_user(&env.ctx, okta_user("jit@x.com"))
        .await
        .expect("adopted");
    let info = env.aspect(urn, "corpUserInfo");
    assert_eq!(info["customProperties"]["team"], json!("a"));
    assert_eq!(
        info["customProperties"]["scim.userName"],
        json!("jit@x.com")
    );
    assert_eq!(info["displayName"], json!("Test User"));
    assert_eq!(
        env.aspect(urn, "corpUserEditableInfo")["pictureLink"],
        json!("p"),
        "never written"
    );
}

#[tokio::test]
async fn username_rules_helm_regex_and_no_match() {
    let mut cfg = super::config();
    cfg.username_regex = regex::Regex::new("([^@]+)").expect("regex");
    cfg.username_lowercase = true;
    let env = Env::with(cfg).await;
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("Jane.Doe@Example.com"))
        .await
        .expect("created");
    assert_eq!(u["id"], json!(ids::user_id("jane.doe")));
    assert_eq!(u["userName"], json!("Jane.Doe@Example.com"));
    assert!(env.emu.entity_exists("urn:li:corpuser:jane.doe"));

    let mut cfg = super::config();
    cfg.username_regex = regex::Regex::new("^[a-z]+$").expect("regex");
    let env = Env::with(cfg).await;
    env.take_calls();
    let e = env
        .prov
        .create_user(&env.ctx, okta_user("Not Matching"))
        .await
        .expect_err("400");
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
    assert!(env.take_calls().is_empty(), "rejected before any GMS call");
}

#[tokio::test]
async fn okta_aiw_put_deactivate_then_reactivate() {
    let env = Env::start().await;
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("a@x.com"))
        .await
        .expect("created");
    let id = u["id"].as_str().expect("id").to_owned();
    let urn = "urn:li:corpuser:a@x.com";

    // Okta echoes what it read, plus password, with active false.
    let mut body = env.prov.get_user(&env.ctx, &id, &q("")).await.expect("get");
    body["active"] = json!(false);
    body["password"] = json!("x");
    env.take_calls();
    let out = env
        .prov
        .replace_user(&env.ctx, &id, body.clone())
        .await
        .expect("put");
    assert_eq!(out["active"], json!(false));
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1)
        ])
    );
    assert_eq!(
        env.aspect(urn, "corpUserStatus")["status"],
        json!("SUSPENDED")
    );
    assert_eq!(env.aspect(urn, "corpUserInfo")["active"], json!(false));

    // Inactive users stay readable and findable.
    let got = env
        .prov
        .get_user(&env.ctx, &id, &q(""))
        .await
        .expect("readable");
    assert_eq!(got["active"], json!(false));
    let list = env.users("filter=userName%20eq%20%22A@x.com%22").await;
    assert_eq!(list["totalResults"], json!(1));

    // The same PUT again changes nothing: no write.
    env.take_calls();
    env.prov
        .replace_user(&env.ctx, &id, body.clone())
        .await
        .expect("put");
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)])
    );

    body["active"] = json!(true);
    env.prov
        .replace_user(&env.ctx, &id, body)
        .await
        .expect("put");
    assert_eq!(env.aspect(urn, "corpUserStatus")["status"], json!("ACTIVE"));
}

#[tokio::test]
async fn patch_entra_and_okta_shapes() {
    let env = Env::start().await;
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("p@x.com"))
        .await
        .expect("created");
    let id = u["id"].as_str().expect("id").to_owned();
    let urn = "urn:li:corpuser:p@x.com";
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let boss = env
        .prov
        .create_user(&env.ctx, okta_user("boss@x.com"))
        .await
        .expect("created");
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@x.com"},
        {"op": "Replace", "path": "name.familyName", "value": "NewName"},
        {"op": "Add", "path": format!("{ent}:department"), "value": "Retail"},
        {"op": "Add", "path": format!("{ent}:manager"), "value": boss["id"]},
    ]});
    let out = env
        .prov
        .patch_user(&env.ctx, &id, patch)
        .await
        .expect("patched")
        .expect("body");
    assert_eq!(out[ent]["manager"]["value"], boss["id"]);
    let info = env.aspect(urn, "corpUserInfo");
    assert_eq!(info["email"], json!("new@x.com"));
    assert_eq!(info["lastName"], json!("NewName"));
    assert_eq!(info["departmentName"], json!("Retail"));
    assert_eq!(info["managerUrn"], json!("urn:li:corpuser:boss@x.com"));

    // Entra legacy disable: a string boolean.
    let patch = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    env.take_calls();
    env.prov
        .patch_user(&env.ctx, &id, patch)
        .await
        .expect("patched");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1)
        ])
    );
    assert_eq!(
        env.aspect(urn, "corpUserStatus")["status"],
        json!("SUSPENDED")
    );

    // A PATCH that changes nothing writes nothing.
    let v = env.aspect(urn, "corpUserInfo");
    let patch = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
    env.take_calls();
    env.prov
        .patch_user(&env.ctx, &id, patch)
        .await
        .expect("patched");
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)])
    );
    assert_eq!(env.aspect(urn, "corpUserInfo"), v);
}

#[tokio::test]
async fn username_change_that_moves_the_urn_is_mutability_when_renames_are_rejected() {
    let mut cfg = super::config();
    cfg.user_rename = crate::provision::RenamePolicy::Reject;
    let env = Env::with(cfg).await;
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("old@x.com"))
        .await
        .expect("created");
    let id = u["id"].as_str().expect("id").to_owned();
    let patch =
        json!({"Operations": [{"op": "replace", "path": "userName", "value": "new@x.com"}]});
    let e = env
        .prov
        .patch_user(&env.ctx, &id, patch)
        .await
        .expect_err("refused");
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::Mutability)));
    assert!(
        !env.emu.entity_exists("urn:li:corpuser:new@x.com"),
        "nothing written"
    );

    // With the Helm regex, a domain change keeps the urn: only scim.userName moves.
    let mut cfg = super::config();
    cfg.username_regex = regex::Regex::new("([^@]+)").expect("regex");
    let env = Env::with(cfg).await;
    let u = env
        .prov
        .create_user(&env.ctx, okta_user("jo@old.com"))
        .await
        .expect("created");
    let id = u["id"].as_str().expect("id").to_owned();
    let patch =
        json!({"Operations": [{"op": "replace", "path": "userName", "value": "jo@new.com"}]});
    env.prov
        .patch_user(&env.ctx, &id, patch)
        .await
        .expect("same urn");
    assert_eq!(
        env.aspect("urn:li:corpuser:jo", "corpUserInfo")["customProperties"]["scim.userName"],
        json!("jo@new.com")
    );
}
