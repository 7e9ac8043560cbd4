//! `crm-vec serve`: the webhook listener for Odoo's automation rules.
//!
//! Odoo posts one webhook at a time from the request that saved the lead, waits at most a
//! second and never retries; in 17.0 and 18.0 it posts before its transaction commits. So each
//! event is written to a durable queue ([`queue`]) and answered at once ([`http`]), and workers
//! ([`worker`]) read the lead after a settle delay, through the same sync core as the CLI.
//! Connections are accepted in front of tiny_http with deadlines ([`front`]); other commands
//! reach the index through the owner socket ([`owner`]); a periodic incremental sync catches
//! what no webhook delivered.

pub mod auth;
mod front;
pub mod http;
pub mod owner;
pub mod queue;
pub mod worker;

use std::net::{SocketAddr, ToSocketAddrs};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use serde_json::Value;
use tokio::sync::{Notify, RwLock};
use tokio::task::JoinHandle;

use self::auth::Auth;
use self::http::App;
use self::queue::Queue;
use self::worker::{Processor, RetryPolicy, StoreSlot};
use crate::embed::Provider;
use crate::index::any::AnyStore;
use crate::index::embedded::EmbeddedStore;
use crate::settings::Settings;
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

/// Whether the listener may lend its index to other crm-vec processes (see [`owner`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lending {
    /// The listener has the only handle to the store, so it can close the index for a
    /// borrower and open it again afterwards.
    Allowed,
    /// Another part of this process keeps the store open too (the MCP tools), so the index
    /// cannot be closed. `sync-record` from other processes still goes through the queue.
    Refused,
}

/// Runs the listener until SIGINT or SIGTERM: `crm-vec serve`.
pub async fn run(
    settings: &Settings,
    provider: Option<Provider>,
    config: ServeConfig,
) -> Result<()> {
    let store = EmbeddedStore::open(
        &settings.data_dir,
        &settings.collection,
        settings.lock_timeout,
    )
    .context("serve keeps the index open while it runs")?;
    let store = Arc::new(AnyStore::Embedded(store));
    let stop = Arc::new(Shutdown::default());
    let handle = start(
        settings,
        provider,
        config,
        store,
        Lending::Allowed,
        Arc::clone(&stop),
    )
    .await?;
    eprintln!("crm-vec serve listening on http://{}", handle.local_addr());
    wait_for_signal().await;
    stop.stop();
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
    socket: Option<PathBuf>,
    backend_dir: PathBuf,
}

impl ServeHandle {
    /// Returns the address the listener is bound to, with the port chosen when 0 was requested.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Returns the workers' index slot. While a caller has its write lock, the workers wait.
    pub fn store_slot(&self) -> StoreSlot {
        Arc::clone(&self.processor.store)
    }

    /// Waits for the stop signal, then for the listener to stop: no new connections, the
    /// batch in hand finished or left in the queue, the sockets removed.
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
        if let Some(socket) = &self.socket {
            let _ = std::fs::remove_file(socket);
        }
        let _ = std::fs::remove_dir_all(&self.backend_dir);
        if let Ok(mut running) = RUNNING.lock() {
            *running = None;
        }
        tracing::info!(pending = self.processor.queue.report().pending, "stopped");
    }
}

/// The listener of this process, for `status` run in the same process (the MCP status tool).
static RUNNING: std::sync::Mutex<Option<Arc<Processor>>> = std::sync::Mutex::new(None);

/// Starts the listener on a store the caller has opened, and returns once it is bound. It
/// runs until `stop` is given; then [`ServeHandle::stopped`] waits for it to wind down.
pub async fn start(
    settings: &Settings,
    provider: Option<Provider>,
    config: ServeConfig,
    store: Arc<AnyStore>,
    lending: Lending,
    stop: Arc<Shutdown>,
) -> Result<ServeHandle> {
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

    let collection_dir = match store.as_ref() {
        AnyStore::Embedded(embedded) => embedded.collection_dir().to_path_buf(),
        // A Qdrant server keeps no files here, but the queue needs a directory.
        AnyStore::Server(_) => {
            let dir = settings.data_dir.join(&settings.collection);
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
            dir
        }
    };
    // Only an embedded index is locked, so only then do other processes look for an owner.
    let lends_index = matches!(store.as_ref(), AnyStore::Embedded(_));
    let queue = Queue::open(&collection_dir.join(QUEUE_FILE))?;
    queue.cap_due(config.policy.settle);
    let pending = queue.report();
    let slot = Arc::new(RwLock::new(Some(store)));
    let processor = Arc::new(Processor::new(
        queue,
        slot,
        settings.clone(),
        provider,
        config.policy.clone(),
    ));

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
    let mut tasks = Vec::new();
    let socket = if lends_index {
        let socket = owner::socket_path(settings);
        tasks.push(tokio::spawn(owner::serve(
            owner::bind(&socket)?,
            Arc::clone(&processor),
            lending,
            Arc::clone(&stop),
        )));
        Some(socket)
    } else {
        None
    };
    tasks.push(tokio::spawn(Arc::clone(&processor).run(Arc::clone(&stop))));
    tasks.push(tokio::spawn(reconcile_loop(
        Arc::clone(&processor),
        config.reconcile_every,
        Arc::clone(&stop),
    )));
    if let Ok(mut running) = RUNNING.lock() {
        *running = Some(Arc::clone(&processor));
    }

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
        socket,
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

/// A directory only this user can enter, for the socket between the front and tiny_http.
fn private_dir() -> Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("crm-vec-serve-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("could not create {}", dir.display()))?;
    Ok(dir)
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

async fn wait_for_signal() {
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
/// down, a rule was missing, a change bypassed the ORM).
async fn reconcile_loop(processor: Arc<Processor>, every: Duration, stop: Arc<Shutdown>) {
    if every.is_zero() {
        return;
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.wait() => return,
        }
        tokio::select! {
            _ = reconcile_once(&processor) => {}
            _ = stop.wait() => return,
        }
    }
}

async fn reconcile_once(processor: &Processor) {
    let guard = processor.store.read().await;
    let Some(store) = guard.clone() else {
        return;
    };
    let started = std::time::Instant::now();
    let result = match processor.context(store).await {
        Ok(ctx) => run_sync_new(&ctx).await,
        Err(err) => Err(err),
    };
    let duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(report) => tracing::info!(
            duration_ms,
            upserted = report["upserted"].as_u64().unwrap_or(0),
            deleted = report["deleted"].as_u64().unwrap_or(0),
            "periodic sync-new done"
        ),
        Err(err) => {
            tracing::warn!(duration_ms, error = %format!("{err:#}"), "periodic sync-new failed")
        }
    }
}

/// One incremental sync with the defaults of `crm-vec sync-new`.
async fn run_sync_new(ctx: &crate::sync::SyncContext<Arc<AnyStore>>) -> Result<Value> {
    let report = crate::sync::sync_new(ctx, &SyncNewOptions::default()).await?;
    Ok(serde_json::to_value(&report)?)
}

/// The webhook queue for `crm-vec status`: the listener's in this process, else the owner's
/// while this process has its index on loan, else the queue file's, else `null` when there is
/// none.
pub fn queue_status(settings: &Settings) -> Value {
    let running = RUNNING.lock().ok().and_then(|running| running.clone());
    if let Some(processor) = running {
        return processor.queue.report().to_json();
    }
    if let Some(queue) = owner::lent_queue() {
        return queue;
    }
    let path = settings
        .data_dir
        .join(&settings.collection)
        .join(QUEUE_FILE);
    if !Path::new(&path).exists() {
        return Value::Null;
    }
    match Queue::open(&path) {
        Ok(queue) => queue.report().to_json(),
        Err(_) => Value::Null,
    }
}
