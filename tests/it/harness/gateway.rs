//! Starts the DataHub emulator and the gateway in-process on 127.0.0.1:0, with TLS
//! material from a fresh development CA, and gives typed helpers to call them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use datahub_scim::emulator::Emulator;
use datahub_scim::http::{self, devcerts};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinHandle;

/// A CA certificate (PEM) and the server cert+key files it signed.
pub struct Certs {
    pub ca_pem: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Writes a fresh CA + server certificate for 127.0.0.1/localhost into `dir`.
pub fn make_certs(dir: &Path) -> Certs {
    let hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let (ca, server) = devcerts::ca_and_server(&hosts, 30).expect("certificates");
    let cert = dir.join("tls.crt");
    let key = dir.join("tls.key");
    write_pair(&cert, &key, &server.cert_pem, &server.key_pem);
    Certs {
        ca_pem: ca.cert_pem,
        cert,
        key,
    }
}

/// Replaces the files the way a Kubernetes Secret update does: write elsewhere, rename.
pub fn write_pair(cert: &Path, key: &Path, cert_pem: &str, key_pem: &str) {
    let tmp_c = cert.with_extension("tmp-crt");
    let tmp_k = key.with_extension("tmp-key");
    std::fs::write(&tmp_c, cert_pem).expect("write cert");
    std::fs::write(&tmp_k, key_pem).expect("write key");
    std::fs::rename(&tmp_k, key).expect("rename key");
    std::fs::rename(&tmp_c, cert).expect("rename cert");
}

/// A running gateway plus the emulator behind it.
pub struct Gateway {
    pub emu: Emulator,
    pub scim: SocketAddr,
    pub admin: SocketAddr,
    pub certs: Certs,
    /// Keeps the certificate folder alive.
    pub _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: JoinHandle<Result<(), http::Error>>,
}

impl Gateway {
    /// Starts with the given extra environment (merged over test defaults).
    pub async fn start(extra: &[(&str, &str)]) -> Gateway {
        Gateway::start_on(crate::harness::emulator_config(), extra).await
    }

    /// Starts on an emulator configured with `emulator` (e.g. another DataHub release).
    pub async fn start_on(
        emulator: datahub_scim::emulator::EmulatorConfig,
        extra: &[(&str, &str)],
    ) -> Gateway {
        let emu_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind emulator");
        let emu = Emulator::start(emulator, emu_listener)
            .await
            .expect("emulator starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let certs = make_certs(dir.path());
        let mut env: HashMap<String, String> = [
            ("DATAHUB_SCIM_LISTEN", "127.0.0.1:0".to_owned()),
            ("DATAHUB_SCIM_ADMIN_LISTEN", "127.0.0.1:0".to_owned()),
            (
                "DATAHUB_SCIM_TLS_CERT_FILE",
                certs.cert.display().to_string(),
            ),
            ("DATAHUB_SCIM_TLS_KEY_FILE", certs.key.display().to_string()),
            ("DATAHUB_GMS_URL", emu.base_url()),
            ("DATAHUB_SCIM_GMS_PROBE_INTERVAL", "100ms".to_owned()),
            ("DATAHUB_SCIM_TLS_RELOAD_INTERVAL", "100ms".to_owned()),
            ("DATAHUB_SCIM_GMS_REQUEST_TIMEOUT", "2s".to_owned()),
            ("DATAHUB_SCIM_SHUTDOWN_GRACE", "5s".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let config =
            datahub_scim::config::serve_config(["datahub-scim"], &env).expect("valid test config");
        let listeners = http::Listeners::bind(&config).expect("bind");
        let scim = listeners.scim.local_addr().expect("addr");
        let admin = listeners.admin.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(http::run(config, listeners, async move {
            let _ = rx.await;
        }));
        Gateway {
            emu,
            scim,
            admin,
            certs,
            _dir: dir,
            stop: Some(tx),
            task,
        }
    }

    /// Starts and waits for `/ready`.
    pub async fn ready(extra: &[(&str, &str)]) -> Gateway {
        let g = Gateway::start(extra).await;
        g.wait_admin_status("/ready", 200).await;
        g
    }

    /// Sends the shutdown signal.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }

    /// Status and body of an admin GET.
    pub async fn admin_get(&self, path: &str) -> (u16, String) {
        let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let uri = format!("http://{}{path}", self.admin);
        let resp = client
            .get(uri.parse().expect("uri"))
            .await
            .expect("admin answers");
        let status = resp.status().as_u16();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Polls an admin path until it answers `status` (fails after 10 s).
    pub async fn wait_admin_status(&self, path: &str, status: u16) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            if self.admin_get(path).await.0 == status {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} never answered {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The current `/metrics` text.
    pub async fn metrics(&self) -> String {
        let (status, body) = self.admin_get("/metrics").await;
        assert_eq!(status, 200);
        body
    }

    /// A SCIM request over TLS trusting `ca_pem`, on a fresh connection.
    pub async fn scim_with_ca(
        &self,
        ca_pem: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
    ) -> Result<Reply, String> {
        self.send(ca_pem, method, path, token, &[], Bytes::new())
            .await
    }

    /// A SCIM request with extra headers and a body, trusting the gateway's CA.
    pub async fn scim_body(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Reply {
        let ca = self.certs.ca_pem.clone();
        self.send(&ca, method, path, token, headers, body.into())
            .await
            .expect("TLS request succeeds")
    }

    async fn send(
        &self,
        ca_pem: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<Reply, String> {
        let client = tls_client(ca_pem);
        let mut b = hyper::Request::builder()
            .method(method)
            .uri(format!("https://127.0.0.1:{}{path}", self.scim.port()));
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Full::new(body)).expect("request");
        let resp = client.request(req).await.map_err(|e| format!("{e:?}"))?;
        let status = resp.status().as_u16();
        let version = resp.version();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok(Reply {
            status,
            version,
            headers,
            body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
        })
    }

    /// A SCIM request with a JSON body and the emulator's admin token.
    pub async fn scim_json(&self, method: &str, path: &str, body: &serde_json::Value) -> Reply {
        let token = self.emu.admin_token();
        let bytes = serde_json::to_vec(body).expect("JSON body");
        self.scim_body(
            method,
            path,
            Some(&token),
            &[("content-type", "application/scim+json")],
            bytes,
        )
        .await
    }

    /// A SCIM request trusting the gateway's CA; panics on transport errors.
    pub async fn scim(&self, method: &str, path: &str, token: Option<&str>) -> Reply {
        self.scim_with_ca(&self.certs.ca_pem.clone(), method, path, token)
            .await
            .expect("TLS request succeeds")
    }
}

/// A SCIM response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub version: ::http::Version,
    pub headers: ::http::HeaderMap,
    pub body: serde_json::Value,
}

/// GET over TLS trusting `ca_pem` with a bearer token; the status, or the transport error.
pub async fn tls_get(ca_pem: &str, port: u16, path: &str, token: &str) -> Result<u16, String> {
    let req = hyper::Request::get(format!("https://127.0.0.1:{port}{path}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    let resp = tls_client(ca_pem)
        .request(req)
        .await
        .map_err(|e| format!("{e:?}"))?;
    let status = resp.status().as_u16();
    resp.into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(status)
}

fn tls_client(
    ca_pem: &str,
) -> Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
> {
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
        .enable_http2()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

/// The value of a metric sample line starting with `prefix` (name and labels).
pub fn sample(metrics: &str, prefix: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
