//! Search over the live collection: the query is embedded the same way as lead texts (dense
//! vector with the provider's `query` input type, BM25 locally), and the two are fused with
//! RRF when the index has dense vectors.

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
/// the search falls back to keywords and logs a warning.
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
