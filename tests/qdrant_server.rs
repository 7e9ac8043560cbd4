//! The Qdrant server backend end to end, through the built binary.
//!
//! The tests of a wrong URL (Qdrant's REST port, a plain HTTP service) always run: they need
//! no Qdrant. The others run when `QDRANT_URL` names a Qdrant gRPC port (with
//! `QDRANT_API_KEY` if the server needs one); otherwise they pass at once and the binary writes
//! one notice to stderr that they were skipped. Each uses its own collection and deletes what
//! it created.

mod support;

use std::collections::BTreeSet;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qdrant_client::qdrant::point_id::PointIdOptions;
use qdrant_client::qdrant::{
    CreateAliasBuilder, CreateCollectionBuilder, Distance, ScrollPointsBuilder, VectorParamsBuilder,
};
use qdrant_client::Qdrant;
use serde_json::{json, Map, Value};

use crm_vec::index::server::{QdrantSettings, ServerStore};
use crm_vec::secret::Secret;
use support::harness::{hit_ids, Sandbox};
use support::odoo::{OdooStandIn, StandInConfig};

// ---------------------------------------------------------------------------------------------
// Without a server

/// The lines crm-vec wrote to stderr, without log lines.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect()
}

/// Serves every request with `body` until the test process ends.
fn http_service(body: &'static str) -> String {
    let server = tiny_http::Server::http("127.0.0.1:0").expect("bind a local HTTP server");
    let port = server.server_addr().to_ip().expect("an IP address").port();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let _ = request.respond(tiny_http::Response::from_string(body));
        }
    });
    format!("http://127.0.0.1:{port}")
}

#[test]
fn rest_port_gets_error_and_hint() {
    let mut sandbox = Sandbox::new();
    sandbox.set("QDRANT_URL", "http://127.0.0.1:6333");

    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("error: "), "{lines:?}");
    assert!(lines[0].contains("REST port"), "{lines:?}");
    assert!(lines[0].contains("http://127.0.0.1:6334"), "{lines:?}");
    assert!(lines[1].starts_with("hint: set QDRANT_URL"), "{lines:?}");
}

#[test]
fn plain_http_service_gets_error_and_hint() {
    let url = http_service("hello from some web server");
    let mut sandbox = Sandbox::new();
    sandbox.set("QDRANT_URL", &url);

    let started = Instant::now();
    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("error: "), "{lines:?}");
    assert!(lines[0].contains("answers plain HTTP"), "{lines:?}");
    assert!(lines[0].contains("6334"), "{lines:?}");
    assert!(lines[1].starts_with("hint: set QDRANT_URL"), "{lines:?}");
    // The HTTP response ends the checks after the first health check times out (10 s against a
    // service that never answers HTTP/2), without the retries of a server that is down.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn qdrant_rest_answer_names_grpc_port() {
    let url = http_service(r#"{"title":"qdrant - vector search engine","version":"1.15.0"}"#);
    let mut sandbox = Sandbox::new();
    sandbox.set("QDRANT_URL", &url);

    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    let lines = error_lines(&run.stderr);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("REST port"), "{lines:?}");
    assert!(lines[0].contains(":6334"), "{lines:?}");
    assert!(lines[1].starts_with("hint: set QDRANT_URL"), "{lines:?}");
}

#[test]
fn api_key_never_printed() {
    let url = http_service("not qdrant");
    let mut sandbox = Sandbox::new();
    sandbox.set("QDRANT_URL", &url);
    sandbox.set("QDRANT_API_KEY", "qdrant-secret-key-123");

    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(!run.all_output().contains("qdrant-secret-key-123"));
}

// ---------------------------------------------------------------------------------------------
// Against a real server

/// The server under test, with a collection name of its own, deleted on drop.
struct Server {
    url: String,
    api_key: Option<String>,
    collection: String,
    client: Qdrant,
}

impl Server {
    fn from_env(case: &str) -> Option<Server> {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let Some(url) = std::env::var("QDRANT_URL")
            .ok()
            .filter(|url| !url.is_empty())
        else {
            support::skip::qdrant_server_missing("qdrant_server", "the server tests");
            return None;
        };
        let api_key = std::env::var("QDRANT_API_KEY")
            .ok()
            .filter(|key| !key.is_empty());
        let client = Qdrant::from_url(&url)
            .api_key(api_key.clone())
            .skip_compatibility_check()
            .build()
            .expect("a Qdrant client");
        let collection = format!(
            "crm_vec_e2e_{case}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        Some(Server {
            url,
            api_key,
            collection,
            client,
        })
    }

    fn sandbox(&self, odoo: &OdooStandIn) -> Sandbox {
        let mut sandbox = Sandbox::for_odoo(odoo);
        sandbox.set("QDRANT_URL", &self.url);
        if let Some(key) = &self.api_key {
            sandbox.set("QDRANT_API_KEY", key);
        }
        sandbox.set("COLLECTION", &self.collection);
        sandbox
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Runtime::new().expect("a tokio runtime")
    }

    fn alias_target(&self) -> Option<String> {
        Self::runtime().block_on(async {
            let aliases = self.client.list_aliases().await.expect("list aliases");
            aliases
                .aliases
                .into_iter()
                .find(|alias| alias.alias_name == self.collection)
                .map(|alias| alias.collection_name)
        })
    }

    /// Lists every collection on the server.
    fn collection_names(&self) -> BTreeSet<String> {
        Self::runtime().block_on(async {
            let collections = self.client.list_collections().await.expect("list");
            collections
                .collections
                .into_iter()
                .map(|collection| collection.name)
                .collect()
        })
    }

    /// Collections whose name starts with this test's collection name.
    fn own_collections(&self) -> BTreeSet<String> {
        self.collection_names()
            .into_iter()
            .filter(|name| name.starts_with(&self.collection))
            .collect()
    }

    fn lead_collections(&self) -> BTreeSet<String> {
        let prefix = format!("{}_v", self.collection);
        self.own_collections()
            .into_iter()
            .filter(|name| name.starts_with(&prefix))
            .collect()
    }

    fn point_count(&self, collection: &str) -> u64 {
        Self::runtime().block_on(async {
            let response = self
                .client
                .count(qdrant_client::qdrant::CountPointsBuilder::new(collection).exact(true))
                .await
                .expect("count");
            response.result.map_or(0, |result| result.count)
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let settings = QdrantSettings::new(self.url.clone(), self.api_key.clone().map(Secret::new));
        let collection = self.collection.clone();
        let client = self.client.clone();
        let _ = std::thread::spawn(move || {
            Server::runtime().block_on(async {
                if let Ok(store) = ServerStore::open(settings, &collection) {
                    let _ = store.delete_everything().await;
                }
                // Collections the foreign-alias tests made without crm-vec.
                let _ = client.delete_alias(collection.as_str()).await;
                let _ = client.delete_collection(collection.as_str()).await;
                let _ = client
                    .delete_collection(format!("{collection}_foreign"))
                    .await;
            })
        })
        .join();
    }
}

fn generated_lead(id: u64, word: &str) -> Map<String, Value> {
    json!({
        "id": id,
        "name": format!("{word} furniture offer {id}"),
        "active": true,
        "stage_id": 1,
        "priority": "0",
        "write_date": "2026-01-01 00:00:00",
        "create_date": "2026-01-01 00:00:00",
    })
    .as_object()
    .expect("an object")
    .clone()
}

fn odoo_with(count: u64, word: &str) -> OdooStandIn {
    let leads = (1..=count).map(|id| generated_lead(id, word)).collect();
    OdooStandIn::start_with_leads(StandInConfig::default(), leads)
}

fn rebuild(sandbox: &Sandbox, extra: &[&str]) -> Value {
    let mut args = vec!["full-rebuild", "--json"];
    args.extend_from_slice(extra);
    sandbox.json(&args)
}

/// Waits for a child to finish and returns whether it succeeded.
fn wait_success(mut child: Child) -> bool {
    child.wait().map(|status| status.success()).unwrap_or(false)
}

#[test]
fn rebuild_never_shows_partial_index() {
    let Some(server) = Server::from_env("atomic") else {
        return;
    };
    const OLD: u64 = 3_000;
    const NEW: u64 = 3_500;
    let odoo = odoo_with(OLD, "alpha");
    let sandbox = server.sandbox(&odoo);
    assert_eq!(rebuild(&sandbox, &[])["upserted"], json!(OLD));

    for id in 1..=OLD {
        odoo.update_lead(id, json!({"name": format!("beta furniture offer {id}")}));
    }
    for _ in OLD..NEW {
        odoo.create_lead(json!({"name": "beta furniture offer new", "stage_id": 1}));
    }
    // Slow reads stretch the rebuild over several seconds of concurrent searches.
    odoo.set_latency(Duration::ZERO, Duration::from_millis(2));

    let rebuild = sandbox
        .command(&["full-rebuild", "--json"])
        .spawn()
        .expect("start full-rebuild");
    let mut seen = BTreeSet::new();
    let started = Instant::now();
    let mut finished = None;
    let mut rebuild = Some(rebuild);
    while started.elapsed() < Duration::from_secs(300) {
        let status = sandbox.json(&["status", "--json"]);
        let points = status["index"]["points"].as_u64().expect("points");
        assert!(points == OLD || points == NEW, "status saw {points} points");

        let search = sandbox.json(&["search", "--json", "furniture offer", "--limit", "20"]);
        let hits = search["hits"].as_array().expect("hits");
        assert_eq!(hits.len(), 20, "{search}");
        let words: BTreeSet<&str> = hits
            .iter()
            .filter_map(|hit| hit["name"].as_str()?.split(' ').next())
            .collect();
        assert_eq!(words.len(), 1, "one search mixed two indexes: {words:?}");
        seen.insert(words.into_iter().next().unwrap_or_default().to_string());

        if let Some(child) = rebuild.as_mut() {
            if child.try_wait().expect("poll full-rebuild").is_some() {
                finished = rebuild.take().map(wait_success);
            }
        } else {
            break;
        }
    }
    assert_eq!(finished, Some(true), "the rebuild did not succeed in time");
    assert!(
        seen.contains("beta"),
        "searches never saw the new index: {seen:?}"
    );
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(NEW));
}

#[test]
fn interrupted_rebuild_leaves_alias() {
    let Some(server) = Server::from_env("interrupted") else {
        return;
    };
    let odoo = odoo_with(2_000, "alpha");
    let sandbox = server.sandbox(&odoo);
    rebuild(&sandbox, &[]);
    let old = server
        .alias_target()
        .expect("an alias after the first rebuild");

    odoo.set_latency(Duration::ZERO, Duration::from_millis(5));
    let mut child = sandbox
        .command(&["full-rebuild"])
        .spawn()
        .expect("start full-rebuild");
    // Kill it once its new collection contains some points but not all.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let staging: Vec<String> = server
            .lead_collections()
            .into_iter()
            .filter(|name| *name != old)
            .collect();
        if staging.iter().any(|name| server.point_count(name) > 0) {
            break;
        }
        assert!(Instant::now() < deadline, "the rebuild never wrote points");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill full-rebuild");
    let _ = child.wait();

    assert_eq!(server.alias_target().as_deref(), Some(old.as_str()));
    let search = sandbox.json(&["search", "--json", "furniture", "--limit", "5"]);
    assert_eq!(hit_ids(&search).len(), 5);
    assert_eq!(
        server.lead_collections().len(),
        2,
        "the abandoned collection is left until the next commit"
    );

    odoo.set_latency(Duration::ZERO, Duration::ZERO);
    rebuild(&sandbox, &[]);
    let new = server.alias_target().expect("an alias");
    assert_ne!(new, old);
    assert_eq!(server.lead_collections(), BTreeSet::from([new.clone()]));
    assert_eq!(
        server.own_collections(),
        BTreeSet::from([new, format!("{}_crm_vec_state", server.collection)])
    );
}

#[test]
fn keep_previous_keeps_one() {
    let Some(server) = Server::from_env("keep") else {
        return;
    };
    let odoo = odoo_with(50, "alpha");
    let sandbox = server.sandbox(&odoo);
    rebuild(&sandbox, &[]);
    let first = server.alias_target().expect("an alias");

    rebuild(&sandbox, &["--keep-previous"]);
    let second = server.alias_target().expect("an alias");
    assert_eq!(
        server.lead_collections(),
        BTreeSet::from([first.clone(), second.clone()])
    );
    assert_eq!(
        server.point_count(&first),
        50,
        "the kept collection is complete"
    );

    rebuild(&sandbox, &[]);
    let third = server.alias_target().expect("an alias");
    assert_eq!(server.lead_collections(), BTreeSet::from([third]));
}

#[test]
fn foreign_alias_left_alone() {
    let Some(server) = Server::from_env("foreign_alias") else {
        return;
    };
    let foreign = format!("{}_foreign", server.collection);
    Server::runtime().block_on(async {
        server
            .client
            .create_collection(
                CreateCollectionBuilder::new(foreign.as_str())
                    .vectors_config(VectorParamsBuilder::new(4, Distance::Dot)),
            )
            .await
            .expect("create a foreign collection");
        server
            .client
            .create_alias(CreateAliasBuilder::new(
                foreign.as_str(),
                server.collection.as_str(),
            ))
            .await
            .expect("create a foreign alias");
    });
    let odoo = odoo_with(10, "alpha");
    let sandbox = server.sandbox(&odoo);

    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stderr.contains("did not create"), "{}", run.stderr);
    assert_eq!(server.alias_target(), Some(foreign.clone()));
    assert_eq!(server.lead_collections(), BTreeSet::new());

    let run = sandbox.run(&["search", "furniture"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stderr.contains("did not create"), "{}", run.stderr);
}

#[test]
fn foreign_collection_left_alone() {
    let Some(server) = Server::from_env("foreign_plain") else {
        return;
    };
    Server::runtime().block_on(async {
        server
            .client
            .create_collection(
                CreateCollectionBuilder::new(server.collection.as_str())
                    .vectors_config(VectorParamsBuilder::new(4, Distance::Dot)),
            )
            .await
            .expect("create a plain collection");
    });
    let odoo = odoo_with(10, "alpha");
    let sandbox = server.sandbox(&odoo);

    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stderr.contains("did not create"), "{}", run.stderr);
    assert!(server.own_collections().contains(&server.collection));
    assert_eq!(server.lead_collections(), BTreeSet::new());
}

#[test]
fn points_are_lead_ids() {
    let Some(server) = Server::from_env("ids") else {
        return;
    };
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = server.sandbox(&odoo);
    let summary = rebuild(&sandbox, &[]);
    let collection = server.alias_target().expect("an alias");

    let ids: BTreeSet<u64> = Server::runtime().block_on(async {
        let response = server
            .client
            .scroll(ScrollPointsBuilder::new(collection.as_str()).limit(1_000))
            .await
            .expect("scroll");
        response
            .result
            .into_iter()
            .map(|point| match point.id.and_then(|id| id.point_id_options) {
                Some(PointIdOptions::Num(id)) => id,
                other => panic!("point id {other:?} is not an integer"),
            })
            .collect()
    });
    assert_eq!(
        ids.len() as u64,
        summary["upserted"].as_u64().expect("upserted")
    );

    // The demo's lost leads are archived, so they are left out under the default policy.
    let active: BTreeSet<u64> = odoo
        .lead_ids()
        .into_iter()
        .filter(|id| {
            odoo.lead(*id)
                .is_some_and(|lead| lead["active"] == json!(true))
        })
        .collect();
    assert_eq!(ids, active);
}

#[test]
fn state_shared_across_machines() {
    let Some(server) = Server::from_env("state") else {
        return;
    };
    let odoo = odoo_with(20, "alpha");
    let first = server.sandbox(&odoo);
    rebuild(&first, &[]);

    // Another sandbox has its own data directory, like cron on another machine.
    let second = server.sandbox(&odoo);
    let status = second.json(&["status", "--json"]);
    assert_eq!(status["index"]["backend"], json!("qdrant"));
    assert_eq!(
        status["index"]["location"],
        json!(crm_vec::secret::redact_url(&server.url))
    );
    assert_eq!(status["index"]["points"], json!(20));
    assert_eq!(
        status["sync"]["checkpoint"],
        json!({"write_date": "2026-01-01 00:00:00", "id": 20})
    );
    assert!(
        status["sync"]["last_full_rebuild"]["at"].is_string(),
        "{status}"
    );
    assert!(!second.data_dir().join(&server.collection).exists());
}

#[test]
fn sandbox_drop_deletes_collections() {
    let Some(server) = Server::from_env("sandbox_drop") else {
        return;
    };
    let odoo = odoo_with(3, "alpha");
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    let collection = sandbox
        .server_collection()
        .expect("a collection of the sandbox")
        .to_string();
    rebuild(&sandbox, &[]);
    let state = format!("{collection}_crm_vec_state");
    assert!(server.collection_names().contains(&state));

    drop(sandbox);
    let own_prefix = format!("{collection}_");
    let left: Vec<String> = server
        .collection_names()
        .into_iter()
        .filter(|name| *name == collection || name.starts_with(&own_prefix))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    let aliases = Server::runtime()
        .block_on(async { server.client.list_aliases().await.expect("list aliases") });
    assert!(!aliases
        .aliases
        .iter()
        .any(|alias| alias.alias_name == collection));
}
