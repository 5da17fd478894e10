//! `/Users` handlers: parse the request, call the [`Provisioner`], shape the answer
//! (201 + `Location` on create, 204 on delete, 200 or 204 on PATCH).

use http::Method;
use serde_json::Value;

use super::{ScimRequest, ScimResponse};
use crate::http::AppState;
use crate::provision::Provisioner;
use crate::scim::{self, ListQuery};

/// The provisioner of the running server (its ID-mapping cache and read-your-writes
/// overlay live across requests).
pub fn provisioner(state: &AppState) -> &Provisioner {
    &state.provisioner
}

/// The query of a list, or `attributes`/`excludedAttributes` of a read.
pub(crate) fn query(req: &ScimRequest) -> Result<ListQuery, scim::Error> {
    ListQuery::from_query_string(req.query.as_deref().unwrap_or(""))
}

/// Handles every `/Users…` request.
pub async fn handle(state: &AppState, req: ScimRequest) -> Result<ScimResponse, scim::Error> {
    let p = provisioner(state);
    let ctx = &req.ctx;
    if req.is_search() {
        let q = ListQuery::from_search_body(&req.json_body()?)?;
        return Ok(ScimResponse::ok(p.list_users(ctx, &q).await?));
    }
    match (&req.method, req.id()) {
        (&Method::GET, None) => Ok(ScimResponse::ok(p.list_users(ctx, &query(&req)?).await?)),
        (&Method::POST, None) => Ok(ScimResponse::created(
            p.create_user(ctx, req.json_body()?).await?,
        )),
        (&Method::GET, Some(id)) => {
            let (body, version) = p.get_user_tagged(ctx, id, &query(&req)?).await?;
            super::conditional_get(ctx, body, version)
        }
        (&Method::PUT, Some(id)) => Ok(ScimResponse::ok(
            p.replace_user(ctx, id, req.json_body()?).await?,
        )),
        (&Method::PATCH, Some(id)) => Ok(patched(p.patch_user(ctx, id, req.json_body()?).await?)),
        (&Method::DELETE, Some(id)) => {
            p.delete_user(ctx, id).await?;
            Ok(ScimResponse::no_content())
        }
        _ => Err(scim::Error::method_not_allowed(
            "method not allowed on /Users",
        )),
    }
}

/// 200 with the resource, or 204 when the provisioner returns none.
pub(crate) fn patched(body: Option<Value>) -> ScimResponse {
    match body {
        Some(b) => ScimResponse::ok(b),
        None => ScimResponse::no_content(),
    }
}
