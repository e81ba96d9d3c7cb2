//! Paths as ZooKeeper 3.8 judges them (issue #19): a golden table of its
//! answers, captured from the real server with raw requests by
//! tests/fixtures/zk38-paths/capture.py, replayed against Paddock; and a
//! property test of Paddock's path validation against a port of
//! `PathUtils.validatePath`, written here apart from the production code.
mod common;

use common::{Client, TestServer};
use proptest::prelude::*;

const GOLDEN: &str = include_str!("fixtures/zk38-paths/golden.tsv");

fn buffer(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn int(out: &mut Vec<u8>, n: i32) {
    out.extend_from_slice(&n.to_be_bytes());
}

fn open_acl(out: &mut Vec<u8>) {
    int(out, 1);
    int(out, 31);
    buffer(out, b"world");
    buffer(out, b"anyone");
}

fn create_body(path: &[u8], flags: i32) -> Vec<u8> {
    let mut b = Vec::new();
    buffer(&mut b, path);
    buffer(&mut b, b"");
    open_acl(&mut b);
    int(&mut b, flags);
    b
}

fn with(path: &[u8], suffix: &[u8]) -> Vec<u8> {
    [path, suffix].concat()
}

fn multi_body(op: i32, body: Vec<u8>) -> Vec<u8> {
    let mut b = Vec::new();
    int(&mut b, op);
    b.push(0);
    int(&mut b, -1);
    b.extend(body);
    int(&mut b, -1);
    b.push(1);
    int(&mut b, -1);
    b
}

/// The opcode and body capture.py sends for `op` on `path`.
fn request(op: &str, path: &[u8]) -> (i32, Vec<u8>) {
    let path_watch = || {
        let mut b = Vec::new();
        buffer(&mut b, path);
        b.push(0);
        b
    };
    let path_version = |p: &[u8]| {
        let mut b = Vec::new();
        buffer(&mut b, p);
        int(&mut b, -1);
        b
    };
    match op {
        "exists" => (3, path_watch()),
        "getData" => (4, path_watch()),
        "getChildren2" => (12, path_watch()),
        "create" => (1, create_body(path, 0)),
        "createSeq" => (1, create_body(path, 2)),
        "create2Seq" => (15, create_body(path, 2)),
        "createContainer" => (19, create_body(&with(path, b"c"), 4)),
        "setData" => {
            let mut b = Vec::new();
            buffer(&mut b, path);
            buffer(&mut b, b"d");
            int(&mut b, -1);
            (5, b)
        }
        "getACL" => {
            let mut b = Vec::new();
            buffer(&mut b, path);
            (6, b)
        }
        "setACL" => {
            let mut b = Vec::new();
            buffer(&mut b, path);
            open_acl(&mut b);
            int(&mut b, -1);
            (7, b)
        }
        "multiCheck" => (14, multi_body(13, path_version(path))),
        "multiCreate" => (14, multi_body(1, create_body(&with(path, b"m"), 0))),
        "setWatches" => {
            let mut b = Vec::new();
            b.extend_from_slice(&0i64.to_be_bytes());
            for _ in 0..3 {
                int(&mut b, 1);
                buffer(&mut b, path);
            }
            (101, b)
        }
        "deleteM" => (2, path_version(&with(path, b"m"))),
        "deleteC" => (2, path_version(&with(path, b"c"))),
        "delete" => (2, path_version(path)),
        other => panic!("unknown op {other}"),
    }
}

/// (err, created name) as capture.py reads them from a reply.
fn verdict(op: &str, err: i32, body: &[u8]) -> (i32, Vec<u8>) {
    let (err, body) = if op.starts_with("multi") && err == 0 {
        let ty = i32::from_be_bytes(body[..4].try_into().unwrap());
        let op_err = i32::from_be_bytes(body[5..9].try_into().unwrap());
        (if ty == -1 { op_err } else { 0 }, &body[9..])
    } else {
        (err, body)
    };
    let creates = [
        "create",
        "createSeq",
        "create2Seq",
        "createContainer",
        "multiCreate",
    ];
    if err != 0 || !creates.contains(&op) {
        return (err, Vec::new());
    }
    let n = i32::from_be_bytes(body[..4].try_into().unwrap()) as usize;
    (err, body[4..4 + n].to_vec())
}

#[test]
fn paths_get_zookeeper_38s_answers() {
    let server = TestServer::start();
    let mut c = Client::connect(server.addr);
    let mut xid = 1;
    let frame = |xid: i32, op: i32, body: &[u8]| {
        let mut f = Vec::new();
        int(&mut f, 8 + body.len() as i32);
        int(&mut f, xid);
        int(&mut f, op);
        f.extend_from_slice(body);
        f
    };
    c.send_raw(frame(xid, 1, &create_body(b"/p", 0)));
    assert_eq!(c.recv().header.err, 0);
    let mut differences = Vec::new();
    let mut checked = 0;
    for line in GOLDEN.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (op, path) = (fields[0], common::unhex(fields[1]));
        let want = (fields[2].parse::<i32>().unwrap(), common::unhex(fields[3]));
        let (code, body) = request(op, &path);
        xid += 1;
        c.send_raw(frame(xid, code, &body));
        let reply = loop {
            let r = c.recv();
            if r.header.xid != -1 {
                break r;
            }
        };
        assert_eq!(reply.header.xid, xid);
        let got = verdict(op, reply.header.err, &reply.body);
        if got != want {
            differences.push(format!(
                "{op} {:?}: ZooKeeper {want:?}, Paddock {got:?}",
                String::from_utf8_lossy(&path)
            ));
        }
        checked += 1;
    }
    assert!(checked > 700, "the table has {checked} rows");
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}

/// `PathUtils.validatePath` of ZooKeeper 3.8, ported line by line over the
/// UTF-16 code units of the Java string (its branches kept as they are
/// there, so the port can be read against the original).
#[allow(
    clippy::if_same_then_else,
    clippy::collapsible_if,
    clippy::needless_range_loop
)]
fn zookeeper_validate_path(chars: &[u16]) -> bool {
    if chars.is_empty() || chars[0] != u16::from(b'/') {
        return false;
    }
    if chars.len() == 1 {
        return true;
    }
    if chars[chars.len() - 1] == u16::from(b'/') {
        return false;
    }
    let (slash, dot) = (u16::from(b'/'), u16::from(b'.'));
    let mut lastc = slash;
    for i in 1..chars.len() {
        let c = chars[i];
        let at_end_or_slash = i + 1 == chars.len() || chars[i + 1] == slash;
        if c == 0 {
            return false;
        } else if c == slash && lastc == slash {
            return false;
        } else if c == dot && lastc == dot {
            if chars[i - 2] == slash && at_end_or_slash {
                return false;
            }
        } else if c == dot {
            if chars[i - 1] == slash && at_end_or_slash {
                return false;
            }
        } else if (c > 0 && c <= 0x1f)
            || (0x7f..=0x9f).contains(&c)
            || (0xd800..=0xf8ff).contains(&c)
            || c >= 0xfff0
        {
            return false;
        }
        lastc = c;
    }
    true
}

/// What ZooKeeper decides for a path sent as `bytes`: Java decodes them
/// with replacement (U+FFFD, itself a refused character), so any bytes that
/// are not UTF-8 make an invalid path.
fn zookeeper_verdict(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(s) => zookeeper_validate_path(&s.encode_utf16().collect::<Vec<u16>>()),
        Err(_) => false,
    }
}

/// Paddock's verdict: the path as its jute reader decodes it, then validated.
fn paddock_verdict(bytes: &[u8]) -> bool {
    let mut ustring = (bytes.len() as i32).to_be_bytes().to_vec();
    ustring.extend_from_slice(bytes);
    let path: String = paddock::jute::decode_exact(&ustring).expect("any bytes decode");
    paddock::tree::path::is_valid(&path)
}

/// Path-like strings: slashes, dots and characters from every range the rule
/// distinguishes, including supplementary planes.
fn pathish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("/".to_owned()),
        Just(".".to_owned()),
        Just("..".to_owned()),
        "[a-z]{1,3}",
        any::<char>().prop_map(String::from),
        (0u32..0x100).prop_filter_map("a char", |c| char::from_u32(c).map(String::from)),
        (0xd000u32..0x10000).prop_filter_map("a char", |c| char::from_u32(c).map(String::from)),
    ];
    proptest::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

/// Byte strings: mostly path-like UTF-8, with arbitrary bytes mixed in.
fn pathish_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        pathish().prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..4),
    ];
    proptest::collection::vec(piece, 0..4).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn unicode_paths_are_judged_as_zookeeper_judges_them(path in pathish()) {
        prop_assert_eq!(paddock_verdict(path.as_bytes()), zookeeper_verdict(path.as_bytes()), "{:?}", path);
    }

    #[test]
    fn byte_paths_are_judged_as_zookeeper_judges_them(bytes in pathish_bytes()) {
        prop_assert_eq!(paddock_verdict(&bytes), zookeeper_verdict(&bytes), "{:?}", bytes);
    }
}
