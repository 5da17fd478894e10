//! The integration-test harness: `TestApp::spawn()` starts, in-process on 127.0.0.1:0,
//! the DataHub GMS emulator and the gateway through its real `http::run()` over TLS
//! (a certificate made by rcgen, trusted by the test client), with config from a map.
//!
//! When `DATAHUB_GMS_URL` and `DATAHUB_GMS_TOKEN` are set, the gateway points at that
//! real GMS instead; tests that need emulator internals (call log, faults, lag) call
//! [`require_emulator!`] and skip with a message. Aspect reads and seeds go through
//! [`TestApp::aspect`] / [`TestApp::put_aspect`], which use the emulator's handle or the
//! real Rest.li API.

use std::collections::HashMap;
use std::time::Duration;

use http::Method;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use datahub_scim::emulator::{Emulator, EmulatorConfig};

use crate::support::http::{Req, TestClient, SCIM_JSON_UTF8};
use crate::support::scim::enc;
use crate::support::tls::TestPki;

mod smoke;

// The ops tests' gateway harness (written on the `ops` branch as `tests/it/harness.rs`),
// kept verbatim in `harness/gateway.rs` and re-exported so `crate::harness::{Gateway,
// Reply, make_certs, …}` keep working next to `TestApp`.
#[allow(dead_code)]
mod gateway;
#[allow(unused_imports)]
pub use gateway::*;

/// Skips the test (with a message) unless it runs against the emulator; evaluates to
/// `&Emulator`.
#[macro_export]
macro_rules! require_emulator {
    ($app:expr) => {
        match $app.emu() {
            Some(e) => e,
            None => {
                eprintln!(
                    "skipped: this test needs the emulator's internals (real GMS configured)"
                );
                return;
            }
        }
    };
}

/// The emulator settings of the whole suite: the DataHub release comes from
/// `DATAHUB_EMULATOR_VERSION` (e.g. `0.15.0`; default: the emulator's newest profile),
/// so `DATAHUB_EMULATOR_VERSION=0.15.0 cargo nextest run --test it` runs every test
/// against the oldest supported release.
pub fn emulator_config() -> EmulatorConfig {
    let mut cfg = EmulatorConfig::default();
    if let Ok(v) = std::env::var("DATAHUB_EMULATOR_VERSION") {
        if !v.trim().is_empty() {
            cfg.datahub_version = v.trim().to_owned();
        }
    }
    cfg
}

/// A real GMS to run against, from `DATAHUB_GMS_URL` + `DATAHUB_GMS_TOKEN`.
fn real_gms() -> Option<(String, String)> {
    let url = std::env::var("DATAHUB_GMS_URL")
        .ok()
        .filter(|s| !s.is_empty())?;
    let token = std::env::var("DATAHUB_GMS_TOKEN")
        .ok()
        .filter(|s| !s.is_empty())?;
    Some((url.trim_end_matches('/').to_owned(), token))
}

/// Options of one test app.
pub struct Builder {
    index_lag: Duration,
    config: Vec<(String, String)>,
    gateways: usize,
}

/// One running gateway (a replica: several may share one GMS).
pub struct Replica {
    /// `https://127.0.0.1:<port>`.
    pub base: String,
    /// `http://127.0.0.1:<port>` of the admin listener.
    pub admin: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Emulator (or real GMS) + gateway(s) + a client that trusts their certificate.
pub struct TestApp {
    emu: Option<Emulator>,
    gms_url: String,
    token: String,
    gateways: Vec<Replica>,
    client: TestClient,
    gms_client: TestClient,
    /// `(urn, aspect)` pairs this test wrote itself (as a DataHub admin would).
    seeded: std::sync::Mutex<std::collections::HashSet<(String, String)>>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// Emulator + one gateway with the default configuration.
    pub async fn spawn() -> TestApp {
        Self::builder().spawn().await
    }

    pub fn builder() -> Builder {
        Builder {
            index_lag: Duration::ZERO,
            config: Vec::new(),
            gateways: 1,
        }
    }

    /// The emulator, or `None` against a real GMS.
    pub fn emu(&self) -> Option<&Emulator> {
        self.emu.as_ref()
    }

    /// The default bearer token (the emulator's admin PAT, or `DATAHUB_GMS_TOKEN`).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A name unique to this run against a real GMS, `base` itself on the emulator
    /// (whose store is fresh per test).
    pub fn uniq(&self, base: &str) -> String {
        if self.emu.is_some() {
            base.to_owned()
        } else {
            let r = uuid::Uuid::new_v4().simple().to_string();
            format!("{base}-it{}", &r[..8])
        }
    }

    /// The `i`-th gateway (0 is the default one).
    pub fn gateway(&self, i: usize) -> &Replica {
        &self.gateways[i]
    }

    fn req(&self, gw: usize, method: Method, path: &str, body: Option<&Value>) -> Req {
        Req {
            client: self.client.clone(),
            method,
            url: format!("{}{}", self.gateways[gw].base, path),
            token: Some(self.token.clone()),
            authorization: None,
            content_type: SCIM_JSON_UTF8.to_owned(),
            body: body.map(|b| serde_json::to_vec(b).expect("JSON").into()),
            headers: Vec::new(),
            expect: None,
        }
    }

    pub fn get(&self, path: &str) -> Req {
        self.req(0, Method::GET, path, None)
    }
    pub fn post(&self, path: &str, body: Value) -> Req {
        self.req(0, Method::POST, path, Some(&body))
    }
    pub fn put(&self, path: &str, body: Value) -> Req {
        self.req(0, Method::PUT, path, Some(&body))
    }
    pub fn patch(&self, path: &str, body: Value) -> Req {
        self.req(0, Method::PATCH, path, Some(&body))
    }
    pub fn delete(&self, path: &str) -> Req {
        self.req(0, Method::DELETE, path, None)
    }
    /// A request with any method to gateway `gw`.
    pub fn on(&self, gw: usize, method: Method, path: &str, body: Option<Value>) -> Req {
        self.req(gw, method, path, body.as_ref())
    }

    /// GET on the admin listener of gateway 0 (`/live`, `/ready`, `/metrics`).
    pub fn admin_get(&self, path: &str) -> Req {
        let mut r = self.req(0, Method::GET, path, None);
        r.url = format!("{}{}", self.gateways[0].admin, path);
        r.token = None;
        r
    }

    // === DataHub state ===

    /// The current value of an aspect (without the Rest.li union wrapper), or `None`.
    pub async fn aspect(&self, urn: &str, name: &str) -> Option<Value> {
        if let Some(emu) = &self.emu {
            return emu.aspect(urn, name);
        }
        let url = format!(
            "{}/aspects/{}?aspect={}&version=0",
            self.gms_url,
            enc(urn),
            name
        );
        let req = http::Request::builder()
            .uri(url)
            .header("authorization", format!("Bearer {}", self.token))
            .header("x-restli-protocol-version", "2.0.0")
            .body(Default::default())
            .expect("request");
        let resp = self.gms_client.send(req).await;
        match resp.status {
            404 => None,
            200 => {
                let v = resp.json();
                let union = v["aspect"].as_object().expect("VersionedAspect.aspect");
                union.values().next().cloned()
            }
            s => panic!("GET aspect {name} of {urn}: GMS answered {s}"),
        }
    }

    /// Writes an aspect as an admin would inside DataHub (UPSERT).
    pub async fn put_aspect(&self, urn: &str, name: &str, value: Value) {
        self.seeded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert((urn.to_owned(), name.to_owned()));
        if let Some(emu) = &self.emu {
            emu.put_aspect(urn, name, value);
            return;
        }
        let entity_type = urn.split(':').nth(2).expect("urn:li:<type>:…");
        let body = json!({"proposal": {
            "entityType": entity_type, "entityUrn": urn, "changeType": "UPSERT", "aspectName": name,
            "aspect": {"value": value.to_string(), "contentType": "application/json"},
            "headers": {"X-DataHub-Sync-Index-Update": "true"}}, "async": "false"});
        let req = http::Request::builder()
            .method(Method::POST)
            .uri(format!("{}/aspects?action=ingestProposal", self.gms_url))
            .header("authorization", format!("Bearer {}", self.token))
            .header("x-restli-protocol-version", "2.0.0")
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).expect("JSON").into())
            .expect("request");
        let resp = self.gms_client.send(req).await;
        assert_eq!(
            resp.status, 200,
            "ingestProposal {name} on {urn}: {:?}",
            resp.body
        );
    }

    /// Whether this test seeded `aspect` on `urn` through [`TestApp::put_aspect`].
    pub fn seeded(&self, urn: &str, aspect: &str) -> bool {
        self.seeded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&(urn.to_owned(), aspect.to_owned()))
    }

    /// Whether the entity's key aspect exists.
    pub async fn exists(&self, urn: &str) -> bool {
        let key = if urn.starts_with("urn:li:corpGroup:") {
            "corpGroupKey"
        } else {
            "corpUserKey"
        };
        self.aspect(urn, key).await.is_some()
    }

    /// `corpUserStatus.status` of a user.
    pub async fn user_status(&self, urn: &str) -> Option<String> {
        self.aspect(urn, "corpUserStatus")
            .await
            .and_then(|v| v["status"].as_str().map(str::to_owned))
    }

    /// `groupMembership.groups` of a user, sorted (empty when absent).
    pub async fn groups_of(&self, urn: &str) -> Vec<String> {
        let mut g: Vec<String> = self
            .aspect(urn, "groupMembership")
            .await
            .and_then(|v| v["groups"].as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .map(|g| g.as_str().expect("group urn").to_owned())
            .collect();
        g.sort();
        g
    }

    /// `status.removed` of an entity (false when absent).
    pub async fn removed(&self, urn: &str) -> bool {
        self.aspect(urn, "status")
            .await
            .is_some_and(|v| v["removed"] == json!(true))
    }

    /// Stops every gateway and the emulator and joins them, so panics inside them fail
    /// the test.
    pub async fn shutdown(mut self) {
        for gw in &mut self.gateways {
            gw.stop().await;
        }
        if let Some(emu) = self.emu.take() {
            emu.shutdown().await;
        }
    }
}

impl Replica {
    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            match tokio::time::timeout(Duration::from_secs(20), task).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Ok(Err(e)) => panic!("gateway task failed: {e}"),
                Err(_) => panic!("gateway did not shut down within 20 s"),
            }
        }
    }
}

impl Builder {
    /// Index lag of the emulator (search, list and relationships lag behind writes).
    pub fn index_lag(mut self, lag: Duration) -> Self {
        self.index_lag = lag;
        self
    }

    /// A gateway configuration entry (environment variable name → value).
    pub fn config(mut self, key: &str, value: &str) -> Self {
        self.config.push((key.to_owned(), value.to_owned()));
        self
    }

    /// How many gateways to start on the same GMS (default 1).
    pub fn gateways(mut self, n: usize) -> Self {
        self.gateways = n;
        self
    }

    pub async fn spawn(self) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = TestPki::generate(dir.path());
        let (emu, gms_url, token) = match real_gms() {
            Some((url, token)) => (None, url, token),
            None => {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind emulator");
                let cfg = EmulatorConfig {
                    index_lag: self.index_lag,
                    ..emulator_config()
                };
                let emu = Emulator::start(cfg, listener)
                    .await
                    .expect("emulator starts");
                let url = emu.base_url();
                let token = emu.admin_token();
                (Some(emu), url, token)
            }
        };
        let mut gateways = Vec::new();
        for _ in 0..self.gateways {
            gateways.push(start_gateway(&gms_url, &self.config, &pki).await);
        }
        let client = TestClient::new(&[&pki.ca_pem]);
        // Platform roots only matter for a real GMS (possibly behind HTTPS).
        let gms_client = if emu.is_some() {
            TestClient::new(&[])
        } else {
            TestClient::native()
        };
        TestApp {
            emu,
            gms_url,
            token,
            gateways,
            client,
            gms_client,
            seeded: Default::default(),
            _dir: dir,
        }
    }
}

/// Config keys (environment variable names) the harness sets.
pub mod keys {
    pub const GMS_URL: &str = "DATAHUB_GMS_URL";
    pub const LISTEN: &str = "DATAHUB_SCIM_LISTEN";
    pub const ADMIN_LISTEN: &str = "DATAHUB_SCIM_ADMIN_LISTEN";
    pub const TLS_CERT: &str = "DATAHUB_SCIM_TLS_CERT_FILE";
    pub const TLS_KEY: &str = "DATAHUB_SCIM_TLS_KEY_FILE";
    pub const USERNAME_REGEX: &str = "DATAHUB_SCIM_USERNAME_REGEX";
    pub const REQUEST_DEADLINE: &str = "DATAHUB_SCIM_REQUEST_DEADLINE";
    pub const GMS_REQUEST_TIMEOUT: &str = "DATAHUB_SCIM_GMS_REQUEST_TIMEOUT";
    pub const SHUTDOWN_GRACE: &str = "DATAHUB_SCIM_SHUTDOWN_GRACE";
    pub const GMS_PROBE_INTERVAL: &str = "DATAHUB_SCIM_GMS_PROBE_INTERVAL";
    pub const USER_DELETE: &str = "DATAHUB_SCIM_USER_DELETE";
    pub const IDP_NAME: &str = "DATAHUB_SCIM_IDP_NAME";
}

/// Starts one gateway through the real `http::run()`, on fresh loopback listeners.
async fn start_gateway(gms_url: &str, extra: &[(String, String)], pki: &TestPki) -> Replica {
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert(keys::GMS_URL.into(), gms_url.into());
    env.insert(keys::LISTEN.into(), "127.0.0.1:0".into());
    env.insert(keys::ADMIN_LISTEN.into(), "127.0.0.1:0".into());
    env.insert(keys::TLS_CERT.into(), pki.cert_file.display().to_string());
    env.insert(keys::TLS_KEY.into(), pki.key_file.display().to_string());
    env.insert(keys::SHUTDOWN_GRACE.into(), "2s".into());
    env.insert(keys::GMS_PROBE_INTERVAL.into(), "1s".into());
    for (k, v) in extra {
        env.insert(k.clone(), v.clone());
    }
    let config = datahub_scim::config::serve_config(["datahub-scim"], &env)
        .unwrap_or_else(|e| panic!("test config is valid: {e}"));
    let scim = std::net::TcpListener::bind("127.0.0.1:0").expect("bind scim");
    let admin = std::net::TcpListener::bind("127.0.0.1:0").expect("bind admin");
    let base = format!("https://{}", scim.local_addr().expect("addr"));
    let admin_url = format!("http://{}", admin.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    let listeners = datahub_scim::http::Listeners { scim, admin };
    let task = tokio::spawn(async move {
        datahub_scim::http::run(config, listeners, async move {
            let _ = rx.await;
        })
        .await
        .expect("gateway run() ends cleanly");
    });
    let gw = Replica {
        base,
        admin: admin_url,
        shutdown: Some(tx),
        task: Some(task),
    };
    wait_ready(&gw).await;
    gw
}

/// Waits until the admin `/ready` answers 200 (TLS loaded, GMS reachable).
async fn wait_ready(gw: &Replica) {
    let client = TestClient::new(&[]);
    for _ in 0..600 {
        let req = http::Request::builder()
            .uri(format!("{}/ready", gw.admin))
            .body(Default::default())
            .expect("request");
        if client.try_send(req).await.is_some_and(|r| r.status == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("gateway not ready within 15 s");
}
