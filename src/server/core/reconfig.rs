//! Dynamic reconfiguration (ZooKeeper 3.5+'s `reconfig`): the leader checks
//! a request as ZooKeeper's PrepRequestProcessor does and replicates the new
//! membership as a reconfig txn (a setData of `/zookeeper/config` with
//! version −1); once it is committed every member switches to it, writes
//! `<zoo.cfg>.dynamic.<version>` and points its zoo.cfg there
//! (`dynamicConfigFile=`, the original kept as `<zoo.cfg>.bak`).
//!
//! The checks, in ZooKeeper's order: reconfigEnabled (ReconfigDisabled), no
//! other reconfig in flight (ReconfigInProgress), `curConfigId` −1 or the
//! current version (BadVersion), a parseable membership (BadArguments), at
//! least 2 voters with standaloneEnabled, else 1 (BadArguments), a synced
//! quorum of the new voters (NewConfigNoQuorum), and last WRITE permission on
//! `/zookeeper/config` (NoAuth: its ACL is world-readable only, so in
//! practice a super session).

use super::Core;
use crate::config::{parse_server_id, parse_server_spec, LearnerRole, ServerSpec};
use crate::jute::records::ReconfigRequest;
use crate::proto::ErrorCode;
use crate::server::settings::Ensemble;
use crate::txn::prep::PrepContext;
use crate::txn::{Txn, TxnBody};
use crate::zab::{Membership, Output};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use tracing::{info, warn};

/// The membership text of `servers` at `version` (`/zookeeper/config`'s data).
pub(super) fn config_text(servers: &[ServerSpec], version: i64) -> String {
    let e = Ensemble {
        my_id: 0,
        servers: servers.to_vec(),
        init_limit: 0,
        sync_limit: 0,
        read_only_mode: false,
        config_version: version as u64,
        commit_log_count: 0,
        config_path: None,
        standalone_enabled: true,
    };
    e.config_text()
}

/// Voters and observers of `servers`.
pub(super) fn membership_of(servers: &[ServerSpec]) -> Membership {
    let mut m = Membership::default();
    for s in servers {
        match s.role {
            LearnerRole::Participant => m.voters.insert(s.id),
            LearnerRole::Observer => m.observers.insert(s.id),
        };
    }
    m
}

/// Parses `server.N=spec` lines (newline- or comma-separated); `version=`
/// lines are skipped; anything else is BadArguments.
fn parse_members(text: &str) -> Result<BTreeMap<u64, ServerSpec>, ErrorCode> {
    let mut servers = BTreeMap::new();
    for line in text.split([',', '\n']) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').ok_or(ErrorCode::BadArguments)?;
        let key = key.trim();
        if key == "version" {
            continue;
        }
        let id = key
            .strip_prefix("server.")
            .ok_or(ErrorCode::BadArguments)
            .and_then(|n| parse_server_id(n).map_err(|_| ErrorCode::BadArguments))?;
        let spec =
            parse_server_spec(id, value.trim(), false).map_err(|_| ErrorCode::BadArguments)?;
        servers.insert(id, spec);
    }
    Ok(servers)
}

/// The membership after an incremental reconfig: `leaving` ids removed, then
/// each `joining` `server.N=spec` (which must name a client port) added or
/// replaced.
fn incremental(
    current: &[ServerSpec],
    joining: Option<&str>,
    leaving: Option<&str>,
) -> Result<BTreeMap<u64, ServerSpec>, ErrorCode> {
    let mut servers: BTreeMap<u64, ServerSpec> =
        current.iter().map(|s| (s.id, s.clone())).collect();
    for id in leaving.unwrap_or_default().split(',').map(str::trim) {
        if id.is_empty() {
            continue;
        }
        let id: u64 = id.parse().map_err(|_| ErrorCode::BadArguments)?;
        servers.remove(&id);
    }
    for joiner in joining.unwrap_or_default().split(',') {
        if joiner.trim().is_empty() {
            continue;
        }
        let added = parse_members(joiner)?;
        for (id, spec) in added {
            if spec.client.is_none() {
                return Err(ErrorCode::BadArguments);
            }
            let clash = servers.values().any(|s| {
                s.id != id
                    && s.host == spec.host
                    && [s.quorum_port, s.election_port]
                        .iter()
                        .any(|p| *p == spec.quorum_port || *p == spec.election_port)
            });
            if clash {
                return Err(ErrorCode::BadArguments);
            }
            servers.insert(id, spec);
        }
    }
    Ok(servers)
}

impl Core {
    /// Leader: the txn answering a reconfig request.
    pub(super) fn prep_reconfig(&mut self, ctx: &PrepContext<'_>, req: &ReconfigRequest) -> Txn {
        let checked = self.check_reconfig(req, ctx.zxid);
        let txn = self.prep.reconfig(&self.tree, ctx, checked);
        if let (TxnBody::SetData(_), Some(r)) = (&txn.body, self.replica.as_mut()) {
            r.reconfig_pending = Some(ctx.zxid);
        }
        txn
    }

    fn check_reconfig(&self, req: &ReconfigRequest, zxid: i64) -> Result<Vec<u8>, ErrorCode> {
        if !self.settings.reconfig_enabled {
            return Err(ErrorCode::ReconfigDisabled);
        }
        let r = self.replica.as_ref().ok_or(ErrorCode::Unimplemented)?;
        if r.reconfig_pending.is_some() {
            return Err(ErrorCode::ReconfigInProgress);
        }
        if req.cur_config_id != -1 && req.cur_config_id != r.ensemble.config_version as i64 {
            return Err(ErrorCode::BadVersion);
        }
        let servers = match &req.new_members {
            Some(members) => parse_members(members)?,
            None => incremental(
                &r.ensemble.servers,
                req.joining_servers.as_deref(),
                req.leaving_servers.as_deref(),
            )?,
        };
        let servers: Vec<ServerSpec> = servers.into_values().collect();
        let membership = membership_of(&servers);
        let min_voters = if r.ensemble.standalone_enabled { 2 } else { 1 };
        if membership.voters.len() < min_voters {
            return Err(ErrorCode::BadArguments);
        }
        let synced: BTreeSet<u64> = r.peer().synced_members();
        if !membership.is_quorum(&synced) {
            return Err(ErrorCode::NewConfigNoQuorum);
        }
        Ok(config_text(&servers, zxid).into_bytes())
    }

    /// Every member, when a reconfig txn is applied: the new membership takes
    /// effect and is written where ZooKeeper keeps it.
    pub(super) fn reconfig_committed(&mut self, text: &[u8]) {
        let Ok(text) = std::str::from_utf8(text) else {
            warn!("a committed reconfig is not UTF-8; membership unchanged");
            return;
        };
        let version = text
            .lines()
            .find_map(|l| l.strip_prefix("version="))
            .and_then(|v| i64::from_str_radix(v.trim(), 16).ok())
            .unwrap_or(0);
        let Ok(servers) = parse_members(text) else {
            warn!("a committed reconfig does not parse; membership unchanged");
            return;
        };
        let servers: Vec<ServerSpec> = servers.into_values().collect();
        self.switch_membership(servers, version);
    }

    /// Puts `servers` at `version` in effect on this member.
    pub(super) fn switch_membership(&mut self, servers: Vec<ServerSpec>, version: i64) {
        let Some(r) = self.replica.as_mut() else {
            return;
        };
        r.reconfig_pending = None;
        let ensemble = Arc::new(r.ensemble.with_members(servers, version as u64));
        let text = ensemble.config_text();
        info!(
            version = format_args!("{version:x}"),
            members = ensemble.servers.len(),
            "new ensemble membership"
        );
        if let Some(path) = &ensemble.config_path {
            if let Err(e) = write_dynamic_config(path, &ensemble) {
                warn!(path = %path.display(), "cannot write the dynamic configuration: {e}");
            }
        }
        let membership = membership_of(&ensemble.servers);
        r.net.set_members(
            ensemble
                .servers
                .iter()
                .map(crate::server::peers::PeerAddr::from)
                .collect(),
        );
        r.ensemble = ensemble;
        let mut outs: Vec<Output> = Vec::new();
        r.peer
            .set_membership(membership, text.into_bytes(), &mut outs);
        self.zab_outputs(outs);
    }

    /// With reconfigEnabled, a static configuration (version 0) takes the
    /// zxid of the first established epoch as its version, as ZooKeeper does.
    pub(super) fn version_static_config(&mut self, epoch: u32) {
        let Some(r) = self.replica.as_ref() else {
            return;
        };
        if !self.settings.reconfig_enabled || r.ensemble.config_version != 0 {
            return;
        }
        let servers = r.ensemble.servers.clone();
        self.switch_membership(servers, crate::zab::make_zxid(epoch, 0));
        if let Some(r) = &self.replica {
            let text = r.ensemble.config_text();
            let version = r.ensemble.config_version as i64;
            self.tree
                .set_ensemble_config(text.as_bytes(), super::wall_ms(), version);
        }
    }
}

/// Writes `<cfg>.dynamic.<version hex>` (the `server.N` lines, as ZooKeeper
/// writes them: no version line, no final newline) and points `<cfg>` at it,
/// keeping the first original as `<cfg>.bak`.
fn write_dynamic_config(cfg: &Path, ensemble: &Ensemble) -> std::io::Result<()> {
    let lines: Vec<String> = ensemble
        .servers
        .iter()
        .map(|s| format!("server.{}={}", s.id, s.config_value()))
        .collect();
    let name = format!(
        "{}.dynamic.{:x}",
        cfg.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("zoo.cfg"),
        ensemble.config_version
    );
    let dynamic = cfg.with_file_name(name);
    write_durably(&dynamic, lines.join("\n").as_bytes())?;
    let original = std::fs::read_to_string(cfg)?;
    let backup = cfg.with_extension("cfg.bak");
    if !backup.exists() {
        write_durably(&backup, original.as_bytes())?;
    }
    let mut kept: Vec<&str> = original
        .lines()
        .filter(|l| {
            let key = l.split('=').next().unwrap_or_default().trim();
            !key.starts_with("server.") && key != "dynamicConfigFile"
        })
        .collect();
    let pointer = format!("dynamicConfigFile={}", dynamic.display());
    kept.push(&pointer);
    write_durably(cfg, (kept.join("\n") + "\n").as_bytes())
}

/// Writes a file through a temporary one, fsynced and renamed.
fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp-write");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: u64, v: &str) -> ServerSpec {
        parse_server_spec(id, v, false).unwrap()
    }

    #[test]
    fn incremental_removes_then_adds_with_a_client_port() {
        let current = vec![
            spec(1, "127.0.0.1:1:2"),
            spec(2, "127.0.0.1:3:4"),
            spec(3, "127.0.0.1:5:6"),
        ];
        let next = incremental(&current, Some("server.4=127.0.0.1:7:8;2184"), Some("3")).unwrap();
        assert_eq!(next.keys().copied().collect::<Vec<_>>(), vec![1, 2, 4]);
        assert_eq!(
            incremental(&current, Some("server.4=127.0.0.1:7:8"), None),
            Err(ErrorCode::BadArguments),
            "a joining server needs a client port"
        );
        assert_eq!(
            incremental(&current, Some("server.4=127.0.0.1:1:9;2184"), None),
            Err(ErrorCode::BadArguments),
            "ports already used by another member"
        );
        assert_eq!(
            incremental(&current, None, Some("x")),
            Err(ErrorCode::BadArguments)
        );
    }

    #[test]
    fn non_incremental_takes_commas_or_newlines() {
        let m = parse_members("server.1=127.0.0.1:1:2,server.2=127.0.0.1:3:4:observer\nversion=5")
            .unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[&2].role, LearnerRole::Observer);
        assert_eq!(parse_members("garbage"), Err(ErrorCode::BadArguments));
    }

    #[test]
    fn the_text_is_zookeepers() {
        let servers = vec![
            spec(1, "127.0.0.1:2288:3388"),
            spec(3, "127.0.0.1:2290:3390;127.0.0.1:22183"),
        ];
        assert_eq!(
            config_text(&servers, 0x200000001),
            "server.1=127.0.0.1:2288:3388:participant\nserver.3=127.0.0.1:2290:3390:participant;127.0.0.1:22183\nversion=200000001"
        );
    }
}
