//! `crm-vec status`: Odoo, index and sync state side by side.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};

use super::Invocation;
use crate::cli::StatusArgs;
use crate::index::{IndexStore, VectorIndex};
use crate::odoo::OdooClient;
use crate::secret::redact_url;
use crate::serve::queue::QueueReport;
use crate::sync::incremental::{drift, expected_ids};
use crate::sync::state::Checkpoint;
use crate::sync::{check_layout, format_unix, parse_odoo_datetime};

pub async fn run(ctx: &Invocation, args: StatusArgs) -> Result<ExitCode> {
    let route = ctx.route().await?;
    let report = route.status(args.deep, args.max_lag * 60).await?;

    if ctx.output.json {
        ctx.output.json_value(&report)?;
    } else {
        print_table(ctx, &report)?;
    }
    let problems = report["problems"].as_array().map(Vec::len).unwrap_or(0);
    if args.check && problems > 0 {
        // Printed like any other error, and also under --quiet.
        for problem in report["problems"].as_array().into_iter().flatten() {
            let problem = problem.as_str().unwrap_or_default();
            eprintln!("error: {}", crate::output::printable(problem));
        }
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// Default for the age of the oldest unsynced change that counts as a problem, in seconds.
pub const DEFAULT_MAX_LAG_S: u64 = 30 * 60;

/// Builds the `status --json` document. With `deep`, every id in Odoo is compared with the
/// index to count missing and orphaned points. `queue` is the webhook queue of the listener,
/// when there is one. `problems` lists what `--check` fails on.
pub async fn report_with<S: IndexStore>(
    ctx: &Invocation,
    store: &S,
    deep: bool,
    max_lag_s: u64,
    queue: Option<QueueReport>,
) -> Result<Value> {
    let (odoo, client) = odoo_status(ctx).await;
    let live = store.open_live().await?;
    let index = index_status(store, live.as_ref()).await?;
    let state = store.load_state().await?;
    let mut problems: Vec<String> = Vec::new();

    let mut sync = json!({
        "checkpoint": state.checkpoint,
        "checkpoint_age_s": state.checkpoint.as_ref().and_then(|c| age_s(&c.write_date)),
        "backlog": null,
        "backlog_age_s": null,
        "missing": null,
        "orphaned": null,
        "last_full_rebuild": state.last_full_rebuild,
        "last_sync_new": state.last_sync_new,
    });
    match &client {
        Some(client) => {
            if let Err(err) = backlog(client, state.checkpoint.as_ref(), &mut sync).await {
                problems.push(format!("could not measure the backlog: {err:#}"));
            }
            if deep {
                deep_compare(ctx, client, live.as_ref(), &mut sync, &mut problems).await;
            }
        }
        None => problems.push(format!(
            "could not use Odoo: {}",
            odoo["error"].as_str().unwrap_or("no connection")
        )),
    }
    // Without an index every lead counts as backlog, so only the no-index problem is reported.
    if let Some(age) = sync["backlog_age_s"].as_u64().filter(|_| live.is_some()) {
        if age > max_lag_s {
            problems.push(format!(
                "the oldest unsynced change is {age} s old, more than the {max_lag_s} s \
                 allowed; run `crm-vec sync-new`"
            ));
        }
    }
    if live.is_none() {
        problems.push("no index has been built yet; run `crm-vec full-rebuild`".to_string());
    }
    let embedding = embedding_status(ctx, live.as_ref());
    if let Some(message) = embedding["mismatch"].as_str() {
        problems.push(message.to_string());
    }
    if let Some(queue) = queue {
        if let Some(problem) = failed_events_problem(&queue) {
            problems.push(problem);
        }
        sync["queue"] = queue_json(&queue);
    }
    Ok(json!({
        "odoo": odoo,
        "index": index,
        "embedding": embedding,
        "sync": sync,
        "problems": problems,
    }))
}

/// Builds the queue's counts and its `failed_events` list, as `/webhook/status` reports them.
fn queue_json(queue: &QueueReport) -> Value {
    let mut value = queue.to_json();
    value["failed_events"] = json!(queue.failed_events);
    value
}

/// Describes the problem that failed webhook events make, if there are any.
fn failed_events_problem(queue: &QueueReport) -> Option<String> {
    let ids: Vec<String> = queue
        .failed_events
        .iter()
        .filter(|event| event["retrying"] == json!(false))
        .filter_map(|event| event["id"].as_u64())
        .map(|id| id.to_string())
        .collect();
    if ids.is_empty() {
        return None;
    }
    let events = if ids.len() == 1 { "event" } else { "events" };
    Some(format!(
        "{} webhook {events} failed after the last attempt (leads {}); the listener retries \
         them after its next successful sync-new, and `crm-vec sync-record ID` or \
         `crm-vec delete ID` through the listener clears one",
        ids.len(),
        ids.join(", ")
    ))
}

/// Counts the leads written after the checkpoint's second and the age of the oldest of them.
///
/// Odoo compares `write_date` at microsecond precision while the checkpoint is truncated to the
/// second, so the domain starts at the next whole second. Leads written later in the
/// checkpoint's own second are left out; the next `sync-new` reads that second again anyway.
async fn backlog(
    client: &OdooClient,
    checkpoint: Option<&Checkpoint>,
    sync: &mut Value,
) -> Result<()> {
    let domain = match checkpoint {
        Some(checkpoint) => {
            let Some(seconds) = parse_odoo_datetime(&checkpoint.write_date) else {
                anyhow::bail!(
                    "the stored checkpoint {:?} is not a valid time; run `crm-vec full-rebuild`",
                    checkpoint.write_date
                );
            };
            json!([["write_date", ">=", format_unix(seconds + 1, ' ', "")]])
        }
        None => json!([]),
    };
    let count = client.search_count("crm.lead", domain.clone()).await?;
    sync["backlog"] = json!(count);
    if count > 0 {
        let fields = vec!["id".to_string(), "write_date".to_string()];
        let oldest = client
            .search_read(
                "crm.lead",
                domain,
                &fields,
                Some("write_date asc, id asc"),
                Some(1),
                0,
            )
            .await?;
        let age = oldest
            .first()
            .and_then(|record| record.get("write_date"))
            .and_then(Value::as_str)
            .and_then(age_s);
        sync["backlog_age_s"] = json!(age);
    }
    Ok(())
}

async fn deep_compare<I: VectorIndex>(
    ctx: &Invocation,
    client: &OdooClient,
    live: Option<&I>,
    sync: &mut Value,
    problems: &mut Vec<String>,
) {
    let result = match live {
        Some(index) => drift(client, index, ctx.settings.archived).await,
        None => expected_ids(client, ctx.settings.archived)
            .await
            .map(|ids| (ids.into_iter().collect(), Vec::new())),
    };
    match result {
        Ok((missing, orphaned)) => {
            if !missing.is_empty() || !orphaned.is_empty() {
                problems.push(format!(
                    "{} leads are missing from the index and {} points are orphaned; run \
                     `crm-vec sync-new`",
                    missing.len(),
                    orphaned.len()
                ));
            }
            sync["missing"] = json!(missing.len());
            sync["orphaned"] = json!(orphaned.len());
        }
        Err(err) => problems.push(format!("could not compare ids: {err:#}")),
    }
}

/// The embedding model and dimension configured, and whether the index matches them.
fn embedding_status<I: VectorIndex>(ctx: &Invocation, live: Option<&I>) -> Value {
    let provider = ctx.provider().ok().flatten();
    let mut status = json!({
        "provider": ctx.settings.provider_name(),
        "model": provider.as_ref().map(|p| p.model().to_string()),
        "model_label": provider.as_ref().map(|p| p.model_label()),
        "dimension": provider.as_ref().and_then(|p| p.dimension()),
        "mismatch": null,
    });
    if let Some(index) = live {
        if let Err(message) = check_layout(&index.layout(), provider.as_ref()) {
            status["mismatch"] = json!(format!("{message}; run `crm-vec full-rebuild`"));
        }
    }
    status
}

/// Seconds from an Odoo UTC time until now, never negative.
fn age_s(write_date: &str) -> Option<u64> {
    let then = parse_odoo_datetime(write_date)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs() as i64;
    Some(now.saturating_sub(then).max(0) as u64)
}

async fn odoo_status(ctx: &Invocation) -> (Value, Option<OdooClient>) {
    let url = ctx.settings.odoo_url().map(redact_url);
    let mut status = json!({
        "url": url,
        "version": null,
        "protocol": null,
        "reachable": false,
        "leads_active": null,
        "leads_archived": null,
    });
    let client = match ctx.connect_odoo().await {
        Ok(client) => client,
        Err(err) => {
            status["error"] = json!(format!("{err:#}"));
            if let Ok(settings) = ctx.settings.odoo() {
                if let Ok(version) = OdooClient::probe_version(&settings).await {
                    status["version"] = json!(version.raw);
                    status["reachable"] = json!(true);
                }
            }
            return (status, None);
        }
    };
    status["version"] = json!(client.version().raw);
    status["protocol"] = json!(client.protocol().to_string());
    status["reachable"] = json!(true);
    let active = client
        .search_count("crm.lead", json!([["active", "=", true]]))
        .await;
    let archived = client
        .search_count("crm.lead", json!([["active", "=", false]]))
        .await;
    match (active, archived) {
        (Ok(active), Ok(archived)) => {
            status["leads_active"] = json!(active);
            status["leads_archived"] = json!(archived);
        }
        (Err(err), _) | (_, Err(err)) => status["error"] = json!(err.to_string()),
    }
    (status, Some(client))
}

async fn index_status<S: IndexStore>(store: &S, live: Option<&S::Index>) -> Result<Value> {
    let mut status = json!({
        "backend": store.backend(),
        "location": store.location(),
        "points": 0,
        "model": null,
        "dimension": null,
    });
    if let Some(index) = live {
        let layout = index.layout();
        status["points"] = json!(index.count().await?);
        status["model"] = json!(layout.model);
        status["dimension"] = json!(layout.dense_dimension);
    }
    Ok(status)
}

fn print_table(ctx: &Invocation, report: &Value) -> Result<()> {
    let show = |value: &Value| match value {
        Value::Null => "-".to_string(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let mut table = ctx.output.table(&[]);
    let odoo = &report["odoo"];
    let index = &report["index"];
    let sync = &report["sync"];
    let rows = [
        ("Odoo URL", show(&odoo["url"])),
        ("Odoo version", show(&odoo["version"])),
        ("Protocol", show(&odoo["protocol"])),
        ("Reachable", show(&odoo["reachable"])),
        ("Leads active", show(&odoo["leads_active"])),
        ("Leads archived", show(&odoo["leads_archived"])),
        ("Index backend", show(&index["backend"])),
        ("Index location", show(&index["location"])),
        ("Points", show(&index["points"])),
        ("Embedding model", show(&index["model"])),
        ("Dimension", show(&index["dimension"])),
        (
            "Configured model",
            show(&report["embedding"]["model_label"]),
        ),
        ("Checkpoint", checkpoint_line(sync)),
        ("Backlog (leads)", show(&sync["backlog"])),
        ("Backlog age", age_cell(&sync["backlog_age_s"])),
        ("Missing (--deep)", show(&sync["missing"])),
        ("Orphaned (--deep)", show(&sync["orphaned"])),
        ("Last full rebuild", run_line(&sync["last_full_rebuild"])),
        ("Last sync-new", run_line(&sync["last_sync_new"])),
    ];
    for (label, value) in rows.into_iter().chain(queue_rows(&sync["queue"])) {
        table.add_row(vec![label.to_string(), value]);
    }
    if let Some(error) = odoo.get("error") {
        table.add_row(vec!["Odoo error".to_string(), show(error)]);
    }
    for problem in report["problems"].as_array().into_iter().flatten() {
        table.add_row(vec!["Problem".to_string(), show(problem)]);
    }
    ctx.output.data(&table.to_string())?;
    Ok(())
}

/// Builds the table rows of the webhook queue, when a listener has one, and one per failed
/// event.
fn queue_rows(queue: &Value) -> Vec<(&'static str, String)> {
    if queue.is_null() {
        return Vec::new();
    }
    let count = |key: &str| queue[key].as_u64().unwrap_or(0).to_string();
    let mut rows = vec![
        ("Webhooks pending", count("pending")),
        ("Webhooks in flight", count("in_flight")),
        ("Webhooks failed", count("failed")),
        ("Oldest pending", age_cell(&queue["oldest_pending_age_s"])),
    ];
    for event in queue["failed_events"].as_array().into_iter().flatten() {
        if event["retrying"] == json!(true) {
            continue;
        }
        rows.push((
            "Failed event",
            format!(
                "lead {} ({}, {} attempts): {}",
                event["id"],
                event["kind"].as_str().unwrap_or("?"),
                event["attempts"],
                event["last_error"].as_str().unwrap_or("-")
            ),
        ));
    }
    rows
}

/// Formats an optional age in seconds for the table, or "-" when there is none.
fn age_cell(age_s: &Value) -> String {
    age_s.as_u64().map_or_else(|| "-".to_string(), format_age)
}

/// Formats an age for people: "45 s", "12 min", "5 h", "32 days" (rounded down).
fn format_age(age_s: u64) -> String {
    match age_s {
        0..=119 => format!("{age_s} s"),
        120..=7_199 => format!("{} min", age_s / 60),
        7_200..=172_799 => format!("{} h", age_s / 3_600),
        _ => format!("{} days", age_s / 86_400),
    }
}

/// "2026-11-02 09:00:00 id 44 (2 min ago)", or "-" before the first rebuild.
fn checkpoint_line(sync: &Value) -> String {
    let checkpoint = &sync["checkpoint"];
    match (checkpoint["write_date"].as_str(), checkpoint["id"].as_u64()) {
        (Some(write_date), Some(id)) => match sync["checkpoint_age_s"].as_u64() {
            Some(age) => format!("{write_date} id {id} ({} ago)", format_age(age)),
            None => format!("{write_date} id {id}"),
        },
        _ => "-".to_string(),
    }
}

/// "2026-12-04T10:00:00Z, ok" for a recorded run, "-" when there is none.
fn run_line(run: &Value) -> String {
    match run {
        Value::Null => "-".to_string(),
        run => format!(
            "{}, {}",
            run["at"].as_str().unwrap_or("?"),
            if run["ok"].as_bool() == Some(true) {
                "ok"
            } else {
                "failed"
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::format_age;

    #[test]
    fn ages_switch_units_at_two_of_each() {
        let cases = [
            (0, "0 s"),
            (119, "119 s"),
            (120, "2 min"),
            (7_199, "119 min"),
            (7_200, "2 h"),
            (172_799, "47 h"),
            (172_800, "2 days"),
            (2_820_678, "32 days"),
        ];
        for (age, text) in cases {
            assert_eq!(format_age(age), text, "{age} s");
        }
    }
}
