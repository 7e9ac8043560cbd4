//! The TCP side of the listener, in front of tiny_http.
//!
//! tiny_http reads each connection on a thread of its own, with no read timeout, and its accept
//! thread stops for good on the first accept error (running out of file descriptors, say). So
//! an idle or slow client would hold a thread forever, and enough of them would stop the
//! listener. Connections are therefore accepted here, on tokio, and relayed to tiny_http over a
//! private Unix socket only once they send their first byte, with deadlines on every phase and
//! a bound on how many reach tiny_http at once. An idle connection costs a task and a
//! descriptor, never a thread, and is closed after `first_byte`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UnixStream};
use tokio::sync::Semaphore;

use super::Shutdown;

/// Connections the kernel completes and queues before the listener accepts them (capped by
/// `net.core.somaxconn`). The standard library requests 128, fewer than one burst of Odoo
/// webhooks. Connections beyond it lose their SYN and retry after a second, and Odoo's
/// webhook timeout is one second.
const LISTEN_BACKLOG: u32 = 1024;

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

/// Deadlines and bounds of the relay.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// How long a new connection may stay silent before it is closed.
    pub first_byte: Duration,
    /// How long a request may take from its last byte received to its response.
    pub request: Duration,
    /// How long a connection may stay idle after a response (keep-alive).
    pub idle: Duration,
    /// Maximum lifetime of a connection.
    pub lifetime: Duration,
    /// Connections relayed to tiny_http at once (each occupies one of its threads).
    pub max_relayed: usize,
}

impl Limits {
    pub fn for_wait_timeout(wait_timeout: Duration) -> Limits {
        Limits {
            first_byte: Duration::from_secs(10),
            request: wait_timeout + Duration::from_secs(5),
            idle: Duration::from_secs(5),
            lifetime: wait_timeout + Duration::from_secs(60),
            max_relayed: 512,
        }
    }
}

/// Accepts connections until `stop` is notified, relaying each to the Unix socket `backend`.
pub async fn accept_loop(
    listener: TcpListener,
    backend: PathBuf,
    limits: Limits,
    stop: Arc<Shutdown>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_relayed));
    let mut last_warning: Option<Instant> = None;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(relay(stream, backend.clone(), permits.clone(), limits));
                }
                Err(err) => {
                    // Out of descriptors or similar: keep listening, warn at most every 10 s.
                    if last_warning.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                        tracing::warn!(error = %err, "could not accept a connection");
                        last_warning = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = stop.wait() => return,
        }
    }
}

async fn relay(client: TcpStream, backend: PathBuf, permits: Arc<Semaphore>, limits: Limits) {
    let _ = client.set_nodelay(true);
    if !matches!(
        tokio::time::timeout(limits.first_byte, client.readable()).await,
        Ok(Ok(()))
    ) {
        return;
    }
    let Ok(Ok(permit)) =
        tokio::time::timeout(Duration::from_secs(1), permits.acquire_owned()).await
    else {
        return;
    };
    let Ok(upstream) = UnixStream::connect(&backend).await else {
        return;
    };
    pump(client, upstream, limits).await;
    drop(permit);
}

/// Copies bytes both ways until either side closes or a deadline passes.
async fn pump(mut client: TcpStream, mut upstream: UnixStream, limits: Limits) {
    let (mut client_read, mut client_write) = client.split();
    let (mut upstream_read, mut upstream_write) = upstream.split();
    let mut from_client = vec![0u8; 16 * 1024];
    let mut from_upstream = vec![0u8; 16 * 1024];
    let end_of_life = tokio::time::Instant::now() + limits.lifetime;
    let mut deadline = tokio::time::Instant::now() + limits.request;
    let mut client_open = true;
    loop {
        tokio::select! {
            read = client_read.read(&mut from_client), if client_open => match read {
                Ok(0) | Err(_) => {
                    client_open = false;
                    let _ = upstream_write.shutdown().await;
                }
                Ok(n) => {
                    if upstream_write.write_all(&from_client[..n]).await.is_err() {
                        return;
                    }
                    deadline = tokio::time::Instant::now() + limits.request;
                }
            },
            read = upstream_read.read(&mut from_upstream) => match read {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    let write = client_write.write_all(&from_upstream[..n]);
                    if !matches!(tokio::time::timeout(limits.idle, write).await, Ok(Ok(()))) {
                        return;
                    }
                    deadline = tokio::time::Instant::now() + limits.idle;
                }
            },
            _ = tokio::time::sleep_until(deadline.min(end_of_life)) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn listen_backlog_queues_300_connections() {
        let somaxconn: u32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0);
        if somaxconn < 300 {
            eprintln!("skipped: net.core.somaxconn is {somaxconn}, under the 300 this test opens");
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
}
