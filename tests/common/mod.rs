//! A minimal blocking client and an in-process server for integration tests.
#![allow(dead_code)]

use paddock::jute::records::*;
use paddock::jute::Record;
use paddock::proto::reply::frame;
use paddock::proto::ConnectRequest;
use paddock::server::{self, Settings};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

pub mod ports;

/// A server running on its own runtime thread; stopped on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: TempDir,
}

/// A temporary directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("paddock-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::start_with(|_| {})
    }

    pub fn start_with(tune: impl FnOnce(&mut Settings)) -> TestServer {
        let dir = TempDir::new("srv");
        let mut settings = Settings::for_tests(dir.0.clone());
        tune(&mut settings);
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                server::run(listener, settings, || {}, async {
                    let _ = stop_rx.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        TestServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One reply or event read from the server.
#[derive(Debug, Clone)]
pub struct Reply {
    pub header: ReplyHeader,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn decode<T: Record>(&self) -> T {
        paddock::jute::decode_exact(&self.body).expect("body decodes")
    }
}

/// A blocking client speaking the protocol directly.
pub struct Client {
    pub stream: TcpStream,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub timeout_ms: i32,
    xid: i32,
}

pub fn read_frame(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len)?;
    let mut buf = vec![0; i32::from_be_bytes(len) as usize];
    stream.read_exact(&mut buf)?;
    Ok(buf)
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        Self::connect_session(addr, 0, vec![0; 16], 10_000).expect("session established")
    }

    /// Connects with a session id and password; `None` if the server answered "expired".
    pub fn connect_session(
        addr: SocketAddr,
        session_id: i64,
        passwd: Vec<u8>,
        timeout_ms: i32,
    ) -> Option<Client> {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let req = ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            time_out: timeout_ms,
            session_id,
            passwd,
            read_only: Some(false),
        };
        let f = frame(|o| {
            req.protocol_version.write(o);
            req.last_zxid_seen.write(o);
            req.time_out.write(o);
            req.session_id.write(o);
            paddock::jute::write_buffer(o, Some(&req.passwd));
            false.write(o);
        });
        stream.write_all(&f).unwrap();
        let resp = read_frame(&mut stream).ok()?;
        let time_out = i32::from_be_bytes(resp[4..8].try_into().unwrap());
        let session_id = i64::from_be_bytes(resp[8..16].try_into().unwrap());
        let passwd = resp[20..36].to_vec();
        (time_out > 0).then_some(Client {
            stream,
            session_id,
            passwd,
            timeout_ms: time_out,
            xid: 0,
        })
    }

    /// Sends a request and returns its xid (not waiting for the reply).
    pub fn send<T: Record>(&mut self, op: i32, body: &T) -> i32 {
        self.xid += 1;
        let xid = self.xid;
        self.send_raw(frame(|o| {
            RequestHeader { xid, r#type: op }.write(o);
            body.write(o);
        }));
        xid
    }

    pub fn send_raw(&mut self, bytes: Vec<u8>) {
        self.stream.write_all(&bytes).unwrap();
    }

    pub fn recv(&mut self) -> Reply {
        let f = read_frame(&mut self.stream).expect("a reply");
        let (body, header) = ReplyHeader::read(&f).unwrap();
        Reply {
            header,
            body: body.to_vec(),
        }
    }

    /// Sends and waits for the reply (watch events arriving first are returned too).
    pub fn call<T: Record>(&mut self, op: i32, body: &T) -> (Vec<Reply>, Reply) {
        let xid = self.send(op, body);
        let mut events = Vec::new();
        loop {
            let r = self.recv();
            if r.header.xid == xid {
                return (events, r);
            }
            events.push(r);
        }
    }

    /// True once the server has closed the connection.
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0) | Err(_))
    }
}

pub fn open_acl() -> Vec<Acl> {
    vec![Acl {
        perms: 31,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

pub fn create_req(path: &str, data: &[u8], flags: i32) -> CreateRequest {
    CreateRequest {
        path: path.into(),
        data: Some(data.to_vec()),
        acl: open_acl(),
        flags,
    }
}

/// Bytes from hex text as the fixture tables write them; "-" is empty.
pub fn unhex(s: &str) -> Vec<u8> {
    if s == "-" {
        return Vec::new();
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
