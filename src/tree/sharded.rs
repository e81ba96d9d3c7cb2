//! A string-keyed hash table (a child set's names) that splits into 64
//! shards once it holds more than [`SPLIT_AT`] entries, so that growing it
//! rehashes one shard at a time.
//!
//! One table rehashes every entry when it grows: at 460,000 children that
//! was a stall of ~190 ms of the core under a create flood, which every
//! request in flight waited for. With 64 shards each growth moves a 64th of
//! the entries, and the shards, filled evenly, grow at different moments.
//!
//! A key's shard is the low bits of its Java `HashMap` hash
//! (`children::java_hash`), so that a shard holds whole Java buckets and a
//! snapshot walk can list a large child set one shard at a time
//! (`tree::fuzzy`). Names spread over the shards as over Java's buckets
//! (evenly for the usual names; names made to collide in Java's hash all
//! land in one shard, which then grows as one table would). Within a shard
//! a table of its own seeded hasher ([`PathHashBuilder`]) finds them.

use super::path_hash::PathHashBuilder;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

/// Entries above which the single table splits into shards.
const SPLIT_AT: usize = 1 << 14;

/// log2 of the number of shards after the split.
const SHARD_BITS: u32 = 6;

/// Keys from which [`ShardedMap::insert_many`] uses a second thread.
const PARALLEL_MIN: usize = 1 << 16;

/// The shard of `key` in a split map: keys in one bucket of a Java table of
/// 64 buckets or more share a shard.
fn split_shard(key: &str) -> usize {
    (super::children::java_hash(key) & ((1 << SHARD_BITS) - 1)) as usize
}

/// A map from string keys (`K` borrows as `str`) to `V`.
#[derive(Debug, Clone)]
pub struct ShardedMap<K, V> {
    /// One table, or `1 << SHARD_BITS` of them.
    shards: Box<[HashMap<K, V, PathHashBuilder>]>,
    /// Entries over all shards.
    len: usize,
}

impl<K, V> Default for ShardedMap<K, V> {
    /// An empty map (one empty table).
    fn default() -> Self {
        ShardedMap {
            shards: Box::new([HashMap::default()]),
            len: 0,
        }
    }
}

impl<K: Borrow<str> + Hash + Eq, V> ShardedMap<K, V> {
    /// The shard that holds `key`.
    fn shard(&self, key: &str) -> usize {
        if self.shards.len() == 1 {
            0
        } else {
            split_shard(key)
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.shards[self.shard(key)].get(key)
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.shards[self.shard(key)].contains_key(key)
    }

    /// Inserts `key`, returning the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let i = self.shard(key.borrow());
        let old = self.shards[i].insert(key, value);
        if old.is_none() {
            self.len += 1;
            if self.len > SPLIT_AT && self.shards.len() == 1 {
                self.split();
            }
        }
        old
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let i = self.shard(key);
        let old = self.shards[i].remove(key);
        self.len -= usize::from(old.is_some());
        old
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no entry is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Makes room for `keys`, about to be inserted: each shard for exactly
    /// the keys that fall in it, so that inserting them rehashes nothing.
    fn reserve_keys<'a>(&mut self, keys: impl ExactSizeIterator<Item = &'a str>) {
        let additional = keys.len();
        if self.shards.len() == 1 {
            if self.len + additional <= SPLIT_AT {
                self.shards[0].reserve(additional);
                return;
            }
            self.split();
        }
        let mut counts = vec![0usize; self.shards.len()];
        for key in keys {
            counts[self.shard(key)] += 1;
        }
        for (shard, count) in self.shards.iter_mut().zip(counts) {
            shard.reserve(count);
        }
    }

    /// Inserts the keys `key(0)`..`key(count − 1)`, which must be new, with
    /// the values `value(i)`, into tables sized for them first. From
    /// [`PARALLEL_MIN`] keys on, two threads insert them, each into half the
    /// shards (a snapshot load's 1,000,000-child parent). False if a key was
    /// already present: its value is then replaced, so only a caller about
    /// to discard the map may go on.
    pub fn insert_many<'a>(
        &mut self,
        count: usize,
        key: impl Fn(usize) -> &'a str + Sync,
        value: impl Fn(usize) -> V + Sync,
    ) -> bool
    where
        K: From<&'a str> + Send,
        V: Send,
    {
        self.reserve_keys((0..count).map(&key));
        if self.shards.len() == 1 || count < PARALLEL_MIN {
            let before = self.len;
            for i in 0..count {
                self.insert(key(i).into(), value(i));
            }
            return self.len == before + count;
        }
        let (low, high) = self.shards.split_at_mut(self.shards.len() / 2);
        let first_high = low.len();
        // Inserts the keys that fall in `shards` (from shard `first` on);
        // returns how many were new.
        let fill = |shards: &mut [HashMap<K, V, PathHashBuilder>], first: usize| {
            let mut added = 0;
            for i in 0..count {
                let k = key(i);
                if let Some(shard) = split_shard(k)
                    .checked_sub(first)
                    .and_then(|s| shards.get_mut(s))
                {
                    added += usize::from(shard.insert(k.into(), value(i)).is_none());
                }
            }
            added
        };
        let added = std::thread::scope(|scope| {
            let other = scope.spawn(|| fill(high, first_high));
            fill(low, 0) + other.join().expect("the inserting thread does not panic")
        });
        self.len += added;
        added == count
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.shards.iter().flat_map(HashMap::iter)
    }

    /// The number of shards: 1 until the map splits, then `1 << SHARD_BITS`
    /// for good.
    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The entries of shard `index`, in no particular order: every key the
    /// [`ShardPick`] puts there (all of them before the split). `None` past
    /// the last shard.
    pub fn shard_entries(
        &self,
        index: usize,
    ) -> Option<std::collections::hash_map::Iter<'_, K, V>> {
        self.shards.get(index).map(HashMap::iter)
    }

    /// Every key, in no particular order.
    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.iter().map(|(k, _)| k)
    }

    /// Moves the single table's entries into the shards (once).
    fn split(&mut self) {
        let shard_count = 1usize << SHARD_BITS;
        let each = self.len.div_ceil(shard_count) * 2;
        let mut shards: Box<[HashMap<K, V, PathHashBuilder>]> = (0..shard_count)
            .map(|_| HashMap::with_capacity_and_hasher(each, PathHashBuilder::default()))
            .collect();
        let one = std::mem::take(&mut self.shards[0]);
        for (k, v) in one {
            shards[split_shard(k.borrow())].insert(k, v);
        }
        self.shards = shards;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_as_one_map_across_the_split() {
        let mut m: ShardedMap<Box<str>, u32> = ShardedMap::default();
        let n = SPLIT_AT as u32 * 3;
        for i in 0..n {
            assert_eq!(m.insert(format!("/n{i}").into(), i), None);
        }
        assert!(m.shards.len() > 1, "split");
        assert_eq!(m.len(), n as usize);
        assert_eq!(m.insert("/n7".into(), 70), Some(7));
        assert_eq!(m.len(), n as usize, "a replaced key counts once");
        for i in (0..n).step_by(3) {
            assert_eq!(m.remove(&format!("/n{i}")), Some(i));
        }
        assert_eq!(m.remove("/n0"), None);
        for i in 0..n {
            assert_eq!(m.contains_key(&format!("/n{i}")), i % 3 != 0);
        }
        assert_eq!(m.get("/n1"), Some(&1));
        assert_eq!(m.keys().count(), m.len());
        let sum: u64 = m.iter().map(|(_, &v)| u64::from(v)).sum();
        // /n7 holds 70 instead of its number.
        let expected: u64 = (0..n).filter(|i| i % 3 != 0).map(u64::from).sum::<u64>() + 63;
        assert_eq!(sum, expected);
    }

    fn fill_evenly(key: impl Fn(usize) -> String) {
        let mut m: ShardedMap<Box<str>, ()> = ShardedMap::default();
        for i in 0..SPLIT_AT * 4 {
            m.insert(key(i).into(), ());
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
        let mut m: ShardedMap<Box<str>, ()> = ShardedMap::default();
        for i in 0..SPLIT_AT * 2 {
            m.insert(format!("k{i}").into(), ());
        }
        assert_eq!(m.shard_count(), 1 << SHARD_BITS);
        let mask = (1u32 << 12) - 1;
        for index in 0..m.shard_count() {
            for (key, ()) in m.shard_entries(index).unwrap() {
                let bucket = crate::tree::children::java_hash(key) & mask;
                assert_eq!(bucket as usize % m.shard_count(), index, "{key}");
            }
        }
        assert!(m.shard_entries(m.shard_count()).is_none());
    }

    #[test]
    fn many_keys_go_in_as_one_by_one() {
        for n in [10, SPLIT_AT + 5, PARALLEL_MIN * 2] {
            let keys: Vec<String> = (0..n).map(|i| format!("/m/{i}")).collect();
            let mut m: ShardedMap<Box<str>, usize> = ShardedMap::default();
            m.insert("/m/first".into(), usize::MAX);
            assert!(m.insert_many(n, |i| &keys[i], |i| i));
            assert_eq!(m.len(), n + 1);
            assert!(keys.iter().enumerate().all(|(i, k)| m.get(k) == Some(&i)));
            assert_eq!(m.get("/m/first"), Some(&usize::MAX));
            let again = ["/m/new", "/m/1"];
            assert!(!m.insert_many(2, |i| again[i], |_| 0), "{n}: /m/1 is there");
        }
    }

    #[test]
    fn reserved_keys_go_in_without_growing_a_table() {
        for n in [100, SPLIT_AT * 3] {
            let mut m: ShardedMap<Box<str>, ()> = ShardedMap::default();
            m.insert("/first".into(), ());
            let keys: Vec<String> = (0..n).map(|i| format!("/k/{i}")).collect();
            m.reserve_keys(keys.iter().map(String::as_str));
            let capacities: Vec<usize> = m.shards.iter().map(HashMap::capacity).collect();
            for k in &keys {
                m.insert(k.as_str().into(), ());
            }
            assert_eq!(m.len(), n + 1);
            let after: Vec<usize> = m.shards.iter().map(HashMap::capacity).collect();
            assert_eq!(after, capacities, "{n} keys");
        }
    }
}
