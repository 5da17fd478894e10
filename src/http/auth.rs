//! Bearer authentication with a DataHub personal access token.
//!
//! 1. `Authorization: Bearer <jwt>` (`Bearer`/`bearer`, as GMS accepts).
//! 2. Local check with `jsonwebtoken`: well-formed, HS256 only, not expired, has
//!    `actorId` and `type`. The signature is verified only when DataHub's signing key
//!    is configured. A token failing here never reaches GMS.
//! 3. Token cache (moka), keyed by SHA-256 of the token (never the token itself):
//!    accepted tokens for `token_cache_ttl`, rejected ones for
//!    `token_cache_failure_ttl`. A GMS outage is never cached.
//! 4. On a miss, GMS `me`: 401 → invalid (revoked, suspended actor, …; before
//!    DataHub 1.2 GMS does not check the actor, so the gateway reads its status);
//!    unreachable → 503. `manageIdentities` (Manage Users & Groups) → accepted.
//!    Without it DataHub may still let the token write users and groups (the finer
//!    Update Users / Update Groups privileges, DataHub ≥ 1.2), so DataHub is asked
//!    the way it decides: a user + group write conditioned on an impossible version
//!    (`Client::can_write_identities`; nothing is written) → accepted, or 403 →
//!    forbidden.
//! 5. Failed authentications are counted per client address ([`super::throttle`]):
//!    past the limit, that address's tokens not known to be good answer 429 before
//!    any of the above.
//!
//! Tokens are never logged.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderValue;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use sha2::{Digest, Sha256};

use super::metrics::Metrics;
use super::throttle::{ClientKey, FailureLimit};
use crate::{datahub, scim};

/// `WWW-Authenticate` value sent with every 401.
pub const WWW_AUTHENTICATE: &str = "Bearer realm=\"datahub-scim\"";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The caller's corpuser urn.
    pub actor: String,
    /// Whether the caller holds Manage Policies (`me.platformPrivileges`), which
    /// DataHub requires to assign roles (`--idp-roles`).
    pub manage_policies: bool,
}

/// Why a request was not authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No or unusable `Authorization` header, or a token that is malformed, expired,
    /// wrongly signed, revoked or whose actor is suspended.
    #[error("{0}")]
    Invalid(&'static str),
    /// A valid token whose actor DataHub does not let write users and groups.
    #[error("the token's DataHub user may not write users and groups: it needs the Manage Users & Groups privilege, or Update Users and Update Groups (DataHub 1.2 and later)")]
    Forbidden,
    /// DataHub could not be asked.
    #[error("DataHub is unavailable to validate the token")]
    Unavailable,
    /// DataHub throttled the validation call (429).
    #[error("DataHub is throttling requests")]
    Throttled,
    /// This client address failed to authenticate too often; retry after this many
    /// seconds.
    #[error("too many failed authentications from this address")]
    RateLimited(u64),
}

impl From<AuthError> for scim::Error {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Invalid(why) => scim::Error::unauthorized(why),
            AuthError::Forbidden => scim::Error::forbidden(e.to_string()),
            AuthError::Unavailable => scim::Error::upstream(503, e.to_string()).with_retry_after(5),
            AuthError::Throttled => scim::Error::upstream(429, e.to_string()).with_retry_after(5),
            AuthError::RateLimited(secs) => {
                scim::Error::new(429, e.to_string()).with_retry_after(secs)
            }
        }
    }
}

/// Is the token's actor active (not suspended, not soft-deleted)? DataHub checks this
/// for every token from 1.2.0 (`StatelessTokenService.validateActor`, #13947), and
/// `me` then already answered 401. Before, a suspended user's PAT keeps working in
/// DataHub, so the gateway reads the actor's status itself: one batch read per token
/// validation, on those releases only.
async fn actor_is_active(
    client: &datahub::Client,
    token: &str,
    me: &datahub::Me,
) -> Result<bool, datahub::Error> {
    if client.release().is_none_or(|r| r.rejects_inactive_actors()) {
        return Ok(true);
    }
    let read = client
        .batch_get(
            token,
            std::slice::from_ref(&me.urn),
            &["corpUserStatus", "status"],
        )
        .await?;
    let Some(actor) = read.first() else {
        return Ok(true);
    };
    let suspended = actor
        .get::<datahub::aspects::CorpUserStatus>()?
        .is_some_and(|s| s.value.status == datahub::aspects::UserStatus::Suspended);
    let removed = actor
        .get::<datahub::aspects::Status>()?
        .is_some_and(|s| s.value.removed);
    Ok(!(suspended || removed))
}

/// A cached decision about one token.
#[derive(Debug, Clone)]
enum Decision {
    /// Passed the local checks and DataHub; valid until `exp` (the token's own expiry,
    /// seconds since the epoch), which a cache hit checks instead of decoding the
    /// token again (its signature and claims cannot have changed: the key is the
    /// token's hash).
    Accepted(Arc<Identity>, Option<u64>),
    Rejected(AuthError),
}

/// Gives accepted and rejected tokens different lifetimes in one cache.
struct DecisionExpiry {
    ok: Duration,
    failed: Duration,
}

impl moka::Expiry<[u8; 32], Decision> for DecisionExpiry {
    fn expire_after_create(
        &self,
        _key: &[u8; 32],
        value: &Decision,
        _now: Instant,
    ) -> Option<Duration> {
        Some(match value {
            Decision::Accepted(..) => self.ok,
            Decision::Rejected(_) => self.failed,
        })
    }
}

/// Validates bearer tokens; cheap to share behind an `Arc`.
pub struct Authenticator {
    client: datahub::Client,
    cache: moka::future::Cache<[u8; 32], Decision>,
    /// Hashes of tokens accepted within [`KNOWN_GOOD_TTL`]: they pass the
    /// per-address failure limit (they still go through the checks above).
    known_good: moka::future::Cache<[u8; 32], ()>,
    limit: FailureLimit,
    signing_key: Option<Vec<u8>>,
    metrics: Arc<Metrics>,
}

/// How long an accepted token stays exempt from the per-address failure limit.
const KNOWN_GOOD_TTL: Duration = Duration::from_secs(3600);

/// The claims we read from a DataHub token.
#[derive(serde::Deserialize)]
struct Claims {
    #[serde(rename = "actorId")]
    actor_id: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Expiry, seconds since the epoch (absent for DataHub's NO_EXPIRY tokens).
    exp: Option<u64>,
}

/// Checks what can be checked without DataHub.
pub fn check_locally(token: &str, signing_key: Option<&[u8]>) -> Result<(), AuthError> {
    checked_locally(token, signing_key).map(|_| ())
}

/// [`check_locally`], returning the token's `exp` (seconds since the epoch), if any.
fn checked_locally(token: &str, signing_key: Option<&[u8]>) -> Result<Option<u64>, AuthError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| AuthError::Invalid("malformed bearer token"))?;
    if header.alg != Algorithm::HS256 {
        return Err(AuthError::Invalid("unsupported token algorithm"));
    }
    let mut v = Validation::new(Algorithm::HS256);
    v.required_spec_claims = HashSet::new(); // DataHub's NO_EXPIRY tokens have no `exp`.
    v.leeway = 0;
    v.validate_aud = false;
    let key = match signing_key {
        Some(k) => DecodingKey::from_secret(k),
        None => {
            v.insecure_disable_signature_validation();
            DecodingKey::from_secret(&[])
        }
    };
    let data = jsonwebtoken::decode::<Claims>(token, &key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        match e.kind() {
            K::ExpiredSignature => AuthError::Invalid("token expired"),
            K::InvalidSignature => AuthError::Invalid("token signature is invalid"),
            _ => AuthError::Invalid("malformed bearer token"),
        }
    })?;
    match (data.claims.actor_id, data.claims.kind) {
        (Some(a), Some(_)) if !a.is_empty() => Ok(data.claims.exp),
        _ => Err(AuthError::Invalid("token lacks DataHub claims")),
    }
}

/// Seconds since the epoch.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The token in an `Authorization` header.
pub fn bearer(header: Option<&HeaderValue>) -> Result<&str, AuthError> {
    let h = header.ok_or(AuthError::Invalid("missing bearer token"))?;
    let h = h
        .to_str()
        .map_err(|_| AuthError::Invalid("malformed Authorization header"))?;
    let token = h
        .strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("bearer "))
        .ok_or(AuthError::Invalid("missing bearer token"))?
        .trim();
    if token.is_empty() {
        return Err(AuthError::Invalid("missing bearer token"));
    }
    Ok(token)
}

impl Authenticator {
    /// An authenticator asking `client` on cache misses.
    pub fn new(
        client: datahub::Client,
        ttl: Duration,
        failure_ttl: Duration,
        signing_key: Option<Vec<u8>>,
        failure_limit: u32,
        metrics: Arc<Metrics>,
    ) -> Self {
        let cache = moka::future::Cache::builder()
            .max_capacity(10_000)
            .expire_after(DecisionExpiry {
                ok: ttl,
                failed: failure_ttl,
            })
            .build();
        Authenticator {
            client,
            cache,
            known_good: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(KNOWN_GOOD_TTL)
                .build(),
            limit: FailureLimit::new(failure_limit),
            signing_key,
            metrics,
        }
    }

    /// Entries in the token cache (for the scrape-time gauge).
    pub fn cached_entries(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Authenticates one request from its `Authorization` header and the client's
    /// address (`None`: not limited); returns the token and the caller.
    pub async fn authenticate(
        &self,
        header: Option<&HeaderValue>,
        client: Option<ClientKey>,
    ) -> Result<(String, Identity), AuthError> {
        let key = bearer(header)
            .ok()
            .map(|t| -> [u8; 32] { Sha256::digest(t.as_bytes()).into() });
        if let Some(wait) = client.and_then(|c| self.limit.exhausted(c)) {
            let known = match &key {
                Some(k) => {
                    self.known_good.contains_key(k)
                        || matches!(self.cache.get(k).await, Some(Decision::Accepted(..)))
                }
                None => false,
            };
            if !known {
                self.metrics.observe_auth("rate_limited", false);
                return Err(AuthError::RateLimited(wait));
            }
        }
        let result = self.decide(header, key).await;
        match (&result, client) {
            (Err(AuthError::Invalid(_) | AuthError::Forbidden), Some(c)) => {
                self.limit.record_failure(c)
            }
            (Ok(_), _) => {
                if let Some(k) = key {
                    // A write only the first time: the steady state only reads.
                    if !self.known_good.contains_key(&k) {
                        self.known_good.insert(k, ()).await;
                    }
                }
            }
            _ => {}
        }
        result
    }

    /// `key` is the SHA-256 of the bearer token (`None` without one).
    async fn decide(
        &self,
        header: Option<&HeaderValue>,
        key: Option<[u8; 32]>,
    ) -> Result<(String, Identity), AuthError> {
        let invalid = |e: AuthError| {
            self.metrics.observe_auth("invalid", false);
            Err(e)
        };
        let token = match bearer(header) {
            Ok(t) => t,
            Err(e) => return invalid(e),
        };
        let key = key.unwrap_or_else(|| Sha256::digest(token.as_bytes()).into());
        let cached = self.cache.get(&key).await;
        // A token accepted lately passed the local checks then; only its expiry can
        // have changed since. Anything else is checked locally before the cache
        // answers (and before GMS is asked on a miss).
        let (cached, exp) = match cached {
            Some(Decision::Accepted(_, Some(exp))) if unix_now() >= exp => {
                return invalid(AuthError::Invalid("token expired"));
            }
            Some(d @ Decision::Accepted(..)) => (Some(d), None),
            other => match checked_locally(token, self.signing_key.as_deref()) {
                Ok(exp) => (other, exp),
                Err(e) => return invalid(e),
            },
        };
        self.metrics.observe_cache("token", cached.is_some());
        let was_cached = cached.is_some();
        let decision = match cached {
            Some(d) => d,
            None => {
                let client = self.client.clone();
                let owned = token.to_owned();
                let loaded = self
                    .cache
                    .try_get_with(key, async move {
                        let accepted = |me: datahub::Me| {
                            Decision::Accepted(
                                Arc::new(Identity {
                                    manage_policies: me.manage_policies,
                                    actor: me.urn.to_string(),
                                }),
                                exp,
                            )
                        };
                        let me = match client.me(&owned).await {
                            Ok(me) => match actor_is_active(&client, &owned, &me).await {
                                Ok(true) => Ok(me),
                                Ok(false) => Err(datahub::Error::Unauthorized),
                                Err(e) => Err(e),
                            },
                            Err(e) => Err(e),
                        };
                        match me {
                            Ok(me) if me.manage_identities => Ok(accepted(me)),
                            Ok(me) => match client.can_write_identities(&owned, &me.urn).await {
                                Ok(true) => Ok(accepted(me)),
                                Ok(false) => Ok(Decision::Rejected(AuthError::Forbidden)),
                                Err(datahub::Error::Unauthorized) => Ok(Decision::Rejected(
                                    AuthError::Invalid("token rejected by DataHub"),
                                )),
                                Err(e) => Err(e.kind()),
                            },
                            Err(datahub::Error::Unauthorized) => Ok(Decision::Rejected(
                                AuthError::Invalid("token rejected by DataHub"),
                            )),
                            Err(e) => Err(e.kind()),
                        }
                    })
                    .await;
                match loaded {
                    Ok(d) => d,
                    Err(kind) => {
                        tracing::warn!(upstream.error = %kind, "token validation failed: DataHub unavailable");
                        self.metrics.observe_auth("unavailable", false);
                        return Err(if *kind == "throttled" {
                            AuthError::Throttled
                        } else {
                            AuthError::Unavailable
                        });
                    }
                }
            }
        };
        match decision {
            Decision::Accepted(id, _) => {
                self.metrics.observe_auth("ok", was_cached);
                Ok((token.to_owned(), (*id).clone()))
            }
            Decision::Rejected(e) => {
                let outcome = if e == AuthError::Forbidden {
                    "forbidden"
                } else {
                    "invalid"
                };
                self.metrics.observe_auth(outcome, was_cached);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn token(alg: Algorithm, claims: serde_json::Value) -> String {
        encode(&Header::new(alg), &claims, &EncodingKey::from_secret(KEY)).expect("encode")
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    }

    #[test]
    fn local_checks() {
        let good = json!({"version":"2","type":"PERSONAL","actorType":"USER","actorId":"bot","sub":"bot","exp": now() + 600});
        assert_eq!(
            check_locally(&token(Algorithm::HS256, good.clone()), None),
            Ok(())
        );
        assert_eq!(
            check_locally(&token(Algorithm::HS256, good.clone()), Some(KEY)),
            Ok(())
        );
        assert_eq!(
            check_locally(
                &token(Algorithm::HS256, good.clone()),
                Some(b"another-key-another-key-another-k")
            ),
            Err(AuthError::Invalid("token signature is invalid"))
        );
        let no_exp = json!({"version":"2","type":"PERSONAL","actorId":"bot"});
        assert_eq!(
            check_locally(&token(Algorithm::HS256, no_exp), None),
            Ok(())
        );
        let expired = json!({"type":"PERSONAL","actorId":"bot","exp": now() - 10});
        assert_eq!(
            check_locally(&token(Algorithm::HS256, expired), None),
            Err(AuthError::Invalid("token expired"))
        );
        assert_eq!(
            check_locally(&token(Algorithm::HS384, good), None),
            Err(AuthError::Invalid("unsupported token algorithm"))
        );
        assert_eq!(
            check_locally("garbage", None),
            Err(AuthError::Invalid("malformed bearer token"))
        );
        let no_actor = json!({"type":"PERSONAL"});
        assert!(check_locally(&token(Algorithm::HS256, no_actor), None).is_err());
    }

    #[test]
    fn bearer_header() {
        let h = HeaderValue::from_static("bearer abc");
        assert_eq!(bearer(Some(&h)), Ok("abc"));
        let h = HeaderValue::from_static("Basic abc");
        assert!(bearer(Some(&h)).is_err());
        assert!(bearer(None).is_err());
        let h = HeaderValue::from_static("Bearer ");
        assert!(bearer(Some(&h)).is_err());
    }
}
