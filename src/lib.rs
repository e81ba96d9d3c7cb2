//! Paddock: a ZooKeeper server that real ZooKeeper clients use unchanged.
//!
//! # Layout
//! - [`jute`]: Jute serialization and every record of `zookeeper.jute`.
//! - [`proto`]: the client protocol (opcodes, error codes, requests, replies).
//! - [`config`]: zoo.cfg, JVM-style system properties, myid.
//! - [`tree`]: the in-memory data tree (nodes, Stat, ACLs, ephemerals).
//! - [`txn`]: the replicated command; `prep` (request → txn, with the tree
//!   digest it leaves: ZooKeeper's TxnDigest) and `apply` (txn → tree, then
//!   the digest compared: divergence is detected online, and logged).
//! - [`session`]: session ids, passwords, timeouts and expiry by tick buckets.
//! - [`watch`]: one-shot, persistent and persistent-recursive watches.
//! - [`auth`]: authentication schemes and ACL checks.
//! - [`storage`]: transaction log, snapshots, recovery.
//! - [`zab`]: the consensus core (sans-IO).
//! - [`server`]: the tokio shell: listener, connections, the request pipeline.
//! - [`admin`]: four-letter words and metrics.
//! - [`cli`]: command-line helpers.
//! - [`bench`]: the load generator behind `paddock bench`.
pub mod admin;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod config;
pub mod jute;
pub mod proto;
pub mod server;
pub mod session;
pub mod storage;
pub mod tree;
pub mod txn;
pub mod watch;
pub mod zab;
