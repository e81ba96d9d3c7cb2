//! What the four-letter words read from the server: the [`ServerView`] trait
//! the server implements, and the plain structs it fills.

use std::net::SocketAddr;

use super::stats::{BufferStats, ConnectionStats};

/// The version every four-letter word reports (`Zookeeper version:`,
/// `zk_version`, `zookeeper.version`). It opens with the ZooKeeper release
/// whose protocol Paddock speaks, then `-paddock-<crate version>`, so tools
/// that split on `-` or `,` read `3.8.0`. ZooKeeper follows with `, built on
/// <date>`, which tools match; the build carries no date, so it says so.
pub const VERSION: &str = concat!(
    "3.8.0-paddock-",
    env!("CARGO_PKG_VERSION"),
    ", built on unknown date"
);

/// The role the server plays, as `srvr` prints it after `Mode:` and `mntr`
/// after `zk_server_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMode {
    /// A single server without a quorum.
    Standalone,
    /// Quorum leader.
    Leader,
    /// Quorum follower.
    Follower,
    /// Non-voting observer.
    Observer,
    /// Cut off from the quorum and serving read-only clients.
    ReadOnly,
}

impl ServerMode {
    /// `standalone`, `leader`, `follower`, `observer` or `read-only`.
    pub fn name(&self) -> &'static str {
        match self {
            ServerMode::Standalone => "standalone",
            ServerMode::Leader => "leader",
            ServerMode::Follower => "follower",
            ServerMode::Observer => "observer",
            ServerMode::ReadOnly => "read-only",
        }
    }
}

/// Server-wide counters for `srvr`, `stat` and `mntr`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsView {
    /// Smallest request latency in ms since the last `srst` (0 when none).
    pub min_latency_ms: i64,
    /// Mean request latency in ms, rounded to 4 decimals (see
    /// [`super::Summary::avg`]).
    pub avg_latency_ms: f64,
    /// Largest request latency in ms (0 when none).
    pub max_latency_ms: i64,
    /// Client packets received since the last `srst`.
    pub packets_received: i64,
    /// Client packets sent since the last `srst`.
    pub packets_sent: i64,
    /// Open client connections, including the one asking.
    pub num_alive_connections: i64,
    /// Requests received and not yet answered.
    pub outstanding_requests: i64,
    /// Zxid of the last transaction applied to the tree.
    pub last_processed_zxid: i64,
    /// Nodes in the tree, including `/zookeeper` and its children.
    pub node_count: i64,
    /// Leader only: last/min/max proposal sizes in bytes; `srvr` then adds
    /// `Proposal sizes last/min/max:`.
    pub proposal_sizes: Option<BufferStats>,
}

/// One open client connection, for `stat` and `cons`. The connection that
/// sent the four-letter word is listed too (session id 0), as ZooKeeper does.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionInfo {
    /// The client's address.
    pub remote: SocketAddr,
    /// ZooKeeper prints the NIO interest set: 1 while reading requests, 0
    /// when reads are paused (throttled, or a four-letter-word connection).
    pub interest_ops: i32,
    /// Requests of this connection not yet answered (`queued`).
    pub outstanding_requests: i64,
    /// The session, 0 before the handshake completes; the session fields of
    /// `cons` are printed only when it is not 0.
    pub session_id: i64,
    /// When the session was established, ms since the Unix epoch (`est`).
    pub established_ms: i64,
    /// Negotiated session timeout in ms (`to`).
    pub session_timeout_ms: i32,
    /// Packet counters and last-reply statistics.
    pub stats: ConnectionStats,
}

/// What `conf` prints. Directories are the `version-2` directories, absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfView {
    /// The plain client port, -1 when there is none.
    pub client_port: i32,
    /// The TLS client port, -1 when there is none.
    pub secure_client_port: i32,
    /// `<dataDir>/version-2`, where snapshots go.
    pub data_dir: String,
    /// `<dataLogDir>/version-2`, where transaction logs go.
    pub data_log_dir: String,
    /// `tickTime` in ms.
    pub tick_time_ms: i32,
    /// `maxClientCnxns` per client address.
    pub max_client_cnxns: i32,
    /// Effective minimum session timeout in ms.
    pub min_session_timeout_ms: i32,
    /// Effective maximum session timeout in ms.
    pub max_session_timeout_ms: i32,
    /// `clientPortListenBacklog`, -1 for the OS default.
    pub client_port_listen_backlog: i32,
    /// This server's id (myid), 0 when standalone.
    pub server_id: i64,
    /// Present on a quorum member.
    pub quorum: Option<QuorumConfView>,
}

/// The quorum part of `conf`.
#[derive(Debug, Clone, PartialEq)]
pub struct QuorumConfView {
    /// `initLimit` in ticks.
    pub init_limit: i32,
    /// `syncLimit` in ticks.
    pub sync_limit: i32,
    /// `electionAlg` (3).
    pub election_alg: i32,
    /// This server's election ports (several with multiAddress), joined by `|`.
    pub election_ports: Vec<u16>,
    /// This server's quorum ports, joined by `|`.
    pub quorum_ports: Vec<u16>,
    /// True for an observer (`peerType=1`), false for a participant (0).
    pub observer: bool,
    /// The membership as ZooKeeper's `QuorumVerifier.toString` writes it (the
    /// same text as the data of `/zookeeper/config`): `server.N=...` lines,
    /// each ending in a newline, then `version=<hex>` with no newline, so
    /// `conf` on a quorum member ends without one.
    pub membership: String,
}

/// The data watches (getData / exists) one session holds, for `wchs`,
/// `wchc` and `wchp`. Child watches are not listed, as in ZooKeeper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWatches {
    /// The watching session.
    pub session_id: i64,
    /// The watched paths.
    pub paths: Vec<String>,
}

/// Members of an expiry queue that expire at the same time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryBucket<T> {
    /// The expiry time, ms since the Unix epoch.
    pub expire_at_ms: i64,
    /// The members; an empty bucket is still printed (`0 expire at ...`).
    pub members: Vec<T>,
}

/// A connection as the `Connections dump:` section of `dump` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionEntry {
    /// The client's address.
    pub remote: SocketAddr,
    /// Its session, 0 before the handshake.
    pub session_id: i64,
}

/// The global sessions of `dump`, in the tracker's shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobalSessions {
    /// Standalone or leader: sessions by expiry time.
    Expiry(Vec<ExpiryBucket<i64>>),
    /// Follower or observer: (session id, timeout ms), printed sorted by id.
    Timeouts(Vec<(i64, i32)>),
}

/// The `SessionTracker dump:` section of `dump`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDump {
    /// Local sessions by expiry, when `localSessionsEnabled`.
    pub local: Option<Vec<ExpiryBucket<i64>>>,
    /// Global sessions.
    pub global: GlobalSessions,
}

/// Quorum gauges of `mntr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuorumMonitor {
    /// `zk_peer_state`, e.g. `leading - broadcast` or `following - broadcast`.
    pub peer_state: String,
    /// `zk_quorum_size`: voting members in the current configuration.
    pub quorum_size: i64,
    /// `zk_synced_observers`: observers synced with this server. ZooKeeper
    /// 3.8.0 printed it on the leader but not on a plain follower.
    pub synced_observers: Option<i64>,
    /// Leader-only gauges.
    pub leader: Option<LeaderMonitor>,
    /// `zk_observer_master_id` (observer only): the id of the server it
    /// follows.
    pub observer_master_id: Option<i64>,
}

/// Leader-only gauges of `mntr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderMonitor {
    /// `zk_learners`: connected followers and observers.
    pub learners: i64,
    /// `zk_synced_followers`.
    pub synced_followers: i64,
    /// `zk_synced_non_voting_followers`.
    pub synced_non_voting_followers: i64,
    /// `zk_pending_syncs`.
    pub pending_syncs: i64,
    /// `zk_leader_uptime` in ms since this server became leader.
    pub leader_uptime_ms: i64,
    /// `zk_last_proposal_size`, `zk_min_proposal_size`, `zk_max_proposal_size`.
    pub proposal_sizes: BufferStats,
}

/// A metric value as `mntr` prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// Printed as an integer.
    Int(i64),
    /// Printed as a Java double (`0.0`, `6.2`).
    Double(f64),
    /// Printed as is.
    Text(String),
}

/// Everything `mntr` prints beyond [`StatsView`].
#[derive(Debug, Clone, PartialEq)]
pub struct MonitorView {
    /// Milliseconds since the server started serving.
    pub uptime_ms: i64,
    /// Ephemeral nodes in the tree.
    pub ephemerals_count: i64,
    /// Sum of path lengths and data sizes of every node.
    pub approximate_data_size: i64,
    /// Global sessions.
    pub global_sessions: i64,
    /// Local sessions.
    pub local_sessions: i64,
    /// All watches, data and child (unlike `wchs`, which counts data only).
    pub watch_count: i64,
    /// Sizes of replies sent to clients.
    pub client_response_sizes: BufferStats,
    /// Probability with which connections are dropped under load, 0.0 by default.
    pub connection_drop_probability: f64,
    /// TLS handshakes in progress.
    pub outstanding_tls_handshake: i64,
    /// Failed authentications since the last `srst`.
    pub auth_failed_count: i64,
    /// Non-mTLS connections from remote addresses.
    pub non_mtls_remote_conn_count: i64,
    /// Non-mTLS connections from local addresses.
    pub non_mtls_local_conn_count: i64,
    /// Present on a quorum member.
    pub quorum: Option<QuorumMonitor>,
    /// Further counters and summaries the server measures, printed after the
    /// gauges in the given order (names without the `zk_` prefix; use
    /// [`super::summary_metrics`] for a summary's five lines).
    pub extra: Vec<(String, MetricValue)>,
}

/// What a quorum member knows of its ensemble, for the AdminServer's
/// `leader`, `voting_view`, `zabstate` and `observers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerView {
    /// This server's id.
    pub my_id: i64,
    /// True on the leader.
    pub is_leader: bool,
    /// The leader's id and the host of its quorum address; `None` while
    /// looking for one.
    pub leader: Option<(i64, String)>,
    /// ZooKeeper's ZabState, lower case: `election`, `discovery`,
    /// `synchronization` or `broadcast`.
    pub zab_state: &'static str,
    /// This server's quorum, election and client addresses (`host:port`).
    pub quorum_address: String,
    /// See `quorum_address`.
    pub election_address: String,
    /// See `quorum_address`.
    pub client_address: String,
    /// True when this server is a voting member with these addresses.
    pub voting: bool,
    /// The voting members of the current configuration, by id.
    pub voting_members: Vec<VotingMember>,
    /// Observers connected to this leader (0 elsewhere).
    pub synced_observers: i64,
}

/// A voting member as `voting_view` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VotingMember {
    /// Its id.
    pub id: i64,
    /// Its quorum address, `host:port`.
    pub server_address: String,
    /// Its election address, `host:port`.
    pub election_address: String,
    /// Its client address, `host:port`, or "" when the configuration does
    /// not say (a static `server.N` line names no client port; a server
    /// knows its own).
    pub client_address: String,
}

/// The server as the four-letter words see it. The server implements this on
/// a view over its state; each method is called at most once per command,
/// on the task that answers the command.
pub trait ServerView {
    /// The version string; [`VERSION`] unless the server overrides it.
    fn version(&self) -> String {
        VERSION.to_owned()
    }

    /// True while the server serves client requests. When false, most words
    /// answer `This ZooKeeper instance is not currently serving requests`.
    fn is_serving(&self) -> bool;

    /// The current role.
    fn mode(&self) -> ServerMode;

    /// Server-wide counters.
    fn stats(&self) -> StatsView;

    /// Every open client connection, in any stable order.
    fn connections(&self) -> Vec<ConnectionInfo>;

    /// The effective configuration.
    fn conf(&self) -> ConfView;

    /// The two sizes `conf` and `dirs` print first and second, in bytes of
    /// the files under a directory (see [`super::dir_size`]); ZooKeeper 3.8
    /// prints the log directory's first and the snapshot directory's second.
    fn dir_sizes(&self) -> (u64, u64);

    /// Data watches grouped by session.
    fn data_watches(&self) -> Vec<SessionWatches>;

    /// Sessions by expiry, for `dump`.
    fn session_dump(&self) -> SessionDump;

    /// Ephemeral paths grouped by owning session, for `dump`.
    fn ephemerals(&self) -> Vec<(i64, Vec<String>)>;

    /// Connections by idle-expiry time, for the `Connections dump:` part of
    /// `dump`; `None` prints nothing there (as ZooKeeper's Netty factory).
    fn connection_dump(&self) -> Option<Vec<ExpiryBucket<ConnectionEntry>>>;

    /// `mntr` gauges beyond [`ServerView::stats`].
    fn monitor(&self) -> MonitorView;

    /// The digest log, `(zxid, digest)` oldest first, for `hash`.
    fn digest_log(&self) -> Vec<(i64, i64)>;

    /// The ensemble as this member sees it; `None` on a standalone server.
    fn peer(&self) -> Option<PeerView>;

    /// The newest snapshot on disk, `(zxid, seconds since the epoch)`: the
    /// one loaded at start (its file's modification time), then each one
    /// written since (when it was completed); `None` while there is none.
    fn last_snapshot(&self) -> Option<(i64, i64)>;

    /// The configuration file's text as read at start, on a standalone
    /// server (ZooKeeper's quorum members answer null).
    fn initial_configuration(&self) -> Option<String>;

    /// `srst`: reset the request latency summary, the packet counters, the
    /// client response sizes, every counter and summary of
    /// [`super::Metrics`] ([`super::Metrics::reset`]) and, on a leader, the
    /// proposal sizes. The auth-failure and non-mTLS counts are kept, as in
    /// ZooKeeper.
    fn reset_server_stats(&mut self);

    /// `crst`: [`ConnectionStats::reset`] on every connection.
    fn reset_connection_stats(&mut self);

    /// The trace mask (`gtmk`), 306 by default in ZooKeeper.
    fn trace_mask(&self) -> i64;

    /// `stmk`: replace the trace mask.
    fn set_trace_mask(&mut self, mask: i64);

    /// `envi` lines as (key, value), in order; [`super::environment`] unless
    /// the server overrides it.
    fn environment(&self) -> Vec<(String, String)> {
        super::environment(&self.version())
    }

    /// Open file descriptors of this process, -1 when unknown.
    fn open_file_descriptor_count(&self) -> i64 {
        super::open_file_descriptor_count()
    }

    /// The soft limit on file descriptors, -1 when unknown.
    fn max_file_descriptor_count(&self) -> i64 {
        super::max_file_descriptor_count()
    }
}
