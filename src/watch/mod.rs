//! One-shot, persistent and persistent-recursive watches, with the semantics
//! of Apache ZooKeeper 3.8 (`DataTree` over two `WatchManager`s).
//!
//! Sans-IO: the tree-apply code tells the [`WatchManager`] what changed
//! ([`node_created`](WatchManager::node_created),
//! [`node_deleted`](WatchManager::node_deleted),
//! [`data_changed`](WatchManager::data_changed)) and gets back
//! (watcher, event) pairs in ZooKeeper's order; the server encodes each as
//! `ReplyHeader{xid: -1, zxid: -1, err: 0}` + `WatcherEvent{type, state: 3, path}`.
//!
//! # The two tables
//! - data watches: getData/exists with watch (STANDARD), addWatch PERSISTENT
//!   and PERSISTENT_RECURSIVE;
//! - child watches: getChildren with watch (STANDARD), addWatch PERSISTENT and,
//!   as 3.8 does, PERSISTENT_RECURSIVE too. The recursive child entry never
//!   fires on its own while its data entry exists (recursive entries ignore
//!   NodeChildrenChanged, and a delete suppresses watchers the data table
//!   notified), but it counts in `watch_count` and answers checkWatches and
//!   removeWatches of type Children.
//!
//! # 3.8 rules kept on purpose
//! - One mode per (table, path, watcher): registering again replaces it, so
//!   getData(watch) on a path with a PERSISTENT watch turns it into a one-shot
//!   watch (3.9 keeps both; 3.8's `WatcherModeManager` does not).
//! - checkWatches answers whether the path has watches of the type at all,
//!   by any connection (3.8's `containsWatcher`).
//! - ACL filtering of events is the caller's job: an event is delivered only
//!   if the connection may READ the znode named by the event's path (for
//!   NodeChildrenChanged that is the parent, for NodeDeleted the deleted node).
//!
//! # Layout
//! - `table`: one table (path → watchers, watcher → paths).

#[cfg(test)]
mod model_check;
mod table;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::sync::Arc;

use crate::proto::codes::{event_type, watcher_type};
use table::WatchTable;

/// Identifies a watcher: the server's connection id. One session has at most
/// one live connection, and its watches die with the connection.
pub type WatcherId = u64;

/// How a watch behaves when it fires (`WatcherMode` in ZooKeeper).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatcherMode {
    /// One-shot: removed when it fires (getData, exists, getChildren).
    Standard,
    /// Stays after firing; fires for its own path, including changes to its
    /// children list, but not for deeper descendants (addWatch mode 0).
    Persistent,
    /// Stays after firing; fires for its path and every descendant, except
    /// NodeChildrenChanged (addWatch mode 1).
    PersistentRecursive,
}

impl WatcherMode {
    /// Whether the watch also fires for descendants of its path.
    pub fn is_recursive(self) -> bool {
        self == WatcherMode::PersistentRecursive
    }
}

/// A notification for one watcher: what happened, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchEvent {
    /// An `event_type` constant (NodeCreated 1 … NodeChildrenChanged 4).
    pub event_type: i32,
    /// The znode the event is about, shared by every watcher notified of it.
    pub path: Arc<str>,
}

/// Every watch of the server: ZooKeeper's pair of data and child tables.
#[derive(Debug, Default)]
pub struct WatchManager {
    /// Fired by creates, deletes and data changes of the watched node.
    data: WatchTable,
    /// Fired by deletes of the node and by creates/deletes of its children.
    child: WatchTable,
}

impl WatchManager {
    /// An empty manager.
    pub fn new() -> Self {
        WatchManager::default()
    }

    /// getData or exists with watch=true: a one-shot data watch (exists
    /// registers it even when the node is absent).
    pub fn add_data_watch(&mut self, path: &str, watcher: WatcherId) {
        self.data.add(path, watcher, WatcherMode::Standard);
    }

    /// getChildren with watch=true: a one-shot child watch.
    pub fn add_child_watch(&mut self, path: &str, watcher: WatcherId) {
        self.child.add(path, watcher, WatcherMode::Standard);
    }

    /// addWatch PERSISTENT: a lasting watch in both tables.
    pub fn add_persistent(&mut self, path: &str, watcher: WatcherId) {
        self.data.add(path, watcher, WatcherMode::Persistent);
        self.child.add(path, watcher, WatcherMode::Persistent);
    }

    /// addWatch PERSISTENT_RECURSIVE: a lasting watch on `path` and every
    /// descendant, registered in both tables as 3.8 does.
    pub fn add_persistent_recursive(&mut self, path: &str, watcher: WatcherId) {
        self.data
            .add(path, watcher, WatcherMode::PersistentRecursive);
        self.child
            .add(path, watcher, WatcherMode::PersistentRecursive);
    }

    /// `path` was created under `parent` ("/" for a top-level node): appends
    /// NodeCreated for `path`'s data watchers, then NodeChildrenChanged for
    /// `parent`'s child watchers.
    pub fn node_created(
        &mut self,
        path: &str,
        parent: &str,
        out: &mut Vec<(WatcherId, WatchEvent)>,
    ) {
        fire(&mut self.data, path, event_type::NODE_CREATED, out);
        fire(
            &mut self.child,
            parent,
            event_type::NODE_CHILDREN_CHANGED,
            out,
        );
    }

    /// `path` was deleted from under `parent`: appends NodeDeleted for its
    /// data watchers, NodeDeleted for its child watchers not already
    /// notified, then NodeChildrenChanged for `parent`'s child watchers.
    /// Closing a session deletes each of its ephemerals this way.
    pub fn node_deleted(
        &mut self,
        path: &str,
        parent: &str,
        out: &mut Vec<(WatcherId, WatchEvent)>,
    ) {
        let notified = fire(&mut self.data, path, event_type::NODE_DELETED, out);
        let mut found = Vec::new();
        self.child
            .trigger(path, event_type::NODE_DELETED, &mut found);
        suppress(&mut found, &notified);
        push_events(&found, event_type::NODE_DELETED, path, out);
        fire(
            &mut self.child,
            parent,
            event_type::NODE_CHILDREN_CHANGED,
            out,
        );
    }

    /// `path`'s data changed (setData, reconfig): appends NodeDataChanged for
    /// its data watchers.
    pub fn data_changed(&mut self, path: &str, out: &mut Vec<(WatcherId, WatchEvent)>) {
        fire(&mut self.data, path, event_type::NODE_DATA_CHANGED, out);
    }

    /// Removes every watch of `watcher` (its connection closed).
    pub fn remove_watcher(&mut self, watcher: WatcherId) {
        self.data.remove_watcher(watcher);
        self.child.remove_watcher(watcher);
    }

    /// checkWatches: whether `path` has watches of `watcher_type` (Children 1,
    /// Data 2, Any 3). As in 3.8 the answer does not depend on `_watcher`:
    /// any connection's watch on the path counts. Other types match nothing;
    /// 3.8 rejects them before looking (MARSHALLINGERROR).
    pub fn check_watches(&self, path: &str, _watcher: WatcherId, watcher_type: i32) -> bool {
        match watcher_type {
            watcher_type::CHILDREN => self.child.has_path(path),
            watcher_type::DATA => self.data.has_path(path),
            watcher_type::ANY => self.child.has_path(path) || self.data.has_path(path),
            _ => false,
        }
    }

    /// removeWatches: removes `watcher`'s watches on `path` from the table(s)
    /// of `watcher_type` (Children 1, Data 2, Any 3), whatever their mode.
    /// Returns whether anything was removed (false means NOWATCHER).
    pub fn remove_watches(&mut self, path: &str, watcher: WatcherId, watcher_type: i32) -> bool {
        match watcher_type {
            watcher_type::CHILDREN => self.child.remove(path, watcher),
            watcher_type::DATA => self.data.remove(path, watcher),
            watcher_type::ANY => {
                let child = self.child.remove(path, watcher);
                let data = self.data.remove(path, watcher);
                child || data
            }
            _ => false,
        }
    }

    /// (connections, paths, total watches) for `wchs`: like 3.8, the data
    /// table only. Connections whose data watches all fired still count
    /// until they close.
    pub fn summary(&self) -> (usize, usize, usize) {
        self.data.summary()
    }

    /// `wchc`: each watcher with its watched paths (data table, as 3.8
    /// prints), sorted by watcher then path; a watcher whose watches all
    /// fired appears with no paths.
    pub fn by_watcher(&self) -> Vec<(WatcherId, Vec<Arc<str>>)> {
        self.data.by_watcher()
    }

    /// `wchp`: each watched path with its watchers (data table, as 3.8
    /// prints), sorted by path then watcher.
    pub fn by_path(&self) -> Vec<(Arc<str>, Vec<WatcherId>)> {
        self.data.by_path()
    }

    /// `zk_watch_count`: entries of both tables (a persistent watch counts twice).
    pub fn watch_count(&self) -> usize {
        self.data.size() + self.child.size()
    }
}

/// Triggers `event_type` at `path` in `table`, appends an event for each
/// watcher found, and returns the watchers found.
fn fire(
    table: &mut WatchTable,
    path: &str,
    event_type: i32,
    out: &mut Vec<(WatcherId, WatchEvent)>,
) -> Vec<WatcherId> {
    let mut found = Vec::new();
    table.trigger(path, event_type, &mut found);
    push_events(&found, event_type, path, out);
    found
}

/// Appends one `event_type` event at `path` for each of `watchers`.
fn push_events(
    watchers: &[WatcherId],
    event_type: i32,
    path: &str,
    out: &mut Vec<(WatcherId, WatchEvent)>,
) {
    if watchers.is_empty() {
        return;
    }
    let event = WatchEvent {
        event_type,
        path: Arc::from(path),
    };
    out.extend(watchers.iter().map(|&w| (w, event.clone())));
}

/// Drops from `found` the watchers in `notified`.
fn suppress(found: &mut Vec<WatcherId>, notified: &[WatcherId]) {
    if found.is_empty() || notified.is_empty() {
        return;
    }
    let notified: HashSet<WatcherId> = notified.iter().copied().collect();
    found.retain(|watcher| !notified.contains(watcher));
}
