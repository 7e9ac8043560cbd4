//! Tests of the embedded store and index against real qdrant-edge shards in temporary
//! directories.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qdrant_edge::{EdgeConfig, EdgeShard};
use serde_json::{json, Map, Value};

use super::*;
use crate::index::{Point, SearchFilter, SearchRequest, SparseVector, VectorIndex};
use crate::sync::state::Checkpoint;

const LOCK_TIMEOUT: Duration = Duration::from_millis(300);

/// Environment variable that makes `child_upserts_then_aborts` run, naming its data directory.
const ABORT_CHILD_DIR_VAR: &str = "CRM_VEC_TEST_ABORT_CHILD_DIR";

/// A unique directory under the system temp dir, removed on drop.
struct TestDir(PathBuf);

impl TestDir {
    fn new(name: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "crm-vec-embedded-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn open_store(dir: &TestDir) -> EmbeddedStore {
    EmbeddedStore::open(dir.path(), "leads", LOCK_TIMEOUT).unwrap()
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

fn hit_ids(hits: &[crate::index::Hit]) -> Vec<u64> {
    hits.iter().map(|hit| hit.id).collect()
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

/// Commits an empty staging index with `layout` and returns the live index.
async fn live_index(store: &EmbeddedStore, layout: IndexLayout) -> EmbeddedIndex {
    let staging = store.create_staging(layout).await.unwrap();
    store
        .commit(staging, SyncState::default(), false)
        .await
        .unwrap();
    store.open_live().await.unwrap().unwrap()
}

fn generation_dirs(dir: &TestDir) -> Vec<String> {
    files::list_generations(&dir.path().join("leads")).unwrap()
}

fn live_name(dir: &TestDir) -> String {
    files::read_live(&dir.path().join("leads"))
        .unwrap()
        .unwrap()
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

#[tokio::test]
async fn store_without_live_index() {
    let dir = TestDir::new("empty");
    let store = open_store(&dir);

    assert!(store.open_live().await.unwrap().is_none());
    assert_eq!(store.load_state().await.unwrap(), SyncState::default());
    assert!(matches!(
        store.save_state(&sample_state(1)).await,
        Err(IndexError::Incompatible(_))
    ));
    assert_eq!(store.backend(), "embedded");
    assert_eq!(
        store.location(),
        dir.path().join("leads").display().to_string()
    );
}

#[tokio::test]
async fn commit_and_reopen_round_trip() {
    let dir = TestDir::new("round-trip");
    {
        let store = open_store(&dir);
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

        let live = store.open_live().await.unwrap().unwrap();
        assert_eq!(live.count().await.unwrap(), 1);
    }

    let store = open_store(&dir);
    let live = store.open_live().await.unwrap().unwrap();
    assert_eq!(live.layout(), dense_layout());
    assert_eq!(live.count().await.unwrap(), 1);
    assert_eq!(store.load_state().await.unwrap(), sample_state(7));

    let points = live.retrieve(vec![7], true).await.unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].payload["name"], json!("Acme renewal"));
    assert_eq!(points[0].dense, Some(vec![1.0, 0.0, 0.0]));
}

#[tokio::test]
async fn open_live_returns_shared_index() {
    let dir = TestDir::new("shared");
    let store = open_store(&dir);
    let first = live_index(&store, sparse_layout()).await;

    // A second load of the same shard would fail on qdrant-edge's WAL lock.
    let second = store.open_live().await.unwrap().unwrap();
    first
        .upsert(vec![lead(1, None, &[(1, 1.0)], json!({"active": true}))])
        .await
        .unwrap();
    assert_eq!(second.count().await.unwrap(), 1);
}

#[tokio::test]
async fn state_survives_reopen() {
    let dir = TestDir::new("state");
    {
        let store = open_store(&dir);
        live_index(&store, sparse_layout()).await;
        store.save_state(&sample_state(42)).await.unwrap();
        assert_eq!(store.load_state().await.unwrap(), sample_state(42));
    }

    let store = open_store(&dir);
    assert_eq!(store.load_state().await.unwrap(), sample_state(42));
    let state_path = dir
        .path()
        .join("leads")
        .join(live_name(&dir))
        .join(STATE_FILE);
    assert!(state_path.is_file());
}

#[tokio::test]
async fn sparse_search_finds_matching_point() {
    let dir = TestDir::new("sparse");
    let store = open_store(&dir);
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

#[tokio::test]
async fn empty_sparse_query_returns_no_hits() {
    let dir = TestDir::new("empty-query");
    let store = open_store(&dir);
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

#[tokio::test]
async fn hybrid_search_ranks_point_matching_both() {
    let dir = TestDir::new("hybrid");
    let store = open_store(&dir);
    let index = live_index(&store, dense_layout()).await;
    let query_vector = vec![1.0, 0.1, 0.0];
    let query_term = (9, 1.0);

    // Ranks are chosen so that no two points tie in either list. With RRF's k = 2, point 3
    // (second in both lists) scores 1/3 + 1/3, point 1 (first in dense only) 1/2, and point 2
    // (first in sparse, seventh in dense) 1/2 + 1/8.
    let mut points = vec![
        // The nearest to the query vector, without the query term.
        lead(
            1,
            Some(query_vector.clone()),
            &[(5, 1.0)],
            json!({"active": true}),
        ),
        // The highest weight for the query term, orthogonal to the query vector.
        lead(
            2,
            Some(vec![0.0, 0.0, 1.0]),
            &[(9, 2.0)],
            json!({"active": true}),
        ),
        // Second nearest to the query vector, and second for the query term.
        lead(
            3,
            Some(vec![0.9, 0.2, 0.0]),
            &[(9, 1.0)],
            json!({"active": true}),
        ),
    ];
    // Points between 3 and 2 in the dense ranking, without the query term.
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
    assert!(hybrid_hits[0].score > hybrid_hits[1].score);
    assert!(hybrid_hits[1].score > hybrid_hits[2].score);

    let wrong_dimension = index
        .search(request(Some(vec![1.0, 0.0]), &[query_term]))
        .await;
    assert!(matches!(wrong_dimension, Err(IndexError::Incompatible(_))));
}

#[tokio::test]
async fn search_applies_payload_filters() {
    let dir = TestDir::new("filters");
    let store = open_store(&dir);
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
    let mut ids = hit_ids(&hits);
    ids.sort();
    assert_eq!(ids, vec![1, 3]);

    let by_revenue = SearchFilter {
        min_revenue: Some(2_000.0),
        max_revenue: Some(20_000.0),
        ..SearchFilter::default()
    };
    let hits = index
        .search(keyword_request(&term, by_revenue.clone()))
        .await
        .unwrap();
    let mut ids = hit_ids(&hits);
    ids.sort();
    assert_eq!(ids, vec![2, 3]);

    let with_archived = SearchFilter {
        include_archived: true,
        ..by_revenue
    };
    let hits = index
        .search(keyword_request(&term, with_archived))
        .await
        .unwrap();
    let mut ids = hit_ids(&hits);
    ids.sort();
    assert_eq!(ids, vec![2, 3, 4]);

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
    assert!(!hit_ids(&hits).contains(&4));
}

#[tokio::test]
async fn set_payloads_keeps_vectors() {
    let dir = TestDir::new("set-payloads");
    let store = open_store(&dir);
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

#[tokio::test]
async fn delete_counts_existing_points() {
    let dir = TestDir::new("delete");
    let store = open_store(&dir);
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

#[tokio::test]
async fn ids_are_ascending_across_pages() {
    let dir = TestDir::new("ids");
    let store = open_store(&dir);
    let index = live_index(&store, sparse_layout()).await;
    // Inserted in descending order, more than two scroll pages.
    let points: Vec<Point> = (1..=2_500u64)
        .rev()
        .map(|id| lead(id, None, &[(1, 1.0)], json!({"active": true})))
        .collect();
    index.upsert(points).await.unwrap();

    let ids = index.ids().await.unwrap();
    assert_eq!(ids, (1..=2_500).collect::<Vec<u64>>());
    assert_eq!(index.count().await.unwrap(), 2_500);
}

#[tokio::test]
async fn upsert_rejects_wrong_dense_dimension() {
    let dir = TestDir::new("dimension");
    let store = open_store(&dir);
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

#[tokio::test]
async fn second_open_fails_with_locked() {
    let dir = TestDir::new("locked");
    let _store = open_store(&dir);

    let started = Instant::now();
    let error = EmbeddedStore::open(dir.path(), "leads", LOCK_TIMEOUT).unwrap_err();
    let waited = started.elapsed();

    let IndexError::Locked { path, holder } = &error else {
        panic!("expected a Locked error, got {error:?}");
    };
    assert_eq!(path, &dir.path().join("leads").display().to_string());
    assert!(
        holder.starts_with(&format!(" (pid {}: ", std::process::id())),
        "holder {holder:?}"
    );
    assert!(waited >= LOCK_TIMEOUT, "gave up after {waited:?}");
    assert!(
        waited < LOCK_TIMEOUT + Duration::from_secs(2),
        "waited {waited:?}"
    );
}

#[tokio::test]
async fn lock_released_when_store_dropped() {
    let dir = TestDir::new("released");
    drop(open_store(&dir));
    assert!(EmbeddedStore::open(dir.path(), "leads", Duration::ZERO).is_ok());
}

#[test]
fn wal_lock_error_becomes_locked() {
    let dir = TestDir::new("wal-lock");
    let config = EdgeConfig::default();
    let _first = EdgeShard::new(dir.path(), config).unwrap();

    let error = EdgeShard::load(dir.path(), None).unwrap_err();
    let translated = index::engine_error(dir.path(), error);
    assert!(
        matches!(&translated, IndexError::Locked { path, .. } if path == &dir.path().display().to_string()),
        "got {translated:?}"
    );
}

#[test]
fn lock_file_records_holder() {
    let dir = TestDir::new("lock-file");
    let _store = open_store(&dir);
    let contents = std::fs::read_to_string(dir.path().join("leads").join(LOCK_FILE)).unwrap();
    let mut lines = contents.lines();
    assert_eq!(lines.next(), Some(std::process::id().to_string().as_str()));
    assert!(lines.next().is_some_and(|command| !command.is_empty()));
}

#[tokio::test]
async fn interrupted_rebuild_cleaned_by_next_commit() {
    let dir = TestDir::new("interrupted");
    let store = open_store(&dir);
    let first = live_index(&store, sparse_layout()).await;
    let first_name = live_name(&dir);
    drop(first);

    // A rebuild that stops before its commit leaves its generation behind.
    let abandoned = store.create_staging(sparse_layout()).await.unwrap();
    let abandoned_name = generation_name(abandoned.generation_dir());
    drop(abandoned);
    assert_eq!(live_name(&dir), first_name);
    assert_eq!(generation_dirs(&dir).len(), 2);

    let staging = store.create_staging(sparse_layout()).await.unwrap();
    let new_name = generation_name(staging.generation_dir());
    store
        .commit(staging, SyncState::default(), false)
        .await
        .unwrap();

    assert_eq!(live_name(&dir), new_name);
    assert_eq!(generation_dirs(&dir), vec![new_name.clone()]);
    assert_ne!(abandoned_name, new_name);
}

#[tokio::test]
async fn commit_keeps_previous_when_asked() {
    let dir = TestDir::new("keep-previous");
    let store = open_store(&dir);
    let first = live_index(&store, sparse_layout()).await;
    let first_name = live_name(&dir);
    drop(first);

    let staging = store.create_staging(sparse_layout()).await.unwrap();
    store
        .commit(staging, SyncState::default(), true)
        .await
        .unwrap();
    let second_name = live_name(&dir);
    assert_eq!(generation_dirs(&dir), vec![first_name, second_name.clone()]);

    let staging = store.create_staging(sparse_layout()).await.unwrap();
    store
        .commit(staging, SyncState::default(), false)
        .await
        .unwrap();
    assert_eq!(generation_dirs(&dir), vec![live_name(&dir)]);
}

#[tokio::test]
async fn commit_keeps_directory_of_open_previous_index() {
    let dir = TestDir::new("open-previous");
    let store = open_store(&dir);
    let previous = live_index(&store, sparse_layout()).await;
    let previous_name = live_name(&dir);

    let staging = store.create_staging(sparse_layout()).await.unwrap();
    store
        .commit(staging, SyncState::default(), false)
        .await
        .unwrap();

    // The previous index is still in use, so its directory stays until a later commit.
    assert!(generation_dirs(&dir).contains(&previous_name));
    assert_eq!(previous.count().await.unwrap(), 0);
    drop(previous);

    let staging = store.create_staging(sparse_layout()).await.unwrap();
    store
        .commit(staging, SyncState::default(), false)
        .await
        .unwrap();
    assert_eq!(generation_dirs(&dir), vec![live_name(&dir)]);
}

#[tokio::test]
async fn upsert_survives_process_abort() {
    let dir = TestDir::new("abort");
    let test_name = format!(
        "{}::child_upserts_then_aborts",
        module_path!().split_once("::").map_or("", |(_, rest)| rest)
    );
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", &test_name, "--ignored", "--test-threads=1"])
        .env(ABORT_CHILD_DIR_VAR, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child process was expected to abort");

    let store = open_store(&dir);
    let index = store.open_live().await.unwrap().expect("live index");
    assert_eq!(index.ids().await.unwrap(), vec![1, 2]);
    let hits = index
        .search(keyword_request(&[(8, 1.0)], SearchFilter::default()))
        .await
        .unwrap();
    assert_eq!(hit_ids(&hits), vec![2]);
}

/// Runs only as the child process of `upsert_survives_process_abort`: writes two points and
/// aborts without running destructors, so nothing is flushed on drop.
#[tokio::test]
#[ignore = "run by upsert_survives_process_abort"]
async fn child_upserts_then_aborts() {
    let Some(dir) = std::env::var_os(ABORT_CHILD_DIR_VAR) else {
        return;
    };
    let store = EmbeddedStore::open(Path::new(&dir), "leads", LOCK_TIMEOUT).unwrap();
    let index = live_index(&store, sparse_layout()).await;
    index
        .upsert(vec![
            lead(1, None, &[(7, 1.0)], json!({"active": true})),
            lead(2, None, &[(8, 1.0)], json!({"active": true})),
        ])
        .await
        .unwrap();
    std::process::abort();
}
