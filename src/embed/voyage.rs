//! Client of Voyage AI's embeddings API (`POST {base}/embeddings`).
//!
//! Request limits: at most 1,000 texts, and a token total of 1M for `voyage-4-lite` and
//! `voyage-3.5-lite`, 320K for `voyage-4` and `voyage-3.5`, and 120K for `voyage-4-large` and
//! `voyage-3-large`. The server truncates texts longer than the model's context length, because
//! every request sets `"truncation": true`. Voyage rejects a batch over these limits with HTTP 400
//! (<https://docs.voyageai.com/docs/error-codes>), and the client then splits it.
//!
//! NOTE: the limits above were not checked against Voyage's current API reference. If a real
//! limit is lower, the 400 and the split still keep requests working, at the cost of extra
//! requests.

use std::ops::Range;

use serde::Serialize;

use super::http::{self, EmbeddingsResponse, Endpoint};
use super::{EmbedError, InputType, RetryPolicy};
use crate::secret::Secret;

pub const DEFAULT_MODEL: &str = "voyage-4-lite";
pub const DEFAULT_DIMENSION: usize = 1024;
pub const DEFAULT_BASE_URL: &str = "https://api.voyageai.com/v1";

/// Maximum texts in one request.
const MAX_BATCH_TEXTS: usize = 1_000;

/// Output dimensions accepted by the models that take `output_dimension`.
const OUTPUT_DIMENSIONS: [usize; 4] = [256, 512, 1024, 2048];

/// Settings of the Voyage client.
#[derive(Debug, Clone)]
pub struct VoyageSettings {
    pub api_key: Secret,
    pub model: String,
    /// Dimension of the vectors, sent as `output_dimension` to the models that accept it.
    pub dimension: usize,
    /// API root without the `/embeddings` path.
    pub base_url: String,
    pub retry: RetryPolicy,
}

impl VoyageSettings {
    /// Returns settings with the default model, dimension, base URL and retry policy.
    pub fn new(api_key: Secret) -> Self {
        Self {
            api_key,
            model: DEFAULT_MODEL.to_string(),
            dimension: DEFAULT_DIMENSION,
            base_url: DEFAULT_BASE_URL.to_string(),
            retry: RetryPolicy::default(),
        }
    }
}

/// A Voyage AI embeddings client. Cloning is cheap and shares the connection pool.
#[derive(Debug, Clone)]
pub struct VoyageClient {
    endpoint: Endpoint,
    model: String,
    dimension: usize,
    /// Whether requests carry `output_dimension`, which only some models accept.
    send_output_dimension: bool,
    /// Estimated tokens planned per request: the model's limit minus headroom.
    max_batch_tokens: usize,
}

/// The request body of `POST /embeddings`.
#[derive(Debug, Serialize)]
struct EmbeddingsRequest<'a> {
    input: &'a [String],
    model: &'a str,
    input_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_dimension: Option<usize>,
    truncation: bool,
}

impl VoyageClient {
    /// Validates the settings and builds the client.
    ///
    /// The voyage-4 and voyage-3.5 families and `voyage-3-large` accept an `output_dimension` of
    /// 256, 512, 1024 or 2048, and any other dimension is rejected here. Other models have one
    /// fixed dimension, so requests to them carry no `output_dimension`, and `dimension` must be
    /// that model's own. Vectors of another length fail as [`EmbedError::InvalidResponse`].
    pub fn new(settings: VoyageSettings) -> Result<Self, EmbedError> {
        if settings.api_key.is_empty() {
            return Err(EmbedError::InvalidSettings(
                "the Voyage API key is empty (set VOYAGE_API_KEY)".to_string(),
            ));
        }
        let model = settings.model.trim().to_string();
        if model.is_empty() {
            return Err(EmbedError::InvalidSettings(
                "the Voyage model name is empty".to_string(),
            ));
        }

        if settings.dimension == 0 {
            return Err(EmbedError::InvalidSettings(
                "the embedding dimension must be greater than 0".to_string(),
            ));
        }
        let send_output_dimension = accepts_output_dimension(&model);
        if send_output_dimension && !OUTPUT_DIMENSIONS.contains(&settings.dimension) {
            return Err(EmbedError::InvalidSettings(format!(
                "{model} does not support the output dimension {} (use 256, 512, 1024 or 2048)",
                settings.dimension
            )));
        }

        let endpoint = Endpoint::new(&settings.base_url, Some(settings.api_key), settings.retry)?;
        Ok(Self {
            endpoint,
            max_batch_tokens: http::with_headroom(token_limit(&model)),
            model,
            dimension: settings.dimension,
            send_output_dimension,
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Splits texts into request-sized batches: at most 1,000 texts and, at about 3 characters a
    /// token, at most 90% of the model's token limit each. A text over that limit goes alone.
    pub fn plan_batches(&self, texts: &[String]) -> Vec<Range<usize>> {
        http::plan_batches(texts, MAX_BATCH_TEXTS, self.max_batch_tokens)
    }

    /// Embeds one planned batch and returns the vectors in input order.
    ///
    /// A batch the API rejects for too many tokens or inputs is split in two and each half is
    /// retried, down to single texts. Rate limits and server errors are retried as the
    /// [`RetryPolicy`] allows, always with the same batch.
    pub async fn embed(
        &self,
        texts: &[String],
        input_type: InputType,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        http::embed_splitting(texts, |batch| self.embed_batch(batch, input_type)).await
    }

    async fn embed_batch(
        &self,
        texts: &[String],
        input_type: InputType,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        let request = EmbeddingsRequest {
            input: texts,
            model: &self.model,
            input_type: match input_type {
                InputType::Document => "document",
                InputType::Query => "query",
            },
            output_dimension: self.send_output_dimension.then_some(self.dimension),
            truncation: true,
        };
        let response: EmbeddingsResponse = self.endpoint.post_json(&request).await?;
        response.into_vectors(texts.len(), Some(self.dimension))
    }
}

/// Returns whether `model` belongs to a family that takes `output_dimension`.
fn accepts_output_dimension(model: &str) -> bool {
    model.starts_with("voyage-4") || model.starts_with("voyage-3.5") || model == "voyage-3-large"
}

/// Returns the documented token total of one request to `model`.
fn token_limit(model: &str) -> usize {
    match model {
        "voyage-4-lite" | "voyage-3.5-lite" => 1_000_000,
        "voyage-4" | "voyage-3.5" => 320_000,
        "voyage-4-large" | "voyage-3-large" => 120_000,
        // NOTE: models not listed above get the smallest documented limit, which may plan
        // smaller batches than the model allows.
        _ => 120_000,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::http::test_server::{embeddings_response, Canned, Recorded, TestServer};
    use super::*;

    const KEY: &str = "test-key-5d2c";

    fn fast_retry(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
        }
    }

    fn client(base_url: &str, model: &str, dimension: usize) -> VoyageClient {
        VoyageClient::new(VoyageSettings {
            api_key: Secret::new(KEY),
            model: model.to_string(),
            dimension,
            base_url: base_url.to_string(),
            retry: fast_retry(3),
        })
        .expect("valid settings")
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
        let server = TestServer::start(|request, _| respond_by_number(request, 512)).await;
        let client = client(&server.base_url, "voyage-4-lite", 512);

        client
            .embed(&numbered(2), InputType::Document)
            .await
            .unwrap();
        client.embed(&numbered(1), InputType::Query).await.unwrap();

        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        let document = &requests[0];
        assert_eq!(document.path, "/v1/embeddings");
        assert_eq!(
            document.header("authorization"),
            Some("Bearer test-key-5d2c")
        );
        assert_eq!(document.body["input"], serde_json::json!(["0", "1"]));
        assert_eq!(document.body["model"], "voyage-4-lite");
        assert_eq!(document.body["input_type"], "document");
        assert_eq!(document.body["output_dimension"], 512);
        assert_eq!(document.body["truncation"], true);
        assert_eq!(requests[1].body["input_type"], "query");
    }

    #[tokio::test]
    async fn embed_orders_vectors_by_index() {
        let server = TestServer::start(|request, _| respond_by_number(request, 256)).await;
        let client = client(&server.base_url, "voyage-4", 256);

        let vectors = client
            .embed(&numbered(5), InputType::Document)
            .await
            .unwrap();

        assert_eq!(first_values(&vectors), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert!(vectors.iter().all(|vector| vector.len() == 256));
    }

    #[tokio::test]
    async fn empty_input_sends_no_request() {
        let server = TestServer::start(|request, _| respond_by_number(request, 1024)).await;
        let client = client(&server.base_url, "voyage-4-lite", 1024);

        let vectors = client.embed(&[], InputType::Query).await.unwrap();

        assert!(vectors.is_empty());
        assert!(server.requests().is_empty());
    }

    #[tokio::test]
    async fn unauthorized_is_not_retried() {
        // The server echoes the key, which must not reach the error message.
        let detail = format!("Provided API key {KEY} is invalid.");
        let server =
            TestServer::start(move |_, _| Canned::json(401, serde_json::json!({"detail": detail})))
                .await;
        let client = client(&server.base_url, "voyage-4-lite", 1024);

        let err = client
            .embed(&numbered(3), InputType::Document)
            .await
            .unwrap_err();

        assert_eq!(server.requests().len(), 1);
        let EmbedError::Unauthorized { message } = &err else {
            panic!("expected Unauthorized, got {err:?}");
        };
        assert_eq!(message, "Provided API key **** is invalid.");
        assert!(!err.to_string().contains(KEY));
    }

    #[tokio::test]
    async fn rate_limit_waits_retry_after() {
        let server = TestServer::start(|request, number| {
            if number == 0 {
                Canned::json(429, serde_json::json!({"detail": "slow down"}))
                    .with_header("Retry-After", "1")
            } else {
                respond_by_number(request, 1024)
            }
        })
        .await;
        let client = client(&server.base_url, "voyage-4-lite", 1024);
        let texts = numbered(4);

        let started = Instant::now();
        let vectors = client.embed(&texts, InputType::Document).await.unwrap();
        let elapsed = started.elapsed();

        assert!(elapsed >= Duration::from_secs(1), "waited only {elapsed:?}");
        assert_eq!(first_values(&vectors), vec![0.0, 1.0, 2.0, 3.0]);
        let requests = server.requests();
        assert_eq!(requests.len(), 2);
        // The retry resends the whole batch instead of splitting it.
        assert_eq!(requests[0].inputs(), texts);
        assert_eq!(requests[1].inputs(), texts);
    }

    #[tokio::test]
    async fn rate_limit_gives_up_after_max_attempts() {
        let server = TestServer::start(|_, _| {
            Canned::json(429, serde_json::json!({"detail": "rate limit exceeded"}))
        })
        .await;
        let client = client(&server.base_url, "voyage-4-lite", 1024);

        let err = client
            .embed(&numbered(2), InputType::Document)
            .await
            .unwrap_err();

        assert_eq!(server.requests().len(), 3);
        assert!(
            matches!(&err, EmbedError::RateLimited { message } if message == "rate limit exceeded"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn server_error_is_retried() {
        let server = TestServer::start(|request, number| {
            if number < 2 {
                Canned::text(500, "Internal Server Error")
            } else {
                respond_by_number(request, 1024)
            }
        })
        .await;
        let client = client(&server.base_url, "voyage-4-lite", 1024);

        let vectors = client
            .embed(&numbered(2), InputType::Document)
            .await
            .unwrap();

        assert_eq!(server.requests().len(), 3);
        assert_eq!(first_values(&vectors), vec![0.0, 1.0]);
    }

    #[tokio::test]
    async fn server_error_gives_up_after_max_attempts() {
        let server = TestServer::start(|_, _| Canned::text(503, "upstream unavailable")).await;
        let client = client(&server.base_url, "voyage-4-lite", 1024);

        let err = client
            .embed(&numbered(1), InputType::Query)
            .await
            .unwrap_err();

        assert_eq!(server.requests().len(), 3);
        match err {
            EmbedError::Server {
                status,
                attempts,
                message,
            } => {
                assert_eq!(status, 503);
                assert_eq!(attempts, 3);
                assert_eq!(message, "upstream unavailable");
            }
            other => panic!("expected Server, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn too_many_tokens_splits_batch() {
        let server = TestServer::start(|request, _| {
            if request.inputs().len() > 2 {
                let detail = "The max allowed tokens per submitted batch is 120000. \
                              Your batch has 150000 tokens after truncation.";
                Canned::json(400, serde_json::json!({"detail": detail}))
            } else {
                respond_by_number(request, 1024)
            }
        })
        .await;
        let client = client(&server.base_url, "voyage-4-large", 1024);

        let vectors = client
            .embed(&numbered(5), InputType::Document)
            .await
            .unwrap();

        assert_eq!(first_values(&vectors), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        let sizes: Vec<usize> = server.requests().iter().map(|r| r.inputs().len()).collect();
        // 5 is rejected, then its halves 2 and 3; 3 is rejected and splits into 1 and 2.
        assert_eq!(sizes, vec![5, 2, 3, 1, 2]);
    }

    #[tokio::test]
    async fn other_bad_request_is_not_split() {
        let server = TestServer::start(|_, _| {
            Canned::json(
                400,
                serde_json::json!({"detail": "Model voyage-9 is not supported."}),
            )
        })
        .await;
        let client = client(&server.base_url, "voyage-4-lite", 1024);

        let err = client
            .embed(&numbered(4), InputType::Document)
            .await
            .unwrap_err();

        assert_eq!(server.requests().len(), 1);
        assert!(
            matches!(&err, EmbedError::BadRequest { status: 400, message }
                if message == "Model voyage-9 is not supported."),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn missing_index_is_invalid() {
        let server = TestServer::start(|_, _| {
            Canned::json(
                200,
                serde_json::json!({"data": [{"embedding": [0.1, 0.2]}]}),
            )
        })
        .await;
        let client = client(&server.base_url, "voyage-3", 2);

        let err = client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap_err();

        assert!(matches!(err, EmbedError::InvalidResponse(_)), "{err:?}");
    }

    #[tokio::test]
    async fn wrong_dimension_is_invalid() {
        let server =
            TestServer::start(|_, _| Canned::json(200, embeddings_response(&[0], 512))).await;
        let client = client(&server.base_url, "voyage-4-lite", 1024);

        let err = client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap_err();

        assert!(matches!(err, EmbedError::InvalidResponse(_)), "{err:?}");
    }

    #[tokio::test]
    async fn missing_vector_is_invalid() {
        let server =
            TestServer::start(|_, _| Canned::json(200, embeddings_response(&[0], 256))).await;
        let client = client(&server.base_url, "voyage-4-lite", 256);

        let err = client
            .embed(&numbered(2), InputType::Document)
            .await
            .unwrap_err();

        assert!(matches!(err, EmbedError::InvalidResponse(_)), "{err:?}");
    }

    #[tokio::test]
    async fn non_json_response_is_invalid() {
        let server = TestServer::start(|_, _| Canned::text(200, "<html>proxy login</html>")).await;
        let client = client(&server.base_url, "voyage-4-lite", 256);

        let err = client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap_err();

        let EmbedError::InvalidResponse(message) = &err else {
            panic!("expected InvalidResponse, got {err:?}");
        };
        assert!(message.contains("<html>proxy login</html>"), "{message}");
    }

    #[tokio::test]
    async fn closed_port_is_unreachable() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        drop(listener);
        let client = client(&format!("http://{address}/v1"), "voyage-4-lite", 1024);

        let err = client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap_err();

        match err {
            EmbedError::Unreachable { url, attempts, .. } => {
                assert_eq!(url, format!("http://{address}/v1/embeddings"));
                assert_eq!(attempts, 3);
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn fixed_dimension_model_omits_output_dimension() {
        let server = TestServer::start(|request, _| respond_by_number(request, 1024)).await;
        let client = client(&server.base_url, "voyage-3", 1024);

        client
            .embed(&numbered(1), InputType::Document)
            .await
            .unwrap();

        let requests = server.requests();
        assert!(requests[0].body.get("output_dimension").is_none());
    }

    #[test]
    fn embed_future_is_send() {
        fn assert_send<T: Send>(_: T) {}
        let client = VoyageClient::new(VoyageSettings::new(Secret::new(KEY))).unwrap();
        let texts = numbered(1);
        // Created but never polled: the check is that it compiles.
        assert_send(client.embed(&texts, InputType::Query));
    }

    #[test]
    fn new_rejects_unsupported_dimension() {
        let settings = VoyageSettings {
            dimension: 300,
            ..VoyageSettings::new(Secret::new(KEY))
        };
        let err = VoyageClient::new(settings).unwrap_err();
        assert!(matches!(err, EmbedError::InvalidSettings(_)), "{err:?}");
    }

    #[test]
    fn new_accepts_every_documented_dimension() {
        for dimension in OUTPUT_DIMENSIONS {
            for model in [
                "voyage-4-lite",
                "voyage-4",
                "voyage-4-large",
                "voyage-3.5",
                "voyage-3-large",
            ] {
                let settings = VoyageSettings {
                    model: model.to_string(),
                    dimension,
                    ..VoyageSettings::new(Secret::new(KEY))
                };
                assert!(VoyageClient::new(settings).is_ok(), "{model} {dimension}");
            }
        }
    }

    #[test]
    fn new_rejects_empty_key() {
        let err = VoyageClient::new(VoyageSettings::new(Secret::new(""))).unwrap_err();
        assert!(matches!(err, EmbedError::InvalidSettings(_)), "{err:?}");
    }

    #[test]
    fn debug_hides_key() {
        let client = VoyageClient::new(VoyageSettings::new(Secret::new(KEY))).unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains(KEY), "{debug}");
    }

    #[test]
    fn plan_splits_at_thousand_texts() {
        let client = VoyageClient::new(VoyageSettings::new(Secret::new(KEY))).unwrap();
        let texts = vec!["short lead".to_string(); 1_001];
        assert_eq!(client.plan_batches(&texts), vec![0..1_000, 1_000..1_001]);
    }

    #[test]
    fn plan_follows_model_token_limit() {
        // 30,000 characters are 10,000 estimated tokens.
        let texts = vec!["a".repeat(30_000); 100];
        let cases = [
            // 90% of 1M tokens fits 90 texts.
            ("voyage-4-lite", vec![0..90, 90..100]),
            ("voyage-3.5-lite", vec![0..90, 90..100]),
            // 90% of 320K tokens fits 28 texts.
            ("voyage-4", vec![0..28, 28..56, 56..84, 84..100]),
            ("voyage-3.5", vec![0..28, 28..56, 56..84, 84..100]),
        ];
        for (model, expected) in cases {
            let client = client(DEFAULT_BASE_URL, model, 1024);
            assert_eq!(client.plan_batches(&texts), expected, "{model}");
        }

        // 90% of 120K tokens fits 10 texts.
        for model in ["voyage-4-large", "voyage-3-large"] {
            let batches = client(DEFAULT_BASE_URL, model, 1024).plan_batches(&texts);
            assert_eq!(batches.len(), 10, "{model}");
            assert!(batches.iter().all(|batch| batch.len() == 10), "{model}");
        }
    }

    #[test]
    fn plan_puts_huge_text_alone() {
        let client = client(DEFAULT_BASE_URL, "voyage-4", 1024);
        let texts = vec![
            "short".to_string(),
            "a".repeat(1_000_000),
            "short".to_string(),
            "short".to_string(),
        ];
        assert_eq!(client.plan_batches(&texts), vec![0..1, 1..2, 2..4]);
    }
}
