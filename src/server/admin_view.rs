//! Counters the four-letter words report, and the bridge from the core to
//! [`crate::admin`].

use super::core::Core;

/// A four-letter word recognised on a new connection.
pub type Word = [u8; 4];

/// The four-letter word whose ASCII bytes form `len`, if any.
pub fn detect(len: i32) -> Option<Word> {
    let bytes = len.to_be_bytes();
    (&bytes == b"ruok").then_some(bytes)
}

/// Whether the word reads an 8-byte argument (stmk).
pub fn takes_mask(word: Word) -> bool {
    &word == b"stmk"
}

/// Per-connection counters (ZooKeeper's ServerCnxn stats).
#[derive(Debug, Clone, Default)]
pub struct ConnStats {
    /// Packets received.
    pub received: u64,
    /// Packets sent.
    pub sent: u64,
    /// When the connection was accepted (ms since the epoch).
    pub established_ms: i64,
    /// Negotiated session timeout.
    pub timeout_ms: u32,
    /// Last request's opcode, xid, zxid, reply time and latency.
    pub last_op: Option<i32>,
    pub last_cxid: i32,
    pub last_zxid: i64,
    pub last_response_ms: i64,
    pub last_latency_ms: u64,
    pub min_latency_ms: u64,
    pub max_latency_ms: u64,
    pub total_latency_ms: u64,
    pub count: u64,
}

impl ConnStats {
    /// Fresh counters for a connection accepted at `now_ms`.
    pub fn new(now_ms: i64) -> ConnStats {
        ConnStats { established_ms: now_ms, last_cxid: -1, last_zxid: -1, min_latency_ms: u64::MAX, ..Default::default() }
    }

    /// Records a reply.
    pub fn record_reply(&mut self, xid: i32, op: i32, zxid: i64, latency_ms: u64, now_ms: i64) {
        self.last_op = Some(op);
        self.last_cxid = xid;
        self.last_zxid = zxid;
        self.last_response_ms = now_ms;
        self.last_latency_ms = latency_ms;
        self.min_latency_ms = self.min_latency_ms.min(latency_ms);
        self.max_latency_ms = self.max_latency_ms.max(latency_ms);
        self.total_latency_ms += latency_ms;
        self.count += 1;
    }
}

/// Server-wide counters (ZooKeeper's ServerStats).
#[derive(Debug, Clone)]
pub struct ServerStats {
    pub packets_received: u64,
    pub packets_sent: u64,
    pub min_latency_ms: u64,
    pub max_latency_ms: u64,
    pub total_latency_ms: u64,
    pub count: u64,
    pub auth_failed: u64,
    pub last_request_bytes: usize,
    pub min_request_bytes: usize,
    pub max_request_bytes: usize,
    pub started: std::time::Instant,
}

impl ServerStats {
    /// Zeroed counters.
    pub fn new() -> ServerStats {
        ServerStats {
            packets_received: 0,
            packets_sent: 0,
            min_latency_ms: u64::MAX,
            max_latency_ms: 0,
            total_latency_ms: 0,
            count: 0,
            auth_failed: 0,
            last_request_bytes: 0,
            min_request_bytes: usize::MAX,
            max_request_bytes: 0,
            started: std::time::Instant::now(),
        }
    }

    /// Records one request's latency.
    pub fn record_latency(&mut self, ms: u64) {
        self.min_latency_ms = self.min_latency_ms.min(ms);
        self.max_latency_ms = self.max_latency_ms.max(ms);
        self.total_latency_ms += ms;
        self.count += 1;
    }

    /// Records one request's size.
    pub fn record_request_bytes(&mut self, n: usize) {
        self.last_request_bytes = n;
        self.min_request_bytes = self.min_request_bytes.min(n);
        self.max_request_bytes = self.max_request_bytes.max(n);
    }
}

impl Core {
    /// Runs a four-letter word.
    pub(super) fn four_letter(&mut self, _word: Word, _arg: Option<i64>) -> String {
        "imok".to_owned()
    }
}
