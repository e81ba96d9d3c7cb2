//! A hash table of a child set's members, found by the name each carries,
//! that splits into 64 shards once it holds more than [`SPLIT_AT`] members,
//! so that growing it rehashes one shard at a time.
//!
//! One table rehashes every member when it grows: at 460,000 children that
//! was a stall of ~190 ms of the core under a create flood, which every
//! request in flight waited for. With 64 shards each growth moves a 64th of
//! the members, and the shards, filled evenly, grow at different moments.
//!
//! A member's shard is the low bits of its name's Java `HashMap` hash
//! (`children::java_hash`), so that a shard holds whole Java buckets and a
//! snapshot walk can list a large child set one shard at a time
//! (`tree::fuzzy`). Names spread over the shards as over Java's buckets
//! (evenly for the usual names; names made to collide in Java's hash all
//! land in one shard, which then grows as one table would). Within a shard
//! a table hashed by the set's own seeded hasher ([`PathHashBuilder`])
//! finds them.
//!
//! The tables hold the members themselves (a child set's are one-word node
//! pointers, the node carrying its name): a table of 2^21 buckets for
//! 1,000,000 children is 18 MiB, where one of (name, node) entries was 69.

use super::path_hash::PathHashBuilder;
use hashbrown::HashTable;
use std::hash::BuildHasher;

/// Entries above which the single table splits into shards.
const SPLIT_AT: usize = 1 << 14;

/// log2 of the number of shards after the split.
const SHARD_BITS: u32 = 6;

/// Members from which [`ShardedTable::insert_many`] uses a second thread.
const PARALLEL_MIN: usize = 1 << 16;

/// A member of a [`ShardedTable`]: found by its name.
pub trait Keyed {
    /// The name the member is found by; it never changes while the member
    /// is in a table.
    fn key(&self) -> &str;
}

/// The shard of `key` in a split table: keys in one bucket of a Java table
/// of 64 buckets or more share a shard.
fn split_shard(key: &str) -> usize {
    (super::children::java_hash(key) & ((1 << SHARD_BITS) - 1)) as usize
}

/// Members found by name.
#[derive(Debug, Clone)]
pub struct ShardedTable<E> {
    /// One table, or `1 << SHARD_BITS` of them.
    shards: Box<[HashTable<E>]>,
    /// Hashes names within a shard.
    hasher: PathHashBuilder,
    /// Members over all shards.
    len: usize,
}

impl<E> Default for ShardedTable<E> {
    /// An empty table.
    fn default() -> Self {
        ShardedTable {
            shards: Box::new([HashTable::new()]),
            hasher: PathHashBuilder::default(),
            len: 0,
        }
    }
}

impl<E: Keyed> ShardedTable<E> {
    /// The shard that holds `key`.
    fn shard(&self, key: &str) -> usize {
        if self.shards.len() == 1 {
            0
        } else {
            split_shard(key)
        }
    }

    fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The member named `key`.
    pub fn get(&self, key: &str) -> Option<&E> {
        self.shards[self.shard(key)].find(self.hash(key), |e| e.key() == key)
    }

    /// The member named `key`, mutable (its name must stay).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut E> {
        let (i, hash) = (self.shard(key), self.hash(key));
        self.shards[i].find_mut(hash, |e| e.key() == key)
    }

    /// True when a member is named `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Adds `member`; if one of its name is there already, nothing changes
    /// and `member` comes back.
    pub fn insert(&mut self, member: E) -> Result<(), E> {
        let key = member.key();
        let (i, hash) = (self.shard(key), self.hash(key));
        let hasher = &self.hasher;
        match self.shards[i].entry(hash, |e| e.key() == key, |e| hasher.hash_one(e.key())) {
            hashbrown::hash_table::Entry::Occupied(_) => return Err(member),
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(member);
            }
        }
        self.len += 1;
        if self.len > SPLIT_AT && self.shards.len() == 1 {
            self.split();
        }
        Ok(())
    }

    /// Removes and returns the member named `key`.
    pub fn remove(&mut self, key: &str) -> Option<E> {
        let (i, hash) = (self.shard(key), self.hash(key));
        let (member, _) = self.shards[i]
            .find_entry(hash, |e| e.key() == key)
            .ok()?
            .remove();
        self.len -= 1;
        Some(member)
    }

    /// Members held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no member is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `members`, whose names must be new, into tables sized for them
    /// first. From [`PARALLEL_MIN`] members on, two threads insert them,
    /// each into half the shards (a snapshot load's 1,000,000-child
    /// parent). False if a name was already present (or twice among
    /// `members`): the members that collided are dropped, so only a caller
    /// about to discard the table may go on.
    pub fn insert_many(&mut self, members: Vec<E>) -> bool
    where
        E: Send,
    {
        let count = members.len();
        if self.shards.len() == 1 && self.len + count > SPLIT_AT {
            self.split();
        }
        if self.shards.len() == 1 {
            let hasher = &self.hasher;
            self.shards[0].reserve(count, |e| hasher.hash_one(e.key()));
            let before = self.len;
            for member in members {
                let _ = self.insert(member);
            }
            return self.len == before + count;
        }
        let half = self.shards.len() / 2;
        let mut counts = vec![0usize; self.shards.len()];
        let (mut low, mut high) = (Vec::new(), Vec::new());
        let parallel = count >= PARALLEL_MIN;
        for member in members {
            let shard = split_shard(member.key());
            counts[shard] += 1;
            if shard < half || !parallel {
                low.push(member);
            } else {
                high.push(member);
            }
        }
        let hasher = &self.hasher;
        for (shard, count) in self.shards.iter_mut().zip(counts) {
            shard.reserve(count, |e| hasher.hash_one(e.key()));
        }
        // Inserts `members` into `shards` (the table's, from shard `first`
        // on); returns how many were new.
        let fill = |shards: &mut [HashTable<E>], first: usize, members: Vec<E>| {
            let mut added = 0;
            for member in members {
                let key = member.key();
                let hash = hasher.hash_one(key);
                let shard = &mut shards[split_shard(key) - first];
                if let hashbrown::hash_table::Entry::Vacant(slot) =
                    shard.entry(hash, |e| e.key() == key, |e| hasher.hash_one(e.key()))
                {
                    slot.insert(member);
                    added += 1;
                }
            }
            added
        };
        let added = if parallel {
            let (low_shards, high_shards) = self.shards.split_at_mut(half);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| fill(high_shards, half, high));
                fill(low_shards, 0, low)
                    + other.join().expect("the inserting thread does not panic")
            })
        } else {
            fill(&mut self.shards, 0, low)
        };
        self.len += added;
        added == count
    }

    /// Every member, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &E> {
        self.shards.iter().flat_map(HashTable::iter)
    }

    /// Takes every member out, in no particular order; the table is then
    /// empty (and one table again).
    pub fn drain(&mut self) -> Vec<E> {
        let mut all = Vec::with_capacity(self.len);
        for shard in self.shards.iter_mut() {
            all.extend(shard.drain());
        }
        *self = ShardedTable {
            hasher: self.hasher.clone(),
            ..ShardedTable::default()
        };
        all
    }

    /// The number of shards: 1 until the table splits, then `1 <<
    /// SHARD_BITS` for good.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The members of shard `index`, in no particular order (all of them
    /// before the split); `None` past the last shard.
    pub fn shard_members(&self, index: usize) -> Option<impl Iterator<Item = &E>> {
        self.shards.get(index).map(HashTable::iter)
    }

    /// Moves the single table's members into the shards (once).
    fn split(&mut self) {
        let shard_count = 1usize << SHARD_BITS;
        let each = self.len.div_ceil(shard_count) * 2;
        let mut shards: Box<[HashTable<E>]> = (0..shard_count)
            .map(|_| HashTable::with_capacity(each))
            .collect();
        let hasher = &self.hasher;
        for member in self.shards[0].drain() {
            let hash = hasher.hash_one(member.key());
            shards[split_shard(member.key())]
                .insert_unique(hash, member, |e| hasher.hash_one(e.key()));
        }
        self.shards = shards;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A member that is a name and a number.
    #[derive(Debug, PartialEq)]
    struct Pair(String, u32);

    impl Keyed for Pair {
        fn key(&self) -> &str {
            &self.0
        }
    }

    fn pair(name: impl Into<String>, n: u32) -> Pair {
        Pair(name.into(), n)
    }

    #[test]
    fn behaves_as_one_table_across_the_split() {
        let mut m: ShardedTable<Pair> = ShardedTable::default();
        let n = SPLIT_AT as u32 * 3;
        for i in 0..n {
            assert!(m.insert(pair(format!("/n{i}"), i)).is_ok());
        }
        assert!(m.shards.len() > 1, "split");
        assert_eq!(m.len(), n as usize);
        assert_eq!(m.insert(pair("/n7", 70)), Err(pair("/n7", 70)));
        assert_eq!(m.len(), n as usize, "a name present counts once");
        for i in (0..n).step_by(3) {
            assert_eq!(m.remove(&format!("/n{i}")), Some(pair(format!("/n{i}"), i)));
        }
        assert_eq!(m.remove("/n0"), None);
        for i in 0..n {
            assert_eq!(m.contains_key(&format!("/n{i}")), i % 3 != 0);
        }
        m.get_mut("/n1").unwrap().1 = 10;
        assert_eq!(m.get("/n1"), Some(&pair("/n1", 10)));
        assert_eq!(m.iter().count(), m.len());
        let sum: u64 = m.iter().map(|p| u64::from(p.1)).sum();
        let expected: u64 = (0..n).filter(|i| i % 3 != 0).map(u64::from).sum::<u64>() + 9;
        assert_eq!(sum, expected);
        let all = m.drain();
        assert_eq!(all.len(), expected_len(n));
        assert!(m.is_empty() && m.shard_count() == 1 && m.get("/n1").is_none());
    }

    fn expected_len(n: u32) -> usize {
        (0..n).filter(|i| i % 3 != 0).count()
    }

    fn fill_evenly(key: impl Fn(usize) -> String) {
        let mut m: ShardedTable<Pair> = ShardedTable::default();
        for i in 0..SPLIT_AT * 4 {
            m.insert(pair(key(i), 0)).unwrap();
        }
        let mean = m.len() / m.shards.len();
        for s in m.shards.iter() {
            assert!(
                s.len() > mean / 2 && s.len() < mean * 2,
                "{} vs {mean}",
                s.len()
            );
        }
    }

    #[test]
    fn shards_fill_evenly() {
        fill_evenly(|i| format!("c-{i:010}"));
        fill_evenly(|i| format!("n{i}"));
        fill_evenly(|i| format!("lock-{i:x}-{}", i * 7919));
        fill_evenly(|i| format!("{:08x}-{i}", i * 2_654_435_761));
    }

    #[test]
    fn one_java_bucket_is_one_shard() {
        let mut m: ShardedTable<Pair> = ShardedTable::default();
        for i in 0..SPLIT_AT * 2 {
            m.insert(pair(format!("k{i}"), 0)).unwrap();
        }
        assert_eq!(m.shard_count(), 1 << SHARD_BITS);
        let mask = (1u32 << 12) - 1;
        for index in 0..m.shard_count() {
            for p in m.shard_members(index).unwrap() {
                let bucket = crate::tree::children::java_hash(&p.0) & mask;
                assert_eq!(bucket as usize % m.shard_count(), index, "{}", p.0);
            }
        }
        assert!(m.shard_members(m.shard_count()).is_none());
    }

    #[test]
    fn many_members_go_in_as_one_by_one() {
        for n in [10, SPLIT_AT + 5, PARALLEL_MIN * 2] {
            let mut m: ShardedTable<Pair> = ShardedTable::default();
            m.insert(pair("/m/first", u32::MAX)).unwrap();
            assert!(m.insert_many((0..n).map(|i| pair(format!("/m/{i}"), i as u32)).collect()));
            assert_eq!(m.len(), n + 1);
            assert!((0..n)
                .all(|i| m.get(&format!("/m/{i}")) == Some(&pair(format!("/m/{i}"), i as u32))));
            assert_eq!(m.get("/m/first"), Some(&pair("/m/first", u32::MAX)));
            let again = vec![pair("/m/new", 0), pair("/m/1", 0)];
            assert!(!m.insert_many(again), "{n}: /m/1 is there");
        }
    }
}
