//! ZooKeeper's quorum wire formats, sans-IO: the election handshake and
//! notifications of `QuorumCnxManager` / `FastLeaderElection`, and the
//! QuorumPackets of the quorum port (`Learner` / `LearnerHandler`).
//!
//! ```text
//! election-stream = initial-message frame*            ; dialer → acceptor first
//! initial-message = version:long(−65536 | −65535) sid:long len:int(1..2048) "host:port"
//!                 | sid:long(≥ 0)                      ; legacy: a bare sid
//! frame           = len:int(1..524288) notification
//! notification    = state:int leader:long zxid:long electionEpoch:long
//!                   [peerEpoch:long [version:int [configLen:int config]]]
//!
//! quorum-stream   = packet*                            ; no length prefix
//! packet          = type:int zxid:long data:buffer authinfo:vector<Id>
//!                   [snapshot "BenWasHere":ustring]    ; only after SNAP
//! snapshot        = count:int {session:long timeout:int}*count tree-part
//! ```
//! `tree-part` is `tree::serialize`'s grammar (ACL cache, nodes, the "/"
//! terminator). A quorum stream has no frames, so its decoders read from the
//! front of a growing buffer and answer `Ok(None)` until a whole item is there
//! ([`PacketDecoder`] keeps its place across calls, so a snapshot of any size
//! is walked once).
//!
//! Decoders of complete payloads (notification, LearnerInfo, touches, the
//! REQUEST header) return [`DecodeError`]; every error means the peer is
//! broken or hostile, and its connection is closed.

mod cursor;
mod quorum;
#[cfg(test)]
mod tests;

pub use quorum::{
    decode_learner_info, decode_request_header, decode_touches, encode_learner_info, encode_packet,
    encode_request_data, encode_touches, ForwardedRequest, PacketDecoder, SnapshotScan,
    PACKET_FIELD_LEN_MAX, SNAP_SIGNATURE,
};

use super::{epoch_of, Notification, ServerState, Sid, Vote};
use crate::jute::{DecodeError, Record};
use cursor::{Cursor, Stop};

/// `QuorumCnxManager.PROTOCOL_VERSION_V1`: the initial message carries one address.
pub const PROTOCOL_VERSION_V1: i64 = -65536;
/// `PROTOCOL_VERSION_V2`: the address may list several, separated by `|`.
pub const PROTOCOL_VERSION_V2: i64 = -65535;
/// The sid an observer without one sends (`Long.MAX_VALUE`).
pub const OBSERVER_SID: i64 = i64::MAX;
/// Longest address an initial message may carry (`maxBuffer`).
pub const INITIAL_ADDRESS_LEN_MAX: usize = 2048;
/// Longest notification frame (`PACKETMAXSIZE`, 512 KiB).
pub const FRAME_LEN_MAX: usize = 512 * 1024;
/// The notification version Paddock sends (`Notification.CURRENTVERSION`).
pub const NOTIFICATION_VERSION: i32 = 2;

/// What a dialer says first on an election connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialMessage {
    /// The dialer's sid as sent: [`OBSERVER_SID`] for an observer without one.
    pub sid: i64,
    /// Its election address(es), `host:port[|host:port…]`; `None` in the legacy form.
    pub address: Option<String>,
}

/// Appends a V1 initial message: this server's `sid` and election `address` (`host:port`).
pub fn encode_initial(out: &mut Vec<u8>, sid: Sid, address: &str) {
    PROTOCOL_VERSION_V1.write(out);
    (sid as i64).write(out);
    (address.len() as i32).write(out);
    out.extend_from_slice(address.as_bytes());
}

/// Decodes an initial message from the front of `buf`: `Ok(None)` until it is
/// whole, then the message and the bytes it took. Refuses an unknown
/// protocol version, an address length outside 1..=2048, and an address that
/// is not `host:port` (each of them, for V2).
pub fn decode_initial(buf: &[u8]) -> Result<Option<(InitialMessage, usize)>, DecodeError> {
    Cursor::new(buf).run(|c| {
        let first = c.i64()?;
        if first >= 0 {
            return Ok(InitialMessage {
                sid: first,
                address: None,
            });
        }
        if first != PROTOCOL_VERSION_V1 && first != PROTOCOL_VERSION_V2 {
            return Err(Stop::bad(DecodeError::Invalid("unknown protocol version")));
        }
        let sid = c.i64()?;
        let len = c.i32()?;
        if len <= 0 || len as usize > INITIAL_ADDRESS_LEN_MAX {
            return Err(Stop::bad(DecodeError::BadLength(len as i64)));
        }
        let bytes = c.take(len as usize)?;
        // Java decodes it leniently (bad bytes become U+FFFD), so do we.
        let address = String::from_utf8_lossy(bytes);
        if !address.split('|').all(is_host_port) {
            return Err(Stop::bad(DecodeError::Invalid("badly formed address")));
        }
        Ok(InitialMessage {
            sid,
            address: Some(address.into_owned()),
        })
    })
}

/// True for `host:port` (exactly one colon) or `[v6 literal]:port` with a
/// numeric port, the forms ZooKeeper's `ConfigUtils.getHostAndPort` splits
/// into two parts.
fn is_host_port(s: &str) -> bool {
    let port = match s.strip_prefix('[') {
        Some(rest) => rest.find(']').and_then(|end| rest.get(end + 2..)),
        None => match s.split(':').collect::<Vec<_>>()[..] {
            [_host, port] => Some(port),
            _ => None,
        },
    };
    port.is_some_and(|p| p.parse::<u16>().is_ok())
}

/// Decodes the length of the frame at the front of `buf`: `Ok(None)` until 4
/// bytes are there; refuses a length outside 1..=[`FRAME_LEN_MAX`] (the
/// connection must then be closed).
pub fn decode_frame_len(buf: &[u8]) -> Result<Option<usize>, DecodeError> {
    let Some(head) = buf.get(..4) else {
        return Ok(None);
    };
    let len = i32::from_be_bytes(head.try_into().expect("4 bytes"));
    if len <= 0 || len as usize > FRAME_LEN_MAX {
        return Err(DecodeError::BadLength(len as i64));
    }
    Ok(Some(len as usize))
}

/// ZooKeeper's number for a server state.
pub fn state_code(state: ServerState) -> i32 {
    match state {
        ServerState::Looking => 0,
        ServerState::Following => 1,
        ServerState::Leading => 2,
        ServerState::Observing => 3,
    }
}

/// The server state ZooKeeper numbers `code`, if any.
pub fn state_from_code(code: i32) -> Option<ServerState> {
    match code {
        0 => Some(ServerState::Looking),
        1 => Some(ServerState::Following),
        2 => Some(ServerState::Leading),
        3 => Some(ServerState::Observing),
        _ => None,
    }
}

/// Appends a whole election frame: the length, then `n` as a version-2
/// notification (`FastLeaderElection.buildMsg`).
pub fn encode_notification_frame(out: &mut Vec<u8>, n: &Notification) {
    let len = 44 + n.config.len();
    (len as i32).write(out);
    state_code(n.state).write(out);
    (n.vote.leader as i64).write(out);
    n.vote.zxid.write(out);
    n.vote.election_epoch.write(out);
    n.vote.peer_epoch.write(out);
    NOTIFICATION_VERSION.write(out);
    (n.config.len() as i32).write(out);
    out.extend_from_slice(&n.config);
}

/// Decodes a notification payload (the frame without its length) as
/// FastLeaderElection's receiver does: 28 bytes carry no peerEpoch (it is the
/// zxid's epoch), 40 bytes no version and no config; otherwise a version above
/// 1 carries a config whose length must fit the payload. Bytes after the last
/// field are ignored. Refuses shorter payloads, 29..=39 bytes, and an unknown state.
pub fn decode_notification(payload: &[u8]) -> Result<Notification, DecodeError> {
    let len = payload.len();
    let mut c = Cursor::new(payload);
    let fields = (|| -> Result<Notification, Stop> {
        let state = c.i32()?;
        let leader = c.i64()?;
        let zxid = c.i64()?;
        let election_epoch = c.i64()?;
        let (peer_epoch, version) = match len {
            28 => (i64::from(epoch_of(zxid)), 0),
            40 => (c.i64()?, 0),
            _ => (c.i64()?, c.i32()?),
        };
        let config = if version > 1 {
            let config_len = c.i32()?;
            if config_len < 0 || config_len as usize > len {
                return Err(Stop::bad(DecodeError::BadLength(config_len as i64)));
            }
            c.take(config_len as usize)?.to_vec()
        } else {
            Vec::new()
        };
        let state = state_from_code(state)
            .ok_or(Stop::bad(DecodeError::Invalid("unknown server state")))?;
        Ok(Notification {
            state,
            vote: Vote {
                leader: leader as Sid,
                zxid,
                election_epoch,
                peer_epoch,
            },
            config,
        })
    })();
    fields.map_err(Stop::into_complete)
}
