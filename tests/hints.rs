//! Errors with a known fix end with a `hint:` line that tells the user what to do. Each test
//! provokes one such error in the built binary and checks the hint.

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::embed::{EmbedConfig, EmbedStandIn};
use support::harness::{to_run, Run, Sandbox};
use support::odoo::{OdooStandIn, StandInConfig};
use support::webhook::Listener;

/// Returns the text of the `hint:` line, and panics with everything the run printed unless
/// there is exactly one.
fn hint(run: &Run) -> String {
    let hints: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|line| line.strip_prefix("hint: "))
        .collect();
    assert_eq!(hints.len(), 1, "expected one hint line:\n{}", run.stderr);
    hints[0].to_string()
}

/// Runs `args` until the run fails with a locked index, or panics after 20 seconds.
fn run_until_locked(sandbox: &Sandbox, args: &[&str]) -> Run {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let run = sandbox.run(args);
        if run.stderr.contains("in use by another process") {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "the index never was locked:\n{}",
            run.all_output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn missing_api_key_hint() {
    let mut sandbox = Sandbox::new();
    sandbox.set("EMBEDDINGS_PROVIDER", "voyage");
    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: missing required settings: VOYAGE_API_KEY"),
        "{}",
        run.stderr
    );
    assert_eq!(
        hint(&run),
        "set it in the environment or in a .env file in this directory (see .env.example), or \
         choose another EMBEDDINGS_PROVIDER (none searches by keywords only)"
    );
}

#[test]
fn locked_index_hint_during_rebuild() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    // A slow Odoo keeps the next rebuild, and its lock, alive for several seconds.
    odoo.set_latency(Duration::from_millis(400), Duration::ZERO);
    let rebuild = sandbox
        .command(&["full-rebuild", "--json"])
        .env("CRM_VEC_LOCK_TIMEOUT", "10")
        .spawn()
        .expect("start full-rebuild");
    let second = run_until_locked(&sandbox, &["search", "chairs"]);
    let first = to_run(rebuild.wait_with_output().expect("wait for full-rebuild"));
    assert_eq!(first.code, 0, "{}", first.stderr);

    assert_eq!(second.code, 1, "{}", second.stderr);
    assert_eq!(
        hint(&second),
        "wait for the other crm-vec process to finish, or raise --lock-timeout \
         (e.g. --lock-timeout 2m)"
    );
}

#[test]
fn second_listener_hint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo(&odoo);
    let listener = Listener::start(&sandbox, &[]);
    let second = sandbox.run(&["serve", "--port", "0"]);
    assert_eq!(second.code, 1, "{}", second.stderr);
    let pid = listener.child.id();
    assert!(
        second.stderr.contains(&format!("pid {pid}")),
        "the error does not name the running listener:\n{}",
        second.stderr
    );
    let hint = hint(&second);
    assert_eq!(
        hint,
        "that process already receives this index's webhooks: one listener per index. Stop it \
         first, or set CRM_VEC_DATA_DIR to another directory for a separate index"
    );
    assert!(!hint.contains("--listen"), "{hint}");
}

#[test]
fn serve_beside_mcp_hint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo(&odoo);
    // stdin stays open, so the MCP server keeps running and owns the index.
    let mut mcp = sandbox
        .command(&["mcp"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("start crm-vec mcp");
    // Waiting for the owner socket keeps serve from taking the index first and running on.
    let socket = sandbox.data_dir().join("odoo_crm_leads").join("owner.sock");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !socket.exists() {
        assert!(
            Instant::now() < deadline,
            "crm-vec mcp never bound {socket:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let serve = sandbox.run(&["serve", "--port", "0"]);
    let _ = mcp.kill();
    let _ = mcp.wait();

    assert_eq!(serve.code, 1, "{}", serve.stderr);
    assert_eq!(
        hint(&serve),
        "that process serves the other crm-vec commands but no webhooks; start the assistant's \
         server as `crm-vec mcp --listen 127.0.0.1:3000` instead of running serve beside it, or \
         close it first (--lock-timeout waits for it to exit)"
    );
}

#[test]
fn rest_port_hint() {
    let mut sandbox = Sandbox::new();
    sandbox.set("QDRANT_URL", "http://127.0.0.1:6333");
    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("REST port"), "{}", run.stderr);
    assert_eq!(
        hint(&run),
        "set QDRANT_URL to the gRPC port of the Qdrant server, usually 6334; port 6333 serves \
         Qdrant's REST API, which crm-vec does not use"
    );
}

#[test]
fn plain_http_port_hint() {
    // The Odoo stand-in is an HTTP/1 server, as a wrong port often is.
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::new();
    sandbox.set("QDRANT_URL", &odoo.url());
    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("answers plain HTTP"), "{}", run.stderr);
    assert!(
        hint(&run).starts_with("set QDRANT_URL to the gRPC port of the Qdrant server"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_credentials_hint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::new();
    sandbox.use_odoo(&odoo, "not-the-password");
    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        hint(&run),
        "check ODOO_USERNAME and ODOO_PASSWORD (an API key works as the password)"
    );
}

#[test]
fn embedding_unauthorized_hint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = Sandbox::for_odoo(&odoo);
    sandbox.use_voyage(&embed, "pa-not-the-key");
    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("HTTP 401"), "{}", run.stderr);
    assert_eq!(hint(&run), "check VOYAGE_API_KEY or EMBEDDINGS_API_KEY");
}

#[test]
fn dimension_mismatch_hint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = Sandbox::for_odoo(&odoo);
    sandbox.set("EMBEDDINGS_PROVIDER", "openai");
    sandbox.set("EMBEDDINGS_BASE_URL", &embed.openai_base_url());
    sandbox.set("EMBEDDINGS_MODEL", "hashed-words");
    sandbox.set("EMBEDDINGS_DIMENSION", "8");
    sandbox.json(&["full-rebuild", "--json"]);

    // Without a configured dimension the stand-in returns its native 1,024 values.
    sandbox.unset("EMBEDDINGS_DIMENSION");
    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("built for dimension 8"),
        "{}",
        run.stderr
    );
    assert_eq!(
        hint(&run),
        "the embedding endpoint now returns vectors of another size: set EMBEDDINGS_DIMENSION \
         (or VOYAGE_DIMENSION) to the size you want and run `crm-vec full-rebuild`"
    );

    // The advice works.
    sandbox.set("EMBEDDINGS_DIMENSION", "1024");
    sandbox.json(&["full-rebuild", "--json"]);
    let search = sandbox.run(&["search", "chairs"]);
    assert_eq!(search.code, 0, "{}", search.stderr);
}

#[test]
fn unusable_home_hint() {
    let mut sandbox = Sandbox::new();
    // A system user's HOME that cannot hold directories, such as /nonexistent.
    let home = sandbox.dir.join("home-is-a-file");
    std::fs::write(&home, "").expect("write a file");
    sandbox.set("HOME", &home.display().to_string());
    sandbox.unset("CRM_VEC_DATA_DIR");
    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("home-is-a-file"), "{}", run.stderr);
    assert_eq!(
        hint(&run),
        "the embedded index lives in CRM_VEC_DATA_DIR, by default under HOME: set \
         CRM_VEC_DATA_DIR (or --data-dir) to a directory this user can write"
    );
}
