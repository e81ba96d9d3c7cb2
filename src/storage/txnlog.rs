//! The transaction log writer (ZooKeeper's `FileTxnLog` append/commit side).
//!
//! Records are gathered in memory as they are appended; [`TxnLog::sync`]
//! writes them to the preallocated file with one `pwrite` per file touched
//! and makes them durable with one `fdatasync` (group commit). The next file
//! is created, sized and given its header on a background thread while the
//! current one fills, so rolling over costs a rename and a directory sync,
//! not a 64 MiB allocation.
//!
//! The records used to be copied into a mapping of the file and flushed
//! with `msync`. Writing back a mapped page makes the kernel write-protect
//! it again, which flushes the TLB of every CPU running the process: under a
//! write flood, those interrupts took ~11% of the server's CPU time (a
//! `perf` profile of the multi workload), on both cores.

use super::logfile::{self, LogReader, FRAME_LEN, HEADER_LEN, LOG_PREFIX};
use super::mmap::MappedReadOnly;
use super::{files_by_zxid, sync_dir, StorageError};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

/// The name of the file being preallocated for the next roll. It never
/// matches `log.<hex>`, so recovery ignores it.
const SPARE_NAME: &str = "next-log.prealloc";

/// A log file being written.
struct Segment {
    /// Its path, for errors.
    path: PathBuf,
    /// The file, preallocated to `len` bytes.
    file: File,
    /// The file's length: records go no further.
    len: usize,
    /// Where the next record goes.
    write_pos: usize,
    /// Everything before this offset is written (and durable, with forceSync).
    synced_pos: usize,
    /// The records of `[synced_pos, write_pos)`, not written yet.
    pending: Vec<u8>,
}

impl Segment {
    /// Writes `[synced_pos, write_pos)`, makes it durable when `durable`,
    /// and advances `synced_pos`.
    fn flush(&mut self, durable: bool) -> Result<(), StorageError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.file
            .write_all_at(&self.pending, self.synced_pos as u64)
            .map_err(|e| StorageError::io(&self.path, e))?;
        if durable {
            self.file
                .sync_data()
                .map_err(|e| StorageError::io(&self.path, e))?;
        }
        self.synced_pos = self.write_pos;
        self.pending.clear();
        Ok(())
    }
}

/// The append-only transaction log of one server.
///
/// Guarantees: records are stored in the order appended with strictly
/// increasing zxids; once [`sync`](Self::sync) returns `Ok` (with
/// `force_sync`), every record appended before it survives a machine crash.
/// `TxnLog` is `Send`, so appends and syncs can run on a blocking thread.
pub struct TxnLog {
    /// The directory holding `log.*` files.
    dir: PathBuf,
    /// Size a new file is preallocated to (zoo.cfg preAllocSize).
    pre_alloc_bytes: u64,
    /// `false` (zookeeper.forceSync=no) skips fdatasync: unsafe on power loss.
    force_sync: bool,
    /// The file appends go to; `None` until the first append, and after [`roll`](Self::roll).
    current: Option<Segment>,
    /// Full or rolled files whose tail is not synced yet; flushed by the next sync.
    retired: Vec<Segment>,
    /// The next file, being preallocated off the write path.
    spare: Option<JoinHandle<std::io::Result<File>>>,
    /// The zxid of the last record appended (or found on open).
    last_zxid: i64,
}

impl TxnLog {
    /// Opens the log in `dir` (created if missing; pass [`super::log_dir`] of
    /// dataLogDir). The first append starts a new file; existing files are
    /// only read, for [`last_zxid`](Self::last_zxid). Run [`super::recover`]
    /// first: it truncates any torn tail this reads past.
    pub fn open(
        dir: &Path,
        pre_alloc_bytes: u64,
        force_sync: bool,
    ) -> Result<TxnLog, StorageError> {
        std::fs::create_dir_all(dir).map_err(|e| StorageError::io(dir, e))?;
        let last_zxid = last_zxid_in(dir)?;
        let mut log = TxnLog {
            dir: dir.to_path_buf(),
            pre_alloc_bytes: pre_alloc_bytes.max((HEADER_LEN + FRAME_LEN) as u64),
            force_sync,
            current: None,
            retired: Vec::new(),
            spare: None,
            last_zxid,
        };
        log.start_spare();
        Ok(log)
    }

    /// The zxid of the last record appended, or of the last record on disk
    /// when nothing was appended since [`open`](Self::open); 0 for an empty log.
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// Copies one record (`Txn::to_bytes()`, whose header carries `zxid`) into
    /// the log. Not durable until [`sync`](Self::sync). Starts a new file
    /// `log.<zxid hex>` when the current one is full or was rolled.
    ///
    /// # Panics
    /// If `zxid` is not above [`last_zxid`](Self::last_zxid): zxids strictly
    /// increase, anything else is a bug upstream.
    pub fn append(&mut self, zxid: i64, record: &[u8]) -> Result<(), StorageError> {
        assert!(
            zxid > self.last_zxid,
            "txn log zxid went backwards: {zxid:#x} after {:#x}",
            self.last_zxid
        );
        let needed = FRAME_LEN + record.len();
        let fits = self
            .current
            .as_ref()
            .is_some_and(|s| s.write_pos + needed <= s.len);
        if !fits {
            self.start_file(zxid, needed)?;
        }
        let segment = self.current.as_mut().expect("a file was just started");
        logfile::push_record(&mut segment.pending, zxid, record);
        segment.write_pos += needed;
        self.last_zxid = zxid;
        Ok(())
    }

    /// Makes every record appended since the last sync durable: one write
    /// and one fdatasync per file touched (usually one). With `force_sync`
    /// off the records are written but not synced: they reach the disk when
    /// the kernel writes them back.
    pub fn sync(&mut self) -> Result<(), StorageError> {
        for segment in &mut self.retired {
            segment.flush(self.force_sync)?;
        }
        self.retired.clear();
        if let Some(segment) = &mut self.current {
            segment.flush(self.force_sync)?;
        }
        Ok(())
    }

    /// Starts a new file on the next append (after a snapshot, so old files
    /// can be purged whole). Unsynced records stay pending for the next sync.
    pub fn roll(&mut self) {
        if let Some(segment) = self.current.take() {
            self.retired.push(segment);
        }
    }

    /// Removes every record above `zxid` (a follower's uncommitted tail, on
    /// the leader's TRUNC): flushes what is pending, closes every file, cuts
    /// the log with [`super::truncate_log`] (durable when it returns) and
    /// starts the next append in a new file. Appends may resume above `zxid`.
    pub fn truncate(&mut self, zxid: i64) -> Result<(), StorageError> {
        self.sync()?;
        self.current = None;
        self.retired.clear();
        super::truncate_log(&self.dir, zxid)?;
        self.last_zxid = last_zxid_in(&self.dir)?;
        Ok(())
    }

    /// Makes `log.<zxid hex>` from the spare file (grown if `needed` bytes
    /// would not fit) the current file.
    fn start_file(&mut self, zxid: i64, needed: usize) -> Result<(), StorageError> {
        self.roll();
        let spare_path = self.dir.join(SPARE_NAME);
        let file = match self
            .spare
            .take()
            .map(|h| h.join().expect("preallocation thread panicked"))
        {
            Some(Ok(file)) => file,
            // No spare (or it failed, e.g. the disk was full then): try again now.
            _ => prepare_spare(&spare_path, self.pre_alloc_bytes)
                .map_err(|e| StorageError::io(&spare_path, e))?,
        };
        let min_len = (HEADER_LEN + needed) as u64;
        let mut len = file
            .metadata()
            .map_err(|e| StorageError::io(&spare_path, e))?
            .len();
        if len < min_len {
            reserve(&file, min_len).map_err(|e| StorageError::io(&spare_path, e))?;
            len = min_len;
        }
        let path = self.dir.join(format!("{LOG_PREFIX}{:x}", zxid as u64));
        std::fs::rename(&spare_path, &path).map_err(|e| StorageError::io(&path, e))?;
        if self.force_sync {
            sync_dir(&self.dir)?;
        }
        self.current = Some(Segment {
            path,
            file,
            len: len as usize,
            write_pos: HEADER_LEN,
            synced_pos: HEADER_LEN,
            pending: Vec::new(),
        });
        self.start_spare();
        Ok(())
    }

    /// Starts preallocating the next file on a background thread.
    fn start_spare(&mut self) {
        let path = self.dir.join(SPARE_NAME);
        let size = self.pre_alloc_bytes;
        self.spare = Some(std::thread::spawn(move || prepare_spare(&path, size)));
    }
}

/// Creates (or recreates) the spare file: header, then `size` bytes reserved
/// and synced, opened for writing.
fn prepare_spare(path: &Path, size: u64) -> std::io::Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(&logfile::header_bytes())?;
    reserve(&file, size)?;
    file.sync_all()?;
    Ok(file)
}

/// Grows `file` to `size` bytes of zeros with its blocks allocated
/// (fallocate), so appending records can never meet a full disk. Where the
/// file system cannot allocate ahead, the file is extended sparse, as
/// ZooKeeper does.
fn reserve(file: &File, size: u64) -> std::io::Result<()> {
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, size) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::OPNOTSUPP || e == rustix::io::Errno::NOSYS => {
            file.set_len(size)
        }
        Err(e) => Err(e.into()),
    }
}

/// The zxid of the last valid record in the newest log file that has one.
/// The file is mapped, not read: a preallocated log is 64 MiB however few
/// records it holds, and reading it whole cost a buffer and its page faults
/// at every start.
fn last_zxid_in(dir: &Path) -> Result<i64, StorageError> {
    for (_, path) in files_by_zxid(dir, LOG_PREFIX)?.iter().rev() {
        let map = std::fs::File::open(path)
            .and_then(|file| MappedReadOnly::map(&file))
            .map_err(|e| StorageError::io(path, e))?;
        let bytes = map.bytes();
        logfile::check_header(bytes).map_err(|reason| StorageError::corrupt(path, 0, reason))?;
        if let Some(last) = LogReader::new(bytes, i64::MIN).last() {
            return Ok(last.zxid);
        }
    }
    Ok(0)
}

impl Drop for TxnLog {
    /// Waits for the preallocation thread, so no file appears after the log is gone.
    fn drop(&mut self) {
        if let Some(handle) = self.spare.take() {
            let _ = handle.join();
        }
    }
}
