//! `POST /aspects?action=ingestProposal[Batch]` (`AspectResource`), in DataHub's order:
//! Rest.li parameter checks (400: `async` must be a string, strict MCP records), then
//! authorization of every proposal (403, `AuthUtil.isAPIAuthorizedUrns`), then
//! proposed-aspect validation of the whole batch (`AspectsBatchImpl.Builder.build`:
//! "Failed to validate MCP due to: …", 400 before 1.0, 422 from 1.0), then pre-commit
//! validation (`CreateIfNotExistsValidator`, `ConditionalWriteValidator`: 422 with the
//! bare `ValidationExceptionCollection`), PATCH (see `patch.rs`), silent drops (DELETE,
//! RESTATE, invalid urn, malformed JSON Patch, `If-None-Match: *`), and all-or-nothing
//! batches.

use super::patch::{self, PatchError};
use super::policy::{self, Op};
use super::restli::param_type_error;
use super::server::Reply;
use super::state::{now_ms, State, Write};
use super::validation::{self, Failure, Item, SubType};
use super::{store, Inner};
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

/// Why one proposal is not written.
enum Refusal {
    /// A Rest.li-level 400 that stops the batch at once.
    Reply(Reply),
    /// A proposed-aspect validation failure (collected over the batch).
    Proposed(Failure),
}

/// A proposal that passed proposed-aspect validation.
struct Checked {
    write: Write,
    change_type: String,
    headers: Value,
}

/// Proposed-aspect validation of one MCP; `Ok(None)` = silently dropped.
fn check_item(
    inner: &Inner,
    st: &State,
    actor: &str,
    mcp: &Value,
    urn: &str,
    ct: &str,
) -> Result<Option<Checked>, Refusal> {
    if ct == "DELETE" || ct == "RESTATE" || !store::urn_valid(urn) {
        return Ok(None);
    }
    let ety = store::entity_type(urn).unwrap_or_default().to_string();
    let declared = mcp
        .get("entityType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !declared.eq_ignore_ascii_case(&ety) {
        return Err(Refusal::Reply(bad(format!(
            "Entity type {declared} does not match urn {urn}"
        ))));
    }
    let Some(aspect) = mcp.get("aspectName").and_then(Value::as_str) else {
        return Err(Refusal::Reply(bad("aspectName is required")));
    };
    let Some(raw) = mcp
        .get("aspect")
        .and_then(|a| a.get("value"))
        .and_then(Value::as_str)
    else {
        return Err(Refusal::Reply(bad(
            "aspect.value is required and must be a string",
        )));
    };
    let sm = mcp.get("systemMetadata").cloned().unwrap_or(Value::Null);
    let parsed: Result<Value, _> = serde_json::from_str(raw);
    let shown = parsed.as_ref().cloned().unwrap_or(Value::Null);
    let fail = |value: &Value, msg: String| {
        let item = Item {
            change_type: ct,
            urn,
            aspect,
            value,
            system_metadata: &sm,
            actor,
            time: now_ms(),
        };
        Refusal::Proposed(Failure::new(
            &inner.release,
            &item,
            SubType::Validation,
            &msg,
        ))
    };
    if !store::aspect_allowed(&ety, aspect) {
        return Err(fail(
            &shown,
            format!("Unknown aspect {aspect} for entity {ety}"),
        ));
    }
    let value = if ct == "PATCH" {
        let Ok(payload) = parsed else {
            return Ok(None);
        };
        match patch::apply(aspect, st.value(urn, aspect), &payload) {
            Ok(v) => v,
            Err(PatchError::Malformed) => return Ok(None),
            Err(PatchError::Invalid(m)) => return Err(fail(&payload, m)),
        }
    } else {
        parsed.map_err(|e| {
            fail(
                &shown,
                format!("{aspect}: aspect value is not valid JSON: {e}"),
            )
        })?
    };
    let value = store::validate_aspect(aspect, value.clone()).map_err(|m| fail(&value, m))?;
    if aspect == "corpUserInfo"
        && ["system", "isSupportUser"]
            .iter()
            .any(|f| value.get(*f).and_then(Value::as_bool) == Some(true))
    {
        return Err(fail(
            &value,
            "Only system users may set corpUserInfo.system / isSupportUser".into(),
        ));
    }
    // #12500 (1.0.0): the MCP header, any case of "true"; `appSource == "ui"` always
    // (`EntityServiceImpl.preprocessEvent`, `SyncSearchIndexUtils`).
    let header_sync = inner.release.sync_index_header()
        && header(mcp, "X-DataHub-Sync-Index-Update")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let sync =
        header_sync || sm.pointer("/properties/appSource").and_then(Value::as_str) == Some("ui");
    Ok(Some(Checked {
        write: Write {
            urn: urn.to_string(),
            aspect: aspect.to_string(),
            value,
            actor: actor.to_string(),
            sync,
            system_metadata: sm,
        },
        change_type: ct.to_string(),
        headers: mcp.get("headers").cloned().unwrap_or(Value::Null),
    }))
}

/// Pre-commit validation (`CreateIfNotExistsValidator`, `ConditionalWriteValidator`);
/// `Ok(false)` = filtered out silently (`If-None-Match: *`).
fn pre_commit(inner: &Inner, st: &State, c: &Checked) -> Result<bool, Failure> {
    let w = &c.write;
    let ct = c.change_type.as_str();
    let item = Item {
        change_type: ct,
        urn: &w.urn,
        aspect: &w.aspect,
        value: &w.value,
        system_metadata: &w.system_metadata,
        actor: &w.actor,
        time: now_ms(),
    };
    let h = |name: &str| c.headers.get(name).and_then(Value::as_str);
    let conflict = match ct {
        "CREATE" => st.get(&w.urn, &w.aspect).is_some(),
        "CREATE_ENTITY" => st.exists(&w.urn),
        _ => false,
    };
    if conflict {
        if h("If-None-Match") == Some("*") {
            return Ok(false);
        }
        let msg = if ct == "CREATE" {
            "Cannot perform CREATE since the aspect already exists."
        } else {
            "Cannot perform CREATE_ENTITY if not exists since the entity key already exists."
        };
        return Err(Failure::new(
            &inner.release,
            &item,
            SubType::Validation,
            msg,
        ));
    }
    if let Some(expected) = h("If-Version-Match") {
        let actual = match ct {
            "CREATE" | "CREATE_ENTITY" => "-1".to_string(),
            _ => st.compared_version(&w.urn, &w.aspect),
        };
        if expected != actual {
            return Err(Failure::new(
                &inner.release,
                &item,
                SubType::Precondition,
                &format!("Expected version {expected}, actual version {actual}"),
            ));
        }
    }
    Ok(true)
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
    // `@ActionParam(PARAM_ASYNC) @Optional("unset") String async`.
    let is_async = match params.get("async") {
        None => false,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(other) => return param_type_error(method, "async", other, "String"),
    };
    let mcps: Vec<Value> = match (batch, params.get(key)) {
        (true, Some(Value::Array(a))) => a.clone(),
        (false, Some(v @ Value::Object(_))) => vec![v.clone()],
        _ => return bad(format!("Parameter '{key}' is required")),
    };
    let mut checked = Vec::with_capacity(mcps.len());
    for (i, mcp) in mcps.iter().enumerate() {
        match check_record(i, mcp) {
            Ok((urn, ct)) => match urn.or_else(|| urn_from_key(mcp)) {
                Some(urn) => checked.push((urn, ct)),
                None => return bad("entityUrn or entityKeyAspect is required"),
            },
            Err(r) => return r,
        }
    }
    let mut st = inner.state();
    let denied: Vec<String> = checked
        .iter()
        .filter(|(urn, ct)| {
            !policy::api_allowed(&st, &inner.release, actor, Op::of_change_type(ct), urn)
        })
        .map(|(urn, _)| format!("HttpStatus: 403 Urn: {urn}"))
        .collect();
    if !denied.is_empty() {
        return Reply::restli_error(
            403,
            format!(
                "User {actor} is unauthorized to modify entity: {}",
                denied.join(", ")
            ),
        );
    }
    let mut items = Vec::new();
    let mut proposed = Vec::new();
    for (mcp, (urn, ct)) in mcps.iter().zip(&checked) {
        match check_item(inner, &st, actor, mcp, urn, ct) {
            Ok(Some(c)) => items.push(c),
            Ok(None) => {}
            Err(Refusal::Reply(r)) => return r,
            Err(Refusal::Proposed(f)) => proposed.push(f),
        }
    }
    if !proposed.is_empty() && !is_async {
        return Reply::restli_error(
            inner.release.proposed_validation_status(),
            validation::proposed_message(&proposed),
        );
    }
    let mut writes = Vec::new();
    let mut failed = Vec::new();
    for c in items {
        match pre_commit(inner, &st, &c) {
            Ok(true) => writes.push(c.write),
            Ok(false) => {}
            // async: DataHub reports failures only through the trace API
            Err(_) if is_async => {}
            Err(f) => failed.push(f),
        }
    }
    if !failed.is_empty() {
        return Reply::restli_error(422, validation::collection(&failed));
    }
    for mut w in writes {
        if is_async {
            w.sync = false;
        }
        st.write(w);
    }
    success()
}

fn success() -> Reply {
    let mut out = Map::new();
    out.insert("value".into(), Value::String("success".into()));
    Reply::json(200, Value::Object(out))
}
