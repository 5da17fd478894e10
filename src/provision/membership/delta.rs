//! Membership deltas, pure: folding a sequence of SCIM member operations into
//! the set of users to add to and remove from a group.
//!
//! Incremental operations (add, remove) fold without knowing the current members,
//! so they cost no relationship read. An absolute operation (replace, remove-all)
//! needs the current member list, and only then is the net delta computed.

use std::collections::BTreeSet;

/// One member operation: the SCIM plan's type, its members given here as user urns
/// (`membership::member_ops` turns the ids into urns).
pub use crate::scim::MemberOp;

/// The folded effect of a list of [`MemberOp`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    /// Relative to the current members, whatever they are.
    Incremental {
        /// Users to add.
        add: BTreeSet<String>,
        /// Users to remove.
        remove: BTreeSet<String>,
    },
    /// The final member list, independent of the current one.
    Absolute(BTreeSet<String>),
}

impl Default for Delta {
    fn default() -> Self {
        Delta::Incremental {
            add: BTreeSet::new(),
            remove: BTreeSet::new(),
        }
    }
}

impl Delta {
    /// Folds operations in order; a later operation on the same user wins.
    pub fn fold<'a>(ops: impl IntoIterator<Item = &'a MemberOp>) -> Delta {
        let mut d = Delta::default();
        for op in ops {
            match (op, &mut d) {
                (MemberOp::Add(us), Delta::Incremental { add, remove }) => {
                    for u in us {
                        remove.remove(u);
                        add.insert(u.clone());
                    }
                }
                (MemberOp::Remove(us), Delta::Incremental { add, remove }) => {
                    for u in us {
                        add.remove(u);
                        remove.insert(u.clone());
                    }
                }
                (MemberOp::Add(us), Delta::Absolute(set)) => set.extend(us.iter().cloned()),
                (MemberOp::Remove(us), Delta::Absolute(set)) => {
                    for u in us {
                        set.remove(u);
                    }
                }
                (MemberOp::RemoveAll, d) => *d = Delta::Absolute(BTreeSet::new()),
                (MemberOp::Replace(us), d) => *d = Delta::Absolute(us.iter().cloned().collect()),
            }
        }
        d
    }

    /// True when the current member list must be read to resolve this delta.
    pub fn needs_current(&self) -> bool {
        matches!(self, Delta::Absolute(_))
    }

    /// `(to_add, to_remove)` given the current members (ignored when incremental).
    pub fn resolve(&self, current: &BTreeSet<String>) -> (Vec<String>, Vec<String>) {
        match self {
            Delta::Incremental { add, remove } => (
                add.iter().cloned().collect(),
                remove.iter().cloned().collect(),
            ),
            Delta::Absolute(target) => (
                target.difference(current).cloned().collect(),
                current.difference(target).cloned().collect(),
            ),
        }
    }
}

/// Current members as seen by the (lagging) index, corrected by this replica's
/// recent writes (`(user, added?)`).
pub fn overlay(
    index: impl IntoIterator<Item = String>,
    recent: &[(String, bool)],
) -> BTreeSet<String> {
    let mut set: BTreeSet<String> = index.into_iter().collect();
    for (u, added) in recent {
        if *added {
            set.insert(u.clone());
        } else {
            set.remove(u);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }
    fn s(xs: &[&str]) -> BTreeSet<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn incremental_folds_last_op_wins() {
        // Okta: remove one, add two, in one PATCH; then remove one of the added.
        let ops = [
            MemberOp::Remove(v(&["a"])),
            MemberOp::Add(v(&["b", "c"])),
            MemberOp::Remove(v(&["c"])),
            MemberOp::Add(v(&["a"])),
        ];
        let d = Delta::fold(&ops);
        assert!(!d.needs_current());
        assert_eq!(
            d,
            Delta::Incremental {
                add: s(&["a", "b"]),
                remove: s(&["c"])
            }
        );
        assert_eq!(d.resolve(&s(&["zzz"])), (v(&["a", "b"]), v(&["c"])));
    }

    #[test]
    fn replace_and_remove_all_are_absolute() {
        let d = Delta::fold(&[
            MemberOp::Add(v(&["x"])),
            MemberOp::Replace(v(&["a", "b"])),
            MemberOp::Remove(v(&["b"])),
            MemberOp::Add(v(&["c"])),
        ]);
        assert_eq!(d, Delta::Absolute(s(&["a", "c"])));
        assert!(d.needs_current());
        assert_eq!(d.resolve(&s(&["a", "b", "z"])), (v(&["c"]), v(&["b", "z"])));
        // Okta "push now" of an empty group.
        let d = Delta::fold(&[MemberOp::Replace(vec![])]);
        assert_eq!(d.resolve(&s(&["a", "b"])), (vec![], v(&["a", "b"])));
        let d = Delta::fold(&[MemberOp::RemoveAll, MemberOp::Add(v(&["a"]))]);
        assert_eq!(d.resolve(&s(&["a", "b"])), (vec![], v(&["b"])));
    }

    #[test]
    fn empty_is_incremental_nothing() {
        let d = Delta::fold(&[MemberOp::Add(vec![])]);
        assert_eq!(d, Delta::default());
        assert_eq!(d.resolve(&s(&["a"])), (vec![], vec![]));
        assert!(Delta::fold(&[MemberOp::Replace(vec![])]).needs_current());
    }

    #[test]
    fn last_op_wins_per_user() {
        // Moved from the former `scim::patch` fold: add then remove, remove then add.
        let d = Delta::fold(&[
            MemberOp::Add(v(&["a", "b"])),
            MemberOp::Remove(v(&["a", "c"])),
        ]);
        assert_eq!(
            d,
            Delta::Incremental {
                add: s(&["b"]),
                remove: s(&["a", "c"])
            }
        );
        let d = Delta::fold(&[MemberOp::Remove(v(&["b"])), MemberOp::Add(v(&["b"]))]);
        assert_eq!(d.resolve(&s(&[])), (v(&["b"]), vec![]));
        // After a replace, a later remove of a replaced member drops it from the list.
        let d = Delta::fold(&[
            MemberOp::Add(v(&["z"])),
            MemberOp::Replace(v(&["x"])),
            MemberOp::Add(v(&["y"])),
            MemberOp::Remove(v(&["x"])),
        ]);
        assert_eq!(d, Delta::Absolute(s(&["y"])));
        assert_eq!(d.resolve(&s(&["x", "z"])), (v(&["y"]), v(&["x", "z"])));
    }

    #[test]
    fn fixture_plans_fold() {
        use crate::scim::{plan_group, PatchRequest};
        let fold = |text: &str| {
            let body: serde_json::Value = serde_json::from_str(text).expect("fixture is JSON");
            let req = PatchRequest::from_json(&body).expect("PatchOp parses");
            Delta::fold(&plan_group(&req).expect("plans").members)
        };
        // RFC 7644 §3.5.2.2: remove all members, then add two: an absolute list.
        let d = fold(include_str!(
            "../../scim/fixtures/rfc/7644-3.5.2.2-remove-then-add-members.json"
        ));
        let want = [
            "2819c223-7f76-453a-919d-413861904646",
            "08e1d05d-121c-4561-8b96-473d93df9210",
        ];
        assert_eq!(d, Delta::Absolute(s(&want)));
        // Okta membership change: incremental, no member list needed.
        let d = fold(include_str!(
            "../../scim/fixtures/idp/okta-2.9-membership.json"
        ));
        assert!(!d.needs_current());
        assert_eq!(
            d,
            Delta::Incremental {
                add: s(&["23a35c27-23d3-4c03-b4c5-6443c09e7173"]),
                remove: s(&["89bb1940-b905-4575-9e7f-6f887cfb368e"])
            }
        );
        // Okta "push now" of an empty group: reset to nothing.
        let d = fold(include_str!(
            "../../scim/fixtures/idp/okta-2.9-push-empty.json"
        ));
        assert_eq!(d, Delta::Absolute(BTreeSet::new()));
    }

    #[test]
    fn large_add_then_remove_of_the_same_users() {
        // 20 000 adds then 20 000 removes (`benches/scim.rs` times folds of this size).
        let ids: Vec<String> = (0..20_000).map(|i| format!("u{i}")).collect();
        let d = Delta::fold(&[MemberOp::Add(ids.clone()), MemberOp::Remove(ids.clone())]);
        let (add, remove) = d.resolve(&BTreeSet::new());
        assert!(add.is_empty());
        assert_eq!(remove.len(), 20_000);
        assert!(remove.contains(&"u0".to_owned()));
    }

    #[test]
    fn overlay_applies_recent_writes() {
        let cur = overlay(v(&["a", "b"]), &[("b".into(), false), ("c".into(), true)]);
        assert_eq!(cur, s(&["a", "c"]));
    }
}
