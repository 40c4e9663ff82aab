//! One client-side HTTP/1.1 connection: send a request, read the response
//! framed by Content-Length, chunked coding or connection close (RFC 9112
//! §6.3), remember whether the connection persists (§9.3).

use crate::browser::{PROGRESS_EVERY, Progress};
use std::io;
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout};
use vnet_wire::http::{
    BodyFraming, ChunkedDecoder, HttpError, Method, Parse, ResponseHead, keep_alive,
    parse_response_head, response_framing,
};

const READ_CHUNK: usize = 16 * 1024;

/// A response and how it came.
#[derive(Debug)]
pub(crate) struct Exchange {
    pub head: ResponseHead,
    pub body: Vec<u8>,
    /// From the request written to the first response byte.
    pub first_byte: Duration,
    /// From the first response byte to the end of the body.
    pub download: Duration,
    /// Whether the connection can carry another request.
    pub persistent: bool,
}

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ExchangeError {
    /// Writing the request failed, or the connection ended before any
    /// response byte: on a reused connection the server probably closed it
    /// while idle, and an idempotent request may be retried (RFC 9112
    /// §9.3.1).
    #[error("the connection closed before a response: {0}")]
    NoResponse(String),
    /// No progress within the timeout.
    #[error("timed out after {0:?} waiting for the server")]
    Timeout(Duration),
    /// The connection ended in the middle of a response.
    #[error("the connection closed in the middle of the response")]
    Truncated,
    /// The response is not valid HTTP/1.1.
    #[error("invalid response: {0}")]
    Protocol(HttpError),
    /// The body is larger than allowed.
    #[error("the response body is larger than {0} bytes")]
    TooLarge(u64),
}

impl ExchangeError {
    pub fn retryable(&self) -> bool {
        matches!(self, ExchangeError::NoResponse(_))
    }
}

/// A client connection to one server address and port.
pub(crate) struct ClientConn<S> {
    pub id: usize,
    pub addr: Ipv4Addr,
    pub port: u16,
    /// The TLS server name, for an https connection.
    pub server_name: Option<String>,
    stream: S,
    buf: Vec<u8>,
}

/// Reports a body's progress at most every [`PROGRESS_EVERY`].
struct Reporter<'a> {
    progress: Option<&'a Progress>,
    total: Option<u64>,
    last: Instant,
}

impl Reporter<'_> {
    fn report(&mut self, done: usize) {
        if let Some(p) = self.progress
            && self.last.elapsed() >= PROGRESS_EVERY
        {
            self.last = Instant::now();
            (p.0)(done as u64, self.total);
        }
    }
}

enum Fill {
    Data,
    Eof,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ClientConn<S> {
    pub fn new(id: usize, addr: Ipv4Addr, port: u16, stream: S) -> ClientConn<S> {
        ClientConn {
            id,
            addr,
            port,
            server_name: None,
            stream,
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self, wait: Duration) -> Result<Fill, ExchangeError> {
        self.buf.reserve(READ_CHUNK);
        let mut limited = (&mut self.stream).take(READ_CHUNK as u64);
        match timeout(wait, limited.read_buf(&mut self.buf)).await {
            Err(_) => Err(ExchangeError::Timeout(wait)),
            Ok(Ok(0)) => Ok(Fill::Eof),
            Ok(Ok(_)) => Ok(Fill::Data),
            Ok(Err(e)) => Err(ExchangeError::NoResponse(e.to_string())),
        }
    }

    /// Sends `request` (a complete head, no body) and reads the response
    /// to a `method` request, with `wait` as the limit for each step and
    /// `max_body` on the body; the body's download reports to `progress`.
    pub async fn exchange(
        &mut self,
        request: &[u8],
        method: &Method,
        wait: Duration,
        max_body: u64,
        progress: Option<&Progress>,
    ) -> Result<Exchange, ExchangeError> {
        let sending = async {
            self.stream.write_all(request).await?;
            // A TLS stream holds its records until flushed.
            self.stream.flush().await
        };
        match timeout(wait, sending).await {
            Err(_) => return Err(ExchangeError::Timeout(wait)),
            Ok(Err(e)) => return Err(ExchangeError::NoResponse(e.to_string())),
            Ok(Ok(())) => {}
        }
        let sent = Instant::now();
        let mut first: Option<Instant> = (!self.buf.is_empty()).then_some(sent);
        let head = loop {
            if !self.buf.is_empty() {
                match parse_response_head(&self.buf).map_err(ExchangeError::Protocol)? {
                    // Interim responses (100 Continue, 103 Early Hints) precede the
                    // final one (RFC 9110 §15.2); 101 would switch protocols.
                    Parse::Complete { head, len }
                        if (100..200).contains(&head.status) && head.status != 101 =>
                    {
                        self.buf.drain(..len);
                        continue;
                    }
                    Parse::Complete { head, len } => {
                        self.buf.drain(..len);
                        break head;
                    }
                    Parse::Incomplete => {}
                }
            }
            match self.fill(wait).await {
                Ok(Fill::Data) => {
                    first.get_or_insert_with(Instant::now);
                }
                Ok(Fill::Eof) if first.is_none() => {
                    return Err(ExchangeError::NoResponse("end of stream".into()));
                }
                Ok(Fill::Eof) => return Err(ExchangeError::Truncated),
                Err(ExchangeError::NoResponse(_)) if first.is_some() => {
                    return Err(ExchangeError::Truncated);
                }
                Err(e) => return Err(e),
            }
        };
        let first = first.unwrap_or(sent);
        let framing = response_framing(&head, method).map_err(ExchangeError::Protocol)?;
        let mut reporter = Reporter {
            progress,
            total: match framing {
                BodyFraming::ContentLength(n) => Some(n),
                _ => None,
            },
            last: Instant::now(),
        };
        let body = self.body(framing, wait, max_body, &mut reporter).await?;
        let persistent = framing != BodyFraming::Close && keep_alive(head.version, &head.headers);
        Ok(Exchange {
            head,
            body,
            first_byte: first.duration_since(sent),
            download: first.elapsed(),
            persistent,
        })
    }

    async fn body(
        &mut self,
        framing: BodyFraming,
        wait: Duration,
        max: u64,
        reporter: &mut Reporter<'_>,
    ) -> Result<Vec<u8>, ExchangeError> {
        match framing {
            BodyFraming::None => Ok(Vec::new()),
            BodyFraming::ContentLength(n) => {
                if n > max {
                    return Err(ExchangeError::TooLarge(max));
                }
                let n = n as usize;
                while self.buf.len() < n {
                    reporter.report(self.buf.len());
                    match self.fill(wait).await {
                        Ok(Fill::Data) => {}
                        Ok(Fill::Eof) | Err(ExchangeError::NoResponse(_)) => {
                            return Err(ExchangeError::Truncated);
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(self.buf.drain(..n).collect())
            }
            BodyFraming::Chunked => {
                let mut dec = ChunkedDecoder::new(max);
                let mut out = Vec::new();
                loop {
                    let p = dec.decode(&self.buf, &mut out).map_err(|e| match e {
                        HttpError::BodyTooLarge { limit } => ExchangeError::TooLarge(limit),
                        e => ExchangeError::Protocol(e),
                    })?;
                    self.buf.drain(..p.consumed);
                    if p.done {
                        return Ok(out);
                    }
                    reporter.report(out.len());
                    match self.fill(wait).await {
                        Ok(Fill::Data) => {}
                        Ok(Fill::Eof) | Err(ExchangeError::NoResponse(_)) => {
                            return Err(ExchangeError::Truncated);
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
            BodyFraming::Close => loop {
                if self.buf.len() as u64 > max {
                    return Err(ExchangeError::TooLarge(max));
                }
                reporter.report(self.buf.len());
                match self.fill(wait).await {
                    Ok(Fill::Data) => {}
                    Ok(Fill::Eof) => return Ok(std::mem::take(&mut self.buf)),
                    Err(ExchangeError::NoResponse(_)) => return Err(ExchangeError::Truncated),
                    Err(e) => return Err(e),
                }
            },
        }
    }

    /// Closes the connection (FIN), best effort.
    pub async fn close(mut self, wait: Duration) {
        let _ = timeout(wait, self.stream.shutdown()).await;
    }
}

/// Maps a connect error to text for the report.
pub(crate) fn connect_error(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            "connection refused (RST: nothing listens there)".into()
        }
        io::ErrorKind::TimedOut => "connection timed out".into(),
        _ => e.to_string(),
    }
}
