//! Log operations quorum sync needs (ZooKeeper's `FileTxnLog.read` and
//! `truncate`): reading committed records back for a DIFF, and cutting the
//! log back to a zxid for a TRUNC.

use super::logfile::{self, LogReader, HEADER_LEN, LOG_PREFIX};
use super::{files_by_zxid, sync_dir, StorageError};
use std::path::{Path, PathBuf};

/// Every record with a zxid above `after_zxid` in the log in `dir`, in order,
/// as (zxid, body = `Txn::to_bytes()`). Reading stops at the end of the
/// valid records; nothing is changed. The newest records may not be durable
/// yet: callers send only records up to their committed zxid.
pub fn read_log(dir: &Path, after_zxid: i64) -> Result<Vec<(i64, Vec<u8>)>, StorageError> {
    let mut out = Vec::new();
    let mut last_zxid = i64::MIN;
    for path in files_from(dir, after_zxid)? {
        let bytes = read_log_file(&path)?;
        let mut reader = LogReader::new(&bytes, last_zxid);
        out.extend(
            reader
                .by_ref()
                .filter(|r| r.zxid > after_zxid)
                .map(|r| (r.zxid, r.body.to_vec())),
        );
        last_zxid = reader.last_zxid();
        if matches!(reader.end(), Some(logfile::LogEnd::Bad { .. })) {
            break;
        }
    }
    Ok(out)
}

/// Removes every record with a zxid above `zxid` from the log in `dir`: the
/// file holding the first such record is cut there (the rest zeroed), later
/// files are removed, and a file left without records is removed too.
/// Durable when it returns. No [`super::TxnLog`] may be open on `dir`
/// meanwhile: drop it, truncate, open a new one.
pub fn truncate_log(dir: &Path, zxid: i64) -> Result<(), StorageError> {
    let files = files_from(dir, zxid)?;
    let mut cut_done = false;
    for path in &files {
        if cut_done {
            std::fs::remove_file(path).map_err(|e| StorageError::io(path, e))?;
            continue;
        }
        let bytes = read_log_file(path)?;
        let first_after = LogReader::new(&bytes, i64::MIN)
            .find(|r| r.zxid > zxid)
            .map(|r| r.offset);
        if let Some(offset) = first_after {
            cut_file(path, offset, bytes.len() as u64)?;
            cut_done = true;
        }
    }
    sync_dir(dir)
}

/// The log files that may hold records above `zxid`: the one with the
/// largest start zxid ≤ `zxid`, and all later ones.
fn files_from(dir: &Path, zxid: i64) -> Result<Vec<PathBuf>, StorageError> {
    let files = files_by_zxid(dir, LOG_PREFIX)?;
    let first = files
        .iter()
        .rposition(|(start, _)| *start <= zxid)
        .unwrap_or(0);
    Ok(files.into_iter().skip(first).map(|(_, p)| p).collect())
}

fn read_log_file(path: &Path) -> Result<Vec<u8>, StorageError> {
    let bytes = std::fs::read(path).map_err(|e| StorageError::io(path, e))?;
    logfile::check_header(&bytes).map_err(|reason| StorageError::corrupt(path, 0, reason))?;
    Ok(bytes)
}

/// Cuts `path` at `offset`, keeping its length with zeros after the cut;
/// removes the file when no record would remain.
pub(crate) fn cut_file(path: &Path, offset: u64, len: u64) -> Result<(), StorageError> {
    if offset <= HEADER_LEN as u64 {
        return std::fs::remove_file(path).map_err(|e| StorageError::io(path, e));
    }
    let cut = || -> std::io::Result<()> {
        let file = std::fs::OpenOptions::new().write(true).open(path)?;
        file.set_len(offset)?;
        file.set_len(len)?;
        file.sync_all()
    };
    cut().map_err(|e| StorageError::io(path, e))
}
