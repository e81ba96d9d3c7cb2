//! The peer's view of its own log: the newest logged txns in memory (the
//! window a leader syncs learners from), and three marks — last logged,
//! durable, delivered — that only move as the rules allow.

use crate::zab::{follows, Output, TxnBytes};
use std::collections::VecDeque;

/// The newest logged txns and the log's marks.
#[derive(Debug, Clone)]
pub(crate) struct Log {
    /// Logged txns, oldest first (the DIFF window): at most `window` of
    /// them, except that undelivered txns are never dropped.
    entries: VecDeque<(i64, TxnBytes)>,
    /// How many txns are kept for DIFF (PeerConfig::log_window).
    window: usize,
    /// The last logged zxid (or the snapshot's when the log is empty).
    last_logged: i64,
    /// Every record up to this zxid is on disk.
    durable: i64,
    /// The last zxid applied to the state machine (Output::Deliver).
    delivered: i64,
    /// The lowest zxid this log is known to be able to cut back to: the
    /// snapshot installed, or the oldest txn recovered in memory. Below it
    /// the state may hold txns that only a snapshot can replace.
    floor: i64,
    /// Set when the leader asked for a cut below `floor`: the next sync
    /// must be a snapshot.
    needs_snapshot: bool,
}

impl Log {
    /// The log as found on disk: everything logged is durable and applied.
    pub(crate) fn recovered(last_zxid: i64, recent: Vec<(i64, TxnBytes)>, window: usize) -> Log {
        assert!(recent.last().is_none_or(|(z, _)| *z == last_zxid));
        let floor = recent.first().map_or(last_zxid, |(z, _)| *z);
        let mut log = Log {
            floor,
            needs_snapshot: false,
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

    /// True when `zxid` may be appended: it [`follows`] the last logged one.
    pub(crate) fn is_next(&self, zxid: i64) -> bool {
        follows(self.last_logged, zxid)
    }

    /// Logs `txn` at `zxid`, which must follow the last logged zxid with no
    /// gap: a hole here is a committed txn this server would never apply
    /// while reporting a last zxid past it, so it is a bug, not an input.
    pub(crate) fn append(&mut self, zxid: i64, txn: TxnBytes, out: &mut Vec<Output>) {
        assert!(
            self.is_next(zxid),
            "zxid {zxid:#x} does not follow {:#x}: the log would have a hole",
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
    /// Starts at the first undelivered entry (binary search: the window holds
    /// up to `log_window` delivered txns, and scanning them on every commit
    /// was most of a busy leader's time).
    pub(crate) fn deliver_upto(&mut self, zxid: i64, out: &mut Vec<Output>) {
        let first = self.entries.partition_point(|(z, _)| *z <= self.delivered);
        for (z, txn) in self.entries.range(first..) {
            if *z > zxid {
                break;
            }
            out.push(Output::Deliver {
                zxid: *z,
                txn: txn.clone(),
            });
            self.delivered = *z;
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

    /// True when the log can be cut back to `zxid`.
    pub(crate) fn can_cut_to(&self, zxid: i64) -> bool {
        zxid >= self.floor
    }

    /// Records that only a snapshot can bring this server in line.
    pub(crate) fn require_snapshot(&mut self) {
        self.needs_snapshot = true;
    }

    /// The last zxid to report to a leader in ACKEPOCH: the last logged, or
    /// the lowest zxid there is when a snapshot is needed (every leader then
    /// answers with SNAP).
    pub(crate) fn sync_from(&self) -> i64 {
        if self.needs_snapshot {
            i64::MIN
        } else {
            self.last_logged
        }
    }

    /// Replaces log and state machine by a snapshot taken at `zxid`.
    pub(crate) fn install_snapshot(
        &mut self,
        zxid: i64,
        snapshot: TxnBytes,
        out: &mut Vec<Output>,
    ) {
        self.floor = zxid;
        self.needs_snapshot = false;
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
        let start = self.entries.partition_point(|(z, _)| *z <= zxid);
        self.entries.range(start..)
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
