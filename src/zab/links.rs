//! Which quorum connection to each peer is the current one: the rule the
//! shell's transport keeps so that a [`Peer`](super::peer::Peer) only ever
//! hears one connection per peer at a time.
//!
//! A peer knows the other servers by sid alone, but connections to one sid
//! come and go: a learner redials its leader after every election, a leader
//! takes a learner's new connection in place of its old one. Bytes of a
//! connection this server has already closed or replaced may still be read
//! (they sat in the socket buffer, or its reader was busy on another thread
//! when it was told to stop); handed to the peer as "from sid" they would
//! be taken for the new connection's (a follower once logged such stale
//! proposals past a gap). So a packet read on connection `id` is reported
//! only while [`Links::admits`] it, and a connection's end is reported only
//! when [`Links::ended`] says it was current.
//!
//! Connection ids come from the caller (the transport numbers every socket,
//! the simulator every simulated link) and must never repeat.

use super::Sid;
use std::collections::HashMap;

/// The current connection of each peer, with what the transport keeps for it.
#[derive(Debug)]
pub struct Links<C> {
    /// By sid: the connection's id and the transport's handle on it.
    current: HashMap<Sid, (u64, C)>,
}

impl<C> Default for Links<C> {
    fn default() -> Self {
        Links {
            current: HashMap::new(),
        }
    }
}

impl<C> Links<C> {
    /// Makes connection `id` the current one of `sid`; returns the
    /// connection it replaces, which is closed from now on.
    pub fn insert(&mut self, sid: Sid, id: u64, conn: C) -> Option<C> {
        self.current.insert(sid, (id, conn)).map(|(_, c)| c)
    }

    /// Closes `sid`'s current connection (this server's decision): nothing
    /// more of it is admitted. Returns it.
    pub fn remove(&mut self, sid: Sid) -> Option<C> {
        self.current.remove(&sid).map(|(_, c)| c)
    }

    /// Connection `id` of `sid` ended by itself (the socket closed or
    /// failed). Returns it if it was the current one: only then does the
    /// peer hear of it (a replaced connection's end is not news).
    pub fn ended(&mut self, sid: Sid, id: u64) -> Option<C> {
        if self.admits(sid, id) {
            self.remove(sid)
        } else {
            None
        }
    }

    /// True when what is read on connection `id` may be reported as `sid`'s.
    pub fn admits(&self, sid: Sid, id: u64) -> bool {
        self.current
            .get(&sid)
            .is_some_and(|(current, _)| *current == id)
    }

    /// The current connection of `sid`.
    pub fn get(&self, sid: Sid) -> Option<&C> {
        self.current.get(&sid).map(|(_, c)| c)
    }

    /// Closes every connection; returns them.
    pub fn clear(&mut self) -> Vec<C> {
        self.current.drain().map(|(_, (_, c))| c).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Links;

    #[test]
    fn only_the_current_connection_of_a_peer_is_heard() {
        let mut links = Links::default();
        assert!(links.insert(3, 1, "first").is_none());
        assert!(links.admits(3, 1));
        assert_eq!(links.insert(3, 2, "second"), Some("first"));
        assert!(!links.admits(3, 1), "a replaced connection is closed");
        assert_eq!(links.ended(3, 1), None, "its end is not news");
        assert!(links.admits(3, 2));
        assert_eq!(links.remove(3), Some("second"));
        assert!(!links.admits(3, 2), "a closed connection is not heard");
        assert_eq!(links.ended(3, 2), None);
        links.insert(4, 5, "other");
        assert_eq!(links.ended(4, 5), Some("other"));
        assert!(links.clear().is_empty());
    }
}
