//! When to snapshot (ZooKeeper's `SyncRequestProcessor.shouldSnapshot`).

/// Decides when enough txns (or log bytes) were logged since the last snapshot.
///
/// As in ZooKeeper, the threshold is `snap_count / 2 + roll`, with `roll`
/// drawn afresh in `[0, snap_count / 2)` after every snapshot, so the servers
/// of an ensemble do not all snapshot at once; with a size limit
/// (zookeeper.snapSizeLimitInKb) the log bytes get a threshold drawn the same
/// way. The draws are a seeded pseudo-random sequence: the same seed gives
/// the same thresholds.
#[derive(Debug, Clone)]
pub struct SnapshotPolicy {
    /// zoo.cfg snapCount (zookeeper.snapCount), at least 2 as ZooKeeper enforces.
    snap_count: u64,
    /// The random part of the current threshold.
    roll: u64,
    /// zookeeper.snapSizeLimitInKb in bytes; 0 disables the size trigger.
    snap_size_bytes: u64,
    /// The random part of the current size threshold.
    size_roll: u64,
    /// splitmix64 state.
    rng: u64,
}

impl SnapshotPolicy {
    /// A policy for `snap_count` (raised to 2 if lower, as ZooKeeper does)
    /// whose random draws come from `seed`.
    pub fn new(snap_count: u64, seed: u64) -> SnapshotPolicy {
        let mut policy = SnapshotPolicy {
            snap_count: snap_count.max(2),
            roll: 0,
            snap_size_bytes: 0,
            size_roll: 0,
            rng: seed,
        };
        policy.reroll();
        policy
    }

    /// The same policy, also due when the log bytes since the last snapshot
    /// exceed `snap_size_bytes / 2` plus a random part below
    /// `snap_size_bytes / 2` (ZooKeeper's default limit is 4 GiB; 0 disables).
    pub fn with_size_limit(mut self, snap_size_bytes: u64) -> SnapshotPolicy {
        self.snap_size_bytes = snap_size_bytes;
        self.reroll();
        self
    }

    /// The number of txns after which [`should_snapshot`](Self::should_snapshot)
    /// says yes: more than this many.
    pub fn threshold(&self) -> u64 {
        self.snap_count / 2 + self.roll
    }

    /// What `replayed` txns, applied from the log over the snapshot at start,
    /// count towards the first snapshot after it: at most `snap_count / 2`,
    /// so the first one falls due within `snap_count / 2` new txns. Counting
    /// them gets the replayed log into a snapshot soon, instead of its being
    /// replayed again at every later start, longer each time (ZooKeeper
    /// snapshots during every start instead); capping them keeps that
    /// snapshot from starting with the first write after a restart, while
    /// every client reconnects.
    pub fn carried_over(&self, replayed: u64) -> u64 {
        replayed.min(self.snap_count / 2)
    }

    /// True when `txns_since` (txns logged since the last snapshot) exceeds
    /// the threshold; the caller then snapshots, rolls the log and counts from
    /// 0 again. Saying yes draws the next threshold.
    pub fn should_snapshot(&mut self, txns_since: u64) -> bool {
        self.should_snapshot_sized(txns_since, 0)
    }

    /// [`should_snapshot`](Self::should_snapshot), also due when
    /// `log_bytes_since` (record bytes logged since the last snapshot)
    /// exceeds the size threshold of [`with_size_limit`](Self::with_size_limit).
    pub fn should_snapshot_sized(&mut self, txns_since: u64, log_bytes_since: u64) -> bool {
        let size_due =
            self.snap_size_bytes > 0 && log_bytes_since > self.snap_size_bytes / 2 + self.size_roll;
        let due = txns_since > self.threshold() || size_due;
        if due {
            self.reroll();
        }
        due
    }

    fn reroll(&mut self) {
        self.roll = self.next_random() % (self.snap_count / 2);
        self.size_roll = self.next_random() % (self.snap_size_bytes / 2).max(1);
    }

    /// splitmix64.
    fn next_random(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_stays_between_half_and_full_snap_count() {
        let mut policy = SnapshotPolicy::new(100, 7);
        let mut thresholds = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let t = policy.threshold();
            assert!((50..100).contains(&t), "{t}");
            thresholds.insert(t);
            assert!(!policy.should_snapshot(t));
            assert!(policy.should_snapshot(t + 1));
        }
        assert!(thresholds.len() > 10, "thresholds vary: {thresholds:?}");
    }

    #[test]
    fn size_limit_triggers_between_half_and_full_limit() {
        let mut policy = SnapshotPolicy::new(1_000_000, 9).with_size_limit(1000);
        assert!(!policy.should_snapshot_sized(10, 500));
        assert!(policy.should_snapshot_sized(10, 1000));
        let mut fired_at = Vec::new();
        for _ in 0..50 {
            let bytes = (0..=1000)
                .find(|&b| policy.clone().should_snapshot_sized(0, b))
                .unwrap();
            assert!((501..=1000).contains(&bytes), "{bytes}");
            fired_at.push(bytes);
            assert!(policy.should_snapshot_sized(0, bytes));
        }
        fired_at.sort_unstable();
        fired_at.dedup();
        assert!(fired_at.len() > 10, "size thresholds vary: {fired_at:?}");
        let mut no_limit = SnapshotPolicy::new(100, 1);
        assert!(!no_limit.should_snapshot_sized(0, u64::MAX));
    }

    #[test]
    fn replayed_txns_carry_over_up_to_half_snap_count() {
        let policy = SnapshotPolicy::new(100, 5);
        assert_eq!(policy.carried_over(0), 0);
        assert_eq!(policy.carried_over(30), 30);
        assert_eq!(policy.carried_over(92_000), 50);
        // With what carries over, the next snapshot is due within 50 new txns.
        let mut due_at = policy.clone();
        assert!(due_at.should_snapshot(policy.carried_over(92_000) + 50));
    }

    #[test]
    fn same_seed_same_thresholds_and_tiny_snap_count_is_raised() {
        let (mut a, mut b) = (SnapshotPolicy::new(1000, 3), SnapshotPolicy::new(1000, 3));
        for _ in 0..20 {
            assert_eq!(a.threshold(), b.threshold());
            a.should_snapshot(u64::MAX);
            b.should_snapshot(u64::MAX);
        }
        let mut tiny = SnapshotPolicy::new(0, 1);
        assert_eq!(tiny.threshold(), 1);
        assert!(tiny.should_snapshot(2));
    }
}
