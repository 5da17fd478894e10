//! Accept loops. The SCIM listener speaks TLS (HTTP/1.1 and h2 via ALPN) unless plain
//! HTTP was asked for; the admin listener is always plain HTTP/1.1. Every connection
//! is admitted by its listener's [`Tracker`] (connection cap, idle timeout, drain at
//! shutdown; see [`super::conn`]) before anything else happens on it.
//!
//! Per-connection limits, all chosen so that a client that has not authenticated
//! costs little: the TLS handshake and a request's headers must arrive within the
//! handshake timeout; request headers are at most [`MAX_HEADER_BYTES`] (HTTP/1.1: 431
//! beyond); HTTP/2 connections carry at most [`H2_MAX_STREAMS`] streams, buffer at
//! most one flow-control window ([`H2_WINDOW`]) of unread body data, and are pinged
//! every [`H2_PING_INTERVAL`] so dead peers are noticed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::conn::{Slot, Tracker};
use super::tls::CertStore;
use super::{admin, service, AppState};

/// Largest request head (request line and headers) read, in bytes.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Concurrent HTTP/2 streams per connection.
pub const H2_MAX_STREAMS: u32 = 100;
/// HTTP/2 stream and connection flow-control window (the protocol's initial value):
/// what a client can make us buffer before we read.
pub const H2_WINDOW: u32 = 65_535;
/// HTTP/2 keep-alive: a PING this often …
pub const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
/// … must be acknowledged within this, or the connection is closed.
pub const H2_PING_TIMEOUT: Duration = Duration::from_secs(20);
/// Most open connections on the admin listener: its own budget, so `/live` and
/// `/ready` answer whatever load the SCIM listener carries.
pub const ADMIN_MAX_CONNECTIONS: usize = 64;

fn builder(handshake: Duration) -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(handshake)
        .max_buf_size(MAX_HEADER_BYTES);
    b.http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT)
        .max_concurrent_streams(H2_MAX_STREAMS)
        .initial_stream_window_size(H2_WINDOW)
        .initial_connection_window_size(H2_WINDOW)
        .max_header_list_size(MAX_HEADER_BYTES as u32);
    b
}

/// Waits for the next connection; `None` once `stop` flips.
async fn next(
    listener: &TcpListener,
    stop: &mut watch::Receiver<bool>,
    what: &'static str,
) -> Option<(tokio::net::TcpStream, SocketAddr)> {
    loop {
        tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => return Some(c),
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(listener = what, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.changed() => return None,
        }
    }
}

/// Accepts SCIM connections until `stop` flips.
pub async fn scim_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    certs: Option<Arc<CertStore>>,
    conns: Arc<Tracker>,
    mut stop: watch::Receiver<bool>,
) {
    while let Some((stream, peer)) = next(&listener, &mut stop, "scim").await {
        // At the cap with every connection busy: closed at once, before any TLS work.
        let Ok(slot) = conns.admit() else { continue };
        let _ = stream.set_nodelay(true);
        let acceptor = certs
            .as_ref()
            .map(|c| tokio_rustls::TlsAcceptor::from(c.current()));
        tokio::spawn(serve_scim(stream, peer, state.clone(), acceptor, slot));
    }
    tracing::info!("scim listener closed");
}

async fn serve_scim(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    state: Arc<AppState>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    slot: Slot,
) {
    let handshake = state.config.handshake_timeout;
    let slot = Arc::new(slot);
    let svc = {
        let slot = slot.clone();
        service_fn(move |req| {
            let guard = slot.request();
            let served = service::handle(state.clone(), req, Some(peer));
            async move {
                let r = served.await;
                drop(guard);
                r
            }
        })
    };
    let b = builder(handshake);
    match acceptor {
        Some(acceptor) => {
            let tls = tokio::select! {
                r = tokio::time::timeout(handshake, acceptor.accept(stream)) => match r {
                    Ok(Ok(s)) => s,
                    Ok(Err(e)) => {
                        tracing::debug!(error = %e, "tls handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!("tls handshake timed out");
                        return;
                    }
                },
                _ = slot.shed() => return,
            };
            let conn = b.serve_connection(TokioIo::new(tls), svc).into_owned();
            slot.serve(conn, |c| c.graceful_shutdown()).await;
        }
        None => {
            let conn = b.serve_connection(TokioIo::new(stream), svc).into_owned();
            slot.serve(conn, |c| c.graceful_shutdown()).await;
        }
    }
}

/// Accepts admin connections until `stop` flips.
pub async fn admin_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    conns: Arc<Tracker>,
    mut stop: watch::Receiver<bool>,
) {
    while let Some((stream, _)) = next(&listener, &mut stop, "admin").await {
        let Ok(slot) = conns.admit() else { continue };
        let state = state.clone();
        tokio::spawn(async move {
            let handshake = state.config.handshake_timeout;
            let slot = Arc::new(slot);
            let svc = {
                let slot = slot.clone();
                service_fn(move |req| {
                    let guard = slot.request();
                    let served = admin::handle(state.clone(), req);
                    async move {
                        let r = served.await;
                        drop(guard);
                        r
                    }
                })
            };
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(handshake)
                .max_buf_size(MAX_HEADER_BYTES)
                .serve_connection(TokioIo::new(stream), svc);
            slot.serve(conn, |c| c.graceful_shutdown()).await;
        });
    }
}
