//! The calls that both protocols are built from, before and after login.

use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use serde_json::{json, Map, Value};

use super::error::{ErrorContext, OdooError};
use super::transport::{RawResponse, Transport};
use super::version::ServerVersion;
use super::{json2, jsonrpc, OdooSettings};
use crate::secret::Secret;

const WEB_VERSION: &str = "/web/version";

/// One Odoo server with its credentials: the transport plus request numbering.
pub(crate) struct Connection {
    pub transport: Transport,
    pub context: ErrorContext,
    password: Secret,
    next_id: AtomicU64,
}

impl Connection {
    pub fn new(settings: &OdooSettings) -> Result<Connection, OdooError> {
        let transport = Transport::new(settings)?;
        let context = ErrorContext {
            url: transport.redacted_url().to_string(),
            database: settings.database.clone(),
            username: settings.username.clone(),
        };
        Ok(Connection {
            transport,
            context,
            password: settings.password.clone(),
            next_id: AtomicU64::new(1),
        })
    }

    /// Requests `GET /web/version`, which only Odoo 19.0 and later have.
    ///
    /// Returns `None` when the server has no such page (404, or any page that is not JSON), so
    /// the caller falls back to `common.version`, which distinguishes Odoo from other servers.
    pub async fn web_version(&self) -> Result<Option<ServerVersion>, OdooError> {
        let context = &self.context;
        self.transport
            .execute(
                || self.transport.get(WEB_VERSION),
                |raw| decode_web_version(&raw, context),
            )
            .await
    }

    /// Calls JSON-RPC `common.version`.
    pub async fn common_version(&self) -> Result<ServerVersion, OdooError> {
        let result = self.jsonrpc("common", "version", Vec::new()).await?;
        let version = result.get("server_version").and_then(Value::as_str);
        version
            .and_then(|text| ServerVersion::parse(text, result.get("server_version_info")))
            .ok_or_else(|| {
                OdooError::InvalidResponse(format!(
                    "common.version returned no version crm-vec can read: {}",
                    version.unwrap_or("no server_version")
                ))
            })
    }

    /// Calls JSON-RPC `common.login` and returns the user id.
    pub async fn login(&self) -> Result<u64, OdooError> {
        let args = vec![
            json!(self.context.database),
            json!(self.context.username),
            json!(self.password.expose_secret()),
        ];
        let result = self.jsonrpc("common", "login", args).await?;
        jsonrpc::login_uid(&result, &self.context)
    }

    /// Checks the API key with JSON-2 `res.users/context_get` and returns the user id when the
    /// context contains it.
    pub async fn json2_check_key(&self) -> Result<Option<u64>, OdooError> {
        let context = self.json2("res.users", "context_get", Map::new()).await?;
        Ok(context.get("uid").and_then(Value::as_u64))
    }

    /// Calls `object.execute_kw(db, uid, password, model, method, args, kwargs)`.
    pub async fn execute_kw(
        &self,
        uid: u64,
        model: &str,
        method: &str,
        args: Vec<Value>,
        kwargs: Map<String, Value>,
    ) -> Result<Value, OdooError> {
        let args = vec![
            json!(self.context.database),
            json!(uid),
            json!(self.password.expose_secret()),
            json!(model),
            json!(method),
            Value::Array(args),
            Value::Object(kwargs),
        ];
        self.jsonrpc("object", "execute_kw", args).await
    }

    /// Sends one JSON-RPC call; the body contains the password, so it is never logged.
    pub async fn jsonrpc(
        &self,
        service: &str,
        method: &str,
        args: Vec<Value>,
    ) -> Result<Value, OdooError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = jsonrpc::request_body(id, service, method, args);
        let context = &self.context;
        self.transport
            .execute(
                || self.transport.post(jsonrpc::PATH).json(&body),
                |raw| jsonrpc::decode(&raw, context),
            )
            .await
    }

    /// Sends one JSON-2 call with the API key as bearer token.
    pub async fn json2(
        &self,
        model: &str,
        method: &str,
        body: Map<String, Value>,
    ) -> Result<Value, OdooError> {
        let path = json2::path(model, method);
        let request = format!("POST {path}");
        let authorization = self.bearer_header()?;
        let database = self.database_header()?;
        let body = Value::Object(body);
        let context = &self.context;
        self.transport
            .execute(
                || {
                    let mut builder = self
                        .transport
                        .post(&path)
                        .header(AUTHORIZATION, authorization.clone())
                        .header(CONTENT_TYPE, "application/json")
                        .json(&body);
                    if let Some(database) = &database {
                        builder = builder.header("X-Odoo-Database", database.clone());
                    }
                    builder
                },
                |raw| json2::decode(&raw, &request, context),
            )
            .await
    }

    fn bearer_header(&self) -> Result<HeaderValue, OdooError> {
        let value = format!("bearer {}", self.password.expose_secret());
        let mut header = HeaderValue::from_str(&value).map_err(|_| {
            OdooError::Unsupported(
                "ODOO_PASSWORD contains characters that cannot be sent in an HTTP header, so \
                 it cannot be a JSON-2 API key"
                    .to_string(),
            )
        })?;
        // Keeps the key out of reqwest's and hyper's debug output.
        header.set_sensitive(true);
        Ok(header)
    }

    /// Returns the `X-Odoo-Database` value; `None` for an empty name, which lets Odoo pick its
    /// only database.
    fn database_header(&self) -> Result<Option<HeaderValue>, OdooError> {
        let database = &self.context.database;
        if database.is_empty() {
            return Ok(None);
        }
        HeaderValue::from_str(database).map(Some).map_err(|_| {
            OdooError::Unsupported(format!(
                "the database name '{}' contains characters that cannot be sent in an HTTP \
                 header",
                database.escape_debug()
            ))
        })
    }
}

fn decode_web_version(
    raw: &RawResponse,
    context: &ErrorContext,
) -> Result<Option<ServerVersion>, OdooError> {
    let status = raw.status;
    if (300..400).contains(&status) || super::error::is_transient_status(status) {
        return Err(context.foreign_response("GET /web/version", raw));
    }
    if !(200..300).contains(&status) {
        return Ok(None);
    }
    let Some(answer) = raw.json() else {
        return Ok(None);
    };
    let Some(version) = answer.get("version").and_then(Value::as_str) else {
        return Ok(None);
    };
    ServerVersion::parse(version, answer.get("version_info"))
        .map(Some)
        .ok_or_else(|| {
            OdooError::InvalidResponse(format!(
                "GET /web/version returned the version '{version}', which crm-vec cannot read"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> ErrorContext {
        ErrorContext {
            url: "http://127.0.0.1:8069".to_string(),
            database: "crm".to_string(),
            username: "admin".to_string(),
        }
    }

    #[test]
    fn recorded_web_version_19() {
        let raw = RawResponse::from_recorded_txt(include_str!(
            "../../tests/data/recorded/odoo19/web_version.txt"
        ));
        let version = decode_web_version(&raw, &context()).unwrap().unwrap();
        assert_eq!(version.major, 19);
        assert_eq!(version.raw, "19.0");
    }

    #[test]
    fn recorded_web_version_missing_before_19() {
        for text in [
            include_str!("../../tests/data/recorded/odoo17/web_version.txt"),
            include_str!("../../tests/data/recorded/odoo18/web_version.txt"),
        ] {
            let raw = RawResponse::from_recorded_txt(text);
            assert_eq!(raw.status, 404);
            assert_eq!(decode_web_version(&raw, &context()).unwrap(), None);
        }
    }

    #[test]
    fn web_version_502_is_transient() {
        let raw = RawResponse::from_recorded_txt("<html>bad gateway</html>\n502 text/html");
        let error = decode_web_version(&raw, &context()).unwrap_err();
        assert!(error.is_transient());
    }
}
