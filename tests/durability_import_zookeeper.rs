//! End to end: Apache ZooKeeper 3.8 (Debian's jar) builds a varied tree
//! under a kazoo workload (sequential nodes, deletes so cversion ≠
//! numChildren, null data, digest/auth/read-only ACLs, setACL, a multi,
//! ephemerals of a session still open when ZooKeeper stops), is stopped
//! with SIGTERM, `paddock import` converts its dataDir, then ZooKeeper
//! (restarted on its untouched dir) and `paddock server` (on the imported
//! one) are walked with kazoo and every node's data, Stat and ACL must be
//! identical.
//!
//! Needs java, /usr/share/java/zookeeper.jar and /usr/bin/python3 with
//! kazoo (scripts/install-test-deps); fails saying what is missing.

mod durability_proc;

use durability_proc::{free_port, write_config, Server};
use paddock::cli::{run_import, ImportArgs};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::TempDir;

const ZK_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/*";
const PYTHON: &str = "/usr/bin/python3";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The workload: leaves the "live" session open by exiting without closing it.
const WORKLOAD: &str = r#"
import os, socket, struct, sys
from kazoo.client import KazooClient
from kazoo.security import make_digest_acl, ACL, Id
hosts = sys.argv[1]
zk = KazooClient(hosts=hosts, timeout=30)
zk.start(timeout=30)
zk.add_auth("digest", "user:pw")
zk.create("/app", b"application v1")
for i in range(6):
    zk.create("/app/seq-", b"s%d" % i, sequence=True)
zk.delete("/app/seq-0000000001")
zk.delete("/app/seq-0000000004")
zk.set("/app", b"application v2")
zk.set("/app", b"application v3")
zk.create("/secure", b"secret", acl=[make_digest_acl("user", "pw", all=True)])
zk.create("/authed", b"by auth", acl=[ACL(31, Id("auth", ""))])
zk.create("/ro", b"read only", acl=[ACL(1, Id("world", "anyone"))])
zk.create("/acl", b"a")
zk.set_acls("/acl", [ACL(3, Id("world", "anyone"))])
zk.create("/deep/a/b/c/d", b"deep", makepath=True)
zk.create("/gone/x", b"x", makepath=True)
zk.delete("/gone", recursive=True)
zk.create("/empty", b"")
zk.create("/big", bytes(range(256)) * 4)
tx = zk.transaction()
tx.create("/multi", b"m")
tx.create("/multi/one", b"1")
tx.set_data("/app", b"application v4")
assert not any(isinstance(r, Exception) for r in tx.commit())
closed = KazooClient(hosts=hosts, timeout=30)
closed.start(timeout=30)
closed.create("/app/closed-eph", b"bye", ephemeral=True)
closed.stop()
# A null-data node: kazoo always sends bytes, so speak the protocol.
host, port = hosts.split(":")
s = socket.create_connection((host, int(port)))
def frame(b): return struct.pack(">i", len(b)) + b
def read(s):
    n = struct.unpack(">i", s.recv(4, socket.MSG_WAITALL))[0]
    return s.recv(n, socket.MSG_WAITALL)
s.sendall(frame(struct.pack(">iqiqi", 0, 0, 30000, 0, 16) + b"\0" * 16 + b"\0"))
read(s)
path = b"/null"
acl = struct.pack(">ii", 1, 31) + struct.pack(">i", 5) + b"world" + struct.pack(">i", 6) + b"anyone"
s.sendall(frame(struct.pack(">ii", 1, 1) + struct.pack(">i", len(path)) + path + struct.pack(">i", -1) + acl + struct.pack(">i", 0)))
assert struct.unpack(">iqi", read(s)[:16])[2] == 0
s.sendall(frame(struct.pack(">ii", 2, -11)))
read(s)
zk.stop()
live = KazooClient(hosts=hosts, timeout=30)
live.start(timeout=30)
live.create("/live", b"parent")
live.create("/live/eph", b"ephemeral", ephemeral=True)
live.create("/live/eseq-", b"", ephemeral=True, sequence=True)
live.sync("/")
print("workload done", flush=True)
os._exit(0)
"#;

/// Prints one line per node, depth first with sorted children.
const WALK: &str = r#"
import sys
from kazoo.client import KazooClient
zk = KazooClient(hosts=sys.argv[1], timeout=30)
zk.start(timeout=30)
zk.add_auth("digest", "user:pw")
def walk(path):
    data, stat = zk.get(path)
    acls, _ = zk.get_acls(path)
    acl = sorted("%d:%s:%s" % (a.perms, a.id.scheme, a.id.id) for a in acls)
    print(path, None if data is None else data.hex(), tuple(stat), acl)
    for child in sorted(zk.get_children(path)):
        walk(path.rstrip("/") + "/" + child)
walk("/")
zk.stop()
"#;

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_zookeeper(dir: &Path, cfg: &Path) -> Proc {
    assert!(
        Path::new("/usr/share/java/zookeeper.jar").exists(),
        "Debian's zookeeper package is needed (scripts/install-test-deps)"
    );
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("zookeeper.log"))
        .unwrap();
    let child = Command::new("java")
        .args(["-Xmx512m", "-cp", ZK_CLASSPATH])
        .arg(format!("-Dzookeeper.log.dir={}", dir.display()))
        .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
        .arg(cfg)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("java is needed to run Apache ZooKeeper");
    Proc(child)
}

fn wait_port(port: u16) {
    let deadline = Instant::now() + START_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "port {port} never opened");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn python(dir: &Path, name: &str, script: &str, port: u16) -> String {
    let file = dir.join(name);
    std::fs::write(&file, script).unwrap();
    let out = Command::new(PYTHON)
        .arg(&file)
        .arg(format!("127.0.0.1:{port}"))
        .output()
        .expect("/usr/bin/python3 with kazoo is needed");
    assert!(
        out.status.success(),
        "{name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn stop_zookeeper(mut zk: Proc) {
    let pid = zk.0.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let deadline = Instant::now() + START_TIMEOUT;
    while zk.0.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "ZooKeeper did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn zookeeper_config(dir: &Path, data: &Path, port: u16) -> PathBuf {
    let cfg = dir.join("zk.cfg");
    let text = format!(
        "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n",
        data.display()
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

#[test]
fn imported_zookeeper_dir_serves_the_same_nodes_stats_and_acls() {
    let dir = TempDir::new("import-zk");
    let zk_data = dir.0.join("zk-data");
    let zk_port = free_port();
    let zk_cfg = zookeeper_config(&dir.0, &zk_data, zk_port);
    let zk = start_zookeeper(&dir.0, &zk_cfg);
    wait_port(zk_port);
    python(&dir.0, "workload.py", WORKLOAD, zk_port);
    stop_zookeeper(zk);

    let paddock_data = dir.0.join("paddock-data");
    run_import(ImportArgs {
        from: zk_data.clone(),
        from_log: None,
        to: None,
        data_dir: Some(paddock_data.clone()),
        data_log_dir: None,
    })
    .unwrap();

    let _zk = start_zookeeper(&dir.0, &zk_cfg);
    let paddock_port = free_port();
    let paddock_cfg = write_config(&dir.0, &paddock_data, paddock_port, "");
    let mut paddock = Server::spawn(&paddock_cfg, paddock_port, &dir.0.join("paddock.log"));
    wait_port(zk_port);
    paddock
        .wait_ready()
        .expect("paddock serves the imported dir");
    let want = python(&dir.0, "walk.py", WALK, zk_port);
    let got = python(&dir.0, "walk.py", WALK, paddock_port);
    for expected in [
        "/live/eph ",
        "/null None ",
        "digest:user:",
        "/app/seq-0000000005 ",
    ] {
        assert!(
            want.contains(expected),
            "ZooKeeper's walk lacks {expected}:\n{want}"
        );
    }
    assert!(!want.contains("/app/closed-eph"), "{want}");
    assert_eq!(got, want, "Paddock (left) differs from ZooKeeper (right)");
}
