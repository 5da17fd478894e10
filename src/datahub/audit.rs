//! The write-audit hook: every call that changes DataHub (`ingestProposalBatch`,
//! `entities?action=delete`) is reported, once it has finished, to the
//! [`WriteAudit`] installed with [`Client::with_write_audit`], with the urns and
//! aspect names it wrote and its [`Outcome`]. Aspect values are not reported.
//!
//! The client knows nothing of who asked for the write; the hook's implementer
//! (the HTTP layer) adds the request it belongs to.

use std::sync::Arc;

use super::restli::Proposal;
use super::transport::{Client, Outcome};
use super::urn::Urn;

/// What a write did to its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// `ingestProposalBatch`: UPSERT of the named aspects.
    Upsert,
    /// `entities?action=delete`: every aspect of the entity, key included.
    HardDelete,
}

impl Change {
    /// Stable lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Upsert => "upsert",
            Change::HardDelete => "hard_delete",
        }
    }
}

/// One entity a write targeted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target<'a> {
    /// The entity.
    pub urn: &'a Urn,
    /// Aspects written on it, in request order (empty for a hard delete).
    pub aspects: Vec<&'static str>,
}

/// One finished write call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport<'a> {
    /// Upsert or hard delete.
    pub change: Change,
    /// Every entity of the call, first-seen order, each once. One call is atomic in
    /// GMS: either all targets were written or none.
    pub targets: Vec<Target<'a>>,
    /// How the call ended. `Ok`: written. `Conflict`: a lost conditional write,
    /// nothing written. `Timeout` / `ConnectError`: GMS may or may not have applied it.
    pub outcome: Outcome,
}

/// Receives one report per finished write call. Implemented by the audit log.
pub trait WriteAudit: Send + Sync {
    /// A write call finished (successfully or not).
    fn write_finished(&self, report: &WriteReport<'_>);
}

/// Groups proposals by urn, first-seen order, aspects in request order. Guards
/// ([`Proposal::guard`]) change nothing and are left out.
pub(crate) fn targets_of(proposals: &[Proposal]) -> Vec<Target<'_>> {
    let mut out: Vec<Target<'_>> = Vec::new();
    for p in proposals.iter().filter(|p| !p.is_guard()) {
        match out.iter_mut().find(|t| t.urn == p.urn()) {
            Some(t) => t.aspects.push(p.aspect_name()),
            None => out.push(Target {
                urn: p.urn(),
                aspects: vec![p.aspect_name()],
            }),
        }
    }
    out
}

impl Client {
    /// The same client, reporting every write (ingest, hard delete) to `audit`.
    pub fn with_write_audit(self, audit: Arc<dyn WriteAudit>) -> Self {
        let mut inner = (*self.inner).clone();
        inner.audit = Some(audit);
        Client {
            inner: Arc::new(inner),
        }
    }

    /// Hands a finished write to the audit hook, if one is installed.
    pub(crate) fn report_write(&self, change: Change, targets: Vec<Target<'_>>, outcome: Outcome) {
        if let Some(audit) = &self.inner.audit {
            audit.write_finished(&WriteReport {
                change,
                targets,
                outcome,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::datahub::aspects::{GroupMembership, Status};
    use crate::datahub::test_server::{client, serve, Act};

    /// A report as `(change, [(urn, aspects)], outcome)`.
    type Entry = (Change, Vec<(String, Vec<&'static str>)>, Outcome);

    /// Records reports.
    #[derive(Default)]
    struct Journal(Mutex<Vec<Entry>>);

    impl WriteAudit for Journal {
        fn write_finished(&self, r: &WriteReport<'_>) {
            let targets = r
                .targets
                .iter()
                .map(|t| (t.urn.as_str().to_owned(), t.aspects.clone()))
                .collect();
            self.0
                .lock()
                .expect("lock")
                .push((r.change, targets, r.outcome));
        }
    }

    #[tokio::test]
    async fn every_write_call_is_reported_once_with_its_outcome_and_reads_and_probes_are_not() {
        let (base, _script) = serve(vec![
            Act::Reply(200, "{}".into()),
            Act::Reply(429, "{}".into()),
            Act::Reply(200, "{}".into()),
            Act::Reply(404, "{}".into()),
            Act::Reply(422, r#"{"status":422,"message":"com.linkedin.metadata.aspect.plugins.validation.AspectValidationException: Expected version -2, actual version -1"}"#.into()),
        ])
        .await;
        let (c, _rec) = client(&base);
        let journal = Arc::new(Journal::default());
        let c = c.with_write_audit(journal.clone());
        let u = Urn::corp_user("u");
        let p = vec![
            Proposal::upsert(&u, &Status::removed(true)).expect("proposal"),
            Proposal::upsert(&u, &GroupMembership::default()).expect("proposal"),
        ];
        c.ingest("t", &p).await.expect("written");
        let throttled = c.ingest("t", &p).await;
        assert!(matches!(
            throttled,
            Err(crate::datahub::Error::Throttled { .. })
        ));
        c.ingest("t", &[]).await.expect("nothing to send");
        c.hard_delete("t", &u).await.expect("deleted");
        assert!(!c.key_exists("t", &u).await.expect("a read"), "404: absent");

        // The privilege probe (conditioned on an impossible version) changes nothing
        // and is not an audit event.
        let probe = c.can_write_identities("t", &u).await.expect("probe");
        assert!(probe, "422 precondition: may write");

        let seen = journal.0.lock().expect("lock").clone();
        let one = vec![(
            "urn:li:corpuser:u".to_owned(),
            vec!["status", "groupMembership"],
        )];
        assert_eq!(
            seen,
            vec![
                (Change::Upsert, one.clone(), Outcome::Ok),
                (Change::Upsert, one, Outcome::Throttled),
                (
                    Change::HardDelete,
                    vec![("urn:li:corpuser:u".to_owned(), vec![])],
                    Outcome::Ok
                ),
            ]
        );
    }

    #[test]
    fn targets_group_aspects_by_urn_in_first_seen_order() {
        let (a, b) = (Urn::corp_user("a"), Urn::corp_user("b"));
        let gm = GroupMembership::default();
        let st = Status::removed(true);
        let ps = vec![
            Proposal::upsert(&b, &gm).expect("proposal"),
            Proposal::upsert(&a, &gm).expect("proposal"),
            Proposal::upsert(&b, &st).expect("proposal"),
        ];
        let t = targets_of(&ps);
        assert_eq!(t.len(), 2);
        assert_eq!(
            (t[0].urn, t[0].aspects.as_slice()),
            (&b, &["groupMembership", "status"][..])
        );
        assert_eq!(
            (t[1].urn, t[1].aspects.as_slice()),
            (&a, &["groupMembership"][..])
        );
    }

    #[test]
    fn guards_are_not_audited() {
        let (a, c) = (Urn::corp_user("a"), Urn::corp_user("c"));
        let ps = vec![
            Proposal::upsert(&a, &Status::removed(true)).expect("proposal"),
            Proposal::guard(
                &a,
                "corpUserInfo",
                &serde_json::json!({"active": true}),
                "3",
            )
            .expect("guard"),
            Proposal::guard(&c, "status", &serde_json::json!({"removed": false}), "1")
                .expect("guard"),
        ];
        let t = targets_of(&ps);
        assert_eq!(t.len(), 1, "{t:?}");
        assert_eq!((t[0].urn, t[0].aspects.as_slice()), (&a, &["status"][..]));
    }
}
