//! QuorumPackets on the quorum port, the snapshot that follows SNAP, and the
//! payloads of REQUEST, FOLLOWERINFO / OBSERVERINFO and a learner's PING.

use super::cursor::{Cursor, Stop};
use crate::jute::records::{Id, LearnerInfo};
use crate::jute::{write_buffer, write_ustring, DecodeError, Record};
use crate::zab::{Packet, PacketType, TxnBytes};

/// What follows a snapshot on a SNAP stream (`LearnerHandler`'s "signature").
pub const SNAP_SIGNATURE: &str = "BenWasHere";
/// Longest `buffer` or `ustring` accepted in a packet or a snapshot (16 MiB):
/// far above ZooKeeper's `jute.maxbuffer` (1 MiB) so any real peer passes,
/// low enough that a hostile length cannot make us buffer without bound.
pub const PACKET_FIELD_LEN_MAX: usize = 16 << 20;
/// Bytes of a StatPersisted record in a snapshot node.
const STAT_PERSISTED_LEN: usize = 60;
/// ZooKeeper's LearnerInfo protocol version when the data omits it.
const LEARNER_PROTOCOL_DEFAULT: i32 = 0x1;

/// Every packet type, for decoding type numbers.
const PACKET_TYPES: [PacketType; 19] = [
    PacketType::Request,
    PacketType::Proposal,
    PacketType::Ack,
    PacketType::Commit,
    PacketType::Ping,
    PacketType::Revalidate,
    PacketType::Sync,
    PacketType::Inform,
    PacketType::CommitAndActivate,
    PacketType::NewLeader,
    PacketType::FollowerInfo,
    PacketType::UpToDate,
    PacketType::Diff,
    PacketType::Trunc,
    PacketType::Snap,
    PacketType::ObserverInfo,
    PacketType::LeaderInfo,
    PacketType::AckEpoch,
    PacketType::InformAndActivate,
];

/// The packet type ZooKeeper numbers `code`, if any.
pub(super) fn packet_type(code: i32) -> Option<PacketType> {
    PACKET_TYPES.iter().copied().find(|&t| t as i32 == code)
}

/// Appends `p` as it travels on the quorum port. Empty data is written as
/// null (as ZooKeeper sends ACK, COMMIT, UPTODATE…), except for PING, whose
/// receiver reads the touch list and needs a (possibly empty) buffer; empty
/// auth is a null vector. A SNAP is the packet with null data, then `p.data`
/// (the serialized snapshot), then [`SNAP_SIGNATURE`].
pub fn encode_packet(out: &mut Vec<u8>, p: &Packet) {
    (p.kind as i32).write(out);
    p.zxid.write(out);
    if p.kind == PacketType::Snap {
        write_buffer(out, None);
        (-1i32).write(out);
        out.extend_from_slice(&p.data);
        write_ustring(out, Some(SNAP_SIGNATURE));
        return;
    }
    let null_data = p.data.is_empty() && p.kind != PacketType::Ping;
    write_buffer(out, (!null_data).then_some(&p.data[..]));
    if p.auth.is_empty() {
        (-1i32).write(out);
    } else {
        p.auth.write(out);
    }
}

/// The fields of a QuorumPacket record.
struct Head {
    /// The packet type.
    kind: PacketType,
    /// Its zxid.
    zxid: i64,
    /// Its data, null as empty.
    data: TxnBytes,
    /// Its authinfo, null as empty.
    auth: Vec<Id>,
}

/// Reads one QuorumPacket record; an unknown type is an error.
fn read_head(c: &mut Cursor<'_>) -> Result<Head, Stop> {
    let code = c.i32()?;
    let kind = packet_type(code).ok_or(Stop::Bad(DecodeError::Invalid("unknown packet type")))?;
    let zxid = c.i64()?;
    let data = TxnBytes::from(c.buffer(PACKET_FIELD_LEN_MAX)?.unwrap_or_default());
    let count = c.i32()?;
    if count < -1 {
        return Err(Stop::Bad(DecodeError::BadLength(count as i64)));
    }
    let mut auth = Vec::new();
    for _ in 0..count.max(0) {
        let scheme = c.ustring(PACKET_FIELD_LEN_MAX)?.to_owned();
        let id = c.ustring(PACKET_FIELD_LEN_MAX)?.to_owned();
        auth.push(Id { scheme, id });
    }
    Ok(Head {
        kind,
        zxid,
        data,
        auth,
    })
}

/// Decodes packets from the front of a growing stream buffer. Between calls
/// that return `Ok(None)` the caller only appends to the buffer; after a
/// packet it drops the bytes returned with it. A SNAP's snapshot is walked
/// incrementally (each byte once), however many calls it takes to arrive.
#[derive(Debug, Default)]
pub struct PacketDecoder {
    /// A SNAP whose snapshot has not fully arrived: its zxid, the length of
    /// the packet record before the snapshot, and the walk so far.
    snap: Option<(i64, usize, SnapshotScan)>,
}

impl PacketDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> PacketDecoder {
        PacketDecoder::default()
    }

    /// The next packet at the front of `buf` and the bytes it took, or
    /// `Ok(None)` until it has fully arrived. For SNAP, `data` is the snapshot
    /// (the signature is checked and dropped). An error leaves the stream unusable.
    pub fn decode(&mut self, buf: &[u8]) -> Result<Option<(Packet, usize)>, DecodeError> {
        if self.snap.is_none() {
            let Some((head, used)) = Cursor::new(buf).run(read_head)? else {
                return Ok(None);
            };
            if head.kind != PacketType::Snap {
                let packet = Packet {
                    kind: head.kind,
                    zxid: head.zxid,
                    data: head.data,
                    auth: head.auth,
                };
                return Ok(Some((packet, used)));
            }
            self.snap = Some((head.zxid, used, SnapshotScan::new()));
        }
        self.continue_snap(buf)
    }

    /// Walks the pending SNAP's snapshot further, then reads the signature.
    fn continue_snap(&mut self, buf: &[u8]) -> Result<Option<(Packet, usize)>, DecodeError> {
        let (zxid, head_len, scan) = self.snap.as_mut().expect("a SNAP is pending");
        let (zxid, head_len) = (*zxid, *head_len);
        let Some(snap_len) = scan.advance(&buf[head_len..])? else {
            return Ok(None);
        };
        let end = head_len + snap_len;
        let Some((signature, used)) =
            Cursor::at(buf, end).run(|c| c.ustring(SNAP_SIGNATURE.len()))?
        else {
            return Ok(None);
        };
        self.snap = None;
        if signature != SNAP_SIGNATURE {
            return Err(DecodeError::Invalid("missing signature after snapshot"));
        }
        let packet = Packet {
            kind: PacketType::Snap,
            zxid,
            data: TxnBytes::from(&buf[head_len..end]),
            auth: Vec::new(),
        };
        Ok(Some((packet, used)))
    }
}

/// Where the walk of a snapshot is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the session count.
    SessionCount,
    /// This many sessions remain.
    Sessions(u32),
    /// Before the ACL cache's entry count.
    AclCount,
    /// This many ACL cache entries remain.
    Acls(u32),
    /// Reading nodes until the "/" terminator.
    Nodes,
    /// The terminator was read.
    Done,
}

/// Finds where a serialized snapshot (`SerializeUtils.serializeSnapshot`:
/// sessions, ACL cache, nodes, "/" terminator; no file header) ends, reading
/// it as it arrives: each call resumes after the last whole item.
#[derive(Debug, Clone)]
pub struct SnapshotScan {
    /// Offset of the first item not yet walked.
    pos: usize,
    /// What that item is.
    phase: Phase,
}

impl Default for SnapshotScan {
    fn default() -> Self {
        SnapshotScan::new()
    }
}

impl SnapshotScan {
    /// A walk at the start of a snapshot.
    pub fn new() -> SnapshotScan {
        SnapshotScan {
            pos: 0,
            phase: Phase::SessionCount,
        }
    }

    /// Walks `buf` (the snapshot's bytes so far, from its first byte; each call
    /// passes at least the bytes of the previous one) as far as whole items go.
    /// Returns the snapshot's length once the terminator is read, `Ok(None)`
    /// before; refuses a negative or oversized field length.
    pub fn advance(&mut self, buf: &[u8]) -> Result<Option<usize>, DecodeError> {
        while self.phase != Phase::Done {
            let mut c = Cursor::at(buf, self.pos);
            match step(self.phase, &mut c) {
                Ok(next) => {
                    self.phase = next;
                    self.pos = c.pos;
                }
                Err(Stop::More) => return Ok(None),
                Err(Stop::Bad(e)) => return Err(e),
            }
        }
        Ok(Some(self.pos))
    }
}

/// Reads one item of `phase` and returns the phase after it.
fn step(phase: Phase, c: &mut Cursor<'_>) -> Result<Phase, Stop> {
    Ok(match phase {
        Phase::SessionCount => Phase::Sessions(c.i32()?.max(0) as u32),
        Phase::Sessions(0) => Phase::AclCount,
        Phase::Sessions(n) => {
            c.take(12)?;
            Phase::Sessions(n - 1)
        }
        Phase::AclCount => Phase::Acls(c.i32()?.max(0) as u32),
        Phase::Acls(0) => Phase::Nodes,
        Phase::Acls(n) => {
            c.i64()?;
            c.skip_acls(PACKET_FIELD_LEN_MAX)?;
            Phase::Acls(n - 1)
        }
        Phase::Nodes => {
            if c.ustring(PACKET_FIELD_LEN_MAX)? == "/" {
                return Ok(Phase::Done);
            }
            c.buffer(PACKET_FIELD_LEN_MAX)?;
            c.take(8 + STAT_PERSISTED_LEN)?;
            Phase::Nodes
        }
        Phase::Done => Phase::Done,
    })
}

/// A forwarded client request: the head of a REQUEST packet's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForwardedRequest<'a> {
    /// The client's session.
    pub session_id: i64,
    /// The request's cxid.
    pub cxid: i32,
    /// The request's opcode.
    pub op: i32,
    /// The request record's bytes (may be empty).
    pub request: &'a [u8],
}

/// The data of a REQUEST packet: sessionId, cxid, type, then the request bytes.
pub fn encode_request_data(session_id: i64, cxid: i32, op: i32, request: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + request.len());
    session_id.write(&mut out);
    cxid.write(&mut out);
    op.write(&mut out);
    out.extend_from_slice(request);
    out
}

/// Splits a REQUEST packet's data into its header and the request bytes;
/// refuses data shorter than the 16-byte header.
pub fn decode_request_header(data: &[u8]) -> Result<ForwardedRequest<'_>, DecodeError> {
    let mut c = Cursor::new(data);
    let head = (|| Ok::<_, Stop>((c.i64()?, c.i32()?, c.i32()?)))();
    let (session_id, cxid, op) = head.map_err(Stop::into_complete)?;
    Ok(ForwardedRequest {
        session_id,
        cxid,
        op,
        request: &data[16..],
    })
}

/// The data of FOLLOWERINFO / OBSERVERINFO.
pub fn encode_learner_info(info: &LearnerInfo) -> Vec<u8> {
    crate::jute::encode(info)
}

/// Reads FOLLOWERINFO / OBSERVERINFO data as `LearnerHandler` does: the sid
/// from the first 8 bytes, the protocol version (default 1) when 12 bytes are
/// there, the config version (default 0) when 20 are; longer data is fine.
/// Refuses fewer than 8 bytes.
pub fn decode_learner_info(data: &[u8]) -> Result<LearnerInfo, DecodeError> {
    let mut c = Cursor::new(data);
    let serverid = c.i64().map_err(Stop::into_complete)?;
    let protocol_version = c.i32().unwrap_or(LEARNER_PROTOCOL_DEFAULT);
    let config_version = if data.len() >= 20 {
        c.i64().map_err(Stop::into_complete)?
    } else {
        0
    };
    Ok(LearnerInfo {
        serverid,
        protocol_version,
        config_version,
    })
}

/// The data of a learner's PING: each touched session and its timeout (ms).
pub fn encode_touches(touches: &[(i64, i32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 * touches.len());
    for (session, timeout_ms) in touches {
        session.write(&mut out);
        timeout_ms.write(&mut out);
    }
    out
}

/// Reads a learner's PING data; refuses a trailing partial entry.
pub fn decode_touches(data: &[u8]) -> Result<Vec<(i64, i32)>, DecodeError> {
    if data.len() % 12 != 0 {
        return Err(DecodeError::Truncated);
    }
    Ok(data
        .chunks_exact(12)
        .map(|e| {
            let session = i64::from_be_bytes(e[..8].try_into().expect("8 bytes"));
            let timeout = i32::from_be_bytes(e[8..].try_into().expect("4 bytes"));
            (session, timeout)
        })
        .collect())
}
