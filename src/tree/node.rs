//! One znode in one allocation: its child set, Stat, ACL index, name and
//! data side by side.
//!
//! At 1,000,000 znodes the tree is most of the server's memory, so a node is
//! laid out by hand: a fixed head (the child set's pointer, czxid, ctime,
//! the ACL index, the node's insertion sequence in its parent's set, the
//! lengths of its name and data, and a byte saying which Stat fields
//! follow), then only the Stat fields that differ from what a create
//! leaves (a node never changed since its create has mzxid and pzxid equal
//! to its czxid, mtime equal to its ctime, versions 0 and no owner, and
//! stores none of them), then the name, then the data. A 10-byte name with
//! 100 bytes of data is 155 bytes, served from the allocator's 160-byte
//! class; as separate node, data and child-set entry they took ~270.
//!
//! The parent's child set holds the node through its thin owning pointer
//! ([`NodeBox`], one word) and finds it by the name the node carries. A
//! change that alters the node's size (new data of another length, a Stat
//! field stored for the first time) moves it to a new allocation and
//! updates the pointer it was reached through, which counts in
//! [`nodes_freed`] as the old address goes.

use super::children::Children;
use crate::jute::records::StatPersisted;
use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::fmt;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};

/// A znode: the fixed head, then `tail` (the stored Stat fields, the name,
/// the data, up to 7 bytes of padding). Only ever seen behind a reference
/// made from a [`NodeBox`] or a [`NodeRef`].
#[repr(C)]
pub struct Node {
    /// The children (owned).
    children: Children,
    czxid: i64,
    ctime: i64,
    /// Index into the tree's ACL cache.
    acl: i64,
    /// Insertion sequence in the parent's child set (orders a Java bucket).
    seq: u32,
    /// Data length, [`NULL_DATA`] for null data.
    data_len: u32,
    name_len: u32,
    /// Which optional Stat fields the tail holds ([`MODIFIED`] …).
    extras: u8,
    tail: [u8],
}

/// Where the tail starts: right after `extras`.
const TAIL: usize = 45;

/// The smallest allocation: the head with its padding.
const MIN_SIZE: usize = 48;

/// `data_len` of null data (ZooKeeper's length −1).
const NULL_DATA: u32 = u32::MAX;

/// The tail holds mzxid, mtime (i64) and version (i32): the node was set.
const MODIFIED: u8 = 1;
/// The tail holds pzxid (i64) and the persisted cversion (i32).
const CHILD_CHANGES: u8 = 2;
/// The tail holds aversion (i32).
const ACL_CHANGES: u8 = 4;
/// The tail holds ephemeralOwner (i64).
const OWNED: u8 = 8;

/// Which optional fields `stat` needs stored.
fn extras_of(stat: &StatPersisted) -> u8 {
    let mut extras = 0;
    if stat.mzxid != stat.czxid || stat.mtime != stat.ctime || stat.version != 0 {
        extras |= MODIFIED;
    }
    if stat.pzxid != stat.czxid || stat.cversion != 0 {
        extras |= CHILD_CHANGES;
    }
    if stat.aversion != 0 {
        extras |= ACL_CHANGES;
    }
    if stat.ephemeral_owner != 0 {
        extras |= OWNED;
    }
    extras
}

/// Bytes the optional fields `extras` take.
fn extras_len(extras: u8) -> usize {
    let mut len = 0;
    if extras & MODIFIED != 0 {
        len += 20;
    }
    if extras & CHILD_CHANGES != 0 {
        len += 12;
    }
    if extras & ACL_CHANGES != 0 {
        len += 4;
    }
    if extras & OWNED != 0 {
        len += 8;
    }
    len
}

/// The encoded data length of `data`.
///
/// # Panics
/// If `data` is `u32::MAX` bytes or longer (ZooKeeper's own limit,
/// jute.maxbuffer, is an `int`).
fn data_len_of(data: Option<&[u8]>) -> u32 {
    data.map_or(NULL_DATA, |d| {
        u32::try_from(d.len())
            .ok()
            .filter(|&l| l != NULL_DATA)
            .expect("node data shorter than u32::MAX bytes")
    })
}

/// Bytes of data `data_len` stands for.
fn data_bytes(data_len: u32) -> usize {
    if data_len == NULL_DATA {
        0
    } else {
        data_len as usize
    }
}

/// The allocation of a node with these fields, and its tail's length.
fn layout(extras: u8, name_len: u32, data_len: u32) -> (Layout, usize) {
    let content = TAIL + extras_len(extras) + name_len as usize + data_bytes(data_len);
    let size = content.max(MIN_SIZE).next_multiple_of(8);
    let layout = Layout::from_size_align(size, 8).expect("a node's size fits a Layout");
    (layout, size - TAIL)
}

/// Nodes freed or moved so far, in every tree of the process (see [`NodeRef`]).
static NODES_FREED: AtomicU64 = AtomicU64::new(0);

/// How many nodes have been freed or moved so far. While it has not moved,
/// every [`NodeRef`] taken from a node alive when it was read is still valid.
pub fn nodes_freed() -> u64 {
    NODES_FREED.load(Ordering::Relaxed)
}

/// The owning pointer to a node (one word): what a parent's child set
/// holds. Dropping it frees the node and everything below it.
pub struct NodeBox(NonNull<u8>);

// SAFETY: a NodeBox owns its node as a Box would; the node's fields are
// plain data and a child set of NodeBoxes.
unsafe impl Send for NodeBox {}
// SAFETY: as for Send; shared access only reads.
unsafe impl Sync for NodeBox {}

const _: () = assert!(std::mem::size_of::<NodeBox>() == 8);

/// Writes `value`'s bytes at `at` and returns the place after them.
///
/// # Safety
/// `at` has `N` writable bytes.
unsafe fn put<const N: usize>(at: *mut u8, value: [u8; N]) -> *mut u8 {
    // SAFETY: the caller's contract.
    unsafe {
        std::ptr::copy_nonoverlapping(value.as_ptr(), at, N);
        at.add(N)
    }
}

/// Reads `N` bytes at `*at` and moves `*at` past them.
fn take<const N: usize>(at: &mut &[u8]) -> [u8; N] {
    let (bytes, rest) = at
        .split_first_chunk::<N>()
        .expect("the tail holds the field");
    *at = rest;
    *bytes
}

impl NodeBox {
    /// A new node named `name` (the last component of its path; "" for the
    /// root) with `data` (`None`: null), ACL index `acl` and Stat `stat`,
    /// no children, insertion sequence 0.
    pub fn new(name: &str, data: Option<&[u8]>, acl: i64, stat: &StatPersisted) -> NodeBox {
        let name_len = u32::try_from(name.len()).expect("a name shorter than u32::MAX bytes");
        let data_len = data_len_of(data);
        let extras = extras_of(stat);
        let (layout, _) = layout(extras, name_len, data_len);
        // SAFETY: the layout is at least MIN_SIZE bytes.
        let Some(ptr) = NonNull::new(unsafe { alloc(layout) }) else {
            handle_alloc_error(layout)
        };
        // SAFETY: the allocation has room for the head and for the tail this
        // writes (the layout counts both), aligned for the head's fields.
        unsafe {
            let head = ptr.as_ptr();
            // The head's fields, whose places do not depend on the tail's
            // length (not written yet, so not to be read for a fat pointer).
            let raw = std::ptr::slice_from_raw_parts_mut(head, 0) as *mut Node;
            (&raw mut (*raw).children).write(Children::default());
            (&raw mut (*raw).czxid).write(stat.czxid);
            (&raw mut (*raw).ctime).write(stat.ctime);
            (&raw mut (*raw).acl).write(acl);
            (&raw mut (*raw).seq).write(0);
            (&raw mut (*raw).data_len).write(data_len);
            (&raw mut (*raw).name_len).write(name_len);
            (&raw mut (*raw).extras).write(extras);
            let at = write_extras(head.add(TAIL), extras, stat);
            std::ptr::copy_nonoverlapping(name.as_ptr(), at, name.len());
            let data = data.unwrap_or_default();
            std::ptr::copy_nonoverlapping(data.as_ptr(), at.add(name.len()), data.len());
        }
        NodeBox(ptr)
    }

    /// The node as a (fat) raw pointer covering its whole allocation.
    fn raw(&self) -> *mut Node {
        raw_node(self.0)
    }

    /// Gives the node `data` and `stat` (moving it if its size changes).
    pub(super) fn set(&mut self, data: Option<&[u8]>, stat: &StatPersisted) {
        self.rewrite(Some(data), stat);
    }

    /// Gives the node `data`, keeping its Stat (moving it if its size
    /// changes).
    pub(super) fn set_data(&mut self, data: Option<&[u8]>) {
        let stat = self.stat();
        self.rewrite(Some(data), &stat);
    }

    /// Gives the node `stat`, keeping its data (moving it if a field is
    /// stored for the first time or no longer needs storing).
    pub(super) fn set_stat(&mut self, stat: &StatPersisted) {
        self.rewrite(None, stat);
    }

    /// Rewrites the Stat and (`Some`) the data, in place when the layout
    /// stays, else into a new allocation that takes over the children.
    fn rewrite(&mut self, data: Option<Option<&[u8]>>, stat: &StatPersisted) {
        let extras = extras_of(stat);
        let old_data_len = self.data_len;
        let data_len = data.map_or(old_data_len, data_len_of);
        if extras == self.extras && data_len == old_data_len {
            let node = &mut **self;
            node.czxid = stat.czxid;
            node.ctime = stat.ctime;
            // SAFETY: the tail holds `extras`' fields, as `stat` needs.
            let at = unsafe { write_extras(node.tail.as_mut_ptr(), extras, stat) };
            if let Some(data) = data.flatten() {
                // SAFETY: the name follows the optional fields, and the data
                // (of this unchanged length) the name.
                unsafe {
                    let start = at.add(node.name_len as usize);
                    std::ptr::copy_nonoverlapping(data.as_ptr(), start, data.len());
                }
            }
            return;
        }
        let moved = NodeBox::new(self.name(), data.unwrap_or(self.data()), self.acl, stat);
        let old = std::mem::replace(self, moved);
        // SAFETY: both nodes are alive; the new one's child set is empty and
        // holds nothing, the old one's is moved over and then left empty.
        unsafe {
            let children = std::mem::take(&mut (*old.raw()).children);
            (*self.raw()).children = children;
            (*self.raw()).seq = old.seq;
        }
        drop(old);
    }
}

/// The fat pointer to the node at `ptr` (its length read from the head).
fn raw_node(ptr: NonNull<u8>) -> *mut Node {
    let head = ptr.as_ptr();
    // SAFETY: `ptr` is a live node's allocation: its head is initialised.
    let (extras, name_len, data_len) = unsafe {
        let raw = std::ptr::slice_from_raw_parts_mut(head, 0) as *mut Node;
        (
            (&raw const (*raw).extras).read(),
            (&raw const (*raw).name_len).read(),
            (&raw const (*raw).data_len).read(),
        )
    };
    let (_, tail) = layout(extras, name_len, data_len);
    std::ptr::slice_from_raw_parts_mut(head, tail) as *mut Node
}

/// Writes the optional Stat fields `extras` selects from `stat` at `at`;
/// returns the place after them.
///
/// # Safety
/// `at` has `extras_len(extras)` writable bytes.
unsafe fn write_extras(mut at: *mut u8, extras: u8, stat: &StatPersisted) -> *mut u8 {
    // SAFETY: each field written is counted in extras_len(extras).
    unsafe {
        if extras & MODIFIED != 0 {
            at = put(at, stat.mzxid.to_ne_bytes());
            at = put(at, stat.mtime.to_ne_bytes());
            at = put(at, stat.version.to_ne_bytes());
        }
        if extras & CHILD_CHANGES != 0 {
            at = put(at, stat.pzxid.to_ne_bytes());
            at = put(at, stat.cversion.to_ne_bytes());
        }
        if extras & ACL_CHANGES != 0 {
            at = put(at, stat.aversion.to_ne_bytes());
        }
        if extras & OWNED != 0 {
            at = put(at, stat.ephemeral_owner.to_ne_bytes());
        }
    }
    at
}

impl std::ops::Deref for NodeBox {
    type Target = Node;

    fn deref(&self) -> &Node {
        // SAFETY: the allocation is this NodeBox's until it drops.
        unsafe { &*self.raw() }
    }
}

impl std::ops::DerefMut for NodeBox {
    fn deref_mut(&mut self) -> &mut Node {
        // SAFETY: as for deref, and `&mut self` makes the access unique.
        unsafe { &mut *self.raw() }
    }
}

impl Drop for NodeBox {
    /// Frees the node and, one at a time (a recursive drop could overflow
    /// the stack on a deep tree), every node below it; each counts in
    /// [`nodes_freed`].
    fn drop(&mut self) {
        let mut below = self.children.drain();
        while let Some(mut node) = below.pop() {
            below.extend(node.children.drain());
        }
        NODES_FREED.fetch_add(1, Ordering::Relaxed);
        let (layout, _) = layout(self.extras, self.name_len, self.data_len);
        // SAFETY: the allocation is this NodeBox's, made with this layout
        // (the head's lengths are what `new` wrote), and freed once; its
        // child set is dropped first.
        unsafe {
            std::ptr::drop_in_place(&raw mut (*self.raw()).children);
            dealloc(self.0.as_ptr(), layout);
        }
    }
}

impl fmt::Debug for NodeBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl Node {
    /// The node's name: the last component of its path ("" for the root).
    pub fn name(&self) -> &str {
        let start = extras_len(self.extras);
        let name = &self.tail[start..start + self.name_len as usize];
        // SAFETY: `new` copied the name from a `&str`.
        unsafe { std::str::from_utf8_unchecked(name) }
    }

    /// The data; `None` when a client created it with null data (returned
    /// as length −1).
    pub fn data(&self) -> Option<&[u8]> {
        if self.data_len == NULL_DATA {
            return None;
        }
        let start = extras_len(self.extras) + self.name_len as usize;
        Some(&self.tail[start..start + self.data_len as usize])
    }

    /// Bytes of data (0 for null data).
    pub fn data_len(&self) -> usize {
        data_bytes(self.data_len)
    }

    /// Index into the tree's ACL cache.
    pub fn acl(&self) -> i64 {
        self.acl
    }

    /// Sets the index into the tree's ACL cache.
    pub(super) fn set_acl(&mut self, acl: i64) {
        self.acl = acl;
    }

    /// The persisted Stat (cversion counts child creations only).
    pub fn stat(&self) -> StatPersisted {
        let mut stat = StatPersisted {
            czxid: self.czxid,
            mzxid: self.czxid,
            ctime: self.ctime,
            mtime: self.ctime,
            version: 0,
            cversion: 0,
            aversion: 0,
            ephemeral_owner: 0,
            pzxid: self.czxid,
        };
        let mut at = &self.tail[..];
        if self.extras & MODIFIED != 0 {
            stat.mzxid = i64::from_ne_bytes(take(&mut at));
            stat.mtime = i64::from_ne_bytes(take(&mut at));
            stat.version = i32::from_ne_bytes(take(&mut at));
        }
        if self.extras & CHILD_CHANGES != 0 {
            stat.pzxid = i64::from_ne_bytes(take(&mut at));
            stat.cversion = i32::from_ne_bytes(take(&mut at));
        }
        if self.extras & ACL_CHANGES != 0 {
            stat.aversion = i32::from_ne_bytes(take(&mut at));
        }
        if self.extras & OWNED != 0 {
            stat.ephemeral_owner = i64::from_ne_bytes(take(&mut at));
        }
        stat
    }

    /// The children.
    pub fn children(&self) -> &Children {
        &self.children
    }

    /// The children, mutable.
    pub(super) fn children_mut(&mut self) -> &mut Children {
        &mut self.children
    }

    /// The node's insertion sequence in its parent's child set.
    pub(super) fn seq(&self) -> u32 {
        self.seq
    }

    /// Sets the insertion sequence (the child set does, on insert).
    pub(super) fn set_seq(&mut self, seq: u32) {
        self.seq = seq;
    }

    /// The start of the allocation (an identity for comparisons).
    pub(super) fn addr(&self) -> *const u8 {
        (self as *const Node).cast()
    }
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name())
            .field("stat", &self.stat())
            .field("acl", &self.acl)
            .field("data_len", &self.data().map(<[u8]>::len))
            .field("children", &self.children.len())
            .finish()
    }
}

/// The address of a node, copied out of its parent's child set (the
/// snapshot walk keeps them in its lists of children, the loader for the
/// nodes it is filling).
///
/// A node is only freed or moved through its [`NodeBox`], which counts in
/// [`nodes_freed`], so a `NodeRef` read while its node was alive may be
/// dereferenced as long as that count has not moved since ([`NodeRef::get`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef(NonNull<u8>);

// SAFETY: a NodeRef is only an address until `get`, whose caller holds the
// tree (shared) and has checked that no node was freed: the node is then
// alive and not being changed.
unsafe impl Send for NodeRef {}
// SAFETY: as for Send.
unsafe impl Sync for NodeRef {}

impl NodeRef {
    /// The address of the node `node` holds.
    pub(super) fn of(node: &NodeBox) -> NodeRef {
        NodeRef(node.0)
    }

    /// The node.
    ///
    /// # Safety
    /// The node was alive when this `NodeRef` was read, [`nodes_freed`] is
    /// the value it had then, and `tree` is the tree holding the node
    /// (borrowed, so nothing changes it meanwhile).
    pub unsafe fn get(self, tree: &super::DataTree) -> &Node {
        let _ = tree;
        // SAFETY: the node has not been freed or moved (the caller's
        // contract), and the shared borrow of its tree keeps it unchanged.
        unsafe { &*raw_node(self.0) }
    }

    /// The node's children, mutable.
    ///
    /// # Safety
    /// The node is alive, has not moved since this `NodeRef` was read, and
    /// is reached only through `tree`, borrowed mutably (a node of the
    /// tree, or one the snapshot loader holds for it).
    pub(super) unsafe fn children_mut(self, tree: &mut super::DataTree) -> &mut Children {
        let _ = tree;
        // SAFETY: the caller's contract makes the access valid and unique.
        unsafe { &mut (*raw_node(self.0)).children }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(czxid: i64) -> StatPersisted {
        StatPersisted {
            czxid,
            mzxid: czxid,
            ctime: 1000 + czxid,
            mtime: 1000 + czxid,
            pzxid: czxid,
            ..Default::default()
        }
    }

    #[test]
    fn the_tail_starts_right_after_the_head() {
        let node = NodeBox::new("n", None, 0, &stat(1));
        let tail = (&raw const node.tail).cast::<u8>();
        assert_eq!(tail as usize - node.addr() as usize, TAIL);
        assert_eq!(std::mem::size_of_val(&*node), MIN_SIZE);
    }

    #[test]
    fn a_new_node_reads_back_what_it_was_given() {
        for (name, data) in [
            ("", None),
            ("a", Some(&b""[..])),
            ("0000000001", Some(&[7u8; 100][..])),
        ] {
            let node = NodeBox::new(name, data, 3, &stat(5));
            assert_eq!(node.name(), name);
            assert_eq!(node.data(), data);
            assert_eq!(node.data_len(), data.map_or(0, <[u8]>::len));
            assert_eq!(node.acl(), 3);
            assert_eq!(node.stat(), stat(5));
            assert_eq!(node.extras, 0, "a fresh node stores no optional field");
        }
    }

    #[test]
    fn every_stat_field_survives_every_combination_of_stored_fields() {
        let full = StatPersisted {
            czxid: 1,
            mzxid: 2,
            ctime: 3,
            mtime: 4,
            version: 5,
            cversion: 6,
            aversion: -1,
            ephemeral_owner: 0x1234_5678_9abc,
            pzxid: 7,
        };
        for mask in 0..16u8 {
            let mut s = stat(1);
            if mask & MODIFIED != 0 {
                (s.mzxid, s.mtime, s.version) = (full.mzxid, full.mtime, full.version);
            }
            if mask & CHILD_CHANGES != 0 {
                (s.pzxid, s.cversion) = (full.pzxid, full.cversion);
            }
            if mask & ACL_CHANGES != 0 {
                s.aversion = full.aversion;
            }
            if mask & OWNED != 0 {
                s.ephemeral_owner = full.ephemeral_owner;
            }
            let node = NodeBox::new("n", Some(b"data"), 1, &s);
            assert_eq!(node.extras, mask);
            assert_eq!(node.stat(), s, "{mask}");
            assert_eq!((node.name(), node.data()), ("n", Some(&b"data"[..])));
        }
    }

    #[test]
    fn changes_keep_the_name_children_and_sequence_and_move_only_when_the_size_changes() {
        let mut node = NodeBox::new("parent", Some(b"abc"), 0, &stat(1));
        node.set_seq(9);
        node.children_mut()
            .insert(NodeBox::new("kid", None, 0, &stat(2)));
        let first = node.addr();
        let freed = nodes_freed();
        let mut s = node.stat();
        s.mzxid = 3;
        s.version = 1;
        node.set(Some(b"xyz"), &s);
        assert_ne!(node.addr(), first, "mzxid is now stored: the node grew");
        assert!(nodes_freed() > freed);
        let second = node.addr();
        s.mzxid = 4;
        s.version = 2;
        node.set(Some(b"uvw"), &s);
        assert_eq!(node.addr(), second, "same layout: written in place");
        assert_eq!(node.data(), Some(&b"uvw"[..]));
        node.set(None, &s);
        assert_eq!(node.data(), None);
        s.pzxid = 5;
        s.cversion = 1;
        node.set_stat(&s);
        assert_eq!(node.stat(), s);
        assert_eq!(node.data(), None);
        assert_eq!((node.name(), node.seq()), ("parent", 9));
        assert!(node.children().contains("kid"));
        let kid = node.children().get("kid").unwrap();
        assert_eq!(kid.name(), "kid");
    }

    #[test]
    fn a_deep_chain_drops_without_recursion() {
        let mut root = NodeBox::new("", None, 0, &stat(0));
        let mut at = &mut root;
        for i in 0..100_000 {
            at.children_mut()
                .insert(NodeBox::new("d", None, 0, &stat(i)));
            at = at.children_mut().get_mut("d").unwrap();
        }
        drop(root);
    }
}
