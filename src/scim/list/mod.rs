//! Lists and searches (RFC 7644 §3.4.2, §3.4.3): the query, the ListResponse,
//! projection (`attributes` / `excludedAttributes`) and sorting.

mod projection;
mod query;
mod sort;

#[cfg(test)]
mod tests;

use serde_json::{json, Value};

pub use projection::{project, Projection};
pub use query::{ListQuery, SortOrder, MAX_COUNT};
pub use sort::compare;

use super::schema::LIST_RESPONSE_URN;

/// A ListResponse page of cursor paging (RFC 9865 §2.2): no `startIndex`;
/// `nextCursor` on every page but the last.
pub fn cursor_list_response(
    total: usize,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Value {
    let mut v = json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(c) = next_cursor {
        v["nextCursor"] = Value::String(c);
    }
    v
}

/// A complete ListResponse, even when empty: `schemas`, integer `totalResults`,
/// `startIndex`, `itemsPerPage` (the number of resources on this page) and
/// `Resources` (Okta reports "No results" when `Resources` is missing).
pub fn list_response(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "startIndex": start_index.max(1),
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
