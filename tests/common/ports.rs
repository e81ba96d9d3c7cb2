//! Ports for the `paddock server` processes tests start on 127.0.0.1.
//!
//! A port found free by binding port 0 comes from the kernel's ephemeral
//! range, which every outgoing connection draws from too: between that check
//! and the server's own bind a client socket may take it, and the server
//! fails with "Address already in use". Ports are therefore picked outside
//! that range, where only listeners bind: at random, each checked bindable.

use std::hash::BuildHasher;
use std::net::TcpListener;

/// Ports from here up are picked (below sit the well-known services).
const LOW: u16 = 10_000;

/// The range ports are picked from, `low..high`: below the kernel's
/// ephemeral range, or above it when it starts too low to leave room.
fn candidates() -> (u16, u16) {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok();
    let bounds: Vec<u16> = range
        .iter()
        .flat_map(|r| r.split_whitespace())
        .filter_map(|p| p.parse().ok())
        .collect();
    let (first, last) = match bounds[..] {
        [first, last, ..] => (first, last),
        _ => (32_768, 60_999),
    };
    if first.saturating_sub(LOW) >= 1000 {
        (LOW, first)
    } else {
        (last.saturating_add(1), u16::MAX)
    }
}

/// A port outside the ephemeral range that nothing listens on right now.
pub fn free_port() -> u16 {
    let (low, high) = candidates();
    let random = std::collections::hash_map::RandomState::new();
    for attempt in 0u32..10_000 {
        let port = low + (random.hash_one(attempt) % u64::from(high - low)) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {low}..{high}");
}
