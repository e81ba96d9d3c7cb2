//! Property tests of the Jute codec: every record of [`super::records`]
//! round-trips through its exact predicted size, every proper prefix of an
//! encoding is refused, and the primitives refuse hostile lengths and bytes.

use super::records::*;
use super::{decode_exact, encode, DecodeError, Record};
use proptest::prelude::*;

/// The size Jute gives a value on the wire, computed from the schema rules
/// alone (not from the encoder), so that it can check the encoder.
trait WireLen {
    fn wire_len(&self) -> usize;
}

impl WireLen for i32 {
    fn wire_len(&self) -> usize {
        4
    }
}

impl WireLen for i64 {
    fn wire_len(&self) -> usize {
        8
    }
}

impl WireLen for bool {
    fn wire_len(&self) -> usize {
        1
    }
}

impl WireLen for String {
    fn wire_len(&self) -> usize {
        4 + self.len()
    }
}

impl WireLen for Option<String> {
    fn wire_len(&self) -> usize {
        4 + self.as_ref().map_or(0, String::len)
    }
}

impl WireLen for Option<Vec<u8>> {
    fn wire_len(&self) -> usize {
        4 + self.as_ref().map_or(0, Vec::len)
    }
}

impl<T: WireLen> WireLen for Vec<T> {
    fn wire_len(&self) -> usize {
        4 + self.iter().map(WireLen::wire_len).sum::<usize>()
    }
}

/// Asserts the round trip, the predicted size, and that every proper prefix
/// of the encoding fails to decode (so a truncated frame is always caught).
fn check_record<T: Record + WireLen + PartialEq + std::fmt::Debug>(
    value: &T,
) -> Result<(), TestCaseError> {
    let bytes = encode(value);
    prop_assert_eq!(bytes.len(), value.wire_len());
    prop_assert_eq!(&decode_exact::<T>(&bytes).expect("decodes"), value);
    for cut in 0..bytes.len() {
        prop_assert!(
            decode_exact::<T>(&bytes[..cut]).is_err(),
            "prefix {cut} decoded"
        );
    }
    Ok(())
}

/// Values small enough that checking every prefix of their encoding stays
/// cheap, yet covering null, empty, multi-byte UTF-8 and several elements.
trait Gen: Sized + std::fmt::Debug {
    fn strategy() -> BoxedStrategy<Self>;
}

/// Elements per generated vector, and bytes per generated buffer.
const GEN_VEC_LEN_MAX: usize = 3;
const GEN_BUFFER_LEN_MAX: usize = 12;

macro_rules! gen_from_any {
    ($($ty:ty),*) => {$(
        impl Gen for $ty {
            fn strategy() -> BoxedStrategy<Self> {
                any::<$ty>().boxed()
            }
        }
    )*};
}
gen_from_any!(i32, i64, bool);

impl Gen for String {
    fn strategy() -> BoxedStrategy<Self> {
        "\\PC{0,6}".boxed()
    }
}

impl Gen for Option<String> {
    fn strategy() -> BoxedStrategy<Self> {
        proptest::option::of(String::strategy()).boxed()
    }
}

impl Gen for Option<Vec<u8>> {
    fn strategy() -> BoxedStrategy<Self> {
        proptest::option::of(proptest::collection::vec(
            any::<u8>(),
            0..=GEN_BUFFER_LEN_MAX,
        ))
        .boxed()
    }
}

impl<T: Gen + 'static> Gen for Vec<T> {
    fn strategy() -> BoxedStrategy<Self> {
        proptest::collection::vec(T::strategy(), 0..=GEN_VEC_LEN_MAX).boxed()
    }
}

/// The [`Gen`] strategy for the type of the field that `field` selects: lets
/// the macro below name a field and get its strategy without spelling its type.
fn gen_field<R, T: Gen>(_field: impl Fn(&R) -> &T) -> BoxedStrategy<T> {
    T::strategy()
}

/// For each `test: Record { fields }`: a `Gen` impl building the record
/// from arbitrary field values, a `WireLen` impl summing its fields, and a
/// proptest running [`check_record`] on it.
macro_rules! record_properties {
    ($($test:ident: $name:ident { $($field:ident),* $(,)? })*) => {$(
        impl Gen for $name {
            fn strategy() -> BoxedStrategy<Self> {
                ($(gen_field(|r: &$name| &r.$field),)*)
                    .prop_map(|($($field,)*)| $name { $($field),* })
                    .boxed()
            }
        }
        impl WireLen for $name {
            fn wire_len(&self) -> usize {
                0 $(+ self.$field.wire_len())*
            }
        }
        proptest! {
            #[test]
            fn $test(value in $name::strategy()) {
                check_record(&value)?;
            }
        }
    )*};
}

record_properties! {
    id_round_trips: Id { scheme, id }
    acl_round_trips: Acl { perms, id }
    stat_round_trips: Stat {
        czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeral_owner,
        data_length, num_children, pzxid,
    }
    stat_persisted_round_trips: StatPersisted {
        czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeral_owner, pzxid,
    }
    client_info_round_trips: ClientInfo { auth_scheme, user }
    set_watches_round_trips: SetWatches { relative_zxid, data_watches, exist_watches, child_watches }
    set_watches2_round_trips: SetWatches2 {
        relative_zxid, data_watches, exist_watches, child_watches, persistent_watches,
        persistent_recursive_watches,
    }
    request_header_round_trips: RequestHeader { xid, r#type }
    multi_header_round_trips: MultiHeader { r#type, done, err }
    auth_packet_round_trips: AuthPacket { r#type, scheme, auth }
    reply_header_round_trips: ReplyHeader { xid, zxid, err }
    get_data_request_round_trips: GetDataRequest { path, watch }
    set_data_request_round_trips: SetDataRequest { path, data, version }
    reconfig_request_round_trips: ReconfigRequest {
        joining_servers, leaving_servers, new_members, cur_config_id,
    }
    set_data_response_round_trips: SetDataResponse { stat }
    get_sasl_request_round_trips: GetSaslRequest { token }
    set_sasl_request_round_trips: SetSaslRequest { token }
    set_sasl_response_round_trips: SetSaslResponse { token }
    create_request_round_trips: CreateRequest { path, data, acl, flags }
    create_ttl_request_round_trips: CreateTtlRequest { path, data, acl, flags, ttl }
    delete_request_round_trips: DeleteRequest { path, version }
    get_children_request_round_trips: GetChildrenRequest { path, watch }
    get_all_children_number_request_round_trips: GetAllChildrenNumberRequest { path }
    get_children2_request_round_trips: GetChildren2Request { path, watch }
    check_version_request_round_trips: CheckVersionRequest { path, version }
    get_max_children_request_round_trips: GetMaxChildrenRequest { path }
    get_max_children_response_round_trips: GetMaxChildrenResponse { max }
    set_max_children_request_round_trips: SetMaxChildrenRequest { path, max }
    sync_request_round_trips: SyncRequest { path }
    sync_response_round_trips: SyncResponse { path }
    get_acl_request_round_trips: GetAclRequest { path }
    set_acl_request_round_trips: SetAclRequest { path, acl, version }
    set_acl_response_round_trips: SetAclResponse { stat }
    add_watch_request_round_trips: AddWatchRequest { path, mode }
    watcher_event_round_trips: WatcherEvent { r#type, state, path }
    error_response_round_trips: ErrorResponse { err }
    create_response_round_trips: CreateResponse { path }
    create2_response_round_trips: Create2Response { path, stat }
    exists_request_round_trips: ExistsRequest { path, watch }
    exists_response_round_trips: ExistsResponse { stat }
    get_data_response_round_trips: GetDataResponse { data, stat }
    get_children_response_round_trips: GetChildrenResponse { children }
    get_all_children_number_response_round_trips: GetAllChildrenNumberResponse { total_number }
    get_children2_response_round_trips: GetChildren2Response { children, stat }
    get_acl_response_round_trips: GetAclResponse { acl, stat }
    check_watches_request_round_trips: CheckWatchesRequest { path, r#type }
    remove_watches_request_round_trips: RemoveWatchesRequest { path, r#type }
    get_ephemerals_request_round_trips: GetEphemeralsRequest { prefix_path }
    get_ephemerals_response_round_trips: GetEphemeralsResponse { ephemerals }
    who_am_i_response_round_trips: WhoAmIResponse { client_info }
    learner_info_round_trips: LearnerInfo { serverid, protocol_version, config_version }
    quorum_packet_round_trips: QuorumPacket { r#type, zxid, data, authinfo }
    quorum_auth_packet_round_trips: QuorumAuthPacket { magic, status, token }
    file_header_round_trips: FileHeader { magic, version, dbid }
    txn_digest_round_trips: TxnDigest { version, tree_digest }
    txn_header_round_trips: TxnHeader { client_id, cxid, zxid, time, r#type }
    create_txn_v0_round_trips: CreateTxnV0 { path, data, acl, ephemeral }
    create_txn_round_trips: CreateTxn { path, data, acl, ephemeral, parent_c_version }
    create_ttl_txn_round_trips: CreateTtlTxn { path, data, acl, parent_c_version, ttl }
    create_container_txn_round_trips: CreateContainerTxn { path, data, acl, parent_c_version }
    delete_txn_round_trips: DeleteTxn { path }
    set_data_txn_round_trips: SetDataTxn { path, data, version }
    check_version_txn_round_trips: CheckVersionTxn { path, version }
    set_acl_txn_round_trips: SetAclTxn { path, acl, version }
    set_max_children_txn_round_trips: SetMaxChildrenTxn { path, max }
    create_session_txn_round_trips: CreateSessionTxn { time_out }
    close_session_txn_round_trips: CloseSessionTxn { paths2_delete }
    error_txn_round_trips: ErrorTxn { err }
    txn_round_trips: Txn { r#type, data }
    multi_txn_round_trips: MultiTxn { txns }
}

/// A big-endian length prefix followed by `body`.
fn prefixed(len: i32, body: &[u8]) -> Vec<u8> {
    let mut bytes = len.to_be_bytes().to_vec();
    bytes.extend_from_slice(body);
    bytes
}

#[test]
fn buffer_length_minus_one_is_null_and_zero_is_empty() {
    assert_eq!(
        decode_exact::<Option<Vec<u8>>>(&prefixed(-1, b"")),
        Ok(None)
    );
    assert_eq!(
        decode_exact::<Option<Vec<u8>>>(&prefixed(0, b"")),
        Ok(Some(Vec::new()))
    );
    assert_eq!(encode(&None::<Vec<u8>>), prefixed(-1, b""));
    assert_eq!(encode(&Some(Vec::<u8>::new())), prefixed(0, b""));
}

#[test]
fn ustring_length_minus_one_is_null_and_zero_is_empty() {
    assert_eq!(decode_exact::<Option<String>>(&prefixed(-1, b"")), Ok(None));
    assert_eq!(
        decode_exact::<Option<String>>(&prefixed(0, b"")),
        Ok(Some(String::new()))
    );
    assert_eq!(encode(&None::<String>), prefixed(-1, b""));
    assert_eq!(encode(&Some(String::new())), prefixed(0, b""));
}

#[test]
fn plain_string_reads_null_as_empty() {
    assert_eq!(
        decode_exact::<String>(&prefixed(-1, b"")),
        Ok(String::new())
    );
}

#[test]
fn vector_count_minus_one_reads_as_empty() {
    assert_eq!(
        decode_exact::<Vec<String>>(&prefixed(-1, b"")),
        Ok(Vec::new())
    );
}

#[test]
fn bool_reads_any_nonzero_byte_as_true() {
    assert_eq!(decode_exact::<bool>(&[0x7f]), Ok(true));
    assert_eq!(decode_exact::<bool>(&[0]), Ok(false));
}

#[test]
fn invalid_utf8_string_decodes_as_java_does() {
    // 0xc3 starts a two-byte sequence that '(' does not continue: one U+FFFD,
    // then '(' (Java's UTF-8 decoder replaces the maximal ill-formed subpart).
    let bytes = prefixed(2, &[0xc3, 0x28]);
    assert_eq!(
        decode_exact::<Option<String>>(&bytes),
        Ok(Some("\u{fffd}(".to_owned()))
    );
    assert_eq!(decode_exact::<String>(&bytes), Ok("\u{fffd}(".to_owned()));
}

#[test]
fn huge_vector_count_in_a_tiny_frame_is_rejected() {
    // The allocation bound itself is checked by the recording allocator below;
    // here the decoders must refuse the frame rather than read past it.
    let bytes = prefixed(i32::MAX, b"");
    assert!(decode_exact::<Vec<String>>(&bytes).is_err());
    assert!(decode_exact::<Vec<Acl>>(&bytes).is_err());
    assert!(decode_exact::<Vec<Txn>>(&bytes).is_err());
    assert!(decode_exact::<Vec<i64>>(&bytes).is_err());
}

proptest! {
    #[test]
    fn primitives_round_trip(a in any::<i32>(), b in any::<i64>(), c in any::<bool>()) {
        prop_assert_eq!(decode_exact::<i32>(&encode(&a)), Ok(a));
        prop_assert_eq!(decode_exact::<i64>(&encode(&b)), Ok(b));
        prop_assert_eq!(decode_exact::<bool>(&encode(&c)), Ok(c));
    }

    #[test]
    fn negative_lengths_below_minus_one_are_rejected(len in i32::MIN..-1, body in any::<Vec<u8>>()) {
        let bytes = prefixed(len, &body);
        let expected = Some(DecodeError::BadLength(i64::from(len)));
        prop_assert_eq!(decode_exact::<Option<Vec<u8>>>(&bytes).err(), expected.clone());
        prop_assert_eq!(decode_exact::<Option<String>>(&bytes).err(), expected.clone());
        prop_assert_eq!(decode_exact::<Vec<String>>(&bytes).err(), expected);
    }

    #[test]
    fn lengths_beyond_the_input_are_rejected(body in any::<Vec<u8>>(), extra in 1..=i32::MAX) {
        let len = i32::try_from(body.len()).expect("small").saturating_add(extra);
        let bytes = prefixed(len, &body);
        let expected = Some(DecodeError::BadLength(i64::from(len)));
        prop_assert_eq!(decode_exact::<Option<Vec<u8>>>(&bytes).err(), expected.clone());
        prop_assert_eq!(decode_exact::<Option<String>>(&bytes).err(), expected);
    }

    #[test]
    fn vector_counts_beyond_the_input_are_rejected(items in any::<Vec<String>>(), extra in 1..=1000i32) {
        let mut bytes = encode(&items);
        let count = i32::try_from(items.len()).expect("small") + extra;
        bytes[..4].copy_from_slice(&count.to_be_bytes());
        prop_assert!(decode_exact::<Vec<String>>(&bytes).is_err());
    }
}

/// Test-only global allocator: the system allocator, plus a per-thread record
/// of the largest single allocation made while a test measures.
mod largest_allocation {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        /// `Some(largest size so far)` while measuring on this thread.
        static LARGEST: Cell<Option<usize>> = const { Cell::new(None) };
    }

    struct Recording;

    // SAFETY: every call is forwarded unchanged to `System`; the bookkeeping
    // touches only a const-initialised thread-local without destructor, which
    // never allocates.
    unsafe impl GlobalAlloc for Recording {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = LARGEST.try_with(|largest| {
                if let Some(size) = largest.get() {
                    largest.set(Some(size.max(layout.size())));
                }
            });
            // SAFETY: the caller's guarantees for `layout` hold for `System` too.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` came from `System.alloc` with this `layout`.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static GLOBAL: Recording = Recording;

    /// Runs `f` and returns the size of the largest single allocation it made.
    pub(super) fn during(f: impl FnOnce()) -> usize {
        LARGEST.with(|largest| largest.set(Some(0)));
        f();
        LARGEST.with(|largest| largest.take()).unwrap_or(0)
    }
}

/// A frame claiming 2^31−1 elements, whose first element fails at once, may
/// reserve no more bytes than the frame holds, whatever the element's size.
#[test]
fn vector_reservation_never_exceeds_the_frame() {
    const FRAME_LEN: usize = 64 * 1024;
    let mut frame = prefixed(i32::MAX, &prefixed(0, &i32::MAX.to_be_bytes()));
    frame.resize(FRAME_LEN, 0);
    let largest = largest_allocation::during(|| {
        assert!(decode_exact::<Vec<Acl>>(&frame).is_err());
        assert!(decode_exact::<Vec<Txn>>(&frame).is_err());
        assert!(decode_exact::<Vec<ClientInfo>>(&frame).is_err());
    });
    assert!(
        largest <= FRAME_LEN,
        "reserved {largest} bytes for a {FRAME_LEN}-byte frame"
    );
}
