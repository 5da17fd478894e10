//! DataHub's validation messages, printed the way the JVM prints them:
//! `ValidationExceptionCollection{EntityAspect:(<urn>,<aspect>) Exceptions: [...]}` of
//! `AspectValidationException(item=ChangeItemImpl{…}, changeType=…, entityUrn=…,
//! aspectName=…, subType=…, msg=…)`, with the item's layout of the emulated release.
//!
//! Sources: `entity-registry/.../aspect/plugins/validation/ValidationExceptionCollection.java`,
//! `AspectValidationException.java` (Lombok `@Value`), `li-utils/.../util/Pair.java`,
//! `metadata-io/metadata-io-api/.../entity/ebean/batch/ChangeItemImpl.java` (#12405 for
//! the ≥ 1.0 layout), pegasus `DataMap.toString`.

use super::java::data_string;
use super::profile::Release;
use serde_json::{json, Value};

/// `ValidationSubType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubType {
    /// Schema / business-rule failures (proposed items, CREATE conflicts).
    Validation,
    /// `If-Version-Match` / `If-(Un)Modified-Since` failures.
    Precondition,
}

impl SubType {
    fn as_str(self) -> &'static str {
        match self {
            SubType::Validation => "VALIDATION",
            SubType::Precondition => "PRECONDITION",
        }
    }
}

/// The change item an exception is about.
#[derive(Debug, Clone)]
pub struct Item<'a> {
    /// `changeType` of the MCP.
    pub change_type: &'a str,
    /// Entity urn.
    pub urn: &'a str,
    /// Aspect name.
    pub aspect: &'a str,
    /// The aspect value as proposed.
    pub value: &'a Value,
    /// The MCP's `systemMetadata` (or null).
    pub system_metadata: &'a Value,
    /// Writer urn.
    pub actor: &'a str,
    /// Audit time (ms).
    pub time: u64,
}

/// One `AspectValidationException`.
#[derive(Debug, Clone)]
pub struct Failure {
    urn: String,
    aspect: String,
    text: String,
}

/// `SystemMetadataUtils.generateSystemMetadataIfEmpty`: `runId` and `lastObserved`
/// filled in when missing.
fn system_metadata(item: &Item<'_>) -> Value {
    let mut sm = match item.system_metadata {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    sm.entry("lastObserved").or_insert(json!(item.time));
    sm.entry("runId").or_insert(json!("no-run-id-provided"));
    Value::Object(sm)
}

/// `ChangeItemImpl.toString()` in the release's layout.
fn change_item(release: &Release, item: &Item<'_>) -> String {
    let record = data_string(item.value);
    let sm = data_string(&system_metadata(item));
    if release.change_item_v1_layout() {
        let stamp = data_string(&json!({"actor": item.actor, "time": item.time}));
        format!(
            "ChangeItemImpl{{changeType={}, auditStamp={stamp}, systemMetadata={sm}, recordTemplate={record}, aspectName='{}', urn={}}}",
            item.change_type, item.aspect, item.urn
        )
    } else {
        format!(
            "ChangeItemImpl{{changeType={}, urn={}, aspectName='{}', recordTemplate={record}, systemMetadata={sm}}}",
            item.change_type, item.urn, item.aspect
        )
    }
}

impl Failure {
    /// An exception about `item`.
    pub fn new(release: &Release, item: &Item<'_>, sub_type: SubType, msg: &str) -> Failure {
        let text = format!(
            "AspectValidationException(item={}, changeType={}, entityUrn={}, aspectName={}, subType={}, msg={msg})",
            change_item(release, item),
            item.change_type,
            item.urn,
            item.aspect,
            sub_type.as_str()
        );
        Failure {
            urn: item.urn.to_string(),
            aspect: item.aspect.to_string(),
            text,
        }
    }
}

/// `ValidationExceptionCollection.toString()`: entries sorted by their `(urn,aspect)`
/// key, each key's exceptions in a `[...]` set, entries joined by `"; "`.
pub fn collection(failures: &[Failure]) -> String {
    let mut keys: Vec<String> = failures
        .iter()
        .map(|f| format!("({},{})", f.urn, f.aspect))
        .collect();
    keys.sort();
    keys.dedup();
    let entries: Vec<String> = keys
        .iter()
        .map(|k| {
            let set: Vec<&str> = failures
                .iter()
                .filter(|f| format!("({},{})", f.urn, f.aspect) == *k)
                .map(|f| f.text.as_str())
                .collect();
            format!("EntityAspect:{k} Exceptions: [{}]", set.join(", "))
        })
        .collect();
    format!("ValidationExceptionCollection{{{}}}", entries.join("; "))
}

/// The message of a proposed-aspect validation failure (`AspectsBatchImpl.Builder.build`).
pub fn proposed_message(failures: &[Failure]) -> String {
    format!("Failed to validate MCP due to: {}", collection(failures))
}
