//! The load generator: what an IdP does to a SCIM server, as fast as it can. Runs in
//! its own process (`load __loadgen <spec.json>`) so the gateway's CPU is measured
//! alone; the orchestrator also calls [`run`] in-process for fixtures, where nothing is
//! measured.
//!
//! One keep-alive TLS connection per worker (HTTP/1.1, what Okta and Entra ID speak),
//! one request at a time per connection, like wrk. A run either lasts a fixed time
//! (after a warm-up whose requests are not counted) or works through a list of tasks
//! once. The CPU time of the watched processes is read at the start and the end of the
//! measured window.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};

use crate::procs;

/// One SCIM request an IdP makes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Req {
    /// `GET`, `POST`, `PUT`, `PATCH`, `DELETE`.
    pub method: String,
    /// Path and query, e.g. `/scim/v2/Users?count=100`; `{name}` is replaced by the id
    /// captured under `name` earlier in the run.
    pub path: String,
    /// JSON body.
    pub body: Option<String>,
    /// Statuses that count as success.
    pub expect: Vec<u16>,
    /// Remember the `id` of the answer under this name (what an IdP stores).
    #[serde(default)]
    pub capture: Option<String>,
}

impl Req {
    /// A GET expecting 200.
    pub fn get(path: impl Into<String>) -> Req {
        Req {
            method: "GET".into(),
            path: path.into(),
            body: None,
            expect: vec![200],
            capture: None,
        }
    }

    /// A request with a JSON body.
    pub fn with(method: &str, path: impl Into<String>, body: String, expect: &[u16]) -> Req {
        Req {
            method: method.into(),
            path: path.into(),
            body: Some(body),
            expect: expect.to_vec(),
            capture: None,
        }
    }

    /// The same request, capturing the answer's `id` under `name`.
    pub fn capture(mut self, name: impl Into<String>) -> Req {
        self.capture = Some(name.into());
        self
    }
}

/// What the workers do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Work {
    /// GET each path in turn; worker `w` starts at path `w`.
    Get { paths: Vec<String> },
    /// Worker `w` adds member `users[w]` to group `groups[w]`, then removes it, and so
    /// on: every request is a real change (Okta's member PATCH shapes).
    PatchToggle {
        groups: Vec<String>,
        users: Vec<String>,
    },
    /// `POST /Users` with a fresh `userName` per request (Okta's create body).
    CreateUsers { prefix: String },
    /// `PUT /Users/{id}` (Okta's profile push: the whole user back), worker `w` on user
    /// `users[w]` = (id, userName), the title changing every time.
    PutUsers { users: Vec<(String, String)> },
    /// Each task once, its requests in order on one worker (an IdP's per-object job).
    Tasks { tasks: Vec<Vec<Req>> },
}

/// One load run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    /// `https://127.0.0.1:PORT`.
    pub origin: String,
    /// PEM of the CA that signed the server certificate.
    pub ca_pem: String,
    /// Bearer token.
    pub token: String,
    /// Workers (connections).
    pub concurrency: usize,
    /// Measured window; `0` for [`Work::Tasks`] (runs until every task is done).
    pub duration_ms: u64,
    /// Unmeasured warm-up before the window.
    pub warmup_ms: u64,
    /// Processes whose CPU time is read around the measured window.
    pub watch: Vec<u32>,
    /// Admin address whose `/metrics` is read around the measured window.
    pub metrics: Option<String>,
    /// What to do.
    pub work: Work,
}

/// What a run measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Outcome {
    /// Requests answered in the measured window.
    pub requests: u64,
    /// Of which with a status not expected (or no answer).
    pub errors: u64,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Length of the measured window, seconds.
    pub elapsed_s: f64,
    /// Latency percentiles, microseconds.
    pub p50_us: u64,
    pub p90_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
    /// CPU time of each watched process in the window, nanoseconds (same order).
    pub cpu_ns: Vec<u64>,
    /// The first unexpected answer, for the log.
    pub first_error: Option<String>,
    /// Ids captured by [`Req::capture`].
    pub captured: BTreeMap<String, String>,
    /// `/metrics` at the start and the end of the window.
    pub metrics_before: String,
    pub metrics_after: String,
}

impl Outcome {
    /// Requests per second.
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed_s.max(1e-9)
    }
}

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Okta's member add / remove PATCH bodies.
pub fn member_patch(user_id: &str, add: bool) -> String {
    if add {
        format!(
            r#"{{"schemas":["{PATCH_OP}"],"Operations":[{{"op":"add","path":"members","value":[{{"value":"{user_id}"}}]}}]}}"#
        )
    } else {
        format!(
            r#"{{"schemas":["{PATCH_OP}"],"Operations":[{{"op":"remove","path":"members[value eq \"{user_id}\"]"}}]}}"#
        )
    }
}

/// Okta's create-user body (the documented example's shape).
pub fn okta_user(user_name: &str, external_id: &str) -> String {
    let local = user_name.split('@').next().unwrap_or(user_name);
    format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{user_name}","name":{{"givenName":"{local}","familyName":"Load"}},"emails":[{{"primary":true,"value":"{user_name}","type":"work"}}],"displayName":"{local} Load","locale":"en-US","externalId":"{external_id}","groups":[],"password":"1mz050nq","active":true}}"#
    )
}

/// Okta's profile push: the whole user, `title` changed.
fn okta_put(id: &str, user_name: &str, title: &str) -> String {
    let local = user_name.split('@').next().unwrap_or(user_name);
    format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"{id}","userName":"{user_name}","name":{{"givenName":"{local}","familyName":"Load"}},"emails":[{{"primary":true,"value":"{user_name}","type":"work"}}],"displayName":"{local} Load","title":"{title}","active":true,"groups":[]}}"#
    )
}

/// Query-string encoding of a filter value.
pub fn encode_query(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The request worker `w` makes as its `i`-th (for the endless kinds of work).
fn nth(work: &Work, w: usize, i: u64, run: &str) -> Req {
    match work {
        Work::Get { paths } => Req::get(paths[(w + i as usize) % paths.len()].clone()),
        Work::PatchToggle { groups, users } => {
            let (g, u) = (&groups[w % groups.len()], &users[w % users.len()]);
            Req::with(
                "PATCH",
                format!("/scim/v2/Groups/{g}"),
                member_patch(u, i % 2 == 0),
                &[204, 200],
            )
        }
        Work::CreateUsers { prefix } => {
            let name = format!("{prefix}-{run}-{w}-{i}@load.example.com");
            Req::with(
                "POST",
                "/scim/v2/Users",
                okta_user(&name, &format!("00u{run}{w}x{i}")),
                &[201],
            )
        }
        Work::PutUsers { users } => {
            let (id, name) = &users[w % users.len()];
            Req::with(
                "PUT",
                format!("/scim/v2/Users/{id}"),
                okta_put(id, name, &format!("Title {run} {i}")),
                &[200],
            )
        }
        Work::Tasks { .. } => unreachable!("tasks are not endless"),
    }
}

/// A TLS client config trusting `ca_pem` only, HTTP/1.1.
fn tls_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("CA certificate");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(cfg)
}

/// One worker's keep-alive connection.
struct Conn {
    send: SendRequest<Full<Bytes>>,
}

async fn connect(origin: &str, tls: &Arc<rustls::ClientConfig>) -> Result<Conn, String> {
    let (scheme, hostport) = origin.split_once("://").ok_or("origin")?;
    let tcp = tokio::net::TcpStream::connect(hostport)
        .await
        .map_err(|e| format!("connect {hostport}: {e}"))?;
    let _ = tcp.set_nodelay(true);
    let send = if scheme == "https" {
        let host = hostport.rsplit_once(':').map_or(hostport, |(h, _)| h);
        let name = rustls_pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| format!("server name: {e}"))?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(conn);
        send
    } else {
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(conn);
        send
    };
    Ok(Conn { send })
}

/// What one request got.
struct Answer {
    status: u16,
    body: Bytes,
}

async fn send(conn: &mut Conn, host: &str, token: &str, r: &Req) -> Result<Answer, String> {
    conn.send.ready().await.map_err(|e| e.to_string())?;
    let mut b = http::Request::builder()
        .method(r.method.as_str())
        .uri(&r.path)
        .header(http::header::HOST, host)
        .header(http::header::ACCEPT, "application/scim+json")
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match &r.body {
        Some(s) => {
            b = b.header(
                http::header::CONTENT_TYPE,
                "application/scim+json; charset=utf-8",
            );
            Full::new(Bytes::from(s.clone()))
        }
        None => Full::new(Bytes::new()),
    };
    let req = b.body(body).map_err(|e| e.to_string())?;
    let resp = conn
        .send
        .send_request(req)
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let body = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Answer { status, body })
}

/// Shared between the workers of one run.
struct Shared {
    spec: Spec,
    tls: Arc<rustls::ClientConfig>,
    host: String,
    /// Set when the measured window starts / ends.
    measuring: AtomicBool,
    stop: AtomicBool,
    /// Next task (for [`Work::Tasks`]).
    next_task: AtomicUsize,
    captured: Mutex<BTreeMap<String, String>>,
    first_error: Mutex<Option<String>>,
    run: String,
}

/// Per-worker tallies.
#[derive(Default)]
struct Tally {
    latencies: Vec<u32>,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
}

impl Shared {
    fn note_error(&self, what: String) {
        let mut e = self.first_error.lock().expect("error slot");
        if e.is_none() {
            *e = Some(what);
        }
    }

    /// `{name}` placeholders replaced by captured ids.
    fn resolve(&self, path: &str) -> String {
        if !path.contains('{') {
            return path.to_owned();
        }
        let captured = self.captured.lock().expect("captured");
        let mut out = path.to_owned();
        while let (Some(a), Some(b)) = (out.find('{'), out.find('}')) {
            let key = out[a + 1..b].to_owned();
            let id = captured.get(&key).cloned().unwrap_or_default();
            out.replace_range(a..=b, &id);
        }
        out
    }

    async fn one(&self, conn: &mut Option<Conn>, r: &Req, tally: &mut Tally) {
        let started = Instant::now();
        let path = self.resolve(&r.path);
        let r = Req { path, ..r.clone() };
        let mut answer = Err(String::new());
        for _ in 0..2 {
            if conn.is_none() {
                match connect(&self.spec.origin, &self.tls).await {
                    Ok(c) => *conn = Some(c),
                    Err(e) => {
                        answer = Err(e);
                        continue;
                    }
                }
            }
            let c = conn.as_mut().expect("connected");
            answer = send(c, &self.host, &self.spec.token, &r).await;
            match &answer {
                // A closed keep-alive connection: reconnect once and resend.
                Err(_) => *conn = None,
                Ok(_) => break,
            }
        }
        let elapsed = started.elapsed();
        if !self.measuring.load(Ordering::Relaxed) {
            return;
        }
        tally
            .latencies
            .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
        match answer {
            Ok(a) => {
                *tally.statuses.entry(a.status).or_default() += 1;
                if !r.expect.contains(&a.status) {
                    tally.errors += 1;
                    self.note_error(format!(
                        "{} {} -> {}: {}",
                        r.method,
                        r.path,
                        a.status,
                        String::from_utf8_lossy(&a.body[..a.body.len().min(300)])
                    ));
                } else if let Some(name) = &r.capture {
                    let id = serde_json::from_slice::<serde_json::Value>(&a.body)
                        .ok()
                        .and_then(|v| {
                            v.get("id")
                                .or_else(|| v.pointer("/Resources/0/id"))
                                .and_then(|i| i.as_str())
                                .map(str::to_owned)
                        });
                    if let Some(id) = id {
                        self.captured
                            .lock()
                            .expect("captured")
                            .insert(name.clone(), id);
                    }
                }
            }
            Err(e) => {
                tally.errors += 1;
                *tally.statuses.entry(0).or_default() += 1;
                self.note_error(format!("{} {}: {e}", r.method, r.path));
            }
        }
    }
}

async fn worker(shared: Arc<Shared>, w: usize) -> Tally {
    let mut tally = Tally::default();
    let mut conn = connect(&shared.spec.origin, &shared.tls).await.ok();
    match &shared.spec.work {
        Work::Tasks { tasks } => loop {
            let t = shared.next_task.fetch_add(1, Ordering::Relaxed);
            let Some(task) = tasks.get(t) else { break };
            for r in task {
                shared.one(&mut conn, r, &mut tally).await;
            }
        },
        work => {
            let mut i = 0u64;
            while !shared.stop.load(Ordering::Relaxed) {
                let r = nth(work, w, i, &shared.run);
                shared.one(&mut conn, &r, &mut tally).await;
                i += 1;
            }
        }
    }
    tally
}

fn percentile(sorted: &[u32], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    u64::from(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Runs `spec` to the end and measures it.
pub async fn run(spec: Spec) -> Outcome {
    let host = spec
        .origin
        .split_once("://")
        .map_or(spec.origin.as_str(), |(_, h)| h)
        .to_owned();
    let tasks_mode = matches!(spec.work, Work::Tasks { .. });
    let shared = Arc::new(Shared {
        tls: tls_config(&spec.ca_pem),
        host,
        measuring: AtomicBool::new(tasks_mode || spec.warmup_ms == 0),
        stop: AtomicBool::new(false),
        next_task: AtomicUsize::new(0),
        captured: Mutex::default(),
        first_error: Mutex::default(),
        run: format!("{:x}", std::process::id() ^ (procs::now_ns() as u32)),
        spec,
    });
    let watch = shared.spec.watch.clone();
    let admin = shared.spec.metrics.clone();
    let scrape = move || {
        let admin = admin.clone();
        async move {
            match admin {
                Some(a) => tokio::task::spawn_blocking(move || procs::http_get(&a, "/metrics"))
                    .await
                    .unwrap_or_default(),
                None => String::new(),
            }
        }
    };
    let mut workers = tokio::task::JoinSet::new();
    let mut metrics_before = scrape().await;
    let mut cpu0 = procs::cpu_ns_all(&watch);
    let mut started = Instant::now();
    for w in 0..shared.spec.concurrency {
        workers.spawn(worker(shared.clone(), w));
    }
    if !tasks_mode {
        if shared.spec.warmup_ms > 0 {
            tokio::time::sleep(Duration::from_millis(shared.spec.warmup_ms)).await;
            metrics_before = scrape().await;
            cpu0 = procs::cpu_ns_all(&watch);
            started = Instant::now();
            shared.measuring.store(true, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_millis(shared.spec.duration_ms)).await;
        shared.measuring.store(false, Ordering::Relaxed);
    }
    let mut elapsed = started.elapsed();
    let mut cpu1 = procs::cpu_ns_all(&watch);
    let mut metrics_after = if tasks_mode {
        String::new()
    } else {
        scrape().await
    };
    shared.stop.store(true, Ordering::Relaxed);
    let mut all = Tally::default();
    while let Some(t) = workers.join_next().await {
        let t = t.expect("worker");
        all.latencies.extend(t.latencies);
        all.errors += t.errors;
        for (s, n) in t.statuses {
            *all.statuses.entry(s).or_default() += n;
        }
    }
    if tasks_mode {
        elapsed = started.elapsed();
        cpu1 = procs::cpu_ns_all(&watch);
        metrics_after = scrape().await;
    }
    all.latencies.sort_unstable();
    let l = &all.latencies;
    let first_error = shared.first_error.lock().expect("error slot").clone();
    let captured = std::mem::take(&mut *shared.captured.lock().expect("captured"));
    Outcome {
        requests: l.len() as u64,
        errors: all.errors,
        statuses: all.statuses,
        elapsed_s: elapsed.as_secs_f64(),
        p50_us: percentile(l, 50.0),
        p90_us: percentile(l, 90.0),
        p99_us: percentile(l, 99.0),
        max_us: l.last().copied().map_or(0, u64::from),
        cpu_ns: cpu1
            .iter()
            .zip(&cpu0)
            .map(|(a, b)| a.saturating_sub(*b))
            .collect(),
        first_error,
        captured,
        metrics_before,
        metrics_after,
    }
}

/// `load __loadgen <spec.json>`: runs the spec, prints the [`Outcome`] as JSON.
pub fn child_main(spec_file: &str) {
    let spec: Spec =
        serde_json::from_slice(&std::fs::read(spec_file).expect("spec file")).expect("spec");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let out = rt.block_on(run(spec));
    println!("{}", serde_json::to_string(&out).expect("outcome JSON"));
}
