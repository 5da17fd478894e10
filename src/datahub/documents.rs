//! Every GraphQL document the client sends, in one place. The test in
//! `graphql_tests.rs` validates each against DataHub's schema files.

/// The caller's urn and whether it may manage users and groups.
pub const ME: &str = "query me {
  me {
    corpUser { urn }
    platformPrivileges { manageIdentities managePolicies }
  }
}";

/// Search users or groups by facet filters; urns only.
pub const SEARCH_ACROSS_ENTITIES: &str =
    "query searchAcrossEntities($input: SearchAcrossEntitiesInput!) {
  searchAcrossEntities(input: $input) {
    start
    count
    total
    searchResults { entity { urn } }
  }
}";

/// Walk users or groups past Elasticsearch's 10,000-hit window: `search_after`
/// pages (`scrollId` = where the previous page ended), and the `_entityType` facet,
/// whose counts are exact where `total` stops at 10,000.
pub const SCROLL_ACROSS_ENTITIES: &str =
    "query scrollAcrossEntities($input: ScrollAcrossEntitiesInput!) {
  scrollAcrossEntities(input: $input) {
    nextScrollId
    count
    total
    searchResults { entity { urn } }
    facets { field aggregations { value count } }
  }
}";

/// Page through users (search index; soft-deleted excluded).
pub const LIST_USERS: &str = "query listUsers($input: ListUsersInput!) {
  listUsers(input: $input) {
    start
    count
    total
    users { urn }
  }
}";

/// Page through groups (search index; soft-deleted excluded).
pub const LIST_GROUPS: &str = "query listGroups($input: ListGroupsInput!) {
  listGroups(input: $input) {
    start
    count
    total
    groups { urn }
  }
}";

/// What a member list reads of each member, in the same request that lists the
/// edges (DataHub loads the member entity from its primary store for the
/// `entity` field): its names, for the SCIM `display`, and its custom properties,
/// where a renamed user keeps its SCIM id (`scim.id`) or its forwarding address
/// (`scim.movedTo`).
pub const MEMBER_ENTITY: &str = "entity { urn ... on CorpUser { username properties { displayName fullName customProperties { key value } } editableProperties { displayName } } }";

/// Members of a group: INCOMING membership edges on the group.
pub const GROUP_MEMBERS: &str = "query groupMembers($urn: String!, $input: RelationshipsInput!) {
  corpGroup(urn: $urn) {
    relationships(input: $input) {
      start
      count
      total
      relationships { type entity { urn ... on CorpUser { username properties { displayName fullName customProperties { key value } } editableProperties { displayName } } } }
    }
  }
}";

/// Groups of a user: OUTGOING membership edges on the user.
pub const USER_GROUPS: &str = "query userGroups($urn: String!, $input: RelationshipsInput!) {
  corpUser(urn: $urn) {
    relationships(input: $input) {
      start
      count
      total
      relationships { type entity { urn } }
    }
  }
}";

/// Operation name of [`group_members_many`] documents.
pub const GROUP_MEMBERS_MANY_OP: &str = "groupMembersMany";

/// Members of `n` groups in one request: one aliased `corpGroup` selection per
/// group (`g0`, `g1`, …, urns in `$u0`, `$u1`, …), one shared `$input`.
pub fn group_members_many(n: usize) -> String {
    let vars: Vec<String> = (0..n).map(|i| format!("$u{i}: String!")).collect();
    let mut doc = format!(
        "query {GROUP_MEMBERS_MANY_OP}($input: RelationshipsInput!, {}) {{\n",
        vars.join(", ")
    );
    for i in 0..n {
        doc.push_str(&format!(
            "  g{i}: corpGroup(urn: $u{i}) {{ relationships(input: $input) {{ start count total relationships {{ type {MEMBER_ENTITY} }} }} }}\n"
        ));
    }
    doc.push('}');
    doc
}

/// `(operation name, document)` of every document above.
pub const ALL: &[(&str, &str)] = &[
    ("me", ME),
    ("searchAcrossEntities", SEARCH_ACROSS_ENTITIES),
    ("scrollAcrossEntities", SCROLL_ACROSS_ENTITIES),
    ("listUsers", LIST_USERS),
    ("listGroups", LIST_GROUPS),
    ("groupMembers", GROUP_MEMBERS),
    ("userGroups", USER_GROUPS),
];
