//! Membership changes of more than one batch (1 000 proposals): written in an order a
//! retry always finishes, whichever batch fails (issue 9).

use serde_json::{json, Value};

use super::{calls, q, Env};
use crate::provision::ids;
use crate::scim::ScimType;

const INGEST: &str = "restli.ingestProposalBatch";
const READ: &str = "restli.entitiesV2.batchGet";

/// `n` SCIM-managed users written straight into the store (fast); their SCIM ids.
pub(crate) fn seed_users(env: &Env, prefix: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let name = format!("{prefix}{i:04}");
            let urn = format!("urn:li:corpuser:{name}");
            env.emu.put_aspect(
                &urn,
                "corpUserInfo",
                json!({"active": true, "customProperties": {
                    "scim.userName": name, "scim.managed": "true"}}),
            );
            env.emu.put_aspect(
                &urn,
                "corpUserStatus",
                json!({"status": "ACTIVE", "lastModified": {"time": 0, "actor": "urn:li:corpuser:datahub"}}),
            );
            ids::user_id(&name)
        })
        .collect()
}

fn urn_of(id: &str) -> String {
    format!(
        "urn:li:corpuser:{}",
        ids::decode(id).expect("a user id of ours")
    )
}

/// How many of `uids` have `group` in their `groupMembership`.
fn linked(env: &Env, uids: &[String], group: &str) -> usize {
    uids.iter()
        .filter(|u| {
            env.aspect(&urn_of(u), "groupMembership")["groups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|x| x == group))
        })
        .count()
}

fn members_body(uids: &[String]) -> Vec<Value> {
    uids.iter().map(|u| json!({"value": u})).collect()
}

fn removed(env: &Env, group: &str) -> bool {
    env.aspect(group, "status")["removed"] == json!(true)
}

#[tokio::test]
async fn a_large_create_stopped_after_any_batch_is_finished_by_the_retry() {
    let env = Env::start().await;
    let uids = seed_users(&env, "c", 1500);
    let body = json!({"displayName": "Big Push", "members": members_body(&uids)});
    let urn = "urn:li:corpGroup:Big+Push";

    // The costs of an undisturbed large create: the group, 15 member reads, two
    // batches (pending group + 996 members; 504 members + the group going live) and
    // one re-read of the group before the last batch.
    env.take_calls();
    let g = env
        .prov
        .create_group(&env.ctx, body.clone())
        .await
        .expect("created");
    assert_eq!(env.take_calls(), calls(&[(READ, 1 + 15 + 1), (INGEST, 2)]));
    assert_eq!(g["members"].as_array().map(Vec::len), Some(1500));
    assert!(!removed(&env, urn));
    assert_eq!(linked(&env, &uids, urn), 1500);

    for (n, (k, endpoint)) in [(1, INGEST), (2, INGEST), (17, READ)]
        .into_iter()
        .enumerate()
    {
        let display = format!("Big Push {n}");
        let urn = format!("urn:li:corpGroup:Big+Push+{n}");
        let body = json!({"displayName": display, "members": members_body(&uids)});
        env.emu.faults().fail_nth_on(endpoint, k, 503);
        let e = env
            .prov
            .create_group(&env.ctx, body.clone())
            .await
            .expect_err("a failed batch");
        env.emu.faults().clear();
        assert_eq!((e.status, e.retry_after), (503, Some(5)), "{endpoint} #{k}");
        // Nothing half-made is visible: no group, or a soft-deleted one.
        let gid = ids::group_id(&format!("Big+Push+{n}"));
        assert_eq!(
            env.prov
                .get_group(&env.ctx, &gid, &q(""))
                .await
                .expect_err("not visible")
                .status,
            404
        );
        let filter = format!("filter=displayName eq \"{display}\"");
        assert_eq!(env.groups(&filter).await["totalResults"], json!(0));
        let partial = linked(&env, &uids, &urn);
        if k == 1 && endpoint == INGEST {
            assert_eq!(partial, 0, "the first batch failed whole");
            assert!(!env.emu.entity_exists(&urn));
        } else {
            assert_eq!(
                partial, 996,
                "the first batch went through ({endpoint} #{k})"
            );
            assert!(removed(&env, &urn), "pending: stored soft-deleted");
            assert_eq!(
                env.aspect(&urn, "origin")["externalType"],
                json!("OKTA"),
                "our mark on the pending group"
            );
        }
        // The IdP retries the same POST: it finishes.
        let g = env
            .prov
            .create_group(&env.ctx, body)
            .await
            .expect("the retry completes the create");
        assert_eq!(g["id"], json!(gid));
        assert_eq!(g["members"].as_array().map(Vec::len), Some(1500));
        assert!(!removed(&env, &urn));
        assert_eq!(linked(&env, &uids, &urn), 1500);
        let got = env
            .prov
            .get_group(&env.ctx, &gid, &q(""))
            .await
            .expect("live");
        assert_eq!(got["members"].as_array().map(Vec::len), Some(1500));
        // A complete, live group of ours is a genuine duplicate: 409, untouched.
        let e = env
            .prov
            .create_group(
                &env.ctx,
                json!({"displayName": display, "members": members_body(&uids[..10])}),
            )
            .await
            .expect_err("duplicate");
        assert_eq!((e.status, e.scim_type), (409, Some(ScimType::Uniqueness)));
        assert_eq!(linked(&env, &uids, &urn), 1500);
    }
}

#[tokio::test]
async fn a_large_adoption_stopped_half_way_adopts_on_retry() {
    let env = Env::start().await;
    let uids = seed_users(&env, "a", 1200);
    let urn = "urn:li:corpGroup:Sso+Group";
    // A group DataHub made at an SSO login (no origin): adoptable.
    env.emu.put_aspect(
        urn,
        "corpGroupInfo",
        json!({"displayName": "Sso Group", "admins": [], "members": [], "groups": []}),
    );
    let body = json!({"displayName": "Sso Group", "members": members_body(&uids)});
    env.emu.faults().fail_nth_on(INGEST, 2, 503);
    let e = env
        .prov
        .create_group(&env.ctx, body.clone())
        .await
        .expect_err("second batch fails");
    env.emu.faults().clear();
    assert_eq!(e.status, 503);
    // The SSO group stays as it was (live, not ours yet); members partly linked.
    assert!(!removed(&env, urn));
    assert_eq!(env.aspect(urn, "origin"), Value::Null);
    assert_eq!(linked(&env, &uids, urn), 1000);
    let g = env
        .prov
        .create_group(&env.ctx, body)
        .await
        .expect("adopted on retry");
    assert_eq!(g["members"].as_array().map(Vec::len), Some(1200));
    assert_eq!(env.aspect(urn, "origin")["type"], json!("EXTERNAL"));
    assert_eq!(linked(&env, &uids, urn), 1200);
}

#[tokio::test]
async fn a_large_delete_unlinks_first_and_marks_removed_last() {
    let env = Env::start().await;
    let uids = seed_users(&env, "d", 1500);
    let g = env
        .prov
        .create_group(
            &env.ctx,
            json!({"displayName": "Leaving", "members": members_body(&uids)}),
        )
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    let urn = "urn:li:corpGroup:Leaving";

    env.emu.faults().fail_nth_on(INGEST, 2, 503);
    let e = env
        .prov
        .delete_group(&env.ctx, &gid)
        .await
        .expect_err("second batch fails");
    env.emu.faults().clear();
    assert_eq!(e.status, 503);
    assert!(!removed(&env, urn), "still live: the retry will find it");
    assert_eq!(linked(&env, &uids, urn), 500, "the first 1 000 unlinked");
    let got = env
        .prov
        .get_group(&env.ctx, &gid, &q(""))
        .await
        .expect("live");
    assert_eq!(got["members"].as_array().map(Vec::len), Some(500));

    env.take_calls();
    env.prov
        .delete_group(&env.ctx, &gid)
        .await
        .expect("the retry finishes");
    assert_eq!(
        env.take_calls(),
        calls(&[("graphql.corpGroup", 1), (READ, 1 + 15), (INGEST, 1)]),
        "500 left (plus the 1 000 this replica unlinked, re-checked): one batch, no re-read"
    );
    assert!(removed(&env, urn));
    assert_eq!(linked(&env, &uids, urn), 0);
    let e = env
        .prov
        .delete_group(&env.ctx, &gid)
        .await
        .expect_err("gone");
    assert_eq!(e.status, 404);
}

#[tokio::test]
async fn a_delete_failing_on_the_last_batch_or_the_reread_leaves_a_live_group() {
    for (k, endpoint) in [(2, INGEST), (1 + 15 + 1, READ)] {
        let env = Env::start().await;
        let uids = seed_users(&env, "r", 1500);
        let g = env
            .prov
            .create_group(
                &env.ctx,
                json!({"displayName": "Leaving", "members": members_body(&uids)}),
            )
            .await
            .expect("group");
        let gid = g["id"].as_str().expect("id").to_owned();
        let urn = "urn:li:corpGroup:Leaving";
        // Calls of a delete: 2 members pages, the group read, 15 member reads, batch
        // 1, the group read again (the 17th read), batch 2.
        env.take_calls();
        env.emu.faults().fail_nth_on(endpoint, k, 503);
        let e = env
            .prov
            .delete_group(&env.ctx, &gid)
            .await
            .expect_err("fails");
        env.emu.faults().clear();
        assert_eq!(e.status, 503, "{endpoint} #{k}");
        assert!(!removed(&env, urn));
        assert_eq!(linked(&env, &uids, urn), 500);
        env.prov
            .delete_group(&env.ctx, &gid)
            .await
            .expect("retry finishes");
        assert!(removed(&env, urn));
        assert_eq!(linked(&env, &uids, urn), 0);
    }
}

#[tokio::test]
async fn deleting_a_soft_deleted_group_that_still_has_members_unlinks_them() {
    let env = Env::start().await;
    let uids = seed_users(&env, "s", 30);
    let g = env
        .prov
        .create_group(
            &env.ctx,
            json!({"displayName": "Half Gone", "members": members_body(&uids)}),
        )
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    let urn = "urn:li:corpGroup:Half+Gone";
    // What an older version's half-finished delete (or a soft delete in DataHub) left.
    env.emu.put_aspect(urn, "status", json!({"removed": true}));
    assert_eq!(linked(&env, &uids, urn), 30);
    env.prov
        .delete_group(&env.ctx, &gid)
        .await
        .expect("finishes the unlinking instead of 404");
    assert_eq!(linked(&env, &uids, urn), 0);
    assert!(removed(&env, urn));
    let e = env
        .prov
        .delete_group(&env.ctx, &gid)
        .await
        .expect_err("now there is nothing left to do");
    assert_eq!(e.status, 404);
    let e = env
        .prov
        .delete_group(&env.ctx, &ids::group_id("Never+Existed"))
        .await
        .expect_err("unknown");
    assert_eq!(e.status, 404);
}

#[tokio::test]
async fn a_large_patch_add_or_replace_is_finished_by_the_retry() {
    let env = Env::start().await;
    let uids = seed_users(&env, "p", 1500);
    let g = env
        .prov
        .create_group(&env.ctx, json!({"displayName": "Grows"}))
        .await
        .expect("group");
    let gid = g["id"].as_str().expect("id").to_owned();
    let urn = "urn:li:corpGroup:Grows";
    let add = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": members_body(&uids)},
                       {"op": "replace", "path": "displayName", "value": "Grown"}]});
    env.emu.faults().fail_nth_on(INGEST, 2, 503);
    let e = env
        .prov
        .patch_group(&env.ctx, &gid, add.clone())
        .await
        .expect_err("fails");
    env.emu.faults().clear();
    assert_eq!(e.status, 503);
    assert_eq!(linked(&env, &uids, urn), 1000);
    assert_eq!(
        env.aspect(urn, "corpGroupInfo")["displayName"],
        json!("Grows"),
        "the rename rides in the last batch"
    );
    env.prov
        .patch_group(&env.ctx, &gid, add)
        .await
        .expect("retry");
    assert_eq!(linked(&env, &uids, urn), 1500);
    assert_eq!(
        env.aspect(urn, "corpGroupInfo")["displayName"],
        json!("Grown")
    );

    // PUT with 200 of them: 1 300 removals, failing in the second batch.
    let put = json!({"displayName": "Grown", "members": members_body(&uids[..200])});
    env.emu.faults().fail_nth_on(INGEST, 2, 503);
    let e = env
        .prov
        .replace_group(&env.ctx, &gid, put.clone())
        .await
        .expect_err("fails");
    env.emu.faults().clear();
    assert_eq!(e.status, 503);
    assert_eq!(linked(&env, &uids, urn), 500);
    let g = env
        .prov
        .replace_group(&env.ctx, &gid, put)
        .await
        .expect("retry");
    assert_eq!(g["members"].as_array().map(Vec::len), Some(200));
    assert_eq!(linked(&env, &uids, urn), 200);
    assert_eq!(linked(&env, &uids[..200], urn), 200);
}

#[tokio::test]
async fn with_small_batches_every_batch_of_every_operation_can_fail() {
    // write_batch 10: a create of 25 members is four batches (pending group + 6, 10,
    // 9, the group going live), so the first, a middle and the last batch each fail.
    let mut cfg = super::config();
    cfg.write_batch = 10;
    let env = Env::with(cfg).await;
    let uids = seed_users(&env, "m", 25);
    for k in 1..=4 {
        let display = format!("Small {k}");
        let urn = format!("urn:li:corpGroup:Small+{k}");
        let body = json!({"displayName": display, "members": members_body(&uids)});
        env.emu.faults().fail_nth_on(INGEST, k, 503);
        let e = env
            .prov
            .create_group(&env.ctx, body.clone())
            .await
            .expect_err("a batch fails");
        env.emu.faults().clear();
        assert_eq!(e.status, 503);
        let expect = [0, 6, 16, 25][k as usize - 1];
        assert_eq!(
            linked(&env, &uids, &urn),
            expect,
            "create, batch {k} failed"
        );
        assert_eq!(env.emu.entity_exists(&urn), k > 1);
        if k > 1 {
            assert!(removed(&env, &urn), "not live before the last batch");
        }
        let g = env.prov.create_group(&env.ctx, body).await.expect("retry");
        assert_eq!(g["members"].as_array().map(Vec::len), Some(25));
        assert_eq!(linked(&env, &uids, &urn), 25);
        assert!(!removed(&env, &urn));

        // DELETE: 25 unlinks in 10, 10, 5 + removed.
        let gid = g["id"].as_str().expect("id").to_owned();
        let ks = [1, 2, 3];
        if let Some(&d) = ks.get(k as usize - 1) {
            env.emu.faults().fail_nth_on(INGEST, d, 503);
            let e = env
                .prov
                .delete_group(&env.ctx, &gid)
                .await
                .expect_err("a batch fails");
            env.emu.faults().clear();
            assert_eq!(e.status, 503);
            assert_eq!(
                linked(&env, &uids, &urn),
                [25, 15, 5][d as usize - 1],
                "delete, batch {d} failed"
            );
            assert!(!removed(&env, &urn), "live until the last batch");
            env.prov.delete_group(&env.ctx, &gid).await.expect("retry");
            assert_eq!(linked(&env, &uids, &urn), 0);
            assert!(removed(&env, &urn));
        }
    }
}
