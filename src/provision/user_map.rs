//! SCIM User ⇄ DataHub user aspects, both ways, pure.
//!
//! What maps where (also in `docs/provisioning.md`):
//!
//! | SCIM | DataHub |
//! | --- | --- |
//! | `active` | `corpUserInfo.active` + `corpUserStatus` ACTIVE/SUSPENDED |
//! | `displayName`, `title` | `corpUserInfo.displayName`, `.title` |
//! | `name.givenName` / `familyName` / `formatted` | `.firstName` / `.lastName` / `.fullName` |
//! | primary (else first) `emails[].value` | `.email` |
//! | primary (else first) `addresses[].country` | `.countryCode` |
//! | enterprise `department` | `.departmentName` |
//! | enterprise `manager.value` (a SCIM id) | `.managerUrn` |
//! | `userName`, `externalId`, other core/enterprise strings | `.customProperties["scim.<attr>"]` |
//! | `meta.created` (set at create, adopt, revive; read-only) | `.customProperties["scim.created"]` (ms) |
//! | `meta.lastModified` | `corpUserStatus.lastModified.time` |
//! | multi-valued lists (`emails`, `phoneNumbers`, `addresses`, `roles`, …) | `.customProperties["scim.<attr>"]` as JSON |
//!
//! `id`, `meta`, `password`, `groups` and `schemas` in request bodies are ignored.

use serde_json::{json, Map, Value};

use super::ids;
use super::scim_json::{
    bool_at, get_ci, multi_at, rfc3339, str_at, ENTERPRISE_SCHEMA, USER_SCHEMA,
};
use crate::datahub::aspects::{CorpUserInfo, CorpUserStatus, GroupMembership, UserStatus};
use crate::scim;

/// Prefix of every `customProperties` key we own.
pub const SCIM_PREFIX: &str = "scim.";
/// Marks a user as SCIM-managed; holds `userName` as the IdP sent it.
pub const KEY_USER_NAME: &str = "scim.userName";
/// The IdP's `externalId`.
pub const KEY_EXTERNAL_ID: &str = "scim.externalId";
/// When the SCIM resource came to be (create, adopt or revive), in milliseconds since
/// the epoch (DataHub's own time unit): written once, kept by every later write,
/// shown as `meta.created` and never as an attribute.
pub const KEY_CREATED: &str = "scim.created";
/// The index marker of a SCIM-managed user: written with [`MANAGED_VALUE`] on every
/// SCIM write (create, adopt, revive, PUT, PATCH), so list pages select our users in
/// the search index (`customProperties EQUAL "scim.managed=true"`). A fixed value,
/// not the IdP name: renaming `idp_name` (or moving from Okta to Entra) must not
/// hide existing users from lists; the IdP is in `origin.externalType`.
pub const KEY_MANAGED: &str = "scim.managed";
/// Value of [`KEY_MANAGED`].
pub const MANAGED_VALUE: &str = "true";

/// The `customProperties` index value that marks SCIM-managed users
/// (`scim.managed=true`: DataHub indexes map entries as `key=value`).
pub fn managed_marker() -> String {
    format!("{KEY_MANAGED}={MANAGED_VALUE}")
}

/// Core single-valued strings without a DataHub field.
const CORE_STRINGS: &[&str] = &[
    "nickName",
    "profileUrl",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
];
/// `name` sub-attributes without a DataHub field.
const NAME_STRINGS: &[&str] = &["middleName", "honorificPrefix", "honorificSuffix"];
/// Enterprise strings without a DataHub field.
const ENTERPRISE_STRINGS: &[&str] = &["employeeNumber", "costCenter", "organization", "division"];
/// Multi-valued attributes kept verbatim (as JSON) so a GET returns what was sent.
const MULTI: &[&str] = &[
    "emails",
    "phoneNumbers",
    "addresses",
    "ims",
    "photos",
    "roles",
    "entitlements",
    "x509Certificates",
];

/// Everything DataHub holds about one user that the SCIM view needs.
#[derive(Debug, Clone, Default)]
pub struct UserView<'a> {
    /// `corpUserKey.username` (the urn key).
    pub username: &'a str,
    /// `corpUserInfo`, when present.
    pub info: Option<&'a CorpUserInfo>,
    /// `corpUserStatus`, when present.
    pub status: Option<&'a CorpUserStatus>,
    /// `groupMembership`, when present.
    pub membership: Option<&'a GroupMembership>,
    /// Creation time (ms) of the entity, when known.
    pub created_ms: Option<i64>,
    /// Last modification time (ms) of any aspect we render, when known.
    pub modified_ms: Option<i64>,
    /// A weak version tag built from aspect versions, when known.
    pub version: Option<String>,
}

/// Whether the user is active as SCIM sees it: `corpUserInfo.active` and not
/// `SUSPENDED`. (An SSO login re-activates `corpUserStatus` but not `active`, so
/// the IdP's intent stays visible.)
pub fn effective_active(info: Option<&CorpUserInfo>, status: Option<&CorpUserStatus>) -> bool {
    let info_active = info.map(|i| i.active).unwrap_or(true);
    let status_active = status
        .map(|s| s.status != UserStatus::Suspended)
        .unwrap_or(true);
    info_active && status_active
}

/// Whether `corpUserInfo` carries our marker, i.e. the user is SCIM-managed.
pub fn is_scim_managed(info: Option<&CorpUserInfo>) -> bool {
    info.is_some_and(|i| i.custom_properties.contains_key(KEY_USER_NAME))
}

/// The `corpUserInfo` a SCIM user body asks for. Fields we own are taken from the
/// body (absent = cleared, PUT semantics); fields we do not own (`system`,
/// `isSupportUser`, `departmentId`, unknown members), `customProperties` keys
/// outside `scim.*` and [`KEY_CREATED`] are kept from `existing`. `active` is `default_active` when the
/// body does not say.
pub fn info_from_scim(
    body: &Value,
    existing: Option<&CorpUserInfo>,
    default_active: bool,
) -> Result<CorpUserInfo, scim::Error> {
    let mut info = existing.cloned().unwrap_or_default();
    info.custom_properties
        .retain(|k, _| !k.starts_with(SCIM_PREFIX) || k == KEY_CREATED);
    let props = &mut info.custom_properties;

    info.active = bool_at(body, "active")?.unwrap_or(default_active);
    info.display_name = str_at(body, "displayName");
    info.title = str_at(body, "title");

    let name = get_ci(body, "name").cloned().unwrap_or(Value::Null);
    info.first_name = str_at(&name, "givenName");
    info.last_name = str_at(&name, "familyName");
    info.full_name = str_at(&name, "formatted").or_else(|| {
        let parts: Vec<String> = [info.first_name.clone(), info.last_name.clone()]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    for sub in NAME_STRINGS {
        if let Some(v) = str_at(&name, sub) {
            props.insert(format!("scim.name.{sub}"), v);
        }
    }

    info.email = primary_of(&multi_at(body, "emails"), "value");
    info.country_code = primary_of(&multi_at(body, "addresses"), "country");

    let ent = get_ci(body, ENTERPRISE_SCHEMA)
        .cloned()
        .unwrap_or(Value::Null);
    info.department_name = str_at(&ent, "department");
    info.manager_urn = manager_urn(&ent)?;
    for attr in ENTERPRISE_STRINGS {
        if let Some(v) = str_at(&ent, attr) {
            props.insert(format!("scim.enterprise.{attr}"), v);
        }
    }

    props.insert(KEY_MANAGED.to_owned(), MANAGED_VALUE.to_owned());
    // Required (RFC 7643 §4.1.1), and its presence is what marks the user as ours:
    // without it the write would turn the user into one SCIM no longer sees.
    let user_name = str_at(body, "userName")
        .ok_or_else(|| scim::Error::invalid_value("userName is required"))?;
    props.insert(KEY_USER_NAME.to_owned(), user_name);
    if let Some(v) = str_at(body, "externalId") {
        props.insert(KEY_EXTERNAL_ID.to_owned(), v);
    }
    for attr in CORE_STRINGS {
        if let Some(v) = str_at(body, attr) {
            props.insert(format!("scim.{attr}"), v);
        }
    }
    for attr in MULTI {
        let items = multi_at(body, attr);
        if !items.is_empty() {
            let text = serde_json::to_string(&items)
                .map_err(|_| scim::Error::invalid_value(format!("{attr} is not valid JSON")))?;
            props.insert(format!("scim.{attr}"), text);
        }
    }
    Ok(info)
}

/// The `sub` value of the primary element (else the first element that has one).
fn primary_of(items: &[&Value], sub: &str) -> Option<String> {
    let primary = items
        .iter()
        .find(|v| matches!(bool_at(v, "primary"), Ok(Some(true))));
    primary
        .and_then(|v| str_at(v, sub))
        .or_else(|| items.iter().find_map(|v| str_at(v, sub)))
}

/// Enterprise `manager`: `{"value": id}` (Okta, RFC) or a bare id string (Entra).
fn manager_urn(ent: &Value) -> Result<Option<crate::datahub::Urn>, scim::Error> {
    let id = match get_ci(ent, "manager") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(m @ Value::Object(_)) => str_at(m, "value"),
        _ => None,
    };
    match id.filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(id) => ids::decode(&id)
            .filter(|username| super::naming::valid_key(username))
            .map(|username| Some(crate::datahub::Urn::corp_user(&username)))
            .ok_or_else(|| {
                scim::Error::invalid_value("manager.value is not the id of a user of this service")
            }),
    }
}

/// The SCIM User JSON for what DataHub holds.
pub fn render(view: &UserView<'_>, base_url: &str) -> Value {
    let id = ids::user_id(view.username);
    let default_info = CorpUserInfo::default();
    let info = view.info.unwrap_or(&default_info);
    let props = &info.custom_properties;
    let prop = |k: &str| props.get(k).filter(|v| !v.is_empty()).cloned();
    let mut out = Map::new();

    let mut schemas = vec![json!(USER_SCHEMA)];
    out.insert("id".into(), json!(id));
    if let Some(v) = prop(KEY_EXTERNAL_ID) {
        out.insert("externalId".into(), json!(v));
    }
    out.insert(
        "userName".into(),
        json!(prop(KEY_USER_NAME).unwrap_or_else(|| view.username.to_owned())),
    );

    let mut name = Map::new();
    if let Some(v) = &info.full_name {
        name.insert("formatted".into(), json!(v));
    }
    if let Some(v) = &info.last_name {
        name.insert("familyName".into(), json!(v));
    }
    if let Some(v) = &info.first_name {
        name.insert("givenName".into(), json!(v));
    }
    for sub in NAME_STRINGS {
        if let Some(v) = prop(&format!("scim.name.{sub}")) {
            name.insert((*sub).into(), json!(v));
        }
    }
    if !name.is_empty() {
        out.insert("name".into(), Value::Object(name));
    }
    if let Some(v) = &info.display_name {
        out.insert("displayName".into(), json!(v));
    }
    for attr in CORE_STRINGS {
        if let Some(v) = prop(&format!("scim.{attr}")) {
            out.insert((*attr).into(), json!(v));
        }
    }
    if let Some(v) = &info.title {
        out.insert("title".into(), json!(v));
    }
    out.insert(
        "active".into(),
        json!(effective_active(view.info, view.status)),
    );

    for attr in MULTI {
        let stored =
            prop(&format!("scim.{attr}")).and_then(|t| serde_json::from_str::<Vec<Value>>(&t).ok());
        let value = match (*attr, stored) {
            ("emails", stored) => emails_value(info.email.as_deref(), stored),
            (_, Some(items)) if !items.is_empty() => Some(items),
            _ => None,
        };
        if let Some(items) = value {
            out.insert((*attr).into(), Value::Array(items));
        }
    }

    let groups: Vec<Value> = view
        .membership
        .map(|m| m.groups.iter().filter_map(|g| ids::group_id_of_urn(g.as_str())).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|gid| json!({"value": gid, "$ref": format!("{base_url}/Groups/{gid}"), "type": "direct"}))
        .collect();
    if !groups.is_empty() {
        out.insert("groups".into(), Value::Array(groups));
    }

    let mut ent = Map::new();
    for attr in ENTERPRISE_STRINGS {
        if let Some(v) = prop(&format!("scim.enterprise.{attr}")) {
            ent.insert((*attr).into(), json!(v));
        }
    }
    if let Some(v) = &info.department_name {
        ent.insert("department".into(), json!(v));
    }
    if let Some(mid) = info
        .manager_urn
        .as_ref()
        .and_then(|m| ids::user_id_of_urn(m.as_str()))
    {
        ent.insert(
            "manager".into(),
            json!({"value": mid, "$ref": format!("{base_url}/Users/{mid}")}),
        );
    }
    if !ent.is_empty() {
        schemas.push(json!(ENTERPRISE_SCHEMA));
        out.insert(ENTERPRISE_SCHEMA.into(), Value::Object(ent));
    }

    let mut meta = Map::new();
    meta.insert("resourceType".into(), json!("User"));
    if let Some(t) = view.created_ms.and_then(rfc3339) {
        meta.insert("created".into(), json!(t));
    }
    if let Some(t) = view.modified_ms.or(view.created_ms).and_then(rfc3339) {
        meta.insert("lastModified".into(), json!(t));
    }
    meta.insert("location".into(), json!(format!("{base_url}/Users/{id}")));
    if let Some(v) = &view.version {
        meta.insert("version".into(), json!(v));
    }
    out.insert("meta".into(), Value::Object(meta));
    out.insert("schemas".into(), Value::Array(schemas));
    Value::Object(out)
}

/// `emails` as stored, unless DataHub's `email` changed under us; then a single
/// primary work email synthesized from `corpUserInfo.email`.
fn emails_value(email: Option<&str>, stored: Option<Vec<Value>>) -> Option<Vec<Value>> {
    let stored_primary = stored
        .as_ref()
        .and_then(|s| primary_of(&s.iter().collect::<Vec<_>>(), "value"));
    match (email, stored) {
        (Some(e), Some(s)) if stored_primary.as_deref() == Some(e) => Some(s),
        (Some(e), _) => Some(vec![json!({"value": e, "type": "work", "primary": true})]),
        (None, Some(s)) if !s.is_empty() && stored_primary.is_none() => Some(s),
        _ => None,
    }
}

#[cfg(test)]
#[path = "user_map_tests.rs"]
mod tests;
