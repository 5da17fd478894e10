//! A `userName` change that moves the person to another DataHub urn, pure.
//!
//! DataHub urns are immutable, and SSO logs the person in as the urn the naming
//! rule derives from the new name. So a rename (policy `--user-rename move`) moves
//! the person there: the user *moved to* gets the profile (`corpUserInfo`), the
//! status and the `groupMembership` entries of the groups SCIM manages; the user
//! *moved from* is suspended, leaves those groups, loses its `scim.*` keys (it is
//! no longer a SCIM resource) and records `scim.movedTo`. The SCIM id stays (RFC
//! 7643 §3.1): the user moved to carries it in `scim.id` (unless it is the id's own
//! urn, a rename back), and the id's origin urn points at the user moved to
//! (`resolve.rs`).
//!
//! Every proposal of the move is conditioned on the version read and written in
//! ONE atomic `ingestProposalBatch` (at most ten proposals: six for the user moved
//! to, three for the user moved from, one for the origin's pointer; the smallest
//! `--write-batch-size` is ten), so no state between "not moved" and "moved"
//! exists. Only IdP-owned role changes (`--idp-roles`) may go in an earlier batch
//! of their own, when the batch size leaves no room; they are idempotent, and the
//! move itself stays one batch that the IdP's retry completes.

use std::collections::BTreeSet;

use crate::datahub::aspects::{AuditStamp, CorpUserInfo, CorpUserStatus, UserStatus};
use crate::datahub::{EntityAspects, Proposal, Urn};
use crate::provision::errors::Fail;
use crate::provision::record::{user_writes, Extent, UserRecord};

use super::map::{KEY_CREATED, KEY_ID, KEY_MOVED_TO, SCIM_PREFIX};

/// Everything a move is built from.
pub(super) struct Move<'a> {
    /// The SCIM id (unchanged by the move).
    pub id: &'a str,
    /// The urn the id names (`ids::user_urn_of_id`).
    pub origin: &'a Urn,
    /// The user the person is now, and the entity it was read from.
    pub from: (&'a UserRecord, &'a EntityAspects),
    /// The user the new name leads to.
    pub to: (&'a UserRecord, &'a EntityAspects),
    /// The origin, when it is neither `from` nor `to` (its pointer moves on).
    pub origin_rec: Option<(&'a UserRecord, &'a EntityAspects)>,
    /// Groups of `from` that SCIM manages: they move.
    pub managed: &'a [Urn],
    /// The caller, for audit stamps.
    pub actor: &'a Urn,
    /// `origin.externalType` of users we write.
    pub idp: &'a str,
}

/// The proposals of a move, and the user moved to as it will be.
pub(super) struct Moved {
    /// One atomic batch: everything that makes the move.
    pub done: Vec<Proposal>,
    /// The user moved to, after the write.
    pub after: UserRecord,
}

/// The writes moving the person of `m.from` to `m.to`, whose `corpUserInfo` is to
/// become `info` (built from the SCIM body on top of what `m.to` holds).
pub(super) fn move_writes(m: &Move<'_>, mut info: CorpUserInfo) -> Result<Moved, Fail> {
    let (from, from_ent) = m.from;
    let (to, to_ent) = m.to;
    // The resource keeps its id and its creation instant.
    if to.urn == *m.origin {
        info.custom_properties.remove(KEY_ID);
    } else {
        info.custom_properties
            .insert(KEY_ID.to_owned(), m.id.to_owned());
    }
    match from
        .info
        .as_ref()
        .and_then(|i| i.custom_properties.get(KEY_CREATED))
    {
        Some(c) => {
            info.custom_properties
                .insert(KEY_CREATED.to_owned(), c.clone());
        }
        None => {
            info.custom_properties.remove(KEY_CREATED);
        }
    }
    let (mut done, mut after) = user_writes(to, to_ent, info, m.actor, m.idp, Extent::MoveIn)?;

    // Memberships of the groups SCIM manages go with the person.
    let moving: BTreeSet<&Urn> = m.managed.iter().collect();
    let mut joined = to.membership.clone().unwrap_or_default();
    for g in &moving {
        if !joined.groups.contains(g) {
            joined.groups.push((*g).clone());
        }
    }
    if Some(&joined) != to.membership.as_ref() {
        done.push(Proposal::upsert(&to.urn, &joined)?.conditional_on(to_ent));
        after.membership = Some(joined);
    }

    // The user moved from: suspended, out of those groups, no longer a SCIM
    // resource, and pointing at where the person went.
    let mut left = from.info.clone().unwrap_or_default();
    left.custom_properties
        .retain(|k, _| !k.starts_with(SCIM_PREFIX));
    left.custom_properties
        .insert(KEY_MOVED_TO.to_owned(), to.urn.to_string());
    left.active = false;
    done.push(Proposal::upsert(&from.urn, &left)?.conditional_on(from_ent));
    if from.status.as_ref().map(|s| s.status) != Some(UserStatus::Suspended) {
        let st = CorpUserStatus {
            status: UserStatus::Suspended,
            last_modified: AuditStamp::now(m.actor.clone()),
            extra: Default::default(),
        };
        done.push(Proposal::upsert(&from.urn, &st)?.conditional_on(from_ent));
    }
    if let Some(mem) = &from.membership {
        let mut rest = mem.clone();
        rest.groups.retain(|g| !moving.contains(g));
        if rest != *mem {
            done.push(Proposal::upsert(&from.urn, &rest)?.conditional_on(from_ent));
        }
    }

    // The id's origin keeps pointing at the latest urn (one hop to resolve).
    if let Some((o, o_ent)) = m.origin_rec {
        if let Some(oi) = &o.info {
            let mut oi = oi.clone();
            if oi.custom_properties.get(KEY_MOVED_TO).map(String::as_str) != Some(to.urn.as_str()) {
                oi.custom_properties
                    .insert(KEY_MOVED_TO.to_owned(), to.urn.to_string());
                done.push(Proposal::upsert(&o.urn, &oi)?.conditional_on(o_ent));
            }
        }
    }
    Ok(Moved { done, after })
}
