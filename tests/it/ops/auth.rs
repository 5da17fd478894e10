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
