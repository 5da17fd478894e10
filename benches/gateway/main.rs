//! End-to-end gateway benchmark over loopback TLS: the real `http::run()` (in this
//! process) in front of the in-process DataHub GMS emulator; latency percentiles,
//! throughput at concurrency 1 and 8, GMS calls per SCIM operation (from the
//! emulator's call log), the token-cache effect, the same with 5 ms injected per GMS
//! call, and the memory of the real binary (a child process) after provisioning.
//!
//! `cargo bench --bench gateway` prints a Markdown table and writes
//! `target/bench-gateway.json`. Knobs (environment): `BENCH_GATEWAY_N` requests per
//! operation and concurrency (default 200, at most 500), `BENCH_GATEWAY_N_SLOW` the
//! same with 5 ms GMS latency (default 100), `BENCH_GATEWAY_USERS` /
//! `BENCH_GATEWAY_GROUPS` for the memory run (default 5000 / 100).
//! Exits non-zero if any request got an unexpected status.

mod harness;
mod measure;
mod memory;
mod ops;

use std::fmt::Write as _;
use std::path::PathBuf;

use measure::Row;
use serde_json::json;

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Compact `endpoint×n` list (the `restli.` prefix dropped).
fn breakdown(r: &Row) -> String {
    r.gms_calls_by_endpoint
        .iter()
        .map(|(e, n)| format!("{}×{}", e.trim_start_matches("restli."), fmt_calls(*n)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fmt_calls(n: f64) -> String {
    if (n - n.round()).abs() < 0.005 {
        format!("{}", n.round())
    } else {
        format!("{n:.2}")
    }
}

fn table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| operation | GMS latency | conc. | n | p50 ms | p99 ms | req/s | GMS calls/op | calls by endpoint (per op) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} ms | {} | {} | {:.2} | {:.2} | {:.0} | {} | {} |",
            r.op,
            r.gms_latency_ms,
            r.concurrency,
            r.requests,
            r.p50_ms,
            r.p99_ms,
            r.rps,
            fmt_calls(r.gms_calls_per_op),
            breakdown(r)
        );
    }
    s
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    json!({"cpu_model": model, "available_parallelism": cpus})
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs bench targets
    // without it, and cargo-nextest lists them with `--list`: both must neither
    // benchmark nor print anything that is not a test list.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n = knob("BENCH_GATEWAY_N", 200);
    let n_slow = knob("BENCH_GATEWAY_N_SLOW", 100);
    assert!(
        n <= 500 && n_slow <= 500,
        "at most 500 requests per run (distinct pool users)"
    );
    let users = knob("BENCH_GATEWAY_USERS", 5000);
    let groups = knob("BENCH_GATEWAY_GROUPS", 100);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let (setup_rows, rows, mem) = rt.block_on(async {
        let mut setup_rows = Vec::new();
        let mut rows = Vec::new();
        for (latency, n) in [(0, n), (5, n_slow)] {
            eprintln!("scenario: GMS latency {latency} ms, {n} requests per run");
            let h = harness::Harness::start(dir.path()).await;
            let (s, r) = ops::scenario(&h, latency, n).await;
            setup_rows.extend(s);
            rows.extend(r);
            h.stop().await;
        }
        eprintln!("memory: {users} users, {groups} groups, child process");
        let mem = memory::run(dir.path(), users, groups).await;
        (setup_rows, rows, mem)
    });
    let (_, bench_hwm) = memory::rss_kib("self");

    println!("\n## Gateway over loopback TLS (HTTP/1.1 keep-alive), in-process run()\n");
    print!("{}", table(&rows));
    for r in rows.iter().filter(|r| r.op == ops::CONTENTION) {
        println!(
            "\n{} at {} ms: {} of {} requests answered 503 after the write retries",
            r.op, r.gms_latency_ms, r.errors, r.requests
        );
    }
    println!("\nSetup (concurrency 8, no injected latency):\n");
    print!("{}", table(&setup_rows));
    println!(
        "\n## Memory: datahub-scim serve (child process) after {} users, {} groups × {} members\n",
        mem.users, mem.groups, mem.members_per_group
    );
    let mib = |k: u64| format!("{:.1} MiB", k as f64 / 1024.0);
    println!("| idle RSS | after provisioning: RSS / peak | after 10 list pages: RSS / peak | cache entries |");
    println!("| ---: | ---: | ---: | --- |");
    let caches: Vec<String> = mem
        .cache_entries
        .iter()
        .map(|(l, v)| format!("{l} {v}"))
        .collect();
    println!(
        "| {} | {} / {} | {} / {} | {} |",
        mib(mem.idle_rss_kib),
        mib(mem.provisioned_rss_kib),
        mib(mem.provisioned_peak_kib),
        mib(mem.after_list_rss_kib),
        mib(mem.after_list_peak_kib),
        caches.join(", ")
    );
    println!();
    print!("{}", table(&mem.provisioning));
    println!("\n| run | gateway CPU per request (user + system) |\n| --- | ---: |");
    for (r, cpu) in mem.provisioning.iter().zip(&mem.gateway_cpu_ms_per_op) {
        println!("| {} | {cpu:.2} ms |", r.op);
    }
    println!(
        "\nBench process peak RSS (emulator + gateway + client, both scenarios): {:.1} MiB",
        bench_hwm as f64 / 1024.0
    );

    let out = target_dir().join("bench-gateway.json");
    let report = json!({
        "transport": "TLS 1.3 (rustls, rcgen CA), HTTP/1.1 keep-alive, 127.0.0.1",
        "machine": machine(),
        "rows": rows,
        "setup": setup_rows,
        "memory": mem,
        "bench_process_peak_rss_kib": bench_hwm,
    });
    std::fs::create_dir_all(target_dir()).expect("target dir");
    std::fs::write(&out, serde_json::to_vec_pretty(&report).expect("JSON")).expect("write JSON");
    println!("\nwrote {}", out.display());
    let errors: usize = rows
        .iter()
        .filter(|r| r.op != ops::CONTENTION)
        .map(|r| r.errors)
        .sum();
    if errors > 0 {
        eprintln!("{errors} requests got an unexpected status");
        std::process::exit(1);
    }
}
