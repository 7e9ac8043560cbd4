//! The index on a Qdrant server or cluster, reached over gRPC with `qdrant-client`.
//!
//! For `COLLECTION=odoo_crm_leads` the server holds:
//!
//! ```text
//! odoo_crm_leads                 alias of the live collection
//! odoo_crm_leads_v<unix millis>  one collection per full rebuild, one point per lead
//! odoo_crm_leads_crm_vec_state   one state record per lead collection
//! ```
//!
//! A state record is a point whose id is the version (the collection's Unix millis) and whose
//! payload contains the collection's name, its [`IndexLayout`] and its [`SyncState`]. It is written
//! before the collection is created, so it also marks the collection as crm-vec's: an alias or
//! collection without a record was made by someone else and is never changed. Because the
//! state belongs to one collection, switching the alias switches the state with it, just as
//! the embedded index keeps `state.json` inside each generation.
//!
//! A full rebuild fills a new collection, writes its state record, then moves the alias in one
//! `UpdateAliases` request (delete and create together), so searches see the old collection or
//! the new one and never a partial index. Older collections are dropped after the switch.

mod connection;
#[cfg(test)]
mod fake;
mod index;
mod query;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use qdrant_client::qdrant::{
    vectors_config, ChangeAliases, CollectionExistsRequest, CreateFieldIndexCollection,
    DeleteCollection, DeletePoints, GetCollectionInfoRequest, GetPoints, ListAliasesRequest,
    ListCollectionsRequest, PointId, PointStruct, ScrollPoints, UpsertPoints, Vectors,
};
use serde::{Deserialize, Serialize};
use tonic::Code;

use crate::index::{IndexError, IndexLayout, IndexResult, IndexStore, DENSE_VECTOR, SPARSE_VECTOR};
use crate::secret::Secret;
use crate::sync::state::SyncState;

use self::connection::Connection;
pub use self::connection::RetryPolicy;
pub use self::index::ServerIndex;

/// Suffix of the companion collection that contains the state records.
const STATE_COLLECTION_SUFFIX: &str = "_crm_vec_state";
/// Between the alias and the version in a lead collection's name.
const VERSION_SEPARATOR: &str = "_v";
/// Value of `created_by` in state records.
const CREATED_BY: &str = "crm-vec";
/// Seconds the server may take to create or delete a collection or to switch an alias.
const COLLECTION_TIMEOUT_SECS: u64 = 60;

/// How to reach the Qdrant server.
#[derive(Debug, Clone)]
pub struct QdrantSettings {
    /// The gRPC URL, for example `http://localhost:6334`.
    pub url: String,
    pub api_key: Option<Secret>,
    pub connect_timeout: Duration,
    /// Time allowed for one request, upserts of a whole batch included.
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl QdrantSettings {
    /// Settings with the default timeouts and retries.
    pub fn new(url: impl Into<String>, api_key: Option<Secret>) -> Self {
        Self {
            url: url.into(),
            api_key,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
        }
    }
}

/// The state record of one lead collection, stored as the payload of a point in the
/// companion collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StateRecord {
    collection: String,
    created_by: String,
    layout: IndexLayout,
    /// `None` until the collection is committed.
    state: Option<SyncState>,
}

/// The live lead collection, as the alias names it.
struct Live {
    collection: String,
    version: u64,
    record: StateRecord,
}

/// The lead collections of one `COLLECTION` on a Qdrant server, with their sync state.
///
/// Opening a store sends nothing: the first request checks that the URL is a Qdrant gRPC
/// port and warns once when the server's version does not match the client's. Unlike the
/// embedded store it takes no lock, because a server has no owner and any number of crm-vec
/// processes may use it at once.
#[derive(Debug, Clone)]
pub struct ServerStore {
    connection: Arc<Connection>,
    alias: String,
    state_collection: String,
}

impl ServerStore {
    /// Prepares a store of `collection` on the server in `settings`. Fails without sending
    /// anything when the URL is invalid or names Qdrant's REST port 6333.
    pub fn open(settings: QdrantSettings, collection: &str) -> IndexResult<Self> {
        let valid_name = !collection.is_empty()
            && collection
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name {
            return Err(IndexError::Incompatible(format!(
                "invalid collection name {collection:?}: use letters, digits, '_' or '-'"
            )));
        }
        Ok(Self {
            connection: Arc::new(Connection::new(&settings)?),
            alias: collection.to_string(),
            state_collection: format!("{collection}{STATE_COLLECTION_SUFFIX}"),
        })
    }

    /// The alias that names the live collection (the `COLLECTION` setting).
    pub fn alias(&self) -> &str {
        &self.alias
    }

    /// The companion collection that contains the state records.
    pub fn state_collection(&self) -> &str {
        &self.state_collection
    }

    /// Returns the name of the lead collection with `version`.
    pub fn collection_name(&self, version: u64) -> String {
        format!("{}{VERSION_SEPARATOR}{version}", self.alias)
    }

    /// Returns the version of a lead collection name of this store, or `None` for any other
    /// name.
    pub fn version_of(&self, name: &str) -> Option<u64> {
        let digits = name
            .strip_prefix(self.alias.as_str())?
            .strip_prefix(VERSION_SEPARATOR)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    /// Returns the collection the alias points to, if the alias exists.
    pub async fn alias_target(&self) -> IndexResult<Option<String>> {
        let response = self
            .connection
            .collections_call(
                "list aliases",
                &ListAliasesRequest {},
                |mut client, request| async move { client.list_aliases(request).await },
            )
            .await?;
        Ok(response
            .aliases
            .into_iter()
            .find(|alias| alias.alias_name == self.alias)
            .map(|alias| alias.collection_name))
    }

    /// Lists the names of every collection on the server.
    pub async fn collection_names(&self) -> IndexResult<BTreeSet<String>> {
        let response = self
            .connection
            .collections_call(
                "list collections",
                &ListCollectionsRequest {},
                |mut client, request| async move { client.list(request).await },
            )
            .await?;
        Ok(response
            .collections
            .into_iter()
            .map(|collection| collection.name)
            .collect())
    }

    async fn collection_exists(&self, name: &str) -> IndexResult<bool> {
        let request = CollectionExistsRequest {
            collection_name: name.to_string(),
        };
        let what = format!("check whether collection {name} exists");
        let response = self
            .connection
            .collections_call(&what, &request, |mut client, request| async move {
                client.collection_exists(request).await
            })
            .await?;
        Ok(response.result.is_some_and(|result| result.exists))
    }

    /// Resolves the alias to the live collection and its state record, and stops when the
    /// alias, or a plain collection of the same name, was not made by crm-vec.
    async fn live(&self) -> IndexResult<Option<Live>> {
        let Some(collection) = self.alias_target().await? else {
            if self.collection_exists(&self.alias).await? {
                return Err(IndexError::Incompatible(format!(
                    "the Qdrant server at {} has a collection named {} that crm-vec did not \
                     create (crm-vec keeps its index behind an alias of that name); crm-vec \
                     leaves it alone: set COLLECTION to another name",
                    self.connection.url, self.alias,
                )));
            }
            return Ok(None);
        };

        let record = match self.version_of(&collection) {
            Some(version) => self
                .read_record(version)
                .await?
                .filter(|record| record.collection == collection)
                .map(|record| (version, record)),
            None => None,
        };
        let Some((version, record)) = record else {
            return Err(IndexError::Incompatible(format!(
                "the alias {} on the Qdrant server at {} points to collection {collection}, \
                 which crm-vec did not create; crm-vec leaves it alone: set COLLECTION to \
                 another name, or move the alias yourself",
                self.alias, self.connection.url,
            )));
        };
        Ok(Some(Live {
            collection,
            version,
            record,
        }))
    }

    /// Deletes the alias, every lead collection with a state record and the companion
    /// collection, leaving anything crm-vec did not create. Tests use it to clean up.
    pub async fn delete_everything(&self) -> IndexResult<()> {
        if let Ok(Some(_)) = self.live().await {
            let request = ChangeAliases {
                timeout: Some(COLLECTION_TIMEOUT_SECS),
                ..query::delete_alias(&self.alias)
            };
            let what = format!("delete alias {}", self.alias);
            self.connection
                .collections_call(&what, &request, |mut client, request| async move {
                    client.update_aliases(request).await
                })
                .await?;
        }

        let names = self.collection_names().await?;
        for (version, record) in self.read_records().await? {
            if self.version_of(&record.collection) == Some(version)
                && names.contains(&record.collection)
            {
                self.drop_collection(&record.collection).await?;
            }
        }
        if names.contains(&self.state_collection) {
            self.drop_collection(&self.state_collection).await?;
        }
        Ok(())
    }

    /// Checks that a collection on the server has the vectors its state record describes.
    async fn check_vectors(&self, collection: &str, layout: &IndexLayout) -> IndexResult<()> {
        let request = GetCollectionInfoRequest {
            collection_name: collection.to_string(),
        };
        let what = format!("read the configuration of {collection}");
        let response = self
            .connection
            .collections_call(&what, &request, |mut client, request| async move {
                client.get(request).await
            })
            .await?;
        let params = response
            .result
            .and_then(|info| info.config)
            .and_then(|config| config.params);
        let dense_dimension = params
            .as_ref()
            .and_then(|params| params.vectors_config.as_ref())
            .and_then(|config| match &config.config {
                Some(vectors_config::Config::ParamsMap(map)) => map.map.get(DENSE_VECTOR),
                _ => None,
            })
            .map(|params| params.size as usize);
        let has_sparse = params
            .as_ref()
            .and_then(|params| params.sparse_vectors_config.as_ref())
            .is_some_and(|config| config.map.contains_key(SPARSE_VECTOR));
        if dense_dimension == layout.dense_dimension && has_sparse {
            return Ok(());
        }

        Err(IndexError::Incompatible(format!(
            "collection {collection} on the Qdrant server does not match its state record \
             (dense dimension {:?} expected, {dense_dimension:?} found; sparse vector \
             `{SPARSE_VECTOR}` {}); run a full rebuild",
            layout.dense_dimension,
            if has_sparse { "present" } else { "missing" },
        )))
    }

    async fn ensure_state_collection(&self) -> IndexResult<()> {
        let request = query::create_state_collection(&self.state_collection);
        self.create_collection(request).await
    }

    /// Creates a collection. A failure is ignored when the collection exists afterwards: it
    /// was created by an earlier attempt whose response was lost, or by another process at the
    /// same moment.
    async fn create_collection(
        &self,
        mut request: qdrant_client::qdrant::CreateCollection,
    ) -> IndexResult<()> {
        let name = request.collection_name.clone();
        if self.collection_exists(&name).await? {
            return Ok(());
        }
        request.timeout = Some(COLLECTION_TIMEOUT_SECS);
        let what = format!("create collection {name}");
        let result = self
            .connection
            .call_status(&what, || {
                let request = request.clone();
                async move {
                    let mut client = self.connection.collections().await;
                    client.create(request).await.map(|_| ())
                }
            })
            .await?;
        match result {
            Ok(()) => Ok(()),
            Err(_) if self.collection_exists(&name).await? => Ok(()),
            Err(status) => Err(self.connection.status_error(&what, &status)),
        }
    }

    /// Creates the payload indexes crm-vec filters on, waiting for each.
    async fn create_payload_indexes(&self, collection: &str) -> IndexResult<()> {
        for (field, field_type) in query::PAYLOAD_INDEXES {
            let request = CreateFieldIndexCollection {
                collection_name: collection.to_string(),
                wait: Some(true),
                field_name: field.to_string(),
                field_type: Some((*field_type).into()),
                ..CreateFieldIndexCollection::default()
            };
            let what = format!("create the payload index of {field} in {collection}");
            self.connection
                .points_call(&what, &request, |mut client, request| async move {
                    client.create_field_index(request).await
                })
                .await?;
        }
        Ok(())
    }

    async fn drop_collection(&self, name: &str) -> IndexResult<()> {
        let request = DeleteCollection {
            collection_name: name.to_string(),
            timeout: Some(COLLECTION_TIMEOUT_SECS),
        };
        let what = format!("delete collection {name}");
        self.connection
            .collections_call(&what, &request, |mut client, request| async move {
                client.delete(request).await
            })
            .await?;
        Ok(())
    }

    /// Reads the state record of a version, or `None` when there is none (or no companion
    /// collection yet).
    async fn read_record(&self, version: u64) -> IndexResult<Option<StateRecord>> {
        let request = GetPoints {
            collection_name: self.state_collection.clone(),
            ids: vec![PointId::from(version)],
            with_payload: Some(query::with_payload(true)),
            with_vectors: Some(query::with_vectors(false)),
            ..GetPoints::default()
        };
        let what = format!("read the sync state in {}", self.state_collection);
        let result = self
            .connection
            .call_status(&what, || {
                let request = request.clone();
                async move {
                    let mut client = self.connection.points().await;
                    client.get(request).await.map(|r| r.into_inner())
                }
            })
            .await?;
        let response = match result {
            Ok(response) => response,
            Err(status) if status.code() == Code::NotFound => return Ok(None),
            Err(status) => return Err(self.connection.status_error(&what, &status)),
        };
        match response.result.into_iter().next() {
            Some(point) => self.parse_record(point.payload).map(Some),
            None => Ok(None),
        }
    }

    /// Reads every state record, by version.
    async fn read_records(&self) -> IndexResult<BTreeMap<u64, StateRecord>> {
        let mut records = BTreeMap::new();
        let mut offset: Option<PointId> = None;
        loop {
            let request = ScrollPoints {
                collection_name: self.state_collection.clone(),
                offset: offset.clone(),
                limit: Some(100),
                with_payload: Some(query::with_payload(true)),
                with_vectors: Some(query::with_vectors(false)),
                ..ScrollPoints::default()
            };
            let what = format!("list the state records in {}", self.state_collection);
            let result = self
                .connection
                .call_status(&what, || {
                    let request = request.clone();
                    async move {
                        let mut client = self.connection.points().await;
                        client.scroll(request).await.map(|r| r.into_inner())
                    }
                })
                .await?;
            let response = match result {
                Ok(response) => response,
                Err(status) if status.code() == Code::NotFound => return Ok(records),
                Err(status) => return Err(self.connection.status_error(&what, &status)),
            };
            for point in response.result {
                let version = index::numeric_id(point.id.as_ref())?;
                records.insert(version, self.parse_record(point.payload)?);
            }
            match response.next_page_offset {
                Some(next) => offset = Some(next),
                None => return Ok(records),
            }
        }
    }

    fn parse_record(
        &self,
        payload: std::collections::HashMap<String, qdrant_client::qdrant::Value>,
    ) -> IndexResult<StateRecord> {
        let json = serde_json::Value::Object(query::from_qdrant_payload(payload));
        serde_json::from_value(json).map_err(|err| {
            IndexError::Incompatible(format!(
                "a state record in {} on the Qdrant server is not valid ({err}); delete that \
                 collection and run a full rebuild",
                self.state_collection,
            ))
        })
    }

    async fn write_record(&self, version: u64, record: &StateRecord) -> IndexResult<()> {
        let payload = match serde_json::to_value(record) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) | Err(_) => {
                return Err(IndexError::Engine(
                    "failed to serialize the sync state".to_string(),
                ))
            }
        };
        let request = UpsertPoints {
            collection_name: self.state_collection.clone(),
            wait: Some(true),
            points: vec![PointStruct {
                id: Some(PointId::from(version)),
                payload: query::to_qdrant_payload(payload),
                vectors: Some(Vectors::from(vec![1.0_f32])),
            }],
            ..UpsertPoints::default()
        };
        let what = format!("write the sync state into {}", self.state_collection);
        self.connection
            .points_call(&what, &request, |mut client, request| async move {
                client.upsert(request).await
            })
            .await?;
        Ok(())
    }

    async fn delete_record(&self, version: u64) -> IndexResult<()> {
        let request = DeletePoints {
            collection_name: self.state_collection.clone(),
            wait: Some(true),
            points: Some(vec![PointId::from(version)].into()),
            ..DeletePoints::default()
        };
        let what = format!("delete a state record from {}", self.state_collection);
        self.connection
            .points_call(&what, &request, |mut client, request| async move {
                client.delete(request).await
            })
            .await?;
        Ok(())
    }

    /// Picks the version of a new collection: the current Unix millis, or one more than the
    /// newest version in use when the clock is behind it.
    fn next_version(&self, records: &BTreeMap<u64, StateRecord>, names: &BTreeSet<String>) -> u64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_millis() as u64);
        let newest_name = names.iter().filter_map(|name| self.version_of(name)).max();
        let newest_record = records.keys().next_back().copied();
        match newest_name.max(newest_record) {
            Some(newest) if newest >= now => newest + 1,
            _ => now,
        }
    }

    /// Points the alias at `target` in one request that deletes the old alias and creates
    /// the new one, so no search ever finds the alias missing.
    async fn switch_alias(&self, replace: bool, target: &str) -> IndexResult<()> {
        let request = ChangeAliases {
            timeout: Some(COLLECTION_TIMEOUT_SECS),
            ..query::switch_alias(&self.alias, target, replace)
        };

        let what = format!("point alias {} at {target}", self.alias);
        let result = self
            .connection
            .call_status(&what, || {
                let request = request.clone();
                async move {
                    let mut client = self.connection.collections().await;
                    client.update_aliases(request).await.map(|_| ())
                }
            })
            .await?;
        match result {
            Ok(()) => Ok(()),
            // An earlier attempt may have switched the alias before its response was lost.
            Err(_) if self.alias_target().await?.as_deref() == Some(target) => Ok(()),
            Err(status) => Err(self.connection.status_error(&what, &status)),
        }
    }

    /// Drops the crm-vec collections older than the live one, except the previous one when
    /// `keep_previous` is set, with their state records. Failures are logged, not returned,
    /// because the new collection is live already.
    ///
    /// NOTE: a rebuild that started before the committed one and is still running loses its
    /// collection here and fails on its next write. Newer collections are left alone, since
    /// a rebuild started later may still be filling them.
    async fn remove_old_collections(
        &self,
        live_version: u64,
        previous_version: Option<u64>,
        keep_previous: bool,
    ) {
        let (records, names) = match tokio::try_join!(self.read_records(), self.collection_names())
        {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!(error = %err, "failed to list old collections to remove");
                return;
            }
        };

        for (version, record) in &records {
            let kept = keep_previous && previous_version == Some(*version);
            if *version >= live_version || kept {
                continue;
            }
            if self.version_of(&record.collection) != Some(*version) {
                tracing::warn!(
                    version,
                    collection = %record.collection,
                    "state record names a collection of another version, leaving it alone"
                );
                continue;
            }
            if names.contains(&record.collection) {
                if let Err(err) = self.drop_collection(&record.collection).await {
                    tracing::warn!(collection = %record.collection, error = %err, "failed to delete old collection");
                    continue;
                }
                tracing::info!(collection = %record.collection, "deleted old collection");
            }
            if let Err(err) = self.delete_record(*version).await {
                tracing::warn!(version, error = %err, "failed to delete old state record");
            }
        }

        for name in &names {
            let unrecorded = self
                .version_of(name)
                .is_some_and(|version| !records.contains_key(&version));
            if unrecorded {
                tracing::warn!(
                    collection = %name,
                    "collection is named like a crm-vec collection but has no state record, \
                     so crm-vec leaves it alone"
                );
            }
        }
    }
}

impl IndexStore for ServerStore {
    type Index = ServerIndex;

    async fn open_live(&self) -> IndexResult<Option<ServerIndex>> {
        let Some(live) = self.live().await? else {
            return Ok(None);
        };
        self.check_vectors(&live.collection, &live.record.layout)
            .await?;
        Ok(Some(ServerIndex::live(
            self.connection.clone(),
            &self.alias,
            live.record.layout,
        )))
    }

    async fn create_staging(&self, layout: IndexLayout) -> IndexResult<ServerIndex> {
        // Stop before creating anything when the alias belongs to someone else.
        self.live().await?;
        self.ensure_state_collection().await?;

        let (records, names) = tokio::try_join!(self.read_records(), self.collection_names())?;
        let version = self.next_version(&records, &names);
        let name = self.collection_name(version);

        // The record first: it marks the collection as crm-vec's even if this process stops
        // before the collection is complete, so the next commit can drop it.
        let record = StateRecord {
            collection: name.clone(),
            created_by: CREATED_BY.to_string(),
            layout: layout.clone(),
            state: None,
        };
        self.write_record(version, &record).await?;
        self.create_collection(query::create_lead_collection(&name, &layout))
            .await?;
        self.create_payload_indexes(&name).await?;

        tracing::info!(collection = %name, url = %self.connection.url, "created staging collection");
        Ok(ServerIndex::staging(self.connection.clone(), &name, layout))
    }

    async fn commit(
        &self,
        staging: ServerIndex,
        state: SyncState,
        keep_previous: bool,
    ) -> IndexResult<()> {
        let name = staging.collection().to_string();
        let (Some(version), Some(written)) = (self.version_of(&name), staging.written_count())
        else {
            return Err(IndexError::Incompatible(format!(
                "cannot commit {name}: it is not a staging collection of {}",
                self.alias
            )));
        };

        let count = crate::index::VectorIndex::count(&staging).await?;
        if count != written {
            return Err(IndexError::Engine(format!(
                "the new collection {name} holds {count} points but {written} were written; \
                 the alias {} stays on the previous collection",
                self.alias
            )));
        }

        let previous = self.live().await?;
        let record = StateRecord {
            collection: name.clone(),
            created_by: CREATED_BY.to_string(),
            layout: crate::index::VectorIndex::layout(&staging),
            state: Some(state),
        };
        self.write_record(version, &record).await?;
        self.switch_alias(previous.is_some(), &name).await?;
        tracing::info!(
            collection = %name,
            previous = ?previous.as_ref().map(|live| live.collection.as_str()),
            "switched alias {} to the new collection",
            self.alias,
        );

        let previous_version = previous.map(|live| live.version);
        self.remove_old_collections(version, previous_version, keep_previous)
            .await;
        Ok(())
    }

    async fn load_state(&self) -> IndexResult<SyncState> {
        Ok(self
            .live()
            .await?
            .and_then(|live| live.record.state)
            .unwrap_or_default())
    }

    async fn save_state(&self, state: &SyncState) -> IndexResult<()> {
        let Some(live) = self.live().await? else {
            return Err(IndexError::Incompatible(format!(
                "cannot save the sync state: the Qdrant server at {} has no index {} yet; run \
                 a full rebuild first",
                self.connection.url, self.alias,
            )));
        };
        let record = StateRecord {
            state: Some(state.clone()),
            ..live.record
        };
        self.write_record(live.version, &record).await
    }

    fn backend(&self) -> &'static str {
        "qdrant"
    }

    fn location(&self) -> String {
        self.connection.url.clone()
    }
}
