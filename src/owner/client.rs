//! The client side of the owner socket: one request per connection, progress replayed into
//! the caller's reporter, and the owner's error rendered as if it had happened here.

use std::time::Duration;

use anyhow::Result;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::protocol::{Failure, Line, Operation, OwnerInfo, Progress, Request};
use crate::serve::queue::QueueReport;
use crate::settings::Settings;
use crate::sync::{NoProgress, Reporter};

/// How long a connection attempt may take. A listening owner accepts at once.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long the owner may stay silent. It sends a heartbeat every few seconds while an
/// operation runs, so silence this long means it hangs.
pub const SILENCE_LIMIT: Duration = Duration::from_secs(30);

/// A connection to the process that owns the index.
pub struct OwnerClient {
    stream: UnixStream,
    pid: Option<i32>,
}

/// Failures of the exchange with the owner, as opposed to failures of the operation.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("{owner} sent nothing for {seconds} s; check its log")]
    Silent { owner: String, seconds: u64 },
    #[error("{owner} closed the connection without an answer; check its log")]
    Closed { owner: String },
    #[error("could not talk to {owner}: {detail}")]
    Io { owner: String, detail: String },
    #[error("{owner} sent an invalid response: {detail}")]
    Invalid { owner: String, detail: String },
}

/// An error of an operation that ran in the owner: its message, the chain of its causes and
/// its hint, so that `main` prints it as it prints a local error.
#[derive(Debug)]
pub struct RemoteError {
    message: String,
    source: Option<Box<RemoteError>>,
    hint: Option<String>,
    usage: bool,
}

impl RemoteError {
    fn from_failure(failure: Failure) -> RemoteError {
        let mut chain = failure.causes.into_iter().rev();
        let innermost = chain.next().map(|message| RemoteError {
            message,
            source: None,
            hint: None,
            usage: false,
        });
        let source = chain.fold(innermost, |source, message| {
            Some(RemoteError {
                message,
                source: source.map(Box::new),
                hint: None,
                usage: false,
            })
        });
        RemoteError {
            message: failure.error,
            source: source.map(Box::new),
            hint: failure.hint,
            usage: failure.usage,
        }
    }

    /// Returns the known fix the owner found for the error.
    pub fn hint(&self) -> Option<String> {
        self.hint.clone()
    }

    /// Returns whether the owner found a usage error (an invalid setting or argument).
    pub fn is_usage(&self) -> bool {
        self.usage
    }
}

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for RemoteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

impl OwnerClient {
    /// Connects to the owner of the index these settings name; `None` when no process listens.
    pub async fn connect(settings: &Settings) -> Option<OwnerClient> {
        let path = super::socket_path(settings);
        let connecting = UnixStream::connect(&path);
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                // No socket, or one left by a process that is gone: there is no owner.
                tracing::trace!(error = %err, "no owner socket at {}", path.display());
                return None;
            }
            Err(_) => {
                tracing::warn!("the owner socket {} did not accept in time", path.display());
                return None;
            }
        };
        let pid = stream.peer_cred().ok().and_then(|cred| cred.pid());
        Some(OwnerClient { stream, pid })
    }

    /// Names the owner in messages.
    fn owner(&self) -> String {
        match self.pid {
            Some(pid) => format!("the crm-vec process that owns the index (pid {pid})"),
            None => "the crm-vec process that owns the index".to_string(),
        }
    }

    /// Runs `operation` in the owner and returns its result. `lock_timeout` is this process's
    /// `--lock-timeout`, which bounds the owner's wait for its write lock.
    pub async fn request(
        self,
        operation: Operation,
        lock_timeout: Duration,
        reporter: &dyn Reporter,
    ) -> Result<serde_json::Value> {
        let request = Request {
            operation,
            lock_timeout_ms: lock_timeout.as_millis() as u64,
        };
        self.exchange(&request, reporter, SILENCE_LIMIT).await
    }

    /// Reads the webhook queue of the owner's listener.
    pub async fn queue(self) -> Result<QueueReport> {
        let answer = self
            .request(Operation::Queue, Duration::ZERO, &NoProgress)
            .await?;
        Ok(serde_json::from_value(answer)?)
    }

    /// Asks the owner which process it is.
    pub async fn describe(self) -> Result<OwnerInfo> {
        let answer = self
            .request(Operation::Describe, Duration::ZERO, &NoProgress)
            .await?;
        Ok(serde_json::from_value(answer)?)
    }

    async fn exchange(
        self,
        request: &Request,
        reporter: &dyn Reporter,
        silence: Duration,
    ) -> Result<serde_json::Value> {
        let owner = self.owner();
        let io = |err: std::io::Error| OwnerError::Io {
            owner: owner.clone(),
            detail: err.to_string(),
        };
        let (read, mut write) = self.stream.into_split();
        let mut text = serde_json::to_string(request)?;
        text.push('\n');
        write.write_all(text.as_bytes()).await.map_err(io)?;

        let mut reader = BufReader::new(read);
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(silence, reader.read_line(&mut line)).await;
            let read = read.map_err(|_| OwnerError::Silent {
                owner: owner.clone(),
                seconds: silence.as_secs(),
            })?;
            if read.map_err(io)? == 0 {
                return Err(OwnerError::Closed { owner }.into());
            }
            let line = Line::decode(line.trim_end()).map_err(|detail| OwnerError::Invalid {
                owner: owner.clone(),
                detail,
            })?;
            match line {
                Line::Progress(progress) => replay(reporter, progress),
                Line::Heartbeat => {}
                Line::Done(Ok(result)) => return Ok(result),
                Line::Done(Err(failure)) => {
                    return Err(RemoteError::from_failure(failure).into());
                }
            }
        }
    }
}

fn replay(reporter: &dyn Reporter, progress: Progress) {
    match progress {
        Progress::Start { total } => reporter.start(total),
        Progress::Advance { count } => reporter.advance(count),
        Progress::Finish => reporter.finish(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};

    use tokio::net::UnixListener;

    use super::*;

    /// Records the calls a reporter receives.
    #[derive(Default)]
    struct Recorded(Mutex<Vec<String>>);

    impl Reporter for Recorded {
        fn start(&self, total: Option<u64>) {
            self.0.lock().unwrap().push(format!("start {total:?}"));
        }
        fn advance(&self, count: u64) {
            self.0.lock().unwrap().push(format!("advance {count}"));
        }
        fn finish(&self) {
            self.0.lock().unwrap().push("finish".to_string());
        }
    }

    /// Starts an owner that reads one request, responds with `lines` and stays connected.
    /// The returned text is the request it read.
    async fn fake_owner(
        lines: &'static [&'static str],
    ) -> (OwnerClient, Arc<Mutex<String>>, tokio::task::JoinHandle<()>) {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "crm-vec-owner-client-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).unwrap();
        let received = Arc::new(Mutex::new(String::new()));
        let text = Arc::clone(&received);
        let owner = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (read, mut write) = stream.into_split();
            let mut request = String::new();
            BufReader::new(read).read_line(&mut request).await.unwrap();
            *text.lock().unwrap() = request;
            for line in lines {
                write
                    .write_all(format!("{line}\n").as_bytes())
                    .await
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(listener);
        });
        let stream = UnixStream::connect(&path).await.unwrap();
        let _ = std::fs::remove_file(&path);
        let pid = stream.peer_cred().ok().and_then(|cred| cred.pid());
        (OwnerClient { stream, pid }, received, owner)
    }

    fn request() -> Request {
        Request {
            operation: Operation::Delete { ids: vec![4] },
            lock_timeout_ms: 1000,
        }
    }

    #[tokio::test]
    async fn progress_replayed_then_result_returned() {
        let (client, _, owner) = fake_owner(&[
            r#"{"progress": "start", "total": 2}"#,
            r#"{"heartbeat": true}"#,
            r#"{"progress": "advance", "count": 2}"#,
            r#"{"ok": true, "result": {"deleted": 1}}"#,
        ])
        .await;
        let recorded = Recorded::default();
        let result = client
            .exchange(&request(), &recorded, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(result, serde_json::json!({"deleted": 1}));
        assert_eq!(
            *recorded.0.lock().unwrap(),
            vec!["start Some(2)", "advance 2"]
        );
        owner.abort();
    }

    #[tokio::test]
    async fn failure_keeps_causes_and_hint() {
        let (client, _, owner) = fake_owner(&[
            r#"{"ok": false, "error": "could not connect to Odoo", "causes": ["refused", "os error 111"], "hint": "check ODOO_URL"}"#,
        ])
        .await;
        let err = client
            .exchange(&request(), &NoProgress, Duration::from_secs(5))
            .await
            .unwrap_err();
        let chain: Vec<String> = err.chain().map(ToString::to_string).collect();
        assert_eq!(
            chain,
            vec!["could not connect to Odoo", "refused", "os error 111"]
        );
        let remote = err.downcast_ref::<RemoteError>().unwrap();
        assert_eq!(remote.hint().as_deref(), Some("check ODOO_URL"));
        owner.abort();
    }

    #[tokio::test]
    async fn silent_owner_named_after_limit() {
        let (client, _, owner) = fake_owner(&[r#"{"heartbeat": true}"#]).await;
        let started = std::time::Instant::now();
        let err = client
            .exchange(&request(), &NoProgress, Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        let message = err.to_string();
        let pid = format!("(pid {})", std::process::id());
        assert!(message.contains(&pid), "{message}");
        assert!(message.contains("sent nothing"), "{message}");
        owner.abort();
    }

    #[tokio::test]
    async fn request_line_carries_lock_timeout() {
        let (client, received, owner) = fake_owner(&[r#"{"ok": true, "result": null}"#]).await;
        client
            .exchange(&request(), &NoProgress, Duration::from_secs(5))
            .await
            .unwrap();
        owner.abort();
        let text = received.lock().unwrap().clone();
        assert_eq!(Request::parse(&text), Ok(request()), "{text}");
    }
}
