//! Server-wide counters and the bridge from the core to [`crate::admin`]: the
//! core implements [`ServerView`] over its own state, so a four-letter word sees
//! one consistent moment of the pipeline.

use super::core::Core;
use crate::admin::{
    self, BufferStats, ConfView, ConnectionEntry, ConnectionInfo, CounterId, ExpiryBucket,
    FourLetterWord, GlobalSessions, Metrics, MonitorView, ServerMode, ServerView, SessionDump,
    SessionWatches, StatsView, Summary,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

/// A four-letter word recognised on a new connection.
pub type Word = FourLetterWord;

/// The four-letter word whose ASCII bytes form `len`, if any.
pub fn detect(len: i32) -> Option<Word> {
    FourLetterWord::from_frame_len(len)
}

/// Server-wide counters (ZooKeeper's ServerStats), reset by `srst`.
#[derive(Debug, Clone)]
pub struct ServerStats {
    /// Packets read from clients.
    pub packets_received: i64,
    /// Packets written to clients.
    pub packets_sent: i64,
    /// Request latencies in ms.
    pub latency_ms: Summary,
    /// Failed authentications.
    pub auth_failed: i64,
    /// Sizes of replies sent.
    pub response_sizes: BufferStats,
    /// Sizes of proposals sent (leader).
    pub proposal_sizes: BufferStats,
    /// Named counters and summaries for `mntr`.
    pub metrics: Metrics,
    /// Counters of `metrics` bumped per request, resolved once.
    pub per_request: PerRequestCounters,
    /// When the server started serving.
    pub started: Instant,
    /// The trace mask (`gtmk`/`stmk`); kept for compatibility, nothing traces by it.
    pub trace_mask: i64,
}

/// The [`Metrics`] counters updated for every request.
#[derive(Debug, Clone, Copy)]
pub struct PerRequestCounters {
    /// `bytes_received_count`.
    pub bytes_received: CounterId,
    /// `prep_processor_request_queued`: requests entering ZooKeeper's
    /// PrepRequestProcessor.
    pub prep_queued: CounterId,
    /// `sync_processor_request_queued`: requests entering its
    /// SyncRequestProcessor.
    pub sync_queued: CounterId,
}

impl PerRequestCounters {
    fn of(metrics: &Metrics) -> PerRequestCounters {
        PerRequestCounters {
            bytes_received: metrics.counter_id("bytes_received_count"),
            prep_queued: metrics.counter_id("prep_processor_request_queued"),
            sync_queued: metrics.counter_id("sync_processor_request_queued"),
        }
    }
}

impl ServerStats {
    /// Zeroed counters.
    pub fn new() -> ServerStats {
        let metrics = Metrics::new();
        ServerStats {
            packets_received: 0,
            packets_sent: 0,
            latency_ms: Summary::default(),
            auth_failed: 0,
            response_sizes: BufferStats::default(),
            proposal_sizes: BufferStats::default(),
            per_request: PerRequestCounters::of(&metrics),
            metrics,
            started: Instant::now(),
            trace_mask: admin::DEFAULT_TRACE_MASK,
        }
    }
}

impl Core {
    /// Answers a four-letter word (whitelist applied) with its exact text. The
    /// asking connection counts among the connections, as in ZooKeeper.
    pub(super) fn four_letter(&mut self, remote: SocketAddr, word: Word, payload: &[u8]) -> String {
        let whitelist = self.settings.four_letter_whitelist.clone();
        self.admin_peer = Some(remote);
        let text = admin::respond(word, payload, &whitelist, self);
        self.admin_peer = None;
        text
    }

    /// Maps a time of the session tracker's clock to ms since the Unix epoch
    /// (ZooKeeper's `Time.elapsedTimeToDate`), for `dump`.
    fn tracker_to_wall(&self) -> impl Fn(u64) -> i64 {
        let offset = super::core::wall_ms() - self.now_ms() as i64;
        move |at| offset + at as i64
    }

    /// Milliseconds on the monotonic clock the per-connection stats use.
    pub(super) fn mono_ms(&self) -> i64 {
        self.stats.started.elapsed().as_millis() as i64
    }
}

impl ServerView for Core {
    fn is_serving(&self) -> bool {
        self.ensemble_serving()
    }

    fn mode(&self) -> ServerMode {
        self.ensemble_mode().unwrap_or(ServerMode::Standalone)
    }

    fn stats(&self) -> StatsView {
        let s = &self.stats;
        StatsView {
            min_latency_ms: s.latency_ms.min(),
            avg_latency_ms: s.latency_ms.avg(),
            max_latency_ms: s.latency_ms.max(),
            packets_received: s.packets_received,
            packets_sent: s.packets_sent,
            num_alive_connections: (self.conns.len() + usize::from(self.admin_peer.is_some()))
                as i64,
            outstanding_requests: self.outstanding_requests() as i64,
            last_processed_zxid: self.tree.last_processed_zxid(),
            node_count: self.tree.node_count() as i64,
            proposal_sizes: (self.ensemble_mode() == Some(ServerMode::Leader))
                .then_some(s.proposal_sizes),
        }
    }

    fn connections(&self) -> Vec<ConnectionInfo> {
        let mut list: Vec<ConnectionInfo> = self
            .conns
            .values()
            .map(|c| ConnectionInfo {
                remote: c.remote,
                interest_ops: 1,
                outstanding_requests: c.outstanding() as i64,
                session_id: c.session_id,
                established_ms: c.established_ms,
                session_timeout_ms: c.timeout_ms as i32,
                stats: c.stats,
            })
            .collect();
        list.sort_by_key(|c| c.established_ms);
        if let Some(remote) = self.admin_peer {
            let mut stats = admin::ConnectionStats::default();
            stats.packets_received = 1;
            list.push(ConnectionInfo {
                remote,
                interest_ops: 0,
                outstanding_requests: 0,
                session_id: 0,
                established_ms: 0,
                session_timeout_ms: 0,
                stats,
            });
        }
        list
    }

    fn conf(&self) -> ConfView {
        let s = &self.settings;
        ConfView {
            client_port: s.client_port as i32,
            secure_client_port: -1,
            data_dir: s.data_dir.join("version-2").display().to_string(),
            data_log_dir: s.data_log_dir.join("version-2").display().to_string(),
            tick_time_ms: s.tick_time_ms as i32,
            max_client_cnxns: s.max_client_cnxns as i32,
            min_session_timeout_ms: s.min_session_timeout_ms as i32,
            max_session_timeout_ms: s.max_session_timeout_ms as i32,
            client_port_listen_backlog: -1,
            server_id: s.server_id as i64,
            quorum: self.quorum_conf(),
        }
    }

    /// Swapped, as ZooKeeper 3.8 reports them: its getDataDirSize measures
    /// the transaction log directory (FileTxnSnapLog's "dataDir") and
    /// getLogDirSize the snapshot directory, so with separate directories
    /// `conf`'s dataDirSize and `dirs`' datadir_size are the log's bytes.
    fn dir_sizes(&self) -> (u64, u64) {
        (
            admin::dir_size(&self.settings.data_log_dir),
            admin::dir_size(&self.settings.data_dir),
        )
    }

    fn data_watches(&self) -> Vec<SessionWatches> {
        self.watches
            .by_watcher()
            .into_iter()
            .map(|(conn, paths)| SessionWatches {
                session_id: self.conns.get(&conn).map_or(0, |c| c.session_id),
                paths: paths.iter().map(|p| p.to_string()).collect(),
            })
            .collect()
    }

    fn session_dump(&self) -> SessionDump {
        let to_wall = self.tracker_to_wall();
        let buckets = self
            .sessions
            .expiry_buckets()
            .map(|(at, ids)| ExpiryBucket {
                expire_at_ms: to_wall(at),
                members: ids.collect(),
            })
            .collect();
        let global = match self.learner_sessions() {
            Some(list) => GlobalSessions::Timeouts(list),
            None => GlobalSessions::Expiry(buckets),
        };
        SessionDump {
            local: None,
            global,
        }
    }

    fn ephemerals(&self) -> Vec<(i64, Vec<String>)> {
        self.tree
            .ephemerals_by_session()
            .map(|(s, paths)| (s, paths.iter().map(|p| p.to_string()).collect()))
            .collect()
    }

    /// As ZooKeeper's default (NIO) connection factory: every connection,
    /// this word's own included, expires `timeout` after its last packet
    /// (the session timeout once it has a session, before that
    /// `zookeeper.nio.sessionlessCnxnTimeout`), rounded up to the next
    /// multiple of that sessionless timeout on the tracker's clock.
    fn connection_dump(&self) -> Option<Vec<ExpiryBucket<ConnectionEntry>>> {
        let sessionless_ms = self.settings.sessionless_cnxn_timeout_ms;
        let bucket_of = |last_ms: u64, timeout_ms: u64| {
            (last_ms + timeout_ms) / sessionless_ms * sessionless_ms + sessionless_ms
        };
        let mut buckets: BTreeMap<u64, Vec<ConnectionEntry>> = BTreeMap::new();
        for c in self.conns.values() {
            let timeout_ms = match c.session_id {
                0 => sessionless_ms,
                _ => u64::from(c.timeout_ms),
            };
            let entry = ConnectionEntry {
                remote: c.remote,
                session_id: c.session_id,
            };
            buckets
                .entry(bucket_of(c.last_packet_ms, timeout_ms))
                .or_default()
                .push(entry);
        }
        if let Some(remote) = self.admin_peer {
            let at = bucket_of(self.now_ms(), sessionless_ms);
            let entry = ConnectionEntry {
                remote,
                session_id: 0,
            };
            buckets.entry(at).or_default().push(entry);
        }
        let to_wall = self.tracker_to_wall();
        let list = buckets
            .into_iter()
            .map(|(at, members)| ExpiryBucket {
                expire_at_ms: to_wall(at),
                members,
            })
            .collect();
        Some(list)
    }

    fn monitor(&self) -> MonitorView {
        MonitorView {
            uptime_ms: self.stats.started.elapsed().as_millis() as i64,
            ephemerals_count: self.tree.ephemerals_count() as i64,
            approximate_data_size: self.tree.approximate_data_size() as i64,
            global_sessions: self.sessions.len() as i64,
            local_sessions: 0,
            watch_count: self.watches.watch_count() as i64,
            client_response_sizes: self.stats.response_sizes,
            connection_drop_probability: 0.0,
            outstanding_tls_handshake: 0,
            auth_failed_count: self.stats.auth_failed,
            non_mtls_remote_conn_count: 0,
            non_mtls_local_conn_count: 0,
            quorum: self.quorum_monitor(),
            extra: self.stats.metrics.lines(),
        }
    }

    fn digest_log(&self) -> Vec<(i64, i64)> {
        self.tree.digest_log()
    }

    fn peer(&self) -> Option<crate::admin::PeerView> {
        self.peer_view()
    }

    fn last_snapshot(&self) -> Option<(i64, i64)> {
        self.snapshot_status.last()
    }

    fn initial_configuration(&self) -> Option<String> {
        self.settings.initial_config.clone()
    }

    fn reset_server_stats(&mut self) {
        let started = self.stats.started;
        let mask = self.stats.trace_mask;
        self.stats = ServerStats::new();
        self.stats.started = started;
        self.stats.trace_mask = mask;
    }

    fn reset_connection_stats(&mut self) {
        for c in self.conns.values_mut() {
            c.stats.reset();
        }
    }

    fn trace_mask(&self) -> i64 {
        self.stats.trace_mask
    }

    fn set_trace_mask(&mut self, mask: i64) {
        self.stats.trace_mask = mask;
    }
}
