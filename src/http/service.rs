//! The SCIM request wrapper, top to bottom: request id → span → deadline → declared
//! body size (413) → bearer auth (401/403/429, before any byte of the body is read) →
//! route → body read within the size cap and the in-flight body budget (413/503) →
//! handler → SCIM response → metrics → one "request completed" log line (request id,
//! operation, status, latency; never tokens, names, emails, filters or raw paths). The
//! handler runs inside the request's audit scope, so the audit trail can name the
//! request behind a write.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use std::net::SocketAddr;

use bytes::{Bytes, BytesMut};
use http::header::{AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Body as _;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use super::audit;
use super::handlers::{self, ScimRequest, ScimResponse};
use super::metrics::Metrics;
use super::response::{self, Body, ErrorExtras, REQUEST_ID};
use super::router::{self, Miss, Route};
use super::throttle::ClientKey;
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
        .unwrap_or_else(fresh_request_id)
}

/// A random (v4) UUID for a request without an id of its own, from a per-thread
/// generator seeded once from the OS: a request id needs to be unique, not secret, and
/// asking the OS for randomness on every request costs a system call.
fn fresh_request_id() -> String {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    // splitmix64
    let next = || {
        STATE.with(|s| {
            let mut z = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
            s.set(z);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&next().to_le_bytes());
    bytes[8..].copy_from_slice(&next().to_le_bytes());
    let mut buf = uuid::Uuid::encode_buffer();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .encode_lower(&mut buf)
        .to_owned()
}

/// Serves one request on the SCIM listener; `peer` is the client's address (for the
/// failed-authentication limit).
pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
    peer: Option<SocketAddr>,
) -> Result<Response<Body>, Infallible> {
    let id = request_id(&req);
    let http1 = req.version() < http::Version::HTTP_2;
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
        let client = peer.map(|p| ClientKey::from(p.ip()));
        let result = match tokio::time::timeout(
            deadline,
            serve(&state, req, route, &mut extras, &id, operation, client),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(scim::Error::upstream(504, "request deadline exceeded")
                .with_retry_after(crate::provision::UNAVAILABLE_RETRY_AFTER_SECS)),
        };
        let mut resp = match &result {
            Ok(r) => response::success(r),
            Err(e) => response::error(e, &extras),
        };
        if extras.close && http1 {
            // The body was not read (or not all of it): this connection cannot carry
            // another request.
            resp.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
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
///
/// The order keeps unauthenticated clients cheap: the declared size is checked and
/// the token validated (GMS `me` only for a token not seen lately) before a byte of
/// the body is read. A request refused before its body is read closes its HTTP/1.1
/// connection.
async fn serve(
    state: &Arc<AppState>,
    req: Request<Incoming>,
    route: Result<Route, Miss>,
    extras: &mut ErrorExtras,
    id: &str,
    operation: &'static str,
    client: Option<ClientKey>,
) -> Result<ScimResponse, scim::Error> {
    // The deadline `handle` runs this under (it started a moment ago).
    let deadline = tokio::time::Instant::now() + state.config.request_deadline;
    // A bulk request's body may be larger (`--bulk-max-payload-bytes`, RFC 7644
    // §3.7.4's `maxPayloadSize`), and says so in its 413.
    let bulk = matches!(&route, Ok(r) if r.target == router::Target::Bulk);
    let limit = if bulk {
        state.config.bulk.max_payload_bytes
    } else {
        state.config.max_body_bytes
    };
    let too_large = |limit| {
        if bulk {
            scim::bulk::payload_too_large(limit)
        } else {
            too_large(limit)
        }
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Until the body is read, an early answer leaves it on the connection.
    extras.close = !req.body().is_end_stream() && declared != Some(0);
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large(limit));
    }
    let (mut parts, body) = req.into_parts();

    let (token, identity) = state
        .auth
        .authenticate(parts.headers.get(AUTHORIZATION), client)
        .await?;
    parts.headers.remove(AUTHORIZATION);
    if let Some(why) = state.readiness.release_refusal() {
        return Err(scim::Error::upstream(503, why).with_retry_after(RELEASE_RETRY_AFTER_SECS));
    }

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
    let (body, _held) = read_body(body, limit, declared, &state.bodies)
        .await
        .map_err(|e| if e.status == 413 { too_large(limit) } else { e })?;
    extras.close = false;
    if !body.is_empty() {
        check_content_type(parts.headers.get(CONTENT_TYPE))?;
    }
    let base_url = base_url(state, &parts, route.prefix);
    let audit_scope = audit::RequestScope::new(id, operation, &identity.actor);
    let preconditions = handlers::preconditions(&parts.headers);
    let req = ScimRequest {
        method: parts.method,
        segments: route.segments.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        ctx: provision::Ctx {
            token,
            actor: identity.actor,
            manage_policies: identity.manage_policies,
            base_url,
            preconditions,
        },
        deadline,
    };
    // A bug (a panic) in the handler becomes a 500 for this request instead of a
    // dropped connection. If the deadline drops this future, the handler goes with it.
    let handled = CatchPanic(Box::pin(audit::in_request(audit_scope, async move {
        handlers::dispatch(state, &route, req).await
    })));
    match handled.await {
        Ok(r) => r,
        Err(()) => {
            tracing::error!(panic = true, "handler failed");
            Err(scim::Error::internal())
        }
    }
}

/// Polls the handler, turning a panic into `Err(())` (a 500 for its request) instead
/// of unwinding through the connection: what a task per request gave, without the
/// task (its allocation, scheduling and wake-ups on every request).
struct CatchPanic<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for CatchPanic<F> {
    type Output = Result<F::Output, ()>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let fut = self.get_mut().0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(_) => std::task::Poll::Ready(Err(())),
        }
    }
}

/// `Retry-After` of the 503 answered while GMS runs an unsupported DataHub release.
const RELEASE_RETRY_AFTER_SECS: u64 = 300;

/// Reads the body: at most `limit` bytes (413 beyond), and only while the bytes fit
/// in the in-flight body budget (`budget`, held until the request ends; 503 +
/// `Retry-After` when it is used up). A declared length is reserved whole before
/// reading; a chunked body frame by frame.
async fn read_body(
    body: Incoming,
    limit: usize,
    declared: Option<u64>,
    budget: &Arc<Semaphore>,
) -> Result<(Bytes, Option<OwnedSemaphorePermit>), scim::Error> {
    let over_budget = || {
        scim::Error::upstream(
            503,
            "the gateway holds as many request bodies as its memory budget allows; retry shortly",
        )
        .with_retry_after(BUDGET_RETRY_AFTER_SECS)
    };
    let take = |n: usize| -> Result<Option<OwnedSemaphorePermit>, scim::Error> {
        if n == 0 {
            return Ok(None);
        }
        let n = u32::try_from(n).map_err(|_| too_large(limit))?;
        budget
            .clone()
            .try_acquire_many_owned(n)
            .map(Some)
            .map_err(|_| over_budget())
    };
    let mut held = match declared {
        Some(n) => take(usize::try_from(n).map_err(|_| too_large(limit))?)?,
        None => None,
    };
    let mut body = Limited::new(body, limit);
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = match frame {
            Ok(f) => f,
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large(limit)),
            Err(_) => {
                return Err(scim::Error::invalid_syntax(
                    "request body could not be read",
                ))
            }
        };
        if let Ok(data) = frame.into_data() {
            if declared.is_none() {
                if let Some(p) = take(data.len())? {
                    match held.as_mut() {
                        Some(h) => h.merge(p),
                        None => held = Some(p),
                    }
                }
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok((buf.freeze(), held))
}

/// `Retry-After` of a 503 for a used-up body budget: bodies in flight finish fast.
const BUDGET_RETRY_AFTER_SECS: u64 = 1;

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
