//! One of the library's few places with `unsafe`: a snapshot or a log file
//! mapped read-only to be parsed, with memmap2. (Logs are written with
//! `pwrite`, not through a mapping: see `txnlog`.)

use memmap2::Mmap;
use std::fs::File;
use std::io;

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
