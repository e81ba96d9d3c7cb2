//! `mntr`: `zk_<key>\t<value>` lines. `zk_version` and `zk_server_state`
//! come first (and `zk_peer_state` on a quorum member), then the gauges in
//! the order ZooKeeper 3.8.0 printed them (quorum gauges among them), then
//! the server's further metrics.

use std::collections::HashMap;
use std::fmt::Write;

use super::java;
use super::stats::Summary;
use super::view::{MetricValue, MonitorView, QuorumMonitor, ServerView, StatsView};

/// The five lines ZooKeeper prints for a summary metric `name`:
/// `avg_<name>` (a double), `min_`, `max_`, `cnt_` and `sum_<name>`.
pub fn summary_metrics(name: &str, summary: &Summary) -> Vec<(String, MetricValue)> {
    vec![
        (format!("avg_{name}"), MetricValue::Double(summary.avg())),
        (format!("min_{name}"), MetricValue::Int(summary.min())),
        (format!("max_{name}"), MetricValue::Int(summary.max())),
        (format!("cnt_{name}"), MetricValue::Int(summary.count())),
        (format!("sum_{name}"), MetricValue::Int(summary.sum())),
    ]
}

/// The whole `mntr` text for a serving server.
pub(super) fn monitor(view: &dyn ServerView) -> String {
    let mut out = String::new();
    for (key, value) in monitor_values(view) {
        let _ = writeln!(out, "zk_{key}\t{}", render(&value));
    }
    out
}

/// `mntr`'s keys (without `zk_`) and values, in its order; the AdminServer's
/// `monitor` answers the same pairs.
pub(super) fn monitor_values(view: &dyn ServerView) -> Vec<(String, MetricValue)> {
    let stats = view.stats();
    let monitor = view.monitor();
    let mut lines: Vec<(String, MetricValue)> = vec![
        ("version".to_owned(), MetricValue::Text(view.version())),
        (
            "server_state".to_owned(),
            MetricValue::Text(view.mode().name().to_owned()),
        ),
    ];
    if let Some(quorum) = &monitor.quorum {
        lines.push((
            "peer_state".to_owned(),
            MetricValue::Text(quorum.peer_state.clone()),
        ));
        if let Some(id) = quorum.observer_master_id {
            lines.push(("observer_master_id".to_owned(), MetricValue::Int(id)));
        }
    }
    lines.extend(gauges(view, &stats, &monitor));
    lines.extend(monitor.extra);
    lines
}

/// Gauge names in the order ZooKeeper 3.8.0 printed them on a leader.
/// Standalone servers and followers register fewer gauges and print them in
/// the same relative order.
const GAUGE_ORDER: [&str; 34] = [
    "ephemerals_count",
    "num_alive_connections",
    "avg_latency",
    "min_proposal_size",
    "outstanding_requests",
    "znode_count",
    "global_sessions",
    "non_mtls_remote_conn_count",
    "last_client_response_size",
    "packets_sent",
    "packets_received",
    "max_proposal_size",
    "max_client_response_size",
    "synced_followers",
    "connection_drop_probability",
    "watch_count",
    "synced_non_voting_followers",
    "synced_observers",
    "auth_failed_count",
    "min_latency",
    "max_file_descriptor_count",
    "approximate_data_size",
    "open_file_descriptor_count",
    "last_proposal_size",
    "pending_syncs",
    "leader_uptime",
    "local_sessions",
    "uptime",
    "max_latency",
    "outstanding_tls_handshake",
    "learners",
    "min_client_response_size",
    "non_mtls_local_conn_count",
    "quorum_size",
];

/// The gauges this server registers, in [`GAUGE_ORDER`].
fn gauges(
    view: &dyn ServerView,
    stats: &StatsView,
    monitor: &MonitorView,
) -> Vec<(String, MetricValue)> {
    let mut present: HashMap<&str, MetricValue> = server_gauges(view, stats, monitor)
        .into_iter()
        .chain(monitor.quorum.iter().flat_map(quorum_gauges))
        .collect();
    GAUGE_ORDER
        .iter()
        .filter_map(|name| {
            present
                .remove(name)
                .map(|value| ((*name).to_owned(), value))
        })
        .collect()
}

/// The gauges every server registers.
fn server_gauges(
    view: &dyn ServerView,
    stats: &StatsView,
    monitor: &MonitorView,
) -> [(&'static str, MetricValue); 24] {
    use MetricValue::{Double, Int};
    let responses = monitor.client_response_sizes;
    [
        ("ephemerals_count", Int(monitor.ephemerals_count)),
        ("num_alive_connections", Int(stats.num_alive_connections)),
        ("avg_latency", Double(stats.avg_latency_ms)),
        ("outstanding_requests", Int(stats.outstanding_requests)),
        ("znode_count", Int(stats.node_count)),
        ("global_sessions", Int(monitor.global_sessions)),
        (
            "non_mtls_remote_conn_count",
            Int(monitor.non_mtls_remote_conn_count),
        ),
        ("last_client_response_size", Int(responses.last)),
        ("packets_sent", Int(stats.packets_sent)),
        ("packets_received", Int(stats.packets_received)),
        ("max_client_response_size", Int(responses.max)),
        (
            "connection_drop_probability",
            Double(monitor.connection_drop_probability),
        ),
        ("watch_count", Int(monitor.watch_count)),
        ("auth_failed_count", Int(monitor.auth_failed_count)),
        ("min_latency", Int(stats.min_latency_ms)),
        (
            "max_file_descriptor_count",
            Int(view.max_file_descriptor_count()),
        ),
        ("approximate_data_size", Int(monitor.approximate_data_size)),
        (
            "open_file_descriptor_count",
            Int(view.open_file_descriptor_count()),
        ),
        ("local_sessions", Int(monitor.local_sessions)),
        ("uptime", Int(monitor.uptime_ms)),
        ("max_latency", Int(stats.max_latency_ms)),
        (
            "outstanding_tls_handshake",
            Int(monitor.outstanding_tls_handshake),
        ),
        ("min_client_response_size", Int(responses.min)),
        (
            "non_mtls_local_conn_count",
            Int(monitor.non_mtls_local_conn_count),
        ),
    ]
}

/// `zk_quorum_size`, `zk_synced_observers` and the leader gauges.
fn quorum_gauges(quorum: &QuorumMonitor) -> Vec<(&'static str, MetricValue)> {
    use MetricValue::Int;
    let mut gauges = vec![("quorum_size", Int(quorum.quorum_size))];
    if let Some(synced) = quorum.synced_observers {
        gauges.push(("synced_observers", Int(synced)));
    }
    if let Some(leader) = &quorum.leader {
        gauges.extend([
            ("learners", Int(leader.learners)),
            ("synced_followers", Int(leader.synced_followers)),
            (
                "synced_non_voting_followers",
                Int(leader.synced_non_voting_followers),
            ),
            ("pending_syncs", Int(leader.pending_syncs)),
            ("leader_uptime", Int(leader.leader_uptime_ms)),
            ("last_proposal_size", Int(leader.proposal_sizes.last)),
            ("max_proposal_size", Int(leader.proposal_sizes.max)),
            ("min_proposal_size", Int(leader.proposal_sizes.min)),
        ]);
    }
    gauges
}

/// A value as ZooKeeper's `MonitorCommand` prints it.
fn render(value: &MetricValue) -> String {
    match value {
        MetricValue::Int(n) => n.to_string(),
        MetricValue::Double(x) => java::double(*x),
        MetricValue::Text(text) => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_metrics_use_zookeeper_prefixes() {
        let mut summary = Summary::default();
        summary.add(1);
        summary.add(0);
        let lines: Vec<String> = summary_metrics("fsynctime", &summary)
            .iter()
            .map(|(key, value)| format!("{key}={}", render(value)))
            .collect();
        assert_eq!(
            lines,
            [
                "avg_fsynctime=0.5",
                "min_fsynctime=0",
                "max_fsynctime=1",
                "cnt_fsynctime=2",
                "sum_fsynctime=1"
            ]
        );
    }
}
