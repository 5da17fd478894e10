//! The admin port: plain HTTP, never the TLS port.
//!
//! - `GET /live`: 200 while the process runs.
//! - `GET /ready`: 200 once the TLS material is loaded and GMS has answered the
//!   background probe (`GET /config`) naming a DataHub release we serve; 503 when GMS
//!   stays unreachable, when it runs an unsupported release (the body says which
//!   release was found and which are supported), and from the start of shutdown.
//! - `GET /metrics`: Prometheus text exposition (see [`super::metrics`]).

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use super::metrics::CacheLabels;
use super::response::{text, Body};
use super::AppState;
use crate::datahub;

/// Consecutive failed GMS probes after which the gateway reports unready.
pub const UNREADY_AFTER_FAILURES: u32 = 2;

/// The readiness latch.
#[derive(Debug, Default)]
pub struct Readiness {
    /// TLS material loaded (or plain HTTP asked for).
    tls_loaded: AtomicBool,
    /// GMS answered the last health probes.
    gms_up: AtomicBool,
    /// Shutdown has begun.
    draining: AtomicBool,
    /// Consecutive failed GMS probes.
    failures: AtomicU32,
    /// Why the DataHub release GMS runs is refused (`None`: supported or not known yet).
    refusal: std::sync::RwLock<Option<String>>,
    /// The release GMS reported last, for logging changes once.
    release: std::sync::RwLock<Option<datahub::Release>>,
}

impl Readiness {
    /// True when `/ready` answers 200.
    pub fn is_ready(&self) -> bool {
        self.tls_loaded.load(Ordering::SeqCst)
            && self.gms_up.load(Ordering::SeqCst)
            && !self.draining.load(Ordering::SeqCst)
            && self.release_refusal().is_none()
    }

    /// Why the DataHub release is refused, when it is: names the release found and
    /// the supported range. SCIM requests answer 503 with it.
    pub fn release_refusal(&self) -> Option<String> {
        self.refusal
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The release GMS reported at the last successful probe.
    pub fn release(&self) -> Option<datahub::Release> {
        self.release
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Records the release GMS reported; logs when it changes.
    pub fn record_release(&self, release: &datahub::Release) {
        let mut last = self.release.write().unwrap_or_else(|p| p.into_inner());
        if last.as_ref() == Some(release) {
            return;
        }
        *last = Some(release.clone());
        let refusal = match release.support() {
            datahub::Support::Supported => {
                tracing::info!(datahub.release = %release, "DataHub release supported");
                None
            }
            datahub::Support::Untested => {
                tracing::warn!(
                    datahub.release = %release,
                    supported = datahub::SUPPORTED_RANGE,
                    "DataHub release is newer than (or not named like) the releases datahub-scim is tested with; serving it as the newest tested"
                );
                None
            }
            datahub::Support::Unsupported => {
                let why = release.refusal();
                tracing::error!(datahub.release = %release, supported = datahub::SUPPORTED_RANGE, "{why}; not ready, SCIM requests answer 503");
                Some(why)
            }
        };
        *self.refusal.write().unwrap_or_else(|p| p.into_inner()) = refusal;
    }

    /// Marks the TLS material loaded.
    pub fn set_tls_loaded(&self) {
        self.tls_loaded.store(true, Ordering::SeqCst);
    }

    /// Marks the start of shutdown; `/ready` fails from now on.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Records one GMS probe result.
    pub fn record_probe(&self, ok: bool) {
        if ok {
            self.failures.store(0, Ordering::SeqCst);
            if !self.gms_up.swap(true, Ordering::SeqCst) {
                tracing::info!("DataHub GMS reachable, ready");
            }
        } else {
            let n = self.failures.fetch_add(1, Ordering::SeqCst) + 1;
            if n >= UNREADY_AFTER_FAILURES && self.gms_up.swap(false, Ordering::SeqCst) {
                tracing::warn!(probe.failures = n, "DataHub GMS unreachable, not ready");
            }
        }
    }
}

/// Probes GMS every `interval` until dropped: `GET /config` (unauthenticated, like
/// `/health`) both shows GMS answers and names the release it runs, which the
/// client adapts its writes to and readiness checks against the supported range.
pub async fn probe_gms(client: datahub::Client, readiness: Arc<Readiness>, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let probe = client.detect_release();
        let ok = match tokio::time::timeout(interval.max(Duration::from_secs(1)), probe).await {
            Ok(Ok(release)) => {
                readiness.record_release(&release);
                true
            }
            Ok(Err(e)) => {
                tracing::debug!(upstream.error = e.kind(), "GMS health probe failed");
                false
            }
            Err(_) => false,
        };
        readiness.record_probe(ok);
    }
}

/// Serves one admin request.
pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let plain = "text/plain; charset=utf-8";
    let resp = match (req.method(), req.uri().path()) {
        (&Method::GET | &Method::HEAD, "/live") => text(StatusCode::OK, plain, "live\n"),
        (&Method::GET | &Method::HEAD, "/ready") => {
            if state.readiness.is_ready() {
                text(StatusCode::OK, plain, "ready\n")
            } else if let Some(why) = state.readiness.release_refusal() {
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    plain,
                    format!("not ready: {why}\n"),
                )
            } else {
                text(StatusCode::SERVICE_UNAVAILABLE, plain, "not ready\n")
            }
        }
        (&Method::GET, "/metrics") => {
            let m = &state.metrics;
            m.ready.set(i64::from(state.readiness.is_ready()));
            if let Some(r) = state.readiness.release() {
                m.set_datahub_release(&r);
            }
            let entries = i64::try_from(state.auth.cached_entries()).unwrap_or(i64::MAX);
            m.cache_entries
                .get_or_create(&CacheLabels { cache: "token" })
                .set(entries);
            let id = state.provisioner.cache_stats();
            m.set_cache_totals("id", id.entries, id.hits, id.misses);
            m.set_gms_pool(&state.client.pool_stats());
            let wants_openmetrics = req
                .headers()
                .get(http::header::ACCEPT)
                .and_then(|a| a.to_str().ok())
                .is_some_and(|a| a.contains("application/openmetrics-text"));
            if wants_openmetrics {
                let ct = "application/openmetrics-text; version=1.0.0; charset=utf-8";
                text(StatusCode::OK, ct, m.encode())
            } else {
                let ct = "text/plain; version=0.0.4; charset=utf-8";
                text(StatusCode::OK, ct, m.encode_prometheus())
            }
        }
        (_, "/live" | "/ready" | "/metrics") => text(
            StatusCode::METHOD_NOT_ALLOWED,
            plain,
            "method not allowed\n",
        ),
        _ => text(StatusCode::NOT_FOUND, plain, "not found\n"),
    };
    Ok(resp)
}
