//! The sockets between servers (ZooKeeper's `QuorumCnxManager` and the
//! learner ↔ leader connections of `Learner` / `LearnerHandler`), spoken in
//! terms of [`zab::Message`]: the core hands messages to [`PeerNet::send`]
//! and receives [`PeerEvent`]s on a channel.
//!
//! ```text
//! election port: one connection per pair, always kept by the larger sid
//!   smaller dials larger ─ initial message ─▶ larger closes it and dials back
//!   larger dials smaller ─ initial message ─▶ kept; frames both ways
//! quorum port:   a learner dials its leader (PeerNet::connect_leader);
//!   first packet FOLLOWERINFO / OBSERVERINFO names the learner
//! ```
//! Each connection has a reader task and a writer task; the writer sends
//! every packet queued by the time it wakes in one write. Bad bytes close
//! the connection they came on (logged as a warning); nothing here panics on
//! what a peer sends. Dropping the [`PeerNet`] stops every task and socket.

mod election;
mod quorum;
mod stream;

use crate::config::ServerSpec;
use crate::zab::links::Links;
use crate::zab::{Message, Notification, Packet, Sid};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

/// Where a server listens, as its `server.N` line says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddr {
    /// The server id N.
    pub id: Sid,
    /// Host name or IP literal.
    pub host: String,
    /// The quorum port (learners dial their leader here).
    pub quorum_port: u16,
    /// The election port.
    pub election_port: u16,
}

impl From<&ServerSpec> for PeerAddr {
    fn from(s: &ServerSpec) -> PeerAddr {
        PeerAddr {
            id: s.id,
            host: s.host.clone(),
            quorum_port: s.quorum_port,
            election_port: s.election_port,
        }
    }
}

/// `host:port` as ZooKeeper writes an address in an initial message: an IPv6
/// literal in brackets, so the receiver can split off the port.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// What the transport reports to the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// Server `from` sent `msg`.
    Message {
        /// The sender.
        from: Sid,
        /// What it sent.
        msg: Message,
    },
    /// The quorum connection to leader `0` asked for by
    /// [`PeerNet::connect_leader`] is up; its packets follow this event.
    Connected(Sid),
    /// The quorum connection to or from server `0` closed (or the dial to the
    /// leader failed) without [`PeerNet::disconnect`] or
    /// [`PeerNet::connect_leader`] asking for it.
    Disconnected(Sid),
}

/// Election notifications queued per connection; a full queue drops the
/// newest (the election resends what matters).
const ELECTION_QUEUE_BOUND: usize = 256;
/// Packets queued per quorum connection; a full queue closes the connection
/// (a learner that far behind must resync).
const QUORUM_QUEUE_BOUND: usize = 100_000;

/// One live connection to a peer, as the shared state knows it.
struct Conn<T> {
    /// Tells this connection from a later one to the same sid.
    id: u64,
    /// The writer task's queue; dropping it ends the writer, which closes the socket.
    tx: mpsc::Sender<T>,
    /// The reader task, stopped when the connection is closed or replaced.
    reader: AbortHandle,
    /// The writer task of a quorum connection, stopped with it: a closed
    /// quorum connection sends nothing more, not even what was queued.
    /// An election connection's writer (None here) drains its queue: a vote
    /// queued on a connection replaced during the dial-back must still go.
    writer: Option<AbortHandle>,
}

impl<T> Drop for Conn<T> {
    fn drop(&mut self) {
        self.reader.abort();
        if let Some(writer) = &self.writer {
            writer.abort();
        }
    }
}

/// Everything the tasks share, behind one lock held only for map updates.
#[derive(Default)]
struct State {
    /// The election connection of each peer.
    election: HashMap<Sid, Conn<Notification>>,
    /// The latest notification for each peer without an election connection
    /// (ZooKeeper also keeps only the last one), sent when one comes up.
    pending_votes: HashMap<Sid, Notification>,
    /// Peers an election dial loop is running for.
    dialing: HashSet<Sid>,
    /// The quorum connection of each peer: learners' (accepted) and the
    /// leader's (dialed); only the current one's packets reach the core.
    quorum: Links<Conn<Packet>>,
    /// The leader dial in progress, if any: its number (a later
    /// `connect_leader` supersedes it), the leader, and its task.
    leader_dial: Option<(u64, Sid, AbortHandle)>,
}

/// What every task of one [`PeerNet`] holds.
struct Shared {
    /// This server's id.
    my_id: Sid,
    /// The ensemble's addresses, by id (replaced by a reconfig).
    members: std::sync::RwLock<HashMap<Sid, PeerAddr>>,
    /// This server's election address as sent in initial messages (`host:port`).
    my_election_address: String,
    /// Where events go.
    events: mpsc::UnboundedSender<PeerEvent>,
    /// Closes when the PeerNet is dropped; every task stops then.
    shutdown: watch::Receiver<()>,
    /// The runtime the PeerNet started on: `send` may spawn from any thread.
    runtime: tokio::runtime::Handle,
    /// Connections and dials.
    state: Mutex<State>,
    /// Source of [`Conn::id`]s.
    next_conn_id: AtomicU64,
}

impl Shared {
    /// The address of member `sid`, if it is one.
    fn member(&self, sid: Sid) -> Option<PeerAddr> {
        self.members
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&sid)
            .cloned()
    }

    /// True when `sid` is a member.
    fn is_member(&self, sid: Sid) -> bool {
        self.member(sid).is_some()
    }

    /// The state; a poisoned lock is still usable (updates are single map operations).
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh connection id.
    fn conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Reports `event` (the core may have stopped listening; then nobody cares).
    fn emit(&self, event: PeerEvent) {
        let _ = self.events.send(event);
    }

    /// Runs `task` until it ends or the PeerNet is dropped.
    fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) -> AbortHandle {
        let mut shutdown = self.shutdown.clone();
        self.runtime
            .spawn(async move {
                tokio::select! {
                    _ = shutdown.changed() => {}
                    _ = task => {}
                }
            })
            .abort_handle()
    }
}

// The core task owns a PeerNet and may move between runtime threads.
const _: fn() = || {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<PeerNet>();
};

/// The transport: owns the election and quorum listeners and every
/// connection between this server and the others.
pub struct PeerNet {
    /// State shared with the tasks.
    shared: Arc<Shared>,
    /// Where the election listener is bound.
    election_addr: SocketAddr,
    /// Where the quorum listener is bound.
    quorum_addr: SocketAddr,
    /// Dropping it stops every task.
    _shutdown: watch::Sender<()>,
}

impl PeerNet {
    /// Binds this server's election and quorum ports (its entry in `members`,
    /// on its host) and starts serving; events go to `events`.
    pub async fn start(
        my_id: Sid,
        members: Vec<PeerAddr>,
        events: mpsc::UnboundedSender<PeerEvent>,
    ) -> io::Result<PeerNet> {
        let me = members.iter().find(|m| m.id == my_id).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "this server is not a member")
        })?;
        let election = TcpListener::bind((me.host.as_str(), me.election_port)).await?;
        let quorum = TcpListener::bind((me.host.as_str(), me.quorum_port)).await?;
        PeerNet::start_with_listeners(my_id, members, election, quorum, events)
    }

    /// Like [`PeerNet::start`] on listeners the caller bound (tests bind port 0).
    /// Must be called inside a tokio runtime, which runs every task.
    pub fn start_with_listeners(
        my_id: Sid,
        members: Vec<PeerAddr>,
        election: TcpListener,
        quorum: TcpListener,
        events: mpsc::UnboundedSender<PeerEvent>,
    ) -> io::Result<PeerNet> {
        let (election_addr, quorum_addr) = (election.local_addr()?, quorum.local_addr()?);
        let my_election_address = members
            .iter()
            .find(|m| m.id == my_id)
            .map_or(election_addr.to_string(), |m| {
                host_port(&m.host, m.election_port)
            });
        let (shutdown_tx, shutdown) = watch::channel(());
        let shared = Arc::new(Shared {
            my_id,
            members: std::sync::RwLock::new(members.into_iter().map(|m| (m.id, m)).collect()),
            my_election_address,
            events,
            shutdown,
            runtime: tokio::runtime::Handle::current(),
            state: Mutex::default(),
            next_conn_id: AtomicU64::new(1),
        });
        shared.spawn(listen(
            shared.clone(),
            election,
            "election",
            election::accept,
        ));
        shared.spawn(listen(shared.clone(), quorum, "quorum", quorum::accept));
        tracing::info!(sid = my_id, %election_addr, %quorum_addr, "peer transport listening");
        Ok(PeerNet {
            shared,
            election_addr,
            quorum_addr,
            _shutdown: shutdown_tx,
        })
    }

    /// Where the election listener is bound.
    pub fn election_addr(&self) -> SocketAddr {
        self.election_addr
    }

    /// Where the quorum listener is bound.
    pub fn quorum_addr(&self) -> SocketAddr {
        self.quorum_addr
    }

    /// Sends `msg` to server `to`: a vote on the election connection (dialing
    /// if there is none, and keeping the latest vote until one is up), a
    /// packet on the quorum connection to or from `to` (dropped if there is none).
    pub fn send(&self, to: Sid, msg: Message) {
        match msg {
            Message::Vote(n) => election::send(&self.shared, to, n),
            Message::Quorum(p) => quorum::send(&self.shared, to, p),
        }
    }

    /// Closes every quorum connection (no events for them) and dials
    /// `leader`'s quorum port, retrying a few times: [`PeerEvent::Connected`]
    /// when it is up, [`PeerEvent::Disconnected`] if it cannot be reached.
    pub fn connect_leader(&self, leader: Sid) {
        quorum::connect_leader(&self.shared, leader);
    }

    /// Replaces the members' addresses (a committed reconfig): later dials
    /// use them; connections open now stay up.
    pub fn set_members(&self, members: Vec<PeerAddr>) {
        let map = members.into_iter().map(|m| (m.id, m)).collect();
        *self
            .shared
            .members
            .write()
            .unwrap_or_else(|e| e.into_inner()) = map;
    }

    /// Closes the quorum connection to or from `sid` and any dial to it; no
    /// [`PeerEvent::Disconnected`] follows.
    pub fn disconnect(&self, sid: Sid) {
        quorum::disconnect(&self.shared, sid);
    }
}

/// Wait after a failed accept (e.g. out of file descriptors) before the next.
const ACCEPT_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// Accepts connections on `port` (named for logs) until the PeerNet is
/// dropped, each handled by `accept` on its own task.
async fn listen<F, Fut>(shared: Arc<Shared>, listener: TcpListener, port: &'static str, accept: F)
where
    F: Fn(Arc<Shared>, tokio::net::TcpStream, SocketAddr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                shared.spawn(accept(shared.clone(), stream, remote));
            }
            Err(e) => {
                tracing::warn!(error = %e, port, "peer port accept failed");
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn ipv6_hosts_are_bracketed_in_initial_messages() {
        assert_eq!(host_port("::1", 3888), "[::1]:3888");
        assert_eq!(host_port("zk1.example", 3888), "zk1.example:3888");
    }
}
