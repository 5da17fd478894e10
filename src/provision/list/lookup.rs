//! Lookups behind the list filters: `externalId` and renamed-group `displayName`
//! (cache, then search), index queries and scans, and batch primary-store reads.
//! Every index answer is re-checked against the primary store by the caller.

use std::sync::Mutex;

use crate::datahub::{EntityAspects, EntityKind, FacetFilter, SearchRequest, Urn, BATCH_CHUNK};
use crate::provision::errors::{from_datahub, Fail};
use crate::provision::record::{GroupRecord, UserRecord, GROUP_ASPECTS, USER_ASPECTS};
use crate::provision::{cache::Kind, naming, Ctx, Provisioner};
use crate::scim;

/// `entitiesV2` calls in flight at once while hydrating a large set.
const READ_CONCURRENCY: usize = 4;
/// Most index results a search fallback looks at.
const SEARCH_PAGE: u32 = 50;

impl Provisioner {
    /// Users whose stored `scim.externalId` is `ext` (cache, else search), as read
    /// from the primary store: each is read once, and that read is both the check
    /// and what the caller renders.
    pub(in crate::provision) async fn by_external_id(
        &self,
        ctx: &Ctx,
        ext: &str,
    ) -> Result<Vec<UserRecord>, scim::Error> {
        let verify = |rec: &UserRecord| {
            rec.visible()
                && rec
                    .info
                    .as_ref()
                    .and_then(|i| {
                        i.custom_properties
                            .get(crate::provision::users::map::KEY_EXTERNAL_ID)
                    })
                    .map(String::as_str)
                    == Some(ext)
        };
        // What this request's own load read (absent when the cache answered, or when
        // a concurrent request's load was shared).
        let loaded_now: Mutex<Option<UserRecord>> = Mutex::new(None);
        let loaded = self
            .cache
            .external_id(Kind::User, ext, || async {
                let urns = self.external_id_hits(ctx, ext).await?;
                let recs = self.hydrate_users(ctx, &urns).await?;
                let recs = self.follow_moves(ctx, recs).await?;
                let hit = recs.into_iter().find(|r| verify(r));
                let urn = hit.as_ref().map(|r| r.urn.to_string());
                *loaded_now.lock().unwrap_or_else(|p| p.into_inner()) = hit;
                Ok(urn)
            })
            .await?;
        if let Some(rec) = loaded_now.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Ok(vec![rec]);
        }
        let Some(urn) = loaded.and_then(|u| u.parse::<Urn>().ok()) else {
            return Ok(Vec::new());
        };
        // The cache is never the only source of truth: check the entry still holds.
        let recs = self.hydrate_users(ctx, std::slice::from_ref(&urn)).await?;
        if recs.iter().any(verify) {
            return Ok(recs.into_iter().filter(|r| verify(r)).collect());
        }
        self.cache.forget_external_id(Kind::User, ext).await;
        let urns = self.external_id_hits(ctx, ext).await?;
        let recs = self.hydrate_users(ctx, &urns).await?;
        let recs = self.follow_moves(ctx, recs).await?;
        Ok(recs.into_iter().filter(|r| verify(r)).collect())
    }

    /// `recs`, plus the users that renames moved any of them to (one more read, only
    /// when there are such). An index that lags behind a rename (made on another
    /// replica) still finds the person under the former account; the primary store
    /// forwards to the user it is now. Never for list pages: there the user moved to
    /// has its own index entry, and following would show it twice.
    pub(in crate::provision) async fn follow_moves(
        &self,
        ctx: &Ctx,
        mut recs: Vec<UserRecord>,
    ) -> Result<Vec<UserRecord>, scim::Error> {
        let next: Vec<Urn> = recs
            .iter()
            .filter(|r| !r.visible())
            .filter_map(UserRecord::moved_to)
            .filter(|u| !recs.iter().any(|r| r.urn == *u))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if !next.is_empty() {
            recs.extend(self.hydrate_users(ctx, &next).await?);
        }
        Ok(recs)
    }

    /// Groups whose SCIM `externalId` is `ext`. It lives in `origin.externalType`
    /// (`groups::map`), which DataHub does not index, so: the ID-mapping cache,
    /// checked against the primary store; on a miss, a bounded scan of every group
    /// (`max_filter_scan`, else `400 tooMany`) that remembers the `externalId` of
    /// every group it reads, so an IdP matching its groups one after another
    /// (Entra's first cycle) costs one scan per cache lifetime and one read per group.
    pub(in crate::provision) async fn groups_by_external_id(
        &self,
        ctx: &Ctx,
        ext: &str,
    ) -> Result<Vec<GroupRecord>, scim::Error> {
        use crate::provision::groups::map::external_id_of;
        let verify = |rec: &GroupRecord| {
            rec.live() && external_id_of(rec.origin.as_ref()).as_deref() == Some(ext)
        };
        let scanned: Mutex<Option<Vec<GroupRecord>>> = Mutex::new(None);
        let scan = || async {
            let urns = self
                .scan_index(ctx, EntityKind::CorpGroup, Vec::new())
                .await?;
            let recs = self.hydrate_groups(ctx, &urns).await?;
            for rec in recs.iter().filter(|r| r.live()) {
                if let Some(e) = external_id_of(rec.origin.as_ref()).filter(|e| e != ext) {
                    self.cache
                        .remember_external_id(Kind::Group, &e, rec.urn.as_str())
                        .await;
                }
            }
            let hit = recs.iter().find(|r| verify(r)).map(|r| r.urn.to_string());
            *scanned.lock().unwrap_or_else(|p| p.into_inner()) = Some(recs);
            Ok(hit)
        };
        let loaded = self.cache.external_id(Kind::Group, ext, scan).await?;
        if let Some(recs) = scanned.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Ok(recs.into_iter().filter(|r| verify(r)).collect());
        }
        let Some(urn) = loaded.and_then(|u| u.parse::<Urn>().ok()) else {
            return Ok(Vec::new());
        };
        // The cache is never the only source of truth: check the entry still holds.
        let recs = self.hydrate_groups(ctx, std::slice::from_ref(&urn)).await?;
        if recs.iter().any(verify) {
            return Ok(recs.into_iter().filter(|r| verify(r)).collect());
        }
        self.cache.forget_external_id(Kind::Group, ext).await;
        let urns = self
            .scan_index(ctx, EntityKind::CorpGroup, Vec::new())
            .await?;
        let recs = self.hydrate_groups(ctx, &urns).await?;
        let found: Vec<GroupRecord> = recs.into_iter().filter(|r| verify(r)).collect();
        if let Some(r) = found.first() {
            self.cache
                .remember_external_id(Kind::Group, ext, r.urn.as_str())
                .await;
        }
        Ok(found)
    }

    /// Index candidates for an `externalId`: `customProperties` is indexed as
    /// `key=value` strings, so an exact filter first; a full-text query second (the
    /// field is also `queryByDefault`). Callers verify every hit.
    async fn external_id_hits(&self, ctx: &Ctx, ext: &str) -> Result<Vec<Urn>, scim::Error> {
        let key = format!("{}={ext}", crate::provision::users::map::KEY_EXTERNAL_ID);
        let exact = FacetFilter::equal("customProperties", &key);
        let urns = self
            .search_filtered(ctx, EntityKind::CorpUser, exact)
            .await?;
        if !urns.is_empty() {
            return Ok(urns);
        }
        self.search(ctx, EntityKind::CorpUser, ext).await
    }

    /// Index candidates for users whose `userName` equals `user_name` ignoring case,
    /// in one search: the folded-name property (any script), or `scim.userName`
    /// `IEQUAL` (DataHub folds ASCII only; finds users written before the folded
    /// property existed). Callers verify every hit.
    pub(in crate::provision) async fn user_name_hits(
        &self,
        ctx: &Ctx,
        user_name: &str,
    ) -> Result<Vec<Urn>, scim::Error> {
        use crate::provision::users::map::{KEY_USER_NAME, KEY_USER_NAME_FOLDED};
        let folded = format!("{KEY_USER_NAME_FOLDED}={}", naming::fold_case(user_name));
        let exact = format!("{KEY_USER_NAME}={user_name}");
        let or_filters = vec![
            vec![FacetFilter::equal("customProperties", &folded)],
            vec![FacetFilter::iequal("customProperties", &exact)],
        ];
        self.search_any(ctx, EntityKind::CorpUser, or_filters).await
    }

    /// Groups whose displayName is `name` (case-insensitive), as read from the
    /// primary store: the derived urn, the rename cache, then a search. The caller's
    /// filter match has the last word; each group is read once.
    pub(in crate::provision) async fn by_display_name(
        &self,
        ctx: &Ctx,
        name: &str,
    ) -> Result<Vec<GroupRecord>, scim::Error> {
        let verify =
            |rec: &GroupRecord| rec.live() && rec.display_name().eq_ignore_ascii_case(name);
        let mut found = Vec::new();
        if let Ok(n) = naming::group_name_for(name) {
            let derived = Urn::corp_group(&n);
            let recs = self
                .hydrate_groups(ctx, std::slice::from_ref(&derived))
                .await?;
            if recs.iter().any(verify) {
                return Ok(recs.into_iter().filter(|r| verify(r)).collect());
            }
            found.extend(recs.into_iter().filter(GroupRecord::live));
        }
        let loaded_now: Mutex<Option<GroupRecord>> = Mutex::new(None);
        let cached = self
            .cache
            .group_name(name, || async {
                let urns = self.search(ctx, EntityKind::CorpGroup, name).await?;
                let recs = self.hydrate_groups(ctx, &urns).await?;
                let hit = recs.into_iter().find(|r| verify(r));
                let urn = hit.as_ref().map(|r| r.urn.to_string());
                *loaded_now.lock().unwrap_or_else(|p| p.into_inner()) = hit;
                Ok(urn)
            })
            .await?;
        if let Some(rec) = loaded_now.into_inner().unwrap_or_else(|p| p.into_inner()) {
            return Ok(vec![rec]);
        }
        if let Some(urn) = cached.and_then(|u| u.parse::<Urn>().ok()) {
            let recs = self.hydrate_groups(ctx, std::slice::from_ref(&urn)).await?;
            if recs.iter().any(verify) {
                return Ok(recs.into_iter().filter(|r| verify(r)).collect());
            }
            self.cache.forget_group_name(name).await;
        }
        Ok(found)
    }

    /// Urns of a full-text search (index-backed; callers verify every hit).
    async fn search(
        &self,
        ctx: &Ctx,
        kind: EntityKind,
        query: &str,
    ) -> Result<Vec<Urn>, scim::Error> {
        self.first_hits(ctx, kind, query, Vec::new()).await
    }

    /// Urns matching one index filter, sorted (callers verify every hit).
    pub(in crate::provision) async fn search_filtered(
        &self,
        ctx: &Ctx,
        kind: EntityKind,
        filter: FacetFilter,
    ) -> Result<Vec<Urn>, scim::Error> {
        let mut urns = self.first_hits(ctx, kind, "*", vec![vec![filter]]).await?;
        urns.sort();
        Ok(urns)
    }

    /// Urns matching any of the filter groups, sorted (callers verify every hit).
    pub(in crate::provision) async fn search_any(
        &self,
        ctx: &Ctx,
        kind: EntityKind,
        or_filters: Vec<Vec<FacetFilter>>,
    ) -> Result<Vec<Urn>, scim::Error> {
        let mut urns = self.first_hits(ctx, kind, "*", or_filters).await?;
        urns.sort();
        Ok(urns)
    }

    /// The first [`SEARCH_PAGE`] hits of a search, in relevance order.
    async fn first_hits(
        &self,
        ctx: &Ctx,
        kind: EntityKind,
        query: &str,
        or_filters: Vec<Vec<FacetFilter>>,
    ) -> Result<Vec<Urn>, scim::Error> {
        let req = SearchRequest {
            types: vec![kind],
            query: query.to_owned(),
            or_filters,
            start: 0,
            count: SEARCH_PAGE,
            include_soft_deleted: false,
            sort_by_urn: false,
        };
        let page = self
            .client
            .search(&ctx.token, &req)
            .await
            .map_err(from_datahub)?;
        Ok(page.urns)
    }

    /// Batch primary-store read of users (100 urns per call, a few calls at once).
    pub(in crate::provision) async fn hydrate_users(
        &self,
        ctx: &Ctx,
        urns: &[Urn],
    ) -> Result<Vec<UserRecord>, scim::Error> {
        self.hydrate(ctx, urns, USER_ASPECTS, UserRecord::from_entity)
            .await
    }

    /// Batch primary-store read of groups.
    pub(in crate::provision) async fn hydrate_groups(
        &self,
        ctx: &Ctx,
        urns: &[Urn],
    ) -> Result<Vec<GroupRecord>, scim::Error> {
        self.hydrate(ctx, urns, GROUP_ASPECTS, GroupRecord::from_entity)
            .await
    }

    /// [`Self::read_many`], each entity typed by `record`.
    async fn hydrate<R>(
        &self,
        ctx: &Ctx,
        urns: &[Urn],
        aspects: &'static [&'static str],
        record: fn(&EntityAspects) -> Result<R, Fail>,
    ) -> Result<Vec<R>, scim::Error> {
        let ents = self.read_many(ctx, urns, aspects).await?;
        ents.iter()
            .map(|e| record(e).map_err(scim::Error::from))
            .collect()
    }

    /// `entitiesV2` batch reads in input order: one call for up to
    /// [`BATCH_CHUNK`] urns; larger sets (a full list scan) run
    /// [`READ_CONCURRENCY`] calls at a time to stay well inside IdP timeouts.
    pub(in crate::provision) async fn read_many(
        &self,
        ctx: &Ctx,
        urns: &[Urn],
        aspects: &'static [&'static str],
    ) -> Result<Vec<EntityAspects>, scim::Error> {
        if urns.len() <= BATCH_CHUNK {
            if urns.is_empty() {
                return Ok(Vec::new());
            }
            return self
                .client
                .batch_get(&ctx.token, urns, aspects)
                .await
                .map_err(from_datahub);
        }
        let chunks: Vec<Vec<Urn>> = urns.chunks(BATCH_CHUNK).map(<[Urn]>::to_vec).collect();
        let mut parts: Vec<Option<Vec<EntityAspects>>> = vec![None; chunks.len()];
        for (wave, group) in chunks.chunks(READ_CONCURRENCY).enumerate() {
            let mut set = tokio::task::JoinSet::new();
            for (i, chunk) in group.iter().enumerate() {
                let (client, token, chunk) =
                    (self.client.clone(), ctx.token.clone(), chunk.clone());
                let at = wave * READ_CONCURRENCY + i;
                set.spawn(async move { (at, client.batch_get(&token, &chunk, aspects).await) });
            }
            while let Some(joined) = set.join_next().await {
                let (at, r) = joined.map_err(|_| scim::Error::internal())?;
                parts[at] = Some(r.map_err(from_datahub)?);
            }
        }
        Ok(parts.into_iter().flatten().flatten().collect())
    }
}
