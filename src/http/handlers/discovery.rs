//! Discovery endpoints (`ServiceProviderConfig`, `ResourceTypes`, `Schemas`): static
//! documents built by `scim::discovery`, with `meta.location` under the request's base
//! URL.

use super::{ScimRequest, ScimResponse};
use crate::http::AppState;
use crate::provision::ProvisionConfig;
use crate::scim::{self, discovery};

/// What this deployment advertises: `sortBy` is honoured on `/Users` and `/Groups`
/// (a bounded scan, `docs/provisioning.md`), `filter.maxResults` is the largest page
/// served (`max_page_size`), resources carry versions (`If-Match` is honoured), and
/// `/Bulk` takes what `bulk` allows.
fn capabilities(cfg: &ProvisionConfig, bulk: scim::bulk::Limits) -> discovery::Capabilities {
    discovery::Capabilities {
        sort: true,
        max_results: cfg.max_page_size,
        etag: true,
        bulk,
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
        &capabilities(&state.config.provision, state.config.bulk),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_provider_config_says_sort_and_the_page_size() {
        let mut cfg = crate::provision::tests::config();
        cfg.max_page_size = 37;
        let bulk = scim::bulk::Limits {
            max_operations: 100,
            max_payload_bytes: 1_048_576,
        };
        let v = discovery::service_provider_config("https://h/scim/v2", &capabilities(&cfg, bulk));
        assert_eq!(v["sort"]["supported"], true);
        assert_eq!(v["filter"]["maxResults"], 37);
        assert_eq!(v["patch"]["supported"], true);
        assert_eq!(
            v["bulk"],
            serde_json::json!({"supported": true, "maxOperations": 100, "maxPayloadSize": 1_048_576})
        );
        assert_eq!(v["etag"]["supported"], true);
        assert_eq!(v["changePassword"]["supported"], false);
    }
}
