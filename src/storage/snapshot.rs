//! Snapshots in ZooKeeper's format (`FileSnap`, `SerializeUtils`): file
//! header, sessions, the data tree (`tree::serialize`), and an Adler-32 seal.
//!
//! Two writers produce the same file: [`snapshot_bytes`] serializes a whole
//! tree at one zxid in one go (tests, `import`, a learner's first snapshot),
//! and `spool::SnapshotSpool` writes a running server's fuzzy snapshot
//! (`tree::fuzzy`) while the walk is still going, so the image is never held
//! in memory whole.

use super::{files_by_zxid, sync_dir, zxid_of_name, StorageError};
use crate::jute::records::FileHeader;
use crate::jute::{write_ustring, DecodeError, Record};
use crate::tree::DataTree;
use std::io::Write;
use std::path::{Path, PathBuf};

/// "ZKSN": ZooKeeper's snapshot magic.
const SNAP_MAGIC: i32 = 0x5A4B_534E;
/// Snapshot format version.
const SNAP_VERSION: i32 = 2;
/// The dbid ZooKeeper writes in snapshots.
const SNAP_DBID: i64 = -1;
/// File names of snapshots: `snapshot.<hex zxid>`.
pub(crate) const SNAP_PREFIX: &str = "snapshot.";

/// A snapshot as read: the tree, the sessions (id, timeout ms), and the
/// zxid in the file name.
pub type LoadedSnapshot = (DataTree, Vec<(i64, u32)>, i64);

/// Adler-32 (RFC 1950) of `bytes`, the checksum ZooKeeper seals snapshots with.
pub(crate) fn adler32(bytes: &[u8]) -> u32 {
    let mut sum = Adler32::default();
    sum.update(bytes);
    sum.value()
}

/// A running Adler-32: fed piece by piece, or joined with the sum of bytes
/// that follow (so a file can be sealed without reading back what was
/// already summed when it was written).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Adler32 {
    a: u32,
    b: u32,
}

/// The Adler-32 modulus.
const ADLER_MOD: u32 = 65521;

impl Default for Adler32 {
    /// The sum of no bytes (1).
    fn default() -> Adler32 {
        Adler32 { a: 1, b: 0 }
    }
}

impl Adler32 {
    /// Adds `bytes` after those summed so far.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        // 5552 is the most bytes whose sums cannot overflow u32 before reducing.
        const CHUNK: usize = 5552;
        for chunk in bytes.chunks(CHUNK) {
            for &byte in chunk {
                self.a += u32::from(byte);
                self.b += self.a;
            }
            self.a %= ADLER_MOD;
            self.b %= ADLER_MOD;
        }
    }

    /// The sum of these bytes followed by `len` bytes whose sum is `next`
    /// (zlib's `adler32_combine`).
    pub(crate) fn then(self, next: Adler32, len: u64) -> Adler32 {
        let m = u64::from(ADLER_MOD);
        let rem = len % m;
        let (a1, b1) = (u64::from(self.a), u64::from(self.b));
        let (a2, b2) = (u64::from(next.a), u64::from(next.b));
        // a = a1 + a2 − 1; b = b1 + b2 + len·a1 − len (all mod m).
        let a = (a1 + a2 + m - 1) % m;
        let b = (b1 + b2 + rem * a1 % m + m - rem) % m;
        Adler32 {
            a: a as u32,
            b: b as u32,
        }
    }

    /// The checksum.
    pub(crate) fn value(self) -> u32 {
        (self.b << 16) | self.a
    }
}

/// Serializes `tree` and `sessions` (id, timeout ms) into a complete snapshot
/// file image, sealed. Pure: call it where the tree cannot change meanwhile,
/// and name the file (see [`write_snapshot_bytes`]) after
/// `tree.last_processed_zxid()` at that moment.
pub fn snapshot_bytes(tree: &DataTree, sessions: &[(i64, u32)]) -> Vec<u8> {
    snapshot_image(sessions, |out| tree.write_snapshot_part(out))
}

/// A complete snapshot image around a tree part written by `tree_part`:
/// header, sessions, the tree part, then the Adler-32 seal.
pub fn snapshot_image(sessions: &[(i64, u32)], tree_part: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut image = snapshot_head(sessions);
    tree_part(&mut image);
    let mut sum = Adler32::default();
    sum.update(&image);
    image.extend_from_slice(&seal(sum));
    image
}

/// What precedes a snapshot's tree part: the file header and the sessions
/// (id, timeout ms).
pub(crate) fn snapshot_head(sessions: &[(i64, u32)]) -> Vec<u8> {
    let mut head = Vec::new();
    FileHeader {
        magic: SNAP_MAGIC,
        version: SNAP_VERSION,
        dbid: SNAP_DBID,
    }
    .write(&mut head);
    (sessions.len() as i32).write(&mut head);
    for &(id, timeout_ms) in sessions {
        id.write(&mut head);
        (timeout_ms as i32).write(&mut head);
    }
    head
}

/// The seal that ends a snapshot whose bytes before it sum to `sum`: the
/// checksum as a long, then "/".
pub(crate) fn seal(sum: Adler32) -> Vec<u8> {
    let mut seal = Vec::new();
    i64::from(sum.value()).write(&mut seal);
    write_ustring(&mut seal, Some("/"));
    seal
}

/// The snapshot a leader streams to a learner after SNAP (ZooKeeper's
/// `serializeSnapshot`): sessions then the tree part, with no file header
/// and no seal.
pub fn sync_snapshot_bytes(tree: &DataTree, sessions: &[(i64, u32)]) -> Vec<u8> {
    let mut out = Vec::new();
    (sessions.len() as i32).write(&mut out);
    for &(id, timeout_ms) in sessions {
        id.write(&mut out);
        (timeout_ms as i32).write(&mut out);
    }
    tree.write_snapshot_part(&mut out);
    out
}

/// Reads what [`sync_snapshot_bytes`] writes: the tree (its last processed
/// zxid still to be set by the caller) and the sessions.
pub fn parse_sync_snapshot(
    bytes: &[u8],
    extended_types: bool,
) -> Result<(DataTree, Vec<(i64, u32)>), DecodeError> {
    let (rest, sessions) = read_sessions(bytes)?;
    let (tree, _) = DataTree::read_snapshot_part(rest, extended_types)?;
    Ok((tree, sessions))
}

/// Writes a snapshot image to `dir/snapshot.<zxid hex>` (dir created if
/// missing; pass [`super::snap_dir`] of dataDir): into a temporary file,
/// fsynced, renamed, directory synced. When it returns `Ok` the snapshot is
/// durable and complete; a crash before leaves no `snapshot.*` file.
pub fn write_snapshot_bytes(dir: &Path, zxid: i64, bytes: &[u8]) -> Result<PathBuf, StorageError> {
    install_snapshot(dir, zxid, |file| file.write_all(bytes))
}

/// Writes a snapshot file for `zxid` in `dir` (created if missing) with
/// `write`: into `snapshot.<zxid hex>.tmp`, fsynced, renamed, directory
/// synced, so a crash at any point leaves either no `snapshot.*` file of
/// that zxid or a complete one. The temporary file is removed on failure.
pub(crate) fn install_snapshot(
    dir: &Path,
    zxid: i64,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<PathBuf, StorageError> {
    std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
    let name = format!("{SNAP_PREFIX}{:x}", zxid as u64);
    let tmp = dir.join(format!("{name}.tmp"));
    let written = std::fs::File::create(&tmp).and_then(|mut file| {
        write(&mut file)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(StorageError::io(&tmp, e));
    }
    let path = dir.join(name);
    std::fs::rename(&tmp, &path).map_err(|e| StorageError::io(&path, e))?;
    sync_dir(dir)?;
    Ok(path)
}

/// [`snapshot_bytes`] then [`write_snapshot_bytes`], on the calling thread.
///
/// # Panics
/// If `zxid` is not the tree's last processed zxid: recovery replays the
/// log from the zxid in the name, so any other name would skip or repeat txns.
pub fn write_snapshot(
    dir: &Path,
    tree: &DataTree,
    sessions: &[(i64, u32)],
    zxid: i64,
) -> Result<PathBuf, StorageError> {
    assert_eq!(
        zxid,
        tree.last_processed_zxid(),
        "a snapshot is named after its tree's zxid"
    );
    write_snapshot_bytes(dir, zxid, &snapshot_bytes(tree, sessions))
}

/// Snapshot files in `dir`, newest (highest zxid) first.
pub fn snapshot_files(dir: &Path) -> Result<Vec<(i64, PathBuf)>, StorageError> {
    let mut files = files_by_zxid(dir, SNAP_PREFIX)?;
    files.reverse();
    Ok(files)
}

/// Reads a snapshot written by Paddock or by Apache ZooKeeper 3.8/3.9
/// (uncompressed): the tree (its last processed zxid set to the zxid in the
/// file name), the sessions (id, timeout ms) and that zxid. A wrong header,
/// undecodable bytes or a failed Adler-32 seal is `Corrupt`.
pub fn read_snapshot(path: &Path, extended_types: bool) -> Result<LoadedSnapshot, StorageError> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let zxid = zxid_of_name(name, SNAP_PREFIX)
        .ok_or_else(|| StorageError::corrupt(path, 0, "file name is not snapshot.<hex zxid>"))?;
    let map = std::fs::File::open(path)
        .and_then(|file| super::mmap::MappedReadOnly::map_whole(&file))
        .map_err(|e| StorageError::io(path, e))?;
    let (mut tree, sessions) = parse_snapshot(map.bytes(), extended_types)
        .map_err(|(offset, reason)| StorageError::corrupt(path, offset, reason))?;
    tree.set_last_processed_zxid(zxid);
    Ok((tree, sessions, zxid))
}

/// Where parsing failed: byte offset and reason.
type ParseFailure = (u64, String);

/// Parses a snapshot file image and checks its seal. The checksum is summed
/// on a thread of its own while the tree is parsed (180 MB: ~50 ms of one
/// core); reading the file front to back ahead of the parser, that thread
/// also brings pages the page cache has dropped in early.
fn parse_snapshot(
    bytes: &[u8],
    extended_types: bool,
) -> Result<(DataTree, Vec<(i64, u32)>), ParseFailure> {
    std::thread::scope(|scope| {
        let summing = std::thread::Builder::new()
            .name("paddock-snapsum".into())
            .spawn_scoped(scope, || PrefixSums::of(bytes));
        let parsed = parse_snapshot_body(bytes, extended_types);
        let sums = match summing {
            Ok(handle) => handle.join().expect("summing bytes cannot panic"),
            Err(_) => PrefixSums::of(bytes),
        };
        let (tree, sessions, seal_at) = parsed?;
        check_seal(bytes, seal_at, &sums)?;
        Ok((tree, sessions))
    })
}

/// What a snapshot holds before its seal, and the seal's offset.
type SnapshotBody = (DataTree, Vec<(i64, u32)>, usize);

fn parse_snapshot_body(bytes: &[u8], extended_types: bool) -> Result<SnapshotBody, ParseFailure> {
    let at = |rest: &[u8]| (bytes.len() - rest.len()) as u64;
    let decode = |rest: &[u8], e: DecodeError| (at(rest), e.to_string());
    let (rest, header) = FileHeader::read(bytes)
        .map_err(|_| (0, "file is shorter than a snapshot header".to_string()))?;
    if header.magic != SNAP_MAGIC || header.version != SNAP_VERSION {
        return Err((
            0,
            format!(
                "not a version-2 ZooKeeper snapshot (magic {:#x})",
                header.magic
            ),
        ));
    }
    let (rest, sessions) = read_sessions(rest).map_err(|e| decode(rest, e))?;
    let (tree, rest) =
        DataTree::read_snapshot_part(rest, extended_types).map_err(|e| decode(rest, e))?;
    Ok((tree, sessions, at(rest) as usize))
}

/// Bytes between two checkpoints of [`PrefixSums`].
const SUM_STEP: usize = 1 << 20;

/// The Adler-32 of a file's first `k · SUM_STEP` bytes for every `k`, so
/// that the sum of any prefix costs less than `SUM_STEP` bytes more.
struct PrefixSums(Vec<Adler32>);

impl PrefixSums {
    fn of(bytes: &[u8]) -> PrefixSums {
        let mut running = Adler32::default();
        let mut sums = Vec::with_capacity(bytes.len() / SUM_STEP + 1);
        sums.push(running);
        for step in bytes.chunks_exact(SUM_STEP) {
            running.update(step);
            sums.push(running);
        }
        PrefixSums(sums)
    }

    /// The Adler-32 of `bytes[..len]` (`bytes` as summed).
    fn prefix(&self, bytes: &[u8], len: usize) -> u32 {
        let k = (len / SUM_STEP).min(self.0.len() - 1);
        let mut sum = self.0[k];
        sum.update(&bytes[k * SUM_STEP..len]);
        sum.value()
    }
}

/// The sessions read and the bytes after them.
type SessionsAndRest<'a> = (&'a [u8], Vec<(i64, u32)>);

fn read_sessions(input: &[u8]) -> Result<SessionsAndRest<'_>, DecodeError> {
    let finish = |e: nom::Err<DecodeError>| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => DecodeError::Truncated,
    };
    let (mut rest, count) = i32::read(input).map_err(finish)?;
    let mut sessions = Vec::with_capacity((count.max(0) as usize).min(rest.len() / 12));
    for _ in 0..count.max(0) {
        let (r, id) = i64::read(rest).map_err(finish)?;
        let (r, timeout) = i32::read(r).map_err(finish)?;
        sessions.push((id, timeout as u32));
        rest = r;
    }
    Ok((rest, sessions))
}

/// Checks the seal at `offset`: the Adler-32 of `bytes[..offset]` as a long,
/// then the ustring "/". What follows (ZooKeeper's digest and zxid parts,
/// each with its own seal) is covered by later seals Paddock does not need.
fn check_seal(bytes: &[u8], offset: usize, sums: &PrefixSums) -> Result<(), ParseFailure> {
    const SEAL: [u8; 5] = [0, 0, 0, 1, b'/'];
    let Some(seal) = bytes.get(offset..offset + 13) else {
        return Err((offset as u64, "snapshot ends before its checksum".into()));
    };
    let stored = i64::from_be_bytes(seal[..8].try_into().expect("8 bytes"));
    let computed = i64::from(sums.prefix(bytes, offset));
    if stored != computed || seal[8..] != SEAL {
        return Err((
            offset as u64,
            format!("checksum mismatch: stored {stored:#x}, computed {computed:#x}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_running_sum_joined_with_the_next_bytes_sum_is_the_sum_of_both() {
        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for cut in [0, 1, 5552, 65521, 100_000, 300_000] {
            let (front, back) = bytes.split_at(cut);
            let mut first = Adler32::default();
            first.update(front);
            let mut second = Adler32::default();
            second.update(back);
            assert_eq!(
                first.then(second, back.len() as u64).value(),
                adler32(&bytes),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn a_prefix_sum_from_checkpoints_is_the_prefix_sum() {
        let bytes: Vec<u8> = (0..3 * SUM_STEP as u32 + 77)
            .map(|i| (i ^ (i >> 9)) as u8)
            .collect();
        let sums = PrefixSums::of(&bytes);
        assert_eq!(sums.0.len(), 4);
        for len in [0, 1, SUM_STEP - 1, SUM_STEP, 2 * SUM_STEP + 5, bytes.len()] {
            assert_eq!(
                sums.prefix(&bytes, len),
                adler32(&bytes[..len]),
                "prefix {len}"
            );
        }
    }

    #[test]
    fn an_installed_snapshot_replaces_its_temporary_file() {
        let dir = crate::storage::test_dir::TestDir::new();
        let image = snapshot_image(&[(7, 30_000)], |out| out.extend_from_slice(b"tree"));
        let path = write_snapshot_bytes(dir.path(), 5, &image).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), image);
        let failed = install_snapshot(dir.path(), 6, |_| Err(std::io::Error::other("disk full")));
        assert!(failed.is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["snapshot.5"], "no temporary file is left");
    }

    #[test]
    fn adler32_matches_known_values() {
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        let big = vec![0xffu8; 100_000];
        // Reference value computed bytewise without chunking.
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &big {
            a = (a + u64::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        assert_eq!(adler32(&big), ((b << 16) | a) as u32);
    }
}
