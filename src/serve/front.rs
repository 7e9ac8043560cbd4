//! The TCP side of the listener, in front of tiny_http.
//!
//! tiny_http reads each connection on a thread of its own, with no read timeout, and its accept
//! thread stops for good on the first accept error (running out of file descriptors, say). Odoo
//! posts each webhook with a 1 s timeout and never retries, so anything that holds up the
//! listener for a second loses webhooks. Connections are therefore accepted here, on tokio, and
//! only requests that have arrived in full reach tiny_http:
//!
//! - The front reads each request itself. A head must arrive within `head` (5 s) of its first
//!   byte. A body must arrive within `body` (5 s) of the end of the head, plus its length at
//!   `body_rate` (32 KiB/s). Both deadlines are fixed when the phase starts, so a client that
//!   sends a byte now and then (slowloris) cannot extend them. It gets 408.
//! - A request that is still arriving costs a task, a descriptor and its buffer, never a
//!   thread. A body over 64 KiB needs one of `large_bodies` slots (16), so buffered bodies take
//!   about 16 MiB plus 64 KiB per connection at most. A body that finds no free slot gets 503.
//! - A complete request goes to tiny_http over a new connection to a private Unix socket. The
//!   front shuts down its sending side after the request, so tiny_http responds and closes, and
//!   the front reads the whole response before it writes it to the client. At most
//!   `max_relayed` requests are in tiny_http at once. A request that finds no free permit
//!   within `permit_wait` gets 503 with `Retry-After` at once, instead of a timeout.
//! - The front rejects malformed heads (400, 431), unsupported framing (417, 501) and bodies
//!   over 1 MiB (413) itself, then closes the connection. Keep-alive, pipelining, `Expect:
//!   100-continue` (the front sends the `100 Continue`) and chunked bodies work as they do in
//!   tiny_http. Bytes after a request wait in the buffer for the next one.
//!
//! A new connection is closed after `first_byte` of silence, and an open one after `idle`
//! between requests. The numbers of 408 and 503 responses and of failed relays are logged at
//! most once per [`WARNING_INTERVAL`], without the request line or any header value.

mod request;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, UnixStream};
use tokio::sync::Semaphore;

use self::request::{Client, Outcome, Rejection};
use super::Shutdown;

/// Connections the kernel completes and queues before the listener accepts them (capped by
/// `net.core.somaxconn`). The standard library requests 128, fewer than one burst of Odoo
/// webhooks. Connections beyond it lose their SYN and retry after a second, and Odoo's
/// webhook timeout is one second.
const LISTEN_BACKLOG: u32 = 1024;

/// Minimum time between two warnings of the same kind.
const WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Binds `addr` with a backlog of [`LISTEN_BACKLOG`].
pub fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Deadlines and bounds of the front.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a new connection may stay silent before it is closed.
    pub first_byte: Duration,
    /// How long a request head may take from its first byte to its end.
    pub head: Duration,
    /// How long any body may take from the end of its head, before `body_rate` adds to it.
    pub body: Duration,
    /// Minimum mean rate of a body, in bytes per second.
    pub body_rate: u32,
    /// How long tiny_http may take to respond to a relayed request.
    pub request: Duration,
    /// How long a connection may stay idle after a response (keep-alive).
    pub idle: Duration,
    /// Age after which a connection is closed once its current response is sent.
    pub lifetime: Duration,
    /// Maximum number of requests in tiny_http at once.
    pub max_relayed: usize,
    /// How long a complete request may wait for a relay permit before it gets 503.
    pub permit_wait: Duration,
    /// Maximum number of bodies over 64 KiB buffered at once.
    pub large_bodies: usize,
}

impl Limits {
    pub fn for_wait_timeout(wait_timeout: Duration) -> Limits {
        Limits {
            first_byte: Duration::from_secs(10),
            head: Duration::from_secs(5),
            body: Duration::from_secs(5),
            // 256 kbit/s, a slow mobile link: a 1 MiB body may take 37 s.
            body_rate: 32 * 1024,
            request: wait_timeout + Duration::from_secs(5),
            idle: Duration::from_secs(5),
            lifetime: wait_timeout + Duration::from_secs(60),
            max_relayed: 512,
            // Under Odoo's 1 s, so that Odoo logs the 503 rather than a timeout.
            permit_wait: Duration::from_millis(250),
            large_bodies: 16,
        }
    }

    /// Returns how long a body of `length` bytes may take from the end of its head.
    fn body_time(&self, length: usize) -> Duration {
        self.body + Duration::from_secs_f64(length as f64 / f64::from(self.body_rate))
    }
}

/// Accepts connections until `stop` is notified, relaying their requests to the Unix socket
/// `backend`.
pub async fn accept_loop(
    listener: TcpListener,
    backend: PathBuf,
    limits: Limits,
    stop: Arc<Shutdown>,
) {
    let front = Arc::new(Front::new(backend, limits));
    let mut report = tokio::time::interval(WARNING_INTERVAL);
    let mut last_accept_warning: Option<Instant> = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(Arc::clone(&front).serve(stream));
                }
                Err(err) => {
                    // Out of descriptors or similar: keep listening, warn at most every 10 s.
                    if last_accept_warning.is_none_or(|at| at.elapsed() > WARNING_INTERVAL) {
                        tracing::warn!(error = %err, "could not accept a connection");
                        last_accept_warning = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = report.tick() => front.counts.log(&front.limits),
            _ = stop.wait() => {
                front.counts.log(&front.limits);
                return;
            }
        }
    }
}

/// The state all connections share: the backend socket, the bounds and the counts to log.
struct Front {
    backend: PathBuf,
    limits: Limits,
    relay_permits: Semaphore,
    large_bodies: Arc<Semaphore>,
    counts: Counts,
}

/// The reason a request could not be relayed.
enum RelayError {
    /// No relay permit became free within `permit_wait`.
    Busy,
    Failed(String),
}

impl Front {
    fn new(backend: PathBuf, limits: Limits) -> Front {
        Front {
            backend,
            limits,
            relay_permits: Semaphore::new(limits.max_relayed),
            large_bodies: Arc::new(Semaphore::new(limits.large_bodies)),
            counts: Counts::default(),
        }
    }

    /// Reads requests from one connection and relays each in turn, until the client closes the
    /// connection, a deadline passes or a request is rejected.
    async fn serve<S: AsyncRead + AsyncWrite + Unpin>(self: Arc<Self>, stream: S) {
        let mut client = Client::new(stream);
        let end_of_life = Instant::now() + self.limits.lifetime;
        let mut wait = self.limits.first_byte;
        loop {
            let request = match client
                .next_request(wait, &self.limits, &self.large_bodies)
                .await
            {
                Outcome::Request(request) => request,
                Outcome::Closed => return,
                Outcome::Rejected(rejection) => {
                    self.counts.count(&rejection);
                    return client.reject(&rejection).await;
                }
            };
            let response = match self.relay(&request.bytes).await {
                Ok(response) => response,
                Err(err) => {
                    let rejection = self.counts.relay_failed(err);
                    return client.reject(&rejection).await;
                }
            };
            let closes = request.closes;
            drop(request);
            if !client.send(&response, self.limits.idle).await {
                return;
            }

            let left = end_of_life.saturating_duration_since(Instant::now());
            if closes || left.is_zero() {
                return client.close().await;
            }
            wait = self.limits.idle.min(left);
        }
    }

    /// Sends a request to tiny_http on a connection of its own, and returns the whole response.
    async fn relay(&self, request: &[u8]) -> Result<Vec<u8>, RelayError> {
        let Ok(Ok(_permit)) =
            tokio::time::timeout(self.limits.permit_wait, self.relay_permits.acquire()).await
        else {
            return Err(RelayError::Busy);
        };
        let exchange = async {
            let mut upstream = UnixStream::connect(&self.backend).await?;
            upstream.write_all(request).await?;
            // tiny_http then reads the end of the stream where it expects the next request, so
            // it responds to this one and closes the connection.
            upstream.shutdown().await?;
            // The handlers' responses are a few hundred bytes, so this is mostly one read.
            let mut response = Vec::with_capacity(4096);
            upstream.read_to_end(&mut response).await?;
            Ok::<_, std::io::Error>(response)
        };
        match tokio::time::timeout(self.limits.request, exchange).await {
            Ok(Ok(response)) if !response.is_empty() => Ok(response),
            Ok(Ok(_)) => Err(RelayError::Failed(
                "tiny_http closed the connection without a response".to_string(),
            )),
            Ok(Err(err)) => Err(RelayError::Failed(err.to_string())),
            Err(_) => Err(RelayError::Failed(format!(
                "tiny_http did not respond within {:?}",
                self.limits.request
            ))),
        }
    }
}

/// Rejected requests since the last warning, by kind.
#[derive(Default)]
struct Counts {
    too_slow: AtomicU64,
    busy: AtomicU64,
    relay_failed: AtomicU64,
    last_relay_error: Mutex<String>,
}

impl Counts {
    fn count(&self, rejection: &Rejection) {
        let counter = match rejection.status {
            408 => &self.too_slow,
            503 => &self.busy,
            status => {
                tracing::debug!(status, "rejected a request");
                return;
            }
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a request that could not be relayed, and returns the rejection to send.
    fn relay_failed(&self, err: RelayError) -> Rejection {
        match err {
            RelayError::Busy => {
                self.busy.fetch_add(1, Ordering::Relaxed);
                Rejection::new(503, "the listener is busy; retry in a second")
            }
            RelayError::Failed(reason) => {
                self.relay_failed.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut last) = self.last_relay_error.lock() {
                    *last = reason;
                }
                Rejection::new(503, "the listener could not handle the request; retry")
            }
        }
    }

    /// Logs one warning for each kind counted since the last call, and resets the counts.
    fn log(&self, limits: &Limits) {
        let too_slow = self.too_slow.swap(0, Ordering::Relaxed);
        if too_slow > 0 {
            tracing::warn!(
                count = too_slow,
                "closed connections that were too slow to send their request (408)"
            );
        }
        let busy = self.busy.swap(0, Ordering::Relaxed);
        if busy > 0 {
            tracing::warn!(
                count = busy,
                max_relayed = limits.max_relayed,
                large_bodies = limits.large_bodies,
                "rejected requests with 503 because the listener was at one of its bounds"
            );
        }
        let relay_failed = self.relay_failed.swap(0, Ordering::Relaxed);
        if relay_failed > 0 {
            let last_error = self
                .last_relay_error
                .lock()
                .map(|last| last.clone())
                .unwrap_or_default();
            tracing::warn!(
                count = relay_failed,
                last_error,
                "rejected requests with 503 because they could not be relayed to tiny_http"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::DuplexStream;
    use tokio::net::UnixListener;

    use super::*;

    /// A stand-in for tiny_http on a Unix socket. It records each connection's bytes up to the
    /// end of the stream, then responds `200` with the connection's number as the body, except
    /// to connection number `hold`.
    struct Backend {
        dir: PathBuf,
        received: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl Backend {
        fn start(name: &str, hold: Option<usize>) -> Backend {
            let dir =
                std::env::temp_dir().join(format!("crm-vec-front-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            let listener = UnixListener::bind(dir.join("http.sock")).unwrap();
            let received = Arc::new(Mutex::new(Vec::new()));
            let record = Arc::clone(&received);
            tokio::spawn(async move {
                while let Ok((mut stream, _)) = listener.accept().await {
                    let record = Arc::clone(&record);
                    tokio::spawn(async move {
                        let mut bytes = Vec::new();
                        stream.read_to_end(&mut bytes).await.unwrap();
                        let number = {
                            let mut record = record.lock().unwrap();
                            record.push(bytes);
                            record.len() - 1
                        };
                        if Some(number) == hold {
                            std::future::pending::<()>().await;
                        }
                        let body = number.to_string();
                        let response = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        stream.write_all(response.as_bytes()).await.unwrap();
                    });
                }
            });
            Backend { dir, received }
        }

        fn front(&self, max_relayed: usize) -> Arc<Front> {
            let limits = Limits {
                max_relayed,
                ..Limits::for_wait_timeout(Duration::from_secs(1))
            };
            Arc::new(Front::new(self.dir.join("http.sock"), limits))
        }

        fn received(&self) -> Vec<String> {
            let received = self.received.lock().unwrap();
            received
                .iter()
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                .collect()
        }
    }

    impl Drop for Backend {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// Connects a client to `front`, sends `request`, and returns everything it got back before
    /// the front closed the connection.
    async fn exchange(front: &Arc<Front>, request: &str) -> String {
        let (mut client, server): (DuplexStream, DuplexStream) = tokio::io::duplex(64 * 1024);
        tokio::spawn(Arc::clone(front).serve(server));
        client.write_all(request.as_bytes()).await.unwrap();
        let mut responses = Vec::new();
        client.read_to_end(&mut responses).await.unwrap();
        String::from_utf8_lossy(&responses).into_owned()
    }

    const KEEP_ALIVE: &str = "POST /webhook/sync HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
    const CLOSE: &str = "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n";

    #[tokio::test]
    async fn each_request_gets_its_own_connection() {
        let backend = Backend::start("each", None);
        let front = backend.front(512);
        let responses = exchange(&front, &format!("{KEEP_ALIVE}{CLOSE}")).await;
        assert_eq!(
            responses,
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n0\
             HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"
        );
        assert_eq!(backend.received(), vec![KEEP_ALIVE, CLOSE]);
    }

    #[tokio::test]
    async fn busy_relay_gets_503_with_retry_after() {
        let backend = Backend::start("busy", Some(0));
        let front = backend.front(1);
        let first_client = tokio::spawn({
            let front = Arc::clone(&front);
            async move { exchange(&front, CLOSE).await }
        });
        while backend.received().is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let started = Instant::now();
        let response = exchange(&front, CLOSE).await;
        let took = started.elapsed();
        assert!(
            response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{response}"
        );
        assert!(response.contains("\r\nRetry-After: 1\r\n"), "{response}");
        assert!(took < Duration::from_secs(1), "took {took:?}");
        assert_eq!(front.counts.busy.load(Ordering::Relaxed), 1);
        first_client.abort();
    }

    #[tokio::test]
    async fn oversized_body_gets_413_from_the_front() {
        let backend = Backend::start("oversized", None);
        let front = backend.front(512);
        let head = format!(
            "POST /webhook/sync HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            crate::serve::http::MAX_BODY + 1
        );
        let response = exchange(&front, &head).await;
        assert!(
            response.starts_with("HTTP/1.1 413 Payload Too Large\r\n"),
            "{response}"
        );
        assert!(backend.received().is_empty());
    }

    #[tokio::test]
    async fn listen_backlog_queues_300_connections() {
        let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0);
        if somaxconn < 300 {
            // Straight to stderr: libtest would swallow an eprintln! of a passing test.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!(
                    "note: skipped listen_backlog_queues_300_connections: net.core.somaxconn \
                     is {somaxconn}, under the 300 connections it opens\n"
                )
                .as_bytes(),
            );
            return;
        }
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        // Nothing accepts, so each handshake completes in the kernel's queue alone. With a
        // backlog of 128, the 130th connect would wait for a SYN retry and time out.
        let connected = tokio::task::spawn_blocking(move || {
            (0..300)
                .map(|_| std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)))
                .collect::<Result<Vec<_>, _>>()
                .map(|streams| streams.len())
        })
        .await
        .unwrap();
        assert_eq!(connected.map_err(|err| err.to_string()), Ok(300));
        drop(listener);
    }

    #[tokio::test]
    async fn missing_backend_gets_503() {
        let backend = Backend::start("missing", None);
        let front = backend.front(512);
        std::fs::remove_file(backend.dir.join("http.sock")).unwrap();
        let response = exchange(&front, CLOSE).await;
        assert!(
            response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{response}"
        );
        assert_eq!(front.counts.relay_failed.load(Ordering::Relaxed), 1);
    }
}
