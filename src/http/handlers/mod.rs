//! The seam between the HTTP layer and the SCIM handlers. The router turns a hyper
//! request into a [`ScimRequest`] (already authenticated, body already read and
//! size-capped); a handler answers with a [`ScimResponse`] or a [`scim::Error`], and
//! `http::response` turns either into the wire response. Handlers never see hyper.
//!
//! - [`users`], [`groups`]: thin functions that parse the request and call the
//!   `Provisioner` (owned by the provisioning layer).
//! - [`discovery`]: the static discovery documents.
//! - [`bulk`]: `POST /Bulk`, each operation sent through [`users`] / [`groups`].
//!
//! Versions (RFC 7644 §3.14): the `If-Match` / `If-None-Match` headers become the
//! request's `Ctx::preconditions` ([`preconditions`]); writes judge them in the
//! provisioning layer, GET here ([`conditional_get`]: 304 or 412); every answer with
//! a resource carries its version as `ETag`.

pub mod bulk;
pub mod discovery;
pub mod groups;
pub mod users;

use bytes::Bytes;
use http::header::{IF_MATCH, IF_NONE_MATCH};
use http::{HeaderMap, Method};
use serde_json::Value;

use super::router::{Route, Target};
use super::AppState;
use crate::{provision, scim};

/// One authenticated SCIM request.
#[derive(Debug, Clone)]
pub struct ScimRequest {
    /// HTTP method.
    pub method: Method,
    /// Percent-decoded path segments after the SCIM prefix, e.g. `["Users", "<id>"]`,
    /// `["Groups"]`, `["Users", ".search"]`.
    pub segments: Vec<String>,
    /// Raw query string (without `?`), if any. Unknown parameters are to be ignored.
    pub query: Option<String>,
    /// Request headers (`If-Match`, `Content-Type`, ...). `Authorization` is removed.
    pub headers: HeaderMap,
    /// The request body, at most the configured size; empty when none was sent.
    pub body: Bytes,
    /// The authenticated caller, the base URL for `meta.location` and the
    /// preconditions.
    pub ctx: provision::Ctx,
    /// When the request's deadline (`--request-deadline`) runs out; a bulk request
    /// stops starting operations before it.
    pub deadline: tokio::time::Instant,
}

impl ScimRequest {
    /// The body parsed as JSON; `400 invalidSyntax` when absent or malformed.
    pub fn json_body(&self) -> Result<Value, scim::Error> {
        if self.body.is_empty() {
            return Err(scim::Error::invalid_syntax("request body is required"));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| scim::Error::invalid_syntax(format!("body is not valid JSON: {e}")))
    }

    /// The path segment after the resource type (the id), if any.
    pub fn id(&self) -> Option<&str> {
        self.segments
            .get(1)
            .map(String::as_str)
            .filter(|s| *s != ".search")
    }

    /// True for `POST …/.search`.
    pub fn is_search(&self) -> bool {
        self.segments.last().is_some_and(|s| s == ".search")
    }
}

/// A successful SCIM answer, before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq)]
pub struct ScimResponse {
    /// HTTP status (200, 201, 204, 304).
    pub status: u16,
    /// JSON body; `None` for 204 and 304.
    pub body: Option<Value>,
    /// `Location` header (201 Created).
    pub location: Option<String>,
    /// `ETag` header: the resource's version; when `None`, the body's `meta.version`.
    pub etag: Option<String>,
}

impl ScimResponse {
    /// 200 with a body.
    pub fn ok(body: Value) -> Self {
        ScimResponse {
            status: 200,
            body: Some(body),
            location: None,
            etag: None,
        }
    }

    /// 304 Not Modified: no body, the version as `ETag`.
    pub fn not_modified(etag: String) -> Self {
        ScimResponse {
            status: 304,
            body: None,
            location: None,
            etag: Some(etag),
        }
    }

    /// The same answer with `etag` as its `ETag`.
    pub fn with_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }

    /// The resource's version: `etag`, else the body's `meta.version`.
    pub fn version(&self) -> Option<&str> {
        self.etag.as_deref().or_else(|| {
            self.body
                .as_ref()
                .and_then(|b| b.pointer("/meta/version"))
                .and_then(Value::as_str)
        })
    }

    /// 201 with a body; `Location` is taken from `meta.location` when present.
    pub fn created(body: Value) -> Self {
        let location = body
            .pointer("/meta/location")
            .and_then(Value::as_str)
            .map(str::to_owned);
        ScimResponse {
            status: 201,
            body: Some(body),
            location,
            etag: None,
        }
    }

    /// 204 without a body.
    pub fn no_content() -> Self {
        ScimResponse {
            status: 204,
            body: None,
            location: None,
            etag: None,
        }
    }
}

/// The `If-Match` / `If-None-Match` headers as preconditions (several header lines
/// are one list, RFC 9110 §5.3). Unreadable values are ignored.
pub fn preconditions(headers: &HeaderMap) -> scim::Preconditions {
    let list = |name| {
        let joined = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        scim::TagList::parse(&joined)
    };
    scim::Preconditions {
        if_match: list(IF_MATCH),
        if_none_match: list(IF_NONE_MATCH),
    }
}

/// A GET of one resource whose version is `version`: 304 when `If-None-Match`
/// matches it, 412 when `If-Match` does not, else 200 with the body; `ETag` always.
pub fn conditional_get(
    ctx: &provision::Ctx,
    body: Value,
    version: String,
) -> Result<ScimResponse, scim::Error> {
    match ctx.preconditions.check_read(&version)? {
        scim::ReadOutcome::NotModified => Ok(ScimResponse::not_modified(version)),
        scim::ReadOutcome::Serve => Ok(ScimResponse::ok(body).with_etag(version)),
    }
}

/// Calls the handler of a matched route.
pub async fn dispatch(
    state: &AppState,
    route: &Route,
    req: ScimRequest,
) -> Result<ScimResponse, scim::Error> {
    match &route.target {
        Target::Users => users::handle(state, req).await,
        Target::Groups => groups::handle(state, req).await,
        Target::ServiceProviderConfig => discovery::service_provider_config(state, &req),
        Target::ResourceTypes(name) => discovery::resource_types(state, &req, name.as_deref()),
        Target::Schemas(urn) => discovery::schemas(state, &req, urn.as_deref()),
        Target::Bulk => bulk::handle(state, req).await,
        Target::RootSearch => {
            let q = scim::ListQuery::from_search_body(&req.json_body()?)?;
            Ok(ScimResponse::ok(
                state.provisioner.search_all(&req.ctx, &q).await?,
            ))
        }
    }
}
