//! `paddock`: the command-line front of the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use paddock::config::Config;
use paddock::server::{self, Settings};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use tokio::net::TcpListener;
use tracing::{error, info};

/// Every allocation of the binary goes through mimalloc (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

extern "C" {
    /// mimalloc's `void mi_collect(bool force)`, from the library the
    /// mimalloc crate links: frees what the calling thread's heap holds
    /// unused and, forced, returns freed pages to the OS without delay.
    fn mi_collect(force: bool);
}

/// Runs once the database is loaded, on the thread that loaded it: returns
/// the pages the loader freed (read buffers, replay's temporaries) to the OS.
/// mimalloc would otherwise purge them only after its delay (1 s) and only
/// when a later free on that thread looks, so a quiet server kept ~80 MiB it
/// did not use (1,000,000 znodes: 456 MiB idle, 376 MiB with this; glibc
/// malloc 396 MiB).
fn release_loader_memory() {
    // SAFETY: the declaration matches mimalloc.h; mi_collect has no
    // preconditions and only touches the calling thread's heap and the arenas.
    unsafe { mi_collect(true) };
}

#[derive(Parser)]
#[command(
    name = "paddock",
    version,
    about = "A ZooKeeper-compatible coordination server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a server in the foreground on a ZooKeeper zoo.cfg (default conf/zoo.cfg).
    Server {
        /// Path of the zoo.cfg file.
        #[arg(default_value = "conf/zoo.cfg")]
        config: PathBuf,
    },
    /// Loads a ZooKeeper-compatible server (Paddock or Apache ZooKeeper) and reports ops/s and latency.
    Bench(paddock::bench::BenchArgs),
    /// Imports an Apache ZooKeeper 3.4–3.9 dataDir into a Paddock dataDir.
    Import(paddock::cli::ImportArgs),
    /// Removes old snapshots and logs, keeping what the newest snapshots need (zkCleanup.sh).
    Purge(paddock::cli::PurgeArgs),
    /// Prints a transaction log or a snapshot, Paddock's or ZooKeeper's.
    Inspect(paddock::cli::InspectArgs),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PADDOCK_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Server { config } => run_server(config),
        Command::Bench(args) => paddock::bench::run(args),
        Command::Import(args) => paddock::cli::run_import(args),
        Command::Purge(args) => paddock::cli::run_purge(args),
        Command::Inspect(args) => paddock::cli::run_inspect(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            error!("{e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_server(path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&path).map_err(|e| anyhow::anyhow!("{e}"))?;
    config.log_unsupported();
    let port = config
        .client_port
        .with_context(|| format!("{}: no clientPort is set", path.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = bind(config.client_port_address, port).await?;
        let mode = if config.is_standalone() { "standalone".to_owned() } else { format!("ensemble member {}", config.my_id.unwrap_or(0)) };
        info!(config = %path.display(), data_dir = %config.data_dir.display(), "paddock {} starting ({mode})", env!("CARGO_PKG_VERSION"));
        server::run(listener, Settings::from_config(&config), release_loader_memory, shutdown_signal()).await?;
        Ok(())
    })
}

/// Binds the client port: the configured address, else the dual-stack wildcard
/// (as ZooKeeper), falling back to IPv4 when IPv6 is unavailable.
async fn bind(address: Option<IpAddr>, port: u16) -> anyhow::Result<TcpListener> {
    if let Some(ip) = address {
        return TcpListener::bind(SocketAddr::new(ip, port))
            .await
            .with_context(|| format!("binding {ip}:{port}"));
    }
    match TcpListener::bind(SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port)).await {
        Ok(l) => Ok(l),
        Err(_) => TcpListener::bind(("0.0.0.0", port))
            .await
            .with_context(|| format!("binding 0.0.0.0:{port}")),
    }
}

async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => info!("SIGINT received"),
        _ = term.recv() => info!("SIGTERM received"),
    }
}
