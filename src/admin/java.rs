//! Text renderings that match what the JVM prints, because four-letter-word
//! parsers were written against ZooKeeper's output: `Double.toString`,
//! `InetSocketAddress.toString`, `Date.toString` and `Long.toHexString`.

use std::net::{IpAddr, SocketAddr};

/// Formats `value` as Java's `Double.toString` does: plain decimal with at
/// least one fractional digit (`0.0`, `6.2`) for magnitudes in [1e-3, 1e7),
/// otherwise computerized scientific notation (`1.0E7`, `2.5E-4`).
pub fn double(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-3..1e7).contains(&magnitude) {
        // Debug prints the shortest round-trip digits and keeps ".0".
        return format!("{value:?}");
    }
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("LowerExp output always has an exponent");
    if mantissa.contains('.') {
        format!("{mantissa}E{exponent}")
    } else {
        format!("{mantissa}.0E{exponent}")
    }
}

/// Formats a remote address as Java's `InetSocketAddress.toString` does for an
/// accepted socket (no host name): `/127.0.0.1:2181`, `/[0:0:0:0:0:0:0:1]:2181`.
/// IPv4-mapped IPv6 addresses print as IPv4, as the JVM converts them.
pub fn socket_addr(addr: &SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    };
    match (ip, addr) {
        (IpAddr::V4(v4), _) => format!("/{v4}:{}", addr.port()),
        (IpAddr::V6(v6), SocketAddr::V6(full)) => {
            let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:x}")).collect();
            let scope = match full.scope_id() {
                0 => String::new(),
                id => format!("%{id}"),
            };
            format!("/[{}{scope}]:{}", groups.join(":"), addr.port())
        }
        (IpAddr::V6(_), SocketAddr::V4(_)) => unreachable!("a V4 socket address holds a V4 ip"),
    }
}

/// Formats a signed 64-bit value as Java's `Long.toHexString`: lower-case,
/// no padding, negative values as their two's complement (`-1` is
/// `ffffffffffffffff`).
pub fn hex(value: i64) -> String {
    format!("{value:x}")
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats milliseconds since the Unix epoch as Java's `Date.toString` does
/// in the UTC time zone: `Sun Nov 22 03:44:04 UTC 2026`.
pub fn date_utc(epoch_ms: i64) -> String {
    let seconds = epoch_ms.div_euclid(1000);
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        WEEKDAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60,
        year
    )
}

/// Converts days since 1970-01-01 to a proleptic Gregorian (year, month 1-12,
/// day 1-31), counting in 400-year eras of 146097 days from 0000-03-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_matches_java_double_to_string() {
        assert_eq!(double(0.0), "0.0");
        assert_eq!(double(6.2), "6.2");
        assert_eq!(double(3.95), "3.95");
        assert_eq!(double(11.0), "11.0");
        assert_eq!(double(0.001), "0.001");
        assert_eq!(double(1.0e7), "1.0E7");
        assert_eq!(double(1.25e7), "1.25E7");
        assert_eq!(double(2.5e-4), "2.5E-4");
        assert_eq!(double(-6.5), "-6.5");
    }

    #[test]
    fn socket_addr_matches_java_inet_socket_address() {
        let v4: SocketAddr = "127.0.0.1:52660".parse().unwrap();
        assert_eq!(socket_addr(&v4), "/127.0.0.1:52660");
        let v6: SocketAddr = "[::1]:2181".parse().unwrap();
        assert_eq!(socket_addr(&v6), "/[0:0:0:0:0:0:0:1]:2181");
        let mapped: SocketAddr = "[::ffff:10.0.0.7]:3000".parse().unwrap();
        assert_eq!(socket_addr(&mapped), "/10.0.0.7:3000");
        let scoped: SocketAddr = "[fe80::1%2]:1".parse().unwrap();
        assert_eq!(socket_addr(&scoped), "/[fe80:0:0:0:0:0:0:1%2]:1");
    }

    #[test]
    fn hex_prints_negative_as_twos_complement() {
        assert_eq!(hex(-1), "ffffffffffffffff");
        assert_eq!(hex(0x10000114c570002), "10000114c570002");
        assert_eq!(hex(0), "0");
    }

    #[test]
    fn date_utc_matches_java_date_to_string() {
        // Captured from ZooKeeper 3.8.0's dump: 1795319084000 ms.
        assert_eq!(date_utc(1_795_319_084_000), "Sun Nov 22 03:44:44 UTC 2026");
        assert_eq!(date_utc(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(date_utc(951_782_400_000), "Tue Feb 29 00:00:00 UTC 2000");
        assert_eq!(date_utc(-1), "Wed Dec 31 23:59:59 UTC 1969");
    }
}
