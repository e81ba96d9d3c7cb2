//! A real `paddock server` process on awkward data directories: missing,
//! read-only, a flipped byte in the newest snapshot, garbage after the last
//! log record (a torn tail), and a flipped byte in the middle of the log.

mod durability_proc;

use durability_proc::{free_port, write_config, Conn, Server};
use paddock::storage::{log_dir, read_log_file, snap_dir, snapshot_files};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod common;
use common::TempDir;

/// How long a server that must refuse to start may take to exit.
const EXIT_TIMEOUT: Duration = Duration::from_secs(20);

struct Setup {
    dir: TempDir,
    data_dir: PathBuf,
    cfg: PathBuf,
    port: u16,
}

impl Setup {
    fn new(tag: &str, data_dir_name: &str, extra: &str) -> Setup {
        let dir = TempDir::new(tag);
        let data_dir = dir.0.join(data_dir_name);
        let port = free_port();
        let cfg = write_config(&dir.0, &data_dir, port, extra);
        Setup {
            dir,
            data_dir,
            cfg,
            port,
        }
    }

    fn log(&self) -> PathBuf {
        self.dir.0.join("server.log")
    }

    fn start(&self) -> (Server, Conn) {
        let mut server = Server::spawn(&self.cfg, self.port, &self.log());
        let conn = server.wait_ready().unwrap_or_else(|| {
            panic!(
                "server did not start:\n{}",
                std::fs::read_to_string(self.log()).unwrap_or_default()
            )
        });
        (server, conn)
    }

    /// Starts a server that must exit by itself with a failure; its log.
    fn start_refused(&self) -> String {
        let mut server = Server::spawn(&self.cfg, self.port, &self.log());
        let status = server.wait_exit(EXIT_TIMEOUT).expect("the server exits");
        assert!(!status.success());
        std::fs::read_to_string(self.log()).unwrap()
    }
}

/// Creates /n1../n`count` (one acknowledged multi each).
fn write_nodes(conn: &mut Conn, count: u64) {
    for i in 1..=count {
        let xid = conn
            .send_multi_create(&[format!("/n{i}")], &i.to_be_bytes())
            .unwrap();
        let (got, err, _) = conn.recv().unwrap();
        assert_eq!((got, err), (xid, 0), "create /n{i}");
    }
}

fn assert_nodes(conn: &mut Conn, count: u64) {
    for i in 1..=count {
        let data = conn.data(&format!("/n{i}")).unwrap();
        assert_eq!(data, Ok(Some(i.to_be_bytes().to_vec())), "/n{i}");
    }
}

#[test]
fn missing_data_dir_is_created_as_zookeeper_does() {
    let setup = Setup::new("dirs-missing", "not/yet/there", "");
    let (mut server, mut conn) = setup.start();
    write_nodes(&mut conn, 3);
    server.kill9();
    let (_server, mut conn) = setup.start();
    assert_nodes(&mut conn, 3);
}

#[test]
fn read_only_data_dir_stops_the_server_with_the_path_in_the_error() {
    let setup = Setup::new("dirs-ro", "ro", "");
    std::fs::create_dir(&setup.data_dir).unwrap();
    // root ignores permission bits: a read-only mount is the only way to
    // refuse writes to it; other users get the permission bits.
    let mounted = is_root() && mount_read_only(&setup.data_dir);
    if !mounted {
        set_mode(&setup.data_dir, 0o555);
    }
    let log = setup.start_refused();
    if mounted {
        let _ = std::process::Command::new("umount")
            .arg(&setup.data_dir)
            .status();
    } else {
        set_mode(&setup.data_dir, 0o755);
    }
    let path = setup.data_dir.join("paddock").display().to_string();
    assert!(log.contains(&path), "{log}");
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn mount_read_only(dir: &Path) -> bool {
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success())
}

fn set_mode(dir: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn flip_byte(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x40;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn flipped_byte_in_the_newest_snapshot_falls_back_to_an_older_one() {
    let setup = Setup::new("dirs-snap", "data", "snapCount=20");
    let (mut server, mut conn) = setup.start();
    write_nodes(&mut conn, 120);
    server.kill9();
    let snapshots = snapshot_files(&snap_dir(&setup.data_dir)).unwrap();
    assert!(snapshots.len() >= 2, "{snapshots:?}");
    let (_, newest) = &snapshots[0];
    let len = std::fs::metadata(newest).unwrap().len();
    flip_byte(newest, len / 2);
    let (_server, mut conn) = setup.start();
    assert_nodes(&mut conn, 120);
}

#[test]
fn txns_replayed_at_start_count_towards_the_next_snapshot() {
    let mut setup = Setup::new("dirs-replay", "data", "snapCount=100000");
    let (mut server, mut conn) = setup.start();
    write_nodes(&mut conn, 60);
    server.kill9();
    let newest = || {
        let files = snapshot_files(&snap_dir(&setup.data_dir)).unwrap();
        files.first().map_or(-1, |f| f.0)
    };
    // The session and the 60 creates are zxids 1..=61.
    assert!(newest() < 61, "no snapshot yet holds them all");
    // With snapCount 20 a snapshot falls due after 11-20 txns. The 60 the
    // restart replays count as 10, so the session and 9 creates make it due.
    setup.cfg = write_config(&setup.dir.0, &setup.data_dir, setup.port, "snapCount=20");
    let (_server, mut conn) = setup.start();
    assert_nodes(&mut conn, 60);
    for i in 0..9 {
        let xid = conn
            .send_multi_create(&[format!("/after{i}")], b"x")
            .unwrap();
        assert_eq!(conn.recv().unwrap().0, xid);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while newest() < 61 {
        assert!(
            std::time::Instant::now() < deadline,
            "no snapshot after the restart"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The newest log file and the end offset of its last record.
fn last_log(data_dir: &Path) -> (PathBuf, u64, Vec<u64>) {
    let mut logs: Vec<(u64, PathBuf)> = std::fs::read_dir(log_dir(data_dir))
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name()?.to_str()?;
            let zxid = u64::from_str_radix(name.strip_prefix("log.")?, 16).ok()?;
            Some((zxid, path))
        })
        .collect();
    logs.sort();
    let (_, path) = logs.pop().unwrap();
    let listing = read_log_file(&path).unwrap();
    let last = listing.entries.last().unwrap();
    let end = last.offset + 16 + last.body.len() as u64;
    let offsets = listing.entries.iter().map(|e| e.offset).collect();
    (path, end, offsets)
}

#[test]
fn garbage_after_the_last_log_record_is_cut_as_a_torn_tail() {
    let setup = Setup::new("dirs-torn", "data", "");
    let (mut server, mut conn) = setup.start();
    write_nodes(&mut conn, 30);
    server.kill9();
    let (path, end, _) = last_log(&setup.data_dir);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[end as usize..end as usize + 11].copy_from_slice(b"torn write!");
    std::fs::write(&path, bytes).unwrap();
    let (_server, mut conn) = setup.start();
    assert_nodes(&mut conn, 30);
    let log = std::fs::read_to_string(setup.log()).unwrap();
    assert!(log.contains(&path.display().to_string()), "{log}");
}

#[test]
fn flipped_byte_in_an_acknowledged_log_record_refuses_to_start() {
    let setup = Setup::new("dirs-corrupt", "data", "");
    let (mut server, mut conn) = setup.start();
    write_nodes(&mut conn, 30);
    server.kill9();
    let (path, _, offsets) = last_log(&setup.data_dir);
    let middle = offsets[offsets.len() / 2];
    flip_byte(&path, middle + 20);
    let log = setup.start_refused();
    let want = format!("{} is corrupt at offset {middle}", path.display());
    assert!(log.contains(&want), "{log}");
}
