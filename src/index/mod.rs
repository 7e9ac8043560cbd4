//! The vector index behind crm-vec: one point per lead, keyed by the lead id.
//!
//! Two implementations share these traits: [`embedded`] keeps the index on local disk with
//! Qdrant's engine running in-process (`qdrant-edge`), and a Qdrant server implementation
//! reached over gRPC. The sync core only sees [`IndexStore`] and [`VectorIndex`].

pub mod any;
pub mod embedded;
pub mod server;

use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::sync::state::SyncState;

/// Name of the dense vector in every point.
pub const DENSE_VECTOR: &str = "dense";
/// Name of the sparse BM25 vector in every point.
pub const SPARSE_VECTOR: &str = "bm25";

/// The maximum number of distinct values [`VectorIndex::field_values`] returns. A CRM has far
/// fewer stages, salespeople or teams.
pub const MAX_FIELD_VALUES: usize = 10_000;

/// A sparse vector in Qdrant's shape: parallel lists of term indices and weights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

/// How the vectors of a collection are laid out, fixed when the collection is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexLayout {
    /// Dimension of the `dense` vector, or `None` when no embedding provider is configured.
    pub dense_dimension: Option<usize>,
    /// Embedding model that produced the dense vectors, if any.
    pub model: Option<String>,
}

/// A point to write: the lead id, its vectors and its payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub id: u64,
    pub dense: Option<Vec<f32>>,
    pub sparse: SparseVector,
    pub payload: Map<String, Value>,
}

/// A point read back from the index.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint {
    pub id: u64,
    pub payload: Map<String, Value>,
    /// The dense vector, present only when it was requested and the point has one.
    pub dense: Option<Vec<f32>>,
}

/// Payload filters of a search. Every field that is set narrows the hits.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SearchFilter {
    /// Stage name, matched exactly against the `stage` payload field.
    pub stage: Option<String>,
    /// Salesperson name, matched exactly against `salesperson`.
    pub salesperson: Option<String>,
    /// Sales team name, matched exactly against `team`.
    pub team: Option<String>,
    /// `lead` or `opportunity`.
    pub lead_type: Option<String>,
    /// Lower bound (inclusive) on `expected_revenue`.
    pub min_revenue: Option<f64>,
    /// Upper bound (inclusive) on `expected_revenue`.
    pub max_revenue: Option<f64>,
    /// Also return points whose `active` payload is false.
    pub include_archived: bool,
}

/// A search: the query vectors, filters and how many hits to return.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// Query embedding; when `None`, only the sparse vector is searched.
    pub dense: Option<Vec<f32>>,
    pub sparse: SparseVector,
    pub filter: SearchFilter,
    pub limit: usize,
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub id: u64,
    pub score: f32,
    pub payload: Map<String, Value>,
}

/// Errors of an index implementation.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// Another process holds the index open.
    #[error("the index at {path} is in use by another process{holder}")]
    Locked { path: String, holder: String },
    /// The index on disk or on the server is not what crm-vec expects.
    #[error("{0}")]
    Incompatible(String),
    /// An I/O error with the path it happened on.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// An error reported by the index engine or server.
    #[error("{0}")]
    Engine(String),
    /// The file system of an embedded index has less free space than a write needs.
    #[error(
        "not enough free space for the index in {path}: {} available, about {} needed to \
         write {points} leads",
        format_bytes(*available),
        format_bytes(*needed)
    )]
    NoSpace {
        path: String,
        available: u64,
        needed: u64,
        points: u64,
    },
}

/// Formats a byte count with a binary unit, e.g. `12.5 MiB`.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub type IndexResult<T> = Result<T, IndexError>;

/// The operations the sync core needs on one collection of lead points.
///
/// Implementations are cheap to clone (an `Arc` inside) so that pipeline stages can share one.
pub trait VectorIndex: Clone + Send + Sync + 'static {
    /// Writes points, replacing any point with the same id.
    fn upsert(&self, points: Vec<Point>) -> impl Future<Output = IndexResult<()>> + Send;

    /// Replaces the payload of existing points, keeping their vectors.
    fn set_payloads(
        &self,
        payloads: Vec<(u64, Map<String, Value>)>,
    ) -> impl Future<Output = IndexResult<()>> + Send;

    /// Removes points; ids that are not in the index are ignored. Returns how many were removed.
    fn delete(&self, ids: Vec<u64>) -> impl Future<Output = IndexResult<usize>> + Send;

    /// Reads points by id, in the order given; missing ids are left out.
    fn retrieve(
        &self,
        ids: Vec<u64>,
        with_dense: bool,
    ) -> impl Future<Output = IndexResult<Vec<StoredPoint>>> + Send;

    /// Lists the ids of every point, in ascending order.
    fn ids(&self) -> impl Future<Output = IndexResult<Vec<u64>>> + Send;

    /// Counts the points.
    fn count(&self) -> impl Future<Output = IndexResult<u64>> + Send;

    /// Runs a search: dense and sparse fused with RRF when `dense` is set, sparse alone otherwise.
    fn search(&self, request: SearchRequest) -> impl Future<Output = IndexResult<Vec<Hit>>> + Send;

    /// Lists the distinct string values of a payload field with a keyword index (such as
    /// `stage`), sorted, at most [`MAX_FIELD_VALUES`] of them. `field` must be a top-level
    /// field that crm-vec indexes: the embedded index panics on an invalid path.
    fn field_values(&self, field: &str) -> impl Future<Output = IndexResult<Vec<String>>> + Send;

    /// The vector layout the collection was created with.
    fn layout(&self) -> IndexLayout;
}

/// Where collections live, with the sync state beside them.
///
/// A store hands out the live collection, builds new ones for a full rebuild and switches to a
/// new one atomically.
pub trait IndexStore: Send + Sync {
    type Index: VectorIndex;

    /// Opens the live collection, or returns `None` when no index has been built yet.
    fn open_live(&self) -> impl Future<Output = IndexResult<Option<Self::Index>>> + Send;

    /// Creates an empty collection for a full rebuild. It is not live until [`Self::commit`].
    fn create_staging(
        &self,
        layout: IndexLayout,
    ) -> impl Future<Output = IndexResult<Self::Index>> + Send;

    /// Makes a staging collection live together with its sync state, in one atomic step, and
    /// drops the previous collection unless `keep_previous` is set.
    fn commit(
        &self,
        staging: Self::Index,
        state: SyncState,
        keep_previous: bool,
    ) -> impl Future<Output = IndexResult<()>> + Send;

    /// Opens the newest collection with `layout` that an unfinished full rebuild left behind,
    /// so that the next rebuild can reuse the vectors it holds. Stores that keep no such
    /// collections return `None`.
    fn open_abandoned(
        &self,
        layout: &IndexLayout,
    ) -> impl Future<Output = IndexResult<Option<Self::Index>>> + Send {
        let _ = layout;
        async { Ok(None) }
    }

    /// Checks that the store has room to write `points` points of `layout`, before a run
    /// creates anything. Stores without local files have nothing to check.
    fn check_room(&self, points: u64, layout: &IndexLayout) -> IndexResult<()> {
        let _ = (points, layout);
        Ok(())
    }

    /// Reads the sync state of the live collection (a default state when there is none).
    fn load_state(&self) -> impl Future<Output = IndexResult<SyncState>> + Send;

    /// Stores the sync state of the live collection.
    fn save_state(&self, state: &SyncState) -> impl Future<Output = IndexResult<()>> + Send;

    /// `"embedded"` or `"qdrant"`.
    fn backend(&self) -> &'static str;

    /// Where the index lives: a directory or a server URL without credentials.
    fn location(&self) -> String;
}

/// One open store shared by several users in a process (the MCP tools, the webhook listener's
/// workers, sync contexts), which a store cannot be opened twice for because it holds the
/// index lock.
impl<S: IndexStore> IndexStore for Arc<S> {
    type Index = S::Index;

    fn open_live(&self) -> impl Future<Output = IndexResult<Option<Self::Index>>> + Send {
        (**self).open_live()
    }

    fn create_staging(
        &self,
        layout: IndexLayout,
    ) -> impl Future<Output = IndexResult<Self::Index>> + Send {
        (**self).create_staging(layout)
    }

    fn commit(
        &self,
        staging: Self::Index,
        state: SyncState,
        keep_previous: bool,
    ) -> impl Future<Output = IndexResult<()>> + Send {
        (**self).commit(staging, state, keep_previous)
    }

    fn open_abandoned(
        &self,
        layout: &IndexLayout,
    ) -> impl Future<Output = IndexResult<Option<Self::Index>>> + Send {
        (**self).open_abandoned(layout)
    }

    fn check_room(&self, points: u64, layout: &IndexLayout) -> IndexResult<()> {
        (**self).check_room(points, layout)
    }

    fn load_state(&self) -> impl Future<Output = IndexResult<SyncState>> + Send {
        (**self).load_state()
    }

    fn save_state(&self, state: &SyncState) -> impl Future<Output = IndexResult<()>> + Send {
        (**self).save_state(state)
    }

    fn backend(&self) -> &'static str {
        (**self).backend()
    }

    fn location(&self) -> String {
        (**self).location()
    }
}

#[cfg(test)]
mod tests {
    use super::format_bytes;

    #[test]
    fn format_bytes_picks_the_unit() {
        assert_eq!(format_bytes(512), "512 bytes");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(8 * 1024 * 1024), "8.0 MiB");
        assert_eq!(format_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
