//! Hostile input: property tests of the parsers that read what the network sends (the webhook
//! body, Odoo's responses, the HTML of descriptions and chatter), and a sync of lead records
//! with huge, malformed or unusual text.
//!
//! `PROPTEST_CASES` sets the number of cases per property (proptest's default is 256).

mod support;

use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crm_vec::odoo::{decoding, MAX_RECORD_ID};
use crm_vec::serve::http::parse_event;
use crm_vec::sync::html::{html_to_text, message_to_text, normalize_whitespace};

use std::time::Duration;

use support::embed::{EmbedConfig, EmbedStandIn};
use support::harness::{hit_ids, Sandbox};
use support::odoo::{OdooStandIn, StandInConfig};
use support::webhook::{get, odoo_body, post_like_odoo, request, Listener, ODOO17_ACTION};

/// Arbitrary JSON, nested up to four levels.
fn json_value() -> impl Strategy<Value = Value> {
    let float = any::<f64>()
        .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
        .prop_map(|f| json!(f));
    nested_json(prop_oneof![json_leaf(), float].boxed())
}

/// Arbitrary JSON without floats, which serde_json may read back one bit off unless its
/// `float_roundtrip` feature is on, for properties that compare values after a round trip.
fn exact_json_value() -> impl Strategy<Value = Value> {
    nested_json(json_leaf().boxed())
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(Value::String),
    ]
}

fn nested_json(leaf: BoxedStrategy<Value>) -> impl Strategy<Value = Value> {
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec(("(_id|id|ids|_model|_action|.{0,8})", inner), 0..8)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Markup-heavy text: tags (some unclosed), entities, quotes and stray brackets.
fn html_soup() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        ".{0,12}",
        "</?(p|div|br|span|b|script|style|head|blockquote|li|table|td)( [a-z-]{1,8}=\"[^\"]{0,6}\")?/?>",
        "&(amp|lt|gt|nbsp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6}|[a-z]{1,6});?",
        Just("<".to_string()),
        Just(">".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just("\n-- \n".to_string()),
        Just("On Mon, 1 Jan 2024, Ann wrote:".to_string()),
        Just("<div class=\"gmail_quote\">".to_string()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Checks what every text crm-vec embeds looks like: trimmed lines without control characters
/// or runs of white space, and no empty lines.
fn assert_normalized(text: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(normalize_whitespace(text), text);
    for line in text.lines() {
        prop_assert!(!line.is_empty(), "empty line in {:?}", text);
        prop_assert!(!line.contains("  "), "double space in {:?}", line);
        prop_assert!(
            !line.chars().any(char::is_control),
            "control character in {:?}",
            line
        );
    }
    Ok(())
}

proptest! {
    // Failures are kept as regression tests below instead of in a file beside the sources.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn webhook_parser_takes_any_bytes(body in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_event(&body);
    }

    #[test]
    fn webhook_parser_takes_any_json(value in json_value()) {
        let body = serde_json::to_vec(&value).unwrap();
        if let Ok(event) = parse_event(&body) {
            prop_assert!(!event.ids.is_empty());
            prop_assert!(event.ids.iter().all(|id| *id > 0));
        }
    }

    #[test]
    fn webhook_parser_reads_odoo_ids(id in 1u64..=MAX_RECORD_ID, as_text in any::<bool>(), extra in json_value()) {
        let id_value = if as_text { json!(id.to_string()) } else { json!(id) };
        let body = json!({
            "_id": id_value,
            "_model": "crm.lead",
            "_action": "Send Webhook Notification(#12)",
            "extra": extra,
        });
        let event = parse_event(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(event.ids, vec![id]);
        prop_assert!(!event.listed);
    }

    #[test]
    fn webhook_parser_rejects_ids_beyond_odoo(id in MAX_RECORD_ID + 1.., as_text in any::<bool>()) {
        let id_value = if as_text { json!(id.to_string()) } else { json!(id) };
        let body = json!({"_id": id_value, "_model": "crm.lead"});
        let rejected = parse_event(body.to_string().as_bytes()).unwrap_err();
        prop_assert!(rejected.error.contains("the largest id"), "{}", rejected.error);
    }

    #[test]
    fn webhook_parser_rejects_other_models(model in "[a-z.]{1,20}", id in 1u64..) {
        prop_assume!(model != "crm.lead");
        let body = json!({"_id": id, "_model": model});
        prop_assert!(parse_event(body.to_string().as_bytes()).is_err());
    }

    #[test]
    fn jsonrpc_decoder_takes_any_response(
        status in prop_oneof![Just(200u16), 100u16..600],
        content_type in prop::option::of("(application/json|text/html|text/plain)(; charset=utf-8)?"),
        body in prop_oneof![".{0,200}", json_value().prop_map(|v| v.to_string())],
    ) {
        let _ = decoding::jsonrpc_records(status, content_type.as_deref(), &body);
    }

    #[test]
    fn jsonrpc_decoder_takes_any_envelope(result in json_value(), error in prop::option::of(json_value())) {
        let mut envelope = json!({"jsonrpc": "2.0", "id": 1, "result": result});
        if let Some(error) = error {
            envelope["error"] = error;
        }
        let _ = decoding::jsonrpc_records(200, Some("application/json"), &envelope.to_string());
    }

    #[test]
    fn jsonrpc_decoder_returns_records_unchanged(
        records in prop::collection::vec(
            prop::collection::btree_map("[a-z_]{1,10}", exact_json_value(), 0..6),
            0..6,
        ),
    ) {
        let records: Vec<Map<String, Value>> = records
            .into_iter()
            .map(|fields| fields.into_iter().collect())
            .collect();
        let body = json!({"jsonrpc": "2.0", "id": 1, "result": records}).to_string();
        let decoded = decoding::jsonrpc_records(200, Some("application/json"), &body).unwrap();
        prop_assert_eq!(decoded, records);
    }

    #[test]
    fn json2_decoder_takes_any_response(
        status in 100u16..600,
        content_type in prop::option::of("(application/json|text/html)(; charset=utf-8)?"),
        body in prop_oneof![".{0,200}", json_value().prop_map(|v| v.to_string())],
    ) {
        let _ = decoding::json2_ids(status, content_type.as_deref(), &body);
    }

    #[test]
    fn json2_decoder_returns_ids_unchanged(ids in prop::collection::vec(any::<u64>(), 0..20)) {
        let body = serde_json::to_string(&ids).unwrap();
        let decoded = decoding::json2_ids(200, Some("application/json"), &body).unwrap();
        prop_assert_eq!(decoded, ids);
    }

    #[test]
    fn html_to_text_output_is_normalized(html in prop_oneof![html_soup(), ".{0,300}"]) {
        assert_normalized(&html_to_text(&html))?;
    }

    #[test]
    fn html_to_text_unescapes_plain_text(text in ".{0,200}") {
        let html = html_escape::encode_text(&text);
        prop_assert_eq!(html_to_text(&html), normalize_whitespace(&text));
    }

    #[test]
    fn html_to_text_is_idempotent_on_plain_text(html in html_soup()) {
        let text = html_to_text(&html);
        // The output is plain text only when no entity or tag survives decoding.
        if !text.contains(['<', '&']) {
            prop_assert_eq!(html_to_text(&text), text);
        }
    }

    #[test]
    fn message_to_text_output_is_normalized(html in prop_oneof![html_soup(), ".{0,300}"]) {
        assert_normalized(&message_to_text(&html))?;
    }
}

#[test]
fn deeply_nested_html_converts() {
    let depth = 100_000;
    let html = format!(
        "{}deep inside{}",
        "<div><span>".repeat(depth),
        "</span></div>".repeat(depth)
    );
    assert_eq!(html_to_text(&html), "deep inside");
    assert_eq!(message_to_text(&html), "deep inside");
}

#[test]
fn unclosed_tag_at_end_converts() {
    // A `<` without its `>` is kept as text, so nothing after it is lost.
    assert_eq!(html_to_text("<p>price <b"), "price <b");
    assert_eq!(html_to_text("a < b and c > d"), "a < b and c > d");
}

/// Returns lead fields with a megabyte of description, control characters, replacement
/// characters where invalid UTF-8 was, deep markup, emoji, right-to-left text and a
/// 10,000-character name.
fn hostile_fields() -> Vec<(u64, Value)> {
    let huge = format!(
        "<p>{}</p>",
        "Ergonomic chairs for the new office. ".repeat(28_500)
    );
    let nested = format!(
        "{}nested quote{}",
        "<blockquote><div>".repeat(5_000),
        "</div></blockquote>".repeat(5_000)
    );
    vec![
        (
            1,
            json!({"name": "Huge description lead", "description": huge}),
        ),
        (
            2,
            json!({
                "name": "Control\u{0}characters\u{7}in\u{1b}[31mname\u{8}",
                "description": "<p>bell\u{7} null\u{0} escape\u{1b} form feed\u{c}</p>",
            }),
        ),
        (
            3,
            json!({
                "name": "Replacement \u{fffd}\u{fffd} characters",
                "description": "<p>broken \u{fffd} bytes \u{fffd}\u{fffd}</p>",
            }),
        ),
        (
            4,
            json!({"name": "Nested markup lead", "description": nested}),
        ),
        (
            5,
            json!({
                "name": "🪑🪑 Chairs 👩🏽‍💼 for the 🏢",
                "description": "<p>Family emoji 👨‍👩‍👧‍👦 and flags 🇩🇪🇫🇷</p>",
            }),
        ),
        (
            6,
            json!({
                "name": "שולחנות משרדיים \u{202e}reversed\u{202c} مكاتب",
                "description": "<p dir=\"rtl\">نحتاج إلى عشرين مكتبا</p>",
            }),
        ),
        (8, json!({"name": "L".repeat(10_000), "description": false})),
    ]
}

#[test]
fn hostile_lead_texts_sync_without_panics() {
    let odoo = OdooStandIn::start(StandInConfig::default());
    let fields = hostile_fields();
    for (id, values) in &fields {
        odoo.update_lead(*id, values.clone());
    }
    let sandbox = Sandbox::for_odoo(&odoo);

    let rebuild = sandbox.run(&["full-rebuild", "--json"]);
    assert_eq!(rebuild.code, 0, "{}", rebuild.all_output());
    assert!(!rebuild.stderr.contains("panicked"), "{}", rebuild.stderr);
    assert_eq!(rebuild.json()["failed"], json!(0));

    let ids: Vec<String> = fields.iter().map(|(id, _)| id.to_string()).collect();
    let mut args = vec!["sync-record", "--json"];
    args.extend(ids.iter().map(String::as_str));
    let synced = sandbox.run(&args);
    assert_eq!(synced.code, 0, "{}", synced.all_output());
    assert!(!synced.stderr.contains("panicked"), "{}", synced.stderr);

    let rtl = sandbox.json(&["search", "مكاتب", "--json"]);
    assert_eq!(hit_ids(&rtl).first(), Some(&6));
    let emoji = sandbox.json(&["search", "🪑🪑 Chairs", "--json"]);
    assert!(hit_ids(&emoji).contains(&5), "{emoji}");
    let huge = sandbox.json(&["search", "huge description lead", "--json"]);
    assert_eq!(hit_ids(&huge).first(), Some(&1));
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn webhook_auth_accepts_only_configured_secrets(
        secrets in prop::collection::vec("[A-Za-z0-9_-]{1,24}", 1..4),
        given in "[A-Za-z0-9_-]{0,24}",
    ) {
        let auth = crm_vec::serve::auth::Auth::from_setting(Some(&secrets.join(",")));
        let expected = secrets.contains(&given);
        prop_assert_eq!(auth.allows(Some(&given), None), expected);
        prop_assert_eq!(auth.allows(None, Some(&given)), expected);
        prop_assert!(!auth.allows(None, None));
    }
}

#[test]
fn trace_log_of_serve_holds_no_secret() {
    const SECRET: &str = "webhook-secret-trace-77d1";
    let odoo = OdooStandIn::start(StandInConfig::default());
    let embed = EmbedStandIn::start(EmbedConfig::default());
    let mut sandbox = Sandbox::for_odoo(&odoo);
    sandbox.use_voyage(&embed, "test-voyage-key-xyz");
    sandbox.json(&["full-rebuild", "--json"]);
    sandbox.set("WEBHOOK_SECRET", &format!("old-{SECRET},{SECRET}"));
    sandbox.set("RUST_LOG", "trace");
    let listener = Listener::start(
        &sandbox,
        &["--settle-delay", "0s", "--reconcile-every", "0"],
    );
    let timeout = Duration::from_secs(5);
    let sync = format!("/webhook/sync?token={SECRET}");

    odoo.update_lead(3, json!({"name": "Traced lead"}));
    let accepted = post_like_odoo(listener.addr, &sync, &odoo_body(ODOO17_ACTION, 3)).unwrap();
    assert_eq!(accepted.status, 202, "{}", accepted.text);
    let wrong = post_like_odoo(
        listener.addr,
        &format!("/webhook/sync?token=x{SECRET}"),
        &odoo_body(ODOO17_ACTION, 3),
    )
    .unwrap();
    assert_eq!(wrong.status, 401);
    let garbage = request(
        listener.addr,
        "POST",
        &format!("/webhook/delete?token={SECRET}&x=1"),
        &[("x-webhook-secret", SECRET)],
        b"\xff\xfe not json",
        timeout,
    )
    .unwrap();
    assert_eq!(garbage.status, 400);
    // Not Odoo's 1 s: a wait may also wait for the batch in progress, up to --wait-timeout.
    let waited = request(
        listener.addr,
        "POST",
        &format!("{sync}&wait=true"),
        &[("Content-Type", "application/json")],
        odoo_body(ODOO17_ACTION, 4).as_bytes(),
        Duration::from_secs(15),
    )
    .unwrap();
    assert_eq!(waited.status, 200, "{}", waited.text);
    let status = listener.wait_idle(Some(SECRET), Duration::from_secs(10));
    let health = get(listener.addr, "/health", None);

    let secrets = [
        SECRET,
        "admin-password",
        "0123456789abcdef0123456789abcdef01234567",
        "test-voyage-key-xyz",
    ];
    let log = listener.stderr();
    assert!(
        log.contains("TRACE") || log.contains("DEBUG"),
        "trace logging is on"
    );
    let everything = format!(
        "{log}\n{}\n{}\n{}\n{}\n{status}\n{}",
        accepted.text, wrong.text, garbage.text, waited.text, health.text
    );
    for secret in secrets {
        // The secret's position is reported, never the secret or its surroundings.
        let found = everything.find(secret);
        assert!(
            found.is_none(),
            "a secret is in the output at byte {found:?}"
        );
    }
}
