//! Faulting in heap pages ahead of a bulk load of the tree.
//!
//! Loading 1,000,000 nodes touches ~400 MiB of fresh heap, and on a virtual
//! machine the first touch of each page is a fault that the host may have to
//! back with memory of its own: ~40% of a cold load's one busy core was the
//! kernel zeroing pages (`clear_page_erms`). While recovery parses and
//! inserts on its thread, a [`Prefault`] thread asks the kernel
//! (`MADV_POPULATE_WRITE`) to fault in the pages just above the newest node the
//! tree has allocated, so that the loader finds them ready: the two cores
//! share the work that one did alone.
//!
//! The kernel does not change the contents of a page it populates, so the
//! thread may run beside the allocator handing out the same pages. It stays
//! at most [`LEAD`] bytes above the newest node, so a load that ends leaves
//! at most that much faulted in that the tree never uses; trees below
//! [`NOTED_FROM`] nodes are never prefaulted at all. Where the kernel
//! lacks the advice (before Linux 5.14, or another OS) the thread stops at
//! once and the load runs as it would without it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Address of a recently allocated node of a large tree (0: none yet).
/// Process-wide, as the heap is; any tree that grows large updates it.
static NEWEST_NODE: AtomicUsize = AtomicUsize::new(0);

/// Trees with fewer nodes than this leave [`NEWEST_NODE`] alone: their load is
/// short, and prefaulting [`LEAD`] bytes would grow a small server's RSS.
pub const NOTED_FROM: usize = 1 << 16;

/// Every this many nodes the newest one's address is noted.
const NOTE_EVERY: usize = 256;

/// How far above the newest node pages are faulted in.
pub const LEAD: usize = 8 << 20;

/// Bytes faulted in per request: one transparent huge page.
const CHUNK: usize = 2 << 20;

/// How long the thread sleeps when it is [`LEAD`] ahead.
const IDLE: Duration = Duration::from_micros(200);

/// Records where a tree of `len` nodes put its newest node (`node`, its
/// address), if the tree is large and this is one of every [`NOTE_EVERY`]
/// nodes.
pub(crate) fn note_node(len: usize, node: *const u8) {
    if len >= NOTED_FROM && len % NOTE_EVERY == 0 {
        NEWEST_NODE.store(node as usize, Ordering::Relaxed);
    }
}

/// A thread faulting in heap pages above the tree's newest node until
/// [`finish`](Prefault::finish).
#[derive(Debug)]
pub struct Prefault {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<usize>>,
}

impl Prefault {
    /// Starts the thread. If it cannot be spawned the load simply goes
    /// without (a debug line says so).
    pub fn start() -> Prefault {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("paddock-prefault".into())
            .spawn(move || run(&flag))
            .map_err(|e| tracing::debug!("no prefault thread: {e}"))
            .ok();
        Prefault { stop, thread }
    }

    /// Stops the thread; returns how many bytes it faulted in.
    pub fn finish(mut self) -> usize {
        self.stop_thread()
    }

    /// Stops and joins the thread if it still runs; the bytes it faulted in.
    fn stop_thread(&mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map_or(0, |t| t.join().expect("the prefault thread cannot panic"))
    }
}

impl Drop for Prefault {
    /// A load that fails still stops the thread.
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// The thread: keeps the pages from the newest node to [`LEAD`] above it
/// faulted in; returns the bytes it faulted in.
fn run(stop: &AtomicBool) -> usize {
    let mut next = 0usize;
    let mut faulted = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let newest = NEWEST_NODE.load(Ordering::Relaxed);
        // Only ever upwards: a node placed below the pages already faulted
        // in reuses freed memory, and faulting in more above it would leave
        // pages no node takes.
        next = next.max(newest & !(CHUNK - 1));
        if newest == 0 || next >= newest + LEAD {
            std::thread::sleep(IDLE);
            continue;
        }
        match populate(next, CHUNK) {
            Populated::Yes => faulted += CHUNK,
            Populated::NotMapped => {}
            Populated::Unsupported => break,
        }
        next += CHUNK;
    }
    faulted
}

/// What one populate request did.
enum Populated {
    /// The range is faulted in.
    Yes,
    /// Some of the range is not mapped (the allocator has not reserved it).
    NotMapped,
    /// The kernel cannot populate ranges.
    Unsupported,
}

#[cfg(target_os = "linux")]
fn populate(at: usize, len: usize) -> Populated {
    use rustix::io::Errno;
    // SAFETY: MADV_POPULATE_WRITE faults the pages in as a write would but
    // writes nothing, so no byte of the range changes, whoever owns it;
    // an unmapped range is refused with an error, not faulted.
    let advised = unsafe {
        rustix::mm::madvise(
            at as *mut std::ffi::c_void,
            len,
            rustix::mm::Advice::LinuxPopulateWrite,
        )
    };
    match advised {
        Ok(()) => Populated::Yes,
        Err(Errno::INVAL | Errno::NOSYS) => Populated::Unsupported,
        Err(_) => Populated::NotMapped,
    }
}

#[cfg(not(target_os = "linux"))]
fn populate(_at: usize, _len: usize) -> Populated {
    Populated::Unsupported
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn populating_a_range_keeps_its_bytes_and_unmapped_ranges_are_refused() {
        let mut heap = vec![0u8; 4 * CHUNK];
        heap.iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = (i % 251) as u8);
        let start = (heap.as_ptr() as usize + CHUNK - 1) & !(CHUNK - 1);
        assert!(matches!(populate(start, CHUNK), Populated::Yes));
        assert!(heap.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        // Page 0 is never mapped.
        assert!(matches!(populate(0, 4096), Populated::NotMapped));
    }

    #[test]
    fn the_thread_follows_noted_nodes_and_stops() {
        let nodes: Vec<Box<[u8; 96]>> = (0..4).map(|_| Box::new([7u8; 96])).collect();
        let prefault = Prefault::start();
        note_node(NOTED_FROM, nodes[3].as_ptr());
        // A small tree notes nothing.
        note_node(NOTED_FROM - NOTE_EVERY, nodes[0].as_ptr());
        assert_eq!(
            NEWEST_NODE.load(Ordering::Relaxed),
            &*nodes[3] as *const [u8; 96] as usize
        );
        std::thread::sleep(Duration::from_millis(200));
        let faulted = prefault.finish();
        assert!(faulted <= LEAD + CHUNK, "{faulted}");
        assert!(nodes.iter().all(|n| n.iter().all(|&b| b == 7)));
    }
}
