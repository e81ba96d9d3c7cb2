use super::acl_cache::open_acl_unsafe;
use super::*;

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
    assert_eq!(tree.get("/p").unwrap().stat.cversion, 2);
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
    assert_eq!(tree.get("/p").unwrap().children.java_order().len(), 10);
    create(&mut tree, "/p/late", 0, 50);
    assert_eq!(tree.get("/p").unwrap().children.java_order().len(), 11);
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
    for missing in ["", "a", "/a/", "/a//b", "/a/b/c/d", "/b", "/a/b/"] {
        assert!(tree.get(missing).is_none(), "{missing:?}");
    }
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
