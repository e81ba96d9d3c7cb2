//! When to snapshot (ZooKeeper's `SyncRequestProcessor.shouldSnapshot`).

/// Decides when enough txns were logged since the last snapshot.
///
/// As in ZooKeeper, the threshold is `snap_count / 2 + roll`, with `roll`
/// drawn afresh in `[0, snap_count / 2)` after every snapshot, so the servers
/// of an ensemble do not all snapshot at once. The draw is a seeded
/// pseudo-random sequence: the same seed gives the same thresholds.
#[derive(Debug, Clone)]
pub struct SnapshotPolicy {
    /// zoo.cfg snapCount (zookeeper.snapCount), at least 2 as ZooKeeper enforces.
    snap_count: u64,
    /// The random part of the current threshold.
    roll: u64,
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
            rng: seed,
        };
        policy.reroll();
        policy
    }

    /// The number of txns after which [`should_snapshot`](Self::should_snapshot)
    /// says yes: more than this many.
    pub fn threshold(&self) -> u64 {
        self.snap_count / 2 + self.roll
    }

    /// True when `txns_since` (txns logged since the last snapshot) exceeds
    /// the threshold; the caller then snapshots, rolls the log and counts from
    /// 0 again. Saying yes draws the next threshold.
    pub fn should_snapshot(&mut self, txns_since: u64) -> bool {
        let due = txns_since > self.threshold();
        if due {
            self.reroll();
        }
        due
    }

    fn reroll(&mut self) {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        self.roll = z % (self.snap_count / 2);
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
