//! The peer transport (`server::peers`) over real sockets on 127.0.0.1:
//! ZooKeeper's election connection rule (the larger sid keeps the
//! connection), the learner handshake on the quorum port, SNAP streaming,
//! garbage on both ports, and reconnection after a server goes away. Raw
//! sockets stand in for a ZooKeeper peer where the bytes themselves matter.

use paddock::jute::records::LearnerInfo;
use paddock::server::peers::{PeerAddr, PeerEvent, PeerNet};
use paddock::storage::snapshot_bytes;
use paddock::tree::DataTree;
use paddock::zab::wire::{
    decode_initial, decode_notification, encode_initial, encode_learner_info,
    encode_notification_frame,
};
use paddock::zab::{Message, Notification, Packet, PacketType, ServerState, Sid, Vote};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// The longest any single expectation may wait.
const WAIT: Duration = Duration::from_secs(10);

/// Listeners bound on free ports for each sid, and the member list they make.
async fn bind_members(ids: &[Sid]) -> (Vec<(TcpListener, TcpListener)>, Vec<PeerAddr>) {
    let mut listeners = Vec::new();
    let mut members = Vec::new();
    for &id in ids {
        let election = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let quorum = TcpListener::bind("127.0.0.1:0").await.unwrap();
        members.push(PeerAddr {
            id,
            host: "127.0.0.1".into(),
            quorum_port: quorum.local_addr().unwrap().port(),
            election_port: election.local_addr().unwrap().port(),
        });
        listeners.push((election, quorum));
    }
    (listeners, members)
}

/// A started PeerNet and the events it reports.
struct Node {
    net: PeerNet,
    events: mpsc::UnboundedReceiver<PeerEvent>,
}

fn start(id: Sid, members: &[PeerAddr], (election, quorum): (TcpListener, TcpListener)) -> Node {
    let (tx, events) = mpsc::unbounded_channel();
    let net = PeerNet::start_with_listeners(id, members.to_vec(), election, quorum, tx).unwrap();
    Node { net, events }
}

impl Node {
    /// The first event `want` accepts, skipping others; panics after [`WAIT`].
    async fn expect<T>(&mut self, what: &str, mut want: impl FnMut(PeerEvent) -> Option<T>) -> T {
        let found = timeout(WAIT, async {
            loop {
                let event = self.events.recv().await.expect("the net is alive");
                if let Some(v) = want(event) {
                    return v;
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    /// Waits for a vote from `from` and returns it.
    async fn vote_from(&mut self, from: Sid) -> Notification {
        self.expect("a vote", |e| match e {
            PeerEvent::Message {
                from: f,
                msg: Message::Vote(n),
            } if f == from => Some(n),
            _ => None,
        })
        .await
    }

    /// Waits for a quorum packet from `from` and returns it.
    async fn packet_from(&mut self, from: Sid) -> Packet {
        self.expect("a packet", |e| match e {
            PeerEvent::Message {
                from: f,
                msg: Message::Quorum(p),
            } if f == from => Some(p),
            _ => None,
        })
        .await
    }
}

fn notification(leader: Sid, election_epoch: i64) -> Notification {
    Notification {
        state: ServerState::Looking,
        vote: Vote {
            leader,
            zxid: 0x1_0000_0002,
            election_epoch,
            peer_epoch: 1,
        },
        config: b"server.1=127.0.0.1:1:2:participant".to_vec(),
    }
}

fn packet(kind: PacketType, zxid: i64, data: Vec<u8>) -> Packet {
    Packet {
        kind,
        zxid,
        data: data.into(),
        auth: Vec::new(),
    }
}

fn follower_info(sid: Sid) -> Packet {
    let info = LearnerInfo {
        serverid: sid as i64,
        protocol_version: 0x10000,
        config_version: 0,
    };
    packet(
        PacketType::FollowerInfo,
        1 << 32,
        encode_learner_info(&info),
    )
}

/// True once the peer has closed `stream` (EOF or reset), within [`WAIT`].
async fn closed_by_peer(stream: &mut TcpStream) -> bool {
    let mut sink = [0u8; 256];
    let read = timeout(WAIT, async {
        loop {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    });
    read.await.is_ok()
}

#[tokio::test]
async fn votes_flow_both_ways_and_to_self() {
    let (mut ls, members) = bind_members(&[1, 2]).await;
    let mut n2 = start(2, &members, ls.pop().unwrap());
    let mut n1 = start(1, &members, ls.pop().unwrap());
    // The smaller sid dials first: the larger closes that and dials back.
    n1.net.send(2, Message::Vote(notification(1, 1)));
    assert_eq!(n2.vote_from(1).await, notification(1, 1));
    n2.net.send(1, Message::Vote(notification(2, 2)));
    assert_eq!(n1.vote_from(2).await, notification(2, 2));
    for round in 3..20 {
        n1.net.send(2, Message::Vote(notification(1, round)));
        n2.net.send(1, Message::Vote(notification(2, round)));
    }
    for round in 3..20 {
        assert_eq!(n2.vote_from(1).await.vote.election_epoch, round);
        assert_eq!(n1.vote_from(2).await.vote.election_epoch, round);
    }
    n1.net.send(1, Message::Vote(notification(1, 99)));
    assert_eq!(n1.vote_from(1).await, notification(1, 99));
}

#[tokio::test]
async fn the_larger_sid_keeps_the_election_connection() {
    // Sid 2 is a PeerNet; sids 1 and 3 are raw sockets speaking ZooKeeper's bytes.
    let (mut ls, members) = bind_members(&[1, 2, 3]).await;
    let _raw3 = ls.pop().unwrap();
    let mut n2 = start(2, &members, ls.pop().unwrap());
    let (raw1_election, _raw1_quorum) = ls.pop().unwrap();
    let n2_election = n2.net.election_addr();

    // Smaller sid 1 dials 2: 2 closes it and dials 1 back with its own initial message.
    let mut dial = TcpStream::connect(n2_election).await.unwrap();
    let mut hello = Vec::new();
    encode_initial(
        &mut hello,
        1,
        &format!("127.0.0.1:{}", members[0].election_port),
    );
    dial.write_all(&hello).await.unwrap();
    assert!(
        closed_by_peer(&mut dial).await,
        "2 must close 1's connection"
    );
    let (mut back, _) = timeout(WAIT, raw1_election.accept())
        .await
        .unwrap()
        .unwrap();
    let initial = read_initial(&mut back).await;
    assert_eq!(initial.sid, 2);
    assert_eq!(
        initial.address,
        Some(format!("127.0.0.1:{}", members[1].election_port))
    );

    // On the kept connection, frames flow both ways in ZooKeeper's layout.
    let mut frame = Vec::new();
    encode_notification_frame(&mut frame, &notification(1, 5));
    back.write_all(&frame).await.unwrap();
    assert_eq!(n2.vote_from(1).await, notification(1, 5));
    n2.net.send(1, Message::Vote(notification(2, 6)));
    assert_eq!(read_frame(&mut back).await, notification(2, 6));

    // Larger sid 3 dialing 2 is kept, and its 28-byte (oldest) notifications are read.
    let mut dial3 = TcpStream::connect(n2_election).await.unwrap();
    let mut hello = Vec::new();
    encode_initial(
        &mut hello,
        3,
        &format!("127.0.0.1:{}", members[2].election_port),
    );
    let mut old = notification(3, 7);
    old.config.clear();
    let mut frame = Vec::new();
    encode_notification_frame(&mut frame, &old);
    hello.extend_from_slice(&28i32.to_be_bytes());
    hello.extend_from_slice(&frame[4..32]);
    dial3.write_all(&hello).await.unwrap();
    let got = n2.vote_from(3).await;
    assert_eq!((got.vote.leader, got.vote.peer_epoch), (3, 1));
    n2.net.send(3, Message::Vote(notification(2, 8)));
    assert_eq!(read_frame(&mut dial3).await, notification(2, 8));
}

/// Reads an initial message from a raw socket.
async fn read_initial(stream: &mut TcpStream) -> paddock::zab::wire::InitialMessage {
    let mut buf = Vec::new();
    timeout(WAIT, async {
        loop {
            if let Some((m, _)) = decode_initial(&buf).unwrap() {
                return m;
            }
            let mut chunk = [0u8; 64];
            let n = stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "closed before the initial message");
            buf.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .unwrap()
}

/// Reads one notification frame from a raw socket.
async fn read_frame(stream: &mut TcpStream) -> Notification {
    let len = timeout(WAIT, stream.read_i32()).await.unwrap().unwrap();
    let mut payload = vec![0u8; len as usize];
    stream.read_exact(&mut payload).await.unwrap();
    decode_notification(&payload).unwrap()
}

/// The serialized snapshot of a small tree (sessions and tree, no file header or seal).
fn snapshot() -> Vec<u8> {
    let mut tree = DataTree::new(true);
    let mut events = Vec::new();
    let acl = paddock::tree::acl_cache::open_acl_unsafe();
    for i in 0..200 {
        let path = format!("/node{i}");
        let data = vec![i as u8; 300];
        tree.create_node(&path, Some(&data), &acl, 0, -1, i + 1, 1000, &mut events)
            .unwrap();
    }
    let image = snapshot_bytes(&tree, &[(0x100, 30000)]);
    image[16..image.len() - 13].to_vec()
}

#[tokio::test]
async fn a_learner_connects_syncs_by_snap_and_both_see_disconnects() {
    let (mut ls, members) = bind_members(&[1, 2, 3]).await;
    let mut n3 = start(3, &members, ls.pop().unwrap());
    let mut n2 = start(2, &members, ls.pop().unwrap());
    let mut n1 = start(1, &members, ls.pop().unwrap());
    for learner in [&mut n1, &mut n2] {
        learner.net.connect_leader(3);
        learner
            .expect("Connected", |e| {
                (e == PeerEvent::Connected(3)).then_some(())
            })
            .await;
    }
    n1.net.send(3, Message::Quorum(follower_info(1)));
    n2.net.send(3, Message::Quorum(follower_info(2)));
    assert_eq!(n3.packet_from(1).await, follower_info(1));
    assert_eq!(n3.packet_from(2).await, follower_info(2));

    let leader_info = packet(
        PacketType::LeaderInfo,
        2 << 32,
        0x10000i32.to_be_bytes().to_vec(),
    );
    let snap = packet(PacketType::Snap, 0x1_0000_00c8, snapshot());
    let proposals: Vec<Packet> = (1..50)
        .map(|i| packet(PacketType::Proposal, (2 << 32) + i, vec![7; 100]))
        .collect();
    n3.net.send(2, Message::Quorum(leader_info.clone()));
    n3.net.send(2, Message::Quorum(snap.clone()));
    for p in &proposals {
        n3.net.send(2, Message::Quorum(p.clone()));
    }
    assert_eq!(n2.packet_from(3).await, leader_info);
    assert_eq!(n2.packet_from(3).await, snap);
    for p in &proposals {
        assert_eq!(&n2.packet_from(3).await, p);
    }

    // A learner leaving is seen by the leader; the leader leaving by a learner.
    n1.net.disconnect(3);
    n3.expect("1 leaves", |e| {
        (e == PeerEvent::Disconnected(1)).then_some(())
    })
    .await;
    drop(n3);
    n2.expect("the leader leaves", |e| {
        (e == PeerEvent::Disconnected(3)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_dial_to_a_missing_leader_reports_disconnected() {
    let (mut ls, members) = bind_members(&[1, 2]).await;
    drop(ls.pop());
    let mut n1 = start(1, &members, ls.pop().unwrap());
    n1.net.connect_leader(2);
    let event = timeout(Duration::from_secs(20), n1.events.recv())
        .await
        .unwrap();
    assert_eq!(event, Some(PeerEvent::Disconnected(2)));
}

/// Log lines captured from the tracing macros of the current thread.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;
    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

impl Logs {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn garbage_on_either_port_closes_that_connection_with_a_warning() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (mut ls, members) = bind_members(&[1, 2]).await;
    let mut n2 = start(2, &members, ls.pop().unwrap());
    let mut n1 = start(1, &members, ls.pop().unwrap());

    // A first long below 0 that is no protocol version.
    let mut junk = TcpStream::connect(n2.net.election_addr()).await.unwrap();
    junk.write_all(&[0xFF; 64]).await.unwrap();
    assert!(closed_by_peer(&mut junk).await);
    let mut junk = TcpStream::connect(n2.net.quorum_addr()).await.unwrap();
    junk.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert!(closed_by_peer(&mut junk).await);
    // A good handshake then a frame length beyond 512 KiB.
    let mut bad = TcpStream::connect(n1.net.election_addr()).await.unwrap();
    let mut bytes = Vec::new();
    encode_initial(
        &mut bytes,
        2,
        &format!("127.0.0.1:{}", members[1].election_port),
    );
    bytes.extend_from_slice(&(600_000i32).to_be_bytes());
    bad.write_all(&bytes).await.unwrap();
    assert!(closed_by_peer(&mut bad).await);

    let text = logs.text();
    assert!(text.contains("bad initial message"), "{text}");
    assert!(text.contains("bad first packet"), "{text}");
    assert!(text.contains("bad election frame"), "{text}");
    assert!(text.contains("WARN"), "{text}");

    // The nets still work.
    n2.net.send(1, Message::Vote(notification(2, 1)));
    assert_eq!(n1.vote_from(2).await, notification(2, 1));
    n1.net.send(2, Message::Vote(notification(1, 1)));
    assert_eq!(n2.vote_from(1).await, notification(1, 1));
}

#[tokio::test]
async fn votes_reach_a_server_that_restarted_on_its_ports() {
    let (mut ls, members) = bind_members(&[1, 2]).await;
    let n2 = start(2, &members, ls.pop().unwrap());
    let mut n1 = start(1, &members, ls.pop().unwrap());
    n1.net.send(2, Message::Vote(notification(1, 1)));
    n2.net.send(1, Message::Vote(notification(2, 1)));
    assert_eq!(n1.vote_from(2).await, notification(2, 1));
    drop(n2);

    let (tx, mut events2) = mpsc::unbounded_channel();
    // The old listeners close once the runtime has run their cancellation.
    let mut restarted = None;
    for _ in 0..100 {
        match PeerNet::start(2, members.clone(), tx.clone()).await {
            Ok(net) => {
                restarted = Some(net);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let n2 = restarted.expect("the ports are free again");
    // As the election does: resend until the other side answers.
    let got = timeout(WAIT, async {
        loop {
            n1.net.send(2, Message::Vote(notification(1, 2)));
            let wait = timeout(Duration::from_millis(200), events2.recv()).await;
            if let Ok(Some(PeerEvent::Message { from: 1, msg })) = wait {
                return msg;
            }
        }
    })
    .await
    .expect("the restarted server hears from 1");
    assert_eq!(got, Message::Vote(notification(1, 2)));
    n2.send(1, Message::Vote(notification(2, 3)));
    assert_eq!(n1.vote_from(2).await, notification(2, 3));
}

#[tokio::test]
async fn a_redial_from_a_smaller_sid_replaces_the_stale_connection() {
    let (mut ls, members) = bind_members(&[1, 2]).await;
    let n2 = start(2, &members, ls.pop().unwrap());
    let (raw1_election, _raw1_quorum) = ls.pop().unwrap();
    let mut hello = Vec::new();
    encode_initial(
        &mut hello,
        1,
        &format!("127.0.0.1:{}", members[0].election_port),
    );

    let mut first = TcpStream::connect(n2.net.election_addr()).await.unwrap();
    first.write_all(&hello).await.unwrap();
    let (mut stale, _) = timeout(WAIT, raw1_election.accept())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read_initial(&mut stale).await.sid, 2);

    // Sid 1 "restarts" without its old socket closing (a partition), and dials again.
    let mut again = TcpStream::connect(n2.net.election_addr()).await.unwrap();
    again.write_all(&hello).await.unwrap();
    assert!(
        closed_by_peer(&mut stale).await,
        "2 drops the stale connection"
    );
    let (mut fresh, _) = timeout(WAIT, raw1_election.accept())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read_initial(&mut fresh).await.sid, 2);
    n2.net.send(1, Message::Vote(notification(2, 4)));
    assert_eq!(read_frame(&mut fresh).await, notification(2, 4));
}
