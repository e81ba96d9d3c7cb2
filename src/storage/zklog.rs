//! Reading Apache ZooKeeper's own transaction logs (`version-2/log.*`, see
//! `FileTxnLog`), so a server can start from a ZooKeeper dataDir. Read only:
//! ZooKeeper's files are never changed.
//!
//! ```text
//! zk-log  = header record* zero-fill
//! header  = magic:int = 0x5A4B4C47 ("ZKLG")  version:int = 2  dbid:long
//! record  = adler32:long len:int payload:byte[len] 0x42
//!   adler32 = Adler-32 of the payload only
//!   payload = TxnHeader Txn [TxnDigest]
//! ```
//! As in ZooKeeper, the records end at the end of the file, at a length of 0
//! (preallocated zeros) or at a record without its 0x42 trailer (a partial
//! write); a checksum mismatch is corruption.

use super::snapshot::adler32;
use super::StorageError;
use std::path::Path;

/// "ZKLG": ZooKeeper's log magic.
const ZK_LOG_MAGIC: [u8; 4] = *b"ZKLG";
/// Bytes of the file header.
const ZK_HEADER_LEN: usize = 16;
/// Bytes before a payload: checksum and length.
const ZK_FRAME_LEN: usize = 12;
/// The end-of-record byte.
const END_OF_RECORD: u8 = b'B';

/// One record of a ZooKeeper log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ZkLogRecord<'a> {
    /// Offset of the record in the file.
    pub(crate) offset: u64,
    /// TxnHeader + Txn (+ TxnDigest) Jute bytes.
    pub(crate) payload: &'a [u8],
}

/// The valid records of the ZooKeeper log `bytes` read from `path`, in order.
pub(crate) fn zk_log_records<'a>(
    path: &Path,
    bytes: &'a [u8],
) -> Result<Vec<ZkLogRecord<'a>>, StorageError> {
    if bytes.len() < ZK_HEADER_LEN || bytes[..4] != ZK_LOG_MAGIC {
        return Err(StorageError::corrupt(
            path,
            0,
            "not a ZooKeeper txn log (bad magic)",
        ));
    }
    let mut records = Vec::new();
    let mut offset = ZK_HEADER_LEN;
    while let Some(frame) = bytes.get(offset..offset + ZK_FRAME_LEN) {
        let checksum = i64::from_be_bytes(frame[..8].try_into().expect("8 bytes"));
        let len = i32::from_be_bytes(frame[8..].try_into().expect("4 bytes"));
        let start = offset + ZK_FRAME_LEN;
        let Some(payload) = usize::try_from(len)
            .ok()
            .filter(|&l| l > 0)
            .and_then(|l| bytes.get(start..start + l))
        else {
            break;
        };
        if bytes.get(start + payload.len()) != Some(&END_OF_RECORD) {
            break;
        }
        if checksum != i64::from(adler32(payload)) {
            return Err(StorageError::corrupt(
                path,
                offset as u64,
                "ZooKeeper log record checksum mismatch",
            ));
        }
        records.push(ZkLogRecord {
            offset: offset as u64,
            payload,
        });
        offset = start + payload.len() + 1;
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(payloads: &[&[u8]]) -> Vec<u8> {
        let mut bytes = b"ZKLG\0\0\0\x02\0\0\0\0\0\0\0\0".to_vec();
        for p in payloads {
            bytes.extend_from_slice(&i64::from(adler32(p)).to_be_bytes());
            bytes.extend_from_slice(&(p.len() as i32).to_be_bytes());
            bytes.extend_from_slice(p);
            bytes.push(b'B');
        }
        bytes
    }

    #[test]
    fn records_end_at_zero_fill_and_at_a_partial_record() {
        let path = Path::new("log.1");
        let mut bytes = log(&[b"first", b"second"]);
        bytes.extend_from_slice(&[0; 64]);
        let got: Vec<_> = zk_log_records(path, &bytes)
            .unwrap()
            .iter()
            .map(|r| r.payload)
            .collect();
        assert_eq!(got, [&b"first"[..], b"second"]);
        let whole = log(&[b"first", b"second"]);
        let partial = &whole[..whole.len() - 1];
        assert_eq!(zk_log_records(path, partial).unwrap().len(), 1);
    }

    #[test]
    fn checksum_mismatch_is_corruption() {
        let mut bytes = log(&[b"first", b"second"]);
        let at = bytes.len() - 3;
        bytes[at] ^= 1;
        let err = zk_log_records(Path::new("log.1"), &bytes).unwrap_err();
        assert!(
            matches!(err, StorageError::Corrupt { offset: 34, .. }),
            "{err}"
        );
    }
}
