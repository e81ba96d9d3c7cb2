//! Removing old snapshots and logs (ZooKeeper's `PurgeTxnLog.purge`, run by
//! autopurge).

use super::logfile::LOG_PREFIX;
use super::snapshot::SNAP_PREFIX;
use super::{files_by_zxid, log_dir, snap_dir, StorageError};
use std::path::{Path, PathBuf};

/// ZooKeeper keeps at least this many snapshots whatever the setting.
const SNAP_RETAIN_COUNT_MIN: usize = 3;

/// Keeps the `snap_retain_count` newest snapshots (at least 3) in
/// `<data_dir>/paddock/` and the logs recovery needs with them in
/// `<data_log_dir>/paddock/`; removes older snapshots and every log whose
/// start zxid is below the oldest kept snapshot's, except the newest such
/// log, which may hold records after that snapshot. Returns what it removed.
/// Safe while a [`super::TxnLog`] appends: the file it writes is never older
/// than the newest snapshot.
pub fn purge(
    data_dir: &Path,
    data_log_dir: &Path,
    snap_retain_count: usize,
) -> Result<Vec<PathBuf>, StorageError> {
    let mut snapshots = files_by_zxid(&snap_dir(data_dir), SNAP_PREFIX)?;
    let keep = snap_retain_count.max(SNAP_RETAIN_COUNT_MIN);
    if snapshots.len() <= keep {
        return Ok(Vec::new());
    }
    let kept = snapshots.split_off(snapshots.len() - keep);
    let oldest_kept = kept[0].0;
    let mut doomed: Vec<PathBuf> = snapshots.into_iter().map(|(_, p)| p).collect();
    let logs = files_by_zxid(&log_dir(data_log_dir), LOG_PREFIX)?;
    let needed = logs
        .iter()
        .rposition(|(start, _)| *start <= oldest_kept)
        .unwrap_or(0);
    doomed.extend(logs.into_iter().take(needed).map(|(_, p)| p));
    for path in &doomed {
        std::fs::remove_file(path).map_err(|e| StorageError::io(path, e))?;
    }
    Ok(doomed)
}
