//! The leader (ZooKeeper's Leader and LearnerHandler): discovery (a quorum
//! of epochs → LEADERINFO → a quorum of ACKEPOCH), per-learner sync (DIFF,
//! TRUNC, SNAP), establishment on a quorum of NEWLEADER acks, then
//! broadcast: PROPOSAL, a quorum of ACKs, COMMIT / INFORM in zxid order.

use super::learner::{empty, PROTOCOL_VERSION};
use super::{Ctx, Flow, LearnerCounts};
use crate::zab::TxnBytes;
use crate::zab::{epoch_of, make_zxid, Input, Message, Output, Packet, PacketType, Role, Sid};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// The request type of `sync` (OpCode.sync) in a forwarded REQUEST.
const OP_SYNC: i32 = 9;

/// Where a learner is in the leader's handshake, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// FOLLOWERINFO / OBSERVERINFO received; the epoch is not decided yet.
    Info,
    /// LEADERINFO sent.
    EpochSent,
    /// ACKEPOCH received; sync waits for a quorum of them.
    EpochAcked,
    /// Sync data and NEWLEADER sent; the learner gets new proposals.
    Synced,
    /// NEWLEADER acknowledged.
    Acked,
    /// UPTODATE sent.
    UpToDate,
}

/// The leader's view of one learner connection.
#[derive(Debug)]
struct Handle {
    /// True for an observer.
    observer: bool,
    /// The stage of the handshake.
    stage: Stage,
    /// The learner's last logged zxid (from ACKEPOCH).
    last_zxid: i64,
    /// When a packet last came from it.
    heard_ms: u64,
    /// The newest ping round it answered (its PING replies echo the round).
    echoed: u64,
    /// The last txn sent on this connection (PROPOSAL, or INFORM to an
    /// observer), or where its sync began: every txn sent must follow it.
    sent_upto: i64,
}

impl Handle {
    /// Records that the txn `zxid` goes to this learner. A gap here would
    /// leave the learner a hole it reports past at its next sync: the
    /// transport closes a connection rather than drop a packet, and a
    /// closed connection ends this handle, so it cannot happen.
    fn send_txn(&mut self, zxid: i64) {
        assert!(
            crate::zab::follows(self.sent_upto, zxid),
            "txn {zxid:#x} would skip from {:#x} on a learner's connection",
            self.sent_upto
        );
        self.sent_upto = zxid;
    }
}

/// The phases of a leader's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for a quorum of epochs.
    Discovery,
    /// LEADERINFO sent; waiting for a quorum of ACKEPOCH.
    AwaitAckEpoch,
    /// Syncing; waiting for a quorum of NEWLEADER acks.
    AwaitNewLeaderAck,
    /// Established: serving and proposing.
    Established,
}

/// A proposal waiting for its quorum.
#[derive(Debug)]
struct Proposal {
    /// Its zxid.
    zxid: i64,
    /// Its txn (INFORM carries it to observers).
    txn: TxnBytes,
    /// The learners that acknowledged it (the leader's own ack is its log's
    /// durable mark).
    acks: BTreeSet<Sid>,
}

/// Who waits for a sync.
#[derive(Debug, Clone, Copy)]
enum SyncWaiter {
    /// A local client: Output::SyncDone(token).
    Local(u64),
    /// A learner: a SYNC packet.
    Learner(Sid),
}

/// A leader's state.
#[derive(Debug)]
pub(crate) struct Leader {
    /// The start phase.
    phase: Phase,
    /// The new epoch (0 until decided).
    epoch: u32,
    /// When leading started (discovery and sync must end within initLimit).
    started_ms: u64,
    /// Voters whose epoch was heard (with the leader).
    epoch_voters: BTreeSet<Sid>,
    /// The highest accepted epoch heard (the leader's included).
    max_accepted: u32,
    /// Voters that acknowledged the epoch (with the leader).
    epoch_acks: BTreeSet<Sid>,
    /// Voters that acknowledged NEWLEADER.
    newleader_acks: BTreeSet<Sid>,
    /// The leader's (current epoch, last zxid) when it started: a learner
    /// ahead of it makes it give up.
    summary: (i64, i64),
    /// The learner connections.
    learners: BTreeMap<Sid, Handle>,
    /// Proposals not yet committed, in zxid order.
    outstanding: VecDeque<Proposal>,
    /// Syncs waiting, oldest first: each for the commit of the last zxid
    /// proposed when it came, and for a quorum to answer the ping round
    /// started when it came.
    syncs: VecDeque<PendingSync>,
    /// When the next PING round is due.
    next_ping_ms: u64,
    /// The last ping round started. A PING's zxid carries its round (the
    /// learners of both ZooKeeper and Paddock only echo that field back),
    /// so an echo of round `r` proves the learner still followed this
    /// leader after round `r` began.
    ping_round: u64,
}

/// A sync waiting for its answer.
#[derive(Debug)]
struct PendingSync {
    /// Answered once this zxid is committed (the last one proposed when
    /// the sync came, so its reader sees every write ordered before it).
    barrier: i64,
    /// ... and once a quorum answered this ping round or a later one.
    round: u64,
    /// Who waits.
    waiter: SyncWaiter,
}

impl Leader {
    /// Starts leading: discovery begins with the leader's own epoch.
    pub(crate) fn start(ctx: &mut Ctx<'_>) -> Leader {
        let me = ctx.cfg.my_id;
        let mut leader = Leader {
            phase: Phase::Discovery,
            epoch: 0,
            started_ms: ctx.now_ms,
            epoch_voters: BTreeSet::from([me]),
            max_accepted: ctx.epochs.accepted,
            epoch_acks: BTreeSet::new(),
            newleader_acks: BTreeSet::new(),
            summary: (ctx.epochs.current as i64, ctx.log.last_logged()),
            learners: BTreeMap::new(),
            outstanding: VecDeque::new(),
            syncs: VecDeque::new(),
            next_ping_ms: ctx.now_ms,
            ping_round: 0,
        };
        leader.announce(ctx);
        leader.try_decide_epoch(ctx);
        leader
    }

    /// The epoch led (0 until decided).
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }

    /// True once a quorum acknowledged NEWLEADER.
    pub(crate) fn established(&self) -> bool {
        self.phase == Phase::Established
    }

    /// The learner counts for `mntr`.
    pub(crate) fn counts(&self) -> LearnerCounts {
        let followers = self.learners.values().filter(|h| !h.observer);
        LearnerCounts {
            followers: followers.clone().count(),
            synced_followers: followers.filter(|h| h.stage >= Stage::Acked).count(),
            observers: self.learners.values().filter(|h| h.observer).count(),
            pending_syncs: self
                .syncs
                .iter()
                .filter(|s| matches!(s.waiter, SyncWaiter::Learner(_)))
                .count(),
        }
    }

    /// Closes every learner connection.
    pub(crate) fn close(self, out: &mut Vec<Output>) {
        for sid in self.learners.keys() {
            out.push(Output::Disconnect(*sid));
        }
    }

    /// Reacts to one input.
    pub(crate) fn handle(&mut self, input: Input, ctx: &mut Ctx<'_>) -> Flow {
        match input {
            Input::Tick { .. } => return self.tick(ctx),
            Input::Message {
                from,
                msg: Message::Quorum(p),
            } => return self.packet(from, p, ctx),
            Input::Disconnected(sid) => {
                self.forget(sid);
            }
            Input::Durable(zxid) => {
                ctx.log.made_durable(zxid);
                self.try_end_discovery(ctx);
                self.try_establish(ctx);
                self.try_commit(ctx);
            }
            Input::Propose { zxid, txn } => self.propose(zxid, txn, ctx),
            Input::Sync { token, .. } if self.established() => {
                self.sync_after_outstanding(SyncWaiter::Local(token), ctx)
            }
            Input::Revalidated { to, session, valid } if self.learners.contains_key(&to) => {
                let mut data = session.to_be_bytes().to_vec();
                data.push(u8::from(valid));
                ctx.send(to, PacketType::Revalidate, -1, data.into());
            }
            _ => {}
        }
        Flow::Stay
    }

    /// Time: give up a start that takes longer than initLimit, drop silent
    /// learners, step down without a quorum of synced followers, ping.
    fn tick(&mut self, ctx: &mut Ctx<'_>) -> Flow {
        let now = ctx.now_ms;
        if !self.established() && now - self.started_ms > ctx.limit_ms(ctx.cfg.init_limit) {
            return Flow::Elect;
        }
        let (sync_ms, init_ms) = (
            ctx.limit_ms(ctx.cfg.sync_limit),
            ctx.limit_ms(ctx.cfg.init_limit),
        );
        let silent: Vec<Sid> = self
            .learners
            .iter()
            .filter(|(_, h)| {
                let limit = if h.stage >= Stage::Acked {
                    sync_ms
                } else {
                    init_ms
                };
                now.saturating_sub(h.heard_ms) > limit
            })
            .map(|(s, _)| *s)
            .collect();
        for sid in silent {
            self.forget(sid);
            ctx.out.push(Output::Disconnect(sid));
        }
        if self.established() && !self.synced_quorum(ctx) {
            return Flow::Elect;
        }
        if now >= self.next_ping_ms {
            self.ping(ctx);
        }
        Flow::Stay
    }

    /// Starts a ping round: a PING carrying the round number to every
    /// learner past sync. Returns the round.
    fn ping(&mut self, ctx: &mut Ctx<'_>) -> u64 {
        self.next_ping_ms = ctx.now_ms + ctx.cfg.tick_ms;
        self.ping_round += 1;
        let round = self.ping_round as i64;
        for sid in self.receivers(|_| true) {
            ctx.send(sid, PacketType::Ping, round, empty());
        }
        self.ping_round
    }

    /// The followers that acknowledged NEWLEADER.
    pub(crate) fn synced_learners(&self) -> impl Iterator<Item = Sid> + '_ {
        self.learners
            .iter()
            .filter(|(_, h)| !h.observer && h.stage >= Stage::Acked)
            .map(|(s, _)| *s)
    }

    /// True when the leader and the followers that acknowledged NEWLEADER
    /// are a quorum.
    fn synced_quorum(&self, ctx: &Ctx<'_>) -> bool {
        let synced = self
            .learners
            .iter()
            .filter(|(_, h)| !h.observer && h.stage >= Stage::Acked)
            .map(|(s, _)| s);
        ctx.membership()
            .is_quorum(synced.chain(std::iter::once(&ctx.cfg.my_id)))
    }

    /// One packet from a learner.
    fn packet(&mut self, from: Sid, p: Packet, ctx: &mut Ctx<'_>) -> Flow {
        if matches!(p.kind, PacketType::FollowerInfo | PacketType::ObserverInfo) {
            self.info(from, &p, ctx);
            return Flow::Stay;
        }
        let Some(h) = self.learners.get_mut(&from) else {
            ctx.out.push(Output::Disconnect(from));
            return Flow::Stay;
        };
        h.heard_ms = ctx.now_ms;
        match p.kind {
            PacketType::AckEpoch => return self.ack_epoch(from, &p, ctx),
            PacketType::Ack => self.ack(from, p.zxid, ctx),
            PacketType::Ping => {
                h.echoed = h.echoed.max(u64::try_from(p.zxid).unwrap_or(0));
                touches(&p.data, ctx);
                self.finish_syncs(ctx);
            }
            PacketType::Request => self.request(from, p, ctx),
            PacketType::Revalidate if self.established() => revalidate(from, &p.data, ctx),
            _ => {}
        }
        Flow::Stay
    }

    /// FOLLOWERINFO / OBSERVERINFO: a learner registers with its accepted epoch.
    fn info(&mut self, from: Sid, p: &Packet, ctx: &mut Ctx<'_>) {
        let observer = p.kind == PacketType::ObserverInfo;
        let members = if observer {
            &ctx.membership().observers
        } else {
            &ctx.membership().voters
        };
        // A server outside the membership may sync (to be added by a reconfig);
        // its acknowledgements count in no quorum until it is a voter.
        let stranger =
            !ctx.membership().voters.contains(&from) && !ctx.membership().observers.contains(&from);
        if !members.contains(&from) && !stranger {
            ctx.out.push(Output::Disconnect(from));
            return;
        }
        let handle = Handle {
            observer,
            stage: Stage::Info,
            last_zxid: 0,
            heard_ms: ctx.now_ms,
            echoed: 0,
            sent_upto: 0,
        };
        self.forget(from);
        self.learners.insert(from, handle);
        if self.phase == Phase::Discovery {
            self.max_accepted = self.max_accepted.max(epoch_of(p.zxid));
            if !observer {
                self.epoch_voters.insert(from);
            }
            self.try_decide_epoch(ctx);
        } else {
            self.send_leader_info(from, ctx);
        }
    }

    /// With a quorum of epochs: the new epoch is one past the highest
    /// accepted; it is persisted as accepted and offered by LEADERINFO.
    fn try_decide_epoch(&mut self, ctx: &mut Ctx<'_>) {
        if self.phase != Phase::Discovery || !ctx.membership().is_quorum(&self.epoch_voters) {
            return;
        }
        self.epoch = self.max_accepted + 1;
        let current = ctx.epochs.current;
        ctx.persist_epochs(self.epoch, current);
        self.phase = Phase::AwaitAckEpoch;
        self.epoch_acks = BTreeSet::from([ctx.cfg.my_id]);
        self.announce(ctx);
        let waiting: Vec<Sid> = self.learners.keys().copied().collect();
        for sid in waiting {
            self.send_leader_info(sid, ctx);
        }
        self.try_end_discovery(ctx);
    }

    /// Sends LEADERINFO to one learner.
    fn send_leader_info(&mut self, to: Sid, ctx: &mut Ctx<'_>) {
        if let Some(h) = self.learners.get_mut(&to) {
            h.stage = Stage::EpochSent;
            let data = PROTOCOL_VERSION.to_be_bytes().to_vec();
            ctx.send(
                to,
                PacketType::LeaderInfo,
                make_zxid(self.epoch, 0),
                data.into(),
            );
        }
    }

    /// ACKEPOCH: before the quorum, a learner ahead of the leader ends its
    /// leadership; after it, the learner is synced at once.
    fn ack_epoch(&mut self, from: Sid, p: &Packet, ctx: &mut Ctx<'_>) -> Flow {
        let Some(h) = self.learners.get_mut(&from) else {
            return Flow::Stay;
        };
        if h.stage != Stage::EpochSent {
            return Flow::Stay;
        }
        h.stage = Stage::EpochAcked;
        h.last_zxid = p.zxid;
        let observer = h.observer;
        if self.phase == Phase::AwaitAckEpoch {
            let current = read_i32(&p.data).unwrap_or(-1) as i64;
            if current != -1 && (current, p.zxid) > self.summary {
                return Flow::Elect;
            }
            if !observer {
                self.epoch_acks.insert(from);
            }
            self.try_end_discovery(ctx);
        } else {
            self.sync(from, ctx);
        }
        Flow::Stay
    }

    /// With a quorum of ACKEPOCH and its own log durable (the epoch must
    /// never be on disk with a log missing txns it voted with): the epoch
    /// becomes current and every learner that acknowledged it is synced.
    fn try_end_discovery(&mut self, ctx: &mut Ctx<'_>) {
        if self.phase != Phase::AwaitAckEpoch
            || !ctx.log.all_durable()
            || !ctx.membership().is_quorum(&self.epoch_acks)
        {
            return;
        }
        ctx.persist_epochs(self.epoch, self.epoch);
        self.phase = Phase::AwaitNewLeaderAck;
        let ready: Vec<Sid> = self
            .learners
            .iter()
            .filter(|(_, h)| h.stage == Stage::EpochAcked)
            .map(|(s, _)| *s)
            .collect();
        for sid in ready {
            self.sync(sid, ctx);
        }
        self.try_establish(ctx);
    }

    /// The zxid up to which everything logged is committed: all of the log
    /// until established (a new leader's history is adopted whole).
    fn committed(&self, ctx: &Ctx<'_>) -> i64 {
        if self.established() {
            ctx.log.delivered()
        } else {
            ctx.log.last_logged()
        }
    }

    /// Syncs one learner (LearnerHandler.syncFollower): DIFF, TRUNC (+ the
    /// txns after the cut) or SNAP, then the txns it lacks, then NEWLEADER.
    /// From here it receives new proposals (followers) or INFORMs (observers).
    fn sync(&mut self, to: Sid, ctx: &mut Ctx<'_>) {
        let Some(h) = self.learners.get_mut(&to) else {
            return;
        };
        h.stage = Stage::Synced;
        let observer = h.observer;
        let peer_last = h.last_zxid;
        let committed = self.committed(ctx);
        let base = send_sync_header(to, peer_last, committed, ctx);
        let h = self.learners.get_mut(&to).expect("checked above");
        h.sent_upto = base;
        let mut packets = Vec::new();
        for (zxid, txn) in ctx.log.after(base) {
            if *zxid <= committed || !observer {
                h.send_txn(*zxid);
                packets.push((PacketType::Proposal, *zxid, txn.clone()));
            }
            if *zxid <= committed {
                packets.push((PacketType::Commit, *zxid, empty()));
            }
        }
        for (kind, zxid, data) in packets {
            ctx.send(to, kind, zxid, data);
        }
        let config: TxnBytes = ctx.cfg.config_text.clone().into();
        ctx.send(to, PacketType::NewLeader, make_zxid(self.epoch, 0), config);
    }

    /// ACK: of NEWLEADER (the learner is synced) or of a proposal.
    fn ack(&mut self, from: Sid, zxid: i64, ctx: &mut Ctx<'_>) {
        let Some(h) = self.learners.get_mut(&from) else {
            return;
        };
        if zxid == make_zxid(self.epoch, 0) && h.stage == Stage::Synced {
            h.stage = Stage::Acked;
            if !h.observer {
                self.newleader_acks.insert(from);
            }
            if self.established() {
                self.send_up_to_date(from, ctx);
            } else {
                self.try_establish(ctx);
            }
            return;
        }
        if h.observer || h.stage < Stage::Acked {
            return;
        }
        // A follower acknowledges in log order once durable, so an ACK
        // covers every earlier outstanding proposal too.
        for p in self.outstanding.iter_mut().take_while(|p| p.zxid <= zxid) {
            p.acks.insert(from);
        }
        self.try_commit(ctx);
    }

    /// With a quorum of NEWLEADER acks (the leader's own once its log is
    /// durable): established; its log is committed and delivered, and the
    /// synced learners get UPTODATE.
    fn try_establish(&mut self, ctx: &mut Ctx<'_>) {
        if self.phase != Phase::AwaitNewLeaderAck || !ctx.log.all_durable() {
            return;
        }
        let acks = self
            .newleader_acks
            .iter()
            .chain(std::iter::once(&ctx.cfg.my_id));
        if !ctx.membership().is_quorum(acks) {
            return;
        }
        self.phase = Phase::Established;
        let last = ctx.log.last_logged();
        ctx.log.deliver_upto(last, ctx.out);
        self.announce(ctx);
        let acked: Vec<Sid> = self
            .learners
            .iter()
            .filter(|(_, h)| h.stage == Stage::Acked)
            .map(|(s, _)| *s)
            .collect();
        for sid in acked {
            self.send_up_to_date(sid, ctx);
        }
    }

    /// Sends UPTODATE to one learner.
    fn send_up_to_date(&mut self, to: Sid, ctx: &mut Ctx<'_>) {
        if let Some(h) = self.learners.get_mut(&to) {
            h.stage = Stage::UpToDate;
            ctx.send(to, PacketType::UpToDate, -1, empty());
        }
    }

    /// A client write to replicate: log it and send it to the followers.
    fn propose(&mut self, zxid: i64, txn: TxnBytes, ctx: &mut Ctx<'_>) {
        if !self.established() {
            return;
        }
        assert_eq!(
            epoch_of(zxid),
            self.epoch,
            "proposal {zxid:#x} outside epoch"
        );
        ctx.log.append(zxid, txn.clone(), ctx.out);
        for sid in self.receivers(|h| !h.observer) {
            self.learners
                .get_mut(&sid)
                .expect("a receiver")
                .send_txn(zxid);
            ctx.send(sid, PacketType::Proposal, zxid, txn.clone());
        }
        self.outstanding.push_back(Proposal {
            zxid,
            txn,
            acks: BTreeSet::new(),
        });
        self.try_commit(ctx);
    }

    /// Commits, strictly in zxid order, every leading proposal acknowledged
    /// by a quorum (the leader's ack: its durable log).
    fn try_commit(&mut self, ctx: &mut Ctx<'_>) {
        if !self.established() {
            return;
        }
        while let Some(p) = self.outstanding.front() {
            let mine = (p.zxid <= ctx.log.durable()).then_some(&ctx.cfg.my_id);
            if !ctx.membership().is_quorum(p.acks.iter().chain(mine)) {
                break;
            }
            let p = self.outstanding.pop_front().expect("front exists");
            self.commit(p, ctx);
        }
    }

    /// COMMIT to followers, INFORM to observers, deliver, end due syncs.
    fn commit(&mut self, p: Proposal, ctx: &mut Ctx<'_>) {
        for sid in self.receivers(|_| true) {
            let h = self.learners.get_mut(&sid).expect("a receiver");
            if h.observer {
                h.send_txn(p.zxid);
                ctx.send(sid, PacketType::Inform, p.zxid, p.txn.clone());
            } else {
                ctx.send(sid, PacketType::Commit, p.zxid, empty());
            }
        }
        ctx.log.deliver_upto(p.zxid, ctx.out);
        self.finish_syncs(ctx);
    }

    /// A forwarded request: `sync` waits for the outstanding proposals;
    /// anything else goes to the shell.
    fn request(&mut self, from: Sid, packet: Packet, ctx: &mut Ctx<'_>) {
        let op = packet.data.get(12..16).and_then(read_i32);
        if op == Some(OP_SYNC) {
            if self.established() {
                self.sync_after_outstanding(SyncWaiter::Learner(from), ctx);
            }
        } else {
            ctx.out.push(Output::Request { from, packet });
        }
    }

    /// Ends a sync once the last proposal so far commits and a quorum
    /// answered a ping round started now. The round is what makes `sync`
    /// then read linearizable: a leader cut off (or paused) while a new
    /// one took over would otherwise answer from its stale tree
    /// (ZOOKEEPER-1675); a quorum that still follows it after the sync came
    /// cannot have elected anyone else before that moment.
    fn sync_after_outstanding(&mut self, waiter: SyncWaiter, ctx: &mut Ctx<'_>) {
        let barrier = self.outstanding.back().map_or(i64::MIN, |p| p.zxid);
        let round = self.ping(ctx);
        self.syncs.push_back(PendingSync {
            barrier,
            round,
            waiter,
        });
        self.finish_syncs(ctx);
    }

    /// Answers, oldest first, the syncs whose barrier is committed and
    /// whose ping round a quorum answered (both only grow along the queue).
    fn finish_syncs(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(s) = self.syncs.front() {
            if s.barrier > ctx.log.delivered() || !self.answered_by_quorum(s.round, ctx) {
                break;
            }
            let s = self.syncs.pop_front().expect("front exists");
            finish_sync(s.waiter, ctx);
        }
    }

    /// True when the leader and the synced followers that echoed ping
    /// round `round` (or a later one) are a quorum.
    fn answered_by_quorum(&self, round: u64, ctx: &Ctx<'_>) -> bool {
        let answered = self
            .learners
            .iter()
            .filter(|(_, h)| !h.observer && h.stage >= Stage::Acked && h.echoed >= round)
            .map(|(s, _)| s);
        ctx.membership()
            .is_quorum(answered.chain(std::iter::once(&ctx.cfg.my_id)))
    }

    /// Drops a learner's connection state and its pending syncs (a SYNC on
    /// a later connection would answer the wrong request).
    fn forget(&mut self, sid: Sid) {
        self.learners.remove(&sid);
        self.syncs
            .retain(|s| !matches!(s.waiter, SyncWaiter::Learner(l) if l == sid));
    }

    /// The learners past sync that `keep` selects.
    fn receivers(&self, keep: impl Fn(&Handle) -> bool) -> Vec<Sid> {
        self.learners
            .iter()
            .filter(|(_, h)| h.stage >= Stage::Synced && keep(h))
            .map(|(s, _)| *s)
            .collect()
    }

    /// Reports the role and whether it serves.
    fn announce(&self, ctx: &mut Ctx<'_>) {
        ctx.out.push(Output::Role {
            role: Role::Leading { epoch: self.epoch },
            serving: self.established(),
        });
    }
}

/// Sends the sync header for a learner whose log ends at `peer_last` and
/// returns the zxid after which it needs the leader's txns.
fn send_sync_header(to: Sid, peer_last: i64, committed: i64, ctx: &mut Ctx<'_>) -> i64 {
    let last = ctx.log.last_logged();
    let in_window = ctx.log.first().is_some_and(|first| peer_last >= first);
    if peer_last == last || (in_window && peer_last < last && ctx.log.contains(peer_last)) {
        ctx.send(to, PacketType::Diff, committed, empty());
        peer_last
    } else if peer_last > last {
        ctx.send(to, PacketType::Trunc, last, empty());
        last
    } else if in_window {
        let cut = ctx
            .log
            .newest_below(peer_last)
            .expect("window starts below");
        ctx.send(to, PacketType::Trunc, cut, empty());
        cut
    } else {
        let zxid = ctx.log.delivered();
        ctx.out.push(Output::SendSnapshot { to, zxid });
        zxid
    }
}

/// Answers one sync waiter.
fn finish_sync(waiter: SyncWaiter, ctx: &mut Ctx<'_>) {
    match waiter {
        SyncWaiter::Local(token) => ctx.out.push(Output::SyncDone(token)),
        SyncWaiter::Learner(sid) => ctx.send(sid, PacketType::Sync, 0, empty()),
    }
}

/// A PING reply's session touches: {long session, int timeout}*.
fn touches(data: &[u8], ctx: &mut Ctx<'_>) {
    let list: Vec<(i64, i32)> = data
        .chunks_exact(12)
        .map(|c| {
            let session = i64::from_be_bytes(c[..8].try_into().expect("8 bytes"));
            (session, read_i32(&c[8..]).expect("4 bytes"))
        })
        .collect();
    if !list.is_empty() {
        ctx.out.push(Output::Touches(list));
    }
}

/// REVALIDATE from a learner: {long sessionId, int timeout}; the shell
/// decides (a short packet is ignored: the learner's client times out).
fn revalidate(from: Sid, data: &[u8], ctx: &mut Ctx<'_>) {
    let (Some(session), Some(timeout_ms)) = (data.get(..8), data.get(8..).and_then(read_i32))
    else {
        return;
    };
    let session = i64::from_be_bytes(session.try_into().expect("8 bytes"));
    ctx.out.push(Output::Revalidate {
        from,
        session,
        timeout_ms,
    });
}

/// A big-endian int at the start of `b`.
fn read_i32(b: &[u8]) -> Option<i32> {
    Some(i32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}
