//! The workloads: what each one sends, the nodes it needs before it starts, and
//! how it removes every node it made, so runs repeat against the same server.
//!
//! Every workload works under `<root>/<name>`, where the root is one node per
//! bench run. Node names carry the session index and operation number, so a
//! workload can delete exactly what it created without listing huge parents.

use super::histogram::Histogram;
use super::load::{close_all, connect_all, drive, Gate, OpSource, Progress, Tally};
use super::wire::{
    bodiless_request, create_flags, create_request, invalid, multi_create, request, split_reply,
    Session, REPLY_TIMEOUT,
};
use crate::jute::records::{
    DeleteRequest, ExistsRequest, GetChildrenRequest, GetChildrenResponse, GetDataRequest,
    MultiHeader, ReplyHeader, SetDataRequest, WatcherEvent,
};
use crate::jute::Record;
use crate::proto::codes::{event_type, xid};
use crate::proto::{ErrorCode, OpCode};
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Fixture nodes `k0..k999` for the key workloads; also the child count of the
/// node that getChildren lists.
const KEYS: usize = 1_000;
/// Creates per multi request in the multi workload.
const MULTI_WIDTH: u64 = 10;
/// Requests per burst when the control session sets up or removes fixtures.
const BURST_MAX: usize = 500;
/// In the mixed workload, one operation in this many is a setData.
const MIXED_WRITE_EVERY: u64 = 10;
/// How long the churn workload waits for the server to delete its ephemerals.
const EPHEMERALS_GONE_WAIT_MAX: Duration = Duration::from_secs(60);
/// Pause between two checks for leftover ephemerals.
const EPHEMERALS_POLL: Duration = Duration::from_millis(1);

/// A workload `paddock bench` can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// create of persistent nodes carrying --data-size bytes.
    Create,
    /// setData of --data-size bytes on 1,000 existing nodes.
    SetData,
    /// getData of 1,000 existing nodes.
    GetData,
    /// exists on 1,000 existing nodes.
    Exists,
    /// getChildren of a node with 1,000 children.
    GetChildren,
    /// 90 % getData, 10 % setData on 1,000 existing nodes.
    Mixed,
    /// multi of 10 creates.
    Multi,
    /// Watch fan-out: --watchers sessions watch one node, one setData fires
    /// them all; the latency is the time until the last event arrives.
    Watch,
    /// Session churn: connect, create an ephemeral, closeSession; then the time
    /// until every ephemeral is gone.
    Churn,
    /// Every workload above, in that order (not znodes).
    All,
    /// Memory: create --znodes nodes of --data-size bytes, read the server's
    /// RSS (when its --pid is given), then delete them. Not part of `all`.
    Znodes,
}

impl Workload {
    /// Every concrete workload, in the order `all` runs them.
    pub const EACH: [Workload; 9] = [
        Workload::Create,
        Workload::SetData,
        Workload::GetData,
        Workload::Exists,
        Workload::GetChildren,
        Workload::Mixed,
        Workload::Multi,
        Workload::Watch,
        Workload::Churn,
    ];

    /// The name used on the command line, in reports and in node paths.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Create => "create",
            Workload::SetData => "set-data",
            Workload::GetData => "get-data",
            Workload::Exists => "exists",
            Workload::GetChildren => "get-children",
            Workload::Mixed => "mixed",
            Workload::Multi => "multi",
            Workload::Watch => "watch",
            Workload::Churn => "churn",
            Workload::All => "all",
            Workload::Znodes => "znodes",
        }
    }

    /// `list` with `all` replaced by every workload and repeats dropped, in order.
    pub fn expand(list: &[Workload]) -> Vec<Workload> {
        let mut out: Vec<Workload> = Vec::new();
        for &w in list {
            let each: &[Workload] = if w == Workload::All {
                &Workload::EACH
            } else {
                std::slice::from_ref(&w)
            };
            for &one in each {
                if !out.contains(&one) {
                    out.push(one);
                }
            }
        }
        out
    }

    /// True for workloads that read or write the fixture nodes `k0..k999`.
    fn uses_keys(self) -> bool {
        matches!(
            self,
            Workload::SetData
                | Workload::GetData
                | Workload::Exists
                | Workload::GetChildren
                | Workload::Mixed
        )
    }

    /// How many nodes one operation creates (0 for workloads that create none
    /// that outlive the operation).
    fn creates_per_op(self) -> u64 {
        match self {
            Workload::Create | Workload::Znodes => 1,
            Workload::Multi => MULTI_WIDTH,
            _ => 0,
        }
    }
}

/// Everything a workload run needs to know.
#[derive(Debug, Clone)]
pub struct Spec {
    /// The server, as `host:port`, or an ensemble's members as a
    /// comma-separated list that sessions are spread over.
    pub addr: String,
    /// This bench run's own node; workloads work beneath it.
    pub root: String,
    /// Sessions loading the server at once (C).
    pub sessions: usize,
    /// Requests each session keeps in flight (K).
    pub outstanding: usize,
    /// Time run before measuring starts.
    pub warmup: Duration,
    /// Measuring stops after this long, if set.
    pub duration: Option<Duration>,
    /// Measuring stops after this many operations, if set.
    pub ops: Option<u64>,
    /// Payload of every create and setData.
    pub data: Vec<u8>,
    /// Sessions watching one node in the watch workload (W).
    pub watchers: usize,
    /// Prefix of the progress line (names the server).
    pub label: String,
    /// Nodes the znodes workload creates.
    pub znodes: u64,
    /// The server's process id on this machine, when known: the znodes
    /// workload reads its RSS.
    pub pid: Option<u32>,
}

impl Spec {
    fn gate(&self) -> Arc<Gate> {
        Arc::new(Gate::new(self.warmup, self.duration, self.ops))
    }

    fn progress(&self, workload: Workload, gate: &Arc<Gate>) -> Progress {
        Progress::start(format!("{} {}", self.label, workload.name()), gate.clone())
    }
}

/// The measured result of one workload against one server.
#[derive(Clone)]
pub struct Outcome {
    /// Which workload ran.
    pub workload: Workload,
    /// Latencies (ns) and error count of the measured operations.
    pub tally: Tally,
    /// Seconds from the end of the warmup to the last measured operation.
    pub seconds: f64,
    /// Workload-specific figures, e.g. `znodes_per_sec` for multi.
    pub extra: Vec<(&'static str, f64)>,
}

impl Outcome {
    /// Measured operations.
    pub fn ops(&self) -> u64 {
        self.tally.latency.count()
    }

    /// Measured operations per second (0 when nothing was measured).
    pub fn ops_per_sec(&self) -> f64 {
        if self.seconds > 0.0 {
            self.ops() as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// The latency histogram, in nanoseconds.
    pub fn latency(&self) -> &Histogram {
        &self.tally.latency
    }
}

/// Runs `workload` against `spec.addr`, using `control` for setup and cleanup.
/// The workload's nodes are gone when this returns `Ok`.
pub async fn run_workload(
    spec: &Spec,
    control: &mut Session,
    workload: Workload,
) -> io::Result<Outcome> {
    let base = format!("{}/{}", spec.root, workload.name());
    create_node(control, &base, &[]).await?;
    let outcome = match workload {
        Workload::Watch => watch_fan_out(spec, control, &base).await?,
        Workload::Churn => churn(spec, control, &base).await?,
        _ => throughput(spec, control, workload, &base).await?,
    };
    remove_node(control, &base).await?;
    Ok(outcome)
}

/// Creates `path` with `data` (persistent, open ACL); fails on any error code.
pub async fn create_node(control: &mut Session, path: &str, data: &[u8]) -> io::Result<()> {
    let (header, _) = control
        .call(|xid| {
            request(
                xid,
                OpCode::Create,
                &create_request(path, data, create_flags::PERSISTENT),
            )
        })
        .await?;
    expect_ok(header.err, "create", path)
}

/// Deletes `path` (any version); a node already gone is fine.
pub async fn remove_node(control: &mut Session, path: &str) -> io::Result<()> {
    let (header, _) = control
        .call(|xid| request(xid, OpCode::Delete, &delete_request(path)))
        .await?;
    if header.err == ErrorCode::NoNode.code() {
        return Ok(());
    }
    expect_ok(header.err, "delete", path)
}

fn expect_ok(err: i32, op: &str, path: &str) -> io::Result<()> {
    match err {
        0 => Ok(()),
        e => Err(io::Error::other(format!(
            "{op} {path}: server answered error {e}"
        ))),
    }
}

fn delete_request(path: &str) -> DeleteRequest {
    DeleteRequest {
        path: path.to_owned(),
        version: -1,
    }
}

fn key_path(base: &str, key: u64) -> String {
    format!("{base}/k{key}")
}

/// The node that operation `seq` of `session` creates as its `j`-th node.
fn created_path(base: &str, session: usize, seq: u64, j: u64) -> String {
    format!("{base}/s{session}-{seq}-{j}")
}

/// Sends `count` requests built by `build(xid, i)` in bursts of [`BURST_MAX`];
/// fails on the first reply that is an error other than those in `allowed`.
async fn bursts(
    control: &mut Session,
    count: usize,
    allowed: &[ErrorCode],
    build: impl Fn(i32, usize) -> Vec<u8>,
) -> io::Result<()> {
    for start in (0..count).step_by(BURST_MAX) {
        let n = BURST_MAX.min(count - start);
        let errs = control.call_many(n, |xid, i| build(xid, start + i)).await?;
        if let Some(&e) = errs
            .iter()
            .find(|&&e| e != 0 && !allowed.iter().any(|a| a.code() == e))
        {
            return Err(io::Error::other(format!(
                "fixture request failed with error {e}"
            )));
        }
    }
    Ok(())
}

/// The request mix of a throughput workload.
struct Ops {
    workload: Workload,
    base: String,
    data: Vec<u8>,
}

impl Ops {
    /// Which fixture key operation `seq` of `session` touches: sessions start
    /// far apart and walk every key.
    fn key(session: usize, seq: u64) -> u64 {
        (session as u64 * 7_919 + seq) % KEYS as u64
    }

    fn set_data(&self, xid: i32, key: u64) -> Vec<u8> {
        let body = SetDataRequest {
            path: key_path(&self.base, key),
            data: Some(self.data.clone()),
            version: -1,
        };
        request(xid, OpCode::SetData, &body)
    }

    fn get_data(&self, xid: i32, key: u64) -> Vec<u8> {
        request(
            xid,
            OpCode::GetData,
            &GetDataRequest {
                path: key_path(&self.base, key),
                watch: false,
            },
        )
    }

    fn creates(&self, xid: i32, session: usize, seq: u64) -> Vec<u8> {
        if self.workload == Workload::Multi {
            let paths: Vec<String> = (0..MULTI_WIDTH)
                .map(|j| created_path(&self.base, session, seq, j))
                .collect();
            return multi_create(xid, &paths, &self.data);
        }
        let body = create_request(
            &created_path(&self.base, session, seq, 0),
            &self.data,
            create_flags::PERSISTENT,
        );
        request(xid, OpCode::Create, &body)
    }
}

impl OpSource for Ops {
    fn frame(&self, session: usize, seq: u64, xid: i32) -> Option<Vec<u8>> {
        let key = Ops::key(session, seq);
        Some(match self.workload {
            Workload::SetData => self.set_data(xid, key),
            Workload::GetData => self.get_data(xid, key),
            Workload::Mixed if seq % MIXED_WRITE_EVERY == MIXED_WRITE_EVERY - 1 => {
                self.set_data(xid, key)
            }
            Workload::Mixed => self.get_data(xid, key),
            Workload::Exists => request(
                xid,
                OpCode::Exists,
                &ExistsRequest {
                    path: key_path(&self.base, key),
                    watch: false,
                },
            ),
            Workload::GetChildren => request(
                xid,
                OpCode::GetChildren,
                &GetChildrenRequest {
                    path: self.base.clone(),
                    watch: false,
                },
            ),
            _ => self.creates(xid, session, seq),
        })
    }

    /// A multi reports failure in its results, not its header: the first result
    /// of a failed multi has type −1.
    fn failed(&self, header: &ReplyHeader, body: &[u8]) -> bool {
        if header.err != 0 {
            return true;
        }
        self.workload == Workload::Multi
            && MultiHeader::read(body).map_or(true, |(_, first)| first.r#type == -1)
    }
}

/// Deletes, per session, every node that [`Ops::creates`] made for the
/// operations that session sent.
struct DeleteCreated {
    base: String,
    /// Operations each session sent in the measured run.
    sent: Vec<u64>,
    /// Nodes per operation.
    width: u64,
}

impl OpSource for DeleteCreated {
    fn frame(&self, session: usize, seq: u64, xid: i32) -> Option<Vec<u8>> {
        if seq >= self.sent[session] * self.width {
            return None;
        }
        let path = created_path(&self.base, session, seq / self.width, seq % self.width);
        Some(request(xid, OpCode::Delete, &delete_request(&path)))
    }

    /// An operation that failed created nothing, so NoNode is expected.
    fn failed(&self, header: &ReplyHeader, _body: &[u8]) -> bool {
        header.err != 0 && header.err != ErrorCode::NoNode.code()
    }
}

/// create, setData, getData, exists, getChildren, mixed and multi: C pipelined
/// sessions with K requests in flight each.
async fn throughput(
    spec: &Spec,
    control: &mut Session,
    workload: Workload,
    base: &str,
) -> io::Result<Outcome> {
    if workload.uses_keys() {
        bursts(control, KEYS, &[], |xid, i| {
            request(
                xid,
                OpCode::Create,
                &create_request(
                    &key_path(base, i as u64),
                    &spec.data,
                    create_flags::PERSISTENT,
                ),
            )
        })
        .await?;
    }
    let sessions = connect_all(&spec.addr, spec.sessions).await?;
    let rss_before_kb = spec.pid.and_then(rss_kb);
    let gate = match workload {
        Workload::Znodes => Arc::new(Gate::new(Duration::ZERO, None, Some(spec.znodes))),
        _ => spec.gate(),
    };
    let progress = spec.progress(workload, &gate);
    let source = Arc::new(Ops {
        workload,
        base: base.to_owned(),
        data: spec.data.clone(),
    });
    let drove = keeping_alive(
        control,
        drive(sessions, spec.outstanding, source, gate.clone()),
    )
    .await?;
    drop(progress);
    let seconds = drove.tally.seconds_since(gate.measure_from());
    let mut extra = Vec::new();
    if workload == Workload::Znodes {
        extra = memory_extras(spec.znodes, rss_before_kb, spec.pid.and_then(rss_kb));
    }
    let mut sessions = drove.sessions;
    if workload.creates_per_op() > 0 {
        let cleanup = Arc::new(DeleteCreated {
            base: base.to_owned(),
            sent: drove.sent,
            width: workload.creates_per_op(),
        });
        let unlimited = Arc::new(Gate::new(Duration::ZERO, None, None));
        let deleted = keeping_alive(
            control,
            drive(sessions, spec.outstanding, cleanup, unlimited),
        )
        .await?;
        if deleted.tally.errors > 0 {
            return Err(io::Error::other(format!(
                "{} deletes of created nodes failed",
                deleted.tally.errors
            )));
        }
        sessions = deleted.sessions;
    }
    close_all(sessions).await?;
    if workload.uses_keys() {
        bursts(control, KEYS, &[ErrorCode::NoNode], |xid, i| {
            request(
                xid,
                OpCode::Delete,
                &delete_request(&key_path(base, i as u64)),
            )
        })
        .await?;
    }
    let mut outcome = Outcome {
        workload,
        tally: drove.tally,
        seconds,
        extra,
    };
    if workload == Workload::Multi {
        outcome
            .extra
            .push(("znodes_per_sec", outcome.ops_per_sec() * MULTI_WIDTH as f64));
    }
    Ok(outcome)
}

/// The resident set size of process `pid` in KiB (VmRSS in /proc/<pid>/status),
/// or `None` when it cannot be read.
pub fn rss_kb(pid: u32) -> Option<u64> {
    parse_vm_rss_kb(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

fn parse_vm_rss_kb(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// The znodes workload's figures: the node count and, when the server's RSS was
/// read before and after the fill, both and the growth per node.
fn memory_extras(
    znodes: u64,
    before_kb: Option<u64>,
    after_kb: Option<u64>,
) -> Vec<(&'static str, f64)> {
    let mut extra = vec![("znodes", znodes as f64)];
    if let (Some(before), Some(after)) = (before_kb, after_kb) {
        let per_znode = after.saturating_sub(before) as f64 * 1024.0 / znodes.max(1) as f64;
        extra.extend([
            ("rss_before_kb", before as f64),
            ("rss_after_kb", after as f64),
            ("bytes_per_znode", per_znode),
        ]);
    }
    extra
}

/// Runs `work` while pinging `control` often enough that it does not expire:
/// the control session sits idle while other sessions load the server, for
/// longer than a session timeout when a run is long.
async fn keeping_alive<T>(
    control: &mut Session,
    work: impl std::future::Future<Output = io::Result<T>>,
) -> io::Result<T> {
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tokio::time::sleep(control.ping_interval()) => control.ping().await?,
        }
    }
}

/// What the coordinator tells the watcher sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Command {
    /// Nothing yet (the channel's first value).
    Wait,
    /// Set a watch for round n (each round is a new value, so every watcher wakes).
    Arm(u64),
    /// Close the session and exit.
    Stop,
}

/// What watcher sessions tell the coordinator.
enum Report {
    /// The watch for this round is set.
    Armed,
    /// The round's NodeDataChanged arrived at this instant.
    Fired(Instant),
}

/// Watch fan-out: W sessions each watch one node with getData; one setData
/// fires all the watches; each round's latency is from just before the setData
/// is sent until the last of the W events has arrived.
async fn watch_fan_out(spec: &Spec, control: &mut Session, base: &str) -> io::Result<Outcome> {
    let path = format!("{base}/watched");
    create_node(control, &path, &spec.data).await?;
    let watchers = connect_all(&spec.addr, spec.watchers).await?;
    let (command_tx, command_rx) = tokio::sync::watch::channel(Command::Wait);
    // Each watcher sends at most two reports per round before the coordinator
    // reads them all, so 2·W never fills.
    let (report_tx, mut report_rx) = mpsc::channel(2 * spec.watchers.max(1));
    let mut set = JoinSet::new();
    for session in watchers {
        set.spawn(watcher(
            session,
            path.clone(),
            command_rx.clone(),
            report_tx.clone(),
        ));
    }
    drop(report_tx);
    let gate = spec.gate();
    let progress = spec.progress(Workload::Watch, &gate);
    let mut tally = Tally::default();
    let mut round = 0;
    while let Some(measured) = gate.claim(Instant::now()) {
        let _ = command_tx.send(Command::Arm(round));
        collect(&mut report_rx, spec.watchers, |r| {
            matches!(r, Report::Armed)
        })
        .await?;
        let start = Instant::now();
        let set_data = SetDataRequest {
            path: path.clone(),
            data: Some(spec.data.clone()),
            version: -1,
        };
        let (header, _) = control
            .call(|xid| request(xid, OpCode::SetData, &set_data))
            .await?;
        let mut last = start;
        collect(&mut report_rx, spec.watchers, |r| match r {
            Report::Fired(at) => {
                last = last.max(*at);
                true
            }
            Report::Armed => false,
        })
        .await?;
        if measured {
            tally.record(last - start, header.err != 0, last);
            gate.complete();
        }
        round += 1;
    }
    drop(progress);
    let _ = command_tx.send(Command::Stop);
    while let Some(joined) = set.join_next().await {
        joined.map_err(io::Error::other)??;
    }
    remove_node(control, &path).await?;
    let seconds = tally.seconds_since(gate.measure_from());
    let events_per_sec = if seconds > 0.0 {
        (tally.latency.count() * spec.watchers as u64) as f64 / seconds
    } else {
        0.0
    };
    Ok(Outcome {
        workload: Workload::Watch,
        tally,
        seconds,
        extra: vec![
            ("watchers", spec.watchers as f64),
            ("events_per_sec", events_per_sec),
        ],
    })
}

/// Receives `count` reports, each of which must satisfy `expected`, within
/// [`REPLY_TIMEOUT`] each.
async fn collect(
    rx: &mut mpsc::Receiver<Report>,
    count: usize,
    mut expected: impl FnMut(&Report) -> bool,
) -> io::Result<()> {
    for _ in 0..count {
        let report = tokio::time::timeout(REPLY_TIMEOUT, rx.recv())
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "watchers stopped reporting"))?
            .ok_or_else(|| io::Error::other("a watcher session failed"))?;
        if !expected(&report) {
            return Err(invalid("watcher report out of order"));
        }
    }
    Ok(())
}

/// One watcher session: for each round, sets a data watch on `path` and reports
/// when it is set and when its event arrives; closes the session on Stop.
async fn watcher(
    mut session: Session,
    path: String,
    mut commands: tokio::sync::watch::Receiver<Command>,
    reports: mpsc::Sender<Report>,
) -> io::Result<()> {
    let closed = || io::Error::other("the coordinator went away");
    loop {
        commands.changed().await.map_err(|_| closed())?;
        let command = *commands.borrow_and_update();
        if command == Command::Stop {
            return session.close().await;
        }
        let (header, _) = session
            .call(|xid| {
                request(
                    xid,
                    OpCode::GetData,
                    &GetDataRequest {
                        path: path.clone(),
                        watch: true,
                    },
                )
            })
            .await?;
        expect_ok(header.err, "getData", &path)?;
        reports.send(Report::Armed).await.map_err(|_| closed())?;
        wait_for_data_changed(&mut session).await?;
        reports
            .send(Report::Fired(Instant::now()))
            .await
            .map_err(|_| closed())?;
    }
}

/// Reads frames until a NodeDataChanged notification arrives.
async fn wait_for_data_changed(session: &mut Session) -> io::Result<()> {
    loop {
        let payload = session.reader.next().await?;
        let (header, body) = split_reply(&payload)?;
        if header.xid != xid::NOTIFICATION {
            continue;
        }
        let (_, event) = WatcherEvent::read(body).map_err(|_| invalid("bad WatcherEvent"))?;
        if event.r#type == event_type::NODE_DATA_CHANGED {
            return Ok(());
        }
    }
}

/// Session churn: C loops of connect, create an ephemeral, closeSession. Each
/// cycle's latency runs from the connect to the closeSession reply. Afterwards,
/// the time until the server shows none of the ephemerals.
async fn churn(spec: &Spec, control: &mut Session, base: &str) -> io::Result<Outcome> {
    let gate = spec.gate();
    let progress = spec.progress(Workload::Churn, &gate);
    let mut set = JoinSet::new();
    for slot in 0..spec.sessions {
        set.spawn(churn_slot(
            spec.addr.clone(),
            slot,
            format!("{base}/e{slot}-"),
            spec.data.clone(),
            gate.clone(),
        ));
    }
    let tally = keeping_alive(control, async move {
        let mut tally = Tally::default();
        while let Some(joined) = set.join_next().await {
            tally.merge(&joined.map_err(io::Error::other)??);
        }
        Ok(tally)
    })
    .await?;
    drop(progress);
    let gone = wait_until_childless(control, base).await?;
    let seconds = tally.seconds_since(gate.measure_from());
    let ms = gone.as_secs_f64() * 1e3;
    Ok(Outcome {
        workload: Workload::Churn,
        tally,
        seconds,
        extra: vec![("ephemerals_gone_ms", ms)],
    })
}

/// One churn loop: whole session lifetimes, one after another, until `gate` closes.
async fn churn_slot(
    addr: String,
    slot: usize,
    prefix: String,
    data: Vec<u8>,
    gate: Arc<Gate>,
) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let mut n = 0u64;
    while let Some(measured) = gate.claim(Instant::now()) {
        let start = Instant::now();
        let mut session = Session::connect_spread(&addr, slot).await?;
        let create = create_request(&format!("{prefix}{n}"), &data, create_flags::EPHEMERAL);
        let errs = session
            .call_many(2, |xid, i| match i {
                0 => request(xid, OpCode::Create, &create),
                _ => bodiless_request(xid, OpCode::CloseSession),
            })
            .await?;
        let now = Instant::now();
        if measured {
            tally.record(now - start, errs.iter().any(|&e| e != 0), now);
            gate.complete();
        }
        session.await_server_close().await;
        n += 1;
    }
    Ok(tally)
}

/// Polls `path`'s children until there are none; returns how long that took.
async fn wait_until_childless(control: &mut Session, path: &str) -> io::Result<Duration> {
    let start = Instant::now();
    while start.elapsed() < EPHEMERALS_GONE_WAIT_MAX {
        let (header, payload) = control
            .call(|xid| {
                request(
                    xid,
                    OpCode::GetChildren,
                    &GetChildrenRequest {
                        path: path.to_owned(),
                        watch: false,
                    },
                )
            })
            .await?;
        expect_ok(header.err, "getChildren", path)?;
        let (_, body) = split_reply(&payload)?;
        let (_, children) =
            GetChildrenResponse::read(body).map_err(|_| invalid("bad GetChildrenResponse"))?;
        if children.children.is_empty() {
            return Ok(start.elapsed());
        }
        tokio::time::sleep(EPHEMERALS_POLL).await;
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        format!("ephemerals under {path} outlived their sessions"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::request::{decode_request, MultiOp, Request};

    fn decoded(frame: Vec<u8>) -> Request {
        decode_request(&frame[4..]).unwrap().1
    }

    fn ops(workload: Workload) -> Ops {
        Ops {
            workload,
            base: "/b".into(),
            data: vec![7; 100],
        }
    }

    #[test]
    fn rss_is_read_from_proc_status() {
        let status = "Name:\tjava\nVmPeak:\t 900 kB\nVmRSS:\t  787024 kB\nRssAnon:\t 1 kB\n";
        assert_eq!(parse_vm_rss_kb(status), Some(787_024));
        assert_eq!(parse_vm_rss_kb("Name:\tx\n"), None);
        assert!(rss_kb(std::process::id()).is_some_and(|kb| kb > 0));
    }

    #[test]
    fn memory_extras_give_growth_per_znode_when_rss_is_known() {
        assert_eq!(memory_extras(1_000, None, Some(5)), [("znodes", 1_000.0)]);
        let extra = memory_extras(1_000, Some(1_000), Some(2_000));
        assert_eq!(extra[3], ("bytes_per_znode", 1_024.0));
    }

    #[test]
    fn all_expands_to_each_workload_once_in_order() {
        assert_eq!(Workload::expand(&[Workload::Churn, Workload::All]).len(), 9);
        assert_eq!(
            Workload::expand(&[Workload::Churn, Workload::All])[0],
            Workload::Churn
        );
        assert_eq!(Workload::expand(&[Workload::All]), Workload::EACH.to_vec());
        assert!(!Workload::EACH.contains(&Workload::Znodes));
    }

    #[test]
    fn mixed_sends_one_set_data_in_ten() {
        let source = ops(Workload::Mixed);
        let writes = (0..1_000)
            .filter(|&seq| {
                matches!(
                    decoded(source.frame(3, seq, 1).unwrap()),
                    Request::SetData(_)
                )
            })
            .count();
        assert_eq!(writes, 100);
    }

    #[test]
    fn key_workloads_touch_every_fixture_key() {
        let source = ops(Workload::GetData);
        let mut seen = std::collections::HashSet::new();
        for seq in 0..KEYS as u64 {
            match decoded(source.frame(5, seq, 1).unwrap()) {
                Request::GetData(r) => seen.insert(r.path),
                other => panic!("unexpected {other:?}"),
            };
        }
        assert_eq!(seen.len(), KEYS);
    }

    #[test]
    fn set_data_carries_the_payload_with_any_version() {
        match decoded(ops(Workload::SetData).frame(0, 0, 1).unwrap()) {
            Request::SetData(r) => assert_eq!((r.data, r.version), (Some(vec![7; 100]), -1)),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn cleanup_deletes_exactly_what_multi_created() {
        let source = ops(Workload::Multi);
        let Request::Multi(created) = decoded(source.frame(1, 0, 1).unwrap()) else {
            panic!("not a multi")
        };
        assert_eq!(created.len(), MULTI_WIDTH as usize);
        let cleanup = DeleteCreated {
            base: "/b".into(),
            sent: vec![0, 1],
            width: MULTI_WIDTH,
        };
        assert!(cleanup.frame(0, 0, 1).is_none());
        let deleted: Vec<String> = (0..)
            .map_while(|seq| cleanup.frame(1, seq, 1))
            .map(|f| match decoded(f) {
                Request::Delete(d) => d.path,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        let created: Vec<String> = created
            .into_iter()
            .map(|op| match op {
                MultiOp::Create { req, .. } => req.path,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(deleted, created);
    }

    #[test]
    fn multi_failure_is_read_from_its_first_result() {
        let source = ops(Workload::Multi);
        let ok = ReplyHeader {
            xid: 1,
            zxid: 5,
            err: 0,
        };
        let result = |r#type, err| {
            crate::jute::encode(&MultiHeader {
                r#type,
                done: false,
                err,
            })
        };
        assert!(!source.failed(&ok, &result(1, 0)));
        assert!(source.failed(&ok, &result(-1, -110)));
        assert!(source.failed(&ReplyHeader { err: -101, ..ok }, &[]));
        assert!(!ops(Workload::GetData).failed(&ok, &[]));
    }
}
