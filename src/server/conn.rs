//! One client connection: frame reading (with the jute.maxbuffer bound), the
//! four-letter-word check on the first bytes, the connect handshake, and a writer
//! task that batches outgoing frames into few syscalls.
//!
//! Bad input closes only this connection, with a log line: a negative or
//! oversized length, a handshake that does not parse, a request header that
//! does not parse. Everything else is answered by the core.
//!
//! Until its session is established a connection lives only as long as its
//! client keeps sending: after `zookeeper.nio.sessionlessCnxnTimeout` without
//! a byte (an idle socket, a frame stopped half-way, a handshake never sent)
//! it is closed, as ZooKeeper's NIO connection factory expires it. After the
//! handshake the session's own timeout governs: a client that stops sending,
//! even inside a frame or a SASL exchange, stops pinging, and its session's
//! expiry closes the connection.

use super::core::{CoreMsg, Inbound};
use super::Settings;
use crate::proto::{decode_connect_request, decode_request, Request, RequestError};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

/// A connection's id; also its watcher id.
pub type ConnId = u64;

/// What the core sends to a connection's writer.
#[derive(Debug)]
pub enum Outbound {
    /// Bytes to write as they are (a framed reply, or 4lw text).
    Frame(Vec<u8>),
    /// Flush what is queued, then close the connection.
    Close,
}

/// The writer's queue. Unbounded so the core never waits on a slow client;
/// the core stops reading a connection's requests while its replies are pending
/// only through per-session ordering, so a client that never reads its replies
/// grows this queue until it is disconnected (as ZooKeeper's outgoing queue).
pub type OutTx = mpsc::UnboundedSender<Outbound>;

/// Bytes gathered into one write at most.
const WRITE_BATCH_BYTES: usize = 256 * 1024;
/// Read buffer per connection: room for a hundred pipelined requests per
/// read. It is zeroed when a connection opens, so a larger one costs every
/// short-lived session (64 KiB was 2% of the server's time under session
/// churn) and every idle watcher's memory.
const READ_BUFFER_BYTES: usize = 16 * 1024;

/// A counted connection slot for one client IP (maxClientCnxns); released on drop.
pub struct IpSlot {
    counts: Arc<Mutex<HashMap<IpAddr, u32>>>,
    ip: IpAddr,
}

impl IpSlot {
    /// Takes a slot for `ip`, or `None` when it already has `limit` connections (0 = no limit).
    pub fn take(
        counts: &Arc<Mutex<HashMap<IpAddr, u32>>>,
        ip: IpAddr,
        limit: u32,
    ) -> Option<IpSlot> {
        let mut map = counts.lock().expect("not poisoned");
        let n = map.entry(ip).or_insert(0);
        if limit != 0 && *n >= limit {
            return None;
        }
        *n += 1;
        Some(IpSlot {
            counts: counts.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut map = self.counts.lock().expect("not poisoned");
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// A reader that fails with [`SessionlessExpired`] once `limit` passes
/// without a byte read, while armed (before the session is established).
struct IdleLimit<R> {
    inner: R,
    /// `None` once disarmed.
    limit: Option<Duration>,
    /// Fires `limit` after the last byte read.
    deadline: Pin<Box<tokio::time::Sleep>>,
}

/// The error an armed [`IdleLimit`] ends a read with.
#[derive(Debug)]
struct SessionlessExpired;

impl std::fmt::Display for SessionlessExpired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("no session and no bytes within zookeeper.nio.sessionlessCnxnTimeout")
    }
}

impl std::error::Error for SessionlessExpired {}

impl<R> IdleLimit<R> {
    fn new(inner: R, limit: Duration) -> IdleLimit<R> {
        IdleLimit {
            inner,
            limit: Some(limit),
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }

    fn disarm(&mut self) {
        self.limit = None;
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for IdleLimit<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if let Some(limit) = this.limit.filter(|_| buf.filled().len() > before) {
                    let next = tokio::time::Instant::now() + limit;
                    this.deadline.as_mut().reset(next);
                }
                Poll::Ready(result)
            }
            Poll::Pending => match this.limit {
                Some(_) if this.deadline.as_mut().poll(cx).is_ready() => Poll::Ready(Err(
                    std::io::Error::new(std::io::ErrorKind::TimedOut, SessionlessExpired),
                )),
                _ => Poll::Pending,
            },
        }
    }
}

/// How a connection reads: buffered, idle-limited until its session exists.
type Reader = BufReader<IdleLimit<OwnedReadHalf>>;

/// Why a connection ended early.
#[derive(Debug)]
enum ConnEnd {
    Io(std::io::Error),
    /// No session and no bytes for the sessionless timeout.
    SessionlessExpired,
    BadLength(i32),
    BadHandshake(String),
    BadHeader,
    CoreGone,
}

impl From<std::io::Error> for ConnEnd {
    fn from(e: std::io::Error) -> Self {
        if e.get_ref()
            .is_some_and(|inner| inner.is::<SessionlessExpired>())
        {
            ConnEnd::SessionlessExpired
        } else {
            ConnEnd::Io(e)
        }
    }
}

/// Serves one connection until it closes.
pub async fn serve(
    id: ConnId,
    stream: TcpStream,
    remote: SocketAddr,
    settings: Arc<Settings>,
    core: mpsc::Sender<CoreMsg>,
    _slot: IpSlot,
) {
    let (rd, wr) = stream.into_split();
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (closed_tx, closed_rx) = oneshot::channel::<()>();
    let writer = tokio::spawn(write_loop(wr, out_rx, closed_tx));
    let reading = read_loop(id, rd, remote, &settings, &core, out_tx);
    let end = tokio::select! {
        r = reading => r,
        _ = closed_rx => {
            debug!(conn = id, "writer finished");
            Ok(())
        }
    };
    match end {
        Ok(()) => debug!(conn = id, %remote, "connection closed"),
        Err(ConnEnd::Io(e)) => debug!(conn = id, %remote, error = %e, "connection ended"),
        Err(ConnEnd::BadLength(n)) => {
            warn!(conn = id, %remote, len = n, max = settings.jute_max_buffer, "frame length out of range (jute.maxbuffer); closing connection")
        }
        Err(ConnEnd::BadHandshake(e)) => {
            warn!(conn = id, %remote, error = %e, "connect request did not parse; closing connection")
        }
        Err(ConnEnd::BadHeader) => {
            warn!(conn = id, %remote, "request header did not parse; closing connection")
        }
        Err(ConnEnd::CoreGone) => info!(conn = id, "server stopping; closing connection"),
        Err(ConnEnd::SessionlessExpired) => {
            // Debug, not info: a flood of such connections must not flood the log.
            debug!(conn = id, %remote, timeout_ms = settings.sessionless_cnxn_timeout_ms,
                "no session established in time (zookeeper.nio.sessionlessCnxnTimeout); closing connection");
            let _ = core.send(CoreMsg::SessionlessExpired).await;
        }
    }
    let _ = core.send(CoreMsg::Closed { conn: id }).await;
    let _ = writer.await;
}

async fn read_frame(rd: &mut Reader, len: i32, max: usize) -> Result<Vec<u8>, ConnEnd> {
    if len < 0 || len as usize > max {
        return Err(ConnEnd::BadLength(len));
    }
    let mut buf = vec![0; len as usize];
    rd.read_exact(&mut buf).await?;
    Ok(buf)
}

/// Reads the next frame's length; `None` at a clean end of stream.
async fn read_len(rd: &mut Reader) -> Result<Option<i32>, ConnEnd> {
    match rd.read_i32().await {
        Ok(n) => Ok(Some(n)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn read_loop(
    id: ConnId,
    rd: OwnedReadHalf,
    remote: SocketAddr,
    settings: &Settings,
    core: &mpsc::Sender<CoreMsg>,
    out: super::conn::OutTx,
) -> Result<(), ConnEnd> {
    let limit = Duration::from_millis(settings.sessionless_cnxn_timeout_ms);
    let mut rd = BufReader::with_capacity(READ_BUFFER_BYTES, IdleLimit::new(rd, limit));
    let Some(len) = read_len(&mut rd).await? else {
        return Ok(());
    };
    if let Some(word) = super::admin_view::detect(len) {
        // ZooKeeper reads stmk's mask only for a whitelisted word.
        let mut payload = Vec::new();
        if settings.four_letter_whitelist.allows(word) {
            payload.resize(word.payload_len(), 0);
            rd.read_exact(&mut payload).await?;
        }
        let (reply_tx, reply_rx) = oneshot::channel();
        core.send(CoreMsg::Admin {
            remote,
            word,
            payload,
            reply: reply_tx,
        })
        .await
        .map_err(|_| ConnEnd::CoreGone)?;
        let text = reply_rx.await.map_err(|_| ConnEnd::CoreGone)?;
        if !text.is_empty() {
            let _ = out.send(Outbound::Frame(text.into_bytes()));
        }
        let _ = out.send(Outbound::Close);
        return Ok(());
    }
    let frame = read_frame(&mut rd, len, settings.jute_max_buffer).await?;
    let req = decode_connect_request(&frame).map_err(|e| ConnEnd::BadHandshake(e.to_string()))?;
    let (done_tx, done_rx) = oneshot::channel();
    core.send(CoreMsg::Connect {
        conn: id,
        remote,
        req,
        out,
        done: done_tx,
    })
    .await
    .map_err(|_| ConnEnd::CoreGone)?;
    // Like ZooKeeper, read nothing more until the session is established.
    if !done_rx.await.unwrap_or(false) {
        return Ok(());
    }
    rd.get_mut().disarm();
    loop {
        let Some(len) = read_len(&mut rd).await? else {
            return Ok(());
        };
        let frame = read_frame(&mut rd, len, settings.jute_max_buffer).await?;
        let (xid, op, inbound) = match decode_request(&frame) {
            Ok((h, req)) => (h.xid, h.r#type, Inbound::Request(req)),
            Err(RequestError::Unimplemented { xid, op }) => (xid, op, Inbound::Unimplemented),
            Err(RequestError::BadHeader) => return Err(ConnEnd::BadHeader),
        };
        let bytes = frame.len();
        // An ensemble member may forward writes and syncs to its leader as they came.
        let forwardable = settings.ensemble.is_some()
            && matches!(&inbound, Inbound::Request(r) if r.is_write() || matches!(r, Request::Sync(_)));
        core.send(CoreMsg::Packet {
            conn: id,
            xid,
            op,
            inbound,
            bytes,
            frame: forwardable.then_some(frame),
        })
        .await
        .map_err(|_| ConnEnd::CoreGone)?;
    }
}

async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    _closed: oneshot::Sender<()>,
) {
    let mut buf = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut close = false;
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Outbound::Frame(bytes) => buf.extend_from_slice(&bytes),
                Outbound::Close => {
                    close = true;
                    break;
                }
            }
            if buf.len() < WRITE_BATCH_BYTES {
                next = rx.try_recv().ok();
            }
        }
        if !buf.is_empty() && wr.write_all(&buf).await.is_err() {
            return;
        }
        buf.clear();
        if close {
            break;
        }
    }
    let _ = wr.shutdown().await;
    // Dropping `_closed` tells the reader to stop.
}
