//! Client of any OpenAI-compatible embeddings endpoint (`POST {base}/embeddings`): OpenAI itself,
//! Ollama, vLLM, LM Studio, TEI or LiteLLM.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use super::http::{self, EmbeddingsResponse, Endpoint};
use super::{EmbedError, InputType, RetryPolicy};
use crate::secret::Secret;

/// Maximum texts in one request.
///
/// NOTE: OpenAI's API reference allows 2,048 inputs per request, but other compatible servers
/// often accept fewer and do not report their limit, so 256 is an assumed common limit. A server
/// that still rejects a batch with HTTP 413, or with a 400 or 422 about its size, gets it again
/// as two halves.
const MAX_BATCH_TEXTS: usize = 256;

/// Token total of one request: the maximum summed over all inputs that OpenAI's API reference
/// (Create embeddings) documents for every embedding model.
const MAX_REQUEST_TOKENS: usize = 300_000;

/// Settings of the OpenAI-compatible client.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// API root without the `/embeddings` path, such as `https://api.openai.com/v1`.
    pub base_url: String,
    /// Bearer key. `None` or an empty key sends no `Authorization` header.
    pub api_key: Option<Secret>,
    pub model: String,
    /// Requested dimension, sent as `dimensions`. When `None`, the first response sets it.
    pub dimension: Option<usize>,
    pub retry: RetryPolicy,
}

/// An OpenAI-compatible embeddings client. Clones share the connection pool and the dimension
/// learned from the first response.
#[derive(Debug, Clone)]
pub struct OpenAiClient {
    endpoint: Endpoint,
    model: String,
    /// The configured dimension, sent with every request.
    requested_dimension: Option<usize>,
    /// The configured dimension, or else the length of the first vector received.
    dimension: Arc<OnceLock<usize>>,
}

/// The request body of `POST /embeddings`.
#[derive(Debug, Serialize)]
struct EmbeddingsRequest<'a> {
    input: &'a [String],
    model: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<usize>,
}

impl OpenAiClient {
    /// Validates the settings and builds the client.
    pub fn new(settings: OpenAiSettings) -> Result<Self, EmbedError> {
        let model = settings.model.trim().to_string();
        if model.is_empty() {
            return Err(EmbedError::InvalidSettings(
                "the embedding model name is empty (set EMBEDDINGS_MODEL)".to_string(),
            ));
        }
        if settings.dimension == Some(0) {
            return Err(EmbedError::InvalidSettings(
                "the embedding dimension must be greater than 0".to_string(),
            ));
        }

        let endpoint = Endpoint::new(&settings.base_url, settings.api_key, settings.retry)?;
        let dimension = Arc::new(OnceLock::new());
        if let Some(configured) = settings.dimension {
            let _ = dimension.set(configured);
        }
        Ok(Self {
            endpoint,
            model,
            requested_dimension: settings.dimension,
            dimension,
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Returns the configured dimension, or else the one learned from the first response, if any.
    pub fn dimension(&self) -> Option<usize> {
        self.dimension.get().copied()
    }

    /// Splits texts into request-sized batches: at most 256 texts and, at about 3 characters a
    /// token, at most 90% of 300K tokens each. A text over that limit goes alone.
    pub fn plan_batches(&self, texts: &[String]) -> Vec<Range<usize>> {
        http::plan_batches(
            texts,
            MAX_BATCH_TEXTS,
            http::with_headroom(MAX_REQUEST_TOKENS),
        )
    }

    /// Embeds one planned batch and returns the vectors in input order.
    ///
    /// `input_type` is ignored, since the OpenAI API has no such field. Splitting of batches
    /// rejected as too large and the retries work as in the Voyage client.
    pub async fn embed(
        &self,
        texts: &[String],
        _input_type: InputType,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        http::embed_splitting(texts, |batch| self.embed_batch(batch)).await
    }

    async fn embed_batch(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let request = EmbeddingsRequest {
            input: texts,
            model: &self.model,
            dimensions: self.requested_dimension,
        };
        let response: EmbeddingsResponse = self.endpoint.post_json(&request).await?;
        let vectors = response.into_vectors(texts.len(), self.dimension())?;

        // A concurrent first request may have set the dimension meanwhile, so both must agree.
        let received = vectors[0].len();
        let dimension = *self.dimension.get_or_init(|| received);
        if received != dimension {
            return Err(EmbedError::InvalidResponse(format!(
                "{} returned vectors of {received} values after earlier ones of {dimension}",
                self.model
            )));
        }
        Ok(vectors)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::http::test_server::{embeddings_response, Canned, Recorded, TestServer};
    use super::*;

    fn settings(base_url: &str, dimension: Option<usize>) -> OpenAiSettings {
        OpenAiSettings {
            base_url: base_url.to_string(),
            api_key: None,
            model: "text-embedding-3-small".to_string(),
            dimension,
            retry: RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_secs(2),
                connect_timeout: Duration::from_secs(2),
                request_timeout: Duration::from_secs(5),
            },
        }
    }

    /// Texts "0", "1", … so a response can show which text each vector belongs to.
    fn numbered(count: usize) -> Vec<String> {
        (0..count).map(|i| i.to_string()).collect()
    }

    /// Builds a response with vectors whose first value is the text's number, in reverse order.
    fn respond_by_number(request: &Recorded, dimension: usize) -> Canned {
        let inputs = request.inputs();
        let indices: Vec<usize> = (0..inputs.len()).rev().collect();
        let mut response = embeddings_response(&indices, dimension);
        for item in response["data"].as_array_mut().unwrap() {
            let index = item["index"].as_u64().unwrap() as usize;
            let number: f32 = inputs[index].parse().unwrap();
            item["embedding"][0] = serde_json::json!(number);
        }
        Canned::json(200, response)
    }

    fn first_values(vectors: &[Vec<f32>]) -> Vec<f32> {
        vectors.iter().map(|vector| vector[0]).collect()
    }

    #[tokio::test]
    async fn embed_sends_documented_body() {
        let server = TestServer::start(|request, _| respond_by_number(request, 64)).await;
        let client = OpenAiClient::new(OpenAiSettings {
            api_key: Some(Secret::new("sk-test-91f3")),
            ..settings(&server.base_url, Some(64))
        })
        .unwrap();

        let vectors = client.embed(&numbered(3), InputType::Query).await.unwrap();

        assert_eq!(first_values(&vectors), vec![0.0, 1.0, 2.0]);
        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].path, "/v1/embeddings");
        assert_eq!(
            requests[0].header("authorization"),
            Some("Bearer sk-test-91f3")
        );
        assert_eq!(
            requests[0].body["input"],
            serde_json::json!(["0", "1", "2"])
        );
        assert_eq!(requests[0].body["model"], "text-embedding-3-small");
        assert_eq!(requests[0].body["dimensions"], 64);
        assert!(requests[0].body.get("input_type").is_none());
    }

    #[tokio::test]
    async fn no_key_sends_no_authorization() {
        let server = TestServer::start(|request, _| respond_by_number(request, 8)).await;
        let client = OpenAiClient::new(settings(&server.base_url, None)).unwrap();

        client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap();

        let requests = server.requests();
        assert_eq!(requests[0].header("authorization"), None);
        assert!(requests[0].body.get("dimensions").is_none());
    }

    #[tokio::test]
    async fn dimension_is_learned_then_enforced() {
        let server = TestServer::start(|request, number| {
            let dimension = if number == 0 { 384 } else { 768 };
            respond_by_number(request, dimension)
        })
        .await;
        let client = OpenAiClient::new(settings(&server.base_url, None)).unwrap();
        assert_eq!(client.dimension(), None);

        client
            .embed(&numbered(2), InputType::Document)
            .await
            .unwrap();
        assert_eq!(client.dimension(), Some(384));
        // Clones share what was learned.
        assert_eq!(client.clone().dimension(), Some(384));

        let err = client
            .embed(&numbered(2), InputType::Document)
            .await
            .unwrap_err();
        assert!(matches!(err, EmbedError::InvalidResponse(_)), "{err:?}");
        assert_eq!(client.dimension(), Some(384));
    }

    #[tokio::test]
    async fn configured_dimension_is_enforced() {
        let server = TestServer::start(|request, _| respond_by_number(request, 1536)).await;
        let client = OpenAiClient::new(settings(&server.base_url, Some(512))).unwrap();

        let err = client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap_err();

        assert!(matches!(err, EmbedError::InvalidResponse(_)), "{err:?}");
    }

    #[tokio::test]
    async fn openai_error_message_is_read() {
        let server = TestServer::start(|_, _| {
            let body = serde_json::json!({"error": {
                "message": "Incorrect API key provided.",
                "type": "invalid_request_error",
                "code": "invalid_api_key"
            }});
            Canned::json(401, body)
        })
        .await;
        let client = OpenAiClient::new(settings(&server.base_url, None)).unwrap();

        let err = client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap_err();

        assert_eq!(server.requests().len(), 1);
        let EmbedError::Unauthorized { message } = &err else {
            panic!("expected Unauthorized, got {err:?}");
        };
        assert_eq!(message, "Incorrect API key provided.");
    }

    #[tokio::test]
    async fn rate_limit_waits_retry_after() {
        let server = TestServer::start(|request, number| {
            if number == 0 {
                Canned::text(429, "Too Many Requests").with_header("Retry-After", "1")
            } else {
                respond_by_number(request, 8)
            }
        })
        .await;
        let client = OpenAiClient::new(settings(&server.base_url, None)).unwrap();
        let texts = numbered(3);

        let started = Instant::now();
        client.embed(&texts, InputType::Document).await.unwrap();
        let elapsed = started.elapsed();

        assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].inputs(), texts);
    }

    #[tokio::test]
    async fn server_error_is_retried() {
        let server = TestServer::start(|request, number| {
            if number == 0 {
                Canned::json(502, serde_json::json!({"error": "bad gateway"}))
            } else {
                respond_by_number(request, 8)
            }
        })
        .await;
        let client = OpenAiClient::new(settings(&server.base_url, None)).unwrap();

        let vectors = client
            .embed(&numbered(2), InputType::Document)
            .await
            .unwrap();

        assert_eq!(server.requests().len(), 2);
        assert_eq!(first_values(&vectors), vec![0.0, 1.0]);
    }

    #[tokio::test]
    async fn payload_too_large_splits_batch() {
        let server = TestServer::start(|request, _| {
            if request.inputs().len() > 1 {
                Canned::text(413, "Payload Too Large")
            } else {
                respond_by_number(request, 8)
            }
        })
        .await;
        let client = OpenAiClient::new(settings(&server.base_url, None)).unwrap();

        let vectors = client
            .embed(&numbered(3), InputType::Document)
            .await
            .unwrap();

        assert_eq!(first_values(&vectors), vec![0.0, 1.0, 2.0]);
        let sizes: Vec<usize> = server.requests().iter().map(|r| r.inputs().len()).collect();
        assert_eq!(sizes, vec![3, 1, 2, 1, 1]);
    }

    #[tokio::test]
    async fn single_text_too_large_fails() {
        let server = TestServer::start(|_, _| {
            let message = "This model's maximum context length is 8192 tokens, \
                           however you requested 9000 tokens";
            Canned::json(400, serde_json::json!({"error": {"message": message}}))
        })
        .await;
        let client = OpenAiClient::new(settings(&server.base_url, None)).unwrap();

        let err = client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap_err();

        assert_eq!(server.requests().len(), 1);
        assert!(
            matches!(err, EmbedError::BadRequest { status: 400, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn embed_future_is_send() {
        fn assert_send<T: Send>(_: T) {}
        let client = OpenAiClient::new(settings("http://127.0.0.1:1/v1", None)).unwrap();
        let texts = numbered(1);
        // Created but never polled: the check is that it compiles.
        assert_send(client.embed(&texts, InputType::Query));
    }

    #[test]
    fn new_rejects_bad_settings() {
        let zero = OpenAiClient::new(settings("http://127.0.0.1:1/v1", Some(0))).unwrap_err();
        assert!(matches!(zero, EmbedError::InvalidSettings(_)), "{zero:?}");

        let no_scheme = OpenAiClient::new(settings("localhost:11434/v1", None)).unwrap_err();
        assert!(
            matches!(no_scheme, EmbedError::InvalidSettings(_)),
            "{no_scheme:?}"
        );

        let no_model = OpenAiClient::new(OpenAiSettings {
            model: " ".to_string(),
            ..settings("http://127.0.0.1:1/v1", None)
        })
        .unwrap_err();
        assert!(
            matches!(no_model, EmbedError::InvalidSettings(_)),
            "{no_model:?}"
        );
    }

    #[test]
    fn plan_follows_count_and_token_limits() {
        let client = OpenAiClient::new(settings("http://127.0.0.1:1/v1", None)).unwrap();

        let short = vec!["short lead".to_string(); 600];
        assert_eq!(
            client.plan_batches(&short),
            vec![0..256, 256..512, 512..600]
        );

        // 300,000 characters are 100,000 estimated tokens, and 90% of 300K tokens fits two.
        let long = vec!["a".repeat(300_000); 5];
        assert_eq!(client.plan_batches(&long), vec![0..2, 2..4, 4..5]);
    }
}
