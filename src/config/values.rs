//! Typed reading of setting values, the way ZooKeeper reads them, with
//! errors that name the key, its line and what was expected.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::{ConfigError, Origin};

/// A raw setting value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The trimmed value text.
    pub value: String,
    /// The zoo.cfg line or the JVM flags.
    pub origin: Origin,
}

/// Read-only view of one map of settings (zoo.cfg keys or system
/// properties) that turns values into typed ones.
pub struct Settings<'a> {
    /// The configuration file, for error messages.
    pub file: &'a Path,
    /// Settings by key (or by full property name).
    pub map: &'a BTreeMap<String, Setting>,
}

impl Settings<'_> {
    /// The raw setting for `key`, if present.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.map.get(key)
    }

    /// Parses `key` with `parse`; absent gives `Ok(None)`, a value `parse`
    /// rejects gives an error quoting `expected`.
    pub fn parsed<T>(
        &self,
        key: &str,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, ConfigError> {
        let Some(setting) = self.get(key) else {
            return Ok(None);
        };
        parse(&setting.value).map(Some).ok_or_else(|| {
            ConfigError::invalid_value(self.file, key, &setting.value, setting.origin, expected)
        })
    }

    /// Like [`Settings::parsed`] with a default for an absent key.
    pub fn parsed_or<T>(
        &self,
        key: &str,
        default: T,
        expected: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<T, ConfigError> {
        Ok(self.parsed(key, expected, parse)?.unwrap_or(default))
    }

    /// An error about `key` located where its setting came from.
    pub fn error(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::for_key(self.file, key, self.get(key).map(|s| s.origin), message)
    }
}

/// Java's `Integer.parseInt` / `Long.parseLong`: optional sign, decimal digits.
pub fn java_decimal(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Java's `Integer.decode` / `Long.decode`, used by `Integer.getInteger` for
/// system properties: optional sign, then `0x`/`0X`/`#` hex, a leading `0`
/// octal, or decimal.
pub fn java_decode(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) =
        if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, hex)
        } else if let Some(hex) = body.strip_prefix('#') {
            (16, hex)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, &body[1..])
        } else {
            (10, body)
        };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// A decimal Java `int` within `min..=max`.
pub fn int_in(min: i64, max: i64) -> impl Fn(&str) -> Option<i64> {
    move |text| java_decimal(text).filter(|n| (min..=max).contains(n))
}

/// A `decode`-style Java number within `min..=max`.
pub fn decoded_in(min: i64, max: i64) -> impl Fn(&str) -> Option<i64> {
    move |text| java_decode(text).filter(|n| (min..=max).contains(n))
}

/// `true` / `false`, ignoring case.
pub fn true_false(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `yes` / `no` exactly, as ZooKeeper compares `forceSync` and `skipACL`.
pub fn yes_no(text: &str) -> Option<bool> {
    match text {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Java `int` bounds.
pub const INT_MAX: i64 = i32::MAX as i64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_accepts_sign_and_rejects_other_text() {
        assert_eq!(java_decimal("+12"), Some(12));
        assert_eq!(java_decimal("-3"), Some(-3));
        for bad in ["", "1.5", "0x10", " 1", "abc", "+"] {
            assert_eq!(java_decimal(bad), None, "{bad}");
        }
    }

    #[test]
    fn decode_reads_hex_octal_and_decimal() {
        assert_eq!(java_decode("0xfffff"), Some(0xfffff));
        assert_eq!(java_decode("#10"), Some(16));
        assert_eq!(java_decode("010"), Some(8));
        assert_eq!(java_decode("0"), Some(0));
        assert_eq!(java_decode("-0X10"), Some(-16));
        assert_eq!(java_decode("4194304"), Some(4_194_304));
        for bad in ["", "0x", "08", "--1", "0x-1", "1k"] {
            assert_eq!(java_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn booleans_follow_zookeeper_spelling() {
        assert_eq!(true_false("TRUE"), Some(true));
        assert_eq!(true_false("False"), Some(false));
        assert_eq!(true_false("yes"), None);
        assert_eq!(yes_no("yes"), Some(true));
        assert_eq!(yes_no("no"), Some(false));
        assert_eq!(yes_no("true"), None);
    }

    #[test]
    fn bounded_parsers_reject_out_of_range() {
        assert_eq!(int_in(1, INT_MAX)("0"), None);
        assert_eq!(int_in(1, INT_MAX)("2147483648"), None);
        assert_eq!(decoded_in(0, 10)("0xa"), Some(10));
        assert_eq!(decoded_in(0, 10)("11"), None);
    }
}
