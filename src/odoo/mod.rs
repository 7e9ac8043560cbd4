//! The Odoo client: version detection, protocol choice, login and the read calls the sync needs.
//!
//! Two protocols reach the same ORM methods. JSON-RPC (`POST /jsonrpc`) works on Odoo 16 to 19
//! with a password or an API key, but Odoo 19.0 deprecates it and logs a warning per call.
//! JSON-2 (`POST /json/2/<model>/<method>`) exists from 19.0 and takes only an API key. Every
//! read passes `context: {"active_test": false}`, because lost leads are archived and would
//! otherwise be invisible.

mod connection;
mod error;
mod json2;
mod jsonrpc;
#[cfg(test)]
mod testing;
mod transport;
mod version;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::OnceCell;
use tracing::{debug, warn};

use crate::secret::Secret;
use connection::Connection;

pub use error::OdooError;
pub use version::ServerVersion;

/// The largest id an Odoo record can have. Odoo creates every `id` column as a PostgreSQL
/// `serial`, a 32-bit integer, so a larger number names no lead.
pub const MAX_RECORD_ID: u64 = i32::MAX as u64;

/// The protocol that `ODOO_PROTOCOL` selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProtocolChoice {
    /// JSON-2 on Odoo 19+ when the password is an API key, JSON-RPC otherwise.
    #[default]
    Auto,
    JsonRpc,
    Json2,
}

impl fmt::Display for ProtocolChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProtocolChoice::Auto => "auto",
            ProtocolChoice::JsonRpc => "jsonrpc",
            ProtocolChoice::Json2 => "json2",
        })
    }
}

/// The protocol a connected client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    JsonRpc,
    Json2,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::JsonRpc => "jsonrpc",
            Protocol::Json2 => "json2",
        })
    }
}

/// Connection settings for one Odoo server: address, credentials, protocol, timeouts, retries.
#[derive(Debug, Clone)]
pub struct OdooSettings {
    /// The address users open Odoo at, such as `https://acme.odoo.com`; a trailing slash is
    /// ignored.
    pub url: String,
    pub database: String,
    pub username: String,
    /// The password or an API key. JSON-2 needs an API key.
    pub password: Secret,
    pub protocol: ProtocolChoice,
    /// The limit for opening a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// The limit for one request, from sending it to reading the whole response.
    pub request_timeout: Duration,
    /// Attempts per request, the first included; only transient failures are retried.
    pub max_attempts: u32,
    /// The wait before the second attempt; it doubles for each further one, with jitter.
    pub initial_backoff: Duration,
}

impl OdooSettings {
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 4;
    pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(500);

    /// Creates settings with the default protocol choice, timeouts and retries.
    pub fn new(
        url: impl Into<String>,
        database: impl Into<String>,
        username: impl Into<String>,
        password: Secret,
    ) -> OdooSettings {
        OdooSettings {
            url: url.into(),
            database: database.into(),
            username: username.into(),
            password,
            protocol: ProtocolChoice::Auto,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
            max_attempts: Self::DEFAULT_MAX_ATTEMPTS,
            initial_backoff: Self::DEFAULT_INITIAL_BACKOFF,
        }
    }
}

/// The model whose fields [`OdooClient::connect`] probes.
const LEAD_MODEL: &str = "crm.lead";

/// A logged-in connection to one Odoo database; cheap to clone.
#[derive(Clone)]
pub struct OdooClient {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Connection,
    version: ServerVersion,
    protocol: Protocol,
    uid: Option<u64>,
    /// Field names per model from `fields_get`, filled at most once per model.
    fields: Mutex<HashMap<String, Arc<OnceCell<HashSet<String>>>>>,
}

impl fmt::Debug for OdooClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooClient")
            .field("url", &self.inner.connection.context.url)
            .field("database", &self.inner.connection.context.database)
            .field("version", &self.inner.version.raw)
            .field("protocol", &self.inner.protocol)
            .field("uid", &self.inner.uid)
            .finish()
    }
}

/// One ORM call, with the parameters JSON-RPC passes by position kept apart.
struct Call<'a> {
    model: &'a str,
    method: &'a str,
    /// Named for JSON-2, passed in this order as `args` by JSON-RPC.
    positional: Vec<(&'static str, Value)>,
    named: Map<String, Value>,
}

impl OdooClient {
    /// Detects the version, picks the protocol, logs in once and probes `crm.lead` fields once.
    ///
    /// The field cache belongs to the client, so connect once per process and clone the client.
    pub async fn connect(settings: OdooSettings) -> Result<OdooClient, OdooError> {
        let connection = Connection::new(&settings)?;
        let (version, protocol, uid) = match settings.protocol {
            ProtocolChoice::JsonRpc => {
                let version = connection.common_version().await?;
                let uid = connection.login().await?;
                (version, Protocol::JsonRpc, Some(uid))
            }
            ProtocolChoice::Json2 => {
                let version = json2_version(&connection).await?;
                let uid = connection.json2_check_key().await?;
                (version, Protocol::Json2, uid)
            }
            ProtocolChoice::Auto => choose_protocol(&connection).await?,
        };
        debug!(
            url = %connection.context.url,
            version = %version,
            protocol = %protocol,
            "connected to Odoo"
        );

        let client = OdooClient {
            inner: Arc::new(Inner {
                connection,
                version,
                protocol,
                uid,
                fields: Mutex::new(HashMap::new()),
            }),
        };
        client.fields_for(LEAD_MODEL, &[]).await?;
        Ok(client)
    }

    /// Detects the server version without logging in, for `status` when login fails.
    pub async fn probe_version(settings: &OdooSettings) -> Result<ServerVersion, OdooError> {
        let connection = Connection::new(settings)?;
        match settings.protocol {
            ProtocolChoice::JsonRpc => connection.common_version().await,
            ProtocolChoice::Json2 => json2_version(&connection).await,
            ProtocolChoice::Auto => match connection.web_version().await? {
                Some(version) => Ok(version),
                None => connection.common_version().await,
            },
        }
    }

    pub fn version(&self) -> &ServerVersion {
        &self.inner.version
    }

    pub fn protocol(&self) -> Protocol {
        self.inner.protocol
    }

    /// Returns the URL as configured, trailing slash removed.
    pub fn url(&self) -> &str {
        self.inner.connection.transport.base_url()
    }

    /// Returns the user id: from `common.login` on JSON-RPC, from `res.users/context_get` on JSON-2
    /// when that context contains it.
    pub fn uid(&self) -> Option<u64> {
        self.inner.uid
    }

    /// Returns whether `model` has `field`, according to the `fields_get` probes made so far.
    ///
    /// `crm.lead` is probed by [`OdooClient::connect`]; any other model returns `false` until
    /// [`OdooClient::fields_for`] has probed it.
    pub fn has_field(&self, model: &str, field: &str) -> bool {
        let fields = self
            .inner
            .fields
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        fields
            .get(model)
            .and_then(|cell| cell.get())
            .is_some_and(|names| names.contains(field))
    }

    /// Returns those of `wanted` that this server's `model` has, in the order given.
    ///
    /// Probes `fields_get` on the first call per model and caches the field names.
    pub async fn fields_for(&self, model: &str, wanted: &[&str]) -> Result<Vec<String>, OdooError> {
        let cell = {
            let mut fields = self
                .inner
                .fields
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            Arc::clone(fields.entry(model.to_string()).or_default())
        };
        // Concurrent callers wait for one probe; a failed probe leaves the cell empty for a retry.
        let names = cell.get_or_try_init(|| self.probe_fields(model)).await?;
        let present = wanted
            .iter()
            .filter(|field| names.contains(**field))
            .map(|field| field.to_string())
            .collect();
        Ok(present)
    }

    /// Calls `search_read` with `context: {"active_test": false}`, so archived records are
    /// included. `order` is sent verbatim, and Odoo adds no tie-breaker, so callers append
    /// `, id asc`.
    pub async fn search_read(
        &self,
        model: &str,
        domain: Value,
        fields: &[String],
        order: Option<&str>,
        limit: Option<usize>,
        offset: usize,
    ) -> Result<Vec<Map<String, Value>>, OdooError> {
        let mut named = Map::new();
        named.insert("fields".to_string(), json!(fields));
        insert_paging(&mut named, order, limit, offset);
        insert_all_records_context(&mut named);
        let call = Call {
            model,
            method: "search_read",
            positional: vec![("domain", domain)],
            named,
        };
        let result = self.call(call).await?;
        into_records(result, model, "search_read")
    }

    /// Calls `read` on `ids` with `active_test: false`. Odoo leaves deleted ids out of the
    /// result without an error.
    pub async fn read(
        &self,
        model: &str,
        ids: &[u64],
        fields: &[String],
    ) -> Result<Vec<Map<String, Value>>, OdooError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut named = Map::new();
        named.insert("fields".to_string(), json!(fields));
        insert_all_records_context(&mut named);
        let call = Call {
            model,
            method: "read",
            positional: vec![("ids", json!(ids))],
            named,
        };
        let result = self.call(call).await?;
        into_records(result, model, "read")
    }

    /// Calls `search` with `active_test: false` and returns the ids in the given order.
    pub async fn search(
        &self,
        model: &str,
        domain: Value,
        order: Option<&str>,
        limit: Option<usize>,
        offset: usize,
    ) -> Result<Vec<u64>, OdooError> {
        let mut named = Map::new();
        insert_paging(&mut named, order, limit, offset);
        insert_all_records_context(&mut named);
        let call = Call {
            model,
            method: "search",
            positional: vec![("domain", domain)],
            named,
        };
        let result = self.call(call).await?;
        into_ids(result, model)
    }

    /// Calls `search_count` with `active_test: false`.
    pub async fn search_count(&self, model: &str, domain: Value) -> Result<u64, OdooError> {
        let mut named = Map::new();
        insert_all_records_context(&mut named);
        let call = Call {
            model,
            method: "search_count",
            positional: vec![("domain", domain)],
            named,
        };
        let result = self.call(call).await?;
        result.as_u64().ok_or_else(|| {
            OdooError::InvalidResponse(format!(
                "{model}.search_count returned {} instead of a count",
                jsonrpc::json_kind(&result)
            ))
        })
    }

    async fn probe_fields(&self, model: &str) -> Result<HashSet<String>, OdooError> {
        let mut named = Map::new();
        named.insert("attributes".to_string(), json!(["type"]));
        let call = Call {
            model,
            method: "fields_get",
            positional: Vec::new(),
            named,
        };
        let result = self.call(call).await?;
        let Value::Object(fields) = result else {
            return Err(OdooError::InvalidResponse(format!(
                "{model}.fields_get returned {} instead of an object",
                jsonrpc::json_kind(&result)
            )));
        };
        debug!(model, count = fields.len(), "probed Odoo fields");
        Ok(fields.into_iter().map(|(name, _)| name).collect())
    }

    /// Sends one ORM call over the chosen protocol. Logs the model, method and duration, never
    /// the parameters: over JSON-RPC they travel beside the password.
    async fn call(&self, call: Call<'_>) -> Result<Value, OdooError> {
        let started = Instant::now();
        let connection = &self.inner.connection;
        let result = match (self.inner.protocol, self.inner.uid) {
            (Protocol::JsonRpc, Some(uid)) => {
                let args = call
                    .positional
                    .into_iter()
                    .map(|(_, value)| value)
                    .collect();
                connection
                    .execute_kw(uid, call.model, call.method, args, call.named)
                    .await
            }
            (Protocol::JsonRpc, None) => Err(OdooError::InvalidResponse(
                "JSON-RPC calls need the user id from common.login, which is missing".to_string(),
            )),
            (Protocol::Json2, _) => {
                let mut body = call.named;
                for (name, value) in call.positional {
                    body.insert(name.to_string(), value);
                }
                connection.json2(call.model, call.method, body).await
            }
        };
        debug!(
            model = call.model,
            method = call.method,
            protocol = %self.inner.protocol,
            elapsed_ms = started.elapsed().as_millis() as u64,
            ok = result.is_ok(),
            "Odoo call finished"
        );
        result
    }
}

/// Picks the protocol for [`ProtocolChoice::Auto`] and logs in with it.
async fn choose_protocol(
    connection: &Connection,
) -> Result<(ServerVersion, Protocol, Option<u64>), OdooError> {
    let version = match connection.web_version().await? {
        Some(version) if version.has_json2() => version,
        Some(version) => {
            let uid = connection.login().await?;
            return Ok((version, Protocol::JsonRpc, Some(uid)));
        }
        None => {
            let version = connection.common_version().await?;
            let uid = connection.login().await?;
            return Ok((version, Protocol::JsonRpc, Some(uid)));
        }
    };

    match connection.json2_check_key().await {
        Ok(uid) => Ok((version, Protocol::Json2, uid)),
        Err(OdooError::InvalidApiKey) => {
            warn!(
                version = %version,
                "Odoo rejected ODOO_PASSWORD as a JSON-2 API key, so crm-vec logs in over \
                 JSON-RPC, which Odoo 19 deprecates and plans to remove; an API key (Odoo: \
                 Preferences → Account Security → New API Key) in ODOO_PASSWORD lets crm-vec \
                 use JSON-2"
            );
            let uid = connection.login().await?;
            Ok((version, Protocol::JsonRpc, Some(uid)))
        }
        Err(error) => Err(error),
    }
}

/// Returns the version for [`ProtocolChoice::Json2`], failing when the server has no JSON-2.
async fn json2_version(connection: &Connection) -> Result<ServerVersion, OdooError> {
    let url = &connection.context.url;
    match connection.web_version().await? {
        Some(version) if version.has_json2() => Ok(version),
        Some(version) => Err(OdooError::Unsupported(format!(
            "ODOO_PROTOCOL=json2 needs Odoo 19.0 or later, but {url} runs Odoo {version}"
        ))),
        None => Err(OdooError::Unsupported(format!(
            "ODOO_PROTOCOL=json2 needs Odoo 19.0 or later, but {url} has no GET /web/version, \
             so it runs Odoo 18 or older (or is not Odoo)"
        ))),
    }
}

fn insert_paging(
    named: &mut Map<String, Value>,
    order: Option<&str>,
    limit: Option<usize>,
    offset: usize,
) {
    if let Some(order) = order {
        named.insert("order".to_string(), json!(order));
    }
    if let Some(limit) = limit {
        named.insert("limit".to_string(), json!(limit));
    }
    named.insert("offset".to_string(), json!(offset));
}

/// Makes searches include archived records, which is how Odoo stores lost leads.
fn insert_all_records_context(named: &mut Map<String, Value>) {
    named.insert("context".to_string(), json!({"active_test": false}));
}

fn into_records(
    result: Value,
    model: &str,
    method: &str,
) -> Result<Vec<Map<String, Value>>, OdooError> {
    let invalid = |what: &str| {
        OdooError::InvalidResponse(format!(
            "{model}.{method} returned {what} instead of a list of records"
        ))
    };
    let Value::Array(items) = result else {
        return Err(invalid(jsonrpc::json_kind(&result)));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::Object(record) => Ok(record),
            other => Err(invalid(&format!(
                "a list containing {}",
                jsonrpc::json_kind(&other)
            ))),
        })
        .collect()
}

fn into_ids(result: Value, model: &str) -> Result<Vec<u64>, OdooError> {
    let invalid = || OdooError::InvalidResponse(format!("{model}.search returned no list of ids"));
    let Value::Array(items) = result else {
        return Err(invalid());
    };
    items
        .iter()
        .map(|item| item.as_u64().ok_or_else(invalid))
        .collect()
}

/// Entry points into the response decoding for the property tests in `tests/hostile.rs`: an
/// HTTP status and body as Odoo (or a proxy in front of it) could send them.
#[doc(hidden)]
pub mod decoding {
    use serde_json::{Map, Value};

    use super::error::ErrorContext;
    use super::transport::RawResponse;
    use super::{into_ids, into_records, json2, jsonrpc, OdooError};

    fn raw(status: u16, content_type: Option<&str>, body: &str) -> RawResponse {
        RawResponse {
            status,
            content_type: content_type.map(str::to_string),
            location: None,
            body: body.to_string(),
        }
    }

    fn context() -> ErrorContext {
        ErrorContext {
            url: "http://127.0.0.1:8069".to_string(),
            database: "crm".to_string(),
            username: "admin".to_string(),
        }
    }

    /// Decodes a `/jsonrpc` response, then reads its result as `search_read` records.
    pub fn jsonrpc_records(
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<Vec<Map<String, Value>>, OdooError> {
        let result = jsonrpc::decode(&raw(status, content_type, body), &context())?;
        into_records(result, "crm.lead", "search_read")
    }

    /// Decodes a JSON-2 response, then reads its result as `search` ids.
    pub fn json2_ids(
        status: u16,
        content_type: Option<&str>,
        body: &str,
    ) -> Result<Vec<u64>, OdooError> {
        let request = "POST /json/2/crm.lead/search";
        let result = json2::decode(&raw(status, content_type, body), request, &context())?;
        into_ids(result, "crm.lead")
    }
}

#[cfg(test)]
mod tests;
