//! `paddock import`, `purge` and `inspect` through their library entry
//! points, on the Apache ZooKeeper 3.8 dataDir fixture (tests/fixtures/zk38).

use paddock::cli::{
    run_import, run_inspect, run_purge, DataDirs, ImportArgs, InspectArgs, InspectTarget, PurgeArgs,
};
use paddock::storage::{
    recover, recover_zookeeper, snap_dir, snapshot_bytes, snapshot_files, write_snapshot,
};
use paddock::tree::DataTree;
use std::path::{Path, PathBuf};

mod common;
use common::TempDir;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zk38")
}

fn import_into(target: &Path) -> anyhow::Result<()> {
    run_import(ImportArgs {
        from: fixture_dir(),
        from_log: None,
        to: None,
        data_dir: Some(target.to_path_buf()),
        data_log_dir: None,
    })
}

#[test]
fn imported_zookeeper_dir_recovers_as_zookeeper_state() {
    let target = TempDir::new("import");
    import_into(&target.0).unwrap();
    let zk = recover_zookeeper(&fixture_dir(), &fixture_dir(), false).unwrap();
    let got = recover(&target.0, &target.0, false).unwrap();
    assert_eq!(got.last_zxid, zk.last_zxid);
    assert_eq!(got.sessions, zk.sessions);
    assert_eq!(
        snapshot_bytes(&got.tree, &got.sessions),
        snapshot_bytes(&zk.tree, &zk.sessions)
    );
    assert!(got.tree.get("/marker").is_some());
}

#[test]
fn import_into_its_own_source_dir_leaves_version_2_alone() {
    let dir = TempDir::new("import-inplace");
    let v2 = dir.0.join("version-2");
    std::fs::create_dir(&v2).unwrap();
    for entry in std::fs::read_dir(fixture_dir().join("version-2")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), v2.join(entry.file_name())).unwrap();
    }
    let before = std::fs::read_dir(&v2).unwrap().count();
    run_import(ImportArgs {
        from: dir.0.clone(),
        from_log: None,
        to: None,
        data_dir: Some(dir.0.clone()),
        data_log_dir: None,
    })
    .unwrap();
    assert_eq!(std::fs::read_dir(&v2).unwrap().count(), before);
    assert_eq!(snapshot_files(&snap_dir(&dir.0)).unwrap().len(), 1);
}

#[test]
fn import_refuses_a_target_with_paddock_data() {
    let target = TempDir::new("import-twice");
    import_into(&target.0).unwrap();
    let err = import_into(&target.0).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err:#}");
}

#[test]
fn import_refuses_a_source_without_version_2() {
    let source = TempDir::new("import-nosrc");
    let target = TempDir::new("import-nosrc-target");
    let err = run_import(ImportArgs {
        from: source.0.clone(),
        from_log: None,
        to: None,
        data_dir: Some(target.0.clone()),
        data_log_dir: None,
    })
    .unwrap_err();
    assert!(err.to_string().contains("version-2"), "{err:#}");
    assert!(!snap_dir(&target.0).exists());
}

/// Writes `count` snapshots of an empty tree named 1..=count.
fn snapshots(dir: &Path, count: i64) {
    for zxid in 1..=count {
        let mut tree = DataTree::new(false);
        tree.set_last_processed_zxid(zxid);
        write_snapshot(&snap_dir(dir), &tree, &[], zxid).unwrap();
    }
}

#[test]
fn purge_with_a_zoo_cfg_keeps_the_newest_n_snapshots() {
    let dir = TempDir::new("purge");
    snapshots(&dir.0, 6);
    let cfg = dir.0.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!("dataDir={}\nclientPort=2999\n", dir.0.display()),
    )
    .unwrap();
    run_purge(PurgeArgs {
        count: Some(4),
        dirs: DataDirs {
            config: Some(cfg),
            data_dir: None,
            data_log_dir: None,
        },
    })
    .unwrap();
    let kept: Vec<i64> = snapshot_files(&snap_dir(&dir.0))
        .unwrap()
        .into_iter()
        .map(|(z, _)| z)
        .collect();
    assert_eq!(kept, [6, 5, 4, 3]);
}

#[test]
fn purge_refuses_to_keep_fewer_than_three() {
    let dir = TempDir::new("purge-2");
    snapshots(&dir.0, 5);
    let err = run_purge(PurgeArgs {
        count: Some(2),
        dirs: DataDirs {
            config: None,
            data_dir: Some(dir.0.clone()),
            data_log_dir: None,
        },
    })
    .unwrap_err();
    assert!(err.to_string().contains("at least 3"), "{err:#}");
    assert_eq!(snapshot_files(&snap_dir(&dir.0)).unwrap().len(), 5);
}

#[test]
fn inspect_reads_zookeeper_logs_and_snapshots_and_reports_missing_files() {
    let v2 = fixture_dir().join("version-2");
    let log = InspectTarget::Log {
        file: v2.join("log.1"),
    };
    run_inspect(InspectArgs { target: log }).unwrap();
    let snapshot = InspectTarget::Snapshot {
        file: v2.join("snapshot.14"),
        data: true,
        extended_types: true,
    };
    run_inspect(InspectArgs { target: snapshot }).unwrap();
    let missing = InspectTarget::Log {
        file: v2.join("log.ffff"),
    };
    let err = run_inspect(InspectArgs { target: missing }).unwrap_err();
    assert!(err.to_string().contains("log.ffff"), "{err:#}");
}
