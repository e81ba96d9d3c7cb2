//! Reading one log file of either format for tools (`paddock inspect log`,
//! ZooKeeper's `TxnLogToolkit`): every valid record with its offset, and
//! where and why the records ended. Never changes the file.

use super::logfile::{check_header, LogEnd, LogReader, LOG_MAGIC};
use super::zklog::zk_log_records;
use super::StorageError;
use std::path::Path;

/// Which server wrote a log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Paddock's `paddock/log.*` ("PDKL", CRC-32 per record).
    Paddock,
    /// Apache ZooKeeper's `version-2/log.*` ("ZKLG", Adler-32 per record).
    ZooKeeper,
}

/// One valid record of a log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// Offset of the record's frame in the file.
    pub offset: u64,
    /// TxnHeader + Txn Jute bytes, and the TxnDigest after them when the
    /// writer had digests on (ZooKeeper 3.6+, Paddock).
    pub body: Vec<u8>,
}

/// The readable content of one log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogListing {
    /// The format found from the file's magic.
    pub format: LogFormat,
    /// The valid records, in file order.
    pub entries: Vec<LogEntry>,
    /// Why the records ended: `None` at a clean end (zero fill or end of
    /// file), else the offset and reason of the first invalid record.
    pub stopped: Option<(u64, String)>,
}

/// Reads every valid record of the log file at `path`, Paddock's or
/// ZooKeeper's (told apart by magic). Errors: `Io` when it cannot be read,
/// `Corrupt` when its header is neither format's, or (ZooKeeper logs, as
/// ZooKeeper itself) when a complete record fails its checksum.
pub fn read_log_file(path: &Path) -> Result<LogListing, StorageError> {
    let bytes = std::fs::read(path).map_err(|e| StorageError::io(path, e))?;
    if bytes.starts_with(&LOG_MAGIC.to_be_bytes()) {
        return paddock_listing(path, &bytes);
    }
    let entries = zk_log_records(path, &bytes)?
        .into_iter()
        .map(|r| LogEntry {
            offset: r.offset,
            body: r.payload.to_vec(),
        })
        .collect();
    Ok(LogListing {
        format: LogFormat::ZooKeeper,
        entries,
        stopped: None,
    })
}

fn paddock_listing(path: &Path, bytes: &[u8]) -> Result<LogListing, StorageError> {
    check_header(bytes).map_err(|reason| StorageError::corrupt(path, 0, reason))?;
    let mut reader = LogReader::new(bytes, i64::MIN);
    let entries = reader
        .by_ref()
        .map(|r| LogEntry {
            offset: r.offset,
            body: r.body.to_vec(),
        })
        .collect();
    let stopped = match reader.end() {
        Some(LogEnd::Bad { offset, reason }) => Some((*offset, (*reason).to_string())),
        _ => None,
    };
    Ok(LogListing {
        format: LogFormat::Paddock,
        entries,
        stopped,
    })
}
