//! An in-process stand-in for a Qdrant server's gRPC API on 127.0.0.1, for tests of the
//! connection logic that a real server cannot script: transient failures, the version check and
//! a point count that differs from what was written.
//!
//! It implements the server traits that qdrant-client generates from Qdrant's protocol files.
//! The requests the tests need get empty or scripted responses, and every other method returns
//! `Unimplemented`. The fake stores nothing: an upsert succeeds without adding a point.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use qdrant_client::qdrant as proto;
use qdrant_client::qdrant::collections_server::{Collections, CollectionsServer};
use qdrant_client::qdrant::points_server::{Points, PointsServer};
use qdrant_client::qdrant::qdrant_server::{Qdrant, QdrantServer};
use qdrant_client::qdrant::{
    ChangeAliases, CollectionExists, CollectionExistsRequest, CollectionExistsResponse,
    CollectionOperationResponse, CountPoints, CountResponse, CountResult, GetPoints, GetResponse,
    HealthCheckReply, HealthCheckRequest, ListAliasesRequest, ListAliasesResponse,
    ListCollectionsRequest, ListCollectionsResponse, PointsOperationResponse, ScrollPoints,
    ScrollResponse, UpsertPoints,
};
use tonic::{Code, Request, Response, Status};

/// The fake's planned responses, and the requests it received.
#[derive(Debug, Default)]
pub(super) struct Script {
    /// Version the health check returns.
    pub version: String,
    /// Point count that every count request returns.
    pub point_count: u64,
    /// By method name, the code and the number of requests that fail with it before the
    /// method succeeds.
    pub failures: HashMap<&'static str, (Code, u32)>,
    /// Method names and arrival times of every request, in order.
    pub calls: Vec<(&'static str, Instant)>,
    /// Every `UpdateAliases` request.
    pub alias_changes: Vec<ChangeAliases>,
    /// Every `Upsert` request, failed attempts included.
    pub upserts: Vec<UpsertPoints>,
}

/// The gRPC services, sharing one script.
#[derive(Clone)]
struct Services {
    script: Arc<Mutex<Script>>,
}

impl Services {
    /// Records a request to `method`, then fails it as scripted or returns `reply`.
    fn answer<T>(&self, method: &'static str, reply: T) -> Result<Response<T>, Status> {
        let mut script = self.script.lock().unwrap();
        script.calls.push((method, Instant::now()));
        if let Some((code, left)) = script.failures.get_mut(method) {
            if *left > 0 {
                *left -= 1;
                return Err(Status::new(*code, format!("scripted failure of {method}")));
            }
        }
        Ok(Response::new(reply))
    }
}

/// A running fake server, stopped when dropped.
pub(super) struct FakeQdrant {
    pub url: String,
    script: Arc<Mutex<Script>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeQdrant {
    /// Starts the fake on a port of its own, on a thread with its own runtime, so that tests
    /// may use any runtime flavour.
    pub fn start(script: Script) -> FakeQdrant {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let script = Arc::new(Mutex::new(script));
        let services = Services {
            script: Arc::clone(&script),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the fake Qdrant");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let incoming = tonic::transport::server::TcpIncoming::from(listener);
                let serve = tonic::transport::Server::builder()
                    .add_service(QdrantServer::new(services.clone()))
                    .add_service(CollectionsServer::new(services.clone()))
                    .add_service(PointsServer::new(services))
                    .serve_with_incoming(incoming);
                // Not a graceful shutdown, which would wait for the test's client to close its
                // connection: dropping the runtime below ends every connection at once.
                tokio::select! {
                    served = serve => served.expect("serve the fake Qdrant"),
                    _ = stopped => {}
                }
            });
        });

        FakeQdrant {
            url,
            script,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Returns the number of requests to `method` so far.
    pub fn calls_to(&self, method: &str) -> usize {
        self.call_times(method).len()
    }

    /// Returns the arrival times of the requests to `method`.
    pub fn call_times(&self, method: &str) -> Vec<Instant> {
        let script = self.script.lock().unwrap();
        script
            .calls
            .iter()
            .filter(|(name, _)| *name == method)
            .map(|(_, at)| *at)
            .collect()
    }

    /// Returns every `UpdateAliases` request received.
    pub fn alias_changes(&self) -> Vec<ChangeAliases> {
        self.script.lock().unwrap().alias_changes.clone()
    }

    /// Returns every `Upsert` request received, failed attempts included.
    pub fn upserts(&self) -> Vec<UpsertPoints> {
        self.script.lock().unwrap().upserts.clone()
    }
}

impl Drop for FakeQdrant {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[tonic::async_trait]
impl Qdrant for Services {
    async fn health_check(
        &self,
        _: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckReply>, Status> {
        let version = self.script.lock().unwrap().version.clone();
        let reply = HealthCheckReply {
            title: "qdrant - vector search engine".to_string(),
            version,
            commit: None,
        };
        self.answer("health_check", reply)
    }
}

/// Implements a generated service trait: the methods written out in the first block, and an
/// `Unimplemented` status for the methods listed in the second.
macro_rules! fake_service {
    (
        impl $service:ident { $($implemented:tt)* }
        unimplemented { $($method:ident($request:ident) -> $response:ident;)* }
    ) => {
        #[tonic::async_trait]
        impl $service for Services {
            $($implemented)*

            $(
                async fn $method(
                    &self,
                    _: Request<proto::$request>,
                ) -> Result<Response<proto::$response>, Status> {
                    Err(Status::unimplemented(stringify!($method)))
                }
            )*
        }
    };
}

fake_service! {
    impl Collections {
        async fn list(
            &self,
            _: Request<ListCollectionsRequest>,
        ) -> Result<Response<ListCollectionsResponse>, Status> {
            self.answer("list", ListCollectionsResponse::default())
        }

        async fn list_aliases(
            &self,
            _: Request<ListAliasesRequest>,
        ) -> Result<Response<ListAliasesResponse>, Status> {
            self.answer("list_aliases", ListAliasesResponse::default())
        }

        async fn collection_exists(
            &self,
            _: Request<CollectionExistsRequest>,
        ) -> Result<Response<CollectionExistsResponse>, Status> {
            let reply = CollectionExistsResponse {
                result: Some(CollectionExists { exists: false }),
                time: 0.0,
            };
            self.answer("collection_exists", reply)
        }

        async fn update_aliases(
            &self,
            request: Request<ChangeAliases>,
        ) -> Result<Response<CollectionOperationResponse>, Status> {
            let reply = CollectionOperationResponse {
                result: true,
                time: 0.0,
            };
            let answer = self.answer("update_aliases", reply);
            if answer.is_ok() {
                let mut script = self.script.lock().unwrap();
                script.alias_changes.push(request.into_inner());
            }
            answer
        }
    }
    unimplemented {
        get(GetCollectionInfoRequest) -> GetCollectionInfoResponse;
        create(CreateCollection) -> CollectionOperationResponse;
        update(UpdateCollection) -> CollectionOperationResponse;
        delete(DeleteCollection) -> CollectionOperationResponse;
        list_collection_aliases(ListCollectionAliasesRequest) -> ListAliasesResponse;
        collection_cluster_info(CollectionClusterInfoRequest) -> CollectionClusterInfoResponse;
        update_collection_cluster_setup(UpdateCollectionClusterSetupRequest)
            -> UpdateCollectionClusterSetupResponse;
        create_shard_key(CreateShardKeyRequest) -> CreateShardKeyResponse;
        delete_shard_key(DeleteShardKeyRequest) -> DeleteShardKeyResponse;
        list_shard_keys(ListShardKeysRequest) -> ListShardKeysResponse;
    }
}

fake_service! {
    impl Points {
        async fn upsert(
            &self,
            request: Request<UpsertPoints>,
        ) -> Result<Response<PointsOperationResponse>, Status> {
            let upsert = request.into_inner();
            self.script.lock().unwrap().upserts.push(upsert);
            self.answer("upsert", PointsOperationResponse::default())
        }

        async fn get(&self, _: Request<GetPoints>) -> Result<Response<GetResponse>, Status> {
            self.answer("get", GetResponse::default())
        }

        async fn scroll(
            &self,
            _: Request<ScrollPoints>,
        ) -> Result<Response<ScrollResponse>, Status> {
            self.answer("scroll", ScrollResponse::default())
        }

        async fn count(&self, _: Request<CountPoints>) -> Result<Response<CountResponse>, Status> {
            let count = self.script.lock().unwrap().point_count;
            let reply = CountResponse {
                result: Some(CountResult { count }),
                ..CountResponse::default()
            };
            self.answer("count", reply)
        }
    }
    unimplemented {
        delete(DeletePoints) -> PointsOperationResponse;
        update_vectors(UpdatePointVectors) -> PointsOperationResponse;
        delete_vectors(DeletePointVectors) -> PointsOperationResponse;
        set_payload(SetPayloadPoints) -> PointsOperationResponse;
        overwrite_payload(SetPayloadPoints) -> PointsOperationResponse;
        delete_payload(DeletePayloadPoints) -> PointsOperationResponse;
        clear_payload(ClearPayloadPoints) -> PointsOperationResponse;
        create_field_index(CreateFieldIndexCollection) -> PointsOperationResponse;
        delete_field_index(DeleteFieldIndexCollection) -> PointsOperationResponse;
        create_vector_name(CreateVectorNameRequest) -> PointsOperationResponse;
        delete_vector_name(DeleteVectorNameRequest) -> PointsOperationResponse;
        search(SearchPoints) -> SearchResponse;
        search_batch(SearchBatchPoints) -> SearchBatchResponse;
        search_groups(SearchPointGroups) -> SearchGroupsResponse;
        recommend(RecommendPoints) -> RecommendResponse;
        recommend_batch(RecommendBatchPoints) -> RecommendBatchResponse;
        recommend_groups(RecommendPointGroups) -> RecommendGroupsResponse;
        discover(DiscoverPoints) -> DiscoverResponse;
        discover_batch(DiscoverBatchPoints) -> DiscoverBatchResponse;
        update_batch(UpdateBatchPoints) -> UpdateBatchResponse;
        query(QueryPoints) -> QueryResponse;
        query_batch(QueryBatchPoints) -> QueryBatchResponse;
        query_groups(QueryPointGroups) -> QueryGroupsResponse;
        facet(FacetCounts) -> FacetResponse;
        search_matrix_pairs(SearchMatrixPoints) -> SearchMatrixPairsResponse;
        search_matrix_offsets(SearchMatrixPoints) -> SearchMatrixOffsetsResponse;
    }
}
