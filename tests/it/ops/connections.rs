//! Connections (issue 9): idle connections are closed after the idle timeout
//! (HTTP/1.1 and HTTP/2), a connection that never finishes its TLS handshake after the
//! handshake timeout, slow headers and bodies are cut, the connection cap sheds idle connections and refuses when every
//! connection is busy while `/live` on the admin port still answers, the admin port
//! has its own budget, and the connection metrics move.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::harness::{sample, Gateway};

/// A rustls client trusting `ca_pem`, offering `alpn`.
pub fn tls_config(ca_pem: &str, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.expect("CA PEM")).expect("CA accepted");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(cfg)
}

/// A TCP connection to `to`, from `from` (a loopback address) when given.
pub async fn tcp(to: SocketAddr, from: Option<IpAddr>) -> TcpStream {
    let sock = tokio::net::TcpSocket::new_v4().expect("socket");
    if let Some(ip) = from {
        sock.bind(SocketAddr::new(ip, 0))
            .expect("bind source address");
    }
    sock.connect(to).await.expect("connect")
}

/// A TLS connection to the gateway's SCIM port (handshake done).
pub async fn tls(g: &Gateway, alpn: &[&[u8]], from: Option<IpAddr>) -> TlsStream<TcpStream> {
    let connector = tokio_rustls::TlsConnector::from(tls_config(&g.certs.ca_pem, alpn));
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    connector
        .connect(name, tcp(g.scim, from).await)
        .await
        .expect("TLS handshake")
}

/// Waits for the peer to close `s` (EOF or reset); how long it took, or `None` if it
/// stayed open for `within`.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(
    s: &mut S,
    within: Duration,
) -> Option<Duration> {
    let t0 = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(within.saturating_sub(t0.elapsed()), s.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(t0.elapsed()),
            Ok(Ok(_)) => continue,
        }
    }
}

async fn metrics(g: &Gateway) -> String {
    g.metrics().await
}

/// One GET over an already-open HTTP/1.1 TLS connection; its status. The connection
/// stays usable (its driver runs in the background).
async fn h1_get(
    stream: TlsStream<TcpStream>,
    path: &str,
    token: &str,
) -> (u16, tokio::task::JoinHandle<()>) {
    let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("h1 handshake");
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = hyper::Request::get(path)
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let resp = send.send_request(req).await.expect("response");
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    // Keep `send` alive with the driver: dropping it would close the connection.
    let keep = tokio::spawn(async move {
        let _send = send;
        std::future::pending::<()>().await;
    });
    let both = tokio::spawn(async move {
        let _ = driver.await;
        keep.abort();
    });
    (status, both)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http1_connections_are_closed_after_the_idle_timeout() {
    let g = Gateway::ready(&[("DATAHUB_SCIM_IDLE_TIMEOUT", "1s")]).await;
    let token = g.emu.admin_token();

    // Handshake done, nothing sent.
    let mut s = tls(&g, &[b"http/1.1"], None).await;
    let took = closed_within(&mut s, Duration::from_secs(10))
        .await
        .expect("closed by the idle timeout");
    assert!(took >= Duration::from_millis(800), "closed after {took:?}");

    // After a keep-alive request: closed one idle timeout after it.
    let s = tls(&g, &[b"http/1.1"], None).await;
    let t0 = Instant::now();
    let (status, driver) = h1_get(s, "/scim/v2/Users?count=1", &token).await;
    assert_eq!(status, 200);
    tokio::time::timeout(Duration::from_secs(10), driver)
        .await
        .expect("the server closed the idle keep-alive connection")
        .expect("join");
    assert!(t0.elapsed() >= Duration::from_millis(800));

    // A request slower than the idle timeout is not cut: the connection is busy.
    g.emu.faults().set_latency(Duration::from_millis(1500));
    let s = tls(&g, &[b"http/1.1"], None).await;
    let (status, _driver) = h1_get(s, "/scim/v2/Users?count=1", &token).await;
    assert_eq!(
        status, 200,
        "served although it took longer than the idle timeout"
    );
    g.emu.faults().clear();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_http2_connections_get_goaway_and_are_closed() {
    let g = Gateway::ready(&[("DATAHUB_SCIM_IDLE_TIMEOUT", "1s")]).await;
    let token = g.emu.admin_token();
    // Preface and SETTINGS only (what the hostile tester held open for 185 s).
    let s = tls(&g, &[b"h2"], None).await;
    assert_eq!(s.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(s))
            .await
            .expect("h2 handshake");
    let t0 = Instant::now();
    let driver = tokio::spawn(conn);
    // One request first: the idle timer starts when it ends.
    let req = hyper::Request::get("https://localhost/scim/v2/Users?count=1")
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let resp = send.send_request(req).await.expect("h2 response");
    assert_eq!(resp.status(), 200);
    let _ = resp.into_body().collect().await;
    tokio::time::timeout(Duration::from_secs(10), driver)
        .await
        .expect("the server closed the idle h2 connection")
        .expect("join")
        .ok();
    assert!(t0.elapsed() >= Duration::from_millis(800));
    assert!(send.is_closed() || send.ready().await.is_err());

    // No request at all.
    let s = tls(&g, &[b"h2"], None).await;
    let (_send, conn) = hyper::client::conn::http2::handshake::<_, _, Full<Bytes>>(
        TokioExecutor::new(),
        TokioIo::new(s),
    )
    .await
    .expect("h2 handshake");
    tokio::time::timeout(Duration::from_secs(10), conn)
        .await
        .expect("closed without any request")
        .ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_that_never_finishes_its_tls_handshake_is_closed() {
    let g = Gateway::ready(&[
        ("DATAHUB_SCIM_HANDSHAKE_TIMEOUT", "1s"),
        ("DATAHUB_SCIM_IDLE_TIMEOUT", "60s"),
    ])
    .await;
    // Connected, no ClientHello.
    let mut s = tcp(g.scim, None).await;
    let took = closed_within(&mut s, Duration::from_secs(10))
        .await
        .expect("closed by the handshake timeout");
    assert!(took >= Duration::from_millis(800), "{took:?}");
    // Half a ClientHello.
    let mut s = tcp(g.scim, None).await;
    s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("write");
    assert!(closed_within(&mut s, Duration::from_secs(10))
        .await
        .is_some());
    assert_eq!(
        sample(
            &metrics(&g).await,
            "datahub_scim_connections_open{listener=\"scim\"}"
        ),
        Some(0.0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_sheds_idle_connections_refuses_when_all_are_busy_and_live_still_answers() {
    let g = Gateway::ready(&[
        ("DATAHUB_SCIM_MAX_CONNECTIONS", "3"),
        ("DATAHUB_SCIM_IDLE_TIMEOUT", "60s"),
    ])
    .await;
    let token = g.emu.admin_token();
    let m = metrics(&g).await;
    assert_eq!(
        sample(&m, "datahub_scim_connections_open{listener=\"scim\"}"),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &m,
            "datahub_scim_connections_refused_total{listener=\"scim\"}"
        ),
        Some(0.0)
    );

    // Three idle connections fill the listener.
    let mut first = tls(&g, &[b"http/1.1"], None).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let _second = tls(&g, &[b"http/1.1"], None).await;
    let _third = tls(&g, &[b"http/1.1"], None).await;
    assert_eq!(
        sample(
            &metrics(&g).await,
            "datahub_scim_connections_open{listener=\"scim\"}"
        ),
        Some(3.0)
    );
    // A fourth gets in: the longest-idle one is closed for it.
    let fourth = tls(&g, &[b"http/1.1"], None).await;
    closed_within(&mut first, Duration::from_secs(5))
        .await
        .expect("the longest-idle connection was shed");
    let (status, _d4) = h1_get(fourth, "/scim/v2/Users?count=1", &token).await;
    assert_eq!(status, 200);
    let m = metrics(&g).await;
    assert_eq!(
        sample(&m, "datahub_scim_connections_shed_total{listener=\"scim\"}"),
        Some(1.0)
    );

    // Every connection busy (GMS answers after 1.5 s): the next one is refused at once.
    drop(_second);
    drop(_third);
    tokio::time::sleep(Duration::from_millis(200)).await;
    g.emu.faults().set_latency(Duration::from_millis(1500));
    let mut busy = Vec::new();
    for _ in 0..3 {
        let s = tls(&g, &[b"http/1.1"], None).await;
        let token = token.clone();
        busy.push(tokio::spawn(async move {
            h1_get(s, "/scim/v2/Users?count=1", &token).await.0
        }));
    }
    // Wait until the three requests are inside the gateway.
    for _ in 0..200 {
        if sample(&metrics(&g).await, "datahub_scim_requests_in_flight") == Some(3.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        sample(&metrics(&g).await, "datahub_scim_requests_in_flight"),
        Some(3.0)
    );
    let connector = tokio_rustls::TlsConnector::from(tls_config(&g.certs.ca_pem, &[b"http/1.1"]));
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    let refused = tokio::time::timeout(
        Duration::from_secs(2),
        connector.connect(name, tcp(g.scim, None).await),
    )
    .await
    .expect("refused at once, not left hanging");
    assert!(refused.is_err(), "no TLS session for a refused connection");
    // The admin port has its own budget: /live answers.
    assert_eq!(g.admin_get("/live").await.0, 200);
    let m = metrics(&g).await;
    assert_eq!(
        sample(
            &m,
            "datahub_scim_connections_refused_total{listener=\"scim\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "datahub_scim_connections_open{listener=\"scim\"}"),
        Some(3.0)
    );
    for b in busy {
        assert_eq!(b.await.expect("join"), 200, "busy connections were not cut");
    }
    g.emu.faults().clear();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_port_has_its_own_budget() {
    let g = Gateway::ready(&[("DATAHUB_SCIM_IDLE_TIMEOUT", "60s")]).await;
    // Fill the admin listener with idle connections: the next probe still gets in.
    let mut held = Vec::new();
    for _ in 0..datahub_scim::http::server::ADMIN_MAX_CONNECTIONS {
        held.push(tcp(g.admin, None).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(g.admin_get("/live").await.0, 200);
    let m = metrics(&g).await;
    assert!(
        sample(
            &m,
            "datahub_scim_connections_shed_total{listener=\"admin\"}"
        )
        .is_some_and(|v| v >= 1.0),
        "{m}"
    );
    assert!(
        sample(&m, "datahub_scim_connections_open{listener=\"admin\"}")
            .is_some_and(|v| v <= datahub_scim::http::server::ADMIN_MAX_CONNECTIONS as f64 + 1.0)
    );
    // SCIM is untouched by the admin port's load.
    assert_eq!(
        sample(&m, "datahub_scim_connections_shed_total{listener=\"scim\"}"),
        Some(0.0)
    );
}

/// Slow clients (slowloris): request headers trickling in are cut at the handshake
/// timeout, a body trickling in at the request deadline (504, connection closed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_slow_bodies_are_cut() {
    let g = Gateway::ready(&[
        ("DATAHUB_SCIM_HANDSHAKE_TIMEOUT", "1s"),
        ("DATAHUB_SCIM_REQUEST_DEADLINE", "1s"),
        ("DATAHUB_SCIM_IDLE_TIMEOUT", "60s"),
    ])
    .await;
    let token = g.emu.admin_token();
    // Headers, one byte every 200 ms.
    let s = tls(&g, &[b"http/1.1"], None).await;
    let (mut r, mut w) = tokio::io::split(s);
    let trickle = tokio::spawn(async move {
        for b in b"GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if w.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let took = closed_within(&mut r, Duration::from_secs(10))
        .await
        .expect("cut by the header timeout");
    trickle.abort();
    assert!(took < Duration::from_secs(5), "{took:?}");

    // A body, one byte every 200 ms, from an authenticated client.
    let s = tls(&g, &[b"http/1.1"], None).await;
    let (mut r, mut w) = tokio::io::split(s);
    let head = format!(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/scim+json\r\nContent-Length: 1000\r\n\r\n"
    );
    w.write_all(head.as_bytes()).await.expect("head");
    let trickle = tokio::spawn(async move {
        loop {
            if w.write_all(b" ").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), r.read(&mut buf))
        .await
        .expect("an answer at the deadline")
        .expect("read");
    let answer = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 504"), "{answer}");
    assert!(answer.contains("retry-after:"), "{answer}");
    assert!(answer.contains("connection: close"), "{answer}");
    assert!(closed_within(&mut r, Duration::from_secs(5))
        .await
        .is_some());
    trickle.abort();
}
