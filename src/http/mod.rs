//! The gateway's HTTP shell: listeners, TLS, router, bearer auth, handlers, the admin
//! port and graceful shutdown. Knows nothing of DataHub wire formats.
//!
//! Endpoints:
//! - SCIM listener (TLS; plain HTTP only with `--insecure-plain-http`), under both
//!   `/openapi/scim/v2` and `/scim/v2`: `Users`, `Users/{id}`, `Users/.search`,
//!   `Groups`, `Groups/{id}`, `Groups/.search`, `ServiceProviderConfig`,
//!   `ResourceTypes[/{name}]`, `Schemas[/{urn}]`, `.search`.
//! - Admin listener (plain HTTP): `/live`, `/ready`, `/metrics` ([`admin`]).
//!
//! With `--audit-log`, every DataHub write is also recorded by [`audit`].
//!
//! [`run`] is the one entry point for `main` and the tests: it takes bound listeners
//! and a shutdown future.

pub mod admin;
pub mod audit;
pub mod auth;
pub mod check;
pub mod conn;
pub mod devcerts;
pub mod handlers;
pub mod metrics;
pub mod response;
pub mod router;
pub mod server;
pub mod service;
pub mod throttle;
pub mod tls;

use std::future::Future;
use std::sync::Arc;

use tokio::sync::watch;

use crate::config::Config;
use crate::{datahub, provision};

pub use admin::Readiness;
pub use auth::Authenticator;
pub use metrics::Metrics;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The TLS certificate or key is unusable.
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    /// The DataHub client could not be built (bad URL, CA bundle).
    #[error("DataHub client: {0}")]
    Client(#[from] datahub::Error),
    /// A listener could not be used.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// The audit log could not be opened.
    #[error("audit log {target}: {source}")]
    AuditLog {
        /// The configured destination.
        target: String,
        /// Why it could not be opened.
        source: std::io::Error,
    },
}

/// Time admin connections (probes, scrapes) get to finish at shutdown.
const ADMIN_DRAIN: std::time::Duration = std::time::Duration::from_secs(1);

/// Already-bound listeners (tests bind `127.0.0.1:0`).
pub struct Listeners {
    /// The SCIM listener.
    pub scim: std::net::TcpListener,
    /// The admin listener.
    pub admin: std::net::TcpListener,
}

impl Listeners {
    /// Binds both addresses of `config`.
    pub fn bind(config: &Config) -> std::io::Result<Self> {
        Ok(Listeners {
            scim: std::net::TcpListener::bind(config.listen)?,
            admin: std::net::TcpListener::bind(config.admin_listen)?,
        })
    }
}

/// What every request handler can reach.
pub struct AppState {
    /// The configuration.
    pub config: Arc<Config>,
    /// Every metric.
    pub metrics: Arc<Metrics>,
    /// Bearer-token validation.
    pub auth: Authenticator,
    /// The readiness latch.
    pub readiness: Arc<Readiness>,
    /// The DataHub client (shared with the provisioner).
    pub client: datahub::Client,
    /// SCIM ⇄ DataHub, with its ID-mapping cache; one per running server.
    pub provisioner: provision::Provisioner,
    /// The in-flight body budget: one permit per byte of request body held.
    pub bodies: Arc<tokio::sync::Semaphore>,
}

/// The DataHub client configuration derived from `config`.
pub fn client_config(config: &Config) -> datahub::ClientConfig {
    let mut c = datahub::ClientConfig::new(config.gms.url.clone());
    c.connect_timeout = config.gms.connect_timeout;
    c.request_timeout = config.gms.request_timeout;
    c.ca_bundle = config.gms.ca_file.clone();
    c.max_concurrency = config.gms.max_concurrency;
    c.queue_timeout = config.gms.queue_timeout;
    c
}

/// Serves until `shutdown` completes, then drains: `/ready` turns 503, after
/// `shutdown_delay` the SCIM listener stops accepting, and in-flight requests get
/// `shutdown_grace` to finish.
pub async fn run(
    config: Config,
    listeners: Listeners,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let metrics = Arc::new(Metrics::new());
    let readiness = Arc::new(Readiness::default());
    let certs = match &config.tls {
        Some(files) => Some(Arc::new(tls::CertStore::load(files.clone(), &metrics)?)),
        None => {
            tracing::warn!("serving SCIM over plain HTTP (--insecure-plain-http)");
            None
        }
    };
    readiness.set_tls_loaded();
    let mut client = datahub::Client::new(client_config(&config))?.with_observer(metrics.clone());
    if let Some(target) = &config.audit_log {
        let log =
            audit::AuditLog::open(target, metrics.clone()).map_err(|source| Error::AuditLog {
                target: target.to_string(),
                source,
            })?;
        client = client.with_write_audit(Arc::new(log));
        tracing::info!(audit.log = %target, "audit trail of DataHub writes enabled");
    }
    let auth = Authenticator::new(
        client.clone(),
        config.token_cache_ttl,
        config.token_cache_failure_ttl,
        config.token_signing_key.clone(),
        config.auth_failure_limit,
        metrics.clone(),
    );
    let config = Arc::new(config);
    let state = Arc::new(AppState {
        config: config.clone(),
        metrics: metrics.clone(),
        auth,
        readiness: readiness.clone(),
        client: client.clone(),
        provisioner: provision::Provisioner::new(config.provision.clone(), client.clone()),
        bodies: Arc::new(tokio::sync::Semaphore::new(config.max_inflight_body_bytes)),
    });

    listeners.scim.set_nonblocking(true)?;
    listeners.admin.set_nonblocking(true)?;
    let scim = tokio::net::TcpListener::from_std(listeners.scim)?;
    let admin = tokio::net::TcpListener::from_std(listeners.admin)?;
    tracing::info!(
        scim.addr = %scim.local_addr()?,
        admin.addr = %admin.local_addr()?,
        tls = certs.is_some(),
        "datahub-scim listening"
    );

    let (stop_tx, stop_rx) = watch::channel(false);
    // The admin port outlives the SCIM listener so `/ready` reports the drain.
    let (admin_stop_tx, admin_stop_rx) = watch::channel(false);
    let scim_conns = conn::Tracker::new(
        "scim",
        config.max_connections,
        config.idle_timeout,
        metrics.clone(),
    );
    let admin_conns = conn::Tracker::new(
        "admin",
        server::ADMIN_MAX_CONNECTIONS,
        config.idle_timeout,
        metrics.clone(),
    );
    let mut background = tokio::task::JoinSet::new();
    background.spawn(admin::probe_gms(
        client,
        readiness.clone(),
        config.gms_probe_interval,
    ));
    if let Some(c) = &certs {
        background.spawn(c.clone().watch(config.tls_reload_interval, metrics.clone()));
    }
    let admin_task = tokio::spawn(server::admin_loop(
        admin,
        state.clone(),
        admin_conns.clone(),
        admin_stop_rx,
    ));
    let scim_task = tokio::spawn(server::scim_loop(
        scim,
        state.clone(),
        certs,
        scim_conns.clone(),
        stop_rx,
    ));

    shutdown.await;
    readiness.set_draining();
    if !config.shutdown_delay.is_zero() {
        tracing::info!(
            delay_s = config.shutdown_delay.as_secs_f64(),
            "shutdown requested: unready, still accepting during the shutdown delay"
        );
        tokio::time::sleep(config.shutdown_delay).await;
    }
    tracing::info!("shutting down: closing the SCIM listener, draining");
    let _ = stop_tx.send(true);
    let _ = scim_task.await;
    background.abort_all();
    let open = scim_conns.open();
    scim_conns.drain();
    match tokio::time::timeout(config.shutdown_grace, scim_conns.drained()).await {
        Ok(()) => tracing::info!(connections = open, "drained"),
        Err(_) => {
            tracing::warn!(
                grace_s = config.shutdown_grace.as_secs_f64(),
                "grace period over, closing remaining connections"
            );
            scim_conns.force_close();
        }
    }
    let _ = admin_stop_tx.send(true);
    let _ = admin_task.await;
    admin_conns.drain();
    if tokio::time::timeout(ADMIN_DRAIN, admin_conns.drained())
        .await
        .is_err()
    {
        admin_conns.force_close();
    }
    Ok(())
}
