//! The consensus core (ZooKeeper's ZAB and FastLeaderElection), sans-IO.
//!
//! A `Peer` is one server's replication state machine. It never touches a
//! socket, a file or a clock: the shell (`server`) or the simulator
//! (`tests/sim`) feeds it [`Input`]s — ticks with the time, messages from
//! other servers, reports that log records became durable, client writes to
//! propose or forward — and carries out the [`Output`]s it returns, **in the
//! order returned**: send a message, append to or truncate the log, persist
//! the epochs, apply a committed txn, install or produce a snapshot, change
//! role.
//!
//! # Messages
//! [`Message::Vote`] travels on the election port (ZooKeeper's
//! QuorumCnxManager connections, one per pair of servers), and
//! [`Message::Quorum`] on the quorum port (a learner's connection to its
//! leader), in ZooKeeper's own formats ([`wire`]). A txn travels as the Jute
//! bytes of TxnHeader + txn: the same bytes are the PROPOSAL payload, the log
//! record and the input of apply; this module never decodes them (it reads
//! only the REQUEST header to recognise a forwarded `sync`).
//!
//! # Layout
//! - [`wire`]: encoding and decoding of notifications, the election
//!   handshake and QuorumPackets.
//! - [`election`]: FastLeaderElection (votes, rounds, quorum of votes).
//! - [`links`]: which connection to each peer is current (the rule the
//!   shell's transport keeps for the peer).
//! - [`peer`]: `Peer`: election, discovery, synchronisation (DIFF / TRUNC /
//!   SNAP) and broadcast for leaders, followers and observers.

pub mod election;
pub mod links;
pub mod peer;
pub mod wire;

use crate::jute::records::Id;
use std::collections::BTreeSet;
use std::sync::Arc;

/// A server id (`myid`, the N of `server.N`).
pub type Sid = u64;

/// Txn bytes (TxnHeader + txn), shared between the log, the outgoing
/// proposals and apply without copying.
pub type TxnBytes = Arc<[u8]>;

/// `epoch << 32 | counter`: the zxid a leader of `epoch` gives its
/// `counter`-th write (counter 0 is the epoch's NEWLEADER zxid).
pub fn make_zxid(epoch: u32, counter: u32) -> i64 {
    ((epoch as i64) << 32) | counter as i64
}

/// The epoch half of a zxid.
pub fn epoch_of(zxid: i64) -> u32 {
    (zxid >> 32) as u32
}

/// The counter half of a zxid.
pub fn counter_of(zxid: i64) -> u32 {
    zxid as u32
}

/// True when `next` may be logged right after `prev` in a gap-free history:
/// the next counter of the same epoch, or the first write (counter 1) of a
/// later epoch. Every leader, Paddock's and ZooKeeper's, numbers its
/// epoch's writes 1, 2, 3, … and proposes each one, so a log in which this
/// fails anywhere has lost committed txns.
pub fn follows(prev: i64, next: i64) -> bool {
    if epoch_of(next) == epoch_of(prev) {
        next == prev + 1
    } else {
        epoch_of(next) > epoch_of(prev) && counter_of(next) == 1
    }
}

/// A server's state as election notifications carry it (LOOKING 0,
/// FOLLOWING 1, LEADING 2, OBSERVING 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerState {
    /// Looking for a leader (electing).
    Looking,
    /// Following an elected leader.
    Following,
    /// Leading.
    Leading,
    /// Observing an elected leader (never votes).
    Observing,
}

/// A vote: who should lead, and the facts that order votes (higher
/// `peer_epoch`, then higher `zxid`, then higher `leader` id wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Vote {
    /// The proposed leader's server id.
    pub leader: Sid,
    /// The proposed leader's last logged zxid.
    pub zxid: i64,
    /// The election round (logical clock) of the sender.
    pub election_epoch: i64,
    /// The proposed leader's current epoch.
    pub peer_epoch: i64,
}

/// An election notification (FastLeaderElection's, version 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The sender's state.
    pub state: ServerState,
    /// The sender's current vote.
    pub vote: Vote,
    /// The sender's membership, in `/zookeeper/config` text (may be empty).
    pub config: Vec<u8>,
}

/// QuorumPacket types, with ZooKeeper's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum PacketType {
    /// Learner → leader: a forwarded client request.
    Request = 1,
    /// Leader → follower: a txn to log and acknowledge.
    Proposal = 2,
    /// Follower → leader: the proposal (or NEWLEADER) `zxid` is durable.
    Ack = 3,
    /// Leader → follower: apply everything up to `zxid`.
    Commit = 4,
    /// Keep-alive both ways; a learner's carries its session touches.
    Ping = 5,
    /// Session revalidation on reconnect.
    Revalidate = 6,
    /// Leader → learner: a forwarded sync is complete.
    Sync = 7,
    /// Leader → observer: a committed txn.
    Inform = 8,
    /// Commit of a reconfig.
    CommitAndActivate = 9,
    /// Leader → learner: sync data sent; `zxid` = the new epoch's first zxid.
    NewLeader = 10,
    /// Follower → leader: first packet, with LearnerInfo.
    FollowerInfo = 11,
    /// Leader → learner: start serving.
    UpToDate = 12,
    /// Leader → learner: missing txns follow as PROPOSAL + COMMIT.
    Diff = 13,
    /// Leader → learner: cut the log after `zxid`.
    Trunc = 14,
    /// Leader → learner: a whole snapshot follows.
    Snap = 15,
    /// Observer → leader: first packet, with LearnerInfo.
    ObserverInfo = 16,
    /// Leader → learner: the new epoch.
    LeaderInfo = 17,
    /// Learner → leader: the new epoch is accepted.
    AckEpoch = 18,
    /// INFORM of a reconfig.
    InformAndActivate = 19,
}

/// A QuorumPacket. For [`PacketType::Snap`], `data` holds the serialized
/// snapshot (sessions + tree, no file header) that follows the packet on the
/// wire; for every other type it is the packet's own `data` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// What the packet is.
    pub kind: PacketType,
    /// The zxid the packet is about (−1 when none).
    pub zxid: i64,
    /// The payload (see each type); empty for none.
    pub data: TxnBytes,
    /// The client's identities, for REQUEST.
    pub auth: Vec<Id>,
}

/// What travels between two servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// An election notification (election port).
    Vote(Notification),
    /// A ZAB packet (quorum port).
    Quorum(Packet),
}

/// Who is in the ensemble. A write or an election needs a majority of `voters`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Membership {
    /// Participants: they vote and acknowledge proposals.
    pub voters: BTreeSet<Sid>,
    /// Observers: they learn committed txns and never vote.
    pub observers: BTreeSet<Sid>,
}

impl Membership {
    /// True when `acks` holds more than half of the voters.
    pub fn is_quorum<'a>(&self, acks: impl IntoIterator<Item = &'a Sid>) -> bool {
        let n = acks.into_iter().filter(|s| self.voters.contains(s)).count();
        n * 2 > self.voters.len()
    }
}

/// The role a `Peer` is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Electing.
    Looking,
    /// Leading `epoch`.
    Leading {
        /// The epoch this leader established.
        epoch: u32,
    },
    /// Following `leader` in `epoch`.
    Following {
        /// The leader's id.
        leader: Sid,
        /// The epoch (0 until LEADERINFO arrives).
        epoch: u32,
    },
    /// Observing `leader` in `epoch`.
    Observing {
        /// The leader's id.
        leader: Sid,
        /// The epoch (0 until LEADERINFO arrives).
        epoch: u32,
    },
}

/// Fixed settings of a `Peer`.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// This server's id.
    pub my_id: Sid,
    /// The ensemble.
    pub membership: Membership,
    /// zoo.cfg `tickTime`, ms.
    pub tick_ms: u64,
    /// zoo.cfg `initLimit`, ticks: the limit of discovery and sync.
    pub init_limit: u32,
    /// zoo.cfg `syncLimit`, ticks: how long a learner may be silent.
    pub sync_limit: u32,
    /// The membership as `/zookeeper/config` text, sent in notifications and NEWLEADER.
    pub config_text: Vec<u8>,
    /// Committed txns a leader keeps in memory to sync learners by DIFF;
    /// a learner further behind gets SNAP.
    pub log_window: usize,
}

/// What a `Peer` starts from, read from disk.
#[derive(Debug, Clone, Default)]
pub struct Persisted {
    /// The highest epoch this server accepted (LEADERINFO); file `acceptedEpoch`.
    pub accepted_epoch: u32,
    /// The epoch of the last leader this server synced with; file `currentEpoch`.
    pub current_epoch: u32,
    /// The last zxid in the log (or the snapshot when the log is empty); 0 if none.
    pub last_zxid: i64,
    /// The newest logged txns, oldest first, ending at `last_zxid` (at most
    /// `log_window`; fewer when the log holds fewer). At start every logged txn
    /// is already applied to the state machine.
    pub recent: Vec<(i64, TxnBytes)>,
}

/// Something for a `Peer` to react to.
#[derive(Debug, Clone)]
pub enum Input {
    /// Time passed; `now_ms` is monotonic.
    Tick {
        /// Milliseconds since any fixed origin.
        now_ms: u64,
    },
    /// A message arrived from server `from`.
    Message {
        /// The sender.
        from: Sid,
        /// What it sent.
        msg: Message,
    },
    /// A learner's quorum connection to leader `0` is up (after `ConnectLeader`).
    Connected(Sid),
    /// The quorum connection to (learner) or from (leader) this server is gone.
    Disconnected(Sid),
    /// Every record appended up to this zxid is durable.
    Durable(i64),
    /// Leader only: replicate this txn. `zxid` is the next of the epoch
    /// (strictly increasing); ignored unless `Peer::can_propose`.
    Propose {
        /// The txn's zxid.
        zxid: i64,
        /// TxnHeader + txn.
        txn: TxnBytes,
    },
    /// Learner only: send this REQUEST packet (a client write, createSession or
    /// closeSession) to the leader; dropped unless serving.
    Forward(Packet),
    /// A client's `sync`: on a learner, `request` (a REQUEST of type sync) goes
    /// to the leader and [`Output::SyncDone`] follows the leader's SYNC; on the
    /// leader, SyncDone follows once every txn proposed so far is committed
    /// and a quorum answered a ping round begun after the Sync.
    /// SyncDone outputs come in the order of the Sync inputs.
    Sync {
        /// Returned in SyncDone.
        token: u64,
        /// REQUEST(sync) for the leader (unused when leading).
        request: Packet,
    },
    /// Learner only: a client of session `session` was active; reported to the
    /// leader with the next PING reply.
    Touch {
        /// The session.
        session: i64,
        /// Its timeout, ms.
        timeout_ms: i32,
    },
    /// Learner only: a client attaches to `session`, which the leader must
    /// confirm alive and hand to this server (ZooKeeper's REVALIDATE);
    /// [`Output::Revalidated`] follows with the leader's answer. Dropped
    /// unless serving (the client's connection goes with the role change).
    Revalidate {
        /// The session.
        session: i64,
        /// The timeout the client negotiated, ms.
        timeout_ms: i32,
    },
    /// Leader only: the answer to [`Output::Revalidate`] for learner `to`.
    Revalidated {
        /// The learner that asked.
        to: Sid,
        /// The session.
        session: i64,
        /// True when the session is alive and now owned by `to`.
        valid: bool,
    },
}

/// Something the shell must do, in the order given.
#[derive(Debug, Clone)]
pub enum Output {
    /// Send `msg` to server `to` (dropped silently if there is no connection;
    /// the peer retransmits what it must).
    Send {
        /// The receiver.
        to: Sid,
        /// What to send.
        msg: Message,
    },
    /// Learner: open the quorum connection to the leader (closing any other);
    /// report [`Input::Connected`] or [`Input::Disconnected`].
    ConnectLeader(Sid),
    /// Close the quorum connection to or from this server.
    Disconnect(Sid),
    /// Append a record to the log (report [`Input::Durable`] once flushed).
    Append {
        /// The txn's zxid.
        zxid: i64,
        /// TxnHeader + txn.
        txn: TxnBytes,
    },
    /// Remove every logged record after `zxid`. If the state machine has
    /// applied txns after `zxid`, the shell must rebuild it from disk.
    Truncate(i64),
    /// Write the epochs to disk before carrying out any later output.
    PersistEpochs {
        /// `acceptedEpoch`.
        accepted: u32,
        /// `currentEpoch`.
        current: u32,
    },
    /// Apply this committed txn to the state machine (zxid order, each once).
    Deliver {
        /// The txn's zxid.
        zxid: i64,
        /// TxnHeader + txn.
        txn: TxnBytes,
    },
    /// Learner: replace the state machine by this snapshot, taken at `zxid`.
    InstallSnapshot {
        /// The zxid the snapshot is as of.
        zxid: i64,
        /// Sessions + tree, serialized as in a snapshot file (no file header).
        snapshot: TxnBytes,
    },
    /// Leader: serialize the state machine as it is now (everything
    /// delivered, which is up to `zxid`) and send it to `to` as
    /// `Packet { kind: Snap, zxid, data: snapshot }`, before any later output.
    SendSnapshot {
        /// The learner.
        to: Sid,
        /// The zxid the snapshot is as of.
        zxid: i64,
    },
    /// The role changed, or it became able to serve clients (`serving`: a
    /// leader with a synced quorum, a learner after UPTODATE).
    Role {
        /// The new role.
        role: Role,
        /// Whether clients may be served.
        serving: bool,
    },
    /// Leader: a learner forwarded a client request (REQUEST packet).
    Request {
        /// The learner.
        from: Sid,
        /// The REQUEST packet (data: sessionId, cxid, type, request bytes).
        packet: Packet,
    },
    /// Leader: sessions learners saw active (id, timeout ms).
    Touches(Vec<(i64, i32)>),
    /// A [`Input::Sync`] is complete.
    SyncDone(u64),
    /// Leader: learner `from` asks whether `session` is alive, to take it
    /// over (REVALIDATE); answer with [`Input::Revalidated`].
    Revalidate {
        /// The learner.
        from: Sid,
        /// The session.
        session: i64,
        /// The timeout its client negotiated, ms.
        timeout_ms: i32,
    },
    /// Learner: the leader's answer to an [`Input::Revalidate`].
    Revalidated {
        /// The session.
        session: i64,
        /// True when the session is alive and now this server's.
        valid: bool,
    },
    /// The peer received input that breaks the protocol (a proposal that
    /// does not follow the last logged zxid) and is resyncing; the shell
    /// reports it as an error. It never appears while the shell keeps the
    /// rules of [`peer`]'s "What the shell must provide".
    Anomaly(String),
}

pub use peer::{LearnerCounts, Peer};
