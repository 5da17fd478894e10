//! Bulk operations (RFC 7644 §3.7), the protocol part: the BulkRequest envelope and
//! its operations, `bulkId` references (§3.7.2) found in paths and values, the order
//! operations run in (request order, an operation after the ones whose `bulkId` it
//! refers to) with circular references found before anything runs (§3.7.1), and the
//! BulkResponse. Running an operation is the caller's (the HTTP layer sends each one
//! through the handler of its single-request form).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Map, Value};

use super::error::Error;
use super::json::get_ci;

/// `schemas` of a BulkRequest.
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// `schemas` of a BulkResponse.
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// `schemas` of a PatchOp message.
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The prefix of a reference to another operation's resource (§3.7.2).
pub const BULK_ID_PREFIX: &str = "bulkId:";

/// The limits advertised in `ServiceProviderConfig.bulk` and enforced (§3.7.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most operations in one request (`maxOperations`); 0: Bulk is turned off.
    pub max_operations: usize,
    /// Largest request body in bytes (`maxPayloadSize`).
    pub max_payload_bytes: usize,
}

/// The 413 of a request over `maxPayloadSize` (§3.7.4: no `scimType`, the limit named
/// in the detail, as the RFC's example does).
pub fn payload_too_large(max_payload_bytes: usize) -> Error {
    Error::payload_too_large(format!(
        "The size of the bulk operation exceeds the maxPayloadSize ({max_payload_bytes})."
    ))
}

/// The 413 of a request over `maxOperations` (§3.7.4).
pub fn too_many_operations(max_operations: usize) -> Error {
    Error::payload_too_large(format!(
        "The number of operations exceeds the maxOperations ({max_operations})."
    ))
}

/// An operation's HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method name as sent back in the response.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    fn parse(s: &str) -> Option<Method> {
        Some(match s.to_ascii_uppercase().as_str() {
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }
}

/// One operation as sent. An operation that cannot run as sent carries the error it
/// answers with (`invalid`); the others of the request still run.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The method, as sent (echoed in the response).
    pub method_text: String,
    /// The method, when it is one a bulk operation may have.
    pub method: Option<Method>,
    /// `bulkId`, the client's name for the resource this operation creates.
    pub bulk_id: Option<String>,
    /// `version`: an `If-Match` for PUT, PATCH and DELETE.
    pub version: Option<String>,
    /// `path`, relative to the SCIM base (`/Users`, `/Groups/{id}`), `bulkId:` references
    /// not yet replaced.
    pub path: String,
    /// `data`: the body of the single request (a PATCH given as a bare operations
    /// array, as RFC 7644 §3.7.3's example does, is wrapped into a PatchOp).
    pub data: Option<Value>,
    /// Why this operation cannot run, if it cannot.
    pub invalid: Option<Error>,
}

/// A parsed BulkRequest.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// `failOnErrors`: stop after this many errors (`None`: run every operation).
    pub fail_on_errors: Option<usize>,
    /// `Operations`, in request order.
    pub operations: Vec<Operation>,
}

impl BulkRequest {
    /// Reads a BulkRequest body. A body that is not one (not an object, no
    /// `Operations` array, a bad `failOnErrors`) is `400 invalidSyntax`/`invalidValue`;
    /// more than `max_operations` operations is 413 (§3.7.4). Problems of single
    /// operations are kept on them ([`Operation::invalid`]).
    pub fn from_json(body: &Value, max_operations: usize) -> Result<BulkRequest, Error> {
        let obj = body
            .as_object()
            .ok_or_else(|| Error::invalid_syntax("a BulkRequest must be a JSON object"))?;
        let ops = get_ci(obj, "Operations")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::invalid_syntax("a BulkRequest needs an \"Operations\" array"))?;
        if ops.len() > max_operations {
            return Err(too_many_operations(max_operations));
        }
        let fail_on_errors = match get_ci(obj, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_u64() {
                Some(n) if n >= 1 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                _ => {
                    return Err(Error::invalid_value(
                        "failOnErrors must be an integer of at least 1",
                    ))
                }
            },
        };
        let mut operations: Vec<Operation> = ops.iter().map(operation).collect();
        // A bulkId names one resource: a second operation claiming it cannot run.
        let mut seen = BTreeSet::new();
        for op in &mut operations {
            if let Some(id) = &op.bulk_id {
                if !seen.insert(id.clone()) && op.invalid.is_none() {
                    op.invalid = Some(Error::invalid_value(format!(
                        "bulkId '{id}' is used by an earlier operation of this request"
                    )));
                }
            }
        }
        Ok(BulkRequest {
            fail_on_errors,
            operations,
        })
    }
}

/// One operation object → [`Operation`].
fn operation(v: &Value) -> Operation {
    let empty = Map::new();
    let obj = v.as_object().unwrap_or(&empty);
    let text = |k: &str| get_ci(obj, k).and_then(Value::as_str).map(str::to_owned);
    let method_text = text("method").unwrap_or_default();
    let method = Method::parse(&method_text);
    let mut op = Operation {
        method_text: method_text.to_ascii_uppercase(),
        method,
        bulk_id: text("bulkId").filter(|s| !s.is_empty()),
        version: text("version").filter(|s| !s.trim().is_empty()),
        path: text("path").unwrap_or_default(),
        data: get_ci(obj, "data").filter(|d| !d.is_null()).cloned(),
        invalid: None,
    };
    op.invalid = check(&mut op, v.is_object());
    op
}

/// What makes an operation impossible to run as sent (RFC 7644 §3.7: `method` and
/// `path` required, `data` required for POST, PUT and PATCH, `bulkId` required for
/// POST).
fn check(op: &mut Operation, is_object: bool) -> Option<Error> {
    if !is_object {
        return Some(Error::invalid_syntax(
            "a bulk operation must be a JSON object",
        ));
    }
    let Some(method) = op.method else {
        return Some(Error::invalid_value(
            "a bulk operation's method must be POST, PUT, PATCH or DELETE",
        ));
    };
    if op.path.trim().is_empty() {
        return Some(Error::invalid_value("a bulk operation needs a path"));
    }
    if !op.path.starts_with('/') {
        op.path.insert(0, '/');
    }
    if op.path.contains(['?', '#']) {
        return Some(Error::invalid_value(
            "a bulk operation's path names a resource or an endpoint, without a query",
        ));
    }
    if method == Method::Post && op.bulk_id.is_none() {
        return Some(Error::invalid_value("a POST bulk operation needs a bulkId"));
    }
    match (method, op.data.take()) {
        (Method::Delete, _) => {}
        (_, None) => {
            return Some(Error::invalid_syntax(format!(
                "a {} bulk operation needs data",
                method.as_str()
            )))
        }
        (Method::Patch, Some(Value::Array(ops))) => {
            op.data = Some(json!({"schemas": [PATCH_OP], "Operations": ops}));
        }
        (_, Some(d)) => op.data = Some(d),
    }
    None
}

/// The `bulkId`s an operation refers to: a path segment `bulkId:<id>`, or any string
/// value of its data that is exactly `bulkId:<id>` (a member's `value`, a manager's
/// `value`, …).
pub fn references(op: &Operation) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for seg in op.path.split('/') {
        if let Some(id) = seg.strip_prefix(BULK_ID_PREFIX) {
            out.insert(id.to_owned());
        }
    }
    if let Some(d) = &op.data {
        collect(d, &mut out);
    }
    out
}

fn collect(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(BULK_ID_PREFIX) {
                out.insert(id.to_owned());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect(x, out)),
        Value::Object(o) => o.values().for_each(|x| collect(x, out)),
        _ => {}
    }
}

/// Replaces every `bulkId:<id>` (path segments and data strings) by the resource id
/// `ids` gives for it. Every reference must be in `ids`.
pub fn substitute(op: &Operation, ids: &BTreeMap<String, String>) -> (String, Option<Value>) {
    let path = op
        .path
        .split('/')
        .map(|seg| match seg.strip_prefix(BULK_ID_PREFIX) {
            Some(id) => ids.get(id).cloned().unwrap_or_else(|| seg.to_owned()),
            None => seg.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/");
    let data = op.data.clone().map(|mut d| {
        replace(&mut d, ids);
        d
    });
    (path, data)
}

fn replace(v: &mut Value, ids: &BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = s.strip_prefix(BULK_ID_PREFIX).and_then(|k| ids.get(k)) {
                *s = id.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| replace(x, ids)),
        Value::Object(o) => o.values_mut().for_each(|x| replace(x, ids)),
        _ => {}
    }
}

/// The order operations run in, and those that cannot run because their `bulkId`
/// references go round in a circle (§3.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Indexes into the request's operations, in run order: request order, except that
    /// an operation referring to a `bulkId` defined by a later one runs after it.
    pub order: Vec<usize>,
    /// Operations on a circle of references; they answer 409 and write nothing.
    pub circular: BTreeSet<usize>,
}

/// Plans a request: a depth-first walk in request order over the `bulkId` each
/// operation refers to (the operation defining it first).
pub fn plan(ops: &[Operation]) -> Plan {
    let mut defined: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some(id) = &op.bulk_id {
            defined.entry(id.as_str()).or_insert(i);
        }
    }
    let deps: Vec<Vec<usize>> = ops
        .iter()
        .map(|op| {
            references(op)
                .iter()
                .filter_map(|r| defined.get(r.as_str()).copied())
                .collect()
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; ops.len()];
    let mut plan = Plan {
        order: Vec::with_capacity(ops.len()),
        circular: BTreeSet::new(),
    };
    // Iterative depth-first walk (operations are bounded by maxOperations, but a
    // recursion depth should not depend on the client).
    for root in 0..ops.len() {
        if marks[root] != Mark::New {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        marks[root] = Mark::Open;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&dep) = deps[node].get(*next) {
                *next += 1;
                match marks[dep] {
                    Mark::New => {
                        marks[dep] = Mark::Open;
                        stack.push((dep, 0));
                    }
                    Mark::Open => {
                        // A circle: `dep` … `node` on the stack.
                        let from = stack.iter().position(|(n, _)| *n == dep).unwrap_or(0);
                        plan.circular.extend(stack[from..].iter().map(|(n, _)| *n));
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                plan.order.push(node);
                stack.pop();
            }
        }
    }
    plan
}

/// One entry of a BulkResponse.
#[derive(Debug, Clone, PartialEq)]
pub struct OpResult {
    /// The method, as sent.
    pub method: String,
    /// The operation's `bulkId`.
    pub bulk_id: Option<String>,
    /// The resource's URI (a failed POST has none).
    pub location: Option<String>,
    /// The resource's version after the operation.
    pub version: Option<String>,
    /// The HTTP status of the operation.
    pub status: u16,
    /// The body: an error's, always; a success's is left out (§3.7: the server MAY).
    pub response: Option<Value>,
}

impl OpResult {
    /// The JSON entry (`status` a string, as RFC 7644 §3.7.3's examples show).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(l) = &self.location {
            m.insert("location".into(), Value::String(l.clone()));
        }
        m.insert("method".into(), Value::String(self.method.clone()));
        if let Some(b) = &self.bulk_id {
            m.insert("bulkId".into(), Value::String(b.clone()));
        }
        if let Some(v) = &self.version {
            m.insert("version".into(), Value::String(v.clone()));
        }
        m.insert("status".into(), Value::String(self.status.to_string()));
        if let Some(r) = &self.response {
            m.insert("response".into(), r.clone());
        }
        Value::Object(m)
    }
}

/// The BulkResponse of the operations that ran, in request order.
pub fn response(results: &[OpResult]) -> Value {
    json!({
        "schemas": [BULK_RESPONSE],
        "Operations": results.iter().map(OpResult::to_json).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests;
