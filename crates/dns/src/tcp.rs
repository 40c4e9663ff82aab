//! DNS over vnet TCP, client side (RFC 1035 §4.2.2, RFC 7766): one query
//! and its response on a fresh connection ([`exchange_tcp`]), or a zone
//! transfer's stream of messages ([`transfer`]). [`FrameReader`] reads
//! length-prefixed messages from any `AsyncRead`, for servers too.

use crate::resolver::UpstreamError;
use crate::transport::Exchange;
use std::io;
use std::net::SocketAddrV4;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};
use vnet_runtime::DeviceHandle;
use vnet_runtime::net::NetDevice;
use vnet_runtime::net_tcp::TcpStream;
use vnet_wire::dns::{
    DnsMessage, FrameError, MAX_TCP_MESSAGE, RecordData, RecordType, TcpFramer, frame,
};

/// Octets read from the stream at a time.
const READ_CHUNK: usize = 4096;
/// Most messages a zone transfer may take (each up to 64 KiB).
pub const MAX_TRANSFER_MESSAGES: usize = 1000;

/// Reads length-prefixed DNS messages (RFC 1035 §4.2.2) from a stream,
/// never holding more than one frame and one read chunk.
pub struct FrameReader<S> {
    stream: S,
    framer: TcpFramer,
    pending: Vec<u8>,
    at: usize,
}

impl<S: AsyncRead + Unpin> FrameReader<S> {
    /// Reads from `stream`, accepting messages of at most `max_len` octets.
    pub fn new(stream: S, max_len: usize) -> FrameReader<S> {
        FrameReader {
            stream,
            framer: TcpFramer::new(max_len),
            pending: Vec::new(),
            at: 0,
        }
    }

    /// The stream, to write responses on.
    pub fn stream(&mut self) -> &mut S {
        &mut self.stream
    }

    /// The next message; `Ok(None)` at a clean end of stream (between
    /// frames). A frame over the limit or a stream ending mid-frame is
    /// `InvalidData` / `UnexpectedEof`.
    pub async fn next(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            match self.framer.next_message() {
                Ok(Some(m)) => return Ok(Some(m)),
                Ok(None) => {}
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
            if self.at < self.pending.len() {
                self.at += self.framer.push(&self.pending[self.at..]);
                continue;
            }
            self.pending.clear();
            self.at = 0;
            self.pending.resize(READ_CHUNK, 0);
            let n = self.stream.read(&mut self.pending).await?;
            self.pending.truncate(n);
            if n == 0 {
                if self.framer.buffered() == 0 {
                    return Ok(None);
                }
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the stream ended in the middle of a DNS message",
                ));
            }
        }
    }
}

/// Writes `message` as one frame.
pub async fn write_message<S: AsyncWrite + Unpin>(
    stream: &mut S,
    message: &[u8],
) -> io::Result<()> {
    let bytes =
        frame(message).map_err(|e: FrameError| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    stream.write_all(&bytes).await
}

fn upstream_error(e: io::Error) -> UpstreamError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable => UpstreamError::Unreachable(e.to_string()),
        io::ErrorKind::TimedOut => UpstreamError::Timeout(Duration::ZERO),
        _ => UpstreamError::Socket(e.to_string()),
    }
}

/// The result of an I/O step under a deadline.
fn within<T>(
    timeout: Duration,
    r: Result<io::Result<T>, tokio::time::error::Elapsed>,
) -> Result<T, UpstreamError> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(upstream_error(e)),
        Err(_) => Err(UpstreamError::Timeout(timeout)),
    }
}

/// Connects to `server` within the deadline.
async fn connect<D: NetDevice>(
    handle: &DeviceHandle<D>,
    server: SocketAddrV4,
    deadline: Instant,
    timeout: Duration,
) -> Result<TcpStream<D>, UpstreamError> {
    match timeout_at(deadline, TcpStream::connect(handle, server)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => Err(upstream_error(e)),
        Err(_) => Err(UpstreamError::Timeout(timeout)),
    }
}

/// Sends `query` to `server` over a new TCP connection and waits up to
/// `timeout` (connection included) for the response with its ID and
/// question; other messages on the connection are skipped.
pub async fn exchange_tcp<D: NetDevice>(
    handle: &DeviceHandle<D>,
    server: SocketAddrV4,
    query: &DnsMessage,
    timeout: Duration,
) -> Result<Exchange, UpstreamError> {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut stream = connect(handle, server, deadline, timeout).await?;
    stream.set_nodelay(true);
    let bytes = query.emit(MAX_TCP_MESSAGE);
    within(
        timeout,
        timeout_at(deadline, write_message(&mut stream, &bytes)).await,
    )?;
    let mut reader = FrameReader::new(stream, MAX_TCP_MESSAGE);
    loop {
        let Some(payload) = within(timeout, timeout_at(deadline, reader.next()).await)? else {
            return Err(UpstreamError::Unreachable(
                "the server closed the connection without answering".into(),
            ));
        };
        let Ok(message) = DnsMessage::parse(&payload) else {
            continue;
        };
        let same_question = match (message.questions.first(), query.questions.first()) {
            (Some(a), Some(b)) => a == b,
            (None, _) => true,
            _ => false,
        };
        if message.header.qr && message.header.id == query.header.id && same_question {
            return Ok(Exchange {
                message,
                size: payload.len(),
                rtt: started.elapsed(),
            });
        }
    }
}

/// One message of a zone transfer and its size.
pub type TransferPart = (DnsMessage, usize);

/// A zone transfer (AXFR, RFC 5936 §2.2) from `server`: sends `query` over
/// TCP and collects messages until the zone's SOA has come a second time,
/// an error RCODE, or the end of stream; at most
/// [`MAX_TRANSFER_MESSAGES`], within `timeout` overall.
pub async fn transfer<D: NetDevice>(
    handle: &DeviceHandle<D>,
    server: SocketAddrV4,
    query: &DnsMessage,
    timeout: Duration,
) -> Result<Vec<TransferPart>, UpstreamError> {
    let deadline = Instant::now() + timeout;
    let mut stream = connect(handle, server, deadline, timeout).await?;
    within(
        timeout,
        timeout_at(
            deadline,
            write_message(&mut stream, &query.emit(MAX_TCP_MESSAGE)),
        )
        .await,
    )?;
    let mut reader = FrameReader::new(stream, MAX_TCP_MESSAGE);
    let mut parts = Vec::new();
    let mut soas = 0;
    while parts.len() < MAX_TRANSFER_MESSAGES {
        let Some(payload) = within(timeout, timeout_at(deadline, reader.next()).await)? else {
            break;
        };
        let message = DnsMessage::parse(&payload)
            .map_err(|e| UpstreamError::Socket(format!("malformed transfer message: {e}")))?;
        if message.header.id != query.header.id {
            continue;
        }
        soas += message
            .answers
            .iter()
            .filter(|r| matches!(r.data, RecordData::Soa { .. }))
            .count();
        let failed = message.header.rcode != vnet_wire::dns::Rcode::NoError;
        let first_without_soa =
            parts.is_empty() && message.answers.first().map(|r| r.rtype()) != Some(RecordType::Soa);
        parts.push((message, payload.len()));
        if failed || first_without_soa || soas >= 2 {
            break;
        }
    }
    Ok(parts)
}
