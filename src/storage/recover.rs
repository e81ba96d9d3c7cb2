//! Startup recovery (ZooKeeper's `FileTxnSnapLog.restore`): the newest valid
//! snapshot, then every later log record applied through `txn::apply`.
//!
//! Recovery mode is explicit:
//! - a record that fails its checksum, runs past the file or breaks zxid
//!   order, with no valid record anywhere after it, is a torn tail (a write
//!   the crash interrupted, never acknowledged): the file is cut there, the
//!   rest zeroed, later record-less files removed, and the cut is reported;
//! - the same failure followed by a valid record is corruption of
//!   acknowledged data: recovery stops with [`StorageError::Corrupt`];
//! - a zero length ends a file's records (preallocated space);
//! - a record that does not follow the one before it (a zxid skipped after
//!   the snapshot, `zab::follows`) is a hole in acknowledged data: recovery
//!   stops with [`StorageError::Corrupt`].

use super::logfile::{self, LogEnd, LogReader, HEADER_LEN, LOG_PREFIX};
use super::logtools::cut_file;
use super::mmap::MappedReadOnly;
use super::snapshot::{snapshot_files, LoadedSnapshot};
use super::zklog::zk_log_records;
use super::{files_by_zxid, log_dir, read_snapshot, snap_dir, StorageError, ZOOKEEPER_SUBDIR};
use crate::proto::{ErrorCode, OpCode};
use crate::tree::prefault::Prefault;
use crate::tree::DataTree;
use crate::txn::{apply::apply, Txn, TxnBody};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How many snapshots, newest first, recovery tries before giving up (as ZooKeeper).
const SNAPSHOTS_TRIED_MAX: usize = 100;

/// The state rebuilt from disk.
#[derive(Debug)]
pub struct Recovered {
    /// The tree as of `last_zxid`.
    pub tree: DataTree,
    /// Open sessions (id, timeout ms) by id: the snapshot's, plus
    /// createSession and minus closeSession txns replayed after it.
    pub sessions: Vec<(i64, u32)>,
    /// The zxid of the last txn in the tree (snapshot or replayed); 0 when empty.
    pub last_zxid: i64,
    /// Where a torn tail was cut: the log file and the offset it now ends at.
    pub truncated: Option<(PathBuf, u64)>,
    /// Log txns applied over the snapshot: the next recovery replays them
    /// again unless a snapshot is taken first.
    pub replayed: u64,
    /// The snapshot loaded: its zxid and its file's modification time in
    /// seconds since the epoch (`None`: there was none).
    pub snapshot: Option<(i64, i64)>,
}

/// Rebuilds the state from `<data_dir>/paddock/snapshot.*` and
/// `<data_log_dir>/paddock/log.*` (pass zoo.cfg's dataDir and dataLogDir).
/// Empty or missing directories give a fresh tree at zxid 0.
///
/// Errors: `Corrupt` when every snapshot fails its checks, when a log record
/// is damaged but valid records follow it, or when a checksummed record does
/// not decode as a txn; `Io` when a file cannot be read, cut or removed.
pub fn recover(
    data_dir: &Path,
    data_log_dir: &Path,
    extended_types: bool,
) -> Result<Recovered, StorageError> {
    let prefault = Prefault::start();
    let mut replay = Replay::new(load_snapshot(&snap_dir(data_dir), extended_types)?);
    let started = std::time::Instant::now();
    let truncated = replay.logs(&log_dir(data_log_dir))?;
    let replayed = replay.replayed;
    let recovered = replay.finish(truncated);
    let prefaulted = prefault.finish();
    tracing::info!(
        prefaulted_mib = prefaulted >> 20,
        last_zxid = format_args!("{:#x}", recovered.last_zxid),
        replayed,
        replay_ms = started.elapsed().as_millis() as u64,
        "recovered from {} and {}",
        snap_dir(data_dir).display(),
        log_dir(data_log_dir).display()
    );
    Ok(recovered)
}

/// Rebuilds the state Apache ZooKeeper left in `<data_dir>/version-2/`
/// (snapshots) and `<data_log_dir>/version-2/` (logs), to start from or
/// import a ZooKeeper dataDir. Only uncompressed snapshots are read. The
/// files are not changed: a partial last record is ignored, as ZooKeeper
/// does, and `truncated` is always `None`.
///
/// Errors: `Corrupt` when every snapshot fails its checks or a log record
/// fails its checksum or does not decode; `Io` when a file cannot be read.
pub fn recover_zookeeper(
    data_dir: &Path,
    data_log_dir: &Path,
    extended_types: bool,
) -> Result<Recovered, StorageError> {
    let snapshots = data_dir.join(ZOOKEEPER_SUBDIR);
    let prefault = Prefault::start();
    let mut replay = Replay::new(load_snapshot(&snapshots, extended_types)?);
    replay.zookeeper_logs(&data_log_dir.join(ZOOKEEPER_SUBDIR))?;
    let recovered = replay.finish(None);
    prefault.finish();
    Ok(recovered)
}

/// Saves recovered state (e.g. read from ZooKeeper's files) as a Paddock
/// snapshot in `<data_dir>/paddock/`, named after its last zxid, so that
/// Paddock's own files hold it from then on.
pub fn save_recovered(data_dir: &Path, recovered: &Recovered) -> Result<PathBuf, StorageError> {
    super::write_snapshot(
        &super::snap_dir(data_dir),
        &recovered.tree,
        &recovered.sessions,
        recovered.last_zxid,
    )
}

/// The newest snapshot that reads and passes its checksum; a fresh tree when
/// there is none at all.
fn load_snapshot(dir: &Path, extended_types: bool) -> Result<Loaded, StorageError> {
    let files = snapshot_files(dir)?;
    let Some((_, newest)) = files.first() else {
        return Ok(((DataTree::new(extended_types), Vec::new(), 0), None));
    };
    for (_, path) in files.iter().take(SNAPSHOTS_TRIED_MAX) {
        let started = std::time::Instant::now();
        tracing::info!(path = %path.display(), "loading snapshot");
        match read_snapshot(path, extended_types) {
            Ok(found) => {
                tracing::info!(
                    nodes = found.0.node_count(),
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot loaded"
                );
                let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
                let secs = modified
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs() as i64);
                let zxid = found.2;
                return Ok((found, Some((zxid, secs))));
            }
            Err(e @ StorageError::Corrupt { .. }) => {
                tracing::warn!("skipping invalid snapshot: {e}")
            }
            Err(e) => return Err(e),
        }
    }
    Err(StorageError::corrupt(
        newest,
        0,
        "no valid snapshot in the directory",
    ))
}

/// Replay in progress.
struct Replay {
    /// The tree records are applied to.
    tree: DataTree,
    /// Sessions by id, kept ordered for a deterministic result.
    sessions: BTreeMap<i64, u32>,
    /// Records up to this zxid are already in the tree.
    snap_zxid: i64,
    /// Txns applied so far.
    replayed: u64,
    /// The snapshot file loaded: zxid and modification time in seconds.
    snapshot: Option<(i64, i64)>,
}

/// A snapshot loaded (or a fresh tree) and, for a file, its zxid and
/// modification time in seconds.
type Loaded = (LoadedSnapshot, Option<(i64, i64)>);

impl Replay {
    /// Replay over what `load_snapshot` loaded.
    fn new(((mut tree, sessions, snap_zxid), snapshot): Loaded) -> Replay {
        if snapshot.is_some() {
            // A snapshot is fuzzy (ZooKeeper's and Paddock's): replayed txns
            // up to where its walk ended meet a tree that holds later
            // changes, so their digests cannot match until it is exact.
            tree.digest_fuzzy();
        }
        Replay {
            tree,
            snapshot,
            sessions: sessions.into_iter().collect(),
            snap_zxid,
            replayed: 0,
        }
    }

    /// The recovered state.
    fn finish(mut self, truncated: Option<(PathBuf, u64)>) -> Recovered {
        self.tree.digest_exact();
        let last_zxid = self.tree.last_processed_zxid();
        let sessions = self.sessions.into_iter().collect();
        Recovered {
            tree: self.tree,
            sessions,
            last_zxid,
            truncated,
            replayed: self.replayed,
            snapshot: self.snapshot,
        }
    }

    /// Replays ZooKeeper's own log files in `dir`.
    ///
    /// A record at or below the highest zxid already read is a txn ZooKeeper
    /// logged twice (a 3.8.0 follower whose sync failed half way —
    /// ZOOKEEPER-4394 — syncs again and appends the same txns once more): it
    /// is skipped, with a warning, where ZooKeeper logs an error and applies
    /// it again (its apply ignores what is already there).
    fn zookeeper_logs(&mut self, dir: &Path) -> Result<(), StorageError> {
        let mut last_zxid = i64::MIN;
        for path in self.log_files(dir)? {
            let bytes = std::fs::read(&path).map_err(|e| StorageError::io(&path, e))?;
            let mut repeated = 0u64;
            for record in zk_log_records(&path, &bytes)? {
                let txn = decode(&path, record.offset, record.payload)?;
                if txn.header.zxid <= last_zxid {
                    repeated += 1;
                    continue;
                }
                last_zxid = txn.header.zxid;
                if last_zxid > self.snap_zxid {
                    self.apply(&txn);
                }
            }
            if repeated > 0 {
                tracing::warn!(
                    file = %path.display(),
                    records = repeated,
                    "ZooKeeper log holds txns it had logged before (a follower's repeated sync); skipped"
                );
            }
        }
        Ok(())
    }

    /// Replays Paddock's log files in `dir`; returns where a torn tail was cut.
    fn logs(&mut self, dir: &Path) -> Result<Option<(PathBuf, u64)>, StorageError> {
        let files = self.log_files(dir)?;
        let mut last_zxid = i64::MIN;
        for (i, path) in files.iter().enumerate() {
            let map = std::fs::File::open(path)
                .and_then(|file| MappedReadOnly::map(&file))
                .map_err(|e| StorageError::io(path, e))?;
            let bytes = map.bytes();
            logfile::check_header(bytes)
                .map_err(|reason| StorageError::corrupt(path, 0, reason))?;
            let mut reader = LogReader::new(bytes, last_zxid);
            for record in reader.by_ref() {
                self.record(path, record)?;
            }
            last_zxid = reader.last_zxid();
            if let Some(&LogEnd::Bad { offset, reason }) = reader.end() {
                let bad = BadRecord {
                    path,
                    bytes,
                    offset,
                    reason,
                    last_zxid,
                };
                let file_len = bad.check_torn(&files[i + 1..])?;
                // The cut rewrites the file: no mapping of it may remain.
                drop(map);
                cut_torn_tail(path, offset, file_len, reason, &files[i + 1..])?;
                return Ok(Some((path.clone(), offset)));
            }
        }
        Ok(None)
    }

    /// The log files in `dir` that may hold records after the snapshot: the
    /// one with the largest start zxid ≤ the snapshot's, and all later ones.
    fn log_files(&self, dir: &Path) -> Result<Vec<PathBuf>, StorageError> {
        let files = files_by_zxid(dir, LOG_PREFIX)?;
        let first = files
            .iter()
            .rposition(|(start, _)| *start <= self.snap_zxid)
            .unwrap_or(0);
        Ok(files.into_iter().skip(first).map(|(_, p)| p).collect())
    }

    /// Applies one Paddock log record unless the snapshot already holds it.
    /// The records after the snapshot must follow it with no gap: a hole is
    /// committed txns this server never logged, and replaying past it would
    /// serve a tree that lacks them and report a last zxid beyond them, so
    /// that no sync would ever fill it in.
    fn record(&mut self, path: &Path, record: logfile::LogRecord<'_>) -> Result<(), StorageError> {
        if record.zxid <= self.snap_zxid {
            return Ok(());
        }
        let last = self.tree.last_processed_zxid().max(self.snap_zxid);
        if !crate::zab::follows(last, record.zxid) {
            let reason = format!(
                "a hole in the log: {:#x} follows {last:#x}, committed txns between them are \
                 missing (an ensemble member can be rebuilt from the others: move its \
                 dataDir aside and restart it)",
                record.zxid
            );
            return Err(StorageError::corrupt(path, record.offset, reason));
        }
        let txn = decode(path, record.offset, record.body)?;
        if txn.header.zxid != record.zxid {
            return Err(StorageError::corrupt(
                path,
                record.offset,
                "record frame and txn header disagree on the zxid",
            ));
        }
        self.apply(&txn);
        Ok(())
    }

    /// Applies `txn`, tracking sessions.
    fn apply(&mut self, txn: &Txn) {
        match &txn.body {
            TxnBody::CreateSession(t) => {
                self.sessions
                    .insert(txn.header.client_id, t.time_out as u32);
            }
            TxnBody::CloseSession(_) => {
                self.sessions.remove(&txn.header.client_id);
            }
            _ => {}
        }
        // Errors are replies for the client; a replayed txn may meet a tree
        // that already holds its effect (a snapshot taken by ZooKeeper is fuzzy).
        self.replayed += 1;
        let applied = apply(&mut self.tree, txn);
        if let (TxnBody::Create(create), Some(ErrorCode::NodeExists)) = (&txn.body, applied.err) {
            if txn.header.r#type == OpCode::Create as i32 {
                let parent = crate::tree::path::parent_of(&create.path).unwrap_or("/");
                self.tree
                    .raise_cversion_pzxid(parent, create.parent_c_version, txn.header.zxid);
            }
        }
    }
}

/// Decodes a record body as a txn; a body that passed its checksum but does
/// not decode is corruption (or a txn type this version cannot read).
fn decode(path: &Path, offset: u64, body: &[u8]) -> Result<Txn, StorageError> {
    Txn::from_bytes(body).map_err(|e| {
        StorageError::corrupt(
            path,
            offset,
            format!("record does not decode as a txn: {e}"),
        )
    })
}

/// Whether any of `files` holds a valid record with a zxid above `after_zxid`.
fn any_valid_record(files: &[PathBuf], after_zxid: i64) -> Result<bool, StorageError> {
    for path in files {
        let bytes = std::fs::read(path).map_err(|e| StorageError::io(path, e))?;
        if logfile::check_header(&bytes).is_ok()
            && logfile::valid_record_after(&bytes, HEADER_LEN as u64 - 1, after_zxid)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A record recovery could not read, and what came before it.
struct BadRecord<'a> {
    /// The log file.
    path: &'a Path,
    /// The whole file.
    bytes: &'a [u8],
    /// Where the bad record starts.
    offset: u64,
    /// Why it is bad.
    reason: &'static str,
    /// The zxid of the last good record before it.
    last_zxid: i64,
}

impl BadRecord<'_> {
    /// A torn tail has no valid record after it, here or in `later` files:
    /// returns the file's length for [`cut_torn_tail`]. Anything else is
    /// `Corrupt`.
    fn check_torn(&self, later: &[PathBuf]) -> Result<u64, StorageError> {
        let (path, offset) = (self.path, self.offset);
        if logfile::valid_record_after(self.bytes, offset, self.last_zxid)
            || any_valid_record(later, self.last_zxid)?
        {
            let reason = format!("{}, and valid records follow", self.reason);
            return Err(StorageError::corrupt(path, offset, reason));
        }
        Ok(self.bytes.len() as u64)
    }
}

/// Cuts a torn tail found by [`BadRecord::check_torn`]: the file ends at the
/// bad record, zero-filled to its old length `file_len`, and the `later`
/// files are removed.
fn cut_torn_tail(
    path: &Path,
    offset: u64,
    file_len: u64,
    reason: &str,
    later: &[PathBuf],
) -> Result<(), StorageError> {
    let cut_bytes = file_len - offset;
    tracing::warn!(
        "{}: torn tail at offset {offset} ({reason}); cutting {cut_bytes} bytes",
        path.display()
    );
    cut_file(path, offset, file_len)?;
    for later in later {
        tracing::warn!(
            "{}: removing log with no valid record after a torn tail",
            later.display()
        );
        std::fs::remove_file(later).map_err(|e| StorageError::io(later, e))?;
    }
    match path.parent() {
        Some(dir) => super::sync_dir(dir),
        None => Ok(()),
    }
}
