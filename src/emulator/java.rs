//! How the JVM prints what DataHub puts in its error messages: Pegasus `DataMap`s
//! (`java.util.HashMap.toString`, so keys come in hash-bucket order), and the Rest.li
//! error body (`ErrorResponseBuilder` with the default FULL format: `exceptionClass`,
//! `stackTrace`, `message`, `status`).

use serde_json::{json, Value};

/// `java.lang.String.hashCode` (over UTF-16 code units, wrapping).
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The order `java.util.HashMap` iterates `keys` inserted in this order with the
/// default capacity (16, load factor 0.75): by bucket `(h ^ (h >>> 16)) & (cap - 1)`
/// of the final table, ties in insertion order (resizes keep the relative order).
pub fn hashmap_order<'a>(keys: &[&'a str]) -> Vec<&'a str> {
    let mut cap = 16usize;
    while keys.len() * 4 > cap * 3 {
        cap *= 2;
    }
    let bucket = |k: &str| {
        let h = string_hash(k) as u32;
        ((h ^ (h >> 16)) as usize) & (cap - 1)
    };
    let mut out: Vec<(usize, usize, &str)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (bucket(k), i, *k))
        .collect();
    out.sort();
    out.into_iter().map(|(_, _, k)| k).collect()
}

/// `DataMap.toString()` / `DataList.toString()` of a JSON value: `{key=value, …}` in
/// `HashMap` order, `[a, b]`, strings unquoted.
pub fn data_string(v: &Value) -> String {
    let mut out = String::new();
    write_data(v, &mut out);
    out
}

fn write_data(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().map(String::as_str).collect();
            out.push('{');
            for (i, k) in hashmap_order(&keys).into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_data(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_data(x, out);
            }
            out.push(']');
        }
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("null"),
        other => out.push_str(&other.to_string()),
    }
}

/// Frames printed under a Rest.li exception (plausible, not DataHub's exact lines).
const FRAMES: &[&str] = &[
    "com.linkedin.metadata.restli.RestliUtils.toTask(RestliUtils.java:42)",
    "com.linkedin.metadata.restli.RestliUtils.toTask(RestliUtils.java:63)",
    "com.linkedin.restli.internal.server.RestLiMethodInvoker.doInvoke(RestLiMethodInvoker.java:177)",
    "com.linkedin.restli.internal.server.RestLiMethodInvoker.invoke(RestLiMethodInvoker.java:333)",
    "com.linkedin.restli.server.BaseRestLiServer.handleResourceRequest(BaseRestLiServer.java:270)",
    "com.linkedin.restli.server.RestRestLiServer.handleResourceRequestWithRestLiResponse(RestRestLiServer.java:294)",
];

/// The Rest.li error body DataHub answers for `new RestLiServiceException(status, message)`
/// (`cause`: the wrapped exception's `toString`, printed as `Caused by:`).
pub fn restli_error_body(status: u16, message: &str, cause: Option<&str>) -> Value {
    let mut trace = format!(
        "com.linkedin.restli.server.RestLiServiceException [HTTP Status:{status}]: {message}"
    );
    for f in FRAMES {
        trace.push_str("\n\tat ");
        trace.push_str(f);
    }
    if let Some(c) = cause {
        trace.push_str("\nCaused by: ");
        trace.push_str(c);
        trace.push_str("\n\tat com.linkedin.restli.internal.server.methods.arguments.ActionArgumentBuilder.extractRequestData(ActionArgumentBuilder.java:91)\n\t... 5 more");
    }
    trace.push('\n');
    json!({
        "exceptionClass": "com.linkedin.restli.server.RestLiServiceException",
        "stackTrace": trace,
        "message": message,
        "status": status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hashes_and_hashmap_order() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        // "Aa" and "BB" collide in Java
        assert_eq!(string_hash("Aa"), string_hash("BB"));
        assert_eq!(string_hash("hello"), 99_162_322);
        // The Rest.li ErrorResponse keys print in this order from a HashMap.
        assert_eq!(
            hashmap_order(&["status", "message", "exceptionClass", "stackTrace"]),
            ["exceptionClass", "stackTrace", "message", "status"]
        );
    }

    #[test]
    fn data_maps_print_like_java() {
        let v = json!({"active": true, "email": "a@b.c", "n": 3, "l": ["x", "y"], "m": {"k": "v"}});
        let s = data_string(&v);
        assert!(s.starts_with('{') && s.ends_with('}'), "{s}");
        for part in ["active=true", "email=a@b.c", "n=3", "l=[x, y]", "m={k=v}"] {
            assert!(s.contains(part), "{s} lacks {part}");
        }
    }

    #[test]
    fn data_map_order_matches_openjdk_hashmap_to_string() {
        // Expected strings printed by OpenJDK 17's `java.util.HashMap.toString` for the
        // same keys inserted in the same order (14 keys: the table grows to 32).
        let keys = [
            "active",
            "displayName",
            "email",
            "title",
            "firstName",
            "lastName",
            "fullName",
            "departmentName",
            "countryCode",
            "customProperties",
            "managerUrn",
            "departmentId",
            "system",
            "isSupportUser",
        ];
        let mut m = serde_json::Map::new();
        for k in keys {
            let v = match k {
                "customProperties" => {
                    json!({"scim.userName": "jdoe@example.com", "scim.externalId": "00u1", "scim.managed": "true"})
                }
                "active" | "system" | "isSupportUser" => json!(true),
                "departmentId" => json!(42),
                _ => json!(format!("v-{k}")),
            };
            m.insert(k.to_string(), v);
        }
        assert_eq!(
            data_string(&Value::Object(m)),
            "{departmentName=v-departmentName, lastName=v-lastName, displayName=v-displayName, departmentId=42, active=true, fullName=v-fullName, title=v-title, isSupportUser=true, firstName=v-firstName, customProperties={scim.managed=true, scim.userName=jdoe@example.com, scim.externalId=00u1}, system=true, countryCode=v-countryCode, managerUrn=v-managerUrn, email=v-email}"
        );
        let sm = json!({"lastObserved": 1, "runId": "no-run-id-provided", "properties": {"appSource": "ui"}});
        assert_eq!(
            data_string(&sm),
            "{lastObserved=1, runId=no-run-id-provided, properties={appSource=ui}}"
        );
        let stamp = json!({"time": 5, "actor": "urn:li:corpuser:datahub"});
        assert_eq!(
            data_string(&stamp),
            "{actor=urn:li:corpuser:datahub, time=5}"
        );
    }
}
