//! Request → txn (ZooKeeper's PrepRequestProcessor).
//!
//! Every write is validated here, once, against the tree plus the changes of
//! writes that are prepped but not yet applied ("outstanding changes"), so a
//! pipeline of writes sees each other's effects. A write that fails validation
//! still becomes a txn — an [`ErrorTxn`] that takes a zxid — as in ZooKeeper.
//! Prep reads no clock: the leader's time arrives in [`PrepContext`].
//!
//! With digests on, every txn carries the tree digest it will leave
//! (ZooKeeper's `PrecalculatedDigest`): each change record keeps its node's
//! digest, and the path and data already hashed, so a change is digested
//! from the record alone — the tree's digest after the newest prepped txn
//! plus, per record, the node's new digest minus its old. Nothing walks
//! the tree and nothing is allocated for it; what it costs is CRC-32 over
//! each changed node's path, data and Stat, as ZooKeeper's prep pays too
//! (for a create: the parent's, read from the tree, and the new node's).

use super::{Txn, TxnBody};
use crate::auth::fixup_acl;
use crate::jute::records::*;
use crate::proto::codes::perms;
use crate::proto::request::MultiOp;
use crate::proto::{ErrorCode, OpCode, Request};
use crate::tree::digest::{NodeDigestPrefix, DIGEST_VERSION};
use crate::tree::path::{self, parent_of};
use crate::tree::path_hash::PathHashBuilder;
use crate::tree::{
    DataTree, EphemeralType, CONFIG_PATH, CONTAINER_EPHEMERAL_OWNER, MAX_TTL_MS, QUOTA_PATH,
    ZOOKEEPER_PATH,
};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Who asked, at which zxid and time: everything prep needs besides the request.
#[derive(Debug, Clone, Copy)]
pub struct PrepContext<'a> {
    /// The session making the request (TxnHeader.clientId).
    pub session_id: i64,
    /// The request's xid (TxnHeader.cxid).
    pub cxid: i32,
    /// The zxid this txn takes.
    pub zxid: i64,
    /// The leader's wall-clock time in ms (TxnHeader.time).
    pub time: i64,
    /// The session's authenticated identities (for `auth` ACL expansion).
    pub auth: &'a [Id],
}

/// Settings that change what prep accepts.
#[derive(Debug, Clone, Copy, Default)]
pub struct PrepSettings {
    /// zookeeper.extendedTypesEnabled: TTL nodes allowed.
    pub extended_types: bool,
    /// reconfigEnabled.
    pub reconfig_enabled: bool,
    /// zookeeper.skipACL: permissions are not checked.
    pub skip_acl: bool,
    /// zookeeper.enforceQuota: creates and setData crossing a hard quota limit
    /// fail with QuotaExceeded (and crossed limits are logged).
    pub enforce_quota: bool,
    /// SASLAuthenticationProvider is registered: `sasl` ACL ids are valid.
    pub sasl_acls: bool,
}

/// The state of a path as seen by prep: tree + outstanding changes (ChangeRecord).
#[derive(Debug, Clone)]
struct ChangeRecord {
    /// The txn that made this record; −1 for a record read from the tree.
    zxid: i64,
    /// `None` when the node is deleted by an outstanding txn.
    stat: Option<StatPersisted>,
    child_count: i32,
    acl: Arc<[Acl]>,
    /// Length of the node's data, for the setData quota check.
    data_len: usize,
    /// The node's digest in the state this record was read as (0 when
    /// absent); [`Prep::add`] turns it into the digest of the state added.
    node_digest: i64,
    /// The node's path and data hashed: its digest for any Stat.
    digest_prefix: NodeDigestPrefix,
}

/// The outstanding changes of prepped but unapplied txns.
#[derive(Debug, Default)]
pub struct Prep {
    settings: PrepSettings,
    /// Newest outstanding record per path.
    outstanding: HashMap<Box<str>, ChangeRecord, PathHashBuilder>,
    /// (zxid, path) in prep order, to forget records once applied.
    order: VecDeque<(i64, Box<str>)>,
    /// Records replaced during the multi being prepped, to roll back on failure.
    multi_undo: Option<Vec<(Box<str>, Option<ChangeRecord>)>>,
    /// What the records added for the txn being prepped change the tree's
    /// digest by (wrapping, as a Java `long`).
    txn_digest_delta: i64,
    /// (zxid, tree digest after it) of the newest txn prepped: the digest
    /// the next txn starts from until the tree has applied that zxid.
    last_digest: Option<(i64, i64)>,
}

type PrepResult<T> = Result<T, ErrorCode>;

impl Prep {
    /// A prep stage with no outstanding changes.
    pub fn new(settings: PrepSettings) -> Prep {
        Prep {
            settings,
            ..Default::default()
        }
    }

    /// Number of outstanding change records (for tests and metrics).
    pub fn outstanding_len(&self) -> usize {
        self.outstanding.len()
    }

    /// Forgets the changes of txns up to `zxid`: they are in the tree now.
    pub fn applied(&mut self, zxid: i64) {
        while let Some((z, _)) = self.order.front() {
            if *z > zxid {
                break;
            }
            let (z, path) = self.order.pop_front().expect("front exists");
            if self.outstanding.get(&path).is_some_and(|r| r.zxid == z) {
                self.outstanding.remove(&path);
            }
        }
    }

    /// The txn creating a session with the negotiated timeout. `ctx.session_id` is the new id.
    pub fn create_session(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        timeout_ms: i32,
    ) -> Txn {
        self.txn(
            tree,
            ctx,
            OpCode::CreateSession,
            TxnBody::CreateSession(CreateSessionTxn {
                time_out: timeout_ms,
            }),
        )
    }

    /// The txn closing `ctx.session_id`, listing its ephemerals (including those
    /// created or deleted by outstanding txns).
    pub fn close_session(&mut self, tree: &DataTree, ctx: &PrepContext<'_>) -> Txn {
        // ZooKeeper: a copy of the session's HashSet, outstanding deletes
        // removed and outstanding ephemeral creates added in txn order; the
        // txn lists the paths in that set's iteration order, and apply deletes
        // them (and fires their watches) in it.
        let mut set = tree.ephemerals(ctx.session_id);
        let mut outstanding: Vec<(i64, &str, bool)> = self
            .outstanding
            .iter()
            .filter_map(|(p, r)| match &r.stat {
                None => Some((r.zxid, &**p, false)),
                Some(s) if s.ephemeral_owner == ctx.session_id => Some((r.zxid, &**p, true)),
                Some(_) => None,
            })
            .collect();
        outstanding.sort_unstable();
        for (_, p, live) in outstanding {
            if live {
                set.insert(p);
            } else {
                set.remove(p);
            }
        }
        let paths: Vec<String> = set.java_order().into_iter().map(str::to_owned).collect();
        for p in &paths {
            let node_digest = self.record(tree, p).map_or(0, |r| r.node_digest);
            if let Some(parent) = parent_of(p) {
                if let Ok(mut rec) = self.record(tree, parent) {
                    rec.child_count -= 1;
                    rec.stat.as_mut().expect("live").pzxid = ctx.zxid;
                    self.add(parent, rec, ctx.zxid);
                }
            }
            self.add(
                p,
                ChangeRecord {
                    zxid: ctx.zxid,
                    stat: None,
                    child_count: 0,
                    acl: Arc::from(Vec::new()),
                    data_len: 0,
                    node_digest,
                    digest_prefix: NodeDigestPrefix::default(),
                },
                ctx.zxid,
            );
        }
        self.txn(
            tree,
            ctx,
            OpCode::CloseSession,
            TxnBody::CloseSession(CloseSessionTxn {
                paths2_delete: paths,
            }),
        )
    }

    /// Turns a write request into its txn; a validation failure yields an error txn.
    pub fn prep(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        op: OpCode,
        request: &Request,
    ) -> Txn {
        let result = match request {
            Request::Create { op, req } => self.create(tree, ctx, *op, req, None),
            Request::CreateTtl(r) => {
                let req = CreateRequest {
                    path: r.path.clone(),
                    data: r.data.clone(),
                    acl: r.acl.clone(),
                    flags: r.flags,
                };
                self.create(tree, ctx, OpCode::CreateTtl, &req, Some(r.ttl))
            }
            Request::Delete(r) => self.delete(tree, ctx, &r.path, r.version),
            Request::DeleteContainer { path } => self.delete_container(tree, ctx, path),
            Request::SetData(r) => self.set_data(tree, ctx, r),
            Request::SetAcl(r) => self.set_acl(tree, ctx, r),
            Request::Reconfig(_) => Err(self.reconfig_error()),
            Request::Multi(ops) => {
                let body = self.multi(tree, ctx, ops);
                return self.txn(tree, ctx, OpCode::Multi, body);
            }
            Request::CloseSession => return self.close_session(tree, ctx),
            Request::Malformed { .. } => Err(ErrorCode::MarshallingError),
            other => unreachable!("prep called with a read request {other:?}"),
        };
        match result {
            Ok(body) => self.txn(tree, ctx, op, body),
            Err(e) => self.txn(
                tree,
                ctx,
                OpCode::Error,
                TxnBody::Error(ErrorTxn { err: e.code() }),
            ),
        }
    }

    /// The error txn for a write refused before validation (its session
    /// moved to another server: SESSIONMOVED). It takes its zxid as any
    /// refused write does, and carries the digest as an error txn does.
    pub fn refuse(&mut self, tree: &DataTree, ctx: &PrepContext<'_>, e: ErrorCode) -> Txn {
        self.txn(tree, ctx, OpCode::Error, error_body(e))
    }

    /// The txn of `body`, with the tree digest it leaves when digests are
    /// on: the digest after the newest prepped txn (or the tree's, once that
    /// one is applied) plus this txn's changes (ZooKeeper's
    /// `getCurrentTreeDigest`; a txn that changes nothing carries it as is).
    fn txn(&mut self, tree: &DataTree, ctx: &PrepContext<'_>, op: OpCode, body: TxnBody) -> Txn {
        let header = TxnHeader {
            client_id: ctx.session_id,
            cxid: ctx.cxid,
            zxid: ctx.zxid,
            time: ctx.time,
            r#type: op as i32,
        };
        let delta = std::mem::take(&mut self.txn_digest_delta);
        let digest = tree.digest_enabled().then(|| {
            let base = match self.last_digest {
                Some((zxid, digest)) if zxid > tree.last_processed_zxid() => digest,
                _ => tree.digest(),
            };
            let tree_digest = base.wrapping_add(delta);
            self.last_digest = Some((ctx.zxid, tree_digest));
            TxnDigest {
                version: DIGEST_VERSION,
                tree_digest,
            }
        });
        Txn {
            header,
            body,
            digest,
        }
    }

    fn reconfig_error(&self) -> ErrorCode {
        if self.settings.reconfig_enabled {
            ErrorCode::Unimplemented
        } else {
            ErrorCode::ReconfigDisabled
        }
    }

    /// Preps each op against the changes of the ops before it. At the first
    /// failure the op gets its error, every later op RuntimeInconsistency, and
    /// the multi's outstanding changes are rolled back; the multi still takes its zxid.
    fn multi(&mut self, tree: &DataTree, ctx: &PrepContext<'_>, ops: &[MultiOp]) -> TxnBody {
        // A create or delete records its node and its parent.
        self.multi_undo = Some(Vec::with_capacity(2 * ops.len()));
        let mut subs = Vec::with_capacity(ops.len());
        let mut failed = false;
        for op in ops {
            if failed {
                subs.push((
                    OpCode::Error as i32,
                    error_body(ErrorCode::RuntimeInconsistency),
                ));
                continue;
            }
            let (ty, result) = self.multi_op(tree, ctx, op);
            match result {
                Ok(body) => subs.push((ty as i32, body)),
                Err(e) => {
                    failed = true;
                    subs.push((OpCode::Error as i32, error_body(e)));
                }
            }
        }
        let undo = self.multi_undo.take().expect("set above");
        if failed {
            self.roll_back(undo, ctx.zxid);
        }
        TxnBody::Multi(subs)
    }

    fn multi_op(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        op: &MultiOp,
    ) -> (OpCode, PrepResult<TxnBody>) {
        match op {
            MultiOp::Create { op, req } => (*op, self.create(tree, ctx, *op, req, None)),
            MultiOp::CreateTtl(r) => {
                let req = CreateRequest {
                    path: r.path.clone(),
                    data: r.data.clone(),
                    acl: r.acl.clone(),
                    flags: r.flags,
                };
                (
                    OpCode::CreateTtl,
                    self.create(tree, ctx, OpCode::CreateTtl, &req, Some(r.ttl)),
                )
            }
            MultiOp::Delete(r) => (OpCode::Delete, self.delete(tree, ctx, &r.path, r.version)),
            MultiOp::SetData(r) => (OpCode::SetData, self.set_data(tree, ctx, r)),
            MultiOp::Check(r) => (OpCode::Check, self.check(tree, ctx, &r.path, r.version)),
            MultiOp::GetChildren(_) | MultiOp::GetData(_) => {
                (OpCode::Error, Err(ErrorCode::MarshallingError))
            }
        }
    }

    fn roll_back(&mut self, undo: Vec<(Box<str>, Option<ChangeRecord>)>, zxid: i64) {
        for (path, previous) in undo.into_iter().rev() {
            match previous {
                Some(r) => self.outstanding.insert(path, r),
                None => self.outstanding.remove(&path),
            };
        }
        while self.order.back().is_some_and(|(z, _)| *z == zxid) {
            self.order.pop_back();
        }
        // The multi is the whole txn: none of its changes happen.
        self.txn_digest_delta = 0;
    }

    /// NoAuth unless the session may do `perm` on `record` (ZooKeeper's checkACL).
    fn allow(&self, record: &ChangeRecord, perm: i32, ctx: &PrepContext<'_>) -> PrepResult<()> {
        if self.settings.skip_acl || crate::auth::check_acl(&record.acl, perm, ctx.auth) {
            Ok(())
        } else {
            Err(ErrorCode::NoAuth)
        }
    }

    /// ZooKeeperServer.checkQuota, with zookeeper.enforceQuota only: judges the
    /// change against the applied tree's deepest quota over `path`, logs each
    /// limit crossed and refuses a crossed hard limit with QuotaExceeded.
    fn check_quota(
        &self,
        tree: &DataTree,
        path: &str,
        bytes_diff: i64,
        count_diff: i64,
    ) -> PrepResult<()> {
        if !self.settings.enforce_quota {
            return Ok(());
        }
        let check = tree.check_quota(path, bytes_diff, count_diff);
        for message in &check.exceeded {
            tracing::warn!("{message}");
        }
        if check.refused {
            Err(ErrorCode::QuotaExceeded)
        } else {
            Ok(())
        }
    }

    /// The state of `path` (NoNode if absent), provided the session may do
    /// `perm` on it (NoAuth otherwise), in ZooKeeper's order.
    fn permitted(
        &self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        path: &str,
        perm: i32,
    ) -> PrepResult<ChangeRecord> {
        let record = self.record(tree, path)?;
        self.allow(&record, perm, ctx)?;
        Ok(record)
    }

    /// The state of `path`: the newest outstanding record, else the tree's node.
    fn record(&self, tree: &DataTree, path: &str) -> PrepResult<ChangeRecord> {
        if let Some(r) = self.outstanding.get(path) {
            return if r.stat.is_some() {
                Ok(r.clone())
            } else {
                Err(ErrorCode::NoNode)
            };
        }
        let node = tree.get(path).ok_or(ErrorCode::NoNode)?;
        let stat = node.stat();
        let digest_prefix = NodeDigestPrefix::new(tree.digest_enabled(), path, node.data());
        Ok(ChangeRecord {
            zxid: -1,
            node_digest: digest_prefix.digest(&stat),
            digest_prefix,
            stat: Some(stat),
            child_count: node.children().len() as i32,
            acl: tree.acl_of(node).clone(),
            data_len: node.data_len(),
        })
    }

    /// Makes `record` the newest state of `path`, made by txn `zxid`, and
    /// counts its digest change towards the txn's digest.
    fn add(&mut self, path: &str, mut record: ChangeRecord, zxid: i64) {
        record.zxid = zxid;
        let new_digest = record
            .stat
            .as_ref()
            .map_or(0, |s| record.digest_prefix.digest(s));
        self.txn_digest_delta = self
            .txn_digest_delta
            .wrapping_add(new_digest.wrapping_sub(record.node_digest));
        record.node_digest = new_digest;
        let key: Box<str> = path.into();
        let previous = self.outstanding.insert(key.clone(), record);
        if let Some(undo) = &mut self.multi_undo {
            undo.push((key.clone(), previous));
        }
        self.order.push_back((zxid, key));
    }

    fn create(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        op: OpCode,
        req: &CreateRequest,
        ttl: Option<i64>,
    ) -> PrepResult<TxnBody> {
        let mode = CreateMode::from_flags(req.flags).ok_or(ErrorCode::BadArguments)?;
        self.validate_ttl(mode, ttl.unwrap_or(-1))?;
        if !req.path.contains('/') || req.path.contains('\0') {
            return Err(ErrorCode::BadArguments);
        }
        let acl = fixup_acl(&req.acl, ctx.auth, self.settings.sasl_acls)?;
        let parent_path = parent_of(&req.path).expect("contains '/'");
        let mut parent = self.record(tree, parent_path)?;
        self.allow(&parent, perms::CREATE, ctx)?;
        let parent_stat = parent.stat.as_ref().expect("live");
        let path = if mode.sequential {
            format!("{}{:010}", req.path, parent_stat.cversion)
        } else {
            req.path.clone()
        };
        valid_path(&path)?;
        if self.record(tree, &path).is_ok() {
            return Err(ErrorCode::NodeExists);
        }
        if EphemeralType::of(parent_stat.ephemeral_owner, self.settings.extended_types)
            == EphemeralType::Normal
        {
            return Err(ErrorCode::NoChildrenForEphemerals);
        }
        // Java's int arithmetic: past Integer.MAX_VALUE the counter wraps.
        let new_cversion = parent_stat.cversion.wrapping_add(1);
        self.check_quota(tree, &path, data_len(&req.data) as i64, 1)?;
        let (body, owner) = match op {
            OpCode::CreateContainer => {
                let t = CreateContainerTxn {
                    path: path.clone(),
                    data: req.data.clone(),
                    acl: acl.clone(),
                    parent_c_version: new_cversion,
                };
                (TxnBody::CreateContainer(t), CONTAINER_EPHEMERAL_OWNER)
            }
            OpCode::CreateTtl => {
                let ttl = ttl.expect("createTTL carries a ttl");
                let t = CreateTtlTxn {
                    path: path.clone(),
                    data: req.data.clone(),
                    acl: acl.clone(),
                    parent_c_version: new_cversion,
                    ttl,
                };
                (TxnBody::CreateTtl(t), EphemeralType::ttl_owner(ttl))
            }
            _ => {
                let t = CreateTxn {
                    path: path.clone(),
                    data: req.data.clone(),
                    acl: acl.clone(),
                    ephemeral: mode.ephemeral,
                    parent_c_version: new_cversion,
                };
                (
                    TxnBody::Create(t),
                    if mode.ephemeral { ctx.session_id } else { 0 },
                )
            }
        };
        let stat = parent.stat.as_mut().expect("live");
        stat.cversion = new_cversion;
        stat.pzxid = ctx.zxid;
        parent.child_count += 1;
        self.add(parent_path, parent, ctx.zxid);
        let node_stat = StatPersisted {
            czxid: ctx.zxid,
            mzxid: ctx.zxid,
            ctime: ctx.time,
            mtime: ctx.time,
            ephemeral_owner: owner,
            pzxid: ctx.zxid,
            ..Default::default()
        };
        self.add(
            &path,
            ChangeRecord {
                zxid: ctx.zxid,
                stat: Some(node_stat),
                child_count: 0,
                acl: Arc::from(acl),
                data_len: data_len(&req.data),
                node_digest: 0,
                digest_prefix: NodeDigestPrefix::new(
                    tree.digest_enabled(),
                    &path,
                    req.data.as_deref(),
                ),
            },
            ctx.zxid,
        );
        Ok(body)
    }

    /// ZooKeeper's validateCreateRequest TTL rules.
    fn validate_ttl(&self, mode: CreateMode, ttl: i64) -> PrepResult<()> {
        if mode.ttl && !self.settings.extended_types {
            return Err(ErrorCode::Unimplemented);
        }
        let ok = if mode.ttl {
            ttl > 0 && ttl <= MAX_TTL_MS
        } else {
            ttl < 0
        };
        if ok {
            Ok(())
        } else {
            Err(ErrorCode::BadArguments)
        }
    }

    /// The parent of a node being deleted; the reserved paths cannot be deleted.
    fn delete_parent(path: &str) -> PrepResult<&str> {
        let parent = parent_of(path).ok_or(ErrorCode::BadArguments)?;
        let special = matches!(path, "/" | ZOOKEEPER_PATH | QUOTA_PATH | CONFIG_PATH);
        if path.contains('\0') || special {
            return Err(ErrorCode::BadArguments);
        }
        Ok(parent)
    }

    fn delete(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        path: &str,
        version: i32,
    ) -> PrepResult<TxnBody> {
        let parent_path = Self::delete_parent(path)?;
        let parent = self.record(tree, parent_path)?;
        self.allow(&parent, perms::DELETE, ctx)?;
        let node = self.record(tree, path)?;
        check_version(node.stat.as_ref().expect("live").version, version)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        self.remove_node(parent_path, parent, path, node.node_digest, ctx.zxid);
        Ok(TxnBody::Delete(DeleteTxn {
            path: path.to_owned(),
        }))
    }

    fn delete_container(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        path: &str,
    ) -> PrepResult<TxnBody> {
        let parent_path = Self::delete_parent(path)?;
        let node = self.record(tree, path)?;
        if node.child_count > 0 {
            return Err(ErrorCode::NotEmpty);
        }
        let kind = EphemeralType::of(
            node.stat.as_ref().expect("live").ephemeral_owner,
            self.settings.extended_types,
        );
        if !matches!(kind, EphemeralType::Container | EphemeralType::Ttl(_)) {
            return Err(ErrorCode::BadVersion);
        }
        let parent = self.record(tree, parent_path)?;
        self.remove_node(parent_path, parent, path, node.node_digest, ctx.zxid);
        Ok(TxnBody::Delete(DeleteTxn {
            path: path.to_owned(),
        }))
    }

    fn remove_node(
        &mut self,
        parent_path: &str,
        mut parent: ChangeRecord,
        path: &str,
        node_digest: i64,
        zxid: i64,
    ) {
        parent.child_count -= 1;
        parent.stat.as_mut().expect("live").pzxid = zxid;
        self.add(parent_path, parent, zxid);
        self.add(
            path,
            ChangeRecord {
                zxid,
                stat: None,
                child_count: -1,
                acl: Arc::from(Vec::new()),
                data_len: 0,
                node_digest,
                digest_prefix: NodeDigestPrefix::default(),
            },
            zxid,
        );
    }

    fn set_data(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        r: &SetDataRequest,
    ) -> PrepResult<TxnBody> {
        valid_path(&r.path)?;
        let mut node = self.permitted(tree, ctx, &r.path, perms::WRITE)?;
        let bytes_diff = data_len(&r.data) as i64 - node.data_len as i64;
        self.check_quota(tree, &r.path, bytes_diff, 0)?;
        let version = check_version(node.stat.as_ref().expect("live").version, r.version)?;
        node.data_len = data_len(&r.data);
        node.digest_prefix =
            NodeDigestPrefix::new(tree.digest_enabled(), &r.path, r.data.as_deref());
        let stat = node.stat.as_mut().expect("live");
        stat.version = version;
        stat.mtime = ctx.time;
        stat.mzxid = ctx.zxid;
        self.add(&r.path, node, ctx.zxid);
        Ok(TxnBody::SetData(SetDataTxn {
            path: r.path.clone(),
            data: r.data.clone(),
            version,
        }))
    }

    /// The txn of a reconfig the leader has validated: `new_config` (the new
    /// membership text with its `version=` line) replaces the data of
    /// `/zookeeper/config` (version −1), if the session may WRITE that node —
    /// ZooKeeper checks this last, after the membership checks the caller made
    /// (`checked`: their error, if any).
    pub fn reconfig(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        checked: Result<Vec<u8>, ErrorCode>,
    ) -> Txn {
        let body = checked.and_then(|data| {
            let mut node = self.permitted(tree, ctx, CONFIG_PATH, perms::WRITE)?;
            node.data_len = data.len();
            node.digest_prefix =
                NodeDigestPrefix::new(tree.digest_enabled(), CONFIG_PATH, Some(&data));
            let stat = node.stat.as_mut().expect("live");
            stat.version = -1;
            stat.mtime = ctx.time;
            stat.mzxid = ctx.zxid;
            self.add(CONFIG_PATH, node, ctx.zxid);
            Ok(TxnBody::SetData(SetDataTxn {
                path: CONFIG_PATH.into(),
                data: Some(data),
                version: -1,
            }))
        });
        match body {
            Ok(body) => self.txn(tree, ctx, OpCode::Reconfig, body),
            Err(e) => self.txn(
                tree,
                ctx,
                OpCode::Error,
                TxnBody::Error(ErrorTxn { err: e.code() }),
            ),
        }
    }

    fn set_acl(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        r: &SetAclRequest,
    ) -> PrepResult<TxnBody> {
        valid_path(&r.path)?;
        let acl = fixup_acl(&r.acl, ctx.auth, self.settings.sasl_acls)?;
        let mut node = self.permitted(tree, ctx, &r.path, perms::ADMIN)?;
        let stat = node.stat.as_mut().expect("live");
        let version = check_version(stat.aversion, r.version)?;
        stat.aversion = version;
        node.acl = Arc::from(acl.clone());
        self.add(&r.path, node, ctx.zxid);
        Ok(TxnBody::SetAcl(SetAclTxn {
            path: r.path.clone(),
            acl,
            version,
        }))
    }

    fn check(
        &mut self,
        tree: &DataTree,
        ctx: &PrepContext<'_>,
        path: &str,
        version: i32,
    ) -> PrepResult<TxnBody> {
        valid_path(path)?;
        let node = self.permitted(tree, ctx, path, perms::READ)?;
        let next = check_version(node.stat.as_ref().expect("live").version, version)?;
        Ok(TxnBody::Check(CheckVersionTxn {
            path: path.to_owned(),
            version: next,
        }))
    }
}

/// BadArguments unless `path` is a valid znode path (`PathUtils.validatePath`).
fn valid_path(path: &str) -> PrepResult<()> {
    if path::is_valid(path) {
        Ok(())
    } else {
        Err(ErrorCode::BadArguments)
    }
}

/// ZooKeeper's checkAndIncVersion: −1 matches any version; returns the next version.
/// The length of request data; null data counts 0, as ZooKeeper counts it.
fn data_len(data: &Option<Vec<u8>>) -> usize {
    data.as_ref().map_or(0, Vec::len)
}

fn check_version(current: i32, expected: i32) -> PrepResult<i32> {
    if expected != -1 && expected != current {
        return Err(ErrorCode::BadVersion);
    }
    Ok(current.wrapping_add(1))
}

fn error_body(e: ErrorCode) -> TxnBody {
    TxnBody::Error(ErrorTxn { err: e.code() })
}

/// The flags of a create (`CreateMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateMode {
    /// EPHEMERAL, EPHEMERAL_SEQUENTIAL.
    pub ephemeral: bool,
    /// *_SEQUENTIAL.
    pub sequential: bool,
    /// CONTAINER.
    pub container: bool,
    /// PERSISTENT_WITH_TTL, PERSISTENT_SEQUENTIAL_WITH_TTL.
    pub ttl: bool,
}

impl CreateMode {
    /// Maps a flag value 0..=6 to its mode; `None` for any other value (BadArguments).
    pub fn from_flags(flags: i32) -> Option<CreateMode> {
        let m = |ephemeral, sequential, container, ttl| {
            Some(CreateMode {
                ephemeral,
                sequential,
                container,
                ttl,
            })
        };
        match flags {
            0 => m(false, false, false, false),
            1 => m(true, false, false, false),
            2 => m(false, true, false, false),
            3 => m(true, true, false, false),
            4 => m(false, false, true, false),
            5 => m(false, false, false, true),
            6 => m(false, true, false, true),
            _ => None,
        }
    }
}
