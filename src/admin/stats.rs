//! Counters the server keeps so the four-letter words print exactly what
//! ZooKeeper prints: request latency (`ServerStats` / `AvgMinMaxCounter`),
//! buffer sizes (`BufferStats`) and per-connection statistics (`ServerCnxn`).
//! Times are plain millisecond values passed in; nothing here reads a clock.

use crate::proto::codes::OpCode;

/// Minimum, maximum, count and sum of a series of values, with ZooKeeper's
/// rules for an empty series (min and max print 0, the average 0.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// How many values were added since the last reset.
    count: i64,
    /// Their sum.
    sum: i64,
    /// The smallest, when `count > 0`.
    min: i64,
    /// The largest, when `count > 0`.
    max: i64,
}

impl Summary {
    /// Adds one value.
    pub fn add(&mut self, value: i64) {
        if self.count == 0 || value < self.min {
            self.min = value;
        }
        if self.count == 0 || value > self.max {
            self.max = value;
        }
        self.count += 1;
        self.sum += value;
    }

    /// Forgets every value.
    pub fn reset(&mut self) {
        *self = Summary::default();
    }

    /// The smallest value, 0 when empty.
    pub fn min(&self) -> i64 {
        self.min
    }

    /// The largest value, 0 when empty.
    pub fn max(&self) -> i64 {
        self.max
    }

    /// How many values were added.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// The sum of the values.
    pub fn sum(&self) -> i64 {
        self.sum
    }

    /// The mean rounded half-up to 4 decimals, 0.0 when empty (what
    /// `srvr` and `mntr` print as the average latency).
    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let scaled = self.sum as f64 * 10_000.0 / self.count as f64;
        (scaled + 0.5).floor() / 10_000.0
    }
}

/// Last, minimum and maximum of a series of sizes, each -1 until the first
/// one (ZooKeeper's `BufferStats`; `srvr` prints it as `last/min/max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferStats {
    /// The latest size, -1 before any.
    pub last: i64,
    /// The smallest size, -1 before any.
    pub min: i64,
    /// The largest size, -1 before any.
    pub max: i64,
}

impl Default for BufferStats {
    fn default() -> BufferStats {
        BufferStats {
            last: -1,
            min: -1,
            max: -1,
        }
    }
}

impl BufferStats {
    /// Records one size.
    pub fn record(&mut self, size: i64) {
        self.last = size;
        if self.min == -1 || size < self.min {
            self.min = size;
        }
        if size > self.max {
            self.max = size;
        }
    }

    /// Back to -1/-1/-1.
    pub fn reset(&mut self) {
        *self = BufferStats::default();
    }
}

/// Statistics of one client connection, as `cons` prints them. The server
/// keeps one per connection, calls [`ConnectionStats::record_response`] when
/// it sends a reply, and copies it into [`super::ConnectionInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionStats {
    /// Packets read from this connection (`recved`).
    pub packets_received: i64,
    /// Packets written to this connection (`sent`).
    pub packets_sent: i64,
    /// Short name of the last operation answered (`lop`), `NA` before any.
    last_op: &'static str,
    /// Last non-negative cxid answered (`lcxid`), -1 before any.
    last_cxid: i64,
    /// Zxid of the last reply (`lzxid`), -1 before any.
    last_zxid: i64,
    /// When the last reply was sent, in the server's monotonic ms (`lresp`).
    last_response_ms: i64,
    /// Latency of the last reply in ms (`llat`).
    last_latency_ms: i64,
    /// Latencies since the last reset (`minlat`/`avglat`/`maxlat`).
    latency_ms: Summary,
}

impl Default for ConnectionStats {
    fn default() -> ConnectionStats {
        ConnectionStats {
            packets_received: 0,
            packets_sent: 0,
            last_op: "NA",
            last_cxid: -1,
            last_zxid: -1,
            last_response_ms: 0,
            last_latency_ms: 0,
            latency_ms: Summary::default(),
        }
    }
}

impl ConnectionStats {
    /// Records a reply to `op` with `cxid` and `zxid`, for a request received
    /// at `start_ms` and answered at `end_ms` (same monotonic clock). A
    /// negative (special) cxid leaves `lcxid` as it was, like ZooKeeper.
    pub fn record_response(
        &mut self,
        op: OpCode,
        cxid: i32,
        zxid: i64,
        start_ms: i64,
        end_ms: i64,
    ) {
        if cxid >= 0 {
            self.last_cxid = i64::from(cxid);
        }
        self.last_zxid = zxid;
        self.last_op = op.short_name();
        self.last_response_ms = end_ms;
        self.last_latency_ms = end_ms - start_ms;
        self.latency_ms.add(self.last_latency_ms);
    }

    /// What `crst` does: counters to zero, `lop=NA`, `lcxid`/`lzxid` to -1.
    pub fn reset(&mut self) {
        *self = ConnectionStats::default();
    }

    /// `lop`.
    pub fn last_op(&self) -> &'static str {
        self.last_op
    }

    /// `lcxid`; -1 (not printed) before the first reply.
    pub fn last_cxid(&self) -> i64 {
        self.last_cxid
    }

    /// `lzxid`; -1 before the first reply.
    pub fn last_zxid(&self) -> i64 {
        self.last_zxid
    }

    /// `lresp`.
    pub fn last_response_ms(&self) -> i64 {
        self.last_response_ms
    }

    /// `llat`.
    pub fn last_latency_ms(&self) -> i64 {
        self.last_latency_ms
    }

    /// `minlat`, 0 before the first reply.
    pub fn min_latency_ms(&self) -> i64 {
        self.latency_ms.min()
    }

    /// `avglat`: integer mean (truncated), 0 before the first reply.
    pub fn avg_latency_ms(&self) -> i64 {
        match self.latency_ms.count() {
            0 => 0,
            count => self.latency_ms.sum() / count,
        }
    }

    /// `maxlat`, 0 before the first reply.
    pub fn max_latency_ms(&self) -> i64 {
        self.latency_ms.max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_summary_prints_zeroes() {
        let summary = Summary::default();
        assert_eq!((summary.min(), summary.avg(), summary.max()), (0, 0.0, 0));
    }

    #[test]
    fn summary_avg_rounds_half_up_to_four_decimals() {
        let mut summary = Summary::default();
        for value in [30, 1, 0, 0, 0, 0] {
            summary.add(value);
        }
        // 31 / 6 = 5.1666..., ZooKeeper prints 5.1667.
        assert_eq!(summary.avg(), 5.1667);
        assert_eq!((summary.min(), summary.max()), (0, 30));
        summary.add(0);
        summary.add(1);
        assert_eq!(summary.avg(), 4.0);
        summary.reset();
        assert_eq!(summary, Summary::default());
    }

    #[test]
    fn buffer_stats_start_at_minus_one() {
        let mut stats = BufferStats::default();
        assert_eq!((stats.last, stats.min, stats.max), (-1, -1, -1));
        stats.record(84);
        stats.record(16);
        stats.record(93);
        stats.record(84);
        assert_eq!((stats.last, stats.min, stats.max), (84, 16, 93));
        stats.reset();
        assert_eq!(stats, BufferStats::default());
    }

    #[test]
    fn connection_stats_track_last_reply_and_keep_cxid_on_special_xids() {
        let mut stats = ConnectionStats::default();
        assert_eq!(
            (stats.last_op(), stats.last_cxid(), stats.last_zxid()),
            ("NA", -1, -1)
        );
        stats.record_response(OpCode::GetData, 5, 12, 100, 106);
        stats.record_response(OpCode::Ping, -2, 12, 200, 200);
        assert_eq!(stats.last_op(), "PING");
        assert_eq!(stats.last_cxid(), 5);
        assert_eq!(stats.last_zxid(), 12);
        assert_eq!(stats.last_response_ms(), 200);
        assert_eq!(stats.last_latency_ms(), 0);
        assert_eq!(
            (
                stats.min_latency_ms(),
                stats.avg_latency_ms(),
                stats.max_latency_ms()
            ),
            (0, 3, 6)
        );
    }

    #[test]
    fn connection_stats_reset_forgets_everything() {
        let mut stats = ConnectionStats {
            packets_received: 4,
            ..ConnectionStats::default()
        };
        stats.record_response(OpCode::Exists, 3, 12, 0, 2);
        stats.reset();
        assert_eq!(stats, ConnectionStats::default());
    }
}
