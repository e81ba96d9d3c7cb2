//! FastLeaderElection, sans-IO: rounds (the logical clock), the total order
//! of votes, notifications broadcast to the voters and re-sent with a doubling
//! timeout, a quorum of matching votes followed by `finalizeWait`, and the
//! "out of election" path by which a server joins a leader that is already
//! established.
//!
//! [`Election`] only runs while its server is LOOKING; the `Peer` answers
//! notifications itself once it follows, leads or observes.

use super::{Membership, Notification, ServerState, Sid, Vote};
use std::collections::BTreeMap;

/// How long a quorum of matching votes must stand unbeaten before the
/// election ends (ZooKeeper's `finalizeWait`).
pub const FINALIZE_WAIT_MS: u64 = 200;
/// The first re-send interval of notifications when none arrive.
pub const NOTIFICATION_TIMEOUT_START_MS: u64 = 200;
/// The cap of the doubling re-send interval.
pub const NOTIFICATION_TIMEOUT_MAX_MS: u64 = 60_000;

/// True when `new` beats `cur` in FastLeaderElection's total order: higher
/// peer epoch, then higher zxid, then higher server id.
pub fn beats(new: &Vote, cur: &Vote) -> bool {
    (new.peer_epoch, new.zxid, new.leader) > (cur.peer_epoch, cur.zxid, cur.leader)
}

/// True when two votes name the same leader with the same facts (the
/// election epoch is compared by the caller where it matters).
fn same_candidate(a: &Vote, b: &Vote) -> bool {
    a.leader == b.leader && a.zxid == b.zxid && a.peer_epoch == b.peer_epoch
}

/// True when two servers out of the election report the same leadership:
/// the same leader in the same epoch (ZooKeeper's Vote.equals between two
/// non-LOOKING votes ignores the zxid and round, which differ between
/// servers that joined the leader at different times).
fn same_leadership(a: &Vote, b: &Vote) -> bool {
    a.leader == b.leader && a.peer_epoch == b.peer_epoch
}

/// One server's FastLeaderElection state across rounds.
#[derive(Debug, Clone)]
pub struct Election {
    /// This server.
    my_id: Sid,
    /// Who votes (only voters' votes count, only voters can be elected).
    membership: Membership,
    /// Sent in every notification.
    config_text: Vec<u8>,
    /// The current round; raised to any higher round heard.
    logical_clock: i64,
    /// The vote this server currently proposes.
    proposal: Vote,
    /// The vote this server started the round with (itself), taken up
    /// again when a higher round begins.
    own: Vote,
    /// Votes of this round, by sender (LOOKING senders, and FOLLOWING /
    /// LEADING senders of the same round).
    received: BTreeMap<Sid, Vote>,
    /// Votes of servers that already follow or lead, with their state: how
    /// a late server finds an established leader.
    out_of_election: BTreeMap<Sid, (ServerState, Vote)>,
    /// The current re-send interval (doubles while nothing arrives).
    timeout_ms: u64,
    /// When notifications are re-sent unless one arrives first.
    resend_at_ms: u64,
    /// Set while a quorum agrees with `proposal`: when the election ends.
    finalize_at_ms: Option<u64>,
}

/// What an election step asks of its server.
#[derive(Debug, Default)]
pub struct Step {
    /// Notifications to send, in order.
    pub sends: Vec<(Sid, Notification)>,
    /// The elected leader's vote, when the election has ended.
    pub decided: Option<Vote>,
}

impl Election {
    /// An election that has not run yet (round 0).
    pub fn new(my_id: Sid, membership: Membership, config_text: Vec<u8>) -> Election {
        let none = Vote {
            leader: my_id,
            zxid: i64::MIN,
            election_epoch: 0,
            peer_epoch: i64::MIN,
        };
        Election {
            my_id,
            membership,
            config_text,
            logical_clock: 0,
            proposal: none,
            own: none,
            received: BTreeMap::new(),
            out_of_election: BTreeMap::new(),
            timeout_ms: NOTIFICATION_TIMEOUT_START_MS,
            resend_at_ms: 0,
            finalize_at_ms: None,
        }
    }

    /// Counts votes in a new membership from now on (a committed reconfig).
    pub fn set_membership(&mut self, membership: Membership, config_text: Vec<u8>) {
        self.membership = membership;
        self.config_text = config_text;
    }

    /// The vote this server proposes (or, once decided, the elected one).
    pub fn proposal(&self) -> Vote {
        self.proposal
    }

    /// The vote with which a voter starts a round: itself with its last
    /// logged zxid and current epoch. An observer proposes nobody (a vote
    /// every voter's vote beats).
    pub fn initial_vote(&self, last_logged: i64, current_epoch: u32) -> Vote {
        if self.membership.voters.contains(&self.my_id) {
            Vote {
                leader: self.my_id,
                zxid: last_logged,
                election_epoch: self.logical_clock,
                peer_epoch: current_epoch as i64,
            }
        } else {
            Vote {
                leader: self.my_id,
                zxid: i64::MIN,
                election_epoch: self.logical_clock,
                peer_epoch: i64::MIN,
            }
        }
    }

    /// Starts a new round proposing `init` and broadcasts it. A single-voter
    /// ensemble whose voter is this server decides at once.
    pub fn start(&mut self, init: Vote, now_ms: u64) -> Step {
        self.logical_clock += 1;
        self.own = init;
        self.proposal = Vote {
            election_epoch: self.logical_clock,
            ..init
        };
        self.received.clear();
        self.out_of_election.clear();
        self.finalize_at_ms = None;
        self.timeout_ms = NOTIFICATION_TIMEOUT_START_MS;
        self.resend_at_ms = now_ms + self.timeout_ms;
        let mut step = Step::default();
        if self.is_voter(self.my_id) {
            self.received.insert(self.my_id, self.proposal);
        }
        self.broadcast(&mut step);
        if self.membership.voters.len() == 1 && self.is_voter(self.my_id) {
            step.decided = Some(self.proposal);
        }
        step
    }

    /// Time passed: ends the election after `finalizeWait`, or re-sends the
    /// notifications (doubling the interval) when nothing arrived.
    pub fn tick(&mut self, now_ms: u64) -> Step {
        let mut step = Step::default();
        if self.finalize_at_ms.is_some_and(|at| now_ms >= at) {
            step.decided = Some(self.proposal);
            return step;
        }
        if now_ms >= self.resend_at_ms {
            self.broadcast(&mut step);
            self.timeout_ms = (self.timeout_ms * 2).min(NOTIFICATION_TIMEOUT_MAX_MS);
            self.resend_at_ms = now_ms + self.timeout_ms;
        }
        step
    }

    /// A notification arrived while this server is LOOKING.
    pub fn receive(&mut self, from: Sid, n: &Notification, now_ms: u64) -> Step {
        let mut step = Step::default();
        if !self.is_voter(from) {
            // Observers' votes never count, but they learn from our answer.
            step.sends
                .push((from, self.notification(ServerState::Looking)));
            return step;
        }
        if !self.is_voter(n.vote.leader) {
            return step;
        }
        self.resend_at_ms = now_ms + self.timeout_ms;
        match n.state {
            ServerState::Looking => self.receive_looking(from, n, now_ms, &mut step),
            ServerState::Following | ServerState::Leading => {
                self.receive_established(from, n, &mut step)
            }
            ServerState::Observing => {}
        }
        step
    }

    /// The notification this server sends in `state` with its current vote.
    pub fn notification(&self, state: ServerState) -> Notification {
        Notification {
            state,
            vote: Vote {
                election_epoch: self.logical_clock,
                ..self.proposal
            },
            config: self.config_text.clone(),
        }
    }

    /// A LOOKING sender: follow higher rounds, adopt better votes, count
    /// votes of this round, and start `finalizeWait` on a quorum.
    fn receive_looking(&mut self, from: Sid, n: &Notification, now_ms: u64, step: &mut Step) {
        let round = n.vote.election_epoch;
        if round > self.logical_clock {
            self.logical_clock = round;
            self.received.clear();
            let own = self.own;
            self.proposal = if beats(&n.vote, &own) { n.vote } else { own };
            self.proposal.election_epoch = round;
            self.finalize_at_ms = None;
            self.broadcast(step);
        } else if round < self.logical_clock {
            // A sender of an old round learns ours.
            step.sends
                .push((from, self.notification(ServerState::Looking)));
            return;
        } else if beats(&n.vote, &self.proposal) {
            self.proposal = Vote {
                election_epoch: round,
                ..n.vote
            };
            self.finalize_at_ms = None;
            self.broadcast(step);
        } else if !same_candidate(&n.vote, &self.proposal) {
            // The sender proposes a leader this server's vote beats: it has
            // not heard that vote (it was still following when it was sent,
            // say, and answered as a follower). Told now, it switches at
            // once; otherwise both wait out a re-send interval (a leader
            // failover of ~550 ms instead of ~200).
            step.sends
                .push((from, self.notification(ServerState::Looking)));
        }
        self.received.insert(from, n.vote);
        if self.is_voter(self.my_id) {
            self.received.insert(self.my_id, self.proposal);
        }
        let quorum = self.agreeing(&self.received, &self.proposal, same_candidate);
        if !quorum {
            self.finalize_at_ms = None;
        } else if self.finalize_at_ms.is_none() {
            self.finalize_at_ms = Some(now_ms + FINALIZE_WAIT_MS);
        }
    }

    /// A FOLLOWING or LEADING sender: join its leader when a quorum agrees
    /// and the leader itself says it leads (ZooKeeper's checkLeader).
    fn receive_established(&mut self, from: Sid, n: &Notification, step: &mut Step) {
        let round = n.vote.election_epoch;
        self.out_of_election.insert(from, (n.state, n.vote));
        if round == self.logical_clock {
            self.received.insert(from, n.vote);
            if self.agreeing(&self.received, &n.vote, same_candidate)
                && self.leader_confirmed(&n.vote, round)
            {
                self.decide(n.vote, step);
                return;
            }
        }
        let votes: BTreeMap<Sid, Vote> = self
            .out_of_election
            .iter()
            .map(|(s, (_, v))| (*s, *v))
            .collect();
        if self.agreeing(&votes, &n.vote, same_leadership) && self.leader_confirmed(&n.vote, round)
        {
            self.logical_clock = round;
            self.decide(n.vote, step);
        }
    }

    /// Ends the election on `vote`.
    fn decide(&mut self, vote: Vote, step: &mut Step) {
        self.proposal = vote;
        self.finalize_at_ms = None;
        step.decided = Some(vote);
    }

    /// checkLeader: another server must be heard saying it leads; this
    /// server may only be named in its own round.
    fn leader_confirmed(&self, vote: &Vote, round: i64) -> bool {
        if vote.leader == self.my_id {
            return round == self.logical_clock;
        }
        matches!(
            self.out_of_election.get(&vote.leader),
            Some((ServerState::Leading, _))
        )
    }

    /// True when the voters among `votes` agreeing with `target` (by `same`)
    /// are a quorum.
    fn agreeing(
        &self,
        votes: &BTreeMap<Sid, Vote>,
        target: &Vote,
        same: fn(&Vote, &Vote) -> bool,
    ) -> bool {
        let agree = votes
            .iter()
            .filter(|(_, v)| same(v, target))
            .map(|(s, _)| s);
        self.membership.is_quorum(agree)
    }

    /// Sends the current proposal to every other voter.
    fn broadcast(&self, step: &mut Step) {
        let n = self.notification(ServerState::Looking);
        for &to in &self.membership.voters {
            if to != self.my_id {
                step.sends.push((to, n.clone()));
            }
        }
    }

    /// True when `sid` votes.
    fn is_voter(&self, sid: Sid) -> bool {
        self.membership.voters.contains(&sid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn vote(leader: Sid, zxid: i64, peer_epoch: i64) -> Vote {
        Vote {
            leader,
            zxid,
            election_epoch: 1,
            peer_epoch,
        }
    }

    fn election(me: Sid, voters: &[Sid]) -> Election {
        let membership = Membership {
            voters: voters.iter().copied().collect(),
            observers: BTreeSet::new(),
        };
        Election::new(me, membership, Vec::new())
    }

    /// An election of `me` among `voters` that started at time 0 with its
    /// own vote for `last_zxid` and `epoch`.
    fn started(me: Sid, voters: &[Sid], last_zxid: i64, epoch: u32) -> Election {
        let mut e = election(me, voters);
        let init = e.initial_vote(last_zxid, epoch);
        e.start(init, 0);
        e
    }

    /// A LOOKING server's notification of `vote`.
    fn looking(vote: Vote) -> Notification {
        Notification {
            state: ServerState::Looking,
            vote,
            config: Vec::new(),
        }
    }

    #[test]
    fn vote_order_is_epoch_then_zxid_then_sid() {
        assert!(beats(&vote(1, 0, 2), &vote(3, 100, 1)));
        assert!(beats(&vote(1, 101, 1), &vote(3, 100, 1)));
        assert!(beats(&vote(3, 100, 1), &vote(2, 100, 1)));
        assert!(!beats(&vote(2, 100, 1), &vote(2, 100, 1)));
    }

    #[test]
    fn single_voter_elects_itself_at_once() {
        let mut e = election(1, &[1]);
        let init = e.initial_vote(7, 2);
        let step = e.start(init, 0);
        assert_eq!(step.decided.map(|v| v.leader), Some(1));
        assert!(step.sends.is_empty());
    }

    #[test]
    fn better_vote_is_adopted_and_rebroadcast() {
        let mut e = started(1, &[1, 2, 3], 5, 1);
        let n = looking(vote(3, 9, 1));
        let step = e.receive(3, &n, 10);
        assert_eq!(e.proposal().leader, 3);
        assert_eq!(
            step.sends.len(),
            2,
            "the new vote goes to both other voters"
        );
        assert!(step.decided.is_none(), "finalizeWait comes first");
        assert!(e.tick(10 + FINALIZE_WAIT_MS - 1).decided.is_none());
        assert_eq!(
            e.tick(10 + FINALIZE_WAIT_MS).decided.map(|v| v.leader),
            Some(3)
        );
    }

    #[test]
    fn a_worse_vote_of_the_same_round_is_answered_with_ours() {
        // Server 3 went LOOKING first; server 1 was still following when
        // 3's vote reached it, and now proposes itself in the same round.
        let mut three = started(3, &[1, 2, 3], 9, 1);
        let from_one = looking(vote(1, 9, 1));
        let step = three.receive(1, &from_one, 1);
        assert_eq!(three.proposal().leader, 3, "a worse vote is not adopted");
        assert_eq!(step.sends.len(), 1);
        let (to, answer) = &step.sends[0];
        assert_eq!(
            (*to, answer.state, answer.vote.leader),
            (1, ServerState::Looking, 3)
        );

        // Server 1 switches on that answer and tells everyone; 3 now has a
        // quorum for itself and sends nothing more.
        let mut one = started(1, &[1, 2, 3], 9, 1);
        let step = one.receive(3, answer, 2);
        assert_eq!(one.proposal().leader, 3);
        let (_, agreed) = step
            .sends
            .iter()
            .find(|(to, _)| *to == 3)
            .expect("sent to 3");
        let step = three.receive(1, agreed, 3);
        assert!(step.sends.is_empty(), "the same vote needs no answer");
        assert_eq!(
            three.tick(3 + FINALIZE_WAIT_MS).decided.map(|v| v.leader),
            Some(3)
        );
    }

    #[test]
    fn better_vote_during_finalize_wait_restarts_it() {
        let mut e = started(3, &[1, 2, 3], 9, 1);
        let agree = looking(vote(3, 9, 1));
        e.receive(1, &agree, 0);
        let better = looking(vote(2, 10, 1));
        e.receive(2, &better, 100);
        assert!(e.tick(FINALIZE_WAIT_MS).decided.is_none());
        assert_eq!(e.proposal().leader, 2);
    }

    #[test]
    fn notifications_are_resent_with_a_doubling_timeout() {
        let mut e = started(1, &[1, 2, 3], 0, 0);
        assert!(e.tick(199).sends.is_empty());
        assert_eq!(e.tick(200).sends.len(), 2);
        assert!(e.tick(599).sends.is_empty());
        assert_eq!(e.tick(600).sends.len(), 2);
    }

    #[test]
    fn late_server_joins_the_established_leader() {
        let mut e = started(3, &[1, 2, 3], 0, 0);
        let established = |state| Notification {
            state,
            vote: Vote {
                election_epoch: 4,
                ..vote(1, 50, 2)
            },
            config: Vec::new(),
        };
        let step = e.receive(2, &established(ServerState::Following), 5);
        assert!(step.decided.is_none(), "the leader itself is not heard yet");
        let step = e.receive(1, &established(ServerState::Leading), 6);
        assert_eq!(step.decided.map(|v| v.leader), Some(1));
    }

    #[test]
    fn late_server_joins_a_leadership_its_members_reached_by_different_rounds() {
        let mut e = started(1, &[1, 2, 3], 0, 0);
        // Server 2 joined leader 3 from an older round with an older zxid;
        // both report the leadership they settled into: leader 3, epoch 2.
        let report = |state, round, zxid| Notification {
            state,
            vote: Vote {
                election_epoch: round,
                ..vote(3, zxid, 2)
            },
            config: Vec::new(),
        };
        let step = e.receive(2, &report(ServerState::Following, 1, 0), 5);
        assert!(step.decided.is_none());
        let step = e.receive(3, &report(ServerState::Leading, 2, 0x1_0000_000e), 6);
        assert_eq!(step.decided.map(|v| v.leader), Some(3));
    }

    #[test]
    fn observer_votes_are_answered_not_counted() {
        let mut e = started(1, &[1, 2, 3], 0, 0);
        let n = looking(vote(4, 99, 9));
        let step = e.receive(4, &n, 1);
        assert_eq!(step.sends.len(), 1);
        assert_eq!(step.sends[0].0, 4);
        assert_eq!(e.proposal().leader, 1);
    }
}
