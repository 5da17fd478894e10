//! The test HTTP client (hyper-util legacy client over hyper-rustls, trusting the test
//! CA) and the request helper: `app.post(path, json).expect(201).await -> Value`.
//!
//! Every request carries `Authorization: Bearer <token>` (the emulator's admin PAT by
//! default), `Accept: application/scim+json` and, with a body,
//! `Content-Type: application/scim+json; charset=utf-8` — the headers Okta and Entra
//! send. When a status is expected, the helper also checks the SCIM envelope: JSON
//! bodies come back as `application/scim+json`, and error bodies are RFC 7644 §3.12
//! errors whose `status` is the HTTP status as a string.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::scim::ERROR_SCHEMA;

/// The content type Okta and Entra put on bodies.
pub const SCIM_JSON_UTF8: &str = "application/scim+json; charset=utf-8";
/// The content type of Okta's spec test POSTs and of SCIM 1.1 apps.
pub const PLAIN_JSON: &str = "application/json";

/// Upper bound on one test request, so a hung gateway fails the test instead of CI.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTPS (and HTTP) client that trusts the given CA certificates (PEM).
#[derive(Clone)]
pub struct TestClient {
    inner: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl TestClient {
    /// A client trusting `ca_pems` (and nothing else) for HTTPS.
    pub fn new(ca_pems: &[&str]) -> TestClient {
        let mut roots = rustls::RootCertStore::empty();
        for pem in ca_pems {
            let mut rd = pem.as_bytes();
            for cert in rustls_pemfile_certs(&mut rd) {
                roots.add(cert).expect("test CA is a valid trust anchor");
            }
        }
        Self::with_roots(roots)
    }

    /// A client trusting the platform roots (for a real GMS over HTTPS).
    pub fn native() -> TestClient {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        Self::with_roots(roots)
    }

    fn with_roots(roots: rustls::RootCertStore) -> TestClient {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        TestClient {
            inner: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    /// Sends one request; `None` when the connection fails or times out (2 s).
    pub async fn try_send(&self, req: Request<Full<Bytes>>) -> Option<Resp> {
        self.send_within(req, Duration::from_secs(2)).await
    }

    /// Sends one request; `None` when the connection fails (or after 30 s).
    pub async fn send_or_none(&self, req: Request<Full<Bytes>>) -> Option<Resp> {
        self.send_within(req, REQUEST_TIMEOUT).await
    }

    /// Sends one request and reads the whole response within `limit`; `None` when
    /// the connection fails or the time runs out.
    async fn send_within(&self, req: Request<Full<Bytes>>, limit: Duration) -> Option<Resp> {
        let what = format!("{} {}", req.method(), req.uri());
        let fut = async {
            let res = self.inner.request(req).await.ok()?;
            let (parts, body) = res.into_parts();
            let body = body.collect().await.ok()?;
            Some(Resp {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: body.to_bytes(),
                what,
            })
        };
        tokio::time::timeout(limit, fut).await.ok().flatten()
    }

    /// Sends one request and reads the whole response.
    pub async fn send(&self, req: Request<Full<Bytes>>) -> Resp {
        let what = format!("{} {}", req.method(), req.uri());
        let fut = async {
            let res = self
                .inner
                .request(req)
                .await
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            let (parts, body) = res.into_parts();
            let body = body
                .collect()
                .await
                .unwrap_or_else(|e| panic!("{what}: body: {e}"));
            Resp {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: body.to_bytes(),
                what: what.clone(),
            }
        };
        tokio::time::timeout(REQUEST_TIMEOUT, fut)
            .await
            .unwrap_or_else(|_| panic!("{what}: no response within {REQUEST_TIMEOUT:?}"))
    }
}

/// Parses the certificates of a PEM bundle (no extra crate: base64 between markers).
fn rustls_pemfile_certs(rd: &mut &[u8]) -> Vec<rustls_pki_types::CertificateDer<'static>> {
    use base64::Engine;
    let text = std::str::from_utf8(rd).expect("PEM is ASCII");
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line == "-----BEGIN CERTIFICATE-----" {
            cur = Some(String::new());
        } else if line == "-----END CERTIFICATE-----" {
            let b64 = cur.take().expect("END without BEGIN");
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("PEM base64");
            out.push(rustls_pki_types::CertificateDer::from(der));
        } else if let Some(c) = cur.as_mut() {
            c.push_str(line);
        }
    }
    out
}

/// A whole response.
#[derive(Debug)]
pub struct Resp {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Bytes,
    /// `METHOD url`, for messages.
    pub what: String,
}

impl Resp {
    /// The body as JSON (`Value::Null` when empty); panics on a non-JSON body.
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{}: body is not JSON ({e}): {}",
                self.what,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// A header as a string.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts the SCIM envelope of this response (see the module doc).
    pub fn assert_scim_envelope(&self) {
        if self.body.is_empty() {
            return;
        }
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/scim+json"),
            "{}: content-type {ct:?}, want application/scim+json",
            self.what
        );
        if self.status >= 400 {
            let v = self.json();
            let schemas = v["schemas"].as_array().cloned().unwrap_or_default();
            assert!(
                schemas.iter().any(|s| s == ERROR_SCHEMA),
                "{}: error body without the Error schema: {v}",
                self.what
            );
            assert_eq!(
                v["status"],
                Value::String(self.status.to_string()),
                "{}: error `status` must be the HTTP status as a string: {v}",
                self.what
            );
        }
    }
}

/// One request being built. `.await` it (after `.expect(status)`) for the JSON body,
/// or call [`Req::send`] for the whole response.
#[must_use = "a request does nothing until awaited"]
pub struct Req {
    pub(crate) client: TestClient,
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) token: Option<String>,
    pub(crate) authorization: Option<String>,
    pub(crate) content_type: String,
    pub(crate) body: Option<Bytes>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) expect: Option<u16>,
}

impl Req {
    /// Expects this status; `.await` then panics (with the body) on any other.
    pub fn expect(mut self, status: u16) -> Self {
        self.expect = Some(status);
        self
    }

    /// Uses this bearer token instead of the default.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Sends this exact `Authorization` header value (e.g. `non-token`).
    pub fn authorization(mut self, value: &str) -> Self {
        self.authorization = Some(value.to_owned());
        self
    }

    /// Sends no `Authorization` header.
    pub fn no_auth(mut self) -> Self {
        self.token = None;
        self.authorization = None;
        self
    }

    /// Sends the body as `application/json` (Okta's spec test, SCIM 1.1 apps).
    pub fn plain_json(mut self) -> Self {
        self.content_type = PLAIN_JSON.to_owned();
        self
    }

    /// Sends the body with this exact `Content-Type`.
    pub fn content_type(mut self, ct: &str) -> Self {
        self.content_type = ct.to_owned();
        self
    }

    /// Sets any other header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sends the request; `None` when no response arrives (the server died).
    pub async fn send_raw(self) -> Option<Resp> {
        let client = self.client.clone();
        client.send_or_none(self.build()).await
    }

    /// Sends the request and returns the whole response, without checks.
    pub async fn send(self) -> Resp {
        let client = self.client.clone();
        client.send(self.build()).await
    }

    fn build(&self) -> Request<Full<Bytes>> {
        let mut b = Request::builder()
            .method(self.method.clone())
            .uri(&self.url)
            .header("accept", "application/scim+json");
        if let Some(a) = &self.authorization {
            b = b.header("authorization", a);
        } else if let Some(t) = &self.token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if self.body.is_some() {
            b = b.header("content-type", &self.content_type);
        }
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        b.body(Full::new(self.body.clone().unwrap_or_default()))
            .expect("valid request")
    }
}

impl IntoFuture for Req {
    type Output = Value;
    type IntoFuture = Pin<Box<dyn Future<Output = Value> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let expect = self.expect;
            let resp = self.send().await;
            match expect {
                Some(want) => assert_eq!(
                    resp.status,
                    want,
                    "{}: got {}, body: {}",
                    resp.what,
                    resp.status,
                    String::from_utf8_lossy(&resp.body)
                ),
                None => assert!(
                    (200..300).contains(&resp.status),
                    "{}: got {}, body: {}",
                    resp.what,
                    resp.status,
                    String::from_utf8_lossy(&resp.body)
                ),
            }
            resp.assert_scim_envelope();
            resp.json()
        })
    }
}
