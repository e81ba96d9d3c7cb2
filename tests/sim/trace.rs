//! One-line descriptions of inputs and outputs for the replay trace.

use paddock::zab::{Input, Message, Output};

/// An input, briefly.
pub fn brief_input(input: &Input) -> String {
    match input {
        Input::Message {
            from,
            msg: Message::Quorum(p),
        } => format!("{:?}({:#x}) from {from}", p.kind, p.zxid),
        Input::Message {
            from,
            msg: Message::Vote(n),
        } => format!(
            "vote {:?} leader {} zxid {:#x} round {} from {from}",
            n.state, n.vote.leader, n.vote.zxid, n.vote.election_epoch
        ),
        Input::Propose { zxid, .. } => format!("propose {zxid:#x}"),
        other => format!("{other:?}"),
    }
}

/// An output, briefly.
pub fn brief_output(o: &Output) -> String {
    match o {
        Output::Send {
            to,
            msg: Message::Quorum(p),
        } => format!("{:?}({:#x}) to {to}", p.kind, p.zxid),
        Output::Append { zxid, .. } => format!("append {zxid:#x}"),
        Output::Deliver { zxid, .. } => format!("deliver {zxid:#x}"),
        Output::InstallSnapshot { zxid, .. } => format!("install snapshot {zxid:#x}"),
        other => format!("{other:?}"),
    }
}
