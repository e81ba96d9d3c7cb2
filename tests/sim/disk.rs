//! The simulated disk: epochs, a snapshot and the log after it, with a
//! durable prefix; and the txn bytes of the simulation.

use paddock::zab::{Persisted, TxnBytes};

/// A txn of the simulation: its zxid and the client write's id.
pub type Entry = (i64, u64);

/// A server's disk.
#[derive(Default, Clone)]
pub struct Disk {
    /// File `acceptedEpoch`.
    pub accepted: u32,
    /// File `currentEpoch`.
    pub current: u32,
    /// The snapshot: its zxid and state.
    pub snapshot: (i64, Vec<Entry>),
    /// The log after the snapshot.
    pub log: Vec<(i64, TxnBytes)>,
    /// How many log records are durable.
    pub durable_len: usize,
    /// Raised by every truncation: flushes started before it are void.
    pub generation: u64,
}

impl Disk {
    /// What a restart reads.
    pub fn persisted(&self, window: usize) -> Persisted {
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
    pub fn rebuild(&self) -> Vec<Entry> {
        let mut state = self.snapshot.1.clone();
        state.extend(self.log.iter().map(|(_, t)| decode_txn(t)));
        state
    }
}

/// The txn bytes for a write: zxid then write id.
pub fn encode_txn(zxid: i64, write: u64) -> TxnBytes {
    let mut b = zxid.to_be_bytes().to_vec();
    b.extend_from_slice(&write.to_be_bytes());
    b.into()
}

/// The entry of txn bytes.
pub fn decode_txn(t: &[u8]) -> Entry {
    let zxid = i64::from_be_bytes(t[..8].try_into().expect("zxid"));
    (
        zxid,
        u64::from_be_bytes(t[8..16].try_into().expect("write id")),
    )
}

/// A snapshot's bytes: its entries.
pub fn encode_state(state: &[Entry]) -> TxnBytes {
    let mut b = Vec::with_capacity(state.len() * 16);
    for (z, w) in state {
        b.extend_from_slice(&encode_txn(*z, *w));
    }
    b.into()
}
