//! Durability: the transaction log, snapshots and recovery (ZooKeeper's
//! `FileTxnLog`, `FileSnap`, `FileTxnSnapLog` and `SyncRequestProcessor`
//! snapshot trigger).
//!
//! # Where the files live
//! Paddock's logs go in `<dataLogDir>/paddock/` ([`log_dir`]) and its
//! snapshots in `<dataDir>/paddock/` ([`snap_dir`]), never in `version-2/`:
//! an Apache ZooKeeper pointed at the same dataDir never finds a Paddock log
//! and Paddock never misreads a ZooKeeper one.
//!
//! # On-disk format (all integers big-endian)
//! ```text
//! log file  = "log." hex(zxid of its first record)      ; lowercase, no padding
//! log       = log-header record* zero-fill
//! log-header= magic:u32 = 0x50444B4C ("PDKL")  version:u32 = 1  dbid:i64 = 0
//! record    = crc:u32 len:u32 zxid:i64 body:byte[len]
//!   crc     = CRC-32 (IEEE, crc32fast) over the len, zxid and body bytes
//!   body    = TxnHeader Txn [TxnDigest]                  ; Jute, `Txn::to_bytes()`
//!   zxid    = the TxnHeader's zxid; strictly increasing through all files
//! zero-fill = preallocated zeros; a record whose len is 0 ends the log
//!
//! snapshot file = "snapshot." hex(zxid)                  ; ZooKeeper's format
//! snapshot  = file-header sessions tree-part seal [digest-part seal] [zxid-part seal]
//! file-header = magic:int = 0x5A4B534E ("ZKSN")  version:int = 2  dbid:long = -1
//! sessions  = count:int { id:long timeout_ms:int }*count
//! tree-part = acl-cache node* "/":ustring                 ; see tree::serialize
//! seal      = adler32:long "/":ustring   ; Adler-32 of every byte before `adler32`
//! digest-part = zxid:long digestVersion:int = 2 treeDigest:long
//! ```
//! Paddock writes no digest part, and ignores the one ZooKeeper 3.6+
//! appends after the first seal (and 3.9's zxid part). That digest cannot
//! tell where a fuzzy snapshot becomes exact: ZooKeeper records the digest
//! of its last *logged* zxid, which can lag the tree it serialized (the
//! fixture zk38 `snapshot.17` holds txn 0x18's change with 0x17's digest).
//! Replay over a snapshot instead compares txn digests from the first one
//! that matches ([`crate::tree::DataTree::digest_fuzzy`]).
//!
//! # Durability rules
//! - A write is acknowledged only after [`TxnLog::sync`] returned for it:
//!   `sync` is one `pwrite` and one `fdatasync` covering everything appended
//!   since the last one (group commit). `forceSync=no` leaves out the
//!   `fdatasync`: records then reach the disk when the kernel writes the
//!   pages back, which survives a crash of the process but **not** of the
//!   machine — unsafe, as in ZooKeeper.
//! - A running server's snapshots are fuzzy, as ZooKeeper's are: the core
//!   walks the tree a slice at a time between txns (`tree::fuzzy`), each node
//!   captured as it is when reached, and recovery replays every txn after the
//!   zxid the walk started at (replay tolerates what the snapshot already
//!   holds). The walked nodes go to disk as they come ([`SnapshotSpool`]);
//!   the file is complete, fsynced and renamed once the walk ends. A snapshot
//!   of a tree at one zxid ([`snapshot_bytes`], [`write_snapshot`]) serves
//!   tests, `import` and a learner's first snapshot.
//! - Recovery ([`recover`]) tolerates a torn tail (truncates it and says so)
//!   and refuses corruption followed by valid records. One case it cannot
//!   tell apart: after a power loss, the kernel may have written the pages of
//!   an unsynced batch out of order, leaving a damaged record followed by a
//!   valid one though neither was acknowledged; recovery then refuses to
//!   start (`Corrupt`, with path and offset) rather than guess.
//!
//! # Layout
//! - `mmap`: the only `unsafe` code of storage, mapping a snapshot or a log
//!   file read-only to parse it.
//! - `txnlog`: [`TxnLog`], appends and group commit.
//! - `logfile`: the record framing, and reading a log file back.
//! - `inspect`: [`read_log_file`], one log file of either format, for tools.
//! - `logtools`: [`read_log`] (DIFF sync) and [`truncate_log`] (TRUNC sync).
//! - `purge`: [`purge`], removing snapshots and logs no longer needed.
//! - `snapshot`: [`write_snapshot`], [`read_snapshot`], Adler-32.
//! - `spool`: [`SnapshotSpool`], a fuzzy snapshot written as it is walked.
//! - `recover`: [`recover`], and [`recover_zookeeper`] for a ZooKeeper dataDir.
//! - `zklog`: reading Apache ZooKeeper's own `version-2/log.*` files.
//! - `policy`: [`SnapshotPolicy`], when to snapshot.

mod inspect;
mod logfile;
mod logtools;
mod mmap;
mod policy;
mod purge;
mod recover;
mod snapshot;
mod spool;
mod txnlog;
mod zklog;

pub use inspect::{read_log_file, LogEntry, LogFormat, LogListing};
pub use logtools::{read_log, truncate_log};
pub use policy::SnapshotPolicy;
pub use purge::purge;
pub use recover::{recover, recover_zookeeper, save_recovered, Recovered};
pub use snapshot::{
    parse_sync_snapshot, read_snapshot, snapshot_bytes, snapshot_files, snapshot_image,
    sync_snapshot_bytes, write_snapshot, write_snapshot_bytes, LoadedSnapshot,
};
pub use spool::{remove_unfinished_snapshots, SnapshotSpool};
pub use txnlog::TxnLog;

use std::path::{Path, PathBuf};

/// The sub-directory of dataDir and dataLogDir that holds Paddock's own files.
pub const PADDOCK_SUBDIR: &str = "paddock";

/// The directory of Paddock's transaction logs for zoo.cfg's `dataLogDir`
/// (which defaults to `dataDir`).
pub fn log_dir(data_log_dir: &Path) -> PathBuf {
    data_log_dir.join(PADDOCK_SUBDIR)
}

/// The directory of Paddock's snapshots for zoo.cfg's `dataDir`.
pub fn snap_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(PADDOCK_SUBDIR)
}

/// Apache ZooKeeper's sub-directory of dataDir and dataLogDir.
pub const ZOOKEEPER_SUBDIR: &str = "version-2";

/// Where Apache ZooKeeper keeps its snapshots and epoch files for zoo.cfg's
/// `dataDir` (read, never written, by Paddock).
pub fn zookeeper_snap_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(ZOOKEEPER_SUBDIR)
}

/// Why a storage operation failed. Both variants name the file; `Corrupt`
/// also names the byte offset, so an operator can inspect or cut it.
#[derive(Debug)]
pub enum StorageError {
    /// The operating system refused an operation on `path`.
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// `path` holds bytes that are not a valid log or snapshot at `offset`,
    /// and the server must not guess what they meant.
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Offset of the first bad byte range (a record's start for logs).
        offset: u64,
        /// What is wrong there.
        reason: String,
    },
}

impl StorageError {
    /// An [`StorageError::Io`] for `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StorageError {
        StorageError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A [`StorageError::Corrupt`] for `path` at `offset`.
    pub(crate) fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> StorageError {
        StorageError::Corrupt {
            path: path.to_path_buf(),
            offset,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StorageError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StorageError::Corrupt {
                path,
                offset,
                reason,
            } => {
                write!(
                    f,
                    "{} is corrupt at offset {offset}: {reason}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Io { source, .. } => Some(source),
            StorageError::Corrupt { .. } => None,
        }
    }
}

/// Parses `<prefix><lowercase hex zxid>` file names (`log.1f`, `snapshot.0`).
pub(crate) fn zxid_of_name(name: &str, prefix: &str) -> Option<i64> {
    let hex = name.strip_prefix(prefix)?;
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(hex, 16).ok().map(|z| z as i64)
}

/// Files in `dir` named `<prefix><hex zxid>`, sorted by zxid ascending. A
/// missing directory holds no files.
pub(crate) fn files_by_zxid(dir: &Path, prefix: &str) -> Result<Vec<(i64, PathBuf)>, StorageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        if let Some(zxid) = entry
            .file_name()
            .to_str()
            .and_then(|n| zxid_of_name(n, prefix))
        {
            files.push((zxid, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Makes a rename or file creation in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StorageError::io(dir, e))
}

#[cfg(test)]
pub(crate) mod test_dir;
#[cfg(test)]
mod tests;
