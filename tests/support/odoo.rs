//! Odoo stand-in: an HTTP server on 127.0.0.1 that serves `/jsonrpc`, JSON-2 (`/json/2/...`) and
//! `/web/version` the way Odoo 16–19 does, over an in-memory copy of the CRM demo data.
//!
//! Error envelopes, HTML error pages and `fields_get` results are copied from the recordings in
//! `tests/data/recorded/odoo{17,18,19}`. Odoo 16 has no recording, so its responses are derived from
//! the 17.0 ones (see `fields_get_v16`). Only files inside this crate are read, via
//! `CARGO_MANIFEST_DIR`.
//!
//! Datetimes behave as in Odoo's PostgreSQL database: each transaction gets one `write_date`, the
//! time it started, with microseconds (`cr.now()`). Records store it at full precision, and the
//! `lead` accessor returns it in the `str(datetime)` form a webhook payload carries. Domains and
//! `order` compare and sort the full value, while `read` and `search_read` send it truncated to
//! `YYYY-MM-DD HH:MM:SS`, as Odoo's RPC does. Demo data keeps its whole-second values.
//!
//! The module is self-contained so that it compiles both as `tests/support/odoo.rs` inside
//! `mod support;` and when an example includes it with `#[path = ...]`.

use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Number of threads that serve requests, so that concurrent client calls run in parallel.
const WORKER_THREADS: usize = 4;

/// User id of the admin user in the demo database (the recorded 19.0 database uses 2 as well).
pub const ADMIN_UID: u64 = 2;

/// Partner id of the admin user, used as the author of chatter comments. A fresh Odoo database
/// gives `base.partner_admin` id 3.
const ADMIN_PARTNER: (u64, &str) = (3, "Mitchell Admin");

/// Write date of the demo data's won and lost leads, and the reference time the demo data's
/// dates are resolved against (see tests/data/odoo-demo/README.md).
const DEMO_REFERENCE_TIME: &str = "2026-11-02 09:00:00";

/// PostgreSQL keeps timestamps to the microsecond.
const MICROS_PER_SECOND: i64 = 1_000_000;

/// Seed of the microseconds given to transaction starts.
const RANDOM_SEED: u64 = 0x0dd0_2026;

/// Odoo major version whose wire behaviour the stand-in reproduces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OdooVersion {
    V16,
    V17,
    V18,
    V19,
}

impl OdooVersion {
    /// Returns the major version number (16..=19).
    pub fn major(self) -> u32 {
        match self {
            OdooVersion::V16 => 16,
            OdooVersion::V17 => 17,
            OdooVersion::V18 => 18,
            OdooVersion::V19 => 19,
        }
    }

    /// Parses a major version number such as `17`.
    pub fn from_major(major: u32) -> Option<OdooVersion> {
        match major {
            16 => Some(OdooVersion::V16),
            17 => Some(OdooVersion::V17),
            18 => Some(OdooVersion::V18),
            19 => Some(OdooVersion::V19),
            _ => None,
        }
    }

    /// JSON-2 (`/json/2/<model>/<method>`) and `/web/version` exist from 19.0 on.
    pub fn has_json2(self) -> bool {
        self == OdooVersion::V19
    }

    /// `error.code` of a JSON-RPC error envelope: 200 up to 18.0, 0 in 19.0.
    pub fn jsonrpc_error_code(self) -> i64 {
        if self == OdooVersion::V19 {
            0
        } else {
            200
        }
    }

    /// Directory under tests/data/recorded whose recorded responses this version reuses.
    fn recorded_dir(self) -> &'static str {
        match self {
            OdooVersion::V16 | OdooVersion::V17 => "odoo17",
            OdooVersion::V18 => "odoo18",
            OdooVersion::V19 => "odoo19",
        }
    }
}

/// Settings of one stand-in: version, credentials and artificial latency.
#[derive(Clone, Debug)]
pub struct StandInConfig {
    pub version: OdooVersion,
    pub database: String,
    pub login: String,
    pub password: String,
    /// API key, accepted in the JSON-RPC password slot and as the JSON-2 bearer token.
    pub api_key: String,
    /// Delay added before every response.
    pub latency: Duration,
    /// Delay added per record returned by `read`, `search_read` and `search`.
    pub latency_per_record: Duration,
}

impl Default for StandInConfig {
    fn default() -> Self {
        StandInConfig {
            version: OdooVersion::V17,
            database: "crm".to_string(),
            login: "admin".to_string(),
            password: "admin-password".to_string(),
            api_key: "0123456789abcdef0123456789abcdef01234567".to_string(),
            latency: Duration::ZERO,
            latency_per_record: Duration::ZERO,
        }
    }
}

/// One HTTP request as the stand-in received it, with the RPC call it carried.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// HTTP method, e.g. "POST".
    pub http_method: String,
    /// Path with query string.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// JSON-RPC `params.service` ("common", "object"); `None` for JSON-2 and other routes.
    pub service: Option<String>,
    /// JSON-RPC `params.method` ("login", "execute_kw"); `None` for JSON-2 and other routes.
    pub method: Option<String>,
    /// Model of an `execute_kw`/`execute` call or of a JSON-2 path.
    pub model: Option<String>,
    /// Model method of an `execute_kw`/`execute` call or of a JSON-2 path ("search_read").
    pub rpc_method: Option<String>,
}

impl RecordedRequest {
    /// Returns the value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Returns the body parsed as JSON, or `None` if it is not JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// A running Odoo stand-in. Stops when dropped.
pub struct OdooStandIn {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

impl OdooStandIn {
    /// Starts a stand-in serving the 44 demo leads of tests/data/odoo-demo/crm_lead.json.
    pub fn start(config: StandInConfig) -> OdooStandIn {
        let leads = demo_leads();
        OdooStandIn::start_with_leads(config, leads)
    }

    /// Starts a stand-in serving `leads` (shaped like `search_read` results) instead of the demo
    /// leads. Many2one values may be `[id, name]` or a bare id. Fields that the version's
    /// `fields_get` does not list are stored but never returned.
    pub fn start_with_leads(config: StandInConfig, leads: Vec<Map<String, Value>>) -> OdooStandIn {
        OdooStandIn::listen(config, leads, 0)
            .unwrap_or_else(|error| panic!("Odoo stand-in failed to start: {error}"))
    }

    /// Starts a stand-in with the demo leads on 127.0.0.1:`port` (0 picks a free port). Returns
    /// an error when the port cannot be bound, e.g. because it is in use.
    pub fn start_on_port(config: StandInConfig, port: u16) -> Result<OdooStandIn, String> {
        OdooStandIn::listen(config, demo_leads(), port)
    }

    fn listen(
        config: StandInConfig,
        leads: Vec<Map<String, Value>>,
        port: u16,
    ) -> Result<OdooStandIn, String> {
        let server = tiny_http::Server::http(("127.0.0.1", port))
            .map_err(|error| format!("failed to listen on 127.0.0.1:{port}: {error}"))?;
        let port = server
            .server_addr()
            .to_ip()
            .expect("Odoo stand-in listens on an IP address")
            .port();
        let state = Arc::new(Mutex::new(State::new(config, leads)));
        let stop = Arc::new(AtomicBool::new(false));
        let server = Arc::new(server);
        let workers = (0..WORKER_THREADS)
            .map(|_| {
                let server = Arc::clone(&server);
                let state = Arc::clone(&state);
                let stop = Arc::clone(&stop);
                std::thread::spawn(move || serve(&server, &state, &stop))
            })
            .collect();
        Ok(OdooStandIn {
            url: format!("http://127.0.0.1:{port}"),
            state,
            stop,
            workers,
        })
    }

    /// Returns the base URL, "http://127.0.0.1:PORT".
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Returns the configured version.
    pub fn version(&self) -> OdooVersion {
        self.lock().config.version
    }

    /// Returns a copy of the configuration (database, login, password, API key...).
    pub fn config(&self) -> StandInConfig {
        self.lock().config.clone()
    }

    /// Changes the artificial latency for the following requests.
    pub fn set_latency(&self, latency: Duration, latency_per_record: Duration) {
        let mut state = self.lock();
        state.config.latency = latency;
        state.config.latency_per_record = latency_per_record;
    }

    /// Returns every request received so far, oldest first, including those that got a fault response.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }

    /// Counts calls of `model.method` received over JSON-RPC (`execute_kw`/`execute`) and JSON-2.
    pub fn count_calls(&self, model: &str, method: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|request| {
                request.model.as_deref() == Some(model)
                    && request.rpc_method.as_deref() == Some(method)
            })
            .count()
    }

    /// Starts a transaction: every lead it writes or creates gets the same `write_date`, the
    /// clock's now with microseconds, and other clients see its changes only after `commit`.
    pub fn begin_transaction(&self) -> Transaction<'_> {
        let write_date = self.lock().transaction_stamp();
        Transaction {
            odoo: self,
            write_date,
            writes: Vec::new(),
            created: Vec::new(),
            committed: false,
        }
    }

    /// Writes `fields` (a JSON object) into lead `id` in a transaction of its own, which sets
    /// its `write_date` to the clock's now with microseconds. Panics if the lead does not exist.
    pub fn update_lead(&self, id: u64, fields: Value) {
        let mut transaction = self.begin_transaction();
        transaction.update_lead(id, fields);
        transaction.commit();
    }

    /// Archives lead `id` (`active: false`) and bumps its `write_date`.
    pub fn archive_lead(&self, id: u64) {
        self.update_lead(id, json!({"active": false}));
    }

    /// Unarchives lead `id` (`active: true`) and bumps its `write_date`.
    pub fn unarchive_lead(&self, id: u64) {
        self.update_lead(id, json!({"active": true}));
    }

    /// Deletes lead `id` and its chatter messages, as `unlink` does. Panics if it does not exist.
    pub fn delete_lead(&self, id: u64) {
        let mut state = self.lock();
        let removed = state.model_mut("crm.lead").records.remove(&id);
        assert!(
            removed.is_some(),
            "delete_lead: lead {id} not found in the Odoo stand-in"
        );
        state.hidden.remove(&id);
        let messages = &mut state.model_mut("mail.message").records;
        messages.retain(|_, message| {
            !(message.get("model") == Some(&json!("crm.lead"))
                && message.get("res_id") == Some(&json!(id)))
        });
    }

    /// Creates a lead from `fields` in a transaction of its own and returns its id.
    /// `create_date` and `write_date` are the clock's now with microseconds, `active` defaults
    /// to true.
    pub fn create_lead(&self, fields: Value) -> u64 {
        let mut transaction = self.begin_transaction();
        let id = transaction.create_lead(fields);
        transaction.commit();
        id
    }

    /// Sets the stored `write_date` of lead `id`, without any other change, for a row whose
    /// transaction started at another time. `write_date` is "YYYY-MM-DD HH:MM:SS" with an
    /// optional fraction of up to six digits.
    pub fn set_write_date(&self, id: u64, write_date: &str) {
        assert!(
            parse_datetime_micros(write_date).is_some(),
            "set_write_date: expected \"YYYY-MM-DD HH:MM:SS[.ffffff]\", got {write_date:?}"
        );
        let mut state = self.lock();
        state.write_lead(
            id,
            Map::from_iter([("write_date".to_string(), json!(write_date))]),
            None,
        );
    }

    /// Sets one field of lead `id` without bumping `write_date`, like the lead-scoring cron's raw
    /// SQL update of `probability`.
    pub fn set_field_silently(&self, id: u64, field: &str, value: Value) {
        let mut state = self.lock();
        state.write_lead(id, Map::from_iter([(field.to_string(), value)]), None);
    }

    /// Returns the stored lead `id` in this version's shape (many2one as `[id, name]`), with
    /// datetimes at full precision as a webhook payload carries them.
    pub fn lead(&self, id: u64) -> Option<Map<String, Value>> {
        self.lock().model("crm.lead").records.get(&id).cloned()
    }

    /// Returns the ids of all stored leads, archived and hidden ones included.
    pub fn lead_ids(&self) -> Vec<u64> {
        self.lock()
            .model("crm.lead")
            .records
            .keys()
            .copied()
            .collect()
    }

    /// Fixes the clock at `now` ("YYYY-MM-DD HH:MM:SS", UTC). Panics on another format.
    pub fn set_clock(&self, now: &str) {
        assert!(
            parse_datetime(now).is_some(),
            "set_clock: expected \"YYYY-MM-DD HH:MM:SS\", got {now:?}"
        );
        self.lock().clock = Some(now.to_string());
    }

    /// Moves the clock forward by `by` (whole seconds). Fixes the clock first if it was real time.
    pub fn advance_clock(&self, by: Duration) {
        let mut state = self.lock();
        let seconds = parse_datetime(&state.now()).expect("the clock holds a valid datetime");
        state.clock = Some(format_datetime(seconds + by.as_secs() as i64));
    }

    /// Returns the clock's now as Odoo sends datetimes ("YYYY-MM-DD HH:MM:SS", UTC).
    pub fn now(&self) -> String {
        self.lock().now()
    }

    /// While `down` is true, every request gets a reverse proxy's 502 Bad Gateway HTML page.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    /// After `successful_calls` more requests are served normally, every request gets HTTP
    /// `status` with a reverse proxy's HTML page, until `clear_faults`.
    pub fn fail_after(&self, successful_calls: usize, status: u16) {
        self.lock().failure = Some(Failure {
            remaining_successes: successful_calls,
            status,
        });
    }

    /// Removes the faults set by `set_down` and `fail_after`.
    pub fn clear_faults(&self) {
        let mut state = self.lock();
        state.down = false;
        state.failure = None;
    }

    /// Leaves `field` out of `model`'s `fields_get`, as Odoo does for a field whose groups the
    /// user is not in. Its values stay stored but are never returned.
    pub fn restrict_field(&self, model: &str, field: &str) {
        self.lock().model_mut(model).fields.remove(field);
    }

    /// While `hidden` is true, lead `id` is stored but `read`, `search*` and `search_count` do not
    /// return it, like a row whose transaction has not committed yet (17.0/18.0 send webhooks
    /// before COMMIT).
    pub fn set_hidden(&self, id: u64, hidden: bool) {
        let mut state = self.lock();
        if hidden {
            state.hidden.insert(id);
        } else {
            state.hidden.remove(&id);
        }
    }

    /// Posts a chatter comment on lead `lead_id` and returns the new mail.message id. The message
    /// `date` is the clock's now in whole seconds (`fields.Datetime.now()`), its `create_date`
    /// the transaction's start with microseconds. The lead's write_date does not change.
    pub fn post_message(&self, lead_id: u64, body_html: &str, author: &str) -> u64 {
        let mut state = self.lock();
        let now = state.now();
        let stamp = state.transaction_stamp();
        let (partner_id, email) = state.partner_for_author(author);
        let id = state
            .model("mail.message")
            .records
            .keys()
            .max()
            .copied()
            .unwrap_or(0)
            + 1;
        let message = json!({
            "id": id,
            "model": "crm.lead",
            "res_id": lead_id,
            "subject": false,
            "body": body_html,
            "message_type": "comment",
            "email_from": email,
            "date": now,
            "author_id": [partner_id, author],
            "subtype_id": [1, "Discussions"],
            "create_date": stamp,
            "write_date": stamp,
        });
        let message = expect_object(message, "post_message");
        state.model_mut("mail.message").records.insert(id, message);
        id
    }

    /// Returns the chatter messages of lead `lead_id`, oldest id first.
    pub fn messages_of(&self, lead_id: u64) -> Vec<Map<String, Value>> {
        self.lock()
            .model("mail.message")
            .records
            .values()
            .filter(|message| message.get("res_id") == Some(&json!(lead_id)))
            .cloned()
            .collect()
    }

    /// Stops the server and waits for its threads. Dropping the stand-in does the same.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, AtomicOrdering::SeqCst);
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic in a request handler must not hide the state from the test that inspects it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for OdooStandIn {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// An open transaction of the stand-in, from `OdooStandIn::begin_transaction`. Its leads share
/// one `write_date`, the time it began. Until `commit`, `read` and `search` return the previous
/// version of the leads it updates and nothing of the leads it creates. Dropping it without
/// `commit` rolls it back.
pub struct Transaction<'a> {
    odoo: &'a OdooStandIn,
    write_date: String,
    writes: Vec<(u64, Map<String, Value>)>,
    created: Vec<u64>,
    committed: bool,
}

impl Transaction<'_> {
    /// Returns the `write_date` of the transaction's leads at full precision
    /// ("YYYY-MM-DD HH:MM:SS.ffffff").
    pub fn write_date(&self) -> &str {
        &self.write_date
    }

    /// Writes `fields` (a JSON object) into lead `id` at commit. Panics if the lead does not
    /// exist.
    pub fn update_lead(&mut self, id: u64, fields: Value) {
        let exists = self.odoo.lock().model("crm.lead").records.contains_key(&id);
        assert!(
            exists,
            "update_lead: lead {id} not found in the Odoo stand-in"
        );
        self.writes.push((id, expect_object(fields, "update_lead")));
    }

    /// Creates a lead from `fields` and returns its id, which the sequence hands out at once.
    /// The lead stays invisible until commit.
    pub fn create_lead(&mut self, fields: Value) -> u64 {
        let mut state = self.odoo.lock();
        let id = state.insert_lead(expect_object(fields, "create_lead"), &self.write_date);
        state.hidden.insert(id);
        self.created.push(id);
        id
    }

    /// Commits: the leads written and created become visible with the transaction's
    /// `write_date`.
    pub fn commit(mut self) {
        let mut state = self.odoo.lock();
        for id in self.created.drain(..) {
            state.hidden.remove(&id);
        }
        for (id, fields) in self.writes.drain(..) {
            state.write_lead(id, fields, Some(self.write_date.clone()));
        }
        self.committed = true;
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let mut state = self.odoo.lock();
        for id in &self.created {
            state.hidden.remove(id);
            state.model_mut("crm.lead").records.remove(id);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// State

struct Failure {
    remaining_successes: usize,
    status: u16,
}

/// One model's `fields_get` result, default order and records by id.
struct ModelData {
    fields: Map<String, Value>,
    default_order: &'static str,
    records: BTreeMap<u64, Map<String, Value>>,
}

/// Pages and results copied from the recordings, loaded once per stand-in.
struct RecordedPages {
    /// `common.version` result.
    version: Value,
    /// HTML 404 page of a route that does not exist (≤18 `/web/version`).
    not_found_html: String,
    /// 19.0 `/web/version` JSON body.
    web_version_json: String,
    /// 19.0 JSON-2 page for an `X-Odoo-Database` that does not exist.
    nodb_html: String,
    /// 19.0 JSON-2 page for a wrong Content-Type.
    json2_wrong_content_type_html: String,
    /// ≤18 `/jsonrpc` page for a wrong Content-Type.
    jsonrpc_wrong_content_type_html: String,
}

struct State {
    config: StandInConfig,
    models: BTreeMap<String, ModelData>,
    /// Display names of related records from related.json, by (model, id).
    related_names: HashMap<(String, u64), String>,
    /// Partners invented for `post_message` authors that related.json does not list.
    extra_partners: HashMap<String, u64>,
    pages: RecordedPages,
    hidden: BTreeSet<u64>,
    clock: Option<String>,
    /// The last transaction start handed out, in microseconds since 1970.
    last_stamp: i64,
    /// State of the generator that picks the microseconds of transaction starts.
    random: u64,
    requests: Vec<RecordedRequest>,
    down: bool,
    failure: Option<Failure>,
    next_lead_id: u64,
}

impl State {
    fn new(config: StandInConfig, leads: Vec<Map<String, Value>>) -> State {
        let version = config.version;
        let related: Value = serde_json::from_str(&read_data("odoo-demo/related.json"))
            .expect("tests/data/odoo-demo/related.json is valid JSON");
        let mut related_names = HashMap::new();
        for (model, rows) in related.as_object().expect("related.json is an object") {
            for row in rows.as_array().into_iter().flatten() {
                if let (Some(id), Some(name)) = (row["id"].as_u64(), row["name"].as_str()) {
                    related_names.insert((model.clone(), id), name.to_string());
                }
            }
        }
        let mut state = State {
            config,
            models: BTreeMap::new(),
            related_names,
            extra_partners: HashMap::new(),
            pages: load_pages(version),
            hidden: BTreeSet::new(),
            clock: None,
            last_stamp: 0,
            random: RANDOM_SEED,
            requests: Vec::new(),
            down: false,
            failure: None,
            next_lead_id: 1,
        };
        state.models.insert(
            "crm.lead".into(),
            ModelData {
                fields: crm_lead_fields_get(version),
                default_order: "priority desc, id desc",
                records: BTreeMap::new(),
            },
        );
        state.load_related_model(
            &related,
            "crm.stage",
            crm_stage_fields(),
            "sequence, name, id",
        );
        state.load_related_model(&related, "res.users", res_users_fields(), "name, id");
        state.load_related_model(&related, "crm.tag", crm_tag_fields(), "name, id");
        state.load_leads(leads);
        state.load_messages();
        state
    }

    fn load_leads(&mut self, leads: Vec<Map<String, Value>>) {
        let now = self.now();
        let mut next_id = 1;
        for mut lead in leads {
            let id = lead.get("id").and_then(Value::as_u64).unwrap_or(next_id);
            next_id = next_id.max(id + 1);
            lead.insert("id".into(), json!(id));
            for key in ["create_date", "write_date"] {
                if !lead.contains_key(key) {
                    lead.insert(key.into(), json!(now.clone()));
                }
            }
            let lead = self.normalize_lead(lead);
            self.model_mut("crm.lead").records.insert(id, lead);
        }
        self.next_lead_id = next_id;
    }

    /// Loads mail_message.json and fills in the fields the file leaves out: `date` is the lead's
    /// create_date plus one minute per message id, emails have no author, comments are the admin's.
    fn load_messages(&mut self) {
        let messages: Vec<Map<String, Value>> =
            serde_json::from_str(&read_data("odoo-demo/mail_message.json"))
                .expect("tests/data/odoo-demo/mail_message.json is a list of objects");
        let mut records = BTreeMap::new();
        for mut message in messages {
            let id = message["id"]
                .as_u64()
                .expect("every demo message has an id");
            let lead_created = message["res_id"]
                .as_u64()
                .and_then(|lead_id| self.model("crm.lead").records.get(&lead_id))
                .and_then(|lead| lead.get("create_date"))
                .and_then(Value::as_str)
                .unwrap_or(DEMO_REFERENCE_TIME)
                .to_string();
            let base = parse_datetime(&lead_created).unwrap_or(0);
            let date = format_datetime(base + 60 * id as i64);
            let is_comment = message.get("message_type") == Some(&json!("comment"));
            let defaults = [
                ("date", json!(date)),
                (
                    "author_id",
                    if is_comment {
                        json!([ADMIN_PARTNER.0, ADMIN_PARTNER.1])
                    } else {
                        json!(false)
                    },
                ),
                ("message_type", json!("email")),
                ("subtype_id", json!([1, "Discussions"])),
                ("body", json!("")),
                ("model", json!("crm.lead")),
                ("res_id", json!(false)),
                ("subject", json!(false)),
                ("email_from", json!(false)),
                ("create_date", json!(date)),
                ("write_date", json!(date)),
            ];
            for (key, value) in defaults {
                if !message.contains_key(key) {
                    message.insert(key.into(), value);
                }
            }
            records.insert(id, message);
        }
        self.models.insert(
            "mail.message".into(),
            ModelData {
                fields: mail_message_fields(),
                default_order: "id desc",
                records,
            },
        );
    }

    fn load_related_model(
        &mut self,
        related: &Value,
        model: &str,
        fields: Map<String, Value>,
        default_order: &'static str,
    ) {
        let mut records = BTreeMap::new();
        for row in related[model].as_array().into_iter().flatten() {
            let mut record = row.as_object().cloned().unwrap_or_default();
            let id = record["id"]
                .as_u64()
                .expect("every related record has an id");
            if model == "res.users" {
                let login = if id == ADMIN_UID {
                    self.config.login.clone()
                } else {
                    format!("user{id}")
                };
                record.entry("login").or_insert(json!(login));
                record.entry("active").or_insert(json!(true));
            }
            record
                .entry("create_date")
                .or_insert(json!(DEMO_REFERENCE_TIME));
            record
                .entry("write_date")
                .or_insert(json!(DEMO_REFERENCE_TIME));
            records.insert(id, record);
        }
        self.models.insert(
            model.into(),
            ModelData {
                fields,
                default_order,
                records,
            },
        );
    }

    fn model(&self, name: &str) -> &ModelData {
        &self.models[name]
    }

    fn model_mut(&mut self, name: &str) -> &mut ModelData {
        self.models.get_mut(name).expect("model is loaded")
    }

    fn now(&self) -> String {
        self.clock.clone().unwrap_or_else(|| {
            let seconds = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .expect("the system clock is after 1970")
                .as_secs();
            format_datetime(seconds as i64)
        })
    }

    /// Returns the start of a new transaction as PostgreSQL stores it: the clock's second with a
    /// nonzero microsecond part, later than the previous transaction's start in that second.
    // NOTE: a thousand or so transactions in one fixed second exhaust its microseconds; the
    // ones after that share the second's last microsecond.
    fn transaction_stamp(&mut self) -> String {
        let second = parse_datetime(&self.now()).expect("the clock holds a valid datetime");
        let second_start = second * MICROS_PER_SECOND;
        let stamp = if self.last_stamp.div_euclid(MICROS_PER_SECOND) == second {
            self.last_stamp + 1 + self.next_random() % 1_000
        } else {
            second_start + 1 + self.next_random() % 500_000
        };
        self.last_stamp = stamp.min(second_start + MICROS_PER_SECOND - 1);
        format_datetime_micros(self.last_stamp)
    }

    /// Returns the next number of a splitmix64 sequence, so that runs are reproducible.
    fn next_random(&mut self) -> i64 {
        self.random = self.random.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.random;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 1) as i64
    }

    /// Creates a lead from `fields` with `create_date` and `write_date` set to `stamp`, and
    /// returns its id.
    fn insert_lead(&mut self, fields: Map<String, Value>, stamp: &str) -> u64 {
        let id = self.next_lead_id;
        self.next_lead_id += 1;
        let mut record = Map::new();
        record.insert("id".into(), json!(id));
        record.insert("active".into(), json!(true));
        record.insert("type".into(), json!("lead"));
        for (key, value) in fields {
            record.insert(key, value);
        }
        record.insert("id".into(), json!(id));
        record.insert("create_date".into(), json!(stamp));
        record.insert("write_date".into(), json!(stamp));
        let record = self.normalize_lead(record);
        self.model_mut("crm.lead").records.insert(id, record);
        id
    }

    /// Brings a lead into this version's shape: `won_status` only in 19.0, `mobile` and `title`
    /// only up to 18.0, `date_action_last` instead of `date_automation_last` in 16.0, many2one
    /// values as `[id, name]`.
    fn normalize_lead(&self, mut lead: Map<String, Value>) -> Map<String, Value> {
        let version = self.config.version;
        if version == OdooVersion::V19 {
            lead.remove("mobile");
            lead.remove("title");
            if !lead.contains_key("won_status") {
                let status = self.won_status(&lead);
                lead.insert("won_status".into(), json!(status));
            }
        } else {
            lead.remove("won_status");
            lead.entry("mobile").or_insert(json!(false));
            lead.entry("title").or_insert(json!(false));
        }
        if version == OdooVersion::V16 {
            if let Some(value) = lead.remove("date_automation_last") {
                lead.insert("date_action_last".into(), value);
            }
        }
        let fields = &self.model("crm.lead").fields;
        let names: Vec<String> = lead.keys().cloned().collect();
        for name in names {
            let Some(definition) = fields.get(&name) else {
                continue;
            };
            if definition["type"] == "many2one" {
                if let Some(id) = lead[&name].as_u64() {
                    let relation = definition["relation"].as_str().unwrap_or_default();
                    let display = self.display_name(relation, id);
                    lead.insert(name, json!([id, display]));
                }
            }
        }
        lead
    }

    /// Computes 19.0's `won_status`: won at probability 100 in a won stage, lost when archived at
    /// probability 0, pending otherwise.
    fn won_status(&self, lead: &Map<String, Value>) -> &'static str {
        let probability = lead
            .get("probability")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let active = lead.get("active").and_then(Value::as_bool).unwrap_or(true);
        let stage_id = lead.get("stage_id").and_then(many2one_id);
        let stage_is_won = stage_id
            .and_then(|id| {
                self.models
                    .get("crm.stage")
                    .and_then(|stages| stages.records.get(&id))
            })
            .and_then(|stage| stage.get("is_won"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if probability == 100.0 && stage_is_won {
            "won"
        } else if !active && probability == 0.0 {
            "lost"
        } else {
            "pending"
        }
    }

    /// Writes `fields` into lead `id`; sets write_date to `write_date` when given.
    fn write_lead(&mut self, id: u64, fields: Map<String, Value>, write_date: Option<String>) {
        let mut lead = self
            .model("crm.lead")
            .records
            .get(&id)
            .cloned()
            .unwrap_or_else(|| panic!("lead {id} not found in the Odoo stand-in"));
        let sets_won_status = fields.contains_key("won_status");
        for (key, value) in fields {
            lead.insert(key, value);
        }
        if let Some(write_date) = write_date {
            lead.insert("write_date".into(), json!(write_date));
            if self.config.version == OdooVersion::V19 && !sets_won_status {
                let status = self.won_status(&lead);
                lead.insert("won_status".into(), json!(status));
            }
        }
        let lead = self.normalize_lead(lead);
        self.model_mut("crm.lead").records.insert(id, lead);
    }

    fn display_name(&self, model: &str, id: u64) -> String {
        if let Some(name) = self.related_names.get(&(model.to_string(), id)) {
            return name.clone();
        }
        if let Some(record) = self
            .models
            .get(model)
            .and_then(|data| data.records.get(&id))
        {
            if let Some(name) = record.get("name").and_then(Value::as_str) {
                return name.to_string();
            }
        }
        format!("{model},{id}")
    }

    /// Finds the partner id and email of a chatter author by name. Names that related.json does not
    /// list get a new partner id from 1000 on.
    fn partner_for_author(&mut self, author: &str) -> (u64, Value) {
        if author == ADMIN_PARTNER.1 {
            return (ADMIN_PARTNER.0, json!(false));
        }
        let known = self
            .related_names
            .iter()
            .find(|((model, _), name)| model == "res.partner" && name.as_str() == author)
            .map(|((_, id), _)| *id);
        if let Some(id) = known {
            let related: Value = serde_json::from_str(&read_data("odoo-demo/related.json"))
                .expect("related.json is valid JSON");
            let email = related["res.partner"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|partner| partner["id"] == json!(id))
                .map(|partner| partner["email"].clone())
                .unwrap_or(json!(false));
            return (id, email);
        }
        let next = 1000 + self.extra_partners.len() as u64;
        let id = *self
            .extra_partners
            .entry(author.to_string())
            .or_insert(next);
        (id, json!(false))
    }
}

// ---------------------------------------------------------------------------------------------
// Data files

fn data_path(relative: &str) -> String {
    format!("{}/tests/data/{relative}", env!("CARGO_MANIFEST_DIR"))
}

fn read_data(relative: &str) -> String {
    let path = data_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("failed to read {path}: {error}"))
}

/// Returns the body of a recorded `.txt` file, whose last line contains the HTTP status and
/// Content-Type and is separated from the body by one newline.
fn recorded_txt_body(relative: &str) -> String {
    let text = read_data(relative);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let (body, _status_line) = text
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("{relative}: expected a body and a status line"));
    body.to_string()
}

fn recorded_result(version: OdooVersion, file: &str) -> Value {
    let relative = format!("recorded/{}/{file}", version.recorded_dir());
    let envelope: Value = serde_json::from_str(&read_data(&relative))
        .unwrap_or_else(|error| panic!("{relative} is not valid JSON: {error}"));
    envelope["result"].clone()
}

/// Returns the 44 demo leads of tests/data/odoo-demo/crm_lead.json (19.0 shape).
pub fn demo_leads() -> Vec<Map<String, Value>> {
    serde_json::from_str(&read_data("odoo-demo/crm_lead.json"))
        .expect("tests/data/odoo-demo/crm_lead.json is a list of objects")
}

fn load_pages(version: OdooVersion) -> RecordedPages {
    let dir = version.recorded_dir();
    let version_result = match version {
        OdooVersion::V16 => json!({
            "server_version": "16.0",
            "server_version_info": [16, 0, 0, "final", 0, ""],
            "server_serie": "16.0",
            "protocol_version": 1,
        }),
        _ => recorded_result(version, "jsonrpc_common_version.json"),
    };
    // 19.0's /web/version exists, so the 404 page of an unknown route comes from the 18.0 recording.
    let not_found_dir = if version == OdooVersion::V19 {
        "odoo18"
    } else {
        dir
    };
    RecordedPages {
        version: version_result,
        not_found_html: recorded_txt_body(&format!("recorded/{not_found_dir}/web_version.txt")),
        web_version_json: recorded_txt_body("recorded/odoo19/web_version.txt"),
        nodb_html: recorded_txt_body("recorded/odoo19/json2_unknown_database.txt"),
        json2_wrong_content_type_html: recorded_txt_body(
            "recorded/odoo19/json2_wrong_content_type.txt",
        ),
        jsonrpc_wrong_content_type_html: recorded_txt_body(
            "recorded/odoo17/jsonrpc_wrong_content_type.txt",
        ),
    }
}

/// 19.0's 415 page for `/jsonrpc`. The recording (odoo19/jsonrpc_wrong_content_type.http) keeps
/// only the first 105 of its 288 bytes. This reconstruction has the recorded Content-Length and
/// the wording of the recorded JSON-2 415 page.
const JSONRPC_WRONG_CONTENT_TYPE_HTML_V19: &str = "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported Media Type</h1>\n<p>Request inferred type is compatible with [&#39;http&#39;] but &#39;/jsonrpc&#39; is type=&#39;jsonrpc&#39;.<br><br>Please verify the Content-Type request header and try again.</p>\n";

fn crm_lead_fields_get(version: OdooVersion) -> Map<String, Value> {
    let recorded = recorded_result(version, "jsonrpc_crm_lead_fields_get.json");
    let mut fields = recorded
        .as_object()
        .cloned()
        .expect("fields_get result is an object");
    if version == OdooVersion::V16 {
        fields = fields_get_v16(fields);
    }
    fields
}

/// Derives 16.0's crm.lead fields from 17.0's: `date_automation_last` was `date_action_last`, and
/// `recurring_revenue_prorated` and `email_domain_criterion` are new in 17.0 (OpenUpgrade crm
/// 17.0 analysis).
// NOTE: 16.0 was not recorded; other 16→17 field differences are not reproduced.
fn fields_get_v16(fields: Map<String, Value>) -> Map<String, Value> {
    let mut result = Map::new();
    for (name, mut definition) in fields {
        match name.as_str() {
            "recurring_revenue_prorated" | "email_domain_criterion" => continue,
            "date_automation_last" => {
                definition["string"] = json!("Last Action");
                result.insert("date_action_last".into(), definition);
            }
            _ => {
                result.insert(name, definition);
            }
        }
    }
    result
}

fn field(field_type: &str, string: &str) -> Value {
    json!({"readonly": false, "store": true, "string": string, "type": field_type})
}

fn relational(field_type: &str, string: &str, relation: &str) -> Value {
    json!({"readonly": false, "relation": relation, "store": true, "string": string, "type": field_type})
}

fn magic_fields(fields: &mut Map<String, Value>) {
    fields.insert(
        "id".into(),
        json!({"readonly": true, "store": true, "string": "ID", "type": "integer"}),
    );
    fields.insert(
        "display_name".into(),
        json!({"readonly": true, "store": false, "string": "Display Name", "type": "char"}),
    );
    fields.insert(
        "create_date".into(),
        json!({"readonly": true, "store": true, "string": "Created on", "type": "datetime"}),
    );
    fields.insert(
        "write_date".into(),
        json!({"readonly": true, "store": true, "string": "Last Updated on", "type": "datetime"}),
    );
}

// NOTE: the mail.message, crm.stage and res.users field lists below are written by hand because
// no recording has them. They cover the fields the stand-in stores, not every field Odoo has.
fn mail_message_fields() -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("subject".into(), field("char", "Subject"));
    fields.insert("date".into(), field("datetime", "Date"));
    fields.insert("body".into(), field("html", "Contents"));
    fields.insert("model".into(), field("char", "Related Document Model"));
    fields.insert(
        "res_id".into(),
        field("many2one_reference", "Related Document ID"),
    );
    fields.insert(
        "message_type".into(),
        json!({"readonly": false, "store": true, "string": "Type", "type": "selection", "selection": [
            ["email", "Incoming Email"], ["comment", "Comment"], ["email_outgoing", "Outgoing Email"],
            ["notification", "System notification"], ["auto_comment", "Automated Targeted Notification"],
            ["user_notification", "User Specific Notification"]]}),
    );
    fields.insert(
        "subtype_id".into(),
        relational("many2one", "Subtype", "mail.message.subtype"),
    );
    fields.insert(
        "author_id".into(),
        relational("many2one", "Author", "res.partner"),
    );
    fields.insert("email_from".into(), field("char", "From"));
    magic_fields(&mut fields);
    fields
}

fn crm_stage_fields() -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("name".into(), field("char", "Stage Name"));
    fields.insert("sequence".into(), field("integer", "Sequence"));
    fields.insert("is_won".into(), field("boolean", "Is Won Stage?"));
    magic_fields(&mut fields);
    fields
}

fn crm_tag_fields() -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("name".into(), field("char", "Tag Name"));
    fields.insert("color".into(), field("integer", "Color"));
    magic_fields(&mut fields);
    fields
}

fn res_users_fields() -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("name".into(), field("char", "Name"));
    fields.insert("login".into(), field("char", "Login"));
    fields.insert("active".into(), field("boolean", "Active"));
    magic_fields(&mut fields);
    fields
}

// ---------------------------------------------------------------------------------------------
// HTTP serving

/// A response ready to send, with the number of records it carries (for `latency_per_record`).
struct Reply {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
    records: usize,
}

impl Reply {
    fn new(status: u16, content_type: &'static str, body: String) -> Reply {
        Reply {
            status,
            content_type,
            headers: Vec::new(),
            body,
            records: 0,
        }
    }

    fn html(status: u16, body: String) -> Reply {
        Reply::new(status, "text/html; charset=utf-8", body)
    }

    fn json(status: u16, body: String) -> Reply {
        Reply::new(status, "application/json; charset=utf-8", body)
    }
}

fn serve(server: &tiny_http::Server, state: &Mutex<State>, stop: &AtomicBool) {
    while !stop.load(AtomicOrdering::SeqCst) {
        let mut request = match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break,
        };
        let mut body = String::new();
        if let Err(error) = request.as_reader().read_to_string(&mut body) {
            eprintln!(
                "Odoo stand-in: failed to read the body of {} {}: {error}",
                request.method(),
                request.url()
            );
        }
        let recorded = record_request(&request, body);
        let (reply, delay) = {
            let mut state = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let reply = route(&mut state, &recorded);
            state.requests.push(recorded);
            let delay =
                state.config.latency + state.config.latency_per_record * reply.records as u32;
            (reply, delay)
        };
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        let mut response = tiny_http::Response::from_data(reply.body.into_bytes())
            .with_status_code(reply.status)
            .with_header(header("Content-Type", reply.content_type));
        for (name, value) in &reply.headers {
            response.add_header(header(name, value));
        }
        // A client that gave up (timeout tests) makes this fail; the stand-in goes on serving.
        if let Err(error) = request.respond(response) {
            eprintln!("Odoo stand-in: failed to send the response: {error}");
        }
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("header is ASCII")
}

fn record_request(request: &tiny_http::Request, body: String) -> RecordedRequest {
    let path = request.url().to_string();
    let headers = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_string(),
                h.value.as_str().to_string(),
            )
        })
        .collect();
    let mut recorded = RecordedRequest {
        http_method: request.method().as_str().to_string(),
        path: path.clone(),
        headers,
        body,
        service: None,
        method: None,
        model: None,
        rpc_method: None,
    };
    let route_path = path.split('?').next().unwrap_or_default();
    if route_path == "/jsonrpc" {
        if let Ok(json) = serde_json::from_str::<Value>(&recorded.body) {
            let params = &json["params"];
            recorded.service = params["service"].as_str().map(str::to_string);
            recorded.method = params["method"].as_str().map(str::to_string);
            if recorded.service.as_deref() == Some("object") {
                recorded.model = params["args"][3].as_str().map(str::to_string);
                recorded.rpc_method = params["args"][4].as_str().map(str::to_string);
            }
        }
    } else if let Some(rest) = route_path.strip_prefix("/json/2/") {
        let mut parts = rest.split('/');
        if let (Some(model), Some(method), None) = (parts.next(), parts.next(), parts.next()) {
            recorded.model = Some(model.to_string());
            recorded.rpc_method = Some(method.to_string());
        }
    }
    recorded
}

fn route(state: &mut State, request: &RecordedRequest) -> Reply {
    if state.down {
        return proxy_error_page(502);
    }
    if let Some(failure) = &mut state.failure {
        if failure.remaining_successes == 0 {
            return proxy_error_page(failure.status);
        }
        failure.remaining_successes -= 1;
    }
    let version = state.config.version;
    let path = request.path.split('?').next().unwrap_or_default();
    if path == "/jsonrpc" {
        return handle_jsonrpc(state, request);
    }
    if version.has_json2() {
        if (path == "/web/version" || path == "/json/version") && request.http_method == "GET" {
            return Reply::json(200, state.pages.web_version_json.clone());
        }
        if path == "/json/2" || path.starts_with("/json/2/") {
            return handle_json2(state, request);
        }
    }
    Reply::html(404, state.pages.not_found_html.clone())
}

/// Returns the HTML error page a reverse proxy (nginx) sends for `status`.
fn proxy_error_page(status: u16) -> Reply {
    let title = format!("{status} {}", reason_phrase(status));
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    Reply::new(status, "text/html", body)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        _ => "Error",
    }
}

fn content_type_base(request: &RecordedRequest) -> String {
    request
        .header("Content-Type")
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

// ---------------------------------------------------------------------------------------------
// Exceptions

/// A Python exception as Odoo serialises it (`serialize_exception`).
#[derive(Debug)]
struct OdooError {
    /// `module.Class`, e.g. "odoo.exceptions.AccessDenied".
    name: String,
    message: String,
    arguments: Vec<Value>,
    /// HTTP status of the JSON-2 response (`http_status` of Odoo exceptions, `code` of werkzeug ones).
    http_status: u16,
}

impl OdooError {
    fn new(name: &str, message: impl Into<String>, http_status: u16) -> OdooError {
        let message = message.into();
        OdooError {
            name: name.to_string(),
            arguments: vec![json!(message)],
            message,
            http_status,
        }
    }

    /// Builds a werkzeug HTTPException, whose `arguments` are the description and the status code.
    fn werkzeug(class: &str, message: impl Into<String>, status: u16) -> OdooError {
        let message = message.into();
        OdooError {
            name: format!("werkzeug.exceptions.{class}"),
            arguments: vec![json!(message), json!(status)],
            message,
            http_status: status,
        }
    }

    fn value_error(message: impl Into<String>) -> OdooError {
        OdooError::new("builtins.ValueError", message, 500)
    }

    fn type_error(message: impl Into<String>) -> OdooError {
        OdooError::new("builtins.TypeError", message, 500)
    }

    fn user_error(message: impl Into<String>) -> OdooError {
        OdooError::new("odoo.exceptions.UserError", message, 422)
    }

    fn access_denied() -> OdooError {
        OdooError::new("odoo.exceptions.AccessDenied", "Access Denied", 403)
    }

    fn access_error(message: impl Into<String>) -> OdooError {
        OdooError::new("odoo.exceptions.AccessError", message, 403)
    }

    fn operational_error(database: &str) -> OdooError {
        OdooError::new(
            "psycopg2.OperationalError",
            format!(
                "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"{database}\" does not exist\n"
            ),
            500,
        )
    }

    /// Returns a short stand-in traceback ending with the exception line, as `debug` carries it.
    fn debug(&self, version: OdooVersion) -> String {
        let short_name = self.name.strip_prefix("builtins.").unwrap_or(&self.name);
        let last_line = if self.name.starts_with("werkzeug.exceptions.") {
            let status = self.http_status;
            format!(
                "{short_name}: {status} {}: {}",
                reason_phrase(status),
                self.message
            )
        } else {
            format!("{short_name}: {}", self.message)
        };
        // 19.0 suppresses the traceback of AccessDenied (recorded in odoo19/jsonrpc_execute_kw_access_denied.json).
        if version == OdooVersion::V19 && self.name == "odoo.exceptions.AccessDenied" {
            return format!("{last_line}\n");
        }
        format!(
            "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/http.py\", line 1, in _serve_db\n    (Odoo stand-in: no real traceback)\n{last_line}\n"
        )
    }
}

/// Serialises `pairs` as a JSON object in the given key order, with Python's separators.
fn ordered_object(pairs: &[(&str, Value)]) -> String {
    let members: Vec<String> = pairs
        .iter()
        .map(|(key, value)| format!("{}: {}", python_json(&json!(key)), python_json(value)))
        .collect();
    format!("{{{}}}", members.join(", "))
}

/// Serialises the `data` member of a JSON-RPC error, or a JSON-2 error body, in the version's key
/// order (16–18: name, debug, message, arguments, context; 19: name, message, arguments, context,
/// debug).
fn serialized_exception(error: &OdooError, version: OdooVersion) -> String {
    let name = ("name", json!(error.name));
    let debug = ("debug", json!(error.debug(version)));
    let message = ("message", json!(error.message));
    let arguments = ("arguments", Value::Array(error.arguments.clone()));
    let context = ("context", json!({}));
    if version == OdooVersion::V19 {
        ordered_object(&[name, message, arguments, context, debug])
    } else {
        ordered_object(&[name, debug, message, arguments, context])
    }
}

/// JSON formatter with the separators of Python's `json.dumps` (", " and ": "), which Odoo uses.
struct PythonFormatter;

impl serde_json::ser::Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
    ) -> std::io::Result<()> {
        writer.write_all(b": ")
    }
}

fn python_json(value: &Value) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    serde::Serialize::serialize(value, &mut serializer).expect("a JSON value serialises");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

/// Formats a JSON value as Python's `repr` does, for error messages that quote a domain condition.
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64()) {
                if float.fract() == 0.0 && float.abs() < 1e16 {
                    format!("{float:.1}")
                } else {
                    format!("{float}")
                }
            } else {
                number.to_string()
            }
        }
        Value::String(text) => {
            let quote = if text.contains('\'') && !text.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::new();
            out.push(quote);
            for c in text.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(key, value)| format!("{}: {}", python_repr(&json!(key)), python_repr(value)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON-RPC

fn handle_jsonrpc(state: &mut State, request: &RecordedRequest) -> Reply {
    let version = state.config.version;
    let content_type = content_type_base(request);
    if content_type != "application/json" && content_type != "application/json-rpc" {
        if version == OdooVersion::V19 {
            let mut reply = Reply::html(415, JSONRPC_WRONG_CONTENT_TYPE_HTML_V19.to_string());
            reply
                .headers
                .push(("Accept", "application/json, application/json-rpc".into()));
            return reply;
        }
        return Reply::html(400, state.pages.jsonrpc_wrong_content_type_html.clone());
    }

    let body: Value = match serde_json::from_str(&request.body) {
        Ok(body) => body,
        Err(_) => return Reply::html(400, "Invalid JSON data".into()),
    };

    let Some(body) = body.as_object() else {
        return Reply::html(400, "Invalid JSON-RPC data".into());
    };

    let id = body.get("id").cloned().unwrap_or(Value::Null);
    let params = body.get("params").cloned().unwrap_or(json!({}));
    let outcome = dispatch_rpc(state, &params);
    let mut records = 0;
    let body = match outcome {
        Ok(result) => {
            records = result.as_array().map_or(0, Vec::len);
            if result.is_null() {
                ordered_object(&[("jsonrpc", json!("2.0")), ("id", id)])
            } else {
                ordered_object(&[("jsonrpc", json!("2.0")), ("id", id), ("result", result)])
            }
        }
        Err(error) => {
            let data = serialized_exception(&error, version);
            let code = python_json(&json!(version.jsonrpc_error_code()));
            format!(
                "{{\"jsonrpc\": \"2.0\", \"id\": {}, \"error\": {{\"code\": {code}, \"message\": \"Odoo Server Error\", \"data\": {data}}}}}",
                python_json(&id)
            )
        }
    };

    let mut reply = Reply::json(200, body);
    reply.records = records;
    reply
}

fn dispatch_rpc(state: &mut State, params: &Value) -> Result<Value, OdooError> {
    let Some(params) = params.as_object() else {
        return Err(OdooError::type_error(
            "jsonrpc() argument after ** must be a mapping",
        ));
    };
    for name in ["service", "method", "args"] {
        if !params.contains_key(name) {
            return Err(OdooError::type_error(format!(
                "jsonrpc() missing 1 required positional argument: '{name}'"
            )));
        }
    }
    let service = params["service"].as_str().unwrap_or_default();
    let method = params["method"].as_str().unwrap_or_default();
    let args = params["args"].as_array().cloned().unwrap_or_default();
    match service {
        "common" => dispatch_common(state, method, &args),
        "object" => dispatch_object(state, method, &args),
        // NOTE: the `db` service (list, create, drop...) is not reproduced.
        other => Err(OdooError::new(
            "builtins.KeyError",
            python_repr(&json!(other)),
            500,
        )),
    }
}

fn dispatch_common(state: &State, method: &str, args: &[Value]) -> Result<Value, OdooError> {
    let arity = match method {
        "version" => 0,
        "login" => 3,
        "authenticate" => 4,
        other => {
            return Err(OdooError::new(
                "builtins.Exception",
                format!("Method not found: {other}"),
                500,
            ))
        }
    };
    if args.len() != arity {
        return Err(OdooError::type_error(format!(
            "exp_{method}() takes {arity} positional arguments but {} were given",
            args.len()
        )));
    }
    if method == "version" {
        return Ok(state.pages.version.clone());
    }
    let database = args[0].as_str().unwrap_or_default();
    if database != state.config.database {
        return Err(OdooError::operational_error(database));
    }
    let login = args[1].as_str().unwrap_or_default();
    let password = args[2].as_str().unwrap_or_default();
    if login == state.config.login && state.accepts_password(password) {
        Ok(json!(ADMIN_UID))
    } else {
        Ok(json!(false))
    }
}

impl State {
    /// Checks a JSON-RPC password slot, which accepts the password or the API key (Odoo's
    /// non-interactive credential check).
    fn accepts_password(&self, password: &str) -> bool {
        !password.is_empty()
            && (password == self.config.password || password == self.config.api_key)
    }
}

fn dispatch_object(state: &mut State, method: &str, args: &[Value]) -> Result<Value, OdooError> {
    if method != "execute_kw" && method != "execute" {
        return Err(OdooError::new(
            "builtins.NameError",
            format!("Method not available {method}"),
            500,
        ));
    }
    if args.len() < 3 {
        return Err(OdooError::type_error(format!(
            "dispatch() needs db, uid and password, got {} arguments",
            args.len()
        )));
    }
    let database = args[0].as_str().unwrap_or_default();
    if database != state.config.database {
        return Err(OdooError::operational_error(database));
    }
    let uid = match &args[1] {
        Value::Number(number) => number.as_u64().unwrap_or(0),
        Value::Bool(_) | Value::Null => 0,
        other => {
            return Err(OdooError::value_error(format!(
                "invalid literal for int() with base 10: {}",
                python_repr(other)
            )))
        }
    };
    let password = args[2].as_str().unwrap_or_default();
    if uid != ADMIN_UID || !state.accepts_password(password) {
        return Err(OdooError::access_denied());
    }
    let rest = &args[3..];
    let (model, model_method, positional, kwargs) = if method == "execute_kw" {
        if rest.len() < 3 {
            let missing = ["obj", "method", "args"][rest.len()..].join("', '");
            return Err(OdooError::type_error(format!(
                "execute_kw() missing required positional arguments: '{missing}'"
            )));
        }
        let kwargs = match rest.get(3) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(other) => {
                return Err(OdooError::type_error(format!(
                    "odoo.api.call_kw() argument after ** must be a mapping, not {}",
                    python_type(other)
                )))
            }
        };
        let positional = match &rest[2] {
            Value::Array(items) => items.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        };
        (
            rest[0].as_str().unwrap_or_default(),
            rest[1].as_str().unwrap_or_default(),
            positional,
            kwargs,
        )
    } else {
        if rest.len() < 2 {
            return Err(OdooError::type_error(
                "execute() missing required positional arguments: 'obj', 'method'",
            ));
        }
        (
            rest[0].as_str().unwrap_or_default(),
            rest[1].as_str().unwrap_or_default(),
            rest[2..].to_vec(),
            Map::new(),
        )
    };
    let call = ModelCall {
        protocol: Protocol::JsonRpc,
        model: model.to_string(),
        method: model_method.to_string(),
        positional,
        kwargs,
        ids: None,
    };
    call_model(state, call)
}

fn python_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

// ---------------------------------------------------------------------------------------------
// JSON-2

fn handle_json2(state: &mut State, request: &RecordedRequest) -> Reply {
    let version = state.config.version;
    let path = request.path.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path
        .trim_start_matches("/json/2")
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(database) = request.header("X-Odoo-Database") {
        if database != state.config.database {
            return Reply::html(404, state.pages.nodb_html.clone());
        }
    }

    if segments.len() != 2 || request.http_method != "POST" {
        // NOTE: the JSON body of Odoo's catch-all /json/2 route was not recorded; this mirrors the
        // other werkzeug NotFound responses.
        let error = OdooError::werkzeug(
            "NotFound",
            "Did you mean POST /json/2/<model>/<method>?",
            404,
        );
        return json2_error_reply(&error, version);
    }

    let content_type = content_type_base(request);
    if content_type != "application/json" && !request.body.is_empty() {
        return Reply::html(415, state.pages.json2_wrong_content_type_html.clone());
    }

    let authorization = request.header("Authorization").unwrap_or_default();
    match bearer_token(authorization) {
        None => {
            let error = OdooError::werkzeug(
                "Unauthorized",
                "User not authenticated, use an API Key with a Bearer Authorization header.",
                401,
            );
            return json2_error_reply(&error, version);
        }
        Some(token) if token != state.config.api_key => {
            let error = OdooError::werkzeug("Unauthorized", "Invalid apikey", 401);
            let mut reply = json2_error_reply(&error, version);
            reply.headers.push(("WWW-Authenticate", "bearer".into()));
            return reply;
        }
        Some(_) => {}
    }

    let body: Value = if request.body.trim().is_empty() {
        json!({})
    } else {
        match serde_json::from_str(&request.body) {
            Ok(body) => body,
            Err(parse_error) => {
                // NOTE: the text after the colon is serde_json's, not Python's json module's.
                let message = format!("could not parse the body as json: {parse_error}");
                return json2_error_reply(
                    &OdooError::werkzeug("BadRequest", message, 400),
                    version,
                );
            }
        }
    };

    let Value::Object(mut kwargs) = body else {
        let message = "could not parse the body as json: the body must be a JSON object";
        return json2_error_reply(&OdooError::werkzeug("BadRequest", message, 400), version);
    };

    let ids = kwargs.remove("ids");
    let call = ModelCall {
        protocol: Protocol::Json2,
        model: segments[0].to_string(),
        method: segments[1].to_string(),
        positional: Vec::new(),
        kwargs,
        ids: Some(ids.unwrap_or(json!([]))),
    };

    match call_model(state, call) {
        Ok(result) => {
            let mut reply = Reply::json(200, python_json(&result));
            reply.records = result.as_array().map_or(0, Vec::len);
            reply
        }
        Err(error) => json2_error_reply(&error, version),
    }
}

/// Returns the token of an `Authorization: bearer <token>` header (scheme case-insensitive).
fn bearer_token(header_value: &str) -> Option<&str> {
    let (scheme, token) = header_value.split_once(char::is_whitespace)?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn json2_error_reply(error: &OdooError, version: OdooVersion) -> Reply {
    Reply::json(error.http_status, serialized_exception(error, version))
}

// ---------------------------------------------------------------------------------------------
// Model methods

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    JsonRpc,
    Json2,
}

/// One call of a model method, before its arguments are bound.
struct ModelCall {
    protocol: Protocol,
    model: String,
    method: String,
    positional: Vec<Value>,
    kwargs: Map<String, Value>,
    /// JSON-2 `ids` (the record ids a non-`@api.model` method runs on); `None` over JSON-RPC.
    ids: Option<Value>,
}

/// A method's Python signature: parameter names with their defaults (`None` = required), whether it
/// is `@api.model`, and whether it takes `**read_kwargs`.
struct Signature {
    params: &'static [(&'static str, Option<Value>)],
    api_model: bool,
    read_kwargs: bool,
}

fn signature(model: &str, method: &str) -> Option<Signature> {
    // Defaults are built lazily because `Value` is not const.
    static SEARCH_READ: [(&str, Option<Value>); 5] = [
        ("domain", Some(Value::Null)),
        ("fields", Some(Value::Null)),
        ("offset", Some(Value::Null)),
        ("limit", Some(Value::Null)),
        ("order", Some(Value::Null)),
    ];
    static SEARCH: [(&str, Option<Value>); 4] = [
        ("domain", None),
        ("offset", Some(Value::Null)),
        ("limit", Some(Value::Null)),
        ("order", Some(Value::Null)),
    ];
    static SEARCH_COUNT: [(&str, Option<Value>); 2] =
        [("domain", None), ("limit", Some(Value::Null))];
    static READ: [(&str, Option<Value>); 2] =
        [("fields", Some(Value::Null)), ("load", Some(Value::Null))];
    static FIELDS_GET: [(&str, Option<Value>); 2] = [
        ("allfields", Some(Value::Null)),
        ("attributes", Some(Value::Null)),
    ];
    let (params, api_model, read_kwargs): (&'static [(&str, Option<Value>)], bool, bool) =
        match method {
            "search_read" => (&SEARCH_READ, true, true),
            "search" => (&SEARCH, true, false),
            "search_count" => (&SEARCH_COUNT, true, false),
            "read" => (&READ, false, false),
            "fields_get" => (&FIELDS_GET, true, false),
            "context_get" if model == "res.users" => (&[], true, false),
            _ => return None,
        };
    Some(Signature {
        params,
        api_model,
        read_kwargs,
    })
}

/// Arguments bound to a signature, by parameter name; absent ones take their default.
type Bound = HashMap<String, Value>;

fn bind(
    call: &ModelCall,
    signature: &Signature,
    positional: &[Value],
) -> Result<(Bound, Map<String, Value>), OdooError> {
    let method = &call.method;
    let fail = |python_message: String, bind_message: String| match call.protocol {
        Protocol::JsonRpc => OdooError::type_error(format!("{method}() {python_message}")),
        Protocol::Json2 => OdooError::werkzeug("UnprocessableEntity", bind_message, 422),
    };
    if positional.len() > signature.params.len() {
        return Err(fail(
            format!(
                "takes at most {} positional arguments but {} were given",
                signature.params.len() + 1,
                positional.len() + 1
            ),
            "too many positional arguments".into(),
        ));
    }
    let mut bound = Bound::new();
    for (value, (name, _)) in positional.iter().zip(signature.params) {
        bound.insert(name.to_string(), value.clone());
    }
    let mut extra = Map::new();
    for (name, value) in &call.kwargs {
        if name == "context" {
            continue;
        }
        let known = signature.params.iter().any(|(param, _)| param == name);
        if known {
            if bound.contains_key(name) {
                return Err(fail(
                    format!("got multiple values for argument '{name}'"),
                    format!("multiple values for argument '{name}'"),
                ));
            }
            bound.insert(name.clone(), value.clone());
        } else if signature.read_kwargs {
            extra.insert(name.clone(), value.clone());
        } else {
            return Err(fail(
                format!("got an unexpected keyword argument '{name}'"),
                format!("got an unexpected keyword argument '{name}'"),
            ));
        }
    }
    for (name, default) in signature.params {
        if !bound.contains_key(*name) {
            match default {
                Some(default) => {
                    bound.insert(name.to_string(), default.clone());
                }
                None => {
                    return Err(fail(
                        format!("missing 1 required positional argument: '{name}'"),
                        format!("missing a required argument: '{name}'"),
                    ))
                }
            }
        }
    }
    Ok((bound, extra))
}

fn call_model(state: &mut State, call: ModelCall) -> Result<Value, OdooError> {
    let model_name = call.model.clone();
    let method = call.method.clone();
    if !state.models.contains_key(&model_name) {
        return Err(match call.protocol {
            Protocol::JsonRpc => {
                OdooError::user_error(format!("Object {model_name} doesn't exist"))
            }
            Protocol::Json2 => OdooError::werkzeug(
                "NotFound",
                format!("the model '{model_name}' does not exist"),
                404,
            ),
        });
    }

    if method.starts_with('_') {
        return Err(OdooError::access_error(format!(
            "Private methods (such as '{model_name}.{method}') cannot be called remotely."
        )));
    }

    // NOTE: 16.0–18.0 word a missing method differently; every version uses 19.0's text here.
    let Some(signature) = signature(&model_name, &method) else {
        let message = format!("The method '{model_name}.{method}' does not exist");
        return Err(match call.protocol {
            Protocol::JsonRpc => OdooError::new("builtins.AttributeError", message, 500),
            Protocol::Json2 => OdooError::werkzeug("NotFound", message, 404),
        });
    };

    let context = call.kwargs.get("context").cloned().unwrap_or(json!({}));
    let mut positional = call.positional.clone();
    let ids = match call.protocol {
        Protocol::Json2 => {
            let ids = call.ids.clone().unwrap_or(json!([]));
            let has_ids = ids.as_array().is_some_and(|ids| !ids.is_empty());
            if signature.api_model && has_ids {
                let message = format!("cannot call {model_name}.{method} with ids");
                return Err(OdooError::werkzeug("UnprocessableEntity", message, 422));
            }
            ids
        }
        Protocol::JsonRpc if !signature.api_model => {
            if positional.is_empty() {
                return Err(OdooError::type_error(format!(
                    "{method}() missing 1 required positional argument: 'ids'"
                )));
            }
            positional.remove(0)
        }
        Protocol::JsonRpc => json!([]),
    };

    let (bound, extra) = bind(&call, &signature, &positional)?;
    if let Some(name) = extra.keys().find(|name| name.as_str() != "load") {
        return Err(OdooError::type_error(format!(
            "BaseModel._read_format() got an unexpected keyword argument '{name}'"
        )));
    }

    let query = Query::new(state, &model_name);
    match method.as_str() {
        "search_read" => {
            let load = extra.get("load").cloned().unwrap_or(json!("_classic_read"));
            let order = order_arg(&bound["order"])?;
            let found = query.search(
                &bound["domain"],
                &context,
                int_arg(&bound["offset"]),
                limit_arg(&bound["limit"]),
                order,
            )?;
            query
                .read(&found, &bound["fields"], &load)
                .map(Value::Array)
        }
        "search" => {
            let order = order_arg(&bound["order"])?;
            let found = query.search(
                &bound["domain"],
                &context,
                int_arg(&bound["offset"]),
                limit_arg(&bound["limit"]),
                order,
            )?;
            Ok(json!(found))
        }
        "search_count" => {
            let count = query.count(&bound["domain"], &context, limit_arg(&bound["limit"]))?;
            Ok(json!(count))
        }
        "read" => {
            let ids = id_list(&ids)?;
            let load = match bound["load"] {
                Value::Null if !call.kwargs.contains_key("load") && positional.len() < 2 => {
                    json!("_classic_read")
                }
                ref value => value.clone(),
            };
            query.read(&ids, &bound["fields"], &load).map(Value::Array)
        }
        "fields_get" => Ok(query.fields_get(&bound["allfields"], &bound["attributes"])),
        "context_get" => Ok(json!({"lang": "en_US", "tz": "Europe/Brussels", "uid": ADMIN_UID})),
        _ => unreachable!("signature() only returns known methods"),
    }
}

fn int_arg(value: &Value) -> usize {
    value.as_u64().unwrap_or(0) as usize
}

fn limit_arg(value: &Value) -> Option<usize> {
    value.as_u64().map(|limit| limit as usize)
}

fn order_arg(value: &Value) -> Result<Option<String>, OdooError> {
    match value {
        Value::String(order) if !order.trim().is_empty() => Ok(Some(order.clone())),
        Value::String(_) | Value::Null | Value::Bool(false) => Ok(None),
        other => Err(OdooError::type_error(format!(
            "expected string or bytes-like object, got '{}'",
            python_type(other)
        ))),
    }
}

fn id_list(value: &Value) -> Result<Vec<u64>, OdooError> {
    match value {
        Value::Number(number) => number
            .as_u64()
            .map(|id| vec![id])
            .ok_or_else(|| invalid_ids(value)),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_u64().ok_or_else(|| invalid_ids(value)))
            .collect(),
        Value::Null | Value::Bool(false) => Ok(Vec::new()),
        _ => Err(invalid_ids(value)),
    }
}

fn invalid_ids(value: &Value) -> OdooError {
    OdooError::value_error(format!("Invalid ids {}", python_repr(value)))
}

/// Read access to one model's records with the ORM's search and read rules.
struct Query<'a> {
    state: &'a State,
    model: &'a str,
    data: &'a ModelData,
}

impl<'a> Query<'a> {
    fn new(state: &'a State, model: &'a str) -> Query<'a> {
        Query {
            state,
            model,
            data: state.model(model),
        }
    }

    fn version(&self) -> OdooVersion {
        self.state.config.version
    }

    fn is_visible(&self, id: u64) -> bool {
        !(self.model == "crm.lead" && self.state.hidden.contains(&id))
    }

    fn invalid_field(&self, name: &str) -> OdooError {
        if self.version() == OdooVersion::V19 {
            OdooError::value_error(format!("Invalid field '{name}' on '{}'", self.model))
        } else {
            OdooError::value_error(format!("Invalid field '{name}' on model '{}'", self.model))
        }
    }

    /// Returns the ids matching `domain`, as `search` does: archived rows are left out unless the
    /// context sets `active_test: false` or the domain names `active`.
    fn search(
        &self,
        domain: &Value,
        context: &Value,
        offset: usize,
        limit: Option<usize>,
        order: Option<String>,
    ) -> Result<Vec<u64>, OdooError> {
        let domain = self.parse_domain(domain)?;
        let order = self.parse_order(order.as_deref().unwrap_or(self.data.default_order))?;
        let filter_active = self.filters_active(&domain, context);
        // Only the first `offset + limit` rows in order can be returned, so the rest need no sort.
        let max_rows = limit.map(|limit| offset.saturating_add(limit));
        let ordered = match self.search_in_id_order(&domain, filter_active, &order, max_rows)? {
            Some(ids) => ids,
            None => self.search_and_sort(&domain, filter_active, &order, max_rows)?,
        };
        let ids = ordered
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .collect();
        Ok(ids)
    }

    /// Counts the rows `search` would return with no offset; the order cannot change a count.
    fn count(
        &self,
        domain: &Value,
        context: &Value,
        limit: Option<usize>,
    ) -> Result<usize, OdooError> {
        let domain = self.parse_domain(domain)?;
        let filter_active = self.filters_active(&domain, context);
        let mut count = 0;
        for (id, record) in &self.data.records {
            if self.is_match(&domain, filter_active, *id, record)? {
                count += 1;
            }
        }
        Ok(limit.map_or(count, |limit| count.min(limit)))
    }

    fn filters_active(&self, domain: &Domain, context: &Value) -> bool {
        let active_test = context.get("active_test") != Some(&json!(false));
        active_test && self.data.fields.contains_key("active") && !domain.mentions("active")
    }

    fn is_match(
        &self,
        domain: &Domain,
        filter_active: bool,
        id: u64,
        record: &Map<String, Value>,
    ) -> Result<bool, OdooError> {
        if !self.is_visible(id) {
            return Ok(false);
        }
        if filter_active && record.get("active") == Some(&json!(false)) {
            return Ok(false);
        }
        self.matches(domain, record)
    }

    /// Searches in id order without a sort when `id` is the first order term. Ids are unique and
    /// never NULL, so that term alone decides the order, and `records` iterates in id order. The
    /// scan starts at the domain's `id >` bound and stops after `max_rows` rows, as an index scan
    /// would. Returns `None` when the order does not start with `id`, or a record's `id` differs
    /// from its key.
    fn search_in_id_order(
        &self,
        domain: &Domain,
        filter_active: bool,
        order: &[OrderTerm],
        max_rows: Option<usize>,
    ) -> Result<Option<Vec<u64>>, OdooError> {
        let Some(first) = order.first().filter(|term| term.field == "id") else {
            return Ok(None);
        };
        let candidates = self
            .data
            .records
            .range(domain.id_lower_bound().unwrap_or(0)..);
        let candidates: Box<dyn Iterator<Item = (&u64, &Map<String, Value>)>> = if first.descending
        {
            Box::new(candidates.rev())
        } else {
            Box::new(candidates)
        };
        let mut ids = Vec::new();
        for (id, record) in candidates {
            if max_rows.is_some_and(|max_rows| ids.len() >= max_rows) {
                break;
            }
            if record.get("id").and_then(Value::as_u64) != Some(*id) {
                return Ok(None);
            }
            if self.is_match(domain, filter_active, *id, record)? {
                ids.push(*id);
            }
        }
        Ok(Some(ids))
    }

    /// Filters every record and sorts the matches by `order`, keeping only the first `max_rows`.
    fn search_and_sort(
        &self,
        domain: &Domain,
        filter_active: bool,
        order: &[OrderTerm],
        max_rows: Option<usize>,
    ) -> Result<Vec<u64>, OdooError> {
        let mut matches: Vec<(u64, Vec<Option<SortKey>>)> = Vec::new();
        for (id, record) in &self.data.records {
            if self.is_match(domain, filter_active, *id, record)? {
                let record_id = record["id"].as_u64().expect("records have integer ids");
                matches.push((record_id, self.sort_keys(record, order)));
            }
        }
        // Ties go to the lower id, which is the order a stable sort of the id-ordered matches
        // gives. That tie-break makes the order total, so an unstable sort returns the same rows.
        let compare = |a: &(u64, Vec<Option<SortKey>>), b: &(u64, Vec<Option<SortKey>>)| {
            compare_sort_keys(&a.1, &b.1, order).then(a.0.cmp(&b.0))
        };
        if let Some(max_rows) = max_rows.filter(|max_rows| *max_rows < matches.len()) {
            if max_rows > 0 {
                matches.select_nth_unstable_by(max_rows - 1, compare);
            }
            matches.truncate(max_rows);
        }
        matches.sort_unstable_by(compare);
        Ok(matches.into_iter().map(|(id, _)| id).collect())
    }

    /// Formats the records `ids` as `read` does: unknown or hidden ids are dropped silently,
    /// archived ones are returned, `id` comes first.
    fn read(&self, ids: &[u64], fields: &Value, load: &Value) -> Result<Vec<Value>, OdooError> {
        let requested: Vec<String> = match fields {
            Value::Null | Value::Bool(false) => Vec::new(),
            Value::Array(names) => names
                .iter()
                .map(|name| name.as_str().unwrap_or_default().to_string())
                .collect(),
            Value::String(name) => vec![name.clone()],
            other => {
                return Err(OdooError::type_error(format!(
                    "'{}' object is not iterable",
                    python_type(other)
                )))
            }
        };
        for name in &requested {
            if !self.data.fields.contains_key(name) {
                return Err(self.invalid_field(name));
            }
        }
        let classic = load.as_str() == Some("_classic_read");
        let mut rows = Vec::new();
        for id in ids {
            let Some(record) = self.data.records.get(id).filter(|_| self.is_visible(*id)) else {
                continue;
            };
            let names: Vec<String> = if requested.is_empty() {
                // NOTE: Odoo returns every field of fields_get here; the stand-in returns the fields
                // its records carry.
                record
                    .keys()
                    .filter(|name| self.data.fields.contains_key(*name))
                    .cloned()
                    .collect()
            } else {
                requested.clone()
            };
            let mut row = Map::new();
            row.insert("id".into(), json!(id));
            for name in names {
                if name == "id" {
                    continue;
                }
                let mut value = self.value(record, &name);
                match self.field_type(&name) {
                    "many2one" if !classic => {
                        value = many2one_id(&value).map_or(json!(false), |id| json!(id));
                    }
                    "datetime" => value = truncated_to_second(value),
                    _ => {}
                }
                row.insert(name, value);
            }
            rows.push(Value::Object(row));
        }
        Ok(rows)
    }

    fn fields_get(&self, allfields: &Value, attributes: &Value) -> Value {
        let only: Option<Vec<&str>> = allfields
            .as_array()
            .filter(|names| !names.is_empty())
            .map(|names| names.iter().filter_map(Value::as_str).collect());
        let keep: Option<Vec<&str>> = attributes
            .as_array()
            .map(|names| names.iter().filter_map(Value::as_str).collect());
        let mut result = Map::new();
        for (name, definition) in &self.data.fields {
            if only
                .as_ref()
                .is_some_and(|only| !only.contains(&name.as_str()))
            {
                continue;
            }
            // NOTE: attributes absent from the recorded fields_get (help, required...) are never returned.
            let definition = match (&keep, definition) {
                (Some(keep), Value::Object(attributes)) => Value::Object(
                    attributes
                        .iter()
                        .filter(|(attribute, _)| keep.contains(&attribute.as_str()))
                        .map(|(attribute, value)| (attribute.clone(), value.clone()))
                        .collect(),
                ),
                _ => definition.clone(),
            };
            result.insert(name.clone(), definition);
        }
        Value::Object(result)
    }

    fn field_type(&self, name: &str) -> &str {
        self.data
            .fields
            .get(name)
            .and_then(|definition| definition["type"].as_str())
            .unwrap_or("char")
    }

    /// Returns a record's value of `name` in read format, with the empty value of its type when
    /// the record does not store it.
    fn value(&self, record: &Map<String, Value>, name: &str) -> Value {
        if let Some(value) = record.get(name) {
            return value.clone();
        }
        if name == "display_name" {
            return record.get("name").cloned().unwrap_or(json!(false));
        }
        match self.field_type(name) {
            "one2many" | "many2many" => json!([]),
            "integer" => json!(0),
            "float" | "monetary" => json!(0.0),
            _ => json!(false),
        }
    }

    // --- domains

    fn parse_domain(&self, domain: &Value) -> Result<Domain, OdooError> {
        let items = match domain {
            Value::Null | Value::Bool(false) => return Ok(Domain::True),
            Value::Array(items) => items,
            other => {
                return Err(OdooError::value_error(format!(
                    "Invalid domain: {}",
                    python_repr(other)
                )))
            }
        };
        let mut position = 0;
        let mut terms = Vec::new();
        while position < items.len() {
            terms.push(self.parse_term(items, &mut position)?);
        }
        Ok(terms
            .into_iter()
            .reduce(|a, b| Domain::And(Box::new(a), Box::new(b)))
            .unwrap_or(Domain::True))
    }

    fn parse_term(&self, items: &[Value], position: &mut usize) -> Result<Domain, OdooError> {
        let Some(item) = items.get(*position) else {
            return Err(OdooError::value_error(format!(
                "Invalid domain: {}",
                python_repr(&Value::Array(items.to_vec()))
            )));
        };
        *position += 1;
        match item {
            Value::String(operator) if operator == "&" || operator == "|" => {
                let left = self.parse_term(items, position)?;
                let right = self.parse_term(items, position)?;
                Ok(if operator == "&" {
                    Domain::And(Box::new(left), Box::new(right))
                } else {
                    Domain::Or(Box::new(left), Box::new(right))
                })
            }
            Value::String(operator) if operator == "!" => {
                Ok(Domain::Not(Box::new(self.parse_term(items, position)?)))
            }
            Value::Array(leaf) if leaf.len() == 3 => self.parse_leaf(leaf),
            other => Err(OdooError::value_error(format!(
                "Invalid domain term {}",
                python_repr(other)
            ))),
        }
    }

    fn parse_leaf(&self, leaf: &[Value]) -> Result<Domain, OdooError> {
        let condition = format!(
            "({})",
            leaf.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        );
        // TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
        if leaf[0].is_number() {
            return Ok(if leaf[0] == json!(1) {
                Domain::True
            } else {
                Domain::False
            });
        }

        let path = leaf[0].as_str().unwrap_or_default().to_string();
        let operator = leaf[1].as_str().unwrap_or_default().to_ascii_lowercase();
        let (field, subfield) = match path.split_once('.') {
            Some((field, subfield)) => (field.to_string(), Some(subfield.to_string())),
            None => (path.clone(), None),
        };

        if !self.data.fields.contains_key(&field) {
            return Err(if self.version() == OdooVersion::V19 {
                OdooError::value_error(format!(
                    "Invalid field {}.{field} in condition {condition}",
                    self.model
                ))
            } else {
                OdooError::value_error(format!(
                    "Invalid field {}.{field} in leaf {condition}",
                    self.model
                ))
            });
        }

        const OPERATORS: [&str; 16] = [
            "=",
            "!=",
            "<>",
            ">",
            ">=",
            "<",
            "<=",
            "in",
            "not in",
            "like",
            "not like",
            "ilike",
            "not ilike",
            "=like",
            "=ilike",
            "=?",
        ];
        if !OPERATORS.contains(&operator.as_str()) {
            // NOTE: child_of, parent_of, any and not any are not reproduced; they get this error.
            return Err(if self.version() == OdooVersion::V19 {
                OdooError::value_error(format!(
                    "Invalid operator {} in condition {condition}",
                    python_repr(&leaf[1])
                ))
            } else {
                OdooError::value_error(format!("Invalid leaf {condition}"))
            });
        }

        if let Some(subfield) = &subfield {
            let supported = matches!(subfield.as_str(), "id" | "name" | "display_name");
            if self.field_type(&field) != "many2one" || !supported {
                // NOTE: only `<many2one>.id`, `.name` and `.display_name` paths are reproduced.
                return Err(OdooError::value_error(format!(
                    "Odoo stand-in: unsupported field path {path} in condition {condition}"
                )));
            }
        }

        let operator = if operator == "<>" {
            "!=".to_string()
        } else {
            operator
        };

        Ok(Domain::Leaf {
            field,
            subfield,
            operator,
            value: leaf[2].clone(),
        })
    }

    fn matches(&self, domain: &Domain, record: &Map<String, Value>) -> Result<bool, OdooError> {
        Ok(match domain {
            Domain::True => true,
            Domain::False => false,
            Domain::And(a, b) => self.matches(a, record)? && self.matches(b, record)?,
            Domain::Or(a, b) => self.matches(a, record)? || self.matches(b, record)?,
            Domain::Not(inner) => !self.matches(inner, record)?,
            Domain::Leaf {
                field,
                subfield,
                operator,
                value,
            } => self.leaf_matches(record, field, subfield.as_deref(), operator, value),
        })
    }

    fn leaf_matches(
        &self,
        record: &Map<String, Value>,
        field: &str,
        subfield: Option<&str>,
        operator: &str,
        value: &Value,
    ) -> bool {
        let field_type = self.field_type(field);
        let mut stored = self.value(record, field);
        // PostgreSQL compares a timestamp with a string by casting the string, so a stored
        // 10:00:00.5 is after '10:00:00' and never equal to it.
        let datetime_value;
        let value = if field_type == "datetime" {
            stored = datetime_as_micros(&stored);
            datetime_value = datetime_as_micros(value);
            &datetime_value
        } else {
            value
        };
        // The values a condition compares against: a many2one compares its id with numbers and its
        // display name with strings, an x2many matches when any of its ids (or names) matches.
        let relation = self
            .data
            .fields
            .get(field)
            .and_then(|definition| definition["relation"].as_str());
        let by_name = subfield.is_some_and(|sub| sub != "id")
            || match value {
                Value::String(_) => true,
                Value::Array(items) => items.iter().any(Value::is_string),
                _ => false,
            };
        let candidates: Vec<Value> = match field_type {
            "many2one" => match &stored {
                Value::Array(pair) if by_name => vec![pair.get(1).cloned().unwrap_or(json!(false))],
                Value::Array(pair) => vec![pair.first().cloned().unwrap_or(json!(false))],
                _ => vec![json!(false)],
            },
            "many2many" | "one2many" => {
                let ids: Vec<u64> = stored
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_u64)
                    .collect();
                if ids.is_empty() {
                    vec![json!(false)]
                } else if by_name {
                    ids.iter()
                        .map(|id| json!(self.state.display_name(relation.unwrap_or_default(), *id)))
                        .collect()
                } else {
                    ids.iter().map(|id| json!(id)).collect()
                }
            }
            _ => vec![stored],
        };
        let is_boolean = field_type == "boolean";
        let negative = matches!(operator, "!=" | "not in" | "not like" | "not ilike");
        if negative {
            let positive = match operator {
                "!=" => "=",
                "not in" => "in",
                "not like" => "like",
                _ => "ilike",
            };
            return !candidates
                .iter()
                .any(|candidate| scalar_matches(candidate, positive, value, is_boolean));
        }
        candidates
            .iter()
            .any(|candidate| scalar_matches(candidate, operator, value, is_boolean))
    }

    // --- order

    fn parse_order(&self, spec: &str) -> Result<Vec<OrderTerm>, OdooError> {
        let invalid = || {
            OdooError::user_error(format!(
                "Invalid \"order\" specified ({spec}). A valid \"order\" specification is a comma-separated list of valid field names (optionally followed by asc/desc for the direction)"
            ))
        };
        let mut terms = Vec::new();
        for term in spec.split(',') {
            let words: Vec<String> = term
                .split_whitespace()
                .map(str::to_ascii_lowercase)
                .collect();
            let Some((name, modifiers)) = words.split_first() else {
                return Err(invalid());
            };
            let name = name.trim_matches('"');
            let valid_name = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == ':');
            if !valid_name {
                return Err(invalid());
            }
            let modifiers: Vec<&str> = modifiers.iter().map(String::as_str).collect();
            let (descending, nulls) = match modifiers.as_slice() {
                [] => (false, None),
                ["asc"] => (false, None),
                ["desc"] => (true, None),
                ["nulls", "first"] => (false, Some(true)),
                ["nulls", "last"] => (false, Some(false)),
                ["asc", "nulls", "first"] => (false, Some(true)),
                ["asc", "nulls", "last"] => (false, Some(false)),
                ["desc", "nulls", "first"] => (true, Some(true)),
                ["desc", "nulls", "last"] => (true, Some(false)),
                _ => return Err(invalid()),
            };
            let field = name
                .split(['.', ':'])
                .next()
                .unwrap_or_default()
                .to_string();
            if !self.data.fields.contains_key(&field) {
                return Err(OdooError::value_error(format!(
                    "Invalid field '{field}' on model '{}'",
                    self.model
                )));
            }
            // PostgreSQL puts NULLs last in ascending order and first in descending order.
            let nulls_first = nulls.unwrap_or(descending);
            terms.push(OrderTerm {
                field,
                descending,
                nulls_first,
            });
        }
        Ok(terms)
    }

    /// Returns a record's sort key for each term of `order`, computed once per record.
    fn sort_keys(&self, record: &Map<String, Value>, order: &[OrderTerm]) -> Vec<Option<SortKey>> {
        order
            .iter()
            .map(|term| {
                let value = self.value(record, &term.field);
                match self.field_type(&term.field) {
                    "datetime" => sort_key(&datetime_as_micros(&value), false),
                    "boolean" => sort_key(&value, true),
                    _ => sort_key(&value, false),
                }
            })
            .collect()
    }
}

/// Compares two records' sort keys term by term, with each term's direction and NULL placement.
fn compare_sort_keys(
    a: &[Option<SortKey>],
    b: &[Option<SortKey>],
    order: &[OrderTerm],
) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    for ((left, right), term) in a.iter().zip(b).zip(order) {
        let ordering = match (left, right) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => {
                if term.nulls_first {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (Some(_), None) => {
                if term.nulls_first {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (Some(left), Some(right)) => {
                let ordering = left.partial_cmp(right).unwrap_or(Ordering::Equal);
                if term.descending {
                    ordering.reverse()
                } else {
                    ordering
                }
            }
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    // NOTE: PostgreSQL leaves ties unordered; the stand-in keeps them in id order.
    Ordering::Equal
}

/// A parsed domain. `Leaf` keeps the operator lowercased, with `<>` turned into `!=`.
enum Domain {
    True,
    False,
    And(Box<Domain>, Box<Domain>),
    Or(Box<Domain>, Box<Domain>),
    Not(Box<Domain>),
    Leaf {
        field: String,
        subfield: Option<String>,
        operator: String,
        value: Value,
    },
}

impl Domain {
    /// Reports whether a condition names `field`, which turns off the implicit `active` filter.
    fn mentions(&self, field: &str) -> bool {
        match self {
            Domain::True | Domain::False => false,
            Domain::And(a, b) | Domain::Or(a, b) => a.mentions(field) || b.mentions(field),
            Domain::Not(inner) => inner.mentions(field),
            Domain::Leaf { field: name, .. } => name == field,
        }
    }

    /// Returns the lowest id the domain can match when it, or an operand of its `&` chain,
    /// requires `id > N` or `id >= N` with an integer N, so a search can skip the ids below it.
    fn id_lower_bound(&self) -> Option<u64> {
        match self {
            Domain::And(a, b) => match (a.id_lower_bound(), b.id_lower_bound()) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (bound, None) | (None, bound) => bound,
            },
            Domain::Leaf {
                field,
                subfield: None,
                operator,
                value,
            } if field == "id" => match (operator.as_str(), value.as_u64()) {
                (">", Some(bound)) => Some(bound.saturating_add(1)),
                (">=", Some(bound)) => Some(bound),
                _ => None,
            },
            _ => None,
        }
    }
}

struct OrderTerm {
    field: String,
    descending: bool,
    nulls_first: bool,
}

/// A sortable form of a read value; `None` is SQL NULL (`false` of a non-boolean field).
#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Bool(bool),
    Number(f64),
    Text(String),
}

fn sort_key(value: &Value, is_boolean: bool) -> Option<SortKey> {
    match value {
        Value::Bool(flag) if is_boolean => Some(SortKey::Bool(*flag)),
        Value::Bool(_) | Value::Null => None,
        Value::Number(number) => number.as_f64().map(SortKey::Number),
        // NOTE: many2one fields sort by id here; Odoo sorts them by the related model's _order.
        Value::Array(pair) => pair.first().and_then(Value::as_f64).map(SortKey::Number),
        // NOTE: byte order, not the database collation.
        Value::String(text) => Some(SortKey::Text(text.clone())),
        Value::Object(_) => None,
    }
}

fn is_empty_value(value: &Value, is_boolean: bool) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(false) => !is_boolean,
        Value::String(text) => text.is_empty(),
        _ => false,
    }
}

/// Applies a non-negated operator to one stored value (already reduced to an id or a name).
fn scalar_matches(stored: &Value, operator: &str, value: &Value, is_boolean: bool) -> bool {
    match operator {
        "=?" => {
            value.is_null()
                || value == &json!(false)
                || scalar_matches(stored, "=", value, is_boolean)
        }
        "=" => {
            if is_empty_value(value, is_boolean) || (is_boolean && value == &json!(false)) {
                if is_boolean {
                    return stored == &json!(false) || stored.is_null();
                }
                return is_empty_value(stored, false);
            }
            values_equal(stored, value)
        }
        "in" => {
            let options: Vec<Value> = match value {
                Value::Array(items) => items.clone(),
                other => vec![other.clone()],
            };
            options
                .iter()
                .any(|option| scalar_matches(stored, "=", option, is_boolean))
        }
        ">" | ">=" | "<" | "<=" => {
            let ordering = match (stored, value) {
                (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()),
                (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
                _ => None,
            };
            let Some(ordering) = ordering else {
                return false;
            };
            match operator {
                ">" => ordering.is_gt(),
                ">=" => ordering.is_ge(),
                "<" => ordering.is_lt(),
                _ => ordering.is_le(),
            }
        }
        "like" | "ilike" | "=like" | "=ilike" => {
            let Value::String(text) = stored else {
                return false;
            };
            let pattern = match value {
                Value::String(pattern) => pattern.clone(),
                Value::Number(number) => number.to_string(),
                _ => return false,
            };
            let pattern = if operator.starts_with('=') {
                pattern
            } else {
                format!("%{pattern}%")
            };
            let case_insensitive = operator.ends_with("ilike");
            if case_insensitive {
                sql_like(&text.to_lowercase(), &pattern.to_lowercase())
            } else {
                sql_like(text, &pattern)
            }
        }
        _ => false,
    }
}

fn values_equal(stored: &Value, value: &Value) -> bool {
    match (stored, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Bool(a), Value::Number(b)) => b.as_f64() == Some(if *a { 1.0 } else { 0.0 }),
        _ => stored == value,
    }
}

/// Matches SQL LIKE patterns: `%` is any run, `_` one character, `\` escapes the next one.
fn sql_like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    fn matches_at(text: &[char], pattern: &[char]) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('%', rest)) => (0..=text.len()).any(|skip| matches_at(&text[skip..], rest)),
            Some(('_', rest)) => !text.is_empty() && matches_at(&text[1..], rest),
            Some(('\\', rest)) if !rest.is_empty() => {
                text.first() == Some(&rest[0]) && matches_at(&text[1..], &rest[1..])
            }
            Some((c, rest)) => text.first() == Some(c) && matches_at(&text[1..], rest),
        }
    }
    matches_at(&text, &pattern)
}

fn many2one_id(value: &Value) -> Option<u64> {
    match value {
        Value::Array(pair) => pair.first().and_then(Value::as_u64),
        Value::Number(number) => number.as_u64(),
        _ => None,
    }
}

fn expect_object(value: Value, caller: &str) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("{caller}: expected a JSON object of fields, got {other}"),
    }
}

// ---------------------------------------------------------------------------------------------
// UTC datetimes as Odoo stores them and sends them over RPC

/// Turns a datetime string, or each one in a list, into microseconds since 1970 (exact as a
/// JSON number). Other values are returned unchanged.
fn datetime_as_micros(value: &Value) -> Value {
    match value {
        Value::String(text) => parse_datetime_micros(text).map_or(value.clone(), |us| json!(us)),
        Value::Array(items) => Value::Array(items.iter().map(datetime_as_micros).collect()),
        other => other.clone(),
    }
}

/// Cuts a stored datetime to "YYYY-MM-DD HH:MM:SS", the form Odoo's RPC sends.
fn truncated_to_second(value: Value) -> Value {
    match value {
        Value::String(text) if text.len() > 19 => json!(text[..19]),
        other => other,
    }
}

/// Formats microseconds since 1970-01-01 UTC as Python's `str(datetime)` does:
/// "YYYY-MM-DD HH:MM:SS.ffffff", without the fraction when it is zero.
fn format_datetime_micros(micros: i64) -> String {
    let seconds = format_datetime(micros.div_euclid(MICROS_PER_SECOND));
    match micros.rem_euclid(MICROS_PER_SECOND) {
        0 => seconds,
        fraction => format!("{seconds}.{fraction:06}"),
    }
}

/// Parses "YYYY-MM-DD HH:MM:SS" with an optional fraction of up to six digits into
/// microseconds since 1970-01-01 UTC.
fn parse_datetime_micros(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let seconds = parse_datetime(whole)?;
    if fraction.len() > 6 || !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{fraction:0<6}");
    Some(seconds * MICROS_PER_SECOND + digits.parse::<i64>().ok()?)
}

/// Formats seconds since 1970-01-01 UTC as "YYYY-MM-DD HH:MM:SS".
fn format_datetime(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400);
    // Civil-from-days conversion (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// Parses "YYYY-MM-DD HH:MM:SS" (UTC) into seconds since 1970-01-01.
fn parse_datetime(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(' ')?;
    let date: Vec<i64> = date
        .split('-')
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    let time: Vec<i64> = time
        .split(':')
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    let ([year, month, day], [hour, minute, second]) = (date.as_slice(), time.as_slice()) else {
        return None;
    };
    let valid = (1..=12).contains(month)
        && (1..=31).contains(day)
        && *hour < 24
        && *minute < 60
        && *second < 60;
    if !valid {
        return None;
    }
    // Days-from-civil conversion (Howard Hinnant's algorithm).
    let year = if *month <= 2 { year - 1 } else { *year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}
