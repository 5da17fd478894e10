//! What the benchmark runs, in order: the reference proxy, the single-resource
//! scenarios on one stack with fixtures, the 50,000-member group, the Okta-shaped first
//! import on fresh stacks (no GMS latency and realistic latency, at Okta's concurrency
//! and four times it), the ID-cache memory, then the reports.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::loadgen::{self, encode_query, okta_user, Outcome, Req, Spec, Work};
use crate::procs::{self, Proc};
use crate::report::{self, Row};
use crate::stack::{Certs, Stack};

/// Okta's concurrency towards one SCIM app. Okta publishes no figure for its outbound
/// SCIM client; its rate-limit guide says bulk loads rarely need more than 10
/// simultaneous transactions, which is what we assume (docs/benchmarks.md).
pub const OKTA_CONCURRENCY: usize = 10;

/// Sizes and durations of one run.
pub struct Plan {
    pub smoke: bool,
    pub concurrency: usize,
    pub duration_ms: u64,
    pub warmup_ms: u64,
    /// Fixture users and groups (each group with `members` members).
    pub users: usize,
    pub groups: usize,
    pub members: usize,
    /// Concurrency of the list-page scenario.
    pub list_concurrency: usize,
    /// The import: users, groups, memberships.
    pub import: (usize, usize, usize),
    /// Injected GMS latency of the slow import runs (read, write ms); none in smoke.
    pub import_latency: Option<(u64, u64)>,
    /// Members of the big group.
    pub big_group: usize,
    /// Entries for the ID-cache memory measurement.
    pub cache_entries: usize,
    /// Where the CSV, chart and table go.
    pub out: PathBuf,
}

impl Plan {
    /// What `cargo bench --bench load` runs.
    pub fn full() -> Plan {
        Plan {
            smoke: false,
            concurrency: 64,
            duration_ms: 10_000,
            warmup_ms: 2_000,
            users: 1_000,
            groups: 64,
            members: 10,
            list_concurrency: 16,
            import: (10_000, 200, 100_000),
            import_latency: Some((20, 50)),
            big_group: 50_000,
            cache_entries: 1_000_000,
            out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/bench"),
        }
    }

    /// The CI smoke: every scenario, briefly, on small data.
    pub fn smoke() -> Plan {
        Plan {
            smoke: true,
            concurrency: 8,
            duration_ms: 300,
            warmup_ms: 100,
            users: 100,
            groups: 8,
            members: 10,
            list_concurrency: 4,
            import: (200, 8, 2_000),
            import_latency: None,
            big_group: 300,
            cache_entries: 20_000,
            out: target_dir().join("bench-load"),
        }
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Metrics read around every measured window.
const REQUESTS: &str = "datahub_scim_requests_total";
const GMS_CALLS: &str = "datahub_scim_gms_requests_total";
const GMS_CONNECTS: &str = "datahub_scim_gms_connections_opened_total";

/// `perf record` of the gateway during one scenario, when `BENCH_LOAD_PERF` names a
/// folder (docs/benchmarks.md, "Profiles").
struct Perf(std::process::Child);

impl Perf {
    /// Stops with SIGINT so perf writes its file.
    fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn profile(pid: u32, scenario: &str) -> Option<Perf> {
    let dir = std::env::var("BENCH_LOAD_PERF").ok()?;
    let name: String = scenario
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let file = format!("{dir}/{name}.perf");
    std::process::Command::new("perf")
        .args([
            "record",
            "-F",
            "1999",
            "-g",
            "-o",
            &file,
            "-p",
            &pid.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()
        .map(Perf)
}

/// Runs a load spec in a child process and returns what it measured.
fn loadgen_child(dir: &Path, spec: &Spec) -> Outcome {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let file = dir.join(format!("spec-{n}.json"));
    std::fs::write(&file, serde_json::to_vec(spec).expect("spec JSON")).expect("spec file");
    let exe = std::env::current_exe().expect("current exe");
    let out = std::process::Command::new(exe)
        .arg("__loadgen")
        .arg(&file)
        .stderr(std::process::Stdio::inherit())
        .output()
        .expect("load generator runs");
    assert!(
        out.status.success(),
        "load generator failed: {}",
        out.status
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or("")).expect("load generator outcome")
}

/// What the runs share.
struct Ctx<'a> {
    plan: &'a Plan,
    dir: PathBuf,
    certs: Certs,
    rt: tokio::runtime::Runtime,
    rows: Vec<Row>,
    failures: usize,
    notes: Vec<String>,
}

impl Ctx<'_> {
    fn spec(&self, stack: &Stack, concurrency: usize, work: Work) -> Spec {
        Spec {
            origin: stack.origin.clone(),
            ca_pem: self.certs.ca_pem.clone(),
            token: stack.token.clone(),
            concurrency,
            duration_ms: self.plan.duration_ms,
            warmup_ms: self.plan.warmup_ms,
            watch: vec![stack.gateway.pid(), stack.emulator.pid()],
            metrics: Some(stack.admin.clone()),
            work,
        }
    }

    /// Fixtures: tasks run in this process, unmeasured; panics on a failure.
    fn setup(
        &self,
        stack: &Stack,
        what: &str,
        concurrency: usize,
        tasks: Vec<Vec<Req>>,
    ) -> Outcome {
        let mut spec = self.spec(stack, concurrency, Work::Tasks { tasks });
        spec.watch.clear();
        spec.metrics = None;
        let started = std::time::Instant::now();
        let out = self.rt.block_on(loadgen::run(spec));
        eprintln!(
            "  setup: {what}: {} requests in {:.1} s",
            out.requests,
            started.elapsed().as_secs_f64()
        );
        assert_eq!(out.errors, 0, "setup {what}: {:?}", out.first_error);
        out
    }

    /// Runs `spec` in the load generator and turns it into a row.
    fn measure(&mut self, stack: &mut Stack, scenario: &str, spec: Spec, latency: &str) -> Row {
        if let Ok(f) = std::env::var("BENCH_LOAD_FILTER") {
            if !scenario.contains(&f) {
                return Row {
                    scenario: scenario.to_owned(),
                    ..Row::default()
                };
            }
        }
        stack.clear_call_log();
        let perf = [
            profile(stack.gateway.pid(), scenario),
            profile(stack.emulator.pid(), &format!("{scenario} emulator")),
        ];
        let grind = std::env::var("BENCH_LOAD_CALLGRIND").is_ok();
        let control = |args: &[&str]| {
            let _ = std::process::Command::new("callgrind_control")
                .args(args)
                .arg(stack.gateway.pid().to_string())
                .stdout(std::process::Stdio::null())
                .status();
        };
        if grind {
            control(&["--zero"]);
            control(&["--instr=on"]);
        }
        let out = loadgen_child(&self.dir, &spec);
        if grind {
            control(&["--instr=off"]);
            let name: String = scenario
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            control(&[&format!("--dump={name}")]);
            eprintln!("  callgrind: {} requests in the dump {name}", out.requests);
        }
        for p in perf.into_iter().flatten() {
            p.stop();
        }
        stack.check();
        let row = self.row(scenario, "gateway", &spec, &out, latency);
        eprintln!(
            "  {scenario} (c={}): {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, gateway {:.1} µs/req, GMS calls {:.2}/req, new GMS connections {}",
            spec.concurrency, row.rps, row.p50_ms, row.p99_ms, row.proxy_cpu_us, row.gms_calls, row.new_gms_connections
        );
        if out.errors > 0 {
            self.failures += 1;
            eprintln!(
                "  !! {} unexpected answers, first: {}",
                out.errors,
                out.first_error.as_deref().unwrap_or("")
            );
        }
        self.rows.push(row.clone());
        row
    }

    fn row(&self, scenario: &str, system: &str, spec: &Spec, out: &Outcome, latency: &str) -> Row {
        let per = |ns: u64| ns as f64 / 1000.0 / out.requests.max(1) as f64;
        let delta = |name: &str| {
            procs::metric_sum(&out.metrics_after, name)
                - procs::metric_sum(&out.metrics_before, name)
        };
        let served = delta(REQUESTS);
        Row {
            scenario: scenario.to_owned(),
            system: system.to_owned(),
            concurrency: spec.concurrency,
            gms_latency: latency.to_owned(),
            requests: out.requests,
            seconds: out.elapsed_s,
            rps: out.rps(),
            p50_ms: out.p50_us as f64 / 1000.0,
            p99_ms: out.p99_us as f64 / 1000.0,
            proxy_cpu_us: out.cpu_ns.first().map_or(0.0, |n| per(*n)),
            gms_cpu_us: out.cpu_ns.get(1).map_or(0.0, |n| per(*n)),
            gms_calls: if served > 0.0 {
                delta(GMS_CALLS) / served
            } else {
                0.0
            },
            new_gms_connections: delta(GMS_CONNECTS),
            errors: out.errors,
            note: String::new(),
        }
    }
}

/// Runs the plan; returns the number of scenarios with unexpected answers.
pub fn run(plan: &Plan, only: &[String]) -> usize {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let mut ctx = Ctx {
        plan,
        certs: Certs::create(&dir),
        dir,
        rt: tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime"),
        rows: Vec::new(),
        failures: 0,
        notes: Vec::new(),
    };
    let want = |s: &str| only.is_empty() || only.iter().any(|o| o == s);
    let machine = machine();
    eprintln!(
        "load bench ({}): {machine}",
        if plan.smoke { "smoke" } else { "full" }
    );
    if want("reference") {
        reference(&mut ctx);
    }
    if want("single") {
        single(&mut ctx);
    }
    let mut imports = Vec::new();
    if want("import") {
        imports = import_runs(&mut ctx);
    }
    let mut cache = None;
    if want("memory") {
        cache = Some(crate::memory::measure(&ctx.dir, plan.cache_entries));
    }

    std::fs::create_dir_all(&plan.out).expect("output folder");
    let title = format!(
        "datahub-scim vs a bare hyper + rustls proxy, loopback TLS, HTTP/1.1 keep-alive{}",
        if plan.smoke {
            " (smoke run: not a measurement)"
        } else {
            ""
        }
    );
    let mut md = String::new();
    let _ = writeln!(md, "Machine: {machine}\n");
    md.push_str(&report::markdown(&ctx.rows));
    if !imports.is_empty() {
        md.push('\n');
        md.push_str(&import_table(&imports));
    }
    if let Some(c) = &cache {
        md.push('\n');
        md.push_str(&c.markdown());
    }
    for n in &ctx.notes {
        let _ = writeln!(md, "\n{n}");
    }
    let csv_rows: Vec<Row> = ctx
        .rows
        .iter()
        .cloned()
        .chain(imports.iter().flat_map(|i| i.rows.clone()))
        .collect();
    std::fs::write(plan.out.join("load.csv"), report::csv(&csv_rows, &machine)).expect("csv");
    std::fs::write(
        plan.out.join("load.svg"),
        report::svg(&ctx.rows, &title, &machine),
    )
    .expect("svg");
    std::fs::write(plan.out.join("load.md"), &md).expect("md");
    println!("\n{md}");
    println!("wrote {}/load.csv, load.svg, load.md", plan.out.display());
    ctx.failures
}

/// CPU model, cores, kernel.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cpus} × {model}, Linux {}, load average before the run {}",
        kernel.trim(),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The bare proxy in front of the trivial upstream, GET at the plan's concurrency.
fn reference(ctx: &mut Ctx) {
    eprintln!("reference: bare hyper + rustls proxy, trivial upstream");
    let exe = std::env::current_exe().expect("exe");
    let up = format!("127.0.0.1:{}", procs::free_port());
    let px = format!("127.0.0.1:{}", procs::free_port());
    // About the size of GMS's entitiesV2 answer for one user.
    let _upstream = Proc::spawn(
        "trivial upstream",
        &exe,
        &["__trivial-upstream".into(), up.clone(), "1500".into()],
        &[],
        &ctx.dir.join("upstream.log"),
    );
    let proxy = Proc::spawn(
        "bare proxy",
        &exe,
        &[
            "__bare-proxy".into(),
            px.clone(),
            format!("http://{up}"),
            ctx.certs.cert.display().to_string(),
            ctx.certs.key.display().to_string(),
        ],
        &[],
        &ctx.dir.join("proxy.log"),
    );
    std::thread::sleep(Duration::from_millis(200));
    let spec = Spec {
        origin: format!("https://{px}"),
        ca_pem: ctx.certs.ca_pem.clone(),
        token: "not-checked".into(),
        concurrency: ctx.plan.concurrency,
        duration_ms: ctx.plan.duration_ms,
        warmup_ms: ctx.plan.warmup_ms,
        watch: vec![proxy.pid()],
        metrics: None,
        work: Work::Get {
            paths: vec!["/scim/v2/Users/dXNlcg".into()],
        },
    };
    let out = loadgen_child(&ctx.dir, &spec);
    let row = ctx.row(
        "bare proxy: GET (trivial upstream)",
        "bare proxy",
        &spec,
        &out,
        "0/0",
    );
    eprintln!(
        "  {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, proxy {:.1} µs/req",
        row.rps, row.p50_ms, row.p99_ms, row.proxy_cpu_us
    );
    if out.errors > 0 {
        ctx.failures += 1;
    }
    ctx.rows.push(row);
}

/// Ids of the fixtures on the main stack.
struct Fixtures {
    /// (id, userName) of each user.
    users: Vec<(String, String)>,
    /// Group ids, each with `plan.members` members.
    groups: Vec<String>,
}

fn user_name(prefix: &str, i: usize) -> String {
    format!("{prefix}-u{i}@example.com")
}

fn create_users_tasks(prefix: &str, n: usize) -> Vec<Vec<Req>> {
    (0..n)
        .map(|i| {
            let name = user_name(prefix, i);
            vec![Req::with(
                "POST",
                "/scim/v2/Users",
                okta_user(&name, &format!("00u{prefix}{i:07}")),
                &[201],
            )
            .capture(format!("{prefix}{i}"))]
        })
        .collect()
}

fn group_body(name: &str, members: &[&str]) -> String {
    let m: Vec<String> = members
        .iter()
        .map(|id| format!(r#"{{"value":"{id}"}}"#))
        .collect();
    format!(
        r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"{name}","members":[{}]}}"#,
        m.join(",")
    )
}

fn fixtures(ctx: &Ctx, stack: &Stack) -> Fixtures {
    let p = ctx.plan;
    let out = ctx.setup(stack, "users", 16, create_users_tasks("fx", p.users));
    let users: Vec<(String, String)> = (0..p.users)
        .map(|i| (out.captured[&format!("fx{i}")].clone(), user_name("fx", i)))
        .collect();
    let tasks = (0..p.groups)
        .map(|g| {
            let members: Vec<&str> = (0..p.members)
                .map(|k| users[(g * p.members + k) % p.users].0.as_str())
                .collect();
            vec![Req::with(
                "POST",
                "/scim/v2/Groups",
                group_body(&format!("fx-g{g}"), &members),
                &[201],
            )
            .capture(format!("g{g}"))]
        })
        .collect();
    let out = ctx.setup(stack, "groups", 16, tasks);
    let groups = (0..p.groups)
        .map(|g| out.captured[&format!("g{g}")].clone())
        .collect();
    Fixtures { users, groups }
}

/// The single-resource scenarios and the big group, on one stack.
fn single(ctx: &mut Ctx) {
    let p = ctx.plan;
    eprintln!("gateway: emulator + datahub-scim serve, fixtures");
    let mut stack = Stack::start(&ctx.dir, &ctx.certs, "main", &[]);
    ctx.notes.push(format!(
        "Gateway start to `/ready`: {:.0} ms; idle RSS {:.1} MiB.",
        stack.ready_after.as_secs_f64() * 1000.0,
        stack.idle_rss_kib as f64 / 1024.0
    ));
    eprintln!(
        "  ready after {:.0} ms, idle RSS {} KiB",
        stack.ready_after.as_secs_f64() * 1000.0,
        stack.idle_rss_kib
    );
    let fx = fixtures(ctx, &stack);
    let c = p.concurrency;
    let none = "0/0";

    let paths = fx
        .users
        .iter()
        .map(|(id, _)| format!("/scim/v2/Users/{id}"))
        .collect();
    let s = ctx.spec(&stack, c, Work::Get { paths });
    ctx.measure(&mut stack, "GET user", s, none);

    let paths = fx
        .users
        .iter()
        .map(|(_, name)| {
            format!(
                "/scim/v2/Users?filter={}",
                encode_query(&format!("userName eq \"{name}\""))
            )
        })
        .collect();
    let s = ctx.spec(&stack, c, Work::Get { paths });
    ctx.measure(&mut stack, "GET userName eq", s, none);

    let paths: Vec<String> = fx
        .groups
        .iter()
        .map(|id| format!("/scim/v2/Groups/{id}"))
        .collect();
    let s = ctx.spec(
        &stack,
        c,
        Work::Get {
            paths: paths.clone(),
        },
    );
    let with = format!("GET group ({} members)", p.members);
    let small_get = ctx.measure(&mut stack, &with, s, none);
    let _ = small_get;
    let excl: Vec<String> = paths
        .iter()
        .map(|p| format!("{p}?excludedAttributes=members"))
        .collect();
    let s = ctx.spec(&stack, c, Work::Get { paths: excl });
    let small_excl = ctx.measure(&mut stack, "GET group excludedAttributes=members", s, none);

    // Worker w toggles a user that is in no fixture group, in group w.
    let toggles: Vec<String> = (0..c)
        .map(|w| fx.users[p.users - 1 - (w % (p.users / 4))].0.clone())
        .collect();
    let s = ctx.spec(
        &stack,
        c,
        Work::PatchToggle {
            groups: fx.groups.clone(),
            users: toggles.clone(),
        },
    );
    let small_patch = ctx.measure(&mut stack, "PATCH group add/remove 1 member", s, none);

    let s = ctx.spec(
        &stack,
        c,
        Work::CreateUsers {
            prefix: "post".into(),
        },
    );
    ctx.measure(&mut stack, "POST user", s, none);

    let put: Vec<(String, String)> = (0..c).map(|w| fx.users[w % p.users].clone()).collect();
    let s = ctx.spec(&stack, c, Work::PutUsers { users: put });
    ctx.measure(&mut stack, "PUT user", s, none);

    let pages = (0..(p.users / 100).max(1))
        .map(|k| format!("/scim/v2/Users?startIndex={}&count=100", 1 + 100 * k))
        .collect();
    let s = ctx.spec(&stack, p.list_concurrency, Work::Get { paths: pages });
    ctx.measure(&mut stack, "GET /Users page of 100", s, none);

    big_group(ctx, &mut stack, &toggles, &small_excl, &small_patch);
    drop(stack);
}

/// The big group: built through SCIM, then PATCH one member and GET without members,
/// compared with the small group's figures.
fn big_group(
    ctx: &mut Ctx,
    stack: &mut Stack,
    toggles: &[String],
    small_excl: &Row,
    small_patch: &Row,
) {
    let p = ctx.plan;
    let n = p.big_group;
    if std::env::var("BENCH_LOAD_FILTER").is_ok_and(|f| !format!("{n}-member group").contains(&f)) {
        return;
    }
    eprintln!("big group: {n} members");
    let out = ctx.setup(stack, "big-group users", 32, create_users_tasks("bg", n));
    let ids: Vec<String> = (0..n)
        .map(|i| out.captured[&format!("bg{i}")].clone())
        .collect();
    let out = ctx.setup(
        stack,
        "big group",
        1,
        vec![vec![Req::with(
            "POST",
            "/scim/v2/Groups",
            group_body("fx-big", &[]),
            &[201],
        )
        .capture("big")]],
    );
    let big = out.captured["big"].clone();
    let chunks: Vec<Vec<Req>> = ids
        .chunks(1000)
        .map(|chunk| {
            let values: Vec<String> = chunk.iter().map(|id| format!(r#"{{"value":"{id}"}}"#)).collect();
            let body = format!(
                r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"add","path":"members","value":[{}]}}]}}"#,
                values.join(",")
            );
            vec![Req::with("PATCH", format!("/scim/v2/Groups/{big}"), body, &[204, 200])]
        })
        .collect();
    ctx.setup(stack, "big group members", 2, chunks);
    let c = p.concurrency;
    let s = ctx.spec(
        stack,
        c,
        Work::PatchToggle {
            groups: vec![big.clone()],
            users: toggles.to_vec(),
        },
    );
    let label = format!("PATCH group add/remove 1 member, {n}-member group");
    let patch = ctx.measure(stack, &label, s, "0/0");
    let s = ctx.spec(
        stack,
        c,
        Work::Get {
            paths: vec![format!("/scim/v2/Groups/{big}?excludedAttributes=members")],
        },
    );
    let label = format!("GET group excludedAttributes=members, {n}-member group");
    let excl = ctx.measure(stack, &label, s, "0/0");
    ctx.notes.push(format!(
        "{n}-member group against the {}-member one: PATCH one member {:.2}× the p50 ({:.2} vs {:.2} ms) and {:.2}× the gateway CPU; GET excludedAttributes=members {:.2}× the p50 and {:.2}× the CPU.",
        p.members,
        patch.p50_ms / small_patch.p50_ms.max(1e-9),
        patch.p50_ms,
        small_patch.p50_ms,
        patch.proxy_cpu_us / small_patch.proxy_cpu_us.max(1e-9),
        excl.p50_ms / small_excl.p50_ms.max(1e-9),
        excl.proxy_cpu_us / small_excl.proxy_cpu_us.max(1e-9),
    ));
}

/// One Okta-shaped first import.
pub struct ImportRun {
    pub concurrency: usize,
    pub latency: (u64, u64),
    pub rows: Vec<Row>,
    /// Users, groups, memberships.
    pub sizes: (usize, usize, usize),
    /// GMS reads and writes per phase.
    pub gms: Vec<(f64, f64)>,
}

impl ImportRun {
    fn seconds(&self) -> f64 {
        self.rows.iter().map(|r| r.seconds).sum()
    }
}

/// Reads and writes (ingestProposal*) among the GMS calls between two scrapes.
fn gms_reads_writes(before: &str, after: &str) -> (f64, f64) {
    let sum = |t: &str, write: bool| -> f64 {
        t.lines()
            .filter(|l| l.starts_with(GMS_CALLS))
            .filter(|l| !l.contains("endpoint=\"gms."))
            .filter(|l| l.contains("ingestProposal") == write)
            .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
            .sum()
    };
    (
        sum(after, false) - sum(before, false),
        sum(after, true) - sum(before, true),
    )
}

fn import_runs(ctx: &mut Ctx) -> Vec<ImportRun> {
    let p = ctx.plan;
    let mut cases = vec![(OKTA_CONCURRENCY, (0, 0)), (4 * OKTA_CONCURRENCY, (0, 0))];
    if let Some(l) = p.import_latency {
        cases.push((OKTA_CONCURRENCY, l));
        cases.push((4 * OKTA_CONCURRENCY, l));
    }
    if p.smoke {
        cases.truncate(1);
    }
    cases.into_iter().map(|(c, l)| import(ctx, c, l)).collect()
}

/// The import on a fresh stack: every user looked up by `userName` then created,
/// every group looked up by `displayName` then created empty, then the memberships
/// pushed 100 per PATCH, each preceded by Okta's keep-alive rename PATCH.
fn import(ctx: &mut Ctx, c: usize, (read_ms, write_ms): (u64, u64)) -> ImportRun {
    let (nu, ng, nm) = ctx.plan.import;
    eprintln!(
        "import: {nu} users, {ng} groups, {nm} memberships, c={c}, GMS {read_ms}/{write_ms} ms"
    );
    let mut stack = Stack::start(&ctx.dir, &ctx.certs, &format!("import-{c}-{read_ms}"), &[]);
    stack.set_gms_latency(read_ms, write_ms);
    let latency = format!("{read_ms}/{write_ms}");
    let mut run = ImportRun {
        concurrency: c,
        latency: (read_ms, write_ms),
        rows: Vec::new(),
        sizes: (nu, ng, nm),
        gms: Vec::new(),
    };
    let mut phase = |ctx: &mut Ctx,
                     stack: &mut Stack,
                     name: &str,
                     tasks: Vec<Vec<Req>>|
     -> Outcome {
        let mut spec = ctx.spec(stack, c, Work::Tasks { tasks });
        spec.duration_ms = 0;
        spec.warmup_ms = 0;
        stack.clear_call_log();
        let out = loadgen_child(&ctx.dir, &spec);
        stack.check();
        let mut row = ctx.row(name, "gateway", &spec, &out, &latency);
        row.note = format!("{:.1} s", out.elapsed_s);
        eprintln!(
            "  {name}: {} requests in {:.1} s ({:.0} req/s), gateway {:.1} µs/req, GMS calls {:.2}/req",
            out.requests, out.elapsed_s, row.rps, row.proxy_cpu_us, row.gms_calls
        );
        if out.errors > 0 {
            ctx.failures += 1;
            eprintln!(
                "  !! {} unexpected answers, first: {:?}",
                out.errors, out.first_error
            );
        }
        run.gms
            .push(gms_reads_writes(&out.metrics_before, &out.metrics_after));
        run.rows.push(row);
        out
    };
    let tag = format!("imp{c}x{read_ms}");
    let users: Vec<Vec<Req>> = (0..nu)
        .map(|i| {
            let name = format!("{tag}-u{i}@example.com");
            let filter = encode_query(&format!("userName eq \"{name}\""));
            vec![
                Req::get(format!(
                    "/scim/v2/Users?filter={filter}&startIndex=1&count=100"
                )),
                Req::with(
                    "POST",
                    "/scim/v2/Users",
                    okta_user(&name, &format!("00u{tag}{i:07}")),
                    &[201],
                )
                .capture(format!("u{i}")),
            ]
        })
        .collect();
    let out = phase(
        ctx,
        &mut stack,
        &format!("import: {nu} users (lookup + create)"),
        users,
    );
    let user_ids: Vec<String> = (0..nu)
        .map(|i| {
            out.captured
                .get(&format!("u{i}"))
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    let groups: Vec<Vec<Req>> = (0..ng)
        .map(|g| {
            let name = format!("{tag} group {g}");
            let filter = encode_query(&format!("displayName eq \"{name}\""));
            vec![
                Req::get(format!(
                    "/scim/v2/Groups?filter={filter}&startIndex=1&count=100"
                )),
                Req::with("POST", "/scim/v2/Groups", group_body(&name, &[]), &[201])
                    .capture(format!("g{g}")),
            ]
        })
        .collect();
    let out = phase(
        ctx,
        &mut stack,
        &format!("import: {ng} groups (lookup + create)"),
        groups,
    );
    let group_ids: Vec<String> = (0..ng)
        .map(|g| {
            out.captured
                .get(&format!("g{g}"))
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    // Group g gets every user i with i % stride == g % stride: nm memberships in all.
    let per_group = nm / ng.max(1);
    let stride = (nu / per_group.max(1)).max(1);
    let mut tasks = Vec::new();
    for (g, gid) in group_ids.iter().enumerate() {
        let members: Vec<&str> = (0..nu)
            .filter(|i| i % stride == g % stride)
            .take(per_group)
            .map(|i| user_ids[i].as_str())
            .collect();
        let name = format!("{tag} group {g}");
        for chunk in members.chunks(100) {
            let keep_alive = format!(
                r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"replace","value":{{"id":"{gid}","displayName":"{name}"}}}}]}}"#
            );
            let values: Vec<String> = chunk
                .iter()
                .map(|id| format!(r#"{{"value":"{id}"}}"#))
                .collect();
            let add = format!(
                r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"add","path":"members","value":[{}]}}]}}"#,
                values.join(",")
            );
            let path = format!("/scim/v2/Groups/{gid}");
            tasks.push(vec![
                Req::with("PATCH", path.clone(), keep_alive, &[204, 200]),
                Req::with("PATCH", path, add, &[204, 200]),
            ]);
        }
    }
    phase(
        ctx,
        &mut stack,
        &format!("import: {nm} memberships (PATCH 100 at a time)"),
        tasks,
    );
    drop(stack);
    run
}

fn import_table(runs: &[ImportRun]) -> String {
    let mut s = String::from(
        "| import (users, groups, memberships) | c | GMS latency read/write | users phase | users/s | groups phase | memberships phase | total | GMS reads + writes per user | bound by GMS round trips (predicted users phase) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in runs {
        let (nu, ng, nm) = r.sizes;
        let users = &r.rows[0];
        let (reads, writes) = r.gms.first().copied().unwrap_or_default();
        let (rpu, wpu) = (reads / nu as f64, writes / nu as f64);
        let (lr, lw) = r.latency;
        let predicted = if lr + lw > 0 {
            format!(
                "{:.1} s",
                nu as f64 * (rpu * lr as f64 + wpu * lw as f64) / 1000.0 / r.concurrency as f64
            )
        } else {
            "—".into()
        };
        let _ = writeln!(
            s,
            "| {nu}, {ng}, {nm} | {} | {lr}/{lw} ms | {:.1} s | {:.0} | {:.1} s | {:.1} s | {:.1} s | {rpu:.2} + {wpu:.2} | {predicted} |",
            r.concurrency,
            users.seconds,
            nu as f64 / users.seconds.max(1e-9),
            r.rows.get(1).map_or(0.0, |x| x.seconds),
            r.rows.get(2).map_or(0.0, |x| x.seconds),
            r.seconds(),
        );
    }
    s
}
