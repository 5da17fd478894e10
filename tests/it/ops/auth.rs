//! Bearer authentication: local rejections, 403, the token cache, GMS outages.

use std::time::Duration;

use serde_json::json;

use super::calls_to;
use crate::harness::{sample, Gateway};

fn jwt(claims: serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(b"some-key-some-key-some-key-some-key");
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &key,
    )
    .expect("jwt")
}

#[tokio::test]
async fn garbage_and_expired_tokens_are_401_without_asking_gms() {
    let g = Gateway::ready(&[]).await;
    let expired = jwt(
        json!({"version":"2","type":"PERSONAL","actorType":"USER","actorId":"datahub","exp": 1_000_000_000}),
    );
    for token in [Some("garbage"), Some(expired.as_str()), None] {
        let r = g.scim("GET", "/scim/v2/Users", token).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.headers["www-authenticate"],
            "Bearer realm=\"datahub-scim\""
        );
        assert_eq!(r.headers["content-type"], "application/scim+json");
        assert_eq!(r.body["status"], "401");
        assert_eq!(
            r.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
    }
    assert_eq!(calls_to(&g, "graphql.me"), 0);
}

#[tokio::test]
async fn a_token_without_manage_identities_is_403() {
    let g = Gateway::ready(&[]).await;
    let token = g.emu.create_user_token("viewer", false);
    let r = g.scim("GET", "/scim/v2/Users", Some(&token)).await;
    assert_eq!(r.status, 403, "{:?}", r.body);
    assert_eq!(r.body["status"], "403");
}

/// DataHub decides who may write users and groups, and since 1.2 (#12637) more than
/// *Manage Users & Groups* (what `me.manageIdentities` shows) qualifies. A token
/// without `manageIdentities` is asked of DataHub with a write that cannot apply: the
/// precondition failure means allowed (and nothing is written), 403 means not.
#[tokio::test]
async fn finer_privileges_than_manage_users_and_groups_are_accepted_when_datahub_lets_them_write() {
    let g = Gateway::ready(&[]).await;
    let user = |name: &str| {
        serde_json::to_vec(&json!({"userName": format!("{name}@example.com"), "active": true}))
            .expect("json")
    };
    let create = |token: String, name: &'static str| {
        let g = &g;
        async move {
            g.scim_body(
                "POST",
                "/scim/v2/Users",
                Some(&token),
                &[("content-type", "application/scim+json")],
                user(name),
            )
            .await
        }
    };
    // UPDATE_USERS_AND_GROUPS (≥ 0.15): UPSERTs are allowed, yet manageIdentities
    // (UPDATE ∧ DELETE) is false.
    let svc = g.emu.create_user_token("svc-scim", false);
    g.emu.grant("svc-scim", &["UPDATE_USERS_AND_GROUPS"]);
    g.emu.reset_calls();
    let r = create(svc, "fine").await;
    assert_eq!(r.status, 201, "{}", r.body);
    // The probe was one ingest that DataHub refused on its precondition: nothing of it
    // was written (the probe group does not exist).
    let probes = g
        .emu
        .calls()
        .iter()
        .filter(|c| c.endpoint == "restli.ingestProposalBatch" && c.status == 422)
        .count();
    assert_eq!(probes, 1, "{:?}", g.emu.calls());
    assert!(!g
        .emu
        .entity_exists("urn:li:corpGroup:datahub-scim-privilege-probe"));
    // A plain user: DataHub refuses its writes, so does the gateway, before any write.
    let viewer = g.emu.create_user_token("viewer2", false);
    let r = create(viewer, "nope").await;
    assert_eq!(r.status, 403, "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("Update Users and Update Groups"),
        "{detail}"
    );
    assert!(!g.emu.entity_exists("urn:li:corpuser:nope@example.com"));
    // From 1.2: UPDATE_USERS + UPDATE_GROUPS make manageIdentities true, no probe.
    if g.emu.release().at_least(1, 2, 0) {
        let two = g.emu.create_user_token("svc-two", false);
        g.emu.grant("svc-two", &["UPDATE_USERS", "UPDATE_GROUPS"]);
        g.emu.reset_calls();
        let r = create(two, "two").await;
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(g
            .emu
            .calls()
            .iter()
            .all(|c| c.endpoint != "restli.ingestProposalBatch" || c.status == 200));
    }
}

#[tokio::test]
async fn accepted_tokens_are_cached_and_gms_outage_is_503() {
    let g = Gateway::ready(&[]).await;
    let token = g.emu.admin_token();
    for _ in 0..3 {
        let r = g.scim("GET", "/scim/v2/Schemas", Some(&token)).await;
        assert_ne!(r.status, 401);
        assert_ne!(r.status, 403);
    }
    assert_eq!(
        calls_to(&g, "graphql.me"),
        1,
        "one `me` call for three requests"
    );
    let m = g.metrics().await;
    assert_eq!(
        sample(
            &m,
            "datahub_scim_auth_total{outcome=\"ok\",cached=\"true\"}"
        ),
        Some(2.0),
        "{m}"
    );

    // A different token while GMS fails: 503, not 401, and not cached.
    let other = g.emu.create_user_token("second-admin", true);
    g.emu.faults().fail_next_on("graphql.me", 1, 503);
    let r = g.scim("GET", "/scim/v2/Schemas", Some(&other)).await;
    assert_eq!(r.status, 503, "{:?}", r.body);
    assert!(r.headers.contains_key("retry-after"));
    let r = g.scim("GET", "/scim/v2/Schemas", Some(&other)).await;
    assert_ne!(r.status, 503, "the outage was not cached");
}

#[tokio::test]
async fn a_suspended_actor_loses_access_within_the_cache_ttl() {
    let g = Gateway::ready(&[("DATAHUB_SCIM_TOKEN_CACHE_TTL", "1500ms")]).await;
    let token = g.emu.create_user_token("scim-bot", true);
    assert_ne!(
        g.scim("GET", "/scim/v2/Schemas", Some(&token)).await.status,
        401
    );

    g.emu.put_aspect(
        "urn:li:corpuser:scim-bot",
        "corpUserStatus",
        json!({"status": "SUSPENDED", "lastModified": {"time": 0, "actor": "urn:li:corpuser:__datahub_system"}}),
    );
    // Still cached: accepted without asking GMS.
    assert_ne!(
        g.scim("GET", "/scim/v2/Schemas", Some(&token)).await.status,
        401
    );
    assert_eq!(calls_to(&g, "graphql.me"), 1);

    tokio::time::sleep(Duration::from_millis(1700)).await;
    let r = g.scim("GET", "/scim/v2/Schemas", Some(&token)).await;
    assert_eq!(r.status, 401, "{:?}", r.body);
    assert_eq!(calls_to(&g, "graphql.me"), 2);
    // The rejection is cached too (failure TTL 5 s).
    assert_eq!(
        g.scim("GET", "/scim/v2/Schemas", Some(&token)).await.status,
        401
    );
    assert_eq!(calls_to(&g, "graphql.me"), 2);
}
