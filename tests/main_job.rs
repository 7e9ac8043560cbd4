//! The main job end to end: `full-rebuild`, `search`, `status`, `sync-record` and `delete`
//! against the Odoo and embedding stand-ins, on the embedded index.

mod support;

use serde_json::{json, Value};

use support::embed::{EmbedConfig, EmbedStandIn};
use support::harness::{hit_ids, Sandbox};
use support::odoo::{OdooStandIn, OdooVersion, StandInConfig};

/// Demo leads with "chair" in their name.
const CHAIR_LEADS: [u64; 5] = [4, 5, 22, 32, 38];
/// Demo leads that are lost, hence archived.
const LOST_LEADS: [u64; 5] = [7, 9, 11, 12, 28];

fn odoo(version: OdooVersion) -> OdooStandIn {
    OdooStandIn::start(StandInConfig {
        version,
        ..StandInConfig::default()
    })
}

fn sorted(mut ids: Vec<u64>) -> Vec<u64> {
    ids.sort_unstable();
    ids
}

#[test]
fn rebuild_indexes_active_demo_leads() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);

    let summary = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(summary["fetched"], json!(44));
    assert_eq!(summary["upserted"], json!(39));
    assert_eq!(summary["skipped"], json!(5));
    assert_eq!(summary["embedded"], json!(0));
    assert_eq!(summary["failed"], json!(0));

    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(39));
    assert_eq!(
        status["index"]["backend"],
        json!(Sandbox::expected_backend())
    );
    assert_eq!(status["index"]["model"], Value::Null);
    assert_eq!(status["odoo"]["leads_active"], json!(39));
    assert_eq!(status["odoo"]["leads_archived"], json!(5));
    assert_eq!(status["odoo"]["protocol"], json!("jsonrpc"));
}

#[test]
fn lost_leads_are_absent() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let search = sandbox.json(&[
        "search",
        "Gardner Desks Replacement Reseller Office furnitures Estimation Quotation 100 Desks Furnish 60m² office",
        "--include-archived",
        "--limit",
        "100",
        "--json",
    ]);
    let ids = hit_ids(&search);
    for lost in LOST_LEADS {
        assert!(!ids.contains(&lost), "lost lead {lost} is in the index");
    }
}

#[test]
fn keyword_search_finds_chairs_first() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let search = sandbox.json(&["search", "chairs", "--json"]);
    assert_eq!(search["query"], json!("chairs"));
    let ids = hit_ids(&search);
    assert!(ids.len() >= 5, "fewer than five hits: {search}");
    assert_eq!(sorted(ids[..5].to_vec()), CHAIR_LEADS.to_vec());
}

#[test]
fn search_filters_by_stage() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let search = sandbox.json(&["search", "contract", "--stage", "Won", "--json"]);
    let hits = search["hits"].as_array().unwrap();
    assert!(hits
        .iter()
        .any(|hit| hit["name"] == json!("Distributor Contract")));
    for hit in hits {
        assert_eq!(hit["stage"], json!("Won"), "hit outside Won: {hit}");
    }
}

#[test]
fn search_filters_by_min_revenue() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let search = sandbox.json(&[
        "search",
        "office desks offices",
        "--min-revenue",
        "50000",
        "--limit",
        "50",
        "--json",
    ]);
    let hits = search["hits"].as_array().unwrap();
    assert!(!hits.is_empty(), "no hits at or above 50000");
    for hit in hits {
        let revenue = hit["expected_revenue"].as_f64().unwrap();
        assert!(revenue >= 50000.0, "hit below the minimum: {hit}");
    }
}

#[test]
fn unreadable_lead_fields_fail_the_rebuild() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);
    odoo.restrict_field("crm.lead", "name");
    odoo.restrict_field("crm.lead", "active");

    let run = sandbox.run(&["full-rebuild"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("Odoo's crm.lead has no field name, active for this user"),
        "{}",
        run.stderr
    );
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(39));
}

#[test]
fn crossed_revenue_bounds_exit_two() {
    let sandbox = Sandbox::on_backend();
    let run = sandbox.run(&[
        "search",
        "desks",
        "--min-revenue",
        "10",
        "--max-revenue",
        "5",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "invalid value for --min-revenue: 10 is above --max-revenue 5, so no lead could match"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn search_table_is_plain_when_piped() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let run = sandbox.run(&["search", "chairs"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let header = run.stdout.lines().next().unwrap_or_default();
    for column in ["id", "name", "customer", "stage", "revenue", "score"] {
        assert!(header.contains(column), "missing column {column}: {header}");
    }
    assert!(
        !run.stdout.contains('\u{1b}'),
        "escape sequence in piped output"
    );
}

#[test]
fn empty_search_exits_zero() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let search = sandbox.json(&["search", "zzzzqqqq", "--json"]);
    assert_eq!(search["hits"], json!([]));
}

#[test]
fn voyage_rebuild_reuses_unchanged_vectors() {
    let odoo = odoo(OdooVersion::V17);
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.use_voyage(&embed, "test-voyage-key-xyz");

    let first = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(first["embedded"], json!(39));
    assert_eq!(first["reused"], json!(0));
    assert_eq!(embed.texts_embedded(), 39);

    embed.reset_counters();
    let second = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(second["embedded"], json!(0));
    assert_eq!(second["reused"], json!(39));
    assert_eq!(second["upserted"], json!(39));
    assert_eq!(embed.request_count(), 0);

    odoo.update_lead(14, json!({"name": "Office Design Project, phase two"}));
    let third = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(third["embedded"], json!(1));
    assert_eq!(third["reused"], json!(38));
    assert_eq!(embed.texts_embedded(), 1);

    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["model"], json!("voyage-4-lite"));
    assert_eq!(status["index"]["dimension"], json!(256));
}

#[test]
fn voyage_documents_and_queries_use_input_types() {
    let odoo = odoo(OdooVersion::V17);
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.use_voyage(&embed, "test-voyage-key-xyz");
    sandbox.json(&["full-rebuild", "--json"]);
    let search = sandbox.json(&["search", "chairs", "--json"]);
    assert!(!hit_ids(&search).is_empty());

    let types = embed.input_types();
    assert_eq!(types.last().cloned().flatten().as_deref(), Some("query"));
    assert!(types[..types.len() - 1]
        .iter()
        .all(|t| t.as_deref() == Some("document")));
}

#[test]
fn odoo19_with_api_key_uses_json2_only() {
    let odoo = odoo(OdooVersion::V19);
    let mut sandbox = Sandbox::on_backend();
    sandbox.use_odoo(&odoo, &odoo.config().api_key);

    let summary = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(summary["fetched"], json!(44));
    assert_eq!(summary["upserted"], json!(39));
    let jsonrpc_calls = odoo
        .requests()
        .iter()
        .filter(|request| request.path.starts_with("/jsonrpc"))
        .count();
    assert_eq!(jsonrpc_calls, 0);

    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["odoo"]["protocol"], json!("json2"));
    assert_eq!(status["odoo"]["version"], json!("19.0"));
    assert_eq!(status["index"]["points"], json!(39));
}

#[test]
fn odoo19_requests_only_existing_fields() {
    let odoo19 = odoo(OdooVersion::V19);
    let mut sandbox = Sandbox::on_backend();
    sandbox.use_odoo(&odoo19, &odoo19.config().api_key);
    sandbox.json(&["full-rebuild", "--json"]);
    for request in odoo19.requests() {
        assert!(
            !request.body.contains("\"mobile\""),
            "19.0 got mobile: {}",
            request.body
        );
        assert!(
            !request.body.contains("\"title\""),
            "19.0 got title: {}",
            request.body
        );
    }

    let odoo17 = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo17);
    sandbox.json(&["full-rebuild", "--json"]);
    for request in odoo17.requests() {
        assert!(
            !request.body.contains("won_status"),
            "17.0 got won_status: {}",
            request.body
        );
    }
}

#[test]
fn odoo17_and_19_index_the_same_text() {
    let queries = [
        "chairs",
        "desks",
        "software design",
        "contract",
        "open space",
    ];
    let results = |sandbox: &Sandbox| -> Vec<Vec<u64>> {
        queries
            .iter()
            .map(|query| hit_ids(&sandbox.json(&["search", query, "--limit", "50", "--json"])))
            .collect()
    };

    let odoo17 = odoo(OdooVersion::V17);
    let sandbox17 = Sandbox::for_odoo_on_backend(&odoo17);
    sandbox17.json(&["full-rebuild", "--json"]);

    let odoo19 = odoo(OdooVersion::V19);
    let mut sandbox19 = Sandbox::on_backend();
    sandbox19.use_odoo(&odoo19, &odoo19.config().api_key);
    sandbox19.json(&["full-rebuild", "--json"]);

    assert_eq!(results(&sandbox17), results(&sandbox19));
}

#[test]
fn odoo19_with_password_falls_back_once() {
    let odoo = odoo(OdooVersion::V19);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);

    let run = sandbox.run(&["full-rebuild", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["upserted"], json!(39));
    assert_eq!(run.stderr.matches("deprecat").count(), 1, "{}", run.stderr);
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["odoo"]["protocol"], json!("jsonrpc"));
}

#[test]
fn sync_record_updates_payload() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    odoo.update_lead(20, json!({"expected_revenue": 123456.0}));
    let summary = sandbox.json(&["sync-record", "20", "--json"]);
    assert_eq!(summary["fetched"], json!(1));
    assert_eq!(summary["upserted"], json!(1));
    assert_eq!(summary["records"], json!([{"id": 20, "status": "synced"}]));

    let search = sandbox.json(&["search", "Distributor Contract", "--json"]);
    let hit = &search["hits"][0];
    assert_eq!(hit["id"], json!(20));
    assert_eq!(hit["expected_revenue"], json!(123456.0));
}

#[test]
fn sync_record_of_unchanged_lead_writes_nothing() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let summary = sandbox.json(&["sync-record", "20", "--json"]);
    assert_eq!(summary["upserted"], json!(0));
    assert_eq!(
        summary["records"],
        json!([{"id": 20, "status": "unchanged"}])
    );
}

#[test]
fn sync_record_removes_archived_and_unknown() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    odoo.archive_lead(20);
    let summary = sandbox.json(&["sync-record", "20", "999999", "--json"]);
    assert_eq!(summary["deleted"], json!(1));
    assert_eq!(
        summary["records"],
        json!([{"id": 20, "status": "archived"}, {"id": 999999, "status": "not_found"}])
    );
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(38));

    let run = sandbox.run(&["sync-record", "20"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("20\tarchived in Odoo"),
        "{}",
        run.stdout
    );
}

#[test]
fn sync_record_of_deleted_lead_removes_point() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    odoo.delete_lead(14);
    let summary = sandbox.json(&["sync-record", "14", "--json"]);
    assert_eq!(summary["deleted"], json!(1));
    assert_eq!(
        summary["records"],
        json!([{"id": 14, "status": "not_found"}])
    );
}

#[test]
fn delete_removes_points() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let summary = sandbox.json(&["delete", "4", "5", "7", "--json"]);
    assert_eq!(summary["deleted"], json!(2));
    assert_eq!(
        summary["records"],
        json!([
            {"id": 4, "status": "deleted"},
            {"id": 5, "status": "deleted"},
            {"id": 7, "status": "absent"}
        ])
    );
    let status = sandbox.json(&["status", "--json"]);
    assert_eq!(status["index"]["points"], json!(37));
    let search = sandbox.json(&["search", "chairs", "--json"]);
    let ids = hit_ids(&search);
    assert!(!ids.contains(&4));
    assert!(!ids.contains(&5));
}

#[test]
fn delete_rejects_bad_ids() {
    let sandbox = Sandbox::on_backend();
    for bad in ["0", "-1", "abc", "1.5", "99999999999999999999999"] {
        let run = sandbox.run(&["delete", bad]);
        assert_eq!(run.code, 2, "id {bad}: {}", run.stderr);
        assert!(run.stderr.contains("error:"), "id {bad}: {}", run.stderr);
    }
}

#[test]
fn archived_leads_kept_with_keep_policy() {
    let odoo = odoo(OdooVersion::V17);
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_ARCHIVED", "keep");
    let summary = sandbox.json(&["full-rebuild", "--json"]);
    assert_eq!(summary["upserted"], json!(44));
    assert_eq!(summary["skipped"], json!(0));

    let hidden = hit_ids(&sandbox.json(&["search", "Gardner Desks Replacement", "--json"]));
    assert!(!hidden.contains(&7));
    let shown = sandbox.json(&[
        "search",
        "Gardner Desks Replacement",
        "--include-archived",
        "--json",
    ]);
    assert_eq!(shown["hits"][0]["id"], json!(7));
    assert_eq!(shown["hits"][0]["active"], json!(false));
}

#[test]
fn stage_filter_ignores_letter_case() {
    let odoo = odoo(OdooVersion::V17);
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let search = sandbox.json(&["search", "contract", "--stage", "won", "--json"]);
    let hits = search["hits"].as_array().unwrap();
    assert!(hits
        .iter()
        .any(|hit| hit["name"] == json!("Distributor Contract")));
    for hit in hits {
        assert_eq!(hit["stage"], json!("Won"), "hit outside Won: {hit}");
    }

    let unknown = sandbox.run(&["search", "contract", "--stage", "Wonn"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains(
            "error: invalid value for --stage: no stage named 'Wonn' in the index; stages: \
             New, Proposition, Qualified, Won"
        ),
        "{}",
        unknown.stderr
    );
}

#[test]
fn failed_rebuild_is_recorded() {
    let odoo = odoo(OdooVersion::V17);
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_PAGE_SIZE", "10");
    sandbox.set("CRM_VEC_MESSAGES", "0");
    sandbox.json(&["full-rebuild", "--json"]);
    let before = sandbox.json(&["status", "--json"]);
    assert_eq!(before["sync"]["last_full_rebuild"]["ok"], json!(true));

    // Odoo fails while the second rebuild reads its pages of leads.
    odoo.fail_after(9, 502);
    let failed = sandbox.run(&["full-rebuild", "--json"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    odoo.clear_faults();

    let status = sandbox.json(&["status", "--json"]);
    let last = &status["sync"]["last_full_rebuild"];
    assert_eq!(last["ok"], json!(false));
    let error = last["summary"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("could not read page"), "{last}");
    assert!(last["summary"]["fetched"].is_u64(), "{last}");
    assert_eq!(status["sync"]["checkpoint"], before["sync"]["checkpoint"]);
    assert_eq!(status["index"]["points"], json!(39));
}
