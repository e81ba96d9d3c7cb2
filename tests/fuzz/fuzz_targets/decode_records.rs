//! Feeds arbitrary bytes to every Jute record decoder: decoding may fail but
//! must never panic, hang or allocate beyond the input's size; whatever
//! decodes must re-encode to the bytes it consumed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use paddock::jute::records::*;
use paddock::jute::{encode, Record};

/// Decodes a `T` from the front of `data`; on success, its encoding has
/// exactly the length it consumed, and encoding is stable from then on. The
/// bytes themselves may differ where Jute gives one value two spellings (a
/// null vector or plain string reads as empty, any non-zero byte as true).
fn check<T: Record>(data: &[u8]) {
    if let Ok((rest, value)) = T::read(data) {
        let bytes = encode(&value);
        assert_eq!(
            bytes.len(),
            data.len() - rest.len(),
            "encoding changes length"
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
    // PLACE FOR THE FRAME DECODERS: when `proto` has them, add
    //     let _ = paddock::proto::decode_request(data);
    //     let _ = paddock::proto::decode_connect_request(data);
    // (they must return an error for bad bytes, never panic).
});
