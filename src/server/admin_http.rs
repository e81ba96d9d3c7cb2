//! The AdminServer: ZooKeeper's embedded HTTP server for commands, on
//! `admin.serverAddress:admin.serverPort` (default 0.0.0.0:8080) unless
//! `admin.enableServer=false`. `GET <commandURL>` (default `/commands`)
//! lists the commands as links; `GET <commandURL>/<name>` answers a command
//! as JSON ([`crate::admin::run_command`]), asked of the core like a
//! four-letter word. Anything else is 404. One request per connection
//! (the answer says `Connection: close`); a request head larger than
//! [`MAX_HEAD`] or slower than `admin.idleTimeout` closes the connection.
//! As ZooKeeper, a port that cannot be bound is logged and the server runs
//! on without it.

use super::core::CoreMsg;
use crate::config::AdminConfig;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

/// The largest request head read.
const MAX_HEAD: usize = 8192;

/// Binds the AdminServer's port if it is enabled; `None` (logged) when it
/// is disabled or the port cannot be bound.
pub async fn bind(admin: &AdminConfig) -> Option<TcpListener> {
    if !admin.enable_server {
        return None;
    }
    let addr = format!("{}:{}", admin.server_address, admin.server_port);
    match TcpListener::bind(&addr).await {
        Ok(listener) => {
            info!(%addr, url = %admin.command_url, "AdminServer listening");
            Some(listener)
        }
        Err(e) => {
            error!(%addr, "AdminServer cannot listen ({e}); running without it (admin.enableServer=false turns it off)");
            None
        }
    }
}

/// Serves requests on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, admin: AdminConfig, core: mpsc::Sender<CoreMsg>) {
    let idle = Duration::from_millis(admin.idle_timeout_ms.max(1).into());
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, say: wait rather than spin.
                debug!("AdminServer accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let core = core.clone();
        let url = admin.command_url.clone();
        tokio::spawn(async move {
            if let Err(e) = tokio::time::timeout(idle, answer(stream, &url, core)).await {
                debug!(%remote, "AdminServer request timed out: {e}");
            }
        });
    }
}

/// Reads one request and writes its answer.
async fn answer(mut stream: TcpStream, url: &str, core: mpsc::Sender<CoreMsg>) {
    let target = match read_target(&mut stream).await {
        Ok(target) => target,
        Err(0) => return, // connected and left (a port probe)
        Err(_) => {
            let remote = stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            warn!(%remote, "AdminServer: not a GET or POST request head of at most {MAX_HEAD} bytes; closing the connection");
            return;
        }
    };
    let target = target.split('#').next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    // ZooKeeper's list page has no Content-Type.
    let (status, kind, body) = if path == url || path.strip_prefix(url) == Some("/") {
        ("200 OK", None, command_list(url))
    } else if let Some(name) = path.strip_prefix(url).and_then(|p| p.strip_prefix('/')) {
        let (reply, answered) = oneshot::channel();
        let name = name.to_owned();
        let query = query.to_owned();
        if core
            .send(CoreMsg::AdminCommand { name, query, reply })
            .await
            .is_err()
        {
            return;
        }
        let Ok(json) = answered.await else {
            return;
        };
        ("200 OK", Some("application/json"), json)
    } else {
        let page =
            format!("<html><body><h2>HTTP ERROR 404 Not Found</h2><p>{path}</p></body></html>\n");
        ("404 Not Found", Some("text/html"), page)
    };
    let kind = kind.map_or(String::new(), |k| format!("Content-Type: {k}\r\n"));
    let head = format!(
        "HTTP/1.1 {status}\r\n{kind}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The request target of a `GET` (or `POST`, which ZooKeeper's servlet
/// answers the same) from the request head; for anything else, the bytes
/// received (0: the client sent nothing).
async fn read_target(stream: &mut TcpStream) -> Result<String, usize> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && !head.windows(2).any(|w| w == b"\n\n") {
        let n = stream.read(&mut buf).await.map_err(|_| head.len())?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return Err(head.len() + n);
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = std::str::from_utf8(line).unwrap_or_default().trim_end();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET" | "POST"), Some(target)) => Ok(target.to_owned()),
        _ => Err(head.len()),
    }
}

/// The command list page, as ZooKeeper's: a link per command, `<br/>` between.
fn command_list(url: &str) -> String {
    crate::admin::command_names()
        .map(|name| format!("<a href=\"{url}/{name}\">{name}</a>\n"))
        .collect::<Vec<_>>()
        .join("<br/>\n")
}
