//! The dynamic configuration file (`dynamicConfigFile`): membership only.
//!
//! It holds `server.N`, `group.N` and `weight.N` lines in the zoo.cfg
//! format; any other key (including `version`, which ZooKeeper encodes in
//! the file name `zoo.cfg.dynamic.<hex version>`) is an error.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::{ConfigError, Origin};
use super::keys::{self, KeyKind};
use super::properties::read_entries;
use super::values::Setting;
use super::{quorum, Config};

impl Config {
    /// Takes the ensemble members from the dynamic configuration `text`
    /// read from `source`, then checks the ensemble as [`Config::parse`]
    /// does for members listed in zoo.cfg. Called by [`Config::load`].
    pub fn apply_dynamic_config(&mut self, text: &str, source: &Path) -> Result<(), ConfigError> {
        let mut lines: BTreeMap<String, Setting> = BTreeMap::new();
        for entry in read_entries(text) {
            let origin = Origin::Line(entry.line);
            match keys::classify(&entry.key) {
                KeyKind::Server(id) => {
                    lines.insert(
                        id,
                        Setting {
                            value: entry.value,
                            origin,
                        },
                    );
                }
                _ if entry.key.starts_with("group.") || entry.key.starts_with("weight.") => {
                    self.note_unsupported(&entry.key);
                }
                _ => {
                    let message = format!(
                        "unrecognised parameter {} in the dynamic config file: expected only server.N, group.N and weight.N",
                        entry.key
                    );
                    return Err(ConfigError::for_key(
                        source,
                        &entry.key,
                        Some(origin),
                        message,
                    ));
                }
            }
        }
        self.servers = quorum::parse_servers(source, &lines, self.multi_address_enabled)?;
        self.dynamic_config_version = version_from_file_name(source);
        self.check_ensemble(source, &lines)
    }

    /// Adds `key` to `unsupported_keys`, keeping it sorted and unique.
    fn note_unsupported(&mut self, key: &str) {
        if let Err(at) = self
            .unsupported_keys
            .binary_search_by(|k| k.as_str().cmp(key))
        {
            self.unsupported_keys.insert(at, key.to_string());
        }
    }
}

/// The version ZooKeeper reads from a dynamic file's name: the text after
/// its last '.', as hex (`zoo.cfg.dynamic.100000000` → 0x100000000).
fn version_from_file_name(path: &Path) -> Option<u64> {
    let name = path.file_name()?.to_str()?;
    let (_, version) = name.rsplit_once('.')?;
    u64::from_str_radix(version, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LearnerRole;

    fn config_with_dynamic_file() -> Config {
        let text = "dataDir=/d\ninitLimit=5\nsyncLimit=2\ndynamicConfigFile=/c/zoo.cfg.dynamic.100000000\n";
        Config::parse(text, Path::new("zoo.cfg"), "").unwrap()
    }

    #[test]
    fn dynamic_file_supplies_members_and_version() {
        let mut config = config_with_dynamic_file();
        assert!(config.servers.is_empty());
        let dynamic =
            "server.1=a:2888:3888:participant;0.0.0.0:2181\nserver.2=b:2888:3888:participant\n\
server.3=c:2888:3888:observer\ngroup.1=1:2\n";
        let source = Path::new("/c/zoo.cfg.dynamic.100000000");
        config.apply_dynamic_config(dynamic, source).unwrap();
        assert_eq!(config.servers.len(), 3);
        assert_eq!(config.servers[2].role, LearnerRole::Observer);
        assert_eq!(config.dynamic_config_version, Some(0x1_0000_0000));
        assert_eq!(config.unsupported_keys, vec!["group.1".to_string()]);
        assert!(!config.is_standalone());
    }

    #[test]
    fn other_keys_in_the_dynamic_file_are_rejected() {
        let mut config = config_with_dynamic_file();
        let err = config
            .apply_dynamic_config("server.1=a:1:2\nversion=1\n", Path::new("dyn"))
            .unwrap_err();
        assert_eq!((err.key.as_deref(), err.line), (Some("version"), Some(2)));
        assert!(
            err.to_string()
                .starts_with("dyn:2: unrecognised parameter version"),
            "{err}"
        );
    }

    #[test]
    fn bad_member_lines_point_into_the_dynamic_file() {
        let mut config = config_with_dynamic_file();
        let err = config
            .apply_dynamic_config("server.1=a:1:1\n", Path::new("dyn"))
            .unwrap_err();
        assert_eq!((err.file.as_path(), err.line), (Path::new("dyn"), Some(1)));
    }

    #[test]
    fn members_in_zoo_cfg_conflict_with_a_dynamic_file() {
        let text = "dataDir=/d\ndynamicConfigFile=/z.dyn\nserver.1=a:1:2\n";
        let err = Config::parse(text, Path::new("zoo.cfg"), "").unwrap_err();
        assert_eq!((err.key.as_deref(), err.line), (Some("server.1"), Some(3)));
    }

    #[test]
    fn version_is_read_from_the_file_name() {
        assert_eq!(
            version_from_file_name(Path::new("/x/zoo.cfg.dynamic.2a")),
            Some(0x2a)
        );
        assert_eq!(version_from_file_name(Path::new("/x/members.cfg")), None);
        assert_eq!(
            version_from_file_name(Path::new("/x/zoo.cfg.dynamic")),
            None
        );
    }
}
