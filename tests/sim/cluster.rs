//! A simulated ensemble: `Peer`s on a seeded network (delay, loss of
//! election messages, per-connection FIFO quorum links that break and drop
//! what is in flight), simulated disks (records are durable only after a
//! random delay; a crash loses the rest), crashes, restarts and partitions.
//! Every output is checked as it is carried out (see [`Checker`]).

use paddock::zab::links::Links;
use paddock::zab::{
    epoch_of, make_zxid, Input, Membership, Message, Output, PacketType, Peer, PeerConfig, Role,
    Sid,
};
mod effects;
mod network;

use crate::disk::{encode_txn, Disk, Entry};
use crate::rng::Rng;
use crate::trace::{brief_input, brief_output};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt::Write as _;

/// One server.
struct Node {
    /// None while crashed.
    peer: Option<Peer>,
    /// Its disk (survives crashes, minus what was not durable).
    disk: Disk,
    /// The state machine: delivered txns in order.
    state: Vec<Entry>,
    /// The last role reported and whether it served.
    role: Role,
    /// True while serving.
    serving: bool,
    /// Raised at every crash and restart: events of older lives are void.
    life: u64,
    /// The learner's quorum connection.
    conn: Option<u64>,
    /// Its transport's view: which connection to each peer is current
    /// (the shell's rule, `paddock::zab::links`).
    links: Links<()>,
    /// When this node last sent ACKEPOCH: writes acknowledged before are
    /// in the sync it then gets.
    ack_epoch_ms: u64,
    /// Until when the node is paused (SIGSTOP, a GC pause, a VM stall);
    /// 0 while it runs.
    paused_until: u64,
    /// Its events that came while it was paused, in order: handled after
    /// the Tick it resumes with.
    held: Vec<Event>,
}

/// A quorum connection (a learner's to its leader).
struct Conn {
    /// The learner's index.
    learner: usize,
    /// The leader's index.
    leader: usize,
    /// False once broken.
    alive: bool,
    /// The side that closed it, if one did: what was in flight to that
    /// side still reaches its transport (a reader still draining the socket
    /// buffer), which must not report it.
    closed_by: Option<usize>,
    /// True when a partition cut it: what was in flight is lost.
    cut: bool,
    /// The latest delivery time of a packet that reached a closed side.
    stale_ms: u64,
    /// The delivery time of the last message each way (FIFO), learner→leader first.
    last_ms: [u64; 2],
}

/// What happens at a point of simulated time.
enum Event {
    /// A Tick for a node.
    Tick(usize),
    /// A paused node resumes.
    Resume(usize),
    /// An input for a node.
    Input {
        /// The node.
        to: usize,
        /// The node's life it was meant for.
        life: u64,
        /// The input.
        input: Input,
        /// The connection a quorum message (or a connection's end)
        /// travels on.
        conn: Option<u64>,
        /// True once held back as a late read of a closed connection.
        late: bool,
    },
    /// A disk flush completing.
    Flush {
        /// The node.
        node: usize,
        /// The node's life that started it.
        life: u64,
        /// The disk generation that started it.
        generation: u64,
        /// The log length it makes durable.
        len: usize,
    },
}

/// The invariants, checked as outputs are carried out.
#[derive(Default)]
struct Checker {
    /// The committed sequence as the serving servers showed it.
    committed: Vec<Entry>,
    /// The established leader of each epoch.
    leaders: BTreeMap<u32, usize>,
    /// Writes delivered on the leader that proposed them (acknowledged),
    /// with the time.
    acknowledged: BTreeMap<u64, u64>,
    /// Client syncs waiting, by token: the node and the time issued.
    syncs: BTreeMap<u64, (usize, u64)>,
}

impl Checker {
    /// A serving node's state must agree with the committed sequence; it
    /// extends it.
    fn check_state(&mut self, node: usize, state: &[Entry], from: usize) -> Result<(), String> {
        for (i, e) in state.iter().enumerate().skip(from) {
            match self.committed.get(i) {
                Some(c) if c != e => {
                    return Err(format!(
                        "node {} diverges at {i}: {e:x?} vs committed {c:x?}",
                        node + 1
                    ))
                }
                Some(_) => {}
                None => self.committed.push(*e),
            }
        }
        Ok(())
    }
}

/// The settings of a schedule.
pub struct Setup {
    /// Voters.
    pub voters: usize,
    /// Observers.
    pub observers: usize,
    /// How long faults are injected, ms.
    pub chaos_ms: u64,
    /// How long the healed ensemble may take to converge, ms.
    pub heal_ms: u64,
    /// The chance of a fault at each event, percent.
    pub fault_percent: u64,
    /// Txns kept for DIFF (small, so SNAP happens too).
    pub log_window: usize,
    /// False to hand every read packet to the peer by sid alone, as the
    /// transport did before it kept `Links` (the simulator must catch that).
    pub filter_closed: bool,
}

/// The simulated ensemble.
pub struct Cluster {
    /// Every random choice of the schedule comes from here.
    rng: Rng,
    /// Simulated time.
    now_ms: u64,
    /// The servers; server id = index + 1.
    nodes: Vec<Node>,
    /// The ensemble.
    membership: Membership,
    /// Pending events by (time, sequence): ties keep the order queued.
    events: BinaryHeap<Reverse<(u64, u64)>>,
    /// The pending events by sequence.
    slab: BTreeMap<u64, Event>,
    /// The last sequence number given.
    seq: u64,
    /// Quorum connections by id.
    conns: BTreeMap<u64, Conn>,
    /// The next connection id.
    next_conn: u64,
    /// Pairs of nodes that cannot reach each other.
    cut: BTreeSet<(usize, usize)>,
    /// The invariants.
    checker: Checker,
    /// The next client write id.
    next_write: u64,
    /// True while faults and client load are injected.
    faults: bool,
    /// The chance of a fault at each event, percent.
    fault_percent: u64,
    /// Txns kept for DIFF.
    log_window: usize,
    /// Setup::filter_closed.
    filter_closed: bool,
    /// A readable trace, kept only when tracing.
    pub trace: Option<String>,
}

/// Milliseconds between Ticks.
const TICK_EVERY_MS: u64 = 50;
/// zoo.cfg tickTime of the simulated servers.
const TICK_MS: u64 = 100;

impl Cluster {
    /// A fresh ensemble for `seed`.
    pub fn new(seed: u64, setup: &Setup, trace: bool) -> Cluster {
        let n = setup.voters + setup.observers;
        let membership = Membership {
            voters: (1..=setup.voters as Sid).collect(),
            observers: (setup.voters as Sid + 1..=n as Sid).collect(),
        };
        let mut c = Cluster {
            rng: Rng::new(seed),
            now_ms: 0,
            nodes: Vec::new(),
            membership,
            events: BinaryHeap::new(),
            slab: BTreeMap::new(),
            seq: 0,
            conns: BTreeMap::new(),
            next_conn: 1,
            cut: BTreeSet::new(),
            checker: Checker::default(),
            next_write: 1,
            faults: true,
            fault_percent: setup.fault_percent,
            log_window: setup.log_window,
            filter_closed: setup.filter_closed,
            trace: trace.then(String::new),
        };
        for i in 0..n {
            c.nodes.push(Node {
                peer: None,
                disk: Disk::default(),
                state: Vec::new(),
                role: Role::Looking,
                serving: false,
                life: 0,
                conn: None,
                links: Links::default(),
                ack_epoch_ms: 0,
                paused_until: 0,
                held: Vec::new(),
            });
            c.start(i);
        }
        c
    }

    /// Runs a whole schedule: chaos, then heal and check liveness.
    pub fn run(&mut self, setup: &Setup) -> Result<(), String> {
        while self.now_ms < setup.chaos_ms {
            self.step()?;
        }
        self.heal();
        let deadline = self.now_ms + setup.heal_ms;
        let mut probe: Option<(u64, usize)> = None;
        while self.now_ms < deadline {
            self.step()?;
            if let Some((w, leader)) = probe {
                if self.converged(w) {
                    return Ok(());
                }
                // A probe at a leader that lost its quorum may be lost
                // (it was never acknowledged): probe again.
                if !self.can_propose(leader) && !self.checker.acknowledged.contains_key(&w) {
                    probe = None;
                }
            } else if self.ready_for_probe() {
                probe = self.propose_probe();
            }
        }
        Err(format!(
            "no convergence after healing: roles {:?}, probe {probe:?}",
            self.nodes
                .iter()
                .map(|n| (n.role, n.serving))
                .collect::<Vec<_>>()
        ))
    }

    /// Ends faults and the client load: restarts crashed nodes and heals
    /// partitions.
    fn heal(&mut self) {
        self.faults = false;
        self.cut.clear();
        self.log(format_args!("heal"));
        for i in 0..self.nodes.len() {
            if self.nodes[i].peer.is_none() {
                self.start(i);
            }
        }
    }

    /// Proposes one write at the leader, returning its id and the leader.
    fn propose_probe(&mut self) -> Option<(u64, usize)> {
        let leader = (0..self.nodes.len()).find(|&i| self.can_propose(i))?;
        if self.is_paused(leader) {
            return None;
        }
        Some((self.propose(leader), leader))
    }

    /// True when every node that can serve does, all with the same state
    /// holding write `w`. A node that accepted a higher epoch than the
    /// established one (from a leader that never established it) cannot
    /// join until the next election — ZooKeeper's rule too ("Leaders epoch
    /// is less than accepted epoch") — but a quorum must serve.
    fn converged(&self, w: u64) -> bool {
        let Some(leader) = (0..self.nodes.len()).find(|&i| self.can_propose(i)) else {
            return false;
        };
        let Role::Leading { epoch } = self.nodes[leader].role else {
            return false;
        };
        let state = &self.nodes[leader].state;
        let serving: Vec<Sid> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].serving && &self.nodes[i].state == state)
            .map(|i| i as Sid + 1)
            .collect();
        let stranded = |i: usize| !self.nodes[i].serving && self.nodes[i].disk.accepted > epoch;
        state.iter().any(|(_, id)| *id == w)
            && self.membership.is_quorum(&serving)
            && (0..self.nodes.len()).all(|i| serving.contains(&(i as Sid + 1)) || stranded(i))
    }

    /// True when every node serves or cannot (see `converged`).
    fn ready_for_probe(&self) -> bool {
        let Some(leader) = (0..self.nodes.len()).find(|&i| self.can_propose(i)) else {
            return false;
        };
        let Role::Leading { epoch } = self.nodes[leader].role else {
            return false;
        };
        self.nodes
            .iter()
            .all(|n| n.serving || n.disk.accepted > epoch)
    }

    /// True when node `i` is an established leader.
    fn can_propose(&self, i: usize) -> bool {
        self.nodes[i].peer.as_ref().is_some_and(|p| p.can_propose())
    }

    /// One event, with faults and client writes mixed in.
    fn step(&mut self) -> Result<(), String> {
        let Some(Reverse((at, seq))) = self.events.pop() else {
            // Every node is down: time passes until a fault restarts one.
            self.now_ms += TICK_EVERY_MS;
            if self.faults {
                self.fault();
            }
            return Ok(());
        };
        self.now_ms = self.now_ms.max(at);
        let ev = self.slab.remove(&seq).expect("event stored");
        let target = match &ev {
            Event::Tick(i) | Event::Resume(i) => *i,
            Event::Input { to, .. } => *to,
            Event::Flush { node, .. } => *node,
        };
        if self.is_paused(target) && !matches!(ev, Event::Resume(_)) {
            self.nodes[target].held.push(ev);
            return Ok(());
        }
        if self.faults && self.rng.chance(self.fault_percent) {
            self.fault();
        }
        if self.faults && self.rng.chance(5) {
            let leader = (0..self.nodes.len()).find(|&i| self.can_propose(i));
            if let Some(l) = leader.filter(|&l| !self.is_paused(l)) {
                self.propose(l);
            }
        }
        if self.faults && self.rng.chance(2) {
            self.client_sync()?;
        }
        self.dispatch(ev)
    }

    /// Carries out one event.
    fn dispatch(&mut self, ev: Event) -> Result<(), String> {
        match ev {
            Event::Tick(i) => self.tick(i),
            Event::Resume(i) => self.resume(i),
            Event::Input {
                to,
                life,
                input,
                conn,
                late,
            } => self.input(to, life, input, conn, late),
            Event::Flush {
                node,
                life,
                generation,
                len,
            } => self.flush(node, life, generation, len),
        }
    }

    /// True while node `i` is paused.
    pub(super) fn is_paused(&self, i: usize) -> bool {
        self.nodes[i].paused_until != 0
    }

    /// Pauses node `i` for a while, sometimes past syncLimit; it resumes
    /// with a Tick first, as a stopped process's timers fire before it
    /// reads its sockets.
    fn pause(&mut self, i: usize) {
        if self.nodes[i].peer.is_none() || self.is_paused(i) {
            return;
        }
        let ms = self.rng.range(100, 1_500);
        self.log(format_args!("pause {} for {ms} ms", i + 1));
        self.nodes[i].paused_until = self.now_ms + ms;
        self.schedule(ms, Event::Resume(i));
    }

    /// Node `i` resumes: a Tick first (its timers fire before it reads its
    /// sockets), then what came meanwhile, in order.
    fn resume(&mut self, i: usize) -> Result<(), String> {
        if !self.is_paused(i) {
            return Ok(());
        }
        self.nodes[i].paused_until = 0;
        if self.faults && self.rng.chance(50) {
            // A client's request read before the timers fire: a leader
            // that lost its quorum meanwhile must not answer a sync from
            // its stale state (ZOOKEEPER-1675).
            self.client_sync_at(i)?;
        }
        if self.nodes[i].peer.is_some() {
            let now_ms = self.now_ms;
            self.feed(i, Input::Tick { now_ms })?;
        }
        for ev in std::mem::take(&mut self.nodes[i].held) {
            self.dispatch(ev)?;
        }
        Ok(())
    }

    /// Ticks node `i` and schedules its next Tick.
    fn tick(&mut self, i: usize) -> Result<(), String> {
        if self.nodes[i].peer.is_none() {
            return Ok(());
        }
        self.schedule(TICK_EVERY_MS, Event::Tick(i));
        let now_ms = self.now_ms;
        self.feed(i, Input::Tick { now_ms })
    }

    /// Delivers an input unless its node's life ended, or its connection
    /// lost it, or the node's transport must not report it.
    fn input(
        &mut self,
        to: usize,
        life: u64,
        input: Input,
        conn: Option<u64>,
        late: bool,
    ) -> Result<(), String> {
        if self.nodes[to].life != life || self.nodes[to].peer.is_none() {
            return Ok(());
        }
        let Some(cid) = conn else {
            return self.feed(to, input);
        };
        if matches!(input, Input::Disconnected(_)) {
            return self.transport_input(to, input, cid);
        }
        let c = &self.conns[&cid];
        if c.cut || (!c.alive && c.closed_by.is_none()) {
            // Lost in the network.
            return Ok(());
        }
        let from = match &input {
            Input::Message { from, .. } => *from,
            _ => return self.transport_input(to, input, cid),
        };
        let current = self.nodes[to].links.admits(from, cid);
        if !current && !c.alive && !late {
            // A connection `to` no longer holds current may still be read
            // for a while (a reader draining the socket buffer, on another
            // thread): its packets reach the transport late, in order.
            let extra = self.rng.range(0, 300);
            let c = self.conns.get_mut(&cid).expect("conn");
            let at = (self.now_ms + extra).max(c.stale_ms);
            c.stale_ms = at;
            let ev = Event::Input {
                to,
                life,
                input,
                conn,
                late: true,
            };
            self.schedule(at - self.now_ms, ev);
            return Ok(());
        }
        self.transport_input(to, input, cid)
    }

    /// A flush completes: records up to `len` are durable.
    fn flush(&mut self, i: usize, life: u64, generation: u64, len: usize) -> Result<(), String> {
        let node = &mut self.nodes[i];
        if node.life != life || node.disk.generation != generation || node.peer.is_none() {
            return Ok(());
        }
        let len = len.min(node.disk.log.len());
        if len <= node.disk.durable_len {
            return Ok(());
        }
        node.disk.durable_len = len;
        let zxid = node.disk.log[len - 1].0;
        self.feed(i, Input::Durable(zxid))
    }

    /// Hands an input to node `i`'s peer and carries out the outputs.
    fn feed(&mut self, i: usize, input: Input) -> Result<(), String> {
        if self.trace.is_some() && !matches!(input, Input::Tick { .. }) {
            self.log(format_args!("{} <- {}", i + 1, brief_input(&input)));
        }
        let mut out = Vec::new();
        self.nodes[i]
            .peer
            .as_mut()
            .expect("running")
            .handle(input, &mut out);
        for o in out {
            if self.nodes[i].peer.is_none() {
                break;
            }
            self.output(i, o)?;
        }
        Ok(())
    }

    /// Carries out one output of node `i`.
    fn output(&mut self, i: usize, o: Output) -> Result<(), String> {
        if self.trace.is_some()
            && !matches!(
                o,
                Output::Send {
                    msg: Message::Vote(_),
                    ..
                }
            )
        {
            self.log(format_args!("{} -> {}", i + 1, brief_output(&o)));
        }
        match o {
            Output::Send { to, msg } => self.send(i, to as usize - 1, msg),
            Output::ConnectLeader(l) => self.connect(i, l as usize - 1),
            Output::Disconnect(s) => self.disconnect(i, s as usize - 1),
            Output::Append { zxid, txn } => self.append(i, zxid, txn),
            Output::Truncate(zxid) => return self.truncate(i, zxid),
            Output::PersistEpochs { accepted, current } => {
                self.nodes[i].disk.accepted = accepted;
                self.nodes[i].disk.current = current;
            }
            Output::Deliver { zxid, txn } => return self.deliver(i, zxid, &txn),
            Output::InstallSnapshot { zxid, snapshot } => self.install(i, zxid, &snapshot),
            Output::SendSnapshot { to, zxid } => return self.send_snapshot(i, to, zxid),
            Output::Role { role, serving } => return self.role(i, role, serving),
            Output::SyncDone(token) => return self.sync_done(i, token),
            // The simulated ensemble has no clients that attach sessions.
            Output::Request { .. }
            | Output::Touches(_)
            | Output::Revalidate { .. }
            | Output::Revalidated { .. } => {}
            // The network keeps every connection's order and never hands a
            // closed connection's packets to its closer: a peer that still
            // sees a packet out of order means the glue broke that rule.
            Output::Anomaly(what) => return Err(format!("node {}: {what}", i + 1)),
        }
        Ok(())
    }

    /// Proposes the next write at leader `l`; returns its id.
    fn propose(&mut self, l: usize) -> u64 {
        let peer = self.nodes[l].peer.as_ref().expect("leader runs");
        let epoch = peer.epoch();
        let last = peer.last_logged();
        let zxid = if epoch_of(last) < epoch {
            make_zxid(epoch, 1)
        } else {
            last + 1
        };
        let w = self.next_write;
        self.next_write += 1;
        let txn = encode_txn(zxid, w);
        // A fault inside `feed` cannot fail here: propose only queues.
        let _ = self.feed(l, Input::Propose { zxid, txn });
        w
    }

    /// One random fault.
    fn fault(&mut self) {
        let n = self.nodes.len();
        let i = self.rng.range(0, n as u64 - 1) as usize;
        match self.rng.range(0, 6) {
            5 => self.pause(i),
            0 | 1 => {
                if self.nodes[i].peer.is_some() {
                    self.crash(i)
                } else {
                    self.start(i)
                }
            }
            2 => {
                let j = self.rng.range(0, n as u64 - 1) as usize;
                if i != j {
                    self.partition(i, j);
                }
            }
            3 => {
                self.log(format_args!("heal partitions"));
                self.cut.clear();
            }
            _ => {
                if let Some(cid) = self.nodes[i].conn {
                    self.log(format_args!("break connection of {}", i + 1));
                    self.break_conn(cid, None);
                }
            }
        }
    }

    /// Crashes node `i`: what was not durable is lost.
    fn crash(&mut self, i: usize) {
        self.log(format_args!("crash {}", i + 1));
        let node = &mut self.nodes[i];
        node.peer = None;
        node.life += 1;
        self.checker.syncs.retain(|_, (n, _)| *n != i);
        node.serving = false;
        node.role = Role::Looking;
        node.links = Links::default();
        node.paused_until = 0;
        node.held.clear();
        let keep = node.disk.durable_len;
        node.disk.log.truncate(keep);
        node.disk.generation += 1;
        self.close_all(i);
    }

    /// Starts (or restarts) node `i` from its disk.
    fn start(&mut self, i: usize) {
        self.log(format_args!("start {}", i + 1));
        let config = PeerConfig {
            my_id: i as Sid + 1,
            membership: self.membership.clone(),
            tick_ms: TICK_MS,
            init_limit: 10,
            sync_limit: 5,
            config_text: b"version=0".to_vec(),
            log_window: self.log_window,
        };
        let node = &mut self.nodes[i];
        node.life += 1;
        node.state = node.disk.rebuild();
        node.conn = None;
        node.links = Links::default();
        node.peer = Some(Peer::new(config, node.disk.persisted(self.log_window)));
        let first = self.rng.range(0, TICK_EVERY_MS);
        self.schedule(first, Event::Tick(i));
    }

    /// What node `to`'s transport does with `input` read on connection
    /// `cid`: the peer hears it only if `cid` is current (a learner's first
    /// packet makes an accepted connection current, replacing the old one,
    /// whose end the peer hears first); a connection's end only if it was.
    fn transport_input(&mut self, to: usize, input: Input, cid: u64) -> Result<(), String> {
        let alive = self.conns[&cid].alive;
        let links = &mut self.nodes[to].links;
        let admit = match &input {
            Input::Disconnected(sid) => links.ended(*sid, cid).is_some(),
            Input::Message {
                from,
                msg: Message::Quorum(p),
            } => {
                let first = matches!(p.kind, PacketType::FollowerInfo | PacketType::ObserverInfo);
                if links.admits(*from, cid) {
                    true
                } else if first && alive {
                    if links.insert(*from, cid, ()).is_some() {
                        self.feed(to, Input::Disconnected(*from))?;
                    }
                    true
                } else {
                    false
                }
            }
            _ => true,
        };
        if admit || !self.filter_closed {
            self.feed(to, input)
        } else {
            Ok(())
        }
    }

    /// Queues an event `delay_ms` from now.
    fn schedule(&mut self, delay_ms: u64, ev: Event) {
        self.seq += 1;
        self.events
            .push(Reverse((self.now_ms + delay_ms, self.seq)));
        self.slab.insert(self.seq, ev);
    }

    /// Adds a line to the trace, when tracing.
    fn log(&mut self, line: std::fmt::Arguments<'_>) {
        if let Some(t) = self.trace.as_mut() {
            let _ = writeln!(t, "{:>7} {line}", self.now_ms);
        }
    }
}

/// The unordered pair of two nodes.
fn pair(a: usize, b: usize) -> (usize, usize) {
    (a.min(b), a.max(b))
}
