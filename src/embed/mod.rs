//! Embedding providers: Voyage AI, any OpenAI-compatible endpoint, a local model (with the
//! `local` feature), or none, plus the sparse BM25 vectors computed locally for every lead and
//! query.

pub mod bm25;
mod http;
#[cfg(feature = "local")]
pub mod local;
pub mod openai;
pub mod voyage;

use std::time::Duration;

pub use bm25::Bm25;

/// Whether a text is a lead being indexed or a search query. Voyage embeds them differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputType {
    Document,
    Query,
}

/// Errors of an embedding provider, each with the provider's own message where it sent one.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedding provider rejected the API key (HTTP 401): {message}")]
    Unauthorized { message: String },
    #[error("the embedding provider rejected the request (HTTP {status}): {message}")]
    BadRequest { status: u16, message: String },
    #[error("the embedding provider is rate limiting requests (HTTP 429) and retries ran out: {message}")]
    RateLimited { message: String },
    #[error("the embedding provider failed (HTTP {status}) after {attempts} attempts: {message}")]
    Server {
        status: u16,
        attempts: u32,
        message: String,
    },
    #[error(
        "could not reach the embedding provider at {url} after {attempts} attempts: {message}"
    )]
    Unreachable {
        url: String,
        attempts: u32,
        message: String,
    },
    #[error("the embedding provider sent an invalid answer: {0}")]
    InvalidResponse(String),
    #[error("invalid embedding settings: {0}")]
    InvalidSettings(String),
    #[cfg(feature = "local")]
    #[error(transparent)]
    Local(#[from] local::LocalModelError),
}

/// Retry and timeout policy shared by the HTTP providers.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; it doubles on each further retry, with jitter.
    pub initial_backoff: Duration,
    /// Upper bound of one backoff delay, and of a `Retry-After` the client honours.
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(crate::settings::DEFAULT_EMBEDDINGS_TIMEOUT_S),
        }
    }
}

/// A configured dense embedding provider.
#[derive(Debug, Clone)]
pub enum Provider {
    Voyage(voyage::VoyageClient),
    OpenAi(openai::OpenAiClient),
    #[cfg(feature = "local")]
    Local(local::LocalModel),
}

impl Provider {
    /// The model name stored with each point, so a model change invalidates old vectors.
    pub fn model(&self) -> &str {
        match self {
            Provider::Voyage(client) => client.model(),
            Provider::OpenAi(client) => client.model(),
            #[cfg(feature = "local")]
            Provider::Local(model) => model.model(),
        }
    }

    /// Returns the model as `status` shows it: the stored name, and for a local model, whose
    /// stored name is a hash of its files, the directory name too.
    pub fn model_label(&self) -> String {
        #[cfg(feature = "local")]
        if let Provider::Local(model) = self {
            return format!("{} ({})", model.model(), model.display_name());
        }
        self.model().to_string()
    }

    /// The dimension of the vectors, when known before the first request.
    pub fn dimension(&self) -> Option<usize> {
        match self {
            Provider::Voyage(client) => Some(client.dimension()),
            Provider::OpenAi(client) => client.dimension(),
            #[cfg(feature = "local")]
            Provider::Local(model) => Some(model.dimension()),
        }
    }

    /// Splits texts into the batches this provider accepts in one request, as index ranges.
    pub fn plan_batches(&self, texts: &[String]) -> Vec<std::ops::Range<usize>> {
        match self {
            Provider::Voyage(client) => client.plan_batches(texts),
            Provider::OpenAi(client) => client.plan_batches(texts),
            #[cfg(feature = "local")]
            Provider::Local(model) => model.plan_batches(texts),
        }
    }

    /// Embeds one batch (as planned by [`Self::plan_batches`]); vectors come back in input order.
    pub async fn embed(
        &self,
        texts: &[String],
        input_type: InputType,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        match self {
            Provider::Voyage(client) => client.embed(texts, input_type).await,
            Provider::OpenAi(client) => client.embed(texts, input_type).await,
            #[cfg(feature = "local")]
            Provider::Local(model) => Ok(model.embed(texts).await?),
        }
    }
}
