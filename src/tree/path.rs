//! Path helpers and ZooKeeper's path validation rules (`PathUtils.validatePath`).

/// Joins a parent path and a child name.
pub fn join(parent: &str, name: &str) -> String {
    let mut p = String::with_capacity(parent.len() + 1 + name.len());
    join_into(&mut p, parent, name);
    p
}

/// Appends the path of child `name` of `parent` to `out` (as [`join`]).
pub fn join_into(out: &mut String, parent: &str, name: &str) {
    out.push_str(parent);
    if parent != "/" {
        out.push('/');
    }
    out.push_str(name);
}

/// The names along `path` from the root down (none for "/", and none for
/// "": ZooKeeper's DataTree keeps the root under "" as well as "/", so a
/// read of "" reads the root); `None` when it does not start with '/'. An
/// empty name (from "//" or a trailing '/') names no node.
pub fn components(path: &str) -> Option<impl Iterator<Item = &str>> {
    let below_root = if path.is_empty() {
        path
    } else {
        path.strip_prefix('/')?
    };
    Some(
        Some(below_root)
            .filter(|r| !r.is_empty())
            .into_iter()
            .flat_map(|r| r.split('/')),
    )
}

/// Splits a path at its last '/' into parent path and child name; the parent of
/// a top-level node is "/". `None` for a path without '/' or for "/".
pub fn split(path: &str) -> Option<(&str, &str)> {
    let slash = path.rfind('/')?;
    let name = &path[slash + 1..];
    if name.is_empty() && slash == 0 {
        return None;
    }
    let parent = if slash == 0 { "/" } else { &path[..slash] };
    Some((parent, name))
}

/// The parent path as ZooKeeper's prep computes it (`path.substring(0, lastSlash)`,
/// "/" for top-level nodes); `None` when the path has no '/'.
pub fn parent_of(path: &str) -> Option<&str> {
    let slash = path.rfind('/')?;
    Some(if slash == 0 { "/" } else { &path[..slash] })
}

/// True if `path` is a valid znode path (`PathUtils.validatePath`): starts
/// with '/', no empty, "." or ".." segments, no trailing '/' (except the
/// root), no NUL or control characters, none of the character ranges
/// ZooKeeper rejects, and nothing outside the Basic Multilingual Plane.
pub fn is_valid(path: &str) -> bool {
    if !path.starts_with('/') {
        return false;
    }
    if path == "/" {
        return true;
    }
    if path.ends_with('/') {
        return false;
    }
    path[1..]
        .split('/')
        .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && path.chars().all(allowed_char)
}

/// ZooKeeper checks each UTF-16 code unit of the Java string: a character
/// outside the Basic Multilingual Plane is a surrogate pair there, and
/// surrogates fall in the refused U+D800–U+F8FF range.
fn allowed_char(c: char) -> bool {
    let c = c as u32;
    !(c == 0
        || c > 0xffff
        || (0x01..=0x1f).contains(&c)
        || (0x7f..=0x9f).contains(&c)
        || (0xd800..=0xf8ff).contains(&c)
        || (0xfff0..=0xffff).contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_name_each_level() {
        fn names(p: &str) -> Option<Vec<&str>> {
            components(p).map(|c| c.collect())
        }
        assert_eq!(names("/"), Some(vec![]));
        assert_eq!(names("/a"), Some(vec!["a"]));
        assert_eq!(names("/a/bc/d"), Some(vec!["a", "bc", "d"]));
        assert_eq!(names("/a//b"), Some(vec!["a", "", "b"]));
        assert_eq!(names("/a/"), Some(vec!["a", ""]));
        assert_eq!(names(""), Some(vec![]));
        assert_eq!(names("a/b"), None);
    }

    #[test]
    fn validation_matches_zookeeper_rules() {
        for ok in [
            "/",
            "/a",
            "/a/b",
            "/a.b",
            "/a/...",
            "/ü",
            "/\u{f900}",
            "/\u{ffef}",
        ] {
            assert!(is_valid(ok), "{ok}");
        }
        for bad in [
            "",
            "a",
            "/a/",
            "//",
            "/a//b",
            "/a/./b",
            "/..",
            "/a\u{0}",
            "/a\u{1}",
            "/\u{7f}",
            "/\u{e000}",
            "/\u{fff0}",
            "/emoji-\u{1f600}",
            "/\u{10000}",
        ] {
            assert!(!is_valid(bad), "{bad:?}");
        }
    }

    #[test]
    fn split_and_join_agree() {
        assert_eq!(split("/a"), Some(("/", "a")));
        assert_eq!(split("/a/b"), Some(("/a", "b")));
        assert_eq!(split("/"), None);
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(parent_of("/a/"), Some("/a"));
        assert_eq!(parent_of("/"), Some("/"));
    }
}
