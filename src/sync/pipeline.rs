//! The runs of the sync core: full rebuild, sync of given leads, deletion.
//!
//! A full rebuild overlaps its stages: one task reads pages of leads from Odoo into a bounded
//! channel while the main loop turns each page into documents, writes the points whose vectors
//! can be reused, and hands the texts that need embedding to at most `embed_concurrency`
//! embedding tasks, each of which writes its points when its vectors arrive. Memory stays
//! bounded by the channel (two pages) and the number of embedding tasks in flight.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::document::{payload_differs, stamp_indexed_at};
use super::messages::{fetch_messages, Message};
use super::state::{Checkpoint, SyncState};
use super::{
    build_document, by_id, check_layout, ensure_live, layout_for, now_rfc3339, Document, Lookups,
    Summary, SyncContext,
};
use crate::embed::{Bm25, InputType, Provider};
use crate::index::{IndexStore, Point, StoredPoint, VectorIndex};
use crate::odoo::OdooClient;
use crate::settings::ArchivePolicy;

/// What happened to one lead in `sync-record` or `delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Written with a new or reused vector, or a payload update.
    Synced,
    /// Already current: nothing was written.
    Unchanged,
    /// Archived in Odoo and removed (or kept out) under `CRM_VEC_ARCHIVED=remove`.
    Archived,
    /// Not found in Odoo; its point, if any, was removed.
    NotFound,
    /// Removed from the index by `delete`.
    Deleted,
    /// Not in the index, so `delete` had nothing to remove.
    Absent,
}

/// The result of one lead in `sync-record` or `delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordOutcome {
    pub id: u64,
    pub status: RecordStatus,
}

/// How the points of one batch of documents are written.
enum Target {
    /// Into a new collection; points whose vector is reused are copied from `previous`.
    Fresh,
    /// Into the collection the previous points came from: unchanged points are left alone.
    InPlace,
}

/// The work one batch of documents needs.
struct Plan {
    /// Points ready to write (reused vectors, or no dense vector at all).
    ready: Vec<Point>,
    /// Payload-only updates of points whose vectors stay.
    payload_updates: Vec<(u64, Map<String, Value>)>,
    /// Documents whose text must be embedded first.
    to_embed: Vec<Document>,
    /// Ids whose points must go (archived under `remove`).
    to_remove: Vec<u64>,
    outcomes: Vec<RecordOutcome>,
    reused: u64,
    skipped: u64,
    failed: u64,
}

/// What turning records into writes depends on, besides the records.
struct Planner<'a> {
    lookups: &'a Lookups,
    /// Chatter messages of the batch's leads, newest first.
    messages: &'a HashMap<u64, Vec<Message>>,
    model: &'a str,
    provider: Option<&'a Provider>,
    archived: ArchivePolicy,
    bm25: &'a Bm25,
    /// Points of a full rebuild that did not finish, whose vectors a fresh collection may reuse
    /// when the live collection has none for the same text.
    abandoned: Option<&'a HashMap<u64, StoredPoint>>,
}

/// Turns lead records into the writes they need, given the points stored for them.
fn plan_batch(
    planner: &Planner<'_>,
    records: &[Map<String, Value>],
    previous: &HashMap<u64, StoredPoint>,
    target: &Target,
) -> Plan {
    let Planner {
        lookups,
        messages,
        model,
        provider,
        archived,
        bm25,
        abandoned,
    } = *planner;
    let mut plan = Plan {
        ready: Vec::new(),
        payload_updates: Vec::new(),
        to_embed: Vec::new(),
        to_remove: Vec::new(),
        outcomes: Vec::new(),
        reused: 0,
        skipped: 0,
        failed: 0,
    };
    let now = now_rfc3339();

    for record in records {
        let lead_messages = record
            .get("id")
            .and_then(Value::as_u64)
            .and_then(|id| messages.get(&id))
            .map(Vec::as_slice)
            .unwrap_or_default();
        let Some(mut doc) = build_document(record, lookups, lead_messages, model) else {
            plan.failed += 1;
            tracing::warn!("skipped a lead record without a valid id");
            continue;
        };
        if !doc.active && archived == ArchivePolicy::Remove {
            plan.skipped += 1;
            if previous.contains_key(&doc.id) {
                plan.to_remove.push(doc.id);
            }
            plan.outcomes.push(RecordOutcome {
                id: doc.id,
                status: RecordStatus::Archived,
            });
            continue;
        }

        let has_same_text = |point: &StoredPoint| {
            point.payload.get("text_hash").and_then(Value::as_str) == Some(doc.text_hash.as_str())
                && (provider.is_none() || point.dense.is_some())
        };
        let mut stored = previous.get(&doc.id);
        if !stored.is_some_and(has_same_text) {
            let salvaged = abandoned
                .and_then(|points| points.get(&doc.id))
                .filter(|point| has_same_text(point));
            if salvaged.is_some() {
                stored = salvaged;
            }
        }
        let same_text = stored.is_some_and(has_same_text);

        match (target, stored, same_text) {
            (Target::InPlace, Some(point), true) => {
                if payload_differs(&point.payload, &doc.payload) {
                    stamp_indexed_at(&mut doc.payload, &now);
                    plan.payload_updates.push((doc.id, doc.payload));
                    plan.outcomes.push(RecordOutcome {
                        id: doc.id,
                        status: RecordStatus::Synced,
                    });
                } else {
                    plan.outcomes.push(RecordOutcome {
                        id: doc.id,
                        status: RecordStatus::Unchanged,
                    });
                }
            }
            (Target::Fresh, Some(point), true) => {
                if provider.is_some() {
                    plan.reused += 1;
                }
                stamp_indexed_at(&mut doc.payload, &now);
                plan.ready.push(Point {
                    id: doc.id,
                    dense: point.dense.clone(),
                    sparse: bm25.embed_document(&doc.keyword_text()),
                    payload: doc.payload,
                });
                plan.outcomes.push(RecordOutcome {
                    id: doc.id,
                    status: RecordStatus::Synced,
                });
            }
            _ if provider.is_none() => {
                stamp_indexed_at(&mut doc.payload, &now);
                plan.outcomes.push(RecordOutcome {
                    id: doc.id,
                    status: RecordStatus::Synced,
                });
                plan.ready.push(Point {
                    id: doc.id,
                    dense: None,
                    sparse: bm25.embed_document(&doc.keyword_text()),
                    payload: doc.payload,
                });
            }
            _ => {
                plan.outcomes.push(RecordOutcome {
                    id: doc.id,
                    status: RecordStatus::Synced,
                });
                plan.to_embed.push(doc);
            }
        }
    }
    plan
}

/// Embeds documents and writes their points. Returns how many texts were sent.
async fn embed_and_write<I: VectorIndex>(
    provider: Provider,
    bm25: Bm25,
    index: I,
    documents: Vec<Document>,
) -> Result<u64> {
    let texts: Vec<String> = documents.iter().map(|doc| doc.text.clone()).collect();
    let now = now_rfc3339();
    let mut embedded = 0;
    let mut documents = documents.into_iter();
    for range in provider.plan_batches(&texts) {
        let batch = &texts[range.clone()];
        let vectors = provider
            .embed(batch, InputType::Document)
            .await
            .context("embedding failed")?;
        embedded += batch.len() as u64;
        let points: Vec<Point> = documents
            .by_ref()
            .take(range.len())
            .zip(vectors)
            .map(|(mut doc, vector)| {
                stamp_indexed_at(&mut doc.payload, &now);
                Point {
                    id: doc.id,
                    dense: Some(vector),
                    sparse: bm25.embed_document(&doc.keyword_text()),
                    payload: doc.payload,
                }
            })
            .collect();
        index.upsert(points).await?;
    }
    Ok(embedded)
}

/// One page of lead records with their chatter messages.
struct Page {
    records: Vec<Map<String, Value>>,
    messages: HashMap<u64, Vec<Message>>,
}

/// One page, or the error that ended the reading.
type PageResult = Result<Page>;

/// Reads every lead page by page, ordered by id, into a bounded channel.
fn spawn_page_reader(
    odoo: OdooClient,
    fields: Vec<String>,
    page_size: usize,
    messages_per_lead: usize,
) -> (mpsc::Receiver<PageResult>, tokio::task::JoinHandle<()>) {
    let (sender, receiver) = mpsc::channel(2);
    let handle = tokio::spawn(async move {
        let mut last_id = 0u64;
        let mut page_number = 1u64;
        loop {
            let domain = json!([["id", ">", last_id]]);
            let page = odoo
                .search_read(
                    "crm.lead",
                    domain,
                    &fields,
                    Some("id asc"),
                    Some(page_size),
                    0,
                )
                .await
                .with_context(|| {
                    format!("could not read page {page_number} of leads (ids after {last_id})")
                });
            let done = match &page {
                Ok(records) => {
                    let max_id = records
                        .iter()
                        .filter_map(|r| r.get("id").and_then(Value::as_u64))
                        .max();
                    match max_id {
                        Some(max_id) if max_id > last_id => {
                            last_id = max_id;
                            records.len() < page_size
                        }
                        _ => true,
                    }
                }
                Err(_) => true,
            };
            let empty = matches!(&page, Ok(records) if records.is_empty());
            let page = match page {
                Ok(records) => {
                    let ids: Vec<u64> = records
                        .iter()
                        .filter_map(|r| r.get("id").and_then(Value::as_u64))
                        .collect();
                    fetch_messages(&odoo, &ids, messages_per_lead)
                        .await
                        .with_context(|| {
                            format!("could not read the messages of page {page_number}")
                        })
                        .map(|messages| Page { records, messages })
                }
                Err(err) => Err(err),
            };
            let failed = page.is_err();
            if !empty && sender.send(page).await.is_err() {
                return;
            }
            if failed {
                return;
            }
            if done {
                return;
            }
            page_number += 1;
        }
    });
    (receiver, handle)
}

/// How far ahead of this machine's clock a lead's write_date may be and still move the
/// checkpoint, in seconds.
const FUTURE_WRITE_TOLERANCE_S: i64 = 86_400;

/// Finds the newest `(write_date, id)` in Odoo: the checkpoint a rebuild starts from, and the
/// latest checkpoint an incremental run may reach.
pub(super) async fn newest_write(odoo: &OdooClient) -> Result<Option<Checkpoint>> {
    let fields = vec!["id".to_string(), "write_date".to_string()];
    // A write_date more than a day ahead of this machine's clock (a server clock set wrong, a
    // bad import) would put the checkpoint past every later change, so it does not count.
    let latest_believable =
        super::format_unix(super::unix_now() + FUTURE_WRITE_TOLERANCE_S, ' ', "");
    let newest = odoo
        .search_read(
            "crm.lead",
            json!([["write_date", "<=", latest_believable]]),
            &fields,
            Some("write_date desc, id desc"),
            Some(1),
            0,
        )
        .await
        .context("could not read the newest lead write date")?;
    Ok(newest.first().and_then(|record| {
        Some(Checkpoint {
            write_date: record.get("write_date")?.as_str()?.to_string(),
            id: record.get("id")?.as_u64()?,
        })
    }))
}

/// Builds a new collection from every lead and makes it live atomically.
///
/// The live collection keeps serving until the new one is complete. Vectors of leads whose
/// text hash is unchanged are copied from it instead of embedded again. A failed rebuild is
/// recorded in the live collection's sync state, when there is one.
pub async fn full_rebuild<S: IndexStore>(
    ctx: &SyncContext<S>,
    keep_previous: bool,
) -> Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let result = rebuild(ctx, keep_previous, started, &mut summary).await;
    if let Err(err) = &result {
        summary.duration_ms = started.elapsed().as_millis() as u64;
        record_failed_rebuild(&ctx.store, &summary, err).await;
    }
    result.map(|()| summary)
}

/// Stores `last_full_rebuild = {at, ok: false, summary}` with the error in the summary, so that
/// `status` does not keep showing the previous rebuild's success.
async fn record_failed_rebuild<S: IndexStore>(store: &S, summary: &Summary, err: &anyhow::Error) {
    let mut record = summary.to_json();
    if let Some(object) = record.as_object_mut() {
        object.insert("error".into(), json!(format!("{err:#}")));
    }
    let saved = async {
        // Without a live collection there is no sync state to record the run in.
        if store.open_live().await?.is_none() {
            return Ok(());
        }
        let mut state = store.load_state().await?;
        state.last_full_rebuild = Some(super::state::RunRecord {
            at: now_rfc3339(),
            ok: false,
            summary: record,
        });
        store.save_state(&state).await
    };
    if let Err(save_err) = saved.await {
        tracing::warn!(error = %save_err, "could not record the failed rebuild in the sync state");
    }
}

async fn rebuild<S: IndexStore>(
    ctx: &SyncContext<S>,
    keep_previous: bool,
    started: Instant,
    summary: &mut Summary,
) -> Result<()> {
    let model = ctx.model_name();

    let previous_state = ctx.store.load_state().await.unwrap_or_default();
    let live = ctx.store.open_live().await?;
    let live = live.filter(|index| check_layout(&index.layout(), ctx.provider.as_ref()).is_ok());

    let checkpoint = newest_write(&ctx.odoo).await?;
    let total = ctx
        .odoo
        .search_count("crm.lead", json!([]))
        .await
        .context("could not count leads")?;
    let lookups = ctx.lookups().await?;
    let fields = ctx.lead_fields().await?;
    let dimension = match ctx.provider.as_ref() {
        Some(provider) => Some(resolve_dimension(provider, live.as_ref()).await?),
        None => None,
    };
    let layout = layout_for(ctx.provider.as_ref(), dimension);
    ctx.store.check_room(total, &layout)?;
    // Opened before the new staging collection, which would otherwise be the newest one.
    let abandoned = match ctx.provider {
        Some(_) => ctx.store.open_abandoned(&layout).await?,
        None => None,
    };
    let staging = ctx.store.create_staging(layout).await?;

    ctx.reporter.start(Some(total));
    let collections = Collections {
        staging: &staging,
        live: live.as_ref(),
        abandoned: abandoned.as_ref(),
    };
    let result = fill_collection(ctx, collections, &lookups, fields, &model, summary).await;
    ctx.reporter.finish();
    // Closed before the commit, which removes old generations only once they are closed.
    drop(abandoned);
    drop(live);
    result?;

    let written = staging.count().await?;
    let expected = summary.upserted;
    if written != expected {
        return Err(anyhow!(
            "the new index holds {written} points but {expected} were written; the previous \
             index stays live"
        ));
    }
    summary.duration_ms = started.elapsed().as_millis() as u64;
    let state = SyncState {
        checkpoint,
        last_full_rebuild: Some(super::state::RunRecord {
            at: now_rfc3339(),
            ok: true,
            summary: summary.to_json(),
        }),
        last_sync_new: previous_state.last_sync_new,
    };
    ctx.store.commit(staging, state, keep_previous).await?;
    Ok(())
}

/// Learns the dense dimension: configured, from the live index built with the same model, or
/// from one probe request.
async fn resolve_dimension<I: VectorIndex>(provider: &Provider, live: Option<&I>) -> Result<usize> {
    if let Some(dimension) = provider.dimension() {
        return Ok(dimension);
    }
    if let Some(dimension) = live.and_then(|index| index.layout().dense_dimension) {
        return Ok(dimension);
    }
    let probe = provider
        .embed(&["dimension probe".to_string()], InputType::Query)
        .await
        .context("could not learn the embedding dimension from the provider")?;
    probe
        .first()
        .map(Vec::len)
        .filter(|len| *len > 0)
        .ok_or_else(|| anyhow!("the embedding provider returned an empty vector"))
}

/// The collections a full rebuild reads from and writes to.
struct Collections<'a, I> {
    /// The new collection being filled.
    staging: &'a I,
    /// The live collection, whose vectors are reused for unchanged texts.
    live: Option<&'a I>,
    /// What an unfinished rebuild left behind, whose vectors are reused too.
    abandoned: Option<&'a I>,
}

async fn fill_collection<S: IndexStore>(
    ctx: &SyncContext<S>,
    collections: Collections<'_, S::Index>,
    lookups: &Lookups,
    fields: Vec<String>,
    model: &str,
    summary: &mut Summary,
) -> Result<()> {
    let (mut pages, reader) = spawn_page_reader(
        ctx.odoo.clone(),
        fields,
        ctx.page_size.max(1),
        ctx.messages_per_lead,
    );
    let mut embedding: JoinSet<Result<(u64, u64)>> = JoinSet::new();
    let concurrency = ctx.embed_concurrency.max(1);
    let Collections {
        staging,
        live,
        abandoned,
    } = collections;

    let outcome: Result<()> = async {
        while let Some(page) = pages.recv().await {
            let Page { records, messages } = match page {
                Ok(page) => page,
                Err(err) => {
                    // Vectors already paid for land in the staging collection, where the next
                    // rebuild finds them.
                    finish_embedding(&mut embedding).await;
                    return Err(err);
                }
            };
            summary.fetched += records.len() as u64;
            let ids: Vec<u64> = records
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_u64))
                .collect();
            let previous = match live {
                Some(index) => by_id(
                    index.retrieve(ids.clone(), ctx.provider.is_some()).await?,
                    |p| p.id,
                ),
                None => HashMap::new(),
            };
            let salvaged = match abandoned {
                Some(index) => Some(by_id(index.retrieve(ids, true).await?, |p| p.id)),
                None => None,
            };
            let planner = Planner {
                lookups,
                messages: &messages,
                model,
                provider: ctx.provider.as_ref(),
                archived: ctx.archived,
                bm25: &ctx.bm25,
                abandoned: salvaged.as_ref(),
            };
            let plan = plan_batch(&planner, &records, &previous, &Target::Fresh);
            summary.reused += plan.reused;
            summary.skipped += plan.skipped;
            summary.failed += plan.failed;
            let ready = plan.ready.len() as u64;
            if ready > 0 {
                staging.upsert(plan.ready).await?;
                summary.upserted += ready;
            }
            ctx.reporter.advance(ready + plan.skipped + plan.failed);

            if let Some(provider) = ctx.provider.clone() {
                if !plan.to_embed.is_empty() {
                    while embedding.len() >= concurrency {
                        let (sent, written) = join_next(&mut embedding).await?;
                        summary.embedded += sent;
                        summary.upserted += written;
                        ctx.reporter.advance(written);
                    }
                    let count = plan.to_embed.len() as u64;
                    let (bm25, index) = (ctx.bm25.clone(), staging.clone());
                    let docs = plan.to_embed;
                    embedding.spawn(async move {
                        let sent = embed_and_write(provider, bm25, index, docs).await?;
                        Ok((sent, count))
                    });
                }
            }
        }
        while !embedding.is_empty() {
            let (sent, written) = join_next(&mut embedding).await?;
            summary.embedded += sent;
            summary.upserted += written;
            ctx.reporter.advance(written);
        }
        Ok(())
    }
    .await;

    if outcome.is_err() {
        embedding.abort_all();
        reader.abort();
    }
    outcome
}

/// Waits for the embedding tasks in flight, so that their points are written, and logs the
/// ones that fail.
async fn finish_embedding(tasks: &mut JoinSet<Result<(u64, u64)>>) {
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::warn!(error = %format!("{err:#}"), "an embedding task failed"),
            Err(err) => tracing::warn!(error = %err, "an embedding task failed"),
        }
    }
}

async fn join_next(tasks: &mut JoinSet<Result<(u64, u64)>>) -> Result<(u64, u64)> {
    match tasks.join_next().await {
        Some(Ok(result)) => result,
        Some(Err(join_error)) => Err(anyhow!("an embedding task failed: {join_error}")),
        None => Ok((0, 0)),
    }
}

/// Fetches leads and writes them to the live collection; leads that are gone, or archived
/// under `CRM_VEC_ARCHIVED=remove`, are removed from it.
pub async fn sync_records<S: IndexStore>(
    ctx: &SyncContext<S>,
    ids: &[u64],
) -> Result<(Summary, Vec<RecordOutcome>)> {
    let started = Instant::now();
    let mut summary = Summary::default();
    let ids: Vec<u64> = dedup(ids);
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

    let fields = ctx.lead_fields().await?;
    let records = ctx
        .odoo
        .read("crm.lead", &ids, &fields)
        .await
        .context("could not read the leads from Odoo")?;
    // A record with an id that was not requested would overwrite another lead's point, and
    // the requested lead would look deleted, so such a result changes nothing.
    let requested: HashSet<u64> = ids.iter().copied().collect();
    let mut seen = HashSet::new();
    if let Some(record) = records.iter().find(|record| {
        let id = record.get("id").and_then(Value::as_u64);
        !id.is_some_and(|id| requested.contains(&id) && seen.insert(id))
    }) {
        bail!(
            "Odoo returned a record of id {1} for a read of {0} lead(s), which was not \
             requested or came twice; nothing was changed",
            ids.len(),
            record.get("id").cloned().unwrap_or(Value::Null)
        );
    }
    summary.fetched = records.len() as u64;
    let lookups = ctx.lookups().await?;
    let applied = apply_in_place(
        ctx,
        Destination::Write(&index),
        &records,
        &lookups,
        &mut summary,
    )
    .await?;
    let mut outcomes = applied.outcomes;

    let found: HashSet<u64> = applied.ids.into_iter().collect();
    let missing: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|id| !found.contains(id))
        .collect();
    if !missing.is_empty() {
        summary.deleted += index.delete(missing.clone()).await? as u64;
        outcomes.extend(missing.into_iter().map(|id| RecordOutcome {
            id,
            status: RecordStatus::NotFound,
        }));
    }
    let order = first_positions(&ids);
    outcomes.sort_by_key(|outcome| order.get(&outcome.id).copied());
    summary.duration_ms = started.elapsed().as_millis() as u64;
    Ok((summary, outcomes))
}

/// The collection `apply_in_place` compares records with, and whether it writes to it.
pub(crate) enum Destination<'a, I> {
    /// Compare with the live collection and write to it.
    Write(&'a I),
    /// Compare with the live collection, or with an empty one when there is none yet, and
    /// write nothing.
    DryRun(Option<&'a I>),
}

impl<'a, I> Destination<'a, I> {
    /// Returns the collection whose points are compared, if there is one.
    pub(crate) fn index(self) -> Option<&'a I> {
        match self {
            Destination::Write(index) | Destination::DryRun(Some(index)) => Some(index),
            Destination::DryRun(None) => None,
        }
    }
}

impl<I> Clone for Destination<'_, I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for Destination<'_, I> {}

/// The changes `apply_in_place` made, or would make in a dry run, by lead.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub outcomes: Vec<RecordOutcome>,
    /// Ids of the records that had a valid id.
    pub ids: Vec<u64>,
    /// Leads whose text is new or changed, so their point is written anew (and embedded when
    /// a provider is configured).
    pub written: Vec<u64>,
    /// Leads whose payload changed but whose text did not.
    pub payload_updated: Vec<u64>,
    /// Archived leads removed under `CRM_VEC_ARCHIVED=remove`.
    pub removed: Vec<u64>,
}

/// Applies lead records to the live collection in place. With [`Destination::DryRun`], the
/// summary counts what would be written, and nothing is embedded or written.
pub(crate) async fn apply_in_place<S: IndexStore>(
    ctx: &SyncContext<S>,
    destination: Destination<'_, S::Index>,
    records: &[Map<String, Value>],
    lookups: &Lookups,
    summary: &mut Summary,
) -> Result<Applied> {
    let model = ctx.model_name();
    let ids: Vec<u64> = records
        .iter()
        .filter_map(|r| r.get("id").and_then(Value::as_u64))
        .collect();
    let previous = match destination.index() {
        Some(index) => by_id(
            index.retrieve(ids.clone(), ctx.provider.is_some()).await?,
            |p| p.id,
        ),
        None => HashMap::new(),
    };
    let messages = fetch_messages(&ctx.odoo, &ids, ctx.messages_per_lead).await?;
    let planner = Planner {
        lookups,
        messages: &messages,
        model: &model,
        provider: ctx.provider.as_ref(),
        archived: ctx.archived,
        bm25: &ctx.bm25,
        abandoned: None,
    };
    let plan = plan_batch(&planner, records, &previous, &Target::InPlace);
    summary.skipped += plan.skipped;
    summary.failed += plan.failed;
    summary.upserted +=
        (plan.ready.len() + plan.payload_updates.len() + plan.to_embed.len()) as u64;
    let applied = Applied {
        written: plan
            .ready
            .iter()
            .map(|point| point.id)
            .chain(plan.to_embed.iter().map(|doc| doc.id))
            .collect(),
        payload_updated: plan.payload_updates.iter().map(|(id, _)| *id).collect(),
        removed: plan.to_remove.clone(),
        outcomes: plan.outcomes,
        ids,
    };
    let Destination::Write(index) = destination else {
        summary.embedded += plan.to_embed.len() as u64;
        summary.deleted += plan.to_remove.len() as u64;
        return Ok(applied);
    };

    if !plan.ready.is_empty() {
        index.upsert(plan.ready).await?;
    }
    if !plan.payload_updates.is_empty() {
        index.set_payloads(plan.payload_updates).await?;
    }
    if !plan.to_remove.is_empty() {
        summary.deleted += index.delete(plan.to_remove).await? as u64;
    }
    if let (Some(provider), false) = (ctx.provider.clone(), plan.to_embed.is_empty()) {
        summary.embedded +=
            embed_and_write(provider, ctx.bm25.clone(), index.clone(), plan.to_embed).await?;
    }
    Ok(applied)
}

/// Removes points from the live collection.
pub async fn delete_records<S: IndexStore>(
    store: &S,
    ids: &[u64],
) -> Result<(Summary, Vec<RecordOutcome>)> {
    let started = Instant::now();
    let ids = dedup(ids);
    let mut summary = Summary::default();
    let Some(index) = store.open_live().await? else {
        let outcomes = ids
            .iter()
            .map(|id| RecordOutcome {
                id: *id,
                status: RecordStatus::Absent,
            })
            .collect();
        return Ok((summary, outcomes));
    };
    let present: HashSet<u64> = index
        .retrieve(ids.clone(), false)
        .await?
        .into_iter()
        .map(|point| point.id)
        .collect();
    summary.deleted = index.delete(ids.clone()).await? as u64;
    let outcomes = ids
        .iter()
        .map(|id| RecordOutcome {
            id: *id,
            status: if present.contains(id) {
                RecordStatus::Deleted
            } else {
                RecordStatus::Absent
            },
        })
        .collect();
    summary.duration_ms = started.elapsed().as_millis() as u64;
    Ok((summary, outcomes))
}

/// Returns `ids` without repeats, in the order of their first occurrence.
pub(crate) fn dedup(ids: &[u64]) -> Vec<u64> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// Maps each id to the position of its first occurrence, for sorting results in request order.
pub(crate) fn first_positions(ids: &[u64]) -> HashMap<u64, usize> {
    let mut positions = HashMap::with_capacity(ids.len());
    for (position, id) in ids.iter().enumerate() {
        positions.entry(*id).or_insert(position);
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::first_positions;

    #[test]
    fn first_positions_keep_the_first_of_duplicates() {
        let positions = first_positions(&[7, 3, 7, 9]);
        assert_eq!(positions.len(), 3);
        assert_eq!(positions[&7], 0);
        assert_eq!(positions[&3], 1);
        assert_eq!(positions[&9], 3);
    }
}
