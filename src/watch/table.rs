//! One watch table: ZooKeeper 3.8's `WatchManager` (the server keeps two of
//! them, for data watches and for child watches).
//!
//! Each (path, watcher) pair holds one [`WatcherMode`]; registering again
//! replaces the mode, as 3.8's `WatcherModeManager` does.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;
use std::sync::Arc;

use super::{WatcherId, WatcherMode};
use crate::proto::codes::event_type;

/// A fixed hasher, so iteration (and so event order) depends only on the
/// sequence of operations: replicas and simulations replay identically.
type FixedState = BuildHasherDefault<DefaultHasher>;
type FixedMap<K, V> = HashMap<K, V, FixedState>;
type FixedSet<T> = HashSet<T, FixedState>;

/// The watchers of one path.
#[derive(Debug, Default)]
struct PathWatchers {
    /// Each watcher of the path with its mode.
    modes: FixedMap<WatcherId, WatcherMode>,
    /// How many of `modes` are recursive, so the ancestor walk skips paths
    /// with none without scanning their (possibly 10,000) watchers.
    recursive: usize,
}

/// Watches of one kind: path → watchers and watcher → paths.
#[derive(Debug, Default)]
pub(super) struct WatchTable {
    /// Path → its watchers. A path is present only while it has a watcher.
    by_path: FixedMap<Arc<str>, PathWatchers>,
    /// Watcher → the paths it watches, sharing the path allocations of
    /// `by_path`. As in 3.8, a watcher stays here with an empty set after its
    /// last watch fires, until [`remove_watcher`](Self::remove_watcher):
    /// the `wchs` and `wchc` four-letter words count and list it.
    by_watcher: FixedMap<WatcherId, FixedSet<Arc<str>>>,
    /// Recursive entries in the whole table: when zero, triggers skip the
    /// ancestor walk entirely (the hot path).
    recursive: usize,
    /// Number of (path, watcher) entries.
    entries: usize,
}

impl WatchTable {
    /// Registers `watcher` on `path` with `mode`, replacing any mode it had there.
    pub(super) fn add(&mut self, path: &str, watcher: WatcherId, mode: WatcherMode) {
        let path = self.intern(path);
        let watchers = self.by_path.entry(path.clone()).or_default();
        let old = watchers.modes.insert(watcher, mode);
        match old {
            None => self.entries += 1,
            Some(old) if old.is_recursive() => {
                watchers.recursive -= 1;
                self.recursive -= 1;
            }
            Some(_) => {}
        }
        if mode.is_recursive() {
            watchers.recursive += 1;
            self.recursive += 1;
        }
        self.by_watcher.entry(watcher).or_default().insert(path);
    }

    /// The table's own allocation of `path`, or a new one.
    fn intern(&self, path: &str) -> Arc<str> {
        match self.by_path.get_key_value(path) {
            Some((key, _)) => key.clone(),
            None => Arc::from(path),
        }
    }

    /// Removes `watcher` from `path`, whatever its mode. Returns whether it
    /// was there (3.8's `removeWatcher(path, watcher)`).
    pub(super) fn remove(&mut self, path: &str, watcher: WatcherId) -> bool {
        let listed = self
            .by_watcher
            .get_mut(&watcher)
            .is_some_and(|paths| paths.remove(path));
        listed && self.unlink(path, watcher)
    }

    /// Removes every watch of `watcher` (its connection closed).
    pub(super) fn remove_watcher(&mut self, watcher: WatcherId) {
        for path in self.by_watcher.remove(&watcher).unwrap_or_default() {
            self.unlink(&path, watcher);
        }
    }

    /// Drops `watcher` from `path`'s watchers, and the path when it has no
    /// watcher left. Returns whether the watcher was there.
    fn unlink(&mut self, path: &str, watcher: WatcherId) -> bool {
        let Some(watchers) = self.by_path.get_mut(path) else {
            return false;
        };
        let Some(mode) = watchers.modes.remove(&watcher) else {
            return false;
        };
        self.entries -= 1;
        if mode.is_recursive() {
            watchers.recursive -= 1;
            self.recursive -= 1;
        }
        if watchers.modes.is_empty() {
            self.by_path.remove(path);
        }
        true
    }

    /// Whether any watcher has `path` in this table. This is what 3.8's
    /// `containsWatcher(path, watcher)` answers: its loop returns true at the
    /// exact path as soon as the path has watchers, whoever they are.
    pub(super) fn has_path(&self, path: &str) -> bool {
        self.by_path.contains_key(path)
    }

    /// Fires `event_type` at `path` (3.8's `triggerWatch`), appending each
    /// notified watcher once to `found`.
    ///
    /// At `path` every watcher fires, except that recursive ones ignore
    /// NodeChildrenChanged; STANDARD entries are removed. At each ancestor
    /// only recursive watchers fire (never for NodeChildrenChanged).
    pub(super) fn trigger(&mut self, path: &str, event_type: i32, found: &mut Vec<WatcherId>) {
        let start = found.len();
        self.trigger_exact(path, event_type, found);
        if self.recursive > 0 && event_type != event_type::NODE_CHILDREN_CHANGED {
            self.trigger_ancestors(path, start, found);
        }
    }

    /// The exact-path half of [`trigger`](Self::trigger).
    fn trigger_exact(&mut self, path: &str, event_type: i32, found: &mut Vec<WatcherId>) {
        let Some(watchers) = self.by_path.get_mut(path) else {
            return;
        };
        let by_watcher = &mut self.by_watcher;
        let mut fired_standard = 0;
        watchers.modes.retain(|&watcher, &mut mode| match mode {
            WatcherMode::PersistentRecursive => {
                if event_type != event_type::NODE_CHILDREN_CHANGED {
                    found.push(watcher);
                }
                true
            }
            WatcherMode::Persistent => {
                found.push(watcher);
                true
            }
            WatcherMode::Standard => {
                found.push(watcher);
                if let Some(paths) = by_watcher.get_mut(&watcher) {
                    paths.remove(path);
                }
                fired_standard += 1;
                false
            }
        });
        self.entries -= fired_standard;
        if watchers.modes.is_empty() {
            self.by_path.remove(path);
        }
    }

    /// The ancestor half of [`trigger`](Self::trigger): recursive watchers of
    /// every proper ancestor of `path` not already in `found[start..]`.
    fn trigger_ancestors(&self, path: &str, start: usize, found: &mut Vec<WatcherId>) {
        let mut seen: Option<FixedSet<WatcherId>> = None;
        for ancestor in ancestors(path) {
            let Some(watchers) = self.by_path.get(ancestor) else {
                continue;
            };
            if watchers.recursive == 0 {
                continue;
            }
            let seen = seen.get_or_insert_with(|| found[start..].iter().copied().collect());
            for (&watcher, mode) in &watchers.modes {
                if mode.is_recursive() && seen.insert(watcher) {
                    found.push(watcher);
                }
            }
        }
    }

    /// Number of (path, watcher) entries (3.8's `WatchManager.size()`).
    pub(super) fn size(&self) -> usize {
        self.entries
    }

    /// (watchers, paths, entries) as 3.8's `getWatchesSummary` counts them;
    /// watchers include those whose watches all fired (see `by_watcher`).
    pub(super) fn summary(&self) -> (usize, usize, usize) {
        (self.by_watcher.len(), self.by_path.len(), self.entries)
    }

    /// Each watcher with the paths it watches, sorted by watcher then path.
    pub(super) fn by_watcher(&self) -> Vec<(WatcherId, Vec<Arc<str>>)> {
        let mut report: Vec<(WatcherId, Vec<Arc<str>>)> = self
            .by_watcher
            .iter()
            .map(|(&watcher, paths)| (watcher, sorted(paths.iter().cloned())))
            .collect();
        report.sort_unstable_by_key(|(watcher, _)| *watcher);
        report
    }

    /// Each watched path with its watchers, sorted by path then watcher.
    pub(super) fn by_path(&self) -> Vec<(Arc<str>, Vec<WatcherId>)> {
        let mut report: Vec<(Arc<str>, Vec<WatcherId>)> = self
            .by_path
            .iter()
            .map(|(path, watchers)| (path.clone(), sorted(watchers.modes.keys().copied())))
            .collect();
        report.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        report
    }
}

/// The items of `items`, sorted.
fn sorted<T: Ord>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.collect();
    items.sort_unstable();
    items
}

/// The proper ancestors of an absolute path, nearest first:
/// `/a/b/c` gives `/a/b`, `/a`, `/`; `/` gives nothing.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    let mut rest = path;
    std::iter::from_fn(move || {
        if rest == "/" {
            return None;
        }
        let cut = rest.rfind('/')?;
        rest = if cut == 0 { "/" } else { &rest[..cut] };
        Some(rest)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_walk_up_to_the_root() {
        assert_eq!(
            ancestors("/a/b/c").collect::<Vec<_>>(),
            vec!["/a/b", "/a", "/"]
        );
        assert_eq!(ancestors("/a").collect::<Vec<_>>(), vec!["/"]);
        assert_eq!(ancestors("/").count(), 0);
    }

    #[test]
    fn counters_follow_adds_overwrites_and_removals() {
        let mut table = WatchTable::default();
        table.add("/a", 1, WatcherMode::PersistentRecursive);
        table.add("/a", 1, WatcherMode::Standard);
        assert_eq!((table.size(), table.recursive), (1, 0));
        table.add("/a", 1, WatcherMode::PersistentRecursive);
        table.add("/b", 2, WatcherMode::PersistentRecursive);
        assert_eq!((table.size(), table.recursive), (2, 2));
        table.remove_watcher(1);
        assert_eq!((table.size(), table.recursive), (1, 1));
        assert!(table.remove("/b", 2));
        assert_eq!((table.size(), table.recursive), (0, 0));
        assert!(table.by_path.is_empty());
    }
}
