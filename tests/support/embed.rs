//! Embeddings stand-in: an HTTP server on 127.0.0.1 serving the Voyage AI embeddings API at
//! `/v1/embeddings` and an OpenAI-compatible one at `/openai/v1/embeddings`.
//!
//! Vectors are a hashed bag of lowercase words (feature hashing with a sign bit into `dimension`
//! buckets), L2-normalised: equal texts get equal vectors, texts sharing words get a positive
//! cosine similarity, and `input_type` does not change the vector.
//!
//! Token counts are an estimate: ceil(characters / 4) per input, close to what BPE tokenizers give
//! for English text. A client that estimates 3 characters per token therefore never sends a batch
//! the stand-in counts as too large.
//!
//! The module is self-contained so that it compiles inside `mod support;` and from an example.

use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Number of threads that serve requests; held requests (`set_timeout_next`) each occupy one.
const WORKER_THREADS: usize = 6;

/// Voyage API request limits (Voyage embeddings API reference): at most 1,000 inputs per request.
pub const VOYAGE_MAX_INPUTS: usize = 1_000;

/// OpenAI embeddings API limits: 2,048 inputs, 8,192 tokens per input, 300,000 tokens per request.
pub const OPENAI_MAX_INPUTS: usize = 2_048;
const OPENAI_MAX_INPUT_TOKENS: usize = 8_192;
const OPENAI_MAX_REQUEST_TOKENS: usize = 300_000;

/// Settings of the embeddings stand-in.
#[derive(Clone, Debug)]
pub struct EmbedConfig {
    /// Key the Voyage API expects as `Authorization: Bearer <key>`.
    pub api_key: String,
    /// Key the OpenAI-compatible API expects; `None` accepts any or no `Authorization` header.
    pub openai_api_key: Option<String>,
    /// Delay added before every response.
    pub latency: Duration,
    /// Delay added per estimated input token of a successful request.
    pub latency_per_token: Duration,
    /// When set, requests beyond this many in the last 60 s get 429.
    pub requests_per_minute: Option<u32>,
    /// How long a request chosen by `set_timeout_next` is held before the stand-in responds.
    pub timeout_hold: Duration,
}

impl Default for EmbedConfig {
    fn default() -> Self {
        EmbedConfig {
            api_key: "test-voyage-key-xyz".to_string(),
            openai_api_key: None,
            latency: Duration::ZERO,
            latency_per_token: Duration::ZERO,
            requests_per_minute: None,
            timeout_hold: Duration::from_secs(30),
        }
    }
}

/// Which API a request was sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbedApi {
    Voyage,
    OpenAi,
    /// A path neither API serves.
    Unknown,
}

/// One request as the stand-in received it, with the status of its response.
#[derive(Clone, Debug)]
pub struct EmbedRequest {
    pub api: EmbedApi,
    pub http_method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Number of texts in `input`, 0 when the body could not be read.
    pub input_count: usize,
    /// Voyage `input_type` ("query", "document"), `None` when null or absent.
    pub input_type: Option<String>,
    pub model: Option<String>,
    /// Estimated tokens of all inputs.
    pub tokens: usize,
    /// HTTP status of the stand-in's response.
    pub status: u16,
}

impl EmbedRequest {
    /// Returns the value of the first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// A running embeddings stand-in. Stops when dropped.
pub struct EmbedStandIn {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    workers: Vec<JoinHandle<()>>,
}

struct InjectedFailure {
    remaining: usize,
    status: u16,
    retry_after: Option<u64>,
}

struct State {
    config: EmbedConfig,
    requests: Vec<EmbedRequest>,
    texts_embedded: usize,
    failure: Option<InjectedFailure>,
    timeouts_remaining: usize,
    /// Arrival times of the requests of the last 60 s, for `requests_per_minute`.
    recent: VecDeque<Instant>,
}

impl EmbedStandIn {
    /// Starts the stand-in on 127.0.0.1 with a free port.
    pub fn start(config: EmbedConfig) -> EmbedStandIn {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap_or_else(|error| {
            panic!("embeddings stand-in failed to listen on 127.0.0.1:0: {error}")
        });
        let port = server
            .server_addr()
            .to_ip()
            .expect("embeddings stand-in listens on an IP address")
            .port();
        let state = Arc::new(Mutex::new(State {
            config,
            requests: Vec::new(),
            texts_embedded: 0,
            failure: None,
            timeouts_remaining: 0,
            recent: VecDeque::new(),
        }));
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
        EmbedStandIn {
            url: format!("http://127.0.0.1:{port}"),
            state,
            stop,
            workers,
        }
    }

    /// Returns the base URL, "http://127.0.0.1:PORT".
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Returns the Voyage base URL, "{url}/v1" (requests go to "{url}/v1/embeddings").
    pub fn voyage_base_url(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// Returns the OpenAI-compatible base URL, "{url}/openai/v1".
    pub fn openai_base_url(&self) -> String {
        format!("{}/openai/v1", self.url)
    }

    /// Makes the next `count` requests fail with `status` (429, 500, 503...) with the API's error body,
    /// and a `Retry-After: <seconds>` header when `retry_after` is set.
    pub fn fail_next(&self, count: usize, status: u16, retry_after: Option<u64>) {
        self.lock().failure = Some(InjectedFailure {
            remaining: count,
            status,
            retry_after,
        });
    }

    /// Holds each of the next `count` requests for `EmbedConfig::timeout_hold` before serving it
    /// normally, so that a client with a shorter timeout gives up first.
    pub fn set_timeout_next(&self, count: usize) {
        self.lock().timeouts_remaining = count;
    }

    /// Changes the artificial latency for the following requests.
    pub fn set_latency(&self, latency: Duration, latency_per_token: Duration) {
        let mut state = self.lock();
        state.config.latency = latency;
        state.config.latency_per_token = latency_per_token;
    }

    /// Sets or removes the requests-per-minute limit.
    pub fn set_requests_per_minute(&self, limit: Option<u32>) {
        let mut state = self.lock();
        state.config.requests_per_minute = limit;
        state.recent.clear();
    }

    /// Returns every request received so far, oldest first.
    pub fn requests(&self) -> Vec<EmbedRequest> {
        self.lock().requests.clone()
    }

    /// Returns the number of requests received, failed ones included.
    pub fn request_count(&self) -> usize {
        self.lock().requests.len()
    }

    /// Returns the number of texts embedded by successful requests.
    pub fn texts_embedded(&self) -> usize {
        self.lock().texts_embedded
    }

    /// Returns the number of inputs of each request, in arrival order.
    pub fn input_counts(&self) -> Vec<usize> {
        self.lock()
            .requests
            .iter()
            .map(|request| request.input_count)
            .collect()
    }

    /// Returns the Voyage `input_type` of each request, in arrival order.
    pub fn input_types(&self) -> Vec<Option<String>> {
        self.lock()
            .requests
            .iter()
            .map(|request| request.input_type.clone())
            .collect()
    }

    /// Forgets recorded requests and counters, injected failures and the rate-limit window.
    pub fn reset_counters(&self) {
        let mut state = self.lock();
        state.requests.clear();
        state.texts_embedded = 0;
        state.failure = None;
        state.timeouts_remaining = 0;
        state.recent.clear();
    }

    /// Stops the server and waits for its threads. Dropping the stand-in does the same.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for EmbedStandIn {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Returns the stand-in's vector for `text`: a hashed bag of lowercase words, L2-normalised.
/// Tests can compare it with what a client stored.
pub fn embed_text(text: &str, dimension: usize) -> Vec<f32> {
    let mut vector = vec![0f32; dimension.max(1)];
    let words = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase);
    let mut any_word = false;
    for word in words {
        any_word = true;
        let hash = fnv1a(word.as_bytes());
        let bucket = (hash % vector.len() as u64) as usize;
        let sign = if hash >> 63 == 0 { 1.0 } else { -1.0 };
        vector[bucket] += sign;
    }
    if !any_word {
        // A text without words still gets a unit vector, the same for all such texts.
        vector[0] = 1.0;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        // Words that cancel out in one bucket; fall back to the no-word vector.
        vector.iter_mut().for_each(|x| *x = 0.0);
        vector[0] = 1.0;
        return vector;
    }
    vector.iter().map(|x| x / norm).collect()
}

/// Returns the stand-in's token estimate for one input: ceil(characters / 4).
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

// ---------------------------------------------------------------------------------------------
// Serving

struct Reply {
    status: u16,
    body: String,
    headers: Vec<(&'static str, String)>,
    /// Delay before the response is sent, from the latency knobs.
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            body: body.to_string(),
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }
}

/// What a request asked for, read from its body for the request log.
#[derive(Default)]
struct Summary {
    input_count: usize,
    input_type: Option<String>,
    model: Option<String>,
    tokens: usize,
}

fn serve(server: &tiny_http::Server, state: &Mutex<State>, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let mut request = match server.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(request)) => request,
            Ok(None) => continue,
            Err(_) => break,
        };
        let mut body = String::new();
        if let Err(error) = request.as_reader().read_to_string(&mut body) {
            eprintln!(
                "embeddings stand-in: failed to read the body of {} {}: {error}",
                request.method(),
                request.url()
            );
        }
        let path = request.url().to_string();
        let http_method = request.method().as_str().to_string();
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_string(),
                    h.value.as_str().to_string(),
                )
            })
            .collect();
        let route_path = path.split('?').next().unwrap_or_default();
        let api = match route_path {
            "/v1/embeddings" => EmbedApi::Voyage,
            "/openai/v1/embeddings" => EmbedApi::OpenAi,
            _ => EmbedApi::Unknown,
        };
        let summary = summarize(&body);
        let (reply, hold) = {
            let mut guard = state
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let hold = if guard.timeouts_remaining > 0 {
                guard.timeouts_remaining -= 1;
                Some(guard.config.timeout_hold)
            } else {
                None
            };
            let reply = handle(&mut guard, api, &http_method, &headers, &body);
            guard.requests.push(EmbedRequest {
                api,
                http_method,
                path,
                headers,
                body,
                input_count: summary.input_count,
                input_type: summary.input_type,
                model: summary.model,
                tokens: summary.tokens,
                status: reply.status,
            });
            (reply, hold)
        };
        if let Some(hold) = hold {
            sleep_unless_stopped(hold, stop);
        }
        sleep_unless_stopped(reply.delay, stop);
        let mut response = tiny_http::Response::from_data(reply.body.into_bytes())
            .with_status_code(reply.status)
            .with_header(header("Content-Type", "application/json"));
        for (name, value) in &reply.headers {
            response.add_header(header(name, value));
        }
        // A client that gave up (timeout tests) makes this fail; the stand-in goes on serving.
        if let Err(error) = request.respond(response) {
            eprintln!("embeddings stand-in: failed to send the response: {error}");
        }
    }
}

/// Sleeps for `duration`, waking early when the stand-in stops so that `stop` does not wait for
/// held requests.
fn sleep_unless_stopped(duration: Duration, stop: &AtomicBool) {
    let deadline = Instant::now() + duration;
    while !stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(20)));
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("header is ASCII")
}

fn summarize(body: &str) -> Summary {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return Summary::default();
    };
    let texts = input_texts(&json["input"]).unwrap_or_default();
    Summary {
        input_count: texts.len(),
        input_type: json["input_type"].as_str().map(str::to_string),
        model: json["model"].as_str().map(str::to_string),
        tokens: texts.iter().map(|text| estimate_tokens(text)).sum(),
    }
}

/// Returns the texts of `input`: one string or a list of strings.
fn input_texts(input: &Value) -> Option<Vec<String>> {
    match input {
        Value::String(text) => Some(vec![text.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_string))
            .collect(),
        _ => None,
    }
}

fn bearer_token(headers: &[(String, String)]) -> Option<String> {
    let value = headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("Authorization"))
        .map(|(_, value)| value.trim())?;
    let (scheme, token) = value.split_once(char::is_whitespace)?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn handle(
    state: &mut State,
    api: EmbedApi,
    http_method: &str,
    headers: &[(String, String)],
    body: &str,
) -> Reply {
    if api == EmbedApi::Unknown {
        return Reply::json(404, json!({"detail": "Not Found"}));
    }
    if http_method != "POST" {
        return Reply::json(405, json!({"detail": "Method Not Allowed"}));
    }
    if let Some(failure) = &mut state.failure {
        if failure.remaining > 0 {
            failure.remaining -= 1;
            let (status, retry_after) = (failure.status, failure.retry_after);
            let mut reply = injected_failure(api, status);
            if let Some(seconds) = retry_after {
                reply.headers.push(("Retry-After", seconds.to_string()));
            }
            return reply;
        }
    }
    if let Some(limit) = state.config.requests_per_minute {
        let now = Instant::now();
        while state
            .recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60))
        {
            state.recent.pop_front();
        }
        if state.recent.len() >= limit as usize {
            return rate_limited(api, limit);
        }
        state.recent.push_back(now);
    }
    let outcome = match api {
        EmbedApi::Voyage => voyage(state, headers, body),
        _ => openai(state, headers, body),
    };
    match outcome {
        Ok((response_body, texts, tokens)) => {
            state.texts_embedded += texts;
            let mut reply = Reply::json(200, response_body);
            reply.delay = state.config.latency + state.config.latency_per_token * tokens as u32;
            reply
        }
        Err(mut reply) => {
            reply.delay = state.config.latency;
            reply
        }
    }
}

fn injected_failure(api: EmbedApi, status: u16) -> Reply {
    let message = match status {
        429 => "Rate limit exceeded (injected by the embeddings stand-in).",
        500 => "Internal server error (injected by the embeddings stand-in).",
        502..=504 => "Service unavailable (injected by the embeddings stand-in).",
        _ => "Error injected by the embeddings stand-in.",
    };
    match api {
        EmbedApi::OpenAi => openai_error(
            status,
            message,
            if status == 429 {
                "requests"
            } else {
                "server_error"
            },
            None,
            None,
        ),
        _ => Reply::json(status, json!({"detail": message})),
    }
}

fn rate_limited(api: EmbedApi, limit: u32) -> Reply {
    let message =
        format!("Rate limit of {limit} requests per minute exceeded. Please pace your requests.");
    match api {
        EmbedApi::OpenAi => {
            openai_error(429, &message, "requests", None, Some("rate_limit_exceeded"))
        }
        _ => Reply::json(429, json!({"detail": message})),
    }
}

// ---------------------------------------------------------------------------------------------
// Voyage AI

/// A Voyage text embedding model: per-request token limit, context length per input, and the
/// output dimensions it supports.
struct VoyageModel {
    max_request_tokens: usize,
    context_tokens: usize,
    default_dimension: usize,
    dimensions: &'static [usize],
}

/// `output_dimension` values of the models with Matryoshka embeddings; the default is 1,024.
const FLEXIBLE_DIMENSIONS: &[usize] = &[256, 512, 1024, 2048];

/// Limits from the Voyage embeddings API reference: 1M tokens per request for the lite models,
/// 320K for voyage-4 / voyage-3.5 / voyage-2, 120K for the large and domain models. Context
/// lengths are 32K tokens for the 3.5/4 families, voyage-3-large and voyage-code-3, 16K for the
/// 2nd-generation domain models, 4K for voyage-2.
fn voyage_model(name: &str) -> Option<VoyageModel> {
    let (max_request_tokens, context_tokens, dimensions): (usize, usize, &'static [usize]) =
        match name {
            "voyage-4-lite" | "voyage-3.5-lite" => (1_000_000, 32_000, FLEXIBLE_DIMENSIONS),
            "voyage-4" | "voyage-3.5" => (320_000, 32_000, FLEXIBLE_DIMENSIONS),
            "voyage-4-large" | "voyage-3-large" | "voyage-code-3" => {
                (120_000, 32_000, FLEXIBLE_DIMENSIONS)
            }
            "voyage-finance-2" | "voyage-law-2" | "voyage-multilingual-2" => {
                (120_000, 16_000, &[1024])
            }
            "voyage-code-2" => (120_000, 16_000, &[1536]),
            "voyage-2" => (320_000, 4_000, &[1024]),
            _ => return None,
        };
    let default_dimension = if dimensions.contains(&1024) {
        1024
    } else {
        dimensions[0]
    };
    Some(VoyageModel {
        max_request_tokens,
        context_tokens,
        default_dimension,
        dimensions,
    })
}

fn voyage_error(status: u16, detail: impl Into<String>) -> Reply {
    Reply::json(status, json!({"detail": detail.into()}))
}

/// Handles a Voyage `/v1/embeddings` request. Returns the response body, the number of texts and
/// their estimated tokens.
fn voyage(
    state: &State,
    headers: &[(String, String)],
    body: &str,
) -> Result<(Value, usize, usize), Reply> {
    // NOTE: the wording of the `detail` messages below is the stand-in's; Voyage documents the
    // statuses and the causes, not the exact text.
    if bearer_token(headers).as_deref() != Some(state.config.api_key.as_str()) {
        return Err(voyage_error(401, "Provided API key is invalid."));
    }

    let request: Value = serde_json::from_str(body)
        .map_err(|error| voyage_error(400, format!("Request body is not valid JSON: {error}")))?;
    let Some(request) = request.as_object() else {
        return Err(voyage_error(400, "Request body must be a JSON object."));
    };

    let texts = input_texts(request.get("input").unwrap_or(&Value::Null))
        .ok_or_else(|| voyage_error(400, "`input` must be a string or a list of strings."))?;
    if texts.is_empty() {
        return Err(voyage_error(400, "`input` must contain at least one text."));
    }

    if texts.iter().any(String::is_empty) {
        return Err(voyage_error(400, "`input` texts must not be empty."));
    }

    if texts.len() > VOYAGE_MAX_INPUTS {
        return Err(voyage_error(
            400,
            format!(
                "The batch size limit is {VOYAGE_MAX_INPUTS}. Your batch size is {}.",
                texts.len()
            ),
        ));
    }

    let model_name = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let model = voyage_model(model_name).ok_or_else(|| {
        voyage_error(400, format!("Model {model_name:?} is not supported. Use a Voyage text embedding model such as voyage-4-lite."))
    })?;
    let input_type = request.get("input_type").unwrap_or(&Value::Null);
    if !(input_type.is_null() || input_type == "query" || input_type == "document") {
        return Err(voyage_error(
            400,
            format!("`input_type` must be null, \"query\" or \"document\", got {input_type}."),
        ));
    }

    let dimension = match request.get("output_dimension").unwrap_or(&Value::Null) {
        Value::Null => model.default_dimension,
        value => {
            let dimension = value
                .as_u64()
                .map(|d| d as usize)
                .filter(|d| model.dimensions.contains(d));
            dimension.ok_or_else(|| {
                voyage_error(
                    400,
                    format!("`output_dimension` {value} is not supported by {model_name}; supported values: {:?}.", model.dimensions),
                )
            })?
        }
    };

    let truncation = request
        .get("truncation")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let tokens: Vec<usize> = texts.iter().map(|text| estimate_tokens(text)).collect();
    let total_tokens: usize = tokens.iter().sum();
    if total_tokens > model.max_request_tokens {
        return Err(voyage_error(
            400,
            format!(
                "Request to model '{model_name}' failed. The max allowed tokens per submitted batch is {}. Your batch has {total_tokens} tokens after truncation. Please lower the number of tokens in the batch.",
                model.max_request_tokens
            ),
        ));
    }

    if !truncation {
        if let Some(index) = tokens
            .iter()
            .position(|count| *count > model.context_tokens)
        {
            return Err(voyage_error(
                400,
                format!("Input {index} has {} tokens, above the context length of {} for {model_name}, and truncation is false.", tokens[index], model.context_tokens),
            ));
        }
    }

    let output_dtype = request
        .get("output_dtype")
        .and_then(Value::as_str)
        .unwrap_or("float");
    let encoding_format = request.get("encoding_format").unwrap_or(&Value::Null);
    if !(encoding_format.is_null() || encoding_format == "base64") {
        return Err(voyage_error(
            400,
            format!("`encoding_format` must be null or \"base64\", got {encoding_format}."),
        ));
    }

    let mut data = Vec::new();
    for (index, text) in texts.iter().enumerate() {
        let vector = embed_text(text, dimension);
        let embedding = voyage_embedding(&vector, output_dtype, encoding_format.is_string())
            .ok_or_else(|| voyage_error(400, format!("`output_dtype` {output_dtype:?} is not one of float, int8, uint8, binary, ubinary.")))?;
        data.push(json!({"object": "embedding", "embedding": embedding, "index": index}));
    }

    let response = json!({
        "object": "list",
        "data": data,
        "model": model_name,
        "usage": {"total_tokens": total_tokens},
    });
    Ok((response, texts.len(), total_tokens))
}

/// Encodes a unit vector in the requested Voyage `output_dtype`, optionally as base64 of its bytes.
fn voyage_embedding(vector: &[f32], output_dtype: &str, base64: bool) -> Option<Value> {
    let quantised: Vec<i64> = match output_dtype {
        "float" => {
            if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                return Some(json!(base64_encode(&bytes)));
            }
            return Some(json!(vector));
        }
        "int8" => vector.iter().map(|x| (x * 127.0).round() as i64).collect(),
        "uint8" => vector
            .iter()
            .map(|x| (x * 127.0).round() as i64 + 128)
            .collect(),
        "binary" | "ubinary" => {
            let packed = vector.chunks(8).map(|chunk| {
                let byte = chunk.iter().enumerate().fold(0u8, |byte, (bit, x)| {
                    if *x > 0.0 {
                        byte | (0x80 >> bit)
                    } else {
                        byte
                    }
                });
                if output_dtype == "binary" {
                    i64::from(byte) - 128
                } else {
                    i64::from(byte)
                }
            });
            packed.collect()
        }
        _ => return None,
    };
    if base64 {
        let bytes: Vec<u8> = quantised.iter().map(|x| *x as u8).collect();
        return Some(json!(base64_encode(&bytes)));
    }
    Some(json!(quantised))
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> shift) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// OpenAI-compatible

fn openai_error(
    status: u16,
    message: &str,
    error_type: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Reply {
    Reply::json(
        status,
        json!({"error": {"message": message, "type": error_type, "param": param, "code": code}}),
    )
}

fn invalid_request(message: &str, param: Option<&str>) -> Reply {
    openai_error(400, message, "invalid_request_error", param, None)
}

/// Native dimension of the OpenAI models, whether `dimensions` may shorten it; other model names
/// (OpenAI-compatible servers) get 1,024 dimensions.
fn openai_model(name: &str) -> (usize, bool) {
    match name {
        "text-embedding-3-small" => (1536, true),
        "text-embedding-3-large" => (3072, true),
        "text-embedding-ada-002" => (1536, false),
        _ => (1024, true),
    }
}

/// Handles an OpenAI `/embeddings` request. Returns the response body, the number of texts and
/// their estimated tokens.
fn openai(
    state: &State,
    headers: &[(String, String)],
    body: &str,
) -> Result<(Value, usize, usize), Reply> {
    if let Some(expected) = &state.config.openai_api_key {
        match bearer_token(headers) {
            None => {
                return Err(openai_error(
                    401,
                    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                    "invalid_request_error",
                    None,
                    None,
                ))
            }
            Some(token) if &token != expected => {
                return Err(openai_error(401, "Incorrect API key provided.", "invalid_request_error", None, Some("invalid_api_key")))
            }
            Some(_) => {}
        }
    }

    let request: Value = serde_json::from_str(body).map_err(|error| {
        invalid_request(
            &format!("We could not parse the JSON body of your request: {error}"),
            None,
        )
    })?;
    let Some(request) = request.as_object() else {
        return Err(invalid_request(
            "The request body must be a JSON object.",
            None,
        ));
    };

    let request: &Map<String, Value> = request;
    // NOTE: token-array inputs (lists of integers) are not reproduced; only text inputs are accepted.
    let texts = input_texts(request.get("input").unwrap_or(&Value::Null)).ok_or_else(|| {
        invalid_request(
            "'input' must be a string or an array of strings.",
            Some("input"),
        )
    })?;
    if texts.is_empty() || texts.iter().any(String::is_empty) {
        return Err(invalid_request(
            "'input' must not be empty and must not contain empty strings.",
            Some("input"),
        ));
    }

    if texts.len() > OPENAI_MAX_INPUTS {
        return Err(invalid_request(
            &format!(
                "'input' has {} items; the maximum is {OPENAI_MAX_INPUTS}.",
                texts.len()
            ),
            Some("input"),
        ));
    }

    let Some(model_name) = request
        .get("model")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
    else {
        return Err(invalid_request(
            "you must provide a model parameter",
            Some("model"),
        ));
    };

    let (native_dimension, shortenable) = openai_model(model_name);
    let dimension = match request.get("dimensions").unwrap_or(&Value::Null) {
        Value::Null => native_dimension,
        value => {
            if !shortenable {
                return Err(invalid_request(
                    "This model does not support specifying dimensions.",
                    Some("dimensions"),
                ));
            }
            value
                .as_u64()
                .map(|d| d as usize)
                .filter(|d| (1..=native_dimension).contains(d))
                .ok_or_else(|| {
                    invalid_request(
                        &format!(
                            "'dimensions' must be between 1 and {native_dimension}, got {value}."
                        ),
                        Some("dimensions"),
                    )
                })?
        }
    };

    let tokens: Vec<usize> = texts.iter().map(|text| estimate_tokens(text)).collect();
    if let Some(index) = tokens
        .iter()
        .position(|count| *count > OPENAI_MAX_INPUT_TOKENS)
    {
        return Err(invalid_request(
            &format!("Input {index} has {} tokens; the maximum context length is {OPENAI_MAX_INPUT_TOKENS} tokens.", tokens[index]),
            Some("input"),
        ));
    }

    let total_tokens: usize = tokens.iter().sum();
    if total_tokens > OPENAI_MAX_REQUEST_TOKENS {
        return Err(invalid_request(
            &format!("Requested {total_tokens} tokens, max {OPENAI_MAX_REQUEST_TOKENS} tokens per request"),
            Some("input"),
        ));
    }

    let base64 = match request.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(invalid_request(
                &format!("'encoding_format' must be 'float' or 'base64', got '{other}'."),
                Some("encoding_format"),
            ))
        }
    };

    let data: Vec<Value> = texts
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = embed_text(text, dimension);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
                json!(base64_encode(&bytes))
            } else {
                json!(vector)
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let response = json!({
        "object": "list",
        "data": data,
        "model": model_name,
        "usage": {"prompt_tokens": total_tokens, "total_tokens": total_tokens},
    });
    Ok((response, texts.len(), total_tokens))
}
