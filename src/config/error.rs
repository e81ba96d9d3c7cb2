//! The error a bad configuration produces: it names the file, the line and
//! the key when they are known, and says what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a setting's value came from; errors point there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A line of the configuration file (1-based).
    Line(usize),
    /// A `-D` word of `SERVER_JVMFLAGS` / `JVMFLAGS`.
    JvmFlag,
}

/// A configuration the server refuses to start with.
///
/// Display reads `file:line: message` when the line is known, else
/// `file: message`; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending key (or system property name), when one is to blame.
    pub key: Option<String>,
    /// 1-based line of the offending entry in `file`, when it came from a line.
    pub line: Option<usize>,
    /// What is wrong and what was expected.
    pub message: String,
    /// The configuration file being loaded.
    pub file: PathBuf,
}

impl ConfigError {
    /// An error about the whole file or its environment (no key, no line).
    pub fn file_level(file: &Path, message: impl Into<String>) -> ConfigError {
        ConfigError {
            key: None,
            line: None,
            message: message.into(),
            file: file.to_path_buf(),
        }
    }

    /// An error about one key, located at `origin` when known.
    pub fn for_key(
        file: &Path,
        key: &str,
        origin: Option<Origin>,
        message: impl Into<String>,
    ) -> ConfigError {
        let mut message = message.into();
        if origin == Some(Origin::JvmFlag) {
            message.push_str(&format!(" (set by -D{key} in SERVER_JVMFLAGS or JVMFLAGS)"));
        }
        let line = match origin {
            Some(Origin::Line(line)) => Some(line),
            _ => None,
        };
        ConfigError {
            key: Some(key.to_string()),
            line,
            message,
            file: file.to_path_buf(),
        }
    }

    /// `invalid value "<value>" for <key>: expected <expected>`.
    pub fn invalid_value(
        file: &Path,
        key: &str,
        value: &str,
        origin: Origin,
        expected: &str,
    ) -> ConfigError {
        let message = format!("invalid value \"{value}\" for {key}: expected {expected}");
        ConfigError::for_key(file, key, Some(origin), message)
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file.display(), line, self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_puts_file_and_line_first() {
        let err = ConfigError::invalid_value(
            Path::new("conf/zoo.cfg"),
            "tickTime",
            "abc",
            Origin::Line(7),
            "a positive integer (milliseconds)",
        );
        assert_eq!(
            err.to_string(),
            "conf/zoo.cfg:7: invalid value \"abc\" for tickTime: expected a positive integer (milliseconds)"
        );
        assert_eq!(err.key.as_deref(), Some("tickTime"));
    }

    #[test]
    fn jvm_flag_errors_name_the_flag_and_have_no_line() {
        let err = ConfigError::invalid_value(
            Path::new("z.cfg"),
            "jute.maxbuffer",
            "x",
            Origin::JvmFlag,
            "bytes",
        );
        assert_eq!(err.line, None);
        assert!(err
            .to_string()
            .starts_with("z.cfg: invalid value \"x\" for jute.maxbuffer"));
        assert!(err.to_string().contains("-Djute.maxbuffer"));
    }
}
