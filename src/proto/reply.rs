//! Reply frames: a 4-byte length, a ReplyHeader and, on success, the op's body.
//! Watch notifications are replies with xid −1.

use crate::jute::records::{ErrorResponse, MultiHeader, ReplyHeader, Stat};
use crate::jute::Record;
use crate::proto::codes::{keeper_state, xid};
use crate::proto::ErrorCode;

/// Builds a length-prefixed frame: reserves the length, lets `fill` write the
/// payload, then patches the length in.
pub fn frame(fill: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&[0; 4]);
    fill(&mut out);
    let len = (out.len() - 4) as i32;
    out[..4].copy_from_slice(&len.to_be_bytes());
    out
}

/// A reply with a body (`err` is OK) or without one (any error).
pub fn reply<B: Record>(xid: i32, zxid: i64, err: ErrorCode, body: Option<&B>) -> Vec<u8> {
    frame(|out| {
        ReplyHeader {
            xid,
            zxid,
            err: err.code(),
        }
        .write(out);
        if let (ErrorCode::Ok, Some(b)) = (err, body) {
            b.write(out);
        }
    })
}

/// A reply that is only the 16-byte header (errors, and ops with no body).
pub fn header_only(xid: i32, zxid: i64, err: ErrorCode) -> Vec<u8> {
    reply::<i32>(xid, zxid, err, None)
}

/// A watch notification: ReplyHeader{−1, −1, 0} + WatcherEvent{type, SyncConnected, path}.
/// ZooKeeper 3.8 sends zxid −1 in notifications.
pub fn watch_event(event_type: i32, path: &str) -> Vec<u8> {
    frame(|out| {
        ReplyHeader {
            xid: xid::NOTIFICATION,
            zxid: -1,
            err: 0,
        }
        .write(out);
        (event_type).write(out);
        keeper_state::SYNC_CONNECTED.write(out);
        crate::jute::write_ustring(out, Some(path));
    })
}

/// The result of one op of a multi or multiRead, as MultiResponse carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpResult {
    /// create (1): the created path.
    Create(String),
    /// create2, createTTL, createContainer: path and Stat, under type create2 (15).
    Create2(String, Stat),
    /// delete and deleteContainer.
    Delete,
    /// setData: the new Stat.
    SetData(Stat),
    /// check.
    Check,
    /// getChildren in multiRead.
    GetChildren(Vec<String>),
    /// getData in multiRead.
    GetData(Option<Vec<u8>>, Stat),
    /// A failed op (or, in a failed multi, every op: 0 before the failure, −2 after).
    Error(i32),
}

impl OpResult {
    /// Appends `MultiHeader` + body for this result.
    pub fn write(&self, out: &mut Vec<u8>) {
        let (op_type, err) = match self {
            OpResult::Create(_) => (1, 0),
            OpResult::Create2(..) => (15, 0),
            OpResult::Delete => (2, 0),
            OpResult::SetData(_) => (5, 0),
            OpResult::Check => (13, 0),
            OpResult::GetChildren(_) => (8, 0),
            OpResult::GetData(..) => (4, 0),
            OpResult::Error(e) => (-1, *e),
        };
        MultiHeader {
            r#type: op_type,
            done: false,
            err,
        }
        .write(out);
        // The response records' fields, written in place (no record copies).
        match self {
            OpResult::Create(path) => path.write(out),
            OpResult::Create2(path, stat) => {
                path.write(out);
                stat.write(out);
            }
            OpResult::SetData(stat) => stat.write(out),
            OpResult::GetChildren(children) => children.write(out),
            OpResult::GetData(data, stat) => {
                data.write(out);
                stat.write(out);
            }
            OpResult::Error(e) => ErrorResponse { err: *e }.write(out),
            OpResult::Delete | OpResult::Check => {}
        }
    }
}

/// A MultiResponse body: each result, then the terminator {−1, true, −1}.
pub fn write_multi_response(results: &[OpResult], out: &mut Vec<u8>) {
    for r in results {
        r.write(out);
    }
    MultiHeader {
        r#type: -1,
        done: true,
        err: -1,
    }
    .write(out);
}
