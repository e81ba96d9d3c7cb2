//! In-place takeover: `paddock server` on a dataDir that still holds Apache
//! ZooKeeper 3.8's `version-2/` files serves ZooKeeper's state, leaves the files
//! untouched, and keeps the state in its own files from then on.
mod common;

use common::*;
use paddock::jute::records::*;
use std::path::{Path, PathBuf};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/zk38/version-2");

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v
}

fn start_on(data: &Path) -> TestServer {
    let data = data.to_path_buf();
    // Superuser so every node can be read whatever its ACL.
    TestServer::start_with(move |s| {
        s.data_dir = data.clone();
        s.data_log_dir = data;
        s.skip_acl = true;
    })
}

/// Every node's data and Stat as served, compared with ZooKeeper's files read directly.
fn assert_serves(server: &TestServer, expected: &paddock::tree::DataTree, paths: &[String]) {
    let mut c = Client::connect(server.addr);
    for path in paths {
        let (_, r) = c.call(
            4,
            &GetDataRequest {
                path: path.clone(),
                watch: false,
            },
        );
        assert_eq!(r.header.err, 0, "{path}");
        let got: GetDataResponse = r.decode();
        let node = expected.get(path).unwrap();
        assert_eq!(got.data.as_deref(), node.data(), "data of {path}");
        assert_eq!(got.stat, node.client_stat(false), "stat of {path}");
    }
}

fn all_paths(tree: &paddock::tree::DataTree) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec!["/".to_string()];
    while let Some(p) = stack.pop() {
        for child in tree.get(&p).unwrap().children().iter() {
            stack.push(paddock::tree::path::join(&p, child.name()));
        }
        out.push(p);
    }
    out
}

#[test]
fn a_zookeeper_datadir_is_served_as_is_and_left_untouched() {
    let dir = TempDir::new("takeover");
    let zk_files = dir.0.join("version-2");
    copy_dir(Path::new(FIXTURE), &zk_files);
    let before = files(&zk_files);
    let expected = paddock::storage::recover_zookeeper(&dir.0, &dir.0, false).unwrap();
    let paths = all_paths(&expected.tree);
    assert!(paths.len() > 10);

    let server = start_on(&dir.0);
    assert_serves(&server, &expected.tree, &paths);
    let mut c = Client::connect(server.addr);
    let (_, r) = c.call(1, &create_req("/written-by-paddock", b"new", 0));
    assert_eq!(r.header.err, 0);
    assert!(
        r.header.zxid > expected.last_zxid,
        "zxids continue after ZooKeeper's"
    );
    drop(c);
    drop(server);
    assert_eq!(
        files(&zk_files),
        before,
        "ZooKeeper's files are never changed"
    );

    // From now on Paddock's own files hold the state: a restart without
    // ZooKeeper's files serves the same tree plus what was written since.
    std::fs::remove_dir_all(&zk_files).unwrap();
    let server = start_on(&dir.0);
    // Every node but the root, which has gained a child.
    let not_root: Vec<String> = paths.iter().filter(|p| *p != "/").cloned().collect();
    assert_serves(&server, &expected.tree, &not_root);
    let mut c = Client::connect(server.addr);
    let (_, r) = c.call(
        4,
        &GetDataRequest {
            path: "/written-by-paddock".into(),
            watch: false,
        },
    );
    assert_eq!(
        r.decode::<GetDataResponse>().data.as_deref(),
        Some(&b"new"[..])
    );
}
