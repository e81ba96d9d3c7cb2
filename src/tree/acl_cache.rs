//! ACL lists shared between nodes (ZooKeeper's ReferenceCountedACLCache): many
//! nodes share few distinct ACLs, so each node stores a small index and memory
//! stays proportional to the distinct lists. Index −1 is OPEN_ACL_UNSAFE and is
//! never stored; other indices count up from 1, as in ZooKeeper's snapshots.

use crate::jute::records::{Acl, Id};
use std::collections::HashMap;
use std::sync::Arc;

/// The index of OPEN_ACL_UNSAFE (`[31, world:anyone]`), implicit in every cache.
pub const OPEN_ACL_INDEX: i64 = -1;

/// `[ACL(ALL, world:anyone)]`.
pub fn open_acl_unsafe() -> Vec<Acl> {
    vec![Acl {
        perms: crate::proto::codes::perms::ALL,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

/// `[ACL(READ, world:anyone)]`.
pub fn read_acl_unsafe() -> Vec<Acl> {
    vec![Acl {
        perms: crate::proto::codes::perms::READ,
        id: Id {
            scheme: "world".into(),
            id: "anyone".into(),
        },
    }]
}

/// Reference-counted ACL lists by index.
#[derive(Debug)]
pub struct AclCache {
    /// index → (list, number of nodes using it).
    by_index: HashMap<i64, (Arc<[Acl]>, u64)>,
    /// list → index, to share equal lists.
    by_acl: HashMap<Arc<[Acl]>, i64>,
    /// The next index to hand out.
    next_index: i64,
    /// OPEN_ACL_UNSAFE, returned for index −1.
    open: Arc<[Acl]>,
}

impl Default for AclCache {
    fn default() -> Self {
        AclCache {
            by_index: HashMap::new(),
            by_acl: HashMap::new(),
            next_index: 1,
            open: Arc::from(open_acl_unsafe()),
        }
    }
}

impl AclCache {
    /// Returns the index for `acl`, adding one reference.
    pub fn intern(&mut self, acl: &[Acl]) -> i64 {
        if acl == &*self.open {
            return OPEN_ACL_INDEX;
        }
        if let Some(&index) = self.by_acl.get(acl) {
            self.by_index.get_mut(&index).expect("cache maps agree").1 += 1;
            return index;
        }
        let index = self.next_index;
        self.next_index += 1;
        let list: Arc<[Acl]> = Arc::from(acl);
        self.by_acl.insert(list.clone(), index);
        self.by_index.insert(index, (list, 1));
        index
    }

    /// Drops one reference to `index`, forgetting the list when none remain.
    pub fn release(&mut self, index: i64) {
        if index == OPEN_ACL_INDEX {
            return;
        }
        let Some(entry) = self.by_index.get_mut(&index) else {
            return;
        };
        entry.1 -= 1;
        if entry.1 == 0 {
            let (list, _) = self.by_index.remove(&index).expect("present");
            self.by_acl.remove(&list);
        }
    }

    /// The list behind `index` (OPEN_ACL_UNSAFE for −1 or an unknown index).
    pub fn get(&self, index: i64) -> &Arc<[Acl]> {
        self.by_index
            .get(&index)
            .map(|(l, _)| l)
            .unwrap_or(&self.open)
    }

    /// Every stored list with its index (−1 excluded), in no particular
    /// order: exactly the lists some node names, since each node holds one
    /// reference to its list.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &Arc<[Acl]>)> {
        self.by_index
            .iter()
            .map(|(&index, (list, _))| (index, list))
    }

    /// Number of distinct stored lists (−1 excluded).
    pub fn len(&self) -> usize {
        self.by_index.len()
    }

    /// True when only OPEN_ACL_UNSAFE is in use.
    pub fn is_empty(&self) -> bool {
        self.by_index.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_lists_share_an_index_and_vanish_with_their_last_user() {
        let mut cache = AclCache::default();
        let acl = read_acl_unsafe();
        let a = cache.intern(&acl);
        let b = cache.intern(&acl);
        assert_eq!(a, 1);
        assert_eq!(a, b);
        assert_eq!(cache.len(), 1);
        cache.release(a);
        assert_eq!(cache.len(), 1);
        cache.release(b);
        assert!(cache.is_empty());
    }

    #[test]
    fn open_acl_is_implicit() {
        let mut cache = AclCache::default();
        assert_eq!(cache.intern(&open_acl_unsafe()), OPEN_ACL_INDEX);
        assert!(cache.is_empty());
        assert_eq!(&**cache.get(OPEN_ACL_INDEX), open_acl_unsafe().as_slice());
    }
}
