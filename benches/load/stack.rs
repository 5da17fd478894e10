//! The system under test as two processes, as in production: `datahub-scim emulator`
//! (DataHub GMS, release profile 1.7.0) and `datahub-scim serve` in front of it over
//! TLS, with the gateway's default settings (log level `info`: one "request completed"
//! line per request, to a file).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::procs::{self, Proc};

/// The `datahub-scim` binary cargo built for this bench.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_datahub-scim"))
}

/// TLS material shared by the gateway and the reference proxy.
pub struct Certs {
    /// PEM of the CA the clients trust.
    pub ca_pem: String,
    /// Server certificate and key files (127.0.0.1, localhost).
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Certs {
    /// A fresh CA and server certificate in `dir`.
    pub fn create(dir: &Path) -> Certs {
        let hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let (ca, server) = datahub_scim::http::devcerts::ca_and_server(&hosts, 2)
            .expect("development certificates");
        let cert = dir.join("tls.crt");
        let key = dir.join("tls.key");
        std::fs::write(&cert, &server.cert_pem).expect("write cert");
        std::fs::write(&key, &server.key_pem).expect("write key");
        Certs {
            ca_pem: ca.cert_pem,
            cert,
            key,
        }
    }
}

/// A running emulator + gateway.
pub struct Stack {
    pub emulator: Proc,
    pub gateway: Proc,
    /// `127.0.0.1:PORT` of the emulator.
    pub gms: String,
    /// `https://127.0.0.1:PORT` of the SCIM listener.
    pub origin: String,
    /// `127.0.0.1:PORT` of the admin listener.
    pub admin: String,
    /// The admin PAT.
    pub token: String,
    /// From spawning `serve` to `/ready` answering 200.
    pub ready_after: Duration,
    /// Gateway RSS once ready, before any SCIM request, KiB.
    pub idle_rss_kib: u64,
}

impl Stack {
    /// Starts both processes (logs in `dir`); `env` adds or overrides gateway settings.
    pub fn start(dir: &Path, certs: &Certs, tag: &str, env: &[(&str, String)]) -> Stack {
        let bin = binary();
        let gms = format!("127.0.0.1:{}", procs::free_port());
        let token_file = dir.join(format!("{tag}.token"));
        let _ = std::fs::remove_file(&token_file);
        let emulator = Proc::spawn(
            "emulator",
            &bin,
            &[
                "emulator".into(),
                "--listen".into(),
                gms.clone(),
                "--token-file".into(),
                token_file.display().to_string(),
            ],
            &[],
            &dir.join(format!("{tag}-emulator.log")),
        );
        let started = std::time::Instant::now();
        let token = loop {
            match std::fs::read_to_string(&token_file) {
                Ok(t) if !t.trim().is_empty() => break t.trim().to_owned(),
                _ if started.elapsed() > Duration::from_secs(30) => {
                    panic!("the emulator wrote no token")
                }
                _ => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        procs::wait_http_ok(&gms, "/health", Duration::from_secs(10)).expect("emulator health");
        let scim = format!("127.0.0.1:{}", procs::free_port());
        let admin = format!("127.0.0.1:{}", procs::free_port());
        let mut vars: Vec<(String, String)> = vec![
            ("DATAHUB_SCIM_LISTEN".into(), scim.clone()),
            ("DATAHUB_SCIM_ADMIN_LISTEN".into(), admin.clone()),
            (
                "DATAHUB_SCIM_TLS_CERT_FILE".into(),
                certs.cert.display().to_string(),
            ),
            (
                "DATAHUB_SCIM_TLS_KEY_FILE".into(),
                certs.key.display().to_string(),
            ),
            ("DATAHUB_GMS_URL".into(), format!("http://{gms}")),
            ("DATAHUB_SCIM_LOG_LEVEL".into(), "info".into()),
        ];
        // BENCH_LOAD_GATEWAY_ENV="K=V,K=V" overrides gateway settings for experiments.
        let extra: Vec<(String, String)> = std::env::var("BENCH_LOAD_GATEWAY_ENV")
            .map(|e| {
                e.split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        for (k, v) in env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .chain(extra)
        {
            vars.retain(|(n, _)| *n != k);
            vars.push((k, v));
        }
        // BENCH_LOAD_CALLGRIND=<folder> runs the gateway under callgrind, counting
        // instructions only inside measured windows (docs/benchmarks.md, "Profiles").
        let (program, args) = match std::env::var("BENCH_LOAD_CALLGRIND") {
            Ok(out) => (
                PathBuf::from("valgrind"),
                vec![
                    "--tool=callgrind".into(),
                    "--collect-atstart=no".into(),
                    format!("--callgrind-out-file={out}/{tag}.callgrind"),
                    bin.display().to_string(),
                    "serve".into(),
                ],
            ),
            Err(_) => (bin.clone(), vec!["serve".into()]),
        };
        let gateway = Proc::spawn(
            "gateway",
            &program,
            &args,
            &vars,
            &dir.join(format!("{tag}-gateway.log")),
        );
        let ready_after = procs::wait_http_ok(&admin, "/ready", Duration::from_secs(30))
            .expect("the gateway became ready");
        let idle_rss_kib = procs::rss_kib(gateway.pid());
        Stack {
            emulator,
            gateway,
            gms,
            origin: format!("https://{scim}"),
            admin,
            token,
            ready_after,
            idle_rss_kib,
        }
    }

    /// Sets the emulator's latency per read and per write call.
    pub fn set_gms_latency(&self, read_ms: u64, write_ms: u64) {
        let body = format!(r#"{{"read_latency_ms":{read_ms},"write_latency_ms":{write_ms}}}"#);
        procs::http_call(&self.gms, "POST", "/__emulator/faults", &body);
    }

    /// Forgets the emulator's call log (it grows with every call).
    pub fn clear_call_log(&self) {
        procs::http_call(&self.gms, "DELETE", "/__emulator/calls", "");
    }

    /// Panics if a process died.
    pub fn check(&mut self) {
        self.emulator.check_alive();
        self.gateway.check_alive();
    }
}
