//! The document of a lead: the text that is embedded, the payload stored with the point, and a
//! hash of text and model that decides whether a stored vector can be reused.
//!
//! Odoo returns `search_read` results with many2one fields as `[id, "display name"]` or `false`,
//! empty char fields as `false` or `""`, and `priority` as a string `"0"` to `"3"`. Fields missing
//! on this server's version (for example `won_status` before 19.0) are simply absent.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::html::html_to_text;
use super::messages::{messages_text, payload_entry, Message};

/// Fields read for every lead, when the server has them.
pub const LEAD_FIELDS: &[&str] = &[
    "id",
    "name",
    "type",
    "active",
    "partner_id",
    "partner_name",
    "contact_name",
    "email_from",
    "phone",
    "city",
    "country_id",
    "description",
    "stage_id",
    "user_id",
    "team_id",
    "tag_ids",
    "priority",
    "probability",
    "expected_revenue",
    "date_deadline",
    "won_status",
    "create_date",
    "write_date",
];

/// Maximum length of the embedding text, in characters. About 2,000 to 2,700 tokens at 3 to
/// 4 characters a token: well inside the context of every supported model (Voyage's smallest is
/// 32K tokens; all-MiniLM-L6-v2 cuts at 256 tokens anyway), while keeping requests cheap.
pub const MAX_TEXT_CHARS: usize = 8_000;

/// Payload keys that change on every write and so take no part in deciding whether a
/// point's payload changed.
const VOLATILE_PAYLOAD_KEYS: &[&str] = &["indexed_at"];

/// A lead turned into what the index stores.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub id: u64,
    pub active: bool,
    pub text: String,
    /// Hex SHA-256 of the model name and the text.
    pub text_hash: String,
    pub payload: Map<String, Value>,
}

/// The labels that begin lines of a lead's text. Nearly every lead has them, so they carry no
/// weight in keyword search. They also slow rebuilds down: the sparse index of qdrant-edge 0.7.2
/// rewrites a term's whole posting list on each insert, so a term in every lead makes a
/// rebuild's CPU time grow with the square of the number of leads.
const LINE_LABELS: &[&str] = &[
    "Type: ",
    "Customer: ",
    "Contact: ",
    "Stage: ",
    "Salesperson: ",
    "Sales team: ",
    "Tags: ",
    "Location: ",
    "Expected revenue: ",
    "Priority: ",
    "Message from ",
];

impl Document {
    /// Returns the text the keyword (BM25) vector is made from: the lead's text without the
    /// labels at the start of its lines.
    pub fn keyword_text(&self) -> String {
        keyword_text(&self.text)
    }
}

/// Removes the [`LINE_LABELS`] from the start of each line of `text`.
pub fn keyword_text(text: &str) -> String {
    text.lines()
        .map(|line| {
            LINE_LABELS
                .iter()
                .find_map(|label| line.strip_prefix(label))
                .unwrap_or(line)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names of related records that Odoo returns only as ids (tags).
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    pub tags: std::collections::HashMap<u64, String>,
}

/// Builds the document of one lead record, or `None` when the record has no usable id.
///
/// `messages` are the lead's newest chatter messages, newest first; their text follows the
/// lead's fields within the same length cap. `model` is the embedding model name (or `"none"`),
/// part of the hash so that a model change re-embeds everything.
pub fn build_document(
    record: &Map<String, Value>,
    lookups: &Lookups,
    messages: &[Message],
    model: &str,
) -> Option<Document> {
    let id = record
        .get("id")
        .and_then(Value::as_u64)
        .filter(|id| *id > 0)?;
    let lead = LeadView { record };

    let tags: Vec<String> = lead
        .ids("tag_ids")
        .into_iter()
        .filter_map(|tag| lookups.tags.get(&tag).cloned())
        .collect();
    let mut text = lead.text(&tags);
    if !messages.is_empty() {
        text = cap_chars(
            format!("{text}\n{}", messages_text(messages)),
            MAX_TEXT_CHARS,
        );
    }
    let text_hash = hash_text(model, &text);
    let active = record
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true);

    let mut payload = Map::new();
    payload.insert("lead_id".into(), json!(id));
    payload.insert("name".into(), json!(lead.string("name")));
    payload.insert("type".into(), json!(lead.string("type")));
    payload.insert("active".into(), json!(active));
    payload.insert("stage".into(), json!(lead.many2one_name("stage_id")));
    payload.insert("stage_id".into(), json!(lead.many2one_id("stage_id")));
    payload.insert("salesperson".into(), json!(lead.many2one_name("user_id")));
    payload.insert("user_id".into(), json!(lead.many2one_id("user_id")));
    payload.insert("team".into(), json!(lead.many2one_name("team_id")));
    payload.insert("team_id".into(), json!(lead.many2one_id("team_id")));
    payload.insert("tags".into(), json!(tags));
    payload.insert("partner".into(), json!(lead.partner()));
    payload.insert("customer".into(), json!(lead.many2one_name("partner_id")));
    payload.insert("partner_name".into(), json!(lead.string("partner_name")));
    payload.insert("contact_name".into(), json!(lead.string("contact_name")));
    payload.insert("email".into(), json!(lead.string("email_from")));
    payload.insert("phone".into(), json!(lead.string("phone")));
    payload.insert("city".into(), json!(lead.string("city")));
    payload.insert("country".into(), json!(lead.many2one_name("country_id")));
    payload.insert(
        "expected_revenue".into(),
        json!(lead.number("expected_revenue")),
    );
    payload.insert("probability".into(), json!(lead.number("probability")));
    payload.insert("priority".into(), json!(lead.string("priority")));
    payload.insert("won_status".into(), json!(lead.string("won_status")));
    payload.insert("date_deadline".into(), json!(lead.date("date_deadline")));
    payload.insert("create_date".into(), json!(lead.datetime("create_date")));
    payload.insert("write_date".into(), json!(lead.datetime("write_date")));
    payload.insert("odoo_write_date".into(), json!(lead.string("write_date")));
    payload.insert("message_count".into(), json!(messages.len()));
    payload.insert(
        "last_message_date".into(),
        json!(messages.first().and_then(|m| m.date.clone())),
    );
    let entries: Vec<Value> = messages.iter().map(payload_entry).collect();
    payload.insert("messages".into(), Value::Array(entries));
    payload.insert("embedding_model".into(), json!(model));
    payload.insert("text_hash".into(), json!(text_hash));

    Some(Document {
        id,
        active,
        text,
        text_hash,
        payload,
    })
}

/// Stamps the time the point is written; kept out of [`payload_differs`].
pub fn stamp_indexed_at(payload: &mut Map<String, Value>, now_rfc3339: &str) {
    payload.insert("indexed_at".into(), json!(now_rfc3339));
}

/// Whether two payloads differ in anything but the write time.
pub fn payload_differs(stored: &Map<String, Value>, fresh: &Map<String, Value>) -> bool {
    let keys = stored.keys().chain(fresh.keys());
    for key in keys {
        if VOLATILE_PAYLOAD_KEYS.contains(&key.as_str()) {
            continue;
        }
        if stored.get(key) != fresh.get(key) {
            return true;
        }
    }
    false
}

/// Hex SHA-256 of `model`, a newline and `text`.
pub fn hash_text(model: &str, text: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(model.as_bytes());
    hasher.update(b"\n");
    hasher.update(text.as_bytes());
    let digest = hasher.finalize();
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Read access to one record with Odoo's value conventions.
struct LeadView<'a> {
    record: &'a Map<String, Value>,
}

impl LeadView<'_> {
    /// A char, text or selection value; `false`, `null` and blank strings are `None`.
    fn string(&self, field: &str) -> Option<String> {
        match self.record.get(field) {
            Some(Value::String(text)) => {
                let cleaned = clean_line(text);
                (!cleaned.is_empty()).then_some(cleaned)
            }
            Some(Value::Number(number)) => Some(number.to_string()),
            _ => None,
        }
    }

    fn number(&self, field: &str) -> Option<f64> {
        self.record
            .get(field)
            .and_then(Value::as_f64)
            .filter(|n| n.is_finite())
    }

    /// The display name of a many2one `[id, "name"]`.
    fn many2one_name(&self, field: &str) -> Option<String> {
        match self.record.get(field) {
            Some(Value::Array(pair)) => pair
                .get(1)
                .and_then(Value::as_str)
                .map(clean_line)
                .filter(|name| !name.is_empty()),
            _ => None,
        }
    }

    /// The id of a many2one, given as `[id, "name"]` or, with `load=None`, a plain id.
    fn many2one_id(&self, field: &str) -> Option<u64> {
        match self.record.get(field) {
            Some(Value::Array(pair)) => pair.first().and_then(Value::as_u64),
            Some(Value::Number(id)) => id.as_u64(),
            _ => None,
        }
    }

    fn ids(&self, field: &str) -> Vec<u64> {
        match self.record.get(field) {
            Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_u64).collect(),
            _ => Vec::new(),
        }
    }

    /// A date `YYYY-MM-DD` as RFC 3339 midnight UTC, for the datetime payload index.
    fn date(&self, field: &str) -> Option<String> {
        let text = self.string(field)?;
        let date = text.get(..10)?;
        is_iso_date(date).then(|| format!("{date}T00:00:00Z"))
    }

    /// A datetime `YYYY-MM-DD HH:MM:SS` (naive UTC) as RFC 3339.
    fn datetime(&self, field: &str) -> Option<String> {
        let text = self.string(field)?;
        let (date, time) = text.split_once(' ')?;
        let time = time.get(..8)?;
        (is_iso_date(date) && time.len() == 8).then(|| format!("{date}T{time}Z"))
    }

    /// The company name shown for a lead: `partner_name`, else the customer's display name,
    /// else the contact name.
    fn partner(&self) -> Option<String> {
        self.string("partner_name")
            .or_else(|| self.many2one_name("partner_id"))
            .or_else(|| self.string("contact_name"))
    }

    fn text(&self, tags: &[String]) -> String {
        let mut lines = Vec::new();
        if let Some(name) = self.string("name") {
            lines.push(name);
        }
        let kind = match self.string("type").as_deref() {
            Some("opportunity") => "Opportunity",
            Some("lead") => "Lead",
            _ => "",
        };
        if !kind.is_empty() {
            lines.push(format!("Type: {kind}"));
        }
        let customer = self.partner();
        if let Some(customer) = &customer {
            lines.push(format!("Customer: {customer}"));
        }
        if let Some(contact) = self.string("contact_name") {
            if customer.as_deref() != Some(contact.as_str()) {
                lines.push(format!("Contact: {contact}"));
            }
        }
        let labelled = [
            ("Stage", self.many2one_name("stage_id")),
            ("Salesperson", self.many2one_name("user_id")),
            ("Sales team", self.many2one_name("team_id")),
        ];
        for (label, value) in labelled {
            if let Some(value) = value {
                lines.push(format!("{label}: {value}"));
            }
        }
        if !tags.is_empty() {
            lines.push(format!("Tags: {}", tags.join(", ")));
        }
        let place: Vec<String> = [self.string("city"), self.many2one_name("country_id")]
            .into_iter()
            .flatten()
            .collect();
        if !place.is_empty() {
            lines.push(format!("Location: {}", place.join(", ")));
        }
        if let Some(revenue) = self.number("expected_revenue").filter(|r| *r > 0.0) {
            lines.push(format!("Expected revenue: {}", format_amount(revenue)));
        }
        if let Some(priority) = self.string("priority").as_deref().and_then(priority_label) {
            lines.push(format!("Priority: {priority}"));
        }
        if let Some(Value::String(html)) = self.record.get("description") {
            let description = html_to_text(html);
            if !description.is_empty() {
                lines.push(description);
            }
        }
        cap_chars(lines.join("\n"), MAX_TEXT_CHARS)
    }
}

/// Odoo's labels for crm.lead's priority keys.
fn priority_label(key: &str) -> Option<&'static str> {
    match key {
        "0" => Some("Low"),
        "1" => Some("Medium"),
        "2" => Some("High"),
        "3" => Some("Very High"),
        _ => None,
    }
}

/// Formats an amount without a trailing `.0`: 24000 → "24000", 99.5 → "99.5".
fn format_amount(amount: f64) -> String {
    if amount.fract() == 0.0 && amount.abs() < 1e15 {
        format!("{amount:.0}")
    } else {
        format!("{amount}")
    }
}

/// Collapses white space and control characters in a one-line value.
fn clean_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

/// Cuts a text to at most `max` characters, on a character boundary.
pub fn cap_chars(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((byte, _)) => text[..byte].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn demo_lead() -> Map<String, Value> {
        record(json!({
            "id": 14, "name": "Office Design Project", "type": "opportunity", "active": true,
            "partner_id": [102, "Acme Corporation"], "partner_name": false,
            "contact_name": "Jacques Dunagan", "email_from": "acme@example.com", "phone": false,
            "city": "Pleasant Hill", "country_id": [17, "United States"],
            "description": "<p>Needs <b>20</b> desks &amp; chairs</p><p><br></p>",
            "stage_id": [1, "New"], "user_id": [2, "Mitchell Admin"], "team_id": [1, "Sales"],
            "tag_ids": [5, 99], "priority": "2", "probability": 30.0, "expected_revenue": 24000.0,
            "date_deadline": "2026-12-01", "create_date": "2026-10-25 09:00:00",
            "write_date": "2026-10-25 09:00:00"
        }))
    }

    fn lookups() -> Lookups {
        Lookups {
            tags: [(5, "Design".to_string())].into_iter().collect(),
        }
    }

    #[test]
    fn text_lists_fields_and_plain_description() {
        let doc = build_document(&demo_lead(), &lookups(), &[], "voyage-4-lite").unwrap();
        let expected = "Office Design Project\nType: Opportunity\nCustomer: Acme Corporation\n\
            Contact: Jacques Dunagan\nStage: New\nSalesperson: Mitchell Admin\nSales team: Sales\n\
            Tags: Design\nLocation: Pleasant Hill, United States\nExpected revenue: 24000\n\
            Priority: High\nNeeds 20 desks & chairs";
        assert_eq!(doc.text, expected);
    }

    #[test]
    fn keyword_text_drops_line_labels() {
        let doc = build_document(&demo_lead(), &lookups(), &[], "voyage-4-lite").unwrap();
        let expected = "Office Design Project\nOpportunity\nAcme Corporation\n\
            Jacques Dunagan\nNew\nMitchell Admin\nSales\n\
            Design\nPleasant Hill, United States\n24000\n\
            High\nNeeds 20 desks & chairs";
        assert_eq!(doc.keyword_text(), expected);
    }

    #[test]
    fn keyword_text_keeps_labels_inside_lines() {
        assert_eq!(
            keyword_text("Message from Ann on 2026-11-02:\nthe Stage: is set"),
            "Ann on 2026-11-02:\nthe Stage: is set"
        );
    }

    #[test]
    fn payload_uses_names_and_rfc3339_dates() {
        let doc = build_document(&demo_lead(), &lookups(), &[], "none").unwrap();
        assert_eq!(doc.payload["stage"], json!("New"));
        assert_eq!(doc.payload["stage_id"], json!(1));
        assert_eq!(doc.payload["partner"], json!("Acme Corporation"));
        assert_eq!(doc.payload["tags"], json!(["Design"]));
        assert_eq!(doc.payload["write_date"], json!("2026-10-25T09:00:00Z"));
        assert_eq!(doc.payload["date_deadline"], json!("2026-12-01T00:00:00Z"));
        assert_eq!(doc.payload["phone"], Value::Null);
        assert_eq!(doc.payload["won_status"], Value::Null);
    }

    #[test]
    fn partner_falls_back_to_contact() {
        let mut lead = demo_lead();
        lead.insert("partner_id".into(), json!(false));
        let doc = build_document(&lead, &lookups(), &[], "none").unwrap();
        assert_eq!(doc.payload["partner"], json!("Jacques Dunagan"));
        lead.insert("partner_name".into(), json!("Le Club SARL"));
        let doc = build_document(&lead, &lookups(), &[], "none").unwrap();
        assert_eq!(doc.payload["partner"], json!("Le Club SARL"));
    }

    #[test]
    fn hash_depends_on_text_and_model() {
        let a = build_document(&demo_lead(), &lookups(), &[], "voyage-4-lite").unwrap();
        let b = build_document(&demo_lead(), &lookups(), &[], "voyage-4").unwrap();
        assert_ne!(a.text_hash, b.text_hash);
        let mut renamed = demo_lead();
        renamed.insert("name".into(), json!("Office Design Project II"));
        let c = build_document(&renamed, &lookups(), &[], "voyage-4-lite").unwrap();
        assert_ne!(a.text_hash, c.text_hash);
        let again = build_document(&demo_lead(), &lookups(), &[], "voyage-4-lite").unwrap();
        assert_eq!(a.text_hash, again.text_hash);
    }

    #[test]
    fn probability_changes_payload_not_hash() {
        let a = build_document(&demo_lead(), &lookups(), &[], "m").unwrap();
        let mut rescored = demo_lead();
        rescored.insert("probability".into(), json!(55.0));
        let b = build_document(&rescored, &lookups(), &[], "m").unwrap();
        assert_eq!(a.text_hash, b.text_hash);
        assert!(payload_differs(&a.payload, &b.payload));
    }

    #[test]
    fn indexed_at_is_ignored_in_comparison() {
        let a = build_document(&demo_lead(), &lookups(), &[], "m").unwrap();
        let mut stamped = a.payload.clone();
        stamp_indexed_at(&mut stamped, "2026-12-04T00:00:00Z");
        assert!(!payload_differs(&a.payload, &stamped));
    }

    #[test]
    fn record_without_id_is_skipped() {
        assert!(build_document(&record(json!({"name": "x"})), &lookups(), &[], "m").is_none());
        assert!(build_document(&record(json!({"id": 0})), &lookups(), &[], "m").is_none());
        assert!(build_document(&record(json!({"id": "7"})), &lookups(), &[], "m").is_none());
    }

    #[test]
    fn hostile_values_are_tolerated() {
        let lead = record(json!({
            "id": 9, "name": "Emoji 🪑 \u{202e}rtl\u{0007}", "type": 42, "active": "yes",
            "stage_id": [1], "user_id": "Mitchell", "tag_ids": "not a list",
            "expected_revenue": "lots", "priority": "9", "date_deadline": "soon",
            "write_date": "yesterday", "description": 17
        }));
        let doc = build_document(&lead, &lookups(), &[], "m").unwrap();
        assert!(doc.text.starts_with("Emoji 🪑 \u{202e}rtl"));
        assert_eq!(doc.payload["stage"], Value::Null);
        assert_eq!(doc.payload["write_date"], Value::Null);
        assert!(doc.active);
    }

    #[test]
    fn messages_follow_lead_text() {
        let messages = [Message {
            id: 8,
            author: Some("Carrie Helle".to_string()),
            date: Some("2026-11-02 09:00:00".to_string()),
            text: "We need weekly backups".to_string(),
        }];
        let doc = build_document(&demo_lead(), &lookups(), &messages, "m").unwrap();
        assert!(doc.text.ends_with(
            "Needs 20 desks & chairs\nMessage from Carrie Helle on 2026-11-02:\nWe need weekly backups"
        ));
        assert_eq!(doc.payload["message_count"], json!(1));
        assert_eq!(
            doc.payload["last_message_date"],
            json!("2026-11-02 09:00:00")
        );
        assert_eq!(
            doc.payload["messages"][0]["first_line"],
            json!("We need weekly backups")
        );
        let without = build_document(&demo_lead(), &lookups(), &[], "m").unwrap();
        assert_ne!(doc.text_hash, without.text_hash);
    }

    #[test]
    fn text_is_capped_on_char_boundary() {
        let mut lead = demo_lead();
        lead.insert("description".into(), json!("é".repeat(20_000)));
        let doc = build_document(&lead, &lookups(), &[], "m").unwrap();
        assert_eq!(doc.text.chars().count(), MAX_TEXT_CHARS);
    }
}
