//! Tool arguments: their JSON schemas, and the checks that turn a client's JSON object into
//! typed values with messages a model can act on.
//!
//! The schemas come from the `*Input` types below. The values are read by hand rather than
//! through serde, because serde's messages ("invalid type: string \"5\", expected u64") do not
//! name the argument, and a model needs the name to correct its call.

use std::sync::Arc;

use rmcp::handler::server::tool::schema_for_input;
use rmcp::model::JsonObject;
use rmcp::schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::index::SearchFilter;

/// Hits a search returns unless the client asks for another number.
pub const DEFAULT_LIMIT: u64 = 10;
/// The maximum number of hits of one search, to keep a result within a model's context.
pub const MAX_LIMIT: u64 = 50;

/// A tool argument the server cannot use, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidArgument(pub String);

type Checked<T> = Result<T, InvalidArgument>;

/// Arguments of `odoo_crm_semantic_search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars", deny_unknown_fields)]
#[allow(dead_code)]
pub struct SearchInput {
    /// The search text, in plain words, e.g. "customers worried about delivery times".
    query: String,
    /// Number of hits to return, from 1 to 50.
    #[schemars(range(min = 1, max = 50), default = "default_limit")]
    limit: Option<u64>,
    /// Only leads in this stage, by its name in any letter case, e.g. "Proposition" or "won".
    stage: Option<String>,
    /// Only leads of this salesperson, by their name in any letter case.
    salesperson: Option<String>,
    /// Only leads of this sales team, by its name in any letter case.
    team: Option<String>,
    /// Only leads of this type.
    #[serde(rename = "type")]
    lead_type: Option<LeadTypeInput>,
    /// Only leads whose expected revenue is at least this amount.
    min_revenue: Option<f64>,
    /// Only leads whose expected revenue is at most this amount.
    max_revenue: Option<f64>,
    /// Also return archived (lost) leads, when the index keeps them.
    #[schemars(default = "default_false")]
    include_archived: Option<bool>,
}

fn default_limit() -> u64 {
    DEFAULT_LIMIT
}

fn default_false() -> bool {
    false
}

// Inlined: some function-calling clients do not follow `$ref` into `$defs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars", inline)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum LeadTypeInput {
    Lead,
    Opportunity,
}

/// Arguments of `odoo_crm_sync_embeddings`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars", deny_unknown_fields)]
#[allow(dead_code)]
pub struct SyncInput {
    /// `sync_new`: leads written in Odoo since the last sync, and removal of deleted ones.
    /// `full_rebuild`: a fresh index from every lead (slow on large databases).
    /// `sync_record`: one lead, given by `record_id`.
    mode: SyncModeInput,
    /// The lead id, required with mode `sync_record`.
    #[schemars(range(min = 1, max = 2_147_483_647))]
    record_id: Option<u64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars", inline)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum SyncModeInput {
    SyncNew,
    FullRebuild,
    SyncRecord,
}

/// Arguments of `odoo_crm_delete_embedding`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars", deny_unknown_fields)]
#[allow(dead_code)]
pub struct DeleteInput {
    /// The id of the lead whose point is removed from the index.
    #[schemars(range(min = 1, max = 2_147_483_647))]
    record_id: u64,
}

/// Arguments of `odoo_crm_sync_status`: none.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "rmcp::schemars", deny_unknown_fields)]
pub struct StatusInput {}

/// Builds the input schema of a tool from its `*Input` type.
///
/// A schema without arguments still gets an empty `properties`, because some clients reject an
/// object schema that lacks it.
pub fn schema<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    let schema =
        schema_for_input::<T>().unwrap_or_else(|err| panic!("tool input schema is invalid: {err}"));
    if schema.contains_key("properties") {
        return schema;
    }
    let mut schema = schema.as_ref().clone();
    schema.insert("properties".into(), Value::Object(JsonObject::new()));
    Arc::new(schema)
}

/// A search, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchCall {
    pub query: String,
    pub limit: usize,
    pub filter: SearchFilter,
}

/// The request of one `odoo_crm_sync_embeddings` call, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncCall {
    SyncNew,
    FullRebuild,
    SyncRecord(u64),
}

const SEARCH_KEYS: &[&str] = &[
    "query",
    "limit",
    "stage",
    "salesperson",
    "team",
    "type",
    "min_revenue",
    "max_revenue",
    "include_archived",
];
const SYNC_KEYS: &[&str] = &["mode", "record_id"];
const DELETE_KEYS: &[&str] = &["record_id"];
const STATUS_KEYS: &[&str] = &[];

/// Checks the arguments of `odoo_crm_semantic_search`.
pub fn search(arguments: &JsonObject) -> Checked<SearchCall> {
    let args = Arguments::new(arguments, SEARCH_KEYS)?;
    let query = args.required_string("query", "the words to search for")?;
    let limit = match args.integer("limit")? {
        None => DEFAULT_LIMIT,
        Some(limit) if (1..=MAX_LIMIT as i64).contains(&limit) => limit as u64,
        Some(limit) => {
            return Err(InvalidArgument(format!(
                "`limit` must be from 1 to {MAX_LIMIT}, got {limit}"
            )))
        }
    };
    let lead_type = match args.string("type")?.as_deref() {
        None => None,
        Some(value @ ("lead" | "opportunity")) => Some(value.to_string()),
        Some(other) => {
            return Err(InvalidArgument(format!(
                "`type` must be \"lead\" or \"opportunity\", got {other:?}"
            )))
        }
    };
    let min_revenue = args.number("min_revenue")?;
    let max_revenue = args.number("max_revenue")?;
    if let (Some(min), Some(max)) = (min_revenue, max_revenue) {
        if min > max {
            return Err(InvalidArgument(format!(
                "`min_revenue` ({min}) is above `max_revenue` ({max}); swap them or drop one"
            )));
        }
    }
    let filter = SearchFilter {
        stage: args.string("stage")?,
        salesperson: args.string("salesperson")?,
        team: args.string("team")?,
        lead_type,
        min_revenue,
        max_revenue,
        include_archived: args.boolean("include_archived")?.unwrap_or(false),
    };
    Ok(SearchCall {
        query,
        limit: limit as usize,
        filter,
    })
}

/// Checks the arguments of `odoo_crm_sync_embeddings`.
pub fn sync(arguments: &JsonObject) -> Checked<SyncCall> {
    let args = Arguments::new(arguments, SYNC_KEYS)?;
    let mode = args.required_string("mode", "sync_new, full_rebuild or sync_record")?;
    let record_id = args.lead_id("record_id")?;
    match (mode.as_str(), record_id) {
        ("sync_record", Some(id)) => Ok(SyncCall::SyncRecord(id)),
        ("sync_record", None) => Err(InvalidArgument(
            "mode sync_record needs `record_id`, the id of the lead to sync".to_string(),
        )),
        ("sync_new" | "full_rebuild", Some(_)) => Err(InvalidArgument(format!(
            "`record_id` goes with mode sync_record only; mode {mode} syncs every lead"
        ))),
        ("sync_new", None) => Ok(SyncCall::SyncNew),
        ("full_rebuild", None) => Ok(SyncCall::FullRebuild),
        (other, _) => Err(InvalidArgument(format!(
            "`mode` must be sync_new, full_rebuild or sync_record, got {other:?}"
        ))),
    }
}

/// Checks the arguments of `odoo_crm_delete_embedding` and returns the lead id.
pub fn delete(arguments: &JsonObject) -> Checked<u64> {
    let args = Arguments::new(arguments, DELETE_KEYS)?;
    args.lead_id("record_id")?.ok_or_else(|| {
        InvalidArgument("`record_id` is required: the id of the lead to remove".to_string())
    })
}

/// Checks that `odoo_crm_sync_status` got no arguments.
pub fn status(arguments: &JsonObject) -> Checked<()> {
    Arguments::new(arguments, STATUS_KEYS).map(|_| ())
}

/// One tool's argument object, after the check for names the tool does not take.
struct Arguments<'a> {
    map: &'a JsonObject,
}

impl<'a> Arguments<'a> {
    fn new(map: &'a JsonObject, known: &[&str]) -> Checked<Self> {
        if let Some(unknown) = map.keys().find(|key| !known.contains(&key.as_str())) {
            let accepted = if known.is_empty() {
                "this tool takes no arguments".to_string()
            } else {
                format!("this tool takes {}", known.join(", "))
            };
            return Err(InvalidArgument(format!(
                "unknown argument `{unknown}`; {accepted}"
            )));
        }
        Ok(Self { map })
    }

    /// Returns the value of `key` unless it is missing or null, which clients send for "not
    /// given".
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    fn required_string(&self, key: &str, what: &str) -> Checked<String> {
        match self.string(key)? {
            Some(text) => Ok(text),
            None => Err(InvalidArgument(format!("`{key}` is required: {what}"))),
        }
    }

    /// Reads a string argument. A blank string counts as not given.
    fn string(&self, key: &str) -> Checked<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.trim().to_string())),
            Some(other) => Err(wrong_type(key, "a string", other)),
        }
    }

    /// Reads an integer argument: a JSON number without a fraction, positive or negative.
    fn integer(&self, key: &str) -> Checked<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(number)) if number.is_i64() => Ok(number.as_i64()),
            // Above i64::MAX: out of range for every integer argument here.
            Some(Value::Number(number)) if number.is_u64() => Ok(Some(i64::MAX)),
            Some(other) => Err(wrong_type(key, "an integer", other)),
        }
    }

    /// Reads a lead id: a positive integer.
    fn lead_id(&self, key: &str) -> Checked<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(number)) => match number.as_u64() {
                Some(id) if id > crate::odoo::MAX_RECORD_ID => Err(InvalidArgument(format!(
                    "`{key}` {id} is above {}, the largest id an Odoo record can have",
                    crate::odoo::MAX_RECORD_ID
                ))),
                Some(id) if id > 0 => Ok(Some(id)),
                _ => Err(wrong_type(
                    key,
                    "a lead id (a positive integer)",
                    &json_number(number),
                )),
            },
            Some(other) => Err(wrong_type(key, "a lead id (a positive integer)", other)),
        }
    }

    /// Reads a finite number.
    fn number(&self, key: &str) -> Checked<Option<f64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(number)) => match number.as_f64() {
                Some(value) if value.is_finite() => Ok(Some(value)),
                _ => Err(wrong_type(key, "a finite number", &json_number(number))),
            },
            Some(other) => Err(wrong_type(key, "a number such as 50000", other)),
        }
    }

    fn boolean(&self, key: &str) -> Checked<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(flag)) => Ok(Some(*flag)),
            Some(other) => Err(wrong_type(key, "true or false", other)),
        }
    }
}

fn json_number(number: &serde_json::Number) -> Value {
    Value::Number(number.clone())
}

fn wrong_type(key: &str, expected: &str, got: &Value) -> InvalidArgument {
    InvalidArgument(format!("`{key}` must be {expected}, got {}", describe(got)))
}

/// Describes a JSON value for a message: its kind, and the value when it is short.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => format!("the number {number}"),
        Value::String(text) if text.chars().count() <= 40 => format!("the string {text:?}"),
        Value::String(_) => "a long string".to_string(),
        Value::Array(_) => "a list".to_string(),
        Value::Object(_) => "an object".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object(value: Value) -> JsonObject {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn search_error(value: Value) -> String {
        search(&object(value)).unwrap_err().0
    }

    #[test]
    fn search_defaults() {
        let call = search(&object(json!({"query": " chairs "}))).unwrap();
        assert_eq!(call.query, "chairs");
        assert_eq!(call.limit, 10);
        assert_eq!(call.filter, SearchFilter::default());
    }

    #[test]
    fn search_reads_every_filter() {
        let call = search(&object(json!({
            "query": "desks",
            "limit": 50,
            "stage": "Won",
            "salesperson": "Marc Demo",
            "team": "Sales",
            "type": "opportunity",
            "min_revenue": 1000,
            "max_revenue": 2500.5,
            "include_archived": true,
        })))
        .unwrap();
        assert_eq!(call.limit, 50);
        assert_eq!(
            call.filter,
            SearchFilter {
                stage: Some("Won".into()),
                salesperson: Some("Marc Demo".into()),
                team: Some("Sales".into()),
                lead_type: Some("opportunity".into()),
                min_revenue: Some(1000.0),
                max_revenue: Some(2500.5),
                include_archived: true,
            }
        );
    }

    #[test]
    fn search_null_means_not_given() {
        let call = search(&object(json!({"query": "x", "limit": null, "stage": null}))).unwrap();
        assert_eq!(call.limit, 10);
        assert_eq!(call.filter.stage, None);
    }

    #[test]
    fn search_rejects_bad_values_by_name() {
        assert_eq!(
            search_error(json!({})),
            "`query` is required: the words to search for"
        );
        assert_eq!(
            search_error(json!({"query": "  "})),
            "`query` is required: the words to search for"
        );
        assert_eq!(
            search_error(json!({"query": 5})),
            "`query` must be a string, got the number 5"
        );
        assert_eq!(
            search_error(json!({"query": "x", "limit": -1})),
            "`limit` must be from 1 to 50, got -1"
        );
        assert_eq!(
            search_error(json!({"query": "x", "limit": 0})),
            "`limit` must be from 1 to 50, got 0"
        );
        assert_eq!(
            search_error(json!({"query": "x", "limit": 51})),
            "`limit` must be from 1 to 50, got 51"
        );
        assert_eq!(
            search_error(json!({"query": "x", "limit": 2.5})),
            "`limit` must be an integer, got the number 2.5"
        );
        assert_eq!(
            search_error(json!({"query": "x", "limit": "5"})),
            "`limit` must be an integer, got the string \"5\""
        );
        assert_eq!(
            search_error(json!({"query": "x", "type": "deal"})),
            "`type` must be \"lead\" or \"opportunity\", got \"deal\""
        );
        assert_eq!(
            search_error(json!({"query": "x", "min_revenue": "lots"})),
            "`min_revenue` must be a number such as 50000, got the string \"lots\""
        );
        assert_eq!(
            search_error(json!({"query": "x", "include_archived": "yes"})),
            "`include_archived` must be true or false, got the string \"yes\""
        );
        assert!(
            search_error(json!({"query": "x", "min_revenue": 10, "max_revenue": 5}))
                .starts_with("`min_revenue` (10) is above `max_revenue` (5)")
        );
    }

    #[test]
    fn unknown_argument_lists_the_accepted_ones() {
        assert_eq!(
            search_error(json!({"query": "x", "stages": "Won"})),
            "unknown argument `stages`; this tool takes query, limit, stage, salesperson, team, \
             type, min_revenue, max_revenue, include_archived"
        );
        assert_eq!(
            status(&object(json!({"verbose": true}))).unwrap_err().0,
            "unknown argument `verbose`; this tool takes no arguments"
        );
    }

    #[test]
    fn sync_modes() {
        let sync = |value: Value| super::sync(&object(value));
        assert_eq!(sync(json!({"mode": "sync_new"})), Ok(SyncCall::SyncNew));
        assert_eq!(
            sync(json!({"mode": "full_rebuild"})),
            Ok(SyncCall::FullRebuild)
        );
        assert_eq!(
            sync(json!({"mode": "sync_record", "record_id": 7})),
            Ok(SyncCall::SyncRecord(7))
        );
    }

    #[test]
    fn sync_rejects_bad_combinations() {
        let error = |value: Value| super::sync(&object(value)).unwrap_err().0;
        assert_eq!(
            error(json!({"mode": "rebuild"})),
            "`mode` must be sync_new, full_rebuild or sync_record, got \"rebuild\""
        );
        assert_eq!(
            error(json!({})),
            "`mode` is required: sync_new, full_rebuild or sync_record"
        );
        assert_eq!(
            error(json!({"mode": "sync_record"})),
            "mode sync_record needs `record_id`, the id of the lead to sync"
        );
        assert_eq!(
            error(json!({"mode": "sync_new", "record_id": 3})),
            "`record_id` goes with mode sync_record only; mode sync_new syncs every lead"
        );
    }

    #[test]
    fn record_id_must_be_a_positive_integer() {
        let error = |value: Value| super::delete(&object(value)).unwrap_err().0;
        assert_eq!(
            error(json!({"record_id": "12"})),
            "`record_id` must be a lead id (a positive integer), got the string \"12\""
        );
        assert_eq!(
            error(json!({"record_id": 1.5})),
            "`record_id` must be a lead id (a positive integer), got the number 1.5"
        );
        assert_eq!(
            error(json!({"record_id": 0})),
            "`record_id` must be a lead id (a positive integer), got the number 0"
        );
        assert_eq!(
            error(json!({"record_id": -4})),
            "`record_id` must be a lead id (a positive integer), got the number -4"
        );
        assert_eq!(
            error(json!({})),
            "`record_id` is required: the id of the lead to remove"
        );
        assert_eq!(super::delete(&object(json!({"record_id": 12}))), Ok(12));
    }

    /// The schema a client sees names exactly the arguments the checks accept.
    #[test]
    fn schemas_list_the_accepted_arguments() {
        let keys = |schema: Arc<JsonObject>| -> Vec<String> {
            let mut keys: Vec<String> = schema["properties"]
                .as_object()
                .map(|properties| properties.keys().cloned().collect())
                .unwrap_or_default();
            keys.sort();
            keys
        };
        let sorted = |keys: &[&str]| -> Vec<String> {
            let mut keys: Vec<String> = keys.iter().map(|key| key.to_string()).collect();
            keys.sort();
            keys
        };
        assert_eq!(keys(schema::<SearchInput>()), sorted(SEARCH_KEYS));
        assert_eq!(keys(schema::<SyncInput>()), sorted(SYNC_KEYS));
        assert_eq!(keys(schema::<DeleteInput>()), sorted(DELETE_KEYS));
        assert_eq!(keys(schema::<StatusInput>()), sorted(STATUS_KEYS));
    }

    #[test]
    fn schemas_mark_required_arguments() {
        assert_eq!(schema::<SearchInput>()["required"], json!(["query"]));
        assert_eq!(schema::<SyncInput>()["required"], json!(["mode"]));
        assert_eq!(schema::<DeleteInput>()["required"], json!(["record_id"]));
    }

    #[test]
    fn schemas_inline_their_enums() {
        for schema in [schema::<SearchInput>(), schema::<SyncInput>()] {
            let text = Value::Object(schema.as_ref().clone()).to_string();
            assert!(!text.contains("$ref"), "{text}");
            assert!(!text.contains("$defs"), "{text}");
        }
        let search = schema::<SearchInput>();
        let types = Value::Object(search["properties"]["type"].as_object().unwrap().clone());
        assert!(types.to_string().contains("\"opportunity\""), "{types}");
    }

    #[test]
    fn record_id_above_odoo_range_is_rejected() {
        let largest = delete(&object(json!({"record_id": 2_147_483_647}))).unwrap();
        assert_eq!(largest, 2_147_483_647);
        let above = delete(&object(json!({"record_id": 2_147_483_648_u64}))).unwrap_err();
        assert_eq!(
            above.0,
            "`record_id` 2147483648 is above 2147483647, the largest id an Odoo record can have"
        );
    }
}
