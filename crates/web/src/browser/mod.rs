//! The browser: what happens when you type a URL (the seed notes' 01장).
//!
//! 1. **Decode the URL** ([`parse_input`]): scheme, user:password, host,
//!    port, path, query. `http` and `https` are fetched; `ftp`, `file`,
//!    `mailto`, `news` are recognised and refused with the reason
//!    ("ftp is not supported by vnet's browser: no FTP client").
//! 2. **Resolve** the host name through a [`Resolver`] (the host's DNS
//!    stub); an IPv4 literal needs none. Each name is looked up once per
//!    browse.
//! 3. **Connect** through a [`Connector`] (vnet TCP) to port 80 (443 for
//!    https) unless the URL names another; for https, run the TLS
//!    handshake ([`crate::tls::TlsClient`], SNI from the URL's host) and
//!    send every request of that origin over the one TLS connection.
//! 4. **Send** `GET target HTTP/1.1` with `Host`, `User-Agent:
//!    vnet-browse/0.1`, `Accept`, `Connection: keep-alive` (and
//!    `Authorization: Basic` when the URL has a user, RFC 7617), and read
//!    the response framed by Content-Length, chunked coding or close.
//! 5. **Follow redirects** (301, 302, 303, 307, 308 with `Location`,
//!    relative ones resolved per RFC 3986 §5.2), at most
//!    [`BrowseOptions::max_redirects`].
//! 6. **Fetch what the page references** — `<img src>`, `<link
//!    rel=stylesheet href>`, `<script src>` ([`crate::html`]) — one
//!    request per resource, over the **same keep-alive connection**
//!    (a new one only when the server closed it, or for another server).
//!
//! Every request is recorded as a [`Resource`] with its status, header
//! fields, size and phase times (DNS, connect, first byte, download);
//! [`crate::report::report_lines`] prints them. With
//! [`BrowseOptions::save_dir`] every fetched body is kept with the path it
//! is to be saved at, mirrored (`index.html` for a directory); the browser
//! itself never writes a file.
//!
//! The browser never touches a socket itself, so tests run it against
//! [`crate::server`] over `tokio::io::duplex`.

use crate::files::path_segments;
use crate::html::{self, LinkKind};
use std::collections::HashSet;
use std::future::Future;
use std::io;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use vnet_wire::http::{ResponseHead, Url, UrlError};

mod cache;
mod session;

pub use cache::{HttpCache, PROGRESS_EVERY, Progress};
use session::Session;
pub use session::request_head;

/// The `User-Agent` the browser sends (RFC 9110 §10.1.5).
pub const USER_AGENT: &str = "vnet-browse/0.1";

/// Opens TCP connections (vnet's own TCP on a host; duplex pipes in tests).
pub trait Connector: Send + Sync {
    /// The connection type.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send;
    /// Connects to `addr:port` (the handshake done when it returns).
    fn connect(
        &self,
        addr: Ipv4Addr,
        port: u16,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// Turns a host name into an IPv4 address (the host's DNS stub resolver).
pub trait Resolver: Send + Sync {
    /// The first address of `name` and how long the lookup took (the DNS
    /// phase the report shows; zero when answered from a local cache).
    fn resolve(
        &self,
        name: &str,
    ) -> impl Future<Output = anyhow::Result<(Ipv4Addr, Duration)>> + Send;
}

/// A resolver from a fixed list of names (like `/etc/hosts`); any other
/// name fails. `StaticResolver::default()` knows no name at all.
#[derive(Debug, Clone, Default)]
pub struct StaticResolver {
    names: Vec<(String, Ipv4Addr)>,
}

impl StaticResolver {
    /// Adds a name (compared case-insensitively).
    pub fn with(mut self, name: &str, addr: Ipv4Addr) -> StaticResolver {
        self.names.push((name.to_ascii_lowercase(), addr));
        self
    }
}

impl Resolver for StaticResolver {
    async fn resolve(&self, name: &str) -> anyhow::Result<(Ipv4Addr, Duration)> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        self.names
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| (*a, Duration::ZERO))
            .ok_or_else(|| anyhow::anyhow!("unknown host {name}"))
    }
}

/// How to browse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowseOptions {
    /// Save every fetched body under this directory.
    pub save_dir: Option<PathBuf>,
    /// Redirects followed per resource (0: return the redirect itself, as
    /// curl without `-L`).
    pub max_redirects: usize,
    /// Fetch the images, stylesheets and scripts of an HTML page.
    pub fetch_resources: bool,
    /// Subresources fetched at most.
    pub max_resources: usize,
    /// Largest body accepted.
    pub max_body: u64,
    /// Limit on each step: lookup, connect, each read and write.
    pub timeout: Duration,
    /// The `User-Agent` value.
    pub user_agent: String,
    /// Send HEAD instead of GET (`fetch -I`).
    pub head_only: bool,
    /// Extra request header fields, each replacing a default field of the
    /// same name (`fetch -H`, `-r`).
    pub headers: Vec<(String, String)>,
    /// Where body downloads report their progress.
    pub progress: Option<Progress>,
    /// TLS settings for `https` URLs (the lab CA); without them an
    /// https URL fails with the reason.
    pub tls: Option<crate::tls::TlsClient>,
}

impl Default for BrowseOptions {
    /// No saving, 5 redirects, subresources on (at most 64), 64 MiB per
    /// body, 30 s per step, [`USER_AGENT`].
    fn default() -> BrowseOptions {
        BrowseOptions {
            save_dir: None,
            max_redirects: 5,
            fetch_resources: true,
            max_resources: 64,
            max_body: 64 << 20,
            timeout: Duration::from_secs(30),
            user_agent: USER_AGENT.to_owned(),
            head_only: false,
            headers: Vec::new(),
            progress: None,
            tls: None,
        }
    }
}

/// What a fetched resource is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// The page asked for (and its redirects).
    Page,
    /// An `<img src>`.
    Image,
    /// A `<link rel=stylesheet href>`.
    Stylesheet,
    /// A `<script src>`.
    Script,
}

impl ResourceKind {
    /// `page`, `image`, `stylesheet` or `script`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Page => "page",
            ResourceKind::Image => "image",
            ResourceKind::Stylesheet => "stylesheet",
            ResourceKind::Script => "script",
        }
    }

    fn accept(self) -> &'static str {
        match self {
            ResourceKind::Page => "text/html,application/xhtml+xml,*/*;q=0.8",
            ResourceKind::Image => "image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5",
            ResourceKind::Stylesheet => "text/css,*/*;q=0.1",
            ResourceKind::Script => "*/*",
        }
    }
}

impl From<LinkKind> for ResourceKind {
    fn from(k: LinkKind) -> ResourceKind {
        match k {
            LinkKind::Image => ResourceKind::Image,
            LinkKind::Stylesheet => ResourceKind::Stylesheet,
            LinkKind::Script => ResourceKind::Script,
        }
    }
}

/// Phase times of one request. `dns` and `connect` are set only when the
/// request needed a lookup or a new connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Name lookup.
    pub dns: Option<Duration>,
    /// TCP handshake.
    pub connect: Option<Duration>,
    /// TLS handshake (https), after the TCP handshake.
    pub tls: Option<Duration>,
    /// Request sent → first response byte (server time + one round trip).
    pub first_byte: Option<Duration>,
    /// First response byte → last body byte.
    pub download: Option<Duration>,
    /// The whole request, lookups and connects included.
    pub total: Duration,
}

/// One request of a browse and what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The URL requested (no fragment).
    pub url: Url,
    /// Why it was fetched.
    pub kind: ResourceKind,
    /// The response status, if a response came.
    pub status: Option<u16>,
    /// The reason phrase.
    pub reason: String,
    /// The response header fields (lossy text), in order.
    pub headers: Vec<(String, String)>,
    /// Body octets received (after removing the chunked coding).
    pub bytes: u64,
    /// The connection (1, 2, …) it went over.
    pub connection: Option<usize>,
    /// Whether that connection had carried a request before.
    pub reused: bool,
    /// Phase times.
    pub timings: Timings,
    /// Where a 3xx sent the browser (resolved).
    pub redirect_to: Option<String>,
    /// Where the body is to be saved (under `save_dir`).
    pub saved: Option<PathBuf>,
    /// The body to save there, kept only when saving was asked for.
    pub saved_body: Option<Vec<u8>>,
    /// A 304 answered a revalidation: the cached copy (this many bytes)
    /// was used.
    pub cached: Option<u64>,
    /// What went wrong, if anything.
    pub error: Option<String>,
}

impl Resource {
    fn new(url: &Url, kind: ResourceKind) -> Resource {
        Resource {
            url: url.clone(),
            kind,
            status: None,
            reason: String::new(),
            headers: Vec::new(),
            bytes: 0,
            connection: None,
            reused: false,
            timings: Timings::default(),
            redirect_to: None,
            saved: None,
            saved_body: None,
            cached: None,
            error: None,
        }
    }

    /// The first header field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A final 2xx response, or a 304 that revalidated a cached copy,
    /// without error.
    pub fn ok(&self) -> bool {
        let revalidated = self.status == Some(304) && self.cached.is_some();
        self.error.is_none()
            && (revalidated || self.status.is_some_and(|s| (200..300).contains(&s)))
    }
}

/// A name lookup made during a browse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The name.
    pub name: String,
    /// The address used.
    pub addr: Ipv4Addr,
    /// How long it took.
    pub elapsed: Duration,
}

/// A TCP connection opened during a browse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// 1, 2, … in opening order.
    pub id: usize,
    /// Server address.
    pub addr: Ipv4Addr,
    /// Server port.
    pub port: u16,
    /// Handshake time.
    pub connect: Duration,
    /// Requests answered over it.
    pub requests: u32,
    /// What the TLS handshake agreed on (https).
    pub tls: Option<crate::tls::Negotiated>,
}

/// Everything a browse did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowseReport {
    /// The URL as decoded from the input.
    pub url: Url,
    /// Every request in order: the page (with its redirects), then its
    /// subresources.
    pub resources: Vec<Resource>,
    /// Name lookups.
    pub lookups: Vec<Lookup>,
    /// TCP connections.
    pub connections: Vec<ConnectionInfo>,
    /// Wall time of the whole browse.
    pub total: Duration,
}

impl BrowseReport {
    /// The final request for the page (after redirects).
    pub fn page(&self) -> Option<&Resource> {
        self.resources
            .iter()
            .take_while(|r| r.kind == ResourceKind::Page)
            .last()
    }

    /// The page and every subresource arrived with a 2xx status.
    pub fn success(&self) -> bool {
        self.page().is_some_and(Resource::ok)
            && self
                .resources
                .iter()
                .filter(|r| r.kind != ResourceKind::Page && r.redirect_to.is_none())
                .all(Resource::ok)
    }

    /// Body octets received in all.
    pub fn total_bytes(&self) -> u64 {
        self.resources.iter().map(|r| r.bytes).sum()
    }
}

/// Why a browse or fetch could not be done.
#[derive(Debug, thiserror::Error)]
pub enum BrowseError {
    /// The URL is invalid or of a scheme the browser does not fetch.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// The host name did not resolve.
    #[error("cannot resolve {name}: {reason}")]
    Resolve {
        /// The name.
        name: String,
        /// The resolver's error.
        reason: String,
    },
    /// The TCP connection could not be opened.
    #[error("cannot connect to {addr}:{port}: {reason}")]
    Connect {
        /// Server address.
        addr: Ipv4Addr,
        /// Server port.
        port: u16,
        /// Why.
        reason: String,
    },
    /// The exchange failed (closed, timed out, invalid response).
    #[error("{0}")]
    Http(String),
    /// Redirects went on beyond the limit.
    #[error("stopped after {0} redirects")]
    TooManyRedirects(usize),
    /// The TLS handshake failed (a certificate refused, an alert).
    #[error("TLS with {host}: {reason}")]
    Tls {
        /// The server name.
        host: String,
        /// Why, as a browser words it.
        reason: String,
    },
}

/// A fetched resource: the final response head and body, and every
/// request made for it (redirects first).
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL the body came from (after redirects).
    pub url: Url,
    /// The final response head.
    pub head: ResponseHead,
    /// The body.
    pub body: Vec<u8>,
    /// The requests made, in order.
    pub resources: Vec<Resource>,
}

/// Decodes what a user typed: an absolute URL, or a bare `host[/path]`
/// taken as `http://host[/path]` (as browsers do). Only `http` URLs with a
/// host pass.
pub fn parse_input(input: &str) -> Result<Url, UrlError> {
    let s = input.trim();
    let has_scheme = s.contains("://")
        || ["mailto:", "news:", "file:", "http:", "https:"]
            .iter()
            .any(|p| s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p));
    let url = if has_scheme || s.is_empty() {
        Url::parse(s)?
    } else {
        Url::parse(&format!("http://{s}"))?
    };
    url.check_http()?;
    Ok(url.without_fragment())
}

/// Browses `input`: the page, its redirects, and (for HTML) every image,
/// stylesheet and script it references. Fails only when the input is not
/// a fetchable URL; network and HTTP errors are recorded in the report.
pub async fn browse<C: Connector, R: Resolver>(
    connector: &C,
    resolver: &R,
    input: &str,
    options: &BrowseOptions,
) -> Result<BrowseReport, BrowseError> {
    browse_cached(
        connector,
        resolver,
        input,
        options,
        &mut HttpCache::default(),
    )
    .await
}

/// [`browse`] in a browser session: responses are kept in `cache` and
/// revalidated on the next visit ([`cache`](HttpCache) has the rules), so
/// a second visit shows `304 Not Modified` where nothing changed.
pub async fn browse_cached<C: Connector, R: Resolver>(
    connector: &C,
    resolver: &R,
    input: &str,
    options: &BrowseOptions,
    cache: &mut HttpCache,
) -> Result<BrowseReport, BrowseError> {
    let url = parse_input(input)?;
    let mut s = Session::new(connector, resolver, options, Some(cache));
    let (mut resources, page) = s.get(&url, ResourceKind::Page).await;
    if let Some((page_url, ex)) = page {
        s.save(&url, &page_url, &ex, resources.last_mut()).await;
        let is_html = ex.head.headers.get_str("content-type").map_or(
            page_url.path.is_empty()
                || page_url.path.ends_with(".html")
                || page_url.path.ends_with('/'),
            |t| t.trim_start().to_ascii_lowercase().starts_with("text/html"),
        );
        if options.fetch_resources && is_html && (200..300).contains(&ex.head.status) {
            let scan = html::scan(&ex.body);
            drop(ex);
            let base = scan
                .base
                .and_then(|b| page_url.join(&b).ok())
                .unwrap_or_else(|| page_url.clone());
            let mut seen = HashSet::new();
            seen.insert(page_url.to_string());
            for link in scan.links {
                if seen.len() > options.max_resources {
                    break;
                }
                let kind = ResourceKind::from(link.kind);
                let target = match base.join(&link.reference).and_then(|u| {
                    u.check_http()?;
                    Ok(u.without_fragment())
                }) {
                    Ok(u) => u,
                    Err(e) => {
                        let mut r = Resource::new(&base, kind);
                        r.error = Some(format!("{}: {e}", link.reference));
                        resources.push(r);
                        continue;
                    }
                };
                if !seen.insert(target.to_string()) {
                    continue;
                }
                let (hops, got) = s.get(&target, kind).await;
                resources.extend(hops);
                if let Some((final_url, ex)) = got {
                    s.save(&url, &final_url, &ex, resources.last_mut()).await;
                }
            }
        }
    }
    s.close_all().await;
    Ok(BrowseReport {
        url,
        resources,
        lookups: s.lookups,
        connections: s.infos,
        total: s.start.elapsed(),
    })
}

/// Fetches one URL (a curl-like app): the final response and its body,
/// following at most `options.max_redirects` redirects (0: none), saved
/// under `options.save_dir` if set. Errors when no final response came.
pub async fn fetch<C: Connector, R: Resolver>(
    connector: &C,
    resolver: &R,
    input: &str,
    options: &BrowseOptions,
) -> Result<Fetched, BrowseError> {
    let url = parse_input(input)?;
    let mut s = Session::new(connector, resolver, options, None);
    let (mut resources, outcome) = s.get_inner(&url, ResourceKind::Page).await;
    s.close_all().await;
    let (final_url, ex) = outcome?;
    s.save(&url, &final_url, &ex, resources.last_mut()).await;
    Ok(Fetched {
        url: final_url,
        head: ex.head,
        body: ex.body,
        resources,
    })
}

/// Where to save `url`'s body: its path under `dir` (`index.html` for a
/// directory), under a `host_port` folder when it is on another server than
/// `page`. None for a path that could leave `dir`.
pub fn save_path(dir: &Path, page: &Url, url: &Url) -> Option<PathBuf> {
    let raw = if url.path.is_empty() {
        "/"
    } else {
        url.path.as_str()
    };
    let mut segments = path_segments(raw).ok()?;
    if raw.ends_with('/') || segments.is_empty() {
        segments.push("index.html".into());
    }
    let mut path = dir.to_path_buf();
    if url.host != page.host || url.port_or_default() != page.port_or_default() {
        let host = url.host_header().replace([':', '/', '\\'], "_");
        if host.is_empty() || host.starts_with('.') {
            return None;
        }
        path.push(host);
    }
    path.extend(segments);
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input() {
        let u = parse_input("www.example.com").expect("bare host");
        assert_eq!(u.to_string(), "http://www.example.com");
        assert_eq!(u.request_target(), "/");
        assert_eq!(
            parse_input("https://x/").expect("https").port_or_default(),
            Some(443)
        );
        assert_eq!(
            parse_input("ftp://x/").expect_err("ftp").to_string(),
            "ftp is not supported by vnet's browser: no FTP client (only http and https)"
        );
    }

    #[test]
    fn save_paths_stay_inside() {
        let page = Url::parse("http://h/").expect("page");
        let dir = Path::new("/tmp/save");
        let p = |u: &str| save_path(dir, &page, &Url::parse(u).expect("url"));
        assert_eq!(p("http://h/"), Some(dir.join("index.html")));
        assert_eq!(p("http://h"), Some(dir.join("index.html")));
        assert_eq!(p("http://h/img/a.png"), Some(dir.join("img/a.png")));
        assert_eq!(p("http://h/d/"), Some(dir.join("d/index.html")));
        assert_eq!(
            p("http://other:8080/x.css"),
            Some(dir.join("other_8080/x.css"))
        );
        assert_eq!(p("http://h/%2e%2e/x"), None);
        assert_eq!(p("http://h/a%2fb"), None);
    }
}
