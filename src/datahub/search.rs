//! Search inputs for GraphQL `searchAcrossEntities`: entity types, facet
//! filters (OR of AND groups) and the variables they become.

use serde_json::{json, Value};

/// GraphQL `EntityType` of the two entities we search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityKind {
    /// `CORP_USER`.
    CorpUser,
    /// `CORP_GROUP`.
    CorpGroup,
}

impl EntityKind {
    pub(crate) fn as_graphql(self) -> &'static str {
        match self {
            EntityKind::CorpUser => "CORP_USER",
            EntityKind::CorpGroup => "CORP_GROUP",
        }
    }
}

/// Filter operators we use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// `EQUAL`.
    Equal,
    /// `IEQUAL` (case-insensitive).
    IEqual,
}

/// One `FacetFilterInput`, e.g. `email EQUAL [x]`, `removed EQUAL ["true"]`.
#[derive(Debug, Clone, PartialEq)]
pub struct FacetFilter {
    /// Index field: `email`, `ldap`, `name`, `displayName`, `removed`, …
    pub field: String,
    /// Any of these values matches.
    pub values: Vec<String>,
    /// The operator.
    pub condition: Condition,
    /// Negate the filter.
    pub negated: bool,
}

impl FacetFilter {
    /// `field EQUAL value`.
    pub fn equal(field: &str, value: &str) -> Self {
        FacetFilter {
            field: field.to_owned(),
            values: vec![value.to_owned()],
            condition: Condition::Equal,
            negated: false,
        }
    }

    /// `field IEQUAL value`.
    pub fn iequal(field: &str, value: &str) -> Self {
        FacetFilter {
            condition: Condition::IEqual,
            ..FacetFilter::equal(field, value)
        }
    }
}

/// A `searchAcrossEntities` request.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// Entity types searched.
    pub types: Vec<EntityKind>,
    /// Full-text query, `*` for "all".
    pub query: String,
    /// OR of AND-groups of filters; empty = no filter.
    pub or_filters: Vec<Vec<FacetFilter>>,
    /// Offset.
    pub start: u32,
    /// Page size.
    pub count: u32,
    /// `searchFlags.includeSoftDeleted`.
    pub include_soft_deleted: bool,
    /// `sortInput` by `urn` ascending (every DataHub entity index has the `urn`
    /// keyword field): a stable order for paging. `false`: relevance order.
    pub sort_by_urn: bool,
}

/// A `scrollAcrossEntities` request: always in urn order (`sortInput` by `urn`
/// ascending), so a `scrollId` is a position in a stable order.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrollRequest {
    /// Entity types walked.
    pub types: Vec<EntityKind>,
    /// OR of AND-groups of filters; empty = no filter.
    pub or_filters: Vec<Vec<FacetFilter>>,
    /// Where the previous page ended (its `nextScrollId`); `None`: from the start.
    pub scroll_id: Option<String>,
    /// Page size, at most [`SCROLL_MAX`]. 0 asks only for the totals.
    pub count: u32,
}

/// Largest scroll page DataHub serves as asked: `SEARCH_SERVICE_LIMIT_RESULTS_MAX`
/// (10,000; since 1.2 a larger count is silently replaced by 5,000, before it the
/// engine fails on it).
pub const SCROLL_MAX: u32 = 10_000;

/// The variables of a scroll request (`keepAlive` is not sent: without DataHub's
/// point-in-time option a scroll id is a plain `search_after` position that does not
/// expire).
pub fn scroll_variables(req: &ScrollRequest) -> Value {
    let types: Vec<&str> = req.types.iter().map(|t| t.as_graphql()).collect();
    let mut input = json!({
        "types": types,
        "query": "*",
        "count": req.count.min(SCROLL_MAX),
        "searchFlags": {"includeSoftDeleted": false},
        "sortInput": {"sortCriteria": [{"field": "urn", "sortOrder": "ASCENDING"}]},
    });
    if let Some(id) = &req.scroll_id {
        input["scrollId"] = Value::String(id.clone());
    }
    let or_filters = or_filters_json(&req.or_filters);
    if !or_filters.is_empty() {
        input["orFilters"] = Value::Array(or_filters);
    }
    json!({ "input": input })
}

fn or_filters_json(groups: &[Vec<FacetFilter>]) -> Vec<Value> {
    groups
        .iter()
        .map(|and| {
            let and: Vec<Value> = and
                .iter()
                .map(|f| {
                    json!({
                        "field": f.field,
                        "values": f.values,
                        "condition": match f.condition {
                            Condition::Equal => "EQUAL",
                            Condition::IEqual => "IEQUAL",
                        },
                        "negated": f.negated,
                    })
                })
                .collect();
            json!({ "and": and })
        })
        .collect()
}

/// The variables of a search request.
pub fn search_variables(req: &SearchRequest) -> Value {
    let or_filters = or_filters_json(&req.or_filters);
    let types: Vec<&str> = req.types.iter().map(|t| t.as_graphql()).collect();
    let mut input = json!({
        "types": types,
        "query": req.query,
        "start": req.start,
        "count": req.count,
        "searchFlags": {"includeSoftDeleted": req.include_soft_deleted},
    });
    if !or_filters.is_empty() {
        input["orFilters"] = Value::Array(or_filters);
    }
    if req.sort_by_urn {
        input["sortInput"] = json!({"sortCriteria": [{"field": "urn", "sortOrder": "ASCENDING"}]});
    }
    json!({ "input": input })
}
