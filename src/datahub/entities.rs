//! Batch reads through Rest.li `entitiesV2` (primary store, read-your-writes),
//! returning each aspect with the `systemMetadata.version` that conditional
//! writes compare against.
//!
//! # Absent vs present
//!
//! `entitiesV2` answers 200 for any urn and synthesizes the key aspect for
//! urns that have no rows, so the key aspect (`corpUserKey`/`corpGroupKey`)
//! is dropped from every [`EntityAspects`]. A caller tells:
//! - **no data** (absent, or holding none of the requested aspects):
//!   [`EntityAspects::has_data`] is false;
//! - **present**: `has_data()` is true, and [`EntityAspects::get`] returns the
//!   aspects that exist.
//!
//! `has_data` is relative to the aspects asked for. When "does the entity
//! exist at all" matters, ask [`Client::key_exists`].

use std::collections::BTreeMap;

use http::Method;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::aspects::Aspect;
use super::error::{Error, Result};
use super::restli::Versioned;
use super::transport::{parse_json, status_error, Call, Client};
use super::urn::{encode_component, Urn};

/// Urns per `entitiesV2` call (keeps URLs well under common 8 KiB limits
/// for typical urns; longer ones are split further by length).
pub const BATCH_CHUNK: usize = 100;
/// Soft cap on the encoded `ids=List(...)` length per call.
const MAX_IDS_LEN: usize = 6000;

/// One stored aspect as `entitiesV2` returns it.
#[derive(Debug, Clone)]
pub struct RawAspect {
    /// The aspect JSON (no FQCN wrapper), as GMS sent it: parsed into the typed
    /// aspect when asked for, never into a `Value` tree.
    pub value: Box<RawValue>,
    /// `systemMetadata.version`, if reported.
    pub version: Option<String>,
}

impl PartialEq for RawAspect {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version && self.value.get() == other.value.get()
    }
}

/// What a batch read found for one urn (key aspect excluded, see module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct EntityAspects {
    /// The urn asked for.
    pub urn: Urn,
    aspects: BTreeMap<String, RawAspect>,
}

impl EntityAspects {
    /// An entity with none of the requested aspects.
    pub fn empty(urn: Urn) -> Self {
        EntityAspects {
            urn,
            aspects: BTreeMap::new(),
        }
    }

    /// True when at least one requested non-key aspect is stored.
    pub fn has_data(&self) -> bool {
        !self.aspects.is_empty()
    }

    /// Is aspect `name` stored?
    pub fn contains(&self, name: &str) -> bool {
        self.aspects.contains_key(name)
    }

    /// Names of the stored aspects (key excluded).
    pub fn aspect_names(&self) -> impl Iterator<Item = &str> {
        self.aspects.keys().map(String::as_str)
    }

    /// The raw stored aspect `name`.
    pub fn raw(&self, name: &str) -> Option<&RawAspect> {
        self.aspects.get(name)
    }

    /// Aspect `A`, typed, with its version; `Ok(None)` when not stored.
    pub fn get<A: Aspect>(&self) -> Result<Option<Versioned<A>>> {
        let Some(raw) = self.aspects.get(A::NAME) else {
            return Ok(None);
        };
        let value = serde_json::from_str(raw.value.get())
            .map_err(|e| Error::InvalidResponse(format!("{}: {e}", A::NAME)))?;
        Ok(Some(Versioned {
            value,
            version: raw.version.clone(),
        }))
    }

    /// The `If-Version-Match` value that makes a write of aspect `name`
    /// succeed only if nothing changed since this read: its version, `-1` when
    /// it is absent, and `1` when it is stored without a version (written before
    /// DataHub versioned aspects): `ConditionalWriteValidator` compares such an
    /// aspect's version as `"1"`, so the write stays conditional.
    pub fn write_precondition(&self, name: &str) -> String {
        match self.aspects.get(name) {
            None => "-1".to_owned(),
            Some(raw) => raw.version.clone().unwrap_or_else(|| "1".to_owned()),
        }
    }

    /// Insert an aspect (used by tests of callers).
    pub fn insert(&mut self, name: impl Into<String>, value: Value, version: Option<String>) {
        let value = serde_json::value::to_raw_value(&value)
            .unwrap_or_else(|_| RawValue::from_string("null".into()).expect("null is JSON"));
        self.aspects
            .insert(name.into(), RawAspect { value, version });
    }
}

/// The path and query of one batch read.
pub fn batch_get_path(urns: &[Urn], aspects: &[&str]) -> String {
    let ids: Vec<String> = urns.iter().map(Urn::encoded).collect();
    let names: Vec<String> = aspects.iter().map(|a| encode_component(a)).collect();
    format!(
        "/entitiesV2?ids=List({})&aspects=List({})",
        ids.join(","),
        names.join(",")
    )
}

/// Split `urns` into chunks of at most [`BATCH_CHUNK`] urns and about
/// `MAX_IDS_LEN` encoded bytes.
fn chunks(urns: &[Urn]) -> Vec<&[Urn]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut len = 0;
    for (i, u) in urns.iter().enumerate() {
        let l = u.encoded().len() + 1;
        if i > start && (i - start >= BATCH_CHUNK || len + l > MAX_IDS_LEN) {
            out.push(&urns[start..i]);
            start = i;
            len = 0;
        }
        len += l;
    }
    if start < urns.len() {
        out.push(&urns[start..]);
    }
    out
}

/// A batch `entitiesV2` answer, as far as we read it.
#[derive(Deserialize)]
struct BatchBody {
    results: Option<BTreeMap<String, EntityBody>>,
    #[serde(default)]
    errors: Option<BTreeMap<String, EntityError>>,
}

#[derive(Deserialize)]
struct EntityBody {
    urn: Option<String>,
    #[serde(default)]
    aspects: Option<BTreeMap<String, AspectBody>>,
}

#[derive(Deserialize)]
struct AspectBody {
    value: Option<Box<RawValue>>,
    #[serde(rename = "systemMetadata")]
    system_metadata: Option<SystemMetadata>,
}

#[derive(Deserialize)]
struct SystemMetadata {
    version: Option<Value>,
}

#[derive(Deserialize)]
struct EntityError {
    status: Option<Value>,
}

/// Parse a batch `entitiesV2` body into per-urn aspects. Urns missing from
/// `results` are absent. Per-key errors with status 401/403/5xx fail the call;
/// other per-key errors (e.g. 404) mean absent.
pub fn parse_batch(body: &[u8]) -> Result<BTreeMap<Urn, EntityAspects>> {
    let v: BatchBody = parse_json("entitiesV2", body)?;
    for e in v.errors.iter().flat_map(|e| e.values()) {
        let status = e.status.as_ref().and_then(Value::as_u64).unwrap_or(0);
        match status {
            401 => return Err(Error::Unauthorized),
            403 => return Err(Error::Forbidden("entitiesV2 per-entity error".into())),
            500..=599 => {
                return Err(Error::unavailable(format!(
                    "entitiesV2 entity error {status}"
                )))
            }
            _ => {}
        }
    }
    let results = v
        .results
        .ok_or_else(|| Error::InvalidResponse("entitiesV2: no `results` object".into()))?;
    let mut out = BTreeMap::new();
    for (key, resp) in results {
        let urn = resp
            .urn
            .or_else(|| {
                percent_encoding::percent_decode_str(&key)
                    .decode_utf8()
                    .ok()
                    .map(|c| c.into_owned())
            })
            .and_then(|s| s.parse::<Urn>().ok())
            .ok_or_else(|| Error::InvalidResponse("entitiesV2: result without a urn".into()))?;
        let key_name = super::restli::key_aspect_name(&urn).ok();
        let mut entity = EntityAspects::empty(urn.clone());
        for (name, a) in resp.aspects.into_iter().flatten() {
            if Some(name.as_str()) == key_name || name.ends_with("Key") {
                continue;
            }
            let Some(value) = a.value else {
                continue;
            };
            let version = a
                .system_metadata
                .and_then(|m| m.version)
                .and_then(|v| match v {
                    Value::String(s) => Some(s),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                });
            entity.aspects.insert(name, RawAspect { value, version });
        }
        out.insert(urn, entity);
    }
    Ok(out)
}

// === impl Client (entitiesV2) ===

impl Client {
    /// Read `aspects` of every urn with `GET /entitiesV2?ids=List(...)&aspects=List(...)`,
    /// [`BATCH_CHUNK`] urns per call. The result is index-aligned with `urns`;
    /// see the module doc for telling absent from present.
    pub async fn batch_get(
        &self,
        token: &str,
        urns: &[Urn],
        aspects: &[&str],
    ) -> Result<Vec<EntityAspects>> {
        let mut found: BTreeMap<Urn, EntityAspects> = BTreeMap::new();
        for chunk in chunks(urns) {
            let call = Call {
                endpoint: "restli.entitiesV2.batchGet",
                method: Method::GET,
                path: batch_get_path(chunk, aspects),
                token: Some(token),
                body: None,
                restli: true,
            };
            let part = self
                .exchange(call, |r| {
                    if r.status.is_success() {
                        parse_batch(&r.body)
                    } else {
                        Err(status_error(&r))
                    }
                })
                .await?;
            found.extend(part);
        }
        // Moved out, not cloned; a urn asked for twice gets a copy.
        let mut out: Vec<EntityAspects> = Vec::with_capacity(urns.len());
        for u in urns {
            let e = match found.remove(u) {
                Some(e) => e,
                None => out
                    .iter()
                    .find(|e| &e.urn == u)
                    .cloned()
                    .unwrap_or_else(|| EntityAspects::empty(u.clone())),
            };
            out.push(e);
        }
        Ok(out)
    }
}

#[cfg(test)]
#[path = "entities_tests.rs"]
mod tests;
