//! Conditional read-modify-write with bounded retry: batch-read, let the
//! caller build proposals conditioned on the versions read, write them in one
//! `ingestProposalBatch`; on a lost race re-read and re-apply.

use std::time::Duration;

use super::entities::EntityAspects;
use super::error::Error;
use super::restli::Proposal;
use super::transport::Client;

/// What a successful [`Client::read_modify_write`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RmwReport {
    /// Read + write rounds used (1 = no conflict).
    pub attempts: u32,
    /// Proposals written in the final round (0 = nothing to change, no write).
    pub written: usize,
}

impl Client {
    /// Read `aspects` of `urns` (one [`Client::batch_get`]), call `build`
    /// with the entities (index-aligned with `urns`), and write the returned
    /// proposals in one [`Client::ingest`]. `build` should condition each
    /// proposal on what it read ([`Proposal::conditional_on`]). When GMS
    /// reports a precondition failure the whole round is retried, up to
    /// `max_attempts` rounds in total; then [`Error::RetriesExhausted`].
    /// An empty proposal list ends the loop without writing.
    ///
    /// `build` may run several times and must derive everything from its
    /// argument. Its own errors are returned as they are.
    pub async fn read_modify_write<F, E>(
        &self,
        token: &str,
        urns: &[crate::datahub::Urn],
        aspects: &[&str],
        max_attempts: u32,
        mut build: F,
    ) -> Result<RmwReport, E>
    where
        F: FnMut(&[EntityAspects]) -> Result<Vec<Proposal>, E>,
        E: From<Error>,
    {
        let max_attempts = max_attempts.max(1);
        for attempt in 1..=max_attempts {
            let entities = self.batch_get(token, urns, aspects).await?;
            let proposals = build(&entities)?;
            if proposals.is_empty() {
                return Ok(RmwReport {
                    attempts: attempt,
                    written: 0,
                });
            }
            match self.ingest(token, &proposals).await {
                Ok(()) => {
                    return Ok(RmwReport {
                        attempts: attempt,
                        written: proposals.len(),
                    })
                }
                Err(Error::PreconditionFailed(_)) if attempt < max_attempts => {
                    tracing::debug!(attempt, "conditional write lost a race, retrying");
                    self.conflict_pause(attempt).await;
                }
                Err(Error::PreconditionFailed(_)) => {
                    return Err(self.conflict_exhausted(max_attempts).into());
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::RetriesExhausted {
            attempts: max_attempts,
        }
        .into())
    }
}

impl Client {
    /// After a lost conditional write (round `attempt`, 1-based): counts the retry
    /// (observer) and waits [`backoff`] before the caller re-reads and re-applies.
    /// For callers that run their own read-modify-write loop over several batches.
    pub async fn conflict_pause(&self, attempt: u32) {
        self.note_conflict_retry("restli.ingestProposalBatch");
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// Pause before retry `attempt` (1-based): exponential from 10 ms, capped at 320 ms,
/// with full jitter in [50 %, 150 %) so writers that collided on the same aspects
/// (e.g. overlapping group pushes adding the same users) do not collide again in step.
fn backoff(attempt: u32) -> Duration {
    let base = 10u64 << attempt.saturating_sub(1).min(5);
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as u64; // 0..1000 per mille
    Duration::from_micros(base * (500 + jitter))
}

#[cfg(test)]
#[path = "rmw_tests.rs"]
mod tests;
