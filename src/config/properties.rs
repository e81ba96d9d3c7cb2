//! Readers for the two textual sources of settings: the `java.util.Properties`
//! format that zoo.cfg is written in, and the `-Dkey=value` words of the
//! `SERVER_JVMFLAGS` / `JVMFLAGS` environment variables.
//!
//! zoo.cfg grammar (as `java.util.Properties::load` reads it):
//! ```text
//! file    = { line }
//! line    = blank | comment | entry
//! comment = ws* ('#' | '!') any*            ; never continued
//! entry   = ws* key [ ws* ('=' | ':') ] ws* value
//! key     = chars up to the first unescaped '=', ':' or whitespace
//! value   = rest of the logical line
//! ```
//! A natural line ending in an odd number of backslashes continues on the
//! next line (whose leading whitespace is dropped). Escapes `\t \n \r \f
//! \uXXXX` are decoded; any other `\c` stands for `c`. A line holding only a
//! key is an entry with an empty value, exactly as Java reads it.

/// One `key value` entry of a properties file, with the 1-based line on
/// which its logical line starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key, escapes decoded, surrounding whitespace removed.
    pub key: String,
    /// The value, escapes decoded, surrounding whitespace removed (ZooKeeper
    /// trims both before use).
    pub value: String,
    /// 1-based line number where the entry starts.
    pub line: usize,
}

/// Reads every entry of a properties text in file order. Later entries for
/// the same key are kept too; the caller decides (Java keeps the last one).
pub fn read_entries(text: &str) -> Vec<Entry> {
    logical_lines(text)
        .into_iter()
        .filter_map(|(line, raw)| split_entry(&raw).map(|(key, value)| (line, key, value)))
        .map(|(line, key, value)| Entry {
            key: unescape(&key).trim().to_string(),
            value: unescape(&value).trim().to_string(),
            line,
        })
        .collect()
}

/// Joins continued natural lines and drops blank and comment lines.
/// Returns (first line number, logical line with leading whitespace removed).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, natural) in text.lines().enumerate() {
        let natural = natural.strip_suffix('\r').unwrap_or(natural);
        let stripped = natural.trim_start_matches(is_properties_space);
        let (start, mut joined) = match pending.take() {
            Some((start, so_far)) => (start, so_far),
            None if stripped.is_empty() || stripped.starts_with(['#', '!']) => continue,
            None => (index + 1, String::new()),
        };
        if ends_with_continuation(stripped) {
            joined.push_str(&stripped[..stripped.len() - 1]);
            pending = Some((start, joined));
        } else {
            joined.push_str(stripped);
            out.push((start, joined));
        }
    }
    if let Some(last) = pending {
        out.push(last);
    }
    out
}

/// Whitespace as `Properties` counts it: space, tab and form feed.
fn is_properties_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// True when the line ends in an odd number of backslashes.
fn ends_with_continuation(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

/// Splits a logical line into its raw (still escaped) key and value.
fn split_entry(line: &str) -> Option<(String, String)> {
    if line.is_empty() {
        return None;
    }
    let mut key_end = line.len();
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || is_properties_space(c) {
            key_end = i;
            break;
        }
    }
    let key = &line[..key_end];
    let rest = line[key_end..].trim_start_matches(is_properties_space);
    let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest);
    let value = rest.trim_start_matches(is_properties_space);
    Some((key.to_string(), value.to_string()))
}

/// Decodes the escapes `Properties` understands.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => out.push(decode_unicode_escape(&mut chars)),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Reads the four hex digits after `\u`; a malformed escape yields U+FFFD
/// (Java would throw; a replacement character then fails the value check
/// that follows, which names the key and line).
fn decode_unicode_escape(chars: &mut std::str::Chars<'_>) -> char {
    let digits: String = chars.by_ref().take(4).collect();
    u32::from_str_radix(&digits, 16)
        .ok()
        .filter(|_| digits.len() == 4)
        .and_then(char::from_u32)
        .unwrap_or('\u{fffd}')
}

/// Extracts the `-Dname=value` system properties from a JVM flags string, in
/// order. Words are split on whitespace; single or double quotes group a
/// word's characters and are removed, as a shell would. Words that are not
/// `-D` options (`-Xmx1g`, `-XX:+UseG1GC`, `-cp`, …) are ignored. `-Dname`
/// without `=` sets `name` to the empty string, as `java` does.
pub fn read_jvm_flags(flags: &str) -> Vec<(String, String)> {
    shell_words(flags)
        .into_iter()
        .filter_map(|word| {
            let definition = word.strip_prefix("-D")?;
            let (name, value) = definition.split_once('=').unwrap_or((definition, ""));
            (!name.is_empty()).then(|| (name.to_string(), value.to_string()))
        })
        .collect()
}

/// Splits on unquoted whitespace and removes the quote characters.
fn shell_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String, usize)> {
        read_entries(text)
            .into_iter()
            .map(|e| (e.key, e.value, e.line))
            .collect()
    }

    fn owned(k: &str, v: &str, line: usize) -> (String, String, usize) {
        (k.to_string(), v.to_string(), line)
    }

    #[test]
    fn comments_blank_lines_and_whitespace_are_skipped() {
        let text = "# comment\n\n   ! bang comment\n  tickTime = 2000  \r\n\t\ndataDir=/tmp/zk\n";
        assert_eq!(
            pairs(text),
            vec![owned("tickTime", "2000", 4), owned("dataDir", "/tmp/zk", 6)]
        );
    }

    #[test]
    fn colon_and_whitespace_separate_key_from_value() {
        let text = "a:1\nb 2\nc = : 3\nd\t=\t4";
        assert_eq!(
            pairs(text),
            vec![
                owned("a", "1", 1),
                owned("b", "2", 2),
                owned("c", ": 3", 3),
                owned("d", "4", 4)
            ]
        );
    }

    #[test]
    fn bare_key_has_empty_value() {
        assert_eq!(
            pairs("standaloneEnabled\n"),
            vec![owned("standaloneEnabled", "", 1)]
        );
    }

    #[test]
    fn value_keeps_later_equals_signs() {
        assert_eq!(
            pairs("superDigest=super:abc=="),
            vec![owned("superDigest", "super:abc==", 1)]
        );
    }

    #[test]
    fn backslash_continues_a_line_and_escapes_decode() {
        let text = "list=a,\\\n    b,\\\n    c\nkey\\=x=\\u0041\\t\nnext=1";
        assert_eq!(
            pairs(text),
            vec![
                owned("list", "a,b,c", 1),
                owned("key=x", "A", 4),
                owned("next", "1", 5)
            ]
        );
    }

    #[test]
    fn even_backslashes_do_not_continue() {
        assert_eq!(
            pairs("path=C:\\\\\nnext=1"),
            vec![owned("path", "C:\\", 1), owned("next", "1", 2)]
        );
    }

    #[test]
    fn duplicate_keys_are_all_reported_in_order() {
        let got = pairs("a=1\na=2");
        assert_eq!(got, vec![owned("a", "1", 1), owned("a", "2", 2)]);
    }

    #[test]
    fn jvm_flags_keep_only_d_options() {
        let flags = "-Xmx1g -XX:+UseG1GC -Djute.maxbuffer=4194304 -cp x.jar -Dreadonlymode.enabled";
        assert_eq!(
            read_jvm_flags(flags),
            vec![
                ("jute.maxbuffer".to_string(), "4194304".to_string()),
                ("readonlymode.enabled".to_string(), String::new())
            ]
        );
    }

    #[test]
    fn jvm_flags_quotes_group_words_and_are_removed() {
        let flags = "  -Da=\"x y\"   '-Db=z w' -Dc=k=v\t-D=ignored";
        assert_eq!(
            read_jvm_flags(flags),
            vec![
                ("a".to_string(), "x y".to_string()),
                ("b".to_string(), "z w".to_string()),
                ("c".to_string(), "k=v".to_string())
            ]
        );
    }
}
