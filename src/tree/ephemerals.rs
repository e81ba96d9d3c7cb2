//! A session's ephemeral paths, in the orders Apache ZooKeeper gives them.
//!
//! ZooKeeper's DataTree keeps each session's ephemeral paths in a
//! `java.util.HashSet<String>` (`new HashSet<>()`: capacity 16, doubling when
//! the count exceeds ¾ of it, never shrinking) and hands out `clone()`s of it.
//! getEphemerals lists a clone, and closeSession deletes a clone's paths in its
//! iteration order, which is the order in which watchers see their
//! NodeDeleted and NodeChildrenChanged events. A clone is not the original's
//! order: `HashMap.clone()` refills a fresh table sized for the count
//! (`tableSizeFor((int) (count / 0.75f + 1))`) in the original's iteration
//! order, so names sharing a bucket of the smaller table keep the original's
//! relative order. Iteration goes by bucket (`spread(hashCode) & (capacity −
//! 1)`), and within a bucket by insertion (a resize splits a bucket in order).
//! Buckets that Java would turn into trees (8 colliding names in a table of 64
//! or more) are not reproduced.

use super::children::{java_hash, Children};

/// Capacity of a `new HashSet<String>()` once it holds anything.
const JAVA_DEFAULT_CAPACITY: usize = 16;

/// One session's ephemeral paths: a Java set of names ordered by the same
/// rules as a node's children ([`Children`]), with `new HashSet<>()`'s
/// table of 16.
#[derive(Debug, Clone, Default)]
pub struct EphemeralSet(Children);

impl EphemeralSet {
    /// Adds `path`; false if it was already there (it keeps its place).
    pub fn insert(&mut self, path: &str) -> bool {
        self.0.insert_sized(path, JAVA_DEFAULT_CAPACITY as u32)
    }

    /// Removes `path`; false if it was not there.
    pub fn remove(&mut self, path: &str) -> bool {
        self.0.remove(path)
    }

    /// Number of paths.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when the set holds no path.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The paths in the set's own iteration order (the 4lw `dump` lists it).
    pub fn java_order(&self) -> Vec<&str> {
        self.0.java_order().iter().map(|p| &**p).collect()
    }

    /// A `clone()` of the set, as getEphemerals and closeSession see it.
    pub fn java_clone(&self) -> JavaHashSet {
        JavaHashSet::copy_of(self.java_order())
    }
}

/// A Java `HashSet<String>` as its table of buckets: an exact order under any
/// sequence of adds and removes, for short-lived copies (closeSession adds and
/// removes the paths of outstanding txns to its clone).
#[derive(Debug, Clone)]
pub struct JavaHashSet {
    /// Each bucket's (spread hash, name) in insertion order.
    buckets: Vec<Vec<(u32, String)>>,
    /// Number of names.
    len: usize,
}

impl JavaHashSet {
    /// `HashMap.clone()` / `putMapEntries` of `names` given in iteration order:
    /// a table of `tableSizeFor((int) (count / 0.75f + 1))` filled in order.
    pub fn copy_of<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let names: Vec<&str> = names.into_iter().collect();
        let capacity = if names.is_empty() {
            // An empty clone allocates its table on the first add, at the default.
            JAVA_DEFAULT_CAPACITY
        } else {
            let wanted = (names.len() as f32 / 0.75f32 + 1.0f32) as usize;
            wanted.next_power_of_two()
        };
        let mut set = JavaHashSet {
            buckets: vec![Vec::new(); capacity],
            len: 0,
        };
        for name in names {
            set.add(name);
        }
        set
    }

    /// `HashSet.add`: appends to its bucket; false if already there.
    pub fn add(&mut self, name: &str) -> bool {
        let hash = java_hash(name);
        let mask = self.buckets.len() - 1;
        let bucket = &mut self.buckets[hash as usize & mask];
        if bucket.iter().any(|(_, n)| n == name) {
            return false;
        }
        bucket.push((hash, name.to_owned()));
        self.len += 1;
        if self.len > java_threshold(self.buckets.len()) {
            self.grow();
        }
        true
    }

    /// `HashSet.remove`; false if it was not there.
    pub fn remove(&mut self, name: &str) -> bool {
        let mask = self.buckets.len() - 1;
        let bucket = &mut self.buckets[java_hash(name) as usize & mask];
        let Some(at) = bucket.iter().position(|(_, n)| n == name) else {
            return false;
        };
        bucket.remove(at);
        self.len -= 1;
        true
    }

    /// The names in Java's iteration order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.buckets.iter().flatten().map(|(_, n)| n.as_str())
    }

    /// `HashMap.resize`: double the table, each bucket split in order.
    fn grow(&mut self) {
        let capacity = self.buckets.len() * 2;
        let mut buckets = vec![Vec::new(); capacity];
        for (hash, name) in self.buckets.drain(..).flatten() {
            buckets[hash as usize & (capacity - 1)].push((hash, name));
        }
        self.buckets = buckets;
    }
}

/// `(int) (capacity * 0.75f)` for a power-of-two capacity of at least 2.
fn java_threshold(capacity: usize) -> usize {
    capacity * 3 / 4
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ZooKeeper 3.8 server's getEphemerals answer for a session that
    /// created these ephemerals in this order (compat-tests kazoo-random,
    /// /r0 #140): the clone's table of 16 sorts them, not name order.
    #[test]
    fn clone_order_matches_zookeeper_get_ephemerals() {
        let created = [
            "/r0/a/a/s-0000000001",
            "/r0/b/s-0000000000/s-0000000000",
            "/r0/b/s-0000000002",
            "/r0/s-0000000002",
            "/r0/a/s-0000000001",
            "/r0/s-0000000003",
        ];
        let mut set = EphemeralSet::default();
        for p in created {
            set.insert(p);
        }
        let listed: Vec<String> = set.java_clone().iter().map(str::to_owned).collect();
        assert_eq!(
            listed,
            [
                "/r0/b/s-0000000000/s-0000000000",
                "/r0/a/s-0000000001",
                "/r0/s-0000000002",
                "/r0/b/s-0000000002",
                "/r0/s-0000000003",
                "/r0/a/a/s-0000000001",
            ]
        );
    }

    #[test]
    fn original_grows_past_three_quarters_and_never_shrinks() {
        let mut set = EphemeralSet::default();
        for i in 0..13 {
            set.insert(&format!("/e{i}"));
        }
        assert_eq!(set.0.java_capacity(), 32);
        for i in 0..13 {
            set.remove(&format!("/e{i}"));
        }
        assert_eq!(set.0.java_capacity(), 32);
        assert!(set.is_empty());
    }

    #[test]
    fn copy_grows_like_a_java_table_and_keeps_bucket_order() {
        let names: Vec<String> = (0..40).map(|i| format!("/p{i}")).collect();
        let mut copy = JavaHashSet::copy_of(names[..1].iter().map(String::as_str));
        for n in &names[1..] {
            assert!(copy.add(n));
        }
        assert!(!copy.add(&names[3]));
        // 40 names: a table of 64, iterated by bucket then insertion.
        let mut expected: Vec<(usize, usize, &str)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (java_hash(n) as usize & 63, i, n.as_str()))
            .collect();
        expected.sort_unstable();
        let expected: Vec<&str> = expected.into_iter().map(|(_, _, n)| n).collect();
        assert_eq!(copy.iter().collect::<Vec<_>>(), expected);
        assert!(copy.remove(&names[0]));
        assert!(!copy.remove(&names[0]));
        assert_eq!(copy.iter().count(), 39);
    }
}
