//! `paddock import`: turns an Apache ZooKeeper 3.4–3.9 data directory into a
//! Paddock one. The ZooKeeper state (newest valid snapshot + every later log
//! record, as ZooKeeper itself loads it) is written as one Paddock snapshot
//! named after its last zxid, with the open sessions, so a Paddock server
//! started on the target serves the same tree, Stats, ACLs, ephemerals and
//! zxid. ZooKeeper's files are only read.
//!
//! ```text
//! paddock import --from /var/lib/zookeeper [--from-log /ssd/zklog] --to conf/zoo.cfg
//! paddock import --from /var/lib/zookeeper --data-dir /var/lib/paddock
//! ```
//! `--from` and the target may be the same directory: Paddock's files go in
//! its `paddock/` sub-directory, ZooKeeper's stay in `version-2/`.

use super::dirs::DataDirs;
use crate::storage;
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `paddock import`.
#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// ZooKeeper's dataDir (the directory holding `version-2/` with snapshots).
    #[arg(long, value_name = "ZK_DATA_DIR")]
    pub from: PathBuf,
    /// ZooKeeper's dataLogDir when it differs from its dataDir.
    #[arg(long, value_name = "ZK_DATALOG_DIR")]
    pub from_log: Option<PathBuf>,
    /// The Paddock server's zoo.cfg: its dataDir receives the snapshot.
    #[arg(
        long,
        value_name = "ZOO_CFG",
        conflicts_with = "data_dir",
        required_unless_present = "data_dir"
    )]
    pub to: Option<PathBuf>,
    /// The Paddock dataDir, instead of --to.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The Paddock dataLogDir when it differs from its dataDir (with --data-dir).
    #[arg(long, value_name = "DIR", requires = "data_dir")]
    pub data_log_dir: Option<PathBuf>,
}

/// Reads the ZooKeeper data in `--from`/`--from-log` and writes it as a
/// Paddock snapshot in the target dataDir's `paddock/`, printing what was
/// imported. Refuses a target that already holds Paddock snapshots or logs
/// (nothing is overwritten) and a source without `version-2/`; a corrupt
/// ZooKeeper log or snapshot is an error naming the file and offset.
pub fn run_import(args: ImportArgs) -> anyhow::Result<()> {
    let target = DataDirs {
        config: args.to.clone(),
        data_dir: args.data_dir.clone(),
        data_log_dir: args.data_log_dir.clone(),
    }
    .resolve()?;
    let from_log = args.from_log.as_deref().unwrap_or(&args.from);
    for dir in [&args.from, from_log] {
        let version2 = dir.join("version-2");
        anyhow::ensure!(
            version2.is_dir(),
            "{}: no ZooKeeper data here (no version-2 directory)",
            version2.display()
        );
    }
    for dir in [
        storage::snap_dir(&target.data_dir),
        storage::log_dir(&target.data_log_dir),
    ] {
        ensure_empty(&dir)?;
    }
    let recovered = storage::recover_zookeeper(&args.from, from_log, target.extended_types)?;
    let path = storage::save_recovered(&target.data_dir, &recovered)?;
    println!(
        "imported {} nodes, {} sessions, zxid {:#x} into {}",
        recovered.tree.node_count(),
        recovered.sessions.len(),
        recovered.last_zxid,
        path.display()
    );
    let mismatches = recovered.tree.digest_mismatches();
    if mismatches > 0 {
        // Replay compared each record's TxnDigest (ZooKeeper 3.6+ writes
        // one); the imported tree is not the one ZooKeeper had.
        eprintln!(
            "warning: {mismatches} txns replayed to a tree digest other than the one \
             ZooKeeper logged with them (see the ERROR lines above)"
        );
    }
    Ok(())
}

/// Refuses a directory that exists and holds anything: an import must not
/// mix with (or hide behind) state a Paddock server already wrote.
fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    let mut entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    anyhow::ensure!(
        entries.next().is_none(),
        "{} is not empty: Paddock data is already there; move it away to import",
        dir.display()
    );
    Ok(())
}
