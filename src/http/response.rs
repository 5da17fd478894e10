//! The one place a SCIM result becomes an HTTP response: always
//! `application/scim+json`, RFC 7644 §3.12 error bodies, `Location` on 201, `ETag`
//! (the response's version, else the body's `meta.version`; 304 carries it alone), `WWW-Authenticate` on 401, `Allow` on 405, `Retry-After` on
//! every 429, 503 and 504 (the error's own, else [`DEFAULT_RETRY_AFTER_SECS`]), and the
//! request id echoed.

use bytes::Bytes;
use http::header::{
    HeaderName, HeaderValue, ALLOW, CONTENT_TYPE, ETAG, LOCATION, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;

use super::auth;
use super::handlers::ScimResponse;
use crate::scim;

/// Media type of every SCIM response.
pub const SCIM_JSON: &str = "application/scim+json";

/// Header carrying the request id.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The response body type of both listeners.
pub type Body = Full<Bytes>;

/// Extra headers an error response needs besides its body.
#[derive(Debug, Default, Clone)]
pub struct ErrorExtras {
    /// Value of `Allow` for a 405.
    pub allow: Option<&'static str>,
    /// The request body was not (fully) read: an HTTP/1.1 connection is closed after
    /// the answer (`Connection: close`).
    pub close: bool,
}

fn json_response(status: u16, body: Option<&Value>) -> Response<Body> {
    let bytes = body
        .map(|b| Bytes::from(serde_json::to_vec(b).unwrap_or_default()))
        .unwrap_or_default();
    let mut r = Response::new(Full::new(bytes));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_some() {
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    }
    r
}

/// A success response.
pub fn success(resp: &ScimResponse) -> Response<Body> {
    let mut r = json_response(resp.status, resp.body.as_ref());
    if let Some(loc) = resp
        .location
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        r.headers_mut().insert(LOCATION, loc);
    }
    if let Some(v) = resp.version().and_then(|v| HeaderValue::from_str(v).ok()) {
        r.headers_mut().insert(ETAG, v);
    }
    r
}

/// An error response.
pub fn error(err: &scim::Error, extras: &ErrorExtras) -> Response<Body> {
    let body = err.to_body();
    let mut r = json_response(err.status, Some(&body));
    let h = r.headers_mut();
    if err.status == 401 {
        h.insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static(auth::WWW_AUTHENTICATE),
        );
    }
    if let Some(allow) = extras.allow {
        h.insert(ALLOW, HeaderValue::from_static(allow));
    }
    // Every 429, 503 and 504 says when to come back: Okta and Entra retry a failure
    // that carries `Retry-After` instead of counting it against the app.
    let retry_after = err.retry_after.or(match err.status {
        429 | 503 | 504 => Some(DEFAULT_RETRY_AFTER_SECS),
        _ => None,
    });
    if let Some(secs) = retry_after {
        h.insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// `Retry-After` of a 429, 503 or 504 whose cause gave none.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 5;

/// A plain-text response (admin port).
pub fn text(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}
