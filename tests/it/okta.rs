//! Okta, both client flavours (idp-scim-clients.md §2): the App Integration Wizard app
//! DataHub's guide uses (PUT for every update, PUT of whole member lists) and OIN
//! catalog apps (PATCH), plus Okta's own spec test sequence (§2.12), each asserting the
//! SCIM answers and the DataHub aspects behind them.

mod aiw;
mod audit;
mod import;
mod names;
mod oin;
mod profile;
mod spec;

/// The Okta user id (`00u…`) Okta sends as `externalId`.
const OKTA_EXTERNAL_ID: &str = "00ujl29u0le5T6Aj10h7";
