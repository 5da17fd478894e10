//! DataHub roles from the IdP (`--idp-roles`, off by default), pure.
//!
//! DataHub Cloud's newer SCIM guides let Okta (an app attribute mapped to
//! `roles.^[primary==true].value`) and Entra (`SingleAppRoleAssignment` mapped to
//! `roles[primary eq "True"].value`) set a user's DataHub role. With the setting on,
//! the user's primary SCIM role (the one marked `primary`, or the only one) must be a
//! built-in DataHub role — `Admin`, `Editor` or `Reader` (any case, or the role urn)
//! — and is written as `roleMembership {roles: [urn:li:dataHubRole:<name>]}`,
//! exactly what DataHub's own role assignment writes (`RoleService`: one role per
//! user, the list replaced). Who owns the role:
//!
//! - the IdP sends a role: it is the user's role, whatever DataHub held (a role an
//!   admin gave in DataHub is replaced at the IdP's next write that carries one);
//! - the IdP stops sending one (PATCH `remove`, a PUT without it) after it had: the
//!   role it had set is taken away, if the user still has exactly that one (a role an
//!   admin changed in DataHub since is left alone);
//! - the IdP never sent one: `roleMembership` is left alone (roles given in DataHub
//!   survive every sync).
//!
//! The role the IdP last set is the one in the stored `roles` (`scim.roles`), so the
//! rule needs no state of its own. Roles given to groups are DataHub's and never
//! touched.

use serde_json::Value;

use crate::datahub::aspects::{CorpUserInfo, RoleMembership};
use crate::datahub::{EntityAspects, Proposal, Urn};
use crate::provision::errors::Fail;
use crate::provision::record::UserRecord;
use crate::scim;
use crate::scim::resource::MultiValue;

use super::map::SCIM_PREFIX;

/// DataHub's built-in roles (`urn:li:dataHubRole:<name>`, bootstrapped by GMS).
pub const ROLES: [&str; 3] = ["Admin", "Editor", "Reader"];
/// Prefix of a role urn.
const ROLE_URN: &str = "urn:li:dataHubRole:";

/// The DataHub role a stored or sent `roles` list (as JSON text) asks for:
/// `Ok(None)` when it names none; `400 invalidValue` naming the allowed roles when
/// the primary role is not one of them.
pub fn idp_role(info: &CorpUserInfo) -> Result<Option<Urn>, scim::Error> {
    let Some(text) = info
        .custom_properties
        .get(&format!("{SCIM_PREFIX}roles"))
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let Ok(json) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let roles = MultiValue::list_from_json(&json)?;
    let chosen = match roles.iter().find(|r| r.primary == Some(true)) {
        Some(r) => r,
        None if roles.len() == 1 => &roles[0],
        None if roles.is_empty() => return Ok(None),
        None => {
            return Err(scim::Error::invalid_value(
                "roles: several roles and none marked primary; the primary role is the \
                 user's DataHub role",
            ))
        }
    };
    let name = chosen.value.trim();
    let name = name.strip_prefix(ROLE_URN).unwrap_or(name);
    if name.is_empty() {
        return Ok(None);
    }
    ROLES
        .iter()
        .find(|r| r.eq_ignore_ascii_case(name))
        .map(|r| Urn::role(r))
        .map(Some)
        .ok_or_else(|| {
            scim::Error::invalid_value(format!(
                "roles: '{name}' is not a DataHub role; the primary role must be one of {}",
                ROLES.join(", ")
            ))
        })
}

/// The `roleMembership` write that brings `rec` from the IdP role `before` (the one
/// its stored `roles` named) to `after` (the one the new `roles` name), by the rule
/// of the module doc; `None` when nothing changes.
pub fn role_write(
    rec: &UserRecord,
    ent: &EntityAspects,
    before: Option<&Urn>,
    after: Option<&Urn>,
) -> Result<Option<(Proposal, RoleMembership)>, Fail> {
    let current = rec.roles.clone().unwrap_or_default();
    let wanted = match (before, after) {
        (_, Some(r)) => vec![r.clone()],
        (Some(b), None) if current.roles == [b.clone()] => Vec::new(),
        _ => return Ok(None),
    };
    if current.roles == wanted {
        return Ok(None);
    }
    let mut next = current;
    next.roles = wanted;
    Ok(Some((
        Proposal::upsert(&rec.urn, &next)?.conditional_on(ent),
        next,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(roles: &str) -> CorpUserInfo {
        let mut i = CorpUserInfo::default();
        i.custom_properties
            .insert("scim.roles".into(), roles.into());
        i
    }

    #[test]
    fn the_primary_role_is_the_datahub_role() {
        // Okta: `roles.^[primary==true].value`.
        let r = idp_role(&info(r#"[{"primary":true,"value":"Reader"}]"#)).expect("valid");
        assert_eq!(r, Some(Urn::role("Reader")));
        // Entra: `"primary": "True"` strings, a type, any case.
        let r = idp_role(&info(
            r#"[{"primary":"True","type":"WindowsAzureActiveDirectoryRole","value":"admin"}]"#,
        ))
        .expect("valid");
        assert_eq!(r, Some(Urn::role("Admin")));
        // The only role counts as primary; the urn form is accepted.
        let r = idp_role(&info(r#"[{"value":"urn:li:dataHubRole:Editor"}]"#)).expect("valid");
        assert_eq!(r, Some(Urn::role("Editor")));
        let r = idp_role(&info(
            r#"[{"value":"Reader"},{"value":"Editor","primary":true}]"#,
        ))
        .expect("valid");
        assert_eq!(r, Some(Urn::role("Editor")));
        // Nothing asked.
        assert_eq!(idp_role(&info("[]")).expect("valid"), None);
        assert_eq!(idp_role(&CorpUserInfo::default()).expect("valid"), None);
    }

    #[test]
    fn unknown_or_ambiguous_roles_are_refused_naming_the_allowed_ones() {
        let e = idp_role(&info(r#"[{"primary":true,"value":"Owner"}]"#)).expect_err("unknown");
        assert_eq!(e.status, 400);
        assert_eq!(e.scim_type, Some(scim::ScimType::InvalidValue));
        assert!(e.detail.contains("Admin, Editor, Reader"), "{}", e.detail);
        let e = idp_role(&info(r#"[{"value":"Reader"},{"value":"Editor"}]"#)).expect_err("two");
        assert_eq!(e.status, 400);
    }
}
