//! The pipeline rules of ARCHITECTURE.md and bad-input handling, through a real socket.
mod common;

use common::*;
use paddock::jute::records::*;
use paddock::proto::codes::event_type;
use paddock::proto::ErrorCode;
use std::io::Write;
use std::time::{Duration, Instant};

const CREATE: i32 = 1;
const GET_DATA: i32 = 4;
const SET_DATA: i32 = 5;
const EXISTS: i32 = 3;

#[test]
fn a_sessions_replies_come_in_request_order() {
    let server = TestServer::start();
    let mut c = Client::connect(server.addr);
    let mut sent = Vec::new();
    for i in 0..50 {
        let path = format!("/n{i}");
        sent.push(c.send(CREATE, &create_req(&path, b"x", 0)));
        sent.push(c.send(
            GET_DATA,
            &GetDataRequest {
                path: path.clone(),
                watch: false,
            },
        ));
        sent.push(c.send(
            EXISTS,
            &ExistsRequest {
                path: "/missing".into(),
                watch: false,
            },
        ));
    }
    let got: Vec<i32> = (0..sent.len()).map(|_| c.recv().header.xid).collect();
    assert_eq!(got, sent);
}

#[test]
fn a_read_waits_for_the_same_sessions_earlier_write() {
    let server = TestServer::start();
    let mut c = Client::connect(server.addr);
    c.send(CREATE, &create_req("/w", b"v1", 0));
    let get = c.send(
        GET_DATA,
        &GetDataRequest {
            path: "/w".into(),
            watch: false,
        },
    );
    let _create = c.recv();
    let reply = c.recv();
    assert_eq!(reply.header.xid, get);
    assert_eq!(reply.header.err, 0, "the read saw the write sent before it");
    assert_eq!(
        reply.decode::<GetDataResponse>().data.as_deref(),
        Some(&b"v1"[..])
    );
}

#[test]
fn a_watch_event_arrives_before_any_reply_showing_the_new_data() {
    let server = TestServer::start();
    let mut watcher = Client::connect(server.addr);
    let mut writer = Client::connect(server.addr);
    writer.call(CREATE, &create_req("/e", b"old", 0));
    let (_, r) = watcher.call(
        GET_DATA,
        &GetDataRequest {
            path: "/e".into(),
            watch: true,
        },
    );
    assert_eq!(r.header.err, 0);
    let (_, r) = writer.call(
        SET_DATA,
        &SetDataRequest {
            path: "/e".into(),
            data: Some(b"new".to_vec()),
            version: -1,
        },
    );
    assert_eq!(r.header.err, 0);
    let (events, reply) = watcher.call(
        GET_DATA,
        &GetDataRequest {
            path: "/e".into(),
            watch: false,
        },
    );
    assert_eq!(events.len(), 1, "the event came first");
    assert_eq!(events[0].header.xid, -1);
    let ev: WatcherEvent = events[0].decode();
    assert_eq!(
        (ev.r#type, ev.state, ev.path.as_str()),
        (event_type::NODE_DATA_CHANGED, 3, "/e")
    );
    assert_eq!(
        reply.decode::<GetDataResponse>().data.as_deref(),
        Some(&b"new"[..])
    );
}

#[test]
fn a_writer_sees_its_own_watch_event_before_its_write_reply() {
    let server = TestServer::start();
    let mut c = Client::connect(server.addr);
    c.call(
        EXISTS,
        &ExistsRequest {
            path: "/born".into(),
            watch: true,
        },
    );
    let (events, reply) = c.call(CREATE, &create_req("/born", b"", 0));
    assert_eq!(reply.header.err, 0);
    let ev: WatcherEvent = events[0].decode();
    assert_eq!(
        (ev.r#type, ev.path.as_str()),
        (event_type::NODE_CREATED, "/born")
    );
}

/// Opens a raw connection, sends `bytes`, and checks the server closes it while
/// `bystander` keeps being served.
fn assert_closes_only_that_connection(server: &TestServer, bytes: &[u8], bystander: &mut Client) {
    let mut raw = std::net::TcpStream::connect(server.addr).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    raw.write_all(bytes).unwrap();
    let mut buf = [0u8; 64];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match std::io::Read::read(&mut raw, &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => assert!(Instant::now() < deadline, "connection stayed open"),
        }
    }
    let (_, r) = bystander.call(
        EXISTS,
        &ExistsRequest {
            path: "/zookeeper".into(),
            watch: false,
        },
    );
    assert_eq!(r.header.err, 0, "other clients keep being served");
}

#[test]
fn bad_frames_close_only_their_connection() {
    let server = TestServer::start();
    let mut bystander = Client::connect(server.addr);
    // Longer than jute.maxbuffer.
    assert_closes_only_that_connection(&server, &(0x0010_0000i32).to_be_bytes(), &mut bystander);
    // Negative length.
    assert_closes_only_that_connection(&server, &(-5i32).to_be_bytes(), &mut bystander);
    // A handshake that does not parse.
    assert_closes_only_that_connection(&server, &[0, 0, 0, 3, 1, 2, 3], &mut bystander);
    // A request before the handshake: read as a ConnectRequest whose lastZxidSeen is absurd.
    let mut early = vec![0, 0, 0, 16];
    early.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 2, b'/', b'a', 0, 0]);
    assert_closes_only_that_connection(&server, &early, &mut bystander);
}

#[test]
fn a_truncated_request_header_closes_the_connection() {
    let server = TestServer::start();
    let mut c = Client::connect(server.addr);
    let mut bystander = Client::connect(server.addr);
    c.send_raw(vec![0, 0, 0, 3, 1, 2, 3]);
    assert!(c.is_closed());
    let (_, r) = bystander.call(
        EXISTS,
        &ExistsRequest {
            path: "/".into(),
            watch: false,
        },
    );
    assert_eq!(r.header.err, 0);
}

#[test]
fn an_unknown_opcode_gets_unimplemented_then_close() {
    let server = TestServer::start();
    let mut c = Client::connect(server.addr);
    let (_, r) = c.call(99, &GetAllChildrenNumberRequest { path: "/".into() });
    assert_eq!(r.header.err, ErrorCode::Unimplemented.code());
    assert_eq!(r.header.zxid, -1);
    assert!(c.is_closed());
}

#[test]
fn an_unparseable_body_gets_marshalling_error_and_the_connection_stays() {
    let server = TestServer::start();
    let mut c = Client::connect(server.addr);
    let (_, r) = c.call(GET_DATA, &0i32);
    assert_eq!(r.header.err, ErrorCode::MarshallingError.code());
    let (_, r) = c.call(
        EXISTS,
        &ExistsRequest {
            path: "/".into(),
            watch: false,
        },
    );
    assert_eq!(r.header.err, 0);
}

#[test]
fn max_client_cnxns_limits_connections_per_address() {
    let server = TestServer::start_with(|s| s.max_client_cnxns = 2);
    let _a = Client::connect(server.addr);
    let _b = Client::connect(server.addr);
    let mut third = std::net::TcpStream::connect(server.addr).unwrap();
    third
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert!(matches!(
        std::io::Read::read(&mut third, &mut buf),
        Ok(0) | Err(_)
    ));
}

fn short_sessions(s: &mut paddock::server::Settings) {
    s.tick_time_ms = 100;
    s.min_session_timeout_ms = 200;
    s.max_session_timeout_ms = 2000;
}

#[test]
fn an_expired_session_loses_its_ephemerals_and_their_watchers_hear_it() {
    let server = TestServer::start_with(short_sessions);
    let mut owner = Client::connect_session(server.addr, 0, vec![0; 16], 300).unwrap();
    let mut watcher = Client::connect(server.addr);
    owner.call(CREATE, &create_req("/eph", b"", 1));
    watcher.call(
        EXISTS,
        &ExistsRequest {
            path: "/eph".into(),
            watch: true,
        },
    );
    // The owner goes silent; within timeout + a tick its session expires.
    let ev = watcher.recv();
    let ev: WatcherEvent = ev.decode();
    assert_eq!(
        (ev.r#type, ev.path.as_str()),
        (event_type::NODE_DELETED, "/eph")
    );
    assert!(
        owner.is_closed(),
        "the expired session's connection is closed"
    );
    let again = Client::connect_session(server.addr, owner.session_id, owner.passwd.clone(), 300);
    assert!(
        again.is_none(),
        "reconnecting to an expired session is refused"
    );
}

#[test]
fn a_reconnect_keeps_the_session_and_a_wrong_password_is_refused() {
    let server = TestServer::start();
    let mut c = Client::connect(server.addr);
    c.call(CREATE, &create_req("/mine", b"", 1));
    let bad = Client::connect_session(server.addr, c.session_id, vec![1; 16], 10_000);
    assert!(bad.is_none());
    let mut again =
        Client::connect_session(server.addr, c.session_id, c.passwd.clone(), 10_000).unwrap();
    assert_eq!(again.session_id, c.session_id);
    assert!(
        c.is_closed(),
        "the older connection of the session is closed"
    );
    let (_, r) = again.call(
        EXISTS,
        &ExistsRequest {
            path: "/mine".into(),
            watch: false,
        },
    );
    assert_eq!(
        r.decode::<ExistsResponse>().stat.ephemeral_owner,
        c.session_id
    );
}

#[test]
fn set_watches_delivers_what_was_missed_since_relative_zxid() {
    let server = TestServer::start();
    let mut a = Client::connect(server.addr);
    let mut b = Client::connect(server.addr);
    let (_, r) = a.call(CREATE, &create_req("/sw", b"1", 0));
    let seen = r.header.zxid;
    b.call(
        SET_DATA,
        &SetDataRequest {
            path: "/sw".into(),
            data: Some(b"2".to_vec()),
            version: -1,
        },
    );
    b.call(CREATE, &create_req("/later", b"", 0));
    let w = SetWatches {
        relative_zxid: seen,
        data_watches: vec!["/sw".into()],
        exist_watches: vec!["/later".into(), "/never".into()],
        child_watches: vec!["/".into()],
    };
    let f = paddock::proto::reply::frame(|o| {
        paddock::jute::Record::write(
            &RequestHeader {
                xid: -8,
                r#type: 101,
            },
            o,
        );
        paddock::jute::Record::write(&w, o);
    });
    a.send_raw(f);
    let mut events = Vec::new();
    loop {
        let r = a.recv();
        if r.header.xid == -8 {
            break;
        }
        let e: WatcherEvent = r.decode();
        events.push((e.r#type, e.path));
    }
    events.sort();
    let expected = vec![
        (event_type::NODE_CREATED, "/later".to_string()),
        (event_type::NODE_DATA_CHANGED, "/sw".to_string()),
        (event_type::NODE_CHILDREN_CHANGED, "/".to_string()),
    ];
    let mut expected = expected;
    expected.sort();
    assert_eq!(events, expected);
}
