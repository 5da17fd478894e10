//! `scrollAcrossEntities` (`ScrollAcrossEntitiesResolver` → `SearchService` →
//! `ESSearchDAO.scroll`): `search_after` without a point in time, scroll ids as
//! `SearchAfterWrapper` writes them (standard Base64 of `{"sort":[…],"pitId":null,
//! "expirationTime":0}`), `nextScrollId` on full pages (`SearchRequestHandler
//! .extractScrollResult`), `count` per release (`UrnScrollResultsMapper`).

use super::err;
use super::objects::{resolve_json, Ctx};
use super::search::{
    count_arg, default_facets, engine_failure, filters_text, query, results, sort_criteria, types,
    types_text, DEFAULT_MESSAGE,
};
use crate::emulator::profile::{ErrorDetail, Release};
use crate::emulator::search::{self, build_sort, Hit};
use apollo_compiler::resolvers::{FieldError, ResolvedValue};
use base64::Engine as _;
use serde_json::{json, Value};

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
pub(super) fn scroll_across<'a>(
    ctx: &'a Ctx<'a>,
    input: &Value,
) -> Result<ResolvedValue<'a>, FieldError> {
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
                Some(last) if hits.len() == size => json!(scroll_id(&last.sort_values(&sort))),
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
