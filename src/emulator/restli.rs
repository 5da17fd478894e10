//! Rest.li resources: `GET /aspects/{urn}` (FQCN-wrapped, 404 when absent),
//! `GET /entitiesV2/{urn}` and `GET /entitiesV2?ids=List(...)` (with the phantom key
//! aspect), `POST /entities?action=exists|delete`, `GET /relationships`, and the
//! unauthenticated `GET /config`.

use super::ingest::ingest;
use super::policy::{self, Op};
use super::profile::Release;
use super::server::{decode, Reply};
use super::state::{now_ms, State};
use super::{store, Inner};
use http::Method;
use serde_json::{json, Map, Value};

/// `GET /config` body (`servlet/Config.java`; the version is the release's git tag,
/// `GitVersion.getVersion`).
pub(crate) fn config(release: &Release) -> Value {
    json!({
        "noCode": "true",
        "retention": "true",
        "statefulIngestionCapable": true,
        "patchCapable": true,
        "timeZone": "GMT",
        "datahub": {"serverType": "prod", "serverEnv": "emulator"},
        "versions": {"acryldata/datahub": {"version": release.tag(), "commit": "853a3199558ca9d274e9915ce836f5d1940e5021"}},
        "managedIngestion": {"enabled": true, "defaultCliVersion": "1.7.0.17"},
        "models": {},
        "telemetry": {"enabledCli": false, "enabledIngestion": false}
    })
}

fn param(query: &[(String, String)], name: &str) -> Option<String> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Parses a Rest.li protocol-2 `List(a,b,…)` parameter holding encoded items.
pub(crate) fn restli_list(raw: &str) -> Option<Vec<String>> {
    let inner = match raw.strip_prefix("List(").and_then(|r| r.strip_suffix(')')) {
        Some(i) => i.to_string(),
        None => {
            let d = decode(raw);
            let i = d.strip_prefix("List(")?.strip_suffix(')')?.to_string();
            return Some(
                i.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            );
        }
    };
    Some(
        inner
            .split(',')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect(),
    )
}

pub(crate) fn route(
    inner: &Inner,
    actor: &str,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    body: &[u8],
) -> Reply {
    let seg: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').collect();
    let action = param(query, "action").map(|a| decode(&a));
    match (method.as_str(), seg.as_slice(), action.as_deref()) {
        ("POST", ["aspects"], Some("ingestProposal")) => ingest(inner, actor, body, false),
        ("POST", ["aspects"], Some("ingestProposalBatch")) => ingest(inner, actor, body, true),
        ("GET", ["aspects", urn], _) => get_aspect(inner, &decode(urn), query),
        ("GET", ["entitiesV2", urn], _) => {
            let aspects = param(query, "aspects").and_then(|a| restli_list(&a));
            let st = inner.state();
            Reply::json(200, entity_response(&st, &decode(urn), aspects.as_deref()))
        }
        ("GET", ["entitiesV2"], _) => {
            let Some(ids) = param(query, "ids").and_then(|a| restli_list(&a)) else {
                return Reply::restli_error(400, "Missing or malformed 'ids' parameter");
            };
            let aspects = param(query, "aspects").and_then(|a| restli_list(&a));
            let st = inner.state();
            let results: Map<String, Value> = ids
                .iter()
                .map(|u| (u.clone(), entity_response(&st, u, aspects.as_deref())))
                .collect();
            Reply::json(
                200,
                json!({"results": results, "statuses": {}, "errors": {}}),
            )
        }
        ("POST", ["entities"], Some("exists")) => exists(inner, body),
        ("POST", ["entities"], Some("delete")) => delete(inner, actor, body),
        ("GET", ["relationships"], _) => relationships(inner, query),
        _ => Reply::restli_error(404, format!("No resource for {method} {path}")),
    }
}

fn get_aspect(inner: &Inner, urn: &str, query: &[(String, String)]) -> Reply {
    let Some(aspect) = param(query, "aspect").map(|a| decode(&a)) else {
        return Reply::restli_error(400, "Missing 'aspect' parameter");
    };
    let version: u64 = param(query, "version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let st = inner.state();
    match st.get(urn, &aspect) {
        Some(row) if version == 0 || version == row.version => {
            let mut wrapped = Map::new();
            wrapped.insert(store::fqcn(&aspect), row.value.clone());
            Reply::json(200, json!({"aspect": wrapped, "version": version}))
        }
        _ => Reply::restli_error(
            404,
            format!("Failed to find aspect {aspect} with version {version} for urn {urn}"),
        ),
    }
}

fn envelope(name: &str, value: &Value, actor: &str, time: u64, sm: Option<&Value>) -> Value {
    let mut a = json!({
        "name": name,
        "type": "VERSIONED",
        "version": 0,
        "value": value,
        "created": {"actor": actor, "time": time},
    });
    if let Some(sm) = sm {
        a["systemMetadata"] = sm.clone();
    }
    a
}

/// `EntityResponse` of one urn; synthesizes the key aspect when it has no row.
pub(crate) fn entity_response(st: &State, urn: &str, aspects: Option<&[String]>) -> Value {
    let ety = store::entity_type(urn).unwrap_or("unknown");
    let mut out = Map::new();
    if let Some(rows) = st.entities.get(urn) {
        for (name, row) in rows {
            if aspects.is_some_and(|a| !a.iter().any(|x| x == name)) && !name.ends_with("Key") {
                continue;
            }
            out.insert(
                name.clone(),
                envelope(
                    name,
                    &row.value,
                    &row.actor,
                    row.time,
                    Some(&row.system_metadata),
                ),
            );
        }
    }
    if let Some((key, value)) = store::key_value(urn) {
        if !out.contains_key(key) {
            let sys = "urn:li:corpuser:__datahub_system";
            out.insert(key.to_string(), envelope(key, &value, sys, now_ms(), None));
        }
    }
    json!({"entityName": ety, "urn": urn, "aspects": out})
}

fn body_obj(body: &[u8]) -> Option<Map<String, Value>> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

fn exists(inner: &Inner, body: &[u8]) -> Reply {
    let Some(p) = body_obj(body) else {
        return Reply::restli_error(400, "request body is not a JSON object");
    };
    let Some(urn) = p.get("urn").and_then(Value::as_str) else {
        return Reply::restli_error(400, "Parameter 'urn' is required");
    };
    // `@ActionParam Boolean includeSoftDelete`: Rest.li coerces no string to a boolean
    // (`CoercionMode.NORMAL`); absent = true.
    let include_soft = match p.get("includeSoftDelete") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => return param_type_error("exists", "includeSoftDelete", other, "Boolean"),
    };
    let st = inner.state();
    let e = st.exists(urn) && (include_soft || !st.removed(urn));
    Reply::json(200, json!({ "value": e }))
}

/// A Rest.li action parameter of the wrong JSON type (`ActionArgumentBuilder` →
/// `RoutingException`, 400).
pub(crate) fn param_type_error(method: &str, param: &str, value: &Value, want: &str) -> Reply {
    let shown = match value {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let msg = format!(
        "Parameters of method '{method}' failed validation with error '[ERROR :: /{param} :: {shown} cannot be coerced to {want}]'"
    );
    let cause = format!("com.linkedin.restli.server.RoutingException: {msg}");
    Reply::restli_error_caused(400, msg, Some(&cause))
}

fn delete(inner: &Inner, actor: &str, body: &[u8]) -> Reply {
    let Some(p) = body_obj(body) else {
        return Reply::restli_error(400, "request body is not a JSON object");
    };
    let Some(urn) = p.get("urn").and_then(Value::as_str) else {
        return Reply::restli_error(400, "Parameter 'urn' is required");
    };
    let mut st = inner.state();
    if !policy::api_allowed(&st, &inner.release, actor, Op::Delete, urn) {
        return Reply::restli_error(403, format!("User is unauthorized to delete entity: {urn}"));
    }
    if st
        .value(urn, "corpUserInfo")
        .and_then(|v| v.get("system"))
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Reply::restli_error(422, format!("Cannot delete system user {urn}"));
    }
    let rows = st.delete_entity(urn, false);
    Reply::json(
        200,
        json!({"value": {"urn": urn, "rows": rows, "timeseriesRows": 0}}),
    )
}

fn relationships(inner: &Inner, query: &[(String, String)]) -> Reply {
    let Some(urn) = param(query, "urn").map(|u| decode(&u)) else {
        return Reply::restli_error(400, "Missing 'urn' parameter");
    };
    let types = param(query, "types")
        .and_then(|t| restli_list(&t))
        .unwrap_or_default();
    let incoming = param(query, "direction").as_deref() == Some("INCOMING");
    let start: usize = param(query, "start")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let count: usize = param(query, "count")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let mut st = inner.state();
    st.index.catch_up();
    let edges = if incoming {
        st.index.edges_to(&urn)
    } else {
        st.index
            .edges_from(&urn)
            .into_iter()
            .map(|(ty, dst)| (dst, ty))
            .collect()
    };
    let all: Vec<(String, &str)> = edges
        .into_iter()
        .filter(|(_, ty)| types.iter().any(|t| t == ty))
        .collect();
    let rels: Vec<Value> = all
        .iter()
        .skip(start)
        .take(count)
        .map(|(e, ty)| json!({"type": ty, "entity": e}))
        .collect();
    Reply::json(
        200,
        json!({"start": start, "count": rels.len(), "total": all.len(), "relationships": rels}),
    )
}
