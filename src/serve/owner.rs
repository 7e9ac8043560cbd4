//! The owner channel: how other crm-vec processes work on the index while `serve` holds it.
//!
//! `serve` listens on a Unix socket beside the index (`serve.sock`, mode 0600, and only peers
//! of the same user are served). A command that finds the index locked asks the owner, one JSON
//! line each way:
//!
//! - `{"op": "sync", "ids": […]}` (`sync-record`): the leads go through the listener's queue
//!   and are processed at once; the answer carries each lead's outcome and the summary.
//! - `{"op": "search", "query": …, "filter": {…}, "limit": N}` (`search`): the owner searches
//!   its open index with its own provider and responds with the hits, so a search needs
//!   neither a loan nor opening the index.
//! - `{"op": "lend"}` (every other command): the owner finishes the batch in hand, closes the
//!   index and answers with its queue; the command opens the index itself and runs as usual.
//!   When the command's process ends, its connection closes and the owner opens the index
//!   again. Webhooks are still answered and queued meanwhile.
//!
//! Lending keeps the other commands' output exactly what it is without a listener, since the
//! same code prints it. `crm-vec mcp --listen` does not lend: its tools keep the index open
//! as long as the assistant is connected, so the index could not be closed for a borrower.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::{UnixListener, UnixStream};

use super::queue::{Incoming, Kind};
use super::worker::Processor;
use super::{Lending, Shutdown};
use crate::embed::Bm25;
use crate::index::any::AnyStore;
use crate::index::embedded::EmbeddedStore;
use crate::index::SearchFilter;
use crate::settings::Settings;
use crate::sync::search::SearchHit;
use crate::sync::{RecordOutcome, RecordStatus, Summary};

/// Name of the owner socket in the collection directory.
pub const SOCKET_FILE: &str = "serve.sock";

/// Largest `limit` of a search request, as `crm-vec search --limit` accepts it.
const MAX_SEARCH_LIMIT: u64 = 100;

/// How long a handed-over `sync-record` may take.
const SYNC_TIMEOUT: Duration = Duration::from_secs(120);

/// The owner socket of the index these settings name.
pub fn socket_path(settings: &Settings) -> PathBuf {
    settings
        .data_dir
        .join(&settings.collection)
        .join(SOCKET_FILE)
}

/// Binds the owner socket with mode 0600: bound under a temporary name, restricted, then
/// renamed into place, so it is never reachable with looser permissions.
pub fn bind(path: &Path) -> Result<UnixListener> {
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

/// Serves the owner socket until `stop`.
pub async fn serve(
    listener: UnixListener,
    processor: Arc<Processor>,
    lending: Lending,
    stop: Arc<Shutdown>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    if !same_user(&stream) {
                        tracing::warn!("refused an owner-socket connection from another user");
                        continue;
                    }
                    tokio::spawn(handle(stream, Arc::clone(&processor), lending));
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
    stream
        .peer_cred()
        .is_ok_and(|cred| cred.uid() == unsafe { libc::geteuid() })
}

async fn handle(stream: UnixStream, processor: Arc<Processor>, lending: Lending) {
    let (read, mut write) = stream.into_split();
    let mut reader = AsyncBufReader::new(read);
    let mut line = String::new();
    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
        return;
    }
    let request: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
    match request["op"].as_str() {
        Some("sync") => {
            let ids: Vec<u64> = request["ids"]
                .as_array()
                .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            let answer = sync(&processor, &ids).await;
            let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
        }
        Some("search") => {
            let answer = search(&processor, &request).await;
            let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
        }
        Some("lend") if lending == Lending::Refused => {
            let answer = json!({
                "ok": false,
                "error": "the index is held by `crm-vec mcp --listen`, which cannot lend it while \
                          the assistant is connected; use the MCP tools, or close the assistant \
                          and run the command again",
            });
            let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
        }
        Some("lend") => lend(&processor, reader, write).await,
        _ => {
            let answer = json!({"ok": false, "error": "unknown request"});
            let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
        }
    }
}

/// `sync-record` from another process: through the queue, processed at once.
async fn sync(processor: &Processor, ids: &[u64]) -> Value {
    let incoming: Vec<Incoming> = ids
        .iter()
        .map(|id| Incoming {
            id: *id,
            kind: Kind::Sync,
            action: Some("crm-vec sync-record".to_string()),
            // Due only when process_now gives up, so that a worker does not take the lead
            // first and leave process_now waiting for an entry that is already done.
            settle: SYNC_TIMEOUT,
        })
        .collect();
    if let Err(err) = processor.queue.push(&incoming) {
        return json!({"ok": false, "error": err.to_string()});
    }
    let (results, summary) = processor.process_now(ids, SYNC_TIMEOUT).await;
    let records: Vec<Value> = results
        .iter()
        .map(|r| json!({"id": r.id, "status": r.status, "error": r.error}))
        .collect();
    json!({"ok": true, "records": records, "summary": summary.to_json()})
}

/// A validated search request from another process.
#[derive(Debug, PartialEq)]
struct RemoteSearch {
    query: String,
    filter: SearchFilter,
    limit: usize,
}

/// Reads a search request: a query, a filter and a limit clamped to what `crm-vec search
/// --limit` accepts (10 when missing).
fn parse_search_request(request: &Value) -> Result<RemoteSearch, String> {
    let query = request["query"]
        .as_str()
        .ok_or("the search request has no query")?;
    let filter = serde_json::from_value(request["filter"].clone())
        .map_err(|err| format!("invalid search filter: {err}"))?;
    let limit = request["limit"]
        .as_u64()
        .map_or(10, |limit| limit.clamp(1, MAX_SEARCH_LIMIT)) as usize;
    Ok(RemoteSearch {
        query: query.to_string(),
        filter,
        limit,
    })
}

/// Runs a `search` of another process on the index this process has open.
async fn search(processor: &Processor, request: &Value) -> Value {
    match search_hits(processor, request).await {
        Ok(hits) => {
            tracing::info!(hits = hits.len(), "searched for another crm-vec process");
            json!({"ok": true, "hits": hits})
        }
        Err(message) => {
            tracing::warn!(error = %message, "a search for another crm-vec process failed");
            json!({"ok": false, "error": message})
        }
    }
}

async fn search_hits(processor: &Processor, request: &Value) -> Result<Vec<SearchHit>, String> {
    let request = parse_search_request(request)?;
    let slot = processor.store.read().await;
    let store = slot
        .as_ref()
        .ok_or("the index is lent to another process")?;
    crate::sync::search::search(
        store.as_ref(),
        processor.provider.as_ref(),
        &Bm25::new(),
        &request.query,
        request.filter,
        request.limit,
    )
    .await
    .map_err(|err| format!("{err:#}"))
}

/// Lends the index to another process until its connection closes.
async fn lend(
    processor: &Processor,
    mut reader: AsyncBufReader<tokio::net::unix::OwnedReadHalf>,
    mut write: tokio::net::unix::OwnedWriteHalf,
) {
    let mut slot = processor.store.write().await;
    let Some(store) = slot.take() else {
        let answer = json!({"ok": false, "error": "the index is lent to another process"});
        let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
        return;
    };
    let AnyStore::Embedded(embedded) = store.as_ref() else {
        // Only an embedded index has a lock to hand over; the socket is not bound otherwise.
        *slot = Some(store);
        let answer = json!({"ok": false, "error": "only an embedded index can be lent"});
        let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
        return;
    };
    let location = embedded.collection_dir().to_path_buf();
    // Every user of the store holds the slot's read guard, so this is the last handle and
    // dropping it releases the index lock.
    drop(store);
    tracing::info!("index lent to another crm-vec process");
    let answer = json!({"ok": true, "queue": processor.queue.report().to_json()});
    if write
        .write_all(format!("{answer}\n").as_bytes())
        .await
        .is_ok()
    {
        let mut rest = Vec::new();
        let _ = reader.read_to_end(&mut rest).await;
    }
    *slot = Some(Arc::new(AnyStore::Embedded(
        reopen(&location, &processor.settings).await,
    )));
    drop(slot);
    tracing::info!("index back from the other process");
    processor.wake.notify_one();
}

/// Opens the index again after a loan, waiting as long as another process holds it.
async fn reopen(collection_dir: &Path, settings: &Settings) -> EmbeddedStore {
    let data_dir = collection_dir
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| settings.data_dir.clone());
    loop {
        let dir = data_dir.clone();
        let collection = settings.collection.clone();
        let opened = tokio::task::spawn_blocking(move || {
            EmbeddedStore::open(&dir, &collection, Duration::from_secs(5))
        })
        .await;
        match opened {
            Ok(Ok(store)) => return store,
            Ok(Err(err)) => tracing::warn!(error = %err, "waiting to open the index again"),
            Err(err) => tracing::warn!(error = %err, "waiting to open the index again"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The queue of the owner while this process borrows its index, for `status`.
static LENT_QUEUE: Mutex<Option<Value>> = Mutex::new(None);
/// The connection that keeps a loan open until this process exits.
static LOAN: Mutex<Option<StdUnixStream>> = Mutex::new(None);

/// The owner's queue, when this process has its index on loan.
pub fn lent_queue() -> Option<Value> {
    LENT_QUEUE.lock().ok().and_then(|queue| queue.clone())
}

/// A running `serve` that owns the index, reached over its socket.
pub struct Owner {
    stream: StdUnixStream,
}

impl Owner {
    /// Connects to the owner of the index these settings name, if one listens.
    pub fn find(settings: &Settings) -> Option<Owner> {
        let stream = StdUnixStream::connect(socket_path(settings)).ok()?;
        Some(Owner { stream })
    }

    fn ask(&mut self, request: &Value) -> Result<Value> {
        let lost = || {
            anyhow!(
                "the crm-vec process that owns the index (serve, or mcp --listen) did not \
                 respond; check its log"
            )
        };
        self.stream
            .write_all(format!("{request}\n").as_bytes())
            .map_err(|_| lost())?;
        let mut line = String::new();
        BufReader::new(&self.stream)
            .read_line(&mut line)
            .map_err(|_| lost())?;
        let answer: Value = serde_json::from_str(&line).map_err(|_| lost())?;
        if answer["ok"] != json!(true) {
            let error = answer["error"].as_str().unwrap_or("unknown error");
            return Err(anyhow!(
                "the crm-vec process that owns the index (serve, or mcp --listen) rejected the \
                 request: {error}"
            ));
        }
        Ok(answer)
    }

    /// Syncs leads through the owner's queue; outcomes and summary as `sync-record` prints them.
    pub fn sync_records(mut self, ids: &[u64]) -> Result<(Summary, Vec<RecordOutcome>)> {
        let answer = self.ask(&json!({"op": "sync", "ids": ids}))?;
        let summary_json = &answer["summary"];
        let count = |key: &str| summary_json[key].as_u64().unwrap_or(0);
        let summary = Summary {
            fetched: count("fetched"),
            upserted: count("upserted"),
            embedded: count("embedded"),
            reused: count("reused"),
            skipped: count("skipped"),
            deleted: count("deleted"),
            failed: count("failed"),
            duration_ms: count("duration_ms"),
        };
        let outcomes = answer["records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|record| {
                let status = match record["status"].as_str()? {
                    "synced" => RecordStatus::Synced,
                    "unchanged" => RecordStatus::Unchanged,
                    "archived" => RecordStatus::Archived,
                    "not_found" => RecordStatus::NotFound,
                    _ => return None,
                };
                Some(RecordOutcome {
                    id: record["id"].as_u64()?,
                    status,
                })
            })
            .collect();
        Ok((summary, outcomes))
    }

    /// Searches the owner's open index. The owner embeds the query with its own provider.
    pub fn search(
        mut self,
        query: &str,
        filter: &SearchFilter,
        limit: usize,
    ) -> Result<Vec<SearchHit>> {
        let request = json!({"op": "search", "query": query, "filter": filter, "limit": limit});
        let answer = self.ask(&request)?;
        serde_json::from_value(answer["hits"].clone())
            .context("the search response of the crm-vec process that owns the index is invalid")
    }

    /// Borrows the index: the owner closes it, and this process opens it, waiting up to
    /// `wait` for the owner to let go. The loan ends when this process exits.
    pub fn lend(mut self, settings: &Settings, wait: Duration) -> Result<EmbeddedStore> {
        let answer = self.ask(&json!({"op": "lend"}))?;
        if let Ok(mut queue) = LENT_QUEUE.lock() {
            *queue = Some(answer["queue"].clone());
        }
        let store = EmbeddedStore::open(&settings.data_dir, &settings.collection, wait)?;
        if let Ok(mut loan) = LOAN.lock() {
            *loan = Some(self.stream);
        }
        Ok(store)
    }
}

/// The lead ids of this process's command line when it runs `sync-record`.
pub fn sync_record_ids() -> Option<Vec<u64>> {
    use clap::Parser as _;
    match crate::cli::Cli::try_parse_from(std::env::args_os())
        .ok()?
        .command
    {
        crate::cli::Command::SyncRecord(args) => Some(args.ids),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_request_reads_query_filter_limit() {
        let request = json!({
            "op": "search",
            "query": "chairs",
            "filter": {"stage": "Won", "min_revenue": 1000.0},
            "limit": 5,
        });
        let parsed = parse_search_request(&request).unwrap();
        assert_eq!(parsed.query, "chairs");
        assert_eq!(parsed.filter.stage.as_deref(), Some("Won"));
        assert_eq!(parsed.filter.min_revenue, Some(1000.0));
        assert_eq!(parsed.filter.salesperson, None);
        assert_eq!(parsed.limit, 5);
    }

    #[test]
    fn search_request_without_limit() {
        let parsed = parse_search_request(&json!({"query": "desks", "filter": {}})).unwrap();
        assert_eq!(parsed.filter, SearchFilter::default());
        assert_eq!(parsed.limit, 10);
    }

    #[test]
    fn search_request_limit_is_clamped() {
        for (limit, expected) in [(0, 1), (1, 1), (100, 100), (1_000_000, 100)] {
            let request = json!({"query": "q", "filter": {}, "limit": limit});
            assert_eq!(
                parse_search_request(&request).unwrap().limit,
                expected,
                "{limit}"
            );
        }
    }

    #[test]
    fn search_request_rejects_bad_input() {
        let cases = [
            (json!({}), "no query"),
            (json!({"query": 7}), "no query"),
            (json!({"query": "q"}), "invalid search filter"),
            (
                json!({"query": "q", "filter": "Won"}),
                "invalid search filter",
            ),
            (
                json!({"query": "q", "filter": {"min_revenue": "lots"}}),
                "invalid search filter",
            ),
        ];
        for (request, expected) in cases {
            let err = parse_search_request(&request).unwrap_err();
            assert!(err.contains(expected), "{request}: {err}");
        }
    }
}
