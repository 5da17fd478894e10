//! A DataHub GMS emulator: a real HTTP server (hyper 1) on loopback that speaks the GMS
//! endpoints the gateway uses — token auth with revocation, policies, GraphQL
//! (`/api/graphql`, validated against the upstream schema subset in `schema.graphql`),
//! Rest.li (`/aspects`, `/entitiesV2`, `/entities`), `/config`, `/health` — as a chosen
//! DataHub release does ([`Release`]: 0.15.0 … 1.7.0), written from DataHub's source
//! (each behaviour cites its file in `docs/emulator.md`), traps included: phantom key
//! aspects, silent drops, the real 422 layout, index lag, the 10,000-hit search window.
//! It shares nothing with the client in `crate::datahub` but the wire, so tests catch a
//! client that agrees with the emulator but not with DataHub. Tests drive it through
//! [`Emulator`]: seed fixtures, grant privileges, read the primary store, inspect the
//! call log (with the search-engine queries each call cost) and flip [`Faults`].

mod auth;
mod faults;
mod fields;
mod graphql;
mod index;
mod ingest;
mod java;
mod patch;
mod policy;
mod profile;
mod restli;
mod search;
mod server;
mod state;
mod store;
mod validation;

pub use faults::Faults;
pub use profile::{Release, DEFAULT_RELEASE};

use serde_json::{json, Value};
use state::{State, Write};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Emulator settings.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// HS256 signing key (`DATAHUB_TOKEN_SERVICE_SIGNING_KEY`), used as UTF-8 bytes; ≥ 32 chars.
    pub signing_key: String,
    /// Token hash salt (`DATAHUB_TOKEN_SERVICE_SALT`).
    pub salt: String,
    /// Delay before an unsynced write becomes visible to search, list and relationships.
    pub index_lag: Duration,
    /// Username of the admin actor whose PAT [`Emulator::admin_token`] returns.
    pub admin_username: String,
    /// The DataHub release emulated (`1.7.0`, `0.15.0`, …; see
    /// `docs/emulator.md#release-profiles`).
    pub datahub_version: String,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        let rnd = || uuid::Uuid::new_v4().simple().to_string();
        EmulatorConfig {
            signing_key: format!("{}{}", rnd(), rnd()),
            salt: rnd(),
            index_lag: Duration::ZERO,
            admin_username: "datahub".into(),
            datahub_version: DEFAULT_RELEASE.into(),
        }
    }
}

/// One logged request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// HTTP method.
    pub method: String,
    /// Request path (with query).
    pub path: String,
    /// Endpoint name, e.g. `restli.ingestProposalBatch`, `graphql.me`.
    pub endpoint: String,
    /// Status answered; 0 when the connection was dropped or stalled.
    pub status: u16,
    /// What a write request asked for, as `(urn, aspect)` pairs in request order:
    /// one per proposal of `ingestProposal[Batch]`, `(urn, "")` for
    /// `entities?action=delete`; empty for every other call. Recorded whatever
    /// the answer.
    pub writes: Vec<(String, String)>,
    /// Search-engine queries the request cost (what Elasticsearch would have run).
    pub engine_queries: u64,
}

/// Shared emulator state.
pub(crate) struct Inner {
    pub(crate) key: String,
    pub(crate) salt: String,
    pub(crate) state: Mutex<State>,
    pub(crate) faults: Faults,
    pub(crate) calls: Mutex<Vec<Call>>,
    /// The release emulated.
    pub(crate) release: Release,
    addr: SocketAddr,
    admin_token: String,
    admin_username: String,
    stop: tokio::sync::watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Inner {
    pub(crate) fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub(crate) fn calls(&self) -> std::sync::MutexGuard<'_, Vec<Call>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Handle on a running emulator (cheap to clone).
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

fn seed_user(state: &mut State, username: &str, admin: bool) -> String {
    let urn = format!("urn:li:corpuser:{username}");
    let w = |aspect: &str, value: Value| Write {
        urn: urn.clone(),
        aspect: aspect.into(),
        value,
        actor: "urn:li:corpuser:__datahub_system".into(),
        sync: true,
        system_metadata: Value::Null,
    };
    if state.value(&urn, "corpUserInfo").is_none() {
        // DataHub's root user is bootstrapped as a system user
        // (metadata-service/configuration/.../bootstrap_mcps/root-user.yaml).
        let info = if username == "datahub" {
            json!({"active": true, "displayName": "DataHub", "title": "DataHub", "system": true})
        } else {
            json!({"active": true, "displayName": username})
        };
        state.write(w("corpUserInfo", info));
    }
    if admin {
        state.write(w("roleMembership", json!({"roles": [policy::ADMIN_ROLE]})));
    }
    urn
}

impl Emulator {
    /// Starts serving on `listener` in a background task.
    pub async fn start(
        cfg: EmulatorConfig,
        listener: tokio::net::TcpListener,
    ) -> std::io::Result<Emulator> {
        if cfg.signing_key.len() < 32 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "signing key must be at least 32 bytes (JJWT HS256 rule)",
            ));
        }
        let release = Release::parse(&cfg.datahub_version)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let addr = listener.local_addr()?;
        let mut state = State::default();
        state.index.lag = cfg.index_lag;
        for role in ["Admin", "Editor", "Reader"] {
            state.write(Write {
                urn: format!("urn:li:dataHubRole:{role}"),
                aspect: "dataHubRoleInfo".into(),
                value: json!({"name": role, "description": format!("{role} role"), "editable": false}),
                actor: "urn:li:corpuser:__datahub_system".into(),
                sync: true,
                system_metadata: Value::Null,
            });
        }
        policy::seed(&mut state);
        let admin_urn = seed_user(&mut state, &cfg.admin_username, true);
        let minted = auth::mint(
            &mut state,
            &cfg.signing_key,
            &cfg.salt,
            &cfg.admin_username,
            "PERSONAL",
            &admin_urn,
            "emulator admin",
            None,
            None,
        );
        let (stop, stop_rx) = tokio::sync::watch::channel(false);
        let inner = Arc::new(Inner {
            key: cfg.signing_key,
            salt: cfg.salt,
            state: Mutex::new(state),
            faults: Faults::default(),
            calls: Mutex::new(Vec::new()),
            release,
            addr,
            admin_token: minted.token,
            admin_username: cfg.admin_username,
            stop,
            task: Mutex::new(None),
        });
        let task = tokio::spawn(server::serve(inner.clone(), listener, stop_rx));
        *inner.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Ok(Emulator { inner })
    }

    /// The DataHub release emulated.
    pub fn release(&self) -> Release {
        self.inner.release.clone()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// A registered PAT (version 2, PERSONAL, no expiry) of the admin actor.
    pub fn admin_token(&self) -> String {
        self.inner.admin_token.clone()
    }

    /// Username of the admin actor.
    pub fn admin_username(&self) -> String {
        self.inner.admin_username.clone()
    }

    /// Creates the corpuser (with the Admin role if `admin`) and returns a registered PAT.
    pub fn create_user_token(&self, username: &str, admin: bool) -> String {
        let mut st = self.inner.state();
        let urn = seed_user(&mut st, username, admin);
        let m = auth::mint(
            &mut st,
            &self.inner.key,
            &self.inner.salt,
            username,
            "PERSONAL",
            &urn,
            "emulator test token",
            None,
            None,
        );
        m.token
    }

    /// Changes the index lag for later writes.
    pub fn set_index_lag(&self, lag: Duration) {
        self.inner.state().index.lag = lag;
    }

    /// The fault switches.
    pub fn faults(&self) -> Faults {
        self.inner.faults.clone()
    }

    /// The request log, oldest first.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.calls().clone()
    }

    /// Empties the request log.
    pub fn reset_calls(&self) {
        self.inner.calls().clear();
    }

    /// Number of logged calls per endpoint name.
    pub fn call_counts(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for c in self.inner.calls().iter() {
            *out.entry(c.endpoint.clone()).or_insert(0) += 1;
        }
        out
    }

    /// Search-engine queries run since the start or the last [`Emulator::reset_calls`]
    /// (`CacheableSearcher` batches, scroll pages, list queries), as Elasticsearch would
    /// have received them.
    pub fn engine_queries(&self) -> u64 {
        self.inner.calls().iter().map(|c| c.engine_queries).sum()
    }

    /// Creates an ACTIVE PLATFORM `dataHubPolicy` granting `privileges` (e.g.
    /// `"UPDATE_USERS"`, `"EDIT_GROUP_MEMBERS"`) to `username`; returns the policy urn.
    pub fn grant(&self, username: &str, privileges: &[&str]) -> String {
        let mut st = self.inner.state();
        policy::grant(&mut st, &format!("urn:li:corpuser:{username}"), privileges)
    }

    /// Seeds an aspect as DataHub stored it before aspect versions existed: no
    /// `systemMetadata.version` (reads show none; `If-Version-Match` compares it as "1").
    pub fn put_legacy_aspect(&self, urn: &str, aspect: &str, value: Value) {
        self.inner.state().write_legacy(Write {
            urn: urn.into(),
            aspect: aspect.into(),
            value,
            actor: "urn:li:corpuser:__datahub_system".into(),
            sync: true,
            system_metadata: Value::Null,
        });
    }

    /// Primary-store value of an aspect.
    pub fn aspect(&self, urn: &str, aspect: &str) -> Option<Value> {
        self.inner.state().value(urn, aspect).cloned()
    }

    /// Primary-store version of an aspect.
    pub fn aspect_version(&self, urn: &str, aspect: &str) -> Option<u64> {
        self.inner.state().get(urn, aspect).map(|r| r.version)
    }

    /// Seeds an aspect (no validation beyond the store rules), indexed at once.
    pub fn put_aspect(&self, urn: &str, aspect: &str, value: Value) {
        self.inner.state().write(Write {
            urn: urn.into(),
            aspect: aspect.into(),
            value,
            actor: "urn:li:corpuser:__datahub_system".into(),
            sync: true,
            system_metadata: Value::Null,
        });
    }

    /// Whether the entity's key aspect exists in the primary store.
    pub fn entity_exists(&self, urn: &str) -> bool {
        self.inner.state().exists(urn)
    }

    /// Stops serving (open connections are closed).
    pub async fn shutdown(self) {
        let _ = self.inner.stop.send(true);
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = task {
            let _ = t.await;
        }
    }
}

/// Runs an emulator of DataHub `datahub_version` on `listen` until `shutdown` resolves;
/// writes the admin PAT to `token_file` once it is ready to serve.
pub async fn run_standalone(
    listen: SocketAddr,
    token_file: std::path::PathBuf,
    datahub_version: String,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let cfg = EmulatorConfig {
        datahub_version,
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(cfg, listener).await?;
    tokio::fs::write(&token_file, emu.admin_token()).await?;
    tracing::info!(url = %emu.base_url(), datahub.release = %emu.release(), "DataHub GMS emulator listening");
    shutdown.await;
    emu.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests;
