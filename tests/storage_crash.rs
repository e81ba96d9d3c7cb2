//! kill -9 at arbitrary points: a child process appends, syncs and reports
//! each acknowledged zxid, snapshots and rolls now and then; the parent kills
//! it mid-stream, recovers, and checks that no acknowledged write was lost
//! and that the state is exactly the prefix of txns up to the recovered zxid.
//! Several rounds run on the same directories, each starting from the last.

use paddock::jute::records::{CreateTxn, TxnHeader};
use paddock::proto::OpCode;
use paddock::storage::{log_dir, recover, snap_dir, write_snapshot, TxnLog};
use paddock::tree::acl_cache::open_acl_unsafe;
use paddock::txn::{apply::apply, Txn, TxnBody};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where the child writes; set by the parent.
const CHILD_DIR_ENV: &str = "PADDOCK_STORAGE_CRASH_DIR";
/// The child stops by itself after this many txns, so it cannot run forever.
const CHILD_TXNS_MAX: i64 = 200_000;
/// Snapshot (and roll the log) every this many txns.
const SNAPSHOT_EVERY: i64 = 700;

fn create(zxid: i64) -> Txn {
    let body = CreateTxn {
        path: format!("/n{zxid}"),
        data: Some(format!("value {zxid}").into_bytes()),
        acl: open_acl_unsafe(),
        ephemeral: false,
        parent_c_version: -1,
    };
    let header = TxnHeader {
        client_id: 1,
        cxid: 0,
        zxid,
        time: zxid,
        r#type: OpCode::Create as i32,
    };
    Txn {
        header,
        body: TxnBody::Create(body),
        digest: None,
    }
}

/// The child: recover, then append batches (sizes 1..=37), sync each and
/// print its last zxid as the acknowledgement.
#[test]
#[ignore = "child process of acknowledged_writes_survive_kill_9; run only by it"]
fn crash_writer_child() {
    let dir = PathBuf::from(std::env::var_os(CHILD_DIR_ENV).expect("run by the parent test"));
    let mut r = recover(&dir, &dir, false).unwrap();
    let mut log = TxnLog::open(&log_dir(&dir), 1 << 16, true).unwrap();
    let mut zxid = r.last_zxid;
    let mut out = std::io::stdout().lock();
    let mut batch = 1;
    while zxid < CHILD_TXNS_MAX {
        for _ in 0..batch {
            zxid += 1;
            let txn = create(zxid);
            log.append(zxid, &txn.to_bytes()).unwrap();
            apply(&mut r.tree, &txn);
            if zxid % SNAPSHOT_EVERY == 0 {
                write_snapshot(&snap_dir(&dir), &r.tree, &[], zxid).unwrap();
                log.roll();
            }
        }
        log.sync().unwrap();
        writeln!(out, "{zxid}").unwrap();
        out.flush().unwrap();
        batch = batch % 37 + 1;
    }
}

/// Runs the child until it acknowledged `acks` batches, then kills it.
/// Returns the last acknowledged zxid.
fn run_and_kill(dir: &Path, acks: usize) -> i64 {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_writer_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut last_ack = 0;
    let mut seen = 0;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let Ok(zxid) = line.unwrap().trim().parse::<i64>() else {
            continue;
        };
        last_ack = zxid;
        seen += 1;
        if seen == acks {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(seen, acks, "the child stopped early");
    last_ack
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let dir = std::env::temp_dir().join(format!("paddock-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut truncations = 0;
    for round in 0..8 {
        let acked = run_and_kill(&dir, 20 + round * 37);
        let r = recover(&dir, &dir, false).unwrap();
        truncations += usize::from(r.truncated.is_some());
        assert!(
            r.last_zxid >= acked,
            "round {round}: lost acknowledged writes: {} < {acked}",
            r.last_zxid
        );
        assert_eq!(
            r.tree.node_count() as i64,
            5 + r.last_zxid,
            "round {round}: exactly the prefix"
        );
        for z in [1, acked, r.last_zxid] {
            let node = r.tree.get(&format!("/n{z}")).unwrap();
            assert_eq!(node.data(), Some(format!("value {z}").as_bytes()));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    println!("{truncations} of 8 rounds cut a torn tail");
}
