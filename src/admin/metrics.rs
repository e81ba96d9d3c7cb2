//! The counters and summaries ZooKeeper 3.8's `ServerMetrics` registers, so
//! `mntr` lists the same keys: the server bumps the ones it measures and the
//! rest stay at zero, as they do on an idle ZooKeeper. Names and order are
//! those ZooKeeper 3.8.0 printed standalone; the per-namespace summary sets
//! (`<top-level znode>_read_per_namespace`) are not reproduced.

use std::collections::{HashMap, VecDeque};

use super::monitor::summary_metrics;
use super::stats::Summary;
use super::view::MetricValue;

/// Counters, printed as `zk_<name>`.
pub const COUNTERS: [&str; 47] = [
    "proposal_count",
    "watch_bytes",
    "outstanding_changes_removed",
    "throttled_ops",
    "stale_requests_dropped",
    "large_requests_rejected",
    "insecure_admin_count",
    "connection_rejected",
    "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired",
    "looking_count",
    "dead_watchers_queued",
    "stale_requests",
    "connection_drop_count",
    "learner_proposal_received_count",
    "digest_mismatches_count",
    "dead_watchers_cleared",
    "response_packet_cache_hits",
    "bytes_received_count",
    "add_dead_watcher_stall_time",
    "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor",
    "response_packet_cache_misses",
    "ensemble_auth_success",
    "prep_processor_request_queued",
    "learner_commit_received_count",
    "stale_replies",
    "connection_request_count",
    "response_bytes",
    "ensemble_auth_fail",
    "diff_count",
    "response_packet_get_children_cache_misses",
    "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter",
    "snap_count",
    "unrecoverable_error_count",
    "unsuccessful_handshake",
    "commit_count",
    "stale_sessions_expired",
    "response_packet_get_children_cache_hits",
    "sync_processor_request_queued",
    "outstanding_changes_queued",
    "request_commit_queued",
    "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count",
    "tls_handshake_exceeded",
    "revalidate_count",
];

/// Summaries, printed as `zk_avg_<name>`, `min_`, `max_`, `cnt_`, `sum_`.
pub const SUMMARIES: [&str; 41] = [
    "socket_closing_time",
    "proposal_process_time",
    "leader_unavailable_time",
    "node_created_watch_count",
    "session_queues_drained",
    "write_commit_proc_req_queued",
    "connection_token_deficit",
    "read_commit_proc_req_queued",
    "node_deleted_watch_count",
    "startup_txns_load_time",
    "sync_processor_queue_size",
    "follower_sync_time",
    "prep_processor_queue_size",
    "fsynctime",
    "inflight_snap_count",
    "reads_issued_from_session_queue",
    "learner_request_processor_queue_size",
    "snapshottime",
    "unavailable_time",
    "startup_txns_loaded",
    "reads_after_write_in_session_queue",
    "requests_in_session_queue",
    "write_commit_proc_issued",
    "prep_process_time",
    "pending_session_queue_size",
    "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time",
    "dbinittime",
    "inflight_diff_count",
    "netty_queued_buffer_capacity",
    "election_time",
    "commit_commit_proc_req_queued",
    "sync_processor_batch_size",
    "node_children_watch_count",
    "write_batch_time_in_commit_processor",
    "read_commit_proc_issued",
    "concurrent_request_processing_in_commit_processor",
    "observer_sync_time",
    "node_changed_watch_count",
    "sync_process_time",
    "startup_snap_load_time",
];

/// Summaries with percentiles: the five summary lines, then `zk_p50_<name>`,
/// `p95_`, `p99_` and `p999_`.
pub const PERCENTILE_SUMMARIES: [&str; 23] = [
    "prep_processor_queue_time_ms",
    "jvm_pause_time_ms",
    "close_session_prep_time",
    "read_commitproc_time_ms",
    "updatelatency",
    "local_write_committed_time_ms",
    "request_throttle_queue_time_ms",
    "readlatency",
    "quorum_ack_latency",
    "om_commit_process_time_ms",
    "read_final_proc_time_ms",
    "commit_propagation_latency",
    "dead_watchers_cleaner_latency",
    "write_final_proc_time_ms",
    "proposal_ack_creation_latency",
    "proposal_latency",
    "om_proposal_process_time_ms",
    "sync_processor_queue_and_flush_time_ms",
    "propagation_latency",
    "server_write_committed_time_ms",
    "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms",
    "write_commitproc_time_ms",
];

/// How many recent values a percentile summary keeps (ZooKeeper's reservoir
/// holds 4096 samples; Paddock keeps the latest 4096 instead of a random
/// sample, so percentiles describe recent behaviour).
const PERCENTILE_WINDOW: usize = 4096;

/// A summary that also reports percentiles over its latest values.
#[derive(Debug, Clone, Default)]
struct PercentileSummary {
    /// Count, sum, min and max since start.
    summary: Summary,
    /// The latest values, at most [`PERCENTILE_WINDOW`].
    window: VecDeque<i64>,
}

impl PercentileSummary {
    /// Adds one value.
    fn add(&mut self, value: i64) {
        self.summary.add(value);
        if self.window.len() == PERCENTILE_WINDOW {
            self.window.pop_front();
        }
        self.window.push_back(value);
    }

    /// The `quantile` of the window, interpolated like the Dropwizard
    /// snapshot ZooKeeper uses, then rounded half-up; 0 when empty.
    fn percentile(sorted: &[i64], quantile: f64) -> i64 {
        let Some(&last) = sorted.last() else {
            return 0;
        };
        let position = quantile * (sorted.len() + 1) as f64;
        let index = position as usize;
        let value = if index < 1 {
            sorted[0] as f64
        } else if index >= sorted.len() {
            last as f64
        } else {
            let (lower, upper) = (sorted[index - 1] as f64, sorted[index] as f64);
            lower + position.fract() * (upper - lower)
        };
        (value + 0.5).floor() as i64
    }

    /// The nine `mntr` lines of this summary.
    fn lines(&self, name: &str) -> Vec<(String, MetricValue)> {
        let mut sorted: Vec<i64> = self.window.iter().copied().collect();
        sorted.sort_unstable();
        let mut lines = summary_metrics(name, &self.summary);
        for (label, quantile) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("p999", 0.999)] {
            let value = PercentileSummary::percentile(&sorted, quantile);
            lines.push((format!("{label}_{name}"), MetricValue::Int(value)));
        }
        lines
    }
}

/// Where a metric name lives.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Index into `Metrics::counters`.
    Counter(usize),
    /// Index into `Metrics::summaries`.
    Summary(usize),
    /// Index into `Metrics::percentiles`.
    Percentile(usize),
}

/// A counter of [`Metrics`], found by name once ([`Metrics::counter_id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CounterId(usize);

/// ZooKeeper's registered counters and summaries, all starting at zero.
/// Pass [`Metrics::lines`] as [`super::MonitorView::extra`].
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Name to slot, so updates cost one hash lookup.
    index: HashMap<&'static str, Slot>,
    /// Values of [`COUNTERS`], same order.
    counters: Vec<i64>,
    /// Values of [`SUMMARIES`], same order.
    summaries: Vec<Summary>,
    /// Values of [`PERCENTILE_SUMMARIES`], same order.
    percentiles: Vec<PercentileSummary>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Every metric at zero.
    pub fn new() -> Metrics {
        let counters = COUNTERS
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, Slot::Counter(i)));
        let summaries = SUMMARIES
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, Slot::Summary(i)));
        let percentiles = PERCENTILE_SUMMARIES
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, Slot::Percentile(i)));
        Metrics {
            index: counters.chain(summaries).chain(percentiles).collect(),
            counters: vec![0; COUNTERS.len()],
            summaries: vec![Summary::default(); SUMMARIES.len()],
            percentiles: vec![PercentileSummary::default(); PERCENTILE_SUMMARIES.len()],
        }
    }

    /// Adds `delta` to the counter `name`.
    ///
    /// # Panics
    /// When `name` is not one of [`COUNTERS`]: a programmer error.
    pub fn add(&mut self, name: &str, delta: i64) {
        self.add_to(self.counter_id(name), delta);
    }

    /// The counter `name`, resolved once for [`add_to`](Self::add_to) on a
    /// hot path.
    ///
    /// # Panics
    /// When `name` is not one of [`COUNTERS`]: a programmer error.
    pub fn counter_id(&self, name: &str) -> CounterId {
        match self.index.get(name) {
            Some(Slot::Counter(i)) => CounterId(*i),
            _ => panic!("{name} is not a ZooKeeper counter"),
        }
    }

    /// Adds `delta` to the counter `id` (no lookup).
    pub fn add_to(&mut self, id: CounterId, delta: i64) {
        self.counters[id.0] += delta;
    }

    /// Adds one value to the summary `name`.
    ///
    /// # Panics
    /// When `name` is not one of [`SUMMARIES`] or [`PERCENTILE_SUMMARIES`].
    pub fn observe(&mut self, name: &str, value: i64) {
        match self.index.get(name) {
            Some(Slot::Summary(i)) => self.summaries[*i].add(value),
            Some(Slot::Percentile(i)) => self.percentiles[*i].add(value),
            _ => panic!("{name} is not a ZooKeeper summary"),
        }
    }

    /// Every counter and summary back to zero (part of `srst`).
    pub fn reset(&mut self) {
        self.counters.fill(0);
        self.summaries.fill(Summary::default());
        self.percentiles.fill(PercentileSummary::default());
    }

    /// The `mntr` lines of every metric, in ZooKeeper 3.8.0's order:
    /// counters, summaries, then percentile summaries.
    pub fn lines(&self) -> Vec<(String, MetricValue)> {
        let mut lines: Vec<(String, MetricValue)> = COUNTERS
            .iter()
            .zip(&self.counters)
            .map(|(name, value)| ((*name).to_owned(), MetricValue::Int(*value)))
            .collect();
        for (name, summary) in SUMMARIES.iter().zip(&self.summaries) {
            lines.extend(summary_metrics(name, summary));
        }
        for (name, summary) in PERCENTILE_SUMMARIES.iter().zip(&self.percentiles) {
            lines.extend(summary.lines(name));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(metrics: &Metrics, key: &str) -> MetricValue {
        metrics
            .lines()
            .into_iter()
            .find(|(name, _)| name == key)
            .unwrap_or_else(|| panic!("no {key}"))
            .1
    }

    #[test]
    fn fresh_metrics_print_every_zookeeper_key_at_zero() {
        let lines = Metrics::new().lines();
        assert_eq!(lines.len(), 47 + 41 * 5 + 23 * 9);
        assert_eq!(lines[0], ("proposal_count".to_owned(), MetricValue::Int(0)));
        assert_eq!(
            lines[47],
            (
                "avg_socket_closing_time".to_owned(),
                MetricValue::Double(0.0)
            )
        );
        assert_eq!(
            lines.last().unwrap(),
            &(
                "p999_write_commitproc_time_ms".to_owned(),
                MetricValue::Int(0)
            )
        );
    }

    #[test]
    fn counters_and_summaries_accumulate() {
        let mut metrics = Metrics::new();
        metrics.add("snap_count", 2);
        metrics.add("snap_count", 1);
        metrics.observe("fsynctime", 1);
        metrics.observe("fsynctime", 0);
        assert_eq!(value(&metrics, "snap_count"), MetricValue::Int(3));
        assert_eq!(value(&metrics, "avg_fsynctime"), MetricValue::Double(0.5));
        assert_eq!(value(&metrics, "cnt_fsynctime"), MetricValue::Int(2));
    }

    #[test]
    fn reset_zeroes_every_metric() {
        let mut metrics = Metrics::new();
        metrics.add("snap_count", 2);
        metrics.observe("fsynctime", 7);
        metrics.observe("readlatency", 3);
        metrics.reset();
        assert_eq!(metrics.lines(), Metrics::new().lines());
    }

    #[test]
    fn percentiles_interpolate_like_zookeeper() {
        // ZooKeeper 3.8.0 printed, for readlatency with 5 values summing to 7
        // (min 0, max 4): p50 1, p95 4, p99 4, p999 4.
        let mut metrics = Metrics::new();
        for latency in [1, 0, 4, 1, 1] {
            metrics.observe("readlatency", latency);
        }
        assert_eq!(value(&metrics, "avg_readlatency"), MetricValue::Double(1.4));
        assert_eq!(value(&metrics, "p50_readlatency"), MetricValue::Int(1));
        assert_eq!(value(&metrics, "p95_readlatency"), MetricValue::Int(4));
        assert_eq!(value(&metrics, "p999_readlatency"), MetricValue::Int(4));
        assert_eq!(PercentileSummary::percentile(&[0, 10], 0.5), 5);
        assert_eq!(PercentileSummary::percentile(&[], 0.5), 0);
    }

    #[test]
    fn percentile_window_is_bounded() {
        let mut summary = PercentileSummary::default();
        for value in 0..(PERCENTILE_WINDOW as i64 + 10) {
            summary.add(value);
        }
        assert_eq!(summary.window.len(), PERCENTILE_WINDOW);
        assert_eq!(summary.window.front(), Some(&10));
        assert_eq!(summary.summary.count(), PERCENTILE_WINDOW as i64 + 10);
    }

    #[test]
    #[should_panic(expected = "not a ZooKeeper counter")]
    fn unknown_counter_is_a_programmer_error() {
        Metrics::new().add("fsynctime", 1);
    }
}
