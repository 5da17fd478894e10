//! Fault switches, flipped at run time by tests (through [`Faults`]) or over
//! `POST /__emulator/faults`: fail the next N calls with a status (optionally only one
//! endpoint), add latency, drop the connection without a response, or never answer.

use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
struct FailRule {
    remaining: u32,
    status: u16,
    endpoint: Option<String>,
}

#[derive(Debug, Default)]
struct FaultState {
    fail: Vec<FailRule>,
    latency: Duration,
    drop: u32,
    stall: u32,
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

    /// The next `n` calls (any endpoint) answer `status`.
    pub fn fail_next(&self, n: u32, status: u16) {
        self.lock().fail.push(FailRule {
            remaining: n,
            status,
            endpoint: None,
        });
    }

    /// The next `n` calls to `endpoint` (e.g. `restli.ingestProposalBatch`, `graphql.me`)
    /// answer `status`.
    pub fn fail_next_on(&self, endpoint: &str, n: u32, status: u16) {
        self.lock().fail.push(FailRule {
            remaining: n,
            status,
            endpoint: Some(endpoint.to_string()),
        });
    }

    /// Delay every answer by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
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

    /// Decides the fate of one call (consumes one unit of the matching fault).
    pub(crate) fn take(&self, endpoint: &str) -> (Duration, Action) {
        let mut s = self.lock();
        let latency = s.latency;
        if s.stall > 0 {
            s.stall -= 1;
            return (latency, Action::Stall);
        }
        if s.drop > 0 {
            s.drop -= 1;
            return (latency, Action::Drop);
        }
        let hit = s
            .fail
            .iter_mut()
            .find(|r| r.remaining > 0 && r.endpoint.as_deref().is_none_or(|e| e == endpoint));
        let action = match hit {
            Some(r) => {
                r.remaining -= 1;
                Action::Fail(r.status)
            }
            None => Action::Pass,
        };
        s.fail.retain(|r| r.remaining > 0);
        (latency, action)
    }

    /// Applies a control request (`POST /__emulator/faults`).
    pub(crate) fn apply(&self, req: &FaultRequest) {
        if req.clear {
            self.clear();
        }
        if let Some(f) = &req.fail_next {
            match &f.endpoint {
                Some(e) => self.fail_next_on(e, f.n, f.status),
                None => self.fail_next(f.n, f.status),
            }
        }
        if let Some(ms) = req.latency_ms {
            self.set_latency(Duration::from_millis(ms));
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
/// `{"clear":true,"fail_next":{"n":2,"status":503,"endpoint":"graphql.me"},"latency_ms":50}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultRequest {
    #[serde(default)]
    clear: bool,
    fail_next: Option<FailRequest>,
    latency_ms: Option<u64>,
    drop_next: Option<u32>,
    stall_next: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FailRequest {
    n: u32,
    status: u16,
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
}
