//! [`ServerIndex`]: one collection of lead points on a Qdrant server.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use qdrant_client::qdrant::{
    facet_value::Variant as FacetVariant, point_id::PointIdOptions,
    points_selector::PointsSelectorOneOf, points_update_operation::Operation,
    points_update_operation::OverwritePayload, vector_output::Vector as VectorOutputKind,
    CountPoints, DeletePoints, FacetCounts, GetPoints, PointId, PointsIdsList, PointsSelector,
    PointsUpdateOperation, RetrievedPoint, ScrollPoints, UpdateBatchPoints, UpsertPoints,
};
use serde_json::{Map, Value};

use super::connection::Connection;
use super::query;
use crate::index::{
    Hit, IndexError, IndexLayout, IndexResult, Point, SearchRequest, StoredPoint, VectorIndex,
    DENSE_VECTOR, MAX_FIELD_VALUES,
};

/// Points per upsert request, and payload updates per batch request.
const WRITE_BATCH: usize = 256;
/// Ids per retrieve request, and points per scroll page when listing every id.
const READ_PAGE: usize = 1_000;

/// A collection of lead points on a Qdrant server.
///
/// The live index addresses the collection through its alias, so a search that runs while a
/// rebuild switches the alias reads either the old or the new collection, never a deleted
/// one. A staging index addresses its collection by name and remembers the ids written to
/// it, which commit compares with the server's count.
///
/// Every write waits until the server has applied it (`wait: true`), each batch and not only
/// the last of a run. A full rebuild counts the points exactly right after its last write. In a
/// cluster, a wait on the last batch covers only the shards that batch touched, so points still
/// being applied on other shards would fail the count and abort the rebuild. The cost is the
/// server's apply time, once per batch of `WRITE_BATCH` (256) points.
#[derive(Debug, Clone)]
pub struct ServerIndex {
    connection: Arc<Connection>,
    /// The alias for the live index, the collection name for a staging index.
    collection: Arc<str>,
    layout: IndexLayout,
    /// Ids written to a staging index and not deleted since; `None` for the live index.
    written: Option<Arc<Mutex<BTreeSet<u64>>>>,
}

impl ServerIndex {
    pub(super) fn live(connection: Arc<Connection>, alias: &str, layout: IndexLayout) -> Self {
        Self {
            connection,
            collection: alias.into(),
            layout,
            written: None,
        }
    }

    pub(super) fn staging(
        connection: Arc<Connection>,
        collection: &str,
        layout: IndexLayout,
    ) -> Self {
        Self {
            connection,
            collection: collection.into(),
            layout,
            written: Some(Arc::new(Mutex::new(BTreeSet::new()))),
        }
    }

    /// Returns the alias or collection name that requests go to.
    pub fn collection(&self) -> &str {
        &self.collection
    }

    /// Returns how many distinct points were written to this staging index and not deleted.
    pub(super) fn written_count(&self) -> Option<u64> {
        let written = self.written.as_ref()?;
        let ids = written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Some(ids.len() as u64)
    }

    fn note_written(&self, ids: impl IntoIterator<Item = u64>, added: bool) {
        let Some(written) = &self.written else {
            return;
        };
        let mut set = written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for id in ids {
            if added {
                set.insert(id);
            } else {
                set.remove(&id);
            }
        }
    }

    /// Checks a point's dense vector against the layout, with the embedded index's messages.
    fn check_point(&self, point: &Point) -> IndexResult<()> {
        match (&point.dense, self.layout.dense_dimension) {
            (Some(dense), Some(dimension)) if dense.len() != dimension => {
                Err(IndexError::Incompatible(format!(
                    "lead {} has a dense vector of dimension {}, but the index was built for \
                     dimension {dimension}; use the same embedding model or run a full rebuild",
                    point.id,
                    dense.len(),
                )))
            }
            (Some(_), None) => Err(IndexError::Incompatible(format!(
                "lead {} has a dense vector, but the index was built without one; run a full \
                 rebuild to add dense vectors",
                point.id,
            ))),
            _ if point.sparse.indices.len() != point.sparse.values.len() => {
                Err(IndexError::Engine(format!(
                    "invalid sparse vector for lead {}: {} indices but {} values",
                    point.id,
                    point.sparse.indices.len(),
                    point.sparse.values.len(),
                )))
            }
            _ => Ok(()),
        }
    }

    fn check_query(&self, request: &SearchRequest) -> IndexResult<()> {
        let Some(dense) = &request.dense else {
            return Ok(());
        };
        match self.layout.dense_dimension {
            None => Err(IndexError::Incompatible(
                "the query has a dense vector, but the index was built without dense vectors; \
                 search by keywords only or run a full rebuild with an embedding provider"
                    .to_string(),
            )),
            Some(dimension) if dense.len() != dimension => Err(IndexError::Incompatible(format!(
                "the query vector has dimension {}, but the index was built for dimension \
                 {dimension}; use the embedding model the index was built with",
                dense.len(),
            ))),
            Some(_) => Ok(()),
        }
    }

    /// Reads points by id in pages, with or without payload and dense vector.
    async fn get(
        &self,
        ids: &[u64],
        with_payload: bool,
        with_dense: bool,
    ) -> IndexResult<Vec<RetrievedPoint>> {
        let mut points = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(READ_PAGE) {
            let request = GetPoints {
                collection_name: self.collection.to_string(),
                ids: chunk.iter().map(|id| PointId::from(*id)).collect(),
                with_payload: Some(query::with_payload(with_payload)),
                with_vectors: Some(if with_dense {
                    query::with_dense_vector()
                } else {
                    query::with_vectors(false)
                }),
                ..GetPoints::default()
            };
            let what = format!("read points of {}", self.collection);
            let response = self
                .connection
                .points_call(&what, &request, |mut client, request| async move {
                    client.get(request).await
                })
                .await?;
            points.extend(response.result);
        }
        Ok(points)
    }

    /// Returns which of `ids` are in the collection.
    async fn existing_ids(&self, ids: &[u64]) -> IndexResult<BTreeSet<u64>> {
        let points = self.get(ids, false, false).await?;
        points
            .iter()
            .map(|point| numeric_id(point.id.as_ref()))
            .collect()
    }

    async fn upsert_batch(&self, points: Vec<Point>) -> IndexResult<()> {
        let ids: Vec<u64> = points.iter().map(|point| point.id).collect();
        let request = UpsertPoints {
            collection_name: self.collection.to_string(),
            // Every batch waits, for the reason in the documentation of `ServerIndex`.
            wait: Some(true),
            points: points.into_iter().map(query::point_struct).collect(),
            ..UpsertPoints::default()
        };
        let what = format!("upsert {} points into {}", ids.len(), self.collection);
        self.connection
            .points_call(&what, &request, |mut client, request| async move {
                client.upsert(request).await
            })
            .await?;
        self.note_written(ids, true);
        Ok(())
    }
}

impl VectorIndex for ServerIndex {
    async fn upsert(&self, points: Vec<Point>) -> IndexResult<()> {
        for point in &points {
            self.check_point(point)?;
        }
        let mut points = points;
        while !points.is_empty() {
            let rest = points.split_off(points.len().min(WRITE_BATCH));
            self.upsert_batch(points).await?;
            points = rest;
        }
        Ok(())
    }

    async fn set_payloads(&self, payloads: Vec<(u64, Map<String, Value>)>) -> IndexResult<()> {
        // Qdrant rejects a payload update of a missing point, and the point may have been
        // deleted since the caller read it, so missing points are skipped as in the embedded
        // index.
        let ids: Vec<u64> = payloads.iter().map(|(id, _)| *id).collect();
        let existing = self.existing_ids(&ids).await?;

        let mut operations = Vec::with_capacity(payloads.len());
        for (id, payload) in payloads {
            if !existing.contains(&id) {
                tracing::debug!(
                    lead_id = id,
                    "skipped payload update of a point not in the index"
                );
                continue;
            }
            operations.push(PointsUpdateOperation {
                operation: Some(Operation::OverwritePayload(OverwritePayload {
                    payload: query::to_qdrant_payload(payload),
                    points_selector: Some(ids_selector(&[id])),
                    ..OverwritePayload::default()
                })),
            });
        }

        for chunk in operations.chunks(WRITE_BATCH) {
            let request = UpdateBatchPoints {
                collection_name: self.collection.to_string(),
                wait: Some(true),
                operations: chunk.to_vec(),
                ..UpdateBatchPoints::default()
            };
            let what = format!("update {} payloads in {}", chunk.len(), self.collection);
            self.connection
                .points_call(&what, &request, |mut client, request| async move {
                    client.update_batch(request).await
                })
                .await?;
        }
        Ok(())
    }

    async fn delete(&self, ids: Vec<u64>) -> IndexResult<usize> {
        let ids: Vec<u64> = ids
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let existing: Vec<u64> = self.existing_ids(&ids).await?.into_iter().collect();
        if existing.is_empty() {
            return Ok(0);
        }

        let request = DeletePoints {
            collection_name: self.collection.to_string(),
            wait: Some(true),
            points: Some(ids_selector(&existing)),
            ..DeletePoints::default()
        };
        let what = format!("delete {} points from {}", existing.len(), self.collection);
        self.connection
            .points_call(&what, &request, |mut client, request| async move {
                client.delete(request).await
            })
            .await?;
        self.note_written(existing.iter().copied(), false);
        Ok(existing.len())
    }

    async fn retrieve(&self, ids: Vec<u64>, with_dense: bool) -> IndexResult<Vec<StoredPoint>> {
        let with_dense = with_dense && self.layout.dense_dimension.is_some();
        let points = self.get(&ids, true, with_dense).await?;

        let mut by_id = HashMap::with_capacity(points.len());
        for point in points {
            let id = numeric_id(point.id.as_ref())?;
            let dense = point
                .vectors
                .as_ref()
                .and_then(|vectors| vectors.get_vector_by_name(DENSE_VECTOR))
                .and_then(|vector| match vector {
                    VectorOutputKind::Dense(dense) => Some(dense.data),
                    _ => None,
                });
            by_id.insert(
                id,
                StoredPoint {
                    id,
                    payload: query::from_qdrant_payload(point.payload),
                    dense,
                },
            );
        }

        // The server returns points in its own order; the trait promises the caller's.
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    async fn ids(&self) -> IndexResult<Vec<u64>> {
        let mut ids = Vec::new();
        let mut offset: Option<PointId> = None;
        loop {
            let request = ScrollPoints {
                collection_name: self.collection.to_string(),
                offset: offset.clone(),
                limit: Some(READ_PAGE as u32),
                with_payload: Some(query::with_payload(false)),
                with_vectors: Some(query::with_vectors(false)),
                ..ScrollPoints::default()
            };
            let what = format!("list the points of {}", self.collection);
            let response = self
                .connection
                .points_call(&what, &request, |mut client, request| async move {
                    client.scroll(request).await
                })
                .await?;
            for point in &response.result {
                ids.push(numeric_id(point.id.as_ref())?);
            }
            match response.next_page_offset {
                Some(next) => offset = Some(next),
                None => break,
            }
        }
        // A single shard scrolls in id order; sorting keeps the promise for clusters too.
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    async fn count(&self) -> IndexResult<u64> {
        let request = CountPoints {
            collection_name: self.collection.to_string(),
            exact: Some(true),
            ..CountPoints::default()
        };
        let what = format!("count the points of {}", self.collection);
        let response = self
            .connection
            .points_call(&what, &request, |mut client, request| async move {
                client.count(request).await
            })
            .await?;
        Ok(response.result.map_or(0, |result| result.count))
    }

    async fn search(&self, request: SearchRequest) -> IndexResult<Vec<Hit>> {
        self.check_query(&request)?;
        let Some(request) = query::search_query(&self.collection, request) else {
            return Ok(Vec::new());
        };

        let what = format!("search {}", self.collection);
        let response = self
            .connection
            .points_call(&what, &request, |mut client, request| async move {
                client.query(request).await
            })
            .await?;
        response
            .result
            .into_iter()
            .map(|point| {
                Ok(Hit {
                    id: numeric_id(point.id.as_ref())?,
                    score: point.score,
                    payload: query::from_qdrant_payload(point.payload),
                })
            })
            .collect()
    }

    async fn field_values(&self, field: &str) -> IndexResult<Vec<String>> {
        let request = FacetCounts {
            collection_name: self.collection.to_string(),
            key: field.to_string(),
            limit: Some(MAX_FIELD_VALUES as u64),
            exact: Some(false),
            ..FacetCounts::default()
        };
        let what = format!("list the values of {field} in {}", self.collection);
        let response = self
            .connection
            .points_call(&what, &request, |mut client, request| async move {
                client.facet(request).await
            })
            .await?;
        let mut values: Vec<String> = response
            .hits
            .into_iter()
            .filter_map(|hit| match hit.value?.variant? {
                FacetVariant::StringValue(value) => Some(value),
                _ => None,
            })
            .collect();
        values.sort();
        Ok(values)
    }

    fn layout(&self) -> IndexLayout {
        self.layout.clone()
    }
}

fn ids_selector(ids: &[u64]) -> PointsSelector {
    PointsSelector {
        points_selector_one_of: Some(PointsSelectorOneOf::Points(PointsIdsList {
            ids: ids.iter().map(|id| PointId::from(*id)).collect(),
        })),
    }
}

pub(super) fn numeric_id(id: Option<&PointId>) -> IndexResult<u64> {
    match id.and_then(|id| id.point_id_options.as_ref()) {
        Some(PointIdOptions::Num(id)) => Ok(*id),
        Some(PointIdOptions::Uuid(uuid)) => Err(IndexError::Incompatible(format!(
            "the collection contains a point with UUID id {uuid}, but crm-vec uses lead ids; \
             run a full rebuild"
        ))),
        None => Err(IndexError::Engine(
            "the Qdrant server returned a point without an id".to_string(),
        )),
    }
}
