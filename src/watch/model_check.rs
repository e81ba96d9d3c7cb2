//! Property test: [`WatchManager`] against a naive model of ZooKeeper 3.8's
//! rules (a flat list of (path, watcher) → mode entries per table, scanned
//! in full on every trigger).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

const PATHS: [&str; 6] = ["/", "/a", "/a/b", "/a/b/c", "/ab", "/b"];

/// One step of a random scenario.
#[derive(Debug, Clone)]
enum Op {
    Watch(usize, WatcherId, u8),
    Created(usize),
    Deleted(usize),
    Changed(usize),
    Close(WatcherId),
    Remove(usize, WatcherId, i32),
    Check(usize, WatcherId, i32),
}

fn op() -> impl Strategy<Value = Op> {
    let path = 0..PATHS.len();
    let watcher = 1..4u64;
    prop_oneof![
        (path.clone(), watcher.clone(), 0..4u8).prop_map(|(p, w, k)| Op::Watch(p, w, k)),
        path.clone().prop_map(Op::Created),
        path.clone().prop_map(Op::Deleted),
        path.clone().prop_map(Op::Changed),
        watcher.clone().prop_map(Op::Close),
        (path.clone(), watcher.clone(), 1..4i32).prop_map(|(p, w, t)| Op::Remove(p, w, t)),
        (path, watcher, 1..4i32).prop_map(|(p, w, t)| Op::Check(p, w, t)),
    ]
}

/// One table of the model.
#[derive(Default)]
struct ModelTable {
    entries: BTreeMap<(String, WatcherId), WatcherMode>,
    /// Watchers that registered here and have not closed (3.8 keeps them listed).
    known: BTreeSet<WatcherId>,
}

impl ModelTable {
    fn add(&mut self, path: &str, w: WatcherId, mode: WatcherMode) {
        self.entries.insert((path.to_string(), w), mode);
        self.known.insert(w);
    }

    fn trigger(&mut self, path: &str, event_type: i32) -> BTreeSet<WatcherId> {
        let mut found = BTreeSet::new();
        let children = event_type == event_type::NODE_CHILDREN_CHANGED;
        for ((p, w), mode) in &self.entries {
            let exact = p == path;
            let above = p != path && is_ancestor(p, path);
            let fires = match mode {
                WatcherMode::PersistentRecursive => (exact || above) && !children,
                _ => exact,
            };
            if fires {
                found.insert(*w);
            }
        }
        self.entries
            .retain(|(p, _), mode| !(p == path && *mode == WatcherMode::Standard));
        found
    }

    fn close(&mut self, w: WatcherId) {
        self.entries.retain(|(_, ew), _| *ew != w);
        self.known.remove(&w);
    }

    fn remove(&mut self, path: &str, w: WatcherId) -> bool {
        self.entries.remove(&(path.to_string(), w)).is_some()
    }

    fn has_path(&self, path: &str) -> bool {
        self.entries.keys().any(|(p, _)| p == path)
    }

    fn summary(&self) -> (usize, usize, usize) {
        let paths: BTreeSet<&String> = self.entries.keys().map(|(p, _)| p).collect();
        (self.known.len(), paths.len(), self.entries.len())
    }
}

fn is_ancestor(ancestor: &str, path: &str) -> bool {
    ancestor == "/" || path.starts_with(&format!("{ancestor}/"))
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(cut) => &path[..cut],
        None => unreachable!("absolute paths only"),
    }
}

fn mode_of(kind: u8) -> WatcherMode {
    match kind {
        0 | 1 => WatcherMode::Standard,
        2 => WatcherMode::Persistent,
        _ => WatcherMode::PersistentRecursive,
    }
}

#[derive(Default)]
struct Model {
    data: ModelTable,
    child: ModelTable,
}

/// Expected events as groups of (type, path, watchers), in emission order.
type Groups = Vec<(i32, String, BTreeSet<WatcherId>)>;

impl Model {
    fn watch(&mut self, path: &str, w: WatcherId, kind: u8) {
        let mode = mode_of(kind);
        match kind {
            0 => self.data.add(path, w, mode),
            1 => self.child.add(path, w, mode),
            _ => {
                self.data.add(path, w, mode);
                self.child.add(path, w, mode);
            }
        }
    }

    fn created(&mut self, path: &str) -> Groups {
        let data = self.data.trigger(path, event_type::NODE_CREATED);
        let up = self
            .child
            .trigger(parent(path), event_type::NODE_CHILDREN_CHANGED);
        vec![
            (event_type::NODE_CREATED, path.to_string(), data),
            (
                event_type::NODE_CHILDREN_CHANGED,
                parent(path).to_string(),
                up,
            ),
        ]
    }

    fn deleted(&mut self, path: &str) -> Groups {
        let data = self.data.trigger(path, event_type::NODE_DELETED);
        let child = self.child.trigger(path, event_type::NODE_DELETED);
        let up = self
            .child
            .trigger(parent(path), event_type::NODE_CHILDREN_CHANGED);
        let both = data.union(&child).copied().collect();
        vec![
            (event_type::NODE_DELETED, path.to_string(), both),
            (
                event_type::NODE_CHILDREN_CHANGED,
                parent(path).to_string(),
                up,
            ),
        ]
    }
}

/// Checks `out` holds exactly the `expected` groups, in group order.
fn assert_groups(out: &[(WatcherId, WatchEvent)], expected: &Groups) {
    let mut group = 0;
    let mut got: Vec<BTreeSet<WatcherId>> = vec![BTreeSet::new(); expected.len()];
    for (w, e) in out {
        while group < expected.len()
            && (expected[group].0, expected[group].1.as_str()) != (e.event_type, &*e.path)
        {
            group += 1;
        }
        assert!(
            group < expected.len(),
            "unexpected or misordered event {e:?}"
        );
        assert!(got[group].insert(*w), "watcher {w} notified twice of {e:?}");
    }
    let want: Vec<BTreeSet<WatcherId>> = expected.iter().map(|g| g.2.clone()).collect();
    assert_eq!(got, want);
}

fn step(m: &mut WatchManager, model: &mut Model, op: &Op) {
    let mut out = Vec::new();
    match *op {
        Op::Watch(p, w, kind) => {
            let path = PATHS[p];
            match kind {
                0 => m.add_data_watch(path, w),
                1 => m.add_child_watch(path, w),
                2 => m.add_persistent(path, w),
                _ => m.add_persistent_recursive(path, w),
            }
            model.watch(path, w, kind);
        }
        Op::Created(p) if p > 0 => {
            m.node_created(PATHS[p], parent(PATHS[p]), &mut out);
            assert_groups(&out, &model.created(PATHS[p]));
        }
        Op::Deleted(p) if p > 0 => {
            m.node_deleted(PATHS[p], parent(PATHS[p]), &mut out);
            assert_groups(&out, &model.deleted(PATHS[p]));
        }
        Op::Created(_) | Op::Deleted(_) => {}
        Op::Changed(p) => {
            m.data_changed(PATHS[p], &mut out);
            let found = model.data.trigger(PATHS[p], event_type::NODE_DATA_CHANGED);
            let expected = vec![(event_type::NODE_DATA_CHANGED, PATHS[p].to_string(), found)];
            assert_groups(&out, &expected);
        }
        Op::Close(w) => {
            m.remove_watcher(w);
            model.data.close(w);
            model.child.close(w);
        }
        Op::Remove(p, w, t) => {
            let path = PATHS[p];
            let expected = match t {
                watcher_type::CHILDREN => model.child.remove(path, w),
                watcher_type::DATA => model.data.remove(path, w),
                _ => {
                    let child = model.child.remove(path, w);
                    model.data.remove(path, w) || child
                }
            };
            assert_eq!(m.remove_watches(path, w, t), expected);
        }
        Op::Check(p, w, t) => {
            let path = PATHS[p];
            let expected = match t {
                watcher_type::CHILDREN => model.child.has_path(path),
                watcher_type::DATA => model.data.has_path(path),
                _ => model.child.has_path(path) || model.data.has_path(path),
            };
            assert_eq!(m.check_watches(path, w, t), expected);
        }
    }
}

proptest! {
    #[test]
    fn watch_manager_matches_the_naive_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut m = WatchManager::new();
        let mut model = Model::default();
        for op in &ops {
            step(&mut m, &mut model, op);
            prop_assert_eq!(m.summary(), model.data.summary());
            prop_assert_eq!(
                m.watch_count(),
                model.data.entries.len() + model.child.entries.len()
            );
        }
    }
}
