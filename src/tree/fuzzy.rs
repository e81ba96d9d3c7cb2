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

use super::acl_cache::OPEN_ACL_INDEX;
use super::{path, DataTree};
use crate::jute::records::Acl;
use crate::jute::{write_ustring, Record};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One level of the walk: a written node's path and the children it had when written.
struct Level {
    path: String,
    children: Arc<[Arc<str>]>,
    next: usize,
}

/// Bytes after which the node buffer starts a new chunk: growing one buffer
/// to a large tree's size moved the whole image at every doubling (a stall
/// of tens of ms on the core each time, late in the walk).
const CHUNK_BYTES: usize = 1 << 20;

/// An in-progress fuzzy serialization of a tree's nodes.
pub struct FuzzyNodes {
    /// The walk, root first.
    stack: Vec<Level>,
    /// Nodes written so far (path, data, acl index, StatPersisted each), in
    /// chunks of about [`CHUNK_BYTES`] (never empty).
    nodes: Vec<Vec<u8>>,
    /// Every ACL index named by a written node, with its list at that time.
    acls: BTreeMap<i64, Arc<[Acl]>>,
    /// Nodes written so far.
    count: u64,
}

impl FuzzyNodes {
    /// Starts a walk at the root (written at once, as path "").
    pub fn start(tree: &DataTree) -> FuzzyNodes {
        let mut walk = FuzzyNodes {
            stack: Vec::new(),
            nodes: vec![Vec::with_capacity(CHUNK_BYTES)],
            acls: BTreeMap::new(),
            count: 0,
        };
        walk.visit(tree, "/", "");
        walk
    }

    fn visit(&mut self, tree: &DataTree, path: &str, written_path: &str) {
        let Some(node) = tree.get(path) else { return };
        if self.nodes.last().is_some_and(|c| c.len() >= CHUNK_BYTES) {
            self.nodes.push(Vec::with_capacity(CHUNK_BYTES));
        }
        let chunk = self.nodes.last_mut().expect("never empty");
        super::serialize::write_node(chunk, written_path, node);
        if node.acl != OPEN_ACL_INDEX {
            self.acls
                .entry(node.acl)
                .or_insert_with(|| tree.acl_of(node).clone());
        }
        self.count += 1;
        let children = node.children.java_order_shared();
        if !children.is_empty() {
            self.stack.push(Level {
                path: path.to_owned(),
                children,
                next: 0,
            });
        }
    }

    /// Writes up to `budget` more nodes; true once every node has been reached.
    pub fn step(&mut self, tree: &DataTree, budget: usize) -> bool {
        let mut written = 0;
        while written < budget {
            let Some(level) = self.stack.last_mut() else {
                return true;
            };
            let Some(name) = level.children.get(level.next).cloned() else {
                self.stack.pop();
                continue;
            };
            level.next += 1;
            let child = path::join(&level.path, &name);
            self.visit(tree, &child, &child);
            written += 1;
        }
        self.stack.is_empty()
    }

    /// Nodes written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Appends the tree part of a snapshot: the captured ACL cache, the nodes
    /// and the terminator, in ZooKeeper's layout (see `serialize`).
    pub fn finish(self, out: &mut Vec<u8>) {
        for part in self.into_parts() {
            out.extend_from_slice(&part);
        }
    }

    /// The tree part of a snapshot as pieces to be written in order (the ACL
    /// cache, the nodes in chunks, the terminator), which
    /// [`finish`](Self::finish) would copy into one buffer.
    pub fn into_parts(self) -> Vec<Vec<u8>> {
        let mut acls = Vec::new();
        (self.acls.len() as i32).write(&mut acls);
        for (index, list) in &self.acls {
            index.write(&mut acls);
            (list.len() as i32).write(&mut acls);
            list.iter().for_each(|acl| acl.write(&mut acls));
        }
        let mut end = Vec::new();
        write_ustring(&mut end, Some(super::serialize::TERMINATOR));
        let mut parts = Vec::with_capacity(self.nodes.len() + 2);
        parts.push(acls);
        parts.extend(self.nodes);
        parts.push(end);
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::acl_cache::{open_acl_unsafe, read_acl_unsafe};

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
        let mut walk = FuzzyNodes::start(&tree);
        while !walk.step(&tree, 7) {}
        let mut fuzzy = Vec::new();
        walk.finish(&mut fuzzy);
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
        let mut walk = FuzzyNodes::start(&tree);
        while !walk.step(&tree, 4) {}
        let parts = walk.into_parts();
        assert!(parts.len() > 4, "3 MB of nodes in 1 MiB chunks");
        let mut exact = Vec::new();
        tree.write_snapshot_part(&mut exact);
        assert_eq!(parts.concat(), exact);
    }

    #[test]
    fn changes_during_the_walk_still_give_a_readable_snapshot() {
        let mut tree = DataTree::new(false);
        for i in 0..30 {
            create(&mut tree, &format!("/n{i}"), i + 1);
        }
        let mut walk = FuzzyNodes::start(&tree);
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
        while !walk.step(&tree, 3) {}
        let mut out = Vec::new();
        walk.finish(&mut out);
        let (read, rest) = DataTree::read_snapshot_part(&out, false).unwrap();
        assert!(rest.is_empty());
        // The 10 nodes written before the deletes, then the 15 survivors.
        assert_eq!(read.node_count(), 5 + 10 + 15);
    }
}
