//! The thread that writes one fuzzy snapshot while the core walks the tree:
//! node chunks go to a [`SnapshotSpool`] as the walk hands them over, so a
//! large tree's image is never held in memory, and the file is completed once
//! the log thread has rolled the log (see `log_writer`).
//!
//! A snapshot that cannot be written (the disk is full) is given up with a
//! warning and its spool removed; the log still holds every txn, so nothing
//! is lost, and the next snapshot tries again.

use crate::storage::{SnapshotSpool, StorageError};
use crate::tree::fuzzy::{ChunkPool, FuzzyEnd};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tracing::{info, warn};

/// What the writer thread is sent.
enum Piece {
    /// Node bytes, in snapshot order.
    Nodes(Vec<u8>),
    /// The walk is over and the log rolled: write the file.
    End {
        sessions: Vec<(i64, u32)>,
        end: FuzzyEnd,
    },
}

/// Whether a snapshot's writer thread is still at work (shared by the core,
/// which starts no snapshot while one is, as ZooKeeper's SyncRequestProcessor
/// skips a snapshot while its snapshot thread runs), and the newest snapshot
/// on disk (the AdminServer's `last_snapshot`).
#[derive(Debug, Clone, Default)]
pub struct SnapshotStatus(Arc<Status>);

#[derive(Debug, Default)]
struct Status {
    busy: AtomicBool,
    /// (zxid, seconds since the epoch) of the newest snapshot.
    last: Mutex<Option<(i64, i64)>>,
}

impl SnapshotStatus {
    /// A status whose newest snapshot is `last` (the one loaded at start).
    pub fn new(last: Option<(i64, i64)>) -> SnapshotStatus {
        let status = SnapshotStatus::default();
        status.set_last(last);
        status
    }

    /// True from [`SnapshotWriter::start`] until its thread has ended
    /// (written the file, failed, or been abandoned).
    pub fn is_busy(&self) -> bool {
        self.0.busy.load(Ordering::Acquire)
    }

    /// The newest snapshot on disk: (zxid, seconds since the epoch when it
    /// was completed, or its file's modification time for the one loaded).
    pub fn last(&self) -> Option<(i64, i64)> {
        *self.0.last.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that `snapshot.<zxid>` was just completed (by this thread or
    /// any other writer, such as a learner's SNAP install).
    pub fn written_now(&self, zxid: i64) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH);
        self.set_last(Some((zxid, now.map_or(0, |d| d.as_secs() as i64))));
    }

    fn set_last(&self, last: Option<(i64, i64)>) {
        *self.0.last.lock().unwrap_or_else(PoisonError::into_inner) = last;
    }
}

/// Clears a [`SnapshotStatus`]'s busy flag when dropped: the writer thread
/// holds one, so every way it ends (and a thread that never started) clears it.
struct ClearOnDrop(SnapshotStatus);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        (self.0).0.busy.store(false, Ordering::Release);
    }
}

/// The sending side of one snapshot's writer thread. Dropped without
/// [`finish`](Self::finish), the snapshot is abandoned and its spool removed.
pub struct SnapshotWriter {
    tx: mpsc::Sender<Piece>,
}

impl SnapshotWriter {
    /// Starts the thread writing `snapshot.<zxid hex>` into `dir`; `status`
    /// says it is busy until the thread ends, and names the file once it is
    /// complete. Chunks, once spooled, go back to `pool`.
    pub fn start(
        dir: PathBuf,
        zxid: i64,
        status: &SnapshotStatus,
        pool: &ChunkPool,
    ) -> SnapshotWriter {
        let (tx, rx) = mpsc::channel();
        status.0.busy.store(true, Ordering::Release);
        let clear = ClearOnDrop(status.clone());
        let pool = pool.clone();
        let spawned = std::thread::Builder::new()
            .name("paddock-snapshot".into())
            .spawn(move || {
                let clear = clear;
                match write(&dir, zxid, rx, &pool) {
                    Ok(true) => clear.0.written_now(zxid),
                    Ok(false) => {}
                    Err(e) => warn!("snapshot failed (the log still holds every txn): {e}"),
                }
            });
        if let Err(e) = spawned {
            // The receiver is gone with the closure: every send is ignored.
            warn!("could not start the snapshot thread: {e}");
        }
        SnapshotWriter { tx }
    }

    /// Hands over node bytes (in snapshot order).
    pub fn nodes(&self, chunk: Vec<u8>) {
        let _ = self.tx.send(Piece::Nodes(chunk));
    }

    /// Completes the snapshot with the sessions of its start and the end of
    /// the walk; the thread writes and installs the file, then exits.
    pub fn finish(self, sessions: Vec<(i64, u32)>, end: FuzzyEnd) {
        let _ = self.tx.send(Piece::End { sessions, end });
    }
}

/// The writer thread: spools chunks until the end arrives, then installs the
/// file (true). Returns early (dropping the spool) on the first error, or
/// when the sender is dropped without an end (false).
fn write(
    dir: &std::path::Path,
    zxid: i64,
    rx: mpsc::Receiver<Piece>,
    pool: &ChunkPool,
) -> Result<bool, StorageError> {
    let mut spool = SnapshotSpool::create(dir, zxid)?;
    while let Ok(piece) = rx.recv() {
        match piece {
            Piece::Nodes(chunk) => {
                spool.append(&chunk)?;
                pool.give(chunk);
            }
            Piece::End { sessions, end } => {
                let started = Instant::now();
                let bytes = spool.len() + (end.acls.len() + end.rest.len()) as u64;
                let path = spool.finish(&sessions, &end.acls, &end.rest)?;
                info!(
                    path = %path.display(),
                    bytes,
                    ms = started.elapsed().as_millis() as u64,
                    "snapshot written"
                );
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{read_snapshot, snapshot_bytes};
    use crate::tree::acl_cache::open_acl_unsafe;
    use crate::tree::fuzzy::FuzzyNodes;
    use crate::tree::DataTree;

    fn tree_of(nodes: usize) -> DataTree {
        let mut tree = DataTree::new(false);
        let data = vec![5u8; 3000];
        for i in 0..nodes {
            let path = format!("/n{i}");
            tree.create_node(
                &path,
                Some(&data),
                &open_acl_unsafe(),
                0,
                -1,
                i as i64 + 1,
                0,
                &mut Vec::new(),
            )
            .unwrap();
        }
        tree
    }

    fn wait_for(path: &std::path::Path) {
        for _ in 0..500 {
            if path.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("{} was not written", path.display());
    }

    #[test]
    fn a_walk_spooled_through_the_writer_reads_back_as_the_tree() {
        let dir = crate::storage::test_dir::TestDir::new();
        let tree = tree_of(1000);
        let zxid = tree.last_processed_zxid();
        let busy = SnapshotStatus::new(Some((0, 1)));
        let pool = ChunkPool::default();
        let writer = SnapshotWriter::start(dir.path().to_path_buf(), zxid, &busy, &pool);
        assert!(busy.is_busy());
        let mut walk = FuzzyNodes::start(&tree, &pool);
        let mut chunks = 0;
        while !walk.step(&tree, 100) {
            for chunk in walk.take_full_chunks() {
                writer.nodes(chunk);
                chunks += 1;
            }
        }
        assert!(chunks >= 2, "3 MB of nodes went over in chunks");
        let sessions = vec![(0x11, 30_000)];
        writer.finish(sessions.clone(), walk.finish());
        let path = dir.path().join("snapshot.0");
        wait_for(&path);
        for _ in 0..500 {
            if !busy.is_busy() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!busy.is_busy(), "the thread ended and said so");
        let (last_zxid, when) = busy.last().unwrap();
        assert_eq!(last_zxid, zxid, "the newest snapshot is this one");
        assert!(when > 1_700_000_000, "completed now: {when}");
        assert!(pool.spare() >= 1, "spooled chunks went back to the pool");
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written, snapshot_bytes(&tree, &sessions));
        let (back, back_sessions, _) = read_snapshot(&path, false).unwrap();
        assert_eq!(back.node_count(), tree.node_count());
        assert_eq!(back_sessions, sessions);
    }

    #[test]
    fn an_abandoned_snapshot_leaves_nothing() {
        let dir = crate::storage::test_dir::TestDir::new();
        let (tx, rx) = mpsc::channel();
        tx.send(Piece::Nodes(vec![1; 100])).unwrap();
        drop(tx);
        // The thread's body, run here: it spools, sees the sender gone, stops.
        assert!(!write(dir.path(), 7, rx, &ChunkPool::default()).unwrap());
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }
}
