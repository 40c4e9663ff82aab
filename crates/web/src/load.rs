//! A tiny HTTP/1.1 load generator for benchmarks (`httpload` on a host,
//! `vnet bench http`): GETs one after another, each response read whole
//! before the next request goes out.
//!
//! * [`keepalive`]: requests over one persistent connection until the
//!   count is reached or the server ends the connection (a
//!   `Connection: close` response, e.g. at its per-connection limit);
//! * [`keepalive_total`]: [`keepalive`] over as many connections as the
//!   server's per-connection limit needs;
//! * [`keepalive_concurrent`]: [`keepalive_total`] on several
//!   connections at once (requests split evenly), like `wrk -c N`;
//! * [`connections`]: one new connection per request, with
//!   `Connection: close`, read until the server's FIN.
//!
//! Responses are framed by `Content-Length` ([`vnet_wire::http`]); a
//! response without a length is read until close, a chunked one is
//! refused. Any status but 200 is an error: a benchmark that measures 404s
//! measures the wrong thing. Generic over the stream and a
//! [`Connector`], so it runs over vnet TCP, kernel TCP or in-memory pipes.

use crate::browser::Connector;
use std::io;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout};
use vnet_wire::http::{
    BodyFraming, Method, Parse, keep_alive, parse_response_head, response_framing,
};

/// The `User-Agent` of the load generator.
pub const USER_AGENT: &str = "vnet-httpload/0.1";

/// Limit on each connect, write and read: a stalled peer fails the run
/// instead of hanging it.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

const READ_CHUNK: usize = 16 * 1024;

/// What a load run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoadResult {
    /// Requests answered (status 200, body read whole).
    pub requests: u64,
    /// Wall time from the first connect or write to the last byte read.
    pub elapsed: Duration,
    /// Response bytes received, heads and bodies.
    pub bytes: u64,
    /// Connections used.
    pub connections: u64,
}

impl LoadResult {
    /// Adds the counts of `other` (not its time) to these.
    fn absorb(&mut self, other: &LoadResult) {
        self.requests += other.requests;
        self.bytes += other.bytes;
        self.connections += other.connections;
    }

    /// Requests per second (0 when nothing was timed).
    pub fn per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.requests as f64 / secs
        } else {
            0.0
        }
    }
}

/// Where the load goes: a server and the resource asked for.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The server's address.
    pub addr: Ipv4Addr,
    /// Its TCP port.
    pub port: u16,
    /// The `Host` header value.
    pub host: &'a str,
    /// The request-target (path and query).
    pub path: &'a str,
}

/// The request head for `path` on `host`.
pub fn request(host: &str, path: &str, close: bool) -> Vec<u8> {
    let connection = if close { "close" } else { "keep-alive" };
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\nConnection: {connection}\r\n\r\n"
    )
    .into_bytes()
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

async fn step<T>(f: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    timeout(STEP_TIMEOUT, f)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no progress in 30 s"))?
}

/// One response read from a connection.
struct Response {
    /// Bytes it occupied on the wire.
    len: u64,
    /// Whether the connection stays open after it.
    persistent: bool,
}

/// Reads one whole response; `buf` carries bytes read past it to the next;
/// `chunk` is scratch space for reads (kept by the caller: one per
/// connection, not one per response).
async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    chunk: &mut [u8],
) -> io::Result<Response> {
    let (head, head_len) = loop {
        match parse_response_head(buf).map_err(|e| invalid(format!("response head: {e}")))? {
            Parse::Complete { head, len } => break (head, len),
            Parse::Incomplete => {
                let n = step(stream.read(chunk)).await?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed before a whole response head",
                    ));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    };
    if head.status != 200 {
        return Err(invalid(format!("status {} {}", head.status, head.reason)));
    }
    let framing = response_framing(&head, &Method::Get)
        .map_err(|e| invalid(format!("response framing: {e}")))?;
    let mut persistent = keep_alive(head.version, &head.headers);
    let total = match framing {
        BodyFraming::None => head_len,
        BodyFraming::ContentLength(n) => {
            let n = usize::try_from(n).map_err(|_| invalid("Content-Length too large"))?;
            let total = head_len
                .checked_add(n)
                .ok_or_else(|| invalid("Content-Length too large"))?;
            while buf.len() < total {
                let n = step(stream.read(chunk)).await?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "connection closed inside a body",
                    ));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            total
        }
        BodyFraming::Close => {
            loop {
                let n = step(stream.read(chunk)).await?;
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            persistent = false;
            buf.len()
        }
        BodyFraming::Chunked => return Err(invalid("chunked responses are not supported")),
    };
    buf.drain(..total);
    Ok(Response {
        len: total as u64,
        persistent,
    })
}

/// Sends up to `requests` GETs for `path` one after another on `stream`
/// (HTTP/1.1 keep-alive), reading each response whole before the next.
/// Stops early, without error, when a response ends the connection
/// (`Connection: close`): [`LoadResult::requests`] says how many were
/// answered.
pub async fn keepalive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    host: &str,
    path: &str,
    requests: u64,
) -> io::Result<LoadResult> {
    keepalive_counted(stream, host, path, requests, &AtomicU64::new(0)).await
}

/// [`keepalive`], adding 1 to `done` as each response arrives (for
/// progress reports while the load runs).
pub async fn keepalive_counted<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    host: &str,
    path: &str,
    requests: u64,
    done: &AtomicU64,
) -> io::Result<LoadResult> {
    let req = request(host, path, false);
    let mut buf = Vec::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut result = LoadResult {
        connections: 1,
        ..LoadResult::default()
    };
    let started = Instant::now();
    while result.requests < requests {
        step(stream.write_all(&req)).await?;
        // A TLS stream holds its records until flushed.
        step(stream.flush()).await?;
        let response = read_response(&mut stream, &mut buf, &mut chunk).await?;
        result.requests += 1;
        done.fetch_add(1, Ordering::Relaxed);
        result.bytes += response.len;
        if !response.persistent {
            break;
        }
    }
    result.elapsed = started.elapsed();
    Ok(result)
}

/// [`keepalive`] until `requests` are answered, opening another
/// connection through `c` whenever the server ends one (its
/// per-connection request limit). The time includes those connects.
pub async fn keepalive_total<C: Connector>(
    c: &C,
    to: &Target<'_>,
    requests: u64,
) -> io::Result<LoadResult> {
    keepalive_total_counted(c, to, requests, &AtomicU64::new(0)).await
}

async fn keepalive_total_counted<C: Connector>(
    c: &C,
    to: &Target<'_>,
    requests: u64,
    done: &AtomicU64,
) -> io::Result<LoadResult> {
    let mut total = LoadResult::default();
    let started = Instant::now();
    while total.requests < requests {
        let stream = step(c.connect(to.addr, to.port)).await?;
        let r =
            keepalive_counted(stream, to.host, to.path, requests - total.requests, done).await?;
        if r.requests == 0 {
            return Err(invalid("the server answered no request"));
        }
        total.absorb(&r);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// [`keepalive_total`] on `concurrency` connections at once, `requests`
/// split evenly between them; each connection still waits for a whole
/// response before its next request. The time is the wall time until the
/// last connection is done.
pub async fn keepalive_concurrent<C: Connector>(
    c: &C,
    to: &Target<'_>,
    requests: u64,
    concurrency: u64,
) -> io::Result<LoadResult> {
    keepalive_concurrent_counted(c, to, requests, concurrency, &AtomicU64::new(0)).await
}

/// [`keepalive_concurrent`], adding 1 to `done` as each response arrives.
pub async fn keepalive_concurrent_counted<C: Connector>(
    c: &C,
    to: &Target<'_>,
    requests: u64,
    concurrency: u64,
    done: &AtomicU64,
) -> io::Result<LoadResult> {
    let concurrency = concurrency.clamp(1, requests.max(1));
    let started = Instant::now();
    let runs = (0..concurrency).map(|i| {
        // The first `requests % concurrency` connections take one more.
        let share = requests / concurrency + u64::from(i < requests % concurrency);
        keepalive_total_counted(c, to, share, done)
    });
    let mut total = LoadResult::default();
    for r in futures_util::future::join_all(runs).await {
        total.absorb(&r?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Opens `count` connections through `c` one after another, each for one
/// GET with `Connection: close`, reading the response and then until the
/// server closes, before the next.
pub async fn connections<C: Connector>(
    c: &C,
    to: &Target<'_>,
    count: u64,
) -> io::Result<LoadResult> {
    connections_counted(c, to, count, &AtomicU64::new(0)).await
}

/// [`connections`], adding 1 to `done` as each connection is done.
pub async fn connections_counted<C: Connector>(
    c: &C,
    to: &Target<'_>,
    count: u64,
    done: &AtomicU64,
) -> io::Result<LoadResult> {
    let req = request(to.host, to.path, true);
    let mut buf = Vec::with_capacity(READ_CHUNK);
    let mut chunk = vec![0u8; READ_CHUNK];
    let mut result = LoadResult::default();
    let started = Instant::now();
    while result.requests < count {
        let mut stream = step(c.connect(to.addr, to.port)).await?;
        result.connections += 1;
        step(stream.write_all(&req)).await?;
        // A TLS stream holds its records until flushed.
        step(stream.flush()).await?;
        buf.clear();
        let response = read_response(&mut stream, &mut buf, &mut chunk).await?;
        // Wait for the server's FIN so the close is part of the measurement.
        while step(stream.read(&mut chunk)).await? > 0 {}
        result.requests += 1;
        done.fetch_add(1, Ordering::Relaxed);
        result.bytes += response.len;
    }
    result.elapsed = started.elapsed();
    Ok(result)
}
