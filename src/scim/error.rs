//! The SCIM error (RFC 7644 §3.12): an HTTP status, an optional `scimType` and a
//! human-readable detail. Every failure a client sees is one of these.

use serde_json::{json, Value};

/// The `scimType` keywords of RFC 7644 §3.12, Table 9.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
    /// RFC 9865 §2.3: the `cursor` is not one this server issued for this query.
    InvalidCursor,
    /// RFC 9865 §2.3: the `cursor` has expired.
    ExpiredCursor,
    /// RFC 9865 §2.3: `count` is out of range.
    InvalidCount,
}

impl ScimType {
    /// The keyword as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
            ScimType::InvalidCursor => "invalidCursor",
            ScimType::ExpiredCursor => "expiredCursor",
            ScimType::InvalidCount => "invalidCount",
        }
    }
}

/// A SCIM error response: status, optional `scimType`, and a detail that is safe
/// to show the client (no tokens, no personal data beyond what the client sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {detail}")]
pub struct Error {
    /// HTTP status code.
    pub status: u16,
    /// RFC 7644 `scimType`, where the RFC defines one for this failure.
    pub scim_type: Option<ScimType>,
    /// Human-readable detail.
    pub detail: String,
    /// Seconds to send in `Retry-After` (429, 503).
    pub retry_after: Option<u64>,
}

impl Error {
    /// An error with a status and detail, without `scimType`.
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Error {
            status,
            scim_type: None,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// An error with a status, `scimType` and detail.
    pub fn typed(status: u16, scim_type: ScimType, detail: impl Into<String>) -> Self {
        Error {
            status,
            scim_type: Some(scim_type),
            detail: detail.into(),
            retry_after: None,
        }
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::typed(400, ScimType::InvalidFilter, detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::typed(400, ScimType::InvalidSyntax, detail)
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::typed(400, ScimType::InvalidValue, detail)
    }
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::typed(400, ScimType::InvalidPath, detail)
    }
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::typed(400, ScimType::NoTarget, detail)
    }
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::typed(400, ScimType::Mutability, detail)
    }
    pub fn invalid_cursor(detail: impl Into<String>) -> Self {
        Self::typed(400, ScimType::InvalidCursor, detail)
    }
    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::typed(400, ScimType::TooMany, detail)
    }
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::typed(409, ScimType::Uniqueness, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, detail)
    }
    pub fn method_not_allowed(detail: impl Into<String>) -> Self {
        Self::new(405, detail)
    }
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(413, detail)
    }
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, detail)
    }
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, detail)
    }
    /// DataHub could not be reached or answered 5xx: 502/503/504 are the gateway's.
    pub fn upstream(status: u16, detail: impl Into<String>) -> Self {
        Self::new(status, detail)
    }
    /// Our own bug: a generic detail, the real cause goes to the log only.
    pub fn internal() -> Self {
        Self::new(500, "internal error")
    }

    /// Sets `Retry-After`.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// The RFC 7644 §3.12 body. `status` is a string, as the RFC's examples show.
    pub fn to_body(&self) -> Value {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = Value::String(t.as_str().to_owned());
        }
        body
    }
}
