//! The sync core: every way in (CLI, webhooks, MCP) calls these functions, so a lead synced
//! from any of them ends up as the same point.
//!
//! The core reads leads from Odoo, turns them into documents, embeds the texts whose hash
//! changed, and writes points. It does not depend on clap, terminals or HTTP servers.

pub mod document;
pub mod html;
pub mod incremental;
pub mod messages;
mod pipeline;
pub mod progress;
pub mod search;
pub mod state;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::embed::{Bm25, Provider};
use crate::index::{IndexLayout, IndexStore};
use crate::odoo::OdooClient;
use crate::settings::ArchivePolicy;

pub use document::{build_document, Document, Lookups};
pub use incremental::{sync_new, SyncNewOptions, SyncNewReport};
pub(crate) use pipeline::{dedup, first_positions};
pub use pipeline::{delete_records, full_rebuild, sync_records, RecordOutcome, RecordStatus};
pub use progress::{NoProgress, Reporter};

/// Leads read from Odoo per request.
pub const DEFAULT_PAGE_SIZE: usize = 200;
/// Embedding requests in flight at once during a rebuild.
pub const DEFAULT_EMBED_CONCURRENCY: usize = 4;

/// What a sync run did, in the keys scripts rely on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Leads read from Odoo.
    pub fetched: u64,
    /// Points written (new vectors, reused vectors or payload-only updates).
    pub upserted: u64,
    /// Texts sent to the embedding provider.
    pub embedded: u64,
    /// Vectors kept from the previous index because the text hash was unchanged.
    pub reused: u64,
    /// Leads left out by the archive policy.
    pub skipped: u64,
    /// Points removed from the index.
    pub deleted: u64,
    /// Leads that could not be turned into a point.
    pub failed: u64,
    pub duration_ms: u64,
}

impl Summary {
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}

/// Everything a sync run needs.
pub struct SyncContext<S: IndexStore> {
    pub odoo: OdooClient,
    pub provider: Option<Provider>,
    pub bm25: Bm25,
    pub store: S,
    pub archived: ArchivePolicy,
    pub reporter: Arc<dyn Reporter>,
    pub page_size: usize,
    pub embed_concurrency: usize,
    /// Chatter messages per lead that go into its text; 0 leaves chatter out.
    pub messages_per_lead: usize,
}

impl<S: IndexStore> SyncContext<S> {
    /// The model name that goes into text hashes and payloads: `none` without a provider.
    pub fn model_name(&self) -> String {
        self.provider
            .as_ref()
            .map(|p| p.model().to_string())
            .unwrap_or_else(|| "none".to_string())
    }

    /// Reads the lookups (tag names) that lead documents need.
    pub async fn lookups(&self) -> Result<Lookups> {
        let fields = self.odoo.fields_for("crm.tag", &["name"]).await?;
        let tags = self
            .odoo
            .search_read("crm.tag", json!([]), &fields, Some("id asc"), None, 0)
            .await
            .context("could not read the names of lead tags (crm.tag)")?;
        let mut lookups = Lookups::default();
        for tag in tags {
            if let (Some(id), Some(name)) = (
                tag.get("id").and_then(Value::as_u64),
                tag.get("name").and_then(Value::as_str),
            ) {
                lookups.tags.insert(id, name.to_string());
            }
        }
        Ok(lookups)
    }

    /// The lead fields to request from this server. Fails when the server lists none of
    /// the fields every Odoo version has: a user without read access to them would otherwise
    /// get blank leads into the index, archived ones among the active.
    pub async fn lead_fields(&self) -> Result<Vec<String>> {
        let fields = self
            .odoo
            .fields_for("crm.lead", document::LEAD_FIELDS)
            .await?;
        let missing: Vec<&str> = REQUIRED_LEAD_FIELDS
            .iter()
            .copied()
            .filter(|name| !fields.iter().any(|field| field == name))
            .collect();
        if !missing.is_empty() {
            anyhow::bail!(
                "Odoo's crm.lead has no field {} for this user; check that ODOO_USERNAME can \
                 read leads (Sales / CRM access rights)",
                missing.join(", ")
            );
        }
        Ok(fields)
    }
}

/// Lead fields that every supported Odoo version has and that the sync cannot do without.
const REQUIRED_LEAD_FIELDS: &[&str] = &["name", "active", "write_date"];

/// The layout a new collection gets with this provider.
pub fn layout_for(provider: Option<&Provider>, dimension: Option<usize>) -> IndexLayout {
    IndexLayout {
        dense_dimension: provider.and(dimension),
        model: provider.map(|p| p.model().to_string()),
    }
}

/// Checks that an existing collection was built with the configured provider, so that its
/// vectors and the ones written now are comparable.
pub fn check_layout(index_layout: &IndexLayout, provider: Option<&Provider>) -> Result<(), String> {
    let configured_model = provider.map(|p| p.model().to_string());
    let configured_dimension = provider.and_then(|p| p.dimension());
    let dimension_differs = match (index_layout.dense_dimension, configured_dimension) {
        (Some(stored), Some(configured)) => stored != configured,
        (None, None) => false,
        // A provider whose dimension is learned from its first response cannot be compared yet.
        (Some(_), None) => provider.is_none(),
        (None, Some(_)) => true,
    };
    if index_layout.model != configured_model || dimension_differs {
        return Err(format!(
            "the index was built with embedding model {} (dimension {}), but the configured \
             model is {} (dimension {})",
            describe(index_layout.model.as_deref()),
            describe(
                index_layout
                    .dense_dimension
                    .map(|d| d.to_string())
                    .as_deref()
            ),
            describe(configured_model.as_deref()),
            describe(configured_dimension.map(|d| d.to_string()).as_deref()),
        ));
    }
    Ok(())
}

fn describe(value: Option<&str>) -> &str {
    value.unwrap_or("none")
}

/// Returns the current time in Unix seconds (0 on a clock set before 1970).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs() as i64)
}

/// The current time in RFC 3339, UTC, to the second.
pub fn now_rfc3339() -> String {
    format_unix(unix_now(), 'T', "Z")
}

/// The current time in Odoo's `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn now_odoo() -> String {
    format_unix(unix_now(), ' ', "")
}

/// Formats Unix seconds as `YYYY-MM-DD{sep}HH:MM:SS{suffix}` in UTC.
pub fn format_unix(seconds: i64, separator: char, suffix: &str) -> String {
    let days = seconds.div_euclid(86_400);
    let rest = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}{separator}{:02}:{:02}:{:02}{suffix}",
        rest / 3600,
        (rest % 3600) / 60,
        rest % 60
    )
}

/// Returns the number of days in a month of the proleptic Gregorian calendar.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses Odoo's `YYYY-MM-DD HH:MM:SS` (UTC) into Unix seconds.
pub fn parse_odoo_datetime(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || bytes[4] != b'-' || bytes[7] != b'-' || bytes[13] != b':' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let day_of_year = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Groups stored points by id for quick lookup.
fn by_id<T>(items: Vec<T>, id: impl Fn(&T) -> u64) -> HashMap<u64, T> {
    items.into_iter().map(|item| (id(&item), item)).collect()
}

/// Opens the live collection, creating an empty one first when none exists yet.
pub async fn ensure_live<S: IndexStore>(store: &S, layout: IndexLayout) -> Result<S::Index> {
    if let Some(index) = store.open_live().await? {
        return Ok(index);
    }
    let staging = store.create_staging(layout).await?;
    store
        .commit(staging, state::SyncState::default(), false)
        .await?;
    store
        .open_live()
        .await?
        .context("the index was created but could not be opened")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odoo_datetime_round_trips() {
        let seconds = parse_odoo_datetime("2026-11-02 09:00:00").unwrap();
        assert_eq!(format_unix(seconds, ' ', ""), "2026-11-02 09:00:00");
        assert_eq!(format_unix(seconds, 'T', "Z"), "2026-11-02T09:00:00Z");
        assert_eq!(format_unix(0, ' ', ""), "1970-01-01 00:00:00");
        assert_eq!(
            parse_odoo_datetime("2000-02-29 23:59:59"),
            Some(951_868_799)
        );
    }

    #[test]
    fn odoo_datetime_rejects_garbage() {
        for text in [
            "",
            "2026-13-01 00:00:00",
            "yesterday",
            "2026-11-02",
            "2026/11/02 09:00:00",
            "2026-02-30 00:00:00",
            "2026-02-29 00:00:00",
            "1900-02-29 00:00:00",
            "2026-04-31 00:00:00",
        ] {
            assert_eq!(parse_odoo_datetime(text), None, "for {text:?}");
        }
    }
}
