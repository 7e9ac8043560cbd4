//! `sync-new`: the incremental scan, its checkpoint, prune and repair, and the status that
//! reports them.

mod support;

use std::time::Duration;

use crm_vec::index::embedded::EmbeddedStore;
use crm_vec::index::{IndexStore, VectorIndex};
use serde_json::{json, Map, Value};

use support::embed::{EmbedConfig, EmbedStandIn};
use support::harness::{hit_ids, Sandbox};
use support::odoo::{OdooStandIn, OdooVersion, RecordedRequest, StandInConfig};

const VOYAGE_KEY: &str = "test-voyage-key-xyz";

fn checkpoint(sandbox: &Sandbox) -> Value {
    sandbox.json(&["status", "--json"])["sync"]["checkpoint"].clone()
}

/// Reads the stored payload of lead `id` from the sandbox's embedded index.
fn stored_payload(sandbox: &Sandbox, id: u64) -> Map<String, Value> {
    let store = EmbeddedStore::open(
        &sandbox.data_dir(),
        "odoo_crm_leads",
        Duration::from_secs(10),
    )
    .expect("open the embedded index");
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async {
        let index = store.open_live().await.unwrap().expect("a live index");
        let points = index.retrieve(vec![id], false).await.unwrap();
        let point = points.into_iter().next();
        point
            .unwrap_or_else(|| panic!("lead {id} is not indexed"))
            .payload
    })
}

fn voyage_sandbox(odoo: &OdooStandIn, embed: &EmbedStandIn) -> Sandbox {
    let mut sandbox = Sandbox::for_odoo_on_backend(odoo);
    sandbox.use_voyage(embed, VOYAGE_KEY);
    sandbox
}

#[test]
fn sync_new_applies_exactly_the_changes() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.json(&["full-rebuild", "--json"]);
    embed.reset_counters();

    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    odoo.update_lead(
        13,
        json!({"description": "<p>Round tables for the canteen</p>"}),
    );
    odoo.update_lead(19, json!({"probability": 65.0}));
    odoo.archive_lead(24);
    odoo.delete_lead(25);
    let created_a = odoo.create_lead(json!({"name": "Standing desks for a startup"}));
    let created_b = odoo.create_lead(json!({"name": "Ergonomic chairs for a call centre"}));

    let first = sandbox.json(&["sync-new", "--json"]);
    // Six changed leads, plus the eight won and lost demo leads written at the checkpoint's
    // second, which the overlap window reads again.
    assert_eq!(first["fetched"], json!(6 + 8));
    assert_eq!(first["upserted"], json!(5));
    assert_eq!(
        first["embedded"],
        json!(4),
        "the probability change must not re-embed"
    );
    // Lead 24, archived now, and the five lost demo leads read again in the overlap.
    assert_eq!(first["skipped"], json!(1 + 5));
    assert_eq!(first["deleted"], json!(2));
    assert_eq!(first["pruned"], json!(1));
    assert_eq!(first["repaired"], json!(0));
    assert_eq!(first["failed"], json!(0));
    assert_eq!(embed.texts_embedded(), 4);

    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(39 - 2 + 2));
    let ids = hit_ids(&sandbox.json(&["search", "Standing desks startup", "--json"]));
    assert_eq!(ids.first(), Some(&created_a));
    let ids = hit_ids(&sandbox.json(&["search", "Ergonomic chairs call centre", "--json"]));
    assert_eq!(ids.first(), Some(&created_b));

    embed.reset_counters();
    let second = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(second["embedded"], json!(0));
    assert_eq!(second["upserted"], json!(0));
    assert_eq!(second["deleted"], json!(0));
    assert_eq!(embed.request_count(), 0);
}

#[test]
fn sync_new_json_has_checkpoint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.set_clock("2026-12-04 10:00:00");
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));

    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(
        report["checkpoint"],
        json!({"write_date": "2026-12-04 10:00:00", "id": 3})
    );
    for key in [
        "fetched",
        "upserted",
        "embedded",
        "reused",
        "skipped",
        "deleted",
        "failed",
        "duration_ms",
        "pruned",
        "repaired",
    ] {
        assert!(report[key].is_u64(), "missing integer {key}: {report}");
    }
    assert_eq!(checkpoint(&sandbox), report["checkpoint"]);
}

#[test]
fn rebuild_sets_checkpoint_to_newest_write() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    // The demo data's won and lost leads were written last, at the reference time.
    let newest = checkpoint(&sandbox);
    assert_eq!(newest["write_date"], json!("2026-11-02 09:00:00"));
    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(report["upserted"], json!(0));
}

#[test]
fn far_future_write_date_leaves_checkpoint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    odoo.set_write_date(5, "9999-12-31 23:59:59");
    sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(
        checkpoint(&sandbox)["write_date"],
        json!("2026-11-02 09:00:00")
    );

    odoo.set_clock("2026-12-04 10:00:00");
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(
        report["checkpoint"],
        json!({"write_date": "2026-12-04 10:00:00", "id": 3})
    );
}

#[test]
fn shared_write_date_is_read_in_full() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_PAGE_SIZE", "100");
    sandbox.json(&["full-rebuild", "--json"]);

    // One bulk import: every row of the transaction gets the same write_date, with
    // microseconds that RPC does not show.
    odoo.set_clock("2026-12-04 11:00:00");
    let mut import = odoo.begin_transaction();
    for n in 0..1000 {
        import.create_lead(json!({"name": format!("Imported lead number {n}")}));
    }
    import.commit();
    let report = sandbox.json(&["sync-new", "--overlap", "0", "--json"]);
    // The import, and the eight demo leads of the checkpoint's own second, read again.
    assert_eq!(report["fetched"], json!(1000 + 8));
    assert_eq!(report["upserted"], json!(1000));
    assert_eq!(
        report["checkpoint"],
        json!({"write_date": "2026-12-04 11:00:00", "id": 1044})
    );
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(1039));
    assert_eq!(status["sync"]["backlog"], json!(0));
}

#[test]
fn bulk_rewrite_in_one_transaction_is_synced() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.set("CRM_VEC_PAGE_SIZE", "100");
    odoo.set_clock("2026-12-04 10:00:00");
    let mut import = odoo.begin_transaction();
    let ids: Vec<u64> = (0..1000)
        .map(|n| import.create_lead(json!({"name": format!("Imported lead number {n}")})))
        .collect();
    import.commit();
    sandbox.json(&["full-rebuild", "--json"]);

    // One transaction renames all 1,000 leads at 11:00:00 and some microseconds, so none of
    // them has a write_date equal to the second RPC shows.
    odoo.set_clock("2026-12-04 11:00:00");
    let mut rename = odoo.begin_transaction();
    for id in &ids {
        rename.update_lead(*id, json!({"name": format!("Renamed walrus lead {id}")}));
    }
    rename.commit();
    embed.reset_counters();
    let bulk = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(bulk["fetched"], json!(1000));
    assert_eq!(bulk["upserted"], json!(1000));
    assert_eq!(bulk["embedded"], json!(1000));
    assert_eq!(
        bulk["checkpoint"],
        json!({"write_date": "2026-12-04 11:00:00", "id": 1044})
    );
    let hits = sandbox.json(&["search", "Renamed walrus lead 250", "--json"]);
    assert_eq!(hits["hits"][0]["name"], json!("Renamed walrus lead 250"));

    odoo.set_clock("2026-12-04 11:05:00");
    odoo.update_lead(999, json!({"name": "Edited walrus lead after the import"}));
    let edit = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(edit["upserted"], json!(1));
    assert_eq!(edit["embedded"], json!(1));
    let hits = sandbox.json(&["search", "Edited walrus lead after the import", "--json"]);
    assert_eq!(hits["hits"][0]["id"], json!(999));

    embed.reset_counters();
    let quiet = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(quiet["embedded"], json!(0));
    assert_eq!(quiet["upserted"], json!(0));
    assert_eq!(embed.request_count(), 0);
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["sync"]["backlog"], json!(0));
}

#[test]
fn edit_behind_scan_is_synced_next() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_PAGE_SIZE", "100");
    sandbox.set("CRM_VEC_MESSAGES", "0");
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.set_clock("2026-12-04 10:00:00");
    let mut import = odoo.begin_transaction();
    for n in 0..150 {
        import.create_lead(json!({"name": format!("Imported lead number {n}")}));
    }
    import.commit();
    sandbox.json(&["sync-new", "--json"]);

    // While the run reads its first page (leads 45 to 144), lead 50 is edited, and ten
    // minutes later a new lead is created, which the second page reads.
    odoo.clear_requests();
    odoo.set_latency(Duration::from_millis(300), Duration::ZERO);
    let report = std::thread::scope(|scope| {
        let run = scope.spawn(|| sandbox.json(&["sync-new", "--json"]));
        let first_page = |request: &RecordedRequest| {
            request.model.as_deref() == Some("crm.lead") && request.body.contains("\"id asc\"")
        };
        while !odoo.requests().iter().any(first_page) {
            std::thread::sleep(Duration::from_millis(5));
        }
        odoo.update_lead(50, json!({"name": "Walrus edited behind the scan"}));
        odoo.advance_clock(Duration::from_secs(600));
        odoo.create_lead(json!({"name": "Created during the scan"}));
        run.join().expect("the sync-new run")
    });
    odoo.set_latency(Duration::ZERO, Duration::ZERO);
    assert_eq!(report["fetched"], json!(151));
    let hits = hit_ids(&sandbox.json(&["search", "Walrus edited behind the scan", "--json"]));
    assert_ne!(hits.first(), Some(&50));

    let next = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(next["upserted"], json!(1));
    let hits = hit_ids(&sandbox.json(&["search", "Walrus edited behind the scan", "--json"]));
    assert_eq!(hits.first(), Some(&50));
}

#[test]
fn late_commit_inside_overlap_is_synced() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    // A transaction starts at 12:00:05 and commits only after a run has read a newer change.
    odoo.set_clock("2026-12-04 12:00:05");
    let mut late = odoo.begin_transaction();
    late.update_lead(13, json!({"name": "Quote for 14 Tables"}));
    odoo.set_clock("2026-12-04 12:00:10");
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    sandbox.json(&["sync-new", "--json"]);
    assert_eq!(
        checkpoint(&sandbox)["write_date"],
        json!("2026-12-04 12:00:10")
    );

    late.commit();
    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(report["upserted"], json!(1));
    let hits = sandbox.json(&["search", "Quote for 14 Tables", "--json"]);
    assert_eq!(hits["hits"][0]["name"], json!("Quote for 14 Tables"));
}

#[test]
fn late_commit_outside_overlap_needs_since() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.set_clock("2026-12-04 11:00:00");
    let mut late = odoo.begin_transaction();
    late.update_lead(13, json!({"name": "Quote for 14 Tables"}));
    odoo.set_clock("2026-12-04 12:00:10");
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    sandbox.json(&["sync-new", "--json"]);

    late.commit();
    let missed = sandbox.json(&["sync-new", "--overlap", "60", "--json"]);
    assert_eq!(missed["upserted"], json!(0));
    let caught = sandbox.json(&["sync-new", "--since", "2026-12-04 11:00:00", "--json"]);
    assert_eq!(caught["upserted"], json!(1));
}

#[test]
fn failed_odoo_page_keeps_checkpoint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_PAGE_SIZE", "100");
    // Without chatter, every call of the run below is a lead read after the first five.
    sandbox.set("CRM_VEC_MESSAGES", "0");
    sandbox.json(&["full-rebuild", "--json"]);
    for n in 0..300 {
        odoo.create_lead(json!({"name": format!("Imported lead number {n}")}));
    }
    let before = checkpoint(&sandbox);

    // Connecting (three calls), reading the tags (two), the lead fields and the newest write
    // take seven calls; Odoo fails after the first two pages.
    odoo.fail_after(9, 502);
    let run = sandbox.run(&["sync-new", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("could not read page 3 of changed leads"),
        "{}",
        run.stderr
    );
    odoo.clear_faults();
    assert_eq!(checkpoint(&sandbox), before);
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["sync"]["last_sync_new"]["ok"], json!(false));

    let retry = sandbox.json(&["sync-new", "--json"]);
    // The 300 new leads and the 8 demo leads inside the overlap window.
    assert_eq!(retry["fetched"], json!(308));
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(339));
    assert_eq!(status["sync"]["backlog"], json!(0));
}

#[test]
fn failed_embedding_keeps_checkpoint() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.json(&["full-rebuild", "--json"]);
    let before = checkpoint(&sandbox);
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));

    embed.fail_next(1000, 500, None);
    let run = sandbox.run(&["sync-new", "--json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(checkpoint(&sandbox), before);

    embed.fail_next(0, 500, None);
    embed.reset_counters();
    let retry = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(retry["embedded"], json!(1));
    assert_eq!(embed.texts_embedded(), 1);
}

#[test]
fn missing_point_is_repaired() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    sandbox.json(&["delete", "14", "--json"]);

    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(report["repaired"], json!(1));
    assert_eq!(report["pruned"], json!(0));
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(39));
}

#[test]
fn orphaned_point_is_pruned() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.delete_lead(20);

    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(report["pruned"], json!(1));
    assert_eq!(report["deleted"], json!(1));
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(38));
}

#[test]
fn odoo_listing_no_leads_prunes_nothing() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    // Record rules that hide every lead from the user look, over RPC, like an empty CRM.
    for id in odoo.lead_ids() {
        odoo.set_hidden(id, true);
    }

    let run = sandbox.run(&["sync-new", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("nothing was pruned"), "{}", run.stderr);
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(39));
}

#[test]
fn no_prune_skips_comparison() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.delete_lead(20);
    let report = sandbox.json(&["sync-new", "--no-prune", "--json"]);
    assert_eq!(report["pruned"], json!(0));
    assert_eq!(odoo.count_calls("crm.lead", "search"), 0);
}

#[test]
fn unarchived_lead_comes_back() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.unarchive_lead(7);
    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(report["upserted"], json!(1));
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(40));
}

#[test]
fn refresh_payload_updates_silent_changes() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    // On the embedded index, whose payloads the test reads back.
    let mut sandbox = Sandbox::for_odoo(&odoo);
    sandbox.use_voyage(&embed, VOYAGE_KEY);
    sandbox.json(&["full-rebuild", "--json"]);
    embed.reset_counters();

    // The lead-scoring cron rewrites probability with raw SQL: no write_date change.
    odoo.set_field_silently(14, "probability", json!(42.0));
    let plain = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(plain["upserted"], json!(0));
    assert_eq!(stored_payload(&sandbox, 14)["probability"], json!(10.0));
    let refreshed = sandbox.json(&["sync-new", "--refresh-payload", "--json"]);
    assert_eq!(refreshed["refreshed"], json!(1));
    assert_eq!(refreshed["embedded"], json!(0));
    assert_eq!(embed.request_count(), 0);
    assert_eq!(stored_payload(&sandbox, 14)["probability"], json!(42.0));
}

#[test]
fn sync_new_on_odoo19_uses_json2() {
    let odoo = OdooStandIn::start(StandInConfig {
        version: OdooVersion::V19,
        ..StandInConfig::default()
    });
    let mut sandbox = Sandbox::on_backend();
    sandbox.use_odoo(&odoo, &odoo.config().api_key);
    sandbox.json(&["full-rebuild", "--json"]);

    odoo.set_clock("2026-12-04 10:00:00");
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    odoo.archive_lead(24);
    odoo.delete_lead(25);
    odoo.clear_requests();
    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(report["upserted"], json!(1));
    assert_eq!(report["deleted"], json!(2));
    assert_eq!(report["pruned"], json!(1));
    assert_eq!(
        report["checkpoint"],
        json!({"write_date": "2026-12-04 10:00:00", "id": 24})
    );
    let jsonrpc_calls = odoo
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/jsonrpc"))
        .count();
    assert_eq!(jsonrpc_calls, 0);

    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["odoo"]["protocol"], json!("json2"));
    assert_eq!(status["index"]["points"], json!(37));
    assert_eq!(status["sync"]["backlog"], json!(0));
}

#[test]
fn archived_lead_stays_under_keep() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_ARCHIVED", "keep");
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.archive_lead(3);
    odoo.delete_lead(25);

    let report = sandbox.json(&["sync-new", "--json"]);
    // The archived lead keeps its point, whose payload now marks it as archived.
    assert_eq!(report["upserted"], json!(1));
    assert_eq!(report["skipped"], json!(0));
    assert_eq!(report["pruned"], json!(1));
    assert_eq!(report["deleted"], json!(1));
    let hits = sandbox.json(&[
        "search",
        "Pricing for 25 desks",
        "--include-archived",
        "--json",
    ]);
    assert_eq!(hits["hits"][0]["id"], json!(3));
    assert_eq!(hits["hits"][0]["active"], json!(false));
    let status = sandbox.json(&["status", "--deep", "--json"]);
    assert_eq!(status["index"]["points"], json!(43));
    assert_eq!(status["sync"]["missing"], json!(0));
    assert_eq!(status["sync"]["orphaned"], json!(0));
}

#[test]
fn status_reports_embedding_mismatch() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let sandbox = voyage_sandbox(&odoo, &embed);
    sandbox.json(&["full-rebuild", "--json"]);
    let matching = sandbox.run(&["status", "--check"]);
    assert_eq!(matching.code, 0, "{}", matching.stderr);

    let mut wider = sandbox;
    wider.set("VOYAGE_DIMENSION", "512");
    let status = wider.json(&["status", "--json"]);
    let mismatch = status["embedding"]["mismatch"].as_str().unwrap_or_default();
    assert!(
        mismatch.contains("(dimension 256), but the configured model is"),
        "{mismatch}"
    );
    assert!(mismatch.contains("(dimension 512)"), "{mismatch}");
    assert!(
        mismatch.ends_with("run `crm-vec full-rebuild`"),
        "{mismatch}"
    );
    assert_eq!(status["problems"], json!([mismatch]));
    let check = wider.run(&["status", "--check"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(check.stderr.contains(mismatch), "{}", check.stderr);
}

#[test]
fn dry_run_writes_nothing() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    let before = checkpoint(&sandbox);
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    odoo.delete_lead(20);

    let report = sandbox.json(&["sync-new", "--dry-run", "--json"]);
    assert_eq!(report["dry_run"], json!(true));
    assert_eq!(report["upserted"], json!(1));
    assert_eq!(report["pruned"], json!(1));
    assert_eq!(checkpoint(&sandbox), before);
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(39));
    let real = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(real["upserted"], json!(1));
    assert_eq!(real.get("changes"), None);
}

#[test]
fn dry_run_lists_changes_by_action() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    odoo.update_lead(19, json!({"probability": 65.0}));
    odoo.archive_lead(24);
    odoo.delete_lead(25);
    sandbox.json(&["delete", "14", "--json"]);

    let report = sandbox.json(&["sync-new", "--dry-run", "--json"]);
    let changes = &report["changes"];
    assert_eq!(changes["embed"], json!([3]));
    assert_eq!(changes["payload_update"], json!([19]));
    assert_eq!(changes["remove"], json!([24]));
    assert_eq!(changes["prune"], json!([25]));
    assert_eq!(changes["repair"], json!([14]));
    assert_eq!(changes["refresh"], json!([]));

    let text = sandbox.run(&["sync-new", "--dry-run"]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert_eq!(
        text.stdout,
        "would embed and write 1 lead: 3\n\
         would update the payload of 1 lead: 19\n\
         would remove 1 archived lead: 24\n\
         would prune 1 point whose lead is gone: 25\n\
         would repair 1 lead missing from the index: 14\n"
    );

    // The real run does what the dry run listed, with the same counts.
    let real = sandbox.json(&["sync-new", "--json"]);
    for key in [
        "fetched", "upserted", "skipped", "deleted", "pruned", "repaired",
    ] {
        assert_eq!(real[key], report[key], "{key}");
    }
}

#[test]
fn dry_run_counts_each_lead_once() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);

    // No index yet: every lead is new, and the scan, the chatter pass and the repair pass
    // would each find it.
    let dry = sandbox.json(&["sync-new", "--dry-run", "--json"]);
    assert_eq!(dry["fetched"], json!(44));
    assert_eq!(dry["upserted"], json!(39));
    assert_eq!(dry["skipped"], json!(5));
    assert_eq!(dry["repaired"], json!(0));
    assert_eq!(dry["changes"]["embed"].as_array().map(Vec::len), Some(39));
    let status = sandbox.json(&["status", "--json"]);
    let problems = status["problems"].to_string();
    assert!(
        problems.contains("no index has been built yet"),
        "{problems}"
    );

    let real = sandbox.json(&["sync-new", "--json"]);
    for key in [
        "fetched", "upserted", "skipped", "deleted", "pruned", "repaired",
    ] {
        assert_eq!(real[key], dry[key], "{key}");
    }
}

#[test]
fn first_run_skips_message_history() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(report["upserted"], json!(39));

    // Without a checkpoint the scan reads every lead with its messages, so the list of leads
    // with new messages, which would span every message since 1970, is not requested.
    let history = odoo.requests().into_iter().filter(|request| {
        request.model.as_deref() == Some("mail.message") && request.body.contains("create_date")
    });
    assert_eq!(history.count(), 0);
}

#[test]
fn since_rejects_bad_times() {
    let sandbox = Sandbox::on_backend();
    for bad in [
        "yesterday",
        "2026-12-04",
        "2026-12-04T10:00:00Z",
        "2026-13-01 00:00:00",
        "2026-02-30 00:00:00",
    ] {
        let run = sandbox.run(&["sync-new", "--since", bad]);
        assert_eq!(run.code, 2, "--since {bad}: {}", run.stderr);
    }
}

#[test]
fn status_reports_backlog_and_drift() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let current = sandbox.json(&["status", "--deep", "--json"]);
    assert_eq!(current["sync"]["backlog"], json!(0));
    assert_eq!(current["sync"]["backlog_age_s"], Value::Null);
    assert_eq!(current["sync"]["missing"], json!(0));
    assert_eq!(current["sync"]["orphaned"], json!(0));
    let shallow = sandbox.json(&["status", "--json"]);
    assert_eq!(shallow["sync"]["missing"], Value::Null);
    assert_eq!(shallow["sync"]["orphaned"], Value::Null);
    assert!(shallow["sync"]["last_full_rebuild"]["ok"]
        .as_bool()
        .unwrap());
    assert_eq!(
        shallow["sync"]["last_full_rebuild"]["summary"]["upserted"],
        json!(39)
    );

    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    odoo.delete_lead(20);
    sandbox.json(&["delete", "14", "--json"]);
    let drifted = sandbox.json(&["status", "--deep", "--json"]);
    assert_eq!(drifted["sync"]["backlog"], json!(1));
    assert!(drifted["sync"]["backlog_age_s"].is_u64());
    assert_eq!(drifted["sync"]["missing"], json!(1));
    assert_eq!(drifted["sync"]["orphaned"], json!(1));

    sandbox.json(&["sync-new", "--json"]);
    let repaired = sandbox.json(&["status", "--deep", "--json"]);
    assert_eq!(repaired["sync"]["backlog"], json!(0));
    assert_eq!(repaired["sync"]["missing"], json!(0));
    assert_eq!(repaired["sync"]["orphaned"], json!(0));
    assert!(repaired["sync"]["last_sync_new"]["ok"].as_bool().unwrap());
}

#[test]
fn archived_leads_are_not_drift() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    let status = sandbox.json(&["status", "--deep", "--json"]);
    assert_eq!(status["odoo"]["leads_archived"], json!(5));
    assert_eq!(status["sync"]["missing"], json!(0));
    assert_eq!(status["sync"]["orphaned"], json!(0));
}

#[test]
fn status_check_exit_codes() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    let unbuilt = sandbox.run(&["status", "--check"]);
    assert_eq!(unbuilt.code, 1, "{}", unbuilt.stderr);
    assert!(
        !unbuilt.stderr.contains("unsynced change"),
        "{}",
        unbuilt.stderr
    );

    sandbox.json(&["full-rebuild", "--json"]);
    let current = sandbox.run(&["status", "--check", "--deep"]);
    assert_eq!(current.code, 0, "{}", current.stderr);

    // A change made on a past day and never synced.
    odoo.set_clock("2026-12-04 08:00:00");
    odoo.update_lead(3, json!({"name": "Pricing for 30 desks"}));
    let fresh_enough = sandbox.run(&["status", "--check", "--max-lag", "525600"]);
    assert_eq!(fresh_enough.code, 0, "{}", fresh_enough.stderr);
    let lagging = sandbox.run(&["status", "--check"]);
    assert_eq!(lagging.code, 1, "{}", lagging.stderr);
    assert!(
        lagging
            .stderr
            .starts_with("error: the oldest unsynced change is "),
        "{}",
        lagging.stderr
    );
    assert!(
        lagging
            .stderr
            .contains("more than the 1800 s allowed; run `crm-vec sync-new`"),
        "{}",
        lagging.stderr
    );

    sandbox.json(&["sync-new", "--json"]);
    sandbox.json(&["delete", "14", "--json"]);
    let drifted = sandbox.run(&["status", "--check", "--deep"]);
    assert_eq!(drifted.code, 1, "{}", drifted.stderr);
}

#[test]
fn status_check_names_why_odoo_failed() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    sandbox.use_odoo(&odoo, "not-the-password");
    let run = sandbox.run(&["status", "--check"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "could not use Odoo: login failed for user 'admin' on database 'crm': \
             wrong username or password"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn status_table_has_no_empty_header() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    let run = sandbox.run(&["status"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("| Odoo URL "), "{}", run.stdout);
}

#[test]
fn cron_output_is_quiet() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    let rebuild = sandbox.run(&["full-rebuild"]);
    assert_eq!(rebuild.code, 0, "{}", rebuild.stderr);
    assert!(
        !rebuild.stderr.contains('\r'),
        "progress bar drawn: {:?}",
        rebuild.stderr
    );
    assert!(
        !rebuild.stderr.contains('\u{1b}'),
        "escape sequence: {:?}",
        rebuild.stderr
    );

    let quiet = sandbox.run(&["sync-new", "--quiet"]);
    assert_eq!(quiet.code, 0);
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout, "");

    odoo.set_down(true);
    let failed = sandbox.run(&["sync-new", "--quiet"]);
    assert_eq!(failed.code, 1);
    assert!(failed.stderr.contains("error:"), "{}", failed.stderr);
}
