//! The whole-stack benchmark: a load generator in its own process speaking SCIM like an
//! IdP over keep-alive TLS, against `datahub-scim serve` in front of `datahub-scim
//! emulator` (two more processes), and in the same session the reference: a bare
//! hyper + rustls pass-through proxy in front of a trivial upstream. Writes a CSV, a
//! Markdown table and an SVG chart (req/s, p50/p99, CPU per request, by scenario).
//!
//! ```sh
//! cargo bench --bench load                     # full run (~10 min): docs/bench/
//! cargo test --release --bench load -- --smoke # seconds: target/bench-load/
//! ```
//!
//! `cargo test --bench load -- --smoke` is what CI runs (debug build, every scenario
//! for a fraction of a second, statuses checked). Without `--bench` or `--smoke` (as
//! `cargo test` and `cargo nextest` run bench targets) it does nothing. Child modes
//! (`__loadgen`, `__bare-proxy`, `__trivial-upstream`, `__cache-memory`) are this
//! binary re-executed.

mod loadgen;
mod memory;
mod procs;
mod proxy;
mod report;
mod scenarios;
mod stack;

/// The gateway's allocator (src/main.rs), so the bare proxy, the load generator and
/// the cache-memory child run on it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("__loadgen") => return loadgen::child_main(&args[2]),
        Some("__bare-proxy") => return proxy::bare_proxy_main(&args[2..]),
        Some("__trivial-upstream") => return proxy::upstream_main(&args[2..]),
        Some("__cache-memory") => return memory::cache_child(&args[2..]),
        _ => {}
    }
    let smoke = args.iter().any(|a| a == "--smoke");
    let bench = args.iter().any(|a| a == "--bench");
    if !smoke && !bench {
        return;
    }
    let plan = if smoke {
        scenarios::Plan::smoke()
    } else {
        scenarios::Plan::full()
    };
    let only: Vec<String> = std::env::var("BENCH_LOAD_ONLY")
        .map(|v| v.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let failures = scenarios::run(&plan, &only);
    if failures > 0 {
        eprintln!("{failures} scenario(s) had unexpected answers");
        std::process::exit(1);
    }
}
