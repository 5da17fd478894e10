//! `changeType: PATCH` as DataHub v1.3+ applies it (§3.9): aspects with a patch
//! template (here only `status`) take RFC 6902 arrays; the template-less identity
//! aspects work only through *generic* patching (`{"patch": [...],
//! "arrayPrimaryKeys": {...}}` or `"forceGenericPatch": true`), where a keyed array is
//! treated as a map (an empty key list keys an array of strings by the string itself).

use serde_json::{Map, Value};

/// Why a patch was not applied.
pub(crate) enum PatchError {
    /// Not a JSON Patch at all: DataHub drops the MCP silently.
    Malformed,
    /// A validation failure (→ 422).
    Invalid(String),
}

const TEMPLATED: &[&str] = &["status"];

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn tokens(path: &str) -> Result<Vec<String>, PatchError> {
    let rest = path.strip_prefix('/').ok_or(PatchError::Malformed)?;
    Ok(rest.split('/').map(unescape).collect())
}

/// Plain RFC 6902 add/replace/remove on object members.
fn apply_pointer(
    doc: &mut Value,
    toks: &[String],
    op: &str,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let (last, parents) = toks.split_last().ok_or(PatchError::Malformed)?;
    let mut cur = doc;
    for t in parents {
        if !cur.is_object() {
            return Err(PatchError::Invalid(format!(
                "path segment {t} is not an object"
            )));
        }
        cur = cur
            .as_object_mut()
            .ok_or(PatchError::Malformed)?
            .entry(t.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    let obj = cur
        .as_object_mut()
        .ok_or_else(|| PatchError::Invalid(format!("cannot apply {op} at {last}")))?;
    match (op, value) {
        ("add" | "replace", Some(v)) => {
            obj.insert(last.clone(), v.clone());
        }
        ("remove", _) => {
            obj.remove(last);
        }
        _ => return Err(PatchError::Malformed),
    }
    Ok(())
}

/// Applies a PATCH payload (the parsed `aspect.value`) to the current value.
pub(crate) fn apply(
    aspect: &str,
    current: Option<&Value>,
    payload: &Value,
) -> Result<Value, PatchError> {
    let mut doc = current
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let (ops, keys, generic) = match payload {
        Value::Array(ops) => (ops.clone(), Map::new(), false),
        Value::Object(m) => {
            let ops = m
                .get("patch")
                .and_then(Value::as_array)
                .cloned()
                .ok_or(PatchError::Malformed)?;
            let keys = m
                .get("arrayPrimaryKeys")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let force = m
                .get("forceGenericPatch")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let generic = force || !keys.is_empty();
            (ops, keys, generic)
        }
        _ => return Err(PatchError::Malformed),
    };
    if !generic && !TEMPLATED.contains(&aspect) {
        return Err(PatchError::Invalid(format!(
            "Patch not supported for aspect with name {aspect}: no template found"
        )));
    }
    for op in &ops {
        let kind = op
            .get("op")
            .and_then(Value::as_str)
            .ok_or(PatchError::Malformed)?;
        let path = op
            .get("path")
            .and_then(Value::as_str)
            .ok_or(PatchError::Malformed)?;
        let toks = tokens(path)?;
        let value = op.get("value");
        let keyed = toks
            .first()
            .and_then(|f| keys.get(f))
            .and_then(Value::as_array);
        match (keyed, toks.len()) {
            (Some(key_fields), 2) => {
                let field = &toks[0];
                let key = &toks[1];
                let arr = doc
                    .as_object_mut()
                    .ok_or(PatchError::Malformed)?
                    .entry(field.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                let items = arr
                    .as_array_mut()
                    .ok_or_else(|| PatchError::Invalid(format!("{field} is not an array")))?;
                let key_of = |item: &Value| -> Option<String> {
                    match key_fields.first().and_then(Value::as_str) {
                        None => item.as_str().map(str::to_string),
                        Some(k) => item.get(k).and_then(Value::as_str).map(str::to_string),
                    }
                };
                let pos = items
                    .iter()
                    .position(|i| key_of(i).as_deref() == Some(key.as_str()));
                match (kind, value, pos) {
                    ("add", Some(v), Some(p)) => items[p] = v.clone(),
                    ("add", Some(v), None) => items.push(v.clone()),
                    ("remove", _, Some(p)) => {
                        items.remove(p);
                    }
                    ("remove", _, None) => {}
                    _ => {
                        return Err(PatchError::Invalid(format!(
                            "unsupported keyed op {kind} on {path}"
                        )))
                    }
                }
            }
            _ => apply_pointer(&mut doc, &toks, kind, value)?,
        }
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generic_patch_on_string_arrays_and_bare_arrays_refused() {
        let cur = json!({"groups": ["urn:li:corpGroup:a"]});
        let p = json!({"arrayPrimaryKeys": {"groups": []}, "patch": [
            {"op": "add", "path": "/groups/urn:li:corpGroup:b", "value": "urn:li:corpGroup:b"},
            {"op": "remove", "path": "/groups/urn:li:corpGroup:a"}]});
        let out = apply("groupMembership", Some(&cur), &p)
            .ok()
            .expect("applied");
        assert_eq!(out, json!({"groups": ["urn:li:corpGroup:b"]}));
        let bare = json!([{"op": "add", "path": "/groups/-", "value": "x"}]);
        assert!(matches!(
            apply("groupMembership", Some(&cur), &bare),
            Err(PatchError::Invalid(_))
        ));
        let only_patch = json!({"patch": [{"op": "add", "path": "/removed", "value": true}]});
        assert!(matches!(
            apply("groupMembership", None, &only_patch),
            Err(PatchError::Invalid(_))
        ));
        let st = apply("status", None, &only_patch)
            .ok()
            .expect("status has a template");
        assert_eq!(st, json!({"removed": true}));
        assert!(matches!(
            apply("status", None, &json!("nope")),
            Err(PatchError::Malformed)
        ));
    }
}
