//! kill -9 of a real `paddock server` process at random moments under a
//! pipelined write load, then restart and check, for every round so far:
//! every acknowledged write is there, each write (a multi of two creates) is
//! all or nothing, and what survived is a prefix of what was sent (no hole).
//!
//! Rounds: `PADDOCK_CRASH_ROUNDS` (default 50); seed: `PADDOCK_CRASH_SEED`
//! (printed; the same seed replays the same kill delays and settings, though
//! the process timing differs run to run). `scripts/crash-test` runs more.

mod durability_proc;

use durability_proc::{free_port, seed_from_env, write_config, Conn, Rng, Server};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::TempDir;

/// Writes in flight at once on the writer's session (exercises group commit).
const WINDOW: usize = 16;
/// A kill lands at most this long after the load starts.
const KILL_DELAY_MS_MAX: u64 = 250;
/// Every this many rounds, the kill lands during startup and recovery instead.
const STARTUP_KILL_EVERY: usize = 7;

/// What one round's writer sent and had acknowledged.
#[derive(Debug, Default, Clone)]
struct Round {
    /// Whether the round's parent node was created (acknowledged).
    parent: bool,
    /// Writes 1..=sent were sent.
    sent: u64,
    /// The highest write acknowledged (all before it were acknowledged too).
    acked: u64,
}

fn parent(round: usize) -> String {
    format!("/r{round}")
}

fn write_paths(round: usize, i: u64) -> [String; 2] {
    [format!("/r{round}/{i}a"), format!("/r{round}/{i}b")]
}

/// Pipelines writes until the connection dies; returns (sent, acked).
fn write_until_killed(mut conn: Conn, round: usize, acked: &Mutex<u64>) -> u64 {
    let mut sent = 0u64;
    let mut in_flight = 0usize;
    loop {
        while in_flight < WINDOW {
            let i = sent + 1;
            if conn
                .send_multi_create(&write_paths(round, i), &i.to_be_bytes())
                .is_err()
            {
                return sent;
            }
            sent = i;
            in_flight += 1;
        }
        let Ok((_, err, _)) = conn.recv() else {
            return sent;
        };
        assert_eq!(err, 0, "write failed with error {err}");
        in_flight -= 1;
        *acked.lock().unwrap() += 1;
    }
}

/// Checks round `k`'s writes on a live server.
fn verify_round(conn: &mut Conn, k: usize, round: &Round) {
    let children = match conn.children(&parent(k)).unwrap() {
        Ok(c) => c,
        Err(err) => {
            assert!(!round.parent, "round {k}: acknowledged parent lost ({err})");
            return;
        }
    };
    let mut halves: BTreeMap<u64, u8> = BTreeMap::new();
    for name in &children {
        let i: u64 = name[..name.len() - 1].parse().unwrap();
        *halves.entry(i).or_default() += 1;
    }
    let survived = halves.len() as u64;
    assert!(
        halves.values().all(|&n| n == 2),
        "round {k}: a multi was half applied: {halves:?}"
    );
    assert_eq!(
        halves.keys().copied().collect::<Vec<_>>(),
        (1..=survived).collect::<Vec<_>>(),
        "round {k}: the surviving writes are not a prefix"
    );
    assert!(
        survived >= round.acked && survived <= round.sent,
        "round {k}: {survived} writes survived, {} acknowledged, {} sent",
        round.acked,
        round.sent
    );
    if survived > 0 {
        let data = conn.data(&write_paths(k, survived)[1]).unwrap().unwrap();
        assert_eq!(data, Some(survived.to_be_bytes().to_vec()), "round {k}");
    }
}

fn verify_all(conn: &mut Conn, rounds: &[Round]) {
    for (k, round) in rounds.iter().enumerate() {
        verify_round(conn, k, round);
    }
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    text[start..].to_string()
}

/// One round on a fresh server process: verify, write, kill.
fn run_round(server: &mut Server, rng: &mut Rng, k: usize, rounds: &[Round], log: &Path) -> Round {
    if k % STARTUP_KILL_EVERY == STARTUP_KILL_EVERY - 1 {
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        server.kill9();
        return Round::default();
    }
    let Some(mut conn) = server.wait_ready() else {
        panic!("round {k}: server did not start:\n{}", log_tail(log));
    };
    verify_all(&mut conn, rounds);
    let xid = conn.send_multi_create(&[parent(k)], b"").unwrap();
    let (got, err, _) = conn.recv().unwrap();
    assert_eq!((got, err), (xid, 0), "round {k}: creating the parent");
    let acked = Arc::new(Mutex::new(0u64));
    let writer = {
        let acked = Arc::clone(&acked);
        std::thread::spawn(move || write_until_killed(conn, k, &acked))
    };
    std::thread::sleep(Duration::from_millis(rng.below(KILL_DELAY_MS_MAX)));
    server.kill9();
    let sent = writer.join().unwrap();
    let acked = *acked.lock().unwrap();
    Round {
        parent: true,
        sent,
        acked,
    }
}

#[test]
fn acknowledged_writes_survive_kill_9_of_the_server() {
    let rounds_total: usize = std::env::var("PADDOCK_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let mut rng = Rng(seed_from_env("PADDOCK_CRASH_SEED"));
    let dir = TempDir::new("crash-kill9");
    let data_dir = dir.0.join("data");
    let port = free_port();
    let extra = format!(
        "snapCount={}\npreAllocSize={}",
        50 + rng.below(500),
        16 + rng.below(64)
    );
    eprintln!("settings: {}", extra.replace('\n', " "));
    let cfg = write_config(&dir.0, &data_dir, port, &extra);
    let log = dir.0.join("server.log");
    let mut rounds = Vec::new();
    for k in 0..rounds_total {
        let mut server = Server::spawn(&cfg, port, &log);
        let round = run_round(&mut server, &mut rng, k, &rounds, &log);
        eprintln!("round {k}: {round:?}");
        rounds.push(round);
    }
    let mut server = Server::spawn(&cfg, port, &log);
    let Some(mut conn) = server.wait_ready() else {
        panic!("final restart failed:\n{}", log_tail(&log));
    };
    verify_all(&mut conn, &rounds);
    let acked: u64 = rounds.iter().map(|r| r.acked).sum();
    assert!(acked > 0, "no write was acknowledged in any round");
    eprintln!("{acked} acknowledged writes over {rounds_total} kills, all present");
}
