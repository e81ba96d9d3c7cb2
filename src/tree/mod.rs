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
pub mod digest;
pub mod ephemerals;
pub mod fuzzy;
mod load;
pub mod name;
mod node;
pub mod path;
pub mod path_hash;
pub mod prefault;
pub mod quota;
mod serialize;
pub mod sharded;

use crate::jute::records::{Acl, Stat, StatPersisted};
use crate::proto::ErrorCode;
use acl_cache::{read_acl_unsafe, AclCache, OPEN_ACL_INDEX};
use digest::TreeDigest;
use ephemerals::EphemeralSet;
pub use node::{nodes_freed, Node, NodeBox, NodeRef};
use std::collections::{BTreeSet, HashMap};
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

impl Node {
    /// Child `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children().get(name).map(|child| &**child)
    }

    /// The Stat clients see: derived counts filled in, client-visible cversion
    /// (creations + deletions = 2 × persisted − children), and ephemeralOwner
    /// shown only for real ephemerals.
    pub fn client_stat(&self, extended_types: bool) -> Stat {
        let s = self.stat();
        let num_children = self.children().len() as i32;
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
            data_length: self.data_len() as i32,
            num_children,
            pzxid: s.pzxid,
        }
    }
}

/// ZooKeeper's parent update on a child create: the persisted cversion becomes
/// `parent_cversion` (−1: one above the current) and pzxid `zxid`, but only if
/// that raises the cversion, so a replayed create never lowers either.
fn raise_cversion(
    parent: &mut NodeBox,
    parent_path: &str,
    parent_cversion: i32,
    zxid: i64,
    digest: &mut TreeDigest,
) {
    let mut stat = parent.stat();
    // Java's int arithmetic: a wrapped cversion is not a raise, so it stays.
    let cversion = if parent_cversion == -1 {
        stat.cversion.wrapping_add(1)
    } else {
        parent_cversion
    };
    if cversion > stat.cversion {
        digest.remove(parent_path, parent.data(), &stat);
        stat.cversion = cversion;
        stat.pzxid = zxid;
        parent.set_stat(&stat);
        digest.add(parent_path, parent.data(), &stat);
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
    /// The tree's digest and its log (`hash`).
    digest: TreeDigest,
}

impl DataTree {
    /// A tree holding only "/", "/zookeeper", "/zookeeper/quota" and "/zookeeper/config",
    /// with zero Stats as in ZooKeeper.
    pub fn new(extended_types: bool) -> DataTree {
        let zero = StatPersisted::default();
        let mut tree = DataTree {
            root: NodeBox::new("", Some(&[]), OPEN_ACL_INDEX, &zero),
            count: 1,
            acls: AclCache::default(),
            ephemerals: HashMap::new(),
            containers: BTreeSet::new(),
            ttls: BTreeSet::new(),
            last_processed_zxid: 0,
            extended_types,
            approximate_data_size: 0,
            digest: TreeDigest::new(true),
        };
        tree.digest.add("/", Some(&[]), &zero);
        tree.attach("/", "zookeeper", OPEN_ACL_INDEX, &zero);
        tree.attach(ZOOKEEPER_PATH, "quota", OPEN_ACL_INDEX, &zero);
        let config_acl = tree.acls.intern(&read_acl_unsafe());
        // ZooKeeper 3.8 shows aversion −1 on a standalone server's /zookeeper/config.
        let config_stat = StatPersisted {
            aversion: -1,
            ..Default::default()
        };
        tree.attach(ZOOKEEPER_PATH, "config", config_acl, &config_stat);
        tree
    }

    /// Adds an empty node `name` under `parent` (a new tree's own nodes).
    fn attach(&mut self, parent: &str, name: &str, acl: i64, stat: &StatPersisted) {
        let path = path::join(parent, name);
        self.approximate_data_size += path.len() as u64;
        self.digest.add(&path, Some(&[]), stat);
        let added = self
            .get_mut(parent)
            .expect("parent exists")
            .children_mut()
            .insert(NodeBox::new(name, Some(&[]), acl, stat));
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
    fn get_mut(&mut self, path: &str) -> Option<&mut NodeBox> {
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
        let mut stack = vec![(node.children().iter(), path.len())];
        while let Some((children, parent_len)) = stack.last_mut() {
            let Some(child) = children.next() else {
                stack.pop();
                continue;
            };
            path.truncate(*parent_len);
            if path != "/" {
                path.push('/');
            }
            path.push_str(child.name());
            visit(&path, child);
            stack.push((child.children().iter(), path.len()));
        }
        true
    }

    /// The client-visible Stat of the node at `path`.
    pub fn stat(&self, path: &str) -> Option<Stat> {
        self.get(path).map(|n| n.client_stat(self.extended_types))
    }

    /// The ACL list of `node`.
    pub fn acl_of(&self, node: &Node) -> &Arc<[Acl]> {
        self.acls.get(node.acl())
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
        let childless = |p: &str| {
            self.get(p)
                .filter(|n| n.children().is_empty())
                .map(Node::stat)
        };
        let mut out = Vec::new();
        for path in self.containers() {
            let Some(n) = childless(path) else { continue };
            let never_used_expired = max_never_used_ms > 0 && now_ms - n.mtime > max_never_used_ms;
            if n.cversion > 0 || never_used_expired {
                out.push(path.to_owned());
            }
        }
        for path in self.ttls() {
            let Some(n) = childless(path) else { continue };
            if let EphemeralType::Ttl(ttl) =
                EphemeralType::of(n.ephemeral_owner, self.extended_types)
            {
                if ttl != 0 && now_ms - n.mtime > ttl {
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
        let old_len = node.data_len();
        let mut stat = node.stat();
        stat.version = -1;
        stat.mtime = mtime_ms;
        stat.mzxid = version;
        node.set(Some(text), &stat);
        self.approximate_data_size =
            self.approximate_data_size - old_len as u64 + text.len() as u64;
    }

    /// Turns node digests off (`zookeeper.digest.enabled=false`): the tree's
    /// digest is then 0, and so is every digest logged.
    pub fn disable_digest(&mut self) {
        self.digest = TreeDigest::new(false);
    }

    /// Logs the tree's digest if txn `zxid`, just applied, is one of every
    /// 128 (ZooKeeper's `logZxidDigest`, after each txn it processes).
    pub fn log_digest(&mut self, zxid: i64) {
        self.digest.applied(zxid);
    }

    /// The logged digests, `(zxid, digest)` oldest first, for `hash`.
    pub fn digest_log(&self) -> Vec<(i64, i64)> {
        self.digest.log().collect()
    }

    /// The tree's digest now: the sum of its nodes' (see [`digest`]).
    pub fn digest(&self) -> i64 {
        self.digest.value()
    }

    /// Whether nodes have digests (`zookeeper.digest.enabled`): prep then
    /// attaches a TxnDigest to every txn.
    pub fn digest_enabled(&self) -> bool {
        self.digest.enabled()
    }

    /// Compares the digest txn `zxid`, just applied, carried with the
    /// tree's (see [`digest::TreeDigest::compare`]). Called before
    /// [`DataTree::log_digest`] for the same zxid.
    pub fn compare_digest(
        &mut self,
        zxid: i64,
        version: i32,
        expected: i64,
    ) -> Option<digest::DigestMismatch> {
        self.digest.compare(zxid, version, expected)
    }

    /// Txns whose carried digest disagreed with this tree.
    pub fn digest_mismatches(&self) -> u64 {
        self.digest.mismatches()
    }

    /// Marks the tree as loaded from a fuzzy snapshot: carried digests are
    /// not compared until one matches or [`DataTree::digest_exact`].
    pub fn digest_fuzzy(&mut self) {
        self.digest.fuzzy();
    }

    /// The tree is exact (log replay done): every carried digest is compared.
    pub fn digest_exact(&mut self) {
        self.digest.exact();
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
        if parent.children().contains(name) {
            return Err(ErrorCode::NodeExists);
        }
        raise_cversion(parent, parent_path, parent_cversion, zxid, &mut self.digest);
        let parent_acl_index = parent.acl();
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
        let node = NodeBox::new(name, data, acl_index, &stat);
        self.digest.add(path, data, &stat);
        let client_stat = node.client_stat(self.extended_types);
        prefault::note_node(self.count, node.addr());
        parent.children_mut().insert(node);
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
        let parent = descend_mut(&mut self.root, parent_path).ok_or(ErrorCode::NoNode)?;
        let mut node = parent
            .children_mut()
            .remove(name)
            .ok_or(ErrorCode::NoNode)?;
        let mut parent_stat = parent.stat();
        if zxid > parent_stat.pzxid {
            self.digest.remove(parent_path, parent.data(), &parent_stat);
            parent_stat.pzxid = zxid;
            parent.set_stat(&parent_stat);
            self.digest.add(parent_path, parent.data(), &parent_stat);
        }
        // Nodes below it (a replay over a fuzzy snapshot) stay counted, as
        // ZooKeeper's orphans stay in its digest.
        self.digest.remove(path, node.data(), &node.stat());
        let parent_acl_index = parent.acl();
        let parent_acl = self.acls.get(parent_acl_index).clone();
        self.count -= 1;
        let acl = self.acls.get(node.acl()).clone();
        self.acls.release(node.acl());
        self.approximate_data_size -= (path.len() + node.data_len()) as u64;
        if !node.children().is_empty() {
            // Only a replay over a fuzzy snapshot deletes a node that has
            // children (prep refuses it): they go with it, as a later txn
            // of the log re-creates them.
            free_below(&mut node, path.len(), |freed, len| {
                self.count -= 1;
                self.acls.release(freed.acl());
                self.approximate_data_size -= (len + freed.data_len()) as u64;
            });
        }
        let owner = node.stat().ephemeral_owner;
        drop(node);
        match EphemeralType::of(owner, self.extended_types) {
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
                if let Some(set) = self.ephemerals.get_mut(&owner) {
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
        let old_len = node.data_len() as u64;
        let mut stat = node.stat();
        self.digest.remove(path, node.data(), &stat);
        stat.mtime = time;
        stat.mzxid = zxid;
        stat.version = version;
        node.set(data, &stat);
        self.digest.add(path, data, &stat);
        let stat = node.client_stat(self.extended_types);
        self.approximate_data_size =
            self.approximate_data_size - old_len + data.map_or(0, <[u8]>::len) as u64;
        let acl = self.acls.get(node.acl()).clone();
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
        let old_index = node.acl();
        node.set_acl(new_index);
        let mut stat = node.stat();
        self.digest.remove(path, node.data(), &stat);
        stat.aversion = aversion;
        node.set_stat(&stat);
        self.digest.add(path, node.data(), &stat);
        let stat = node.client_stat(self.extended_types);
        self.acls.release(old_index);
        Ok(stat)
    }
}

/// The node at `path` below `root`, mutable (a function of the root alone,
/// so that the tree's other fields stay free to borrow).
fn descend_mut<'a>(root: &'a mut NodeBox, path: &str) -> Option<&'a mut NodeBox> {
    let mut node = root;
    for name in path::components(path)? {
        node = node.children_mut().get_mut(name)?;
    }
    Some(node)
}

/// Frees every node below `node`, whose path is `path_len` bytes long,
/// one at a time (a recursive drop could overflow the stack on a deep
/// tree), first calling `freed` with each and the length of its path.
fn free_below(node: &mut Node, path_len: usize, mut freed: impl FnMut(&Node, usize)) {
    let mut below: Vec<(NodeBox, usize)> = node
        .children_mut()
        .drain()
        .into_iter()
        .map(|c| (c, path_len))
        .collect();
    while let Some((mut node, parent_len)) = below.pop() {
        let len = parent_len + 1 + node.name().len();
        freed(&node, len);
        below.extend(node.children_mut().drain().into_iter().map(|c| (c, len)));
    }
}

#[cfg(test)]
mod tests;
