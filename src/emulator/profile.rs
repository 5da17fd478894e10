//! The DataHub release the emulator plays. Behaviour that changed between releases is
//! switched here, one predicate per change, each named after the DataHub pull request
//! that made it (release mapping: the first release whose release-notes commit contains
//! the PR; see `docs/emulator.md#release-profiles`).

use std::fmt;

/// A DataHub release number such as `1.7.0`, `v0.15.0`, `0.15.0.1` or `1.0.0rc3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    text: String,
    parts: [u32; 4],
}

/// How GraphQL turns an unexpected exception into `errors[].message`
/// (`DataHubDataFetcherExceptionHandler`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorDetail {
    /// ≤ 1.2.x: `"An unknown error occurred."` unless the cause is an
    /// `IllegalArgumentException` (400) or a `DataHubGraphQLException`.
    Unknown,
    /// 1.3.x (#14795): the first `RuntimeException` message of the cause chain.
    FirstRuntime,
    /// ≥ 1.4.0 (#15455): that message plus `". Root cause: "` and the causes' messages.
    RootCause,
}

impl Release {
    /// Parses a release number; a leading `v` and a pre-release suffix (`rc3`, `-SNAPSHOT`)
    /// are accepted, as DataHub's own `server_config_util` accepts them.
    pub fn parse(s: &str) -> Result<Release, String> {
        let text = s.trim().trim_start_matches(['v', 'V']).to_string();
        let numeric_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let nums: Vec<&str> = text[..numeric_end].split('.').collect();
        let bad = || format!("{s:?} is not a DataHub release number (e.g. 1.7.0, 0.15.0)");
        if !(3..=4).contains(&nums.len()) {
            return Err(bad());
        }
        let mut parts = [0u32; 4];
        for (i, n) in nums.iter().enumerate() {
            parts[i] = n.parse().map_err(|_| bad())?;
        }
        Ok(Release { text, parts })
    }

    /// The release number without a leading `v`, as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// `GET /config` `versions["acryldata/datahub"].version`: the git tag, `v` included
    /// (`GitVersion.getVersion`, which cuts `git describe` at the first `-`).
    pub fn tag(&self) -> String {
        let t = format!("v{}", self.text);
        t.split('-').next().unwrap_or(&t).to_string()
    }

    /// Whether this release is `major.minor.patch` or later.
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        self.parts[..3] >= [major, minor, patch][..]
    }

    /// #12500 (1.0.0): the MCP header `X-DataHub-Sync-Index-Update` indexes in-request.
    pub fn sync_index_header(&self) -> bool {
        self.at_least(1, 0, 0)
    }

    /// #12405 (1.0.0): `ChangeItemImpl.toString` prints `changeType, auditStamp,
    /// systemMetadata, recordTemplate, aspectName, urn` (before: `changeType, urn,
    /// aspectName, recordTemplate, systemMetadata`).
    pub fn change_item_v1_layout(&self) -> bool {
        self.at_least(1, 0, 0)
    }

    /// #12572 (1.0.0): a proposed-aspect validation failure is a `ValidationException`
    /// (422); before, an `IllegalArgumentException` (400).
    pub fn proposed_validation_status(&self) -> u16 {
        if self.at_least(1, 0, 0) {
            422
        } else {
            400
        }
    }

    /// #12746 (1.0.0): `scrollAcrossEntities` honours `sortInput` and adds the synthetic
    /// `entity` facet.
    pub fn scroll_sort_and_entity_facet(&self) -> bool {
        self.at_least(1, 0, 0)
    }

    /// #12637 (1.2.0): `CREATE_USERS`, `UPDATE_USERS`, `CREATE_GROUPS`, `UPDATE_GROUPS`.
    pub fn fine_identity_privileges(&self) -> bool {
        self.at_least(1, 2, 0)
    }

    /// #13947 (1.2.0): a token whose actor is suspended or (soft-)deleted is refused.
    pub fn token_checks_actor(&self) -> bool {
        self.at_least(1, 2, 0)
    }

    /// #13726 (1.2.0): `ConfigUtils.applyLimit` — a count above 10,000 (or negative)
    /// becomes 5,000. Before, the count reached the engine as asked.
    pub fn applies_result_limit(&self) -> bool {
        self.at_least(1, 2, 0)
    }

    /// #14966 (1.3.0): scroll `count` is `min(requested, total)`.
    pub fn scroll_count_capped_by_total(&self) -> bool {
        self.at_least(1, 3, 0)
    }

    /// #15448 (1.4.0): `listUsers` no longer asks for the Manage Users & Groups privilege.
    pub fn list_users_open(&self) -> bool {
        self.at_least(1, 4, 0)
    }

    /// #17668 (1.7.0): `CacheableSearcher` stops at the engine total, so pages past the
    /// 10,000th hit are empty instead of failing.
    pub fn deep_pages_empty(&self) -> bool {
        self.at_least(1, 7, 0)
    }

    /// #17886 (1.7.0): a group's members and a user's groups (`relationships` on
    /// `CorpGroup` INCOMING / `CorpUser` OUTGOING over membership edges) come from the
    /// entity graph cache or a full scroll of the graph index, sliced in memory: no
    /// default page size (all), an exact `total`, no 10,000 window. Before, one
    /// Elasticsearch query with `from = start`, `size = count` (default 100), `total`
    /// capped at 10,000 and pages past the window failing.
    pub fn membership_reads_in_memory(&self) -> bool {
        self.at_least(1, 7, 0)
    }

    /// How unexpected GraphQL exceptions are reported.
    pub fn error_detail(&self) -> ErrorDetail {
        if self.at_least(1, 4, 0) {
            ErrorDetail::RootCause
        } else if self.at_least(1, 3, 0) {
            ErrorDetail::FirstRuntime
        } else {
            ErrorDetail::Unknown
        }
    }
}

impl Default for Release {
    fn default() -> Self {
        Release::parse(DEFAULT_RELEASE).expect("the default release number parses")
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The release emulated unless told otherwise.
pub const DEFAULT_RELEASE: &str = "1.7.0";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_numbers_parse_and_compare() {
        let r = Release::parse("v0.15.0.1").expect("parses");
        assert_eq!(r.tag(), "v0.15.0.1");
        assert!(r.at_least(0, 15, 0) && !r.at_least(1, 0, 0));
        let rc = Release::parse("1.0.0rc3").expect("parses");
        assert!(rc.at_least(1, 0, 0) && rc.sync_index_header());
        assert_eq!(rc.tag(), "v1.0.0rc3");
        assert_eq!(Release::default().tag(), "v1.7.0");
        assert!(Release::parse("1.2").is_err());
        assert!(Release::parse("latest").is_err());
        assert!(Release::parse("1.x.0").is_err());
        let r12 = Release::parse("1.2.0").expect("parses");
        assert!(r12.fine_identity_privileges() && !r12.scroll_count_capped_by_total());
        assert_eq!(r12.error_detail(), ErrorDetail::Unknown);
        assert_eq!(
            Release::parse("1.3.1").expect("parses").error_detail(),
            ErrorDetail::FirstRuntime
        );
    }
}
