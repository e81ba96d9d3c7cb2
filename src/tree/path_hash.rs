//! The hasher of the tree's child-name tables.
//!
//! std's default SipHash-1-3 took over a third of the time of loading a
//! 1,000,000-node snapshot (every node was hashed into a table of paths and
//! its parent's child table, and again whenever a table grows). This hasher
//! multiplies eight bytes at a time into the state instead, several times
//! faster on names of a few dozen bytes. Each table gets a random seed, so
//! which names share a bucket differs between tables and between runs; it is
//! not a keyed cryptographic hash, so a client that could observe bucket
//! timing might still aim for collisions (as with Java's `String.hashCode`,
//! which ZooKeeper's own tables use).

use std::hash::{BuildHasher, Hasher, RandomState};

/// Odd multiplier with well-spread bits (the one rustc-hash 2 uses).
const MULTIPLIER: u64 = 0xf135_7aea_2e62_a9c5;

/// Builds [`PathHasher`]s with a seed drawn once per table.
#[derive(Debug, Clone)]
pub struct PathHashBuilder {
    seed: u64,
}

impl Default for PathHashBuilder {
    /// A builder with a fresh random seed.
    fn default() -> PathHashBuilder {
        PathHashBuilder {
            seed: RandomState::new().hash_one(0x5eed_u64),
        }
    }
}

impl BuildHasher for PathHashBuilder {
    type Hasher = PathHasher;

    fn build_hasher(&self) -> PathHasher {
        PathHasher { state: self.seed }
    }
}

/// Hashes byte strings a word at a time; equal input gives equal hashes for
/// one builder.
#[derive(Debug, Clone)]
pub struct PathHasher {
    state: u64,
}

impl PathHasher {
    /// Multiplies a word into the state, then folds the product's high half
    /// down: a product's high bits depend on all of its input but its low
    /// bits only on the input's low bits, so without the fold a difference
    /// in a word's top byte stayed in the state's top byte and could be
    /// cancelled by the next word (sequential names collided).
    fn mix(&mut self, word: u64) {
        let h = (self.state ^ word).wrapping_mul(MULTIPLIER);
        self.state = h ^ (h >> 32);
    }
}

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            self.mix(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            // The length keeps "a" and "a\0" apart.
            self.mix(u64::from_le_bytes(last) ^ ((rest.len() as u64) << 59));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        // A product's low bits depend only on the input's low bits, and the
        // table takes its bucket from the low bits (its tag from the top 7):
        // MurmurHash3's 64-bit finalizer spreads every bit over all of them,
        // whatever the seed (a bare rotation left some seeds clustering
        // sequential names into a third of the buckets).
        let mut h = self.state;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn equal_paths_hash_equal_and_near_paths_differ() {
        let b = PathHashBuilder::default();
        assert_eq!(b.hash_one("/a/b"), b.hash_one("/a/b"));
        let near = ["/a", "/a\0", "/b", "/a/", "", "/aaaaaaaa", "/aaaaaaab"];
        let hashes: HashSet<u64> = near.iter().map(|p| b.hash_one(p)).collect();
        assert_eq!(hashes.len(), near.len());
    }

    #[test]
    fn sequential_names_spread_over_the_low_bits() {
        // A table with 2^16 buckets takes the low 16 bits: 100,000 sequential
        // names should fill about 1 − e^(−100000/65536) ≈ 78% of them.
        // Every seed must do so: 20 builders, each with its own.
        for _ in 0..20 {
            let b = PathHashBuilder::default();
            let buckets: HashSet<u64> = (0..100_000)
                .map(|i| b.hash_one(format!("/bench/s3-{i:010}")) & 0xffff)
                .collect();
            assert!(buckets.len() > 48_000, "{} buckets used", buckets.len());
            let tags: HashSet<u64> = (0..10_000)
                .map(|i| b.hash_one(format!("n{i}")) >> 57)
                .collect();
            assert_eq!(tags.len(), 128, "the top 7 bits are hashbrown's tags");
        }
    }
}
