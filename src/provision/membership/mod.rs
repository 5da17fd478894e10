//! Group membership writes: members live on each user's `groupMembership.groups`.
//!
//! Adding or removing k members costs a constant number of GMS round trips per
//! 100 members: one batch read of the users' `groupMembership` with versions, and
//! one `ingestProposalBatch` holding every changed user (each conditioned with
//! `If-Version-Match`) plus the group's own aspects. When a write loses a race the
//! whole round is re-read and re-applied, at most `max_write_retries` times.
//!
//! Replacing all members reads the current list from the relationship index
//! (paged), corrects it with this replica's recent writes, and applies the
//! difference only.

pub mod delta;

use std::collections::BTreeSet;

use crate::datahub::{self, EntityAspects, Proposal, Urn};
use crate::provision::errors::{from_datahub, Fail};
use crate::provision::record::{GroupRecord, UserRecord, GROUP_ASPECTS, USER_ASPECTS};
use crate::provision::{ids, Ctx, Provisioner};
use crate::scim;
use delta::{overlay, Delta, MemberOp};

/// Edges read per relationships page.
const MEMBERS_PAGE: u32 = 1000;
/// Proposals per `ingestProposalBatch` when a change is very large (a 10 000-member
/// push is split; each chunk is conditional, and a retry re-applies idempotently).
const WRITE_CHUNK: usize = 1000;
/// The edge written by `groupMembership`.
const EDGE: &str = "IsMemberOfGroup";

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

/// What a membership write did (for the cache overlay and the response).
#[derive(Debug, Default)]
pub(in crate::provision) struct Applied {
    /// The group as it is after the write.
    pub group: Option<GroupRecord>,
}

impl Provisioner {
    /// Current members of `group`: the relationship index (paged, `IsMemberOfGroup`
    /// only: native memberships are DataHub's), corrected for the users this replica
    /// wrote lately by reading their `groupMembership` from the primary store.
    pub(in crate::provision) async fn current_members(
        &self,
        ctx: &Ctx,
        group: &Urn,
    ) -> Result<BTreeSet<String>, scim::Error> {
        let index = self.indexed_members(ctx, group).await?;
        // Users this replica wrote lately may not be in the index yet (or may still be
        // in it after a removal). The cache only says *whom* to check: their
        // `groupMembership` is read from the primary store, which decides.
        // Where the index already agrees with what we wrote (the usual case: writes
        // are sync-indexed) there is nothing to check.
        let index: BTreeSet<String> = index.into_iter().collect();
        let recent = self.cache.recent_members(group.as_str()).await;
        let disputed: Vec<Urn> = recent
            .iter()
            .filter(|(u, added)| index.contains(u) != *added)
            .filter_map(|(u, _)| u.parse().ok())
            .collect();
        if disputed.is_empty() {
            return Ok(index);
        }
        let urns = disputed;
        let ents = self
            .client
            .batch_get(&ctx.token, &urns, USER_ASPECTS)
            .await
            .map_err(from_datahub)?;
        let mut truth = Vec::with_capacity(ents.len());
        for ent in &ents {
            let rec = UserRecord::from_entity(ent)?;
            let member = rec.live() && rec.groups().contains(group);
            truth.push((rec.urn.to_string(), member));
        }
        Ok(overlay(index, &truth))
    }

    /// [`Self::current_members`] of several groups, in input order, for list pages:
    /// the first page of members of up to [`datahub::MEMBERS_MANY_MAX`] groups in ONE
    /// aliased GraphQL request, more pages only for groups with more than
    /// [`MEMBERS_PAGE`] members, and one batch read for every user this replica
    /// wrote lately where the index disagrees (across all the groups).
    pub(in crate::provision) async fn current_members_many(
        &self,
        ctx: &Ctx,
        groups: &[Urn],
    ) -> Result<Vec<BTreeSet<String>>, scim::Error> {
        let mut index: Vec<BTreeSet<String>> = Vec::with_capacity(groups.len());
        for chunk in groups.chunks(datahub::MEMBERS_MANY_MAX) {
            let pages = self
                .client
                .group_members_many(&ctx.token, chunk, 0, MEMBERS_PAGE)
                .await
                .map_err(from_datahub)?;
            for (group, page) in chunk.iter().zip(pages) {
                let n = page.count.max(page.related.len() as u32);
                let more = n > 0 && n < page.total;
                let mut set: BTreeSet<String> = page
                    .related
                    .into_iter()
                    .filter(|r| r.relationship == EDGE && r.urn.is_corp_user())
                    .map(|r| r.urn.to_string())
                    .collect();
                if more {
                    set.extend(self.indexed_members_from(ctx, group, n).await?);
                }
                index.push(set);
            }
        }
        let mut recent = Vec::with_capacity(groups.len());
        let mut disputed: BTreeSet<String> = BTreeSet::new();
        for (group, idx) in groups.iter().zip(&index) {
            let r = self.cache.recent_members(group.as_str()).await;
            disputed.extend(
                r.iter()
                    .filter(|(u, added)| idx.contains(u) != *added)
                    .map(|(u, _)| u.clone()),
            );
            recent.push(r);
        }
        if disputed.is_empty() {
            return Ok(index);
        }
        let urns: Vec<Urn> = disputed.iter().filter_map(|u| u.parse().ok()).collect();
        let ents = self.read_many(ctx, &urns, USER_ASPECTS).await?;
        let mut users = Vec::with_capacity(ents.len());
        for ent in &ents {
            users.push(UserRecord::from_entity(ent)?);
        }
        Ok(groups
            .iter()
            .zip(index)
            .zip(recent)
            .map(|((group, idx), r)| {
                let truth: Vec<(String, bool)> = r
                    .iter()
                    .filter(|(u, added)| idx.contains(u) != *added)
                    .filter_map(|(u, _)| {
                        let rec = users.iter().find(|x| x.urn.as_str() == u)?;
                        Some((u.clone(), rec.live() && rec.groups().contains(group)))
                    })
                    .collect();
                overlay(idx, &truth)
            })
            .collect())
    }

    /// Everyone who may be a member: the index plus every user this replica touched
    /// lately. A superset, for callers that re-read each user anyway (group delete).
    pub(in crate::provision) async fn member_candidates(
        &self,
        ctx: &Ctx,
        group: &Urn,
    ) -> Result<BTreeSet<String>, scim::Error> {
        let mut all: BTreeSet<String> = self
            .indexed_members(ctx, group)
            .await?
            .into_iter()
            .collect();
        all.extend(
            self.cache
                .recent_members(group.as_str())
                .await
                .into_iter()
                .map(|(u, _)| u),
        );
        Ok(all)
    }

    /// Member urns as the relationship index sees them, every page.
    async fn indexed_members(&self, ctx: &Ctx, group: &Urn) -> Result<Vec<String>, scim::Error> {
        self.indexed_members_from(ctx, group, 0).await
    }

    /// Member edges of `group` from offset `start` on, paged.
    async fn indexed_members_from(
        &self,
        ctx: &Ctx,
        group: &Urn,
        mut start: u32,
    ) -> Result<Vec<String>, scim::Error> {
        let mut index = Vec::new();
        loop {
            let page = self
                .client
                .group_members(&ctx.token, group, start, MEMBERS_PAGE)
                .await
                .map_err(from_datahub)?;
            let n = page.count.max(page.related.len() as u32);
            index.extend(
                page.related
                    .into_iter()
                    .filter(|r| r.relationship == EDGE && r.urn.is_corp_user())
                    .map(|r| r.urn.to_string()),
            );
            start += n;
            if n == 0 || start >= page.total {
                break;
            }
        }
        Ok(index)
    }

    /// One conditional round trip set: read the group (must pass `check`), read the
    /// users touched, write `group_writes(group)` and the membership changes
    /// together. `to_add` users must exist (else 400); `to_remove` users that do not
    /// exist or are not members are skipped.
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
        W: FnMut(&GroupRecord, &EntityAspects) -> Result<(Vec<Proposal>, GroupRecord), Fail>,
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
            let (mut writes, after) = group_writes(&grec, gent)?;
            let uents = if users.is_empty() {
                Vec::new()
            } else {
                self.client
                    .batch_get(&ctx.token, &users, USER_ASPECTS)
                    .await
                    .map_err(from_datahub)?
            };
            for ent in &uents {
                let rec = UserRecord::from_entity(ent)?;
                let add = adds.contains(rec.urn.as_str());
                if add && !rec.visible() {
                    return Err(scim::Error::invalid_value(format!(
                        "member '{}' names no user of this service",
                        ids::user_id(rec.username())
                    )));
                }
                if !rec.exists {
                    continue; // never create a user by writing its membership
                }
                let mut m = rec.membership.clone().unwrap_or_default();
                let had = m.groups.contains(group);
                if add && !had {
                    m.groups.push(group.clone());
                } else if !add && had {
                    m.groups.retain(|g| g != group);
                } else {
                    continue;
                }
                writes.push(
                    Proposal::upsert(&rec.urn, &m)
                        .map_err(from_datahub)?
                        .conditional_on(ent),
                );
            }
            match self.ingest_chunked(ctx, &writes).await {
                Ok(()) => {
                    self.cache
                        .record_members(group.as_str(), to_add, to_remove)
                        .await;
                    return Ok(Applied { group: Some(after) });
                }
                Err(datahub::Error::PreconditionFailed(_)) if attempt < attempts => {
                    tracing::debug!(attempt, "membership write lost a race, retrying");
                    self.client.conflict_pause(attempt).await;
                }
                Err(datahub::Error::PreconditionFailed(_)) => break,
                Err(e) => return Err(from_datahub(e)),
            }
        }
        Err(from_datahub(self.client.conflict_exhausted(attempts)))
    }

    /// One `ingestProposalBatch`, or several for very large changes.
    async fn ingest_chunked(&self, ctx: &Ctx, writes: &[Proposal]) -> Result<(), datahub::Error> {
        for chunk in writes.chunks(WRITE_CHUNK) {
            self.client.ingest(&ctx.token, chunk).await?;
        }
        Ok(())
    }

    /// Resolves a delta (reading current members only when it is absolute).
    pub(in crate::provision) async fn resolve_delta(
        &self,
        ctx: &Ctx,
        group: &Urn,
        delta: &Delta,
    ) -> Result<(Vec<String>, Vec<String>), scim::Error> {
        let current = if delta.needs_current() {
            self.current_members(ctx, group).await?
        } else {
            BTreeSet::new()
        };
        Ok(delta.resolve(&current))
    }
}
