//! Search hits as a tool result: a structured list for programs, and compact text for a
//! model's context, each hit with a link to the lead in Odoo.

use serde_json::{json, Map, Value};

use crate::output::format_amount;
use crate::sync::search::SearchHit;

/// The maximum length of the snippet of one hit, in characters.
const SNIPPET_CHARS: usize = 160;

/// How links to a lead are written, which depends on the Odoo version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeadLinks {
    /// No `ODOO_URL` is configured: hits carry no link.
    None,
    /// `{base}/odoo/crm/{id}`, the URL form of Odoo 18 and later.
    Odoo18 { base: String },
    /// `{base}/web#id={id}&model=crm.lead&view_type=form`, which every version still opens.
    Web { base: String },
}

impl LeadLinks {
    /// The link form for a server at `base` whose major version is `major`, when known.
    pub fn for_version(base: Option<&str>, major: Option<u32>) -> LeadLinks {
        let Some(base) = base.map(|url| url.trim_end_matches('/').to_string()) else {
            return LeadLinks::None;
        };
        match major {
            Some(major) if major >= 18 => LeadLinks::Odoo18 { base },
            _ => LeadLinks::Web { base },
        }
    }

    pub fn url(&self, id: u64) -> Option<String> {
        match self {
            LeadLinks::None => None,
            LeadLinks::Odoo18 { base } => Some(format!("{base}/odoo/crm/{id}")),
            LeadLinks::Web { base } => {
                Some(format!("{base}/web#id={id}&model=crm.lead&view_type=form"))
            }
        }
    }
}

/// Builds the structured content of a search result.
pub fn hits_json(query: &str, hits: &[SearchHit], links: &LeadLinks) -> Value {
    let hits: Vec<Value> = hits.iter().map(|hit| hit_json(hit, links)).collect();
    json!({"query": query, "count": hits.len(), "hits": hits})
}

fn hit_json(hit: &SearchHit, links: &LeadLinks) -> Value {
    let field = |key: &str| hit.payload.get(key).cloned().unwrap_or(Value::Null);
    json!({
        "id": hit.id,
        "name": field("name"),
        "customer": field("partner"),
        "type": field("type"),
        "stage": field("stage"),
        "salesperson": field("salesperson"),
        "team": field("team"),
        "expected_revenue": field("expected_revenue"),
        "probability": field("probability"),
        "active": hit.payload.get("active").cloned().unwrap_or(Value::Bool(true)),
        "score": hit.score,
        "snippet": hit_snippet(hit),
        "url": links.url(hit.id),
    })
}

/// Maximum length of the query quoted back in the text, in characters: the text is sized for a model's
/// context, and a pasted document as the query would fill it.
const MAX_QUOTED_QUERY_CHARS: usize = 200;

/// Quotes the query as the text repeats it, cut to [`MAX_QUOTED_QUERY_CHARS`].
fn quoted_query(query: &str) -> String {
    match query.char_indices().nth(MAX_QUOTED_QUERY_CHARS) {
        Some((end, _)) => format!("{:?}…", &query[..end]),
        None => format!("{query:?}"),
    }
}

/// Builds the text content of a search result: one short block per hit.
pub fn hits_text(query: &str, hits: &[SearchHit], links: &LeadLinks) -> String {
    let query = quoted_query(query);
    if hits.is_empty() {
        return format!("No leads match {query}.");
    }
    let noun = if hits.len() == 1 { "lead" } else { "leads" };
    let mut text = format!("{} {noun} for {query}, best first:\n", hits.len());
    for (rank, hit) in hits.iter().enumerate() {
        text.push('\n');
        text.push_str(&hit_text(rank + 1, hit, links));
    }
    text
}

fn hit_text(rank: usize, hit: &SearchHit, links: &LeadLinks) -> String {
    let mut facts = Vec::new();
    let mut push = |label: &str, value: String| {
        if !value.is_empty() {
            facts.push(format!("{label} {value}"));
        }
    };
    push("customer", hit.text("partner"));
    push("stage", hit.text("stage"));
    push("salesperson", hit.text("salesperson"));
    let number = |key: &str| hit.payload.get(key).and_then(Value::as_f64);
    push(
        "revenue",
        number("expected_revenue")
            .map(format_amount)
            .unwrap_or_default(),
    );
    push(
        "probability",
        number("probability")
            .map(|p| format!("{}%", format_amount(p)))
            .unwrap_or_default(),
    );
    push("score", format!("{:.3}", hit.score));
    if hit.payload.get("active") == Some(&Value::Bool(false)) {
        facts.push("archived".to_string());
    }

    let mut block = format!(
        "{rank}. [{}] {}\n   {}\n",
        hit.id,
        hit.text("name"),
        facts.join(" · ")
    );
    let snippet = hit_snippet(hit);
    if !snippet.is_empty() {
        block.push_str(&format!("   {snippet}\n"));
    }
    if let Some(url) = links.url(hit.id) {
        block.push_str(&format!("   {url}\n"));
    }
    block
}

/// Builds the snippet of a hit: the line of the chatter message that the query matched, when
/// the match came from one, else the details that the summary line leaves out.
fn hit_snippet(hit: &SearchHit) -> String {
    let line = match &hit.snippet {
        Some(message) => format!("matched message: {message}"),
        None => field_summary(&hit.payload),
    };
    cap_snippet(line)
}

/// Builds one line of the details that the summary line of a hit leaves out: tags, contact,
/// place, priority and deadline. The payload has no description text to quote.
fn field_summary(payload: &Map<String, Value>) -> String {
    let text = |key: &str| match payload.get(key) {
        Some(Value::String(value)) if !value.trim().is_empty() => Some(value.trim().to_string()),
        _ => None,
    };
    let mut parts = Vec::new();
    if let Some(Value::Array(tags)) = payload.get("tags") {
        let tags: Vec<&str> = tags.iter().filter_map(Value::as_str).collect();
        if !tags.is_empty() {
            parts.push(format!("tags {}", tags.join(", ")));
        }
    }
    if let Some(contact) = text("contact_name") {
        parts.push(format!("contact {contact}"));
    }
    let place: Vec<String> = [text("city"), text("country")]
        .into_iter()
        .flatten()
        .collect();
    if !place.is_empty() {
        parts.push(place.join(", "));
    }
    if let Some(stars) = text("priority").and_then(|p| p.parse::<usize>().ok()) {
        if stars > 0 {
            parts.push(format!("priority {}", "★".repeat(stars.min(3))));
        }
    }
    if let Some(deadline) = text("date_deadline") {
        // The payload stores a date as midnight UTC, so the time adds nothing.
        let date = deadline.strip_suffix("T00:00:00Z").unwrap_or(&deadline);
        parts.push(format!("deadline {date}"));
    }
    parts.join(" · ")
}

/// Cuts a snippet to [`SNIPPET_CHARS`] characters, ending a cut one with `…`.
fn cap_snippet(line: String) -> String {
    if line.chars().count() <= SNIPPET_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(SNIPPET_CHARS - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: u64, payload: Value) -> SearchHit {
        SearchHit {
            id,
            score: 0.5,
            payload: payload.as_object().cloned().unwrap_or_default(),
            snippet: None,
        }
    }

    #[test]
    fn links_follow_the_version() {
        let base = Some("https://acme.odoo.com/");
        assert_eq!(
            LeadLinks::for_version(base, Some(18)).url(7).as_deref(),
            Some("https://acme.odoo.com/odoo/crm/7")
        );
        assert_eq!(
            LeadLinks::for_version(base, Some(19)).url(7).as_deref(),
            Some("https://acme.odoo.com/odoo/crm/7")
        );
        assert_eq!(
            LeadLinks::for_version(base, Some(17)).url(7).as_deref(),
            Some("https://acme.odoo.com/web#id=7&model=crm.lead&view_type=form")
        );
        assert_eq!(
            LeadLinks::for_version(base, None).url(7).as_deref(),
            Some("https://acme.odoo.com/web#id=7&model=crm.lead&view_type=form")
        );
        assert_eq!(LeadLinks::for_version(None, Some(18)).url(7), None);
    }

    #[test]
    fn text_lists_the_facts_of_each_hit() {
        let hits = vec![hit(
            22,
            json!({
                "name": "Office chairs",
                "partner": "Deco Addict",
                "stage": "Proposition",
                "salesperson": "Marc Demo",
                "expected_revenue": 35000.0,
                "probability": 60.0,
                "tags": ["Furniture"],
                "city": "Brussels",
                "country": "Belgium",
                "priority": "2",
                "date_deadline": "2026-11-16T00:00:00Z",
            }),
        )];
        let links = LeadLinks::for_version(Some("http://odoo"), Some(18));
        assert_eq!(
            hits_text("chairs", &hits, &links),
            "1 lead for \"chairs\", best first:\n\n\
             1. [22] Office chairs\n   \
             customer Deco Addict · stage Proposition · salesperson Marc Demo · revenue 35,000 \
             · probability 60% · score 0.500\n   \
             tags Furniture · Brussels, Belgium · priority ★★ · deadline 2026-11-16\n   \
             http://odoo/odoo/crm/22\n"
        );
    }

    #[test]
    fn missing_fields_are_left_out() {
        let hits = vec![hit(3, json!({"name": "Bare", "active": false}))];
        assert_eq!(
            hits_text("x", &hits, &LeadLinks::None),
            "1 lead for \"x\", best first:\n\n1. [3] Bare\n   score 0.500 · archived\n"
        );
        assert_eq!(
            hits_text("x", &[], &LeadLinks::None),
            "No leads match \"x\"."
        );
    }

    #[test]
    fn long_query_is_cut_in_the_text() {
        let query = "é".repeat(5_000);
        let expected = format!("No leads match \"{}\"….", "é".repeat(200));
        assert_eq!(hits_text(&query, &[], &LeadLinks::None), expected);
    }

    #[test]
    fn structured_hit_has_the_documented_keys() {
        let value = hits_json(
            "q",
            &[hit(5, json!({"name": "A", "partner": "B"}))],
            &LeadLinks::for_version(Some("http://odoo"), Some(17)),
        );
        assert_eq!(value["count"], json!(1));
        assert_eq!(value["hits"][0]["customer"], json!("B"));
        assert_eq!(value["hits"][0]["active"], json!(true));
        assert_eq!(
            value["hits"][0]["url"],
            json!("http://odoo/web#id=5&model=crm.lead&view_type=form")
        );
    }

    #[test]
    fn matched_message_is_the_snippet() {
        let mut matched = hit(
            15,
            json!({"name": "Info about services", "tags": ["Product"]}),
        );
        matched.snippet = Some("weekly backups, every Monday".to_string());
        let value = hits_json("backups", std::slice::from_ref(&matched), &LeadLinks::None);
        assert_eq!(
            value["hits"][0]["snippet"],
            json!("matched message: weekly backups, every Monday")
        );
        assert_eq!(
            hits_text("backups", &[matched], &LeadLinks::None),
            "1 lead for \"backups\", best first:\n\n\
             1. [15] Info about services\n   score 0.500\n   \
             matched message: weekly backups, every Monday\n"
        );
    }

    #[test]
    fn fields_are_the_snippet_without_a_match() {
        let value = hits_json(
            "x",
            &[hit(15, json!({"name": "A", "tags": ["Product"]}))],
            &LeadLinks::None,
        );
        assert_eq!(value["hits"][0]["snippet"], json!("tags Product"));
    }

    #[test]
    fn snippet_is_capped() {
        let snippet = hit_snippet(&hit(1, json!({"tags": ["x".repeat(400)]})));
        assert_eq!(snippet.chars().count(), SNIPPET_CHARS);
        assert!(snippet.ends_with('…'));
    }
}
