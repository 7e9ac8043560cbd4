//! `crm-vec mcp` end to end: rmcp's own client spawns the built binary and calls its tools
//! against the Odoo stand-in, and a hand-written client checks that stdout carries nothing but
//! JSON-RPC.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult, ProgressNotificationParam};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

use support::harness::Sandbox;
use support::odoo::{OdooStandIn, OdooVersion, StandInConfig};
use support::webhook::{eventually, get, odoo_body, post_like_odoo, Listener, ODOO17_ACTION};

/// Demo leads with "chair" in their name.
const CHAIR_LEADS: [u64; 5] = [4, 5, 22, 32, 38];

const SEARCH: &str = "odoo_crm_semantic_search";
const SYNC: &str = "odoo_crm_sync_embeddings";
const DELETE: &str = "odoo_crm_delete_embedding";
const STATUS: &str = "odoo_crm_sync_status";

fn odoo(version: OdooVersion) -> OdooStandIn {
    OdooStandIn::start(StandInConfig {
        version,
        ..StandInConfig::default()
    })
}

/// Starts a stand-in and a sandbox whose index contains the demo leads.
fn rebuilt(version: OdooVersion) -> (OdooStandIn, Sandbox) {
    let odoo = odoo(version);
    let sandbox = Sandbox::for_odoo(&odoo);
    let summary = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(summary["upserted"], json!(39), "{summary}");
    (odoo, sandbox)
}

/// Keeps the progress notifications the server sends.
#[derive(Clone, Default)]
struct Recorder {
    progress: Arc<Mutex<Vec<ProgressNotificationParam>>>,
}

impl ClientHandler for Recorder {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.lock().unwrap().push(params);
    }
}

/// A running `crm-vec mcp` with an initialized rmcp client.
struct Session {
    client: RunningService<RoleClient, Recorder>,
    recorder: Recorder,
    stderr: Arc<Mutex<String>>,
}

impl Session {
    async fn start(sandbox: &Sandbox, extra: &[&str]) -> Session {
        let mut args = vec!["mcp"];
        args.extend_from_slice(extra);
        let command = tokio::process::Command::from(sandbox.command(&args));
        let (transport, stderr) = TokioChildProcess::builder(command)
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn crm-vec mcp");
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(mut stderr) = stderr {
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut text = String::new();
                let _ = stderr.read_to_string(&mut text).await;
                log.lock().unwrap().push_str(&text);
            });
        }
        let recorder = Recorder::default();
        let client = recorder
            .clone()
            .serve(transport)
            .await
            .expect("the MCP handshake completes");
        Session {
            client,
            recorder,
            stderr: log,
        }
    }

    async fn call(&self, tool: &str, arguments: Value) -> CallToolResult {
        let Value::Object(arguments) = arguments else {
            panic!("arguments must be an object");
        };
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        match self.client.call_tool(params).await {
            Ok(result) => result,
            Err(err) => panic!(
                "{tool} failed at the protocol level: {err}\nserver stderr:\n{}",
                self.stderr.lock().unwrap()
            ),
        }
    }

    /// Calls a tool that must succeed and returns its structured content.
    async fn ok(&self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments.clone()).await;
        assert_eq!(
            result.is_error,
            Some(false),
            "{tool} {arguments} failed: {}",
            text(&result)
        );
        result
            .structured_content
            .unwrap_or_else(|| panic!("{tool} returned no structured content"))
    }

    /// Calls a tool that must fail and returns its message.
    async fn error(&self, tool: &str, arguments: Value) -> String {
        let result = self.call(tool, arguments.clone()).await;
        assert_eq!(
            result.is_error,
            Some(true),
            "{tool} {arguments} succeeded: {}",
            text(&result)
        );
        text(&result)
    }

    async fn search_ids(&self, arguments: Value) -> Vec<u64> {
        hit_ids(&self.ok(SEARCH, arguments).await)
    }

    async fn stop(self) {
        let _ = self.client.cancel().await;
    }
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|content| content.as_text().map(|text| text.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn hit_ids(structured: &Value) -> Vec<u64> {
    structured["hits"]
        .as_array()
        .map(|hits| hits.iter().filter_map(|hit| hit["id"].as_u64()).collect())
        .unwrap_or_default()
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_four_tools_with_schemas_and_annotations() {
    let (_odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;

    let info = session.client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|server| server.name.as_str()),
        Some("crm-vec")
    );
    let tools = session.client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, vec![DELETE, SEARCH, SYNC, STATUS]);

    let tool = |name: &str| tools.iter().find(|tool| tool.name == name).unwrap();
    for name in [SEARCH, SYNC, DELETE, STATUS] {
        let tool = tool(name);
        assert_eq!(tool.input_schema["type"], json!("object"), "{name}");
        assert!(
            tool.description.as_deref().is_some_and(|d| d.len() > 40),
            "{name} has no real description"
        );
    }
    let properties = |name: &str| -> Vec<String> {
        let mut keys: Vec<String> = tool(name).input_schema["properties"]
            .as_object()
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    assert_eq!(
        properties(SEARCH),
        vec![
            "include_archived",
            "limit",
            "max_revenue",
            "min_revenue",
            "query",
            "salesperson",
            "stage",
            "team",
            "type"
        ]
    );
    assert_eq!(properties(SYNC), vec!["mode", "record_id"]);
    assert_eq!(properties(DELETE), vec!["record_id"]);
    assert_eq!(tool(SEARCH).input_schema["required"], json!(["query"]));
    assert_eq!(tool(SYNC).input_schema["required"], json!(["mode"]));
    assert_eq!(tool(DELETE).input_schema["required"], json!(["record_id"]));

    let read_only = |name: &str| {
        tool(name)
            .annotations
            .as_ref()
            .and_then(|annotations| annotations.read_only_hint)
    };
    assert_eq!(read_only(SEARCH), Some(true));
    assert_eq!(read_only(STATUS), Some(true));
    assert_eq!(read_only(SYNC), Some(false));
    assert_eq!(read_only(DELETE), Some(false));
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn chairs_come_first_with_links_and_details() {
    let (odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;

    let result = session.call(SEARCH, json!({"query": "chairs"})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let structured = result.structured_content.clone().unwrap();
    let ids = hit_ids(&structured);
    assert!(ids.len() >= 5, "fewer than five hits: {structured}");
    assert_eq!(sorted(ids[..5].to_vec()), CHAIR_LEADS.to_vec());

    let lead_32 = structured["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|hit| hit["id"] == json!(32))
        .unwrap();
    assert_eq!(lead_32["name"], json!("Quote for 600 Chairs"));
    assert_eq!(lead_32["stage"], json!("Qualified"));
    assert_eq!(lead_32["salesperson"], json!("Mitchell Admin"));
    assert_eq!(lead_32["expected_revenue"], json!(22500.0));
    // Odoo 17 has no /odoo/… routes yet: the link is the /web# form.
    assert_eq!(
        lead_32["url"],
        json!(format!(
            "{}/web#id=32&model=crm.lead&view_type=form",
            odoo.url()
        ))
    );
    let text = text(&result);
    assert!(text.contains("[32] Quote for 600 Chairs"), "{text}");
    assert!(text.contains("revenue 22,500"), "{text}");
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn links_use_the_odoo_18_form_on_18() {
    let (odoo, sandbox) = rebuilt(OdooVersion::V18);
    let session = Session::start(&sandbox, &[]).await;

    let structured = session
        .ok(SEARCH, json!({"query": "chairs", "limit": 1}))
        .await;
    let hit = &structured["hits"][0];
    let id = hit["id"].as_u64().unwrap();
    assert_eq!(hit["url"], json!(format!("{}/odoo/crm/{id}", odoo.url())));
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_narrow_the_hits() {
    let (_odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;
    let all = session
        .search_ids(json!({"query": "chairs", "limit": 50}))
        .await;

    let opportunities = session
        .ok(
            SEARCH,
            json!({"query": "chairs", "limit": 50, "type": "opportunity"}),
        )
        .await;
    for hit in opportunities["hits"].as_array().unwrap() {
        assert_eq!(hit["type"], json!("opportunity"), "{hit}");
    }
    let ids = hit_ids(&opportunities);
    assert!(ids.iter().all(|id| all.contains(id)));
    assert!(ids.contains(&22), "{ids:?}");
    assert!(ids.contains(&32), "{ids:?}");
    for lead in [4, 5, 38] {
        assert!(
            !ids.contains(&lead),
            "lead {lead} is a lead, not an opportunity"
        );
    }

    let qualified = session
        .search_ids(json!({"query": "chairs", "limit": 50, "stage": "Qualified"}))
        .await;
    assert!(qualified.contains(&32), "{qualified:?}");
    assert!(qualified.contains(&38), "{qualified:?}");
    for other in [4, 5, 22] {
        assert!(!qualified.contains(&other), "lead {other} is not Qualified");
    }

    let big = session
        .search_ids(json!({"query": "chairs", "limit": 50, "min_revenue": 10000}))
        .await;
    assert!(big.contains(&32), "{big:?}");
    for small in [4, 5, 22, 38] {
        assert!(
            !big.contains(&small),
            "lead {small} expects less than 10,000"
        );
    }

    let mitchell = session
        .search_ids(json!({"query": "chairs", "limit": 50, "salesperson": "Mitchell Admin"}))
        .await;
    assert!(!mitchell.contains(&38), "lead 38 has no salesperson");
    assert!(mitchell.len() < all.len());

    let two = session
        .search_ids(json!({"query": "chairs", "limit": 2}))
        .await;
    assert_eq!(two.len(), 2);
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_tool_works_against_odoo() {
    let (odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;

    let status = session.ok(STATUS, json!({})).await;
    assert_eq!(status["index"]["points"], json!(39));
    assert_eq!(status["odoo"]["reachable"], json!(true));
    assert_eq!(status["odoo"]["leads_active"], json!(39));

    let deleted = session.ok(DELETE, json!({"record_id": 4})).await;
    assert_eq!(deleted["results"][0]["status"], json!("deleted"));
    assert!(!session
        .search_ids(json!({"query": "chairs"}))
        .await
        .contains(&4));
    let again = session.error(DELETE, json!({"record_id": 4})).await;
    assert!(again.contains("not in the index"), "{again}");

    let synced = session
        .ok(SYNC, json!({"mode": "sync_record", "record_id": 4}))
        .await;
    assert_eq!(synced["results"][0]["status"], json!("synced"));
    assert!(session
        .search_ids(json!({"query": "chairs"}))
        .await
        .contains(&4));

    odoo.update_lead(5, json!({"name": "Quotation for 50 Stools"}));
    let incremental = session.ok(SYNC, json!({"mode": "sync_new"})).await;
    assert!(
        incremental["upserted"].as_u64().unwrap() >= 1,
        "{incremental}"
    );
    assert!(!session
        .search_ids(json!({"query": "chairs"}))
        .await
        .contains(&5));
    let stools = session.search_ids(json!({"query": "stools"})).await;
    assert_eq!(stools.first(), Some(&5));

    let missing = session
        .error(SYNC, json!({"mode": "sync_record", "record_id": 99999}))
        .await;
    assert!(missing.contains("Lead 99999 was not found"), "{missing}");

    let rebuild = session.ok(SYNC, json!({"mode": "full_rebuild"})).await;
    assert_eq!(rebuild["fetched"], json!(44));
    assert_eq!(rebuild["upserted"], json!(39));
    let status = session.ok(STATUS, json!({})).await;
    assert_eq!(status["index"]["points"], json!(39));
    assert!(status["sync"]["last_full_rebuild"]["at"].is_string());
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn full_rebuild_reports_progress() {
    let (_odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;

    session.ok(SYNC, json!({"mode": "full_rebuild"})).await;
    let progress = session.recorder.progress.lock().unwrap().clone();
    assert!(!progress.is_empty(), "no progress notifications");
    // 44 leads in Odoo: 39 written, 5 lost ones skipped.
    assert!(
        progress.iter().all(|p| p.total == Some(44.0)),
        "{progress:?}"
    );
    assert_eq!(progress.last().map(|p| p.progress), Some(44.0));
    let values: Vec<f64> = progress.iter().map(|p| p.progress).collect();
    assert!(
        values.windows(2).all(|pair| pair[0] < pair[1]),
        "progress must grow: {values:?}"
    );
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_arguments_are_tool_errors() {
    let (_odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;

    let cases = [
        (SEARCH, json!({}), "`query` is required"),
        (SEARCH, json!({"query": "chairs", "limit": -1}), "`limit`"),
        (SEARCH, json!({"query": "chairs", "limit": 0}), "`limit`"),
        (SEARCH, json!({"query": "chairs", "limit": 51}), "`limit`"),
        (SEARCH, json!({"query": "chairs", "limit": "5"}), "`limit`"),
        (SEARCH, json!({"query": "chairs", "type": "deal"}), "`type`"),
        (
            SEARCH,
            json!({"query": "chairs", "colour": "red"}),
            "`colour`",
        ),
        (SYNC, json!({"mode": "everything"}), "`mode`"),
        (SYNC, json!({}), "`mode` is required"),
        (SYNC, json!({"mode": "sync_record"}), "`record_id`"),
        (
            SYNC,
            json!({"mode": "sync_record", "record_id": "4"}),
            "`record_id`",
        ),
        (
            SYNC,
            json!({"mode": "sync_record", "record_id": 4.5}),
            "`record_id`",
        ),
        (DELETE, json!({"record_id": "4"}), "`record_id`"),
        (DELETE, json!({"record_id": 4.5}), "`record_id`"),
        (DELETE, json!({"record_id": -4}), "`record_id`"),
        (DELETE, json!({}), "`record_id` is required"),
    ];
    for (tool, arguments, expected) in cases {
        let message = session.error(tool, arguments.clone()).await;
        assert!(
            message.contains(expected),
            "{tool} {arguments}: {message:?} does not mention {expected}"
        );
    }

    // The index is untouched and the server still serves calls.
    let ids = session.search_ids(json!({"query": "chairs"})).await;
    assert_eq!(sorted(ids[..5].to_vec()), CHAIR_LEADS.to_vec());
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_serves_only_search_and_status() {
    let (_odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &["--read-only"]).await;

    let tools = session.client.list_all_tools().await.expect("tools/list");
    let mut names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, vec![SEARCH, STATUS]);
    let info = session.client.peer_info().expect("server info");
    let instructions = info.instructions.clone().unwrap_or_default();
    assert!(!instructions.contains(SYNC), "{instructions}");

    let refused = session.error(DELETE, json!({"record_id": 4})).await;
    assert!(refused.contains("--read-only"), "{refused}");
    let refused = session.error(SYNC, json!({"mode": "full_rebuild"})).await;
    assert!(refused.contains("--read-only"), "{refused}");
    assert!(session
        .search_ids(json!({"query": "chairs"}))
        .await
        .contains(&4));
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn odoo_down_fails_only_syncs() {
    let (odoo, sandbox) = rebuilt(OdooVersion::V17);
    odoo.set_down(true);
    let session = Session::start(&sandbox, &[]).await;

    let ids = session.search_ids(json!({"query": "chairs"})).await;
    assert_eq!(sorted(ids[..5].to_vec()), CHAIR_LEADS.to_vec());
    let message = session.error(SYNC, json!({"mode": "sync_new"})).await;
    assert!(message.contains("could not connect to Odoo"), "{message}");
    let status = session.ok(STATUS, json!({})).await;
    assert_eq!(status["odoo"]["reachable"], json!(false));
    assert_eq!(status["index"]["points"], json!(39));

    // Once Odoo is back, the next sync connects.
    odoo.set_down(false);
    let synced = session
        .ok(SYNC, json!({"mode": "sync_record", "record_id": 22}))
        .await;
    assert_eq!(synced["results"][0]["id"], json!(22));
    session.stop().await;
}

/// Collects every key path of a JSON document's objects ("sync.queue.pending"), to compare
/// the shape of two outputs whose values differ.
fn key_paths(value: &Value) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut stack = vec![(String::new(), value)];
    while let Some((prefix, value)) = stack.pop() {
        let Some(object) = value.as_object() else {
            continue;
        };
        for (key, child) in object {
            let path = format!("{prefix}{key}");
            stack.push((format!("{path}."), child));
            paths.insert(path);
        }
    }
    paths
}

/// The write commands of `commands_from_other_processes_run_in_mcp`, with `--json`.
const WRITES: [&[&str]; 4] = [
    &["sync-new", "--json"],
    &["sync-record", "6", "--json"],
    &["delete", "4", "--json"],
    &["full-rebuild", "--json"],
];

#[tokio::test(flavor = "multi_thread")]
async fn commands_from_other_processes_run_in_mcp() {
    let (odoo, mut sandbox) = rebuilt(OdooVersion::V17);
    // Long enough for the commands after the session to wait until the server has exited.
    sandbox.set("CRM_VEC_LOCK_TIMEOUT", "20");
    let search_alone = sandbox.json(&["search", "chairs", "--json"]);
    let table_alone = sandbox.run(&["search", "chairs"]);
    let status_alone = sandbox.json(&["status", "--json"]);
    let session = Session::start(&sandbox, &[]).await;

    let handed: Vec<Value> = tokio::task::block_in_place(|| {
        assert_eq!(sandbox.json(&["search", "chairs", "--json"]), search_alone);
        assert_eq!(
            sandbox.run(&["search", "chairs"]).stdout,
            table_alone.stdout
        );
        let status = sandbox.json(&["status", "--json"]);
        assert_eq!(key_paths(&status), key_paths(&status_alone));
        assert_eq!(status["index"]["points"], json!(39));
        odoo.update_lead(5, json!({"name": "Quotation for 50 Stools"}));
        WRITES.iter().map(|args| sandbox.json(args)).collect()
    });
    assert!(handed[0]["upserted"].as_u64() >= Some(1), "{}", handed[0]);
    assert_eq!(
        handed[1]["records"],
        json!([{"id": 6, "status": "unchanged"}])
    );
    assert_eq!(
        handed[2]["records"],
        json!([{"id": 4, "status": "deleted"}])
    );
    assert_eq!(handed[3]["upserted"], json!(39));
    // The assistant's search finds what the other processes wrote.
    let stools = session.search_ids(json!({"query": "stools"})).await;
    assert_eq!(stools.first(), Some(&5));
    session.stop().await;

    // Run alone, the same commands print documents of the same shape.
    for (args, handed) in WRITES.iter().zip(&handed) {
        let alone = tokio::task::block_in_place(|| sandbox.json(args));
        assert_eq!(key_paths(&alone), key_paths(handed), "{args:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn second_mcp_forwards_then_takes_over() {
    let (_odoo, mut sandbox) = rebuilt(OdooVersion::V17);
    sandbox.set("CRM_VEC_LOCK_TIMEOUT", "20");
    let first = Session::start(&sandbox, &[]).await;
    let second = Session::start(&sandbox, &[]).await;

    let ids = second.search_ids(json!({"query": "chairs"})).await;
    assert_eq!(sorted(ids[..5].to_vec()), CHAIR_LEADS.to_vec());
    let deleted = second.ok(DELETE, json!({"record_id": 4})).await;
    assert_eq!(deleted["results"][0]["status"], json!("deleted"));
    assert!(!first
        .search_ids(json!({"query": "chairs"}))
        .await
        .contains(&4));
    let status = second.ok(STATUS, json!({})).await;
    assert_eq!(status["index"]["points"], json!(38));
    // The owner's progress reaches the second server's client as notifications.
    let rebuilt = second.ok(SYNC, json!({"mode": "full_rebuild"})).await;
    assert_eq!(rebuilt["upserted"], json!(39));
    let progress = second.recorder.progress.lock().unwrap().clone();
    assert_eq!(
        progress.last().map(|p| p.progress),
        Some(44.0),
        "{progress:?}"
    );
    assert!(first
        .search_ids(json!({"query": "chairs"}))
        .await
        .contains(&4));

    // The first server exits; the second opens the index on its next call and owns it.
    first.stop().await;
    let deleted = second.ok(DELETE, json!({"record_id": 5})).await;
    assert_eq!(deleted["results"][0]["status"], json!("deleted"));
    // Another process reaches the index through the second server now.
    let status = tokio::task::block_in_place(|| sandbox.json(&["status", "--json"]));
    assert_eq!(status["index"]["points"], json!(38));
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn mcp_beside_serve_leaves_webhooks_flowing() {
    let (odoo, sandbox) = rebuilt(OdooVersion::V17);
    let listener = Listener::start(
        &sandbox,
        &["--settle-delay", "200ms", "--reconcile-every", "0"],
    );
    let session = Session::start(&sandbox, &[]).await;
    let ids = session.search_ids(json!({"query": "chairs"})).await;
    assert_eq!(sorted(ids[..5].to_vec()), CHAIR_LEADS.to_vec());

    // A webhook during the assistant's session is processed at once, not when it ends.
    odoo.update_lead(6, json!({"name": "Wombat habitat furniture"}));
    tokio::task::block_in_place(|| {
        let answer = post_like_odoo(listener.addr, "/webhook/sync", &odoo_body(ODOO17_ACTION, 6))
            .expect("the webhook is answered");
        assert_eq!(answer.status, 202, "{}", answer.text);
        listener.wait_idle(None, Duration::from_secs(10));
    });
    let wombats = session.search_ids(json!({"query": "wombat"})).await;
    assert_eq!(wombats.first(), Some(&6));

    // The tools run in serve: a sync goes through its queue.
    let synced = session
        .ok(SYNC, json!({"mode": "sync_record", "record_id": 5}))
        .await;
    assert_eq!(synced["results"][0]["status"], json!("unchanged"));
    assert!(
        listener.stderr().contains("event unchanged lead=5"),
        "not through serve's queue:\n{}",
        listener.stderr()
    );
    let status = tokio::task::block_in_place(|| sandbox.json(&["status", "--json"]));
    assert_eq!(status["sync"]["queue"]["pending"], json!(0), "{status}");

    // serve receives the webhooks already, so a second listener is refused.
    let listen = format!("127.0.0.1:{}", free_port());
    let second = tokio::task::block_in_place(|| sandbox.run(&["mcp", "--listen", &listen]));
    assert_eq!(second.code, 1, "{}", second.all_output());
    assert!(second.stderr.contains("crm-vec"), "{}", second.stderr);
    assert!(second.stderr.contains("Drop --listen"), "{}", second.stderr);
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn listeners_refuse_an_index_mcp_owns() {
    let (_odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;

    let serve = tokio::task::block_in_place(|| sandbox.run(&["serve", "--port", "0"]));
    assert_eq!(serve.code, 1, "{}", serve.all_output());
    assert!(serve.stderr.contains("crm-vec mcp"), "{}", serve.stderr);
    assert!(serve.stderr.contains("--listen"), "{}", serve.stderr);

    let listen = format!("127.0.0.1:{}", free_port());
    let args = ["mcp", "--listen", listen.as_str()];
    let second = tokio::task::block_in_place(|| sandbox.run(&args));
    assert_eq!(second.code, 1, "{}", second.all_output());
    assert!(second.stderr.contains("crm-vec mcp"), "{}", second.stderr);
    session.stop().await;
}

/// A client that writes JSON-RPC lines by hand and keeps every line the server prints.
struct RawClient {
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    child: std::process::Child,
}

impl RawClient {
    fn start(sandbox: &Sandbox) -> RawClient {
        let mut child = sandbox
            .command(&["mcp"])
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn crm-vec mcp");
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        RawClient {
            stdin: child.stdin.take(),
            lines,
            seen: Vec::new(),
            child,
        }
    }

    fn send(&mut self, message: Value) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    }

    /// Sends a request and reads lines until its response arrives.
    fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no response to request {id} ({method})"));
            self.seen.push(line.clone());
            if let Ok(message) = serde_json::from_str::<Value>(&line) {
                if message["id"] == json!(id) && message.get("method").is_none() {
                    return message;
                }
            }
        }
    }

    fn call(&mut self, id: u64, tool: &str, arguments: Value, progress: Option<&str>) -> Value {
        let mut params = json!({"name": tool, "arguments": arguments});
        if let Some(token) = progress {
            params["_meta"] = json!({"progressToken": token});
        }
        let response = self.request(id, "tools/call", params);
        assert!(
            response.get("error").is_none(),
            "{tool} got a protocol error: {response}"
        );
        response["result"].clone()
    }

    /// Closes stdin, waits for the server to exit and returns everything it printed.
    fn finish(mut self) -> Vec<String> {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait for crm-vec mcp");
        assert!(status.success(), "crm-vec mcp exited with {status}");
        self.seen.extend(self.lines.try_iter());
        self.seen
    }
}

#[test]
fn stdout_carries_only_json_rpc() {
    let (odoo, sandbox) = rebuilt(OdooVersion::V17);
    let mut client = RawClient::start(&sandbox);

    let init = client.request(
        1,
        "initialize",
        json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "raw-test", "version": "0"},
        }),
    );
    assert_eq!(init["result"]["serverInfo"]["name"], json!("crm-vec"));
    client.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let tools = client.request(2, "tools/list", json!({}));
    assert_eq!(tools["result"]["tools"].as_array().map(Vec::len), Some(4));

    let search = client.call(3, SEARCH, json!({"query": "chairs"}), None);
    assert_eq!(search["isError"], json!(false));
    let invalid = client.call(4, SEARCH, json!({"query": "chairs", "limit": 51}), None);
    assert_eq!(invalid["isError"], json!(true));

    let rebuild = client.call(5, SYNC, json!({"mode": "full_rebuild"}), Some("rebuild-1"));
    assert_eq!(rebuild["isError"], json!(false), "{rebuild}");
    let record = client.call(
        6,
        SYNC,
        json!({"mode": "sync_record", "record_id": 4}),
        None,
    );
    assert_eq!(record["isError"], json!(false), "{record}");

    odoo.set_down(true);
    let down = client.call(7, SYNC, json!({"mode": "sync_new"}), Some("sync-2"));
    assert_eq!(down["isError"], json!(true), "{down}");
    let status = client.call(8, STATUS, json!({}), None);
    assert_eq!(
        status["structuredContent"]["odoo"]["reachable"],
        json!(false)
    );
    let search = client.call(9, SEARCH, json!({"query": "chairs"}), None);
    assert_eq!(search["isError"], json!(false));

    let lines = client.finish();
    let mut progress = 0;
    for line in &lines {
        let message: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("stdout line is not JSON ({err}): {line:?}"));
        assert_eq!(message["jsonrpc"], json!("2.0"), "{line}");
        let is_response = message.get("id").is_some()
            && (message.get("result").is_some() || message.get("error").is_some());
        let is_notification = message.get("method").is_some() && message.get("id").is_none();
        assert!(
            is_response || is_notification,
            "not a JSON-RPC response or notification: {line}"
        );
        if message["method"] == json!("notifications/progress") {
            let token = &message["params"]["progressToken"];
            assert!(token == "rebuild-1" || token == "sync-2", "{line}");
            progress += usize::from(token == "rebuild-1");
        }
    }
    assert!(progress > 0, "the rebuild sent no progress notifications");
}

/// Finds a port on 127.0.0.1 that nothing listens on right now.
fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    probe.local_addr().expect("a local address").port()
}

#[tokio::test(flavor = "multi_thread")]
async fn listen_webhook_updates_next_search() {
    let (odoo, sandbox) = rebuilt(OdooVersion::V17);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], free_port()));
    let listen = addr.to_string();
    let session = Session::start(
        &sandbox,
        &[
            "--listen",
            &listen,
            "--settle-delay",
            "200ms",
            "--reconcile-every",
            "0",
        ],
    )
    .await;
    let health = tokio::task::block_in_place(|| get(addr, "/health", None));
    assert_eq!(health.status, 200, "{}", health.text);

    // Odoo changes the lead; the index does not see it until the webhook arrives.
    odoo.update_lead(4, json!({"name": "Wombat habitat furniture"}));
    let before = session.search_ids(json!({"query": "wombat"})).await;
    assert!(!before.contains(&4), "{before:?}");

    let answer = tokio::task::block_in_place(|| {
        post_like_odoo(addr, "/webhook/sync", &odoo_body(ODOO17_ACTION, 4))
    })
    .expect("the webhook is answered");
    assert_eq!(answer.status, 202, "{}", answer.text);
    assert_eq!(answer.body["ids"], json!([4]));

    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let hits = loop {
        let found = session.ok(SEARCH, json!({"query": "wombat"})).await;
        if hit_ids(&found).first() == Some(&4) {
            break found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the webhook did not reach the index: {found}\n{}",
            session.stderr.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(hits["hits"][0]["name"], json!("Wombat habitat furniture"));
    let chairs = session.search_ids(json!({"query": "chairs"})).await;
    assert!(!chairs.contains(&4), "{chairs:?}");

    // sync-record in another process goes through this process's queue.
    odoo.update_lead(5, json!({"name": "Quotation for 50 Stools"}));
    let handed = tokio::task::block_in_place(|| sandbox.run(&["sync-record", "5"]));
    assert_eq!(handed.code, 0, "{}", handed.all_output());
    let stools = session.search_ids(json!({"query": "stools"})).await;
    assert_eq!(stools.first(), Some(&5));

    // A search in another process runs in this one, on the open index.
    let search = tokio::task::block_in_place(|| sandbox.run(&["search", "chairs", "--json"]));
    assert_eq!(search.code, 0, "{}", search.all_output());
    let searched: Value = serde_json::from_str(&search.stdout).expect("search prints JSON");
    assert!(hit_ids(&searched).contains(&38), "{searched}");

    // The other commands run in this process too, and status shows its queue.
    let status = tokio::task::block_in_place(|| sandbox.json(&["status", "--json"]));
    assert_eq!(status["index"]["points"], json!(39));
    assert_eq!(status["sync"]["queue"]["pending"], json!(0), "{status}");
    let writes = tokio::task::block_in_place(|| {
        let sync_new = sandbox.run(&["sync-new", "--json"]);
        let delete = sandbox.run(&["delete", "38", "--json"]);
        let rebuild = sandbox.run(&["full-rebuild", "--json"]);
        [sync_new, delete, rebuild]
    });
    for run in &writes {
        assert_eq!(run.code, 0, "{}", run.all_output());
    }
    assert_eq!(
        writes[1].json()["records"],
        json!([{"id": 38, "status": "deleted"}])
    );
    assert_eq!(writes[2].json()["upserted"], json!(39));

    // Closing stdin stops the listener too, cleanly.
    let stderr = Arc::clone(&session.stderr);
    session.stop().await;
    tokio::task::block_in_place(|| {
        eventually(Duration::from_secs(10), "the listener stopped", || {
            std::net::TcpStream::connect(addr).is_err()
        });
        eventually(Duration::from_secs(10), "the stop logged", || {
            stderr.lock().unwrap().contains("stopped")
        });
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn search_shows_matched_message() {
    let (_odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;

    let result = session
        .call(SEARCH, json!({"query": "weekly backups every Monday"}))
        .await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let structured = result.structured_content.clone().unwrap();
    let hit = &structured["hits"][0];
    assert_eq!(hit["name"], json!("Info about services"), "{structured}");
    // The customer's email on lead 15 lists "weekly backups, every Monday" on its third line.
    assert_eq!(
        hit["snippet"],
        json!("matched message: weekly backups, every Monday")
    );
    let text = text(&result);
    assert!(
        text.contains("   matched message: weekly backups, every Monday\n"),
        "{text}"
    );
    session.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stage_filter_ignores_letter_case() {
    let (_odoo, sandbox) = rebuilt(OdooVersion::V17);
    let session = Session::start(&sandbox, &[]).await;

    let won = session
        .ok(SEARCH, json!({"query": "contract", "stage": "won"}))
        .await;
    let hits = won["hits"].as_array().unwrap();
    assert!(
        hits.iter()
            .any(|hit| hit["name"] == json!("Distributor Contract")),
        "{won}"
    );
    for hit in hits {
        assert_eq!(hit["stage"], json!("Won"), "hit outside Won: {hit}");
    }

    let message = session
        .error(SEARCH, json!({"query": "contract", "stage": "Wonn"}))
        .await;
    assert!(
        message.contains(
            "no stage named 'Wonn' in the index; stages: New, Proposition, Qualified, Won"
        ),
        "{message}"
    );
    session.stop().await;
}
