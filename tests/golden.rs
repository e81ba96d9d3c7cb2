//! Golden frames captured from Apache ZooKeeper 3.8.0 and its clients (see
//! tests/golden/README.md and scripts/capture-golden): every frame must decode
//! with our records and re-encode to the very same bytes, and a few facts the
//! real server shows are pinned down.
//!
//! The opcode → record mapping lives here until `proto` has its `Request` and
//! `Response` decoders; then this test should switch to them.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use paddock::jute::records::{self, *};
use paddock::jute::Record;
use paddock::proto::codes::{xid, ErrorCode, OpCode};

/// Direction byte of a captured frame sent by the client.
const TO_SERVER: u8 = 0;
/// Direction byte of a captured frame sent by the server.
const TO_CLIENT: u8 = 1;
/// The opcode of a multi op or result that is an error (`ZooDefs.OpCode.error`).
const MULTI_ERROR_TYPE: i32 = -1;
/// The MultiHeader that ends a multi request or response.
const MULTI_DONE: MultiHeader = MultiHeader {
    r#type: MULTI_ERROR_TYPE,
    done: true,
    err: -1,
};

/// One captured frame: who sent it and its bytes without the length prefix.
struct Frame {
    to_server: bool,
    bytes: Vec<u8>,
}

/// Reads a capture file: records of `u8 direction, u32 length, bytes`.
fn load(path: &Path) -> Vec<Frame> {
    let data = std::fs::read(path).expect("read capture");
    let mut rest = data.as_slice();
    let mut frames = Vec::new();
    while let [direction, l0, l1, l2, l3, tail @ ..] = rest {
        let len = u32::from_be_bytes([*l0, *l1, *l2, *l3]) as usize;
        assert!(
            len <= tail.len(),
            "{}: frame runs past the file",
            path.display()
        );
        assert!(
            matches!(*direction, TO_SERVER | TO_CLIENT),
            "{}: bad direction",
            path.display()
        );
        frames.push(Frame {
            to_server: *direction == TO_SERVER,
            bytes: tail[..len].to_vec(),
        });
        rest = &tail[len..];
    }
    assert!(rest.is_empty(), "{}: trailing bytes", path.display());
    frames
}

/// Every capture file, sorted, so failures name a stable file.
fn capture_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("tests/golden")
        .flat_map(|dir| {
            std::fs::read_dir(dir.expect("entry").path())
                .into_iter()
                .flatten()
        })
        .map(|file| file.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "bin"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no captures under {}", root.display());
    files
}

/// Decodes a frame record by record while re-encoding each record, so that
/// [`Recoder::finish`] can compare the re-encoding with the original bytes.
struct Recoder<'a> {
    input: &'a [u8],
    original: &'a [u8],
    out: Vec<u8>,
}

impl<'a> Recoder<'a> {
    fn new(frame: &'a [u8]) -> Self {
        Recoder {
            input: frame,
            original: frame,
            out: Vec::new(),
        }
    }

    /// Decodes one `T`, re-encodes it, and returns it.
    fn take<T: Record + std::fmt::Debug>(&mut self) -> T {
        let (rest, value) = T::read(self.input).unwrap_or_else(|e| {
            panic!(
                "{} does not decode: {e:?} in {:02x?}",
                std::any::type_name::<T>(),
                self.original
            )
        });
        value.write(&mut self.out);
        self.input = rest;
        value
    }

    /// Decodes and re-encodes one `T` whose value the caller does not need.
    fn skip<T: Record + std::fmt::Debug>(&mut self) {
        self.take::<T>();
    }

    fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// Asserts that the whole frame was consumed and re-encoded identically.
    fn finish(self) {
        assert!(
            self.input.is_empty(),
            "{} bytes left over in {:02x?}",
            self.input.len(),
            self.original
        );
        assert_eq!(self.out, self.original, "re-encoding differs");
    }
}

/// The body of a request (or of a multi op) with opcode `op`.
fn request_body(op: OpCode, r: &mut Recoder) {
    use OpCode::*;
    match op {
        Create | Create2 | CreateContainer => r.skip::<CreateRequest>(),
        CreateTtl => r.skip::<CreateTtlRequest>(),
        Delete | DeleteContainer => r.skip::<DeleteRequest>(),
        Exists => r.skip::<ExistsRequest>(),
        GetData => r.skip::<GetDataRequest>(),
        SetData => r.skip::<SetDataRequest>(),
        GetAcl => r.skip::<GetAclRequest>(),
        SetAcl => r.skip::<SetAclRequest>(),
        GetChildren => r.skip::<GetChildrenRequest>(),
        GetChildren2 => r.skip::<GetChildren2Request>(),
        Sync => r.skip::<SyncRequest>(),
        Check => r.skip::<CheckVersionRequest>(),
        Multi | MultiRead => multi_request(r),
        Reconfig => r.skip::<ReconfigRequest>(),
        CheckWatches => r.skip::<CheckWatchesRequest>(),
        RemoveWatches => r.skip::<RemoveWatchesRequest>(),
        Auth => r.skip::<AuthPacket>(),
        SetWatches => r.skip::<records::SetWatches>(),
        SetWatches2 => r.skip::<records::SetWatches2>(),
        Sasl => r.skip::<GetSaslRequest>(),
        GetEphemerals => r.skip::<GetEphemeralsRequest>(),
        GetAllChildrenNumber => r.skip::<GetAllChildrenNumberRequest>(),
        AddWatch => r.skip::<AddWatchRequest>(),
        Ping | WhoAmI | CloseSession => {}
        Notification | CreateSession | Error => panic!("{op:?} is not a client request"),
    }
}

/// The body of a successful reply (or of a multi result) to opcode `op`.
fn reply_body(op: OpCode, r: &mut Recoder) {
    use OpCode::*;
    match op {
        Create => r.skip::<CreateResponse>(),
        Create2 | CreateContainer | CreateTtl => r.skip::<Create2Response>(),
        Exists => r.skip::<ExistsResponse>(),
        GetData => r.skip::<GetDataResponse>(),
        SetData => r.skip::<SetDataResponse>(),
        GetAcl => r.skip::<GetAclResponse>(),
        SetAcl => r.skip::<SetAclResponse>(),
        GetChildren => r.skip::<GetChildrenResponse>(),
        GetChildren2 => r.skip::<GetChildren2Response>(),
        Sync => r.skip::<SyncResponse>(),
        Multi | MultiRead => multi_response(r),
        GetEphemerals => r.skip::<GetEphemeralsResponse>(),
        GetAllChildrenNumber => r.skip::<GetAllChildrenNumberResponse>(),
        AddWatch => r.skip::<ErrorResponse>(),
        WhoAmI => r.skip::<WhoAmIResponse>(),
        Reconfig => r.skip::<GetDataResponse>(),
        Delete | DeleteContainer | Check | CheckWatches | RemoveWatches | Auth | SetWatches
        | SetWatches2 | Ping | CloseSession => {}
        Sasl | Notification | CreateSession | Error => {
            panic!("no golden reply for {op:?}")
        }
    }
}

fn opcode(n: i32) -> OpCode {
    OpCode::from_i32(n).unwrap_or_else(|| panic!("unknown opcode {n}"))
}

/// Ops of a multi request, each a MultiHeader and its request, until [`MULTI_DONE`].
fn multi_request(r: &mut Recoder) {
    multi_parts(r, |header, r| request_body(opcode(header.r#type), r));
}

/// Results of a multi, each a MultiHeader and its result (an ErrorResponse for
/// type −1), until [`MULTI_DONE`].
fn multi_response(r: &mut Recoder) {
    multi_parts(r, |header, r| {
        if header.r#type == MULTI_ERROR_TYPE {
            let body = r.take::<ErrorResponse>();
            assert_eq!(body.err, header.err, "multi error result repeats its code");
        } else {
            reply_body(opcode(header.r#type), r);
        }
    });
}

/// Reads MultiHeaders, handing each one but the last to `part` to read what
/// follows it; the last must be [`MULTI_DONE`].
fn multi_parts(r: &mut Recoder, mut part: impl FnMut(&MultiHeader, &mut Recoder)) {
    loop {
        let header = r.take::<MultiHeader>();
        if header.done {
            assert_eq!(header, MULTI_DONE);
            return;
        }
        part(&header, r);
    }
}

/// The connect handshake, written by hand in Java (ConnectRequest then an
/// optional readOnly flag): protocolVersion, lastZxidSeen, timeOut, sessionId,
/// passwd[, readOnly]. Returns the session it names (id 0 for a new one).
fn connect_request(r: &mut Recoder) -> Session {
    r.skip::<i32>();
    r.skip::<i64>();
    r.skip::<i32>();
    let session = Session {
        id: r.take(),
        passwd: r.take(),
    };
    optional_read_only(r);
    session
}

/// ConnectResponse: protocolVersion, timeOut, sessionId, passwd[, readOnly].
/// Returns the session it grants.
fn connect_response(r: &mut Recoder) -> Session {
    r.skip::<i32>();
    r.skip::<i32>();
    let session = Session {
        id: r.take(),
        passwd: r.take(),
    };
    optional_read_only(r);
    session
}

/// A session id and password, as a handshake names them.
#[derive(Debug, Clone, PartialEq)]
struct Session {
    id: i64,
    passwd: Option<Vec<u8>>,
}

/// One connection's handshake.
struct Handshake {
    /// The scenario directory: connections of one scenario share a client.
    scenario: PathBuf,
    request: Session,
    request_len: usize,
    response: Session,
    response_len: usize,
}

fn optional_read_only(r: &mut Recoder) {
    if !r.is_empty() {
        r.skip::<bool>();
    }
}

/// What a replayed connection showed, for the fact checks.
#[derive(Default)]
struct Seen {
    /// Opcodes the client sent (multi ops included only as `Multi`/`MultiRead`).
    ops: BTreeSet<i32>,
    /// Each server frame after the handshake: its header and the request opcode.
    replies: Vec<(ReplyHeader, Option<OpCode>, Vec<u8>)>,
    /// Each request: its header and frame bytes.
    requests: Vec<(RequestHeader, Vec<u8>)>,
    /// Each connection's handshake, in file order.
    handshakes: Vec<Handshake>,
}

/// Re-encodes every frame of one connection, pairing replies with requests by xid.
fn replay(path: &Path, seen: &mut Seen) {
    let frames = load(path);
    let mut ops_by_xid: HashMap<i32, OpCode> = HashMap::new();
    let (mut request, mut response) = (None, None);
    for frame in &frames {
        let mut r = Recoder::new(&frame.bytes);
        if frame.to_server && request.is_none() {
            request = Some((connect_request(&mut r), frame.bytes.len()));
        } else if !frame.to_server && response.is_none() {
            response = Some((connect_response(&mut r), frame.bytes.len()));
        } else if frame.to_server {
            let header = r.take::<RequestHeader>();
            request_body(opcode(header.r#type), &mut r);
            ops_by_xid.insert(header.xid, opcode(header.r#type));
            seen.ops.insert(header.r#type);
            seen.requests.push((header, frame.bytes.clone()));
        } else {
            let header = r.take::<ReplyHeader>();
            let op = server_frame_body(&header, &ops_by_xid, &mut r);
            seen.replies.push((header, op, frame.bytes.clone()));
        }
        r.finish();
    }
    let (request, request_len) = request.expect("connect request");
    let (response, response_len) = response.expect("connect response");
    let scenario = path.parent().expect("scenario dir").to_path_buf();
    seen.handshakes.push(Handshake {
        scenario,
        request,
        request_len,
        response,
        response_len,
    });
}

/// Decodes what follows a ReplyHeader; returns the opcode it answers, if any.
fn server_frame_body(
    header: &ReplyHeader,
    ops: &HashMap<i32, OpCode>,
    r: &mut Recoder,
) -> Option<OpCode> {
    match header.xid {
        xid::NOTIFICATION => {
            r.skip::<WatcherEvent>();
            None
        }
        xid::PING | xid::AUTH | xid::SET_WATCHES => None,
        n => {
            let op = *ops
                .get(&n)
                .unwrap_or_else(|| panic!("reply xid {n} has no request"));
            if header.err == 0 {
                reply_body(op, r);
            }
            Some(op)
        }
    }
}

fn replay_all() -> Seen {
    let mut seen = Seen::default();
    for path in capture_files() {
        replay(&path, &mut seen);
    }
    seen
}

#[test]
fn every_golden_frame_reencodes_to_the_same_bytes() {
    let seen = replay_all();
    assert!(seen.requests.len() > 100 && seen.replies.len() > 100);
}

#[test]
fn captures_cover_every_client_opcode() {
    use OpCode::*;
    let expected = [
        Create,
        Delete,
        Exists,
        GetData,
        SetData,
        GetAcl,
        SetAcl,
        GetChildren,
        Sync,
        Ping,
        GetChildren2,
        Multi,
        Create2,
        CheckWatches,
        RemoveWatches,
        CreateContainer,
        CreateTtl,
        MultiRead,
        Auth,
        SetWatches,
        GetEphemerals,
        GetAllChildrenNumber,
        SetWatches2,
        AddWatch,
        WhoAmI,
        CloseSession,
        Reconfig,
    ];
    let seen = replay_all().ops;
    let missing: Vec<OpCode> = expected
        .into_iter()
        .filter(|op| !seen.contains(&(*op as i32)))
        .collect();
    assert!(missing.is_empty(), "no capture of {missing:?}");
}

#[test]
fn connect_response_is_37_bytes_with_read_only_and_36_without() {
    for handshake in replay_all().handshakes {
        match handshake.request_len {
            45 => assert_eq!(handshake.response_len, 37),
            44 => assert_eq!(handshake.response_len, 36),
            n => panic!("connect request of {n} bytes"),
        }
    }
}

/// A new session is asked for with id 0 and a zero password; a reconnect
/// presents the granted id and 16-byte password and is granted the same.
#[test]
fn reconnect_presents_and_keeps_the_granted_session() {
    let handshakes = replay_all().handshakes;
    for handshake in &handshakes {
        assert_ne!(handshake.response.id, 0);
        assert_eq!(handshake.response.passwd.as_ref().map(Vec::len), Some(16));
        if handshake.request.id == 0 {
            assert_eq!(handshake.request.passwd, Some(vec![0; 16]));
        }
    }
    let mut reconnects = 0;
    for pair in handshakes.windows(2) {
        let [before, reconnect] = pair else {
            unreachable!("windows(2)")
        };
        if reconnect.request.id == 0 {
            continue;
        }
        assert_eq!(reconnect.scenario, before.scenario);
        assert_eq!(reconnect.request, before.response);
        assert_eq!(reconnect.response, reconnect.request);
        reconnects += 1;
    }
    assert!(reconnects >= 3, "only {reconnects} reconnects captured");
}

#[test]
fn error_replies_have_no_body() {
    let seen = replay_all();
    let errors: Vec<_> = seen.replies.iter().filter(|(h, _, _)| h.err != 0).collect();
    let codes: BTreeSet<i32> = errors.iter().map(|(h, _, _)| h.err).collect();
    for code in [
        ErrorCode::NoNode,
        ErrorCode::NodeExists,
        ErrorCode::BadVersion,
        ErrorCode::NotEmpty,
    ] {
        assert!(codes.contains(&code.code()), "no capture of {code:?}");
    }
    assert!(errors.iter().all(|(_, _, bytes)| bytes.len() == 16));
}

#[test]
fn notifications_and_pings_carry_their_special_xids_and_zxids() {
    let seen = replay_all();
    let events: Vec<_> = seen
        .replies
        .iter()
        .filter(|(h, _, _)| h.xid == xid::NOTIFICATION)
        .collect();
    assert!(!events.is_empty());
    assert!(events.iter().all(|(h, _, _)| h.zxid == -1 && h.err == 0));
    let pings: Vec<_> = seen
        .replies
        .iter()
        .filter(|(h, _, _)| h.xid == xid::PING)
        .collect();
    assert!(!pings.is_empty());
    assert!(pings.iter().all(|(_, _, bytes)| bytes.len() == 16));
}

/// A read does not advance the zxid: its reply carries the last zxid the
/// server committed, the same as the latest write reply before it.
#[test]
fn read_replies_carry_the_last_committed_zxid() {
    let seen = replay_all();
    let mut checked = 0;
    for pair in seen.replies.windows(2) {
        let [(before, Some(OpCode::SetData), _), (read, Some(OpCode::GetData | OpCode::GetChildren), _)] =
            pair
        else {
            continue;
        };
        assert_eq!(read.zxid, before.zxid);
        checked += 1;
    }
    assert!(
        checked > 0,
        "no write reply directly followed by a read reply"
    );
}

/// A failed multi is answered with err 0 in the ReplyHeader and one error
/// result per op: the failing op's code, and RuntimeInconsistency (−2) for
/// the others, then the done marker.
#[test]
fn failed_multi_reports_per_op_errors_in_an_ok_reply() {
    let seen = replay_all();
    let failed = seen
        .replies
        .iter()
        .find(|(h, op, bytes)| {
            *op == Some(OpCode::Multi) && h.err == 0 && bytes.len() == 16 + 3 * 13 + 9
        })
        .expect("a failed three-op multi");
    let mut r = Recoder::new(&failed.2);
    r.skip::<ReplyHeader>();
    let results: Vec<(MultiHeader, ErrorResponse)> = (0..3).map(|_| (r.take(), r.take())).collect();
    let codes: Vec<i32> = results.iter().map(|(_, e)| e.err).collect();
    assert_eq!(
        codes,
        [
            ErrorCode::Ok.code(),
            ErrorCode::BadVersion.code(),
            ErrorCode::RuntimeInconsistency.code()
        ]
    );
    assert!(results
        .iter()
        .all(|(h, _)| h.r#type == MULTI_ERROR_TYPE && !h.done));
    assert_eq!(r.take::<MultiHeader>(), MULTI_DONE);
    r.finish();
}

/// The Java 3.8 client sends setWatches / setWatches2 with an ordinary xid,
/// not −8, and the server echoes that xid.
#[test]
fn set_watches_replies_echo_the_request_xid() {
    let seen = replay_all();
    let set_watches: Vec<i32> = seen
        .requests
        .iter()
        .filter(|(h, _)| matches!(opcode(h.r#type), OpCode::SetWatches | OpCode::SetWatches2))
        .map(|(h, _)| h.xid)
        .collect();
    assert_eq!(set_watches.len(), 2);
    for request_xid in set_watches {
        assert!(seen
            .replies
            .iter()
            .any(|(h, _, _)| h.xid == request_xid && h.err == 0));
    }
}

/// Every client frame a real client sent decodes through the server's own
/// request decoders: the first of each connection as a ConnectRequest, the rest
/// as known requests (none Malformed; only the top-level check a client never
/// sends would be Unimplemented).
#[test]
fn every_client_frame_decodes_through_the_servers_request_decoder() {
    use paddock::proto::{decode_connect_request, decode_request, Request};
    let mut requests = 0;
    for path in capture_files() {
        let mut first = true;
        for frame in load(&path).into_iter().filter(|f| f.to_server) {
            if first {
                first = false;
                let c = decode_connect_request(&frame.bytes)
                    .unwrap_or_else(|e| panic!("{}: connect request: {e}", path.display()));
                assert_eq!(c.passwd.len(), 16, "{}", path.display());
                continue;
            }
            let (header, request) = decode_request(&frame.bytes)
                .unwrap_or_else(|e| panic!("{}: request did not decode: {e:?}", path.display()));
            assert!(
                !matches!(request, Request::Malformed { .. }),
                "{}: xid {} op {} decoded as malformed",
                path.display(),
                header.xid,
                header.r#type
            );
            requests += 1;
        }
    }
    assert!(
        requests > 50,
        "the captures hold real traffic ({requests} requests)"
    );
}
