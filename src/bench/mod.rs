//! `paddock bench`: a load generator that speaks ZooKeeper's client protocol
//! itself, so it can load Paddock and Apache ZooKeeper alike and compare them.
//!
//! # Layout
//! - [`histogram`]: log-bucket latency histogram (1/64 precision, fixed size).
//! - `wire`: connect handshake, request frames, reply frames over tokio.
//! - `load`: the pipelined driver (C sessions × K requests in flight), the gate
//!   that decides warmup, duration and op limits, and the progress line.
//! - [`workload`]: what each workload sends, its fixtures and its cleanup.
//! - `report`: the per-server table, the ratio table and the JSON document.
//! - `settle`: waiting for the servers to go quiet before each measurement
//!   (`--settle-pid`).
//!
//! # Usage
//! ```text
//! paddock bench --connect 127.0.0.1:2181 --workload get-data --duration 10
//! paddock bench --connect zookeeper=127.0.0.1:2181 --connect paddock=127.0.0.1:2182 --json out.json
//! paddock bench --connect zk=127.0.0.1:2181 --pid zk=4242 --workload znodes --znodes 1000000
//! ```
//! `scripts/bench [--quick]` starts both servers and runs all of this.
//!
//! Given several `--connect` targets, each workload runs against each server in
//! turn before the next workload starts, so slow drift of the machine (heat,
//! other builds) spreads over all servers instead of favouring one.

pub mod histogram;
mod load;
mod report;
mod settle;
mod wire;
pub mod workload;

#[cfg(test)]
mod end_to_end;

use report::{Cell, TargetResults};
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use wire::Session;
use workload::{create_node, remove_node, run_workload, Spec, Workload};

/// Command-line settings of `paddock bench`. --duration, --warmup, --watchers
/// and --znodes may be repeated, the last one counting (scripts/bench gives
/// defaults its caller's flags override).
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Server to load, as host:port or name=host:port. Repeat to compare
    /// servers: each workload runs against each of them in turn, and ratios are
    /// given relative to the first. An ensemble is a comma-separated list,
    /// name=h1:p1,h2:p2,h3:p3: sessions are spread round robin over its members.
    #[arg(
        long = "connect",
        value_name = "[NAME=]HOST:PORT",
        default_value = "127.0.0.1:2181"
    )]
    pub connect: Vec<String>,
    /// Workload to run; repeat for several, or `all`.
    #[arg(
        long = "workload",
        value_enum,
        value_name = "NAME",
        default_value = "all"
    )]
    pub workloads: Vec<Workload>,
    /// Sessions loading the server at once (C).
    #[arg(long, default_value_t = 16)]
    pub sessions: usize,
    /// Requests each session keeps in flight (K).
    #[arg(long, default_value_t = 32)]
    pub outstanding: usize,
    /// Seconds each workload is measured (default 10 unless --ops is given).
    #[arg(long, value_name = "SECS", overrides_with = "duration")]
    pub duration: Option<f64>,
    /// Operations each workload is measured for (stops at whichever of
    /// --duration and --ops comes first).
    #[arg(long, value_name = "N")]
    pub ops: Option<u64>,
    /// Seconds each workload runs before measuring starts.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 1.0,
        overrides_with = "warmup"
    )]
    pub warmup: f64,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Sessions watching one node in the watch workload (W). Apache ZooKeeper
    /// allows 60 connections per client address unless maxClientCnxns is raised.
    #[arg(long, default_value_t = 50, overrides_with = "watchers")]
    pub watchers: usize,
    /// Bytes of data in every create and setData.
    #[arg(long, value_name = "BYTES", default_value_t = 100)]
    pub data_size: usize,
    /// Nodes the znodes (memory) workload creates.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 1_000_000,
        overrides_with = "znodes"
    )]
    pub znodes: u64,
    /// Process id of a --connect target on this machine, as NAME=PID (NAME as
    /// in --connect, or its HOST:PORT): the znodes workload reports its RSS.
    #[arg(long = "pid", value_name = "NAME=PID")]
    pub pids: Vec<String>,
    /// Process id of a server on this machine (repeat for several): each
    /// workload starts on each target only once these processes together use
    /// under a tenth of a core (at most 5 s later), so that one server's
    /// leftover work (a snapshot, a garbage collection) does not run during
    /// another's measurement.
    #[arg(long = "settle-pid", value_name = "PID")]
    pub settle_pids: Vec<u32>,
}

/// Seconds measured when neither --duration nor --ops is given.
const DEFAULT_DURATION_S: f64 = 10.0;

/// A server to load: its report name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    name: String,
    addr: String,
    /// The server's process id, when it runs on this machine and was given.
    pid: Option<u32>,
}

/// Parses `name=host:port` or `host:port` (named after itself).
fn parse_target(text: &str) -> anyhow::Result<Target> {
    let (name, addr) = text.split_once('=').unwrap_or((text, text));
    anyhow::ensure!(
        !name.is_empty() && addr.split(',').all(|host| host.contains(':')),
        "--connect {text}: expected [NAME=]HOST:PORT"
    );
    Ok(Target {
        name: name.to_owned(),
        addr: addr.to_owned(),
        pid: None,
    })
}

/// The settings shared by every target, from the command line.
fn spec_of(args: &BenchArgs) -> anyhow::Result<Spec> {
    let seconds = |s: f64, flag: &str| {
        anyhow::ensure!(
            s.is_finite() && s >= 0.0,
            "--{flag} must be a number of seconds"
        );
        Ok(Duration::from_secs_f64(s))
    };
    let duration = match (args.duration, args.ops) {
        (None, None) => Some(DEFAULT_DURATION_S),
        (d, _) => d,
    };
    anyhow::ensure!(
        args.sessions > 0 && args.outstanding > 0 && args.watchers > 0,
        "--sessions, --outstanding and --watchers must be positive"
    );
    Ok(Spec {
        addr: String::new(),
        root: format!(
            "/paddock-bench-{}-{}",
            std::process::id(),
            SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis()
        ),
        sessions: args.sessions,
        outstanding: args.outstanding,
        warmup: seconds(args.warmup, "warmup")?,
        duration: duration.map(|d| seconds(d, "duration")).transpose()?,
        ops: args.ops,
        data: vec![b'x'; args.data_size],
        watchers: args.watchers,
        label: String::new(),
        znodes: args.znodes,
        pid: None,
    })
}

/// The --connect targets, with the process ids given by --pid.
fn targets_of(args: &BenchArgs) -> anyhow::Result<Vec<Target>> {
    let mut targets = args
        .connect
        .iter()
        .map(|t| parse_target(t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    anyhow::ensure!(names.len() == targets.len(), "--connect names must differ");
    for (name, pid) in parse_pids(&args.pids)? {
        let target = targets
            .iter_mut()
            .find(|t| t.name == name || t.addr == name);
        target
            .ok_or_else(|| {
                anyhow::anyhow!("--pid {name}={pid}: no --connect target is called {name}")
            })?
            .pid = Some(pid);
    }
    Ok(targets)
}

/// Parses `--pid NAME=PID` pairs.
fn parse_pids(pids: &[String]) -> anyhow::Result<Vec<(String, u32)>> {
    pids.iter()
        .map(|text| {
            let parsed = text
                .rsplit_once('=')
                .and_then(|(name, pid)| Some((name.to_owned(), pid.parse().ok()?)));
            parsed.ok_or_else(|| anyhow::anyhow!("--pid {text}: expected NAME=PID"))
        })
        .collect()
}

/// Runs the workloads of `args` against every target, prints a table per
/// target (and a ratio table for several), and writes JSON if asked. Fails if
/// any workload failed against any target, after reporting everything else.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let targets = targets_of(&args)?;
    let spec = spec_of(&args)?;
    let workloads = Workload::expand(&args.workloads);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(run_all(&spec, &targets, &workloads, &args.settle_pids))?;
    for target in &results {
        println!("{}", report::table(target));
    }
    print!("{}", report::units_note(&workloads));
    if let Some(text) = report::comparison(&results) {
        println!("\n{text}");
    }
    if let Some(path) = &args.json {
        std::fs::write(path, report::json(&spec, &results))
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    let failed = results
        .iter()
        .flat_map(|t| &t.cells)
        .filter(|(_, c)| c.is_err())
        .count();
    anyhow::ensure!(failed == 0, "{failed} workload run(s) failed");
    Ok(())
}

/// Each workload against each target in turn, under a fresh root node per
/// target that is removed at the end.
async fn run_all(
    spec: &Spec,
    targets: &[Target],
    workloads: &[Workload],
    settle_pids: &[u32],
) -> anyhow::Result<Vec<TargetResults>> {
    let specs: Vec<Spec> = targets
        .iter()
        .map(|t| Spec {
            addr: t.addr.clone(),
            label: t.name.clone(),
            pid: t.pid,
            ..spec.clone()
        })
        .collect();
    for s in &specs {
        with_control(s, |c, s| {
            Box::pin(async move { create_node(c, &s.root, &[]).await })
        })
        .await
        .map_err(|e| anyhow::anyhow!("{}: {e}", s.addr))?;
    }
    let mut results: Vec<TargetResults> = targets
        .iter()
        .map(|t| TargetResults {
            name: t.name.clone(),
            addr: t.addr.clone(),
            cells: Vec::new(),
        })
        .collect();
    for &workload in workloads {
        for (s, result) in specs.iter().zip(results.iter_mut()) {
            if !settle_pids.is_empty() {
                let (waited, quiet) = settle::settle(settle_pids).await;
                if !quiet {
                    eprintln!(
                        "{} {}: servers still busy after {:.1} s; measuring anyway",
                        s.label,
                        workload.name(),
                        waited.as_secs_f64()
                    );
                }
            }
            let cell: Cell = with_control(s, |c, s| Box::pin(run_workload(s, c, workload)))
                .await
                .map_err(|e| e.to_string());
            if let Err(e) = &cell {
                eprintln!("{} {}: failed: {e}", s.label, workload.name());
            }
            result.cells.push((workload, cell));
        }
    }
    for s in &specs {
        if let Err(e) = with_control(s, |c, s| {
            Box::pin(async move { remove_node(c, &s.root).await })
        })
        .await
        {
            eprintln!("{}: could not remove {}: {e}", s.label, s.root);
        }
    }
    Ok(results)
}

/// The future a [`with_control`] body returns.
type ControlFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<T>> + Send + 'a>>;

/// Runs `body` with a fresh control session to `spec.addr` and closes it after.
/// A session per step, not one for the whole run: a session left idle while
/// another server is loaded would expire.
async fn with_control<T>(
    spec: &Spec,
    body: impl for<'a> FnOnce(&'a mut Session, &'a Spec) -> ControlFuture<'a, T>,
) -> std::io::Result<T> {
    let mut control = Session::connect_spread(&spec.addr, 0).await?;
    let value = body(&mut control, spec).await?;
    control.close().await?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        bench: BenchArgs,
    }

    fn args(line: &[&str]) -> BenchArgs {
        Cli::try_parse_from(std::iter::once("bench").chain(line.iter().copied()))
            .unwrap()
            .bench
    }

    #[test]
    fn targets_may_be_named() {
        assert_eq!(
            parse_target("zk=127.0.0.1:2181").unwrap(),
            Target {
                name: "zk".into(),
                addr: "127.0.0.1:2181".into(),
                pid: None,
            }
        );
        assert_eq!(parse_target("[::1]:2181").unwrap().name, "[::1]:2181");
        assert!(parse_target("nohostport").is_err());
        let a = args(&[
            "--connect",
            "zk=h:1",
            "--connect",
            "h:2",
            "--pid",
            "zk=10",
            "--pid",
            "h:2=20",
        ]);
        let pids: Vec<_> = targets_of(&a).unwrap().iter().map(|t| t.pid).collect();
        assert_eq!(pids, [Some(10), Some(20)]);
        assert!(targets_of(&args(&["--connect", "a=h:1", "--connect", "a=h:2"])).is_err());
        assert!(targets_of(&args(&["--connect", "a=h:1", "--pid", "b=3"])).is_err());
        assert!(targets_of(&args(&["--connect", "a=h:1", "--pid", "a=x"])).is_err());
        assert!(parse_target("=127.0.0.1:1").is_err());
        assert_eq!(parse_target("e=h:1,h:2").unwrap().addr, "h:1,h:2");
        assert!(parse_target("e=h:1,h").is_err());
    }

    #[test]
    fn duration_defaults_only_without_an_op_limit() {
        let spec = spec_of(&args(&[])).unwrap();
        assert_eq!(
            (spec.duration, spec.ops),
            (Some(Duration::from_secs(10)), None)
        );
        let spec = spec_of(&args(&["--ops", "500"])).unwrap();
        assert_eq!((spec.duration, spec.ops), (None, Some(500)));
        let spec = spec_of(&args(&["--ops", "500", "--duration", "2.5"])).unwrap();
        assert_eq!(spec.duration, Some(Duration::from_millis(2_500)));
    }

    #[test]
    fn flags_parse_into_the_spec() {
        let a = args(&[
            "--workload",
            "get-data",
            "--workload",
            "multi",
            "--sessions",
            "3",
            "--data-size",
            "7",
            "--connect",
            "a=h:1",
            "--connect",
            "b=h:2",
        ]);
        assert_eq!(a.workloads, [Workload::GetData, Workload::Multi]);
        assert_eq!(a.connect, ["a=h:1", "b=h:2"]);
        let spec = spec_of(&a).unwrap();
        assert_eq!((spec.sessions, spec.data.len()), (3, 7));
        assert!(spec_of(&args(&["--sessions", "0"])).is_err());
        assert!(spec_of(&args(&["--warmup=-1"])).is_err());
        let repeated = args(&[
            "--watchers",
            "200",
            "--duration",
            "3",
            "--watchers",
            "10000",
        ]);
        assert_eq!((repeated.watchers, repeated.duration), (10_000, Some(3.0)));
    }
}
