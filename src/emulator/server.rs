//! The HTTP side: accept loop, one request top to bottom (read body → name the
//! endpoint → faults → authenticate → route → log), and the `/__emulator/*` control
//! endpoints.

use super::faults::{Action, FaultRequest};
use super::{auth, graphql, java, restli, Call, Inner};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::{json, Value};
use std::sync::Arc;

/// A response under construction.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
    /// Extra response headers.
    pub headers: Vec<(&'static str, &'static str)>,
    /// Search-engine queries the request cost (see [`super::search`]).
    pub engine_queries: u64,
}

impl Reply {
    /// JSON response.
    pub fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: Some(body),
            headers: Vec::new(),
            engine_queries: 0,
        }
    }
    /// Empty-body response.
    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            body: None,
            headers: Vec::new(),
            engine_queries: 0,
        }
    }
    /// Rest.li error: the FULL `ErrorResponse` body and `X-RestLi-Error-Response: true`.
    pub fn restli_error(status: u16, message: impl Into<String>) -> Reply {
        Reply::restli_error_caused(status, message, None)
    }
    /// Rest.li error wrapping a cause (e.g. a `RoutingException`).
    pub fn restli_error_caused(
        status: u16,
        message: impl Into<String>,
        cause: Option<&str>,
    ) -> Reply {
        let mut r = Reply::json(
            status,
            java::restli_error_body(status, &message.into(), cause),
        );
        r.headers.push(("X-RestLi-Error-Response", "true"));
        r
    }
}

/// Connection-level outcome used to drop a connection without a response.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault injection: connection dropped")
    }
}
impl std::error::Error for DropConnection {}

pub(crate) async fn serve(
    inner: Arc<Inner>,
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((io, _)) = accepted else { continue };
                let inner = inner.clone();
                conns.spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(inner.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(io), svc)
                        .await;
                });
            }
            _ = stop.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
}

fn to_response(r: Reply) -> Response<Full<Bytes>> {
    let mut b = Response::builder()
        .status(StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (k, v) in &r.headers {
        b = b.header(*k, *v);
    }
    let body = match r.body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Bytes::from(v.to_string())
        }
        None => Bytes::new(),
    };
    b.body(Full::new(body))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

/// Splits a raw query string into raw (still percent-encoded) pairs.
pub(crate) fn query_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (decode(k), v.to_string()),
            None => (decode(kv), String::new()),
        })
        .collect()
}

/// Percent-decodes (lossy for invalid UTF-8).
pub(crate) fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn endpoint_name(method: &Method, path: &str, query: &[(String, String)], body: &[u8]) -> String {
    let q = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| decode(v));
    let seg: Vec<&str> = path.trim_start_matches('/').splitn(2, '/').collect();
    let name = match (method.as_str(), seg.as_slice()) {
        ("GET", ["health"]) => "health".into(),
        ("GET", ["config"]) => "config".into(),
        (_, ["api", "graphql"]) => {
            format!("graphql.{}", graphql::root_field(body).unwrap_or_default())
                .trim_end_matches('.')
                .to_string()
        }
        ("POST", ["aspects"]) => format!("restli.{}", q("action").unwrap_or_default()),
        ("GET", ["aspects", _]) => "restli.getAspect".into(),
        ("GET", ["entitiesV2", _]) => "restli.entitiesV2.get".into(),
        ("GET", ["entitiesV2"]) => "restli.entitiesV2.batchGet".into(),
        ("POST", ["entities"]) => format!("restli.{}", q("action").unwrap_or_default()),
        ("GET", ["relationships"]) => "restli.relationships".into(),
        _ => "unknown".into(),
    };
    name
}

/// The `(urn, aspect)` pairs a write request names (for the call log); `aspect` is
/// empty for a hard delete.
fn requested_writes(endpoint: &str, body: &[u8]) -> Vec<(String, String)> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let pair = |p: &Value| (str_of(p, "entityUrn"), str_of(p, "aspectName"));
    match endpoint {
        "restli.ingestProposalBatch" => v
            .get("proposals")
            .and_then(Value::as_array)
            .map(|ps| ps.iter().map(pair).collect())
            .unwrap_or_default(),
        "restli.ingestProposal" => v.get("proposal").map(pair).into_iter().collect(),
        "restli.delete" => vec![(str_of(&v, "urn"), String::new())],
        _ => Vec::new(),
    }
}

async fn handle(
    inner: Arc<Inner>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let raw_query = req.uri().query().unwrap_or("").to_string();
    let authz = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    if let Some(ctl) = path.strip_prefix("/__emulator/") {
        return Ok(to_response(control(&inner, &method, ctl, &body)));
    }
    let query = query_pairs(&raw_query);
    let endpoint = endpoint_name(&method, &path, &query, &body);
    let full_path = if raw_query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{raw_query}")
    };
    let writes = requested_writes(&endpoint, &body);
    let log = |status: u16, engine_queries: u64| {
        inner.calls().push(Call {
            method: method.to_string(),
            path: full_path.clone(),
            endpoint: endpoint.clone(),
            status,
            writes: writes.clone(),
            engine_queries,
        })
    };
    let (latency, action) = inner.faults.take(&endpoint);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let reply = match action {
        Action::Drop => {
            log(0, 0);
            return Err(DropConnection);
        }
        Action::Stall => {
            log(0, 0);
            std::future::pending::<()>().await;
            unreachable!("pending never resolves")
        }
        Action::Fail(status) => Reply::restli_error(status, "injected fault"),
        Action::Pass => route(&inner, &method, &path, &query, authz.as_deref(), &body),
    };
    log(reply.status, reply.engine_queries);
    Ok(to_response(reply))
}

fn route(
    inner: &Inner,
    method: &Method,
    path: &str,
    query: &[(String, String)],
    authz: Option<&str>,
    body: &[u8],
) -> Reply {
    match (method.as_str(), path) {
        ("GET", "/health") => return Reply::json(200, json!({"status": "ok"})),
        ("GET", "/config") => return Reply::json(200, restli::config(&inner.release)),
        _ => {}
    }
    let actor = {
        let mut st = inner.state();
        let check_actor = inner.release.token_checks_actor();
        auth::authenticate(&mut st, &inner.key, &inner.salt, authz, check_actor)
    };
    let Some(actor) = actor else {
        return Reply::empty(401);
    };
    if path == "/api/graphql" {
        return match method.as_str() {
            "POST" => graphql::handle(inner, &actor, body),
            _ => Reply::empty(405),
        };
    }
    restli::route(inner, &actor, method, path, query, body)
}

fn control(inner: &Inner, method: &Method, path: &str, body: &[u8]) -> Reply {
    match (method.as_str(), path) {
        ("POST", "faults") => match serde_json::from_slice::<FaultRequest>(body) {
            Ok(req) => {
                inner.faults.apply(&req);
                Reply::empty(204)
            }
            Err(e) => Reply::json(400, json!({"error": e.to_string()})),
        },
        ("GET", "calls") => {
            let calls: Vec<Value> = inner
                .calls()
                .iter()
                .map(|c| json!({"method": c.method, "path": c.path, "endpoint": c.endpoint, "status": c.status, "engineQueries": c.engine_queries}))
                .collect();
            Reply::json(200, json!({ "calls": calls }))
        }
        ("DELETE", "calls") => {
            inner.calls().clear();
            Reply::empty(204)
        }
        _ => Reply::empty(404),
    }
}
