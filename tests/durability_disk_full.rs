//! Disk full: a `paddock server` whose dataDir is a 4 MiB tmpfs (this test
//! mounts it; it needs root and says so when it is skipped) takes writes of
//! 1,000 bytes until the disk is full. Whatever the server does then (today:
//! it stops, as Apache ZooKeeper 3.8 does — its log thread fails and the
//! process exits), no acknowledged write may be lost, and once space is
//! freed (the tmpfs grown) a server on the same dataDir serves every
//! acknowledged write and takes new ones.

mod durability_proc;

use durability_proc::{free_port, write_config, Conn, Server};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

mod common;
use common::TempDir;

/// Writes beyond what 4 MiB can hold, so the loop always ends in a failure.
const WRITES_MAX: u64 = 20_000;
const NODE_BYTES: usize = 1000;

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }

    fn grow(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap();
        assert!(status.success(), "remount {size}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Creates /n0, /n1, ... until a write fails; returns how many were acknowledged.
fn fill(conn: &mut Conn) -> u64 {
    let data = vec![b'x'; NODE_BYTES];
    for i in 0..WRITES_MAX {
        let acked = conn
            .send_multi_create(&[format!("/n{i}")], &data)
            .and_then(|_| conn.recv());
        match acked {
            Ok((_, 0, _)) => {}
            Ok(_) | Err(_) => return i,
        }
    }
    panic!("{WRITES_MAX} writes of {NODE_BYTES} bytes fit in 4 MiB");
}

#[test]
fn full_disk_loses_no_acknowledged_write_and_writing_resumes_once_space_is_freed() {
    let dir = TempDir::new("disk-full");
    let data_dir = dir.0.join("data");
    let Some(tmpfs) = Tmpfs::mount(&data_dir, "4m") else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let port = free_port();
    let cfg = write_config(&dir.0, &data_dir, port, "preAllocSize=64");
    let log = dir.0.join("server.log");
    let mut server = Server::spawn(&cfg, port, &log);
    let mut conn = server.wait_ready().expect("server starts on the tmpfs");
    let acked = fill(&mut conn);
    assert!(acked > 0, "no write fitted");
    if server.wait_exit(Duration::from_secs(5)).is_none() {
        // Still running: reads must keep working.
        let mut reader = Conn::open(server.addr).expect("reads while the disk is full");
        assert!(reader.data("/n0").unwrap().is_ok());
    }
    server.kill9();
    tmpfs.grow("64m");
    let mut server = Server::spawn(&cfg, port, &log);
    let mut conn = server
        .wait_ready()
        .expect("server restarts once space is freed");
    for i in 0..acked {
        let data = conn.data(&format!("/n{i}")).unwrap();
        assert_eq!(
            data.map(|d| d.map(|d| d.len())),
            Ok(Some(NODE_BYTES)),
            "/n{i}"
        );
    }
    let xid = conn
        .send_multi_create(&["/after".to_string()], b"ok")
        .unwrap();
    let (got, err, _) = conn.recv().unwrap();
    assert_eq!((got, err), (xid, 0), "a write after space was freed");
    assert_eq!(conn.data("/after").unwrap(), Ok(Some(b"ok".to_vec())));
    eprintln!("{acked} writes acknowledged before the disk filled, all kept");
    server.kill9();
}
