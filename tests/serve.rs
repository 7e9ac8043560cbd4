//! `crm-vec serve` against the Odoo stand-in: the endpoints and their answers, the queue's
//! settle delay and retries, crashes and restarts, and commands handed to the listener.

mod support;

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use support::embed::{EmbedConfig, EmbedStandIn};
use support::harness::{hit_ids, Sandbox};
use support::odoo::{OdooStandIn, OdooVersion, StandInConfig};
use support::webhook::{
    eventually, get, odoo_body, post_like_odoo, recorded_bodies, request, Listener, ODOO17_ACTION,
};

const SECRET: &str = "webhook-secret-4f9a1c";
const FAST: [&str; 4] = ["--settle-delay", "200ms", "--reconcile-every", "0"];

fn odoo(version: OdooVersion) -> OdooStandIn {
    OdooStandIn::start(StandInConfig {
        version,
        ..StandInConfig::default()
    })
}

/// A sandbox on the stand-in with an index built and WEBHOOK_SECRET set.
fn indexed(odoo: &OdooStandIn) -> Sandbox {
    let mut sandbox = Sandbox::for_odoo(odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    sandbox.set("WEBHOOK_SECRET", SECRET);
    sandbox
}

fn sync_path() -> String {
    format!("/webhook/sync?token={SECRET}")
}

fn delete_path() -> String {
    format!("/webhook/delete?token={SECRET}")
}

/// Ids in the index, through `search` on the lead's own name.
fn indexed_ids(sandbox: &Sandbox, query: &str) -> Vec<u64> {
    hit_ids(&sandbox.json(&["search", query, "--limit", "100", "--json"]))
}

#[test]
fn health_needs_no_secret_and_status_does() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);

    let health = get(listener.addr, "/health", None);
    assert_eq!(health.body["status"], json!("ok"));
    assert_eq!(health.body["server"], json!("crm-vec"));
    assert_eq!(health.body["version"], json!(env!("CARGO_PKG_VERSION")));

    assert_eq!(get(listener.addr, "/webhook/status", None).status, 401);
    let status = listener.status(Some(SECRET));
    assert_eq!(status["auth_required"], json!(true));
    assert_eq!(status["queue"]["pending"], json!(0));
    assert_eq!(status["queue"]["failed"], json!(0));
    assert_eq!(status["failed_events"], json!([]));
    let endpoints = status["endpoints"].as_array().unwrap();
    assert!(endpoints.contains(&json!("POST /webhook/sync")));
    assert!(endpoints.contains(&json!("POST /webhook/delete")));
}

#[test]
fn bad_requests_get_their_status_and_no_secret_is_logged() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);
    let addr = listener.addr;
    let timeout = Duration::from_secs(5);
    let post = |target: &str, body: &str| {
        request(addr, "POST", target, &[], body.as_bytes(), timeout).unwrap()
    };

    let bad_bodies = [
        ("not json", "_id=3"),
        ("missing id", r#"{"_model": "crm.lead"}"#),
        ("zero", r#"{"_id": 0}"#),
        ("negative", r#"{"_id": -3}"#),
        ("fractional", r#"{"_id": 3.5}"#),
        ("boolean", r#"{"_id": true}"#),
        ("text", r#"{"_id": "three"}"#),
        ("empty ids", r#"{"ids": []}"#),
        ("wrong model", r#"{"_id": 3, "_model": "res.partner"}"#),
        ("array", "[3]"),
    ];
    for (case, body) in bad_bodies {
        let answer = post(&sync_path(), body);
        assert_eq!(answer.status, 400, "{case}: {}", answer.text);
        let error = answer.body["error"].as_str().unwrap_or_default();
        assert!(!error.is_empty(), "{case}: no message in {}", answer.text);
        assert!(
            answer.body.get("received").is_some(),
            "{case}: {}",
            answer.text
        );
    }
    // curl -d sends a form Content-Type; the body still counts as JSON.
    let form = request(
        addr,
        "POST",
        &sync_path(),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        br#"{"_id": 3}"#,
        timeout,
    )
    .unwrap();
    assert_eq!(form.status, 202, "{}", form.text);

    assert_eq!(post("/webhook/sync", r#"{"_id": 3}"#).status, 401);
    let wrong = post("/webhook/sync?token=not-the-secret", r#"{"_id": 3}"#);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, json!({"error": "Unauthorized"}));
    let header = request(
        addr,
        "POST",
        "/webhook/delete",
        &[("x-webhook-secret", SECRET)],
        br#"{"_id": 3}"#,
        timeout,
    )
    .unwrap();
    assert_eq!(header.status, 202, "{}", header.text);

    assert_eq!(post("/nowhere", "{}").status, 404);
    let unclear_wait = post(&format!("{}&wait=yes", sync_path()), r#"{"_id": 3}"#);
    assert_eq!(unclear_wait.status, 400, "{}", unclear_wait.text);
    // A token typed into the path by mistake reaches only the 404.
    let mistyped = format!("/webhook/sync&token={SECRET}");
    assert_eq!(post(&mistyped, "{}").status, 404);
    assert_eq!(post(&format!("/webhook/sync/{SECRET}"), "{}").status, 404);
    assert_eq!(get(addr, "/webhook/sync", Some(SECRET)).status, 405);
    assert_eq!(post("/health", "{}").status, 405);
    let big = format!(r#"{{"_id": 3, "pad": "{}"}}"#, "x".repeat(1024 * 1024));
    assert_eq!(post(&sync_path(), &big).status, 413);

    std::thread::sleep(Duration::from_millis(300));
    let log = listener.stderr();
    assert!(log.contains("event received"), "no event lines:\n{log}");
    assert!(!log.contains(SECRET), "the secret is in the log:\n{log}");
    assert!(
        !log.contains("not-the-secret"),
        "a token is in the log:\n{log}"
    );
    assert!(
        !log.contains("token="),
        "a query string is in the log:\n{log}"
    );
}

#[test]
fn wait_true_answers_match_earlier_servers() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);
    let wait = |path: &str, body: &str| {
        post_with_timeout(listener.addr, &format!("{path}&wait=true"), body)
    };

    odoo.update_lead(3, json!({"name": "Renamed through wait"}));
    let synced = wait(&sync_path(), r#"{"_id": 3}"#);
    assert_eq!(synced.status, 200, "{}", synced.text);
    assert_eq!(synced.body["status"], json!("ok"));
    assert_eq!(synced.body["synced"], json!(3));
    assert!(synced.body["durationMs"].is_u64(), "{}", synced.text);

    let several = wait(&sync_path(), r#"{"ids": [4, 5]}"#);
    assert_eq!(several.status, 200, "{}", several.text);
    assert_eq!(several.body["synced"], json!([4, 5]));

    let deleted = wait(&delete_path(), r#"{"_id": 3}"#);
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert_eq!(deleted.body["status"], json!("ok"));
    assert_eq!(deleted.body["deleted"], json!(3));

    let unknown = wait(&sync_path(), r#"{"_id": 9999}"#);
    assert_eq!(unknown.status, 500, "{}", unknown.text);
    assert_eq!(unknown.body["status"], json!("error"));
    assert_eq!(unknown.body["id"], json!(9999));
    assert_eq!(unknown.body["errors"], json!(["Lead ID 9999 not found"]));
    listener.wait_idle(Some(SECRET), Duration::from_secs(5));
}

fn post_with_timeout(
    addr: std::net::SocketAddr,
    target: &str,
    body: &str,
) -> support::webhook::Answer {
    request(
        addr,
        "POST",
        target,
        &[],
        body.as_bytes(),
        Duration::from_secs(15),
    )
    .unwrap_or_else(|err| panic!("POST {target}: {err}"))
}

#[test]
fn precommit_create_update_archive_and_delete_reach_the_index() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);

    // 17.0 posts inside the still-open transaction: the new lead is not readable yet.
    let id = odoo.create_lead(json!({"name": "Quokka habitat furniture"}));
    odoo.set_hidden(id, true);
    for body in recorded_bodies("odoo17").iter().take(22) {
        let body = body.replace("\"_id\": 45", &format!("\"_id\": {id}"));
        let answer = post_like_odoo(listener.addr, &sync_path(), &body).unwrap();
        assert_eq!(answer.status, 202, "{}", answer.text);
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!indexed_ids(&sandbox, "quokka").contains(&id));
    odoo.set_hidden(id, false);
    eventually(Duration::from_secs(10), "the new lead indexed", || {
        indexed_ids(&sandbox, "quokka").contains(&id)
    });

    odoo.update_lead(id, json!({"name": "Wombat habitat furniture"}));
    post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, id)).unwrap();
    eventually(Duration::from_secs(5), "the update indexed", || {
        indexed_ids(&sandbox, "wombat").contains(&id)
    });

    odoo.archive_lead(id);
    post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, id)).unwrap();
    eventually(Duration::from_secs(5), "the archived lead removed", || {
        !indexed_ids(&sandbox, "wombat").contains(&id)
    });

    // A delete the stand-in never performed (rolled back) keeps the lead.
    let kept = 4;
    post_like_odoo(
        listener.addr,
        &delete_path(),
        &odoo_body(ODOO17_ACTION, kept),
    )
    .unwrap();
    listener.wait_idle(Some(SECRET), Duration::from_secs(5));
    assert!(indexed_ids(&sandbox, "chair").contains(&kept));

    odoo.delete_lead(kept);
    post_like_odoo(
        listener.addr,
        &delete_path(),
        &odoo_body(ODOO17_ACTION, kept),
    )
    .unwrap();
    listener.wait_idle(Some(SECRET), Duration::from_secs(5));
    assert!(!indexed_ids(&sandbox, "chair").contains(&kept));
}

#[test]
fn archive_is_kept_hidden_under_keep() {
    let odoo = odoo(OdooVersion::V18);
    let mut sandbox = Sandbox::for_odoo(&odoo);
    sandbox.set("CRM_VEC_ARCHIVED", "keep");
    sandbox.json(&["full-rebuild", "--json"]);
    let listener = Listener::start(&sandbox, &FAST);

    odoo.archive_lead(4);
    post_like_odoo(listener.addr, "/webhook/sync", &odoo_body(ODOO17_ACTION, 4)).unwrap();
    listener.wait_idle(None, Duration::from_secs(5));
    assert!(!indexed_ids(&sandbox, "chair").contains(&4));
    let archived = hit_ids(&sandbox.json(&["search", "chair", "--include-archived", "--json"]));
    assert!(archived.contains(&4), "{archived:?}");
}

#[test]
fn a_burst_like_odoo_19_is_answered_fast_and_read_once() {
    let odoo = odoo(OdooVersion::V19);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(
        &sandbox,
        &["--settle-delay", "500ms", "--reconcile-every", "0"],
    );
    odoo.clear_requests();

    let action = "On create and edit(#12)";
    let started = Instant::now();
    for _ in 0..15 {
        let answer = post_like_odoo(listener.addr, &sync_path(), &odoo_body(action, 6)).unwrap();
        assert_eq!(answer.status, 202);
        assert!(
            answer.elapsed < Duration::from_millis(200),
            "{:?}",
            answer.elapsed
        );
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    listener.wait_idle(Some(SECRET), Duration::from_secs(5));
    assert_eq!(odoo.count_calls("crm.lead", "read"), 1);
    assert!(
        listener.stderr().contains(action),
        "the action name is not logged"
    );
}

#[test]
fn two_hundred_concurrent_senders_all_get_answers_within_a_second() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);
    let addr = listener.addr;

    let senders: Vec<_> = (0..200u64)
        .map(|n| {
            std::thread::spawn(move || {
                post_like_odoo(addr, &sync_path(), &odoo_body(ODOO17_ACTION, 1 + n % 44))
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    for sender in senders {
        let answer = sender.join().unwrap().expect("an answer within 1 s");
        assert_eq!(answer.status, 202, "{}", answer.text);
        latencies.push(answer.elapsed);
    }
    latencies.sort();
    let p50 = latencies[latencies.len() / 2];
    let p99 = latencies[latencies.len() * 99 / 100];
    let max = latencies[latencies.len() - 1];
    eprintln!("200 concurrent webhooks: p50 {p50:?}, p99 {p99:?}, max {max:?}");
    assert!(max < Duration::from_secs(1));
    listener.wait_idle(Some(SECRET), Duration::from_secs(10));
}

#[test]
fn idle_connections_do_not_stop_webhooks() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);

    let idle: Vec<std::net::TcpStream> = (0..500)
        .map(|_| std::net::TcpStream::connect(listener.addr).expect("connect"))
        .collect();
    // Half of them start a request and never finish it.
    for stream in idle.iter().step_by(2) {
        use std::io::Write;
        let mut stream = stream;
        let _ = stream.write_all(b"POST /webhook/sync HTTP/1.1\r\nContent-Length: 100\r\n\r\n{");
    }
    for n in 0..20 {
        let answer = post_like_odoo(
            listener.addr,
            &sync_path(),
            &odoo_body(ODOO17_ACTION, 1 + n),
        )
        .expect("an answer within 1 s");
        assert_eq!(answer.status, 202);
    }
    drop(idle);
}

#[test]
fn a_thousand_webhooks_for_a_hundred_leads_read_and_embed_each_once() {
    let odoo = odoo(OdooVersion::V17);
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = Sandbox::for_odoo(&odoo);
    sandbox.use_voyage(&embed, &EmbedConfig::default().api_key);
    sandbox.set("WEBHOOK_SECRET", SECRET);
    let mut ids: Vec<u64> = odoo.lead_ids();
    while ids.len() < 100 {
        ids.push(odoo.create_lead(json!({"name": format!("Burst lead {}", ids.len())})));
    }
    let ids: Vec<u64> = ids.into_iter().take(100).collect();
    sandbox.json(&["full-rebuild", "--json"]);
    for id in &ids {
        odoo.update_lead(*id, json!({"description": format!("<p>changed {id}</p>")}));
    }
    // The whole burst must land inside one settle window for "each lead read once" to hold.
    // The window is wide so that a loaded machine sending slowly does not break that.
    let settle = Duration::from_secs(4);
    let listener = Listener::start(
        &sandbox,
        &["--settle-delay", "4s", "--reconcile-every", "0"],
    );
    odoo.clear_requests();
    embed.reset_counters();

    let addr = listener.addr;
    let started = Instant::now();
    let senders: Vec<_> = (0..10)
        .map(|thread| {
            let ids = ids.clone();
            std::thread::spawn(move || {
                for n in 0..100 {
                    let id = ids[(thread * 100 + n) % 100];
                    let answer = post_like_odoo(addr, &sync_path(), &odoo_body(ODOO17_ACTION, id))
                        .expect("an answer within 1 s");
                    assert_eq!(answer.status, 202);
                }
            })
        })
        .collect();
    for sender in senders {
        sender.join().unwrap();
    }
    assert!(
        started.elapsed() < settle,
        "the burst took {:?}, longer than the settle window",
        started.elapsed()
    );
    listener.wait_idle(Some(SECRET), Duration::from_secs(20));

    let mut read = lead_reads(&odoo);
    read.sort_unstable();
    let mut distinct = read.clone();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        read.len(),
        "a lead was read twice: {read:?}"
    );
    let mut expected = ids.clone();
    expected.sort_unstable();
    assert_eq!(read, expected);
    // Archived (lost) leads leave the index under the default policy and embed nothing.
    let active = ids
        .iter()
        .filter(|id| {
            odoo.lead(**id)
                .is_some_and(|lead| lead["active"] == json!(true))
        })
        .count();
    assert_eq!(embed.texts_embedded(), active);
    let changed = hit_ids(&sandbox.json(&["search", "changed", "--limit", "100", "--json"]));
    assert_eq!(changed.len(), active, "{changed:?}");
}

#[test]
fn kill_9_with_queued_events_then_restart_processes_each_once() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let mut listener = Listener::start(
        &sandbox,
        &["--settle-delay", "60s", "--reconcile-every", "0"],
    );
    let leads = [3u64, 4, 5, 6, 8];
    for id in leads {
        odoo.update_lead(id, json!({"name": format!("Crash survivor {id}")}));
        for _ in 0..3 {
            post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, id)).unwrap();
        }
    }
    assert_eq!(listener.status(Some(SECRET))["queue"]["pending"], json!(5));
    listener.kill_9();
    odoo.clear_requests();

    let listener = Listener::start(&sandbox, &FAST);
    listener.wait_idle(Some(SECRET), Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));
    let mut sorted = lead_reads(&odoo);
    sorted.sort_unstable();
    assert_eq!(sorted, leads.to_vec(), "each lead read exactly once");
    let found = indexed_ids(&sandbox, "crash survivor");
    for id in leads {
        assert!(found.contains(&id), "lead {id} not current: {found:?}");
    }
}

/// Collects the ids of every `crm.lead` `read` call the stand-in received, in order.
fn lead_reads(odoo: &OdooStandIn) -> Vec<u64> {
    odoo.requests()
        .iter()
        .filter(|r| {
            r.model.as_deref() == Some("crm.lead") && r.rpc_method.as_deref() == Some("read")
        })
        .flat_map(|r| read_ids_of(r.json()))
        .collect()
}

/// The ids a JSON-RPC `read` call asked for.
fn read_ids_of(body: Option<Value>) -> Vec<u64> {
    let Some(body) = body else { return Vec::new() };
    let args = &body["params"]["args"];
    // execute_kw(db, uid, password, model, method, [ids, fields], kwargs)
    args[5][0]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}

#[test]
fn odoo_outage_is_retried_reported_and_recovered() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(
        &sandbox,
        &[
            "--settle-delay",
            "100ms",
            "--reconcile-every",
            "0",
            "--retry-base",
            "300ms",
        ],
    );
    odoo.set_down(true);
    odoo.update_lead(5, json!({"name": "Back after the outage"}));
    post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, 5)).unwrap();

    eventually(Duration::from_secs(15), "the failure reported", || {
        let status = listener.status(Some(SECRET));
        status["failed_events"].as_array().is_some_and(|events| {
            events
                .iter()
                .any(|e| e["id"] == json!(5) && e["attempts"].as_u64() >= Some(1))
        })
    });
    let status = listener.status(Some(SECRET));
    let event = &status["failed_events"][0];
    assert_eq!(event["kind"], json!("sync"));
    assert!(
        event["last_error"].as_str().is_some_and(|e| !e.is_empty()),
        "{status}"
    );

    odoo.clear_faults();
    listener.wait_idle(Some(SECRET), Duration::from_secs(20));
    assert!(indexed_ids(&sandbox, "outage").contains(&5));
    assert_eq!(listener.status(Some(SECRET))["failed_events"], json!([]));
}

#[test]
fn events_out_of_attempts_are_marked_failed() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(
        &sandbox,
        &[
            "--settle-delay",
            "50ms",
            "--reconcile-every",
            "0",
            "--retry-base",
            "50ms",
            "--max-attempts",
            "2",
        ],
    );
    odoo.set_down(true);
    post_like_odoo(listener.addr, &delete_path(), &odoo_body(ODOO17_ACTION, 7)).unwrap();
    eventually(Duration::from_secs(20), "the event marked failed", || {
        listener.status(Some(SECRET))["queue"]["failed"] == json!(1)
    });
    let status = listener.status(Some(SECRET));
    assert_eq!(status["failed_events"][0]["id"], json!(7));
    assert_eq!(status["failed_events"][0]["kind"], json!("delete"));
    assert_eq!(status["failed_events"][0]["attempts"], json!(2));
    assert_eq!(status["queue"]["pending"], json!(0));
}

#[test]
fn odoo_down_at_start_still_listens_and_catches_up() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    odoo.set_down(true);
    let listener = Listener::start(
        &sandbox,
        &[
            "--settle-delay",
            "100ms",
            "--reconcile-every",
            "0",
            "--retry-base",
            "200ms",
        ],
    );
    odoo.update_lead(6, json!({"name": "Started while Odoo slept"}));
    let answer = post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, 6)).unwrap();
    assert_eq!(answer.status, 202);
    std::thread::sleep(Duration::from_millis(800));
    odoo.clear_faults();
    listener.wait_idle(Some(SECRET), Duration::from_secs(20));
    assert!(indexed_ids(&sandbox, "slept").contains(&6));
}

#[test]
fn sigterm_exits_zero_and_keeps_the_queue() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let mut listener = Listener::start(
        &sandbox,
        &["--settle-delay", "60s", "--reconcile-every", "0"],
    );
    odoo.update_lead(8, json!({"name": "Survives a polite stop"}));
    post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, 8)).unwrap();
    assert_eq!(listener.terminate(), Some(0), "{}", listener.stderr());

    let listener = Listener::start(&sandbox, &FAST);
    listener.wait_idle(Some(SECRET), Duration::from_secs(10));
    assert!(indexed_ids(&sandbox, "polite").contains(&8));
}

#[test]
fn non_loopback_needs_a_secret_or_an_explicit_flag() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo(&odoo);
    let refused = sandbox.run(&["serve", "--host", "0.0.0.0", "--port", "0"]);
    assert_eq!(refused.code, 2, "{}", refused.all_output());
    assert!(
        refused.stderr.contains("WEBHOOK_SECRET"),
        "{}",
        refused.stderr
    );

    let listener = Listener::start(&sandbox, &["--host", "0.0.0.0", "--allow-unauthenticated"]);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        listener.stderr().contains("without WEBHOOK_SECRET"),
        "{}",
        listener.stderr()
    );
}

#[test]
fn unusable_host_or_secret_exits_two() {
    let odoo = odoo(OdooVersion::V17);
    let mut sandbox = Sandbox::for_odoo(&odoo);
    let bad_host = sandbox.run(&["serve", "--host", "999.1.1.1", "--port", "0"]);
    assert_eq!(bad_host.code, 2, "{}", bad_host.all_output());
    assert!(
        bad_host
            .stderr
            .contains("'999.1.1.1' is not an address to listen on"),
        "{}",
        bad_host.stderr
    );

    sandbox.set("WEBHOOK_SECRET", " , ,");
    let blank_secret = sandbox.run(&["serve", "--port", "0"]);
    assert_eq!(blank_secret.code, 2, "{}", blank_secret.all_output());
    assert!(
        blank_secret
            .stderr
            .contains("invalid value for WEBHOOK_SECRET: it contains only commas or spaces"),
        "{}",
        blank_secret.stderr
    );
}

#[test]
fn other_commands_go_through_the_running_listener() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);

    let search = sandbox.json(&["search", "chairs", "--json"]);
    assert!(hit_ids(&search).contains(&4), "{search}");
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(39));
    assert_eq!(status["sync"]["queue"]["pending"], json!(0), "{status}");
    assert_eq!(
        status["sync"]["queue"]["failed_events"],
        json!([]),
        "{status}"
    );
    let table = sandbox.run(&["status"]);
    assert!(
        table.stdout.contains("Webhooks pending"),
        "{}",
        table.stdout
    );

    odoo.update_lead(5, json!({"name": "Synced through the listener"}));
    let synced = sandbox.json(&["sync-record", "5", "--json"]);
    assert_eq!(synced["records"], json!([{"id": 5, "status": "synced"}]));
    assert_eq!(synced["upserted"], json!(1));
    assert!(synced["duration_ms"].as_u64() > Some(0), "{synced}");
    let log = listener.stderr();
    assert!(
        log.contains("sync-record request"),
        "not through the queue:\n{log}"
    );
    assert!(indexed_ids(&sandbox, "listener").contains(&5));

    odoo.update_lead(
        3,
        json!({"name": "Caught by sync-new through the listener"}),
    );
    let sync_new = sandbox.json(&["sync-new", "--json"]);
    assert!(sync_new["upserted"].as_u64() >= Some(1), "{sync_new}");
    assert!(sync_new["checkpoint"]["id"].is_u64(), "{sync_new}");
    let deleted = sandbox.json(&["delete", "4", "--json"]);
    assert_eq!(deleted["records"], json!([{"id": 4, "status": "deleted"}]));
    assert!(!indexed_ids(&sandbox, "chair").contains(&4));
    let rebuilt = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(rebuilt["upserted"], json!(39));
    assert!(indexed_ids(&sandbox, "chair").contains(&4));

    // Webhooks keep flowing after the other commands.
    odoo.update_lead(6, json!({"name": "Webhook after the commands"}));
    post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, 6)).unwrap();
    listener.wait_idle(Some(SECRET), Duration::from_secs(10));
    assert!(indexed_ids(&sandbox, "commands").contains(&6));
}

#[test]
fn search_runs_in_the_listener() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let plain = sandbox.json(&["search", "chairs", "--json"]);
    let filtered_args = [
        "search",
        "desk",
        "--min-revenue",
        "20000",
        "--limit",
        "3",
        "--json",
    ];
    let filtered = sandbox.json(&filtered_args);
    assert!(hit_ids(&plain).contains(&4), "{plain}");
    assert!(!hit_ids(&filtered).is_empty(), "{filtered}");
    let listener = Listener::start(&sandbox, &FAST);

    assert_eq!(sandbox.json(&["search", "chairs", "--json"]), plain);
    assert_eq!(sandbox.json(&filtered_args), filtered);
    let log = listener.stderr();
    let searches = log
        .lines()
        .filter(|line| line.contains("ran a request of another crm-vec process"))
        .filter(|line| line.contains("op=\"search\""))
        .count();
    assert_eq!(
        searches, 2,
        "the listener did not run both searches:\n{log}"
    );

    // A filter that names no stage is a usage error in the listener as it is here.
    let unknown = sandbox.run(&["search", "contract", "--stage", "Wonn"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown
            .stderr
            .contains("no stage named 'Wonn' in the index"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn periodic_sync_new_catches_missed_changes() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(
        &sandbox,
        &["--settle-delay", "200ms", "--reconcile-every", "1s"],
    );

    // No webhook is sent for this change.
    odoo.advance_clock(Duration::from_secs(60));
    odoo.update_lead(
        9,
        json!({"name": "Platypus caught by the reconcile", "active": true}),
    );
    eventually(Duration::from_secs(15), "the missed change indexed", || {
        indexed_ids(&sandbox, "platypus").contains(&9)
    });
    // The search runs in the listener, so it can see the lead before the run logs its end.
    eventually(Duration::from_secs(5), "the periodic run logged", || {
        listener.stderr().contains("periodic sync-new done")
    });
}

#[test]
fn start_catches_changes_made_while_stopped() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    // The listener is not running when this change is made, so no webhook reaches it.
    odoo.advance_clock(Duration::from_secs(60));
    odoo.update_lead(9, json!({"name": "Quokka renamed offline", "active": true}));

    let listener = Listener::start(
        &sandbox,
        &["--settle-delay", "200ms", "--reconcile-every", "1h"],
    );
    eventually(
        Duration::from_secs(15),
        "the offline change indexed",
        || indexed_ids(&sandbox, "quokka").contains(&9),
    );
    eventually(Duration::from_secs(5), "the first run logged", || {
        listener.stderr().contains("periodic sync-new done")
    });
}

/// Returns a webhook POST as raw bytes, framed by Content-Length, for a connection that stays
/// open.
fn raw_post(id: u64) -> String {
    let body = odoo_body(ODOO17_ACTION, id);
    format!(
        "POST {} HTTP/1.1\r\nHost: crm-vec\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        sync_path(),
        body.len()
    )
}

/// Opens a connection, with a reader for its responses and a 5 s read timeout.
fn open_raw(
    addr: std::net::SocketAddr,
) -> (std::net::TcpStream, std::io::BufReader<std::net::TcpStream>) {
    let stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let reader = std::io::BufReader::new(stream.try_clone().unwrap());
    (stream, reader)
}

#[test]
fn keep_alive_and_pipelining_work() {
    use std::io::{Read, Write};
    use support::webhook::read_answer;
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);
    let (mut stream, mut reader) = open_raw(listener.addr);

    // Keep-alive: a second request on the connection after the first response.
    stream.write_all(raw_post(3).as_bytes()).unwrap();
    let first = read_answer(&mut reader, false).unwrap();
    assert_eq!(first.body["ids"], json!([3]), "{}", first.text);
    stream.write_all(raw_post(4).as_bytes()).unwrap();
    let second = read_answer(&mut reader, false).unwrap();
    assert_eq!(second.body["ids"], json!([4]), "{}", second.text);

    // Pipelining: three requests in one write, with responses in the order sent.
    let pipelined = format!(
        "{}{}HEAD /health HTTP/1.1\r\nHost: crm-vec\r\nConnection: close\r\n\r\n",
        raw_post(5),
        raw_post(6)
    );
    stream.write_all(pipelined.as_bytes()).unwrap();
    let third = read_answer(&mut reader, false).unwrap();
    assert_eq!(third.body["ids"], json!([5]), "{}", third.text);
    let fourth = read_answer(&mut reader, false).unwrap();
    assert_eq!(fourth.body["ids"], json!([6]), "{}", fourth.text);
    let health = read_answer(&mut reader, true).unwrap();
    assert_eq!(health.status, 200);
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&rest),
        "",
        "bytes after the response to HEAD"
    );
}

#[test]
fn expect_continue_and_chunked_bodies_work() {
    use std::io::Write;
    use support::webhook::read_answer;
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);

    let body = r#"{"_id": 7}"#;
    let (mut stream, mut reader) = open_raw(listener.addr);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: crm-vec\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        sync_path(),
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let interim = read_answer(&mut reader, true).unwrap();
    assert_eq!(interim.status, 100);
    stream.write_all(body.as_bytes()).unwrap();
    let expected = read_answer(&mut reader, false).unwrap();
    assert_eq!(expected.status, 202, "{}", expected.text);
    assert_eq!(expected.body["ids"], json!([7]), "{}", expected.text);

    // `{"_id": 8}` in two chunks, then the last chunk and no trailers.
    let (mut stream, mut reader) = open_raw(listener.addr);
    let chunked = format!(
        "POST {} HTTP/1.1\r\nHost: crm-vec\r\nTransfer-Encoding: chunked\r\n\r\n\
         6\r\n{{\"_id\"\r\n4\r\n: 8}}\r\n0\r\n\r\n",
        sync_path()
    );
    stream.write_all(chunked.as_bytes()).unwrap();
    let decoded = read_answer(&mut reader, false).unwrap();
    assert_eq!(decoded.status, 202, "{}", decoded.text);
    assert_eq!(decoded.body["ids"], json!([8]), "{}", decoded.text);
}

/// More connections than the listener relays at once send a request head a line at a time, or
/// a body a byte at a time, every second. A slowloris client does this to outlast timeouts that
/// restart with each byte. Every webhook Odoo sends meanwhile must get a response within 1 s.
#[test]
fn slow_clients_do_not_stop_webhooks() {
    use std::io::Write;
    use std::sync::atomic::{AtomicBool, Ordering};
    const SLOW_HEADS: usize = 600;
    const SLOW_BODIES: usize = 60;
    const WEBHOOKS: u64 = 20;
    let needed = (SLOW_HEADS + SLOW_BODIES + 512) as u64;
    if let Err(reason) = support::webhook::allow_open_files(needed) {
        support::skip::notice_once(&format!(
            "skipped slow_clients_do_not_stop_webhooks in tests/serve.rs: {reason}"
        ));
        return;
    }
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);
    let addr = listener.addr;

    let connect = |start: &str| {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.write_all(start.as_bytes()).expect("write");
        stream
    };
    let head_start = format!(
        "POST {} HTTP/1.1\r\nHost: crm-vec\r\nContent-Type: application/json\r\n",
        sync_path()
    );
    let body_start = format!(
        "POST {} HTTP/1.1\r\nHost: crm-vec\r\nContent-Length: 100\r\n\r\n{{",
        sync_path()
    );
    let mut heads: Vec<_> = (0..SLOW_HEADS).map(|_| connect(&head_start)).collect();
    let mut bodies: Vec<_> = (0..SLOW_BODIES).map(|_| connect(&body_start)).collect();
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let trickle = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_secs(1));
                for stream in &mut heads {
                    let _ = stream.write_all(b"X-Pad: 1\r\n");
                }
                for stream in &mut bodies {
                    let _ = stream.write_all(b" ");
                }
            }
        })
    };

    let mut answers = Vec::new();
    for n in 0..WEBHOOKS {
        let body = odoo_body("Send Webhook Notification(#12)", 1 + n);
        answers.push(post_like_odoo(addr, &sync_path(), &body));
        std::thread::sleep(Duration::from_millis(200));
    }
    stop.store(true, Ordering::SeqCst);
    trickle.join().unwrap();

    let unanswered: Vec<String> = answers
        .iter()
        .filter_map(|answer| answer.as_ref().err().cloned())
        .collect();
    assert_eq!(
        unanswered,
        Vec::<String>::new(),
        "webhooks without an answer"
    );
    let statuses: Vec<u16> = answers.iter().flatten().map(|a| a.status).collect();
    assert_eq!(statuses, vec![202; WEBHOOKS as usize]);
    let slowest = answers.iter().flatten().map(|a| a.elapsed).max().unwrap();
    assert!(
        slowest < Duration::from_secs(1),
        "slowest answer {slowest:?}"
    );

    eventually(
        Duration::from_secs(15),
        "a warning about slow clients",
        || {
            listener
                .stderr()
                .contains("closed connections that were too slow")
        },
    );
    let log = listener.stderr();
    assert!(
        !log.contains("token="),
        "a query string is in the log:\n{log}"
    );
}

#[test]
fn retry_after_a_failed_wait_follows_the_backoff() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(
        &sandbox,
        &[
            "--settle-delay",
            "100ms",
            "--reconcile-every",
            "0",
            "--retry-base",
            "300ms",
            "--wait-timeout",
            "30s",
        ],
    );
    odoo.set_down(true);
    odoo.update_lead(5, json!({"name": "Retried after the backoff"}));
    let target = format!("{}&wait=true", sync_path());
    let failed = post_with_timeout(listener.addr, &target, r#"{"_id": 5}"#);
    assert_eq!(failed.status, 500, "{}", failed.text);

    // The first retry is due after about 300 ms; the 30 s wait timeout must not delay it.
    odoo.clear_faults();
    listener.wait_idle(Some(SECRET), Duration::from_secs(8));
    assert!(indexed_ids(&sandbox, "backoff").contains(&5));
}

#[test]
fn wait_true_removes_a_vanished_lead() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(&sandbox, &FAST);
    assert!(indexed_ids(&sandbox, "chair").contains(&4));

    // Deleted in Odoo without a delete webhook: only the sync below learns of it.
    odoo.delete_lead(4);
    let target = format!("{}&wait=true", sync_path());
    let answer = post_with_timeout(listener.addr, &target, r#"{"_id": 4}"#);
    assert_eq!(answer.status, 500, "{}", answer.text);
    assert_eq!(answer.body["errors"], json!(["Lead ID 4 not found"]));
    assert!(!indexed_ids(&sandbox, "chair").contains(&4));
}

#[test]
fn handed_over_sync_record_prints_the_odoo_error() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    odoo.set_down(true);
    let alone = sandbox.run(&["sync-record", "5"]);
    assert_eq!(alone.code, 1, "{}", alone.all_output());

    let listener = Listener::start(
        &sandbox,
        &["--settle-delay", "100ms", "--reconcile-every", "0"],
    );
    let handed = sandbox.run(&["sync-record", "5"]);
    assert_eq!(handed.code, 1, "{}", handed.all_output());
    assert!(handed.stderr.contains("hint: "), "{}", handed.stderr);
    // The retries are logged where they happen: here, or in the listener's log.
    assert_eq!(error_lines(&handed.stderr), error_lines(&alone.stderr));
    assert_eq!(handed.stdout, alone.stdout);
    assert!(
        listener.stderr().contains("sync-record"),
        "not through the queue:\n{}",
        listener.stderr()
    );
}

/// Keeps the lines of an error as `main` renders it, without the log lines before it.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|line| {
            line.starts_with("error: ")
                || line.starts_with("caused by: ")
                || line.starts_with("hint: ")
        })
        .collect()
}

#[test]
fn failed_events_count_as_problems_until_requeued() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(
        &sandbox,
        &[
            "--settle-delay",
            "50ms",
            "--reconcile-every",
            "2s",
            "--retry-base",
            "50ms",
            "--max-attempts",
            "1",
        ],
    );
    odoo.set_down(true);
    odoo.update_lead(5, json!({"name": "Requeued after the outage"}));
    post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, 5)).unwrap();
    eventually(Duration::from_secs(10), "the event marked failed", || {
        listener.status(Some(SECRET))["queue"]["failed"] == json!(1)
    });

    let check = sandbox.run(&["status", "--check", "--json"]);
    assert_eq!(check.code, 1, "{}", check.all_output());
    let report = check.json();
    assert_eq!(report["sync"]["queue"]["failed"], json!(1), "{report}");
    assert_eq!(report["sync"]["queue"]["failed_events"][0]["id"], json!(5));
    let problems = report["problems"].to_string();
    assert!(problems.contains("1 webhook event failed"), "{problems}");
    let table = sandbox.run(&["status"]);
    assert!(table.stdout.contains("Failed event"), "{}", table.stdout);

    // Once Odoo is back, the next periodic sync-new succeeds and queues the event again.
    odoo.clear_faults();
    eventually(Duration::from_secs(15), "the failed event retried", || {
        listener.status(Some(SECRET))["queue"]["failed"] == json!(0)
    });
    listener.wait_idle(Some(SECRET), Duration::from_secs(10));
    assert!(indexed_ids(&sandbox, "outage").contains(&5));
}

#[test]
fn delete_through_the_listener_clears_a_failed_event() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = indexed(&odoo);
    let listener = Listener::start(
        &sandbox,
        &[
            "--settle-delay",
            "50ms",
            "--reconcile-every",
            "0",
            "--max-attempts",
            "1",
        ],
    );
    odoo.set_down(true);
    post_like_odoo(listener.addr, &sync_path(), &odoo_body(ODOO17_ACTION, 5)).unwrap();
    eventually(Duration::from_secs(10), "the event marked failed", || {
        listener.status(Some(SECRET))["queue"]["failed"] == json!(1)
    });

    let deleted = sandbox.json(&["delete", "5", "--json"]);
    assert_eq!(deleted["records"], json!([{"id": 5, "status": "deleted"}]));
    assert_eq!(listener.status(Some(SECRET))["queue"]["failed"], json!(0));
}
