//! The results: one [`Row`] per scenario, written as CSV, as a Markdown table and as
//! an SVG chart (drawn here, no plotting crate: bars of req/s, p50/p99 and gateway CPU
//! per request, by scenario).

use std::fmt::Write as _;

use serde::Serialize;

/// One measured scenario.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Row {
    /// What was measured, e.g. `GET user`.
    pub scenario: String,
    /// `gateway` or `bare proxy`.
    pub system: String,
    /// Concurrent connections.
    pub concurrency: usize,
    /// Injected GMS latency, `read/write` ms.
    pub gms_latency: String,
    /// Requests measured.
    pub requests: u64,
    /// Length of the window, s.
    pub seconds: f64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// CPU of the proxy under test (gateway or bare proxy) per request, µs.
    pub proxy_cpu_us: f64,
    /// CPU of the emulator per request, µs.
    pub gms_cpu_us: f64,
    /// GMS calls per request (gateway metrics).
    pub gms_calls: f64,
    /// Connections the gateway opened to GMS during the window.
    pub new_gms_connections: f64,
    /// Requests with an unexpected status.
    pub errors: u64,
    /// Anything else worth a word.
    pub note: String,
}

/// CSV with a header line.
pub fn csv(rows: &[Row], machine: &str) -> String {
    let mut s = format!("# {machine}\n");
    s.push_str("scenario,system,concurrency,gms_latency_ms,requests,seconds,req_per_s,p50_ms,p99_ms,proxy_cpu_us_per_req,gms_cpu_us_per_req,gms_calls_per_req,new_gms_connections,errors,note\n");
    for r in rows {
        let _ = writeln!(
            s,
            "\"{}\",{},{},{},{},{:.2},{:.0},{:.3},{:.3},{:.1},{:.1},{:.2},{},{},\"{}\"",
            r.scenario.replace('"', "'"),
            r.system,
            r.concurrency,
            r.gms_latency,
            r.requests,
            r.seconds,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.proxy_cpu_us,
            r.gms_cpu_us,
            r.gms_calls,
            r.new_gms_connections,
            r.errors,
            r.note.replace('"', "'")
        );
    }
    s
}

/// The Markdown table the README shows.
pub fn markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| scenario | c | GMS latency (read/write) | req/s | p50 ms | p99 ms | gateway CPU µs/req | ×bare | GMS calls/req | new GMS conns | emulator CPU µs/req | errors |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let bare = rows
        .iter()
        .find(|r| r.system == "bare proxy")
        .map_or(0.0, |r| r.proxy_cpu_us);
    for r in rows {
        let ratio = if bare > 0.0 && r.proxy_cpu_us > 0.0 {
            format!("{:.1}", r.proxy_cpu_us / bare)
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "| {}{} | {} | {} ms | {:.0} | {:.2} | {:.2} | {:.1} | {} | {:.2} | {} | {:.1} | {} |",
            r.scenario,
            if r.note.is_empty() {
                String::new()
            } else {
                format!(" ({})", r.note)
            },
            r.concurrency,
            r.gms_latency,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.proxy_cpu_us,
            ratio,
            r.gms_calls,
            r.new_gms_connections,
            r.gms_cpu_us,
            r.errors
        );
    }
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A readable upper bound for an axis.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

/// Three panels side by side, one bar group per scenario: throughput, latency
/// (p50 solid, p99 light) and CPU per request (gateway or bare proxy, and emulator).
pub fn svg(rows: &[Row], title: &str, machine: &str) -> String {
    let label_w = 330.0;
    let panel_w = 250.0;
    let gap = 30.0;
    let row_h = 24.0;
    let top = 70.0;
    let h = top + row_h * rows.len() as f64 + 50.0;
    let w = label_w + 3.0 * (panel_w + gap) + 10.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="10" y="20" font-size="15" font-weight="bold">{}</text>"#,
        esc(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="38" fill="#555">{}</text>"##,
        esc(machine)
    );
    let panels: [(&str, f64); 3] = [
        ("requests/s", rows.iter().map(|r| r.rps).fold(0.0, f64::max)),
        (
            "latency ms (p50 dark, p99 light)",
            rows.iter().map(|r| r.p99_ms).fold(0.0, f64::max),
        ),
        (
            "CPU µs per request (proxy dark, GMS light)",
            rows.iter()
                .map(|r| r.proxy_cpu_us.max(r.gms_cpu_us))
                .fold(0.0, f64::max),
        ),
    ];
    for (p, (name, max)) in panels.iter().enumerate() {
        let x0 = label_w + p as f64 * (panel_w + gap);
        let max = nice_max(*max);
        let log = p == 1 && max > 0.0;
        let _ = writeln!(
            s,
            r#"<text x="{x0}" y="{}" font-weight="bold">{}</text>"#,
            top - 18.0,
            esc(name)
        );
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{}" x2="{x0}" y2="{}" stroke="#999"/>"##,
            top - 6.0,
            h - 40.0
        );
        let scale = |v: f64| -> f64 {
            if log {
                // log scale from 0.1 ms to max
                let lo = 0.1f64.ln();
                let hi = max.max(1.0).ln();
                ((v.max(0.1).ln() - lo) / (hi - lo)).clamp(0.0, 1.0) * panel_w
            } else {
                (v / max).clamp(0.0, 1.0) * panel_w
            }
        };
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" fill="#555" text-anchor="end">{}{}</text>"##,
            x0 + panel_w,
            h - 26.0,
            if log { "log, 0.1 – " } else { "0 – " },
            max
        );
        for (i, r) in rows.iter().enumerate() {
            let y = top + i as f64 * row_h;
            let bare = r.system == "bare proxy";
            let (dark, light) = if bare {
                ("#8a8a8a", "#cfcfcf")
            } else {
                ("#2b6cb0", "#90cdf4")
            };
            let bars: Vec<(f64, &str, f64)> = match p {
                0 => vec![(r.rps, dark, 14.0)],
                1 => vec![(r.p99_ms, light, 14.0), (r.p50_ms, dark, 14.0)],
                _ => vec![(r.proxy_cpu_us, dark, 8.0), (r.gms_cpu_us, light, 6.0)],
            };
            let mut dy = 0.0;
            for (v, color, bh) in bars {
                let _ = writeln!(
                    s,
                    r#"<rect x="{x0}" y="{:.1}" width="{:.1}" height="{bh}" fill="{color}"/>"#,
                    y + dy,
                    scale(v)
                );
                if p == 2 {
                    dy += bh;
                }
            }
            let value = match p {
                0 => format!("{:.0}", r.rps),
                1 => format!("{:.2} / {:.1}", r.p50_ms, r.p99_ms),
                _ => {
                    if r.gms_cpu_us > 0.0 {
                        format!("{:.0} / {:.0}", r.proxy_cpu_us, r.gms_cpu_us)
                    } else {
                        format!("{:.0}", r.proxy_cpu_us)
                    }
                }
            };
            let _ = writeln!(
                s,
                r##"<text x="{:.1}" y="{:.1}" fill="#222" font-size="10">{}</text>"##,
                x0 + 3.0
                    + match p {
                        0 => scale(r.rps),
                        1 => scale(r.p99_ms),
                        _ => scale(r.proxy_cpu_us.max(r.gms_cpu_us)),
                    },
                y + 11.0,
                value
            );
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + i as f64 * row_h + 11.0;
        let label = format!("{} (c={})", r.scenario, r.concurrency);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{y}" text-anchor="end">{}</text>"#,
            label_w - 10.0,
            esc(&label)
        );
    }
    s.push_str("</svg>\n");
    s
}
