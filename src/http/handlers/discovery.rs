//! Discovery endpoints (`ServiceProviderConfig`, `ResourceTypes`, `Schemas`): static
//! documents built by `scim::discovery`, with `meta.location` under the request's base
//! URL.

use super::{ScimRequest, ScimResponse};
use crate::http::AppState;
use crate::scim::{self, discovery};

/// What this deployment advertises.
fn capabilities(state: &AppState) -> discovery::Capabilities {
    discovery::Capabilities {
        max_results: state.config.provision.max_page_size,
        ..discovery::Capabilities::default()
    }
}

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(
    state: &AppState,
    req: &ScimRequest,
) -> Result<ScimResponse, scim::Error> {
    Ok(ScimResponse::ok(discovery::service_provider_config(
        &req.ctx.base_url,
        &capabilities(state),
    )))
}

/// `GET /ResourceTypes[/{name}]`.
pub fn resource_types(
    _state: &AppState,
    req: &ScimRequest,
    name: Option<&str>,
) -> Result<ScimResponse, scim::Error> {
    match name {
        None => Ok(ScimResponse::ok(discovery::resource_types(
            &req.ctx.base_url,
        ))),
        Some(n) => discovery::resource_type(&req.ctx.base_url, n)
            .map(ScimResponse::ok)
            .ok_or_else(|| scim::Error::not_found("no such resource type")),
    }
}

/// `GET /Schemas[/{urn}]`.
pub fn schemas(
    _state: &AppState,
    req: &ScimRequest,
    urn: Option<&str>,
) -> Result<ScimResponse, scim::Error> {
    match urn {
        None => Ok(ScimResponse::ok(discovery::schemas(&req.ctx.base_url))),
        Some(u) => discovery::schema(&req.ctx.base_url, u)
            .map(ScimResponse::ok)
            .ok_or_else(|| scim::Error::not_found("no such schema")),
    }
}
