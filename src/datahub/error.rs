//! `datahub::Error`: what went wrong upstream, in GMS terms. Callers (provision,
//! http) turn it into SCIM errors in one place; nothing here knows SCIM.
//!
//! No variant ever carries the caller's token. Messages come from GMS error
//! bodies (Rest.li `message`, GraphQL `errors[].message`) and may name the urn
//! the caller asked about, so log [`Error::kind`] rather than the `Display`
//! text where personal data matters.

use std::time::Duration;

/// An error talking to DataHub GMS.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401: the token is missing, malformed, expired, revoked, or its actor is
    /// suspended / soft-deleted / hard-deleted (GMS does not say which).
    #[error("DataHub rejected the token (401)")]
    Unauthorized,

    /// 403, or GraphQL `extensions.code` 403: authenticated but not allowed.
    #[error("DataHub refused the operation (403): {0}")]
    Forbidden(String),

    /// 404 from an endpoint where absence is an error, or GraphQL code 404.
    #[error("DataHub reports not found: {0}")]
    NotFound(String),

    /// 409, or GraphQL code 409.
    #[error("DataHub reports a conflict: {0}")]
    Conflict(String),

    /// A conditional write lost: Rest.li 422 whose message is a precondition
    /// failure (`Expected version X, actual version Y`), or HTTP 412.
    #[error("DataHub precondition failed: {0}")]
    PreconditionFailed(String),

    /// A conditional read-modify-write lost the race `attempts` times in a row.
    #[error("DataHub conditional write still conflicting after {attempts} attempts")]
    RetriesExhausted {
        /// How many read + write rounds were tried.
        attempts: u32,
    },

    /// 400, a Rest.li 422 validation failure, or GraphQL code 400: the request
    /// (or an aspect value in it) was rejected as invalid.
    #[error("DataHub rejected the request as invalid: {0}")]
    Invalid(String),

    /// GMS throttled the call (HTTP 429, e.g. GraphQL's rate limit): the caller
    /// should slow down and retry after `retry_after`.
    #[error("DataHub throttled the request")]
    Throttled {
        /// `Retry-After` from the response, when GMS sent one (seconds form).
        retry_after: Option<Duration>,
    },

    /// GMS is unreachable or failing: 5xx, timeout, connection refused or
    /// reset, GraphQL code 500/503.
    #[error("DataHub unavailable: {reason}")]
    Unavailable {
        /// What happened (status line, "timeout", "connection refused", …).
        reason: String,
        /// `Retry-After` from the response, when GMS sent one (seconds form).
        retry_after: Option<Duration>,
        /// The call timed out: our request timeout fired, or a proxy in front of GMS
        /// answered 504. Callers map this to 504 without reading `reason`.
        timeout: bool,
    },

    /// A response we could not understand (bad JSON, missing members).
    #[error("unexpected response from DataHub: {0}")]
    InvalidResponse(String),

    /// Our own configuration is unusable (bad base URL, unreadable CA bundle).
    #[error("DataHub client configuration: {0}")]
    Config(String),
}

impl Error {
    /// A short, stable, personal-data-free name for logs and metric labels.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Unauthorized => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::PreconditionFailed(_) => "precondition_failed",
            Error::RetriesExhausted { .. } => "retries_exhausted",
            Error::Invalid(_) => "invalid",
            Error::Throttled { .. } => "throttled",
            Error::Unavailable { .. } => "unavailable",
            Error::InvalidResponse(_) => "invalid_response",
            Error::Config(_) => "config",
        }
    }

    /// True when retrying the same call later may succeed (GMS-side trouble).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Unavailable { .. } | Error::Throttled { .. })
    }

    /// True when the call timed out (see [`Error::Unavailable`]`::timeout`).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Unavailable { timeout: true, .. })
    }

    pub(crate) fn unavailable(reason: impl Into<String>) -> Self {
        Error::Unavailable {
            reason: reason.into(),
            retry_after: None,
            timeout: false,
        }
    }

    pub(crate) fn timed_out(reason: impl Into<String>) -> Self {
        Error::Unavailable {
            reason: reason.into(),
            retry_after: None,
            timeout: true,
        }
    }
}

/// Shorthand used across the client.
pub type Result<T, E = Error> = std::result::Result<T, E>;
