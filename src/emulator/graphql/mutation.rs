//! Mutation root: `createGroup`, `addGroupMembers` / `removeGroupMembers` (native vs
//! external groups, migration of origin-less groups), `updateUserStatus`,
//! `removeUser` / `removeGroup` (hard delete + reference cleanup), `createAccessToken`,
//! `revokeAccessToken`. Every write carries `appSource=ui`, so it is indexed at once.

use super::objects::{args, resolve_json, Ctx};
use super::{err, unauthorized};
use crate::emulator::policy;
use crate::emulator::state::{now_ms, State, Write};
use crate::emulator::{auth, store};
use apollo_compiler::resolvers::{FieldError, ResolveInfo, ResolvedValue};
use serde_json::{json, Value};

fn ui_write(actor: &str, urn: &str, aspect: &str, value: Value) -> Write {
    Write {
        urn: urn.into(),
        aspect: aspect.into(),
        value,
        actor: actor.into(),
        sync: true,
        system_metadata: json!({"properties": {"appSource": "ui"}}),
    }
}

fn str_list(v: Option<&Value>, field: &str) -> Vec<String> {
    v.and_then(|a| a.get(field))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Read-modify-write of a string list aspect field.
fn edit_list(
    st: &mut State,
    actor: &str,
    urn: &str,
    aspect: &str,
    field: &str,
    f: impl FnOnce(&mut Vec<String>),
) {
    let mut list = str_list(st.value(urn, aspect), field);
    let before = list.clone();
    f(&mut list);
    if list != before || st.value(urn, aspect).is_none() {
        let mut value = st.value(urn, aspect).cloned().unwrap_or_else(|| json!({}));
        value[field] = json!(list);
        st.write(ui_write(actor, urn, aspect, value));
    }
}

/// §2.6: checks and, for origin-less groups, migrates to NATIVE.
fn prepare_group(st: &mut State, actor: &str, group: &str, verb: &str) -> Result<(), FieldError> {
    if !st.exists(group) {
        return Err(err(404, format!("Failed to find group {group}")));
    }
    match st.value(group, "origin").and_then(|o| o.get("type")).and_then(Value::as_str) {
        Some("EXTERNAL") => Err(err(
            500,
            format!("Group {group} was ingested from an external provider and cannot have members manually {verb}"),
        )),
        Some(_) => Ok(()),
        None => {
            st.index.catch_up();
            let members: Vec<String> = st
                .index
                .edges_to(group)
                .into_iter()
                .filter(|(_, ty)| *ty == "IsMemberOfGroup")
                .map(|(src, _)| src)
                .take(500)
                .collect();
            for m in &members {
                edit_list(st, actor, m, "groupMembership", "groups", |l| l.retain(|g| g != group));
            }
            st.write(ui_write(actor, group, "origin", json!({"type": "NATIVE"})));
            for m in &members {
                edit_list(st, actor, m, "nativeGroupMembership", "nativeGroups", |l| {
                    if !l.iter().any(|g| g == group) {
                        l.push(group.to_string());
                    }
                });
            }
            Ok(())
        }
    }
}

/// Reference cleanup after a GraphQL hard delete.
fn remove_references(st: &mut State, actor: &str, urn: &str) {
    let holders: Vec<(String, &str, &str)> = st
        .entities
        .iter()
        .flat_map(|(holder, rows)| {
            [
                ("groupMembership", "groups"),
                ("nativeGroupMembership", "nativeGroups"),
                ("roleMembership", "roles"),
                ("corpGroupInfo", "members"),
                ("corpGroupInfo", "admins"),
                ("corpGroupInfo", "groups"),
            ]
            .into_iter()
            .filter(|(a, f)| {
                rows.get(*a)
                    .is_some_and(|r| str_list(Some(&r.value), f).iter().any(|x| x == urn))
            })
            .map(|(a, f)| (holder.clone(), a, f))
            .collect::<Vec<_>>()
        })
        .collect();
    for (holder, aspect, field) in holders {
        let mut value = st
            .value(&holder, aspect)
            .cloned()
            .unwrap_or_else(|| json!({}));
        let list: Vec<String> = str_list(Some(&value), field)
            .into_iter()
            .filter(|x| x != urn)
            .collect();
        value[field] = json!(list);
        let mut w = ui_write(actor, &holder, aspect, value);
        w.sync = false;
        st.write(w);
    }
}

fn duration_ms(d: &str) -> Option<Option<u64>> {
    const DAY: u64 = 86_400_000;
    Some(match d {
        "ONE_HOUR" => Some(3_600_000),
        "ONE_DAY" => Some(DAY),
        "ONE_WEEK" => Some(7 * DAY),
        "ONE_MONTH" => Some(30 * DAY),
        "THREE_MONTHS" => Some(90 * DAY),
        "SIX_MONTHS" => Some(180 * DAY),
        "ONE_YEAR" => Some(365 * DAY),
        "NO_EXPIRY" => None,
        _ => return None,
    })
}

pub(crate) fn resolve<'a>(
    ctx: &'a Ctx<'a>,
    info: &ResolveInfo<'_>,
) -> Result<ResolvedValue<'a>, FieldError> {
    let a = args(info);
    let input = &a["input"];
    let actor = ctx.actor;
    let mut st = ctx.inner.state();
    let release = &ctx.inner.release;
    // `AuthorizationUtils.canManageUsersAndGroups` (MANAGE on corpuser and corpGroup).
    let manage = policy::can_manage_identities(&st, release, actor);
    let out = match info.field_name() {
        "createGroup" => {
            if !manage {
                return Err(unauthorized());
            }
            let id = input["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            let urn = format!("urn:li:corpGroup:{id}");
            if st.exists(&urn) {
                return Err(err(400, "This Group already exists!"));
            }
            let info = json!({
                "displayName": input["name"], "description": input["description"].as_str().unwrap_or(""),
                "admins": [], "members": [], "groups": [], "created": {"time": now_ms(), "actor": actor},
            });
            st.write(ui_write(actor, &urn, "corpGroupInfo", info));
            st.write(ui_write(actor, &urn, "origin", json!({"type": "NATIVE"})));
            json!(urn)
        }
        f @ ("addGroupMembers" | "removeGroupMembers") => {
            let group = input["groupUrn"].as_str().unwrap_or_default().to_string();
            if !policy::can_edit_group_members(&st, actor, &group) {
                return Err(unauthorized());
            }
            let users: Vec<String> = str_list(Some(input), "userUrns");
            let adding = f == "addGroupMembers";
            prepare_group(
                &mut st,
                actor,
                &group,
                if adding { "added" } else { "removed" },
            )?;
            if adding {
                if let Some(missing) = users.iter().find(|u| !st.exists(u)) {
                    return Err(err(500, format!("Failed to add group members to group {group}: user {missing} does not exist")));
                }
            }
            for u in &users {
                let has =
                    str_list(st.value(u, "nativeGroupMembership"), "nativeGroups").contains(&group);
                match (adding, has) {
                    (true, false) => edit_list(
                        &mut st,
                        actor,
                        u,
                        "nativeGroupMembership",
                        "nativeGroups",
                        |l| l.push(group.clone()),
                    ),
                    (false, true) => edit_list(
                        &mut st,
                        actor,
                        u,
                        "nativeGroupMembership",
                        "nativeGroups",
                        |l| l.retain(|g| *g != group),
                    ),
                    _ => {}
                }
            }
            json!(true)
        }
        "updateUserStatus" => {
            if !manage {
                return Err(unauthorized());
            }
            let urn = a["urn"].as_str().unwrap_or_default().to_string();
            let status =
                json!({"status": a["status"], "lastModified": {"time": now_ms(), "actor": actor}});
            st.write(ui_write(actor, &urn, "corpUserStatus", status));
            json!(urn)
        }
        f @ ("removeUser" | "removeGroup") => {
            if !manage {
                return Err(unauthorized());
            }
            let urn = a["urn"].as_str().unwrap_or_default().to_string();
            let want = if f == "removeUser" {
                "corpuser"
            } else {
                "corpGroup"
            };
            if store::entity_type(&urn) != Some(want) {
                return Err(err(400, format!("Invalid urn {urn}")));
            }
            if st
                .value(&urn, "corpUserInfo")
                .and_then(|i| i.get("system"))
                .and_then(Value::as_bool)
                == Some(true)
            {
                return Err(err(
                    500,
                    format!("Failed to remove user {urn}: system users cannot be deleted"),
                ));
            }
            st.delete_entity(&urn, true);
            remove_references(&mut st, actor, &urn);
            json!(true)
        }
        "createAccessToken" => {
            let ty = input["type"].as_str().unwrap_or("PERSONAL");
            let target = input["actorUrn"].as_str().unwrap_or_default().to_string();
            // `CreateAccessTokenResolver`: own PERSONAL tokens with
            // GENERATE_PERSONAL_ACCESS_TOKENS, anything with MANAGE_ACCESS_TOKENS.
            let manage_tokens = policy::has(&st, actor, "MANAGE_ACCESS_TOKENS");
            let own = ty == "PERSONAL"
                && target == actor
                && policy::has(&st, actor, "GENERATE_PERSONAL_ACCESS_TOKENS");
            if !(manage_tokens || own) {
                return Err(unauthorized());
            }
            let Some(ttl) = input["duration"].as_str().and_then(duration_ms) else {
                return Err(err(400, "Unknown duration"));
            };
            let (key, salt) = (ctx.inner.key.clone(), ctx.inner.salt.clone());
            let m = auth::mint(
                &mut st,
                &key,
                &salt,
                store::urn_id(&target),
                ty,
                actor,
                input["name"].as_str().unwrap_or_default(),
                input["description"].as_str(),
                ttl,
            );
            json!({"__typename": "AccessToken", "accessToken": m.token,
                   "metadata": {"__entity": auth::token_urn(&m.id)}})
        }
        "revokeAccessToken" => {
            let id = a["tokenId"].as_str().unwrap_or_default().to_string();
            let urn = auth::token_urn(&id);
            let owner = st
                .value(&urn, "dataHubAccessTokenInfo")
                .and_then(|i| i.get("ownerUrn"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let actor_of = st
                .value(&urn, "dataHubAccessTokenInfo")
                .and_then(|i| i.get("actorUrn"))
                .and_then(Value::as_str)
                .map(str::to_string);
            let own = owner.as_deref() == Some(actor) || actor_of.as_deref() == Some(actor);
            if !(policy::has(&st, actor, "MANAGE_ACCESS_TOKENS") || own) {
                return Err(unauthorized());
            }
            st.delete_entity(&urn, true);
            json!(true)
        }
        other => {
            return Err(err(
                500,
                format!("mutation {other} is not served by the emulator"),
            ))
        }
    };
    drop(st);
    resolve_json(ctx, out)
}
