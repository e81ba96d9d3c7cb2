//! The library's one place with `unsafe` (the binary has one more: its
//! allocator call in main.rs): a log file mapped read-write, and a
//! snapshot or a log file mapped read-only to be parsed, with memmap2.

use memmap2::{Mmap, MmapMut};
use std::fs::File;
use std::io;

/// A whole log file mapped into memory. Writes to [`bytes_mut`](Self::bytes_mut)
/// land in the page cache (they survive a crash of the process); [`flush`](Self::flush)
/// makes a range durable.
pub(crate) struct MappedFile {
    /// The mapping; its length is the file's length when mapped.
    map: MmapMut,
    /// Kept open for the mapping's lifetime so the file cannot be closed under it.
    _file: File,
}

impl MappedFile {
    /// Maps all of `file` (opened read-write; its length must not change
    /// while mapped).
    pub(crate) fn map(file: File) -> io::Result<MappedFile> {
        // SAFETY: memmap2 requires that no one truncates or rewrites the file
        // behind the mapping. The file is a log in Paddock's own directory,
        // created by this process under a name no other Paddock process
        // writes while this one runs (one server per dataLogDir, as in
        // ZooKeeper); this process never resizes a mapped file, and recovery,
        // which truncates files, runs before any file is mapped. Accesses go
        // through `&mut [u8]`/`&self`, so Rust's aliasing rules hold.
        let map = unsafe { MmapMut::map_mut(&file)? };
        Ok(MappedFile { map, _file: file })
    }

    /// The mapped bytes.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.map
    }

    /// The mapped length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Writes `[offset, offset + len)` to the disk and waits (msync MS_SYNC).
    pub(crate) fn flush(&self, offset: usize, len: usize) -> io::Result<()> {
        self.map.flush_range(offset, len)
    }
}

/// A whole snapshot or log file mapped read-only, so it is parsed straight
/// from the page cache (reading it into a buffer first cost a copy and a
/// page fault per 4 KiB: a fifth of loading a 1,000,000-node snapshot, and a
/// 64 MiB preallocated log read whole at every start).
pub(crate) struct MappedReadOnly {
    map: Mmap,
}

impl MappedReadOnly {
    /// Maps all of `file`.
    pub(crate) fn map(file: &File) -> io::Result<MappedReadOnly> {
        // SAFETY: memmap2 requires that the file is not truncated or rewritten
        // while mapped. A snapshot is written under a temporary name, fsynced
        // and renamed into place, and never opened for writing again: later
        // snapshots get new names, and purging unlinks a file, which leaves an
        // existing mapping intact. A log is mapped only by recovery and by
        // `TxnLog::open` (finding the last zxid), both before the server
        // appends to any log, and recovery cuts a torn log only after
        // dropping its mapping. The mapping is only read through `&[u8]`.
        let map = unsafe { Mmap::map(file)? };
        // Read front to back: a page-cache miss then reads ahead further.
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(MappedReadOnly { map })
    }

    /// Maps all of `file`, to be read whole from the front (a snapshot):
    /// the kernel is asked for every page at once, so reading the disk
    /// overlaps the parsing when the file is not in the page cache. (Not
    /// for preallocated logs: most of such a file is an unwritten tail.)
    pub(crate) fn map_whole(file: &File) -> io::Result<MappedReadOnly> {
        let mapped = MappedReadOnly::map(file)?;
        let _ = mapped.map.advise(memmap2::Advice::WillNeed);
        Ok(mapped)
    }

    /// The file's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }
}
