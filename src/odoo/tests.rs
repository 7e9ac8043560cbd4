//! Tests of protocol choice, retries and calls against a canned Odoo on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use super::testing::{Reply, Request, TestServer};
use super::*;

const API_KEY: &str = "0123456789abcdef0123456789abcdef01234567";
const PASSWORD: &str = "correct horse";

const WEB_VERSION_19: &str = include_str!("../../tests/data/recorded/odoo19/web_version.txt");
const WEB_VERSION_17: &str = include_str!("../../tests/data/recorded/odoo17/web_version.txt");
const INVALID_APIKEY: &str =
    include_str!("../../tests/data/recorded/odoo19/json2_invalid_apikey.txt");
const UNKNOWN_DATABASE: &str =
    include_str!("../../tests/data/recorded/odoo19/json2_unknown_database.txt");
const JSON2_SEARCH_READ: &str =
    include_str!("../../tests/data/recorded/odoo19/json2_search_read.txt");
const JSON2_READ_MISSING: &str =
    include_str!("../../tests/data/recorded/odoo19/json2_read_missing_id.txt");
const ACCESS_DENIED_17: &str =
    include_str!("../../tests/data/recorded/odoo17/jsonrpc_execute_kw_access_denied.json");

/// A stand-in for one Odoo server of the given major version with demo credentials.
fn fake_odoo(major: u32) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    move |request: &Request| match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/web/version") if major >= 19 => Reply::recorded(WEB_VERSION_19),
        ("GET", "/web/version") => Reply::recorded(WEB_VERSION_17),
        ("POST", "/jsonrpc") => jsonrpc_reply(major, request),
        ("POST", path) if major >= 19 && path.starts_with("/json/2/") => json2_reply(request),
        _ => Reply::html(404, "<html><title>404 Not Found</title></html>"),
    }
}

fn jsonrpc_reply(major: u32, request: &Request) -> Reply {
    let body = request.json();
    let args = &body["params"]["args"];
    let credential_ok = |value: &Value| value == PASSWORD || value == API_KEY;
    match request.jsonrpc_method().as_str() {
        "common.version" => {
            let recorded = match major {
                17 => include_str!("../../tests/data/recorded/odoo17/jsonrpc_common_version.json"),
                18 => include_str!("../../tests/data/recorded/odoo18/jsonrpc_common_version.json"),
                _ => include_str!("../../tests/data/recorded/odoo19/jsonrpc_common_version.json"),
            };
            Reply::json(200, serde_json::from_str(recorded).unwrap())
        }
        "common.login" if args[0] != "crm" => Reply::json(
            200,
            serde_json::from_str(include_str!(
                "../../tests/data/recorded/odoo17/jsonrpc_login_unknown_db.json"
            ))
            .unwrap(),
        ),
        "common.login" if args[1] == "admin" && credential_ok(&args[2]) => {
            Reply::jsonrpc_result(json!(2))
        }
        "common.login" => Reply::jsonrpc_result(json!(false)),
        _ if !credential_ok(&args[2]) || args[1] != 2 => {
            Reply::json(200, serde_json::from_str(ACCESS_DENIED_17).unwrap())
        }
        "object.fields_get" => Reply::jsonrpc_result(fields_of(major)),
        "object.search_read" | "object.read" => {
            Reply::jsonrpc_result(json!([{"id": 1, "name": "Club Office Furnitures"}]))
        }
        "object.search" => Reply::jsonrpc_result(json!([1, 2])),
        "object.search_count" => Reply::jsonrpc_result(json!(44)),
        other => panic!("unexpected JSON-RPC call {other}"),
    }
}

fn json2_reply(request: &Request) -> Reply {
    if request.header("authorization") != Some(&format!("bearer {API_KEY}")) {
        return Reply::recorded(INVALID_APIKEY);
    }
    if request.header("x-odoo-database") != Some("crm") {
        return Reply::recorded(UNKNOWN_DATABASE);
    }
    match request.path.as_str() {
        "/json/2/res.users/context_get" => Reply::json(
            200,
            json!({"lang": "en_US", "tz": "Europe/Brussels", "uid": 2}),
        ),
        path if path.ends_with("/fields_get") => Reply::json(200, fields_of(19)),
        "/json/2/crm.lead/search_read" => Reply::recorded(JSON2_SEARCH_READ),
        "/json/2/crm.lead/read" => Reply::recorded(JSON2_READ_MISSING),
        "/json/2/crm.lead/search" => Reply::json(200, json!([2, 1])),
        "/json/2/crm.lead/search_count" => Reply::json(200, json!(44)),
        other => panic!("unexpected JSON-2 call {other}"),
    }
}

/// `fields_get` of crm.lead as recorded on 17.0 (no `won_status`) or 19.0 (no `mobile`).
fn fields_of(major: u32) -> Value {
    let recorded = if major >= 19 {
        include_str!("../../tests/data/recorded/odoo19/jsonrpc_crm_lead_fields_get.json")
    } else {
        include_str!("../../tests/data/recorded/odoo17/jsonrpc_crm_lead_fields_get.json")
    };
    let answer: Value = serde_json::from_str(recorded).unwrap();
    answer["result"].clone()
}

fn settings(url: &str, password: &str, protocol: ProtocolChoice) -> OdooSettings {
    let mut settings = OdooSettings::new(url, "crm", "admin", Secret::new(password));
    settings.protocol = protocol;
    settings.connect_timeout = Duration::from_secs(2);
    settings.request_timeout = Duration::from_secs(5);
    settings.initial_backoff = Duration::from_millis(1);
    settings
}

fn count_paths(server: &TestServer, prefix: &str) -> usize {
    server
        .paths()
        .iter()
        .filter(|path| path.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn auto_picks_json2_with_api_key() {
    let server = TestServer::start(fake_odoo(19)).await;
    let client = OdooClient::connect(settings(&server.url, API_KEY, ProtocolChoice::Auto))
        .await
        .unwrap();

    assert_eq!(client.protocol(), Protocol::Json2);
    assert_eq!(client.version().major, 19);
    assert_eq!(client.uid(), Some(2));
    assert!(client.has_field("crm.lead", "won_status"));
    assert!(!client.has_field("crm.lead", "mobile"));

    let leads = client
        .search_read(
            "crm.lead",
            json!([]),
            &["name".to_string()],
            Some("id asc"),
            None,
            0,
        )
        .await
        .unwrap();
    assert_eq!(leads.len(), 2);
    assert_eq!(
        client.search_count("crm.lead", json!([])).await.unwrap(),
        44
    );

    assert_eq!(count_paths(&server, "/jsonrpc"), 0, "{:?}", server.paths());
    let probe = &server.requests()[1];
    assert_eq!(probe.path, "/json/2/res.users/context_get");
    assert_eq!(probe.header("content-type"), Some("application/json"));
    assert_eq!(probe.header("x-odoo-database"), Some("crm"));
}

#[tokio::test]
async fn json2_search_read_sends_named_params() {
    let server = TestServer::start(fake_odoo(19)).await;
    let client = OdooClient::connect(settings(&server.url, API_KEY, ProtocolChoice::Json2))
        .await
        .unwrap();
    let domain = json!([["write_date", ">=", "2026-12-04 14:00:00"]]);
    let fields = vec!["name".to_string(), "stage_id".to_string()];
    client
        .search_read(
            "crm.lead",
            domain.clone(),
            &fields,
            Some("write_date asc, id asc"),
            Some(200),
            400,
        )
        .await
        .unwrap();

    let request = server.requests().pop().unwrap();
    assert_eq!(request.path, "/json/2/crm.lead/search_read");
    let body = request.json();
    assert_eq!(body["domain"], domain);
    assert_eq!(body["fields"], json!(["name", "stage_id"]));
    assert_eq!(body["order"], "write_date asc, id asc");
    assert_eq!(body["limit"], 200);
    assert_eq!(body["offset"], 400);
    assert_eq!(body["context"], json!({"active_test": false}));
    assert!(body.get("ids").is_none());
}

#[tokio::test]
async fn json2_read_drops_missing_ids() {
    let server = TestServer::start(fake_odoo(19)).await;
    let client = OdooClient::connect(settings(&server.url, API_KEY, ProtocolChoice::Auto))
        .await
        .unwrap();
    let records = client
        .read("crm.lead", &[14, 999_999], &["name".to_string()])
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], 14);

    let body = server.requests().pop().unwrap().json();
    assert_eq!(body["ids"], json!([14, 999_999]));
    assert_eq!(body["context"], json!({"active_test": false}));
    assert_eq!(
        client
            .search("crm.lead", json!([]), None, None, 0)
            .await
            .unwrap(),
        vec![2, 1]
    );
}

#[tokio::test]
async fn auto_falls_back_with_password() {
    let server = TestServer::start(fake_odoo(19)).await;
    let client = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::Auto))
        .await
        .unwrap();

    assert_eq!(client.protocol(), Protocol::JsonRpc);
    assert_eq!(client.uid(), Some(2));
    assert_eq!(client.version().raw, "19.0");
    let methods: Vec<String> = server
        .requests()
        .iter()
        .filter(|request| request.path == "/jsonrpc")
        .map(Request::jsonrpc_method)
        .collect();
    assert_eq!(methods, ["common.login", "object.fields_get"]);
    assert_eq!(count_paths(&server, "/json/2/"), 1);
}

#[tokio::test]
async fn auto_17_uses_jsonrpc() {
    let server = TestServer::start(fake_odoo(17)).await;
    let client = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::Auto))
        .await
        .unwrap();

    assert_eq!(client.protocol(), Protocol::JsonRpc);
    assert_eq!(client.version().raw, "17.0-20240709");
    assert!(client.has_field("crm.lead", "mobile"));
    assert!(!client.has_field("crm.lead", "won_status"));
    assert_eq!(count_paths(&server, "/json/2/"), 0);
}

#[tokio::test]
async fn jsonrpc_search_read_uses_execute_kw() {
    let server = TestServer::start(fake_odoo(18)).await;
    let client = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::JsonRpc))
        .await
        .unwrap();
    let domain = json!([["id", ">", 3]]);
    client
        .search_read(
            "crm.lead",
            domain.clone(),
            &["name".to_string()],
            Some("id asc"),
            None,
            0,
        )
        .await
        .unwrap();

    let body = server.requests().pop().unwrap().json();
    let args = &body["params"]["args"];
    assert_eq!(body["params"]["service"], "object");
    assert_eq!(body["params"]["method"], "execute_kw");
    assert_eq!(args[0], "crm");
    assert_eq!(args[1], 2);
    assert_eq!(args[3], "crm.lead");
    assert_eq!(args[4], "search_read");
    assert_eq!(args[5], json!([domain]));
    assert_eq!(args[6]["fields"], json!(["name"]));
    assert_eq!(args[6]["order"], "id asc");
    assert_eq!(args[6]["offset"], 0);
    assert!(args[6].get("limit").is_none());
    assert_eq!(args[6]["context"], json!({"active_test": false}));
}

#[tokio::test]
async fn jsonrpc_read_passes_ids_first() {
    let server = TestServer::start(fake_odoo(17)).await;
    let client = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::JsonRpc))
        .await
        .unwrap();
    client
        .read("crm.lead", &[1, 5], &["name".to_string()])
        .await
        .unwrap();

    let args = server.requests().pop().unwrap().json()["params"]["args"].clone();
    assert_eq!(args[5], json!([[1, 5]]));
    assert_eq!(args[6]["context"], json!({"active_test": false}));

    let before = server.requests().len();
    assert!(client.read("crm.lead", &[], &[]).await.unwrap().is_empty());
    assert_eq!(
        server.requests().len(),
        before,
        "empty read sends no request"
    );
}

#[tokio::test]
async fn forced_jsonrpc_skips_json2() {
    let server = TestServer::start(fake_odoo(19)).await;
    let client = OdooClient::connect(settings(&server.url, API_KEY, ProtocolChoice::JsonRpc))
        .await
        .unwrap();
    assert_eq!(client.protocol(), Protocol::JsonRpc);
    client.search_count("crm.lead", json!([])).await.unwrap();
    assert_eq!(count_paths(&server, "/json/2"), 0, "{:?}", server.paths());
}

#[tokio::test]
async fn forced_json2_rejects_odoo_17() {
    let server = TestServer::start(fake_odoo(17)).await;
    let error = OdooClient::connect(settings(&server.url, API_KEY, ProtocolChoice::Json2))
        .await
        .unwrap_err();
    assert!(matches!(error, OdooError::Unsupported(_)), "{error:?}");
    assert!(error.to_string().contains("needs Odoo 19.0 or later"));
    assert_eq!(count_paths(&server, "/jsonrpc"), 0);
}

#[tokio::test]
async fn forced_json2_rejects_password() {
    let server = TestServer::start(fake_odoo(19)).await;
    let error = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::Json2))
        .await
        .unwrap_err();
    assert!(matches!(error, OdooError::InvalidApiKey), "{error:?}");
    assert_eq!(count_paths(&server, "/jsonrpc"), 0);
    assert!(!error.to_string().contains(PASSWORD));
}

#[tokio::test]
async fn json2_unknown_database() {
    let server = TestServer::start(fake_odoo(19)).await;
    let mut settings = settings(&server.url, API_KEY, ProtocolChoice::Auto);
    settings.database = "nosuchdb".to_string();
    let error = OdooClient::connect(settings).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("database 'nosuchdb' does not exist on {}", server.url)
    );
}

#[tokio::test]
async fn jsonrpc_unknown_database() {
    let server = TestServer::start(fake_odoo(17)).await;
    let mut settings = settings(&server.url, PASSWORD, ProtocolChoice::Auto);
    settings.database = "nosuchdb".to_string();
    let error = OdooClient::connect(settings).await.unwrap_err();
    assert!(
        matches!(error, OdooError::UnknownDatabase { .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn wrong_password_is_login_failed() {
    let server = TestServer::start(fake_odoo(18)).await;
    let error = OdooClient::connect(settings(&server.url, "wrong pass", ProtocolChoice::Auto))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "login failed for user 'admin' on database 'crm': wrong username or password"
    );
    assert_eq!(
        count_paths(&server, "/jsonrpc"),
        2,
        "version and login, no retry"
    );
}

#[tokio::test]
async fn retries_502_then_succeeds() {
    let failures = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&failures);
    let odoo = fake_odoo(17);
    let server = TestServer::start(move |request| {
        if request.path == "/jsonrpc" && seen.fetch_add(1, Ordering::SeqCst) < 2 {
            return Reply::html(502, "<html><title>502 Bad Gateway</title></html>");
        }
        odoo(request)
    })
    .await;

    let version = OdooClient::probe_version(&settings(&server.url, "", ProtocolChoice::JsonRpc))
        .await
        .unwrap();
    assert_eq!(version.major, 17);
    assert_eq!(count_paths(&server, "/jsonrpc"), 3);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let server =
        TestServer::start(|_: &Request| Reply::html(503, "<title>503 Service Unavailable</title>"))
            .await;
    let error = OdooClient::probe_version(&settings(&server.url, "", ProtocolChoice::Auto))
        .await
        .unwrap_err();
    assert!(error.is_transient());
    assert!(error.to_string().contains("HTTP 503"), "{error}");
    assert!(error.to_string().ends_with("(after 4 attempts)"), "{error}");
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn no_retry_on_access_denied() {
    let odoo = fake_odoo(17);
    let server = TestServer::start(move |request: &Request| {
        if request.path == "/jsonrpc" && request.jsonrpc_method() == "object.fields_get" {
            return Reply::json(200, serde_json::from_str(ACCESS_DENIED_17).unwrap());
        }
        odoo(request)
    })
    .await;
    let error = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::JsonRpc))
        .await
        .unwrap_err();
    assert!(matches!(error, OdooError::AccessDenied { .. }), "{error:?}");
    let probes = server
        .requests()
        .iter()
        .filter(|request| request.jsonrpc_method() == "object.fields_get")
        .count();
    assert_eq!(probes, 1);
}

#[tokio::test]
async fn no_retry_on_json2_value_error() {
    let odoo = fake_odoo(19);
    let server = TestServer::start(move |request: &Request| {
        if request.path == "/json/2/crm.lead/search_read" {
            return Reply::recorded(include_str!(
                "../../tests/data/recorded/odoo19/json2_invalid_field.txt"
            ));
        }
        odoo(request)
    })
    .await;
    let client = OdooClient::connect(settings(&server.url, API_KEY, ProtocolChoice::Auto))
        .await
        .unwrap();
    let error = client
        .search_read(
            "crm.lead",
            json!([]),
            &["mobile".to_string()],
            None,
            None,
            0,
        )
        .await
        .unwrap_err();
    assert!(matches!(error, OdooError::Server { .. }), "{error:?}");
    assert_eq!(count_paths(&server, "/json/2/crm.lead/search_read"), 1);
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let error = OdooClient::connect(settings(&url, PASSWORD, ProtocolChoice::Auto))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("could not connect to Odoo at {url}: connection refused (after 4 attempts)")
    );
    assert!(error.is_transient());
}

#[tokio::test]
async fn request_timeout_is_unreachable() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts connections and never responds on them.
    let silent = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            open.push(stream);
        }
    });
    let mut settings = settings(&url, PASSWORD, ProtocolChoice::Auto);
    settings.request_timeout = Duration::from_millis(200);
    settings.max_attempts = 2;
    let error = OdooClient::probe_version(&settings).await.unwrap_err();
    silent.abort();
    assert_eq!(
        error.to_string(),
        format!(
            "could not connect to Odoo at {url}: request timed out after 200ms (after 2 attempts)"
        )
    );
}

#[tokio::test]
async fn html_server_is_not_odoo() {
    let server =
        TestServer::start(|_: &Request| Reply::html(200, "<html><body>It works!</body></html>"))
            .await;
    let error = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::Auto))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "{} does not look like an Odoo server: POST /jsonrpc answered HTTP 200 (text/html)",
            server.url
        )
    );
}

#[tokio::test]
async fn missing_jsonrpc_is_not_odoo() {
    let server = TestServer::start(|_: &Request| Reply::html(404, "<h1>Not Found</h1>")).await;
    let error = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::Auto))
        .await
        .unwrap_err();
    assert!(error.to_string().ends_with(
        "does not look like an Odoo server: POST /jsonrpc answered HTTP 404 (text/html)"
    ));
    assert_eq!(server.requests().len(), 2, "404 is not retried");
}

#[tokio::test]
async fn fields_get_once_per_model() {
    let server = TestServer::start(fake_odoo(18)).await;
    let url_with_slash = format!("{}/", server.url);
    let client = OdooClient::connect(settings(&url_with_slash, PASSWORD, ProtocolChoice::Auto))
        .await
        .unwrap();
    assert_eq!(client.url(), server.url);

    let wanted = ["name", "mobile", "won_status"];
    let lead_fields = client.fields_for("crm.lead", &wanted).await.unwrap();
    assert_eq!(lead_fields, ["name", "mobile"]);
    assert!(!client.has_field("res.partner", "name"), "not probed yet");
    let (a, b, c) = tokio::join!(
        client.fields_for("res.partner", &["name"]),
        client.fields_for("res.partner", &["name"]),
        client.fields_for("res.partner", &["name"]),
    );
    for fields in [a, b, c] {
        assert_eq!(fields.unwrap(), ["name"]);
    }
    assert!(client.has_field("res.partner", "name"));

    let probes: Vec<Value> = server
        .requests()
        .iter()
        .filter(|request| request.jsonrpc_method() == "object.fields_get")
        .map(|request| request.json()["params"]["args"][3].clone())
        .collect();
    assert_eq!(probes, [json!("crm.lead"), json!("res.partner")]);
}

#[tokio::test]
async fn probe_version_needs_no_login() {
    let server = TestServer::start(fake_odoo(19)).await;
    let version = OdooClient::probe_version(&settings(&server.url, "", ProtocolChoice::Auto))
        .await
        .unwrap();
    assert_eq!(version.major, 19);
    assert_eq!(server.paths(), ["/web/version"]);
}

/// Log lines written while the test runs, at every level.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let writer = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn fallback_warns_once_without_secrets() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let server = TestServer::start(fake_odoo(19)).await;
    let client = OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::Auto))
        .await
        .unwrap();
    client
        .search_read(
            "crm.lead",
            json!([]),
            &["name".to_string()],
            None,
            Some(1),
            0,
        )
        .await
        .unwrap();

    let text = logs.text();
    // Only the fallback warning counts: on a loaded machine a retried connection may add a
    // retry warning of its own.
    let warnings: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("WARN") && line.contains("JSON-2"))
        .collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].contains("JSON-RPC, which Odoo 19 deprecates"));
    assert!(warnings[0].contains("New API Key"));
    assert!(text.contains("Odoo call finished"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

#[tokio::test(flavor = "current_thread")]
async fn json2_logs_no_api_key() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let server = TestServer::start(fake_odoo(19)).await;
    let client = OdooClient::connect(settings(&server.url, API_KEY, ProtocolChoice::Auto))
        .await
        .unwrap();
    client.search_count("crm.lead", json!([])).await.unwrap();

    let text = logs.text();
    assert!(text.contains("Odoo call finished"), "{text}");
    assert!(!text.contains(API_KEY), "{text}");
    assert!(!text.contains("WARN"), "{text}");
}

#[tokio::test(flavor = "current_thread")]
async fn retry_warning_names_url_and_attempt() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let failed = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&failed);
    let odoo = fake_odoo(17);
    let server = TestServer::start(move |request| {
        if request.path == "/jsonrpc" && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::html(504, "<title>504 Gateway Time-out</title>");
        }
        odoo(request)
    })
    .await;
    OdooClient::connect(settings(&server.url, PASSWORD, ProtocolChoice::JsonRpc))
        .await
        .unwrap();

    let text = logs.text();
    let warnings: Vec<&str> = text.lines().filter(|line| line.contains("WARN")).collect();
    assert_eq!(warnings.len(), 1, "{text}");
    assert!(warnings[0].contains("retrying"), "{text}");
    assert!(warnings[0].contains("Odoo request 1 of 4 failed"), "{text}");
    assert!(warnings[0].contains(&server.url), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

#[test]
fn client_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<OdooClient>();

    let settings = settings("http://127.0.0.1:9", PASSWORD, ProtocolChoice::Auto);
    let connect = OdooClient::connect(settings.clone());
    assert_send(&connect);
    let probe = OdooClient::probe_version(&settings);
    assert_send(&probe);
}

#[tokio::test]
async fn call_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let server = TestServer::start(fake_odoo(19)).await;
    let client = OdooClient::connect(settings(&server.url, API_KEY, ProtocolChoice::Auto))
        .await
        .unwrap();
    let fields = vec!["name".to_string()];
    assert_send(&client.search_read("crm.lead", json!([]), &fields, None, None, 0));
    assert_send(&client.read("crm.lead", &[1], &fields));
    assert_send(&client.search("crm.lead", json!([]), None, None, 0));
    assert_send(&client.search_count("crm.lead", json!([])));
    assert_send(&client.fields_for("crm.lead", &["name"]));
}
