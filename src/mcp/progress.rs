//! Progress of sync runs as MCP progress notifications.
//!
//! The sync context is built once and keeps one reporter, but each tool call brings its own
//! progress token (or none). So the reporter is a relay: a call that asked for progress attaches
//! a sink for its token while it runs, and the relay forwards to whatever sink is attached.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::sync::Reporter;

/// A reporter that forwards to the progress sink of the running tool call, if any.
#[derive(Default)]
pub struct ProgressRelay {
    sink: Mutex<Option<Sink>>,
}

/// The destination of the progress of one tool call.
struct Sink {
    done: AtomicU64,
    total: AtomicU64,
    updates: mpsc::UnboundedSender<(u64, Option<u64>)>,
}

/// A sink attached to the relay. [`Attached::finish`] detaches it and waits until every
/// notification is written, so none arrives after the tool's result.
pub struct Attached {
    relay: Arc<ProgressRelay>,
    writer: JoinHandle<()>,
}

impl ProgressRelay {
    /// Attaches a sink that sends notifications for `token` to `peer`.
    ///
    /// Notifications go through a channel to one writer task, because [`Reporter`] methods are
    /// synchronous and sending a notification is an async write. The channel keeps them in
    /// order.
    pub fn attach(self: &Arc<Self>, peer: Peer<RoleServer>, token: ProgressToken) -> Attached {
        let (updates, mut received) = mpsc::unbounded_channel::<(u64, Option<u64>)>();
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
        *self.lock() = Some(Sink {
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            updates,
        });
        Attached {
            relay: Arc::clone(self),
            writer,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Sink>> {
        self.sink.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn send(&self, sink: &Sink) {
        let total = match sink.total.load(Ordering::Relaxed) {
            0 => None,
            total => Some(total),
        };
        let _ = sink
            .updates
            .send((sink.done.load(Ordering::Relaxed), total));
    }
}

impl Attached {
    pub async fn finish(self) {
        // Dropping the sink closes the channel, which ends the writer after the last update.
        self.relay.lock().take();
        let _ = self.writer.await;
    }
}

impl Reporter for ProgressRelay {
    fn start(&self, total: Option<u64>) {
        // MCP wants progress to grow with every notification, so a second run within one
        // call (none does this today) continues from where the first stopped.
        if let Some(sink) = self.lock().as_ref() {
            let done = sink.done.load(Ordering::Relaxed);
            let total = total.map_or(0, |total| done + total);
            sink.total.store(total, Ordering::Relaxed);
            if done == 0 {
                self.send(sink);
            }
        }
    }

    fn advance(&self, count: u64) {
        if count == 0 {
            return;
        }
        if let Some(sink) = self.lock().as_ref() {
            sink.done.fetch_add(count, Ordering::Relaxed);
            self.send(sink);
        }
    }

    fn finish(&self) {}
}
