//! Settings that decide who may connect, join the ensemble or authenticate,
//! and that Paddock does not implement. An operator who sets one believes the
//! server enforces it, so the server refuses to start instead of accepting
//! the setting and ignoring it. Settings that only loosen what ZooKeeper
//! would enforce (or that do nothing unless a refused one is on) may still be
//! accepted and ignored; `docs/compatibility.md` lists both kinds.

use super::error::{ConfigError, Origin};
use super::Setting;
use std::collections::BTreeMap;
use std::path::Path;

/// When a refused setting's value turns on what Paddock does not implement.
#[derive(Debug, Clone, Copy)]
enum When {
    /// `true` (Java's `Boolean.parseBoolean`: any case, after trimming).
    True,
    /// Any value but `0` (a port of 0 means no port in ZooKeeper).
    NonZero,
    /// Any value at all.
    Any,
    /// Any value but these (compared after trimming; case-insensitive).
    NoneOf(&'static [&'static str]),
}

impl When {
    fn refuses(self, value: &str) -> bool {
        let value = value.trim();
        match self {
            When::True => value.eq_ignore_ascii_case("true"),
            When::NonZero => value != "0",
            When::Any => true,
            When::NoneOf(allowed) => !allowed.iter().any(|a| a.eq_ignore_ascii_case(value)),
        }
    }
}

/// One refused setting: a zoo.cfg key parsed by name, or a system property
/// (full name; a pattern ending in '.' is a prefix).
struct Refusal {
    name: &'static str,
    when: When,
    /// What Paddock lacks, for the error.
    missing: &'static str,
}

/// The zoo.cfg keys ZooKeeper parses by name that are refused.
const REFUSED_KEYS: &[Refusal] = &[
    Refusal {
        name: "quorum.auth.enableSasl",
        when: When::True,
        missing: "SASL authentication between ensemble members",
    },
    Refusal {
        name: "quorum.auth.serverRequireSasl",
        when: When::True,
        missing: "SASL authentication between ensemble members",
    },
    Refusal {
        name: "quorum.auth.learnerRequireSasl",
        when: When::True,
        missing: "SASL authentication between ensemble members",
    },
    Refusal {
        name: "sslQuorum",
        when: When::True,
        missing: "TLS between ensemble members",
    },
    Refusal {
        name: "portUnification",
        when: When::True,
        missing: "TLS on the client port",
    },
    Refusal {
        name: "secureClientPort",
        when: When::NonZero,
        missing: "TLS client connections",
    },
];

/// Authentication provider classes Paddock implements: SASL (DIGEST-MD5) and
/// the two ZooKeeper always registers, which naming again changes nothing.
const IMPLEMENTED_PROVIDERS: &[&str] = &[
    "org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
    "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
    "org.apache.zookeeper.server.auth.IPAuthenticationProvider",
];

/// The system properties (from zoo.cfg or `-D`) that are refused.
const REFUSED_PROPERTIES: &[Refusal] = &[
    Refusal {
        name: "zookeeper.ssl.",
        when: When::Any,
        missing: "TLS",
    },
    Refusal {
        name: "zookeeper.client.portUnification",
        when: When::True,
        missing: "TLS on the client port",
    },
    Refusal {
        name: "zookeeper.enforce.auth.enabled",
        when: When::True,
        missing: "enforced client authentication",
    },
    Refusal {
        name: "zookeeper.sessionRequireClientSASLAuth",
        when: When::True,
        missing: "requiring SASL authentication of every client",
    },
    Refusal {
        name: "zookeeper.authProvider.",
        when: When::NoneOf(IMPLEMENTED_PROVIDERS),
        missing: "this authentication provider class",
    },
    Refusal {
        name: "zookeeper.DigestAuthenticationProvider.digestAlg",
        when: When::NoneOf(&["SHA1", "SHA-1"]),
        missing: "digest ACLs hashed with another algorithm than SHA1",
    },
    Refusal {
        name: "zookeeper.admin.forceHttps",
        when: When::True,
        missing: "HTTPS on the AdminServer",
    },
    Refusal {
        name: "zookeeper.admin.needClientAuth",
        when: When::True,
        missing: "client certificates on the AdminServer",
    },
];

/// The only JAAS login module Paddock implements in the server section.
pub const DIGEST_LOGIN_MODULE: &str = "org.apache.zookeeper.server.auth.DigestLoginModule";

/// Fails on the first refused setting (keys in name order, then
/// properties), naming it and where it was set.
pub(super) fn refuse_unimplemented(
    file: &Path,
    keys: &BTreeMap<String, Setting>,
    properties: &BTreeMap<String, Setting>,
) -> Result<(), ConfigError> {
    for (map, refusals) in [(keys, REFUSED_KEYS), (properties, REFUSED_PROPERTIES)] {
        for (name, setting) in map {
            let refusal = refusals.iter().find(|r| matches(r.name, name));
            if let Some(r) = refusal.filter(|r| r.when.refuses(&setting.value)) {
                return Err(refused(
                    file,
                    name,
                    &setting.value,
                    setting.origin,
                    r.missing,
                ));
            }
        }
    }
    Ok(())
}

/// Exact match, or prefix match for patterns ending in '.'.
fn matches(pattern: &str, name: &str) -> bool {
    name == pattern || (pattern.ends_with('.') && name.starts_with(pattern))
}

fn refused(file: &Path, name: &str, value: &str, origin: Origin, missing: &str) -> ConfigError {
    let message = format!(
        "{name}={value} is refused: Paddock does not implement {missing}, and a security \
         setting is never accepted and then ignored (remove it, or run Apache ZooKeeper)",
        value = value.trim()
    );
    ConfigError::for_key(file, name, Some(origin), message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn refusal(text: &str, flags: &str) -> Option<ConfigError> {
        Config::parse(text, Path::new("zoo.cfg"), flags).err()
    }

    #[test]
    fn each_refused_key_names_itself_and_its_line() {
        for (line, key) in [
            ("quorum.auth.enableSasl=true", "quorum.auth.enableSasl"),
            (
                "quorum.auth.serverRequireSasl=TRUE",
                "quorum.auth.serverRequireSasl",
            ),
            (
                "quorum.auth.learnerRequireSasl=true ",
                "quorum.auth.learnerRequireSasl",
            ),
            ("sslQuorum=true", "sslQuorum"),
            ("portUnification=true", "portUnification"),
            ("secureClientPort=2281", "secureClientPort"),
            (
                "ssl.keyStore.location=/k",
                "zookeeper.ssl.keyStore.location",
            ),
            (
                "ssl.quorum.trustStore.location=/t",
                "zookeeper.ssl.quorum.trustStore.location",
            ),
            (
                "client.portUnification=true",
                "zookeeper.client.portUnification",
            ),
            (
                "enforce.auth.enabled=true",
                "zookeeper.enforce.auth.enabled",
            ),
            (
                "sessionRequireClientSASLAuth=true",
                "zookeeper.sessionRequireClientSASLAuth",
            ),
            (
                "authProvider.1=com.example.Custom",
                "zookeeper.authProvider.1",
            ),
            (
                "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider",
                "zookeeper.authProvider.x509",
            ),
            (
                "DigestAuthenticationProvider.digestAlg=SHA3-256",
                "zookeeper.DigestAuthenticationProvider.digestAlg",
            ),
            ("admin.forceHttps=true", "zookeeper.admin.forceHttps"),
            (
                "admin.needClientAuth=true",
                "zookeeper.admin.needClientAuth",
            ),
        ] {
            let text = format!("tickTime=2000\ndataDir=/d\n{line}\n");
            let e = refusal(&text, "").unwrap_or_else(|| panic!("{line} accepted"));
            assert_eq!((e.key.as_deref(), e.line), (Some(key), Some(3)), "{line}");
            assert!(e.to_string().contains("refused"), "{e}");
        }
    }

    #[test]
    fn a_refused_property_from_jvm_flags_says_so() {
        let e = refusal(
            "dataDir=/d\n",
            "-Dzookeeper.sessionRequireClientSASLAuth=true",
        )
        .unwrap();
        assert_eq!(
            e.key.as_deref(),
            Some("zookeeper.sessionRequireClientSASLAuth")
        );
        assert!(e.to_string().contains("SERVER_JVMFLAGS"), "{e}");
    }

    #[test]
    fn settings_that_enforce_nothing_are_accepted() {
        let text = "dataDir=/d\nquorum.auth.enableSasl=false\nquorum.auth.learnerRequireSasl=false\n\
            quorum.auth.learner.saslLoginContext=QuorumLearner\nsslQuorum=false\nportUnification=false\n\
            secureClientPort=0\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n\
            authProvider.2= org.apache.zookeeper.server.auth.DigestAuthenticationProvider\n\
            enforce.auth.enabled=false\nenforce.auth.schemes=digest\nallowSaslFailedClients=true\n\
            DigestAuthenticationProvider.digestAlg=SHA1\n";
        assert_eq!(refusal(text, ""), None);
    }
}
