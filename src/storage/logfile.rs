//! The log's byte layout (see the grammar in `storage`): the file header, the
//! record frame, and a reader that walks a file's records and says exactly
//! where and why it stopped.

/// "PDKL": marks a Paddock log (ZooKeeper's logs start with "ZKLG").
pub(crate) const LOG_MAGIC: u32 = 0x5044_4B4C;
/// The log format version this code writes and reads.
pub(crate) const LOG_VERSION: u32 = 1;
/// Bytes of the file header: magic, version, dbid.
pub(crate) const HEADER_LEN: usize = 16;
/// Bytes of a record's frame before its body: crc, len, zxid.
pub(crate) const FRAME_LEN: usize = 16;
/// File names of logs: `log.<hex zxid of the first record>`.
pub(crate) const LOG_PREFIX: &str = "log.";

/// The 16 header bytes every log file starts with.
pub(crate) fn header_bytes() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(&LOG_MAGIC.to_be_bytes());
    h[4..8].copy_from_slice(&LOG_VERSION.to_be_bytes());
    h
}

/// The CRC of a record: over its len and zxid (big-endian) and its body.
fn record_crc(len: u32, zxid: i64, body: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&len.to_be_bytes());
    crc.update(&zxid.to_be_bytes());
    crc.update(body);
    crc.finalize()
}

/// Appends the record (frame + body, `FRAME_LEN + body.len()` bytes) to `out`.
pub(crate) fn push_record(out: &mut Vec<u8>, zxid: i64, body: &[u8]) {
    let len = u32::try_from(body.len()).expect("a record body fits in u32");
    out.extend_from_slice(&record_crc(len, zxid, body).to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&zxid.to_be_bytes());
    out.extend_from_slice(body);
}

/// One valid record of a log file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LogRecord<'a> {
    /// Offset of the record's frame in the file.
    pub(crate) offset: u64,
    /// The zxid in its frame.
    pub(crate) zxid: i64,
    /// The body: TxnHeader + Txn [+ TxnDigest] Jute bytes.
    pub(crate) body: &'a [u8],
}

/// Why reading a log file stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogEnd {
    /// Zero length or end of file at `offset`: every byte before it was valid.
    Clean { offset: u64 },
    /// The record at `offset` is not valid (why in `reason`).
    Bad { offset: u64, reason: &'static str },
}

/// Checks the file header of a log's bytes.
pub(crate) fn check_header(bytes: &[u8]) -> Result<(), &'static str> {
    if bytes.len() < HEADER_LEN {
        return Err("file is shorter than the log header");
    }
    if bytes[0..4] != LOG_MAGIC.to_be_bytes() {
        return Err("not a Paddock log (bad magic)");
    }
    if bytes[4..8] != LOG_VERSION.to_be_bytes() {
        return Err("unknown log format version");
    }
    Ok(())
}

/// Parses the record at `offset`: `Ok(None)` at a clean end (zero length or
/// not even a frame left), `Err` for a record that is not valid. Valid means:
/// its body fits in the file, its CRC matches, and its zxid is above
/// `after_zxid`.
fn record_at(
    bytes: &[u8],
    offset: usize,
    after_zxid: i64,
) -> Result<Option<LogRecord<'_>>, &'static str> {
    let Some(frame) = bytes.get(offset..offset + FRAME_LEN) else {
        return if bytes[offset..].iter().all(|&b| b == 0) {
            Ok(None)
        } else {
            Err("frame runs past the end of the file")
        };
    };
    let crc = u32::from_be_bytes(frame[0..4].try_into().expect("4 bytes"));
    let len = u32::from_be_bytes(frame[4..8].try_into().expect("4 bytes"));
    let zxid = i64::from_be_bytes(frame[8..16].try_into().expect("8 bytes"));
    if len == 0 {
        return Ok(None);
    }
    let start = offset + FRAME_LEN;
    let Some(body) = bytes.get(start..start + len as usize) else {
        return Err("record length runs past the end of the file");
    };
    if record_crc(len, zxid, body) != crc {
        return Err("record checksum mismatch");
    }
    if zxid <= after_zxid {
        return Err("record zxid does not increase");
    }
    Ok(Some(LogRecord {
        offset: offset as u64,
        zxid,
        body,
    }))
}

/// Walks the records of one log file's bytes (header already checked).
pub(crate) struct LogReader<'a> {
    /// The whole file.
    bytes: &'a [u8],
    /// Where the next record's frame starts.
    offset: usize,
    /// The zxid of the last record returned (records must exceed it).
    last_zxid: i64,
    /// Set once reading stopped.
    end: Option<LogEnd>,
}

impl<'a> LogReader<'a> {
    /// A reader over `bytes` whose records must have zxids above `after_zxid`.
    pub(crate) fn new(bytes: &'a [u8], after_zxid: i64) -> LogReader<'a> {
        LogReader {
            bytes,
            offset: HEADER_LEN,
            last_zxid: after_zxid,
            end: None,
        }
    }

    /// Where and why reading stopped; `None` while records remain.
    pub(crate) fn end(&self) -> Option<&LogEnd> {
        self.end.as_ref()
    }

    /// The zxid of the last valid record read (or the starting bound).
    pub(crate) fn last_zxid(&self) -> i64 {
        self.last_zxid
    }
}

impl<'a> Iterator for LogReader<'a> {
    type Item = LogRecord<'a>;

    fn next(&mut self) -> Option<LogRecord<'a>> {
        if self.end.is_some() {
            return None;
        }
        let offset = self.offset as u64;
        match record_at(self.bytes, self.offset, self.last_zxid) {
            Ok(Some(record)) => {
                self.offset += FRAME_LEN + record.body.len();
                self.last_zxid = record.zxid;
                Some(record)
            }
            Ok(None) => {
                self.end = Some(LogEnd::Clean { offset });
                None
            }
            Err(reason) => {
                self.end = Some(LogEnd::Bad { offset, reason });
                None
            }
        }
    }
}

/// Whether any valid record with a zxid above `after_zxid` starts anywhere
/// after `bad_offset` in `bytes`. Used only after a bad record, to tell a torn
/// tail (nothing valid follows) from corruption in the middle of the log (a
/// damaged length field cannot be trusted to find the next record, so every
/// offset is tried; zero bytes are skipped quickly).
pub(crate) fn valid_record_after(bytes: &[u8], bad_offset: u64, after_zxid: i64) -> bool {
    let mut offset = bad_offset as usize + 1;
    while offset + FRAME_LEN <= bytes.len() {
        if bytes[offset..offset + 8] == [0u8; 8] {
            offset += 1;
            continue;
        }
        if let Ok(Some(_)) = record_at(bytes, offset, after_zxid) {
            return true;
        }
        offset += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(records: &[(i64, &[u8])], size: usize) -> Vec<u8> {
        let mut bytes = header_bytes().to_vec();
        for (zxid, body) in records {
            push_record(&mut bytes, *zxid, body);
        }
        bytes.resize(size, 0);
        bytes
    }

    #[test]
    fn reads_records_then_stops_cleanly_at_zero_fill() {
        let bytes = file(&[(1, b"one"), (2, b"two!")], 200);
        check_header(&bytes).unwrap();
        let mut reader = LogReader::new(&bytes, 0);
        let got: Vec<_> = reader.by_ref().map(|r| (r.zxid, r.body.to_vec())).collect();
        assert_eq!(got, [(1, b"one".to_vec()), (2, b"two!".to_vec())]);
        let end = (HEADER_LEN + 2 * FRAME_LEN + 7) as u64;
        assert_eq!(reader.end(), Some(&LogEnd::Clean { offset: end }));
        assert_eq!(reader.last_zxid(), 2);
    }

    #[test]
    fn flipped_body_byte_is_a_bad_record() {
        let mut bytes = file(&[(1, b"one"), (2, b"two")], 100);
        bytes[HEADER_LEN + FRAME_LEN + 3 + FRAME_LEN] ^= 1;
        let mut reader = LogReader::new(&bytes, 0);
        assert_eq!(reader.by_ref().count(), 1);
        let offset = (HEADER_LEN + FRAME_LEN + 3) as u64;
        assert_eq!(
            reader.end(),
            Some(&LogEnd::Bad {
                offset,
                reason: "record checksum mismatch"
            })
        );
        assert!(!valid_record_after(&bytes, offset, 1));
    }

    #[test]
    fn a_valid_record_behind_a_bad_one_is_found_even_with_a_broken_length() {
        let mut bytes = file(&[(1, b"one"), (2, b"two"), (3, b"three")], 100);
        let second = HEADER_LEN + FRAME_LEN + 3;
        bytes[second + 4] = 0x7f;
        let mut reader = LogReader::new(&bytes, 0);
        assert_eq!(reader.by_ref().count(), 1);
        assert!(matches!(reader.end(), Some(LogEnd::Bad { .. })));
        assert!(valid_record_after(&bytes, second as u64, 1));
    }

    #[test]
    fn zxids_must_increase() {
        let bytes = file(&[(5, b"a"), (5, b"b")], 100);
        let mut reader = LogReader::new(&bytes, 0);
        assert_eq!(reader.by_ref().count(), 1);
        assert!(matches!(
            reader.end(),
            Some(LogEnd::Bad {
                reason: "record zxid does not increase",
                ..
            })
        ));
    }

    #[test]
    fn foreign_header_is_refused() {
        let mut bytes = file(&[], 32);
        bytes[0] = b'Z';
        assert!(check_header(&bytes).is_err());
        assert!(check_header(&bytes[..8]).is_err());
    }
}
