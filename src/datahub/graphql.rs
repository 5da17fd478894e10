//! GraphQL calls (`POST /api/graphql`): `me`, search, list, membership
//! relationships; plus the unauthenticated `GET /config` and `GET /health`.
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
use super::search::{search_variables, SearchRequest};
use super::transport::{parse_json, status_error, truncate, Call, Client};
use super::urn::Urn;

/// Most groups [`Client::group_members_many`] reads in one request.
pub const MEMBERS_MANY_MAX: usize = 100;

/// Membership edge names, for relationship queries.
pub const MEMBERSHIP_EDGES: [&str; 2] = ["IsMemberOfGroup", "IsMemberOfNativeGroup"];

/// Who the token belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Me {
    /// The actor's corpuser urn.
    pub urn: Urn,
    /// `platformPrivileges.manageIdentities` (MANAGE_USERS_AND_GROUPS).
    pub manage_identities: bool,
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

/// One membership edge seen from a group (the member) or a user (the group).
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    /// The entity at the other end.
    pub urn: Urn,
    /// Edge name: `IsMemberOfGroup` (groupMembership) or
    /// `IsMemberOfNativeGroup` (nativeGroupMembership).
    pub relationship: String,
}

/// A page of membership edges.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RelatedPage {
    /// Offset.
    pub start: u32,
    /// Edges in this page.
    pub count: u32,
    /// Total edges.
    pub total: u32,
    /// The edges (entries whose entity is null are skipped).
    pub related: Vec<Related>,
}

/// What `GET /config` says about the server.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// `versions["acryldata/datahub"].version`, e.g. `v1.7.0`.
    pub version: Option<String>,
    /// The whole document.
    pub raw: Value,
}

/// Turn a GraphQL response body into `data`, or the first error.
pub fn parse_response<T: DeserializeOwned>(op: &str, body: &[u8]) -> Result<T> {
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
struct UrnOnly {
    urn: Urn,
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

/// Parse the `relationships` object of a group/user query (`None` entity: empty).
pub fn parse_related(op: &str, entity: Option<Value>) -> Result<RelatedPage> {
    let Some(rel) = entity.and_then(|e| e.get("relationships").cloned()) else {
        return Ok(RelatedPage::default());
    };
    #[derive(Deserialize)]
    struct Edge {
        #[serde(rename = "type")]
        kind: String,
        entity: Option<UrnOnly>,
    }
    #[derive(Deserialize)]
    struct Rel {
        start: Option<u32>,
        count: Option<u32>,
        total: Option<u32>,
        relationships: Vec<Edge>,
    }
    let r: Rel =
        serde_json::from_value(rel).map_err(|e| Error::InvalidResponse(format!("{op}: {e}")))?;
    let related: Vec<Related> = r
        .relationships
        .into_iter()
        .filter_map(|e| {
            e.entity.map(|u| Related {
                urn: u.urn,
                relationship: e.kind,
            })
        })
        .collect();
    Ok(RelatedPage {
        start: r.start.unwrap_or(0),
        count: r.count.unwrap_or(related.len() as u32),
        total: r.total.unwrap_or(related.len() as u32),
        related,
    })
}

// === impl Client (GraphQL) ===

impl Client {
    async fn graphql<T: DeserializeOwned>(
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
        })
    }

    /// `searchAcrossEntities` → urns (index-backed, eventually consistent).
    pub async fn search(&self, token: &str, req: &SearchRequest) -> Result<Page> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            search_across_entities: Option<RawPage>,
        }
        let d: Data = self
            .graphql(
                "graphql.searchAcrossEntities",
                token,
                "searchAcrossEntities",
                documents::SEARCH_ACROSS_ENTITIES,
                search_variables(req),
            )
            .await?;
        match d.search_across_entities {
            Some(p) => p.into_page("searchAcrossEntities"),
            None => Ok(Page::default()),
        }
    }

    /// `listUsers(start, count)` → urns (index-backed, soft-deleted excluded).
    pub async fn list_users(&self, token: &str, start: u32, count: u32) -> Result<Page> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            list_users: Option<RawPage>,
        }
        let vars = json!({"input": {"start": start, "count": count}});
        let d: Data = self
            .graphql(
                "graphql.listUsers",
                token,
                "listUsers",
                documents::LIST_USERS,
                vars,
            )
            .await?;
        d.list_users
            .map_or(Ok(Page::default()), |p| p.into_page("listUsers"))
    }

    /// `listGroups(start, count)` → urns (index-backed; needs manageIdentities).
    pub async fn list_groups(&self, token: &str, start: u32, count: u32) -> Result<Page> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            list_groups: Option<RawPage>,
        }
        let vars = json!({"input": {"start": start, "count": count}});
        let d: Data = self
            .graphql(
                "graphql.listGroups",
                token,
                "listGroups",
                documents::LIST_GROUPS,
                vars,
            )
            .await?;
        d.list_groups
            .map_or(Ok(Page::default()), |p| p.into_page("listGroups"))
    }

    /// Members of `group` (INCOMING `IsMemberOfGroup` + `IsMemberOfNativeGroup`).
    pub async fn group_members(
        &self,
        token: &str,
        group: &Urn,
        start: u32,
        count: u32,
    ) -> Result<RelatedPage> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            corp_group: Option<Value>,
        }
        let vars = relationship_variables(group, "INCOMING", start, count);
        let d: Data = self
            .graphql(
                "graphql.groupMembers",
                token,
                "groupMembers",
                documents::GROUP_MEMBERS,
                vars,
            )
            .await?;
        parse_related("groupMembers", d.corp_group)
    }

    /// The first page of members of each of `groups`, in input order, in ONE
    /// request (aliased `corpGroup` selections; see
    /// [`documents::group_members_many`]). A group GMS does not know gives an
    /// empty page. Callers page on with [`Client::group_members`] for groups whose
    /// `total` exceeds the page. At most [`MEMBERS_MANY_MAX`] groups per call.
    pub async fn group_members_many(
        &self,
        token: &str,
        groups: &[Urn],
        start: u32,
        count: u32,
    ) -> Result<Vec<RelatedPage>> {
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        if groups.len() > MEMBERS_MANY_MAX {
            return Err(Error::Config(format!(
                "group_members_many: {} groups, at most {MEMBERS_MANY_MAX} per call",
                groups.len()
            )));
        }
        let mut vars = serde_json::Map::new();
        vars.insert(
            "input".into(),
            relationship_variables(&groups[0], "INCOMING", start, count)["input"].clone(),
        );
        for (i, g) in groups.iter().enumerate() {
            vars.insert(format!("u{i}"), json!(g.as_str()));
        }
        let doc = documents::group_members_many(groups.len());
        let mut d: serde_json::Map<String, Value> = self
            .graphql(
                "graphql.groupMembersMany",
                token,
                documents::GROUP_MEMBERS_MANY_OP,
                &doc,
                Value::Object(vars),
            )
            .await?;
        (0..groups.len())
            .map(|i| {
                let entity = d.remove(&format!("g{i}")).filter(|v| !v.is_null());
                parse_related("groupMembersMany", entity)
            })
            .collect()
    }

    /// Groups of `user` (OUTGOING `IsMemberOfGroup` + `IsMemberOfNativeGroup`).
    pub async fn user_groups(
        &self,
        token: &str,
        user: &Urn,
        start: u32,
        count: u32,
    ) -> Result<RelatedPage> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            corp_user: Option<Value>,
        }
        let vars = relationship_variables(user, "OUTGOING", start, count);
        let d: Data = self
            .graphql(
                "graphql.userGroups",
                token,
                "userGroups",
                documents::USER_GROUPS,
                vars,
            )
            .await?;
        parse_related("userGroups", d.corp_user)
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
        self.exchange(call, |r| {
            if r.status.is_success() {
                Ok(())
            } else {
                Err(status_error(&r))
            }
        })
        .await
    }
}

/// Variables of a membership relationship query.
pub fn relationship_variables(urn: &Urn, direction: &str, start: u32, count: u32) -> Value {
    json!({
        "urn": urn.as_str(),
        "input": {
            "types": MEMBERSHIP_EDGES,
            "direction": direction,
            "start": start,
            "count": count,
        }
    })
}

#[cfg(test)]
#[path = "graphql_tests.rs"]
mod tests;
