//! JSON-2 over `POST /json/2/<model>/<method>`, the API of Odoo 19.0 and later.
//!
//! The body contains the method's named parameters plus `ids` and `context`, and the response is
//! the bare result. Errors use real HTTP statuses with a `{name, message, arguments, context, debug}` body,
//! except two framework pages that are HTML: the 404 "No database is selected" page and the 415
//! page for a wrong Content-Type (both as recorded from Odoo 19.0).

use serde_json::Value;
use tracing::debug;

use super::error::{ErrorContext, OdooError};
use super::jsonrpc::map_exception;
use super::transport::RawResponse;

/// Returns the path of a JSON-2 call, such as `/json/2/crm.lead/search_read`.
pub(crate) fn path(model: &str, method: &str) -> String {
    format!("/json/2/{model}/{method}")
}

/// Returns the bare result of a JSON-2 response, or the error it carries.
pub(crate) fn decode(
    raw: &RawResponse,
    request: &str,
    context: &ErrorContext,
) -> Result<Value, OdooError> {
    let json = raw.json();
    if (200..300).contains(&raw.status) {
        return json.ok_or_else(|| context.foreign_response(request, raw));
    }

    if let Some((name, message)) = json.as_ref().and_then(odoo_error) {
        // Only the exception's name: Odoo's traceback can quote the request, API key included.
        debug!(exception = %name, "Odoo returned a JSON-2 error");
        if raw.status == 401 {
            return Err(OdooError::InvalidApiKey);
        }
        return Err(map_exception(&name, &message, context));
    }

    if raw.status == 404 && raw.body.contains("No database is selected") {
        return Err(context.unknown_database());
    }
    Err(context.foreign_response(request, raw))
}

/// Reads `name` and `message` of an Odoo error body; `None` for any other JSON.
fn odoo_error(body: &Value) -> Option<(String, String)> {
    let name = body.get("name")?.as_str()?;
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    Some((name.to_string(), message.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &str = "POST /json/2/crm.lead/search_read";

    fn context(database: &str) -> ErrorContext {
        ErrorContext {
            url: "http://127.0.0.1:8069".to_string(),
            database: database.to_string(),
            username: "admin".to_string(),
        }
    }

    fn decode_recorded(text: &str) -> Result<Value, OdooError> {
        decode(
            &RawResponse::from_recorded_txt(text),
            REQUEST,
            &context("crm"),
        )
    }

    #[test]
    fn path_names_model_and_method() {
        assert_eq!(
            path("crm.lead", "search_read"),
            "/json/2/crm.lead/search_read"
        );
    }

    #[test]
    fn recorded_search_read_decodes() {
        let result = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_search_read.txt"
        ))
        .unwrap();
        let leads = result.as_array().unwrap();
        assert_eq!(leads.len(), 2);
        assert_eq!(leads[0]["stage_id"], serde_json::json!([1, "New"]));
    }

    #[test]
    fn recorded_read_drops_missing_id() {
        let result = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_read_missing_id.txt"
        ))
        .unwrap();
        let leads = result.as_array().unwrap();
        assert_eq!(leads.len(), 1);
        assert_eq!(leads[0]["id"], 14);
    }

    #[test]
    fn recorded_invalid_apikey() {
        let error = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_invalid_apikey.txt"
        ))
        .unwrap_err();
        assert!(matches!(error, OdooError::InvalidApiKey));
        assert!(error.hint().unwrap().contains("New API Key"));
        assert!(!error.is_transient());
    }

    #[test]
    fn recorded_invalid_field_500_is_not_transient() {
        let error = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_invalid_field.txt"
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the Odoo server raised builtins.ValueError: Invalid field 'mobile' on 'crm.lead'"
        );
        assert!(!error.is_transient());
        assert!(error.hint().unwrap().contains("field does not exist"));
    }

    #[test]
    fn recorded_invalid_domain_field() {
        let error = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_invalid_domain_field.txt"
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the Odoo server raised builtins.ValueError: Invalid field crm.lead.nosuchfield in \
             condition ('nosuchfield', '=', 1)"
        );
        assert!(!error.is_transient());
    }

    #[test]
    fn recorded_invalid_order() {
        let error = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_invalid_order.txt"
        ))
        .unwrap_err();
        let OdooError::Server { name, message } = &error else {
            panic!("expected a server error, got {error:?}");
        };
        assert_eq!(name, "odoo.exceptions.UserError");
        assert!(message.starts_with("Invalid \"order\" specified (write_date sideways)"));
    }

    #[test]
    fn recorded_ids_on_model_method() {
        let error = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_ids_on_model_method.txt"
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the Odoo server raised werkzeug.exceptions.UnprocessableEntity: cannot call \
             crm.lead.search_read with ids"
        );
    }

    #[test]
    fn recorded_unknown_model() {
        let error = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_unknown_model.txt"
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the Odoo server raised werkzeug.exceptions.NotFound: the model 'crm.leadx' does not \
             exist"
        );
        assert!(error.hint().unwrap().contains("CRM app"));
    }

    #[test]
    fn recorded_unknown_database() {
        let raw = RawResponse::from_recorded_txt(include_str!(
            "../../tests/data/recorded/odoo19/json2_unknown_database.txt"
        ));
        let error = decode(&raw, REQUEST, &context("nosuchdb")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "database 'nosuchdb' does not exist on http://127.0.0.1:8069"
        );
        assert_eq!(error.hint().unwrap(), "check ODOO_DB");
    }

    #[test]
    fn recorded_wrong_content_type() {
        let error = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo19/json2_wrong_content_type.txt"
        ))
        .unwrap_err();
        assert!(matches!(error, OdooError::Http { status: 415, .. }));
        assert!(error.to_string().contains("type='json2'"));
    }

    #[test]
    fn older_odoo_404_page_is_not_odoo() {
        let error = decode_recorded(include_str!(
            "../../tests/data/recorded/odoo17/web_version.txt"
        ))
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "http://127.0.0.1:8069 does not look like an Odoo server: POST \
             /json/2/crm.lead/search_read answered HTTP 404 (text/html)"
        );
    }

    #[test]
    fn proxy_json_503_is_transient() {
        let raw = RawResponse::from_recorded_txt("{\"error\": \"upstream\"}\n503 application/json");
        let error = decode(&raw, REQUEST, &context("crm")).unwrap_err();
        assert!(error.is_transient());
    }

    #[test]
    fn access_error_403_is_server_error() {
        let body = "{\"name\": \"odoo.exceptions.AccessError\", \"message\": \"You are not \
                    allowed to access 'Lead' (crm.lead) records.\"}\n403 application/json";
        let error = decode_recorded(body).unwrap_err();
        assert!(matches!(error, OdooError::Server { .. }));
        assert!(error.hint().unwrap().contains("read access"));
    }
}
