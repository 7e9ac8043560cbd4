//! Progress of sync runs as MCP progress notifications.
//!
//! A tool call that carries a progress token gets a [`ToolProgress`] reporter of its own. The
//! sync core reports into it on this host, and when the tool runs in the process that owns the
//! index, the owner's progress lines are replayed into it (see [`crate::owner::client`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::sync::Reporter;

/// Leads done so far and the total, when known.
type Update = (u64, Option<u64>);

/// A reporter that sends MCP progress notifications for one tool call.
pub struct ToolProgress {
    done: AtomicU64,
    total: AtomicU64,
    /// Closed by [`ProgressWriter::finish`], after which updates are dropped.
    updates: Mutex<Option<mpsc::UnboundedSender<Update>>>,
}

/// Writes the notifications of a [`ToolProgress`]. [`ProgressWriter::finish`] waits until
/// every notification is written, so none arrives after the tool's result.
pub struct ProgressWriter {
    progress: Arc<ToolProgress>,
    writer: JoinHandle<()>,
}

impl ToolProgress {
    /// A reporter whose notifications for `token` go to `peer`.
    ///
    /// Notifications go through a channel to one writer task, because [`Reporter`] methods are
    /// synchronous and sending a notification is an async write. The channel keeps them in
    /// order.
    pub fn attach(
        peer: Peer<RoleServer>,
        token: ProgressToken,
    ) -> (Arc<ToolProgress>, ProgressWriter) {
        let (updates, mut received) = mpsc::unbounded_channel::<Update>();
        let writer = tokio::spawn(async move {
            while let Some((done, total)) = received.recv().await {
                let mut param = ProgressNotificationParam::new(token.clone(), done as f64);
                if let Some(total) = total {
                    param = param.with_total(total as f64);
                }
                if let Err(err) = peer.notify_progress(param).await {
                    tracing::debug!("could not send a progress notification: {err}");
                    return;
                }
            }
        });
        let progress = Arc::new(ToolProgress {
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            updates: Mutex::new(Some(updates)),
        });
        let writer = ProgressWriter {
            progress: Arc::clone(&progress),
            writer,
        };
        (progress, writer)
    }

    fn send(&self) {
        let total = match self.total.load(Ordering::Relaxed) {
            0 => None,
            total => Some(total),
        };
        let update = (self.done.load(Ordering::Relaxed), total);
        let updates = self.updates.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(updates) = updates.as_ref() {
            let _ = updates.send(update);
        }
    }
}

impl ProgressWriter {
    pub async fn finish(self) {
        // Dropping the sender closes the channel, which ends the writer after the last update.
        self.progress
            .updates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let _ = self.writer.await;
    }
}

impl Reporter for ToolProgress {
    fn start(&self, total: Option<u64>) {
        // MCP wants progress to grow with every notification, so a second run within one
        // call (none does this today) continues from where the first stopped.
        let done = self.done.load(Ordering::Relaxed);
        let total = total.map_or(0, |total| done + total);
        self.total.store(total, Ordering::Relaxed);
        if done == 0 {
            self.send();
        }
    }

    fn advance(&self, count: u64) {
        if count == 0 {
            return;
        }
        self.done.fetch_add(count, Ordering::Relaxed);
        self.send();
    }

    fn finish(&self) {}
}
