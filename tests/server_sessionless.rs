//! Connections without a session are closed after
//! `zookeeper.nio.sessionlessCnxnTimeout` without a byte from their client,
//! as ZooKeeper's NIO connection factory expires them (issue #19), and
//! counted in mntr's `zk_sessionless_connections_expired`.
mod common;

use common::{Client, TestServer};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const TIMEOUT_MS: u64 = 300;

fn server() -> TestServer {
    TestServer::start_with(|s| s.sessionless_cnxn_timeout_ms = TIMEOUT_MS)
}

/// How long until the server closes `stream` (reads nothing from it).
fn time_to_close(stream: &mut TcpStream) -> Duration {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut b = [0u8; 1];
    match stream.read(&mut b) {
        Ok(0) | Err(_) => start.elapsed(),
        Ok(_) => panic!("the server sent bytes to a connection without a session"),
    }
}

fn mntr_expired(server: &TestServer) -> String {
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(b"mntr").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines()
        .find(|l| l.starts_with("zk_sessionless_connections_expired\t"))
        .unwrap()
        .to_owned()
}

#[test]
fn silent_and_half_sent_connections_are_closed_after_the_timeout() {
    let server = server();
    let mut silent = TcpStream::connect(server.addr).unwrap();
    let mut half_length = TcpStream::connect(server.addr).unwrap();
    half_length.write_all(&[0, 0]).unwrap();
    let mut half_frame = TcpStream::connect(server.addr).unwrap();
    half_frame.write_all(&[0, 0, 0, 44, 0, 0, 0]).unwrap();
    for stream in [&mut silent, &mut half_length, &mut half_frame] {
        let waited = time_to_close(stream);
        assert!(waited < Duration::from_secs(3), "closed after {waited:?}");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while mntr_expired(&server) != "zk_sessionless_connections_expired\t3" {
        assert!(Instant::now() < deadline, "{}", mntr_expired(&server));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_trickling_client_keeps_its_connection_until_it_stops() {
    let server = server();
    let mut stream = TcpStream::connect(server.addr).unwrap();
    // Each byte comes before the timeout runs out: ZooKeeper touches the
    // connection on every read.
    // A frame of 44 bytes (a ConnectRequest's size) begun a byte at a time.
    for byte in [0, 0, 0, 44, 0, 0] {
        std::thread::sleep(Duration::from_millis(TIMEOUT_MS / 2));
        stream.write_all(&[byte]).unwrap();
    }
    // Had the bytes not counted, the connection would be closed already.
    let waited = time_to_close(&mut stream);
    assert!(
        waited >= Duration::from_millis(TIMEOUT_MS * 2 / 3),
        "closed after {waited:?}"
    );
}

#[test]
fn a_session_outlives_the_sessionless_timeout() {
    let server = server();
    let mut client = Client::connect(server.addr);
    std::thread::sleep(Duration::from_millis(3 * TIMEOUT_MS));
    let (_, reply) = client.call(
        3,
        &paddock::jute::records::ExistsRequest {
            path: "/".into(),
            watch: false,
        },
    );
    assert_eq!(reply.header.err, 0);
}
