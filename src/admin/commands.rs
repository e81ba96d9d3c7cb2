//! The text of each four-letter word, laid out byte for byte as ZooKeeper
//! 3.8 writes it (`server/command/*.java`; fixtures captured from 3.8.0 in
//! `testdata/zk-3.8.0-4lw.txt`).

use std::collections::HashMap;
use std::fmt::Write;

use super::java;
use super::monitor::monitor;
use super::view::{
    ConnectionEntry, ConnectionInfo, ExpiryBucket, GlobalSessions, ServerMode, ServerView,
    SessionWatches,
};
use super::word::{not_whitelisted_message, FourLetterWhitelist, FourLetterWord};

/// The answer of most words while the server is not serving, before `\n`.
pub const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// The whole answer to `word`: [`not_whitelisted_message`] when the
/// whitelist refuses it, else [`execute`]. The server writes the returned
/// text as is (no framing) and closes the connection; an empty answer (telnet
/// close) means close without writing. Check [`FourLetterWhitelist::allows`]
/// before reading the `stmk` payload: ZooKeeper refuses a word without
/// reading what follows it.
pub fn respond(
    word: FourLetterWord,
    payload: &[u8],
    whitelist: &FourLetterWhitelist,
    view: &mut dyn ServerView,
) -> String {
    if whitelist.allows(word) {
        execute(word, payload, view)
    } else {
        not_whitelisted_message(word)
    }
}

/// Characters ZooKeeper's word writer (a `BufferedWriter`) holds before
/// it hands them on; each hand-on is sent as one packet.
const WORD_WRITER_BUFFER: usize = 8192;

/// How many packets ZooKeeper's server counts (`Sent`, `zk_packets_sent`)
/// for writing `text` as a word's answer: one per full buffer of
/// `WORD_WRITER_BUFFER` (8,192) characters (UTF-16 units, as Java counts) and one
/// for the rest, so nothing for an empty answer (`mntr`, ~16,000 characters:
/// 2; `srvr`: 1).
pub fn reply_packets(text: &str) -> i64 {
    text.encode_utf16().count().div_ceil(WORD_WRITER_BUFFER) as i64
}

/// Runs `word` against `view` and returns its exact text. `payload` holds
/// the [`FourLetterWord::payload_len`] bytes read after the word: for `stmk`,
/// the new trace mask as a big-endian i64 (missing bytes count as zero).
pub fn execute(word: FourLetterWord, payload: &[u8], view: &mut dyn ServerView) -> String {
    use FourLetterWord::*;
    match word {
        Ruok => "imok".to_owned(),
        Gtmk => view.trace_mask().to_string(),
        Stmk => set_trace_mask(payload, view),
        Envi => envi(view),
        TelnetClose => String::new(),
        Isro => isro(view),
        Hash if !view.is_serving() => NOT_SERVING.to_owned(),
        _ if !view.is_serving() => format!("{NOT_SERVING}\n"),
        Srvr => stat(view, false),
        Stat => stat(view, true),
        Cons => cons(view),
        Conf => conf(view),
        Dirs => dirs(view),
        Wchs => wchs(view),
        Wchc => wchc(view),
        Wchp => wchp(view),
        Dump => dump(view),
        Mntr => monitor(view),
        Hash => hash(view),
        Srst => {
            view.reset_server_stats();
            "Server stats reset.\n".to_owned()
        }
        Crst => {
            view.reset_connection_stats();
            "Connection stats reset.\n".to_owned()
        }
    }
}

/// `stmk`: stores the mask and echoes it in decimal.
fn set_trace_mask(payload: &[u8], view: &mut dyn ServerView) -> String {
    let mut bytes = [0u8; 8];
    let len = payload.len().min(8);
    bytes[..len].copy_from_slice(&payload[..len]);
    let mask = i64::from_be_bytes(bytes);
    view.set_trace_mask(mask);
    mask.to_string()
}

/// `isro`: `null` when not serving, else `ro` or `rw`; no newline.
fn isro(view: &dyn ServerView) -> String {
    let answer = match (view.is_serving(), view.mode()) {
        (false, _) => "null",
        (true, ServerMode::ReadOnly) => "ro",
        (true, _) => "rw",
    };
    answer.to_owned()
}

/// `envi`: `Environment:` then `key=value` lines; answered even when not
/// serving.
fn envi(view: &dyn ServerView) -> String {
    let mut out = String::from("Environment:\n");
    for (key, value) in view.environment() {
        let _ = writeln!(out, "{key}={value}");
    }
    out
}

/// `srvr` (`with_clients` false) and `stat` (true).
fn stat(view: &dyn ServerView, with_clients: bool) -> String {
    let mut out = format!("Zookeeper version: {}\n", view.version());
    let mode = view.mode();
    if mode == ServerMode::ReadOnly {
        out.push_str("READ-ONLY mode; serving only read-only clients\n");
    }
    if with_clients {
        out.push_str("Clients:\n");
        for connection in view.connections() {
            write_connection(&mut out, &connection, true);
            out.push('\n');
        }
        out.push('\n');
    }
    let stats = view.stats();
    let _ = write!(
        out,
        "Latency min/avg/max: {}/{}/{}\nReceived: {}\nSent: {}\nConnections: {}\n\
         Outstanding: {}\nZxid: 0x{}\nMode: {}\nNode count: {}\n",
        stats.min_latency_ms,
        java::double(stats.avg_latency_ms),
        stats.max_latency_ms,
        stats.packets_received,
        stats.packets_sent,
        stats.num_alive_connections,
        stats.outstanding_requests,
        java::hex(stats.last_processed_zxid),
        mode.name(),
        stats.node_count,
    );
    if let Some(sizes) = stats.proposal_sizes {
        let _ = writeln!(
            out,
            "Proposal sizes last/min/max: {}/{}/{}",
            sizes.last, sizes.min, sizes.max
        );
    }
    out
}

/// `cons`: one full line per connection, then an empty line.
fn cons(view: &dyn ServerView) -> String {
    let mut out = String::new();
    for connection in view.connections() {
        write_connection(&mut out, &connection, false);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// One connection as ZooKeeper's `dumpConnectionInfo` prints it, without
/// the newline; `brief` stops after the packet counters.
fn write_connection(out: &mut String, connection: &ConnectionInfo, brief: bool) {
    let stats = &connection.stats;
    let _ = write!(
        out,
        " {}[{}](queued={},recved={},sent={}",
        java::socket_addr(&connection.remote),
        format_args!("{:x}", connection.interest_ops),
        connection.outstanding_requests,
        stats.packets_received,
        stats.packets_sent,
    );
    if !brief && connection.session_id != 0 {
        let _ = write!(
            out,
            ",sid=0x{},lop={},est={},to={}",
            java::hex(connection.session_id),
            stats.last_op(),
            connection.established_ms,
            connection.session_timeout_ms,
        );
        if stats.last_cxid() >= 0 {
            let _ = write!(out, ",lcxid=0x{}", java::hex(stats.last_cxid()));
        }
        let _ = write!(
            out,
            ",lzxid=0x{},lresp={},llat={},minlat={},avglat={},maxlat={}",
            java::hex(stats.last_zxid()),
            stats.last_response_ms(),
            stats.last_latency_ms(),
            stats.min_latency_ms(),
            stats.avg_latency_ms(),
            stats.max_latency_ms(),
        );
    }
    out.push(')');
}

/// `conf`: `key=value` lines, plus the quorum keys and membership on a
/// quorum member.
fn conf(view: &dyn ServerView) -> String {
    let conf = view.conf();
    let (data_dir_size, data_log_size) = view.dir_sizes();
    let mut out = String::new();
    let _ = write!(
        out,
        "clientPort={}\nsecureClientPort={}\ndataDir={}\ndataDirSize={}\ndataLogDir={}\n\
         dataLogSize={}\ntickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\n\
         maxSessionTimeout={}\nclientPortListenBacklog={}\nserverId={}\n",
        conf.client_port,
        conf.secure_client_port,
        conf.data_dir,
        data_dir_size,
        conf.data_log_dir,
        data_log_size,
        conf.tick_time_ms,
        conf.max_client_cnxns,
        conf.min_session_timeout_ms,
        conf.max_session_timeout_ms,
        conf.client_port_listen_backlog,
        conf.server_id,
    );
    if let Some(quorum) = conf.quorum {
        let _ = write!(
            out,
            "initLimit={}\nsyncLimit={}\nelectionAlg={}\nelectionPort={}\nquorumPort={}\n\
             peerType={}\nmembership: \n{}",
            quorum.init_limit,
            quorum.sync_limit,
            quorum.election_alg,
            join_ports(&quorum.election_ports),
            join_ports(&quorum.quorum_ports),
            i32::from(quorum.observer),
            quorum.membership,
        );
    }
    out
}

/// Ports joined by `|`.
fn join_ports(ports: &[u16]) -> String {
    let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
    ports.join("|")
}

/// `dirs`: the snapshot and log directory sizes in bytes.
fn dirs(view: &dyn ServerView) -> String {
    let (data_dir_size, log_dir_size) = view.dir_sizes();
    format!("datadir_size: {data_dir_size}\nlogdir_size: {log_dir_size}\n")
}

/// `wchs`: sessions watching, distinct paths and total data watches.
fn wchs(view: &dyn ServerView) -> String {
    let watches = watching_sessions(view);
    let paths = by_path(&watches).len();
    let total: usize = watches.iter().map(|w| w.paths.len()).sum();
    format!(
        "{} connections watching {paths} paths\nTotal watches:{total}\n",
        watches.len()
    )
}

/// `wchc`: each session, then its watched paths indented by a tab.
fn wchc(view: &dyn ServerView) -> String {
    let mut out = String::new();
    for session in watching_sessions(view) {
        let _ = writeln!(out, "0x{}", java::hex(session.session_id));
        for path in &session.paths {
            let _ = writeln!(out, "\t{path}");
        }
    }
    out.push('\n');
    out
}

/// `wchp`: each watched path, then its sessions indented by a tab.
fn wchp(view: &dyn ServerView) -> String {
    let mut out = String::new();
    for (path, sessions) in by_path(&watching_sessions(view)) {
        let _ = writeln!(out, "{path}");
        for session_id in sessions {
            let _ = writeln!(out, "\t0x{}", java::hex(session_id));
        }
    }
    out.push('\n');
    out
}

/// The sessions holding at least one data watch, in the view's order.
pub(super) fn watching_sessions(view: &dyn ServerView) -> Vec<SessionWatches> {
    let mut watches = view.data_watches();
    watches.retain(|session| !session.paths.is_empty());
    watches
}

/// The watches inverted: each path, in order of first appearance, with the
/// sessions watching it in the given session order.
pub(super) fn by_path(watches: &[SessionWatches]) -> Vec<(&str, Vec<i64>)> {
    let mut paths: Vec<(&str, Vec<i64>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for session in watches {
        for path in &session.paths {
            let slot = *index.entry(path).or_insert_with(|| {
                paths.push((path, Vec::new()));
                paths.len() - 1
            });
            paths[slot].1.push(session.session_id);
        }
    }
    paths
}

/// `dump`: sessions by expiry, ephemerals by session, connections by expiry.
fn dump(view: &dyn ServerView) -> String {
    let mut out = String::from("SessionTracker dump:\n");
    let sessions = view.session_dump();
    if let Some(local) = &sessions.local {
        out.push_str("Local Session ");
        write_expiry(&mut out, local, |id| format!("0x{}", java::hex(*id)));
    }
    match &sessions.global {
        GlobalSessions::Expiry(buckets) => {
            if sessions.local.is_some() {
                out.push_str("Global ");
            }
            out.push_str("Session ");
            write_expiry(&mut out, buckets, |id| format!("0x{}", java::hex(*id)));
        }
        GlobalSessions::Timeouts(timeouts) => write_session_timeouts(&mut out, timeouts),
    }
    out.push_str("ephemeral nodes dump:\n");
    write_ephemerals(&mut out, &view.ephemerals());
    out.push_str("Connections dump:\n");
    if let Some(buckets) = view.connection_dump() {
        out.push_str("Connections ");
        write_expiry(&mut out, &buckets, |entry: &ConnectionEntry| {
            format!(
                "ip: {} sessionId: 0x{}",
                java::socket_addr(&entry.remote),
                java::hex(entry.session_id)
            )
        });
    }
    out
}

/// An expiry queue (`ExpiryQueue.dump`): `Sets (<buckets>)/(<members>):`,
/// then per bucket, earliest first, `<n> expire at <date>:` and its members.
fn write_expiry<T>(out: &mut String, buckets: &[ExpiryBucket<T>], member: impl Fn(&T) -> String) {
    let members: usize = buckets.iter().map(|b| b.members.len()).sum();
    let _ = writeln!(out, "Sets ({})/({members}):", buckets.len());
    let mut sorted: Vec<&ExpiryBucket<T>> = buckets.iter().collect();
    sorted.sort_by_key(|bucket| bucket.expire_at_ms);
    for bucket in sorted {
        let _ = writeln!(
            out,
            "{} expire at {}:",
            bucket.members.len(),
            java::date_utc(bucket.expire_at_ms)
        );
        for entry in &bucket.members {
            let _ = writeln!(out, "\t{}", member(entry));
        }
    }
}

/// A learner's global sessions: `Global Sessions(<n>):` then
/// `0x<id>\t<timeout>ms` sorted by id.
fn write_session_timeouts(out: &mut String, timeouts: &[(i64, i32)]) {
    let _ = writeln!(out, "Global Sessions({}):", timeouts.len());
    let mut sorted = timeouts.to_vec();
    sorted.sort_unstable();
    for (session_id, timeout_ms) in sorted {
        let _ = writeln!(out, "0x{}\t{timeout_ms}ms", java::hex(session_id));
    }
}

/// `Sessions with Ephemerals (<n>):` then each session and its paths.
fn write_ephemerals(out: &mut String, ephemerals: &[(i64, Vec<String>)]) {
    let _ = writeln!(out, "Sessions with Ephemerals ({}):", ephemerals.len());
    for (session_id, paths) in ephemerals {
        let _ = writeln!(out, "0x{}:", java::hex(*session_id));
        for path in paths {
            let _ = writeln!(out, "\t{path}");
        }
    }
}

/// `hash`: `<zxid hex>: <digest>` per digest-log entry.
fn hash(view: &dyn ServerView) -> String {
    let mut out = String::new();
    for (zxid, digest) in view.digest_log() {
        let _ = writeln!(out, "{}: {digest}", java::hex(zxid));
    }
    out
}
