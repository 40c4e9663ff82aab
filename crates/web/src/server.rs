//! The HTTP/1.1 server (RFC 9112) over any byte stream: vnet's own TCP in
//! the device, `tokio::io::duplex` in tests.
//!
//! One call of [`Server::serve_connection`] serves one connection until it
//! ends:
//!
//! * **GET and HEAD** serve files under the document root ([`crate::files`]
//!   guards against escapes): `index.html` for a directory, 301 to the
//!   slash form for a directory named without its trailing slash,
//!   `Content-Type` by extension, `Content-Length`, `Date` (RFC 9110
//!   §6.6.1), `Server: vnet-web`, `Last-Modified`, a strong `ETag` and
//!   `Accept-Ranges: bytes`; conditional requests (304, 412) and single
//!   byte ranges (206, 416) as [`crate::conditional`] decides. HEAD sends
//!   the same header fields and no body (RFC 9110 §9.3.2).
//! * **OPTIONS** (RFC 9110 §9.3.7): `OPTIONS *` answers 200 with the
//!   server's methods in `Allow`, `OPTIONS /path` 204 with the path's.
//! * **`POST /echo`** answers with the request body (Content-Length or
//!   chunked, at most [`ServerConfig::max_body`], else 413), sending
//!   `100 Continue` first when asked to (RFC 9110 §10.1.1).
//! * **Errors** 400, 403, 404, 405 (a known method not allowed, with
//!   `Allow`), 408, 412, 413, 414, 416, 431, 501 (an unknown method:
//!   method names are case-sensitive, so `get` too, RFC 9110 §9.1), 505
//!   carry a small HTML body. After a 4xx/5xx for a malformed or
//!   oversized request, or when a request body was not read, the
//!   connection is closed (RFC 9112 §6.3, §9.6).
//! * **Persistence** (RFC 9112 §9.3): HTTP/1.1 stays open unless
//!   `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`;
//!   pipelined requests are answered in order; an idle connection is closed
//!   after [`ServerConfig::idle_timeout`] and every connection after
//!   [`ServerConfig::max_requests_per_connection`] requests (the last
//!   response says `Connection: close`, §9.6). A request head must arrive
//!   whole within [`ServerConfig::head_timeout`] (10 s) of its first byte
//!   — the connection's first byte, or the end of the previous response
//!   when the next request was already pipelined — and the whole request
//!   within [`ServerConfig::request_timeout`] (408 and close after, like
//!   Apache's `mod_reqtimeout` or nginx's `client_header_timeout`); each
//!   write must progress within the request timeout, so a slow peer cannot
//!   pin a connection forever.
//! * **Slots** ([`crate::admission`]): at most
//!   [`ServerConfig::max_connections`] connections at once, at most
//!   [`ServerConfig::max_connections_per_client`] from one address; when
//!   all are taken, the connection waiting longest (idle, or reading an
//!   incomplete head) is closed to make room, never one that is handling
//!   a request. [`Server::admit`] takes a slot, [`Server::serve_admitted`]
//!   serves in it; [`Server::serve_connection`] does both.
//! * Each response is logged once in Common Log Format (target
//!   `vnet_web::access`), and counted in [`WebCounters`].

mod echo;

pub use crate::access_log::access_log_line;
use crate::admission::Slots;
pub use crate::admission::{ConnectionSlot, Refusal};
use crate::conditional::Validators;
use crate::counters::{WebCounters, add, bump};
use crate::file_cache::{CachedFile, FileCache, Stamp};
use crate::files::{self, Resolved};
use crate::response::{
    Body, Response, error_page, not_allowed, open, options, refused_page, representation,
};
use std::io;
use std::net::SocketAddrV4;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, timeout_at};
use tracing::Instrument;
use vnet_topology::device::WebConfig;
use vnet_wire::http::{
    BodyFraming, HttpError, Limits, Method, Parse, RequestHead, ResponseHead, Version, date,
    keep_alive, parse_request_head_with, request_framing,
};
use vnet_wire::trace::TraceContext;

/// The `Server` header value (RFC 9110 §10.2.4).
pub const SERVER_NAME: &str = "vnet-web";
/// The path that echoes POSTed bodies.
pub const ECHO_PATH: &str = "/echo";
/// The methods of the server as a whole (`OPTIONS *`).
pub const ALLOW_SERVER: &str = "GET, HEAD, POST, OPTIONS";
/// The methods of a file or directory.
pub const ALLOW_FILES: &str = "GET, HEAD, OPTIONS";
/// The methods of [`ECHO_PATH`].
pub const ALLOW_ECHO: &str = "POST, OPTIONS";

/// `route`'s answer for `POST /echo`, which reads the body.
struct Echo;
/// Default limit on a request body (`POST /echo`): 1 MiB.
pub const DEFAULT_MAX_BODY: u64 = 1 << 20;
/// Default time a started request has to arrive whole.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a request head has from its first byte (as Apache's
/// `mod_reqtimeout` and nginx's `client_header_timeout` bound it; not a
/// topology setting).
pub const DEFAULT_HEAD_TIMEOUT: Duration = Duration::from_secs(10);

const READ_CHUNK: usize = 16 * 1024;
const FILE_CHUNK: usize = 64 * 1024;
/// Writes are timed per piece of this size.
const WRITE_PIECE: usize = 16 * 1024;
/// Longest lingering close after an error response.
const LINGER_TIME: Duration = Duration::from_secs(2);
/// Most bytes discarded in a lingering close.
const LINGER_BYTES: usize = 4 << 20;

/// How a server behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// The document root, canonical (symlinks resolved).
    pub root: PathBuf,
    /// How long an idle persistent connection stays open.
    pub idle_timeout: Duration,
    /// How long a request has from its first byte to its last, and a
    /// response write to progress.
    pub request_timeout: Duration,
    /// How long a request head has from its first byte (408 after); at
    /// most `request_timeout` counts.
    pub head_timeout: Duration,
    /// Connections served at once ([`crate::admission`]).
    pub max_connections: usize,
    /// Connections served at once for one client address.
    pub max_connections_per_client: usize,
    /// Requests answered on one connection before it is closed.
    pub max_requests_per_connection: u32,
    /// Largest request body accepted (413 beyond).
    pub max_body: u64,
    /// Request-line and header limits (414, 431).
    pub limits: Limits,
}

impl ServerConfig {
    /// Defaults for `root` (15 s idle, 100 requests per connection, as in
    /// the topology's defaults; 10 s for a head, 30 s for a request, 256
    /// connections, 64 per client), which must be an existing directory.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<ServerConfig> {
        let root = root.into();
        let canonical = std::fs::canonicalize(&root).map_err(|e| {
            io::Error::new(e.kind(), format!("document root {}: {e}", root.display()))
        })?;
        if !canonical.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("document root {} is not a directory", root.display()),
            ));
        }
        Ok(ServerConfig {
            root: canonical,
            idle_timeout: Duration::from_secs(15),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            head_timeout: DEFAULT_HEAD_TIMEOUT,
            max_connections: crate::service::MAX_CONNECTIONS,
            max_connections_per_client: crate::service::MAX_CONNECTIONS_PER_CLIENT,
            max_requests_per_connection: 100,
            max_body: DEFAULT_MAX_BODY,
            limits: Limits::default(),
        })
    }

    /// The settings of a web device.
    pub fn from_web_config(web: &WebConfig) -> io::Result<ServerConfig> {
        let mut c = ServerConfig::new(&web.root)?;
        c.idle_timeout = Duration::from_secs(web.idle_timeout_secs);
        c.max_requests_per_connection = web.max_requests_per_connection.max(1);
        Ok(c)
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed it (or it broke) between requests.
    PeerClosed,
    /// No request within the idle timeout.
    IdleTimeout,
    /// A request did not arrive whole in time (408 sent).
    RequestTimeout,
    /// Non-persistent by the rules of RFC 9112 §9.3 (`Connection: close`,
    /// HTTP/1.0 without keep-alive).
    NotPersistent,
    /// The per-connection request limit was reached.
    MaxRequests,
    /// A request could not be answered and kept in sync (the status sent).
    Error(u16),
    /// Reading or writing failed.
    Io,
    /// Closed while waiting, to make room for a new connection.
    Evicted,
    /// Never served: no slot for it.
    Refused(Refusal),
}

/// What happened on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSummary {
    /// Requests answered.
    pub requests: u32,
    /// Octets written.
    pub bytes_sent: u64,
    /// Why it ended.
    pub reason: CloseReason,
}

/// An HTTP server: configuration and counters, shared by every connection.
#[derive(Debug, Clone)]
pub struct Server {
    config: Arc<ServerConfig>,
    counters: Arc<WebCounters>,
    files: Arc<Mutex<FileCache>>,
    slots: Arc<Slots>,
}

enum ReadHead {
    Head(RequestHead, Instant),
    Closed,
    IdleTimeout,
    RequestTimeout,
    Invalid(HttpError),
    Io,
    Evicted,
}

enum BodyError {
    Http(HttpError),
    Timeout,
    Closed,
}

/// One connection being served.
struct Conn<'a, S> {
    server: &'a Server,
    /// The trace span of the latest request's frames, if traced.
    trace: &'a (dyn Fn() -> Option<TraceContext> + Send + Sync),
    stream: S,
    slot: &'a ConnectionSlot,
    buf: Vec<u8>,
    peer: Option<SocketAddrV4>,
    served: u32,
    sent: u64,
}

fn unix_now() -> u64 {
    // Virtual in a simulation, so replies replay exactly.
    vnet_runtime::wall_now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Server {
    /// A server with fresh counters.
    pub fn new(config: ServerConfig) -> Server {
        Server::with_counters(config, Arc::new(WebCounters::default()))
    }

    /// A server counting into `counters`.
    pub fn with_counters(config: ServerConfig, counters: Arc<WebCounters>) -> Server {
        Server {
            config: Arc::new(config),
            counters,
            files: Arc::default(),
            slots: Arc::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &Arc<WebCounters> {
        &self.counters
    }

    fn lock_files(&self) -> std::sync::MutexGuard<'_, FileCache> {
        self.files.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections holding a slot now (evicted ones no longer count).
    pub fn slots_taken(&self) -> usize {
        self.slots.taken()
    }

    /// Takes a slot for a new connection from `peer`, evicting the
    /// longest-waiting connection if all are taken; counted when refused
    /// (`connections_refused`, `refused_per_client`) or when another was
    /// evicted (`evicted_idle`).
    pub fn admit(&self, peer: Option<SocketAddrV4>) -> Result<ConnectionSlot, Refusal> {
        let c = &self.config;
        match self.slots.admit(
            peer.map(|p| *p.ip()),
            c.max_connections.max(1),
            c.max_connections_per_client.max(1),
        ) {
            Ok(a) => {
                if a.evicted {
                    bump(&self.counters.evicted_idle);
                }
                Ok(a.slot)
            }
            Err(r) => {
                bump(match r {
                    Refusal::Full => &self.counters.connections_refused,
                    Refusal::PerClient => &self.counters.refused_per_client,
                });
                Err(r)
            }
        }
    }

    /// Serves one connection until it closes; `peer` is for the access log
    /// and the per-client cap. The stream is shut down (FIN) at the end;
    /// without a slot ([`Server::admit`]) it is dropped unserved.
    pub async fn serve_connection<S>(
        &self,
        stream: S,
        peer: Option<SocketAddrV4>,
    ) -> ConnectionSummary
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        self.serve_connection_traced(stream, peer, &|| None).await
    }

    /// [`Server::serve_connection`] with `trace` telling which trace span
    /// the latest request's frames belong to: each request's span is its
    /// child, and the response's frames continue that trace.
    pub async fn serve_connection_traced<S>(
        &self,
        stream: S,
        peer: Option<SocketAddrV4>,
        trace: &(dyn Fn() -> Option<TraceContext> + Send + Sync),
    ) -> ConnectionSummary
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        match self.admit(peer) {
            Ok(slot) => self.serve_admitted(slot, stream, peer, trace).await,
            Err(r) => ConnectionSummary {
                requests: 0,
                bytes_sent: 0,
                reason: CloseReason::Refused(r),
            },
        }
    }

    /// Serves one connection in the `slot` [`Server::admit`] gave it, as
    /// [`Server::serve_connection_traced`] does.
    pub async fn serve_admitted<S>(
        &self,
        slot: ConnectionSlot,
        stream: S,
        peer: Option<SocketAddrV4>,
        trace: &(dyn Fn() -> Option<TraceContext> + Send + Sync),
    ) -> ConnectionSummary
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        bump(&self.counters.connections_accepted);
        let guard = self.counters.open(peer);
        let mut conn = Conn {
            server: self,
            trace,
            stream,
            slot: &slot,
            buf: Vec::with_capacity(READ_CHUNK),
            peer,
            served: 0,
            sent: 0,
        };
        let reason = conn.run(&guard).await;
        // Best effort: the peer may already be gone.
        let _ = timeout_at(
            Instant::now() + self.config.request_timeout,
            conn.stream.shutdown(),
        )
        .await;
        if matches!(reason, CloseReason::Error(_) | CloseReason::RequestTimeout) {
            conn.linger().await;
        }
        tracing::debug!(requests = conn.served, bytes_sent = conn.sent, reason = ?reason, "connection closed");
        ConnectionSummary {
            requests: conn.served,
            bytes_sent: conn.sent,
            reason,
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<'_, S> {
    fn config(&self) -> &ServerConfig {
        &self.server.config
    }

    async fn run(&mut self, guard: &crate::counters::OpenGuard<'_>) -> CloseReason {
        loop {
            let (head, deadline) = match self.read_head().await {
                ReadHead::Head(h, d) => (h, d),
                ReadHead::Closed => return CloseReason::PeerClosed,
                ReadHead::Io => return CloseReason::Io,
                ReadHead::Evicted => return CloseReason::Evicted,
                ReadHead::IdleTimeout => {
                    bump(&self.server.counters.idle_timeouts);
                    return CloseReason::IdleTimeout;
                }
                ReadHead::RequestTimeout => {
                    bump(&self.server.counters.head_timeouts);
                    let mut r = error_page(408, "The request did not arrive in time.");
                    r.close = true;
                    self.respond(None, r).await;
                    return CloseReason::RequestTimeout;
                }
                ReadHead::Invalid(e) => {
                    bump(&self.server.counters.requests);
                    tracing::debug!(error = %e, status = e.status(), "invalid request");
                    let mut r = error_page(e.status(), &e.to_string());
                    r.close = true;
                    self.respond(None, r).await;
                    return CloseReason::Error(e.status());
                }
            };
            bump(&self.server.counters.requests);
            self.served += 1;
            guard.request(&format!("{} {}", head.method, head.target));
            let span = vnet_telemetry::continue_remote((self.trace)(), || {
                vnet_telemetry::app_span!(
                    "http.server",
                    proto = "http",
                    layer = "L7",
                    summary = format!("serve {} {}", head.method, head.target),
                    http.method = %head.method,
                    http.target = %head.target,
                    http.status = tracing::field::Empty,
                    http.bytes = tracing::field::Empty,
                )
            });
            let mut response = self.handle(&head, deadline).instrument(span.clone()).await;
            let forced = response.close;
            let persistent = keep_alive(head.version, &head.headers);
            let last = self.served >= self.config().max_requests_per_connection;
            let status = response.head.status;
            response.close |= !persistent || last;
            let close = response.close;
            span.record("http.status", status);
            let sent_before = self.sent;
            let responded = self
                .respond(Some(&head), response)
                .instrument(span.clone())
                .await;
            span.record("http.bytes", self.sent - sent_before);
            drop(span);
            if !responded {
                return CloseReason::Io;
            }
            if close {
                return if forced {
                    CloseReason::Error(status)
                } else if !persistent {
                    CloseReason::NotPersistent
                } else {
                    CloseReason::MaxRequests
                };
            }
        }
    }

    /// Lingering close (RFC 9112 §9.6): after an error response the client
    /// may still be sending a request body. Closing with unread data makes
    /// a TCP stack send RST, which can destroy the response before the
    /// client reads it; so, with the write side already shut, read and
    /// discard until the client closes, for at most [`LINGER_TIME`] and
    /// [`LINGER_BYTES`]. The connection is evictable meanwhile.
    async fn linger(&mut self) {
        let deadline = Instant::now() + LINGER_TIME;
        let mut discarded = 0usize;
        let mut sink = vec![0u8; READ_CHUNK];
        let slot = self.slot;
        slot.waiting();
        while discarded < LINGER_BYTES {
            let read = tokio::select! {
                r = timeout_at(deadline, self.stream.read(&mut sink)) => r,
                () = slot.evicted() => break,
            };
            match read {
                Ok(Ok(n)) if n > 0 => discarded += n,
                _ => break,
            }
        }
        self.buf.clear();
    }

    /// Reads more bytes into the buffer before `deadline`.
    async fn fill(&mut self, deadline: Instant) -> Result<usize, BodyError> {
        // At most READ_CHUNK more bytes: the buffer stays bounded by the
        // head limits (the parser refuses beyond them) plus one chunk.
        self.buf.reserve(READ_CHUNK);
        let mut limited = (&mut self.stream).take(READ_CHUNK as u64);
        match timeout_at(deadline, limited.read_buf(&mut self.buf)).await {
            Err(_) => Err(BodyError::Timeout),
            Ok(Err(_)) | Ok(Ok(0)) => Err(BodyError::Closed),
            Ok(Ok(n)) => {
                add(&self.server.counters.bytes_received, n as u64);
                Ok(n)
            }
        }
    }

    /// Reads the next request head: until [`ServerConfig::idle_timeout`]
    /// for its first byte, then [`ServerConfig::head_timeout`] for the
    /// rest. The connection is evictable meanwhile, and busy once the head
    /// is complete (or refused); the request deadline is returned with it.
    async fn read_head(&mut self) -> ReadHead {
        let slot = self.slot;
        slot.waiting();
        let idle_deadline = Instant::now() + self.config().idle_timeout;
        let mut started: Option<Instant> = (!self.buf.is_empty()).then(Instant::now);
        let head_time = self
            .config()
            .head_timeout
            .min(self.config().request_timeout);
        loop {
            if !self.buf.is_empty() {
                match parse_request_head_with(&self.buf, &self.config().limits) {
                    Ok(Parse::Complete { head, len }) => {
                        if !slot.busy() {
                            return ReadHead::Evicted;
                        }
                        self.buf.drain(..len);
                        let start = started.unwrap_or_else(Instant::now);
                        return ReadHead::Head(head, start + self.config().request_timeout);
                    }
                    Ok(Parse::Incomplete) => {}
                    Err(_) if !slot.busy() => return ReadHead::Evicted,
                    Err(e) => return ReadHead::Invalid(e),
                }
            }
            let deadline = match started {
                Some(s) => s + head_time,
                None => idle_deadline,
            };
            let filled = tokio::select! {
                r = self.fill(deadline) => r,
                () = slot.evicted() => return ReadHead::Evicted,
            };
            match filled {
                Ok(_) => {
                    started.get_or_insert_with(Instant::now);
                }
                Err(BodyError::Timeout) if started.is_none() => return ReadHead::IdleTimeout,
                Err(BodyError::Timeout) => return ReadHead::RequestTimeout,
                Err(BodyError::Closed) if started.is_none() => return ReadHead::Closed,
                Err(_) => return ReadHead::Io,
            }
        }
    }

    /// Answers one request (the body, if any, is read only for `/echo`).
    async fn handle(&mut self, head: &RequestHead, deadline: Instant) -> Response {
        let host_fields = head.headers.count("host");
        if host_fields > 1 || (head.version == Version::Http11 && host_fields == 0) {
            let mut r = error_page(
                400,
                "An HTTP/1.1 request needs exactly one Host header field.",
            );
            r.close = true;
            return r;
        }
        let framing = match request_framing(head) {
            Ok(f) => f,
            Err(e) => {
                let mut r = error_page(e.status(), &e.to_string());
                r.close = true;
                return r;
            }
        };
        let mut response = match self.route(head) {
            Ok(r) => r,
            Err(Echo) => return self.echo(head, framing, deadline).await,
        };
        // A request body nobody read would be taken for the next request.
        response.close |= framing != BodyFraming::None;
        response
    }

    /// The response to a request other than `POST /echo` (which is
    /// `Err(Echo)`): methods are case-sensitive tokens (RFC 9110 §9.1), so
    /// an unknown one — `get` included — is 501 (§15.6.2), a known one not
    /// allowed on the resource 405 with `Allow` (§15.5.6).
    fn route(&self, head: &RequestHead) -> Result<Response, Echo> {
        if let Method::Other(m) = &head.method {
            return Ok(error_page(
                501,
                &format!("The method {m} is not implemented here."),
            ));
        }
        if head.target == "*" {
            // RFC 9112 §3.2.4: asterisk-form is for a server-wide OPTIONS.
            if head.method != Method::Options {
                return Ok(error_page(400, "The request-target * is for OPTIONS only."));
            }
            let mut r = Response::new(200);
            r.header("Allow", ALLOW_SERVER);
            return Ok(r);
        }
        if head.method == Method::Connect {
            return Ok(not_allowed(ALLOW_FILES, "This server is not a proxy."));
        }
        let Some((path, query)) = files::target_path(&head.target) else {
            return Ok(error_page(400, "The request-target is not a path."));
        };
        if path == ECHO_PATH {
            return match head.method {
                Method::Post => Err(Echo),
                Method::Options => Ok(options(ALLOW_ECHO)),
                _ => Ok(not_allowed(ALLOW_ECHO, "Only POST is allowed here.")),
            };
        }
        Ok(match head.method {
            Method::Get | Method::Head => self.static_file(head, &path, query.as_deref()),
            Method::Options => match files::resolve(&self.config().root, &path) {
                Ok(_) => options(ALLOW_FILES),
                Err(refused) => refused_page(&refused),
            },
            _ => not_allowed(ALLOW_FILES, "This server serves files: GET and HEAD only."),
        })
    }

    fn static_file(&self, head: &RequestHead, raw: &str, query: Option<&str>) -> Response {
        let counters = &self.server.counters;
        let now = unix_now();
        if let Some(hit) = self.server.lock_files().get(raw) {
            bump(&counters.file_cache_hits);
            let v = Validators::new(hit.body.len() as u64, hit.mtime_ns, hit.hash, now);
            return representation(head, hit.content_type, Body::Shared(hit.body), &v);
        }
        bump(&counters.file_cache_misses);
        match files::resolve(&self.config().root, raw) {
            Ok(Resolved::File { path, content_type }) => {
                let opened = open(&path, |stamp| self.server.lock_files().known_hash(stamp));
                let opened = match opened {
                    Ok(o) => o,
                    Err(e) => {
                        tracing::warn!(file = %path.display(), error = %e, "cannot read file");
                        return error_page(404, "The file cannot be read.");
                    }
                };
                let v = opened.validators(now);
                let mut files = self.server.lock_files();
                match &opened.body {
                    Body::Shared(b) => {
                        let file = CachedFile {
                            content_type,
                            body: Arc::clone(b),
                            hash: opened.hash,
                            mtime_ns: Stamp::of(&opened.meta).mtime_ns(),
                        };
                        files.insert(raw, path, &opened.meta, file);
                    }
                    _ => files.remember_hash(&opened.meta, opened.hash),
                }
                drop(files);
                representation(head, content_type, opened.body, &v)
            }
            Ok(Resolved::AddSlash(location)) => {
                let location = match query {
                    Some(q) => format!("{location}?{q}"),
                    None => location,
                };
                let mut r = error_page(301, "This is a directory: its address ends with a slash.");
                r.header("Location", &location);
                r
            }
            Err(refused) => refused_page(&refused),
        }
    }

    /// Writes `bytes`, piece by piece: each piece must go within the
    /// request timeout (a stalled reader is dropped, a slow link is not).
    async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        for piece in bytes.chunks(WRITE_PIECE) {
            let deadline = Instant::now() + self.config().request_timeout;
            // Flushed piece by piece: a TLS stream holds records until flushed.
            let sending = async {
                self.stream.write_all(piece).await?;
                self.stream.flush().await
            };
            match timeout_at(deadline, sending).await {
                Ok(Ok(())) => {
                    self.sent += piece.len() as u64;
                    add(&self.server.counters.bytes_sent, piece.len() as u64);
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "write timed out")),
            }
        }
        Ok(())
    }

    /// Completes the head (Date, Server, Content-Length, Connection), sends
    /// the response and logs it; false if the connection broke.
    async fn respond(&mut self, request: Option<&RequestHead>, r: Response) -> bool {
        let now = unix_now();
        let len = r.body_len();
        let status_code = r.head.status;
        let mut head = ResponseHead::new(status_code);
        head.headers.append("Date", date::imf_fixdate(now)).ok();
        head.headers.append("Server", SERVER_NAME).ok();
        for f in r.head.headers.iter() {
            if !f.name.eq_ignore_ascii_case("content-length")
                && !f.name.eq_ignore_ascii_case("connection")
            {
                head.headers.append(&f.name, &f.value).ok();
            }
        }
        // RFC 9110 §8.6: no Content-Length in a 204; in a 304 only the
        // length a 200 would have had, so none.
        if !matches!(status_code, 204 | 304) {
            head.headers.append("Content-Length", len.to_string()).ok();
        }
        if r.close {
            head.headers.append("Connection", "close").ok();
        } else {
            head.headers.append("Connection", "keep-alive").ok();
            let left = self
                .config()
                .max_requests_per_connection
                .saturating_sub(self.served);
            let ka = format!(
                "timeout={}, max={left}",
                self.config().idle_timeout.as_secs()
            );
            head.headers.append("Keep-Alive", ka).ok();
        }
        let send_body =
            request.is_none_or(|h| h.method != Method::Head) && !matches!(status_code, 204 | 304);
        let status = head.status;
        let mut out = head.to_bytes();
        let mut body_sent = 0u64;
        let ok = match r.body {
            Body::File { mut file, len } if send_body => {
                let mut ok = self.write(&out).await.is_ok();
                let mut left = len;
                let mut chunk = vec![0u8; FILE_CHUNK];
                while ok && left > 0 {
                    let want = left.min(FILE_CHUNK as u64) as usize;
                    match std::io::Read::read(&mut file, &mut chunk[..want]) {
                        Ok(0) | Err(_) => {
                            tracing::warn!(left, "file shrank while being sent: closing");
                            ok = false;
                        }
                        Ok(n) => {
                            ok = self.write(&chunk[..n]).await.is_ok();
                            left -= n as u64;
                            body_sent += n as u64;
                        }
                    }
                }
                ok
            }
            body => {
                if let Some(b) = body.in_memory().filter(|_| send_body) {
                    out.extend_from_slice(b);
                    body_sent = b.len() as u64;
                }
                self.write(&out).await.is_ok()
            }
        };
        self.server.counters.count_status(status);
        self.log(request, status, body_sent, now);
        ok
    }

    /// Logs one access-log line.
    fn log(&self, request: Option<&RequestHead>, status: u16, bytes: u64, now: u64) {
        let line = request.map(|h| format!("{} {} {}", h.method, h.target, h.version));
        let text = access_log_line(
            self.peer.map(|p| *p.ip()),
            line.as_deref(),
            status,
            bytes,
            now,
        );
        tracing::info!(target: "vnet_web::access", "{text}");
    }
}
