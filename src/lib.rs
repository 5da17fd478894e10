//! datahub-scim: a SCIM 2.0 provisioning gateway in front of DataHub GMS.
//!
//! # Layout
//!
//! Data flows one way, top to bottom:
//!
//! - [`http`]: listener, TLS, router, bearer auth, handlers, the admin port
//!   (`/live`, `/ready`, `/metrics`) and graceful shutdown. Knows nothing of
//!   DataHub wire formats.
//! - [`provision`]: SCIM ⇄ DataHub. Naming rules (userName → urn, displayName →
//!   group urn), SCIM ids, the ID-mapping cache, users, groups, membership. The
//!   only place where both vocabularies meet. Knows nothing of hyper.
//! - [`scim`]: RFC 7643/7644 (resources, filters, PATCH, lists, projection,
//!   errors, discovery documents). Pure, no I/O, knows nothing of DataHub.
//! - [`datahub`]: the GMS client (typed aspects, urns, Rest.li, GraphQL, errors,
//!   conditional writes). Knows nothing of SCIM.
//! - [`emulator`]: a DataHub GMS emulator, a real HTTP server used by the demo and
//!   the tests. Shares nothing with the client but the wire.
//! - [`config`]: every setting, read once from flags and environment.

pub mod config;
pub mod datahub;
pub mod emulator;
pub mod http;
pub mod provision;
pub mod scim;
