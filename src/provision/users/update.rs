//! `PUT` and `PATCH /Users/{id}`: the user the id names (`resolve.rs`) is rendered,
//! the request turns that view into the wanted one, and only what changed is
//! written. A change of the attribute the username comes from that leads to another
//! urn is a rename (`rename.rs`), or `400 mutability` with `--user-rename reject`.

use serde_json::Value;

use crate::datahub::Urn;
use crate::provision::errors::Fail;
use crate::provision::groups::map::is_owned;
use crate::provision::naming::{self, primary_email, user_name_of};
use crate::provision::record::{user_writes, Extent, USER_ASPECTS};
use crate::provision::version;
use crate::provision::{ids, Ctx, Provisioner, RenamePolicy, UsernameSource};
use crate::scim::{self, json, ResourceKind};

use super::map::{self, effective_active, KEY_ID};
use super::rename::{move_writes, Move};
use super::resolve::{Found, Need, Round, Step};
use super::{actor_urn, not_found, require_object, same_user_name, user_urn, Written};

impl Provisioner {
    /// `PUT /Users/{id}`: full replace of what we own. `id`, `meta`, `password`,
    /// `groups` in the body are ignored. A body without `active` keeps the current
    /// state. A `userName` that leads to another urn renames the user (`rename.rs`).
    /// The urn the body leads to is read with the first read, so a PUT of a renamed
    /// user costs no extra read.
    pub async fn replace_user(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<Value, scim::Error> {
        require_object(&body)?;
        let prefetch = naming::username_for(&self.cfg, &body)
            .ok()
            .filter(|u| naming::valid_key(u))
            .map(|u| Urn::corp_user(&u));
        self.update_user(ctx, id, prefetch, |_| Ok(body.clone()))
            .await
    }

    /// `PATCH /Users/{id}`: the operations are applied to the current SCIM view
    /// (atomically, all or nothing), then only the aspects that changed are written
    /// (nothing at all when nothing changed). Answers 200 with the user.
    ///
    /// A `remove` leaves the attribute unassigned (RFC 7644 §3.5.2.2). For `active`,
    /// which DataHub cannot leave without a value (`corpUserInfo.active` is required,
    /// and `corpUserStatus` is ACTIVE or SUSPENDED), unassigned means the value a user
    /// created without it gets: active (RFC 7643 §2.5 lets the service provider
    /// assign a default to an unassigned attribute).
    pub async fn patch_user(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<Option<Value>, scim::Error> {
        let req = scim::PatchRequest::from_json(&body)?;
        let out = self
            .update_user(ctx, id, None, |current| {
                let mut doc = current.clone();
                scim::apply(&mut doc, &req, ResourceKind::User)?;
                if let Some(o) = doc.as_object_mut() {
                    if json::get_ci(o, "active").is_none() {
                        o.insert("active".into(), Value::Bool(true));
                    }
                }
                Ok(doc)
            })
            .await?;
        Ok(Some(out))
    }

    /// Shared PUT/PATCH: find the user, let `desired` turn its SCIM view into the
    /// new one, write what changed (or move the person, when the name leads to
    /// another urn). Retried as a whole.
    async fn update_user<F>(
        &self,
        ctx: &Ctx,
        id: &str,
        prefetch: Option<Urn>,
        mut desired: F,
    ) -> Result<Value, scim::Error>
    where
        F: FnMut(&Value) -> Result<Value, scim::Error>,
    {
        let origin = user_urn(id)?;
        let mut first = vec![origin.clone()];
        first.extend(prefetch.filter(|p| *p != origin));
        let actor = actor_urn(ctx);
        let written = self
            .user_round(ctx, &first, |round| {
                let cur = match round.find(id, &origin) {
                    Found::User(u) => u,
                    Found::Need(u) => return Ok(Step::Read(Need::Users(vec![u]))),
                    Found::Missing => return Err(not_found()),
                };
                let (rec, ent) = round.user_entity(&cur).ok_or_else(scim::Error::internal)?;
                self.check_preconditions(ctx, rec)?;
                let current = self.render_user(ctx, rec);
                let mut doc = desired(&current)?;
                map::rederive_formatted(&current, &mut doc);
                let active = effective_active(rec.info.as_ref(), rec.status.as_ref());
                if let Some(target) = self.rename_target(&current, &doc, &cur)? {
                    return self.plan_move(ctx, round, (id, &origin), &cur, &target, &doc, &actor);
                }
                let mut info = map::info_from_scim(&doc, rec.info.as_ref(), active)?;
                if let Some(kept) = rec
                    .info
                    .as_ref()
                    .and_then(|i| i.custom_properties.get(KEY_ID))
                {
                    info.custom_properties
                        .insert(KEY_ID.to_owned(), kept.clone());
                }
                let (mut done, after) =
                    user_writes(rec, ent, info, &actor, &self.cfg.idp_name, Extent::Changes)?;
                done.extend(self.role_writes(
                    ctx,
                    rec,
                    ent,
                    rec.info.as_ref(),
                    after.info.as_ref(),
                )?);
                if !ctx.preconditions.is_empty() && !done.is_empty() {
                    let g = version::guards(ent, USER_ASPECTS, &done)?;
                    done.extend(g);
                }
                let answer = Written {
                    after,
                    moved_from: None,
                };
                Ok(if done.is_empty() {
                    Step::Answer(answer)
                } else {
                    Step::Write {
                        early: Vec::new(),
                        done,
                        answer,
                    }
                })
            })
            .await?;
        let out = self.render_user(ctx, &written.after);
        self.after_user_write(written).await;
        Ok(out)
    }

    /// The urn a change leads to when it is not `cur`'s: a change of the attribute
    /// the username comes from that derives another username. `400 mutability` when
    /// renames are refused (`--user-rename reject`).
    fn rename_target(
        &self,
        before: &Value,
        after: &Value,
        cur: &Urn,
    ) -> Result<Option<Urn>, scim::Error> {
        let source = |v: &Value| match self.cfg.username_source {
            UsernameSource::UserName => user_name_of(v),
            UsernameSource::PrimaryEmail => primary_email(v),
        };
        if source(before) == source(after) {
            return Ok(None);
        }
        let derived = naming::username_for(&self.cfg, after)?;
        if derived == cur.key() {
            return Ok(None);
        }
        if self.cfg.user_rename == RenamePolicy::Reject {
            return Err(scim::Error::mutability(
                "this change would move the user to another DataHub username, and renames are \
                 refused here (--user-rename reject): the user keeps the username derived at \
                 creation. Delete and re-create the user instead",
            ));
        }
        Ok(Some(Urn::corp_user(&derived)))
    }

    /// A rename of the person at `cur` (SCIM id `id`, whose origin urn is `origin`)
    /// to `target`: checks what the target is (absent, an SSO or ingested user to
    /// adopt, a soft-deleted one to revive, or one of the person's own former
    /// accounts: fine; another SCIM user, a former account whose id lives on, or a
    /// DataHub system user: `409 uniqueness`), that no other SCIM user has the new
    /// `userName` in another case, which of the user's groups SCIM manages; then
    /// the move's writes. Reads what it lacks first, one call each.
    #[allow(clippy::too_many_arguments)]
    fn plan_move(
        &self,
        ctx: &Ctx,
        round: &Round,
        (id, origin): (&str, &Urn),
        cur: &Urn,
        target: &Urn,
        doc: &Value,
        actor: &Urn,
    ) -> Result<Step<Written>, scim::Error> {
        if naming::reserved_username(target.key()) {
            return Err(scim::Error::invalid_value(
                "the DataHub username this userName yields is reserved by DataHub (its root user, \
                 internal principals and service accounts); SCIM never moves a user there",
            ));
        }
        let Some((to, to_ent)) = round.user_entity(target) else {
            return Ok(Step::Read(Need::Users(vec![target.clone()])));
        };
        if to.is_system() {
            return Err(scim::Error::uniqueness(
                "this userName belongs to a DataHub system user, which SCIM never takes over",
            ));
        }
        if to.visible() && to.scim_id() == id {
            // The person is already there: a concurrent rename landed between our
            // reads of the two users.
            return Ok(Step::Stale);
        }
        if to.visible() {
            return Err(scim::Error::uniqueness(format!(
                "another user already has the DataHub username this userName yields (id {})",
                to.scim_id()
            )));
        }
        if let Some(owner) = to.moved_to() {
            if owner != *cur && target != origin {
                match round.user(&owner) {
                    None => return Ok(Step::Read(Need::Users(vec![owner]))),
                    Some(o) if o.visible() && o.scim_id() == ids::user_id(target.key()) => {
                        return Err(scim::Error::uniqueness(format!(
                            "this userName's DataHub user is the former account of another renamed \
                             user, who keeps its SCIM id ({})",
                            o.scim_id()
                        )));
                    }
                    Some(_) => {}
                }
            }
        }
        if let Some(name) = user_name_of(doc) {
            match round.name_holders(&name) {
                None => return Ok(Step::Read(Need::NameHolders(name))),
                Some(h)
                    if h.iter()
                        .any(|r| r.urn != *cur && r.urn != *target && same_user_name(r, &name)) =>
                {
                    return Err(scim::Error::uniqueness(
                        "a user whose userName differs from this one only in case already exists \
                         (userName is not case-exact)",
                    ));
                }
                Some(_) => {}
            }
        }
        let (from, from_ent) = round.user_entity(cur).ok_or_else(scim::Error::internal)?;
        let groups = from.groups();
        if !round.has_groups(&groups) {
            return Ok(Step::Read(Need::Groups(groups)));
        }
        let idp = &self.cfg.idp_name;
        let managed: Vec<Urn> = groups
            .into_iter()
            .filter(|g| {
                round
                    .group(g)
                    .is_some_and(|r| r.live() && is_owned(r.info.as_ref(), r.origin.as_ref(), idp))
            })
            .collect();
        let origin_rec = (origin != cur && origin != target)
            .then(|| round.user_entity(origin))
            .flatten();
        let active = effective_active(from.info.as_ref(), from.status.as_ref());
        let info = map::info_from_scim(doc, to.info.as_ref(), active)?;
        let moved = move_writes(
            &Move {
                id,
                origin,
                from: (from, from_ent),
                to: (to, to_ent),
                origin_rec,
                managed: &managed,
                actor,
                idp,
            },
            info,
        )
        .map_err(|Fail(e)| e)?;
        // The role the IdP set goes with the person: the user moved to gets the one
        // the body names, the one moved from gives back the one it had been set.
        let mut early = self.role_writes(ctx, to, to_ent, None, moved.after.info.as_ref())?;
        early.extend(self.role_writes(ctx, from, from_ent, from.info.as_ref(), None)?);
        let mut done = moved.done;
        if !ctx.preconditions.is_empty() {
            // `If-Match` was judged on the user moved from: the move stands only if
            // nothing of it changed since (two more proposals at most).
            let g = version::guards(from_ent, USER_ASPECTS, &done)?;
            done.extend(g);
        }
        Ok(Step::Write {
            early,
            done,
            answer: Written {
                after: moved.after,
                moved_from: Some((cur.clone(), managed)),
            },
        })
    }
}
