//! The core task: owns the tree, sessions and watches, and runs the pipeline of
//! ARCHITECTURE.md.
//!
//! A standalone server commits a write once its own log has it (the log
//! thread's Durable report); an ensemble member hands the same txn bytes to
//! `zab::Peer` and commits when the peer delivers it (`ensemble`, and
//! `reconfig` for membership changes). The standalone path does not run a
//! one-voter Peer, as ARCHITECTURE.md suggests: it predates the peer and is
//! what the standalone suites and benchmarks measure; a one-voter Peer
//! would add a round of outputs per batch for nothing.
//!
//! Per session, requests complete in the order sent: a write is prepped as soon
//! as every earlier request of its session has been prepped or answered; a read
//! waits until the session has no write in flight. Writes are committed in zxid
//! order; applying one fires its watch events before its reply is queued.

mod ensemble;
mod reconfig;

use super::conn::{ConnId, OutTx, Outbound};
use super::log_writer::{self, FinishedSnapshot, LogCommand, LogEvent};
use super::snapshot_writer::{SnapshotStatus, SnapshotWriter};
use super::Settings;
use crate::auth::sasl::DigestServer;
use crate::jute::records::{Acl, Id};
use crate::proto::codes::{event_type, perms};
use crate::proto::reply::{frame, header_only, watch_event};
use crate::proto::{ConnectRequest, ConnectResponse, ErrorCode, OpCode, Request};
use crate::session::{check_password, session_password, SessionTracker};
use crate::storage::{self, SnapshotPolicy, StorageError, TxnLog};
use crate::tree::fuzzy::{ChunkPool, FuzzyNodes};
use crate::tree::{path::parent_of, DataTree, TreeEvent};
use crate::txn::apply::{apply, Applied};
use crate::txn::prep::{Prep, PrepContext, PrepSettings};
use crate::txn::Txn;
use crate::watch::{WatchEvent, WatchManager};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

/// A request as it reaches the core.
#[derive(Debug)]
pub enum Inbound {
    /// A decoded request.
    Request(Request),
    /// An opcode clients may not send: answered Unimplemented, then the connection closes.
    Unimplemented,
}

/// Messages from connections to the core.
#[derive(Debug)]
pub enum CoreMsg {
    /// A handshake; `done` gets true once the session is established.
    Connect {
        conn: ConnId,
        remote: SocketAddr,
        req: ConnectRequest,
        out: OutTx,
        done: oneshot::Sender<bool>,
    },
    /// A request after the handshake. `frame` (xid, type, body) comes with
    /// writes and syncs on an ensemble member, which may forward them.
    Packet {
        conn: ConnId,
        xid: i32,
        op: i32,
        inbound: Inbound,
        bytes: usize,
        frame: Option<Vec<u8>>,
    },
    /// The connection is gone.
    Closed { conn: ConnId },
    /// A connection without a session was closed for idling past
    /// `zookeeper.nio.sessionlessCnxnTimeout` (counted in `mntr`).
    SessionlessExpired,
    /// A four-letter word with the bytes that follow it (stmk's mask).
    Admin {
        remote: SocketAddr,
        word: super::admin_view::Word,
        payload: Vec<u8>,
        reply: oneshot::Sender<String>,
    },
    /// An AdminServer command (`GET <commandURL>/<name>`); the reply is its JSON.
    AdminCommand {
        name: String,
        query: String,
        reply: oneshot::Sender<String>,
    },
}

/// A request waiting its turn in its session's queue.
#[derive(Debug)]
struct Queued {
    xid: i32,
    op: i32,
    inbound: Inbound,
    received_ms: i64,
    frame: Option<Vec<u8>>,
}

/// Per-connection state kept by the core.
#[derive(Debug)]
pub(super) struct Conn {
    pub out: OutTx,
    pub remote: SocketAddr,
    /// 0 until the session is established.
    pub session_id: i64,
    /// Identities: ip:<address> from the start, plus those added by addauth.
    pub auth: Vec<Id>,
    /// Requests not yet prepped or answered, in arrival order.
    queue: VecDeque<Queued>,
    /// Writes of this connection prepped but not yet applied.
    writes_in_flight: u32,
    /// Whether the client sent the trailing readOnly flag (replies mirror it).
    pub read_only_flag: Option<bool>,
    /// `cons` counters.
    pub stats: crate::admin::ConnectionStats,
    /// When the connection was accepted (ms since the epoch).
    pub established_ms: i64,
    /// The negotiated session timeout.
    pub timeout_ms: u32,
    /// When the handshake arrived, on the clock of [`Core::mono_ms`] (the
    /// latency of a new session's handshake counts as ZooKeeper's `SESS`).
    handshake_ms: i64,
    /// When a packet last came in, on the clock of the session tracker
    /// ([`Core::now_ms`]): the connection's place in `dump`'s expiry queue.
    pub last_packet_ms: u64,
    /// Where this connection's SASL DIGEST-MD5 exchange stands.
    sasl: DigestServer,
}

impl Conn {
    /// Requests received and not yet answered.
    pub fn outstanding(&self) -> usize {
        self.queue.len() + self.writes_in_flight as usize
    }
}

/// Who is waiting for a txn.
#[derive(Debug)]
enum Origin {
    Client {
        conn: ConnId,
        xid: i32,
        op: i32,
        received_ms: i64,
    },
    Connect {
        conn: ConnId,
        timeout_ms: u32,
        done: oneshot::Sender<bool>,
    },
    Expiry,
    /// A server-made txn (reaper), or one a learner forwarded or that
    /// another member's client waits for: nobody here waits for it.
    Internal,
}

#[derive(Debug)]
struct InFlight {
    txn: Txn,
    origin: Origin,
}

/// The pipeline state.
pub(super) struct Core {
    pub settings: Arc<Settings>,
    pub tree: DataTree,
    prep: Prep,
    /// What prep accepts (kept to start afresh after refused writes).
    prep_settings: PrepSettings,
    pub sessions: SessionTracker,
    pub watches: WatchManager,
    pub conns: HashMap<ConnId, Conn>,
    session_conn: HashMap<i64, ConnId>,
    in_flight: VecDeque<InFlight>,
    /// The last zxid handed out.
    last_zxid: i64,
    /// The last zxid handed to the log thread.
    logged_upto: i64,
    /// Work for the log thread (group commit, snapshots).
    log_tx: std::sync::mpsc::Sender<LogCommand>,
    /// Reports from the log thread; taken by `run`.
    log_rx: Option<mpsc::UnboundedReceiver<LogEvent>>,
    /// When to snapshot (snapCount, randomised).
    snapshot_policy: SnapshotPolicy,
    /// Txns applied since the last snapshot.
    txns_since_snapshot: u64,
    /// The fuzzy snapshot being written a slice per turn, if any.
    snapshot: Option<FuzzySnapshot>,
    /// Busy from a snapshot's start until its writer thread has ended (the
    /// walk, then the file's completion on that thread); and the newest
    /// snapshot on disk.
    pub(super) snapshot_status: SnapshotStatus,
    /// Node chunks the snapshot walks fill and their writers hand back.
    snapshot_chunks: ChunkPool,
    /// Monotonic origin for session expiry times.
    epoch: Instant,
    pub stats: super::admin_view::ServerStats,
    /// The connection asking a four-letter word, while it is answered.
    pub admin_peer: Option<SocketAddr>,
    /// The ensemble side; `None` on a standalone server.
    replica: Option<ensemble::Replica>,
}

/// A snapshot in progress: named after the zxid it started at, with the
/// sessions of that moment; log replay from that zxid makes it exact.
struct FuzzySnapshot {
    zxid: i64,
    sessions: Vec<(i64, u32)>,
    nodes: FuzzyNodes,
    /// Spools the nodes as the walk fills chunks.
    writer: SnapshotWriter,
    started: Instant,
}

/// Nodes a fuzzy snapshot writes per turn of the core loop (bounds the pause
/// it adds to any request to a few milliseconds).
const SNAPSHOT_NODES_PER_TURN: usize = 4096;

/// How often the consensus peer is given the time (its timers: election
/// rounds, pings, limits) in ms.
const ZAB_TICK_MS: u64 = 50;

/// Messages handled before commits are flushed, at most.
const BATCH_MESSAGES: usize = 256;

pub(super) fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Core {
    /// Recovers the tree and sessions from the data directories, opens the
    /// transaction log and starts its thread.
    pub fn new(
        settings: Arc<Settings>,
        net: Option<super::peers::PeerNet>,
    ) -> Result<Core, StorageError> {
        let epoch = Instant::now();
        let started = Instant::now();
        let recovered = super::startup::load_database(&settings)?;
        if let Some((path, offset)) = &recovered.truncated {
            warn!(path = %path.display(), offset, "cut a torn transaction log tail");
        }
        let mut sessions =
            SessionTracker::new(settings.server_id, settings.tick_time_ms, wall_ms() as u64);
        for (id, timeout_ms) in &recovered.sessions {
            sessions.add(*id, *timeout_ms, 0);
        }
        info!(
            zxid = format_args!("{:#x}", recovered.last_zxid),
            nodes = recovered.tree.node_count(),
            sessions = recovered.sessions.len(),
            ms = started.elapsed().as_millis() as u64,
            "database loaded"
        );
        let log = TxnLog::open(
            &storage::log_dir(&settings.data_log_dir),
            settings.pre_alloc_size_kb * 1024,
            settings.force_sync,
        )?;
        let snap_dir = storage::snap_dir(&settings.data_dir);
        match storage::remove_unfinished_snapshots(&snap_dir) {
            Ok(0) => {}
            Ok(removed) => info!(removed, "removed unfinished snapshot files"),
            Err(e) => warn!("could not remove unfinished snapshot files: {e}"),
        }
        let (log_tx, log_rx) = log_writer::start(log);
        let prep_settings = PrepSettings {
            skip_acl: settings.skip_acl,
            enforce_quota: settings.enforce_quota,
            sasl_acls: settings.sasl_acls,
            extended_types: settings.extended_types,
            reconfig_enabled: settings.reconfig_enabled,
        };
        let seed = wall_ms() as u64 ^ settings.server_id;
        let mut recovered = recovered;
        if !settings.digest_enabled {
            recovered.tree.disable_digest();
        }
        if let Some(ensemble) = &settings.ensemble {
            recovered.tree.set_ensemble_config(
                ensemble.config_text().as_bytes(),
                wall_ms(),
                ensemble.config_version as i64,
            );
        }
        let replica = match (&settings.ensemble, net) {
            (Some(ensemble), Some(net)) => Some(ensemble::Replica::new(
                ensemble.clone(),
                net,
                settings.tick_time_ms as u64,
                &settings.data_dir,
                &settings.data_log_dir,
                recovered.last_zxid,
            )?),
            _ => None,
        };
        let snapshot_policy = SnapshotPolicy::new(settings.snap_count, seed);
        let no_snapshot = recovered.snapshot.is_none();
        let mut core = Core {
            tree: recovered.tree,
            prep: Prep::new(prep_settings),
            prep_settings,
            sessions,
            watches: WatchManager::new(),
            conns: HashMap::new(),
            session_conn: HashMap::new(),
            in_flight: VecDeque::new(),
            last_zxid: recovered.last_zxid,
            logged_upto: recovered.last_zxid,
            log_tx,
            log_rx: Some(log_rx),
            txns_since_snapshot: snapshot_policy.carried_over(recovered.replayed),
            snapshot_policy,
            snapshot: None,
            snapshot_status: SnapshotStatus::new(recovered.snapshot),
            snapshot_chunks: ChunkPool::default(),
            epoch,
            stats: super::admin_view::ServerStats::new(),
            admin_peer: None,
            replica,
            settings,
        };
        // ZooKeeper snapshots its database at every start; Paddock only when
        // the dataDir holds no snapshot yet (a fresh server writes
        // snapshot.0, as ZooKeeper's does), so that there always is one.
        if no_snapshot {
            core.start_snapshot();
        }
        // Mismatches met replaying the log count as ZooKeeper's do.
        let replay_mismatches = core.tree.digest_mismatches() as i64;
        core.stats
            .metrics
            .add("digest_mismatches_count", replay_mismatches);
        Ok(core)
    }

    /// Milliseconds since the core started: the session tracker's clock.
    pub(super) fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Runs until every connection sender is dropped, or until the log fails
    /// (then nothing more may be acknowledged, so the pipeline stops).
    pub async fn run(
        mut self,
        mut rx: mpsc::Receiver<CoreMsg>,
        mut peer_rx: Option<mpsc::UnboundedReceiver<super::peers::PeerEvent>>,
    ) {
        let mut log_rx = self.log_rx.take().expect("run once");
        let mut zab_tick = tokio::time::interval(Duration::from_millis(ZAB_TICK_MS));
        zab_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tick =
            tokio::time::interval(Duration::from_millis(self.settings.tick_time_ms as u64 / 2));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let reap_every = Duration::from_millis(self.settings.container_check_interval_ms.max(1));
        let mut reaper =
            tokio::time::interval_at(tokio::time::Instant::now() + reap_every, reap_every);
        reaper.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    self.handle(msg);
                    for _ in 1..BATCH_MESSAGES {
                        match rx.try_recv() {
                            Ok(m) => self.handle(m),
                            Err(_) => break,
                        }
                    }
                }
                Some(event) = async { peer_rx.as_mut()?.recv().await }, if peer_rx.is_some() => {
                    self.peer_event(event);
                }
                _ = zab_tick.tick(), if self.replica.is_some() => self.zab_tick(),
                event = log_rx.recv() => match event {
                    Some(LogEvent::Durable(zxid)) if self.replica.is_some() => self.zab(crate::zab::Input::Durable(zxid)),
                    Some(LogEvent::Durable(zxid)) => self.commit_durable(zxid),
                    Some(LogEvent::Refused { error, .. }) if self.replica.is_some() => {
                        // An ensemble member that cannot log must not take part:
                        // the others go on without it, and it resyncs when restarted.
                        error!("stopping: the transaction log refused a record ({error}); the ensemble goes on without this server");
                        return;
                    }
                    Some(LogEvent::Refused { first_zxid, error }) => self.refuse_from(first_zxid, &error),
                    Some(LogEvent::Failed(e)) => {
                        error!("stopping: the transaction log failed ({e}); acknowledged writes are safe, unacknowledged ones are not applied");
                        return;
                    }
                    None => return,
                },
                _ = tick.tick() => self.expire_sessions(),
                _ = reaper.tick() => self.reap_containers(),
                // While a snapshot is being written, do not sleep between slices.
                _ = tokio::task::yield_now(), if self.snapshot.is_some() => {}
            }
            self.snapshot_step();
            self.send_to_log();
        }
    }

    fn handle(&mut self, msg: CoreMsg) {
        match msg {
            CoreMsg::Connect {
                conn,
                remote,
                req,
                out,
                done,
            } => self.connect(conn, remote, req, out, done),
            CoreMsg::Packet {
                conn,
                xid,
                op,
                inbound,
                bytes,
                frame,
            } => self.packet(conn, xid, op, inbound, bytes, frame),
            CoreMsg::Closed { conn } => self.closed(conn),
            CoreMsg::SessionlessExpired => {
                self.stats.metrics.add("sessionless_connections_expired", 1)
            }
            CoreMsg::Admin {
                remote,
                word,
                payload,
                reply,
            } => {
                self.stats.packets_received += 1;
                let text = self.four_letter(remote, word, &payload);
                self.stats.packets_sent += crate::admin::reply_packets(&text);
                let _ = reply.send(text);
            }
            CoreMsg::AdminCommand { name, query, reply } => {
                let _ = reply.send(crate::admin::run_command(&name, &query, self));
            }
        }
    }

    // ---- sessions ----

    fn connect(
        &mut self,
        conn: ConnId,
        remote: SocketAddr,
        req: ConnectRequest,
        out: OutTx,
        done: oneshot::Sender<bool>,
    ) {
        // ZooKeeper counts the handshake as a packet received and a
        // connection request, even one it refuses.
        self.stats.packets_received += 1;
        self.stats.metrics.add("connection_request_count", 1);
        let read_only = self.is_read_only();
        if !self.ensemble_serving() || (read_only && req.read_only != Some(true)) {
            info!(%remote, read_only, "not serving (no leader or no quorum; read-only mode takes only read-only clients); closing the client connection");
            let _ = out.send(Outbound::Close);
            let _ = done.send(false);
            return;
        }
        if req.last_zxid_seen > self.tree.last_processed_zxid() {
            info!(%remote, client_zxid = format_args!("{:#x}", req.last_zxid_seen), our_zxid = format_args!("{:#x}", self.tree.last_processed_zxid()),
                "client has seen a newer zxid than this server; refusing (it must try another server)");
            let _ = out.send(Outbound::Close);
            let _ = done.send(false);
            return;
        }
        let timeout_ms = self.settings.negotiate_timeout(req.time_out);
        let auth = vec![Id {
            scheme: "ip".into(),
            id: remote.ip().to_string(),
        }];
        let mut stats = crate::admin::ConnectionStats::default();
        stats.packets_received = 1; // the handshake
        let state = Conn {
            out,
            remote,
            session_id: 0,
            auth,
            queue: VecDeque::new(),
            writes_in_flight: 0,
            read_only_flag: req.read_only,
            stats,
            established_ms: wall_ms(),
            timeout_ms,
            handshake_ms: self.mono_ms(),
            last_packet_ms: self.now_ms(),
            sasl: DigestServer::Start,
        };
        self.conns.insert(conn, state);
        if req.session_id == 0 && read_only {
            // A read-only session is local to this server: no txn.
            let session_id = self.sessions.next_session_id();
            let now = self.now_ms();
            self.sessions.add(session_id, timeout_ms, now);
            self.establish(conn, session_id, timeout_ms);
            let _ = done.send(true);
            return;
        }
        if req.session_id == 0 && self.is_learner() {
            self.forward_connect(conn, timeout_ms, done);
            return;
        }
        if req.session_id == 0 {
            let session_id = self.sessions.next_session_id();
            self.take_owner(session_id, ensemble::Owner::Leader);
            let ctx = self.server_ctx(session_id);
            let txn = self
                .prep
                .create_session(&self.tree, &ctx, timeout_ms as i32);
            self.count_submitted();
            self.in_flight.push_back(InFlight {
                txn,
                origin: Origin::Connect {
                    conn,
                    timeout_ms,
                    done,
                },
            });
            return;
        }
        let id = req.session_id;
        // ZooKeeper closes the session's live connection before it checks the
        // password, so even a refused attach disconnects the current holder.
        if let Some(old) = self.session_conn.remove(&id) {
            self.close_conn(old);
        }
        let password_ok = check_password(id, &req.passwd);
        if password_ok && !read_only && self.is_learner() {
            self.revalidate_attach(conn, id, timeout_ms, done);
            return;
        }
        let valid = password_ok && self.sessions.contains(id) && !self.sessions.is_closing(id);
        if !valid {
            info!(%remote, session = format_args!("{id:#x}"), "reconnect refused: session expired, unknown or wrong password");
            self.refuse_attach(conn, done);
            return;
        }
        self.take_owner(id, ensemble::Owner::Leader);
        self.sessions.set_timeout(id, timeout_ms);
        let now = self.now_ms();
        self.sessions.touch(id, now);
        self.touch_remote(id, timeout_ms);
        self.establish(conn, id, timeout_ms);
        let _ = done.send(true);
    }

    /// Refuses an attach to a session: the all-zero ConnectResponse ZooKeeper
    /// sends for an expired, unknown or wrongly authenticated session, then
    /// the connection closes.
    fn refuse_attach(&mut self, conn: ConnId, done: oneshot::Sender<bool>) {
        let read_only = self.conns.get(&conn).and_then(|c| c.read_only_flag);
        let reply = ConnectResponse {
            passwd: vec![0; 16],
            read_only,
            ..Default::default()
        };
        self.send_connect_response(conn, &reply);
        self.close_conn(conn);
        let _ = done.send(false);
    }

    /// Binds `session_id` to `conn` (closing any older connection of the session) and answers the handshake.
    fn establish(&mut self, conn: ConnId, session_id: i64, timeout_ms: u32) {
        if let Some(old) = self.session_conn.insert(session_id, conn) {
            if old != conn {
                self.close_conn(old);
            }
        }
        let read_only = self.is_read_only();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.session_id = session_id;
        c.timeout_ms = timeout_ms;
        let reply = ConnectResponse {
            protocol_version: 0,
            time_out: timeout_ms as i32,
            session_id,
            passwd: session_password(session_id).to_vec(),
            read_only: c.read_only_flag.map(|_| read_only),
        };
        debug!(
            conn,
            session = format_args!("{session_id:#x}"),
            timeout_ms,
            "session established"
        );
        self.send_connect_response(conn, &reply);
    }

    /// Counts a new session's handshake as ZooKeeper's FinalRequestProcessor
    /// does: `lop=SESS`, cxid 0, the session's zxid, and its latency in the
    /// connection's and the server's figures. (A reconnect to a live session
    /// makes no txn, and ZooKeeper then records nothing.)
    fn record_session_created(&mut self, conn: ConnId, zxid: i64) {
        let now = self.mono_ms();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.stats
            .record_response(OpCode::CreateSession, 0, zxid, c.handshake_ms, now);
        self.stats.latency_ms.add(now - c.handshake_ms);
    }

    fn send_connect_response(&mut self, conn: ConnId, reply: &ConnectResponse) {
        self.send(conn, frame(|o| reply.write(o)));
    }

    fn expire_sessions(&mut self) {
        if !self.owns_expiry() {
            return;
        }
        let now = self.now_ms();
        for session_id in self.sessions.expire(now) {
            info!(session = format_args!("{session_id:#x}"), "session expired");
            if self.is_read_only() {
                self.session_closed(session_id);
                continue;
            }
            let ctx = self.server_ctx(session_id);
            let txn = self.prep.close_session(&self.tree, &ctx);
            self.count_submitted();
            self.in_flight.push_back(InFlight {
                txn,
                origin: Origin::Expiry,
            });
        }
    }

    /// ZooKeeper's ContainerManager pass: deletes childless containers that
    /// have had children and expired TTL nodes, as ordinary deleteContainer
    /// txns from session 0, at most maxPerMinute per minute.
    fn reap_containers(&mut self) {
        if !self.owns_expiry() {
            return;
        }
        let s = &self.settings;
        let per_pass = (s.container_max_per_minute as u64 * s.container_check_interval_ms / 60_000)
            .max(1) as usize;
        let max_never_used = s.container_max_never_used_interval_ms as i64;
        for path in self
            .tree
            .reapable(wall_ms(), max_never_used)
            .into_iter()
            .take(per_pass)
        {
            debug!(%path, "reaping container/TTL node");
            let ctx = self.server_ctx(0);
            let req = Request::DeleteContainer { path };
            let txn = self
                .prep
                .prep(&self.tree, &ctx, OpCode::DeleteContainer, &req);
            self.in_flight.push_back(InFlight {
                txn,
                origin: Origin::Internal,
            });
        }
    }

    fn closed(&mut self, conn: ConnId) {
        if let Some(c) = self.conns.remove(&conn) {
            self.watches.remove_watcher(conn);
            if self.session_conn.get(&c.session_id) == Some(&conn) {
                self.session_conn.remove(&c.session_id);
            }
        }
    }

    /// Flushes and closes `conn`'s socket; the connection task then reports Closed.
    pub(super) fn close_conn(&mut self, conn: ConnId) {
        debug!(conn, "closing connection");
        if let Some(c) = self.conns.get(&conn) {
            let _ = c.out.send(Outbound::Close);
        }
        self.watches.remove_watcher(conn);
    }

    // ---- requests ----

    fn packet(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: i32,
        inbound: Inbound,
        bytes: usize,
        frame: Option<Vec<u8>>,
    ) {
        let now = self.now_ms();
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.stats.packets_received += 1;
        c.last_packet_ms = now;
        self.stats.packets_received += 1;
        let ids = self.stats.per_request;
        self.stats.metrics.add_to(ids.bytes_received, bytes as i64);
        let (session_id, timeout_ms) = (c.session_id, c.timeout_ms);
        self.sessions.touch(session_id, now);
        self.touch_remote(session_id, timeout_ms);
        match inbound {
            Inbound::Request(Request::Auth(packet)) => self.auth(conn, xid, packet),
            Inbound::Request(Request::Sasl(request)) => {
                self.sasl(conn, xid, request.token.as_deref().unwrap_or_default())
            }
            Inbound::Request(Request::Ping) => {
                self.count_submitted();
                let zxid = self.tree.last_processed_zxid();
                let now = self.mono_ms();
                // FinalRequestProcessor answers every ping with PING_XID,
                // whatever xid the ping carried.
                let reply = header_only(crate::proto::codes::xid::PING, zxid, ErrorCode::Ok);
                self.reply_now(conn, xid, op, now, reply);
            }
            inbound => {
                self.count_submitted();
                let received_ms = self.mono_ms();
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.queue.push_back(Queued {
                        xid,
                        op,
                        inbound,
                        received_ms,
                        frame,
                    });
                }
                self.pump(conn);
            }
        }
    }

    /// Counts a request ZooKeeper would submit to its processor chain (every
    /// client request but auth and SASL packets, and the txns the server
    /// makes for new and expired sessions). Standalone, that chain starts
    /// with the PrepRequestProcessor and passes every request through the
    /// SyncRequestProcessor. (In an ensemble those processors see other
    /// streams, per role; Paddock leaves both counters at 0 there.)
    fn count_submitted(&mut self) {
        if self.replica.is_none() {
            let ids = self.stats.per_request;
            self.stats.metrics.add_to(ids.prep_queued, 1);
            self.stats.metrics.add_to(ids.sync_queued, 1);
        }
    }

    /// An AuthPacket (ZooKeeperServer.processPacket): the reply carries the
    /// request's own xid (the Java client sends −4, others an ordinary xid
    /// and wait for it); a failure also closes the connection.
    fn auth(&mut self, conn: ConnId, xid: i32, packet: crate::jute::records::AuthPacket) {
        let ids = crate::auth::authenticate(
            &packet.scheme,
            packet.auth.as_deref().unwrap_or_default(),
            self.settings.super_digest.as_deref(),
        );
        match ids {
            Some(ids) => {
                if let Some(c) = self.conns.get_mut(&conn) {
                    for id in ids {
                        crate::auth::add_identity(&mut c.auth, id);
                    }
                }
                self.send(conn, header_only(xid, 0, ErrorCode::Ok));
            }
            None => {
                info!(conn, scheme = %packet.scheme, "authentication failed; closing connection");
                self.stats.auth_failed += 1;
                self.send(conn, header_only(xid, 0, ErrorCode::AuthFailed));
                self.close_conn(conn);
            }
        }
    }

    /// One step of a SASL exchange (ZooKeeper's processSasl): the answer's
    /// token, `sasl:<user>` (and `super` for a zookeeper.superUser) on
    /// success; on failure AuthFailed with a null token, then the connection
    /// closes. Without a JAAS server section ZooKeeper has no SASL server
    /// for the connection and answers every step Ok with a null token.
    fn sasl(&mut self, conn: ConnId, xid: i32, token: &[u8]) {
        let Some(users) = self.settings.sasl_users.clone() else {
            self.send(conn, sasl_reply(xid, ErrorCode::Ok, None));
            return;
        };
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let nonce = crate::auth::sasl::nonce_from(&random_bytes());
        match c.sasl.step(&users, token, &nonce) {
            Ok(step) => {
                if let Some(user) = &step.authorized {
                    info!(conn, user, "SASL authentication succeeded");
                    if self.settings.sasl_super_users.contains(user) {
                        crate::auth::add_identity(&mut c.auth, identity("super", ""));
                    }
                    crate::auth::add_identity(&mut c.auth, identity("sasl", user));
                }
                self.send(conn, sasl_reply(xid, ErrorCode::Ok, Some(step.token)));
            }
            Err(e) => {
                info!(conn, reason = %e.0, "SASL authentication failed; closing connection");
                self.stats.auth_failed += 1;
                self.send(conn, sasl_reply(xid, ErrorCode::AuthFailed, None));
                self.close_conn(conn);
            }
        }
    }

    /// Moves `conn`'s queue forward: preps writes and answers reads, in order,
    /// stopping at a read that must wait for the session's writes.
    fn pump(&mut self, conn: ConnId) {
        let read_only = self.is_read_only();
        let replicated = self.replica.is_some();
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            let Some(front) = c.queue.front() else { return };
            let is_write = matches!(&front.inbound, Inbound::Request(r) if r.is_write());
            if !is_write && c.writes_in_flight > 0 {
                return;
            }
            let q = c.queue.pop_front().expect("front exists");
            let is_sync = matches!(&q.inbound, Inbound::Request(Request::Sync(_)));
            if (is_write || is_sync) && read_only {
                self.refuse_read_only(conn, q.xid, q.op, q.received_ms);
                continue;
            }
            if replicated && (is_write || is_sync) {
                c.writes_in_flight += 1;
                self.replicated_request(conn, q);
                continue;
            }
            if is_write {
                c.writes_in_flight += 1;
                let (session_id, auth) = (c.session_id, c.auth.clone());
                let Inbound::Request(req) = q.inbound else {
                    unreachable!("writes are requests")
                };
                self.prep_write(conn, session_id, &auth, q.xid, q.op, q.received_ms, &req);
            } else {
                self.answer_read(conn, q.xid, q.op, q.received_ms, q.inbound);
            }
        }
    }

    /// On an ensemble member: a sync, or a write the leader preps and a
    /// learner forwards.
    fn replicated_request(&mut self, conn: ConnId, q: Queued) {
        let Inbound::Request(req) = q.inbound else {
            unreachable!("writes and syncs are requests")
        };
        let frame = q.frame.unwrap_or_default();
        if matches!(req, Request::Sync(_)) {
            self.start_sync(conn, q.xid, q.op, q.received_ms, req, &frame);
        } else if self.is_learner() {
            self.forward_write(conn, q.xid, q.op, q.received_ms, &frame);
        } else {
            let Some(c) = self.conns.get(&conn) else {
                return;
            };
            let (session_id, auth) = (c.session_id, c.auth.clone());
            self.prep_write(conn, session_id, &auth, q.xid, q.op, q.received_ms, &req);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn prep_write(
        &mut self,
        conn: ConnId,
        session_id: i64,
        auth: &[Id],
        xid: i32,
        op: i32,
        received_ms: i64,
        req: &Request,
    ) {
        let zxid = self.next_zxid();
        let ctx = PrepContext {
            session_id,
            cxid: xid,
            zxid,
            time: wall_ms(),
            auth,
        };
        let opcode = OpCode::from_i32(op).unwrap_or(OpCode::Error);
        if matches!(req, Request::CloseSession) {
            self.sessions.mark_closing(session_id);
        }
        let closes = matches!(req, Request::CloseSession);
        let txn = match req {
            _ if !closes && self.session_moved(session_id, ensemble::Owner::Leader) => {
                self.prep.refuse(&self.tree, &ctx, ErrorCode::SessionMoved)
            }
            Request::Reconfig(r) if self.replica.is_some() => self.prep_reconfig(&ctx, r),
            _ => self.prep.prep(&self.tree, &ctx, opcode, req),
        };
        self.in_flight.push_back(InFlight {
            txn,
            origin: Origin::Client {
                conn,
                xid,
                op,
                received_ms,
            },
        });
    }

    fn answer_read(&mut self, conn: ConnId, xid: i32, op: i32, received_ms: i64, inbound: Inbound) {
        match inbound {
            Inbound::Unimplemented => {
                // ZooKeeper answers with the request's zxid, −1 for a non-txn request.
                self.reply_now(
                    conn,
                    xid,
                    op,
                    received_ms,
                    header_only(xid, -1, ErrorCode::Unimplemented),
                );
                self.close_conn(conn);
            }
            Inbound::Request(req) => {
                let reply = self.read(conn, xid, &req);
                self.reply_now(conn, xid, op, received_ms, reply);
            }
        }
    }

    /// The context of a txn the server itself makes for `session_id` (session
    /// create/close, expiry, the reaper): a new zxid, no client xid, no identities.
    fn server_ctx(&mut self, session_id: i64) -> PrepContext<'static> {
        let zxid = self.next_zxid();
        PrepContext {
            session_id,
            cxid: 0,
            zxid,
            time: wall_ms(),
            auth: &[],
        }
    }

    fn next_zxid(&mut self) -> i64 {
        self.last_zxid += 1;
        self.last_zxid
    }

    // ---- commit ----

    /// Where the txns prepped since the last hand-off (to the log thread or
    /// the peer) start in `in_flight`; `None` when there are none.
    fn first_unsent(&self) -> Option<usize> {
        let unsent = self
            .in_flight
            .iter()
            .rev()
            .take_while(|f| f.txn.header.zxid > self.logged_upto)
            .count();
        (unsent > 0).then(|| self.in_flight.len() - unsent)
    }

    /// Hands every txn prepped since the last call to the log thread, as one batch.
    fn send_to_log(&mut self) {
        if self.replica.is_some() {
            self.propose_prepped();
            return;
        }
        let Some(start) = self.first_unsent() else {
            return;
        };
        let batch: Vec<(i64, Vec<u8>)> = self
            .in_flight
            .range(start..)
            .map(|f| (f.txn.header.zxid, log_record(&f.txn)))
            .collect();
        self.logged_upto = batch.last().expect("non-empty").0;
        // The log thread only stops after reporting a failure, which stops this task too.
        let _ = self.log_tx.send(LogCommand::Append(batch));
    }

    /// Applies, in zxid order, every txn now durable; then snapshots if it is time.
    fn commit_durable(&mut self, durable_zxid: i64) {
        let mut applied = 0u64;
        while self
            .in_flight
            .front()
            .is_some_and(|f| f.txn.header.zxid <= durable_zxid)
        {
            let f = self.in_flight.pop_front().expect("front exists");
            self.commit(f);
            applied += 1;
        }
        self.after_applied(applied);
    }

    /// Counts `applied` txns towards the next snapshot, and starts it when
    /// due. As ZooKeeper's SyncRequestProcessor ("Too busy to snap,
    /// skipping"), a snapshot that falls due while the previous one is still
    /// being walked or written is skipped and the count starts again: under
    /// a write flood on a large tree, snapshots one after another would keep
    /// the disk busy with snapshot writes that every log fsync waits behind.
    fn after_applied(&mut self, applied: u64) {
        self.txns_since_snapshot += applied;
        if self
            .snapshot_policy
            .should_snapshot(self.txns_since_snapshot)
        {
            self.txns_since_snapshot = 0;
            if self.snapshot.is_some() || self.snapshot_status.is_busy() {
                info!("too busy to snapshot, skipping");
                return;
            }
            self.start_snapshot();
        }
    }

    /// Starts a fuzzy snapshot of the tree as it is now; its walk goes on a
    /// slice per turn ([`Core::snapshot_step`]).
    fn start_snapshot(&mut self) {
        let zxid = self.tree.last_processed_zxid();
        self.snapshot = Some(FuzzySnapshot {
            zxid,
            sessions: self.sessions.sessions().collect(),
            nodes: FuzzyNodes::start(&self.tree, &self.snapshot_chunks),
            writer: SnapshotWriter::start(
                storage::snap_dir(&self.settings.data_dir),
                zxid,
                &self.snapshot_status,
                &self.snapshot_chunks,
            ),
            started: Instant::now(),
        });
    }

    /// The log could not take the txns from `first_zxid` on (a full disk):
    /// answers each of them with SystemError — nothing of them is applied — and
    /// forgets their outstanding changes; the zxids are handed out again. Reads
    /// go on being served, and the next write tries the disk again.
    fn refuse_from(&mut self, first_zxid: i64, error: &StorageError) {
        let refused: Vec<InFlight> = self.in_flight.drain(..).collect();
        debug_assert!(refused
            .first()
            .is_none_or(|f| f.txn.header.zxid == first_zxid));
        warn!(
            writes = refused.len(),
            "failing writes that could not be logged: {error}"
        );
        let zxid = self.tree.last_processed_zxid();
        let mut conns = Vec::new();
        for f in refused {
            match f.origin {
                Origin::Client {
                    conn,
                    xid,
                    op,
                    received_ms,
                } => {
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.writes_in_flight -= 1;
                    }
                    self.reply_now(
                        conn,
                        xid,
                        op,
                        received_ms,
                        header_only(xid, zxid, ErrorCode::SystemError),
                    );
                    conns.push(conn);
                }
                Origin::Connect { conn, done, .. } => {
                    self.close_conn(conn);
                    let _ = done.send(false);
                }
                Origin::Expiry | Origin::Internal => {}
            }
        }
        self.prep = Prep::new(self.prep_settings);
        self.last_zxid = zxid;
        self.logged_upto = zxid;
        let _ = self.log_tx.send(LogCommand::Resume);
        for conn in conns {
            self.pump(conn);
        }
    }

    /// Writes the next slice of an in-progress fuzzy snapshot and hands the
    /// chunks it filled to the snapshot's writer thread; when the walk is
    /// complete, asks the log thread to roll the log and have the file
    /// completed, off the pipeline.
    fn snapshot_step(&mut self) {
        let Some(snap) = &mut self.snapshot else {
            return;
        };
        let done = snap.nodes.step(&self.tree, SNAPSHOT_NODES_PER_TURN);
        for chunk in snap.nodes.take_full_chunks() {
            snap.writer.nodes(chunk);
        }
        if !done {
            return;
        }
        let snap = self.snapshot.take().expect("present");
        info!(
            zxid = format_args!("{:#x}", snap.zxid),
            nodes = snap.nodes.count(),
            ms = snap.started.elapsed().as_millis() as u64,
            "fuzzy snapshot serialized"
        );
        let _ = self.log_tx.send(LogCommand::Snapshot(FinishedSnapshot {
            writer: snap.writer,
            sessions: snap.sessions,
            end: snap.nodes.finish(),
        }));
    }

    fn commit(&mut self, f: InFlight) {
        let zxid = f.txn.header.zxid;
        let applied = apply(&mut self.tree, &f.txn);
        if applied.digest_mismatch.is_some() {
            // Logged by apply; serving goes on, as on ZooKeeper.
            self.stats.metrics.add("digest_mismatches_count", 1);
        }
        self.prep.applied(zxid);
        self.fire_watches(&applied.events);
        match f.origin {
            Origin::Client {
                conn,
                xid,
                op,
                received_ms,
            } => self.committed_client(conn, xid, op, received_ms, zxid, &f.txn, applied),
            Origin::Connect {
                conn,
                timeout_ms,
                done,
            } => {
                let session_id = f.txn.header.client_id;
                let now = self.now_ms();
                self.sessions.add(session_id, timeout_ms, now);
                if self.conns.contains_key(&conn) {
                    self.record_session_created(conn, zxid);
                    self.establish(conn, session_id, timeout_ms);
                    let _ = done.send(true);
                }
            }
            Origin::Expiry => self.session_closed(f.txn.header.client_id),
            Origin::Internal => {}
        }
        self.ensemble_effect(&f.txn);
    }

    #[allow(clippy::too_many_arguments)]
    fn committed_client(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: i32,
        received_ms: i64,
        zxid: i64,
        txn: &Txn,
        applied: Applied,
    ) {
        if matches!(&txn.body, crate::txn::TxnBody::Error(e) if e.err == ErrorCode::SessionMoved.code())
        {
            // As ZooKeeper's FinalRequestProcessor: the session's client is
            // attached elsewhere now, a connection-level error; this
            // connection closes without a reply (ZOOKEEPER-710).
            info!(
                conn,
                session = format_args!("{:#x}", txn.header.client_id),
                "session moved to another server; closing its old connection"
            );
            self.close_conn(conn);
            return;
        }
        let is_close = op == OpCode::CloseSession as i32;
        let reply = super::reads::write_reply(xid, zxid, op, txn, &applied);
        if let Some(c) = self.conns.get_mut(&conn) {
            c.writes_in_flight -= 1;
        }
        self.reply_now(conn, xid, op, received_ms, reply);
        if is_close {
            self.session_closed(txn.header.client_id);
        } else {
            self.pump(conn);
        }
    }

    fn session_closed(&mut self, session_id: i64) {
        self.sessions.remove(session_id);
        if let Some(conn) = self.session_conn.remove(&session_id) {
            self.close_conn(conn);
        }
    }

    fn fire_watches(&mut self, events: &[TreeEvent]) {
        if events.is_empty() {
            return;
        }
        let mut out: Vec<(u64, WatchEvent)> = Vec::new();
        for e in events {
            let (acl, parent_acl) = match e {
                TreeEvent::Created {
                    path,
                    acl,
                    parent_acl,
                }
                | TreeEvent::Deleted {
                    path,
                    acl,
                    parent_acl,
                } => {
                    let parent = parent_of(path).unwrap_or("/");
                    if matches!(e, TreeEvent::Created { .. }) {
                        self.watches.node_created(path, parent, &mut out);
                    } else {
                        self.watches.node_deleted(path, parent, &mut out);
                    }
                    (acl, Some(parent_acl))
                }
                TreeEvent::DataChanged { path, acl } => {
                    self.watches.data_changed(path, &mut out);
                    (acl, None)
                }
            };
            for (watcher, ev) in out.drain(..) {
                // NodeChildrenChanged names the parent; every other event
                // the node itself.
                let acl = match parent_acl {
                    Some(parent_acl) if ev.event_type == event_type::NODE_CHILDREN_CHANGED => {
                        parent_acl
                    }
                    _ => acl,
                };
                if self.may_hear(watcher, acl) {
                    self.send(watcher, watch_event(ev.event_type, &ev.path));
                }
            }
        }
    }

    /// Whether `conn` may be told of a change to a node whose ACL is `acl`:
    /// ZooKeeper checks READ, as for a read, when it delivers each watch
    /// event (the watch is used up either way).
    fn may_hear(&self, conn: ConnId, acl: &[Acl]) -> bool {
        if self.settings.skip_acl || crate::auth::anyone_may(acl, perms::READ) {
            return true;
        }
        let ids = self.conns.get(&conn).map_or(&[][..], |c| c.auth.as_slice());
        crate::auth::check_acl(acl, perms::READ, ids)
    }

    /// Queues a reply on `conn` and records its latency.
    fn reply_now(&mut self, conn: ConnId, xid: i32, op: i32, received_ms: i64, reply: Vec<u8>) {
        let now = self.mono_ms();
        let zxid = self.tree.last_processed_zxid();
        self.stats.latency_ms.add(now - received_ms);
        self.stats.response_sizes.record(reply.len() as i64 - 4);
        if let Some(c) = self.conns.get_mut(&conn) {
            let op = OpCode::from_i32(op).unwrap_or(OpCode::Error);
            c.stats.record_response(op, xid, zxid, received_ms, now);
        }
        self.send(conn, reply);
    }

    /// Requests received and not yet answered, over all connections.
    pub(super) fn outstanding_requests(&self) -> usize {
        self.conns.values().map(Conn::outstanding).sum()
    }

    /// Queues bytes on `conn` (dropped if it is gone).
    pub(super) fn send(&mut self, conn: ConnId, bytes: Vec<u8>) {
        if let Some(c) = self.conns.get_mut(&conn) {
            c.stats.packets_sent += 1;
            self.stats.packets_sent += 1;
            let _ = c.out.send(Outbound::Frame(bytes));
        }
    }
}

/// Bytes a log record buffer starts with: a create of 100 bytes fits, a
/// multi of ten grows it twice.
const LOG_RECORD_BYTES_GUESS: usize = 512;

/// `txn.to_bytes()` in a buffer sized up front: grown from empty it was
/// reallocated up to ten times per record (a profile of the multi workload put
/// 15% of the core's time in those reallocations).
fn log_record(txn: &Txn) -> Vec<u8> {
    let mut out = Vec::with_capacity(LOG_RECORD_BYTES_GUESS);
    txn.write(&mut out);
    out
}

/// ReplyHeader{xid, 0, err} + SetSASLResponse{token}: ZooKeeper sends the
/// body with an error too (a null token).
fn sasl_reply(xid: i32, err: ErrorCode, token: Option<Vec<u8>>) -> Vec<u8> {
    use crate::jute::records::{ReplyHeader, SetSaslResponse};
    use crate::jute::Record;
    frame(|out| {
        ReplyHeader {
            xid,
            zxid: 0,
            err: err.code(),
        }
        .write(out);
        SetSaslResponse { token }.write(out);
    })
}

/// An identity `scheme:id`.
fn identity(scheme: &str, id: &str) -> Id {
    Id {
        scheme: scheme.into(),
        id: id.into(),
    }
}

/// 30 bytes from the operating system's random source, for SASL nonces;
/// if /dev/urandom cannot be read, std's randomly keyed hasher over the time.
fn random_bytes() -> [u8; 30] {
    use std::hash::{BuildHasher, Hasher};
    use std::io::Read;
    let mut buf = [0u8; 30];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
    if read.is_err() {
        for chunk in buf.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_i64(wall_ms());
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    buf
}
