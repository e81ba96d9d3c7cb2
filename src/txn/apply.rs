//! Txn → tree (ZooKeeper's DataTree.processTxn). Deterministic: no clock, no
//! randomness, no environment; every replica applying the same txn bytes gets the
//! same tree. Errors here mean the tree disagreed with prep (or a replayed txn);
//! they become the reply's error code, never a panic.
//!
//! A txn that carries a TxnDigest is checked after it is applied: the tree's
//! digest must be the one the leader's prep computed. A mismatch means this
//! replica's tree has parted from the leader's (a bug, a bad disk, a
//! divergent history). As in ZooKeeper (`DataTree.compareDigest`), it is
//! logged as an ERROR (rate-limited by count), counted
//! (`digest_mismatches_count`) and shown in the `hash` history — and the
//! server keeps serving: the digest detects, it does not decide which
//! replica is right.

use super::{Txn, TxnBody};
use crate::jute::records::Stat;
use crate::proto::reply::OpResult;
use crate::proto::{ErrorCode, OpCode};
use crate::tree::digest::DigestMismatch;
use crate::tree::{DataTree, EphemeralType, TreeEvent, CONTAINER_EPHEMERAL_OWNER};

/// What applying a txn produced: the reply's ingredients and the tree events for watches.
#[derive(Debug, Default)]
pub struct Applied {
    /// The error code of the reply (OK for a multi, even a failed one).
    pub err: Option<ErrorCode>,
    /// The created path (create ops).
    pub path: Option<String>,
    /// The node's new Stat (create2, setData, setACL).
    pub stat: Option<Stat>,
    /// Per-op results of a multi.
    pub multi: Vec<OpResult>,
    /// Changes made, in order, for the watch manager.
    pub events: Vec<TreeEvent>,
    /// The txn carried a digest the tree disagrees with (already logged and
    /// counted in the tree; the server adds it to its metric).
    pub digest_mismatch: Option<DigestMismatch>,
}

impl Applied {
    /// The reply's error code.
    pub fn error(&self) -> ErrorCode {
        self.err.unwrap_or(ErrorCode::Ok)
    }
}

/// Applies `txn` to `tree` and advances the tree's last processed zxid.
pub fn apply(tree: &mut DataTree, txn: &Txn) -> Applied {
    let mut out = Applied::default();
    let h = &txn.header;
    match &txn.body {
        TxnBody::Multi(subs) => apply_multi(tree, h.zxid, h.time, h.client_id, subs, &mut out),
        body => {
            if let Err(e) = apply_one(tree, h.zxid, h.time, h.client_id, body, &mut out) {
                out.err = Some(e);
            }
        }
    }
    tree.set_last_processed_zxid(h.zxid);
    if let Some(d) = &txn.digest {
        out.digest_mismatch = tree.compare_digest(h.zxid, d.version, d.tree_digest);
        if let Some(m) = &out.digest_mismatch {
            report_mismatch(m, tree.digest_mismatches());
        }
    }
    tree.log_digest(h.zxid);
    out
}

/// Logs a digest mismatch: as an ERROR the 1st, 2nd, 4th, 8th... time (a
/// tree that parted from the leader's mismatches on every later txn, and
/// ZooKeeper rate-limits these too; apply has no clock, so the limit is by
/// count), otherwise at debug level.
fn report_mismatch(m: &DigestMismatch, count: u64) {
    if count.is_power_of_two() {
        tracing::error!(
            zxid = format_args!("{:#x}", m.zxid),
            expected = m.expected,
            actual = m.actual,
            mismatches = count,
            "Digest mismatch: the tree after this txn is not the one its digest records (the leader's)"
        );
    } else {
        tracing::debug!(
            zxid = format_args!("{:#x}", m.zxid),
            expected = m.expected,
            actual = m.actual,
            "Digest mismatch"
        );
    }
}

fn apply_multi(
    tree: &mut DataTree,
    zxid: i64,
    time: i64,
    client_id: i64,
    subs: &[(i32, TxnBody)],
    out: &mut Applied,
) {
    if subs.iter().any(|(_, b)| matches!(b, TxnBody::Error(_))) {
        out.multi = subs
            .iter()
            .map(|(_, b)| match b {
                TxnBody::Error(e) => OpResult::Error(e.err),
                _ => OpResult::Error(0),
            })
            .collect();
        return;
    }
    out.multi.reserve(subs.len());
    out.events.reserve(2 * subs.len());
    for (ty, body) in subs {
        let mut sub = Applied::default();
        let result = match apply_one(tree, zxid, time, client_id, body, &mut sub) {
            Err(e) => OpResult::Error(e.code()),
            Ok(()) => op_result(*ty, sub.path.take(), sub.stat.take()),
        };
        out.events.append(&mut sub.events);
        out.multi.push(result);
    }
}

fn op_result(ty: i32, path: Option<String>, stat: Option<Stat>) -> OpResult {
    match OpCode::from_i32(ty) {
        // Observed on 3.8.0: inside a multi, create2 answers like create (path only).
        Some(OpCode::Create | OpCode::Create2) => OpResult::Create(path.unwrap_or_default()),
        Some(OpCode::CreateTtl | OpCode::CreateContainer) => {
            OpResult::Create2(path.unwrap_or_default(), stat.unwrap_or_default())
        }
        Some(OpCode::Delete | OpCode::DeleteContainer) => OpResult::Delete,
        Some(OpCode::SetData) => OpResult::SetData(stat.unwrap_or_default()),
        _ => OpResult::Check,
    }
}

fn apply_one(
    tree: &mut DataTree,
    zxid: i64,
    time: i64,
    client_id: i64,
    body: &TxnBody,
    out: &mut Applied,
) -> Result<(), ErrorCode> {
    let ev = &mut out.events;
    match body {
        TxnBody::CreateSession(_) | TxnBody::Check(_) => {}
        TxnBody::CloseSession(t) => {
            // ZooKeeper's killSession: the session's set is dropped first, the
            // txn's paths are deleted in their order, then any path of the set
            // the txn did not list (a log written without closeSession paths
            // lists none), in the set's order.
            let mut set = tree.take_ephemerals(client_id).unwrap_or_default();
            for p in &t.paths2_delete {
                // A path already gone (replay) is not an error for a session close.
                let _ = delete_counted(tree, p, zxid, ev);
                set.remove(p);
            }
            for p in set.java_order() {
                let _ = delete_counted(tree, p, zxid, ev);
            }
        }
        TxnBody::Create(_) | TxnBody::CreateTtl(_) | TxnBody::CreateContainer(_) => {
            let (path, data, acl, owner, parent_cversion) = match body {
                TxnBody::Create(t) => {
                    let owner = if t.ephemeral { client_id } else { 0 };
                    (&t.path, &t.data, &t.acl, owner, t.parent_c_version)
                }
                TxnBody::CreateTtl(t) => (
                    &t.path,
                    &t.data,
                    &t.acl,
                    EphemeralType::ttl_owner(t.ttl),
                    t.parent_c_version,
                ),
                TxnBody::CreateContainer(t) => (
                    &t.path,
                    &t.data,
                    &t.acl,
                    CONTAINER_EPHEMERAL_OWNER,
                    t.parent_c_version,
                ),
                _ => unreachable!("matched above"),
            };
            let stat = tree.create_node(
                path,
                data.as_deref(),
                acl,
                owner,
                parent_cversion,
                zxid,
                time,
                ev,
            )?;
            tree.quota_created(path, data.as_ref().map_or(0, Vec::len));
            (out.path, out.stat) = (Some(path.clone()), Some(stat));
        }
        TxnBody::Delete(t) => delete_counted(tree, &t.path, zxid, ev)?,
        TxnBody::SetData(t) => {
            let old_len = data_len(tree, &t.path);
            out.stat =
                Some(tree.set_data(&t.path, t.data.as_deref(), t.version, zxid, time, ev)?);
            tree.quota_data_set(&t.path, old_len, t.data.as_ref().map_or(0, Vec::len));
        }
        TxnBody::SetAcl(t) => out.stat = Some(tree.set_acl(&t.path, &t.acl, t.version)?),
        TxnBody::Error(e) => {
            return Err(ErrorCode::from_i32(e.err).unwrap_or(ErrorCode::SystemError))
        }
        TxnBody::Multi(_) => unreachable!("nested multi is not a txn ZooKeeper produces"),
    }
    Ok(())
}

/// The length of `path`'s data now, 0 when it is absent or null.
fn data_len(tree: &DataTree, path: &str) -> usize {
    tree.get(path).map_or(0, |n| n.data_len())
}

/// Deletes `path` and takes it off the usage of the quota over it (DataTree.deleteNode).
fn delete_counted(
    tree: &mut DataTree,
    path: &str,
    zxid: i64,
    ev: &mut Vec<TreeEvent>,
) -> Result<(), ErrorCode> {
    let len = data_len(tree, path);
    tree.delete_node(path, zxid, ev)?;
    tree.quota_deleted(path, len);
    Ok(())
}
