//! DataHub token authentication: PATs are HS256 JWTs (claims of `StatelessTokenService`)
//! signed with the UTF-8 bytes of the signing key, valid only while their
//! `dataHubAccessToken` entity exists (`StatefulTokenService`) and, from 1.2.0 (#13947),
//! while their actor is active. Privileges live in `policy.rs`.

use super::state::{now_ms, State, Write};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// JWT claims of a DataHub access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// `"2"` for stateful (revocable) tokens.
    pub version: String,
    /// `PERSONAL`, `SESSION` or `SERVICE_ACCOUNT`.
    #[serde(rename = "type")]
    pub token_type: String,
    /// Always `USER`.
    #[serde(rename = "actorType")]
    pub actor_type: String,
    /// Bare username.
    #[serde(rename = "actorId")]
    pub actor_id: String,
    /// Random id.
    pub jti: String,
    /// Same as `actorId`.
    pub sub: String,
    /// Expiry (seconds since epoch); absent for NO_EXPIRY.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    /// Issuer.
    pub iss: String,
}

/// `base64-standard(sha256(token ‖ salt))`, the `dataHubAccessToken` id.
pub fn token_hash(token: &str, salt: &str) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    h.update(salt.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Urn of the `dataHubAccessToken` entity recording a token.
pub fn token_urn(id: &str) -> String {
    format!("urn:li:dataHubAccessToken:{id}")
}

/// A freshly minted and registered token.
pub struct Minted {
    /// The JWT.
    pub token: String,
    /// Its hash id.
    pub id: String,
}

/// Mints a v2 token for `username` and registers its `dataHubAccessToken` entity.
#[allow(clippy::too_many_arguments)]
pub fn mint(
    state: &mut State,
    key: &str,
    salt: &str,
    username: &str,
    token_type: &str,
    owner: &str,
    name: &str,
    description: Option<&str>,
    ttl_ms: Option<u64>,
) -> Minted {
    let created_at = now_ms();
    let expires_at = ttl_ms.map(|t| created_at + t);
    let claims = Claims {
        version: "2".into(),
        token_type: token_type.into(),
        actor_type: "USER".into(),
        actor_id: username.into(),
        jti: uuid::Uuid::new_v4().to_string(),
        sub: username.into(),
        exp: expires_at.map(|e| e / 1000),
        iss: "datahub-metadata-service".into(),
    };
    let mut header = Header::new(Algorithm::HS256);
    header.typ = None;
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(key.as_bytes()))
        .expect("HS256 signing with an in-memory key cannot fail");
    let id = token_hash(&token, salt);
    let mut info = json!({
        "name": name,
        "actorUrn": format!("urn:li:corpuser:{username}"),
        "ownerUrn": owner,
        "createdAt": created_at,
    });
    if let Some(e) = expires_at {
        info["expiresAt"] = json!(e);
    }
    if let Some(d) = description {
        info["description"] = json!(d);
    }
    state.write(Write {
        urn: token_urn(&id),
        aspect: "dataHubAccessTokenInfo".into(),
        value: info,
        actor: owner.into(),
        sync: true,
        system_metadata: json!({"properties": {"appSource": "ui"}}),
    });
    Minted { token, id }
}

/// Authenticates an `Authorization` header value; returns the actor urn. Every
/// failure is the same "anonymous" outcome (→ 401), as in GMS. `check_actor`: refuse
/// tokens of inactive actors (1.2.0+, #13947).
pub fn authenticate(
    state: &mut State,
    key: &str,
    salt: &str,
    header: Option<&str>,
    check_actor: bool,
) -> Option<String> {
    let header = header?;
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))?;
    if token.is_empty() {
        return None;
    }
    let mut v = Validation::new(Algorithm::HS256);
    v.required_spec_claims.clear();
    v.validate_exp = false;
    v.validate_aud = false;
    v.leeway = 0;
    let data = jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(key.as_bytes()), &v)
        .ok()?;
    let c = data.claims;
    if c.actor_type != "USER" || c.actor_id.is_empty() {
        return None;
    }
    let id = token_hash(token, salt);
    if let Some(exp) = c.exp {
        if exp * 1000 <= now_ms() {
            // an expired v2 token is deleted the first time it is presented
            if c.version == "2" {
                state.delete_entity(&token_urn(&id), true);
            }
            return None;
        }
    }
    let actor = format!("urn:li:corpuser:{}", c.actor_id);
    if check_actor && !actor_active(state, &actor) {
        return None;
    }
    if c.version == "2" && !state.exists(&token_urn(&id)) {
        return None;
    }
    Some(actor)
}

/// `ActorContext.isActive`: key present, not soft-deleted, not SUSPENDED.
pub fn actor_active(state: &State, actor: &str) -> bool {
    state.exists(actor)
        && !state.removed(actor)
        && state
            .value(actor, "corpUserStatus")
            .and_then(|v| v.get("status"))
            .and_then(Value::as_str)
            != Some("SUSPENDED")
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn user(state: &mut State, name: &str) -> String {
        let urn = format!("urn:li:corpuser:{name}");
        state.write(Write {
            urn: urn.clone(),
            aspect: "corpUserInfo".into(),
            value: json!({"active": true}),
            actor: urn.clone(),
            sync: true,
            system_metadata: Value::Null,
        });
        urn
    }

    #[test]
    fn pat_lifecycle() {
        let mut s = State::default();
        let urn = user(&mut s, "bob");
        let m = mint(
            &mut s, KEY, "salt", "bob", "PERSONAL", &urn, "t", None, None,
        );
        let h = format!("Bearer {}", m.token);
        assert_eq!(
            authenticate(&mut s, KEY, "salt", Some(&h), true),
            Some(urn.clone())
        );
        assert_eq!(
            authenticate(
                &mut s,
                KEY,
                "salt",
                Some(&h.replacen("Bearer", "bearer", 1)),
                true
            ),
            Some(urn.clone())
        );
        assert_eq!(
            authenticate(&mut s, KEY, "other", Some(&h), true),
            None,
            "wrong salt = unknown record"
        );
        assert_eq!(
            authenticate(&mut s, "x".repeat(32).as_str(), "salt", Some(&h), true),
            None
        );
        assert_eq!(
            authenticate(&mut s, KEY, "salt", Some("Bearer "), true),
            None
        );
        assert_eq!(
            authenticate(&mut s, KEY, "salt", Some(&m.token), true),
            None
        );
        s.delete_entity(&token_urn(&m.id), true);
        assert_eq!(
            authenticate(&mut s, KEY, "salt", Some(&h), true),
            None,
            "revoked"
        );
    }
}
