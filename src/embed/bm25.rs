//! Sparse BM25 vectors computed locally with Qdrant's own tokenizer (`qdrant-edge`), so that
//! keyword search works with or without a dense embedding provider.

use std::sync::Arc;

use qdrant_edge::bm25_embed::{EdgeBm25, EdgeBm25Config};

use crate::index::SparseVector;

/// A BM25 model with Qdrant's default English configuration: lowercasing, English stopwords and
/// stemmer, `k` 1.2, `b` 0.75 and an average document length of 256 tokens.
///
/// Documents and queries go through the same tokenizer and term hashing, so a word gets the same
/// index in both. Their values differ as in Qdrant's server-side BM25: a document carries the
/// term-frequency part of BM25, a query 1.0 per distinct term. No IDF is applied here, because
/// the index applies its IDF modifier at search time.
#[derive(Clone, Debug)]
pub struct Bm25 {
    model: Arc<EdgeBm25>,
}

impl Bm25 {
    pub fn new() -> Self {
        // The default configuration has valid parameters and a supported language, the only
        // two things `EdgeBm25::new` checks.
        let model = EdgeBm25::new(EdgeBm25Config::default())
            .expect("the default BM25 configuration is valid");
        Self {
            model: Arc::new(model),
        }
    }

    /// Embeds the text of a lead for indexing.
    pub fn embed_document(&self, text: &str) -> SparseVector {
        let vector = self.model.embed_document(text);
        SparseVector {
            indices: vector.indices,
            values: vector.values,
        }
    }

    /// Embeds a search query.
    pub fn embed_query(&self, text: &str) -> SparseVector {
        let vector = self.model.embed_query(text);
        SparseVector {
            indices: vector.indices,
            values: vector.values,
        }
    }
}

impl Default for Bm25 {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_and_query_share_indices() {
        let bm25 = Bm25::new();
        let document = bm25.embed_document("furniture");
        let query = bm25.embed_query("furniture");

        assert_eq!(document.indices.len(), 1);
        assert_eq!(document.indices, query.indices);
    }

    #[test]
    fn stemming_matches_word_forms() {
        let bm25 = Bm25::new();
        let document = bm25.embed_document("Delivery delays worried the customer");
        let query = bm25.embed_query("customers worried about delays");

        let shared = query
            .indices
            .iter()
            .filter(|index| document.indices.contains(index))
            .count();
        // "customer(s)", "worried" and "delay(s)" stem alike. "about" and "the" are stopwords.
        assert_eq!(shared, 3);
        assert_eq!(query.indices.len(), 3);
    }

    #[test]
    fn repeated_words_share_one_index() {
        let bm25 = Bm25::new();
        let document = bm25.embed_document("chair chair chair table");

        assert_eq!(document.indices.len(), 2);
        assert_eq!(document.values.len(), 2);
    }

    #[test]
    fn query_values_are_one() {
        let bm25 = Bm25::new();
        let query = bm25.embed_query("big furniture deal furniture");

        assert_eq!(query.indices.len(), 3);
        assert!(query.values.iter().all(|&value| value == 1.0), "{query:?}");
    }

    #[test]
    fn empty_text_gives_empty_vector() {
        let bm25 = Bm25::new();

        assert_eq!(bm25.embed_document(""), SparseVector::default());
        assert_eq!(bm25.embed_query(""), SparseVector::default());
        assert_eq!(bm25.embed_query("the and of"), SparseVector::default());
    }

    #[test]
    fn model_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Bm25>();
    }
}
