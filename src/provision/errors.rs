//! The one place where a `datahub::Error` becomes a `scim::Error`.
//!
//! Client faults are 4xx, DataHub trouble is 502/503/504, our own bug is 500 with
//! a generic detail. Details never carry tokens, names or emails (GMS messages may
//! name urns, so they are not forwarded).

use crate::datahub;
use crate::scim;

/// Seconds an IdP should wait after a write lost its race too many times.
const CONTENTION_RETRY_AFTER_SECS: u64 = 1;
/// `Retry-After` sent with a 429 when GMS throttled us without saying for how long.
const THROTTLED_RETRY_AFTER_SECS: u64 = 5;
/// `Retry-After` sent with a 503 or 504 when GMS did not say how long to wait.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

/// Maps an upstream failure to what the IdP sees.
///
/// - `Unauthorized` → 401: the bearer token is not (or no longer) valid in DataHub.
/// - `Forbidden` → 403: the token's user lacks `MANAGE_USERS_AND_GROUPS`.
/// - `NotFound` → 404.
/// - `Conflict` → 409 `uniqueness`.
/// - `PreconditionFailed` / `RetriesExhausted` → **503 + `Retry-After`**, not 409: the
///   write lost a race with another writer of the same aspect more often than our
///   bounded retries allow. Nothing was written, and repeating the request later will
///   succeed. A 409 would tell Okta "the user already exists" and stop the task; a 503
///   with `Retry-After` makes Okta and Entra retry.
/// - `Invalid` → 502: every value we send is validated and built by us, so GMS
///   rejecting it means we and DataHub disagree about the schema, not that the IdP
///   sent something wrong (client faults are caught before any write, as 400s).
/// - `Throttled` (GMS 429) → **429 + `Retry-After`** (GMS's, else 5 s): the IdP slows down.
/// - `Unavailable` → 504 on a timeout, else 503; both with `Retry-After` (GMS's, else
///   5 s), so the IdP retries instead of counting a failure.
/// - `InvalidResponse` → 502.
/// - `Config` → 500: our deployment is broken.
pub fn from_datahub(e: datahub::Error) -> scim::Error {
    use datahub::Error as E;
    let kind = e.kind();
    let out = match e {
        E::Unauthorized => scim::Error::unauthorized("DataHub rejected the bearer token"),
        E::Forbidden(_) => scim::Error::forbidden(
            "the token's DataHub user may not manage users and groups (needs MANAGE_USERS_AND_GROUPS)",
        ),
        E::NotFound(_) => scim::Error::not_found("resource not found"),
        E::Conflict(_) => scim::Error::uniqueness("DataHub reports a conflicting resource"),
        E::PreconditionFailed(_) | E::RetriesExhausted { .. } => scim::Error::upstream(
            503,
            "a concurrent change to the same DataHub records kept winning; nothing was written, retry later",
        )
        .with_retry_after(CONTENTION_RETRY_AFTER_SECS),
        E::Invalid(_) => scim::Error::upstream(502, "DataHub rejected the translated request"),
        // Throttling reaches the IdP as throttling: Okta and Entra both honour 429 +
        // Retry-After and slow down, where a 503 would count as a failed task.
        E::Throttled { retry_after } => scim::Error::upstream(429, "DataHub is throttling requests")
            .with_retry_after(retry_after.map_or(THROTTLED_RETRY_AFTER_SECS, |d| d.as_secs().max(1))),
        E::Unavailable {
            retry_after,
            timeout,
            ..
        } => {
            let secs = retry_after.map_or(UNAVAILABLE_RETRY_AFTER_SECS, |d| d.as_secs().max(1));
            if timeout {
                scim::Error::upstream(504, "DataHub did not answer in time").with_retry_after(secs)
            } else {
                scim::Error::upstream(503, "DataHub is unavailable").with_retry_after(secs)
            }
        }
        E::InvalidResponse(_) => scim::Error::upstream(502, "DataHub sent a response we could not understand"),
        E::Config(_) => scim::Error::internal(),
    };
    if out.status >= 500 {
        tracing::warn!(
            datahub.error = kind,
            scim.status = out.status,
            "DataHub call failed"
        );
    }
    out
}

/// The error type of our read-modify-write closures: a SCIM error, built from a
/// `datahub::Error` by [`from_datahub`] (so `?` works on both).
#[derive(Debug)]
pub struct Fail(pub scim::Error);

impl From<datahub::Error> for Fail {
    fn from(e: datahub::Error) -> Self {
        Fail(from_datahub(e))
    }
}

impl From<scim::Error> for Fail {
    fn from(e: scim::Error) -> Self {
        Fail(e)
    }
}

impl From<Fail> for scim::Error {
    fn from(f: Fail) -> Self {
        f.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn statuses() {
        use datahub::Error as E;
        let s = |e: E| from_datahub(e);
        assert_eq!(s(E::Unauthorized).status, 401);
        assert_eq!(s(E::Forbidden("x".into())).status, 403);
        assert_eq!(s(E::NotFound("x".into())).status, 404);
        assert_eq!(
            s(E::Conflict("x".into())).scim_type,
            Some(scim::ScimType::Uniqueness)
        );
        let e = s(E::RetriesExhausted { attempts: 3 });
        assert_eq!((e.status, e.retry_after), (503, Some(1)));
        assert_eq!(s(E::PreconditionFailed("v".into())).status, 503);
        assert_eq!(s(E::Invalid("x".into())).status, 502);
        let e = s(E::Throttled {
            retry_after: Some(Duration::from_secs(3)),
        });
        assert_eq!((e.status, e.retry_after), (429, Some(3)));
        let e = s(E::Throttled { retry_after: None });
        assert_eq!((e.status, e.retry_after), (429, Some(5)));
        let e = s(E::Unavailable {
            reason: "503 Service Unavailable".into(),
            retry_after: Some(Duration::from_secs(7)),
            timeout: false,
        });
        assert_eq!((e.status, e.retry_after), (503, Some(7)));
        let e = s(E::Unavailable {
            reason: "request timed out".into(),
            retry_after: None,
            timeout: true,
        });
        assert_eq!((e.status, e.retry_after), (504, Some(5)));
        let e = s(E::Unavailable {
            reason: "connection refused".into(),
            retry_after: None,
            timeout: false,
        });
        assert_eq!((e.status, e.retry_after), (503, Some(5)));
        // The flag decides, never the message text.
        assert_eq!(
            s(E::Unavailable {
                reason: "GraphQL 500: deadline timeout in a resolver".into(),
                retry_after: None,
                timeout: false,
            })
            .status,
            503
        );
        assert_eq!(s(E::InvalidResponse("x".into())).status, 502);
        assert_eq!(s(E::Config("x".into())).status, 500);
        // GMS messages (which may name people) never reach the client.
        assert!(!s(E::Forbidden("urn:li:corpuser:secret".into()))
            .detail
            .contains("secret"));
    }
}
