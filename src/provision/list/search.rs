//! `POST /.search` at the service root (RFC 7644 §3.4.3): one query across Users and
//! Groups.
//!
//! Which resource types are searched: both when there is no filter; otherwise each
//! type for which the filter names at least one attribute of its schemas (`userName`,
//! `emails` → Users; `members` → Groups; `id`, `externalId`, `meta.*` → both; a
//! URN-qualified name → the type of that schema), narrowed by a
//! `meta.resourceType eq "…"` term when there is one. The result is the Users, then
//! the Groups, each in its own list order (`sortBy` sorts within a type);
//! `totalResults` is the sum of both totals and `startIndex`/`count` page over that
//! concatenation. Cost: the two lists' (`docs/provisioning.md`), the second one asked
//! for an empty page (its total only) when the first fills the page.

use serde_json::Value;

use super::{At, ListPage};
use crate::provision::{Ctx, Provisioner};
use crate::scim::filter::{CompValue, CompareOp, Filter};
use crate::scim::{self, ListQuery, ResourceKind};

impl Provisioner {
    /// `POST /.search`: Users and Groups matching `q`, paged over both (by index or
    /// by cursor).
    pub async fn search_all(&self, ctx: &Ctx, q: &ListQuery) -> Result<Value, scim::Error> {
        self.list(ctx, q, super::cursor::Walk::Root).await
    }

    /// The page at `at` of the concatenation Users ++ Groups.
    pub(in crate::provision) async fn search_page(
        &self,
        ctx: &Ctx,
        q: &ListQuery,
        at: &At,
        count: usize,
    ) -> Result<ListPage, scim::Error> {
        let start = at.offset();
        let mut total = 0usize;
        let mut items: Vec<Value> = Vec::new();
        // Items of the concatenation still to skip before the page starts.
        let mut skip = start;
        for kind in kinds_for(q.filter.as_ref()) {
            let sub = At::Offset(skip);
            let left = count.saturating_sub(items.len());
            let page = match kind {
                ResourceKind::User => self.users_page(ctx, q, &sub, left).await?,
                ResourceKind::Group => self.groups_page(ctx, q, &sub, left).await?,
            };
            total = total.saturating_add(page.total);
            skip = skip.saturating_sub(page.total as u64);
            items.extend(page.items);
        }
        let end = start + count as u64;
        Ok(ListPage {
            total,
            items,
            next: (end < total as u64).then_some((end, None)),
        })
    }
}

/// The resource types a root search looks at, in answer order.
pub(in crate::provision) fn kinds_for(filter: Option<&Filter>) -> Vec<ResourceKind> {
    let all = [ResourceKind::User, ResourceKind::Group];
    let Some(f) = filter else {
        return all.to_vec();
    };
    let typed = resource_type_term(f);
    all.into_iter()
        .filter(|k| f.names_attribute_of(*k))
        .filter(|k| typed.is_none_or(|t| t.eq_ignore_ascii_case(k.name())))
        .collect()
}

/// The value of a `meta.resourceType eq "…"` term the whole filter requires (one
/// side of an `and` tree), if any.
fn resource_type_term(f: &Filter) -> Option<&str> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(s),
        } if path.is(ResourceKind::User, "meta.resourceType") => Some(s),
        Filter::And(l, r) => resource_type_term(l).or_else(|| resource_type_term(r)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::filter;

    fn kinds(f: &str) -> Vec<ResourceKind> {
        kinds_for(Some(&filter::parse(f).expect("filter")))
    }

    #[test]
    fn the_filter_decides_the_types() {
        use ResourceKind::{Group, User};
        assert_eq!(kinds_for(None), [User, Group]);
        assert_eq!(kinds(r#"userName eq "a""#), [User]);
        assert_eq!(kinds(r#"emails[type eq "work"].value eq "a""#), [User]);
        assert_eq!(kinds(r#"members[value eq "x"]"#), [Group]);
        assert_eq!(kinds(r#"displayName eq "a""#), [User, Group]);
        assert_eq!(kinds(r#"externalId eq "a""#), [User, Group]);
        assert_eq!(
            kinds(r#"urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "a""#),
            [Group]
        );
        assert_eq!(
            kinds(r#"userName eq "a" or members[value eq "x"]"#),
            [User, Group]
        );
        assert_eq!(
            kinds(r#"meta.resourceType eq "group" and displayName sw "a""#),
            [Group]
        );
        assert!(kinds(r#"noSuchAttribute eq "a""#).is_empty());
    }
}
