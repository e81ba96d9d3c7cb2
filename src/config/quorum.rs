//! The ensemble part of the configuration: `server.N` lines, their shape
//! rules (ZooKeeper's `QuorumPeerConfig::parseDynamicConfig`), and `myid`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::error::ConfigError;
use super::servers::{parse_server_id, parse_server_spec, LearnerRole, ServerSpec};
use super::values::Setting;

/// Parses every `server.N` setting (keyed by the text after `server.`) into
/// specs sorted by id. Two keys naming the same id (`server.1`, `server.01`)
/// are an error.
pub fn parse_servers(
    file: &Path,
    lines: &BTreeMap<String, Setting>,
    multi_address_enabled: bool,
) -> Result<Vec<ServerSpec>, ConfigError> {
    let mut by_id: BTreeMap<u64, ServerSpec> = BTreeMap::new();
    for (suffix, setting) in lines {
        let key = format!("server.{suffix}");
        let located =
            |message: String| ConfigError::for_key(file, &key, Some(setting.origin), message);
        let id = parse_server_id(suffix)
            .map_err(|reason| located(format!("invalid key {key}: {reason}")))?;
        let spec =
            parse_server_spec(id, &setting.value, multi_address_enabled).map_err(|reason| {
                located(format!(
                    "invalid value \"{}\" for {key}: {reason}",
                    setting.value
                ))
            })?;
        if by_id.insert(id, spec).is_some() {
            return Err(located(format!("{key}: server id {id} is defined twice")));
        }
    }
    Ok(by_id.into_values().collect())
}

/// Checks the participant/observer counts the way ZooKeeper does and logs
/// its warnings. `lines` locates errors.
pub fn check_ensemble_shape(
    file: &Path,
    servers: &[ServerSpec],
    standalone_enabled: bool,
    lines: &BTreeMap<String, Setting>,
) -> Result<(), ConfigError> {
    let participants = count_role(servers, LearnerRole::Participant);
    let observer = servers.iter().find(|s| s.role == LearnerRole::Observer);
    let observer_error = |message: &str| {
        let id = observer.map(|s| s.id);
        let spec = id.map(|id| format!("server.{id}")).unwrap_or_default();
        let origin = lines
            .iter()
            .find(|(suffix, _)| suffix.parse().ok() == id)
            .map(|(_, s)| s.origin);
        ConfigError::for_key(file, &spec, origin, format!("{spec}: {message}"))
    };
    match participants {
        0 if !standalone_enabled => Err(ConfigError::for_key(
            file,
            "standaloneEnabled",
            None,
            "standaloneEnabled=false needs at least one participant server.N line",
        )),
        0 | 1 if observer.is_some() && standalone_enabled => Err(observer_error(
            "observers without a quorum of participants is an invalid configuration",
        )),
        0 => Ok(()),
        1 if standalone_enabled => {
            tracing::warn!(
                "only one server specified in the configuration (ignoring it): running standalone"
            );
            Ok(())
        }
        n if n <= 2 => {
            tracing::warn!("no server failure will be tolerated: you need at least 3 servers");
            Ok(())
        }
        n if n % 2 == 0 => {
            tracing::warn!("non-optimal configuration: consider an odd number of servers");
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Number of servers with `role`.
pub fn count_role(servers: &[ServerSpec], role: LearnerRole) -> usize {
    servers.iter().filter(|s| s.role == role).count()
}

/// The path of the myid file in `data_dir`.
pub fn my_id_path(data_dir: &Path) -> PathBuf {
    data_dir.join("myid")
}

/// Reads `<data_dir>/myid`: `Ok(None)` when there is no such file, else the
/// decimal id on its first line (surrounding whitespace ignored).
pub fn read_my_id(data_dir: &Path) -> Result<Option<u64>, ConfigError> {
    let path = my_id_path(data_dir);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ConfigError::file_level(&path, format!("cannot read the myid file: {e}")))?;
    let first = text.lines().next().unwrap_or_default().trim();
    first.parse::<u64>().map(Some).map_err(|_| {
        ConfigError::for_key(
            &path,
            "myid",
            Some(super::error::Origin::Line(1)),
            format!("server id \"{first}\" is not a number: expected the decimal server id on the first line"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::error::Origin;

    fn lines(entries: &[(&str, &str, usize)]) -> BTreeMap<String, Setting> {
        entries
            .iter()
            .map(|(k, v, line)| {
                (
                    k.to_string(),
                    Setting {
                        value: v.to_string(),
                        origin: Origin::Line(*line),
                    },
                )
            })
            .collect()
    }

    #[test]
    fn servers_are_sorted_by_id() {
        let map = lines(&[
            ("3", "c:1:2", 1),
            ("1", "a:1:2", 2),
            ("2", "b:1:2:observer", 3),
        ]);
        let servers = parse_servers(Path::new("z.cfg"), &map, false).unwrap();
        let ids: Vec<u64> = servers.iter().map(|s| s.id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
    }

    #[test]
    fn bad_server_lines_name_key_and_line() {
        let map = lines(&[("1", "a:1:2", 1), ("x", "b:1:2", 4)]);
        let err = parse_servers(Path::new("z.cfg"), &map, false).unwrap_err();
        assert_eq!((err.key.as_deref(), err.line), (Some("server.x"), Some(4)));
        let map = lines(&[("2", "b:1:1", 6)]);
        let err = parse_servers(Path::new("z.cfg"), &map, false).unwrap_err();
        assert_eq!((err.key.as_deref(), err.line), (Some("server.2"), Some(6)));
        assert!(err
            .to_string()
            .starts_with("z.cfg:6: invalid value \"b:1:1\" for server.2"));
    }

    #[test]
    fn same_id_twice_is_rejected() {
        let map = lines(&[("1", "a:1:2", 1), ("01", "b:1:2", 2)]);
        let err = parse_servers(Path::new("z.cfg"), &map, false).unwrap_err();
        assert!(err.message.contains("defined twice"));
    }

    #[test]
    fn observers_need_a_quorum() {
        let map = lines(&[("1", "a:1:2", 1), ("2", "b:1:2:observer", 2)]);
        let servers = parse_servers(Path::new("z.cfg"), &map, false).unwrap();
        let err = check_ensemble_shape(Path::new("z.cfg"), &servers, true, &map).unwrap_err();
        assert_eq!((err.key.as_deref(), err.line), (Some("server.2"), Some(2)));
        assert!(check_ensemble_shape(Path::new("z.cfg"), &servers, false, &map).is_ok());
    }

    #[test]
    fn disabled_standalone_needs_a_participant() {
        let err =
            check_ensemble_shape(Path::new("z.cfg"), &[], false, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.key.as_deref(), Some("standaloneEnabled"));
    }

    #[test]
    fn my_id_is_read_from_the_first_line() {
        let dir = std::env::temp_dir().join(format!("paddock-myid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read_my_id(&dir).unwrap(), None);
        std::fs::write(my_id_path(&dir), "7 \nignored\n").unwrap();
        assert_eq!(read_my_id(&dir).unwrap(), Some(7));
        std::fs::write(my_id_path(&dir), "seven\n").unwrap();
        let err = read_my_id(&dir).unwrap_err();
        assert_eq!((err.key.as_deref(), err.line), (Some("myid"), Some(1)));
        assert!(err.to_string().contains("\"seven\""));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
