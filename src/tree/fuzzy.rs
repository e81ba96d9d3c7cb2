//! A fuzzy snapshot of the node list, written a slice at a time between txns
//! (ZooKeeper takes its snapshots the same way, on a thread beside the
//! pipeline). Serializing a large tree in one go would stall every request
//! for as long as it takes; here the core writes a bounded number of nodes
//! per turn and keeps applying txns in between.
//!
//! The result is "fuzzy": each node is captured as it is when it is reached,
//! so the snapshot mixes states after its starting zxid. It is named after
//! the zxid at which it started, and recovery replays every logged txn after
//! that zxid over it; replay tolerates creates of nodes already present and
//! deletes of nodes already gone and only raises cversion/pzxid, which makes
//! the result exact (ZooKeeper's argument, `FileTxnSnapLog.restore`).
//!
//! Invariants the reader needs: a parent is written before its children
//! (pre-order walk; a child is only reached through its written parent), and
//! every ACL index a written node names is in the written ACL cache (each
//! index is captured with its list when the first node naming it is written,
//! so later releases of the index do not matter).
//!
//! A child is reached through the address its parent's child set keeps
//! ([`super::NodeRef`]) while no node has been freed since that list was
//! taken, and looked up by path otherwise: the walk never reads freed memory,
//! and in the usual case (no deletes during a walk) it does not pay a path
//! lookup per node (1,000,000 nodes: ~85 ms instead of ~510).
//!
//! A large child set is listed a shard at a time, each when the walk gets to
//! it ([`Children::part`](super::children::Children::part)): ordering a
//! 1,000,000-name set at once stalled the core for ~100 ms at every
//! snapshot. The file then holds such a set's names in an order a reader
//! turns into the same getChildren order.
//!
//! The ACL cache comes first in the file but is known last, so the nodes are
//! handed out in chunks as they fill ([`FuzzyNodes::take_full_chunks`], for
//! the server to spool to disk) and the walk ends with the ACL cache and what
//! is left ([`FuzzyNodes::finish`]).

use super::acl_cache::OPEN_ACL_INDEX;
use super::children::{Listed, Listing};
use super::{path, DataTree, Node};
use crate::jute::records::Acl;
use crate::jute::{write_ustring, Record};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

/// One level of the walk: a written node's path and the children it had when
/// written, all of them in Java order, or, for a large set, the part of them
/// listed last ([`Children::part`](super::children::Children::part)).
struct Level {
    path: String,
    children: Arc<[Listed]>,
    next: usize,
    /// For a set listed in parts, the part to list when `children` are
    /// written (from the parent as it is then: the walk is fuzzy).
    next_part: Option<usize>,
    /// [`nodes_freed`](super::nodes_freed) when `children` was listed: while
    /// it has not moved, every child listed is alive at its listed address,
    /// so the walk
    /// reads it there instead of looking it up (three or four cache misses
    /// in a row per node, most of a walk's time).
    freed: u64,
}

/// The size of a chunk of written nodes: a node that would not fit in what
/// is left of one starts the next. Growing one buffer to a large tree's
/// size moved the whole image at every doubling (a stall of tens of ms on
/// the core each time, late in the walk).
const CHUNK_BYTES: usize = 1 << 20;

/// Names of a large child set listed ([`Children::part`]) for the work of
/// writing one node, in a walk's budget.
///
/// [`Children::part`]: super::children::Children::part
const PART_NAMES_PER_NODE: usize = 8;

/// Spare chunks a [`ChunkPool`] keeps.
const POOL_MAX: usize = 4;

/// Emptied chunks, handed back by whoever took them from a walk (the
/// snapshot writer, once their bytes are spooled), for the next chunks of
/// this and later walks: a fresh chunk is fresh memory, whose pages the
/// kernel zeroes as the walk first writes them. Cloning shares the pool.
#[derive(Debug, Clone, Default)]
pub struct ChunkPool(Arc<Mutex<Vec<Vec<u8>>>>);

impl ChunkPool {
    /// An empty chunk of [`CHUNK_BYTES`] capacity, a spare one if any.
    fn take(&self) -> Vec<u8> {
        let spare = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        spare.unwrap_or_else(|| Vec::with_capacity(CHUNK_BYTES))
    }

    /// Gives back a chunk taken from a walk ([`FuzzyNodes::take_full_chunks`]):
    /// kept, emptied, while fewer than [`POOL_MAX`] are spare, unless an
    /// outsized node grew it.
    pub fn give(&self, mut chunk: Vec<u8>) {
        if chunk.capacity() != CHUNK_BYTES {
            return;
        }
        chunk.clear();
        let mut spare = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if spare.len() < POOL_MAX {
            spare.push(chunk);
        }
    }

    /// Spare chunks held.
    #[cfg(test)]
    pub(crate) fn spare(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// An in-progress fuzzy serialization of a tree's nodes.
pub struct FuzzyNodes {
    /// The walk, root first.
    stack: Vec<Level>,
    /// Full chunks of written nodes (path, data, acl index, StatPersisted
    /// each) not yet taken, in order.
    full: Vec<Vec<u8>>,
    /// The chunk being filled (up to [`CHUNK_BYTES`], unless one node is larger).
    filling: Vec<u8>,
    /// Where new chunks come from.
    pool: ChunkPool,
    /// Every ACL index named by a written node, with its list at that time.
    acls: BTreeMap<i64, Arc<[Acl]>>,
    /// Nodes written so far.
    count: u64,
}

/// The end of a walk: the tree part of the snapshot is `acls`, every chunk
/// taken during the walk in order, then `rest`.
pub struct FuzzyEnd {
    /// The ACL cache as the snapshot must hold it.
    pub acls: Vec<u8>,
    /// The nodes written since the last full chunk was taken, and the terminator.
    pub rest: Vec<u8>,
}

impl FuzzyNodes {
    /// Starts a walk at the root (written at once, as path ""), filling
    /// chunks taken from `pool`.
    pub fn start(tree: &DataTree, pool: &ChunkPool) -> FuzzyNodes {
        let mut walk = FuzzyNodes {
            stack: Vec::new(),
            full: Vec::new(),
            filling: pool.take(),
            pool: pool.clone(),
            acls: BTreeMap::new(),
            count: 0,
        };
        if let Some(root) = tree.get("/") {
            walk.visit(tree, root, "/", "");
        }
        walk
    }

    fn visit(&mut self, tree: &DataTree, node: &Node, path: &str, written_path: &str) {
        let bytes = super::serialize::node_bytes(written_path, node);
        if self.filling.len() + bytes > CHUNK_BYTES && !self.filling.is_empty() {
            let full = std::mem::replace(&mut self.filling, self.pool.take());
            self.full.push(full);
        }
        super::serialize::write_node(&mut self.filling, written_path, node);
        if node.acl() != OPEN_ACL_INDEX {
            self.acls
                .entry(node.acl())
                .or_insert_with(|| tree.acl_of(node).clone());
        }
        self.count += 1;
        let (listing, next_part) = if node.children().parts() > 1 {
            (node.children().part(0), Some(1))
        } else {
            (node.children().java_order_shared(), None)
        };
        if !listing.names.is_empty() || next_part.is_some() {
            let Listing { names, freed } = listing;
            self.stack.push(Level {
                path: path.to_owned(),
                children: names,
                next: 0,
                next_part,
                freed,
            });
        }
    }

    /// Writes up to `budget` more nodes (listing a part of a large child set
    /// counts as writing one node per [`PART_NAMES_PER_NODE`] names); true
    /// once every node has been reached.
    pub fn step(&mut self, tree: &DataTree, budget: usize) -> bool {
        let mut written = 0;
        let mut child = String::new();
        while written < budget {
            let Some(level) = self.stack.last_mut() else {
                return true;
            };
            let Some(listed) = level.children.get(level.next) else {
                let parent = level.next_part.and_then(|part| {
                    tree.get(&level.path)
                        .filter(|p| part < p.children().parts())
                        .map(|p| (part, p))
                });
                match parent {
                    Some((part, parent)) => {
                        let listing = parent.children().part(part);
                        level.children = listing.names;
                        level.next = 0;
                        level.next_part = Some(part + 1);
                        level.freed = listing.freed;
                        written += level.children.len() / PART_NAMES_PER_NODE;
                    }
                    None => {
                        self.stack.pop();
                    }
                }
                continue;
            };
            level.next += 1;
            child.clear();
            path::join_into(&mut child, &level.path, listed);
            let node = match listed.node {
                // SAFETY: the child was alive when its parent's list was
                // taken, no node has been freed since, and `tree` is
                // borrowed for this whole step.
                Some(node) if super::nodes_freed() == level.freed => {
                    Some(unsafe { node.get(tree) })
                }
                _ => tree.get(&child),
            };
            debug_assert!(
                node.map(Node::addr) == tree.get(&child).map(Node::addr),
                "a listed child is the node at its path"
            );
            if let Some(node) = node {
                self.visit(tree, node, &child, &child);
            }
            written += 1;
        }
        self.stack.is_empty()
    }

    /// Nodes written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Takes the chunks of written nodes that are full (up to 1 MiB each),
    /// oldest first; they are not kept (give them back to the pool once
    /// their bytes are stored).
    pub fn take_full_chunks(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.full)
    }

    /// Ends the walk: the captured ACL cache, and the nodes not yet taken
    /// followed by the terminator (see [`FuzzyEnd`] for the order).
    pub fn finish(mut self) -> FuzzyEnd {
        let mut acls = Vec::new();
        (self.acls.len() as i32).write(&mut acls);
        for (index, list) in &self.acls {
            index.write(&mut acls);
            (list.len() as i32).write(&mut acls);
            list.iter().for_each(|acl| acl.write(&mut acls));
        }
        let mut rest: Vec<u8> = self.full.concat();
        rest.append(&mut self.filling);
        write_ustring(&mut rest, Some(super::serialize::TERMINATOR));
        FuzzyEnd { acls, rest }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::acl_cache::{open_acl_unsafe, read_acl_unsafe};

    /// Walks to the end in steps of `budget`, taking full chunks after each
    /// step as the server does; the whole tree part, and the chunks taken as
    /// (length, capacity).
    fn walk_all(
        tree: &DataTree,
        mut walk: FuzzyNodes,
        budget: usize,
    ) -> (Vec<u8>, Vec<(usize, usize)>) {
        let mut taken = Vec::new();
        let mut done = false;
        while !done {
            done = walk.step(tree, budget);
            taken.extend(walk.take_full_chunks());
        }
        let chunks = taken.iter().map(|c| (c.len(), c.capacity())).collect();
        let end = walk.finish();
        let part = [end.acls, taken.concat(), end.rest].concat();
        (part, chunks)
    }

    fn create(tree: &mut DataTree, path: &str, zxid: i64) {
        tree.create_node(
            path,
            Some(b"d"),
            &read_acl_unsafe(),
            0,
            -1,
            zxid,
            0,
            &mut Vec::new(),
        )
        .unwrap();
    }

    #[test]
    fn an_untouched_tree_serializes_as_the_one_shot_writer_does() {
        let mut tree = DataTree::new(false);
        for i in 0..50 {
            create(&mut tree, &format!("/n{i}"), i + 1);
            create(&mut tree, &format!("/n{i}/c"), 100 + i);
        }
        let (fuzzy, _) = walk_all(&tree, FuzzyNodes::start(&tree, &ChunkPool::default()), 7);
        let mut exact = Vec::new();
        tree.write_snapshot_part(&mut exact);
        assert_eq!(fuzzy, exact);
    }

    #[test]
    fn a_tree_larger_than_a_chunk_is_cut_into_chunks_of_the_same_bytes() {
        let mut tree = DataTree::new(false);
        let data = vec![7u8; 100_000];
        for i in 0..30 {
            tree.create_node(
                &format!("/big{i}"),
                Some(&data),
                &open_acl_unsafe(),
                0,
                -1,
                i + 1,
                0,
                &mut Vec::new(),
            )
            .unwrap();
        }
        let (part, chunks) = walk_all(&tree, FuzzyNodes::start(&tree, &ChunkPool::default()), 4);
        assert!(
            chunks.len() >= 2,
            "3 MB of nodes in 1 MiB chunks, taken as they fill"
        );
        for (len, capacity) in chunks {
            assert!(len > CHUNK_BYTES - 100_200 && len <= CHUNK_BYTES, "{len}");
            assert_eq!(capacity, CHUNK_BYTES, "no node overflowed its chunk");
        }
        let mut exact = Vec::new();
        tree.write_snapshot_part(&mut exact);
        assert_eq!(part, exact);
    }

    #[test]
    fn nodes_changed_or_added_before_their_visit_are_written_as_they_are_then() {
        let mut tree = DataTree::new(false);
        for i in 0..40 {
            create(&mut tree, &format!("/n{i}"), i + 1);
        }
        // No node is freed here, so every child is reached through its
        // address (the walk's debug check compares each with a path lookup).
        let mut walk = FuzzyNodes::start(&tree, &ChunkPool::default());
        walk.step(&tree, 3);
        for i in 0..40 {
            tree.set_data(
                &format!("/n{i}"),
                Some(b"new"),
                -1,
                100 + i,
                0,
                &mut Vec::new(),
            )
            .unwrap();
        }
        create(&mut tree, "/late", 200);
        let (out, _) = walk_all(&tree, walk, 5);
        let (read, _) = DataTree::read_snapshot_part(&out, false).unwrap();
        let new_data = (0..40)
            .filter(|i| read.get(&format!("/n{i}")).unwrap().data() == Some(b"new"))
            .count();
        // The children listed when the root was written: those not yet
        // visited when their data changed carry the new data.
        assert!(new_data >= 40 - 4, "{new_data}");
        assert!(
            read.get("/late").is_none(),
            "created after its parent was listed"
        );
    }

    #[test]
    fn changes_during_the_walk_still_give_a_readable_snapshot() {
        let mut tree = DataTree::new(false);
        for i in 0..30 {
            create(&mut tree, &format!("/n{i}"), i + 1);
        }
        let mut walk = FuzzyNodes::start(&tree, &ChunkPool::default());
        walk.step(&tree, 10);
        for i in 0..15 {
            tree.delete_node(&format!("/n{i}"), 100 + i, &mut Vec::new())
                .unwrap();
        }
        tree.create_node(
            "/late",
            None,
            &open_acl_unsafe(),
            0,
            -1,
            200,
            0,
            &mut Vec::new(),
        )
        .unwrap();
        let (out, _) = walk_all(&tree, walk, 3);
        let (read, rest) = DataTree::read_snapshot_part(&out, false).unwrap();
        assert!(rest.is_empty());
        // The 10 nodes written before the deletes, then the 15 survivors.
        assert_eq!(read.node_count(), 5 + 10 + 15);
    }

    #[test]
    fn a_large_child_set_walked_in_parts_reloads_in_the_same_java_order() {
        let mut tree = DataTree::new(false);
        create(&mut tree, "/p", 1);
        let names: Vec<String> = (0..40_000).map(|i| format!("c-{i:010}")).collect();
        // Several children per zxid (as a multi makes them), then deletes
        // and re-creates, so insertion order is neither name nor zxid order.
        for (i, name) in names.iter().enumerate() {
            create(&mut tree, &format!("/p/{name}"), 2 + i as i64 / 10);
        }
        for name in names.iter().step_by(7) {
            tree.delete_node(&format!("/p/{name}"), 10_000, &mut Vec::new())
                .unwrap();
        }
        for name in names.iter().step_by(14) {
            create(&mut tree, &format!("/p/{name}"), 10_001);
        }
        create(&mut tree, "/p/c-0000000003/deep", 10_002);
        let parts = tree.get("/p").unwrap().children().parts();
        assert!(parts > 1, "listed in parts");
        let (part, _) = walk_all(&tree, FuzzyNodes::start(&tree, &ChunkPool::default()), 1000);
        let mut whole = Vec::new();
        tree.write_snapshot_part(&mut whole);
        assert_ne!(part, whole, "not in Java order in the file");
        assert_eq!(part.len(), whole.len());
        let (read, rest) = DataTree::read_snapshot_part(&part, false).unwrap();
        assert!(rest.is_empty());
        crate::tree::tests::assert_same_listing(&read, &tree, &["/", "/p", "/p/c-0000000003"]);
    }

    #[test]
    fn a_large_child_set_changed_between_parts_gives_a_readable_snapshot() {
        let mut tree = DataTree::new(false);
        create(&mut tree, "/p", 1);
        for i in 0..20_000 {
            create(&mut tree, &format!("/p/c{i}"), 2 + i);
        }
        let mut walk = FuzzyNodes::start(&tree, &ChunkPool::default());
        walk.step(&tree, 500);
        for i in 0..20_000 {
            tree.delete_node(&format!("/p/c{i}"), 30_000 + i, &mut Vec::new())
                .unwrap();
        }
        for i in 0..100 {
            create(&mut tree, &format!("/p/late{i}"), 60_000 + i);
        }
        let (out, _) = walk_all(&tree, walk, 500);
        let (read, rest) = DataTree::read_snapshot_part(&out, false).unwrap();
        assert!(rest.is_empty());
        // Those written before the deletes, then the late ones the parts
        // listed after them (the set shrank below listing in parts, so the
        // rest of it is left to the log's replay, as for any fuzzy walk).
        let n = read.get("/p").unwrap().children().len();
        assert!(n < 20_000, "{n}");
    }
}
