//! The SCIM request wrapper, top to bottom: request id → span → body-size cap →
//! deadline → bearer auth → route → handler → SCIM response → metrics → one
//! "request completed" log line (request id, operation, status, latency; never
//! tokens, names, emails, filters or raw paths).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use tracing::Instrument;

use super::handlers::{self, ScimRequest, ScimResponse};
use super::metrics::Metrics;
use super::response::{self, Body, ErrorExtras, REQUEST_ID};
use super::router::{self, Miss, Route};
use super::AppState;
use crate::{provision, scim};

/// Decrements the in-flight gauge when a request ends, however it ends.
struct InFlight<'a>(&'a Metrics);

impl<'a> InFlight<'a> {
    fn enter(m: &'a Metrics) -> Self {
        m.in_flight.inc();
        InFlight(m)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.dec();
    }
}

/// The request id: the client's `X-Request-Id` when sane, else a fresh UUID.
fn request_id(req: &Request<Incoming>) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

/// Serves one request on the SCIM listener.
pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let id = request_id(&req);
    let route = router::route(req.method(), req.uri().path());
    let (operation, resource) = match &route {
        Ok(r) => (r.operation, r.resource),
        Err(Miss::MethodNotAllowed {
            operation,
            resource,
            ..
        }) => (*operation, *resource),
        Err(Miss::NotFound) => ("unmatched", "none"),
    };
    let span = tracing::info_span!("request", request.id = %id, operation);
    async move {
        let start = Instant::now();
        let _in_flight = InFlight::enter(&state.metrics);
        let mut extras = ErrorExtras::default();
        let deadline = state.config.request_deadline;
        let result =
            match tokio::time::timeout(deadline, serve(&state, req, route, &mut extras)).await {
                Ok(r) => r,
                Err(_) => Err(scim::Error::upstream(504, "request deadline exceeded")
                    .with_retry_after(crate::provision::UNAVAILABLE_RETRY_AFTER_SECS)),
            };
        let mut resp = match &result {
            Ok(r) => response::success(r),
            Err(e) => response::error(e, &extras),
        };
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert(REQUEST_ID.clone(), v);
        }
        let status = resp.status().as_u16();
        let latency = start.elapsed();
        state
            .metrics
            .observe_request(operation, resource, status, latency);
        tracing::info!(
            request.id = %id,
            operation,
            resource,
            status,
            latency_ms = latency.as_secs_f64() * 1000.0,
            "request completed"
        );
        Ok(resp)
    }
    .instrument(span)
    .await
}

/// Everything between the cap and the response; each step may end the request.
async fn serve(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    route: Result<Route, Miss>,
    extras: &mut ErrorExtras,
) -> Result<ScimResponse, scim::Error> {
    let limit = state.config.max_body_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let (mut parts, body) = req.into_parts();
    let body: Bytes = match Limited::new(body, limit).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large(limit)),
        Err(_) => {
            return Err(scim::Error::invalid_syntax(
                "request body could not be read",
            ))
        }
    };

    let (token, identity) = state
        .auth
        .authenticate(parts.headers.get(AUTHORIZATION))
        .await?;
    parts.headers.remove(AUTHORIZATION);

    let route = match route {
        Ok(r) => r,
        Err(Miss::NotFound) => return Err(scim::Error::not_found("no such SCIM endpoint")),
        Err(Miss::MethodNotAllowed { allow, .. }) => {
            extras.allow = Some(allow);
            return Err(scim::Error::method_not_allowed(format!(
                "method not allowed here; allowed: {allow}"
            )));
        }
    };
    if !body.is_empty() {
        check_content_type(parts.headers.get(CONTENT_TYPE))?;
    }
    let base_url = base_url(state, &parts, route.prefix);
    let req = ScimRequest {
        method: parts.method,
        segments: route.segments.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        ctx: provision::Ctx {
            token,
            actor: identity.actor,
            base_url,
        },
    };
    // The handler runs in its own task so that a bug (a panic) becomes a 500 for this
    // request instead of a dropped connection.
    let task_state = state.clone();
    let handled = tokio::spawn(
        async move { handlers::dispatch(&task_state, &route, req).await }
            .instrument(tracing::Span::current()),
    );
    let abort = handled.abort_handle();
    // If the deadline drops this future, the handler task is aborted with it.
    let _guard = AbortOnDrop(abort);
    match handled.await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(panic = e.is_panic(), "handler failed");
            Err(scim::Error::internal())
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn too_large(limit: usize) -> scim::Error {
    scim::Error::payload_too_large(format!("request body exceeds {limit} bytes"))
}

/// Accepts `application/scim+json` and `application/json`, with parameters; a body
/// without `Content-Type` is accepted as JSON.
fn check_content_type(ct: Option<&HeaderValue>) -> Result<(), scim::Error> {
    let Some(ct) = ct else { return Ok(()) };
    let essence = ct
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/scim+json" || essence == "application/json" {
        Ok(())
    } else {
        Err(scim::Error::new(
            415,
            "Content-Type must be application/scim+json or application/json",
        ))
    }
}

/// Base URL for `meta.location`: the configured public URL, else the Host (or
/// HTTP/2 authority) the client used, plus the SCIM prefix of the request.
fn base_url(state: &AppState, parts: &http::request::Parts, prefix: &str) -> String {
    if let Some(public) = &state.config.public_url {
        return format!("{public}{prefix}");
    }
    let scheme = if state.config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let host = parts
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            parts
                .headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or_else(|| state.config.listen.to_string());
    format!("{scheme}://{host}{prefix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let ok = [
            "application/scim+json",
            "application/json; charset=utf-8",
            "Application/SCIM+JSON;charset=UTF-8",
        ];
        for c in ok {
            assert!(
                check_content_type(Some(&HeaderValue::from_static(c))).is_ok(),
                "{c}"
            );
        }
        let e = check_content_type(Some(&HeaderValue::from_static("text/plain"))).expect_err("415");
        assert_eq!(e.status, 415);
        assert!(check_content_type(None).is_ok());
    }
}
