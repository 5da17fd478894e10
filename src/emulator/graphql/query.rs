//! Query root: `me`, `corpUser`, `corpGroup` (primary store, phantom loads) and the
//! index-backed `listUsers`, `listGroups`, `searchAcrossEntities` (index fields of the
//! `Searchable` annotations, soft-deleted excluded unless asked for).

use super::objects::{args, entity_ref, load, resolve_json, Ctx};
use super::{err, unauthorized};
use crate::emulator::{auth, store};
use apollo_compiler::resolvers::{FieldError, ResolveInfo, ResolvedValue};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Index fields of a document (field name → values), as DataHub's search mappings.
fn index_fields(urn: &str, doc: &BTreeMap<&str, &Value>) -> BTreeMap<&'static str, Vec<String>> {
    let mut out: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut put = |field: &'static str, v: Option<&Value>| {
        let s = match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return,
        };
        out.entry(field).or_default().push(s);
    };
    let get = |aspect: &str, f: &str| doc.get(aspect).and_then(|a| a.get(f));
    match store::entity_type(urn) {
        Some("corpuser") => {
            put("ldap", get("corpUserKey", "username"));
            for f in [
                "displayName",
                "fullName",
                "email",
                "title",
                "active",
                "system",
                "isSupportUser",
            ] {
                put(f, get("corpUserInfo", f));
            }
            put("displayName", get("corpUserEditableInfo", "displayName"));
            put("managerLdap", get("corpUserInfo", "managerUrn"));
            // A `Searchable /*` map field: one `key=value` string per entry
            // (DataHub's FieldExtractor for map values).
            if let Some(props) = get("corpUserInfo", "customProperties").and_then(Value::as_object)
            {
                for (k, v) in props {
                    if let Some(v) = v.as_str() {
                        put("customProperties", Some(&Value::String(format!("{k}={v}"))));
                    }
                }
            }
            put("status", get("corpUserStatus", "status"));
        }
        Some("corpGroup") => {
            put("name", get("corpGroupKey", "name"));
            put("displayName", get("corpGroupInfo", "displayName"));
            put("description", get("corpGroupInfo", "description"));
            put(
                "editedDescription",
                get("corpGroupEditableInfo", "description"),
            );
        }
        _ => {}
    }
    let removed = get("status", "removed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    out.insert("removed", vec![removed.to_string()]);
    out
}

fn matches_criterion(fields: &BTreeMap<&str, Vec<String>>, c: &Value) -> bool {
    let field = c["field"].as_str().unwrap_or_default();
    let field = field.strip_suffix(".keyword").unwrap_or(field);
    let values: Vec<&str> = c["values"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let have = fields.get(field).cloned().unwrap_or_default();
    let cond = c["condition"].as_str().unwrap_or("EQUAL");
    let hit = match cond {
        "EXISTS" => !have.is_empty(),
        _ => values.iter().any(|want| {
            have.iter().any(|h| match cond {
                "IEQUAL" => h.eq_ignore_ascii_case(want),
                "CONTAIN" => h.to_lowercase().contains(&want.to_lowercase()),
                "START_WITH" => h.to_lowercase().starts_with(&want.to_lowercase()),
                "END_WITH" => h.to_lowercase().ends_with(&want.to_lowercase()),
                _ => h == want,
            })
        }),
    };
    hit != c["negated"].as_bool().unwrap_or(false)
}

fn matches_text(fields: &BTreeMap<&str, Vec<String>>, q: &str) -> bool {
    let q = q.trim();
    if q.is_empty() || q == "*" {
        return true;
    }
    let q = q.to_lowercase();
    fields
        .iter()
        .filter(|(k, _)| !matches!(**k, "removed" | "active" | "system" | "isSupportUser"))
        .any(|(_, vs)| vs.iter().any(|v| v.to_lowercase().contains(&q)))
}

/// Index search: urns of type `types` matching the text query and the OR-of-ANDs
/// filters, soft-deleted excluded unless `include_removed` or a filter names `removed`.
fn search(
    ctx: &Ctx<'_>,
    types: &[&str],
    text: &str,
    or_filters: &[Value],
    include_removed: bool,
) -> Vec<(String, BTreeMap<&'static str, Vec<String>>)> {
    let mut st = ctx.inner.state();
    st.index.catch_up();
    let names_removed = or_filters
        .iter()
        .flat_map(|a| a["and"].as_array().cloned().unwrap_or_default())
        .any(|c| c["field"].as_str() == Some("removed"));
    let mut out = Vec::new();
    for (urn, doc) in st.index.docs() {
        let Some(ety) = store::entity_type(urn) else {
            continue;
        };
        if !types.contains(&ety) {
            continue;
        }
        let Some((key, _)) = store::key_aspect(ety) else {
            continue;
        };
        if !doc.contains_key(key) {
            continue;
        }
        let fields = index_fields(urn, &doc);
        if !include_removed && !names_removed && fields["removed"][0] == "true" {
            continue;
        }
        if !matches_text(&fields, text) {
            continue;
        }
        let ok = or_filters.is_empty()
            || or_filters.iter().any(|and| {
                and["and"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .all(|c| matches_criterion(&fields, c))
            });
        if ok {
            out.push((urn.clone(), fields));
        }
    }
    out
}

fn page<T>(all: Vec<T>, start: usize, count: usize) -> Vec<T> {
    all.into_iter().skip(start).take(count).collect()
}

pub(crate) fn resolve<'a>(
    ctx: &'a Ctx<'a>,
    info: &ResolveInfo<'_>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let a = args(info);
    let input = &a["input"];
    let start = input["start"].as_u64().unwrap_or(0) as usize;
    match info.field_name() {
        "me" => {
            let admin = auth::is_admin(&ctx.inner.state(), ctx.actor);
            let mut privs = serde_json::Map::new();
            privs.insert("__typename".into(), json!("PlatformPrivileges"));
            let def = info
                .schema()
                .get_object("PlatformPrivileges")
                .map(|o| o.fields.keys().map(|k| k.to_string()).collect::<Vec<_>>())
                .unwrap_or_default();
            for f in def {
                let v = admin || f == "generatePersonalAccessTokens";
                privs.insert(f, json!(v));
            }
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
        "listUsers" => {
            let count = input["count"].as_u64().unwrap_or(20) as usize;
            let q = input["query"].as_str().unwrap_or("");
            let all: Vec<String> = {
                let found = search(ctx, &["corpuser"], q, &[], false);
                let st = ctx.inner.state();
                found
                    .into_iter()
                    .map(|(u, _)| u)
                    .filter(|u| {
                        !st.value(u, "subTypes")
                            .and_then(|s| s.get("typeNames"))
                            .and_then(Value::as_array)
                            .is_some_and(|t| {
                                t.iter().any(|x| x.as_str() == Some("SERVICE_ACCOUNT"))
                            })
                    })
                    .collect()
            };
            let total = all.len();
            let users: Vec<Value> = page(all, start, count)
                .iter()
                .map(|u| entity_ref(u))
                .collect();
            resolve_json(
                ctx,
                json!({"__typename": "ListUsersResult", "start": start, "count": users.len(), "total": total, "users": users}),
            )
        }
        "listGroups" => {
            if !auth::is_admin(&ctx.inner.state(), ctx.actor) {
                return Err(unauthorized());
            }
            let count = input["count"].as_u64().unwrap_or(20) as usize;
            let q = input["query"].as_str().unwrap_or("");
            let found = search(ctx, &["corpGroup"], q, &[], false);
            let mut all: Vec<(i64, String)> = {
                let st = ctx.inner.state();
                found
                    .into_iter()
                    .map(|(u, _)| {
                        let t = st
                            .value(&u, "corpGroupInfo")
                            .and_then(|i| i.pointer("/created/time"))
                            .and_then(Value::as_i64)
                            .unwrap_or(0);
                        (t, u)
                    })
                    .collect()
            };
            all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let total = all.len();
            let groups: Vec<Value> = page(all, start, count)
                .iter()
                .map(|(_, u)| entity_ref(u))
                .collect();
            resolve_json(
                ctx,
                json!({"__typename": "ListGroupsResult", "start": start, "count": groups.len(), "total": total, "groups": groups}),
            )
        }
        "searchAcrossEntities" => {
            let count = input["count"].as_u64().unwrap_or(10) as usize;
            let mut types: Vec<&str> = input["types"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| match t.as_str() {
                    Some("CORP_USER") => Some("corpuser"),
                    Some("CORP_GROUP") => Some("corpGroup"),
                    _ => None,
                })
                .collect();
            if input["types"].as_array().is_none_or(|t| t.is_empty()) {
                types = vec!["corpuser", "corpGroup"];
            }
            let mut filters: Vec<Value> =
                input["orFilters"].as_array().cloned().unwrap_or_default();
            if let Some(and) = input["filters"].as_array().filter(|f| !f.is_empty()) {
                filters.push(json!({"and": and}));
            }
            let include_removed = input["searchFlags"]["includeSoftDeleted"]
                .as_bool()
                .unwrap_or(false);
            let q = input["query"].as_str().unwrap_or("*");
            let mut all = search(ctx, &types, q, &filters, include_removed);
            // Results come in urn order (relevance ties in DataHub break on `urn`);
            // `sortInput` by `urn` descending reverses it. Other sort fields are not
            // emulated.
            let sort = &input["sortInput"];
            let first = sort["sortCriteria"]
                .get(0)
                .unwrap_or(&sort["sortCriterion"]);
            if first["field"].as_str() == Some("urn")
                && first["sortOrder"].as_str() == Some("DESCENDING")
            {
                all.reverse();
            }
            let total = all.len();
            let results: Vec<Value> = page(all, start, count)
                .into_iter()
                .map(|(u, _)| json!({"__typename": "SearchResult", "entity": entity_ref(&u), "matchedFields": []}))
                .collect();
            resolve_json(
                ctx,
                json!({"__typename": "SearchResults", "start": start, "count": results.len(), "total": total, "searchResults": results}),
            )
        }
        other => Err(err(
            500,
            format!("field {other} is not served by the emulator"),
        )),
    }
}
