//! JSON as ZooKeeper's AdminServer writes it: Jackson's default pretty
//! printer (two-space indents, `"key" : value`, arrays on one line as
//! `[ a, b ]` with objects inside them opened on the same line, `[ ]` and
//! `{ }` when empty), keys in the order given.

use super::java;
use std::fmt::Write;

/// A JSON value; objects keep their keys in insertion order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A double, written as Java's `Double.toString` writes it.
    Double(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An object from `(key, value)` pairs.
    pub fn object<K: Into<String>>(pairs: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The pretty-printed text, without a trailing newline.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, level: usize) {
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Json::Double(d) => out.push_str(&java::double(*d)),
            Json::Str(s) => write_quoted(out, s),
            Json::Array(items) if items.is_empty() => out.push_str("[ ]"),
            Json::Array(items) => {
                out.push_str("[ ");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write(out, level);
                }
                out.push_str(" ]");
            }
            Json::Object(pairs) if pairs.is_empty() => out.push_str("{ }"),
            Json::Object(pairs) => {
                out.push('{');
                for (i, (key, value)) in pairs.iter().enumerate() {
                    out.push_str(if i > 0 { ",\n" } else { "\n" });
                    indent(out, level + 1);
                    write_quoted(out, key);
                    out.push_str(" : ");
                    value.write(out, level + 1);
                }
                out.push('\n');
                indent(out, level);
                out.push('}');
            }
        }
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("  ");
    }
}

/// `s` as a JSON string literal, escaped as Jackson escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_quoted(&mut out, s);
    out
}

/// Appends `s` as a JSON string literal, escaped as Jackson escapes
/// (control characters as `\uXXXX` but for the usual short forms).
fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::Json;

    #[test]
    fn pretty_prints_as_jackson_does() {
        // The layout of ZooKeeper 3.8's /commands/connections and /commands/watches.
        let conn = Json::object([
            ("remote_socket_address", Json::Str("127.0.0.1:50682".into())),
            ("interest_ops", Json::Int(1)),
        ]);
        let value = Json::object([
            ("connections", Json::Array(vec![conn.clone(), conn])),
            ("secure_connections", Json::Array(vec![])),
            (
                "paths",
                Json::object([("7", Json::Array(vec![Json::Str("/x".into())]))]),
            ),
            ("empty", Json::object::<String>([])),
            ("avg_latency", Json::Double(0.0)),
            ("read_only", Json::Bool(false)),
            ("error", Json::Null),
            ("text", Json::Str("a\"b\\c\nd\u{1}".into())),
        ]);
        assert_eq!(
            value.pretty(),
            "{\n  \"connections\" : [ {\n    \"remote_socket_address\" : \"127.0.0.1:50682\",\n    \
             \"interest_ops\" : 1\n  }, {\n    \"remote_socket_address\" : \"127.0.0.1:50682\",\n    \
             \"interest_ops\" : 1\n  } ],\n  \"secure_connections\" : [ ],\n  \"paths\" : {\n    \
             \"7\" : [ \"/x\" ]\n  },\n  \"empty\" : { },\n  \"avg_latency\" : 0.0,\n  \
             \"read_only\" : false,\n  \"error\" : null,\n  \"text\" : \"a\\\"b\\\\c\\nd\\u0001\"\n}"
        );
    }
}
