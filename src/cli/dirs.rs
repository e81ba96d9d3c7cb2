//! Choosing dataDir and dataLogDir from either a zoo.cfg or explicit flags.

use crate::config::Config;
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};

/// `autopurge.snapRetainCount`'s default, used without a zoo.cfg.
const SNAP_RETAIN_COUNT_DEFAULT: u32 = 3;

/// Where a command finds a server's data: a zoo.cfg (its `dataDir` and
/// `dataLogDir`), or the directories themselves. Exactly one of `config`
/// and `data_dir` must be given.
#[derive(Args, Debug, Clone)]
pub struct DataDirs {
    /// The server's zoo.cfg: dataDir and dataLogDir are taken from it.
    #[arg(value_name = "ZOO_CFG", conflicts_with = "data_dir")]
    pub config: Option<PathBuf>,
    /// The dataDir, instead of a zoo.cfg.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// The dataLogDir when it differs from the dataDir (with --data-dir).
    #[arg(long, value_name = "DIR", requires = "data_dir")]
    pub data_log_dir: Option<PathBuf>,
}

/// Resolved data directories and the settings that change how files read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    /// zoo.cfg's dataDir.
    pub(crate) data_dir: PathBuf,
    /// zoo.cfg's dataLogDir (the dataDir when unset).
    pub(crate) data_log_dir: PathBuf,
    /// `zookeeper.extendedTypesEnabled`: TTL owners in ephemeralOwner.
    pub(crate) extended_types: bool,
    /// `autopurge.snapRetainCount` (3 without a zoo.cfg).
    pub(crate) snap_retain_count: u32,
}

impl DataDirs {
    /// The directories named by the flags or read from the zoo.cfg.
    pub(crate) fn resolve(&self) -> anyhow::Result<Resolved> {
        match (&self.config, &self.data_dir) {
            (Some(cfg), _) => from_config(cfg),
            (None, Some(dir)) => Ok(Resolved {
                data_dir: dir.clone(),
                data_log_dir: self.data_log_dir.clone().unwrap_or_else(|| dir.clone()),
                extended_types: false,
                snap_retain_count: SNAP_RETAIN_COUNT_DEFAULT,
            }),
            (None, None) => anyhow::bail!("give a zoo.cfg or --data-dir DIR"),
        }
    }
}

fn from_config(path: &Path) -> anyhow::Result<Resolved> {
    let config = Config::load(path)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(Resolved {
        data_dir: config.data_dir,
        data_log_dir: config.data_log_dir,
        extended_types: config.extended_types_enabled,
        snap_retain_count: config.autopurge_snap_retain_count,
    })
}
