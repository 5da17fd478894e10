//! The HTTP/1.1 keep-alive transport to GMS (hyper-util legacy client over
//! hyper-rustls), the [`Client`] handle, its config, timeouts, the upstream
//! span per call and the [`Observer`] hook. Endpoint modules (`restli`,
//! `graphql`, `entities`) build requests and interpret replies; this file
//! moves bytes and maps HTTP statuses to [`Error`].
//!
//! Calls pass a gate first: at most `max_concurrency` are in flight towards GMS;
//! more wait in line at most `queue_timeout`, then fail with a retryable 503, so a
//! slow GMS cannot pile up unbounded work here. The pool keeps as many idle
//! connections as calls may be in flight, so a steady load reuses its connections
//! instead of opening and closing them ([`PoolStats`]).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tracing::Instrument;

use super::error::{Error, Result};

/// Largest GMS response body we accept (bytes).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// How to reach GMS.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// GMS root, `http://host:8080` or `https://host/gms` (a path prefix is kept).
    pub base_url: String,
    /// Limit for establishing a TCP (+TLS) connection.
    pub connect_timeout: Duration,
    /// Limit for one whole call: connect, send, status and full body.
    pub request_timeout: Duration,
    /// Extra PEM CA bundle trusted in addition to the system roots.
    pub ca_bundle: Option<PathBuf>,
    /// Most calls in flight towards GMS at once; also the idle keep-alive connections
    /// kept, so that every call of a steady load finds one.
    pub max_concurrency: usize,
    /// How long a call waits for a free slot when `max_concurrency` are in flight
    /// before it fails with [`Error::Unavailable`] (a 503 with `Retry-After`).
    pub queue_timeout: Duration,
}

/// Default of [`ClientConfig::max_concurrency`].
pub const DEFAULT_MAX_CONCURRENCY: usize = 64;
/// Default of [`ClientConfig::queue_timeout`].
pub const DEFAULT_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);
/// `Retry-After` of a call refused after waiting `queue_timeout` for a slot.
pub const QUEUE_RETRY_AFTER: Duration = Duration::from_secs(1);

impl ClientConfig {
    /// Defaults: 5 s connect, 30 s request, no extra CA, 64 calls in flight (and idle
    /// connections), 5 s in line.
    pub fn new(base_url: impl Into<String>) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            ca_bundle: None,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            queue_timeout: DEFAULT_QUEUE_TIMEOUT,
        }
    }
}

/// The gate's and the pool's counters, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Calls allowed in flight at once.
    pub max_concurrency: u64,
    /// Calls in flight now.
    pub in_flight: u64,
    /// Calls waiting for a slot now.
    pub waiting: u64,
    /// Calls refused after waiting `queue_timeout` (since start).
    pub queue_timeouts: u64,
    /// TCP connections opened to GMS (since start).
    pub connections_opened: u64,
}

/// Bounds the calls in flight and counts what the gate and the pool do.
struct Gate {
    slots: tokio::sync::Semaphore,
    max: usize,
    queue_timeout: Duration,
    waiting: AtomicU64,
    queue_timeouts: AtomicU64,
    opened: Arc<AtomicU64>,
}

impl Gate {
    /// A slot, at once or after waiting in line; `None` when none freed up in time.
    async fn enter(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        if let Ok(p) = self.slots.try_acquire() {
            return Some(p);
        }
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let got = tokio::time::timeout(self.queue_timeout, self.slots.acquire()).await;
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        match got {
            Ok(Ok(p)) => Some(p),
            _ => {
                self.queue_timeouts.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }
}

/// The TCP connector, counting the connections it opens.
#[derive(Clone)]
struct Counted {
    inner: HttpConnector,
    opened: Arc<AtomicU64>,
}

type ConnectFuture = Pin<
    Box<
        dyn Future<
                Output = std::result::Result<
                    <HttpConnector as tower_service::Service<Uri>>::Response,
                    <HttpConnector as tower_service::Service<Uri>>::Error,
                >,
            > + Send,
    >,
>;

impl tower_service::Service<Uri> for Counted {
    type Response = <HttpConnector as tower_service::Service<Uri>>::Response;
    type Error = <HttpConnector as tower_service::Service<Uri>>::Error;
    type Future = ConnectFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<std::result::Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connecting = self.inner.call(uri);
        let opened = self.opened.clone();
        Box::pin(async move {
            let c = connecting.await;
            if c.is_ok() {
                opened.fetch_add(1, Ordering::Relaxed);
            }
            c
        })
    }
}

/// How one upstream call ended, for metrics (bounded label set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// 2xx and no GraphQL error.
    Ok,
    /// 400/422 or another 4xx not listed below.
    ClientError,
    /// 401.
    Unauthorized,
    /// 403 / GraphQL 403.
    Forbidden,
    /// 404 / GraphQL 404 (also the expected "absent" answer of existence probes).
    NotFound,
    /// 409, 412, precondition 422.
    Conflict,
    /// 5xx or an unparseable response.
    ServerError,
    /// 429: GMS asks us to slow down.
    Throttled,
    /// The request timeout fired.
    Timeout,
    /// Could not connect, or the connection broke.
    ConnectError,
    /// Never sent: `max_concurrency` calls stayed in flight for `queue_timeout`.
    QueueTimeout,
}

impl Outcome {
    /// Stable lower-case label.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::ClientError => "client_error",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::NotFound => "not_found",
            Outcome::Conflict => "conflict",
            Outcome::ServerError => "server_error",
            Outcome::Throttled => "throttled",
            Outcome::Timeout => "timeout",
            Outcome::ConnectError => "connect_error",
            Outcome::QueueTimeout => "queue_timeout",
        }
    }

    fn of_error(e: &Error) -> Outcome {
        match e {
            Error::Unauthorized => Outcome::Unauthorized,
            Error::Forbidden(_) => Outcome::Forbidden,
            Error::NotFound(_) => Outcome::NotFound,
            Error::Conflict(_) | Error::PreconditionFailed(_) | Error::RetriesExhausted { .. } => {
                Outcome::Conflict
            }
            Error::Invalid(_) | Error::Config(_) => Outcome::ClientError,
            Error::Throttled { .. } => Outcome::Throttled,
            Error::Unavailable { .. } | Error::InvalidResponse(_) => Outcome::ServerError,
        }
    }
}

/// Receives one report per upstream call. Implemented by the metrics module.
pub trait Observer: Send + Sync {
    /// A call to `endpoint` (e.g. `restli.ingestProposalBatch`) finished.
    fn upstream_call(&self, endpoint: &'static str, outcome: Outcome, elapsed: Duration);
    /// A conditional write on `endpoint` lost a race and is being retried.
    fn conflict_retry(&self, endpoint: &'static str);
    /// A conditional write on `endpoint` lost its last allowed race: the caller gives up
    /// with [`Error::RetriesExhausted`].
    fn conflict_exhausted(&self, endpoint: &'static str);
}

type HyperClient = hyper_util::client::legacy::Client<HttpsConnector<Counted>, Full<Bytes>>;

/// The DataHub GMS client. Cheap to clone (an `Arc` inside); share one.
#[derive(Clone)]
pub struct Client {
    pub(super) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(super) struct Inner {
    http: HyperClient,
    /// Base URL without trailing slash.
    base: String,
    request_timeout: Duration,
    observer: Option<Arc<dyn Observer>>,
    /// Hears of every write call (`audit.rs`).
    pub(super) audit: Option<Arc<dyn super::audit::WriteAudit>>,
    /// The DataHub release GMS last reported (`/config`), shared by every clone.
    release: Arc<std::sync::RwLock<Option<super::release::Release>>>,
    /// Bounds the calls in flight (shared by every clone).
    gate: Arc<Gate>,
    /// A write found the release unknown and asked `/config` (once per client).
    release_asked: Arc<std::sync::atomic::AtomicBool>,
}

/// A complete upstream reply.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// What to send.
pub(crate) struct Call<'a> {
    /// Metric / span name, e.g. `restli.getAspect`.
    pub endpoint: &'static str,
    pub method: Method,
    /// Path and query, starting with `/`, already encoded.
    pub path: String,
    /// Caller's bearer token; `None` for unauthenticated endpoints.
    pub token: Option<&'a str>,
    /// JSON body.
    pub body: Option<Vec<u8>>,
    /// Add `X-RestLi-Protocol-Version: 2.0.0`.
    pub restli: bool,
}

// === impl Client ===

impl Client {
    /// Build a client. Fails on a malformed base URL or unreadable CA bundle.
    pub fn new(cfg: ClientConfig) -> Result<Client> {
        let base = cfg.base_url.trim_end_matches('/').to_owned();
        let uri: Uri = base
            .parse()
            .map_err(|_| Error::Config("base_url is not a valid URL".into()))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(Error::Config("base_url must be http:// or https://".into())),
        };
        if uri.authority().is_none() || uri.query().is_some() {
            return Err(Error::Config("base_url needs a host and no query".into()));
        }
        let tls = super::tls::client_config(https, cfg.ca_bundle.as_deref())?;
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_connect_timeout(Some(cfg.connect_timeout));
        tcp.set_nodelay(true);
        tcp.set_keepalive(Some(Duration::from_secs(60)));
        let opened = Arc::new(AtomicU64::new(0));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(Counted {
                inner: tcp,
                opened: opened.clone(),
            });
        let max = cfg.max_concurrency.max(1);
        let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(Duration::from_secs(50))
            .pool_max_idle_per_host(max)
            .build(connector);
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                request_timeout: cfg.request_timeout,
                observer: None,
                audit: None,
                release: Arc::default(),
                gate: Arc::new(Gate {
                    slots: tokio::sync::Semaphore::new(max),
                    max,
                    queue_timeout: cfg.queue_timeout,
                    waiting: AtomicU64::new(0),
                    queue_timeouts: AtomicU64::new(0),
                    opened,
                }),
                release_asked: Arc::default(),
            }),
        })
    }

    /// What the gate and the connection pool did so far.
    pub fn pool_stats(&self) -> PoolStats {
        let g = &self.inner.gate;
        PoolStats {
            max_concurrency: g.max as u64,
            in_flight: (g.max - g.slots.available_permits()) as u64,
            waiting: g.waiting.load(Ordering::Relaxed),
            queue_timeouts: g.queue_timeouts.load(Ordering::Relaxed),
            connections_opened: g.opened.load(Ordering::Relaxed),
        }
    }

    /// The same client, reporting every call to `observer`.
    pub fn with_observer(self, observer: Arc<dyn Observer>) -> Self {
        let mut inner = (*self.inner).clone();
        inner.observer = Some(observer);
        Client {
            inner: Arc::new(inner),
        }
    }

    /// The configured base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The DataHub release GMS reported at the last [`Client::detect_release`],
    /// if any.
    pub fn release(&self) -> Option<super::release::Release> {
        self.inner
            .release
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records the release GMS runs (what [`Client::detect_release`] does with
    /// `/config`); writes adapt to it.
    pub fn set_release(&self, release: super::release::Release) {
        *self
            .inner
            .release
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(release);
    }

    /// How writes ask for synchronous indexing on the release GMS runs: the
    /// header alone from 1.0.0, the header plus `appSource = "ui"` before. A write
    /// that finds the release unknown (no readiness probe has run yet) asks `/config`
    /// first, once per client; if that fails too, the newest behaviour is assumed.
    pub(crate) async fn sync_index(&self) -> super::restli::SyncIndex {
        use std::sync::atomic::Ordering;
        if self.release().is_none() && !self.inner.release_asked.swap(true, Ordering::SeqCst) {
            if let Err(e) = self.detect_release().await {
                tracing::debug!(
                    upstream.error = e.kind(),
                    "DataHub release not known before a write"
                );
            }
        }
        match self.release() {
            Some(r) if !r.honours_sync_index_header() => super::restli::SyncIndex::UiAppSource,
            _ => super::restli::SyncIndex::Header,
        }
    }

    pub(crate) fn note_conflict_retry(&self, endpoint: &'static str) {
        if let Some(o) = &self.inner.observer {
            o.conflict_retry(endpoint);
        }
    }

    /// Reports that a conditional write gave up after `attempts` lost races, and
    /// returns the error the caller answers with.
    pub fn conflict_exhausted(&self, attempts: u32) -> Error {
        if let Some(o) = &self.inner.observer {
            o.conflict_exhausted("restli.ingestProposalBatch");
        }
        Error::RetriesExhausted { attempts }
    }

    /// Send `call`, then let `interpret` turn the reply into a value. One span
    /// and one observer report per call; the outcome comes from `interpret`'s
    /// error if any, else from the HTTP status.
    pub(crate) async fn exchange<T>(
        &self,
        call: Call<'_>,
        interpret: impl FnOnce(Reply) -> Result<T>,
    ) -> Result<T> {
        self.exchange_outcome(call, interpret).await.1
    }

    /// [`Client::exchange`], also returning the call's [`Outcome`] (for the write audit).
    pub(crate) async fn exchange_outcome<T>(
        &self,
        call: Call<'_>,
        interpret: impl FnOnce(Reply) -> Result<T>,
    ) -> (Outcome, Result<T>) {
        let endpoint = call.endpoint;
        // Debug level: at `info` it would only be formatted and thrown away (nothing
        // inside an upstream call logs at info or above), on every call.
        let span = tracing::debug_span!(
            "datahub.upstream",
            endpoint,
            status = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        let started = Instant::now();
        let (outcome, result) = async {
            match self.send(call).await {
                Err((outcome, e)) => (outcome, Err(e)),
                Ok(reply) => {
                    let status = reply.status;
                    tracing::Span::current().record("status", status.as_u16());
                    match interpret(reply) {
                        Ok(v) if status == StatusCode::NOT_FOUND => (Outcome::NotFound, Ok(v)),
                        Ok(v) => (Outcome::Ok, Ok(v)),
                        Err(e) => (Outcome::of_error(&e), Err(e)),
                    }
                }
            }
        }
        .instrument(span.clone())
        .await;
        let elapsed = started.elapsed();
        span.record("outcome", outcome.as_str());
        span.in_scope(|| {
            tracing::debug!(
                elapsed_ms = elapsed.as_millis() as u64,
                "datahub upstream call finished"
            )
        });
        if let Some(o) = &self.inner.observer {
            o.upstream_call(endpoint, outcome, elapsed);
        }
        (outcome, result)
    }

    async fn send(&self, call: Call<'_>) -> std::result::Result<Reply, (Outcome, Error)> {
        let request = self.build(&call).map_err(|e| (Outcome::ClientError, e))?;
        // Held until the whole answer is read: the connection is busy until then.
        let Some(_slot) = self.inner.gate.enter().await else {
            return Err((
                Outcome::QueueTimeout,
                Error::Unavailable {
                    reason: "too many calls to GMS in flight; waited too long for a free slot"
                        .into(),
                    retry_after: Some(QUEUE_RETRY_AFTER),
                    timeout: false,
                },
            ));
        };
        let work = async {
            let resp = self.inner.http.request(request).await.map_err(|e| {
                let what = if e.is_connect() {
                    "connect failed"
                } else {
                    "connection error"
                };
                (Outcome::ConnectError, Error::unavailable(what))
            })?;
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|_| {
                    (
                        Outcome::ConnectError,
                        Error::unavailable("connection error while reading the body"),
                    )
                })?
                .to_bytes();
            Ok(Reply {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.inner.request_timeout, work).await {
            Ok(r) => r,
            Err(_) => Err((Outcome::Timeout, Error::timed_out("request timed out"))),
        }
    }

    fn build(&self, call: &Call<'_>) -> Result<Request<Full<Bytes>>> {
        let url = format!("{}{}", self.inner.base, call.path);
        let mut b = Request::builder()
            .method(call.method.clone())
            .uri(url)
            .header(ACCEPT, "application/json");
        if let Some(token) = call.token {
            let mut v = HeaderValue::try_from(format!("Bearer {token}"))
                .map_err(|_| Error::Invalid("token is not a valid header value".into()))?;
            v.set_sensitive(true);
            b = b.header(AUTHORIZATION, v);
        }
        if call.restli {
            b = b.header("X-RestLi-Protocol-Version", "2.0.0");
        }
        let body = match &call.body {
            Some(bytes) => {
                b = b.header(CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(bytes.clone()))
            }
            None => Full::new(Bytes::new()),
        };
        b.body(body)
            .map_err(|_| Error::Invalid("could not build the upstream request".into()))
    }
}

/// `Ok(())` for a 2xx reply, else its [`status_error`]: the interpreter of calls
/// whose answer carries nothing we read.
pub(crate) fn expect_success(reply: Reply) -> Result<()> {
    if reply.status.is_success() {
        Ok(())
    } else {
        Err(status_error(&reply))
    }
}

/// Map a non-2xx reply to an [`Error`], reading `message`/`error` from a JSON
/// body. A Rest.li 422 is a lost conditional write when its body says so
/// anywhere: since DataHub 0.15.0 the message prints the whole change item
/// (aspect value included) before `subType=PRECONDITION`, hundreds of
/// characters in. A 422 keeps only a personal-data-free summary (see
/// [`validation_summary`]); its body names the people in the aspect.
pub(crate) fn status_error(reply: &Reply) -> Error {
    let code = reply.status.as_u16();
    if code == 422 {
        let summary = validation_summary(&reply.body);
        return if is_precondition_body(&reply.body) {
            Error::PreconditionFailed(summary)
        } else {
            Error::Invalid(summary)
        };
    }
    let msg = error_message(&reply.body);
    match code {
        401 => Error::Unauthorized,
        403 => Error::Forbidden(msg),
        404 => Error::NotFound(msg),
        409 => Error::Conflict(msg),
        412 => Error::PreconditionFailed(msg),
        429 => Error::Throttled {
            retry_after: retry_after(&reply.headers),
        },
        500..=599 => Error::Unavailable {
            reason: if msg.is_empty() {
                format!("HTTP {code}")
            } else {
                format!("HTTP {code}: {msg}")
            },
            retry_after: retry_after(&reply.headers),
            timeout: code == 504,
        },
        400..=499 => Error::Invalid(if msg.is_empty() {
            format!("HTTP {code}")
        } else {
            msg
        }),
        _ => Error::InvalidResponse(format!("unexpected HTTP status {code}")),
    }
}

/// Does a 422 body report a failed precondition? The whole body is searched,
/// as DataHub's own Java client does (`"Expected version"` anywhere): GMS words
/// it `Expected version X, actual version Y` (`ConditionalWriteValidator`) inside
/// an `AspectValidationException(… subType=PRECONDITION, msg=…)`.
pub(crate) fn is_precondition_body(body: &[u8]) -> bool {
    contains_ci(body, b"expected version") || contains_ci(body, b"subtype=precondition")
}

/// ASCII case-insensitive substring search over raw bytes.
fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A 422 described without personal data: the validation subtypes and aspect
/// names it reports (`subType=…`, `aspectName=…`, `EntityAspect:(…,<aspect>)`)
/// and the versions of a failed precondition, never the urn or the aspect value
/// that DataHub's message carries (`ValidationExceptionCollection.toString`).
fn validation_summary(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut subtypes: Vec<&str> = Vec::new();
    let mut aspects: Vec<&str> = Vec::new();
    let word = |s: &str| -> Option<usize> {
        let n = s
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(s.len());
        (n > 0 && n <= 64).then_some(n)
    };
    for (key, into) in [("subType=", &mut subtypes), ("aspectName=", &mut aspects)] {
        let mut rest: &str = &text;
        while let Some(at) = rest.find(key) {
            rest = &rest[at + key.len()..];
            let r = rest.trim_start_matches('\'').trim_start_matches('\'');
            if let Some(n) = word(r) {
                if !into.contains(&&r[..n]) {
                    into.push(&r[..n]);
                }
            }
        }
    }
    let mut out = String::from("DataHub validation failed");
    if !subtypes.is_empty() {
        out.push_str(&format!(" ({})", subtypes.join(", ")));
    }
    if !aspects.is_empty() {
        out.push_str(&format!(" on {}", aspects.join(", ")));
    }
    if let Some(at) = text.find("Expected version ") {
        let v: String = text[at..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | ',' | '-'))
            .take(60)
            .collect();
        out.push_str(&format!(": {}", v.trim_end_matches([',', ' '])));
    }
    out
}

fn error_message(body: &[u8]) -> String {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => ["message", "error"]
            .iter()
            .find_map(|k| v.get(*k).and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    truncate(text, 500)
}

pub(crate) fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?;
    v.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Parse a JSON body into `T`, naming the endpoint on failure.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    serde_json::from_slice(body)
        .map_err(|e| Error::InvalidResponse(format!("{what}: {}", truncate(e.to_string(), 200))))
}

#[cfg(test)]
#[path = "transport_tests.rs"]
mod tests;
