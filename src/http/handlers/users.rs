//! `/Users` handlers: parse the request and call the `Provisioner`. Owned by the
//! provisioning engineer; this placeholder answers 501 until that lands.

use super::{ScimRequest, ScimResponse};
use crate::http::AppState;
use crate::scim;

/// Handles every `/Users…` request.
pub async fn handle(_state: &AppState, _req: ScimRequest) -> Result<ScimResponse, scim::Error> {
    Err(scim::Error::not_implemented("Users is not implemented yet"))
}
