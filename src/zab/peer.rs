//! `Peer`: one server's ZAB state machine. It elects (via [`Election`]),
//! then leads (`leader`), follows or observes (`learner`); every change
//! comes through [`Peer::handle`] and every effect leaves as an [`Output`].
//!
//! # What the shell must provide
//! - Inputs in the order they happened; `Durable(z)` only for records
//!   appended (and not truncated) before, never ahead of the log.
//! - `Output::PersistEpochs` and `Output::InstallSnapshot` durable before
//!   any later output is carried out (a snapshot makes the log start after
//!   it; later `Durable` reports count from there).
//! - On the leader, `Input::Disconnected(sid)` only for the learner's
//!   current connection: a learner that reconnects sends FOLLOWERINFO again,
//!   which replaces its old state, and a late report for the replaced
//!   connection would drop the new one.
//! - `Input::Sync` waiting on a learner that stops serving is dropped without
//!   `SyncDone` (its clients are disconnected with the role change).
//!
//! # Guarantees
//! - ACK (proposal or NEWLEADER) only for durable records; `currentEpoch`
//!   is persisted only with a durable log (ZOOKEEPER-4643).
//! - `Deliver` in zxid order, each zxid once per state machine (a
//!   `Truncate` below the delivered mark means the shell rebuilds from disk,
//!   and delivery resumes after the cut).
//! - A leader proposes only once established (`can_propose`) and commits in
//!   zxid order on a quorum of durable ACKs, its own included.

mod leader;
mod learner;
mod log;
mod reconfig;

use super::election::{Election, Step};
use super::{
    Input, Membership, Message, Output, Packet, PacketType, PeerConfig, Persisted, Role,
    ServerState, Sid, TxnBytes, Vote,
};
use leader::Leader;
use learner::Learner;
use log::Log;

/// The leader's view of its learners, for `mntr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LearnerCounts {
    /// Followers connected (any stage).
    pub followers: usize,
    /// Followers that acknowledged NEWLEADER (synced).
    pub synced_followers: usize,
    /// Observers connected (any stage).
    pub observers: usize,
    /// Forwarded `sync` requests waiting for their commit.
    pub pending_syncs: usize,
}

/// The epochs on disk (files `acceptedEpoch`, `currentEpoch`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Epochs {
    /// The highest epoch accepted from a LEADERINFO (or proposed as leader).
    pub(crate) accepted: u32,
    /// The epoch of the last leader synced with.
    pub(crate) current: u32,
}

/// What a role's handler may touch: everything of the peer but the role.
pub(crate) struct Ctx<'a> {
    /// The fixed settings.
    pub(crate) cfg: &'a PeerConfig,
    /// The log and its marks.
    pub(crate) log: &'a mut Log,
    /// The persisted epochs.
    pub(crate) epochs: &'a mut Epochs,
    /// The time of the input being handled.
    pub(crate) now_ms: u64,
    /// Where effects go.
    pub(crate) out: &'a mut Vec<Output>,
}

impl Ctx<'_> {
    /// Sends a quorum packet.
    pub(crate) fn send(&mut self, to: Sid, kind: PacketType, zxid: i64, data: TxnBytes) {
        let msg = Message::Quorum(Packet {
            kind,
            zxid,
            data,
            auth: Vec::new(),
        });
        self.out.push(Output::Send { to, msg });
    }

    /// Writes new epochs (durable before any later output).
    pub(crate) fn persist_epochs(&mut self, accepted: u32, current: u32) {
        assert!(accepted >= self.epochs.accepted && current >= self.epochs.current);
        *self.epochs = Epochs { accepted, current };
        self.out.push(Output::PersistEpochs { accepted, current });
    }

    /// `syncLimit` or `initLimit` ticks, in ms.
    pub(crate) fn limit_ms(&self, ticks: u32) -> u64 {
        ticks as u64 * self.cfg.tick_ms
    }

    /// The membership.
    pub(crate) fn membership(&self) -> &Membership {
        &self.cfg.membership
    }
}

/// Whether a role goes on after an input, or ends (back to LOOKING).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    /// The role continues.
    Stay,
    /// The role is over; elect again.
    Elect,
}

/// The role's own state.
#[derive(Debug)]
enum State {
    /// Not started: the first Tick starts the election.
    Idle,
    /// Electing.
    Looking,
    /// Leading (discovery, sync, broadcast).
    Leading(Leader),
    /// Following or observing.
    Learning(Learner),
}

/// One server's replication state machine (see the module doc of `zab`).
#[derive(Debug)]
pub struct Peer {
    /// The fixed settings.
    cfg: PeerConfig,
    /// The persisted epochs.
    epochs: Epochs,
    /// The log's in-memory window and marks.
    log: Log,
    /// FastLeaderElection, kept across rounds (its logical clock persists
    /// in memory as in ZooKeeper).
    election: Election,
    /// The role.
    state: State,
    /// Learners' FOLLOWERINFO / OBSERVERINFO that arrived while LOOKING
    /// (one per sid, the latest): a learner may decide for this server
    /// before this server decides for itself. Handed to the leader if this
    /// server goes on to lead, their connections closed otherwise.
    held_infos: Vec<(Sid, Packet)>,
    /// The time of the last input.
    now_ms: u64,
}

impl Peer {
    /// A peer starting LOOKING from what was on disk; the first Tick starts
    /// the election.
    pub fn new(config: PeerConfig, persisted: Persisted) -> Peer {
        let log = Log::recovered(persisted.last_zxid, persisted.recent, config.log_window);
        let election = Election::new(
            config.my_id,
            config.membership.clone(),
            config.config_text.clone(),
        );
        Peer {
            epochs: Epochs {
                accepted: persisted.accepted_epoch,
                current: persisted.current_epoch,
            },
            cfg: config,
            log,
            election,
            state: State::Idle,
            held_infos: Vec::new(),
            now_ms: 0,
        }
    }

    /// Reacts to one input; the outputs are appended to `out` in the order
    /// they must be carried out.
    pub fn handle(&mut self, input: Input, out: &mut Vec<Output>) {
        if let Input::Tick { now_ms } = input {
            self.now_ms = self.now_ms.max(now_ms);
        }
        if matches!(self.state, State::Idle) {
            if let Input::Tick { .. } = input {
                self.start_election(out);
            }
            return;
        }
        match input {
            Input::Message {
                from,
                msg: Message::Vote(n),
            } => self.on_notification(from, &n, out),
            input => self.role_input(input, out),
        }
    }

    /// The current role.
    pub fn role(&self) -> Role {
        match &self.state {
            State::Idle | State::Looking => Role::Looking,
            State::Leading(l) => Role::Leading { epoch: l.epoch() },
            State::Learning(l) => l.role(),
        }
    }

    /// True when clients may be served: a leader with a synced quorum, a
    /// learner after UPTODATE.
    pub fn serving(&self) -> bool {
        match &self.state {
            State::Leading(l) => l.established(),
            State::Learning(l) => l.serving(),
            _ => false,
        }
    }

    /// True when [`Input::Propose`] is accepted: an established leader.
    pub fn can_propose(&self) -> bool {
        matches!(&self.state, State::Leading(l) if l.established())
    }

    /// The current epoch (file `currentEpoch`): the epoch of the last leader
    /// this server synced with or established.
    pub fn epoch(&self) -> u32 {
        self.epochs.current
    }

    /// The last logged zxid.
    pub fn last_logged(&self) -> i64 {
        self.log.last_logged()
    }

    /// The last zxid delivered to the state machine.
    pub fn last_committed(&self) -> i64 {
        self.log.delivered()
    }

    /// The leader's learners (all zero on other roles).
    pub fn learner_counts(&self) -> LearnerCounts {
        match &self.state {
            State::Leading(l) => l.counts(),
            _ => LearnerCounts::default(),
        }
    }

    /// The vote this server holds: its proposal while LOOKING, the elected
    /// leader's afterwards.
    pub fn current_vote(&self) -> Vote {
        self.election.proposal()
    }

    /// Routes a non-election input to the role.
    fn role_input(&mut self, input: Input, out: &mut Vec<Output>) {
        if matches!(self.state, State::Looking) {
            return self.looking_input(input, out);
        }
        let mut ctx = Ctx {
            cfg: &self.cfg,
            log: &mut self.log,
            epochs: &mut self.epochs,
            now_ms: self.now_ms,
            out,
        };
        let flow = match &mut self.state {
            State::Leading(l) => l.handle(input, &mut ctx),
            State::Learning(l) => l.handle(input, &mut ctx),
            State::Idle | State::Looking => Flow::Stay,
        };
        if flow == Flow::Elect {
            self.start_election(out);
        }
    }

    /// A non-election input while LOOKING: time drives the election; a
    /// learner's registration waits for the outcome (ZooKeeper's learner
    /// keeps dialing a leader that has not started leading yet); other
    /// quorum traffic is refused (there is no leader and no learner).
    fn looking_input(&mut self, input: Input, out: &mut Vec<Output>) {
        match input {
            Input::Tick { now_ms } => {
                let step = self.election.tick(now_ms);
                self.election_step(step, out);
            }
            Input::Message {
                from,
                msg: Message::Quorum(p),
            } if matches!(p.kind, PacketType::FollowerInfo | PacketType::ObserverInfo) => {
                self.held_infos.retain(|(sid, _)| *sid != from);
                self.held_infos.push((from, p));
            }
            Input::Message { from, .. } => out.push(Output::Disconnect(from)),
            Input::Disconnected(sid) => self.held_infos.retain(|(s, _)| *s != sid),
            Input::Durable(zxid) => self.log.made_durable(zxid),
            _ => {}
        }
    }

    /// An election notification: counted while LOOKING, answered otherwise.
    fn on_notification(&mut self, from: Sid, n: &super::Notification, out: &mut Vec<Output>) {
        let state = match &self.state {
            State::Looking => {
                let step = self.election.receive(from, n, self.now_ms);
                return self.election_step(step, out);
            }
            State::Leading(_) => ServerState::Leading,
            State::Learning(l) if l.is_observer() => ServerState::Observing,
            State::Learning(_) => ServerState::Following,
            State::Idle => return,
        };
        if n.state == ServerState::Looking {
            let mut reply = self.election.notification(state);
            if let Some((leader, epoch)) = self.settled_leadership() {
                reply.vote.leader = leader;
                reply.vote.peer_epoch = epoch as i64;
            }
            let msg = Message::Vote(reply);
            out.push(Output::Send { to: from, msg });
        }
    }

    /// The leader and epoch this server settled into (it leads, or a
    /// leader's LEADERINFO named the epoch), reported to LOOKING servers in
    /// place of the vote it decided with: the same on every member of one
    /// leadership however each came to it, so a late server finds a quorum
    /// agreeing (the election's `same_leadership`).
    fn settled_leadership(&self) -> Option<(Sid, u32)> {
        match self.role() {
            Role::Leading { epoch } if epoch > 0 => Some((self.cfg.my_id, epoch)),
            Role::Following { leader, epoch } | Role::Observing { leader, epoch } if epoch > 0 => {
                Some((leader, epoch))
            }
            _ => None,
        }
    }

    /// Becomes LOOKING and starts a round proposing itself.
    fn start_election(&mut self, out: &mut Vec<Output>) {
        self.leave_role(out);
        self.state = State::Looking;
        out.push(Output::Role {
            role: Role::Looking,
            serving: false,
        });
        let init = self
            .election
            .initial_vote(self.log.last_logged(), self.epochs.current);
        let step = self.election.start(init, self.now_ms);
        self.election_step(step, out);
    }

    /// Sends an election step's notifications and acts on its decision.
    fn election_step(&mut self, step: Step, out: &mut Vec<Output>) {
        for (to, n) in step.sends {
            out.push(Output::Send {
                to,
                msg: Message::Vote(n),
            });
        }
        if let Some(vote) = step.decided {
            self.on_decided(vote, out);
        }
    }

    /// The election ended on `vote`: lead, follow or observe.
    fn on_decided(&mut self, vote: Vote, out: &mut Vec<Output>) {
        let mut ctx = Ctx {
            cfg: &self.cfg,
            log: &mut self.log,
            epochs: &mut self.epochs,
            now_ms: self.now_ms,
            out,
        };
        let held = std::mem::take(&mut self.held_infos);
        if vote.leader == self.cfg.my_id {
            let mut leader = Leader::start(&mut ctx);
            for (from, p) in held {
                let input = Input::Message {
                    from,
                    msg: Message::Quorum(p),
                };
                let flow = leader.handle(input, &mut ctx);
                debug_assert_eq!(flow, Flow::Stay, "a registration cannot end leading");
            }
            self.state = State::Leading(leader);
        } else {
            for (from, _) in held {
                ctx.out.push(Output::Disconnect(from));
            }
            let observer = !self.cfg.membership.voters.contains(&self.cfg.my_id);
            self.state = State::Learning(Learner::start(vote.leader, observer, &mut ctx));
        }
    }

    /// Closes the quorum connections of the role being left.
    fn leave_role(&mut self, out: &mut Vec<Output>) {
        match std::mem::replace(&mut self.state, State::Looking) {
            State::Leading(l) => l.close(out),
            State::Learning(l) => l.close(out),
            State::Idle | State::Looking => {}
        }
    }
}

#[cfg(test)]
mod tests;
