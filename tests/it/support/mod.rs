//! Helpers shared by the integration tests: the HTTP client and request helper, SCIM
//! vocabulary and assertions, DataHub aspect expectations, and the test PKI.

pub mod child;
pub mod datahub;
pub mod flows;
pub mod http;
pub mod scim;
pub mod tls;
