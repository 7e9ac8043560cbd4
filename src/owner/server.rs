//! The owner side of the owner socket: accepts connections of the same user and runs each
//! request on the host, with progress and heartbeat lines while it runs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::OwnedWriteHalf;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::host::{Call, IndexHost};
use super::protocol::{Failure, Line, Operation, OwnerInfo, Progress, Request};
use crate::index::any::AnyStore;
use crate::serve::Shutdown;
use crate::sync::Reporter;

/// Interval of heartbeat lines while an operation runs.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// How long a client may take to send its request line after connecting.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The bound owner socket of this process, served until [`OwnerSocket::close`].
pub struct OwnerSocket {
    path: PathBuf,
    stop: Arc<Shutdown>,
    task: JoinHandle<()>,
}

impl OwnerSocket {
    /// Returns whether the owner of `host` binds a socket. It always does for an embedded index,
    /// because the lock keeps other processes out. On a Qdrant server it does only with a
    /// listener, whose queue file other processes cannot open while it runs.
    pub fn needed(host: &IndexHost) -> bool {
        matches!(host.store().as_ref(), AnyStore::Embedded(_)) || host.listener().is_some()
    }

    /// Binds the socket of `host` and serves it. `command` names this process in the result
    /// of [`Operation::Describe`]: `serve`, `mcp` or `mcp --listen`.
    pub fn open(host: Arc<IndexHost>, command: &'static str) -> Result<OwnerSocket> {
        let path = super::socket_path(host.settings());
        let listener = bind(&path)?;
        let stop = Arc::new(Shutdown::default());
        let task = tokio::spawn(accept_loop(listener, host, command, Arc::clone(&stop)));
        tracing::debug!(path = %path.display(), "serving the owner socket");
        Ok(OwnerSocket { path, stop, task })
    }

    /// Stops accepting connections and removes the socket. Call it before the index is
    /// closed: another process may bind the socket as soon as it has the index.
    pub async fn close(self) {
        self.stop.stop();
        let _ = self.task.await;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds the owner socket with mode 0600: bound under a temporary name, restricted, then
/// renamed into place, so it is never reachable with looser permissions.
fn bind(path: &Path) -> Result<UnixListener> {
    let staging = path.with_extension(format!("{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&staging);
    let listener = std::os::unix::net::UnixListener::bind(&staging)
        .with_context(|| format!("could not create the owner socket {}", staging.display()))?;
    std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("could not restrict {}", staging.display()))?;
    std::fs::rename(&staging, path)
        .with_context(|| format!("could not create the owner socket {}", path.display()))?;
    listener.set_nonblocking(true)?;
    Ok(UnixListener::from_std(listener)?)
}

async fn accept_loop(
    listener: UnixListener,
    host: Arc<IndexHost>,
    command: &'static str,
    stop: Arc<Shutdown>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if !same_user(&stream) {
                        tracing::warn!("rejected an owner-socket connection from another user");
                        continue;
                    }
                    tokio::spawn(handle(stream, Arc::clone(&host), command));
                }
                Err(err) => {
                    tracing::warn!(error = %err, "could not accept on the owner socket");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stop.wait() => return,
        }
    }
}

fn same_user(stream: &UnixStream) -> bool {
    // SAFETY: geteuid takes no arguments and always succeeds (POSIX).
    let uid = unsafe { libc::geteuid() };
    stream.peer_cred().is_ok_and(|cred| cred.uid() == uid)
}

/// Serves one connection: reads the request, runs it while sending progress and heartbeats,
/// and writes the final line. When the client goes away, the operation is dropped, as if the
/// command had been interrupted in its own process.
async fn handle(stream: UnixStream, host: Arc<IndexHost>, command: &'static str) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let mut reader = BufReader::new(read);
    match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await {
        Ok(Ok(read)) if read > 0 => {}
        _ => return,
    }
    let request = match Request::parse(&line) {
        Ok(request) => request,
        Err(message) => {
            tracing::warn!(error = %message, "rejected an owner-socket request");
            let failure = Failure {
                error: message,
                causes: Vec::new(),
                hint: None,
                usage: false,
            };
            let _ = send(&mut write, &Line::Done(Err(failure))).await;
            return;
        }
    };

    let started = Instant::now();
    let op = operation_name(&request.operation);
    let (events, received) = mpsc::unbounded_channel();
    let call = Call {
        reporter: Arc::new(LineReporter { events }),
        lock_timeout: Some(Duration::from_millis(request.lock_timeout_ms)),
    };
    let work = run(&host, command, request.operation, &call);
    let Some(result) = relay(work, received, &mut write).await else {
        tracing::warn!(
            op,
            "the other crm-vec process went away; its request was stopped"
        );
        return;
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(_) => tracing::info!(op, duration_ms, "ran a request of another crm-vec process"),
        Err(err) => tracing::warn!(
            op,
            duration_ms,
            error = %format!("{err:#}"),
            "a request of another crm-vec process failed"
        ),
    }
    let line = Line::Done(result.map_err(|err| Failure::from_error(&err)));
    let _ = send(&mut write, &line).await;
}

/// Drives `work` while writing its progress and a heartbeat every few seconds. Returns `None`
/// when the client can no longer be written to.
async fn relay(
    work: impl std::future::Future<Output = Result<Value>>,
    mut received: mpsc::UnboundedReceiver<Progress>,
    write: &mut OwnedWriteHalf,
) -> Option<Result<Value>> {
    tokio::pin!(work);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            Some(progress) = received.recv() => {
                send(write, &Line::Progress(progress)).await.ok()?;
            }
            _ = heartbeat.tick() => send(write, &Line::Heartbeat).await.ok()?,
        }
    };
    while let Ok(progress) = received.try_recv() {
        send(write, &Line::Progress(progress)).await.ok()?;
    }
    Some(result)
}

async fn send(write: &mut OwnedWriteHalf, line: &Line) -> std::io::Result<()> {
    let mut text = line.encode();
    text.push('\n');
    write.write_all(text.as_bytes()).await
}

/// Runs one operation on the host and returns its result as JSON.
async fn run(
    host: &IndexHost,
    command: &'static str,
    operation: Operation,
    call: &Call,
) -> Result<Value> {
    let value = match operation {
        Operation::Search {
            query,
            filter,
            limit,
        } => serde_json::to_value(host.search(&query, filter, limit).await?)?,
        Operation::Status { deep, max_lag_s } => host.status(deep, max_lag_s).await?,
        Operation::SyncRecord { ids } => {
            serde_json::to_value(host.sync_records(&ids, call).await?)?
        }
        Operation::SyncNew(options) => {
            serde_json::to_value(host.sync_new(&(&options).into(), call).await?)?
        }
        Operation::Delete { ids } => serde_json::to_value(host.delete(&ids, call).await?)?,
        Operation::FullRebuild { keep_previous } => {
            serde_json::to_value(host.full_rebuild(keep_previous, call).await?)?
        }
        Operation::Queue => serde_json::to_value(host.queue_report().await)?,
        Operation::Describe => serde_json::to_value(OwnerInfo {
            pid: std::process::id(),
            command: command.to_string(),
            listener: host.listener().is_some(),
        })?,
    };
    Ok(value)
}

fn operation_name(operation: &Operation) -> &'static str {
    match operation {
        Operation::Search { .. } => "search",
        Operation::Status { .. } => "status",
        Operation::SyncRecord { .. } => "sync_record",
        Operation::SyncNew(_) => "sync_new",
        Operation::Delete { .. } => "delete",
        Operation::FullRebuild { .. } => "full_rebuild",
        Operation::Queue => "queue",
        Operation::Describe => "describe",
    }
}

/// A progress reporter that turns progress into lines for the client.
struct LineReporter {
    events: mpsc::UnboundedSender<Progress>,
}

impl Reporter for LineReporter {
    fn start(&self, total: Option<u64>) {
        let _ = self.events.send(Progress::Start { total });
    }

    fn advance(&self, count: u64) {
        let _ = self.events.send(Progress::Advance { count });
    }

    fn finish(&self) {
        let _ = self.events.send(Progress::Finish);
    }
}
