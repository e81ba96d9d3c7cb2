//! How a zoo.cfg key is treated: parsed by name, a `server.N` member, or a
//! system property; and which keys Paddock accepts without acting on yet.

/// Keys ZooKeeper's `QuorumPeerConfig::parseProperties` reads by name. They
/// never become system properties.
const EXPLICIT_KEYS: &[&str] = &[
    "dataDir",
    "dataLogDir",
    "clientPort",
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "clientPortAddress",
    "secureClientPort",
    "secureClientPortAddress",
    "clientPortListenBacklog",
    "tickTime",
    "maxClientCnxns",
    "minSessionTimeout",
    "maxSessionTimeout",
    "initLimit",
    "syncLimit",
    "connectToLearnerMasterLimit",
    "electionAlg",
    "quorumListenOnAllIPs",
    "peerType",
    "syncEnabled",
    "dynamicConfigFile",
    "autopurge.snapRetainCount",
    "autopurge.purgeInterval",
    "standaloneEnabled",
    "reconfigEnabled",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "quorum.auth.enableSasl",
    "quorum.auth.serverRequireSasl",
    "quorum.auth.learnerRequireSasl",
    "quorum.auth.learner.saslLoginContext",
    "quorum.auth.server.saslLoginContext",
    "quorum.auth.kerberos.servicePrincipal",
    "quorum.cnxn.threads.size",
    "jvm.pause.info-threshold.ms",
    "jvm.pause.warn-threshold.ms",
    "jvm.pause.sleep.time.ms",
    "jvm.pause.monitor",
    "multiAddress.enabled",
    "multiAddress.reachabilityCheckTimeoutMs",
    "multiAddress.reachabilityCheckEnabled",
    "oraclePath",
    "observerMasterPort",
];

/// System properties ZooKeeper reads without the `zookeeper.` prefix, so
/// ZooKeeper only honours them as `-D` options. Paddock also takes them as
/// zoo.cfg keys under the same name (an improvement over ZooKeeper).
const UNPREFIXED_PROPERTIES: &[&str] = &[
    "jute.maxbuffer",
    "readonlymode.enabled",
    "znode.container.checkIntervalMs",
    "znode.container.maxPerMinute",
    "znode.container.maxNeverUsedIntervalMs",
    "java.security.auth.login.config",
];

/// zoo.cfg keys (or key prefixes, ending in '.') accepted but not acted on.
/// The security settings among them are refused at start instead when they
/// would enforce something (see `security`); these lists log the rest.
const UNSUPPORTED_KEYS: &[&str] = &[
    "localSessionsEnabled",
    "localSessionsUpgradingEnabled",
    "secureClientPort",
    "secureClientPortAddress",
    "sslQuorum",
    "portUnification",
    "sslQuorumReloadCertFiles",
    "quorum.auth.",
    "quorum.cnxn.threads.size",
    "jvm.pause.",
    "metricsProvider.",
    "multiAddress.reachabilityCheckTimeoutMs",
    "multiAddress.reachabilityCheckEnabled",
    "oraclePath",
    "observerMasterPort",
    "group.",
    "weight.",
];

/// System properties (or prefixes ending in '.') accepted but not acted on,
/// whether set from zoo.cfg or by `-D`.
const UNSUPPORTED_PROPERTIES: &[&str] = &[
    "zookeeper.ssl.",
    "zookeeper.authProvider.",
    "zookeeper.serverCnxnFactory",
    "zookeeper.sessionRequireClientSASLAuth",
    "zookeeper.enforce.auth.",
    "zookeeper.client.portUnification",
    "zookeeper.allowSaslFailedClients",
    "zookeeper.admin.portUnification",
    "zookeeper.admin.forceHttps",
    "zookeeper.admin.needClientAuth",
    "zookeeper.snapshot.compression.method",
];

/// What a zoo.cfg key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyKind {
    /// Parsed by name (see `EXPLICIT_KEYS`, plus `metricsProvider.*`,
    /// `group.N` and `weight.N`).
    Explicit,
    /// `server.N`; holds the text after `server.`.
    Server(String),
    /// Stored as this system property.
    Property(String),
}

/// Classifies a zoo.cfg key. Any key not parsed by name becomes the system
/// property `zookeeper.<key>`, as in ZooKeeper, except keys that already
/// start with `zookeeper.` and the unprefixed properties, which keep their
/// name (Paddock's extension: ZooKeeper would prefix them again and then
/// never read them).
pub fn classify(key: &str) -> KeyKind {
    if let Some(id) = key.strip_prefix("server.") {
        return KeyKind::Server(id.to_string());
    }
    let explicit_prefixes = ["metricsProvider.", "group.", "weight."];
    if EXPLICIT_KEYS.contains(&key) || explicit_prefixes.iter().any(|p| key.starts_with(p)) {
        return KeyKind::Explicit;
    }
    if key.starts_with("zookeeper.") || UNPREFIXED_PROPERTIES.contains(&key) {
        return KeyKind::Property(key.to_string());
    }
    KeyKind::Property(format!("zookeeper.{key}"))
}

/// True when Paddock accepts zoo.cfg key `key` but does not act on it yet.
pub fn is_unsupported_key(key: &str) -> bool {
    matches_any(key, UNSUPPORTED_KEYS)
}

/// True when Paddock accepts system property `name` but does not act on it yet.
pub fn is_unsupported_property(name: &str) -> bool {
    matches_any(name, UNSUPPORTED_PROPERTIES)
}

/// Exact match, or prefix match for patterns ending in '.'.
fn matches_any(name: &str, patterns: &[&str]) -> bool {
    patterns
        .iter()
        .any(|p| name == *p || (p.ends_with('.') && name.starts_with(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property(name: &str) -> KeyKind {
        KeyKind::Property(name.to_string())
    }

    #[test]
    fn unknown_keys_get_the_zookeeper_prefix() {
        assert_eq!(classify("snapCount"), property("zookeeper.snapCount"));
        assert_eq!(
            classify("4lw.commands.whitelist"),
            property("zookeeper.4lw.commands.whitelist")
        );
        assert_eq!(
            classify("admin.serverPort"),
            property("zookeeper.admin.serverPort")
        );
        assert_eq!(
            classify("DigestAuthenticationProvider.superDigest"),
            property("zookeeper.DigestAuthenticationProvider.superDigest")
        );
    }

    #[test]
    fn prefixed_and_unprefixed_properties_keep_their_name() {
        assert_eq!(
            classify("zookeeper.snapCount"),
            property("zookeeper.snapCount")
        );
        assert_eq!(classify("jute.maxbuffer"), property("jute.maxbuffer"));
        assert_eq!(
            classify("readonlymode.enabled"),
            property("readonlymode.enabled")
        );
        assert_eq!(
            classify("znode.container.checkIntervalMs"),
            property("znode.container.checkIntervalMs")
        );
    }

    #[test]
    fn explicit_and_server_keys_are_recognised() {
        assert_eq!(classify("tickTime"), KeyKind::Explicit);
        assert_eq!(classify("autopurge.purgeInterval"), KeyKind::Explicit);
        assert_eq!(classify("metricsProvider.httpPort"), KeyKind::Explicit);
        assert_eq!(classify("group.1"), KeyKind::Explicit);
        assert_eq!(classify("server.3"), KeyKind::Server("3".to_string()));
    }

    #[test]
    fn unsupported_lists_match_exactly_or_by_prefix() {
        assert!(is_unsupported_key("quorum.auth.enableSasl"));
        assert!(is_unsupported_key("secureClientPort"));
        assert!(!is_unsupported_key("secureClientPortX"));
        assert!(!is_unsupported_key("tickTime"));
        assert!(is_unsupported_property("zookeeper.ssl.keyStore.location"));
        assert!(!is_unsupported_property("zookeeper.snapCount"));
    }
}
