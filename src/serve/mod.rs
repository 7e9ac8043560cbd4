//! `crm-vec serve`: the webhook listener for Odoo's automation rules.
//!
//! Odoo posts one webhook at a time from the request that saved the lead, waits at most a
//! second and never retries; in 17.0 and 18.0 it posts before its transaction commits. So each
//! event is written to a durable queue ([`queue`]) and answered at once ([`http`]), and workers
//! ([`worker`]) read the lead after a settle delay, through the same sync core as the CLI.
//! Connections are accepted in front of tiny_http with deadlines ([`front`]); a periodic
//! incremental sync catches what no webhook delivered. The listener runs on an index host
//! ([`crate::owner`]), which other commands reach through the owner socket.

pub mod auth;
mod front;
pub mod http;
pub mod queue;
pub mod worker;

use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use self::auth::Auth;
use self::http::App;
use self::queue::Queue;
use self::worker::{Processor, RetryPolicy};
use crate::commands::Invocation;
use crate::index::any::AnyStore;
use crate::owner::host::{Call, IndexHost};
use crate::owner::server::OwnerSocket;
use crate::sync::SyncNewOptions;

/// File name of the queue in the collection directory.
pub const QUEUE_FILE: &str = "webhook-queue.redb";

/// Default address: loopback, which a tunnel such as ngrok reaches.
pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 3000;

/// Everything `serve` needs besides the settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub host: String,
    pub port: u16,
    pub allow_unauthenticated: bool,
    pub wait_timeout: Duration,
    /// Zero turns the periodic incremental sync off.
    pub reconcile_every: Duration,
    pub policy: RetryPolicy,
}

/// Errors that stop the listener from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "refusing to listen on {addr} without WEBHOOK_SECRET: anyone who can reach it could \
         make crm-vec read Odoo"
    )]
    Unauthenticated { addr: SocketAddr },
    #[error("'{host}' is not an address to listen on")]
    BadHost { host: String },
}

impl ServeError {
    pub fn hint(&self) -> Option<String> {
        match self {
            ServeError::Unauthenticated { .. } => Some(
                "set WEBHOOK_SECRET (and put ?token=… in Odoo's webhook URLs), listen on \
                 127.0.0.1 behind a tunnel, or pass --allow-unauthenticated"
                    .to_string(),
            ),
            ServeError::BadHost { .. } => {
                Some("use an IP address such as 127.0.0.1 or 0.0.0.0".to_string())
            }
        }
    }
}

/// A stop signal that tasks can wait for at any time, including after it was given.
#[derive(Default)]
pub struct Shutdown {
    stopped: AtomicBool,
    notify: Notify,
}

impl Shutdown {
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub async fn wait(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.stopped.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}

/// Runs the listener until SIGINT or SIGTERM: `crm-vec serve`.
pub async fn run(invocation: Invocation, config: ServeConfig) -> Result<()> {
    let store = crate::owner::open_for_listener(&invocation.settings, "serve").await?;
    let host = Arc::new(IndexHost::new(invocation, store));
    host.provider().await?;
    let stop = Arc::new(Shutdown::default());
    let handle = start(Arc::clone(&host), config, Arc::clone(&stop)).await?;
    let socket = OwnerSocket::open(host, "serve")?;
    eprintln!("crm-vec serve listening on http://{}", handle.local_addr());
    wait_for_signal().await;
    stop.stop();
    // The socket goes first: another process may bind it once this one lets go of the index.
    socket.close().await;
    handle.stopped().await;
    Ok(())
}

/// The parts of a started listener that [`ServeHandle::stopped`] waits for.
pub struct ServeHandle {
    local: SocketAddr,
    processor: Arc<Processor>,
    stop: Arc<Shutdown>,
    server: Arc<tiny_http::Server>,
    front: JoinHandle<()>,
    tasks: Vec<JoinHandle<()>>,
    dispatchers: Vec<std::thread::JoinHandle<()>>,
    backend_dir: PathBuf,
}

impl ServeHandle {
    /// Returns the address the listener is bound to, with the port chosen when 0 was requested.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Waits for the stop signal, then for the listener to stop: no new connections, the
    /// batch in hand finished or left in the queue, the HTTP socket removed.
    pub async fn stopped(self) {
        self.stop.wait().await;
        tracing::info!("stopping: no new connections; queued events stay on disk");
        let _ = self.front.await;
        for _ in &self.dispatchers {
            self.server.unblock();
        }
        for task in self.tasks {
            let _ = task.await;
        }
        let dispatchers = self.dispatchers;
        let _ = tokio::task::spawn_blocking(move || {
            for dispatcher in dispatchers {
                let _ = dispatcher.join();
            }
        })
        .await;
        let _ = std::fs::remove_dir_all(&self.backend_dir);
        tracing::info!(pending = self.processor.queue.report().pending, "stopped");
    }
}

/// Starts the listener on a host, and returns once it is bound. It runs until `stop` is
/// given; then [`ServeHandle::stopped`] waits for it to wind down. The caller binds the owner
/// socket once this returns, so that requests from other processes find the listener.
pub async fn start(
    host: Arc<IndexHost>,
    config: ServeConfig,
    stop: Arc<Shutdown>,
) -> Result<ServeHandle> {
    let settings = host.settings();
    let auth = Auth::from_setting(settings.value("WEBHOOK_SECRET"));
    let addr = resolve(&config.host, config.port)?;
    if !addr.ip().is_loopback() && !auth.required() {
        if !config.allow_unauthenticated {
            return Err(ServeError::Unauthenticated { addr }.into());
        }
        tracing::warn!(
            %addr,
            "listening without WEBHOOK_SECRET on a non-loopback address: anyone who reaches it \
             can trigger syncs"
        );
    }

    let collection_dir = match host.store().as_ref() {
        AnyStore::Embedded(embedded) => embedded.collection_dir().to_path_buf(),
        // A Qdrant server keeps no files here, but the queue needs a directory.
        AnyStore::Server(_) => {
            let dir = settings.data_dir.join(&settings.collection);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            dir
        }
    };
    let queue = Queue::open(&collection_dir.join(QUEUE_FILE))?;
    queue.cap_due(config.policy.settle);
    let pending = queue.report();
    let processor = Arc::new(Processor::new(
        queue,
        Arc::clone(&host),
        config.policy.clone(),
    ));
    host.attach_listener(&processor);

    let listener = front::listen(addr).with_context(|| format!("could not listen on {addr}"))?;
    let local = listener.local_addr()?;
    raise_open_files_limit();

    let backend_dir = private_dir()?;
    let backend = backend_dir.join("http.sock");
    let unix = std::os::unix::net::UnixListener::bind(&backend)
        .with_context(|| format!("could not create {}", backend.display()))?;
    let server = Arc::new(
        tiny_http::Server::from_listener(unix, None)
            .map_err(|err| anyhow::anyhow!("could not start the HTTP server: {err}"))?,
    );
    let app = Arc::new(App {
        processor: Arc::clone(&processor),
        auth: auth.clone(),
        wait_timeout: config.wait_timeout,
        runtime: tokio::runtime::Handle::current(),
        in_progress: AtomicUsize::new(0),
    });
    let dispatchers: Vec<_> = (0..2)
        .map(|_| {
            let (server, app) = (Arc::clone(&server), Arc::clone(&app));
            std::thread::spawn(move || http::dispatch(server, app))
        })
        .collect();

    let limits = front::Limits::for_wait_timeout(config.wait_timeout);
    let front = tokio::spawn(front::accept_loop(
        listener,
        backend.clone(),
        limits,
        Arc::clone(&stop),
    ));
    let tasks = vec![
        tokio::spawn(Arc::clone(&processor).run(Arc::clone(&stop))),
        tokio::spawn(reconcile_loop(
            Arc::clone(&processor),
            config.reconcile_every,
            Arc::clone(&stop),
        )),
    ];
    tracing::info!(
        auth_required = auth.required(),
        pending = pending.pending,
        failed = pending.failed,
        "listening for webhooks on http://{local}"
    );
    Ok(ServeHandle {
        local,
        processor,
        stop,
        server,
        front,
        tasks,
        dispatchers,
        backend_dir,
    })
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr> {
    let bad = || ServeError::BadHost {
        host: host.to_string(),
    };
    let mut addrs = (host, port).to_socket_addrs().map_err(|_| bad())?;
    Ok(addrs.next().ok_or_else(bad)?)
}

/// Prefix of the private directories, followed by the pid of the listener and a nonce.
const PRIVATE_DIR_PREFIX: &str = "crm-vec-serve-";

/// A directory only this user can enter, for the socket between the front and tiny_http.
/// Directories that listeners killed before their clean stop left behind are removed first.
fn private_dir() -> Result<PathBuf> {
    let temp = std::env::temp_dir();
    remove_abandoned_dirs(&temp);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = temp.join(format!(
        "{PRIVATE_DIR_PREFIX}{}-{nanos}",
        std::process::id()
    ));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("could not create {}", dir.display()))?;
    Ok(dir)
}

/// Removes the private directories in `temp` whose listener process no longer exists. A
/// directory whose pid was reused by another process stays; it costs one socket file.
fn remove_abandoned_dirs(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(PRIVATE_DIR_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        if !process_exists(pid) && std::fs::remove_dir_all(entry.path()).is_ok() {
            tracing::debug!(
                "removed {}, left by listener pid {pid}",
                entry.path().display()
            );
        }
    }
}

/// Checks whether a process with this pid exists (owned by any user).
fn process_exists(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks that the pid can be signalled; nothing is sent.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Idle connections each hold a descriptor; lift the soft limit to the hard one so that a few
/// hundred of them cannot exhaust it.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Waits for SIGINT or SIGTERM.
pub async fn wait_for_signal() {
    let mut terminate =
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch for SIGTERM; stop with Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

/// The periodic incremental sync: catches leads whose webhook never arrived (the listener was
/// down, a rule was missing, a change bypassed the ORM). The first run starts with the
/// listener, because changes made while it was stopped reached no webhook.
async fn reconcile_loop(processor: Arc<Processor>, every: Duration, stop: Arc<Shutdown>) {
    if every.is_zero() {
        return;
    }
    loop {
        tokio::select! {
            _ = reconcile_once(&processor) => {}
            _ = stop.wait() => return,
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait() => return,
        }
    }
}

async fn reconcile_once(processor: &Processor) {
    let started = std::time::Instant::now();
    let result = processor
        .host
        .sync_new(&SyncNewOptions::default(), &Call::unbounded())
        .await;
    let duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(report) => tracing::info!(
            duration_ms,
            upserted = report.summary.upserted,
            deleted = report.summary.deleted,
            "periodic sync-new done"
        ),
        Err(err) => {
            tracing::warn!(duration_ms, error = %format!("{err:#}"), "periodic sync-new failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abandoned_private_dirs_are_removed() {
        let temp =
            std::env::temp_dir().join(format!("crm-vec-test-private-{}", std::process::id()));
        std::fs::create_dir_all(&temp).unwrap();
        // pid_max on Linux is at most 2^22, so this pid exists nowhere.
        let abandoned = temp.join(format!("{PRIVATE_DIR_PREFIX}99999999-1"));
        let running = temp.join(format!("{PRIVATE_DIR_PREFIX}{}-2", std::process::id()));
        let other = temp.join("crm-vec-serve-notapid-3");
        for dir in [&abandoned, &running, &other] {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join("http.sock"), b"").unwrap();
        }

        remove_abandoned_dirs(&temp);

        assert!(!abandoned.exists(), "{abandoned:?} was kept");
        assert!(running.exists(), "{running:?} was removed");
        assert!(other.exists(), "{other:?} was removed");
        std::fs::remove_dir_all(&temp).unwrap();
    }
}
