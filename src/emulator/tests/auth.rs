//! §1: PAT validation, revocation, inactive actors, 401 for REST and GraphQL alike,
//! 403 / UNAUTHORIZED without the Admin role.

use super::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

const ME: &str = "query { me { corpUser { urn } platformPrivileges { manageIdentities } } }";

async fn both_401(emu: &Emulator, token: Option<&str>, why: &str) {
    let (s, body) = call(
        emu,
        token,
        "GET",
        "/aspects/urn%3Ali%3Acorpuser%3Adatahub?aspect=corpUserKey",
        None,
    )
    .await;
    assert_eq!(s, 401, "REST {why}");
    assert_eq!(body, Value::Null, "401 has no body ({why})");
    let (s, _) = call(
        emu,
        token,
        "POST",
        "/api/graphql",
        Some(json!({"query": ME})),
    )
    .await;
    assert_eq!(s, 401, "GraphQL {why}");
}

fn sign(alg: Algorithm, key: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .expect("sign")
}

#[tokio::test]
async fn health_and_config_need_no_token() {
    let emu = start().await;
    let (s, _) = call(&emu, None, "GET", "/health", None).await;
    assert_eq!(s, 200);
    let (s, cfg) = call(&emu, None, "GET", "/config", None).await;
    assert_eq!(s, 200);
    assert_eq!(cfg["versions"]["acryldata/datahub"]["version"], "v1.7.0");
    assert_eq!(cfg["noCode"], "true");
}

#[tokio::test]
async fn every_bad_token_is_401() {
    let emu = start().await;
    both_401(&emu, None, "missing header").await;
    let (s, _) = try_send(
        &emu,
        "GET",
        "/aspects/x?aspect=corpUserKey",
        &[("authorization", "Bearer ")],
        None,
    )
    .await
    .expect("resp");
    assert_eq!(s, 401, "prefix only");
    let (s, _) = try_send(
        &emu,
        "GET",
        "/aspects/x?aspect=corpUserKey",
        &[("authorization", &format!("Basic {}", emu.admin_token()))],
        None,
    )
    .await
    .expect("resp");
    assert_eq!(s, 401, "wrong scheme");
    let claims = json!({"version": "2", "type": "PERSONAL", "actorType": "USER", "actorId": "datahub", "sub": "datahub", "jti": "x", "iss": "datahub-metadata-service"});
    both_401(
        &emu,
        Some(&sign(
            Algorithm::HS256,
            "another-key-0123456789abcdefghijklmnop",
            claims.clone(),
        )),
        "bad signature",
    )
    .await;
    both_401(
        &emu,
        Some(&sign(Algorithm::HS384, KEY, claims.clone())),
        "wrong alg",
    )
    .await;
    // signed correctly but never registered → counts as revoked
    both_401(
        &emu,
        Some(&sign(Algorithm::HS256, KEY, claims.clone())),
        "unregistered",
    )
    .await;
    let mut expired = claims;
    expired["exp"] = json!(1_000_000_000u64);
    both_401(&emu, Some(&sign(Algorithm::HS256, KEY, expired)), "expired").await;
}

#[tokio::test]
async fn the_admin_token_works_and_lowercase_bearer_is_accepted() {
    let emu = start().await;
    let (s, me) = gql(&emu, &emu.admin_token(), ME, json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(
        me["data"]["me"]["corpUser"]["urn"],
        "urn:li:corpuser:datahub"
    );
    assert_eq!(
        me["data"]["me"]["platformPrivileges"]["manageIdentities"],
        true
    );
    let h = format!("bearer {}", emu.admin_token());
    let (s, _) = try_send(
        &emu,
        "GET",
        "/aspects/urn%3Ali%3Acorpuser%3Adatahub?aspect=corpUserKey",
        &[("authorization", &h)],
        None,
    )
    .await
    .expect("resp");
    assert_eq!(s, 200);
}

#[tokio::test]
async fn revoked_token_is_401() {
    let emu = start().await;
    let admin = emu.admin_token();
    let (_, r) = gql(&emu, &admin,
        "mutation($i: CreateAccessTokenInput!) { createAccessToken(input: $i) { accessToken metadata { id actorUrn } } }",
        json!({"i": {"type": "PERSONAL", "actorUrn": "urn:li:corpuser:datahub", "duration": "ONE_DAY", "name": "t"}})).await;
    let tok = r["data"]["createAccessToken"]["accessToken"]
        .as_str()
        .expect("token")
        .to_string();
    let id = r["data"]["createAccessToken"]["metadata"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(gql(&emu, &tok, ME, json!({})).await.0, 200);
    let (_, r) = gql(
        &emu,
        &admin,
        "mutation($id: String!) { revokeAccessToken(tokenId: $id) }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(r["data"]["revokeAccessToken"], true);
    both_401(&emu, Some(&tok), "revoked").await;
}

#[tokio::test]
async fn inactive_actors_are_401() {
    let emu = start().await;
    let admin = emu.admin_token();
    for (name, aspect, value) in [
        ("sus", "corpUserStatus", status_aspect("SUSPENDED")),
        ("soft", "status", json!({"removed": true})),
    ] {
        let tok = emu.create_user_token(name, false);
        assert_eq!(gql(&emu, &tok, ME, json!({})).await.0, 200);
        let (s, _) = ingest(
            &emu,
            &admin,
            vec![mcp(&format!("urn:li:corpuser:{name}"), aspect, value)],
        )
        .await;
        assert_eq!(s, 200);
        both_401(&emu, Some(&tok), name).await;
    }
    let tok = emu.create_user_token("gone", false);
    let (s, _) = call(
        &emu,
        Some(&admin),
        "POST",
        "/entities?action=delete",
        Some(json!({"urn": "urn:li:corpuser:gone"})),
    )
    .await;
    assert_eq!(s, 200);
    both_401(&emu, Some(&tok), "hard deleted").await;
}

#[tokio::test]
async fn no_admin_role_means_403_on_writes_but_reads_work() {
    let emu = start().await;
    let tok = emu.create_user_token("reader", false);
    let (s, body) = ingest(
        &emu,
        &tok,
        vec![mcp(
            "urn:li:corpuser:x",
            "corpUserInfo",
            json!({"active": true}),
        )],
    )
    .await;
    assert_eq!(s, 403);
    assert_eq!(body["status"], 403);
    assert!(!emu.entity_exists("urn:li:corpuser:x"));
    let (s, _) = call(
        &emu,
        Some(&tok),
        "POST",
        "/entities?action=delete",
        Some(json!({"urn": "urn:li:corpuser:datahub"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, r) = gql(
        &emu,
        &tok,
        "mutation { createGroup(input: {id: \"g\", name: \"G\"}) }",
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(r["data"]["createGroup"], Value::Null);
    assert_eq!(r["errors"][0]["extensions"]["code"], 403);
    assert_eq!(r["errors"][0]["extensions"]["type"], "UNAUTHORIZED");
    let (_, me) = gql(&emu, &tok, ME, json!({})).await;
    assert_eq!(
        me["data"]["me"]["platformPrivileges"]["manageIdentities"],
        false
    );
    let (_, r) = gql(&emu, &tok, "{ listGroups(input: {}) { total } }", json!({})).await;
    assert_eq!(r["errors"][0]["extensions"]["code"], 403);
    let (s, _) = call(
        &emu,
        Some(&tok),
        "GET",
        "/entitiesV2/urn%3Ali%3Acorpuser%3Adatahub",
        None,
    )
    .await;
    assert_eq!(s, 200);
    // the Admin role through a group counts
    emu.put_aspect(
        "urn:li:corpGroup:admins",
        "roleMembership",
        json!({"roles": ["urn:li:dataHubRole:Admin"]}),
    );
    emu.put_aspect(
        "urn:li:corpuser:reader",
        "groupMembership",
        json!({"groups": ["urn:li:corpGroup:admins"]}),
    );
    let (s, _) = ingest(
        &emu,
        &tok,
        vec![mcp(
            "urn:li:corpuser:x",
            "corpUserInfo",
            json!({"active": true}),
        )],
    )
    .await;
    assert_eq!(s, 200);
}
