//! Discovery documents (RFC 7644 §4, RFC 7643 §5–7): ServiceProviderConfig,
//! ResourceTypes and Schemas. The schema documents are generated from the one schema
//! table, so what we advertise is what the filter, PATCH and projection code do.

use serde_json::{json, Map, Value};

use super::list::{list_response, MAX_COUNT};
use super::schema::{AttrDef, Mutability, ResourceKind, Returned, SchemaDef, Uniqueness, COMMON};
use super::schema::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, USER_SCHEMA};

/// What the deployment supports beyond the fixed protocol core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// Whether `sortBy` is honoured.
    pub sort: bool,
    /// `filter.maxResults`: the largest page served.
    pub max_results: usize,
    /// Link to the admin documentation, if any.
    pub documentation_uri: Option<String>,
    /// Whether resources carry versions and honour `If-Match` / `If-None-Match`.
    pub etag: bool,
    /// `POST /Bulk` limits (`maxOperations` 0: not supported).
    pub bulk: super::bulk::Limits,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            sort: false,
            max_results: MAX_COUNT,
            documentation_uri: None,
            etag: false,
            bulk: super::bulk::Limits {
                max_operations: 0,
                max_payload_bytes: 0,
            },
        }
    }
}

const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

fn base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// Seconds a cursor stays valid between pages, as advertised (RFC 9865
/// `cursorTimeout`). Our cursors carry a DataHub scroll position and do not expire;
/// a day is what we promise.
pub const CURSOR_TIMEOUT_SECS: u64 = 86_400;

/// `/ServiceProviderConfig`: PATCH yes, bulk and its limits per `caps`, filter yes
/// (with `maxResults`), changePassword no, sort and ETag per `caps`, index and cursor
/// paging (RFC 9865 `pagination`), auth a DataHub personal access token sent as an
/// OAuth bearer token.
pub fn service_provider_config(base_url: &str, caps: &Capabilities) -> Value {
    let mut v = json!({
        "schemas": [SPC_URN],
        "patch": {"supported": true},
        "bulk": {
            "supported": caps.bulk.max_operations > 0,
            "maxOperations": caps.bulk.max_operations,
            "maxPayloadSize": caps.bulk.max_payload_bytes
        },
        "filter": {"supported": true, "maxResults": caps.max_results},
        "changePassword": {"supported": false},
        "sort": {"supported": caps.sort},
        "etag": {"supported": caps.etag},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": caps.max_results,
            "maxPageSize": caps.max_results,
            "cursorTimeout": CURSOR_TIMEOUT_SECS
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "DataHub personal access token",
            "description": "A DataHub personal access token, sent as 'Authorization: Bearer <token>'.",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base(base_url))
        }
    });
    if let Some(doc) = &caps.documentation_uri {
        v["documentationUri"] = doc.clone().into();
    }
    v
}

/// One ResourceType document by name (`User`, `Group`), case-insensitive.
pub fn resource_type(base_url: &str, name: &str) -> Option<Value> {
    let kind = [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .find(|k| k.name().eq_ignore_ascii_case(name))?;
    let extensions: Vec<Value> = kind
        .extensions()
        .iter()
        .map(|s| json!({"schema": s.id, "required": false}))
        .collect();
    let mut v = json!({
        "schemas": [RESOURCE_TYPE_URN],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": kind.endpoint(),
        "description": kind.core().description,
        "schema": kind.core().id,
        "meta": {
            "resourceType": "ResourceType",
            "location": format!("{}/ResourceTypes/{}", base(base_url), kind.name())
        }
    });
    if !extensions.is_empty() {
        v["schemaExtensions"] = Value::Array(extensions);
    }
    Some(v)
}

/// `/ResourceTypes`, a ListResponse of User and Group.
pub fn resource_types(base_url: &str) -> Value {
    let all: Vec<Value> = ["User", "Group"]
        .iter()
        .filter_map(|n| resource_type(base_url, n))
        .collect();
    list_response(all.len(), 1, all)
}

/// `/Schemas`, a ListResponse of the User, EnterpriseUser and Group schemas.
pub fn schemas(base_url: &str) -> Value {
    let all: Vec<Value> = [&USER_SCHEMA, &ENTERPRISE_SCHEMA, &GROUP_SCHEMA]
        .into_iter()
        .map(|s| schema_doc(base_url, s))
        .collect();
    list_response(all.len(), 1, all)
}

/// One schema document by URN, case-insensitive.
pub fn schema(base_url: &str, urn: &str) -> Option<Value> {
    [&USER_SCHEMA, &ENTERPRISE_SCHEMA, &GROUP_SCHEMA]
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(urn))
        .map(|s| schema_doc(base_url, s))
}

fn schema_doc(base_url: &str, s: &SchemaDef) -> Value {
    let _ = &COMMON; // common attributes are not part of any schema document (RFC 7643 §3.1)
    json!({
        "schemas": [SCHEMA_URN],
        "id": s.id,
        "name": s.name,
        "description": s.description,
        "attributes": s.attrs.iter().map(attr_doc).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{}/Schemas/{}", base(base_url), s.id)
        }
    })
}

fn attr_doc(d: &AttrDef) -> Value {
    let mut m = Map::new();
    m.insert("name".into(), d.name.into());
    m.insert("type".into(), d.ty.as_str().into());
    m.insert("multiValued".into(), d.multi.into());
    m.insert("description".into(), d.description.into());
    m.insert("required".into(), d.required.into());
    if !d.canonical.is_empty() {
        m.insert("canonicalValues".into(), d.canonical.to_vec().into());
    }
    m.insert("caseExact".into(), d.case_exact.into());
    let mutability = match d.mutability {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    };
    m.insert("mutability".into(), mutability.into());
    let returned = match d.returned {
        Returned::Always => "always",
        Returned::Never => "never",
        Returned::Default => "default",
        Returned::Request => "request",
    };
    m.insert("returned".into(), returned.into());
    let uniqueness = match d.uniqueness {
        Uniqueness::None => "none",
        Uniqueness::Server => "server",
        Uniqueness::Global => "global",
    };
    m.insert("uniqueness".into(), uniqueness.into());
    if !d.reference_types.is_empty() {
        m.insert("referenceTypes".into(), d.reference_types.to_vec().into());
    }
    if !d.sub.is_empty() {
        m.insert(
            "subAttributes".into(),
            d.sub.iter().map(attr_doc).collect::<Vec<_>>().into(),
        );
    }
    Value::Object(m)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use crate::scim::schema::{ENTERPRISE_URN, GROUP_URN, USER_URN};

    #[test]
    fn service_provider_config_states_what_we_support() {
        let caps = Capabilities {
            sort: true,
            max_results: 200,
            documentation_uri: None,
            etag: true,
            bulk: crate::scim::bulk::Limits {
                max_operations: 50,
                max_payload_bytes: 4096,
            },
        };
        let v = service_provider_config("https://h/scim/v2/", &caps);
        assert_eq!(v["patch"]["supported"], true);
        assert_eq!(
            v["bulk"],
            json!({"supported": true, "maxOperations": 50, "maxPayloadSize": 4096})
        );
        assert_eq!(v["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(v["changePassword"]["supported"], false);
        assert_eq!(v["sort"]["supported"], true);
        assert_eq!(v["etag"]["supported"], true);
        assert_eq!(
            v["pagination"],
            json!({"cursor": true, "index": true, "defaultPaginationMethod": "index",
                   "defaultPageSize": 200, "maxPageSize": 200, "cursorTimeout": 86_400})
        );
        assert_eq!(v["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(
            v["meta"]["location"],
            "https://h/scim/v2/ServiceProviderConfig"
        );
        let v = service_provider_config("https://h", &Capabilities::default());
        assert_eq!(v["sort"]["supported"], false);
        assert_eq!(v["etag"]["supported"], false);
        assert_eq!(v["bulk"]["supported"], false);
    }

    #[test]
    fn resource_types_list_both() {
        let v = resource_types("https://h/scim/v2");
        assert_eq!(v["totalResults"], 2);
        assert_eq!(v["Resources"][0]["endpoint"], "/Users");
        assert_eq!(
            v["Resources"][0]["schemaExtensions"],
            json!([{"schema": ENTERPRISE_URN, "required": false}])
        );
        assert_eq!(v["Resources"][1]["schema"], GROUP_URN);
        assert!(v["Resources"][1].get("schemaExtensions").is_none());
        assert_eq!(resource_type("h", "user").unwrap()["id"], "User");
        assert!(resource_type("h", "Widget").is_none());
    }

    #[test]
    fn rfc7643_resource_types_example() {
        let mut want: Value =
            serde_json::from_str(include_str!("fixtures/rfc/7643-8.6-resource-types.json"))
                .unwrap();
        // We accept users without enterprise data, so the extension is not required.
        want[0]["schemaExtensions"][0]["required"] = json!(false);
        let got = resource_types("https://example.com/v2/");
        assert_eq!(got["Resources"], want);
    }

    #[test]
    fn schemas_come_from_the_table() {
        let v = schemas("https://h");
        let ids: Vec<&str> = v["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [USER_URN, ENTERPRISE_URN, GROUP_URN]);
        let user = schema("https://h", USER_URN).unwrap();
        let attr = |n: &str| {
            user["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["name"] == n)
                .unwrap()
                .clone()
        };
        assert_eq!(attr("userName")["caseExact"], false);
        assert_eq!(attr("userName")["uniqueness"], "server");
        assert_eq!(attr("userName")["required"], true);
        assert_eq!(attr("password")["returned"], "never");
        assert_eq!(attr("password")["mutability"], "writeOnly");
        assert_eq!(attr("emails")["multiValued"], true);
        assert_eq!(
            attr("emails")["subAttributes"][2]["canonicalValues"],
            json!(["work", "home", "other"])
        );
        assert_eq!(attr("groups")["mutability"], "readOnly");
        let group = schema("h", GROUP_URN).unwrap();
        assert_eq!(
            group["attributes"][1]["subAttributes"][0]["caseExact"],
            true
        );
        assert!(schema("h", "urn:x").is_none());
    }
}
