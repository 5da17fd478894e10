//! `/Groups`: create (or adopt/revive), read, replace, patch, delete.
//!
//! The urn comes from the displayName at creation (`naming::group_name_for`) and
//! never changes; a rename writes `corpGroupInfo.displayName` only. Members are
//! written on the users (`membership.rs`), in the same batch as the group's own
//! aspects.

pub(in crate::provision) mod map;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::datahub::aspects::{CorpGroupKey, Status};
use crate::datahub::{EntityAspects, Proposal, Urn};
use crate::provision::errors::{from_datahub, Fail};
use crate::provision::membership::delta::{Delta, MemberOp};
use crate::provision::membership::{member_urns, GroupWrites, Members};
use crate::provision::record::GroupRecord;
use crate::provision::users::{actor_urn, not_found, require_object};
use crate::provision::version::{self, guarded, version_of};
use crate::provision::{cache::Kind, ids, naming, Ctx, DeletePolicy, Provisioner};
use crate::scim::json::get_ci;
use crate::scim::{self, ListQuery, ResourceKind};
use map::{classify, is_owned, Existing, GroupView};

impl Provisioner {
    /// `POST /Groups`. A new name creates; a name held by an OIDC-JIT or ingested
    /// group adopts it; a soft-deleted one is revived clean (users still linked to it
    /// and not in the body are unlinked in the same round); a DataHub-native group or
    /// a live group we already own is `409 uniqueness`. Members in the body are added
    /// in the same batch. Two GMS calls (three with members).
    ///
    /// Members beyond one batch (see `membership`): a new group is first written
    /// soft-deleted, the members are linked, and the group goes live in the last
    /// batch. A create stopped half-way (a failed batch, a killed process) leaves a
    /// soft-deleted group that no GET or list shows, and the IdP's retry of the same
    /// POST revives it and finishes the linking; an adopted group becomes ours only in
    /// the last batch, so a retry adopts it again.
    pub async fn create_group(&self, ctx: &Ctx, body: Value) -> Result<Value, scim::Error> {
        require_object(&body)?;
        let sent = scim::Group::from_json(&body)?;
        let display = sent.display_name.clone();
        let urn = Urn::corp_group(&naming::group_name_for(&display)?);
        let adds = member_urns(&member_ids(&sent))?;
        let actor = actor_urn(ctx);
        let idp = self.cfg.idp_name.clone();
        // Users to unlink when the group turns out to be soft-deleted: only then is
        // the index asked (and the round started again with them).
        let mut stale: Option<Vec<String>> = None;
        let (applied, found) = loop {
            let mut found = Existing::Absent;
            let mut needs_stale = false;
            let removals = stale.clone().unwrap_or_default();
            let known_stale = stale.is_some();
            let result = self
                .write_membership(ctx, &urn, &adds, &removals, |_| Ok(()), |g, ent| {
                    found = classify(g.info.as_ref(), g.origin.as_ref(), g.soft.as_ref(), &idp);
                    match found {
                        Existing::Native => Err(Fail(scim::Error::uniqueness(
                            "a DataHub-native group with this displayName exists; SCIM does not take it over on create. \
                             Link the IdP group to it instead (Okta: Push Groups → Link Group), or rename one of them",
                        ))),
                        Existing::Owned => Err(Fail(scim::Error::uniqueness("a group with this displayName already exists"))),
                        Existing::Removed if !known_stale => {
                            needs_stale = true;
                            Err(Fail(scim::Error::internal()))
                        }
                        Existing::Absent | Existing::Removed | Existing::Adoptable => create_writes(
                            &urn,
                            g,
                            ent,
                            (&display, sent.external_id.as_deref()),
                            &actor,
                            &idp,
                            found,
                        ),
                    }
                })
                .await;
            match result {
                Err(_) if needs_stale => {
                    let keep: BTreeSet<&String> = adds.iter().collect();
                    stale = Some(
                        self.member_candidates(ctx, &urn)
                            .await?
                            .into_iter()
                            .filter(|u| !keep.contains(u))
                            .collect(),
                    );
                }
                r => break (r?, found),
            }
        };
        let members = match found {
            Existing::Adoptable => self.current_members(ctx, &urn).await?,
            _ => applied.added,
        };
        let group = applied.group.ok_or_else(scim::Error::internal)?;
        self.after_rename(&group).await;
        Ok(self.render_group(ctx, &group, Some(members)))
    }

    /// `GET /Groups/{id}`: one primary-store read, plus the member pages unless
    /// `members` is excluded (`excludedAttributes=members` costs no relationship call).
    pub async fn get_group(
        &self,
        ctx: &Ctx,
        id: &str,
        q: &ListQuery,
    ) -> Result<Value, scim::Error> {
        Ok(self.get_group_tagged(ctx, id, q).await?.0)
    }

    /// [`Self::get_group`] and the version of the representation served (with or
    /// without members, see `provision::version`), which the projection may have left
    /// out of the body.
    pub async fn get_group_tagged(
        &self,
        ctx: &Ctx,
        id: &str,
        q: &ListQuery,
    ) -> Result<(Value, String), scim::Error> {
        let urn = group_urn(id)?;
        let rec = self.read_group(ctx, &urn).await?;
        let members = if crate::provision::list::skips_members(q) {
            None
        } else {
            Some(self.current_members(ctx, &urn).await?)
        };
        let full = self.render_group(ctx, &rec, members);
        let tag = version_of(&full);
        Ok((
            crate::provision::list::project(full, q, ResourceKind::Group),
            tag,
        ))
    }

    /// `PUT /Groups/{id}`: rename (displayName only; the id is stable) and, when the
    /// body has `members`, set exactly that list (the difference is applied). A body
    /// without `members` leaves them as they are.
    pub async fn replace_group(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<Value, scim::Error> {
        require_object(&body)?;
        let urn = group_urn(id)?;
        // A PUT without `displayName` keeps the name ("" stands for "not sent"), one
        // without `members` keeps the members.
        let group = scim::Group::from_json_or_name(&body, Some(""))?;
        let display = Some(group.display_name.clone()).filter(|d| !d.is_empty());
        let has_members = body
            .as_object()
            .is_some_and(|o| get_ci(o, "members").is_some());
        let delta = if has_members {
            Delta::fold(&[MemberOp::Replace(member_urns(&member_ids(&group))?)])
        } else {
            Delta::default()
        };
        let (add, remove, current) = self.resolve_delta(ctx, &urn, &delta).await?;
        let actor = actor_urn(ctx);
        // PUT replaces what we own: a body without `externalId` clears it.
        let ext = Some(group.external_id.clone());
        let tag_members = self.members_for_preconditions(ctx, &urn).await?;
        let applied = self
            .write_membership(ctx, &urn, &add, &remove, live, |g, ent| {
                self.check_group_preconditions(ctx, g, tag_members.as_ref())?;
                let w = self.update_writes(g, ent, display.clone(), ext.clone(), &actor)?;
                guarded(ctx, ent, w)
            })
            .await?;
        let group = self.after_write(&applied).await?;
        let members = match (&delta, current) {
            (Delta::Absolute(target), Some(current)) => {
                let mut kept: Members = current
                    .into_iter()
                    .filter(|(_, m)| m.id_urn().is_some_and(|u| target.contains(&u)))
                    .collect();
                kept.extend(applied.added);
                kept
            }
            _ => self.current_members(ctx, &urn).await?,
        };
        Ok(self.render_group(ctx, &group, Some(members)))
    }

    /// `PATCH /Groups/{id}`: attribute operations apply to the group without its
    /// members; member operations become a delta (no member list is read unless a
    /// `replace`/`remove`-all needs it). Okta's pathless `replace {id, displayName}`
    /// touches no member. Answers 204.
    pub async fn patch_group(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<Option<Value>, scim::Error> {
        let req = scim::PatchRequest::from_json(&body)?;
        let plan = scim::plan_group(&req)?;
        let urn = group_urn(id)?;
        let delta = Delta::fold(&crate::provision::membership::member_ops(&plan.members)?);
        let (add, remove, _) = self.resolve_delta(ctx, &urn, &delta).await?;
        let actor = actor_urn(ctx);
        let other = plan.other;
        let base = ctx.base_url.trim_end_matches('/').to_owned();
        let tag_members = self.members_for_preconditions(ctx, &urn).await?;
        let applied = self
            .write_membership(ctx, &urn, &add, &remove, live, |g, ent| {
                self.check_group_preconditions(ctx, g, tag_members.as_ref())?;
                let (display, ext) = if other.operations.is_empty() {
                    (None, None)
                } else {
                    let mut doc = map::render(&view(g, None), &base);
                    scim::apply(&mut doc, &other, ResourceKind::Group)?;
                    let after = scim::Group::from_json(&doc)?;
                    (Some(after.display_name), Some(after.external_id))
                };
                let w = self.update_writes(g, ent, display, ext, &actor)?;
                guarded(ctx, ent, w)
            })
            .await?;
        self.after_write(&applied).await?;
        Ok(None)
    }

    /// `DELETE /Groups/{id}` per `group_delete`. Every member's `groupMembership`
    /// loses the group first (batched), and the group is marked removed (or hard
    /// deleted) only once no member is linked, so a DELETE stopped half-way leaves a
    /// live group that the IdP's retry deletes. A group that is soft-deleted but still
    /// has users linked to it (a create stopped half-way, a delete stopped half-way by
    /// an older version, a soft delete made in DataHub) has them unlinked and answers
    /// 204; one with nobody linked answers 404.
    pub async fn delete_group(&self, ctx: &Ctx, id: &str) -> Result<(), scim::Error> {
        let urn = group_urn(id)?;
        // The member list first: the group read inside `write_membership` is the
        // existence check (an unknown group has no members and answers 404 there).
        let members: Vec<String> = self
            .member_candidates(ctx, &urn)
            .await?
            .into_iter()
            .collect();
        let soft = self.cfg.group_delete == DeletePolicy::Soft;
        let tag_members = self.members_for_preconditions(ctx, &urn).await?;
        let applied = self
            .write_membership(ctx, &urn, &[], &members, exists, |g, ent| {
                self.check_group_preconditions(ctx, g, tag_members.as_ref())?;
                let mut after = g.clone();
                if !soft || g.removed() {
                    return guarded(ctx, ent, GroupWrites::done(Vec::new(), after));
                }
                let mut st = g.soft.clone().unwrap_or_else(Status::default);
                st.removed = true;
                after.soft = Some(st.clone());
                guarded(
                    ctx,
                    ent,
                    GroupWrites::done(
                        vec![Proposal::upsert(&urn, &st)?.conditional_on(ent)],
                        after,
                    ),
                )
            })
            .await?;
        let was_live = applied.before.as_ref().is_some_and(GroupRecord::live);
        if !was_live && applied.member_writes == 0 {
            return Err(not_found());
        }
        if !soft {
            self.client
                .hard_delete(&ctx.token, &urn)
                .await
                .map_err(from_datahub)?;
        }
        self.cache.forget_group(urn.as_str()).await;
        if let Some(g) = applied.group {
            self.cache.forget_group_name(&g.display_name()).await;
            if let Some(ext) = map::external_id_of(g.origin.as_ref()) {
                self.cache.forget_external_id(Kind::Group, &ext).await;
            }
        }
        Ok(())
    }

    /// The group's own writes for a PUT/PATCH: the displayName and the `externalId`
    /// (`Some`: the value asked for, `None` in it clearing it; `None`: kept) when
    /// they changed, and our ownership marks when the group was not ours yet (a
    /// linked JIT, ingested or native group becomes SCIM-managed on its first write).
    fn update_writes(
        &self,
        g: &GroupRecord,
        ent: &EntityAspects,
        display: Option<String>,
        external_id: Option<Option<String>>,
        actor: &Urn,
    ) -> Result<GroupWrites, Fail> {
        let idp = &self.cfg.idp_name;
        let owned = is_owned(g.info.as_ref(), g.origin.as_ref(), idp);
        if let Some(d) = &display {
            naming::check_chars("displayName", d)?;
        }
        let display = display.unwrap_or_else(|| g.display_name());
        if display.trim().is_empty() {
            return Err(Fail(scim::Error::invalid_value(
                "displayName must not be empty",
            )));
        }

        let mut writes = Vec::new();
        let mut after = g.clone();
        if !owned
            || g.info.as_ref().and_then(|i| i.display_name.as_deref()) != Some(display.as_str())
        {
            let info = map::info_for(&display, g.info.as_ref(), !owned, actor);
            writes.push(Proposal::upsert(&g.urn, &info)?.conditional_on(ent));
            after.info = Some(info);
        }
        let ext = external_id.unwrap_or_else(|| map::external_id_of(g.origin.as_ref()));
        let origin = map::origin_for(idp, ext.as_deref());
        if !owned || g.origin.as_ref() != Some(&origin) {
            writes.push(Proposal::upsert(&g.urn, &origin)?.conditional_on(ent));
            after.origin = Some(origin);
        }
        Ok(GroupWrites::done(writes, after))
    }

    /// The group a PUT/PATCH wrote, with the lookups it changed remembered.
    async fn after_write(
        &self,
        applied: &crate::provision::membership::Applied,
    ) -> Result<GroupRecord, scim::Error> {
        let group = applied.group.clone().ok_or_else(scim::Error::internal)?;
        if let Some(old) = applied
            .before
            .as_ref()
            .and_then(|b| map::external_id_of(b.origin.as_ref()))
        {
            if map::external_id_of(group.origin.as_ref()).as_deref() != Some(old.as_str()) {
                self.cache.forget_external_id(Kind::Group, &old).await;
            }
        }
        self.after_rename(&group).await;
        Ok(group)
    }

    /// Keeps `displayName eq` working after a rename (the urn no longer follows), and
    /// `externalId eq` finding the group on this replica without a scan.
    async fn after_rename(&self, g: &GroupRecord) {
        if let Some(ext) = map::external_id_of(g.origin.as_ref()) {
            self.cache
                .remember_external_id(Kind::Group, &ext, g.urn.as_str())
                .await;
        }
        let display = g.display_name();
        match naming::group_name_for(&display) {
            Ok(n) if n == g.urn.key() => {}
            _ => {
                self.cache
                    .remember_group_name(&display, g.urn.as_str())
                    .await
            }
        }
    }

    /// One primary-store read of a live group, else 404.
    async fn read_group(&self, ctx: &Ctx, urn: &Urn) -> Result<GroupRecord, scim::Error> {
        let recs = self.hydrate_groups(ctx, std::slice::from_ref(urn)).await?;
        recs.into_iter()
            .find(GroupRecord::live)
            .ok_or_else(not_found)
    }

    /// The SCIM JSON of a group, with the version of this representation
    /// (`meta.version`: a digest of it without the base URL, see `provision::version`;
    /// with and without members are two representations, two versions).
    pub(in crate::provision) fn render_group(
        &self,
        ctx: &Ctx,
        rec: &GroupRecord,
        members: Option<Members>,
    ) -> Value {
        version::finish(
            map::render(&view(rec, members), ""),
            ctx.base_url.trim_end_matches('/'),
        )
    }
}

fn view(rec: &GroupRecord, members: Option<Members>) -> GroupView<'_> {
    GroupView {
        name: rec.urn.key(),
        info: rec.info.as_ref(),
        external_id: map::external_id_of(rec.origin.as_ref()),
        members: members.map(|m| m.into_values().map(|i| (i.id, i.display)).collect()),
        created_ms: None,
        modified_ms: None,
    }
}

fn live(g: &GroupRecord) -> Result<(), scim::Error> {
    if g.live() {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// Stored at all (soft-deleted included): what DELETE needs to find a group.
fn exists(g: &GroupRecord) -> Result<(), scim::Error> {
    if g.exists {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// The group's writes for a create, adopt or revive. `done` brings it to life as
/// ours; `pending` (used only when the members take more than one batch) stores a
/// new or revived group soft-deleted with our marks first. An adopted group is
/// already alive and visible: it is left alone until `done`.
fn create_writes(
    urn: &Urn,
    g: &GroupRecord,
    ent: &EntityAspects,
    (display, external_id): (&str, Option<&str>),
    actor: &Urn,
    idp: &str,
    found: Existing,
) -> Result<GroupWrites, Fail> {
    let info = map::info_for(display, g.info.as_ref(), true, actor);
    let origin = map::origin_for(idp, external_id);
    let status = |removed: bool| {
        let mut st = g.soft.clone().unwrap_or_default();
        st.removed = removed;
        st
    };
    let own = |removed: bool| -> Result<Vec<Proposal>, Fail> {
        Ok(vec![
            Proposal::upsert(
                urn,
                &CorpGroupKey {
                    name: urn.key().to_owned(),
                },
            )?,
            Proposal::upsert(urn, &info)?.conditional_on(ent),
            Proposal::upsert(urn, &origin)?,
            Proposal::upsert(urn, &status(removed))?.conditional_on(ent),
        ])
    };
    let mut after = g.clone();
    after.info = Some(info.clone());
    after.origin = Some(origin.clone());
    after.soft = Some(status(false));
    after.exists = true;
    Ok(GroupWrites {
        done: own(false)?,
        pending: if found == Existing::Adoptable {
            Vec::new()
        } else {
            own(true)?
        },
        after,
    })
}

/// `members[].value` of a Group body.
fn member_ids(group: &scim::Group) -> Vec<String> {
    group.members.iter().map(|m| m.value.clone()).collect()
}

/// The group urn for a SCIM id; 404 when the id cannot be one of ours.
pub(in crate::provision) fn group_urn(id: &str) -> Result<Urn, scim::Error> {
    ids::decode(id)
        .filter(|k| naming::valid_key(k))
        .map(|k| Urn::corp_group(&k))
        .ok_or_else(not_found)
}
