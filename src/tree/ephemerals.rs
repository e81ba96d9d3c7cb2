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

use super::children::{JavaSet, NameEntry};

/// Capacity of a `new HashSet<String>()` once it holds anything.
const JAVA_DEFAULT_CAPACITY: u32 = 16;

/// One session's ephemeral paths: a Java set of names ordered by the same
/// rules as a node's children ([`JavaSet`]), with `new HashSet<>()`'s
/// table of 16.
#[derive(Debug, Clone, Default)]
pub struct EphemeralSet(JavaSet<NameEntry>);

impl EphemeralSet {
    /// Adds `path`; false if it was already there (it keeps its place).
    pub fn insert(&mut self, path: &str) -> bool {
        self.0
            .insert_sized(NameEntry::new(path), JAVA_DEFAULT_CAPACITY)
    }

    /// Removes `path`; false if it was not there.
    pub fn remove(&mut self, path: &str) -> bool {
        self.0.remove(path).is_some()
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

    /// A `clone()` of the set, as getEphemerals and closeSession see it:
    /// Java's `HashMap.clone()` refills a table of `tableSizeFor((int)
    /// (count / 0.75f + 1))` in the original's iteration order, and an empty
    /// clone takes the default table at its first add. Iterated by bucket then
    /// insertion, with later adds and growth by the same rules as any set.
    pub fn java_clone(&self) -> EphemeralSet {
        let order = self.java_order();
        let mut copy = EphemeralSet::default();
        if !order.is_empty() {
            let capacity = (order.len() as f32 / 0.75f32 + 1.0f32) as u32;
            for path in order {
                copy.0
                    .insert_sized(NameEntry::new(path), capacity.next_power_of_two());
            }
        }
        copy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::children::java_hash;

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
        let clone = set.java_clone();
        let listed: Vec<String> = clone.java_order().into_iter().map(str::to_owned).collect();
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
        let mut original = EphemeralSet::default();
        original.insert(&names[0]);
        let mut copy = original.java_clone();
        for n in &names[1..] {
            assert!(copy.insert(n));
        }
        assert!(!copy.insert(&names[3]));
        // 40 names: a table of 64, iterated by bucket then insertion.
        let mut expected: Vec<(usize, usize, &str)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (java_hash(n) as usize & 63, i, n.as_str()))
            .collect();
        expected.sort_unstable();
        let expected: Vec<&str> = expected.into_iter().map(|(_, _, n)| n).collect();
        assert_eq!(copy.java_order(), expected);
        assert!(copy.remove(&names[0]));
        assert!(!copy.remove(&names[0]));
        assert_eq!(copy.java_order().len(), 39);
    }
}
