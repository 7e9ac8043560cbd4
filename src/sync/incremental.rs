//! `sync-new`: everything written in Odoo since the checkpoint, then prune and repair.
//!
//! Odoo's `write_date` is second-precise over RPC and shared by every row of a transaction,
//! and a long transaction can commit rows whose `write_date` is older than rows already read.
//! So the scan is keyed on `(write_date, id)`, starts an overlap window behind the checkpoint,
//! and relies on hash-based reuse to make re-reading free. The checkpoint moves only after
//! every write of the run has succeeded.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::document::{build_document, payload_differs};
use super::messages::{fetch_messages, leads_with_new_messages};
use super::pipeline::apply_in_place;
use super::state::{Checkpoint, RunRecord};
use super::{
    check_layout, ensure_live, format_unix, layout_for, now_rfc3339, parse_odoo_datetime, Summary,
    SyncContext,
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
    let index = ensure_live(
        &ctx.store,
        layout_for(
            ctx.provider.as_ref(),
            ctx.provider.as_ref().and_then(Provider::dimension),
        ),
    )
    .await?;
    check_layout(&index.layout(), ctx.provider.as_ref()).map_err(|message| {
        anyhow!(message)
            .context("the index does not match the embedding settings; run `crm-vec full-rebuild`")
    })?;
    let state = ctx.store.load_state().await?;
    let start = match &options.since {
        Some(since) => Some(Checkpoint {
            write_date: parse_since(since).map_err(|message| anyhow!(message))?,
            id: 0,
        }),
        None => state.checkpoint.clone(),
    };
    report.checkpoint = state.checkpoint.clone();

    let lookups = ctx.lookups().await?;
    let fields = ctx.lead_fields().await?;
    let scan_from = start
        .as_ref()
        .map(|checkpoint| behind(checkpoint, options.overlap));
    let mut position = scan_from.clone().unwrap_or(Checkpoint {
        write_date: "1970-01-01 00:00:00".to_string(),
        id: 0,
    });
    let mut newest = report.checkpoint.clone();
    let mut page_number = 1;
    ctx.reporter.start(None);
    loop {
        let page = ctx
            .odoo
            .search_read(
                "crm.lead",
                after(&position),
                &fields,
                Some("write_date asc, id asc"),
                Some(ctx.page_size.max(1)),
                0,
            )
            .await
            .with_context(|| {
                format!(
                    "could not read page {page_number} of changed leads (written after {} id {})",
                    position.write_date, position.id
                )
            })?;
        if page.is_empty() {
            break;
        }
        report.summary.fetched += page.len() as u64;
        apply_in_place(
            ctx,
            &index,
            &page,
            &lookups,
            &mut report.summary,
            options.dry_run,
        )
        .await?;
        ctx.reporter.advance(page.len() as u64);

        let last = page.last().and_then(record_position);
        match last {
            Some(last) if last > position => position = last,
            _ => break,
        }
        if newest.as_ref().is_none_or(|current| position > *current) {
            newest = Some(position.clone());
        }
        if page.len() < ctx.page_size.max(1) {
            break;
        }
        page_number += 1;
    }
    ctx.reporter.finish();

    // A new message leaves the lead's write_date alone, so leads with messages created since
    // the scan start are read again; unchanged texts cost nothing.
    if ctx.messages_per_lead > 0 {
        let since = scan_from
            .as_ref()
            .map(|start| start.write_date.clone())
            .unwrap_or_else(|| "1970-01-01 00:00:00".to_string());
        let ids = leads_with_new_messages(&ctx.odoo, &since).await?;
        for chunk in ids.chunks(READ_BATCH) {
            let records = ctx
                .odoo
                .read("crm.lead", chunk, &fields)
                .await
                .context("could not read leads with new messages")?;
            report.summary.fetched += records.len() as u64;
            apply_in_place(
                ctx,
                &index,
                &records,
                &lookups,
                &mut report.summary,
                options.dry_run,
            )
            .await?;
        }
    }

    if options.prune {
        prune_and_repair(ctx, &index, &lookups, &fields, options.dry_run, report).await?;
    }
    if options.refresh_payload {
        refresh_payloads(ctx, &index, &lookups, &fields, options.dry_run, report).await?;
    }
    if !options.dry_run {
        report.checkpoint = newest;
    }
    Ok(())
}

/// The domain of leads strictly after a position in `(write_date, id)` order.
fn after(position: &Checkpoint) -> Value {
    json!([
        "|",
        ["write_date", ">", position.write_date],
        "&",
        ["write_date", "=", position.write_date],
        ["id", ">", position.id]
    ])
}

/// The position `overlap` before a checkpoint, including every lead written in that second.
/// A zero overlap starts right after the checkpoint itself.
fn behind(checkpoint: &Checkpoint, overlap: Duration) -> Checkpoint {
    if overlap.is_zero() {
        return checkpoint.clone();
    }
    let Some(seconds) = parse_odoo_datetime(&checkpoint.write_date) else {
        return Checkpoint {
            write_date: checkpoint.write_date.clone(),
            id: 0,
        };
    };
    Checkpoint {
        write_date: format_unix(seconds - overlap.as_secs() as i64, ' ', ""),
        id: 0,
    }
}

fn record_position(record: &Map<String, Value>) -> Option<Checkpoint> {
    Some(Checkpoint {
        write_date: record.get("write_date")?.as_str()?.get(..19)?.to_string(),
        id: record.get("id")?.as_u64()?,
    })
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
    let expected = expected_ids(odoo, archived).await?;
    let indexed: HashSet<u64> = index.ids().await?.into_iter().collect();
    let mut missing: Vec<u64> = expected.difference(&indexed).copied().collect();
    let mut orphaned: Vec<u64> = indexed.difference(&expected).copied().collect();
    missing.sort_unstable();
    orphaned.sort_unstable();
    Ok((missing, orphaned))
}

async fn prune_and_repair<S: IndexStore>(
    ctx: &SyncContext<S>,
    index: &S::Index,
    lookups: &super::Lookups,
    fields: &[String],
    dry_run: bool,
    report: &mut SyncNewReport,
) -> Result<()> {
    let (missing, orphaned) = drift(&ctx.odoo, index, ctx.archived).await?;
    if !orphaned.is_empty() {
        report.pruned = orphaned.len() as u64;
        if dry_run {
            report.summary.deleted += report.pruned;
        } else {
            let removed = index.delete(orphaned.clone()).await? as u64;
            report.summary.deleted += removed;
            tracing::info!(count = removed, ids = ?orphaned, "pruned points whose lead is gone");
        }
    }
    for chunk in missing.chunks(READ_BATCH) {
        let records = ctx
            .odoo
            .read("crm.lead", chunk, fields)
            .await
            .context("could not read leads missing from the index")?;
        report.summary.fetched += records.len() as u64;
        report.repaired += records.len() as u64;
        apply_in_place(ctx, index, &records, lookups, &mut report.summary, dry_run).await?;
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
    index: &S::Index,
    lookups: &super::Lookups,
    fields: &[String],
    dry_run: bool,
    report: &mut SyncNewReport,
) -> Result<()> {
    let ids = index.ids().await?;
    let model = ctx.model_name();
    for chunk in ids.chunks(READ_BATCH) {
        let records = ctx
            .odoo
            .read("crm.lead", chunk, fields)
            .await
            .context("could not read leads to refresh their payloads")?;
        let messages = fetch_messages(&ctx.odoo, chunk, ctx.messages_per_lead).await?;
        let stored = index.retrieve(chunk.to_vec(), false).await?;
        let stored: std::collections::HashMap<u64, _> = stored
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
        report.refreshed += updates.len() as u64;
        report.summary.upserted += updates.len() as u64;
        if !dry_run && !updates.is_empty() {
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
        assert_eq!(start.write_date, "2026-11-02 08:55:00");
        assert_eq!(start.id, 0);
    }

    #[test]
    fn after_domain_is_keyset() {
        let position = Checkpoint {
            write_date: "2026-11-02 09:00:00".to_string(),
            id: 7,
        };
        assert_eq!(
            after(&position),
            json!([
                "|",
                ["write_date", ">", "2026-11-02 09:00:00"],
                "&",
                ["write_date", "=", "2026-11-02 09:00:00"],
                ["id", ">", 7]
            ])
        );
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
