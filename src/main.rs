//! `paddock`: the command-line front of the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use paddock::config::Config;
use paddock::server::{self, Settings};
use std::alloc::{GlobalAlloc, Layout};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use tokio::net::TcpListener;
use tracing::{error, info};

/// Every allocation of the binary goes through mimalloc (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// mimalloc, asked as C's `malloc` is where the alignment allows.
///
/// The mimalloc crate asks `mi_malloc_aligned` for every block. For a size
/// that is not a power of two, that call only takes a block of the size's
/// own class when the class has one free at hand; otherwise (whenever a
/// page of the class has just filled) it allocates `size + align − 1` and
/// aligns within, which lands in the next class up: a 160-byte node (a
/// 10-byte name, 100 bytes of data) was served 192 bytes, an 88-byte one 96
/// (measured: RSS after a 1,000,000-znode restart 226 MiB through the
/// crate's allocator). Every mimalloc block is aligned to 8 bytes, so
/// requests aligned to 8 or less go to `mi_malloc` and get their own class.
struct Allocator;

/// The alignment every mimalloc block has (its word size).
const MI_BLOCK_ALIGN: usize = 8;

unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MI_BLOCK_ALIGN {
            // SAFETY: mi_malloc has no preconditions; its block is aligned
            // to MI_BLOCK_ALIGN, enough for the layout.
            unsafe { mi_malloc(layout.size()) }
        } else {
            // SAFETY: the caller's layout contract.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.align() <= MI_BLOCK_ALIGN {
            // SAFETY: as for alloc.
            unsafe { mi_zalloc(layout.size()) }
        } else {
            // SAFETY: the caller's layout contract.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: every block came from mimalloc, which frees any of them
        // by address.
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if layout.align() <= MI_BLOCK_ALIGN {
            // SAFETY: `ptr` is a live mimalloc block (the caller's
            // contract); the new block is aligned as any mimalloc block.
            unsafe { mi_realloc(ptr, new_size) }
        } else {
            // SAFETY: the caller's contract.
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

extern "C" {
    /// mimalloc's `void* mi_malloc(size_t size)`.
    fn mi_malloc(size: usize) -> *mut u8;
    /// mimalloc's `void* mi_zalloc(size_t size)`: zeroed.
    fn mi_zalloc(size: usize) -> *mut u8;
    /// mimalloc's `void* mi_realloc(void* p, size_t newsize)`.
    fn mi_realloc(ptr: *mut u8, new_size: usize) -> *mut u8;
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
