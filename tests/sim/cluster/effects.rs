//! Carrying out a peer's effects on its disk and state machine, and the
//! checks made as they happen.

use super::{Cluster, Event};
use crate::disk::{decode_txn, encode_state, Entry};
use paddock::zab::{Input, Message, Packet, PacketType, Role, Sid, TxnBytes};
use std::collections::BTreeSet;

impl Cluster {
    /// Appends a record and schedules its flush.
    pub(super) fn append(&mut self, i: usize, zxid: i64, txn: TxnBytes) {
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
    pub(super) fn truncate(&mut self, i: usize, zxid: i64) -> Result<(), String> {
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
    pub(super) fn deliver(&mut self, i: usize, zxid: i64, txn: &[u8]) -> Result<(), String> {
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
    pub(super) fn install(&mut self, i: usize, zxid: i64, snapshot: &[u8]) {
        let state: Vec<Entry> = snapshot.chunks_exact(16).map(decode_txn).collect();
        let node = &mut self.nodes[i];
        node.disk.snapshot = (zxid, state.clone());
        node.disk.log.clear();
        node.disk.durable_len = 0;
        node.disk.generation += 1;
        node.state = state;
    }

    /// Serializes the leader's state machine and sends it as SNAP.
    pub(super) fn send_snapshot(&mut self, i: usize, to: Sid, zxid: i64) -> Result<(), String> {
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
    pub(super) fn role(&mut self, i: usize, role: Role, serving: bool) -> Result<(), String> {
        let node = &mut self.nodes[i];
        node.role = role;
        node.serving = serving;
        if !serving {
            // Syncs pending on a server that stops serving are dropped (its
            // clients are disconnected).
            self.checker.syncs.retain(|_, (n, _)| *n != i);
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

    /// A client `sync` at a random serving node.
    pub(super) fn client_sync(&mut self) -> Result<(), String> {
        let i = self.rng.range(0, self.nodes.len() as u64 - 1) as usize;
        if self.is_paused(i) {
            return Ok(());
        }
        self.client_sync_at(i)
    }

    /// A client `sync` at node `i`, if it serves.
    pub(super) fn client_sync_at(&mut self, i: usize) -> Result<(), String> {
        if !self.nodes[i].serving || self.nodes[i].peer.is_none() {
            return Ok(());
        }
        let token = self.next_write;
        self.next_write += 1;
        self.checker.syncs.insert(token, (i, self.now_ms));
        let mut data = (token as i64).to_be_bytes().to_vec();
        data.extend_from_slice(&1i32.to_be_bytes());
        data.extend_from_slice(&9i32.to_be_bytes());
        let request = Packet {
            kind: PacketType::Request,
            zxid: -1,
            data: data.into(),
            auth: Vec::new(),
        };
        self.feed(i, Input::Sync { token, request })
    }

    /// A sync completes: in the order issued on its node, and the node
    /// holds every write acknowledged before it was issued.
    pub(super) fn sync_done(&mut self, i: usize, token: u64) -> Result<(), String> {
        let Some((node, issued_ms)) = self.checker.syncs.remove(&token) else {
            return Err(format!("node {} ends unknown sync {token}", i + 1));
        };
        let earlier = self
            .checker
            .syncs
            .iter()
            .find(|(t, (n, _))| **t < token && *n == i);
        if node != i || earlier.is_some() {
            return Err(format!("node {} ends sync {token} out of order", i + 1));
        }
        let state = &self.nodes[i].state;
        let missing = self
            .checker
            .acknowledged
            .iter()
            .find(|(w, at)| **at < issued_ms && !state.iter().any(|(_, id)| id == *w));
        match missing {
            Some((w, _)) => Err(format!(
                "node {} ends sync {token} without write {w}",
                i + 1
            )),
            None => Ok(()),
        }
    }
}
