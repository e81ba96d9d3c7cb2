//! TxnDigest: prep's digest is the tree's after apply for every kind of txn,
//! pipelined or not; a replica that applies differently notices; the bytes
//! are ZooKeeper's and no trailing bytes make decoding panic.
use super::*;
use crate::jute::records::{
    CheckVersionRequest, CreateRequest, CreateTtlRequest, SetAclRequest, SetDataRequest, TxnDigest,
};
use crate::tree::acl_cache::read_acl_unsafe;
use crate::tree::digest::{DigestMismatch, DIGEST_VERSION};
use proptest::prelude::*;

/// A harness with TTL nodes allowed and ACLs unchecked (for reconfig's
/// write of `/zookeeper/config`).
fn extended() -> Harness {
    Harness {
        tree: DataTree::new(true),
        prep: Prep::new(PrepSettings {
            extended_types: true,
            skip_acl: true,
            ..Default::default()
        }),
        zxid: 0,
    }
}

fn create_as(op: OpCode, path: &str, flags: i32, data: Option<&[u8]>) -> Request {
    Request::Create {
        op,
        req: CreateRequest {
            path: path.into(),
            data: data.map(<[u8]>::to_vec),
            acl: open_acl_unsafe(),
            flags,
        },
    }
}

fn set_data(path: &str, data: Option<&[u8]>) -> Request {
    Request::SetData(SetDataRequest {
        path: path.into(),
        data: data.map(<[u8]>::to_vec),
        version: -1,
    })
}

fn multi_op(req: Request) -> MultiOp {
    match req {
        Request::Create { op, req } => MultiOp::Create { op, req },
        Request::Delete(r) => MultiOp::Delete(r),
        Request::SetData(r) => MultiOp::SetData(r),
        other => panic!("not a multi op: {other:?}"),
    }
}

fn create_session(h: &mut Harness) -> Txn {
    let ctx = h.next_context();
    h.prep.create_session(&h.tree, &ctx, 30_000)
}

/// Every txn a client or the server makes, through the harness, which checks
/// each txn's digest against the tree after applying it.
#[test]
fn every_kind_of_txn_carries_the_digest_of_the_tree_after_it() {
    let mut h = extended();
    let t = create_session(&mut h);
    h.apply(&t);
    let c = OpCode::Create;
    h.run(create_as(c, "/a", 0, Some(b"data")));
    h.run(create_as(OpCode::Create2, "/a/null", 0, None));
    h.run(create_as(c, "/a/e", 1, Some(b"eph")));
    h.run(create_as(c, "/a/s-", 2, Some(b"seq")));
    h.run(create_as(c, "/a/es-", 3, Some(b"eph seq")));
    h.run(create_as(OpCode::CreateContainer, "/box", 4, None));
    h.run(create_as(c, "/box/x", 0, None));
    h.run(delete("/box/x"));
    h.run(Request::DeleteContainer {
        path: "/box".into(),
    });
    h.run(Request::CreateTtl(CreateTtlRequest {
        path: "/ttl".into(),
        data: Some(b"t".to_vec()),
        acl: open_acl_unsafe(),
        flags: 5,
        ttl: 1000,
    }));
    h.run(Request::DeleteContainer {
        path: "/ttl".into(),
    });
    h.run(set_data("/a", Some(b"changed")));
    h.run(set_data("/a", None));
    h.run(set_data("/", Some(b"root")));
    h.run(set_data("/zookeeper", Some(b"digested")));
    h.run(set_data("/zookeeper/quota", Some(b"not digested")));
    h.run(Request::SetAcl(SetAclRequest {
        path: "/a".into(),
        acl: read_acl_unsafe(),
        version: -1,
    }));
    // Error txns: each takes a zxid and changes nothing.
    assert_eq!(h.run(create("/a", 0)).error(), ErrorCode::NodeExists);
    assert_eq!(h.run(delete("/a")).error(), ErrorCode::NotEmpty);
    assert_eq!(h.run(set_data("/nope", None)).error(), ErrorCode::NoNode);
    // A multi that succeeds, one that creates and deletes the same node,
    // and one that fails (rolled back).
    h.run(Request::Multi(vec![
        multi_op(create_as(c, "/m", 0, Some(b"1"))),
        multi_op(set_data("/m", Some(b"2"))),
        multi_op(set_data("/m", Some(b"3"))),
        MultiOp::Check(CheckVersionRequest {
            path: "/m".into(),
            version: 2,
        }),
        multi_op(create_as(c, "/m/s-", 2, None)),
    ]));
    h.run(Request::Multi(vec![
        multi_op(create_as(c, "/gone", 0, None)),
        multi_op(delete("/gone")),
        multi_op(delete("/a/null")),
    ]));
    let failed = h.run(Request::Multi(vec![
        multi_op(set_data("/m", Some(b"4"))),
        multi_op(create_as(c, "/m", 0, None)),
    ]));
    assert_eq!(
        failed.multi[1],
        OpResult::Error(ErrorCode::NodeExists.code())
    );
    // A reconfig writes /zookeeper/config, which has no digest.
    let ctx = h.next_context();
    let t = h
        .prep
        .reconfig(&h.tree, &ctx, Ok(b"server.1=h:1:2".to_vec()));
    assert_eq!(t.header.r#type, OpCode::Reconfig as i32);
    h.apply(&t);
    // The session's close deletes its ephemerals.
    let t = h.close_session();
    assert!(matches!(&t.body, TxnBody::CloseSession(c) if c.paths2_delete.len() == 2));
    h.apply(&t);
    assert!(h.tree.get("/a/e").is_none());
    assert_eq!(h.tree.digest_mismatches(), 0);
}

/// Txns prepped before the ones ahead of them are applied start from the
/// digest those will leave, not from the tree's.
#[test]
fn pipelined_txns_carry_the_digest_after_those_ahead_of_them() {
    let mut h = extended();
    let c = OpCode::Create;
    let mut pending = vec![create_session(&mut h)];
    for req in [
        create_as(c, "/p", 0, Some(b"p")),
        create_as(c, "/p/e", 1, None),
        create_as(c, "/p/s-", 3, Some(b"s")),
        set_data("/p", Some(b"q")),
        create("/p", 0),
        Request::Multi(vec![
            multi_op(set_data("/p", Some(b"r"))),
            multi_op(delete("/missing")),
        ]),
        Request::Multi(vec![
            multi_op(create_as(c, "/p/m", 0, None)),
            multi_op(set_data("/p/e", Some(b"e"))),
        ]),
        delete("/p/m"),
    ] {
        pending.push(h.prep(req));
    }
    // The close lists the ephemerals outstanding creates made.
    pending.push(h.close_session());
    pending.push(h.prep(set_data("/p", Some(b"after"))));
    let digests: Vec<i64> = pending
        .iter()
        .map(|t| t.digest.as_ref().unwrap().tree_digest)
        .collect();
    assert_ne!(digests[1], digests[0], "a create changes the digest");
    assert_eq!(digests[5], digests[4], "an error txn leaves it");
    assert_eq!(digests[6], digests[5], "a failed multi leaves it");
    for t in &pending {
        h.apply(t);
    }
    assert!(h.tree.get("/p/e").is_none());
    assert_eq!(h.prep.outstanding_len(), 0);
}

/// A follower fed the leader's bytes, one of them tampered with before it
/// applies them: the tampered txn and every later one mismatch, each is
/// counted, the first is logged in the `hash` history, and applying goes on.
#[test]
fn a_replica_that_applies_differently_detects_it_and_keeps_applying() {
    let mut leader = Harness::new();
    let mut follower = DataTree::new(false);
    let mut mismatches = Vec::new();
    let mut after = Vec::new();
    for i in 0..5 {
        let req = if i < 3 {
            create(&format!("/n{i}"), 0)
        } else {
            set_data("/n0", Some(format!("v{i}").as_bytes()))
        };
        let t = leader.prep(req);
        leader.apply(&t);
        let mut sent = Txn::from_bytes(&t.to_bytes()).unwrap();
        if i == 2 {
            let TxnBody::Create(create) = &mut sent.body else {
                unreachable!("a create")
            };
            create.data = Some(b"bit flip".to_vec());
        }
        mismatches.extend(apply(&mut follower, &sent).digest_mismatch);
        after.push((leader.tree.digest(), follower.digest()));
    }
    assert_eq!(
        follower.last_processed_zxid(),
        5,
        "the follower kept applying"
    );
    assert_eq!(follower.get("/n0").unwrap().data(), Some(&b"v4"[..]));
    assert_eq!(mismatches.len(), 3);
    assert_eq!(follower.digest_mismatches(), 3);
    assert_eq!(
        mismatches[0],
        DigestMismatch {
            zxid: 3,
            expected: after[2].0,
            actual: after[2].1,
        }
    );
    assert_ne!(mismatches[0].expected, mismatches[0].actual);
    let logged: Vec<(i64, i64)> = follower.digest_log();
    assert_eq!(logged, [(3, after[2].1)]);
    assert_eq!(leader.tree.digest_log(), [], "the leader logs no mismatch");
}

#[test]
fn digests_of_another_version_or_with_digests_off_are_not_compared() {
    let mut tree = DataTree::new(false);
    let mut h = Harness::new();
    let mut t = h.prep(create("/a", 0));
    t.digest = Some(TxnDigest {
        version: DIGEST_VERSION + 1,
        tree_digest: 42,
    });
    assert_eq!(apply(&mut tree, &t).digest_mismatch, None);
    let mut off = Harness::new();
    off.tree.disable_digest();
    let t = off.prep(create("/a", 0));
    assert_eq!(t.digest, None, "digests off: prep attaches none");
    let mut tree = DataTree::new(false);
    tree.disable_digest();
    let mut t = h.prep(create("/b", 0));
    t.digest.as_mut().unwrap().tree_digest ^= 1;
    assert_eq!(apply(&mut tree, &t).digest_mismatch, None);
}

/// Replay over a fuzzy snapshot: digests are compared from the first txn
/// whose digest matches, or once replay is done.
#[test]
fn a_fuzzy_tree_compares_from_the_first_match() {
    let mut h = Harness::new();
    let txns: Vec<Txn> = (0..4)
        .map(|i| {
            let t = h.prep(create(&format!("/f{i}"), 0));
            h.apply(&t);
            t
        })
        .collect();
    // A fuzzy snapshot named after zxid 1 whose walk saw /f0../f2 (zxids
    // 1..=3): replay from zxid 2 meets nodes it already has.
    let mut ahead = DataTree::new(false);
    for t in &txns[..3] {
        apply(&mut ahead, t);
    }
    let mut image = Vec::new();
    ahead.write_snapshot_part(&mut image);
    let snapshot = || {
        let (mut tree, _) = DataTree::read_snapshot_part(&image, false).unwrap();
        tree.set_last_processed_zxid(1);
        tree
    };
    let mut tree = snapshot();
    tree.digest_fuzzy();
    assert_eq!(apply(&mut tree, &txns[1]).digest_mismatch, None, "fuzzy");
    assert_eq!(tree.digest_mismatches(), 0);
    assert_eq!(apply(&mut tree, &txns[2]).digest_mismatch, None, "matches");
    let mut bad = txns[3].clone();
    bad.digest.as_mut().unwrap().tree_digest ^= 1;
    assert!(
        apply(&mut tree, &bad).digest_mismatch.is_some(),
        "exact now"
    );
    // Replay ended while still fuzzy: from then on every txn is compared.
    let mut tree = snapshot();
    tree.digest_fuzzy();
    tree.digest_exact();
    assert!(apply(&mut tree, &txns[1]).digest_mismatch.is_some());
}

/// ZooKeeper 3.8's own log (tests/fixtures/zk38-digest): each record is
/// TxnHeader + Txn + TxnDigest exactly as Paddock writes them, and each
/// carried digest is the one Paddock's tree has after applying it.
#[test]
fn zookeeper_38_log_records_carry_the_digest_paddock_computes() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/zk38-digest/version-2");
    let (mut tree, _, _) = crate::storage::read_snapshot(&dir.join("snapshot.0"), false).unwrap();
    let listing = crate::storage::read_log_file(&dir.join("log.1")).unwrap();
    assert!(listing.entries.len() > 500);
    for entry in &listing.entries {
        let txn = Txn::from_bytes(&entry.body).unwrap();
        let digest = txn.digest.as_ref().expect("ZooKeeper 3.8 writes a digest");
        assert_eq!(digest.version, DIGEST_VERSION);
        assert_eq!(txn.to_bytes(), entry.body, "layout of {txn:?}");
        let a = apply(&mut tree, &txn);
        assert_eq!(a.digest_mismatch, None, "{txn:?}");
        assert_eq!(tree.digest(), digest.tree_digest);
    }
}

/// A PROPOSAL payload (the log record body) with and without its digest.
#[test]
fn txn_bytes_round_trip_with_and_without_a_digest() {
    let mut h = Harness::new();
    let with = h.prep(create("/r", 0));
    assert!(with.digest.is_some());
    let bytes = with.to_bytes();
    assert_eq!(Txn::from_bytes(&bytes).unwrap(), with);
    let mut without = with.clone();
    without.digest = None;
    let short = without.to_bytes();
    assert_eq!(short.len() + crate::txn::TXN_DIGEST_LEN, bytes.len());
    assert_eq!(&bytes[..short.len()], &short[..]);
    assert_eq!(
        &bytes[short.len()..short.len() + 4],
        &DIGEST_VERSION.to_be_bytes()
    );
    assert_eq!(Txn::from_bytes(&short).unwrap(), without);
}

/// A closeSession written without paths (ZooKeeper's closeSessionTxn off)
/// is its header alone; it decodes as a close listing none.
#[test]
fn a_close_session_without_a_body_decodes() {
    let mut h = Harness::new();
    let mut t = h.close_session();
    let mut header_only = Vec::new();
    t.header.write(&mut header_only);
    let decoded = Txn::from_bytes(&header_only).unwrap();
    t.digest = None;
    assert_eq!(decoded, t);
}

fn sample_txns() -> Vec<Txn> {
    let mut h = Harness::new();
    let mut txns = vec![create_session(&mut h)];
    for req in [
        create("/x", 0),
        set_data("/x", Some(b"data")),
        Request::Multi(vec![multi_op(create("/x/y", 1)), multi_op(delete("/x/y"))]),
        create("/x", 0),
    ] {
        let t = h.prep(req);
        h.apply(&t);
        txns.push(t);
    }
    let t = h.close_session();
    txns.push(t);
    txns
}

/// Fuzz safety of the trailing digest: a txn followed by any bytes decodes
/// as the same txn, with a digest when 12 or more follow (the first 12)
/// and none otherwise; any cut of a payload fails or decodes, never panics
/// (the decoder only reads through bounds-checked nom parsers and `get`).
#[test]
fn trailing_bytes_never_break_a_txn_and_cuts_never_panic() {
    for t in sample_txns() {
        let bytes = t.to_bytes();
        for cut in 0..bytes.len() {
            let _ = Txn::from_bytes(&bytes[..cut]);
        }
        let mut bare = t.clone();
        bare.digest = None;
        let base = bare.to_bytes();
        for extra in 0..=20u8 {
            let mut b = base.clone();
            b.extend((0..extra).map(|i| i.wrapping_mul(37)));
            let d = Txn::from_bytes(&b).unwrap();
            assert_eq!((&d.header, &d.body), (&t.header, &t.body));
            assert_eq!(d.digest.is_some(), extra >= 12, "{extra} trailing bytes");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_trailing_bytes_decode_without_panic(
        which in 0usize..6,
        tail in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let t = &sample_txns()[which];
        let mut bare = t.clone();
        bare.digest = None;
        let mut b = bare.to_bytes();
        b.extend_from_slice(&tail);
        let d = Txn::from_bytes(&b).unwrap();
        prop_assert_eq!(&d.body, &t.body);
        prop_assert_eq!(d.digest.is_some(), tail.len() >= 12);
    }

    /// As the fuzz target checks: any bytes decode or fail without a
    /// panic, and what decodes re-encodes stably, digest included.
    #[test]
    fn arbitrary_bytes_never_panic_the_txn_decoder(
        which in 0usize..6,
        cut in 0usize..200,
        noise in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let valid = sample_txns()[which].to_bytes();
        for bytes in [noise.clone(), [&valid[..cut.min(valid.len())], &noise[..]].concat()] {
            if let Ok(txn) = Txn::from_bytes(&bytes) {
                let again = Txn::from_bytes(&txn.to_bytes()).expect("an encoding decodes");
                prop_assert_eq!(&again.digest, &txn.digest);
                prop_assert_eq!(again.to_bytes(), txn.to_bytes());
            }
        }
    }

    /// Random writes, pipelined to random depths: every txn's digest is the
    /// tree's after it (the harness checks on apply).
    #[test]
    fn random_pipelined_writes_carry_the_tree_digest(
        steps in proptest::collection::vec((0u8..8, 0usize..4, 0i32..4, any::<bool>()), 1..40),
    ) {
        const PATHS: [&str; 4] = ["/a", "/a/b", "/c", "/a/b/d"];
        let mut h = Harness::new();
        let mut pending = Vec::new();
        for (kind, p, flags, apply_now) in steps {
            let path = PATHS[p];
            let t = match kind {
                0 | 1 => h.prep(create_as(OpCode::Create, path, flags, Some(b"v"))),
                2 => h.prep(delete(path)),
                3 => h.prep(set_data(path, Some(&b"longer data"[..flags as usize * 3]))),
                4 => h.prep(Request::SetAcl(SetAclRequest {
                    path: path.into(),
                    acl: open_acl_unsafe(),
                    version: -1,
                })),
                5 => h.prep(Request::Multi(vec![
                    multi_op(create_as(OpCode::Create, path, flags, None)),
                    multi_op(set_data(PATHS[(p + 1) % 4], None)),
                ])),
                6 => h.close_session(),
                _ => create_session(&mut h),
            };
            pending.push(t);
            if apply_now {
                for t in pending.drain(..) {
                    h.apply(&t);
                }
            }
        }
        for t in pending.drain(..) {
            h.apply(&t);
        }
    }
}
