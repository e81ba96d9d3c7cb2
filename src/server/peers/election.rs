//! Election connections (`QuorumCnxManager`): one per pair of servers, kept
//! by the larger sid; notifications framed by length both ways.

use super::stream::{write_batches, ItemReader, ReadEnd};
use super::{Conn, PeerEvent, Shared, ELECTION_QUEUE_BOUND};
use crate::jute::DecodeError;
use crate::zab::wire::{
    decode_frame_len, decode_initial, decode_notification, encode_initial,
    encode_notification_frame, OBSERVER_SID,
};
use crate::zab::{Message, Notification, Sid};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};
use tracing::{debug, info, warn};

/// How long a dial, or the wait for a dialer's initial message, may take
/// (ZooKeeper's `cnxTimeout` default).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// First wait before dialing a peer again.
const DIAL_BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Longest wait between dials of a peer that stays unreachable.
const DIAL_BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Reads a dialer's initial message, then keeps the connection if the dialer
/// has the larger sid, or closes it and dials back if it has the smaller.
pub(super) async fn accept(shared: Arc<Shared>, stream: TcpStream, remote: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let mut reader = ItemReader::new(read);
    let initial = match timeout(HANDSHAKE_TIMEOUT, reader.next(decode_initial)).await {
        Ok(Ok(initial)) => initial,
        Ok(Err(end)) => {
            warn!(%remote, reason = %end, "bad initial message on the election port; closing");
            return;
        }
        Err(_) => {
            warn!(%remote, "no initial message in time on the election port; closing");
            return;
        }
    };
    let sid = match u64::try_from(initial.sid) {
        Ok(sid) if initial.sid != OBSERVER_SID && sid != shared.my_id => sid,
        _ => {
            warn!(%remote, sid = initial.sid, "election peer without a usable sid; closing");
            return;
        }
    };
    if sid < shared.my_id {
        // A smaller sid dials only when it has no connection to us, so any
        // we hold is stale (ZooKeeper also finishes its SendWorker here).
        debug!(sid, "election connection from a smaller sid; dialing back");
        drop((reader, write));
        let stale = shared.lock().election.remove(&sid);
        drop(stale);
        start_dial(&shared, sid);
        return;
    }
    register(&shared, sid, reader, write);
}

/// Makes this socket the election connection of `sid`, replacing any other,
/// and sends the vote kept for `sid`, if any.
fn register(shared: &Arc<Shared>, sid: Sid, reader: ItemReader, write: OwnedWriteHalf) {
    let id = shared.conn_id();
    let (tx, rx) = mpsc::channel(ELECTION_QUEUE_BOUND);
    let mut st = shared.lock();
    let writer_shared = shared.clone();
    shared.spawn(async move {
        if let Err(e) = write_batches(write, rx, encode_notification_frame).await {
            info!(sid, error = %e, "election connection write failed");
        }
        close(&writer_shared, sid, id);
    });
    let reader = shared.spawn(read_frames(shared.clone(), sid, id, reader));
    if let Some(vote) = st.pending_votes.remove(&sid) {
        let _ = tx.try_send(vote);
    }
    let conn = Conn {
        id,
        tx,
        reader,
        writer: None,
    };
    let old = st.election.insert(sid, conn);
    drop(st);
    drop(old);
    info!(sid, "election connection up");
}

/// One frame: the notification, or why its payload is unreadable.
type Frame = Result<Notification, DecodeError>;

/// Decodes the frame at the front of `buf`; a bad length is an error (the
/// connection closes), a bad payload is a [`Frame`] error (it is skipped, as
/// FastLeaderElection's receiver skips it).
fn decode_frame(buf: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
    let Some(len) = decode_frame_len(buf)? else {
        return Ok(None);
    };
    Ok(buf
        .get(4..4 + len)
        .map(|payload| (decode_notification(payload), 4 + len)))
}

/// Logs a notification `sent` to or `received` from `sid` (debug level: an
/// election's every vote, as ZooKeeper logs them, for tracing a slow one).
fn log_vote(what: &str, sid: Sid, n: &Notification) {
    debug!(
        sid,
        state = ?n.state,
        leader = n.vote.leader,
        round = n.vote.election_epoch,
        zxid = format_args!("{:#x}", n.vote.zxid),
        peer_epoch = n.vote.peer_epoch,
        "notification {what}"
    );
}

/// Delivers `sid`'s notifications until the connection ends.
async fn read_frames(shared: Arc<Shared>, sid: Sid, id: u64, mut reader: ItemReader) {
    let end = loop {
        match reader.next(decode_frame).await {
            Ok(Ok(n)) => {
                log_vote("received", sid, &n);
                shared.emit(PeerEvent::Message {
                    from: sid,
                    msg: Message::Vote(n),
                })
            }
            Ok(Err(e)) => warn!(sid, reason = %e, "unreadable notification; skipped"),
            Err(end) => break end,
        }
    };
    match end {
        ReadEnd::Bad(e) => warn!(sid, reason = %e, "bad election frame; closing the connection"),
        end => info!(sid, reason = %end, "election connection down"),
    }
    close(&shared, sid, id);
}

/// Forgets election connection `id` of `sid` if it is still the current one.
fn close(shared: &Shared, sid: Sid, id: u64) {
    let mut st = shared.lock();
    let old = match st.election.get(&sid) {
        Some(c) if c.id == id => st.election.remove(&sid),
        _ => None,
    };
    drop(st);
    drop(old);
}

/// Queues `n` for `to` (to itself: delivered at once, as ZooKeeper loops it
/// back); without a connection, keeps it as `to`'s latest vote and dials.
pub(super) fn send(shared: &Arc<Shared>, to: Sid, n: Notification) {
    log_vote("sent", to, &n);
    if to == shared.my_id {
        shared.emit(PeerEvent::Message {
            from: to,
            msg: Message::Vote(n),
        });
        return;
    }
    let mut st = shared.lock();
    // A server outside the configuration (one joining by reconfig) is answered
    // on the connection it opened; it cannot be dialed.
    if !shared.is_member(to) && !st.election.contains_key(&to) {
        debug!(sid = to, "vote for an unknown, unconnected server dropped");
        return;
    }
    let n = match st.election.get(&to) {
        None => n,
        Some(conn) => match conn.tx.try_send(n) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(_)) => {
                debug!(sid = to, "election queue full; vote dropped");
                return;
            }
            Err(mpsc::error::TrySendError::Closed(n)) => {
                st.election.remove(&to);
                n
            }
        },
    };
    if !shared.is_member(to) {
        return;
    }
    st.pending_votes.insert(to, n);
    drop(st);
    start_dial(shared, to);
}

/// Starts dialing `sid` unless connected or already dialing.
fn start_dial(shared: &Arc<Shared>, sid: Sid) {
    let mut st = shared.lock();
    if st.election.contains_key(&sid) || !st.dialing.insert(sid) {
        return;
    }
    drop(st);
    shared.spawn(dial_loop(shared.clone(), sid));
}

/// Dials `sid` once, then again with growing pauses while a vote for it waits
/// and no connection is up.
async fn dial_loop(shared: Arc<Shared>, sid: Sid) {
    let mut backoff = DIAL_BACKOFF_MIN;
    loop {
        match dial_once(&shared, sid).await {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => debug!(sid, error = %e, "election dial failed"),
        }
        sleep(backoff).await;
        backoff = (backoff * 2).min(DIAL_BACKOFF_MAX);
        // Checked and given up under one lock, so a vote queued meanwhile
        // either is seen here or finds the loop gone and starts another.
        let mut st = shared.lock();
        if st.election.contains_key(&sid) || !st.pending_votes.contains_key(&sid) {
            st.dialing.remove(&sid);
            return;
        }
    }
    shared.lock().dialing.remove(&sid);
}

/// Connects to `sid` and sends the initial message. To a smaller sid the
/// connection is kept (`Ok(true)`); a larger sid keeps only connections it
/// dialed, so ours is closed and it dials back (`Ok(false)`).
async fn dial_once(shared: &Arc<Shared>, sid: Sid) -> io::Result<bool> {
    let peer = shared
        .member(sid)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no longer a member"))?;
    let connect = TcpStream::connect((peer.host.as_str(), peer.election_port));
    let mut stream = timeout(HANDSHAKE_TIMEOUT, connect)
        .await
        .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
    stream.set_nodelay(true)?;
    let mut hello = Vec::new();
    encode_initial(&mut hello, shared.my_id, &shared.my_election_address);
    stream.write_all(&hello).await?;
    if sid > shared.my_id {
        return Ok(false);
    }
    let (read, write) = stream.into_split();
    register(shared, sid, ItemReader::new(read), write);
    Ok(true)
}
