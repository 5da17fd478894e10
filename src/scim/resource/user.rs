//! The User resource (RFC 7643 §4.1) with the enterprise extension (§4.3).

use serde_json::{Map, Value};

use super::lenient::{bool_attr, complex, multi, put, string};
use super::{expand_keys, Member, Meta, IGNORED_INPUT};
use crate::scim::error::Error;
use crate::scim::json::get_ci;
use crate::scim::schema::{ResourceKind, ENTERPRISE_URN, USER_SCHEMA, USER_URN};

/// `name` (RFC 7643 §4.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Name {
    pub formatted: Option<String>,
    pub family_name: Option<String>,
    pub given_name: Option<String>,
    pub middle_name: Option<String>,
    pub honorific_prefix: Option<String>,
    pub honorific_suffix: Option<String>,
}

/// One value of `emails`, `phoneNumbers` or `roles`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MultiValue {
    pub value: String,
    pub display: Option<String>,
    pub type_: Option<String>,
    pub primary: Option<bool>,
}

/// One value of `addresses`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Address {
    pub formatted: Option<String>,
    pub street_address: Option<String>,
    pub locality: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub type_: Option<String>,
    pub primary: Option<bool>,
}

/// The enterprise `manager`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manager {
    /// The manager's SCIM id.
    pub value: String,
    pub display_name: Option<String>,
    pub ref_: Option<String>,
}

/// The enterprise extension (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enterprise {
    pub employee_number: Option<String>,
    pub cost_center: Option<String>,
    pub organization: Option<String>,
    pub division: Option<String>,
    pub department: Option<String>,
    pub manager: Option<Manager>,
}

impl Enterprise {
    /// Whether any attribute is set (the extension URN is listed only then).
    pub fn is_empty(&self) -> bool {
        *self == Enterprise::default()
    }
}

/// A SCIM User.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Required; compared case-insensitively.
    pub user_name: String,
    pub external_id: Option<String>,
    pub name: Option<Name>,
    pub display_name: Option<String>,
    pub nick_name: Option<String>,
    pub profile_url: Option<String>,
    pub title: Option<String>,
    pub user_type: Option<String>,
    pub preferred_language: Option<String>,
    pub locale: Option<String>,
    pub timezone: Option<String>,
    /// Defaults to `true` when the client does not send it.
    pub active: bool,
    pub emails: Vec<MultiValue>,
    pub phone_numbers: Vec<MultiValue>,
    pub addresses: Vec<Address>,
    pub roles: Vec<MultiValue>,
    pub enterprise: Enterprise,
    /// Groups the user belongs to (readOnly: ignored on input, set by the caller and
    /// returned when non-empty).
    pub groups: Vec<Member>,
    /// Attributes and extensions we do not model, as sent (not returned by `to_json`).
    pub extra: Map<String, Value>,
}

const SIMPLE: &[&str] = &[
    "displayName",
    "nickName",
    "profileUrl",
    "title",
    "userType",
    "preferredLanguage",
    "locale",
    "timezone",
];

impl User {
    /// A user with only `userName` set, active.
    pub fn new(user_name: impl Into<String>) -> Self {
        User {
            user_name: user_name.into(),
            external_id: None,
            name: None,
            display_name: None,
            nick_name: None,
            profile_url: None,
            title: None,
            user_type: None,
            preferred_language: None,
            locale: None,
            timezone: None,
            active: true,
            emails: Vec::new(),
            phone_numbers: Vec::new(),
            addresses: Vec::new(),
            roles: Vec::new(),
            enterprise: Enterprise::default(),
            groups: Vec::new(),
            extra: Map::new(),
        }
    }

    /// Reads a client's User JSON, leniently (see the module doc). A missing or empty
    /// `userName` is `400 invalidValue`.
    pub fn from_json(v: &Value) -> Result<User, Error> {
        User::from_json_or_active(v, true)
    }

    /// [`User::from_json`], with `active` = `default_active` when the body omits it.
    pub fn from_json_or_active(v: &Value, default_active: bool) -> Result<User, Error> {
        let raw = v
            .as_object()
            .ok_or_else(|| Error::invalid_syntax("a User must be a JSON object"))?;
        super::check_schemas(raw, ResourceKind::User)?;
        let o = expand_keys(raw, ResourceKind::User);
        let user_name = string(&o, "userName")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::invalid_value("'userName' is required"))?;
        let mut u = User::new(user_name);
        u.external_id = string(&o, "externalId")?;
        u.name = complex(&o, "name")?
            .map(read_name)
            .transpose()?
            .filter(|n| *n != Name::default());
        let simple = [
            &mut u.display_name,
            &mut u.nick_name,
            &mut u.profile_url,
            &mut u.title,
            &mut u.user_type,
            &mut u.preferred_language,
            &mut u.locale,
            &mut u.timezone,
        ];
        for (slot, key) in simple.into_iter().zip(SIMPLE) {
            *slot = string(&o, key)?;
        }
        u.active = bool_attr(&o, "active")?.unwrap_or(default_active);
        u.emails = read_multi(&o, "emails")?;
        u.phone_numbers = read_multi(&o, "phoneNumbers")?;
        u.roles = read_multi(&o, "roles")?;
        u.addresses = multi(&o, "addresses")?
            .into_iter()
            .map(read_address)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|a| *a != Address::default())
            .collect();
        if let Some(ext) = complex(&o, ENTERPRISE_URN)? {
            u.enterprise = read_enterprise(ext)?;
        }
        for (k, v) in &o {
            let known = USER_SCHEMA.attr(k).is_some()
                || IGNORED_INPUT.iter().any(|i| i.eq_ignore_ascii_case(k))
                || k.eq_ignore_ascii_case("externalId")
                || k.eq_ignore_ascii_case(ENTERPRISE_URN);
            if !known {
                u.extra.insert(k.clone(), v.clone());
            }
        }
        Ok(u)
    }

    /// The RFC 7643 representation: camelCase, absent rather than null, `active` a
    /// boolean, multi-valued attributes arrays, `manager` an object, never `password`.
    pub fn to_json(&self, id: &str, meta: &Meta) -> Value {
        let mut m = Map::new();
        let mut schemas = vec![Value::from(USER_URN)];
        if !self.enterprise.is_empty() {
            schemas.push(ENTERPRISE_URN.into());
        }
        m.insert("schemas".into(), Value::Array(schemas));
        m.insert("id".into(), id.into());
        put(&mut m, "externalId", &self.external_id);
        m.insert("userName".into(), self.user_name.clone().into());
        if let Some(n) = &self.name {
            m.insert("name".into(), write_name(n));
        }
        let simple = [
            &self.display_name,
            &self.nick_name,
            &self.profile_url,
            &self.title,
            &self.user_type,
            &self.preferred_language,
            &self.locale,
            &self.timezone,
        ];
        for (v, key) in simple.into_iter().zip(SIMPLE) {
            put(&mut m, key, v);
        }
        m.insert("active".into(), self.active.into());
        for (key, list) in [
            ("emails", &self.emails),
            ("phoneNumbers", &self.phone_numbers),
        ] {
            if !list.is_empty() {
                m.insert(key.into(), list.iter().map(write_multi).collect());
            }
        }
        if !self.addresses.is_empty() {
            m.insert(
                "addresses".into(),
                self.addresses.iter().map(write_address).collect(),
            );
        }
        if !self.roles.is_empty() {
            m.insert("roles".into(), self.roles.iter().map(write_multi).collect());
        }
        if !self.groups.is_empty() {
            m.insert(
                "groups".into(),
                self.groups.iter().map(Member::to_json).collect(),
            );
        }
        if !self.enterprise.is_empty() {
            m.insert(ENTERPRISE_URN.into(), write_enterprise(&self.enterprise));
        }
        m.insert("meta".into(), meta.to_json(ResourceKind::User));
        Value::Object(m)
    }

    /// The primary email (or the first one), if any.
    pub fn primary_email(&self) -> Option<&str> {
        MultiValue::primary(&self.emails).map(|e| e.value.as_str())
    }
}

fn read_name(o: &Map<String, Value>) -> Result<Name, Error> {
    Ok(Name {
        formatted: string(o, "formatted")?,
        family_name: string(o, "familyName")?,
        given_name: string(o, "givenName")?,
        middle_name: string(o, "middleName")?,
        honorific_prefix: string(o, "honorificPrefix")?,
        honorific_suffix: string(o, "honorificSuffix")?,
    })
}

fn write_name(n: &Name) -> Value {
    let mut m = Map::new();
    put(&mut m, "formatted", &n.formatted);
    put(&mut m, "familyName", &n.family_name);
    put(&mut m, "givenName", &n.given_name);
    put(&mut m, "middleName", &n.middle_name);
    put(&mut m, "honorificPrefix", &n.honorific_prefix);
    put(&mut m, "honorificSuffix", &n.honorific_suffix);
    Value::Object(m)
}

/// Elements without a `value` (OneLogin templates with unset parameters) are dropped.
pub(super) fn read_multi(o: &Map<String, Value>, name: &str) -> Result<Vec<MultiValue>, Error> {
    let mut out = Vec::new();
    for el in multi(o, name)? {
        let Some(value) = string(el, "value")? else {
            continue;
        };
        out.push(MultiValue {
            value,
            display: string(el, "display")?,
            type_: string(el, "type")?,
            primary: bool_attr(el, "primary")?,
        });
    }
    Ok(out)
}

pub(super) fn write_multi(v: &MultiValue) -> Value {
    let mut m = Map::new();
    m.insert("value".into(), v.value.clone().into());
    put(&mut m, "display", &v.display);
    put(&mut m, "type", &v.type_);
    if let Some(p) = v.primary {
        m.insert("primary".into(), p.into());
    }
    Value::Object(m)
}

fn read_address(o: &Map<String, Value>) -> Result<Address, Error> {
    Ok(Address {
        formatted: string(o, "formatted")?,
        street_address: string(o, "streetAddress")?,
        locality: string(o, "locality")?,
        region: string(o, "region")?,
        postal_code: string(o, "postalCode")?,
        country: string(o, "country")?,
        type_: string(o, "type")?,
        primary: bool_attr(o, "primary")?,
    })
}

fn write_address(a: &Address) -> Value {
    let mut m = Map::new();
    put(&mut m, "formatted", &a.formatted);
    put(&mut m, "streetAddress", &a.street_address);
    put(&mut m, "locality", &a.locality);
    put(&mut m, "region", &a.region);
    put(&mut m, "postalCode", &a.postal_code);
    put(&mut m, "country", &a.country);
    put(&mut m, "type", &a.type_);
    if let Some(p) = a.primary {
        m.insert("primary".into(), p.into());
    }
    Value::Object(m)
}

fn read_enterprise(o: &Map<String, Value>) -> Result<Enterprise, Error> {
    let manager = match get_ci(o, "manager") {
        None | Some(Value::Null) => None,
        // Entra sends the manager id as a bare string.
        Some(Value::String(s)) => Some(Manager {
            value: s.clone(),
            ..Manager::default()
        }),
        Some(Value::Object(m)) => match string(m, "value")? {
            // OneLogin templates send `{"value": "", …}` for "no manager".
            None => None,
            Some(value) => Some(Manager {
                value,
                display_name: string(m, "displayName")?,
                ref_: string(m, "$ref")?,
            }),
        },
        // An older Entra doc shows `[{"$ref": …, "value": …}]`.
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_object)
            .find_map(|m| string(m, "value").ok().flatten())
            .map(|value| Manager {
                value,
                ..Manager::default()
            }),
        Some(_) => {
            return Err(Error::invalid_value(
                "'manager' must be an object or a string",
            ))
        }
    };
    Ok(Enterprise {
        employee_number: string(o, "employeeNumber")?,
        cost_center: string(o, "costCenter")?,
        organization: string(o, "organization")?,
        division: string(o, "division")?,
        department: string(o, "department")?,
        manager,
    })
}

fn write_enterprise(e: &Enterprise) -> Value {
    let mut m = Map::new();
    put(&mut m, "employeeNumber", &e.employee_number);
    put(&mut m, "costCenter", &e.cost_center);
    put(&mut m, "organization", &e.organization);
    put(&mut m, "division", &e.division);
    put(&mut m, "department", &e.department);
    if let Some(mgr) = &e.manager {
        let mut o = Map::new();
        o.insert("value".into(), mgr.value.clone().into());
        put(&mut o, "$ref", &mgr.ref_);
        put(&mut o, "displayName", &mgr.display_name);
        m.insert("manager".into(), Value::Object(o));
    }
    Value::Object(m)
}
