//! `server.N` lines: the ensemble members of a static configuration.
//!
//! Grammar (ZooKeeper 3.8's `QuorumServer`):
//! ```text
//! server.N = address [ ";" client ]
//! address  = host ":" quorumPort ":" electionPort [ ":" role ]
//! role     = "participant" | "observer"          ; case-insensitive
//! client   = [ clientHost ":" ] clientPort       ; clientHost defaults to 0.0.0.0
//! host     = name | ipv4 | "[" ipv6 "]"
//! ```
//! Several `|`-separated addresses need `multiAddress.enabled=true` in
//! ZooKeeper; Paddock does not support them yet and says so.

/// Whether a member votes. ZooKeeper's `LearnerType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnerRole {
    /// Votes in elections and counts towards the write quorum.
    Participant,
    /// Follows the leader without voting.
    Observer,
}

impl LearnerRole {
    /// Parses `participant` / `observer`, ignoring case and surrounding
    /// whitespace as ZooKeeper does.
    pub fn parse(text: &str) -> Option<LearnerRole> {
        match text.trim().to_ascii_lowercase().as_str() {
            "participant" => Some(LearnerRole::Participant),
            "observer" => Some(LearnerRole::Observer),
            _ => None,
        }
    }

    /// The number the `conf` four-letter word prints for `peerType`
    /// (0 participant, 1 observer).
    pub fn conf_number(self) -> u8 {
        match self {
            LearnerRole::Participant => 0,
            LearnerRole::Observer => 1,
        }
    }
}

/// The client listener named in the `;` part of a `server.N` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientEndpoint {
    /// Host or IP literal, brackets removed; `0.0.0.0` when only a port was given.
    pub host: String,
    /// The client port.
    pub port: u16,
}

/// One ensemble member from a `server.N` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// The server id N (the `myid` of that server).
    pub id: u64,
    /// Host name or IP literal (IPv6 without brackets); resolved at connect time.
    pub host: String,
    /// Port followers use to connect to the leader (ZAB traffic), typically 2888.
    pub quorum_port: u16,
    /// Port of leader election, typically 3888. Always differs from `quorum_port`.
    pub election_port: u16,
    /// Participant (voting) or observer.
    pub role: LearnerRole,
    /// Client listener given after `;`, if any.
    pub client: Option<ClientEndpoint>,
}

impl ServerSpec {
    /// The line's value as ZooKeeper prints it in dynamic configuration
    /// text (`conf`'s membership, `zoo.cfg.dynamic.*`):
    /// `host:quorumPort:electionPort:role[;clientHost:clientPort]`, IPv6
    /// hosts in brackets, the role always spelled out.
    pub fn config_value(&self) -> String {
        let role = match self.role {
            LearnerRole::Participant => "participant",
            LearnerRole::Observer => "observer",
        };
        let mut value = format!(
            "{}:{}:{}:{role}",
            bracketed(&self.host),
            self.quorum_port,
            self.election_port
        );
        if let Some(client) = &self.client {
            value.push_str(&format!(";{}:{}", bracketed(&client.host), client.port));
        }
        value
    }
}

/// Wraps an IPv6 literal in brackets.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

/// Parses the id part of a `server.N` key (`N`, a decimal id).
pub fn parse_server_id(key_suffix: &str) -> Result<u64, String> {
    key_suffix
        .parse::<u64>()
        .map_err(|_| format!("server id \"{key_suffix}\" is not a number: expected server.N with N a non-negative integer"))
}

/// Parses the value of a `server.N` line. The error text says what was
/// expected; the caller adds the key and line.
pub fn parse_server_spec(
    id: u64,
    value: &str,
    multi_address_enabled: bool,
) -> Result<ServerSpec, String> {
    let (address, client) = split_client_part(value)?;
    if address.contains('|') {
        return Err(if multi_address_enabled {
            "several |-separated addresses (multiAddress) are not supported by Paddock yet"
                .to_string()
        } else {
            "several |-separated addresses need multiAddress.enabled=true".to_string()
        });
    }
    let parts = split_host_ports(address)?;
    if !(3..=4).contains(&parts.len()) {
        return Err(format!("\"{value}\" has the wrong format: {FORMAT}"));
    }
    let quorum_port = parse_port(&parts[1], "quorum port")?;
    let election_port = parse_port(&parts[2], "election port")?;
    if quorum_port == election_port {
        return Err(format!(
            "quorum port and election port must differ (both are {quorum_port})"
        ));
    }
    let role = match parts.get(3) {
        Some(text) => LearnerRole::parse(text).ok_or_else(|| {
            format!("unrecognised peer type \"{text}\": expected participant or observer")
        })?,
        None => LearnerRole::Participant,
    };
    Ok(ServerSpec {
        id,
        host: parts[0].clone(),
        quorum_port,
        election_port,
        role,
        client,
    })
}

/// The accepted shape, quoted in errors.
const FORMAT: &str =
    "expected host:quorumPort:electionPort[:participant|observer][;[clientHost:]clientPort]";

/// Splits off and parses the optional `;[clientHost:]clientPort` part.
fn split_client_part(value: &str) -> Result<(&str, Option<ClientEndpoint>), String> {
    let mut pieces = value.split(';');
    let address = pieces.next().unwrap_or_default();
    let client = pieces.next();
    if pieces.next().is_some() {
        return Err(format!("\"{value}\" has more than one ';': {FORMAT}"));
    }
    let Some(client) = client else {
        return Ok((address, None));
    };
    let parts = split_host_ports(client)?;
    let endpoint = match parts.as_slice() {
        [port] => ClientEndpoint {
            host: "0.0.0.0".to_string(),
            port: parse_port(port, "client port")?,
        },
        [host, port] => ClientEndpoint {
            host: host.clone(),
            port: parse_port(port, "client port")?,
        },
        _ => {
            return Err(format!(
                "client part \"{client}\" has too many ':': expected [clientHost:]clientPort"
            ))
        }
    };
    Ok((address, Some(endpoint)))
}

/// Splits `host:a:b` on ':' where the host may be a bracketed IPv6 literal.
fn split_host_ports(text: &str) -> Result<Vec<String>, String> {
    let text = text.trim();
    let Some(bracketed) = text.strip_prefix('[') else {
        return Ok(text
            .split(':')
            .map(|part| part.trim().to_string())
            .collect());
    };
    let (host, rest) = bracketed
        .split_once("]:")
        .ok_or_else(|| format!("\"{text}\" starts with '[' but has no matching ']:'"))?;
    let mut parts = vec![host.to_string()];
    parts.extend(rest.split(':').map(|part| part.trim().to_string()));
    Ok(parts)
}

/// Parses a TCP port 1..=65535.
fn parse_port(text: &str, what: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|&port| port != 0)
        .ok_or_else(|| {
            format!("{what} \"{text}\" is not a port: expected an integer from 1 to 65535")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(value: &str) -> Result<ServerSpec, String> {
        parse_server_spec(1, value, false)
    }

    #[test]
    fn plain_address_is_a_participant_without_client_part() {
        let got = spec("zk1.example:2888:3888").unwrap();
        assert_eq!(
            got,
            ServerSpec {
                id: 1,
                host: "zk1.example".to_string(),
                quorum_port: 2888,
                election_port: 3888,
                role: LearnerRole::Participant,
                client: None
            }
        );
    }

    #[test]
    fn observer_role_and_case_are_accepted() {
        assert_eq!(spec("h:1:2:observer").unwrap().role, LearnerRole::Observer);
        assert_eq!(
            spec("h:1:2:Participant").unwrap().role,
            LearnerRole::Participant
        );
    }

    #[test]
    fn client_port_alone_listens_on_all_interfaces() {
        let got = spec("h:2888:3888;2181").unwrap();
        assert_eq!(
            got.client,
            Some(ClientEndpoint {
                host: "0.0.0.0".to_string(),
                port: 2181
            })
        );
    }

    #[test]
    fn client_host_and_port_after_role() {
        let got = spec("h:2888:3888:observer;127.0.0.1:2181").unwrap();
        assert_eq!(got.role, LearnerRole::Observer);
        assert_eq!(
            got.client,
            Some(ClientEndpoint {
                host: "127.0.0.1".to_string(),
                port: 2181
            })
        );
    }

    #[test]
    fn bracketed_ipv6_hosts_are_unwrapped() {
        let got = spec("[::1]:2888:3888;[::1]:2181").unwrap();
        assert_eq!(got.host, "::1");
        assert_eq!(got.client.unwrap().host, "::1");
    }

    #[test]
    fn malformed_lines_are_rejected_with_reason() {
        for (value, needle) in [
            ("h:2888", "wrong format"),
            ("h:1:2:3:4", "wrong format"),
            ("h:2888:2888", "must differ"),
            ("h:2888:3888:voter", "unrecognised peer type"),
            ("h:x:3888", "quorum port \"x\""),
            ("h:2888:70000", "election port"),
            ("h:2888:3888;a:b:c", "too many ':'"),
            ("h:2888:3888;abc", "client port"),
            ("h:1:2;1;2", "more than one ';'"),
            ("[::1:2888:3888", "no matching"),
            ("a:1:2|b:1:2", "multiAddress.enabled"),
        ] {
            let err = spec(value).unwrap_err();
            assert!(err.contains(needle), "{value}: {err}");
        }
    }

    #[test]
    fn config_value_spells_out_role_and_client_part() {
        assert_eq!(
            spec("h:2888:3888").unwrap().config_value(),
            "h:2888:3888:participant"
        );
        assert_eq!(
            spec("h:1:2:observer;2181").unwrap().config_value(),
            "h:1:2:observer;0.0.0.0:2181"
        );
        assert_eq!(
            spec("[::1]:1:2;[::1]:3").unwrap().config_value(),
            "[::1]:1:2:participant;[::1]:3"
        );
    }

    #[test]
    fn server_id_must_be_numeric() {
        assert_eq!(parse_server_id("12"), Ok(12));
        assert!(parse_server_id("a").unwrap_err().contains("\"a\""));
        assert!(parse_server_id("-1").is_err());
    }
}
