//! The simulated network: election messages that may be lost while faults
//! last, quorum connections that keep order, break, and drop what is in
//! flight.

use super::{pair, Cluster, Conn, Event};
use paddock::zab::{Input, Message, PacketType, Sid};

impl Cluster {
    /// A message: election messages may be lost; quorum ones need a live
    /// connection and keep its order.
    pub(super) fn send(&mut self, from: usize, to: usize, msg: Message) {
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
                // Election links are TCP too, but they break and reconnect
                // under faults: a notification may be lost then (only).
                let lost = self.faults && self.rng.chance(5);
                if !lost {
                    let ev = Event::Input {
                        to,
                        life,
                        input: input(msg),
                        conn: None,
                        late: false,
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
                    late: false,
                };
                self.schedule(at - self.now_ms, ev);
            }
        }
    }

    /// The live connection between two nodes, either way round.
    pub(super) fn conn_between(&self, a: usize, b: usize) -> Option<u64> {
        [(a, b), (b, a)].into_iter().find_map(|(l, r)| {
            let cid = self.nodes[l].conn?;
            let c = &self.conns[&cid];
            (c.alive && c.leader == r).then_some(cid)
        })
    }

    /// A learner opens its connection (closing every other quorum
    /// connection, as `PeerNet::connect_leader` does).
    pub(super) fn connect(&mut self, learner: usize, leader: usize) {
        self.nodes[learner].links.clear();
        self.close_all(learner);
        self.nodes[learner].conn = None;
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
                closed_by: None,
                cut: false,
                stale_ms: 0,
                last_ms: [0; 2],
            };
            self.conns.insert(cid, conn);
            self.nodes[learner].conn = Some(cid);
            self.nodes[learner].links.insert(leader as Sid + 1, cid, ());
            Input::Connected(leader as Sid + 1)
        } else {
            Input::Disconnected(leader as Sid + 1)
        };
        let ev = Event::Input {
            to: learner,
            life,
            input: reply,
            conn: None,
            late: false,
        };
        self.schedule(delay, ev);
    }

    /// Node `i` closes every live quorum connection it is an end of.
    pub(super) fn close_all(&mut self, i: usize) {
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

    /// Node `i` closes its connection with `other`.
    pub(super) fn disconnect(&mut self, i: usize, other: usize) {
        self.nodes[i].links.remove(other as Sid + 1);
        if let Some(cid) = self.conn_between(i, other) {
            self.break_conn(cid, Some(i));
        }
    }

    /// Breaks a connection. Closed by `closer`: what was in flight still
    /// arrives on both sides (the closer's transport must not report it),
    /// and the other side learns of the end after it. Broken by a fault
    /// (`closer` None): what was in flight is lost and both sides learn it
    /// at once.
    pub(super) fn break_conn(&mut self, cid: u64, closer: Option<usize>) {
        let Some(c) = self.conns.get_mut(&cid) else {
            return;
        };
        if !c.alive {
            return;
        }
        c.alive = false;
        c.closed_by = closer;
        let (l, r) = (c.learner, c.leader);
        let c_learner = l;
        if self.nodes[l].conn == Some(cid) {
            self.nodes[l].conn = None;
        }
        for (side, other) in [(l, r), (r, l)] {
            if Some(side) != closer && self.nodes[side].peer.is_some() {
                // Closed by the other side: what it sent before still
                // arrives, then the end. Broken by the network: at once.
                let dir = usize::from(side == c_learner);
                let at = match closer {
                    Some(_) => self.conns[&cid].last_ms[dir].max(self.now_ms),
                    None => self.now_ms,
                };
                let ev = Event::Input {
                    to: side,
                    life: self.nodes[side].life,
                    input: Input::Disconnected(other as Sid + 1),
                    conn: Some(cid),
                    late: false,
                };
                self.schedule(at - self.now_ms, ev);
            }
        }
    }

    /// Cuts the link between two nodes; their connection breaks silently.
    pub(super) fn partition(&mut self, a: usize, b: usize) {
        self.log(format_args!("partition {} | {}", a + 1, b + 1));
        self.cut.insert(pair(a, b));
        if let Some(cid) = self.conn_between(a, b) {
            let c = self.conns.get_mut(&cid).expect("conn");
            c.alive = false;
            c.cut = true;
            if self.nodes[c.learner].conn == Some(cid) {
                self.nodes[c.learner].conn = None;
            }
        }
    }
}
