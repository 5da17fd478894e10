//! Which DataHub release GMS runs, whether we support it, and what that changes
//! on the wire.
//!
//! GMS names its release in `GET /config` → `versions["acryldata/datahub"].version`
//! (`metadata-service/servlet/.../Config.java`, e.g. `"v1.7.0"`). The client reads
//! it at start-up and on every readiness probe ([`Client::detect_release`]) and
//! adapts the few places where releases differ:
//!
//! | behaviour | from | what the client does |
//! | --- | --- | --- |
//! | MCP header `X-DataHub-Sync-Index-Update` honoured (#12500) | 1.0.0 | sends it; before 1.0 it also marks writes `systemMetadata.properties.appSource = "ui"`, the only synchronous-indexing switch those releases have |
//! | `IEQUAL` filter condition (#11501) | 0.15.0 | used for case-insensitive key lookups |
//! | `AspectValidationException.item` in the 422 message (#12119) | 0.15.0 | precondition failures are recognised anywhere in the body |
//! | `sortInput.sortCriteria` (#10775) | 0.14.0 | used for urn-ordered pages |
//! | tokens of suspended or removed actors refused (#13947) | 1.2.0 | before, the gateway checks the token's actor itself |
//!
//! Supported: 0.15.0 up to the newest tested release ([`NEWEST_TESTED`]); newer 1.x
//! releases are accepted with a warning, anything older than 0.15.0 (no `IEQUAL`, a
//! 422 layout without the item) or from 2.0 on is refused.

use std::fmt;

/// The oldest release we support: `IEQUAL` and the 0.15 validation layout.
pub const OLDEST_SUPPORTED: (u32, u32, u32) = (0, 15, 0);
/// The newest release the test suite runs against (the emulator's newest profile).
pub const NEWEST_TESTED: (u32, u32) = (1, 7);
/// The supported range, as people read it.
pub const SUPPORTED_RANGE: &str =
    "0.15.0 to 1.7.x (newer 1.x releases are accepted with a warning)";

/// A DataHub release as `/config` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version string exactly as GMS reported it (`v1.7.0`, `v0.15.0.1`, …).
    pub raw: String,
    /// `major.minor.patch`, when the string starts with one (a leading `v` and any
    /// suffix such as `rc1`, `.1`, `-SNAPSHOT` ignored).
    pub number: Option<(u32, u32, u32)>,
}

/// What we make of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Within [`OLDEST_SUPPORTED`] ..= [`NEWEST_TESTED`].
    Supported,
    /// A newer 1.x than we test, or a version string we cannot read: served, with a
    /// warning, using the newest behaviour.
    Untested,
    /// Older than [`OLDEST_SUPPORTED`], or 2.0 and later: refused.
    Unsupported,
}

impl Release {
    /// Reads a `/config` version string; `None` and empty strings are "unknown".
    pub fn parse(raw: &str) -> Release {
        let s = raw.trim();
        let digits = s.strip_prefix(['v', 'V']).unwrap_or(s);
        let mut parts = digits
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .map(|p| p.parse::<u32>().ok());
        let number = match (parts.next(), parts.next(), parts.next()) {
            (Some(Some(a)), Some(Some(b)), Some(Some(c)))
                if digits.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                Some((a, b, c))
            }
            (Some(Some(a)), Some(Some(b)), _)
                if digits.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                Some((a, b, 0))
            }
            _ => None,
        };
        Release {
            raw: s.to_owned(),
            number,
        }
    }

    /// Whether we serve this release.
    pub fn support(&self) -> Support {
        match self.number {
            None => Support::Untested,
            Some(n) if n < OLDEST_SUPPORTED || n.0 >= 2 => Support::Unsupported,
            Some((a, b, _)) if (a, b) > NEWEST_TESTED => Support::Untested,
            Some(_) => Support::Supported,
        }
    }

    /// GMS indexes a write synchronously when its MCP carries
    /// `X-DataHub-Sync-Index-Update: true` (1.0.0, #12500). Before 1.0 only
    /// `systemMetadata.properties.appSource == "ui"` does. Unknown releases are
    /// taken to be new.
    pub fn honours_sync_index_header(&self) -> bool {
        self.number.is_none_or(|n| n >= (1, 0, 0))
    }

    /// GMS refuses the tokens of a suspended, soft-deleted or hard-deleted actor
    /// (`StatelessTokenService.validateActor`, #13947, 1.2.0). Before, such a token
    /// keeps working until it expires or is revoked. Unknown releases are taken to be
    /// new.
    pub fn rejects_inactive_actors(&self) -> bool {
        self.number.is_none_or(|n| n >= (1, 2, 0))
    }

    /// The message an operator reads when this release is refused.
    pub fn refusal(&self) -> String {
        format!(
            "DataHub {} is not supported by datahub-scim (supported: {SUPPORTED_RANGE})",
            self.shown()
        )
    }

    fn shown(&self) -> &str {
        if self.raw.is_empty() {
            "(unknown release)"
        } else {
            &self.raw
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.shown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_gms_reports() {
        assert_eq!(Release::parse("v1.7.0").number, Some((1, 7, 0)));
        assert_eq!(Release::parse("v0.15.0.1").number, Some((0, 15, 0)));
        assert_eq!(Release::parse("1.2.0rc3").number, Some((1, 2, 0)));
        assert_eq!(Release::parse("v1.0.0-SNAPSHOT").number, Some((1, 0, 0)));
        assert_eq!(Release::parse("v1.3").number, Some((1, 3, 0)));
        assert_eq!(Release::parse("null").number, None);
        assert_eq!(Release::parse("").number, None);
        assert_eq!(Release::parse("head-abc123").number, None);
    }

    #[test]
    fn support_range() {
        let s = |v: &str| Release::parse(v).support();
        assert_eq!(s("v0.14.1"), Support::Unsupported);
        assert_eq!(s("v0.13.0"), Support::Unsupported);
        assert_eq!(s("v0.15.0"), Support::Supported);
        assert_eq!(s("v0.15.0.5"), Support::Supported);
        assert_eq!(s("v1.0.0"), Support::Supported);
        assert_eq!(s("v1.7.0"), Support::Supported);
        assert_eq!(s("v1.7.3"), Support::Supported);
        assert_eq!(s("v1.8.0"), Support::Untested);
        assert_eq!(s("v2.0.0"), Support::Unsupported);
        assert_eq!(s("custom-build"), Support::Untested);
        let r = Release::parse("v0.14.1").refusal();
        assert!(
            r.contains("v0.14.1") && r.contains("0.15.0 to 1.7.x"),
            "{r}"
        );
    }

    #[test]
    fn actor_check_switch() {
        assert!(!Release::parse("v0.15.0").rejects_inactive_actors());
        assert!(!Release::parse("v1.1.0").rejects_inactive_actors());
        assert!(Release::parse("v1.2.0").rejects_inactive_actors());
        assert!(Release::parse("unknown").rejects_inactive_actors());
    }

    #[test]
    fn sync_index_switch() {
        assert!(!Release::parse("v0.15.0").honours_sync_index_header());
        assert!(Release::parse("v1.0.0").honours_sync_index_header());
        assert!(Release::parse("v1.7.0").honours_sync_index_header());
        assert!(Release::parse("unknown").honours_sync_index_header());
    }
}
