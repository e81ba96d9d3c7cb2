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
//! A node's child set holds the children themselves ([`NodeBox`], which
//! carries its name and insertion sequence); lookups by path walk down the
//! sets, and a snapshot walk (`tree::fuzzy`) goes from a parent to its
//! children without looking them up. The same ordered set serves other Java
//! sets of names ([`NameEntry`]: a session's ephemeral paths).
//!
//! A large set splits into shards by Java bucket (`tree::sharded`), and a
//! snapshot walk lists it a shard at a time in insertion order
//! ([`Children::part`]): a reader that adds the names in that order (Paddock's
//! loader, ZooKeeper's) gives every bucket the same order as here, which is
//! all the Java order depends on. Listing a 1,000,000-name set in Java order
//! at once took the core ~100 ms, a stall of every request at each snapshot.

use super::name::Name;
use super::node::{nodes_freed, NodeBox, NodeRef};
use super::sharded::{Keyed, ShardedTable};
use std::cell::OnceCell;
use std::ops::Deref;
use std::sync::Arc;

/// A member of a [`JavaSet`]: a name with its insertion sequence.
pub trait Member: Keyed + Send {
    /// The insertion sequence the set gave it.
    fn seq(&self) -> u32;
    /// Gives it its insertion sequence (the set does, on insert).
    fn set_seq(&mut self, seq: u32);
    /// The node, for a child.
    fn node(&self) -> Option<NodeRef>;
}

impl Keyed for NodeBox {
    fn key(&self) -> &str {
        self.name()
    }
}

impl Member for NodeBox {
    fn seq(&self) -> u32 {
        (**self).seq()
    }

    fn set_seq(&mut self, seq: u32) {
        (**self).set_seq(seq);
    }

    fn node(&self) -> Option<NodeRef> {
        Some(NodeRef::of(self))
    }
}

/// A name in a set of names that are not children.
#[derive(Debug, Clone)]
pub struct NameEntry {
    name: Name,
    seq: u32,
}

impl NameEntry {
    /// `name`, not yet in a set.
    pub fn new(name: &str) -> NameEntry {
        NameEntry {
            name: name.into(),
            seq: 0,
        }
    }
}

impl Keyed for NameEntry {
    fn key(&self) -> &str {
        &self.name
    }
}

impl Member for NameEntry {
    fn seq(&self) -> u32 {
        self.seq
    }

    fn set_seq(&mut self, seq: u32) {
        self.seq = seq;
    }

    fn node(&self) -> Option<NodeRef> {
        None
    }
}

/// Names (members `E`) with their insertion sequence and the Java table
/// capacity.
#[derive(Debug, Clone)]
pub struct JavaSet<E> {
    /// Allocated only once the set has had a member: most nodes are leaves.
    inner: Option<Box<Inner<E>>>,
}

/// A node's children.
pub type Children = JavaSet<NodeBox>;

impl<E> Default for JavaSet<E> {
    fn default() -> Self {
        JavaSet { inner: None }
    }
}

#[derive(Debug, Clone)]
struct Inner<E> {
    /// The members, found by name.
    names: ShardedTable<E>,
    /// The getChildren order, computed on first use after a change (listing a
    /// large node repeatedly is a hot read), shared with snapshot walks.
    order: OnceCell<Listing>,
    /// The next insertion sequence.
    next_seq: u32,
    /// The Java HashMap table size the set has grown to.
    capacity: u32,
}

/// A set's names in Java order, as computed at one moment.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The names, with their nodes.
    pub names: Arc<[Listed]>,
    /// [`nodes_freed`] when the list was made: its nodes may be read only
    /// while that count has not moved (see [`NodeRef`]).
    pub freed: u64,
}

/// One name of a set in Java order: derefs to the name.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The name.
    pub name: Name,
    /// The node of a child, as it was when the order was computed: valid
    /// only while no node has been freed or moved since (see [`NodeRef`]).
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
    /// Adds child `node` (named as it is); false, dropping it, if a child
    /// of that name was already there.
    pub fn insert(&mut self, node: NodeBox) -> bool {
        self.insert_sized(node, CHILDREN_CAPACITY)
    }

    /// Adds the children `nodes`, which must be new, as [`insert`](Self::insert)
    /// in that order would, but into tables sized for all of them first (a
    /// snapshot load knows a parent's children once its subtree is read),
    /// and on two threads when there are many. False if a name was already
    /// there: the set is then not to be used.
    pub fn insert_many(&mut self, mut nodes: Vec<NodeBox>) -> bool {
        let inner = self.inner_mut(CHILDREN_CAPACITY);
        let first_seq = inner.next_seq;
        for (i, node) in nodes.iter_mut().enumerate() {
            node.set_seq(first_seq.wrapping_add(i as u32));
        }
        inner.next_seq = first_seq.wrapping_add(nodes.len() as u32);
        let fresh = inner.names.insert_many(nodes);
        inner.order.take();
        inner.grow_capacity();
        fresh
    }

    /// Child `name`, mutable (a change may move it: its pointer here follows).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut NodeBox> {
        self.inner.as_mut()?.names.get_mut(name)
    }
}

impl<E: Member> JavaSet<E> {
    /// Adds `member` into a set whose Java table has `first_capacity`
    /// buckets (a power of two) once it holds a name; false, dropping it, if
    /// its name was already there.
    pub(crate) fn insert_sized(&mut self, member: E, first_capacity: u32) -> bool {
        self.inner_mut(first_capacity).insert(member)
    }

    /// The set, created empty with a Java table of `first_capacity` if it
    /// has never had a member.
    fn inner_mut(&mut self, first_capacity: u32) -> &mut Inner<E> {
        self.inner.get_or_insert_with(|| {
            Box::new(Inner {
                names: ShardedTable::default(),
                order: OnceCell::new(),
                next_seq: 0,
                capacity: first_capacity,
            })
        })
    }

    /// Removes and returns member `name` (`None` when it was not there).
    pub fn remove(&mut self, name: &str) -> Option<E> {
        let inner = self.inner.as_mut()?;
        let removed = inner.names.remove(name)?;
        inner.order.take();
        Some(removed)
    }

    /// Member `name`.
    pub fn get(&self, name: &str) -> Option<&E> {
        self.inner.as_ref()?.names.get(name)
    }

    /// Empties the set as if it had never held a name, handing back every
    /// member, in no particular order.
    pub fn drain(&mut self) -> Vec<E> {
        match self.inner.take() {
            Some(mut inner) => inner.names.drain(),
            None => Vec::new(),
        }
    }

    /// True if `name` is a member.
    pub fn contains(&self, name: &str) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.names.contains_key(name))
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |i| i.names.len())
    }

    /// True when there are no members.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The members in no particular order (cheapest walk).
    pub fn iter(&self) -> impl Iterator<Item = &E> {
        self.inner.iter().flat_map(|i| i.names.iter())
    }

    /// The names in the order ZooKeeper's getChildren returns them (cached until
    /// the next insert or remove).
    pub fn java_order(&self) -> &[Listed] {
        self.inner
            .as_ref()
            .map_or(&[], |inner| &inner.order().names)
    }

    /// The Java table size the set has grown to (0 before its first name).
    #[cfg(test)]
    pub(crate) fn java_capacity(&self) -> u32 {
        self.inner.as_ref().map_or(0, |i| i.capacity)
    }

    /// [`java_order`](Self::java_order) as a shared list that stays valid
    /// (unchanged) after the set changes; cheap to take.
    pub fn java_order_shared(&self) -> Listing {
        self.inner.as_ref().map_or_else(
            || Listing {
                names: Arc::from([]),
                freed: nodes_freed(),
            },
            |inner| inner.order().clone(),
        )
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
    pub fn part(&self, index: usize) -> Listing {
        let freed = nodes_freed();
        let Some(members) = self
            .inner
            .as_ref()
            .and_then(|i| i.names.shard_members(index))
        else {
            return Listing {
                names: Arc::from([]),
                freed,
            };
        };
        let mut keyed: Vec<(u32, &E)> = members.map(|e| (e.seq(), e)).collect();
        keyed.sort_unstable_by_key(|&(seq, _)| seq);
        let names = keyed
            .into_iter()
            .map(|(_, e)| Listed {
                name: e.key().into(),
                node: e.node(),
            })
            .collect();
        Listing { names, freed }
    }
}

impl<E: Member> Inner<E> {
    /// Adds `member` with the next insertion sequence, growing the Java
    /// capacity as HashSet would; false if its name was already there.
    fn insert(&mut self, mut member: E) -> bool {
        member.set_seq(self.next_seq);
        if self.names.insert(member).is_err() {
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

    fn order(&self) -> &Listing {
        self.order.get_or_init(|| {
            let freed = nodes_freed();
            let mask = self.capacity - 1;
            // Sized up front: the shards' iterator does not say its length.
            let mut keyed = Vec::with_capacity(self.names.len());
            keyed.extend(
                self.names
                    .iter()
                    .map(|e| (java_hash(e.key()) & mask, e.seq(), e)),
            );
            if keyed.len() < BUCKET_SORT_MIN {
                keyed.sort_unstable_by_key(|&(bucket, seq, _)| (bucket, seq));
            } else {
                keyed = bucket_sort(keyed, self.capacity as usize);
            }
            let names = keyed
                .into_iter()
                .map(|(_, _, e)| Listed {
                    name: e.key().into(),
                    node: e.node(),
                })
                .collect();
            Listing { names, freed }
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
    fn add(c: &mut JavaSet<NameEntry>, name: &str) -> bool {
        c.insert_sized(NameEntry::new(name), CHILDREN_CAPACITY)
    }

    #[test]
    fn order_matches_java_hashset() {
        // Observed on ZooKeeper 3.8.0: children of "/" after creating a, c, d, nope.
        let mut c = JavaSet::default();
        for n in ["zookeeper", "a", "c", "d", "nope"] {
            add(&mut c, n);
        }
        let names: Vec<&str> = c.java_order().iter().map(|n| &**n).collect();
        assert_eq!(names, ["a", "c", "zookeeper", "d", "nope"]);
    }

    #[test]
    fn table_grows_past_three_quarters_and_never_shrinks() {
        let mut c = JavaSet::default();
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
        let mut c = JavaSet::default();
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
            .map(|e| (java_hash(&e.name) & mask, e.seq, &*e.name))
            .collect();
        expected.sort_unstable();
        let expected: Vec<&str> = expected.into_iter().map(|(_, _, n)| n).collect();
        let names: Vec<&str> = c.java_order().iter().map(|n| &**n).collect();
        assert_eq!(names.len(), 2 * BUCKET_SORT_MIN);
        assert_eq!(names, expected);
        let shared = c.java_order_shared();
        let shared: Vec<&str> = shared.names.iter().map(|n| &**n).collect();
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
        let mut c = JavaSet::default();
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
