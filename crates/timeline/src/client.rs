//! A tiny HTTP/1.1 client for the collector's JSON API.
//!
//! One `GET` per connection (`Connection: close`) over a tokio `TcpStream`,
//! read to the end; the head and the body's framing (`Content-Length`,
//! chunked encoding or the close) are read with [`vnet_wire::http`]. The
//! endpoint is the same value as
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (`http://127.0.0.1:4318`); its host must be
//! an IP address (or `localhost`): vnet's binaries are static and do no DNS.

use crate::model::{ApiError, StoreStats, TraceData, TraceSummary};
use anyhow::{Context, bail};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use vnet_wire::http::{
    BodyFraming, ChunkedDecoder, HttpError, Method, Parse, parse_response_head, response_framing,
};

/// Time allowed for one request, connection to last byte.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response accepted.
pub const MAX_RESPONSE_BYTES: u64 = 256 << 20;

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The endpoint is not `http://IP:PORT[/path]`.
    #[error("invalid collector endpoint {url:?}: {reason} (expected e.g. http://127.0.0.1:4318)")]
    Endpoint {
        /// The endpoint as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The TCP connection failed.
    #[error("cannot connect to the trace collector at {addr}: {error}")]
    Connect {
        /// Collector address.
        addr: SocketAddr,
        /// The I/O error.
        error: std::io::Error,
    },
    /// Sending or receiving failed.
    #[error("talking to the trace collector at {addr}: {error}")]
    Io {
        /// Collector address.
        addr: SocketAddr,
        /// The I/O error.
        error: std::io::Error,
    },
    /// No complete answer within [`REQUEST_TIMEOUT`].
    #[error("the trace collector at {addr} did not answer within {REQUEST_TIMEOUT:?}")]
    Timeout {
        /// Collector address.
        addr: SocketAddr,
    },
    /// The answer is not a well-formed HTTP/1.x response.
    #[error("malformed HTTP response from {addr}: {reason}")]
    Malformed {
        /// Collector address.
        addr: SocketAddr,
        /// What is wrong with it.
        reason: ResponseError,
    },
}

/// What is wrong with a collector's HTTP/1.x response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// No blank line ends the head before the connection closed.
    #[error("the header section never ends (connection closed early?)")]
    HeadNeverEnds,
    /// The status line or a header field does not parse.
    #[error("bad response head: {0}")]
    Head(HttpError),
    /// The framing headers or the chunked coding are invalid.
    #[error("{0}")]
    Body(HttpError),
    /// Fewer body bytes than `Content-Length` said.
    #[error("body cut short: {got} of {expected} bytes (connection closed early)")]
    BodyCutShort {
        /// Bytes received.
        got: usize,
        /// `Content-Length`.
        expected: u64,
    },
    /// The last chunk never came.
    #[error("chunked body cut short (connection closed early)")]
    ChunkedCutShort,
    /// More than the client reads.
    #[error("response larger than {}", size_text(*.0))]
    TooLarge(u64),
}

/// `n` bytes as `N MiB` when a whole number of MiB or more, else bytes.
fn size_text(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// A parsed collector endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Address to connect to.
    pub addr: SocketAddr,
    /// Path prefix (empty, or starting with `/` without a trailing one).
    pub base_path: String,
}

impl Endpoint {
    /// Parses `http://IP[:PORT][/PATH]` (a trailing slash is fine; the port
    /// defaults to 80 as in any URL; `localhost` means 127.0.0.1).
    pub fn parse(url: &str) -> Result<Endpoint, ClientError> {
        let fail = |reason: &str| ClientError::Endpoint {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let trimmed = url.trim();
        let Some(rest) = trimmed.strip_prefix("http://") else {
            return Err(if trimmed.starts_with("https://") {
                fail("https is not supported; the collector speaks plain http")
            } else {
                fail("it must start with http://")
            });
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(fail("no host"));
        }
        let addr = if let Ok(addr) = authority.parse::<SocketAddr>() {
            addr
        } else {
            // No port: "127.0.0.1", "[::1]", "localhost"; or host:port with a name.
            let (host, port) = match authority.rsplit_once(':') {
                Some((h, p)) if !h.ends_with(':') && !p.contains(']') => {
                    let port = p.parse::<u16>().map_err(|_| fail("invalid port"))?;
                    (h, port)
                }
                _ => (authority, 80),
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let ip = if host.eq_ignore_ascii_case("localhost") {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            } else {
                host.parse::<IpAddr>().map_err(|_| ClientError::Endpoint {
                    url: url.to_string(),
                    reason: format!(
                        "{host:?} is a host name; give an IP address (vnet does no DNS lookups)"
                    ),
                })?
            };
            SocketAddr::new(ip, port)
        };
        Ok(Endpoint {
            addr,
            base_path: path.to_string(),
        })
    }
}

/// One HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header fields in order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` (appended to the endpoint's base path) with a
/// [`REQUEST_TIMEOUT`]; answers larger than [`MAX_RESPONSE_BYTES`] are
/// refused.
pub async fn get(endpoint: &Endpoint, path: &str) -> Result<HttpResponse, ClientError> {
    get_limited(endpoint, path, REQUEST_TIMEOUT, MAX_RESPONSE_BYTES).await
}

/// [`get`] with its time and size limits as arguments (tests use small ones).
async fn get_limited(
    endpoint: &Endpoint,
    path: &str,
    timeout: Duration,
    max_bytes: u64,
) -> Result<HttpResponse, ClientError> {
    let addr = endpoint.addr;
    match tokio::time::timeout(timeout, get_inner(endpoint, path, max_bytes)).await {
        Ok(result) => result,
        Err(_) => Err(ClientError::Timeout { addr }),
    }
}

async fn get_inner(
    endpoint: &Endpoint,
    path: &str,
    max_bytes: u64,
) -> Result<HttpResponse, ClientError> {
    let addr = endpoint.addr;
    let io = |error| ClientError::Io { addr, error };
    let mut stream = TcpStream::connect(addr)
        .await
        .map_err(|error| ClientError::Connect { addr, error })?;
    let request = format!(
        "GET {}{path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nUser-Agent: vnet-trace\r\nConnection: close\r\n\r\n",
        endpoint.base_path
    );
    stream.write_all(request.as_bytes()).await.map_err(io)?;
    let mut raw = Vec::new();
    (&mut stream)
        .take(max_bytes + 1)
        .read_to_end(&mut raw)
        .await
        .map_err(io)?;
    if raw.len() as u64 > max_bytes {
        return Err(ClientError::Malformed {
            addr,
            reason: ResponseError::TooLarge(max_bytes),
        });
    }
    parse_response_limited(&raw, max_bytes)
        .map_err(|reason| ClientError::Malformed { addr, reason })
}

/// Parses a complete HTTP/1.x response to a `GET` (everything up to the
/// close) with [`vnet_wire::http`]: the head with
/// [`parse_response_head`], the body as [`response_framing`] says
/// (RFC 9112 §6.3): `Content-Length` octets (bytes after them are
/// ignored), the chunked coding decoded with [`ChunkedDecoder`] (at most
/// [`MAX_RESPONSE_BYTES`]), or everything up to the close.
pub fn parse_response(raw: &[u8]) -> Result<HttpResponse, ResponseError> {
    parse_response_limited(raw, MAX_RESPONSE_BYTES)
}

fn parse_response_limited(raw: &[u8], max_bytes: u64) -> Result<HttpResponse, ResponseError> {
    let (head, len) = match parse_response_head(raw) {
        Ok(Parse::Complete { head, len }) => (head, len),
        Ok(Parse::Incomplete) => return Err(ResponseError::HeadNeverEnds),
        Err(e) => return Err(ResponseError::Head(e)),
    };
    let rest = &raw[len..];
    let body = match response_framing(&head, &Method::Get).map_err(ResponseError::Body)? {
        BodyFraming::None => Vec::new(),
        BodyFraming::ContentLength(length) => {
            let Some(body) = usize::try_from(length).ok().and_then(|n| rest.get(..n)) else {
                return Err(ResponseError::BodyCutShort {
                    got: rest.len(),
                    expected: length,
                });
            };
            body.to_vec()
        }
        BodyFraming::Chunked => {
            let mut decoder = ChunkedDecoder::new(max_bytes);
            let mut body = Vec::new();
            let progress = decoder
                .decode(rest, &mut body)
                .map_err(ResponseError::Body)?;
            if !progress.done {
                return Err(ResponseError::ChunkedCutShort);
            }
            body
        }
        BodyFraming::Close => rest.to_vec(),
    };
    let headers = head
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(&h.value).into_owned(),
            )
        })
        .collect();
    Ok(HttpResponse {
        status: head.status,
        headers,
        body,
    })
}

fn api_error(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ApiError>(body)
        .ok()
        .map(|e| e.error)
}

async fn get_json<T: DeserializeOwned>(endpoint: &str, path: &str) -> anyhow::Result<T> {
    let ep = Endpoint::parse(endpoint)?;
    let response = get(&ep, path).await?;
    interpret(endpoint, path, &response)
}

/// Turns an answer of the JSON API into `T` or a readable error.
fn interpret<T: DeserializeOwned>(
    endpoint: &str,
    path: &str,
    response: &HttpResponse,
) -> anyhow::Result<T> {
    match response.status {
        200 => serde_json::from_slice(&response.body).with_context(|| {
            format!("the collector at {endpoint} sent an unexpected answer to GET {path}")
        }),
        404 if api_error(&response.body).is_none() => bail!(
            "{endpoint} does not serve vnet's trace API (GET {path}: 404); is it a vnet collector?"
        ),
        status => match api_error(&response.body) {
            Some(error) => bail!("collector at {endpoint}: {error}"),
            None => bail!(
                "collector at {endpoint} answered {status} to GET {path}: {}",
                String::from_utf8_lossy(&response.body).trim()
            ),
        },
    }
}

/// Checks that the collector at `endpoint` answers `GET /health` with 200.
pub async fn health(endpoint: &str) -> anyhow::Result<()> {
    let ep = Endpoint::parse(endpoint)?;
    let response = get(&ep, "/health").await?;
    if response.status != 200 {
        bail!(
            "the collector at {endpoint} is not healthy: /health answered {}",
            response.status
        );
    }
    Ok(())
}

/// Summaries of every trace the collector holds, oldest first.
pub async fn list_traces(endpoint: &str) -> anyhow::Result<Vec<TraceSummary>> {
    get_json(endpoint, "/api/traces").await
}

/// The store's counters.
pub async fn stats(endpoint: &str) -> anyhow::Result<StoreStats> {
    get_json(endpoint, "/api/stats").await
}

/// One trace by id (32 hex digits) or `last`; `None` if the collector does
/// not hold it.
pub async fn fetch_trace(endpoint: &str, id: &str) -> anyhow::Result<Option<TraceData>> {
    if id != "last" && !crate::model::is_trace_id(id) {
        bail!("{id:?} is not a trace id: expected 32 hex digits or `last`");
    }
    let path = format!("/api/traces/{id}");
    let ep = Endpoint::parse(endpoint)?;
    let response = get(&ep, &path).await?;
    if response.status == 404 && api_error(&response.body).is_some() {
        return Ok(None);
    }
    interpret(endpoint, &path, &response).map(Some)
}

/// Polls trace `id` (or `last`) until its span count has not changed for
/// `settle`, or `max` has passed; returns the last answer (`None` if the
/// trace never appeared). With `last`, a newer trace restarts the settling.
pub async fn wait_for_trace(
    endpoint: &str,
    id: &str,
    settle: Duration,
    max: Duration,
) -> anyhow::Result<Option<TraceData>> {
    let started = Instant::now();
    let poll = (settle / 4).clamp(Duration::from_millis(20), Duration::from_millis(250));
    let mut last: Option<TraceData> = None;
    let mut stable_since = Instant::now();
    loop {
        let now_trace = fetch_trace(endpoint, id).await?;
        let key = |t: &Option<TraceData>| t.as_ref().map(|t| (t.trace_id.clone(), t.spans.len()));
        if key(&now_trace) != key(&last) {
            stable_since = Instant::now();
        }
        last = now_trace;
        if (last.is_some() && stable_since.elapsed() >= settle) || started.elapsed() >= max {
            return Ok(last);
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let ep = |s: &str| Endpoint::parse(s).map(|e| (e.addr.to_string(), e.base_path));
        assert_eq!(
            ep("http://127.0.0.1:4318").ok(),
            Some(("127.0.0.1:4318".into(), String::new()))
        );
        assert_eq!(
            ep("http://127.0.0.1:4318/").ok(),
            Some(("127.0.0.1:4318".into(), String::new()))
        );
        assert_eq!(
            ep("http://localhost:4318/otel/").ok(),
            Some(("127.0.0.1:4318".into(), "/otel".into()))
        );
        assert_eq!(
            ep("http://[::1]:9").ok(),
            Some(("[::1]:9".into(), String::new()))
        );
        assert_eq!(
            ep("http://[::1]").ok(),
            Some(("[::1]:80".into(), String::new()))
        );
        assert_eq!(
            ep("http://10.0.0.1").ok(),
            Some(("10.0.0.1:80".into(), String::new()))
        );
        let err = |s: &str| {
            Endpoint::parse(s)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err("http://jaeger:4318").contains("host name"));
        assert!(err("https://127.0.0.1:4318").contains("https"));
        assert!(err("127.0.0.1:4318").contains("http://"));
        assert!(err("http://127.0.0.1:99999").contains("port"));
        assert!(err("http://").contains("no host"));
    }

    #[test]
    fn responses() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX: y\r\n\r\nhiEXTRA")
            .expect("valid");
        assert_eq!(
            (r.status, r.body.as_slice(), r.header("x")),
            (200, &b"hi"[..], Some("y"))
        );
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\n\r\nclose-delimited").expect("valid");
        assert_eq!(
            (r.status, r.body.as_slice()),
            (404, &b"close-delimited"[..])
        );
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
        )
        .expect("valid");
        assert_eq!(r.body, b"abcde");
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_err());
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
        assert!(parse_response(b"SSH-2.0 hello\r\n\r\n").is_err());
        assert!(parse_response(b"HTTP/1.1 abc OK\r\n\r\n").is_err());
        assert!(
            parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").is_err()
        );
    }

    #[test]
    fn response_framing_follows_rfc_9112() {
        // Header names are lowercased, values trimmed; a bare LF ends a line.
        let r = parse_response(
            b"HTTP/1.1 200 OK\nContent-Type:  application/json \nContent-Length: 2\n\n{}",
        )
        .expect("valid");
        assert_eq!(
            r.headers,
            vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("content-length".to_string(), "2".to_string())
            ]
        );
        assert_eq!(r.body, b"{}");
        // No reason phrase; 204 and 304 have no body whatever follows.
        let r = parse_response(b"HTTP/1.1 204\r\n\r\nignored").expect("valid");
        assert_eq!((r.status, r.body.len()), (204, 0));
        let r =
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nextra").expect("valid");
        assert!(r.body.is_empty());
        // Chunked wins over Content-Length; trailers are skipped; bytes
        // after the last chunk are not body.
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\nX-Trailer: 1\r\n\r\nnext",
        )
        .expect("valid");
        assert_eq!(r.body, b"wxyz");
        // A transfer coding other than chunked: the body runs to the close.
        let r = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw")
            .expect("valid");
        assert_eq!(r.body, b"raw");
        let err = |raw: &[u8]| parse_response(raw).expect_err("malformed").to_string();
        assert!(
            err(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab")
                .contains("Content-Length")
        );
        assert!(err(b"HTTP/2.0 200 OK\r\n\r\n").contains("not supported"));
        assert!(
            err(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
                .contains("cut short")
        );
        assert!(err(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").contains("5 of 9 bytes"));
        assert!(err(b"HTTP/1.1 200 OK\r\nContent-Length: 2").contains("never ends"));
    }

    #[test]
    fn chunked_bodies_are_bounded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        assert_eq!(
            parse_response_limited(raw, 16).map(|r| r.body.len()),
            Ok(16)
        );
        let err = parse_response_limited(raw, 15).expect_err("over the limit");
        assert!(err.to_string().contains("larger than 15"), "{err}");
    }

    /// A one-shot server on loopback: reads the request head, answers
    /// `answer` (then waits `linger` before closing), and hands back the
    /// request it read.
    async fn serve_once(
        answer: Vec<u8>,
        linger: Duration,
    ) -> (Endpoint, tokio::task::JoinHandle<String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let task = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut request = Vec::new();
            let mut buf = [0u8; 1024];
            while !request.ends_with(b"\r\n\r\n") {
                let n = stream.read(&mut buf).await.expect("read");
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
            }
            // The peer may give up (timeout) before the answer is sent.
            let _ = stream.write_all(&answer).await;
            tokio::time::sleep(linger).await;
            String::from_utf8_lossy(&request).into_owned()
        });
        let endpoint = Endpoint::parse(&format!("http://{addr}/base/")).expect("endpoint");
        (endpoint, task)
    }

    #[tokio::test]
    async fn get_reads_chunked_and_close_delimited_answers() {
        let (ep, server) = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]\r\n0\r\n\r\n".to_vec(),
            Duration::ZERO,
        )
        .await;
        let r = get(&ep, "/api/traces").await.expect("answer");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"[]"[..]));
        let request = server.await.expect("server");
        assert!(
            request.starts_with("GET /base/api/traces HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(request.contains("\r\nConnection: close\r\n"), "{request}");

        let (ep, _server) = serve_once(
            b"HTTP/1.0 503 Service Unavailable\r\n\r\nbusy".to_vec(),
            Duration::ZERO,
        )
        .await;
        let r = get(&ep, "/health").await.expect("answer");
        assert_eq!((r.status, r.body.as_slice()), (503, &b"busy"[..]));
    }

    #[tokio::test]
    async fn oversized_answers_are_refused() {
        let mut answer = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        answer.extend_from_slice(&[b'x'; 200]);
        let (ep, _server) = serve_once(answer, Duration::ZERO).await;
        let err = get_limited(&ep, "/api/traces", REQUEST_TIMEOUT, 100)
            .await
            .expect_err("too large");
        assert!(err.to_string().contains("larger than 100 bytes"), "{err}");
        assert!(
            matches!(
                &err,
                ClientError::Malformed {
                    reason: ResponseError::TooLarge(100),
                    ..
                }
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_collector_that_never_closes_times_out() {
        // Close-delimited: the answer is not complete before the close.
        let (ep, _server) =
            serve_once(b"HTTP/1.1 200 OK\r\n\r\n[".to_vec(), Duration::from_secs(5)).await;
        let err = get_limited(
            &ep,
            "/api/traces",
            Duration::from_millis(200),
            MAX_RESPONSE_BYTES,
        )
        .await
        .expect_err("timeout");
        assert!(matches!(err, ClientError::Timeout { .. }), "{err}");
        assert!(err.to_string().contains("did not answer"), "{err}");
    }

    #[tokio::test]
    async fn connection_refused_is_a_clear_error() {
        // Bind then drop to get a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind");
        let err = list_traces(&format!("http://127.0.0.1:{port}"))
            .await
            .expect_err("nobody listens");
        assert!(
            format!("{err:#}").contains("cannot connect to the trace collector"),
            "{err:#}"
        );
    }
}
