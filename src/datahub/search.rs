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

/// The variables of a search request.
pub fn search_variables(req: &SearchRequest) -> Value {
    let or_filters: Vec<Value> = req
        .or_filters
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
        .collect();
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
