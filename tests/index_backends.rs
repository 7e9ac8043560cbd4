//! One behavioural suite for both index backends, run through `AnyStore` as the commands use it.
//!
//! The embedded half always runs. The server half runs when `QDRANT_URL` names a Qdrant gRPC
//! port (and `QDRANT_API_KEY` its key, if it needs one). Without it the server tests pass at
//! once, and the binary writes one notice to stderr that they were skipped. Every server test
//! works on its own collection and deletes it at the end, also when it fails.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Map, Value};

use crm_vec::index::any::AnyStore;
use crm_vec::index::embedded::EmbeddedStore;
use crm_vec::index::server::{QdrantSettings, ServerStore};
use crm_vec::index::{
    Hit, IndexError, IndexLayout, IndexStore, Point, SearchFilter, SearchRequest, SparseVector,
    VectorIndex,
};
use crm_vec::secret::Secret;
use crm_vec::sync::state::{Checkpoint, SyncState};

// Only the skip notices of the support code: this suite needs no stand-ins.
#[allow(dead_code)]
#[path = "support/skip.rs"]
mod skip;

/// Where one test's index lives.
enum Backend {
    Embedded(PathBuf),
    Server {
        settings: QdrantSettings,
        collection: String,
    },
}

fn unique_name(case: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "crm_vec_test_{case}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The server settings from the environment, or `None` (with a notice) when unset.
fn server_settings() -> Option<QdrantSettings> {
    let Some(url) = std::env::var("QDRANT_URL")
        .ok()
        .filter(|url| !url.is_empty())
    else {
        skip::qdrant_server_missing("index_backends", "the server::* tests");
        return None;
    };
    let api_key = std::env::var("QDRANT_API_KEY")
        .ok()
        .filter(|key| !key.is_empty())
        .map(Secret::new);
    Some(QdrantSettings::new(url, api_key))
}

impl Backend {
    fn embedded(case: &str) -> Backend {
        let dir = std::env::temp_dir().join(unique_name(case));
        std::fs::create_dir_all(&dir).unwrap();
        Backend::Embedded(dir)
    }

    fn server(case: &str) -> Option<Backend> {
        Some(Backend::Server {
            settings: server_settings()?,
            collection: unique_name(case),
        })
    }

    /// Opens the store; for the embedded backend, the previous store must be dropped first.
    fn open(&self) -> AnyStore {
        match self {
            Backend::Embedded(dir) => {
                AnyStore::Embedded(EmbeddedStore::open(dir, "leads", Duration::ZERO).unwrap())
            }
            Backend::Server {
                settings,
                collection,
            } => AnyStore::Server(ServerStore::open(settings.clone(), collection).unwrap()),
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        match self {
            Backend::Embedded(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Backend::Server {
                settings,
                collection,
            } => {
                let store = ServerStore::open(settings.clone(), collection).unwrap();
                // Drop may run inside the test's runtime, which cannot block on another future.
                let cleanup = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Runtime::new().unwrap();
                    runtime.block_on(store.delete_everything())
                });
                if let Ok(Err(err)) = cleanup.join() {
                    eprintln!("failed to delete the test collections of {collection}: {err}");
                }
            }
        }
    }
}

/// Generates one test per case and backend: `embedded::case` and `server::case`.
macro_rules! both_backends {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let backend = super::Backend::embedded(stringify!($case));
                    super::$case(&backend).await;
                }
            )*
        }

        mod server {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(backend) = super::Backend::server(stringify!($case)) else {
                        return;
                    };
                    super::$case(&backend).await;
                }
            )*
        }
    };
}

both_backends!(
    store_without_index,
    commit_and_reopen,
    state_survives_reopen,
    sparse_search_finds_match,
    empty_sparse_query_no_hits,
    hybrid_search_fuses_with_rrf,
    search_applies_filters,
    set_payloads_keeps_vectors,
    delete_counts_existing,
    ids_ascending_across_pages,
    upsert_rejects_wrong_dimension,
    retrieve_keeps_request_order,
    payload_types_round_trip,
    abandoned_staging_keeps_live,
    field_values_are_distinct_sorted,
);

/// Runs the server tests of this binary in a child process without `QDRANT_URL`, as plain
/// `cargo test` runs them: libtest captures their output, and the skip notice must still show.
#[test]
fn skip_notice_survives_capture() {
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .arg("server::")
        .env_remove("QDRANT_URL")
        .env_remove("RUST_TEST_NOCAPTURE")
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("test server::commit_and_reopen ... ok"),
        "{stdout}"
    );

    let notices: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("note: skipped"))
        .collect();
    assert_eq!(notices.len(), 1, "{stderr}");
    assert!(notices[0].contains("server::* tests"), "{stderr}");
    assert!(notices[0].contains("QDRANT_URL is not set"), "{stderr}");
    assert!(
        notices[0].contains("cargo test --test index_backends"),
        "{stderr}"
    );
}

fn sparse(terms: &[(u32, f32)]) -> SparseVector {
    SparseVector {
        indices: terms.iter().map(|(index, _)| *index).collect(),
        values: terms.iter().map(|(_, value)| *value).collect(),
    }
}

fn payload(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("test payload must be an object, got {other}"),
    }
}

fn lead(id: u64, dense: Option<Vec<f32>>, terms: &[(u32, f32)], fields: Value) -> Point {
    Point {
        id,
        dense,
        sparse: sparse(terms),
        payload: payload(fields),
    }
}

fn keyword_request(terms: &[(u32, f32)], filter: SearchFilter) -> SearchRequest {
    SearchRequest {
        dense: None,
        sparse: sparse(terms),
        filter,
        limit: 10,
    }
}

fn hit_ids(hits: &[Hit]) -> Vec<u64> {
    hits.iter().map(|hit| hit.id).collect()
}

fn sorted_ids(hits: &[Hit]) -> Vec<u64> {
    let mut ids = hit_ids(hits);
    ids.sort_unstable();
    ids
}

fn sparse_layout() -> IndexLayout {
    IndexLayout {
        dense_dimension: None,
        model: None,
    }
}

fn dense_layout() -> IndexLayout {
    IndexLayout {
        dense_dimension: Some(3),
        model: Some("test-model".to_string()),
    }
}

fn sample_state(id: u64) -> SyncState {
    SyncState {
        checkpoint: Some(Checkpoint {
            write_date: "2024-05-01 10:00:00".to_string(),
            id,
        }),
        ..SyncState::default()
    }
}

/// Commits an empty staging index with `layout` and returns the live index.
async fn live_index(store: &AnyStore, layout: IndexLayout) -> <AnyStore as IndexStore>::Index {
    let staging = store.create_staging(layout).await.unwrap();
    store
        .commit(staging, SyncState::default(), false)
        .await
        .unwrap();
    store.open_live().await.unwrap().expect("a live index")
}

async fn store_without_index(backend: &Backend) {
    let store = backend.open();
    assert!(store.open_live().await.unwrap().is_none());
    assert_eq!(store.load_state().await.unwrap(), SyncState::default());
    assert!(matches!(
        store.save_state(&sample_state(1)).await,
        Err(IndexError::Incompatible(_))
    ));
}

async fn commit_and_reopen(backend: &Backend) {
    {
        let store = backend.open();
        let staging = store.create_staging(dense_layout()).await.unwrap();
        staging
            .upsert(vec![lead(
                7,
                Some(vec![1.0, 0.0, 0.0]),
                &[(1, 1.0)],
                json!({"name": "Acme renewal", "active": true}),
            )])
            .await
            .unwrap();
        store.commit(staging, sample_state(7), false).await.unwrap();
    }

    let store = backend.open();
    let live = store.open_live().await.unwrap().expect("a live index");
    assert_eq!(live.layout(), dense_layout());
    assert_eq!(live.count().await.unwrap(), 1);
    assert_eq!(store.load_state().await.unwrap(), sample_state(7));

    let points = live.retrieve(vec![7], true).await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].id, 7);
    assert_eq!(points[0].payload["name"], json!("Acme renewal"));
    assert_eq!(points[0].dense, Some(vec![1.0, 0.0, 0.0]));
}

async fn state_survives_reopen(backend: &Backend) {
    {
        let store = backend.open();
        live_index(&store, sparse_layout()).await;
        store.save_state(&sample_state(42)).await.unwrap();
        assert_eq!(store.load_state().await.unwrap(), sample_state(42));
    }
    let store = backend.open();
    assert_eq!(store.load_state().await.unwrap(), sample_state(42));
    let live = store.open_live().await.unwrap().expect("a live index");
    assert_eq!(live.count().await.unwrap(), 0, "the state is not a point");
}

async fn sparse_search_finds_match(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, sparse_layout()).await;
    index
        .upsert(vec![
            lead(
                1,
                None,
                &[(10, 1.0), (11, 1.0)],
                json!({"name": "fox", "active": true}),
            ),
            lead(
                2,
                None,
                &[(20, 1.0)],
                json!({"name": "dog", "active": true}),
            ),
            lead(
                3,
                None,
                &[(30, 1.0)],
                json!({"name": "cat", "active": true}),
            ),
        ])
        .await
        .unwrap();

    let hits = index
        .search(keyword_request(&[(20, 1.0)], SearchFilter::default()))
        .await
        .unwrap();
    assert_eq!(hit_ids(&hits), vec![2]);
    assert_eq!(hits[0].payload["name"], json!("dog"));
    assert!(hits[0].score > 0.0);
}

async fn empty_sparse_query_no_hits(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, sparse_layout()).await;
    index
        .upsert(vec![lead(1, None, &[(1, 1.0)], json!({"active": true}))])
        .await
        .unwrap();

    let hits = index
        .search(keyword_request(&[], SearchFilter::default()))
        .await
        .unwrap();
    assert!(hits.is_empty());
}

async fn hybrid_search_fuses_with_rrf(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, dense_layout()).await;
    let query_vector = vec![1.0, 0.1, 0.0];
    let query_term = (9, 1.0);

    // With RRF's k = 2 and ranks from 0, point 3 (second in both lists) scores 1/3 + 1/3,
    // point 1 (first in dense only) 1/2, and point 2 (first in sparse, seventh in dense)
    // 1/2 + 1/8. The order alone holds for many k, so the scores are checked too.
    let mut points = vec![
        lead(
            1,
            Some(query_vector.clone()),
            &[(5, 1.0)],
            json!({"active": true}),
        ),
        lead(
            2,
            Some(vec![0.0, 0.0, 1.0]),
            &[(9, 2.0)],
            json!({"active": true}),
        ),
        lead(
            3,
            Some(vec![0.9, 0.2, 0.0]),
            &[(9, 1.0)],
            json!({"active": true}),
        ),
    ];
    for (id, x) in [(4, 0.5), (5, 0.4), (6, 0.3), (7, 0.2)] {
        points.push(lead(
            id,
            Some(vec![x, 1.0, 0.0]),
            &[(6, 1.0)],
            json!({"active": true}),
        ));
    }
    index.upsert(points).await.unwrap();

    let request = |dense: Option<Vec<f32>>, terms: &[(u32, f32)]| SearchRequest {
        dense,
        sparse: sparse(terms),
        filter: SearchFilter::default(),
        limit: 3,
    };

    let dense_hits = index
        .search(request(Some(query_vector.clone()), &[]))
        .await
        .unwrap();
    assert_eq!(hit_ids(&dense_hits), vec![1, 3, 4]);

    let sparse_hits = index.search(request(None, &[query_term])).await.unwrap();
    assert_eq!(hit_ids(&sparse_hits), vec![2, 3]);

    let hybrid_hits = index
        .search(request(Some(query_vector.clone()), &[query_term]))
        .await
        .unwrap();
    assert_eq!(hit_ids(&hybrid_hits), vec![3, 2, 1]);
    assert!(
        (hybrid_hits[0].score - 2.0 / 3.0).abs() < 1e-4,
        "{hybrid_hits:?}"
    );
    assert!(
        (hybrid_hits[1].score - 0.625).abs() < 1e-4,
        "{hybrid_hits:?}"
    );
    assert!((hybrid_hits[2].score - 0.5).abs() < 1e-4, "{hybrid_hits:?}");

    let wrong_dimension = index
        .search(request(Some(vec![1.0, 0.0]), &[query_term]))
        .await;
    assert!(matches!(wrong_dimension, Err(IndexError::Incompatible(_))));
}

async fn search_applies_filters(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, dense_layout()).await;
    let term = [(1, 1.0)];
    let point = |id, stage: &str, revenue: f64, active: bool| {
        lead(
            id,
            Some(vec![1.0, 0.0, 0.0]),
            &term,
            json!({
                "stage": stage,
                "salesperson": "Mitchell Admin",
                "team": "Sales",
                "type": "opportunity",
                "expected_revenue": revenue,
                "active": active,
            }),
        )
    };
    index
        .upsert(vec![
            point(1, "New", 1_000.0, true),
            point(2, "Won", 5_000.0, true),
            point(3, "New", 20_000.0, true),
            point(4, "New", 3_000.0, false),
        ])
        .await
        .unwrap();

    let by_stage = SearchFilter {
        stage: Some("New".to_string()),
        ..SearchFilter::default()
    };
    let hits = index
        .search(keyword_request(&term, by_stage))
        .await
        .unwrap();
    assert_eq!(sorted_ids(&hits), vec![1, 3]);

    let by_revenue = SearchFilter {
        min_revenue: Some(2_000.0),
        max_revenue: Some(20_000.0),
        ..SearchFilter::default()
    };
    let hits = index
        .search(keyword_request(&term, by_revenue.clone()))
        .await
        .unwrap();
    assert_eq!(sorted_ids(&hits), vec![2, 3]);

    let with_archived = SearchFilter {
        include_archived: true,
        ..by_revenue
    };
    let hits = index
        .search(keyword_request(&term, with_archived))
        .await
        .unwrap();
    assert_eq!(sorted_ids(&hits), vec![2, 3, 4]);

    // A name with a space must match exactly, not as full-text words.
    let by_person = SearchFilter {
        salesperson: Some("Mitchell".to_string()),
        ..SearchFilter::default()
    };
    let hits = index
        .search(keyword_request(&term, by_person))
        .await
        .unwrap();
    assert!(hits.is_empty(), "{hits:?}");

    let hybrid = SearchRequest {
        dense: Some(vec![1.0, 0.0, 0.0]),
        sparse: sparse(&term),
        filter: SearchFilter {
            stage: Some("Won".to_string()),
            salesperson: Some("Mitchell Admin".to_string()),
            team: Some("Sales".to_string()),
            lead_type: Some("opportunity".to_string()),
            ..SearchFilter::default()
        },
        limit: 10,
    };
    let hits = index.search(hybrid).await.unwrap();
    assert_eq!(hit_ids(&hits), vec![2]);

    let hits = index
        .search(keyword_request(&term, SearchFilter::default()))
        .await
        .unwrap();
    assert_eq!(sorted_ids(&hits), vec![1, 2, 3]);
}

async fn set_payloads_keeps_vectors(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, dense_layout()).await;
    index
        .upsert(vec![lead(
            1,
            Some(vec![0.0, 1.0, 0.0]),
            &[(3, 1.0)],
            json!({"stage": "New", "note": "old", "active": true}),
        )])
        .await
        .unwrap();

    index
        .set_payloads(vec![
            (1, payload(json!({"stage": "Won", "active": true}))),
            (99, payload(json!({"stage": "Lost", "active": true}))),
        ])
        .await
        .unwrap();

    let points = index.retrieve(vec![1, 99], true).await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(
        points[0].payload,
        payload(json!({"stage": "Won", "active": true}))
    );
    assert_eq!(points[0].dense, Some(vec![0.0, 1.0, 0.0]));

    let hits = index
        .search(keyword_request(&[(3, 1.0)], SearchFilter::default()))
        .await
        .unwrap();
    assert_eq!(hit_ids(&hits), vec![1]);
}

async fn delete_counts_existing(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, sparse_layout()).await;
    let points = (1..=3)
        .map(|id| lead(id, None, &[(1, 1.0)], json!({"active": true})))
        .collect();
    index.upsert(points).await.unwrap();

    assert_eq!(index.delete(vec![2, 2, 50]).await.unwrap(), 1);
    assert_eq!(index.delete(vec![2]).await.unwrap(), 0);
    assert_eq!(index.count().await.unwrap(), 2);
    assert_eq!(index.ids().await.unwrap(), vec![1, 3]);
}

async fn ids_ascending_across_pages(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, sparse_layout()).await;
    let points: Vec<Point> = (1..=2_500u64)
        .rev()
        .map(|id| lead(id, None, &[(1, 1.0)], json!({"active": true})))
        .collect();
    index.upsert(points).await.unwrap();

    let ids = index.ids().await.unwrap();
    assert_eq!(ids, (1..=2_500).collect::<Vec<u64>>());
    assert_eq!(index.count().await.unwrap(), 2_500);
}

async fn upsert_rejects_wrong_dimension(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, dense_layout()).await;

    let result = index
        .upsert(vec![lead(1, Some(vec![1.0, 2.0]), &[(1, 1.0)], json!({}))])
        .await;
    assert!(matches!(result, Err(IndexError::Incompatible(_))));
    assert_eq!(index.count().await.unwrap(), 0);

    let sparse_index = live_index(&store, sparse_layout()).await;
    let result = sparse_index
        .upsert(vec![lead(
            1,
            Some(vec![1.0, 2.0, 3.0]),
            &[(1, 1.0)],
            json!({}),
        )])
        .await;
    assert!(matches!(result, Err(IndexError::Incompatible(_))));
}

async fn retrieve_keeps_request_order(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, sparse_layout()).await;
    let points = [5, 1, 9]
        .into_iter()
        .map(|id| lead(id, None, &[(1, 1.0)], json!({"n": id})))
        .collect();
    index.upsert(points).await.unwrap();

    let found = index.retrieve(vec![9, 4, 1, 5], false).await.unwrap();
    let ids: Vec<u64> = found.iter().map(|point| point.id).collect();
    assert_eq!(ids, vec![9, 1, 5]);
    assert_eq!(found[0].payload["n"], json!(9));
    assert_eq!(found[0].dense, None);
}

async fn payload_types_round_trip(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, sparse_layout()).await;
    let fields = json!({
        "name": "Office chairs for Deco Addict",
        "active": true,
        "stage_id": 3,
        "expected_revenue": 12_500.5,
        "probability": 0.0,
        "tags": ["Product", "Services"],
        "date_deadline": null,
        "write_date": "2026-01-05 09:30:00",
        "partner": {"name": "Deco Addict", "id": 9},
    });
    index
        .upsert(vec![lead(31, None, &[(2, 1.0)], fields.clone())])
        .await
        .unwrap();

    let found = index.retrieve(vec![31], false).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(Value::Object(found[0].payload.clone()), fields);

    let hits = index
        .search(keyword_request(&[(2, 1.0)], SearchFilter::default()))
        .await
        .unwrap();
    assert_eq!(Value::Object(hits[0].payload.clone()), fields);
}

async fn abandoned_staging_keeps_live(backend: &Backend) {
    let store = backend.open();
    let live = live_index(&store, sparse_layout()).await;
    live.upsert(vec![lead(1, None, &[(1, 1.0)], json!({"active": true}))])
        .await
        .unwrap();
    store.save_state(&sample_state(1)).await.unwrap();

    // A rebuild that stops before its commit changes nothing that readers see.
    let abandoned = store.create_staging(sparse_layout()).await.unwrap();
    abandoned
        .upsert(vec![lead(2, None, &[(1, 1.0)], json!({"active": true}))])
        .await
        .unwrap();
    drop(abandoned);

    let reopened = store.open_live().await.unwrap().expect("a live index");
    assert_eq!(reopened.ids().await.unwrap(), vec![1]);
    assert_eq!(store.load_state().await.unwrap(), sample_state(1));

    let staging = store.create_staging(sparse_layout()).await.unwrap();
    staging
        .upsert(vec![lead(3, None, &[(1, 1.0)], json!({"active": true}))])
        .await
        .unwrap();
    store.commit(staging, sample_state(3), false).await.unwrap();

    let after = store.open_live().await.unwrap().expect("a live index");
    assert_eq!(after.ids().await.unwrap(), vec![3]);
    assert_eq!(store.load_state().await.unwrap(), sample_state(3));
}

async fn field_values_are_distinct_sorted(backend: &Backend) {
    let store = backend.open();
    let index = live_index(&store, sparse_layout()).await;
    assert_eq!(
        index.field_values("stage").await.unwrap(),
        Vec::<String>::new()
    );

    let point = |id, stage: &str, team: Value, active: bool| {
        lead(
            id,
            None,
            &[(1, 1.0)],
            json!({"stage": stage, "team": team, "active": active}),
        )
    };
    index
        .upsert(vec![
            point(1, "Won", json!("Sales"), true),
            point(2, "New", json!("Sales"), true),
            point(3, "Proposition", Value::Null, true),
            point(4, "New", json!("Europe"), true),
            point(5, "Lost", json!("Sales"), false),
        ])
        .await
        .unwrap();

    // Archived leads count: a search may include them.
    assert_eq!(
        index.field_values("stage").await.unwrap(),
        vec!["Lost", "New", "Proposition", "Won"]
    );
    assert_eq!(
        index.field_values("team").await.unwrap(),
        vec!["Europe", "Sales"]
    );

    // A value whose last point is gone, deleted or rewritten, is no longer listed.
    index.delete(vec![5]).await.unwrap();
    index
        .set_payloads(vec![(3, payload(json!({"stage": "New", "active": true})))])
        .await
        .unwrap();
    assert_eq!(
        index.field_values("stage").await.unwrap(),
        vec!["New", "Won"]
    );
}
