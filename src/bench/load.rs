//! The pipelined load driver: C sessions, each keeping up to K requests in
//! flight, so that the server and not the client sets the pace.
//!
//! Each session runs a writer and a reader side by side on its own task. The
//! writer sends a request whenever fewer than K are outstanding; the reader takes
//! replies in order (ZooKeeper answers a session's requests in the order sent),
//! matches each to its request by xid and records the latency. A bounded channel
//! of capacity K between them is both the in-flight queue and the window.

use super::histogram::Histogram;
use super::wire::{invalid, split_reply, Session};
use crate::jute::records::ReplyHeader;
use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{self, error::TrySendError};
use tokio::task::JoinSet;

/// How many sessions connect at once: a burst of thousands of connects would
/// overflow the server's accept backlog and stall in SYN retries.
const CONNECTS_IN_FLIGHT_MAX: usize = 32;

/// Decides which operations count: the first `warmup` is run but not measured,
/// then measuring lasts `duration` or `ops` operations, whichever ends first.
pub struct Gate {
    /// End of the warmup: operations started earlier are not measured.
    measure_from: Instant,
    /// No operation starts after this instant (`None`: only the op limit stops).
    stop_at: Option<Instant>,
    /// At most this many measured operations start (`None`: only time stops).
    ops_limit: Option<u64>,
    /// Measured operations started so far, checked against `ops_limit`.
    claimed: AtomicU64,
    /// Measured operations finished so far, for the progress line.
    completed: AtomicU64,
}

impl Gate {
    /// A gate that opens now: `warmup`, then `duration` and/or `ops` of measuring.
    /// With neither limit it never closes, so callers always give one.
    pub fn new(warmup: Duration, duration: Option<Duration>, ops: Option<u64>) -> Gate {
        let measure_from = Instant::now() + warmup;
        Gate {
            measure_from,
            stop_at: duration.map(|d| measure_from + d),
            ops_limit: ops,
            claimed: AtomicU64::new(0),
            completed: AtomicU64::new(0),
        }
    }

    /// Asks to start one operation at `now`: `None` once the run is over, else
    /// whether it is measured (false during the warmup).
    pub fn claim(&self, now: Instant) -> Option<bool> {
        if now < self.measure_from {
            return Some(false);
        }
        if self.stop_at.is_some_and(|stop| now >= stop) {
            return None;
        }
        if let Some(limit) = self.ops_limit {
            if self.claimed.fetch_add(1, Ordering::Relaxed) >= limit {
                return None;
            }
        }
        Some(true)
    }

    /// Notes that one measured operation finished.
    pub fn complete(&self) {
        self.completed.fetch_add(1, Ordering::Relaxed);
    }

    /// Measured operations finished so far.
    pub fn completed(&self) -> u64 {
        self.completed.load(Ordering::Relaxed)
    }

    /// The instant measuring starts; throughput is counted from here.
    pub fn measure_from(&self) -> Instant {
        self.measure_from
    }
}

/// What the measured operations of one or more sessions came to.
#[derive(Default, Clone)]
pub struct Tally {
    /// Latency of each measured operation, in nanoseconds.
    pub latency: Histogram,
    /// Measured operations whose reply was an error the workload did not expect.
    pub errors: u64,
    /// When the last measured operation finished.
    pub last: Option<Instant>,
}

impl Tally {
    /// Records one measured operation that took `latency` and finished at `now`.
    pub fn record(&mut self, latency: Duration, failed: bool, now: Instant) {
        self.latency
            .record(latency.as_nanos().min(u128::from(u64::MAX)) as u64);
        self.errors += u64::from(failed);
        self.last = self.last.max(Some(now));
    }

    /// Adds `other`'s operations to `self`.
    pub fn merge(&mut self, other: &Tally) {
        self.latency.merge(&other.latency);
        self.errors += other.errors;
        self.last = self.last.max(other.last);
    }

    /// Seconds from `from` to the last measured operation (0 when none finished).
    pub fn seconds_since(&self, from: Instant) -> f64 {
        self.last.map_or(0.0, |last| {
            last.saturating_duration_since(from).as_secs_f64()
        })
    }
}

/// Builds the requests of a throughput workload and judges their replies.
pub trait OpSource: Send + Sync + 'static {
    /// The whole request frame for operation `seq` of session `session`, with
    /// `xid`; `None` when that session has nothing more to send.
    fn frame(&self, session: usize, seq: u64, xid: i32) -> Option<Vec<u8>>;

    /// True when a reply (header, then the body after it) means the operation
    /// failed. By default: any error code.
    fn failed(&self, header: &ReplyHeader, _body: &[u8]) -> bool {
        header.err != 0
    }
}

/// Opens `count` new sessions to `addr` (one `host:port` or a comma-separated
/// list the sessions are spread over, see [`Session::connect_spread`]), at most
/// [`CONNECTS_IN_FLIGHT_MAX`] at a time.
pub async fn connect_all(addr: &str, count: usize) -> io::Result<Vec<Session>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(CONNECTS_IN_FLIGHT_MAX));
    let mut set = JoinSet::new();
    for index in 0..count {
        let (addr, limit) = (addr.to_owned(), limit.clone());
        set.spawn(async move {
            let _permit = limit
                .acquire_owned()
                .await
                .expect("semaphore is never closed");
            Session::connect_spread(&addr, index)
                .await
                .map(|s| (index, s))
        });
    }
    let mut sessions: Vec<Option<Session>> = (0..count).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (index, session) = joined.map_err(io::Error::other)??;
        sessions[index] = Some(session);
    }
    Ok(sessions.into_iter().flatten().collect())
}

/// The result of [`drive`]: the sessions, back for more work, and what they did.
pub struct Drove {
    /// The sessions passed in, in the same order, still open.
    pub sessions: Vec<Session>,
    /// Requests each session sent (index = session), measured or not.
    pub sent: Vec<u64>,
    /// The measured operations of all sessions.
    pub tally: Tally,
}

/// Runs `source` on `sessions` (each with `window` requests in flight) until
/// `gate` closes or the source runs dry for every session.
pub async fn drive(
    sessions: Vec<Session>,
    window: usize,
    source: Arc<dyn OpSource>,
    gate: Arc<Gate>,
) -> io::Result<Drove> {
    let mut set = JoinSet::new();
    for (index, session) in sessions.into_iter().enumerate() {
        let (source, gate) = (source.clone(), gate.clone());
        set.spawn(async move {
            let mut session = session;
            let driven = pipeline(&mut session, index, window, source.as_ref(), &gate).await?;
            Ok::<_, io::Error>((index, session, driven))
        });
    }
    let mut finished = Vec::new();
    while let Some(joined) = set.join_next().await {
        finished.push(joined.map_err(io::Error::other)??);
    }
    finished.sort_by_key(|(index, ..)| *index);
    let mut drove = Drove {
        sessions: Vec::new(),
        sent: Vec::new(),
        tally: Tally::default(),
    };
    for (_, session, driven) in finished {
        drove.sessions.push(session);
        drove.sent.push(driven.sent);
        drove.tally.merge(&driven.tally);
    }
    Ok(drove)
}

/// Closes every session (closeSession, then waits for each server close).
pub async fn close_all(sessions: Vec<Session>) -> io::Result<()> {
    let mut set = JoinSet::new();
    for session in sessions {
        set.spawn(session.close());
    }
    while let Some(joined) = set.join_next().await {
        joined.map_err(io::Error::other)??;
    }
    Ok(())
}

/// One request in flight: its xid, when it was sent and whether it counts.
struct Pending {
    xid: i32,
    sent: Instant,
    measured: bool,
}

/// Keeps up to `window` requests of `source` in flight on `session` until `gate` closes.
async fn pipeline(
    session: &mut Session,
    index: usize,
    window: usize,
    source: &dyn OpSource,
    gate: &Gate,
) -> io::Result<Driven> {
    let (tx, mut rx) = mpsc::channel::<Pending>(window.max(1));
    let Session {
        reader,
        writer,
        next_xid,
        ..
    } = session;
    let send = async move {
        let mut seq = 0u64;
        loop {
            let permit = match tx.try_reserve() {
                Ok(permit) => permit,
                Err(TrySendError::Full(())) => {
                    writer.flush().await?;
                    match tx.reserve().await {
                        Ok(permit) => permit,
                        Err(_) => break,
                    }
                }
                Err(TrySendError::Closed(())) => break,
            };
            let Some(measured) = gate.claim(Instant::now()) else {
                break;
            };
            let xid = *next_xid;
            let Some(frame) = source.frame(index, seq, xid) else {
                break;
            };
            *next_xid += 1;
            writer.write(&frame).await?;
            permit.send(Pending {
                xid,
                sent: Instant::now(),
                measured,
            });
            seq += 1;
        }
        writer.flush().await?;
        Ok::<_, io::Error>(seq)
    };
    let receive = async move {
        let mut tally = Tally::default();
        while let Some(pending) = rx.recv().await {
            let (header, payload) = reader.next_reply().await?;
            let now = Instant::now();
            if header.xid != pending.xid {
                return Err(invalid("reply xid out of order"));
            }
            if pending.measured {
                let (_, body) = split_reply(&payload)?;
                tally.record(now - pending.sent, source.failed(&header, body), now);
                gate.complete();
            }
        }
        Ok(tally)
    };
    let (sent, tally) = tokio::join!(send, receive);
    Ok(Driven {
        sent: sent?,
        tally: tally?,
    })
}

/// What one session's pipeline did.
struct Driven {
    /// Requests sent (measured or not); operation `seq` for every `seq` below it was sent.
    sent: u64,
    /// The measured operations.
    tally: Tally,
}

/// Prints a progress line on stderr every second (operations so far, current
/// rate) until dropped. On a terminal the line is redrawn in place.
pub struct Progress {
    /// The printing task, stopped on drop.
    task: tokio::task::JoinHandle<()>,
    /// Whether the line is redrawn in place and so needs clearing at the end.
    in_place: bool,
}

impl Progress {
    /// Starts reporting `gate`'s completed operations under `label`.
    pub fn start(label: String, gate: Arc<Gate>) -> Progress {
        let in_place = io::stderr().is_terminal();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            let mut before = 0;
            loop {
                tick.tick().await;
                let done = gate.completed();
                let line = format!("{label}: {done} ops, {} ops/s", done - before);
                before = done;
                if in_place {
                    eprint!("\r\x1b[2K{line}");
                    let _ = io::stderr().flush();
                } else {
                    eprintln!("{line}");
                }
            }
        });
        Progress { task, in_place }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
        if self.in_place {
            eprint!("\r\x1b[2K");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_counts_nothing_during_warmup() {
        let gate = Gate::new(
            Duration::from_secs(3600),
            Some(Duration::from_secs(1)),
            Some(1),
        );
        for _ in 0..10 {
            assert_eq!(gate.claim(Instant::now()), Some(false));
        }
    }

    #[test]
    fn gate_stops_after_the_op_limit() {
        let gate = Gate::new(Duration::ZERO, None, Some(3));
        let now = Instant::now();
        let claims: Vec<_> = (0..5).map(|_| gate.claim(now)).collect();
        assert_eq!(claims, [Some(true), Some(true), Some(true), None, None]);
    }

    #[test]
    fn gate_stops_at_the_deadline() {
        let gate = Gate::new(Duration::ZERO, Some(Duration::from_secs(10)), None);
        assert_eq!(gate.claim(gate.measure_from()), Some(true));
        assert_eq!(
            gate.claim(gate.measure_from() + Duration::from_secs(10)),
            None
        );
    }

    #[test]
    fn tally_merges_counts_errors_and_the_last_instant() {
        let start = Instant::now();
        let (mut a, mut b) = (Tally::default(), Tally::default());
        a.record(
            Duration::from_micros(5),
            false,
            start + Duration::from_secs(1),
        );
        b.record(
            Duration::from_micros(7),
            true,
            start + Duration::from_secs(2),
        );
        a.merge(&b);
        assert_eq!((a.latency.count(), a.errors), (2, 1));
        assert_eq!(a.seconds_since(start), 2.0);
        assert_eq!(a.latency.max(), 7_000);
    }
}
