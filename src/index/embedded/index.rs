//! [`EmbeddedIndex`]: one qdrant-edge shard holding the points of one generation.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use qdrant_edge::{
    CountRequest, CreateIndex, Distance, EdgeConfig, EdgeShard, EdgeSparseVectorParams,
    EdgeVectorParams, FacetRequest, FacetValue, FieldIndexOperations, Modifier, OperationError,
    Payload, PayloadFieldSchema, PayloadOps, PayloadSchemaType, PointId, PointInsertOperations,
    PointOperations, PointStructPersisted, ScoredPoint, ScrollRequest, SetPayloadOp,
    UpdateOperation, VectorInternal, VectorPersisted, VectorStructInternal, VectorStructPersisted,
    WithPayloadInterface, WithVector,
};
use serde_json::{Map, Value};

use crate::index::{
    Hit, IndexError, IndexLayout, IndexResult, Point, SearchRequest, SparseVector, StoredPoint,
    VectorIndex, DENSE_VECTOR, MAX_FIELD_VALUES, SPARSE_VECTOR,
};

use super::query;

/// Points per page when listing every id.
const SCROLL_PAGE: usize = 1_000;

/// Payload fields with an index, by index type, so that filters on them use the index instead of
/// reading every payload.
const PAYLOAD_INDEXES: &[(&str, PayloadSchemaType)] = &[
    ("stage", PayloadSchemaType::Keyword),
    ("salesperson", PayloadSchemaType::Keyword),
    ("team", PayloadSchemaType::Keyword),
    ("type", PayloadSchemaType::Keyword),
    ("tags", PayloadSchemaType::Keyword),
    ("won_status", PayloadSchemaType::Keyword),
    ("country", PayloadSchemaType::Keyword),
    ("priority", PayloadSchemaType::Keyword),
    ("text_hash", PayloadSchemaType::Keyword),
    ("active", PayloadSchemaType::Bool),
    ("stage_id", PayloadSchemaType::Integer),
    ("user_id", PayloadSchemaType::Integer),
    ("team_id", PayloadSchemaType::Integer),
    ("expected_revenue", PayloadSchemaType::Float),
    ("probability", PayloadSchemaType::Float),
    ("write_date", PayloadSchemaType::Datetime),
    ("create_date", PayloadSchemaType::Datetime),
    ("date_deadline", PayloadSchemaType::Datetime),
];

/// The collection of one generation of an embedded store, backed by a qdrant-edge shard.
///
/// Clones share the shard. Every call runs the blocking qdrant-edge work on tokio's blocking
/// thread pool. Writes are durable when they return: each write batch ends with a flush of the
/// shard.
#[derive(Debug, Clone)]
pub struct EmbeddedIndex {
    shard: Arc<EdgeShard>,
    /// Serializes writes, flushes and optimizations. `EdgeShard::flush` in qdrant-edge 0.7.2
    /// panics instead of waiting when another thread is inside `update`, because it takes the
    /// WAL mutex with `try_lock().expect(..)`.
    writes: Arc<Mutex<()>>,
    layout: IndexLayout,
    generation_dir: Arc<PathBuf>,
}

impl EmbeddedIndex {
    /// Creates an empty shard in `generation_dir/shard` with the vectors of `layout` and the
    /// payload indexes crm-vec filters on.
    pub(super) fn create(generation_dir: &Path, layout: IndexLayout) -> IndexResult<Self> {
        let shard_dir = generation_dir.join(super::files::SHARD_DIR);
        std::fs::create_dir_all(&shard_dir).map_err(|err| {
            super::files::io_error(format!("failed to create {}", shard_dir.display()), err)
        })?;

        let shard = EdgeShard::new(&shard_dir, edge_config(&layout))
            .map_err(|err| engine_error(&shard_dir, err))?;
        for (field, schema) in PAYLOAD_INDEXES {
            let operation = FieldIndexOperations::CreateIndex(CreateIndex {
                field_name: query::field_path(field),
                field_schema: Some(PayloadFieldSchema::FieldType(*schema)),
            });
            shard
                .update(UpdateOperation::FieldIndexOperation(operation))
                .map_err(|err| engine_error(&shard_dir, err))?;
        }
        shard.flush();

        Ok(Self::from_shard(shard, layout, generation_dir))
    }

    /// Opens the existing shard in `generation_dir/shard` and checks that its vectors match
    /// `layout`.
    pub(super) fn load(generation_dir: &Path, layout: IndexLayout) -> IndexResult<Self> {
        let shard_dir = generation_dir.join(super::files::SHARD_DIR);
        let shard =
            EdgeShard::load(&shard_dir, None).map_err(|err| engine_error(&shard_dir, err))?;
        check_layout(&shard.config(), &layout, &shard_dir)?;
        Ok(Self::from_shard(shard, layout, generation_dir))
    }

    fn from_shard(shard: EdgeShard, layout: IndexLayout, generation_dir: &Path) -> Self {
        Self {
            shard: Arc::new(shard),
            writes: Arc::new(Mutex::new(())),
            layout,
            generation_dir: Arc::new(generation_dir.to_path_buf()),
        }
    }

    /// The generation directory that contains this index's shard.
    pub(super) fn generation_dir(&self) -> &Path {
        &self.generation_dir
    }

    /// A handle that is alive as long as any clone of this index is.
    pub(super) fn downgrade(&self) -> std::sync::Weak<EdgeShard> {
        Arc::downgrade(&self.shard)
    }

    /// Runs qdrant-edge's optimizers (which build the vector and payload indexes of large
    /// segments) and flushes the shard to disk. Blocking.
    pub(super) fn optimize_and_flush(&self) -> IndexResult<()> {
        let _writes = self.lock_writes();
        self.shard
            .optimize()
            .map_err(|err| engine_error(self.shard.path(), err))?;
        self.shard.flush();
        Ok(())
    }

    fn lock_writes(&self) -> MutexGuard<'_, ()> {
        // A panic inside a write leaves nothing behind that the guard protects.
        self.writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies write operations in order, then flushes the shard. Blocking.
    ///
    /// NOTE: qdrant-edge 0.7.2 appends every operation to its WAL but never replays the WAL
    /// when a shard is loaded, so an operation that was not flushed is lost on `kill -9` or a
    /// crash. This is why every write batch ends with `EdgeShard::flush`, which writes the WAL
    /// and the segments to disk before returning. The WAL is also never truncated, so the `wal` directory of a
    /// generation grows with every write until the next full rebuild replaces it.
    fn apply(&self, operations: Vec<UpdateOperation>) -> IndexResult<()> {
        let _writes = self.lock_writes();
        for operation in operations {
            self.shard
                .update(operation)
                .map_err(|err| engine_error(self.shard.path(), err))?;
        }
        self.shard.flush();
        Ok(())
    }

    /// Runs `work` with this index on tokio's blocking thread pool.
    async fn run_blocking<T, F>(&self, work: F) -> IndexResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&EmbeddedIndex) -> IndexResult<T> + Send + 'static,
    {
        let index = self.clone();
        tokio::task::spawn_blocking(move || work(&index))
            .await
            .map_err(|err| IndexError::Engine(format!("index task failed: {err}")))?
    }

    fn upsert_blocking(&self, points: Vec<Point>) -> IndexResult<()> {
        if points.is_empty() {
            return Ok(());
        }
        super::space::check_room(&self.generation_dir, points.len() as u64, &self.layout)?;
        let points = points
            .into_iter()
            .map(|point| self.point_to_edge(point))
            .collect::<IndexResult<Vec<_>>>()?;

        self.apply(vec![UpdateOperation::PointOperation(
            PointOperations::UpsertPoints(PointInsertOperations::PointsList(points)),
        )])
    }

    fn point_to_edge(&self, point: Point) -> IndexResult<PointStructPersisted> {
        let mut vectors = HashMap::new();

        match (point.dense, self.layout.dense_dimension) {
            (Some(dense), Some(dimension)) if dense.len() != dimension => {
                return Err(IndexError::Incompatible(format!(
                    "lead {} has a dense vector of dimension {}, but the index was built for \
                     dimension {dimension}; use the same embedding model or run a full rebuild",
                    point.id,
                    dense.len(),
                )));
            }
            (Some(dense), Some(_)) => {
                vectors.insert(DENSE_VECTOR.to_string(), VectorPersisted::Dense(dense));
            }
            (Some(_), None) => {
                return Err(IndexError::Incompatible(format!(
                    "lead {} has a dense vector, but the index was built without one; run a full \
                     rebuild to add dense vectors",
                    point.id,
                )));
            }
            (None, _) => {}
        }

        let sparse = to_edge_sparse(point.sparse).map_err(|err| {
            IndexError::Engine(format!(
                "invalid sparse vector for lead {}: {err}",
                point.id
            ))
        })?;
        vectors.insert(SPARSE_VECTOR.to_string(), VectorPersisted::Sparse(sparse));

        Ok(PointStructPersisted {
            id: PointId::NumId(point.id),
            vector: VectorStructPersisted::Named(vectors),
            payload: Some(Payload(point.payload)),
        })
    }

    fn set_payloads_blocking(&self, payloads: Vec<(u64, Map<String, Value>)>) -> IndexResult<()> {
        super::space::check_room(&self.generation_dir, payloads.len() as u64, &self.layout)?;
        // Overwriting the payload of a missing point fails in qdrant-edge, and the point may
        // have been deleted since the caller read it, so missing points are skipped.
        let ids: Vec<u64> = payloads.iter().map(|(id, _)| *id).collect();
        let existing = self.existing_ids(&ids)?;

        let mut operations = Vec::with_capacity(payloads.len());
        for (id, payload) in payloads {
            if !existing.contains(&id) {
                tracing::debug!(
                    lead_id = id,
                    "skipped payload update of a point not in the index"
                );
                continue;
            }
            operations.push(UpdateOperation::PayloadOperation(
                PayloadOps::OverwritePayload(SetPayloadOp {
                    payload: Payload(payload),
                    points: Some(vec![PointId::NumId(id)]),
                    filter: None,
                    key: None,
                }),
            ));
        }

        if operations.is_empty() {
            return Ok(());
        }
        self.apply(operations)
    }

    fn delete_blocking(&self, ids: Vec<u64>) -> IndexResult<usize> {
        super::space::check_room(&self.generation_dir, 0, &self.layout)?;
        let ids: Vec<u64> = ids
            .into_iter()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let existing = self.existing_ids(&ids)?;
        if existing.is_empty() {
            return Ok(0);
        }

        let ids = existing.iter().map(|id| PointId::NumId(*id)).collect();
        self.apply(vec![UpdateOperation::PointOperation(
            PointOperations::DeletePoints { ids },
        )])?;
        Ok(existing.len())
    }

    /// Returns which of `ids` are in the index.
    fn existing_ids(&self, ids: &[u64]) -> IndexResult<BTreeSet<u64>> {
        let point_ids: Vec<PointId> = ids.iter().map(|id| PointId::NumId(*id)).collect();
        let records = self
            .shard
            .retrieve(
                &point_ids,
                Some(WithPayloadInterface::Bool(false)),
                Some(WithVector::Bool(false)),
            )
            .map_err(|err| engine_error(self.shard.path(), err))?;
        records
            .iter()
            .map(|record| numeric_id(&record.id))
            .collect()
    }

    fn retrieve_blocking(&self, ids: Vec<u64>, with_dense: bool) -> IndexResult<Vec<StoredPoint>> {
        let with_dense = with_dense && self.layout.dense_dimension.is_some();
        let with_vector = if with_dense {
            WithVector::Selector(vec![DENSE_VECTOR.to_string()])
        } else {
            WithVector::Bool(false)
        };

        let point_ids: Vec<PointId> = ids.iter().map(|id| PointId::NumId(*id)).collect();
        let records = self
            .shard
            .retrieve(
                &point_ids,
                Some(WithPayloadInterface::Bool(true)),
                Some(with_vector),
            )
            .map_err(|err| engine_error(self.shard.path(), err))?;

        records
            .into_iter()
            .map(|record| {
                Ok(StoredPoint {
                    id: numeric_id(&record.id)?,
                    payload: record.payload.map(|payload| payload.0).unwrap_or_default(),
                    dense: record.vector.and_then(dense_vector),
                })
            })
            .collect()
    }

    fn ids_blocking(&self) -> IndexResult<Vec<u64>> {
        let mut ids = Vec::new();
        let mut offset = None;
        loop {
            let request = ScrollRequest {
                offset,
                limit: Some(SCROLL_PAGE),
                filter: None,
                with_payload: Some(WithPayloadInterface::Bool(false)),
                with_vector: WithVector::Bool(false),
                order_by: None,
            };
            let (records, next_offset) = self
                .shard
                .scroll(request)
                .map_err(|err| engine_error(self.shard.path(), err))?;
            for record in &records {
                ids.push(numeric_id(&record.id)?);
            }

            match next_offset {
                Some(next) => offset = Some(next),
                None => return Ok(ids),
            }
        }
    }

    pub(super) fn count_blocking(&self) -> IndexResult<u64> {
        let count = self
            .shard
            .count(CountRequest {
                filter: None,
                exact: true,
            })
            .map_err(|err| engine_error(self.shard.path(), err))?;
        Ok(count as u64)
    }

    fn search_blocking(&self, request: SearchRequest) -> IndexResult<Vec<Hit>> {
        let SearchRequest {
            dense,
            sparse,
            filter,
            limit,
        } = request;

        if let (Some(dense), dimension) = (&dense, self.layout.dense_dimension) {
            match dimension {
                None => {
                    return Err(IndexError::Incompatible(
                        "the query has a dense vector, but the index was built without dense \
                         vectors; search by keywords only or run a full rebuild with an \
                         embedding provider"
                            .to_string(),
                    ))
                }
                Some(dimension) if dense.len() != dimension => {
                    return Err(IndexError::Incompatible(format!(
                        "the query vector has dimension {}, but the index was built for \
                         dimension {dimension}; use the embedding model the index was built with",
                        dense.len(),
                    )))
                }
                Some(_) => {}
            }
        }

        if limit == 0 || (dense.is_none() && sparse.indices.is_empty()) {
            return Ok(Vec::new());
        }

        let filter = query::payload_filter(&filter);
        let sparse_query =
            VectorInternal::Sparse(to_edge_sparse(sparse).map_err(|err| {
                IndexError::Engine(format!("invalid sparse query vector: {err}"))
            })?);
        let request = match dense {
            Some(dense) if sparse_query_is_empty(&sparse_query) => query::single_query(
                query::nearest(DENSE_VECTOR, VectorInternal::Dense(dense)),
                filter,
                limit,
            ),
            Some(dense) => query::hybrid_query(dense, sparse_query, filter, limit),
            None => query::single_query(query::nearest(SPARSE_VECTOR, sparse_query), filter, limit),
        };

        let points = self
            .shard
            .query(request)
            .map_err(|err| engine_error(self.shard.path(), err))?;
        points.into_iter().map(scored_point_to_hit).collect()
    }
}

impl EmbeddedIndex {
    fn field_values_blocking(&self, field: &str) -> IndexResult<Vec<String>> {
        let request = FacetRequest {
            key: query::field_path(field),
            limit: MAX_FIELD_VALUES,
            filter: None,
            exact: false,
        };
        let response = self
            .shard
            .facet(request)
            .map_err(|err| engine_error(self.shard.path(), err))?;
        let mut values: Vec<String> = response
            .hits
            .into_iter()
            .filter_map(|hit| match hit.value {
                FacetValue::Keyword(value) => Some(value),
                _ => None,
            })
            .collect();
        values.sort();
        Ok(values)
    }
}

impl VectorIndex for EmbeddedIndex {
    async fn upsert(&self, points: Vec<Point>) -> IndexResult<()> {
        self.run_blocking(move |index| index.upsert_blocking(points))
            .await
    }

    async fn set_payloads(&self, payloads: Vec<(u64, Map<String, Value>)>) -> IndexResult<()> {
        self.run_blocking(move |index| index.set_payloads_blocking(payloads))
            .await
    }

    async fn delete(&self, ids: Vec<u64>) -> IndexResult<usize> {
        self.run_blocking(move |index| index.delete_blocking(ids))
            .await
    }

    async fn retrieve(&self, ids: Vec<u64>, with_dense: bool) -> IndexResult<Vec<StoredPoint>> {
        self.run_blocking(move |index| index.retrieve_blocking(ids, with_dense))
            .await
    }

    async fn ids(&self) -> IndexResult<Vec<u64>> {
        self.run_blocking(|index| index.ids_blocking()).await
    }

    async fn count(&self) -> IndexResult<u64> {
        self.run_blocking(|index| index.count_blocking()).await
    }

    async fn search(&self, request: SearchRequest) -> IndexResult<Vec<Hit>> {
        self.run_blocking(move |index| index.search_blocking(request))
            .await
    }

    async fn field_values(&self, field: &str) -> IndexResult<Vec<String>> {
        let field = field.to_string();
        self.run_blocking(move |index| index.field_values_blocking(&field))
            .await
    }

    fn layout(&self) -> IndexLayout {
        self.layout.clone()
    }
}

/// Shard configuration for `layout`: a cosine `dense` vector when the layout has a dimension,
/// and always a `bm25` sparse vector whose weights are scaled by IDF at query time.
fn edge_config(layout: &IndexLayout) -> EdgeConfig {
    let mut builder = EdgeConfig::builder().sparse_vector(
        SPARSE_VECTOR,
        EdgeSparseVectorParams::builder()
            .modifier(Modifier::Idf)
            .build(),
    );
    if let Some(dimension) = layout.dense_dimension {
        builder = builder.vector(
            DENSE_VECTOR,
            EdgeVectorParams::builder(dimension, Distance::Cosine).build(),
        );
    }
    builder.build()
}

/// Checks that a loaded shard has the vectors that `layout.json` describes.
fn check_layout(config: &EdgeConfig, layout: &IndexLayout, shard_dir: &Path) -> IndexResult<()> {
    let dense_dimension = config.vectors.get(DENSE_VECTOR).map(|params| params.size);
    let has_sparse = config.sparse_vectors.contains_key(SPARSE_VECTOR);
    if dense_dimension == layout.dense_dimension && has_sparse {
        return Ok(());
    }

    Err(IndexError::Incompatible(format!(
        "the shard in {} does not match its layout.json (dense dimension {:?} expected, {:?} \
         found; sparse vector `{SPARSE_VECTOR}` {}); run a full rebuild",
        shard_dir.display(),
        layout.dense_dimension,
        dense_dimension,
        if has_sparse { "present" } else { "missing" },
    )))
}

fn to_edge_sparse(vector: SparseVector) -> Result<qdrant_edge::SparseVector, String> {
    qdrant_edge::SparseVector::new(vector.indices, vector.values).map_err(|err| err.to_string())
}

fn sparse_query_is_empty(vector: &VectorInternal) -> bool {
    matches!(vector, VectorInternal::Sparse(sparse) if sparse.indices.is_empty())
}

fn dense_vector(vectors: VectorStructInternal) -> Option<Vec<f32>> {
    match vectors {
        VectorStructInternal::Named(mut named) => match named.remove(DENSE_VECTOR) {
            Some(VectorInternal::Dense(dense)) => Some(dense),
            _ => None,
        },
        VectorStructInternal::Single(_) | VectorStructInternal::MultiDense(_) => None,
    }
}

fn scored_point_to_hit(point: ScoredPoint) -> IndexResult<Hit> {
    Ok(Hit {
        id: numeric_id(&point.id)?,
        score: point.score,
        payload: point.payload.map(|payload| payload.0).unwrap_or_default(),
    })
}

fn numeric_id(id: &PointId) -> IndexResult<u64> {
    match id {
        PointId::NumId(id) => Ok(*id),
        PointId::Uuid(uuid) => Err(IndexError::Incompatible(format!(
            "the index contains a point with UUID id {uuid}, but crm-vec uses lead ids; run a \
             full rebuild"
        ))),
    }
}

/// Converts a qdrant-edge error, turning a WAL that another open shard has locked into
/// [`IndexError::Locked`].
pub(super) fn engine_error(shard_dir: &Path, err: OperationError) -> IndexError {
    let message = err.to_string();
    if is_wal_lock_error(&message) {
        return IndexError::Locked {
            path: shard_dir.display().to_string(),
            holder: String::new(),
        };
    }
    IndexError::Engine(format!(
        "index engine error in {}: {message}",
        shard_dir.display()
    ))
}

/// Recognizes the error of `EdgeShard::new` or `EdgeShard::load` when the shard's WAL
/// directory is `flock`ed by another open shard, in this process or another.
fn is_wal_lock_error(message: &str) -> bool {
    message.contains("failed to open WAL")
        && ["WouldBlock", "os error 11", "temporarily unavailable"]
            .iter()
            .any(|marker| message.contains(marker))
}
