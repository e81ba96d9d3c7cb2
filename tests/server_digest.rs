//! TxnDigest through a real server: every txn the server logs carries the
//! tree digest it leaves, replaying the log finds each one matching, and
//! `mntr` reports `zk_digest_mismatches_count`.
mod common;

use common::*;
use paddock::jute::records::*;
use paddock::txn::Txn;
use std::io::{Read, Write};
use std::net::TcpStream;

const CREATE: i32 = 1;
const DELETE: i32 = 2;
const SET_DATA: i32 = 5;

/// What the four-letter word `word` answers.
fn four_letter_word(server: &TestServer, word: &str) -> String {
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(word.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn logged_txns_carry_the_digest_replay_finds_and_mntr_counts_none_amiss() {
    let dir = TempDir::new("digest");
    let data_dir = dir.0.clone();
    let server = TestServer::start_with(move |s| {
        s.data_dir = data_dir.clone();
        s.data_log_dir = data_dir;
    });
    let mut c = Client::connect(server.addr);
    let (_, r) = c.call(CREATE, &create_req("/d", b"dir", 0));
    assert_eq!(r.header.err, 0);
    for i in 0..20 {
        c.send(CREATE, &create_req("/d/s-", b"seq", 2));
        c.send(CREATE, &create_req(&format!("/d/e{i}"), b"eph", 1));
        c.send(
            SET_DATA,
            &SetDataRequest {
                path: "/d".into(),
                data: Some(format!("v{i}").into_bytes()),
                version: -1,
            },
        );
    }
    for _ in 0..60 {
        assert_eq!(c.recv().header.err, 0);
    }
    let (_, r) = c.call(CREATE, &create_req("/d", b"again", 0));
    assert_ne!(r.header.err, 0, "an error txn, with its digest too");
    let (_, r) = c.call(
        DELETE,
        &DeleteRequest {
            path: "/d/e0".into(),
            version: -1,
        },
    );
    assert_eq!(r.header.err, 0);
    let mntr = four_letter_word(&server, "mntr");
    assert!(
        mntr.lines().any(|l| l == "zk_digest_mismatches_count\t0"),
        "{mntr}"
    );
    drop(c);
    drop(server);

    let mut logged = 0;
    let log_dir = paddock::storage::log_dir(&dir.0);
    for file in std::fs::read_dir(&log_dir).unwrap() {
        let path = file.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("log.")
        {
            continue;
        }
        let listing = paddock::storage::read_log_file(&path).unwrap();
        for entry in &listing.entries {
            let txn = Txn::from_bytes(&entry.body).unwrap();
            assert!(txn.digest.is_some(), "{txn:?}");
            logged += 1;
        }
    }
    assert!(logged >= 63, "{logged} txns logged");
    let r = paddock::storage::recover(&dir.0, &dir.0, false).unwrap();
    assert_eq!(r.tree.digest_mismatches(), 0);
    assert_eq!(r.tree.get("/d").unwrap().data(), Some(&b"v19"[..]));
}

/// `zookeeper.digest.enabled=false`: txns are logged without a TxnDigest,
/// as a ZooKeeper with digests off writes them.
#[test]
fn with_digests_off_txns_carry_none() {
    let dir = TempDir::new("nodigest");
    let data_dir = dir.0.clone();
    let server = TestServer::start_with(move |s| {
        s.data_dir = data_dir.clone();
        s.data_log_dir = data_dir;
        s.digest_enabled = false;
    });
    let mut c = Client::connect(server.addr);
    let (_, r) = c.call(CREATE, &create_req("/n", b"x", 0));
    assert_eq!(r.header.err, 0);
    drop(c);
    drop(server);
    let mut logged = 0;
    for file in std::fs::read_dir(paddock::storage::log_dir(&dir.0)).unwrap() {
        let path = file.unwrap().path();
        if !path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("log.")
        {
            continue;
        }
        for entry in paddock::storage::read_log_file(&path).unwrap().entries {
            assert_eq!(Txn::from_bytes(&entry.body).unwrap().digest, None);
            logged += 1;
        }
    }
    assert_eq!(logged, 2, "createSession and create");
}
