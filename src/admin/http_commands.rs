//! The AdminServer's commands (`GET <commandURL>/<name>`): the same figures
//! as the four-letter words, as the JSON objects ZooKeeper 3.8's
//! `org.apache.zookeeper.server.admin.Commands` answer with (keys and
//! nesting taken from its answers; every object ends with `command`, the
//! command's primary name, and `error`, null or the reason).
//!
//! Served: [`command_names`]. ZooKeeper also has hash, initial_configuration,
//! last_snapshot, leader, observers, system_properties, voting_view and
//! zabstate; Paddock answers those (and any other name) as ZooKeeper
//! answers an unknown one.

use super::commands::{by_path, watching_sessions, NOT_SERVING};
use super::java;
use super::json::Json;
use super::monitor::monitor_values;
use super::stats::BufferStats;
use super::view::{ConnectionInfo, GlobalSessions, MetricValue, ServerMode, ServerView, StatsView};
use crate::tree::digest::DIGEST_VERSION;

/// The commands served: each primary name (as the command list shows it)
/// with ZooKeeper's aliases, often the four-letter word.
const COMMAND_NAMES: [(&str, &[&str]); 25] = [
    ("configuration", &["conf", "config"]),
    ("connection_stat_reset", &["crst"]),
    ("connections", &["cons"]),
    ("dirs", &[]),
    ("dump", &[]),
    ("environment", &["env", "envi"]),
    ("get_trace_mask", &["gtmk"]),
    ("hash", &[]),
    ("initial_configuration", &["icfg"]),
    ("is_read_only", &["isro"]),
    ("last_snapshot", &["lsnp"]),
    ("leader", &["lead"]),
    ("monitor", &["mntr"]),
    ("observer_connection_stat_reset", &["orst"]),
    ("observers", &["obsr"]),
    ("ruok", &[]),
    ("server_stats", &["srvr"]),
    ("set_trace_mask", &["stmk"]),
    ("stat_reset", &["srst"]),
    ("stats", &["stat"]),
    ("voting_view", &[]),
    ("watch_summary", &["wchs"]),
    ("watches", &["wchc"]),
    ("watches_by_path", &["wchp"]),
    ("zabstate", &[]),
];

/// Primary names of the commands served, in the command list's order.
pub fn command_names() -> impl Iterator<Item = &'static str> {
    COMMAND_NAMES.iter().map(|(name, _)| *name)
}

/// The primary name of command `name` (a primary name or an alias), if it
/// is served.
fn primary(name: &str) -> Option<&'static str> {
    COMMAND_NAMES
        .iter()
        .find(|(primary, aliases)| *primary == name || aliases.contains(&name))
        .map(|(primary, _)| *primary)
}

/// The JSON answer to command `name`; `query` is the request's query string
/// (`set_trace_mask` reads `traceMask=<long>` from it).
pub fn run_command(name: &str, query: &str, view: &mut dyn ServerView) -> String {
    let Some(command) = primary(name) else {
        return finish::<&str>(Vec::new(), name, Some(format!("Unknown command: {name}")));
    };
    // These read no server state, so ZooKeeper answers them even when the
    // server is not running.
    let server_free = matches!(
        command,
        "environment" | "get_trace_mask" | "set_trace_mask" | "zabstate"
    );
    if !server_free && !view.is_serving() {
        return finish::<&str>(Vec::new(), command, Some(NOT_SERVING.to_owned()));
    }
    let fields = match command {
        "configuration" => configuration(view),
        "connection_stat_reset" => {
            view.reset_connection_stats();
            Vec::new()
        }
        "connections" => vec![
            ("connections", connection_list(view, false)),
            ("secure_connections", Json::Array(Vec::new())),
        ],
        "dirs" => {
            let (data_dir_size, log_dir_size) = view.dir_sizes();
            vec![
                ("datadir_size", Json::Int(data_dir_size as i64)),
                ("logdir_size", Json::Int(log_dir_size as i64)),
            ]
        }
        "dump" => dump(view),
        "environment" => {
            let pairs = view.environment();
            let pairs = pairs.into_iter().map(|(k, v)| (k, Json::Str(v))).collect();
            return finish::<String>(pairs, command, None);
        }
        "get_trace_mask" => vec![("tracemask", Json::Int(view.trace_mask()))],
        "hash" => {
            let digests = view.digest_log().into_iter().map(|(zxid, digest)| {
                Json::object([
                    ("zxid", Json::Int(zxid)),
                    ("digest", Json::Int(digest)),
                    ("digest_version", Json::Int(DIGEST_VERSION.into())),
                ])
            });
            vec![("digests", Json::Array(digests.collect()))]
        }
        "initial_configuration" => vec![(
            "initial_configuration",
            view.initial_configuration().map_or(Json::Null, Json::Str),
        )],
        "last_snapshot" => {
            // ZooKeeper: Long.toHexString(zxid), and -1 for both without one.
            let (zxid, timestamp) = view.last_snapshot().unwrap_or((-1, -1));
            vec![
                ("zxid", Json::Str(format!("{:x}", zxid as u64))),
                ("timestamp", Json::Int(timestamp)),
            ]
        }
        "leader" => match view.peer() {
            Some(peer) => {
                let (id, host) = peer.leader.unwrap_or((-1, String::new()));
                vec![
                    ("is_leader", Json::Bool(peer.is_leader)),
                    ("leader_id", Json::Int(id)),
                    ("leader_ip", Json::Str(host)),
                ]
            }
            None => vec![("error", Json::Str("server is not initialized".into()))],
        },
        "observers" => vec![
            (
                "synced_observers",
                Json::Int(view.peer().map_or(0, |p| p.synced_observers)),
            ),
            ("observers", Json::Array(Vec::new())),
        ],
        "voting_view" => {
            let members = view.peer().map_or_else(Vec::new, |p| p.voting_members);
            let members = members.into_iter().map(|m| {
                let view = Json::object([
                    ("server_addresses", strings(vec![m.server_address])),
                    ("election_addresses", strings(vec![m.election_address])),
                    ("client_address", Json::Str(m.client_address)),
                    ("learner_type", Json::Str("participant".into())),
                ]);
                (m.id.to_string(), view)
            });
            vec![("current_config", Json::Object(members.collect()))]
        }
        "zabstate" => zabstate(view),
        "is_read_only" => vec![("read_only", Json::Bool(view.mode() == ServerMode::ReadOnly))],
        "monitor" => {
            let pairs = monitor_values(view)
                .into_iter()
                .map(|(key, value)| (key, metric(value)))
                .collect();
            return finish::<String>(pairs, command, None);
        }
        "observer_connection_stat_reset" => Vec::new(), // no observer connections here
        "server_stats" => server_stats(view),
        "set_trace_mask" => {
            let mask = query
                .split('&')
                .find_map(|pair| pair.strip_prefix("traceMask="))
                .and_then(|value| value.parse::<i64>().ok());
            match mask {
                Some(mask) => {
                    view.set_trace_mask(mask);
                    vec![("tracemask", Json::Int(mask))]
                }
                None => {
                    let error = "setTraceMask requires long traceMask argument";
                    vec![("error", Json::Str(error.into()))]
                }
            }
        }
        "stat_reset" => {
            view.reset_server_stats();
            Vec::new()
        }
        "stats" => {
            let mut fields = server_stats(view);
            fields.push(("connections", connection_list(view, true)));
            fields.push(("secure_connections", Json::Array(Vec::new())));
            fields
        }
        "watch_summary" => {
            let watches = watching_sessions(view);
            let paths = by_path(&watches).len();
            let total: usize = watches.iter().map(|w| w.paths.len()).sum();
            vec![
                ("num_connections", Json::Int(watches.len() as i64)),
                ("num_paths", Json::Int(paths as i64)),
                ("num_total_watches", Json::Int(total as i64)),
            ]
        }
        "watches" => {
            let sessions = watching_sessions(view)
                .into_iter()
                .map(|s| (s.session_id.to_string(), strings(s.paths)))
                .collect();
            vec![("session_id_to_watched_paths", Json::Object(sessions))]
        }
        "watches_by_path" => {
            let watches = watching_sessions(view);
            let paths = by_path(&watches)
                .into_iter()
                .map(|(path, ids)| {
                    let ids = ids.into_iter().map(Json::Int).collect();
                    (path.to_owned(), Json::Array(ids))
                })
                .collect();
            vec![("path_to_session_ids", Json::Object(paths))]
        }
        _ => Vec::new(), // ruok: nothing but the command and no error
    };
    finish(fields, command, None)
}

/// `zabstate`: the member's ZAB phase and addresses (ZooKeeper serialises
/// its address objects as beans: each of these is one address), or, on a
/// standalone server, `voting: false` and an empty state.
fn zabstate(view: &dyn ServerView) -> Vec<(&'static str, Json)> {
    let Some(peer) = view.peer() else {
        return vec![
            ("voting", Json::Bool(false)),
            ("zabstate", Json::Str(String::new())),
        ];
    };
    let zxid = view.stats().last_processed_zxid;
    vec![
        ("myid", Json::Int(peer.my_id)),
        ("is_leader", Json::Bool(peer.is_leader)),
        ("quorum_address", address_bean(&peer.quorum_address)),
        ("election_address", address_bean(&peer.election_address)),
        ("client_address", Json::Str(peer.client_address)),
        ("voting", Json::Bool(peer.voting)),
        ("last_zxid", Json::Str(format!("0x{:x}", zxid as u64))),
        ("zab_epoch", Json::Int(zxid >> 32)),
        ("zab_counter", Json::Int(zxid & 0xffff_ffff)),
        ("zabstate", Json::Str(peer.zab_state.into())),
    ]
}

/// ZooKeeper's `MultipleAddresses` of one `host:port` as Jackson writes it.
fn address_bean(address: &str) -> Json {
    let (host, port) = address.rsplit_once(':').unwrap_or((address, "0"));
    let one = || strings(vec![address.to_owned()]);
    Json::object([
        ("empty", Json::Bool(false)),
        ("all_addresses", one()),
        ("all_reachable_addresses", one()),
        ("one", Json::Str(address.to_owned())),
        ("reachable_address", Json::Str(address.to_owned())),
        (
            "wildcard_addresses",
            strings(vec![format!("0.0.0.0:{port}")]),
        ),
        (
            "all_ports",
            Json::Array(vec![Json::Int(port.parse().unwrap_or(0))]),
        ),
        ("all_host_strings", strings(vec![host.to_owned()])),
        ("all_reachable_addresses_or_all", one()),
        ("reachable_or_one", Json::Str(address.to_owned())),
    ])
}

/// `fields` followed by `command` and `error`, as ZooKeeper's
/// `CommandResponse.toMap` orders them: a field named `error` (a command
/// that failed, such as `leader` on a standalone server) keeps its place
/// and value before `command`, and no second `error` follows.
fn finish<K: Into<String>>(fields: Vec<(K, Json)>, command: &str, error: Option<String>) -> String {
    let mut pairs: Vec<(String, Json)> = fields.into_iter().map(|(k, v)| (k.into(), v)).collect();
    let has_error = pairs.iter().any(|(key, _)| key == "error");
    pairs.push(("command".to_owned(), Json::Str(command.to_owned())));
    if !has_error {
        pairs.push(("error".to_owned(), error.map_or(Json::Null, Json::Str)));
    }
    Json::Object(pairs).pretty()
}

fn strings(items: Vec<String>) -> Json {
    Json::Array(items.into_iter().map(Json::Str).collect())
}

fn metric(value: MetricValue) -> Json {
    match value {
        MetricValue::Int(i) => Json::Int(i),
        MetricValue::Double(d) => Json::Double(d),
        MetricValue::Text(s) => Json::Str(s),
    }
}

fn buffer_stats(sizes: BufferStats) -> Json {
    Json::object([
        ("last_buffer_size", Json::Int(sizes.last)),
        ("min_buffer_size", Json::Int(sizes.min)),
        ("max_buffer_size", Json::Int(sizes.max)),
    ])
}

/// `configuration`: ZooKeeperServerConf's map.
fn configuration(view: &dyn ServerView) -> Vec<(&'static str, Json)> {
    let conf = view.conf();
    vec![
        ("client_port", Json::Int(conf.client_port.into())),
        ("data_dir", Json::Str(conf.data_dir)),
        ("data_log_dir", Json::Str(conf.data_log_dir)),
        ("tick_time", Json::Int(conf.tick_time_ms.into())),
        ("max_client_cnxns", Json::Int(conf.max_client_cnxns.into())),
        (
            "min_session_timeout",
            Json::Int(conf.min_session_timeout_ms.into()),
        ),
        (
            "max_session_timeout",
            Json::Int(conf.max_session_timeout_ms.into()),
        ),
        ("server_id", Json::Int(conf.server_id)),
        (
            "client_port_listen_backlog",
            Json::Int(conf.client_port_listen_backlog.into()),
        ),
    ]
}

/// `server_stats` (and the head of `stats`): the version, read-only flag,
/// ServerStats, the response sizes and the node count.
fn server_stats(view: &dyn ServerView) -> Vec<(&'static str, Json)> {
    let stats: StatsView = view.stats();
    let monitor = view.monitor();
    let (data_dir_size, log_dir_size) = view.dir_sizes();
    let mode = view.mode();
    let server = Json::object([
        ("packets_sent", Json::Int(stats.packets_sent)),
        ("packets_received", Json::Int(stats.packets_received)),
        ("fsync_threshold_exceed_count", Json::Int(0)),
        (
            "client_response_stats",
            buffer_stats(monitor.client_response_sizes),
        ),
        ("data_dir_size", Json::Int(data_dir_size as i64)),
        ("log_dir_size", Json::Int(log_dir_size as i64)),
        ("provider_null", Json::Bool(false)),
        ("server_state", Json::Str(mode.name().to_owned())),
        ("last_processed_zxid", Json::Int(stats.last_processed_zxid)),
        (
            "outstanding_requests",
            Json::Int(stats.outstanding_requests),
        ),
        ("avg_latency", Json::Double(stats.avg_latency_ms)),
        ("max_latency", Json::Int(stats.max_latency_ms)),
        ("min_latency", Json::Int(stats.min_latency_ms)),
        (
            "num_alive_client_connections",
            Json::Int(stats.num_alive_connections),
        ),
        ("auth_failed_count", Json::Int(monitor.auth_failed_count)),
        (
            "non_mtlsremote_conn_count",
            Json::Int(monitor.non_mtls_remote_conn_count),
        ),
        (
            "non_mtlslocal_conn_count",
            Json::Int(monitor.non_mtls_local_conn_count),
        ),
        ("uptime", Json::Int(monitor.uptime_ms)),
    ]);
    let mut fields = vec![
        ("version", Json::Str(view.version())),
        ("read_only", Json::Bool(mode == ServerMode::ReadOnly)),
        ("server_stats", server),
        (
            "client_response",
            buffer_stats(monitor.client_response_sizes),
        ),
    ];
    if let Some(sizes) = stats.proposal_sizes {
        fields.push(("proposal_stats", buffer_stats(sizes)));
    }
    fields.push(("node_count", Json::Int(stats.node_count)));
    fields
}

/// The client connections; `brief` stops after the packet counters, as
/// `stats` lists them, and so does a connection without a session.
fn connection_list(view: &dyn ServerView, brief: bool) -> Json {
    Json::Array(
        view.connections()
            .iter()
            .map(|c| connection(c, brief))
            .collect(),
    )
}

fn connection(c: &ConnectionInfo, brief: bool) -> Json {
    let s = &c.stats;
    let mut pairs = vec![
        (
            "remote_socket_address",
            Json::Str(
                java::socket_addr(&c.remote)
                    .trim_start_matches('/')
                    .to_owned(),
            ),
        ),
        ("interest_ops", Json::Int(c.interest_ops.into())),
        ("outstanding_requests", Json::Int(c.outstanding_requests)),
        ("packets_received", Json::Int(s.packets_received)),
        ("packets_sent", Json::Int(s.packets_sent)),
    ];
    if !brief && c.session_id != 0 {
        pairs.extend([
            ("session_id", Json::Int(c.session_id)),
            ("last_operation", Json::Str(s.last_op().to_owned())),
            ("established", Json::Int(c.established_ms)),
            ("session_timeout", Json::Int(c.session_timeout_ms.into())),
            ("last_cxid", Json::Int(s.last_cxid())),
            ("last_zxid", Json::Int(s.last_zxid())),
            ("last_response_time", Json::Int(s.last_response_ms())),
            ("last_latency", Json::Int(s.last_latency_ms())),
            ("min_latency", Json::Int(s.min_latency_ms())),
            ("avg_latency", Json::Int(s.avg_latency_ms())),
            ("max_latency", Json::Int(s.max_latency_ms())),
        ]);
    }
    Json::object(pairs)
}

/// `dump`: session ids by expiry time, ephemeral paths by session.
fn dump(view: &dyn ServerView) -> Vec<(&'static str, Json)> {
    let expiry = match view.session_dump().global {
        GlobalSessions::Expiry(buckets) => buckets
            .into_iter()
            .filter(|b| !b.members.is_empty())
            .map(|b| {
                let ids = b.members.into_iter().map(Json::Int).collect();
                (b.expire_at_ms.to_string(), Json::Array(ids))
            })
            .collect(),
        GlobalSessions::Timeouts(_) => Vec::new(),
    };
    let ephemerals = view
        .ephemerals()
        .into_iter()
        .map(|(session, paths)| (session.to_string(), strings(paths)))
        .collect();
    vec![
        ("expiry_time_to_session_ids", Json::Object(expiry)),
        ("session_id_to_ephemeral_paths", Json::Object(ephemerals)),
    ]
}
