//! Prep + apply against ZooKeeper's observed behaviour.
use super::apply::apply;
use super::prep::{Prep, PrepContext, PrepSettings};
use super::*;
use crate::proto::reply::OpResult;
use crate::proto::request::MultiOp;
use crate::proto::{ErrorCode, OpCode, Request};
use crate::tree::acl_cache::open_acl_unsafe;
use crate::tree::DataTree;

mod digest;

struct Harness {
    tree: DataTree,
    prep: Prep,
    zxid: i64,
}

impl Harness {
    fn new() -> Harness {
        Harness {
            tree: DataTree::new(false),
            prep: Prep::new(PrepSettings::default()),
            zxid: 0,
        }
    }

    /// The context of session 7's next request (cxid 1), at the next zxid.
    fn next_context(&mut self) -> PrepContext<'static> {
        self.zxid += 1;
        PrepContext {
            session_id: 7,
            cxid: 1,
            zxid: self.zxid,
            time: 1000 + self.zxid,
            auth: &[],
        }
    }

    /// Preps without applying: the txn stays outstanding.
    fn prep(&mut self, req: Request) -> Txn {
        let ctx = self.next_context();
        let op = match &req {
            Request::Create { op, .. } => *op,
            Request::CreateTtl(_) => OpCode::CreateTtl,
            Request::Delete(_) => OpCode::Delete,
            Request::DeleteContainer { .. } => OpCode::DeleteContainer,
            Request::SetData(_) => OpCode::SetData,
            Request::SetAcl(_) => OpCode::SetAcl,
            Request::Multi(_) => OpCode::Multi,
            Request::CloseSession => OpCode::CloseSession,
            _ => OpCode::Error,
        };
        self.prep.prep(&self.tree, &ctx, op, &req)
    }

    /// Applies `t`, which must carry the digest the tree then has: every
    /// test through the harness checks prep's digest for its txns.
    fn apply(&mut self, t: &Txn) -> apply::Applied {
        let a = apply(&mut self.tree, t);
        self.prep.applied(t.header.zxid);
        assert_eq!(a.digest_mismatch, None, "prep's digest of {t:?}");
        if self.tree.digest_enabled() {
            assert_eq!(
                t.digest.as_ref().map(|d| d.tree_digest),
                Some(self.tree.digest()),
                "{t:?}"
            );
        }
        a
    }

    fn run(&mut self, req: Request) -> apply::Applied {
        let t = self.prep(req);
        let bytes = t.to_bytes();
        assert_eq!(Txn::from_bytes(&bytes).unwrap(), t, "txn bytes round-trip");
        self.apply(&t)
    }

    /// Preps the closing of session 7 (not applied).
    fn close_session(&mut self) -> Txn {
        let ctx = self.next_context();
        self.prep.close_session(&self.tree, &ctx)
    }
}

fn create(path: &str, flags: i32) -> Request {
    let req = crate::jute::records::CreateRequest {
        path: path.into(),
        data: Some(b"x".to_vec()),
        acl: open_acl_unsafe(),
        flags,
    };
    Request::Create {
        op: OpCode::Create,
        req,
    }
}

fn delete(path: &str) -> Request {
    Request::Delete(crate::jute::records::DeleteRequest {
        path: path.into(),
        version: -1,
    })
}

#[test]
fn sequential_names_come_from_the_parents_creation_count() {
    let mut h = Harness::new();
    h.run(create("/q", 0));
    assert_eq!(
        h.run(create("/q/s-", 2)).path.as_deref(),
        Some("/q/s-0000000000")
    );
    h.run(delete("/q/s-0000000000"));
    assert_eq!(
        h.run(create("/q/s-", 2)).path.as_deref(),
        Some("/q/s-0000000001")
    );
}

/// ZooKeeper formats the suffix with `%010d` of the parent's int cversion:
/// past Integer.MAX_VALUE the next one in flight is negative, and since a
/// wrapped cversion is no raise (DataTree.createNode) the parent keeps
/// MAX_VALUE, so the create after that names an existing node.
#[test]
fn sequential_suffix_past_integer_max_value_is_javas() {
    let mut h = Harness::new();
    h.run(create("/q", 0));
    let mut events = Vec::new();
    h.zxid += 1;
    let acl = open_acl_unsafe();
    h.tree
        .create_node("/q/seed", None, &acl, 0, i32::MAX, h.zxid, 0, &mut events)
        .unwrap();
    // At the counter's overflow apply leaves the parent's Stat as it was
    // (ZooKeeper's createNode only raises cversion) while prep's record
    // wraps, as ZooKeeper's does: the digest prep attaches then differs from
    // the tree's in ZooKeeper too. This test is about names, not digests.
    h.tree.disable_digest();
    let first = h.prep(create("/q/s-", 2));
    let second = h.prep(create("/q/s-", 2));
    assert_eq!(h.apply(&first).path.as_deref(), Some("/q/s-2147483647"));
    assert_eq!(h.apply(&second).path.as_deref(), Some("/q/s--2147483648"));
    assert_eq!(h.run(create("/q/s-", 2)).error(), ErrorCode::NodeExists);
}

/// Paths are validated as the Java string ZooKeeper holds: a character
/// outside the BMP is a surrogate pair there, which validatePath refuses;
/// for sequential creates the suffixed path is what is checked.
#[test]
fn create_refuses_supplementary_characters_after_the_parent_check() {
    let mut h = Harness::new();
    h.run(create("/q", 0));
    assert_eq!(
        h.run(create("/emoji-\u{1f600}", 0)).error(),
        ErrorCode::BadArguments
    );
    assert_eq!(
        h.run(create("/q/\u{1f600}-", 2)).error(),
        ErrorCode::BadArguments
    );
    assert_eq!(
        h.run(create("/missing/\u{1f600}", 0)).error(),
        ErrorCode::NoNode
    );
    assert_eq!(
        h.run(create("/q/", 2)).path.as_deref(),
        Some("/q/0000000000")
    );
    assert_eq!(h.run(create("/q/\u{ffef}", 0)).error(), ErrorCode::Ok);
}

#[test]
fn failed_writes_are_error_txns_that_take_a_zxid() {
    let mut h = Harness::new();
    h.run(create("/a", 0));
    let a = h.run(create("/a", 0));
    assert_eq!(a.error(), ErrorCode::NodeExists);
    assert_eq!(h.tree.last_processed_zxid(), 2);
    assert_eq!(h.run(delete("/missing")).error(), ErrorCode::NoNode);
    assert_eq!(h.run(delete("/zookeeper")).error(), ErrorCode::BadArguments);
    assert_eq!(h.run(create("/a/b/c", 0)).error(), ErrorCode::NoNode);
    // The parent of "/a//b" is "/a/", which does not exist: ZooKeeper checks the parent first.
    assert_eq!(h.run(create("/a//b", 0)).error(), ErrorCode::NoNode);
    assert_eq!(h.run(create("/a/.", 0)).error(), ErrorCode::BadArguments);
    assert_eq!(h.run(create("/a", 9)).error(), ErrorCode::BadArguments);
}

#[test]
fn pipelined_writes_see_outstanding_changes() {
    let mut h = Harness::new();
    let t1 = h.prep(create("/p", 0));
    let t2 = h.prep(create("/p/c", 1));
    let t3 = h.prep(delete("/p"));
    let t4 = h.prep(create("/p/c/x", 0));
    assert!(matches!(t2.body, TxnBody::Create(_)));
    assert_eq!(
        t3.body,
        TxnBody::Error(crate::jute::records::ErrorTxn {
            err: ErrorCode::NotEmpty.code()
        })
    );
    assert_eq!(
        t4.body,
        TxnBody::Error(crate::jute::records::ErrorTxn {
            err: ErrorCode::NoChildrenForEphemerals.code()
        })
    );
    for t in [&t1, &t2, &t3, &t4] {
        h.apply(t);
    }
    assert_eq!(h.prep.outstanding_len(), 0);
    assert_eq!(h.tree.stat("/p/c").unwrap().ephemeral_owner, 7);
}

#[test]
fn failed_multi_reports_zookeepers_layout_and_changes_nothing() {
    let mut h = Harness::new();
    let ops = vec![
        MultiOp::Create {
            op: OpCode::Create,
            req: crate::jute::records::CreateRequest {
                path: "/m".into(),
                data: None,
                acl: open_acl_unsafe(),
                flags: 0,
            },
        },
        MultiOp::Delete(crate::jute::records::DeleteRequest {
            path: "/nope".into(),
            version: -1,
        }),
        MultiOp::SetData(crate::jute::records::SetDataRequest {
            path: "/m".into(),
            data: None,
            version: -1,
        }),
    ];
    let a = h.run(Request::Multi(ops));
    assert_eq!(a.error(), ErrorCode::Ok);
    assert_eq!(
        a.multi,
        vec![
            OpResult::Error(0),
            OpResult::Error(-101),
            OpResult::Error(-2)
        ]
    );
    assert!(h.tree.get("/m").is_none());
    assert_eq!(h.prep.outstanding_len(), 0);
    assert_eq!(h.run(create("/m", 0)).error(), ErrorCode::Ok);
}

#[test]
fn successful_multi_applies_every_op_in_order() {
    let mut h = Harness::new();
    let ops = vec![
        MultiOp::Create {
            op: OpCode::Create2,
            req: crate::jute::records::CreateRequest {
                path: "/m".into(),
                data: None,
                acl: open_acl_unsafe(),
                flags: 0,
            },
        },
        MultiOp::SetData(crate::jute::records::SetDataRequest {
            path: "/m".into(),
            data: Some(b"v".to_vec()),
            version: 0,
        }),
        MultiOp::Check(crate::jute::records::CheckVersionRequest {
            path: "/m".into(),
            version: 1,
        }),
    ];
    let a = h.run(Request::Multi(ops));
    assert_eq!(a.multi[0], OpResult::Create("/m".into()));
    assert!(matches!(&a.multi[1], OpResult::SetData(s) if s.version == 1 && s.mzxid == 1));
    assert_eq!(a.multi[2], OpResult::Check);
    assert_eq!(a.events.len(), 2);
}

/// closeSession deletes (and fires watches for) a session's ephemerals in the
/// order of a copy of ZooKeeper's per-session HashSet; these paths, created in
/// this order, are what a ZooKeeper 3.8 server listed for such a session
/// (compat-tests kazoo-random), not name order.
#[test]
fn close_session_lists_ephemerals_in_zookeepers_hashset_order() {
    let mut h = Harness::new();
    for p in ["/r0", "/r0/a", "/r0/a/a", "/r0/b", "/r0/b/s-0000000000"] {
        h.run(create(p, 0));
    }
    let created = [
        "/r0/a/a/s-0000000001",
        "/r0/b/s-0000000000/s-0000000000",
        "/r0/b/s-0000000002",
        "/r0/s-0000000002",
        "/r0/a/s-0000000001",
        "/r0/s-0000000003",
    ];
    for p in created {
        h.run(create(p, 1));
    }
    // An outstanding delete of one of them leaves it out.
    h.prep(delete("/r0/s-0000000003"));
    let txn = h.close_session();
    let TxnBody::CloseSession(close) = &txn.body else {
        panic!("not a closeSession txn: {txn:?}");
    };
    assert_eq!(
        close.paths2_delete,
        [
            "/r0/b/s-0000000000/s-0000000000",
            "/r0/a/s-0000000001",
            "/r0/s-0000000002",
            "/r0/b/s-0000000002",
            "/r0/a/a/s-0000000001",
        ]
    );
}

/// ZooKeeper keeps a session's HashSet of ephemerals, emptied and at its
/// grown size, until the session closes: the 4lw dump lists the session, and
/// the 32-bucket table orders later ephemerals (what a ZooKeeper 3.8 server's
/// dump showed for this history).
#[test]
fn an_emptied_ephemeral_set_keeps_its_size_until_the_session_closes() {
    let mut h = Harness::new();
    let grown: Vec<String> = (0..20).map(|i| format!("/g{i}")).collect();
    for p in &grown {
        h.run(create(p, 1));
    }
    for p in &grown {
        h.run(delete(p));
    }
    let dumped = |h: &Harness| -> Vec<(i64, Vec<String>)> {
        h.tree
            .ephemerals_by_session()
            .map(|(s, paths)| (s, paths.into_iter().map(str::to_owned).collect()))
            .collect()
    };
    assert_eq!(dumped(&h), [(7, vec![])]);
    for i in 0..6 {
        h.run(create(&format!("/h{i}x"), 1));
    }
    assert_eq!(
        dumped(&h),
        [(
            7,
            ["/h3x", "/h2x", "/h5x", "/h4x", "/h1x", "/h0x"]
                .map(String::from)
                .to_vec()
        )]
    );
    let txn = h.close_session();
    h.apply(&txn);
    assert_eq!(dumped(&h), []);
    assert_eq!(h.tree.ephemerals_count(), 0);
}

/// A closeSession txn that lists no paths (a log written with ZooKeeper's
/// closeSessionTxn disabled) still deletes every ephemeral of the session,
/// as ZooKeeper's killSession does from its own set.
#[test]
fn close_session_without_paths_deletes_the_sessions_ephemerals() {
    let mut h = Harness::new();
    h.run(create("/e1", 1));
    h.run(create("/e2", 1));
    let mut txn = h.close_session();
    let TxnBody::CloseSession(close) = &mut txn.body else {
        panic!("not a closeSession txn: {txn:?}");
    };
    close.paths2_delete.clear();
    h.apply(&txn);
    assert!(h.tree.get("/e1").is_none() && h.tree.get("/e2").is_none());
    assert_eq!(h.tree.ephemerals_count(), 0);
    assert_eq!(h.tree.ephemerals_by_session().count(), 0);
}

/// A multi nested in a multi is no txn ZooKeeper makes and apply has no
/// meaning for: bytes from a peer or a file holding one are refused at
/// decode, never handed to apply (which would panic).
#[test]
fn a_multi_inside_a_multi_does_not_decode() {
    let error = TxnBody::Error(crate::jute::records::ErrorTxn { err: -2 });
    let inner = TxnBody::Multi(vec![(OpCode::Error as i32, error)]);
    let txn = Txn {
        header: TxnHeader {
            client_id: 1,
            cxid: 1,
            zxid: 1,
            time: 1,
            r#type: OpCode::Multi as i32,
        },
        body: TxnBody::Multi(vec![(OpCode::Multi as i32, inner)]),
        digest: None,
    };
    assert!(Txn::from_bytes(&txn.to_bytes()).is_err());
}
