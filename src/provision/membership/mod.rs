//! Group membership writes: members live on each user's `groupMembership.groups`.
//!
//! Adding or removing k members costs a constant number of GMS round trips per
//! 100 members: one batch read of the users' `groupMembership` with versions, and
//! one `ingestProposalBatch` holding every changed user (each conditioned with
//! `If-Version-Match`) plus the group's own aspects. When a write loses a race the
//! whole round is re-read and re-applied, at most `max_write_retries` times.
//!
//! A change of more than `write_batch` proposals (`--write-batch-size`, default
//! 1 000) cannot be one atomic batch, so
//! it is written in an order that a retry can always finish (see
//! [`Provisioner::write_membership`]): a new group is stored soft-deleted first, the
//! members are linked or unlinked next, and the group's mark of completion (alive,
//! removed, renamed, ours) comes last.
//!
//! Replacing all members reads the current list from the relationship index
//! (paged), corrects it with this replica's recent writes, and applies the
//! difference only.

pub mod delta;
mod read;

use std::collections::{BTreeMap, BTreeSet};

use crate::datahub::{self, EntityAspects, Proposal, Urn};
use crate::provision::errors::{from_datahub, Fail};
use crate::provision::record::{GroupRecord, UserRecord, GROUP_ASPECTS, USER_ASPECTS};
use crate::provision::users::map::moved_to;
use crate::provision::{ids, Ctx, Provisioner};
use crate::scim;
use delta::{Delta, MemberOp};
pub(in crate::provision) use read::{id_urns, MemberInfo, Members};

/// Smallest `write_batch` honoured: room for a group's own writes (at most four
/// proposals) and some members in every batch, and for a user rename
/// (`users::rename`: at most ten proposals) in one.
pub const MIN_WRITE_BATCH: usize = 10;

/// Member ids (SCIM user ids) of one operation → user urns; an id that cannot be a
/// user of ours is the client's fault.
pub(in crate::provision) fn member_urns(member_ids: &[String]) -> Result<Vec<String>, scim::Error> {
    member_ids
        .iter()
        .map(|id| {
            ids::decode(id)
                .filter(|k| crate::provision::naming::valid_key(k))
                .map(|k| ids::user_urn(&k))
                .ok_or_else(|| {
                    scim::Error::invalid_value(format!("member '{id}' is not the id of a user"))
                })
        })
        .collect()
}

/// A SCIM plan's member operations as urns.
pub(in crate::provision) fn member_ops(
    ops: &[scim::MemberOp],
) -> Result<Vec<MemberOp>, scim::Error> {
    ops.iter()
        .map(|op| {
            Ok(match op {
                scim::MemberOp::Add(v) => MemberOp::Add(member_urns(v)?),
                scim::MemberOp::Remove(v) => MemberOp::Remove(member_urns(v)?),
                scim::MemberOp::RemoveAll => MemberOp::RemoveAll,
                scim::MemberOp::Replace(v) => MemberOp::Replace(member_urns(v)?),
            })
        })
        .collect()
}

/// Whether a user answers to the SCIM id its own urn gives: a live SCIM user that no
/// rename moved here from another id.
fn answers_own_id(rec: &UserRecord) -> bool {
    rec.visible() && rec.scim_id() == ids::user_id(rec.username())
}

/// What a membership write did (for the cache overlay and the response).
#[derive(Debug, Default)]
pub(in crate::provision) struct Applied {
    /// The group as it is after the write.
    pub group: Option<GroupRecord>,
    /// The group as the (last) round read it, before writing.
    pub before: Option<GroupRecord>,
    /// Users whose `groupMembership` was written.
    pub member_writes: usize,
    /// The users added (or found already there), by actual urn, as members show.
    pub added: Members,
}

/// The group's own proposals in one membership round.
#[derive(Debug)]
pub(in crate::provision) struct GroupWrites {
    /// What marks the operation as finished (a created group going live, a deleted
    /// one marked removed, a rename, ownership marks): written together with the
    /// membership changes, or after all of them when they take several batches.
    pub done: Vec<Proposal>,
    /// Written first, only when the round takes several batches: a new group is
    /// stored soft-deleted until `done` brings it to life, so nothing half-made is
    /// ever visible and a retried create finds it and finishes it.
    pub pending: Vec<Proposal>,
    /// The group as it will be after the round.
    pub after: GroupRecord,
}

impl GroupWrites {
    /// Only `done` writes (no pending state).
    pub fn done(done: Vec<Proposal>, after: GroupRecord) -> Self {
        GroupWrites {
            done,
            pending: Vec::new(),
            after,
        }
    }
}

/// Why an ordered write stopped.
enum Written {
    /// A conditional write lost a race: re-read and re-apply.
    Precondition,
    /// Anything else, as the IdP will see it.
    Failed(scim::Error),
}

impl From<datahub::Error> for Written {
    fn from(e: datahub::Error) -> Self {
        match e {
            datahub::Error::PreconditionFailed(_) => Written::Precondition,
            e => Written::Failed(from_datahub(e)),
        }
    }
}

/// The batches of one round, in write order: `pending` and the membership changes
/// `size` at a time, and `done` whole in the last batch. Everything in one batch
/// (without `pending`) when it fits.
pub(in crate::provision) fn ordered_batches(
    size: usize,
    pending: Vec<Proposal>,
    members: Vec<Proposal>,
    done: Vec<Proposal>,
) -> Vec<Vec<Proposal>> {
    let size = size.max(MIN_WRITE_BATCH);
    if members.len() + done.len() <= size {
        let mut one = done;
        one.extend(members);
        return if one.is_empty() {
            Vec::new()
        } else {
            vec![one]
        };
    }
    let mut batches: Vec<Vec<Proposal>> = Vec::new();
    for p in pending.into_iter().chain(members) {
        match batches.last_mut() {
            Some(b) if b.len() < size => b.push(p),
            _ => batches.push(vec![p]),
        }
    }
    if !done.is_empty() {
        match batches.last_mut() {
            Some(b) if b.len() + done.len() <= size => b.extend(done),
            _ => batches.push(done),
        }
    }
    batches
}

impl Provisioner {
    /// One conditional round: read the group (it must pass `check`), read the users
    /// touched, then write the membership changes and the group's own writes
    /// (`group_writes`, see [`GroupWrites`]). Users are given as the urns their SCIM
    /// ids name (`member_urns`); the id of a renamed user names its former urn, which
    /// forwards (`scim.movedTo`) to the user it is now: that user is the one written.
    /// `to_add` users must be SCIM users (else 400); `to_remove` users that do not
    /// exist or are not members are skipped.
    ///
    /// Up to `write_batch` proposals are one atomic `ingestProposalBatch`. A larger
    /// change is written in order, so that wherever it stops (a failed batch, a killed
    /// process) a retry of the same SCIM request completes it:
    /// [`GroupWrites::pending`] first, the membership changes next, and
    /// [`GroupWrites::done`] — the mark of a finished operation — last, in the last
    /// batch, conditioned on a fresh read of the group (one extra read; `check` must
    /// still pass on it).
    pub(in crate::provision) async fn write_membership<C, W>(
        &self,
        ctx: &Ctx,
        group: &Urn,
        to_add: &[String],
        to_remove: &[String],
        mut check: C,
        mut group_writes: W,
    ) -> Result<Applied, scim::Error>
    where
        C: FnMut(&GroupRecord) -> Result<(), scim::Error>,
        W: FnMut(&GroupRecord, &EntityAspects) -> Result<GroupWrites, Fail>,
    {
        let users: Vec<Urn> = to_add
            .iter()
            .chain(to_remove.iter())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .map(|u| {
                u.parse::<Urn>()
                    .map_err(|_| scim::Error::invalid_value("member is not a user"))
            })
            .collect::<Result<_, _>>()?;
        let adds: BTreeSet<&str> = to_add.iter().map(String::as_str).collect();
        let attempts = self.cfg.max_write_retries.max(1);
        for attempt in 1..=attempts {
            let gents = self
                .client
                .batch_get(&ctx.token, std::slice::from_ref(group), GROUP_ASPECTS)
                .await
                .map_err(from_datahub)?;
            let gent = gents.first().ok_or_else(scim::Error::internal)?;
            let grec = GroupRecord::from_entity(gent)?;
            check(&grec)?;
            let mut planned = group_writes(&grec, gent)?;
            let uents = if users.is_empty() {
                Vec::new()
            } else {
                self.client
                    .batch_get(&ctx.token, &users, USER_ASPECTS)
                    .await
                    .map_err(from_datahub)?
            };
            let first = uents
                .iter()
                .map(UserRecord::from_entity)
                .collect::<Result<Vec<_>, _>>()?;
            // A member named by the id of a renamed user is the user the rename moved
            // to: one more read, only when there is such a member.
            let follow: BTreeSet<Urn> = first
                .iter()
                .filter(|r| !adds.contains(r.urn.as_str()) || !answers_own_id(r))
                .filter_map(|r| moved_to(r.info.as_ref()))
                .collect();
            let fents = if follow.is_empty() {
                Vec::new()
            } else {
                let urns: Vec<Urn> = follow.into_iter().collect();
                self.client
                    .batch_get(&ctx.token, &urns, USER_ASPECTS)
                    .await
                    .map_err(from_datahub)?
            };
            let second = fents
                .iter()
                .map(UserRecord::from_entity)
                .collect::<Result<Vec<_>, _>>()?;
            // Actual urn → (record, entity read, add?).
            let mut plan: BTreeMap<String, (&UserRecord, &EntityAspects, bool)> = BTreeMap::new();
            for (rec, ent) in first.iter().zip(&uents) {
                let add = adds.contains(rec.urn.as_str());
                let id = ids::user_id(rec.username());
                let via = moved_to(rec.info.as_ref()).and_then(|m| {
                    second
                        .iter()
                        .zip(&fents)
                        .find(|(r, _)| r.urn == m && r.exists && r.scim_id() == id)
                });
                if add {
                    let target = if answers_own_id(rec) {
                        Some((rec, ent))
                    } else {
                        via.filter(|(r, _)| r.visible())
                    };
                    let (r, e) = target.ok_or_else(|| {
                        scim::Error::invalid_value(format!(
                            "member '{id}' names no user of this service"
                        ))
                    })?;
                    plan.insert(r.urn.to_string(), (r, e, true));
                } else {
                    for (r, e) in std::iter::once((rec, ent)).chain(via) {
                        if r.exists {
                            plan.entry(r.urn.to_string()).or_insert((r, e, false));
                        }
                    }
                }
            }
            let mut members = Vec::new();
            let mut added = Members::new();
            let mut removed = Vec::new();
            for (urn, (rec, ent, add)) in &plan {
                let mut m = rec.membership.clone().unwrap_or_default();
                let had = m.groups.contains(group);
                if *add {
                    added.insert(urn.clone(), MemberInfo::of_record(rec));
                } else {
                    removed.push(urn.clone());
                }
                if *add && !had {
                    m.groups.push(group.clone());
                } else if !add && had {
                    m.groups.retain(|g| g != group);
                } else {
                    continue;
                }
                members.push(
                    Proposal::upsert(&rec.urn, &m)
                        .map_err(from_datahub)?
                        .conditional_on(ent),
                );
            }
            let member_writes = members.len();
            let only_guards = |v: &[Proposal]| v.iter().all(Proposal::is_guard);
            if members.is_empty() && only_guards(&planned.done) && only_guards(&planned.pending) {
                // Guards condition a write; a round that writes nothing sends nothing.
                planned.done.clear();
                planned.pending.clear();
            }
            match self
                .ingest_ordered(
                    ctx,
                    group,
                    planned.pending,
                    members,
                    planned.done,
                    &mut check,
                )
                .await
            {
                Ok(()) => {
                    let adds: Vec<String> = added.keys().cloned().collect();
                    self.cache
                        .record_members(group.as_str(), &adds, &removed)
                        .await;
                    return Ok(Applied {
                        group: Some(planned.after),
                        before: Some(grec),
                        member_writes,
                        added,
                    });
                }
                Err(Written::Precondition) if attempt < attempts => {
                    tracing::debug!(attempt, "membership write lost a race, retrying");
                    self.client.conflict_pause(attempt).await;
                }
                Err(Written::Precondition) => break,
                Err(Written::Failed(e)) => return Err(e),
            }
        }
        Err(from_datahub(self.client.conflict_exhausted(attempts)))
    }

    /// Writes one round in the order [`Self::write_membership`] describes: one batch
    /// when everything fits, else `pending` + members in batches of `write_batch`,
    /// a re-read of the group, and the last batch holding every `done` proposal.
    async fn ingest_ordered<C>(
        &self,
        ctx: &Ctx,
        group: &Urn,
        pending: Vec<Proposal>,
        members: Vec<Proposal>,
        done: Vec<Proposal>,
        check: &mut C,
    ) -> Result<(), Written>
    where
        C: FnMut(&GroupRecord) -> Result<(), scim::Error>,
    {
        let batches = ordered_batches(self.cfg.write_batch, pending, members, done);
        let Some((last, earlier)) = batches.split_last() else {
            return Ok(());
        };
        for batch in earlier {
            self.client.ingest(&ctx.token, batch).await?;
        }
        let mut last = last.clone();
        if !earlier.is_empty() {
            // The mark of completion is conditioned on the group as it is now, after
            // the earlier batches (ours) and whatever else happened meanwhile.
            let gents = self
                .client
                .batch_get(&ctx.token, std::slice::from_ref(group), GROUP_ASPECTS)
                .await?;
            let gent = gents
                .first()
                .ok_or_else(|| Written::Failed(scim::Error::internal()))?;
            let grec = GroupRecord::from_entity(gent).map_err(|f| Written::Failed(f.0))?;
            check(&grec).map_err(Written::Failed)?;
            // A guard restates the group's aspect as first read: restate it as read now
            // instead (re-conditioning the old value would write it back over a change).
            let mut regrouped = Vec::with_capacity(last.len());
            for p in last {
                if p.urn() == group && p.is_guard() {
                    if let Some(raw) = gent.raw(p.aspect_name()) {
                        regrouped.push(Proposal::guard(
                            group,
                            p.aspect_name(),
                            &*raw.value,
                            gent.write_precondition(p.aspect_name()),
                        )?);
                    }
                } else if p.urn() == group && p.header(datahub::IF_VERSION_MATCH).is_some() {
                    regrouped.push(p.conditional_on(gent));
                } else {
                    regrouped.push(p);
                }
            }
            last = regrouped;
        }
        self.client.ingest(&ctx.token, &last).await?;
        Ok(())
    }

    /// Resolves a delta (reading current members only when it is absolute): the
    /// urns to add and to remove, in the space of the urns member ids name (a renamed
    /// member is addressed by the id it kept), and the current members when read.
    pub(in crate::provision) async fn resolve_delta(
        &self,
        ctx: &Ctx,
        group: &Urn,
        delta: &Delta,
    ) -> Result<(Vec<String>, Vec<String>, Option<Members>), scim::Error> {
        if !delta.needs_current() {
            let (add, remove) = delta.resolve(&BTreeSet::new());
            return Ok((add, remove, None));
        }
        let current = self.current_members(ctx, group).await?;
        let (add, remove) = delta.resolve(&id_urns(&current));
        Ok((add, remove, Some(current)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datahub::aspects::Status;

    fn props(n: usize, tag: &str) -> Vec<Proposal> {
        (0..n)
            .map(|i| {
                Proposal::upsert(
                    &Urn::corp_user(&format!("{tag}{i}")),
                    &Status::removed(false),
                )
                .expect("proposal")
            })
            .collect()
    }

    fn shape(b: &[Vec<Proposal>]) -> Vec<(usize, String, String)> {
        b.iter()
            .map(|b| {
                let key = |p: &Proposal| p.urn().key().chars().next().unwrap_or('-').to_string();
                (
                    b.len(),
                    b.first().map(key).unwrap_or_default(),
                    b.last().map(key).unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn one_batch_when_it_fits_else_pending_first_and_done_last() {
        // Fits: done and members together, pending dropped.
        let b = ordered_batches(10, props(4, "p"), props(6, "m"), props(4, "d"));
        assert_eq!(shape(&b), vec![(10, "d".into(), "m".into())]);
        // 25 members: [4 pending + 6], [10], [9 + … no room for 4 done], [4 done].
        let b = ordered_batches(10, props(4, "p"), props(25, "m"), props(4, "d"));
        assert_eq!(
            shape(&b),
            vec![
                (10, "p".into(), "m".into()),
                (10, "m".into(), "m".into()),
                (9, "m".into(), "m".into()),
                (4, "d".into(), "d".into())
            ]
        );
        // done rides with the last members when there is room.
        let b = ordered_batches(10, Vec::new(), props(15, "m"), props(1, "d"));
        assert_eq!(
            shape(&b),
            vec![(10, "m".into(), "m".into()), (6, "m".into(), "d".into())]
        );
        // No done, nothing to write.
        assert!(ordered_batches(10, Vec::new(), Vec::new(), Vec::new()).is_empty());
        let b = ordered_batches(10, Vec::new(), props(20, "m"), Vec::new());
        assert_eq!(b.len(), 2);
        // A size below the minimum is raised to it.
        assert_eq!(
            ordered_batches(1, Vec::new(), props(10, "m"), Vec::new()).len(),
            1
        );
    }
}
