//! Every Prometheus metric the gateway exports, in one struct. Names are
//! `datahub_scim_*`; labels are bounded (operation, resource type, status class,
//! outcome enums), never ids, filters or raw paths. Gauges that mirror other state
//! (cache sizes) are set at scrape time by the admin server.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::datahub;

/// Labels of a served SCIM request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// SCIM operation, e.g. `users.create`, `groups.patch`, `discovery.schemas`, `unmatched`.
    pub operation: &'static str,
    /// Resource type: `User`, `Group`, `discovery` or `none`.
    pub resource: &'static str,
    /// `2xx`, `4xx`, `5xx`, ...
    pub status_class: &'static str,
}

/// Labels of a request latency observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// SCIM operation.
    pub operation: &'static str,
    /// Resource type.
    pub resource: &'static str,
}

/// Labels of an upstream GMS call.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamLabels {
    /// Logical GMS endpoint, e.g. `graphql.me`, `restli.ingestProposalBatch`, `gms.health`.
    pub endpoint: &'static str,
    /// `ok`, `client_error`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `server_error`, `throttled`, `timeout`, `connect_error`, `queue_timeout`.
    pub outcome: &'static str,
}

/// Labels of an upstream latency observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndpointLabels {
    /// Logical GMS endpoint.
    pub endpoint: &'static str,
}

/// Labels of a bearer-token validation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// `ok`, `invalid`, `forbidden`, `unavailable` or `rate_limited`.
    pub outcome: &'static str,
    /// `true` when answered from the token cache.
    pub cached: &'static str,
}

/// Labels naming a cache.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// `token` or `id`.
    pub cache: &'static str,
}

/// Labels of a certificate reload.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `ok` or `failed`.
    pub result: &'static str,
}

/// Labels naming a listener.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabels {
    /// `scim` or `admin`.
    pub listener: &'static str,
}

/// The listeners, for [`ListenerLabels`].
pub const LISTENERS: [&str; 2] = ["scim", "admin"];

/// Labels of an audit-trail event.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuditLabels {
    /// `written` or `failed` (the event could not be written to the audit log).
    pub result: &'static str,
}

/// Labels of the build-info gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct BuildLabels {
    /// Crate version.
    pub version: &'static str,
}

/// Labels of `datahub_scim_datahub_release_info`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReleaseLabels {
    /// The release as `/config` names it, e.g. `v1.7.0`.
    pub release: String,
    /// `supported`, `untested` or `unsupported`.
    pub support: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms .. ~16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Every metric, registered once in [`Metrics::new`].
pub struct Metrics {
    registry: Registry,
    /// `datahub_scim_requests_total`: SCIM requests served.
    pub requests: Family<RequestLabels, Counter>,
    /// `datahub_scim_request_duration_seconds`: SCIM request latency.
    pub request_duration: HistogramFamily<OperationLabels>,
    /// `datahub_scim_requests_in_flight`: SCIM requests being served.
    pub in_flight: Gauge,
    /// `datahub_scim_gms_requests_total`: calls to DataHub GMS.
    pub gms_requests: Family<UpstreamLabels, Counter>,
    /// `datahub_scim_gms_request_duration_seconds`: latency of calls to GMS.
    pub gms_duration: HistogramFamily<EndpointLabels>,
    /// `datahub_scim_write_retries_total`: conditional writes retried after a conflict.
    pub write_retries: Counter,
    /// `datahub_scim_write_retries_exhausted_total`: conditional writes given up after
    /// losing every allowed race (the request answers 503).
    pub write_retries_exhausted: Counter,
    /// `datahub_scim_auth_total`: bearer-token validations by outcome.
    pub auth: Family<AuthLabels, Counter>,
    /// `datahub_scim_cache_hits_total`: cache hits.
    pub cache_hits: Family<CacheLabels, Counter>,
    /// `datahub_scim_cache_misses_total`: cache misses.
    pub cache_misses: Family<CacheLabels, Counter>,
    /// `datahub_scim_cache_entries`: entries in a cache (set at scrape time).
    pub cache_entries: Family<CacheLabels, Gauge>,
    /// `datahub_scim_tls_certificate_expiry_timestamp_seconds`: notAfter of the served certificate.
    pub cert_expiry: Gauge,
    /// `datahub_scim_tls_reloads_total`: certificate reloads by result.
    pub tls_reloads: Family<ReloadLabels, Counter>,
    /// `datahub_scim_ready`: 1 when /ready answers 200.
    pub ready: Gauge,
    /// `datahub_scim_audit_events_total`: audit-trail events by result.
    pub audit_events: Family<AuditLabels, Counter>,
    /// `datahub_scim_build_info`: always 1, labelled with the version.
    pub build_info: Family<BuildLabels, Gauge>,
    /// `datahub_scim_connections_open`: open connections (TLS handshakes included),
    /// by listener.
    pub connections_open: Family<ListenerLabels, Gauge>,
    /// `datahub_scim_connections_refused_total`: connections closed at accept because
    /// the listener's connection limit was reached with every connection busy.
    pub connections_refused: Family<ListenerLabels, Counter>,
    /// `datahub_scim_connections_shed_total`: idle connections closed to make room for
    /// a new one at the connection limit.
    pub connections_shed: Family<ListenerLabels, Counter>,
    /// `datahub_scim_datahub_release_info`: 1 for the DataHub release GMS reported last
    /// (set at scrape time; one series).
    pub datahub_release: Family<ReleaseLabels, Gauge>,
    /// `datahub_scim_gms_calls_in_flight`: calls to GMS in flight (set at scrape time).
    pub gms_in_flight: Gauge,
    /// `datahub_scim_gms_calls_waiting`: calls to GMS waiting for a free slot because
    /// `--gms-max-concurrency` are in flight (set at scrape time).
    pub gms_waiting: Gauge,
    /// `datahub_scim_gms_max_concurrency`: the configured `--gms-max-concurrency`.
    pub gms_max_concurrency: Gauge,
    /// `datahub_scim_gms_queue_timeouts_total`: calls to GMS never sent because no slot
    /// freed up within `--gms-queue-timeout` (their requests answered 503).
    pub gms_queue_timeouts: Counter,
    /// `datahub_scim_gms_connections_opened_total`: TCP connections opened to GMS; flat
    /// under a steady load, when the pool reuses its connections.
    pub gms_connections_opened: Counter,
    /// The series `datahub_release` holds.
    release_shown: std::sync::Mutex<Option<ReleaseLabels>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("datahub_scim");
        let m = Metrics {
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            in_flight: Gauge::default(),
            gms_requests: Family::default(),
            gms_duration: Family::new_with_constructor(latency_histogram),
            write_retries: Counter::default(),
            write_retries_exhausted: Counter::default(),
            auth: Family::default(),
            cache_hits: Family::default(),
            cache_misses: Family::default(),
            cache_entries: Family::default(),
            cert_expiry: Gauge::default(),
            tls_reloads: Family::default(),
            ready: Gauge::default(),
            audit_events: Family::default(),
            build_info: Family::default(),
            connections_open: Family::default(),
            connections_refused: Family::default(),
            connections_shed: Family::default(),
            datahub_release: Family::default(),
            gms_in_flight: Gauge::default(),
            gms_waiting: Gauge::default(),
            gms_max_concurrency: Gauge::default(),
            gms_queue_timeouts: Counter::default(),
            gms_connections_opened: Counter::default(),
            release_shown: std::sync::Mutex::new(None),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register("requests", "SCIM requests served", m.requests.clone());
        r.register(
            "request_duration_seconds",
            "SCIM request latency",
            m.request_duration.clone(),
        );
        r.register(
            "requests_in_flight",
            "SCIM requests being served",
            m.in_flight.clone(),
        );
        r.register(
            "gms_requests",
            "Calls to DataHub GMS",
            m.gms_requests.clone(),
        );
        r.register(
            "gms_request_duration_seconds",
            "Latency of calls to DataHub GMS",
            m.gms_duration.clone(),
        );
        r.register(
            "write_retries",
            "Conditional writes retried after a conflict",
            m.write_retries.clone(),
        );
        r.register(
            "write_retries_exhausted",
            "Conditional writes given up after losing every allowed race",
            m.write_retries_exhausted.clone(),
        );
        r.register(
            "auth",
            "Bearer-token validations by outcome",
            m.auth.clone(),
        );
        r.register("cache_hits", "Cache hits", m.cache_hits.clone());
        r.register("cache_misses", "Cache misses", m.cache_misses.clone());
        r.register(
            "cache_entries",
            "Entries in a cache",
            m.cache_entries.clone(),
        );
        r.register(
            "tls_certificate_expiry_timestamp_seconds",
            "notAfter of the served TLS certificate, in unix seconds",
            m.cert_expiry.clone(),
        );
        r.register(
            "tls_reloads",
            "TLS certificate reloads by result",
            m.tls_reloads.clone(),
        );
        r.register("ready", "1 when the gateway reports ready", m.ready.clone());
        r.register(
            "audit_events",
            "Audit-trail events by result",
            m.audit_events.clone(),
        );
        r.register("build_info", "Build information", m.build_info.clone());
        r.register(
            "connections_open",
            "Open connections (TLS handshakes included), by listener",
            m.connections_open.clone(),
        );
        r.register(
            "connections_refused",
            "Connections closed at accept: connection limit reached, every connection busy",
            m.connections_refused.clone(),
        );
        r.register(
            "connections_shed",
            "Idle connections closed to make room for a new one at the connection limit",
            m.connections_shed.clone(),
        );
        r.register(
            "datahub_release_info",
            "The DataHub release GMS reports (GET /config) and whether datahub-scim supports it",
            m.datahub_release.clone(),
        );
        r.register(
            "gms_calls_in_flight",
            "Calls to DataHub GMS in flight",
            m.gms_in_flight.clone(),
        );
        r.register(
            "gms_calls_waiting",
            "Calls to DataHub GMS waiting for a free slot (--gms-max-concurrency in flight)",
            m.gms_waiting.clone(),
        );
        r.register(
            "gms_max_concurrency",
            "Calls to DataHub GMS allowed in flight at once (--gms-max-concurrency)",
            m.gms_max_concurrency.clone(),
        );
        r.register(
            "gms_queue_timeouts",
            "Calls to DataHub GMS never sent: no slot freed up within --gms-queue-timeout",
            m.gms_queue_timeouts.clone(),
        );
        r.register(
            "gms_connections_opened",
            "TCP connections opened to DataHub GMS",
            m.gms_connections_opened.clone(),
        );
        m.build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        // Both listeners' series exist from the start (at 0), so dashboards and
        // alerts see them before the first connection.
        for listener in LISTENERS {
            let labels = ListenerLabels { listener };
            m.connections_open.get_or_create(&labels).set(0);
            m.connections_refused.get_or_create(&labels).inc_by(0);
            m.connections_shed.get_or_create(&labels).inc_by(0);
        }
        Metrics { registry, ..m }
    }

    /// Shows `release` as the one `datahub_scim_datahub_release_info` series.
    pub fn set_datahub_release(&self, release: &crate::datahub::Release) {
        let support = match release.support() {
            crate::datahub::Support::Supported => "supported",
            crate::datahub::Support::Untested => "untested",
            crate::datahub::Support::Unsupported => "unsupported",
        };
        let labels = ReleaseLabels {
            release: release.to_string(),
            support,
        };
        let mut shown = self.release_shown.lock().unwrap_or_else(|p| p.into_inner());
        if shown.as_ref() != Some(&labels) {
            if let Some(old) = shown.take() {
                self.datahub_release.remove(&old);
            }
            self.datahub_release.get_or_create(&labels).set(1);
            *shown = Some(labels);
        }
    }

    /// Brings the GMS gate and pool series up to the client's counters (scrape time).
    pub fn set_gms_pool(&self, p: &datahub::PoolStats) {
        let gauge = |g: &Gauge, v: u64| {
            g.set(i64::try_from(v).unwrap_or(i64::MAX));
        };
        gauge(&self.gms_in_flight, p.in_flight);
        gauge(&self.gms_waiting, p.waiting);
        gauge(&self.gms_max_concurrency, p.max_concurrency);
        for (c, total) in [
            (&self.gms_queue_timeouts, p.queue_timeouts),
            (&self.gms_connections_opened, p.connections_opened),
        ] {
            let seen = c.get();
            if total > seen {
                c.inc_by(total - seen);
            }
        }
    }

    /// Records one served request.
    pub fn observe_request(
        &self,
        operation: &'static str,
        resource: &'static str,
        status: u16,
        latency: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                operation,
                resource,
                status_class: status_class(status),
            })
            .inc();
        self.request_duration
            .get_or_create(&OperationLabels {
                operation,
                resource,
            })
            .observe(latency.as_secs_f64());
    }

    /// Records one upstream GMS call.
    pub fn observe_gms(&self, endpoint: &'static str, outcome: &'static str, latency: Duration) {
        self.gms_requests
            .get_or_create(&UpstreamLabels { endpoint, outcome })
            .inc();
        self.gms_duration
            .get_or_create(&EndpointLabels { endpoint })
            .observe(latency.as_secs_f64());
    }

    /// The open-connections gauge of `listener`.
    pub fn connections_open(&self, listener: &'static str) -> Gauge {
        self.connections_open
            .get_or_create(&ListenerLabels { listener })
            .clone()
    }

    /// The refused-connections counter of `listener`.
    pub fn connections_refused(&self, listener: &'static str) -> Counter {
        self.connections_refused
            .get_or_create(&ListenerLabels { listener })
            .clone()
    }

    /// The shed-connections counter of `listener`.
    pub fn connections_shed(&self, listener: &'static str) -> Counter {
        self.connections_shed
            .get_or_create(&ListenerLabels { listener })
            .clone()
    }

    /// Records a token validation.
    pub fn observe_auth(&self, outcome: &'static str, cached: bool) {
        self.auth
            .get_or_create(&AuthLabels {
                outcome,
                cached: if cached { "true" } else { "false" },
            })
            .inc();
    }

    /// Brings a cache's series up to totals kept elsewhere (the ID-mapping cache
    /// counts its own hits and misses); called at scrape time.
    pub fn set_cache_totals(&self, cache: &'static str, entries: u64, hits: u64, misses: u64) {
        let labels = CacheLabels { cache };
        let catch_up = |c: &Counter, total: u64| {
            let seen = c.get();
            if total > seen {
                c.inc_by(total - seen);
            }
        };
        catch_up(&self.cache_hits.get_or_create(&labels), hits);
        catch_up(&self.cache_misses.get_or_create(&labels), misses);
        self.cache_entries
            .get_or_create(&labels)
            .set(i64::try_from(entries).unwrap_or(i64::MAX));
    }

    /// Records a cache lookup.
    pub fn observe_cache(&self, cache: &'static str, hit: bool) {
        let family = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        family.get_or_create(&CacheLabels { cache }).inc();
    }

    /// The Prometheus text format (0.0.4): the OpenMetrics text with counter families
    /// named like their `_total` samples and without the `# EOF` trailer, for scrapers
    /// and tools (`promtool check metrics`) that do not ask for OpenMetrics.
    pub fn encode_prometheus(&self) -> String {
        let open = self.encode();
        let counters: Vec<String> = open
            .lines()
            .filter_map(|l| {
                l.strip_prefix("# TYPE ")?
                    .strip_suffix(" counter")
                    .map(str::to_owned)
            })
            .collect();
        let mut out = String::with_capacity(open.len());
        for line in open.lines() {
            if line == "# EOF" {
                continue;
            }
            let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
                let rest = line.strip_prefix(p)?;
                let (name, tail) = rest.split_once(' ')?;
                counters
                    .iter()
                    .any(|c| c == name)
                    .then(|| format!("{p}{name}_total {tail}"))
            });
            out.push_str(renamed.as_deref().unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// The OpenMetrics text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics encoding failed");
        }
        out
    }
}

/// The DataHub client reports every upstream call here.
impl datahub::Observer for Metrics {
    fn upstream_call(&self, endpoint: &'static str, outcome: datahub::Outcome, elapsed: Duration) {
        self.observe_gms(endpoint, outcome.as_str(), elapsed);
    }

    fn conflict_retry(&self, _endpoint: &'static str) {
        self.write_retries.inc();
    }

    fn conflict_exhausted(&self, _endpoint: &'static str) {
        self.write_retries_exhausted.inc();
    }
}

/// `2xx`, `4xx`, ... for a status code.
pub fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_names_counters_like_their_samples() {
        let m = Metrics::new();
        m.observe_request("users.get", "User", 404, Duration::from_millis(3));
        let text = m.encode_prometheus();
        assert!(
            text.contains("# TYPE datahub_scim_requests_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("# HELP datahub_scim_requests_total SCIM requests served.\n"),
            "{text}"
        );
        assert!(text.contains("datahub_scim_requests_total{operation=\"users.get\",resource=\"User\",status_class=\"4xx\"} 1\n"));
        assert!(text.contains("# TYPE datahub_scim_request_duration_seconds histogram\n"));
        assert!(!text.contains("# EOF"));
        for listener in ["scim", "admin"] {
            assert!(text.contains(&format!(
                "datahub_scim_connections_open{{listener=\"{listener}\"}} 0\n"
            )));
            assert!(text.contains(&format!(
                "datahub_scim_connections_refused_total{{listener=\"{listener}\"}} 0\n"
            )));
        }
        assert!(text.contains("# TYPE datahub_scim_connections_refused_total counter\n"));
        assert!(m.encode().ends_with("# EOF\n"));
    }
}
