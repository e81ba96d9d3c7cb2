//! The peer's view of its own log: the newest logged txns in memory (the
//! window a leader syncs learners from), and three marks — last logged,
//! durable, delivered — that only move as the rules allow.

use crate::zab::{Output, TxnBytes};
use std::collections::VecDeque;

/// The newest logged txns and the log's marks.
#[derive(Debug, Clone)]
pub(crate) struct Log {
    /// Logged txns, oldest first: every undelivered one, plus up to `window`
    /// delivered ones before them (the DIFF window).
    entries: VecDeque<(i64, TxnBytes)>,
    /// How many delivered txns are kept for DIFF (PeerConfig::log_window).
    window: usize,
    /// The last logged zxid (or the snapshot's when the log is empty).
    last_logged: i64,
    /// Every record up to this zxid is on disk.
    durable: i64,
    /// The last zxid applied to the state machine (Output::Deliver).
    delivered: i64,
}

impl Log {
    /// The log as found on disk: everything logged is durable and applied.
    pub(crate) fn recovered(last_zxid: i64, recent: Vec<(i64, TxnBytes)>, window: usize) -> Log {
        assert!(recent.last().is_none_or(|(z, _)| *z == last_zxid));
        let mut log = Log {
            entries: recent.into(),
            window,
            last_logged: last_zxid,
            durable: last_zxid,
            delivered: last_zxid,
        };
        log.trim();
        log
    }

    /// The last logged zxid.
    pub(crate) fn last_logged(&self) -> i64 {
        self.last_logged
    }

    /// Every record up to this zxid is durable.
    pub(crate) fn durable(&self) -> i64 {
        self.durable
    }

    /// The last delivered zxid.
    pub(crate) fn delivered(&self) -> i64 {
        self.delivered
    }

    /// True when every logged record is durable.
    pub(crate) fn all_durable(&self) -> bool {
        self.durable >= self.last_logged
    }

    /// Logs `txn` at `zxid`, which must follow the last logged zxid.
    pub(crate) fn append(&mut self, zxid: i64, txn: TxnBytes, out: &mut Vec<Output>) {
        assert!(
            zxid > self.last_logged,
            "zxid {zxid:#x} does not follow {:#x}",
            self.last_logged
        );
        self.entries.push_back((zxid, txn.clone()));
        self.last_logged = zxid;
        out.push(Output::Append { zxid, txn });
    }

    /// Records that the log is durable up to `zxid`.
    pub(crate) fn made_durable(&mut self, zxid: i64) {
        self.durable = self.durable.max(zxid.min(self.last_logged));
    }

    /// Delivers, in order and once each, every logged txn up to `zxid`.
    pub(crate) fn deliver_upto(&mut self, zxid: i64, out: &mut Vec<Output>) {
        for (z, txn) in &self.entries {
            if *z > zxid {
                break;
            }
            if *z > self.delivered {
                out.push(Output::Deliver {
                    zxid: *z,
                    txn: txn.clone(),
                });
                self.delivered = *z;
            }
        }
        self.trim();
    }

    /// Cuts every record after `zxid`. When delivered txns are cut the shell
    /// rebuilds the state machine from what is left on disk, so the
    /// delivered mark falls back with the log.
    pub(crate) fn truncate(&mut self, zxid: i64, out: &mut Vec<Output>) {
        while self.entries.back().is_some_and(|(z, _)| *z > zxid) {
            self.entries.pop_back();
        }
        self.last_logged = zxid;
        self.durable = self.durable.min(zxid);
        self.delivered = self.delivered.min(zxid);
        out.push(Output::Truncate(zxid));
    }

    /// Replaces log and state machine by a snapshot taken at `zxid`.
    pub(crate) fn install_snapshot(
        &mut self,
        zxid: i64,
        snapshot: TxnBytes,
        out: &mut Vec<Output>,
    ) {
        self.entries.clear();
        self.last_logged = zxid;
        self.durable = zxid;
        self.delivered = zxid;
        out.push(Output::InstallSnapshot { zxid, snapshot });
    }

    /// The oldest zxid held in memory.
    pub(crate) fn first(&self) -> Option<i64> {
        self.entries.front().map(|(z, _)| *z)
    }

    /// True when `zxid` is held in memory.
    pub(crate) fn contains(&self, zxid: i64) -> bool {
        self.entries
            .binary_search_by_key(&zxid, |(z, _)| *z)
            .is_ok()
    }

    /// The newest zxid in memory below `zxid`.
    pub(crate) fn newest_below(&self, zxid: i64) -> Option<i64> {
        self.entries
            .iter()
            .rev()
            .map(|(z, _)| *z)
            .find(|z| *z < zxid)
    }

    /// The txns in memory after `zxid`, oldest first.
    pub(crate) fn after(&self, zxid: i64) -> impl Iterator<Item = &(i64, TxnBytes)> {
        self.entries.iter().filter(move |(z, _)| *z > zxid)
    }

    /// Drops delivered txns beyond the window; undelivered ones stay.
    fn trim(&mut self) {
        while self.entries.len() > self.window
            && self
                .entries
                .front()
                .is_some_and(|(z, _)| *z <= self.delivered)
        {
            self.entries.pop_front();
        }
    }
}
