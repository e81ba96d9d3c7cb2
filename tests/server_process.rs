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

/// Starts `paddock server` on `body` (a zoo.cfg without dataDir) and returns
/// its stderr once it exits; panics if it starts serving instead.
fn refused_start(dir: &TempDir, body: &str) -> String {
    let cfg = write_cfg(
        dir,
        &format!(
            "dataDir={}\nclientPort={}\n{body}",
            dir.0.display(),
            free_port()
        ),
    );
    let out = spawn(&cfg).wait_with_output().unwrap();
    assert!(!out.status.success(), "started with {body:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Issue #19: a setting that decides who may connect, join or authenticate,
/// and that Paddock does not implement, stops the server at start with the
/// key and its line (line 3: after dataDir and clientPort).
#[test]
fn an_unimplemented_security_setting_stops_the_server_naming_key_and_line() {
    let dir = TempDir::new("security");
    for (line, key) in [
        ("quorum.auth.enableSasl=true", "quorum.auth.enableSasl"),
        (
            "quorum.auth.serverRequireSasl=true",
            "quorum.auth.serverRequireSasl",
        ),
        (
            "quorum.auth.learnerRequireSasl=true",
            "quorum.auth.learnerRequireSasl",
        ),
        ("sslQuorum=true", "sslQuorum"),
        ("portUnification=true", "portUnification"),
        ("secureClientPort=2281", "secureClientPort"),
        (
            "ssl.keyStore.location=/k.jks",
            "zookeeper.ssl.keyStore.location",
        ),
        (
            "client.portUnification=true",
            "zookeeper.client.portUnification",
        ),
        (
            "enforce.auth.enabled=true",
            "zookeeper.enforce.auth.enabled",
        ),
        (
            "sessionRequireClientSASLAuth=true",
            "zookeeper.sessionRequireClientSASLAuth",
        ),
        (
            "authProvider.1=com.example.MyProvider",
            "zookeeper.authProvider.1",
        ),
        (
            "DigestAuthenticationProvider.digestAlg=SHA-256",
            "zookeeper.DigestAuthenticationProvider.digestAlg",
        ),
        ("admin.forceHttps=true", "zookeeper.admin.forceHttps"),
        (
            "admin.needClientAuth=true",
            "zookeeper.admin.needClientAuth",
        ),
    ] {
        let log = refused_start(&dir, &format!("{line}\n"));
        assert!(
            log.contains(key) && log.contains(":3:") && log.contains("refused"),
            "{line}: the log names key and line: {log}"
        );
    }
}

/// A JAAS server section with a login module other than DigestLoginModule
/// (here Kerberos) is refused, naming the module and its line, instead of
/// being read as an empty DIGEST-MD5 user list.
#[test]
fn a_jaas_server_section_with_kerberos_stops_the_server() {
    let dir = TempDir::new("jaas");
    let jaas = dir.0.join("server.jaas");
    std::fs::write(
        &jaas,
        "Server {\n  com.sun.security.auth.module.Krb5LoginModule required\n  useKeyTab=true\n  \
         keyTab=\"/etc/zk.keytab\"\n  principal=\"zookeeper/host@EXAMPLE.COM\";\n};\n",
    )
    .unwrap();
    let log = refused_start(
        &dir,
        &format!("java.security.auth.login.config={}\n", jaas.display()),
    );
    assert!(
        log.contains("Krb5LoginModule") && log.contains("line 2") && log.contains("refused"),
        "the log names the module and its line: {log}"
    );
}
