//! One owner for an embedded index: a second process gets a clear error and the index stays
//! intact.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;

use support::harness::{to_run, Sandbox};
use support::odoo::{OdooStandIn, StandInConfig};

#[test]
fn second_process_is_rejected_while_rebuild_runs() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    // A slow Odoo keeps the next rebuild, and its lock, alive for several seconds.
    odoo.set_latency(Duration::from_millis(400), Duration::ZERO);
    // The rebuild may start while one of the searches below holds the lock, so it waits.
    let mut rebuild = sandbox
        .command(&["full-rebuild", "--json"])
        .env("CRM_VEC_LOCK_TIMEOUT", "10")
        .spawn()
        .unwrap();

    // Search until the rebuild has taken the lock; it holds it for several seconds.
    let deadline = Instant::now() + Duration::from_secs(20);
    let second = loop {
        let run = sandbox.run(&["search", "chairs", "--json"]);
        if run.code != 0 || rebuild.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break run;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second.stderr.contains("in use by another process"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("odoo_crm_leads"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("full-rebuild"),
        "holder not named: {}",
        second.stderr
    );

    let first = to_run(rebuild.wait_with_output().unwrap());
    assert_eq!(first.code, 0, "{}", first.stderr);
    odoo.set_latency(Duration::ZERO, Duration::ZERO);
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(39));
}
