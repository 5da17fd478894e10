//! The command line: subcommands and their flags. Each field's doc comment is its
//! `--help` text; each `env` is the environment variable that sets it. Values that
//! need checking (addresses, URLs, files, durations, regexes) stay strings here so
//! [`super::validate`] can report every problem at once.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// SCIM 2.0 provisioning gateway for DataHub.
#[derive(Debug, Parser)]
#[command(name = "datahub-scim", version, about)]
pub struct Cli {
    /// What to run (default: `serve`).
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve SCIM over TLS, and health and metrics on the admin port (the default).
    Serve(ServeArgs),
    /// Run the DataHub GMS emulator alone (for local experiments).
    Emulator(EmulatorArgs),
    /// Run the emulator and the gateway in one process with a self-signed certificate.
    Demo(DemoArgs),
    /// Check the configuration, the certificate and the connection to DataHub, then exit.
    Check(CheckArgs),
    /// Make a local development CA and a server certificate signed by it.
    Certs(CertsArgs),
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Which SCIM attribute the DataHub username comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UsernameSourceArg {
    /// The SCIM `userName`.
    #[value(name = "userName")]
    UserName,
    /// The primary (else first) `emails[].value`.
    #[value(name = "email")]
    Email,
}

/// DELETE policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeletePolicyArg {
    /// Mark removed (and suspend users); a later create revives it.
    Soft,
    /// Delete the entity in DataHub.
    Hard,
}

/// What a `userName` change that derives another DataHub username does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RenamePolicyArg {
    /// Move the person to the new username's user (profile, status, SCIM groups); the SCIM id stays.
    Move,
    /// Refuse with 400 mutability.
    Reject,
}

/// Settings of the gateway (`serve`, and the base of `check`).
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address the SCIM (TLS) listener binds.
    #[arg(long, env = "DATAHUB_SCIM_LISTEN", default_value = "0.0.0.0:8443")]
    pub listen: String,

    /// Address the plain-HTTP admin listener (/live, /ready, /metrics) binds.
    #[arg(
        long,
        env = "DATAHUB_SCIM_ADMIN_LISTEN",
        default_value = "0.0.0.0:9464"
    )]
    pub admin_listen: String,

    /// PEM file with the server certificate chain (leaf first). Reloaded when it changes.
    #[arg(long, env = "DATAHUB_SCIM_TLS_CERT_FILE")]
    pub tls_cert_file: Option<PathBuf>,

    /// PEM file with the server private key. Reloaded when it changes.
    #[arg(long, env = "DATAHUB_SCIM_TLS_KEY_FILE")]
    pub tls_key_file: Option<PathBuf>,

    /// Serve SCIM over plain HTTP instead of TLS (only behind a mesh or proxy that terminates TLS).
    #[arg(long, env = "DATAHUB_SCIM_INSECURE_PLAIN_HTTP")]
    pub insecure_plain_http: bool,

    /// Externally visible base URL of the SCIM endpoint, used in meta.location (default: from the Host header).
    #[arg(long, env = "DATAHUB_SCIM_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Base URL of DataHub GMS.
    #[arg(long, env = "DATAHUB_GMS_URL", default_value = "http://localhost:8080")]
    pub gms_url: String,

    /// PEM file of extra CA certificates to trust when the GMS URL is https.
    #[arg(long, env = "DATAHUB_SCIM_GMS_CA_FILE")]
    pub gms_ca_file: Option<PathBuf>,

    /// Connect timeout for GMS (e.g. 500ms, 5s, 1m).
    #[arg(long, env = "DATAHUB_SCIM_GMS_CONNECT_TIMEOUT", default_value = "5s")]
    pub gms_connect_timeout: String,

    /// Timeout of one GMS call.
    #[arg(long, env = "DATAHUB_SCIM_GMS_REQUEST_TIMEOUT", default_value = "10s")]
    pub gms_request_timeout: String,

    /// Most calls in flight to GMS at once (also the keep-alive connections kept open); further calls wait in line for --gms-queue-timeout.
    #[arg(long, env = "DATAHUB_SCIM_GMS_MAX_CONCURRENCY", default_value_t = crate::datahub::DEFAULT_MAX_CONCURRENCY)]
    pub gms_max_concurrency: usize,

    /// How long a GMS call waits in line for a free slot; past it the SCIM request answers 503 with Retry-After.
    #[arg(long, env = "DATAHUB_SCIM_GMS_QUEUE_TIMEOUT", default_value = "5s")]
    pub gms_queue_timeout: String,

    /// Largest accepted request body in bytes (413 beyond).
    #[arg(long, env = "DATAHUB_SCIM_MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    /// Memory all request bodies being read or served may hold together, in bytes; a request whose body does not fit answers 503 with Retry-After.
    #[arg(
        long,
        env = "DATAHUB_SCIM_MAX_INFLIGHT_BODY_BYTES",
        default_value_t = 16_777_216
    )]
    pub max_inflight_body_bytes: usize,

    /// Most operations one POST /Bulk may carry (advertised as bulk.maxOperations; 413 beyond); 0 turns /Bulk off (501).
    #[arg(long, env = "DATAHUB_SCIM_BULK_MAX_OPERATIONS", default_value_t = 100)]
    pub bulk_max_operations: usize,

    /// Largest POST /Bulk body in bytes (advertised as bulk.maxPayloadSize; 413 beyond); for /Bulk it takes the place of --max-body-bytes, and must fit in --max-inflight-body-bytes [default: --max-body-bytes].
    #[arg(long, env = "DATAHUB_SCIM_BULK_MAX_PAYLOAD_BYTES")]
    pub bulk_max_payload_bytes: Option<usize>,

    /// Most open connections on the SCIM listener (TLS handshakes included); at the limit the longest-idle connection is closed to make room, and a new connection is refused when every one is busy.
    #[arg(long, env = "DATAHUB_SCIM_MAX_CONNECTIONS", default_value_t = 1000)]
    pub max_connections: usize,

    /// A connection with no request in flight for this long is closed (HTTP/1.1 and HTTP/2, both listeners).
    #[arg(long, env = "DATAHUB_SCIM_IDLE_TIMEOUT", default_value = "75s")]
    pub idle_timeout: String,

    /// Time a new connection gets to finish its TLS handshake, and a request to deliver its headers.
    #[arg(long, env = "DATAHUB_SCIM_HANDSHAKE_TIMEOUT", default_value = "10s")]
    pub handshake_timeout: String,

    /// Failed authentications (401/403) one client address may cause per minute before its requests with not-yet-validated tokens get 429 with Retry-After (0: no limit).
    #[arg(long, env = "DATAHUB_SCIM_AUTH_FAILURE_LIMIT", default_value_t = 30)]
    pub auth_failure_limit: u32,

    /// Deadline of one SCIM request, end to end (504 beyond).
    #[arg(long, env = "DATAHUB_SCIM_REQUEST_DEADLINE", default_value = "30s")]
    pub request_deadline: String,

    /// Time given to in-flight requests to finish after SIGTERM/SIGINT.
    #[arg(long, env = "DATAHUB_SCIM_SHUTDOWN_GRACE", default_value = "20s")]
    pub shutdown_grace: String,

    /// After SIGTERM/SIGINT, time /ready reports 503 while new requests are still accepted (lets load balancers catch up) before the listener closes.
    #[arg(long, env = "DATAHUB_SCIM_SHUTDOWN_DELAY", default_value = "0s")]
    pub shutdown_delay: String,

    /// How long a successful token validation is cached (revocation takes effect within it).
    #[arg(long, env = "DATAHUB_SCIM_TOKEN_CACHE_TTL", default_value = "30s")]
    pub token_cache_ttl: String,

    /// How long a rejected token (401/403) is cached.
    #[arg(
        long,
        env = "DATAHUB_SCIM_TOKEN_CACHE_FAILURE_TTL",
        default_value = "5s"
    )]
    pub token_cache_failure_ttl: String,

    /// File holding DataHub's token signing key (DATAHUB_TOKEN_SERVICE_SIGNING_KEY); when set, token signatures are verified locally.
    #[arg(long, env = "DATAHUB_SCIM_TOKEN_SIGNING_KEY_FILE")]
    pub token_signing_key_file: Option<PathBuf>,

    /// How often the TLS certificate and key files are checked for changes.
    #[arg(long, env = "DATAHUB_SCIM_TLS_RELOAD_INTERVAL", default_value = "5s")]
    pub tls_reload_interval: String,

    /// How often GMS health is probed for /ready.
    #[arg(long, env = "DATAHUB_SCIM_GMS_PROBE_INTERVAL", default_value = "5s")]
    pub gms_probe_interval: String,

    /// SCIM attribute the DataHub username is derived from.
    #[arg(
        long,
        env = "DATAHUB_SCIM_USERNAME_SOURCE",
        value_enum,
        default_value = "userName"
    )]
    pub username_source: UsernameSourceArg,

    /// Regex applied to the username source; the whole match is the username (DataHub's AUTH_OIDC_USER_NAME_CLAIM_REGEX).
    #[arg(long, env = "DATAHUB_SCIM_USERNAME_REGEX", default_value = "(.*)")]
    pub username_regex: String,

    /// Lower-case the username after the regex.
    #[arg(long, env = "DATAHUB_SCIM_USERNAME_LOWERCASE")]
    pub username_lowercase: bool,

    /// Identity provider name written to origin.externalType (e.g. OKTA, AZURE_AD).
    #[arg(long, env = "DATAHUB_SCIM_IDP_NAME", default_value = "SCIM")]
    pub idp_name: String,

    /// What DELETE /Users/{id} does in DataHub.
    #[arg(
        long,
        env = "DATAHUB_SCIM_USER_DELETE",
        value_enum,
        default_value = "soft"
    )]
    pub user_delete: DeletePolicyArg,

    /// What DELETE /Groups/{id} does in DataHub.
    #[arg(
        long,
        env = "DATAHUB_SCIM_GROUP_DELETE",
        value_enum,
        default_value = "soft"
    )]
    pub group_delete: DeletePolicyArg,

    /// What a userName change that derives another DataHub username does: move the person to that user (the SCIM id stays), or reject it (400 mutability).
    #[arg(
        long,
        env = "DATAHUB_SCIM_USER_RENAME",
        value_enum,
        default_value = "move"
    )]
    pub user_rename: RenamePolicyArg,

    /// Let the IdP set each user's DataHub role (Admin, Editor or Reader) from its primary SCIM role, written as roleMembership; off: roles stay DataHub's.
    #[arg(long, env = "DATAHUB_SCIM_IDP_ROLES")]
    pub idp_roles: bool,

    /// Page size of list responses without `count`, and the largest page served.
    #[arg(long, env = "DATAHUB_SCIM_MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: usize,

    /// Most index candidates a list request may read and check one by one (a filter the index cannot answer, any sortBy, group filters that are not key lookups); beyond it the request answers 400 tooMany.
    #[arg(long, env = "DATAHUB_SCIM_MAX_FILTER_SCAN", default_value_t = crate::provision::DEFAULT_MAX_FILTER_SCAN)]
    pub max_filter_scan: usize,

    /// Capacity of the ID-mapping cache, in entries.
    #[arg(long, env = "DATAHUB_SCIM_ID_CACHE_CAPACITY", default_value_t = 10_000)]
    pub id_cache_capacity: u64,

    /// Time-to-live of ID-mapping cache entries.
    #[arg(long, env = "DATAHUB_SCIM_ID_CACHE_TTL", default_value = "5m")]
    pub id_cache_ttl: String,

    /// Retries of a conditional write that lost a race.
    #[arg(long, env = "DATAHUB_SCIM_WRITE_RETRIES", default_value_t = 8)]
    pub write_retries: u32,

    /// Most proposals in one ingestProposalBatch write; larger membership changes are written in several batches, ordered so a retry finishes them.
    #[arg(long, env = "DATAHUB_SCIM_WRITE_BATCH_SIZE", default_value_t = crate::provision::DEFAULT_WRITE_BATCH)]
    pub write_batch_size: usize,

    /// Log line format.
    #[arg(
        long,
        env = "DATAHUB_SCIM_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// Log filter, e.g. `info` or `datahub_scim=debug,info`.
    #[arg(long, env = "DATAHUB_SCIM_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Audit trail of every change made in DataHub, one JSON line per entity written (time, request id, SCIM operation, actor, urn, aspects, outcome): `stderr`, `stdout` or a file path (appended, created 0600); `off` by default. It names people (urns): keep it where personal data may be kept.
    #[arg(
        long,
        env = "DATAHUB_SCIM_AUDIT_LOG",
        value_name = "off|stderr|stdout|PATH"
    )]
    pub audit_log: Option<String>,
}

/// `check`: the serve settings plus the token to check with.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The gateway settings to check.
    #[command(flatten)]
    pub serve: ServeArgs,

    /// File holding a DataHub personal access token to validate against GMS.
    #[arg(long, env = "DATAHUB_SCIM_CHECK_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
}

/// `emulator`: the GMS emulator alone.
#[derive(Debug, Clone, Args)]
pub struct EmulatorArgs {
    /// Address the emulator binds.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// File the emulator writes an admin personal access token to once ready.
    #[arg(long)]
    pub token_file: PathBuf,

    /// DataHub release the emulator behaves as (e.g. 1.7.0, 1.2.0, 0.15.0); see
    /// docs/emulator.md#release-profiles.
    #[arg(long, default_value = crate::emulator::DEFAULT_RELEASE)]
    pub datahub_version: String,
}

/// `demo`: emulator and gateway in one process.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Address the gateway's SCIM (TLS) listener binds.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: String,

    /// Address the GMS emulator binds.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub gms_listen: String,

    /// Address the gateway's admin listener binds.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub admin_listen: String,

    /// File an admin personal access token is written to once ready.
    #[arg(long)]
    pub token_file: PathBuf,

    /// DataHub release the emulator behaves as (e.g. 1.7.0, 1.2.0, 0.15.0); see
    /// docs/emulator.md#release-profiles.
    #[arg(long, default_value = crate::emulator::DEFAULT_RELEASE)]
    pub datahub_version: String,
}

/// `certs`: a development CA and server certificate.
#[derive(Debug, Clone, Args)]
pub struct CertsArgs {
    /// Folder to write ca.crt, ca.key, tls.crt and tls.key into (created if missing).
    #[arg(long, default_value = "certs/dev")]
    pub out_dir: PathBuf,

    /// DNS names (and IP addresses) the server certificate is valid for.
    #[arg(long = "host", default_values_t = ["localhost".to_string(), "127.0.0.1".to_string()])]
    pub hosts: Vec<String>,

    /// Validity of the server certificate in days.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
}
