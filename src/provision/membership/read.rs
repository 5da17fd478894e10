//! Reading a group's members: the relationship index (paged, `IsMemberOfGroup`
//! only: native memberships are DataHub's), corrected by this replica's recent
//! writes, each member with its SCIM id and `display` read in the same request
//! (`datahub::documents::MEMBER_ENTITY`: DataHub loads the member entity from the
//! primary store for every edge, so names and a renamed user's SCIM id cost no
//! extra round trip).

use std::collections::{BTreeMap, BTreeSet};

use crate::datahub::{self, Related, Urn};
use crate::provision::errors::from_datahub;
use crate::provision::ids;
use crate::provision::record::{UserRecord, USER_ASPECTS};
use crate::provision::users::map::{member_display, moved_to, scim_id, KEY_MOVED_TO};
use crate::provision::{Ctx, Provisioner};
use crate::scim;

/// Edges read per relationships page.
pub(super) const MEMBERS_PAGE: u32 = 1000;
/// The edge written by `groupMembership`.
pub(super) const EDGE: &str = "IsMemberOfGroup";

/// A group member as SCIM shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::provision) struct MemberInfo {
    /// The member's SCIM id (a renamed user keeps the id it had: `scim.id`).
    pub id: String,
    /// The member's `display` (`users::map::member_display`).
    pub display: Option<String>,
}

impl MemberInfo {
    /// The urn the member's SCIM id names: the key member operations use
    /// (`member_urns`), which a rename does not change.
    pub fn id_urn(&self) -> Option<String> {
        ids::user_urn_of_id(&self.id)
    }

    /// From a user read from the primary store.
    pub fn of_record(rec: &UserRecord) -> MemberInfo {
        let info = rec.info.as_ref();
        let empty = BTreeMap::new();
        let props = info.map(|i| &i.custom_properties).unwrap_or(&empty);
        MemberInfo {
            id: scim_id(rec.username(), info),
            display: Some(member_display(
                rec.username(),
                info.and_then(|i| i.display_name.as_deref()),
                info.and_then(|i| i.full_name.as_deref()),
                None,
                props,
            )),
        }
    }

    /// From an edge of the member list; `None` for a user a rename moved away from
    /// (its memberships moved with the person; an index still listing it is stale).
    fn of_edge(r: &Related) -> Option<MemberInfo> {
        let username = ids::username_of(r.urn.as_str())?;
        let Some(u) = &r.user else {
            return Some(MemberInfo {
                id: ids::user_id(username),
                display: None,
            });
        };
        if u.custom_properties.contains_key(KEY_MOVED_TO) {
            return None;
        }
        let id = u
            .custom_properties
            .get(crate::provision::users::map::KEY_ID)
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| ids::user_id(username));
        Some(MemberInfo {
            id,
            display: Some(member_display(
                u.username.as_deref().unwrap_or(username),
                u.display_name.as_deref(),
                u.full_name.as_deref(),
                u.editable_display_name.as_deref(),
                &u.custom_properties,
            )),
        })
    }
}

/// A group's members: actual DataHub user urn → how SCIM shows it.
pub(in crate::provision) type Members = BTreeMap<String, MemberInfo>;

/// The urns the members' SCIM ids name (see [`MemberInfo::id_urn`]).
pub(in crate::provision) fn id_urns(members: &Members) -> BTreeSet<String> {
    members.values().filter_map(MemberInfo::id_urn).collect()
}

/// Index edges → members (native edges, non-users and moved users left out).
fn members_of(edges: Vec<Related>) -> Members {
    edges
        .into_iter()
        .filter(|r| r.relationship == EDGE && r.urn.is_corp_user())
        .filter_map(|r| Some((r.urn.to_string(), MemberInfo::of_edge(&r)?)))
        .collect()
}

impl Provisioner {
    /// Current members of `group`: the relationship index, corrected for the users
    /// this replica wrote lately by reading their `groupMembership` from the primary
    /// store.
    pub(in crate::provision) async fn current_members(
        &self,
        ctx: &Ctx,
        group: &Urn,
    ) -> Result<Members, scim::Error> {
        let index = members_of(self.indexed_edges(ctx, group, 0).await?);
        let mut out = self
            .overlay_many(ctx, std::slice::from_ref(group), vec![index])
            .await?;
        Ok(out.pop().unwrap_or_default())
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
    ) -> Result<Vec<Members>, scim::Error> {
        let mut index: Vec<Members> = Vec::with_capacity(groups.len());
        for chunk in groups.chunks(datahub::MEMBERS_MANY_MAX) {
            let pages = self
                .client
                .group_members_many(&ctx.token, chunk, 0, MEMBERS_PAGE)
                .await
                .map_err(from_datahub)?;
            for (group, page) in chunk.iter().zip(pages) {
                let n = page.count.max(page.related.len() as u32);
                let more = n > 0 && n < page.total;
                let mut edges = page.related;
                if more {
                    edges.extend(self.indexed_edges(ctx, group, n).await?);
                }
                index.push(members_of(edges));
            }
        }
        self.overlay_many(ctx, groups, index).await
    }

    /// Corrects each group's index view with this replica's recent writes: where the
    /// index disagrees with what was written, the user's `groupMembership` is read
    /// from the primary store (one batch read across all the groups) and decides.
    async fn overlay_many(
        &self,
        ctx: &Ctx,
        groups: &[Urn],
        index: Vec<Members>,
    ) -> Result<Vec<Members>, scim::Error> {
        let mut recent = Vec::with_capacity(groups.len());
        let mut disputed: BTreeSet<String> = BTreeSet::new();
        for (group, idx) in groups.iter().zip(&index) {
            let r = self.cache.recent_members(group.as_str()).await;
            disputed.extend(
                r.iter()
                    .filter(|(u, added)| idx.contains_key(u) != *added)
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
            .map(|((group, mut idx), r)| {
                for (u, added) in &r {
                    if idx.contains_key(u) == *added {
                        continue;
                    }
                    let Some(rec) = users.iter().find(|x| x.urn.as_str() == u) else {
                        continue;
                    };
                    let member = rec.live()
                        && moved_to(rec.info.as_ref()).is_none()
                        && rec.groups().contains(group);
                    if member {
                        idx.insert(u.clone(), MemberInfo::of_record(rec));
                    } else {
                        idx.remove(u);
                    }
                }
                idx
            })
            .collect())
    }

    /// Everyone who may be a member: the index plus every user this replica touched
    /// lately. A superset of actual urns, for callers that re-read each user anyway
    /// (group delete, the revival of a soft-deleted group).
    pub(in crate::provision) async fn member_candidates(
        &self,
        ctx: &Ctx,
        group: &Urn,
    ) -> Result<BTreeSet<String>, scim::Error> {
        let mut all: BTreeSet<String> = self
            .indexed_edges(ctx, group, 0)
            .await?
            .into_iter()
            .filter(|r| r.relationship == EDGE && r.urn.is_corp_user())
            .map(|r| r.urn.to_string())
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

    /// Membership edges of `group` from offset `start` on, every page.
    async fn indexed_edges(
        &self,
        ctx: &Ctx,
        group: &Urn,
        mut start: u32,
    ) -> Result<Vec<Related>, scim::Error> {
        let mut edges = Vec::new();
        loop {
            let page = self
                .client
                .group_members(&ctx.token, group, start, MEMBERS_PAGE)
                .await
                .map_err(from_datahub)?;
            let n = page.count.max(page.related.len() as u32);
            edges.extend(page.related);
            start += n;
            if n == 0 || start >= page.total {
                break;
            }
        }
        Ok(edges)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datahub::RelatedUser;

    fn edge(username: &str, user: Option<RelatedUser>) -> Related {
        Related {
            urn: Urn::corp_user(username),
            relationship: EDGE.into(),
            user,
        }
    }

    #[test]
    fn members_carry_id_and_display_and_moved_users_are_left_out() {
        let props = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let edges = vec![
            edge(
                "jane",
                Some(RelatedUser {
                    display_name: Some("Jane Doe".into()),
                    ..Default::default()
                }),
            ),
            edge(
                "bob",
                Some(RelatedUser {
                    full_name: Some("Bob B".into()),
                    editable_display_name: Some("Bobby".into()),
                    ..Default::default()
                }),
            ),
            edge(
                "renamed",
                Some(RelatedUser {
                    custom_properties: props(&[("scim.id", "b2xk"), ("scim.userName", "r@x")]),
                    ..Default::default()
                }),
            ),
            edge(
                "old",
                Some(RelatedUser {
                    custom_properties: props(&[("scim.movedTo", "urn:li:corpuser:renamed")]),
                    ..Default::default()
                }),
            ),
            edge("bare", None),
            Related {
                urn: Urn::corp_user("native"),
                relationship: "IsMemberOfNativeGroup".into(),
                user: None,
            },
        ];
        let m = members_of(edges);
        let show: Vec<(&str, &str, Option<&str>)> = m
            .iter()
            .map(|(u, i)| (u.as_str(), i.id.as_str(), i.display.as_deref()))
            .collect();
        assert_eq!(
            show,
            vec![
                ("urn:li:corpuser:bare", "YmFyZQ", None),
                ("urn:li:corpuser:bob", "Ym9i", Some("Bob B")),
                ("urn:li:corpuser:jane", "amFuZQ", Some("Jane Doe")),
                ("urn:li:corpuser:renamed", "b2xk", Some("r@x")),
            ]
        );
        assert_eq!(
            id_urns(&m).into_iter().collect::<Vec<_>>(),
            vec![
                "urn:li:corpuser:bare",
                "urn:li:corpuser:bob",
                "urn:li:corpuser:jane",
                "urn:li:corpuser:old",
            ],
            "the renamed member is addressed by the id it kept"
        );
    }
}
