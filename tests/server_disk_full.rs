//! A full disk (a small tmpfs the test mounts): writes fail with an error,
//! reads keep working, nothing acknowledged is lost, and writing resumes once
//! space is freed. Needs root to mount (the project's machines and CI run as root).
mod common;

use common::*;
use paddock::jute::records::*;
use paddock::proto::ErrorCode;
use std::process::Command;

struct Tmpfs(TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = TempDir::new("tmpfs");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir.0)
            .status()
            .expect("run mount");
        assert!(
            status.success(),
            "mounting a tmpfs needs root: this test is part of the suite and must run as root"
        );
        Tmpfs(dir)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0 .0).status();
    }
}

const CREATE: i32 = 1;

#[test]
fn a_full_disk_fails_writes_keeps_reads_and_recovers_when_space_is_freed() {
    let fs = Tmpfs::mount("3m");
    let filler = fs.0 .0.join("filler");
    std::fs::write(&filler, vec![0u8; 1 << 20]).unwrap();
    let data = fs.0 .0.join("data");
    let data_for_server = data.clone();
    let server = TestServer::start_with(move |s| {
        s.data_dir = data_for_server.clone();
        s.data_log_dir = data_for_server;
        s.pre_alloc_size_kb = 256;
    });
    let mut c = Client::connect(server.addr);
    let mut acked = Vec::new();
    let mut refused = None;
    for i in 0..1000 {
        let path = format!("/n{i}");
        let (_, r) = c.call(CREATE, &create_req(&path, &[7u8; 20_000], 0));
        if r.header.err != 0 {
            refused = Some(r.header.err);
            break;
        }
        acked.push(path);
    }
    assert_eq!(
        refused,
        Some(ErrorCode::SystemError.code()),
        "a write fails with an error once the disk is full"
    );
    assert!(acked.len() > 10);
    let (_, r) = c.call(
        8,
        &GetChildrenRequest {
            path: "/".into(),
            watch: false,
        },
    );
    assert_eq!(
        r.decode::<GetChildrenResponse>().children.len(),
        acked.len() + 1,
        "reads keep working"
    );
    std::fs::remove_file(&filler).unwrap();
    let (_, r) = c.call(CREATE, &create_req("/after", b"", 0));
    assert_eq!(r.header.err, 0, "writing resumes once space is freed");
    drop(c);
    drop(server);
    let recovered = paddock::storage::recover(&data, &data, false).unwrap();
    for path in acked.iter().chain(std::iter::once(&"/after".to_string())) {
        assert!(
            recovered.tree.get(path).is_some(),
            "{path} was acknowledged and must survive"
        );
    }
}
