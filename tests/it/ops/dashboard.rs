//! The Grafana dashboard and the alert rules shipped with the chart name only metrics
//! the binary exports: every metric name in every panel query and rule expression is
//! checked against the `# TYPE` families of a live gateway's `/metrics`. The
//! dashboard covers what operators look at, and every alert has a promtool test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::harness::Gateway;

fn chart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("helm/datahub-scim")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Skips a quoted string starting at `i`; returns the index after it.
fn skip_string(b: &[u8], i: usize) -> usize {
    let q = b[i];
    let mut j = i + 1;
    while j < b.len() && b[j] != q {
        j += if b[j] == b'\\' { 2 } else { 1 };
    }
    j + 1
}

/// Skips a bracketed group (`{…}`, `[…]`, `(…)`) starting at `i`, strings included.
fn skip_group(b: &[u8], i: usize) -> usize {
    let (open, close) = (
        b[i],
        match b[i] {
            b'{' => b'}',
            b'[' => b']',
            _ => b')',
        },
    );
    let mut depth = 0;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' | b'\'' | b'`' => {
                j = skip_string(b, j);
                continue;
            }
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// The metric names a PromQL expression selects: identifiers that are not functions,
/// aggregations, keywords, label names (in `{…}`, `by (…)`, `on (…)`, …), strings,
/// durations or numbers.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const LABEL_LISTS: [&str; 6] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    const KEYWORDS: [&str; 6] = ["and", "or", "unless", "bool", "offset", "atan2"];
    // Aggregations, which may be followed by `by (…)` before their parenthesis.
    const AGGREGATIONS: [&str; 12] = [
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    let b = expr.as_bytes();
    let ident_start = |c: u8| c.is_ascii_alphabetic() || c == b'_' || c == b':';
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b':';
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b'"' | b'\'' | b'`') {
            i = skip_string(b, i);
        } else if matches!(c, b'{' | b'[') {
            i = skip_group(b, i);
        } else if c.is_ascii_digit() || c == b'.' {
            // A number or a duration (`5m`, `1e3`, `0.99`).
            while i < b.len() && (ident(b[i]) || b[i] == b'.') {
                i += 1;
            }
        } else if c == b'$' {
            // A Grafana variable outside a selector.
            i += 1;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
        } else if ident_start(c) {
            let start = i;
            while i < b.len() && ident(b[i]) {
                i += 1;
            }
            let word = &expr[start..i];
            let mut next = i;
            while next < b.len() && b[next].is_ascii_whitespace() {
                next += 1;
            }
            if LABEL_LISTS.contains(&word) {
                if next < b.len() && b[next] == b'(' {
                    i = skip_group(b, next);
                }
            } else if KEYWORDS.contains(&word)
                || AGGREGATIONS.contains(&word)
                || (next < b.len() && b[next] == b'(')
            {
                // A keyword, or a function / aggregation name.
            } else {
                names.insert(word.to_owned());
            }
        } else {
            i += 1;
        }
    }
    names
}

/// Families of the exposition: `(name, type)` from its `# TYPE` lines.
fn families(metrics: &str) -> Vec<(String, String)> {
    metrics
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("# TYPE ")?.split_whitespace();
            Some((w.next()?.to_owned(), w.next()?.to_owned()))
        })
        .collect()
}

/// Whether `name` is a series name the families produce.
fn exported(name: &str, families: &[(String, String)]) -> bool {
    families.iter().any(|(f, t)| {
        name == f
            || match t.as_str() {
                "histogram" => ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|s| name.strip_suffix(s) == Some(f)),
                "summary" => ["_sum", "_count"]
                    .iter()
                    .any(|s| name.strip_suffix(s) == Some(f)),
                _ => false,
            }
    })
}

/// `(panel title, expr)` of every query of the dashboard, rows' panels included.
fn dashboard_queries(d: &Value) -> Vec<(String, String)> {
    fn walk(panels: &Value, out: &mut Vec<(String, String)>) {
        for p in panels.as_array().into_iter().flatten() {
            for t in p["targets"].as_array().into_iter().flatten() {
                let expr = t["expr"].as_str().expect("every target has an expr");
                out.push((
                    p["title"].as_str().unwrap_or("").to_owned(),
                    expr.to_owned(),
                ));
            }
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&d["panels"], &mut out);
    for v in d["templating"]["list"].as_array().into_iter().flatten() {
        if let Some(q) = v["query"]["query"].as_str() {
            let inner = q
                .strip_prefix("label_values(")
                .and_then(|q| q.rsplit_once(','))
                .map(|(sel, _)| sel.to_owned());
            out.push((
                format!("variable {}", v["name"]),
                inner.unwrap_or_else(|| q.to_owned()),
            ));
        }
    }
    out
}

/// `(alert, expr)` of the rule file: `expr:` values, inline or as a `|` block.
fn rule_exprs(yaml: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut out = Vec::new();
    let mut alert = String::new();
    let mut i = 0;
    while i < lines.len() {
        let t = lines[i].trim_start();
        if let Some(a) = t.strip_prefix("- alert:") {
            alert = a.trim().to_owned();
        } else if let Some(e) = t.strip_prefix("expr:") {
            let e = e.trim();
            if e == "|" || e == ">-" || e == ">" {
                let indent = lines[i].len() - t.len();
                let mut body = Vec::new();
                while i + 1 < lines.len() {
                    let l = lines[i + 1];
                    let ind = l.len() - l.trim_start().len();
                    if !l.trim().is_empty() && ind <= indent {
                        break;
                    }
                    body.push(l.trim());
                    i += 1;
                }
                out.push((alert.clone(), body.join(" ")));
            } else {
                out.push((alert.clone(), e.to_owned()));
            }
        }
        i += 1;
    }
    out
}

/// Where CI points the check at the running demo's `/metrics` instead.
const METRICS_URL: &str = "DASHBOARD_CHECK_METRICS_URL";

/// A live gateway's `/metrics`: the URL in [`METRICS_URL`] when set (CI: the demo),
/// else a harness gateway's after a little traffic (so labelled series exist too).
async fn live_metrics() -> String {
    if let Some(url) = std::env::var(METRICS_URL).ok().filter(|u| !u.is_empty()) {
        let client: hyper_util::client::legacy::Client<_, http_body_util::Full<bytes::Bytes>> =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let resp = client
            .get(url.parse().expect("a URL"))
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(resp.status(), 200, "{url}");
        let body = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .expect("body")
            .to_bytes();
        eprintln!("checking against {url}");
        return String::from_utf8_lossy(&body).into_owned();
    }
    let g = Gateway::ready(&[]).await;
    let r = g
        .scim_json(
            "POST",
            "/scim/v2/Users",
            &serde_json::json!({"userName": "dash@example.com"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(g.scim("GET", "/scim/v2/Users", None).await.status, 401);
    g.metrics().await
}

#[test]
fn the_query_scanner_finds_metric_names_only() {
    let e = r#"histogram_quantile(0.99, sum by (le, operation) (rate(a_bucket{job=~"$job", x="b_total"}[$__rate_interval])))
        / on (job) group_left (instance) b offset 5m > bool 0.5 unless c:rec - time() < 14 * 86400
        or count(d) without (x) or topk(3, e)"#;
    let got: Vec<String> = metric_names(e).into_iter().collect();
    assert_eq!(got, ["a_bucket", "b", "c:rec", "d", "e"]);
}

#[tokio::test]
async fn dashboard_and_alerts_name_only_exported_metrics() {
    let metrics = live_metrics().await;
    let fams = families(&metrics);
    assert!(fams.len() > 15, "{metrics}");

    let dashboard: Value =
        serde_json::from_str(&read(&chart().join("dashboards/datahub-scim.json"))).expect("JSON");
    let queries = dashboard_queries(&dashboard);
    assert!(queries.len() > 20, "{queries:?}");
    let mut used = BTreeSet::new();
    for (title, expr) in &queries {
        let names = metric_names(expr);
        assert!(!names.is_empty(), "{title}: no metric in {expr}");
        for n in names {
            assert!(
                exported(&n, &fams),
                "dashboard panel {title:?} queries {n}, which /metrics does not export"
            );
            used.insert(n);
        }
    }
    // What the issue asks the dashboard to show.
    for needed in [
        "datahub_scim_requests_total",
        "datahub_scim_request_duration_seconds_bucket",
        "datahub_scim_gms_requests_total",
        "datahub_scim_gms_request_duration_seconds_bucket",
        "datahub_scim_write_retries_total",
        "datahub_scim_write_retries_exhausted_total",
        "datahub_scim_cache_hits_total",
        "datahub_scim_cache_misses_total",
        "datahub_scim_connections_open",
        "datahub_scim_connections_refused_total",
        "datahub_scim_requests_in_flight",
    ] {
        assert!(used.contains(needed), "no panel shows {needed}");
    }

    let rules = read(&chart().join("rules/datahub-scim.rules.yaml"));
    let exprs = rule_exprs(&rules);
    assert!(exprs.len() >= 10, "{exprs:?}");
    for (alert, expr) in &exprs {
        for n in metric_names(expr) {
            // `up` is Prometheus's own scrape-health series.
            assert!(
                n == "up" || exported(&n, &fams),
                "alert {alert} uses {n}, which /metrics does not export"
            );
        }
    }
}

#[test]
fn every_alert_has_a_promtool_test_and_the_chart_embeds_both_files() {
    let rules = read(&chart().join("rules/datahub-scim.rules.yaml"));
    let tests = read(&chart().join("rules/datahub-scim.rules.test.yaml"));
    let alerts: Vec<String> = rule_exprs(&rules).into_iter().map(|(a, _)| a).collect();
    for a in &alerts {
        assert!(
            tests.contains(&format!(
                "alertname: {a}\n        exp_alerts:\n          - exp_labels"
            )),
            "no promtool test makes {a} fire"
        );
    }
    let templates = read(&chart().join("templates/prometheusrule.yaml"))
        + &read(&chart().join("templates/dashboard.yaml"));
    assert!(templates.contains("rules/datahub-scim.rules.yaml"));
    assert!(templates.contains("dashboards/datahub-scim.json"));
}
