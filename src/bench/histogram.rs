//! A latency histogram with logarithmic buckets, in the manner of HdrHistogram,
//! written by hand so the bench needs no extra crate.
//!
//! Values below 128 get a bucket each. Above that, every power of two is split
//! into 64 equal sub-buckets, so a bucket's width is at most 1/64 of its lower
//! bound: any reported percentile is within 1.6 % of the true sample. The table
//! has a fixed size (3,776 counters, about 30 KiB) whatever is recorded, so a
//! histogram per session costs the same for a second of load as for an hour.

/// Sub-buckets per power of two (2^6): fixes the relative precision at 1/64.
const SUB_BUCKETS: u64 = 64;
/// log2 of [`SUB_BUCKETS`].
const SUB_BITS: u32 = 6;
/// Values below this are counted exactly, one bucket each.
const EXACT_LIMIT: u64 = 2 * SUB_BUCKETS;
/// Buckets needed to cover every `u64`: the exact range (two blocks of 64), then
/// 64 for each power of two from 2^7 up to 2^63.
const BUCKETS: usize = (SUB_BUCKETS * (2 + 63 - 7 + 1)) as usize;

/// Counts of recorded values (the bench records nanoseconds) by log bucket,
/// plus the exact count, sum, minimum and maximum.
#[derive(Clone)]
pub struct Histogram {
    /// One counter per bucket; see [`bucket_of`] for the mapping.
    counts: Box<[u64]>,
    /// Number of values recorded.
    total: u64,
    /// Sum of the values, for the mean; u128 so that it cannot overflow.
    sum: u128,
    /// Smallest value recorded (`u64::MAX` while empty).
    min: u64,
    /// Largest value recorded (0 while empty).
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS].into_boxed_slice(),
            total: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
        }
    }
}

/// The bucket index of `value`.
fn bucket_of(value: u64) -> usize {
    if value < EXACT_LIMIT {
        return value as usize;
    }
    let shift = 63 - value.leading_zeros() - SUB_BITS;
    let mantissa = value >> shift;
    (SUB_BUCKETS * shift as u64 + mantissa) as usize
}

/// The largest value that falls in bucket `index`.
fn bucket_upper(index: usize) -> u64 {
    let index = index as u64;
    if index < EXACT_LIMIT {
        return index;
    }
    let shift = index / SUB_BUCKETS - 1;
    let mantissa = index - SUB_BUCKETS * shift;
    ((mantissa + 1) << shift).wrapping_sub(1)
}

impl Histogram {
    /// Records one value.
    pub fn record(&mut self, value: u64) {
        self.counts[bucket_of(value)] += 1;
        self.total += 1;
        self.sum += u128::from(value);
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Adds every value of `other` to `self`, as if recorded here.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts.iter()) {
            *mine += theirs;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Number of values recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest value recorded, 0 when empty.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean of the values recorded (exact), 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.sum as f64 / self.total as f64
    }

    /// The nearest-rank percentile `p` (0 < p ≤ 100): the smallest recorded value
    /// such that at least p % of the values are at or below it, reported as the
    /// upper bound of its bucket, clamped to the recorded min and max. 0 when empty.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        // Multiply before dividing so that e.g. 99.9 % of 1,000 is exactly 999.
        let rank = (p * self.total as f64 / 100.0)
            .ceil()
            .clamp(1.0, self.total as f64) as u64;
        let mut seen = 0;
        for (index, &count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_upper(index).clamp(self.min, self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_cover_u64() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(127), 127);
        assert_eq!(bucket_of(128), 128);
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_upper(BUCKETS - 1), u64::MAX);
        for index in 1..BUCKETS {
            let lower = bucket_upper(index - 1) + 1;
            assert_eq!(bucket_of(lower), index, "lower bound of bucket {index}");
            assert_eq!(
                bucket_of(bucket_upper(index)),
                index,
                "upper bound of bucket {index}"
            );
        }
    }

    #[test]
    fn bucket_width_is_within_one_sixty_fourth_of_its_values() {
        for value in [128u64, 1_000, 65_537, 1_000_000_007, 1 << 40, u64::MAX / 3] {
            let upper = bucket_upper(bucket_of(value));
            assert!(upper >= value);
            assert!(
                (upper - value) as f64 <= value as f64 / 64.0,
                "value {value} upper {upper}"
            );
        }
    }

    #[test]
    fn percentiles_of_a_uniform_range_are_within_precision() {
        let mut h = Histogram::default();
        for us in 1..=10_000u64 {
            h.record(us * 1_000);
        }
        assert_eq!(h.count(), 10_000);
        for (p, exact) in [
            (50.0, 5_000_000.0),
            (99.0, 9_900_000.0),
            (99.9, 9_990_000.0),
        ] {
            let got = h.percentile(p) as f64;
            assert!(
                got >= exact && got <= exact * (1.0 + 1.0 / 64.0),
                "p{p}: {got} vs {exact}"
            );
        }
        assert_eq!(h.percentile(100.0), 10_000_000);
        assert_eq!(h.max(), 10_000_000);
        assert!((h.mean() - 5_000_500.0).abs() < 1e-6);
    }

    #[test]
    fn percentile_reports_the_tail_sample_not_the_bulk() {
        let mut h = Histogram::default();
        for _ in 0..999 {
            h.record(100);
        }
        h.record(50_000);
        assert_eq!(h.percentile(50.0), 100);
        assert_eq!(h.percentile(99.9), 100);
        assert_eq!(h.percentile(99.95), 50_000);
    }

    #[test]
    fn percentile_is_clamped_to_recorded_extremes() {
        let mut h = Histogram::default();
        h.record(1_000_001);
        assert_eq!(h.percentile(50.0), 1_000_001);
        assert_eq!(h.percentile(0.1), 1_000_001);
    }

    #[test]
    fn empty_histogram_reports_zero() {
        let h = Histogram::default();
        assert_eq!(
            (h.count(), h.percentile(99.0), h.max(), h.mean()),
            (0, 0, 0, 0.0)
        );
    }

    #[test]
    fn merge_equals_recording_everything_in_one() {
        let (mut a, mut b, mut both) = (
            Histogram::default(),
            Histogram::default(),
            Histogram::default(),
        );
        for v in 0..5_000u64 {
            let value = v * v;
            if v % 3 == 0 { &mut a } else { &mut b }.record(value);
            both.record(value);
        }
        a.merge(&b);
        assert_eq!(a.count(), both.count());
        assert_eq!(a.max(), both.max());
        assert_eq!(a.mean(), both.mean());
        for p in [1.0, 50.0, 90.0, 99.0, 99.9, 100.0] {
            assert_eq!(a.percentile(p), both.percentile(p));
        }
    }
}
