//! Privileges from DataHub policies (`DataHubAuthorizer` / `PolicyEngine`): a
//! `dataHubPolicy` entity's `dataHubPolicyInfo` (ACTIVE, type PLATFORM or METADATA,
//! `privileges`, `actors {users, groups, roles, allUsers, allGroups}`, optional
//! `resources`) grants its privileges to the actors it names. The emulator seeds the
//! bootstrap policies that matter here (`boot/policies.json`: "All Users - Base Platform
//! Privileges" and the Admin role's platform and metadata policies), so the Admin role
//! grants everything. API operations map to privileges as `PoliciesConfig`'s
//! `API_PRIVILEGE_MAP` / `API_ENTITY_PRIVILEGE_MAP` of the release do.

use super::profile::Release;
use super::state::{State, Write};
use super::store;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The built-in Admin role.
pub const ADMIN_ROLE: &str = "urn:li:dataHubRole:Admin";

/// Platform privileges the Admin role holds (PLATFORM policy) — DataHub's list plus the
/// finer user/group ones, which the Admin role gets through `MANAGE_USERS_AND_GROUPS`.
const ADMIN_PLATFORM: &[&str] = &[
    "MANAGE_POLICIES",
    "MANAGE_INGESTION",
    "MANAGE_SECRETS",
    "MANAGE_USERS_AND_GROUPS",
    "VIEW_ANALYTICS",
    "GENERATE_PERSONAL_ACCESS_TOKENS",
    "MANAGE_ACCESS_TOKENS",
    "MANAGE_SERVICE_ACCOUNTS",
    "MANAGE_DOMAINS",
    "MANAGE_GLOBAL_ANNOUNCEMENTS",
    "MANAGE_TESTS",
    "MANAGE_GLOSSARIES",
    "MANAGE_USER_CREDENTIALS",
    "MANAGE_TAGS",
    "MANAGE_GLOBAL_VIEWS",
    "MANAGE_GLOBAL_SETTINGS",
    "MANAGE_GLOBAL_OWNERSHIP_TYPES",
    "CREATE_BUSINESS_ATTRIBUTE",
    "MANAGE_BUSINESS_ATTRIBUTE",
    "MANAGE_STRUCTURED_PROPERTIES",
    "VIEW_STRUCTURED_PROPERTIES_PAGE",
    "MANAGE_FEATURES",
    "MANAGE_HOME_PAGE_TEMPLATES",
    "MANAGE_DOCUMENTS",
    "CREATE_LOGICAL_MODELS",
    "MANAGE_APPLICATIONS",
    "CREATE_DOMAINS",
    "CREATE_TAGS",
    "VIEW_TESTS",
    "VIEW_MANAGE_TAGS",
];

/// Metadata privileges the Admin role holds on every resource (METADATA policy; subset).
const ADMIN_METADATA: &[&str] = &[
    "VIEW_ENTITY_PAGE",
    "EDIT_ENTITY",
    "EDIT_GROUP_MEMBERS",
    "EDIT_USER_PROFILE",
    "EDIT_CONTACT_INFO",
    "EDIT_ENTITY_OWNERS",
    "SEARCH_PRIVILEGE",
    "GET_ENTITY_PRIVILEGE",
    "DELETE_ENTITY",
];

/// `me.platformPrivileges` fields and the privileges (any of) that set them
/// (`MeResolver`); `manageIdentities` is [`can_manage_identities`].
const PLATFORM_FIELDS: &[(&str, &[&str])] = &[
    ("viewAnalytics", &["VIEW_ANALYTICS"]),
    ("managePolicies", &["MANAGE_POLICIES"]),
    (
        "generatePersonalAccessTokens",
        &["GENERATE_PERSONAL_ACCESS_TOKENS"],
    ),
    ("createDomains", &["CREATE_DOMAINS", "MANAGE_DOMAINS"]),
    ("createLogicalModels", &["CREATE_LOGICAL_MODELS"]),
    ("manageDomains", &["MANAGE_DOMAINS"]),
    ("manageIngestion", &["MANAGE_INGESTION"]),
    ("manageSecrets", &["MANAGE_SECRETS"]),
    ("manageTokens", &["MANAGE_ACCESS_TOKENS"]),
    ("viewTests", &["VIEW_TESTS", "MANAGE_TESTS"]),
    ("manageTests", &["MANAGE_TESTS"]),
    ("manageGlossaries", &["MANAGE_GLOSSARIES"]),
    ("manageDocuments", &["MANAGE_DOCUMENTS"]),
    ("manageUserCredentials", &["MANAGE_USER_CREDENTIALS"]),
    ("createTags", &["CREATE_TAGS", "MANAGE_TAGS"]),
    ("manageTags", &["MANAGE_TAGS"]),
    ("viewManageTags", &["VIEW_MANAGE_TAGS", "MANAGE_TAGS"]),
    ("manageGlobalViews", &["MANAGE_GLOBAL_VIEWS"]),
    ("manageGlobalSettings", &["MANAGE_GLOBAL_SETTINGS"]),
    ("manageOwnershipTypes", &["MANAGE_GLOBAL_OWNERSHIP_TYPES"]),
    (
        "manageGlobalAnnouncements",
        &["MANAGE_GLOBAL_ANNOUNCEMENTS"],
    ),
    (
        "createBusinessAttributes",
        &["CREATE_BUSINESS_ATTRIBUTE", "MANAGE_BUSINESS_ATTRIBUTE"],
    ),
    ("manageBusinessAttributes", &["MANAGE_BUSINESS_ATTRIBUTE"]),
    (
        "manageStructuredProperties",
        &["MANAGE_STRUCTURED_PROPERTIES"],
    ),
    (
        "viewStructuredPropertiesPage",
        &[
            "VIEW_STRUCTURED_PROPERTIES_PAGE",
            "MANAGE_STRUCTURED_PROPERTIES",
        ],
    ),
    ("manageApplications", &["MANAGE_APPLICATIONS"]),
    ("manageFeatures", &["MANAGE_FEATURES"]),
    ("manageHomePageTemplates", &["MANAGE_HOME_PAGE_TEMPLATES"]),
    ("manageServiceAccounts", &["MANAGE_SERVICE_ACCOUNTS"]),
];

/// An API operation on an entity (`ApiOperation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `CREATE_ENTITY` proposals.
    Create,
    /// `UPSERT`, `CREATE`, `UPDATE`, `PATCH`, `RESTATE` proposals.
    Update,
    /// `DELETE` proposals and hard deletes.
    Delete,
}

impl Op {
    /// The operation a proposal's change type needs (`AuthUtil.isAPIAuthorizedUrns`).
    pub fn of_change_type(ct: &str) -> Op {
        match ct {
            "CREATE_ENTITY" => Op::Create,
            "DELETE" => Op::Delete,
            _ => Op::Update,
        }
    }
}

fn policy(name: &str, kind: &str, privileges: &[&str], actors: Value) -> Value {
    json!({
        "displayName": name, "description": name, "type": kind, "state": "ACTIVE",
        "privileges": privileges, "actors": actors, "editable": false,
    })
}

fn put(state: &mut State, id: &str, info: Value) -> String {
    let urn = format!("urn:li:dataHubPolicy:{id}");
    state.write(Write {
        urn: urn.clone(),
        aspect: "dataHubPolicyInfo".into(),
        value: info,
        actor: "urn:li:corpuser:__datahub_system".into(),
        sync: true,
        system_metadata: Value::Null,
    });
    urn
}

/// Writes the bootstrap policies.
pub fn seed(state: &mut State) {
    let all_users =
        json!({"allUsers": true, "allGroups": false, "resourceOwners": false, "users": []});
    let admins = json!({"allUsers": false, "allGroups": false, "resourceOwners": false, "users": [], "groups": [], "roles": [ADMIN_ROLE]});
    let base = ["VIEW_ANALYTICS", "GENERATE_PERSONAL_ACCESS_TOKENS"];
    let seeds = [
        (
            "7",
            "All Users - Base Platform Privileges",
            "PLATFORM",
            &base[..],
            all_users,
        ),
        (
            "admin-platform-policy",
            "Admins - Platform Policy",
            "PLATFORM",
            ADMIN_PLATFORM,
            admins.clone(),
        ),
        (
            "admin-metadata-policy",
            "Admins - Metadata Policy",
            "METADATA",
            ADMIN_METADATA,
            admins,
        ),
    ];
    for (id, name, kind, privs, actors) in seeds {
        put(state, id, policy(name, kind, privs, actors));
    }
}

/// Creates an ACTIVE PLATFORM policy granting `privileges` to one user; returns its urn.
pub fn grant(state: &mut State, user_urn: &str, privileges: &[&str]) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let actors = json!({"allUsers": false, "allGroups": false, "resourceOwners": false, "users": [user_urn], "groups": []});
    put(
        state,
        &id,
        policy("emulator grant", "PLATFORM", privileges, actors),
    )
}

fn strings<'a>(v: Option<&'a Value>, field: &str) -> impl Iterator<Item = &'a str> {
    v.and_then(|v| v.get(field))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Groups of an actor (`groupMembership` and `nativeGroupMembership`).
fn groups_of(state: &State, actor: &str) -> BTreeSet<String> {
    strings(state.value(actor, "groupMembership"), "groups")
        .chain(strings(
            state.value(actor, "nativeGroupMembership"),
            "nativeGroups",
        ))
        .map(str::to_string)
        .collect()
}

/// Roles of an actor, directly or through its groups.
fn roles_of(state: &State, actor: &str, groups: &BTreeSet<String>) -> BTreeSet<String> {
    std::iter::once(actor)
        .chain(groups.iter().map(String::as_str))
        .flat_map(|u| strings(state.value(u, "roleMembership"), "roles"))
        .map(str::to_string)
        .collect()
}

fn resource_matches(info: &Value, resource: Option<&str>) -> bool {
    if info["type"].as_str() == Some("PLATFORM") {
        return true;
    }
    let r = &info["resources"];
    if r.is_null() || r["allResources"].as_bool() == Some(true) {
        return true;
    }
    let Some(urn) = resource else {
        return false;
    };
    if let Some(t) = r["type"].as_str() {
        if store::entity_type(urn) != Some(t) {
            return false;
        }
    }
    match r["resources"].as_array() {
        Some(list) if !list.is_empty() => list.iter().any(|x| x.as_str() == Some(urn)),
        _ => true,
    }
}

/// Privileges `actor` holds on `resource` (`None`: platform-wide or entity-type checks).
pub fn privileges(state: &State, actor: &str, resource: Option<&str>) -> BTreeSet<String> {
    let groups = groups_of(state, actor);
    let roles = roles_of(state, actor, &groups);
    let prefix = "urn:li:dataHubPolicy:";
    let mut out = BTreeSet::new();
    for (_, rows) in state
        .entities
        .range(prefix.to_string()..)
        .take_while(|(u, _)| u.starts_with(prefix))
    {
        let Some(info) = rows.get("dataHubPolicyInfo").map(|r| &r.value) else {
            continue;
        };
        if info["state"].as_str() != Some("ACTIVE") || !resource_matches(info, resource) {
            continue;
        }
        let a = &info["actors"];
        let applies = a["allUsers"].as_bool() == Some(true)
            || (a["allGroups"].as_bool() == Some(true) && !groups.is_empty())
            || strings(Some(a), "users").any(|u| u == actor)
            || strings(Some(a), "groups").any(|g| groups.contains(g))
            || strings(Some(a), "roles").any(|r| roles.contains(r));
        if applies {
            out.extend(strings(Some(info), "privileges").map(str::to_string));
        }
    }
    out
}

/// Privileges (any of) an API operation on an entity type needs in this release.
fn api_privileges(release: &Release, entity_type: &str, op: Op) -> Vec<&'static str> {
    let (fine_create, fine_update) = match entity_type {
        "corpuser" => ("CREATE_USERS", "UPDATE_USERS"),
        "corpGroup" => ("CREATE_GROUPS", "UPDATE_GROUPS"),
        _ => {
            return match op {
                Op::Create => vec!["CREATE_ENTITY", "EDIT_ENTITY"],
                Op::Update => vec!["EDIT_ENTITY"],
                Op::Delete => vec!["DELETE_ENTITY"],
            }
        }
    };
    let mut p = match op {
        Op::Create => vec!["CREATE_USERS_AND_GROUPS", "MANAGE_USERS_AND_GROUPS"],
        Op::Update => vec!["UPDATE_USERS_AND_GROUPS", "MANAGE_USERS_AND_GROUPS"],
        Op::Delete => vec!["MANAGE_USERS_AND_GROUPS"],
    };
    if release.fine_identity_privileges() {
        match op {
            Op::Create => p.extend([fine_create, fine_update]),
            Op::Update | Op::Delete => p.push(fine_update),
        }
    }
    p
}

/// Whether `actor` may perform `op` on `urn` through the Rest.li API.
pub fn api_allowed(state: &State, release: &Release, actor: &str, op: Op, urn: &str) -> bool {
    let have = privileges(state, actor, Some(urn));
    let ty = store::entity_type(urn).unwrap_or_default();
    api_privileges(release, ty, op)
        .iter()
        .any(|p| have.contains(*p))
}

/// `AuthorizationUtils.canManageUsersAndGroups` / `me.platformPrivileges.manageIdentities`:
/// the MANAGE operation (UPDATE ∧ DELETE) on both `corpuser` and `corpGroup`.
pub fn can_manage_identities(state: &State, release: &Release, actor: &str) -> bool {
    let have = privileges(state, actor, None);
    ["corpuser", "corpGroup"].iter().all(|ty| {
        [Op::Update, Op::Delete].iter().all(|op| {
            api_privileges(release, ty, *op)
                .iter()
                .any(|p| have.contains(*p))
        })
    })
}

/// `AuthorizationUtils.canEditGroupMembers`: `EDIT_ENTITY` or `EDIT_GROUP_MEMBERS` on
/// the group.
pub fn can_edit_group_members(state: &State, actor: &str, group: &str) -> bool {
    let have = privileges(state, actor, Some(group));
    have.contains("EDIT_ENTITY") || have.contains("EDIT_GROUP_MEMBERS")
}

/// Whether `actor` holds a platform privilege.
pub fn has(state: &State, actor: &str, privilege: &str) -> bool {
    privileges(state, actor, None).contains(privilege)
}

/// `me.platformPrivileges` as a JSON object for the given field names.
pub fn platform_privileges(
    state: &State,
    release: &Release,
    actor: &str,
    fields: &[String],
) -> serde_json::Map<String, Value> {
    let have = privileges(state, actor, None);
    let manage = can_manage_identities(state, release, actor);
    let mut out = serde_json::Map::new();
    out.insert("__typename".into(), json!("PlatformPrivileges"));
    for f in fields {
        let v = if f == "manageIdentities" {
            manage
        } else {
            PLATFORM_FIELDS
                .iter()
                .find(|(n, _)| n == f)
                .is_some_and(|(_, ps)| ps.iter().any(|p| have.contains(*p)))
        };
        out.insert(f.clone(), json!(v));
    }
    out
}
