//! The in-memory data tree (ZooKeeper's DataTree): nodes found by path, their
//! persisted Stat, shared ACLs, and the indexes of ephemeral, container and
//! TTL nodes.
//!
//! The tree only changes through `txn::apply`, which calls the mutators here with
//! values that `txn::prep` already validated; a mutator that finds the tree in a
//! state prep ruled out returns an error code instead of panicking, as
//! ZooKeeper's DataTree throws, so a replayed txn is harmless.

pub mod acl_cache;
pub mod children;
pub mod data;
pub mod ephemerals;
pub mod fuzzy;
mod load;
pub mod name;
pub mod path;
pub mod path_hash;
pub mod prefault;
pub mod quota;
mod serialize;
pub mod sharded;

use crate::jute::records::{Acl, Stat, StatPersisted};
use crate::proto::ErrorCode;
use acl_cache::{read_acl_unsafe, AclCache, OPEN_ACL_INDEX};
use children::{Children, Listed};
use data::NodeData;
use ephemerals::EphemeralSet;
use std::collections::{BTreeSet, HashMap};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `ephemeralOwner` of a container node (`Long.MIN_VALUE`).
pub const CONTAINER_EPHEMERAL_OWNER: i64 = i64::MIN;
/// Top byte of `ephemeralOwner` marking an extended type (TTL).
const EXTENDED_MASK: i64 = 0xff00_0000_0000_0000_u64 as i64;
/// Largest TTL in ms: the low 40 bits of `ephemeralOwner`.
pub const MAX_TTL_MS: i64 = (1 << 40) - 1;

/// What kind of node an `ephemeralOwner` value marks (ZooKeeper's EphemeralType).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EphemeralType {
    /// 0: an ordinary persistent node.
    Void,
    /// A session id: an ephemeral node.
    Normal,
    /// `Long.MIN_VALUE`: a container.
    Container,
    /// 0xFF top byte (extended types enabled): a TTL node with this TTL in ms.
    Ttl(i64),
}

impl EphemeralType {
    /// Classifies `owner`; TTL encodings count only when extended types are enabled.
    pub fn of(owner: i64, extended_types: bool) -> EphemeralType {
        match owner {
            0 => EphemeralType::Void,
            CONTAINER_EPHEMERAL_OWNER => EphemeralType::Container,
            o if extended_types && o & EXTENDED_MASK == EXTENDED_MASK => {
                EphemeralType::Ttl(o & MAX_TTL_MS)
            }
            _ => EphemeralType::Normal,
        }
    }

    /// The `ephemeralOwner` encoding of a TTL (feature bits 40..56 are 0 = TTL).
    pub fn ttl_owner(ttl_ms: i64) -> i64 {
        EXTENDED_MASK | ttl_ms
    }
}

/// Nodes freed so far, in every tree of the process (see [`NodeRef`]).
static NODES_FREED: AtomicU64 = AtomicU64::new(0);

/// How many nodes have been freed so far. While it has not moved, every
/// [`NodeRef`] taken from a node alive when it was read is still valid.
pub fn nodes_freed() -> u64 {
    NODES_FREED.load(Ordering::Relaxed)
}

/// The address of a node (each node is allocated on its own, [`NodeBox`],
/// so it keeps its address), held by its parent's child set, which owns the
/// node through it: the tree frees a node only when it takes it out of its
/// parent's set (a delete) or when the tree itself is dropped.
///
/// A node is only freed by dropping it, which counts in [`nodes_freed`], so
/// a `NodeRef` read while its node was alive may be dereferenced as long as
/// that count has not moved since ([`NodeRef::get`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef(NonNull<Node>);

// SAFETY: a NodeRef is only an address until `get`, whose caller holds the
// tree (shared) and has checked that no node was freed: the node is then
// alive and not being changed.
unsafe impl Send for NodeRef {}
// SAFETY: as for Send.
unsafe impl Sync for NodeRef {}

impl NodeRef {
    /// The address of the node `node` holds.
    fn of(node: &NodeBox) -> NodeRef {
        NodeRef(node.0)
    }

    /// The node.
    ///
    /// # Safety
    /// The node was alive when this `NodeRef` was read from its parent's
    /// child set, [`nodes_freed`] is the value it had then, and `tree` is the
    /// tree holding the node (borrowed, so nothing changes it meanwhile).
    pub unsafe fn get(self, tree: &DataTree) -> &Node {
        let _ = tree;
        // SAFETY: the node has not been freed (the caller's contract), and
        // the shared borrow of its tree keeps it from being changed.
        unsafe { self.0.as_ref() }
    }

    /// The node, mutable.
    ///
    /// # Safety
    /// The node is alive and reached only through `tree`, borrowed mutably
    /// (a node of the tree, or one the snapshot loader holds for it).
    unsafe fn get_mut(mut self, tree: &mut DataTree) -> &mut Node {
        let _ = tree;
        // SAFETY: the node is alive and the tree's mutable borrow makes the
        // access unique (the caller's contract).
        unsafe { self.0.as_mut() }
    }
}

/// A node's own allocation: a `Box` that moving does not reassert, and that
/// can be handed to a child set as a [`NodeRef`] (`into_ref`) and taken back
/// (`from_ref`). Moving a `Box` claims unique access to what it points to,
/// which would void the [`NodeRef`]s taken from it; this owner is only an
/// address until it is dereferenced, so they stay valid until the node is
/// dropped.
#[derive(Debug)]
struct NodeBox(NonNull<Node>);

// SAFETY: a NodeBox owns its Node as a Box would, and Node is Send and Sync.
unsafe impl Send for NodeBox {}
// SAFETY: as for Send.
unsafe impl Sync for NodeBox {}

impl NodeBox {
    /// Moves `node` into an allocation of its own.
    fn new(node: Node) -> NodeBox {
        NodeBox(NonNull::from(Box::leak(Box::new(node))))
    }

    /// Gives up the node to the owner of the returned address (a child set).
    fn into_ref(self) -> NodeRef {
        let node = NodeRef(self.0);
        std::mem::forget(self);
        node
    }

    /// The node, out of its allocation.
    fn into_inner(self) -> Node {
        // SAFETY: the allocation is this NodeBox's, from Box::leak in `new`,
        // and `self` is forgotten below so it is not freed twice.
        let node = unsafe { Box::from_raw(self.0.as_ptr()) };
        std::mem::forget(self);
        *node
    }

    /// Takes back a node given up by [`into_ref`](Self::into_ref).
    ///
    /// # Safety
    /// `node` came from `into_ref` and is taken back once: its owner (a child
    /// set) no longer holds it.
    unsafe fn from_ref(node: NodeRef) -> NodeBox {
        NodeBox(node.0)
    }
}

impl std::ops::Deref for NodeBox {
    type Target = Node;

    fn deref(&self) -> &Node {
        // SAFETY: the allocation is this NodeBox's until it drops.
        unsafe { self.0.as_ref() }
    }
}

impl std::ops::DerefMut for NodeBox {
    fn deref_mut(&mut self) -> &mut Node {
        // SAFETY: as for deref, and `&mut self` makes the access unique.
        unsafe { self.0.as_mut() }
    }
}

impl Drop for NodeBox {
    /// Drops the node (counting it in [`nodes_freed`]) and frees it.
    fn drop(&mut self) {
        // SAFETY: the pointer came from Box::leak in `new` and is dropped once.
        drop(unsafe { Box::from_raw(self.0.as_ptr()) });
    }
}

/// One znode. Its children are stored by name, each owned by this node's
/// child set; a node's path is the names on the way down from the root.
#[derive(Debug)]
pub struct Node {
    /// The data; null when a client created it with null data (returned as length −1).
    pub data: NodeData,
    /// Index into the tree's [`AclCache`].
    pub acl: i64,
    /// The persisted Stat (cversion counts child creations only).
    pub stat: StatPersisted,
    /// Names of the children (getChildren answers in ZooKeeper's order).
    pub children: Children,
}

impl Node {
    fn new(data: NodeData, acl: i64, stat: StatPersisted) -> Node {
        Node {
            data,
            acl,
            stat,
            children: Children::default(),
        }
    }

    /// Child `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        let node = self.children.get(name)?;
        // SAFETY: the child set owns the node (see NodeRef); borrowing this
        // node borrows it.
        Some(unsafe { node.0.as_ref() })
    }

    /// Child `name`, mutable.
    fn child_mut(&mut self, name: &str) -> Option<&mut Node> {
        let mut node = self.children.get(name)?;
        // SAFETY: as for `child`; the mutable borrow of this node makes the
        // access unique.
        Some(unsafe { node.0.as_mut() })
    }

    /// The Stat clients see: derived counts filled in, client-visible cversion
    /// (creations + deletions = 2 × persisted − children), and ephemeralOwner
    /// shown only for real ephemerals.
    pub fn client_stat(&self, extended_types: bool) -> Stat {
        let s = &self.stat;
        let num_children = self.children.len() as i32;
        let owner = match EphemeralType::of(s.ephemeral_owner, extended_types) {
            EphemeralType::Normal => s.ephemeral_owner,
            _ => 0,
        };
        Stat {
            czxid: s.czxid,
            mzxid: s.mzxid,
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion.wrapping_mul(2).wrapping_sub(num_children),
            aversion: s.aversion,
            ephemeral_owner: owner,
            data_length: self.data.len() as i32,
            num_children,
            pzxid: s.pzxid,
        }
    }
}

impl Drop for Node {
    /// Counts the node in [`nodes_freed`], invalidating every [`NodeRef`].
    fn drop(&mut self) {
        NODES_FREED.fetch_add(1, Ordering::Relaxed);
    }
}

/// ZooKeeper's parent update on a child create: the persisted cversion becomes
/// `parent_cversion` (−1: one above the current) and pzxid `zxid`, but only if
/// that raises the cversion, so a replayed create never lowers either.
fn raise_cversion(parent: &mut StatPersisted, parent_cversion: i32, zxid: i64) {
    let cversion = if parent_cversion == -1 {
        parent.cversion + 1
    } else {
        parent_cversion
    };
    if cversion > parent.cversion {
        parent.cversion = cversion;
        parent.pzxid = zxid;
    }
}

/// A change the tree made, for the watch manager (in the order made), with
/// the ACLs that decide who may hear of it: ZooKeeper (3.8.4 and later, and
/// Debian's 3.8.0 with the CVE-2024-23944 fix) delivers a watch event only to
/// sessions that may READ the node it names, or for NodeChildrenChanged its
/// parent, as the ACLs stood when the change was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeEvent {
    /// A node was created.
    Created {
        /// The new node.
        path: Arc<str>,
        /// Its ACL.
        acl: Arc<[Acl]>,
        /// Its parent's ACL.
        parent_acl: Arc<[Acl]>,
    },
    /// A node was deleted.
    Deleted {
        /// The node that went.
        path: Arc<str>,
        /// Its ACL.
        acl: Arc<[Acl]>,
        /// Its parent's ACL.
        parent_acl: Arc<[Acl]>,
    },
    /// A node's data was set.
    DataChanged {
        /// The node.
        path: Arc<str>,
        /// Its ACL.
        acl: Arc<[Acl]>,
    },
}

/// Paths that always exist and may not be deleted.
pub const ZOOKEEPER_PATH: &str = "/zookeeper";
/// Parent of quota nodes.
pub const QUOTA_PATH: &str = "/zookeeper/quota";
/// The dynamic configuration node.
pub const CONFIG_PATH: &str = "/zookeeper/config";

/// The data tree.
#[derive(Debug)]
pub struct DataTree {
    /// The root, "/". Every other node is owned by its parent's child set
    /// and found by walking down from here, one name at a time: there is no
    /// table of every path (at 1,000,000 znodes it held ~65 MiB of entries
    /// and path strings, a sixth of the server's memory).
    root: NodeBox,
    /// Nodes in the tree, the root included.
    count: usize,
    /// Shared ACL lists.
    acls: AclCache,
    /// Ephemeral paths by owning session, each set ordered as ZooKeeper's.
    ephemerals: HashMap<i64, EphemeralSet>,
    /// Container nodes, for the reaper.
    containers: BTreeSet<Box<str>>,
    /// TTL nodes, for the reaper.
    ttls: BTreeSet<Box<str>>,
    /// The zxid of the last txn applied.
    last_processed_zxid: i64,
    /// Whether TTL encodings in ephemeralOwner are recognised.
    extended_types: bool,
    /// Sum of path and data lengths (ZooKeeper's approximateDataSize).
    approximate_data_size: u64,
}

impl DataTree {
    /// A tree holding only "/", "/zookeeper", "/zookeeper/quota" and "/zookeeper/config",
    /// with zero Stats as in ZooKeeper.
    pub fn new(extended_types: bool) -> DataTree {
        let empty = || NodeData::new(Some(&[]));
        let mut tree = DataTree {
            root: NodeBox::new(Node::new(empty(), OPEN_ACL_INDEX, StatPersisted::default())),
            count: 1,
            acls: AclCache::default(),
            ephemerals: HashMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            last_processed_zxid: 0,
            extended_types,
            approximate_data_size: 0,
        };
        tree.attach(
            "/",
            "zookeeper",
            Node::new(empty(), OPEN_ACL_INDEX, StatPersisted::default()),
        );
        tree.attach(
            ZOOKEEPER_PATH,
            "quota",
            Node::new(empty(), OPEN_ACL_INDEX, StatPersisted::default()),
        );
        let config_acl = tree.acls.intern(&read_acl_unsafe());
        // ZooKeeper 3.8 shows aversion −1 on a standalone server's /zookeeper/config.
        let config_stat = StatPersisted {
            aversion: -1,
            ..Default::default()
        };
        tree.attach(
            ZOOKEEPER_PATH,
            "config",
            Node::new(empty(), config_acl, config_stat),
        );
        tree
    }

    fn attach(&mut self, parent: &str, name: &str, node: Node) {
        let path = path::join(parent, name);
        self.approximate_data_size += (path.len() + node.data.len()) as u64;
        let node = NodeBox::new(node).into_ref();
        let added = self
            .get_mut(parent)
            .expect("parent exists")
            .children
            .insert(name, node);
        assert!(added, "a new tree's nodes are attached once");
        self.count += 1;
    }

    /// Whether TTL encodings are recognised (zookeeper.extendedTypesEnabled).
    pub fn extended_types(&self) -> bool {
        self.extended_types
    }

    /// The node at `path`.
    pub fn get(&self, path: &str) -> Option<&Node> {
        let mut node: &Node = &self.root;
        for name in path::components(path)? {
            node = node.child(name)?;
        }
        Some(node)
    }

    /// The node at `path`, mutable.
    fn get_mut(&mut self, path: &str) -> Option<&mut Node> {
        descend_mut(&mut self.root, path)
    }

    /// Calls `visit` with the path and node of `top` and of every node below
    /// it, parents before their children; false, calling nothing, when `top`
    /// does not exist. (An explicit stack: a path may be ~1 MB deep.)
    pub(crate) fn visit_subtree(&self, top: &str, mut visit: impl FnMut(&str, &Node)) -> bool {
        let Some(node) = self.get(top) else {
            return false;
        };
        let mut path = top.to_owned();
        visit(&path, node);
        let mut stack = vec![(node.children.iter_nodes(), path.len())];
        while let Some((children, parent_len)) = stack.last_mut() {
            let Some((name, child)) = children.next() else {
                stack.pop();
                continue;
            };
            path.truncate(*parent_len);
            if path != "/" {
                path.push('/');
            }
            path.push_str(name);
            // SAFETY: the child set of a node of this (borrowed) tree owns it.
            let child = unsafe { child.get(self) };
            visit(&path, child);
            stack.push((child.children.iter_nodes(), path.len()));
        }
        true
    }

    /// The client-visible Stat of the node at `path`.
    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.get(path).map(|n| n.client_stat(self.extended_types))
    }

    /// The ACL list of `node`.
    pub fn acl_of(&self, node: &Node) -> &Arc<[Acl]> {
        self.acls.get(node.acl)
    }

    /// Number of nodes as ZooKeeper counts them (its map holds the root twice, as "" and "/").
    pub fn node_count(&self) -> usize {
        self.count + 1
    }

    /// Number of descendants of `path` (all levels); `None` if it does not exist.
    pub fn all_children_number(&self, path: &str) -> Option<usize> {
        if path == "/" {
            return Some(self.count - 1);
        }
        let mut count = 0;
        self.visit_subtree(path, |_, _| count += 1)
            .then(|| count - 1)
    }

    /// Ephemeral paths owned by `session_id`, in the order of ZooKeeper's
    /// `getEphemerals(sessionId)` copy: what the getEphemerals request lists
    /// and the order in which closeSession deletes them.
    pub fn ephemerals(&self, session_id: i64) -> EphemeralSet {
        self.ephemerals
            .get(&session_id)
            .map_or_else(EphemeralSet::default, EphemeralSet::java_clone)
    }

    /// Removes `session_id`'s set of ephemeral paths, for its closeSession
    /// (ZooKeeper's `ephemerals.remove(sid)` before `killSession`).
    pub fn take_ephemerals(&mut self, session_id: i64) -> Option<EphemeralSet> {
        self.ephemerals.remove(&session_id)
    }

    /// Every session that owns ephemerals, with its paths in the set's own
    /// order (for 4lw dump).
    pub fn ephemerals_by_session(&self) -> impl Iterator<Item = (i64, Vec<&str>)> {
        self.ephemerals.iter().map(|(s, p)| (*s, p.java_order()))
    }

    /// Total number of ephemeral nodes.
    pub fn ephemerals_count(&self) -> usize {
        self.ephemerals.values().map(EphemeralSet::len).sum()
    }

    /// Container nodes (for the reaper).
    pub fn containers(&self) -> impl Iterator<Item = &str> {
        self.containers.iter().map(|p| &**p)
    }

    /// TTL nodes (for the reaper).
    pub fn ttls(&self) -> impl Iterator<Item = &str> {
        self.ttls.iter().map(|p| &**p)
    }

    /// Container and TTL nodes due for deletion at `now_ms` (ZooKeeper's
    /// ContainerManager.getCandidates): childless containers that have had a
    /// child (or, when `max_never_used_ms` > 0, were created that long ago),
    /// and childless TTL nodes not modified for their TTL.
    pub fn reapable(&self, now_ms: i64, max_never_used_ms: i64) -> Vec<String> {
        let childless = |p: &str| self.get(p).filter(|n| n.children.is_empty());
        let mut out = Vec::new();
        for path in self.containers() {
            let Some(n) = childless(path) else { continue };
            let never_used_expired =
                max_never_used_ms > 0 && now_ms - n.stat.mtime > max_never_used_ms;
            if n.stat.cversion > 0 || never_used_expired {
                out.push(path.to_owned());
            }
        }
        for path in self.ttls() {
            let Some(n) = childless(path) else { continue };
            if let EphemeralType::Ttl(ttl) =
                EphemeralType::of(n.stat.ephemeral_owner, self.extended_types)
            {
                if ttl != 0 && now_ms - n.stat.mtime > ttl {
                    out.push(path.to_owned());
                }
            }
        }
        out
    }

    /// Sum of path and data lengths over all nodes.
    pub fn approximate_data_size(&self) -> u64 {
        self.approximate_data_size
    }

    /// The zxid of the last applied txn.
    pub fn last_processed_zxid(&self) -> i64 {
        self.last_processed_zxid
    }

    /// Sets the data of `/zookeeper/config` to an ensemble's membership text,
    /// as a quorum member of ZooKeeper 3.8 does at start: the Stat shows
    /// version −1, `mtime_ms` (the start time) and the configuration's
    /// version as mzxid (0 for a static configuration).
    pub fn set_ensemble_config(&mut self, text: &[u8], mtime_ms: i64, version: i64) {
        let node = self.get_mut(CONFIG_PATH).expect("/zookeeper/config exists");
        let old_len = node.data.len();
        node.data = NodeData::new(Some(text));
        node.stat.version = -1;
        node.stat.mtime = mtime_ms;
        node.stat.mzxid = version;
        self.approximate_data_size =
            self.approximate_data_size - old_len as u64 + text.len() as u64;
    }

    /// Records that the txn `zxid` was applied. Zxids never go backwards.
    pub fn set_last_processed_zxid(&mut self, zxid: i64) {
        assert!(
            zxid >= self.last_processed_zxid,
            "zxid went backwards: {zxid:#x} < {:#x}",
            self.last_processed_zxid
        );
        self.last_processed_zxid = zxid;
    }

    /// Creates a node (ZooKeeper's `createNode`). `parent_cversion` −1 means "one
    /// more than now". The parent's cversion and pzxid only ever rise.
    #[allow(clippy::too_many_arguments)]
    pub fn create_node(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        acl: &[Acl],
        ephemeral_owner: i64,
        parent_cversion: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<Stat, ErrorCode> {
        let (parent_path, name) = path::split(path).ok_or(ErrorCode::NoNode)?;
        let parent = descend_mut(&mut self.root, parent_path).ok_or(ErrorCode::NoNode)?;
        if parent.children.contains(name) {
            return Err(ErrorCode::NodeExists);
        }
        raise_cversion(&mut parent.stat, parent_cversion, zxid);
        let parent_acl_index = parent.acl;
        let stat = StatPersisted {
            czxid: zxid,
            mzxid: zxid,
            ctime: time,
            mtime: time,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner,
            pzxid: zxid,
        };
        let acl_index = self.acls.intern(acl);
        let node = NodeBox::new(Node::new(NodeData::new(data), acl_index, stat));
        let client_stat = node.client_stat(self.extended_types);
        prefault::note_node(self.count, &*node);
        parent.children.insert(name, node.into_ref());
        self.count += 1;
        self.approximate_data_size += (path.len() + data.map_or(0, <[u8]>::len)) as u64;
        let key: Box<str> = path.into();
        match EphemeralType::of(ephemeral_owner, self.extended_types) {
            EphemeralType::Container => {
                self.containers.insert(key.clone());
            }
            EphemeralType::Ttl(_) => {
                self.ttls.insert(key.clone());
            }
            EphemeralType::Normal => {
                self.ephemerals
                    .entry(ephemeral_owner)
                    .or_default()
                    .insert(&key);
            }
            EphemeralType::Void => {}
        }
        events.push(TreeEvent::Created {
            path: path.into(),
            acl: self.acls.get(acl_index).clone(),
            parent_acl: self.acls.get(parent_acl_index).clone(),
        });
        Ok(client_stat)
    }

    /// Deletes a node (ZooKeeper's `deleteNode`); the parent's pzxid only rises.
    pub fn delete_node(
        &mut self,
        path: &str,
        zxid: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<(), ErrorCode> {
        let (parent_path, name) = path::split(path).ok_or(ErrorCode::NoNode)?;
        let parent = self.get_mut(parent_path).ok_or(ErrorCode::NoNode)?;
        let node = parent.children.take(name).ok_or(ErrorCode::NoNode)?;
        if zxid > parent.stat.pzxid {
            parent.stat.pzxid = zxid;
        }
        let parent_acl_index = parent.acl;
        let parent_acl = self.acls.get(parent_acl_index).clone();
        // SAFETY: taken out of its parent's set, which owned it.
        let mut node = unsafe { NodeBox::from_ref(node) };
        self.count -= 1;
        let acl = self.acls.get(node.acl).clone();
        self.acls.release(node.acl);
        self.approximate_data_size -= (path.len() + node.data.len()) as u64;
        if !node.children.is_empty() {
            // Only a replay over a fuzzy snapshot deletes a node that has
            // children (prep refuses it): they go with it, as a later txn
            // of the log re-creates them.
            free_below(&mut node, path.len(), |freed, len| {
                self.count -= 1;
                self.acls.release(freed.acl);
                self.approximate_data_size -= (len + freed.data.len()) as u64;
            });
        }
        match EphemeralType::of(node.stat.ephemeral_owner, self.extended_types) {
            EphemeralType::Container => {
                self.containers.remove(path);
            }
            EphemeralType::Ttl(_) => {
                self.ttls.remove(path);
            }
            EphemeralType::Normal => {
                // As ZooKeeper's, the set stays (empty, at its size) until
                // the session closes: the 4lw dump lists it, and its table
                // size orders later ephemerals.
                if let Some(set) = self.ephemerals.get_mut(&node.stat.ephemeral_owner) {
                    set.remove(path);
                }
            }
            EphemeralType::Void => {}
        }
        events.push(TreeEvent::Deleted {
            path: path.into(),
            acl,
            parent_acl,
        });
        Ok(())
    }

    /// Sets a node's data and version (ZooKeeper's `setData`).
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
        zxid: i64,
        time: i64,
        events: &mut Vec<TreeEvent>,
    ) -> Result<Stat, ErrorCode> {
        let node = descend_mut(&mut self.root, path).ok_or(ErrorCode::NoNode)?;
        let old_len = node.data.len() as u64;
        node.data = NodeData::new(data);
        node.stat.mtime = time;
        node.stat.mzxid = zxid;
        node.stat.version = version;
        let stat = node.client_stat(self.extended_types);
        self.approximate_data_size =
            self.approximate_data_size - old_len + data.map_or(0, <[u8]>::len) as u64;
        let acl = self.acls.get(node.acl).clone();
        events.push(TreeEvent::DataChanged {
            path: path.into(),
            acl,
        });
        Ok(stat)
    }

    /// Replaces a node's ACL and sets its aversion (ZooKeeper's `setACL`).
    pub fn set_acl(&mut self, path: &str, acl: &[Acl], aversion: i32) -> Result<Stat, ErrorCode> {
        let new_index = self.acls.intern(acl);
        let Some(node) = descend_mut(&mut self.root, path) else {
            self.acls.release(new_index);
            return Err(ErrorCode::NoNode);
        };
        let old_index = std::mem::replace(&mut node.acl, new_index);
        node.stat.aversion = aversion;
        let stat = node.client_stat(self.extended_types);
        self.acls.release(old_index);
        Ok(stat)
    }
}

/// The node at `path` below `root`, mutable (a function of the root alone,
/// so that the tree's other fields stay free to borrow).
fn descend_mut<'a>(root: &'a mut Node, path: &str) -> Option<&'a mut Node> {
    let mut node = root;
    for name in path::components(path)? {
        node = node.child_mut(name)?;
    }
    Some(node)
}

/// Frees every node below `node`, whose path is `path_len` bytes long,
/// one at a time (a recursive drop could overflow the stack on a deep
/// tree), first calling `freed` with each and the length of its path.
fn free_below(node: &mut Node, path_len: usize, mut freed: impl FnMut(&Node, usize)) {
    let mut below: Vec<(Listed, usize)> = node
        .children
        .drain()
        .into_iter()
        .map(|c| (c, path_len))
        .collect();
    while let Some((child, parent_len)) = below.pop() {
        let Some(node) = child.node else { continue };
        // SAFETY: drained from its parent's set, which owned it.
        let mut node = unsafe { NodeBox::from_ref(node) };
        let len = parent_len + 1 + child.name.len();
        freed(&node, len);
        below.extend(node.children.drain().into_iter().map(|c| (c, len)));
    }
}

impl Drop for DataTree {
    /// Frees every node.
    fn drop(&mut self) {
        free_below(&mut self.root, 1, |_, _| {});
    }
}

#[cfg(test)]
mod tests;
