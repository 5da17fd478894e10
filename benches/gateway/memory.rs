//! Memory: the real `datahub-scim serve` binary as a child process (so its RSS is the
//! gateway's alone, not the emulator's or the client's), against the in-process
//! emulator, over TLS. Provisions N users and G groups (each user in one group) and
//! reads the child's `VmRSS`/`VmHWM` from `/proc/<pid>/status` and the cache entry
//! gauges from `/metrics`.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde::Serialize;

use crate::harness::{self, Harness, Req};
use crate::measure::Row;
use crate::ops::{self, pool_name};

/// What the memory run found.
#[derive(Debug, Serialize)]
pub struct MemoryReport {
    /// Users provisioned.
    pub users: usize,
    /// Groups provisioned.
    pub groups: usize,
    /// Members added per group.
    pub members_per_group: usize,
    /// Child RSS once ready, before any SCIM request, KiB.
    pub idle_rss_kib: u64,
    /// Child RSS after provisioning (creates and member adds), KiB.
    pub provisioned_rss_kib: u64,
    /// Child peak RSS (`VmHWM`) after provisioning, KiB.
    pub provisioned_peak_kib: u64,
    /// Child RSS after the list pages as well, KiB.
    pub after_list_rss_kib: u64,
    /// Child peak RSS (`VmHWM`) after the list pages as well, KiB.
    pub after_list_peak_kib: u64,
    /// `datahub_scim_cache_entries` samples after provisioning: (labels, entries).
    pub cache_entries: Vec<(String, f64)>,
    /// The provisioning runs (concurrency 8, no injected latency), as measured.
    pub provisioning: Vec<Row>,
    /// The gateway process's CPU time (user + system) per request of each
    /// provisioning run, ms (10 ms clock-tick resolution over the whole run).
    pub gateway_cpu_ms_per_op: Vec<f64>,
}

/// CPU time (user + system) of process `pid` so far, ms.
pub fn cpu_ms(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    // USER_HZ is 100 on Linux for every mainstream architecture.
    f.iter().sum::<f64>() * 10.0
}

/// Kills the child on every exit path.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `VmRSS` and `VmHWM` of process `pid`, KiB.
pub fn rss_kib(pid: &str) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A free loopback port (bound and released; the child binds it right after).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs the memory measurement.
pub async fn run(dir: &Path, users: usize, groups: usize) -> MemoryReport {
    let emu = harness::start_emulator().await;
    let (ca, cert, key) = harness::write_certs(dir);
    let (scim, admin) = (free_port(), free_port());
    let mut env = harness::gateway_env(
        &emu.base_url(),
        &cert,
        &key,
        &format!("127.0.0.1:{scim}"),
        &format!("127.0.0.1:{admin}"),
    );
    // As in production: one log line per request (to /dev/null here).
    env.insert("DATAHUB_SCIM_LOG_LEVEL".into(), "info".into());
    let child = Command::new(env!("CARGO_BIN_EXE_datahub-scim"))
        .arg("serve")
        .envs(&env)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the datahub-scim binary starts");
    let guard = ChildGuard(child);
    let pid = guard.0.id().to_string();
    let h = Harness::attach(
        emu.clone(),
        format!("https://127.0.0.1:{scim}"),
        format!("127.0.0.1:{admin}").parse().expect("addr"),
        &ca,
    )
    .await;
    let (idle_rss_kib, _) = rss_kib(&pid);

    let mut provisioning = Vec::new();
    let mut cpu = Vec::new();
    let mut phase = |row: Row, before: f64, cpu: &mut Vec<f64>| {
        cpu.push((cpu_ms(&pid) - before) / row.requests as f64);
        provisioning.push(row);
    };
    let reqs = (0..users)
        .map(|i| ops::create_user_req(&pool_name(i)))
        .collect();
    let before = cpu_ms(&pid);
    phase(
        ops::setup(&h, &format!("create {users} users"), reqs).await,
        before,
        &mut cpu,
    );
    let reqs = (0..groups)
        .map(|g| ops::create_group_req(&format!("mem-g{g:03}")))
        .collect();
    let before = cpu_ms(&pid);
    phase(
        ops::setup(&h, &format!("create {groups} groups"), reqs).await,
        before,
        &mut cpu,
    );
    let per = users / groups.max(1);
    let reqs = (0..groups)
        .map(|g| ops::add_members_req(&format!("mem-g{g:03}"), g * per..(g + 1) * per))
        .collect();
    let before = cpu_ms(&pid);
    phase(
        ops::setup(&h, &format!("add {per} members to each group"), reqs).await,
        before,
        &mut cpu,
    );
    let (provisioned_rss_kib, provisioned_peak_kib) = rss_kib(&pid);
    // The first 10 pages only: every page hydrates the whole index.
    let pages = (users / 100).min(10);
    let reqs = (0..pages)
        .map(|p| {
            Req::get(format!(
                "/scim/v2/Users?startIndex={}&count=100",
                p * 100 + 1
            ))
        })
        .collect();
    let what = format!("list {pages} pages of 100 over {users} users");
    let before = cpu_ms(&pid);
    phase(ops::setup(&h, &what, reqs).await, before, &mut cpu);

    let (after_list_rss_kib, after_list_peak_kib) = rss_kib(&pid);
    let cache_entries = harness::cache_entries(&h.metrics().await);
    drop(guard);
    emu.shutdown().await;
    MemoryReport {
        users,
        groups,
        members_per_group: per,
        idle_rss_kib,
        provisioned_rss_kib,
        provisioned_peak_kib,
        after_list_rss_kib,
        after_list_peak_kib,
        cache_entries,
        provisioning,
        gateway_cpu_ms_per_op: cpu,
    }
}
