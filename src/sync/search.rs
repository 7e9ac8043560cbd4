//! Search over the live collection: the query is embedded the same way as lead texts (dense
//! vector with the provider's `query` input type, BM25 locally), and the two are fused with
//! RRF when the index has dense vectors. Stage, salesperson and team filters name a value in
//! the index in any letter case.

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::check_layout;
use super::messages::matching_snippet;
use crate::embed::{Bm25, InputType, Provider};
use crate::index::{Hit, IndexStore, SearchFilter, SearchRequest, VectorIndex};

/// A search hit with the payload fields people read.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SearchHit {
    pub id: u64,
    pub score: f32,
    pub payload: serde_json::Map<String, Value>,
    /// The line of the chatter message the query matched that shares a word with the query,
    /// when the match came from a message.
    pub snippet: Option<String>,
}

impl SearchHit {
    /// The hit in the `search --json` shape.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.payload.get("name").cloned().unwrap_or(Value::Null),
            "score": self.score,
            "stage": self.payload.get("stage").cloned().unwrap_or(Value::Null),
            "partner": self.payload.get("partner").cloned().unwrap_or(Value::Null),
            "expected_revenue": self.payload.get("expected_revenue").cloned().unwrap_or(Value::Null),
            "active": self.payload.get("active").cloned().unwrap_or(Value::Bool(true)),
            "snippet": self.snippet,
            "message_count": self.payload.get("message_count").cloned().unwrap_or(Value::Null),
            "last_message_date": self.payload.get("last_message_date").cloned().unwrap_or(Value::Null),
        })
    }

    /// A payload field as text, or an empty string.
    pub fn text(&self, key: &str) -> String {
        match self.payload.get(key) {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Number(number)) => number.to_string(),
            _ => String::new(),
        }
    }
}

/// Searches the live collection. An index that does not exist yet gives no hits.
///
/// The dense vector is used only when the index was built with the configured model; otherwise
/// the search falls back to keywords and logs a warning. A stage, salesperson or team filter
/// that names no value in the index fails with a [`FilterError`].
pub async fn search<S: IndexStore>(
    store: &S,
    provider: Option<&Provider>,
    bm25: &Bm25,
    query: &str,
    filter: SearchFilter,
    limit: usize,
) -> Result<Vec<SearchHit>> {
    let Some(index) = store.open_live().await? else {
        tracing::warn!("the index is empty: run `crm-vec full-rebuild` first");
        return Ok(Vec::new());
    };
    let filter = resolve_filter(&index, filter).await?;
    let layout = index.layout();
    let dense_provider = match (provider, layout.dense_dimension) {
        (Some(provider), Some(_)) => match check_layout(&layout, Some(provider)) {
            Ok(()) => Some(provider),
            Err(message) => {
                tracing::warn!(
                    "{message}; searching by keywords only until `crm-vec full-rebuild` runs"
                );
                None
            }
        },
        (None, Some(_)) => {
            tracing::warn!(
                "the index has dense vectors but no embedding provider is configured; \
                 searching by keywords only"
            );
            None
        }
        _ => None,
    };
    let dense = match dense_provider {
        Some(provider) => {
            let vectors = provider
                .embed(&[query.to_string()], InputType::Query)
                .await
                .context("could not embed the query")?;
            vectors.into_iter().next()
        }
        None => None,
    };
    let request = SearchRequest {
        dense,
        sparse: bm25.embed_query(query),
        filter,
        limit,
    };
    let mut hits = index.search(request).await?;
    // Equal scores come back in an order that depends on storage layout; ties go by id so
    // that the same data always gives the same ranking.
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
    Ok(hits.into_iter().map(|hit| from_hit(hit, query)).collect())
}

/// A payload field that a search filters on by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedField {
    /// The payload field, which is also the name of the `crm-vec search` flag.
    pub key: &'static str,
    /// The field's name in the plural, for messages.
    pub plural: &'static str,
}

const STAGE: NamedField = NamedField {
    key: "stage",
    plural: "stages",
};
const SALESPERSON: NamedField = NamedField {
    key: "salesperson",
    plural: "salespeople",
};
const TEAM: NamedField = NamedField {
    key: "team",
    plural: "teams",
};

/// The maximum number of known values that a [`FilterError`] lists.
const LISTED_VALUES: usize = 30;

/// A stage, salesperson or team filter that names no value in the index, or several.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("no {} named '{given}' in the index; {}", .field.key, list_values(*.field, .known))]
    Unknown {
        field: NamedField,
        given: String,
        known: Vec<String>,
    },
    #[error(
        "'{given}' matches several {} when letter case is ignored ({}): give the exact name",
        .field.plural,
        .matches.join(", ")
    )]
    Ambiguous {
        field: NamedField,
        given: String,
        matches: Vec<String>,
    },
}

impl FilterError {
    /// Returns the field whose filter failed.
    pub fn field(&self) -> NamedField {
        match self {
            FilterError::Unknown { field, .. } | FilterError::Ambiguous { field, .. } => *field,
        }
    }
}

fn list_values(field: NamedField, known: &[String]) -> String {
    if known.is_empty() {
        return format!("the index has no {}", field.plural);
    }
    let mut list = known
        .iter()
        .take(LISTED_VALUES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if known.len() > LISTED_VALUES {
        list.push_str(&format!(" and {} more", known.len() - LISTED_VALUES));
    }
    format!("{}: {list}", field.plural)
}

/// Replaces each stage, salesperson and team name of `filter` with the value of the index that
/// it names: the same text, else the one value equal to it in any letter case.
async fn resolve_filter<I: VectorIndex>(
    index: &I,
    mut filter: SearchFilter,
) -> Result<SearchFilter> {
    for (field, name) in [
        (STAGE, &mut filter.stage),
        (SALESPERSON, &mut filter.salesperson),
        (TEAM, &mut filter.team),
    ] {
        let Some(given) = name.take() else {
            continue;
        };
        let known = index
            .field_values(field.key)
            .await
            .with_context(|| format!("could not list the {} in the index", field.plural))?;
        *name = Some(resolve_name(field, given, known)?);
    }
    Ok(filter)
}

fn resolve_name(
    field: NamedField,
    given: String,
    known: Vec<String>,
) -> Result<String, FilterError> {
    if known.contains(&given) {
        return Ok(given);
    }
    let wanted = given.trim().to_lowercase();
    let mut matches: Vec<String> = known
        .iter()
        .filter(|value| value.to_lowercase() == wanted)
        .cloned()
        .collect();
    match matches.len() {
        1 => Ok(matches.remove(0)),
        0 => Err(FilterError::Unknown {
            field,
            given,
            known,
        }),
        _ => Err(FilterError::Ambiguous {
            field,
            given,
            matches,
        }),
    }
}

fn from_hit(hit: Hit, query: &str) -> SearchHit {
    let own_text: Vec<String> = [
        "name",
        "partner",
        "contact_name",
        "stage",
        "city",
        "country",
    ]
    .iter()
    .filter_map(|key| hit.payload.get(*key).and_then(Value::as_str))
    .map(str::to_string)
    .collect();
    let snippet = match hit.payload.get("messages") {
        Some(Value::Array(entries)) => matching_snippet(query, entries, &own_text.join(" ")),
        _ => None,
    };
    SearchHit {
        id: hit.id,
        score: hit.score,
        payload: hit.payload,
        snippet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages() -> Vec<String> {
        ["New", "Proposition", "Qualified", "Won"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn exact_name_is_kept() {
        let name = resolve_name(STAGE, "Won".to_string(), stages()).unwrap();
        assert_eq!(name, "Won");
    }

    #[test]
    fn name_matches_in_any_case() {
        let name = resolve_name(STAGE, "won".to_string(), stages()).unwrap();
        assert_eq!(name, "Won");
        let shouted = resolve_name(STAGE, " PROPOSITION ".to_string(), stages()).unwrap();
        assert_eq!(shouted, "Proposition");
    }

    #[test]
    fn unknown_name_lists_known() {
        let err = resolve_name(STAGE, "Wonn".to_string(), stages()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no stage named 'Wonn' in the index; stages: New, Proposition, Qualified, Won"
        );
        assert_eq!(err.field(), STAGE);
    }

    #[test]
    fn unknown_name_in_empty_field() {
        let err = resolve_name(TEAM, "Europe".to_string(), Vec::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "no team named 'Europe' in the index; the index has no teams"
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let known: Vec<String> = (0..35).map(|n| format!("User {n:02}")).collect();
        let err = resolve_name(SALESPERSON, "Nobody".to_string(), known).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("User 29 and 5 more"), "{message}");
        assert!(!message.contains("User 30"), "{message}");
    }

    #[test]
    fn case_variants_are_ambiguous() {
        let known = vec!["Won".to_string(), "WON".to_string()];
        let err = resolve_name(STAGE, "won".to_string(), known).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'won' matches several stages when letter case is ignored (Won, WON): give the exact name"
        );
    }
}
