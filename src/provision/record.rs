//! What one batch read tells about a user or a group, typed, plus the
//! proposals that turn a desired state into writes of only what changed.

use crate::datahub::aspects::{
    AuditStamp, CorpGroupInfo, CorpUserInfo, CorpUserKey, CorpUserStatus, GroupMembership, Origin,
    RoleMembership, Status, UserStatus,
};
use crate::datahub::{EntityAspects, Proposal, Urn, Versioned};

use super::errors::Fail;
use super::users::map::{UserView, KEY_CREATED};

/// Aspects read for a user, whether addressed as a user or as a group member
/// (`origin` is written on create, never read: nothing depends on its old value;
/// `roleMembership` is written only with `--idp-roles`, but read in the same call).
pub const USER_ASPECTS: &[&str] = &[
    "corpUserInfo",
    "corpUserStatus",
    "status",
    "groupMembership",
    "roleMembership",
];
/// Aspects read for a group.
pub const GROUP_ASPECTS: &[&str] = &["corpGroupInfo", "origin", "status"];

/// A user as DataHub's primary store holds it.
#[derive(Debug, Clone)]
pub struct UserRecord {
    /// The urn.
    pub urn: Urn,
    /// Any of the read aspects is stored.
    pub exists: bool,
    /// `corpUserInfo`.
    pub info: Option<CorpUserInfo>,
    /// `corpUserStatus`.
    pub status: Option<CorpUserStatus>,
    /// `status` (soft delete).
    pub soft: Option<Status>,
    /// `groupMembership`.
    pub membership: Option<GroupMembership>,
    /// `roleMembership`.
    pub roles: Option<RoleMembership>,
}

fn value<T>(v: Option<Versioned<T>>) -> Option<T> {
    v.map(|v| v.value)
}

impl UserRecord {
    /// Types what a batch read found.
    pub fn from_entity(e: &EntityAspects) -> Result<Self, Fail> {
        Ok(UserRecord {
            urn: e.urn.clone(),
            exists: e.has_data(),
            info: value(e.get::<CorpUserInfo>()?),
            status: value(e.get::<CorpUserStatus>()?),
            soft: value(e.get::<Status>()?),
            membership: value(e.get::<GroupMembership>()?),
            roles: value(e.get::<RoleMembership>()?),
        })
    }

    /// Soft-deleted.
    pub fn removed(&self) -> bool {
        self.soft.as_ref().is_some_and(|s| s.removed)
    }

    /// Stored and not soft-deleted.
    pub fn live(&self) -> bool {
        self.exists && !self.removed()
    }

    /// Visible to SCIM: live, SCIM-managed and not one of DataHub's own users. Users
    /// DataHub knows from elsewhere (SSO login, ingestion) are not resources of this
    /// service until a create adopts them; DataHub's own ([`Self::is_system`]) never
    /// are, even if an older version adopted one.
    pub fn visible(&self) -> bool {
        self.live() && super::users::map::is_scim_managed(self.info.as_ref()) && !self.is_system()
    }

    /// One of DataHub's own users, never adopted, changed or deleted through SCIM: a
    /// reserved username (`naming::reserved_username`: the root user, internal
    /// principals, service accounts) or a user DataHub flags as a system user
    /// (`corpUserInfo.system`) or support user (`corpUserInfo.isSupportUser`).
    pub fn is_system(&self) -> bool {
        let flag =
            |f: fn(&CorpUserInfo) -> Option<bool>| self.info.as_ref().and_then(f).unwrap_or(false);
        super::naming::reserved_username(self.urn.key())
            || flag(|i| i.system)
            || flag(|i| i.is_support_user)
    }

    /// The username (urn key).
    pub fn username(&self) -> &str {
        self.urn.key()
    }

    /// The SCIM id this user answers to (`users::map::scim_id`).
    pub fn scim_id(&self) -> String {
        super::users::map::scim_id(self.urn.key(), self.info.as_ref())
    }

    /// Where a rename moved the person who was this user (`scim.movedTo`).
    pub fn moved_to(&self) -> Option<Urn> {
        super::users::map::moved_to(self.info.as_ref())
    }

    /// The render input.
    pub fn view(&self) -> UserView<'_> {
        UserView {
            username: self.urn.key(),
            info: self.info.as_ref(),
            status: self.status.as_ref(),
            membership: self.membership.as_ref(),
            created_ms: self
                .info
                .as_ref()
                .and_then(|i| i.custom_properties.get(KEY_CREATED))
                .and_then(|v| v.parse().ok()),
            modified_ms: self.status.as_ref().map(|s| s.last_modified.time),
        }
    }

    /// Group urns the user is a member of (external membership).
    pub fn groups(&self) -> Vec<Urn> {
        self.membership
            .as_ref()
            .map(|m| m.groups.clone())
            .unwrap_or_default()
    }
}

/// How much of a user [`user_writes`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extent {
    /// Only what changed (PUT, PATCH).
    Changes,
    /// Every aspect of a SCIM user, the resource's creation instant stamped into
    /// [`KEY_CREATED`] (create, adopt, revive).
    Create,
    /// Every aspect, keeping the [`KEY_CREATED`] `info` carries (a rename moves the
    /// resource, it does not create one).
    MoveIn,
}

/// Proposals bringing a user to `info` (and the matching `corpUserStatus`),
/// each conditioned on the version read, as much as `extent` says.
/// Returns the proposals and the record as it will be after the write.
pub fn user_writes(
    rec: &UserRecord,
    ent: &EntityAspects,
    mut info: CorpUserInfo,
    actor: &Urn,
    idp: &str,
    extent: Extent,
) -> Result<(Vec<Proposal>, UserRecord), Fail> {
    let urn = &rec.urn;
    let mut out = Vec::new();
    let mut after = rec.clone();
    let stamp = AuditStamp::now(actor.clone());
    let full = extent != Extent::Changes;
    if extent == Extent::Create {
        info.custom_properties
            .insert(KEY_CREATED.to_owned(), stamp.time.to_string());
    }
    if full {
        out.push(Proposal::upsert(
            urn,
            &CorpUserKey {
                username: urn.key().to_owned(),
            },
        )?);
    }
    if full || rec.info.as_ref() != Some(&info) {
        out.push(Proposal::upsert(urn, &info)?.conditional_on(ent));
    }
    let wanted = if info.active {
        UserStatus::Active
    } else {
        UserStatus::Suspended
    };
    if full || rec.status.as_ref().map(|s| s.status) != Some(wanted) {
        let st = CorpUserStatus {
            status: wanted,
            last_modified: stamp,
            extra: Default::default(),
        };
        out.push(Proposal::upsert(urn, &st)?.conditional_on(ent));
        after.status = Some(st);
    }
    if full {
        out.push(Proposal::upsert(urn, &Origin::external(idp))?);
        let mut soft = rec.soft.clone().unwrap_or_default();
        soft.removed = false;
        out.push(Proposal::upsert(urn, &soft)?.conditional_on(ent));
        after.soft = Some(soft);
    }
    after.info = Some(info);
    after.exists = true;
    Ok((out, after))
}

/// A group as DataHub's primary store holds it.
#[derive(Debug, Clone)]
pub struct GroupRecord {
    /// The urn.
    pub urn: Urn,
    /// Any of the read aspects is stored.
    pub exists: bool,
    /// `corpGroupInfo`.
    pub info: Option<CorpGroupInfo>,
    /// `origin`.
    pub origin: Option<Origin>,
    /// `status`.
    pub soft: Option<Status>,
}

impl GroupRecord {
    /// A group nothing is stored for.
    pub fn absent(urn: Urn) -> Self {
        GroupRecord {
            urn,
            exists: false,
            info: None,
            origin: None,
            soft: None,
        }
    }

    /// Types what a batch read found.
    pub fn from_entity(e: &EntityAspects) -> Result<Self, Fail> {
        Ok(GroupRecord {
            urn: e.urn.clone(),
            exists: e.has_data(),
            info: value(e.get::<CorpGroupInfo>()?),
            origin: value(e.get::<Origin>()?),
            soft: value(e.get::<Status>()?),
        })
    }

    /// Soft-deleted.
    pub fn removed(&self) -> bool {
        self.soft.as_ref().is_some_and(|s| s.removed)
    }

    /// Visible to SCIM: stored and not soft-deleted.
    pub fn live(&self) -> bool {
        self.exists && !self.removed()
    }

    /// The displayName as SCIM shows it.
    pub fn display_name(&self) -> String {
        self.info
            .as_ref()
            .and_then(|i| i.display_name.clone())
            .unwrap_or_else(|| self.urn.key().to_owned())
    }
}
