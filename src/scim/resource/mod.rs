//! Typed SCIM resources. `from_json` accepts what real IdPs send (unknown attributes
//! and extension URNs kept in `extra`, read-only and write-only input ignored);
//! `to_json` writes exactly the RFC shape.

mod expand;
mod group;
pub(crate) mod lenient;
mod lists;
mod meta;
mod user;

#[cfg(test)]
mod tests;

pub use expand::expand_keys;
pub use group::{Group, Member};
pub use lenient::boolean as lenient_bool;
pub use meta::{rfc3339_millis, Meta};
pub use user::{Address, Enterprise, Manager, MultiValue, Name, User};

/// Keys a client may send that we never store: readOnly (`id`, `meta`, `groups`),
/// writeOnly (`password`, we do not store passwords), and `schemas` (derived).
pub(crate) const IGNORED_INPUT: &[&str] = &["id", "meta", "groups", "password", "schemas"];

/// SCIM 1.1 core schema URN, still sent by OneLogin's older templates.
pub(crate) const SCIM1_CORE_URN: &str = "urn:scim:schemas:core:1.0";
/// SCIM 1.1 enterprise extension URN.
pub(crate) const SCIM1_ENTERPRISE_URN: &str = "urn:scim:schemas:extension:enterprise:1.0";

/// Checks a resource body's `schemas` (RFC 7643 §3): when present it must be an array
/// of strings naming at least one schema of `kind` (2.0 core or extension, or the
/// SCIM 1.1 core URN OneLogin sends); other URNs next to it (Entra's vendor schema)
/// are fine. Absent or empty `schemas` is accepted: many clients omit it, and the
/// endpoint says what the resource is. `400 invalidSyntax` otherwise.
pub(crate) fn check_schemas(
    o: &serde_json::Map<String, serde_json::Value>,
    kind: crate::scim::ResourceKind,
) -> Result<(), crate::scim::Error> {
    use crate::scim::schema::{ENTERPRISE_URN, GROUP_URN, USER_URN};
    use crate::scim::ResourceKind;
    let Some(schemas) = crate::scim::json::get_ci(o, "schemas") else {
        return Ok(());
    };
    let names: Vec<&str> = schemas
        .as_array()
        .and_then(|a| a.iter().map(serde_json::Value::as_str).collect())
        .ok_or_else(|| {
            crate::scim::Error::invalid_syntax("'schemas' must be an array of schema URNs")
        })?;
    let known: &[&str] = match kind {
        ResourceKind::User => &[
            USER_URN,
            ENTERPRISE_URN,
            SCIM1_CORE_URN,
            SCIM1_ENTERPRISE_URN,
        ],
        ResourceKind::Group => &[GROUP_URN, SCIM1_CORE_URN],
    };
    if names.is_empty()
        || names
            .iter()
            .any(|n| known.iter().any(|k| k.eq_ignore_ascii_case(n.trim())))
    {
        return Ok(());
    }
    Err(crate::scim::Error::invalid_syntax(format!(
        "'schemas' names no {} schema (expected {})",
        match kind {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        },
        known[0]
    )))
}
