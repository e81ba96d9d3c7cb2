//! The session table and its expiry queue (ZooKeeper's `SessionTrackerImpl`
//! and `ExpiryQueue`).
//!
//! Every live session sits in exactly one expiry bucket. A bucket is named by
//! its expiration time, a multiple of tickTime: a session touched at `now`
//! with timeout `t` goes to `(now + t) / tick * tick + tick`, so sessions
//! expire at most one tick late and the server wakes at most once per tick.

use std::collections::{BTreeMap, BTreeSet};

/// The first session id a server hands out after starting at `now_ms`
/// (ZooKeeper's `SessionTrackerImpl.initializeNextSessionId`).
///
/// The low 56 bits come from the clock (`(now << 24) >>> 8`, keeping 40 bits
/// of milliseconds), the high byte is the server id, so ids of different
/// servers never collide. `i64::MIN` is reserved as the ephemeral owner of
/// container nodes, so it is never returned.
pub fn initial_session_id(server_id: u64, now_ms: u64) -> i64 {
    let clock_bits = (now_ms << 24) >> 8;
    let id = (clock_bits | (server_id << 56)) as i64;
    if id == i64::MIN {
        id + 1
    } else {
        id
    }
}

/// What the tracker knows about one session.
#[derive(Debug, Clone, Copy)]
struct Session {
    /// The negotiated timeout; each touch pushes expiry this far ahead.
    timeout_ms: u32,
    /// The bucket holding the session; `None` once [`SessionTracker::expire`]
    /// handed it out (it is closing and waits for its closeSession).
    bucket_ms: Option<u64>,
    /// A closeSession is in flight: touches fail until it is removed.
    closing: bool,
}

/// Tracks committed sessions, their timeouts, and when each expires.
///
/// Guarantees:
/// - a session expires only if it was not touched for its whole timeout, and
///   no later than one tick after that;
/// - [`expire`](Self::expire) returns each expiring session once, in order of
///   expiry time then id, and marks it closing;
/// - a closing session cannot be touched back to life;
/// - iteration orders are deterministic (ordered by id or time), so replicas
///   and simulations see the same sequence.
#[derive(Debug)]
pub struct SessionTracker {
    /// Bucket width: expiry times are rounded up to a multiple of it.
    tick_time_ms: u64,
    /// The id [`next_session_id`](Self::next_session_id) returns next.
    next_session_id: i64,
    /// Every tracked session by id (ordered for deterministic dumps).
    sessions: BTreeMap<i64, Session>,
    /// Expiry time → sessions due then. Like ZooKeeper's ExpiryQueue, a bucket
    /// emptied by touches stays until its time passes (the `dump` 4lw counts it).
    buckets: BTreeMap<u64, BTreeSet<i64>>,
}

impl SessionTracker {
    /// An empty tracker for server `server_id` started at `now_ms`, with
    /// buckets `tick_time_ms` wide.
    ///
    /// # Panics
    /// If `tick_time_ms` is zero (a configuration error caught earlier).
    pub fn new(server_id: u64, tick_time_ms: u32, now_ms: u64) -> Self {
        assert!(tick_time_ms > 0, "tickTime must be positive");
        SessionTracker {
            tick_time_ms: u64::from(tick_time_ms),
            next_session_id: initial_session_id(server_id, now_ms),
            sessions: BTreeMap::new(),
            buckets: BTreeMap::new(),
        }
    }

    /// A fresh session id: ids count up by one from [`initial_session_id`].
    /// The id is not tracked until [`add`](Self::add) is called for it (when
    /// its createSession is committed).
    pub fn next_session_id(&mut self) -> i64 {
        let id = self.next_session_id;
        self.next_session_id = id.wrapping_add(1);
        id
    }

    /// Tracks `session_id` with `timeout_ms`, expiring `timeout_ms` after
    /// `now_ms` (rounded up to a tick). Adding a tracked session updates its
    /// timeout and re-touches it, keeping its closing flag, as ZooKeeper's
    /// `trackSession` + `commitSession` do.
    pub fn add(&mut self, session_id: i64, timeout_ms: u32, now_ms: u64) {
        let session = self.sessions.entry(session_id).or_insert(Session {
            timeout_ms,
            bucket_ms: None,
            closing: false,
        });
        session.timeout_ms = timeout_ms;
        self.reschedule(session_id, now_ms);
    }

    /// Records activity of `session_id` at `now_ms`, pushing its expiry to
    /// `now_ms + timeout` (rounded up to a tick). Returns false, changing
    /// nothing, if the session is unknown or closing: the server must then
    /// treat the session as expired.
    pub fn touch(&mut self, session_id: i64, now_ms: u64) -> bool {
        match self.sessions.get(&session_id) {
            Some(session) if !session.closing => {
                self.reschedule(session_id, now_ms);
                true
            }
            _ => false,
        }
    }

    /// Sets the timeout later touches use (a reconnect negotiated a new one).
    /// The current expiry is unchanged until the next touch. Returns false if
    /// the session is unknown.
    pub fn set_timeout(&mut self, session_id: i64, timeout_ms: u32) -> bool {
        match self.sessions.get_mut(&session_id) {
            Some(session) => {
                session.timeout_ms = timeout_ms;
                true
            }
            None => false,
        }
    }

    /// The timeout of `session_id`, if tracked.
    pub fn timeout_ms(&self, session_id: i64) -> Option<u32> {
        self.sessions.get(&session_id).map(|s| s.timeout_ms)
    }

    /// Whether `session_id` is tracked (closing or not).
    pub fn contains(&self, session_id: i64) -> bool {
        self.sessions.contains_key(&session_id)
    }

    /// Whether `session_id` is tracked and closing. A request of a closing
    /// session gets SESSIONEXPIRED in ZooKeeper.
    pub fn is_closing(&self, session_id: i64) -> bool {
        self.sessions.get(&session_id).is_some_and(|s| s.closing)
    }

    /// Forgets `session_id` (its closeSession was applied). Unknown ids are ignored.
    pub fn remove(&mut self, session_id: i64) {
        if let Some(session) = self.sessions.remove(&session_id) {
            self.leave_bucket(session_id, session.bucket_ms);
        }
    }

    /// Marks `session_id` closing because its closeSession is in flight:
    /// touches fail from now on. The session keeps its bucket, so, as in
    /// ZooKeeper, [`expire`](Self::expire) still reports it if the close has
    /// not been applied by then. Unknown ids are ignored.
    pub fn mark_closing(&mut self, session_id: i64) {
        if let Some(session) = self.sessions.get_mut(&session_id) {
            session.closing = true;
        }
    }

    /// A new leader's view: every tracked session is open again with a full
    /// timeout from `now_ms`. Closing marks are dropped: they stood for a
    /// closeSession this server prepped (as an earlier leader, possibly a
    /// paused one that lost its quorum) that was never applied, so the
    /// session is still alive in the replicated state and must be able to
    /// expire again. ZooKeeper gets the same by building a fresh session
    /// tracker from the database's sessions at every election.
    pub fn reopen_all(&mut self, now_ms: u64) {
        let ids: Vec<i64> = self.sessions.keys().copied().collect();
        for session_id in ids {
            self.sessions
                .get_mut(&session_id)
                .expect("listed above")
                .closing = false;
            self.reschedule(session_id, now_ms);
        }
    }

    /// Takes every bucket due at `now_ms` and returns its sessions, in order
    /// of expiry time then id, each marked closing. Each session is returned
    /// once; the server submits a closeSession for each and calls
    /// [`remove`](Self::remove) when it is applied.
    pub fn expire(&mut self, now_ms: u64) -> Vec<i64> {
        let mut expired = Vec::new();
        while let Some(entry) = self.buckets.first_entry() {
            if *entry.key() > now_ms {
                break;
            }
            for session_id in entry.remove() {
                let session = self
                    .sessions
                    .get_mut(&session_id)
                    .expect("bucket member is a tracked session");
                session.bucket_ms = None;
                session.closing = true;
                expired.push(session_id);
            }
        }
        expired
    }

    /// When [`expire`](Self::expire) next has work: the earliest bucket time,
    /// or `None` if no bucket is pending.
    pub fn next_expiry_ms(&self) -> Option<u64> {
        self.buckets.keys().next().copied()
    }

    /// Every tracked session as (id, timeout), ordered by id: for the `dump`
    /// and `cons` four-letter words and for snapshots.
    pub fn sessions(&self) -> impl Iterator<Item = (i64, u32)> + '_ {
        self.sessions.iter().map(|(&id, s)| (id, s.timeout_ms))
    }

    /// The expiry buckets as (expiry time, session ids), by time then id,
    /// including buckets emptied by touches, as ZooKeeper's `dump` lists them.
    pub fn expiry_buckets(&self) -> impl Iterator<Item = (u64, impl Iterator<Item = i64> + '_)> {
        self.buckets
            .iter()
            .map(|(&time_ms, ids)| (time_ms, ids.iter().copied()))
    }

    /// Number of tracked sessions (zk_global_sessions).
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is tracked.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// The bucket a session touched at `now_ms` with `timeout_ms` belongs to.
    fn bucket_for(&self, now_ms: u64, timeout_ms: u32) -> u64 {
        let due_ms = now_ms + u64::from(timeout_ms);
        (due_ms / self.tick_time_ms + 1) * self.tick_time_ms
    }

    /// Moves a tracked session to the bucket its timeout gives at `now_ms`,
    /// touching the bucket maps only if the bucket changes.
    fn reschedule(&mut self, session_id: i64, now_ms: u64) {
        let session = self.sessions[&session_id];
        let bucket_ms = self.bucket_for(now_ms, session.timeout_ms);
        if session.bucket_ms == Some(bucket_ms) {
            return;
        }
        self.leave_bucket(session_id, session.bucket_ms);
        self.buckets
            .entry(bucket_ms)
            .or_default()
            .insert(session_id);
        if let Some(session) = self.sessions.get_mut(&session_id) {
            session.bucket_ms = Some(bucket_ms);
        }
    }

    /// Takes `session_id` out of `bucket_ms`, leaving the bucket in place.
    fn leave_bucket(&mut self, session_id: i64, bucket_ms: Option<u64>) {
        if let Some(ids) = bucket_ms.and_then(|time_ms| self.buckets.get_mut(&time_ms)) {
            ids.remove(&session_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK_MS: u32 = 2000;

    /// A paused leader expired a session (prepped its closeSession) and lost
    /// its quorum before the close was applied; leading again later, it must
    /// still expire the session, whose ephemerals otherwise live forever.
    #[test]
    fn a_session_expired_but_never_closed_expires_again_under_a_new_leadership() {
        let mut t = SessionTracker::new(1, TICK_MS, 0);
        t.add(7, 4000, 0);
        assert_eq!(t.expire(10_000), vec![7]);
        assert!(t.is_closing(7));
        assert!(!t.touch(7, 10_000), "a closing session takes no touch");
        assert!(t.expire(100_000).is_empty(), "expired once, never again");
        t.reopen_all(100_000);
        assert!(!t.is_closing(7));
        assert!(
            t.expire(103_000).is_empty(),
            "a full timeout from the takeover"
        );
        assert_eq!(t.expire(110_000), vec![7]);
    }

    fn tracker() -> SessionTracker {
        SessionTracker::new(1, TICK_MS, 1_000_000)
    }

    #[test]
    fn initial_session_id_matches_java_shifts() {
        // Expected values printed by OpenJDK 17 running the same expression.
        assert_eq!(
            initial_session_id(1, 1_700_000_000_000),
            0x018b_cfe5_6800_0000
        );
        assert_eq!(initial_session_id(0, 0), 0);
        assert_eq!(
            initial_session_id(255, 1_234_567_890_123),
            0xff1f_71fb_04cb_0000_u64 as i64
        );
        assert_eq!(
            initial_session_id(3, 0xFFFF_FFFF_FFFF),
            0x03ff_ffff_ffff_0000
        );
    }

    #[test]
    fn initial_session_id_never_returns_the_container_owner() {
        assert_eq!(initial_session_id(0x80, 0), i64::MIN + 1);
    }

    #[test]
    fn session_ids_count_up_from_the_initial_id() {
        let mut tracker = SessionTracker::new(2, TICK_MS, 1_700_000_000_000);
        let first = initial_session_id(2, 1_700_000_000_000);
        assert_eq!(tracker.next_session_id(), first);
        assert_eq!(tracker.next_session_id(), first + 1);
        assert_eq!(tracker.next_session_id() >> 56, 2);
        assert!(tracker.is_empty(), "handing out ids does not track them");
    }

    fn buckets(tracker: &SessionTracker) -> Vec<(u64, Vec<i64>)> {
        tracker
            .expiry_buckets()
            .map(|(time_ms, ids)| (time_ms, ids.collect()))
            .collect()
    }

    #[test]
    fn expiry_is_rounded_up_past_the_due_tick() {
        let mut tracker = tracker();
        tracker.add(1, 4000, 999_999); // due 1_003_999
        tracker.add(2, 4000, 1_000_000); // due 1_004_000: exactly on a tick still rounds up
        tracker.add(3, 4000, 1_001_999); // due 1_005_999
        assert_eq!(
            buckets(&tracker),
            vec![(1_004_000, vec![1]), (1_006_000, vec![2, 3])]
        );
        assert_eq!(tracker.next_expiry_ms(), Some(1_004_000));
    }

    #[test]
    fn touch_moves_the_session_only_when_its_bucket_changes() {
        let mut tracker = tracker();
        tracker.add(7, 4000, 1_000_000);
        assert!(tracker.touch(7, 1_001_999)); // same bucket 1_006_000
        assert_eq!(buckets(&tracker), vec![(1_006_000, vec![7])]);
        assert!(tracker.touch(7, 1_002_000)); // moves to 1_008_000
        assert_eq!(
            buckets(&tracker),
            vec![(1_006_000, vec![]), (1_008_000, vec![7])],
            "the emptied bucket stays until its time, as in ZooKeeper's dump"
        );
    }

    #[test]
    fn touched_session_survives_its_old_deadline() {
        let mut tracker = tracker();
        tracker.add(7, 4000, 1_000_000);
        assert!(tracker.touch(7, 1_003_000));
        assert_eq!(tracker.expire(1_006_000), Vec::<i64>::new());
        assert_eq!(tracker.next_expiry_ms(), Some(1_008_000));
        assert_eq!(tracker.expire(1_008_000), vec![7]);
    }

    #[test]
    fn expire_returns_due_sessions_in_time_then_id_order_once() {
        let mut tracker = tracker();
        tracker.add(30, 6000, 1_000_000); // bucket 1_008_000
        tracker.add(20, 4000, 1_000_000); // bucket 1_006_000
        tracker.add(10, 6000, 1_000_000); // bucket 1_008_000
        tracker.add(40, 20_000, 1_000_000); // bucket 1_022_000
        assert_eq!(tracker.expire(1_005_999), Vec::<i64>::new());
        assert_eq!(tracker.expire(1_009_000), vec![20, 10, 30]);
        assert_eq!(tracker.expire(1_009_000), Vec::<i64>::new());
        assert!(tracker.is_closing(10) && tracker.is_closing(20) && tracker.is_closing(30));
        assert!(!tracker.is_closing(40));
        assert_eq!(tracker.next_expiry_ms(), Some(1_022_000));
        assert_eq!(tracker.len(), 4, "expired sessions stay until removed");
    }

    #[test]
    fn expired_session_cannot_be_touched() {
        let mut tracker = tracker();
        tracker.add(5, 4000, 1_000_000);
        assert_eq!(tracker.expire(1_006_000), vec![5]);
        assert!(!tracker.touch(5, 1_006_001));
        assert_eq!(tracker.next_expiry_ms(), None);
    }

    #[test]
    fn closing_session_is_not_touched_but_still_expires() {
        let mut tracker = tracker();
        tracker.add(5, 4000, 1_000_000);
        tracker.mark_closing(5);
        assert!(!tracker.touch(5, 1_005_000));
        assert_eq!(buckets(&tracker), vec![(1_006_000, vec![5])]);
        assert_eq!(tracker.expire(1_006_000), vec![5]);
    }

    #[test]
    fn unknown_session_is_not_touched() {
        let mut tracker = tracker();
        assert!(!tracker.touch(99, 1_000_000));
        assert!(!tracker.set_timeout(99, 4000));
        assert_eq!(tracker.timeout_ms(99), None);
        assert!(!tracker.contains(99));
    }

    #[test]
    fn remove_forgets_the_session_and_its_bucket_entry() {
        let mut tracker = tracker();
        tracker.add(5, 4000, 1_000_000);
        tracker.add(6, 4000, 1_000_000);
        tracker.remove(5);
        assert!(!tracker.contains(5));
        assert_eq!(tracker.expire(1_006_000), vec![6]);
        assert_eq!(tracker.sessions().collect::<Vec<_>>(), vec![(6, 4000)]);
    }

    #[test]
    fn set_timeout_applies_from_the_next_touch() {
        let mut tracker = tracker();
        tracker.add(5, 4000, 1_000_000);
        assert!(tracker.set_timeout(5, 10_000));
        assert_eq!(tracker.timeout_ms(5), Some(10_000));
        assert_eq!(tracker.next_expiry_ms(), Some(1_006_000));
        assert!(tracker.touch(5, 1_000_000));
        assert_eq!(
            tracker.next_expiry_ms(),
            Some(1_006_000),
            "old bucket kept, now empty"
        );
        assert_eq!(tracker.expire(1_006_000), Vec::<i64>::new());
        assert_eq!(tracker.next_expiry_ms(), Some(1_012_000));
    }

    #[test]
    fn re_adding_a_session_updates_timeout_and_expiry() {
        let mut tracker = tracker();
        tracker.add(5, 4000, 1_000_000);
        tracker.add(5, 8000, 1_000_000);
        assert_eq!(tracker.len(), 1);
        assert_eq!(tracker.timeout_ms(5), Some(8000));
        assert_eq!(
            buckets(&tracker),
            vec![(1_006_000, vec![]), (1_010_000, vec![5])]
        );
    }

    #[test]
    fn sessions_are_listed_by_id() {
        let mut tracker = tracker();
        tracker.add(3, 6000, 1_000_000);
        tracker.add(-4, 4000, 1_000_000);
        tracker.add(1, 5000, 1_000_000);
        assert_eq!(
            tracker.sessions().collect::<Vec<_>>(),
            vec![(-4, 4000), (1, 5000), (3, 6000)]
        );
    }
}
