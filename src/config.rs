//! Every setting of the gateway, read once from command-line flags and environment
//! variables (`DATAHUB_SCIM_*`, plus `DATAHUB_GMS_URL`).
//!
//! Parsing takes the environment as a lookup ([`Env`]) so tests pass a map instead of
//! touching the process environment. Validation collects **every** problem (unreadable
//! files, bad regex, bad URLs, bad addresses, missing TLS material) into one
//! [`ConfigError`]; `main` prints them and exits with [`EXIT_CONFIG`] before binding
//! anything.
//!
//! Submodules: [`args`] (the clap definitions; their doc comments are the `--help`
//! text) and [`validate`] (turning raw arguments into a [`Config`]).

pub mod args;
pub mod validate;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches};

pub use args::{Cli, Command, LogFormat, ServeArgs};

use crate::provision::ProvisionConfig;

/// Exit status for a configuration or usage error (`EX_USAGE` of sysexits.h).
pub const EXIT_CONFIG: i32 = 64;

/// Where environment variables come from: the process environment in production, a
/// map in tests.
pub enum Env<'a> {
    /// `std::env::var`.
    Process,
    /// A fixed map; the process environment is not consulted.
    Map(&'a HashMap<String, String>),
}

impl Env<'_> {
    /// The value of `name`, if set and valid UTF-8.
    pub fn get(&self, name: &str) -> Option<String> {
        match self {
            Env::Process => std::env::var(name).ok(),
            Env::Map(m) => m.get(name).cloned(),
        }
    }
}

/// The validated configuration of the `serve` command (also used by `check` and `demo`).
#[derive(Debug, Clone)]
pub struct Config {
    /// Address of the SCIM listener (TLS unless `plain_http`).
    pub listen: SocketAddr,
    /// Address of the plain-HTTP admin listener (`/live`, `/ready`, `/metrics`).
    pub admin_listen: SocketAddr,
    /// TLS certificate chain and key files; `None` only when plain HTTP was asked for.
    pub tls: Option<TlsFiles>,
    /// Externally visible base URL of the SCIM endpoint (for `meta.location`); when
    /// `None` it is derived from the Host header and the prefix the request used.
    pub public_url: Option<String>,
    /// How to reach DataHub GMS.
    pub gms: GmsConfig,
    /// Largest accepted request body, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Bytes all request bodies in flight may hold together (503 beyond).
    pub max_inflight_body_bytes: usize,
    /// `POST /Bulk` limits: operations per request and body size (413 beyond; the body
    /// size takes the place of `max_body_bytes` for `/Bulk`). No operations: off.
    pub bulk: crate::scim::bulk::Limits,
    /// Most open connections on the SCIM listener.
    pub max_connections: usize,
    /// Idle timeout of a connection with no request in flight (both listeners).
    pub idle_timeout: Duration,
    /// Deadline of a TLS handshake, and of a request's headers.
    pub handshake_timeout: Duration,
    /// Failed authentications per client address per minute before 429 (0: off).
    pub auth_failure_limit: u32,
    /// Deadline of one SCIM request, end to end (504 beyond).
    pub request_deadline: Duration,
    /// Time given to in-flight requests to finish at shutdown.
    pub shutdown_grace: Duration,
    /// Time `/ready` reports 503 before the SCIM listener closes at shutdown.
    pub shutdown_delay: Duration,
    /// How long a successful token validation is cached.
    pub token_cache_ttl: Duration,
    /// How long a failed token validation (401/403) is cached.
    pub token_cache_failure_ttl: Duration,
    /// HS256 key DataHub signs tokens with; when set, signatures are verified locally.
    pub token_signing_key: Option<Vec<u8>>,
    /// How often the certificate and key files are checked for changes.
    pub tls_reload_interval: Duration,
    /// How often GMS health is probed for `/ready`.
    pub gms_probe_interval: Duration,
    /// Settings of the provisioning layer.
    pub provision: ProvisionConfig,
    /// Log line format.
    pub log_format: LogFormat,
    /// Log filter (`tracing_subscriber::EnvFilter` syntax).
    pub log_level: String,
    /// Where the audit trail of DataHub writes goes; `None`: no audit trail.
    pub audit_log: Option<AuditTarget>,
}

/// Destination of the audit trail (`--audit-log`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// The process's standard error, interleaved with the ordinary logs.
    Stderr,
    /// The process's standard output (the ordinary logs go to stderr).
    Stdout,
    /// A file, opened for appending (created `0600` when missing).
    File(PathBuf),
}

impl std::fmt::Display for AuditTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditTarget::Stderr => f.write_str("stderr"),
            AuditTarget::Stdout => f.write_str("stdout"),
            AuditTarget::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// PEM files of the server certificate chain and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first.
    pub cert: PathBuf,
    /// PKCS#8, PKCS#1 or SEC1 private key.
    pub key: PathBuf,
}

/// Connection settings for DataHub GMS.
#[derive(Debug, Clone)]
pub struct GmsConfig {
    /// Base URL, e.g. `http://localhost:8080`, without a trailing slash.
    pub url: String,
    /// Extra CA certificates (PEM) to trust for an `https` GMS URL.
    pub ca_file: Option<PathBuf>,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Timeout of one GMS call.
    pub request_timeout: Duration,
    /// Most calls in flight to GMS at once (and idle connections kept).
    pub max_concurrency: usize,
    /// How long a call waits for a free slot before the request answers 503.
    pub queue_timeout: Duration,
}

/// Every problem found in the configuration, in the order found.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .problems.join("\n  - "))]
pub struct ConfigError {
    /// One line per problem, naming the flag and environment variable.
    pub problems: Vec<String>,
}

/// The outcome of parsing the command line: either a command to run or text clap
/// wants printed (help, version, usage error).
#[derive(Debug)]
pub enum Parsed {
    /// A command with its arguments.
    Run(Box<Command>),
    /// Help or version output: print it and exit 0.
    Display(String),
    /// A usage error: print it and exit [`EXIT_CONFIG`].
    Usage(String),
}

/// Parses `args` (including the program name) with environment variables read from
/// `env`. A missing subcommand means `serve`.
pub fn parse<I, T>(args: I, env: Env<'_>) -> Parsed
where
    I: IntoIterator<Item = T>,
    T: Into<String>,
{
    let mut args: Vec<String> = args.into_iter().map(Into::into).collect();
    if args.is_empty() {
        args.push("datahub-scim".into());
    }
    let names = ["serve", "emulator", "demo", "check", "certs", "help"];
    let first = args.get(1).map(String::as_str);
    let has_command = matches!(first, Some(f) if names.contains(&f) || f == "-h" || f == "--help" || f == "-V" || f == "--version");
    if !has_command {
        args.insert(1, "serve".into());
    }
    let cmd = with_env(Cli::command(), &env);
    match cmd.try_get_matches_from(args) {
        Ok(m) => match Cli::from_arg_matches(&m) {
            Ok(cli) => Parsed::Run(Box::new(cli.command)),
            Err(e) => Parsed::Usage(e.to_string()),
        },
        Err(e) => match e.kind() {
            clap::error::ErrorKind::DisplayHelp
            | clap::error::ErrorKind::DisplayVersion
            | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                Parsed::Display(e.render().to_string())
            }
            _ => Parsed::Usage(e.render().to_string()),
        },
    }
}

/// Rewrites every argument that names an environment variable so its value comes
/// from `env` (as a default, so flags still win) instead of the process environment.
fn with_env(cmd: clap::Command, env: &Env<'_>) -> clap::Command {
    let ids: Vec<(String, String, bool)> = cmd
        .get_arguments()
        .filter_map(|a| {
            let name = a.get_env()?.to_str()?.to_owned();
            let is_flag = matches!(a.get_action(), clap::ArgAction::SetTrue);
            Some((a.get_id().to_string(), name, is_flag))
        })
        .collect();
    let mut cmd = cmd;
    for (id, name, is_flag) in ids {
        let value = env.get(&name);
        cmd = cmd.mut_arg(&id, |a| {
            let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
            let a = a.env(None::<&str>).help(format!("{help} [env: {name}]"));
            match value {
                Some(v) if is_flag => a.default_value(if truthy(&v) { "true" } else { "false" }),
                Some(v) => a.default_value(v),
                None => a,
            }
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for sub in subs {
        cmd = cmd.mut_subcommand(&sub, |s| with_env(s, env));
    }
    cmd
}

/// How boolean environment variables are read: `1`, `true`, `yes`, `on` (any case).
fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// Every environment variable the binary reads, for the Helm chart check.
pub fn env_var_names() -> Vec<String> {
    fn walk(cmd: &clap::Command, out: &mut Vec<String>) {
        for a in cmd.get_arguments() {
            if let Some(e) = a.get_env().and_then(|e| e.to_str()) {
                if !out.iter().any(|o| o == e) {
                    out.push(e.to_owned());
                }
            }
        }
        for s in cmd.get_subcommands() {
            walk(s, out);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &mut out);
    out.sort();
    out
}

/// Parses and validates a `serve` configuration from `args` (including the program
/// name, without the subcommand) and `env`. Convenience for tests.
pub fn serve_config<I, T>(args: I, env: &HashMap<String, String>) -> Result<Config, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: Into<String>,
{
    let mut all: Vec<String> = args.into_iter().map(Into::into).collect();
    if all.is_empty() {
        all.push("datahub-scim".into());
    }
    all.insert(1, "serve".into());
    match parse(all, Env::Map(env)) {
        Parsed::Run(c) => match *c {
            Command::Serve(a) => a.validate(),
            _ => Err(ConfigError {
                problems: vec!["not a serve command".into()],
            }),
        },
        Parsed::Display(s) | Parsed::Usage(s) => Err(ConfigError { problems: vec![s] }),
    }
}

#[cfg(test)]
mod tests;
