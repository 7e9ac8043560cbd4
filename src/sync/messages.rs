//! The chatter of a lead: the newest emails and notes on it, read in one `mail.message` call per
//! page of leads and appended to the lead's embedding text.
//!
//! In Odoo's CRM, what the customer asked for is often only in the chatter: in the demo data 43
//! of 44 leads have no description. A new message does not change the lead's `write_date`, so
//! `sync-new` also scans messages created since the checkpoint.

use std::collections::HashMap;

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

use super::html::message_to_text;
use crate::odoo::OdooClient;

/// Default number of messages per lead that go into its text.
pub const DEFAULT_MESSAGES_PER_LEAD: usize = 5;

/// Message types that carry what people wrote. System notifications, tracking changes and
/// automated messages are left out.
pub const MESSAGE_TYPES: &[&str] = &["email", "comment"];

/// Longest first line kept for a message snippet, in characters.
const SNIPPET_CHARS: usize = 160;

const MESSAGE_FIELDS: &[&str] = &[
    "id",
    "res_id",
    "body",
    "date",
    "author_id",
    "email_from",
    "message_type",
];

/// One chatter message, turned into text.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: u64,
    pub author: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS` (UTC) as Odoo returns it.
    pub date: Option<String>,
    pub text: String,
}

impl Message {
    /// The first line of the text, cut to a snippet's length.
    pub fn first_line(&self) -> String {
        let line = self.text.lines().next().unwrap_or_default();
        super::document::cap_chars(line.to_string(), SNIPPET_CHARS)
    }
}

/// Reads the newest `per_lead` messages of each lead in one call. Leads without messages are
/// absent from the map; `per_lead == 0` reads nothing.
pub async fn fetch_messages(
    odoo: &OdooClient,
    lead_ids: &[u64],
    per_lead: usize,
) -> Result<HashMap<u64, Vec<Message>>> {
    let mut by_lead: HashMap<u64, Vec<Message>> = HashMap::new();
    if per_lead == 0 || lead_ids.is_empty() {
        return Ok(by_lead);
    }
    let fields = odoo
        .fields_for("mail.message", MESSAGE_FIELDS)
        .await
        .context("could not read the fields of chatter messages (mail.message)")?;
    let domain = json!([
        ["model", "=", "crm.lead"],
        ["res_id", "in", lead_ids],
        ["message_type", "in", MESSAGE_TYPES]
    ]);
    // NOTE: this reads every message of the page's leads and keeps the newest per lead here,
    // because one call cannot limit per lead. A lead with thousands of messages makes the
    // answer large; a per-lead limit would need one call per lead.
    let records = odoo
        .search_read(
            "mail.message",
            domain,
            &fields,
            Some("date desc, id desc"),
            None,
            0,
        )
        .await
        .context("could not read the chatter messages of leads")?;
    for record in records {
        let Some(lead_id) = record.get("res_id").and_then(Value::as_u64) else {
            continue;
        };
        let kept = by_lead.entry(lead_id).or_default();
        if kept.len() >= per_lead {
            continue;
        }
        if let Some(message) = to_message(&record) {
            kept.push(message);
        }
    }
    Ok(by_lead)
}

/// Lead ids with messages created after `since` (`YYYY-MM-DD HH:MM:SS`, UTC).
pub async fn leads_with_new_messages(odoo: &OdooClient, since: &str) -> Result<Vec<u64>> {
    let fields = vec!["id".to_string(), "res_id".to_string()];
    let domain = json!([
        ["model", "=", "crm.lead"],
        ["message_type", "in", MESSAGE_TYPES],
        ["create_date", ">=", since]
    ]);
    let records = odoo
        .search_read("mail.message", domain, &fields, Some("id asc"), None, 0)
        .await
        .context("could not list new chatter messages")?;
    let mut ids: Vec<u64> = records
        .iter()
        .filter_map(|record| record.get("res_id").and_then(Value::as_u64))
        .filter(|id| *id > 0)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

fn to_message(record: &Map<String, Value>) -> Option<Message> {
    let text = match record.get("body") {
        Some(Value::String(html)) => message_to_text(html),
        _ => String::new(),
    };
    if text.is_empty() {
        return None;
    }
    let author = match record.get("author_id") {
        Some(Value::Array(pair)) => pair.get(1).and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
    .or_else(|| {
        record
            .get("email_from")
            .and_then(Value::as_str)
            .map(str::to_string)
    })
    .filter(|author| !author.trim().is_empty());
    Some(Message {
        id: record.get("id").and_then(Value::as_u64).unwrap_or(0),
        author,
        date: record
            .get("date")
            .and_then(Value::as_str)
            .map(str::to_string),
        text,
    })
}

/// The text block appended to a lead's text: oldest of the kept messages first, so the thread
/// reads in order.
pub fn messages_text(messages: &[Message]) -> String {
    let mut blocks = Vec::new();
    for message in messages.iter().rev() {
        let author = message.author.as_deref().unwrap_or("unknown sender");
        let header = match &message.date {
            Some(date) => format!(
                "Message from {author} on {}:",
                date.get(..10).unwrap_or(date)
            ),
            None => format!("Message from {author}:"),
        };
        blocks.push(format!("{header}\n{}", message.text));
    }
    blocks.join("\n")
}

/// Picks the message whose text shares the most words with the query, if it shares more with
/// it than `own_text` (the lead's own fields) does. Returns the first line of that message
/// that shares a word with the query, so the snippet shows why the message matched rather than
/// its greeting.
pub fn matching_snippet(query: &str, entries: &[Value], own_text: &str) -> Option<String> {
    let words = words_of(query);
    if words.is_empty() {
        return None;
    }
    let own = overlap(&words, own_text);
    entries
        .iter()
        .filter_map(|entry| {
            let preview = entry.get("preview").and_then(Value::as_str)?;
            let first = entry.get("first_line").and_then(Value::as_str)?;
            Some((overlap(&words, preview), preview, first))
        })
        .filter(|(score, _, _)| *score > own && *score > 0)
        .max_by_key(|(score, _, _)| *score)
        .map(|(_, preview, first)| {
            let line = matching_line(&words, preview).unwrap_or(first);
            super::document::cap_chars(line.to_string(), SNIPPET_CHARS)
        })
}

/// Counts the query words that occur in `text`.
fn overlap(words: &[String], text: &str) -> usize {
    let text_words = words_of(text);
    words
        .iter()
        .filter(|word| text_words.contains(*word))
        .count()
}

/// Returns the first line of `text` that shares a word with the query.
fn matching_line<'a>(words: &[String], text: &'a str) -> Option<&'a str> {
    text.lines().find(|line| overlap(words, line) > 0)
}

/// Lowercase words of three letters or more, with a crude plural fold ("backups" → "backup").
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| word.chars().count() >= 3)
        .map(|word| {
            let lower = word.to_lowercase();
            match lower.strip_suffix('s') {
                Some(stem) if stem.chars().count() >= 3 => stem.to_string(),
                _ => lower,
            }
        })
        .collect()
}

/// The payload entry of one message: first line for display, a longer preview for matching.
pub fn payload_entry(message: &Message) -> Value {
    json!({
        "first_line": message.first_line(),
        "preview": super::document::cap_chars(message.text.clone(), 1_000),
        "date": message.date,
        "author": message.author,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> Message {
        Message {
            id: 1,
            author: Some("Carrie Helle".to_string()),
            date: Some("2026-11-02 09:00:00".to_string()),
            text: text.to_string(),
        }
    }

    #[test]
    fn messages_text_reads_oldest_first() {
        let newest = message("Second");
        let oldest = Message {
            date: Some("2026-10-01 08:00:00".to_string()),
            ..message("First")
        };
        assert_eq!(
            messages_text(&[newest, oldest]),
            "Message from Carrie Helle on 2026-10-01:\nFirst\nMessage from Carrie Helle on 2026-11-02:\nSecond"
        );
    }

    #[test]
    fn snippet_prefers_message_match() {
        let entry = payload_entry(&message("We need weekly backups every Monday\nThanks"));
        let snippet = matching_snippet(
            "weekly backups every Monday",
            std::slice::from_ref(&entry),
            "Info about services",
        );
        assert_eq!(
            snippet.as_deref(),
            Some("We need weekly backups every Monday")
        );
        let none = matching_snippet("services", &[entry], "Info about services");
        assert_eq!(none, None);
    }

    #[test]
    fn snippet_is_the_matching_line() {
        let entry = payload_entry(&message(
            "Thanks for the information!\nHere is what we need:\nweekly backups, every Monday\n\
             a total capacity of about 2 TB",
        ));
        let snippet = matching_snippet(
            "weekly backups every Monday",
            &[entry],
            "Info about services",
        );
        assert_eq!(snippet.as_deref(), Some("weekly backups, every Monday"));
    }

    #[test]
    fn snippet_picks_the_best_message() {
        let greeting = payload_entry(&message("Hello!\nWe need a conference room"));
        let better = payload_entry(&message("Hi,\nseating for a conference room of 40"));
        let snippet = matching_snippet(
            "seating for a conference room",
            &[greeting, better],
            "Delta PC",
        );
        assert_eq!(
            snippet.as_deref(),
            Some("seating for a conference room of 40")
        );
    }

    #[test]
    fn empty_bodies_are_skipped() {
        let record = json!({"id": 3, "res_id": 31, "body": "<p><br></p>", "message_type": "email"});
        assert_eq!(to_message(record.as_object().unwrap()), None);
    }

    #[test]
    fn author_falls_back_to_email() {
        let record = json!({"id": 3, "res_id": 5, "body": "Hi", "author_id": false,
            "email_from": "helle@stonageit.example.com", "date": "2026-11-02 09:00:00"});
        let message = to_message(record.as_object().unwrap()).unwrap();
        assert_eq!(
            message.author.as_deref(),
            Some("helle@stonageit.example.com")
        );
    }
}
