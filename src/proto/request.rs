//! Requests decoded from client frames (`RequestHeader` + body), and the connect
//! handshake, which has no header.
//!
//! A body that does not parse is not a connection error: ZooKeeper answers it with
//! MarshallingError (for a write, through the pipeline as an error txn) and keeps
//! the connection, so decoding yields [`Request::Malformed`]. Only a header that
//! does not parse, or an opcode ZooKeeper does not accept from clients, is final.

use crate::jute::records::*;
use crate::jute::{DecodeError, JResult, Record};
use crate::proto::OpCode;

/// One op inside a multi or multiRead request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultiOp {
    /// create (1), create2 (15) or createContainer (19), told apart by `op`.
    Create { op: OpCode, req: CreateRequest },
    /// createTTL (21).
    CreateTtl(CreateTtlRequest),
    /// delete (2).
    Delete(DeleteRequest),
    /// setData (5).
    SetData(SetDataRequest),
    /// check (13).
    Check(CheckVersionRequest),
    /// getChildren (8), multiRead only.
    GetChildren(GetChildrenRequest),
    /// getData (4), multiRead only.
    GetData(GetDataRequest),
}

impl MultiOp {
    /// True for the ops a multiRead may carry.
    pub fn is_read(&self) -> bool {
        matches!(self, MultiOp::GetChildren(_) | MultiOp::GetData(_))
    }
}

/// A decoded client request (everything after the RequestHeader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// create (1), create2 (15) or createContainer (19), told apart by `op`.
    Create {
        op: OpCode,
        req: CreateRequest,
    },
    CreateTtl(CreateTtlRequest),
    Delete(DeleteRequest),
    DeleteContainer {
        path: String,
    },
    Exists(ExistsRequest),
    GetData(GetDataRequest),
    SetData(SetDataRequest),
    GetAcl(GetAclRequest),
    SetAcl(SetAclRequest),
    GetChildren(GetChildrenRequest),
    GetChildren2(GetChildren2Request),
    Sync(SyncRequest),
    Ping,
    Multi(Vec<MultiOp>),
    MultiRead(Vec<MultiOp>),
    Reconfig(ReconfigRequest),
    CheckWatches(CheckWatchesRequest),
    RemoveWatches(RemoveWatchesRequest),
    Auth(AuthPacket),
    /// setWatches (101) and setWatches2 (105), the former with no persistent lists.
    SetWatches(SetWatches2),
    Sasl(GetSaslRequest),
    GetEphemerals(GetEphemeralsRequest),
    GetAllChildrenNumber(GetAllChildrenNumberRequest),
    AddWatch(AddWatchRequest),
    WhoAmI,
    CloseSession,
    /// A known opcode whose body did not parse: answered with MarshallingError.
    Malformed {
        op: OpCode,
    },
}

impl Request {
    /// True when the request changes state and so becomes a txn with its own zxid
    /// (`Request.isQuorum` for a global session). Failed writes consume a zxid too.
    pub fn is_write(&self) -> bool {
        match self {
            Request::Create { .. }
            | Request::CreateTtl(_)
            | Request::Delete(_)
            | Request::DeleteContainer { .. }
            | Request::SetData(_)
            | Request::SetAcl(_)
            | Request::Multi(_)
            | Request::Reconfig(_)
            | Request::CloseSession => true,
            Request::Malformed { op } => is_write_op(*op),
            _ => false,
        }
    }
}

/// True for opcodes that are txns (used for bodies that failed to parse).
pub fn is_write_op(op: OpCode) -> bool {
    use OpCode::*;
    matches!(
        op,
        Create
            | Create2
            | CreateContainer
            | CreateTtl
            | Delete
            | DeleteContainer
            | SetData
            | SetAcl
            | Multi
            | Reconfig
            | CloseSession
    )
}

/// Why a frame could not become a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The frame is shorter than a RequestHeader.
    BadHeader,
    /// The opcode is unknown or not valid from a client (e.g. a top-level check):
    /// ZooKeeper answers Unimplemented and closes the connection.
    Unimplemented { xid: i32, op: i32 },
}

/// Decodes a request frame (without its length prefix).
pub fn decode_request(frame: &[u8]) -> Result<(RequestHeader, Request), RequestError> {
    let (body, header) = RequestHeader::read(frame).map_err(|_| RequestError::BadHeader)?;
    let unimplemented = RequestError::Unimplemented {
        xid: header.xid,
        op: header.r#type,
    };
    let op = OpCode::from_i32(header.r#type).ok_or(unimplemented.clone())?;
    let request = match decode_body(op, body) {
        Some(Ok(r)) => r,
        Some(Err(_)) => Request::Malformed { op },
        None => return Err(unimplemented),
    };
    Ok((header, request))
}

fn parse<T: Record>(body: &[u8]) -> Result<T, DecodeError> {
    T::read(body).map(|(_, v)| v).map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => DecodeError::Truncated,
    })
}

/// Decodes a body for `op`; `None` when clients may not send `op`.
/// Like ZooKeeper's `readRecord`, bytes after the record are ignored.
fn decode_body(op: OpCode, body: &[u8]) -> Option<Result<Request, DecodeError>> {
    use OpCode as O;
    Some(match op {
        O::Create | O::Create2 | O::CreateContainer => {
            parse(body).map(|req| Request::Create { op, req })
        }
        O::CreateTtl => parse(body).map(Request::CreateTtl),
        O::Delete => parse(body).map(Request::Delete),
        O::DeleteContainer => parse::<String>(body).map(|path| Request::DeleteContainer { path }),
        O::Exists => parse(body).map(Request::Exists),
        O::GetData => parse(body).map(Request::GetData),
        O::SetData => parse(body).map(Request::SetData),
        O::GetAcl => parse(body).map(Request::GetAcl),
        O::SetAcl => parse(body).map(Request::SetAcl),
        O::GetChildren => parse(body).map(Request::GetChildren),
        O::GetChildren2 => parse(body).map(Request::GetChildren2),
        O::Sync => parse(body).map(Request::Sync),
        O::Ping => Ok(Request::Ping),
        O::Multi => decode_multi(body, false).map(Request::Multi),
        O::MultiRead => decode_multi(body, true).map(Request::MultiRead),
        O::Reconfig => parse(body).map(Request::Reconfig),
        O::CheckWatches => parse(body).map(Request::CheckWatches),
        O::RemoveWatches => parse(body).map(Request::RemoveWatches),
        O::Auth => parse(body).map(Request::Auth),
        O::SetWatches => parse::<SetWatches>(body).map(|w| {
            Request::SetWatches(SetWatches2 {
                relative_zxid: w.relative_zxid,
                data_watches: w.data_watches,
                exist_watches: w.exist_watches,
                child_watches: w.child_watches,
                ..Default::default()
            })
        }),
        O::SetWatches2 => parse(body).map(Request::SetWatches),
        O::Sasl => parse(body).map(Request::Sasl),
        O::GetEphemerals => parse(body).map(Request::GetEphemerals),
        O::GetAllChildrenNumber => parse(body).map(Request::GetAllChildrenNumber),
        O::AddWatch => parse(body).map(Request::AddWatch),
        O::WhoAmI => Ok(Request::WhoAmI),
        O::CloseSession => Ok(Request::CloseSession),
        O::Check | O::Notification | O::CreateSession | O::Error => return None,
    })
}

/// Decodes the ops of a multi (`read == false`) or multiRead body. Mixing read and
/// write ops, or an op type a multi cannot carry, fails (MarshallingError).
fn decode_multi(mut body: &[u8], read: bool) -> Result<Vec<MultiOp>, DecodeError> {
    let mut ops = Vec::new();
    loop {
        let (rest, h) = parse_with_rest::<MultiHeader>(body)?;
        if h.done {
            return Ok(ops);
        }
        let (rest, op) = decode_multi_op(h.r#type, rest)?;
        if op.is_read() != read {
            return Err(DecodeError::Invalid("multi mixes read and write ops"));
        }
        ops.push(op);
        body = rest;
    }
}

fn parse_with_rest<T: Record>(body: &[u8]) -> Result<(&[u8], T), DecodeError> {
    T::read(body).map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => DecodeError::Truncated,
    })
}

fn decode_multi_op(op_type: i32, body: &[u8]) -> Result<(&[u8], MultiOp), DecodeError> {
    fn map<T: Record>(
        body: &[u8],
        f: impl FnOnce(T) -> MultiOp,
    ) -> Result<(&[u8], MultiOp), DecodeError> {
        parse_with_rest::<T>(body).map(|(rest, v)| (rest, f(v)))
    }
    match OpCode::from_i32(op_type) {
        Some(op @ (OpCode::Create | OpCode::Create2 | OpCode::CreateContainer)) => {
            map(body, |req| MultiOp::Create { op, req })
        }
        Some(OpCode::CreateTtl) => map(body, MultiOp::CreateTtl),
        Some(OpCode::Delete) => map(body, MultiOp::Delete),
        Some(OpCode::SetData) => map(body, MultiOp::SetData),
        Some(OpCode::Check) => map(body, MultiOp::Check),
        Some(OpCode::GetChildren) => map(body, MultiOp::GetChildren),
        Some(OpCode::GetData) => map(body, MultiOp::GetData),
        _ => Err(DecodeError::Invalid("op type not allowed in multi")),
    }
}

/// The connect handshake's first frame (no RequestHeader). `read_only` is `None`
/// for old clients that omit the trailing flag; they get a reply without it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectRequest {
    pub protocol_version: i32,
    pub last_zxid_seen: i64,
    pub time_out: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub read_only: Option<bool>,
}

/// Decodes a ConnectRequest frame, with or without the trailing readOnly byte.
pub fn decode_connect_request(frame: &[u8]) -> Result<ConnectRequest, DecodeError> {
    fn fields(i: &[u8]) -> JResult<'_, ConnectRequest> {
        let (i, protocol_version) = i32::read(i)?;
        let (i, last_zxid_seen) = i64::read(i)?;
        let (i, time_out) = i32::read(i)?;
        let (i, session_id) = i64::read(i)?;
        let (i, passwd) = Option::<Vec<u8>>::read(i)?;
        let (i, read_only) = if i.is_empty() {
            (i, None)
        } else {
            bool::read(i).map(|(i, b)| (i, Some(b)))?
        };
        Ok((
            i,
            ConnectRequest {
                protocol_version,
                last_zxid_seen,
                time_out,
                session_id,
                passwd: passwd.unwrap_or_default(),
                read_only,
            },
        ))
    }
    crate::jute::finish(fields(frame))
}

/// The server's handshake reply; `read_only` `None` omits the trailing byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectResponse {
    pub protocol_version: i32,
    pub time_out: i32,
    pub session_id: i64,
    pub passwd: Vec<u8>,
    pub read_only: Option<bool>,
}

impl ConnectResponse {
    /// Appends the response's bytes (no length prefix).
    pub fn write(&self, out: &mut Vec<u8>) {
        self.protocol_version.write(out);
        self.time_out.write(out);
        self.session_id.write(out);
        crate::jute::write_buffer(out, Some(&self.passwd));
        if let Some(ro) = self.read_only {
            ro.write(out);
        }
    }
}
