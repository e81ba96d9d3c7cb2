//! The tree digest ZooKeeper 3.6+ keeps (`zookeeper.digest.enabled`, on by
//! default) and the log of it the `hash` command prints.
//!
//! Each node outside `/zookeeper/` has a digest: CRC-32 over its path (the
//! root's as ""), its data and its persisted Stat as 60 big-endian bytes
//! (czxid, mzxid, pzxid, ctime, mtime, version, cversion, aversion,
//! ephemeralOwner). The tree's digest is the sum of its nodes' (wrapping, a
//! Java `long`): a change takes the node's old digest out and puts its new
//! one in. After every txn applied whose zxid is a multiple of 128, the
//! tree's digest is logged, the newest 1,024 kept. Members of an ensemble
//! that applied the same txns log the same digests, which is what `hash`
//! is for.

use crate::jute::records::StatPersisted;
use std::collections::VecDeque;

/// ZooKeeper's DIGEST_VERSION.
pub const DIGEST_VERSION: i32 = 2;

/// Txns between two logged digests (by zxid).
const LOG_INTERVAL: i64 = 128;

/// Logged digests kept.
const LOG_LIMIT: usize = 1024;

/// Nodes below this prefix (not `/zookeeper` itself) have no digest.
const UNDIGESTED: &str = "/zookeeper/";

/// The digest of the node at `path` with `data` and `stat`; 0 for a node
/// below `/zookeeper/` or when `enabled` is false.
pub fn node_digest(enabled: bool, path: &str, data: Option<&[u8]>, stat: &StatPersisted) -> i64 {
    NodeDigestPrefix::new(enabled, path, data).digest(stat)
}

/// A node's digest with its path and data already hashed, so that a change
/// of the Stat alone (a parent's cversion and pzxid, an aversion) is
/// digested without the data: prep keeps one per change record, as it
/// keeps no node data. No allocation: the CRC-32 state only.
#[derive(Debug, Clone, Default)]
pub struct NodeDigestPrefix {
    /// CRC-32 after the path and the data; `None` for a node that has no
    /// digest (below `/zookeeper/`, or digests off).
    crc: Option<crc32fast::Hasher>,
}

impl NodeDigestPrefix {
    /// Hashes `path` (the root's as "") and `data`, unless the node has no digest.
    pub fn new(enabled: bool, path: &str, data: Option<&[u8]>) -> NodeDigestPrefix {
        if !enabled || path.starts_with(UNDIGESTED) {
            return NodeDigestPrefix { crc: None };
        }
        let mut crc = crc32fast::Hasher::new();
        crc.update(if path == "/" { b"" } else { path.as_bytes() });
        crc.update(data.unwrap_or_default());
        NodeDigestPrefix { crc: Some(crc) }
    }

    /// The node's digest with `stat`: 0 for a node that has no digest.
    pub fn digest(&self, stat: &StatPersisted) -> i64 {
        let Some(crc) = &self.crc else {
            return 0;
        };
        let mut crc = crc.clone();
        crc.update(&stat_bytes(stat));
        i64::from(crc.finalize())
    }
}

/// The persisted Stat as 60 big-endian bytes in ZooKeeper's order.
fn stat_bytes(stat: &StatPersisted) -> [u8; 60] {
    let mut fields = [0u8; 60];
    let longs = [stat.czxid, stat.mzxid, stat.pzxid, stat.ctime, stat.mtime];
    for (i, v) in longs.iter().enumerate() {
        fields[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
    }
    for (i, v) in [stat.version, stat.cversion, stat.aversion]
        .iter()
        .enumerate()
    {
        fields[40 + i * 4..44 + i * 4].copy_from_slice(&v.to_be_bytes());
    }
    fields[52..].copy_from_slice(&stat.ephemeral_owner.to_be_bytes());
    fields
}

/// A txn whose TxnDigest disagreed with the tree after applying it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestMismatch {
    /// The txn.
    pub zxid: i64,
    /// The digest the txn carried: the leader's tree after it.
    pub expected: i64,
    /// This tree's digest after it.
    pub actual: i64,
}

/// The tree's digest and its log.
#[derive(Debug, Clone)]
pub struct TreeDigest {
    /// Whether nodes have digests (`zookeeper.digest.enabled`).
    enabled: bool,
    /// The sum of the nodes' digests.
    sum: i64,
    /// (zxid, digest after it), oldest first.
    log: VecDeque<(i64, i64)>,
    /// Txns whose carried digest disagreed with the tree (ZooKeeper's
    /// `digest_mismatches_count`).
    mismatches: u64,
    /// The tree came from a fuzzy snapshot and is being replayed towards
    /// exactness: carried digests are not compared until one matches (the
    /// snapshot's window is then over) or [`TreeDigest::exact`] is called.
    /// ZooKeeper waits for the zxid its snapshot's digest part records,
    /// which can lag the tree serialized (see `storage`); Paddock's
    /// snapshots record none. A match is the tree's digest equal to the
    /// leader's after the same txn: from there replay is exact.
    fuzzy: bool,
    /// The last digest compared mismatched: later mismatches of the same
    /// run stay out of the history.
    parted: bool,
}

impl TreeDigest {
    /// An empty tree's digest (no node counted yet).
    pub fn new(enabled: bool) -> TreeDigest {
        TreeDigest {
            enabled,
            sum: 0,
            log: VecDeque::new(),
            mismatches: 0,
            fuzzy: false,
            parted: false,
        }
    }

    /// Whether nodes have digests.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Counts the node at `path` in.
    pub fn add(&mut self, path: &str, data: Option<&[u8]>, stat: &StatPersisted) {
        self.sum = self
            .sum
            .wrapping_add(node_digest(self.enabled, path, data, stat));
    }

    /// Takes the node at `path`, as it was counted in, out.
    pub fn remove(&mut self, path: &str, data: Option<&[u8]>, stat: &StatPersisted) {
        self.sum = self
            .sum
            .wrapping_sub(node_digest(self.enabled, path, data, stat));
    }

    /// The tree's digest now.
    pub fn value(&self) -> i64 {
        self.sum
    }

    /// Notes that txn `zxid` was applied: logs the digest if `zxid` is a
    /// multiple of 128 (ZooKeeper's `logZxidDigest`).
    pub fn applied(&mut self, zxid: i64) {
        if zxid % LOG_INTERVAL == 0 {
            self.push_log(zxid);
        }
    }

    /// Compares the tree's digest after txn `zxid` with the `expected` one
    /// it carried (of digest `version`), as ZooKeeper's
    /// `DataTree.compareDigest`: nothing is compared while digests are off,
    /// for another digest version, or while the tree is fuzzy. A mismatch
    /// is counted; the first of a run of them is also logged in the history
    /// `hash` prints (at its zxid, even off the 128 interval), so comparing
    /// members' `hash` shows where they parted, while the entries every 128
    /// zxids go on (a parted tree mismatches on every later txn). Call
    /// before [`TreeDigest::applied`] for the same zxid.
    pub fn compare(&mut self, zxid: i64, version: i32, expected: i64) -> Option<DigestMismatch> {
        if !self.enabled || version != DIGEST_VERSION {
            return None;
        }
        if self.fuzzy {
            self.fuzzy = expected != self.sum;
            return None;
        }
        if expected == self.sum {
            self.parted = false;
            return None;
        }
        self.mismatches += 1;
        if !self.parted && zxid % LOG_INTERVAL != 0 {
            self.push_log(zxid);
        }
        self.parted = true;
        Some(DigestMismatch {
            zxid,
            expected,
            actual: self.sum,
        })
    }

    /// Txns whose carried digest disagreed with the tree so far.
    pub fn mismatches(&self) -> u64 {
        self.mismatches
    }

    /// Marks the tree fuzzy (see the field): loaded from a snapshot whose
    /// log replay has yet to make it exact.
    pub fn fuzzy(&mut self) {
        self.fuzzy = true;
    }

    /// Ends a fuzzy window: from now on every carried digest is compared.
    pub fn exact(&mut self) {
        self.fuzzy = false;
    }

    fn push_log(&mut self, zxid: i64) {
        self.log.push_back((zxid, self.sum));
        if self.log.len() > LOG_LIMIT {
            self.log.pop_front();
        }
    }

    /// The logged (zxid, digest) pairs, oldest first.
    pub fn log(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.log.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_root_digests_as_crc32_of_sixty_zero_bytes() {
        let zero = StatPersisted::default();
        let expected = i64::from(crc32fast::hash(&[0u8; 60]));
        assert_eq!(node_digest(true, "/", Some(b""), &zero), expected);
        assert_eq!(node_digest(true, "/", None, &zero), expected);
        assert_eq!(node_digest(false, "/", None, &zero), 0);
    }

    #[test]
    fn nodes_below_zookeeper_have_no_digest_but_zookeeper_has() {
        let zero = StatPersisted::default();
        assert_eq!(node_digest(true, "/zookeeper/quota", None, &zero), 0);
        assert_ne!(node_digest(true, "/zookeeper", None, &zero), 0);
    }

    #[test]
    fn stat_fields_go_in_big_endian_in_zookeepers_order() {
        let stat = StatPersisted {
            czxid: 1,
            mzxid: 2,
            ctime: 4,
            mtime: 5,
            version: 6,
            cversion: 7,
            aversion: 8,
            ephemeral_owner: 9,
            pzxid: 3,
        };
        let mut bytes = b"/a".to_vec();
        bytes.extend_from_slice(b"data");
        for v in [1i64, 2, 3, 4, 5] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        for v in [6i32, 7, 8] {
            bytes.extend_from_slice(&v.to_be_bytes());
        }
        bytes.extend_from_slice(&9i64.to_be_bytes());
        let expected = i64::from(crc32fast::hash(&bytes));
        assert_eq!(node_digest(true, "/a", Some(b"data"), &stat), expected);
    }

    #[test]
    fn every_128th_zxid_is_logged_and_the_log_keeps_1024() {
        let mut d = TreeDigest::new(true);
        d.add("/a", None, &StatPersisted::default());
        for zxid in 1..=1000 {
            d.applied(zxid);
        }
        let logged: Vec<i64> = d.log().map(|(z, _)| z).collect();
        assert_eq!(logged, [128, 256, 384, 512, 640, 768, 896]);
        for i in 0..2000 {
            d.applied((1 << 32) + 128 * i);
        }
        assert_eq!(d.log().count(), 1024);
        assert_eq!(d.log().last().unwrap().0, (1 << 32) + 128 * 1999);
        assert!(d.log().all(|(_, v)| v == d.value()));
    }
}
