//! `datahub-scim check`: validates what `serve` would use without serving: the TLS
//! material (and its expiry), GMS reachability and its DataHub release (`GET /config`)
//! against the supported range, and, with
//! a token, the local token check (format, algorithm, expiry and, when the signing key
//! is configured, the signature), then the token's actor and its `manageIdentities`
//! privilege (`me`) and, without it, whether DataHub lets it write users and groups
//! (a conditional write that cannot apply; nothing is written).

use crate::config::Config;
use crate::datahub;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Whether this check passed.
    pub ok: bool,
    /// What was checked and what was found (no secrets).
    pub message: String,
}

fn finding(ok: bool, message: impl Into<String>) -> Finding {
    Finding {
        ok,
        message: message.into(),
    }
}

/// What `check` says of the DataHub release GMS reports.
fn release_finding(url: &str, release: &datahub::Release) -> Finding {
    match release.support() {
        datahub::Support::Supported => finding(
            true,
            format!(
                "DataHub GMS at {url} answers; DataHub release {release}: supported ({})",
                datahub::SUPPORTED_RANGE
            ),
        ),
        datahub::Support::Untested => finding(
            true,
            format!(
                "DataHub GMS at {url} answers; DataHub release {release}: not tested, served as the newest tested release (supported: {})",
                datahub::SUPPORTED_RANGE
            ),
        ),
        datahub::Support::Unsupported => {
            finding(false, format!("DataHub GMS at {url}: {}", release.refusal()))
        }
    }
}

/// Runs every check; the gateway is usable when all findings are ok.
pub async fn check(config: &Config, token: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    match &config.tls {
        Some(files) => {
            let read = std::fs::read(&files.cert)
                .map_err(|e| e.to_string())
                .and_then(|cert| {
                    let key = std::fs::read(&files.key).map_err(|e| e.to_string())?;
                    super::tls::server_config(&cert, &key).map_err(|e| e.to_string())?;
                    super::tls::cert_expiry(&cert).map_err(|e| e.to_string())
                });
            match read {
                Ok(exp) => {
                    let now = time::OffsetDateTime::now_utc().unix_timestamp();
                    let when = time::OffsetDateTime::from_unix_timestamp(exp)
                        .ok()
                        .and_then(|t| {
                            t.format(&time::format_description::well_known::Rfc3339)
                                .ok()
                        })
                        .unwrap_or_else(|| exp.to_string());
                    let days = (exp - now) / 86_400;
                    out.push(finding(
                        exp > now,
                        format!("TLS certificate and key load; expires {when} ({days} days)"),
                    ));
                }
                Err(e) => out.push(finding(false, format!("TLS certificate/key: {e}"))),
            }
        }
        None => out.push(finding(
            true,
            "plain HTTP (--insecure-plain-http): no TLS material to check",
        )),
    }
    let client = match datahub::Client::new(super::client_config(config)) {
        Ok(c) => c,
        Err(e) => {
            out.push(finding(false, format!("DataHub client: {e}")));
            return out;
        }
    };
    match client.detect_release().await {
        Ok(release) => out.push(release_finding(&config.gms.url, &release)),
        Err(e) => out.push(finding(
            false,
            format!("DataHub GMS at {}: {e}", config.gms.url),
        )),
    }
    match token {
        None => out.push(finding(
            false,
            "no token given (--token-file / DATAHUB_SCIM_CHECK_TOKEN_FILE): me not checked",
        )),
        Some(t) => {
            if let Err(e) = super::auth::check_locally(t, config.token_signing_key.as_deref()) {
                out.push(finding(false, format!("token fails the local check: {e}")));
                return out;
            }
            let me = client.me(t).await;
            if let (Ok(me), true) = (&me, config.provision.idp_roles) {
                out.push(finding(
                    me.manage_policies,
                    format!(
                        "--idp-roles: token actor {} {} Manage Policies, which DataHub requires to assign roles",
                        me.urn,
                        if me.manage_policies { "holds" } else { "lacks" }
                    ),
                ));
            }
            match me {
                Ok(me) if me.manage_identities => out.push(finding(
                    true,
                    format!("token actor {}; manageIdentities: true", me.urn),
                )),
                Ok(me) => match client.can_write_identities(t, &me.urn).await {
                    Ok(true) => out.push(finding(
                        true,
                        format!(
                            "token actor {}; manageIdentities: false, but DataHub lets it write users and groups (finer privileges)",
                            me.urn
                        ),
                    )),
                    Ok(false) => out.push(finding(
                        false,
                        format!(
                            "token actor {}; manageIdentities: false, and DataHub refuses its user and group writes (403): grant Manage Users & Groups, or Update Users and Update Groups",
                            me.urn
                        ),
                    )),
                    Err(e) => out.push(finding(
                        false,
                        format!("token actor {}; write privileges not checkable: {e}", me.urn),
                    )),
                },
                Err(e) => out.push(finding(
                    false,
                    format!("token rejected or not checkable: {e}"),
                )),
            }
        }
    }
    out
}
