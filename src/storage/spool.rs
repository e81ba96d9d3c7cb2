//! A running server's snapshot, written while its tree is still being walked.
//!
//! A snapshot file holds the ACL cache before the nodes, but a fuzzy walk
//! (`tree::fuzzy`) only knows every ACL its nodes name once it has reached the
//! last node. Rather than hold a million nodes' bytes in memory until then
//! (hundreds of MiB, alive beside the tree), the walk hands its nodes over in
//! chunks and they go to a spool file, `snapshot.<zxid hex>.nodes.tmp`, summed
//! as they are written. When the walk ends, the snapshot is written as
//! [`install_snapshot`] writes any snapshot: head, ACL cache, the spooled
//! nodes (copied file to file by the kernel, never read back into memory,
//! and flushed as they go), the rest of the tree part and the seal, whose
//! checksum joins the sums of the pieces. The spool file is removed when the spool is finished or
//! dropped; [`remove_unfinished_snapshots`] removes those a crash left behind.

use super::snapshot::{install_snapshot, seal, snapshot_head, Adler32, SNAP_PREFIX};
use super::StorageError;
use std::fs::File;
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

/// What ends a spool file's name.
const SPOOL_SUFFIX: &str = ".nodes.tmp";

/// Bytes of spooled nodes copied into the snapshot between two flushes of
/// the file. Flushed once at the end, a 1,000,000-node snapshot (~200 MB)
/// went to the disk in one burst that every log fsync of that moment waited
/// behind (create flood p99 57-80 ms); flushed every 16 MiB, the log's
/// fsyncs slip in between (19-23 ms) at the same throughput.
const SYNC_EVERY: u64 = 16 << 20;

/// Nodes of a snapshot in progress, on disk.
pub struct SnapshotSpool {
    /// The snapshot directory.
    dir: PathBuf,
    /// The zxid that names the snapshot.
    zxid: i64,
    /// The spool file's path.
    path: PathBuf,
    /// The spool file, open for writing.
    file: File,
    /// Sum of the bytes spooled.
    sum: Adler32,
    /// Bytes spooled.
    len: u64,
}

impl SnapshotSpool {
    /// Creates the spool file of the snapshot `zxid` in `dir` (created if missing).
    pub fn create(dir: &Path, zxid: i64) -> Result<SnapshotSpool, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let path = dir.join(format!("{SNAP_PREFIX}{:x}{SPOOL_SUFFIX}", zxid as u64));
        // Read as well: finishing copies it into the snapshot file.
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        Ok(SnapshotSpool {
            dir: dir.to_path_buf(),
            zxid,
            path,
            file,
            sum: Adler32::default(),
            len: 0,
        })
    }

    /// Appends node bytes (in the order they go into the snapshot).
    pub fn append(&mut self, nodes: &[u8]) -> Result<(), StorageError> {
        self.file
            .write_all(nodes)
            .map_err(|e| StorageError::io(&self.path, e))?;
        self.sum.update(nodes);
        self.len += nodes.len() as u64;
        Ok(())
    }

    /// Bytes spooled so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when nothing was spooled.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Writes `snapshot.<zxid hex>`: the head with `sessions`, `before` (the
    /// ACL cache), the spooled nodes, `after` (the last nodes and the
    /// terminator), the seal; durable when it returns `Ok`. The spool file is
    /// removed either way.
    pub fn finish(
        mut self,
        sessions: &[(i64, u32)],
        before: &[u8],
        after: &[u8],
    ) -> Result<PathBuf, StorageError> {
        let head = snapshot_head(sessions);
        let mut sum = Adler32::default();
        sum.update(&head);
        sum.update(before);
        sum = sum.then(self.sum, self.len);
        sum.update(after);
        let spool = &mut self.file;
        let len = self.len;
        install_snapshot(&self.dir, self.zxid, |out| {
            out.write_all(&head)?;
            out.write_all(before)?;
            spool.rewind()?;
            let mut copied = 0u64;
            while copied < len {
                let step = (len - copied).min(SYNC_EVERY);
                let n = std::io::copy(&mut std::io::Read::take(&mut *spool, step), out)?;
                if n == 0 {
                    break;
                }
                copied += n;
                out.sync_data()?;
            }
            if copied != len {
                return Err(std::io::Error::other(format!(
                    "spool file holds {copied} of {len} bytes"
                )));
            }
            out.write_all(after)?;
            out.write_all(&seal(sum))
        })
    }
}

impl Drop for SnapshotSpool {
    /// Removes the spool file.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Removes what a process stopped mid-snapshot left in `dir`: spool files
/// and unrenamed `snapshot.<zxid>.tmp` files (never needed: recovery reads
/// complete snapshots only). Call it before any snapshot is being written.
/// Returns how many files it removed.
pub fn remove_unfinished_snapshots(dir: &Path) -> Result<usize, StorageError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(SNAP_PREFIX) && name.ends_with(".tmp") {
            let path = entry.path();
            std::fs::remove_file(&path).map_err(|e| StorageError::io(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::snapshot::snapshot_image;
    use crate::storage::test_dir::TestDir;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_spooled_snapshot_is_the_image_written_in_one_go() {
        let dir = TestDir::new();
        let sessions = [(7i64, 30_000u32), (9, 4_000)];
        let chunks: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 70_000 + i as usize]).collect();
        let mut spool = SnapshotSpool::create(dir.path(), 0x1f).unwrap();
        assert!(spool.is_empty());
        for chunk in &chunks {
            spool.append(chunk).unwrap();
        }
        assert_eq!(
            spool.len(),
            chunks.iter().map(|c| c.len() as u64).sum::<u64>()
        );
        let path = spool
            .finish(&sessions, b"acls", b"last nodes, end")
            .unwrap();
        let image = snapshot_image(&sessions, |out| {
            out.extend_from_slice(b"acls");
            chunks.iter().for_each(|c| out.extend_from_slice(c));
            out.extend_from_slice(b"last nodes, end");
        });
        assert_eq!(std::fs::read(&path).unwrap(), image);
        assert_eq!(names(dir.path()), ["snapshot.1f"], "the spool file is gone");
    }

    #[test]
    fn a_dropped_spool_leaves_no_file() {
        let dir = TestDir::new();
        let mut spool = SnapshotSpool::create(dir.path(), 3).unwrap();
        spool.append(b"nodes").unwrap();
        assert_eq!(names(dir.path()), ["snapshot.3.nodes.tmp"]);
        drop(spool);
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn unfinished_snapshots_are_removed_and_nothing_else() {
        let dir = TestDir::new();
        for name in [
            "snapshot.3.nodes.tmp",
            "snapshot.4",
            "log.1",
            "snapshot.5.tmp",
            "x.tmp",
        ] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        assert_eq!(remove_unfinished_snapshots(dir.path()).unwrap(), 2);
        assert_eq!(names(dir.path()), ["log.1", "snapshot.4", "x.tmp"]);
        let missing = dir.path().join("missing");
        assert_eq!(remove_unfinished_snapshots(&missing).unwrap(), 0);
    }
}
