//! The endpoints: routing, authentication, body checks and responses.
//!
//! Requests come from tiny_http on dispatcher threads; each request is answered on a thread of
//! its own (up to [`MAX_REQUESTS`] at once), so a slow body or a `?wait=true` never holds up
//! the webhooks behind it.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tiny_http::{Header, Method, Request, Response};

use super::auth::{query_param, Auth};
use super::queue::{Incoming, Kind};
use super::worker::{LeadResult, Processor};

/// Largest accepted body.
pub const MAX_BODY: usize = 1024 * 1024;
/// Maximum requests in progress; more get 503 at once.
const MAX_REQUESTS: usize = 256;
/// Maximum leads in one event (`ids`).
const MAX_IDS: usize = 1000;

/// The endpoints, as `/webhook/status` and a 404 list them.
pub const ENDPOINTS: [&str; 4] = [
    "GET /health",
    "POST /webhook/sync",
    "POST /webhook/delete",
    "GET /webhook/status",
];

/// What the request handlers share.
pub struct App {
    pub processor: Arc<Processor>,
    pub auth: Auth,
    pub wait_timeout: Duration,
    pub runtime: tokio::runtime::Handle,
    pub in_progress: AtomicUsize,
}

/// An answer: status code and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub allow: Option<&'static str>,
}

impl Answer {
    fn new(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body,
            allow: None,
        }
    }
}

/// Takes requests from tiny_http and answers each on its own thread.
pub fn dispatch(server: Arc<tiny_http::Server>, app: Arc<App>) {
    for request in server.incoming_requests() {
        if app.in_progress.fetch_add(1, Ordering::SeqCst) >= MAX_REQUESTS {
            app.in_progress.fetch_sub(1, Ordering::SeqCst);
            respond(
                request,
                Answer::new(
                    503,
                    json!({"error": "too many requests in progress; retry"}),
                ),
            );
            continue;
        }
        let app = Arc::clone(&app);
        let spawned = std::thread::Builder::new()
            .name("webhook".to_string())
            .spawn(move || {
                handle(&app, request);
                app.in_progress.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "could not start a thread for a request");
        }
    }
}

fn handle(app: &App, mut request: Request) {
    let started = Instant::now();
    let url = request.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let path = path.to_string();
    let answer = route(app, &mut request, &path, query);
    // Only a known path: the query may hold the token, and so may a mistyped path such as
    // "/webhook/sync&token=…".
    let logged_path = match path.as_str() {
        "/health" | "/webhook/status" | "/webhook/sync" | "/webhook/delete" => path.as_str(),
        _ => "(unknown)",
    };
    tracing::debug!(
        method = %request.method(),
        path = logged_path,
        status = answer.status,
        duration_ms = started.elapsed().as_millis() as u64,
        "answered"
    );
    respond(request, answer);
}

fn respond(request: Request, answer: Answer) {
    let text = serde_json::to_string(&answer.body).unwrap_or_else(|_| "{}".to_string());
    let mut response = Response::from_string(text).with_status_code(answer.status);
    if let Ok(header) = Header::from_bytes("Content-Type", "application/json") {
        response.add_header(header);
    }
    if let Some(allow) = answer.allow {
        if let Ok(header) = Header::from_bytes("Allow", allow) {
            response.add_header(header);
        }
    }
    let _ = request.respond(response);
}

fn route(app: &App, request: &mut Request, path: &str, query: &str) -> Answer {
    let method = request.method().clone();
    let (allowed, allow) = match path {
        "/health" => (method == Method::Get || method == Method::Head, "GET"),
        "/webhook/status" => (method == Method::Get, "GET"),
        "/webhook/sync" | "/webhook/delete" => (method == Method::Post, "POST"),
        _ => {
            return Answer::new(
                404,
                json!({"error": format!("no endpoint at {path}"), "endpoints": ENDPOINTS}),
            )
        }
    };
    if !allowed {
        return Answer {
            allow: Some(allow),
            ..Answer::new(
                405,
                json!({"error": format!("{method} is not allowed on {path}; use {allow}")}),
            )
        };
    }
    if path == "/health" {
        return Answer::new(
            200,
            json!({"status": "ok", "server": "crm-vec", "version": env!("CARGO_PKG_VERSION")}),
        );
    }

    let header = request
        .headers()
        .iter()
        .find(|h| h.field.equiv("x-webhook-secret"))
        .map(|h| h.value.as_str().to_string());
    let token = query_param(query, "token");
    if !app.auth.allows(header.as_deref(), token.as_deref()) {
        return Answer::new(401, json!({"error": "Unauthorized"}));
    }

    if path == "/webhook/status" {
        return status(app);
    }
    let kind = if path == "/webhook/sync" {
        Kind::Sync
    } else {
        Kind::Delete
    };
    let body = match read_body(request) {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let wait = match query_param(query, "wait").as_deref() {
        None | Some("false" | "0") => false,
        Some("true" | "1" | "") => true,
        Some(other) => {
            return Answer::new(
                400,
                json!({"error": format!("wait must be true or false, not '{}'", preview(other.as_bytes()))}),
            )
        }
    };
    webhook(app, kind, &body, wait)
}

fn read_body(request: &mut Request) -> Result<Vec<u8>, Answer> {
    let too_large = || {
        Answer::new(
            413,
            json!({"error": format!("the body is larger than {} bytes", MAX_BODY)}),
        )
    };
    if request
        .body_length()
        .is_some_and(|length| length > MAX_BODY)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY as u64 + 1)
        .read_to_end(&mut body);
    if let Err(err) = read {
        return Err(Answer::new(
            400,
            json!({"error": format!("could not read the body: {err}"), "received": null}),
        ));
    }
    if body.len() > MAX_BODY {
        return Err(too_large());
    }
    Ok(body)
}

/// A body that cannot be used: the reason and what was received.
#[derive(Debug, PartialEq)]
pub struct Rejection {
    pub error: String,
    pub received: Value,
}

/// The parts of a webhook body crm-vec uses.
#[derive(Debug, PartialEq)]
pub struct Event {
    pub ids: Vec<u64>,
    pub action: Option<String>,
    /// Whether the lead came as `ids` (several), which makes `?wait=true` answer with lists.
    pub listed: bool,
}

/// Parses a webhook body, whatever its Content-Type: `_id`, else `id`, else `ids`; `_model`,
/// when present, must be `crm.lead`.
pub fn parse_event(body: &[u8]) -> Result<Event, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|err| Rejection {
        error: format!("the body is not JSON ({err}); send a JSON object such as {{\"_id\": 42}}"),
        received: Value::String(preview(body)),
    })?;
    let reject = |error: String| Rejection {
        error,
        received: value.clone(),
    };
    let Some(object) = value.as_object() else {
        return Err(reject(
            "the body must be a JSON object with the lead id in _id, id or ids".to_string(),
        ));
    };
    if let Some(model) = object.get("_model") {
        if model.as_str() != Some("crm.lead") {
            return Err(reject(format!(
                "_model must be crm.lead, not {model}; point this automation rule at crm.lead"
            )));
        }
    }
    let action = object
        .get("_action")
        .and_then(Value::as_str)
        .map(str::to_string);
    let (ids, listed) = if let Some(id) = object.get("_id") {
        (vec![lead_id("_id", id).map_err(reject)?], false)
    } else if let Some(id) = object.get("id") {
        (vec![lead_id("id", id).map_err(reject)?], false)
    } else if let Some(ids) = object.get("ids") {
        let Some(list) = ids
            .as_array()
            .filter(|l| !l.is_empty() && l.len() <= MAX_IDS)
        else {
            return Err(reject(format!(
                "ids must be a list of 1 to {MAX_IDS} lead ids, not {ids}"
            )));
        };
        let ids = list
            .iter()
            .enumerate()
            .map(|(at, id)| lead_id(&format!("ids[{at}]"), id))
            .collect::<Result<Vec<u64>, String>>()
            .map_err(reject)?;
        // One event per lead: repeats would only be merged in the queue.
        (crate::sync::dedup(&ids), true)
    } else {
        return Err(reject(
            "no lead id: send it as _id (as Odoo does), id or ids".to_string(),
        ));
    };
    Ok(Event {
        ids,
        action,
        listed,
    })
}

/// A lead id: a positive integer, or a string of digits.
fn lead_id(key: &str, value: &Value) -> Result<u64, String> {
    let parsed = match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse::<u64>().ok()
        }
        _ => None,
    };
    match parsed {
        Some(id) if id > crate::odoo::MAX_RECORD_ID => Err(format!(
            "{key} {id} is above {}, the largest id an Odoo record can have",
            crate::odoo::MAX_RECORD_ID
        )),
        Some(id) if id > 0 => Ok(id),
        _ => Err(format!(
            "{key} must be a positive integer lead id (or a string of digits), not {value}"
        )),
    }
}

/// The first bytes of a body that is not JSON, as text.
fn preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
    if body.len() > 200 {
        format!("{text}…")
    } else {
        text
    }
}

fn webhook(app: &App, kind: Kind, body: &[u8], wait: bool) -> Answer {
    let event = match parse_event(body) {
        Ok(event) => event,
        Err(rejection) => {
            return Answer::new(
                400,
                json!({"error": rejection.error, "received": rejection.received}),
            )
        }
    };
    let settle = if wait {
        // Due only when the wait is over, so that a worker does not take the lead from under
        // process_now. After a timeout the workers process it.
        app.wait_timeout
    } else {
        app.processor.policy.settle
    };
    let incoming: Vec<Incoming> = event
        .ids
        .iter()
        .map(|id| Incoming {
            id: *id,
            kind,
            action: event.action.clone(),
            settle,
        })
        .collect();
    if let Err(err) = app.processor.queue.push(&incoming) {
        tracing::error!(error = %err, "could not queue an event");
        return Answer::new(503, json!({"error": err.to_string()}));
    }
    for id in &event.ids {
        tracing::info!(
            lead = id,
            kind = kind.as_str(),
            action = event.action.as_deref().unwrap_or("-"),
            "event received"
        );
    }
    if !wait {
        app.processor.wake.notify_one();
        return Answer::new(202, json!({"status": "queued", "ids": event.ids}));
    }
    wait_for(app, kind, &event)
}

/// Processes the event at once and waits up to the wait timeout for the result.
fn wait_for(app: &App, kind: Kind, event: &Event) -> Answer {
    let started = Instant::now();
    let processor = Arc::clone(&app.processor);
    let ids = event.ids.clone();
    let timeout = app.wait_timeout;
    // A task of its own: the entries must be finished even after the answer timed out. When
    // the write lock stays busy (a full rebuild), nothing is processed and the workers take
    // the event once its settle delay (the wait timeout) has passed.
    let task = app.runtime.spawn(async move {
        processor
            .process_now(&ids, Some(timeout))
            .await
            .map(|report| report.results)
            .unwrap_or_default()
    });
    let results = app
        .runtime
        .block_on(async { tokio::time::timeout(app.wait_timeout, task).await });
    let duration_ms = started.elapsed().as_millis() as u64;
    match results {
        Ok(Ok(results)) if !results.is_empty() => wait_answer(kind, event, &results, duration_ms),
        _ => {
            app.processor.wake.notify_one();
            Answer::new(202, json!({"status": "queued", "ids": event.ids}))
        }
    }
}

/// The answer shapes earlier Odoo MCP servers gave, so existing scripts keep working.
pub fn wait_answer(kind: Kind, event: &Event, results: &[LeadResult], duration_ms: u64) -> Answer {
    let failed: Vec<&LeadResult> = results.iter().filter(|r| r.error.is_some()).collect();
    let done: Vec<u64> = results
        .iter()
        .filter(|r| r.error.is_none())
        .map(|r| r.id)
        .collect();
    let key = match kind {
        Kind::Sync => "synced",
        Kind::Delete => "deleted",
    };
    let list_or_one = |ids: Vec<u64>| -> Value {
        if event.listed {
            json!(ids)
        } else {
            ids.first().map_or(Value::Null, |id| json!(id))
        }
    };
    if failed.is_empty() {
        return Answer::new(
            200,
            json!({"status": "ok", key: list_or_one(done), "durationMs": duration_ms}),
        );
    }
    let errors: Vec<String> = failed.iter().filter_map(|r| r.error.clone()).collect();
    let failed_ids: Vec<u64> = failed.iter().map(|r| r.id).collect();
    let mut body = json!({"status": "error", "errors": errors, "durationMs": duration_ms});
    if event.listed {
        body["ids"] = json!(failed_ids);
        body[key] = json!(done);
    } else {
        body["id"] = json!(failed_ids[0]);
    }
    Answer::new(500, body)
}

fn status(app: &App) -> Answer {
    let report = app.processor.queue.report();
    Answer::new(
        200,
        json!({
            "queue": report.to_json(),
            "failed_events": report.failed_events,
            "auth_required": app.auth.required(),
            "endpoints": ENDPOINTS,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(body: &str) -> Result<Vec<u64>, String> {
        parse_event(body.as_bytes())
            .map(|event| event.ids)
            .map_err(|rejection| rejection.error)
    }

    #[test]
    fn odoo_body_gives_its_id_and_action() {
        let event = parse_event(
            br#"{"_action": "Send Webhook Notification(#231)", "_id": 45, "_model": "crm.lead"}"#,
        )
        .unwrap();
        assert_eq!(event.ids, vec![45]);
        assert_eq!(
            event.action.as_deref(),
            Some("Send Webhook Notification(#231)")
        );
        assert!(!event.listed);
    }

    #[test]
    fn id_sources_in_order() {
        assert_eq!(ids(r#"{"_id": 3, "id": 4}"#), Ok(vec![3]));
        assert_eq!(ids(r#"{"id": "17"}"#), Ok(vec![17]));
        assert_eq!(ids(r#"{"ids": [1, "2", 3]}"#), Ok(vec![1, 2, 3]));
        assert_eq!(ids(r#"{"_id": 2147483647}"#), Ok(vec![2_147_483_647]));
    }

    #[test]
    fn repeated_ids_are_queued_once() {
        assert_eq!(ids(r#"{"ids": [7, 3, 7, "3", 7]}"#), Ok(vec![7, 3]));
    }

    #[test]
    fn bad_entry_of_ids_is_named_by_position() {
        let rejection = parse_event(br#"{"ids": [1, "2", -3]}"#).unwrap_err();
        assert!(
            rejection
                .error
                .starts_with("ids[2] must be a positive integer"),
            "{}",
            rejection.error
        );
    }

    #[test]
    fn unusable_ids_are_rejected() {
        for body in [
            r#"{"_id": 0}"#,
            r#"{"_id": -4}"#,
            r#"{"_id": 4.5}"#,
            r#"{"_id": true}"#,
            r#"{"_id": null}"#,
            r#"{"_id": "4a"}"#,
            r#"{"_id": ""}"#,
            r#"{"_id": [4]}"#,
            r#"{"ids": []}"#,
            r#"{"ids": [1, 0]}"#,
            r#"{"_id": 2147483648}"#,
            r#"{"id": "99999999999"}"#,
            r#"{"ids": [1, 18446744073709551615]}"#,
            r#"{"name": "x"}"#,
            r#"[45]"#,
        ] {
            assert!(ids(body).is_err(), "accepted {body}");
        }
    }

    #[test]
    fn wrong_model_and_garbage_are_rejected() {
        let wrong = parse_event(br#"{"_id": 3, "_model": "res.partner"}"#).unwrap_err();
        assert!(wrong.error.contains("crm.lead"), "{}", wrong.error);
        let garbage = parse_event(b"_id=3").unwrap_err();
        assert_eq!(garbage.received, json!("_id=3"));
    }
}
