//! One owner for an embedded index, and how every command reaches it.
//!
//! An embedded index is opened by one process at a time: qdrant-edge locks its WAL, and the
//! store takes a lock file of its own. The process that has the index open owns it. `serve`,
//! `mcp` and `mcp --listen` keep it open for their lifetime and bind a Unix socket beside it
//! (`owner.sock`, mode 0600, served only to peers of the same user; see [`server`]). Every
//! other command first tries that socket:
//!
//! - When an owner answers, the command sends it the operation ([`protocol`]) and prints the
//!   result as if it had run the operation itself: same stdout, same exit code, the owner's
//!   error and hint rendered like a local one, progress lines driving the usual progress bar.
//! - Otherwise it opens the index, waiting up to `--lock-timeout` while another process holds
//!   it. When the holder turns out to be an owner that bound its socket meanwhile, the command
//!   goes through it after all. A holder that binds no socket (another `full-rebuild`) makes
//!   the command fail after the wait, with a message naming that process.
//!
//! Work handed to an owner runs with the owner's settings: its embedding provider, its Odoo
//! connection and its archive policy. A command's own settings only choose the index (data
//! directory and collection) and how long it waits (`--lock-timeout`).
//!
//! A plain `mcp` started while another process owns the index forwards its tools to that
//! owner, and opens the index itself (becoming the owner) on the first call after the owner has
//! gone. `serve` and `mcp --listen` need the index for themselves and refuse to start while
//! another process owns it ([`open_for_listener`]). A Qdrant server has no owner: every process
//! talks to it directly, and only a listener binds the socket, to report its queue.

pub mod client;
pub mod host;
pub mod protocol;
pub mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::de::DeserializeOwned;
use serde_json::Value;

use self::client::OwnerClient;
use self::host::{Call, IndexHost};
use self::protocol::{Operation, OwnerInfo, SyncNewRequest};
use crate::commands::Invocation;
use crate::index::any::AnyStore;
use crate::index::embedded::EmbeddedStore;
use crate::index::server::ServerStore;
use crate::index::{IndexError, SearchFilter};
use crate::settings::Settings;
use crate::sync::search::SearchHit;
use crate::sync::{RecordOutcome, Summary, SyncNewOptions, SyncNewReport};

/// Name of the owner socket in the collection directory.
pub const SOCKET_FILE: &str = "owner.sock";

/// How long a command keeps looking for the owner socket of a process that has just taken the
/// index lock, even with `--lock-timeout 0`: an owner binds it right after opening the index.
const OWNER_BIND_GRACE: Duration = Duration::from_millis(500);

/// Interval between two attempts to open a locked index.
const LOCK_POLL: Duration = Duration::from_millis(100);

/// Returns the path of the owner socket of the index these settings name.
pub fn socket_path(settings: &Settings) -> PathBuf {
    settings
        .data_dir
        .join(&settings.collection)
        .join(SOCKET_FILE)
}

/// The result of looking for an index: its owner, or the index itself, opened.
pub enum Found {
    Owner(OwnerClient),
    Opened(AnyStore),
}

/// Finds the owner of the index, or opens the index when it has none.
pub async fn find_or_open(settings: &Settings) -> Result<Found> {
    if let Some(qdrant) = settings.qdrant()? {
        let store = ServerStore::open(qdrant, &settings.collection)?;
        return Ok(Found::Opened(AnyStore::Server(store)));
    }
    let deadline = Instant::now() + settings.lock_timeout.max(OWNER_BIND_GRACE);
    let mut waiting = false;
    loop {
        if let Some(owner) = OwnerClient::connect(settings).await {
            return Ok(Found::Owner(owner));
        }
        match open_embedded(settings, Duration::ZERO).await {
            Err(IndexError::Locked { holder, .. }) if Instant::now() < deadline => {
                if !waiting && !settings.lock_timeout.is_zero() {
                    tracing::info!(
                        holder = %holder.trim(),
                        timeout_ms = settings.lock_timeout.as_millis() as u64,
                        "index is locked by another process, waiting"
                    );
                }
                waiting = true;
                tokio::time::sleep(LOCK_POLL).await;
            }
            opened => return Ok(Found::Opened(AnyStore::Embedded(opened?))),
        }
    }
}

async fn open_embedded(settings: &Settings, wait: Duration) -> Result<EmbeddedStore, IndexError> {
    let (data_dir, collection) = (settings.data_dir.clone(), settings.collection.clone());
    tokio::task::spawn_blocking(move || EmbeddedStore::open(&data_dir, &collection, wait))
        .await
        .map_err(|err| IndexError::Engine(format!("could not open the index: {err}")))?
}

/// Another process owns the index that a listener (`serve`, `mcp --listen`) needs for itself.
#[derive(Debug, thiserror::Error)]
#[error("{locked}")]
pub struct IndexTaken {
    /// The lock error, which names the owner's pid and command line.
    locked: String,
    owner: Option<OwnerInfo>,
    /// The command that could not start.
    command: &'static str,
}

impl IndexTaken {
    pub fn hint(&self) -> String {
        let owner_listens = self.owner.as_ref().is_some_and(|owner| owner.listener);
        match (self.command, owner_listens) {
            ("serve", false) => "that process serves the other crm-vec commands but no webhooks; \
                start the assistant's server as `crm-vec mcp --listen 127.0.0.1:3000` instead of \
                running serve beside it, or close it first (--lock-timeout waits for it to exit)"
                .to_string(),
            ("serve", true) => "that process already receives this index's webhooks: one \
                listener per index. Stop it first, or set CRM_VEC_DATA_DIR to another directory \
                for a separate index"
                .to_string(),
            (_, true) => "that process already receives this index's webhooks: one listener per \
                index. Drop --listen to let the assistant's tools run in it, or stop it first"
                .to_string(),
            (_, false) => "close the other assistant session (or give its `crm-vec mcp` the \
                --listen), or drop --listen here: the tools then run in that process"
                .to_string(),
        }
    }
}

/// Opens the index for a process that needs it for itself: `serve` and `mcp --listen`. Waits
/// up to `--lock-timeout` for a holder to exit, and fails with [`IndexTaken`] when the holder
/// is an owner that will not.
pub async fn open_for_listener(settings: &Settings, command: &'static str) -> Result<AnyStore> {
    if let Some(qdrant) = settings.qdrant()? {
        return Ok(AnyStore::Server(ServerStore::open(
            qdrant,
            &settings.collection,
        )?));
    }
    match open_embedded(settings, settings.lock_timeout).await {
        Ok(store) => Ok(AnyStore::Embedded(store)),
        Err(locked @ IndexError::Locked { .. }) => match OwnerClient::connect(settings).await {
            Some(owner) => Err(IndexTaken {
                locked: locked.to_string(),
                owner: owner.describe().await.ok(),
                command,
            }
            .into()),
            None => Err(locked.into()),
        },
        Err(err) => Err(err.into()),
    }
}

/// The place an operation runs: a host in this process, or the process that owns the index.
pub enum Route {
    Local(Arc<IndexHost>),
    Owner(OwnerClient),
}

impl Route {
    /// Finds the route of a command: its owner, or a host on the index opened here.
    pub async fn for_command(invocation: &Invocation) -> Result<Route> {
        Ok(match find_or_open(&invocation.settings).await? {
            Found::Owner(owner) => Route::Owner(owner),
            Found::Opened(store) => {
                Route::Local(Arc::new(IndexHost::new(invocation.clone(), store)))
            }
        })
    }

    pub async fn search(
        self,
        query: &str,
        filter: SearchFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        match self {
            Route::Local(host) => host.search(query, filter, limit).await,
            Route::Owner(owner) => {
                let query = query.to_string();
                let operation = Operation::Search {
                    query,
                    filter,
                    limit,
                };
                remote(owner, operation, &Call::unbounded()).await
            }
        }
    }

    pub async fn status(self, deep: bool, max_lag_s: u64) -> Result<Value> {
        match self {
            Route::Local(host) => host.status(deep, max_lag_s).await,
            Route::Owner(owner) => {
                let operation = Operation::Status { deep, max_lag_s };
                remote(owner, operation, &Call::unbounded()).await
            }
        }
    }

    pub async fn sync_records(
        self,
        ids: &[u64],
        call: &Call,
    ) -> Result<(Summary, Vec<RecordOutcome>)> {
        match self {
            Route::Local(host) => host.sync_records(ids, call).await,
            Route::Owner(owner) => {
                let ids = ids.to_vec();
                remote(owner, Operation::SyncRecord { ids }, call).await
            }
        }
    }

    pub async fn sync_new(self, options: &SyncNewOptions, call: &Call) -> Result<SyncNewReport> {
        match self {
            Route::Local(host) => host.sync_new(options, call).await,
            Route::Owner(owner) => {
                let operation = Operation::SyncNew(SyncNewRequest::from(options));
                remote(owner, operation, call).await
            }
        }
    }

    pub async fn delete(self, ids: &[u64], call: &Call) -> Result<(Summary, Vec<RecordOutcome>)> {
        match self {
            Route::Local(host) => host.delete(ids, call).await,
            Route::Owner(owner) => {
                let ids = ids.to_vec();
                remote(owner, Operation::Delete { ids }, call).await
            }
        }
    }

    pub async fn full_rebuild(self, keep_previous: bool, call: &Call) -> Result<Summary> {
        match self {
            Route::Local(host) => host.full_rebuild(keep_previous, call).await,
            Route::Owner(owner) => {
                let operation = Operation::FullRebuild { keep_previous };
                remote(owner, operation, call).await
            }
        }
    }
}

/// Runs `operation` in the owner and reads its result as `T`.
async fn remote<T: DeserializeOwned>(
    owner: OwnerClient,
    operation: Operation,
    call: &Call,
) -> Result<T> {
    let lock_timeout = call.lock_timeout.unwrap_or(Duration::ZERO);
    let value = owner
        .request(operation, lock_timeout, call.reporter.as_ref())
        .await?;
    serde_json::from_value(value).map_err(|err| {
        anyhow::anyhow!("the crm-vec process that owns the index sent an invalid result: {err}")
    })
}
