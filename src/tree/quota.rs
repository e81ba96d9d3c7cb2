//! Quotas as ZooKeeper 3.8 keeps them (`Quotas`, `StatsTrack`, and the quota
//! half of `DataTree`).
//!
//! A quota on `/a/b` is two ordinary nodes that clients create:
//! `/zookeeper/quota/a/b/zookeeper_limits` (the limits) and
//! `/zookeeper/quota/a/b/zookeeper_stats` (the usage). Both hold StatsTrack
//! text, `count=<n>,bytes=<n>` optionally followed by `=;<key>=<n>` for the
//! other keys in sorted order (`byteHardLimit`, `countHardLimit`); −1 is unset.
//!
//! The server keeps the usage current as ZooKeeper does: creating the stats
//! node recounts the subtree into it, and every create, delete and setData
//! below the deepest quota'd prefix adds its count and byte difference to that
//! prefix's stats node. These updates replace the stats node's data in place,
//! without a txn and without touching its stat (version, mzxid, mtime stay), so
//! they are a pure function of the txns applied.
//!
//! A path has a quota when its limits node exists, which is what ZooKeeper's
//! PathTrie of quota'd paths holds (added when a limits node is created,
//! removed when it is deleted, rebuilt from the tree at load).

use super::{path, DataTree, QUOTA_PATH};
use std::collections::BTreeMap;

/// Name of the node holding a quota's limits.
pub const LIMITS_NODE: &str = "zookeeper_limits";
/// Name of the node holding a quota's current usage.
pub const STATS_NODE: &str = "zookeeper_stats";

/// A StatsTrack: named counters, −1 for a counter that is absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack {
    /// Every key present in the text, with its value.
    values: BTreeMap<String, i64>,
}

impl StatsTrack {
    /// Parses StatsTrack text leniently, as ZooKeeper does: pairs split on runs
    /// of ',' and ';', each `key=value`; an empty value is −1. Pieces that are
    /// not `key=number` are skipped (ZooKeeper would throw on them).
    pub fn parse(data: &[u8]) -> StatsTrack {
        let text = String::from_utf8_lossy(data);
        let mut values = BTreeMap::new();
        for pair in text.split([',', ';']).filter(|p| !p.is_empty()) {
            let mut kv = pair.split('=');
            let (Some(key), value) = (kv.next(), kv.next()) else {
                continue;
            };
            let value = match value {
                None | Some("") => Some(-1),
                Some(v) => v.parse::<i64>().ok(),
            };
            if let Some(v) = value {
                values.insert(key.to_owned(), v);
            }
        }
        StatsTrack { values }
    }

    /// The value of `key`, −1 when absent.
    pub fn get(&self, key: &str) -> i64 {
        self.values.get(key).copied().unwrap_or(-1)
    }

    /// Sets `key` to `value` (present from now on, even when −1).
    pub fn set(&mut self, key: &str, value: i64) {
        self.values.insert(key.to_owned(), value);
    }

    /// The `count` counter (soft count limit in a limits node).
    pub fn count(&self) -> i64 {
        self.get("count")
    }

    /// The `bytes` counter (soft byte limit in a limits node).
    pub fn bytes(&self) -> i64 {
        self.get("bytes")
    }

    /// The hard count limit, −1 when unset.
    pub fn count_hard_limit(&self) -> i64 {
        self.get("countHardLimit")
    }

    /// The hard byte limit, −1 when unset.
    pub fn byte_hard_limit(&self) -> i64 {
        self.get("byteHardLimit")
    }

    /// The text ZooKeeper writes: `count=..,bytes=..` then, when other keys are
    /// present, `=` and `;key=value` for each in sorted order.
    pub fn to_text(&self) -> String {
        let mut out = format!("count={},bytes={}", self.count(), self.bytes());
        let mut rest = self
            .values
            .iter()
            .filter(|(k, _)| k.as_str() != "count" && k.as_str() != "bytes")
            .peekable();
        if rest.peek().is_some() {
            out.push('=');
        }
        for (k, v) in rest {
            out.push_str(&format!(";{k}={v}"));
        }
        out
    }
}

/// `/zookeeper/quota<prefix>/zookeeper_limits`.
pub fn limits_path(prefix: &str) -> String {
    format!("{QUOTA_PATH}{prefix}/{LIMITS_NODE}")
}

/// `/zookeeper/quota<prefix>/zookeeper_stats`.
pub fn stats_path(prefix: &str) -> String {
    format!("{QUOTA_PATH}{prefix}/{STATS_NODE}")
}

/// The quota'd path a limits or stats node belongs to, when `path` is one.
fn quota_owner(path: &str, node_name: &str) -> Option<String> {
    let (parent, name) = path::split(path)?;
    let prefix = parent.strip_prefix(QUOTA_PATH)?;
    (name == node_name && !prefix.is_empty()).then(|| prefix.to_owned())
}

/// What a write would do to the deepest quota over its path, as prep's
/// ZooKeeperServer.checkQuota judges it from the applied tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaCheck {
    /// ZooKeeper's log line for every limit crossed, in the order it checks
    /// them (count, then bytes): `Quota exceeded: <prefix> [current count=N, softCountLimit=M]`.
    pub exceeded: Vec<String>,
    /// A hard limit is crossed: the write fails with QuotaExceeded.
    pub refused: bool,
}

impl DataTree {
    /// The deepest proper prefix of `path` (or `path` itself) that has a quota,
    /// never "/" (ZooKeeper's getMaxPrefixWithQuota).
    pub fn max_prefix_with_quota(&self, path: &str) -> Option<String> {
        // Most trees have no quota at all: every write asks, so answer that
        // without building a limits path per ancestor.
        if self.get(QUOTA_PATH).is_none_or(|q| q.children().is_empty()) {
            return None;
        }
        let mut limits = String::new();
        let mut candidate = path;
        while candidate != "/" && !candidate.is_empty() {
            limits.clear();
            limits.extend([QUOTA_PATH, candidate, "/", LIMITS_NODE]);
            if self.get(&limits).is_some() {
                return Some(candidate.to_owned());
            }
            candidate = path::parent_of(candidate)?;
        }
        None
    }

    /// Quota bookkeeping after `path` was created with `data_len` bytes: a new
    /// stats node is filled with its subtree's counts, and the deepest quota
    /// over `path` gains one node and `data_len` bytes.
    pub fn quota_created(&mut self, path: &str, data_len: usize) {
        if let Some(prefix) = quota_owner(path, STATS_NODE) {
            self.recount_quota(&prefix);
        }
        self.update_quota_stat(path, data_len as i64, 1);
    }

    /// Quota bookkeeping after `path`, holding `data_len` bytes, was deleted.
    pub fn quota_deleted(&mut self, path: &str, data_len: usize) {
        self.update_quota_stat(path, -(data_len as i64), -1);
    }

    /// Quota bookkeeping after `path`'s data went from `old_len` to `new_len` bytes.
    pub fn quota_data_set(&mut self, path: &str, old_len: usize, new_len: usize) {
        self.update_quota_stat(path, new_len as i64 - old_len as i64, 0);
    }

    /// Recounts every quota's stats node from the tree (ZooKeeper's setupQuota
    /// after a snapshot is loaded).
    pub fn recount_quotas(&mut self) {
        let mut prefixes = Vec::new();
        self.visit_subtree(QUOTA_PATH, |p, _| {
            prefixes.extend(quota_owner(p, LIMITS_NODE));
        });
        for prefix in prefixes {
            self.recount_quota(&prefix);
        }
    }

    /// Adds the differences to the stats node of the deepest quota over `path`.
    fn update_quota_stat(&mut self, path: &str, bytes_diff: i64, count_diff: i64) {
        let Some(prefix) = self.max_prefix_with_quota(path) else {
            return;
        };
        let Some(node) = self.get_mut(&stats_path(&prefix)) else {
            return;
        };
        let mut stats = StatsTrack::parse(node.data().unwrap_or_default());
        stats.set("count", stats.count() + count_diff);
        stats.set("bytes", stats.bytes() + bytes_diff);
        node.set_data(Some(stats.to_text().as_bytes()));
    }

    /// Replaces the stats node of `prefix` by `count=<nodes>,bytes=<data bytes>`
    /// of the subtree at `prefix` (ZooKeeper's updateQuotaForPath).
    fn recount_quota(&mut self, prefix: &str) {
        let (mut count, mut bytes) = (0i64, 0i64);
        self.visit_subtree(prefix, |_, node| {
            count += 1;
            bytes += node.data_len() as i64;
        });
        let mut stats = StatsTrack::default();
        stats.set("count", count);
        stats.set("bytes", bytes);
        if let Some(node) = self.get_mut(&stats_path(prefix)) {
            node.set_data(Some(stats.to_text().as_bytes()));
        }
    }

    /// Judges a create (`count_diff` 1) or setData (`count_diff` 0) adding
    /// `bytes_diff` bytes under `path` against the deepest quota over it, as
    /// ZooKeeperServer.checkQuota does with zookeeper.enforceQuota=true.
    pub fn check_quota(&self, path: &str, bytes_diff: i64, count_diff: i64) -> QuotaCheck {
        let Some(prefix) = self.max_prefix_with_quota(path) else {
            return QuotaCheck::default();
        };
        let data = |p: String| {
            self.get(&p)
                .map(|n| StatsTrack::parse(n.data().unwrap_or_default()))
        };
        let (Some(limits), Some(current)) = (data(limits_path(&prefix)), data(stats_path(&prefix)))
        else {
            return QuotaCheck::default();
        };
        let count = Limit {
            diff: count_diff,
            soft: limits.count(),
            hard: limits.count_hard_limit(),
            current: current.count(),
            what: ("count", "CountLimit"),
        };
        let bytes = Limit {
            diff: bytes_diff,
            soft: limits.bytes(),
            hard: limits.byte_hard_limit(),
            current: current.bytes(),
            what: ("bytes", "ByteLimit"),
        };
        let mut check = QuotaCheck::default();
        for limit in [count, bytes] {
            if let Some((message, hard)) = limit.judge(&prefix) {
                check.exceeded.push(message);
                if hard {
                    check.refused = true;
                    break;
                }
            }
        }
        check
    }
}

/// One counter of a quota check: the change, the limits and the usage now.
struct Limit {
    diff: i64,
    soft: i64,
    hard: i64,
    current: i64,
    /// The counter's name in the log line and the limit's name after hard/soft.
    what: (&'static str, &'static str),
}

impl Limit {
    /// The log line and whether the limit is hard, when the change crosses the
    /// limit; a hard limit, when set, replaces the soft one; −1 means none.
    fn judge(&self, prefix: &str) -> Option<(String, bool)> {
        if self.diff == 0 || (self.soft <= -1 && self.hard <= -1) {
            return None;
        }
        let hard = self.hard > -1;
        let limit = if hard { self.hard } else { self.soft };
        let new = self.current + self.diff;
        if new <= limit {
            return None;
        }
        let message = format!(
            "Quota exceeded: {prefix} [current {}={new}, {}{}={limit}]",
            self.what.0,
            if hard { "hard" } else { "soft" },
            self.what.1
        );
        Some((message, hard))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jute::records::{Acl, Id};

    fn open() -> Vec<Acl> {
        vec![Acl {
            perms: 31,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }]
    }

    fn create(tree: &mut DataTree, path: &str, data: &[u8], zxid: i64) {
        tree.create_node(path, Some(data), &open(), 0, -1, zxid, 0, &mut Vec::new())
            .unwrap();
        tree.quota_created(path, data.len());
    }

    fn text(tree: &DataTree, path: &str) -> String {
        String::from_utf8(tree.get(path).unwrap().data().unwrap().to_vec()).unwrap()
    }

    #[test]
    fn stats_track_round_trips_zookeepers_text() {
        let t = StatsTrack::parse(b"count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=5");
        assert_eq!((t.count(), t.bytes(), t.count_hard_limit()), (3, -1, 5));
        assert_eq!(
            t.to_text(),
            "count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=5"
        );
        assert_eq!(StatsTrack::parse(b"").to_text(), "count=-1,bytes=-1");
        assert_eq!(StatsTrack::parse(b"count=,bytes=7").count(), -1);
    }

    /// A tree with /a holding "xy", /a/b holding "z", and a quota on /a.
    fn quota_tree() -> DataTree {
        let mut tree = DataTree::new(false);
        create(&mut tree, "/a", b"xy", 1);
        create(&mut tree, "/a/b", b"z", 2);
        create(&mut tree, "/zookeeper/quota/a", b"", 3);
        create(&mut tree, &limits_path("/a"), b"count=3,bytes=-1", 4);
        create(&mut tree, &stats_path("/a"), b"count=0,bytes=0", 5);
        tree
    }

    #[test]
    fn creating_the_stats_node_counts_the_subtree_in_place() {
        let tree = quota_tree();
        assert_eq!(text(&tree, &stats_path("/a")), "count=2,bytes=3");
        let stat = tree.get(&stats_path("/a")).unwrap().stat();
        assert_eq!((stat.version, stat.mzxid), (0, 5));
    }

    #[test]
    fn writes_below_a_quota_update_its_stats_without_a_version() {
        let mut tree = quota_tree();
        create(&mut tree, "/a/b/c", b"1234", 6);
        assert_eq!(text(&tree, &stats_path("/a")), "count=3,bytes=7");
        tree.set_data("/a", Some(b"x"), 1, 7, 0, &mut Vec::new())
            .unwrap();
        tree.quota_data_set("/a", 2, 1);
        assert_eq!(text(&tree, &stats_path("/a")), "count=3,bytes=6");
        tree.delete_node("/a/b/c", 8, &mut Vec::new()).unwrap();
        tree.quota_deleted("/a/b/c", 4);
        assert_eq!(text(&tree, &stats_path("/a")), "count=2,bytes=2");
        assert_eq!(tree.get(&stats_path("/a")).unwrap().stat().version, 0);
        create(&mut tree, "/other", b"q", 9);
        assert_eq!(text(&tree, &stats_path("/a")), "count=2,bytes=2");
    }

    #[test]
    fn the_deepest_quota_wins_and_root_never_counts() {
        let mut tree = quota_tree();
        assert_eq!(tree.max_prefix_with_quota("/a/b/c"), Some("/a".into()));
        assert_eq!(tree.max_prefix_with_quota("/ab"), None);
        create(&mut tree, "/zookeeper/quota/a/b", b"", 6);
        create(&mut tree, &limits_path("/a/b"), b"count=1,bytes=-1", 7);
        assert_eq!(tree.max_prefix_with_quota("/a/b/c"), Some("/a/b".into()));
        assert_eq!(tree.max_prefix_with_quota("/a"), Some("/a".into()));
        assert_eq!(tree.max_prefix_with_quota("/"), None);
    }

    #[test]
    fn check_quota_tells_soft_from_hard() {
        let mut tree = quota_tree();
        assert_eq!(tree.check_quota("/a/x", 0, 1), QuotaCheck::default());
        create(&mut tree, "/a/x", b"", 6);
        let soft = tree.check_quota("/a/y", 0, 1);
        assert_eq!(
            soft.exceeded,
            vec!["Quota exceeded: /a [current count=4, softCountLimit=3]".to_owned()]
        );
        assert!(!soft.refused);
        let limits = b"count=-1,bytes=-1=;byteHardLimit=4";
        tree.set_data(&limits_path("/a"), Some(limits), 1, 7, 0, &mut Vec::new())
            .unwrap();
        assert_eq!(tree.check_quota("/a/y", 0, 1), QuotaCheck::default());
        let hard = tree.check_quota("/a", 2, 0);
        assert_eq!(
            hard.exceeded,
            vec!["Quota exceeded: /a [current bytes=5, hardByteLimit=4]".to_owned()]
        );
        assert!(hard.refused);
        assert_eq!(tree.check_quota("/b", 100, 1), QuotaCheck::default());
    }

    #[test]
    fn recount_rebuilds_every_stats_node() {
        let mut tree = quota_tree();
        tree.update_quota_stat("/a", 100, 100);
        tree.recount_quotas();
        assert_eq!(text(&tree, &stats_path("/a")), "count=2,bytes=3");
    }
}
