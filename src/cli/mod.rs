//! The one-shot subcommands over the data directories: `paddock import`
//! (ZooKeeper dataDir → Paddock), `paddock purge` (zkCleanup.sh) and
//! `paddock inspect log|snapshot` (zkTxnLogToolkit, zkSnapShotToolkit).
//!
//! Each command is an `Args` struct for clap plus a `run_*` function that
//! does the work and returns `anyhow::Result`, so `main.rs` only dispatches.
//! Output goes to stdout; progress and warnings go to `tracing`.

mod dirs;
mod import;
mod inspect;
mod purge;

pub use dirs::DataDirs;
pub use import::{run_import, ImportArgs};
pub use inspect::{run_inspect, InspectArgs, InspectTarget};
pub use purge::{run_purge, PurgeArgs};

#[cfg(test)]
mod tests;
