//! Accept loops. The SCIM listener speaks TLS (HTTP/1.1 and h2 via ALPN) unless plain
//! HTTP was asked for; the admin listener is always plain HTTP/1.1. Every connection is
//! watched by a `GracefulShutdown` so shutdown can stop accepting and drain.

use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::tls::CertStore;
use super::{admin, service, AppState};

/// Time allowed for a TLS handshake or for request headers to arrive.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

fn builder() -> auto::Builder<TokioExecutor> {
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT);
    b.http2().timer(TokioTimer::new());
    b
}

/// Accepts SCIM connections until `stop` flips; connections are registered with
/// `graceful`.
pub async fn scim_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    certs: Option<Arc<CertStore>>,
    graceful: Arc<GracefulShutdown>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (stream, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let watcher = graceful.watcher();
        let acceptor = certs
            .as_ref()
            .map(|c| tokio_rustls::TlsAcceptor::from(c.current()));
        tokio::spawn(async move {
            let svc = service_fn(move |req| service::handle(state.clone(), req));
            let b = builder();
            let result = match acceptor {
                Some(acceptor) => {
                    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "tls handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("tls handshake timed out");
                            return;
                        }
                    };
                    watcher
                        .watch(b.serve_connection(TokioIo::new(tls), svc).into_owned())
                        .await
                }
                None => {
                    watcher
                        .watch(b.serve_connection(TokioIo::new(stream), svc).into_owned())
                        .await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    tracing::info!("scim listener closed");
}

/// Accepts admin connections until `stop` flips.
pub async fn admin_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (stream, _) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => break,
        };
        let state = state.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| admin::handle(state.clone(), req));
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HANDSHAKE_TIMEOUT)
                .serve_connection(TokioIo::new(stream), svc);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "admin connection ended with an error");
            }
        });
    }
}
