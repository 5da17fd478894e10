//! The Group resource (RFC 7643 §4.2).

use serde_json::{Map, Value};

use super::lenient::{multi, put, string};
use super::{expand_keys, Meta, IGNORED_INPUT};
use crate::scim::error::Error;
use crate::scim::schema::{ResourceKind, GROUP_SCHEMA, GROUP_URN};

/// One member of a group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Member {
    /// The member's SCIM id (required).
    pub value: String,
    pub display: Option<String>,
    /// `User` or `Group`.
    pub type_: Option<String>,
    /// `$ref` (Entra sends `null`).
    pub ref_: Option<String>,
}

/// A SCIM Group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Required; compared case-insensitively.
    pub display_name: String,
    pub external_id: Option<String>,
    /// Members, de-duplicated by `value`, in the order sent.
    pub members: Vec<Member>,
    /// Attributes and extensions we do not model, as sent (not returned by `to_json`).
    pub extra: Map<String, Value>,
}

impl Group {
    /// Reads a client's Group JSON leniently. A missing `displayName` or a member
    /// without `value` is `400 invalidValue`.
    pub fn from_json(v: &Value) -> Result<Group, Error> {
        Group::from_json_or_name(v, None)
    }

    /// [`Group::from_json`], with `displayName` = `default_name` when the body omits
    /// it (a PUT that keeps the current name).
    pub fn from_json_or_name(v: &Value, default_name: Option<&str>) -> Result<Group, Error> {
        let raw = v
            .as_object()
            .ok_or_else(|| Error::invalid_syntax("a Group must be a JSON object"))?;
        super::check_schemas(raw, ResourceKind::Group)?;
        let o = expand_keys(raw, ResourceKind::Group);
        let display_name = string(&o, "displayName")?
            .filter(|s| !s.trim().is_empty())
            .or_else(|| default_name.map(str::to_owned))
            .ok_or_else(|| Error::invalid_value("'displayName' is required"))?;
        let mut members: Vec<Member> = Vec::new();
        for el in multi(&o, "members")? {
            let value = string(el, "value")?
                .ok_or_else(|| Error::invalid_value("every member needs a 'value'"))?;
            if members.iter().any(|m| m.value == value) {
                continue;
            }
            members.push(Member {
                value,
                display: string(el, "display")?,
                type_: string(el, "type")?,
                ref_: string(el, "$ref")?,
            });
        }
        let mut extra = Map::new();
        for (k, v) in &o {
            let known = GROUP_SCHEMA.attr(k).is_some()
                || IGNORED_INPUT.iter().any(|i| i.eq_ignore_ascii_case(k))
                || k.eq_ignore_ascii_case("externalId");
            if !known {
                extra.insert(k.clone(), v.clone());
            }
        }
        Ok(Group {
            display_name,
            external_id: string(&o, "externalId")?,
            members,
            extra,
        })
    }

    /// The RFC 7643 representation; `members` is omitted when empty.
    pub fn to_json(&self, id: &str, meta: &Meta) -> Value {
        let mut m = Map::new();
        m.insert("schemas".into(), Value::Array(vec![GROUP_URN.into()]));
        m.insert("id".into(), id.into());
        put(&mut m, "externalId", &self.external_id);
        m.insert("displayName".into(), self.display_name.clone().into());
        if !self.members.is_empty() {
            m.insert(
                "members".into(),
                self.members.iter().map(Member::to_json).collect(),
            );
        }
        m.insert("meta".into(), meta.to_json(ResourceKind::Group));
        Value::Object(m)
    }
}

impl Member {
    /// A member with only its id.
    pub fn new(value: impl Into<String>) -> Self {
        Member {
            value: value.into(),
            ..Member::default()
        }
    }

    /// `{"value", "$ref", "display", "type"}`, absent fields omitted.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("value".into(), self.value.clone().into());
        put(&mut m, "$ref", &self.ref_);
        put(&mut m, "display", &self.display);
        put(&mut m, "type", &self.type_);
        Value::Object(m)
    }
}
