//! Group commit: a dedicated thread owns the transaction log. The core hands it
//! batches of txn records; the thread appends everything that has queued up,
//! makes it durable with one flush, and reports the highest durable zxid. A
//! write is answered only after that report, so every acknowledged write is on
//! disk. Snapshot requests travel on the same queue so the log rolls in zxid
//! order; the snapshot file itself is written by its own thread
//! (`snapshot_writer`) so appends never wait for it.
//!
//! A record that cannot be appended (the disk is full: the next log file
//! cannot be allocated) is refused, with every record after it, until the core
//! has answered those writes with an error and says `Resume`; what was
//! appended before it is flushed and reported durable as usual. The next
//! append tries to allocate again, so writing resumes once space is freed. A
//! failed flush is different: what it covered may or may not be on disk, so
//! the thread reports `Failed` and stops, and so does the server.
//!
//! A fault hook for the fault harness (compat-tests/jepsen's `stall`
//! nemesis): when the environment names a file in
//! `PADDOCK_FAILPOINT_LOG_STALL`, each flush waits while that file exists,
//! as a stalled disk would hold fdatasync. Unset, it costs nothing.

use super::snapshot_writer::SnapshotWriter;
use crate::storage::{StorageError, TxnLog};
use crate::tree::fuzzy::FuzzyEnd;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;
use tracing::{error, warn};

/// Work for the log thread.
pub enum LogCommand {
    /// Records (zxid, TxnHeader + txn bytes) in zxid order.
    Append(Vec<(i64, Vec<u8>)>),
    /// Roll the log, then have the snapshot's writer thread complete the file.
    Snapshot(FinishedSnapshot),
    /// The core has failed the refused writes: accept appends again.
    Resume,
    /// Remove every record above `zxid` (TRUNC sync); the result is sent on
    /// `done` once the cut is durable.
    Truncate {
        zxid: i64,
        done: std_mpsc::Sender<Result<(), StorageError>>,
    },
}

/// A fuzzy snapshot whose walk is complete: what its writer thread still
/// needs to complete `snapshot.<zxid>`.
pub struct FinishedSnapshot {
    /// The thread that has spooled the walked nodes.
    pub writer: SnapshotWriter,
    /// The sessions (id, timeout ms) as of the start.
    pub sessions: Vec<(i64, u32)>,
    /// The end of the walk.
    pub end: FuzzyEnd,
}

/// What the log thread reports back to the core.
#[derive(Debug)]
pub enum LogEvent {
    /// Every record up to this zxid is durable.
    Durable(i64),
    /// The record `first_zxid` could not be appended; it and every later one are
    /// refused until `Resume`.
    Refused {
        first_zxid: i64,
        error: StorageError,
    },
    /// The log could not be written; nothing after the last Durable is safe.
    Failed(StorageError),
}

/// Records gathered into one flush at most (bounds the latency of a batch).
const GROUP_COMMIT_RECORDS_MAX: usize = 10_000;

/// The environment variable naming the stall file (see the module doc).
const STALL_ENV: &str = "PADDOCK_FAILPOINT_LOG_STALL";
/// How often a stalled flush looks whether the stall is over.
const STALL_POLL: std::time::Duration = std::time::Duration::from_millis(10);

/// Waits while the stall file named at start exists.
fn stall(file: Option<&std::path::Path>) {
    if let Some(file) = file {
        while file.exists() {
            std::thread::sleep(STALL_POLL);
        }
    }
}

/// Starts the log thread on an opened log. Reports arrive on the returned receiver.
pub fn start(
    mut log: TxnLog,
) -> (
    std_mpsc::Sender<LogCommand>,
    mpsc::UnboundedReceiver<LogEvent>,
) {
    let (cmd_tx, cmd_rx) = std_mpsc::channel::<LogCommand>();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    let stall_file = std::env::var_os(STALL_ENV).map(std::path::PathBuf::from);
    if let Some(file) = &stall_file {
        warn!(file = %file.display(), "{STALL_ENV} is set: log flushes stall while the file exists");
    }
    std::thread::Builder::new()
        .name("paddock-txnlog".into())
        .spawn(move || run(&mut log, cmd_rx, event_tx, stall_file.as_deref()))
        .expect("spawn the log thread");
    (cmd_tx, event_rx)
}

fn run(
    log: &mut TxnLog,
    rx: std_mpsc::Receiver<LogCommand>,
    events: mpsc::UnboundedSender<LogEvent>,
    stall_file: Option<&std::path::Path>,
) {
    let mut refusing = false;
    while let Ok(first) = rx.recv() {
        let mut pending = Some(first);
        let mut appended = 0usize;
        let mut last = None;
        let mut refused = None;
        while let Some(cmd) = pending.take() {
            match cmd {
                LogCommand::Append(records) => {
                    for (zxid, bytes) in &records {
                        if refusing {
                            break;
                        }
                        match log.append(*zxid, bytes) {
                            Ok(()) => last = Some(*zxid),
                            Err(e) => {
                                warn!("transaction log append refused at zxid {zxid:#x}: {e}");
                                refusing = true;
                                refused = Some((*zxid, e));
                            }
                        }
                    }
                    appended += records.len();
                }
                LogCommand::Snapshot(snapshot) => {
                    log.roll();
                    snapshot.writer.finish(snapshot.sessions, snapshot.end);
                }
                LogCommand::Resume => refusing = false,
                LogCommand::Truncate { zxid, done } => {
                    let result = log.truncate(zxid);
                    last = last.map(|l: i64| l.min(zxid));
                    if let Err(e) = &result {
                        error!("transaction log truncation to {zxid:#x} failed: {e}");
                    }
                    let _ = done.send(result);
                }
            }
            if appended < GROUP_COMMIT_RECORDS_MAX && refused.is_none() {
                pending = rx.try_recv().ok();
            }
        }
        if let Some(zxid) = last {
            stall(stall_file);
            if let Err(e) = log.sync() {
                error!("transaction log flush failed: {e}");
                let _ = events.send(LogEvent::Failed(e));
                return;
            }
            if events.send(LogEvent::Durable(zxid)).is_err() {
                return;
            }
        }
        if let Some((first_zxid, error)) = refused {
            if events
                .send(LogEvent::Refused { first_zxid, error })
                .is_err()
            {
                return;
            }
        }
    }
}
