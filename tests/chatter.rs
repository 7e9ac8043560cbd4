//! The lead's chatter in its document: messages read per page, appended to the text, found by
//! search, and re-synced by `sync-new` when a new one is posted.

mod support;

use serde_json::json;

use support::embed::{EmbedConfig, EmbedStandIn};
use support::harness::{hit_ids, Sandbox};
use support::odoo::{OdooStandIn, StandInConfig};

/// "Info about services": its text mentions the backups only in its chatter.
const SERVICES_LEAD: u64 = 15;

#[test]
fn chatter_text_is_searchable() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.json(&["full-rebuild", "--json"]);

    let search = sandbox.json(&["search", "weekly backups every Monday", "--json"]);
    assert_eq!(search["hits"][0]["id"], json!(SERVICES_LEAD));
    assert_eq!(search["hits"][0]["name"], json!("Info about services"));
    // Message 8 opens with "Thanks for the information!", and its list has the backups line.
    assert_eq!(
        search["hits"][0]["snippet"],
        json!("weekly backups, every Monday")
    );
}

#[test]
fn chatter_off_leaves_it_out() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_MESSAGES", "0");
    sandbox.json(&["full-rebuild", "--json"]);

    let search = sandbox.json(&["search", "weekly backups every Monday", "--json"]);
    assert!(!hit_ids(&search).contains(&SERVICES_LEAD), "{search}");
    assert_eq!(odoo.count_calls("mail.message", "search_read"), 0);
}

#[test]
fn rebuild_reads_messages_once_per_page() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_PAGE_SIZE", "10");
    sandbox.json(&["full-rebuild", "--json"]);

    // 44 leads in pages of 10: five pages, so at most five message reads.
    let calls = odoo.count_calls("mail.message", "search_read");
    assert!(calls >= 1, "messages were never read");
    assert!(calls <= 5, "{calls} message reads for five pages");
}

#[test]
fn new_message_reembeds_that_lead() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.use_voyage(&embed, "test-voyage-key-xyz");
    sandbox.json(&["full-rebuild", "--json"]);
    embed.reset_counters();
    let before = odoo.lead(20).unwrap()["write_date"].clone();

    odoo.post_message(
        20,
        "<p>Could you add a maintenance contract for the conveyor belts?</p>",
        "Azure Interior",
    );
    assert_eq!(odoo.lead(20).unwrap()["write_date"], before);
    let report = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(report["embedded"], json!(1));
    assert_eq!(embed.texts_embedded(), 1);

    let search = sandbox.json(&["search", "maintenance conveyor belts", "--json"]);
    assert_eq!(search["hits"][0]["id"], json!(20));

    embed.reset_counters();
    let again = sandbox.json(&["sync-new", "--json"]);
    assert_eq!(again["embedded"], json!(0));
}

#[test]
fn message_counts_reach_payload() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let mut sandbox = Sandbox::for_odoo_on_backend(&odoo);
    sandbox.set("CRM_VEC_MESSAGES", "2");
    sandbox.json(&["full-rebuild", "--json"]);
    let search = sandbox.json(&["search", "RedHat servers", "--limit", "1", "--json"]);
    let hit = &search["hits"][0];
    assert_eq!(hit["id"], json!(SERVICES_LEAD));
    // Lead 15 has four messages (ids 6 to 9) in mail_message.json, of which two are kept. The
    // stand-in dates message N at the lead's create_date (2026-11-01 09:00:00) plus N minutes,
    // so the newest is message 9.
    assert_eq!(hit["message_count"], json!(2));
    assert_eq!(hit["last_message_date"], json!("2026-11-01 09:09:00"));
}

#[test]
fn messages_setting_is_validated() {
    let sandbox = {
        let mut sandbox = Sandbox::on_backend();
        sandbox.set("CRM_VEC_MESSAGES", "many");
        sandbox.set("ODOO_URL", "http://127.0.0.1:9");
        sandbox.set("ODOO_DB", "crm");
        sandbox.set("ODOO_USERNAME", "admin");
        sandbox.set("ODOO_PASSWORD", "x");
        sandbox
    };
    let run = sandbox.run(&["full-rebuild"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("CRM_VEC_MESSAGES"), "{}", run.stderr);
}
