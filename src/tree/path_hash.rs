//! The hasher of the tree's path and child-name tables.
//!
//! std's default SipHash-1-3 took over a third of the time of loading a
//! 1,000,000-node snapshot (every node is hashed into the path table and its
//! parent's child table, and again whenever a table grows). This hasher
//! multiplies eight bytes at a time into the state instead, several times
//! faster on paths of a few dozen bytes. Each table gets a random seed, so
//! which paths share a bucket differs between tables and between runs; it is
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
    fn mix(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
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
        // The product's high bits depend on every input bit; the table takes
        // its bucket from the low bits, so bring the high ones down.
        self.state.rotate_left(26)
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
