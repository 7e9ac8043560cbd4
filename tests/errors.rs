//! Clear errors, exit code 1 and no secret in any output when Odoo cannot be used.

mod support;

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use support::harness::Sandbox;
use support::odoo::{OdooStandIn, OdooVersion, StandInConfig};

const PASSWORD: &str = "admin-password";

fn assert_no_secret(output: &str) {
    assert!(!output.contains(PASSWORD), "password in output:\n{output}");
    assert!(
        !output.contains("0123456789abcdef0123456789abcdef01234567"),
        "API key in output:\n{output}"
    );
}

#[test]
fn wrong_password_is_reported() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::new();
    sandbox.use_odoo(&odoo, "not-the-password");
    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("wrong username or password"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert!(!run.stderr.contains("could not connect"), "{}", run.stderr);
    assert!(!run.all_output().contains("not-the-password"));
}

#[test]
fn unknown_database_is_reported() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo(&odoo);
    sandbox.set("ODOO_DB", "nosuchdb");
    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("'nosuchdb' does not exist"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.all_output());
}

#[test]
fn unknown_database_on_json2_is_reported() {
    let odoo = OdooStandIn::start(StandInConfig {
        version: OdooVersion::V19,
        ..StandInConfig::default()
    });
    let mut sandbox = Sandbox::new();
    sandbox.use_odoo(&odoo, &odoo.config().api_key);
    sandbox.set("ODOO_DB", "nosuchdb");
    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("'nosuchdb' does not exist"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.all_output());
}

#[test]
fn unreachable_url_is_reported() {
    // Bind a port, then free it: nothing listens there afterwards.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut sandbox = Sandbox::new();
    sandbox.set("ODOO_URL", &format!("http://127.0.0.1:{port}"));
    sandbox.set("ODOO_DB", "crm");
    sandbox.set("ODOO_USERNAME", "admin");
    sandbox.set("ODOO_PASSWORD", PASSWORD);
    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("could not connect to Odoo"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.all_output());
}

/// Starts a web server that is not Odoo. It returns `get_status` for GET and `other_status` for
/// any other method, both with an HTML page. Returns its URL and the count of requests other
/// than GET.
fn foreign_server(get_status: u16, other_status: u16) -> (String, Arc<AtomicUsize>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let posts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&posts);
    thread::spawn(move || {
        for request in server.incoming_requests() {
            let status = if *request.method() == tiny_http::Method::Get {
                get_status
            } else {
                counter.fetch_add(1, Ordering::SeqCst);
                other_status
            };
            let page = format!("<html><head><title>Error response</title></head><body><p>Error code: {status}</p></body></html>");
            let response = tiny_http::Response::from_string(page)
                .with_status_code(status)
                .with_header(tiny_http::Header::from_bytes("Content-Type", "text/html").unwrap());
            let _ = request.respond(response);
        }
    });
    (format!("http://127.0.0.1:{port}"), posts)
}

fn sandbox_for_url(url: &str) -> Sandbox {
    let mut sandbox = Sandbox::new();
    sandbox.set("ODOO_URL", url);
    sandbox.set("ODOO_DB", "crm");
    sandbox.set("ODOO_USERNAME", "admin");
    sandbox.set("ODOO_PASSWORD", PASSWORD);
    sandbox
}

#[test]
fn non_odoo_url_is_reported() {
    // A web server such as nginx returns a page of its own for every path.
    let (url, _) = foreign_server(404, 404);
    let run = sandbox_for_url(&url).run(&["full-rebuild"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("does not look like an Odoo server"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.all_output());
}

#[test]
fn static_file_server_is_not_odoo() {
    // `python3 -m http.server` returns 501 for a POST, a static nginx site 405.
    for status in [501, 405] {
        let (url, posts) = foreign_server(404, status);
        let run = sandbox_for_url(&url).run(&["full-rebuild"]);
        assert_eq!(run.code, 1, "HTTP {status}: {}", run.stderr);
        assert!(
            run.stderr.contains("does not look like an Odoo server"),
            "HTTP {status}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("hint: check ODOO_URL"),
            "HTTP {status}: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("try again later"),
            "HTTP {status}: {}",
            run.stderr
        );
        assert_eq!(posts.load(Ordering::SeqCst), 1, "HTTP {status} was retried");
    }
}

#[test]
fn missing_settings_are_listed_together() {
    let sandbox = Sandbox::new();
    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("missing required settings: ODOO_URL, ODOO_DB, ODOO_USERNAME, ODOO_PASSWORD"),
        "{}",
        run.stderr
    );
}

#[test]
fn dotenv_supplies_settings() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::new();
    sandbox.write_dotenv(&format!(
        "ODOO_URL={}\nODOO_DB=crm\nODOO_USERNAME=admin\nODOO_PASSWORD={PASSWORD}\n",
        odoo.url()
    ));
    let run = sandbox.run(&["full-rebuild", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["upserted"], serde_json::json!(39));
}

#[test]
fn malformed_dotenv_is_reported() {
    let sandbox = Sandbox::new();
    sandbox.write_dotenv("ODOO_URL=http://x\nnot a valid line\n");
    let run = sandbox.run(&["status"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(".env"), "{}", run.stderr);
}

#[test]
fn secrets_never_printed_verbose() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo(&odoo);
    sandbox.set("RUST_LOG", "trace");
    let run = sandbox.run(&["full-rebuild", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_secret(&run.all_output());
    let run = sandbox.run(&["status", "-vv"]);
    assert_no_secret(&run.all_output());
}
