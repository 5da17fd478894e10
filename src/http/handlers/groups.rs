//! `/Groups` handlers: parse the request, call the `Provisioner`, shape the answer
//! (201 + `Location` on create, 204 on delete, 204 on PATCH as Entra prefers).

use http::Method;

use super::users::{patched, provisioner, query};
use super::{ScimRequest, ScimResponse};
use crate::http::AppState;
use crate::scim::{self, ListQuery};

/// Handles every `/Groups…` request.
pub async fn handle(state: &AppState, req: ScimRequest) -> Result<ScimResponse, scim::Error> {
    let p = provisioner(state);
    let ctx = &req.ctx;
    if req.is_search() {
        let q = ListQuery::from_search_body(&req.json_body()?)?;
        return Ok(ScimResponse::ok(p.list_groups(ctx, &q).await?));
    }
    match (&req.method, req.id()) {
        (&Method::GET, None) => Ok(ScimResponse::ok(p.list_groups(ctx, &query(&req)?).await?)),
        (&Method::POST, None) => Ok(ScimResponse::created(
            p.create_group(ctx, req.json_body()?).await?,
        )),
        (&Method::GET, Some(id)) => {
            let (body, version) = p.get_group_tagged(ctx, id, &query(&req)?).await?;
            super::conditional_get(ctx, body, version)
        }
        (&Method::PUT, Some(id)) => Ok(ScimResponse::ok(
            p.replace_group(ctx, id, req.json_body()?).await?,
        )),
        (&Method::PATCH, Some(id)) => Ok(patched(p.patch_group(ctx, id, req.json_body()?).await?)),
        (&Method::DELETE, Some(id)) => {
            p.delete_group(ctx, id).await?;
            Ok(ScimResponse::no_content())
        }
        _ => Err(scim::Error::method_not_allowed(
            "method not allowed on /Groups",
        )),
    }
}
