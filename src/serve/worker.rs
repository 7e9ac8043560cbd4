//! Processing queued events through the sync core: settle delay, coalesced batches, retries of
//! leads Odoo does not return yet, backoff with jitter on failures.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use futures_util::FutureExt as _;
use tokio::sync::Notify;

use super::queue::{now_ms, Entry, Finish, Incoming, Kind, Queue};
use super::Shutdown;
use crate::owner::host::{HostError, IndexHost, WriteGuard};
use crate::sync::{NoProgress, RecordOutcome, RecordStatus, Summary};

/// How long a batch in progress may finish after a stop signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The Odoo `_action` logged for leads synced for a command or a tool.
const SYNC_NOW_ACTION: &str = "sync-record request";

/// The settle delay of leads synced for a command or a tool. [`Processor::sync_now`] takes
/// them at once, so the delay only matters when the write lock stayed busy: then the workers
/// sync the leads after it.
const SYNC_NOW_SETTLE: Duration = Duration::from_secs(120);

/// Leads synced together in one call of the sync core (one Odoo read, one embedding batch).
const BATCH_LIMIT: usize = 200;

/// Retry timing of the workers.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Wait after the last event of a lead before reading it.
    pub settle: Duration,
    /// How long a lead Odoo does not return is retried before it counts as gone.
    pub not_found_window: Duration,
    /// First backoff delay after a failure.
    pub base: Duration,
    /// Failed attempts before an entry is marked failed.
    pub max_attempts: u32,
}

impl RetryPolicy {
    /// Exponential backoff with jitter: about base·2ⁿ, at most five minutes, ±25 %.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exponent = attempts.min(16);
        let delay = self.base.saturating_mul(1 << exponent);
        let delay = delay.min(Duration::from_secs(300));
        let jitter = 0.75 + fastrand_unit() * 0.5;
        delay.mul_f64(jitter)
    }

    /// Delay before the next look for a lead Odoo did not return: doubling from a thirtieth of
    /// the window (1 s for the default 30 s), each at most half the window.
    pub fn not_found_delay(&self, tries: u32) -> Duration {
        let first = self.not_found_window / 30;
        first
            .saturating_mul(1 << tries.min(16))
            .min(self.not_found_window / 2)
    }
}

/// A number in [0, 1) from the clock's low bits; enough to spread retries apart.
fn fastrand_unit() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = (u64::from(nanos)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    mixed as f64 / (1u64 << 53) as f64
}

/// How a batch is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// From the queue: not-found leads are retried, deletes re-check Odoo.
    Queued,
    /// For `?wait=true` and commands handed over by other processes: at once, one attempt.
    Immediate,
}

/// What happened to one lead of a batch.
#[derive(Debug, Clone)]
pub struct LeadResult {
    pub id: u64,
    pub kind: Kind,
    /// `synced`, `unchanged`, `archived`, `not_found`, `deleted`, `absent`, `kept` or `error`.
    pub status: &'static str,
    /// The sync core's status for the lead, when the core got that far.
    pub outcome: Option<RecordStatus>,
    pub error: Option<String>,
}

/// The outcome of one processed batch.
pub struct BatchReport {
    pub results: Vec<LeadResult>,
    pub summary: Summary,
    /// The error that failed the whole batch (Odoo unreachable, say), if any.
    pub error: Option<anyhow::Error>,
}

/// The webhook queue and the host its events are processed on.
pub struct Processor {
    pub queue: Queue,
    pub host: Arc<IndexHost>,
    pub policy: RetryPolicy,
    /// Woken when events arrive or an entry falls due earlier than the worker planned for.
    pub wake: Notify,
}

impl Processor {
    pub fn new(queue: Queue, host: Arc<IndexHost>, policy: RetryPolicy) -> Processor {
        Processor {
            queue,
            host,
            policy,
            wake: Notify::new(),
        }
    }

    /// The worker loop: processes due entries until `stop` is notified. Each batch holds the
    /// host's write lock, taken before the batch is, so that a lead is never in flight while
    /// another write holds the lock. An interrupted batch stays in the queue on disk.
    pub async fn run(self: Arc<Self>, stop: Arc<Shutdown>) {
        loop {
            let writing = tokio::select! {
                writing = self.host.write_lock("a webhook batch", None) => writing,
                _ = stop.wait() => return,
            };
            let Ok(writing) = writing else { continue };
            let batch = self.queue.take_due(BATCH_LIMIT);
            if !batch.is_empty() {
                let work = self.process(batch, Mode::Queued, &writing);
                tokio::pin!(work);
                tokio::select! {
                    _ = &mut work => {}
                    _ = stop.wait() => {
                        // Finish the batch in hand if it is quick; otherwise it stays queued.
                        let _ = tokio::time::timeout(SHUTDOWN_GRACE, work).await;
                        return;
                    }
                }
                continue;
            }
            drop(writing);
            let sleep = match self.queue.next_due_ms() {
                Some(due) => Duration::from_millis(due.saturating_sub(now_ms()).max(5)),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = self.wake.notified() => {}
                _ = stop.wait() => return,
            }
        }
    }

    /// Processes a batch of taken entries and records the outcome of each in the queue. The
    /// caller holds the host's write lock (`_writing`).
    pub async fn process(
        &self,
        batch: Vec<(u64, Entry)>,
        mode: Mode,
        _writing: &WriteGuard<'_>,
    ) -> BatchReport {
        let started = Instant::now();
        // A panic fails this batch like any error, so its entries are retried and the worker
        // keeps running.
        let outcome = match AssertUnwindSafe(self.run_core(&batch, mode))
            .catch_unwind()
            .await
        {
            Ok(outcome) => outcome,
            Err(panic) => Err(anyhow::anyhow!(
                "the sync stopped on an internal error: {}",
                panic_message(panic.as_ref())
            )),
        };
        let elapsed = started.elapsed();
        let (results, finishes, mut summary, error) = match outcome {
            Ok((outcomes, summary)) => {
                let (results, finishes) = self.judge(&batch, &outcomes, mode);
                (results, finishes, summary, None)
            }
            Err(err) => {
                self.host.forget_odoo().await;
                let (results, finishes) = self.judge_failure(&batch, &format!("{err:#}"), mode);
                let summary = Summary {
                    failed: batch.len() as u64,
                    ..Summary::default()
                };
                (results, finishes, summary, Some(err))
            }
        };
        summary.duration_ms = elapsed.as_millis() as u64;
        for (result, (_, _, finish)) in results.iter().zip(&finishes) {
            log_result(result, finish, batch_entry(&batch, result.id), elapsed);
        }
        match self.queue.finish(finishes) {
            // A failed immediate run brings its entry's due time forward to the backoff.
            Ok(true) => self.wake.notify_one(),
            Ok(false) => {}
            Err(err) => {
                tracing::error!(error = %err, "could not record processed events; they will run again")
            }
        }
        BatchReport {
            results,
            summary,
            error,
        }
    }

    /// Processes queued leads at once (no settle delay, one attempt). Waits up to `lock_wait`
    /// for the write lock (`None`: as long as it takes). Once it has the lock, no worker has
    /// any of the leads in flight.
    pub async fn process_now(
        &self,
        ids: &[u64],
        lock_wait: Option<Duration>,
    ) -> Result<BatchReport, HostError> {
        let started = Instant::now();
        let writing = self
            .host
            .write_lock("a sync of single leads", lock_wait)
            .await?;
        let batch = self.queue.take_now(ids);
        let mut report = self.process(batch, Mode::Immediate, &writing).await;
        let order = crate::sync::first_positions(ids);
        report.results.sort_by_key(|r| order.get(&r.id).copied());
        report.summary.duration_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Syncs leads for a command or a tool: through the queue, processed at once. A failure
    /// leaves the entries to the workers, which retry them after the backoff.
    pub async fn sync_now(
        self: &Arc<Self>,
        ids: &[u64],
        lock_wait: Option<Duration>,
    ) -> Result<(Summary, Vec<RecordOutcome>)> {
        let incoming: Vec<Incoming> = ids
            .iter()
            .map(|id| Incoming {
                id: *id,
                kind: Kind::Sync,
                action: Some(SYNC_NOW_ACTION.to_string()),
                // Due only after the run below has given up, so that a worker never takes
                // the lead first.
                settle: SYNC_NOW_SETTLE,
            })
            .collect();
        self.queue.push(&incoming)?;
        // A task of its own: the entries must be finished even if the caller is dropped.
        let processor = Arc::clone(self);
        let ids = ids.to_vec();
        let report = tokio::spawn(async move { processor.process_now(&ids, lock_wait).await })
            .await
            .context("the sync of single leads stopped")??;
        if let Some(err) = report.error {
            return Err(err);
        }
        let outcomes = report
            .results
            .iter()
            .filter_map(|r| r.outcome.map(|status| RecordOutcome { id: r.id, status }))
            .collect();
        Ok((report.summary, outcomes))
    }

    /// Queues the failed events again with fresh attempts, and wakes the worker for them.
    pub fn requeue_failed(&self) {
        match self.queue.requeue_failed() {
            Ok(0) => {}
            Ok(count) => {
                tracing::info!(count, "failed events queued again after a successful sync");
                self.wake.notify_one();
            }
            Err(err) => tracing::error!(error = %err, "could not queue the failed events again"),
        }
    }

    /// Drops the failed events of these leads: a command has just dealt with them.
    pub fn clear_failed(&self, ids: &[u64]) {
        match self.queue.clear_failed(ids) {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "failed events cleared by a delete"),
            Err(err) => tracing::error!(error = %err, "could not clear failed events"),
        }
    }

    /// Calls the sync core for the batch. Deletes from the queue re-read the lead like a sync,
    /// so a deletion that was rolled back in Odoo keeps the lead; immediate deletes remove the
    /// points without asking Odoo.
    async fn run_core(
        &self,
        batch: &[(u64, Entry)],
        mode: Mode,
    ) -> Result<(HashMap<u64, RecordOutcome>, Summary)> {
        let (deletes, syncs): (Vec<u64>, Vec<u64>) = match mode {
            Mode::Immediate => {
                let (deletes, syncs): (Vec<_>, Vec<_>) = batch
                    .iter()
                    .partition(|(_, entry)| entry.kind == Kind::Delete);
                (
                    deletes.into_iter().map(|(id, _)| *id).collect(),
                    syncs.into_iter().map(|(id, _)| *id).collect(),
                )
            }
            Mode::Queued => (Vec::new(), batch.iter().map(|(id, _)| *id).collect()),
        };
        let mut outcomes = HashMap::new();
        let mut summary = Summary::default();
        if !deletes.is_empty() {
            let (part, records) = crate::sync::delete_records(self.host.store(), &deletes)
                .await
                .context("could not remove the leads from the index")?;
            add_summary(&mut summary, &part);
            outcomes.extend(records.into_iter().map(|r| (r.id, r)));
        }
        if !syncs.is_empty() {
            let ctx = self.host.context(Arc::new(NoProgress)).await?;
            let (part, records) = crate::sync::sync_records(&ctx, &syncs).await?;
            add_summary(&mut summary, &part);
            outcomes.extend(records.into_iter().map(|r| (r.id, r)));
        }
        Ok((outcomes, summary))
    }

    /// Decides what becomes of each entry after the sync core answered.
    fn judge(
        &self,
        batch: &[(u64, Entry)],
        outcomes: &HashMap<u64, RecordOutcome>,
        mode: Mode,
    ) -> (Vec<LeadResult>, Vec<(u64, u64, Finish)>) {
        let mut results = Vec::new();
        let mut finishes = Vec::new();
        for (id, entry) in batch {
            let outcome = outcomes.get(id).map(|outcome| outcome.status);
            let (status, finish) = match (entry.kind, outcome) {
                (_, None) => {
                    let error = "the lead could not be turned into a point".to_string();
                    results.push(self.error_result(*id, entry.kind, &error));
                    finishes.push((*id, entry.seq, self.failure(entry, error, mode)));
                    continue;
                }
                (Kind::Sync, Some(RecordStatus::NotFound)) => {
                    let waited = Duration::from_millis(now_ms().saturating_sub(entry.first_ms));
                    if mode == Mode::Queued && waited < self.policy.not_found_window {
                        let finish = Finish::Retry {
                            after: self.policy.not_found_delay(entry.not_found),
                            error: format!("Lead ID {id} not found"),
                            not_found: true,
                        };
                        ("not_found", finish)
                    } else {
                        ("not_found", Finish::Done)
                    }
                }
                (Kind::Delete, Some(RecordStatus::NotFound)) => ("deleted", Finish::Done),
                (Kind::Delete, Some(RecordStatus::Synced | RecordStatus::Unchanged)) => {
                    ("kept", Finish::Done)
                }
                (_, Some(status)) => (status_name(status), Finish::Done),
            };
            let error = (status == "not_found").then(|| format!("Lead ID {id} not found"));
            results.push(LeadResult {
                id: *id,
                kind: entry.kind,
                status,
                outcome,
                error,
            });
            finishes.push((*id, entry.seq, finish));
        }
        (results, finishes)
    }

    /// Every entry of a batch whose sync-core call failed as a whole.
    fn judge_failure(
        &self,
        batch: &[(u64, Entry)],
        error: &str,
        mode: Mode,
    ) -> (Vec<LeadResult>, Vec<(u64, u64, Finish)>) {
        batch
            .iter()
            .map(|(id, entry)| {
                (
                    self.error_result(*id, entry.kind, error),
                    (*id, entry.seq, self.failure(entry, error.to_string(), mode)),
                )
            })
            .unzip()
    }

    fn error_result(&self, id: u64, kind: Kind, error: &str) -> LeadResult {
        LeadResult {
            id,
            kind,
            status: "error",
            outcome: None,
            error: Some(error.to_string()),
        }
    }

    /// A transient failure: retry after a backoff, or mark failed after the last attempt.
    /// Immediate processing counts as an attempt too, and leaves the entry to the workers.
    fn failure(&self, entry: &Entry, error: String, _mode: Mode) -> Finish {
        if entry.attempts + 1 >= self.policy.max_attempts {
            Finish::Failed { error }
        } else {
            Finish::Retry {
                after: self.policy.backoff(entry.attempts),
                error,
                not_found: false,
            }
        }
    }
}

fn batch_entry(batch: &[(u64, Entry)], id: u64) -> Option<&Entry> {
    batch.iter().find(|(lead, _)| *lead == id).map(|(_, e)| e)
}

fn status_name(status: RecordStatus) -> &'static str {
    match status {
        RecordStatus::Synced => "synced",
        RecordStatus::Unchanged => "unchanged",
        RecordStatus::Archived => "archived",
        RecordStatus::NotFound => "not_found",
        RecordStatus::Deleted => "deleted",
        RecordStatus::Absent => "absent",
    }
}

/// One log line per processed event, with the lead, the time it took and the Odoo action.
fn log_result(result: &LeadResult, finish: &Finish, entry: Option<&Entry>, elapsed: Duration) {
    let action = entry.and_then(|e| e.action.as_deref()).unwrap_or("-");
    let events = entry.map_or(1, |e| e.events);
    let duration_ms = elapsed.as_millis() as u64;
    let kind = result.kind.as_str();
    match finish {
        Finish::Done => tracing::info!(
            lead = result.id,
            kind,
            action,
            events,
            duration_ms,
            "event {}",
            result.status
        ),
        Finish::Retry {
            after,
            error,
            not_found,
        } => {
            let retry_in_ms = after.as_millis() as u64;
            if *not_found {
                tracing::info!(
                    lead = result.id,
                    kind,
                    action,
                    duration_ms,
                    retry_in_ms,
                    "lead not readable in Odoo yet, retrying"
                );
            } else {
                tracing::warn!(lead = result.id, kind, action, duration_ms, retry_in_ms, error = %error, "event failed, retrying");
            }
        }
        Finish::Failed { error } => tracing::error!(
            lead = result.id,
            kind,
            action,
            duration_ms,
            error = %error,
            "event failed after its last attempt"
        ),
    }
}

fn add_summary(total: &mut Summary, part: &Summary) {
    total.fetched += part.fetched;
    total.upserted += part.upserted;
    total.embedded += part.embedded;
    total.reused += part.reused;
    total.skipped += part.skipped;
    total.deleted += part.deleted;
    total.failed += part.failed;
}

/// Returns the text of a panic payload, as `panic!` builds it.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "a panic without a message"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            settle: Duration::from_secs(2),
            not_found_window: Duration::from_secs(30),
            base: Duration::from_secs(1),
            max_attempts: 8,
        }
    }

    #[test]
    fn backoff_doubles_with_jitter() {
        let policy = policy();
        for attempts in 0..5 {
            let delay = policy.backoff(attempts).as_secs_f64();
            let nominal = f64::from(1u32 << attempts);
            assert!(
                delay >= nominal * 0.75 && delay <= nominal * 1.25,
                "{delay} for {attempts}"
            );
        }
        assert!(policy.backoff(30) <= Duration::from_secs(375));
    }

    #[test]
    fn not_found_retries_span_the_window() {
        let policy = policy();
        let delays: Vec<u64> = (0..5)
            .map(|n| policy.not_found_delay(n).as_secs())
            .collect();
        assert_eq!(delays, vec![1, 2, 4, 8, 15]);
    }
}
