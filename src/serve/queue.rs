//! The durable event queue: one entry per lead, on disk in a redb file beside the index.
//!
//! Every change goes to an in-memory map first and then to disk through one writer thread,
//! which commits all the changes that arrived while it was busy in one transaction (group
//! commit). A webhook is answered only after its commit returned, so an accepted event survives
//! a crash or `kill -9`. Entries being processed are marked in memory only: after a crash they
//! are simply pending again.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The queue table: lead id → JSON-encoded [`Entry`].
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");

/// A settle window is stretched by new events at most up to this many settle delays after the
/// first one, so a lead written without pause is still synced regularly.
const MAX_SETTLE_STRETCH: u32 = 4;

/// What an event asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Sync,
    Delete,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Sync => "sync",
            Kind::Delete => "delete",
        }
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Pending,
    /// Out of attempts: kept and reported until a new event for the lead arrives, a sync or
    /// delete of the lead through the listener succeeds, or a successful sync-new queues it
    /// again.
    Failed,
}

/// The queued work for one lead: the events received for it, coalesced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub kind: Kind,
    pub state: State,
    /// Changes whenever an event is merged in, so a worker can tell whether the entry it
    /// processed is still the same.
    pub seq: u64,
    /// When the oldest unprocessed event of this entry arrived (Unix milliseconds).
    pub first_ms: u64,
    /// When the entry may be processed (Unix milliseconds).
    pub due_ms: u64,
    /// Failed attempts so far (transient errors).
    pub attempts: u32,
    /// Attempts that found no lead in Odoo.
    pub not_found: u32,
    pub last_error: Option<String>,
    /// The Odoo `_action` of the latest event, for logs.
    pub action: Option<String>,
    /// Events coalesced into this entry.
    pub events: u32,
}

/// One incoming event, before it is merged into the queue.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub id: u64,
    pub kind: Kind,
    pub action: Option<String>,
    /// How long the event waits before it is processed.
    pub settle: Duration,
}

/// Errors of the queue file.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("failed to open the webhook queue {path}: {message}")]
    Open { path: String, message: String },
    #[error("failed to write the webhook queue: {0}")]
    Write(String),
}

/// The queue: memory for decisions, disk for durability.
#[derive(Clone)]
pub struct Queue {
    inner: Arc<Inner>,
}

struct Inner {
    entries: Mutex<Entries>,
    writer: mpsc::Sender<Commit>,
    path: PathBuf,
}

#[derive(Default)]
struct Entries {
    map: BTreeMap<u64, Entry>,
    in_flight: HashSet<u64>,
    next_seq: u64,
}

/// A request to the writer thread: persist the current state of these leads.
struct Commit {
    ids: Vec<u64>,
    done: mpsc::Sender<Result<(), String>>,
}

/// Queue depth and failures, as `/webhook/status` and `status` show them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueueReport {
    pub pending: usize,
    pub in_flight: usize,
    pub failed: usize,
    pub oldest_pending_age_s: Option<u64>,
    pub failed_events: Vec<Value>,
}

impl QueueReport {
    /// The `queue` object and the `failed_events` list, in the keys scripts read.
    pub fn to_json(&self) -> Value {
        json!({
            "pending": self.pending,
            "in_flight": self.in_flight,
            "failed": self.failed,
            "oldest_pending_age_s": self.oldest_pending_age_s,
        })
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Queue {
    /// Opens (or creates) the queue file and loads its entries.
    pub fn open(path: &Path) -> Result<Queue, QueueError> {
        let open_error = |message: String| QueueError::Open {
            path: path.display().to_string(),
            message,
        };
        let db = Database::create(path).map_err(|err| open_error(err.to_string()))?;
        let mut entries = Entries::default();
        {
            let txn = db
                .begin_write()
                .map_err(|err| open_error(err.to_string()))?;
            txn.open_table(EVENTS)
                .map_err(|err| open_error(err.to_string()))?;
            txn.commit().map_err(|err| open_error(err.to_string()))?;
            let read = db.begin_read().map_err(|err| open_error(err.to_string()))?;
            let table = read
                .open_table(EVENTS)
                .map_err(|err| open_error(err.to_string()))?;
            for row in table.iter().map_err(|err| open_error(err.to_string()))? {
                let (key, value) = row.map_err(|err| open_error(err.to_string()))?;
                match serde_json::from_slice::<Entry>(value.value()) {
                    Ok(entry) => {
                        entries.next_seq = entries.next_seq.max(entry.seq + 1);
                        entries.map.insert(key.value(), entry);
                    }
                    Err(err) => {
                        tracing::warn!(lead = key.value(), error = %err, "dropping an unreadable queue entry")
                    }
                }
            }
        }

        let (writer, commits) = mpsc::channel();
        let inner = Arc::new(Inner {
            entries: Mutex::new(entries),
            writer,
            path: path.to_path_buf(),
        });
        let weak = Arc::downgrade(&inner);
        std::thread::Builder::new()
            .name("queue-writer".to_string())
            .spawn(move || write_loop(db, commits, weak))
            .map_err(|err| open_error(err.to_string()))?;
        Ok(Queue { inner })
    }

    /// Where the queue file is.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.inner
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Merges events into the queue and returns once they are on disk.
    pub fn push(&self, events: &[Incoming]) -> Result<(), QueueError> {
        let now = now_ms();
        let ids: Vec<u64> = {
            let mut entries = self.lock();
            for event in events {
                let seq = entries.next_seq;
                entries.next_seq += 1;
                let merged = merge(entries.map.get(&event.id), event, seq, now);
                entries.map.insert(event.id, merged);
            }
            events.iter().map(|event| event.id).collect()
        };
        self.persist(ids)
    }

    /// Writes the current state of `ids` (present or removed) and waits for the commit.
    fn persist(&self, ids: Vec<u64>) -> Result<(), QueueError> {
        let (done, wait) = mpsc::channel();
        self.inner
            .writer
            .send(Commit { ids, done })
            .map_err(|_| QueueError::Write("the queue writer stopped".to_string()))?;
        match wait.recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(QueueError::Write(message)),
            Err(_) => Err(QueueError::Write("the queue writer stopped".to_string())),
        }
    }

    /// Brings every pending entry due later than `settle` from now forward to then, so that a
    /// restart with a shorter settle delay does not wait out the previous run's.
    pub fn cap_due(&self, settle: Duration) {
        let cap = now_ms() + settle.as_millis() as u64;
        let mut entries = self.lock();
        for entry in entries.map.values_mut() {
            entry.due_ms = entry.due_ms.min(cap);
        }
    }

    /// Takes up to `limit` pending entries that are due, marking them in flight.
    pub fn take_due(&self, limit: usize) -> Vec<(u64, Entry)> {
        let now = now_ms();
        let mut entries = self.lock();
        let due: Vec<(u64, Entry)> = entries
            .map
            .iter()
            .filter(|(id, entry)| {
                entry.state == State::Pending
                    && entry.due_ms <= now
                    && !entries.in_flight.contains(id)
            })
            .take(limit)
            .map(|(id, entry)| (*id, entry.clone()))
            .collect();
        for (id, _) in &due {
            entries.in_flight.insert(*id);
        }
        due
    }

    /// Takes the given leads for immediate processing, whether due or not. Leads already in
    /// flight elsewhere are left out.
    pub fn take_now(&self, ids: &[u64]) -> Vec<(u64, Entry)> {
        let mut entries = self.lock();
        let mut taken = Vec::new();
        for id in ids {
            if entries.in_flight.contains(id) {
                continue;
            }
            if let Some(entry) = entries.map.get(id).cloned() {
                entries.in_flight.insert(*id);
                taken.push((*id, entry));
            }
        }
        taken
    }

    /// When the next pending entry is due, if any is waiting.
    pub fn next_due_ms(&self) -> Option<u64> {
        let entries = self.lock();
        entries
            .map
            .iter()
            .filter(|(id, entry)| entry.state == State::Pending && !entries.in_flight.contains(id))
            .map(|(_, entry)| entry.due_ms)
            .min()
    }

    /// Finishes processed entries: each is removed, rescheduled or marked failed, unless a new
    /// event arrived while it was processed, in which case it stays pending as merged. Returns
    /// whether an entry is now due earlier than it was, so that a sleeping worker must wake.
    pub fn finish(&self, results: Vec<(u64, u64, Finish)>) -> Result<bool, QueueError> {
        let now = now_ms();
        let mut earlier = false;
        let ids: Vec<u64> = {
            let mut entries = self.lock();
            for (id, seq, finish) in &results {
                entries.in_flight.remove(id);
                let Some(entry) = entries.map.get_mut(id) else {
                    continue;
                };
                if entry.seq != *seq {
                    // Newer events arrived meanwhile; they carry their own settle delay.
                    entry.attempts = 0;
                    entry.not_found = 0;
                    continue;
                }
                if let Finish::Done = finish {
                    entries.map.remove(id);
                    continue;
                }
                let due_before = entry.due_ms;
                apply_finish(entry, finish, now);
                earlier |= entry.state == State::Pending && entry.due_ms < due_before;
            }
            results.iter().map(|(id, _, _)| *id).collect()
        };
        self.persist(ids)?;
        Ok(earlier)
    }

    /// Makes every failed entry pending again, due now and with fresh attempts. Returns how
    /// many there were.
    pub fn requeue_failed(&self) -> Result<usize, QueueError> {
        let now = now_ms();
        let ids: Vec<u64> = {
            let mut entries = self.lock();
            let mut ids = Vec::new();
            for (id, entry) in entries.map.iter_mut() {
                if entry.state == State::Failed {
                    entry.state = State::Pending;
                    entry.attempts = 0;
                    entry.not_found = 0;
                    entry.due_ms = now;
                    ids.push(*id);
                }
            }
            ids
        };
        let count = ids.len();
        if count > 0 {
            self.persist(ids)?;
        }
        Ok(count)
    }

    /// Removes the failed entries of these leads; pending ones stay. Returns how many were
    /// removed.
    pub fn clear_failed(&self, ids: &[u64]) -> Result<usize, QueueError> {
        let cleared: Vec<u64> = {
            let mut entries = self.lock();
            let failed: Vec<u64> = ids
                .iter()
                .copied()
                .filter(|id| {
                    entries
                        .map
                        .get(id)
                        .is_some_and(|entry| entry.state == State::Failed)
                })
                .collect();
            for id in &failed {
                entries.map.remove(id);
            }
            failed
        };
        let count = cleared.len();
        if count > 0 {
            self.persist(cleared)?;
        }
        Ok(count)
    }

    /// Gives entries back without a decision, e.g. when processing was cut short.
    pub fn release(&self, ids: &[u64]) {
        let mut entries = self.lock();
        for id in ids {
            entries.in_flight.remove(id);
        }
    }

    /// The entry of one lead, if queued.
    pub fn get(&self, id: u64) -> Option<Entry> {
        self.lock().map.get(&id).cloned()
    }

    /// Queue depth and failures.
    pub fn report(&self) -> QueueReport {
        let now = now_ms();
        let entries = self.lock();
        let mut report = QueueReport {
            pending: 0,
            in_flight: entries.in_flight.len(),
            failed: 0,
            oldest_pending_age_s: None,
            failed_events: Vec::new(),
        };
        let mut oldest: Option<u64> = None;
        for (id, entry) in &entries.map {
            // Events still being retried are listed too, so an outage shows while it lasts.
            if entry.state == State::Failed || entry.attempts > 0 {
                report.failed_events.push(json!({
                    "id": id,
                    "kind": entry.kind.as_str(),
                    "attempts": entry.attempts,
                    "last_error": entry.last_error,
                    "retrying": entry.state == State::Pending,
                }));
            }
            match entry.state {
                State::Failed => report.failed += 1,
                State::Pending if !entries.in_flight.contains(id) => {
                    report.pending += 1;
                    oldest = Some(oldest.map_or(entry.first_ms, |o| o.min(entry.first_ms)));
                }
                State::Pending => {}
            }
        }
        report.oldest_pending_age_s = oldest.map(|first| now.saturating_sub(first) / 1000);
        report
    }
}

/// What became of a processed entry.
#[derive(Debug, Clone)]
pub enum Finish {
    Done,
    Retry {
        after: Duration,
        error: String,
        /// The lead was not found (counted apart from transient failures).
        not_found: bool,
    },
    Failed {
        error: String,
    },
}

/// Records a retry or a failure in an entry.
fn apply_finish(entry: &mut Entry, finish: &Finish, now: u64) {
    match finish {
        Finish::Done => {}
        Finish::Retry {
            after,
            error,
            not_found,
        } => {
            if *not_found {
                entry.not_found += 1;
            } else {
                entry.attempts += 1;
            }
            entry.due_ms = now + after.as_millis() as u64;
            entry.last_error = Some(error.clone());
        }
        Finish::Failed { error } => {
            entry.attempts += 1;
            entry.state = State::Failed;
            entry.last_error = Some(error.clone());
        }
    }
}

/// Merges one event into the entry already queued for its lead.
///
/// A delete wins over a sync in either order: the delete re-reads the lead after its settle
/// delay and keeps it if it still exists, which is what the sync would have done.
fn merge(existing: Option<&Entry>, event: &Incoming, seq: u64, now: u64) -> Entry {
    let settle = event.settle.as_millis() as u64;
    match existing {
        Some(entry) if entry.state == State::Pending => {
            let kind = if entry.kind == Kind::Delete || event.kind == Kind::Delete {
                Kind::Delete
            } else {
                Kind::Sync
            };
            let cap = entry.first_ms + settle * u64::from(MAX_SETTLE_STRETCH);
            Entry {
                kind,
                seq,
                due_ms: entry.due_ms.max((now + settle).min(cap)),
                action: event.action.clone().or_else(|| entry.action.clone()),
                events: entry.events.saturating_add(1),
                ..entry.clone()
            }
        }
        // A new event revives a failed entry with fresh attempts.
        _ => Entry {
            kind: event.kind,
            state: State::Pending,
            seq,
            first_ms: now,
            due_ms: now + settle,
            attempts: 0,
            not_found: 0,
            last_error: None,
            action: event.action.clone(),
            events: 1,
        },
    }
}

/// The writer thread: commits batches of changes until the queue is dropped.
fn write_loop(db: Database, commits: mpsc::Receiver<Commit>, inner: std::sync::Weak<Inner>) {
    while let Ok(first) = commits.recv() {
        let mut batch = vec![first];
        while let Ok(more) = commits.try_recv() {
            batch.push(more);
        }
        let Some(inner) = inner.upgrade() else {
            break;
        };
        let result = write_batch(&db, &inner, &batch).map_err(|err| {
            tracing::error!(error = %err, "failed to write the webhook queue");
            err
        });
        drop(inner);
        for commit in batch {
            let _ = commit.done.send(result.clone());
        }
    }
}

fn write_batch(db: &Database, inner: &Inner, batch: &[Commit]) -> Result<(), String> {
    let mut ids: Vec<u64> = batch.iter().flat_map(|c| c.ids.iter().copied()).collect();
    ids.sort_unstable();
    ids.dedup();
    // The state to write is read at commit time, so the newest state of each lead wins.
    let rows: Vec<(u64, Option<Vec<u8>>)> = {
        let entries = inner
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        ids.iter()
            .map(|id| {
                let bytes = entries
                    .map
                    .get(id)
                    .and_then(|entry| serde_json::to_vec(entry).ok());
                (*id, bytes)
            })
            .collect()
    };
    let txn = db.begin_write().map_err(|err| err.to_string())?;
    {
        let mut table = txn.open_table(EVENTS).map_err(|err| err.to_string())?;
        for (id, bytes) in &rows {
            match bytes {
                Some(bytes) => {
                    table
                        .insert(*id, bytes.as_slice())
                        .map_err(|err| err.to_string())?;
                }
                None => {
                    table.remove(*id).map_err(|err| err.to_string())?;
                }
            }
        }
    }
    txn.commit().map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incoming(id: u64, kind: Kind, settle_ms: u64) -> Incoming {
        Incoming {
            id,
            kind,
            action: Some("Send Webhook Notification(#231)".to_string()),
            settle: Duration::from_millis(settle_ms),
        }
    }

    /// A queue file in a directory of its own, removed with the directory when dropped.
    struct TempQueue(PathBuf);

    impl TempQueue {
        fn path(&self) -> PathBuf {
            self.0.join("queue.redb")
        }
    }

    impl Drop for TempQueue {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn temp_queue(name: &str) -> TempQueue {
        let dir = std::env::temp_dir().join(format!(
            "crm-vec-queue-{name}-{}-{}",
            std::process::id(),
            now_ms()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempQueue(dir)
    }

    #[test]
    fn events_for_one_lead_coalesce() {
        let first = merge(None, &incoming(7, Kind::Sync, 2000), 1, 10_000);
        let second = merge(Some(&first), &incoming(7, Kind::Sync, 2000), 2, 10_500);
        assert_eq!(second.events, 2);
        assert_eq!(second.first_ms, 10_000);
        assert_eq!(second.due_ms, 12_500);
    }

    #[test]
    fn settle_stretch_is_capped() {
        let mut entry = merge(None, &incoming(7, Kind::Sync, 1000), 1, 0);
        for (seq, now) in (1..=20).map(|n| (n + 1, n * 900)) {
            entry = merge(Some(&entry), &incoming(7, Kind::Sync, 1000), seq, now);
        }
        assert_eq!(entry.due_ms, 4000);
    }

    #[test]
    fn delete_wins_in_either_order() {
        let sync = merge(None, &incoming(7, Kind::Sync, 0), 1, 0);
        let delete = merge(Some(&sync), &incoming(7, Kind::Delete, 0), 2, 1);
        assert_eq!(delete.kind, Kind::Delete);
        let again = merge(Some(&delete), &incoming(7, Kind::Sync, 0), 3, 2);
        assert_eq!(again.kind, Kind::Delete);
    }

    #[test]
    fn entries_survive_reopening() {
        let temp = temp_queue("reopen");
        let path = temp.path();
        {
            let queue = Queue::open(&path).unwrap();
            queue
                .push(&[
                    incoming(3, Kind::Sync, 60_000),
                    incoming(4, Kind::Delete, 60_000),
                ])
                .unwrap();
        }
        // The writer thread holds the file until it sees the queue dropped.
        std::thread::sleep(Duration::from_millis(200));
        let queue = Queue::open(&path).unwrap();
        assert_eq!(queue.get(3).map(|e| e.kind), Some(Kind::Sync));
        assert_eq!(queue.get(4).map(|e| e.kind), Some(Kind::Delete));
        assert_eq!(queue.report().pending, 2);
    }

    #[test]
    fn an_entry_changed_in_flight_stays_queued() {
        let temp = temp_queue("in-flight");
        let path = temp.path();
        let queue = Queue::open(&path).unwrap();
        queue.push(&[incoming(5, Kind::Sync, 0)]).unwrap();
        let taken = queue.take_due(10);
        assert_eq!(taken.len(), 1);
        let seq = taken[0].1.seq;
        queue.push(&[incoming(5, Kind::Sync, 0)]).unwrap();
        queue.finish(vec![(5, seq, Finish::Done)]).unwrap();
        assert!(queue.get(5).is_some());
        let taken = queue.take_due(10);
        queue
            .finish(vec![(5, taken[0].1.seq, Finish::Done)])
            .unwrap();
        assert!(queue.get(5).is_none());
    }

    fn failed_retry(after_ms: u64) -> Finish {
        Finish::Retry {
            after: Duration::from_millis(after_ms),
            error: "Odoo is down".to_string(),
            not_found: false,
        }
    }

    #[test]
    fn finish_reports_an_earlier_due_time() {
        let temp = temp_queue("earlier");
        let queue = Queue::open(&temp.path()).unwrap();
        queue.push(&[incoming(5, Kind::Sync, 120_000)]).unwrap();
        let taken = queue.take_now(&[5]);
        let earlier = queue
            .finish(vec![(5, taken[0].1.seq, failed_retry(2_000))])
            .unwrap();
        assert!(earlier);
        let due_in = queue.get(5).unwrap().due_ms.saturating_sub(now_ms());
        assert!(due_in <= 2_000, "{due_in}");

        let taken = queue.take_now(&[5]);
        let later = queue
            .finish(vec![(5, taken[0].1.seq, failed_retry(60_000))])
            .unwrap();
        assert!(!later);
    }

    #[test]
    fn failed_entries_are_requeued_with_fresh_attempts() {
        let temp = temp_queue("requeue");
        let queue = Queue::open(&temp.path()).unwrap();
        queue
            .push(&[
                incoming(5, Kind::Sync, 0),
                incoming(6, Kind::Delete, 60_000),
            ])
            .unwrap();
        let taken = queue.take_now(&[5]);
        let failed = Finish::Failed {
            error: "Odoo is down".to_string(),
        };
        queue.finish(vec![(5, taken[0].1.seq, failed)]).unwrap();
        assert_eq!(queue.report().failed, 1);

        assert_eq!(queue.requeue_failed().unwrap(), 1);
        let entry = queue.get(5).unwrap();
        assert_eq!(entry.state, State::Pending);
        assert_eq!(entry.attempts, 0);
        assert!(entry.due_ms <= now_ms());
        assert_eq!(queue.report().failed, 0);
        assert_eq!(
            queue.get(6).unwrap().due_ms,
            queue.get(6).unwrap().first_ms + 60_000
        );
        assert_eq!(queue.requeue_failed().unwrap(), 0);
    }

    #[test]
    fn clearing_removes_only_failed_entries() {
        let temp = temp_queue("clear");
        let queue = Queue::open(&temp.path()).unwrap();
        queue
            .push(&[incoming(5, Kind::Sync, 0), incoming(6, Kind::Sync, 0)])
            .unwrap();
        let taken = queue.take_now(&[5]);
        let failed = Finish::Failed {
            error: "Odoo is down".to_string(),
        };
        queue.finish(vec![(5, taken[0].1.seq, failed)]).unwrap();

        assert_eq!(queue.clear_failed(&[5, 6, 7]).unwrap(), 1);
        assert!(queue.get(5).is_none());
        assert!(queue.get(6).is_some());
    }
}
