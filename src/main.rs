//! The `datahub-scim` binary: reads the configuration, sets up tracing, binds and
//! calls the library. Commands: `serve` (default), `emulator`, `demo`, `check`,
//! `certs`. Exit status: 0 ok, 1 runtime failure, 64 configuration/usage error.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use datahub_scim::config::args::{CertsArgs, CheckArgs, DemoArgs, EmulatorArgs};
use datahub_scim::config::{self, Command, Config, Env, LogFormat, Parsed, ServeArgs, EXIT_CONFIG};
use datahub_scim::{emulator, http};

/// mimalloc instead of the system allocator: a request allocates and frees hundreds of
/// small buffers (headers, JSON, strings), and glibc's malloc took a sixth of the
/// gateway's CPU under load (docs/benchmarks.md, "Profiles").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let command = match config::parse(std::env::args(), Env::Process) {
        Parsed::Run(c) => c,
        Parsed::Display(s) => {
            print!("{s}");
            return ExitCode::SUCCESS;
        }
        Parsed::Usage(s) => {
            eprint!("{s}");
            return exit(EXIT_CONFIG);
        }
    };
    match *command {
        Command::Serve(args) => serve(&args),
        Command::Check(args) => check(&args),
        Command::Certs(args) => certs(&args),
        Command::Emulator(args) => emulator_cmd(&args),
        Command::Demo(args) => demo(&args),
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Validates, or prints every problem and returns the exit code.
fn validated(args: &ServeArgs) -> Result<Config, ExitCode> {
    args.validate().map_err(|e| {
        eprintln!("datahub-scim: invalid configuration:");
        for p in &e.problems {
            eprintln!("  - {p}");
        }
        exit(EXIT_CONFIG)
    })
}

fn init_tracing(format: LogFormat, filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).unwrap_or_else(|_| "info".into());
    // Colour only for a person at a terminal: escape codes in a log file or a
    // container log are noise, and writing them costs on every line.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => b.json().flatten_event(true).try_init(),
        LogFormat::Text => b.try_init(),
    };
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

/// Resolves on SIGTERM or SIGINT. The handlers are installed when this is called,
/// not when the future is first polled, so a signal that arrives while the caller is
/// still starting up is not lost (and does not kill the process outright).
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn serve(args: &ServeArgs) -> ExitCode {
    let config = match validated(args) {
        Ok(c) => c,
        Err(code) => return code,
    };
    init_tracing(config.log_format, &config.log_level);
    let listeners = match http::Listeners::bind(&config) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, "cannot bind listeners");
            return ExitCode::FAILURE;
        }
    };
    let rt = runtime();
    let shutdown = {
        let _in_runtime = rt.enter();
        shutdown_signal()
    };
    match rt.block_on(http::run(config, listeners, shutdown)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "datahub-scim failed");
            ExitCode::FAILURE
        }
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let config = match validated(&args.serve) {
        Ok(c) => c,
        Err(code) => return code,
    };
    println!("ok   configuration is valid");
    let token = match &args.token_file {
        Some(f) => match std::fs::read_to_string(f) {
            Ok(t) => Some(t.trim().to_owned()),
            Err(e) => {
                println!("FAIL cannot read token file {}: {e}", f.display());
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    let findings = runtime().block_on(http::check::check(&config, token.as_deref()));
    for f in &findings {
        println!("{} {}", if f.ok { "ok  " } else { "FAIL" }, f.message);
    }
    if findings.iter().all(|f| f.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn certs(args: &CertsArgs) -> ExitCode {
    match http::devcerts::write_dev_certs(&args.out_dir, &args.hosts, args.days) {
        Ok(()) => {
            let d = args.out_dir.display();
            println!("wrote {d}/ca.crt, {d}/ca.key, {d}/tls.crt, {d}/tls.key (keys are private: never commit them)");
            println!("serve with: --tls-cert-file {d}/tls.crt --tls-key-file {d}/tls.key");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("datahub-scim certs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn addr(flag: &str, v: &str) -> Result<SocketAddr, ExitCode> {
    v.parse().map_err(|e| {
        eprintln!("datahub-scim: --{flag}: {v:?} is not an address ({e})");
        exit(EXIT_CONFIG)
    })
}

fn release(v: &str) -> Result<String, ExitCode> {
    emulator::Release::parse(v)
        .map(|r| r.to_string())
        .map_err(|e| {
            eprintln!("datahub-scim: --datahub-version: {e}");
            exit(EXIT_CONFIG)
        })
}

fn emulator_cmd(args: &EmulatorArgs) -> ExitCode {
    let (listen, version) = match (addr("listen", &args.listen), release(&args.datahub_version)) {
        (Ok(a), Ok(v)) => (a, v),
        (Err(c), _) | (_, Err(c)) => return c,
    };
    init_tracing(LogFormat::Text, "info");
    let rt = runtime();
    let shutdown = {
        let _in_runtime = rt.enter();
        shutdown_signal()
    };
    match rt.block_on(emulator::run_standalone(
        listen,
        args.token_file.clone(),
        version,
        shutdown,
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datahub-scim emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo(args: &DemoArgs) -> ExitCode {
    let (listen, gms, admin, version) = match (
        addr("listen", &args.listen),
        addr("gms-listen", &args.gms_listen),
        addr("admin-listen", &args.admin_listen),
        release(&args.datahub_version),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(v)) => (a, b, c, v),
        (Err(c), _, _, _) | (_, Err(c), _, _) | (_, _, Err(c), _) | (_, _, _, Err(c)) => return c,
    };
    init_tracing(LogFormat::Text, "info");
    match runtime().block_on(demo_run(listen, gms, admin, &args.token_file, version)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datahub-scim demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The demo's certificate folder, removed when dropped, whichever way the demo ends.
struct DemoDir(std::path::PathBuf);

impl DemoDir {
    fn create() -> Result<DemoDir, String> {
        let dir = std::env::temp_dir().join(format!("datahub-scim-demo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(DemoDir(dir))
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `s` as one shell word: as is when it is plain, else single-quoted.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%,=".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r#"'\''"#))
    }
}

/// Emulator + gateway with a fresh self-signed certificate, until SIGTERM/SIGINT.
/// The certificate folder is removed on every way out (signal during start-up or
/// after, a failed start, the gateway stopping on its own).
async fn demo_run(
    listen: SocketAddr,
    gms: SocketAddr,
    admin: SocketAddr,
    token_file: &Path,
    datahub_version: String,
) -> Result<(), String> {
    let mut stop = Box::pin(shutdown_signal());
    let gms_listener = tokio::net::TcpListener::bind(gms)
        .await
        .map_err(|e| format!("bind {gms}: {e}"))?;
    let cfg = emulator::EmulatorConfig {
        datahub_version,
        ..emulator::EmulatorConfig::default()
    };
    let emu = emulator::Emulator::start(cfg, gms_listener)
        .await
        .map_err(|e| format!("emulator: {e}"))?;

    let dir = DemoDir::create()?;
    let hosts = vec!["localhost".to_owned(), listen.ip().to_string()];
    let pair = http::devcerts::self_signed(&hosts, 30).map_err(|e| e.to_string())?;
    let (cert, key) = (dir.0.join("tls.crt"), dir.0.join("tls.key"));
    http::devcerts::write(&cert, &pair.cert_pem, false).map_err(|e| e.to_string())?;
    http::devcerts::write(&key, &pair.key_pem, true).map_err(|e| e.to_string())?;

    let env = [
        ("DATAHUB_SCIM_LISTEN", listen.to_string()),
        ("DATAHUB_SCIM_ADMIN_LISTEN", admin.to_string()),
        ("DATAHUB_SCIM_TLS_CERT_FILE", cert.display().to_string()),
        ("DATAHUB_SCIM_TLS_KEY_FILE", key.display().to_string()),
        ("DATAHUB_GMS_URL", emu.base_url()),
        ("DATAHUB_SCIM_GMS_PROBE_INTERVAL", "1s".to_owned()),
        ("DATAHUB_SCIM_SHUTDOWN_GRACE", "5s".to_owned()),
    ];
    let env = env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    let config = config::serve_config(["datahub-scim"], &env).map_err(|e| e.to_string())?;
    let listeners = http::Listeners::bind(&config).map_err(|e| format!("bind: {e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut gateway = tokio::spawn(http::run(config, listeners, async move {
        let _ = stop_rx.await;
    }));

    let started = tokio::select! {
        r = wait_ready(admin, Duration::from_secs(30)) => Some(r),
        _ = &mut stop => None,
    };
    if let Some(Err(e)) = started {
        let _ = stop_tx.send(());
        let _ = gateway.await;
        emu.shutdown().await;
        return Err(e);
    }
    if started.is_some() {
        std::fs::write(token_file, emu.admin_token())
            .map_err(|e| format!("{}: {e}", token_file.display()))?;
        let base = format!("https://{listen}/scim/v2");
        println!("datahub-scim demo ready");
        println!("  SCIM base URL : {base}");
        println!(
            "  DataHub (emulated) GMS: {} (release {})",
            emu.base_url(),
            emu.release()
        );
        println!("  admin         : http://{admin}/ready  http://{admin}/metrics");
        println!("  token         : {}", token_file.display());
        println!(
            "  CA certificate: {} (removed when the demo stops)",
            cert.display()
        );
        println!();
        println!("Paste into a shell:");
        println!();
        println!("CA={}", shell_word(&cert.display().to_string()));
        println!(
            "TOKEN=$(cat {})",
            shell_word(&token_file.display().to_string())
        );
        println!("curl --cacert \"$CA\" -H \"Authorization: Bearer $TOKEN\" {base}/Users");
        tokio::select! {
            _ = &mut stop => {}
            ended = &mut gateway => {
                emu.shutdown().await;
                return match ended {
                    Ok(Ok(())) => Err("the gateway stopped".into()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
            }
        }
    }
    let _ = stop_tx.send(());
    let result = gateway.await;
    emu.shutdown().await;
    drop(dir);
    match result {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Polls `GET /ready` on the admin port until it answers 200.
async fn wait_ready(admin: SocketAddr, limit: Duration) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if let Ok(mut s) = tokio::net::TcpStream::connect(admin).await {
            let req = format!("GET /ready HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\r\n");
            let mut buf = Vec::new();
            if s.write_all(req.as_bytes()).await.is_ok()
                && s.read_to_end(&mut buf).await.is_ok()
                && buf.starts_with(b"HTTP/1.1 200")
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err("the gateway did not become ready".into())
}
