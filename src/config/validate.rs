//! Turns raw [`ServeArgs`] into a [`Config`], collecting every problem rather than
//! stopping at the first.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::args::{DeletePolicyArg, RenamePolicyArg, ServeArgs, UsernameSourceArg};
use super::{AuditTarget, Config, ConfigError, GmsConfig, TlsFiles};
use crate::provision::{DeletePolicy, ProvisionConfig, RenamePolicy, UsernameSource};

/// Problems found so far.
#[derive(Default)]
struct Problems(Vec<String>);

/// Most operations `--bulk-max-operations` may allow: every operation is a full SCIM
/// request (GMS calls included) inside one request deadline.
pub const MAX_BULK_OPERATIONS: usize = 10_000;

impl Problems {
    fn push(&mut self, flag: &str, env: &str, msg: impl std::fmt::Display) {
        self.0.push(format!("--{flag} / {env}: {msg}"));
    }

    fn addr(&mut self, flag: &str, env: &str, v: &str) -> SocketAddr {
        v.parse().unwrap_or_else(|e| {
            self.push(
                flag,
                env,
                format!("{v:?} is not an address like 0.0.0.0:8443 ({e})"),
            );
            SocketAddr::from(([0, 0, 0, 0], 0))
        })
    }

    fn duration(&mut self, flag: &str, env: &str, v: &str) -> Duration {
        parse_duration(v).unwrap_or_else(|e| {
            self.push(flag, env, e);
            Duration::ZERO
        })
    }

    /// A duration that must not be zero.
    fn positive(&mut self, flag: &str, env: &str, v: &str) -> Duration {
        match parse_duration(v) {
            Ok(d) if d.is_zero() => {
                self.push(flag, env, "must be positive");
                d
            }
            Ok(d) => d,
            Err(e) => {
                self.push(flag, env, e);
                Duration::ZERO
            }
        }
    }

    fn readable(&mut self, flag: &str, env: &str, p: &Path) {
        if let Err(e) = std::fs::File::open(p) {
            self.push(flag, env, format!("cannot read {}: {e}", p.display()));
        }
    }

    fn url(&mut self, flag: &str, env: &str, v: &str) -> String {
        match v.parse::<http::Uri>() {
            Ok(u) if matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some() => {
                if u.query().is_some() {
                    self.push(flag, env, format!("{v:?} must not have a query"));
                }
                v.trim_end_matches('/').to_owned()
            }
            Ok(_) => {
                self.push(flag, env, format!("{v:?} is not an absolute http(s) URL"));
                String::new()
            }
            Err(e) => {
                self.push(flag, env, format!("{v:?} is not a URL ({e})"));
                String::new()
            }
        }
    }
}

/// Largest `--gms-max-concurrency` accepted (each slot may hold a connection).
pub const MAX_GMS_CONCURRENCY: usize = 4096;

/// Parses `500ms`, `5s`, `2m`, `1h`; a bare number is seconds.
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (num, unit) = v.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{v:?} is not a duration like 500ms, 5s, 2m or 1h"))?;
    let d = match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "" | "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => return Err(format!("{v:?} is not a duration like 500ms, 5s, 2m or 1h")),
    };
    d.ok_or_else(|| format!("{v:?} is too long a duration"))
}

impl ServeArgs {
    /// Checks every setting and builds the [`Config`], or lists every problem.
    pub fn validate(&self) -> Result<Config, ConfigError> {
        let mut p = Problems::default();
        let listen = p.addr("listen", "DATAHUB_SCIM_LISTEN", &self.listen);
        let admin_listen = p.addr(
            "admin-listen",
            "DATAHUB_SCIM_ADMIN_LISTEN",
            &self.admin_listen,
        );
        if listen == admin_listen && listen.port() != 0 {
            p.push(
                "admin-listen",
                "DATAHUB_SCIM_ADMIN_LISTEN",
                "must differ from --listen",
            );
        }

        let tls = match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(cert), Some(key)) => {
                p.readable("tls-cert-file", "DATAHUB_SCIM_TLS_CERT_FILE", cert);
                p.readable("tls-key-file", "DATAHUB_SCIM_TLS_KEY_FILE", key);
                Some(TlsFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                })
            }
            _ if self.insecure_plain_http => None,
            (cert, key) => {
                match cert {
                    Some(c) => p.readable("tls-cert-file", "DATAHUB_SCIM_TLS_CERT_FILE", c),
                    None => p.push(
                        "tls-cert-file",
                        "DATAHUB_SCIM_TLS_CERT_FILE",
                        "required unless --insecure-plain-http",
                    ),
                }
                match key {
                    Some(k) => p.readable("tls-key-file", "DATAHUB_SCIM_TLS_KEY_FILE", k),
                    None => p.push(
                        "tls-key-file",
                        "DATAHUB_SCIM_TLS_KEY_FILE",
                        "required unless --insecure-plain-http",
                    ),
                }
                None
            }
        };
        let tls = if self.insecure_plain_http { None } else { tls };

        let public_url = self
            .public_url
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|u| p.url("public-url", "DATAHUB_SCIM_PUBLIC_URL", u));
        let gms_url = p.url("gms-url", "DATAHUB_GMS_URL", &self.gms_url);
        if let Some(ca) = &self.gms_ca_file {
            p.readable("gms-ca-file", "DATAHUB_SCIM_GMS_CA_FILE", ca);
        }
        let gms = GmsConfig {
            url: gms_url,
            ca_file: self.gms_ca_file.clone(),
            connect_timeout: p.duration(
                "gms-connect-timeout",
                "DATAHUB_SCIM_GMS_CONNECT_TIMEOUT",
                &self.gms_connect_timeout,
            ),
            request_timeout: p.duration(
                "gms-request-timeout",
                "DATAHUB_SCIM_GMS_REQUEST_TIMEOUT",
                &self.gms_request_timeout,
            ),
            max_concurrency: self.gms_max_concurrency,
            queue_timeout: p.duration(
                "gms-queue-timeout",
                "DATAHUB_SCIM_GMS_QUEUE_TIMEOUT",
                &self.gms_queue_timeout,
            ),
        };
        if !(1..=MAX_GMS_CONCURRENCY).contains(&self.gms_max_concurrency) {
            p.push(
                "gms-max-concurrency",
                "DATAHUB_SCIM_GMS_MAX_CONCURRENCY",
                format!("must be between 1 and {MAX_GMS_CONCURRENCY}"),
            );
        }

        let token_signing_key =
            self.token_signing_key_file
                .as_ref()
                .and_then(|f| match std::fs::read(f) {
                    Ok(k) => {
                        // Mounted secrets often end with a newline that is not part of the key.
                        let k = String::from_utf8_lossy(&k)
                            .trim_end_matches(['\r', '\n'])
                            .as_bytes()
                            .to_vec();
                        if k.len() < 32 {
                            p.push(
                                "token-signing-key-file",
                                "DATAHUB_SCIM_TOKEN_SIGNING_KEY_FILE",
                                "key is shorter than 32 bytes",
                            );
                        }
                        Some(k)
                    }
                    Err(e) => {
                        p.push(
                            "token-signing-key-file",
                            "DATAHUB_SCIM_TOKEN_SIGNING_KEY_FILE",
                            format!("cannot read {}: {e}", f.display()),
                        );
                        None
                    }
                });

        let username_regex = regex::Regex::new(&self.username_regex).unwrap_or_else(|e| {
            p.push(
                "username-regex",
                "DATAHUB_SCIM_USERNAME_REGEX",
                format!("bad regex: {}", e.to_string().replace('\n', " ")),
            );
            regex::Regex::new("(.*)").expect("constant regex compiles")
        });
        if self.idp_name.trim().is_empty() {
            p.push("idp-name", "DATAHUB_SCIM_IDP_NAME", "must not be empty");
        }
        if !(1..=crate::scim::list::MAX_COUNT).contains(&self.max_page_size) {
            p.push(
                "max-page-size",
                "DATAHUB_SCIM_MAX_PAGE_SIZE",
                format!(
                    "must be between 1 and {} (the largest page a list serves)",
                    crate::scim::list::MAX_COUNT
                ),
            );
        }
        if self.max_filter_scan == 0 {
            p.push(
                "max-filter-scan",
                "DATAHUB_SCIM_MAX_FILTER_SCAN",
                "must be at least 1",
            );
        }
        if !(crate::provision::MIN_WRITE_BATCH..=10_000).contains(&self.write_batch_size) {
            p.push(
                "write-batch-size",
                "DATAHUB_SCIM_WRITE_BATCH_SIZE",
                format!(
                    "must be between {} and 10000",
                    crate::provision::MIN_WRITE_BATCH
                ),
            );
        }
        if self.max_body_bytes < 1024 {
            p.push(
                "max-body-bytes",
                "DATAHUB_SCIM_MAX_BODY_BYTES",
                "must be at least 1024",
            );
        }
        if self.max_inflight_body_bytes < self.max_body_bytes
            || self.max_inflight_body_bytes > u32::MAX as usize
        {
            p.push(
                "max-inflight-body-bytes",
                "DATAHUB_SCIM_MAX_INFLIGHT_BODY_BYTES",
                "must be at least --max-body-bytes and at most 4294967295",
            );
        }
        if self.bulk_max_operations > MAX_BULK_OPERATIONS {
            p.push(
                "bulk-max-operations",
                "DATAHUB_SCIM_BULK_MAX_OPERATIONS",
                format!("must be at most {MAX_BULK_OPERATIONS} (0 turns /Bulk off)"),
            );
        }
        let bulk_max_payload_bytes = self.bulk_max_payload_bytes.unwrap_or(self.max_body_bytes);
        if self
            .bulk_max_payload_bytes
            .is_some_and(|n| n < 1024 || n > self.max_inflight_body_bytes)
        {
            p.push(
                "bulk-max-payload-bytes",
                "DATAHUB_SCIM_BULK_MAX_PAYLOAD_BYTES",
                "must be at least 1024 and at most --max-inflight-body-bytes",
            );
        }
        if self.max_connections == 0 {
            p.push(
                "max-connections",
                "DATAHUB_SCIM_MAX_CONNECTIONS",
                "must be at least 1",
            );
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_level).is_err() {
            p.push(
                "log-level",
                "DATAHUB_SCIM_LOG_LEVEL",
                format!("{:?} is not a log filter", self.log_level),
            );
        }

        let request_deadline = p.positive(
            "request-deadline",
            "DATAHUB_SCIM_REQUEST_DEADLINE",
            &self.request_deadline,
        );
        let idle_timeout = p.positive(
            "idle-timeout",
            "DATAHUB_SCIM_IDLE_TIMEOUT",
            &self.idle_timeout,
        );
        let handshake_timeout = p.positive(
            "handshake-timeout",
            "DATAHUB_SCIM_HANDSHAKE_TIMEOUT",
            &self.handshake_timeout,
        );
        let shutdown_delay = p.duration(
            "shutdown-delay",
            "DATAHUB_SCIM_SHUTDOWN_DELAY",
            &self.shutdown_delay,
        );
        let shutdown_grace = p.duration(
            "shutdown-grace",
            "DATAHUB_SCIM_SHUTDOWN_GRACE",
            &self.shutdown_grace,
        );
        let token_cache_ttl = p.duration(
            "token-cache-ttl",
            "DATAHUB_SCIM_TOKEN_CACHE_TTL",
            &self.token_cache_ttl,
        );
        let token_cache_failure_ttl = p.duration(
            "token-cache-failure-ttl",
            "DATAHUB_SCIM_TOKEN_CACHE_FAILURE_TTL",
            &self.token_cache_failure_ttl,
        );
        let tls_reload_interval = p.positive(
            "tls-reload-interval",
            "DATAHUB_SCIM_TLS_RELOAD_INTERVAL",
            &self.tls_reload_interval,
        );
        let gms_probe_interval = p.positive(
            "gms-probe-interval",
            "DATAHUB_SCIM_GMS_PROBE_INTERVAL",
            &self.gms_probe_interval,
        );
        let id_cache_ttl = p.duration(
            "id-cache-ttl",
            "DATAHUB_SCIM_ID_CACHE_TTL",
            &self.id_cache_ttl,
        );

        let audit_log = self
            .audit_log
            .as_deref()
            .and_then(|v| audit_target(&mut p, v));

        if !p.0.is_empty() {
            return Err(ConfigError { problems: p.0 });
        }
        let policy = |d: DeletePolicyArg| match d {
            DeletePolicyArg::Soft => DeletePolicy::Soft,
            DeletePolicyArg::Hard => DeletePolicy::Hard,
        };
        Ok(Config {
            listen,
            admin_listen,
            tls,
            public_url,
            gms,
            max_body_bytes: self.max_body_bytes,
            max_inflight_body_bytes: self.max_inflight_body_bytes,
            bulk: crate::scim::bulk::Limits {
                max_operations: self.bulk_max_operations,
                max_payload_bytes: bulk_max_payload_bytes,
            },
            max_connections: self.max_connections,
            idle_timeout,
            handshake_timeout,
            auth_failure_limit: self.auth_failure_limit,
            request_deadline,
            shutdown_grace,
            shutdown_delay,
            token_cache_ttl,
            token_cache_failure_ttl,
            token_signing_key,
            tls_reload_interval,
            gms_probe_interval,
            provision: ProvisionConfig {
                username_source: match self.username_source {
                    UsernameSourceArg::UserName => UsernameSource::UserName,
                    UsernameSourceArg::Email => UsernameSource::PrimaryEmail,
                },
                username_regex,
                username_lowercase: self.username_lowercase,
                idp_name: self.idp_name.trim().to_owned(),
                user_delete: policy(self.user_delete),
                group_delete: policy(self.group_delete),
                user_rename: match self.user_rename {
                    RenamePolicyArg::Move => RenamePolicy::Move,
                    RenamePolicyArg::Reject => RenamePolicy::Reject,
                },
                idp_roles: self.idp_roles,
                max_page_size: self.max_page_size,
                cache_capacity: self.id_cache_capacity,
                cache_ttl: id_cache_ttl,
                max_write_retries: self.write_retries,
                write_batch: self.write_batch_size,
                max_filter_scan: self.max_filter_scan,
            },
            log_format: self.log_format,
            log_level: self.log_level.clone(),
            audit_log,
        })
    }
}

/// `off` / empty: none; `stderr`, `stdout`; anything else is a file path, which must
/// be an appendable file or a new name in an existing folder.
fn audit_target(p: &mut Problems, v: &str) -> Option<AuditTarget> {
    const FLAG: (&str, &str) = ("audit-log", "DATAHUB_SCIM_AUDIT_LOG");
    match v.trim() {
        "" | "off" => return None,
        "stderr" => return Some(AuditTarget::Stderr),
        "stdout" => return Some(AuditTarget::Stdout),
        _ => {}
    }
    let path = Path::new(v);
    if path.is_dir() {
        p.push(
            FLAG.0,
            FLAG.1,
            format!("{} is a folder, not a file", path.display()),
        );
    } else if path.exists() {
        if let Err(e) = std::fs::OpenOptions::new().append(true).open(path) {
            p.push(
                FLAG.0,
                FLAG.1,
                format!("cannot append to {}: {e}", path.display()),
            );
        }
    } else {
        let parent = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        if !parent.is_dir() {
            p.push(
                FLAG.0,
                FLAG.1,
                format!("folder {} does not exist", parent.display()),
            );
        }
    }
    Some(AuditTarget::File(path.to_path_buf()))
}
