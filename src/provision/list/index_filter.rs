//! SCIM user filters → search-index pre-filters (pure).
//!
//! A list request that is not a key lookup is answered from the search index,
//! restricted to SCIM-managed users by the marker `customProperties EQUAL
//! "scim.managed=true"` (DataHub indexes `corpUserInfo.customProperties`, a
//! `Searchable /*` TEXT map, as `key=value` strings). What of the filter maps onto
//! index fields is ANDed with the marker:
//!
//! | SCIM | index | exact? |
//! | --- | --- | --- |
//! | `externalId eq v` | `customProperties EQUAL "scim.externalId=v"` | yes |
//! | `userName eq v` | `customProperties IEQUAL "scim.userName=v"` | yes |
//! | `active eq true` | `active EQUAL true` AND NOT `status EQUAL SUSPENDED` | yes |
//! | `active eq false` | `active EQUAL false` OR `status EQUAL SUSPENDED` | yes |
//! | `title eq v` | `title IEQUAL v` | yes |
//! | `emails.value eq v`, `emails[… value eq v …]` | `email IEQUAL v` | no: only the primary email is indexed, and `type`/`primary` are not |
//! | `a and b` | both (either alone, inexact, when only one translates) | when both are |
//! | `a or b` | either, when both translate | when both are |
//!
//! Not translated: user `displayName` (DataHub indexes `corpUserInfo.displayName`
//! and `corpUserEditableInfo.displayName` into the same field, and a profile edit
//! in DataHub overwrites ours there, so an index filter could miss a match),
//! `co`/`sw`/`ew`/`gt`/…, `pr`, `not`, and everything else.
//!
//! "Exact" means the index answers the filter itself (up to its lag), so a page can
//! be read from the index by `start`/`count` with the index total. Otherwise the
//! translation only narrows the candidates: they are scanned (bounded) and checked
//! one by one. Every hit is re-checked with `Filter::matches` on the hydrated
//! resource either way.

use crate::datahub::FacetFilter;
use crate::scim::filter::{CompValue, CompareOp, Filter};
use crate::scim::ResourceKind;

use crate::provision::users::map::{managed_marker, KEY_EXTERNAL_ID, KEY_USER_NAME};

/// Most OR-groups a translation may produce (`or` and `active eq false` multiply).
const MAX_GROUPS: usize = 8;

/// An index pre-filter: OR of AND-groups of facet filters.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::provision) struct IndexFilter {
    /// OR of AND-groups.
    pub groups: Vec<Vec<FacetFilter>>,
    /// The index answers the filter by itself (see the module doc).
    pub exact: bool,
}

impl IndexFilter {
    fn one(f: FacetFilter, exact: bool) -> Self {
        IndexFilter {
            groups: vec![vec![f]],
            exact,
        }
    }

    /// The pre-filter for `filter` (none: every SCIM-managed user, exact), ANDed
    /// with the SCIM-managed marker.
    pub fn users(filter: Option<&Filter>) -> IndexFilter {
        let t = match filter {
            None => IndexFilter {
                groups: vec![Vec::new()],
                exact: true,
            },
            Some(f) => translate(f).unwrap_or(IndexFilter {
                groups: vec![Vec::new()],
                exact: false,
            }),
        };
        let marker = FacetFilter::equal("customProperties", &managed_marker());
        IndexFilter {
            groups: t
                .groups
                .into_iter()
                .map(|mut g| {
                    g.insert(0, marker.clone());
                    g
                })
                .collect(),
            exact: t.exact,
        }
    }
}

fn translate(f: &Filter) -> Option<IndexFilter> {
    let kind = ResourceKind::User;
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } => match value {
            CompValue::Str(v) if path.is(kind, "externalId") => Some(IndexFilter::one(
                FacetFilter::equal("customProperties", &format!("{KEY_EXTERNAL_ID}={v}")),
                true,
            )),
            CompValue::Str(v) if path.is(kind, "userName") => Some(IndexFilter::one(
                FacetFilter::iequal("customProperties", &format!("{KEY_USER_NAME}={v}")),
                true,
            )),
            CompValue::Str(v) if path.is(kind, "title") => {
                Some(IndexFilter::one(FacetFilter::iequal("title", v), true))
            }
            CompValue::Str(v) if path.is(kind, "emails.value") || path.is(kind, "emails") => {
                Some(IndexFilter::one(FacetFilter::iequal("email", v), false))
            }
            CompValue::Bool(b) if path.is(kind, "active") => Some(active(*b)),
            _ => None,
        },
        Filter::ValuePath { path, .. } if path.is(kind, "emails") => {
            let terms = f.eq_conjunction()?;
            let (_, v) = terms.iter().find(|(p, _)| p.is(kind, "emails.value"))?;
            Some(IndexFilter::one(FacetFilter::iequal("email", v), false))
        }
        Filter::And(l, r) => match (translate(l), translate(r)) {
            (Some(a), Some(b)) => {
                let mut groups = Vec::new();
                for x in &a.groups {
                    for y in &b.groups {
                        groups.push(x.iter().chain(y).cloned().collect());
                    }
                }
                if groups.len() <= MAX_GROUPS {
                    Some(IndexFilter {
                        groups,
                        exact: a.exact && b.exact,
                    })
                } else {
                    // Too many combinations: the narrower side alone, as a superset.
                    let narrow = if a.groups.len() <= b.groups.len() {
                        a
                    } else {
                        b
                    };
                    Some(IndexFilter {
                        exact: false,
                        ..narrow
                    })
                }
            }
            (Some(a), None) | (None, Some(a)) => Some(IndexFilter { exact: false, ..a }),
            (None, None) => None,
        },
        Filter::Or(l, r) => {
            let (a, b) = (translate(l)?, translate(r)?);
            let mut groups = a.groups;
            groups.extend(b.groups);
            (groups.len() <= MAX_GROUPS).then_some(IndexFilter {
                groups,
                exact: a.exact && b.exact,
            })
        }
        _ => None,
    }
}

/// SCIM `active` is `corpUserInfo.active` and not `corpUserStatus` SUSPENDED (an
/// admin may suspend a user in DataHub), so both fields are asked.
fn active(b: bool) -> IndexFilter {
    let suspended = FacetFilter::equal("status", "SUSPENDED");
    if b {
        IndexFilter {
            groups: vec![vec![
                FacetFilter::equal("active", "true"),
                FacetFilter {
                    negated: true,
                    ..suspended
                },
            ]],
            exact: true,
        }
    } else {
        IndexFilter {
            groups: vec![vec![FacetFilter::equal("active", "false")], vec![suspended]],
            exact: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter::parse;

    fn tr(s: &str) -> IndexFilter {
        IndexFilter::users(Some(&parse(s).expect("filter")))
    }

    fn show(t: &IndexFilter) -> Vec<Vec<String>> {
        t.groups
            .iter()
            .map(|g| {
                g.iter()
                    .map(|f| {
                        format!(
                            "{}{} {:?} {}",
                            if f.negated { "!" } else { "" },
                            f.field,
                            f.condition,
                            f.values.join("|")
                        )
                    })
                    .collect()
            })
            .collect()
    }

    const M: &str = "customProperties Equal scim.managed=true";

    #[test]
    fn no_filter_is_the_marker_alone_and_exact() {
        let t = IndexFilter::users(None);
        assert_eq!(show(&t), vec![vec![M.to_string()]]);
        assert!(t.exact);
    }

    #[test]
    fn key_like_terms_are_exact_and_anded_with_the_marker() {
        let t = tr(r#"externalId eq "00u1" and title eq "Eng""#);
        assert!(t.exact);
        assert_eq!(
            show(&t),
            vec![vec![
                M.to_string(),
                "customProperties Equal scim.externalId=00u1".into(),
                "title IEqual Eng".into()
            ]]
        );
        let t = tr(r#"userName eq "Jane@X.com""#);
        assert_eq!(
            show(&t)[0][1],
            "customProperties IEqual scim.userName=Jane@X.com"
        );
    }

    #[test]
    fn active_reads_both_flags() {
        let t = tr("active eq false");
        assert!(t.exact);
        assert_eq!(
            show(&t),
            vec![
                vec![M.to_string(), "active Equal false".into()],
                vec![M.to_string(), "status Equal SUSPENDED".into()]
            ]
        );
        let t = tr("active eq true");
        assert_eq!(show(&t)[0][2], "!status Equal SUSPENDED");
    }

    #[test]
    fn emails_narrow_but_are_not_exact() {
        for f in [
            r#"emails[type eq "work"].value eq "a@x.com""#,
            r#"emails.value eq "a@x.com""#,
            r#"emails eq "a@x.com""#,
        ] {
            let t = tr(f);
            assert!(!t.exact, "{f}");
            assert_eq!(
                show(&t),
                vec![vec![M.to_string(), "email IEqual a@x.com".into()]]
            );
        }
    }

    #[test]
    fn partial_and_untranslatable_filters_fall_back_to_a_scan() {
        // One side translates: it narrows, the scan checks the rest.
        let t = tr(r#"title eq "Eng" and displayName co "an""#);
        assert!(!t.exact);
        assert_eq!(
            show(&t),
            vec![vec![M.to_string(), "title IEqual Eng".into()]]
        );
        // An `or` needs both sides; `not`, `co`, `pr`, displayName: nothing.
        for f in [
            r#"title eq "Eng" or displayName eq "x""#,
            r#"not (title eq "Eng")"#,
            r#"userName co "an""#,
            "title pr",
            r#"displayName eq "Jane""#,
        ] {
            let t = tr(f);
            assert!(!t.exact, "{f}");
            assert_eq!(show(&t), vec![vec![M.to_string()]], "{f}");
        }
        let t = tr(r#"title eq "Eng" or active eq false"#);
        assert!(t.exact);
        assert_eq!(t.groups.len(), 3);
    }

    #[test]
    fn combinations_are_bounded() {
        let f = (0..4)
            .map(|_| "(active eq false or title eq \"x\")".to_string())
            .collect::<Vec<_>>()
            .join(" and ");
        let t = tr(&f);
        assert!(!t.exact);
        assert!(t.groups.len() <= MAX_GROUPS);
    }
}
