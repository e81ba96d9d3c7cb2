//! The four-letter-word whitelist (`4lw.commands.whitelist`).

use std::collections::BTreeSet;

/// Which four-letter words the server answers.
///
/// ZooKeeper 3.8 rule: the property is a comma list (entries trimmed, empty
/// ones skipped); `*` anywhere enables every command. Without the property
/// only `srvr` is enabled. `srvr` is always added, and `isro` too when
/// `readonlymode.enabled=true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FourLetterWhitelist {
    /// Every command (`*`).
    All,
    /// Only these commands (lowercase words such as `ruok`).
    Only(BTreeSet<String>),
}

impl FourLetterWhitelist {
    /// Builds the whitelist from the property value (if set) and the
    /// read-only-mode flag.
    pub fn from_property(value: Option<&str>, read_only_mode_enabled: bool) -> FourLetterWhitelist {
        let mut words = BTreeSet::new();
        for word in value.unwrap_or_default().split(',').map(str::trim) {
            if word == "*" {
                return FourLetterWhitelist::All;
            }
            if !word.is_empty() {
                words.insert(word.to_string());
            }
        }
        if read_only_mode_enabled {
            words.insert("isro".to_string());
        }
        words.insert("srvr".to_string());
        FourLetterWhitelist::Only(words)
    }

    /// True when `command` (e.g. `"ruok"`) may run.
    pub fn allows(&self, command: &str) -> bool {
        match self {
            FourLetterWhitelist::All => true,
            FourLetterWhitelist::Only(words) => words.contains(command),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_allows_only_srvr() {
        let list = FourLetterWhitelist::from_property(None, false);
        assert!(list.allows("srvr"));
        assert!(!list.allows("ruok"));
        assert!(!list.allows("isro"));
    }

    #[test]
    fn list_is_trimmed_and_srvr_is_always_added() {
        let list = FourLetterWhitelist::from_property(Some(" ruok , mntr,,"), false);
        let expected: BTreeSet<String> = ["mntr", "ruok", "srvr"].map(String::from).into();
        assert_eq!(list, FourLetterWhitelist::Only(expected));
    }

    #[test]
    fn star_enables_everything() {
        assert_eq!(
            FourLetterWhitelist::from_property(Some("ruok, *"), false),
            FourLetterWhitelist::All
        );
    }

    #[test]
    fn read_only_mode_adds_isro() {
        assert!(FourLetterWhitelist::from_property(Some("ruok"), true).allows("isro"));
    }
}
