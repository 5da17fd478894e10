//! SCIM ⇄ DataHub: naming rules, SCIM ids, the ID-mapping cache, users, groups and
//! membership. The only module that speaks both vocabularies. Knows nothing of hyper.
//!
//! The [`Provisioner`] API is the contract the HTTP handlers call. Every method takes
//! the caller's context (its DataHub token is forwarded to GMS) and returns SCIM JSON
//! or a [`crate::scim::Error`]. Design and upstream-call costs: `docs/provisioning.md`.
//!
//! Layout (pure parts first in each folder):
//! - `users/`: `map` (SCIM User JSON ⇄ user aspects), `resolve` (which user a SCIM id
//!   names, and the conditional write rounds), the operations, `update` (PUT/PATCH),
//!   `rename` (a `userName` change that moves the person to another urn) and `roles`
//!   (DataHub roles from the IdP).
//! - `groups/`: `map` (SCIM Group JSON ⇄ group aspects) and the group operations.
//! - `membership/`: [`delta`] (member operations folded into adds and removes) and the
//!   batched conditional writes of users' `groupMembership`.
//! - `list/`: filters and paging (`mod`), `index_filter` (what of a filter the index can
//!   answer), `lookup` (key and search lookups, batch hydration), `search` (root
//!   `/.search`).
//! - flat: [`ids`] (SCIM ids), [`naming`] (username and group-name rules), `version`
//!   (`meta.version` and the guarded conditional writes behind `If-Match`), `record`
//!   (typed reads and diffed writes), `cache` (the moka ID-mapping cache), `errors` (the
//!   one `datahub::Error` → `scim::Error` mapping). Requests are read and responses
//!   written by the typed `scim::User` / `scim::Group`.

mod cache;
mod errors;
mod groups;
pub mod ids;
mod list;
mod membership;
pub mod naming;
mod record;
mod users;
mod version;

pub use membership::delta;

use std::sync::Arc;

use crate::datahub;

pub use cache::{CacheStats, IdCache, Kind};
pub use errors::{from_datahub, UNAVAILABLE_RETRY_AFTER_SECS};

/// How DELETE of a user or group is carried out in DataHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeletePolicy {
    /// `status.removed = true` (+ `corpUserStatus SUSPENDED` for users): gone for
    /// SCIM, kept in DataHub, revived by a later create of the same name.
    #[default]
    Soft,
    /// Hard delete of the entity in DataHub.
    Hard,
}

/// What a `userName` change that derives another DataHub username does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RenamePolicy {
    /// Move the person to the user the new name derives (`users::rename`); the SCIM
    /// id stays.
    #[default]
    Move,
    /// `400 mutability`.
    Reject,
}

/// Which SCIM attribute the DataHub username is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UsernameSource {
    /// `userName`.
    #[default]
    UserName,
    /// The primary (else the first) `emails[].value`.
    PrimaryEmail,
}

/// Everything the provisioning layer needs from the configuration.
#[derive(Debug, Clone)]
pub struct ProvisionConfig {
    /// Attribute the username is taken from.
    pub username_source: UsernameSource,
    /// Regex applied to that attribute; the whole match is the username (DataHub's
    /// `AUTH_OIDC_USER_NAME_CLAIM_REGEX` semantics).
    pub username_regex: regex::Regex,
    /// Lower-case the username after the regex.
    pub username_lowercase: bool,
    /// Written to `origin.externalType` (e.g. `OKTA`, `AZURE_AD`).
    pub idp_name: String,
    /// DELETE policy for users.
    pub user_delete: DeletePolicy,
    /// DELETE policy for groups.
    pub group_delete: DeletePolicy,
    /// What a `userName` change that derives another username does.
    pub user_rename: RenamePolicy,
    /// Write each user's DataHub role (`roleMembership`) from its primary SCIM role
    /// (`users::roles`); off: roles stay DataHub's.
    pub idp_roles: bool,
    /// Page size used when a list request gives no `count`, and the maximum.
    pub max_page_size: usize,
    /// Capacity of the ID-mapping cache (entries).
    pub cache_capacity: u64,
    /// Time-to-live of ID-mapping cache entries.
    pub cache_ttl: std::time::Duration,
    /// Bounded retries of a conditional write that lost a race.
    pub max_write_retries: u32,
    /// Most proposals in one `ingestProposalBatch`. A membership change larger than
    /// this is written in several batches, in an order a retry always finishes (see
    /// `membership`). Default [`DEFAULT_WRITE_BATCH`].
    pub write_batch: usize,
    /// Most index candidates a list request may read and check in memory: a filter
    /// the index cannot answer (`co`, `sw`, `or` across attributes, `not`, …), any
    /// `sortBy`, and every group list. Beyond it the request is refused with
    /// `400 tooMany` (RFC 7644 §3.12) before anything is hydrated. Default
    /// [`DEFAULT_MAX_FILTER_SCAN`].
    pub max_filter_scan: usize,
}

/// Default of [`ProvisionConfig::write_batch`]: 1 000 proposals (about 400 KB of
/// request body for membership writes).
pub const DEFAULT_WRITE_BATCH: usize = 1000;
/// Smallest [`ProvisionConfig::write_batch`] accepted.
pub use membership::MIN_WRITE_BATCH;

/// Default of [`ProvisionConfig::max_filter_scan`]: 10 000 candidates (also
/// Elasticsearch's default `index.max_result_window`, the deepest a DataHub
/// `start`/`count` search can page).
pub const DEFAULT_MAX_FILTER_SCAN: usize = 10_000;

/// The caller of one SCIM request.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The caller's DataHub PAT, forwarded to GMS so DataHub's own authorization
    /// and audit apply. Never logged.
    pub token: String,
    /// The caller's DataHub urn (from `me`), used for audit stamps.
    pub actor: String,
    /// Whether the caller holds Manage Policies (`me`), which DataHub requires to
    /// assign roles (`--idp-roles`).
    pub manage_policies: bool,
    /// Absolute base URL of the SCIM endpoint the request came in on, for
    /// `meta.location`.
    pub base_url: String,
    /// The request's `If-Match` / `If-None-Match` (a bulk operation's `version`),
    /// judged by PUT, PATCH and DELETE against the resource as their write reads it
    /// (412 when it changed); GET leaves them to the caller, which has the version.
    pub preconditions: crate::scim::Preconditions,
}

/// The SCIM ⇄ DataHub translator. Cheap to clone; holds no state that answers
/// depend on (only the ID-mapping cache).
#[derive(Clone)]
pub struct Provisioner {
    /// Naming rules, policies and limits.
    cfg: Arc<ProvisionConfig>,
    /// The GMS client.
    client: datahub::Client,
    /// The ID-mapping cache.
    cache: cache::IdCache,
}

impl Provisioner {
    /// A provisioner writing through `client`.
    pub fn new(cfg: ProvisionConfig, client: datahub::Client) -> Self {
        let cache = cache::IdCache::new(cfg.cache_capacity, cfg.cache_ttl);
        Provisioner {
            cfg: Arc::new(cfg),
            client,
            cache,
        }
    }

    /// Cache counters for `/metrics`.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// The configuration in use.
    pub fn config(&self) -> &ProvisionConfig {
        &self.cfg
    }
}

#[cfg(test)]
pub(crate) mod tests;
