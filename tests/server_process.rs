//! The `paddock server` process: starts on a zoo.cfg, refuses a bad one with the
//! key and line, and stops cleanly on SIGTERM and SIGINT.
mod common;

use common::ports::free_port;
use common::TempDir;
use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn write_cfg(dir: &TempDir, body: &str) -> std::path::PathBuf {
    let path = dir.0.join("zoo.cfg");
    std::fs::write(&path, body).unwrap();
    path
}

fn spawn(cfg: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_paddock"))
        .arg("server")
        .arg(cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_until_serving(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            std::io::Write::write_all(&mut s, b"ruok").unwrap();
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer == "imok" {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not start serving on port {port}");
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("server did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn stops_cleanly_on(signal: &str) {
    let dir = TempDir::new("proc");
    let port = free_port();
    let cfg = write_cfg(
        &dir,
        &format!("tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n", dir.0.display()),
    );
    let mut child = spawn(&cfg);
    wait_until_serving(port);
    let killed = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_exit(&mut child);
    assert!(
        status.success(),
        "exit status after SIG{signal}: {status:?}"
    );
}

#[test]
fn the_server_stops_cleanly_on_sigterm() {
    stops_cleanly_on("TERM");
}

#[test]
fn the_server_stops_cleanly_on_sigint() {
    stops_cleanly_on("INT");
}

#[test]
fn a_bad_config_value_names_the_key_and_line_and_the_server_does_not_start() {
    let dir = TempDir::new("badcfg");
    let cfg = write_cfg(
        &dir,
        &format!(
            "dataDir={}\nclientPort=2181\n# comment\ntickTime=soon\n",
            dir.0.display()
        ),
    );
    let child = spawn(&cfg);
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("tickTime") && log.contains(":4:"),
        "log names key and line: {log}"
    );
}
