//! A running server's snapshot, written while its tree is still being walked.
//!
//! The file is written as the walk goes: header and sessions, the ACL cache
//! as it was when the walk started, then the nodes in the chunks the walk
//! (`tree::fuzzy`) hands over, summed as they are written and flushed every
//! [`SYNC_EVERY`] bytes, to `snapshot.<zxid hex>.nodes.tmp`. A large tree's
//! image is never held in memory, and each byte goes into the page cache
//! once. When the walk ends the rest of the tree part and the seal are
//! appended and the file renamed to `snapshot.<zxid hex>`.
//!
//! The ACL cache comes before the nodes in the file but a node walked late
//! may name an ACL interned after the walk started. Then (rare: a setACL or
//! create with a new list during the walk) the snapshot is written anew by
//! [`install_snapshot`] with the ACL cache the walk ends with, the nodes
//! copied from the first file by the kernel; the first file is removed.
//! [`remove_unfinished_snapshots`] removes the files a crash left behind.

use super::snapshot::{install_snapshot, seal, snapshot_head, Adler32, SNAP_PREFIX};
use super::{sync_dir, StorageError};
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What ends the name of a snapshot being written.
const SPOOL_SUFFIX: &str = ".nodes.tmp";

/// Bytes of nodes written between two flushes of the file. Flushed once at
/// its end, a 1,000,000-node snapshot (~200 MB) went to the disk in one
/// burst that every log fsync of that moment waited behind (create flood
/// p99 57-80 ms); flushed every 16 MiB, the log's fsyncs slip in between
/// (19-23 ms) at the same throughput.
const SYNC_EVERY: u64 = 16 << 20;

/// A snapshot being written as its walk goes.
pub struct SnapshotSpool {
    /// The snapshot directory.
    dir: PathBuf,
    /// The zxid that names the snapshot.
    zxid: i64,
    /// The file's path until it is complete.
    path: PathBuf,
    /// The file, open for reading and writing.
    file: File,
    /// The file header and sessions, which begin the file.
    head: Vec<u8>,
    /// Bytes before the nodes: `head` and the ACL cache of the walk's start.
    before_len: u64,
    /// Sum of the bytes before the nodes.
    before_sum: Adler32,
    /// Sum of the node bytes written.
    sum: Adler32,
    /// Node bytes written.
    len: u64,
    /// Bytes written since the file was last flushed.
    unsynced: u64,
    /// Whether the file has become the snapshot (nothing left to remove).
    installed: bool,
}

impl SnapshotSpool {
    /// Starts the snapshot `zxid` in `dir` (created if missing) with the
    /// sessions (id, timeout ms) and the ACL cache (`acls`, in the
    /// snapshot's layout) as of the walk's start.
    pub fn create(
        dir: &Path,
        zxid: i64,
        sessions: &[(i64, u32)],
        acls: &[u8],
    ) -> Result<SnapshotSpool, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let path = dir.join(format!("{SNAP_PREFIX}{:x}{SPOOL_SUFFIX}", zxid as u64));
        // Read as well: a snapshot written anew copies the nodes from it.
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        let head = snapshot_head(sessions);
        let mut before_sum = Adler32::default();
        before_sum.update(&head);
        before_sum.update(acls);
        let written = file.write_all(&head).and_then(|()| file.write_all(acls));
        let spool = SnapshotSpool {
            dir: dir.to_path_buf(),
            zxid,
            path,
            file,
            before_len: (head.len() + acls.len()) as u64,
            head,
            before_sum,
            sum: Adler32::default(),
            len: 0,
            unsynced: 0,
            installed: false,
        };
        // On an error the spool drops here, removing the file.
        written.map_err(|e| StorageError::io(&spool.path, e))?;
        Ok(spool)
    }

    /// Appends node bytes (in the order they go into the snapshot).
    pub fn append(&mut self, nodes: &[u8]) -> Result<(), StorageError> {
        self.file
            .write_all(nodes)
            .map_err(|e| StorageError::io(&self.path, e))?;
        self.sum.update(nodes);
        self.len += nodes.len() as u64;
        self.unsynced += nodes.len() as u64;
        if self.unsynced >= SYNC_EVERY {
            self.file
                .sync_data()
                .map_err(|e| StorageError::io(&self.path, e))?;
            self.unsynced = 0;
        }
        Ok(())
    }

    /// Node bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when no node bytes were written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Completes `snapshot.<zxid hex>` with `after` (the last nodes and the
    /// terminator) and the seal; durable when it returns `Ok`. `acls` is
    /// `None` when the ACL cache of the start holds every ACL the nodes
    /// name, else the cache to write instead (the snapshot is then written
    /// anew). The unfinished file is removed either way.
    pub fn finish(mut self, acls: Option<&[u8]>, after: &[u8]) -> Result<PathBuf, StorageError> {
        match acls {
            None => self.complete(after),
            Some(acls) => self.rewrite(acls, after),
        }
    }

    /// Appends `after` and the seal, then gives the file its name.
    fn complete(&mut self, after: &[u8]) -> Result<PathBuf, StorageError> {
        let mut sum = self.before_sum.then(self.sum, self.len);
        sum.update(after);
        self.file
            .write_all(after)
            .and_then(|()| self.file.write_all(&seal(sum)))
            .and_then(|()| self.file.sync_all())
            .map_err(|e| StorageError::io(&self.path, e))?;
        let final_path = self
            .dir
            .join(format!("{SNAP_PREFIX}{:x}", self.zxid as u64));
        std::fs::rename(&self.path, &final_path).map_err(|e| StorageError::io(&final_path, e))?;
        self.installed = true;
        sync_dir(&self.dir)?;
        Ok(final_path)
    }

    /// Writes the snapshot anew with `acls` for its ACL cache, the nodes
    /// copied from this file.
    fn rewrite(&mut self, acls: &[u8], after: &[u8]) -> Result<PathBuf, StorageError> {
        let mut sum = Adler32::default();
        sum.update(&self.head);
        sum.update(acls);
        sum = sum.then(self.sum, self.len);
        sum.update(after);
        let (head, len, before_len) = (&self.head, self.len, self.before_len);
        let spool = &mut self.file;
        install_snapshot(&self.dir, self.zxid, |out| {
            out.write_all(head)?;
            out.write_all(acls)?;
            spool.seek(SeekFrom::Start(before_len))?;
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
                    "the first file holds {copied} of {len} node bytes"
                )));
            }
            out.write_all(after)?;
            out.write_all(&seal(sum))
        })
    }
}

impl Drop for SnapshotSpool {
    /// Removes the file unless it became the snapshot.
    fn drop(&mut self) {
        if !self.installed {
            let _ = std::fs::remove_file(&self.path);
        }
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

    /// Writes `chunks` through a spool started with ACL cache `acls` and
    /// finished with `end_acls`; the file and the image it must hold.
    fn spooled(dir: &Path, acls: &[u8], end_acls: Option<&[u8]>) -> (PathBuf, Vec<u8>) {
        let sessions = [(7i64, 30_000u32), (9, 4_000)];
        let chunks: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 70_000 + i as usize]).collect();
        let mut spool = SnapshotSpool::create(dir, 0x1f, &sessions, acls).unwrap();
        assert!(spool.is_empty());
        for chunk in &chunks {
            spool.append(chunk).unwrap();
        }
        assert_eq!(
            spool.len(),
            chunks.iter().map(|c| c.len() as u64).sum::<u64>()
        );
        let path = spool.finish(end_acls, b"last nodes, end").unwrap();
        let image = snapshot_image(&sessions, |out| {
            out.extend_from_slice(end_acls.unwrap_or(acls));
            chunks.iter().for_each(|c| out.extend_from_slice(c));
            out.extend_from_slice(b"last nodes, end");
        });
        (path, image)
    }

    #[test]
    fn a_spooled_snapshot_is_the_image_written_in_one_go() {
        let dir = TestDir::new();
        let (path, image) = spooled(dir.path(), b"acls", None);
        assert_eq!(std::fs::read(&path).unwrap(), image);
        assert_eq!(names(dir.path()), ["snapshot.1f"], "renamed, nothing left");
    }

    #[test]
    fn acls_new_since_the_start_write_the_snapshot_anew_with_them() {
        let dir = TestDir::new();
        let (path, image) = spooled(dir.path(), b"acls", Some(b"acls of the end"));
        assert_eq!(std::fs::read(&path).unwrap(), image);
        assert_eq!(names(dir.path()), ["snapshot.1f"], "the first file is gone");
    }

    #[test]
    fn a_dropped_spool_leaves_no_file() {
        let dir = TestDir::new();
        let mut spool = SnapshotSpool::create(dir.path(), 3, &[], b"").unwrap();
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
