//! The quorum wire formats against byte layouts written by hand from
//! ZooKeeper's `QuorumCnxManager`, `FastLeaderElection` and `LearnerHandler`,
//! and property round trips of every encoder through its decoder.

use super::*;
use crate::jute::records::{Id, LearnerInfo};
use crate::storage::snapshot_bytes;
use crate::tree::acl_cache::{open_acl_unsafe, read_acl_unsafe};
use crate::tree::DataTree;
use crate::zab::{Packet, PacketType, TxnBytes};
use proptest::prelude::*;

/// `bytes` of big-endian fields, written out by hand.
fn be(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn initial_message_layout_is_version_sid_length_address() {
    let mut out = Vec::new();
    encode_initial(&mut out, 3, "10.0.0.3:3888");
    let want = be(&[
        &(-65536i64).to_be_bytes(),
        &3i64.to_be_bytes(),
        &13i32.to_be_bytes(),
        b"10.0.0.3:3888",
    ]);
    assert_eq!(out, want);
    let (msg, used) = decode_initial(&out).unwrap().unwrap();
    assert_eq!(used, out.len());
    assert_eq!(msg.sid, 3);
    assert_eq!(msg.address.as_deref(), Some("10.0.0.3:3888"));
}

#[test]
fn initial_message_legacy_form_is_a_bare_sid() {
    let (msg, used) = decode_initial(&7i64.to_be_bytes()).unwrap().unwrap();
    assert_eq!((msg.sid, msg.address, used), (7, None, 8));
    let (obs, _) = decode_initial(&i64::MAX.to_be_bytes()).unwrap().unwrap();
    assert_eq!(obs.sid, OBSERVER_SID);
}

#[test]
fn initial_message_refuses_bad_version_length_and_address() {
    let with = |version: i64, len: i32, addr: &[u8]| {
        be(&[
            &version.to_be_bytes(),
            &1i64.to_be_bytes(),
            &len.to_be_bytes(),
            addr,
        ])
    };
    assert!(decode_initial(&with(-5, 3, b"a:1")).is_err());
    assert!(decode_initial(&with(-65536, 0, b"")).is_err());
    assert!(decode_initial(&with(-65536, 2049, b"")).is_err());
    assert!(decode_initial(&with(-65536, 4, b"host")).is_err());
    assert!(decode_initial(&with(-65536, 7, b"host:xx")).is_err());
    assert!(decode_initial(&with(-65536, 5, b"a:b:1")).is_err());
    assert!(decode_initial(&with(-65536, 5, b"[::1]")).is_err());
    assert!(decode_initial(&with(-65536, 6, b"[::1:1")).is_err());
    let v2 = with(-65535, 15, b"a:1|[::1]:3888x");
    assert!(decode_initial(&v2).is_err());
    let v2 = with(-65535, 14, b"a:1|[::1]:3888");
    assert_eq!(
        decode_initial(&v2).unwrap().unwrap().0.address.as_deref(),
        Some("a:1|[::1]:3888")
    );
}

#[test]
fn initial_message_waits_for_every_byte() {
    let mut out = Vec::new();
    encode_initial(&mut out, 2, "h:1");
    for cut in 0..out.len() {
        assert_eq!(decode_initial(&out[..cut]), Ok(None), "cut at {cut}");
    }
}

#[test]
fn frame_length_must_be_1_to_512_kib() {
    assert_eq!(decode_frame_len(&[0, 0, 0]), Ok(None));
    assert_eq!(decode_frame_len(&44i32.to_be_bytes()), Ok(Some(44)));
    assert_eq!(decode_frame_len(&524288i32.to_be_bytes()), Ok(Some(524288)));
    for bad in [0i32, -1, 524289] {
        assert!(decode_frame_len(&bad.to_be_bytes()).is_err(), "{bad}");
    }
}

fn vote(leader: Sid, zxid: i64, election_epoch: i64, peer_epoch: i64) -> Vote {
    Vote {
        leader,
        zxid,
        election_epoch,
        peer_epoch,
    }
}

#[test]
fn notification_frame_layout_is_version_2_with_config() {
    let n = Notification {
        state: ServerState::Leading,
        vote: vote(3, 0x1_0000_0005, 7, 1),
        config: b"server.1=a:1:2:participant".to_vec(),
    };
    let mut out = Vec::new();
    encode_notification_frame(&mut out, &n);
    let want = be(&[
        &(44 + 26i32).to_be_bytes(),
        &2i32.to_be_bytes(),
        &3i64.to_be_bytes(),
        &0x1_0000_0005i64.to_be_bytes(),
        &7i64.to_be_bytes(),
        &1i64.to_be_bytes(),
        &2i32.to_be_bytes(),
        &26i32.to_be_bytes(),
        b"server.1=a:1:2:participant",
    ]);
    assert_eq!(out, want);
    assert_eq!(decode_notification(&out[4..]), Ok(n));
}

fn head28(state: i32) -> Vec<u8> {
    be(&[
        &state.to_be_bytes(),
        &2i64.to_be_bytes(),
        &0x5_0000_0009i64.to_be_bytes(),
        &4i64.to_be_bytes(),
    ])
}

#[test]
fn notification_of_28_bytes_takes_peer_epoch_from_zxid() {
    let n = decode_notification(&head28(0)).unwrap();
    assert_eq!(n.state, ServerState::Looking);
    assert_eq!(n.vote, vote(2, 0x5_0000_0009, 4, 5));
    assert!(n.config.is_empty());
}

#[test]
fn notification_of_40_bytes_has_peer_epoch_and_no_config() {
    let msg = be(&[&head28(1), &9i64.to_be_bytes(), &[0xAA; 4]]);
    let n = decode_notification(&msg).unwrap();
    assert_eq!(n.state, ServerState::Following);
    assert_eq!(n.vote.peer_epoch, 9);
    assert!(n.config.is_empty());
}

#[test]
fn notification_of_version_1_ignores_what_follows() {
    let msg = be(&[
        &head28(3),
        &9i64.to_be_bytes(),
        &1i32.to_be_bytes(),
        b"junk",
    ]);
    let n = decode_notification(&msg).unwrap();
    assert_eq!(n.state, ServerState::Observing);
    assert!(n.config.is_empty());
}

#[test]
fn notification_refuses_short_odd_sizes_bad_state_and_bad_config_length() {
    assert!(decode_notification(&head28(0)[..27]).is_err());
    let odd = be(&[&head28(0), &9i64.to_be_bytes()[..4]]);
    assert!(decode_notification(&odd).is_err());
    assert!(decode_notification(&head28(4)).is_err());
    let over = be(&[
        &head28(0),
        &9i64.to_be_bytes(),
        &2i32.to_be_bytes(),
        &5i32.to_be_bytes(),
        b"abc",
    ]);
    assert!(decode_notification(&over).is_err());
    let negative = be(&[
        &head28(0),
        &9i64.to_be_bytes(),
        &2i32.to_be_bytes(),
        &(-1i32).to_be_bytes(),
    ]);
    assert!(decode_notification(&negative).is_err());
}

fn packet(kind: PacketType, zxid: i64, data: &[u8], auth: Vec<Id>) -> Packet {
    Packet {
        kind,
        zxid,
        data: TxnBytes::from(data),
        auth,
    }
}

fn encoded(p: &Packet) -> Vec<u8> {
    let mut out = Vec::new();
    encode_packet(&mut out, p);
    out
}

#[test]
fn packet_layout_is_the_jute_record_with_nulls_for_empty() {
    let ack = encoded(&packet(PacketType::Ack, 0x2_0000_0001, b"", vec![]));
    let want = be(&[
        &3i32.to_be_bytes(),
        &0x2_0000_0001i64.to_be_bytes(),
        &(-1i32).to_be_bytes(),
        &(-1i32).to_be_bytes(),
    ]);
    assert_eq!(ack, want);
    let id = Id {
        scheme: "ip".into(),
        id: "1.2.3.4".into(),
    };
    let req = encoded(&packet(PacketType::Request, -1, b"xy", vec![id.clone()]));
    let want = be(&[
        &1i32.to_be_bytes(),
        &(-1i64).to_be_bytes(),
        &2i32.to_be_bytes(),
        b"xy",
        &1i32.to_be_bytes(),
        &2i32.to_be_bytes(),
        b"ip",
        &7i32.to_be_bytes(),
        b"1.2.3.4",
    ]);
    assert_eq!(req, want);
    let (p, used) = PacketDecoder::new().decode(&req).unwrap().unwrap();
    assert_eq!(
        (p.kind, p.auth, used),
        (PacketType::Request, vec![id], req.len())
    );
}

#[test]
fn empty_ping_keeps_a_zero_length_buffer_for_the_touch_list() {
    let ping = encoded(&packet(PacketType::Ping, 5, b"", vec![]));
    assert_eq!(&ping[12..16], &0i32.to_be_bytes());
}

#[test]
fn packet_decoder_refuses_unknown_types_and_bad_lengths() {
    let mut bad_type = encoded(&packet(PacketType::Ack, 1, b"", vec![]));
    bad_type[3] = 20;
    assert!(PacketDecoder::new().decode(&bad_type).is_err());
    bad_type[3] = 0;
    assert!(PacketDecoder::new().decode(&bad_type).is_err());
    let mut bad_len = encoded(&packet(PacketType::Ack, 1, b"", vec![]));
    bad_len[12..16].copy_from_slice(&(-2i32).to_be_bytes());
    assert!(PacketDecoder::new().decode(&bad_len).is_err());
    bad_len[12..16].copy_from_slice(&(17i32 << 20).to_be_bytes());
    assert!(PacketDecoder::new().decode(&bad_len).is_err());
}

/// A tree with data, a non-default ACL, an empty and a null node.
fn sample_snapshot() -> Vec<u8> {
    let mut tree = DataTree::new(true);
    let mut ev = Vec::new();
    let open = open_acl_unsafe();
    tree.create_node("/a", Some(b"x"), &open, 0, -1, 1, 10, &mut ev)
        .unwrap();
    tree.create_node("/a/b", None, &read_acl_unsafe(), 0, -1, 2, 11, &mut ev)
        .unwrap();
    tree.create_node("/e", Some(b""), &open, 0x55, -1, 3, 12, &mut ev)
        .unwrap();
    let image = snapshot_bytes(&tree, &[(0x55, 30000), (0x56, 4000)]);
    // Drop the file header (16 bytes) and the seal (long + ustring "/").
    image[16..image.len() - 13].to_vec()
}

#[test]
fn snap_stream_is_packet_snapshot_signature() {
    let snap = sample_snapshot();
    let wire = encoded(&packet(PacketType::Snap, 0x3_0000_0000, &snap, vec![]));
    let want = be(&[
        &15i32.to_be_bytes(),
        &0x3_0000_0000i64.to_be_bytes(),
        &(-1i32).to_be_bytes(),
        &(-1i32).to_be_bytes(),
        &snap,
        &10i32.to_be_bytes(),
        b"BenWasHere",
    ]);
    assert_eq!(wire, want);
}

#[test]
fn snap_arriving_byte_by_byte_decodes_once_whole() {
    let snap = sample_snapshot();
    let p = packet(PacketType::Snap, 0x3_0000_0000, &snap, vec![]);
    let mut wire = encoded(&p);
    wire.extend(encoded(&packet(PacketType::UpToDate, -1, b"", vec![])));
    let mut decoder = PacketDecoder::new();
    let first_len = wire.len() - 20;
    for cut in 0..first_len {
        assert_eq!(decoder.decode(&wire[..cut]), Ok(None), "cut at {cut}");
    }
    let (got, used) = decoder.decode(&wire).unwrap().unwrap();
    assert_eq!((got, used), (p, first_len));
    let (next, _) = decoder.decode(&wire[used..]).unwrap().unwrap();
    assert_eq!(next.kind, PacketType::UpToDate);
}

#[test]
fn snap_without_signature_is_refused() {
    let snap = sample_snapshot();
    let mut wire = encoded(&packet(PacketType::Snap, 1, &snap, vec![]));
    let n = wire.len();
    wire[n - 1] = b'X';
    assert!(PacketDecoder::new().decode(&wire).is_err());
}

#[test]
fn snapshot_scan_finds_the_end_of_a_real_snapshot() {
    let snap = sample_snapshot();
    let mut scan = SnapshotScan::new();
    assert_eq!(scan.advance(&snap[..snap.len() - 1]), Ok(None));
    assert_eq!(scan.advance(&snap), Ok(Some(snap.len())));
    let mut longer = snap.clone();
    longer.extend_from_slice(b"more");
    assert_eq!(SnapshotScan::new().advance(&longer), Ok(Some(snap.len())));
}

#[test]
fn request_data_layout_is_session_cxid_type_body() {
    let data = encode_request_data(0x77, 9, 1, b"body");
    let want = be(&[
        &0x77i64.to_be_bytes(),
        &9i32.to_be_bytes(),
        &1i32.to_be_bytes(),
        b"body",
    ]);
    assert_eq!(data, want);
    let head = decode_request_header(&data).unwrap();
    assert_eq!(
        (head.session_id, head.cxid, head.op, head.request),
        (0x77, 9, 1, &b"body"[..])
    );
    assert!(decode_request_header(&data[..15]).is_err());
}

#[test]
fn learner_info_is_read_leniently_like_learner_handler() {
    let info = LearnerInfo {
        serverid: 4,
        protocol_version: 0x10000,
        config_version: 0x1_0000_0000,
    };
    let data = encode_learner_info(&info);
    assert_eq!(
        data,
        be(&[
            &4i64.to_be_bytes(),
            &0x10000i32.to_be_bytes(),
            &0x1_0000_0000i64.to_be_bytes()
        ])
    );
    assert_eq!(decode_learner_info(&data), Ok(info));
    let old = decode_learner_info(&data[..8]).unwrap();
    assert_eq!(
        (old.serverid, old.protocol_version, old.config_version),
        (4, 1, 0)
    );
    assert_eq!(decode_learner_info(&data[..12]).unwrap().config_version, 0);
    assert!(decode_learner_info(&data[..7]).is_err());
}

#[test]
fn touches_are_session_timeout_pairs() {
    let data = encode_touches(&[(1, 3000), (-2, 40000)]);
    let want = be(&[
        &1i64.to_be_bytes(),
        &3000i32.to_be_bytes(),
        &(-2i64).to_be_bytes(),
        &40000i32.to_be_bytes(),
    ]);
    assert_eq!(data, want);
    assert_eq!(decode_touches(&data), Ok(vec![(1, 3000), (-2, 40000)]));
    assert!(decode_touches(&data[..13]).is_err());
}

fn state_strategy() -> impl Strategy<Value = ServerState> {
    prop_oneof![
        Just(ServerState::Looking),
        Just(ServerState::Following),
        Just(ServerState::Leading),
        Just(ServerState::Observing),
    ]
}

fn packet_strategy() -> impl Strategy<Value = Packet> {
    let id = ("[a-z]{0,6}", "[ -~]{0,12}").prop_map(|(scheme, id)| Id { scheme, id });
    (
        1i32..=19,
        any::<i64>(),
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(id, 0..3),
    )
        .prop_filter_map("SNAP carries a snapshot", |(code, zxid, data, auth)| {
            let kind = super::quorum::packet_type(code).expect("1..=19 are types");
            (kind != PacketType::Snap).then(|| packet(kind, zxid, &data, auth))
        })
}

proptest! {
    #[test]
    fn notification_round_trips(
        state in state_strategy(),
        leader in 0u64..=i64::MAX as u64,
        zxid: i64, election_epoch: i64, peer_epoch: i64,
        config in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let n = Notification { state, vote: vote(leader, zxid, election_epoch, peer_epoch), config };
        let mut out = Vec::new();
        encode_notification_frame(&mut out, &n);
        let len = decode_frame_len(&out).unwrap().unwrap();
        prop_assert_eq!(len, out.len() - 4);
        prop_assert_eq!(decode_notification(&out[4..]), Ok(n));
    }

    #[test]
    fn initial_message_round_trips(sid in 0u64..=i64::MAX as u64, host in "[a-z0-9.]{1,40}", port: u16) {
        let address = format!("{host}:{port}");
        let mut out = Vec::new();
        encode_initial(&mut out, sid, &address);
        let (msg, used) = decode_initial(&out).unwrap().unwrap();
        prop_assert_eq!(used, out.len());
        prop_assert_eq!(msg, InitialMessage { sid: sid as i64, address: Some(address) });
    }

    #[test]
    fn packets_round_trip_back_to_back(packets in proptest::collection::vec(packet_strategy(), 1..5)) {
        let mut wire = Vec::new();
        packets.iter().for_each(|p| encode_packet(&mut wire, p));
        let mut decoder = PacketDecoder::new();
        let mut at = 0;
        for p in &packets {
            let (got, used) = decoder.decode(&wire[at..]).unwrap().unwrap();
            prop_assert_eq!(&got, p);
            at += used;
        }
        prop_assert_eq!(at, wire.len());
    }

    #[test]
    fn snap_round_trips_at_any_split(zxid: i64, split in 0usize..1000) {
        let p = packet(PacketType::Snap, zxid, &sample_snapshot(), vec![]);
        let wire = encoded(&p);
        let split = split % wire.len();
        let mut decoder = PacketDecoder::new();
        prop_assert_eq!(decoder.decode(&wire[..split]), Ok(None));
        prop_assert_eq!(decoder.decode(&wire), Ok(Some((p, wire.len()))));
    }

    #[test]
    fn request_data_round_trips(session: i64, cxid: i32, op: i32, body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let data = encode_request_data(session, cxid, op, &body);
        let head = decode_request_header(&data).unwrap();
        prop_assert_eq!(head, ForwardedRequest { session_id: session, cxid, op, request: &body });
    }

    #[test]
    fn learner_info_round_trips(serverid: i64, protocol_version: i32, config_version: i64) {
        let info = LearnerInfo { serverid, protocol_version, config_version };
        prop_assert_eq!(decode_learner_info(&encode_learner_info(&info)), Ok(info));
    }

    #[test]
    fn touches_round_trip(touches in proptest::collection::vec(any::<(i64, i32)>(), 0..20)) {
        prop_assert_eq!(decode_touches(&encode_touches(&touches)), Ok(touches));
    }

    #[test]
    fn decoders_never_panic_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_initial(&bytes);
        let _ = decode_frame_len(&bytes);
        let _ = decode_notification(&bytes);
        let _ = PacketDecoder::new().decode(&bytes);
        let _ = SnapshotScan::new().advance(&bytes);
        let _ = decode_request_header(&bytes);
        let _ = decode_learner_info(&bytes);
        let _ = decode_touches(&bytes);
    }
}
