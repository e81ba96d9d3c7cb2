//! Puts the nodes a snapshot lists, in pre-order, into a tree, adding each
//! parent's children to its child set all at once.
//!
//! Inserting children one by one grows a large parent's tables by doubling
//! (a 1,000,000-child parent moved ~2,000,000 entries while loading, a tenth
//! of the load) and looks the parent up in the path table once per child.
//! In pre-order a node's subtree comes right after it, so the loader keeps
//! the chain of nodes whose subtree is still being read, gathers each one's
//! children, and adds them when its subtree ends, into tables sized for them
//! first (65,536 children or more on two threads, each filling half of the
//! tables' shards). A node whose parent is not on that chain (not in a file
//! Paddock or ZooKeeper writes, but one where every parent still precedes
//! its children) is added to its parent directly.

use super::{path, DataTree, NodeBox, NodeRef};
use crate::jute::DecodeError;

const DUPLICATE: DecodeError = DecodeError::Invalid("snapshot holds a path twice");

/// The chain of nodes whose subtree is being read, with their children so far.
#[derive(Debug, Default)]
pub(super) struct Loader {
    /// The path of the deepest open node; every open node's path is a prefix.
    chain: String,
    /// Open nodes, root-most first.
    open: Vec<Open>,
    /// Emptied levels kept for their buffers.
    spare: Vec<Open>,
}

/// A node whose subtree is being read.
#[derive(Debug, Default)]
struct Open {
    /// Its path's length (its path is `chain[..path_len]`).
    path_len: usize,
    /// Its children's names, one after another.
    names: String,
    /// Where each child's name ends in `names`, and its node.
    children: Vec<(usize, NodeRef)>,
}

impl Loader {
    /// Puts the root under "/" (the snapshot writes its path as "").
    pub(super) fn add_root(
        &mut self,
        tree: &mut DataTree,
        node: NodeBox,
    ) -> Result<(), DecodeError> {
        self.close_all(tree)?;
        if tree.nodes.insert("/".into(), node).is_some() {
            return Err(DUPLICATE);
        }
        self.open_node("/");
        Ok(())
    }

    /// Puts `node` at `path` (not the root) under its parent, which must
    /// have been added already.
    pub(super) fn add(
        &mut self,
        tree: &mut DataTree,
        path: String,
        node: NodeBox,
    ) -> Result<(), DecodeError> {
        let (parent, name) = path::split(&path).ok_or(DecodeError::Invalid("bad node path"))?;
        while let Some(top) = self.open.last() {
            if &self.chain[..top.path_len] == parent {
                break;
            }
            self.close(tree)?;
        }
        match self.open.last_mut() {
            Some(top) => {
                top.names.push_str(name);
                top.children.push((top.names.len(), NodeRef::of(&node)));
            }
            None => {
                let parent = tree
                    .nodes
                    .get_mut(parent)
                    .ok_or(DecodeError::Invalid("node read before its parent"))?;
                if !parent.children.insert(name, NodeRef::of(&node)) {
                    return Err(DUPLICATE);
                }
            }
        }
        self.open_node(&path);
        if tree.nodes.insert(path.into_boxed_str(), node).is_some() {
            return Err(DUPLICATE);
        }
        Ok(())
    }

    /// Adds the children still gathered; the tree is then complete.
    pub(super) fn finish(mut self, tree: &mut DataTree) -> Result<(), DecodeError> {
        self.close_all(tree)
    }

    /// Makes `path` (a child of the deepest open node, or any path when
    /// none is open) the deepest open node.
    fn open_node(&mut self, path: &str) {
        self.chain.clear();
        self.chain.push_str(path);
        let mut open = self.spare.pop().unwrap_or_default();
        open.path_len = path.len();
        self.open.push(open);
    }

    fn close_all(&mut self, tree: &mut DataTree) -> Result<(), DecodeError> {
        while !self.open.is_empty() {
            self.close(tree)?;
        }
        Ok(())
    }

    /// Ends the deepest open node's subtree: adds its children to it.
    fn close(&mut self, tree: &mut DataTree) -> Result<(), DecodeError> {
        let mut open = self.open.pop().expect("a node is open");
        if !open.children.is_empty() {
            let node = tree
                .nodes
                .get_mut(&self.chain[..open.path_len])
                .expect("an open node is in the path table");
            let (names, children) = (open.names.as_str(), &open.children);
            let start = |i: usize| if i == 0 { 0 } else { children[i - 1].0 };
            let added = node.children.insert_many(
                children.len(),
                |i| &names[start(i)..children[i].0],
                |i| children[i].1,
            );
            if !added {
                return Err(DUPLICATE);
            }
            open.names.clear();
            open.children.clear();
        }
        self.spare.push(open);
        Ok(())
    }
}
