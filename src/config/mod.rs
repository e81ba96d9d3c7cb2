//! zoo.cfg loading, matching Apache ZooKeeper 3.8's `QuorumPeerConfig`.
//!
//! Sources, lowest precedence first:
//! 1. `-Dname=value` words of `SERVER_JVMFLAGS` then `JVMFLAGS` (zkServer.sh
//!    passes `$SERVER_JVMFLAGS $JVMFLAGS` to java, where the last `-D` of a
//!    name wins, so `JVMFLAGS` beats `SERVER_JVMFLAGS`);
//! 2. zoo.cfg (java.util.Properties format; the last line of a key wins).
//!    A zoo.cfg key that is not parsed by name sets the system property
//!    `zookeeper.<key>` at parse time, overriding any `-D` of that name, as
//!    in ZooKeeper. Paddock extensions: a key already starting with
//!    `zookeeper.` keeps its name, and the unprefixed properties
//!    (`jute.maxbuffer`, `readonlymode.enabled`, `znode.container.*`) are
//!    also accepted from zoo.cfg.
//! 3. `<dataDir>/myid`, read by [`Config::load`].
//!
//! Numbers that ZooKeeper would silently replace by a default when malformed
//! are errors here: an invalid value names the file, line, key and what was
//! expected, and the server must not start. So does a security setting
//! Paddock does not implement (`security`; the list is in
//! docs/compatibility.md): accepting and ignoring it would leave the server
//! open while its operator believes it protected.

mod dynamic;
mod error;
mod keys;
mod properties;
mod quorum;
mod read;
mod security;
mod servers;
#[cfg(test)]
mod tests;
mod values;

use crate::auth::sasl::{self, SaslUsers};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

pub use crate::admin::FourLetterWhitelist;
pub use error::{ConfigError, Origin};
pub use properties::{read_entries, read_jvm_flags, Entry};
pub use servers::{parse_server_id, parse_server_spec, ClientEndpoint, LearnerRole, ServerSpec};

use keys::KeyKind;
use values::{decoded_in, int_in, true_false, yes_no, Setting, Settings, INT_MAX};

/// The largest server id allowed with extended types (TTL nodes) enabled:
/// the id is packed into one byte of the ephemeral owner.
pub const MAX_EXTENDED_SERVER_ID: u64 = 254;

/// The embedded HTTP AdminServer settings (`admin.*` keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// `admin.enableServer`, default true.
    pub enable_server: bool,
    /// `admin.serverAddress`, default `0.0.0.0`.
    pub server_address: String,
    /// `admin.serverPort`, default 8080.
    pub server_port: u16,
    /// `admin.commandURL`, default `/commands`.
    pub command_url: String,
    /// `admin.idleTimeout`, default 30000 ms.
    pub idle_timeout_ms: u32,
}

/// A validated server configuration. Every field holds its resolved value
/// (ZooKeeper's default when the setting is absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file the configuration came from (for messages).
    pub source: PathBuf,
    /// `tickTime`; 3000 when absent (ZooKeeper's server default).
    pub tick_time_ms: u32,
    /// `initLimit` in ticks; `None` when absent or 0. Required for an ensemble.
    pub init_limit: Option<u32>,
    /// `syncLimit` in ticks; `None` when absent or 0. Required for an ensemble.
    pub sync_limit: Option<u32>,
    /// `connectToLearnerMasterLimit` in ticks; `None` means use `initLimit`.
    pub connect_to_learner_master_limit: Option<u32>,
    /// `dataDir` as written (relative paths resolve against the working directory).
    pub data_dir: PathBuf,
    /// `dataLogDir`; equals `data_dir` when unset.
    pub data_log_dir: PathBuf,
    /// Plain client port; `None` means no client listener. Set by `clientPort`
    /// (0 = unset) or by this server's `server.N` `;` part once myid is known.
    pub client_port: Option<u16>,
    /// Address to bind the client port to. `None` = all interfaces: ZooKeeper
    /// then binds the wildcard of a dual-stack socket (IPv4 and IPv6).
    pub client_port_address: Option<IpAddr>,
    /// `clientPortListenBacklog`; -1 = OS default.
    pub client_port_listen_backlog: i32,
    /// `secureClientPort` (accepted, TLS not implemented yet); `None` when unset or 0.
    pub secure_client_port: Option<u16>,
    /// `maxClientCnxns`: connections per client IP, 0 = unlimited. Default 60.
    pub max_client_cnxns: u32,
    /// `minSessionTimeout`, resolved (default 2 × tickTime).
    pub min_session_timeout_ms: u32,
    /// `maxSessionTimeout`, resolved (default 20 × tickTime). Never below the minimum.
    pub max_session_timeout_ms: u32,
    /// `electionAlg`; always 3 (other values are rejected as ZooKeeper 3.8 cannot run them).
    pub election_alg: u32,
    /// `quorumListenOnAllIPs`, default false.
    pub quorum_listen_on_all_ips: bool,
    /// `syncEnabled`: observers log transactions to disk. Default true.
    pub sync_enabled: bool,
    /// `4lw.commands.whitelist` with ZooKeeper's additions applied.
    pub four_letter_whitelist: FourLetterWhitelist,
    /// The `server.N` members, sorted by id; empty for a plain standalone server.
    pub servers: Vec<ServerSpec>,
    /// This server's role. After [`Config::parse`] it is `peerType`; myid
    /// ([`Config::apply_my_id`], [`Config::load`]) settles it as ZooKeeper
    /// does: the own `server.N` role, else participant.
    pub peer_type: LearnerRole,
    /// `snapCount`: transactions between snapshots, default 100000, at least 2.
    pub snap_count: u32,
    /// `preAllocSize` in KiB, default 65536 (64 MiB).
    pub pre_alloc_size_kb: u64,
    /// `autopurge.snapRetainCount`, default 3; values below 3 are raised to 3.
    pub autopurge_snap_retain_count: u32,
    /// `autopurge.purgeInterval` in hours; 0 (default) disables purging.
    pub autopurge_purge_interval_hours: u32,
    /// `standaloneEnabled`, default true.
    pub standalone_enabled: bool,
    /// `reconfigEnabled`, default false.
    pub reconfig_enabled: bool,
    /// `dynamicConfigFile`: the file holding the `server.N` lines instead of
    /// zoo.cfg (relative paths resolve against the working directory).
    pub dynamic_config_file: Option<PathBuf>,
    /// Configuration version from the dynamic file's name
    /// (`zoo.cfg.dynamic.<hex version>`), when it has one.
    pub dynamic_config_version: Option<u64>,
    /// `multiAddress.enabled`, default false.
    pub multi_address_enabled: bool,
    /// `jute.maxbuffer` in bytes, default 0xfffff.
    pub jute_max_buffer: usize,
    /// `zookeeper.jute.maxbuffer.extrasize`: slack over `jute_max_buffer`
    /// allowed when decoding a record's fields; defaults to `jute_max_buffer`,
    /// never below 1024.
    pub jute_max_buffer_extra_size: usize,
    /// `zookeeper.extendedTypesEnabled` (TTL nodes), default false.
    pub extended_types_enabled: bool,
    /// `zookeeper.digest.enabled`: keep the tree digest `hash` logs, default
    /// true.
    pub digest_enabled: bool,
    /// The configuration file's text as [`Config::load`] read it (`None`
    /// for a configuration parsed from text).
    pub initial_config: Option<String>,
    /// `readonlymode.enabled`, default false.
    pub read_only_mode_enabled: bool,
    /// `znode.container.checkIntervalMs`, default 60000.
    pub container_check_interval_ms: u64,
    /// `znode.container.maxPerMinute`, default 10000.
    pub container_max_per_minute: u32,
    /// `znode.container.maxNeverUsedIntervalMs`, default 0 (never-used containers are kept).
    pub container_max_never_used_interval_ms: u64,
    /// `zookeeper.DigestAuthenticationProvider.superDigest` (`super:<base64 sha1>`).
    pub super_digest: Option<String>,
    /// `zookeeper.skipACL` = `yes`; default false.
    pub skip_acl: bool,
    /// `zookeeper.enforceQuota` = `true`: hard quota limits refuse writes; default false.
    pub enforce_quota: bool,
    /// `zookeeper.globalOutstandingLimit`, default 1000.
    pub global_outstanding_limit: u32,
    /// `zookeeper.forceSync`: fsync the log on commit unless `no`. Default true.
    pub force_sync: bool,
    /// `zookeeper.maxCnxns`: total client connections, 0 (default) = unlimited.
    pub max_cnxns: u32,
    /// `admin.*` settings.
    pub admin: AdminConfig,
    /// This server's id from `<dataDir>/myid`; required for an ensemble member.
    pub my_id: Option<u64>,
    /// Every system property (from `-D` and zoo.cfg) under its full name,
    /// e.g. `zookeeper.snapCount`, `jute.maxbuffer`.
    pub properties: BTreeMap<String, String>,
    /// Keys and properties accepted but not acted on yet, sorted, each once.
    pub unsupported_keys: Vec<String>,
    /// The DIGEST-MD5 users of the JAAS file's server section (set by
    /// [`Config::load`]); `None` when SASL is not configured.
    pub sasl_users: Option<SaslUsers>,
}

/// Whether system property `name` = `value` registers SASLAuthenticationProvider.
fn is_sasl_provider(name: &str, value: &str) -> bool {
    name.starts_with("zookeeper.authProvider.")
        && value.trim() == "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
}

/// The settings of one parse, sorted by kind.
struct Collected {
    /// Keys ZooKeeper parses by name.
    keys: BTreeMap<String, Setting>,
    /// `server.N` lines by the text after `server.`.
    servers: BTreeMap<String, Setting>,
    /// System properties by full name.
    properties: BTreeMap<String, Setting>,
}

impl Collected {
    /// Sorts zoo.cfg entries and `-D` flags; zoo.cfg overrides `-D`.
    fn new(text: &str, jvm_flags: &str) -> Collected {
        let mut collected = Collected {
            keys: BTreeMap::new(),
            servers: BTreeMap::new(),
            properties: BTreeMap::new(),
        };
        for (name, value) in read_jvm_flags(jvm_flags) {
            collected.properties.insert(
                name,
                Setting {
                    value,
                    origin: Origin::JvmFlag,
                },
            );
        }
        for entry in read_entries(text) {
            let setting = Setting {
                value: entry.value,
                origin: Origin::Line(entry.line),
            };
            let _ = match keys::classify(&entry.key) {
                KeyKind::Explicit => collected.keys.insert(entry.key, setting),
                KeyKind::Server(id) => collected.servers.insert(id, setting),
                KeyKind::Property(name) => collected.properties.insert(name, setting),
            };
        }
        collected
    }

    /// Accepted-but-ignored keys and properties, sorted and deduplicated.
    fn unsupported(&self) -> Vec<String> {
        let keys = self.keys.keys().filter(|k| keys::is_unsupported_key(k));
        let props = self
            .properties
            .iter()
            .filter(|(k, s)| keys::is_unsupported_property(k) && !is_sasl_provider(k, &s.value))
            .map(|(k, _)| k);
        keys.chain(props)
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    }
}

impl Config {
    /// Parses zoo.cfg `text` (read from `source`, used in messages) together
    /// with the `-D` words of `jvm_flags`. Pure: reads no file (myid is
    /// applied by [`Config::apply_my_id`], a `dynamicConfigFile` by
    /// [`Config::apply_dynamic_config`]; until then `servers` is empty).
    /// Fails on any invalid value, naming key and line.
    pub fn parse(text: &str, source: &Path, jvm_flags: &str) -> Result<Config, ConfigError> {
        let collected = Collected::new(text, jvm_flags);
        let keys = Settings {
            file: source,
            map: &collected.keys,
        };
        let props = Settings {
            file: source,
            map: &collected.properties,
        };
        let data_dir = read_data_dir(&keys)?;
        let mut config = Config::defaults(source, data_dir);
        config.read_basics(&keys)?;
        config.read_client(&keys)?;
        config.read_session_timeouts(&keys)?;
        config.read_quorum_keys(&keys)?;
        config.read_properties(&props)?;
        config.admin = read_admin(&props)?;
        security::refuse_unimplemented(source, &collected.keys, &collected.properties)?;
        if config.dynamic_config_file.is_some() {
            reject_static_members(&keys, &collected)?;
        } else {
            let multi_address = config.multi_address_enabled;
            config.servers = quorum::parse_servers(source, &collected.servers, multi_address)?;
            config.check_ensemble(source, &collected.servers)?;
        }
        config.properties = collected
            .properties
            .iter()
            .map(|(k, s)| (k.clone(), s.value.clone()))
            .collect();
        config.unsupported_keys = collected.unsupported();
        Ok(config)
    }

    /// Reads the file at `path`, the `SERVER_JVMFLAGS` and `JVMFLAGS`
    /// environment variables, the `dynamicConfigFile` (when set) and
    /// `<dataDir>/myid` (when present), and
    /// returns the validated configuration. An ensemble member without a
    /// myid file is an error.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|e| {
            ConfigError::file_level(path, format!("cannot read the configuration file: {e}"))
        })?;
        let text = decode_config_bytes(bytes);
        let mut config = Config::parse(&text, path, &jvm_flags_from_env())?;
        config.initial_config = Some(text);
        if let Some(dynamic) = config.dynamic_config_file.clone() {
            let text = std::fs::read_to_string(&dynamic).map_err(|e| {
                let message = format!("cannot read the dynamic configuration file: {e}");
                ConfigError::file_level(&dynamic, message)
            })?;
            config.apply_dynamic_config(&text, &dynamic)?;
        }
        config.sasl_users = config.read_sasl_users()?;
        match quorum::read_my_id(&config.data_dir)? {
            Some(my_id) => config.apply_my_id(my_id)?,
            None if !config.is_standalone() => {
                let myid = quorum::my_id_path(&config.data_dir);
                let message = format!(
                    "myid file {} is missing: an ensemble member needs its server id there",
                    myid.display()
                );
                return Err(ConfigError::for_key(path, "myid", None, message));
            }
            None => config.settle_peer_type(),
        }
        Ok(config)
    }

    /// Records this server's id and resolves what depends on it, as
    /// ZooKeeper's `setupMyId`/`setupClientPort`/`setupPeerType` do: the own
    /// `server.N` role (participant when absent) wins over `peerType`, and
    /// its `;` client part sets the
    /// client port (a different `clientPort`/`clientPortAddress` is an
    /// error). Fails when the id is too large for extended types or, in an
    /// ensemble, absent from the `server.N` list.
    pub fn apply_my_id(&mut self, my_id: u64) -> Result<(), ConfigError> {
        if self.extended_types_enabled && my_id > MAX_EXTENDED_SERVER_ID {
            let message = format!("server id {my_id} in myid is too large: with extended types enabled the maximum is {MAX_EXTENDED_SERVER_ID}");
            return Err(ConfigError::for_key(&self.source, "myid", None, message));
        }
        self.my_id = Some(my_id);
        self.settle_peer_type();
        let Some(own) = self.servers.iter().find(|s| s.id == my_id).cloned() else {
            if self.is_standalone() {
                return Ok(());
            }
            let message = format!("server id {my_id} (from myid) has no server.{my_id} line");
            return Err(ConfigError::for_key(&self.source, "myid", None, message));
        };
        match own.client {
            Some(client) => self.take_client_endpoint(my_id, &client),
            None => Ok(()),
        }
    }

    /// ZooKeeper's `setupPeerType`: the role comes from the server list (no
    /// id, or an id without a `server.N` line, counts as participant); a
    /// `peerType` that disagrees only draws a warning.
    fn settle_peer_type(&mut self) {
        let by_server_list = self
            .own_server()
            .map_or(LearnerRole::Participant, |s| s.role);
        if by_server_list != self.peer_type {
            tracing::warn!(server_list = ?by_server_list, peer_type = ?self.peer_type,
                "peerType does not match the server list; using the server list");
            self.peer_type = by_server_list;
        }
    }

    /// True when ZooKeeper would run this configuration as a standalone
    /// server: no `server.N` lines, or `standaloneEnabled` with at most one
    /// participant.
    pub fn is_standalone(&self) -> bool {
        let participants = quorum::count_role(&self.servers, LearnerRole::Participant);
        self.servers.is_empty() || (self.standalone_enabled && participants <= 1)
    }

    /// This server's own `server.N` entry, once myid is known.
    pub fn own_server(&self) -> Option<&ServerSpec> {
        let my_id = self.my_id?;
        self.servers.iter().find(|s| s.id == my_id)
    }

    /// Reads the JAAS file named by `java.security.auth.login.config` and
    /// returns the users of its server section (`zookeeper.sasl.serverconfig`,
    /// default `Server`), as ZooKeeper's server login: an unreadable or
    /// malformed file is an error, a file without the section means no SASL.
    fn read_sasl_users(&self) -> Result<Option<SaslUsers>, ConfigError> {
        let Some(file) = self.property("java.security.auth.login.config") else {
            return Ok(None);
        };
        let path = Path::new(file);
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::file_level(path, format!("cannot read the JAAS configuration: {e}"))
        })?;
        let section = self
            .property("zookeeper.sasl.serverconfig")
            .unwrap_or(sasl::DEFAULT_SERVER_SECTION);
        let super_password = self
            .property("zookeeper.SASLAuthenticationProvider.superPassword")
            .map(str::to_owned);
        let invalid = |e| ConfigError::file_level(path, format!("invalid JAAS configuration: {e}"));
        let sections = sasl::parse_jaas(&text).map_err(invalid)?;
        // Another login module (Kerberos, LDAP, a custom class) would
        // decide who may log in; Paddock only has DIGEST-MD5's user list.
        let other = sections.get(section).into_iter().flatten();
        if let Some(e) = other
            .into_iter()
            .find(|e| e.module != security::DIGEST_LOGIN_MODULE)
        {
            let message = format!(
                "JAAS section {section} uses login module {} (line {}), which is refused: \
                 Paddock implements only {} and never ignores a login module",
                e.module,
                e.line,
                security::DIGEST_LOGIN_MODULE
            );
            let mut error = ConfigError::file_level(path, message);
            error.line = Some(e.line);
            return Err(error);
        }
        SaslUsers::from_jaas(&text, section, super_password).map_err(invalid)
    }

    /// Whether an `authProvider.N` (property `zookeeper.authProvider.N`)
    /// registers SASLAuthenticationProvider, making `sasl` ACL ids valid.
    pub fn sasl_acls(&self) -> bool {
        self.properties.iter().any(|(k, v)| is_sasl_provider(k, v))
    }

    /// The SASL users who are also `super`: the values of `zookeeper.superUser`
    /// and of every `zookeeper.superUser.<suffix>` property.
    pub fn sasl_super_users(&self) -> Vec<String> {
        self.properties
            .iter()
            .filter(|(k, _)| {
                k.strip_prefix("zookeeper.superUser")
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The value of system property `name` (full name, e.g. `zookeeper.snapCount`).
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }

    /// Logs, at warn level and once each, the keys accepted but not acted on yet.
    pub fn log_unsupported(&self) {
        for key in &self.unsupported_keys {
            tracing::warn!(key = %key, file = %self.source.display(), "configuration key accepted but not yet acted on");
        }
    }

    /// Every field at ZooKeeper's default, for `data_dir`.
    fn defaults(source: &Path, data_dir: PathBuf) -> Config {
        Config {
            source: source.to_path_buf(),
            tick_time_ms: 3000,
            init_limit: None,
            sync_limit: None,
            connect_to_learner_master_limit: None,
            data_log_dir: data_dir.clone(),
            data_dir,
            client_port: None,
            client_port_address: None,
            client_port_listen_backlog: -1,
            secure_client_port: None,
            max_client_cnxns: 60,
            min_session_timeout_ms: 6000,
            max_session_timeout_ms: 60000,
            election_alg: 3,
            quorum_listen_on_all_ips: false,
            sync_enabled: true,
            four_letter_whitelist: FourLetterWhitelist::from_config(None, false),
            servers: Vec::new(),
            peer_type: LearnerRole::Participant,
            snap_count: 100_000,
            pre_alloc_size_kb: 65_536,
            autopurge_snap_retain_count: 3,
            autopurge_purge_interval_hours: 0,
            standalone_enabled: true,
            reconfig_enabled: false,
            dynamic_config_file: None,
            dynamic_config_version: None,
            multi_address_enabled: false,
            jute_max_buffer: 0xfffff,
            jute_max_buffer_extra_size: 0xfffff,
            extended_types_enabled: false,
            digest_enabled: true,
            initial_config: None,
            read_only_mode_enabled: false,
            container_check_interval_ms: 60_000,
            container_max_per_minute: 10_000,
            container_max_never_used_interval_ms: 0,
            super_digest: None,
            skip_acl: false,
            enforce_quota: false,
            global_outstanding_limit: 1000,
            force_sync: true,
            max_cnxns: 0,
            admin: AdminConfig::default(),
            my_id: None,
            properties: BTreeMap::new(),
            unsupported_keys: Vec::new(),
            sasl_users: None,
        }
    }
}

/// Decodes a configuration file: UTF-8 when valid, else ISO-8859-1, the
/// encoding `java.util.Properties` reads files in.
fn decode_config_bytes(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect())
}

/// Reads the `SERVER_JVMFLAGS` and `JVMFLAGS` environment variables joined
/// in the order zkServer.sh passes them to java (`JVMFLAGS` last, so it wins).
pub fn jvm_flags_from_env() -> String {
    let server = std::env::var("SERVER_JVMFLAGS").unwrap_or_default();
    let common = std::env::var("JVMFLAGS").unwrap_or_default();
    format!("{server} {common}")
}

/// With `dynamicConfigFile` set, membership lines in zoo.cfg are an error,
/// as in ZooKeeper.
fn reject_static_members(keys: &Settings<'_>, collected: &Collected) -> Result<(), ConfigError> {
    let servers = collected
        .servers
        .iter()
        .map(|(id, s)| (format!("server.{id}"), s));
    let groups = collected
        .keys
        .iter()
        .filter(|(k, _)| k.starts_with("group.") || k.starts_with("weight."));
    let mut members = servers.chain(groups.map(|(k, s)| (k.clone(), s)));
    match members.next() {
        Some((key, setting)) => {
            let message = format!(
                "{key} must be in the separate dynamic config file when dynamicConfigFile is set"
            );
            Err(ConfigError::for_key(
                keys.file,
                &key,
                Some(setting.origin),
                message,
            ))
        }
        None => Ok(()),
    }
}

/// `dataDir` is required and must not be empty.
fn read_data_dir(keys: &Settings<'_>) -> Result<PathBuf, ConfigError> {
    match keys.get("dataDir") {
        Some(setting) if !setting.value.is_empty() => Ok(PathBuf::from(&setting.value)),
        Some(_) => Err(keys.error(
            "dataDir",
            "dataDir is empty: expected the data directory path",
        )),
        None => Err(ConfigError::for_key(
            keys.file,
            "dataDir",
            None,
            "dataDir is not set: expected dataDir=<directory>",
        )),
    }
}

impl Default for AdminConfig {
    /// ZooKeeper's defaults: enabled, 0.0.0.0:8080, `/commands`, 30 s idle.
    fn default() -> AdminConfig {
        AdminConfig {
            enable_server: true,
            server_address: "0.0.0.0".to_string(),
            server_port: 8080,
            command_url: "/commands".to_string(),
            idle_timeout_ms: 30_000,
        }
    }
}

/// Reads the `zookeeper.admin.*` properties.
fn read_admin(props: &Settings<'_>) -> Result<AdminConfig, ConfigError> {
    let defaults = AdminConfig::default();
    let string = |name: &str, default: String| props.get(name).map_or(default, |s| s.value.clone());
    Ok(AdminConfig {
        enable_server: props.parsed_or(
            "zookeeper.admin.enableServer",
            true,
            "true or false",
            true_false,
        )?,
        server_address: string("zookeeper.admin.serverAddress", defaults.server_address),
        server_port: props.parsed_or("zookeeper.admin.serverPort", 8080, PORT_OR_ZERO, |t| {
            decoded_in(0, 65535)(t).map(|n| n as u16)
        })?,
        command_url: string("zookeeper.admin.commandURL", defaults.command_url),
        idle_timeout_ms: props.parsed_or(
            "zookeeper.admin.idleTimeout",
            30_000,
            NON_NEGATIVE_MS,
            |t| decoded_in(0, INT_MAX)(t).map(|n| n as u32),
        )?,
    })
}

/// Expected-value phrases shared by several keys.
const POSITIVE_MS: &str = "a positive integer (milliseconds)";
const NON_NEGATIVE_MS: &str = "a non-negative integer (milliseconds)";
const NON_NEGATIVE_TICKS: &str = "a non-negative integer (ticks; 0 = unset)";
const PORT_OR_ZERO: &str = "a port number from 0 to 65535";
const TRUE_FALSE: &str = "true or false";

/// A decimal `int` in range, as u32.
fn u32_in(min: i64, max: i64) -> impl Fn(&str) -> Option<u32> {
    move |text| int_in(min, max)(text).map(|n| n as u32)
}

/// A `decode`-style `int` in range, as u32.
fn decoded_u32(min: i64, max: i64) -> impl Fn(&str) -> Option<u32> {
    move |text| decoded_in(min, max)(text).map(|n| n as u32)
}

/// An IP literal or a host name resolved now (as ZooKeeper resolves
/// `clientPortAddress` while parsing).
fn resolve_ip(host: &str) -> Option<IpAddr> {
    host.parse().ok().or_else(|| {
        (host, 0)
            .to_socket_addrs()
            .ok()?
            .next()
            .map(|addr| addr.ip())
    })
}
