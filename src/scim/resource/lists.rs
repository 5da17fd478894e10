//! Multi-valued User attributes one at a time, for a caller that stores lists
//! outside the resource (the DataHub mapping): a body's list exactly as sent, a
//! stored list read back as `from_json` reads `emails`, its primary element, and
//! one value written as `to_json` writes it. One reader, here.

use serde_json::{Map, Value};

use super::lenient::multi;
use super::user::{read_multi, write_multi};
use super::{expand_keys, MultiValue, User};
use crate::scim::error::Error;
use crate::scim::schema::ResourceKind;

/// `v` (an array, or a single object) as the only attribute of an object.
fn one(v: &Value) -> Map<String, Value> {
    let mut o = Map::new();
    o.insert("v".into(), v.clone());
    o
}

impl MultiValue {
    /// A list as `from_json` reads `emails`: a single object is a one-element list,
    /// elements without `value` are dropped.
    pub fn list_from_json(v: &Value) -> Result<Vec<MultiValue>, Error> {
        read_multi(&one(v), "v")
    }

    /// The element marked primary, else the first one.
    pub fn primary(list: &[MultiValue]) -> Option<&MultiValue> {
        list.iter()
            .find(|e| e.primary == Some(true))
            .or_else(|| list.first())
    }

    /// `{"value", "display", "type", "primary"}`, absent fields omitted.
    pub fn to_json(&self) -> Value {
        write_multi(self)
    }
}

impl User {
    /// A multi-valued attribute of a User body exactly as sent (a single object as
    /// a one-element list, nulls dropped, every element an object), found as
    /// `from_json` finds it (any key case, dotted keys, URN wrappers): what a
    /// service that returns lists as they were sent stores.
    pub fn multi_as_sent(body: &Value, name: &str) -> Result<Vec<Value>, Error> {
        let Some(raw) = body.as_object() else {
            return Ok(Vec::new());
        };
        let o = expand_keys(raw, ResourceKind::User);
        Ok(multi(&o, name)?
            .into_iter()
            .map(|m| Value::Object(m.clone()))
            .collect())
    }
}
