//! Translation of crm-vec searches into qdrant-edge query requests.

use qdrant_edge::external::ordered_float::OrderedFloat;
use qdrant_edge::{
    Condition, FieldCondition, Filter, Fusion, JsonPath, Match, NamedQuery, Prefetch, QueryEnum,
    QueryRequest, Range, ScoringQuery, ValueVariants, VectorInternal, WithPayloadInterface,
    WithVector,
};

use crate::index::{SearchFilter, DENSE_VECTOR, SPARSE_VECTOR};

/// RRF constant `k` in `1 / (k + rank)`, with ranks counted from 0. 2 is `DEFAULT_RRF_K` of
/// qdrant-edge 0.7.2. A server backend that uses the same `k` ranks hybrid results alike.
const RRF_K: usize = 2;

/// Minimum number of candidates each prefetch of a hybrid search passes to the fusion.
const MIN_PREFETCH_LIMIT: usize = 50;

/// Returns the number of candidates per prefetch for a hybrid search returning `limit` hits.
pub(super) fn prefetch_limit(limit: usize) -> usize {
    limit.saturating_mul(4).max(MIN_PREFETCH_LIMIT)
}

/// Builds the payload filter of a search, or `None` when nothing narrows it.
pub(super) fn payload_filter(filter: &SearchFilter) -> Option<Filter> {
    let mut must = Vec::new();

    let exact_matches = [
        ("stage", &filter.stage),
        ("salesperson", &filter.salesperson),
        ("team", &filter.team),
        ("type", &filter.lead_type),
    ];
    for (field, value) in exact_matches {
        if let Some(value) = value {
            must.push(match_value(field, ValueVariants::String(value.clone())));
        }
    }

    if filter.min_revenue.is_some() || filter.max_revenue.is_some() {
        let range = Range {
            lt: None,
            gt: None,
            gte: filter.min_revenue.map(OrderedFloat),
            lte: filter.max_revenue.map(OrderedFloat),
        };
        must.push(Condition::Field(FieldCondition::new_range(
            field_path("expected_revenue"),
            range,
        )));
    }

    if !filter.include_archived {
        must.push(match_value("active", ValueVariants::Bool(true)));
    }

    if must.is_empty() {
        return None;
    }
    Some(Filter {
        must: Some(must),
        ..Filter::default()
    })
}

/// Parses the JSON path of a top-level payload field named by a constant in this module or in
/// `index.rs`.
pub(super) fn field_path(name: &str) -> JsonPath {
    name.parse()
        .unwrap_or_else(|()| panic!("{name:?} is not a valid payload field path"))
}

fn match_value(field: &str, value: ValueVariants) -> Condition {
    Condition::Field(FieldCondition::new_match(
        field_path(field),
        Match::new_value(value),
    ))
}

/// Builds a nearest-neighbour query on one named vector.
pub(super) fn nearest(vector_name: &str, vector: VectorInternal) -> ScoringQuery {
    ScoringQuery::Vector(QueryEnum::Nearest(NamedQuery {
        query: vector,
        using: Some(vector_name.to_string()),
    }))
}

/// Builds a query on a single vector, with the payload filter applied during the vector search.
pub(super) fn single_query(
    query: ScoringQuery,
    filter: Option<Filter>,
    limit: usize,
) -> QueryRequest {
    QueryRequest {
        prefetches: Vec::new(),
        query: Some(query),
        filter,
        score_threshold: None,
        limit,
        offset: 0,
        params: None,
        with_vector: WithVector::Bool(false),
        with_payload: WithPayloadInterface::Bool(true),
    }
}

/// Builds a hybrid query: a dense and a sparse prefetch, each filtered, fused with RRF.
pub(super) fn hybrid_query(
    dense: Vec<f32>,
    sparse: VectorInternal,
    filter: Option<Filter>,
    limit: usize,
) -> QueryRequest {
    let candidates = prefetch_limit(limit);
    let prefetch = |query: ScoringQuery| Prefetch {
        prefetches: Vec::new(),
        query: Some(query),
        limit: candidates,
        params: None,
        filter: filter.clone(),
        score_threshold: None,
    };

    QueryRequest {
        prefetches: vec![
            prefetch(nearest(DENSE_VECTOR, VectorInternal::Dense(dense))),
            prefetch(nearest(SPARSE_VECTOR, sparse)),
        ],
        query: Some(ScoringQuery::Fusion(Fusion::Rrf {
            k: RRF_K,
            weights: None,
        })),
        filter: None,
        score_threshold: None,
        limit,
        offset: 0,
        params: None,
        with_vector: WithVector::Bool(false),
        with_payload: WithPayloadInterface::Bool(true),
    }
}
