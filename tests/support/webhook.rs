//! Sends webhooks the way Odoo's "Send Webhook Notification" action does, and runs
//! `crm-vec serve` in the background for a test.
//!
//! Odoo posts `json.dumps(vals, sort_keys=True)` with python-requests: only a Content-Type
//! header of its own, the token in the URL, and a 1 second timeout.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::harness::Sandbox;

/// Odoo's timeout for one webhook POST.
pub const ODOO_TIMEOUT: Duration = Duration::from_secs(1);

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub elapsed: Duration,
}

/// The body Odoo sends when no fields are selected, keys sorted as `json.dumps` writes them.
pub fn odoo_body(action: &str, id: u64) -> String {
    format!(r#"{{"_action": "{action}", "_id": {id}, "_model": "crm.lead"}}"#)
}

/// The action name Odoo 17 and 18 put in `_action`.
pub const ODOO17_ACTION: &str = "Send Webhook Notification(#231)";

/// Sends one request with a raw HTTP/1.1 exchange and the given timeout for every step.
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Answer, String> {
    let started = Instant::now();
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(timeout)).ok();
    stream.set_write_timeout(Some(timeout)).ok();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    // A server may answer (413, say) and close before the whole body is sent: read anyway.
    let sent = stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body));
    let mut raw = Vec::new();
    let read = stream.read_to_end(&mut raw);
    if raw.is_empty() {
        sent.map_err(|e| e.to_string())?;
        read.map_err(|e| e.to_string())?;
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, payload) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line: {head:?}"))?;
    Ok(Answer {
        status,
        body: serde_json::from_str(payload).unwrap_or(Value::Null),
        text: payload.to_string(),
        elapsed: started.elapsed(),
    })
}

/// Posts a body exactly as Odoo does, to `path_and_query` (e.g. "/webhook/sync?token=t").
pub fn post_like_odoo(
    addr: SocketAddr,
    path_and_query: &str,
    body: &str,
) -> Result<Answer, String> {
    request(
        addr,
        "POST",
        path_and_query,
        &[
            ("User-Agent", "python-requests/2.31.0"),
            ("Accept-Encoding", "gzip, deflate"),
            ("Accept", "*/*"),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
        ODOO_TIMEOUT,
    )
}

/// A GET with an optional `x-webhook-secret` header and a generous timeout.
pub fn get(addr: SocketAddr, path: &str, secret: Option<&str>) -> Answer {
    let headers: Vec<(&str, &str)> = secret
        .map(|s| ("x-webhook-secret", s))
        .into_iter()
        .collect();
    request(addr, "GET", path, &headers, b"", Duration::from_secs(10))
        .unwrap_or_else(|err| panic!("GET {path} failed: {err}"))
}

/// The bodies of the recorded webhook traffic of a real Odoo (`odoo17` or `odoo18`).
pub fn recorded_bodies(version: &str) -> Vec<String> {
    let path = format!(
        "{}/tests/data/recorded/{version}/webhook_receiver.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter_map(|record| record["body"].as_str().map(str::to_string))
        .collect()
}

/// `crm-vec serve` running in the background; killed when dropped.
pub struct Listener {
    pub child: Child,
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl Listener {
    /// Starts `crm-vec -v serve --port 0 ARGS…` in the sandbox and waits until it answers.
    pub fn start(sandbox: &Sandbox, args: &[&str]) -> Listener {
        let mut all = vec!["-v", "serve", "--port", "0"];
        all.extend_from_slice(args);
        let mut child = sandbox.command(&all).spawn().expect("start crm-vec serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (found, port) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().expect("stderr is piped");
        let log = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = found.send(rest.trim().to_string());
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr: SocketAddr = match port.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("serve did not start:\n{}", stderr.lock().unwrap());
            }
        };
        let listener = Listener {
            child,
            addr,
            stderr,
        };
        let health = get(addr, "/health", None);
        assert_eq!(health.status, 200, "health: {}", health.text);
        listener
    }

    /// Everything serve wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends SIGKILL and waits for the process.
    pub fn kill_9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and returns the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// `/webhook/status`, with the secret when one is given.
    pub fn status(&self, secret: Option<&str>) -> Value {
        let answer = get(self.addr, "/webhook/status", secret);
        assert_eq!(answer.status, 200, "status: {}", answer.text);
        answer.body
    }

    /// Waits until the queue holds nothing pending or in flight, or panics after `timeout`.
    pub fn wait_idle(&self, secret: Option<&str>, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let status = self.status(secret);
            let queue = &status["queue"];
            if queue["pending"] == 0 && queue["in_flight"] == 0 {
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "queue not empty after {timeout:?}: {status}\n{}",
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 50 ms until it returns true, or panics with `what` after `timeout`.
pub fn eventually(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{what} did not happen within {timeout:?}");
}

/// Reads one response from a connection that may carry more: the status line, the headers
/// and, unless `head_only` (a response to HEAD) or the status is 1xx, a body framed by
/// Content-Length.
pub fn read_answer(reader: &mut impl BufRead, head_only: bool) -> Result<Answer, String> {
    let started = Instant::now();
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .map_err(|err| err.to_string())?;
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line: {status_line:?}"))?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|err| err.to_string())?;
        if line.is_empty() {
            return Err("the connection closed inside a response head".to_string());
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().map_err(|_| format!("bad {line:?}"))?;
            }
        }
    }
    let mut payload = vec![0; if head_only || status < 200 { 0 } else { length }];
    reader
        .read_exact(&mut payload)
        .map_err(|err| err.to_string())?;
    let text = String::from_utf8_lossy(&payload).into_owned();
    Ok(Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
        elapsed: started.elapsed(),
    })
}

/// Lifts this process's soft limit on open files to at least `needed`, or returns why it cannot.
pub fn allow_open_files(needed: u64) -> Result<(), String> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed to them.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err("getrlimit(RLIMIT_NOFILE) failed".to_string());
        }
        if limit.rlim_cur >= needed {
            return Ok(());
        }
        if limit.rlim_max < needed {
            return Err(format!(
                "the hard limit on open files is {}, under the {needed} needed",
                limit.rlim_max
            ));
        }
        limit.rlim_cur = needed;
        if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
            return Err(format!("setrlimit(RLIMIT_NOFILE, {needed}) failed"));
        }
    }
    Ok(())
}
