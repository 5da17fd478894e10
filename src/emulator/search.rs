//! The search engine behind GraphQL search (Elasticsearch / OpenSearch as DataHub drives
//! it): matching (`ESUtils` filters, `IEQUAL` as a `case_insensitive` term query), the
//! sort (`ESUtils.buildSortOrder`), the 10,000-hit window (`index.max_result_window`,
//! `track_total_hits` never set), `CacheableSearcher`'s batches of 100 from offset 0,
//! `search_after` scrolling, and the `_entityType` aggregation. Every simulated engine
//! request is counted, so tests can assert what a page costs.

use super::fields::{queried_by_default, Fields};
use super::index::{Doc, Index};
use super::profile::Release;
use serde_json::{json, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// `index.max_result_window` (never changed by DataHub) and the `hits.total` cap.
pub const WINDOW: usize = 10_000;
/// `searchService.resultBatchSize` (`SEARCH_SERVICE_BATCH_SIZE`, default 100).
pub const BATCH: usize = 100;
/// `searchService.limit.results.apiDefault`: what `ConfigUtils.applyLimit` substitutes.
pub const API_DEFAULT: i64 = 5_000;

/// A failed engine request (the client sees a search-phase exception → GraphQL 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// `from + size` beyond the result window.
    Window(usize),
    /// `search_after` values that do not fit the sort.
    SearchAfter(usize, usize),
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Window(w) => write!(
                f,
                "Result window is too large, from + size must be less than or equal to: [{WINDOW}] but was [{w}]. See the scroll api for a more efficient way to request large data sets. This limit can be set by changing the [index.max_result_window] index level setting."
            ),
            EngineError::SearchAfter(have, want) => write!(
                f,
                "search_after has {have} value(s) but sort has {want}."
            ),
        }
    }
}

/// What to match.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    /// Entity types searched (`corpuser`, `corpGroup`).
    pub types: Vec<&'static str>,
    /// Free text (`*` or blank = all).
    pub text: &'a str,
    /// `orFilters`: OR of `{"and": [criterion…]}`.
    pub or_filters: Vec<Value>,
    /// `searchFlags.includeSoftDeleted`.
    pub include_removed: bool,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// `_score` (1.0 for every hit here: no relevance model).
    Score,
    /// An index field (`urn` included).
    Field(String),
}

/// The sort: keys with `descending`.
pub type Sort = Vec<(Key, bool)>;

/// `ESUtils.buildSortOrder`: no criteria → `_score DESC, urn ASC`; otherwise the
/// criteria, then `urn ASC` unless `urn` is among them.
pub fn build_sort(criteria: &[(String, bool)]) -> Sort {
    let mut s: Sort = if criteria.is_empty() {
        vec![(Key::Score, true)]
    } else {
        criteria
            .iter()
            .map(|(f, d)| (Key::Field(f.clone()), *d))
            .collect()
    };
    if !criteria.iter().any(|(f, _)| f == "urn") {
        s.push((Key::Field("urn".into()), false));
    }
    s
}

/// A matching document (borrowed from the index).
#[derive(Debug, Clone)]
pub struct Hit<'i> {
    /// Entity urn.
    pub urn: &'i str,
    /// The indexed document.
    pub doc: &'i Doc,
    /// Sort values, computed up front only when the sort needs them.
    keys: Option<Vec<Value>>,
}

impl Hit<'_> {
    /// The hit's sort values under `sort` (the ES hit's `sort` array).
    pub fn sort_values(&self, sort: &Sort) -> Vec<Value> {
        match &self.keys {
            Some(k) => k.clone(),
            None => sort
                .iter()
                .map(|(k, _)| sort_value(k, self.urn, self.doc))
                .collect(),
        }
    }
}

/// Everything that matched, sorted, with the exact per-type counts.
#[derive(Debug, Default)]
pub struct Matched<'i> {
    /// Hits in sort order.
    pub hits: Vec<Hit<'i>>,
    /// Exact matches per entity type searched (zeros included: `minDocCount(0)`).
    pub per_type: BTreeMap<&'static str, usize>,
    /// Value counts of the fields asked for as facets.
    pub field_counts: BTreeMap<String, BTreeMap<String, usize>>,
}

impl Matched<'_> {
    /// `hits.total.value`: the number of matches, capped at 10,000.
    pub fn total(&self) -> usize {
        self.hits.len().min(WINDOW)
    }
}

fn criterion_matches(fields: &Fields, urn: &str, c: &Value) -> bool {
    let field = c["field"].as_str().unwrap_or_default();
    let field = field.strip_suffix(".keyword").unwrap_or(field);
    let values = || {
        c["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    let urn_field;
    let have: &[String] = if field == "urn" {
        urn_field = [urn.to_string()];
        &urn_field
    } else {
        fields.get(field).map(Vec::as_slice).unwrap_or_default()
    };
    let cond = c["condition"].as_str().unwrap_or("EQUAL");
    let hit = match cond {
        "EXISTS" => !have.is_empty(),
        _ => values().any(|want| {
            have.iter().any(|h| match cond {
                // A `term` query with `case_insensitive: true` on the keyword field:
                // Lucene/ES `AutomatonQueries.toCaseInsensitiveChar` folds ASCII only.
                "IEQUAL" => h.eq_ignore_ascii_case(jtrim(want)),
                "CONTAIN" => h.to_lowercase().contains(&want.to_lowercase()),
                "START_WITH" => h.to_lowercase().starts_with(&want.to_lowercase()),
                "END_WITH" => h.to_lowercase().ends_with(&want.to_lowercase()),
                _ => h == want,
            })
        }),
    };
    hit != c["negated"].as_bool().unwrap_or(false)
}

/// Java `String.trim`: strips code points up to U+0020.
fn jtrim(s: &str) -> &str {
    s.trim_matches(|ch: char| ch <= ' ')
}

fn text_matches(fields: &Fields, q: &str) -> bool {
    let q = q.trim();
    if q.is_empty() || q == "*" {
        return true;
    }
    let q = q.to_lowercase();
    fields
        .iter()
        .filter(|(k, _)| queried_by_default(k))
        .any(|(_, vs)| vs.iter().any(|v| v.to_lowercase().contains(&q)))
}

fn sort_value(key: &Key, urn: &str, doc: &Doc) -> Value {
    match key {
        Key::Score => json!(1.0),
        Key::Field(f) if f == "urn" => json!(urn),
        Key::Field(f) => match doc.fields.get(f.as_str()).and_then(|v| v.first()) {
            Some(v) => match v.parse::<i64>() {
                Ok(n) if f.ends_with("Time") || f.ends_with("At") => json!(n),
                _ => json!(v),
            },
            None => Value::Null,
        },
    }
}

fn cmp_value(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

/// Order of two sort arrays under `sort` (missing values last in either direction, as
/// ES's default `missing: _last`).
pub fn cmp_sort(sort: &Sort, a: &[Value], b: &[Value]) -> Ordering {
    for (i, (_, desc)) in sort.iter().enumerate() {
        let (x, y) = (
            a.get(i).unwrap_or(&Value::Null),
            b.get(i).unwrap_or(&Value::Null),
        );
        let o = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ if *desc => cmp_value(y, x),
            _ => cmp_value(x, y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Whether documents in urn order are already in `sort` order: `_score DESC, urn ASC`
/// (every score is 1.0) and `urn ASC`.
fn urn_order(sort: &Sort) -> bool {
    sort.iter()
        .all(|(k, d)| *k == Key::Score || (*k == Key::Field("urn".into()) && !d))
}

/// Matches `q` over the index, sorted by `sort`; `facet_fields` are counted too.
pub fn run<'i>(
    index: &'i Index,
    q: &Query<'_>,
    sort: &Sort,
    facet_fields: &[String],
) -> Matched<'i> {
    let presorted = urn_order(sort);
    let names_removed = q
        .or_filters
        .iter()
        .flat_map(|a| a["and"].as_array().cloned().unwrap_or_default())
        .any(|c| c["field"].as_str() == Some("removed"));
    let mut m = Matched::default();
    let mut per_type = vec![0usize; q.types.len()];
    let all_text = matches!(q.text.trim(), "" | "*");
    let docs: Box<dyn Iterator<Item = (&'i String, &'i Doc)>> = match candidates(index, q) {
        Some(urns) => Box::new(urns.into_iter().filter_map(|u| index.entry(u))),
        None => Box::new(index.docs()),
    };
    for (urn, doc) in docs {
        let Some(ti) = q.types.iter().position(|t| *t == doc.entity_type) else {
            continue;
        };
        if !doc.has_key
            || (doc.removed && !q.include_removed && !names_removed)
            || !(all_text || text_matches(&doc.fields, q.text))
        {
            continue;
        }
        let ok = q.or_filters.is_empty()
            || q.or_filters.iter().any(|and| {
                and["and"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .all(|c| criterion_matches(&doc.fields, urn, c))
            });
        if !ok {
            continue;
        }
        per_type[ti] += 1;
        for f in facet_fields {
            for v in doc.fields.get(f.as_str()).into_iter().flatten() {
                *m.field_counts
                    .entry(f.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default() += 1;
            }
        }
        let keys =
            (!presorted).then(|| sort.iter().map(|(k, _)| sort_value(k, urn, doc)).collect());
        m.hits.push(Hit { urn, doc, keys });
    }
    m.per_type = q.types.iter().copied().zip(per_type).collect();
    if !presorted {
        m.hits.sort_by(|a, b| {
            cmp_sort(
                sort,
                a.keys.as_deref().unwrap_or_default(),
                b.keys.as_deref().unwrap_or_default(),
            )
        });
    }
    m
}

/// The documents a query can match, in urn order, when every OR branch holds a term
/// query (a non-negated `EQUAL` or `IEQUAL`): the inverted index's candidates, each
/// still checked by the matcher. `None`: the query needs a scan.
fn candidates<'i>(index: &'i Index, q: &Query<'_>) -> Option<Vec<&'i str>> {
    if q.or_filters.is_empty() {
        return None;
    }
    let mut out = std::collections::BTreeSet::new();
    for branch in &q.or_filters {
        let term = branch["and"].as_array()?.iter().find(|c| {
            matches!(
                c["condition"].as_str().unwrap_or("EQUAL"),
                "EQUAL" | "IEQUAL"
            ) && !c["negated"].as_bool().unwrap_or(false)
                && c["values"].as_array().is_some_and(|v| !v.is_empty())
        })?;
        let field = term["field"].as_str().unwrap_or_default();
        let field = field.strip_suffix(".keyword").unwrap_or(field);
        let ieq = term["condition"].as_str() == Some("IEQUAL");
        for v in term["values"].as_array().into_iter().flatten() {
            let Some(v) = v.as_str() else { continue };
            let want = if ieq { jtrim(v) } else { v };
            if field == "urn" {
                if ieq {
                    return None;
                }
                out.extend(index.entry(want).map(|(u, _)| u.as_str()));
            } else {
                out.extend(index.term_candidates(field, want));
            }
        }
    }
    Some(out.into_iter().collect())
}

/// `ConfigUtils.applyLimit` from 1.2.0 (#13726): above 10,000 or negative → 5,000.
pub fn apply_limit(release: &Release, count: i64) -> i64 {
    if release.applies_result_limit() && !(0..=WINDOW as i64).contains(&count) {
        API_DEFAULT
    } else {
        count.max(0)
    }
}

/// One engine request `from`/`size` over the matches (counted in `cost`).
pub fn engine_page<'m, 'i>(
    m: &'m Matched<'i>,
    from: usize,
    size: usize,
    cost: &mut u64,
) -> Result<&'m [Hit<'i>], EngineError> {
    *cost += 1;
    if from + size > WINDOW {
        return Err(EngineError::Window(from + size));
    }
    let start = from.min(m.hits.len());
    let end = (from + size).min(m.hits.len());
    Ok(&m.hits[start..end])
}

/// `CacheableSearcher.getSearchResults` (cache off, the default): batches of 100 from
/// offset 0 until `from + size` results are gathered. Stops on a short batch up to
/// 1.6.x; from 1.7.0 (#17668) once the batches reach the engine total.
pub fn cacheable<'m, 'i>(
    release: &Release,
    m: &'m Matched<'i>,
    from: usize,
    size: usize,
    cost: &mut u64,
) -> Result<Vec<&'m Hit<'i>>, EngineError> {
    let mut so_far = 0usize;
    let mut batch = 0usize;
    let mut out: Vec<&Hit<'i>> = Vec::new();
    let mut found_start = false;
    loop {
        let page = engine_page(m, batch * BATCH, BATCH, cost)?;
        let n = page.len();
        if n == 0 {
            break;
        }
        if so_far + n > from {
            let s = if found_start { 0 } else { from - so_far };
            let e = n.min(s + size - out.len());
            out.extend(page[s..e].iter());
            found_start = true;
        }
        if release.deep_pages_empty() {
            if (batch + 1) * BATCH >= m.total() {
                break;
            }
        } else if n < BATCH {
            break;
        }
        so_far += n;
        batch += 1;
        if so_far >= from + size {
            break;
        }
    }
    Ok(out)
}

/// One `search_after` request: the first `size` hits strictly after `after`.
pub fn scroll<'m, 'i>(
    m: &'m Matched<'i>,
    sort: &Sort,
    after: Option<&[Value]>,
    size: usize,
    cost: &mut u64,
) -> Result<&'m [Hit<'i>], EngineError> {
    *cost += 1;
    if size > WINDOW {
        return Err(EngineError::Window(size));
    }
    let start = match after {
        None => 0,
        Some(a) if a.len() != sort.len() => {
            return Err(EngineError::SearchAfter(a.len(), sort.len()))
        }
        Some(a) => m
            .hits
            .partition_point(|h| cmp_sort(sort, &h.sort_values(sort), a) != Ordering::Greater),
    };
    let end = (start + size).min(m.hits.len());
    Ok(&m.hits[start.min(end)..end])
}
