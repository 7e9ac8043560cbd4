//! HTTP for the Odoo client: one reqwest client, timeouts, and retries with backoff.
//!
//! Requests here carry the password or API key in their body or headers, so nothing in this
//! file logs a request body or a header.

use std::collections::hash_map::RandomState;
use std::error::Error as _;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{redirect, Client, RequestBuilder};
use tracing::warn;

use super::error::OdooError;
use super::OdooSettings;
use crate::secret::{redact_url, Secret};

/// The maximum wait between two attempts, whatever `initial_backoff` and the attempt number give.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// An HTTP response read completely, before either protocol interprets it.
#[derive(Debug, Clone)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: String,
}

impl RawResponse {
    /// Returns the media type without parameters: `text/html` for `text/html; charset=utf-8`.
    pub fn media_type(&self) -> Option<String> {
        let content_type = self.content_type.as_deref()?;
        let media_type = content_type.split(';').next().unwrap_or("").trim();
        Some(media_type.to_ascii_lowercase())
    }

    pub fn media_type_or(&self, missing: &str) -> String {
        self.media_type().unwrap_or_else(|| missing.to_string())
    }

    /// Parses the body as JSON when the response is declared as JSON or looks like it.
    pub fn json(&self) -> Option<serde_json::Value> {
        let declared = self.media_type().is_some_and(|t| t.contains("json"));
        let looks_like_json = self.body.trim_start().starts_with(['{', '[']);
        if !declared && !looks_like_json {
            return None;
        }
        serde_json::from_str(&self.body).ok()
    }
}

/// Sends requests to one Odoo server, retrying the transient failures.
pub(crate) struct Transport {
    client: Client,
    base_url: String,
    redacted_url: String,
    connect_timeout: Duration,
    request_timeout: Duration,
    max_attempts: u32,
    initial_backoff: Duration,
    secret: Secret,
}

impl Transport {
    pub fn new(settings: &OdooSettings) -> Result<Transport, OdooError> {
        let base_url = settings.url.trim().trim_end_matches('/').to_string();
        // Redirects are not followed: reqwest turns a POST into a GET on 301 and 302, which
        // hides the real problem (usually http:// instead of https://) behind an odd response.
        let client = Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .redirect(redirect::Policy::none())
            .user_agent(concat!("crm-vec/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                OdooError::Unsupported(format!("could not set up the HTTP client: {error}"))
            })?;
        Ok(Transport {
            client,
            redacted_url: redact_url(&base_url),
            base_url,
            connect_timeout: settings.connect_timeout,
            request_timeout: settings.request_timeout,
            max_attempts: settings.max_attempts.max(1),
            initial_backoff: settings.initial_backoff,
            secret: settings.password.clone(),
        })
    }

    /// Returns the configured URL, trailing slash removed.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Returns the configured URL without user info or query, for messages and logs.
    pub fn redacted_url(&self) -> &str {
        &self.redacted_url
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(format!("{}{path}", self.base_url))
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client.post(format!("{}{path}", self.base_url))
    }

    /// Sends the request that `build` makes and interprets the response with `decode`, retrying
    /// while the error is transient and attempts remain.
    ///
    /// `build` runs once per attempt because a request with a body cannot be cloned after use.
    pub async fn execute<T>(
        &self,
        build: impl Fn() -> RequestBuilder,
        decode: impl Fn(RawResponse) -> Result<T, OdooError>,
    ) -> Result<T, OdooError> {
        let mut attempt = 1;
        let mut previous_error: Option<String> = None;
        loop {
            let outcome = match self.send_once(build()).await {
                Ok(raw) => decode(raw),
                Err(error) => Err(error),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error.scrub_secret(self.secret.expose_secret()),
            };
            if !error.is_transient() || attempt >= self.max_attempts {
                return Err(error.with_attempts(attempt));
            }

            let delay = backoff_delay(self.initial_backoff, attempt);
            let text = error.to_string();
            self.log_retry(attempt, delay, &text, previous_error.as_deref());
            previous_error = Some(text);
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Logs a retry. The error is shown only when it differs from the previous attempt's, so a
    /// server that stays down gives one full message and then short lines.
    fn log_retry(&self, attempt: u32, delay: Duration, error: &str, previous: Option<&str>) {
        let max_attempts = self.max_attempts;
        let wait = format!("{} ms", delay.as_millis());
        if previous == Some(error) {
            warn!(
                url = %self.redacted_url,
                "Odoo request {attempt} of {max_attempts} failed the same way, retrying in {wait}"
            );
        } else {
            warn!(
                url = %self.redacted_url,
                error = %error,
                "Odoo request {attempt} of {max_attempts} failed, retrying in {wait}"
            );
        }
    }

    async fn send_once(&self, request: RequestBuilder) -> Result<RawResponse, OdooError> {
        let response = request
            .send()
            .await
            .map_err(|error| self.unreachable(&error))?;
        let status = response.status().as_u16();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|value: &reqwest::header::HeaderValue| value.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header(CONTENT_TYPE);
        let location = header(LOCATION);
        let body = response
            .text()
            .await
            .map_err(|error| self.unreachable(&error))?;
        Ok(RawResponse {
            status,
            content_type,
            location,
            body,
        })
    }

    fn unreachable(&self, error: &reqwest::Error) -> OdooError {
        OdooError::Unreachable {
            url: self.redacted_url.clone(),
            attempts: 1,
            detail: describe_send_error(error, self.connect_timeout, self.request_timeout),
        }
    }
}

/// Describes a failed send without the URL, which reqwest's own message includes unredacted.
fn describe_send_error(error: &reqwest::Error, connect: Duration, request: Duration) -> String {
    if error.is_timeout() {
        return if error.is_connect() {
            format!("connection timed out after {connect:?}")
        } else {
            format!("request timed out after {request:?}")
        };
    }

    let mut causes: Vec<String> = Vec::new();
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".to_string(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".to_string(),
                std::io::ErrorKind::TimedOut => return "connection timed out".to_string(),
                _ => {}
            }
        }
        let text = cause.to_string();
        // hyper and reqwest repeat their inner error in their own message at times.
        if !causes.iter().any(|seen| seen.contains(&text)) {
            causes.push(text);
        }
        source = cause.source();
    }
    if !causes.is_empty() {
        return causes.join(": ");
    }
    if error.is_connect() {
        "connection failed".to_string()
    } else if error.is_body() || error.is_decode() {
        "failed to read the answer body".to_string()
    } else {
        "request failed".to_string()
    }
}

/// Doubles `initial` per attempt (attempt 1 waits `initial`) up to [`MAX_BACKOFF`], then picks a
/// random point in the upper half, so clients that failed together do not retry together.
pub(crate) fn backoff_delay(initial: Duration, attempt: u32) -> Duration {
    let doubling = 1u32 << attempt.saturating_sub(1).min(16);
    let base = initial.saturating_mul(doubling).min(MAX_BACKOFF);
    base.mul_f64(0.5 + 0.5 * random_fraction())
}

/// Returns a number in `[0, 1)` from the standard library's randomly seeded hasher.
fn random_fraction() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    hasher.write_u32(nanos);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
impl RawResponse {
    /// Reads a recorded `.txt` response: the body, then a last line `STATUS CONTENT-TYPE`.
    pub fn from_recorded_txt(text: &str) -> RawResponse {
        let (body, status_line) = text.trim_end_matches('\n').rsplit_once('\n').unwrap();
        let (status, content_type) = status_line.split_once(' ').unwrap();
        RawResponse {
            status: status.parse().unwrap(),
            content_type: Some(content_type.to_string()),
            location: None,
            body: body.to_string(),
        }
    }

    /// Reads a recorded `.json` `/jsonrpc` response, which Odoo always sends with HTTP 200.
    pub fn from_recorded_json(body: &str) -> RawResponse {
        RawResponse {
            status: 200,
            content_type: Some("application/json; charset=utf-8".to_string()),
            location: None,
            body: body.to_string(),
        }
    }

    /// Reads a recorded `.http` response: status line, headers, blank line, body.
    pub fn from_recorded_http(text: &str) -> RawResponse {
        let text = text.replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap();
        let mut lines = head.lines();
        let status = lines.next().unwrap().split(' ').nth(1).unwrap();
        let content_type = lines
            .filter_map(|line| line.split_once(": "))
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .map(|(_, value)| value.to_string());
        RawResponse {
            status: status.parse().unwrap(),
            content_type,
            location: None,
            body: body.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter() {
        let initial = Duration::from_millis(500);
        for attempt in 1..=4 {
            let full = initial * (1 << (attempt - 1));
            let delay = backoff_delay(initial, attempt);
            assert!(
                delay >= full / 2,
                "attempt {attempt}: {delay:?} < {:?}",
                full / 2
            );
            assert!(delay <= full, "attempt {attempt}: {delay:?} > {full:?}");
        }
    }

    #[test]
    fn backoff_is_capped() {
        let delay = backoff_delay(Duration::from_secs(10), 40);
        assert!(delay <= MAX_BACKOFF);
    }

    #[test]
    fn media_type_drops_parameters() {
        let raw = RawResponse::from_recorded_txt("x\n404 text/html;charset=utf-8");
        assert_eq!(raw.media_type().as_deref(), Some("text/html"));
        assert_eq!(raw.body, "x");
    }

    #[test]
    fn json_ignores_html() {
        let raw = RawResponse::from_recorded_txt("<html></html>\n200 text/html");
        assert!(raw.json().is_none());
        let json = RawResponse::from_recorded_txt("{\"a\": 1}\n200 text/plain");
        assert_eq!(json.json().unwrap()["a"], 1);
    }
}
