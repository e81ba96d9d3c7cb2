//! Every word against a fake server whose state is the state Apache
//! ZooKeeper 3.8.0 was in when `testdata/zk-3.8.0-4lw.txt` was captured, so
//! the answers must equal the captured bytes.

use std::net::SocketAddr;

use super::*;
use crate::proto::codes::OpCode;

/// The answers captured in a fixture file, as (name, text).
pub(super) fn parse_fixture(mut rest: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut answers = Vec::new();
    while let Some(start) = rest.find("===== ") {
        let header_end = start + rest[start..].find('\n').expect("header line");
        let mut header = rest[start + 6..header_end].rsplitn(2, ' ');
        let len: usize = header.next().unwrap().parse().expect("byte length");
        let name = header.next().expect("name");
        let body_start = header_end + 1;
        answers.push((name, &rest[body_start..body_start + len]));
        rest = &rest[body_start + len..];
    }
    answers
}

/// The answer named `name` in a fixture file.
pub(super) fn fixture_answer(fixture: &'static str, name: &str) -> &'static str {
    parse_fixture(fixture)
        .into_iter()
        .find(|(captured_name, _)| *captured_name == name)
        .unwrap_or_else(|| panic!("no capture named {name}"))
        .1
}

/// The standalone answer to `name`.
fn expected(name: &str) -> &'static str {
    fixture_answer(include_str!("testdata/zk-3.8.0-4lw.txt"), name)
}

const SESSION_A: i64 = 0x0100_0011_4c57_0002;
const SESSION_B: i64 = 0x0100_0011_4c57_0003;

/// A fake server holding plain values; counts the resets it is asked for.
pub(super) struct FakeServer {
    pub(super) serving: bool,
    pub(super) mode: ServerMode,
    pub(super) stats: StatsView,
    pub(super) connections: Vec<ConnectionInfo>,
    pub(super) conf: ConfView,
    pub(super) watches: Vec<SessionWatches>,
    pub(super) sessions: SessionDump,
    pub(super) ephemerals: Vec<(i64, Vec<String>)>,
    pub(super) connection_dump: Option<Vec<ExpiryBucket<ConnectionEntry>>>,
    pub(super) monitor: MonitorView,
    pub(super) digest_log: Vec<(i64, i64)>,
    pub(super) peer: Option<PeerView>,
    pub(super) last_snapshot: Option<(i64, i64)>,
    pub(super) initial_config: Option<String>,
    pub(super) trace_mask: i64,
    pub(super) server_stats_resets: u32,
    pub(super) dir_sizes: (u64, u64),
    pub(super) open_file_descriptors: i64,
}

impl ServerView for FakeServer {
    fn version(&self) -> String {
        "3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC".to_owned()
    }
    fn is_serving(&self) -> bool {
        self.serving
    }
    fn mode(&self) -> ServerMode {
        self.mode
    }
    fn stats(&self) -> StatsView {
        self.stats.clone()
    }
    fn connections(&self) -> Vec<ConnectionInfo> {
        self.connections.clone()
    }
    fn conf(&self) -> ConfView {
        self.conf.clone()
    }
    fn dir_sizes(&self) -> (u64, u64) {
        self.dir_sizes
    }
    fn data_watches(&self) -> Vec<SessionWatches> {
        self.watches.clone()
    }
    fn session_dump(&self) -> SessionDump {
        self.sessions.clone()
    }
    fn ephemerals(&self) -> Vec<(i64, Vec<String>)> {
        self.ephemerals.clone()
    }
    fn connection_dump(&self) -> Option<Vec<ExpiryBucket<ConnectionEntry>>> {
        self.connection_dump.clone()
    }
    fn monitor(&self) -> MonitorView {
        self.monitor.clone()
    }
    fn digest_log(&self) -> Vec<(i64, i64)> {
        self.digest_log.clone()
    }
    fn peer(&self) -> Option<PeerView> {
        self.peer.clone()
    }
    fn last_snapshot(&self) -> Option<(i64, i64)> {
        self.last_snapshot
    }
    fn initial_configuration(&self) -> Option<String> {
        self.initial_config.clone()
    }
    fn reset_server_stats(&mut self) {
        self.server_stats_resets += 1;
    }
    fn reset_connection_stats(&mut self) {
        for connection in &mut self.connections {
            connection.stats.reset();
        }
    }
    fn trace_mask(&self) -> i64 {
        self.trace_mask
    }
    fn set_trace_mask(&mut self, mask: i64) {
        self.trace_mask = mask;
    }
    fn environment(&self) -> Vec<(String, String)> {
        expected("envi")
            .lines()
            .skip(1)
            .map(|line| {
                let (key, value) = line.split_once('=').unwrap();
                (key.to_owned(), value.to_owned())
            })
            .collect()
    }
    fn open_file_descriptor_count(&self) -> i64 {
        self.open_file_descriptors
    }
    fn max_file_descriptor_count(&self) -> i64 {
        20_000
    }
}

pub(super) fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// A connection with a session, replies recorded as (op, cxid, zxid,
/// start, end).
pub(super) fn session_connection(
    port: u16,
    session_id: i64,
    established_ms: i64,
    session_timeout_ms: i32,
    replies: &[(OpCode, i32, i64, i64, i64)],
) -> ConnectionInfo {
    let mut stats = ConnectionStats::default();
    for &(op, cxid, zxid, start, end) in replies {
        stats.record_response(op, cxid, zxid, start, end);
    }
    let packets = replies.len() as i64 + 1;
    stats.packets_received = packets;
    stats.packets_sent = packets;
    ConnectionInfo {
        remote: addr(port),
        interest_ops: 1,
        outstanding_requests: 0,
        session_id,
        established_ms,
        session_timeout_ms,
        stats,
    }
}

/// The connection that asked: no session, one packet received.
pub(super) fn asking_connection(port: u16) -> ConnectionInfo {
    let mut stats = ConnectionStats::default();
    stats.packets_received = 1;
    ConnectionInfo {
        remote: addr(port),
        interest_ops: 0,
        outstanding_requests: 0,
        session_id: 0,
        established_ms: 0,
        session_timeout_ms: 0,
        stats,
    }
}

pub(super) fn bucket<T>(expire_at_ms: i64, members: Vec<T>) -> ExpiryBucket<T> {
    ExpiryBucket {
        expire_at_ms,
        members,
    }
}

/// ZooKeeper 3.8.0's state during the capture.
pub(super) fn captured_server() -> FakeServer {
    let session_b = session_connection(
        35896,
        SESSION_B,
        1_795_319_074_244,
        10_000,
        &[
            (OpCode::Create, 1, 0xb, 1_191_740, 1_191_742),
            (OpCode::GetData, 2, 0xb, 1_191_750, 1_191_750),
            (OpCode::Exists, 3, 0xc, 1_191_756, 1_191_757),
        ],
    );
    let session_a = session_connection(
        35880,
        SESSION_A,
        1_795_319_074_236,
        30_000,
        &[
            (OpCode::Create, 1, 0x9, 1_191_700, 1_191_706),
            (OpCode::Create, 2, 0xa, 1_191_710, 1_191_712),
            (OpCode::GetData, 3, 0xa, 1_191_720, 1_191_722),
            (OpCode::Exists, 4, 0xa, 1_191_730, 1_191_730),
            (OpCode::GetChildren, 5, 0xc, 1_191_754, 1_191_754),
        ],
    );
    FakeServer {
        serving: true,
        mode: ServerMode::Standalone,
        stats: StatsView {
            min_latency_ms: 0,
            avg_latency_ms: 3.95,
            max_latency_ms: 30,
            packets_received: 31,
            packets_sent: 34,
            num_alive_connections: 3,
            outstanding_requests: 0,
            last_processed_zxid: 0xc,
            node_count: 8,
            proposal_sizes: None,
        },
        connections: vec![session_b, session_a, asking_connection(35960)],
        conf: ConfView {
            client_port: 22371,
            secure_client_port: -1,
            data_dir: "/tmp/zkcap/data/version-2".to_owned(),
            data_log_dir: "/tmp/zkcap/data/version-2".to_owned(),
            tick_time_ms: 2000,
            max_client_cnxns: 60,
            min_session_timeout_ms: 4000,
            max_session_timeout_ms: 40_000,
            client_port_listen_backlog: -1,
            server_id: 0,
            quorum: None,
        },
        watches: vec![
            SessionWatches {
                session_id: SESSION_B,
                paths: vec!["/eph".to_owned(), "/x".to_owned()],
            },
            SessionWatches {
                session_id: SESSION_A,
                paths: vec!["/x".to_owned(), "/nope".to_owned()],
            },
        ],
        sessions: SessionDump {
            local: None,
            global: GlobalSessions::Expiry(vec![
                bucket(1_795_319_104_000, vec![SESSION_A]),
                bucket(1_795_319_084_000, vec![SESSION_B]),
            ]),
        },
        ephemerals: vec![
            (SESSION_A, vec!["/eph".to_owned()]),
            (SESSION_B, vec!["/eph2".to_owned()]),
        ],
        connection_dump: Some(vec![
            bucket(1_795_319_082_000, vec![]),
            bucket(
                1_795_319_092_000,
                vec![
                    ConnectionEntry {
                        remote: addr(35896),
                        session_id: SESSION_B,
                    },
                    ConnectionEntry {
                        remote: addr(36028),
                        session_id: 0,
                    },
                ],
            ),
            bucket(1_795_319_102_000, vec![]),
            bucket(
                1_795_319_112_000,
                vec![ConnectionEntry {
                    remote: addr(35880),
                    session_id: SESSION_A,
                }],
            ),
        ]),
        monitor: MonitorView {
            uptime_ms: 60_259,
            ephemerals_count: 2,
            approximate_data_size: 61,
            global_sessions: 2,
            local_sessions: 0,
            watch_count: 5,
            client_response_sizes: BufferStats {
                last: 84,
                min: 16,
                max: 93,
            },
            connection_drop_probability: 0.0,
            outstanding_tls_handshake: 0,
            auth_failed_count: 0,
            non_mtls_remote_conn_count: 0,
            non_mtls_local_conn_count: 0,
            quorum: None,
            extra: vec![
                ("proposal_count".to_owned(), MetricValue::Int(0)),
                ("watch_bytes".to_owned(), MetricValue::Int(29)),
            ],
        },
        digest_log: vec![],
        peer: None,
        last_snapshot: Some((0, 1_796_548_695)),
        initial_config: Some("tickTime=500\ndataDir=/tmp/d\n".to_owned()),
        trace_mask: 386,
        server_stats_resets: 0,
        dir_sizes: (67_109_337, 67_109_337),
        open_file_descriptors: 43,
    }
}

pub(super) fn run(server: &mut FakeServer, word: FourLetterWord) -> String {
    execute(word, &[], server)
}

#[test]
fn a_words_answer_counts_as_zookeeper_sends_it() {
    // ZooKeeper 3.8, measured: srvr (~200 characters) 1 packet, mntr
    // (16,319) 2, envi (21,741) 3; nothing written, nothing sent.
    assert_eq!(super::reply_packets(""), 0);
    assert_eq!(super::reply_packets("imok"), 1);
    assert_eq!(super::reply_packets(&"x".repeat(8192)), 1);
    assert_eq!(super::reply_packets(&"x".repeat(8193)), 2);
    assert_eq!(super::reply_packets(&"x".repeat(16_319)), 2);
    assert_eq!(super::reply_packets(&"x".repeat(21_741)), 3);
}

#[test]
fn ruok_isro_gtmk_match_zookeeper() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Ruok), expected("ruok"));
    assert_eq!(run(&mut server, FourLetterWord::Isro), expected("isro"));
    assert_eq!(run(&mut server, FourLetterWord::Gtmk), expected("gtmk"));
}

#[test]
fn srvr_matches_zookeeper() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Srvr), expected("srvr"));
}

#[test]
fn stat_lists_clients_briefly_then_the_stats() {
    let mut server = captured_server();
    server.stats.packets_received = 32;
    server.stats.packets_sent = 35;
    server.connections[2] = asking_connection(35944);
    assert_eq!(run(&mut server, FourLetterWord::Stat), expected("stat"));
}

#[test]
fn cons_matches_zookeeper() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Cons), expected("cons"));
}

#[test]
fn crst_resets_connections_and_cons_then_hides_lcxid() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Crst), expected("crst"));
    server.connections[2] = asking_connection(36056);
    let last = server.connections.remove(2);
    server.connections.insert(1, last);
    assert_eq!(
        run(&mut server, FourLetterWord::Cons),
        expected("cons_after_crst")
    );
}

#[test]
fn srst_resets_server_stats() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Srst), expected("srst"));
    assert_eq!(server.server_stats_resets, 1);
    server.stats.avg_latency_ms = 0.0;
    server.stats.max_latency_ms = 0;
    server.stats.packets_received = 3;
    server.stats.packets_sent = 3;
    assert_eq!(
        run(&mut server, FourLetterWord::Srvr),
        expected("srvr_after_srst")
    );
}

#[test]
fn conf_and_dirs_match_zookeeper() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Conf), expected("conf"));
    assert_eq!(run(&mut server, FourLetterWord::Dirs), expected("dirs"));
}

#[test]
fn envi_matches_zookeeper_layout() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Envi), expected("envi"));
}

#[test]
fn wchs_and_wchc_match_zookeeper() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Wchs), expected("wchs"));
    assert_eq!(run(&mut server, FourLetterWord::Wchc), expected("wchc"));
}

#[test]
fn wchp_lists_paths_in_first_seen_order_with_zookeepers_lines() {
    let mut server = captured_server();
    let ours = run(&mut server, FourLetterWord::Wchp);
    assert_eq!(
        ours,
        "/eph\n\t0x10000114c570003\n/x\n\t0x10000114c570003\n\t0x10000114c570002\n\
         /nope\n\t0x10000114c570002\n\n"
    );
    // ZooKeeper orders sessions under a path by hash; the lines are the same.
    let mut ours_lines: Vec<&str> = ours.lines().collect();
    let mut theirs_lines: Vec<&str> = expected("wchp").lines().collect();
    ours_lines.sort_unstable();
    theirs_lines.sort_unstable();
    assert_eq!(ours_lines, theirs_lines);
}

#[test]
fn dump_matches_zookeeper() {
    let mut server = captured_server();
    assert_eq!(run(&mut server, FourLetterWord::Dump), expected("dump"));
}

#[test]
fn mntr_starts_like_zookeeper() {
    let mut server = captured_server();
    server.stats.packets_received = 42;
    server.stats.packets_sent = 45;
    let ours = run(&mut server, FourLetterWord::Mntr);
    let theirs: Vec<&str> = expected("mntr").lines().take(28).collect();
    assert_eq!(ours.lines().collect::<Vec<_>>(), theirs);
    assert!(ours.ends_with('\n'));
}

#[test]
fn mntr_with_metrics_has_every_zookeeper_key() {
    let mut server = captured_server();
    server.monitor.extra = Metrics::new().lines();
    let keys = |text: &str| -> Vec<String> {
        text.lines()
            .map(|line| line.split('\t').next().unwrap().to_owned())
            .filter(|key| !key.ends_with("_per_namespace"))
            .collect()
    };
    let ours = run(&mut server, FourLetterWord::Mntr);
    assert_eq!(keys(&ours), keys(expected("mntr")));
}

#[test]
fn stmk_sets_the_mask_from_the_payload_and_echoes_it() {
    let mut server = captured_server();
    server.trace_mask = DEFAULT_TRACE_MASK;
    let payload = 386_i64.to_be_bytes();
    let answer = execute(FourLetterWord::Stmk, &payload, &mut server);
    assert_eq!(answer, expected("stmk"));
    assert_eq!(server.trace_mask, 386);
    assert_eq!(run(&mut server, FourLetterWord::Gtmk), "386");
}

#[test]
fn telnet_close_answers_nothing() {
    let mut server = captured_server();
    assert_eq!(
        run(&mut server, FourLetterWord::TelnetClose),
        expected("telnet_close")
    );
}

#[test]
fn respond_refuses_like_zookeeper_with_a_short_whitelist() {
    // Captured from ZooKeeper 3.8.0 with `4lw.commands.whitelist=ruok, stat`.
    let mut server = captured_server();
    let whitelist = FourLetterWhitelist::from_config(Some("ruok, stat"), false);
    let refused = [
        (
            FourLetterWord::Mntr,
            "mntr is not executed because it is not in the whitelist.\n",
        ),
        (
            FourLetterWord::Isro,
            "isro is not executed because it is not in the whitelist.\n",
        ),
        (
            FourLetterWord::TelnetClose,
            "telnet close is not executed because it is not in the whitelist.\n",
        ),
        (
            FourLetterWord::Stmk,
            "stmk is not executed because it is not in the whitelist.\n",
        ),
        (
            FourLetterWord::Hash,
            "hash is not executed because it is not in the whitelist.\n",
        ),
    ];
    for (word, answer) in refused {
        assert_eq!(respond(word, &[0; 8], &whitelist, &mut server), answer);
    }
    assert_eq!(server.trace_mask, 386);
    assert_eq!(
        respond(FourLetterWord::Ruok, &[], &whitelist, &mut server),
        "imok"
    );
    assert_eq!(
        respond(FourLetterWord::Srvr, &[], &whitelist, &mut server),
        expected("srvr")
    );
}

#[test]
fn respond_refuses_words_outside_the_whitelist() {
    let mut server = captured_server();
    let whitelist = FourLetterWhitelist::from_config(None, false);
    assert_eq!(
        respond(FourLetterWord::Ruok, &[], &whitelist, &mut server),
        "ruok is not executed because it is not in the whitelist.\n"
    );
    assert_eq!(
        respond(FourLetterWord::Srvr, &[], &whitelist, &mut server),
        expected("srvr")
    );
}

#[test]
fn not_serving_answers_per_word() {
    let mut server = captured_server();
    server.serving = false;
    let not_serving = format!("{NOT_SERVING}\n");
    for word in [
        FourLetterWord::Srvr,
        FourLetterWord::Stat,
        FourLetterWord::Cons,
        FourLetterWord::Conf,
        FourLetterWord::Dirs,
        FourLetterWord::Wchs,
        FourLetterWord::Wchc,
        FourLetterWord::Wchp,
        FourLetterWord::Dump,
        FourLetterWord::Mntr,
        FourLetterWord::Srst,
        FourLetterWord::Crst,
    ] {
        assert_eq!(run(&mut server, word), not_serving, "{}", word.name());
    }
    assert_eq!(server.server_stats_resets, 0);
    assert_eq!(run(&mut server, FourLetterWord::Isro), "null");
    assert_eq!(run(&mut server, FourLetterWord::Hash), NOT_SERVING);
    assert_eq!(run(&mut server, FourLetterWord::Ruok), "imok");
    assert_eq!(run(&mut server, FourLetterWord::Gtmk), "386");
    assert!(run(&mut server, FourLetterWord::Envi).starts_with("Environment:\n"));
}

#[test]
fn read_only_server_says_so() {
    let mut server = captured_server();
    server.mode = ServerMode::ReadOnly;
    assert_eq!(run(&mut server, FourLetterWord::Isro), "ro");
    let srvr = run(&mut server, FourLetterWord::Srvr);
    assert!(
        srvr.contains("UTC\nREAD-ONLY mode; serving only read-only clients\nLatency min/avg/max:")
    );
    assert!(srvr.contains("\nMode: read-only\n"));
}

#[test]
fn leader_srvr_adds_proposal_sizes() {
    let mut server = captured_server();
    server.mode = ServerMode::Leader;
    server.stats.proposal_sizes = Some(BufferStats {
        last: 36,
        min: 32,
        max: 120,
    });
    let srvr = run(&mut server, FourLetterWord::Srvr);
    assert!(srvr.ends_with("Mode: leader\nNode count: 8\nProposal sizes last/min/max: 36/32/120\n"));
}

#[test]
fn quorum_conf_adds_quorum_keys_and_membership() {
    let mut server = captured_server();
    server.conf.server_id = 2;
    server.conf.quorum = Some(QuorumConfView {
        init_limit: 10,
        sync_limit: 5,
        election_alg: 3,
        election_ports: vec![3888],
        quorum_ports: vec![2888, 2889],
        observer: false,
        membership: "server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=0".to_owned(),
    });
    let conf = run(&mut server, FourLetterWord::Conf);
    assert!(conf.ends_with(
        "serverId=2\ninitLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=3888\n\
         quorumPort=2888|2889\npeerType=0\nmembership: \n\
         server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=0"
    ));
}

#[test]
fn learner_dump_lists_global_sessions_with_timeouts() {
    let mut server = captured_server();
    server.sessions = SessionDump {
        local: Some(vec![bucket(1_795_319_084_000, vec![0x5])]),
        global: GlobalSessions::Timeouts(vec![(SESSION_B, 10_000), (SESSION_A, 30_000)]),
    };
    server.connection_dump = None;
    let dump = run(&mut server, FourLetterWord::Dump);
    assert!(dump.starts_with(
        "SessionTracker dump:\nLocal Session Sets (1)/(1):\n\
         1 expire at Sun Nov 22 03:44:44 UTC 2026:\n\t0x5\n\
         Global Sessions(2):\n0x10000114c570002\t30000ms\n0x10000114c570003\t10000ms\n\
         ephemeral nodes dump:\n"
    ));
    assert!(dump.ends_with("\t/eph2\nConnections dump:\n"));
}

#[test]
fn leader_dump_with_local_sessions_prefixes_global() {
    let mut server = captured_server();
    server.sessions.local = Some(vec![]);
    let dump = run(&mut server, FourLetterWord::Dump);
    assert!(dump.starts_with(
        "SessionTracker dump:\nLocal Session Sets (0)/(0):\nGlobal Session Sets (2)/(2):\n"
    ));
}

#[test]
fn hash_prints_the_digest_log() {
    let mut server = captured_server();
    server.digest_log = vec![(0x80, 1_234_567), (0x100, -5)];
    assert_eq!(
        run(&mut server, FourLetterWord::Hash),
        "80: 1234567\n100: -5\n"
    );
}

#[test]
fn default_environment_fills_every_envi_key() {
    let env = environment(VERSION);
    assert_eq!(env[0], ("zookeeper.version".to_owned(), VERSION.to_owned()));
    assert!(VERSION.starts_with("3.8.0-paddock-"));
}

#[test]
fn admin_server_commands_answer_by_name_or_alias() {
    let mut server = captured_server();
    let monitor = super::run_command("mntr", "", &mut server);
    assert!(
        monitor.contains("\"server_state\" : \"standalone\""),
        "{monitor}"
    );
    assert!(
        monitor.ends_with("\"command\" : \"monitor\",\n  \"error\" : null\n}"),
        "{monitor}"
    );
    assert_eq!(
        super::run_command("nosuch", "", &mut server),
        "{\n  \"command\" : \"nosuch\",\n  \"error\" : \"Unknown command: nosuch\"\n}"
    );
    server.serving = false;
    assert!(super::run_command("ruok", "", &mut server).contains(super::NOT_SERVING));
    assert!(super::run_command("environment", "", &mut server).contains("\"error\" : null"));
    // `leader` answers an error on a standalone server (see below).
    for name in super::command_names().filter(|n| *n != "leader") {
        server.serving = true;
        let answer = super::run_command(name, "traceMask=42", &mut server);
        assert!(
            answer.contains(&format!("\"command\" : \"{name}\"")),
            "{name}: {answer}"
        );
        assert!(answer.contains("\"error\" : null"), "{name}: {answer}");
    }
    assert_eq!(server.trace_mask(), 42);
    assert_eq!(
        super::run_command("stmk", "", &mut server),
        "{\n  \"error\" : \"setTraceMask requires long traceMask argument\",\n  \"command\" : \"set_trace_mask\"\n}"
    );
}

/// A standalone ZooKeeper 3.8.0's answers to the ensemble commands and to
/// last_snapshot, hash and initial_configuration (captured over HTTP).
#[test]
fn admin_server_ensemble_commands_on_a_standalone_server() {
    let mut server = captured_server();
    let answer = |server: &mut FakeServer, name| super::run_command(name, "", server);
    assert_eq!(
        answer(&mut server, "leader"),
        "{\n  \"error\" : \"server is not initialized\",\n  \"command\" : \"leader\"\n}"
    );
    assert_eq!(
        answer(&mut server, "voting_view"),
        "{\n  \"current_config\" : { },\n  \"command\" : \"voting_view\",\n  \"error\" : null\n}"
    );
    assert_eq!(
        answer(&mut server, "observers"),
        "{\n  \"synced_observers\" : 0,\n  \"observers\" : [ ],\n  \"command\" : \"observers\",\n  \"error\" : null\n}"
    );
    assert_eq!(
        answer(&mut server, "zabstate"),
        "{\n  \"voting\" : false,\n  \"zabstate\" : \"\",\n  \"command\" : \"zabstate\",\n  \"error\" : null\n}"
    );
    assert_eq!(
        answer(&mut server, "lsnp"),
        "{\n  \"zxid\" : \"0\",\n  \"timestamp\" : 1796548695,\n  \"command\" : \"last_snapshot\",\n  \"error\" : null\n}"
    );
    server.last_snapshot = None;
    assert!(answer(&mut server, "last_snapshot")
        .contains("\"zxid\" : \"ffffffffffffffff\",\n  \"timestamp\" : -1,"));
    assert_eq!(
        answer(&mut server, "icfg"),
        "{\n  \"initial_configuration\" : \"tickTime=500\\ndataDir=/tmp/d\\n\",\n  \"command\" : \"initial_configuration\",\n  \"error\" : null\n}"
    );
    assert_eq!(
        answer(&mut server, "hash"),
        "{\n  \"digests\" : [ ],\n  \"command\" : \"hash\",\n  \"error\" : null\n}"
    );
    server.digest_log = vec![
        (0x1_0000_0080, 288_021_782_664),
        (0x1_0000_0100, 541_622_757_506),
    ];
    assert_eq!(
        answer(&mut server, "hash"),
        concat!(
            "{\n  \"digests\" : [ {\n    \"zxid\" : 4294967424,\n    \"digest\" : 288021782664,\n",
            "    \"digest_version\" : 2\n  }, {\n    \"zxid\" : 4294967552,\n",
            "    \"digest\" : 541622757506,\n    \"digest_version\" : 2\n  } ],\n",
            "  \"command\" : \"hash\",\n  \"error\" : null\n}"
        )
    );
    // zabstate needs no running server; leader does.
    server.serving = false;
    assert!(answer(&mut server, "zabstate").contains("\"error\" : null"));
    assert!(answer(&mut server, "leader").contains(super::NOT_SERVING));
}
