//! Answers (ZooKeeper's FinalRequestProcessor): reads served from the tree, and
//! the reply of an applied write built from its txn and apply result.

use super::conn::ConnId;
use super::core::Core;
use crate::jute::records::*;
use crate::jute::Record;
use crate::proto::codes::{add_watch_mode, event_type, perms, watcher_type};
use crate::proto::reply::{frame, header_only, reply, watch_event, write_multi_response, OpResult};
use crate::proto::request::MultiOp;
use crate::proto::{ErrorCode, OpCode, Request};
use crate::tree::Node;
use crate::txn::apply::Applied;
use crate::txn::Txn;

/// The reply to a write once its txn is applied (xid and zxid from the request and txn).
pub(super) fn write_reply(xid: i32, zxid: i64, op: i32, txn: &Txn, applied: &Applied) -> Vec<u8> {
    let err = applied.error();
    if err != ErrorCode::Ok {
        return header_only(xid, zxid, err);
    }
    let path = || applied.path.clone().unwrap_or_default();
    let stat = || applied.stat.clone().unwrap_or_default();
    match OpCode::from_i32(op) {
        Some(OpCode::Create) => reply(xid, zxid, err, Some(&CreateResponse { path: path() })),
        Some(OpCode::Create2 | OpCode::CreateContainer | OpCode::CreateTtl) => reply(
            xid,
            zxid,
            err,
            Some(&Create2Response {
                path: path(),
                stat: stat(),
            }),
        ),
        Some(OpCode::SetData) => reply(xid, zxid, err, Some(&SetDataResponse { stat: stat() })),
        Some(OpCode::SetAcl) => reply(xid, zxid, err, Some(&SetAclResponse { stat: stat() })),
        Some(OpCode::Multi) => multi_reply(xid, zxid, &applied.multi),
        // ZooKeeper answers a reconfig with the new configuration and its Stat.
        Some(OpCode::Reconfig) => {
            let data = match &txn.body {
                crate::txn::TxnBody::SetData(t) => t.data.clone(),
                _ => None,
            };
            reply(
                xid,
                zxid,
                err,
                Some(&GetDataResponse { data, stat: stat() }),
            )
        }
        _ => header_only(xid, zxid, err),
    }
}

fn multi_reply(xid: i32, zxid: i64, results: &[OpResult]) -> Vec<u8> {
    frame(|out| {
        ReplyHeader { xid, zxid, err: 0 }.write(out);
        write_multi_response(results, out);
    })
}

impl Core {
    /// Answers a request that does not change the tree. Watches it asks for
    /// are registered for `conn`.
    pub(super) fn read(&mut self, conn: ConnId, xid: i32, req: &Request) -> Vec<u8> {
        let zxid = self.tree.last_processed_zxid();
        let ok = ErrorCode::Ok;
        let no_node = || header_only(xid, zxid, ErrorCode::NoNode);
        match req {
            Request::Exists(r) => {
                // ZooKeeper 3.8.0 refuses a NUL in the path, checks no
                // permission (later releases check READ), and registers the
                // watch even when the node is absent.
                if r.path.contains('\0') {
                    return header_only(xid, zxid, ErrorCode::BadArguments);
                }
                if r.watch {
                    self.watches.add_data_watch(&r.path, conn);
                }
                match self.tree.stat(&r.path) {
                    Some(stat) => reply(xid, zxid, ok, Some(&ExistsResponse { stat })),
                    None => no_node(),
                }
            }
            Request::GetData(r) => {
                let resp = match self.access(conn, &r.path, perms::READ) {
                    Ok(node) => self.data_response(node),
                    Err(e) => return header_only(xid, zxid, e),
                };
                if r.watch {
                    self.watches.add_data_watch(&r.path, conn);
                }
                reply(xid, zxid, ok, Some(&resp))
            }
            Request::GetChildren(r) => {
                let out = match self.access(conn, &r.path, perms::READ) {
                    Ok(node) => self.children_reply(xid, zxid, node, false),
                    Err(e) => return header_only(xid, zxid, e),
                };
                if r.watch {
                    self.watches.add_child_watch(&r.path, conn);
                }
                out
            }
            Request::GetChildren2(r) => {
                let out = match self.access(conn, &r.path, perms::READ) {
                    Ok(node) => self.children_reply(xid, zxid, node, true),
                    Err(e) => return header_only(xid, zxid, e),
                };
                if r.watch {
                    self.watches.add_child_watch(&r.path, conn);
                }
                out
            }
            Request::GetAcl(r) => {
                // READ or ADMIN may read the list; without ADMIN, digests are masked.
                let node = match self.access(conn, &r.path, perms::READ | perms::ADMIN) {
                    Ok(node) => node,
                    Err(e) => return header_only(xid, zxid, e),
                };
                let mut acl = self.tree.acl_of(node).to_vec();
                if self.access(conn, &r.path, perms::ADMIN).is_err() {
                    acl = crate::auth::mask_digests(&acl);
                }
                let stat = node.client_stat(self.tree.extended_types());
                reply(xid, zxid, ok, Some(&GetAclResponse { acl, stat }))
            }
            Request::GetAllChildrenNumber(r) => match self
                .access(conn, &r.path, perms::READ)
                .map(|_| self.tree.all_children_number(&r.path))
            {
                Err(e) => header_only(xid, zxid, e),
                Ok(None) => no_node(),
                Ok(Some(n)) => reply(
                    xid,
                    zxid,
                    ok,
                    Some(&GetAllChildrenNumberResponse {
                        total_number: n as i32,
                    }),
                ),
            },
            Request::GetEphemerals(r) => {
                let session_id = self.conns.get(&conn).map_or(0, |c| c.session_id);
                let prefix = ephemerals_prefix(r.prefix_path.as_deref());
                let ephemerals = self
                    .tree
                    .ephemerals(session_id)
                    .java_order()
                    .into_iter()
                    .filter(|p| prefix.is_none_or(|pre| p.starts_with(pre)))
                    .map(str::to_owned)
                    .collect();
                reply(xid, zxid, ok, Some(&GetEphemeralsResponse { ephemerals }))
            }
            Request::Sync(r) => reply(
                xid,
                zxid,
                ok,
                Some(&SyncResponse {
                    path: r.path.clone(),
                }),
            ),
            Request::WhoAmI => {
                let ids = self
                    .conns
                    .get(&conn)
                    .map(|c| c.auth.clone())
                    .unwrap_or_default();
                let client_info = ids
                    .iter()
                    .map(|id| ClientInfo {
                        auth_scheme: id.scheme.clone(),
                        user: crate::auth::who_am_i_user(id),
                    })
                    .collect();
                reply(xid, zxid, ok, Some(&WhoAmIResponse { client_info }))
            }
            Request::AddWatch(r) => match r.mode {
                add_watch_mode::PERSISTENT => {
                    self.watches.add_persistent(&r.path, conn);
                    reply(xid, zxid, ok, Some(&ErrorResponse { err: 0 }))
                }
                add_watch_mode::PERSISTENT_RECURSIVE => {
                    self.watches.add_persistent_recursive(&r.path, conn);
                    reply(xid, zxid, ok, Some(&ErrorResponse { err: 0 }))
                }
                _ => header_only(xid, zxid, ErrorCode::MarshallingError),
            },
            Request::CheckWatches(r) => self.watch_query(xid, zxid, r.r#type, |w| {
                w.check_watches(&r.path, conn, r.r#type)
            }),
            Request::RemoveWatches(r) => {
                let (path, ty) = (r.path.clone(), r.r#type);
                self.watch_query(xid, zxid, ty, |w| w.remove_watches(&path, conn, ty))
            }
            Request::SetWatches(w) => {
                self.set_watches(conn, w);
                // The reply echoes the request's xid (−8 from old clients, a
                // normal xid from 3.8's Java client).
                header_only(xid, zxid, ok)
            }
            Request::MultiRead(ops) => {
                let results: Vec<OpResult> =
                    ops.iter().map(|op| self.multi_read_op(conn, op)).collect();
                multi_reply(xid, zxid, &results)
            }
            _ => header_only(xid, zxid, ErrorCode::MarshallingError),
        }
    }

    /// The node at `path`; NoNode if it is missing, NoAuth if `conn` may not
    /// do `perm` on it.
    fn access(&self, conn: ConnId, path: &str, perm: i32) -> Result<&Node, ErrorCode> {
        let node = self.tree.get(path).ok_or(ErrorCode::NoNode)?;
        if self.settings.skip_acl {
            return Ok(node);
        }
        let ids = self
            .conns
            .get(&conn)
            .map(|c| c.auth.as_slice())
            .unwrap_or_default();
        if crate::auth::check_acl(self.tree.acl_of(node), perm, ids) {
            Ok(node)
        } else {
            Err(ErrorCode::NoAuth)
        }
    }

    fn watch_query(
        &mut self,
        xid: i32,
        zxid: i64,
        ty: i32,
        f: impl FnOnce(&mut crate::watch::WatchManager) -> bool,
    ) -> Vec<u8> {
        if !(watcher_type::CHILDREN..=watcher_type::ANY).contains(&ty) {
            return header_only(xid, zxid, ErrorCode::MarshallingError);
        }
        let err = if f(&mut self.watches) {
            ErrorCode::Ok
        } else {
            ErrorCode::NoWatcher
        };
        header_only(xid, zxid, err)
    }

    fn data_response(&self, node: &Node) -> GetDataResponse {
        GetDataResponse {
            data: node.data().map(<[u8]>::to_vec),
            stat: node.client_stat(self.tree.extended_types()),
        }
    }

    /// A getChildren (or, `with_stat`, getChildren2) reply for `node`,
    /// encoded straight from its cached child order.
    fn children_reply(&self, xid: i32, zxid: i64, node: &Node, with_stat: bool) -> Vec<u8> {
        let names = node.children().java_order();
        frame(|out| {
            ReplyHeader { xid, zxid, err: 0 }.write(out);
            (names.len() as i32).write(out);
            for name in names {
                crate::jute::write_ustring(out, Some(&**name));
            }
            if with_stat {
                node.client_stat(self.tree.extended_types()).write(out);
            }
        })
    }

    fn multi_read_op(&self, conn: ConnId, op: &MultiOp) -> OpResult {
        let path = match op {
            MultiOp::GetData(r) => &r.path,
            MultiOp::GetChildren(r) => &r.path,
            _ => return OpResult::Error(ErrorCode::MarshallingError.code()),
        };
        let node = match self.access(conn, path, perms::READ) {
            Ok(node) => node,
            Err(e) => return OpResult::Error(e.code()),
        };
        match op {
            MultiOp::GetData(_) => {
                let resp = self.data_response(node);
                OpResult::GetData(resp.data, resp.stat)
            }
            _ => OpResult::GetChildren(
                node.children()
                    .java_order()
                    .iter()
                    .map(|n| n.to_string())
                    .collect(),
            ),
        }
    }

    /// Re-registers a reconnecting client's watches (DataTree.setWatches): a
    /// watch whose node changed since `relative_zxid` fires at once instead.
    fn set_watches(&mut self, conn: ConnId, w: &SetWatches2) {
        let rel = w.relative_zxid;
        let mut events: Vec<(i32, &str)> = Vec::new();
        for p in &w.data_watches {
            match self.tree.get(p) {
                None => events.push((event_type::NODE_DELETED, p)),
                Some(n) if n.stat().mzxid > rel => events.push((event_type::NODE_DATA_CHANGED, p)),
                Some(_) => self.watches.add_data_watch(p, conn),
            }
        }
        for p in &w.exist_watches {
            match self.tree.get(p) {
                Some(_) => events.push((event_type::NODE_CREATED, p)),
                None => self.watches.add_data_watch(p, conn),
            }
        }
        for p in &w.child_watches {
            match self.tree.get(p) {
                None => events.push((event_type::NODE_DELETED, p)),
                Some(n) if n.stat().pzxid > rel => {
                    events.push((event_type::NODE_CHILDREN_CHANGED, p))
                }
                Some(_) => self.watches.add_child_watch(p, conn),
            }
        }
        for p in &w.persistent_watches {
            self.watches.add_persistent(p, conn);
        }
        for p in &w.persistent_recursive_watches {
            self.watches.add_persistent_recursive(p, conn);
        }
        let frames: Vec<Vec<u8>> = events
            .into_iter()
            .map(|(ty, p)| watch_event(ty, p))
            .collect();
        for f in frames {
            self.send(conn, f);
        }
    }
}

/// The prefix getEphemerals filters by: none (every path) for a missing,
/// blank or "/" prefix, judged after Java's `String.trim()` as ZooKeeper's
/// FinalRequestProcessor does; otherwise the prefix as sent (ZooKeeper
/// matches `startsWith(prefixPath)`, untrimmed).
fn ephemerals_prefix(prefix: Option<&str>) -> Option<&str> {
    prefix.filter(|p| {
        let trimmed = p.trim_matches(|c: char| c <= ' ');
        !trimmed.is_empty() && trimmed != "/"
    })
}

#[cfg(test)]
mod tests {
    use super::ephemerals_prefix;

    /// ZooKeeper 3.8 lists every ephemeral for "", " " and "  /  " (a blank
    /// or "/" prefix once trimmed), none for "//" or "e".
    #[test]
    fn ephemerals_prefix_is_judged_trimmed_and_matched_as_sent() {
        for all in [
            None,
            Some(""),
            Some(" "),
            Some("/"),
            Some("  /  "),
            Some("\t/\n"),
        ] {
            assert_eq!(ephemerals_prefix(all), None, "{all:?}");
        }
        for kept in ["/e", "e", "//", " /e"] {
            assert_eq!(ephemerals_prefix(Some(kept)), Some(kept));
        }
    }
}
