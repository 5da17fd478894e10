//! Multi-valued User attributes one at a time: a stored list read back as
//! `from_json` reads it, written as `to_json` writes it, and the multi-valued
//! attributes `User` does not model (kept in `extra`) as lists. Lets a caller that
//! stores lists outside the resource (the DataHub mapping) keep one reader.

use serde_json::{Map, Value};

use super::lenient::multi;
use super::user::{read_address, read_multi, write_address, write_multi};
use super::{Address, MultiValue, User};
use crate::scim::error::Error;

/// `v` (an array, or a single object) read as `from_json` reads attribute `name`.
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

impl Address {
    /// A list as `from_json` reads `addresses`: empty addresses are dropped.
    pub fn list_from_json(v: &Value) -> Result<Vec<Address>, Error> {
        Ok(multi(&one(v), "v")?
            .into_iter()
            .map(read_address)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|a| *a != Address::default())
            .collect())
    }

    /// The RFC 7643 object, absent fields omitted.
    pub fn to_json(&self) -> Value {
        write_address(self)
    }
}

impl User {
    /// A multi-valued attribute `User` does not model (`ims`, `photos`,
    /// `entitlements`, `x509Certificates`), from `extra`, as a list of objects.
    pub fn extra_list(&self, name: &str) -> Result<Vec<Value>, Error> {
        Ok(multi(&self.extra, name)?
            .into_iter()
            .map(|m| Value::Object(m.clone()))
            .collect())
    }
}
