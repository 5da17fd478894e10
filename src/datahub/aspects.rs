//! Typed identity aspects, field for field as in DataHub's `.avsc` schemas
//! (`shared/reference/datahub-aspects/`). Optional fields are omitted, never
//! sent as `null`. Aspects we read-modify-write keep unknown members in
//! `extra`, so a newer server's fields survive our writes.
//!
//! The `schema_check` test compares these types with the `.avsc` files.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::urn::Urn;

/// Unknown members of an aspect, preserved across read-modify-write.
pub type Extra = Map<String, Value>;

/// A DataHub aspect: its name in MCPs / entitiesV2 and its Pegasus FQCN (the
/// union key `GET /aspects` wraps the value in).
pub trait Aspect: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Aspect name, e.g. `corpUserInfo`.
    const NAME: &'static str;
    /// Pegasus class, e.g. `com.linkedin.identity.CorpUserInfo`.
    const FQCN: &'static str;
}

macro_rules! aspect {
    ($ty:ty, $name:literal, $fqcn:literal) => {
        impl Aspect for $ty {
            const NAME: &'static str = $name;
            const FQCN: &'static str = $fqcn;
        }
    };
}

/// `{time, actor, impersonator?, message?}`: who changed something, when (ms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditStamp {
    /// Milliseconds since the epoch.
    pub time: i64,
    /// The actor's urn.
    pub actor: Urn,
    /// Who acted on the actor's behalf, if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonator: Option<Urn>,
    /// Free-text note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl AuditStamp {
    /// Stamp `actor` at the current time.
    pub fn now(actor: Urn) -> Self {
        AuditStamp {
            time: now_millis(),
            actor,
            impersonator: None,
            message: None,
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `corpUserKey {username}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpUserKey {
    /// The username (the urn key).
    pub username: String,
}
aspect!(
    CorpUserKey,
    "corpUserKey",
    "com.linkedin.metadata.key.CorpUserKey"
);

/// `corpGroupKey {name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorpGroupKey {
    /// The group name (the urn key).
    pub name: String,
}
aspect!(
    CorpGroupKey,
    "corpGroupKey",
    "com.linkedin.metadata.key.CorpGroupKey"
);

/// `corpUserInfo`: the IdP-sourced profile. `active` is required.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorpUserInfo {
    /// Free-form string map; SCIM keeps its own keys under `scim.*` and
    /// must keep everybody else's.
    #[serde(default)]
    pub custom_properties: BTreeMap<String, String>,
    /// Deprecated in favour of `corpUserStatus`, but required.
    pub active: bool,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The manager's corpuser urn (edge `ReportsTo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager_urn: Option<Urn>,
    /// Numeric department id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_id: Option<i64>,
    /// Department name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    /// Two-letter country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// System user flag (only system writers may set it true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<bool>,
    /// Support user flag (only system writers may set it true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_support_user: Option<bool>,
    /// Members we do not model, kept as read.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(
    CorpUserInfo,
    "corpUserInfo",
    "com.linkedin.identity.CorpUserInfo"
);

/// `corpUserEditableInfo`: edited by people in the UI. We only read it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorpUserEditableInfo {
    /// About me.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about_me: Option<String>,
    /// Teams.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Skills.
    #[serde(default)]
    pub skills: Vec<String>,
    /// Picture URL (server default `assets/platforms/default_avatar.png`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture_link: Option<String>,
    /// Display name chosen in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Title chosen in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Data platform urns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platforms: Option<Vec<Urn>>,
    /// Persona urn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<Urn>,
    /// Slack handle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<String>,
    /// Phone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail chosen in the UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Where the information came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub information_sources: Option<Vec<Urn>>,
    /// Members we do not model.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(
    CorpUserEditableInfo,
    "corpUserEditableInfo",
    "com.linkedin.identity.CorpUserEditableInfo"
);

/// The only two values DataHub's GraphQL layer can read back (trap 0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum UserStatus {
    /// `ACTIVE`.
    #[serde(rename = "ACTIVE")]
    Active,
    /// `SUSPENDED`.
    #[serde(rename = "SUSPENDED")]
    Suspended,
    /// Any other stored value (e.g. `PROVISIONED`, written by someone else).
    /// Readable, but refuses to serialize: we never write it back.
    #[serde(other)]
    Unrecognized,
}

impl Serialize for UserStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            UserStatus::Active => s.serialize_str("ACTIVE"),
            UserStatus::Suspended => s.serialize_str("SUSPENDED"),
            UserStatus::Unrecognized => Err(serde::ser::Error::custom(
                "refusing to write a corpUserStatus other than ACTIVE/SUSPENDED",
            )),
        }
    }
}

/// `corpUserStatus {status, lastModified}`, both required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorpUserStatus {
    /// `ACTIVE` or `SUSPENDED`.
    pub status: UserStatus,
    /// Who set it, when.
    pub last_modified: AuditStamp,
    /// Members we do not model.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(
    CorpUserStatus,
    "corpUserStatus",
    "com.linkedin.identity.CorpUserStatus"
);

/// `groupMembership {groups}`: external group membership (edge `IsMemberOfGroup`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GroupMembership {
    /// corpGroup urns.
    pub groups: Vec<Urn>,
    /// Members we do not model.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(
    GroupMembership,
    "groupMembership",
    "com.linkedin.identity.GroupMembership"
);

/// `nativeGroupMembership {nativeGroups}`: groups managed in DataHub. Read only.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NativeGroupMembership {
    /// corpGroup urns.
    pub native_groups: Vec<Urn>,
    /// Members we do not model.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(
    NativeGroupMembership,
    "nativeGroupMembership",
    "com.linkedin.identity.NativeGroupMembership"
);

/// `roleMembership {roles}`: DataHub roles. Written only with `--idp-roles`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RoleMembership {
    /// dataHubRole urns.
    pub roles: Vec<Urn>,
    /// Members we do not model.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(
    RoleMembership,
    "roleMembership",
    "com.linkedin.identity.RoleMembership"
);

/// `corpGroupInfo`: `admins`, `members`, `groups` are required (send `[]`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorpGroupInfo {
    /// Display name (the IdP's group name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Group e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Deprecated; kept as found.
    pub admins: Vec<Urn>,
    /// Deprecated (membership lives on users); kept as found.
    pub members: Vec<Urn>,
    /// Deprecated; kept as found.
    pub groups: Vec<Urn>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Slack channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack: Option<String>,
    /// Deprecated creation stamp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<AuditStamp>,
    /// Members we do not model.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(
    CorpGroupInfo,
    "corpGroupInfo",
    "com.linkedin.identity.CorpGroupInfo"
);

/// Origin type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OriginType {
    /// Managed inside DataHub.
    Native,
    /// Pushed from an external provider (us).
    External,
}

/// `origin {type, externalType?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    /// NATIVE or EXTERNAL.
    #[serde(rename = "type")]
    pub origin_type: OriginType,
    /// The IdP name for EXTERNAL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_type: Option<String>,
    /// Members we do not model.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(Origin, "origin", "com.linkedin.common.Origin");

impl Origin {
    /// `{type: EXTERNAL, externalType: <idp>}`.
    pub fn external(idp: &str) -> Self {
        Origin {
            origin_type: OriginType::External,
            external_type: Some(idp.to_owned()),
            extra: Extra::new(),
        }
    }
}

/// `status {removed}`: soft delete.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Soft-deleted. Always sent (`false` too) so an upsert revives.
    #[serde(default)]
    pub removed: bool,
    /// Lifecycle stage urn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_stage: Option<Urn>,
    /// When the stage last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_last_updated: Option<AuditStamp>,
    /// Members we do not model.
    #[serde(flatten)]
    pub extra: Extra,
}
aspect!(Status, "status", "com.linkedin.common.Status");

impl Status {
    /// `{removed: <removed>}`.
    pub fn removed(removed: bool) -> Self {
        Status {
            removed,
            ..Status::default()
        }
    }
}

#[cfg(test)]
#[path = "aspects_schema_tests.rs"]
mod schema_check;
