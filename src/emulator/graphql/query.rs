//! Query root: `me` (privileges from policies), `corpUser`, `corpGroup` (primary store,
//! phantom loads); the index-backed search fields are in `search.rs`.

use super::err;
use super::objects::{args, entity_ref, load, resolve_json, Ctx};
use crate::emulator::{policy, store};
use apollo_compiler::resolvers::{FieldError, ResolveInfo, ResolvedValue};
use serde_json::json;

pub(crate) fn resolve<'a>(
    ctx: &'a Ctx<'a>,
    info: &ResolveInfo<'_>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let a = args(info);
    let input = &a["input"];
    match info.field_name() {
        "me" => {
            let fields = info
                .schema()
                .get_object("PlatformPrivileges")
                .map(|o| o.fields.keys().map(|k| k.to_string()).collect::<Vec<_>>())
                .unwrap_or_default();
            let privs = policy::platform_privileges(
                &ctx.inner.state(),
                &ctx.inner.release,
                ctx.actor,
                &fields,
            );
            resolve_json(
                ctx,
                json!({"__typename": "AuthenticatedUser", "corpUser": entity_ref(ctx.actor), "platformPrivileges": privs}),
            )
        }
        "corpUser" | "corpGroup" => {
            let urn = a["urn"].as_str().unwrap_or_default().to_string();
            let want = if info.field_name() == "corpUser" {
                "corpuser"
            } else {
                "corpGroup"
            };
            if store::entity_type(&urn) != Some(want) {
                return Err(err(
                    400,
                    format!("Failed to convert urn {urn}: invalid entity type"),
                ));
            }
            let st = ctx.inner.state();
            Ok(ResolvedValue::object(load(ctx, &st, &urn)?))
        }
        f @ ("listUsers"
        | "listGroups"
        | "searchAcrossEntities"
        | "scrollAcrossEntities"
        | "aggregateAcrossEntities") => super::search::resolve(ctx, f, input),
        other => Err(err(
            500,
            format!("field {other} is not served by the emulator"),
        )),
    }
}
