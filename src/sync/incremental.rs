//! `sync-new`: everything written in Odoo since the checkpoint, then prune and repair.
//!
//! Odoo sets `write_date` to the start time of the writing transaction (`cr.now()`), so every
//! row of one transaction shares it, and a transaction that commits late brings rows older than
//! ones already read. PostgreSQL keeps it to the microsecond, while RPC returns it truncated to
//! `YYYY-MM-DD HH:MM:SS`. Domains compare the stored value: `write_date = '10:00:00'` matches no
//! row written at 10:00:00.4, `write_date > '10:00:00'` includes that row, and `order` sorts by
//! the microseconds. A truncated value is therefore useless as a keyset bound.
//!
//! So the scan reads every lead with `write_date >= start`, page by page in id order
//! (`id > last id read`), where `start` is the checkpoint's second minus the overlap window, or
//! the `--since` time as given. The new checkpoint is the newest truncated `write_date` read and
//! the greatest id read in that second, capped at the horizon: the newest `write_date` in Odoo
//! when the run began. It moves only after every write of the run has succeeded. Reading a lead
//! again costs nothing, because its text hash is unchanged and nothing is embedded or written.
//!
//! Why no change is skipped, provided every transaction commits within `overlap` of its start:
//! - A change committed before the scan reaches its id is read, since paging by id neither
//!   depends on `write_date` order nor stops inside a transaction's rows.
//! - A change committed after the run began (a lead edited behind the scan, a late commit)
//!   started after the run began minus the overlap. The horizon is older than the run, and the
//!   next run starts at the checkpoint minus the overlap, so at or before that change.
//! - A change committed before the run began but written before `start` was read by an earlier
//!   run, or by the full rebuild, which reads every lead, by the same argument.
//!
//! A transaction that stays open longer than the overlap and commits after a run began is read
//! only by a `--since` run. With `--overlap 0` that is any transaction still open when a run
//! begins.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::document::{build_document, payload_differs};
use super::messages::{fetch_messages, leads_with_new_messages};
use super::pipeline::{apply_in_place, newest_write, Applied, Destination};
use super::state::{Checkpoint, RunRecord};
use super::{
    check_layout, ensure_live, format_unix, layout_for, now_rfc3339, parse_odoo_datetime, Lookups,
    Summary, SyncContext,
};
use crate::embed::Provider;
use crate::index::{IndexStore, VectorIndex};
use crate::odoo::OdooClient;
use crate::settings::ArchivePolicy;

/// Default overlap re-read behind the checkpoint.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(5 * 60);

/// Ids read from Odoo per `read` call when repairing or refreshing payloads.
const READ_BATCH: usize = 200;

/// Options of one `sync-new` run.
#[derive(Debug, Clone)]
pub struct SyncNewOptions {
    /// How far behind the checkpoint the scan starts.
    pub overlap: Duration,
    /// Scan from this `YYYY-MM-DD HH:MM:SS` (UTC) instead of the checkpoint, for one run.
    pub since: Option<String>,
    /// Compare ids in Odoo and in the index, remove orphans and sync missing leads.
    pub prune: bool,
    /// Re-read the payload fields of every indexed lead and update those that drifted.
    pub refresh_payload: bool,
    /// Compute what would change and write nothing.
    pub dry_run: bool,
}

impl Default for SyncNewOptions {
    fn default() -> Self {
        Self {
            overlap: DEFAULT_OVERLAP,
            since: None,
            prune: true,
            refresh_payload: false,
            dry_run: false,
        }
    }
}

/// The outcome of a `sync-new` run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SyncNewReport {
    #[serde(flatten)]
    pub summary: Summary,
    /// The checkpoint after the run (unchanged by a dry run or a failure).
    pub checkpoint: Option<Checkpoint>,
    /// Points removed because their lead is gone or archived under `remove`.
    pub pruned: u64,
    /// Leads that should have been in the index but were not, now synced.
    pub repaired: u64,
    /// Payloads updated by `--refresh-payload`.
    pub refreshed: u64,
    pub dry_run: bool,
    /// The leads a dry run would change, by action; absent from a real run's report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Changes>,
}

/// The ids of the leads a run changes, by action, each ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// Leads whose text is new or changed: their point is written anew, with a new embedding
    /// when a provider is configured.
    pub embed: Vec<u64>,
    /// Leads whose payload changed but whose text did not.
    pub payload_update: Vec<u64>,
    /// Leads archived in Odoo whose points go under `CRM_VEC_ARCHIVED=remove`.
    pub remove: Vec<u64>,
    /// Points whose lead is gone from Odoo, or archived under `remove`, found by the id
    /// comparison.
    pub prune: Vec<u64>,
    /// Leads missing from the index, found by the id comparison.
    pub repair: Vec<u64>,
    /// Payloads that `--refresh-payload` updates.
    pub refresh: Vec<u64>,
}

impl Changes {
    /// Files the leads one pass of the scan applied.
    fn record(&mut self, applied: &Applied) {
        self.embed.extend(&applied.written);
        self.payload_update.extend(&applied.payload_updated);
        self.remove.extend(&applied.removed);
    }

    fn sort(&mut self) {
        for ids in [
            &mut self.embed,
            &mut self.payload_update,
            &mut self.remove,
            &mut self.prune,
            &mut self.repair,
            &mut self.refresh,
        ] {
            ids.sort_unstable();
        }
    }
}

/// The progress of one run: the report, the leads an earlier pass applied (so that a later pass
/// neither reads nor counts them again), and the changes by action.
struct Run<'a> {
    report: &'a mut SyncNewReport,
    applied: HashSet<u64>,
    changes: Changes,
}

impl Run<'_> {
    fn record(&mut self, applied: &Applied) {
        self.applied.extend(&applied.ids);
        self.changes.record(applied);
    }
}

/// Checks a `--since` value: Odoo's `YYYY-MM-DD HH:MM:SS`.
pub fn parse_since(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    match parse_odoo_datetime(trimmed) {
        Some(_) if trimmed.len() == 19 => Ok(trimmed.to_string()),
        _ => Err(format!(
            "'{text}' is not a UTC time in Odoo's format YYYY-MM-DD HH:MM:SS"
        )),
    }
}

/// Runs an incremental sync. On failure the checkpoint stays where it was, and the failed run
/// is recorded in the sync state when the index can still be written.
pub async fn sync_new<S: IndexStore>(
    ctx: &SyncContext<S>,
    options: &SyncNewOptions,
) -> Result<SyncNewReport> {
    let started = Instant::now();
    let mut report = SyncNewReport {
        dry_run: options.dry_run,
        ..SyncNewReport::default()
    };
    let result = run(ctx, options, &mut report).await;
    report.summary.duration_ms = started.elapsed().as_millis() as u64;

    if !options.dry_run {
        if let Ok(mut state) = ctx.store.load_state().await {
            let ok = result.is_ok();
            let mut summary = serde_json::to_value(&report).unwrap_or_else(|_| json!({}));
            if let (Err(err), Some(object)) = (&result, summary.as_object_mut()) {
                object.insert("error".into(), json!(format!("{err:#}")));
            }
            if ok {
                state.checkpoint = report.checkpoint.clone();
            }
            state.last_sync_new = Some(RunRecord {
                at: now_rfc3339(),
                ok,
                summary,
            });
            let saved = ctx.store.save_state(&state).await;
            if let (Ok(()), Err(err)) = (&result, saved) {
                return Err(anyhow::Error::new(err).context("could not store the new checkpoint"));
            }
        }
    }
    result.map(|()| report)
}

async fn run<S: IndexStore>(
    ctx: &SyncContext<S>,
    options: &SyncNewOptions,
    report: &mut SyncNewReport,
) -> Result<()> {
    let index = open_index(ctx, options.dry_run).await?;
    let destination = match &index {
        Some(index) if !options.dry_run => Destination::Write(index),
        index => Destination::DryRun(index.as_ref()),
    };
    let state = ctx.store.load_state().await?;
    report.checkpoint = state.checkpoint.clone();
    let start = match &options.since {
        Some(since) => Some(parse_since(since).map_err(|message| anyhow!(message))?),
        None => state
            .checkpoint
            .as_ref()
            .and_then(|checkpoint| behind(checkpoint, options.overlap)),
    };

    let lookups = ctx.lookups().await?;
    let fields = ctx.lead_fields().await?;
    let horizon = newest_write(&ctx.odoo).await?;
    let mut run = Run {
        report,
        applied: HashSet::new(),
        changes: Changes::default(),
    };
    let scan = Scan {
        start: start.as_deref(),
        horizon: horizon.as_ref(),
        fields: &fields,
        lookups: &lookups,
    };
    let newest = scan_changes(ctx, &scan, destination, &mut run).await?;

    // A new message leaves the lead's write_date alone, so leads with messages created since
    // the scan start are read again. Without a start, the scan has read every lead already.
    if let (Some(start), true) = (start.as_deref(), ctx.messages_per_lead > 0) {
        sync_leads_with_new_messages(ctx, start, &fields, &lookups, destination, &mut run).await?;
    }
    if options.prune {
        prune_and_repair(ctx, destination, &fields, &lookups, &mut run).await?;
    }
    if options.refresh_payload {
        refresh_payloads(ctx, destination, &fields, &lookups, &mut run).await?;
    }

    let Run {
        report, changes, ..
    } = run;
    if options.dry_run {
        let mut changes = changes;
        changes.sort();
        report.changes = Some(changes);
    } else {
        report.checkpoint = report.checkpoint.take().max(newest);
    }
    Ok(())
}

/// Opens the live collection, creating an empty one first, except in a dry run, which writes
/// nothing and treats a missing collection as empty.
async fn open_index<S: IndexStore>(
    ctx: &SyncContext<S>,
    dry_run: bool,
) -> Result<Option<S::Index>> {
    let index = if dry_run {
        ctx.store.open_live().await?
    } else {
        let layout = layout_for(
            ctx.provider.as_ref(),
            ctx.provider.as_ref().and_then(Provider::dimension),
        );
        Some(ensure_live(&ctx.store, layout).await?)
    };
    if let Some(index) = &index {
        check_layout(&index.layout(), ctx.provider.as_ref()).map_err(|message| {
            anyhow!(message).context(
                "the index does not match the embedding settings; run `crm-vec full-rebuild`",
            )
        })?;
    }
    Ok(index)
}

/// The bounds of a scan: where it starts and how far its checkpoint may go.
struct Scan<'a> {
    /// Leads written at or after this `YYYY-MM-DD HH:MM:SS` are read; `None` reads every lead.
    start: Option<&'a str>,
    /// The newest `(write_date, id)` in Odoo when the run began.
    horizon: Option<&'a Checkpoint>,
    fields: &'a [String],
    lookups: &'a Lookups,
}

/// Reads the leads written at or after the scan start, page by page in id order, and applies
/// them. Returns the newest position read that is not past the horizon.
async fn scan_changes<S: IndexStore>(
    ctx: &SyncContext<S>,
    scan: &Scan<'_>,
    destination: Destination<'_, S::Index>,
    run: &mut Run<'_>,
) -> Result<Option<Checkpoint>> {
    let page_size = ctx.page_size.max(1);
    let mut last_id = 0;
    let mut newest: Option<Checkpoint> = None;
    ctx.reporter.start(None);
    for page_number in 1.. {
        let page = ctx
            .odoo
            .search_read(
                "crm.lead",
                scan_domain(scan.start, last_id),
                scan.fields,
                Some("id asc"),
                Some(page_size),
                0,
            )
            .await
            .with_context(|| {
                format!(
                    "could not read page {page_number} of changed leads (written since {}, \
                     ids after {last_id})",
                    scan.start.unwrap_or("the beginning")
                )
            })?;
        let positions: Vec<Checkpoint> = page.iter().filter_map(record_position).collect();
        let within_horizon = positions
            .iter()
            .filter(|position| {
                scan.horizon
                    .is_some_and(|horizon| position.write_date <= horizon.write_date)
            })
            .max();
        newest = newest.max(within_horizon.cloned());

        run.report.summary.fetched += page.len() as u64;
        let applied = apply_in_place(
            ctx,
            destination,
            &page,
            scan.lookups,
            &mut run.report.summary,
        )
        .await?;
        run.record(&applied);
        ctx.reporter.advance(page.len() as u64);

        match applied.ids.iter().copied().max() {
            Some(max_id) if max_id > last_id && page.len() == page_size => last_id = max_id,
            _ => break,
        }
    }
    ctx.reporter.finish();
    Ok(newest)
}

/// Builds the domain of one scan page: leads written at or after `start`, with ids after
/// `last_id`.
fn scan_domain(start: Option<&str>, last_id: u64) -> Value {
    match start {
        Some(start) => json!([["write_date", ">=", start], ["id", ">", last_id]]),
        None => json!([["id", ">", last_id]]),
    }
}

/// Returns the second `overlap` before a checkpoint, where the scan starts, or `None` (scan
/// every lead) when the stored checkpoint is not a valid time.
fn behind(checkpoint: &Checkpoint, overlap: Duration) -> Option<String> {
    let Some(seconds) = parse_odoo_datetime(&checkpoint.write_date) else {
        tracing::warn!(
            checkpoint = %checkpoint.write_date,
            "the stored checkpoint is not a valid time; reading every lead"
        );
        return None;
    };
    Some(format_unix(seconds - overlap.as_secs() as i64, ' ', ""))
}

/// Returns a lead's position in `(write_date, id)` order, with `write_date` as RPC sends it.
fn record_position(record: &Map<String, Value>) -> Option<Checkpoint> {
    Some(Checkpoint {
        write_date: record.get("write_date")?.as_str()?.get(..19)?.to_string(),
        id: record.get("id")?.as_u64()?,
    })
}

/// Reads and applies the leads with chatter messages created since `start` that the scan has
/// not applied already.
async fn sync_leads_with_new_messages<S: IndexStore>(
    ctx: &SyncContext<S>,
    start: &str,
    fields: &[String],
    lookups: &Lookups,
    destination: Destination<'_, S::Index>,
    run: &mut Run<'_>,
) -> Result<()> {
    let ids: Vec<u64> = leads_with_new_messages(&ctx.odoo, start)
        .await?
        .into_iter()
        .filter(|id| !run.applied.contains(id))
        .collect();
    for chunk in ids.chunks(READ_BATCH) {
        let records = ctx
            .odoo
            .read("crm.lead", chunk, fields)
            .await
            .context("could not read leads with new messages")?;
        run.report.summary.fetched += records.len() as u64;
        let applied =
            apply_in_place(ctx, destination, &records, lookups, &mut run.report.summary).await?;
        run.record(&applied);
    }
    Ok(())
}

/// The ids that should be in the index: active leads, plus archived ones under `keep`.
pub async fn expected_ids(odoo: &OdooClient, archived: ArchivePolicy) -> Result<HashSet<u64>> {
    let domain = match archived {
        ArchivePolicy::Remove => json!([["active", "=", true]]),
        ArchivePolicy::Keep => json!([]),
    };
    let ids = odoo
        .search("crm.lead", domain, Some("id asc"), None, 0)
        .await
        .context("could not list lead ids in Odoo")?;
    Ok(ids.into_iter().collect())
}

/// Ids missing from the index and ids in it that should not be there, both ascending.
pub async fn drift<I: VectorIndex>(
    odoo: &OdooClient,
    index: &I,
    archived: ArchivePolicy,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let indexed: HashSet<u64> = index.ids().await?.into_iter().collect();
    compare_ids(odoo, &indexed, archived).await
}

async fn compare_ids(
    odoo: &OdooClient,
    indexed: &HashSet<u64>,
    archived: ArchivePolicy,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let expected = expected_ids(odoo, archived).await?;
    let mut missing: Vec<u64> = expected.difference(indexed).copied().collect();
    let mut orphaned: Vec<u64> = indexed.difference(&expected).copied().collect();
    missing.sort_unstable();
    orphaned.sort_unstable();
    Ok((missing, orphaned))
}

/// Removes points whose lead is gone and syncs leads missing from the index. Leads an earlier
/// pass of the run applied are left out, which matters in a dry run, where they are still
/// missing, or still indexed although archived.
async fn prune_and_repair<S: IndexStore>(
    ctx: &SyncContext<S>,
    destination: Destination<'_, S::Index>,
    fields: &[String],
    lookups: &Lookups,
    run: &mut Run<'_>,
) -> Result<()> {
    let indexed: HashSet<u64> = match destination.index() {
        Some(index) => index.ids().await?.into_iter().collect(),
        None => HashSet::new(),
    };
    let (missing, orphaned) = compare_ids(&ctx.odoo, &indexed, ctx.archived).await?;
    // Nothing missing and every indexed point orphaned means that Odoo listed no lead at all.
    let odoo_lists_none = missing.is_empty() && orphaned.len() == indexed.len();
    if odoo_lists_none && !indexed.is_empty() {
        // With points in the index, Odoo is more likely broken, or the user lost access to
        // leads, than emptied, so the index is kept.
        tracing::warn!(
            indexed = indexed.len(),
            "Odoo listed no leads that belong in the index, so nothing was pruned; run \
             `crm-vec full-rebuild` if every lead really is gone"
        );
        return Ok(());
    }
    let removed: HashSet<u64> = run.changes.remove.iter().copied().collect();
    // A lead this run has just read and written is not pruned because the id list leaves it
    // out: the two results disagree, and the next run settles it.
    let orphaned: Vec<u64> = orphaned
        .into_iter()
        .filter(|id| !removed.contains(id) && !run.applied.contains(id))
        .collect();
    let missing: Vec<u64> = missing
        .into_iter()
        .filter(|id| !run.applied.contains(id))
        .collect();

    if !orphaned.is_empty() {
        run.report.pruned = orphaned.len() as u64;
        run.changes.prune.extend(&orphaned);
        match destination {
            Destination::Write(index) => {
                let deleted = index.delete(orphaned.clone()).await? as u64;
                run.report.summary.deleted += deleted;
                tracing::info!(count = deleted, ids = ?orphaned, "pruned points whose lead is gone");
            }
            Destination::DryRun(_) => run.report.summary.deleted += run.report.pruned,
        }
    }
    for chunk in missing.chunks(READ_BATCH) {
        let records = ctx
            .odoo
            .read("crm.lead", chunk, fields)
            .await
            .context("could not read leads missing from the index")?;
        run.report.summary.fetched += records.len() as u64;
        run.report.repaired += records.len() as u64;
        let applied =
            apply_in_place(ctx, destination, &records, lookups, &mut run.report.summary).await?;
        run.applied.extend(&applied.ids);
        run.changes.repair.extend(&applied.ids);
    }
    if !missing.is_empty() {
        tracing::info!(
            count = missing.len(),
            "repaired leads missing from the index"
        );
    }
    Ok(())
}

/// Updates payloads that drifted without a `write_date` change (a renamed stage, probability
/// rewritten by the lead-scoring cron). The vector and its text hash stay, so the next real
/// change of the lead re-embeds it if its text changed.
async fn refresh_payloads<S: IndexStore>(
    ctx: &SyncContext<S>,
    destination: Destination<'_, S::Index>,
    fields: &[String],
    lookups: &Lookups,
    run: &mut Run<'_>,
) -> Result<()> {
    let Some(index) = destination.index() else {
        return Ok(());
    };
    let ids = index.ids().await?;
    let model = ctx.model_name();
    for chunk in ids.chunks(READ_BATCH) {
        let records = ctx
            .odoo
            .read("crm.lead", chunk, fields)
            .await
            .context("could not read leads to refresh their payloads")?;
        let messages = fetch_messages(&ctx.odoo, chunk, ctx.messages_per_lead).await?;
        let stored: HashMap<u64, _> = index
            .retrieve(chunk.to_vec(), false)
            .await?
            .into_iter()
            .map(|point| (point.id, point.payload))
            .collect();
        let mut updates = Vec::new();
        for record in &records {
            let lead_messages = record
                .get("id")
                .and_then(Value::as_u64)
                .and_then(|id| messages.get(&id))
                .map(Vec::as_slice)
                .unwrap_or_default();
            let Some(doc) = build_document(record, lookups, lead_messages, &model) else {
                continue;
            };
            let Some(old) = stored.get(&doc.id) else {
                continue;
            };
            let mut fresh = doc.payload;
            for key in ["text_hash", "embedding_model", "indexed_at"] {
                if let Some(value) = old.get(key) {
                    fresh.insert(key.to_string(), value.clone());
                }
            }
            if payload_differs(old, &fresh) {
                super::document::stamp_indexed_at(&mut fresh, &now_rfc3339());
                updates.push((doc.id, fresh));
            }
        }
        run.report.refreshed += updates.len() as u64;
        run.report.summary.upserted += updates.len() as u64;
        run.changes
            .refresh
            .extend(updates.iter().map(|(id, _)| *id));
        if let (Destination::Write(index), false) = (destination, updates.is_empty()) {
            index.set_payloads(updates).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behind_subtracts_overlap() {
        let checkpoint = Checkpoint {
            write_date: "2026-11-02 09:00:00".to_string(),
            id: 44,
        };
        let start = behind(&checkpoint, Duration::from_secs(300));
        assert_eq!(start.as_deref(), Some("2026-11-02 08:55:00"));
        let zero = behind(&checkpoint, Duration::ZERO);
        assert_eq!(zero.as_deref(), Some("2026-11-02 09:00:00"));
    }

    #[test]
    fn invalid_checkpoint_scans_everything() {
        let checkpoint = Checkpoint {
            write_date: "garbage".to_string(),
            id: 44,
        };
        assert_eq!(behind(&checkpoint, Duration::from_secs(300)), None);
    }

    #[test]
    fn scan_domain_never_compares_equality() {
        assert_eq!(
            scan_domain(Some("2026-11-02 09:00:00"), 7),
            json!([["write_date", ">=", "2026-11-02 09:00:00"], ["id", ">", 7]])
        );
        assert_eq!(scan_domain(None, 0), json!([["id", ">", 0]]));
    }

    #[test]
    fn since_must_be_odoo_datetime() {
        assert_eq!(
            parse_since("2026-11-02 09:00:00"),
            Ok("2026-11-02 09:00:00".to_string())
        );
        for bad in [
            "2026-11-02",
            "2026-11-02T09:00:00Z",
            "yesterday",
            "2026-11-02 09:00:00.5",
        ] {
            assert!(parse_since(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn checkpoints_order_by_date_then_id() {
        let a = Checkpoint {
            write_date: "2026-11-02 09:00:00".to_string(),
            id: 50,
        };
        let b = Checkpoint {
            write_date: "2026-11-02 09:00:01".to_string(),
            id: 1,
        };
        assert!(b > a);
    }
}
