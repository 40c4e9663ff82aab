//! HTTPS: TLS 1.3 and 1.2 over vnet's own TCP, with rustls.
//!
//! rustls is a sans-IO TLS state machine; `tokio-rustls` drives it over
//! any `AsyncRead + AsyncWrite` stream, here vnet's `TcpStream` (or a
//! `tokio::io::duplex` pipe in tests). The crypto provider is *ring*: it
//! builds with a C compiler alone, offline, and links statically into the
//! scratch images (docs/design.md, "HTTPS").
//!
//! * [`TlsClient`] (hosts): trusts the lab CA only, offers TLS 1.3 and 1.2,
//!   ALPN `http/1.1`, sends SNI from the URL's host (RFC 6066 §3; not for
//!   an IP literal). [`TlsClient::connect`] runs the handshake as a
//!   `tls.handshake` span with `tls.client_hello`, `tls.server_hello` and
//!   `tls.finished` children, and turns certificate failures into the
//!   words a browser uses ("certificate is not valid for
//!   www.example.org").
//! * [`TlsServer`] (web devices): the device's certificate chain and key,
//!   ALPN `http/1.1`. [`TlsServer::accept`] reads the ClientHello first
//!   (rustls's `Acceptor`), so the handshake span continues the client's
//!   trace and names the SNI and suites the client offered.
//! * [`KeyLogFile`]: the NSS key log format (`SSLKEYLOGFILE`) Wireshark
//!   reads to decrypt a capture, appended to a file the lab's owner chose
//!   (never a path from the network), at most [`KeyLogFile::MAX_BYTES`].

use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{CertificateError, ClientConfig, RootCertStore, ServerConfig};
use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, timeout};
use tokio_rustls::{LazyConfigAcceptor, TlsAcceptor, client, server};
use tracing::Instrument;
use vnet_wire::trace::TraceContext;

/// The default HTTPS port (RFC 9110 §4.2.2).
pub const HTTPS_PORT: u16 = 443;
/// The one application protocol offered and accepted (RFC 7301).
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// Why TLS could not be set up or a handshake failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM input held no certificate or no key, or did not parse.
    #[error("{what}: {reason}")]
    Pem {
        /// Which input (`CA certificate`, `private key`, …).
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
    /// The peer's certificate was refused (the words a browser uses).
    #[error("{0}")]
    Certificate(String),
    /// The handshake failed otherwise (alert, reset, protocol error).
    #[error("TLS handshake failed: {0}")]
    Handshake(String),
    /// No progress within the limit.
    #[error("TLS handshake timed out after {0:?}")]
    Timeout(Duration),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A version's name as tshark prints it (`TLS 1.3`).
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".into(),
        other => format!("{other:?}"),
    }
}

/// A cipher suite's IANA name (`TLS_AES_256_GCM_SHA384`).
pub fn suite_name(s: rustls::CipherSuite) -> String {
    let name = s.as_str().map_or_else(|| format!("{s:?}"), str::to_owned);
    name.replacen("TLS13_", "TLS_", 1)
}

/// A client's TLS settings: the lab CA as the only trust anchor.
#[derive(Clone)]
pub struct TlsClient {
    config: Arc<ClientConfig>,
}

impl fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClient").finish_non_exhaustive()
    }
}

impl PartialEq for TlsClient {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.config, &other.config)
    }
}
impl Eq for TlsClient {}

/// What a finished handshake agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// `TLS 1.3` or `TLS 1.2`.
    pub version: String,
    /// The cipher suite's IANA name.
    pub suite: String,
    /// The ALPN protocol, if one was agreed.
    pub alpn: Option<String>,
    /// The handshake's duration (ClientHello to Finished).
    pub elapsed: Duration,
}

impl fmt::Display for Negotiated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.version, self.suite)?;
        if let Some(a) = &self.alpn {
            write!(f, " ALPN {a}")?;
        }
        Ok(())
    }
}

fn negotiated(conn: &rustls::CommonState, elapsed: Duration) -> Negotiated {
    Negotiated {
        version: conn
            .protocol_version()
            .map_or_else(|| "?".into(), version_name),
        suite: conn
            .negotiated_cipher_suite()
            .map_or_else(|| "?".into(), |s| suite_name(s.suite())),
        alpn: conn
            .alpn_protocol()
            .map(|a| String::from_utf8_lossy(a).into_owned()),
        elapsed,
    }
}

/// The text of a certificate failure, as a browser words it.
fn certificate_words(e: &CertificateError, host: &str) -> String {
    match e {
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("certificate is not valid for {host}")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "certificate has expired".into()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "certificate is not yet valid".into()
        }
        CertificateError::UnknownIssuer => {
            "certificate is not signed by a trusted authority (unknown issuer: not the lab CA)"
                .into()
        }
        other => format!("invalid certificate: {other:?}"),
    }
}

/// Turns a handshake's `io::Error` (rustls puts its error inside) into a
/// [`TlsError`].
fn handshake_error(e: io::Error, host: &str) -> TlsError {
    let inner = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<rustls::Error>())
        .cloned();
    match inner {
        Some(rustls::Error::InvalidCertificate(c)) => {
            TlsError::Certificate(certificate_words(&c, host))
        }
        Some(other) => TlsError::Handshake(other.to_string()),
        None => TlsError::Handshake(e.to_string()),
    }
}

impl TlsClient {
    /// Trusts the certificates in `ca_pem` (the lab CA), offers TLS 1.3
    /// and 1.2 and ALPN `http/1.1`; writes session keys to `keylog`.
    pub fn new(ca_pem: &str, keylog: Option<Arc<KeyLogFile>>) -> Result<TlsClient, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
            let cert = cert.map_err(|e| TlsError::Pem {
                what: "CA certificate",
                reason: e.to_string(),
            })?;
            roots.add(cert)?;
        }
        if roots.is_empty() {
            return Err(TlsError::Pem {
                what: "CA certificate",
                reason: "no CERTIFICATE block".into(),
            });
        }
        let provider = provider();
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| TlsError::Handshake(e.to_string()))?;
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_webpki_verifier(verifier)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        if let Some(k) = keylog {
            config.key_log = k;
        }
        Ok(TlsClient {
            config: Arc::new(config),
        })
    }

    /// What the ClientHello offers, for the trace.
    fn offer(&self, sni: Option<&str>) -> String {
        let provider = self.config.crypto_provider();
        let suites: Vec<String> = provider
            .cipher_suites
            .iter()
            .map(|s| suite_name(s.suite()))
            .collect();
        let groups: Vec<String> = provider
            .kx_groups
            .iter()
            .map(|g| format!("{:?}", g.name()).to_ascii_lowercase())
            .collect();
        format!(
            "ClientHello SNI={} versions=[TLS 1.3, TLS 1.2] suites=[{}] key_share={} alpn=[http/1.1]",
            sni.unwrap_or("-"),
            suites.join(", "),
            groups.first().map_or("-", String::as_str),
        )
    }

    /// Runs the TLS handshake over `stream` for `host` (SNI unless `host`
    /// is an IP literal, which the certificate must then name), within
    /// `wait`.
    pub async fn connect<S>(
        &self,
        stream: S,
        host: &str,
        wait: Duration,
    ) -> Result<(client::TlsStream<S>, Negotiated), TlsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(host.trim_end_matches('.').to_owned())
            .map_err(|_| TlsError::Handshake(format!("`{host}` is not a valid server name")))?;
        let sni = matches!(name, ServerName::DnsName(_)).then_some(host);
        let span = vnet_telemetry::app_span!(
            "tls.handshake",
            proto = "tls",
            layer = "L7",
            summary = format!("TLS handshake with {host}"),
            tls.version = tracing::field::Empty,
            tls.suite = tracing::field::Empty,
            tls.error = tracing::field::Empty,
        );
        let started = Instant::now();
        let offer = self.offer(sni);
        let handshake = async {
            let _hello = vnet_telemetry::app_span!(
                "tls.client_hello",
                proto = "tls",
                layer = "L7",
                summary = offer,
            )
            .entered();
            drop(_hello);
            let connector = tokio_rustls::TlsConnector::from(self.config.clone());
            timeout(wait, connector.connect(name, stream)).await
        }
        .instrument(span.clone())
        .await;
        let agreed = |tls: &client::TlsStream<S>| negotiated(tls.get_ref().1, started.elapsed());
        conclude(handshake, wait, host, agreed, &span, "client")
    }
}

/// A handshake's outcome as the caller and the trace see it: the stream
/// and what it agreed on, or the error in a browser's words; the
/// `tls.handshake` span records either, with the Finished or failure step.
fn conclude<T>(
    outcome: Result<io::Result<T>, tokio::time::error::Elapsed>,
    wait: Duration,
    host: &str,
    agreed: impl FnOnce(&T) -> Negotiated,
    span: &tracing::Span,
    side: &str,
) -> Result<(T, Negotiated), TlsError> {
    let result = match outcome {
        Err(_) => Err(TlsError::Timeout(wait)),
        Ok(Err(e)) => Err(handshake_error(e, host)),
        Ok(Ok(tls)) => {
            let n = agreed(&tls);
            Ok((tls, n))
        }
    };
    span.in_scope(|| match &result {
        Ok((_, n)) => {
            span.record("tls.version", n.version.as_str());
            span.record("tls.suite", n.suite.as_str());
            finished_spans(n, side);
        }
        Err(e) => {
            span.record("tls.error", tracing::field::display(e));
            failed_span(e);
        }
    });
    result
}

/// Where a handshake failed, as its own step in the trace.
fn failed_span(e: &TlsError) {
    let _failed = vnet_telemetry::app_span!(
        "tls.failed",
        proto = "tls",
        layer = "L7",
        summary = format!("handshake failed: {e}"),
    )
    .entered();
}

/// The ServerHello and Finished as the trace shows them once a handshake
/// is done (rustls keeps the messages inside; the frames on the cables
/// show the records themselves).
fn finished_spans(n: &Negotiated, side: &str) {
    let _hello = vnet_telemetry::app_span!(
        "tls.server_hello",
        proto = "tls",
        layer = "L7",
        summary = format!("ServerHello {} {}", n.version, n.suite),
    )
    .entered();
    drop(_hello);
    let _done = vnet_telemetry::app_span!(
        "tls.finished",
        proto = "tls",
        layer = "L7",
        summary = format!(
            "Finished ({side}): {n}, handshake {:.2} ms",
            n.elapsed.as_secs_f64() * 1e3
        ),
    )
    .entered();
}

/// A client connection: plain TCP for `http`, TLS over it for `https`.
pub enum MaybeTls<S> {
    /// Plain HTTP.
    Plain(S),
    /// HTTPS.
    Tls(Box<client::TlsStream<S>>),
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTls<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_read(cx, buf),
            MaybeTls::Tls(t) => Pin::new(t.as_mut()).poll_read(cx, buf),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTls<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_write(cx, data),
            MaybeTls::Tls(t) => Pin::new(t.as_mut()).poll_write(cx, data),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_flush(cx),
            MaybeTls::Tls(t) => Pin::new(t.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            MaybeTls::Plain(s) => Pin::new(s).poll_shutdown(cx),
            // close_notify first (RFC 8446 §6.1), then FIN.
            MaybeTls::Tls(t) => Pin::new(t.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A [`Connector`](crate::browser::Connector) that runs the TLS handshake
/// for `server_name` over every connection `inner` opens (`httpload
/// https://…`).
pub struct TlsConnector<C> {
    /// Opens the TCP connections.
    pub inner: C,
    /// The client's TLS settings.
    pub tls: TlsClient,
    /// SNI and the name the certificate must hold.
    pub server_name: String,
    /// Limit on each handshake.
    pub wait: Duration,
}

impl<C: crate::browser::Connector> crate::browser::Connector for TlsConnector<C> {
    type Stream = client::TlsStream<C::Stream>;

    async fn connect(&self, addr: std::net::Ipv4Addr, port: u16) -> io::Result<Self::Stream> {
        let tcp = self.inner.connect(addr, port).await?;
        self.tls
            .connect(tcp, &self.server_name, self.wait)
            .await
            .map(|(stream, _)| stream)
            .map_err(|e| io::Error::other(format!("TLS with {}: {e}", self.server_name)))
    }
}

/// A server's TLS settings: its certificate chain and key.
#[derive(Clone)]
pub struct TlsServer {
    config: Arc<ServerConfig>,
}

impl fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsServer").finish_non_exhaustive()
    }
}

impl TlsServer {
    /// Serves the chain in `cert_pem` (leaf first) with the key in
    /// `key_pem` (PKCS#8, SEC1 or PKCS#1), ALPN `http/1.1`.
    pub fn new(
        cert_pem: &str,
        key_pem: &str,
        keylog: Option<Arc<KeyLogFile>>,
    ) -> Result<TlsServer, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem {
                what: "certificate",
                reason: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::Pem {
                what: "certificate",
                reason: "no CERTIFICATE block".into(),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| TlsError::Pem {
            what: "private key",
            reason: e.to_string(),
        })?;
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        if let Some(k) = keylog {
            config.key_log = k;
        }
        Ok(TlsServer {
            config: Arc::new(config),
        })
    }

    /// Reads the ClientHello, then completes the handshake within `wait`;
    /// `trace` names the trace the ClientHello's frame belongs to, which
    /// the handshake span continues.
    pub async fn accept<S>(
        &self,
        stream: S,
        wait: Duration,
        trace: &(dyn Fn() -> Option<TraceContext> + Send + Sync),
    ) -> Result<(server::TlsStream<S>, Negotiated), TlsError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let deadline = Instant::now() + wait;
        let acceptor = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
        let start = match tokio::time::timeout_at(deadline, acceptor).await {
            Err(_) => return Err(TlsError::Timeout(wait)),
            Ok(Err(e)) => return Err(handshake_error(e, "-")),
            Ok(Ok(s)) => s,
        };
        let started = Instant::now();
        let hello = start.client_hello();
        let sni = hello.server_name().unwrap_or("-").to_owned();
        let suites: Vec<String> = hello
            .cipher_suites()
            .iter()
            .map(|s| suite_name(*s))
            .collect();
        let alpn: Vec<String> = hello
            .alpn()
            .map(|a| a.map(|p| String::from_utf8_lossy(p).into_owned()).collect())
            .unwrap_or_default();
        let span = vnet_telemetry::continue_remote(trace(), || {
            vnet_telemetry::app_span!(
                "tls.handshake",
                proto = "tls",
                layer = "L7",
                summary = format!("TLS handshake for {sni}"),
                tls.sni = %sni,
                tls.version = tracing::field::Empty,
                tls.suite = tracing::field::Empty,
                tls.error = tracing::field::Empty,
            )
        });
        span.in_scope(|| {
            let _hello = vnet_telemetry::app_span!(
                "tls.client_hello",
                proto = "tls",
                layer = "L7",
                summary = format!(
                    "ClientHello received: SNI={sni} suites=[{}] alpn=[{}]",
                    suites.join(", "),
                    alpn.join(", ")
                ),
            )
            .entered();
        });
        let outcome = tokio::time::timeout_at(deadline, start.into_stream(self.config.clone()))
            .instrument(span.clone())
            .await;
        let agreed = |tls: &server::TlsStream<S>| negotiated(tls.get_ref().1, started.elapsed());
        conclude(outcome, wait, &sni, agreed, &span, "server")
    }

    /// A plain acceptor (no ClientHello peek), for benchmarks and tests.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.clone())
    }
}

/// Session secrets in the NSS key log format, appended to one file
/// (`<label> <client_random hex> <secret hex>` per line; Wireshark's
/// `tls.keylog_file`).
pub struct KeyLogFile {
    path: PathBuf,
    file: Mutex<std::fs::File>,
    written: AtomicU64,
}

impl fmt::Debug for KeyLogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyLogFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl KeyLogFile {
    /// Stops writing beyond this size (a flood of handshakes must not
    /// fill the disk): 16 MiB, about 40 000 TLS 1.3 sessions.
    pub const MAX_BYTES: u64 = 16 << 20;

    /// Opens `path` for appending (created readable by its owner only:
    /// the secrets decrypt the lab's traffic).
    pub fn open(path: &Path) -> io::Result<Arc<KeyLogFile>> {
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(path)
            .map_err(|e| io::Error::new(e.kind(), format!("key log {}: {e}", path.display())))?;
        Ok(Arc::new(KeyLogFile {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            written: AtomicU64::new(0),
        }))
    }
}

fn hex_into(out: &mut String, bytes: &[u8]) {
    use std::fmt::Write as _;
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let mut line =
            String::with_capacity(label.len() + 2 + 2 * (client_random.len() + secret.len()) + 1);
        line.push_str(label);
        line.push(' ');
        hex_into(&mut line, client_random);
        line.push(' ');
        hex_into(&mut line, secret);
        line.push('\n');
        let len = line.len() as u64;
        if self.written.fetch_add(len, Ordering::Relaxed) + len > Self::MAX_BYTES {
            return;
        }
        // One write per line: O_APPEND keeps lines from several devices whole.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::warn!(path = %self.path.display(), error = %e, "key log write failed");
        }
    }
}
