//! The owner socket's protocol: one JSON request line from the client, then zero or more
//! progress and heartbeat lines from the owner, then one final line.
//!
//! ```text
//! → {"op": "sync_new", "since": null, "overlap_s": 300, "prune": true, …, "lock_timeout_ms": 0}
//! ← {"progress": "start", "total": 44}
//! ← {"progress": "advance", "count": 20}
//! ← {"heartbeat": true}
//! ← {"ok": true, "result": {…}}            or    {"ok": false, "error": "…", "causes": […], "hint": "…"}
//! ```
//!
//! The result is the value the operation returns in the owner (a list of hits, a summary, the
//! `status --json` document), so the client prints it with the same code as when it runs the
//! command itself.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::index::SearchFilter;
use crate::sync::SyncNewOptions;

/// Largest `limit` of a search request, as `crm-vec search --limit` accepts it.
pub const MAX_SEARCH_LIMIT: usize = 100;

/// One operation a client asks the owner to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Operation {
    Search {
        query: String,
        filter: SearchFilter,
        #[serde(default = "default_search_limit")]
        limit: usize,
    },
    Status {
        deep: bool,
        max_lag_s: u64,
    },
    SyncRecord {
        ids: Vec<u64>,
    },
    SyncNew(SyncNewRequest),
    Delete {
        ids: Vec<u64>,
    },
    FullRebuild {
        keep_previous: bool,
    },
    /// The webhook queue of the owner's listener.
    Queue,
    /// The owner's process id and command: see [`OwnerInfo`].
    Describe,
}

fn default_search_limit() -> usize {
    10
}

/// The options of `sync-new`, in a form that crosses the socket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncNewRequest {
    pub since: Option<String>,
    pub overlap_s: u64,
    pub prune: bool,
    pub refresh_payload: bool,
    pub dry_run: bool,
}

impl From<&SyncNewOptions> for SyncNewRequest {
    fn from(options: &SyncNewOptions) -> Self {
        SyncNewRequest {
            since: options.since.clone(),
            overlap_s: options.overlap.as_secs(),
            prune: options.prune,
            refresh_payload: options.refresh_payload,
            dry_run: options.dry_run,
        }
    }
}

impl From<&SyncNewRequest> for SyncNewOptions {
    fn from(request: &SyncNewRequest) -> Self {
        SyncNewOptions {
            overlap: Duration::from_secs(request.overlap_s),
            since: request.since.clone(),
            prune: request.prune,
            refresh_payload: request.refresh_payload,
            dry_run: request.dry_run,
        }
    }
}

/// A request line: the operation and how long the client lets a write wait for the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    #[serde(flatten)]
    pub operation: Operation,
    /// The client's `--lock-timeout`, in milliseconds.
    #[serde(default)]
    pub lock_timeout_ms: u64,
}

impl Request {
    /// Parses a request line, and clamps a search limit to what `crm-vec search --limit`
    /// accepts.
    pub fn parse(line: &str) -> Result<Request, String> {
        let mut request: Request =
            serde_json::from_str(line).map_err(|err| format!("invalid request: {err}"))?;
        if let Operation::Search { limit, .. } = &mut request.operation {
            *limit = (*limit).clamp(1, MAX_SEARCH_LIMIT);
        }
        Ok(request)
    }
}

/// The result of [`Operation::Describe`]: the process that owns the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerInfo {
    pub pid: u32,
    /// The command that owns the index: `serve`, `mcp` or `mcp --listen`.
    pub command: String,
    /// Whether the owner runs the webhook listener.
    pub listener: bool,
}

/// A progress line, replayed into the client's progress reporter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "progress", rename_all = "snake_case")]
pub enum Progress {
    Start { total: Option<u64> },
    Advance { count: u64 },
    Finish,
}

/// One line from the owner.
#[derive(Debug, PartialEq)]
pub enum Line {
    Progress(Progress),
    Heartbeat,
    Done(Result<Value, Failure>),
}

/// An operation that failed in the owner: the error chain as `main` would print it.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
    /// Whether the error is a usage error (an invalid setting or argument), which exits 2.
    pub usage: bool,
}

impl Failure {
    /// Builds the failure of an error, with the known fix of its chain.
    pub fn from_error(err: &anyhow::Error) -> Failure {
        Failure {
            error: err.to_string(),
            causes: err.chain().skip(1).map(ToString::to_string).collect(),
            hint: crate::commands::hint_for(err),
            usage: crate::commands::is_usage_error(err),
        }
    }
}

impl Line {
    /// Encodes the line as it is written on the socket, without the newline.
    pub fn encode(&self) -> String {
        let value = match self {
            Line::Progress(progress) => json!(progress),
            Line::Heartbeat => json!({"heartbeat": true}),
            Line::Done(Ok(result)) => json!({"ok": true, "result": result}),
            Line::Done(Err(failure)) => json!({
                "ok": false,
                "error": failure.error,
                "causes": failure.causes,
                "hint": failure.hint,
                "usage": failure.usage,
            }),
        };
        value.to_string()
    }

    /// Reads a line the owner wrote.
    pub fn decode(text: &str) -> Result<Line, String> {
        let value: Value = serde_json::from_str(text).map_err(|err| err.to_string())?;
        if value.get("heartbeat").is_some() {
            return Ok(Line::Heartbeat);
        }
        if value.get("progress").is_some() {
            let progress = serde_json::from_value(value).map_err(|err| err.to_string())?;
            return Ok(Line::Progress(progress));
        }
        match value["ok"].as_bool() {
            Some(true) => Ok(Line::Done(Ok(value["result"].clone()))),
            Some(false) => Ok(Line::Done(Err(decode_failure(&value)))),
            None => Err(format!("unexpected line {text}")),
        }
    }
}

fn decode_failure(value: &Value) -> Failure {
    let causes = value["causes"]
        .as_array()
        .map(|causes| {
            causes
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Failure {
        error: value["error"]
            .as_str()
            .unwrap_or("unknown error")
            .to_string(),
        causes,
        hint: value["hint"].as_str().map(str::to_string),
        usage: value["usage"].as_bool().unwrap_or(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_request_reads_query_filter_limit() {
        let line = r#"{"op": "search", "query": "chairs",
            "filter": {"stage": "Won", "min_revenue": 1000.0}, "limit": 5}"#;
        let request = Request::parse(line).unwrap();
        let Operation::Search {
            query,
            filter,
            limit,
        } = request.operation
        else {
            panic!("not a search: {request:?}");
        };
        assert_eq!(query, "chairs");
        assert_eq!(filter.stage.as_deref(), Some("Won"));
        assert_eq!(filter.min_revenue, Some(1000.0));
        assert_eq!(filter.salesperson, None);
        assert_eq!(limit, 5);
        assert_eq!(request.lock_timeout_ms, 0);
    }

    #[test]
    fn search_request_limit_defaults_and_is_clamped() {
        for (limit, expected) in [
            (None, 10),
            (Some(0), 1),
            (Some(100), 100),
            (Some(9999), 100),
        ] {
            let mut request = json!({"op": "search", "query": "q", "filter": {}});
            if let Some(limit) = limit {
                request["limit"] = json!(limit);
            }
            let parsed = Request::parse(&request.to_string()).unwrap();
            let Operation::Search { limit: parsed, .. } = parsed.operation else {
                panic!("not a search");
            };
            assert_eq!(parsed, expected, "{limit:?}");
        }
    }

    #[test]
    fn requests_round_trip() {
        let operations = [
            Operation::Status {
                deep: true,
                max_lag_s: 60,
            },
            Operation::SyncRecord { ids: vec![3, 4] },
            Operation::SyncNew(SyncNewRequest::from(&SyncNewOptions::default())),
            Operation::Delete { ids: vec![7] },
            Operation::FullRebuild {
                keep_previous: true,
            },
            Operation::Queue,
            Operation::Describe,
        ];
        for operation in operations {
            let request = Request {
                operation,
                lock_timeout_ms: 2500,
            };
            let line = serde_json::to_string(&request).unwrap();
            assert_eq!(Request::parse(&line), Ok(request), "{line}");
        }
    }

    #[test]
    fn bad_requests_are_rejected() {
        for line in [
            "",
            "{}",
            r#"{"op": "lend"}"#,
            r#"{"op": "search", "filter": {}}"#,
            r#"{"op": "search", "query": 7, "filter": {}}"#,
            r#"{"op": "search", "query": "q", "filter": "Won"}"#,
            r#"{"op": "search", "query": "q", "filter": {"min_revenue": "lots"}}"#,
            r#"{"op": "sync_record", "ids": ["5"]}"#,
        ] {
            assert!(Request::parse(line).is_err(), "accepted {line}");
        }
    }

    #[test]
    fn lines_round_trip() {
        let lines = [
            Line::Progress(Progress::Start { total: Some(44) }),
            Line::Progress(Progress::Start { total: None }),
            Line::Progress(Progress::Advance { count: 5 }),
            Line::Progress(Progress::Finish),
            Line::Heartbeat,
            Line::Done(Ok(json!({"upserted": 3}))),
            Line::Done(Err(Failure {
                error: "could not connect to Odoo".to_string(),
                causes: vec!["connection refused".to_string()],
                hint: Some("check ODOO_URL".to_string()),
                usage: false,
            })),
            Line::Done(Err(Failure {
                error: "no stage named 'Wonn' in the index".to_string(),
                causes: Vec::new(),
                hint: None,
                usage: true,
            })),
        ];
        for line in lines {
            let text = line.encode();
            assert!(!text.contains('\n'), "{text}");
            assert_eq!(Line::decode(&text), Ok(line), "{text}");
        }
    }
}
