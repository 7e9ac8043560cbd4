//! The gRPC connection to a Qdrant server: the channel, the API key, retries of transient
//! failures, and the first-call checks (is this a Qdrant gRPC port, which version is it).
//!
//! The generated gRPC clients of `qdrant-client` are used directly instead of its `Qdrant`
//! wrapper, for three reasons: the wrapper cannot send a delete and a create alias action in one
//! `UpdateAliases` request, its version check prints to stdout (which carries crm-vec's data),
//! and its API key interceptor copies a malformed key into the error message.

use std::future::Future;
use std::time::Duration;

use qdrant_client::qdrant::collections_client::CollectionsClient;
use qdrant_client::qdrant::points_client::PointsClient;
use qdrant_client::qdrant::qdrant_client::QdrantClient;
use qdrant_client::qdrant::HealthCheckRequest;
use tonic::codegen::InterceptedService;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request, Response, Status};

use super::QdrantSettings;
use crate::index::{IndexError, IndexResult};
use crate::secret::redact_url;

/// Version of the `qdrant-client` crate in Cargo.lock, compared with the server's version.
/// A unit test keeps it in step with Cargo.lock.
pub(super) const CLIENT_VERSION: &str = "1.20.0";

/// Qdrant's REST port; its gRPC port is [`GRPC_PORT`].
const REST_PORT: u16 = 6333;
const GRPC_PORT: u16 = 6334;

/// Time allowed for the first health check, shorter than a data request because it only
/// decides whether the server is there.
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for the plain HTTP request that distinguishes an HTTP/1 service from a gRPC port.
const HTTP_PROBE_TIMEOUT: Duration = Duration::from_secs(5);

type Service = InterceptedService<Channel, ApiKey>;

/// Adds the `api-key` header Qdrant reads to every request.
#[derive(Clone)]
pub(super) struct ApiKey(Option<MetadataValue<Ascii>>);

impl Interceptor for ApiKey {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(key) = &self.0 {
            request.metadata_mut().insert("api-key", key.clone());
        }
        Ok(request)
    }
}

/// How often and how long transient failures are retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// Delay before the first retry; it doubles on each further retry, with jitter.
    pub initial_backoff: Duration,
    /// Upper bound of one delay.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// One Qdrant server, shared by the store and every index handle it gives out.
pub(super) struct Connection {
    endpoint: Endpoint,
    channel: tokio::sync::OnceCell<Channel>,
    api_key: ApiKey,
    /// The URL as configured, only used to scrub it from error texts.
    raw_url: String,
    /// The URL without user info or query string, for messages.
    pub(super) url: String,
    /// Set once the first health check passed, so the checks and the version warning run
    /// once per process.
    ready: tokio::sync::OnceCell<()>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Checks the URL and prepares a channel; nothing is sent until the first request.
    pub(super) fn new(settings: &QdrantSettings) -> IndexResult<Self> {
        let url = redact_url(&settings.url);
        let uri: tonic::transport::Uri = settings.url.parse().map_err(|_| {
            IndexError::Incompatible(format!(
                "QDRANT_URL {url} is not a valid URL; use for example http://localhost:{GRPC_PORT}"
            ))
        })?;
        if uri.port_u16() == Some(REST_PORT) {
            return Err(rest_port_error(&url, &uri));
        }

        let mut endpoint = Endpoint::from(uri.clone())
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .tcp_keepalive(Some(Duration::from_secs(60)));
        if uri.scheme_str() == Some("https") {
            endpoint = endpoint
                .tls_config(ClientTlsConfig::new().with_native_roots())
                .map_err(|err| {
                    IndexError::Engine(format!("failed to set up TLS for {url}: {err}"))
                })?;
        }

        let api_key = match &settings.api_key {
            None => None,
            Some(key) => {
                let mut value = MetadataValue::try_from(key.expose_secret()).map_err(|_| {
                    IndexError::Incompatible(
                        "QDRANT_API_KEY contains characters that cannot be sent in a request \
                         header; copy the key again"
                            .to_string(),
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
        };

        Ok(Self {
            endpoint,
            channel: tokio::sync::OnceCell::new(),
            api_key: ApiKey(api_key),
            raw_url: settings.url.clone(),
            url,
            ready: tokio::sync::OnceCell::new(),
            retry: settings.retry,
        })
    }

    async fn channel(&self) -> Channel {
        // `connect_lazy` spawns the channel's worker, so it must run inside the runtime.
        self.channel
            .get_or_init(|| async { self.endpoint.connect_lazy() })
            .await
            .clone()
    }

    pub(super) async fn points(&self) -> PointsClient<Service> {
        PointsClient::with_interceptor(self.channel().await, self.api_key.clone())
            .max_decoding_message_size(usize::MAX)
    }

    pub(super) async fn collections(&self) -> CollectionsClient<Service> {
        CollectionsClient::with_interceptor(self.channel().await, self.api_key.clone())
    }

    /// Runs one request, retrying transient failures, after the first-call checks passed.
    ///
    /// `what` names the operation in logs and errors, for example "upsert points into X".
    pub(super) async fn call<T, F, Fut>(&self, what: &str, request: F) -> IndexResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        self.ensure_ready().await?;
        self.retry(what, request)
            .await
            .map_err(|status| self.status_error(what, &status))
    }

    /// Sends `request` on a points client through [`Self::call`], so transient failures are
    /// retried, and returns the response message. Each attempt sends its own clone of `request`.
    pub(super) async fn points_call<R, T, F, Fut>(
        &self,
        what: &str,
        request: &R,
        send: F,
    ) -> IndexResult<T>
    where
        R: Clone,
        F: Fn(PointsClient<Service>, R) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        self.call_with_client(what, || self.points(), request, send)
            .await
    }

    /// Like [`Self::points_call`], with a collections client.
    pub(super) async fn collections_call<R, T, F, Fut>(
        &self,
        what: &str,
        request: &R,
        send: F,
    ) -> IndexResult<T>
    where
        R: Clone,
        F: Fn(CollectionsClient<Service>, R) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        self.call_with_client(what, || self.collections(), request, send)
            .await
    }

    async fn call_with_client<C, CFut, R, T, F, Fut>(
        &self,
        what: &str,
        new_client: impl Fn() -> CFut,
        request: &R,
        send: F,
    ) -> IndexResult<T>
    where
        CFut: Future<Output = C>,
        R: Clone,
        F: Fn(C, R) -> Fut,
        Fut: Future<Output = Result<Response<T>, Status>>,
    {
        self.call(what, || {
            let client = new_client();
            let request = request.clone();
            let send = &send;
            async move { send(client.await, request).await.map(Response::into_inner) }
        })
        .await
    }

    /// Like [`Self::call`], but returns the failed status, for callers that treat some codes
    /// (such as "already exists") as a result rather than an error.
    pub(super) async fn call_status<T, F, Fut>(
        &self,
        what: &str,
        request: F,
    ) -> IndexResult<Result<T, Status>>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        self.ensure_ready().await?;
        Ok(self.retry(what, request).await)
    }

    async fn retry<T, F, Fut>(&self, what: &str, mut request: F) -> Result<T, Status>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Status>>,
    {
        let mut delay = self.retry.initial_backoff;
        let mut attempt = 1;
        loop {
            match request().await {
                Ok(value) => return Ok(value),
                Err(status) if is_transient(&status) && attempt < self.retry.max_attempts => {
                    let wait = with_jitter(delay);
                    tracing::warn!(
                        url = %self.url,
                        attempt,
                        code = ?status.code(),
                        error = %self.scrub(status.message()),
                        "qdrant request to {what} failed, retrying in {} ms",
                        wait.as_millis(),
                    );
                    tokio::time::sleep(wait).await;
                    delay = (delay * 2).min(self.retry.max_backoff);
                    attempt += 1;
                }
                Err(status) => return Err(status),
            }
        }
    }

    /// Checks once per connection that the URL is a Qdrant gRPC port, and warns once when the
    /// server's version is outside the range this client supports.
    async fn ensure_ready(&self) -> IndexResult<()> {
        self.ready
            .get_or_try_init(|| async {
                let version = self.health_check().await?;
                if let Some(warning) = version_warning(CLIENT_VERSION, &version) {
                    tracing::warn!(url = %self.url, "{warning}");
                }
                tracing::debug!(url = %self.url, version = %version, "connected to qdrant");
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// Asks the server for its version. When the first attempt fails at the transport level,
    /// a plain HTTP request distinguishes an HTTP/1 service (such as Qdrant's REST port) from a
    /// gRPC server that is down, so the user learns to change the port instead of waiting
    /// for retries.
    async fn health_check(&self) -> IndexResult<String> {
        let mut probed = false;
        let result = self
            .retry("check the server's health", || {
                let channel = self.channel();
                let api_key = self.api_key.clone();
                let first = !probed;
                probed = true;
                async move {
                    let mut client = QdrantClient::with_interceptor(channel.await, api_key);
                    let mut request = Request::new(HealthCheckRequest {});
                    request.set_timeout(HEALTH_CHECK_TIMEOUT);
                    match client.health_check(request).await {
                        Ok(reply) => Ok(Ok(reply.into_inner().version)),
                        Err(status) if first && is_transport_failure(&status) => {
                            match self.probe_http().await {
                                Some(error) => Ok(Err(error)),
                                None => Err(status),
                            }
                        }
                        Err(status) => Err(status),
                    }
                }
            })
            .await;

        match result {
            Ok(answer) => answer,
            Err(status) => Err(self.health_error(&status)),
        }
    }

    /// Sends `GET /` over HTTP/1.1. Returns the error to report when an HTTP/1 service
    /// answered, or `None` when nothing did (the gRPC failure is then the one to report).
    async fn probe_http(&self) -> Option<IndexError> {
        let client = reqwest::Client::builder()
            .http1_only()
            .timeout(HTTP_PROBE_TIMEOUT)
            .build()
            .ok()?;
        let response = client.get(&self.raw_url).send().await.ok()?;
        let body = response.text().await.unwrap_or_default();
        let uri: tonic::transport::Uri = self.raw_url.parse().ok()?;
        if body.to_ascii_lowercase().contains("qdrant") {
            Some(rest_port_error(&self.url, &uri))
        } else {
            Some(IndexError::Incompatible(format!(
                "QDRANT_URL {} answers plain HTTP, so it is not a Qdrant gRPC port; set \
                 QDRANT_URL to the gRPC port of your Qdrant server (usually {GRPC_PORT})",
                self.url
            )))
        }
    }

    fn health_error(&self, status: &Status) -> IndexError {
        let url = &self.url;
        let detail = self.scrub(status.message());
        IndexError::Engine(match status.code() {
            Code::Unimplemented => format!(
                "QDRANT_URL {url} answers gRPC but not Qdrant's health check, so it is not a \
                 Qdrant server; set QDRANT_URL to the gRPC port of your Qdrant server"
            ),
            Code::Unauthenticated | Code::PermissionDenied => format!(
                "the Qdrant server at {url} rejected the request ({detail}); check QDRANT_API_KEY"
            ),
            _ => format!(
                "could not reach a Qdrant server at {url} ({detail}); check that it is running \
                 and that QDRANT_URL names its gRPC port (usually {GRPC_PORT})"
            ),
        })
    }

    /// Turns a failed request into an index error naming the operation and the server.
    pub(super) fn status_error(&self, what: &str, status: &Status) -> IndexError {
        let detail = self.scrub(status.message());
        let message = match status.code() {
            Code::Unauthenticated | Code::PermissionDenied => format!(
                "the Qdrant server at {} rejected the request to {what} ({detail}); check \
                 QDRANT_API_KEY",
                self.url
            ),
            Code::Unavailable | Code::DeadlineExceeded => format!(
                "the Qdrant server at {} did not answer the request to {what} after {} \
                 attempts ({detail}); check that it is running",
                self.url, self.retry.max_attempts
            ),
            code => format!(
                "the Qdrant server at {} failed to {what}: {detail} ({code:?})",
                self.url
            ),
        };
        IndexError::Engine(message)
    }

    /// Removes the configured URL (which may carry user info) from a server or transport
    /// message, and keeps it on one line.
    fn scrub(&self, message: &str) -> String {
        let message = if self.raw_url.is_empty() {
            message.to_string()
        } else {
            message.replace(&self.raw_url, &self.url)
        };
        message.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn rest_port_error(url: &str, uri: &tonic::transport::Uri) -> IndexError {
    let host = uri.host().unwrap_or("localhost");
    let scheme = uri.scheme_str().unwrap_or("http");
    IndexError::Incompatible(format!(
        "QDRANT_URL {url} is Qdrant's REST port, but crm-vec talks to Qdrant over gRPC; use \
         the gRPC port, usually {GRPC_PORT} ({scheme}://{host}:{GRPC_PORT})"
    ))
}

/// Unavailable (connection refused or dropped, server starting) and deadline exceeded are
/// worth another attempt; every other code is final.
pub(super) fn is_transient(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded) || is_client_timeout(status)
}

/// tonic 0.14 reports its own request timeout as `Cancelled` with this message, not as
/// `DeadlineExceeded`.
fn is_client_timeout(status: &Status) -> bool {
    status.code() == Code::Cancelled && status.message().contains("Timeout expired")
}

/// Codes tonic uses when no gRPC answer came back at all: refused connections, failed
/// HTTP/2 handshakes, responses that are not gRPC and servers that never answer.
fn is_transport_failure(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::Unknown | Code::Internal | Code::DeadlineExceeded
    ) || is_client_timeout(status)
}

/// Oldest server version crm-vec supports, as (major, minor). The features it uses are
/// older: the Query API with prefetch and RRF fusion and the IDF modifier arrived in 1.10.
/// The `vector` field that qdrant-client 1.20 writes vectors into was added to Qdrant's
/// protocol in October 2024 (qdrant/qdrant pull request 5165).
///
/// NOTE: no server before 1.15 has been tried, so older ones get a warning although they may
/// work.
const MIN_SERVER_VERSION: (u64, u64) = (1, 15);

/// Returns a warning when the server's version is outside the supported range: from
/// [`MIN_SERVER_VERSION`] up to one minor version above the client, the newest server that
/// qdrant-client's own compatibility check accepts.
pub(super) fn version_warning(client: &str, server: &str) -> Option<String> {
    let parse = |version: &str| -> Option<(u64, u64)> {
        let mut parts = version.trim().trim_start_matches('v').split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.split(['-', '+']).next()?.parse().ok()?;
        Some((major, minor))
    };
    let (Some((client_major, client_minor)), Some(server_version)) = (parse(client), parse(server))
    else {
        return Some(format!(
            "could not compare the Qdrant server version {server:?} with qdrant-client \
             {client}; crm-vec continues, but requests may fail"
        ));
    };

    let (min_major, min_minor) = MIN_SERVER_VERSION;
    let newest = (client_major, client_minor + 1);
    if server_version < MIN_SERVER_VERSION {
        return Some(format!(
            "the Qdrant server runs version {server}, but crm-vec needs {min_major}.{min_minor} \
             or newer; crm-vec continues, but upgrade the server if requests fail"
        ));
    }
    if server_version > newest {
        return Some(format!(
            "the Qdrant server runs version {server}, newer than the {}.{} that qdrant-client \
             {client} supports; crm-vec continues, but update crm-vec if requests fail",
            newest.0, newest.1,
        ));
    }
    None
}

/// Spreads retries of several processes apart: the delay times a factor from 0.5 to 1.5,
/// taken from the clock because crm-vec has no random number generator.
fn with_jitter(delay: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let factor = 0.5 + f64::from(nanos % 1_000) / 1_000.0;
    delay.mul_f64(factor)
}
