//! Discovery endpoints (`ServiceProviderConfig`, `ResourceTypes`, `Schemas`): static
//! documents built by `scim::discovery`, with `meta.location` under the request's base
//! URL.

use super::{ScimRequest, ScimResponse};
use crate::http::AppState;
use crate::scim;

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(
    _state: &AppState,
    _req: &ScimRequest,
) -> Result<ScimResponse, scim::Error> {
    Err(scim::Error::not_implemented(
        "ServiceProviderConfig is not available yet",
    ))
}

/// `GET /ResourceTypes[/{name}]`.
pub fn resource_types(
    _state: &AppState,
    _req: &ScimRequest,
    _name: Option<&str>,
) -> Result<ScimResponse, scim::Error> {
    Err(scim::Error::not_implemented(
        "ResourceTypes is not available yet",
    ))
}

/// `GET /Schemas[/{urn}]`.
pub fn schemas(
    _state: &AppState,
    _req: &ScimRequest,
    _urn: Option<&str>,
) -> Result<ScimResponse, scim::Error> {
    Err(scim::Error::not_implemented("Schemas is not available yet"))
}
