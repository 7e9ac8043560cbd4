//! JSON-RPC over `POST /jsonrpc`, the protocol of Odoo 16 to 18 (deprecated in 19.0).
//!
//! Odoo returns HTTP 200 for errors too: the body then has an `error` member whose `code` is
//! 200 (16.0–18.0) or 0 (19.0) and whose `data.name` is the Python exception class. Only
//! `data.name` and `data.message` are used; `data.debug` is a traceback and reaches the debug log
//! as its last line only.

use serde_json::{json, Value};
use tracing::debug;

use super::error::{ErrorContext, OdooError};
use super::transport::RawResponse;

pub(crate) const PATH: &str = "/jsonrpc";
const REQUEST: &str = "POST /jsonrpc";

/// Builds the request body for `service.method(*args)`.
pub(crate) fn request_body(id: u64, service: &str, method: &str, args: Vec<Value>) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "call",
        "id": id,
        "params": {"service": service, "method": method, "args": args},
    })
}

/// Returns the `result` of a JSON-RPC response (`null` when Odoo omitted it for a `None`), or the
/// error it carries.
pub(crate) fn decode(raw: &RawResponse, context: &ErrorContext) -> Result<Value, OdooError> {
    if raw.status != 200 {
        return Err(context.foreign_response(REQUEST, raw));
    }
    let Some(answer) = raw.json() else {
        return Err(context.foreign_response(REQUEST, raw));
    };
    let Some(envelope) = answer
        .as_object()
        .filter(|object| object.contains_key("jsonrpc"))
    else {
        return Err(context.not_odoo(format!(
            "{REQUEST} answered JSON that is not a JSON-RPC response"
        )));
    };

    if let Some(error) = envelope.get("error") {
        return Err(map_error(error, context));
    }
    Ok(envelope.get("result").cloned().unwrap_or(Value::Null))
}

/// Maps the `error` member of a JSON-RPC response.
fn map_error(error: &Value, context: &ErrorContext) -> OdooError {
    let data = error.get("data");
    let text = |key: &str| data.and_then(|d| d.get(key)).and_then(Value::as_str);
    let name = text("name").unwrap_or("unknown").to_string();
    let message = text("message")
        .or_else(|| error.get("message").and_then(Value::as_str))
        .unwrap_or("")
        .trim()
        .to_string();
    // Only the exception's name: Odoo's traceback can quote the request, password included.
    debug!(exception = %name, "Odoo returned a JSON-RPC error");
    map_exception(&name, &message, context)
}

/// Maps an Odoo exception by class name; shared with JSON-2, whose error bodies have the same
/// `name` and `message`.
pub(crate) fn map_exception(name: &str, message: &str, context: &ErrorContext) -> OdooError {
    // The login of an unknown database fails when Odoo connects to PostgreSQL, so the libpq
    // text `database "nosuchdb" does not exist` is the only sign of it.
    let database_missing = name.starts_with("psycopg2.OperationalError")
        && message.contains("database")
        && message.contains("does not exist");
    if database_missing {
        return context.unknown_database();
    }
    if name == "odoo.exceptions.AccessDenied" {
        return context.access_denied(message);
    }
    OdooError::Server {
        name: name.to_string(),
        message: message.to_string(),
    }
}

/// Reads the result of `common.login`: the user id, or `false` for a wrong login or password.
pub(crate) fn login_uid(result: &Value, context: &ErrorContext) -> Result<u64, OdooError> {
    match result {
        Value::Number(number) => number.as_u64().ok_or_else(|| {
            OdooError::InvalidResponse(format!("common.login returned the user id {number}"))
        }),
        Value::Bool(false) | Value::Null => Err(OdooError::LoginFailed {
            username: context.username.clone(),
            database: context.database.clone(),
        }),
        other => Err(OdooError::InvalidResponse(format!(
            "common.login returned {} instead of a user id",
            json_kind(other)
        ))),
    }
}

pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(database: &str) -> ErrorContext {
        ErrorContext {
            url: "http://127.0.0.1:8069".to_string(),
            database: database.to_string(),
            username: "admin".to_string(),
        }
    }

    fn decode_recorded(body: &str, database: &str) -> Result<Value, OdooError> {
        decode(&RawResponse::from_recorded_json(body), &context(database))
    }

    #[test]
    fn request_body_shape() {
        let body = request_body(3, "common", "login", vec![json!("crm"), json!("admin")]);
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["method"], "call");
        assert_eq!(body["id"], 3);
        assert_eq!(body["params"]["service"], "common");
        assert_eq!(body["params"]["method"], "login");
        assert_eq!(body["params"]["args"], json!(["crm", "admin"]));
    }

    #[test]
    fn recorded_common_version_decodes() {
        let bodies = [
            include_str!("../../tests/data/recorded/odoo17/jsonrpc_common_version.json"),
            include_str!("../../tests/data/recorded/odoo18/jsonrpc_common_version.json"),
            include_str!("../../tests/data/recorded/odoo19/jsonrpc_common_version.json"),
        ];
        for body in bodies {
            let result = decode_recorded(body, "crm").unwrap();
            assert!(result["server_version"].is_string());
            assert_eq!(result["server_version_info"].as_array().unwrap().len(), 6);
        }
    }

    #[test]
    fn recorded_wrong_password_is_login_failed() {
        let bodies = [
            include_str!("../../tests/data/recorded/odoo17/jsonrpc_login_wrong_password.json"),
            include_str!("../../tests/data/recorded/odoo18/jsonrpc_login_wrong_password.json"),
            include_str!("../../tests/data/recorded/odoo19/jsonrpc_login_wrong_password.json"),
        ];
        for body in bodies {
            let result = decode_recorded(body, "crm").unwrap();
            let error = login_uid(&result, &context("crm")).unwrap_err();
            assert!(matches!(error, OdooError::LoginFailed { .. }));
            assert_eq!(
                error.to_string(),
                "login failed for user 'admin' on database 'crm': wrong username or password"
            );
        }
    }

    #[test]
    fn recorded_unknown_db_is_unknown_database() {
        let bodies = [
            include_str!("../../tests/data/recorded/odoo17/jsonrpc_login_unknown_db.json"),
            include_str!("../../tests/data/recorded/odoo18/jsonrpc_login_unknown_db.json"),
            include_str!("../../tests/data/recorded/odoo19/jsonrpc_login_unknown_db.json"),
        ];
        for body in bodies {
            let error = decode_recorded(body, "nosuchdb").unwrap_err();
            assert_eq!(
                error.to_string(),
                "database 'nosuchdb' does not exist on http://127.0.0.1:8069"
            );
            assert_eq!(error.hint().unwrap(), "check ODOO_DB");
            assert!(!error.is_transient());
        }
    }

    #[test]
    fn recorded_access_denied() {
        let bodies = [
            include_str!("../../tests/data/recorded/odoo17/jsonrpc_execute_kw_access_denied.json"),
            include_str!("../../tests/data/recorded/odoo18/jsonrpc_execute_kw_access_denied.json"),
            include_str!("../../tests/data/recorded/odoo19/jsonrpc_execute_kw_access_denied.json"),
        ];
        for body in bodies {
            let error = decode_recorded(body, "crm").unwrap_err();
            assert!(matches!(error, OdooError::AccessDenied { .. }));
            assert_eq!(
                error.to_string(),
                "access denied: Odoo rejected the credentials of user 'admin' on database \
                 'crm' (Access Denied)"
            );
            assert!(error.hint().unwrap().contains("ODOO_PASSWORD"));
            assert!(!error.to_string().contains("Traceback"));
        }
    }

    #[test]
    fn recorded_invalid_field_is_server_error() {
        let cases = [
            (
                include_str!(
                    "../../tests/data/recorded/odoo17/jsonrpc_search_read_invalid_field.json"
                ),
                "Invalid field 'won_status' on model 'crm.lead'",
            ),
            (
                include_str!(
                    "../../tests/data/recorded/odoo18/jsonrpc_search_read_invalid_field.json"
                ),
                "Invalid field 'won_status' on model 'crm.lead'",
            ),
            (
                include_str!(
                    "../../tests/data/recorded/odoo19/jsonrpc_search_read_invalid_field.json"
                ),
                "Invalid field 'mobile' on 'crm.lead'",
            ),
        ];
        for (body, message) in cases {
            let error = decode_recorded(body, "crm").unwrap_err();
            assert_eq!(
                error.to_string(),
                format!("the Odoo server raised builtins.ValueError: {message}")
            );
            assert!(error.hint().unwrap().contains("field does not exist"));
            assert!(!error.is_transient());
            assert!(!error.to_string().contains("Traceback"));
        }
    }

    #[test]
    fn recorded_fields_get_and_search_read() {
        let fields = decode_recorded(
            include_str!("../../tests/data/recorded/odoo19/jsonrpc_crm_lead_fields_get.json"),
            "crm",
        )
        .unwrap();
        assert!(fields.as_object().unwrap().contains_key("won_status"));
        let leads = decode_recorded(
            include_str!("../../tests/data/recorded/odoo19/jsonrpc_crm_lead_search_read_all.json"),
            "crm",
        )
        .unwrap();
        assert_eq!(leads.as_array().unwrap().len(), 44);
    }

    #[test]
    fn recorded_wrong_content_type_415() {
        let raw = RawResponse::from_recorded_http(include_str!(
            "../../tests/data/recorded/odoo19/jsonrpc_wrong_content_type.http"
        ));
        let error = decode(&raw, &context("crm")).unwrap_err();
        assert!(matches!(error, OdooError::Http { status: 415, .. }));
        // The recording cut the page before its explanation, so only its title is left.
        assert_eq!(
            error.to_string(),
            "Odoo rejected the Content-Type of POST /jsonrpc with HTTP 415: 415 Unsupported \
             Media Type"
        );
        assert!(error.hint().unwrap().contains("Content-Type"));
        assert!(!error.is_transient());
    }

    #[test]
    fn html_200_is_not_odoo() {
        let raw =
            RawResponse::from_recorded_txt("<html><body>It works!</body></html>\n200 text/html");
        let error = decode(&raw, &context("crm")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "http://127.0.0.1:8069 does not look like an Odoo server: POST /jsonrpc answered \
             HTTP 200 (text/html)"
        );
    }

    #[test]
    fn foreign_json_is_not_odoo() {
        let raw = RawResponse::from_recorded_json("{\"status\": \"ok\"}");
        let error = decode(&raw, &context("crm")).unwrap_err();
        assert!(matches!(error, OdooError::NotOdoo { .. }));
    }

    #[test]
    fn missing_result_is_null() {
        let raw = RawResponse::from_recorded_json("{\"jsonrpc\": \"2.0\", \"id\": 1}");
        assert_eq!(decode(&raw, &context("crm")).unwrap(), Value::Null);
    }

    #[test]
    fn login_uid_reads_number() {
        assert_eq!(login_uid(&json!(2), &context("crm")).unwrap(), 2);
        let error = login_uid(&json!("2"), &context("crm")).unwrap_err();
        assert!(matches!(error, OdooError::InvalidResponse(_)));
    }
}
