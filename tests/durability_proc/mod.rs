//! A `paddock server` child process on a temporary dataDir and a free
//! 127.0.0.1 port, plus a small non-panicking client for tests that kill it.
#![allow(dead_code)]

use paddock::jute::records::{
    Acl, CreateRequest, GetChildrenRequest, GetChildrenResponse, GetDataRequest, Id, MultiHeader,
    ReplyHeader,
};
use paddock::jute::Record;
use paddock::proto::reply::frame;
use paddock::proto::OpCode;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections after its start.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

// Every test that uses this module also has `mod common`.
pub use crate::common::ports::free_port;

/// Writes `<dir>/zoo.cfg` for a standalone server on 127.0.0.1:`port`
/// with `data_dir`, no AdminServer, and the `extra` lines.
pub fn write_config(dir: &Path, data_dir: &Path, port: u16, extra: &str) -> PathBuf {
    let cfg = dir.join("zoo.cfg");
    let text = format!(
        "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n{extra}\n",
        data_dir.display()
    );
    std::fs::write(&cfg, text).unwrap();
    cfg
}

/// A running `paddock server`; killed with SIGKILL on drop.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

impl Server {
    /// Spawns `paddock server cfg`, its output appended to `log`.
    pub fn spawn(cfg: &Path, port: u16, log: &Path) -> Server {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_paddock"))
            .arg("server")
            .arg(cfg)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }

    /// Waits until a session can be opened; `None` if the process exited
    /// first or [`READY_TIMEOUT`] passed.
    pub fn wait_ready(&mut self) -> Option<Conn> {
        let deadline = Instant::now() + READY_TIMEOUT;
        while Instant::now() < deadline {
            if self.child.try_wait().unwrap().is_some() {
                return None;
            }
            if let Ok(conn) = Conn::open(self.addr) {
                return Some(conn);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// SIGKILL, then reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits (bounded) for the process to exit by itself; its status, or `None`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The handshake for a new session: protocol 0, 30 s timeout, zero password.
fn connect_request() -> Vec<u8> {
    frame(|o| {
        0i32.write(o);
        0i64.write(o);
        30_000i32.write(o);
        0i64.write(o);
        paddock::jute::write_buffer(o, Some(&[0u8; 16]));
        false.write(o);
    })
}

fn request(xid: i32, op: OpCode, body: &impl Record) -> Vec<u8> {
    frame(|o| {
        xid.write(o);
        (op as i32).write(o);
        body.write(o);
    })
}

/// A multi of one persistent create per path, open ACL.
fn multi_create(xid: i32, paths: &[String], data: &[u8]) -> Vec<u8> {
    let acl = vec![Acl {
        perms: 31,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }];
    frame(|o| {
        xid.write(o);
        (OpCode::Multi as i32).write(o);
        for path in paths {
            let header = MultiHeader {
                r#type: OpCode::Create as i32,
                done: false,
                err: -1,
            };
            header.write(o);
            let create = CreateRequest {
                path: path.clone(),
                data: Some(data.to_vec()),
                acl: acl.clone(),
                flags: 0,
            };
            create.write(o);
        }
        MultiHeader {
            r#type: -1,
            done: true,
            err: -1,
        }
        .write(o);
    })
}

/// A session on one connection whose every failure is an `io::Error`.
pub struct Conn {
    stream: TcpStream,
    xid: i32,
}

fn read_frame(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let mut buf = vec![0; i32::from_be_bytes(len).max(0) as usize];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

impl Conn {
    /// Connects and opens a new session (30 s timeout).
    pub fn open(addr: SocketAddr) -> std::io::Result<Conn> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        stream.set_nodelay(true)?;
        stream.write_all(&connect_request())?;
        let reply = read_frame(&mut stream)?;
        if reply.len() < 16 || i32::from_be_bytes(reply[4..8].try_into().unwrap()) <= 0 {
            return Err(std::io::Error::other("session refused"));
        }
        Ok(Conn { stream, xid: 0 })
    }

    fn next_xid(&mut self) -> i32 {
        self.xid += 1;
        self.xid
    }

    /// Sends a multi creating every path in `paths` with `data`; returns its xid.
    pub fn send_multi_create(&mut self, paths: &[String], data: &[u8]) -> std::io::Result<i32> {
        let xid = self.next_xid();
        self.stream.write_all(&multi_create(xid, paths, data))?;
        Ok(xid)
    }

    /// Sends a request; returns its xid.
    pub fn send(&mut self, op: OpCode, body: &impl Record) -> std::io::Result<i32> {
        let xid = self.next_xid();
        self.stream.write_all(&request(xid, op, body))?;
        Ok(xid)
    }

    /// The next reply (xid, err, body); watch events are skipped.
    pub fn recv(&mut self) -> std::io::Result<(i32, i32, Vec<u8>)> {
        loop {
            let frame = read_frame(&mut self.stream)?;
            let (body, h) =
                ReplyHeader::read(&frame).map_err(|_| std::io::Error::other("bad reply header"))?;
            if h.xid != -1 {
                return Ok((h.xid, h.err, body.to_vec()));
            }
        }
    }

    /// Sends and waits for the reply: (err, body).
    pub fn call(&mut self, op: OpCode, body: &impl Record) -> std::io::Result<(i32, Vec<u8>)> {
        let xid = self.send(op, body)?;
        let (got, err, body) = self.recv()?;
        assert_eq!(got, xid, "replies come in request order");
        Ok((err, body))
    }

    /// The children of `path`, or the error code.
    pub fn children(&mut self, path: &str) -> std::io::Result<Result<Vec<String>, i32>> {
        let req = GetChildrenRequest {
            path: path.into(),
            watch: false,
        };
        let (err, body) = self.call(OpCode::GetChildren, &req)?;
        if err != 0 {
            return Ok(Err(err));
        }
        let resp: GetChildrenResponse = paddock::jute::decode_exact(&body).unwrap();
        Ok(Ok(resp.children))
    }

    /// The data of `path` (bytes after the length prefix), or the error code.
    pub fn data(&mut self, path: &str) -> std::io::Result<Result<Option<Vec<u8>>, i32>> {
        let req = GetDataRequest {
            path: path.into(),
            watch: false,
        };
        let (err, body) = self.call(OpCode::GetData, &req)?;
        if err != 0 {
            return Ok(Err(err));
        }
        let (_, data) = <Option<Vec<u8>> as Record>::read(&body).unwrap();
        Ok(Ok(data))
    }
}

/// splitmix64: a seeded generator, so a failing run replays from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The seed from `var` if set, else from the clock; printed either way.
pub fn seed_from_env(var: &str) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("seed {seed} (replay with {var}={seed})");
    seed
}
