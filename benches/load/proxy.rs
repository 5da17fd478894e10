//! The reference: a bare hyper + rustls TLS pass-through proxy built from the
//! gateway's own dependencies and settings (tokio multi-thread runtime, rustls on
//! ring, hyper-util's auto server, the hyper-util legacy pooled client towards a
//! plain-HTTP upstream), and a trivial upstream answering every request with a fixed
//! JSON body. No auth, no parsing, no logging: what any Rust proxy pays per request.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls_pki_types::pem::PemObject;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// `load __bare-proxy LISTEN UPSTREAM CERT KEY`.
pub fn bare_proxy_main(args: &[String]) {
    let [listen, upstream, cert, key] = args else {
        panic!("usage: __bare-proxy LISTEN UPSTREAM CERT KEY")
    };
    let certs: Vec<_> = rustls_pki_types::CertificateDer::pem_file_iter(cert)
        .expect("cert")
        .map(|c| c.expect("cert"))
        .collect();
    let key = rustls_pki_types::PrivateKeyDer::from_pem_file(key).expect("key");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("server config");
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let upstream = upstream.trim_end_matches('/').to_owned();
    runtime().block_on(async move {
        let client: Client<HttpConnector, Full<Bytes>> = {
            let mut tcp = HttpConnector::new();
            tcp.set_nodelay(true);
            Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(256)
                .build(tcp)
        };
        let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (acceptor, client, upstream) = (acceptor.clone(), client.clone(), upstream.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = service_fn(move |req: http::Request<Incoming>| {
                    let (client, upstream) = (client.clone(), upstream.clone());
                    async move { Ok::<_, Infallible>(forward(&client, &upstream, req).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
}

/// Passes one request through: same method, path, headers and body; the answer's
/// status, headers and body back.
async fn forward(
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    req: http::Request<Incoming>,
) -> http::Response<Full<Bytes>> {
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri = format!("{upstream}{path}").parse().expect("upstream uri");
    parts.uri = uri;
    parts.version = http::Version::HTTP_11;
    parts.headers.remove(http::header::HOST);
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let req = http::Request::from_parts(parts, Full::new(body));
    match client.request(req).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            let body = body
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            http::Response::from_parts(parts, Full::new(body))
        }
        Err(_) => http::Response::builder()
            .status(502)
            .body(Full::new(Bytes::new()))
            .expect("502"),
    }
}

/// `load __trivial-upstream LISTEN BODY_BYTES`: answers everything with a JSON body of
/// about that size.
pub fn upstream_main(args: &[String]) {
    let [listen, size] = args else {
        panic!("usage: __trivial-upstream LISTEN BODY_BYTES")
    };
    let size: usize = size.parse().expect("size");
    let filler = "x".repeat(size.saturating_sub(20));
    let body = Bytes::from(format!("{{\"value\":\"{filler}\"}}"));
    runtime().block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |_req: http::Request<Incoming>| {
                    let body = body.clone();
                    async move {
                        Ok::<_, Infallible>(
                            http::Response::builder()
                                .header(http::header::CONTENT_TYPE, "application/json")
                                .body(Full::new(body))
                                .expect("response"),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
}
