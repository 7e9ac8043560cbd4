//! [`AnyStore`] and [`AnyIndex`]: the embedded or the server index behind one type, chosen at
//! run time from `QDRANT_URL`, so that commands and the sync core need no type parameter for
//! the backend.

use serde_json::{Map, Value};

use super::embedded::{EmbeddedIndex, EmbeddedStore};
use super::server::{ServerIndex, ServerStore};
use super::{
    Hit, IndexError, IndexLayout, IndexResult, IndexStore, Point, SearchRequest, StoredPoint,
    VectorIndex,
};
use crate::sync::state::SyncState;

/// The store selected by the settings.
#[derive(Debug)]
pub enum AnyStore {
    Embedded(EmbeddedStore),
    Server(ServerStore),
}

/// A collection of an [`AnyStore`].
#[derive(Debug, Clone)]
pub enum AnyIndex {
    Embedded(EmbeddedIndex),
    Server(ServerIndex),
}

impl From<EmbeddedStore> for AnyStore {
    fn from(store: EmbeddedStore) -> Self {
        AnyStore::Embedded(store)
    }
}

impl From<ServerStore> for AnyStore {
    fn from(store: ServerStore) -> Self {
        AnyStore::Server(store)
    }
}

impl VectorIndex for AnyIndex {
    async fn upsert(&self, points: Vec<Point>) -> IndexResult<()> {
        match self {
            AnyIndex::Embedded(index) => index.upsert(points).await,
            AnyIndex::Server(index) => index.upsert(points).await,
        }
    }

    async fn set_payloads(&self, payloads: Vec<(u64, Map<String, Value>)>) -> IndexResult<()> {
        match self {
            AnyIndex::Embedded(index) => index.set_payloads(payloads).await,
            AnyIndex::Server(index) => index.set_payloads(payloads).await,
        }
    }

    async fn delete(&self, ids: Vec<u64>) -> IndexResult<usize> {
        match self {
            AnyIndex::Embedded(index) => index.delete(ids).await,
            AnyIndex::Server(index) => index.delete(ids).await,
        }
    }

    async fn retrieve(&self, ids: Vec<u64>, with_dense: bool) -> IndexResult<Vec<StoredPoint>> {
        match self {
            AnyIndex::Embedded(index) => index.retrieve(ids, with_dense).await,
            AnyIndex::Server(index) => index.retrieve(ids, with_dense).await,
        }
    }

    async fn ids(&self) -> IndexResult<Vec<u64>> {
        match self {
            AnyIndex::Embedded(index) => index.ids().await,
            AnyIndex::Server(index) => index.ids().await,
        }
    }

    async fn count(&self) -> IndexResult<u64> {
        match self {
            AnyIndex::Embedded(index) => index.count().await,
            AnyIndex::Server(index) => index.count().await,
        }
    }

    async fn search(&self, request: SearchRequest) -> IndexResult<Vec<Hit>> {
        match self {
            AnyIndex::Embedded(index) => index.search(request).await,
            AnyIndex::Server(index) => index.search(request).await,
        }
    }

    async fn field_values(&self, field: &str) -> IndexResult<Vec<String>> {
        match self {
            AnyIndex::Embedded(index) => index.field_values(field).await,
            AnyIndex::Server(index) => index.field_values(field).await,
        }
    }

    fn layout(&self) -> IndexLayout {
        match self {
            AnyIndex::Embedded(index) => index.layout(),
            AnyIndex::Server(index) => index.layout(),
        }
    }
}

impl IndexStore for AnyStore {
    type Index = AnyIndex;

    async fn open_live(&self) -> IndexResult<Option<AnyIndex>> {
        Ok(match self {
            AnyStore::Embedded(store) => store.open_live().await?.map(AnyIndex::Embedded),
            AnyStore::Server(store) => store.open_live().await?.map(AnyIndex::Server),
        })
    }

    async fn create_staging(&self, layout: IndexLayout) -> IndexResult<AnyIndex> {
        Ok(match self {
            AnyStore::Embedded(store) => AnyIndex::Embedded(store.create_staging(layout).await?),
            AnyStore::Server(store) => AnyIndex::Server(store.create_staging(layout).await?),
        })
    }

    async fn commit(
        &self,
        staging: AnyIndex,
        state: SyncState,
        keep_previous: bool,
    ) -> IndexResult<()> {
        match (self, staging) {
            (AnyStore::Embedded(store), AnyIndex::Embedded(index)) => {
                store.commit(index, state, keep_previous).await
            }
            (AnyStore::Server(store), AnyIndex::Server(index)) => {
                store.commit(index, state, keep_previous).await
            }
            _ => Err(IndexError::Incompatible(
                "cannot commit an index of one backend into a store of the other".to_string(),
            )),
        }
    }

    async fn open_abandoned(&self, layout: &IndexLayout) -> IndexResult<Option<AnyIndex>> {
        Ok(match self {
            AnyStore::Embedded(store) => {
                store.open_abandoned(layout).await?.map(AnyIndex::Embedded)
            }
            AnyStore::Server(store) => store.open_abandoned(layout).await?.map(AnyIndex::Server),
        })
    }

    fn check_room(&self, points: u64, layout: &IndexLayout) -> IndexResult<()> {
        match self {
            AnyStore::Embedded(store) => store.check_room(points, layout),
            AnyStore::Server(store) => store.check_room(points, layout),
        }
    }

    async fn load_state(&self) -> IndexResult<SyncState> {
        match self {
            AnyStore::Embedded(store) => store.load_state().await,
            AnyStore::Server(store) => store.load_state().await,
        }
    }

    async fn save_state(&self, state: &SyncState) -> IndexResult<()> {
        match self {
            AnyStore::Embedded(store) => store.save_state(state).await,
            AnyStore::Server(store) => store.save_state(state).await,
        }
    }

    fn backend(&self) -> &'static str {
        match self {
            AnyStore::Embedded(store) => store.backend(),
            AnyStore::Server(store) => store.backend(),
        }
    }

    fn location(&self) -> String {
        match self {
            AnyStore::Embedded(store) => store.location(),
            AnyStore::Server(store) => store.location(),
        }
    }
}
