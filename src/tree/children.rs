//! A node's child names, answered in the order Apache ZooKeeper answers them.
//!
//! ZooKeeper keeps children in a `java.util.HashSet<String>` created with
//! capacity 8, and getChildren lists them in that set's iteration order: by
//! bucket (`spread(String.hashCode()) & (capacity − 1)`), and within a bucket by
//! insertion. The table doubles when the count exceeds ¾ of its capacity and
//! never shrinks. Clients and tools print that order (`zkCli ls`), so Paddock
//! reproduces it: each child remembers when it was inserted, and the node
//! remembers the largest table it has needed. (Java also re-buckets when one
//! bucket collects 8 names in a table smaller than 64; names that collide that
//! much are not reproduced.)
//!
//! In a node's child set each child also holds its node ([`NodeRef`]): the
//! set owns it (see `tree::DataTree`), lookups by path walk down the sets,
//! and a snapshot walk (`tree::fuzzy`) goes from a parent to its children
//! without looking them up.
//!
//! A large set splits into shards by Java bucket (`tree::sharded`), and a
//! snapshot walk lists it a shard at a time in insertion order
//! ([`Children::part`]): a reader that adds the names in that order (Paddock's
//! loader, ZooKeeper's) gives every bucket the same order as here, which is
//! all the Java order depends on. Listing a 1,000,000-name set in Java order
//! at once took the core ~100 ms, a stall of every request at each snapshot.

use super::name::Name;
use super::sharded::ShardedMap;
use super::NodeRef;
use std::cell::OnceCell;
use std::ops::Deref;
use std::sync::Arc;

/// Child names with their insertion sequence and the Java table capacity.
#[derive(Debug, Clone, Default)]
pub struct Children {
    /// Allocated only once the node has had a child: most nodes are leaves.
    inner: Option<Box<Inner>>,
}

#[derive(Debug, Clone)]
struct Inner {
    /// name → its insertion sequence and spread Java hash (kept so that
    /// recomputing the order never rehashes the names; the pair fits in the
    /// padding a lone u32 would leave, so it costs no memory).
    names: ShardedMap<Name, Entry>,
    /// The getChildren order, computed on first use after a change (listing a
    /// large node repeatedly is a hot read), shared with snapshot walks.
    order: OnceCell<Arc<[Listed]>>,
    /// The next insertion sequence.
    next_seq: u32,
    /// The Java HashMap table size the set has grown to.
    capacity: u32,
}

/// What a child name maps to.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// Insertion sequence: the order within a Java bucket.
    seq: u32,
    /// [`java_hash`] of the name.
    hash: u32,
    /// The child's node (`None` in sets of names that are not children).
    node: Option<NodeRef>,
}

/// One name of a set in Java order: derefs to the name.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The name.
    pub name: Name,
    /// The node of a child, as it was when the order was computed: valid
    /// only while no node has been freed since (see [`NodeRef`]).
    pub node: Option<NodeRef>,
}

impl Deref for Listed {
    type Target = str;

    fn deref(&self) -> &str {
        &self.name
    }
}

/// Child sets at least this large are ordered by a counting sort over the
/// buckets (linear) instead of a comparison sort.
const BUCKET_SORT_MIN: usize = 4096;

/// Java's `String.hashCode` over UTF-16 code units, spread as HashMap does.
pub(crate) fn java_hash(name: &str) -> u32 {
    let mut h: i32 = 0;
    for unit in name.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(unit as i32);
    }
    let h = h as u32;
    h ^ (h >> 16)
}

/// The table size of a node's child set once it has a child (ZooKeeper's
/// `new HashSet<>(8)`).
const CHILDREN_CAPACITY: u32 = 8;

impl Children {
    /// Adds child `name` whose node is `node`, which the set then holds for
    /// its tree (see [`NodeRef`]); false, holding nothing new, if `name` was
    /// already there.
    pub fn insert(&mut self, name: &str, node: NodeRef) -> bool {
        self.insert_sized(name, CHILDREN_CAPACITY, Some(node))
    }

    /// [`insert`](Self::insert) into a set whose Java table has
    /// `first_capacity` buckets (a power of two) once it holds a name: the
    /// same order rules serve other Java sets of names (`tree::ephemerals`,
    /// whose names have no `node`).
    pub(crate) fn insert_sized(
        &mut self,
        name: &str,
        first_capacity: u32,
        node: Option<NodeRef>,
    ) -> bool {
        self.inner_mut(first_capacity).insert(name, node)
    }

    /// Adds `count` children that are not in the set yet, the `i`th named
    /// `name(i)` with node `node(i)`, as [`insert`](Self::insert) in that
    /// order would, but into tables sized for all of them first (a snapshot
    /// load knows a parent's children once its subtree is read), and on two
    /// threads when there are many. False if a name was already there: the
    /// set is then not to be used.
    pub fn insert_many<'a>(
        &mut self,
        count: usize,
        name: impl Fn(usize) -> &'a str + Sync,
        node: impl Fn(usize) -> NodeRef + Sync,
    ) -> bool {
        let inner = self.inner_mut(CHILDREN_CAPACITY);
        let first_seq = inner.next_seq;
        let entry = |i: usize| Entry {
            seq: first_seq.wrapping_add(i as u32),
            hash: java_hash(name(i)),
            node: Some(node(i)),
        };
        let fresh = inner.names.insert_many(count, &name, entry);
        inner.order.take();
        inner.next_seq = first_seq.wrapping_add(count as u32);
        inner.grow_capacity();
        fresh
    }

    /// The set, created empty with a Java table of `first_capacity` if the
    /// node has never had a child.
    fn inner_mut(&mut self, first_capacity: u32) -> &mut Inner {
        self.inner.get_or_insert_with(|| {
            Box::new(Inner {
                names: ShardedMap::default(),
                order: OnceCell::new(),
                next_seq: 0,
                capacity: first_capacity,
            })
        })
    }

    /// Removes `name`; false if it was not there.
    pub fn remove(&mut self, name: &str) -> bool {
        self.remove_entry(name).is_some()
    }

    /// Removes child `name`, handing back its node (`None` when it was not
    /// there).
    pub fn take(&mut self, name: &str) -> Option<NodeRef> {
        self.remove_entry(name)?.node
    }

    fn remove_entry(&mut self, name: &str) -> Option<Entry> {
        let inner = self.inner.as_mut()?;
        let removed = inner.names.remove(name)?;
        inner.order.take();
        Some(removed)
    }

    /// The node of child `name`.
    pub fn get(&self, name: &str) -> Option<NodeRef> {
        self.inner.as_ref()?.names.get(name)?.node
    }

    /// Empties the set as if it had never held a name, handing back every
    /// name with its node, in no particular order.
    pub fn drain(&mut self) -> Vec<Listed> {
        let Some(inner) = self.inner.take() else {
            return Vec::new();
        };
        let mut all = Vec::with_capacity(inner.names.len());
        all.extend(inner.names.iter().map(|(name, e)| Listed {
            name: name.clone(),
            node: e.node,
        }));
        all
    }

    /// True if `name` is a child.
    pub fn contains(&self, name: &str) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.names.contains_key(name))
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |i| i.names.len())
    }

    /// True when there are no children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every child's name and node, in no particular order.
    pub fn iter_nodes(&self) -> impl Iterator<Item = (&str, NodeRef)> {
        self.inner
            .iter()
            .flat_map(|i| i.names.iter().filter_map(|(n, e)| Some((&**n, e.node?))))
    }

    /// The names in no particular order (cheapest walk).
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.inner.iter().flat_map(|i| i.names.keys().map(|k| &**k))
    }

    /// The names in the order ZooKeeper's getChildren returns them (cached until
    /// the next insert or remove).
    pub fn java_order(&self) -> &[Listed] {
        self.inner.as_ref().map_or(&[], |inner| inner.order())
    }

    /// The Java table size the set has grown to (0 before its first name).
    #[cfg(test)]
    pub(crate) fn java_capacity(&self) -> u32 {
        self.inner.as_ref().map_or(0, |i| i.capacity)
    }

    /// [`java_order`](Self::java_order) as a shared list that stays valid
    /// (unchanged) after the children change; cheap to take.
    pub fn java_order_shared(&self) -> Arc<[Listed]> {
        self.inner
            .as_ref()
            .map_or_else(|| Arc::from([]), |inner| inner.order().clone())
    }

    /// The number of parts [`part`](Self::part) lists the set in: the
    /// number of shards of a split set of at least [`BUCKET_SORT_MIN`]
    /// names, else 1. (A reader given so many names makes a Java table of
    /// 64 buckets or more, each within one part; a split set that has
    /// shrunk is listed whole, its order then being cheap.)
    pub fn parts(&self) -> usize {
        self.inner
            .as_ref()
            .filter(|i| i.names.len() >= BUCKET_SORT_MIN)
            .map_or(1, |i| i.names.shard_count())
    }

    /// The names of part `index` (below [`parts`](Self::parts); none past
    /// it) in the order they were inserted. Every name of a Java bucket is in
    /// the same part, so the parts listed one after another, whatever their
    /// order, keep each bucket's order, which a reader inserting them in
    /// that order reproduces; each costs a shard's share of the work of
    /// [`java_order`](Self::java_order), not all of it.
    pub fn part(&self, index: usize) -> Vec<Listed> {
        let Some(entries) = self
            .inner
            .as_ref()
            .and_then(|i| i.names.shard_entries(index))
        else {
            return Vec::new();
        };
        let mut keyed: Vec<(u32, &Name, Option<NodeRef>)> =
            entries.map(|(n, e)| (e.seq, n, e.node)).collect();
        keyed.sort_unstable_by_key(|&(seq, ..)| seq);
        keyed
            .into_iter()
            .map(|(_, name, node)| Listed {
                name: name.clone(),
                node,
            })
            .collect()
    }
}

impl Inner {
    /// Adds `name` with the next insertion sequence, growing the Java
    /// capacity as HashSet would; false if it was already there.
    fn insert(&mut self, name: &str, node: Option<NodeRef>) -> bool {
        let entry = Entry {
            seq: self.next_seq,
            hash: java_hash(name),
            node,
        };
        // One lookup on the usual path (a new name); a name already there
        // gets its entry back.
        if let Some(existing) = self.names.insert(name.into(), entry) {
            self.names.insert(name.into(), existing);
            return false;
        }
        self.order.take();
        self.next_seq = self.next_seq.wrapping_add(1);
        self.grow_capacity();
        true
    }

    /// Doubles the Java capacity until the names fill at most ¾ of it.
    fn grow_capacity(&mut self) {
        while self.names.len() as u64 > self.capacity as u64 * 3 / 4 {
            self.capacity *= 2;
        }
    }

    fn order(&self) -> &Arc<[Listed]> {
        self.order.get_or_init(|| {
            let mask = self.capacity - 1;
            // Sized up front: the shards' iterator does not say its length.
            let mut keyed = Vec::with_capacity(self.names.len());
            keyed.extend(
                self.names
                    .iter()
                    .map(|(n, e)| (e.hash & mask, e.seq, (n, e))),
            );
            if keyed.len() < BUCKET_SORT_MIN {
                keyed.sort_unstable_by_key(|&(bucket, seq, ..)| (bucket, seq));
            } else {
                keyed = bucket_sort(keyed, self.capacity as usize);
            }
            keyed
                .into_iter()
                .map(|(_, _, (name, entry))| Listed {
                    name: name.clone(),
                    node: entry.node,
                })
                .collect()
        })
    }
}

/// Bits of the bucket one pass of [`bucket_sort`] sorts by: its counters
/// (16 KiB) stay in the L1 cache, and its writes go to at most 2,048 places
/// at a time.
const RADIX_BITS: u32 = 11;

/// Sorts `(bucket, seq, item)` triples by bucket then seq in time linear in
/// their number (every bucket is below `buckets`, a power of two): a stable
/// radix sort by bucket, [`RADIX_BITS`] at a time from the lowest, then each
/// bucket's few entries are ordered by seq. (One counting pass over all the
/// buckets — 2,097,152 counters for 1,000,000 names — scattered its reads
/// and writes over memory; listing 1,000,000 names took ~105–128 ms then,
/// ~96–110 now.)
fn bucket_sort<T: Copy>(keyed: Vec<(u32, u32, T)>, buckets: usize) -> Vec<(u32, u32, T)> {
    let bits = buckets.trailing_zeros();
    let mut scratch = keyed.clone();
    let mut sorted = keyed;
    let mut shift = 0;
    while shift < bits {
        let mask = (1u32 << (bits - shift).min(RADIX_BITS)) - 1;
        let digit = |k: &(u32, u32, T)| ((k.0 >> shift) & mask) as usize;
        let mut starts = [0usize; (1 << RADIX_BITS) + 1];
        for k in &sorted {
            starts[digit(k) + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        for k in &sorted {
            let slot = &mut starts[digit(k)];
            scratch[*slot] = *k;
            *slot += 1;
        }
        std::mem::swap(&mut sorted, &mut scratch);
        shift += RADIX_BITS;
    }
    for run in sorted.chunk_by_mut(|a, b| a.0 == b.0) {
        run.sort_unstable_by_key(|&(_, seq, ..)| seq);
    }
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adds a name with no node (these tests are about order only).
    fn add(c: &mut Children, name: &str) -> bool {
        c.insert_sized(name, CHILDREN_CAPACITY, None)
    }

    #[test]
    fn order_matches_java_hashset() {
        // Observed on ZooKeeper 3.8.0: children of "/" after creating a, c, d, nope.
        let mut c = Children::default();
        for n in ["zookeeper", "a", "c", "d", "nope"] {
            add(&mut c, n);
        }
        let names: Vec<&str> = c.java_order().iter().map(|n| &**n).collect();
        assert_eq!(names, ["a", "c", "zookeeper", "d", "nope"]);
    }

    #[test]
    fn table_grows_past_three_quarters_and_never_shrinks() {
        let mut c = Children::default();
        for i in 0..7 {
            add(&mut c, &format!("n{i}"));
        }
        assert_eq!(c.inner.as_ref().unwrap().capacity, 16);
        for i in 0..7 {
            c.remove(&format!("n{i}"));
        }
        assert!(c.is_empty());
        assert_eq!(c.inner.as_ref().unwrap().capacity, 16);
    }

    #[test]
    fn large_sets_are_ordered_as_small_ones_are() {
        let mut c = Children::default();
        for i in 0..3 * BUCKET_SORT_MIN {
            add(&mut c, &format!("node-{i:010}"));
        }
        for i in (0..3 * BUCKET_SORT_MIN).step_by(3) {
            c.remove(&format!("node-{i:010}"));
        }
        let inner = c.inner.as_ref().unwrap();
        let mask = inner.capacity - 1;
        let mut expected: Vec<(u32, u32, &str)> = inner
            .names
            .iter()
            .map(|(n, e)| (java_hash(n) & mask, e.seq, &**n))
            .collect();
        expected.sort_unstable();
        let expected: Vec<&str> = expected.into_iter().map(|(_, _, n)| n).collect();
        let names: Vec<&str> = c.java_order().iter().map(|n| &**n).collect();
        assert_eq!(names.len(), 2 * BUCKET_SORT_MIN);
        assert_eq!(names, expected);
        let shared = c.java_order_shared();
        let shared: Vec<&str> = shared.iter().map(|n| &**n).collect();
        assert_eq!(shared, names);
    }

    #[test]
    fn java_hash_matches_string_hashcode() {
        // "zookeeper".hashCode() == 1600681804 in Java 17.
        let h = 1600681804u32;
        assert_eq!(java_hash("zookeeper"), h ^ (h >> 16));
    }

    #[test]
    fn sequential_names_come_out_in_java_order() {
        // Java 17: a HashSet(8) of s-0000000000 … s-0000000019 iterates in this order.
        let mut c = Children::default();
        for i in 0..20 {
            add(&mut c, &format!("s-{i:010}"));
        }
        let expected: Vec<String> = [
            7, 18, 6, 17, 9, 8, 19, 10, 1, 12, 0, 11, 3, 14, 2, 13, 5, 16, 4, 15,
        ]
        .iter()
        .map(|i| format!("s-{i:010}"))
        .collect();
        let names: Vec<String> = c.java_order().iter().map(|n| n.to_string()).collect();
        assert_eq!(names, expected);
    }
}
