//! Errors of the Odoo client, and the mapping of non-Odoo HTTP responses shared by both protocols.
//!
//! Every message names the value that failed; [`OdooError::hint`] tells the user what to change. No
//! message contains the password or API key (see [`OdooError::scrub_secret`]), and URLs in them
//! went through [`crate::secret::redact_url`].

use thiserror::Error;

use super::transport::RawResponse;

/// A failed Odoo request, with enough detail to tell the user what to fix.
#[derive(Debug, Error)]
pub enum OdooError {
    /// No HTTP answer: connection refused, DNS failure, TLS failure or timeout.
    #[error("could not connect to Odoo at {url}: {detail}{}", after_attempts(*.attempts))]
    Unreachable {
        url: String,
        attempts: u32,
        detail: String,
    },

    /// A server responded, but not the way Odoo does (HTML, 404 for `/jsonrpc`, foreign JSON).
    #[error("{url} does not look like an Odoo server: {detail}")]
    NotOdoo { url: String, detail: String },

    /// `common.login` returned `false`.
    #[error(
        "login failed for user '{username}' on database '{database}': wrong username or password"
    )]
    LoginFailed { username: String, database: String },

    #[error("database '{database}' does not exist on {url}")]
    UnknownDatabase { database: String, url: String },

    /// `odoo.exceptions.AccessDenied` raised by a call after login, or a JSON-2 403 of that name.
    #[error("access denied: {detail}")]
    AccessDenied { detail: String },

    /// JSON-2 returned 401, so the bearer token is not a valid API key.
    #[error("Odoo rejected the API key (JSON-2 answered HTTP 401 \"Invalid apikey\")")]
    InvalidApiKey,

    /// An exception raised inside Odoo, by its Python class name (`builtins.ValueError`).
    #[error("the Odoo server raised {name}: {message}")]
    Server { name: String, message: String },

    /// An HTTP status that neither protocol defines: redirects, proxy errors, 5xx pages.
    #[error("{detail}")]
    Http { status: u16, detail: String },

    /// A JSON response from Odoo whose shape crm-vec does not expect.
    #[error("unexpected response from Odoo: {0}")]
    InvalidResponse(String),

    /// The configured protocol does not work with this server.
    #[error("{0}")]
    Unsupported(String),
}

fn after_attempts(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl OdooError {
    /// Returns whether the same request may succeed later: no response, a timeout, or an HTTP 5xx/429
    /// that did not carry an Odoo exception. Odoo exceptions are deterministic and never retried.
    pub fn is_transient(&self) -> bool {
        match self {
            OdooError::Unreachable { .. } => true,
            OdooError::Http { status, .. } => is_transient_status(*status),
            _ => false,
        }
    }

    /// Returns what the user can change to fix the error, when crm-vec can tell.
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            OdooError::Unreachable { .. } => "check ODOO_URL and that the server is running",
            OdooError::NotOdoo { .. } => {
                "check ODOO_URL (the address you open Odoo at in a browser, without /web or /odoo)"
            }
            OdooError::LoginFailed { .. } => {
                "check ODOO_USERNAME and ODOO_PASSWORD (an API key works as the password)"
            }
            OdooError::UnknownDatabase { .. } => "check ODOO_DB",
            OdooError::AccessDenied { .. } => {
                "check ODOO_USERNAME and ODOO_PASSWORD: the password may have changed, or the \
                 API key may have been revoked or expired"
            }
            OdooError::InvalidApiKey => {
                "put an API key in ODOO_PASSWORD (Odoo: Preferences → Account Security → New API \
                 Key), or set ODOO_PROTOCOL=jsonrpc to log in with the password"
            }
            OdooError::Server { name, message } => return server_hint(name, message),
            OdooError::Http { status, .. } => return http_hint(*status),
            OdooError::InvalidResponse(_) => return None,
            OdooError::Unsupported(_) => {
                "set ODOO_PROTOCOL=auto to let crm-vec pick the protocol this server supports"
            }
        };
        Some(hint.to_string())
    }

    /// Replaces every occurrence of `secret` in the error's texts with `****`.
    ///
    /// The recorded Odoo 17–19 error messages contain no passwords, but a proxy or a customised
    /// server may echo one, and these texts end up on the terminal.
    pub(crate) fn scrub_secret(self, secret: &str) -> OdooError {
        // Short values would mask ordinary words, and Odoo rejects passwords this short anyway.
        if secret.len() < 4 {
            return self;
        }
        let scrub = |text: String| text.replace(secret, "****");
        match self {
            OdooError::Unreachable {
                url,
                attempts,
                detail,
            } => OdooError::Unreachable {
                url,
                attempts,
                detail: scrub(detail),
            },
            OdooError::NotOdoo { url, detail } => OdooError::NotOdoo {
                url,
                detail: scrub(detail),
            },
            OdooError::AccessDenied { detail } => OdooError::AccessDenied {
                detail: scrub(detail),
            },
            OdooError::Server { name, message } => OdooError::Server {
                name,
                message: scrub(message),
            },
            OdooError::Http { status, detail } => OdooError::Http {
                status,
                detail: scrub(detail),
            },
            OdooError::InvalidResponse(detail) => OdooError::InvalidResponse(scrub(detail)),
            OdooError::Unsupported(detail) => OdooError::Unsupported(scrub(detail)),
            other => other,
        }
    }

    /// Records how many attempts were made before giving up on a transient error.
    pub(crate) fn with_attempts(self, attempts: u32) -> OdooError {
        match self {
            OdooError::Unreachable { url, detail, .. } => OdooError::Unreachable {
                url,
                attempts,
                detail,
            },
            OdooError::Http { status, detail } if attempts > 1 => OdooError::Http {
                status,
                detail: format!("{detail}{}", after_attempts(attempts)),
            },
            other => other,
        }
    }
}

/// Returns whether a request that got `status` may succeed when sent again. 501 Not
/// Implemented and 505 HTTP Version Not Supported state what the server cannot do, so they are
/// not transient although they are 5xx (a static file server returns 501 for a POST).
pub(crate) fn is_transient_status(status: u16) -> bool {
    match status {
        408 | 429 => true,
        501 | 505 => false,
        _ => status >= 500,
    }
}

fn server_hint(name: &str, message: &str) -> Option<String> {
    let hint = if name == "builtins.ValueError" && message.contains("Invalid field") {
        "the field does not exist in this Odoo version (fields differ between versions, for \
         example crm.lead has no `mobile` from 19.0 on)"
    } else if name == "odoo.exceptions.AccessError" {
        "give the Odoo user read access to this model (for leads: a Sales role in the user's \
         settings)"
    } else if name == "werkzeug.exceptions.NotFound" || message.contains("doesn't exist") {
        "the model or method does not exist on this server: check that the CRM app is installed"
    } else {
        return None;
    };
    Some(hint.to_string())
}

fn http_hint(status: u16) -> Option<String> {
    let hint = match status {
        300..=399 => "set ODOO_URL to the address the server redirects to (often https://)",
        400 | 415 => {
            "crm-vec sends Content-Type: application/json, so a proxy in front of Odoo may be \
             rewriting the request headers"
        }
        429 => "Odoo or a proxy in front of it limits the request rate: try again later",
        500..=599 => "Odoo or a proxy in front of it failed: try again later or read its logs",
        _ => return None,
    };
    Some(hint.to_string())
}

/// The server, database and user that error messages name.
#[derive(Debug, Clone)]
pub(crate) struct ErrorContext {
    /// The configured URL without user info or query, as [`crate::secret::redact_url`] returns it.
    pub url: String,
    pub database: String,
    pub username: String,
}

impl ErrorContext {
    pub fn not_odoo(&self, detail: String) -> OdooError {
        OdooError::NotOdoo {
            url: self.url.clone(),
            detail,
        }
    }

    pub fn unknown_database(&self) -> OdooError {
        OdooError::UnknownDatabase {
            database: self.database.clone(),
            url: self.url.clone(),
        }
    }

    pub fn access_denied(&self, odoo_message: &str) -> OdooError {
        OdooError::AccessDenied {
            detail: format!(
                "Odoo rejected the credentials of user '{}' on database '{}' ({})",
                self.username,
                self.database,
                odoo_message.trim()
            ),
        }
    }

    /// Maps a response that is not the protocol's own: redirects, Content-Type pages, proxy errors
    /// and pages from servers that are not Odoo. `request` reads like `POST /jsonrpc`.
    pub fn foreign_response(&self, request: &str, raw: &RawResponse) -> OdooError {
        let status = raw.status;
        let media_type = raw.media_type_or("no Content-Type");
        let url = &self.url;

        if (300..400).contains(&status) {
            let target = raw
                .location
                .as_deref()
                .map(crate::secret::redact_url)
                .unwrap_or_else(|| "an address it does not give".to_string());
            return OdooError::Http {
                status,
                detail: format!(
                    "{request} on {url} answered HTTP {status}, a redirect to {target}"
                ),
            };
        }
        // Odoo 16–18 reject a wrong Content-Type with a 400 page that explains it, Odoo 19
        // with a 415 page that does not always.
        if status == 415 || (status == 400 && raw.body.contains("Request inferred type")) {
            return OdooError::Http {
                status,
                detail: format!(
                    "Odoo rejected the Content-Type of {request} with HTTP {status}: {}",
                    page_explanation(&raw.body)
                ),
            };
        }
        if is_transient_status(status) {
            let answered = format!("{request} on {url} answered HTTP {status} ({media_type})");
            let summary = page_summary(&raw.body);
            let detail = if summary.is_empty() {
                answered
            } else {
                format!("{answered}: {summary}")
            };
            return OdooError::Http { status, detail };
        }
        // A server that declares JSON and sends something unparseable is more likely a cut-off
        // response or a bad record than another kind of server.
        if (200..300).contains(&status) && media_type.contains("json") {
            if let Err(err) = serde_json::from_str::<serde_json::Value>(&raw.body) {
                return OdooError::InvalidResponse(format!(
                    "{request} on {url} answered JSON that could not be read ({err})"
                ));
            }
        }
        self.not_odoo(format!("{request} answered HTTP {status} ({media_type})"))
    }
}

/// Returns the `<title>` of an HTML page, or the start of its text.
pub(crate) fn page_summary(body: &str) -> String {
    let lower = body.to_ascii_lowercase();
    if let (Some(start), Some(end)) = (lower.find("<title>"), lower.find("</title>")) {
        let start = start + "<title>".len();
        if start <= end {
            return page_text(&body[start..end]);
        }
    }
    let text = page_text(body);
    match text.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Returns the text from the first `<p>` on, which skips the title and heading of werkzeug's
/// error pages, or the page's summary when it has no paragraph.
fn page_explanation(html: &str) -> String {
    match html.find("<p>") {
        Some(start) => page_text(&html[start..]),
        None => page_summary(html),
    }
}

/// Removes tags, comments and the common entities from an HTML page and joins its words.
///
/// Good enough for Odoo's and werkzeug's short error pages; not an HTML parser.
pub(crate) fn page_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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

    fn raw(status: u16, content_type: &str, body: &str) -> RawResponse {
        RawResponse {
            status,
            content_type: Some(content_type.to_string()),
            location: None,
            body: body.to_string(),
        }
    }

    #[test]
    fn unreachable_message_counts_attempts() {
        let error = OdooError::Unreachable {
            url: "http://127.0.0.1:8069".to_string(),
            attempts: 4,
            detail: "connection refused".to_string(),
        };
        assert_eq!(
            error.to_string(),
            "could not connect to Odoo at http://127.0.0.1:8069: connection refused \
             (after 4 attempts)"
        );
        assert!(error.is_transient());
        assert_eq!(
            error.hint().unwrap(),
            "check ODOO_URL and that the server is running"
        );
    }

    #[test]
    fn login_failed_message_and_hint() {
        let error = OdooError::LoginFailed {
            username: "admin".to_string(),
            database: "crm".to_string(),
        };
        assert_eq!(
            error.to_string(),
            "login failed for user 'admin' on database 'crm': wrong username or password"
        );
        assert_eq!(
            error.hint().unwrap(),
            "check ODOO_USERNAME and ODOO_PASSWORD (an API key works as the password)"
        );
        assert!(!error.is_transient());
    }

    #[test]
    fn transient_statuses() {
        for status in [500, 502, 503, 504, 429, 408] {
            let error = OdooError::Http {
                status,
                detail: String::new(),
            };
            assert!(error.is_transient(), "HTTP {status} should be transient");
        }
        for status in [301, 400, 404, 405, 415, 501, 505] {
            let error = OdooError::Http {
                status,
                detail: String::new(),
            };
            assert!(
                !error.is_transient(),
                "HTTP {status} should not be transient"
            );
        }
        let server = OdooError::Server {
            name: "builtins.ValueError".to_string(),
            message: "Invalid field 'mobile' on 'crm.lead'".to_string(),
        };
        assert!(!server.is_transient());
    }

    #[test]
    fn scrub_secret_masks_password() {
        let error = OdooError::Server {
            name: "builtins.Exception".to_string(),
            message: "bad credential hunter22 for admin".to_string(),
        };
        let scrubbed = error.scrub_secret("hunter22");
        assert!(!scrubbed.to_string().contains("hunter22"));
        assert!(scrubbed
            .to_string()
            .contains("bad credential **** for admin"));
    }

    #[test]
    fn with_attempts_only_marks_retries() {
        let http = OdooError::Http {
            status: 502,
            detail: "POST /jsonrpc answered HTTP 502".to_string(),
        };
        assert_eq!(
            http.with_attempts(4).to_string(),
            "POST /jsonrpc answered HTTP 502 (after 4 attempts)"
        );
        let once = OdooError::Http {
            status: 502,
            detail: "x".to_string(),
        };
        assert_eq!(once.with_attempts(1).to_string(), "x");
    }

    #[test]
    fn foreign_html_404_is_not_odoo() {
        let error = context().foreign_response(
            "POST /jsonrpc",
            &raw(404, "text/html; charset=utf-8", "<html>Not Found</html>"),
        );
        assert_eq!(
            error.to_string(),
            "http://127.0.0.1:8069 does not look like an Odoo server: POST /jsonrpc answered \
             HTTP 404 (text/html)"
        );
        assert_eq!(
            error.hint().unwrap(),
            "check ODOO_URL (the address you open Odoo at in a browser, without /web or /odoo)"
        );
    }

    #[test]
    fn static_file_server_is_not_odoo() {
        // The 501 page `python3 -m http.server` returns for a POST, and a static nginx site's 405.
        let python = "<!DOCTYPE HTML>\n<html lang=\"en\"><head><title>Error response</title>\
                      </head><body><h1>Error response</h1><p>Error code: 501</p>\
                      <p>Message: Unsupported method ('POST').</p></body></html>";
        let nginx = "<html><head><title>405 Not Allowed</title></head></html>";
        for (status, page) in [(501, python), (405, nginx)] {
            let error =
                context().foreign_response("POST /jsonrpc", &raw(status, "text/html", page));
            assert_eq!(
                error.to_string(),
                format!(
                    "http://127.0.0.1:8069 does not look like an Odoo server: POST /jsonrpc \
                     answered HTTP {status} (text/html)"
                )
            );
            assert!(!error.is_transient(), "HTTP {status}");
            assert!(error.hint().unwrap().contains("ODOO_URL"), "HTTP {status}");
        }
    }

    #[test]
    fn proxy_502_is_transient_http() {
        let page = "<html><head><title>502 Bad Gateway</title></head>\
                    <body><h1>502 Bad Gateway</h1></body></html>";
        let error = context().foreign_response("POST /jsonrpc", &raw(502, "text/html", page));
        assert!(error.is_transient());
        assert_eq!(
            error.to_string(),
            "POST /jsonrpc on http://127.0.0.1:8069 answered HTTP 502 (text/html): 502 Bad Gateway"
        );
    }

    #[test]
    fn cut_off_json_is_unreadable_not_foreign() {
        let answer = raw(
            200,
            "application/json",
            r#"{"jsonrpc": "2.0", "id": 1, "resul"#,
        );
        let error = context().foreign_response("POST /jsonrpc", &answer);
        assert!(matches!(error, OdooError::InvalidResponse(_)), "{error}");
        assert!(
            error.to_string().starts_with(
                "unexpected response from Odoo: POST /jsonrpc on http://127.0.0.1:8069 answered \
                 JSON that could not be read (EOF while parsing"
            ),
            "{error}"
        );
    }

    #[test]
    fn redirect_names_target_without_query() {
        let mut answer = raw(301, "text/html", "");
        answer.location = Some("https://odoo.example.com/jsonrpc?x=1".to_string());
        let error = context().foreign_response("POST /jsonrpc", &answer);
        assert_eq!(
            error.to_string(),
            "POST /jsonrpc on http://127.0.0.1:8069 answered HTTP 301, a redirect to \
             https://odoo.example.com/jsonrpc"
        );
        assert!(error.hint().unwrap().contains("ODOO_URL"));
    }

    #[test]
    fn recorded_wrong_content_type_pages() {
        let pages = [
            (
                400,
                include_str!("../../tests/data/recorded/odoo17/jsonrpc_wrong_content_type.txt"),
            ),
            (
                400,
                include_str!("../../tests/data/recorded/odoo18/jsonrpc_wrong_content_type.txt"),
            ),
            (
                415,
                include_str!("../../tests/data/recorded/odoo19/json2_wrong_content_type.txt"),
            ),
        ];
        for (status, text) in pages {
            let answer = RawResponse::from_recorded_txt(text);
            assert_eq!(answer.status, status);
            let error = context().foreign_response("POST /jsonrpc", &answer);
            let message = error.to_string();
            assert!(
                message.starts_with(&format!(
                    "Odoo rejected the Content-Type of POST /jsonrpc with HTTP {status}: "
                )),
                "{message}"
            );
            assert!(message.contains("Request inferred type is compatible with ['http']"));
            assert!(!message.contains("<p>"), "{message}");
            assert!(!message.contains("Bad Request"), "{message}");
            assert!(error.hint().unwrap().contains("Content-Type"));
            assert!(!error.is_transient());
        }
    }

    #[test]
    fn page_text_strips_markup() {
        assert_eq!(
            page_text("<p>a &#39;b&#39;<br><br>c</p>\n\n<!-- x -->"),
            "a 'b' c"
        );
    }

    #[test]
    fn page_summary_prefers_title() {
        assert_eq!(
            page_summary("<title>404 Not Found</title><p>long</p>"),
            "404 Not Found"
        );
        assert_eq!(page_summary("plain text"), "plain text");
    }
}
