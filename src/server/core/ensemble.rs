//! The core as an ensemble member: drives the [`zab::Peer`] and carries out
//! what it asks, in order (see `zab`'s module documentation).
//!
//! - **Leader**: a write is prepped as on a standalone server, then proposed;
//!   it is applied (and answered) when the peer delivers it, i.e. once a
//!   quorum has logged it. Requests forwarded by learners are prepped the
//!   same way and answered by the learner that forwarded them.
//! - **Learner** (follower or observer): reads are served locally; writes,
//!   createSession and closeSession go to the leader as REQUEST packets and
//!   are answered when the txn comes back committed, matched by session and
//!   xid. `sync` completes when the leader's SYNC arrives.
//! - **Sessions** are global: every member applies createSession and
//!   closeSession txns; only the leader expires sessions, from the activity
//!   learners report with their PINGs. A client reconnecting to a learner is
//!   checked against the replicated session table (ZooKeeper asks the leader
//!   with REVALIDATE).
//! - A member that stops serving (no leader, no quorum) closes every client
//!   connection, as ZooKeeper shuts its request pipeline down; clients move
//!   to another server.

use super::{Core, InFlight, Origin};
use crate::jute::records::Id;
use crate::proto::{ErrorCode, OpCode, Request};
use crate::server::conn::ConnId;
use crate::server::peers::{PeerEvent, PeerNet};
use crate::server::settings::Ensemble;
use crate::session::SessionTracker;
use crate::storage::{self, StorageError};
use crate::txn::prep::{Prep, PrepContext};
use crate::txn::{Txn, TxnBody};
use crate::zab::{
    self, peer::Peer, Input, Membership, Message, Output, Packet, PacketType, PeerConfig,
    Persisted, Role, Sid, TxnBytes,
};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;
use tracing::{error, info, warn};

/// File of the highest epoch this server accepted (in `<dataDir>/paddock/`).
const ACCEPTED_EPOCH_FILE: &str = "acceptedEpoch";
/// File of the epoch of the last leader this server synced with.
const CURRENT_EPOCH_FILE: &str = "currentEpoch";

/// A client write a learner forwarded, waiting for its commit.
#[derive(Debug)]
struct Forwarded {
    conn: ConnId,
    xid: i32,
    op: i32,
    received_ms: i64,
}

/// A client handshake a learner forwarded as createSession.
#[derive(Debug)]
struct PendingConnect {
    conn: ConnId,
    timeout_ms: u32,
    done: oneshot::Sender<bool>,
}

/// A client `sync` waiting for the peer's SyncDone.
#[derive(Debug)]
struct PendingSync {
    conn: ConnId,
    xid: i32,
    op: i32,
    received_ms: i64,
    request: Request,
}

/// Which server a session's client is attached to, as the leader knows it
/// (ZooKeeper's session owner): a write that comes through any other is
/// refused with SESSIONMOVED.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    /// A client connected to the leader itself.
    Leader,
    /// A client connected to this learner.
    Learner(Sid),
}

/// The ensemble state of the core.
pub(in crate::server) struct Replica {
    pub(super) peer: Peer,
    pub(super) net: PeerNet,
    /// What the ensemble looks like (for `conf`, `/zookeeper/config`).
    pub ensemble: Arc<Ensemble>,
    role: Role,
    serving: bool,
    /// When this server became serving leader (for `zk_leader_uptime`).
    pub leading_since: Option<std::time::Instant>,
    /// Since when this server has not been serving (for read-only mode).
    not_serving_since: Option<std::time::Instant>,
    /// Serving reads to read-only clients while cut off from the quorum
    /// (`readonlymode.enabled`).
    read_only: bool,
    /// Learner: forwarded writes per session, oldest first.
    forwarded: HashMap<i64, VecDeque<Forwarded>>,
    /// Learner: forwarded session creations by session id.
    connects: HashMap<i64, PendingConnect>,
    /// Learner: clients attaching to a session, waiting for the leader's
    /// REVALIDATE answer, by session id.
    revalidations: HashMap<i64, PendingConnect>,
    /// Leader: the owner of each session a request or REVALIDATE named since
    /// it began leading (none yet: the next request's server takes it, as
    /// ZooKeeper's session tracker does).
    owners: HashMap<i64, Owner>,
    /// Syncs by token.
    syncs: HashMap<u64, PendingSync>,
    /// Leader: the zxid of a reconfig proposed and not yet committed.
    pub reconfig_pending: Option<i64>,
    next_sync: u64,
    /// Records the peer asked to append, for the log thread's next batch.
    log_batch: Vec<(i64, Vec<u8>)>,
    started: std::time::Instant,
}

impl Replica {
    /// The peer and its transport, from what the data directories hold.
    pub fn new(
        ensemble: Arc<Ensemble>,
        net: PeerNet,
        tick_ms: u64,
        data_dir: &Path,
        data_log_dir: &Path,
        last_zxid: i64,
    ) -> Result<Replica, StorageError> {
        let mut membership = Membership::default();
        for s in &ensemble.servers {
            match s.role {
                crate::config::LearnerRole::Participant => membership.voters.insert(s.id),
                crate::config::LearnerRole::Observer => membership.observers.insert(s.id),
            };
        }
        let config = PeerConfig {
            my_id: ensemble.my_id,
            membership,
            tick_ms,
            init_limit: ensemble.init_limit,
            sync_limit: ensemble.sync_limit,
            config_text: ensemble.config_text().into_bytes(),
            log_window: ensemble.commit_log_count,
        };
        let mut recent: Vec<(i64, TxnBytes)> =
            storage::read_log(&storage::log_dir(data_log_dir), 0)?
                .into_iter()
                .filter(|(z, _)| *z <= last_zxid)
                .map(|(z, b)| (z, TxnBytes::from(b)))
                .collect();
        if recent.len() > ensemble.commit_log_count {
            recent.drain(..recent.len() - ensemble.commit_log_count);
        }
        let persisted = Persisted {
            accepted_epoch: read_epochs(data_dir, ACCEPTED_EPOCH_FILE)?,
            current_epoch: read_epochs(data_dir, CURRENT_EPOCH_FILE)?,
            last_zxid,
            recent,
        };
        info!(
            my_id = ensemble.my_id,
            members = ensemble.servers.len(),
            accepted_epoch = persisted.accepted_epoch,
            current_epoch = persisted.current_epoch,
            last_zxid = format_args!("{last_zxid:#x}"),
            "starting as an ensemble member"
        );
        Ok(Replica {
            peer: Peer::new(config, persisted),
            net,
            ensemble,
            role: Role::Looking,
            serving: false,
            leading_since: None,
            not_serving_since: Some(std::time::Instant::now()),
            read_only: false,
            forwarded: HashMap::new(),
            connects: HashMap::new(),
            revalidations: HashMap::new(),
            owners: HashMap::new(),
            syncs: HashMap::new(),
            reconfig_pending: None,
            next_sync: 1,
            log_batch: Vec::new(),
            started: std::time::Instant::now(),
        })
    }

    /// Whether clients may be served.
    pub fn serving(&self) -> bool {
        self.serving
    }

    /// Whether only read-only clients are served (cut off from the quorum).
    pub fn read_only(&self) -> bool {
        self.read_only && !self.serving
    }

    /// The consensus peer.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// True on a serving leader: it preps writes and owns session expiry.
    pub fn is_leader(&self) -> bool {
        self.serving && matches!(self.role, Role::Leading { .. })
    }
}

/// The epoch `name` as this dataDir last held it: the larger of Paddock's
/// file and Apache ZooKeeper's (`version-2/`), so that a member taken over
/// from ZooKeeper (or given back to it and taken over again) votes, registers
/// and accepts with the epochs a ZooKeeper member would use, and a new
/// epoch is always above every epoch any member accepted. ZooKeeper's files
/// are only read.
fn read_epochs(data_dir: &Path, name: &str) -> Result<u32, StorageError> {
    let ours = read_epoch(&storage::snap_dir(data_dir), name)?;
    let zookeepers = read_epoch(&storage::zookeeper_snap_dir(data_dir), name)?;
    if zookeepers > ours {
        info!(
            file = name,
            zookeeper = zookeepers,
            paddock = ours,
            "taking Apache ZooKeeper's epoch from version-2"
        );
    }
    Ok(ours.max(zookeepers))
}

/// Reads an epoch file (a decimal number); 0 when it does not exist.
fn read_epoch(dir: &Path, name: &str) -> Result<u32, StorageError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => text
            .trim()
            .parse()
            .map_err(|_| StorageError::corrupt(&path, 0, "not an epoch number")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(StorageError::io(&path, e)),
    }
}

/// Writes an epoch file durably (temporary file, fsync, rename, directory fsync).
fn write_epoch(dir: &Path, name: &str, epoch: u32) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let tmp: PathBuf = dir.join(format!("{name}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(epoch.to_string().as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}

/// The `mntr` counter a packet this server sends adds to (ZooKeeper's
/// ServerMetrics: how the leader synced each learner).
fn sent_counter(kind: PacketType) -> Option<&'static str> {
    match kind {
        PacketType::Diff => Some("diff_count"),
        _ => None,
    }
}

/// The `mntr` counter a packet this server receives adds to (a learner's).
fn received_counter(kind: PacketType) -> Option<&'static str> {
    match kind {
        PacketType::Proposal => Some("learner_proposal_received_count"),
        PacketType::Commit => Some("learner_commit_received_count"),
        _ => None,
    }
}

/// REQUEST data: sessionId, then the client's frame (xid, type, body).
fn request_data(session_id: i64, frame: &[u8]) -> TxnBytes {
    let mut data = Vec::with_capacity(8 + frame.len());
    data.extend_from_slice(&session_id.to_be_bytes());
    data.extend_from_slice(frame);
    data.into()
}

/// A REQUEST packet for the leader.
fn request_packet(data: TxnBytes, auth: &[Id]) -> Packet {
    Packet {
        kind: PacketType::Request,
        zxid: -1,
        data,
        auth: auth.to_vec(),
    }
}

/// A client frame (xid, type, body) built from parts.
fn client_frame(xid: i32, op: i32, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(8 + body.len());
    frame.extend_from_slice(&xid.to_be_bytes());
    frame.extend_from_slice(&op.to_be_bytes());
    frame.extend_from_slice(body);
    frame
}

impl Core {
    /// Feeds one input to the peer and carries out what it asks.
    pub(super) fn zab(&mut self, input: Input) {
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        let mut outs = Vec::new();
        r.peer.handle(input, &mut outs);
        self.zab_outputs(outs);
    }

    /// A transport event.
    pub(super) fn peer_event(&mut self, event: PeerEvent) {
        let input = match event {
            PeerEvent::Message { from, msg } => {
                if let Message::Quorum(p) = &msg {
                    if let Some(counter) = received_counter(p.kind) {
                        self.stats.metrics.add(counter, 1);
                    }
                    if matches!(
                        p.kind,
                        PacketType::Diff | PacketType::Trunc | PacketType::Snap
                    ) {
                        info!(leader = from, mode = ?p.kind, zxid = format_args!("{:#x}", p.zxid), "syncing with the leader");
                    }
                }
                Input::Message { from, msg }
            }
            PeerEvent::Connected(sid) => Input::Connected(sid),
            PeerEvent::Disconnected(sid) => Input::Disconnected(sid),
        };
        self.zab(input);
    }

    /// The peer's clock.
    pub(super) fn zab_tick(&mut self) {
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        let now_ms = r.started.elapsed().as_millis() as u64;
        // ZooKeeper starts its read-only server after max(2 s, tickTime) of looking.
        let grace = std::time::Duration::from_millis((self.settings.tick_time_ms as u64).max(2000));
        if r.ensemble.read_only_mode
            && !r.read_only
            && r.not_serving_since.is_some_and(|t| t.elapsed() >= grace)
        {
            info!("cut off from the quorum: serving read-only clients (readonlymode.enabled)");
            r.read_only = true;
        }
        self.zab(Input::Tick { now_ms });
    }

    pub(super) fn zab_outputs(&mut self, outs: Vec<Output>) {
        for out in outs {
            self.zab_output(out);
        }
        self.flush_log_batch();
    }

    fn zab_output(&mut self, out: Output) {
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        match out {
            Output::Send { to, msg } => {
                if let Message::Quorum(p) = &msg {
                    if let Some(counter) = sent_counter(p.kind) {
                        self.stats.metrics.add(counter, 1);
                    }
                }
                let r = self.replica.as_mut().expect("checked above");
                r.net.send(to, msg)
            }
            Output::ConnectLeader(sid) => r.net.connect_leader(sid),
            Output::Disconnect(sid) => r.net.disconnect(sid),
            Output::Append { zxid, txn } => r.log_batch.push((zxid, txn.to_vec())),
            Output::Truncate(zxid) => self.truncate_to(zxid),
            Output::PersistEpochs { accepted, current } => self.persist_epochs(accepted, current),
            Output::Deliver { zxid, txn } => self.deliver(zxid, &txn),
            Output::InstallSnapshot { zxid, snapshot } => self.install_snapshot(zxid, &snapshot),
            Output::SendSnapshot { to, zxid } => {
                let sessions: Vec<(i64, u32)> = self.sessions.sessions().collect();
                let bytes = storage::sync_snapshot_bytes(&self.tree, &sessions);
                info!(
                    learner = to,
                    zxid = format_args!("{zxid:#x}"),
                    bytes = bytes.len(),
                    "sending a snapshot (SNAP)"
                );
                self.stats.metrics.add("snap_count", 1);
                let r = self.replica.as_mut().expect("checked above");
                r.net.send(
                    to,
                    Message::Quorum(Packet {
                        kind: PacketType::Snap,
                        zxid,
                        data: bytes.into(),
                        auth: Vec::new(),
                    }),
                );
            }
            Output::Role { role, serving } => self.role_changed(role, serving),
            Output::Request { from, packet } => self.learner_request(from, &packet),
            Output::Touches(touches) => {
                let now = self.now_ms();
                for (session, _) in touches {
                    self.sessions.touch(session, now);
                }
            }
            Output::SyncDone(token) => self.sync_done(token),
            Output::Anomaly(what) => error!("{what}"),
            Output::Revalidate {
                from,
                session,
                timeout_ms,
            } => self.revalidate_for(from, session, timeout_ms),
            Output::Revalidated { session, valid } => self.revalidated(session, valid),
        }
    }

    /// Hands the records the peer asked for to the log thread, as one batch.
    fn flush_log_batch(&mut self) {
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        if r.log_batch.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut r.log_batch);
        let _ = self
            .log_tx
            .send(super::log_writer::LogCommand::Append(batch));
    }

    fn persist_epochs(&mut self, accepted: u32, current: u32) {
        let dir = storage::snap_dir(&self.settings.data_dir);
        let written = write_epoch(&dir, ACCEPTED_EPOCH_FILE, accepted)
            .and_then(|()| write_epoch(&dir, CURRENT_EPOCH_FILE, current));
        if let Err(e) = written {
            // Going on could let this server vote twice in one epoch after a restart.
            error!(
                "cannot write the epoch files in {}: {e}; stopping",
                dir.display()
            );
            std::process::exit(1);
        }
    }

    /// TRUNC: cut the log after `zxid`; rebuild the state from disk when it
    /// already holds txns after it (a restarted server applied its whole log).
    fn truncate_to(&mut self, zxid: i64) {
        self.cut_log(zxid);
        info!(
            zxid = format_args!("{zxid:#x}"),
            "log truncated (TRUNC from the leader)"
        );
        if self.tree.last_processed_zxid() > zxid {
            let s = &self.settings;
            match storage::recover(&s.data_dir, &s.data_log_dir, s.extended_types) {
                Ok(recovered) => {
                    self.replace_state(recovered.tree, &recovered.sessions);
                }
                Err(e) => {
                    error!("cannot reload the database after truncation: {e}; stopping");
                    std::process::exit(1);
                }
            }
        }
    }

    /// Removes every logged record after `zxid`, durably, before anything else.
    fn cut_log(&mut self, zxid: i64) {
        self.flush_log_batch();
        let (done, result) = std::sync::mpsc::channel();
        let _ = self
            .log_tx
            .send(super::log_writer::LogCommand::Truncate { zxid, done });
        match result.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                error!("cannot truncate the transaction log: {e}; stopping");
                std::process::exit(1);
            }
            Err(_) => {
                error!("the log thread is gone; stopping");
                std::process::exit(1);
            }
        }
    }

    /// Puts a new tree and session table in place (SNAP, or a reload after
    /// TRUNC); a fuzzy snapshot of the old tree in progress is dropped.
    fn replace_state(&mut self, tree: crate::tree::DataTree, sessions: &[(i64, u32)]) {
        self.snapshot = None;
        self.tree = tree;
        if let Some(r) = &self.replica {
            self.tree.set_ensemble_config(
                r.ensemble.config_text().as_bytes(),
                super::wall_ms(),
                r.ensemble.config_version as i64,
            );
        }
        self.reset_sessions(sessions);
        self.prep = Prep::new(self.prep_settings);
        self.last_zxid = self.tree.last_processed_zxid();
        self.logged_upto = self.last_zxid;
    }

    fn reset_sessions(&mut self, sessions: &[(i64, u32)]) {
        let s = &self.settings;
        let mut tracker = SessionTracker::new(s.server_id, s.tick_time_ms, super::wall_ms() as u64);
        let now = self.now_ms();
        for (id, timeout_ms) in sessions {
            tracker.add(*id, *timeout_ms, now);
        }
        self.sessions = tracker;
    }

    /// SNAP: replace the state by the leader's, and keep it on disk (a
    /// snapshot file, the log cut after it) before the NEWLEADER ack.
    fn install_snapshot(&mut self, zxid: i64, bytes: &[u8]) {
        let (mut tree, sessions) =
            match storage::parse_sync_snapshot(bytes, self.settings.extended_types) {
                Ok(parsed) => parsed,
                Err(e) => {
                    error!("the leader's snapshot does not decode ({e}); stopping");
                    std::process::exit(1);
                }
            };
        tree.set_last_processed_zxid(zxid);
        if !self.settings.digest_enabled {
            tree.disable_digest();
        }
        // A ZooKeeper leader's SNAP is fuzzy: compare digests from the first
        // txn that matches (a Paddock leader's image is exact: the first).
        tree.digest_fuzzy();
        // Records after the snapshot may be a divergent tail; those before it are
        // never replayed again (recovery starts after the newest snapshot).
        self.cut_log(zxid);
        let image = storage::snapshot_bytes(&tree, &sessions);
        if let Err(e) =
            storage::write_snapshot_bytes(&storage::snap_dir(&self.settings.data_dir), zxid, &image)
        {
            error!("cannot write the leader's snapshot: {e}; stopping");
            std::process::exit(1);
        }
        self.snapshot_status.written_now(zxid);
        info!(
            zxid = format_args!("{zxid:#x}"),
            nodes = tree.node_count(),
            "installed the leader's snapshot (SNAP)"
        );
        self.replace_state(tree, &sessions);
    }

    /// Applies a committed txn: the leader's own in-flight one, or one a
    /// learner receives (answered here when this learner forwarded it).
    fn deliver(&mut self, zxid: i64, bytes: &[u8]) {
        if self.replica.as_ref().is_some_and(Replica::is_leader) {
            self.stats.metrics.add("commit_count", 1);
        }
        if self
            .in_flight
            .front()
            .is_some_and(|f| f.txn.header.zxid == zxid)
        {
            let f = self.in_flight.pop_front().expect("front exists");
            self.commit(f);
            self.after_applied(1);
            return;
        }
        let txn = match Txn::from_bytes(bytes) {
            Ok(t) => t,
            Err(e) => {
                error!(
                    zxid = format_args!("{zxid:#x}"),
                    "a committed txn does not decode ({e}); stopping"
                );
                std::process::exit(1);
            }
        };
        let origin = self.learner_origin(&txn);
        self.commit(InFlight { txn, origin });
        self.after_applied(1);
    }

    /// Who on this learner waits for `txn`: the forwarded write of the same
    /// session and xid, or the forwarded handshake of a new session.
    fn learner_origin(&mut self, txn: &Txn) -> Origin {
        let Some(r) = self.replica.as_mut() else {
            return Origin::Internal;
        };
        let session = txn.header.client_id;
        if let TxnBody::CreateSession(_) = txn.body {
            if let Some(p) = r.connects.remove(&session) {
                return Origin::Connect {
                    conn: p.conn,
                    timeout_ms: p.timeout_ms,
                    done: p.done,
                };
            }
        }
        if let Some(queue) = r.forwarded.get_mut(&session) {
            if queue.front().is_some_and(|f| f.xid == txn.header.cxid) {
                let f = queue.pop_front().expect("front exists");
                if queue.is_empty() {
                    r.forwarded.remove(&session);
                }
                return Origin::Client {
                    conn: f.conn,
                    xid: f.xid,
                    op: f.op,
                    received_ms: f.received_ms,
                };
            }
        }
        Origin::Internal
    }

    fn role_changed(&mut self, role: Role, serving: bool) {
        if role == Role::Looking {
            self.stats.metrics.add("looking_count", 1);
        }
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        let was_serving = r.serving;
        let was_read_only = r.read_only;
        r.role = role;
        r.serving = serving;
        info!(?role, serving, "ensemble role");
        if serving {
            r.not_serving_since = None;
            r.read_only = false;
        } else if r.not_serving_since.is_none() {
            r.not_serving_since = Some(std::time::Instant::now());
        }
        if (was_serving && !serving) || (was_read_only && serving) {
            // Read-only sessions are local: they end with read-only mode.
            self.stop_serving();
        }
        let r = self.replica.as_mut().expect("checked above");
        match role {
            Role::Leading { epoch } if serving => {
                r.leading_since = Some(std::time::Instant::now());
                r.owners.clear();
                // As ZooKeeper's leader, report the new epoch's zxid until the
                // first write (once everything logged is applied: nothing older
                // can be applied after it).
                let epoch_zxid = zab::make_zxid(epoch, 0);
                let all_applied = self.tree.last_processed_zxid() >= r.peer.last_logged();
                if all_applied && self.tree.last_processed_zxid() < epoch_zxid {
                    self.tree.set_last_processed_zxid(epoch_zxid);
                }
                self.last_zxid = zab::make_zxid(epoch, 0).max(self.tree.last_processed_zxid());
                self.logged_upto = self.last_zxid;
                // Sessions learners served before this leader took over start
                // afresh, and so do closes this server prepped as an earlier
                // leader that were never applied (the sessions still live).
                let now = self.now_ms();
                self.sessions.reopen_all(now);
            }
            _ => r.leading_since = None,
        }
        match role {
            Role::Leading { epoch }
            | Role::Following { epoch, .. }
            | Role::Observing { epoch, .. }
                if serving =>
            {
                self.version_static_config(epoch)
            }
            _ => {}
        }
    }

    /// No leader or no quorum: every client connection closes and every
    /// write in flight is forgotten (its client learns by the disconnect).
    fn stop_serving(&mut self) {
        warn!(
            connections = self.conns.len(),
            "no longer serving (no leader or no quorum): closing client connections"
        );
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.close_conn(conn);
        }
        for f in self.in_flight.drain(..) {
            if let Origin::Connect { done, .. } = f.origin {
                let _ = done.send(false);
            }
        }
        if let Some(r) = self.replica.as_mut() {
            r.forwarded.clear();
            for (_, p) in r.connects.drain().chain(r.revalidations.drain()) {
                let _ = p.done.send(false);
            }
            r.owners.clear();
            r.syncs.clear();
            r.log_batch.clear();
            r.reconfig_pending = None;
        }
        self.prep = Prep::new(self.prep_settings);
        self.last_zxid = self.tree.last_processed_zxid();
        self.logged_upto = self.last_zxid;
    }

    /// Leader: a learner forwarded a client request; prep it like a local one.
    fn learner_request(&mut self, from: Sid, packet: &Packet) {
        let data = &packet.data[..];
        if data.len() < 16 {
            warn!(learner = from, "REQUEST packet too short; ignored");
            return;
        }
        let session_id = i64::from_be_bytes(data[..8].try_into().expect("8 bytes"));
        let frame = &data[8..];
        let cxid = i32::from_be_bytes(frame[..4].try_into().expect("4 bytes"));
        let op = i32::from_be_bytes(frame[4..8].try_into().expect("4 bytes"));
        let zxid = self.next_zxid();
        let ctx = PrepContext {
            session_id,
            cxid,
            zxid,
            time: super::wall_ms(),
            auth: &packet.auth,
        };
        let txn = if op == OpCode::CreateSession as i32 {
            let body = &frame[8..];
            let timeout = body
                .get(..4)
                .map_or(self.settings.min_session_timeout_ms as i32, |b| {
                    i32::from_be_bytes(b.try_into().expect("4 bytes"))
                });
            self.take_owner(session_id, Owner::Learner(from));
            self.prep.create_session(&self.tree, &ctx, timeout)
        } else {
            let decoded = crate::proto::decode_request(frame);
            let closes = matches!(decoded, Ok((_, Request::CloseSession)));
            let moved =
                decoded.is_ok() && !closes && self.session_moved(session_id, Owner::Learner(from));
            match decoded {
                Ok(_) if moved => self.prep.refuse(&self.tree, &ctx, ErrorCode::SessionMoved),
                Ok((_, Request::Reconfig(r))) => self.prep_reconfig(&ctx, &r),
                Ok((_, req)) => {
                    if closes {
                        self.sessions.mark_closing(session_id);
                    }
                    let opcode = OpCode::from_i32(op).unwrap_or(OpCode::Error);
                    self.prep.prep(&self.tree, &ctx, opcode, &req)
                }
                Err(_) => {
                    // A learner forwards only requests it decoded; give the zxid back.
                    warn!(
                        learner = from,
                        op, "forwarded request does not decode; ignored"
                    );
                    self.last_zxid -= 1;
                    return;
                }
            }
        };
        self.in_flight.push_back(InFlight {
            txn,
            origin: Origin::Internal,
        });
    }

    /// Learner: sends a client write to the leader; its answer comes with the commit.
    pub(super) fn forward_write(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: i32,
        received_ms: i64,
        frame: &[u8],
    ) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (session_id, auth) = (c.session_id, c.auth.clone());
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        r.forwarded
            .entry(session_id)
            .or_default()
            .push_back(Forwarded {
                conn,
                xid,
                op,
                received_ms,
            });
        let packet = request_packet(request_data(session_id, frame), &auth);
        self.zab(Input::Forward(packet));
    }

    /// Learner: a new session is created by the leader.
    pub(super) fn forward_connect(
        &mut self,
        conn: ConnId,
        timeout_ms: u32,
        done: oneshot::Sender<bool>,
    ) {
        let session_id = self.sessions.next_session_id();
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        r.connects.insert(
            session_id,
            PendingConnect {
                conn,
                timeout_ms,
                done,
            },
        );
        let frame = client_frame(
            0,
            OpCode::CreateSession as i32,
            &(timeout_ms as i32).to_be_bytes(),
        );
        let packet = request_packet(request_data(session_id, &frame), &[]);
        self.zab(Input::Forward(packet));
    }

    /// A client's `sync`: answered once this server has caught up with the
    /// leader as of the moment the leader saw the sync.
    pub(super) fn start_sync(
        &mut self,
        conn: ConnId,
        xid: i32,
        op: i32,
        received_ms: i64,
        request: Request,
        frame: &[u8],
    ) {
        let Some(session_id) = self.conns.get(&conn).map(|c| c.session_id) else {
            return;
        };
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        let token = r.next_sync;
        r.next_sync += 1;
        r.syncs.insert(
            token,
            PendingSync {
                conn,
                xid,
                op,
                received_ms,
                request,
            },
        );
        let packet = request_packet(request_data(session_id, frame), &[]);
        self.zab(Input::Sync {
            token,
            request: packet,
        });
    }

    fn sync_done(&mut self, token: u64) {
        let Some(p) = self.replica.as_mut().and_then(|r| r.syncs.remove(&token)) else {
            return;
        };
        if let Some(c) = self.conns.get_mut(&p.conn) {
            c.writes_in_flight -= 1;
        }
        let reply = self.read(p.conn, p.xid, &p.request);
        self.reply_now(p.conn, p.xid, p.op, p.received_ms, reply);
        self.pump(p.conn);
    }

    /// Learner: a client attaches to an existing session (its password
    /// checked here); the leader decides whether it lives and hands it to
    /// this server (REVALIDATE), as ZooKeeper's learners do on every attach.
    pub(super) fn revalidate_attach(
        &mut self,
        conn: ConnId,
        session: i64,
        timeout_ms: u32,
        done: oneshot::Sender<bool>,
    ) {
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        let pending = PendingConnect {
            conn,
            timeout_ms,
            done,
        };
        if let Some(earlier) = r.revalidations.insert(session, pending) {
            let _ = earlier.done.send(false);
            self.close_conn(earlier.conn);
        }
        self.zab(Input::Revalidate {
            session,
            timeout_ms: timeout_ms as i32,
        });
    }

    /// Learner: the leader's REVALIDATE answer ends a pending attach.
    fn revalidated(&mut self, session: i64, valid: bool) {
        self.stats.metrics.add("connection_revalidate_count", 1);
        let Some(p) = self
            .replica
            .as_mut()
            .and_then(|r| r.revalidations.remove(&session))
        else {
            warn!(
                session = format_args!("{session:#x}"),
                "REVALIDATE answer for no pending attach"
            );
            return;
        };
        if !self.conns.contains_key(&p.conn) {
            let _ = p.done.send(false);
            return;
        }
        if !valid {
            info!(
                session = format_args!("{session:#x}"),
                "reconnect refused by the leader: session expired or unknown"
            );
            self.refuse_attach(p.conn, p.done);
            return;
        }
        let now = self.now_ms();
        if !self.sessions.contains(session) {
            // Created by a txn this server has not applied yet.
            self.sessions.add(session, p.timeout_ms, now);
        }
        self.sessions.set_timeout(session, p.timeout_ms);
        self.sessions.touch(session, now);
        self.touch_remote(session, p.timeout_ms);
        self.establish(p.conn, session, p.timeout_ms);
        let _ = p.done.send(true);
    }

    /// Leader: learner `from` asks to take over `session` (REVALIDATE): it
    /// does if the session lives, which also touches it.
    fn revalidate_for(&mut self, from: Sid, session: i64, timeout_ms: i32) {
        self.stats.metrics.add("revalidate_count", 1);
        let valid = self.sessions.contains(session) && !self.sessions.is_closing(session);
        if valid {
            let now = self.now_ms();
            self.sessions
                .set_timeout(session, u32::try_from(timeout_ms).unwrap_or(0));
            self.sessions.touch(session, now);
            // A connection of the session here stays open, as ZooKeeper's
            // does: its next write is refused with SESSIONMOVED.
            self.take_owner(session, Owner::Learner(from));
        }
        self.zab(Input::Revalidated {
            to: from,
            session,
            valid,
        });
    }

    /// Leader: `owner` now holds `session`'s client.
    pub(super) fn take_owner(&mut self, session: i64, owner: Owner) {
        if let Some(r) = self.replica.as_mut().filter(|r| r.is_leader()) {
            r.owners.insert(session, owner);
        }
    }

    /// Leader: true when a write of `session` that came through `owner`
    /// must be refused with SESSIONMOVED (another server holds the session's
    /// client); a session without an owner yet is taken by `owner`.
    pub(super) fn session_moved(&mut self, session: i64, owner: Owner) -> bool {
        let Some(r) = self.replica.as_mut().filter(|r| r.is_leader()) else {
            return false;
        };
        *r.owners.entry(session).or_insert(owner) != owner
    }

    /// Learner: tells the leader a session is alive.
    pub(super) fn touch_remote(&mut self, session_id: i64, timeout_ms: u32) {
        if self.replica.as_ref().is_some_and(|r| !r.is_leader()) {
            self.zab(Input::Touch {
                session: session_id,
                timeout_ms: timeout_ms as i32,
            });
        }
    }

    /// Leader: proposes every txn prepped since the last call.
    pub(super) fn propose_prepped(&mut self) {
        let Some(start) = self.first_unsent() else {
            return;
        };
        let batch: Vec<(i64, TxnBytes)> = self
            .in_flight
            .range(start..)
            .map(|f| (f.txn.header.zxid, TxnBytes::from(super::log_record(&f.txn))))
            .collect();
        self.logged_upto = batch.last().expect("non-empty").0;
        for (_, txn) in &batch {
            self.stats.proposal_sizes.record(txn.len() as i64);
        }
        self.stats.metrics.add("proposal_count", batch.len() as i64);
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        let mut outs = Vec::new();
        for (zxid, txn) in batch {
            r.peer.handle(Input::Propose { zxid, txn }, &mut outs);
        }
        self.zab_outputs(outs);
    }

    /// Whether clients are served: always on a standalone server; on an
    /// ensemble member while it has a leader and a quorum, or read-only.
    pub(in crate::server) fn ensemble_serving(&self) -> bool {
        self.replica
            .as_ref()
            .is_none_or(|r| r.serving() || r.read_only())
    }

    /// True while only read-only clients are served.
    pub(in crate::server) fn is_read_only(&self) -> bool {
        self.replica.as_ref().is_some_and(Replica::read_only)
    }

    /// Read-only mode: a write or sync is refused with NotReadOnly; a
    /// closeSession ends the local session.
    pub(super) fn refuse_read_only(&mut self, conn: ConnId, xid: i32, op: i32, received_ms: i64) {
        let zxid = self.tree.last_processed_zxid();
        if op == OpCode::CloseSession as i32 {
            let session = self.conns.get(&conn).map_or(0, |c| c.session_id);
            self.reply_now(
                conn,
                xid,
                op,
                received_ms,
                crate::proto::reply::header_only(xid, zxid, crate::proto::ErrorCode::Ok),
            );
            self.session_closed(session);
            return;
        }
        let reply =
            crate::proto::reply::header_only(xid, zxid, crate::proto::ErrorCode::NotReadOnly);
        self.reply_now(conn, xid, op, received_ms, reply);
    }

    /// True when this server forwards writes instead of prepping them.
    pub(super) fn is_learner(&self) -> bool {
        self.replica.as_ref().is_some_and(|r| !r.is_leader())
    }

    /// True when this server expires sessions and reaps containers.
    pub(super) fn owns_expiry(&self) -> bool {
        self.replica
            .as_ref()
            .is_none_or(|r| r.is_leader() || r.read_only())
    }

    /// Applies the ensemble effect of a committed txn on every member:
    /// createSession adds the session, closeSession removes it, a reconfig
    /// switches the membership.
    pub(super) fn ensemble_effect(&mut self, txn: &Txn) {
        if self.replica.is_none() {
            return;
        }
        match &txn.body {
            TxnBody::CreateSession(t) if !self.sessions.contains(txn.header.client_id) => {
                let now = self.now_ms();
                self.sessions
                    .add(txn.header.client_id, t.time_out.max(0) as u32, now);
            }
            TxnBody::CloseSession(_) => {
                if let Some(r) = self.replica.as_mut() {
                    r.owners.remove(&txn.header.client_id);
                }
                self.session_closed(txn.header.client_id)
            }
            TxnBody::SetData(t) if txn.header.r#type == OpCode::Reconfig as i32 => {
                let text = t.data.clone().unwrap_or_default();
                self.reconfig_committed(&text);
            }
            _ => {}
        }
    }
}

/// `host:port` as ZooKeeper writes an address: an IPv6 host in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// What the four-letter words show of the ensemble.
impl Core {
    /// `Mode:` of `srvr`/`stat`; `None` on a standalone server.
    pub(in crate::server) fn ensemble_mode(&self) -> Option<crate::admin::ServerMode> {
        use crate::admin::ServerMode;
        let r = self.replica.as_ref()?;
        if r.read_only() {
            return Some(ServerMode::ReadOnly);
        }
        Some(match r.role {
            Role::Leading { .. } => ServerMode::Leader,
            Role::Observing { .. } => ServerMode::Observer,
            Role::Following { .. } | Role::Looking => ServerMode::Follower,
        })
    }

    /// The quorum part of `conf`.
    pub(in crate::server) fn quorum_conf(&self) -> Option<crate::admin::QuorumConfView> {
        let r = self.replica.as_ref()?;
        let me = r.ensemble.me()?;
        Some(crate::admin::QuorumConfView {
            init_limit: r.ensemble.init_limit as i32,
            sync_limit: r.ensemble.sync_limit as i32,
            election_alg: 3,
            election_ports: vec![me.election_port],
            quorum_ports: vec![me.quorum_port],
            observer: me.role == crate::config::LearnerRole::Observer,
            membership: r.ensemble.config_text(),
        })
    }

    /// The quorum gauges of `mntr`.
    pub(in crate::server) fn quorum_monitor(&self) -> Option<crate::admin::QuorumMonitor> {
        let r = self.replica.as_ref()?;
        let phase = if r.serving {
            "broadcast"
        } else {
            "synchronization"
        };
        let (peer_state, leader, synced_observers, observer_master_id) = match r.role {
            Role::Looking => ("looking - election".to_owned(), None, None, None),
            Role::Following { .. } => (format!("following - {phase}"), None, None, None),
            Role::Observing { leader, .. } => (
                format!("observing - {phase}"),
                None,
                None,
                Some(leader as i64),
            ),
            Role::Leading { .. } => {
                let counts = r.peer.learner_counts();
                let monitor = crate::admin::LeaderMonitor {
                    learners: (counts.followers + counts.observers) as i64,
                    synced_followers: counts.synced_followers as i64,
                    synced_non_voting_followers: 0,
                    pending_syncs: counts.pending_syncs as i64,
                    leader_uptime_ms: r
                        .leading_since
                        .map_or(0, |t| t.elapsed().as_millis() as i64),
                    proposal_sizes: self.stats.proposal_sizes,
                };
                (
                    format!("leading - {phase}"),
                    Some(monitor),
                    Some(counts.observers as i64),
                    None,
                )
            }
        };
        Some(crate::admin::QuorumMonitor {
            peer_state,
            quorum_size: r
                .ensemble
                .servers
                .iter()
                .filter(|s| s.role == crate::config::LearnerRole::Participant)
                .count() as i64,
            synced_observers,
            leader,
            observer_master_id,
        })
    }

    /// The ensemble as the AdminServer's `leader`, `voting_view`, `zabstate`
    /// and `observers` show it.
    pub(in crate::server) fn peer_view(&self) -> Option<crate::admin::PeerView> {
        use crate::config::LearnerRole;
        let r = self.replica.as_ref()?;
        let me = r.ensemble.me()?;
        let host_of = |id: u64| {
            r.ensemble
                .servers
                .iter()
                .find(|s| s.id == id)
                .map_or_else(String::new, |s| s.host.clone())
        };
        let (is_leader, leader) = match r.role {
            Role::Looking => (false, None),
            Role::Leading { .. } => (true, Some(me.id)),
            Role::Following { leader, .. } | Role::Observing { leader, .. } => {
                (false, Some(leader))
            }
        };
        let own_client = host_port(
            &self
                .settings
                .client_port_address
                .map_or_else(|| "0.0.0.0".to_owned(), |a| a.to_string()),
            self.settings.client_port,
        );
        let voting_members = r
            .ensemble
            .servers
            .iter()
            .filter(|s| s.role == LearnerRole::Participant)
            .map(|s| crate::admin::VotingMember {
                id: s.id as i64,
                server_address: host_port(&s.host, s.quorum_port),
                election_address: host_port(&s.host, s.election_port),
                client_address: match &s.client {
                    Some(c) => host_port(&c.host, c.port),
                    None if s.id == me.id => own_client.clone(),
                    None => String::new(),
                },
            })
            .collect();
        let synced_observers = match r.role {
            Role::Leading { .. } => r.peer.learner_counts().observers as i64,
            _ => 0,
        };
        Some(crate::admin::PeerView {
            my_id: me.id as i64,
            is_leader,
            leader: leader.map(|id| (id as i64, host_of(id))),
            zab_state: match (r.role, r.serving) {
                (Role::Looking, _) => "election",
                (_, true) => "broadcast",
                (_, false) => "synchronization",
            },
            quorum_address: host_port(&me.host, me.quorum_port),
            election_address: host_port(&me.host, me.election_port),
            client_address: own_client,
            voting: me.role == LearnerRole::Participant,
            voting_members,
            synced_observers,
        })
    }

    /// The learner's view of global sessions for `dump` (id, timeout).
    pub(in crate::server) fn learner_sessions(&self) -> Option<Vec<(i64, i32)>> {
        if !self.is_learner() {
            return None;
        }
        Some(
            self.sessions
                .sessions()
                .map(|(id, t)| (id, t as i32))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{read_epochs, ACCEPTED_EPOCH_FILE, CURRENT_EPOCH_FILE};
    use crate::storage::{self, test_dir::TestDir};

    /// A member taken over from Apache ZooKeeper keeps ZooKeeper's epochs
    /// (issue #18: voting with epoch 0 let the next leader reuse epoch 1 and
    /// keep a proposal nobody acknowledged); whichever file is newer wins.
    #[test]
    fn epochs_are_the_newer_of_paddocks_and_zookeepers() {
        let dir = TestDir::new();
        let data = dir.path();
        assert_eq!(read_epochs(data, ACCEPTED_EPOCH_FILE).unwrap(), 0);
        let zk = storage::zookeeper_snap_dir(data);
        std::fs::create_dir_all(&zk).unwrap();
        std::fs::write(zk.join(ACCEPTED_EPOCH_FILE), "3").unwrap();
        std::fs::write(zk.join(CURRENT_EPOCH_FILE), "3").unwrap();
        assert_eq!(read_epochs(data, ACCEPTED_EPOCH_FILE).unwrap(), 3);
        let ours = storage::snap_dir(data);
        std::fs::create_dir_all(&ours).unwrap();
        std::fs::write(ours.join(ACCEPTED_EPOCH_FILE), "5").unwrap();
        std::fs::write(ours.join(CURRENT_EPOCH_FILE), "2").unwrap();
        assert_eq!(read_epochs(data, ACCEPTED_EPOCH_FILE).unwrap(), 5);
        assert_eq!(read_epochs(data, CURRENT_EPOCH_FILE).unwrap(), 3);
    }
}
