//! Snapshots in ZooKeeper's format (`FileSnap`, `SerializeUtils`): file
//! header, sessions, the data tree (`tree::serialize`), and an Adler-32 seal.
//!
//! Consistency: a snapshot is the tree at exactly one zxid. The caller, on the
//! thread that owns the tree, calls [`snapshot_bytes`] (pure serialization,
//! no I/O) and hands the bytes to [`write_snapshot_bytes`] on a blocking
//! thread. This is simpler than ZooKeeper's fuzzy snapshot — replay never
//! meets a txn the snapshot already holds — and cheap: serializing a million
//! small nodes takes a fraction of a second (see the `storage` tests).

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
    adler32_parts(&[bytes])
}

/// Adler-32 of the concatenation of `parts`, without concatenating them.
fn adler32_parts(parts: &[&[u8]]) -> u32 {
    const MOD: u32 = 65521;
    // 5552 is the most bytes whose sums cannot overflow u32 before reducing.
    const CHUNK: usize = 5552;
    let (mut a, mut b) = (1u32, 0u32);
    for part in parts {
        for chunk in part.chunks(CHUNK) {
            for &byte in chunk {
                a += u32::from(byte);
                b += a;
            }
            a %= MOD;
            b %= MOD;
        }
    }
    (b << 16) | a
}

/// Serializes `tree` and `sessions` (id, timeout ms) into a complete snapshot
/// file image, sealed. Pure: call it where the tree cannot change meanwhile,
/// and name the file (see [`write_snapshot_bytes`]) after
/// `tree.last_processed_zxid()` at that moment.
pub fn snapshot_bytes(tree: &DataTree, sessions: &[(i64, u32)]) -> Vec<u8> {
    snapshot_image(sessions, |out| tree.write_snapshot_part(out))
}

/// A complete snapshot image around a tree part written by `tree_part` (the
/// one-shot writer above, or a finished `tree::fuzzy::FuzzyNodes`): header,
/// sessions, the tree part, then the Adler-32 seal.
pub fn snapshot_image(sessions: &[(i64, u32)], tree_part: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut tree = Vec::new();
    tree_part(&mut tree);
    let (head, seal) = snapshot_frame(sessions, &[&tree]);
    [head, tree, seal].concat()
}

/// What surrounds a snapshot's tree part, given as `tree_parts` (in order):
/// the head (file header and sessions) and the seal (Adler-32 of the head and
/// every tree part, then "/"). Writing head, the tree parts and the seal in
/// that order gives the same file as [`snapshot_image`], without copying the
/// tree part into one buffer.
pub fn snapshot_frame(sessions: &[(i64, u32)], tree_parts: &[&[u8]]) -> (Vec<u8>, Vec<u8>) {
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
    let mut summed: Vec<&[u8]> = vec![&head];
    summed.extend_from_slice(tree_parts);
    let mut seal = Vec::new();
    i64::from(adler32_parts(&summed)).write(&mut seal);
    write_ustring(&mut seal, Some("/"));
    (head, seal)
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
    write_snapshot_parts(dir, zxid, &[bytes])
}

/// [`write_snapshot_bytes`] of the concatenation of `parts`, written one
/// after the other (same guarantees).
pub fn write_snapshot_parts(
    dir: &Path,
    zxid: i64,
    parts: &[&[u8]],
) -> Result<PathBuf, StorageError> {
    std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
    let name = format!("{SNAP_PREFIX}{:x}", zxid as u64);
    let tmp = dir.join(format!("{name}.tmp"));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        for part in parts {
            file.write_all(part)?;
        }
        file.sync_all()
    };
    write().map_err(|e| StorageError::io(&tmp, e))?;
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
        .and_then(|file| super::mmap::MappedReadOnly::map(&file))
        .map_err(|e| StorageError::io(path, e))?;
    let (mut tree, sessions) = parse_snapshot(map.bytes(), extended_types)
        .map_err(|(offset, reason)| StorageError::corrupt(path, offset, reason))?;
    tree.set_last_processed_zxid(zxid);
    Ok((tree, sessions, zxid))
}

/// Where parsing failed: byte offset and reason.
type ParseFailure = (u64, String);

fn parse_snapshot(
    bytes: &[u8],
    extended_types: bool,
) -> Result<(DataTree, Vec<(i64, u32)>), ParseFailure> {
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
    check_seal(bytes, at(rest) as usize)?;
    Ok((tree, sessions))
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
fn check_seal(bytes: &[u8], offset: usize) -> Result<(), ParseFailure> {
    const SEAL: [u8; 5] = [0, 0, 0, 1, b'/'];
    let Some(seal) = bytes.get(offset..offset + 13) else {
        return Err((offset as u64, "snapshot ends before its checksum".into()));
    };
    let stored = i64::from_be_bytes(seal[..8].try_into().expect("8 bytes"));
    let computed = i64::from(adler32(&bytes[..offset]));
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
    fn a_framed_snapshot_in_parts_is_the_image() {
        let sessions = [(7i64, 30_000u32), (9, 4_000)];
        let parts: [&[u8]; 3] = [b"acls", b"nodes nodes", b"end"];
        let image = snapshot_image(&sessions, |out| {
            parts.iter().for_each(|p| out.extend_from_slice(p))
        });
        let (head, seal) = snapshot_frame(&sessions, &parts);
        let framed: Vec<u8> = [&head[..], parts[0], parts[1], parts[2], &seal].concat();
        assert_eq!(framed, image);
        let dir = crate::storage::test_dir::TestDir::new();
        let path = write_snapshot_parts(dir.path(), 5, &[&head, &parts.concat(), &seal]).unwrap();
        assert_eq!(std::fs::read(path).unwrap(), image);
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
