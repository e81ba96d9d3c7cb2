//! The settings the server shell runs with, resolved from [`crate::config::Config`].

use crate::admin::FourLetterWhitelist;
use crate::auth::sasl::SaslUsers;
use crate::config::{Config, ServerSpec};
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
    /// zookeeper.nio.sessionlessCnxnTimeout: a connection that has no
    /// session yet is closed after this long without a byte from its client.
    pub sessionless_cnxn_timeout_ms: u64,
    /// zookeeper.extendedTypesEnabled: TTL nodes.
    pub extended_types: bool,
    /// zookeeper.digest.enabled: keep the tree digest (`hash`).
    pub digest_enabled: bool,
    /// clientPortAddress (`None`: every address).
    pub client_port_address: Option<std::net::IpAddr>,
    /// The configuration file's text, on a standalone server (the
    /// AdminServer's `initial_configuration`; ZooKeeper's quorum members
    /// answer null).
    pub initial_config: Option<String>,
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
    /// The AdminServer (HTTP) settings.
    pub admin: crate::config::AdminConfig,
    /// The ensemble this server is a member of; `None` for a standalone server.
    pub ensemble: Option<Arc<Ensemble>>,
}

/// ZooKeeper's default for `zookeeper.nio.sessionlessCnxnTimeout`.
pub const DEFAULT_SESSIONLESS_CNXN_TIMEOUT_MS: u64 = 10_000;

/// Paddock's default for `zookeeper.commitLogCount`.
const DEFAULT_COMMIT_LOG_COUNT: usize = 100_000;

/// What an ensemble member needs beyond a standalone server's settings.
#[derive(Debug, Clone)]
pub struct Ensemble {
    /// This server's id (myid).
    pub my_id: u64,
    /// Every `server.N` line, sorted by id.
    pub servers: Vec<ServerSpec>,
    /// initLimit in ticks: the limit of a learner's discovery and sync.
    pub init_limit: u32,
    /// syncLimit in ticks: how long a learner may be silent.
    pub sync_limit: u32,
    /// readonlymode.enabled: serve reads when cut off from the quorum.
    pub read_only_mode: bool,
    /// The version the membership text carries (`version=` in `/zookeeper/config`).
    pub config_version: u64,
    /// The zoo.cfg this server started from: a committed reconfig writes
    /// `<it>.dynamic.<version>` beside it and points it there, as ZooKeeper does.
    pub config_path: Option<PathBuf>,
    /// standaloneEnabled: a reconfig must then leave at least 2 voters.
    pub standalone_enabled: bool,
    /// Committed txns the leader keeps in memory to sync learners by DIFF
    /// (`zookeeper.commitLogCount`; a learner further behind gets SNAP).
    /// ZooKeeper's default is 500 and it reads older txns from its log files;
    /// Paddock keeps only memory, so its default is larger.
    pub commit_log_count: usize,
}

impl Ensemble {
    /// The membership as `/zookeeper/config` shows it: a `server.N=…` line
    /// per member, then `version=<hex>`.
    pub fn config_text(&self) -> String {
        let mut text = String::new();
        for s in &self.servers {
            text.push_str(&format!("server.{}={}\n", s.id, s.config_value()));
        }
        text.push_str(&format!("version={:x}", self.config_version));
        text
    }

    /// The same ensemble with other members and version.
    pub fn with_members(&self, servers: Vec<ServerSpec>, config_version: u64) -> Ensemble {
        Ensemble {
            servers,
            config_version,
            ..self.clone()
        }
    }

    /// This server's own `server.N` line (`None` once a reconfig removed it).
    pub fn me(&self) -> Option<&ServerSpec> {
        self.servers.iter().find(|s| s.id == self.my_id)
    }
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
            sessionless_cnxn_timeout_ms: DEFAULT_SESSIONLESS_CNXN_TIMEOUT_MS,
            extended_types: false,
            digest_enabled: true,
            client_port_address: None,
            initial_config: None,
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
            admin: crate::config::AdminConfig {
                enable_server: false,
                ..crate::config::AdminConfig::default()
            },
            ensemble: None,
        }
    }

    /// The settings a server takes from its zoo.cfg.
    pub fn from_config(c: &Config) -> Settings {
        Settings {
            server_id: c.my_id.unwrap_or(0),
            tick_time_ms: c.tick_time_ms,
            min_session_timeout_ms: c.min_session_timeout_ms,
            max_session_timeout_ms: c.max_session_timeout_ms,
            jute_max_buffer: c.jute_max_buffer,
            max_client_cnxns: c.max_client_cnxns,
            // ZooKeeper takes any int; Paddock ignores a value that is not
            // positive (ZooKeeper's expiry queue would divide by it).
            sessionless_cnxn_timeout_ms: c
                .property("zookeeper.nio.sessionlessCnxnTimeout")
                .and_then(|v| v.trim().parse::<i32>().ok())
                .filter(|&ms| ms > 0)
                .map_or(DEFAULT_SESSIONLESS_CNXN_TIMEOUT_MS, |ms| ms as u64),
            extended_types: c.extended_types_enabled,
            digest_enabled: c.digest_enabled,
            client_port_address: c.client_port_address,
            initial_config: c.initial_config.clone().filter(|_| c.is_standalone()),
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
            admin: c.admin.clone(),
            ensemble: (!c.is_standalone()).then(|| {
                Arc::new(Ensemble {
                    my_id: c.my_id.unwrap_or(0),
                    servers: c.servers.clone(),
                    init_limit: c.init_limit.unwrap_or(10),
                    sync_limit: c.sync_limit.unwrap_or(5),
                    read_only_mode: c.read_only_mode_enabled,
                    config_version: c.dynamic_config_version.unwrap_or(0),
                    config_path: Some(c.source.clone()),
                    standalone_enabled: c.standalone_enabled,
                    commit_log_count: c
                        .property("zookeeper.commitLogCount")
                        .and_then(|v| v.trim().parse().ok())
                        .filter(|&n: &usize| n > 0)
                        .unwrap_or(DEFAULT_COMMIT_LOG_COUNT),
                })
            }),
        }
    }

    /// Clamps a requested session timeout into [min, max] as ZooKeeper does.
    pub fn negotiate_timeout(&self, requested_ms: i32) -> u32 {
        let min = self.min_session_timeout_ms as i64;
        let max = self.max_session_timeout_ms as i64;
        (requested_ms as i64).clamp(min, max.max(min)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn ensemble_of(cfg: &str, my_id: u64, jvm_flags: &str) -> Arc<Ensemble> {
        let mut config = Config::parse(cfg, Path::new("zoo.cfg"), jvm_flags).unwrap();
        config.apply_my_id(my_id).unwrap();
        Settings::from_config(&config)
            .ensemble
            .expect("an ensemble")
    }

    const THREE: &str =
        "tickTime=500\ninitLimit=10\nsyncLimit=5\ndataDir=/tmp/x\nclientPort=2181\n\
        server.1=127.0.0.1:2288:3388\nserver.2=127.0.0.1:2289:3389\nserver.3=127.0.0.1:2290:3390\n";

    /// The text ZooKeeper 3.8.0 showed in `/zookeeper/config` (and `conf`) for
    /// this configuration.
    #[test]
    fn config_text_is_zookeepers() {
        let e = ensemble_of(THREE, 2, "");
        assert_eq!(
            e.config_text(),
            "server.1=127.0.0.1:2288:3388:participant\nserver.2=127.0.0.1:2289:3389:participant\n\
             server.3=127.0.0.1:2290:3390:participant\nversion=0"
        );
        assert_eq!(e.me().unwrap().quorum_port, 2289);
        assert_eq!((e.init_limit, e.sync_limit), (10, 5));
        assert_eq!(e.commit_log_count, DEFAULT_COMMIT_LOG_COUNT);
    }

    #[test]
    fn commit_log_count_comes_from_the_jvm_property() {
        let e = ensemble_of(THREE, 1, "-Dzookeeper.commitLogCount=100");
        assert_eq!(e.commit_log_count, 100);
    }

    #[test]
    fn sessionless_timeout_comes_from_the_jvm_property() {
        let cfg = "tickTime=500\ndataDir=/tmp/x\nclientPort=2181\n";
        let timeout = |flags: &str| {
            let config = Config::parse(cfg, Path::new("zoo.cfg"), flags).unwrap();
            Settings::from_config(&config).sessionless_cnxn_timeout_ms
        };
        assert_eq!(timeout(""), 10_000);
        assert_eq!(timeout("-Dzookeeper.nio.sessionlessCnxnTimeout=2500"), 2500);
        assert_eq!(timeout("-Dzookeeper.nio.sessionlessCnxnTimeout=0"), 10_000);
    }

    #[test]
    fn a_plain_config_is_standalone() {
        let cfg = "tickTime=500\ndataDir=/tmp/x\nclientPort=2181\n";
        let config = Config::parse(cfg, Path::new("zoo.cfg"), "").unwrap();
        assert!(Settings::from_config(&config).ensemble.is_none());
    }
}
