//! The system under test: the DataHub GMS emulator and the gateway's real `run()`
//! in this process on 127.0.0.1, TLS with a fresh rcgen CA, and a keep-alive HTTP/1.1
//! TLS client (the protocol Okta and Entra ID speak) that trusts that CA.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use datahub_scim::emulator::{Emulator, EmulatorConfig};
use datahub_scim::http::{self, devcerts};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// The TLS client type.
pub type TlsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// One SCIM request and the status it must get.
#[derive(Debug, Clone)]
pub struct Req {
    /// `GET`, `POST`, `PUT`, `PATCH`.
    pub method: ::http::Method,
    /// Path and query after the origin, e.g. `/scim/v2/Users?count=100`.
    pub path: String,
    /// JSON body, if any.
    pub body: Option<Value>,
    /// The expected status.
    pub expect: u16,
}

impl Req {
    /// A GET expecting 200.
    pub fn get(path: impl Into<String>) -> Req {
        Req {
            method: ::http::Method::GET,
            path: path.into(),
            body: None,
            expect: 200,
        }
    }

    /// A request with a JSON body.
    pub fn with_body(
        method: ::http::Method,
        path: impl Into<String>,
        body: Value,
        expect: u16,
    ) -> Req {
        Req {
            method,
            path: path.into(),
            body: Some(body),
            expect,
        }
    }
}

/// What a request got: status and body.
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Raw body.
    pub body: Bytes,
}

/// A running emulator + gateway and a client for it. Cheap to clone.
#[derive(Clone)]
pub struct Harness {
    /// The GMS emulator (call log, faults, tokens).
    pub emu: Emulator,
    /// `https://127.0.0.1:PORT` of the SCIM listener.
    pub origin: String,
    /// Address of the admin listener (`/metrics`).
    pub admin: SocketAddr,
    /// The client, trusting the gateway's CA.
    pub client: TlsClient,
    /// The admin PAT used for every SCIM call.
    pub token: String,
    /// Tells `run()` to drain and stop.
    stop: Arc<std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>>,
}

/// The gateway's environment for the benchmark: TLS from `dir`, GMS at `gms`, the
/// health probe and token cache stretched so steady-state runs see no extra `me` or
/// `health` calls (the token-cache effect is measured on purpose, with fresh tokens).
pub fn gateway_env(
    gms: &str,
    cert: &Path,
    key: &Path,
    listen: &str,
    admin: &str,
) -> HashMap<String, String> {
    [
        ("DATAHUB_SCIM_LISTEN", listen.to_owned()),
        ("DATAHUB_SCIM_ADMIN_LISTEN", admin.to_owned()),
        ("DATAHUB_SCIM_TLS_CERT_FILE", cert.display().to_string()),
        ("DATAHUB_SCIM_TLS_KEY_FILE", key.display().to_string()),
        ("DATAHUB_GMS_URL", gms.to_owned()),
        ("DATAHUB_SCIM_GMS_PROBE_INTERVAL", "1h".to_owned()),
        ("DATAHUB_SCIM_TLS_RELOAD_INTERVAL", "1h".to_owned()),
        ("DATAHUB_SCIM_TOKEN_CACHE_TTL", "1h".to_owned()),
        ("DATAHUB_SCIM_GMS_REQUEST_TIMEOUT", "30s".to_owned()),
        ("DATAHUB_SCIM_SHUTDOWN_GRACE", "2s".to_owned()),
        ("DATAHUB_SCIM_LOG_LEVEL", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Writes a CA-signed server certificate for 127.0.0.1 into `dir`; returns the CA PEM
/// and the certificate and key paths.
pub fn write_certs(dir: &Path) -> (String, std::path::PathBuf, std::path::PathBuf) {
    let hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let (ca, server) = devcerts::ca_and_server(&hosts, 2).expect("development certificates");
    let cert = dir.join("tls.crt");
    let key = dir.join("tls.key");
    std::fs::write(&cert, &server.cert_pem).expect("write cert");
    std::fs::write(&key, &server.key_pem).expect("write key");
    (ca.cert_pem, cert, key)
}

/// Starts a fresh emulator.
pub async fn start_emulator() -> Emulator {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind emulator");
    Emulator::start(EmulatorConfig::default(), listener)
        .await
        .expect("emulator starts")
}

impl Harness {
    /// Starts an emulator and the gateway (`http::run`) against it, TLS on.
    pub async fn start(dir: &Path) -> Harness {
        let emu = start_emulator().await;
        let (ca, cert, key) = write_certs(dir);
        let env = gateway_env(&emu.base_url(), &cert, &key, "127.0.0.1:0", "127.0.0.1:0");
        let config = datahub_scim::config::serve_config(["datahub-scim"], &env).expect("config");
        let listeners = http::Listeners::bind(&config).expect("bind gateway");
        let scim = listeners.scim.local_addr().expect("addr");
        let admin = listeners.admin.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(http::run(config, listeners, async move {
            let _ = rx.await;
        }));
        let h = Harness::attach(
            emu,
            format!("https://127.0.0.1:{}", scim.port()),
            admin,
            &ca,
        )
        .await;
        *h.stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        h
    }

    /// A harness for a gateway already started elsewhere; waits for `/ready`.
    pub async fn attach(emu: Emulator, origin: String, admin: SocketAddr, ca_pem: &str) -> Harness {
        let h = Harness {
            token: emu.admin_token(),
            emu,
            origin,
            admin,
            client: tls_client(ca_pem),
            stop: Arc::default(),
        };
        h.wait_ready().await;
        h
    }

    /// Polls `/ready` on the admin port (10 s at most).
    async fn wait_ready(&self) {
        let plain: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        for _ in 0..200 {
            let uri = format!("http://{}/ready", self.admin);
            if let Ok(r) = plain.get(uri.parse().expect("uri")).await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the gateway never became ready");
    }

    /// Sends `req` with the harness token.
    pub async fn send(&self, req: &Req) -> Reply {
        self.send_as(req, &self.token).await
    }

    /// Sends `req` with `token`.
    pub async fn send_as(&self, req: &Req, token: &str) -> Reply {
        let body = match &req.body {
            Some(v) => Bytes::from(serde_json::to_vec(v).expect("JSON body")),
            None => Bytes::new(),
        };
        let r = hyper::Request::builder()
            .method(req.method.clone())
            .uri(format!("{}{}", self.origin, req.path))
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/scim+json")
            .header("accept", "application/scim+json")
            .body(Full::new(body))
            .expect("request");
        let resp = self.client.request(r).await.expect("the gateway answers");
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        Reply { status, body }
    }

    /// The admin `/metrics` text.
    pub async fn metrics(&self) -> String {
        metrics_text(self.admin).await
    }

    /// Stops the gateway and the emulator.
    pub async fn stop(self) {
        if let Some(tx) = self.stop.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = tx.send(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.emu.shutdown().await;
    }
}

/// GET `/metrics` on an admin address.
pub async fn metrics_text(admin: SocketAddr) -> String {
    let plain: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let uri = format!("http://{admin}/metrics");
    let r = plain
        .get(uri.parse().expect("uri"))
        .await
        .expect("admin answers");
    let body = r.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&body).into_owned()
}

/// A keep-alive HTTP/1.1 client over TLS (rustls, ring) trusting `ca_pem` only.
pub fn tls_client(ca_pem: &str) -> TlsClient {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.expect("CA PEM")).expect("CA accepted");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(cfg)
        .https_only()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

/// Lines `datahub_scim_cache_entries{…} N` of a metrics text, as (labels, value).
pub fn cache_entries(metrics: &str) -> Vec<(String, f64)> {
    metrics
        .lines()
        .filter(|l| l.starts_with("datahub_scim_cache_entries"))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            let labels = name.trim_start_matches("datahub_scim_cache_entries");
            Some((labels.to_owned(), value.parse().ok()?))
        })
        .collect()
}
