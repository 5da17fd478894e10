//! The index-backed GraphQL queries: `searchAcrossEntities` (`SearchAcrossEntitiesResolver`
//! → `SearchService` → `CacheableSearcher`), `scrollAcrossEntities`
//! (`ScrollAcrossEntitiesResolver`, `search_after` with `SearchAfterWrapper` scroll ids),
//! `aggregateAcrossEntities` (`AggregateAcrossEntitiesResolver`), `listUsers` and
//! `listGroups` (`ListUsersResolver` / `ListGroupsResolver`: one direct engine query).
//! Facets follow `AggregationQueryBuilder`, `SearchService.withAdditionalAggregates` and
//! `MapperUtils.mapFacet`.

use super::objects::{entity_ref, resolve_json, Ctx};
use super::{err, unauthorized};
use crate::emulator::profile::{ErrorDetail, Release};
use crate::emulator::search::{self, EngineError, Hit, Matched, Query};
use crate::emulator::{policy, search::build_sort};
use apollo_compiler::resolvers::{FieldError, ResolvedValue};
use base64::Engine as _;
use serde_json::{json, Value};

const DEFAULT_MESSAGE: &str = "An unknown error occurred.";

/// The GraphQL error of an unexpected exception: `wrapper` is the resolver's
/// `RuntimeException` message, `causes` the messages below it
/// (`DataHubDataFetcherExceptionHandler` of the release; the future completes with a
/// `CompletionException`, whose message is the wrapped exception's `toString`).
pub(crate) fn server_error(release: &Release, wrapper: &str, causes: &[String]) -> FieldError {
    match release.error_detail() {
        ErrorDetail::Unknown => err(500, DEFAULT_MESSAGE),
        ErrorDetail::FirstRuntime => err(500, format!("java.lang.RuntimeException: {wrapper}")),
        ErrorDetail::RootCause => {
            let mut all = vec![wrapper.to_string()];
            all.extend(causes.iter().cloned());
            err(
                500,
                format!(
                    "java.lang.RuntimeException: {wrapper}. Root cause: {}",
                    all.join(". ")
                ),
            )
        }
    }
}

fn engine_failure(release: &Release, wrapper: &str, e: &EngineError) -> FieldError {
    server_error(
        release,
        wrapper,
        &[
            "Search query failed:".to_string(),
            format!("OpenSearch exception [type=search_phase_execution_exception, reason=all shards failed]. {e}"),
        ],
    )
}

fn graphql_type(entity_type: &str) -> &'static str {
    match entity_type {
        "corpuser" => "CORP_USER",
        "corpGroup" => "CORP_GROUP",
        _ => "OTHER",
    }
}

fn types(input: &Value) -> Vec<&'static str> {
    match input["types"].as_array() {
        Some(t) if !t.is_empty() => t
            .iter()
            .filter_map(|t| match t.as_str() {
                Some("CORP_USER") => Some("corpuser"),
                Some("CORP_GROUP") => Some("corpGroup"),
                _ => None,
            })
            .collect(),
        _ => vec!["corpuser", "corpGroup"],
    }
}

fn sort_criteria(input: &Value) -> Vec<(String, bool)> {
    let sort = &input["sortInput"];
    let list = match sort["sortCriteria"].as_array() {
        Some(l) if !l.is_empty() => l.clone(),
        _ if sort["sortCriterion"].is_object() => vec![sort["sortCriterion"].clone()],
        _ => Vec::new(),
    };
    list.iter()
        .filter_map(|c| {
            let f = c["field"].as_str()?.to_string();
            Some((f, c["sortOrder"].as_str() == Some("DESCENDING")))
        })
        .collect()
}

fn query<'a>(input: &'a Value, types: Vec<&'static str>, or_filters: Vec<Value>) -> Query<'a> {
    let text = input["query"].as_str().unwrap_or("");
    Query {
        types,
        text: if text.trim().is_empty() { "*" } else { text },
        or_filters,
        include_removed: input["searchFlags"]["includeSoftDeleted"]
            .as_bool()
            .unwrap_or(false),
    }
}

fn agg(value: &str, count: usize) -> Value {
    json!({"__typename": "AggregationMetadata", "value": value, "count": count, "entity": null, "displayName": null})
}

fn facet(field: &str, display: &str, aggs: Vec<Value>) -> Value {
    json!({"__typename": "FacetMetadata", "field": field, "displayName": display, "entity": null, "aggregations": aggs})
}

/// The `_entityType` aggregation (exact counts, zeros included) as GraphQL facets.
fn entity_type_aggs(m: &Matched) -> Vec<Value> {
    let mut counts: Vec<(&str, usize)> = m
        .per_type
        .iter()
        .map(|(t, n)| (graphql_type(t), *n))
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    counts.into_iter().map(|(t, n)| agg(t, n)).collect()
}

/// The synthetic `entity` facet when no `_entityType` aggregation was run: counts of
/// the returned page only (`withAdditionalAggregates`' fallback).
fn page_entity_facet(page: &[&Hit]) -> Value {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for h in page {
        *counts.entry(graphql_type(&h.entity_type)).or_default() += 1;
    }
    facet(
        "entity",
        "Type",
        counts.into_iter().map(|(t, n)| agg(t, n)).collect(),
    )
}

/// Facets of a search or scroll: `_entityType` and its `entity` twin unless
/// `skipAggregates`; `entity_twin` is false for 0.15 scrolls (#12746).
fn default_facets(input: &Value, m: &Matched, page: &[&Hit], entity_twin: bool) -> Value {
    let skip = input["searchFlags"]["skipAggregates"].as_bool() == Some(true);
    let mut out = Vec::new();
    if !skip {
        out.push(facet("_entityType", "Type", entity_type_aggs(m)));
        if entity_twin {
            out.push(facet("entity", "Type", entity_type_aggs(m)));
        }
    } else if entity_twin {
        out.push(page_entity_facet(page));
    }
    Value::Array(out)
}

fn results(page: &[&Hit]) -> Vec<Value> {
    page.iter()
        .map(|h| json!({"__typename": "SearchResult", "entity": entity_ref(&h.urn), "matchedFields": []}))
        .collect()
}

fn count_arg(input: &Value, default: i64) -> i64 {
    input["count"].as_i64().unwrap_or(default)
}

/// `searchAcrossEntities`.
fn search_across<'a>(ctx: &'a Ctx<'a>, input: &Value) -> Result<ResolvedValue<'a>, FieldError> {
    let release = &ctx.inner.release;
    let start = input["start"].as_i64().unwrap_or(0).max(0) as usize;
    let count = count_arg(input, 10);
    let size = search::apply_limit(release, count) as usize;
    let mut filters = input["orFilters"].as_array().cloned().unwrap_or_default();
    if filters.is_empty() {
        if let Some(and) = input["filters"].as_array().filter(|f| !f.is_empty()) {
            filters.push(json!({"and": and}));
        }
    }
    let q = query(input, types(input), filters);
    let sort = build_sort(&sort_criteria(input));
    let mut cost = 0;
    let outcome = {
        let mut st = ctx.inner.state();
        st.index.catch_up();
        let m = search::run(&st.index, &q, &sort, &[]);
        search::cacheable(release, &m, start, size, &mut cost).map(|page| {
            let facets = default_facets(input, &m, &page, true);
            json!({"__typename": "SearchResults", "start": start, "count": size,
                "total": m.total(), "searchResults": results(&page), "facets": facets})
        })
    };
    ctx.engine.set(ctx.engine.get() + cost);
    match outcome {
        Ok(v) => resolve_json(ctx, v),
        Err(e) => Err(engine_failure(
            release,
            &format!(
                "Failed to execute search: entity types {}, query {}, filters: {}, start: {start}, count: {count}",
                types_text(input), input["query"].as_str().unwrap_or(""), filters_text(input)
            ),
            &e,
        )),
    }
}

fn types_text(input: &Value) -> String {
    match input["types"].as_array() {
        Some(t) => format!(
            "[{}]",
            t.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => "null".into(),
    }
}

fn filters_text(input: &Value) -> String {
    match &input["orFilters"] {
        Value::Null => "null".into(),
        v => v.to_string(),
    }
}

/// A scroll id's search-after values (`SearchAfterWrapper.fromScrollId`): not Base64 →
/// `IllegalArgumentException` (400); not the wrapper's JSON → `IllegalStateException`.
fn decode_scroll_id(release: &Release, id: &str) -> Result<Option<Vec<Value>>, FieldError> {
    let cfg = base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent);
    let engine = base64::engine::GeneralPurpose::new(&base64::alphabet::STANDARD, cfg);
    if let Some(b) = id
        .bytes()
        .find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')))
    {
        return Err(err(
            400,
            format!("Illegal base64 character {:x}", i32::from(b as i8)),
        ));
    }
    let bytes = engine
        .decode(id)
        .map_err(|_| err(400, "Input byte array has wrong 4-byte ending unit"))?;
    let bad = |why: &str| {
        let msg = format!("Invalid scroll Id cannot be mapped: {id}");
        match release.error_detail() {
            ErrorDetail::Unknown => err(500, DEFAULT_MESSAGE),
            ErrorDetail::FirstRuntime => err(500, msg),
            ErrorDetail::RootCause => err(500, format!("{msg}. Root cause: {why}")),
        }
    };
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
    let Value::Object(o) = v else {
        return Err(bad("Cannot deserialize value of type `SearchAfterWrapper`"));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !matches!(k.as_str(), "sort" | "pitId" | "expirationTime"))
    {
        return Err(bad(&format!("Unrecognized field \"{k}\"")));
    }
    match o.get("sort") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a.clone())),
        Some(_) => Err(bad("Cannot deserialize value of type `java.lang.Object[]`")),
    }
}

/// `SearchAfterWrapper.toScrollId` without a point in time.
pub(crate) fn scroll_id(sort: &[Value]) -> String {
    let body = json!({"sort": sort, "pitId": null, "expirationTime": 0});
    base64::engine::general_purpose::STANDARD.encode(body.to_string())
}

/// `scrollAcrossEntities`.
fn scroll_across<'a>(ctx: &'a Ctx<'a>, input: &Value) -> Result<ResolvedValue<'a>, FieldError> {
    let release = &ctx.inner.release;
    let count = count_arg(input, 10);
    let size = search::apply_limit(release, count) as usize;
    let after = match input["scrollId"].as_str() {
        Some(id) => decode_scroll_id(release, id)?,
        None => None,
    };
    let filters = input["orFilters"].as_array().cloned().unwrap_or_default();
    let q = query(input, types(input), filters);
    let twin = release.scroll_sort_and_entity_facet();
    let sort = build_sort(&if twin { sort_criteria(input) } else { vec![] });
    let mut cost = 0;
    let outcome = {
        let mut st = ctx.inner.state();
        st.index.catch_up();
        let m = search::run(&st.index, &q, &sort, &[]);
        search::scroll(&m, &sort, after.as_deref(), size, &mut cost).map(|hits| {
            let page: Vec<&Hit> = hits.iter().collect();
            let next = match hits.last() {
                Some(last) if hits.len() == size => json!(scroll_id(&last.sort)),
                _ => Value::Null,
            };
            let shown = if release.scroll_count_capped_by_total() {
                size.min(m.total())
            } else {
                size
            };
            json!({"__typename": "ScrollResults", "nextScrollId": next, "count": shown,
                "total": m.total(), "searchResults": results(&page),
                "facets": default_facets(input, &m, &page, twin)})
        })
    };
    ctx.engine.set(ctx.engine.get() + cost);
    match outcome {
        Ok(v) => resolve_json(ctx, v),
        Err(e) => Err(engine_failure(
            release,
            &format!(
                "Failed to execute search: entity types {}, query {}, filters: {}, start: {}, count: {count}",
                types_text(input),
                input["query"].as_str().unwrap_or(""),
                filters_text(input),
                input["scrollId"].as_str().unwrap_or("null")
            ),
            &e,
        )),
    }
}

/// `aggregateAcrossEntities`: a `searchAcrossEntities(…, 0, 0, facets)`.
fn aggregate_across<'a>(ctx: &'a Ctx<'a>, input: &Value) -> Result<ResolvedValue<'a>, FieldError> {
    let release = &ctx.inner.release;
    let asked: Vec<String> = input["facets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect();
    let fields: Vec<String> = asked
        .iter()
        .filter(|f| !matches!(f.as_str(), "_entityType" | "entity"))
        .cloned()
        .collect();
    let max = input["searchFlags"]["maxAggValues"]
        .as_u64()
        .unwrap_or(20)
        .min(60) as usize;
    let q = query(
        input,
        types(input),
        input["orFilters"].as_array().cloned().unwrap_or_default(),
    );
    let sort = build_sort(&[]);
    let mut cost = 0;
    let facets = {
        let mut st = ctx.inner.state();
        st.index.catch_up();
        let m = search::run(&st.index, &q, &sort, &fields);
        // `from + size` is 0: one batch, never beyond the window.
        let page = search::cacheable(release, &m, 0, 0, &mut cost).unwrap_or_default();
        if input["searchFlags"]["skipAggregates"].as_bool() == Some(true) {
            vec![page_entity_facet(&page)]
        } else {
            let type_facet =
                asked.is_empty() || asked.iter().any(|f| f == "_entityType" || f == "entity");
            let mut out = Vec::new();
            if type_facet {
                out.push(facet("_entityType", "Type", entity_type_aggs(&m)));
            }
            for f in &fields {
                let mut counts: Vec<(&String, &usize)> =
                    m.field_counts.get(f).into_iter().flatten().collect();
                counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                let display = if f == "typeNames" {
                    "Sub Type"
                } else {
                    f.as_str()
                };
                let aggs = counts
                    .into_iter()
                    .take(max)
                    .map(|(v, n)| agg(v, *n))
                    .collect();
                out.push(facet(f, display, aggs));
            }
            if type_facet {
                out.push(facet("entity", "Type", entity_type_aggs(&m)));
            }
            out
        }
    };
    ctx.engine.set(ctx.engine.get() + cost);
    resolve_json(
        ctx,
        json!({"__typename": "AggregateResults", "facets": facets}),
    )
}

/// `listUsers` / `listGroups`: one engine query with the caller's `start`/`count`.
fn list<'a>(ctx: &'a Ctx<'a>, input: &Value, users: bool) -> Result<ResolvedValue<'a>, FieldError> {
    let release = &ctx.inner.release;
    let manage = policy::can_manage_identities(&ctx.inner.state(), release, ctx.actor);
    if !manage && !(users && release.list_users_open()) {
        return Err(unauthorized());
    }
    let start = input["start"].as_i64().unwrap_or(0).max(0) as usize;
    let size = search::apply_limit(release, count_arg(input, 20)) as usize;
    let (ty, sort, filters) = if users {
        // #15972 (1.4.0): service accounts (subTypes SERVICE_ACCOUNT) are left out.
        let f = if release.list_users_open() {
            vec![
                json!({"and": [{"field": "typeNames", "values": ["SERVICE_ACCOUNT"], "negated": true, "condition": "EQUAL"}]}),
            ]
        } else {
            vec![]
        };
        ("corpuser", build_sort(&[]), f)
    } else {
        (
            "corpGroup",
            build_sort(&[("createdTime".into(), true)]),
            vec![],
        )
    };
    let q = query(input, vec![ty], filters);
    let mut cost = 0;
    let outcome = {
        let mut st = ctx.inner.state();
        st.index.catch_up();
        let m = search::run(&st.index, &q, &sort, &[]);
        search::engine_page(&m, start, size, &mut cost).map(|hits| {
            let refs: Vec<Value> = hits.iter().map(|h| entity_ref(&h.urn)).collect();
            let (tn, key) = if users {
                ("ListUsersResult", "users")
            } else {
                ("ListGroupsResult", "groups")
            };
            let mut v =
                json!({"__typename": tn, "start": start, "count": size, "total": m.total()});
            v[key] = Value::Array(refs);
            v
        })
    };
    ctx.engine.set(ctx.engine.get() + cost);
    match outcome {
        Ok(v) => resolve_json(ctx, v),
        Err(e) => Err(engine_failure(
            release,
            if users {
                "Failed to list users"
            } else {
                "Failed to list groups"
            },
            &e,
        )),
    }
}

/// Resolves one of the search root fields.
pub(crate) fn resolve<'a>(
    ctx: &'a Ctx<'a>,
    field: &str,
    input: &Value,
) -> Result<ResolvedValue<'a>, FieldError> {
    match field {
        "searchAcrossEntities" => search_across(ctx, input),
        "scrollAcrossEntities" => scroll_across(ctx, input),
        "aggregateAcrossEntities" => aggregate_across(ctx, input),
        "listUsers" => list(ctx, input, true),
        _ => list(ctx, input, false),
    }
}
