//! The data tree in ZooKeeper's snapshot serialization (`DataTree.serialize` /
//! `deserialize`): the ACL cache, then every node in pre-order.
//!
//! ```text
//! tree-part  = acl-cache node* terminator
//! acl-cache  = count:int { index:long acls:vector<ACL> }*count   ; index −1 is implicit
//! node       = path:ustring data:buffer acl:long stat:StatPersisted
//! terminator = "/":ustring
//! ```
//!
//! The root is written with the path "" (ZooKeeper keys its root under both ""
//! and "/"), then its descendants depth first, each parent before its
//! children. Children are visited in the order ZooKeeper's `HashSet` holds
//! them (`Children::java_order`), as ZooKeeper writes them; reading inserts
//! them in file order, so a reloaded node lists its children as a restarted
//! ZooKeeper would. The session list, file header and checksum seal around this
//! part belong to `storage::snapshot`.
//!
//! Also here, because only replay after loading a snapshot needs it:
//! [`DataTree::raise_cversion_pzxid`], ZooKeeper's fix-up for a create replayed
//! over a fuzzy snapshot that already holds the node.

use super::acl_cache::OPEN_ACL_INDEX;
use super::load::Loader;
use super::node::NodeBox;
use super::{path, AclCache, DataTree, EphemeralType, Node};
use crate::jute::records::{Acl, StatPersisted};
use crate::jute::{read_buffer, write_buffer, write_ustring, DecodeError, JResult, Record};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The path that ends the node list (no real node has it: the root is "").
pub(super) const TERMINATOR: &str = "/";

impl DataTree {
    /// Appends the ACL cache, every node in pre-order and the terminator, in
    /// ZooKeeper's snapshot layout. ACL indices are the cache's own, so every
    /// node's `acl` field resolves in the written cache.
    pub fn write_snapshot_part(&self, out: &mut Vec<u8>) {
        // Per node: path and data (counted in approximate_data_size) plus
        // 76 bytes of lengths, ACL index and stat.
        out.reserve(self.approximate_data_size as usize + 76 * self.count);
        self.write_acl_cache(out);
        self.write_nodes(out);
        write_ustring(out, Some(TERMINATOR));
    }

    fn write_acl_cache(&self, out: &mut Vec<u8>) {
        // The cache holds exactly the lists some node names (one reference
        // per node), so it is the used set without walking the nodes.
        let used: BTreeMap<i64, &Arc<[Acl]>> = self.acls.iter().collect();
        (used.len() as i32).write(out);
        for (index, acls) in used {
            index.write(out);
            (acls.len() as i32).write(out);
            acls.iter().for_each(|acl| acl.write(out));
        }
    }

    fn write_nodes(&self, out: &mut Vec<u8>) {
        let root = &*self.root;
        write_node(out, "", root);
        // Explicit stack: a path may be ~1 MB deep, far beyond the call stack.
        let mut path = String::new();
        let mut stack = vec![(root, root.children().java_order().iter(), 0usize)];
        while let Some((parent, children, parent_len)) = stack.last_mut() {
            let Some(name) = children.next() else {
                stack.pop();
                continue;
            };
            path.truncate(*parent_len);
            path.push('/');
            path.push_str(name);
            let node = parent.child(name).expect("a listed child is there");
            write_node(out, &path, node);
            stack.push((node, node.children().java_order().iter(), path.len()));
        }
    }

    /// Reads what [`write_snapshot_part`](Self::write_snapshot_part) wrote (or
    /// ZooKeeper's `DataTree.serialize`) from the front of `input`, returning
    /// the tree and the bytes after the terminator. Fails on a node whose
    /// parent was not read before it, an ACL index missing from the cache, a
    /// duplicate path, or a missing root. The tree's last processed zxid is 0;
    /// the caller sets it.
    pub fn read_snapshot_part(
        input: &[u8],
        extended_types: bool,
    ) -> Result<(DataTree, &[u8]), DecodeError> {
        let (mut rest, file_acls) = nom_result(read_acl_cache(input))?;
        let mut tree = DataTree::new(extended_types);
        // The snapshot's root replaces the new tree's, nodes and all.
        tree.root.children_mut().drain();
        tree.digest = super::digest::TreeDigest::new(tree.digest.enabled());
        tree.count = 1;
        tree.acls = AclCache::default();
        tree.approximate_data_size = 0;
        let mut loader = Loader::default();
        loop {
            let (after_path, path) = nom_result(String::read(rest))?;
            if path == TERMINATOR {
                rest = after_path;
                break;
            }
            let (after_node, node) = nom_result(read_node(after_path))?;
            let acl = match node.1 {
                OPEN_ACL_INDEX => OPEN_ACL_INDEX,
                i => tree
                    .acls
                    .intern(file_acls.get(&i).ok_or(DecodeError::Invalid(
                        "node names an ACL index the cache lacks",
                    ))?),
            };
            tree.insert_read_node(&mut loader, path, node.0, acl, &node.2)?;
            rest = after_node;
        }
        if !loader.root_read() {
            return Err(DecodeError::Invalid("snapshot has no root node"));
        }
        loader.finish(&mut tree)?;
        // As ZooKeeper after loading a snapshot: recount every quota'd subtree.
        tree.recount_quotas();
        Ok((tree, rest))
    }

    /// Adds a node read from a snapshot (through `loader`, which puts it
    /// under its parent) and indexes it as ephemeral, container or TTL.
    fn insert_read_node(
        &mut self,
        loader: &mut Loader,
        snap_path: String,
        data: Option<&[u8]>,
        acl: i64,
        stat: &StatPersisted,
    ) -> Result<(), DecodeError> {
        if snap_path.is_empty() {
            self.digest.add("/", data, stat);
            return loader.add_root(self, NodeBox::new("", data, acl, stat));
        }
        self.digest.add(&snap_path, data, stat);
        let (_, name) = path::split(&snap_path).ok_or(DecodeError::Invalid("bad node path"))?;
        let node = NodeBox::new(name, data, acl, stat);
        self.index_owner(&snap_path, stat.ephemeral_owner);
        // As `DataTree::new`, the root's path and data are not counted.
        self.approximate_data_size += (snap_path.len() + node.data_len()) as u64;
        super::prefault::note_node(self.count, node.addr());
        loader.add(self, snap_path, node)
    }

    fn index_owner(&mut self, key: &str, owner: i64) {
        match EphemeralType::of(owner, self.extended_types) {
            EphemeralType::Container => {
                self.containers.insert(key.into());
            }
            EphemeralType::Ttl(_) => {
                self.ttls.insert(key.into());
            }
            EphemeralType::Normal => {
                self.ephemerals.entry(owner).or_default().insert(key);
            }
            EphemeralType::Void => {}
        }
    }
}

impl DataTree {
    /// Replay over a fuzzy snapshot (ZooKeeper's `setCversionPzxid`): a
    /// `create` txn whose node the snapshot already holds still raises the
    /// parent's cversion to `parent_cversion` (−1: one above the current) and
    /// its pzxid to `zxid`, when that cversion is higher than the current one.
    /// Returns false, changing nothing, when `parent` does not exist.
    pub fn raise_cversion_pzxid(&mut self, parent: &str, parent_cversion: i32, zxid: i64) -> bool {
        let Some(node) = super::descend_mut(&mut self.root, parent) else {
            return false;
        };
        super::raise_cversion(node, parent, parent_cversion, zxid, &mut self.digest);
        true
    }
}

/// The bytes [`write_node`] writes for `node` at `path`: the path's and the
/// data's lengths and bytes, the ACL index and the 60-byte StatPersisted.
pub(super) fn node_bytes(path: &str, node: &Node) -> usize {
    4 + path.len() + 4 + node.data_len() + 8 + 60
}

pub(super) fn write_node(out: &mut Vec<u8>, path: &str, node: &Node) {
    write_ustring(out, Some(path));
    write_buffer(out, node.data());
    node.acl().write(out);
    node.stat().write(out);
}

/// A node as stored: data (borrowed from the input), file ACL index,
/// persisted Stat.
type StoredNode<'a> = (Option<&'a [u8]>, i64, StatPersisted);

fn read_node(input: &[u8]) -> JResult<'_, StoredNode<'_>> {
    let (input, data) = read_buffer(input)?;
    let (input, acl) = i64::read(input)?;
    let (input, stat) = StatPersisted::read(input)?;
    Ok((input, (data, acl, stat)))
}

fn read_acl_cache(input: &[u8]) -> JResult<'_, HashMap<i64, Arc<[Acl]>>> {
    let (mut input, count) = i32::read(input)?;
    let mut map = HashMap::new();
    for _ in 0..count.max(0) {
        let (rest, index) = i64::read(input)?;
        let (rest, acls) = Vec::<Acl>::read(rest)?;
        map.insert(index, Arc::from(acls));
        input = rest;
    }
    Ok((input, map))
}

fn nom_result<T>(r: JResult<'_, T>) -> Result<(&[u8], T), DecodeError> {
    r.map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => DecodeError::Truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::acl_cache::{open_acl_unsafe, read_acl_unsafe};
    use crate::tree::path;

    fn sample_tree() -> DataTree {
        let mut tree = DataTree::new(true);
        let mut ev = Vec::new();
        let open = open_acl_unsafe();
        tree.create_node("/a", Some(b"x"), &open, 0, -1, 1, 10, &mut ev)
            .unwrap();
        tree.create_node("/a/b", None, &read_acl_unsafe(), 0, -1, 2, 11, &mut ev)
            .unwrap();
        tree.create_node("/a/e", Some(b""), &open, 0x55, -1, 3, 12, &mut ev)
            .unwrap();
        let ttl = EphemeralType::ttl_owner(1000);
        tree.create_node("/t", Some(b"t"), &open, ttl, -1, 4, 13, &mut ev)
            .unwrap();
        let container = crate::tree::CONTAINER_EPHEMERAL_OWNER;
        tree.create_node("/c", Some(b"c"), &open, container, -1, 5, 14, &mut ev)
            .unwrap();
        tree.delete_node("/a/b", 6, &mut ev).unwrap();
        tree.create_node(
            "/a/b",
            Some(b"y"),
            &read_acl_unsafe(),
            0,
            -1,
            7,
            15,
            &mut ev,
        )
        .unwrap();
        tree
    }

    fn bytes(tree: &DataTree) -> Vec<u8> {
        let mut out = Vec::new();
        tree.write_snapshot_part(&mut out);
        out
    }

    #[test]
    fn tree_round_trips_with_stats_acls_and_indexes() {
        let tree = sample_tree();
        let mut written = bytes(&tree);
        written.extend_from_slice(b"after");
        let (back, rest) = DataTree::read_snapshot_part(&written, true).unwrap();
        assert_eq!(rest, b"after");
        assert_eq!(bytes(&back), bytes(&tree));
        assert_eq!(back.node_count(), tree.node_count());
        assert_eq!(back.approximate_data_size(), tree.approximate_data_size());
        for p in ["/", "/a", "/a/b", "/a/e", "/t", "/c", "/zookeeper/config"] {
            assert_eq!(back.stat(p), tree.stat(p), "{p}");
            let (n, m) = (back.get(p).unwrap(), tree.get(p).unwrap());
            assert_eq!(n.data(), m.data(), "{p}");
            assert_eq!(back.acl_of(n), tree.acl_of(m), "{p}");
        }
        assert_eq!(
            back.ephemerals(0x55)
                .java_order()
                .into_iter()
                .collect::<Vec<_>>(),
            ["/a/e"]
        );
        assert_eq!(back.ttls().collect::<Vec<_>>(), ["/t"]);
        assert_eq!(back.containers().collect::<Vec<_>>(), ["/c"]);
    }

    #[test]
    fn node_bytes_is_what_write_node_writes() {
        let tree = sample_tree();
        for p in ["/", "/a", "/a/b", "/a/e", "/t", "/c"] {
            let node = tree.get(p).unwrap();
            let mut out = Vec::new();
            write_node(&mut out, p, node);
            assert_eq!(node_bytes(p, node), out.len(), "{p}");
        }
    }

    #[test]
    fn root_is_written_as_empty_path_then_preorder() {
        let written = bytes(&sample_tree());
        // ACL cache: one list (READ world:anyone) under index 1.
        let (rest, cache) = read_acl_cache(&written).unwrap();
        assert_eq!(cache.len(), 1);
        let mut paths = Vec::new();
        let mut rest = rest;
        loop {
            let (r, p) = String::read(rest).unwrap();
            if p == TERMINATOR {
                break;
            }
            paths.push(p);
            rest = read_node(r).unwrap().0;
        }
        // Pre-order, each node's children in ZooKeeper's HashSet order.
        fn walk(tree: &DataTree, parent: &str, out: &mut Vec<String>) {
            for name in tree.get(parent).unwrap().children().java_order() {
                let child = path::join(parent, name);
                out.push(child.clone());
                walk(tree, &child, out);
            }
        }
        let mut expected = vec![String::new()];
        walk(&sample_tree(), "/", &mut expected);
        assert_eq!(paths, expected);
        assert_eq!(paths.len(), 9);
    }

    #[test]
    fn replayed_create_raises_parent_cversion_and_pzxid_only_upwards() {
        let mut tree = sample_tree();
        let before = tree.get("/a").unwrap().stat();
        assert!(tree.raise_cversion_pzxid("/a", before.cversion - 1, 99));
        assert_eq!(tree.get("/a").unwrap().stat(), before);
        assert!(tree.raise_cversion_pzxid("/a", -1, 100));
        let after = &tree.get("/a").unwrap().stat();
        assert_eq!((after.cversion, after.pzxid), (before.cversion + 1, 100));
        assert!(!tree.raise_cversion_pzxid("/missing", -1, 101));
    }

    #[test]
    fn large_child_sets_reload_in_the_same_order() {
        let mut tree = DataTree::new(false);
        let mut ev = Vec::new();
        let open = open_acl_unsafe();
        let mut zxid = 1;
        let mut create = |tree: &mut DataTree, p: &str| {
            tree.create_node(p, Some(b"d"), &open, 0, -1, zxid, zxid, &mut ev)
                .unwrap();
            zxid += 1;
        };
        create(&mut tree, "/p");
        // More than ShardedTable's PARALLEL_MIN: the load adds them on two threads.
        for i in 0..70_000 {
            create(&mut tree, &format!("/p/c-{i:010}"));
        }
        create(&mut tree, "/p/c-0000000007/deep");
        create(&mut tree, "/q");
        let written = bytes(&tree);
        let (back, _) = DataTree::read_snapshot_part(&written, false).unwrap();
        assert_eq!(bytes(&back), written);
        crate::tree::tests::assert_same_listing(
            &back,
            &tree,
            &["/", "/p", "/p/c-0000000007", "/q"],
        );
    }

    /// A node with null data, ACL index `acl` and a zero Stat.
    fn bare_node(acl: i64) -> NodeBox {
        NodeBox::new("", None, acl, &StatPersisted::default())
    }

    #[test]
    fn a_child_after_its_parents_subtree_ended_is_still_added() {
        let mut out = Vec::new();
        0i32.write(&mut out);
        let node = || bare_node(-1);
        for p in ["", "/a", "/a/x", "/b", "/a/y", "/b/z"] {
            write_node(&mut out, p, &node());
        }
        let mut twice = out.clone();
        write_ustring(&mut out, Some("/"));
        let (tree, _) = DataTree::read_snapshot_part(&out, false).unwrap();
        let names = |p: &str| -> Vec<String> {
            let mut n: Vec<String> = tree
                .get(p)
                .unwrap()
                .children()
                .iter()
                .map(|c| c.name().to_owned())
                .collect();
            n.sort();
            n
        };
        assert_eq!(names("/"), ["a", "b"]);
        assert_eq!(names("/a"), ["x", "y"]);
        assert_eq!(names("/b"), ["z"]);
        assert_eq!(
            tree.node_count(),
            7,
            "six nodes, the root counted twice as ZooKeeper does"
        );
        write_node(&mut twice, "/a/x", &node());
        write_ustring(&mut twice, Some("/"));
        assert!(DataTree::read_snapshot_part(&twice, false).is_err());
    }

    #[test]
    fn orphan_node_and_unknown_acl_are_refused() {
        let mut out = Vec::new();
        0i32.write(&mut out);
        write_node(&mut out, "", &bare_node(-1));
        let mut orphan = out.clone();
        write_node(&mut orphan, "/x/y", &bare_node(-1));
        write_ustring(&mut orphan, Some("/"));
        assert!(DataTree::read_snapshot_part(&orphan, false).is_err());
        let mut bad_acl = out;
        write_node(&mut bad_acl, "/x", &bare_node(7));
        write_ustring(&mut bad_acl, Some("/"));
        assert!(DataTree::read_snapshot_part(&bad_acl, false).is_err());
    }
}
