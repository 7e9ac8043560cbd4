//! Shared pieces of the HTTP embedding clients: batch planning, the POST loop with retries and
//! backoff, splitting of batches the server rejects as too large, and response parsing.

use std::future::Future;
use std::hash::BuildHasher;
use std::ops::Range;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::warn;

use super::{EmbedError, RetryPolicy};
use crate::secret::{redact_url, Secret};

/// Characters per token assumed by [`estimate_tokens`]. It is below the rule of thumb of about 4
/// characters a token for English with BPE tokenizers, so Latin-script text is overestimated.
const CHARS_PER_TOKEN: usize = 3;

/// Maximum characters of a server's error body kept in an error message.
const MAX_MESSAGE_CHARS: usize = 300;

/// Estimates the tokens of a text without a tokenizer: characters (not bytes) divided by
/// [`CHARS_PER_TOKEN`], rounded up.
///
/// NOTE: this underestimates scripts such as Chinese or Japanese, where one character is one
/// token or more. For them the clients rely on splitting a batch the server rejects as too large.
pub(crate) fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(CHARS_PER_TOKEN)
}

/// Splits `texts` into consecutive ranges of at most `max_texts` texts and at most `max_tokens`
/// estimated tokens each. A text whose estimate alone exceeds `max_tokens` gets a range of its own.
pub(crate) fn plan_batches(
    texts: &[String],
    max_texts: usize,
    max_tokens: usize,
) -> Vec<Range<usize>> {
    let max_texts = max_texts.max(1);
    let mut batches = Vec::new();
    let mut start = 0;
    let mut batch_tokens = 0;

    for (i, text) in texts.iter().enumerate() {
        let tokens = estimate_tokens(text);
        let batch_len = i - start;
        let full = batch_len == max_texts || batch_tokens + tokens > max_tokens;
        if batch_len > 0 && full {
            batches.push(start..i);
            start = i;
            batch_tokens = 0;
        }
        batch_tokens += tokens;
    }

    if start < texts.len() {
        batches.push(start..texts.len());
    }
    batches
}

/// Returns `limit` minus 10%, the share of a documented token limit left unplanned because
/// [`estimate_tokens`] is only an estimate and the server may add a prompt to each text.
pub(crate) fn with_headroom(limit: usize) -> usize {
    limit - limit / 10
}

/// An embeddings URL with its HTTP client, optional bearer key and retry policy.
#[derive(Clone)]
pub(crate) struct Endpoint {
    client: reqwest::Client,
    url: String,
    api_key: Option<Secret>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &redact_url(&self.url))
            .field("api_key", &self.api_key)
            .field("retry", &self.retry)
            .finish()
    }
}

/// The outcome of one attempt, before the retry decision.
enum Failure {
    /// An HTTP status other than 2xx, with the server's message.
    Status {
        status: StatusCode,
        message: String,
        retry_after: Option<Duration>,
    },
    /// No usable response: connection refused or reset, timeout, or a body cut off.
    Transport(String),
}

impl Endpoint {
    /// Builds the endpoint `{base_url}/embeddings`. An empty key is treated as no key.
    pub(crate) fn new(
        base_url: &str,
        api_key: Option<Secret>,
        retry: RetryPolicy,
    ) -> Result<Self, EmbedError> {
        let base_url = base_url.trim().trim_end_matches('/');
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(EmbedError::InvalidSettings(format!(
                "the embeddings base URL {:?} must start with http:// or https://",
                redact_url(base_url)
            )));
        }

        let client = reqwest::Client::builder()
            .connect_timeout(retry.connect_timeout)
            .timeout(retry.request_timeout)
            .build()
            .map_err(|err| {
                EmbedError::InvalidSettings(format!(
                    "could not build the HTTP client: {}",
                    error_chain(&err)
                ))
            })?;

        Ok(Self {
            client,
            url: format!("{base_url}/embeddings"),
            api_key: api_key.filter(|key| !key.is_empty()),
            retry,
        })
    }

    /// Sends `body` as JSON and decodes a 2xx response as `T`, retrying 429, 408, 5xx and transport
    /// failures as the retry policy allows.
    ///
    /// A 429 waits for `Retry-After` (in seconds, capped by `max_backoff`) or else for the
    /// exponential backoff, and resends the same body. 401 and the other 4xx fail at once.
    pub(crate) async fn post_json<B, T>(&self, body: &B) -> Result<T, EmbedError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let max_attempts = self.retry.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let failure = match self.send_once(body).await {
                Ok(response) => return Ok(response),
                Err(Ok(failure)) => failure,
                Err(Err(fatal)) => return Err(fatal),
            };

            if attempt >= max_attempts {
                return Err(self.final_error(failure, attempt));
            }

            let wait = match &failure {
                Failure::Status {
                    retry_after: Some(retry_after),
                    ..
                } => (*retry_after).min(self.retry.max_backoff),
                _ => backoff_delay(&self.retry, attempt),
            };
            self.log_retry(&failure, attempt, max_attempts, wait);
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Makes one attempt. The outer error is `Ok(failure)` when the attempt may be retried and
    /// `Err(error)` when it must not be.
    async fn send_once<B, T>(&self, body: &B) -> Result<T, Result<Failure, EmbedError>>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let mut request = self.client.post(&self.url).json(body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key.expose_secret());
        }

        let response = request.send().await.map_err(|err| {
            let is_builder = err.is_builder();
            let message = error_chain(&err.without_url());
            if is_builder {
                Err(EmbedError::InvalidSettings(format!(
                    "could not build a request to {}: {message}",
                    redact_url(&self.url)
                )))
            } else {
                Ok(Failure::Transport(message))
            }
        })?;
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|err| Ok(Failure::Transport(error_chain(&err.without_url()))))?;

        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|err| {
                Err(EmbedError::InvalidResponse(format!(
                    "the response from {} is not valid embeddings JSON ({err}): {}",
                    redact_url(&self.url),
                    self.scrub(&truncate(&String::from_utf8_lossy(&bytes)))
                )))
            });
        }

        let message = self.scrub(&error_message(&bytes));
        if status == StatusCode::UNAUTHORIZED {
            return Err(Err(EmbedError::Unauthorized { message }));
        }
        let retryable = status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error();
        if !retryable {
            return Err(Err(EmbedError::BadRequest {
                status: status.as_u16(),
                message,
            }));
        }
        Err(Ok(Failure::Status {
            status,
            message,
            retry_after,
        }))
    }

    fn final_error(&self, failure: Failure, attempts: u32) -> EmbedError {
        match failure {
            Failure::Status {
                status, message, ..
            } if status == StatusCode::TOO_MANY_REQUESTS => EmbedError::RateLimited { message },
            Failure::Status {
                status, message, ..
            } => EmbedError::Server {
                status: status.as_u16(),
                attempts,
                message,
            },
            Failure::Transport(message) => EmbedError::Unreachable {
                url: redact_url(&self.url),
                attempts,
                message,
            },
        }
    }

    fn log_retry(&self, failure: &Failure, attempt: u32, max_attempts: u32, wait: Duration) {
        let url = redact_url(&self.url);
        let wait_ms = wait.as_millis() as u64;
        match failure {
            Failure::Status {
                status, message, ..
            } => warn!(
                %url,
                status = status.as_u16(),
                attempt,
                max_attempts,
                wait_ms,
                %message,
                "embedding request failed, retrying"
            ),
            Failure::Transport(error) => warn!(
                %url,
                attempt,
                max_attempts,
                wait_ms,
                %error,
                "embedding request failed, retrying"
            ),
        }
    }

    /// Replaces the API key in a server message with a mask, in case the server echoes it.
    fn scrub(&self, message: &str) -> String {
        match &self.api_key {
            Some(key) => message.replace(key.expose_secret(), "****"),
            None => message.to_string(),
        }
    }
}

/// Returns the delay before retry number `attempt` (1 for the first retry): `initial_backoff`
/// doubled for each earlier retry, capped at `max_backoff`, then scaled by a random factor in
/// [0.5, 1.0) so that clients that failed together do not retry together.
fn backoff_delay(policy: &RetryPolicy, attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(31);
    let exponential = policy
        .initial_backoff
        .checked_mul(1u32 << doublings)
        .unwrap_or(policy.max_backoff)
        .min(policy.max_backoff);
    exponential.mul_f64(0.5 + 0.5 * jitter_fraction())
}

/// Returns a pseudo-random number in [0, 1): the current time hashed with the randomly keyed
/// `RandomState` of the standard library, which is enough for jitter and needs no `rand` crate.
fn jitter_fraction() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    let hash = std::collections::hash_map::RandomState::new().hash_one(nanos);
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// Reads `Retry-After` as a number of seconds.
///
/// NOTE: the HTTP-date form of the header is not parsed, so such a response falls back to the
/// exponential backoff.
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let seconds: f64 = value.parse().ok()?;
    if seconds.is_finite() && seconds >= 0.0 {
        // A value too large for a Duration waits as long as the backoff allows.
        Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX))
    } else {
        None
    }
}

/// Extracts the message of an error body: Voyage's `detail`, OpenAI's `error.message`, or the
/// `error` or `message` string other OpenAI-compatible servers send. A body that is not JSON
/// is used as plain text. Long messages are cut to [`MAX_MESSAGE_CHARS`].
pub(crate) fn error_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let from_json = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| message_from_json(&value));
    let message = from_json.unwrap_or_else(|| text.trim().to_string());
    if message.is_empty() {
        "(empty body)".to_string()
    } else {
        truncate(&message)
    }
}

fn message_from_json(value: &serde_json::Value) -> Option<String> {
    let candidates = [
        value.get("detail"),
        value.pointer("/error/message"),
        value.get("error"),
        value.get("message"),
    ];
    let found = candidates.into_iter().flatten().next()?;
    match found {
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    format!("{cut}…")
}

/// Joins an error and its sources, since reqwest's own message ("error sending request") hides
/// the cause ("connection refused") in the source chain.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Returns whether a rejected request may succeed as two smaller ones: HTTP 413, or a 400 or
/// 422 whose message is about too many tokens or inputs in the batch.
pub(crate) fn is_batch_too_large(status: u16, message: &str) -> bool {
    if status == 413 {
        return true;
    }
    if status != 400 && status != 422 {
        return false;
    }
    let message = message.to_lowercase();
    let about_tokens = message.contains("token")
        && [
            "too many",
            "exceed",
            "max",
            "limit",
            "too long",
            "too large",
        ]
        .iter()
        .any(|word| message.contains(word));
    let about_inputs = [
        "batch size",
        "too many inputs",
        "array too long",
        "maximum length",
    ]
    .iter()
    .any(|phrase| message.contains(phrase));
    about_tokens || about_inputs
}

/// Embeds `texts` with `request`, splitting a batch in two whenever the server rejects it as too
/// large (see [`is_batch_too_large`]), down to single texts. Vectors come back in input order.
pub(crate) async fn embed_splitting<'a, F, Fut>(
    texts: &'a [String],
    mut request: F,
) -> Result<Vec<Vec<f32>>, EmbedError>
where
    F: FnMut(&'a [String]) -> Fut,
    Fut: Future<Output = Result<Vec<Vec<f32>>, EmbedError>>,
{
    let mut vectors: Vec<Option<Vec<f32>>> = vec![None; texts.len()];
    // A stack of ranges still to embed; the first half is pushed last so it is sent first.
    let mut pending: Vec<Range<usize>> = Vec::new();
    pending.push(0..texts.len());

    while let Some(range) = pending.pop() {
        match request(&texts[range.clone()]).await {
            Ok(batch) => {
                for (offset, vector) in batch.into_iter().enumerate() {
                    vectors[range.start + offset] = Some(vector);
                }
            }
            Err(EmbedError::BadRequest { status, message })
                if range.len() > 1 && is_batch_too_large(status, &message) =>
            {
                let middle = range.start + range.len() / 2;
                warn!(
                    texts = range.len(),
                    status,
                    %message,
                    "embedding batch rejected as too large, splitting it in two"
                );
                pending.push(middle..range.end);
                pending.push(range.start..middle);
            }
            Err(err) => return Err(err),
        }
    }

    vectors
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| EmbedError::InvalidResponse("a text was left without a vector".into()))
}

/// The response shape shared by Voyage and OpenAI: `{"data": [{"embedding": [...], "index": i}]}`.
#[derive(Debug, Deserialize)]
pub(crate) struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingItem {
    embedding: Vec<f32>,
    index: usize,
}

impl EmbeddingsResponse {
    /// Orders the vectors by `index` after checking that each of `0..expected_count` appears
    /// exactly once and that every vector has `dimension` values (when `None`, that all vectors
    /// have the same, non-zero length).
    pub(crate) fn into_vectors(
        self,
        expected_count: usize,
        dimension: Option<usize>,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if self.data.len() != expected_count {
            return Err(EmbedError::InvalidResponse(format!(
                "expected {expected_count} embeddings, got {}",
                self.data.len()
            )));
        }

        let dimension = dimension.or_else(|| self.data.first().map(|item| item.embedding.len()));
        let mut vectors: Vec<Option<Vec<f32>>> = vec![None; expected_count];
        for item in self.data {
            let length = item.embedding.len();
            if length == 0 {
                return Err(EmbedError::InvalidResponse(format!(
                    "embedding {} is empty",
                    item.index
                )));
            }
            if item.embedding.iter().any(|value| !value.is_finite()) {
                return Err(EmbedError::InvalidResponse(format!(
                    "embedding {} has a value that is not a finite 32-bit number",
                    item.index
                )));
            }
            if Some(length) != dimension {
                return Err(EmbedError::InvalidResponse(format!(
                    "embedding {} has {length} values, expected {}",
                    item.index,
                    dimension.unwrap_or(0)
                )));
            }
            let slot = vectors.get_mut(item.index).ok_or_else(|| {
                EmbedError::InvalidResponse(format!(
                    "embedding index {} is out of range for {expected_count} inputs",
                    item.index
                ))
            })?;
            if slot.replace(item.embedding).is_some() {
                return Err(EmbedError::InvalidResponse(format!(
                    "embedding index {} appears more than once",
                    item.index
                )));
            }
        }

        // Every slot is filled: `expected_count` items, all in range, none repeated.
        Ok(vectors.into_iter().flatten().collect())
    }
}

#[cfg(test)]
pub(crate) mod test_server {
    //! A tiny HTTP/1.1 server on 127.0.0.1 that records each request and responds with a
    //! response computed by the test. Every response closes its connection.

    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinHandle;

    /// A request as the server received it.
    #[derive(Debug, Clone)]
    pub(crate) struct Recorded {
        pub path: String,
        pub headers: Vec<(String, String)>,
        pub body: serde_json::Value,
    }

    impl Recorded {
        pub(crate) fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        }

        /// Returns the `input` array of an embeddings request.
        pub(crate) fn inputs(&self) -> Vec<String> {
            serde_json::from_value(self.body["input"].clone()).expect("input is a string array")
        }
    }

    /// A response to send back.
    pub(crate) struct Canned {
        pub status: u16,
        pub headers: Vec<(&'static str, String)>,
        pub body: String,
    }

    impl Canned {
        pub(crate) fn json(status: u16, body: serde_json::Value) -> Self {
            Self {
                status,
                headers: vec![("Content-Type", "application/json".into())],
                body: body.to_string(),
            }
        }

        pub(crate) fn text(status: u16, body: &str) -> Self {
            Self {
                status,
                headers: vec![("Content-Type", "text/plain".into())],
                body: body.to_string(),
            }
        }

        pub(crate) fn with_header(mut self, name: &'static str, value: &str) -> Self {
            self.headers.push((name, value.to_string()));
            self
        }
    }

    /// Returns an embeddings response body with one `[index, 0.5, 0.5, …]` vector of `dimension`
    /// values per index, listed in the order given.
    pub(crate) fn embeddings_response(indices: &[usize], dimension: usize) -> serde_json::Value {
        let data: Vec<serde_json::Value> = indices
            .iter()
            .map(|&index| {
                let mut embedding = vec![0.5f32; dimension];
                embedding[0] = index as f32;
                serde_json::json!({"object": "embedding", "embedding": embedding, "index": index})
            })
            .collect();
        let usage = serde_json::json!({"total_tokens": 1});
        serde_json::json!({"object": "list", "data": data, "model": "test", "usage": usage})
    }

    type Responder = dyn Fn(&Recorded, usize) -> Canned + Send + Sync;

    pub(crate) struct TestServer {
        pub base_url: String,
        requests: Arc<Mutex<Vec<Recorded>>>,
        task: JoinHandle<()>,
    }

    impl TestServer {
        /// Starts the server. `respond` gets each request and its number, counting from 0.
        pub(crate) async fn start<F>(respond: F) -> Self
        where
            F: Fn(&Recorded, usize) -> Canned + Send + Sync + 'static,
        {
            let listener = TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind 127.0.0.1:0");
            let base_url = format!("http://{}/v1", listener.local_addr().unwrap());
            let requests = Arc::new(Mutex::new(Vec::new()));
            let respond: Arc<Responder> = Arc::new(respond);

            let recorded = Arc::clone(&requests);
            let task = tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let recorded = Arc::clone(&recorded);
                    let respond = Arc::clone(&respond);
                    tokio::spawn(serve_connection(stream, recorded, respond));
                }
            });

            Self {
                base_url,
                requests,
                task,
            }
        }

        pub(crate) fn requests(&self) -> Vec<Recorded> {
            self.requests.lock().unwrap().clone()
        }
    }

    impl Drop for TestServer {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    async fn serve_connection(
        mut stream: TcpStream,
        recorded: Arc<Mutex<Vec<Recorded>>>,
        respond: Arc<Responder>,
    ) {
        let Some(request) = read_request(&mut stream).await else {
            return;
        };
        let number = {
            let mut all = recorded.lock().unwrap();
            all.push(request.clone());
            all.len() - 1
        };
        let canned = respond(&request, number);

        let mut head = format!(
            "HTTP/1.1 {} Test\r\nContent-Length: {}\r\nConnection: close\r\n",
            canned.status,
            canned.body.len()
        );
        for (name, value) in &canned.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(canned.body.as_bytes()).await;
        let _ = stream.shutdown().await;
    }

    async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
        let mut buffer = Vec::new();
        let mut chunk = [0u8; 8192];
        let header_end = loop {
            if let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
                break end + 4;
            }
            let read = stream.read(&mut chunk).await.ok()?;
            if read == 0 {
                return None;
            }
            buffer.extend_from_slice(&chunk[..read]);
        };

        let head = String::from_utf8_lossy(&buffer[..header_end]).to_string();
        let mut lines = head.split("\r\n");
        let path = lines.next()?.split(' ').nth(1)?.to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
            .collect();
        let content_length: usize = headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);

        while buffer.len() < header_end + content_length {
            let read = stream.read(&mut chunk).await.ok()?;
            if read == 0 {
                return None;
            }
            buffer.extend_from_slice(&chunk[..read]);
        }
        let body = serde_json::from_slice(&buffer[header_end..header_end + content_length])
            .unwrap_or(serde_json::Value::Null);

        Some(Recorded {
            path,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lengths: &[usize]) -> Vec<String> {
        lengths.iter().map(|&length| "a".repeat(length)).collect()
    }

    fn retry_after(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, value.parse().unwrap());
        parse_retry_after(&headers)
    }

    #[test]
    fn retry_after_reads_seconds() {
        assert_eq!(retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(retry_after("0.5"), Some(Duration::from_millis(500)));
    }

    #[test]
    fn huge_retry_after_is_the_longest_wait() {
        assert_eq!(retry_after("1e300"), Some(Duration::MAX));
        assert_eq!(retry_after("18446744073709551616"), Some(Duration::MAX));
    }

    #[test]
    fn unusable_retry_after_is_ignored() {
        assert_eq!(retry_after("-1"), None);
        assert_eq!(retry_after("inf"), None);
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn estimate_counts_chars_not_bytes() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abc"), 1);
        assert_eq!(estimate_tokens("abcd"), 2);
        // Three two-byte characters are one estimated token, not two.
        assert_eq!(estimate_tokens("ééé"), 1);
    }

    #[test]
    fn plan_respects_count_limit() {
        let batches = plan_batches(&texts(&[1; 5]), 2, 1_000);
        assert_eq!(batches, vec![0..2, 2..4, 4..5]);
    }

    #[test]
    fn plan_respects_token_limit() {
        // 30 characters are 10 estimated tokens.
        let batches = plan_batches(&texts(&[30, 30, 30, 30]), 100, 25);
        assert_eq!(batches, vec![0..2, 2..4]);
    }

    #[test]
    fn plan_puts_oversized_text_alone() {
        let batches = plan_batches(&texts(&[3, 300, 3]), 100, 25);
        assert_eq!(batches, vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn plan_of_nothing_is_empty() {
        assert!(plan_batches(&[], 10, 10).is_empty());
    }

    #[test]
    fn backoff_doubles_within_jitter_and_cap() {
        let policy = RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            ..RetryPolicy::default()
        };
        let first = backoff_delay(&policy, 1);
        assert!(first >= Duration::from_millis(50), "{first:?}");
        assert!(first <= Duration::from_millis(100), "{first:?}");
        let second = backoff_delay(&policy, 2);
        assert!(second >= Duration::from_millis(100), "{second:?}");
        assert!(second <= Duration::from_millis(200), "{second:?}");
        let capped = backoff_delay(&policy, 40);
        assert!(capped >= Duration::from_millis(150), "{capped:?}");
        assert!(capped <= Duration::from_millis(300), "{capped:?}");
    }

    #[test]
    fn error_message_reads_known_shapes() {
        assert_eq!(error_message(br#"{"detail": "bad key"}"#), "bad key");
        assert_eq!(
            error_message(br#"{"error": {"message": "no such model", "type": "x"}}"#),
            "no such model"
        );
        assert_eq!(error_message(br#"{"error": "overloaded"}"#), "overloaded");
        assert_eq!(error_message(b"  Bad Gateway \n"), "Bad Gateway");
        assert_eq!(error_message(b""), "(empty body)");
    }

    #[test]
    fn error_message_truncates_long_body() {
        let long = "x".repeat(1_000);
        let message = error_message(long.as_bytes());
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.ends_with('…'));
    }

    #[test]
    fn too_large_detection() {
        let voyage_tokens = "Request to model 'voyage-4' failed. The max allowed tokens per \
                             submitted batch is 320000. Your batch has 400000 tokens.";
        assert!(is_batch_too_large(400, voyage_tokens));
        assert!(is_batch_too_large(
            400,
            "The batch size limit is 1000. Your batch size is 1200."
        ));
        assert!(is_batch_too_large(
            400,
            "Requested 310000 tokens, max 300000 tokens per request"
        ));
        assert!(is_batch_too_large(413, "Payload Too Large"));
        assert!(!is_batch_too_large(400, "Model voyage-9 is not supported."));
        assert!(!is_batch_too_large(429, "too many tokens per minute"));
    }

    #[test]
    fn response_rejects_duplicate_index() {
        let response: EmbeddingsResponse = serde_json::from_value(serde_json::json!({
            "data": [{"embedding": [1.0], "index": 0}, {"embedding": [2.0], "index": 0}]
        }))
        .unwrap();
        let err = response.into_vectors(2, Some(1)).unwrap_err();
        assert!(matches!(err, EmbedError::InvalidResponse(_)), "{err}");
    }

    #[test]
    fn response_rejects_index_out_of_range() {
        let response: EmbeddingsResponse = serde_json::from_value(serde_json::json!({
            "data": [{"embedding": [1.0], "index": 1}]
        }))
        .unwrap();
        let err = response.into_vectors(1, Some(1)).unwrap_err();
        assert!(matches!(err, EmbedError::InvalidResponse(_)), "{err}");
    }

    #[test]
    fn response_rejects_empty_embedding() {
        let response: EmbeddingsResponse = serde_json::from_value(serde_json::json!({
            "data": [{"embedding": [], "index": 0}]
        }))
        .unwrap();
        let err = response.into_vectors(1, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            EmbedError::InvalidResponse("embedding 0 is empty".into()).to_string()
        );
    }

    #[test]
    fn response_rejects_value_beyond_f32() {
        let response: EmbeddingsResponse =
            serde_json::from_str(r#"{"data": [{"embedding": [0.5, 1e39], "index": 0}]}"#).unwrap();
        let err = response.into_vectors(1, None).unwrap_err();
        assert!(
            err.to_string().contains("not a finite 32-bit number"),
            "{err}"
        );
    }

    #[test]
    fn response_without_dimension_requires_equal_lengths() {
        let response: EmbeddingsResponse = serde_json::from_value(serde_json::json!({
            "data": [{"embedding": [1.0, 2.0], "index": 0}, {"embedding": [3.0], "index": 1}]
        }))
        .unwrap();
        let err = response.into_vectors(2, None).unwrap_err();
        assert!(matches!(err, EmbedError::InvalidResponse(_)), "{err}");
    }
}
