//! Membership relationships over GraphQL: the members of a group (one group, or
//! the first page of many groups in one aliased request) and the groups of a user.
//! Index-backed, so eventually consistent: never the only source of truth.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::documents;
use super::error::{Error, Result};
use super::transport::Client;
use super::urn::Urn;

/// Most groups [`Client::group_members_many`] reads in one request.
pub const MEMBERS_MANY_MAX: usize = 100;

/// Membership edge names, for relationship queries.
pub const MEMBERSHIP_EDGES: [&str; 2] = ["IsMemberOfGroup", "IsMemberOfNativeGroup"];

/// One membership edge seen from a group (the member) or a user (the group).
#[derive(Debug, Clone, PartialEq)]
pub struct Related {
    /// The entity at the other end.
    pub urn: Urn,
    /// Edge name: `IsMemberOfGroup` (groupMembership) or
    /// `IsMemberOfNativeGroup` (nativeGroupMembership).
    pub relationship: String,
    /// What the member list read of a user at the other end (group member lists
    /// only; see [`documents::MEMBER_ENTITY`]).
    pub user: Option<RelatedUser>,
}

/// A member user as the member-list request reads it, from DataHub's primary store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RelatedUser {
    /// `corpUserKey.username`.
    pub username: Option<String>,
    /// `corpUserInfo.displayName`.
    pub display_name: Option<String>,
    /// `corpUserInfo.fullName`.
    pub full_name: Option<String>,
    /// `corpUserEditableInfo.displayName` (what people set in DataHub's UI).
    pub editable_display_name: Option<String>,
    /// `corpUserInfo.customProperties`.
    pub custom_properties: BTreeMap<String, String>,
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

/// The entity of a relationships query: `{ relationships { start count total
/// relationships { type entity { … } } } }`, read straight from the response bytes.
#[derive(Deserialize, Default)]
pub(super) struct RelatedEntity {
    relationships: Option<RawRelationships>,
}

#[derive(Deserialize)]
struct RawRelationships {
    start: Option<u32>,
    count: Option<u32>,
    total: Option<u32>,
    relationships: Vec<RawEdge>,
}

#[derive(Deserialize)]
struct RawEdge {
    #[serde(rename = "type")]
    kind: String,
    entity: Option<EdgeEntity>,
}

/// The page an entity's `relationships` hold (none: an empty page).
pub(super) fn page_of(entity: Option<RelatedEntity>) -> RelatedPage {
    let Some(r) = entity.and_then(|e| e.relationships) else {
        return RelatedPage::default();
    };
    let related: Vec<Related> = r
        .relationships
        .into_iter()
        .filter_map(|e| {
            e.entity.map(|ent| {
                let user = ent.user();
                Related {
                    urn: ent.urn,
                    relationship: e.kind,
                    user,
                }
            })
        })
        .collect();
    RelatedPage {
        start: r.start.unwrap_or(0),
        count: r.count.unwrap_or(related.len() as u32),
        total: r.total.unwrap_or(related.len() as u32),
        related,
    }
}

/// The `entity` of an edge: its urn, and for a user what [`documents::MEMBER_ENTITY`]
/// selects (absent when the document did not ask, or for other entity types).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EdgeEntity {
    urn: Urn,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    properties: Option<EdgeProps>,
    #[serde(default)]
    editable_properties: Option<EdgeEditable>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EdgeProps {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    custom_properties: Option<Vec<EdgeProp>>,
}

#[derive(Deserialize)]
struct EdgeProp {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EdgeEditable {
    #[serde(default)]
    display_name: Option<String>,
}

impl EdgeEntity {
    fn user(&self) -> Option<RelatedUser> {
        if !self.urn.is_corp_user()
            || (self.username.is_none()
                && self.properties.is_none()
                && self.editable_properties.is_none())
        {
            return None;
        }
        let props = self.properties.as_ref();
        Some(RelatedUser {
            username: self.username.clone(),
            display_name: props.and_then(|p| p.display_name.clone()),
            full_name: props.and_then(|p| p.full_name.clone()),
            editable_display_name: self
                .editable_properties
                .as_ref()
                .and_then(|e| e.display_name.clone()),
            custom_properties: props
                .and_then(|p| p.custom_properties.as_ref())
                .into_iter()
                .flatten()
                .map(|e| (e.key.clone(), e.value.clone().unwrap_or_default()))
                .collect(),
        })
    }
}

impl Client {
    /// Members of `group` (INCOMING `IsMemberOfGroup` + `IsMemberOfNativeGroup`).
    pub async fn group_members(
        &self,
        token: &str,
        group: &Urn,
        start: u32,
        count: u32,
    ) -> Result<RelatedPage> {
        let vars = relationship_variables(group, "INCOMING", start, count);
        let q = (
            "graphql.groupMembers",
            "groupMembers",
            documents::GROUP_MEMBERS,
        );
        self.related(token, q, "corpGroup", vars).await
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
        let mut d: std::collections::HashMap<String, Option<RelatedEntity>> = self
            .graphql(
                "graphql.groupMembersMany",
                token,
                documents::GROUP_MEMBERS_MANY_OP,
                &doc,
                Value::Object(vars),
            )
            .await?;
        Ok((0..groups.len())
            .map(|i| page_of(d.remove(&format!("g{i}")).flatten()))
            .collect())
    }

    /// Groups of `user` (OUTGOING `IsMemberOfGroup` + `IsMemberOfNativeGroup`).
    pub async fn user_groups(
        &self,
        token: &str,
        user: &Urn,
        start: u32,
        count: u32,
    ) -> Result<RelatedPage> {
        let vars = relationship_variables(user, "OUTGOING", start, count);
        let q = ("graphql.userGroups", "userGroups", documents::USER_GROUPS);
        self.related(token, q, "corpUser", vars).await
    }

    /// One relationships query, given as (metrics endpoint, operation, document),
    /// whose answer is `{ <entity_field>: { relationships { … } } }`.
    async fn related(
        &self,
        token: &str,
        (endpoint, op, document): (&'static str, &'static str, &'static str),
        entity_field: &str,
        vars: Value,
    ) -> Result<RelatedPage> {
        let mut d: std::collections::HashMap<String, Option<RelatedEntity>> =
            self.graphql(endpoint, token, op, document, vars).await?;
        Ok(page_of(d.remove(entity_field).flatten()))
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
