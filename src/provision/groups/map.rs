//! SCIM Group ⇄ DataHub group aspects, pure.
//!
//! A group is `corpGroupInfo {displayName, admins/members/groups kept as found}`,
//! `origin {EXTERNAL, <idp>}` and `status`. Members are not stored on the group:
//! they live on each user's `groupMembership` (see `membership.rs`).
//!
//! Ownership: a group is SCIM-owned when its origin is `EXTERNAL` with our IdP name
//! (or a SCIM client's `externalId`, below) *and* `corpGroupInfo.created` is set. We
//! stamp `created` when we create or adopt a group; neither OIDC JIT login nor the
//! Okta/Azure ingestion sources set it, and GraphQL `createGroup` (which does) marks
//! the group `NATIVE`.
//!
//! A group's SCIM `externalId` lives in `origin.externalType` as
//! `SCIM_client_<externalId>`, the encoding DataHub Cloud's SCIM endpoint uses
//! (DataHub's group model has no other field for it: `corpGroupInfo` has no custom
//! properties); a group without one keeps `externalType = <idp name>`.

use serde_json::Value;

use crate::datahub::aspects::{AuditStamp, CorpGroupInfo, Origin, OriginType, Status};
use crate::datahub::Urn;
use crate::provision::ids;
use crate::scim::resource::{rfc3339_millis, Member};
use crate::scim::{Group, Meta};

/// What a create/push of a displayName finds in DataHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Nothing: create.
    Absent,
    /// Soft-deleted earlier (by us or anyone): revive, clean.
    Removed,
    /// Made by OIDC JIT (no origin) or ingestion (EXTERNAL, not ours): adopt.
    Adoptable,
    /// A DataHub-native group: refuse, the admin links it instead.
    Native,
    /// Ours and live: a duplicate create.
    Owned,
}

/// Classifies a group's current aspects for a create.
pub fn classify(
    info: Option<&CorpGroupInfo>,
    origin: Option<&Origin>,
    status: Option<&Status>,
    idp: &str,
) -> Existing {
    if info.is_none() && origin.is_none() && status.is_none() {
        return Existing::Absent;
    }
    if status.is_some_and(|s| s.removed) {
        return Existing::Removed;
    }
    match origin.map(|o| o.origin_type) {
        Some(OriginType::Native) => Existing::Native,
        _ if is_owned(info, origin, idp) => Existing::Owned,
        _ => Existing::Adoptable,
    }
}

/// Prefix of an `origin.externalType` that carries a SCIM client's group
/// `externalId` (DataHub Cloud's encoding: `SCIM_client_<externalId>`).
pub const EXTERNAL_ID_PREFIX: &str = "SCIM_client_";

/// Whether the group carries our ownership marks: `origin {EXTERNAL, <idp>}` (or a
/// SCIM client's `externalId`) and `corpGroupInfo.created`.
pub fn is_owned(info: Option<&CorpGroupInfo>, origin: Option<&Origin>, idp: &str) -> bool {
    let ours = origin.is_some_and(|o| {
        o.origin_type == OriginType::External
            && o.external_type
                .as_deref()
                .is_some_and(|t| t == idp || t.starts_with(EXTERNAL_ID_PREFIX))
    });
    ours && info.is_some_and(|i| i.created.is_some())
}

/// The SCIM `externalId` a group's `origin` carries, if any.
pub fn external_id_of(origin: Option<&Origin>) -> Option<String> {
    origin
        .filter(|o| o.origin_type == OriginType::External)
        .and_then(|o| o.external_type.as_deref())
        .and_then(|t| t.strip_prefix(EXTERNAL_ID_PREFIX))
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
}

/// `corpGroupInfo` for a create/adopt/rename: `displayName` set, the deprecated
/// lists and every other field kept as found (`[]` when new), `created` stamped
/// when absent (or when reviving, so the group starts as ours).
pub fn info_for(
    display_name: &str,
    existing: Option<&CorpGroupInfo>,
    restamp: bool,
    actor: &Urn,
) -> CorpGroupInfo {
    let mut info = existing.cloned().unwrap_or_default();
    info.display_name = Some(display_name.to_owned());
    if info.created.is_none() || restamp {
        info.created = Some(AuditStamp::now(actor.clone()));
    }
    info
}

/// `origin {EXTERNAL, SCIM_client_<externalId>}` for a group with an `externalId`,
/// else `origin {EXTERNAL, idp}`.
pub fn origin_for(idp: &str, external_id: Option<&str>) -> Origin {
    match external_id.filter(|e| !e.is_empty()) {
        Some(e) => Origin::external(&format!("{EXTERNAL_ID_PREFIX}{e}")),
        None => Origin::external(idp),
    }
}

/// Everything needed to render one group.
#[derive(Debug, Clone, Default)]
pub struct GroupView<'a> {
    /// The group name (urn key).
    pub name: &'a str,
    /// `corpGroupInfo`, when present.
    pub info: Option<&'a CorpGroupInfo>,
    /// The group's SCIM `externalId` ([`external_id_of`]).
    pub external_id: Option<String>,
    /// Members as (SCIM id, display); `None` when members were not asked for.
    pub members: Option<Vec<(String, Option<String>)>>,
    /// Creation time (ms).
    pub created_ms: Option<i64>,
    /// Last modification (ms).
    pub modified_ms: Option<i64>,
}

/// The SCIM Group JSON: a [`scim::Group`](Group) built from the aspects, rendered
/// by its `to_json`. `displayName` falls back to the name (JIT groups always have
/// one; ingestion groups may not). Asked-for members are listed even when there are
/// none (`"members": []`).
pub fn render(view: &GroupView<'_>, base_url: &str) -> Value {
    let id = ids::group_id(view.name);
    let display_name = view
        .info
        .and_then(|i| i.display_name.clone())
        .unwrap_or_else(|| view.name.to_owned());
    let mut seen = std::collections::BTreeSet::new();
    let members: Vec<Member> = view
        .members
        .iter()
        .flatten()
        .filter(|(uid, _)| seen.insert(uid.clone()))
        .map(|(uid, display)| Member {
            ref_: Some(format!("{base_url}/Users/{uid}")),
            type_: Some("User".into()),
            display: display.clone(),
            value: uid.clone(),
        })
        .collect();
    let group = Group {
        display_name,
        external_id: view.external_id.clone(),
        members,
        extra: Default::default(),
    };
    let created = view
        .created_ms
        .or_else(|| view.info.and_then(|i| i.created.as_ref()).map(|c| c.time));
    let meta = Meta {
        created: created.and_then(rfc3339_millis),
        last_modified: view.modified_ms.or(created).and_then(rfc3339_millis),
        location: Some(format!("{base_url}/Groups/{id}")),
        version: None,
    };
    let mut out = group.to_json(&id, &meta);
    if let (Some(o), true) = (out.as_object_mut(), view.members.is_some()) {
        o.entry("members")
            .or_insert_with(|| Value::Array(Vec::new()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn actor() -> Urn {
        Urn::corp_user("scim-bot")
    }

    #[test]
    fn classify_cases() {
        let idp = "OKTA";
        assert_eq!(classify(None, None, None, idp), Existing::Absent);
        let jit = CorpGroupInfo {
            display_name: Some("Eng".into()),
            ..Default::default()
        };
        assert_eq!(classify(Some(&jit), None, None, idp), Existing::Adoptable);
        let ingested = Origin::external("OKTA");
        assert_eq!(
            classify(
                Some(&jit),
                Some(&ingested),
                Some(&Status::removed(false)),
                idp
            ),
            Existing::Adoptable
        );
        let ours = info_for("Eng", Some(&jit), false, &actor());
        assert_eq!(
            classify(
                Some(&ours),
                Some(&ingested),
                Some(&Status::removed(false)),
                idp
            ),
            Existing::Owned
        );
        assert_eq!(
            classify(Some(&ours), Some(&Origin::external("AZURE_AD")), None, idp),
            Existing::Adoptable
        );
        assert_eq!(
            classify(
                Some(&ours),
                Some(&ingested),
                Some(&Status::removed(true)),
                idp
            ),
            Existing::Removed
        );
        let native = Origin {
            origin_type: OriginType::Native,
            external_type: None,
            extra: Default::default(),
        };
        assert_eq!(
            classify(Some(&ours), Some(&native), None, idp),
            Existing::Native
        );
    }

    #[test]
    fn info_keeps_what_it_does_not_own() {
        let old = CorpGroupInfo {
            display_name: Some("Old".into()),
            email: Some("eng@x".into()),
            members: vec![Urn::corp_user("legacy")],
            ..Default::default()
        };
        let new = info_for("New Name", Some(&old), false, &actor());
        assert_eq!(new.display_name.as_deref(), Some("New Name"));
        assert_eq!(new.email.as_deref(), Some("eng@x"));
        assert_eq!(new.members, vec![Urn::corp_user("legacy")]);
        assert!(new.created.is_some());
        let fresh = info_for("X", None, false, &actor());
        assert!(fresh.admins.is_empty() && fresh.members.is_empty() && fresh.groups.is_empty());
        let v = serde_json::to_value(&fresh).expect("serializes");
        assert_eq!(
            v["admins"],
            json!([]),
            "required arrays present on the wire"
        );
    }

    #[test]
    fn renders() {
        let info = CorpGroupInfo {
            display_name: Some("Data Eng (EU)".into()),
            ..Default::default()
        };
        let view = GroupView {
            name: "Data+Eng+%28EU%29",
            info: Some(&info),
            external_id: Some("8aa1a0c0".into()),
            members: Some(vec![
                ("amRvZQ".into(), Some("Jane Doe".into())),
                ("amRvZQ".into(), None),
            ]),
            created_ms: Some(0),
            modified_ms: None,
        };
        let g = render(&view, "https://scim.example/scim/v2");
        let id = ids::group_id("Data+Eng+%28EU%29");
        assert_eq!(g["id"], json!(id));
        assert_eq!(g["displayName"], json!("Data Eng (EU)"));
        assert_eq!(g["members"][0]["value"], json!("amRvZQ"));
        assert_eq!(g["members"][0]["display"], json!("Jane Doe"));
        assert_eq!(g["members"].as_array().map(Vec::len), Some(1), "one per id");
        assert_eq!(g["externalId"], json!("8aa1a0c0"));
        assert_eq!(
            g["members"][0]["$ref"],
            json!("https://scim.example/scim/v2/Users/amRvZQ")
        );
        assert_eq!(
            g["meta"]["location"],
            json!(format!("https://scim.example/scim/v2/Groups/{id}"))
        );
        assert_eq!(g["meta"]["created"], json!("1970-01-01T00:00:00Z"));
        let no_members = render(
            &GroupView {
                members: None,
                ..view
            },
            "b",
        );
        assert!(no_members.get("members").is_none());
    }
}
