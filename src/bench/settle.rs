//! Waiting for the servers on this machine to go quiet before a measurement.
//!
//! A server keeps working after its load stops (ZooKeeper's snapshot thread
//! and garbage collector, Paddock's snapshot writer), and on a small machine
//! that work takes cores from whichever server is measured next; the kernel
//! also writes the files it left (hundreds of MB of snapshots) back to the
//! disk up to 30 s later, in front of the next server's log fsyncs (a steady
//! ~20 ms p99 of Paddock's set-data after ZooKeeper's, ~4 ms alone). With
//! `--settle-pid`, each workload starts on each target only once every
//! dirty page is on disk (`sync`) and the listed processes together use
//! under a tenth of a core, so every server is measured from quiet.

use std::time::Duration;

/// How long CPU use is sampled for each check.
const WINDOW: Duration = Duration::from_millis(100);

/// Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux).
const TICKS_PER_S: u64 = 100;

/// CPU time over one [`WINDOW`] at or under which the processes count as quiet:
/// a tenth of a core.
const QUIET_TICKS: u64 = TICKS_PER_S * WINDOW.as_millis() as u64 / 1000 / 10;

/// The longest wait; after it the measurement starts anyway.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// CPU time (user + system, clock ticks) process `pid` has used, from
/// /proc/<pid>/stat; `None` when it cannot be read (the process is gone).
fn cpu_ticks(pid: u32) -> Option<u64> {
    parse_cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// utime + stime of a /proc/<pid>/stat line: fields 14 and 15, counted after
/// the command name (which may hold spaces) closes with ')'.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Writes every dirty page to disk, then waits until `pids` together used at most [`QUIET_TICKS`] over one
/// [`WINDOW`], or [`MAX_WAIT`] passed; returns how long it waited and
/// whether they went quiet. Processes that cannot be read count as quiet.
pub async fn settle(pids: &[u32]) -> (Duration, bool) {
    let started = std::time::Instant::now();
    // Blocks this runtime thread for the writeback, which is the point: no
    // load is running while it waits.
    rustix::fs::sync();
    let total = || pids.iter().filter_map(|&p| cpu_ticks(p)).sum::<u64>();
    let mut before = total();
    loop {
        tokio::time::sleep(WINDOW).await;
        let now = total();
        if now.saturating_sub(before) <= QUIET_TICKS {
            return (started.elapsed(), true);
        }
        if started.elapsed() >= MAX_WAIT {
            return (started.elapsed(), false);
        }
        before = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_after_a_name_with_spaces() {
        let stat = "4242 (java main) S 1 4242 4242 0 -1 4194560 9 0 0 0 123 45 0 0 20 0 30 0";
        assert_eq!(parse_cpu_ticks(stat), Some(168));
        assert_eq!(parse_cpu_ticks("garbage"), None);
    }

    #[tokio::test]
    async fn a_busy_process_is_waited_for_and_a_quiet_one_is_not() {
        let me = std::process::id();
        assert!(cpu_ticks(me).is_some());
        let spin = std::thread::spawn(|| {
            let end = std::time::Instant::now() + Duration::from_millis(600);
            let mut x = 0u64;
            while std::time::Instant::now() < end {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        });
        let (waited, quiet) = settle(&[me]).await;
        spin.join().unwrap();
        assert!(quiet);
        assert!(waited >= Duration::from_millis(400), "{waited:?}");
        let (waited, quiet) = settle(&[me]).await;
        assert!(quiet && waited < Duration::from_millis(400), "{waited:?}");
    }
}
