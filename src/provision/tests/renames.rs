//! User renames (`users::rename`): what moves, what the id does, what it costs.
//! The IdPs' own request shapes are replayed in `tests/it/renames.rs`.

use serde_json::{json, Value};

use super::{calls, okta_user, q, Env};
use crate::provision::ids;

const OLD: &str = "urn:li:corpuser:old@x.com";
const NEW: &str = "urn:li:corpuser:new@x.com";

fn rename(to: &str) -> Value {
    json!({"Operations": [{"op": "replace", "path": "userName", "value": to}]})
}

async fn user_in_group(env: &Env, user_name: &str, group: &str) -> (String, String) {
    let u = env
        .prov
        .create_user(&env.ctx, okta_user(user_name))
        .await
        .expect("user");
    let id = u["id"].as_str().expect("id").to_owned();
    let g = env
        .prov
        .create_group(
            &env.ctx,
            json!({"displayName": group, "members": [{"value": id}]}),
        )
        .await
        .expect("group");
    (id, g["id"].as_str().expect("gid").to_owned())
}

#[tokio::test]
async fn a_rename_moves_profile_status_and_groups_and_keeps_the_id() {
    let env = Env::start().await;
    let (id, gid) = user_in_group(&env, "old@x.com", "Eng").await;
    let created = env.aspect(OLD, "corpUserInfo")["customProperties"]["scim.created"].clone();
    // An SSO-extracted group the old user is also in: not SCIM's, it stays.
    env.emu.put_aspect(
        OLD,
        "groupMembership",
        json!({"groups": ["urn:li:corpGroup:Eng", "urn:li:corpGroup:sso-only"]}),
    );
    env.take_calls();
    let u = env
        .prov
        .patch_user(&env.ctx, &id, rename("new@x.com"))
        .await
        .expect("renamed")
        .expect("body");
    // 1 read (the user), 1 read (the user moved to), 1 search (userName case
    // variants), 1 read (its groups: which are SCIM's), 1 write.
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.searchAcrossEntities", 1),
            ("restli.entitiesV2.batchGet", 3),
            ("restli.ingestProposalBatch", 1)
        ])
    );
    assert_eq!(u["id"], json!(id), "RFC 7643 §3.1: the id does not change");
    assert_eq!(u["userName"], json!("new@x.com"));
    assert_eq!(u["displayName"], json!("Test User"));
    assert_eq!(u["groups"][0]["value"], json!(gid));
    let new = env.aspect(NEW, "corpUserInfo");
    assert_eq!(new["customProperties"]["scim.id"], json!(id));
    assert_eq!(new["customProperties"]["scim.userName"], json!("new@x.com"));
    assert_eq!(
        new["customProperties"]["scim.created"], created,
        "meta.created moves"
    );
    assert_eq!(new["displayName"], json!("Test User"));
    assert_eq!(env.aspect(NEW, "corpUserStatus")["status"], json!("ACTIVE"));
    assert_eq!(
        env.aspect(NEW, "groupMembership")["groups"],
        json!(["urn:li:corpGroup:Eng"])
    );
    assert_eq!(env.aspect(NEW, "origin")["type"], json!("EXTERNAL"));
    // The former account: suspended, out of the SCIM group, forwarding.
    let old = env.aspect(OLD, "corpUserInfo");
    assert_eq!(
        old["customProperties"],
        json!({"scim.movedTo": NEW}),
        "no SCIM keys left: {old}"
    );
    assert_eq!(old["active"], json!(false));
    assert_eq!(old["displayName"], json!("Test User"), "its history stays");
    assert_eq!(
        env.aspect(OLD, "corpUserStatus")["status"],
        json!("SUSPENDED")
    );
    assert_eq!(
        env.aspect(OLD, "groupMembership")["groups"],
        json!(["urn:li:corpGroup:sso-only"])
    );

    // The id keeps working, and finds the user where it is now.
    env.take_calls();
    let got = env.prov.get_user(&env.ctx, &id, &q("")).await.expect("get");
    assert_eq!(got["userName"], json!("new@x.com"));
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 2)]),
        "a renamed user costs one more read"
    );
    let by_new = env.users("filter=userName%20eq%20%22new@x.com%22").await;
    assert_eq!(by_new["Resources"][0]["id"], json!(id));
    let by_old = env.users("filter=userName%20eq%20%22old@x.com%22").await;
    assert_eq!(by_old["totalResults"], json!(0));
    let by_id = env.users(&format!("filter=id%20eq%20%22{id}%22")).await;
    assert_eq!(by_id["Resources"][0]["userName"], json!("new@x.com"));
    let by_ext = env
        .users("filter=externalId%20eq%20%2200ujl29u0le5T6Aj10h7%22")
        .await;
    assert_eq!(by_ext["Resources"][0]["id"], json!(id));
    let all = env.users("").await;
    assert_eq!(all["totalResults"], json!(1), "listed once: {all}");
    assert_eq!(all["Resources"][0]["id"], json!(id));
    // The id the new urn would give is not an id of this service.
    let natural = ids::user_id("new@x.com");
    let e = env
        .prov
        .get_user(&env.ctx, &natural, &q(""))
        .await
        .expect_err("not issued");
    assert_eq!(e.status, 404);
    // The group shows the member under the id it kept, with its display name.
    let g = env.groups("").await;
    assert_eq!(
        g["Resources"][0]["members"],
        json!([{"value": id, "display": "Test User", "type": "User",
                "$ref": format!("{}/Users/{id}", super::BASE)}])
    );
}

#[tokio::test]
async fn membership_by_the_kept_id_reaches_the_renamed_user() {
    let env = Env::start().await;
    let (id, gid) = user_in_group(&env, "old@x.com", "Eng").await;
    env.prov
        .patch_user(&env.ctx, &id, rename("new@x.com"))
        .await
        .expect("renamed");
    // Remove by the kept id (Entra, Okta), add back, replace the whole list (Okta AIW).
    let remove =
        json!({"Operations": [{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]});
    env.prov
        .patch_group(&env.ctx, &gid, remove)
        .await
        .expect("removed");
    assert_eq!(env.aspect(NEW, "groupMembership")["groups"], json!([]));
    let add = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
    env.prov
        .patch_group(&env.ctx, &gid, add)
        .await
        .expect("added");
    assert_eq!(
        env.aspect(NEW, "groupMembership")["groups"],
        json!(["urn:li:corpGroup:Eng"])
    );
    assert!(
        env.aspect(OLD, "groupMembership")["groups"]
            .as_array()
            .is_none_or(Vec::is_empty),
        "the former account is never written back into the group"
    );
    let put = json!({"displayName": "Eng", "members": [{"value": id}]});
    env.take_calls();
    let g = env
        .prov
        .replace_group(&env.ctx, &gid, put)
        .await
        .expect("put");
    assert_eq!(g["members"][0]["value"], json!(id), "{g}");
    let c = env.take_calls();
    assert_eq!(
        c.get("restli.ingestProposalBatch"),
        None,
        "a PUT with the kept id is no change: {c:?}"
    );
    // The group's manager reference by id works too.
    let other = env
        .prov
        .create_user(&env.ctx, okta_user("report@x.com"))
        .await
        .expect("user");
    let rid = other["id"].as_str().expect("id").to_owned();
    let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let mgr = json!({"Operations": [{"op": "add", "path": format!("{ent}:manager"), "value": id}]});
    let r = env
        .prov
        .patch_user(&env.ctx, &rid, mgr)
        .await
        .expect("manager")
        .expect("body");
    assert_eq!(r[ent]["manager"]["value"], json!(id));
}

#[tokio::test]
async fn renaming_twice_and_back_keeps_one_resource() {
    let env = Env::start().await;
    let (id, _) = user_in_group(&env, "a@x.com", "Eng").await;
    for to in ["b@x.com", "c@x.com"] {
        env.prov
            .patch_user(&env.ctx, &id, rename(to))
            .await
            .expect("renamed");
    }
    let (a, b, c) = (
        "urn:li:corpuser:a@x.com",
        "urn:li:corpuser:b@x.com",
        "urn:li:corpuser:c@x.com",
    );
    assert_eq!(
        env.aspect(a, "corpUserInfo")["customProperties"]["scim.movedTo"],
        json!(c),
        "the origin points at the latest urn: one hop"
    );
    assert_eq!(
        env.aspect(b, "corpUserInfo")["customProperties"]["scim.movedTo"],
        json!(c)
    );
    assert_eq!(
        env.aspect(c, "corpUserInfo")["customProperties"]["scim.id"],
        json!(id),
        "A→B→C: the id stays A's"
    );
    env.take_calls();
    let got = env.prov.get_user(&env.ctx, &id, &q("")).await.expect("get");
    assert_eq!(got["userName"], json!("c@x.com"));
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 2)])
    );
    assert_eq!(env.users("").await["totalResults"], json!(1));

    // Back to the first name: the origin is the user again, with its own id.
    let u = env
        .prov
        .patch_user(&env.ctx, &id, rename("a@x.com"))
        .await
        .expect("back")
        .expect("body");
    assert_eq!(u["id"], json!(id));
    let info = env.aspect(a, "corpUserInfo");
    assert!(info["customProperties"].get("scim.id").is_none(), "{info}");
    assert!(
        info["customProperties"].get("scim.movedTo").is_none(),
        "{info}"
    );
    assert_eq!(
        env.aspect(a, "groupMembership")["groups"],
        json!(["urn:li:corpGroup:Eng"])
    );
    assert_eq!(env.aspect(a, "corpUserStatus")["status"], json!("ACTIVE"));
    assert_eq!(
        env.aspect(c, "corpUserInfo")["customProperties"]["scim.movedTo"],
        json!(a)
    );
    env.take_calls();
    env.prov.get_user(&env.ctx, &id, &q("")).await.expect("get");
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)])
    );
    let all = env.users("").await;
    assert_eq!(all["totalResults"], json!(1), "{all}");
    // And on again, to an intermediate account of its own (B), which it adopts.
    let u = env
        .prov
        .patch_user(&env.ctx, &id, rename("b@x.com"))
        .await
        .expect("to b again")
        .expect("body");
    assert_eq!(u["id"], json!(id));
    assert_eq!(
        env.aspect(b, "corpUserInfo")["customProperties"]["scim.id"],
        json!(id)
    );
}

#[tokio::test]
async fn a_rename_onto_an_sso_user_adopts_it_and_onto_a_scim_user_is_409() {
    let env = Env::start().await;
    let (id, _) = user_in_group(&env, "old@x.com", "Eng").await;
    // The person already signed in under the new name: SSO made a bare user.
    env.emu.put_aspect(
        NEW,
        "corpUserInfo",
        json!({"active": true, "displayName": "SSO Name", "email": "new@x.com",
               "customProperties": {"sso.claim": "kept"}}),
    );
    env.emu.put_aspect(
        NEW,
        "corpUserStatus",
        json!({"status": "ACTIVE",
        "lastModified": {"time": 1, "actor": "urn:li:corpuser:__datahub_system"}}),
    );
    env.emu.put_aspect(
        NEW,
        "groupMembership",
        json!({"groups": ["urn:li:corpGroup:from-sso"]}),
    );
    let u = env
        .prov
        .patch_user(&env.ctx, &id, rename("new@x.com"))
        .await
        .expect("adopted")
        .expect("body");
    assert_eq!(u["id"], json!(id));
    assert_eq!(u["displayName"], json!("Test User"), "SCIM's profile wins");
    let info = env.aspect(NEW, "corpUserInfo");
    assert_eq!(info["customProperties"]["sso.claim"], json!("kept"));
    assert_eq!(
        env.aspect(NEW, "groupMembership")["groups"],
        json!(["urn:li:corpGroup:from-sso", "urn:li:corpGroup:Eng"]),
        "its own memberships stay, SCIM's join them"
    );

    // Onto another SCIM user's name: 409, nothing written.
    let other = env
        .prov
        .create_user(&env.ctx, okta_user("taken@x.com"))
        .await
        .expect("other");
    env.take_calls();
    let e = env
        .prov
        .patch_user(&env.ctx, &id, rename("taken@x.com"))
        .await
        .expect_err("taken");
    assert_eq!(
        (e.status, e.scim_type.map(|t| t.as_str())),
        (409, Some("uniqueness"))
    );
    assert!(
        e.detail.contains(other["id"].as_str().expect("id")),
        "{}",
        e.detail
    );
    assert!(!env.take_calls().contains_key("restli.ingestProposalBatch"));
    // Onto a case variant of another SCIM user's userName (another urn): 409 too.
    let e = env
        .prov
        .patch_user(&env.ctx, &id, rename("TAKEN@x.com"))
        .await
        .expect_err("case variant");
    assert_eq!(e.status, 409);
    assert!(!env.emu.entity_exists("urn:li:corpuser:TAKEN@x.com"));
    // Onto DataHub's own users: refused before anything is written.
    let e = env
        .prov
        .patch_user(&env.ctx, &id, rename("datahub"))
        .await
        .expect_err("reserved");
    assert_eq!(e.status, 400);
}

#[tokio::test]
async fn the_former_account_is_not_a_new_user_while_its_id_lives_on() {
    let env = Env::start().await;
    let (id, _) = user_in_group(&env, "old@x.com", "Eng").await;
    env.prov
        .patch_user(&env.ctx, &id, rename("new@x.com"))
        .await
        .expect("renamed");
    // A create of the old name would hand out the renamed user's id again: 409.
    let e = env
        .prov
        .create_user(&env.ctx, okta_user("old@x.com"))
        .await
        .expect_err("former account");
    assert_eq!(e.status, 409);
    assert!(e.detail.contains(&id), "{}", e.detail);
    // Another user renamed onto the old name: 409 for the same reason.
    let other = env
        .prov
        .create_user(&env.ctx, okta_user("third@x.com"))
        .await
        .expect("other");
    let oid = other["id"].as_str().expect("id").to_owned();
    let e = env
        .prov
        .patch_user(&env.ctx, &oid, rename("old@x.com"))
        .await
        .expect_err("former account");
    assert_eq!(e.status, 409);
    // Once the renamed user is deleted (by its kept id), the old name is free.
    env.take_calls();
    env.prov.delete_user(&env.ctx, &id).await.expect("deleted");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1)
        ])
    );
    assert_eq!(env.aspect(NEW, "status")["removed"], json!(true));
    assert_eq!(env.aspect(NEW, "groupMembership")["groups"], json!([]));
    assert_eq!(
        env.prov
            .get_user(&env.ctx, &id, &q(""))
            .await
            .expect_err("gone")
            .status,
        404
    );
    let again = env
        .prov
        .create_user(&env.ctx, okta_user("old@x.com"))
        .await
        .expect("revived: the link is dead");
    assert_eq!(again["id"], json!(id));
    let info = env.aspect(OLD, "corpUserInfo");
    assert!(
        info["customProperties"].get("scim.movedTo").is_none(),
        "{info}"
    );
    assert_eq!(env.users("").await["totalResults"], json!(2));
}

#[tokio::test]
async fn renames_can_be_refused() {
    let mut cfg = super::config();
    cfg.user_rename = crate::provision::RenamePolicy::Reject;
    let env = Env::with(cfg).await;
    let (id, _) = user_in_group(&env, "old@x.com", "Eng").await;
    let e = env
        .prov
        .replace_user(&env.ctx, &id, okta_user("new@x.com"))
        .await
        .expect_err("refused");
    assert_eq!(
        (e.status, e.scim_type.map(|t| t.as_str())),
        (400, Some("mutability"))
    );
    assert!(!env.emu.entity_exists(NEW));
}

/// Another replica, whose search index has not seen the rename yet (DataHub 0.15
/// indexes asynchronously): key lookups answer from the primary store at once, an
/// `externalId` lookup finds the former account in the index and follows it, and a
/// list never shows the person twice.
#[tokio::test]
async fn another_replica_under_index_lag_sees_the_rename_at_once_and_never_twice() {
    let emu_cfg = crate::emulator::EmulatorConfig {
        datahub_version: "0.15.0".into(),
        ..Default::default()
    };
    let env = Env::with_emulator(super::config(), emu_cfg).await;
    let (id, gid) = user_in_group(&env, "old@x.com", "Eng").await;
    env.emu.set_index_lag(std::time::Duration::from_secs(3600));
    env.prov
        .patch_user(&env.ctx, &id, rename("new@x.com"))
        .await
        .expect("renamed");
    let other =
        crate::provision::Provisioner::new(super::config(), super::replica_client(&env.emu).await);
    let get = other.get_user(&env.ctx, &id, &q("")).await.expect("get");
    assert_eq!(get["userName"], json!("new@x.com"));
    let list = |qs: &'static str| {
        let other = other.clone();
        let ctx = env.ctx.clone();
        async move { other.list_users(&ctx, &q(qs)).await.expect("list") }
    };
    let by_new = list("filter=userName%20eq%20%22new@x.com%22").await;
    assert_eq!(by_new["Resources"][0]["id"], json!(id));
    let by_ext = list("filter=externalId%20eq%20%2200ujl29u0le5T6Aj10h7%22").await;
    assert_eq!(
        by_ext["Resources"][0]["userName"],
        json!("new@x.com"),
        "the index still names the former account; it forwards: {by_ext}"
    );
    let all = list("").await;
    let with_id = all["Resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["id"] == json!(id))
        .count();
    assert!(with_id <= 1, "never twice: {all}");
    // The group, read through the lagging index: the former account is not shown as
    // a member (its membership moved); the writing replica shows the new one at once.
    let g = other
        .get_group(&env.ctx, &gid, &q(""))
        .await
        .expect("group");
    assert!(g["members"].as_array().is_none_or(|m| m.len() <= 1), "{g}");
    let g = env
        .prov
        .get_group(&env.ctx, &gid, &q(""))
        .await
        .expect("group");
    assert_eq!(g["members"][0]["value"], json!(id), "{g}");
}

/// The same rename sent many times at once through two replicas (an IdP retrying
/// while the first attempt is still running): every one answers the renamed user,
/// whichever read the state before or after another's write.
#[tokio::test]
async fn the_same_rename_racing_itself_always_answers_the_renamed_user() {
    let env = Env::start().await;
    let (id, _) = user_in_group(&env, "old@x.com", "Eng").await;
    env.emu
        .faults()
        .set_latency(std::time::Duration::from_millis(15));
    let other =
        crate::provision::Provisioner::new(super::config(), super::replica_client(&env.emu).await);
    let mut set = tokio::task::JoinSet::new();
    for i in 0..12u64 {
        let prov = if i % 2 == 0 {
            env.prov.clone()
        } else {
            other.clone()
        };
        let (ctx, id) = (env.ctx.clone(), id.clone());
        // Staggered, so some read the user before another's write and its new urn
        // after it.
        set.spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(9 * i)).await;
            prov.patch_user(&ctx, &id, rename("new@x.com")).await
        });
    }
    while let Some(r) = set.join_next().await {
        let u = r
            .expect("joined")
            .expect("every attempt succeeds")
            .expect("body");
        assert_eq!(
            (u["id"].clone(), u["userName"].clone()),
            (json!(id), json!("new@x.com"))
        );
    }
    env.emu.faults().clear();
    assert_eq!(
        env.aspect(NEW, "groupMembership")["groups"],
        json!(["urn:li:corpGroup:Eng"])
    );
    assert_eq!(env.users("").await["totalResults"], json!(1));
}
