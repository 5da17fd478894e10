//! Which DataHub user a SCIM id names, and the conditional write rounds that start
//! from it.
//!
//! A user id is `base64url(username)` of the urn the user was created under (its
//! *origin*, `ids::user_urn_of_id`). A rename (`rename.rs`) moves the person to
//! another urn and keeps the id (RFC 7643 §3.1): the user moved to carries the id
//! in `customProperties["scim.id"]`, the user moved from carries the new urn in
//! `customProperties["scim.movedTo"]`, and the origin's pointer is kept on the
//! latest urn. So an id resolves from DataHub's primary store alone, on any
//! replica and whatever the search index lags: read the origin; it is the user when
//! it is a SCIM user answering to this id, else follow `scim.movedTo` to a user
//! that does (one more read; the pointer chain is at most [`MAX_HOPS`] long).

use std::collections::BTreeMap;

use crate::datahub::{self, EntityAspects, Proposal, Urn};
use crate::provision::errors::from_datahub;
use crate::provision::record::{GroupRecord, UserRecord, USER_ASPECTS};
use crate::provision::{Ctx, Provisioner};
use crate::scim;

/// Longest `scim.movedTo` chain followed (pointers are rewritten on every rename,
/// so one hop is the rule).
const MAX_HOPS: usize = 3;
/// Most entities one round may read before it must decide (a rename reads the
/// origin, the user moved from, the user moved to, and the owner of a former
/// account it lands on).
const MAX_USERS: usize = 6;

/// What a round has read so far: users (with the entity, for conditional writes),
/// groups, and the hits of a `userName` case-variant search.
#[derive(Default)]
pub(super) struct Round {
    users: BTreeMap<Urn, (UserRecord, EntityAspects)>,
    groups: BTreeMap<Urn, GroupRecord>,
    /// `userName` (as asked) → users whose `userName` equals it ignoring case.
    names: BTreeMap<String, Vec<UserRecord>>,
}

/// What a round's `build` needs before it can decide.
pub(super) enum Need {
    /// These users (`USER_ASPECTS`).
    Users(Vec<Urn>),
    /// These groups (`GROUP_ASPECTS`).
    Groups(Vec<Urn>),
    /// The SCIM users whose `userName` equals this one ignoring case.
    NameHolders(String),
}

/// What a round's `build` decided.
pub(super) enum Step<T> {
    /// Read more, then call `build` again.
    Read(Need),
    /// Write `early` (may take batches of their own), then `done` in one atomic
    /// batch; the round's answer is `T`.
    Write {
        early: Vec<Proposal>,
        done: Vec<Proposal>,
        answer: T,
    },
    /// Nothing to write.
    Answer(T),
    /// What was read is not one moment's state (a user read later shows a write made
    /// after an earlier read, e.g. a concurrent rename already landed): start over,
    /// as after a lost conditional write.
    Stale,
}

/// Where a SCIM id leads within what a round has read.
pub(super) enum Found {
    /// The user the id names.
    User(Urn),
    /// Read this user first.
    Need(Urn),
    /// The id names no SCIM user.
    Missing,
}

impl Round {
    /// A user read in this round.
    pub fn user(&self, urn: &Urn) -> Option<&UserRecord> {
        self.users.get(urn).map(|(r, _)| r)
    }

    /// A user and the entity it was read from.
    pub fn user_entity(&self, urn: &Urn) -> Option<(&UserRecord, &EntityAspects)> {
        self.users.get(urn).map(|(r, e)| (r, e))
    }

    /// A group read in this round.
    pub fn group(&self, urn: &Urn) -> Option<&GroupRecord> {
        self.groups.get(urn)
    }

    /// Whether these groups were read.
    pub fn has_groups(&self, urns: &[Urn]) -> bool {
        urns.iter().all(|u| self.groups.contains_key(u))
    }

    /// The case-variant search's hits for `user_name`, once asked.
    pub fn name_holders(&self, user_name: &str) -> Option<&[UserRecord]> {
        self.names.get(user_name).map(Vec::as_slice)
    }

    /// The user SCIM id `id` (whose origin urn is `origin`) names.
    pub fn find(&self, id: &str, origin: &Urn) -> Found {
        let mut at = origin.clone();
        for _ in 0..=MAX_HOPS {
            let Some(rec) = self.user(&at) else {
                return Found::Need(at);
            };
            if rec.visible() && rec.scim_id() == id {
                return Found::User(at);
            }
            match rec.moved_to() {
                Some(next) if next != at => at = next,
                _ => return Found::Missing,
            }
        }
        Found::Missing
    }
}

impl Provisioner {
    /// The live SCIM user that SCIM id `id` names, read from the primary store (one
    /// read; two for a renamed user), else 404.
    pub(in crate::provision) async fn resolve_user(
        &self,
        ctx: &Ctx,
        id: &str,
    ) -> Result<UserRecord, scim::Error> {
        let origin = super::user_urn(id)?;
        let id = id.to_owned();
        self.user_round(ctx, std::slice::from_ref(&origin), |round| {
            Ok(match round.find(&id, &origin) {
                Found::User(u) => Step::Answer(round.user(&u).cloned()),
                Found::Need(u) => Step::Read(Need::Users(vec![u])),
                Found::Missing => Step::Answer(None),
            })
        })
        .await?
        .ok_or_else(super::not_found)
    }

    /// One conditional read-modify-write that may need to read more than it knew
    /// at the start: read `first`, call `build` with everything read so far; it asks
    /// for more ([`Step::Read`]: only what is new is read, one call each), answers,
    /// or writes. A write is conditioned on the versions read; when it loses a race
    /// the round starts over from `first`, at most `max_write_retries` times.
    ///
    /// `early` proposals and `done` proposals are written in that order: together
    /// in one atomic batch when they fit in `write_batch`, else `early` in batches
    /// of their own first and `done` last, whole, so a round stopped in between
    /// leaves what the IdP's retry finishes (`rename.rs`).
    pub(super) async fn user_round<T, F>(
        &self,
        ctx: &Ctx,
        first: &[Urn],
        mut build: F,
    ) -> Result<T, scim::Error>
    where
        F: FnMut(&Round) -> Result<Step<T>, scim::Error>,
    {
        let attempts = self.cfg.max_write_retries.max(1);
        let mut attempt = 1;
        let mut round = Round::default();
        let mut want: Vec<Urn> = first.to_vec();
        loop {
            if !want.is_empty() {
                want.retain(|u| !round.users.contains_key(u));
                if round.users.len() + want.len() > MAX_USERS {
                    return Err(scim::Error::internal());
                }
                if !want.is_empty() {
                    let ents = self
                        .client
                        .batch_get(&ctx.token, &want, USER_ASPECTS)
                        .await
                        .map_err(from_datahub)?;
                    // Index-aligned with `want`, absent users included (empty).
                    for (urn, ent) in want.iter().zip(ents) {
                        let rec = UserRecord::from_entity(&ent)?;
                        round.users.insert(urn.clone(), (rec, ent));
                    }
                }
                want.clear();
            }
            match build(&round)? {
                Step::Read(Need::Users(urns)) => {
                    if urns.iter().all(|u| round.users.contains_key(u)) {
                        return Err(scim::Error::internal());
                    }
                    want = urns;
                }
                Step::Read(Need::Groups(urns)) => {
                    let fresh: Vec<Urn> = urns
                        .into_iter()
                        .filter(|u| !round.groups.contains_key(u))
                        .collect();
                    if fresh.is_empty() {
                        return Err(scim::Error::internal());
                    }
                    for g in self.hydrate_groups(ctx, &fresh).await? {
                        round.groups.insert(g.urn.clone(), g);
                    }
                    // Groups a read could not find still count as read.
                    for u in fresh {
                        round
                            .groups
                            .entry(u.clone())
                            .or_insert_with(|| GroupRecord::absent(u));
                    }
                }
                Step::Read(Need::NameHolders(name)) => {
                    if round.names.contains_key(&name) {
                        return Err(scim::Error::internal());
                    }
                    let urns = self.user_name_hits(ctx, &name).await?;
                    let recs = self.hydrate_users(ctx, &urns).await?;
                    round.names.insert(name, recs);
                }
                Step::Answer(t) => return Ok(t),
                Step::Stale if attempt < attempts => {
                    tracing::debug!(attempt, "user read raced a write, reading again");
                    self.client.conflict_pause(attempt).await;
                    attempt += 1;
                    round = Round::default();
                    want = first.to_vec();
                }
                Step::Stale => {
                    return Err(from_datahub(self.client.conflict_exhausted(attempts)));
                }
                Step::Write {
                    early,
                    done,
                    answer,
                } => match self.ingest_in_order(ctx, early, done).await {
                    Ok(()) => return Ok(answer),
                    Err(datahub::Error::PreconditionFailed(_)) if attempt < attempts => {
                        tracing::debug!(attempt, "user write lost a race, retrying");
                        self.client.conflict_pause(attempt).await;
                        attempt += 1;
                        round = Round::default();
                        want = first.to_vec();
                    }
                    Err(datahub::Error::PreconditionFailed(_)) => {
                        return Err(from_datahub(self.client.conflict_exhausted(attempts)));
                    }
                    Err(e) => return Err(from_datahub(e)),
                },
            }
        }
    }

    /// `early` then `done`, in the order [`Self::user_round`] describes.
    async fn ingest_in_order(
        &self,
        ctx: &Ctx,
        early: Vec<Proposal>,
        done: Vec<Proposal>,
    ) -> Result<(), datahub::Error> {
        let batches = crate::provision::membership::ordered_batches(
            self.cfg.write_batch,
            Vec::new(),
            early,
            done,
        );
        for batch in &batches {
            self.client.ingest(&ctx.token, batch).await?;
        }
        Ok(())
    }
}
