//! The DataHub GMS client: typed aspects, urns, Rest.li, GraphQL, errors,
//! conditional writes. Knows nothing of SCIM.
//!
//! - [`Client`] (`transport.rs`): HTTP/1.1 keep-alive over hyper + rustls,
//!   timeouts, one tracing span and one [`Observer`] report per call. Every
//!   call takes the caller's bearer token and forwards it as is, so DataHub
//!   authorization and audit apply to the IdP's PAT.
//! - `restli.rs`: [`Proposal`] + `ingestProposalBatch`, `GET /aspects`,
//!   existence, hard delete. `entities.rs`: `entitiesV2` batch reads with
//!   versions. `rmw.rs`: conditional read-modify-write with bounded retry.
//! - `graphql.rs` (+ `documents.rs`): `me`, search, list, `/config`,
//!   `/health`; `relationships.rs`: group members and user groups.
//! - `audit.rs`: the [`WriteAudit`] hook, one report per write call (urns,
//!   aspect names, outcome), for the gateway's audit trail.
//! - [`aspects`]: the identity aspects, field for field. [`Urn`]: urns and
//!   their encodings. [`Error`]: one enum for every upstream failure.

pub mod aspects;
mod audit;
mod documents;
mod entities;
mod error;
mod graphql;
mod relationships;
mod release;
mod restli;
mod rmw;
mod search;
#[cfg(test)]
mod test_server;
mod tls;
mod transport;
mod urn;

pub use audit::{Change, Target, WriteAudit, WriteReport};
pub use documents::{group_members_many as group_members_many_document, ALL as GRAPHQL_DOCUMENTS};
pub use entities::{batch_get_path, parse_batch, EntityAspects, RawAspect, BATCH_CHUNK};
pub use error::{Error, Result};
pub use graphql::{Me, Page, ScrollPage, ServerConfig};
pub use relationships::{Related, RelatedPage, RelatedUser, MEMBERSHIP_EDGES, MEMBERS_MANY_MAX};
pub use release::{Release, Support, NEWEST_TESTED, OLDEST_SUPPORTED, SUPPORTED_RANGE};
pub use restli::{
    ascii_json, ingest_body, parse_versioned_aspect, Proposal, SyncIndex, Versioned,
    IF_VERSION_MATCH, RUN_ID, SYNC_INDEX_HEADER, UI_APP_SOURCE,
};
pub use rmw::RmwReport;
pub use search::{Condition, EntityKind, FacetFilter, ScrollRequest, SearchRequest, SCROLL_MAX};
pub use transport::{
    Client, ClientConfig, Observer, Outcome, PoolStats, DEFAULT_MAX_CONCURRENCY,
    DEFAULT_QUEUE_TIMEOUT,
};
pub use urn::{Urn, UrnParseError, CORP_GROUP, CORP_USER};

/// The shared reference folder `reference/<name>` (schemas used by tests),
/// looked up next to the checkout; `None` (and the test passes, saying so)
/// when it is not there.
#[cfg(test)]
pub(crate) fn reference_dir(name: &str) -> Option<std::path::PathBuf> {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        manifest.join("../shared/reference").join(name),
        manifest.join("../../shared/reference").join(name),
        std::path::PathBuf::from("/work/shared/reference").join(name),
    ];
    let found = candidates.into_iter().find(|p| p.is_dir());
    if found.is_none() {
        eprintln!("reference/{name} not found next to the checkout; schema check skipped");
    }
    found
}
