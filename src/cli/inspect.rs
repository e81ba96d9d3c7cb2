//! `paddock inspect log FILE` and `paddock inspect snapshot FILE`: print a
//! transaction log's records or a snapshot's nodes and sessions, for
//! Paddock's files and Apache ZooKeeper's alike (as zkTxnLogToolkit.sh and
//! zkSnapShotToolkit.sh do). Read only.
//!
//! Log output, one line per record:
//! `<offset> zxid 0x.. session 0x.. cxid 0x.. time <ms> <Type> <body>`.
//! Snapshot output: one block per node, depth first with siblings by name
//! (path, the client
//! Stat, the ACL, with `--data` the data), then the sessions.

use crate::jute::records::Stat;
use crate::proto::OpCode;
use crate::storage::{self, LogFormat, LogListing};
use crate::tree::{path, DataTree};
use crate::txn::Txn;
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `paddock inspect`.
#[derive(Args, Debug, Clone)]
pub struct InspectArgs {
    /// What to print.
    #[command(subcommand)]
    pub target: InspectTarget,
}

/// The kinds of file `paddock inspect` reads.
#[derive(Subcommand, Debug, Clone)]
pub enum InspectTarget {
    /// Prints every record of a transaction log (`log.<zxid>`, Paddock's or ZooKeeper's).
    Log {
        /// The log file.
        file: PathBuf,
    },
    /// Prints every node and session of a snapshot (`snapshot.<zxid>`, Paddock's or ZooKeeper's).
    Snapshot {
        /// The snapshot file.
        file: PathBuf,
        /// Also print each node's data (UTF-8, lossy; `null` for null data).
        #[arg(long)]
        data: bool,
        /// Read TTL owners in ephemeralOwner (zookeeper.extendedTypesEnabled).
        #[arg(long)]
        extended_types: bool,
    },
}

/// Prints the file named by `args` on stdout. Errors name the file (and the
/// offset for corrupt bytes); a log whose tail is damaged prints its valid
/// records and then says where and why they stopped.
pub fn run_inspect(args: InspectArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match args.target {
        InspectTarget::Log { file } => print_log(&mut out, &storage::read_log_file(&file)?)?,
        InspectTarget::Snapshot {
            file,
            data,
            extended_types,
        } => {
            let (tree, sessions, zxid) = storage::read_snapshot(&file, extended_types)?;
            print_snapshot(&mut out, &tree, &sessions, zxid, data)?;
        }
    }
    Ok(out.flush()?)
}

/// Writes one line per record of `listing`, then where the records stopped.
pub(crate) fn print_log(out: &mut impl Write, listing: &LogListing) -> std::io::Result<()> {
    let format = match listing.format {
        LogFormat::Paddock => "Paddock",
        LogFormat::ZooKeeper => "ZooKeeper",
    };
    writeln!(
        out,
        "{format} transaction log, {} records",
        listing.entries.len()
    )?;
    for entry in &listing.entries {
        write!(out, "{} ", entry.offset)?;
        match Txn::from_bytes(&entry.body) {
            Ok(txn) => writeln!(out, "{}", txn_line(&txn))?,
            Err(e) => writeln!(out, "undecodable txn ({e}), {} bytes", entry.body.len())?,
        }
    }
    if let Some((offset, reason)) = &listing.stopped {
        writeln!(out, "records end at offset {offset}: {reason}")?;
    }
    Ok(())
}

fn txn_line(txn: &Txn) -> String {
    let h = &txn.header;
    let kind = OpCode::from_i32(h.r#type)
        .map_or_else(|| format!("type {}", h.r#type), |op| format!("{op:?}"));
    let line = format!(
        "zxid {:#x} session {:#x} cxid {:#x} time {} {kind} {:?}",
        h.zxid, h.client_id, h.cxid, h.time, txn.body
    );
    match &txn.digest {
        // The tree digest the leader expected after the txn (ZooKeeper 3.6+).
        Some(d) => format!("{line} digest {} (version {})", d.tree_digest, d.version),
        None => line,
    }
}

/// Writes the snapshot's zxid, every node depth first (siblings by name),
/// then the sessions.
pub(crate) fn print_snapshot(
    out: &mut impl Write,
    tree: &DataTree,
    sessions: &[(i64, u32)],
    zxid: i64,
    with_data: bool,
) -> std::io::Result<()> {
    writeln!(out, "snapshot zxid {zxid:#x}, {} nodes", tree.node_count())?;
    let mut stack = vec!["/".to_string()];
    while let Some(node_path) = stack.pop() {
        let Some(node) = tree.get(&node_path) else {
            continue;
        };
        writeln!(out, "{node_path}")?;
        write_stat(out, &node.client_stat(tree.extended_types()))?;
        for acl in tree.acl_of(node).iter() {
            writeln!(
                out,
                "  acl {}:{} perms {}",
                acl.id.scheme, acl.id.id, acl.perms
            )?;
        }
        if with_data {
            match node.data() {
                Some(d) => writeln!(out, "  data {}", String::from_utf8_lossy(d))?,
                None => writeln!(out, "  data null")?,
            }
        }
        let mut children: Vec<&str> = node.children().iter().map(|c| c.name()).collect();
        children.sort_unstable_by(|a, b| b.cmp(a));
        stack.extend(children.into_iter().map(|c| path::join(&node_path, c)));
    }
    writeln!(out, "sessions {}", sessions.len())?;
    for (id, timeout_ms) in sessions {
        writeln!(out, "  session {id:#x} timeout {timeout_ms}")?;
    }
    Ok(())
}

fn write_stat(out: &mut impl Write, s: &Stat) -> std::io::Result<()> {
    writeln!(
        out,
        "  cZxid {:#x} ctime {} mZxid {:#x} mtime {} pZxid {:#x}",
        s.czxid, s.ctime, s.mzxid, s.mtime, s.pzxid
    )?;
    writeln!(
        out,
        "  cversion {} dataVersion {} aclVersion {} ephemeralOwner {:#x} dataLength {} numChildren {}",
        s.cversion, s.version, s.aversion, s.ephemeral_owner, s.data_length, s.num_children
    )
}
