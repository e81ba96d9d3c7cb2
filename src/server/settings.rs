//! The settings the server shell runs with, resolved from [`crate::config::Config`].

use crate::admin::FourLetterWhitelist;
use crate::auth::sasl::SaslUsers;
use crate::config::Config;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything the request pipeline and the listener need to know, in resolved units.
#[derive(Debug, Clone)]
pub struct Settings {
    /// This server's id (myid; 0 standalone): the top byte of its session ids.
    pub server_id: u64,
    /// The tick: session expiry granularity.
    pub tick_time_ms: u32,
    /// Lower clamp of negotiated session timeouts.
    pub min_session_timeout_ms: u32,
    /// Upper clamp of negotiated session timeouts.
    pub max_session_timeout_ms: u32,
    /// Largest frame accepted from a client (jute.maxbuffer); larger closes the connection.
    pub jute_max_buffer: usize,
    /// Connections allowed per client IP (0 = unlimited).
    pub max_client_cnxns: u32,
    /// zookeeper.extendedTypesEnabled: TTL nodes.
    pub extended_types: bool,
    /// reconfigEnabled.
    pub reconfig_enabled: bool,
    /// Four-letter words allowed on the client port.
    pub four_letter_whitelist: FourLetterWhitelist,
    /// znode.container.checkIntervalMs: how often the container/TTL reaper runs.
    pub container_check_interval_ms: u64,
    /// znode.container.maxPerMinute: reaper deletions allowed per minute.
    pub container_max_per_minute: u32,
    /// znode.container.maxNeverUsedIntervalMs: age at which a never-used container goes (0 = never).
    pub container_max_never_used_interval_ms: u64,
    /// preAllocSize: transaction log files are preallocated in steps of this many KiB.
    pub pre_alloc_size_kb: u64,
    /// forceSync: flush the log before acknowledging (`no` is unsafe: a crash may lose acknowledged writes).
    pub force_sync: bool,
    /// snapCount: txns between snapshots (randomised between half and all of it).
    pub snap_count: u64,
    /// autopurge.snapRetainCount: snapshots kept by the purge (at least 3).
    pub autopurge_snap_retain_count: u32,
    /// autopurge.purgeInterval: hours between purges (0 = never).
    pub autopurge_purge_interval_hours: u32,
    /// zookeeper.skipACL: no permission checks at all.
    pub skip_acl: bool,
    /// zookeeper.enforceQuota: hard quota limits refuse writes with QuotaExceeded.
    pub enforce_quota: bool,
    /// zookeeper.DigestAuthenticationProvider.superDigest (`user:base64(sha1)`).
    pub super_digest: Option<String>,
    /// DIGEST-MD5 users from the JAAS server section; `None`: SASL not configured.
    pub sasl_users: Option<Arc<SaslUsers>>,
    /// zookeeper.superUser(.*): SASL users who also get `super`.
    pub sasl_super_users: Vec<String>,
    /// An authProvider.N registers SASLAuthenticationProvider: `sasl` ACLs are valid.
    pub sasl_acls: bool,
    /// dataDir, for `conf`/`dirs`.
    pub data_dir: PathBuf,
    /// dataLogDir, for `conf`/`dirs`.
    pub data_log_dir: PathBuf,
    /// The client port, for `conf`.
    pub client_port: u16,
}

impl Settings {
    /// ZooKeeper's defaults for a standalone server with tickTime 2000 (tests use this).
    pub fn for_tests(data_dir: PathBuf) -> Settings {
        Settings {
            server_id: 0,
            tick_time_ms: 2000,
            min_session_timeout_ms: 4000,
            max_session_timeout_ms: 40000,
            jute_max_buffer: 0xfffff,
            max_client_cnxns: 60,
            extended_types: false,
            reconfig_enabled: false,
            four_letter_whitelist: FourLetterWhitelist::from_config(Some("*"), false),
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            container_max_never_used_interval_ms: 0,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 0,
            pre_alloc_size_kb: 1024,
            force_sync: true,
            snap_count: 100_000,
            skip_acl: false,
            enforce_quota: false,
            super_digest: None,
            sasl_users: None,
            sasl_super_users: Vec::new(),
            sasl_acls: false,
            data_log_dir: data_dir.clone(),
            data_dir,
            client_port: 0,
        }
    }

    /// The settings a standalone server takes from its zoo.cfg.
    pub fn from_config(c: &Config) -> Settings {
        Settings {
            server_id: c.my_id.unwrap_or(0),
            tick_time_ms: c.tick_time_ms,
            min_session_timeout_ms: c.min_session_timeout_ms,
            max_session_timeout_ms: c.max_session_timeout_ms,
            jute_max_buffer: c.jute_max_buffer,
            max_client_cnxns: c.max_client_cnxns,
            extended_types: c.extended_types_enabled,
            reconfig_enabled: c.reconfig_enabled,
            four_letter_whitelist: c.four_letter_whitelist.clone(),
            container_check_interval_ms: c.container_check_interval_ms,
            container_max_per_minute: c.container_max_per_minute,
            container_max_never_used_interval_ms: c.container_max_never_used_interval_ms,
            autopurge_snap_retain_count: c.autopurge_snap_retain_count,
            autopurge_purge_interval_hours: c.autopurge_purge_interval_hours,
            pre_alloc_size_kb: c.pre_alloc_size_kb,
            force_sync: c.force_sync,
            snap_count: c.snap_count as u64,
            skip_acl: c.skip_acl,
            enforce_quota: c.enforce_quota,
            super_digest: c.super_digest.clone(),
            sasl_users: c.sasl_users.clone().map(Arc::new),
            sasl_super_users: c.sasl_super_users(),
            sasl_acls: c.sasl_acls(),
            data_dir: c.data_dir.clone(),
            data_log_dir: c.data_log_dir.clone(),
            client_port: c.client_port.unwrap_or(0),
        }
    }

    /// Clamps a requested session timeout into [min, max] as ZooKeeper does.
    pub fn negotiate_timeout(&self, requested_ms: i32) -> u32 {
        let min = self.min_session_timeout_ms as i64;
        let max = self.max_session_timeout_ms as i64;
        (requested_ms as i64).clamp(min, max.max(min)) as u32
    }
}
