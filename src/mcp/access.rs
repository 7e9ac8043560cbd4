//! Where the tools of `crm-vec mcp` run: on the index this process owns, or in the process
//! that owns it.
//!
//! An assistant starts `crm-vec mcp` whenever it likes, so the index may already be owned by
//! `serve` or by another assistant's `mcp`. Then the tools forward every call to that owner.
//! When no owner answers (it has exited), the next call opens the index and this process
//! becomes the owner for the rest of its life, binding the owner socket so that other commands
//! and other assistants reach it in turn.

use std::sync::{Arc, OnceLock};

use anyhow::Result;
use tokio::sync::Mutex;

use crate::commands::Invocation;
use crate::owner::host::IndexHost;
use crate::owner::server::OwnerSocket;
use crate::owner::{find_or_open, Found, Route};

/// The tools' access to the index: through its owner, or through a host in this process.
pub struct IndexAccess {
    invocation: Invocation,
    /// Set once this process owns the index.
    host: OnceLock<Arc<IndexHost>>,
    /// The owner socket of this process. Its lock also makes one call at a time try to open
    /// the index.
    socket: Mutex<Option<OwnerSocket>>,
}

impl IndexAccess {
    /// Access to a host this process owns already (`mcp --listen`), with its socket.
    pub fn owned(
        invocation: Invocation,
        host: Arc<IndexHost>,
        socket: Option<OwnerSocket>,
    ) -> IndexAccess {
        IndexAccess {
            invocation,
            host: OnceLock::from(host),
            socket: Mutex::new(socket),
        }
    }

    /// Access that looks for the owner on each call and becomes it when there is none.
    pub fn find(invocation: Invocation) -> IndexAccess {
        IndexAccess {
            invocation,
            host: OnceLock::new(),
            socket: Mutex::new(None),
        }
    }

    /// Returns the host, when this process owns the index.
    pub fn host(&self) -> Option<&Arc<IndexHost>> {
        self.host.get()
    }

    /// Decides where the next operation runs.
    pub async fn route(&self) -> Result<Route> {
        if let Some(host) = self.host.get() {
            return Ok(Route::Local(Arc::clone(host)));
        }
        let mut socket = self.socket.lock().await;
        if let Some(host) = self.host.get() {
            return Ok(Route::Local(Arc::clone(host)));
        }
        let store = match find_or_open(&self.invocation.settings).await? {
            Found::Owner(owner) => return Ok(Route::Owner(owner)),
            Found::Opened(store) => store,
        };
        let host = Arc::new(IndexHost::new(self.invocation.clone(), store));
        host.provider().await?;
        if OwnerSocket::needed(&host) {
            *socket = Some(OwnerSocket::open(Arc::clone(&host), "mcp")?);
        }
        tracing::info!("this process owns the index now; other crm-vec commands run in it");
        let _ = self.host.set(Arc::clone(&host));
        Ok(Route::Local(host))
    }

    /// Stops serving the owner socket. Call it before the process lets go of the index.
    pub async fn close(&self) {
        if let Some(socket) = self.socket.lock().await.take() {
            socket.close().await;
        }
    }
}
