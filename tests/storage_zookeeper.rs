//! Apache ZooKeeper 3.8.0's files: a snapshot reads into the same tree a
//! client saw (every Stat field, data and ACL, plus sessions, ephemerals,
//! containers and TTL nodes), and a whole dataDir (snapshots + logs) recovers
//! to ZooKeeper's final state from any of its snapshots. The fixture and the
//! client's view come from tests/fixtures/zk38/make_fixture.py.

mod common;

use paddock::storage::{read_snapshot, recover_zookeeper, snapshot_bytes, write_snapshot_bytes};
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zk38")
}

fn expected_text() -> String {
    std::fs::read_to_string(fixture_dir().join("expected.txt")).unwrap()
}

/// The snapshot expected.txt names: the first taken after the tracked writes.
fn fixture_snapshot() -> PathBuf {
    let text = expected_text();
    let name = text
        .lines()
        .next()
        .unwrap()
        .strip_prefix("snapshot ")
        .unwrap();
    fixture_dir().join("version-2").join(name)
}

/// One `node` line of expected.txt: path, data, the 11 Stat fields, ACL.
struct Expected {
    path: String,
    data: Vec<u8>,
    stat: [i64; 11],
    acl: String,
}

fn expected() -> (i64, u32, Vec<Expected>) {
    let text = expected_text();
    let mut lines = text.lines().skip(1);
    let session: Vec<&str> = lines.next().unwrap().split(' ').collect();
    let nodes = lines
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            assert_eq!((f[0], f.len()), ("node", 15), "{line}");
            let stat: Vec<i64> = f[3..14].iter().map(|v| v.parse().unwrap()).collect();
            Expected {
                path: f[1].into(),
                data: common::unhex(f[2]),
                stat: stat.try_into().unwrap(),
                acl: f[14].into(),
            }
        })
        .collect();
    (
        session[1].parse().unwrap(),
        session[2].parse().unwrap(),
        nodes,
    )
}

#[test]
fn zookeeper_38_snapshot_reads_as_the_client_saw_it() {
    let (session_id, timeout_ms, nodes) = expected();
    let (tree, sessions, zxid) = read_snapshot(&fixture_snapshot(), true).unwrap();
    assert_eq!(tree.last_processed_zxid(), zxid);
    assert!(sessions.contains(&(session_id, timeout_ms)), "{sessions:?}");
    for e in &nodes {
        let node = tree
            .get(&e.path)
            .unwrap_or_else(|| panic!("{} missing", e.path));
        let s = tree.stat(&e.path).unwrap();
        let got = [
            s.czxid,
            s.mzxid,
            s.ctime,
            s.mtime,
            s.version as i64,
            s.cversion as i64,
            s.aversion as i64,
            s.ephemeral_owner,
            s.data_length as i64,
            s.num_children as i64,
            s.pzxid,
        ];
        assert_eq!(got, e.stat, "stat of {}", e.path);
        assert_eq!(
            node.data().unwrap_or_default(),
            e.data.as_slice(),
            "data of {}",
            e.path
        );
        let acl: Vec<String> = tree
            .acl_of(node)
            .iter()
            .map(|a| format!("{}:{}:{}", a.perms, a.id.scheme, a.id.id))
            .collect();
        assert_eq!(acl.join(","), e.acl, "acl of {}", e.path);
    }
    assert_eq!(
        tree.ephemerals(session_id)
            .java_order()
            .into_iter()
            .collect::<Vec<_>>(),
        ["/app/eph"]
    );
    assert_eq!(tree.containers().collect::<Vec<_>>(), ["/box"]);
    assert_eq!(tree.ttls().collect::<Vec<_>>(), ["/ttl"]);
}

#[test]
fn zookeeper_snapshot_survives_a_paddock_rewrite() {
    let (tree, sessions, zxid) = read_snapshot(&fixture_snapshot(), true).unwrap();
    let dir = std::env::temp_dir().join(format!("paddock-zk-rewrite-{}", std::process::id()));
    let bytes = snapshot_bytes(&tree, &sessions);
    let path = write_snapshot_bytes(&dir, zxid, &bytes).unwrap();
    let (again, again_sessions, again_zxid) = read_snapshot(&path, true).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!((again_sessions, again_zxid), (sessions.clone(), zxid));
    assert_eq!(snapshot_bytes(&again, &sessions), bytes);
}

#[test]
fn flipped_byte_in_a_zookeeper_snapshot_fails_its_checksum() {
    let original = std::fs::read(fixture_snapshot()).unwrap();
    let dir = std::env::temp_dir().join(format!("paddock-zk-flip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(fixture_snapshot().file_name().unwrap());
    let mut bytes = original.clone();
    // Inside the data of a node, where only the checksum can notice.
    let at = bytes.windows(6).position(|w| w == b"secret").unwrap();
    bytes[at] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let result = read_snapshot(&path, true);
    std::fs::remove_dir_all(&dir).unwrap();
    let err = result.expect_err("checksum must fail").to_string();
    assert!(err.contains("checksum"), "{err}");
}

/// Stat fields of `path` in `tree`, in expected.txt's order.
fn stat_fields(tree: &paddock::tree::DataTree, path: &str) -> [i64; 11] {
    let s = tree.stat(path).unwrap_or_else(|| panic!("{path} missing"));
    [
        s.czxid,
        s.mzxid,
        s.ctime,
        s.mtime,
        s.version as i64,
        s.cversion as i64,
        s.aversion as i64,
        s.ephemeral_owner,
        s.data_length as i64,
        s.num_children as i64,
        s.pzxid,
    ]
}

#[test]
fn zookeeper_data_dir_recovers_to_its_final_state() {
    let (session_id, _, nodes) = expected();
    let r = recover_zookeeper(&fixture_dir(), &fixture_dir(), true).unwrap();
    assert_eq!(r.truncated, None);
    assert_eq!(r.tree.last_processed_zxid(), r.last_zxid);
    // The client closed its session last: its ephemeral went with it.
    assert!(
        r.sessions.iter().all(|(id, _)| *id != session_id),
        "{:?}",
        r.sessions
    );
    assert!(r.tree.get("/app/eph").is_none());
    let app = r.tree.stat("/app").unwrap();
    assert_eq!((app.num_children, app.pzxid), (2, r.last_zxid));
    assert_eq!(r.tree.get("/marker").unwrap().data(), Some(&b"11"[..]));
    for e in nodes.iter().filter(|e| !e.path.starts_with("/app")) {
        assert_eq!(stat_fields(&r.tree, &e.path), e.stat, "stat of {}", e.path);
    }
}

#[test]
fn every_zookeeper_snapshot_replays_to_the_same_state() {
    let full = recover_zookeeper(&fixture_dir(), &fixture_dir(), true).unwrap();
    let want = snapshot_bytes(&full.tree, &full.sessions);
    let source = fixture_dir().join("version-2");
    let mut names: Vec<String> = std::fs::read_dir(&source)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let snapshots: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("snapshot."))
        .collect();
    assert!(snapshots.len() > 3);
    for snapshot in snapshots {
        let dir = std::env::temp_dir().join(format!(
            "paddock-zk-replay-{}-{snapshot}",
            std::process::id()
        ));
        let v2 = dir.join("version-2");
        std::fs::create_dir_all(&v2).unwrap();
        for name in names
            .iter()
            .filter(|n| n.starts_with("log.") || *n == snapshot)
        {
            std::fs::copy(source.join(name), v2.join(name)).unwrap();
        }
        let r = recover_zookeeper(&dir, &dir, true);
        std::fs::remove_dir_all(&dir).unwrap();
        let r = r.unwrap();
        assert_eq!(r.last_zxid, full.last_zxid, "from {snapshot}");
        // Each txn's digest agrees with the replayed tree once replay is
        // past the snapshot's fuzzy window (snapshot.17 holds 0x18's change).
        assert_eq!(r.tree.digest_mismatches(), 0, "from {snapshot}");
        assert!(
            snapshot_bytes(&r.tree, &r.sessions) == want,
            "from {snapshot}: state differs"
        );
    }
}

/// tests/fixtures/zk38-digest: a ZooKeeper 3.8 dataDir of 600-odd changes of
/// every kind a client makes, and what ZooKeeper's `hash` answered at the
/// end. Replayed, the tree logs the same digests at the same zxids.
#[test]
fn a_replayed_zookeeper_log_gives_zookeepers_digests() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zk38-digest");
    let hash = std::fs::read_to_string(dir.join("hash.txt")).unwrap();
    let expected: Vec<(i64, i64)> = hash
        .lines()
        .map(|line| {
            let (zxid, digest) = line.split_once(": ").unwrap();
            (
                i64::from_str_radix(zxid, 16).unwrap(),
                digest.parse().unwrap(),
            )
        })
        .collect();
    assert!(expected.len() >= 4, "{hash}");
    let r = recover_zookeeper(&dir, &dir, false).unwrap();
    assert_eq!(r.tree.digest_log(), expected);
    // Every record carries ZooKeeper's TxnDigest; replay compared each.
    assert_eq!(r.tree.digest_mismatches(), 0);
}

/// The byte range of a ZooKeeper log's records (after the 16-byte header,
/// up to the zero fill or the end): frames of checksum, length, payload, 'B'.
fn zk_record_bytes(log: &[u8]) -> std::ops::Range<usize> {
    let mut end = 16;
    while let Some(len) = log.get(end + 8..end + 12) {
        let len = i32::from_be_bytes(len.try_into().unwrap());
        if len <= 0 || end + 12 + len as usize + 1 > log.len() {
            break;
        }
        end += 12 + len as usize + 1;
    }
    16..end
}

/// A ZooKeeper 3.8.0 follower whose sync failed half way (ZOOKEEPER-4394)
/// syncs again and logs the same txns a second time in the same file;
/// ZooKeeper starts from such a log, and so must a takeover: the repeats
/// are skipped and the state is the same.
#[test]
fn a_zookeeper_log_holding_txns_twice_recovers_as_the_original() {
    let original = recover_zookeeper(&fixture_dir(), &fixture_dir(), true).unwrap();
    let dir = std::env::temp_dir().join(format!("paddock-zk-relog-{}", std::process::id()));
    let logs = dir.join("version-2");
    std::fs::create_dir_all(&logs).unwrap();
    let mut repeated = 0;
    for entry in std::fs::read_dir(fixture_dir().join("version-2")).unwrap() {
        let entry = entry.unwrap();
        let mut bytes = std::fs::read(entry.path()).unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.starts_with("log.") {
            let records = zk_record_bytes(&bytes);
            let again = bytes[records.clone()].to_vec();
            repeated += usize::from(!again.is_empty());
            bytes.splice(records.end..records.end, again);
        }
        std::fs::write(logs.join(&name), bytes).unwrap();
    }
    assert!(repeated > 1, "the fixture has logs with records");
    let relogged = recover_zookeeper(&dir, &dir, true);
    std::fs::remove_dir_all(&dir).unwrap();
    let relogged = relogged.expect("repeated txns are skipped, not corruption");
    assert_eq!(relogged.last_zxid, original.last_zxid);
    assert_eq!(
        snapshot_bytes(&relogged.tree, &relogged.sessions),
        snapshot_bytes(&original.tree, &original.sessions)
    );
}
