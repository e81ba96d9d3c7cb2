//! End-to-end tests of the log, snapshots and recovery: round trips, torn
//! tails cut at every offset, flipped bytes, rolling, snapshot fallback.

use super::logfile::{FRAME_LEN, HEADER_LEN};
use super::test_dir::TestDir;
use super::*;
use crate::jute::records::{CloseSessionTxn, CreateSessionTxn, CreateTxn, TxnHeader};
use crate::proto::OpCode;
use crate::tree::acl_cache::open_acl_unsafe;
use crate::tree::DataTree;
use crate::txn::{apply::apply, Txn, TxnBody};

const SESSION: i64 = 0x1234;

fn txn(zxid: i64, ty: OpCode, body: TxnBody) -> Txn {
    let header = TxnHeader {
        client_id: SESSION,
        cxid: zxid as i32,
        zxid,
        time: 1000 + zxid,
        r#type: ty as i32,
    };
    Txn {
        header,
        body,
        digest: None,
    }
}

/// Txn `zxid`: zxid 1 opens the session, 2.. create `/n<zxid>`, ephemeral when even.
fn sample_txn(zxid: i64) -> Txn {
    if zxid == 1 {
        return txn(
            1,
            OpCode::CreateSession,
            TxnBody::CreateSession(CreateSessionTxn { time_out: 30_000 }),
        );
    }
    let create = CreateTxn {
        path: format!("/n{zxid}"),
        data: Some(format!("data {zxid}").into_bytes()),
        acl: open_acl_unsafe(),
        ephemeral: zxid % 2 == 0,
        parent_c_version: -1,
    };
    txn(zxid, OpCode::Create, TxnBody::Create(create))
}

/// The snapshot image of the state the first `n` sample txns produce.
fn expected_image(n: i64) -> Vec<u8> {
    let mut tree = DataTree::new(false);
    (1..=n).for_each(|z| drop(apply(&mut tree, &sample_txn(z))));
    let sessions = if n >= 1 {
        vec![(SESSION, 30_000)]
    } else {
        Vec::new()
    };
    snapshot_bytes(&tree, &sessions)
}

fn image(r: &Recovered) -> Vec<u8> {
    snapshot_bytes(&r.tree, &r.sessions)
}

/// Appends sample txns `zxids` to the log in `base` and syncs.
fn write_log(base: &Path, pre_alloc: u64, zxids: std::ops::RangeInclusive<i64>) {
    let mut log = TxnLog::open(&log_dir(base), pre_alloc, true).unwrap();
    for z in zxids {
        log.append(z, &sample_txn(z).to_bytes()).unwrap();
    }
    log.sync().unwrap();
}

fn log_files(base: &Path) -> Vec<PathBuf> {
    files_by_zxid(&log_dir(base), "log.")
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// Offset of the frame of the `index`th record (0-based) in a file of sample txns starting at `first`.
fn record_offset(first: i64, index: i64) -> usize {
    HEADER_LEN
        + (first..first + index)
            .map(|z| FRAME_LEN + sample_txn(z).to_bytes().len())
            .sum::<usize>()
}

#[test]
fn log_round_trip_rebuilds_tree_and_sessions() {
    let dir = TestDir::new();
    write_log(dir.path(), 1 << 16, 1..=20);
    let r = recover(dir.path(), dir.path(), false).unwrap();
    assert_eq!(r.last_zxid, 20);
    assert_eq!(r.sessions, [(SESSION, 30_000)]);
    assert_eq!(r.truncated, None);
    assert_eq!(r.tree.get("/n7").unwrap().data(), Some(&b"data 7"[..]));
    assert_eq!(r.tree.ephemerals(SESSION).len(), 10);
    assert_eq!(image(&r), expected_image(20));
    assert_eq!(log_files(dir.path()), [log_dir(dir.path()).join("log.1")]);
}

#[test]
fn close_session_replay_removes_session_and_its_ephemerals() {
    let dir = TestDir::new();
    write_log(dir.path(), 1 << 16, 1..=4);
    let close = CloseSessionTxn {
        paths2_delete: vec!["/n2".into(), "/n4".into()],
    };
    let mut log = TxnLog::open(&log_dir(dir.path()), 1 << 16, true).unwrap();
    log.append(
        5,
        &txn(5, OpCode::CloseSession, TxnBody::CloseSession(close)).to_bytes(),
    )
    .unwrap();
    log.sync().unwrap();
    let r = recover(dir.path(), dir.path(), false).unwrap();
    assert!(r.sessions.is_empty());
    assert_eq!(r.tree.ephemerals_count(), 0);
    assert!(r.tree.get("/n3").is_some());
}

#[test]
fn empty_data_dir_recovers_a_fresh_tree() {
    let dir = TestDir::new();
    let r = recover(&dir.path().join("missing"), dir.path(), true).unwrap();
    assert_eq!(r.last_zxid, 0);
    assert_eq!(r.tree.node_count(), 5);
    assert!(r.sessions.is_empty() && r.truncated.is_none());
    assert_eq!(image(&r), snapshot_bytes(&DataTree::new(false), &[]));
}

#[test]
fn reopened_log_knows_its_last_zxid_and_continues_in_a_new_file() {
    let dir = TestDir::new();
    write_log(dir.path(), 1 << 16, 1..=6);
    let log = TxnLog::open(&log_dir(dir.path()), 1 << 16, true).unwrap();
    assert_eq!(log.last_zxid(), 6);
    drop(log);
    write_log(dir.path(), 1 << 16, 7..=9);
    let names: Vec<_> = log_files(dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["log.1", "log.7"]);
    assert_eq!(
        image(&recover(dir.path(), dir.path(), false).unwrap()),
        expected_image(9)
    );
}

#[test]
fn txn_log_can_move_to_a_blocking_thread() {
    fn assert_send<T: Send>(_: &T) {}
    let dir = TestDir::new();
    let log = TxnLog::open(dir.path(), 4096, false).unwrap();
    assert_send(&log);
    let handle = std::thread::spawn(move || {
        let mut log = log;
        log.append(1, &sample_txn(1).to_bytes()).unwrap();
        log.sync().unwrap();
        log.last_zxid()
    });
    assert_eq!(handle.join().unwrap(), 1);
}

#[test]
#[should_panic(expected = "zxid went backwards")]
fn appending_an_old_zxid_is_a_bug() {
    let dir = TestDir::new();
    let mut log = TxnLog::open(dir.path(), 4096, false).unwrap();
    log.append(5, &sample_txn(5).to_bytes()).unwrap();
    log.append(5, &sample_txn(5).to_bytes()).unwrap();
}

#[test]
fn full_files_roll_over_and_replay_in_order() {
    let dir = TestDir::new();
    // Room for about three records per file.
    write_log(dir.path(), 300, 1..=30);
    let files = log_files(dir.path());
    assert!(files.len() >= 8, "{files:?}");
    assert!(files
        .iter()
        .all(|p| std::fs::metadata(p).unwrap().len() >= 300));
    let r = recover(dir.path(), dir.path(), false).unwrap();
    assert_eq!(image(&r), expected_image(30));
}

#[test]
fn roll_starts_a_new_file_and_oversized_records_get_a_bigger_file() {
    let dir = TestDir::new();
    let mut log = TxnLog::open(&log_dir(dir.path()), 64, false).unwrap();
    log.append(1, &sample_txn(1).to_bytes()).unwrap();
    log.roll();
    log.append(2, &sample_txn(2).to_bytes()).unwrap();
    log.sync().unwrap();
    drop(log);
    assert_eq!(log_files(dir.path()).len(), 2);
    assert_eq!(
        image(&recover(dir.path(), dir.path(), false).unwrap()),
        expected_image(2)
    );
}

#[test]
fn torn_last_record_is_cut_at_every_offset() {
    let dir = TestDir::new();
    write_log(dir.path(), 4096, 1..=5);
    let path = log_dir(dir.path()).join("log.1");
    let original = std::fs::read(&path).unwrap();
    let last = record_offset(1, 4);
    let end = record_offset(1, 5);
    for cut in last..end {
        std::fs::write(&path, &original[..cut]).unwrap();
        let r = recover(dir.path(), dir.path(), false).unwrap();
        assert_eq!(image(&r), expected_image(4), "cut at {cut}");
        let torn = original[last..cut].iter().any(|&b| b != 0);
        assert_eq!(
            r.truncated,
            torn.then(|| (path.clone(), last as u64)),
            "cut at {cut}"
        );
        if torn {
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(bytes.len(), cut, "length kept, tail zeroed");
            assert!(bytes[last..].iter().all(|&b| b == 0));
        }
        // The log is usable again: the lost txn is written anew and recovered.
        write_log(dir.path(), 4096, 5..=5);
        assert_eq!(
            image(&recover(dir.path(), dir.path(), false).unwrap()),
            expected_image(5)
        );
        std::fs::remove_file(log_dir(dir.path()).join("log.5")).unwrap();
    }
}

#[test]
fn flipped_byte_in_last_record_is_cut() {
    let dir = TestDir::new();
    write_log(dir.path(), 4096, 1..=5);
    let path = log_dir(dir.path()).join("log.1");
    let last = record_offset(1, 4);
    for at in [last, last + 5, last + 9, record_offset(1, 5) - 1] {
        let mut bytes = std::fs::read(&path).unwrap();
        let saved = bytes.clone();
        bytes[at] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let r = recover(dir.path(), dir.path(), false).unwrap();
        assert_eq!(
            r.truncated,
            Some((path.clone(), last as u64)),
            "flip at {at}"
        );
        assert_eq!(image(&r), expected_image(4));
        std::fs::write(&path, &saved).unwrap();
    }
}

#[test]
fn flipped_byte_in_a_middle_record_is_corruption() {
    let dir = TestDir::new();
    write_log(dir.path(), 4096, 1..=5);
    let path = log_dir(dir.path()).join("log.1");
    let third = record_offset(1, 2);
    for at in [third, third + 4, third + 6, third + 20] {
        let mut bytes = std::fs::read(&path).unwrap();
        let saved = bytes.clone();
        bytes[at] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        match recover(dir.path(), dir.path(), false) {
            Err(StorageError::Corrupt {
                path: p, offset, ..
            }) => assert_eq!((p, offset), (path.clone(), third as u64)),
            other => panic!("flip at {at}: expected Corrupt, got {other:?}"),
        }
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "a corrupt log is left untouched"
        );
        std::fs::write(&path, &saved).unwrap();
    }
}

/// The log of issue #17's paused follower: valid records, with committed
/// txns missing between two of them. Replaying past the hole would serve a
/// tree without them and report a last zxid beyond them.
#[test]
fn a_hole_in_the_log_is_refused_as_corruption() {
    let dir = TestDir::new();
    write_log(dir.path(), 1 << 12, 1..=5);
    write_log(dir.path(), 1 << 12, 8..=10);
    let err = recover(dir.path(), dir.path(), false).unwrap_err();
    match &err {
        StorageError::Corrupt { path, offset, .. } => {
            assert_eq!(path, &log_dir(dir.path()).join("log.8"));
            assert_eq!(*offset, HEADER_LEN as u64);
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert!(err.to_string().contains("hole"), "{err}");
}

#[test]
fn corruption_at_the_end_of_a_file_followed_by_another_file_is_refused() {
    let dir = TestDir::new();
    write_log(dir.path(), 1 << 12, 1..=3);
    write_log(dir.path(), 1 << 12, 4..=5);
    let path = log_dir(dir.path()).join("log.1");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[record_offset(1, 2) + FRAME_LEN] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = recover(dir.path(), dir.path(), false).unwrap_err();
    assert!(matches!(err, StorageError::Corrupt { .. }), "{err}");
    assert!(
        err.to_string().contains("log.1") && err.to_string().contains("offset"),
        "{err}"
    );
}

#[test]
fn zero_length_record_stops_replay() {
    let dir = TestDir::new();
    write_log(dir.path(), 4096, 1..=5);
    let path = log_dir(dir.path()).join("log.1");
    let mut bytes = std::fs::read(&path).unwrap();
    let third = record_offset(1, 2);
    bytes[third + 4..third + 8].fill(0);
    std::fs::write(&path, &bytes).unwrap();
    let r = recover(dir.path(), dir.path(), false).unwrap();
    assert_eq!(r.truncated, None);
    assert_eq!(image(&r), expected_image(2));
}

#[test]
fn snapshot_round_trips_tree_sessions_and_zxid() {
    let dir = TestDir::new();
    let mut tree = DataTree::new(false);
    (1..=9).for_each(|z| drop(apply(&mut tree, &sample_txn(z))));
    let sessions = [(SESSION, 30_000), (7, 4000)];
    let path = write_snapshot(dir.path(), &tree, &sessions, 9).unwrap();
    assert_eq!(path, dir.path().join("snapshot.9"));
    let (back, back_sessions, zxid) = read_snapshot(&path, false).unwrap();
    assert_eq!(
        (back_sessions.as_slice(), zxid, back.last_processed_zxid()),
        (&sessions[..], 9, 9)
    );
    assert_eq!(
        snapshot_bytes(&back, &sessions),
        snapshot_bytes(&tree, &sessions)
    );
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        &bytes[bytes.len() - 5..],
        [0, 0, 0, 1, b'/'],
        "ZooKeeper's validity pre-check"
    );
}

#[test]
fn recovery_replays_after_the_newest_valid_snapshot_and_skips_a_bad_one() {
    let dir = TestDir::new();
    write_log(dir.path(), 1 << 12, 1..=6);
    let mut tree = DataTree::new(false);
    let sessions = [(SESSION, 30_000)];
    (1..=4).for_each(|z| drop(apply(&mut tree, &sample_txn(z))));
    write_snapshot(&snap_dir(dir.path()), &tree, &sessions, 4).unwrap();
    write_log(dir.path(), 1 << 12, 7..=10);
    (5..=8).for_each(|z| drop(apply(&mut tree, &sample_txn(z))));
    let newest = write_snapshot(&snap_dir(dir.path()), &tree, &sessions, 8).unwrap();
    assert_eq!(
        image(&recover(dir.path(), dir.path(), false).unwrap()),
        expected_image(10)
    );
    let mut bytes = std::fs::read(&newest).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&newest, &bytes).unwrap();
    assert!(matches!(
        read_snapshot(&newest, false),
        Err(StorageError::Corrupt { .. })
    ));
    let r = recover(dir.path(), dir.path(), false).unwrap();
    assert_eq!((r.last_zxid, image(&r)), (10, expected_image(10)));
}

#[test]
fn only_bad_snapshots_is_an_error() {
    let dir = TestDir::new();
    let path = write_snapshot_bytes(
        &snap_dir(dir.path()),
        3,
        &snapshot_bytes(&DataTree::new(false), &[]),
    )
    .unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 1)
        .unwrap();
    assert!(matches!(
        recover(dir.path(), dir.path(), false),
        Err(StorageError::Corrupt { .. })
    ));
}

#[test]
fn read_log_returns_records_after_a_zxid_across_files() {
    let dir = TestDir::new();
    write_log(dir.path(), 300, 1..=20);
    let got = read_log(&log_dir(dir.path()), 7).unwrap();
    let zxids: Vec<i64> = got.iter().map(|(z, _)| *z).collect();
    assert_eq!(zxids, (8..=20).collect::<Vec<_>>());
    assert_eq!(got[0].1, sample_txn(8).to_bytes());
    assert_eq!(read_log(&log_dir(dir.path()), 20).unwrap(), []);
    assert_eq!(read_log(&dir.path().join("none"), 0).unwrap(), []);
}

#[test]
fn truncate_log_drops_records_above_a_zxid_and_appends_resume() {
    let dir = TestDir::new();
    write_log(dir.path(), 300, 1..=20);
    truncate_log(&log_dir(dir.path()), 11).unwrap();
    let r = recover(dir.path(), dir.path(), false).unwrap();
    assert_eq!((r.last_zxid, &r.truncated), (11, &None));
    assert_eq!(image(&r), expected_image(11));
    write_log(dir.path(), 300, 12..=14);
    assert_eq!(
        image(&recover(dir.path(), dir.path(), false).unwrap()),
        expected_image(14)
    );
    truncate_log(&log_dir(dir.path()), 0).unwrap();
    assert!(log_files(dir.path()).is_empty());
}

#[test]
fn purge_keeps_newest_snapshots_and_the_logs_they_need() {
    let dir = TestDir::new();
    let mut tree = DataTree::new(false);
    let sessions = [(SESSION, 30_000)];
    let mut log = TxnLog::open(&log_dir(dir.path()), 1 << 12, true).unwrap();
    for z in 1..=50 {
        log.append(z, &sample_txn(z).to_bytes()).unwrap();
        apply(&mut tree, &sample_txn(z));
        if z % 10 == 5 {
            log.sync().unwrap();
            write_snapshot(&snap_dir(dir.path()), &tree, &sessions, z).unwrap();
            log.roll();
        }
    }
    log.sync().unwrap();
    drop(log);
    // Snapshots 5, 15, 25, 35, 45; logs 1, 6, 16, 26, 36, 46 (names in hex).
    let removed = purge(dir.path(), dir.path(), 3).unwrap();
    let mut names: Vec<_> = removed
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["log.1", "log.6", "snapshot.5", "snapshot.f"]);
    assert_eq!(
        image(&recover(dir.path(), dir.path(), false).unwrap()),
        expected_image(50)
    );
    assert!(
        purge(dir.path(), dir.path(), 1).unwrap().is_empty(),
        "at least 3 are kept"
    );
}

/// Run with `cargo test --release --lib storage::tests::serialize_a_million -- --ignored --nocapture`.
#[test]
#[ignore = "timing measurement: a million nodes"]
fn serialize_a_million_small_nodes() {
    let mut tree = DataTree::new(false);
    let acl = open_acl_unsafe();
    let mut ev = Vec::new();
    for i in 0..1000 {
        tree.create_node(&format!("/d{i}"), Some(b"x"), &acl, 0, -1, 1, 1, &mut ev)
            .unwrap();
        for j in 0..999 {
            tree.create_node(
                &format!("/d{i}/n{j}"),
                Some(b"0123456789"),
                &acl,
                0,
                -1,
                2,
                2,
                &mut ev,
            )
            .unwrap();
            ev.clear();
        }
    }
    let start = std::time::Instant::now();
    let bytes = snapshot_bytes(&tree, &[]);
    let serialized = start.elapsed();
    let dir = TestDir::new();
    let path = write_snapshot_bytes(dir.path(), 2, &bytes).unwrap();
    let written = start.elapsed();
    let (back, _, _) = read_snapshot(&path, false).unwrap();
    println!(
        "{} nodes, {} bytes: serialize {serialized:?}, +write+fsync {:?}, read {:?}",
        tree.node_count(),
        bytes.len(),
        written - serialized,
        start.elapsed() - written
    );
    assert_eq!(back.node_count(), tree.node_count());
}

/// Run with `cargo test --release --lib storage::tests::group_commit -- --ignored --nocapture`.
#[test]
#[ignore = "timing measurement: group commit throughput"]
fn group_commit_throughput() {
    for batch in [1u32, 10, 100, 1000] {
        let dir = TestDir::new();
        let count = (batch * 200).min(50_000);
        let records: Vec<Vec<u8>> = (1..=count)
            .map(|z| sample_txn(i64::from(z)).to_bytes())
            .collect();
        let mut log = TxnLog::open(&log_dir(dir.path()), 64 << 20, true).unwrap();
        let start = std::time::Instant::now();
        for (z, record) in (1..).zip(&records) {
            log.append(z, record).unwrap();
            if z % i64::from(batch) == 0 {
                log.sync().unwrap();
            }
        }
        let elapsed = start.elapsed();
        println!(
            "batch {batch}: {count} records in {elapsed:?}, {:?} per sync",
            elapsed / (count / batch)
        );
        drop(log);
        let start = std::time::Instant::now();
        let r = recover(dir.path(), dir.path(), false).unwrap();
        println!("  recovery {:?}", start.elapsed());
        assert_eq!(r.last_zxid, i64::from(count));
    }
}
