//! `POST /aspects?action=ingestProposal[Batch]`: strict MCP record validation (400),
//! authorization (403), aspect validation (422), conditional writes from the MCP
//! `headers` map (422 "Expected version X, actual version Y"), CREATE / CREATE_ENTITY
//! checks, PATCH (see `patch.rs`), silent drops (DELETE, RESTATE, invalid urn, malformed
//! JSON Patch, `If-None-Match: *`), and
//! all-or-nothing batches.

use super::patch::{self, PatchError};
use super::server::Reply;
use super::state::{State, Write};
use super::{auth, store, Inner};
use serde_json::{Map, Value};

const MCP_FIELDS: &[&str] = &[
    "auditHeader",
    "entityType",
    "entityUrn",
    "entityKeyAspect",
    "changeType",
    "aspectName",
    "aspect",
    "systemMetadata",
    "headers",
];
const CHANGE_TYPES: &[&str] = &[
    "UPSERT",
    "CREATE",
    "UPDATE",
    "DELETE",
    "PATCH",
    "RESTATE",
    "CREATE_ENTITY",
];

fn bad(msg: impl Into<String>) -> Reply {
    Reply::restli_error(400, msg)
}

fn invalid(msg: impl Into<String>) -> Reply {
    Reply::restli_error(
        422,
        format!(
            "com.linkedin.metadata.aspect.plugins.validation.AspectValidationException: {}",
            msg.into()
        ),
    )
}

/// Proposal-level checks (record shape); returns (urn, changeType).
fn check_record(i: usize, mcp: &Value) -> Result<(Option<String>, String), Reply> {
    let Some(obj) = mcp.as_object() else {
        return Err(bad(format!("proposal {i}: not a record")));
    };
    if let Some(k) = obj.keys().find(|k| !MCP_FIELDS.contains(&k.as_str())) {
        return Err(bad(format!(
            "Parameters of method 'ingestProposal' failed validation with error 'ERROR :: /{k} :: unrecognized field found but not allowed'"
        )));
    }
    let ct = match obj.get("changeType").and_then(Value::as_str) {
        Some(ct) if CHANGE_TYPES.contains(&ct) => ct.to_string(),
        Some(ct) => {
            return Err(bad(format!(
                "ERROR :: /changeType :: \"{ct}\" is not an enum symbol"
            )))
        }
        None => {
            return Err(bad(
                "ERROR :: /changeType :: field is required but not found",
            ))
        }
    };
    if !obj.get("entityType").is_some_and(Value::is_string) {
        return Err(bad(
            "ERROR :: /entityType :: field is required but not found",
        ));
    }
    if let Some(h) = obj.get("headers") {
        if !h
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string))
        {
            return Err(bad("ERROR :: /headers :: must be a map of strings"));
        }
    }
    let urn = match obj.get("entityUrn") {
        Some(Value::String(u)) => Some(u.clone()),
        Some(_) => return Err(bad("ERROR :: /entityUrn :: must be a string")),
        None => None,
    };
    Ok((urn, ct))
}

fn header<'a>(mcp: &'a Value, name: &str) -> Option<&'a str> {
    mcp.get("headers")?.get(name)?.as_str()
}

/// Resolves the urn of an MCP that gives a key aspect instead of a urn.
fn urn_from_key(mcp: &Value) -> Option<String> {
    let ty = mcp.get("entityType")?.as_str()?;
    let (_, field) = store::key_aspect(ty)?;
    let v: Value =
        serde_json::from_str(mcp.get("entityKeyAspect")?.get("value")?.as_str()?).ok()?;
    Some(format!("urn:li:{ty}:{}", v.get(field)?.as_str()?))
}

fn check_item(
    st: &State,
    actor: &str,
    mcp: &Value,
    urn: &str,
    ct: &str,
) -> Result<Option<Write>, Reply> {
    if ct == "DELETE" || ct == "RESTATE" || !store::urn_valid(urn) {
        return Ok(None);
    }
    let ety = store::entity_type(urn).unwrap_or_default().to_string();
    let declared = mcp
        .get("entityType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !declared.eq_ignore_ascii_case(&ety) {
        return Err(bad(format!(
            "Entity type {declared} does not match urn {urn}"
        )));
    }
    let Some(aspect) = mcp.get("aspectName").and_then(Value::as_str) else {
        return Err(bad("aspectName is required"));
    };
    if !store::aspect_allowed(&ety, aspect) {
        return Err(invalid(format!("Unknown aspect {aspect} for entity {ety}")));
    }
    let Some(raw) = mcp
        .get("aspect")
        .and_then(|a| a.get("value"))
        .and_then(Value::as_str)
    else {
        return Err(bad("aspect.value is required and must be a string"));
    };
    let parsed: Result<Value, _> = serde_json::from_str(raw);
    let value = if ct == "PATCH" {
        let Ok(payload) = parsed else {
            return Ok(None);
        };
        match patch::apply(aspect, st.value(urn, aspect), &payload) {
            Ok(v) => v,
            Err(PatchError::Malformed) => return Ok(None),
            Err(PatchError::Invalid(m)) => return Err(invalid(m)),
        }
    } else {
        parsed.map_err(|e| invalid(format!("{aspect}: aspect value is not valid JSON: {e}")))?
    };
    let value = store::validate_aspect(aspect, value).map_err(invalid)?;
    if aspect == "corpUserInfo"
        && ["system", "isSupportUser"]
            .iter()
            .any(|f| value.get(*f).and_then(Value::as_bool) == Some(true))
    {
        return Err(invalid(
            "Only system users may set corpUserInfo.system / isSupportUser",
        ));
    }
    let is_create = ct == "CREATE" || ct == "CREATE_ENTITY";
    let actual = match st.get(urn, aspect) {
        Some(r) if !is_create => r.version.to_string(),
        _ => "-1".to_string(),
    };
    if let Some(expected) = header(mcp, "If-Version-Match") {
        if expected != actual {
            return Err(invalid(format!(
                "Precondition failed: Expected version {expected}, actual version {actual}"
            )));
        }
    }
    let conflict = match ct {
        "CREATE" => st.get(urn, aspect).is_some(),
        "CREATE_ENTITY" => st.exists(urn),
        _ => false,
    };
    if conflict {
        if header(mcp, "If-None-Match") == Some("*") {
            return Ok(None);
        }
        return Err(invalid(format!(
            "Cannot perform {ct} since the {} already exists: {urn}",
            if ct == "CREATE" { "aspect" } else { "entity" }
        )));
    }
    let sm = mcp.get("systemMetadata").cloned().unwrap_or(Value::Null);
    let sync = header(mcp, "X-DataHub-Sync-Index-Update") == Some("true")
        || sm.pointer("/properties/appSource").and_then(Value::as_str) == Some("ui");
    Ok(Some(Write {
        urn: urn.to_string(),
        aspect: aspect.to_string(),
        value,
        actor: actor.to_string(),
        sync,
        system_metadata: sm,
    }))
}

/// Handles both actions; `batch` selects the `proposals` form.
pub(crate) fn ingest(inner: &Inner, actor: &str, body: &[u8], batch: bool) -> Reply {
    let Ok(Value::Object(params)) = serde_json::from_slice::<Value>(body) else {
        return bad("request body is not a JSON object");
    };
    let (key, method) = if batch {
        ("proposals", "ingestProposalBatch")
    } else {
        ("proposal", "ingestProposal")
    };
    if let Some(k) = params.keys().find(|k| *k != key && *k != "async") {
        return bad(format!(
            "Parameter '{k}' is not a parameter of action '{method}'"
        ));
    }
    let mcps: Vec<Value> = match (batch, params.get(key)) {
        (true, Some(Value::Array(a))) => a.clone(),
        (false, Some(v @ Value::Object(_))) => vec![v.clone()],
        _ => return bad(format!("Parameter '{key}' is required")),
    };
    let is_async = match params.get("async") {
        Some(Value::String(s)) => s == "true",
        Some(Value::Bool(b)) => *b,
        _ => false,
    };
    let mut checked = Vec::with_capacity(mcps.len());
    for (i, mcp) in mcps.iter().enumerate() {
        match check_record(i, mcp) {
            Ok((urn, ct)) => checked.push((urn.or_else(|| urn_from_key(mcp)), ct)),
            Err(r) => return r,
        }
    }
    let mut st = inner.state();
    if !auth::is_admin(&st, actor) {
        return Reply::restli_error(
            403,
            format!("User {actor} is unauthorized to modify entity."),
        );
    }
    let mut writes = Vec::new();
    for (mcp, (urn, ct)) in mcps.iter().zip(&checked) {
        let Some(urn) = urn else {
            return bad("entityUrn or entityKeyAspect is required");
        };
        match check_item(&st, actor, mcp, urn, ct) {
            Ok(Some(w)) => writes.push(w),
            Ok(None) => {}
            Err(_) if is_async => {}
            Err(r) => return r,
        }
    }
    for mut w in writes {
        if is_async {
            w.sync = false;
        }
        st.write(w);
    }
    let mut out = Map::new();
    out.insert("value".into(), Value::String("success".into()));
    Reply::json(200, Value::Object(out))
}
