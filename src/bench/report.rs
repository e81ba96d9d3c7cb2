//! Reports: a table per server, a ratio table when several servers ran the same
//! workloads, and the same figures as JSON (written by hand: the document is
//! flat and small, so it needs no serialization crate).

use super::workload::{Outcome, Spec, Workload};
use std::fmt::Write;

/// Percentiles every report gives, with their JSON keys.
const PERCENTILES: [(f64, &str); 3] = [(50.0, "p50"), (99.0, "p99"), (99.9, "p99_9")];

/// What one workload came to against one server: an outcome, or why it failed.
pub type Cell = Result<Outcome, String>;

/// All the workloads run against one server.
pub struct TargetResults {
    /// The server's name in reports (e.g. `zookeeper`, `paddock`).
    pub name: String,
    /// The server's `host:port`.
    pub addr: String,
    /// One cell per workload, in run order.
    pub cells: Vec<(Workload, Cell)>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// A table of one server's results: ops, ops/s, latency percentiles and max in
/// milliseconds, errors and the workload's extra figures.
pub fn table(target: &TargetResults) -> String {
    let mut out = format!("{} ({})\n", target.name, target.addr);
    let _ = writeln!(
        out,
        "{:<13} {:>9} {:>11} {:>9} {:>9} {:>9} {:>9} {:>7}  extra",
        "workload", "ops", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "errors"
    );
    for (workload, cell) in &target.cells {
        let _ = match cell {
            Ok(o) => {
                let h = o.latency();
                let extra: Vec<String> =
                    o.extra.iter().map(|(k, v)| format!("{k}={v:.1}")).collect();
                writeln!(
                    out,
                    "{:<13} {:>9} {:>11.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>7}  {}",
                    workload.name(),
                    o.ops(),
                    o.ops_per_sec(),
                    ms(h.percentile(50.0)),
                    ms(h.percentile(99.0)),
                    ms(h.percentile(99.9)),
                    ms(h.max()),
                    o.tally.errors,
                    extra.join(" ")
                )
            }
            Err(e) => writeln!(out, "{:<13} failed: {e}", workload.name()),
        };
    }
    out
}

/// Lines explaining what an "op" is for the workloads where it is not one request.
pub fn units_note(workloads: &[Workload]) -> String {
    let mut out = String::new();
    for w in workloads {
        let note = match w {
            Workload::Multi => "multi: one op is one multi of 10 creates (znodes_per_sec counts nodes)",
            Workload::Watch => "watch: one op is one fan-out round (one setData, W events); latency is until the last event",
            Workload::Churn => "churn: one op is one session (connect, create ephemeral, closeSession)",
            Workload::Znodes => "znodes: one op is one create of the fill; bytes_per_znode is RSS growth / znodes",
            _ => continue,
        };
        let _ = writeln!(out, "  {note}");
    }
    out
}

/// When several servers ran: per workload, each server's ops/s, each later
/// server's ratio to the first one, and each server's p99. `None` for one server.
pub fn comparison(targets: &[TargetResults]) -> Option<String> {
    let (first, rest) = targets.split_first().filter(|(_, rest)| !rest.is_empty())?;
    let mut head = vec!["workload".to_owned()];
    head.extend(targets.iter().map(|t| format!("{} ops/s", t.name)));
    head.extend(rest.iter().map(|t| format!("{}/{}", t.name, first.name)));
    head.extend(targets.iter().map(|t| format!("{} p99 ms", t.name)));
    let mut rows = vec![head];
    for (index, (workload, _)) in first.cells.iter().enumerate() {
        let cells: Vec<Option<&Outcome>> = targets
            .iter()
            .map(|t| t.cells.get(index).and_then(|(_, c)| c.as_ref().ok()))
            .collect();
        let mut row = vec![workload.name().to_owned()];
        row.extend(
            cells
                .iter()
                .map(|c| c.map_or("failed".into(), |o| format!("{:.1}", o.ops_per_sec()))),
        );
        row.extend(cells[1..].iter().map(|c| ratio(cells[0], *c)));
        row.extend(cells.iter().map(|c| {
            c.map_or("-".into(), |o| {
                format!("{:.3}", ms(o.latency().percentile(99.0)))
            })
        }));
        rows.push(row);
    }
    Some(align(&rows))
}

/// `other`'s ops/s over `base`'s, or "-" when either is missing or zero.
fn ratio(base: Option<&Outcome>, other: Option<&Outcome>) -> String {
    match (
        base.map(Outcome::ops_per_sec),
        other.map(Outcome::ops_per_sec),
    ) {
        (Some(b), Some(o)) if b > 0.0 => format!("{:.2}", o / b),
        _ => "-".into(),
    }
}

/// Right-aligns every column but the first to its widest cell.
fn align(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(String::len)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            let _ = if c == 0 {
                write!(out, "{cell:<w$}", w = widths[c])
            } else {
                write!(out, "  {cell:>w$}", w = widths[c])
            };
        }
        out.push('\n');
    }
    out
}

/// The whole run as one JSON document: the settings, then per server and per
/// workload the ops, ops/s, seconds, errors, latency in microseconds and extras.
pub fn json(spec: &Spec, targets: &[TargetResults]) -> String {
    let mut out = String::from("{\n  \"settings\": {");
    let _ = write!(
        out,
        "\"sessions\": {}, \"outstanding\": {}, \"data_size\": {}, \"watchers\": {}, \"warmup_s\": {}, \"duration_s\": {}, \"ops\": {}, \"znodes\": {}",
        spec.sessions,
        spec.outstanding,
        spec.data.len(),
        spec.watchers,
        number(spec.warmup.as_secs_f64()),
        spec.duration.map_or("null".into(), |d| number(d.as_secs_f64())),
        spec.ops.map_or("null".into(), |n| n.to_string()),
        spec.znodes,
    );
    out.push_str("},\n  \"targets\": [");
    for (i, target) in targets.iter().enumerate() {
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let _ = write!(
            out,
            "    {{\"name\": {}, \"addr\": {}, \"results\": [",
            string(&target.name),
            string(&target.addr)
        );
        for (j, (workload, cell)) in target.cells.iter().enumerate() {
            out.push_str(if j == 0 { "\n      " } else { ",\n      " });
            out.push_str(&cell_json(*workload, cell));
        }
        out.push_str("\n    ]}");
    }
    out.push_str("\n  ]\n}\n");
    out
}

fn cell_json(workload: Workload, cell: &Cell) -> String {
    let name = string(workload.name());
    let o = match cell {
        Ok(o) => o,
        Err(e) => return format!("{{\"workload\": {name}, \"error\": {}}}", string(e)),
    };
    let h = o.latency();
    let mut latency: Vec<String> = PERCENTILES
        .iter()
        .map(|(p, key)| format!("\"{key}\": {}", number(h.percentile(*p) as f64 / 1e3)))
        .collect();
    latency.push(format!("\"max\": {}", number(h.max() as f64 / 1e3)));
    latency.push(format!("\"mean\": {}", number(h.mean() / 1e3)));
    let extra: Vec<String> = o
        .extra
        .iter()
        .map(|(k, v)| format!("{}: {}", string(k), number(*v)))
        .collect();
    format!(
        "{{\"workload\": {name}, \"ops\": {}, \"ops_per_sec\": {}, \"seconds\": {}, \"errors\": {}, \"latency_us\": {{{}}}, \"extra\": {{{}}}}}",
        o.ops(),
        number(o.ops_per_sec()),
        number(o.seconds),
        o.tally.errors,
        latency.join(", "),
        extra.join(", ")
    )
}

/// A JSON number with three decimals; JSON has no NaN or infinity, so those become null.
fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.3}")
    } else {
        "null".into()
    }
}

/// A JSON string literal.
fn string(s: &str) -> String {
    crate::admin::json::quote(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::load::Tally;
    use std::time::{Duration, Instant};

    fn outcome(workload: Workload, ops: u64, seconds: f64) -> Outcome {
        let mut tally = Tally::default();
        let now = Instant::now();
        for i in 0..ops {
            tally.record(Duration::from_micros(100 + i), false, now);
        }
        Outcome {
            workload,
            tally,
            seconds,
            extra: vec![("k", 1.5)],
        }
    }

    fn target(name: &str, ops: u64) -> TargetResults {
        TargetResults {
            name: name.into(),
            addr: "127.0.0.1:1".into(),
            cells: vec![
                (Workload::Create, Ok(outcome(Workload::Create, ops, 1.0))),
                (Workload::Watch, Err("boom \"x\"".into())),
            ],
        }
    }

    #[test]
    fn comparison_gives_the_ratio_to_the_first_server() {
        let text = comparison(&[target("zookeeper", 100), target("paddock", 250)]).unwrap();
        let create = text.lines().find(|l| l.starts_with("create")).unwrap();
        let fields: Vec<&str> = create.split_whitespace().collect();
        assert_eq!(fields[1..4], ["100.0", "250.0", "2.50"]);
        let watch = text.lines().find(|l| l.starts_with("watch")).unwrap();
        assert_eq!(
            watch.split_whitespace().collect::<Vec<_>>(),
            ["watch", "failed", "failed", "-", "-", "-"]
        );
    }

    #[test]
    fn comparison_needs_two_servers() {
        assert!(comparison(&[target("paddock", 1)]).is_none());
    }

    #[test]
    fn table_lists_each_workload_and_failures() {
        let text = table(&target("paddock", 10));
        assert!(text
            .lines()
            .any(|l| l.starts_with("create") && l.contains("10.0") && l.contains("k=1.5")));
        assert!(text.contains("watch         failed: boom"));
    }

    #[test]
    fn json_escapes_strings_and_reports_microseconds() {
        let spec = Spec {
            addr: String::new(),
            root: String::new(),
            sessions: 2,
            outstanding: 3,
            warmup: Duration::ZERO,
            duration: None,
            ops: Some(10),
            data: vec![0; 100],
            watchers: 4,
            label: String::new(),
            znodes: 0,
            pid: None,
        };
        let text = json(&spec, &[target("zk", 1)]);
        assert!(text.contains("\"duration_s\": null, \"ops\": 10, \"znodes\": 0"));
        assert!(text.contains("\"error\": \"boom \\\"x\\\"\""));
        assert!(text.contains("\"latency_us\": {\"p50\": 100.000, \"p99\": 100.000, \"p99_9\": 100.000, \"max\": 100.000, \"mean\": 100.000}"));
        assert_eq!(string("a\u{1}\n"), "\"a\\u0001\\n\"");
        assert_eq!(number(f64::NAN), "null");
    }
}
