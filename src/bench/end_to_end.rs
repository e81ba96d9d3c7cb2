//! Every workload against a real Paddock server started in-process on
//! 127.0.0.1:0: replies parse, nothing fails, and the bench leaves no node behind.

use super::wire::Session;
use super::workload::{Spec, Workload};
use super::{run_all, Target, TargetResults};
use crate::jute::records::{GetChildrenRequest, GetChildrenResponse};
use crate::jute::Record;
use crate::proto::OpCode;
use crate::server::{self, Settings};
use std::time::Duration;
use tokio::net::TcpListener;

/// The whole run must finish well within this, or the test fails.
const RUN_TIME_MAX: Duration = Duration::from_secs(120);

fn small_spec() -> Spec {
    Spec {
        addr: String::new(),
        root: format!("/paddock-bench-test-{}", std::process::id()),
        sessions: 2,
        outstanding: 4,
        warmup: Duration::ZERO,
        duration: Some(Duration::from_secs(5)),
        ops: Some(40),
        data: vec![b'x'; 100],
        watchers: 3,
        label: "test".into(),
        znodes: 60,
        pid: None,
    }
}

async fn root_children(addr: &str) -> Vec<String> {
    let mut control = Session::connect(addr).await.unwrap();
    let body = GetChildrenRequest {
        path: "/".into(),
        watch: false,
    };
    let (header, payload) = control
        .call(|xid| super::wire::request(xid, OpCode::GetChildren, &body))
        .await
        .unwrap();
    assert_eq!(header.err, 0);
    let (_, children) = GetChildrenResponse::read(&payload[16..]).unwrap();
    control.close().await.unwrap();
    children.children
}

/// A Paddock server running in this process on 127.0.0.1:0 with its own data dir.
struct TestServer {
    addr: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    data_dir: std::path::PathBuf,
}

impl TestServer {
    async fn start(test: &str) -> TestServer {
        let data_dir =
            std::env::temp_dir().join(format!("paddock-bench-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&data_dir).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(server::run(
            listener,
            Settings::for_tests(data_dir.clone()),
            || {},
            shutdown,
        ));
        TestServer {
            addr,
            stop,
            task,
            data_dir,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap().unwrap();
        std::fs::remove_dir_all(&self.data_dir).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_is_answered_and_the_session_stays_usable() {
    let server = TestServer::start("ping").await;
    let mut session = Session::connect(&server.addr).await.unwrap();
    assert!(session.ping_interval() > Duration::ZERO);
    session.ping().await.unwrap();
    session.ping().await.unwrap();
    session.close().await.unwrap();
    assert_eq!(root_children(&server.addr).await, ["zookeeper"]);
    server.stop().await;
}

/// `workloads` against `targets` with [`small_spec`] (no settling), within
/// [`RUN_TIME_MAX`].
async fn run_small(targets: &[Target], workloads: &[Workload]) -> Vec<TargetResults> {
    tokio::time::timeout(
        RUN_TIME_MAX,
        run_all(&small_spec(), targets, workloads, &[]),
    )
    .await
    .expect("bench run timed out")
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_workload_runs_cleanly_and_cleans_up() {
    let server = TestServer::start("workloads").await;
    let addr = server.addr.clone();
    let targets = [Target {
        name: "paddock".into(),
        addr: addr.clone(),
        pid: Some(std::process::id()),
    }];
    let mut workloads = Workload::EACH.to_vec();
    workloads.push(Workload::Znodes);
    let results = run_small(&targets, &workloads).await;
    let remaining = root_children(&addr).await;
    server.stop().await;

    assert_eq!(results.len(), 1);
    assert_eq!(results[0].cells.len(), workloads.len());
    for (workload, cell) in &results[0].cells {
        let outcome = cell
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", workload.name()));
        let expected_ops = if *workload == Workload::Znodes {
            60
        } else {
            40
        };
        assert_eq!(outcome.ops(), expected_ops, "{}", workload.name());
        assert_eq!(outcome.tally.errors, 0, "{}", workload.name());
        assert!(outcome.ops_per_sec() > 0.0, "{}", workload.name());
    }
    let (_, znodes) = results[0].cells.last().unwrap();
    let extra = &znodes.as_ref().unwrap().extra;
    assert!(
        extra.iter().any(|(k, v)| *k == "rss_after_kb" && *v > 0.0),
        "{extra:?}"
    );
    assert_eq!(remaining, ["zookeeper"], "the bench left nodes behind");
}

/// A target listing several hosts (here the same server twice, as the bench
/// cannot start an ensemble in-process) spreads its sessions and syncs each:
/// fixture reads, writes and watches all succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_list_target_runs_cleanly() {
    let server = TestServer::start("hostlist").await;
    let addr = server.addr.clone();
    let targets = [Target {
        name: "ensemble".into(),
        addr: format!("{addr},{addr}"),
        pid: None,
    }];
    let workloads = [
        Workload::Create,
        Workload::GetData,
        Workload::Watch,
        Workload::Churn,
    ];
    let results = run_small(&targets, &workloads).await;
    let remaining = root_children(&addr).await;
    server.stop().await;

    for (workload, cell) in &results[0].cells {
        let outcome = cell
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", workload.name()));
        assert_eq!(outcome.ops(), 40, "{}", workload.name());
        assert_eq!(outcome.tally.errors, 0, "{}", workload.name());
    }
    assert_eq!(remaining, ["zookeeper"], "the bench left nodes behind");
}
