//! Provision-level flows against the GMS emulator, through the real client:
//! the resulting DataHub aspects and the exact upstream calls per operation.

mod groups;
mod large_groups;
mod lists;
mod renames;
mod scale;
mod search;
mod user_lifecycle;
mod user_rules;
mod users;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{Ctx, DeletePolicy, ProvisionConfig, Provisioner, UsernameSource};
use crate::datahub::{Client, ClientConfig};
use crate::emulator::{Emulator, EmulatorConfig};
use crate::scim::ListQuery;

pub(crate) const BASE: &str = "https://scim.test/scim/v2";

pub(crate) fn config() -> ProvisionConfig {
    ProvisionConfig {
        username_source: UsernameSource::UserName,
        username_regex: regex::Regex::new("(.*)").expect("regex"),
        username_lowercase: false,
        idp_name: "OKTA".into(),
        user_delete: DeletePolicy::Soft,
        group_delete: DeletePolicy::Soft,
        user_rename: super::RenamePolicy::Move,
        idp_roles: false,
        max_page_size: 100,
        cache_capacity: 1000,
        cache_ttl: std::time::Duration::from_secs(60),
        max_write_retries: 3,
        write_batch: super::DEFAULT_WRITE_BATCH,
        max_filter_scan: super::DEFAULT_MAX_FILTER_SCAN,
    }
}

/// An emulator, a provisioner talking to it, and the admin's context.
pub(crate) struct Env {
    pub emu: Emulator,
    pub prov: Provisioner,
    pub ctx: Ctx,
}

/// A DataHub client on the emulator that knows its release, as a replica's does
/// after its first readiness probe.
pub(crate) async fn replica_client(emu: &Emulator) -> Client {
    let client = Client::new(ClientConfig::new(emu.base_url())).expect("client");
    client.detect_release().await.expect("GET /config");
    client
}

impl Env {
    pub async fn start() -> Env {
        Env::with(config()).await
    }

    pub async fn with(cfg: ProvisionConfig) -> Env {
        Env::with_emulator(cfg, EmulatorConfig::default()).await
    }

    /// A provisioner with `cfg` on an emulator with `emu_cfg` (a release profile, a lag).
    pub async fn with_emulator(cfg: ProvisionConfig, emu_cfg: EmulatorConfig) -> Env {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let emu = Emulator::start(emu_cfg, listener).await.expect("emulator");
        let client = replica_client(&emu).await;
        emu.reset_calls();
        let ctx = Ctx {
            token: emu.admin_token(),
            actor: format!("urn:li:corpuser:{}", emu.admin_username()),
            manage_policies: true,
            base_url: BASE.into(),
            preconditions: Default::default(),
        };
        Env {
            emu,
            prov: Provisioner::new(cfg, client),
            ctx,
        }
    }

    /// `GET /Users?<qs>` through the provisioner; panics on a SCIM error.
    pub async fn users(&self, qs: &str) -> Value {
        self.prov
            .list_users(&self.ctx, &q(qs))
            .await
            .expect("list users")
    }

    /// `GET /Groups?<qs>` through the provisioner; panics on a SCIM error.
    pub async fn groups(&self, qs: &str) -> Value {
        self.prov
            .list_groups(&self.ctx, &q(qs))
            .await
            .expect("list groups")
    }

    /// Upstream calls since the last reset, by endpoint; then resets.
    pub fn take_calls(&self) -> BTreeMap<String, u64> {
        let c = self.emu.call_counts();
        self.emu.reset_calls();
        c
    }

    pub fn aspect(&self, urn: &str, name: &str) -> Value {
        self.emu.aspect(urn, name).unwrap_or(Value::Null)
    }
}

/// Okta's documented create body (idp-scim-clients.md §2.5).
pub(crate) fn okta_user(user_name: &str) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": "Test User",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

pub(crate) fn calls(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

pub(crate) fn q(qs: &str) -> ListQuery {
    ListQuery::from_query_string(qs).expect("query")
}
