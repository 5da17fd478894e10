//! Fault switches, flipped at run time by tests (through [`Faults`]) or over
//! `POST /__emulator/faults`: fail the next N calls (or the k-th next call) with a
//! status (optionally only one endpoint), add latency (to every call, or one latency
//! for reads and another for writes), drop the connection without a response, or never
//! answer (the next N calls, or the k-th next call to an endpoint).

use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What a rule does to the call it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleAction {
    Fail(u16),
    Stall,
}

/// One counted fault: let `skip` matching calls pass, then hit the next `remaining`.
#[derive(Debug, Clone)]
struct Rule {
    skip: u32,
    remaining: u32,
    action: RuleAction,
    endpoint: Option<String>,
}

impl Rule {
    fn matches(&self, endpoint: &str) -> bool {
        self.endpoint.as_deref().is_none_or(|e| e == endpoint)
    }
}

#[derive(Debug, Default)]
struct FaultState {
    rules: Vec<Rule>,
    /// Added to every call …
    latency: Duration,
    /// … plus this to reads (every call that is not a write) …
    read_latency: Duration,
    /// … or this to writes ([`is_write`]).
    write_latency: Duration,
    drop: u32,
    stall: u32,
}

/// GraphQL root fields that change DataHub (the `Mutation` type of `schema.graphql`).
const GRAPHQL_MUTATIONS: [&str; 8] = [
    "removeUser",
    "updateUserStatus",
    "removeGroup",
    "addGroupMembers",
    "removeGroupMembers",
    "createGroup",
    "createAccessToken",
    "revokeAccessToken",
];

/// Whether a call (by its call-log endpoint name) writes: Rest.li ingestion and
/// deletes, GraphQL mutations. Everything else (aspect and entity reads, searches,
/// scrolls, relationships, `me`, `/config`, `/health`) is a read.
pub(crate) fn is_write(endpoint: &str) -> bool {
    match endpoint {
        "restli.ingestProposal" | "restli.ingestProposalBatch" | "restli.delete" => true,
        e => e
            .strip_prefix("graphql.")
            .is_some_and(|f| GRAPHQL_MUTATIONS.contains(&f)),
    }
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Serve it normally.
    Pass,
    /// Answer with this status and a Rest.li-style error body.
    Fail(u16),
    /// Close the connection without a response.
    Drop,
    /// Never answer.
    Stall,
}

/// Handle on the emulator's fault switches (cheap to clone, shared).
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<FaultState>>);

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, endpoint: Option<&str>, skip: u32, remaining: u32, action: RuleAction) {
        self.lock().rules.push(Rule {
            skip,
            remaining,
            action,
            endpoint: endpoint.map(str::to_owned),
        });
    }

    /// The next `n` calls (any endpoint) answer `status`.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.push(None, 0, n, RuleAction::Fail(status));
    }

    /// The next `n` calls to `endpoint` (e.g. `restli.ingestProposalBatch`, `graphql.me`)
    /// answer `status`.
    pub fn fail_next_on(&self, endpoint: &str, n: u32, status: u16) {
        self.push(Some(endpoint), 0, n, RuleAction::Fail(status));
    }

    /// The `k`-th next call (any endpoint; `k` counts from 1) answers `status`; the
    /// `k - 1` calls before it are served. Walks a fault across every upstream call of
    /// one operation.
    pub fn fail_nth(&self, k: u32, status: u16) {
        self.push(None, k.saturating_sub(1), 1, RuleAction::Fail(status));
    }

    /// The `k`-th next call to `endpoint` (from 1) answers `status`, e.g. the second
    /// chunk of a large `ingestProposalBatch` write.
    pub fn fail_nth_on(&self, endpoint: &str, k: u32, status: u16) {
        self.push(
            Some(endpoint),
            k.saturating_sub(1),
            1,
            RuleAction::Fail(status),
        );
    }

    /// The `k`-th next call to `endpoint` (from 1) is never answered and never applied
    /// (logged with status 0 when it arrives): the caller is stuck right before that
    /// call takes effect, which is where a test kills it.
    pub fn stall_nth_on(&self, endpoint: &str, k: u32) {
        self.push(Some(endpoint), k.saturating_sub(1), 1, RuleAction::Stall);
    }

    /// Delay every answer by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// Delay reads by `read` and writes by `write` (on top of [`Faults::set_latency`]):
    /// GMS answers a primary-key read in milliseconds but a synchronously indexed write
    /// in tens of them (docs/emulator.md, "Faults").
    pub fn set_read_write_latency(&self, read: Duration, write: Duration) {
        let mut s = self.lock();
        s.read_latency = read;
        s.write_latency = write;
    }

    /// Close the connection of the next `n` calls without answering.
    pub fn drop_next(&self, n: u32) {
        self.lock().drop += n;
    }

    /// Never answer the next `n` calls.
    pub fn stall_next(&self, n: u32) {
        self.lock().stall += n;
    }

    /// Switch every fault off.
    pub fn clear(&self) {
        *self.lock() = FaultState::default();
    }

    /// Decides the fate of one call (consumes one unit of the matching fault). Every
    /// counted rule that matches the endpoint sees the call: one still skipping counts
    /// it, the first one due hits it.
    pub(crate) fn take(&self, endpoint: &str) -> (Duration, Action) {
        let mut s = self.lock();
        let latency = s.latency
            + if is_write(endpoint) {
                s.write_latency
            } else {
                s.read_latency
            };
        if s.stall > 0 {
            s.stall -= 1;
            return (latency, Action::Stall);
        }
        if s.drop > 0 {
            s.drop -= 1;
            return (latency, Action::Drop);
        }
        let mut action = Action::Pass;
        for r in s.rules.iter_mut().filter(|r| r.matches(endpoint)) {
            if r.remaining == 0 {
                continue;
            }
            if r.skip > 0 {
                r.skip -= 1;
                continue;
            }
            if action == Action::Pass {
                r.remaining -= 1;
                action = match r.action {
                    RuleAction::Fail(status) => Action::Fail(status),
                    RuleAction::Stall => Action::Stall,
                };
            }
        }
        s.rules.retain(|r| r.remaining > 0);
        (latency, action)
    }

    /// Applies a control request (`POST /__emulator/faults`).
    pub(crate) fn apply(&self, req: &FaultRequest) {
        if req.clear {
            self.clear();
        }
        if let Some(f) = &req.fail_next {
            self.push(
                f.endpoint.as_deref(),
                f.after,
                f.n,
                RuleAction::Fail(f.status),
            );
        }
        if let Some(s) = &req.stall_nth {
            self.push(
                s.endpoint.as_deref(),
                s.k.saturating_sub(1),
                1,
                RuleAction::Stall,
            );
        }
        if let Some(ms) = req.latency_ms {
            self.set_latency(Duration::from_millis(ms));
        }
        if req.read_latency_ms.is_some() || req.write_latency_ms.is_some() {
            let mut s = self.lock();
            if let Some(ms) = req.read_latency_ms {
                s.read_latency = Duration::from_millis(ms);
            }
            if let Some(ms) = req.write_latency_ms {
                s.write_latency = Duration::from_millis(ms);
            }
        }
        if let Some(n) = req.drop_next {
            self.drop_next(n);
        }
        if let Some(n) = req.stall_next {
            self.stall_next(n);
        }
    }
}

/// Body of `POST /__emulator/faults`, e.g.
/// `{"clear":true,"fail_next":{"n":2,"status":503,"endpoint":"graphql.me","after":1},"latency_ms":50}`
/// or `{"read_latency_ms":20,"write_latency_ms":50}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultRequest {
    #[serde(default)]
    clear: bool,
    fail_next: Option<FailRequest>,
    stall_nth: Option<StallRequest>,
    latency_ms: Option<u64>,
    read_latency_ms: Option<u64>,
    write_latency_ms: Option<u64>,
    drop_next: Option<u32>,
    stall_next: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FailRequest {
    n: u32,
    status: u16,
    endpoint: Option<String>,
    /// Matching calls served before the first failure (default 0).
    #[serde(default)]
    after: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StallRequest {
    /// Which matching call (from 1) is never answered.
    k: u32,
    endpoint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_scoped_failures_are_consumed() {
        let f = Faults::default();
        f.fail_next_on("graphql.me", 2, 503);
        assert_eq!(f.take("restli.getAspect").1, Action::Pass);
        assert_eq!(f.take("graphql.me").1, Action::Fail(503));
        assert_eq!(f.take("graphql.me").1, Action::Fail(503));
        assert_eq!(f.take("graphql.me").1, Action::Pass);
        f.drop_next(1);
        assert_eq!(f.take("x").1, Action::Drop);
        f.clear();
        assert_eq!(f.take("x").1, Action::Pass);
    }

    #[test]
    fn the_kth_call_is_hit_and_only_it() {
        let f = Faults::default();
        f.fail_nth(3, 503);
        assert_eq!(f.take("a").1, Action::Pass);
        assert_eq!(f.take("b").1, Action::Pass);
        assert_eq!(f.take("c").1, Action::Fail(503));
        assert_eq!(f.take("d").1, Action::Pass);

        f.fail_nth_on("restli.ingestProposalBatch", 2, 500);
        f.stall_nth_on("restli.ingestProposalBatch", 3);
        assert_eq!(f.take("restli.entitiesV2.batchGet").1, Action::Pass);
        assert_eq!(f.take("restli.ingestProposalBatch").1, Action::Pass);
        assert_eq!(f.take("restli.entitiesV2.batchGet").1, Action::Pass);
        assert_eq!(f.take("restli.ingestProposalBatch").1, Action::Fail(500));
        assert_eq!(f.take("restli.ingestProposalBatch").1, Action::Stall);
        assert_eq!(f.take("restli.ingestProposalBatch").1, Action::Pass);

        // fail_nth(1) is fail_next(1).
        f.fail_nth(1, 429);
        assert_eq!(f.take("x").1, Action::Fail(429));
        assert_eq!(f.take("x").1, Action::Pass);
    }

    #[test]
    fn reads_and_writes_get_their_own_latency() {
        let f = Faults::default();
        let req: FaultRequest =
            serde_json::from_str(r#"{"read_latency_ms":20,"write_latency_ms":50}"#)
                .expect("parses");
        f.apply(&req);
        let ms = |e: &str| f.take(e).0.as_millis();
        assert_eq!(ms("restli.entitiesV2.batchGet"), 20);
        assert_eq!(ms("graphql.searchAcrossEntities"), 20);
        assert_eq!(ms("graphql.me"), 20);
        assert_eq!(ms("restli.ingestProposalBatch"), 50);
        assert_eq!(ms("restli.delete"), 50);
        assert_eq!(ms("graphql.createGroup"), 50);
        // The latency for every call adds to both.
        f.set_latency(Duration::from_millis(5));
        assert_eq!(ms("restli.getAspect"), 25);
        assert_eq!(ms("restli.ingestProposal"), 55);
        f.clear();
        assert_eq!(ms("restli.ingestProposal"), 0);
        f.set_read_write_latency(Duration::from_millis(1), Duration::from_millis(2));
        assert_eq!((ms("restli.getAspect"), ms("graphql.removeGroup")), (1, 2));
    }

    #[test]
    fn control_request_with_after_and_stall_nth() {
        let f = Faults::default();
        let req: FaultRequest = serde_json::from_str(
            r#"{"fail_next":{"n":1,"status":503,"endpoint":"e","after":1},"stall_nth":{"k":2,"endpoint":"s"}}"#,
        )
        .expect("parses");
        f.apply(&req);
        assert_eq!(f.take("e").1, Action::Pass);
        assert_eq!(f.take("e").1, Action::Fail(503));
        assert_eq!(f.take("s").1, Action::Pass);
        assert_eq!(f.take("s").1, Action::Stall);
    }
}
