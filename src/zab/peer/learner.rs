//! Follower and observer (ZooKeeper's Learner, Follower, Observer):
//! connect, register (FOLLOWERINFO / OBSERVERINFO), accept the epoch
//! (LEADERINFO → ACKEPOCH), sync (DIFF / TRUNC / SNAP, then NEWLEADER →
//! ACK once durable), then serve on UPTODATE: log and acknowledge
//! proposals, deliver commits, answer pings with session touches.

use super::{Ctx, Flow};
use crate::jute::{encode, records::LearnerInfo};
use crate::zab::{
    epoch_of, make_zxid, Input, Message, Output, Packet, PacketType, Role, Sid, TxnBytes,
};
use std::collections::{BTreeMap, VecDeque};

/// The quorum protocol version sent in LearnerInfo and LEADERINFO.
pub(crate) const PROTOCOL_VERSION: i32 = 0x10000;

/// Where a learner is in its leader's handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// ConnectLeader sent; waiting for Connected.
    Connecting,
    /// FOLLOWERINFO / OBSERVERINFO sent; waiting for LEADERINFO.
    Discovery,
    /// ACKEPOCH sent; receiving the sync data.
    Syncing,
    /// NEWLEADER received; acknowledged once the log is durable.
    NewLeader,
    /// UPTODATE received: serving clients.
    Serving,
}

/// A follower's or observer's state while it has a leader.
#[derive(Debug)]
pub(crate) struct Learner {
    /// The leader followed.
    leader: Sid,
    /// True for an observer (never acknowledges proposals).
    observer: bool,
    /// The handshake stage.
    stage: Stage,
    /// The leader's epoch (0 until LEADERINFO).
    epoch: u32,
    /// When the leader was last heard (or the connection asked for).
    heard_ms: u64,
    /// The NEWLEADER zxid to acknowledge, once NEWLEADER arrived.
    newleader_zxid: i64,
    /// True once NEWLEADER is acknowledged: proposals may be acknowledged.
    acking: bool,
    /// The last proposal acknowledged (or committed when acking began).
    acked_upto: i64,
    /// The leader's commit point as the sync header gave it (DIFF's zxid,
    /// TRUNC's cut, SNAP's zxid): logged txns after it are proposals to
    /// acknowledge, even those a restart already applied.
    sync_point: i64,
    /// Sessions touched since the last PING reply, with their timeouts.
    touches: BTreeMap<i64, i32>,
    /// Tokens of forwarded syncs, oldest first, each ended by a SYNC.
    syncs: VecDeque<u64>,
}

impl Learner {
    /// Starts learning from `leader`: asks for the quorum connection.
    pub(crate) fn start(leader: Sid, observer: bool, ctx: &mut Ctx<'_>) -> Learner {
        let learner = Learner {
            leader,
            observer,
            stage: Stage::Connecting,
            epoch: 0,
            heard_ms: ctx.now_ms,
            newleader_zxid: 0,
            acking: false,
            acked_upto: 0,
            sync_point: 0,
            touches: BTreeMap::new(),
            syncs: VecDeque::new(),
        };
        ctx.out.push(Output::ConnectLeader(leader));
        learner.announce(ctx);
        learner
    }

    /// The role, as the peer reports it.
    pub(crate) fn role(&self) -> Role {
        let (leader, epoch) = (self.leader, self.epoch);
        if self.observer {
            Role::Observing { leader, epoch }
        } else {
            Role::Following { leader, epoch }
        }
    }

    /// True after UPTODATE.
    pub(crate) fn serving(&self) -> bool {
        self.stage == Stage::Serving
    }

    /// True for an observer.
    pub(crate) fn is_observer(&self) -> bool {
        self.observer
    }

    /// Closes the connection to the leader.
    pub(crate) fn close(self, out: &mut Vec<Output>) {
        out.push(Output::Disconnect(self.leader));
    }

    /// Reacts to one input.
    pub(crate) fn handle(&mut self, input: Input, ctx: &mut Ctx<'_>) -> Flow {
        match input {
            Input::Tick { .. } => return self.tick(ctx),
            Input::Connected(sid) if sid == self.leader => self.connected(ctx),
            Input::Disconnected(sid) if sid == self.leader => return Flow::Elect,
            Input::Durable(zxid) => {
                ctx.log.made_durable(zxid);
                self.acknowledge(ctx);
            }
            Input::Message {
                from,
                msg: Message::Quorum(p),
            } if from == self.leader => {
                self.heard_ms = ctx.now_ms;
                return self.packet(p, ctx);
            }
            Input::Forward(p) if self.serving() => self.to_leader(p, ctx),
            Input::Sync { token, request } if self.serving() => {
                self.syncs.push_back(token);
                self.to_leader(request, ctx);
            }
            Input::Touch {
                session,
                timeout_ms,
            } => {
                self.touches.insert(session, timeout_ms);
            }
            Input::Revalidate {
                session,
                timeout_ms,
            } if self.serving() => {
                let mut data = session.to_be_bytes().to_vec();
                data.extend_from_slice(&timeout_ms.to_be_bytes());
                ctx.send(self.leader, PacketType::Revalidate, -1, data.into());
            }
            _ => {}
        }
        Flow::Stay
    }

    /// Gives up on a silent leader: `initLimit` until serving, then `syncLimit`.
    fn tick(&mut self, ctx: &mut Ctx<'_>) -> Flow {
        let ticks = if self.serving() {
            ctx.cfg.sync_limit
        } else {
            ctx.cfg.init_limit
        };
        if ctx.now_ms.saturating_sub(self.heard_ms) > ctx.limit_ms(ticks) {
            return Flow::Elect;
        }
        Flow::Stay
    }

    /// The connection is up: register with the leader.
    fn connected(&mut self, ctx: &mut Ctx<'_>) {
        if self.stage != Stage::Connecting {
            return;
        }
        self.stage = Stage::Discovery;
        self.heard_ms = ctx.now_ms;
        let info = LearnerInfo {
            serverid: ctx.cfg.my_id as i64,
            protocol_version: PROTOCOL_VERSION,
            config_version: 0,
        };
        let kind = if self.observer {
            PacketType::ObserverInfo
        } else {
            PacketType::FollowerInfo
        };
        let zxid = make_zxid(ctx.epochs.accepted, 0);
        ctx.send(self.leader, kind, zxid, encode(&info).into());
    }

    /// One packet from the leader.
    fn packet(&mut self, p: Packet, ctx: &mut Ctx<'_>) -> Flow {
        match (p.kind, self.stage) {
            (PacketType::LeaderInfo, Stage::Discovery) => return self.leader_info(p.zxid, ctx),
            (PacketType::Diff, Stage::Syncing) => {
                self.sync_point = p.zxid;
                ctx.log.deliver_upto(p.zxid, ctx.out)
            }
            (PacketType::Trunc, Stage::Syncing) => {
                self.sync_point = p.zxid;
                return self.trunc(p.zxid, ctx);
            }
            (PacketType::Snap, Stage::Syncing) => {
                self.sync_point = p.zxid;
                ctx.log.install_snapshot(p.zxid, p.data, ctx.out)
            }
            (PacketType::NewLeader, Stage::Syncing) => return self.new_leader(p.zxid, ctx),
            (PacketType::UpToDate, Stage::NewLeader) if self.acking => self.up_to_date(ctx),
            (PacketType::Proposal, s) if s >= Stage::Syncing => return self.proposal(p, ctx),
            (PacketType::Commit, s) if s >= Stage::Syncing => ctx.log.deliver_upto(p.zxid, ctx.out),
            (PacketType::Inform, s) if s >= Stage::Syncing && self.observer => {
                return self.inform(p, ctx)
            }
            (PacketType::Ping, s) if s >= Stage::Syncing => self.ping(p.zxid, ctx),
            (PacketType::Sync, Stage::Serving) => {
                if let Some(token) = self.syncs.pop_front() {
                    ctx.out.push(Output::SyncDone(token));
                }
            }
            (PacketType::Revalidate, Stage::Serving) => {
                // {long sessionId, boolean valid}; a short answer is not valid.
                if let Some(session) = p.data.get(..8) {
                    let session = i64::from_be_bytes(session.try_into().expect("8 bytes"));
                    let valid = p.data.get(8).is_some_and(|b| *b != 0);
                    ctx.out.push(Output::Revalidated { session, valid });
                }
            }
            _ => {}
        }
        Flow::Stay
    }

    /// LEADERINFO: accept the new epoch (never one older than accepted).
    fn leader_info(&mut self, zxid: i64, ctx: &mut Ctx<'_>) -> Flow {
        let new_epoch = epoch_of(zxid);
        let previous = match new_epoch.cmp(&ctx.epochs.accepted) {
            std::cmp::Ordering::Less => return Flow::Elect,
            std::cmp::Ordering::Equal => -1,
            std::cmp::Ordering::Greater => {
                let current = ctx.epochs.current;
                ctx.persist_epochs(new_epoch, current);
                current as i32
            }
        };
        self.epoch = new_epoch;
        self.stage = Stage::Syncing;
        let last = ctx.log.sync_from();
        let data = previous.to_be_bytes().to_vec();
        ctx.send(self.leader, PacketType::AckEpoch, last, data.into());
        self.announce(ctx);
        Flow::Stay
    }

    /// TRUNC: cut the divergent tail; what is left is the leader's history.
    /// A cut below what the log can undo (into a snapshot that holds txns
    /// the leader lacks) is refused: the server elects again and asks the
    /// next leader for a snapshot (ZooKeeper exits here instead).
    fn trunc(&mut self, zxid: i64, ctx: &mut Ctx<'_>) -> Flow {
        if zxid < ctx.log.last_logged() {
            if !ctx.log.can_cut_to(zxid) {
                ctx.log.require_snapshot();
                return Flow::Elect;
            }
            ctx.log.truncate(zxid, ctx.out);
        }
        ctx.log.deliver_upto(zxid, ctx.out);
        Flow::Stay
    }

    /// NEWLEADER: the sync data is complete; once everything logged is
    /// durable, adopt the epoch and acknowledge.
    fn new_leader(&mut self, zxid: i64, ctx: &mut Ctx<'_>) -> Flow {
        if epoch_of(zxid) != self.epoch {
            return Flow::Elect;
        }
        self.newleader_zxid = zxid;
        self.stage = Stage::NewLeader;
        self.acknowledge(ctx);
        Flow::Stay
    }

    /// UPTODATE: serve clients.
    fn up_to_date(&mut self, ctx: &mut Ctx<'_>) {
        self.stage = Stage::Serving;
        self.announce(ctx);
    }

    /// PROPOSAL: log it (acknowledged once durable). It must be the next
    /// zxid after the last logged one: anything else means this stream lost
    /// or repeated txns, and logging it would leave a hole that the next
    /// sync (which starts after the last logged zxid) never fills.
    fn proposal(&mut self, p: Packet, ctx: &mut Ctx<'_>) -> Flow {
        if !self.in_order(&p, ctx) {
            return Flow::Elect;
        }
        ctx.log.append(p.zxid, p.data, ctx.out);
        self.acknowledge(ctx);
        Flow::Stay
    }

    /// INFORM (observers): a committed txn to log and apply, in order as
    /// a proposal.
    fn inform(&mut self, p: Packet, ctx: &mut Ctx<'_>) -> Flow {
        let zxid = p.zxid;
        if !self.in_order(&p, ctx) {
            return Flow::Elect;
        }
        ctx.log.append(zxid, p.data, ctx.out);
        ctx.log.deliver_upto(zxid, ctx.out);
        Flow::Stay
    }

    /// True when `p` follows the last logged zxid (and is no newer than the
    /// leader's epoch); otherwise reports the anomaly (the caller drops the
    /// leader and resyncs from its log).
    fn in_order(&self, p: &Packet, ctx: &mut Ctx<'_>) -> bool {
        if ctx.log.is_next(p.zxid) && epoch_of(p.zxid) <= self.epoch {
            return true;
        }
        ctx.out.push(Output::Anomaly(format!(
            "{:?} {:#x} from leader {} does not follow the last logged zxid {:#x}; resyncing",
            p.kind,
            p.zxid,
            self.leader,
            ctx.log.last_logged()
        )));
        false
    }

    /// PING: answer with the sessions touched since the last answer.
    fn ping(&mut self, zxid: i64, ctx: &mut Ctx<'_>) {
        let mut data = Vec::with_capacity(self.touches.len() * 12);
        for (session, timeout_ms) in std::mem::take(&mut self.touches) {
            data.extend_from_slice(&session.to_be_bytes());
            data.extend_from_slice(&timeout_ms.to_be_bytes());
        }
        ctx.send(self.leader, PacketType::Ping, zxid, data.into());
    }

    /// Once the log is durable, persists the new current epoch and sends
    /// the NEWLEADER ACK (the epoch must never be on disk with a log that
    /// lacks the synced txns: a restart would then out-vote servers holding
    /// committed txns — ZOOKEEPER-4643); then (followers) sends an ACK for
    /// each durable proposal not yet acknowledged, in order.
    fn acknowledge(&mut self, ctx: &mut Ctx<'_>) {
        if self.stage < Stage::NewLeader {
            return;
        }
        if !self.acking {
            if !ctx.log.all_durable() {
                return;
            }
            let accepted = ctx.epochs.accepted;
            ctx.persist_epochs(accepted, self.epoch);
            ctx.send(self.leader, PacketType::Ack, self.newleader_zxid, empty());
            self.acking = true;
            self.acked_upto = self.sync_point;
        }
        if self.observer {
            return;
        }
        let durable = ctx.log.durable();
        let mut due: Vec<i64> = ctx
            .log
            .after(self.acked_upto)
            .map(|(z, _)| *z)
            .take_while(|z| *z <= durable)
            .collect();
        // Txns a restart applied are no longer in memory: one ACK of the
        // last durable zxid covers them (the leader counts ACKs as cumulative).
        if durable > self.acked_upto && due.last() != Some(&durable) {
            due.push(durable);
        }
        for zxid in due {
            ctx.send(self.leader, PacketType::Ack, zxid, empty());
        }
        self.acked_upto = self.acked_upto.max(durable);
    }

    /// Sends a REQUEST (or sync) packet to the leader as given.
    fn to_leader(&self, p: Packet, ctx: &mut Ctx<'_>) {
        let msg = Message::Quorum(p);
        ctx.out.push(Output::Send {
            to: self.leader,
            msg,
        });
    }

    /// Reports the role and whether it serves.
    fn announce(&self, ctx: &mut Ctx<'_>) {
        ctx.out.push(Output::Role {
            role: self.role(),
            serving: self.serving(),
        });
    }
}

/// An empty packet payload.
pub(crate) fn empty() -> TxnBytes {
    TxnBytes::from(Vec::new())
}
