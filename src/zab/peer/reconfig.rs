//! Membership changes (dynamic reconfiguration): the shell validates and
//! replicates a reconfig as an ordinary txn; once it is committed, every
//! member hands the new membership to its peer here.

use super::{Peer, State};
use crate::zab::{Membership, Output, Sid};
use std::collections::BTreeSet;

impl Peer {
    /// Leader: itself and the followers that acknowledged NEWLEADER (synced);
    /// empty on any other role. A reconfig needs a quorum of its new voters
    /// among them.
    pub fn synced_members(&self) -> BTreeSet<Sid> {
        match &self.state {
            State::Leading(l) => l
                .synced_learners()
                .chain(std::iter::once(self.cfg.my_id))
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    /// Puts a committed membership in effect: quorums are counted in it from
    /// now on; a leader that is no longer a voter steps down and elects again.
    pub fn set_membership(
        &mut self,
        membership: Membership,
        config_text: Vec<u8>,
        out: &mut Vec<Output>,
    ) {
        self.election
            .set_membership(membership.clone(), config_text.clone());
        self.cfg.membership = membership;
        self.cfg.config_text = config_text;
        let me = self.cfg.my_id;
        if matches!(self.state, State::Leading(_)) && !self.cfg.membership.voters.contains(&me) {
            self.start_election(out);
        }
    }
}
