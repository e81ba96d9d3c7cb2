//! A simulated ensemble: `Peer`s on a seeded network (delay, loss of
//! election messages, per-connection FIFO quorum links that break and drop
//! what is in flight), simulated disks (records are durable only after a
//! random delay; a crash loses the rest), crashes, restarts and partitions.
//! Every output is checked as it is carried out (see [`Checker`]).

use paddock::zab::{
    epoch_of, make_zxid, Input, Membership, Message, Output, Packet, PacketType, Peer, PeerConfig,
    Persisted, Role, Sid, TxnBytes,
};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt::Write as _;

/// A deterministic random source (SplitMix64).
pub struct Rng(u64);

impl Rng {
    /// The source for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A txn of the simulation: its zxid and the client write's id.
pub type Entry = (i64, u64);

/// A server's disk.
#[derive(Default, Clone)]
struct Disk {
    /// File `acceptedEpoch`.
    accepted: u32,
    /// File `currentEpoch`.
    current: u32,
    /// The snapshot: its zxid and state.
    snapshot: (i64, Vec<Entry>),
    /// The log after the snapshot.
    log: Vec<(i64, TxnBytes)>,
    /// How many log records are durable.
    durable_len: usize,
    /// Raised by every truncation: flushes started before it are void.
    generation: u64,
}

impl Disk {
    /// What a restart reads.
    fn persisted(&self, window: usize) -> Persisted {
        let last_zxid = self.log.last().map_or(self.snapshot.0, |(z, _)| *z);
        let skip = self.log.len().saturating_sub(window);
        Persisted {
            accepted_epoch: self.accepted,
            current_epoch: self.current,
            last_zxid,
            recent: self.log[skip..].to_vec(),
        }
    }

    /// The state machine rebuilt from disk: the snapshot plus the whole log.
    fn rebuild(&self) -> Vec<Entry> {
        let mut state = self.snapshot.1.clone();
        state.extend(self.log.iter().map(|(_, t)| decode_txn(t)));
        state
    }
}

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
    /// When this node last sent ACKEPOCH: writes acknowledged before are
    /// in the sync it then gets.
    ack_epoch_ms: u64,
}

/// A quorum connection (a learner's to its leader).
struct Conn {
    /// The learner's index.
    learner: usize,
    /// The leader's index.
    leader: usize,
    /// False once broken.
    alive: bool,
    /// The delivery time of the last message each way (FIFO), learner→leader first.
    last_ms: [u64; 2],
}

/// What happens at a point of simulated time.
enum Event {
    /// A Tick for a node.
    Tick(usize),
    /// An input for a node of a given life (a message carries its connection).
    Input {
        to: usize,
        life: u64,
        input: Input,
        conn: Option<u64>,
    },
    /// A disk flush completing.
    Flush {
        node: usize,
        life: u64,
        generation: u64,
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
}

/// The simulated ensemble.
pub struct Cluster {
    rng: Rng,
    now_ms: u64,
    nodes: Vec<Node>,
    membership: Membership,
    events: BinaryHeap<Reverse<(u64, u64)>>,
    slab: BTreeMap<u64, Event>,
    seq: u64,
    conns: BTreeMap<u64, Conn>,
    next_conn: u64,
    cut: BTreeSet<(usize, usize)>,
    checker: Checker,
    next_write: u64,
    faults: bool,
    /// A readable trace, kept only when tracing.
    pub trace: Option<String>,
}

/// Milliseconds between Ticks.
const TICK_EVERY_MS: u64 = 50;
/// zoo.cfg tickTime of the simulated servers.
const TICK_MS: u64 = 100;
/// Committed txns kept for DIFF (small, so SNAP happens too).
const LOG_WINDOW: usize = 8;

/// The txn bytes for a write: zxid then write id.
fn encode_txn(zxid: i64, write: u64) -> TxnBytes {
    let mut b = zxid.to_be_bytes().to_vec();
    b.extend_from_slice(&write.to_be_bytes());
    b.into()
}

/// The entry of txn bytes.
fn decode_txn(t: &[u8]) -> Entry {
    let zxid = i64::from_be_bytes(t[..8].try_into().expect("zxid"));
    (
        zxid,
        u64::from_be_bytes(t[8..16].try_into().expect("write id")),
    )
}

/// A snapshot's bytes: its entries.
fn encode_state(state: &[Entry]) -> TxnBytes {
    let mut b = Vec::with_capacity(state.len() * 16);
    for (z, w) in state {
        b.extend_from_slice(&encode_txn(*z, *w));
    }
    b.into()
}

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
                ack_epoch_ms: 0,
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
        let mut probe: Option<u64> = None;
        while self.now_ms < deadline {
            self.step()?;
            if let Some(w) = probe {
                if self.converged(w) {
                    return Ok(());
                }
            } else if self.all_serving() {
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

    /// Ends faults: restarts crashed nodes and heals partitions.
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

    /// True when every node serves.
    fn all_serving(&self) -> bool {
        self.nodes.iter().all(|n| n.serving)
    }

    /// Proposes one write at the leader, returning its id.
    fn propose_probe(&mut self) -> Option<u64> {
        let leader = (0..self.nodes.len()).find(|&i| self.can_propose(i))?;
        Some(self.propose(leader))
    }

    /// True when every node serves with the same state, holding write `w`.
    fn converged(&self, w: u64) -> bool {
        let first = &self.nodes[0].state;
        self.all_serving()
            && first.iter().any(|(_, id)| *id == w)
            && self.nodes.iter().all(|n| &n.state == first)
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
        if self.faults && self.rng.chance(1) {
            self.fault();
        }
        if self.rng.chance(5) {
            if let Some(l) = (0..self.nodes.len()).find(|&i| self.can_propose(i)) {
                self.propose(l);
            }
        }
        match ev {
            Event::Tick(i) => self.tick(i),
            Event::Input {
                to,
                life,
                input,
                conn,
            } => self.input(to, life, input, conn),
            Event::Flush {
                node,
                life,
                generation,
                len,
            } => self.flush(node, life, generation, len),
        }
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

    /// Delivers an input unless its node's life or connection ended.
    fn input(
        &mut self,
        to: usize,
        life: u64,
        input: Input,
        conn: Option<u64>,
    ) -> Result<(), String> {
        if self.nodes[to].life != life || self.nodes[to].peer.is_none() {
            return Ok(());
        }
        if let Some(c) = conn {
            if !self.conns.get(&c).is_some_and(|c| c.alive) {
                return Ok(());
            }
        }
        self.feed(to, input)
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
            Output::Request { .. } | Output::Touches(_) | Output::SyncDone(_) => {}
        }
        Ok(())
    }

    /// A message: election messages may be lost; quorum ones need a live
    /// connection and keep its order.
    fn send(&mut self, from: usize, to: usize, msg: Message) {
        if self.cut.contains(&pair(from, to)) || self.nodes[to].peer.is_none() {
            return;
        }
        let delay = self.rng.range(1, 20);
        let life = self.nodes[to].life;
        let input = |msg| Input::Message {
            from: from as Sid + 1,
            msg,
        };
        match msg {
            Message::Vote(_) => {
                if !self.rng.chance(5) {
                    let ev = Event::Input {
                        to,
                        life,
                        input: input(msg),
                        conn: None,
                    };
                    self.schedule(delay, ev);
                }
            }
            Message::Quorum(ref p) => {
                if p.kind == PacketType::AckEpoch {
                    self.nodes[from].ack_epoch_ms = self.now_ms;
                }
                let Some(cid) = self.conn_between(from, to) else {
                    return;
                };
                let conn = self.conns.get_mut(&cid).expect("conn");
                let dir = usize::from(conn.learner != from);
                let at = (self.now_ms + delay).max(conn.last_ms[dir]);
                conn.last_ms[dir] = at;
                let ev = Event::Input {
                    to,
                    life,
                    input: input(msg),
                    conn: Some(cid),
                };
                self.schedule(at - self.now_ms, ev);
            }
        }
    }

    /// The live connection between two nodes, either way round.
    fn conn_between(&self, a: usize, b: usize) -> Option<u64> {
        [(a, b), (b, a)].into_iter().find_map(|(l, r)| {
            let cid = self.nodes[l].conn?;
            let c = &self.conns[&cid];
            (c.alive && c.leader == r).then_some(cid)
        })
    }

    /// A learner opens its connection (closing its previous one).
    fn connect(&mut self, learner: usize, leader: usize) {
        if let Some(old) = self.nodes[learner].conn.take() {
            self.break_conn(old, Some(learner));
        }
        let delay = self.rng.range(1, 20);
        let life = self.nodes[learner].life;
        let up = self.nodes[leader].peer.is_some() && !self.cut.contains(&pair(learner, leader));
        let reply = if up {
            let cid = self.next_conn;
            self.next_conn += 1;
            let conn = Conn {
                learner,
                leader,
                alive: true,
                last_ms: [0; 2],
            };
            self.conns.insert(cid, conn);
            self.nodes[learner].conn = Some(cid);
            Input::Connected(leader as Sid + 1)
        } else {
            Input::Disconnected(leader as Sid + 1)
        };
        let ev = Event::Input {
            to: learner,
            life,
            input: reply,
            conn: None,
        };
        self.schedule(delay, ev);
    }

    /// Node `i` closes its connection with `other`.
    fn disconnect(&mut self, i: usize, other: usize) {
        if let Some(cid) = self.conn_between(i, other) {
            self.break_conn(cid, Some(i));
        }
    }

    /// Breaks a connection: in-flight messages are lost and each side other
    /// than `closer` learns it (at once, before anything newer arrives).
    fn break_conn(&mut self, cid: u64, closer: Option<usize>) {
        let Some(c) = self.conns.get_mut(&cid) else {
            return;
        };
        if !c.alive {
            return;
        }
        c.alive = false;
        let (l, r) = (c.learner, c.leader);
        if self.nodes[l].conn == Some(cid) {
            self.nodes[l].conn = None;
        }
        for (side, other) in [(l, r), (r, l)] {
            if Some(side) != closer && self.nodes[side].peer.is_some() {
                let ev = Event::Input {
                    to: side,
                    life: self.nodes[side].life,
                    input: Input::Disconnected(other as Sid + 1),
                    conn: None,
                };
                self.schedule(0, ev);
            }
        }
    }

    /// Appends a record and schedules its flush.
    fn append(&mut self, i: usize, zxid: i64, txn: TxnBytes) {
        let node = &mut self.nodes[i];
        node.disk.log.push((zxid, txn));
        let ev = Event::Flush {
            node: i,
            life: node.life,
            generation: node.disk.generation,
            len: node.disk.log.len(),
        };
        let delay = self.rng.range(1, 30);
        self.schedule(delay, ev);
    }

    /// Cuts the log; rebuilds the state machine when applied txns were cut.
    fn truncate(&mut self, i: usize, zxid: i64) -> Result<(), String> {
        let node = &mut self.nodes[i];
        if zxid < node.disk.snapshot.0 {
            return Err(format!("node {} truncates below its snapshot", i + 1));
        }
        node.disk.log.retain(|(z, _)| *z <= zxid);
        node.disk.durable_len = node.disk.durable_len.min(node.disk.log.len());
        node.disk.generation += 1;
        if node.state.last().is_some_and(|(z, _)| *z > zxid) {
            node.state = node.disk.rebuild();
        }
        Ok(())
    }

    /// Applies a committed txn, checking order and agreement.
    fn deliver(&mut self, i: usize, zxid: i64, txn: &[u8]) -> Result<(), String> {
        let entry = decode_txn(txn);
        if entry.0 != zxid {
            return Err(format!(
                "node {} delivers {zxid:#x} with txn {entry:x?}",
                i + 1
            ));
        }
        let node = &mut self.nodes[i];
        if let Some(last) = node.state.last() {
            if last.0 >= zxid {
                return Err(format!(
                    "node {} delivers {zxid:#x} after {:#x}",
                    i + 1,
                    last.0
                ));
            }
        }
        node.state.push(entry);
        if node.serving {
            let n = node.state.len();
            self.checker.check_state(i, &self.nodes[i].state, n - 1)?;
            if matches!(self.nodes[i].role, Role::Leading { .. }) {
                self.checker.acknowledged.insert(entry.1, self.now_ms);
            }
        }
        Ok(())
    }

    /// Replaces the state machine by a snapshot; the log restarts after it.
    fn install(&mut self, i: usize, zxid: i64, snapshot: &[u8]) {
        let state: Vec<Entry> = snapshot.chunks_exact(16).map(decode_txn).collect();
        let node = &mut self.nodes[i];
        node.disk.snapshot = (zxid, state.clone());
        node.disk.log.clear();
        node.disk.durable_len = 0;
        node.disk.generation += 1;
        node.state = state;
    }

    /// Serializes the leader's state machine and sends it as SNAP.
    fn send_snapshot(&mut self, i: usize, to: Sid, zxid: i64) -> Result<(), String> {
        let node = &self.nodes[i];
        let at = node.state.last().map_or(node.disk.snapshot.0, |(z, _)| *z);
        if at != zxid {
            return Err(format!(
                "node {} snapshots {zxid:#x} but is at {at:#x}",
                i + 1
            ));
        }
        let data = encode_state(&node.state);
        let packet = Packet {
            kind: PacketType::Snap,
            zxid,
            data,
            auth: Vec::new(),
        };
        self.send(i, to as usize - 1, Message::Quorum(packet));
        Ok(())
    }

    /// A role change: one established leader per epoch; a node that starts
    /// serving holds the committed sequence.
    fn role(&mut self, i: usize, role: Role, serving: bool) -> Result<(), String> {
        let node = &mut self.nodes[i];
        node.role = role;
        node.serving = serving;
        if !serving {
            return Ok(());
        }
        if let Role::Leading { epoch } = role {
            if let Some(other) = self.checker.leaders.insert(epoch, i) {
                if other != i {
                    return Err(format!(
                        "epoch {epoch} has leaders {} and {}",
                        other + 1,
                        i + 1
                    ));
                }
            }
        }
        let state = self.nodes[i].state.clone();
        self.checker.check_state(i, &state, 0)?;
        // A learner may serve before the COMMITs (INFORMs) that follow its
        // sync arrive: writes acknowledged before its ACKEPOCH are delivered
        // or logged; a leader holds every acknowledged write.
        let last = state.last().map_or(i64::MIN, |(z, _)| *z);
        let logged = self.nodes[i].disk.log.iter().map(|(_, t)| decode_txn(t));
        let known: BTreeSet<u64> = state
            .iter()
            .copied()
            .chain(logged.filter(|(z, _)| *z > last))
            .map(|(_, w)| w)
            .collect();
        let since = match role {
            Role::Leading { .. } => u64::MAX,
            _ => self.nodes[i].ack_epoch_ms,
        };
        let missing = self
            .checker
            .acknowledged
            .iter()
            .find(|(w, at)| **at < since && !known.contains(w))
            .map(|(w, _)| w);
        match missing {
            Some(w) => Err(format!(
                "node {} serves without acknowledged write {w}",
                i + 1
            )),
            None => Ok(()),
        }
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
        match self.rng.range(0, 5) {
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

    /// Cuts the link between two nodes; their connection breaks silently.
    fn partition(&mut self, a: usize, b: usize) {
        self.log(format_args!("partition {} | {}", a + 1, b + 1));
        self.cut.insert(pair(a, b));
        if let Some(cid) = self.conn_between(a, b) {
            let c = self.conns.get_mut(&cid).expect("conn");
            c.alive = false;
            if self.nodes[c.learner].conn == Some(cid) {
                self.nodes[c.learner].conn = None;
            }
        }
    }

    /// Crashes node `i`: what was not durable is lost.
    fn crash(&mut self, i: usize) {
        self.log(format_args!("crash {}", i + 1));
        let node = &mut self.nodes[i];
        node.peer = None;
        node.life += 1;
        node.serving = false;
        node.role = Role::Looking;
        let keep = node.disk.durable_len;
        node.disk.log.truncate(keep);
        node.disk.generation += 1;
        let mine: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.alive && (c.learner == i || c.leader == i))
            .map(|(id, _)| *id)
            .collect();
        for cid in mine {
            self.break_conn(cid, Some(i));
        }
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
            log_window: LOG_WINDOW,
        };
        let node = &mut self.nodes[i];
        node.life += 1;
        node.state = node.disk.rebuild();
        node.conn = None;
        node.peer = Some(Peer::new(config, node.disk.persisted(LOG_WINDOW)));
        let first = self.rng.range(0, TICK_EVERY_MS);
        self.schedule(first, Event::Tick(i));
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

/// An input, briefly.
fn brief_input(input: &Input) -> String {
    match input {
        Input::Message {
            from,
            msg: Message::Quorum(p),
        } => format!("{:?}({:#x}) from {from}", p.kind, p.zxid),
        Input::Message {
            from,
            msg: Message::Vote(n),
        } => format!(
            "vote {:?} leader {} zxid {:#x} round {} from {from}",
            n.state, n.vote.leader, n.vote.zxid, n.vote.election_epoch
        ),
        Input::Propose { zxid, .. } => format!("propose {zxid:#x}"),
        other => format!("{other:?}"),
    }
}

/// An output, briefly.
fn brief_output(o: &Output) -> String {
    match o {
        Output::Send {
            to,
            msg: Message::Quorum(p),
        } => format!("{:?}({:#x}) to {to}", p.kind, p.zxid),
        Output::Append { zxid, .. } => format!("append {zxid:#x}"),
        Output::Deliver { zxid, .. } => format!("deliver {zxid:#x}"),
        Output::InstallSnapshot { zxid, .. } => format!("install snapshot {zxid:#x}"),
        other => format!("{other:?}"),
    }
}
