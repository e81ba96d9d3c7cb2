use super::acl_cache::open_acl_unsafe;
use super::*;

/// Asserts that `read` (a reloaded tree) lists the children of each of
/// `paths` in the order `tree` does, with the same Stat.
pub(super) fn assert_same_listing(read: &DataTree, tree: &DataTree, paths: &[&str]) {
    for &p in paths {
        let order = |t: &DataTree| -> Vec<String> {
            let node = t.get(p).unwrap();
            node.children()
                .java_order()
                .iter()
                .map(|n| n.to_string())
                .collect()
        };
        assert_eq!(order(read), order(tree), "{p}");
        assert_eq!(read.stat(p), tree.stat(p), "{p}");
    }
}

fn create(tree: &mut DataTree, path: &str, owner: i64, zxid: i64) -> Stat {
    tree.create_node(
        path,
        Some(b"d"),
        &open_acl_unsafe(),
        owner,
        -1,
        zxid,
        1000,
        &mut Vec::new(),
    )
    .unwrap()
}

#[test]
fn fresh_tree_counts_five_nodes_like_zookeeper() {
    let tree = DataTree::new(false);
    assert_eq!(tree.node_count(), 5);
    assert_eq!(tree.stat("/").unwrap().cversion, -1);
    assert_eq!(tree.stat("/zookeeper").unwrap().cversion, -2);
    assert_eq!(tree.all_children_number("/"), Some(3));
}

#[test]
fn client_cversion_counts_creations_and_deletions() {
    let mut tree = DataTree::new(false);
    create(&mut tree, "/p", 0, 1);
    create(&mut tree, "/p/a", 0, 2);
    create(&mut tree, "/p/b", 0, 3);
    tree.delete_node("/p/a", 4, &mut Vec::new()).unwrap();
    let stat = tree.stat("/p").unwrap();
    assert_eq!(stat.cversion, 3);
    assert_eq!(stat.num_children, 1);
    assert_eq!(stat.pzxid, 4);
    assert_eq!(tree.get("/p").unwrap().stat().cversion, 2);
}

#[test]
fn ephemerals_are_indexed_by_owner_and_containers_hide_their_owner() {
    let mut tree = DataTree::new(false);
    let stat = create(&mut tree, "/e", 0x42, 1);
    assert_eq!(stat.ephemeral_owner, 0x42);
    assert_eq!(
        tree.ephemerals(0x42)
            .java_order()
            .into_iter()
            .collect::<Vec<_>>(),
        ["/e"]
    );
    let stat = create(&mut tree, "/c", CONTAINER_EPHEMERAL_OWNER, 2);
    assert_eq!(stat.ephemeral_owner, 0);
    assert_eq!(tree.containers().collect::<Vec<_>>(), ["/c"]);
    tree.delete_node("/e", 3, &mut Vec::new()).unwrap();
    assert_eq!(tree.ephemerals_count(), 0);
}

#[test]
fn ttl_owner_is_recognised_only_with_extended_types() {
    let owner = EphemeralType::ttl_owner(5000);
    assert_eq!(EphemeralType::of(owner, true), EphemeralType::Ttl(5000));
    assert_eq!(EphemeralType::of(owner, false), EphemeralType::Normal);
}

#[test]
fn create_refuses_existing_and_orphan_nodes() {
    let mut tree = DataTree::new(false);
    create(&mut tree, "/a", 0, 1);
    let err = tree.create_node("/a", None, &open_acl_unsafe(), 0, -1, 2, 0, &mut Vec::new());
    assert_eq!(err, Err(ErrorCode::NodeExists));
    let err = tree.create_node(
        "/x/y",
        None,
        &open_acl_unsafe(),
        0,
        -1,
        2,
        0,
        &mut Vec::new(),
    );
    assert_eq!(err, Err(ErrorCode::NoNode));
}

#[test]
fn reaper_picks_used_empty_containers_and_expired_ttl_nodes() {
    let mut tree = DataTree::new(true);
    create(&mut tree, "/c", CONTAINER_EPHEMERAL_OWNER, 1);
    create(&mut tree, "/unused", CONTAINER_EPHEMERAL_OWNER, 2);
    create(&mut tree, "/c/x", 0, 3);
    assert!(
        tree.reapable(5000, 0).is_empty(),
        "a container with a child stays"
    );
    tree.delete_node("/c/x", 4, &mut Vec::new()).unwrap();
    assert_eq!(tree.reapable(5000, 0), ["/c"]);
    assert_eq!(tree.reapable(5000, 100), ["/c", "/unused"]);
    create(&mut tree, "/t", EphemeralType::ttl_owner(500), 5);
    assert!(!tree.reapable(1400, 0).contains(&"/t".to_string()));
    assert!(tree.reapable(1600, 0).contains(&"/t".to_string()));
}

#[test]
fn snapshot_after_listing_and_deleting_children_sees_the_current_children() {
    let mut tree = DataTree::new(false);
    create(&mut tree, "/p", 0, 1);
    for i in 0..20 {
        create(&mut tree, &format!("/p/c{i}"), 0, 2 + i);
    }
    let mut out = Vec::new();
    tree.write_snapshot_part(&mut out);
    for i in 0..10 {
        tree.delete_node(&format!("/p/c{i}"), 30 + i, &mut Vec::new())
            .unwrap();
    }
    assert_eq!(tree.get("/p").unwrap().children().java_order().len(), 10);
    create(&mut tree, "/p/late", 0, 50);
    assert_eq!(tree.get("/p").unwrap().children().java_order().len(), 11);
    let mut out = Vec::new();
    tree.write_snapshot_part(&mut out);
}

#[test]
fn paths_are_found_by_walking_down_their_names() {
    let mut tree = DataTree::new(false);
    create(&mut tree, "/a", 0, 1);
    create(&mut tree, "/a/b", 0, 2);
    create(&mut tree, "/a/b/c", 0, 3);
    assert_eq!(tree.stat("/a/b/c").unwrap().czxid, 3);
    assert_eq!(tree.stat("/a/b").unwrap().num_children, 1);
    for missing in ["a", "/a/", "/a//b", "/a/b/c/d", "/b", "/a/b/"] {
        assert!(tree.get(missing).is_none(), "{missing:?}");
    }
    // ZooKeeper's DataTree holds the root under "" too.
    assert_eq!(
        tree.stat("").unwrap().num_children,
        tree.stat("/").unwrap().num_children
    );
    assert_eq!(tree.all_children_number("/a"), Some(2));
    assert_eq!(tree.all_children_number("/"), Some(6));
    assert_eq!(tree.all_children_number("/nope"), None);
    assert_eq!(tree.node_count(), 8);
}

#[test]
fn a_replayed_delete_of_a_node_with_children_takes_them_with_it() {
    let mut tree = DataTree::new(false);
    let fresh_size = tree.approximate_data_size();
    create(&mut tree, "/p", 0, 1);
    create(&mut tree, "/p/q", 0, 2);
    create(&mut tree, "/p/q/r", 0, 3);
    create(&mut tree, "/p/s", 0, 4);
    tree.delete_node("/p", 5, &mut Vec::new()).unwrap();
    assert_eq!(tree.node_count(), 5, "as a fresh tree");
    assert_eq!(tree.approximate_data_size(), fresh_size);
    assert!(tree.get("/p/q").is_none());
    // A later create of the log puts them back.
    create(&mut tree, "/p", 0, 6);
    create(&mut tree, "/p/q", 0, 7);
    assert_eq!(tree.stat("/p/q").unwrap().czxid, 7);
}

#[test]
fn a_deep_tree_is_dropped_without_recursion() {
    let mut tree = DataTree::new(false);
    let mut path = String::new();
    for depth in 0..3000 {
        path.push_str("/d");
        create(&mut tree, &path, 0, depth + 1);
    }
    assert_eq!(tree.all_children_number("/d"), Some(2999));
    // A recursive drop of 3,000 levels needs far more than this stack.
    std::thread::Builder::new()
        .stack_size(32 << 10)
        .spawn(move || drop(tree))
        .unwrap()
        .join()
        .unwrap();
}

mod model {
    //! Random creates, deletes (of leaves, and of nodes with children as
    //! only a replay does), setData and snapshot reloads against a map of
    //! path to data.
    use super::super::acl_cache::{open_acl_unsafe, read_acl_unsafe};
    use super::super::fuzzy::{ChunkPool, FuzzyNodes};
    use super::super::DataTree;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Create {
            parent: usize,
            name: usize,
            len: usize,
        },
        Delete {
            node: usize,
        },
        SetData {
            node: usize,
            len: usize,
        },
        Reload {
            fuzzy: bool,
        },
    }

    const NAMES: [&str; 4] = ["a", "b", "c", "a-name-longer-than-twenty-two-bytes"];

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..64usize, 0..NAMES.len(), 0..40usize)
                .prop_map(|(parent, name, len)| Op::Create { parent, name, len }),
            2 => (0..64usize).prop_map(|node| Op::Delete { node }),
            1 => (0..64usize, 0..40usize).prop_map(|(node, len)| Op::SetData { node, len }),
            1 => any::<bool>().prop_map(|fuzzy| Op::Reload { fuzzy }),
        ]
    }

    fn reload(tree: &DataTree, fuzzy: bool) -> DataTree {
        let mut part = Vec::new();
        if fuzzy {
            let mut walk = FuzzyNodes::start(tree, &ChunkPool::default());
            while !walk.step(tree, 3) {}
            let chunks = walk.take_full_chunks();
            let end = walk.finish();
            part.extend(end.acls);
            chunks.iter().for_each(|c| part.extend_from_slice(c));
            part.extend(end.rest);
        } else {
            tree.write_snapshot_part(&mut part);
        }
        let (read, rest) = DataTree::read_snapshot_part(&part, false).unwrap();
        assert!(rest.is_empty());
        read
    }

    proptest! {
        #[test]
        fn the_tree_matches_a_map_of_paths(ops in proptest::collection::vec(op(), 1..80)) {
            let mut tree = DataTree::new(false);
            let fresh_size = tree.approximate_data_size();
            let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            let mut zxid = 0;
            for op in &ops {
                zxid += 1;
                let paths: Vec<String> = model.keys().cloned().collect();
                match *op {
                    Op::Create { parent, name, len } => {
                        let parent = if parent % (paths.len() + 1) == 0 {
                            ""
                        } else {
                            paths[parent % (paths.len() + 1) - 1].as_str()
                        };
                        let path = format!("{parent}/{}", NAMES[name]);
                        let data = vec![len as u8; len];
                        let acl = if len % 2 == 0 { open_acl_unsafe() } else { read_acl_unsafe() };
                        let made = tree.create_node(&path, Some(&data), &acl, 0, -1, zxid, 0, &mut Vec::new());
                        prop_assert_eq!(made.is_ok(), !model.contains_key(&path));
                        model.entry(path).or_insert(data);
                    }
                    Op::Delete { node } if !paths.is_empty() => {
                        let path = &paths[node % paths.len()];
                        tree.delete_node(path, zxid, &mut Vec::new()).unwrap();
                        let below = format!("{path}/");
                        model.retain(|p, _| p != path && !p.starts_with(&below));
                    }
                    Op::SetData { node, len } if !paths.is_empty() => {
                        let path = &paths[node % paths.len()];
                        let data = vec![7; len];
                        tree.set_data(path, Some(&data), 1, zxid, 0, &mut Vec::new()).unwrap();
                        model.insert(path.clone(), data);
                    }
                    Op::Reload { fuzzy } => tree = reload(&tree, fuzzy),
                    _ => {}
                }
                prop_assert_eq!(tree.node_count(), model.len() + 5);
                prop_assert_eq!(tree.all_children_number("/"), Some(model.len() + 3));
                let size: usize = model.iter().map(|(p, d)| p.len() + d.len()).sum();
                prop_assert_eq!(tree.approximate_data_size(), fresh_size + size as u64);
                for (path, data) in &model {
                    let node = tree.get(path);
                    prop_assert!(node.is_some(), "{} missing", path);
                    let node = node.unwrap();
                    prop_assert_eq!(node.data(), Some(&data[..]));
                    let below = format!("{path}/");
                    let children = model
                        .keys()
                        .filter(|p| p.strip_prefix(&below).is_some_and(|rest| !rest.contains('/')))
                        .count();
                    prop_assert_eq!(node.children().len(), children);
                }
                for path in paths.iter().filter(|p| !model.contains_key(*p)) {
                    prop_assert!(tree.get(path).is_none(), "{} still there", path);
                }
            }
        }
    }
}
