//! Four-letter words: recognising them on a fresh client connection and
//! writing their answers exactly as Apache ZooKeeper 3.8 does.
//!
//! This module does no I/O on sockets. The server, on a connection that has
//! not sent a ConnectRequest, reads the first 4 bytes as a frame length and
//! asks [`FourLetterWord::from_frame_len`]; on a match it reads
//! [`FourLetterWord::payload_len`] more bytes, calls [`respond`] with its
//! [`ServerView`] implementation, writes the text unframed and closes.
//! ZooKeeper counts the word as one packet received, both on the asking
//! connection (`cons` shows it with `recved=1`) and in the server's
//! `Received:` total, before it answers.
//!
//! ```text
//! let len = i32::from_be_bytes(first_four_bytes);
//! if let Some(word) = admin::FourLetterWord::from_frame_len(len) {
//!     let payload = read_exactly(word.payload_len());   // 8 bytes for stmk
//!     let text = admin::respond(word, &payload, &whitelist, &mut view);
//!     write_all(text.as_bytes()); close();
//! }
//! ```
//!
//! # Layout
//! - `word`: [`FourLetterWord`] and the whitelist rule.
//! - `view`: the [`ServerView`] trait and the plain structs it returns.
//! - `stats`: counters the server keeps so the numbers print as ZooKeeper's
//!   ([`Summary`], [`BufferStats`], [`ConnectionStats`]).
//! - `commands`: the text of every word; `monitor`: `mntr`; `metrics`: the
//!   counters and summaries ZooKeeper registers ([`Metrics`]).
//! - `environment`: `envi` keys, file-descriptor counts, directory sizes
//!   (reads `/proc` on Linux).
//! - `java`: JVM renderings (doubles, socket addresses, dates, hex).

mod commands;
mod environment;
mod http_commands;
mod java;
pub mod json;
mod metrics;
mod monitor;
mod stats;
mod view;
mod word;

pub use commands::{execute, reply_packets, respond, NOT_SERVING};
pub use environment::{
    dir_size, environment, max_file_descriptor_count, open_file_descriptor_count,
};
pub use http_commands::{command_names, run_command};
pub use metrics::{CounterId, Metrics, COUNTERS, PERCENTILE_SUMMARIES, SUMMARIES};
pub use monitor::summary_metrics;
pub use stats::{BufferStats, ConnectionStats, Summary};
pub use view::{
    ConfView, ConnectionEntry, ConnectionInfo, ExpiryBucket, GlobalSessions, LeaderMonitor,
    MetricValue, MonitorView, PeerView, QuorumConfView, QuorumMonitor, ServerMode, ServerView,
    SessionDump, SessionWatches, StatsView, VotingMember, VERSION,
};
pub use word::{not_whitelisted_message, FourLetterWhitelist, FourLetterWord};

/// ZooKeeper's initial trace mask (`gtmk` on a fresh server prints 306).
pub const DEFAULT_TRACE_MASK: i64 = 306;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_quorum;
