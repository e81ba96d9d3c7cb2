//! Tests of [`Config::parse`], [`Config::apply_my_id`] and [`Config::load`].

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use super::*;

const FILE: &str = "conf/zoo.cfg";

fn parse(text: &str) -> Config {
    parse_with(text, "")
}

fn parse_with(text: &str, flags: &str) -> Config {
    Config::parse(text, Path::new(FILE), flags).unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> ConfigError {
    error_with(text, "")
}

fn error_with(text: &str, flags: &str) -> ConfigError {
    Config::parse(text, Path::new(FILE), flags).expect_err("configuration should be rejected")
}

/// Asserts the error names `key` at `line` in both fields and Display.
fn assert_located(err: &ConfigError, key: &str, line: Option<usize>) {
    assert_eq!(err.key.as_deref(), Some(key), "{err}");
    assert_eq!(err.line, line, "{err}");
    let shown = err.to_string();
    assert!(shown.contains(key), "{shown}");
    match line {
        Some(line) => assert!(shown.starts_with(&format!("{FILE}:{line}: ")), "{shown}"),
        None => assert!(shown.starts_with(&format!("{FILE}: ")), "{shown}"),
    }
}

const ENSEMBLE: &str = "dataDir=/d\ninitLimit=10\nsyncLimit=5\n\
server.1=zk1:2888:3888\nserver.2=zk2:2888:3888;2182\nserver.3=zk3:2888:3888:observer;127.0.0.1:2183\n\
server.4=zk4:2888:3888\n";

#[test]
fn minimal_file_gets_zookeeper_defaults() {
    let config = parse("dataDir=/var/lib/zk\n");
    assert_eq!(
        config,
        Config::defaults(Path::new(FILE), PathBuf::from("/var/lib/zk"))
    );
    assert_eq!(config.data_log_dir, PathBuf::from("/var/lib/zk"));
    assert_eq!(
        (
            config.tick_time_ms,
            config.min_session_timeout_ms,
            config.max_session_timeout_ms
        ),
        (3000, 6000, 60000)
    );
    assert_eq!(config.client_port, None);
    assert!(
        config.four_letter_whitelist.allows_name("srvr")
            && !config.four_letter_whitelist.allows_name("ruok")
    );
    assert!(config.is_standalone());
    assert!(config.unsupported_keys.is_empty());
}

#[test]
fn explicit_keys_are_read_with_comments_and_whitespace() {
    let text = "# a comment\n\n  tickTime = 2000\ninitLimit=10\nsyncLimit 5\n\
dataDir=./data\ndataLogDir=/logs\nclientPort=2181\nclientPortAddress=127.0.0.1\n\
maxClientCnxns=0\nminSessionTimeout=1000\nmaxSessionTimeout=90000\nclientPortListenBacklog=50\n\
connectToLearnerMasterLimit=7\nelectionAlg=3\nquorumListenOnAllIPs=true\nsyncEnabled=false\n\
peerType=observer\nautopurge.snapRetainCount=5\nautopurge.purgeInterval=24\n\
standaloneEnabled=false\nreconfigEnabled=true\nmultiAddress.enabled=false\nserver.1=a:1:2\n";
    let config = parse(text);
    assert_eq!(config.tick_time_ms, 2000);
    assert_eq!((config.init_limit, config.sync_limit), (Some(10), Some(5)));
    assert_eq!(config.connect_to_learner_master_limit, Some(7));
    assert_eq!(config.data_dir, PathBuf::from("./data"));
    assert_eq!(config.data_log_dir, PathBuf::from("/logs"));
    assert_eq!(config.client_port, Some(2181));
    assert_eq!(
        config.client_port_address,
        Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
    assert_eq!(config.max_client_cnxns, 0);
    assert_eq!(
        (config.min_session_timeout_ms, config.max_session_timeout_ms),
        (1000, 90000)
    );
    assert_eq!(config.client_port_listen_backlog, 50);
    assert!(config.quorum_listen_on_all_ips && !config.sync_enabled);
    assert_eq!(config.peer_type, LearnerRole::Observer);
    assert_eq!(
        (
            config.autopurge_snap_retain_count,
            config.autopurge_purge_interval_hours
        ),
        (5, 24)
    );
    assert!(!config.standalone_enabled && config.reconfig_enabled);
    assert!(!config.is_standalone());
}

#[test]
fn session_timeouts_default_from_tick_time_and_minus_one_means_default() {
    let config = parse("dataDir=/d\ntickTime=2000\nminSessionTimeout=-1\nmaxSessionTimeout=-1\n");
    assert_eq!(
        (config.min_session_timeout_ms, config.max_session_timeout_ms),
        (4000, 40000)
    );
    let config = parse("dataDir=/d\ntickTime=2000\nminSessionTimeout=5000\n");
    assert_eq!(
        (config.min_session_timeout_ms, config.max_session_timeout_ms),
        (5000, 40000)
    );
}

#[test]
fn zero_limits_and_ports_mean_unset() {
    let config = parse("dataDir=/d\ninitLimit=0\nclientPort=0\nsecureClientPort=0\n");
    assert_eq!(
        (
            config.init_limit,
            config.client_port,
            config.secure_client_port
        ),
        (None, None, None)
    );
}

#[test]
fn the_last_line_of_a_key_wins() {
    let config = parse("dataDir=/d\ntickTime=1000\ntickTime=4000\n");
    assert_eq!(config.tick_time_ms, 4000);
}

#[test]
fn unknown_keys_become_prefixed_system_properties() {
    let text = "dataDir=/d\nsnapCount=5000\npreAllocSize=1024\nglobalOutstandingLimit=77\nforceSync=no\n\
skipACL=yes\nextendedTypesEnabled=true\nmaxCnxns=9\nDigestAuthenticationProvider.superDigest=super:abc=\n\
4lw.commands.whitelist=ruok, mntr\nadmin.enableServer=false\nadmin.serverAddress=127.0.0.1\n\
admin.serverPort=9090\nadmin.commandURL=/cmds\nadmin.idleTimeout=500\ncustom.thing=x\n";
    let config = parse(text);
    assert_eq!((config.snap_count, config.pre_alloc_size_kb), (5000, 1024));
    assert_eq!((config.global_outstanding_limit, config.max_cnxns), (77, 9));
    assert!(!config.force_sync && config.skip_acl && config.extended_types_enabled);
    assert_eq!(config.super_digest.as_deref(), Some("super:abc="));
    assert!(
        config.four_letter_whitelist.allows_name("mntr")
            && config.four_letter_whitelist.allows_name("srvr")
    );
    assert!(!config.four_letter_whitelist.allows_name("stat"));
    let admin = AdminConfig {
        enable_server: false,
        server_address: "127.0.0.1".to_string(),
        server_port: 9090,
        command_url: "/cmds".to_string(),
        idle_timeout_ms: 500,
    };
    assert_eq!(config.admin, admin);
    assert_eq!(config.property("zookeeper.custom.thing"), Some("x"));
    assert_eq!(config.property("zookeeper.snapCount"), Some("5000"));
    assert_eq!(config.property("custom.thing"), None);
    assert_eq!(config.property("zookeeper.tickTime"), None);
}

#[test]
fn prefixed_and_unprefixed_property_keys_keep_their_names() {
    let text = "dataDir=/d\nzookeeper.snapCount=300\njute.maxbuffer=0x400000\nreadonlymode.enabled=true\n\
znode.container.checkIntervalMs=1000\nznode.container.maxPerMinute=50\nznode.container.maxNeverUsedIntervalMs=9000\n";
    let config = parse(text);
    assert_eq!(config.snap_count, 300);
    assert_eq!(config.jute_max_buffer, 0x400000);
    assert_eq!(config.jute_max_buffer_extra_size, 0x400000);
    assert!(config.read_only_mode_enabled);
    assert!(config.four_letter_whitelist.allows_name("isro"));
    assert_eq!(config.container_check_interval_ms, 1000);
    assert_eq!(config.container_max_per_minute, 50);
    assert_eq!(config.container_max_never_used_interval_ms, 9000);
    assert_eq!(config.property("jute.maxbuffer"), Some("0x400000"));
}

#[test]
fn jvm_flags_set_properties_and_ignore_other_words() {
    let flags = "-Xmx512m -Djute.maxbuffer=4194304 -XX:+UseG1GC \"-Dzookeeper.DigestAuthenticationProvider.superDigest=super:x y\" -Dreadonlymode.enabled=true -Dfoo.bar";
    let config = parse_with("dataDir=/d\n", flags);
    assert_eq!(config.jute_max_buffer, 4_194_304);
    let flags = "-Djute.maxbuffer=100 -Dzookeeper.jute.maxbuffer.extrasize=7";
    let extra = |flags| parse_with("dataDir=/d\n", flags).jute_max_buffer_extra_size;
    assert_eq!(extra(flags), 1024);
    assert_eq!(extra("-Dzookeeper.jute.maxbuffer.extrasize=5000"), 5000);
    assert_eq!(config.super_digest.as_deref(), Some("super:x y"));
    assert!(config.read_only_mode_enabled);
    assert_eq!(config.property("foo.bar"), Some(""));
    assert_eq!(config.property("-Xmx512m"), None);
}

#[test]
fn zoo_cfg_overrides_jvm_flags_and_the_last_flag_wins() {
    let config = parse_with("dataDir=/d\nsnapCount=10\n", "-Dzookeeper.snapCount=20");
    assert_eq!(config.snap_count, 10);
    let config = parse_with("dataDir=/d\njute.maxbuffer=100\n", "-Djute.maxbuffer=200");
    assert_eq!(config.jute_max_buffer, 100);
    // SERVER_JVMFLAGS then JVMFLAGS, as zkServer.sh orders them.
    let config = parse_with(
        "dataDir=/d\n",
        "-Dzookeeper.snapCount=20 -Dzookeeper.snapCount=30",
    );
    assert_eq!(config.snap_count, 30);
}

#[test]
fn small_counts_are_raised_to_zookeeper_minimums() {
    let config =
        parse("dataDir=/d\nautopurge.snapRetainCount=1\nsnapCount=1\nautopurge.purgeInterval=-4\n");
    assert_eq!(config.autopurge_snap_retain_count, 3);
    assert_eq!(config.snap_count, 2);
    assert_eq!(config.autopurge_purge_interval_hours, 0);
}

#[test]
fn star_whitelist_allows_everything() {
    assert!(parse("dataDir=/d\n4lw.commands.whitelist=*\n")
        .four_letter_whitelist
        .allows_name("wchc"));
}

#[test]
fn unsupported_keys_are_collected_once_and_sorted() {
    let text = "dataDir=/d\nsslQuorum=false\nquorum.auth.enableSasl=false\n\
metricsProvider.className=x\nlocalSessionsEnabled=true\nlocalSessionsEnabled=false\n";
    let config = parse(text);
    let expected = [
        "localSessionsEnabled",
        "metricsProvider.className",
        "quorum.auth.enableSasl",
        "sslQuorum",
    ];
    assert_eq!(config.unsupported_keys, expected.map(String::from));
    config.log_unsupported();
}

#[test]
fn ensemble_servers_are_parsed_in_id_order() {
    let config = parse(ENSEMBLE);
    let ids: Vec<u64> = config.servers.iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 4]);
    assert_eq!(
        config.servers[1].client,
        Some(ClientEndpoint {
            host: "0.0.0.0".to_string(),
            port: 2182
        })
    );
    assert_eq!(config.servers[2].role, LearnerRole::Observer);
    assert_eq!(
        config.servers[2].client,
        Some(ClientEndpoint {
            host: "127.0.0.1".to_string(),
            port: 2183
        })
    );
    assert!(!config.is_standalone());
}

#[test]
fn one_participant_is_standalone_unless_disabled() {
    let single = "dataDir=/d\nserver.1=localhost:2888:3888;2181\n";
    assert!(parse(single).is_standalone());
    let disabled = format!("{single}standaloneEnabled=false\ninitLimit=5\nsyncLimit=2\n");
    assert!(!parse(&disabled).is_standalone());
}

#[test]
fn my_id_takes_role_and_client_endpoint_from_its_server_line() {
    let mut config = parse(ENSEMBLE);
    config.apply_my_id(3).unwrap();
    assert_eq!(config.my_id, Some(3));
    assert_eq!(config.peer_type, LearnerRole::Observer);
    assert_eq!(config.client_port, Some(2183));
    assert_eq!(
        config.client_port_address,
        Some(IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
    let mut config = parse(ENSEMBLE);
    config.apply_my_id(1).unwrap();
    assert_eq!(
        (config.client_port, config.peer_type),
        (None, LearnerRole::Participant)
    );
}

#[test]
fn matching_client_port_is_accepted_and_a_different_one_rejected() {
    let mut config = parse(&format!("{ENSEMBLE}clientPort=2182\n"));
    config.apply_my_id(2).unwrap();
    assert_eq!(config.client_port, Some(2182));
    let mut config = parse(&format!("{ENSEMBLE}clientPort=2181\n"));
    let err = config.apply_my_id(2).unwrap_err();
    assert_located(&err, "clientPort", None);
}

#[test]
fn my_id_must_be_listed_in_an_ensemble() {
    let mut config = parse(ENSEMBLE);
    assert_located(&config.apply_my_id(9).unwrap_err(), "myid", None);
    let mut standalone = parse("dataDir=/d\n");
    standalone.apply_my_id(9).unwrap();
    assert_eq!(standalone.my_id, Some(9));
}

#[test]
fn extended_types_limit_the_server_id() {
    let mut config = parse("dataDir=/d\nextendedTypesEnabled=true\n");
    assert_located(&config.apply_my_id(255).unwrap_err(), "myid", None);
    config.apply_my_id(254).unwrap();
}

#[test]
fn invalid_values_name_key_line_and_expectation() {
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "dataDir=/d\n\n\n\n\n\ntickTime=abc\n",
            "tickTime",
            7,
            "expected a positive integer (milliseconds)",
        ),
        ("dataDir=/d\ntickTime=0\n", "tickTime", 2, "positive"),
        (
            "dataDir=/d\ntickTime\n",
            "tickTime",
            2,
            "invalid value \"\"",
        ),
        (
            "dataDir=/d\nclientPort=70000\n",
            "clientPort",
            2,
            "0 to 65535",
        ),
        ("dataDir=/d\nclientPort=-1\n", "clientPort", 2, "0 to 65535"),
        ("dataDir=/d\ninitLimit=ten\n", "initLimit", 2, "ticks"),
        (
            "dataDir=/d\nmaxClientCnxns=-5\n",
            "maxClientCnxns",
            2,
            "non-negative",
        ),
        (
            "dataDir=/d\nminSessionTimeout=-2\n",
            "minSessionTimeout",
            2,
            "-1 for the default",
        ),
        (
            "dataDir=/d\nminSessionTimeout=9000\nmaxSessionTimeout=8000\n",
            "minSessionTimeout",
            2,
            "must not be larger",
        ),
        (
            "dataDir=/d\ntickTime=2000\nmaxSessionTimeout=1000\n",
            "maxSessionTimeout",
            3,
            "must not be larger",
        ),
        (
            "dataDir=/d\nclientPortAddress=127.0.0.1\n",
            "clientPortAddress",
            2,
            "clientPort is not set",
        ),
        (
            "dataDir=/d\nclientPort=1\nclientPortAddress=no such host!\n",
            "clientPortAddress",
            3,
            "IP address",
        ),
        (
            "dataDir=/d\nsecureClientPortAddress=127.0.0.1\n",
            "secureClientPortAddress",
            2,
            "secureClientPort is not set",
        ),
        (
            "dataDir=/d\npeerType=voter\n",
            "peerType",
            2,
            "observer or participant",
        ),
        (
            "dataDir=/d\nstandaloneEnabled=maybe\n",
            "standaloneEnabled",
            2,
            "true or false",
        ),
        (
            "dataDir=/d\nreconfigEnabled=1\n",
            "reconfigEnabled",
            2,
            "true or false",
        ),
        (
            "dataDir=/d\nelectionAlg=1\n",
            "electionAlg",
            2,
            "fast leader election",
        ),
        ("dataDir=/d\ndataLogDir=\n", "dataLogDir", 2, "empty"),
        ("dataDir=\n", "dataDir", 1, "empty"),
        (
            "dataDir=/d\nsnapCount=lots\n",
            "zookeeper.snapCount",
            2,
            "integer",
        ),
        (
            "dataDir=/d\npreAllocSize=0x10\n",
            "zookeeper.preAllocSize",
            2,
            "KiB",
        ),
        (
            "dataDir=/d\nforceSync=false\n",
            "zookeeper.forceSync",
            2,
            "yes or no",
        ),
        (
            "dataDir=/d\nskipACL=true\n",
            "zookeeper.skipACL",
            2,
            "yes or no",
        ),
        (
            "dataDir=/d\njute.maxbuffer=0\n",
            "jute.maxbuffer",
            2,
            "positive",
        ),
        (
            "dataDir=/d\nadmin.serverPort=99999\n",
            "zookeeper.admin.serverPort",
            2,
            "port",
        ),
        (
            "dataDir=/d\nextendedTypesEnabled=yes\n",
            "zookeeper.extendedTypesEnabled",
            2,
            "true or false",
        ),
        (
            "dataDir=/d\nserver.one=a:1:2\n",
            "server.one",
            2,
            "not a number",
        ),
        (
            "dataDir=/d\nserver.1=a:2888\n",
            "server.1",
            2,
            "wrong format",
        ),
        (
            "dataDir=/d\nserver.1=a:2888:2888\n",
            "server.1",
            2,
            "must differ",
        ),
        (
            "dataDir=/d\nserver.1=a:1:2:leader\n",
            "server.1",
            2,
            "participant or observer",
        ),
        (
            "dataDir=/d\nserver.1=a:1:2;99999\n",
            "server.1",
            2,
            "client port",
        ),
    ];
    for (text, key, line, needle) in cases {
        let err = error(text);
        assert_located(&err, key, Some(*line));
        assert!(err.message.contains(needle), "{text:?}: {err}");
    }
}

#[test]
fn missing_data_dir_is_an_error() {
    assert_located(&error("tickTime=2000\n"), "dataDir", None);
}

#[test]
fn an_ensemble_needs_init_and_sync_limits() {
    let text = "dataDir=/d\nsyncLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n";
    assert_located(&error(text), "initLimit", None);
    let text = "dataDir=/d\ninitLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n";
    assert_located(&error(text), "syncLimit", None);
}

#[test]
fn invalid_jvm_flag_names_the_flag() {
    let err = error_with("dataDir=/d\n", "-Djute.maxbuffer=big");
    assert_located(&err, "jute.maxbuffer", None);
    assert!(err.message.contains("-Djute.maxbuffer"), "{err}");
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path =
            std::env::temp_dir().join(format!("paddock-config-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn load_reads_the_file_and_myid() {
    let dir = TempDir::new("load");
    let cfg = dir.0.join("zoo.cfg");
    std::fs::write(&cfg, ENSEMBLE.replace("/d", &dir.0.display().to_string())).unwrap();
    let err = Config::load(&cfg).unwrap_err();
    assert_eq!(err.key.as_deref(), Some("myid"));
    assert!(err.message.contains("missing"), "{err}");
    std::fs::write(dir.0.join("myid"), "2\n").unwrap();
    let config = Config::load(&cfg).unwrap();
    assert_eq!((config.my_id, config.client_port), (Some(2), Some(2182)));
}

#[test]
fn load_of_a_standalone_config_needs_no_myid() {
    let dir = TempDir::new("standalone");
    let cfg = dir.0.join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!("dataDir={}\nclientPort=2181\n", dir.0.display()),
    )
    .unwrap();
    let config = Config::load(&cfg).unwrap();
    assert_eq!((config.my_id, config.client_port), (None, Some(2181)));
}

#[test]
fn load_of_a_missing_file_names_it() {
    let err = Config::load(Path::new("/nonexistent/paddock/zoo.cfg")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("/nonexistent/paddock/zoo.cfg: cannot read"),
        "{err}"
    );
}

#[test]
fn shipped_configuration_files_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let default = parse(&std::fs::read_to_string(root.join("conf/zoo.cfg")).unwrap());
    assert_eq!(
        (default.client_port, default.tick_time_ms),
        (Some(2181), 2000)
    );
    assert_eq!(
        (default.init_limit, default.sync_limit),
        (Some(10), Some(5))
    );
    assert_eq!(default.data_dir, PathBuf::from("./data"));
    assert!(default.is_standalone() && default.unsupported_keys.is_empty());
    let sample = parse(&std::fs::read_to_string(root.join("conf/zoo_sample.cfg")).unwrap());
    assert_eq!(sample.data_dir, PathBuf::from("/tmp/zookeeper"));
    assert_eq!(sample.max_client_cnxns, 60);
}

#[test]
fn load_reads_the_dynamic_config_file() {
    let dir = TempDir::new("dynamic");
    let cfg = dir.0.join("zoo.cfg");
    let dynamic = dir.0.join("zoo.cfg.dynamic.100000000");
    let text = format!(
        "dataDir={}\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile={}\n",
        dir.0.display(),
        dynamic.display()
    );
    std::fs::write(&cfg, text).unwrap();
    let members =
        "server.1=a:2888:3888;2181\nserver.2=b:2888:3888;2182\nserver.3=c:2888:3888;2183\n";
    std::fs::write(&dynamic, members).unwrap();
    std::fs::write(dir.0.join("myid"), "3").unwrap();
    let config = Config::load(&cfg).unwrap();
    assert_eq!(config.servers.len(), 3);
    assert_eq!(config.own_server().map(|s| s.host.as_str()), Some("c"));
    assert_eq!(
        (config.client_port, config.dynamic_config_version),
        (Some(2183), Some(0x1_0000_0000))
    );
}

#[test]
fn peer_type_follows_the_server_list_once_myid_is_known() {
    let mut config = parse(&format!("{ENSEMBLE}peerType=observer\n"));
    assert_eq!(config.peer_type, LearnerRole::Observer);
    config.apply_my_id(1).unwrap();
    assert_eq!(config.peer_type, LearnerRole::Participant);
    let mut config = parse("dataDir=/d\npeerType=observer\n");
    config.apply_my_id(5).unwrap();
    assert_eq!(config.peer_type, LearnerRole::Participant);
}

#[test]
fn non_utf8_files_are_read_as_latin1() {
    assert_eq!(
        decode_config_bytes(b"dataDir=/d\xe9\n".to_vec()),
        "dataDir=/d\u{e9}\n"
    );
    assert_eq!(
        decode_config_bytes("dataDir=/d\u{e9}".as_bytes().to_vec()),
        "dataDir=/d\u{e9}"
    );
}

#[test]
fn sasl_settings_come_from_properties_and_the_jaas_file() {
    let dir = TempDir::new("sasl");
    let jaas = dir.0.join("jaas.conf");
    std::fs::write(
        &jaas,
        "Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob=\"pw\"; };\n\
         Other { m required user_eve=\"x\"; };",
    )
    .unwrap();
    let flags = |extra: &str| {
        format!(
            "-Djava.security.auth.login.config={} {extra}",
            jaas.display()
        )
    };
    let text =
        "dataDir=/d\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n\
                superUser=admin\n";
    let config = parse_with(text, &flags("-Dzookeeper.superUser.2=root"));
    assert!(config.sasl_acls());
    assert!(
        config.unsupported_keys.is_empty(),
        "{:?}",
        config.unsupported_keys
    );
    assert_eq!(config.sasl_super_users(), ["admin", "root"]);
    let expected =
        crate::auth::sasl::SaslUsers::from_jaas("S { m r user_bob=pw; };", "S", None).unwrap();
    assert_eq!(config.read_sasl_users().unwrap(), expected);
    let other = parse_with(
        "dataDir=/d\n",
        &flags("-Dzookeeper.sasl.serverconfig=Missing"),
    );
    assert!(!other.sasl_acls());
    assert_eq!(other.read_sasl_users().unwrap(), None);
    assert_eq!(parse("dataDir=/d\n").read_sasl_users().unwrap(), None);
    std::fs::write(&jaas, "Server {").unwrap();
    assert!(parse_with("dataDir=/d\n", &flags(""))
        .read_sasl_users()
        .is_err());
}

#[test]
fn the_jaas_file_may_also_be_named_in_zoo_cfg() {
    let config = parse("dataDir=/d\njava.security.auth.login.config=/etc/zk/jaas.conf\n");
    assert_eq!(
        config.property("java.security.auth.login.config"),
        Some("/etc/zk/jaas.conf")
    );
}

#[test]
fn the_digest_is_on_unless_the_jvm_property_turns_it_off() {
    assert!(parse("dataDir=/d\n").digest_enabled);
    let off = parse_with("dataDir=/d\n", "-Dzookeeper.digest.enabled=false");
    assert!(!off.digest_enabled);
}
