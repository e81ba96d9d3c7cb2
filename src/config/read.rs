//! The steps of [`Config::parse`]: each reads one group of settings into
//! the typed fields.

use std::collections::BTreeMap;
use std::path::Path;

use super::values::{java_decimal, Setting, Settings};
use super::{
    decoded_in, decoded_u32, int_in, quorum, resolve_ip, true_false, u32_in, yes_no,
    ClientEndpoint, Config, ConfigError, FourLetterWhitelist, LearnerRole, INT_MAX,
    NON_NEGATIVE_MS, NON_NEGATIVE_TICKS, PORT_OR_ZERO, POSITIVE_MS, TRUE_FALSE,
};

impl Config {
    /// tickTime, limits, directories, connection limits, autopurge and mode flags.
    pub(super) fn read_basics(&mut self, keys: &Settings<'_>) -> Result<(), ConfigError> {
        self.tick_time_ms = keys.parsed_or("tickTime", 3000, POSITIVE_MS, u32_in(1, INT_MAX))?;
        let ticks = |key| {
            Ok::<_, ConfigError>(
                keys.parsed(key, NON_NEGATIVE_TICKS, u32_in(0, INT_MAX))?
                    .filter(|&n| n > 0),
            )
        };
        self.init_limit = ticks("initLimit")?;
        self.sync_limit = ticks("syncLimit")?;
        self.connect_to_learner_master_limit = ticks("connectToLearnerMasterLimit")?;
        if let Some(setting) = keys.get("dataLogDir") {
            if setting.value.is_empty() {
                return Err(keys.error(
                    "dataLogDir",
                    "dataLogDir is empty: expected a directory path",
                ));
            }
            self.data_log_dir = setting.value.clone().into();
        }
        self.max_client_cnxns = keys.parsed_or(
            "maxClientCnxns",
            60,
            "a non-negative integer (0 = unlimited)",
            u32_in(0, INT_MAX),
        )?;
        self.election_alg = keys.parsed_or(
            "electionAlg",
            3,
            "3 (fast leader election, the only algorithm ZooKeeper 3.8 runs)",
            u32_in(3, 3),
        )?;
        self.quorum_listen_on_all_ips =
            keys.parsed_or("quorumListenOnAllIPs", false, TRUE_FALSE, true_false)?;
        self.sync_enabled = keys.parsed_or("syncEnabled", true, TRUE_FALSE, true_false)?;
        self.read_autopurge(keys)
    }

    /// autopurge.snapRetainCount (raised to 3 as ZooKeeper does) and
    /// autopurge.purgeInterval (negative means off, like 0).
    fn read_autopurge(&mut self, keys: &Settings<'_>) -> Result<(), ConfigError> {
        let retain = keys.parsed_or(
            "autopurge.snapRetainCount",
            3,
            "an integer (snapshots to keep, at least 3)",
            int_in(i32::MIN.into(), INT_MAX),
        )?;
        if retain < 3 {
            tracing::warn!(
                value = retain,
                "autopurge.snapRetainCount below the minimum; using 3"
            );
        }
        self.autopurge_snap_retain_count = retain.max(3) as u32;
        let interval = keys.parsed_or(
            "autopurge.purgeInterval",
            0,
            "an integer (hours; 0 = no purge)",
            int_in(i32::MIN.into(), INT_MAX),
        )?;
        self.autopurge_purge_interval_hours = interval.max(0) as u32;
        Ok(())
    }

    /// clientPort, clientPortAddress, clientPortListenBacklog, secureClientPort.
    pub(super) fn read_client(&mut self, keys: &Settings<'_>) -> Result<(), ConfigError> {
        let port = |t: &str| int_in(0, 65535)(t).map(|n| n as u16);
        self.client_port = keys
            .parsed("clientPort", PORT_OR_ZERO, port)?
            .filter(|&p| p != 0);
        self.secure_client_port = keys
            .parsed("secureClientPort", PORT_OR_ZERO, port)?
            .filter(|&p| p != 0);
        self.client_port_listen_backlog = keys.parsed_or(
            "clientPortListenBacklog",
            -1,
            "an integer (-1 = OS default)",
            int_in(i32::MIN.into(), INT_MAX),
        )? as i32;
        self.client_port_address = keys.parsed(
            "clientPortAddress",
            "an IP address or a resolvable host name",
            resolve_ip,
        )?;
        if self.client_port_address.is_some() && self.client_port.is_none() {
            let message = "clientPortAddress is set but clientPort is not set";
            return Err(keys.error("clientPortAddress", message));
        }
        if keys.get("secureClientPortAddress").is_some() && self.secure_client_port.is_none() {
            let message = "secureClientPortAddress is set but secureClientPort is not set";
            return Err(keys.error("secureClientPortAddress", message));
        }
        Ok(())
    }

    /// minSessionTimeout / maxSessionTimeout: -1 (or absent) means 2× / 20×
    /// tickTime; the minimum must not exceed the maximum.
    pub(super) fn read_session_timeouts(&mut self, keys: &Settings<'_>) -> Result<(), ConfigError> {
        let expected = "a non-negative integer (milliseconds), or -1 for the default";
        // -1 parses to None: "use the default".
        let timeout = |key| {
            let value = keys.parsed(key, expected, int_in(-1, INT_MAX))?;
            Ok::<_, ConfigError>(value.and_then(|n| u32::try_from(n).ok()))
        };
        let min = timeout("minSessionTimeout")?;
        let max = timeout("maxSessionTimeout")?;
        self.min_session_timeout_ms = min.unwrap_or(self.tick_time_ms.saturating_mul(2));
        self.max_session_timeout_ms = max.unwrap_or(self.tick_time_ms.saturating_mul(20));
        if self.min_session_timeout_ms > self.max_session_timeout_ms {
            let key = if min.is_some() {
                "minSessionTimeout"
            } else {
                "maxSessionTimeout"
            };
            let message = format!(
                "minSessionTimeout ({} ms) must not be larger than maxSessionTimeout ({} ms)",
                self.min_session_timeout_ms, self.max_session_timeout_ms
            );
            return Err(keys.error(key, message));
        }
        Ok(())
    }

    /// peerType, standaloneEnabled, reconfigEnabled, multiAddress.enabled,
    /// dynamicConfigFile.
    pub(super) fn read_quorum_keys(&mut self, keys: &Settings<'_>) -> Result<(), ConfigError> {
        self.peer_type = keys.parsed_or(
            "peerType",
            LearnerRole::Participant,
            "observer or participant",
            LearnerRole::parse,
        )?;
        self.standalone_enabled =
            keys.parsed_or("standaloneEnabled", true, TRUE_FALSE, true_false)?;
        self.reconfig_enabled = keys.parsed_or("reconfigEnabled", false, TRUE_FALSE, true_false)?;
        self.multi_address_enabled =
            keys.parsed_or("multiAddress.enabled", false, TRUE_FALSE, true_false)?;
        self.dynamic_config_file = keys
            .get("dynamicConfigFile")
            .map(|s| s.value.clone().into());
        Ok(())
    }

    /// The system properties Paddock acts on.
    pub(super) fn read_properties(&mut self, props: &Settings<'_>) -> Result<(), ConfigError> {
        self.jute_max_buffer = props.parsed_or(
            "jute.maxbuffer",
            0xfffff,
            "a positive integer (bytes)",
            |t| decoded_in(1, INT_MAX)(t).map(|n| n as usize),
        )?;
        // ZooKeeper raises values below 1024, its former fixed slack.
        let extra = props.parsed_or(
            "zookeeper.jute.maxbuffer.extrasize",
            self.jute_max_buffer,
            "a non-negative integer (bytes)",
            |t| decoded_in(0, INT_MAX)(t).map(|n| n as usize),
        )?;
        self.jute_max_buffer_extra_size = extra.max(1024);
        self.read_only_mode_enabled =
            props.parsed_or("readonlymode.enabled", false, TRUE_FALSE, true_false)?;
        self.extended_types_enabled = props.parsed_or(
            "zookeeper.extendedTypesEnabled",
            false,
            TRUE_FALSE,
            true_false,
        )?;
        self.digest_enabled =
            props.parsed_or("zookeeper.digest.enabled", true, TRUE_FALSE, true_false)?;
        self.container_check_interval_ms = props
            .parsed_or(
                "znode.container.checkIntervalMs",
                60_000,
                POSITIVE_MS,
                decoded_u32(1, INT_MAX),
            )?
            .into();
        self.container_max_per_minute = props.parsed_or(
            "znode.container.maxPerMinute",
            10_000,
            "a positive integer",
            decoded_u32(1, INT_MAX),
        )?;
        self.container_max_never_used_interval_ms = props.parsed_or(
            "znode.container.maxNeverUsedIntervalMs",
            0,
            NON_NEGATIVE_MS,
            |t| decoded_in(0, i64::MAX)(t).map(|n| n as u64),
        )?;
        self.super_digest = props
            .get("zookeeper.DigestAuthenticationProvider.superDigest")
            .map(|s| s.value.clone());
        self.skip_acl = props.parsed_or("zookeeper.skipACL", false, "yes or no", yes_no)?;
        self.enforce_quota =
            props.parsed_or("zookeeper.enforceQuota", false, TRUE_FALSE, true_false)?;
        self.force_sync = props.parsed_or("zookeeper.forceSync", true, "yes or no", yes_no)?;
        self.global_outstanding_limit = props.parsed_or(
            "zookeeper.globalOutstandingLimit",
            1000,
            "a positive integer",
            decoded_u32(1, INT_MAX),
        )?;
        self.max_cnxns = props.parsed_or(
            "zookeeper.maxCnxns",
            0,
            "a non-negative integer (0 = unlimited)",
            decoded_u32(0, INT_MAX),
        )?;
        self.read_snapshot_properties(props)?;
        let whitelist = props
            .get("zookeeper.4lw.commands.whitelist")
            .map(|s| s.value.as_str());
        self.four_letter_whitelist =
            FourLetterWhitelist::from_config(whitelist, self.read_only_mode_enabled);
        Ok(())
    }

    /// snapCount (at least 2, as ZooKeeper raises it) and preAllocSize (KiB).
    fn read_snapshot_properties(&mut self, props: &Settings<'_>) -> Result<(), ConfigError> {
        let snap_count = props.parsed_or(
            "zookeeper.snapCount",
            100_000,
            "an integer (transactions)",
            decoded_in(i32::MIN.into(), INT_MAX),
        )?;
        if snap_count < 2 {
            tracing::warn!(value = snap_count, "snapCount should be 2 or more; using 2");
        }
        self.snap_count = snap_count.max(2) as u32;
        self.pre_alloc_size_kb = props.parsed_or(
            "zookeeper.preAllocSize",
            65_536,
            "a non-negative integer (KiB)",
            |t| {
                java_decimal(t)
                    .filter(|&n| (0..=i64::MAX / 1024).contains(&n))
                    .map(|n| n as u64)
            },
        )?;
        Ok(())
    }

    /// Ensemble shape (errors located in `servers_file`, which holds
    /// `server_lines`), and initLimit/syncLimit when running as an ensemble.
    pub(super) fn check_ensemble(
        &self,
        servers_file: &Path,
        server_lines: &BTreeMap<String, Setting>,
    ) -> Result<(), ConfigError> {
        let standalone_enabled = self.standalone_enabled;
        quorum::check_ensemble_shape(
            servers_file,
            &self.servers,
            standalone_enabled,
            server_lines,
        )?;
        if self.is_standalone() {
            return Ok(());
        }
        for (key, value) in [
            ("initLimit", self.init_limit),
            ("syncLimit", self.sync_limit),
        ] {
            if value.is_none() {
                let message =
                    format!("{key} is not set: an ensemble needs it (a positive number of ticks)");
                return Err(ConfigError::for_key(&self.source, key, None, message));
            }
        }
        Ok(())
    }

    /// Applies this server's `server.N` client part, rejecting a clientPort
    /// or clientPortAddress that names a different endpoint.
    pub(super) fn take_client_endpoint(
        &mut self,
        my_id: u64,
        client: &ClientEndpoint,
    ) -> Result<(), ConfigError> {
        let Some(ip) = resolve_ip(&client.host) else {
            let message = format!(
                "client host \"{}\" of server.{my_id} does not resolve",
                client.host
            );
            return Err(ConfigError::for_key(
                &self.source,
                &format!("server.{my_id}"),
                None,
                message,
            ));
        };
        if let Some(port) = self.client_port {
            let configured_ip = self.client_port_address.filter(|a| !a.is_unspecified());
            let conflict = port != client.port || configured_ip.is_some_and(|a| a != ip);
            if conflict {
                let message = format!(
                    "clientPort/clientPortAddress ({}:{port}) differ from the client address {}:{} of server.{my_id}",
                    self.client_port_address.map_or("0.0.0.0".to_string(), |a| a.to_string()),
                    client.host,
                    client.port
                );
                return Err(ConfigError::for_key(
                    &self.source,
                    "clientPort",
                    None,
                    message,
                ));
            }
        }
        self.client_port = Some(client.port);
        self.client_port_address = Some(ip);
        Ok(())
    }
}
