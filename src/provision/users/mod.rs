//! `/Users`: create, read, replace, patch, delete, each one primary-store batch
//! read and at most one atomic `ingestProposalBatch` (retried as a whole, bounded,
//! when a conditional write loses a race). Lists live in `list.rs`.

pub(in crate::provision) mod map;

use serde_json::Value;

use crate::datahub::aspects::{AuditStamp, CorpUserInfo, CorpUserStatus, UserStatus};
use crate::datahub::{Proposal, Urn};
use crate::provision::errors::{from_datahub, Fail};
use crate::provision::naming::{self, primary_email, user_name_of};
use crate::provision::record::{user_writes, UserRecord, USER_ASPECTS};
use crate::provision::version::{self, version_of};
use crate::provision::{cache::Kind, ids, Ctx, DeletePolicy, Provisioner, UsernameSource};
use crate::scim::{self, ListQuery, ResourceKind};
use map::{effective_active, KEY_EXTERNAL_ID};

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
    /// `400 invalidValue`, a user DataHub flags as a system user `409`.
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
        self.write_user(ctx, &urn, true, |rec| {
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
            map::info_from_scim(&body, rec.info.as_ref(), true)
        })
        .await
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
        let folded = naming::fold_case(user_name);
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
        Ok(recs.iter().any(|r| {
            r.visible()
                && r.info
                    .as_ref()
                    .and_then(|i| i.custom_properties.get(map::KEY_USER_NAME))
                    .is_some_and(|n| naming::fold_case(n) == folded)
        }))
    }

    /// `GET /Users/{id}`: one primary-store read. Inactive users are returned;
    /// soft-deleted ones are 404.
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
        let rec = self.read_user(ctx, &user_urn(id)?).await?;
        let full = self.render_user(ctx, &rec);
        let tag = version_of(&full);
        Ok((
            crate::provision::list::project(full, q, ResourceKind::User),
            tag,
        ))
    }

    /// `PUT /Users/{id}`: full replace of what we own. `id`, `meta`, `password`,
    /// `groups` in the body are ignored. A body without `active` keeps the current
    /// state. A `userName` that maps to another urn is `400 mutability`.
    pub async fn replace_user(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<Value, scim::Error> {
        require_object(&body)?;
        let urn = user_urn(id)?;
        self.update_user(ctx, &urn, |_| Ok(body.clone())).await
    }

    /// `PATCH /Users/{id}`: the operations are applied to the current SCIM view
    /// (atomically, all or nothing), then only the aspects that changed are written
    /// (nothing at all when nothing changed). Answers 200 with the user.
    pub async fn patch_user(
        &self,
        ctx: &Ctx,
        id: &str,
        body: Value,
    ) -> Result<Option<Value>, scim::Error> {
        let req = scim::PatchRequest::from_json(&body)?;
        let urn = user_urn(id)?;
        let out = self
            .update_user(ctx, &urn, |current| {
                let mut doc = current.clone();
                scim::apply(&mut doc, &req, ResourceKind::User)?;
                Ok(doc)
            })
            .await?;
        Ok(Some(out))
    }

    /// `DELETE /Users/{id}` per `user_delete`. Soft: `status.removed`, `SUSPENDED`,
    /// and the user leaves every group (one batch); hard: Rest.li delete.
    pub async fn delete_user(&self, ctx: &Ctx, id: &str) -> Result<(), scim::Error> {
        let urn = user_urn(id)?;
        let actor = actor_urn(ctx);
        let mut before = None;
        match self.cfg.user_delete {
            DeletePolicy::Soft => {
                self.client
                    .read_modify_write(
                        &ctx.token,
                        std::slice::from_ref(&urn),
                        USER_ASPECTS,
                        self.cfg.max_write_retries,
                        |ents| {
                            let ent = ents.first().ok_or_else(|| Fail(scim::Error::internal()))?;
                            let rec = UserRecord::from_entity(ent)?;
                            if !rec.visible() {
                                return Err(Fail(not_found()));
                            }
                            self.check_preconditions(ctx, &rec)?;
                            let mut soft = rec.soft.clone().unwrap_or_default();
                            soft.removed = true;
                            let mut writes =
                                vec![Proposal::upsert(&urn, &soft)?.conditional_on(ent)];
                            if rec.status.as_ref().map(|s| s.status) != Some(UserStatus::Suspended)
                            {
                                let st = CorpUserStatus {
                                    status: UserStatus::Suspended,
                                    last_modified: AuditStamp::now(actor.clone()),
                                    extra: Default::default(),
                                };
                                writes.push(Proposal::upsert(&urn, &st)?.conditional_on(ent));
                            }
                            if !rec.groups().is_empty() {
                                let mut m = rec.membership.clone().unwrap_or_default();
                                m.groups.clear();
                                writes.push(Proposal::upsert(&urn, &m)?.conditional_on(ent));
                            }
                            if !ctx.preconditions.is_empty() && !writes.is_empty() {
                                let g = version::guards(ent, USER_ASPECTS, &writes)?;
                                writes.extend(g);
                            }
                            before = Some(rec);
                            Ok(writes)
                        },
                    )
                    .await?;
            }
            DeletePolicy::Hard => {
                // `entities?action=delete` takes no condition: the precondition is
                // judged on this read (docs/scim-design.md, "ETags").
                let rec = self.read_user(ctx, &urn).await?;
                self.check_preconditions(ctx, &rec)?;
                self.client
                    .hard_delete(&ctx.token, &urn)
                    .await
                    .map_err(from_datahub)?;
                before = Some(rec);
            }
        }
        if let Some(rec) = before {
            if let Some(ext) = rec
                .info
                .as_ref()
                .and_then(|i| i.custom_properties.get(KEY_EXTERNAL_ID))
            {
                self.cache.forget_external_id(Kind::User, ext).await;
            }
            for g in rec.groups() {
                self.cache
                    .record_members(g.as_str(), &[], &[urn.to_string()])
                    .await;
            }
        }
        Ok(())
    }

    /// Shared PUT/PATCH: read, let `desired` turn the current SCIM view into the new
    /// one, refuse a change of urn, write what changed. Retried as a whole.
    async fn update_user<F>(
        &self,
        ctx: &Ctx,
        urn: &Urn,
        mut desired: F,
    ) -> Result<Value, scim::Error>
    where
        F: FnMut(&Value) -> Result<Value, scim::Error>,
    {
        self.write_user(ctx, urn, false, |rec| {
            if !rec.visible() {
                return Err(not_found());
            }
            self.check_preconditions(ctx, rec)?;
            let current = self.render_user(ctx, rec);
            let doc = desired(&current)?;
            self.check_same_urn(&current, &doc, rec.username())?;
            let active = effective_active(rec.info.as_ref(), rec.status.as_ref());
            map::info_from_scim(&doc, rec.info.as_ref(), active)
        })
        .await
    }

    /// One conditional read-modify-write of one user: `build` turns what is stored
    /// into the wanted `corpUserInfo` (or refuses), [`user_writes`] turns that into
    /// writes (`full` on create/adopt/revive). Returns the user as written, rendered.
    async fn write_user<F>(
        &self,
        ctx: &Ctx,
        urn: &Urn,
        full: bool,
        mut build: F,
    ) -> Result<Value, scim::Error>
    where
        F: FnMut(&UserRecord) -> Result<CorpUserInfo, scim::Error>,
    {
        let actor = actor_urn(ctx);
        let mut after = None;
        self.client
            .read_modify_write(
                &ctx.token,
                std::slice::from_ref(urn),
                USER_ASPECTS,
                self.cfg.max_write_retries,
                |ents| {
                    let ent = ents.first().ok_or_else(|| Fail(scim::Error::internal()))?;
                    let rec = UserRecord::from_entity(ent)?;
                    let info = build(&rec)?;
                    let (mut writes, a) =
                        user_writes(&rec, ent, info, &actor, &self.cfg.idp_name, full)?;
                    if !full && !ctx.preconditions.is_empty() && !writes.is_empty() {
                        let g = version::guards(ent, USER_ASPECTS, &writes)?;
                        writes.extend(g);
                    }
                    after = Some(a);
                    Ok::<_, Fail>(writes)
                },
            )
            .await?;
        let after = after.ok_or_else(scim::Error::internal)?;
        self.remember_external_id(&after).await;
        Ok(self.render_user(ctx, &after))
    }

    /// A change of the attribute the username comes from must keep the urn:
    /// DataHub urns are immutable, and SSO would log the person in as the old one.
    fn check_same_urn(
        &self,
        before: &Value,
        after: &Value,
        username: &str,
    ) -> Result<(), scim::Error> {
        let source = |v: &Value| match self.cfg.username_source {
            UsernameSource::UserName => user_name_of(v),
            UsernameSource::PrimaryEmail => primary_email(v),
        };
        if source(before) == source(after) {
            return Ok(());
        }
        let derived = naming::username_for(&self.cfg, after)?;
        if derived != username {
            return Err(scim::Error::mutability(format!(
                "this change would move the user to another DataHub username; DataHub user urns are immutable \
                 (the user keeps the username derived at creation). Delete and re-create the user instead \
                 (id {})",
                ids::user_id(username)
            )));
        }
        Ok(())
    }

    /// One primary-store read of a live user, else 404.
    pub(in crate::provision) async fn read_user(
        &self,
        ctx: &Ctx,
        urn: &Urn,
    ) -> Result<UserRecord, scim::Error> {
        let ents = self
            .client
            .batch_get(&ctx.token, std::slice::from_ref(urn), USER_ASPECTS)
            .await
            .map_err(from_datahub)?;
        let rec = UserRecord::from_entity(ents.first().ok_or_else(scim::Error::internal)?)?;
        if !rec.visible() {
            return Err(not_found());
        }
        Ok(rec)
    }

    /// The SCIM JSON of a user record, with its version (`meta.version`: a digest of
    /// the representation without the base URL, see `provision::version`).
    pub(in crate::provision) fn render_user(&self, ctx: &Ctx, rec: &UserRecord) -> Value {
        let mut view = rec.view();
        view.version = Some(version::tag_of(&map::render(&view, "")));
        map::render(&view, ctx.base_url.trim_end_matches('/'))
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

/// The user urn for a SCIM id; 404 when the id cannot be one of ours.
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
