//! `/Users`: create, read, replace, patch, delete. Each is a conditional round over
//! primary-store reads (`resolve.rs`: a SCIM id names its origin urn, or, after a
//! rename, the user the origin forwards to) and at most one atomic
//! `ingestProposalBatch`, retried as a whole, bounded, when it loses a race. PUT and
//! PATCH live in `update.rs`, renames in `rename.rs`, IdP roles in `roles.rs`; lists
//! in `list/`.

pub(in crate::provision) mod map;
mod rename;
mod resolve;
mod roles;
mod update;

use serde_json::Value;

use crate::datahub::aspects::{AuditStamp, CorpUserInfo, CorpUserStatus, UserStatus};
use crate::datahub::{EntityAspects, Proposal, Urn};
use crate::provision::errors::{from_datahub, Fail};
use crate::provision::naming;
use crate::provision::record::{user_writes, Extent, UserRecord, USER_ASPECTS};
use crate::provision::version::{self, version_of};
use crate::provision::{cache::Kind, ids, Ctx, DeletePolicy, Provisioner};
use crate::scim::{self, ListQuery, ResourceKind};
use map::KEY_EXTERNAL_ID;
use resolve::{Found, Need, Step};

/// What a user write leaves, for the caches.
struct Written {
    /// The user as written.
    after: UserRecord,
    /// The user a rename moved away from, with the groups that moved.
    moved_from: Option<(Urn, Vec<Urn>)>,
}

impl Provisioner {
    /// `POST /Users`: create, adopt (an existing user that SCIM does not manage yet,
    /// e.g. from SSO login or ingestion) or revive (soft-deleted). A live SCIM-managed
    /// user of the same urn is `409 uniqueness`. Two GMS calls.
    ///
    /// `userName` is unique ignoring case (`caseExact: false`, `uniqueness: server`):
    /// when another SCIM-managed user's `userName` differs from this one only in case
    /// (`DUP@EXAMPLE.COM` next to `dup@example.com`, `ÄNNE` next to `änne`), the
    /// create is `409 uniqueness` too. That costs one search first (three GMS calls),
    /// see [`Self::case_variant_exists`]. A username DataHub reserves for itself is
    /// `400 invalidValue`, a user DataHub flags as a system user `409`. A user that a
    /// rename moved away from while its id lives on (`rename.rs`) is `409` too: its
    /// id belongs to the renamed user.
    pub async fn create_user(&self, ctx: &Ctx, body: Value) -> Result<Value, scim::Error> {
        require_object(&body)?;
        let username = naming::username_for(&self.cfg, &body)?;
        if naming::reserved_username(&username) {
            return Err(scim::Error::invalid_value(
                "the DataHub username this userName yields is reserved by DataHub (its root user, \
                 internal principals and service accounts); SCIM never creates or adopts it",
            ));
        }
        let urn = Urn::corp_user(&username);
        if let Some(user_name) = naming::user_name_of(&body) {
            naming::check_chars("userName", &user_name)?;
            if self.case_variant_exists(ctx, &urn, &user_name).await? {
                return Err(scim::Error::uniqueness(
                    "a user whose userName differs from this one only in case already exists \
                     (userName is not case-exact)",
                ));
            }
        }
        let actor = actor_urn(ctx);
        let after = self
            .user_round(ctx, std::slice::from_ref(&urn), |round| {
                let (rec, ent) = round.user_entity(&urn).ok_or_else(scim::Error::internal)?;
                if rec.visible() {
                    return Err(scim::Error::uniqueness(
                        "a user with this userName already exists",
                    ));
                }
                if rec.is_system() {
                    return Err(scim::Error::uniqueness(
                        "this userName belongs to a DataHub system user, which SCIM never takes over",
                    ));
                }
                if let Some(next) = rec.moved_to() {
                    match round.user(&next) {
                        None => return Ok(Step::Read(Need::Users(vec![next]))),
                        Some(r) if r.visible() && r.scim_id() == ids::user_id(&username) => {
                            return Err(scim::Error::uniqueness(format!(
                                "this userName's DataHub user is the former account of a user renamed \
                                 since, who keeps its SCIM id ({}); the IdP should update that user \
                                 instead of creating one",
                                ids::user_id(&username)
                            )));
                        }
                        Some(_) => {}
                    }
                }
                let info = map::info_from_scim(&body, rec.info.as_ref(), true)?;
                let (mut done, after) =
                    user_writes(rec, ent, info, &actor, &self.cfg.idp_name, Extent::Create)?;
                let early = self.role_writes(ctx, rec, ent, None, after.info.as_ref())?;
                done.extend(early);
                Ok(Step::Write {
                    early: Vec::new(),
                    done,
                    answer: after,
                })
            })
            .await?;
        self.after_user_write(Written {
            after: after.clone(),
            moved_from: None,
        })
        .await;
        Ok(self.render_user(ctx, &after))
    }

    /// Whether a SCIM-managed user other than `urn` has a `userName` equal to
    /// `user_name` ignoring case. One search: `scim.userNameFolded` equal to the
    /// folded name (written on every SCIM write since it exists; finds non-ASCII
    /// case variants, which DataHub's `IEQUAL` does not fold), or `scim.userName`
    /// `IEQUAL` the name (users written before, ASCII case only). Hits are confirmed
    /// by one batch read, which only happens when there are any.
    async fn case_variant_exists(
        &self,
        ctx: &Ctx,
        urn: &Urn,
        user_name: &str,
    ) -> Result<bool, scim::Error> {
        let urns: Vec<Urn> = self
            .user_name_hits(ctx, user_name)
            .await?
            .into_iter()
            .filter(|u| u != urn)
            .collect();
        if urns.is_empty() {
            return Ok(false);
        }
        let recs = self.hydrate_users(ctx, &urns).await?;
        Ok(recs.iter().any(|r| same_user_name(r, user_name)))
    }

    /// `GET /Users/{id}`: one primary-store read (two for a renamed user). Inactive
    /// users are returned; soft-deleted ones are 404.
    pub async fn get_user(&self, ctx: &Ctx, id: &str, q: &ListQuery) -> Result<Value, scim::Error> {
        Ok(self.get_user_tagged(ctx, id, q).await?.0)
    }

    /// [`Self::get_user`] and the user's version (`meta.version`), which the
    /// projection may have left out of the body.
    pub async fn get_user_tagged(
        &self,
        ctx: &Ctx,
        id: &str,
        q: &ListQuery,
    ) -> Result<(Value, String), scim::Error> {
        let rec = self.resolve_user(ctx, id).await?;
        let full = self.render_user(ctx, &rec);
        let tag = version_of(&full);
        Ok((
            crate::provision::list::project(full, q, ResourceKind::User),
            tag,
        ))
    }

    /// `DELETE /Users/{id}` per `user_delete`. Soft: `status.removed`, `SUSPENDED`,
    /// and the user leaves every group (one batch); hard: Rest.li delete. A renamed
    /// user is deleted where it is now; its former account stays as the rename left
    /// it (suspended).
    pub async fn delete_user(&self, ctx: &Ctx, id: &str) -> Result<(), scim::Error> {
        let before = match self.cfg.user_delete {
            DeletePolicy::Soft => {
                let origin = user_urn(id)?;
                let actor = actor_urn(ctx);
                self.user_round(ctx, std::slice::from_ref(&origin), |round| {
                    let cur = match round.find(id, &origin) {
                        Found::User(u) => u,
                        Found::Need(u) => return Ok(Step::Read(Need::Users(vec![u]))),
                        Found::Missing => return Err(not_found()),
                    };
                    let (rec, ent) = round.user_entity(&cur).ok_or_else(scim::Error::internal)?;
                    self.check_preconditions(ctx, rec)?;
                    let mut done = soft_delete_writes(rec, ent, &actor)?;
                    if !ctx.preconditions.is_empty() && !done.is_empty() {
                        let g = version::guards(ent, USER_ASPECTS, &done)?;
                        done.extend(g);
                    }
                    Ok(Step::Write {
                        early: Vec::new(),
                        done,
                        answer: rec.clone(),
                    })
                })
                .await?
            }
            DeletePolicy::Hard => {
                // `entities?action=delete` takes no condition: the precondition is
                // judged on this read (docs/scim-design.md, "ETags").
                let rec = self.resolve_user(ctx, id).await?;
                self.check_preconditions(ctx, &rec)?;
                self.client
                    .hard_delete(&ctx.token, &rec.urn)
                    .await
                    .map_err(from_datahub)?;
                rec
            }
        };
        if let Some(ext) = before
            .info
            .as_ref()
            .and_then(|i| i.custom_properties.get(KEY_EXTERNAL_ID))
        {
            self.cache.forget_external_id(Kind::User, ext).await;
        }
        for g in before.groups() {
            self.cache
                .record_members(g.as_str(), &[], &[before.urn.to_string()])
                .await;
        }
        Ok(())
    }

    /// The `roleMembership` write an IdP role change asks for (`roles.rs`), `before`
    /// and `after` being the user's `corpUserInfo` as stored and as it will be. None
    /// without `--idp-roles`. Assigning roles is what DataHub's own role assignment
    /// guards with the Manage Policies privilege, so a caller without it is `403`.
    fn role_writes(
        &self,
        ctx: &Ctx,
        rec: &UserRecord,
        ent: &EntityAspects,
        before: Option<&CorpUserInfo>,
        after: Option<&CorpUserInfo>,
    ) -> Result<Vec<Proposal>, scim::Error> {
        if !self.cfg.idp_roles {
            return Ok(Vec::new());
        }
        let before = before.and_then(|i| roles::idp_role(i).ok().flatten());
        let after = match after {
            Some(i) => roles::idp_role(i)?,
            None => None,
        };
        let Some((p, _)) = roles::role_write(rec, ent, before.as_ref(), after.as_ref())? else {
            return Ok(Vec::new());
        };
        if !ctx.manage_policies {
            return Err(scim::Error::forbidden(
                "assigning DataHub roles needs the Manage Policies privilege (as in DataHub's UI), \
                 which the token's user lacks",
            ));
        }
        Ok(vec![p])
    }

    /// Keeps the ID-mapping cache in step with a user write.
    async fn after_user_write(&self, w: Written) {
        self.remember_external_id(&w.after).await;
        if let Some((from, groups)) = w.moved_from {
            for g in groups {
                self.cache
                    .record_members(g.as_str(), &[w.after.urn.to_string()], &[from.to_string()])
                    .await;
            }
        }
    }

    /// The SCIM JSON of a user record, with its version (`meta.version`: a digest of
    /// the representation without the base URL, see `provision::version`).
    pub(in crate::provision) fn render_user(&self, ctx: &Ctx, rec: &UserRecord) -> Value {
        version::finish(
            map::render(&rec.view(), ""),
            ctx.base_url.trim_end_matches('/'),
        )
    }

    async fn remember_external_id(&self, rec: &UserRecord) {
        if let Some(ext) = rec
            .info
            .as_ref()
            .and_then(|i| i.custom_properties.get(KEY_EXTERNAL_ID))
        {
            self.cache
                .remember_external_id(Kind::User, ext, rec.urn.as_str())
                .await;
        }
    }
}

/// A soft delete: `status.removed`, `SUSPENDED`, and out of every group.
fn soft_delete_writes(
    rec: &UserRecord,
    ent: &EntityAspects,
    actor: &Urn,
) -> Result<Vec<Proposal>, Fail> {
    let urn = &rec.urn;
    let mut soft = rec.soft.clone().unwrap_or_default();
    soft.removed = true;
    let mut writes = vec![Proposal::upsert(urn, &soft)?.conditional_on(ent)];
    if rec.status.as_ref().map(|s| s.status) != Some(UserStatus::Suspended) {
        let st = CorpUserStatus {
            status: UserStatus::Suspended,
            last_modified: AuditStamp::now(actor.clone()),
            extra: Default::default(),
        };
        writes.push(Proposal::upsert(urn, &st)?.conditional_on(ent));
    }
    if !rec.groups().is_empty() {
        let mut m = rec.membership.clone().unwrap_or_default();
        m.groups.clear();
        writes.push(Proposal::upsert(urn, &m)?.conditional_on(ent));
    }
    Ok(writes)
}

/// A visible SCIM user whose `userName` equals `user_name` ignoring case.
fn same_user_name(r: &UserRecord, user_name: &str) -> bool {
    let folded = naming::fold_case(user_name);
    r.visible()
        && r.info
            .as_ref()
            .and_then(|i| i.custom_properties.get(map::KEY_USER_NAME))
            .is_some_and(|n| naming::fold_case(n) == folded)
}

/// The urn a SCIM user id names (its origin); 404 when the id cannot be one of ours.
pub(in crate::provision) fn user_urn(id: &str) -> Result<Urn, scim::Error> {
    ids::decode(id)
        .filter(|k| naming::valid_key(k))
        .map(|k| Urn::corp_user(&k))
        .ok_or_else(not_found)
}

/// The caller as an audit actor.
pub(in crate::provision) fn actor_urn(ctx: &Ctx) -> Urn {
    ctx.actor
        .parse()
        .unwrap_or_else(|_| Urn::corp_user("datahub-scim"))
}

pub(in crate::provision) fn not_found() -> scim::Error {
    scim::Error::not_found("resource not found")
}

pub(in crate::provision) fn require_object(body: &Value) -> Result<(), scim::Error> {
    if body.is_object() {
        Ok(())
    } else {
        Err(scim::Error::invalid_syntax(
            "the request body must be a JSON object",
        ))
    }
}
