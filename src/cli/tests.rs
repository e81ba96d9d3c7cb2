use super::inspect::{print_log, print_snapshot};
use crate::storage::{read_log_file, read_snapshot, LogFormat};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/zk38/version-2")
        .join(name)
}

#[test]
fn zookeeper_log_prints_one_decoded_line_per_record() {
    let listing = read_log_file(&fixture("log.1")).unwrap();
    assert_eq!(listing.format, LogFormat::ZooKeeper);
    assert!(!listing.entries.is_empty());
    let mut out = Vec::new();
    print_log(&mut out, &listing).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), listing.entries.len() + 1, "{text}");
    assert!(
        lines[1].contains("zxid 0x1 ") && lines[1].contains("CreateSession"),
        "{text}"
    );
    assert!(!text.contains("undecodable"), "{text}");
}

#[test]
fn a_zookeeper_36_log_prints_each_txns_digest() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zk38-digest/version-2/log.1");
    let listing = read_log_file(&path).unwrap();
    let mut out = Vec::new();
    print_log(&mut out, &listing).unwrap();
    let text = String::from_utf8(out).unwrap();
    let records: Vec<&str> = text.lines().skip(1).collect();
    assert!(!records.is_empty(), "{text}");
    assert!(
        records
            .iter()
            .all(|l| l.contains(" digest ") && l.ends_with("(version 2)")),
        "{text}"
    );
}

#[test]
fn snapshot_prints_nodes_depth_first_with_stat_acl_and_data() {
    let (tree, sessions, zxid) = read_snapshot(&fixture("snapshot.14"), true).unwrap();
    let mut out = Vec::new();
    print_snapshot(&mut out, &tree, &sessions, zxid, true).unwrap();
    let text = String::from_utf8(out).unwrap();
    let paths: Vec<&str> = text.lines().filter(|l| l.starts_with('/')).collect();
    // Depth first with siblings by name: sorted order for these names.
    let mut sorted = paths.clone();
    sorted.sort_unstable();
    assert_eq!(paths, sorted);
    // node_count counts the root twice, as ZooKeeper does.
    assert_eq!(paths.len(), tree.node_count() - 1);
    assert!(
        text.contains("acl digest:user:2Om+GBbT2q/tS6pdvACZbbm7/1A= perms 31"),
        "{text}"
    );
    assert!(text.contains("data application v2"), "{text}");
    assert!(
        text.contains(&format!("sessions {}", sessions.len())),
        "{text}"
    );
}

/// The subcommands as `main.rs` wires them.
#[derive(clap::Parser, Debug)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    Import(super::ImportArgs),
    Purge(super::PurgeArgs),
    Inspect(super::InspectArgs),
}

fn parse(args: &[&str]) -> Result<Command, clap::Error> {
    use clap::Parser;
    Cli::try_parse_from(std::iter::once("paddock").chain(args.iter().copied())).map(|c| c.command)
}

#[test]
fn command_definitions_are_consistent() {
    use clap::CommandFactory;
    Cli::command().debug_assert();
}

#[test]
fn purge_takes_zkcleanup_style_arguments() {
    let Ok(Command::Purge(args)) = parse(&["purge", "-n", "5", "conf/zoo.cfg"]) else {
        panic!("purge -n 5 conf/zoo.cfg");
    };
    assert_eq!(args.count, Some(5));
    assert_eq!(args.dirs.config.as_deref(), Some(Path::new("conf/zoo.cfg")));
    assert!(parse(&["purge", "--count", "4", "--data-dir", "/d"]).is_ok());
    assert!(parse(&["purge", "zoo.cfg", "--data-dir", "/d"]).is_err());
}

#[test]
fn import_needs_a_source_and_exactly_one_target() {
    let Ok(Command::Import(args)) = parse(&["import", "--from", "/zk", "--to", "zoo.cfg"]) else {
        panic!("import --from /zk --to zoo.cfg");
    };
    assert_eq!(args.from, Path::new("/zk"));
    assert!(parse(&[
        "import",
        "--from",
        "/zk",
        "--data-dir",
        "/p",
        "--data-log-dir",
        "/l"
    ])
    .is_ok());
    assert!(parse(&["import", "--from", "/zk"]).is_err());
    assert!(parse(&["import", "--from", "/zk", "--to", "c", "--data-dir", "/p"]).is_err());
    assert!(parse(&["import", "--to", "zoo.cfg"]).is_err());
}

#[test]
fn inspect_takes_a_kind_and_a_file() {
    assert!(matches!(
        parse(&["inspect", "log", "log.1"]),
        Ok(Command::Inspect(super::InspectArgs {
            target: super::InspectTarget::Log { .. }
        }))
    ));
    assert!(matches!(
        parse(&["inspect", "snapshot", "--data", "snapshot.0"]),
        Ok(Command::Inspect(super::InspectArgs {
            target: super::InspectTarget::Snapshot { data: true, .. }
        }))
    ));
    assert!(parse(&["inspect", "log"]).is_err());
}
