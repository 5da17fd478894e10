//! Runs a fixed list of requests at a fixed concurrency (bounded: every request is
//! sent exactly once) and turns client-side latencies and the emulator's call log
//! into one result row.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::harness::{Harness, Req};

/// Endpoints that are not caused by a SCIM request (the readiness probe).
const BACKGROUND: &[&str] = &["health", "config"];

/// One measured operation at one concurrency and one upstream latency.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Operation name.
    pub op: String,
    /// Injected GMS latency per call, in ms.
    pub gms_latency_ms: u64,
    /// Concurrent clients.
    pub concurrency: usize,
    /// Requests sent.
    pub requests: usize,
    /// Requests whose status was not the expected one.
    pub errors: usize,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 99th percentile latency (nearest rank), ms.
    pub p99_ms: f64,
    /// Requests per second over the whole run.
    pub rps: f64,
    /// GMS calls per request (all endpoints but the probe).
    pub gms_calls_per_op: f64,
    /// GMS calls per request, by emulator endpoint name.
    pub gms_calls_by_endpoint: BTreeMap<String, f64>,
}

/// Nearest-rank percentile of sorted `v`.
pub fn percentile(v: &[Duration], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    let i = rank.clamp(1, v.len()) - 1;
    v[i].as_secs_f64() * 1000.0
}

/// GMS calls since the last reset, per request, without the background probe.
pub fn calls_per_op(h: &Harness, n: usize) -> (f64, BTreeMap<String, f64>) {
    let by: BTreeMap<String, f64> = h
        .emu
        .call_counts()
        .into_iter()
        .filter(|(e, _)| !BACKGROUND.contains(&e.as_str()))
        .map(|(e, c)| (e, c as f64 / n as f64))
        .collect();
    (by.values().sum(), by)
}

/// Sends every request of `reqs` once, `concurrency` at a time.
pub async fn run(
    h: &Harness,
    op: &str,
    latency_ms: u64,
    concurrency: usize,
    reqs: Vec<Req>,
) -> Row {
    let n = reqs.len();
    let reqs = Arc::new(reqs);
    let next = Arc::new(AtomicUsize::new(0));
    h.emu.reset_calls();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (h, reqs, next) = (h.clone(), reqs.clone(), next.clone());
        tasks.spawn(async move {
            let mut lat = Vec::new();
            let mut errors = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(req) = reqs.get(i) else { break };
                let t0 = Instant::now();
                let reply = h.send(req).await;
                lat.push(t0.elapsed());
                if reply.status != req.expect {
                    errors.push(format!(
                        "{} {} -> {}: {}",
                        req.method,
                        req.path,
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                    ));
                }
            }
            (lat, errors)
        });
    }
    let mut lat = Vec::with_capacity(n);
    let mut errors = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (l, e) = done.expect("client task");
        lat.extend(l);
        errors.extend(e);
    }
    let elapsed = start.elapsed();
    let (gms, by) = calls_per_op(h, n);
    if let Some(first) = errors.first() {
        eprintln!(
            "  ! {op}: {} of {n} failed, first: {first:.300}",
            errors.len()
        );
    }
    lat.sort();
    Row {
        op: op.to_owned(),
        gms_latency_ms: latency_ms,
        concurrency,
        requests: n,
        errors: errors.len(),
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
        rps: n as f64 / elapsed.as_secs_f64(),
        gms_calls_per_op: gms,
        gms_calls_by_endpoint: by,
    }
}
