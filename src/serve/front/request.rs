//! Reads one request from a client in full, under fixed deadlines, before it is relayed.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{timeout, timeout_at, Instant};

use super::Limits;
use crate::serve::http::MAX_BODY;

/// Maximum length of a request head, in bytes. Odoo's are about 300 bytes.
const MAX_HEAD: usize = 16 * 1024;
/// Maximum number of header fields in one request head.
const MAX_HEADERS: usize = 64;
/// Maximum length of a chunk-size or trailer line of a chunked body, in bytes.
const MAX_CHUNK_LINE: usize = 4 * 1024;
/// Maximum size of a body buffered without a large-body slot. Odoo's bodies are a few hundred
/// bytes, or a few kilobytes with fields selected.
const SMALL_BODY: usize = 64 * 1024;
/// Bytes requested from the socket per read.
const READ_SIZE: usize = 8 * 1024;
/// How long an error response may take to send, and how long the connection then stays open
/// to read what the client still sends. Closing a socket with unread data resets the
/// connection, and the client may lose the response.
const LINGER: Duration = Duration::from_secs(2);

/// One client connection and the bytes read from it but not yet relayed.
pub struct Client<S> {
    stream: S,
    buffer: Vec<u8>,
    /// Whether the current request is a HEAD, whose response has no body.
    head_only: bool,
}

/// A request read in full.
pub struct Request {
    /// The head as received, without `Expect` fields, followed by the body as received.
    pub bytes: Vec<u8>,
    /// Whether the connection closes after the response. tiny_http decides the same way.
    pub closes: bool,
    /// The large-body slot of a body over [`SMALL_BODY`], held until the request is relayed.
    _large_body: Option<OwnedSemaphorePermit>,
}

/// The result of reading the next request.
pub enum Outcome {
    Request(Request),
    /// The client closed the connection or sent nothing in time, so there is nothing to send.
    Closed,
    /// The request gets this error response, then the connection closes.
    Rejected(Rejection),
}

/// An error response that the front sends itself.
#[derive(Debug, PartialEq)]
pub struct Rejection {
    pub status: u16,
    pub error: String,
}

impl Rejection {
    pub fn new(status: u16, error: impl Into<String>) -> Rejection {
        Rejection {
            status,
            error: error.into(),
        }
    }

    /// Writes the whole response: a JSON body as the handlers write it, `Retry-After` on a 503,
    /// and `Connection: close`.
    fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let body = json!({ "error": self.error }).to_string();
        let reason = tiny_http::StatusCode(self.status).default_reason_phrase();
        let retry_after = if self.status == 503 {
            "Retry-After: 1\r\n"
        } else {
            ""
        };
        let mut bytes = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             {retry_after}Connection: close\r\n\r\n",
            self.status,
            body.len()
        )
        .into_bytes();
        if !head_only {
            bytes.extend_from_slice(body.as_bytes());
        }
        bytes
    }
}

/// The parts of a request head that the front uses.
#[derive(Debug, PartialEq)]
struct Head {
    /// Bytes of the head, including the blank line that ends it.
    len: usize,
    body: Framing,
    closes: bool,
    head_only: bool,
    /// `Expect: 100-continue` from an HTTP/1.1 client.
    expects_continue: bool,
}

/// The framing that marks the end of a request body.
#[derive(Debug, PartialEq, Clone, Copy)]
enum Framing {
    Length(usize),
    Chunked,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Client<S> {
    pub fn new(stream: S) -> Client<S> {
        Client {
            stream,
            buffer: Vec::new(),
            head_only: false,
        }
    }

    /// Reads the next request, waiting up to `wait` for its first byte.
    pub async fn next_request(
        &mut self,
        wait: Duration,
        limits: &Limits,
        large_bodies: &Arc<Semaphore>,
    ) -> Outcome {
        self.head_only = false;
        if self.buffer.is_empty() && !matches!(timeout(wait, self.fill()).await, Ok(Ok(1..))) {
            return Outcome::Closed;
        }
        let head = match self.read_head(Instant::now() + limits.head).await {
            Ok(head) => head,
            Err(outcome) => return outcome,
        };
        self.head_only = head.head_only;
        let longest = match head.body {
            Framing::Length(length) => length,
            Framing::Chunked => MAX_BODY,
        };
        let deadline = Instant::now() + limits.body_time(longest);
        let (body_len, large_body) = match self.read_body(&head, deadline, large_bodies).await {
            Ok(body) => body,
            Err(outcome) => return outcome,
        };

        let end = head.len + body_len;
        let mut bytes = Vec::with_capacity(end);
        copy_without_expect(&self.buffer[..head.len], &mut bytes);
        bytes.extend_from_slice(&self.buffer[head.len..end]);
        self.buffer.drain(..end);
        self.buffer.shrink_to(READ_SIZE);
        Outcome::Request(Request {
            bytes,
            closes: head.closes,
            _large_body: large_body,
        })
    }

    /// Reads until the buffer starts with a whole head, or `deadline` passes (408).
    async fn read_head(&mut self, deadline: Instant) -> Result<Head, Outcome> {
        let mut scanned = 0;
        loop {
            // A head ends with a line feed, so only new line feeds are worth a parse.
            if self.buffer[scanned..].contains(&b'\n') {
                if let Some(head) = parse_head(&self.buffer).map_err(Outcome::Rejected)? {
                    return Ok(head);
                }
            }
            scanned = self.buffer.len();
            if scanned > MAX_HEAD {
                return Err(Outcome::Rejected(head_too_large()));
            }
            self.fill_before(deadline, "head").await?;
        }
    }

    /// Reads until the buffer contains the whole body after `head`, or `deadline` passes (408).
    /// Returns the body's length as received, with its chunk framing, and its large-body slot.
    async fn read_body(
        &mut self,
        head: &Head,
        deadline: Instant,
        large_bodies: &Arc<Semaphore>,
    ) -> Result<(usize, Option<OwnedSemaphorePermit>), Outcome> {
        if let Framing::Length(length) = head.body {
            // Room for exactly this body, so that it never takes twice its size.
            let missing = (head.len + length).saturating_sub(self.buffer.len());
            self.buffer.reserve_exact(missing);
        }
        let mut chunks = Chunks::default();
        let mut large_body = None;
        let mut continued = false;
        loop {
            let received = &self.buffer[head.len..];
            let buffered = match head.body {
                Framing::Length(length) => length,
                Framing::Chunked => received.len(),
            };
            if buffered > SMALL_BODY && large_body.is_none() {
                let slot = Arc::clone(large_bodies).try_acquire_owned();
                large_body = Some(slot.map_err(|_| Outcome::Rejected(no_large_body_slot()))?);
            }
            let end = match head.body {
                Framing::Length(length) => (received.len() >= length).then_some(length),
                Framing::Chunked => chunks.end(received).map_err(Outcome::Rejected)?,
            };
            if let Some(end) = end {
                return Ok((end, large_body));
            }
            if buffered > MAX_BODY {
                return Err(Outcome::Rejected(body_too_large()));
            }
            if head.expects_continue && !continued {
                let sent = timeout_at(deadline, self.stream.write_all(CONTINUE)).await;
                if !matches!(sent, Ok(Ok(()))) {
                    return Err(Outcome::Closed);
                }
                continued = true;
            }
            self.fill_before(deadline, "body").await?;
        }
    }

    /// Reads more bytes into the buffer, and returns how many: 0 at the end of the stream.
    async fn fill(&mut self) -> std::io::Result<usize> {
        if self.buffer.len() == self.buffer.capacity() {
            self.buffer.reserve(READ_SIZE);
        }
        self.stream.read_buf(&mut self.buffer).await
    }

    /// Reads more bytes like [`Client::fill`], but gives up with 408 when `deadline` passes
    /// before the `part` of the request being read is complete.
    async fn fill_before(&mut self, deadline: Instant, part: &str) -> Result<(), Outcome> {
        match timeout_at(deadline, self.fill()).await {
            Ok(Ok(0)) | Ok(Err(_)) => Err(Outcome::Closed),
            Ok(Ok(_)) => Ok(()),
            Err(_) => Err(Outcome::Rejected(Rejection::new(
                408,
                format!("timed out waiting for the request {part}"),
            ))),
        }
    }

    /// Sends `bytes` within `within`, and returns whether they were sent.
    pub async fn send(&mut self, bytes: &[u8], within: Duration) -> bool {
        matches!(
            timeout(within, self.stream.write_all(bytes)).await,
            Ok(Ok(()))
        )
    }

    /// Shuts down the sending side, then closes the connection.
    pub async fn close(mut self) {
        let _ = timeout(LINGER, self.stream.shutdown()).await;
    }

    /// Sends `rejection`, then reads and discards what the client still sends, for up to
    /// [`LINGER`], before closing.
    pub async fn reject(mut self, rejection: &Rejection) {
        let response = rejection.to_bytes(self.head_only);
        if !self.send(&response, LINGER).await {
            return;
        }
        let _ = timeout(LINGER, self.stream.shutdown()).await;
        let mut discard = vec![0; READ_SIZE];
        let drain = async { while let Ok(1..) = self.stream.read(&mut discard).await {} };
        let _ = timeout(LINGER, drain).await;
    }
}

const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

fn head_too_large() -> Rejection {
    Rejection::new(
        431,
        format!("the request head is over {MAX_HEAD} bytes or {MAX_HEADERS} fields"),
    )
}

fn body_too_large() -> Rejection {
    Rejection::new(413, format!("the body is larger than {MAX_BODY} bytes"))
}

fn no_large_body_slot() -> Rejection {
    Rejection::new(
        503,
        format!("too many bodies over {SMALL_BODY} bytes are being received; retry"),
    )
}

/// Parses the head at the start of `buffer`, or returns `Ok(None)` while it is incomplete.
fn parse_head(buffer: &[u8]) -> Result<Option<Head>, Rejection> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut fields);
    let len = match request.parse(buffer) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(head_too_large()),
        Err(err) => {
            return Err(Rejection::new(
                400,
                format!("the request head is not valid HTTP/1.1: {err}"),
            ))
        }
    };
    if len > MAX_HEAD {
        return Err(head_too_large());
    }
    // tiny_http drops a connection whose head is not ASCII without a response.
    if !buffer[..len].is_ascii() {
        return Err(Rejection::new(
            400,
            "the request head contains bytes that are not ASCII",
        ));
    }
    let http_10 = request.version == Some(0);
    let fields = &*request.headers;
    Ok(Some(Head {
        len,
        body: framing(fields)?,
        closes: closes_after(fields, http_10),
        head_only: request.method == Some("HEAD"),
        expects_continue: expects_continue(fields, http_10)?,
    }))
}

/// Returns whether the connection closes after this request, as tiny_http decides it.
fn closes_after(fields: &[httparse::Header], http_10: bool) -> bool {
    let connection = field_values(fields, "connection").to_ascii_lowercase();
    connection.contains("close")
        || connection.contains("upgrade")
        || (http_10 && !connection.contains("keep-alive"))
}

/// Returns whether an HTTP/1.1 client waits for `100 Continue` before it sends the body.
/// Expectations other than `100-continue` get 417, as in tiny_http.
fn expects_continue(fields: &[httparse::Header], http_10: bool) -> Result<bool, Rejection> {
    let expect = fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case("expect"));
    match expect {
        None => Ok(false),
        Some(expect) if expect.value.eq_ignore_ascii_case(b"100-continue") => Ok(!http_10),
        Some(_) => Err(Rejection::new(
            417,
            "the only expectation supported is Expect: 100-continue",
        )),
    }
}

/// Joins the values of every field `name` with commas.
fn field_values(fields: &[httparse::Header], name: &str) -> String {
    let values: Vec<String> = fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(name))
        .map(|f| String::from_utf8_lossy(f.value).into_owned())
        .collect();
    values.join(",")
}

/// Reads the body framing from the header fields. A request with both Content-Length and
/// Transfer-Encoding is rejected, as RFC 9112 (section 6.1) allows, because the two could make
/// the front and tiny_http disagree on where the body ends.
fn framing(fields: &[httparse::Header]) -> Result<Framing, Rejection> {
    let lengths: Vec<&[u8]> = fields
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case("content-length"))
        .map(|f| f.value)
        .collect();
    let codings = field_values(fields, "transfer-encoding");
    if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err(Rejection::new(
                400,
                "a request cannot have both Content-Length and Transfer-Encoding",
            ));
        }
        if !codings.trim().eq_ignore_ascii_case("chunked") {
            return Err(Rejection::new(
                501,
                "the only Transfer-Encoding supported is chunked",
            ));
        }
        return Ok(Framing::Chunked);
    }
    let Some(first) = lengths.first() else {
        return Ok(Framing::Length(0));
    };
    let length = std::str::from_utf8(first)
        .ok()
        .filter(|text| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|text| text.parse::<u64>().ok());
    let Some(length) = length.filter(|_| lengths.iter().all(|other| other == first)) else {
        return Err(Rejection::new(
            400,
            "Content-Length must be one number of bytes",
        ));
    };
    match usize::try_from(length) {
        Ok(length) if length <= MAX_BODY => Ok(Framing::Length(length)),
        _ => Err(body_too_large()),
    }
}

/// Appends `head` to `bytes` without its `Expect` fields. The front has sent the `100
/// Continue` already, and tiny_http would send a second one.
fn copy_without_expect(head: &[u8], bytes: &mut Vec<u8>) {
    for line in head.split_inclusive(|&b| b == b'\n') {
        let expect = line
            .get(..7)
            .is_some_and(|name| name.eq_ignore_ascii_case(b"expect:"));
        if !expect {
            bytes.extend_from_slice(line);
        }
    }
}

/// A scanner for the end of a chunked body as it arrives. Each call scans only new bytes and
/// the current chunk-size or trailer line (at most [`MAX_CHUNK_LINE`] bytes) again.
#[derive(Default)]
struct Chunks {
    /// Offset of the next chunk-size line, or of the next trailer line after the last chunk.
    next: usize,
    after_last_chunk: bool,
}

impl Chunks {
    /// Returns the length of the body with its framing, once `received` contains all of it.
    fn end(&mut self, received: &[u8]) -> Result<Option<usize>, Rejection> {
        let invalid = || Rejection::new(400, "the chunked body is not valid");
        loop {
            let rest = &received[self.next..];
            if self.after_last_chunk {
                let Some(line) = rest.windows(2).position(|pair| pair == b"\r\n") else {
                    return Self::partial_line(rest);
                };
                self.next += line + 2;
                if line == 0 {
                    return Ok(Some(self.next));
                }
                continue;
            }
            let (line, size) = match httparse::parse_chunk_size(rest) {
                Ok(httparse::Status::Complete(found)) => found,
                Ok(httparse::Status::Partial) => return Self::partial_line(rest),
                Err(_) => return Err(invalid()),
            };
            if size == 0 {
                self.next += line;
                self.after_last_chunk = true;
                continue;
            }
            let Some(data_end) = usize::try_from(size)
                .ok()
                .filter(|size| *size <= MAX_BODY)
                .map(|size| line + size)
            else {
                return Err(body_too_large());
            };
            match rest.get(data_end..data_end + 2) {
                None => return Ok(None),
                Some(b"\r\n") => self.next += data_end + 2,
                Some(_) => return Err(invalid()),
            }
        }
    }

    fn partial_line(rest: &[u8]) -> Result<Option<usize>, Rejection> {
        if rest.len() > MAX_CHUNK_LINE {
            return Err(Rejection::new(
                400,
                format!("a line of the chunked body is longer than {MAX_CHUNK_LINE} bytes"),
            ));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ODOO_HEAD: &[u8] = b"POST /webhook/sync?token=t HTTP/1.1\r\nHost: crm-vec\r\n\
        User-Agent: python-requests/2.31.0\r\nAccept-Encoding: gzip, deflate\r\nAccept: */*\r\n\
        Connection: keep-alive\r\nContent-Type: application/json\r\nContent-Length: 75\r\n\r\n";

    fn head(text: &str) -> Result<Option<Head>, Rejection> {
        parse_head(text.as_bytes())
    }

    fn status(text: &str) -> u16 {
        head(text).expect_err("a rejection").status
    }

    #[test]
    fn odoo_head_is_parsed() {
        let parsed = parse_head(ODOO_HEAD).unwrap().unwrap();
        assert_eq!(parsed.len, ODOO_HEAD.len());
        assert_eq!(parsed.body, Framing::Length(75));
        assert!(!parsed.closes);
        assert!(!parsed.expects_continue);
        assert!(!parsed.head_only);
    }

    #[test]
    fn incomplete_head_waits_for_more() {
        assert_eq!(parse_head(&ODOO_HEAD[..ODOO_HEAD.len() - 2]), Ok(None));
    }

    #[test]
    fn connection_closes_as_tiny_http_decides() {
        let closes = |text: &str| head(text).unwrap().unwrap().closes;
        assert!(!closes("GET / HTTP/1.1\r\n\r\n"));
        assert!(closes("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assert!(closes("GET / HTTP/1.0\r\n\r\n"));
        assert!(!closes("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }

    #[test]
    fn chunked_and_expect_continue_are_recognised() {
        let parsed = head("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(parsed.body, Framing::Chunked);
        let parsed = head("POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(parsed.expects_continue);
        let parsed = head("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!parsed.expects_continue, "HTTP/1.0 clients get no 100");
    }

    #[test]
    fn unusable_heads_get_their_status() {
        assert_eq!(status("GET / HTTP/2.0\r\n\r\n"), 400);
        assert_eq!(status("GET / HTTP/1.1\r\nX-Name: caf\u{e9}\r\n\r\n"), 400);
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
            400
        );
        assert_eq!(status("POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n"), 400);
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            501
        );
        assert_eq!(status("POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n"), 417);
        let too_many = format!("GET / HTTP/1.1\r\n{}\r\n", "X-Pad: 1\r\n".repeat(65));
        assert_eq!(status(&too_many), 431);
    }

    #[test]
    fn bodies_over_the_limit_get_413() {
        let over = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(status(&over), 413);
        let at = format!("POST / HTTP/1.1\r\nContent-Length: {MAX_BODY}\r\n\r\n");
        assert_eq!(head(&at).unwrap().unwrap().body, Framing::Length(MAX_BODY));
    }

    #[test]
    fn expect_fields_are_not_relayed() {
        let mut relayed = Vec::new();
        copy_without_expect(
            b"POST / HTTP/1.1\r\nexpect: 100-continue\r\nA: 1\r\n\r\n",
            &mut relayed,
        );
        assert_eq!(relayed, b"POST / HTTP/1.1\r\nA: 1\r\n\r\n");
    }

    #[test]
    fn chunked_body_ends_after_trailers() {
        let body = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        let mut chunks = Chunks::default();
        assert_eq!(chunks.end(&body[..10]), Ok(None));
        assert_eq!(chunks.end(&body[..30]), Ok(None));
        assert_eq!(chunks.end(body), Ok(Some(body.len() - 4)));
    }

    #[test]
    fn broken_chunked_bodies_are_rejected() {
        let status = |body: &[u8]| Chunks::default().end(body).unwrap_err().status;
        assert_eq!(status(b"4\r\nWikiXX"), 400);
        assert_eq!(status(b"g\r\n"), 400);
        assert_eq!(status(b"200000\r\n"), 413);
        let long_line = format!("1;{}", "x".repeat(MAX_CHUNK_LINE));
        assert_eq!(status(long_line.as_bytes()), 400);
    }

    #[test]
    fn rejection_has_retry_after_on_503() {
        let text =
            |status| String::from_utf8(Rejection::new(status, "busy").to_bytes(false)).unwrap();
        let busy = text(503);
        assert!(
            busy.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
            "{busy}"
        );
        assert!(busy.contains("\r\nRetry-After: 1\r\n"), "{busy}");
        assert!(busy.ends_with("\r\n\r\n{\"error\":\"busy\"}"), "{busy}");
        assert!(!text(408).contains("Retry-After"));
        let head_only = Rejection::new(503, "busy").to_bytes(true);
        assert!(head_only
            .ends_with(b"Content-Length: 16\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"));
    }

    /// Short deadlines, so that the tests below take about a second: a head within 500 ms of
    /// its first byte, a body within 500 ms plus its length at 1 KiB/s.
    fn limits() -> Limits {
        Limits {
            first_byte: Duration::from_millis(300),
            head: Duration::from_millis(500),
            body: Duration::from_millis(500),
            body_rate: 1024,
            ..Limits::for_wait_timeout(Duration::from_secs(1))
        }
    }

    /// Reads one request, and returns its outcome with the time it took.
    async fn read_one(
        mut server_side: Client<tokio::io::DuplexStream>,
    ) -> (Outcome, Duration, Client<tokio::io::DuplexStream>) {
        let started = Instant::now();
        let slots = Arc::new(Semaphore::new(1));
        let outcome = server_side
            .next_request(limits().first_byte, &limits(), &slots)
            .await;
        (outcome, started.elapsed(), server_side)
    }

    /// Asserts that `took` is `expected`, give or take the scheduling of a busy machine.
    fn assert_about(took: Duration, expected: Duration) {
        assert!(
            took >= expected && took < expected + Duration::from_millis(300),
            "took {took:?}, expected {expected:?}"
        );
    }

    fn rejected_status(outcome: &Outcome) -> Option<u16> {
        match outcome {
            Outcome::Rejected(rejection) => Some(rejection.status),
            _ => None,
        }
    }

    #[tokio::test]
    async fn head_deadline_is_not_extended_by_trickling() {
        let (mut client_side, server_side) = tokio::io::duplex(64 * 1024);
        let trickle = tokio::spawn(async move {
            client_side.write_all(b"POST / HTTP/1.1\r\n").await.unwrap();
            for _ in 0..20 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if client_side.write_all(b"X-Pad: 1\r\n").await.is_err() {
                    return;
                }
            }
        });
        let (outcome, took, _) = read_one(Client::new(server_side)).await;
        assert_eq!(rejected_status(&outcome), Some(408));
        assert_about(took, limits().head);
        trickle.abort();
    }

    #[tokio::test]
    async fn body_deadline_follows_its_length() {
        let (mut client_side, server_side) = tokio::io::duplex(64 * 1024);
        let length = 512;
        let trickle = tokio::spawn(async move {
            let head = format!("POST / HTTP/1.1\r\nContent-Length: {length}\r\n\r\n");
            client_side.write_all(head.as_bytes()).await.unwrap();
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if client_side.write_all(b"x").await.is_err() {
                    return;
                }
            }
        });
        let (outcome, took, _) = read_one(Client::new(server_side)).await;
        assert_eq!(rejected_status(&outcome), Some(408));
        // 500 ms, then 512 bytes at 1 KiB/s.
        assert_about(took, Duration::from_secs(1));
        trickle.abort();
    }

    #[tokio::test]
    async fn silent_connection_closes_without_response() {
        let (_client_side, server_side) = tokio::io::duplex(1024);
        let (outcome, took, _) = read_one(Client::new(server_side)).await;
        assert!(matches!(outcome, Outcome::Closed));
        assert_about(took, limits().first_byte);
    }

    #[tokio::test]
    async fn pipelined_requests_are_read_one_at_a_time() {
        let (mut client_side, server_side) = tokio::io::duplex(64 * 1024);
        let first = "POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}";
        let second = "GET /b HTTP/1.1\r\nConnection: close\r\n\r\n";
        client_side
            .write_all(format!("{first}{second}").as_bytes())
            .await
            .unwrap();
        let (outcome, _, server_side) = read_one(Client::new(server_side)).await;
        let Outcome::Request(request) = outcome else {
            panic!("no first request");
        };
        assert_eq!(request.bytes, first.as_bytes());
        assert!(!request.closes);
        let (outcome, _, _) = read_one(server_side).await;
        let Outcome::Request(request) = outcome else {
            panic!("no second request");
        };
        assert_eq!(request.bytes, second.as_bytes());
        assert!(request.closes);
    }

    #[tokio::test]
    async fn expect_continue_gets_100_before_the_body() {
        let (mut client_side, server_side) = tokio::io::duplex(64 * 1024);
        let client = tokio::spawn(async move {
            client_side
                .write_all(b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
                .await
                .unwrap();
            let mut interim = vec![0; CONTINUE.len()];
            client_side.read_exact(&mut interim).await.unwrap();
            client_side.write_all(b"{}").await.unwrap();
            (interim, client_side)
        });
        let (outcome, _, _) = read_one(Client::new(server_side)).await;
        let (interim, _client_side) = client.await.unwrap();
        assert_eq!(interim, CONTINUE);
        let Outcome::Request(request) = outcome else {
            panic!("no request");
        };
        assert_eq!(
            request.bytes,
            b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
        );
    }

    #[tokio::test]
    async fn large_bodies_beyond_the_slots_get_503() {
        let (mut client_side, server_side) = tokio::io::duplex(64 * 1024);
        let head = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
            SMALL_BODY + 1
        );
        client_side.write_all(head.as_bytes()).await.unwrap();
        let mut client = Client::new(server_side);
        let no_slots = Arc::new(Semaphore::new(0));
        let outcome = client
            .next_request(limits().first_byte, &limits(), &no_slots)
            .await;
        assert_eq!(rejected_status(&outcome), Some(503));
    }

    #[tokio::test]
    async fn large_body_holds_its_slot_until_relayed() {
        let (mut client_side, server_side) = tokio::io::duplex(256 * 1024);
        let body = "x".repeat(SMALL_BODY + 1);
        let request = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        client_side.write_all(request.as_bytes()).await.unwrap();
        let mut client = Client::new(server_side);
        let slots = Arc::new(Semaphore::new(1));
        let outcome = client
            .next_request(limits().first_byte, &limits(), &slots)
            .await;
        let Outcome::Request(request) = outcome else {
            panic!("no request");
        };
        assert_eq!(slots.available_permits(), 0);
        drop(request);
        assert_eq!(slots.available_permits(), 1);
    }
}
