//! `POST /Bulk` (RFC 7644 §3.7): the operations of one request, each sent through the
//! handler of its single-request form ([`users::handle`], [`groups::handle`]) as if it
//! had come alone: the same parsing, the same provisioning code, the same errors. What
//! is bulk's own is here and in `scim::bulk`:
//!
//! - limits (§3.7.4): the body is read within `--bulk-max-payload-bytes`, at most
//!   `--bulk-max-operations` operations (413 beyond, before anything runs);
//! - order: request order, an operation after the one whose `bulkId` it refers to;
//!   operations on a circle of references answer 409 and write nothing (§3.7.1);
//! - `bulkId:<id>` in a path or a value becomes the id the defining operation created
//!   (§3.7.2); a reference to an operation that failed answers 409, to no operation 400;
//! - `version` is the operation's `If-Match`;
//! - `failOnErrors` (§3.7.3): stop after that many errors; the response lists what ran;
//! - time: the request deadline covers the whole request; no operation starts once
//!   less than a tenth of it (at most 1 s) is left for the response, an operation
//!   still running then answers 504 (it may or may not have been applied, as for a
//!   single request), and those not started answer 503 — nothing of them was written.
//!
//! Each operation's writes are audited under its own SCIM operation (`users.create`,
//! …) with the bulk request's id.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;

use super::{groups, users, ScimRequest, ScimResponse};
use crate::http::router::{self, Miss, Target, PREFIXES};
use crate::http::{audit, AppState};
use crate::scim::bulk::{self as protocol, BulkRequest, OpResult, Operation};
use crate::scim::{self, Preconditions};

/// Most time kept back from the request deadline for writing the response.
const RESPONSE_RESERVE: Duration = Duration::from_secs(1);

/// Handles `POST /Bulk`.
pub async fn handle(state: &AppState, req: ScimRequest) -> Result<ScimResponse, scim::Error> {
    let limits = state.config.bulk;
    if limits.max_operations == 0 {
        return Err(scim::Error::not_implemented(
            "bulk operations are turned off on this server (--bulk-max-operations 0)",
        ));
    }
    let bulk = BulkRequest::from_json(&req.json_body()?, limits.max_operations)?;
    let plan = protocol::plan(&bulk.operations);
    let now = tokio::time::Instant::now();
    let reserve = (req.deadline.saturating_duration_since(now) / 10).min(RESPONSE_RESERVE);
    let stop_at = req.deadline.checked_sub(reserve).unwrap_or(now);

    let mut run = Run {
        state,
        req: &req,
        bulk: &bulk,
        ids: BTreeMap::new(),
        results: vec![None; bulk.operations.len()],
    };
    let mut errors = 0usize;
    let mut out_of_time = false;
    for &i in &plan.order {
        if bulk.fail_on_errors.is_some_and(|max| errors >= max) {
            break;
        }
        let op = &bulk.operations[i];
        let result = if out_of_time || tokio::time::Instant::now() >= stop_at {
            out_of_time = true;
            run.fail(
                op,
                None,
                scim::Error::upstream(
                    503,
                    "not attempted: the request deadline was reached before this operation \
                     started; nothing of it was written",
                ),
            )
        } else if plan.circular.contains(&i) {
            run.fail(
                op,
                None,
                scim::Error::new(
                    409,
                    "circular bulkId references: this operation and another one each refer to \
                     the other's bulkId (RFC 7644 §3.7.1); nothing of them was written",
                ),
            )
        } else {
            match tokio::time::timeout_at(stop_at, run.one(op)).await {
                Ok(r) => r,
                Err(_) => {
                    out_of_time = true;
                    run.fail(
                        op,
                        None,
                        scim::Error::upstream(
                            504,
                            "the request deadline was reached during this operation; it may or \
                             may not have been applied",
                        ),
                    )
                }
            }
        };
        if result.status >= 400 {
            errors += 1;
        }
        tracing::debug!(
            bulk.operation = i,
            method = op.method_text.as_str(),
            status = result.status,
            "bulk operation done"
        );
        run.results[i] = Some(result);
    }
    let results: Vec<OpResult> = run.results.into_iter().flatten().collect();
    Ok(ScimResponse::ok(protocol::response(&results)))
}

/// The state of one bulk request while its operations run.
struct Run<'a> {
    state: &'a AppState,
    req: &'a ScimRequest,
    bulk: &'a BulkRequest,
    /// `bulkId` → the SCIM id of the resource its operation created (or addressed).
    ids: BTreeMap<String, String>,
    /// Per operation (request order): its result, once it ran.
    results: Vec<Option<OpResult>>,
}

impl Run<'_> {
    /// Runs one operation and returns its result entry.
    async fn one(&mut self, op: &Operation) -> OpResult {
        if let Some(e) = &op.invalid {
            return self.fail(op, None, e.clone());
        }
        if let Err(e) = self.resolvable(op) {
            return self.fail(op, None, e);
        }
        let (path, data) = protocol::substitute(op, &self.ids);
        let location = format!("{}{}", self.req.ctx.base_url.trim_end_matches('/'), path);
        let location = (op.method != Some(protocol::Method::Post)).then_some(location);
        let method = match op.method {
            Some(protocol::Method::Post) => Method::POST,
            Some(protocol::Method::Put) => Method::PUT,
            Some(protocol::Method::Patch) => Method::PATCH,
            Some(protocol::Method::Delete) | None => Method::DELETE,
        };
        let route =
            match router::route(&method, &format!("{}{}", PREFIXES[1], path)) {
                Ok(r) if matches!(r.target, Target::Users | Target::Groups) => r,
                Ok(_) | Err(Miss::NotFound) => return self.fail(
                    op,
                    location,
                    scim::Error::invalid_value(
                        "a bulk operation's path must be /Users, /Groups or one of their resources",
                    ),
                ),
                Err(Miss::MethodNotAllowed { allow, .. }) => {
                    return self.fail(
                        op,
                        location,
                        scim::Error::method_not_allowed(format!(
                            "method not allowed on this path; allowed: {allow}"
                        )),
                    )
                }
            };
        if route.segments.last().is_some_and(|s| s == ".search") {
            return self.fail(
                op,
                location,
                scim::Error::invalid_value("a search is not a bulk operation"),
            );
        }
        let mut ctx = self.req.ctx.clone();
        ctx.preconditions = match (&op.version, method == Method::POST) {
            (Some(v), false) => Preconditions::if_match(v),
            _ => Preconditions::default(),
        };
        let body = data
            .map(|d| Bytes::from(serde_json::to_vec(&d).unwrap_or_default()))
            .unwrap_or_default();
        let sub = ScimRequest {
            method: method.clone(),
            segments: route.segments.clone(),
            query: None,
            headers: HeaderMap::new(),
            body,
            ctx,
            deadline: self.req.deadline,
        };
        let answer = audit::as_operation(route.operation, async {
            match route.target {
                Target::Users => users::handle(self.state, sub).await,
                _ => groups::handle(self.state, sub).await,
            }
        })
        .await;
        match answer {
            Ok(resp) => {
                let id = match &resp.body {
                    Some(b) if method == Method::POST => {
                        b.get("id").and_then(Value::as_str).map(str::to_owned)
                    }
                    _ => route.segments.get(1).cloned(),
                };
                if let (Some(bulk_id), Some(id)) = (&op.bulk_id, id) {
                    self.ids.insert(bulk_id.clone(), id);
                }
                OpResult {
                    method: op.method_text.clone(),
                    bulk_id: op.bulk_id.clone(),
                    location: resp.location.clone().or(location),
                    version: resp.version().map(str::to_owned),
                    status: resp.status,
                    response: None,
                }
            }
            Err(e) => self.fail(op, location, e),
        }
    }

    /// Every `bulkId` the operation refers to names a resource created by an earlier
    /// operation: 400 for one no operation defines, 409 for one whose operation failed.
    fn resolvable(&self, op: &Operation) -> Result<(), scim::Error> {
        let refs: BTreeSet<String> = protocol::references(op);
        let Some(r) = refs.iter().find(|r| !self.ids.contains_key(*r)) else {
            return Ok(());
        };
        let defined = self
            .bulk
            .operations
            .iter()
            .any(|o| o.bulk_id.as_deref() == Some(r.as_str()));
        Err(if defined {
            scim::Error::new(
                409,
                format!("bulkId '{r}' names no resource: the operation that defines it failed"),
            )
        } else {
            scim::Error::invalid_value(format!(
                "bulkId '{r}' is not defined by any operation of this request"
            ))
        })
    }

    /// The entry of an operation that failed with `e`.
    fn fail(&self, op: &Operation, location: Option<String>, e: scim::Error) -> OpResult {
        OpResult {
            method: op.method_text.clone(),
            bulk_id: op.bulk_id.clone(),
            location,
            version: None,
            status: e.status,
            response: Some(e.to_body()),
        }
    }
}
