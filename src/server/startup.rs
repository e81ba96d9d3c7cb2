//! Loading the database at start: Paddock's own files, or — when there are none
//! yet and the dataDir still holds Apache ZooKeeper's `version-2/` files — those
//! (in-place takeover). ZooKeeper's files are only read, never changed: the state
//! is written at once as a Paddock snapshot in `paddock/`, so later restarts use
//! Paddock's files and rolling back is stopping Paddock and starting ZooKeeper.

use super::Settings;
use crate::storage::{self, Recovered, StorageError};
use std::path::Path;
use tracing::info;

/// True if `dir` holds files whose names start with any of `prefixes`.
fn holds(dir: &Path, prefixes: &[&str]) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| prefixes.iter().any(|p| n.starts_with(p)))
        })
    })
}

/// Recovers the state the server starts from.
pub fn load_database(settings: &Settings) -> Result<Recovered, StorageError> {
    let (data_dir, log_dir) = (&settings.data_dir, &settings.data_log_dir);
    let ours = holds(&storage::snap_dir(data_dir), &["snapshot."])
        || holds(&storage::log_dir(log_dir), &["log."]);
    let theirs = holds(&storage::zookeeper_snap_dir(data_dir), &["snapshot."]);
    if ours || !theirs {
        return storage::recover(data_dir, log_dir, settings.extended_types);
    }
    info!(
        data_dir = %storage::zookeeper_snap_dir(data_dir).display(),
        "no Paddock data yet: taking over Apache ZooKeeper's files (left untouched)"
    );
    let mut recovered = storage::recover_zookeeper(data_dir, log_dir, settings.extended_types)?;
    let path = storage::save_recovered(data_dir, &recovered)?;
    // The snapshot just saved holds every txn replayed from ZooKeeper's logs.
    recovered.replayed = 0;
    info!(path = %path.display(), zxid = format_args!("{:#x}", recovered.last_zxid), "ZooKeeper's state saved as a Paddock snapshot");
    Ok(recovered)
}
