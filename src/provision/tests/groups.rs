//! Group flows: push, adopt, native conflict, membership in constant calls, rename,
//! full replace, delete.

use serde_json::json;

use super::{calls, q, Env};
use crate::provision::ids;
use crate::scim::ScimType;

async fn user(env: &Env, name: &str) -> String {
    let body = json!({"userName": name, "active": true});
    let u = env.prov.create_user(&env.ctx, body).await.expect("user");
    u["id"].as_str().expect("id").to_owned()
}

fn members_of(env: &Env, user: &str) -> serde_json::Value {
    env.aspect(&format!("urn:li:corpuser:{user}"), "groupMembership")["groups"].clone()
}

fn patch(ops: serde_json::Value) -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

#[tokio::test]
async fn push_creates_with_urlencoder_name_and_two_calls() {
    let env = Env::start().await;
    env.take_calls();
    let g = env
        .prov
        .create_group(
            &env.ctx,
            json!({"displayName": "Data Eng (EU)", "members": []}),
        )
        .await
        .expect("created");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("restli.entitiesV2.batchGet", 1),
            ("restli.ingestProposalBatch", 1)
        ])
    );
    let urn = "urn:li:corpGroup:Data+Eng+%28EU%29";
    assert_eq!(g["id"], json!(ids::group_id("Data+Eng+%28EU%29")));
    assert_eq!(g["members"], json!([]));
    let info = env.aspect(urn, "corpGroupInfo");
    assert_eq!(info["displayName"], json!("Data Eng (EU)"));
    assert_eq!(
        (
            info["admins"].clone(),
            info["members"].clone(),
            info["groups"].clone()
        ),
        (json!([]), json!([]), json!([]))
    );
    assert_eq!(
        env.aspect(urn, "origin"),
        json!({"type": "EXTERNAL", "externalType": "OKTA"})
    );
    assert_eq!(env.aspect(urn, "status")["removed"], json!(false));
    let e = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "Data Eng (EU)"}))
        .await
        .expect_err("dup");
    assert_eq!((e.status, e.scim_type), (409, Some(ScimType::Uniqueness)));
}

#[tokio::test]
async fn adopts_jit_group_refuses_native() {
    let env = Env::start().await;
    env.emu.put_aspect(
        "urn:li:corpGroup:Sales",
        "corpGroupInfo",
        json!({"displayName": "Sales", "email": "", "admins": [], "members": [], "groups": []}),
    );
    env.prov
        .create_group(&env.ctx, json!({"displayName": "Sales"}))
        .await
        .expect("adopted");
    assert_eq!(
        env.aspect("urn:li:corpGroup:Sales", "origin")["type"],
        json!("EXTERNAL")
    );

    env.emu.put_aspect(
        "urn:li:corpGroup:Native",
        "corpGroupInfo",
        json!({"displayName": "Native", "admins": [], "members": [], "groups": []}),
    );
    env.emu.put_aspect(
        "urn:li:corpGroup:Native",
        "origin",
        json!({"type": "NATIVE"}),
    );
    let e = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "Native"}))
        .await
        .expect_err("native");
    assert_eq!((e.status, e.scim_type), (409, Some(ScimType::Uniqueness)));
    assert!(e.detail.contains("Link"), "{}", e.detail);
    assert_eq!(
        env.aspect("urn:li:corpGroup:Native", "origin")["type"],
        json!("NATIVE"),
        "untouched"
    );
}

#[tokio::test]
async fn membership_patch_costs_constant_calls_and_reads_back_at_once() {
    let env = Env::start().await;
    env.emu.set_index_lag(std::time::Duration::from_secs(3600));
    let mut ids_ = Vec::new();
    for i in 0..20 {
        ids_.push(user(&env, &format!("u{i}@x.com")).await);
    }
    let g = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "Eng"}))
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    let value: Vec<_> = ids_
        .iter()
        .map(|id| json!({"value": id, "display": "x"}))
        .collect();
    env.take_calls();
    let out = env
        .prov
        .patch_group(
            &env.ctx,
            &gid,
            patch(json!([{"op": "add", "path": "members", "value": value}])),
        )
        .await
        .expect("patched");
    assert!(out.is_none(), "204");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1)
        ]),
        "group read + one batch read of 20 users + one batch write"
    );
    assert_eq!(
        members_of(&env, "u3@x.com"),
        json!(["urn:li:corpGroup:Eng"])
    );

    // The index lags an hour, yet GET right after shows the write (cache overlay).
    let got = env
        .prov
        .get_group(&env.ctx, &gid, &q(""))
        .await
        .expect("get");
    assert_eq!(got["members"].as_array().map(Vec::len), Some(20));
    // excludedAttributes=members costs no relationship call.
    env.take_calls();
    let got = env
        .prov
        .get_group(&env.ctx, &gid, &q("excludedAttributes=members"))
        .await
        .expect("get");
    assert!(got.get("members").is_none());
    assert_eq!(
        env.take_calls(),
        calls(&[("restli.entitiesV2.batchGet", 1)])
    );

    // Okta: remove by filter + add, mixed in one PATCH; the pathless rename keep-alive
    // touches no member.
    let ops = json!([
        {"op": "remove", "path": format!("members[value eq \"{}\"]", ids_[0])},
        {"op": "replace", "value": {"id": gid, "displayName": "Eng"}},
    ]);
    env.prov
        .patch_group(&env.ctx, &gid, patch(ops))
        .await
        .expect("patched");
    assert_eq!(members_of(&env, "u0@x.com"), json!([]));
    assert_eq!(
        members_of(&env, "u1@x.com"),
        json!(["urn:li:corpGroup:Eng"])
    );

    // Entra legacy removal: path members + value list removes only those.
    let ops =
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": ids_[1]}]}]);
    env.prov
        .patch_group(&env.ctx, &gid, patch(ops))
        .await
        .expect("patched");
    assert_eq!(members_of(&env, "u1@x.com"), json!([]));
    assert_eq!(
        members_of(&env, "u2@x.com"),
        json!(["urn:li:corpGroup:Eng"])
    );
}

#[tokio::test]
async fn phantom_member_is_400_and_writes_nothing() {
    let env = Env::start().await;
    let a = user(&env, "a@x.com").await;
    let g = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "G"}))
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    let ops = json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": ids::user_id("ghost")}]}]);
    let e = env
        .prov
        .patch_group(&env.ctx, &gid, patch(ops))
        .await
        .expect_err("phantom");
    assert_eq!((e.status, e.scim_type), (400, Some(ScimType::InvalidValue)));
    assert!(!env.emu.entity_exists("urn:li:corpuser:ghost"));
    assert_eq!(
        env.aspect("urn:li:corpuser:a@x.com", "groupMembership"),
        serde_json::Value::Null,
        "atomic: nothing written"
    );
}

#[tokio::test]
async fn full_replace_applies_the_difference_and_rename_keeps_id() {
    let env = Env::start().await;
    let a = user(&env, "a@x.com").await;
    let b = user(&env, "b@x.com").await;
    let c = user(&env, "c@x.com").await;
    let g = env
        .prov
        .create_group(
            &env.ctx,
            json!({"displayName": "Team", "members": [{"value": a}, {"value": b}]}),
        )
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    assert_eq!(
        members_of(&env, "a@x.com"),
        json!(["urn:li:corpGroup:Team"])
    );

    // Okta AIW: PUT with the complete list and a new name.
    let body =
        json!({"id": gid, "displayName": "Team Renamed", "members": [{"value": b}, {"value": c}]});
    let out = env
        .prov
        .replace_group(&env.ctx, &gid, body)
        .await
        .expect("put");
    assert_eq!(out["id"], json!(gid));
    assert_eq!(out["displayName"], json!("Team Renamed"));
    assert_eq!(members_of(&env, "a@x.com"), json!([]));
    assert_eq!(
        members_of(&env, "c@x.com"),
        json!(["urn:li:corpGroup:Team"])
    );
    assert_eq!(
        env.aspect("urn:li:corpGroup:Team", "corpGroupInfo")["displayName"],
        json!("Team Renamed")
    );

    // The renamed group is still found by its new displayName.
    let list = env
        .groups("filter=displayName%20eq%20%22team%20renamed%22&excludedAttributes=members")
        .await;
    assert_eq!(list["totalResults"], json!(1));
    assert_eq!(list["Resources"][0]["id"], json!(gid));

    // Okta push of an empty group.
    env.prov
        .patch_group(
            &env.ctx,
            &gid,
            patch(json!([{"op": "replace", "path": "members", "value": []}])),
        )
        .await
        .expect("patched");
    assert_eq!(members_of(&env, "b@x.com"), json!([]));
    assert_eq!(members_of(&env, "c@x.com"), json!([]));
}

#[tokio::test]
async fn delete_clears_memberships_and_a_later_push_starts_clean() {
    let env = Env::start().await;
    let a = user(&env, "a@x.com").await;
    let g = env
        .prov
        .create_group(
            &env.ctx,
            json!({"displayName": "Tmp", "members": [{"value": a}]}),
        )
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    env.take_calls();
    env.prov
        .delete_group(&env.ctx, &gid)
        .await
        .expect("deleted");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("graphql.corpGroup", 1),
            ("restli.entitiesV2.batchGet", 2),
            ("restli.ingestProposalBatch", 1)
        ]),
        "members page + group read + member read + one batch (memberships and status together)"
    );
    assert_eq!(members_of(&env, "a@x.com"), json!([]));
    assert_eq!(
        env.aspect("urn:li:corpGroup:Tmp", "status")["removed"],
        json!(true)
    );
    let e = env
        .prov
        .delete_group(&env.ctx, &gid)
        .await
        .expect_err("second delete");
    assert_eq!(e.status, 404);
    assert_eq!(
        env.prov
            .get_group(&env.ctx, &gid, &q(""))
            .await
            .expect_err("gone")
            .status,
        404
    );
    let again = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "Tmp"}))
        .await
        .expect("revived");
    assert_eq!(again["id"], json!(gid));
    let got = env
        .prov
        .get_group(&env.ctx, &gid, &q(""))
        .await
        .expect("get");
    assert_eq!(got["members"], json!([]));
}

#[tokio::test]
async fn linked_native_group_becomes_scim_managed_on_first_write() {
    let env = Env::start().await;
    let a = user(&env, "a@x.com").await;
    let urn = "urn:li:corpGroup:Native";
    env.emu.put_aspect(
        urn,
        "corpGroupInfo",
        json!({"displayName": "Native", "admins": [], "members": [], "groups": []}),
    );
    env.emu.put_aspect(urn, "origin", json!({"type": "NATIVE"}));
    let gid = ids::group_id("Native");
    // Okta found it by displayName and linked it; membership pushes follow.
    let l = env.groups("filter=displayName%20eq%20%22Native%22").await;
    assert_eq!(l["Resources"][0]["id"], json!(gid));
    let ops = json!([{"op": "add", "path": "members", "value": [{"value": a}]}]);
    env.prov
        .patch_group(&env.ctx, &gid, patch(ops))
        .await
        .expect("patched");
    assert_eq!(
        env.aspect(urn, "origin"),
        json!({"type": "EXTERNAL", "externalType": "OKTA"})
    );
    assert_eq!(members_of(&env, "a@x.com"), json!([urn]));
}

#[tokio::test]
async fn membership_race_is_retried_and_hard_delete_removes_the_entity() {
    let mut cfg = super::config();
    cfg.group_delete = crate::provision::DeletePolicy::Hard;
    let env = Env::with(cfg).await;
    let a = user(&env, "a@x.com").await;
    let g = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "H"}))
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    env.emu
        .faults()
        .fail_next_on("restli.ingestProposalBatch", 1, 412);
    env.take_calls();
    let ops = json!([{"op": "add", "path": "members", "value": [{"value": a}]}]);
    env.prov
        .patch_group(&env.ctx, &gid, patch(ops))
        .await
        .expect("second round wins");
    assert_eq!(
        env.take_calls(),
        calls(&[
            ("restli.entitiesV2.batchGet", 4),
            ("restli.ingestProposalBatch", 2)
        ])
    );
    assert_eq!(members_of(&env, "a@x.com"), json!(["urn:li:corpGroup:H"]));

    env.prov
        .delete_group(&env.ctx, &gid)
        .await
        .expect("deleted");
    assert!(!env.emu.entity_exists("urn:li:corpGroup:H"));
    assert_eq!(members_of(&env, "a@x.com"), json!([]));
}

#[tokio::test]
async fn entra_group_create_echoes_external_id() {
    let env = Env::start().await;
    let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
        "externalId": "8aa1a0c0", "displayName": "Sales EU", "meta": {"resourceType": "Group"}});
    let g = env
        .prov
        .create_group(&env.ctx, body)
        .await
        .expect("created");
    assert_eq!(g["externalId"], json!("8aa1a0c0"));
    assert_eq!(g["id"], json!(ids::group_id("Sales+EU")));
}

#[tokio::test]
async fn another_replicas_removal_wins_over_this_replicas_recent_add() {
    let env = Env::start().await;
    let other =
        crate::provision::Provisioner::new(super::config(), super::replica_client(&env.emu).await);
    let a = user(&env, "a@x.com").await;
    let g = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "R"}))
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    let add = json!([{"op": "add", "path": "members", "value": [{"value": a}]}]);
    env.prov
        .patch_group(&env.ctx, &gid, patch(add))
        .await
        .expect("added here");
    let rm = json!([{"op": "remove", "path": "members", "value": [{"value": a}]}]);
    other
        .patch_group(&env.ctx, &gid, patch(rm))
        .await
        .expect("removed there");
    let got = env
        .prov
        .get_group(&env.ctx, &gid, &q(""))
        .await
        .expect("get");
    assert_eq!(
        got["members"],
        json!([]),
        "the primary store decides, not this replica's memory"
    );
}

#[tokio::test]
async fn a_group_soft_deleted_elsewhere_is_revived_without_its_old_members() {
    let env = Env::start().await;
    let a = user(&env, "a@x.com").await;
    let g = env
        .prov
        .create_group(
            &env.ctx,
            json!({"displayName": "Old", "members": [{"value": a}]}),
        )
        .await
        .expect("group");
    // Someone soft-deletes the group outside SCIM; the membership stays on the user.
    env.emu
        .put_aspect("urn:li:corpGroup:Old", "status", json!({"removed": true}));
    assert_eq!(members_of(&env, "a@x.com"), json!(["urn:li:corpGroup:Old"]));
    let again = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "Old"}))
        .await
        .expect("revived");
    assert_eq!(again["id"], g["id"]);
    assert_eq!(again["members"], json!([]));
    assert_eq!(members_of(&env, "a@x.com"), json!([]));
}
