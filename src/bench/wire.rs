//! The client side of the wire protocol, as much as the bench needs: the connect
//! handshake, request frames built with the crate's own Jute records, and reply
//! frames read back off a socket.

use crate::jute::records::{Acl, CreateRequest, Id, MultiHeader, ReplyHeader, SyncRequest};
use crate::jute::{DecodeError, JResult, Record};
use crate::proto::codes::perms;
use crate::proto::reply::frame;
use crate::proto::OpCode;
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

/// Largest reply frame the bench accepts (ZooKeeper's default `jute.maxbuffer`
/// plus headroom); a longer length means the stream is out of step.
const FRAME_LEN_MAX: usize = 4 << 20;
/// Socket buffer sizes: large enough that a window of pipelined requests or
/// replies moves in a few system calls.
const IO_BUFFER_BYTES: usize = 64 << 10;
/// How long any single reply may take before the bench gives up on the server.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`Session::close`] waits for the server to close the connection.
const CLOSE_LINGER: Duration = Duration::from_secs(1);
/// Session timeout the bench asks for; servers clamp it to their own bounds.
const SESSION_TIMEOUT_MS: i32 = 30_000;

/// Create flags (`CreateMode`) the bench uses.
pub mod create_flags {
    /// A persistent node.
    pub const PERSISTENT: i32 = 0;
    /// A node deleted when its session ends.
    pub const EPHEMERAL: i32 = 1;
}

/// world:anyone with every permission (`OPEN_ACL_UNSAFE`).
pub fn open_acl() -> Vec<Acl> {
    vec![Acl {
        perms: perms::ALL,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

/// A whole request frame: length, RequestHeader{xid, op}, then `body`'s bytes.
pub fn request(xid: i32, op: OpCode, body: &impl Record) -> Vec<u8> {
    frame(|out| {
        xid.write(out);
        (op as i32).write(out);
        body.write(out);
    })
}

/// A request frame with no body (closeSession).
pub fn bodiless_request(xid: i32, op: OpCode) -> Vec<u8> {
    frame(|out| {
        xid.write(out);
        (op as i32).write(out);
    })
}

/// A multi request frame carrying one create (op 1) per path, each with `data`,
/// the open ACL and persistent flags.
pub fn multi_create(xid: i32, paths: &[String], data: &[u8]) -> Vec<u8> {
    frame(|out| {
        xid.write(out);
        (OpCode::Multi as i32).write(out);
        for path in paths {
            MultiHeader {
                r#type: OpCode::Create as i32,
                done: false,
                err: -1,
            }
            .write(out);
            create_request(path, data, create_flags::PERSISTENT).write(out);
        }
        MultiHeader {
            r#type: -1,
            done: true,
            err: -1,
        }
        .write(out);
    })
}

/// A CreateRequest for `path` with `data`, the open ACL and `flags`.
pub fn create_request(path: &str, data: &[u8], flags: i32) -> CreateRequest {
    CreateRequest {
        path: path.to_owned(),
        data: Some(data.to_vec()),
        acl: open_acl(),
        flags,
    }
}

/// The connect handshake frame for a new session: protocol 0, no zxid seen,
/// [`SESSION_TIMEOUT_MS`], session 0, a 16-byte zero password, readOnly false.
pub fn connect_request() -> Vec<u8> {
    frame(|out| {
        0i32.write(out);
        0i64.write(out);
        SESSION_TIMEOUT_MS.write(out);
        0i64.write(out);
        crate::jute::write_buffer(out, Some(&[0; 16]));
        false.write(out);
    })
}

/// The fields of a ConnectResponse the bench uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    /// The timeout the server granted; 0 or less means the session was refused.
    pub time_out: i32,
    /// The new session's id.
    pub session_id: i64,
}

/// Decodes a ConnectResponse payload: protocol version, timeout, session id,
/// password, and an optional readOnly byte (which the bench ignores).
pub fn decode_connect_response(payload: &[u8]) -> Result<Connected, DecodeError> {
    fn fields(i: &[u8]) -> JResult<'_, Connected> {
        let (i, _protocol_version) = i32::read(i)?;
        let (i, time_out) = i32::read(i)?;
        let (i, session_id) = i64::read(i)?;
        let (i, _passwd) = Option::<Vec<u8>>::read(i)?;
        Ok((
            i,
            Connected {
                time_out,
                session_id,
            },
        ))
    }
    crate::jute::finish(fields(payload))
}

/// Splits a reply payload into its header and body.
pub fn split_reply(payload: &[u8]) -> io::Result<(ReplyHeader, &[u8])> {
    ReplyHeader::read(payload)
        .map(|(body, header)| (header, body))
        .map_err(|_| invalid("reply shorter than its header"))
}

/// An `InvalidData` error: the server sent something the bench cannot follow.
pub fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// The reading half of a session's connection.
pub struct FrameReader {
    /// Buffered so a burst of pipelined replies costs few system calls.
    inner: BufReader<OwnedReadHalf>,
}

impl FrameReader {
    /// Reads one frame's payload, waiting at most [`REPLY_TIMEOUT`].
    pub async fn next(&mut self) -> io::Result<Vec<u8>> {
        tokio::time::timeout(REPLY_TIMEOUT, self.read_frame())
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply from the server"))?
    }

    async fn read_frame(&mut self) -> io::Result<Vec<u8>> {
        let len = self.inner.read_i32().await?;
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= FRAME_LEN_MAX)
            .ok_or_else(|| invalid("bad frame length"))?;
        let mut payload = vec![0; len];
        self.inner.read_exact(&mut payload).await?;
        Ok(payload)
    }

    /// Reads frames until a reply that is neither a watch notification nor a
    /// ping reply, and returns its header and payload.
    pub async fn next_reply(&mut self) -> io::Result<(ReplyHeader, Vec<u8>)> {
        loop {
            let payload = self.next().await?;
            let (header, _) = split_reply(&payload)?;
            if header.xid >= 0 {
                return Ok((header, payload));
            }
        }
    }
}

/// The writing half of a session's connection.
pub struct FrameWriter {
    /// Buffered: callers write a window of frames, then flush once.
    inner: BufWriter<OwnedWriteHalf>,
}

impl FrameWriter {
    /// Queues a whole frame; it reaches the socket at the next [`flush`](Self::flush)
    /// or when the buffer fills.
    pub async fn write(&mut self, frame: &[u8]) -> io::Result<()> {
        self.inner.write_all(frame).await
    }

    /// Sends everything queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().await
    }
}

/// An established session: its id and its connection's two halves.
pub struct Session {
    /// The session id the server assigned.
    pub id: i64,
    /// Replies and notifications from the server.
    pub reader: FrameReader,
    /// Requests to the server.
    pub writer: FrameWriter,
    /// The next xid to use; the Java client counts up from 1 the same way.
    /// Whoever sends a request on `writer` takes its xid from here.
    pub next_xid: i32,
    /// The session timeout the server granted.
    timeout: Duration,
}

impl Session {
    /// Connects to `addr` and completes the handshake for a new session, within
    /// [`REPLY_TIMEOUT`].
    pub async fn connect(addr: &str) -> io::Result<Session> {
        let stream = tokio::time::timeout(REPLY_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, format!("connecting to {addr}"))
            })??;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let mut reader = FrameReader {
            inner: BufReader::with_capacity(IO_BUFFER_BYTES, read),
        };
        let mut writer = FrameWriter {
            inner: BufWriter::with_capacity(IO_BUFFER_BYTES, write),
        };
        writer.write(&connect_request()).await?;
        writer.flush().await?;
        let connected = decode_connect_response(&reader.next().await?)
            .map_err(|_| invalid("bad ConnectResponse"))?;
        if connected.time_out <= 0 {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "the server refused the session",
            ));
        }
        Ok(Session {
            id: connected.session_id,
            reader,
            writer,
            next_xid: 1,
            timeout: Duration::from_millis(connected.time_out as u64),
        })
    }

    /// Opens session number `index` of a run against `hosts`, a comma-separated
    /// list of `host:port` (one server, or the members of an ensemble):
    /// sessions go round robin over the hosts. With several hosts the session
    /// then syncs `/`, so its server has applied every write acknowledged
    /// before (fixtures made through another member are visible to it).
    pub async fn connect_spread(hosts: &str, index: usize) -> io::Result<Session> {
        let list: Vec<&str> = hosts.split(',').collect();
        let mut session = Session::connect(list[index % list.len()]).await?;
        if list.len() > 1 {
            let sync = SyncRequest {
                path: "/".to_owned(),
            };
            let (header, _) = session
                .call(|xid| request(xid, OpCode::Sync, &sync))
                .await?;
            if header.err != 0 {
                return Err(io::Error::other(format!(
                    "sync: server answered error {}",
                    header.err
                )));
            }
        }
        Ok(session)
    }

    /// How often an otherwise idle session must ping to stay alive: a third of
    /// its timeout, as the Java client does (half of its 2/3 read timeout).
    pub fn ping_interval(&self) -> Duration {
        self.timeout / 3
    }

    /// Sends a ping and waits for its reply; only valid while no other request
    /// of this session is in flight (replies before it would be dropped).
    pub async fn ping(&mut self) -> io::Result<()> {
        self.writer
            .write(&bodiless_request(
                crate::proto::codes::xid::PING,
                OpCode::Ping,
            ))
            .await?;
        self.writer.flush().await?;
        loop {
            let payload = self.reader.next().await?;
            if split_reply(&payload)?.0.xid == crate::proto::codes::xid::PING {
                return Ok(());
            }
        }
    }

    /// Takes the next xid.
    pub fn xid(&mut self) -> i32 {
        let xid = self.next_xid;
        self.next_xid += 1;
        xid
    }

    /// Sends one request built by `build(xid)` and waits for its reply; returns
    /// the reply header and the whole reply payload.
    pub async fn call(
        &mut self,
        build: impl FnOnce(i32) -> Vec<u8>,
    ) -> io::Result<(ReplyHeader, Vec<u8>)> {
        let xid = self.xid();
        self.writer.write(&build(xid)).await?;
        self.writer.flush().await?;
        let (header, payload) = self.reader.next_reply().await?;
        if header.xid != xid {
            return Err(invalid("reply xid out of order"));
        }
        Ok((header, payload))
    }

    /// Sends `count` requests, the i-th built by `build(xid, i)`, in one burst,
    /// and returns each reply's error code in order. Callers keep `count` bounded.
    pub async fn call_many(
        &mut self,
        count: usize,
        mut build: impl FnMut(i32, usize) -> Vec<u8>,
    ) -> io::Result<Vec<i32>> {
        let first = self.next_xid;
        for i in 0..count {
            let xid = self.xid();
            self.writer.write(&build(xid, i)).await?;
        }
        self.writer.flush().await?;
        let mut errs = Vec::with_capacity(count);
        for expected in first..self.next_xid {
            let (header, _) = self.reader.next_reply().await?;
            if header.xid != expected {
                return Err(invalid("reply xid out of order"));
            }
            errs.push(header.err);
        }
        Ok(errs)
    }

    /// Ends the session with closeSession and waits for the reply (the server
    /// deletes the session's ephemerals before it answers), then for the server
    /// to close the connection.
    pub async fn close(mut self) -> io::Result<()> {
        self.call(|xid| bodiless_request(xid, OpCode::CloseSession))
            .await?;
        self.await_server_close().await;
        Ok(())
    }

    /// After a closeSession reply: waits up to [`CLOSE_LINGER`] for the server
    /// to close the connection, so that TIME_WAIT stays on the server side (as
    /// with any ZooKeeper client) and churn cannot exhaust the bench's ports.
    pub async fn await_server_close(mut self) {
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(CLOSE_LINGER, self.reader.inner.read_to_end(&mut rest)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::records::{GetDataRequest, RequestHeader};
    use crate::proto::request::{decode_connect_request, decode_request, MultiOp, Request};

    #[test]
    fn request_frame_decodes_as_the_server_sees_it() {
        let bytes = request(
            7,
            OpCode::GetData,
            &GetDataRequest {
                path: "/a".into(),
                watch: true,
            },
        );
        assert_eq!(
            i32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize,
            bytes.len() - 4
        );
        let (header, req) = decode_request(&bytes[4..]).unwrap();
        assert_eq!(header, RequestHeader { xid: 7, r#type: 4 });
        assert_eq!(
            req,
            Request::GetData(GetDataRequest {
                path: "/a".into(),
                watch: true
            })
        );
    }

    #[test]
    fn multi_create_carries_every_create_in_order() {
        let paths: Vec<String> = (0..3).map(|i| format!("/m/{i}")).collect();
        let bytes = multi_create(9, &paths, b"xy");
        let (header, req) = decode_request(&bytes[4..]).unwrap();
        assert_eq!(
            header,
            RequestHeader {
                xid: 9,
                r#type: OpCode::Multi as i32
            }
        );
        let expected: Vec<MultiOp> = paths
            .iter()
            .map(|p| MultiOp::Create {
                op: OpCode::Create,
                req: create_request(p, b"xy", create_flags::PERSISTENT),
            })
            .collect();
        assert_eq!(req, Request::Multi(expected));
    }

    #[test]
    fn close_session_is_a_bare_header() {
        let bytes = bodiless_request(3, OpCode::CloseSession);
        assert_eq!(bytes.len(), 12);
        assert_eq!(
            decode_request(&bytes[4..]).unwrap().1,
            Request::CloseSession
        );
    }

    #[test]
    fn connect_request_asks_for_a_new_session() {
        let bytes = connect_request();
        let req = decode_connect_request(&bytes[4..]).unwrap();
        assert_eq!(
            (req.protocol_version, req.session_id, req.last_zxid_seen),
            (0, 0, 0)
        );
        assert_eq!(
            (req.time_out, req.passwd, req.read_only),
            (SESSION_TIMEOUT_MS, vec![0; 16], Some(false))
        );
    }

    #[test]
    fn connect_response_decodes_with_or_without_read_only() {
        let mut response = crate::proto::ConnectResponse {
            protocol_version: 0,
            time_out: 4_000,
            session_id: 0x0100_0000_0000_0042,
            passwd: vec![9; 16],
            read_only: Some(false),
        };
        for read_only in [Some(false), None] {
            response.read_only = read_only;
            let bytes = crate::jute::encode_with(|out| response.write(out));
            let got = decode_connect_response(&bytes).unwrap();
            assert_eq!(
                got,
                Connected {
                    time_out: 4_000,
                    session_id: 0x0100_0000_0000_0042
                }
            );
        }
        assert!(decode_connect_response(&[0; 10]).is_err());
    }
}
