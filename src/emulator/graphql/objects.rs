//! GraphQL object values: the entity types loaded from the primary store (`CorpUser`,
//! `CorpGroup`, `DataHubRole`, `AccessTokenMetadata`, with phantom loads of absent urns),
//! plain JSON-backed objects, and the index-backed `relationships(input)` field.

use super::{err, mutation, query};
use crate::emulator::state::State;
use crate::emulator::{store, Inner};
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::JsonValue;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Per-request context.
pub(crate) struct Ctx<'a> {
    pub inner: &'a Inner,
    pub actor: &'a str,
    /// Search-engine queries run for this request.
    pub engine: std::cell::Cell<u64>,
}

/// An entity snapshot read from the primary store.
pub(crate) struct Entity {
    pub urn: String,
    pub aspects: BTreeMap<String, Value>,
}

impl Entity {
    fn get(&self, aspect: &str) -> Option<&Value> {
        self.aspects.get(aspect)
    }
    fn field(&self, aspect: &str, field: &str) -> Value {
        self.get(aspect)
            .and_then(|a| a.get(field))
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// Every GraphQL object the emulator resolves.
pub(crate) enum Obj<'a> {
    Query(&'a Ctx<'a>),
    Mutation(&'a Ctx<'a>),
    User(&'a Ctx<'a>, Entity),
    Group(&'a Ctx<'a>, Entity),
    Role(&'a Ctx<'a>, Entity),
    Token(&'a Ctx<'a>, Entity),
    /// A plain object: type name + JSON; `{"__entity": urn}` members load entities,
    /// `{"__typename": T, …}` members are nested plain objects.
    Json(&'a Ctx<'a>, String, Value),
}

/// Reference to an entity inside a JSON-backed object.
pub(crate) fn entity_ref(urn: &str) -> Value {
    json!({ "__entity": urn })
}

/// Converts a serde_json value to the executor's JSON type.
pub(crate) fn leaf<'a>(v: Value) -> ResolvedValue<'a> {
    ResolvedValue::Leaf(serde_json::from_value::<JsonValue>(v).unwrap_or(JsonValue::Null))
}

/// Loads an entity as its GraphQL object. Absent urns still load (phantom), as DataHub
/// loads with "always include key aspect". A user whose `corpUserStatus.status` is not
/// a `CorpUserStatus` enum value fails to load, as in DataHub's mapper.
pub(crate) fn load<'a>(ctx: &'a Ctx<'a>, st: &State, urn: &str) -> Result<Obj<'a>, FieldError> {
    let aspects: BTreeMap<String, Value> = st
        .entities
        .get(urn)
        .map(|rows| {
            rows.iter()
                .map(|(k, r)| (k.clone(), r.value.clone()))
                .collect()
        })
        .unwrap_or_default();
    let e = Entity {
        urn: urn.to_string(),
        aspects,
    };
    match store::entity_type(urn) {
        Some("corpuser") => {
            if let Some(s) = e.field("corpUserStatus", "status").as_str() {
                if s != "ACTIVE" && s != "SUSPENDED" {
                    return Err(err(
                        500,
                        format!("Failed to load entity: No enum constant com.linkedin.datahub.graphql.generated.CorpUserStatus.{s}"),
                    ));
                }
            }
            Ok(Obj::User(ctx, e))
        }
        Some("corpGroup") => Ok(Obj::Group(ctx, e)),
        Some("dataHubRole") => Ok(Obj::Role(ctx, e)),
        Some("dataHubAccessToken") => Ok(Obj::Token(ctx, e)),
        _ => Err(err(400, format!("Unsupported entity urn {urn}"))),
    }
}

fn load_value<'a>(ctx: &'a Ctx<'a>, urn: &str) -> Result<ResolvedValue<'a>, FieldError> {
    let st = ctx.inner.state();
    Ok(ResolvedValue::object(load(ctx, &st, urn)?))
}

/// Turns a JSON member into a resolved value (entities, nested objects, lists, leaves).
pub(crate) fn resolve_json<'a>(
    ctx: &'a Ctx<'a>,
    v: Value,
) -> Result<ResolvedValue<'a>, FieldError> {
    match v {
        Value::Object(m) if m.contains_key("__entity") => {
            let urn = m
                .get("__entity")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            load_value(ctx, &urn)
        }
        Value::Object(m) if m.contains_key("__typename") => {
            let t = m
                .get("__typename")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            Ok(ResolvedValue::object(Obj::Json(ctx, t, Value::Object(m))))
        }
        Value::Array(items) => Ok(ResolvedValue::List(Box::new(
            items.into_iter().map(move |i| resolve_json(ctx, i)),
        ))),
        other => Ok(leaf(other)),
    }
}

/// A plain object value, or null when `v` is null.
pub(crate) fn typed(t: &str, v: Option<&Value>) -> Value {
    match v {
        Some(Value::Object(m)) => {
            let mut m = m.clone();
            m.insert("__typename".into(), json!(t));
            Value::Object(m)
        }
        _ => Value::Null,
    }
}

/// Arguments of the current field as serde_json.
pub(crate) fn args(info: &ResolveInfo<'_>) -> Value {
    serde_json::to_value(info.arguments()).unwrap_or(Value::Null)
}

/// `relationships(input)`, served from the (lagging) graph index
/// (`EntityRelationshipsResultResolver`). Edges of soft-deleted entities are never
/// returned: the graph query excludes edges flagged removed whatever
/// `includeSoftDelete` says (status tracking is on by default). Paging follows the
/// release (`Release::membership_reads_in_memory`): up to 1.6 one Elasticsearch
/// `from`/`size` query (default `count` 100, `total` capped at 10,000, a page past
/// the 10,000th edge fails in the engine), from 1.7 an in-memory slice of every
/// membership edge (default: all; exact `total`; `count: 0` answers `total: 0`, an
/// upstream regression). `count` is the number of edges returned.
fn relationships(ctx: &Ctx<'_>, urn: &str, input: &Value) -> Result<Value, FieldError> {
    const WINDOW: usize = 10_000;
    let types: Vec<&str> = input["types"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let incoming = input["direction"].as_str() == Some("INCOMING");
    let release = &ctx.inner.release;
    let membership = types
        .iter()
        .all(|t| matches!(*t, "IsMemberOfGroup" | "IsMemberOfNativeGroup"))
        && !types.is_empty();
    let in_memory = membership && release.membership_reads_in_memory();
    let start = input["start"].as_u64().unwrap_or(0) as usize;
    let count = input["count"].as_u64().map(|c| c as usize);
    let mut st = ctx.inner.state();
    st.index.catch_up();
    let removed = |u: &str| st.index.doc(u).is_some_and(|d| d.removed);
    let edges = if incoming {
        st.index.edges_to(urn)
    } else {
        st.index
            .edges_from(urn)
            .into_iter()
            .map(|(ty, dst)| (dst, ty))
            .collect()
    };
    let all: Vec<(String, &str)> = edges
        .into_iter()
        .filter(|(_, ty)| types.contains(ty))
        .filter(|(other, _)| !removed(other))
        .collect();
    let (total, page_len) = if in_memory {
        match count {
            Some(0) => (0, 0),
            Some(c) => (all.len(), c),
            None => (all.len(), all.len()),
        }
    } else {
        let size = count.unwrap_or(100);
        if start + size > WINDOW {
            let detail = format!(
                "Result window is too large, from + size must be less than or equal to: [{WINDOW}] but was [{}]",
                start + size
            );
            return Err(super::search::server_error(
                release,
                "Failed to fetch relationships",
                &[detail],
            ));
        }
        (all.len().min(WINDOW), size)
    };
    let dir = if incoming { "INCOMING" } else { "OUTGOING" };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(page_len)
        .map(|(other, ty)| {
            json!({"__typename": "EntityRelationship", "type": ty, "direction": dir,
                   "entity": entity_ref(other), "created": null})
        })
        .collect();
    Ok(
        json!({"__typename": "EntityRelationshipsResult", "start": start, "count": page.len(),
           "total": total, "relationships": page}),
    )
}

fn user_field<'a>(
    ctx: &'a Ctx<'a>,
    e: &Entity,
    info: &ResolveInfo<'_>,
) -> Result<ResolvedValue<'a>, FieldError> {
    // `CorpUserMapper.mapCorpUserInfo`: the properties, the manager as a stub entity,
    // and `customProperties` as `CustomPropertiesMapper` entries (key, value, the urn).
    let props = |with_custom: bool| {
        let mut p = typed("CorpUserProperties", e.get("corpUserInfo"));
        if let Some(m) = p.as_object_mut() {
            if let Some(mgr) = m.remove("managerUrn") {
                m.insert(
                    "manager".into(),
                    entity_ref(mgr.as_str().unwrap_or_default()),
                );
            }
            let custom = m.remove("customProperties");
            if let (true, Some(Value::Object(c))) = (with_custom, custom) {
                let entries: Vec<Value> = c
                    .into_iter()
                    .map(|(k, v)| {
                        json!({"__typename": "CustomPropertiesEntry", "key": k,
                               "value": v, "associatedUrn": e.urn})
                    })
                    .collect();
                m.insert("customProperties".into(), Value::Array(entries));
            }
        }
        p
    };
    let v = match info.field_name() {
        "urn" => json!(e.urn),
        "type" => json!("CORP_USER"),
        "username" => e
            .get("corpUserKey")
            .map(|k| k["username"].clone())
            .unwrap_or_else(|| json!(store::urn_id(&e.urn))),
        "properties" => props(true),
        "info" => {
            let mut p = props(false);
            if let Some(m) = p.as_object_mut() {
                m.insert("__typename".into(), json!("CorpUserInfo"));
            }
            p
        }
        "editableProperties" => typed("CorpUserEditableProperties", e.get("corpUserEditableInfo")),
        "editableInfo" => typed("CorpUserEditableInfo", e.get("corpUserEditableInfo")),
        "status" => e.field("corpUserStatus", "status"),
        "isNativeUser" => json!(e
            .get("corpUserCredentials")
            .is_some_and(|c| c.get("salt").is_some() && c.get("hashedPassword").is_some())),
        "exists" => json!(e.get("corpUserKey").is_some()),
        "relationships" => relationships(ctx, &e.urn, &args(info)["input"])?,
        _ => Value::Null,
    };
    resolve_json(ctx, v)
}

fn group_field<'a>(
    ctx: &'a Ctx<'a>,
    e: &Entity,
    info: &ResolveInfo<'_>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let pick = |t: &str, fields: &[&str]| match e.get("corpGroupInfo") {
        Some(i) => {
            let mut m = serde_json::Map::new();
            m.insert("__typename".into(), json!(t));
            for f in fields {
                if let Some(v) = i.get(*f) {
                    m.insert((*f).to_string(), v.clone());
                }
            }
            Value::Object(m)
        }
        None => Value::Null,
    };
    let refs = |f: &str| -> Value {
        e.field("corpGroupInfo", f)
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(entity_ref)
            .collect()
    };
    let v = match info.field_name() {
        "urn" => json!(e.urn),
        "type" => json!("CORP_GROUP"),
        "name" => e
            .get("corpGroupKey")
            .map(|k| k["name"].clone())
            .unwrap_or_else(|| json!(store::urn_id(&e.urn))),
        "properties" => pick(
            "CorpGroupProperties",
            &["displayName", "description", "email", "slack"],
        ),
        "info" => {
            let mut i = pick(
                "CorpGroupInfo",
                &["displayName", "description", "email", "groups"],
            );
            if let Some(m) = i.as_object_mut() {
                m.insert("admins".into(), refs("admins"));
                m.insert("members".into(), refs("members"));
            }
            i
        }
        "editableProperties" => typed(
            "CorpGroupEditableProperties",
            e.get("corpGroupEditableInfo"),
        ),
        "origin" => typed("Origin", e.get("origin")),
        "exists" => json!(e.get("corpGroupKey").is_some()),
        "relationships" => relationships(ctx, &e.urn, &args(info)["input"])?,
        _ => Value::Null,
    };
    resolve_json(ctx, v)
}

fn role_field<'a>(
    ctx: &'a Ctx<'a>,
    e: &Entity,
    info: &ResolveInfo<'_>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let v = match info.field_name() {
        "urn" => json!(e.urn),
        "type" => json!("DATAHUB_ROLE"),
        "name" => e
            .get("dataHubRoleInfo")
            .map(|i| i["name"].clone())
            .unwrap_or_else(|| json!(store::urn_id(&e.urn))),
        "description" => json!(e
            .field("dataHubRoleInfo", "description")
            .as_str()
            .unwrap_or_default()),
        "relationships" => relationships(ctx, &e.urn, &args(info)["input"])?,
        _ => Value::Null,
    };
    resolve_json(ctx, v)
}

fn token_field<'a>(
    ctx: &'a Ctx<'a>,
    e: &Entity,
    info: &ResolveInfo<'_>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let f = |n: &str| e.field("dataHubAccessTokenInfo", n);
    let v = match info.field_name() {
        "urn" => json!(e.urn),
        "type" => json!("ACCESS_TOKEN"),
        "id" => json!(store::urn_id(&e.urn)),
        "owner" => entity_ref(f("ownerUrn").as_str().unwrap_or_default()),
        "relationships" => relationships(ctx, &e.urn, &args(info)["input"])?,
        other => f(other),
    };
    resolve_json(ctx, v)
}

impl ObjectValue for Obj<'_> {
    fn type_name(&self) -> &str {
        match self {
            Obj::Query(_) => "Query",
            Obj::Mutation(_) => "Mutation",
            Obj::User(..) => "CorpUser",
            Obj::Group(..) => "CorpGroup",
            Obj::Role(..) => "DataHubRole",
            Obj::Token(..) => "AccessTokenMetadata",
            Obj::Json(_, t, _) => t,
        }
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        match self {
            Obj::Query(ctx) => query::resolve(ctx, info),
            Obj::Mutation(ctx) => mutation::resolve(ctx, info),
            Obj::User(ctx, e) => user_field(ctx, e, info),
            Obj::Group(ctx, e) => group_field(ctx, e, info),
            Obj::Role(ctx, e) => role_field(ctx, e, info),
            Obj::Token(ctx, e) => token_field(ctx, e, info),
            Obj::Json(ctx, _, v) => resolve_json(
                ctx,
                v.get(info.field_name()).cloned().unwrap_or(Value::Null),
            ),
        }
    }
}
