//! Quorum connections: learners' connections accepted on the quorum port
//! (named by their FOLLOWERINFO / OBSERVERINFO) and this server's connection
//! to its leader. QuorumPackets follow each other with no framing.

use super::stream::{write_batches, ItemReader, ReadEnd};
use super::{Conn, PeerEvent, Shared, QUORUM_QUEUE_BOUND};
use crate::zab::wire::{decode_learner_info, encode_packet, PacketDecoder};
use crate::zab::{Message, Packet, PacketType, Sid};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout};
use tracing::{debug, info, warn};

/// How long a learner may take to send its first packet, and a dial to the leader.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Dials of the leader before giving up (ZooKeeper's `Learner.connectToLeader` tries 5).
const LEADER_DIAL_ATTEMPTS: u32 = 5;
/// Pause between dials of the leader.
const LEADER_DIAL_RETRY: Duration = Duration::from_secs(1);

/// Reads a learner's first packet, which names it, and registers the connection.
pub(super) async fn accept(shared: Arc<Shared>, stream: TcpStream, remote: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let mut reader = ItemReader::new(read);
    let mut decoder = PacketDecoder::new();
    let first = timeout(HANDSHAKE_TIMEOUT, reader.next(|b| decoder.decode(b))).await;
    let first = match first {
        Ok(Ok(packet)) => packet,
        Ok(Err(end)) => {
            warn!(%remote, reason = %end, "bad first packet on the quorum port; closing");
            return;
        }
        Err(_) => {
            warn!(%remote, "no first packet in time on the quorum port; closing");
            return;
        }
    };
    match learner_sid(&first) {
        Ok(sid) => register(
            &shared,
            sid,
            reader,
            decoder,
            write,
            Opened::Accepted(first),
        ),
        Err(why) => warn!(%remote, reason = why, "learner connection refused"),
    }
}

/// The learner a first packet names.
fn learner_sid(first: &Packet) -> Result<Sid, &'static str> {
    if !matches!(
        first.kind,
        PacketType::FollowerInfo | PacketType::ObserverInfo
    ) {
        return Err("first packet is not FOLLOWERINFO or OBSERVERINFO");
    }
    let info = decode_learner_info(&first.data).map_err(|_| "unreadable LearnerInfo")?;
    u64::try_from(info.serverid).map_err(|_| "negative server id")
}

/// How a quorum connection came to be.
enum Opened {
    /// A learner dialed us; this was its first packet.
    Accepted(Packet),
    /// We dialed our leader (dial number `0`).
    Dialed(u64),
}

/// Makes this socket the quorum connection of `sid` and reports it: an
/// accepted one replaces (and reports closed) any other from `sid` and
/// delivers its first packet; a dialed one reports Connected, unless a later
/// `connect_leader` or `disconnect` superseded its dial.
fn register(
    shared: &Arc<Shared>,
    sid: Sid,
    reader: ItemReader,
    decoder: PacketDecoder,
    write: OwnedWriteHalf,
    opened: Opened,
) {
    let mut st = shared.lock();
    let old = match opened {
        Opened::Dialed(dial) => {
            if st.leader_dial.as_ref().map(|d| d.0) != Some(dial) {
                return;
            }
            st.leader_dial = None;
            shared.emit(PeerEvent::Connected(sid));
            st.quorum.remove(sid)
        }
        Opened::Accepted(first) => {
            let old = st.quorum.remove(sid);
            if old.is_some() {
                shared.emit(PeerEvent::Disconnected(sid));
            }
            shared.emit(PeerEvent::Message {
                from: sid,
                msg: Message::Quorum(first),
            });
            old
        }
    };
    let id = shared.conn_id();
    let (tx, rx) = mpsc::channel(QUORUM_QUEUE_BOUND);
    let writer_shared = shared.clone();
    let writer = shared.spawn(async move {
        if let Err(e) = write_batches(write, rx, encode_packet).await {
            info!(sid, error = %e, "quorum connection write failed");
        }
        close(&writer_shared, sid, id);
    });
    let reader = shared.spawn(read_packets(shared.clone(), sid, id, reader, decoder));
    let conn = Conn {
        id,
        tx,
        reader,
        writer: Some(writer),
    };
    st.quorum.insert(sid, id, conn);
    drop(st);
    drop(old);
    info!(sid, "quorum connection up");
}

/// Delivers `sid`'s packets until the connection ends or is no longer
/// `sid`'s current one.
///
/// A connection closed or replaced by this server (`disconnect`,
/// `connect_leader`, a learner's new FOLLOWERINFO) may still have packets
/// in its socket buffer, and this task may be running on another thread
/// when it is told to stop. Whatever it reads after that must not reach
/// the core: the core knows a peer only by its sid, so an old connection's
/// PROPOSAL would be taken as the next one on the new connection (a learner
/// then logged txns past a gap, and its next sync started after them).
/// Packets are therefore reported only under the lock, and only while this
/// is still the current connection: once the lock holder removed it,
/// nothing more of it is reported, and everything reported before is queued
/// ahead of any event of a later connection.
async fn read_packets(
    shared: Arc<Shared>,
    sid: Sid,
    id: u64,
    mut reader: ItemReader,
    mut decoder: PacketDecoder,
) {
    let mut batch = Vec::new();
    let end = loop {
        let mut end = match reader.next(|b| decoder.decode(b)).await {
            Ok(packet) => {
                batch.push(packet);
                None
            }
            Err(end) => Some(end),
        };
        while end.is_none() {
            match reader.buffered(|b| decoder.decode(b)) {
                Ok(Some(packet)) => batch.push(packet),
                Ok(None) => break,
                Err(e) => end = Some(e),
            }
        }
        if !report_if_current(&shared, sid, id, &mut batch) {
            debug!(
                sid,
                "quorum connection replaced or closed; its reader stops"
            );
            return;
        }
        if let Some(end) = end {
            break end;
        }
    };
    match end {
        ReadEnd::Bad(e) => warn!(sid, reason = %e, "bad quorum packet; closing the connection"),
        end => info!(sid, reason = %end, "quorum connection down"),
    }
    close(&shared, sid, id);
}

/// Reports (and empties) `batch` as `sid`'s packets if connection `id` is
/// still `sid`'s current one; false when it is not.
fn report_if_current(shared: &Shared, sid: Sid, id: u64, batch: &mut Vec<Packet>) -> bool {
    let st = shared.lock();
    if !st.quorum.admits(sid, id) {
        return false;
    }
    for packet in batch.drain(..) {
        shared.emit(PeerEvent::Message {
            from: sid,
            msg: Message::Quorum(packet),
        });
    }
    true
}

/// Forgets quorum connection `id` of `sid` and reports it closed, if it is
/// still the current one.
fn close(shared: &Shared, sid: Sid, id: u64) {
    let mut st = shared.lock();
    let old = st.quorum.ended(sid, id);
    if old.is_some() {
        shared.emit(PeerEvent::Disconnected(sid));
    }
    drop(st);
    drop(old);
}

/// Queues `p` on the quorum connection of `to`; without one it is dropped. A
/// full queue closes the connection.
pub(super) fn send(shared: &Arc<Shared>, to: Sid, p: Packet) {
    let mut st = shared.lock();
    let Some(conn) = st.quorum.get(to) else {
        debug!(sid = to, kind = ?p.kind, "no quorum connection; packet dropped");
        return;
    };
    if let Err(mpsc::error::TrySendError::Full(_)) = conn.tx.try_send(p) {
        warn!(sid = to, "quorum send queue full; closing the connection");
        let old = st.quorum.remove(to);
        shared.emit(PeerEvent::Disconnected(to));
        drop(st);
        drop(old);
    }
}

/// Closes every quorum connection and any earlier dial, then dials `leader`.
pub(super) fn connect_leader(shared: &Arc<Shared>, leader: Sid) {
    let mut st = shared.lock();
    if let Some((_, _, earlier)) = st.leader_dial.take() {
        earlier.abort();
    }
    let old = st.quorum.clear();
    let dial = shared.conn_id();
    let task = shared.spawn(dial_leader(shared.clone(), leader, dial));
    st.leader_dial = Some((dial, leader, task));
    drop(st);
    drop(old);
}

/// Dials `leader`'s quorum port up to [`LEADER_DIAL_ATTEMPTS`] times.
async fn dial_leader(shared: Arc<Shared>, leader: Sid, dial: u64) {
    if let Some(peer) = shared.member(leader) {
        for attempt in 1..=LEADER_DIAL_ATTEMPTS {
            let connect = TcpStream::connect((peer.host.as_str(), peer.quorum_port));
            match timeout(HANDSHAKE_TIMEOUT, connect).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    let (read, write) = stream.into_split();
                    let (reader, decoder) = (ItemReader::new(read), PacketDecoder::new());
                    let opened = Opened::Dialed(dial);
                    register(&shared, leader, reader, decoder, write, opened);
                    return;
                }
                Ok(Err(e)) => info!(leader, attempt, error = %e, "cannot reach the leader"),
                Err(_) => info!(leader, attempt, "dial of the leader timed out"),
            }
            sleep(LEADER_DIAL_RETRY).await;
        }
    }
    warn!(leader, "giving up connecting to the leader");
    let mut st = shared.lock();
    if st.leader_dial.as_ref().map(|d| d.0) == Some(dial) {
        st.leader_dial = None;
        shared.emit(PeerEvent::Disconnected(leader));
    }
}

/// Closes the quorum connection to or from `sid` and any dial to it, silently.
pub(super) fn disconnect(shared: &Arc<Shared>, sid: Sid) {
    let mut st = shared.lock();
    if st.leader_dial.as_ref().is_some_and(|d| d.1 == sid) {
        if let Some((_, _, task)) = st.leader_dial.take() {
            task.abort();
        }
    }
    let old = st.quorum.remove(sid);
    drop(st);
    if old.is_some() {
        info!(sid, "quorum connection closed on request");
    }
}
