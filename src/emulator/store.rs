//! The emulator's primary store (DataHub's SQL `metadata_aspect_v2` table): one row per
//! (urn, aspect) holding the latest value as `serde_json::Value`, its version and audit
//! stamps, plus the aspect catalogue (entity types, key aspects, FQCNs) and the
//! validation DataHub applies to identity aspects (required fields, value types,
//! trimming of unknown fields).

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// One stored aspect (latest version only).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The aspect value, unknown fields already trimmed.
    pub value: Value,
    /// DataHub's `systemMetadata.version`: 1 on first write, +1 on each real change.
    pub version: u64,
    /// Actor urn of the last change.
    pub actor: String,
    /// Time (ms since epoch) of the last change.
    pub time: u64,
    /// System metadata of the last write (with `version` filled in).
    pub system_metadata: Value,
}

/// urn → aspect name → row.
pub type Entities = BTreeMap<String, BTreeMap<String, Row>>;

/// Entity type name of a urn (`corpuser`, `corpGroup`, `dataHubRole`, …), if it is a
/// `urn:li:<type>:<id>` urn.
pub fn entity_type(urn: &str) -> Option<&str> {
    let rest = urn.strip_prefix("urn:li:")?;
    let (ty, id) = rest.split_once(':')?;
    if ty.is_empty() || id.is_empty() {
        return None;
    }
    Some(ty)
}

/// The id part of a `urn:li:<type>:<id>` urn.
pub fn urn_id(urn: &str) -> &str {
    urn.strip_prefix("urn:li:")
        .and_then(|r| r.split_once(':'))
        .map(|(_, id)| id)
        .unwrap_or(urn)
}

/// Key aspect name and its single field for an entity type.
pub fn key_aspect(entity_type: &str) -> Option<(&'static str, &'static str)> {
    Some(match entity_type {
        "corpuser" => ("corpUserKey", "username"),
        "corpGroup" => ("corpGroupKey", "name"),
        "dataHubRole" => ("dataHubRoleKey", "id"),
        "dataHubAccessToken" => ("dataHubAccessTokenKey", "id"),
        "dataHubPolicy" => ("dataHubPolicyKey", "id"),
        _ => return None,
    })
}

/// The synthesized key aspect value of a urn.
pub fn key_value(urn: &str) -> Option<(&'static str, Value)> {
    let (name, field) = key_aspect(entity_type(urn)?)?;
    Some((name, json!({ field: urn_id(urn) })))
}

/// Aspects the entity registry allows for an entity type (the subset the emulator knows).
fn allowed_aspects(entity_type: &str) -> &'static [&'static str] {
    match entity_type {
        "corpuser" => &[
            "corpUserKey",
            "corpUserInfo",
            "corpUserEditableInfo",
            "corpUserStatus",
            "corpUserCredentials",
            "groupMembership",
            "nativeGroupMembership",
            "roleMembership",
            "status",
            "origin",
            "subTypes",
            "globalTags",
        ],
        "corpGroup" => &[
            "corpGroupKey",
            "corpGroupInfo",
            "corpGroupEditableInfo",
            "status",
            "origin",
            "roleMembership",
            "ownership",
            "subTypes",
            "globalTags",
        ],
        "dataHubRole" => &["dataHubRoleKey", "dataHubRoleInfo"],
        "dataHubAccessToken" => &["dataHubAccessTokenKey", "dataHubAccessTokenInfo"],
        "dataHubPolicy" => &["dataHubPolicyKey", "dataHubPolicyInfo"],
        _ => &[],
    }
}

/// Whether `aspect` is a valid aspect name for the entity type.
pub fn aspect_allowed(entity_type: &str, aspect: &str) -> bool {
    allowed_aspects(entity_type).contains(&aspect)
}

/// Pegasus FQCN of an aspect, the union key used by `GET /aspects`.
pub fn fqcn(aspect: &str) -> String {
    let known = match aspect {
        "corpUserKey" => "com.linkedin.metadata.key.CorpUserKey",
        "corpGroupKey" => "com.linkedin.metadata.key.CorpGroupKey",
        "dataHubRoleKey" => "com.linkedin.metadata.key.DataHubRoleKey",
        "dataHubAccessTokenKey" => "com.linkedin.metadata.key.DataHubAccessTokenKey",
        "dataHubPolicyKey" => "com.linkedin.metadata.key.DataHubPolicyKey",
        "dataHubPolicyInfo" => "com.linkedin.policy.DataHubPolicyInfo",
        "corpUserInfo" => "com.linkedin.identity.CorpUserInfo",
        "corpUserEditableInfo" => "com.linkedin.identity.CorpUserEditableInfo",
        "corpUserStatus" => "com.linkedin.identity.CorpUserStatus",
        "corpUserCredentials" => "com.linkedin.identity.CorpUserCredentials",
        "groupMembership" => "com.linkedin.identity.GroupMembership",
        "nativeGroupMembership" => "com.linkedin.identity.NativeGroupMembership",
        "roleMembership" => "com.linkedin.identity.RoleMembership",
        "corpGroupInfo" => "com.linkedin.identity.CorpGroupInfo",
        "corpGroupEditableInfo" => "com.linkedin.identity.CorpGroupEditableInfo",
        "status" => "com.linkedin.common.Status",
        "origin" => "com.linkedin.common.Origin",
        "subTypes" => "com.linkedin.common.SubTypes",
        "globalTags" => "com.linkedin.common.GlobalTags",
        "ownership" => "com.linkedin.common.Ownership",
        "dataHubRoleInfo" => "com.linkedin.policy.DataHubRoleInfo",
        "dataHubAccessTokenInfo" => "com.linkedin.access.token.DataHubAccessTokenInfo",
        _ => "",
    };
    if known.is_empty() {
        format!("com.linkedin.unknown.{aspect}")
    } else {
        known.to_string()
    }
}

/// Field kinds used by the validator.
#[derive(Clone, Copy)]
enum Kind {
    Str,
    Bool,
    Long,
    StrArray,
    StrMap,
    Stamp,
    OriginType,
}

/// (field, required, kind) for the aspects whose schema the emulator enforces
/// (from `shared/reference/datahub-aspects/*.avsc`). `None` = accepted as-is.
fn schema(aspect: &str) -> Option<&'static [(&'static str, bool, Kind)]> {
    use Kind::*;
    Some(match aspect {
        "corpUserKey" => &[("username", true, Str)],
        "corpGroupKey" => &[("name", true, Str)],
        "corpUserInfo" => &[
            ("customProperties", false, StrMap),
            ("active", true, Bool),
            ("displayName", false, Str),
            ("email", false, Str),
            ("title", false, Str),
            ("managerUrn", false, Str),
            ("departmentId", false, Long),
            ("departmentName", false, Str),
            ("firstName", false, Str),
            ("lastName", false, Str),
            ("fullName", false, Str),
            ("countryCode", false, Str),
            ("system", false, Bool),
            ("isSupportUser", false, Bool),
        ],
        "corpUserEditableInfo" => &[
            ("aboutMe", false, Str),
            ("teams", false, StrArray),
            ("skills", false, StrArray),
            ("pictureLink", false, Str),
            ("displayName", false, Str),
            ("title", false, Str),
            ("platforms", false, StrArray),
            ("persona", false, Str),
            ("slack", false, Str),
            ("phone", false, Str),
            ("email", false, Str),
            ("informationSources", false, StrArray),
        ],
        "corpUserStatus" => &[("status", true, Str), ("lastModified", true, Stamp)],
        "corpUserCredentials" => &[
            ("salt", true, Str),
            ("hashedPassword", true, Str),
            ("passwordResetToken", false, Str),
            ("passwordResetTokenExpirationTimeMillis", false, Long),
        ],
        "groupMembership" => &[("groups", true, StrArray)],
        "nativeGroupMembership" => &[("nativeGroups", true, StrArray)],
        "roleMembership" => &[("roles", true, StrArray)],
        "corpGroupInfo" => &[
            ("displayName", false, Str),
            ("email", false, Str),
            ("admins", true, StrArray),
            ("members", true, StrArray),
            ("groups", true, StrArray),
            ("description", false, Str),
            ("slack", false, Str),
            ("created", false, Stamp),
        ],
        "corpGroupEditableInfo" => &[
            ("description", false, Str),
            ("pictureLink", false, Str),
            ("slack", false, Str),
            ("email", false, Str),
        ],
        "origin" => &[("type", true, OriginType), ("externalType", false, Str)],
        "status" => &[
            ("removed", false, Bool),
            ("lifecycleStage", false, Str),
            ("lifecycleLastUpdated", false, Stamp),
        ],
        "dataHubAccessTokenInfo" => &[
            ("name", true, Str),
            ("actorUrn", true, Str),
            ("ownerUrn", true, Str),
            ("createdAt", true, Long),
            ("expiresAt", false, Long),
            ("description", false, Str),
        ],
        _ => return None,
    })
}

fn check_kind(field: &str, kind: Kind, v: &Value) -> Result<(), String> {
    let ok = match kind {
        Kind::Str => v.is_string(),
        Kind::Bool => v.is_boolean(),
        Kind::Long => v.is_i64() || v.is_u64(),
        Kind::StrArray => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
        Kind::StrMap => v
            .as_object()
            .is_some_and(|m| m.values().all(Value::is_string)),
        Kind::Stamp => {
            let t = v.get("time");
            let a = v.get("actor");
            if t.is_none() || a.is_none() {
                return Err(format!(
                    "field {field}: required field 'time' or 'actor' is missing from AuditStamp"
                ));
            }
            t.is_some_and(|t| t.is_i64() || t.is_u64()) && a.is_some_and(Value::is_string)
        }
        Kind::OriginType => matches!(v.as_str(), Some("NATIVE" | "EXTERNAL")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("field {field}: value {v} has the wrong type"))
    }
}

/// Validates an aspect value the way GMS's Pegasus validation does: required fields
/// without default must be present, known fields must have the right type, unknown
/// fields are trimmed. Returns the trimmed value or the validation message.
pub fn validate_aspect(aspect: &str, value: Value) -> Result<Value, String> {
    let Value::Object(obj) = value else {
        return Err(format!("{aspect}: aspect value must be a JSON object"));
    };
    let Some(fields) = schema(aspect) else {
        return Ok(Value::Object(obj));
    };
    let mut out = Map::new();
    for (name, required, kind) in fields {
        match obj.get(*name) {
            None | Some(Value::Null) if *required => {
                return Err(format!(
                    "{aspect}: ERROR :: /{name} :: field is required but not found and has no default value"
                ))
            }
            None | Some(Value::Null) => {}
            Some(v) => {
                check_kind(name, *kind, v).map_err(|e| format!("{aspect}: ERROR :: /{e}"))?;
                out.insert((*name).to_string(), v.clone());
            }
        }
    }
    Ok(Value::Object(out))
}

/// The urn rules of `UrnValidationUtil`: ≤ 512 bytes URL-encoded, no surrounding
/// whitespace, no `␟`, and a `urn:li:<type>:<id>` shape.
pub fn urn_valid(urn: &str) -> bool {
    let encoded =
        percent_encoding::utf8_percent_encode(urn, percent_encoding::NON_ALPHANUMERIC).to_string();
    encoded.len() <= 512
        && urn.trim() == urn
        && !urn.contains('\u{241F}')
        && entity_type(urn).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_fields_are_enforced_and_unknown_fields_trimmed() {
        assert!(validate_aspect("corpUserInfo", json!({"displayName": "x"})).is_err());
        let v = validate_aspect("corpUserInfo", json!({"active": true, "bogus": 1})).expect("ok");
        assert_eq!(v, json!({"active": true}));
        assert!(validate_aspect("corpUserStatus", json!({"status": "ACTIVE"})).is_err());
        assert!(validate_aspect(
            "corpUserStatus",
            json!({"status": "ACTIVE", "lastModified": {"time": 1}})
        )
        .is_err());
        assert!(validate_aspect("origin", json!({"type": "OTHER"})).is_err());
        assert!(validate_aspect("corpGroupInfo", json!({"admins": [], "members": []})).is_err());
        // a status value outside the GraphQL enum is allowed by the model
        assert!(validate_aspect(
            "corpUserStatus",
            json!({"status": "PROVISIONED", "lastModified": {"time": 1, "actor": "urn:li:corpuser:a"}})
        )
        .is_ok());
    }

    #[test]
    fn urn_rules() {
        assert!(urn_valid("urn:li:corpuser:jdoe"));
        assert!(!urn_valid(" urn:li:corpuser:jdoe"));
        assert!(!urn_valid("urn:li:corpuser:a\u{241F}b"));
        assert!(!urn_valid(&format!("urn:li:corpuser:{}", "a".repeat(600))));
        assert_eq!(
            key_value("urn:li:corpGroup:eng").map(|k| k.0),
            Some("corpGroupKey")
        );
    }
}
