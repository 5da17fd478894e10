//! Request bodies and authentication (issue 9): the token is checked before a byte of
//! the body is read (401 at once, the connection closed when the body is left
//! unread), every body in flight together stays within a memory budget (503 +
//! `Retry-After` beyond), and forged-token bursts are limited per client address (429
//! + `Retry-After`) without touching other clients.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use jsonwebtoken::{encode, EncodingKey, Header};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::connections::tls;
use crate::harness::{sample, Gateway};

/// The head of a raw HTTP/1.1 answer: status and lower-cased headers, read until the
/// blank line (the body, if any, is left).
async fn read_head<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> (u16, Vec<(String, String)>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut byte))
            .await
            .expect("an answer within 5 s")
            .expect("read");
        assert!(
            n > 0,
            "closed before an answer: {}",
            String::from_utf8_lossy(&buf)
        );
        buf.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&buf).to_string();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Reads until the server closes (EOF or reset) within `within`.
async fn closes(s: &mut TlsStream<TcpStream>, within: Duration) -> bool {
    let mut buf = [0u8; 4096];
    let t0 = Instant::now();
    loop {
        match tokio::time::timeout(within.saturating_sub(t0.elapsed()), s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

fn post_head(len: Option<usize>, token: Option<&str>, extra: &str) -> String {
    let mut h = String::from(
        "POST /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/scim+json\r\n",
    );
    match len {
        Some(n) => h.push_str(&format!("Content-Length: {n}\r\n")),
        None => h.push_str("Transfer-Encoding: chunked\r\n"),
    }
    if let Some(t) = token {
        h.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    h.push_str(extra);
    h.push_str("\r\n");
    h
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unauthenticated_body_is_never_read_401_at_once_and_the_connection_closes() {
    let g = Gateway::ready(&[]).await;
    // 1 MB announced, nothing of it sent: the 401 comes without waiting for it.
    for (extra, what) in [
        ("", "no Authorization"),
        ("Authorization: Bearer not-a-jwt\r\n", "a malformed token"),
        ("Expect: 100-continue\r\n", "Expect: 100-continue"),
    ] {
        let mut s = tls(&g, &[b"http/1.1"], None).await;
        let t0 = Instant::now();
        s.write_all(post_head(Some(1_000_000), None, extra).as_bytes())
            .await
            .expect("write head");
        let (status, h) = read_head(&mut s).await;
        assert_eq!(status, 401, "{what}");
        assert!(
            t0.elapsed() < Duration::from_secs(2),
            "{what}: {:?}",
            t0.elapsed()
        );
        assert_eq!(header(&h, "connection"), Some("close"), "{what}");
        assert!(header(&h, "www-authenticate").is_some());
        assert!(
            closes(&mut s, Duration::from_secs(5)).await,
            "{what}: closed"
        );
    }
    // Chunked, likewise.
    let mut s = tls(&g, &[b"http/1.1"], None).await;
    s.write_all(post_head(None, None, "").as_bytes())
        .await
        .expect("write");
    s.write_all(b"10000\r\n").await.expect("write");
    let (status, h) = read_head(&mut s).await;
    assert_eq!(status, 401);
    assert_eq!(header(&h, "connection"), Some("close"));
    // A GET without a body keeps its connection.
    let mut s = tls(&g, &[b"http/1.1"], None).await;
    s.write_all(b"GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let (status, h) = read_head(&mut s).await;
    assert_eq!(status, 401);
    assert_eq!(header(&h, "connection"), None);
    assert_eq!(calls(&g, "graphql.me"), 0, "no token reached GMS");
    // Declared too large: 413 before anything, and closed too.
    let mut s = tls(&g, &[b"http/1.1"], None).await;
    let token = g.emu.admin_token();
    s.write_all(post_head(Some(5_000_000), Some(&token), "").as_bytes())
        .await
        .expect("write");
    let (status, h) = read_head(&mut s).await;
    assert_eq!(status, 413);
    assert_eq!(header(&h, "connection"), Some("close"));
}

fn calls(g: &Gateway, endpoint: &str) -> u64 {
    g.emu.call_counts().get(endpoint).copied().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_in_flight_share_one_memory_budget() {
    // Each body at most 4 KiB; 8 KiB for all of them together.
    let g = Gateway::ready(&[
        ("DATAHUB_SCIM_MAX_BODY_BYTES", "4096"),
        ("DATAHUB_SCIM_MAX_INFLIGHT_BODY_BYTES", "8192"),
    ])
    .await;
    let token = g.emu.admin_token();
    // Two authenticated requests announce 4 KiB each and send only part of it.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = tls(&g, &[b"http/1.1"], None).await;
        s.write_all(post_head(Some(4096), Some(&token), "").as_bytes())
            .await
            .expect("write");
        s.write_all(&[b' '; 100]).await.expect("write");
        held.push(s);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A third does not fit: 503 + Retry-After at once, connection closed.
    let mut s = tls(&g, &[b"http/1.1"], None).await;
    s.write_all(post_head(Some(2000), Some(&token), "").as_bytes())
        .await
        .expect("write");
    let (status, h) = read_head(&mut s).await;
    assert_eq!(status, 503);
    assert!(header(&h, "retry-after").is_some_and(|v| v.parse::<u64>().is_ok()));
    assert_eq!(header(&h, "connection"), Some("close"));
    // A chunked one is charged as it arrives: refused as soon as it does not fit.
    let mut s = tls(&g, &[b"http/1.1"], None).await;
    s.write_all(post_head(None, Some(&token), "").as_bytes())
        .await
        .expect("write");
    s.write_all(b"40\r\n").await.expect("write");
    s.write_all(&[b' '; 64]).await.expect("write");
    s.write_all(b"\r\n").await.expect("write");
    let (status, _) = read_head(&mut s).await;
    assert_eq!(status, 503);
    // Once the held bodies are gone, requests fit again.
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let body = br#"{"userName":"budget@example.com"}"#;
    let mut s = tls(&g, &[b"http/1.1"], None).await;
    s.write_all(post_head(Some(body.len()), Some(&token), "").as_bytes())
        .await
        .expect("write");
    s.write_all(body).await.expect("write");
    let (status, _) = read_head(&mut s).await;
    assert_eq!(status, 201);
}

/// A well-formed DataHub-looking token nobody issued (no signing key is configured,
/// so only GMS can tell).
fn forged(i: usize) -> String {
    let claims = serde_json::json!({"version": "2", "type": "PERSONAL", "actorType": "USER",
        "actorId": format!("mallory{i}"), "sub": format!("mallory{i}")});
    encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(b"not-datahub's-key-not-datahub's-key"),
    )
    .expect("encode")
}

/// `GET /scim/v2/Users` from `from` with `token` on a fresh connection; status and
/// `Retry-After`.
async fn get_from(g: &Gateway, from: IpAddr, token: &str) -> (u16, Option<String>) {
    let mut s = tls(g, &[b"http/1.1"], Some(from)).await;
    s.write_all(
        format!(
            "GET /scim/v2/Users?count=1 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .expect("write");
    let (status, h) = read_head(&mut s).await;
    (status, header(&h, "retry-after").map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_token_bursts_are_limited_per_address_without_affecting_others() {
    let g = Gateway::ready(&[("DATAHUB_SCIM_AUTH_FAILURE_LIMIT", "5")]).await;
    let good = g.emu.admin_token();
    let attacker: IpAddr = "127.0.0.1".parse().expect("ip");
    let idp: IpAddr = "127.0.0.2".parse().expect("ip");
    // The IdP, from the attacker's address too (a shared egress), has worked before.
    assert_eq!(get_from(&g, attacker, &good).await.0, 200);
    let me_before = calls(&g, "graphql.me");
    let mut statuses = Vec::new();
    for i in 0..12 {
        statuses.push(get_from(&g, attacker, &forged(i)).await);
    }
    let unauthorized = statuses.iter().filter(|(s, _)| *s == 401).count();
    let limited: Vec<_> = statuses.iter().filter(|(s, _)| *s == 429).collect();
    assert_eq!(unauthorized, 5, "{statuses:?}");
    assert_eq!(limited.len(), 7, "{statuses:?}");
    assert!(limited.iter().all(|(_, ra)| ra
        .as_deref()
        .is_some_and(|v| v.parse::<u64>().is_ok_and(|s| s > 0))));
    assert_eq!(
        calls(&g, "graphql.me") - me_before,
        5,
        "past the limit a forged token costs no GMS call"
    );
    // The known-good token still works from that address, and another address is not
    // affected, forged tokens included.
    assert_eq!(get_from(&g, attacker, &good).await.0, 200);
    assert_eq!(get_from(&g, idp, &good).await.0, 200);
    assert_eq!(get_from(&g, idp, &forged(99)).await.0, 401);
    let m = g.metrics().await;
    assert!(
        sample(
            &m,
            "datahub_scim_auth_total{outcome=\"rate_limited\",cached=\"false\"}"
        ) == Some(7.0),
        "{m}"
    );
}

/// A 500 KB request head over HTTP/1.1 is answered `431` at once (it used to get no
/// answer and a close after the header timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_request_head_is_431() {
    let g = Gateway::ready(&[]).await;
    let s = tls(&g, &[b"http/1.1"], None).await;
    let big = "a".repeat(500 * 1024);
    let t0 = Instant::now();
    let head = format!("GET /scim/v2/Users HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\r\n");
    let (mut r, mut w) = tokio::io::split(s);
    // The server stops reading once it has answered: write while reading.
    let writer = tokio::spawn(async move {
        let _ = w.write_all(head.as_bytes()).await;
    });
    let (status, _) = read_head(&mut r).await;
    writer.abort();
    assert_eq!(status, 431);
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}
