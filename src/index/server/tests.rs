//! Tests of the server backend that need no Qdrant server: names, request messages, settings
//! and the checks made before anything is sent, then retries, the version warning and the
//! commit's count check against the scripted gRPC fake of `fake.rs`. The behaviour against a
//! real server is tested by `tests/index_backends.rs` and `tests/qdrant_server.rs` when
//! `QDRANT_URL` is set.

use std::sync::atomic::{AtomicUsize, Ordering};

use qdrant_client::qdrant::{
    alias_operations::Action, condition::ConditionOneOf, query::Variant, r#match::MatchValue,
    vectors_config, Condition, CreateAlias, DeleteAlias, Distance, Fusion, Modifier,
};
use tonic::Status;
use tracing_subscriber::layer::SubscriberExt;

use super::connection::{is_transient, version_warning, CLIENT_VERSION};
use super::fake::{FakeQdrant, Script};
use super::*;
use crate::index::{Point, SearchFilter, SearchRequest, SparseVector, VectorIndex};
use crate::settings::{Layers, Settings};

fn store(collection: &str) -> ServerStore {
    ServerStore::open(
        QdrantSettings::new("http://127.0.0.1:6334", None),
        collection,
    )
    .unwrap()
}

fn request(dense: Option<Vec<f32>>, indices: Vec<u32>, filter: SearchFilter) -> SearchRequest {
    SearchRequest {
        dense,
        sparse: SparseVector {
            values: vec![1.0; indices.len()],
            indices,
        },
        filter,
        limit: 5,
    }
}

/// The field key and match value of a match condition.
fn match_of(condition: &Condition) -> Option<(&str, &MatchValue)> {
    match condition.condition_one_of.as_ref()? {
        ConditionOneOf::Field(field) => Some((
            field.key.as_str(),
            field.r#match.as_ref()?.match_value.as_ref()?,
        )),
        _ => None,
    }
}

fn settings_with(env: &[(&str, &str)]) -> Result<Settings, crate::settings::SettingsError> {
    let mut layers = Layers::default();
    layers
        .env
        .insert("XDG_DATA_HOME".to_string(), "/tmp/xdg".to_string());
    for (name, value) in env {
        layers.env.insert(name.to_string(), value.to_string());
    }
    Settings::resolve(&layers)
}

#[test]
fn collection_names_round_trip() {
    let store = store("odoo_crm_leads");
    let name = store.collection_name(1_715_000_000_000);
    assert_eq!(name, "odoo_crm_leads_v1715000000000");
    assert_eq!(store.version_of(&name), Some(1_715_000_000_000));
    assert_eq!(store.state_collection(), "odoo_crm_leads_crm_vec_state");
}

#[test]
fn foreign_names_have_no_version() {
    let store = store("odoo_crm_leads");
    for name in [
        "odoo_crm_leads",
        "odoo_crm_leads_v",
        "odoo_crm_leads_v12x",
        "odoo_crm_leads_v1_v2",
        "odoo_crm_leads_crm_vec_state",
        "other_v123",
        "odoo_crm_leadsv123",
    ] {
        assert_eq!(store.version_of(name), None, "{name}");
    }
}

#[test]
fn next_version_passes_newest() {
    let store = store("leads");
    let far_future = u64::MAX / 2;
    let names = BTreeSet::from([store.collection_name(far_future)]);
    assert_eq!(store.next_version(&BTreeMap::new(), &names), far_future + 1);

    let now = store.next_version(&BTreeMap::new(), &BTreeSet::new());
    assert!(now > 1_700_000_000_000, "{now} is not Unix millis");
}

#[test]
fn rest_port_rejected_without_request() {
    let error =
        ServerStore::open(QdrantSettings::new("http://localhost:6333", None), "leads").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("REST port"), "{message}");
    assert!(message.contains("http://localhost:6334"), "{message}");
    assert!(!message.contains('\n'), "{message}");
}

#[test]
fn open_rejects_bad_collection_name() {
    let result = ServerStore::open(QdrantSettings::new("http://127.0.0.1:6334", None), "a/b");
    assert!(matches!(result, Err(IndexError::Incompatible(_))));
}

#[test]
fn location_has_no_credentials() {
    let store = ServerStore::open(
        QdrantSettings::new("https://user:pw@qdrant.example.com:6334", None),
        "leads",
    )
    .unwrap();
    assert_eq!(store.location(), "https://qdrant.example.com:6334");
    assert_eq!(store.backend(), "qdrant");
}

#[test]
fn client_version_matches_cargo_lock() {
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    let entry = lock
        .split("[[package]]")
        .find(|entry| entry.contains("name = \"qdrant-client\""))
        .expect("qdrant-client in Cargo.lock");
    assert!(
        entry.contains(&format!("version = \"{CLIENT_VERSION}\"")),
        "Cargo.lock entry: {entry}"
    );
}

#[test]
fn versions_from_1_15_accepted() {
    for server in [
        "1.15.0",
        "1.15.2",
        "1.17.1",
        "1.18.0",
        "1.20.3",
        "1.21.0-dev",
        "v1.19.0",
    ] {
        assert_eq!(version_warning("1.20.0", server), None, "{server}");
    }
}

#[test]
fn server_before_1_15_warned() {
    let old = version_warning("1.20.0", "1.14.1").expect("a warning for 1.14");
    assert!(old.contains("1.14.1"), "{old}");
    assert!(old.contains("needs 1.15 or newer"), "{old}");
    assert!(version_warning("1.20.0", "0.11.0").is_some());
}

#[test]
fn server_past_client_warned() {
    let new = version_warning("1.20.0", "1.22.0").expect("a warning for 1.22");
    assert!(new.contains("1.22.0"), "{new}");
    assert!(new.contains("newer than the 1.21"), "{new}");
    assert!(version_warning("1.20.0", "2.0.0").is_some());
}

#[test]
fn unreadable_version_warned() {
    let warning = version_warning("1.20.0", "").expect("a warning");
    assert!(warning.contains("could not compare"), "{warning}");
}

#[test]
fn lead_collection_has_dense_and_idf_sparse() {
    let layout = IndexLayout {
        dense_dimension: Some(256),
        model: Some("voyage-4-lite".to_string()),
    };
    let request = query::create_lead_collection("leads_v1", &layout);
    assert_eq!(request.collection_name, "leads_v1");

    let Some(vectors_config::Config::ParamsMap(map)) =
        request.vectors_config.and_then(|config| config.config)
    else {
        panic!("named vectors expected");
    };
    let dense = &map.map[DENSE_VECTOR];
    assert_eq!(dense.size, 256);
    assert_eq!(dense.distance, i32::from(Distance::Cosine));

    let sparse = request.sparse_vectors_config.expect("sparse vectors");
    assert_eq!(
        sparse.map[SPARSE_VECTOR].modifier,
        Some(Modifier::Idf.into())
    );
}

#[test]
fn sparse_only_collection_has_no_dense() {
    let layout = IndexLayout {
        dense_dimension: None,
        model: None,
    };
    let request = query::create_lead_collection("leads_v1", &layout);
    let Some(vectors_config::Config::ParamsMap(map)) =
        request.vectors_config.and_then(|config| config.config)
    else {
        panic!("named vectors expected");
    };
    assert!(map.map.is_empty());
    assert!(request
        .sparse_vectors_config
        .is_some_and(|config| config.map.contains_key(SPARSE_VECTOR)));
}

#[test]
fn filter_matches_names_as_keywords() {
    let filter = SearchFilter {
        salesperson: Some("Mitchell Admin".to_string()),
        stage: Some("New".to_string()),
        include_archived: true,
        ..SearchFilter::default()
    };
    let filter = query::payload_filter(&filter).expect("a filter");
    let conditions: Vec<_> = filter.must.iter().filter_map(match_of).collect();
    assert_eq!(conditions.len(), 2);
    assert!(conditions.contains(&("stage", &MatchValue::Keyword("New".to_string()))));
    assert!(conditions.contains(&(
        "salesperson",
        &MatchValue::Keyword("Mitchell Admin".to_string())
    )));
}

#[test]
fn filter_hides_archived_by_default() {
    let filter = query::payload_filter(&SearchFilter::default()).expect("a filter");
    assert_eq!(filter.must.len(), 1);
    assert_eq!(
        match_of(&filter.must[0]),
        Some(("active", &MatchValue::Boolean(true)))
    );

    let everything = SearchFilter {
        include_archived: true,
        ..SearchFilter::default()
    };
    assert!(query::payload_filter(&everything).is_none());
}

#[test]
fn filter_bounds_revenue_inclusively() {
    let filter = SearchFilter {
        min_revenue: Some(2_000.0),
        max_revenue: Some(20_000.0),
        include_archived: true,
        ..SearchFilter::default()
    };
    let filter = query::payload_filter(&filter).expect("a filter");
    let Some(ConditionOneOf::Field(field)) = &filter.must[0].condition_one_of else {
        panic!("a field condition expected");
    };
    assert_eq!(field.key, "expected_revenue");
    let range = field.range.expect("a range");
    assert_eq!(range.gte, Some(2_000.0));
    assert_eq!(range.lte, Some(20_000.0));
    assert_eq!(range.gt, None);
    assert_eq!(range.lt, None);
}

#[test]
fn hybrid_query_fuses_filtered_prefetches() {
    let filter = SearchFilter {
        stage: Some("Won".to_string()),
        ..SearchFilter::default()
    };
    let query = query::search_query("leads", request(Some(vec![1.0, 0.0]), vec![3], filter))
        .expect("a query");

    assert_eq!(query.collection_name, "leads");
    assert_eq!(query.limit, Some(5));
    assert!(
        query.filter.is_none(),
        "the filter belongs in the prefetches"
    );
    assert_eq!(
        query.query.and_then(|query| query.variant),
        Some(Variant::Fusion(Fusion::Rrf.into()))
    );

    let usings: Vec<_> = query.prefetch.iter().map(|p| p.using.clone()).collect();
    assert_eq!(
        usings,
        vec![
            Some(DENSE_VECTOR.to_string()),
            Some(SPARSE_VECTOR.to_string())
        ]
    );
    for prefetch in &query.prefetch {
        assert_eq!(prefetch.limit, Some(50));
        assert_eq!(prefetch.filter.as_ref().map(|f| f.must.len()), Some(2));
    }
}

#[test]
fn keyword_query_searches_sparse_alone() {
    let query = query::search_query("leads", request(None, vec![3, 9], SearchFilter::default()))
        .expect("a query");
    assert!(query.prefetch.is_empty());
    assert_eq!(query.using.as_deref(), Some(SPARSE_VECTOR));
    assert!(query.filter.is_some());
}

#[test]
fn dense_query_without_terms_searches_dense() {
    let query = query::search_query(
        "leads",
        request(Some(vec![1.0]), Vec::new(), SearchFilter::default()),
    )
    .expect("a query");
    assert!(query.prefetch.is_empty());
    assert_eq!(query.using.as_deref(), Some(DENSE_VECTOR));
}

#[test]
fn empty_query_sends_nothing() {
    let no_terms = request(None, Vec::new(), SearchFilter::default());
    assert!(query::search_query("leads", no_terms).is_none());

    let mut no_limit = request(None, vec![1], SearchFilter::default());
    no_limit.limit = 0;
    assert!(query::search_query("leads", no_limit).is_none());
}

#[test]
fn prefetch_limit_matches_embedded() {
    assert_eq!(query::prefetch_limit(1), 50);
    assert_eq!(query::prefetch_limit(20), 80);
}

#[test]
fn settings_without_url_use_embedded() {
    let settings = settings_with(&[("QDRANT_API_KEY", "key")]).unwrap();
    assert!(settings.qdrant().unwrap().is_none());
}

#[test]
fn settings_read_url_and_key() {
    let settings = settings_with(&[
        ("QDRANT_URL", "http://qdrant.internal:6334/"),
        ("QDRANT_API_KEY", "s3cr3t-key"),
    ])
    .unwrap();
    let qdrant = settings.qdrant().unwrap().expect("server settings");
    assert_eq!(qdrant.url, "http://qdrant.internal:6334");
    assert_eq!(
        qdrant.api_key.as_ref().map(Secret::expose_secret),
        Some("s3cr3t-key")
    );
    let shown = settings
        .report()
        .into_iter()
        .find(|resolved| resolved.name == "QDRANT_API_KEY")
        .and_then(|resolved| resolved.display);
    assert_eq!(shown.as_deref(), Some("****"));
}

#[test]
fn settings_reject_bad_key_without_echo() {
    let settings = settings_with(&[
        ("QDRANT_URL", "http://localhost:6334"),
        ("QDRANT_API_KEY", "abc def\u{e9}"),
    ])
    .unwrap();
    let message = settings.qdrant().unwrap_err().to_string();
    assert!(message.contains("QDRANT_API_KEY"), "{message}");
    assert!(!message.contains("abc"), "{message}");
}

#[test]
fn settings_reject_url_without_scheme() {
    let settings = settings_with(&[("QDRANT_URL", "localhost:6334")]).unwrap();
    assert!(settings.qdrant().is_err());
}

#[test]
fn alias_switch_deletes_and_creates_together() {
    let request = query::switch_alias("leads", "leads_v2", true);
    assert_eq!(request.actions.len(), 2);
    assert_eq!(
        request.actions[0].action,
        Some(Action::DeleteAlias(DeleteAlias {
            alias_name: "leads".to_string()
        }))
    );
    assert_eq!(
        request.actions[1].action,
        Some(Action::CreateAlias(CreateAlias {
            collection_name: "leads_v2".to_string(),
            alias_name: "leads".to_string(),
        }))
    );
}

#[test]
fn first_alias_only_created() {
    let request = query::switch_alias("leads", "leads_v1", false);
    assert_eq!(request.actions.len(), 1);
    assert_eq!(
        request.actions[0].action,
        Some(Action::CreateAlias(CreateAlias {
            collection_name: "leads_v1".to_string(),
            alias_name: "leads".to_string(),
        }))
    );
}

#[test]
fn alias_delete_names_alias() {
    let request = query::delete_alias("leads");
    assert_eq!(request.actions.len(), 1);
    assert_eq!(
        request.actions[0].action,
        Some(Action::DeleteAlias(DeleteAlias {
            alias_name: "leads".to_string()
        }))
    );
}

#[test]
fn transient_codes_are_retried() {
    let cases = [
        (Code::Ok, false),
        (Code::Cancelled, false),
        (Code::Unknown, false),
        (Code::InvalidArgument, false),
        (Code::DeadlineExceeded, true),
        (Code::NotFound, false),
        (Code::AlreadyExists, false),
        (Code::PermissionDenied, false),
        (Code::ResourceExhausted, false),
        (Code::FailedPrecondition, false),
        (Code::Aborted, false),
        (Code::OutOfRange, false),
        (Code::Unimplemented, false),
        (Code::Internal, false),
        (Code::Unavailable, true),
        (Code::DataLoss, false),
        (Code::Unauthenticated, false),
    ];
    // Every gRPC status code, 0 to 16, once.
    let codes: BTreeSet<i32> = cases.iter().map(|(code, _)| *code as i32).collect();
    assert_eq!(codes, (0..=16).collect());

    for (code, transient) in cases {
        let status = Status::new(code, "failed");
        assert_eq!(is_transient(&status), transient, "{code:?}");
    }
}

#[test]
fn client_timeout_is_transient() {
    // tonic reports its own request timeout as Cancelled with this message.
    assert!(is_transient(&Status::cancelled("Timeout expired")));
    assert!(!is_transient(&Status::cancelled("operation was canceled")));
}

/// Retries with delays of 20, 40, 80 and 160 ms before jitter.
fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_secs(1),
    }
}

/// A fake server that reports the client's own version.
fn current_server() -> Script {
    Script {
        version: CLIENT_VERSION.to_string(),
        ..Script::default()
    }
}

fn fake_store(fake: &FakeQdrant, retry: RetryPolicy) -> ServerStore {
    let settings = QdrantSettings {
        retry,
        ..QdrantSettings::new(fake.url.clone(), None)
    };
    ServerStore::open(settings, "leads").unwrap()
}

fn sparse_layout() -> IndexLayout {
    IndexLayout {
        dense_dimension: None,
        model: None,
    }
}

fn sparse_points(ids: &[u64]) -> Vec<Point> {
    ids.iter()
        .map(|id| Point {
            id: *id,
            dense: None,
            sparse: SparseVector {
                indices: vec![1],
                values: vec![1.0],
            },
            payload: serde_json::Map::new(),
        })
        .collect()
}

/// Counts the WARN events of the connection module, on the threads where it is installed.
#[derive(Clone, Default)]
struct ConnectionWarnings(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ConnectionWarnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let metadata = event.metadata();
        if *metadata.level() == tracing::Level::WARN
            && metadata.target().ends_with("server::connection")
        {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Writes three points to a staging collection on a fake whose count returns `point_count`,
/// then commits it.
async fn commit_three_points(point_count: u64) -> (FakeQdrant, IndexResult<()>) {
    let fake = FakeQdrant::start(Script {
        point_count,
        ..current_server()
    });
    let store = fake_store(&fake, fast_retry(1));
    let staging = ServerIndex::staging(
        Arc::clone(&store.connection),
        &store.collection_name(7),
        sparse_layout(),
    );
    staging.upsert(sparse_points(&[1, 2, 3])).await.unwrap();
    let result = store.commit(staging, SyncState::default(), false).await;
    (fake, result)
}

#[tokio::test]
async fn unavailable_retried_with_backoff() {
    let mut script = current_server();
    script
        .failures
        .insert("list_aliases", (Code::Unavailable, 4));
    let fake = FakeQdrant::start(script);
    let store = fake_store(&fake, fast_retry(5));

    assert_eq!(store.alias_target().await.unwrap(), None);

    let times = fake.call_times("list_aliases");
    assert_eq!(times.len(), 5);
    let gaps: Vec<Duration> = times.windows(2).map(|pair| pair[1] - pair[0]).collect();
    // Each delay is the nominal one times a jitter factor of at least 0.5, so a delay that did
    // not double fails from the third retry on.
    for (gap, nominal_ms) in gaps.iter().zip([20, 40, 80, 160]) {
        assert!(*gap >= Duration::from_millis(nominal_ms / 2), "{gaps:?}");
    }
}

#[tokio::test]
async fn retries_stop_at_max_attempts() {
    let mut script = current_server();
    script
        .failures
        .insert("list_aliases", (Code::Unavailable, 10));
    let fake = FakeQdrant::start(script);
    let store = fake_store(&fake, fast_retry(3));

    let error = store.alias_target().await.unwrap_err().to_string();
    assert_eq!(fake.calls_to("list_aliases"), 3);
    assert!(
        error.contains("did not answer the request to list aliases after 3 attempts"),
        "{error}"
    );
}

#[tokio::test]
async fn permanent_failure_not_retried() {
    let mut script = current_server();
    script
        .failures
        .insert("list_aliases", (Code::InvalidArgument, 1));
    let fake = FakeQdrant::start(script);
    let store = fake_store(&fake, fast_retry(5));

    let error = store.alias_target().await.unwrap_err().to_string();
    assert_eq!(fake.calls_to("list_aliases"), 1);
    assert!(error.contains("failed to list aliases"), "{error}");
    assert!(error.contains("InvalidArgument"), "{error}");
}

#[tokio::test]
async fn transient_upsert_resent_unchanged() {
    let mut script = current_server();
    script.failures.insert("upsert", (Code::Unavailable, 2));
    let fake = FakeQdrant::start(script);
    let store = fake_store(&fake, fast_retry(3));
    let staging = ServerIndex::staging(
        Arc::clone(&store.connection),
        &store.collection_name(7),
        sparse_layout(),
    );

    staging.upsert(sparse_points(&[1, 2, 3])).await.unwrap();

    let upserts = fake.upserts();
    assert_eq!(upserts.len(), 3);
    assert_eq!(upserts[1], upserts[0]);
    assert_eq!(upserts[2], upserts[0]);
    let ids: Vec<PointId> = upserts[0]
        .points
        .iter()
        .filter_map(|point| point.id.clone())
        .collect();
    assert_eq!(ids, [1, 2, 3].map(PointId::from));
}

#[test]
fn version_warning_logged_once() {
    let warnings = ConnectionWarnings::default();
    let subscriber = tracing_subscriber::registry().with(warnings.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let fake = FakeQdrant::start(Script {
        version: "1.9.0".to_string(),
        ..Script::default()
    });
    // One thread, so that every event reaches the subscriber installed on it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    runtime.block_on(async {
        // A process has one store; its clones and index handles share the connection.
        let store = fake_store(&fake, fast_retry(1));
        store.alias_target().await.unwrap();
        store.clone().collection_names().await.unwrap();
        let index = ServerIndex::live(Arc::clone(&store.connection), "leads", sparse_layout());
        index.count().await.unwrap();
    });

    assert_eq!(fake.calls_to("health_check"), 1);
    assert_eq!(warnings.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn count_mismatch_keeps_alias() {
    let (fake, result) = commit_three_points(2).await;

    let error = result.unwrap_err().to_string();
    assert!(
        error.contains("leads_v7 holds 2 points but 3 were written"),
        "{error}"
    );
    assert!(
        error.contains("the alias leads stays on the previous collection"),
        "{error}"
    );
    assert_eq!(fake.alias_changes(), Vec::new());
    // The batch of points was the only write: no state record marks the collection committed.
    assert_eq!(fake.calls_to("upsert"), 1);
}

#[tokio::test]
async fn matching_count_switches_alias() {
    let (fake, result) = commit_three_points(3).await;

    result.unwrap();
    let expected = ChangeAliases {
        timeout: Some(COLLECTION_TIMEOUT_SECS),
        ..query::switch_alias("leads", "leads_v7", false)
    };
    assert_eq!(fake.alias_changes(), vec![expected]);
    // The batch of points, then the state record.
    assert_eq!(fake.calls_to("upsert"), 2);
}
