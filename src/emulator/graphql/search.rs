//! The index-backed GraphQL queries: `searchAcrossEntities` (`SearchAcrossEntitiesResolver`
//! → `SearchService` → `CacheableSearcher`), `scrollAcrossEntities` (in `scroll.rs`),
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
use serde_json::{json, Value};

pub(super) const DEFAULT_MESSAGE: &str = "An unknown error occurred.";

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

pub(super) fn engine_failure(release: &Release, wrapper: &str, e: &EngineError) -> FieldError {
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

pub(super) fn types(input: &Value) -> Vec<&'static str> {
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

pub(super) fn sort_criteria(input: &Value) -> Vec<(String, bool)> {
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

pub(super) fn query<'a>(
    input: &'a Value,
    types: Vec<&'static str>,
    or_filters: Vec<Value>,
) -> Query<'a> {
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
fn entity_type_aggs(m: &Matched<'_>) -> Vec<Value> {
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
fn page_entity_facet(page: &[&Hit<'_>]) -> Value {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for h in page {
        *counts.entry(graphql_type(&h.doc.entity_type)).or_default() += 1;
    }
    facet(
        "entity",
        "Type",
        counts.into_iter().map(|(t, n)| agg(t, n)).collect(),
    )
}

/// Facets of a search or scroll: `_entityType` and its `entity` twin unless
/// `skipAggregates`; `entity_twin` is false for 0.15 scrolls (#12746).
pub(super) fn default_facets(
    input: &Value,
    m: &Matched<'_>,
    page: &[&Hit<'_>],
    entity_twin: bool,
) -> Value {
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

pub(super) fn results(page: &[&Hit<'_>]) -> Vec<Value> {
    page.iter()
        .map(|h| json!({"__typename": "SearchResult", "entity": entity_ref(h.urn), "matchedFields": []}))
        .collect()
}

pub(super) fn count_arg(input: &Value, default: i64) -> i64 {
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

pub(super) fn types_text(input: &Value) -> String {
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

pub(super) fn filters_text(input: &Value) -> String {
    match &input["orFilters"] {
        Value::Null => "null".into(),
        v => v.to_string(),
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
    let open = users && release.list_users_open();
    if !(manage || open) {
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
            let refs: Vec<Value> = hits.iter().map(|h| entity_ref(h.urn)).collect();
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
        "scrollAcrossEntities" => super::scroll::scroll_across(ctx, input),
        "aggregateAcrossEntities" => aggregate_across(ctx, input),
        "listUsers" => list(ctx, input, true),
        _ => list(ctx, input, false),
    }
}
