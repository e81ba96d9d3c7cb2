//! Step-by-step tests of `Peer`: each feeds inputs and asserts the exact
//! packets and effects (ZooKeeper's LearnerHandler.syncFollower for the sync
//! choice; Zab's primary order for commits).

use super::*;
use crate::zab::{epoch_of, make_zxid, Notification};

fn config(me: Sid, voters: &[Sid], window: usize) -> PeerConfig {
    PeerConfig {
        my_id: me,
        membership: Membership {
            voters: voters.iter().copied().collect(),
            observers: Default::default(),
        },
        tick_ms: 100,
        init_limit: 10,
        sync_limit: 5,
        config_text: b"version=0".to_vec(),
        log_window: window,
    }
}

fn txn(zxid: i64) -> TxnBytes {
    zxid.to_be_bytes().to_vec().into()
}

/// A disk with `zxids` logged, at `epoch` (accepted and current).
fn disk(epoch: u32, zxids: &[i64], window: usize) -> Persisted {
    let skip = zxids.len().saturating_sub(window);
    Persisted {
        accepted_epoch: epoch,
        current_epoch: epoch,
        last_zxid: zxids.last().copied().unwrap_or(0),
        recent: zxids[skip..].iter().map(|z| (*z, txn(*z))).collect(),
    }
}

fn packet(from: Sid, kind: PacketType, zxid: i64, data: Vec<u8>) -> Input {
    Input::Message {
        from,
        msg: Message::Quorum(Packet {
            kind,
            zxid,
            data: data.into(),
            auth: Vec::new(),
        }),
    }
}

/// The quorum packets sent to `to`, as (type, zxid).
fn sent_to(out: &[Output], to: Sid) -> Vec<(PacketType, i64)> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send {
                to: t,
                msg: Message::Quorum(p),
            } if *t == to => Some((p.kind, p.zxid)),
            _ => None,
        })
        .collect()
}

fn delivered(out: &[Output]) -> Vec<i64> {
    out.iter()
        .filter_map(|o| match o {
            Output::Deliver { zxid, .. } => Some(*zxid),
            _ => None,
        })
        .collect()
}

fn step(peer: &mut Peer, input: Input) -> Vec<Output> {
    let mut out = Vec::new();
    peer.handle(input, &mut out);
    out
}

/// Makes server 1 (of voters 1, 2, 3) leader with server 2's vote, and
/// brings server 2 through discovery with its last zxid `learner_last`.
/// Returns the outputs of the ACKEPOCH (the sync of server 2).
fn lead_and_sync(leader: &mut Peer, learner_last: i64) -> Vec<Output> {
    step(leader, Input::Tick { now_ms: 0 });
    let own = leader.current_vote();
    decide_on(leader, own, &[2]);
    assert_eq!(leader.role(), Role::Leading { epoch: 0 });
    let out = step(leader, packet(2, PacketType::FollowerInfo, 0, Vec::new()));
    let epoch = leader.role();
    let Role::Leading { epoch } = epoch else {
        panic!("leads")
    };
    assert_eq!(
        sent_to(&out, 2),
        vec![(PacketType::LeaderInfo, make_zxid(epoch, 0))]
    );
    let current = (epoch_of(learner_last) as i32).to_be_bytes().to_vec();
    step(
        leader,
        packet(2, PacketType::AckEpoch, learner_last, current),
    )
}

fn e(epoch: u32, counter: u32) -> i64 {
    make_zxid(epoch, counter)
}

#[test]
fn learner_behind_inside_the_window_gets_diff_and_the_missing_txns() {
    let log: Vec<i64> = (1..=5).map(|c| e(1, c)).collect();
    let mut leader = Peer::new(config(1, &[1, 2, 3], 8), disk(1, &log, 8));
    let out = lead_and_sync(&mut leader, e(1, 3));
    use PacketType::*;
    assert_eq!(
        sent_to(&out, 2),
        vec![
            (Diff, e(1, 5)),
            (Proposal, e(1, 4)),
            (Commit, e(1, 4)),
            (Proposal, e(1, 5)),
            (Commit, e(1, 5)),
            (NewLeader, e(2, 0)),
        ]
    );
}

#[test]
fn learner_even_with_the_leader_gets_an_empty_diff() {
    let log: Vec<i64> = (1..=5).map(|c| e(1, c)).collect();
    let mut leader = Peer::new(config(1, &[1, 2, 3], 8), disk(1, &log, 8));
    let out = lead_and_sync(&mut leader, e(1, 5));
    use PacketType::*;
    assert_eq!(
        sent_to(&out, 2),
        vec![(Diff, e(1, 5)), (NewLeader, e(2, 0))]
    );
}

#[test]
fn learner_ahead_of_the_leader_is_truncated_to_the_leaders_last() {
    // The learner's current epoch (1) is older than the leader's (2), else
    // the leader would give up.
    let log: Vec<i64> = (1..=5).map(|c| e(1, c)).collect();
    let mut leader = Peer::new(config(1, &[1, 2, 3], 8), disk(2, &log, 8));
    let out = lead_and_sync(&mut leader, e(1, 7));
    use PacketType::*;
    assert_eq!(
        sent_to(&out, 2),
        vec![(Trunc, e(1, 5)), (NewLeader, e(3, 0))]
    );
}

#[test]
fn divergent_tail_is_truncated_then_the_rest_follows() {
    let log = [e(1, 1), e(1, 2), e(2, 1), e(2, 2)];
    let mut leader = Peer::new(config(1, &[1, 2, 3], 8), disk(2, &log, 8));
    let out = lead_and_sync(&mut leader, e(1, 3));
    use PacketType::*;
    assert_eq!(
        sent_to(&out, 2),
        vec![
            (Trunc, e(1, 2)),
            (Proposal, e(2, 1)),
            (Commit, e(2, 1)),
            (Proposal, e(2, 2)),
            (Commit, e(2, 2)),
            (NewLeader, e(3, 0)),
        ]
    );
}

#[test]
fn learner_older_than_the_window_gets_a_snapshot() {
    let log: Vec<i64> = (1..=5).map(|c| e(1, c)).collect();
    let mut leader = Peer::new(config(1, &[1, 2, 3], 2), disk(1, &log, 2));
    let out = lead_and_sync(&mut leader, e(1, 1));
    let snap = out
        .iter()
        .position(|o| matches!(o, Output::SendSnapshot { to: 2, zxid } if *zxid == e(1, 5)));
    let newleader = out.iter().position(|o| {
        matches!(o, Output::Send { to: 2, msg: Message::Quorum(p) } if p.kind == PacketType::NewLeader)
    });
    assert!(snap.is_some() && snap < newleader, "{out:?}");
}

#[test]
fn learner_ahead_of_the_leader_during_discovery_makes_it_give_up() {
    let log: Vec<i64> = (1..=5).map(|c| e(1, c)).collect();
    let mut leader = Peer::new(config(1, &[1, 2, 3], 8), disk(1, &log, 8));
    let out = lead_and_sync(&mut leader, e(1, 6));
    assert_eq!(leader.role(), Role::Looking);
    assert!(out.iter().any(|o| matches!(o, Output::Disconnect(2))));
}

/// An established leader of voters 1, 2, 3 with follower 2 up to date.
fn established() -> Peer {
    let mut leader = Peer::new(config(1, &[1, 2, 3], 8), disk(1, &[e(1, 1)], 8));
    lead_and_sync(&mut leader, e(1, 1));
    let out = step(&mut leader, packet(2, PacketType::Ack, e(2, 0), Vec::new()));
    assert!(leader.can_propose());
    assert_eq!(sent_to(&out, 2), vec![(PacketType::UpToDate, -1)]);
    leader
}

#[test]
fn commits_wait_for_a_quorum_and_keep_zxid_order() {
    let mut leader = established();
    for z in [e(2, 1), e(2, 2)] {
        let out = step(
            &mut leader,
            Input::Propose {
                zxid: z,
                txn: txn(z),
            },
        );
        assert_eq!(sent_to(&out, 2), vec![(PacketType::Proposal, z)]);
    }
    assert!(delivered(&step(&mut leader, Input::Durable(e(2, 2)))).is_empty());
    let out = step(&mut leader, packet(2, PacketType::Ack, e(2, 1), Vec::new()));
    assert_eq!(delivered(&out), vec![e(2, 1)], "e2c2 lacks a quorum");
    let out = step(&mut leader, packet(2, PacketType::Ack, e(2, 2), Vec::new()));
    assert_eq!(delivered(&out), vec![e(2, 2)]);
    assert_eq!(sent_to(&out, 2), vec![(PacketType::Commit, e(2, 2))]);
}

#[test]
fn a_later_ack_covers_earlier_proposals_and_commits_them_in_order() {
    let mut leader = established();
    for z in [e(2, 1), e(2, 2)] {
        step(
            &mut leader,
            Input::Propose {
                zxid: z,
                txn: txn(z),
            },
        );
    }
    step(&mut leader, Input::Durable(e(2, 2)));
    let out = step(&mut leader, packet(2, PacketType::Ack, e(2, 2), Vec::new()));
    assert_eq!(delivered(&out), vec![e(2, 1), e(2, 2)]);
    use PacketType::*;
    assert_eq!(sent_to(&out, 2), vec![(Commit, e(2, 1)), (Commit, e(2, 2))]);
}

#[test]
fn leader_own_ack_waits_for_its_durable_log() {
    let mut leader = established();
    step(
        &mut leader,
        Input::Propose {
            zxid: e(2, 1),
            txn: txn(e(2, 1)),
        },
    );
    let out = step(&mut leader, packet(2, PacketType::Ack, e(2, 1), Vec::new()));
    assert!(delivered(&out).is_empty());
    assert_eq!(
        delivered(&step(&mut leader, Input::Durable(e(2, 1)))),
        vec![e(2, 1)]
    );
}

#[test]
fn leader_without_a_synced_quorum_steps_down() {
    let mut leader = established();
    step(&mut leader, Input::Tick { now_ms: 400 });
    assert!(leader.serving());
    let out = step(&mut leader, Input::Tick { now_ms: 1_000 });
    assert_eq!(leader.role(), Role::Looking);
    assert!(!leader.serving());
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Role {
            role: Role::Looking,
            serving: false
        }
    )));
}

#[test]
fn forwarded_sync_is_answered_after_outstanding_proposals_commit() {
    let mut leader = established();
    step(
        &mut leader,
        Input::Propose {
            zxid: e(2, 1),
            txn: txn(e(2, 1)),
        },
    );
    let out = step(
        &mut leader,
        packet(2, PacketType::Request, -1, forwarded_sync()),
    );
    let round = match sent_to(&out, 2)[..] {
        [(PacketType::Ping, round)] => round,
        ref other => panic!("expected one PING round, got {other:?}"),
    };
    assert_eq!(leader.learner_counts().pending_syncs, 1);
    step(&mut leader, Input::Durable(e(2, 1)));
    let out = step(&mut leader, packet(2, PacketType::Ack, e(2, 1), Vec::new()));
    assert_eq!(sent_to(&out, 2), vec![(PacketType::Commit, e(2, 1))]);
    let out = step(&mut leader, packet(2, PacketType::Ping, round, Vec::new()));
    assert_eq!(sent_to(&out, 2), vec![(PacketType::Sync, 0)]);
}

/// A request frame of `sync` as a learner forwards it.
fn forwarded_sync() -> Vec<u8> {
    let mut request = 5i64.to_be_bytes().to_vec();
    request.extend_from_slice(&1i32.to_be_bytes());
    request.extend_from_slice(&9i32.to_be_bytes());
    request
}

/// ZOOKEEPER-1675: with nothing outstanding, a leader still answers a sync
/// only once a quorum answered a ping round that began after the sync came;
/// an answer to an earlier round (sent before a pause, say) proves nothing.
#[test]
fn sync_waits_for_a_quorum_to_answer_a_ping_round_begun_after_it() {
    let mut leader = established();
    let out = step(
        &mut leader,
        packet(2, PacketType::Request, -1, forwarded_sync()),
    );
    let [(PacketType::Ping, early)] = sent_to(&out, 2)[..] else {
        panic!("expected a PING round for the first sync");
    };
    let out = step(&mut leader, packet(2, PacketType::Ping, early, Vec::new()));
    assert_eq!(sent_to(&out, 2), vec![(PacketType::Sync, 0)]);
    let out = step(
        &mut leader,
        packet(2, PacketType::Request, -1, forwarded_sync()),
    );
    let [(PacketType::Ping, round)] = sent_to(&out, 2)[..] else {
        panic!("expected a PING round for the sync");
    };
    assert!(round > early);
    let out = step(&mut leader, packet(2, PacketType::Ping, early, Vec::new()));
    assert!(
        sent_to(&out, 2).is_empty(),
        "an earlier round's echo answered the sync"
    );
    assert_eq!(leader.learner_counts().pending_syncs, 1);
    let out = step(&mut leader, packet(2, PacketType::Ping, round, Vec::new()));
    assert_eq!(sent_to(&out, 2), vec![(PacketType::Sync, 0)]);
    assert_eq!(leader.learner_counts().pending_syncs, 0);
}

/// LOOKING votes for `vote` from each of `from`, then time past finalizeWait:
/// the outputs of that tick (where the election ends).
fn decide_on(peer: &mut Peer, vote: Vote, from: &[Sid]) -> Vec<Output> {
    for &sender in from {
        let n = Notification {
            state: ServerState::Looking,
            vote,
            config: Vec::new(),
        };
        step(
            peer,
            Input::Message {
                from: sender,
                msg: Message::Vote(n),
            },
        );
    }
    step(peer, Input::Tick { now_ms: 300 })
}

/// A follower (server 2) that registered with leader 3 and got LEADERINFO
/// of epoch 2.
fn follower() -> Peer {
    let mut f = Peer::new(config(2, &[1, 2, 3], 8), disk(1, &[e(1, 1)], 8));
    step(&mut f, Input::Tick { now_ms: 0 });
    let vote = Vote {
        leader: 3,
        zxid: e(1, 1),
        election_epoch: 1,
        peer_epoch: 1,
    };
    let out = decide_on(&mut f, vote, &[1, 3]);
    assert!(out.iter().any(|o| matches!(o, Output::ConnectLeader(3))));
    let out = step(&mut f, Input::Connected(3));
    assert_eq!(sent_to(&out, 3), vec![(PacketType::FollowerInfo, e(1, 0))]);
    let out = step(
        &mut f,
        packet(3, PacketType::LeaderInfo, e(2, 0), vec![0, 1, 0, 0]),
    );
    assert_eq!(sent_to(&out, 3), vec![(PacketType::AckEpoch, e(1, 1))]);
    f
}

#[test]
fn follower_acks_newleader_and_proposals_only_once_durable() {
    let mut f = follower();
    step(&mut f, packet(3, PacketType::Diff, e(1, 1), Vec::new()));
    step(
        &mut f,
        packet(3, PacketType::Proposal, e(2, 1), txn(e(2, 1)).to_vec()),
    );
    let out = step(
        &mut f,
        packet(3, PacketType::NewLeader, e(2, 0), Vec::new()),
    );
    assert!(sent_to(&out, 3).is_empty(), "e2c1 is not durable yet");
    let out = step(&mut f, Input::Durable(e(2, 1)));
    use PacketType::*;
    assert_eq!(sent_to(&out, 3), vec![(Ack, e(2, 0)), (Ack, e(2, 1))]);
    let out = step(&mut f, packet(3, UpToDate, -1, Vec::new()));
    assert!(f.serving());
    assert!(delivered(&out).is_empty());
    let out = step(&mut f, packet(3, Commit, e(2, 1), Vec::new()));
    assert_eq!(delivered(&out), vec![e(2, 1)]);
}

/// The pause that lost txns on a member: a proposal that skips zxids (or
/// repeats one) is never logged; the follower reports it and resyncs, so
/// what it next reports in ACKEPOCH is the end of a gap-free log.
#[test]
fn follower_refuses_a_proposal_that_does_not_follow_its_log_and_resyncs() {
    for bad in [e(2, 2), e(1, 1), e(1, 3), e(3, 1)] {
        let mut f = follower();
        step(&mut f, packet(3, PacketType::Diff, e(1, 1), Vec::new()));
        let out = step(
            &mut f,
            packet(3, PacketType::Proposal, bad, txn(bad).to_vec()),
        );
        assert!(
            !out.iter().any(|o| matches!(o, Output::Append { .. })),
            "{bad:#x} was logged after e1c1"
        );
        assert!(out.iter().any(|o| matches!(o, Output::Anomaly(_))));
        assert!(out.iter().any(|o| matches!(
            o,
            Output::Role {
                role: Role::Looking,
                ..
            }
        )));
    }
}

#[test]
fn follower_logs_the_first_write_of_a_later_epoch_after_its_last() {
    let mut f = follower();
    step(&mut f, packet(3, PacketType::Diff, e(1, 1), Vec::new()));
    let out = step(
        &mut f,
        packet(3, PacketType::Proposal, e(2, 1), txn(e(2, 1)).to_vec()),
    );
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Append { zxid, .. } if *zxid == e(2, 1))));
    assert!(crate::zab::follows(e(2, 7), e(2, 8)));
    assert!(!crate::zab::follows(e(2, 7), e(2, 9)));
    assert!(!crate::zab::follows(e(2, 7), e(2, 7)));
    assert!(!crate::zab::follows(e(2, 7), e(1, 8)));
    assert!(!crate::zab::follows(e(2, 7), e(4, 2)));
    assert!(crate::zab::follows(0, e(1, 1)));
}

#[test]
fn follower_truncates_a_divergent_tail() {
    let mut f = Peer::new(config(2, &[1, 2, 3], 8), disk(1, &[e(1, 1), e(1, 2)], 8));
    step(&mut f, Input::Tick { now_ms: 0 });
    let vote = Vote {
        leader: 1,
        zxid: e(1, 1),
        election_epoch: 1,
        peer_epoch: 1,
    };
    for from in [1, 3] {
        let n = Notification {
            state: ServerState::Following,
            vote,
            config: Vec::new(),
        };
        let n = Notification {
            state: if from == 1 {
                ServerState::Leading
            } else {
                n.state
            },
            ..n
        };
        step(
            &mut f,
            Input::Message {
                from,
                msg: Message::Vote(n),
            },
        );
    }
    step(&mut f, Input::Connected(1));
    step(
        &mut f,
        packet(1, PacketType::LeaderInfo, e(2, 0), vec![0, 1, 0, 0]),
    );
    let out = step(&mut f, packet(1, PacketType::Trunc, e(1, 1), Vec::new()));
    assert!(out
        .iter()
        .any(|o| matches!(o, Output::Truncate(z) if *z == e(1, 1))));
    assert_eq!(f.last_logged(), e(1, 1));
    assert_eq!(
        f.last_committed(),
        e(1, 1),
        "the shell rebuilds from the cut log"
    );
}

#[test]
fn follower_without_its_leader_goes_back_to_looking() {
    let mut f = follower();
    step(&mut f, Input::Tick { now_ms: 1_000 });
    assert!(matches!(f.role(), Role::Following { .. }));
    step(&mut f, Input::Tick { now_ms: 1_301 });
    assert_eq!(f.role(), Role::Looking);
}

#[test]
fn follower_persists_the_new_epoch_only_with_a_durable_log() {
    let mut f = follower();
    step(&mut f, packet(3, PacketType::Diff, e(1, 1), Vec::new()));
    step(
        &mut f,
        packet(3, PacketType::Proposal, e(1, 2), txn(e(1, 2)).to_vec()),
    );
    let out = step(
        &mut f,
        packet(3, PacketType::NewLeader, e(2, 0), Vec::new()),
    );
    assert!(!out
        .iter()
        .any(|o| matches!(o, Output::PersistEpochs { .. })));
    assert_eq!(f.epoch(), 1);
    let out = step(&mut f, Input::Durable(e(1, 2)));
    let persist = out.iter().position(|o| {
        matches!(
            o,
            Output::PersistEpochs {
                accepted: 2,
                current: 2
            }
        )
    });
    let ack = out.iter().position(|o| matches!(o, Output::Send { .. }));
    assert!(persist.is_some() && persist < ack, "{out:?}");
}

#[test]
fn follower_acks_logged_txns_after_the_sync_point_even_if_applied() {
    // A restart applied e1c2 (the whole log), but the leader has only
    // committed up to e1c1: e1c2 is still its proposal and needs our ACK.
    let mut f = Peer::new(config(2, &[1, 2, 3], 8), disk(1, &[e(1, 1), e(1, 2)], 8));
    step(&mut f, Input::Tick { now_ms: 0 });
    let vote = Vote {
        leader: 3,
        zxid: e(1, 2),
        election_epoch: 1,
        peer_epoch: 1,
    };
    for from in [1, 3] {
        let n = Notification {
            state: ServerState::Looking,
            vote,
            config: Vec::new(),
        };
        step(
            &mut f,
            Input::Message {
                from,
                msg: Message::Vote(n),
            },
        );
    }
    step(&mut f, Input::Tick { now_ms: 300 });
    step(&mut f, Input::Connected(3));
    step(
        &mut f,
        packet(3, PacketType::LeaderInfo, e(1, 0), vec![0, 1, 0, 0]),
    );
    step(&mut f, packet(3, PacketType::Diff, e(1, 1), Vec::new()));
    let out = step(
        &mut f,
        packet(3, PacketType::NewLeader, e(1, 0), Vec::new()),
    );
    use PacketType::*;
    assert_eq!(sent_to(&out, 3), vec![(Ack, e(1, 0)), (Ack, e(1, 2))]);
}

#[test]
fn single_voter_leads_at_once_and_commits_on_its_own_durable_log() {
    let mut peer = Peer::new(config(1, &[1], 8), disk(3, &[e(3, 1)], 8));
    let out = step(&mut peer, Input::Tick { now_ms: 0 });
    assert!(peer.can_propose() && peer.serving());
    assert_eq!(peer.role(), Role::Leading { epoch: 4 });
    assert!(out.iter().any(|o| matches!(
        o,
        Output::PersistEpochs {
            accepted: 4,
            current: 4
        }
    )));
    let out = step(
        &mut peer,
        Input::Propose {
            zxid: e(4, 1),
            txn: txn(e(4, 1)),
        },
    );
    assert!(delivered(&out).is_empty());
    assert_eq!(
        delivered(&step(&mut peer, Input::Durable(e(4, 1)))),
        vec![e(4, 1)]
    );
    let sync = Packet {
        kind: PacketType::Request,
        zxid: -1,
        data: empty_bytes(),
        auth: Vec::new(),
    };
    let out = step(
        &mut peer,
        Input::Sync {
            token: 7,
            request: sync,
        },
    );
    assert!(out.iter().any(|o| matches!(o, Output::SyncDone(7))));
}

fn empty_bytes() -> TxnBytes {
    TxnBytes::from(Vec::new())
}

#[test]
fn cut_below_an_installed_snapshot_is_refused_and_a_snapshot_asked_for() {
    let mut f = follower();
    let snapshot = TxnBytes::from(vec![1, 2, 3]);
    step(
        &mut f,
        packet(3, PacketType::Snap, e(1, 5), snapshot.to_vec()),
    );
    let out = step(&mut f, packet(3, PacketType::Trunc, e(1, 2), Vec::new()));
    assert_eq!(f.role(), Role::Looking);
    assert!(!out.iter().any(|o| matches!(o, Output::Truncate(_))));
    let vote = Vote {
        leader: 3,
        zxid: e(1, 9),
        election_epoch: 2,
        peer_epoch: 2,
    };
    for from in [1, 3] {
        let n = Notification {
            state: ServerState::Looking,
            vote,
            config: Vec::new(),
        };
        step(
            &mut f,
            Input::Message {
                from,
                msg: Message::Vote(n),
            },
        );
    }
    step(&mut f, Input::Tick { now_ms: 600 });
    step(&mut f, Input::Connected(3));
    let out = step(
        &mut f,
        packet(3, PacketType::LeaderInfo, e(3, 0), vec![0, 1, 0, 0]),
    );
    assert_eq!(sent_to(&out, 3), vec![(PacketType::AckEpoch, i64::MIN)]);
}

#[test]
fn registration_before_the_election_ends_is_held_for_the_leader() {
    let mut leader = Peer::new(config(1, &[1, 2, 3], 8), disk(1, &[], 8));
    step(&mut leader, Input::Tick { now_ms: 0 });
    // Server 2 decided for server 1 first and registers at once.
    let out = step(
        &mut leader,
        packet(2, PacketType::FollowerInfo, e(1, 0), Vec::new()),
    );
    assert!(
        !out.iter().any(|o| matches!(o, Output::Disconnect(2))),
        "held, not refused"
    );
    let own = leader.current_vote();
    let out = decide_on(&mut leader, own, &[2]);
    assert_eq!(leader.role(), Role::Leading { epoch: 2 });
    // The held registration and the leader's own epoch are a quorum: the
    // new epoch is offered to server 2 without it registering again.
    assert_eq!(sent_to(&out, 2), vec![(PacketType::LeaderInfo, e(2, 0))]);
}

#[test]
fn registration_held_while_looking_is_closed_when_another_leads() {
    let mut peer = Peer::new(config(2, &[1, 2, 3], 8), disk(1, &[], 8));
    step(&mut peer, Input::Tick { now_ms: 0 });
    step(
        &mut peer,
        packet(1, PacketType::FollowerInfo, e(1, 0), Vec::new()),
    );
    // Server 3 (larger id, same zxid) is elected with server 1's vote.
    let vote = Vote {
        leader: 3,
        zxid: 0,
        election_epoch: peer.current_vote().election_epoch,
        peer_epoch: 1,
    };
    let out = decide_on(&mut peer, vote, &[1, 3]);
    assert_eq!(
        peer.role(),
        Role::Following {
            leader: 3,
            epoch: 0
        }
    );
    assert!(out.iter().any(|o| matches!(o, Output::Disconnect(1))));
}

/// A follower brought through a DIFF sync to serving.
fn serving_follower() -> Peer {
    let mut f = follower();
    step(&mut f, packet(3, PacketType::Diff, e(1, 1), Vec::new()));
    step(
        &mut f,
        packet(3, PacketType::NewLeader, e(2, 0), Vec::new()),
    );
    step(&mut f, packet(3, PacketType::UpToDate, -1, Vec::new()));
    assert!(f.serving());
    f
}

/// REVALIDATE as ZooKeeper's Learner.validateSession and
/// Leader.revalidateSession lay it out: {long session, int timeout} up,
/// {long session, boolean valid} down, zxid -1 both ways.
#[test]
fn revalidate_goes_to_the_leader_and_its_answer_comes_back() {
    let session = 0x0102_0304_0506_0708i64;
    let mut f = serving_follower();
    let out = step(
        &mut f,
        Input::Revalidate {
            session,
            timeout_ms: 30_000,
        },
    );
    let sent: Vec<&Packet> = out
        .iter()
        .filter_map(|o| match o {
            Output::Send {
                to: 3,
                msg: Message::Quorum(p),
            } => Some(p),
            _ => None,
        })
        .collect();
    let mut up = session.to_be_bytes().to_vec();
    up.extend_from_slice(&30_000i32.to_be_bytes());
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].kind, sent[0].zxid), (PacketType::Revalidate, -1));
    assert_eq!(&sent[0].data[..], &up[..]);

    let mut leader = established();
    let out = step(&mut leader, packet(2, PacketType::Revalidate, -1, up));
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Revalidate { from: 2, session: s, timeout_ms: 30_000 } if *s == session
    )));
    let out = step(
        &mut leader,
        Input::Revalidated {
            to: 2,
            session,
            valid: true,
        },
    );
    let mut down = session.to_be_bytes().to_vec();
    down.push(1);
    let reply = out
        .iter()
        .find_map(|o| match o {
            Output::Send {
                to: 2,
                msg: Message::Quorum(p),
            } => Some(p.clone()),
            _ => None,
        })
        .expect("an answer to the learner");
    assert_eq!((reply.kind, reply.zxid), (PacketType::Revalidate, -1));
    assert_eq!(&reply.data[..], &down[..]);

    let out = step(&mut f, packet(3, PacketType::Revalidate, -1, down));
    assert!(out.iter().any(|o| matches!(
        o,
        Output::Revalidated { session: s, valid: true } if *s == session
    )));
}
