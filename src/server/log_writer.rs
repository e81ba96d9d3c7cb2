//! Group commit: a dedicated thread owns the transaction log. The core hands it
//! batches of txn records; the thread appends everything that has queued up,
//! makes it durable with one flush, and reports the highest durable zxid. A
//! write is answered only after that report, so every acknowledged write is on
//! disk. Snapshot requests travel on the same queue so the log rolls in zxid
//! order; the snapshot file itself is written by a further thread so appends
//! never wait for it.

use crate::storage::{self, StorageError, TxnLog};
use std::path::PathBuf;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

/// Work for the log thread.
pub enum LogCommand {
    /// Records (zxid, TxnHeader + txn bytes) in zxid order.
    Append(Vec<(i64, Vec<u8>)>),
    /// Roll the log, then write a snapshot of the tree as of `zxid`.
    Snapshot { zxid: i64, bytes: Vec<u8> },
}

/// What the log thread reports back to the core.
#[derive(Debug)]
pub enum LogEvent {
    /// Every record up to this zxid is durable.
    Durable(i64),
    /// The log could not be written; nothing after the last Durable is safe.
    Failed(StorageError),
}

/// Records gathered into one flush at most (bounds the latency of a batch).
const GROUP_COMMIT_RECORDS_MAX: usize = 10_000;

/// Starts the log thread on an opened log. Reports arrive on the returned receiver.
pub fn start(
    mut log: TxnLog,
    snap_dir: PathBuf,
) -> (
    std_mpsc::Sender<LogCommand>,
    mpsc::UnboundedReceiver<LogEvent>,
) {
    let (cmd_tx, cmd_rx) = std_mpsc::channel::<LogCommand>();
    let (event_tx, event_rx) = mpsc::unbounded_channel();
    std::thread::Builder::new()
        .name("paddock-txnlog".into())
        .spawn(move || run(&mut log, &snap_dir, cmd_rx, event_tx))
        .expect("spawn the log thread");
    (cmd_tx, event_rx)
}

fn run(
    log: &mut TxnLog,
    snap_dir: &std::path::Path,
    rx: std_mpsc::Receiver<LogCommand>,
    events: mpsc::UnboundedSender<LogEvent>,
) {
    while let Ok(first) = rx.recv() {
        let mut pending = Some(first);
        let mut appended = 0usize;
        let mut last = None;
        while let Some(cmd) = pending.take() {
            match cmd {
                LogCommand::Append(records) => {
                    for (zxid, bytes) in &records {
                        if let Err(e) = log.append(*zxid, bytes) {
                            error!("transaction log write failed: {e}");
                            let _ = events.send(LogEvent::Failed(e));
                            return;
                        }
                        last = Some(*zxid);
                    }
                    appended += records.len();
                }
                LogCommand::Snapshot { zxid, bytes } => {
                    log.roll();
                    spawn_snapshot_write(snap_dir.to_path_buf(), zxid, bytes);
                }
            }
            if appended < GROUP_COMMIT_RECORDS_MAX {
                pending = rx.try_recv().ok();
            }
        }
        if let Some(zxid) = last {
            if let Err(e) = log.sync() {
                error!("transaction log flush failed: {e}");
                let _ = events.send(LogEvent::Failed(e));
                return;
            }
            if events.send(LogEvent::Durable(zxid)).is_err() {
                return;
            }
        }
    }
}

fn spawn_snapshot_write(dir: PathBuf, zxid: i64, bytes: Vec<u8>) {
    let spawned = std::thread::Builder::new()
        .name("paddock-snapshot".into())
        .spawn(move || {
            let started = std::time::Instant::now();
            match storage::write_snapshot_bytes(&dir, zxid, &bytes) {
                Ok(path) => info!(
                    path = %path.display(),
                    bytes = bytes.len(),
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot written"
                ),
                Err(e) => warn!("snapshot failed (the log still holds every txn): {e}"),
            }
        });
    if let Err(e) = spawned {
        warn!("could not start the snapshot thread: {e}");
    }
}
