//! Translation of crm-vec's collections, points and searches into Qdrant's gRPC messages.
//!
//! Everything here is a pure function, so the messages can be checked without a server. The
//! searches mirror the embedded index's: the same filter conditions, the same prefetch sizes
//! and RRF fusion with the same `k`.

use std::collections::HashMap;

use qdrant_client::qdrant::{
    alias_operations::Action, condition::ConditionOneOf, r#match::MatchValue, vectors_config,
    with_payload_selector, with_vectors_selector, AliasOperations, ChangeAliases, Condition,
    CreateAlias, CreateCollection, DeleteAlias, Distance, FieldCondition, FieldType, Filter,
    Fusion, Match, Modifier, PointId, PointStruct, PrefetchQuery, Query, QueryPoints, Range,
    SparseVectorConfig, SparseVectorParams, Vector, VectorInput, VectorParams, VectorParamsMap,
    Vectors, VectorsConfig, VectorsSelector, WithPayloadSelector, WithVectorsSelector,
};
use serde_json::{Map, Value as JsonValue};

use crate::index::{IndexLayout, Point, SearchFilter, SearchRequest, DENSE_VECTOR, SPARSE_VECTOR};

/// Minimum number of candidates each prefetch of a hybrid search passes to the fusion, the
/// same as the embedded index's.
const MIN_PREFETCH_LIMIT: usize = 50;

/// Payload fields with an index, by type: the same fields and types as the embedded index, so
/// that a filter costs the same on both.
pub(super) const PAYLOAD_INDEXES: &[(&str, FieldType)] = &[
    ("stage", FieldType::Keyword),
    ("salesperson", FieldType::Keyword),
    ("team", FieldType::Keyword),
    ("type", FieldType::Keyword),
    ("tags", FieldType::Keyword),
    ("won_status", FieldType::Keyword),
    ("country", FieldType::Keyword),
    ("priority", FieldType::Keyword),
    ("text_hash", FieldType::Keyword),
    ("active", FieldType::Bool),
    ("stage_id", FieldType::Integer),
    ("user_id", FieldType::Integer),
    ("team_id", FieldType::Integer),
    ("expected_revenue", FieldType::Float),
    ("probability", FieldType::Float),
    ("write_date", FieldType::Datetime),
    ("create_date", FieldType::Datetime),
    ("date_deadline", FieldType::Datetime),
];

/// Returns the number of candidates per prefetch for a hybrid search returning `limit` hits.
pub(super) fn prefetch_limit(limit: usize) -> usize {
    limit.saturating_mul(4).max(MIN_PREFETCH_LIMIT)
}

/// Builds the request that creates a lead collection with the vectors of `layout`: a cosine
/// `dense` vector when the layout has a dimension, and always a `bm25` sparse vector whose
/// weights Qdrant scales by IDF at query time.
pub(super) fn create_lead_collection(name: &str, layout: &IndexLayout) -> CreateCollection {
    let mut dense = HashMap::new();
    if let Some(dimension) = layout.dense_dimension {
        dense.insert(
            DENSE_VECTOR.to_string(),
            VectorParams {
                size: dimension as u64,
                distance: Distance::Cosine.into(),
                ..VectorParams::default()
            },
        );
    }
    let sparse = HashMap::from([(
        SPARSE_VECTOR.to_string(),
        SparseVectorParams {
            modifier: Some(Modifier::Idf.into()),
            ..SparseVectorParams::default()
        },
    )]);

    CreateCollection {
        collection_name: name.to_string(),
        vectors_config: Some(VectorsConfig {
            config: Some(vectors_config::Config::ParamsMap(VectorParamsMap {
                map: dense,
            })),
        }),
        sparse_vectors_config: Some(SparseVectorConfig { map: sparse }),
        metadata: created_by_metadata(),
        ..CreateCollection::default()
    }
}

/// Builds the request that creates the companion collection holding sync state. Its points
/// carry a one-dimensional placeholder vector, because servers before 1.16 need a vector
/// configuration for every collection.
pub(super) fn create_state_collection(name: &str) -> CreateCollection {
    CreateCollection {
        collection_name: name.to_string(),
        vectors_config: Some(VectorsConfig {
            config: Some(vectors_config::Config::Params(VectorParams {
                size: 1,
                distance: Distance::Dot.into(),
                ..VectorParams::default()
            })),
        }),
        metadata: created_by_metadata(),
        ..CreateCollection::default()
    }
}

/// Collection metadata naming crm-vec as the creator, for people browsing the server.
/// Servers before 1.16 ignore it, so crm-vec recognizes its collections by their state
/// records instead.
fn created_by_metadata() -> HashMap<String, qdrant_client::qdrant::Value> {
    HashMap::from([("created_by".to_string(), "crm-vec".to_string().into())])
}

/// Builds the request that points `alias` at `target`. An existing alias (`replace`) is
/// deleted and created again in the same request, which Qdrant applies as one change, so no
/// search finds the alias missing.
pub(super) fn switch_alias(alias: &str, target: &str, replace: bool) -> ChangeAliases {
    let mut actions = Vec::with_capacity(2);
    if replace {
        actions.push(delete_alias_action(alias));
    }
    actions.push(AliasOperations {
        action: Some(Action::CreateAlias(CreateAlias {
            collection_name: target.to_string(),
            alias_name: alias.to_string(),
        })),
    });
    ChangeAliases {
        actions,
        timeout: None,
    }
}

/// Builds the request that deletes `alias`, leaving its collection.
pub(super) fn delete_alias(alias: &str) -> ChangeAliases {
    ChangeAliases {
        actions: vec![delete_alias_action(alias)],
        timeout: None,
    }
}

fn delete_alias_action(alias: &str) -> AliasOperations {
    AliasOperations {
        action: Some(Action::DeleteAlias(DeleteAlias {
            alias_name: alias.to_string(),
        })),
    }
}

/// Converts a point; the caller has checked the dense vector against the layout.
pub(super) fn point_struct(point: Point) -> PointStruct {
    let mut vectors: HashMap<String, Vector> = HashMap::new();
    if let Some(dense) = point.dense {
        vectors.insert(DENSE_VECTOR.to_string(), Vector::new_dense(dense));
    }
    vectors.insert(
        SPARSE_VECTOR.to_string(),
        Vector::new_sparse(point.sparse.indices, point.sparse.values),
    );
    PointStruct {
        id: Some(PointId::from(point.id)),
        payload: to_qdrant_payload(point.payload),
        vectors: Some(Vectors::from(vectors)),
    }
}

pub(super) fn to_qdrant_payload(
    payload: Map<String, JsonValue>,
) -> HashMap<String, qdrant_client::qdrant::Value> {
    qdrant_client::Payload::from(payload).into()
}

pub(super) fn from_qdrant_payload(
    payload: HashMap<String, qdrant_client::qdrant::Value>,
) -> Map<String, JsonValue> {
    qdrant_client::Payload::from(payload).into()
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
            // Built by hand: `MatchValue::from(String)` turns a value with a space, such as
            // a salesperson's name, into a full-text match.
            must.push(match_condition(field, MatchValue::Keyword(value.clone())));
        }
    }

    if filter.min_revenue.is_some() || filter.max_revenue.is_some() {
        let range = Range {
            gte: filter.min_revenue,
            lte: filter.max_revenue,
            ..Range::default()
        };
        must.push(Condition::range("expected_revenue", range));
    }

    if !filter.include_archived {
        must.push(match_condition("active", MatchValue::Boolean(true)));
    }

    if must.is_empty() {
        return None;
    }
    Some(Filter::must(must))
}

fn match_condition(field: &str, value: MatchValue) -> Condition {
    Condition {
        condition_one_of: Some(ConditionOneOf::Field(FieldCondition {
            key: field.to_string(),
            r#match: Some(Match {
                match_value: Some(value),
            }),
            ..FieldCondition::default()
        })),
    }
}

/// Builds the query of a search whose vectors were checked against the layout, or `None`
/// when it cannot match anything (no limit, or neither a dense nor a non-empty sparse vector).
///
/// Dense and sparse are fused with RRF when both are present, as in the embedded index; a
/// query with one of them searches that vector alone.
pub(super) fn search_query(collection: &str, request: SearchRequest) -> Option<QueryPoints> {
    let SearchRequest {
        dense,
        sparse,
        filter,
        limit,
    } = request;
    if limit == 0 || (dense.is_none() && sparse.indices.is_empty()) {
        return None;
    }

    let filter = payload_filter(&filter);
    let sparse_input = VectorInput::new_sparse(sparse.indices.clone(), sparse.values);
    let base = QueryPoints {
        collection_name: collection.to_string(),
        limit: Some(limit as u64),
        with_payload: Some(with_payload(true)),
        with_vectors: Some(with_vectors(false)),
        ..QueryPoints::default()
    };

    let query = match dense {
        Some(dense) if sparse.indices.is_empty() => QueryPoints {
            query: Some(Query::new_nearest(VectorInput::new_dense(dense))),
            using: Some(DENSE_VECTOR.to_string()),
            filter,
            ..base
        },
        Some(dense) => {
            let candidates = prefetch_limit(limit) as u64;
            let prefetch = |vector: &str, input: VectorInput| PrefetchQuery {
                query: Some(Query::new_nearest(input)),
                using: Some(vector.to_string()),
                filter: filter.clone(),
                limit: Some(candidates),
                ..PrefetchQuery::default()
            };
            QueryPoints {
                prefetch: vec![
                    prefetch(DENSE_VECTOR, VectorInput::new_dense(dense)),
                    prefetch(SPARSE_VECTOR, sparse_input),
                ],
                // Plain `Fusion::Rrf` rather than `Rrf { k }`: servers before 1.16 do not know
                // the parameterized form, and every server's default k is 2, the same as
                // qdrant-edge 0.7.2's `DEFAULT_RRF_K` that the embedded index passes.
                query: Some(Query::new_fusion(Fusion::Rrf)),
                ..base
            }
        }
        None => QueryPoints {
            query: Some(Query::new_nearest(sparse_input)),
            using: Some(SPARSE_VECTOR.to_string()),
            filter,
            ..base
        },
    };
    Some(query)
}

pub(super) fn with_payload(enable: bool) -> WithPayloadSelector {
    WithPayloadSelector {
        selector_options: Some(with_payload_selector::SelectorOptions::Enable(enable)),
    }
}

pub(super) fn with_vectors(enable: bool) -> WithVectorsSelector {
    WithVectorsSelector {
        selector_options: Some(with_vectors_selector::SelectorOptions::Enable(enable)),
    }
}

/// Selects the dense vector only.
pub(super) fn with_dense_vector() -> WithVectorsSelector {
    WithVectorsSelector {
        selector_options: Some(with_vectors_selector::SelectorOptions::Include(
            VectorsSelector {
                names: vec![DENSE_VECTOR.to_string()],
            },
        )),
    }
}
