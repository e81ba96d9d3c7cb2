//! `paddock purge`: ZooKeeper's zkCleanup.sh (`PurgeTxnLog`) for Paddock's
//! files. Keeps the N newest snapshots and every log recovery needs with
//! them (see [`crate::storage::purge`]); ZooKeeper's own `version-2/` files
//! are never touched.
//!
//! ```text
//! paddock purge [-n N] conf/zoo.cfg               # dataDir, dataLogDir from the cfg
//! paddock purge -n 5 --data-dir /var/lib/zk [--data-log-dir /ssd/zklog]
//! ```

use super::dirs::DataDirs;
use crate::storage;
use clap::Args;

/// ZooKeeper's `PurgeTxnLog` refuses to keep fewer snapshots than this.
const RETAIN_COUNT_MIN: u32 = 3;

/// Arguments of `paddock purge`.
#[derive(Args, Debug, Clone)]
pub struct PurgeArgs {
    /// How many of the newest snapshots to keep (at least 3); defaults to
    /// the zoo.cfg's autopurge.snapRetainCount, else 3.
    #[arg(short = 'n', long = "count", value_name = "N")]
    pub count: Option<u32>,
    /// Where the data lives.
    #[command(flatten)]
    pub dirs: DataDirs,
}

/// Removes the snapshots beyond the `count` newest and the logs no kept
/// snapshot needs, printing each removed file on stdout. A count below 3 is
/// refused, as ZooKeeper's PurgeTxnLog does. Safe while a server runs on the
/// same directories.
pub fn run_purge(args: PurgeArgs) -> anyhow::Result<()> {
    let dirs = args.dirs.resolve()?;
    let count = args.count.unwrap_or(dirs.snap_retain_count);
    anyhow::ensure!(
        count >= RETAIN_COUNT_MIN,
        "-n {count}: at least {RETAIN_COUNT_MIN} snapshots must be kept"
    );
    let removed = storage::purge(&dirs.data_dir, &dirs.data_log_dir, count as usize)?;
    for path in &removed {
        println!("removed {}", path.display());
    }
    tracing::info!(
        removed = removed.len(),
        kept = count,
        "purged {}",
        storage::snap_dir(&dirs.data_dir).display()
    );
    Ok(())
}
