//! Words on a quorum member, against a fake server in the state an Apache
//! ZooKeeper 3.8.0 ensemble was in when `testdata/zk-3.8.0-4lw-quorum.txt`
//! was captured (server 1 following, server 3 leading).

use super::tests::{
    addr, asking_connection, bucket, captured_server, fixture_answer, run, session_connection,
    FakeServer,
};
use super::*;
use crate::proto::codes::OpCode;

/// The captured answer to `name`.
fn expected(name: &str) -> &'static str {
    fixture_answer(include_str!("testdata/zk-3.8.0-4lw-quorum.txt"), name)
}

const SESSION_A: i64 = 0x0100_001a_cd53_0000;
const SESSION_B: i64 = 0x0100_001a_cd53_0001;
/// 2026-11-22 03:54:22 UTC, the first expiry bucket of the capture.
const T_035422_MS: i64 = 1_795_319_662_000;
const MEMBERSHIP: &str = "server.1=127.0.0.1:23881:23891:participant\n\
                          server.2=127.0.0.1:23882:23892:participant\n\
                          server.3=127.0.0.1:23883:23893:participant\nversion=0";

/// Server `id` of the ensemble, with the captured configuration and tree.
fn member(id: u16, mode: ServerMode) -> FakeServer {
    let mut server = captured_server();
    server.mode = mode;
    server.dir_sizes = (67_109_477, 67_109_477);
    server.open_file_descriptors = 47;
    server.conf.client_port = 22380 + i32::from(id);
    server.conf.data_dir = format!("/tmp/zkq/d{id}/version-2");
    server.conf.data_log_dir = server.conf.data_dir.clone();
    server.conf.server_id = i64::from(id);
    server.conf.quorum = Some(QuorumConfView {
        init_limit: 10,
        sync_limit: 5,
        election_alg: 3,
        election_ports: vec![23890 + id],
        quorum_ports: vec![23880 + id],
        observer: false,
        membership: MEMBERSHIP.to_owned(),
    });
    server.stats.last_processed_zxid = 0x1_0000_0005;
    server.monitor.approximate_data_size = 199;
    server.ephemerals = vec![
        (SESSION_B, vec!["/eph2".to_owned()]),
        (SESSION_A, vec!["/eph".to_owned()]),
    ];
    server
}

/// Server 1, following, with both client sessions connected to it.
fn follower() -> FakeServer {
    let mut server = member(1, ServerMode::Follower);
    server.stats.min_latency_ms = 2;
    server.stats.avg_latency_ms = 11.8;
    server.stats.max_latency_ms = 34;
    server.stats.packets_received = 12;
    server.stats.packets_sent = 11;
    let zxid = 0x1_0000_0005;
    server.connections = vec![
        asking_connection(39260),
        session_connection(
            39216,
            SESSION_B,
            1_795_319_653_716,
            10_000,
            &[
                (OpCode::Create, 1, zxid, 1_771_200, 1_771_227),
                (OpCode::GetData, 2, zxid, 1_771_250, 1_771_250),
                (OpCode::Exists, 3, zxid, 1_771_301, 1_771_303),
            ],
        ),
        session_connection(
            39202,
            SESSION_A,
            1_795_319_653_669,
            30_000,
            &[
                (OpCode::Create, 1, zxid, 1_771_100, 1_771_134),
                (OpCode::Create, 2, zxid, 1_771_150, 1_771_150),
                (OpCode::GetData, 3, zxid, 1_771_200, 1_771_228),
                (OpCode::Exists, 4, zxid, 1_771_240, 1_771_243),
                (OpCode::GetChildren, 5, zxid, 1_771_294, 1_771_296),
            ],
        ),
    ];
    server.sessions = SessionDump {
        local: None,
        global: GlobalSessions::Timeouts(vec![(SESSION_B, 10_000), (SESSION_A, 30_000)]),
    };
    server.connection_dump = Some(vec![
        bucket(T_035422_MS, vec![]),
        bucket(
            T_035422_MS + 10_000,
            vec![
                ConnectionEntry {
                    remote: addr(39244),
                    session_id: 0,
                },
                ConnectionEntry {
                    remote: addr(39216),
                    session_id: SESSION_B,
                },
            ],
        ),
        bucket(
            T_035422_MS + 30_000,
            vec![ConnectionEntry {
                remote: addr(39202),
                session_id: SESSION_A,
            }],
        ),
    ]);
    server.monitor.uptime_ms = 18_068;
    server.monitor.quorum = Some(QuorumMonitor {
        peer_state: "following - broadcast".to_owned(),
        quorum_size: 3,
        synced_observers: None,
        leader: None,
        observer_master_id: None,
    });
    server
}

/// Server 3, leading, with only the asking connection.
fn leader() -> FakeServer {
    let mut server = member(3, ServerMode::Leader);
    server.stats.avg_latency_ms = 0.0;
    server.stats.max_latency_ms = 0;
    server.stats.packets_received = 2;
    server.stats.packets_sent = 1;
    server.stats.num_alive_connections = 1;
    let proposal_sizes = BufferStats {
        last: 89,
        min: 48,
        max: 91,
    };
    server.stats.proposal_sizes = Some(proposal_sizes);
    server.sessions = SessionDump {
        local: None,
        global: GlobalSessions::Expiry(vec![
            bucket(T_035422_MS + 2_000, vec![SESSION_B]),
            bucket(T_035422_MS + 22_000, vec![SESSION_A]),
        ]),
    };
    server.connection_dump = Some(vec![
        bucket(T_035422_MS, vec![]),
        bucket(
            T_035422_MS + 10_000,
            vec![ConnectionEntry {
                remote: addr(41444),
                session_id: 0,
            }],
        ),
    ]);
    server.monitor.uptime_ms = 18_170;
    server.monitor.watch_count = 0;
    server.monitor.client_response_sizes = BufferStats::default();
    server.monitor.quorum = Some(QuorumMonitor {
        peer_state: "leading - broadcast".to_owned(),
        quorum_size: 3,
        synced_observers: Some(0),
        leader: Some(LeaderMonitor {
            learners: 2,
            synced_followers: 2,
            synced_non_voting_followers: 0,
            pending_syncs: 0,
            leader_uptime_ms: 17_797,
            proposal_sizes,
        }),
        observer_master_id: None,
    });
    server
}

#[test]
fn follower_srvr_conf_cons_match_zookeeper() {
    let mut server = follower();
    assert_eq!(
        run(&mut server, FourLetterWord::Srvr),
        expected("follower_srvr")
    );
    assert_eq!(
        run(&mut server, FourLetterWord::Conf),
        expected("follower_conf")
    );
    assert_eq!(
        run(&mut server, FourLetterWord::Cons),
        expected("follower_cons")
    );
}

#[test]
fn follower_dump_lists_global_sessions_with_timeouts() {
    let mut server = follower();
    assert_eq!(
        run(&mut server, FourLetterWord::Dump),
        expected("follower_dump")
    );
}

#[test]
fn follower_mntr_gauges_match_zookeeper() {
    let mut server = follower();
    server.stats.packets_received = 15;
    server.stats.packets_sent = 14;
    server.monitor.extra.clear();
    assert_eq!(
        run(&mut server, FourLetterWord::Mntr),
        expected("follower_mntr")
    );
}

#[test]
fn leader_srvr_conf_dump_match_zookeeper() {
    let mut server = leader();
    assert_eq!(
        run(&mut server, FourLetterWord::Srvr),
        expected("leader_srvr")
    );
    assert_eq!(
        run(&mut server, FourLetterWord::Conf),
        expected("leader_conf")
    );
    assert_eq!(
        run(&mut server, FourLetterWord::Dump),
        expected("leader_dump")
    );
}

#[test]
fn leader_mntr_interleaves_leader_gauges_like_zookeeper() {
    let mut server = leader();
    server.stats.packets_received = 5;
    server.stats.packets_sent = 4;
    server.monitor.extra.clear();
    assert_eq!(
        run(&mut server, FourLetterWord::Mntr),
        expected("leader_mntr")
    );
}

#[test]
fn observer_mntr_reports_its_master() {
    let mut server = follower();
    server.mode = ServerMode::Observer;
    if let Some(quorum) = &mut server.monitor.quorum {
        quorum.peer_state = "observing - broadcast".to_owned();
        quorum.observer_master_id = Some(3);
    }
    let mntr = run(&mut server, FourLetterWord::Mntr);
    assert!(mntr.contains(
        "zk_server_state\tobserver\nzk_peer_state\tobserving - broadcast\n\
         zk_observer_master_id\t3\nzk_ephemerals_count\t2\n"
    ));
}

/// Member `id` (1-3) of the 3-participant ensemble (+ observer 4) the
/// AdminServer answers below were captured from (ZooKeeper 3.8.0, Jetty on
/// its classpath; ports 21000 + 10 * id + 0 client, 1 quorum, 2 election).
fn peer(id: i64, leader: i64) -> PeerView {
    let addr = |id: i64, offset: i64| format!("127.0.0.1:{}", 21000 + 10 * id + offset);
    PeerView {
        my_id: id,
        is_leader: id == leader,
        leader: Some((leader, "127.0.0.1".to_owned())),
        zab_state: "broadcast",
        quorum_address: addr(id, 1),
        election_address: addr(id, 2),
        client_address: addr(id, 0),
        voting: true,
        voting_members: (1..=3)
            .map(|m| VotingMember {
                id: m,
                server_address: addr(m, 1),
                election_address: addr(m, 2),
                client_address: if m == id { addr(m, 0) } else { String::new() },
            })
            .collect(),
        synced_observers: 0,
    }
}

#[test]
fn admin_server_ensemble_commands_match_zookeeper() {
    let mut leader = member(3, ServerMode::Leader);
    leader.peer = Some(peer(3, 3));
    assert_eq!(super::run_command("leader", "", &mut leader), "{\n  \"is_leader\" : true,\n  \"leader_id\" : 3,\n  \"leader_ip\" : \"127.0.0.1\",\n  \"command\" : \"leader\",\n  \"error\" : null\n}");
    assert_eq!(super::run_command("voting_view", "", &mut leader), "{\n  \"current_config\" : {\n    \"1\" : {\n      \"server_addresses\" : [ \"127.0.0.1:21011\" ],\n      \"election_addresses\" : [ \"127.0.0.1:21012\" ],\n      \"client_address\" : \"\",\n      \"learner_type\" : \"participant\"\n    },\n    \"2\" : {\n      \"server_addresses\" : [ \"127.0.0.1:21021\" ],\n      \"election_addresses\" : [ \"127.0.0.1:21022\" ],\n      \"client_address\" : \"\",\n      \"learner_type\" : \"participant\"\n    },\n    \"3\" : {\n      \"server_addresses\" : [ \"127.0.0.1:21031\" ],\n      \"election_addresses\" : [ \"127.0.0.1:21032\" ],\n      \"client_address\" : \"127.0.0.1:21030\",\n      \"learner_type\" : \"participant\"\n    }\n  },\n  \"command\" : \"voting_view\",\n  \"error\" : null\n}");
    let mut follower = member(1, ServerMode::Follower);
    follower.peer = Some(peer(1, 3));
    follower.stats.last_processed_zxid = 0x1_0000_012e;
    assert_eq!(super::run_command("leader", "", &mut follower), "{\n  \"is_leader\" : false,\n  \"leader_id\" : 3,\n  \"leader_ip\" : \"127.0.0.1\",\n  \"command\" : \"leader\",\n  \"error\" : null\n}");
    assert_eq!(super::run_command("voting_view", "", &mut follower), "{\n  \"current_config\" : {\n    \"1\" : {\n      \"server_addresses\" : [ \"127.0.0.1:21011\" ],\n      \"election_addresses\" : [ \"127.0.0.1:21012\" ],\n      \"client_address\" : \"127.0.0.1:21010\",\n      \"learner_type\" : \"participant\"\n    },\n    \"2\" : {\n      \"server_addresses\" : [ \"127.0.0.1:21021\" ],\n      \"election_addresses\" : [ \"127.0.0.1:21022\" ],\n      \"client_address\" : \"\",\n      \"learner_type\" : \"participant\"\n    },\n    \"3\" : {\n      \"server_addresses\" : [ \"127.0.0.1:21031\" ],\n      \"election_addresses\" : [ \"127.0.0.1:21032\" ],\n      \"client_address\" : \"\",\n      \"learner_type\" : \"participant\"\n    }\n  },\n  \"command\" : \"voting_view\",\n  \"error\" : null\n}");
    assert_eq!(super::run_command("zabstate", "", &mut follower), "{\n  \"myid\" : 1,\n  \"is_leader\" : false,\n  \"quorum_address\" : {\n    \"empty\" : false,\n    \"all_addresses\" : [ \"127.0.0.1:21011\" ],\n    \"all_reachable_addresses\" : [ \"127.0.0.1:21011\" ],\n    \"one\" : \"127.0.0.1:21011\",\n    \"reachable_address\" : \"127.0.0.1:21011\",\n    \"wildcard_addresses\" : [ \"0.0.0.0:21011\" ],\n    \"all_ports\" : [ 21011 ],\n    \"all_host_strings\" : [ \"127.0.0.1\" ],\n    \"all_reachable_addresses_or_all\" : [ \"127.0.0.1:21011\" ],\n    \"reachable_or_one\" : \"127.0.0.1:21011\"\n  },\n  \"election_address\" : {\n    \"empty\" : false,\n    \"all_addresses\" : [ \"127.0.0.1:21012\" ],\n    \"all_reachable_addresses\" : [ \"127.0.0.1:21012\" ],\n    \"one\" : \"127.0.0.1:21012\",\n    \"reachable_address\" : \"127.0.0.1:21012\",\n    \"wildcard_addresses\" : [ \"0.0.0.0:21012\" ],\n    \"all_ports\" : [ 21012 ],\n    \"all_host_strings\" : [ \"127.0.0.1\" ],\n    \"all_reachable_addresses_or_all\" : [ \"127.0.0.1:21012\" ],\n    \"reachable_or_one\" : \"127.0.0.1:21012\"\n  },\n  \"client_address\" : \"127.0.0.1:21010\",\n  \"voting\" : true,\n  \"last_zxid\" : \"0x10000012e\",\n  \"zab_epoch\" : 1,\n  \"zab_counter\" : 302,\n  \"zabstate\" : \"broadcast\",\n  \"command\" : \"zabstate\",\n  \"error\" : null\n}");
    assert_eq!(super::run_command("observers", "", &mut follower), "{\n  \"synced_observers\" : 0,\n  \"observers\" : [ ],\n  \"command\" : \"observers\",\n  \"error\" : null\n}");
    follower.stats.last_processed_zxid = 0x1_0000_0005;
    let state = super::run_command("zabstate", "", &mut follower);
    assert!(
        state.contains(
            "\"last_zxid\" : \"0x100000005\",\n  \"zab_epoch\" : 1,\n  \"zab_counter\" : 5,"
        ),
        "{state}"
    );
}
