//! Rest.li calls: `ingestProposalBatch` writes (the [`Proposal`] builder),
//! `GET /aspects` single-aspect reads, existence probes and hard delete.
//!
//! Every write is an `UPSERT` with `async=false` and the
//! `X-DataHub-Sync-Index-Update: true` MCP header; there is deliberately no
//! way to build a `DELETE`/`RESTATE` proposal (GMS silently drops them).

use std::collections::BTreeMap;

use http::Method;
use serde::Serialize;
use serde_json::{json, Value};

use super::aspects::{now_millis, Aspect, CorpGroupKey, CorpUserKey};
use super::audit::{targets_of, Change, Target};
use super::error::{Error, Result};
use super::transport::{expect_success, parse_json, status_error, Call, Client, Outcome};
use super::urn::{Urn, CORP_GROUP, CORP_USER};

/// `systemMetadata.runId` and `properties.appSource` of our writes.
pub const RUN_ID: &str = "datahub-scim";
/// MCP header asking GMS to index synchronously.
pub const SYNC_INDEX_HEADER: &str = "X-DataHub-Sync-Index-Update";
/// MCP header for conditional writes.
pub const IF_VERSION_MATCH: &str = "If-Version-Match";

/// One aspect value with the version to condition a write on.
#[derive(Debug, Clone, PartialEq)]
pub struct Versioned<T> {
    /// The aspect.
    pub value: T,
    /// Its `systemMetadata.version` (what `If-Version-Match` compares with).
    /// `None` when the read path does not report it: `GET /aspects` only
    /// reports the history index (always 0), so [`Client::get_aspect`] leaves
    /// this `None`; [`Client::batch_get`] fills it.
    pub version: Option<String>,
}

/// One MetadataChangeProposal, always `changeType: UPSERT`.
#[derive(Clone, PartialEq)]
pub struct Proposal {
    urn: Urn,
    aspect_name: &'static str,
    /// The aspect as JSON text, pure ASCII (`\uXXXX` escapes).
    value: String,
    /// MCP `headers` map.
    headers: BTreeMap<String, String>,
    /// A guard: the aspect restated exactly as read, only to condition the batch on
    /// its version (see [`Proposal::guard`]); it changes nothing in DataHub.
    guard: bool,
}

// Debug without the aspect value or urn key (personal data).
impl std::fmt::Debug for Proposal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proposal")
            .field("entity_type", &self.urn.entity_type())
            .field("aspect", &self.aspect_name)
            .field("headers", &self.headers)
            .field("guard", &self.guard)
            .finish()
    }
}

impl Proposal {
    /// UPSERT `aspect` on `urn` (unconditional, sync-indexed).
    pub fn upsert<A: Aspect>(urn: &Urn, aspect: &A) -> Result<Proposal> {
        let value = ascii_json(aspect)?;
        let mut headers = BTreeMap::new();
        headers.insert(SYNC_INDEX_HEADER.to_owned(), "true".to_owned());
        Ok(Proposal {
            urn: urn.clone(),
            aspect_name: A::NAME,
            value,
            headers,
            guard: false,
        })
    }

    /// A guard: UPSERT aspect `aspect_name` of `urn` with `value` exactly as a batch
    /// read returned it, conditioned on the version read (`If-Version-Match`). It
    /// makes a batch fail as a whole (a lost conditional write) when that aspect
    /// changed since the read, without writing it: GMS stores an unchanged value as a
    /// no-op (`EntityServiceImpl.ingestAspectToLocalDB` keeps the row and its version,
    /// refreshing only `lastObserved`), while `ConditionalWriteValidator` checks the
    /// precondition of every item of the batch, unchanged ones included. (For an
    /// aspect absent at the read, the caller passes a value meaning the same as its
    /// absence and `-1`.) Guards are left out of the write audit: they change no
    /// value.
    pub fn guard(
        urn: &Urn,
        aspect_name: &'static str,
        value: &(impl Serialize + ?Sized),
        if_version_match: impl Into<String>,
    ) -> Result<Proposal> {
        let mut p = Proposal {
            urn: urn.clone(),
            aspect_name,
            value: ascii_json(value)?,
            headers: BTreeMap::new(),
            guard: true,
        };
        p.headers
            .insert(SYNC_INDEX_HEADER.to_owned(), "true".to_owned());
        Ok(p.if_version_match(if_version_match))
    }

    /// True for a [`Proposal::guard`].
    pub fn is_guard(&self) -> bool {
        self.guard
    }

    /// Only write if the stored aspect's version is `version` (`"-1"`: only
    /// if the aspect is absent). A mismatch fails the whole batch with
    /// [`Error::PreconditionFailed`].
    pub fn if_version_match(mut self, version: impl Into<String>) -> Self {
        self.headers
            .insert(IF_VERSION_MATCH.to_owned(), version.into());
        self
    }

    /// Only write if the aspect does not exist yet (`If-Version-Match: -1`).
    pub fn if_absent(self) -> Self {
        self.if_version_match("-1")
    }

    /// Condition on what `entity` says about this proposal's aspect (its
    /// version; `-1` when absent; `1` when stored without a version).
    pub fn conditional_on(self, entity: &super::entities::EntityAspects) -> Self {
        let v = entity.write_precondition(self.aspect_name);
        self.if_version_match(v)
    }

    /// Target urn.
    pub fn urn(&self) -> &Urn {
        &self.urn
    }

    /// Aspect name, e.g. `corpUserInfo`.
    pub fn aspect_name(&self) -> &'static str {
        self.aspect_name
    }

    /// An MCP header, e.g. `If-Version-Match`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The aspect value as sent (ASCII JSON text).
    pub fn value_json(&self) -> &str {
        &self.value
    }

    /// The MCP JSON object, with `systemMetadata.lastObserved = last_observed`;
    /// `sync` says how GMS is asked to index it synchronously.
    pub fn to_mcp(&self, last_observed: i64, sync: SyncIndex) -> Value {
        let app_source = match sync {
            SyncIndex::Header => RUN_ID,
            SyncIndex::UiAppSource => UI_APP_SOURCE,
        };
        json!({
            "entityType": self.urn.entity_type(),
            "entityUrn": self.urn.as_str(),
            "changeType": "UPSERT",
            "aspectName": self.aspect_name,
            "aspect": {"value": self.value, "contentType": "application/json"},
            "systemMetadata": {
                "lastObserved": last_observed,
                "runId": RUN_ID,
                "properties": {"appSource": app_source},
            },
            "headers": self.headers,
        })
    }
}

/// An `If-Version-Match` no stored aspect can satisfy: versions start at 1 and an
/// absent aspect compares as `-1` (`ConditionalWriteValidator`).
const IMPOSSIBLE_VERSION: &str = "-2";
/// The group named in [`Client::can_write_identities`]' probe (never written).
pub const PRIVILEGE_PROBE_GROUP: &str = "datahub-scim-privilege-probe";

/// `systemMetadata.properties.appSource` that makes GMS index a write in-request
/// on every release (`PRE_PROCESS_HOOKS_UI_ENABLED`, default on): what GraphQL
/// mutations send. Used only where the sync-index header is not honoured (< 1.0).
pub const UI_APP_SOURCE: &str = "ui";

/// How a write asks GMS to update its search and graph indexes in-request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncIndex {
    /// The `X-DataHub-Sync-Index-Update: true` MCP header (DataHub ≥ 1.0.0), with
    /// our own `appSource`.
    Header,
    /// The header and `appSource = "ui"` (DataHub < 1.0.0 ignores the header).
    UiAppSource,
}

/// `{"proposals": [...], "async": "false"}` (Rest.li declares `async` a string:
/// a JSON boolean is rejected).
pub fn ingest_body(proposals: &[Proposal], last_observed: i64, sync: SyncIndex) -> Value {
    let mcps: Vec<Value> = proposals
        .iter()
        .map(|p| p.to_mcp(last_observed, sync))
        .collect();
    json!({"proposals": mcps, "async": "false"})
}

/// Serialize to JSON with every non-ASCII character escaped as `\uXXXX`
/// (UTF-16 surrogate pairs above U+FFFF), as Python's `json.dumps` does.
pub fn ascii_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    let raw = serde_json::to_string(value)
        .map_err(|e| Error::Invalid(format!("aspect does not serialize: {e}")))?;
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            // Non-ASCII can only occur inside JSON strings, where \u is valid.
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    Ok(out)
}

/// The key aspect whose presence means "the entity exists".
pub(crate) fn key_aspect_name(urn: &Urn) -> Result<&'static str> {
    match urn.entity_type() {
        CORP_USER => Ok(CorpUserKey::NAME),
        CORP_GROUP => Ok(CorpGroupKey::NAME),
        _ => Err(Error::Invalid(
            "urn is neither a corpuser nor a corpGroup".into(),
        )),
    }
}

/// Parse a `GET /aspects` body: `{"aspect": {"<FQCN>": {...}}, "version": 0}`.
pub fn parse_versioned_aspect<A: Aspect>(body: &[u8]) -> Result<A> {
    let v: Value = parse_json("GET /aspects", body)?;
    let union = v
        .get("aspect")
        .and_then(Value::as_object)
        .ok_or_else(|| Error::InvalidResponse("GET /aspects: no `aspect` object".into()))?;
    let inner = match union.get(A::FQCN) {
        Some(inner) => inner,
        // Tolerate another namespace spelling if it is the only member.
        None if union.len() == 1 => union.values().next().expect("len checked"),
        None => {
            return Err(Error::InvalidResponse(format!(
                "GET /aspects: expected {}",
                A::FQCN
            )))
        }
    };
    serde_json::from_value(inner.clone())
        .map_err(|e| Error::InvalidResponse(format!("{}: {e}", A::NAME)))
}

// === impl Client (Rest.li) ===

impl Client {
    /// Write `proposals` in one `ingestProposalBatch` call (`async=false`).
    /// An empty slice sends nothing. A lost `If-Version-Match` fails the whole
    /// batch with [`Error::PreconditionFailed`]. The write audit hears of every
    /// call sent.
    pub async fn ingest(&self, token: &str, proposals: &[Proposal]) -> Result<()> {
        self.ingest_reporting(token, proposals, true).await
    }

    /// [`Client::ingest`]; with `report_failures` false, only a call GMS applied is
    /// reported to the write audit (the privilege probe, meant to change nothing).
    async fn ingest_reporting(
        &self,
        token: &str,
        proposals: &[Proposal],
        report_failures: bool,
    ) -> Result<()> {
        if proposals.is_empty() {
            return Ok(());
        }
        let sync = self.sync_index().await;
        let body = serde_json::to_vec(&ingest_body(proposals, now_millis(), sync))
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let call = Call {
            endpoint: "restli.ingestProposalBatch",
            method: Method::POST,
            path: "/aspects?action=ingestProposalBatch".into(),
            token: Some(token),
            body: Some(body),
            restli: true,
        };
        let (outcome, result) = self.exchange_outcome(call, expect_success).await;
        if report_failures || outcome == Outcome::Ok {
            self.report_write(Change::Upsert, targets_of(proposals), outcome);
        }
        result
    }

    /// May this token write users and groups? DataHub decides per write
    /// (`AspectResource` checks every MCP of a batch against `API_ENTITY_PRIVILEGE_MAP`
    /// before validating any), and since 1.2 finer privileges than *Manage Users &
    /// Groups* (which `me.manageIdentities` reflects) suffice. So ask it the same way:
    /// a batch of one user and one group write conditioned on a version no aspect
    /// can have (`If-Version-Match: -2`). An authorized token gets the 422
    /// precondition failure (nothing is written: pre-commit validation rolls the
    /// transaction back), an unauthorized one 403.
    pub async fn can_write_identities(&self, token: &str, actor: &Urn) -> Result<bool> {
        let probe = |urn: &Urn, removed: bool| {
            Proposal::upsert(urn, &super::aspects::Status::removed(removed))
                .map(|p| p.if_version_match(IMPOSSIBLE_VERSION))
        };
        let proposals = [
            probe(actor, false)?,
            probe(&Urn::corp_group(PRIVILEGE_PROBE_GROUP), true)?,
        ];
        match self.ingest_reporting(token, &proposals, false).await {
            Err(Error::PreconditionFailed(_)) => Ok(true),
            Err(Error::Forbidden(_)) => Ok(false),
            Ok(()) => {
                tracing::warn!("DataHub applied a write conditioned on an impossible version");
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    /// Latest value of aspect `A` on `urn` via `GET /aspects/{urn}?aspect=…&version=0`;
    /// `None` when absent (404). The version is not reported on this path.
    pub async fn get_aspect<A: Aspect>(
        &self,
        token: &str,
        urn: &Urn,
    ) -> Result<Option<Versioned<A>>> {
        let call = Call {
            endpoint: "restli.getAspect",
            method: Method::GET,
            path: format!("/aspects/{}?aspect={}&version=0", urn.encoded(), A::NAME),
            token: Some(token),
            body: None,
            restli: true,
        };
        self.exchange(call, |r| match r.status.as_u16() {
            200..=299 => Ok(Some(Versioned {
                value: parse_versioned_aspect::<A>(&r.body)?,
                version: None,
            })),
            404 => Ok(None),
            _ => Err(status_error(&r)),
        })
        .await
    }

    /// Does the entity exist (key aspect row present; soft-deleted counts)?
    /// `GET /aspects/{urn}?aspect=corpUserKey|corpGroupKey&version=0`, 404 → false.
    /// Never synthesizes phantom users, unlike `entitiesV2` or GraphQL.
    pub async fn key_exists(&self, token: &str, urn: &Urn) -> Result<bool> {
        let key = key_aspect_name(urn)?;
        let call = Call {
            endpoint: "restli.keyExists",
            method: Method::GET,
            path: format!("/aspects/{}?aspect={key}&version=0", urn.encoded()),
            token: Some(token),
            body: None,
            restli: true,
        };
        self.exchange(call, |r| match r.status.as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            _ => Err(status_error(&r)),
        })
        .await
    }

    /// `POST /entities?action=exists {"urn", "includeSoftDelete"}` → `{"value": bool}`.
    pub async fn exists(&self, token: &str, urn: &Urn, include_soft_deleted: bool) -> Result<bool> {
        let body = json!({"urn": urn.as_str(), "includeSoftDelete": include_soft_deleted});
        let call = Call {
            endpoint: "restli.exists",
            method: Method::POST,
            path: "/entities?action=exists".into(),
            token: Some(token),
            body: Some(body.to_string().into_bytes()),
            restli: true,
        };
        self.exchange(call, |r| {
            if !r.status.is_success() {
                return Err(status_error(&r));
            }
            let v: Value = parse_json("entities?action=exists", &r.body)?;
            v.get("value").and_then(Value::as_bool).ok_or_else(|| {
                Error::InvalidResponse("entities?action=exists: no boolean `value`".into())
            })
        })
        .await
    }

    /// Hard delete (every aspect, key included): `POST /entities?action=delete {"urn"}`.
    /// References held by other entities are not cleaned. Reported to the write audit.
    pub async fn hard_delete(&self, token: &str, urn: &Urn) -> Result<()> {
        let body = json!({"urn": urn.as_str()});
        let call = Call {
            endpoint: "restli.delete",
            method: Method::POST,
            path: "/entities?action=delete".into(),
            token: Some(token),
            body: Some(body.to_string().into_bytes()),
            restli: true,
        };
        let (outcome, result) = self.exchange_outcome(call, expect_success).await;
        let target = Target {
            urn,
            aspects: Vec::new(),
        };
        self.report_write(Change::HardDelete, vec![target], outcome);
        result
    }
}

#[cfg(test)]
#[path = "restli_tests.rs"]
mod tests;
