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

use serde_json::Value;

use crate::datahub::aspects::{CorpUserInfo, CorpUserStatus, GroupMembership, UserStatus};
use crate::datahub::Urn;
use crate::provision::ids;
use crate::scim::resource::{rfc3339_millis, Enterprise, Manager, Member, MultiValue, Name};
use crate::scim::{self, Meta, User};

/// Prefix of every `customProperties` key we own.
pub const SCIM_PREFIX: &str = "scim.";
/// Marks a user as SCIM-managed; holds `userName` as the IdP sent it.
pub const KEY_USER_NAME: &str = "scim.userName";
/// `userName` case-folded (`naming::fold_case`), written with it on every SCIM
/// write, so a create finds another user whose `userName` differs only in case with
/// one exact index filter (`customProperties EQUAL "scim.userNameFolded=<folded>"`),
/// non-ASCII letters included. Never shown.
pub const KEY_USER_NAME_FOLDED: &str = "scim.userNameFolded";
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

/// The SCIM id of a user that a rename moved here (RFC 7643 §3.1: the id never
/// changes). Absent when the id is the one this user's urn gives
/// ([`ids::user_id`]). Never shown as an attribute.
pub const KEY_ID: &str = "scim.id";
/// On a user a rename moved away from: the urn of the user the person now is. The
/// user is no longer a SCIM resource (its other `scim.*` keys are gone); the SCIM id
/// its urn gives, if it is the resource's id, is followed to that urn.
pub const KEY_MOVED_TO: &str = "scim.movedTo";

/// The SCIM id of a user: [`KEY_ID`] when a rename moved the resource here, else
/// the id its username gives.
pub fn scim_id(username: &str, info: Option<&CorpUserInfo>) -> String {
    info.and_then(|i| i.custom_properties.get(KEY_ID))
        .filter(|v| !v.is_empty())
        .cloned()
        .unwrap_or_else(|| ids::user_id(username))
}

/// Where a rename moved the person who was this user, if it did.
pub fn moved_to(info: Option<&CorpUserInfo>) -> Option<Urn> {
    info.and_then(|i| i.custom_properties.get(KEY_MOVED_TO))
        .and_then(|u| u.parse::<Urn>().ok())
        .filter(Urn::is_corp_user)
}

/// A group member's SCIM `display`: the user's SCIM `displayName`, else its full
/// name (`name.formatted`), else the display name set in DataHub's UI, else the
/// `userName` the IdP sent, else the DataHub username.
pub fn member_display(
    username: &str,
    display_name: Option<&str>,
    full_name: Option<&str>,
    editable_display_name: Option<&str>,
    props: &std::collections::BTreeMap<String, String>,
) -> String {
    [
        display_name,
        full_name,
        editable_display_name,
        props.get(KEY_USER_NAME).map(String::as_str),
    ]
    .into_iter()
    .flatten()
    .find(|s| !s.trim().is_empty())
    .unwrap_or(username)
    .to_owned()
}

/// The `customProperties` index value that marks SCIM-managed users
/// (`scim.managed=true`: DataHub indexes map entries as `key=value`).
pub fn managed_marker() -> String {
    format!("{KEY_MANAGED}={MANAGED_VALUE}")
}

/// Multi-valued attributes, stored exactly as sent (as JSON) so a GET returns what
/// was sent.
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

/// The `corpUserInfo` a SCIM user body asks for, the body read by
/// [`scim::User::from_json_or_active`]. Fields we own are taken from the body
/// (absent = cleared, PUT semantics); fields we do not own (`system`,
/// `isSupportUser`, `departmentId`, unknown members), `customProperties` keys
/// outside `scim.*` and [`KEY_CREATED`] are kept from `existing`. `active` is
/// `default_active` when the body does not say.
pub fn info_from_scim(
    body: &Value,
    existing: Option<&CorpUserInfo>,
    default_active: bool,
) -> Result<CorpUserInfo, scim::Error> {
    let mut info = info_from_user(User::from_json_or_active(body, default_active)?, existing)?;
    for attr in MULTI {
        let items = User::multi_as_sent(body, attr)?;
        if !items.is_empty() {
            let text = Value::Array(items).to_string();
            info.custom_properties
                .insert(format!("{SCIM_PREFIX}{attr}"), text);
        }
    }
    Ok(info)
}

/// [`info_from_scim`] for a parsed user, all but the multi-valued lists.
fn info_from_user(
    mut user: User,
    existing: Option<&CorpUserInfo>,
) -> Result<CorpUserInfo, scim::Error> {
    let mut info = existing.cloned().unwrap_or_default();
    info.custom_properties
        .retain(|k, _| !k.starts_with(SCIM_PREFIX) || k == KEY_CREATED);

    info.active = user.active;
    info.display_name = user.display_name.take();
    info.title = user.title.take();
    let mut name = user.name.take().unwrap_or_default();
    info.first_name = name.given_name.take();
    info.last_name = name.family_name.take();
    info.full_name = name.formatted.take().or_else(|| {
        let parts: Vec<String> = [info.first_name.clone(), info.last_name.clone()]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    });
    info.email = user.primary_email().map(str::to_owned);
    let primary = user.addresses.iter().find(|a| a.primary == Some(true));
    info.country_code = primary
        .and_then(|a| a.country.clone())
        .or_else(|| user.addresses.iter().find_map(|a| a.country.clone()));
    info.department_name = user.enterprise.department.take();
    info.manager_urn = manager_urn(user.enterprise.manager.as_ref())?;

    let mut props: Vec<(String, Option<String>)> = Vec::new();
    for (sub, slot) in name_slots(&mut name) {
        props.push((format!("scim.name.{sub}"), slot.take()));
    }
    for (attr, slot) in enterprise_slots(&mut user.enterprise) {
        props.push((format!("scim.enterprise.{attr}"), slot.take()));
    }
    for (attr, slot) in core_slots(&mut user) {
        props.push((format!("{SCIM_PREFIX}{attr}"), slot.take()));
    }
    props.push((KEY_MANAGED.to_owned(), Some(MANAGED_VALUE.to_owned())));
    // Required (RFC 7643 §4.1.1; `from_json` refuses a body without it), and its
    // presence is what marks the user as ours.
    crate::provision::naming::check_chars("userName", &user.user_name)?;
    props.push((
        KEY_USER_NAME_FOLDED.to_owned(),
        Some(crate::provision::naming::fold_case(&user.user_name)),
    ));
    props.push((KEY_USER_NAME.to_owned(), Some(user.user_name.clone())));
    props.push((KEY_EXTERNAL_ID.to_owned(), user.external_id.take()));
    info.custom_properties
        .extend(props.into_iter().filter_map(|(k, v)| Some((k, v?))));
    Ok(info)
}

/// Keeps a server-derived `name.formatted` following the names it came from.
/// DataHub's `fullName` is `formatted` when the IdP sends one, else given + family
/// name, and a GET shows it as `formatted`; so a PUT that echoes what it read (Okta)
/// or a PATCH of `name.givenName` would otherwise keep the old full name. When the
/// new body keeps the `formatted` read back, which was the derived one, while the
/// given or family name changed, it is dropped from the body and derived again.
pub fn rederive_formatted(before: &Value, after: &mut Value) {
    let names = |v: &Value| User::from_json_or_active(v, true).ok().and_then(|u| u.name);
    let (Some(old), Some(new)) = (names(before), names(after)) else {
        return;
    };
    let derived = [old.given_name.as_deref(), old.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let stale = old.formatted.as_deref() == Some(derived.as_str())
        && new.formatted == old.formatted
        && (new.given_name != old.given_name || new.family_name != old.family_name);
    if !stale {
        return;
    }
    let Some(o) = after.as_object_mut() else {
        return;
    };
    crate::scim::json::remove_ci(o, "name.formatted");
    if let Some(Value::Object(n)) = crate::scim::json::get_mut_ci(o, "name") {
        crate::scim::json::remove_ci(n, "formatted");
    }
}

/// `name` sub-attributes without a DataHub field, kept as `scim.name.<sub>`.
fn name_slots(n: &mut Name) -> [(&'static str, &mut Option<String>); 3] {
    [
        ("middleName", &mut n.middle_name),
        ("honorificPrefix", &mut n.honorific_prefix),
        ("honorificSuffix", &mut n.honorific_suffix),
    ]
}

/// Enterprise strings without a DataHub field, kept as `scim.enterprise.<attr>`.
fn enterprise_slots(e: &mut Enterprise) -> [(&'static str, &mut Option<String>); 4] {
    [
        ("employeeNumber", &mut e.employee_number),
        ("costCenter", &mut e.cost_center),
        ("organization", &mut e.organization),
        ("division", &mut e.division),
    ]
}

/// Core single-valued strings without a DataHub field, kept as `scim.<attr>`.
fn core_slots(u: &mut User) -> [(&'static str, &mut Option<String>); 6] {
    [
        ("nickName", &mut u.nick_name),
        ("profileUrl", &mut u.profile_url),
        ("userType", &mut u.user_type),
        ("preferredLanguage", &mut u.preferred_language),
        ("locale", &mut u.locale),
        ("timezone", &mut u.timezone),
    ]
}

/// Enterprise `manager` (an object, or Entra's bare id string, as `from_json` reads
/// it): its value must be the SCIM id of a user of this service.
fn manager_urn(manager: Option<&Manager>) -> Result<Option<Urn>, scim::Error> {
    match manager
        .map(|m| m.value.as_str())
        .filter(|s| !s.trim().is_empty())
    {
        None => Ok(None),
        Some(id) => ids::decode(id)
            .filter(|username| crate::provision::naming::valid_key(username))
            .map(|username| Some(Urn::corp_user(&username)))
            .ok_or_else(|| {
                scim::Error::invalid_value("manager.value is not the id of a user of this service")
            }),
    }
}

/// The SCIM User JSON for what DataHub holds: a [`scim::User`] built from the
/// aspects, rendered by its `to_json`, plus the stored lists it does not model.
pub fn render(view: &UserView<'_>, base_url: &str) -> Value {
    let id = scim_id(view.username, view.info);
    let default_info = CorpUserInfo::default();
    let info = view.info.unwrap_or(&default_info);
    let props = &info.custom_properties;
    let prop = |k: &str| props.get(k).filter(|v| !v.is_empty()).cloned();
    let stored = |attr: &str| {
        prop(&format!("{SCIM_PREFIX}{attr}")).and_then(|t| serde_json::from_str::<Value>(&t).ok())
    };

    let mut u = User::new(prop(KEY_USER_NAME).unwrap_or_else(|| view.username.to_owned()));
    u.external_id = prop(KEY_EXTERNAL_ID);
    let mut name = Name {
        formatted: info.full_name.clone(),
        family_name: info.last_name.clone(),
        given_name: info.first_name.clone(),
        ..Name::default()
    };
    for (sub, slot) in name_slots(&mut name) {
        *slot = prop(&format!("scim.name.{sub}"));
    }
    u.name = (name != Name::default()).then_some(name);
    u.display_name = info.display_name.clone();
    u.title = info.title.clone();
    for (attr, slot) in core_slots(&mut u) {
        *slot = prop(&format!("{SCIM_PREFIX}{attr}"));
    }
    u.active = effective_active(view.info, view.status);
    u.groups = view
        .membership
        .map(|m| {
            m.groups
                .iter()
                .filter_map(|g| ids::group_id_of_urn(g.as_str()))
                .map(|gid| Member {
                    ref_: Some(format!("{base_url}/Groups/{gid}")),
                    type_: Some("direct".into()),
                    ..Member::new(gid)
                })
                .collect()
        })
        .unwrap_or_default();
    for (attr, slot) in enterprise_slots(&mut u.enterprise) {
        *slot = prop(&format!("scim.enterprise.{attr}"));
    }
    u.enterprise.department = info.department_name.clone();
    u.enterprise.manager = info
        .manager_urn
        .as_ref()
        .and_then(|m| ids::user_id_of_urn(m.as_str()))
        .map(|mid| Manager {
            ref_: Some(format!("{base_url}/Users/{mid}")),
            value: mid,
            display_name: None,
        });

    let meta = Meta {
        created: view.created_ms.and_then(rfc3339_millis),
        last_modified: view
            .modified_ms
            .or(view.created_ms)
            .and_then(rfc3339_millis),
        location: Some(format!("{base_url}/Users/{id}")),
        version: None,
    };
    let mut out = u.to_json(&id, &meta);
    if let Some(o) = out.as_object_mut() {
        for attr in MULTI {
            let stored = match stored(attr) {
                Some(Value::Array(items)) if !items.is_empty() => Some(items),
                _ => None,
            };
            let items = match *attr {
                "emails" => emails_value(info.email.as_deref(), stored),
                _ => stored,
            };
            if let Some(items) = items {
                o.insert((*attr).into(), Value::Array(items));
            }
        }
    }
    out
}

/// `emails` as stored, unless DataHub's `email` changed under us; then a single
/// primary work email synthesized from `corpUserInfo.email`. The stored primary is
/// found as `scim::User` finds it.
fn emails_value(email: Option<&str>, stored: Option<Vec<Value>>) -> Option<Vec<Value>> {
    let typed = stored
        .as_ref()
        .and_then(|s| MultiValue::list_from_json(&Value::Array(s.clone())).ok())
        .unwrap_or_default();
    let stored_primary = MultiValue::primary(&typed).map(|e| e.value.as_str());
    match (email, stored) {
        (Some(e), Some(s)) if stored_primary == Some(e) => Some(s),
        (Some(e), _) => Some(vec![MultiValue {
            value: e.to_owned(),
            display: None,
            type_: Some("work".into()),
            primary: Some(true),
        }
        .to_json()]),
        (None, Some(s)) if stored_primary.is_none() => Some(s),
        _ => None,
    }
}

#[cfg(test)]
#[path = "map_tests.rs"]
mod tests;
