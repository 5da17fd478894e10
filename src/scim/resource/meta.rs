//! `meta` (RFC 7643 §3.1): what the service provider says about a resource.

use serde_json::{Map, Value};

use crate::scim::schema::ResourceKind;

/// Resource metadata the caller supplies when rendering a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// RFC 3339 creation time, if known.
    pub created: Option<String>,
    /// RFC 3339 last-modification time, if known.
    pub last_modified: Option<String>,
    /// Absolute URI of the resource (`https://host/scim/v2/Users/{id}`).
    pub location: Option<String>,
    /// Weak ETag (`W/"…"`), if the caller has one.
    pub version: Option<String>,
}

impl Meta {
    /// The `meta` object for a resource of `kind`.
    pub fn to_json(&self, kind: ResourceKind) -> Value {
        let mut m = Map::new();
        m.insert("resourceType".into(), kind.name().into());
        for (k, v) in [
            ("created", &self.created),
            ("lastModified", &self.last_modified),
            ("location", &self.location),
            ("version", &self.version),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        }
        Value::Object(m)
    }
}
