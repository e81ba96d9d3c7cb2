//! The tokio shell around the sans-IO core: the client listener, one task per
//! connection, and one task that owns the tree and runs the request pipeline.
//!
//! ```text
//! accept ─▶ conn task (frames, 4lw, handshake) ─CoreMsg▶ core task (prep, apply,
//!            ▲                                            watches, sessions)
//!            └──────────────── Outbound frames ◀──────────┘
//! ```
//! The core task is the only owner of the tree, so every reply and watch event
//! is produced in one order and queued on its connection in that order. On an
//! ensemble member, `peers` carries election notifications and quorum packets
//! between the core's `zab::Peer` and the other members.

mod admin_http;
mod admin_view;
mod conn;
mod core;
mod log_writer;
pub mod peers;
mod reads;
pub mod settings;
mod snapshot_writer;
mod startup;

pub use settings::Settings;

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{info, warn};

/// Bound of the queue from connections to the core: a full queue makes
/// connection tasks wait, which stops them reading (back-pressure, as
/// ZooKeeper's globalOutstandingLimit stops reading sockets).
const CORE_QUEUE_BOUND: usize = 4096;

/// Serves clients on `listener` until `shutdown` completes. `loaded` runs
/// once, on the calling thread, after the database is loaded and before the
/// first client is accepted (the binary returns the loader's freed memory).
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    loaded: impl FnOnce(),
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let settings = Arc::new(settings);
    let (core_tx, core_rx) = mpsc::channel(CORE_QUEUE_BOUND);
    let (net, peer_rx) = match &settings.ensemble {
        Some(ensemble) => {
            let (events, peer_rx) = mpsc::unbounded_channel();
            let members = ensemble.servers.iter().map(peers::PeerAddr::from).collect();
            let net = peers::PeerNet::start(ensemble.my_id, members, events).await?;
            (Some(net), Some(peer_rx))
        }
        None => (None, None),
    };
    let core_state =
        core::Core::new(settings.clone(), net).map_err(|e| std::io::Error::other(e.to_string()))?;
    loaded();
    let mut core = tokio::spawn(core_state.run(core_rx, peer_rx));
    let admin_server = admin_http::bind(&settings.admin).await.map(|l| {
        tokio::spawn(admin_http::serve(
            l,
            settings.admin.clone(),
            core_tx.clone(),
        ))
    });
    let per_ip: Arc<Mutex<HashMap<IpAddr, u32>>> = Arc::default();
    let purger = (settings.autopurge_purge_interval_hours > 0)
        .then(|| tokio::spawn(autopurge(settings.clone())));
    info!(addr = %listener.local_addr()?, "serving clients");
    tokio::pin!(shutdown);
    let mut next_conn_id: u64 = 1;
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            ended = &mut core => {
                // The core owns the tree: without it nothing can be served, so stop
                // loudly rather than accept connections that would hang.
                let why = match ended { Err(e) if e.is_panic() => "panicked", _ => "stopped" };
                return Err(std::io::Error::other(format!("the request pipeline {why}; stopping the server")));
            }
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(a) => a,
                    Err(e) => { warn!(error = %e, "accept failed"); continue; }
                };
                let Some(guard) = conn::IpSlot::take(&per_ip, remote.ip(), settings.max_client_cnxns) else {
                    warn!(%remote, limit = settings.max_client_cnxns, "too many connections from this address (maxClientCnxns); closing");
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let id = next_conn_id;
                next_conn_id += 1;
                tokio::spawn(conn::serve(id, stream, remote, settings.clone(), core_tx.clone(), guard));
            }
        }
    }
    info!("shutting down");
    drop(core_tx);
    core.abort();
    if let Some(p) = purger {
        p.abort();
    }
    if let Some(a) = admin_server {
        a.abort();
    }
    Ok(())
}

/// ZooKeeper's DatadirCleanupManager: purges old snapshots and logs at start and
/// then every `autopurge.purgeInterval` hours, keeping `autopurge.snapRetainCount`
/// snapshots and every log they need.
async fn autopurge(settings: Arc<Settings>) {
    let every =
        std::time::Duration::from_secs(settings.autopurge_purge_interval_hours as u64 * 3600);
    let mut timer = tokio::time::interval(every);
    loop {
        timer.tick().await;
        let s = settings.clone();
        let result = tokio::task::spawn_blocking(move || {
            crate::storage::purge(
                &s.data_dir,
                &s.data_log_dir,
                s.autopurge_snap_retain_count as usize,
            )
        })
        .await;
        match result {
            Ok(Ok(removed)) => info!(files = removed.len(), "autopurge done"),
            Ok(Err(e)) => warn!("autopurge failed: {e}"),
            Err(e) => warn!("autopurge task failed: {e}"),
        }
    }
}
