//! Feeds arbitrary bytes to every Jute record decoder, and to the other
//! decoders of bytes from a peer or a disk: decoding may fail but must never
//! panic, hang, leak or allocate beyond the input's size; whatever record
//! decodes must re-encode to the bytes it consumed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paddock::jute::records::*;
use paddock::jute::{encode, Record};

/// Decodes a `T` from the front of `data`; on success, its encoding decodes
/// whole and is stable from then on. The bytes themselves may differ where
/// Jute gives one value two spellings (a null vector or plain string reads
/// as empty, any non-zero byte as true), and a string's length where its
/// bytes are not UTF-8: they decode as Java decodes them, each bad sequence
/// one U+FFFD (three bytes), so an encoding is at most three times what was
/// consumed.
fn check<T: Record>(data: &[u8]) {
    if let Ok((rest, value)) = T::read(data) {
        let bytes = encode(&value);
        let consumed = data.len() - rest.len();
        assert!(
            bytes.len() <= 3 * consumed,
            "encoding grows {consumed} bytes to {}",
            bytes.len()
        );
        let (rest, again) = T::read(&bytes).expect("an encoding decodes");
        assert!(rest.is_empty(), "an encoding decodes whole");
        assert_eq!(encode(&again), bytes, "encoding is not stable");
    }
}

/// Runs [`check`] for each listed record type.
macro_rules! check_all {
    ($data:expr; $($ty:ty),* $(,)?) => {$(check::<$ty>($data);)*};
}

fuzz_target!(|data: &[u8]| {
    check_all!(data;
        Id, Acl, Stat, StatPersisted, ClientInfo, SetWatches, SetWatches2, RequestHeader,
        MultiHeader, AuthPacket, ReplyHeader, GetDataRequest, SetDataRequest, ReconfigRequest,
        SetDataResponse, GetSaslRequest, SetSaslRequest, SetSaslResponse, CreateRequest,
        CreateTtlRequest, DeleteRequest, GetChildrenRequest, GetAllChildrenNumberRequest,
        GetChildren2Request, CheckVersionRequest, GetMaxChildrenRequest, GetMaxChildrenResponse,
        SetMaxChildrenRequest, SyncRequest, SyncResponse, GetAclRequest, SetAclRequest,
        SetAclResponse, AddWatchRequest, WatcherEvent, ErrorResponse, CreateResponse,
        Create2Response, ExistsRequest, ExistsResponse, GetDataResponse, GetChildrenResponse,
        GetAllChildrenNumberResponse, GetChildren2Response, GetAclResponse, CheckWatchesRequest,
        RemoveWatchesRequest, GetEphemeralsRequest, GetEphemeralsResponse, WhoAmIResponse,
        LearnerInfo, QuorumPacket, QuorumAuthPacket, FileHeader, TxnDigest, TxnHeader,
        CreateTxnV0, CreateTxn, CreateTtlTxn, CreateContainerTxn, DeleteTxn, SetDataTxn,
        CheckVersionTxn, SetAclTxn, SetMaxChildrenTxn, CreateSessionTxn, CloseSessionTxn,
        ErrorTxn, Txn, MultiTxn,
    );
    // The frame decoders of the client port: bad bytes give an error, never a panic.
    let _ = paddock::proto::decode_request(data);
    let _ = paddock::proto::decode_connect_request(data);
    // The txn decoder reads the log and peers' proposals: whatever it
    // accepts re-encodes (with its TxnDigest, if any) to bytes that decode
    // to the same txn, digest and all.
    if let Ok(txn) = paddock::txn::Txn::from_bytes(data) {
        let again = paddock::txn::Txn::from_bytes(&txn.to_bytes()).expect("an encoding decodes");
        assert_eq!(again.digest, txn.digest, "the digest survives a round trip");
        assert_eq!(again.to_bytes(), txn.to_bytes(), "encoding is not stable");
    }
    // A snapshot's tree part (ACL cache, nodes): the loader puts each node
    // under its parent and frees what it gathered when the input is bad.
    let _ = paddock::tree::DataTree::read_snapshot_part(data, false);
    check_quorum_wire(data);
});

/// The quorum wire decoders (election handshake and notifications, quorum
/// packets, the SNAP walker, packet payloads): errors, never panics; what a
/// packet decoder accepts re-encodes to a stream it decodes the same.
fn check_quorum_wire(data: &[u8]) {
    use paddock::zab::wire::*;
    let _ = decode_initial(data);
    let _ = decode_frame_len(data);
    let _ = decode_notification(data);
    let _ = SnapshotScan::new().advance(data);
    let _ = decode_request_header(data);
    let _ = decode_learner_info(data);
    let _ = decode_touches(data);
    if let Ok(Some((packet, _))) = PacketDecoder::new().decode(data) {
        let mut bytes = Vec::new();
        encode_packet(&mut bytes, &packet);
        let again = PacketDecoder::new()
            .decode(&bytes)
            .expect("an encoding decodes");
        assert_eq!(
            again,
            Some((packet, bytes.len())),
            "packet encoding is not stable"
        );
    }
}
