//! Clear errors, exit code 1 and no secret in any output when Odoo cannot be used.

mod support;

use std::net::TcpListener;
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

#[test]
fn non_odoo_url_is_reported() {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    thread::spawn(move || {
        for request in server.incoming_requests() {
            let response =
                tiny_http::Response::from_string("<html><body>Welcome to nginx!</body></html>")
                    .with_status_code(404)
                    .with_header(
                        tiny_http::Header::from_bytes("Content-Type", "text/html").unwrap(),
                    );
            let _ = request.respond(response);
        }
    });
    let mut sandbox = Sandbox::new();
    sandbox.set("ODOO_URL", &format!("http://127.0.0.1:{port}"));
    sandbox.set("ODOO_DB", "crm");
    sandbox.set("ODOO_USERNAME", "admin");
    sandbox.set("ODOO_PASSWORD", PASSWORD);
    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("does not look like an Odoo server"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run.all_output());
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
