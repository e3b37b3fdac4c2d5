//! The host's metrics, served by the admin listener as `GET /metrics` (OpenMetrics text, which
//! Prometheus scrapes). Counted only once [`enable`] was called (`--admin-bind`): until then
//! every count is one atomic load and a branch.
//!
//! They are the process's: one `nanohttp` serves one component. On the request path each count
//! is an atomic add on a counter found at start-up (label sets are fixed arrays, never a map
//! looked up per request), and the duration histogram is [`Histogram`], atomic buckets,
//! because the client library's own takes a lock per observation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// Starts counting (idempotent) and returns the metrics.
pub(crate) fn enable() -> &'static Metrics {
    METRICS.get_or_init(Metrics::new)
}

/// The metrics, if counting.
pub(crate) fn get() -> Option<&'static Metrics> {
    METRICS.get()
}

/// The status classes requests are counted by: `none` when the client left before a response.
const CLASSES: [&str; 6] = ["none", "1xx", "2xx", "3xx", "4xx", "5xx"];

/// How a request ended, as its access-log line says.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Complete,
    BodyCut,
    NoResponse,
}
const OUTCOMES: [&str; 3] = ["complete", "body_cut", "no_response"];

/// Why an instance was let go rather than kept for another request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Discard {
    /// It served its `--reuse` requests (every instance, without `--reuse`).
    Spent,
    /// It trapped, failed or ran out of time.
    Failed,
    /// It reached its memory limit, or its request's body was too large.
    Limit,
    /// The guest exited on purpose (after answering a panic).
    Exited,
    /// A newer version of the component is served.
    Retired,
    /// It waited for a request longer than reused instances are kept.
    Idle,
}
const DISCARDS: [&str; 6] = ["spent", "failed", "limit", "exited", "retired", "idle"];

/// How a guest's outgoing request ended, as its log line says.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outbound {
    Refused,
    Failed,
    Complete,
    Cut,
    Broken,
    Abandoned,
}
const OUTBOUND: [&str; 6] = [
    "refused",
    "failed",
    "complete",
    "cut",
    "broken",
    "abandoned",
];

/// The key-value operations, as `wasi:keyvalue` names them.
pub(crate) const KV_OPS: [&str; 9] = [
    "get",
    "set",
    "delete",
    "exists",
    "list_keys",
    "increment",
    "get_many",
    "set_many",
    "delete_many",
];

type Labels = Vec<(&'static str, &'static str)>;

/// Every metric, each a handle on the value the registry encodes.
pub(crate) struct Metrics {
    registry: Registry,
    requests: [[Counter; OUTCOMES.len()]; CLASSES.len()],
    duration: Histogram,
    in_flight: Gauge,
    connections_open: Gauge,
    connections_refused: Counter,
    write_timeouts: Counter,
    instances_created: Counter,
    instances_reused: Counter,
    discarded: [Counter; DISCARDS.len()],
    /// Hits, misses.
    compile_cache: [Counter; 2],
    outbound: [Counter; OUTBOUND.len()],
    /// By operation, then ok / error.
    kv: [[Counter; 2]; KV_OPS.len()],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    fn new() -> Self {
        let requests = Family::<Labels, Counter>::default();
        let discarded = Family::<Labels, Counter>::default();
        let compile_cache = Family::<Labels, Counter>::default();
        let outbound = Family::<Labels, Counter>::default();
        let kv = Family::<Labels, Counter>::default();
        let handle = |family: &Family<Labels, Counter>, labels: Labels| {
            family.get_or_create(&labels).clone()
        };
        let mut metrics = Self {
            registry: Registry::with_prefix("nanohttp"),
            requests: CLASSES.map(|class| {
                OUTCOMES
                    .map(|outcome| handle(&requests, vec![("class", class), ("outcome", outcome)]))
            }),
            duration: Histogram::default(),
            in_flight: Gauge::default(),
            connections_open: Gauge::default(),
            connections_refused: Counter::default(),
            write_timeouts: Counter::default(),
            instances_created: Counter::default(),
            instances_reused: Counter::default(),
            discarded: DISCARDS.map(|reason| handle(&discarded, vec![("reason", reason)])),
            compile_cache: ["hit", "miss"]
                .map(|result| handle(&compile_cache, vec![("result", result)])),
            outbound: OUTBOUND.map(|outcome| handle(&outbound, vec![("outcome", outcome)])),
            kv: KV_OPS.map(|op| {
                ["ok", "error"].map(|result| handle(&kv, vec![("op", op), ("result", result)]))
            }),
        };
        let registry = &mut metrics.registry;
        let families = [
            (
                "requests",
                "Requests answered, by status class and how the response ended",
                requests,
            ),
            (
                "instances_discarded",
                "Instances let go, by reason",
                discarded,
            ),
            (
                "compile_cache",
                "Components loaded from the compilation cache (hit) or compiled (miss)",
                compile_cache,
            ),
            (
                "outbound_requests",
                "Guests' outgoing HTTP requests, by outcome",
                outbound,
            ),
            (
                "kv_operations",
                "Key-value operations run by the backend, by operation and result",
                kv,
            ),
        ];
        for (name, help, family) in families {
            registry.register(name, help, family);
        }
        registry.register(
            "request_duration_seconds",
            "Time from a request's head to the end of its response",
            metrics.duration.clone(),
        );
        let gauges = [
            (
                "requests_in_flight",
                "Requests between their head and the end of their response",
                &metrics.in_flight,
            ),
            (
                "connections_open",
                "Client connections open",
                &metrics.connections_open,
            ),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        let counters = [
            (
                "connections_refused",
                "Connections closed at once because --max-connections were open",
                &metrics.connections_refused,
            ),
            (
                "write_timeouts",
                "Connections cut because the client stopped reading (--write-timeout)",
                &metrics.write_timeouts,
            ),
            (
                "instances_created",
                "Instances of the component created",
                &metrics.instances_created,
            ),
            (
                "instances_reused",
                "Requests served by an instance kept from an earlier one (--reuse)",
                &metrics.instances_reused,
            ),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        metrics
    }

    /// Everything, as OpenMetrics text.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// A request's head arrived.
    pub(crate) fn request_started(&self) {
        self.in_flight.inc();
    }

    /// A request is over: its status (`None`: no response), how it ended, how long it took.
    pub(crate) fn request_ended(&self, status: Option<u16>, outcome: Outcome, took: Duration) {
        self.in_flight.dec();
        let class = status.map_or(0, |status| usize::from(status / 100).clamp(1, 5));
        self.requests[class][outcome as usize].inc();
        self.duration.observe(took);
    }

    pub(crate) fn connection_opened(&self) {
        self.connections_open.inc();
    }

    pub(crate) fn connection_closed(&self) {
        self.connections_open.dec();
    }

    pub(crate) fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    pub(crate) fn write_timed_out(&self) {
        self.write_timeouts.inc();
    }
}

/// Counts an instance created (`reused: false`) or taken from the kept ones.
pub(crate) fn instance(reused: bool) {
    if let Some(metrics) = get() {
        match reused {
            true => metrics.instances_reused.inc(),
            false => metrics.instances_created.inc(),
        };
    }
}

/// Counts `count` instances let go for `reason`.
pub(crate) fn discarded(reason: Discard, count: usize) {
    if let Some(metrics) = get() {
        metrics.discarded[reason as usize].inc_by(count as u64);
    }
}

/// Counts a component loaded from the compilation cache (`hit`) or compiled.
pub(crate) fn compile_cache(hit: bool) {
    if let Some(metrics) = get() {
        metrics.compile_cache[usize::from(!hit)].inc();
    }
}

/// Counts a guest's outgoing request, once it is over.
pub(crate) fn outbound(outcome: Outbound) {
    if let Some(metrics) = get() {
        metrics.outbound[outcome as usize].inc();
    }
}

/// Counts a key-value operation (`op` indexes [`KV_OPS`]).
pub(crate) fn kv(op: usize, ok: bool) {
    if let Some(metrics) = get() {
        metrics.kv[op][usize::from(!ok)].inc();
    }
}

/// Upper bounds of the duration buckets, in seconds.
const BOUNDS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A histogram of durations on atomics: a count per bucket (the last one past every bound)
/// and the sum in microseconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Histogram(Arc<HistogramCells>);

#[derive(Debug, Default)]
struct HistogramCells {
    buckets: [AtomicU64; BOUNDS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    pub(crate) fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let bucket = BOUNDS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BOUNDS.len());
        let cells = &self.0;
        cells.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        cells.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        let cells = &self.0;
        // Each bucket's own count; the encoder adds them up and writes infinity `+Inf`.
        let buckets: Vec<(f64, u64)> = BOUNDS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(&cells.buckets)
            .map(|(bound, count)| (bound, count.load(Ordering::Relaxed)))
            .collect();
        let count = buckets.iter().map(|(_, count)| count).sum();
        let sum = cells.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_the_histogram() {
        let metrics = Metrics::new();
        metrics.request_started();
        metrics.request_ended(Some(204), Outcome::Complete, Duration::from_millis(3));
        metrics.request_started();
        metrics.request_ended(None, Outcome::NoResponse, Duration::from_secs(60));
        metrics.discarded[Discard::Retired as usize].inc_by(2);
        let text = metrics.render();
        for line in [
            "nanohttp_requests_total{class=\"2xx\",outcome=\"complete\"} 1",
            "nanohttp_requests_total{class=\"none\",outcome=\"no_response\"} 1",
            "nanohttp_requests_total{class=\"5xx\",outcome=\"body_cut\"} 0",
            "nanohttp_requests_in_flight 0",
            "nanohttp_request_duration_seconds_bucket{le=\"0.0025\"} 0",
            "nanohttp_request_duration_seconds_bucket{le=\"0.005\"} 1",
            "nanohttp_request_duration_seconds_bucket{le=\"30.0\"} 1",
            "nanohttp_request_duration_seconds_bucket{le=\"+Inf\"} 2",
            "nanohttp_request_duration_seconds_count 2",
            "nanohttp_request_duration_seconds_sum 60.003",
            "nanohttp_instances_discarded_total{reason=\"retired\"} 2",
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
