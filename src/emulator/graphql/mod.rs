//! `POST /api/graphql`: the request envelope (400 with an empty body when it is not
//! JSON or lacks `query`), validation against the upstream schema subset in
//! `schema.graphql` (graphql-java style `ValidationError`s, HTTP 200), execution with
//! per-field resolvers (aliases, variables, fragments, `__typename`, explicit nulls),
//! and DataHub's error shape (`extensions {code, type, classification}`).

mod mutation;
mod objects;
mod query;
mod scroll;
mod search;

use super::server::Reply;
use super::Inner;
use apollo_compiler::resolvers::{Execution, FieldError};
use apollo_compiler::response::JsonMap;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use objects::{Ctx, Obj};
use serde_json::{json, Value};
use std::sync::OnceLock;

const SDL: &str = include_str!("../schema.graphql");
const MARK: char = '\u{1}';

fn schema() -> &'static Valid<Schema> {
    static SCHEMA: OnceLock<Valid<Schema>> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        Schema::parse_and_validate(SDL, "schema.graphql")
            .expect("the embedded DataHub schema subset is valid GraphQL")
    })
}

/// A resolver error carrying DataHub's `extensions.code`.
pub(crate) fn err(code: u16, message: impl std::fmt::Display) -> FieldError {
    FieldError {
        message: format!("{MARK}{code}{MARK}{message}"),
    }
}

/// The 403 every identity mutation answers without the privilege.
pub(crate) fn unauthorized() -> FieldError {
    err(
        403,
        "Unauthorized to perform this action. Please contact your DataHub administrator.",
    )
}

fn code_type(code: u64) -> &'static str {
    match code {
        400 => "BAD_REQUEST",
        403 => "UNAUTHORIZED",
        404 => "NOT_FOUND",
        409 => "CONFLICT",
        503 => "SERVICE_UNAVAILABLE",
        _ => "SERVER_ERROR",
    }
}

/// Name of the first root field of the operation in a GraphQL request body (for the
/// call log), e.g. `me`, `createGroup`.
pub(crate) fn root_field(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let q = v.get("query")?.as_str()?;
    let op_name = v.get("operationName").and_then(Value::as_str);
    let doc = match apollo_compiler::ast::Document::parse(q, "query.graphql") {
        Ok(d) => d,
        Err(e) => e.partial,
    };
    doc.definitions.iter().find_map(|d| match d {
        apollo_compiler::ast::Definition::OperationDefinition(op)
            if op_name.is_none() || op.name.as_deref() == op_name =>
        {
            op.selection_set.iter().find_map(|s| match s {
                apollo_compiler::ast::Selection::Field(f) => Some(f.name.to_string()),
                _ => None,
            })
        }
        _ => None,
    })
}

fn validation_errors(e: &apollo_compiler::validation::DiagnosticList, syntax: bool) -> Value {
    let errs: Vec<Value> = e
        .iter()
        .map(|d| {
            let loc: Vec<Value> = d
                .line_column_range()
                .map(|r| vec![json!({"line": r.start.line, "column": r.start.column})])
                .unwrap_or_default();
            let (message, class) = if syntax {
                (format!("Invalid syntax : {}", d.error), "InvalidSyntax")
            } else {
                (format!("Validation error : {}", d.error), "ValidationError")
            };
            json!({"message": message, "locations": loc, "extensions": {"classification": class}})
        })
        .collect();
    json!({ "errors": errs })
}

/// Rewrites resolver errors into DataHub's shape.
fn shape_errors(resp: &mut Value) {
    let Some(errors) = resp.get_mut("errors").and_then(Value::as_array_mut) else {
        return;
    };
    for e in errors {
        let msg = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let marked = msg.find(MARK).map(|i| &msg[i + MARK.len_utf8()..]);
        let (code, text) = match marked.and_then(|m| m.split_once(MARK)) {
            Some((c, t)) => (c.parse().unwrap_or(500), t.to_string()),
            None => (500, msg),
        };
        e["message"] = json!(text);
        e["extensions"] = json!({"code": code, "type": code_type(code), "classification": "DataFetchingException"});
    }
}

pub(crate) fn handle(inner: &Inner, actor: &str, body: &[u8]) -> Reply {
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return Reply::empty(400);
    };
    let Some(q) = req.get("query").and_then(Value::as_str) else {
        return Reply::empty(400);
    };
    let op_name = req.get("operationName").and_then(Value::as_str);
    let vars: JsonMap = match req.get("variables") {
        None | Some(Value::Null) => JsonMap::new(),
        Some(v @ Value::Object(_)) => match serde_json::from_value(v.clone()) {
            Ok(m) => m,
            Err(_) => return Reply::empty(400),
        },
        Some(_) => return Reply::empty(400),
    };
    if let Err(e) = apollo_compiler::ast::Document::parse(q, "query.graphql") {
        return Reply::json(200, validation_errors(&e.errors, true));
    }
    let doc: Valid<ExecutableDocument> =
        match ExecutableDocument::parse_and_validate(schema(), q, "query.graphql") {
            Ok(d) => d,
            Err(e) => return Reply::json(200, validation_errors(&e.errors, false)),
        };
    let exec = match Execution::new(schema(), &doc).operation_name(op_name) {
        Ok(x) => x.raw_variable_values(&vars),
        Err(e) => {
            let ge = e.to_graphql_error(&doc.sources);
            return Reply::json(
                200,
                json!({"errors": [{"message": ge.message, "extensions": {"classification": "ValidationError"}}]}),
            );
        }
    };
    let ctx = Ctx {
        inner,
        actor,
        engine: std::cell::Cell::new(0),
    };
    let is_mutation = doc
        .operations
        .get(op_name)
        .map(|o| o.operation_type == apollo_compiler::executable::OperationType::Mutation)
        .unwrap_or(false);
    let root = if is_mutation {
        Obj::Mutation(&ctx)
    } else {
        Obj::Query(&ctx)
    };
    let result = exec.execute_sync(&root);
    drop(root);
    let engine_queries = ctx.engine.get();
    match result {
        Ok(resp) => {
            let mut v = serde_json::to_value(&resp).unwrap_or_else(|_| json!({"data": null}));
            shape_errors(&mut v);
            let mut r = Reply::json(200, v);
            r.engine_queries = engine_queries;
            r
        }
        Err(e) => {
            let ge = e.to_graphql_error(&doc.sources);
            let loc: Vec<Value> = ge
                .locations
                .iter()
                .map(|l| json!({"line": l.line, "column": l.column}))
                .collect();
            Reply::json(
                200,
                json!({"errors": [{"message": ge.message, "locations": loc, "extensions": {"classification": "ValidationError"}}]}),
            )
        }
    }
}
