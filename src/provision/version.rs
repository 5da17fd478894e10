//! Resource versions (`meta.version`, the `ETag` header) and the conditional writes
//! that make `If-Match` race-free. Design: `docs/scim-design.md` ("ETags").
//!
//! - **The version** of a resource is a weak tag over what DataHub holds for it, as
//!   the resource is built from it: a digest of its SCIM representation (rendered
//!   without the request's base URL, so `/scim/v2` and `/openapi/scim/v2` agree), read
//!   from `corpUserInfo`, `corpUserStatus`, `status` and `groupMembership` for a user,
//!   `corpGroupInfo`, `origin`, `status` and the member list for a group. It moves
//!   exactly when the representation does, and it is known after a write without a
//!   re-read (DataHub numbers a changed aspect from its history rows, which a client
//!   cannot predict), so a write's response carries the version a later GET shows.
//! - **A group** has two representations: with its members (GET, POST, PUT) and without
//!   (`excludedAttributes=members`, the member-less list pages). Each has its own
//!   version, and a precondition matches either.
//! - **Race-free**: a PUT, PATCH or DELETE with a precondition checks it against the
//!   resource as the write's own read finds it, and conditions the write on the
//!   versions of every aspect of that read (`If-Version-Match`): the aspects it writes,
//!   and a [`Proposal::guard`] for each one it leaves unchanged. A change by anyone
//!   between the read and the write fails the batch; the round is read again and the
//!   precondition judged again, so it answers 412 only when the representation really
//!   changed. An aspect absent at the read is guarded by writing its neutral value
//!   conditioned on its absence (`If-Version-Match: -1`) where it has one that means
//!   the same as no aspect (`groupMembership {groups: []}`, `status {removed: false}`).
//!   Not covered (documented): other users' `groupMembership` (a group's members), and
//!   a hard delete (`entities?action=delete` takes no condition).

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::datahub::{EntityAspects, Proposal, Urn};
use crate::provision::errors::Fail;
use crate::provision::membership::{GroupWrites, Members};
use crate::provision::record::{GroupRecord, UserRecord, GROUP_ASPECTS};
use crate::provision::{Ctx, Provisioner};
use crate::scim;
use crate::scim::etag::weak;

/// The weak version of a rendered resource (its `meta.version`, if any, left out):
/// `W/"<16 hex digits of SHA-256>"` over its JSON text (streamed into the digest, not
/// built as a string first).
pub fn tag_of(resource: &Value) -> String {
    struct Feed<'a>(&'a mut Sha256);
    impl std::io::Write for Feed<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hasher = Sha256::new();
    // Writing a `Value` into an infallible writer cannot fail.
    let _ = match resource.pointer("/meta/version") {
        Some(_) => {
            let mut r = resource.clone();
            if let Some(m) = r.get_mut("meta").and_then(Value::as_object_mut) {
                m.remove("version");
            }
            serde_json::to_writer(Feed(&mut hasher), &r)
        }
        None => serde_json::to_writer(Feed(&mut hasher), resource),
    };
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(16);
    for b in &digest[..8] {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
    }
    weak(&hex)
}

/// Sets the version of a representation rendered without a base URL, then makes it
/// absolute: `meta.location`, the `$ref` of each of `groups` and `members`, and of
/// an extension's `manager` get `base` in front. One render serves both the digest
/// and the answer.
pub fn finish(mut doc: Value, base: &str) -> Value {
    let tag = tag_of(&doc);
    if let Some(meta) = doc.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert("version".into(), Value::String(tag));
    }
    rebase(&mut doc, base);
    doc
}

fn rebase(doc: &mut Value, base: &str) {
    if base.is_empty() {
        return;
    }
    let fix = |v: Option<&mut Value>| {
        if let Some(Value::String(s)) = v {
            if s.starts_with('/') {
                s.insert_str(0, base);
            }
        }
    };
    let Some(obj) = doc.as_object_mut() else {
        return;
    };
    for (key, v) in obj.iter_mut() {
        match (key.as_str(), v) {
            ("meta", Value::Object(m)) => fix(m.get_mut("location")),
            ("groups" | "members", Value::Array(items)) => {
                for item in items {
                    fix(item.get_mut("$ref"));
                }
            }
            (k, Value::Object(ext)) if k.starts_with("urn:") => {
                fix(ext.get_mut("manager").and_then(|m| m.get_mut("$ref")));
            }
            _ => {}
        }
    }
}

/// Guards for every aspect of `aspects` that `writes` does not write: each restated as
/// read, conditioned on the version read, so the batch stands only if nothing of the
/// read changed; an absent one with a [`neutral`] value is written with it, conditioned
/// on still being absent. A batch of guards alone is not to be sent (callers add guards
/// only to a batch that writes).
pub fn guards(
    ent: &EntityAspects,
    aspects: &[&'static str],
    writes: &[Proposal],
) -> Result<Vec<Proposal>, Fail> {
    let mut out = Vec::new();
    for name in aspects {
        let written = writes
            .iter()
            .any(|p| p.urn() == &ent.urn && p.aspect_name() == *name);
        if written {
            continue;
        }
        let guard = match ent.raw(name) {
            Some(raw) => Proposal::guard(&ent.urn, name, &*raw.value, ent.write_precondition(name)),
            None => match neutral(name) {
                Some(v) => Proposal::guard(&ent.urn, name, &v, ent.write_precondition(name)),
                None => continue,
            },
        };
        out.push(guard?);
    }
    Ok(out)
}

/// The value of an aspect that means what its absence means, for those that have one:
/// no group memberships, not removed. Writing it where the aspect is absent changes
/// nothing a reader of DataHub (or of SCIM) can tell.
fn neutral(aspect: &str) -> Option<Value> {
    match aspect {
        "groupMembership" => Some(serde_json::json!({"groups": []})),
        "status" => Some(serde_json::json!({"removed": false})),
        _ => None,
    }
}

/// `meta.version` of a rendered resource.
pub(in crate::provision) fn version_of(resource: &Value) -> String {
    resource
        .pointer("/meta/version")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| tag_of(resource))
}

// === impl Provisioner (preconditions) ===

impl Provisioner {
    /// The request's `If-Match` / `If-None-Match` judged against the user as read
    /// (412 when it changed). Called inside the write's read-modify-write round.
    pub(in crate::provision) fn check_preconditions(
        &self,
        ctx: &Ctx,
        rec: &UserRecord,
    ) -> Result<(), scim::Error> {
        if ctx.preconditions.is_empty() {
            return Ok(());
        }
        let current = version_of(&self.render_user(ctx, rec));
        ctx.preconditions.check_write(&[current])
    }

    /// The members a group precondition is judged with: read (relationship pages)
    /// only when the request names a version, which may be the one of the group with
    /// its members (`If-Match: *` needs no members). IdPs send no preconditions, so
    /// their requests cost no more.
    pub(in crate::provision) async fn members_for_preconditions(
        &self,
        ctx: &Ctx,
        urn: &Urn,
    ) -> Result<Option<Members>, scim::Error> {
        if ctx.preconditions.names_tags() {
            Ok(Some(self.current_members(ctx, urn).await?))
        } else {
            Ok(None)
        }
    }

    /// The request's `If-Match` / `If-None-Match` judged against the group as the
    /// write's round reads it: its version without members and, when `members` were
    /// read, with them (a client may hold either). A group that is not live has no
    /// current representation. 412 when it changed.
    pub(in crate::provision) fn check_group_preconditions(
        &self,
        ctx: &Ctx,
        g: &GroupRecord,
        members: Option<&Members>,
    ) -> Result<(), scim::Error> {
        if ctx.preconditions.is_empty() {
            return Ok(());
        }
        if !g.live() {
            return ctx.preconditions.check_write(&[]);
        }
        let mut current = vec![version_of(&self.render_group(ctx, g, None))];
        if let Some(m) = members {
            current.push(version_of(&self.render_group(ctx, g, Some(m.clone()))));
        }
        ctx.preconditions.check_write(&current)
    }
}

/// With preconditions, the group's own aspects a round leaves unchanged are guarded
/// (`provision::version`), so the round's write stands only if none of them changed
/// since the read. (Dropped again when the round writes nothing at all.)
pub(in crate::provision) fn guarded(
    ctx: &Ctx,
    ent: &EntityAspects,
    mut w: GroupWrites,
) -> Result<GroupWrites, Fail> {
    if ctx.preconditions.is_empty() {
        return Ok(w);
    }
    let written: Vec<Proposal> = w.done.iter().chain(&w.pending).cloned().collect();
    let g = guards(ent, GROUP_ASPECTS, &written)?;
    w.done.extend(g);
    Ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datahub::aspects::Status;
    use crate::datahub::Urn;
    use serde_json::json;

    #[test]
    fn tags_ignore_meta_version_and_move_with_content() {
        let a = json!({"id": "x", "userName": "a", "meta": {"resourceType": "User"}});
        let mut b = a.clone();
        b["meta"]["version"] = json!(tag_of(&a));
        assert_eq!(tag_of(&a), tag_of(&b));
        let c = json!({"id": "x", "userName": "b", "meta": {"resourceType": "User"}});
        assert_ne!(tag_of(&a), tag_of(&c));
        let t = tag_of(&a);
        assert!(
            t.starts_with("W/\"") && t.ends_with('"') && t.len() == 20,
            "{t}"
        );
    }

    #[test]
    fn guards_cover_the_read_aspects_not_written() {
        let urn = Urn::corp_user("jane");
        let mut ent = EntityAspects::empty(urn.clone());
        ent.insert("corpUserInfo", json!({"active": true}), Some("3".into()));
        ent.insert("status", json!({"removed": false}), None);
        let write = Proposal::upsert(&urn, &Status::removed(true)).expect("proposal");
        let g = guards(
            &ent,
            &[
                "corpUserInfo",
                "corpUserStatus",
                "status",
                "groupMembership",
            ],
            &[write],
        )
        .expect("guards");
        assert_eq!(
            g.len(),
            2,
            "status is written, corpUserStatus absent without a neutral value"
        );
        assert_eq!(g[0].aspect_name(), "corpUserInfo");
        assert!(g[0].is_guard());
        assert_eq!(g[0].header("If-Version-Match"), Some("3"));
        assert_eq!(g[0].value_json(), r#"{"active":true}"#);
        // Absent: written empty, only while still absent.
        assert_eq!(g[1].aspect_name(), "groupMembership");
        assert_eq!(g[1].header("If-Version-Match"), Some("-1"));
        assert_eq!(g[1].value_json(), r#"{"groups":[]}"#);
    }
}
