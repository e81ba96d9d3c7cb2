//! Puts the nodes a snapshot lists, in pre-order, into a tree, adding each
//! parent's children to its child set all at once.
//!
//! Inserting children one by one grows a large parent's tables by doubling
//! (a 1,000,000-child parent moved ~2,000,000 entries while loading, a tenth
//! of the load) and looks the parent up once per child.
//! In pre-order a node's subtree comes right after it, so the loader keeps
//! the chain of nodes whose subtree is still being read, gathers each one's
//! children, and adds them when its subtree ends, into tables sized for them
//! first (65,536 children or more on two threads, each filling half of the
//! tables' shards). A node whose parent is not on that chain (not in a file
//! Paddock or ZooKeeper writes, but one where every parent still precedes
//! its children) is added to its parent directly.

use super::node::{NodeBox, NodeRef};
use super::{path, DataTree};
use crate::jute::DecodeError;

const DUPLICATE: DecodeError = DecodeError::Invalid("snapshot holds a path twice");

/// The chain of nodes whose subtree is being read, with their children so far
/// (owned by the loader until they are added: dropping it frees those).
#[derive(Debug, Default)]
pub(super) struct Loader {
    /// Whether the root was read.
    root_read: bool,
    /// The path of the deepest open node; every open node's path is a prefix.
    chain: String,
    /// Open nodes, root-most first.
    open: Vec<Open>,
    /// Emptied levels kept for their buffers.
    spare: Vec<Open>,
}

/// A node whose subtree is being read.
#[derive(Debug)]
struct Open {
    /// The node, in the tree or among its parent's gathered children.
    node: NodeRef,
    /// Its path's length (its path is `chain[..path_len]`).
    path_len: usize,
    /// Its children so far, in the order read.
    children: Vec<NodeBox>,
}

impl Loader {
    /// Makes `node` the root of `tree`, which must have no other node (the
    /// snapshot writes the root's path as "").
    pub(super) fn add_root(
        &mut self,
        tree: &mut DataTree,
        node: NodeBox,
    ) -> Result<(), DecodeError> {
        self.close_all(tree)?;
        if self.root_read {
            return Err(DUPLICATE);
        }
        self.root_read = true;
        // The tree's own root (no children) goes.
        tree.root = node;
        self.open_node("/", NodeRef::of(&tree.root));
        Ok(())
    }

    /// Whether the root was read.
    pub(super) fn root_read(&self) -> bool {
        self.root_read
    }

    /// Puts `node` at `path` (not the root) under its parent, which must
    /// have been added already.
    pub(super) fn add(
        &mut self,
        tree: &mut DataTree,
        path: String,
        node: NodeBox,
    ) -> Result<(), DecodeError> {
        let (parent, _) = path::split(&path).ok_or(DecodeError::Invalid("bad node path"))?;
        while let Some(top) = self.open.last() {
            if &self.chain[..top.path_len] == parent {
                break;
            }
            self.close(tree)?;
        }
        let node_ref = NodeRef::of(&node);
        match self.open.last_mut() {
            Some(top) => top.children.push(node),
            None => {
                let added = tree
                    .get_mut(parent)
                    .filter(|_| self.root_read)
                    .map(|parent| parent.children_mut().insert(node));
                if added != Some(true) {
                    return Err(match added {
                        None => DecodeError::Invalid("node read before its parent"),
                        Some(_) => DUPLICATE,
                    });
                }
            }
        }
        tree.count += 1;
        self.open_node(&path, node_ref);
        Ok(())
    }

    /// Adds the children still gathered; the tree is then complete.
    pub(super) fn finish(mut self, tree: &mut DataTree) -> Result<(), DecodeError> {
        self.close_all(tree)
    }

    /// Makes `node` at `path` (a child of the deepest open node, or any
    /// node when none is open) the deepest open node.
    fn open_node(&mut self, path: &str, node: NodeRef) {
        self.chain.clear();
        self.chain.push_str(path);
        let open = match self.spare.pop() {
            Some(mut open) => {
                open.node = node;
                open.path_len = path.len();
                open
            }
            None => Open {
                node,
                path_len: path.len(),
                children: Vec::new(),
            },
        };
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
            // SAFETY: an open node is the tree's root or a node gathered
            // for its parent, which the loader holds until the parent
            // closes: alive, unmoved (nothing changes a node while it
            // loads), and reached only through the loader and the tree,
            // both borrowed mutably here.
            let children = unsafe { open.node.children_mut(tree) };
            if !children.insert_many(std::mem::take(&mut open.children)) {
                // A name twice: the load fails, the tree goes with the rest.
                return Err(DUPLICATE);
            }
        }
        self.spare.push(open);
        Ok(())
    }
}
