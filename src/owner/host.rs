//! The index host: an open index and everything needed to work on it, shared by every part of
//! one process. `serve`, `mcp` and the other commands each build one host, and every operation
//! (searches, status, syncs, deletes, rebuilds, webhook batches) runs through it.
//!
//! Writes take one async lock, so a webhook batch, a sync tool and a command from another
//! process never write at the same time. The lock also keeps a lead synced during a full
//! rebuild from being lost when the rebuild switches to its new generation. Searches and status
//! take no lock: a rebuild fills a new generation and switches to it atomically, so readers see
//! the old index until then.

use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde_json::Value;
use tokio::sync::{Mutex, MutexGuard, OnceCell};

use super::client::OwnerClient;
use crate::commands::Invocation;
use crate::embed::{Bm25, Provider};
use crate::index::any::AnyStore;
use crate::index::SearchFilter;
use crate::odoo::{OdooClient, OdooError};
use crate::serve::queue::{Queue, QueueReport};
use crate::serve::worker::Processor;
use crate::settings::Settings;
use crate::sync::search::SearchHit;
use crate::sync::{
    NoProgress, RecordOutcome, Reporter, Summary, SyncContext, SyncNewOptions, SyncNewReport,
    DEFAULT_EMBED_CONCURRENCY,
};

/// The minimum time a write waits for the one in progress, whatever `--lock-timeout` is, so
/// that a command does not fail only because a webhook batch was running.
pub const MIN_WRITE_WAIT: Duration = Duration::from_secs(30);

/// The progress sink of one operation and how long it may wait for the write lock.
#[derive(Clone)]
pub struct Call {
    pub reporter: Arc<dyn Reporter>,
    /// The caller's `--lock-timeout`; `None` waits as long as it takes (the listener's own
    /// work). The wait is never shorter than [`MIN_WRITE_WAIT`].
    pub lock_timeout: Option<Duration>,
}

impl Call {
    /// Creates a call that waits for the write lock up to the `--lock-timeout` of `settings`.
    pub fn new(reporter: Arc<dyn Reporter>, settings: &Settings) -> Call {
        Call {
            reporter,
            lock_timeout: Some(settings.lock_timeout),
        }
    }

    /// Creates a call with no progress that waits for the write lock as long as it takes.
    pub fn unbounded() -> Call {
        Call {
            reporter: Arc::new(NoProgress),
            lock_timeout: None,
        }
    }

    fn write_wait(&self) -> Option<Duration> {
        self.lock_timeout.map(|timeout| timeout.max(MIN_WRITE_WAIT))
    }
}

/// Errors of the host itself.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "the index is busy: {operation} has been running for {seconds} s in the crm-vec \
         process that owns it (pid {pid})"
    )]
    Busy {
        operation: String,
        seconds: u64,
        pid: u32,
    },
}

/// The open index and what works on it. See the module documentation.
pub struct IndexHost {
    invocation: Invocation,
    store: Arc<AnyStore>,
    provider: OnceCell<Option<Provider>>,
    bm25: Bm25,
    /// Connected on first use, and forgotten after a failure so that the next use reconnects.
    odoo: Mutex<Option<OdooClient>>,
    writes: Mutex<()>,
    /// The name of the write that has `writes`, and its start, for [`HostError::Busy`].
    writing: std::sync::Mutex<Option<(String, Instant)>>,
    /// The webhook listener running on this host, if any. Weak, because the listener owns an
    /// `Arc` of the host.
    listener: OnceLock<Weak<Processor>>,
}

/// Holds the host's write lock.
pub struct WriteGuard<'a> {
    _lock: MutexGuard<'a, ()>,
    host: &'a IndexHost,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        *self.host.writing_lock() = None;
    }
}

impl IndexHost {
    /// Creates a host on a store this process has opened.
    pub fn new(invocation: Invocation, store: AnyStore) -> IndexHost {
        IndexHost {
            invocation,
            store: Arc::new(store),
            provider: OnceCell::new(),
            bm25: Bm25::new(),
            odoo: Mutex::new(None),
            writes: Mutex::new(()),
            writing: std::sync::Mutex::new(None),
            listener: OnceLock::new(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.invocation.settings
    }

    pub fn store(&self) -> &Arc<AnyStore> {
        &self.store
    }

    /// Returns the embedding provider of this host's settings, created on first use.
    pub async fn provider(&self) -> Result<Option<Provider>> {
        let provider = self
            .provider
            .get_or_try_init(|| async { crate::commands::provider_for(self.settings()) })
            .await?;
        Ok(provider.clone())
    }

    /// Makes `processor` this host's webhook listener: syncs of single leads then go through
    /// its queue, and status reports its queue.
    pub fn attach_listener(&self, processor: &Arc<Processor>) {
        let _ = self.listener.set(Arc::downgrade(processor));
    }

    pub fn listener(&self) -> Option<Arc<Processor>> {
        self.listener.get().and_then(Weak::upgrade)
    }

    /// The major version of Odoo, when this host is connected to it.
    pub async fn odoo_major(&self) -> Option<u32> {
        let odoo = self.odoo.lock().await;
        odoo.as_ref().map(|client| client.version().major)
    }

    async fn odoo(&self) -> Result<OdooClient> {
        let mut slot = self.odoo.lock().await;
        if let Some(client) = slot.as_ref() {
            return Ok(client.clone());
        }
        let settings = self.settings().odoo()?;
        let client = OdooClient::connect(settings)
            .await
            .map_err(|err| match err {
                // A refused login is not a connection failure, and its own message is clear.
                OdooError::LoginFailed { .. }
                | OdooError::UnknownDatabase { .. }
                | OdooError::AccessDenied { .. }
                | OdooError::InvalidApiKey => anyhow::Error::from(err),
                other => anyhow::Error::from(other).context("could not connect to Odoo"),
            })?;
        tracing::info!(version = %client.version().raw, "connected to Odoo");
        *slot = Some(client.clone());
        Ok(client)
    }

    /// Forgets the Odoo client, so that the next operation connects again.
    pub async fn forget_odoo(&self) {
        *self.odoo.lock().await = None;
    }

    /// Passes `result` through, forgetting the Odoo client when it is an error.
    async fn checked<T>(&self, result: Result<T>) -> Result<T> {
        if result.is_err() {
            self.forget_odoo().await;
        }
        result
    }

    /// Everything a run of the sync core needs, connected to Odoo.
    pub async fn context(&self, reporter: Arc<dyn Reporter>) -> Result<SyncContext<Arc<AnyStore>>> {
        let provider = self.provider().await?;
        let odoo = self.odoo().await?;
        let settings = self.settings();
        Ok(SyncContext {
            odoo,
            provider,
            bm25: self.bm25.clone(),
            store: Arc::clone(&self.store),
            archived: settings.archived,
            reporter,
            page_size: settings.page_size()?,
            embed_concurrency: DEFAULT_EMBED_CONCURRENCY,
            messages_per_lead: settings.messages_per_lead()?,
        })
    }

    fn writing_lock(&self) -> std::sync::MutexGuard<'_, Option<(String, Instant)>> {
        self.writing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the write lock for `operation`, waiting at most `wait` (`None`: as long as it
    /// takes).
    pub async fn write_lock(
        &self,
        operation: &str,
        wait: Option<Duration>,
    ) -> Result<WriteGuard<'_>, HostError> {
        let lock = match wait {
            None => self.writes.lock().await,
            Some(wait) => match tokio::time::timeout(wait, self.writes.lock()).await {
                Ok(lock) => lock,
                Err(_) => return Err(self.busy()),
            },
        };
        *self.writing_lock() = Some((operation.to_string(), Instant::now()));
        Ok(WriteGuard {
            _lock: lock,
            host: self,
        })
    }

    fn busy(&self) -> HostError {
        let (operation, seconds) = match self.writing_lock().as_ref() {
            Some((operation, since)) => (operation.clone(), since.elapsed().as_secs()),
            None => ("another write".to_string(), 0),
        };
        HostError::Busy {
            operation,
            seconds,
            pid: std::process::id(),
        }
    }

    /// Searches the live collection with this host's provider.
    pub async fn search(
        &self,
        query: &str,
        filter: SearchFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let provider = self.provider().await?;
        crate::sync::search::search(
            self.store.as_ref(),
            provider.as_ref(),
            &self.bm25,
            query,
            filter,
            limit,
        )
        .await
    }

    /// Builds the `status --json` document.
    pub async fn status(&self, deep: bool, max_lag_s: u64) -> Result<Value> {
        let queue = self.queue_report().await;
        crate::commands::status::report_with(
            &self.invocation,
            self.store.as_ref(),
            deep,
            max_lag_s,
            queue,
        )
        .await
    }

    /// Reports the webhook queue of this host's listener. With a Qdrant server it reports the
    /// queue of a listener in another process, and otherwise the queue file a listener left.
    pub async fn queue_report(&self) -> Option<QueueReport> {
        if let Some(listener) = self.listener() {
            return Some(listener.queue.report());
        }
        if matches!(self.store.as_ref(), AnyStore::Server(_)) {
            if let Some(owner) = OwnerClient::connect(self.settings()).await {
                match owner.queue().await {
                    Ok(report) => return Some(report),
                    Err(err) => {
                        tracing::warn!(error = %format!("{err:#}"), "could not read the listener's queue")
                    }
                }
            }
        }
        read_queue_file(self.settings()).await
    }

    /// Syncs leads: through the listener's queue when one runs, so that a failure is retried
    /// like a webhook's, else directly.
    pub async fn sync_records(
        &self,
        ids: &[u64],
        call: &Call,
    ) -> Result<(Summary, Vec<RecordOutcome>)> {
        if let Some(listener) = self.listener() {
            return listener.sync_now(ids, call.write_wait()).await;
        }
        let _writing = self.write_lock("a sync-record", call.write_wait()).await?;
        let ctx = self.context(Arc::clone(&call.reporter)).await?;
        self.checked(crate::sync::sync_records(&ctx, ids).await)
            .await
    }

    /// Runs an incremental sync. After a run that wrote, the listener's failed events are
    /// queued again, because Odoo responded and so they may succeed now.
    pub async fn sync_new(&self, options: &SyncNewOptions, call: &Call) -> Result<SyncNewReport> {
        let report = {
            let _writing = self.write_lock("a sync-new", call.write_wait()).await?;
            let ctx = self.context(Arc::clone(&call.reporter)).await?;
            self.checked(crate::sync::sync_new(&ctx, options).await)
                .await?
        };
        if let (Some(listener), false) = (self.listener(), options.dry_run) {
            listener.requeue_failed();
        }
        Ok(report)
    }

    /// Removes leads from the index, and their failed events from the listener's queue.
    pub async fn delete(&self, ids: &[u64], call: &Call) -> Result<(Summary, Vec<RecordOutcome>)> {
        let deleted = {
            let _writing = self.write_lock("a delete", call.write_wait()).await?;
            crate::sync::delete_records(self.store.as_ref(), ids).await?
        };
        if let Some(listener) = self.listener() {
            listener.clear_failed(ids);
        }
        Ok(deleted)
    }

    /// Builds a new index from every lead and switches to it.
    pub async fn full_rebuild(&self, keep_previous: bool, call: &Call) -> Result<Summary> {
        let _writing = self.write_lock("a full rebuild", call.write_wait()).await?;
        let ctx = self.context(Arc::clone(&call.reporter)).await?;
        self.checked(crate::sync::full_rebuild(&ctx, keep_previous).await)
            .await
    }
}

/// Reads the queue file in the collection directory, when a listener left one and no
/// process has it open.
async fn read_queue_file(settings: &Settings) -> Option<QueueReport> {
    let path = settings
        .data_dir
        .join(&settings.collection)
        .join(crate::serve::QUEUE_FILE);
    if !path.exists() {
        return None;
    }
    let opened = tokio::task::spawn_blocking(move || Queue::open(&path)).await;
    match opened {
        Ok(Ok(queue)) => Some(queue.report()),
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "could not read the webhook queue");
            None
        }
        Err(err) => {
            tracing::warn!(error = %err, "could not read the webhook queue");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::embedded::EmbeddedStore;
    use crate::output::Output;
    use crate::settings::Layers;

    /// A data directory, removed when dropped. Bind it before the host that uses it, so that
    /// it is dropped after the host.
    struct DataDir(std::path::PathBuf);

    impl Drop for DataDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Settings with a data directory of their own, and these variables.
    fn settings(name: &str, env: &[(&str, &str)]) -> (DataDir, Settings) {
        let dir = std::env::temp_dir().join(format!(
            "crm-vec-host-{name}-{}-{}",
            std::process::id(),
            crate::serve::queue::now_ms()
        ));
        let mut layers = Layers::default();
        layers
            .env
            .insert("CRM_VEC_DATA_DIR".to_string(), dir.display().to_string());
        for (name, value) in env {
            layers.env.insert(name.to_string(), value.to_string());
        }
        (DataDir(dir), Settings::resolve(&layers).unwrap())
    }

    fn invocation(settings: Settings) -> Invocation {
        let output = Output {
            json: false,
            quiet: true,
            color_stdout: false,
            color_stderr: false,
            progress: false,
        };
        Invocation { settings, output }
    }

    /// Creates a host on an empty embedded index in a directory of its own.
    fn host(name: &str) -> (DataDir, IndexHost) {
        let (dir, settings) = settings(name, &[]);
        let store =
            EmbeddedStore::open(&settings.data_dir, &settings.collection, Duration::ZERO).unwrap();
        (
            dir,
            IndexHost::new(invocation(settings), AnyStore::Embedded(store)),
        )
    }

    /// Creates a host on a Qdrant server that is never contacted.
    fn server_host(settings: &Settings) -> IndexHost {
        let qdrant = settings.qdrant().unwrap().unwrap();
        let store = crate::index::server::ServerStore::open(qdrant, &settings.collection).unwrap();
        IndexHost::new(invocation(settings.clone()), AnyStore::Server(store))
    }

    #[tokio::test]
    async fn server_queue_comes_from_the_listener() {
        let (_dir, settings) = settings("server-queue", &[("QDRANT_URL", "http://127.0.0.1:6334")]);
        let listening = Arc::new(server_host(&settings));
        let dir = settings.data_dir.join(&settings.collection);
        std::fs::create_dir_all(&dir).unwrap();
        // The listener keeps the queue file open, so no other process can read it.
        let queue = Queue::open(&dir.join(crate::serve::QUEUE_FILE)).unwrap();
        let event = crate::serve::queue::Incoming {
            id: 5,
            kind: crate::serve::queue::Kind::Sync,
            action: None,
            settle: Duration::from_secs(60),
        };
        queue.push(&[event]).unwrap();
        let policy = crate::serve::worker::RetryPolicy {
            settle: Duration::from_secs(2),
            not_found_window: Duration::from_secs(30),
            base: Duration::from_secs(1),
            max_attempts: 8,
        };
        let processor = Arc::new(Processor::new(queue, Arc::clone(&listening), policy));
        listening.attach_listener(&processor);
        let socket = super::super::server::OwnerSocket::open(listening, "serve").unwrap();

        let report = server_host(&settings).queue_report().await;
        socket.close().await;
        let report = report.expect("the listener's queue");
        assert_eq!(report.pending, 1);
        assert_eq!(report.failed, 0);
    }

    #[tokio::test]
    async fn busy_write_lock_names_the_write_in_progress() {
        let (_dir, host) = host("busy");
        let rebuild = host.write_lock("a full rebuild", None).await.unwrap();
        let wait = Some(Duration::from_millis(50));
        let Err(HostError::Busy { operation, pid, .. }) = host.write_lock("a delete", wait).await
        else {
            panic!("the second write got the lock");
        };
        assert_eq!(operation, "a full rebuild");
        assert_eq!(pid, std::process::id());

        drop(rebuild);
        assert!(host.write_lock("a delete", wait).await.is_ok());
    }

    #[test]
    fn writes_wait_at_least_the_minimum() {
        let call = |lock_timeout| Call {
            reporter: Arc::new(NoProgress),
            lock_timeout,
        };
        assert_eq!(
            call(Some(Duration::ZERO)).write_wait(),
            Some(MIN_WRITE_WAIT)
        );
        let long = Duration::from_secs(600);
        assert_eq!(call(Some(long)).write_wait(), Some(long));
        assert_eq!(call(None).write_wait(), None);
    }
}
