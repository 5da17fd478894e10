//! GraphQL calls (`POST /api/graphql`): `me`, search, list (membership
//! relationships are in `relationships.rs`); plus the unauthenticated
//! `GET /config` and `GET /health`.
//!
//! Search, list and relationships are index-backed and eventually
//! consistent; never use them alone to decide whether something exists.
//! GraphQL errors arrive as HTTP 200 with `errors[].extensions.code`; they
//! are mapped to [`Error`] like HTTP statuses.

use http::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::documents;
use super::error::{Error, Result};
use super::search::{scroll_variables, search_variables, EntityKind, ScrollRequest, SearchRequest};
use super::transport::{expect_success, parse_json, status_error, truncate, Call, Client};
use super::urn::Urn;

/// Who the token belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Me {
    /// The actor's corpuser urn.
    pub urn: Urn,
    /// `platformPrivileges.manageIdentities` (MANAGE_USERS_AND_GROUPS).
    pub manage_identities: bool,
    /// `platformPrivileges.managePolicies` (MANAGE_POLICIES), which DataHub's role
    /// assignment (`batchAssignRole`) requires.
    pub manage_policies: bool,
}

/// A page of urns from search / list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Page {
    /// Offset of the first result.
    pub start: u32,
    /// Number of results in this page.
    pub count: u32,
    /// Total matches.
    pub total: u32,
    /// The urns.
    pub urns: Vec<Urn>,
}

/// One page of a `scrollAcrossEntities` walk.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScrollPage {
    /// The urns of this page, in urn order.
    pub urns: Vec<Urn>,
    /// Where the next page starts; `None` when DataHub found no more (it still
    /// returns one after a full last page: the page after it is then empty).
    pub next_scroll_id: Option<String>,
    /// DataHub's `total`: Elasticsearch counts at most 10,000 (`track_total_hits` is
    /// never set).
    pub total: u64,
    /// The exact number of matches, from the `_entityType` facet (a terms
    /// aggregation, not capped), when GMS returned it.
    pub exact_total: Option<u64>,
}

impl ScrollPage {
    /// The number of matches: exact when the facet came back, else DataHub's
    /// (possibly capped) `total`.
    pub fn matches(&self) -> u64 {
        self.exact_total.unwrap_or(self.total)
    }
}

/// The exact count of `types` in a `facets` list: the `_entityType` facet (or its
/// twin `entity`), values compared as entity type names (`CORP_USER`, `corpuser`).
fn entity_type_count(facets: &[Value], types: &[EntityKind]) -> Option<u64> {
    let norm = |s: &str| s.replace('_', "").to_ascii_lowercase();
    let wanted: Vec<String> = types.iter().map(|t| norm(t.as_graphql())).collect();
    let facet = ["_entityType", "entity"].iter().find_map(|name| {
        facets
            .iter()
            .find(|f| f.get("field").and_then(Value::as_str) == Some(name))
    })?;
    let aggs = facet.get("aggregations")?.as_array()?;
    let mut sum = 0u64;
    for a in aggs {
        let value = a.get("value").and_then(Value::as_str).unwrap_or_default();
        if wanted.contains(&norm(value)) {
            sum += a.get("count").and_then(Value::as_u64).unwrap_or(0);
        }
    }
    Some(sum)
}

/// What `GET /config` says about the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// `versions["acryldata/datahub"].version`, e.g. `v1.7.0`.
    pub version: Option<String>,
    /// The whole document.
    pub raw: Value,
}

/// Whether a `start`/`count` page ends within GraphQL's `Int` (32-bit signed).
fn fits_graphql_int(start: u32, count: u32) -> bool {
    i32::try_from(u64::from(start) + u64::from(count)).is_ok()
}

/// Turn a GraphQL response body into `data`, or the first error.
pub fn parse_response<T: DeserializeOwned>(op: &str, body: &[u8]) -> Result<T> {
    // The common case, `data` without `errors`, straight from the bytes into `T`;
    // anything else (errors, partial data that does not fit `T`, no JSON) takes the
    // generic path below, which names the first error.
    #[derive(Deserialize)]
    struct Typed<T> {
        data: Option<T>,
        #[serde(default)]
        errors: Vec<serde::de::IgnoredAny>,
    }
    if let Ok(Typed {
        data: Some(data),
        errors,
    }) = serde_json::from_slice::<Typed<T>>(body)
    {
        if errors.is_empty() {
            return Ok(data);
        }
    }
    #[derive(Deserialize)]
    struct Envelope {
        data: Option<Value>,
        #[serde(default)]
        errors: Vec<Value>,
    }
    let env: Envelope = parse_json(op, body)?;
    if let Some(err) = env.errors.first() {
        return Err(graphql_error(err));
    }
    let data = env
        .data
        .ok_or_else(|| Error::InvalidResponse(format!("{op}: no data and no errors")))?;
    serde_json::from_value(data)
        .map_err(|e| Error::InvalidResponse(format!("{op}: {}", truncate(e.to_string(), 200))))
}

/// Map one GraphQL error object by `extensions.code`.
pub fn graphql_error(err: &Value) -> Error {
    let msg = truncate(
        err.get("message")
            .and_then(Value::as_str)
            .unwrap_or("GraphQL error")
            .to_owned(),
        500,
    );
    let code = err.pointer("/extensions/code").and_then(|c| {
        c.as_u64()
            .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
    });
    match code {
        Some(401) => Error::Unauthorized,
        Some(403) => Error::Forbidden(msg),
        Some(404) => Error::NotFound(msg),
        Some(409) => Error::Conflict(msg),
        Some(412) => Error::PreconditionFailed(msg),
        Some(400) | Some(422) | None => Error::Invalid(msg),
        Some(c) if c >= 500 => Error::Unavailable {
            reason: format!("GraphQL {c}: {msg}"),
            retry_after: None,
            timeout: c == 504,
        },
        Some(_) => Error::InvalidResponse(msg),
    }
}

#[derive(Deserialize)]
pub(super) struct UrnOnly {
    pub(super) urn: Urn,
}

#[derive(Deserialize)]
struct RawPage {
    start: u32,
    count: u32,
    total: u32,
    #[serde(alias = "users", alias = "groups", alias = "searchResults")]
    items: Vec<Value>,
}

impl RawPage {
    fn into_page(self, op: &str) -> Result<Page> {
        let mut urns = Vec::with_capacity(self.items.len());
        for item in self.items {
            // searchResults wrap the entity; users/groups are entities.
            let entity = item.get("entity").cloned().unwrap_or(item);
            let u: UrnOnly = serde_json::from_value(entity)
                .map_err(|e| Error::InvalidResponse(format!("{op}: {e}")))?;
            urns.push(u.urn);
        }
        Ok(Page {
            start: self.start,
            count: self.count,
            total: self.total,
            urns,
        })
    }
}

// === impl Client (GraphQL) ===

impl Client {
    pub(super) async fn graphql<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        token: &str,
        op: &'static str,
        query: &str,
        variables: Value,
    ) -> Result<T> {
        let body = json!({"query": query, "variables": variables, "operationName": op});
        let call = Call {
            endpoint,
            method: Method::POST,
            path: "/api/graphql".into(),
            token: Some(token),
            body: Some(body.to_string().into_bytes()),
            restli: false,
        };
        self.exchange(call, |r| {
            if r.status.is_success() {
                parse_response(op, &r.body)
            } else {
                Err(status_error(&r))
            }
        })
        .await
    }

    /// `me`: the token's actor and its `manageIdentities` privilege.
    pub async fn me(&self, token: &str) -> Result<Me> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Priv {
            manage_identities: bool,
            #[serde(default)]
            manage_policies: bool,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct MeInner {
            corp_user: UrnOnly,
            platform_privileges: Priv,
        }
        #[derive(Deserialize)]
        struct Data {
            me: Option<MeInner>,
        }
        let d: Data = self
            .graphql("graphql.me", token, "me", documents::ME, json!({}))
            .await?;
        let me =
            d.me.ok_or_else(|| Error::InvalidResponse("me: null".into()))?;
        Ok(Me {
            urn: me.corp_user.urn,
            manage_identities: me.platform_privileges.manage_identities,
            manage_policies: me.platform_privileges.manage_policies,
        })
    }

    /// `searchAcrossEntities` → urns (index-backed, eventually consistent).
    ///
    /// A page that would end past the largest GraphQL `Int` (a client's huge
    /// `startIndex`) cannot hold results and GMS rejects such variables: it is
    /// answered empty, with the total of a zero-size page from the start.
    pub async fn search(&self, token: &str, req: &SearchRequest) -> Result<Page> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            search_across_entities: Option<RawPage>,
        }
        let beyond = !fits_graphql_int(req.start, req.count);
        let total_only;
        let sent = if beyond {
            total_only = SearchRequest {
                start: 0,
                count: 0,
                ..req.clone()
            };
            &total_only
        } else {
            req
        };
        let d: Data = self
            .graphql(
                "graphql.searchAcrossEntities",
                token,
                "searchAcrossEntities",
                documents::SEARCH_ACROSS_ENTITIES,
                search_variables(sent),
            )
            .await?;
        let mut page = match d.search_across_entities {
            Some(p) => p.into_page("searchAcrossEntities")?,
            None => Page::default(),
        };
        if beyond {
            page.start = req.start;
            page.count = 0;
            page.urns.clear();
        }
        Ok(page)
    }

    /// `scrollAcrossEntities` → one page of urns in urn order, where the next page
    /// starts, and the exact number of matches (index-backed, eventually consistent).
    /// Unlike `searchAcrossEntities` it walks past the 10,000th hit, and a page costs
    /// GMS one engine query however deep it is.
    pub async fn scroll(&self, token: &str, req: &ScrollRequest) -> Result<ScrollPage> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            next_scroll_id: Option<String>,
            total: u64,
            #[serde(default)]
            search_results: Vec<Value>,
            #[serde(default)]
            facets: Option<Vec<Value>>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            scroll_across_entities: Option<Raw>,
        }
        let d: Data = self
            .graphql(
                "graphql.scrollAcrossEntities",
                token,
                "scrollAcrossEntities",
                documents::SCROLL_ACROSS_ENTITIES,
                scroll_variables(req),
            )
            .await?;
        let Some(raw) = d.scroll_across_entities else {
            return Ok(ScrollPage::default());
        };
        let mut urns = Vec::with_capacity(raw.search_results.len());
        for item in raw.search_results {
            let entity = item.get("entity").cloned().unwrap_or(item);
            let u: UrnOnly = serde_json::from_value(entity).map_err(|e| {
                Error::InvalidResponse(format!(
                    "scrollAcrossEntities: {}",
                    truncate(e.to_string(), 200)
                ))
            })?;
            urns.push(u.urn);
        }
        let exact_total = raw
            .facets
            .as_deref()
            .and_then(|f| entity_type_count(f, &req.types));
        Ok(ScrollPage {
            urns,
            next_scroll_id: raw.next_scroll_id.filter(|s| !s.is_empty()),
            total: raw.total,
            exact_total,
        })
    }

    /// `listUsers(start, count)` → urns (index-backed, soft-deleted excluded).
    pub async fn list_users(&self, token: &str, start: u32, count: u32) -> Result<Page> {
        let q = ("graphql.listUsers", "listUsers", documents::LIST_USERS);
        self.list_page(token, q, start, count).await
    }

    /// `listGroups(start, count)` → urns (index-backed; needs manageIdentities).
    pub async fn list_groups(&self, token: &str, start: u32, count: u32) -> Result<Page> {
        let q = ("graphql.listGroups", "listGroups", documents::LIST_GROUPS);
        self.list_page(token, q, start, count).await
    }

    /// One page of a `list…(input: {start, count})` query, given as (metrics
    /// endpoint, operation = answer field, document); the answer is
    /// `{ <field>: { start count total <items> } }`.
    async fn list_page(
        &self,
        token: &str,
        (endpoint, field, document): (&'static str, &'static str, &'static str),
        start: u32,
        count: u32,
    ) -> Result<Page> {
        let vars = json!({"input": {"start": start, "count": count}});
        let mut d: serde_json::Map<String, Value> =
            self.graphql(endpoint, token, field, document, vars).await?;
        match d.remove(field) {
            None | Some(Value::Null) => Ok(Page::default()),
            Some(v) => serde_json::from_value::<RawPage>(v)
                .map_err(|e| {
                    Error::InvalidResponse(format!("{field}: {}", truncate(e.to_string(), 200)))
                })?
                .into_page(field),
        }
    }

    /// `GET /config` (unauthenticated): server version.
    pub async fn server_config(&self) -> Result<ServerConfig> {
        let call = Call {
            endpoint: "gms.config",
            method: Method::GET,
            path: "/config".into(),
            token: None,
            body: None,
            restli: false,
        };
        self.exchange(call, |r| {
            if !r.status.is_success() {
                return Err(status_error(&r));
            }
            let raw: Value = parse_json("config", &r.body)?;
            let version = raw
                .pointer("/versions/acryldata~1datahub/version")
                .and_then(Value::as_str)
                .map(str::to_owned);
            Ok(ServerConfig { version, raw })
        })
        .await
    }

    /// `GET /config`, then records the release it names ([`Client::release`]).
    /// A `/config` without a version is an unknown release (served as the newest).
    pub async fn detect_release(&self) -> Result<super::release::Release> {
        let sc = self.server_config().await?;
        let release = super::release::Release::parse(sc.version.as_deref().unwrap_or(""));
        self.set_release(release.clone());
        Ok(release)
    }

    /// `GET /health` (unauthenticated): `Ok` on 2xx.
    pub async fn health(&self) -> Result<()> {
        let call = Call {
            endpoint: "gms.health",
            method: Method::GET,
            path: "/health".into(),
            token: None,
            body: None,
            restli: false,
        };
        self.exchange(call, expect_success).await
    }
}

#[cfg(test)]
#[path = "graphql_tests.rs"]
mod tests;
