//! The audit trail (`--audit-log`): one JSON line per entity the gateway changed in
//! DataHub, so a security team can reconstruct who changed what and when.
//!
//! The DataHub client reports each finished write call ([`datahub::WriteAudit`]);
//! this module adds the SCIM request it belongs to, read from a task-local
//! [`RequestScope`] that the request wrapper (`service.rs`) sets around the handler.
//! The lines name people (urns), so the trail is off by default and never goes
//! through `tracing`: the ordinary logs stay free of personal data and a log filter
//! cannot drop audit events.
//!
//! A line, fields in this order:
//!
//! ```json
//! {"log":"audit","time":"2025-01-31T09:12:03.481207Z","request_id":"…","scim_operation":"users.patch",
//!  "actor":"urn:li:corpuser:okta-provisioner","write":1,"change":"upsert",
//!  "urn":"urn:li:corpuser:jane","aspects":["corpUserInfo","corpUserStatus"],"outcome":"ok"}
//! ```

use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::metrics::{AuditLabels, Metrics};
use crate::config::AuditTarget;
use crate::datahub;

tokio::task_local! {
    static REQUEST: RequestScope;
}

/// The SCIM request a DataHub write is made for.
#[derive(Debug)]
pub struct RequestScope {
    /// The request id (`X-Request-Id`).
    request_id: String,
    /// The SCIM operation, e.g. `users.patch`.
    operation: &'static str,
    /// The caller's DataHub urn (the owner of the IdP's token).
    actor: String,
    /// Write calls made so far by this request (shared by the operations of a bulk
    /// request, so `write` numbers the request's writes).
    writes: Arc<AtomicU32>,
}

impl RequestScope {
    /// The scope of one authenticated SCIM request.
    pub fn new(request_id: &str, operation: &'static str, actor: &str) -> Self {
        RequestScope {
            request_id: request_id.to_owned(),
            operation,
            actor: actor.to_owned(),
            writes: Arc::new(AtomicU32::new(0)),
        }
    }
}

/// Runs `fut` (the request's handler) with `scope` as the request its writes belong
/// to. Writes made from tasks spawned inside `fut` are not in scope.
pub async fn in_request<F: Future>(scope: RequestScope, fut: F) -> F::Output {
    REQUEST.scope(scope, fut).await
}

/// Runs `fut` inside the current request, its writes audited as SCIM `operation`: a
/// bulk request's operations each under their own (`users.patch`, …), with the bulk
/// request's id, actor and write numbering. Outside a request, `fut` runs as it is.
pub async fn as_operation<F: Future>(operation: &'static str, fut: F) -> F::Output {
    let scope = REQUEST
        .try_with(|s| RequestScope {
            request_id: s.request_id.clone(),
            operation,
            actor: s.actor.clone(),
            writes: s.writes.clone(),
        })
        .ok();
    match scope {
        Some(scope) => REQUEST.scope(scope, fut).await,
        None => fut.await,
    }
}

enum Out {
    Stderr,
    Stdout,
    File(std::fs::File),
}

/// The audit log: implements [`datahub::WriteAudit`] and writes the lines.
pub struct AuditLog {
    out: Mutex<Out>,
    metrics: Arc<Metrics>,
    /// The last write to `out` failed (so a failure is logged once, not per event).
    failing: AtomicBool,
}

impl AuditLog {
    /// Opens the destination; a file is created `0600` when missing and appended to.
    pub fn open(target: &AuditTarget, metrics: Arc<Metrics>) -> std::io::Result<AuditLog> {
        let out = match target {
            AuditTarget::Stderr => Out::Stderr,
            AuditTarget::Stdout => Out::Stdout,
            AuditTarget::File(path) => {
                let mut o = std::fs::OpenOptions::new();
                o.create(true).append(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    o.mode(0o600);
                }
                Out::File(o.open(path)?)
            }
        };
        Ok(AuditLog {
            out: Mutex::new(out),
            metrics,
            failing: AtomicBool::new(false),
        })
    }

    /// Writes `lines` (whole lines) in one go and counts `events`.
    fn emit(&self, lines: &str, events: u64) {
        let written = {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            match &mut *out {
                Out::Stderr => {
                    let mut e = std::io::stderr().lock();
                    e.write_all(lines.as_bytes()).and_then(|()| e.flush())
                }
                Out::Stdout => {
                    let mut o = std::io::stdout().lock();
                    o.write_all(lines.as_bytes()).and_then(|()| o.flush())
                }
                Out::File(f) => f.write_all(lines.as_bytes()).and_then(|()| f.flush()),
            }
        };
        let result = if written.is_ok() { "written" } else { "failed" };
        self.metrics
            .audit_events
            .get_or_create(&AuditLabels { result })
            .inc_by(events);
        match written {
            Ok(()) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::warn!("audit log writable again");
                }
            }
            Err(e) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::error!(error = %e, "audit log write failed; events are being lost");
                }
            }
        }
    }
}

/// The request fields of an event, from the task-local scope.
struct Origin {
    request_id: Option<String>,
    operation: Option<&'static str>,
    actor: Option<String>,
    write: Option<u32>,
}

fn origin() -> Origin {
    REQUEST
        .try_with(|s| Origin {
            request_id: Some(s.request_id.clone()),
            operation: Some(s.operation),
            actor: Some(s.actor.clone()),
            write: Some(s.writes.fetch_add(1, Ordering::Relaxed) + 1),
        })
        .unwrap_or(Origin {
            request_id: None,
            operation: None,
            actor: None,
            write: None,
        })
}

/// The event lines of one report, one per target.
fn lines(report: &datahub::WriteReport<'_>, origin: &Origin, time: &str) -> String {
    let mut out = String::new();
    for t in &report.targets {
        let event = json!({
            "log": "audit",
            "time": time,
            "request_id": origin.request_id,
            "scim_operation": origin.operation,
            "actor": origin.actor,
            "write": origin.write,
            "change": report.change.as_str(),
            "urn": t.urn.as_str(),
            "aspects": t.aspects,
            "outcome": report.outcome.as_str(),
        });
        out.push_str(&event.to_string());
        out.push('\n');
    }
    out
}

impl datahub::WriteAudit for AuditLog {
    fn write_finished(&self, report: &datahub::WriteReport<'_>) {
        if report.targets.is_empty() {
            return;
        }
        let time = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let text = lines(report, &origin(), &time);
        self.emit(&text, report.targets.len() as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datahub::{Change, Outcome, Target, Urn, WriteAudit};

    #[tokio::test]
    async fn one_line_per_target_with_the_request_in_scope() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let metrics = Arc::new(Metrics::new());
        let log = AuditLog::open(&AuditTarget::File(path.clone()), metrics.clone()).expect("open");
        let (a, g) = (Urn::corp_user("ann"), Urn::corp_group("Ops"));
        let report = datahub::WriteReport {
            change: Change::Upsert,
            targets: vec![
                Target {
                    urn: &g,
                    aspects: vec!["corpGroupInfo", "origin"],
                },
                Target {
                    urn: &a,
                    aspects: vec!["groupMembership"],
                },
            ],
            outcome: Outcome::Conflict,
        };
        let scope = RequestScope::new("req-1", "groups.create", "urn:li:corpuser:okta");
        in_request(scope, async {
            log.write_finished(&report);
            log.write_finished(&report);
        })
        .await;
        log.write_finished(&report); // outside any request

        let text = std::fs::read_to_string(&path).expect("audit file");
        let events: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON line"))
            .collect();
        assert_eq!(events.len(), 6, "{text}");
        let e = &events[1];
        assert_eq!(e["log"], "audit");
        assert_eq!(e["request_id"], "req-1");
        assert_eq!(e["scim_operation"], "groups.create");
        assert_eq!(e["actor"], "urn:li:corpuser:okta");
        assert_eq!(e["write"], 1);
        assert_eq!(e["change"], "upsert");
        assert_eq!(e["urn"], "urn:li:corpuser:ann");
        assert_eq!(e["aspects"], json!(["groupMembership"]));
        assert_eq!(e["outcome"], "conflict");
        assert!(
            OffsetDateTime::parse(e["time"].as_str().expect("time"), &Rfc3339).is_ok(),
            "{e}"
        );
        assert_eq!(events[2]["write"], 2, "the request's second write call");
        assert_eq!(events[4]["request_id"], serde_json::Value::Null);
        let keys: Vec<&str> = e
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "log",
                "time",
                "request_id",
                "scim_operation",
                "actor",
                "write",
                "change",
                "urn",
                "aspects",
                "outcome"
            ]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let m = metrics.encode_prometheus();
        assert!(
            m.contains("datahub_scim_audit_events_total{result=\"written\"} 6\n"),
            "{m}"
        );
    }
}
