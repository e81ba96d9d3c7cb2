//! TxnDigest across a 3-member ensemble of `paddock server` processes: the
//! leader's proposals carry the digest, followers compare it as they apply
//! (live, and the txns a DIFF re-sends to a restarted member), and no member
//! counts a mismatch.
mod durability_proc;

use durability_proc::{free_port, write_config, Conn, Server};
use paddock::jute::records::{CreateRequest, SetDataRequest};
use paddock::proto::OpCode;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;
use common::{open_acl, TempDir};

/// How long the ensemble may take to elect and sync.
const FORM_TIMEOUT: Duration = Duration::from_secs(60);

struct Member {
    cfg: PathBuf,
    log: PathBuf,
    port: u16,
}

fn members(dir: &Path) -> Vec<Member> {
    let ports: Vec<[u16; 3]> = (0..3)
        .map(|_| [free_port(), free_port(), free_port()])
        .collect();
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("server.{}=127.0.0.1:{}:{}\n", i + 1, p[1], p[2]))
        .collect();
    (0..3)
        .map(|i| {
            let home = dir.join(format!("m{}", i + 1));
            let data = home.join("data");
            std::fs::create_dir_all(&data).unwrap();
            std::fs::write(data.join("myid"), format!("{}\n", i + 1)).unwrap();
            let extra = format!("initLimit=10\nsyncLimit=5\n4lw.commands.whitelist=*\n{servers}");
            Member {
                cfg: write_config(&home, &data, ports[i][0], &extra),
                log: home.join("server.log"),
                port: ports[i][0],
            }
        })
        .collect()
}

fn start(m: &Member) -> Server {
    Server::spawn(&m.cfg, m.port, &m.log)
}

/// A session on `server` once the member serves (it has a leader and a quorum).
fn session(server: &mut Server, m: &Member) -> Conn {
    let deadline = Instant::now() + FORM_TIMEOUT;
    loop {
        if let Some(c) = server.wait_ready() {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "member did not serve:\n{}",
            std::fs::read_to_string(&m.log).unwrap_or_default()
        );
    }
}

fn mntr_value(m: &Member, key: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", m.port)).unwrap();
    s.write_all(b"mntr").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('\t').map(str::to_owned))
        .unwrap_or_else(|| panic!("no {key} in mntr:\n{out}"))
}

fn create(c: &mut Conn, path: &str, flags: i32) {
    let req = CreateRequest {
        path: path.into(),
        data: Some(path.as_bytes().to_vec()),
        acl: open_acl(),
        flags,
    };
    assert_eq!(c.call(OpCode::Create, &req).unwrap().0, 0, "create {path}");
}

fn writes(c: &mut Conn, tag: &str) {
    create(c, &format!("/{tag}"), 0);
    for i in 0..30 {
        create(c, &format!("/{tag}/s-"), 2);
        create(c, &format!("/{tag}/e{i}"), 1);
        let set = SetDataRequest {
            path: format!("/{tag}"),
            data: Some(vec![i as u8; i]),
            version: -1,
        };
        assert_eq!(c.call(OpCode::SetData, &set).unwrap().0, 0);
    }
}

#[test]
fn every_member_applies_the_leaders_digests_without_a_mismatch() {
    let dir = TempDir::new("ens-digest");
    let ms = members(&dir.0);
    let mut servers: Vec<Server> = ms.iter().map(start).collect();
    let mut conns: Vec<Conn> = servers
        .iter_mut()
        .zip(&ms)
        .map(|(s, m)| session(s, m))
        .collect();
    // Writes through every member: followers forward, everyone applies.
    for (i, c) in conns.iter_mut().enumerate() {
        writes(c, &format!("w{i}"));
    }
    // A follower misses some txns, then a DIFF re-sends them from the log.
    let f = (0..3)
        .find(|&i| mntr_value(&ms[i], "zk_server_state") == "follower")
        .expect("a follower");
    let other = (0..3).find(|&i| i != f).unwrap();
    servers[f].kill9();
    writes(&mut conns[other], "missed");
    servers[f] = start(&ms[f]);
    conns[f] = session(&mut servers[f], &ms[f]);
    // A write through a member is answered once it has applied everything before it.
    writes(&mut conns[f], "after");
    let log = std::fs::read_to_string(&ms[f].log).unwrap();
    let diffs = log
        .lines()
        .filter(|l| l.contains("syncing with the leader") && l.contains("Diff"))
        .count();
    assert!(diffs >= 2, "the restarted follower synced by DIFF:\n{log}");
    writes(&mut conns[other], "last");
    for (i, c) in conns.iter_mut().enumerate() {
        create(c, &format!("/fence{i}"), 0);
    }
    for m in &ms {
        assert_eq!(
            mntr_value(m, "zk_digest_mismatches_count"),
            "0",
            "{}",
            std::fs::read_to_string(&m.log).unwrap_or_default()
        );
        let log = std::fs::read_to_string(&m.log).unwrap_or_default();
        assert!(!log.contains("Digest mismatch"), "{log}");
    }
}
