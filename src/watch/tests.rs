//! Behaviour of [`WatchManager`] against ZooKeeper 3.8's DataTree + WatchManager.

use super::*;
use crate::proto::codes::event_type::{
    NODE_CHILDREN_CHANGED as CHILDREN, NODE_CREATED as CREATED, NODE_DATA_CHANGED as CHANGED,
    NODE_DELETED as DELETED,
};

const A: WatcherId = 1;
const B: WatcherId = 2;
const C: WatcherId = 3;

/// (watcher, event type, path) triples, comparable in tests.
type Fired = Vec<(WatcherId, i32, String)>;

fn flatten(out: Vec<(WatcherId, WatchEvent)>) -> Fired {
    out.into_iter()
        .map(|(w, e)| (w, e.event_type, e.path.to_string()))
        .collect()
}

fn created(m: &mut WatchManager, path: &str, parent: &str) -> Fired {
    let mut out = Vec::new();
    m.node_created(path, parent, &mut out);
    flatten(out)
}

fn deleted(m: &mut WatchManager, path: &str, parent: &str) -> Fired {
    let mut out = Vec::new();
    m.node_deleted(path, parent, &mut out);
    flatten(out)
}

fn changed(m: &mut WatchManager, path: &str) -> Fired {
    let mut out = Vec::new();
    m.data_changed(path, &mut out);
    flatten(out)
}

fn ev(w: WatcherId, t: i32, p: &str) -> (WatcherId, i32, String) {
    (w, t, p.to_string())
}

/// The same events, ignoring the order across watchers (ZooKeeper's is hash order).
fn sorted(mut fired: Fired) -> Fired {
    fired.sort();
    fired
}

#[test]
fn data_watch_fires_once_on_set_data() {
    let mut m = WatchManager::new();
    m.add_data_watch("/a", A);
    assert_eq!(changed(&mut m, "/a"), vec![ev(A, CHANGED, "/a")]);
    assert_eq!(changed(&mut m, "/a"), vec![]);
    assert_eq!(m.watch_count(), 0);
}

#[test]
fn exists_watch_fires_on_create_before_the_parent_child_watch() {
    let mut m = WatchManager::new();
    m.add_data_watch("/p/c", A);
    m.add_child_watch("/p", A);
    assert_eq!(
        created(&mut m, "/p/c", "/p"),
        vec![ev(A, CREATED, "/p/c"), ev(A, CHILDREN, "/p")]
    );
}

#[test]
fn top_level_create_fires_root_child_watch() {
    let mut m = WatchManager::new();
    m.add_child_watch("/", A);
    assert_eq!(created(&mut m, "/x", "/"), vec![ev(A, CHILDREN, "/")]);
}

#[test]
fn child_watch_ignores_data_changes() {
    let mut m = WatchManager::new();
    m.add_child_watch("/a", A);
    assert_eq!(changed(&mut m, "/a"), vec![]);
    assert_eq!(m.watch_count(), 1);
}

#[test]
fn data_watch_ignores_child_changes() {
    let mut m = WatchManager::new();
    m.add_data_watch("/a", A);
    assert_eq!(created(&mut m, "/a/b", "/a"), vec![]);
    assert_eq!(m.watch_count(), 1);
}

#[test]
fn persistent_watch_fires_for_its_node_and_children_and_stays() {
    let mut m = WatchManager::new();
    m.add_persistent("/a", A);
    assert_eq!(created(&mut m, "/a", "/"), vec![ev(A, CREATED, "/a")]);
    assert_eq!(changed(&mut m, "/a"), vec![ev(A, CHANGED, "/a")]);
    assert_eq!(changed(&mut m, "/a"), vec![ev(A, CHANGED, "/a")]);
    assert_eq!(created(&mut m, "/a/b", "/a"), vec![ev(A, CHILDREN, "/a")]);
    assert_eq!(deleted(&mut m, "/a/b", "/a"), vec![ev(A, CHILDREN, "/a")]);
    assert_eq!(deleted(&mut m, "/a", "/"), vec![ev(A, DELETED, "/a")]);
    assert_eq!(m.watch_count(), 2, "one entry in each table");
}

#[test]
fn persistent_watch_ignores_deeper_descendants() {
    let mut m = WatchManager::new();
    m.add_persistent("/a", A);
    assert_eq!(changed(&mut m, "/a/b"), vec![]);
    assert_eq!(created(&mut m, "/a/b/c", "/a/b"), vec![]);
}

#[test]
fn recursive_watch_fires_for_every_descendant_but_never_children_changed() {
    let mut m = WatchManager::new();
    m.add_persistent_recursive("/a", A);
    assert_eq!(created(&mut m, "/a", "/"), vec![ev(A, CREATED, "/a")]);
    assert_eq!(created(&mut m, "/a/b", "/a"), vec![ev(A, CREATED, "/a/b")]);
    assert_eq!(
        created(&mut m, "/a/b/c", "/a/b"),
        vec![ev(A, CREATED, "/a/b/c")]
    );
    assert_eq!(changed(&mut m, "/a/b/c"), vec![ev(A, CHANGED, "/a/b/c")]);
    assert_eq!(
        deleted(&mut m, "/a/b/c", "/a/b"),
        vec![ev(A, DELETED, "/a/b/c")]
    );
    assert_eq!(changed(&mut m, "/a"), vec![ev(A, CHANGED, "/a")]);
    assert_eq!(
        changed(&mut m, "/ab"),
        vec![],
        "a sibling sharing a prefix is not a descendant"
    );
    assert_eq!(m.watch_count(), 2);
}

#[test]
fn recursive_watch_on_root_sees_everything() {
    let mut m = WatchManager::new();
    m.add_persistent_recursive("/", A);
    assert_eq!(created(&mut m, "/x", "/"), vec![ev(A, CREATED, "/x")]);
    assert_eq!(changed(&mut m, "/x/y/z"), vec![ev(A, CHANGED, "/x/y/z")]);
}

#[test]
fn a_watcher_gets_one_event_per_trigger_however_it_registered() {
    let mut m = WatchManager::new();
    m.add_persistent_recursive("/", A);
    m.add_persistent_recursive("/a", A);
    m.add_persistent_recursive("/a/b", A);
    m.add_data_watch("/a/b", B);
    m.add_persistent_recursive("/a", B);
    assert_eq!(
        sorted(changed(&mut m, "/a/b")),
        vec![ev(A, CHANGED, "/a/b"), ev(B, CHANGED, "/a/b")]
    );
    assert_eq!(
        sorted(changed(&mut m, "/a/b/c")),
        vec![ev(A, CHANGED, "/a/b/c"), ev(B, CHANGED, "/a/b/c")]
    );
}

#[test]
fn delete_notifies_a_watcher_in_both_tables_once() {
    let mut m = WatchManager::new();
    m.add_data_watch("/p/c", A);
    m.add_child_watch("/p/c", A);
    m.add_child_watch("/p/c", B);
    m.add_child_watch("/p", C);
    assert_eq!(
        sorted(deleted(&mut m, "/p/c", "/p")),
        vec![
            ev(A, DELETED, "/p/c"),
            ev(B, DELETED, "/p/c"),
            ev(C, CHILDREN, "/p")
        ]
    );
    assert_eq!(
        m.watch_count(),
        0,
        "the suppressed child watch is consumed too"
    );
}

#[test]
fn delete_orders_node_events_before_the_parent_event() {
    let mut m = WatchManager::new();
    m.add_child_watch("/p", A);
    m.add_child_watch("/p/c", A);
    m.add_data_watch("/p/c", B);
    let fired = deleted(&mut m, "/p/c", "/p");
    assert_eq!(
        fired,
        vec![
            ev(B, DELETED, "/p/c"),
            ev(A, DELETED, "/p/c"),
            ev(A, CHILDREN, "/p")
        ]
    );
}

#[test]
fn delete_under_recursive_and_persistent_parent_watch() {
    let mut m = WatchManager::new();
    m.add_persistent_recursive("/p", A);
    m.add_persistent("/p", B);
    assert_eq!(
        deleted(&mut m, "/p/c", "/p"),
        vec![ev(A, DELETED, "/p/c"), ev(B, CHILDREN, "/p")]
    );
}

#[test]
fn standard_watch_after_persistent_replaces_it_as_in_3_8() {
    let mut m = WatchManager::new();
    m.add_persistent("/a", A);
    m.add_data_watch("/a", A);
    assert_eq!(changed(&mut m, "/a"), vec![ev(A, CHANGED, "/a")]);
    assert_eq!(changed(&mut m, "/a"), vec![], "the data entry was one-shot");
    assert_eq!(
        created(&mut m, "/a/b", "/a"),
        vec![ev(A, CHILDREN, "/a")],
        "the child-table entry is still persistent"
    );
}

#[test]
fn persistent_watch_after_standard_stays() {
    let mut m = WatchManager::new();
    m.add_data_watch("/a", A);
    m.add_persistent("/a", A);
    assert_eq!(changed(&mut m, "/a"), vec![ev(A, CHANGED, "/a")]);
    assert_eq!(changed(&mut m, "/a"), vec![ev(A, CHANGED, "/a")]);
}

#[test]
fn remove_watcher_drops_every_watch_of_the_connection() {
    let mut m = WatchManager::new();
    m.add_data_watch("/a", A);
    m.add_child_watch("/a", A);
    m.add_persistent("/b", A);
    m.add_persistent_recursive("/", A);
    m.add_data_watch("/a", B);
    m.remove_watcher(A);
    assert_eq!(m.watch_count(), 1);
    assert_eq!(changed(&mut m, "/b/x"), vec![]);
    assert_eq!(changed(&mut m, "/a"), vec![ev(B, CHANGED, "/a")]);
    assert_eq!(
        m.summary(),
        (1, 0, 0),
        "B fired but stays listed until it closes"
    );
    m.remove_watcher(B);
    assert_eq!(m.summary(), (0, 0, 0));
}

#[test]
fn check_watches_matches_each_type_by_table() {
    let mut m = WatchManager::new();
    m.add_data_watch("/d", A);
    m.add_child_watch("/c", A);
    assert!(m.check_watches("/d", A, watcher_type::DATA));
    assert!(!m.check_watches("/d", A, watcher_type::CHILDREN));
    assert!(m.check_watches("/d", A, watcher_type::ANY));
    assert!(m.check_watches("/c", A, watcher_type::CHILDREN));
    assert!(!m.check_watches("/c", A, watcher_type::DATA));
    assert!(m.check_watches("/c", A, watcher_type::ANY));
    assert!(!m.check_watches("/none", A, watcher_type::ANY));
    assert!(!m.check_watches("/d", A, 4), "3.9-only types match nothing");
}

#[test]
fn check_watches_counts_any_connection_as_in_3_8() {
    let mut m = WatchManager::new();
    m.add_data_watch("/d", A);
    assert!(m.check_watches("/d", B, watcher_type::DATA));
}

#[test]
fn check_watches_sees_persistent_and_recursive_in_both_tables() {
    let mut m = WatchManager::new();
    m.add_persistent("/p", A);
    m.add_persistent_recursive("/r", A);
    for path in ["/p", "/r"] {
        assert!(m.check_watches(path, A, watcher_type::DATA));
        assert!(m.check_watches(path, A, watcher_type::CHILDREN));
    }
    assert!(
        !m.check_watches("/r/x", A, watcher_type::DATA),
        "descendants do not count"
    );
}

#[test]
fn remove_watches_by_type() {
    let mut m = WatchManager::new();
    m.add_data_watch("/a", A);
    m.add_child_watch("/a", A);
    assert!(
        !m.remove_watches("/a", B, watcher_type::DATA),
        "only the caller's own"
    );
    assert!(m.remove_watches("/a", A, watcher_type::DATA));
    assert!(!m.remove_watches("/a", A, watcher_type::DATA));
    assert!(m.check_watches("/a", A, watcher_type::CHILDREN));
    assert!(m.remove_watches("/a", A, watcher_type::ANY));
    assert!(!m.remove_watches("/a", A, watcher_type::ANY));
    assert_eq!(m.watch_count(), 0);
}

#[test]
fn remove_watches_any_needs_only_one_table() {
    let mut m = WatchManager::new();
    m.add_child_watch("/a", A);
    assert!(m.remove_watches("/a", A, watcher_type::ANY));
    assert!(
        !m.remove_watches("/a", A, 5),
        "unknown types remove nothing"
    );
}

#[test]
fn remove_data_watches_leaves_the_persistent_child_entry() {
    let mut m = WatchManager::new();
    m.add_persistent("/a", A);
    assert!(m.remove_watches("/a", A, watcher_type::DATA));
    assert_eq!(changed(&mut m, "/a"), vec![]);
    assert_eq!(created(&mut m, "/a/b", "/a"), vec![ev(A, CHILDREN, "/a")]);
    assert!(m.remove_watches("/a", A, watcher_type::CHILDREN));
    assert_eq!(m.watch_count(), 0);
}

#[test]
fn recursive_child_entry_alone_still_reports_descendant_deletes() {
    // 3.8 registers recursive watches in the child table too; once the data
    // entry is removed, the child entry's ancestor match on NodeDeleted shows.
    let mut m = WatchManager::new();
    m.add_persistent_recursive("/a", A);
    assert!(m.remove_watches("/a", A, watcher_type::DATA));
    assert_eq!(changed(&mut m, "/a/b"), vec![]);
    assert_eq!(created(&mut m, "/a/b", "/a"), vec![]);
    assert_eq!(deleted(&mut m, "/a/b", "/a"), vec![ev(A, DELETED, "/a/b")]);
}

#[test]
fn summary_and_dumps_report_the_data_table() {
    let mut m = WatchManager::new();
    m.add_data_watch("/x", B);
    m.add_data_watch("/a", B);
    m.add_data_watch("/a", A);
    m.add_child_watch("/c", C);
    m.add_persistent("/p", A);
    assert_eq!(m.summary(), (2, 3, 4));
    assert_eq!(m.watch_count(), 6);
    let by_watcher: Vec<(WatcherId, Vec<String>)> = m
        .by_watcher()
        .into_iter()
        .map(|(w, paths)| (w, paths.iter().map(|p| p.to_string()).collect()))
        .collect();
    assert_eq!(
        by_watcher,
        vec![
            (A, vec!["/a".to_string(), "/p".to_string()]),
            (B, vec!["/a".to_string(), "/x".to_string()])
        ]
    );
    let by_path: Vec<(String, Vec<WatcherId>)> = m
        .by_path()
        .into_iter()
        .map(|(p, ws)| (p.to_string(), ws))
        .collect();
    assert_eq!(
        by_path,
        vec![
            ("/a".to_string(), vec![A, B]),
            ("/p".to_string(), vec![A]),
            ("/x".to_string(), vec![B])
        ]
    );
}

#[test]
fn fired_watcher_stays_listed_with_no_paths() {
    let mut m = WatchManager::new();
    m.add_data_watch("/a", A);
    changed(&mut m, "/a");
    assert_eq!(m.summary(), (1, 0, 0));
    assert_eq!(m.by_watcher(), vec![(A, vec![])]);
    assert!(m.by_path().is_empty());
}

#[test]
fn fan_out_to_ten_thousand_watchers_fires_each_once() {
    let mut m = WatchManager::new();
    let watchers: Vec<WatcherId> = (0..10_000).collect();
    for &w in &watchers {
        m.add_data_watch("/hot", w);
    }
    let mut out = Vec::new();
    m.data_changed("/hot", &mut out);
    let mut got: Vec<WatcherId> = out.iter().map(|(w, _)| *w).collect();
    got.sort_unstable();
    assert_eq!(got, watchers);
    assert!(out
        .iter()
        .all(|(_, e)| Arc::ptr_eq(&e.path, &out[0].1.path)));
    assert_eq!(m.watch_count(), 0);
}
