//! The search document of an entity: the index fields DataHub's `@Searchable` annotations
//! produce from its aspects (`metadata-models/.../identity/CorpUserInfo.pdl`,
//! `CorpUserEditableInfo.pdl`, `CorpUserStatus.pdl`, `CorpGroupInfo.pdl`,
//! `CorpGroupEditableInfo.pdl`, `common/SubTypes.pdl`, `common/Status.pdl`, the key
//! aspects), computed once per change when the index applies it.

use super::store;
use serde_json::Value;
use std::collections::BTreeMap;

/// Index field name → values.
pub type Fields = BTreeMap<&'static str, Vec<String>>;

/// Index fields of a document from its aspects.
pub fn index_fields(urn: &str, doc: &BTreeMap<String, (u64, Value)>) -> Fields {
    let mut out: Fields = BTreeMap::new();
    let mut put = |field: &'static str, v: Option<&Value>| {
        let s = match v {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return,
        };
        out.entry(field).or_default().push(s);
    };
    let aspect = |name: &str| doc.get(name).map(|(_, v)| v);
    let get = |name: &str, f: &str| aspect(name).and_then(|a| a.get(f));
    match store::entity_type(urn) {
        Some("corpuser") => {
            put("ldap", get("corpUserKey", "username"));
            for f in [
                "displayName",
                "fullName",
                "email",
                "title",
                "active",
                "system",
                "isSupportUser",
            ] {
                put(f, get("corpUserInfo", f));
            }
            put("displayName", get("corpUserEditableInfo", "displayName"));
            put("managerLdap", get("corpUserInfo", "managerUrn"));
            // A `Searchable /*` map field: one `key=value` string per entry
            // (DataHub's FieldExtractor for map values).
            if let Some(props) = get("corpUserInfo", "customProperties").and_then(Value::as_object)
            {
                for (k, v) in props {
                    if let Some(v) = v.as_str() {
                        put("customProperties", Some(&Value::String(format!("{k}={v}"))));
                    }
                }
            }
            put("status", get("corpUserStatus", "status"));
        }
        Some("corpGroup") => {
            put("name", get("corpGroupKey", "name"));
            put("displayName", get("corpGroupInfo", "displayName"));
            put("description", get("corpGroupInfo", "description"));
            put(
                "createdTime",
                aspect("corpGroupInfo").and_then(|i| i.pointer("/created/time")),
            );
            put(
                "editedDescription",
                get("corpGroupEditableInfo", "description"),
            );
        }
        _ => {}
    }
    for t in get("subTypes", "typeNames")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        put("typeNames", Some(t));
    }
    let removed = get("status", "removed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    out.insert("removed", vec![removed.to_string()]);
    out
}

/// Fields a free-text query does not look at (booleans and flags).
pub fn queried_by_default(field: &str) -> bool {
    !matches!(
        field,
        "removed" | "active" | "system" | "isSupportUser" | "createdTime" | "typeNames"
    )
}
