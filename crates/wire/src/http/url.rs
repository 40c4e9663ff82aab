//! URLs (RFC 3986): parsing, recomposition and reference resolution.
//!
//! ```text
//! http://user:password@www.example.com:80/dir/file.html?q=1#top
//! └┬─┘   └──┬──────────┘└──────┬──────┘└┬┘└─────┬──────┘└┬┘ └┬┘
//! scheme  userinfo            host    port    path    query fragment
//!        └────────────── authority ─────┘
//! ```

use super::percent::is_path_byte;
use std::fmt;
use std::net::Ipv4Addr;
use thiserror::Error;

/// Why a URL could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UrlError {
    /// Nothing but whitespace.
    #[error("empty URL")]
    Empty,
    /// A relative reference where an absolute URL is needed (RFC 3986
    /// §4.3: `absolute-URI = scheme ":" hier-part [ "?" query ]`).
    #[error("{0:?} is not an absolute URL (expected scheme://host/path)")]
    NoScheme(String),
    /// The scheme is not `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
    /// (RFC 3986 §3.1).
    #[error("invalid scheme {0:?}")]
    BadScheme(String),
    /// A scheme this browser recognises but cannot fetch.
    #[error("{scheme} is not supported by vnet's browser: {reason}")]
    Unsupported {
        /// The scheme, e.g. `https`.
        scheme: String,
        /// Why, e.g. `no TLS`.
        reason: &'static str,
    },
    /// The authority has no host, but the scheme needs one (RFC 9110
    /// §4.2.1: "A sender MUST NOT generate an "http" URI with an empty host
    /// identifier").
    #[error("the URL has no host")]
    NoHost,
    /// A host that is neither a valid reg-name nor an IPv4 address (RFC
    /// 3986 §3.2.2).
    #[error("invalid host {0:?}")]
    BadHost(String),
    /// A port that is not a number from 0 to 65535 (RFC 3986 §3.2.3).
    #[error("invalid port {0:?}")]
    BadPort(String),
    /// A control character, which no URL may hold.
    #[error("invalid character {0:?} in URL")]
    BadChar(char),
    /// A `%` not followed by two hex digits (RFC 3986 §2.1).
    #[error("invalid percent-encoding in {0:?}")]
    BadPercent(String),
}

/// The schemes the seed notes list (RFC 3986 §3.1: "schemes are
/// case-insensitive", kept in lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http` (RFC 9110 §4.2.1).
    Http,
    /// `https` (RFC 9110 §4.2.2): HTTP over TLS.
    Https,
    /// `ftp` (RFC 1738 §3.2).
    Ftp,
    /// `file` (RFC 8089).
    File,
    /// `mailto` (RFC 6068).
    Mailto,
    /// `news` (RFC 5538).
    News,
    /// Any other syntactically valid scheme.
    Other(String),
}

impl Scheme {
    fn from_lowercase(s: &str) -> Scheme {
        match s {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            "ftp" => Scheme::Ftp,
            "file" => Scheme::File,
            "mailto" => Scheme::Mailto,
            "news" => Scheme::News,
            other => Scheme::Other(other.to_owned()),
        }
    }

    /// The scheme name in lowercase.
    pub fn as_str(&self) -> &str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ftp => "ftp",
            Scheme::File => "file",
            Scheme::Mailto => "mailto",
            Scheme::News => "news",
            Scheme::Other(s) => s,
        }
    }

    /// The port used when the URL names none (RFC 9110 §4.2.1: 80 for
    /// http, §4.2.2: 443 for https; RFC 1738: 21 for ftp).
    pub fn default_port(&self) -> Option<u16> {
        match self {
            Scheme::Http => Some(80),
            Scheme::Https => Some(443),
            Scheme::Ftp => Some(21),
            _ => None,
        }
    }

    /// Why vnet's browser cannot fetch this scheme (`None` for http and
    /// https).
    pub fn unsupported_reason(&self) -> Option<&'static str> {
        match self {
            Scheme::Http | Scheme::Https => None,
            Scheme::Ftp => Some("no FTP client (only http and https)"),
            Scheme::File => Some("it reads no local files (only http and https)"),
            Scheme::Mailto => Some("it sends no mail (only http and https)"),
            Scheme::News => Some("it reads no news (only http and https)"),
            Scheme::Other(_) => Some("unknown scheme (only http and https)"),
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The host of an authority (RFC 3986 §3.2.2: `host = IP-literal /
/// IPv4address / reg-name`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A dotted-decimal IPv4 address: no DNS lookup needed.
    Ipv4(Ipv4Addr),
    /// A registered name (lowercased: "The host subcomponent is
    /// case-insensitive"), possibly empty (`file:///`).
    Name(String),
    /// An IP-literal in brackets (IPv6), kept as text without them.
    Ipv6(String),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Ipv4(a) => write!(f, "{a}"),
            Host::Name(n) => f.write_str(n),
            Host::Ipv6(a) => write!(f, "[{a}]"),
        }
    }
}

/// A parsed URL (RFC 3986 §3). Components are kept percent-encoded, as
/// written (with characters that may not appear unencoded, such as spaces,
/// encoded); dot segments are removed from the path (§5.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// The scheme.
    pub scheme: Scheme,
    /// User name from the userinfo (§3.2.1), if any.
    pub user: Option<String>,
    /// Password from the userinfo ("deprecated", §3.2.1, but in the seed
    /// notes' `http://user:password@host` form), if any.
    pub password: Option<String>,
    /// The host, when the URL has an authority (`//…`).
    pub host: Option<Host>,
    /// The port, if written (§3.2.3); see [`Url::port_or_default`].
    pub port: Option<u16>,
    /// The path (may be empty).
    pub path: String,
    /// The query, without `?`.
    pub query: Option<String>,
    /// The fragment, without `#` (never sent to a server, §3.5).
    pub fragment: Option<String>,
}

/// The five components of a URI reference, split by the regular
/// expression of RFC 3986 Appendix B.
struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn split(s: &str) -> Parts<'_> {
    let (rest, fragment) = match s.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (s, None),
    };
    let (mut rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let mut scheme = None;
    if let Some(i) = rest.find([':', '/'])
        && i > 0
        && rest.as_bytes()[i] == b':'
    {
        scheme = Some(&rest[..i]);
        rest = &rest[i + 1..];
    }
    let (authority, path) = match rest.strip_prefix("//") {
        Some(after) => match after.find('/') {
            Some(i) => (Some(&after[..i]), &after[i..]),
            None => (Some(after), ""),
        },
        None => (None, rest),
    };
    Parts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

/// Checks and normalises one component: controls are refused, `%` must
/// start a valid triplet, bytes outside `allowed` (and non-ASCII) are
/// percent-encoded.
fn component(s: &str, allowed: fn(u8) -> bool) -> Result<String, UrlError> {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x20 || c == 0x7f {
            return Err(UrlError::BadChar(c as char));
        }
        if c == b'%' {
            let ok = b
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !ok {
                return Err(UrlError::BadPercent(s.to_owned()));
            }
            out.push_str(&s[i..i + 3]);
            i += 3;
            continue;
        }
        if allowed(c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
        i += 1;
    }
    Ok(out)
}

fn query_byte(b: u8) -> bool {
    is_path_byte(b) || b == b'?'
}

fn userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:".contains(&b)
}

fn parse_scheme(s: &str) -> Result<Scheme, UrlError> {
    let valid = s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !valid {
        return Err(UrlError::BadScheme(s.to_owned()));
    }
    Ok(Scheme::from_lowercase(&s.to_ascii_lowercase()))
}

type Authority = (Option<String>, Option<String>, Host, Option<u16>);

/// `authority = [ userinfo "@" ] host [ ":" port ]` (RFC 3986 §3.2).
fn parse_authority(a: &str) -> Result<Authority, UrlError> {
    let (userinfo, hostport) = match a.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, a),
    };
    let (user, password) = match userinfo {
        Some(u) => match u.split_once(':') {
            Some((n, p)) => (
                Some(component(n, userinfo_byte)?),
                Some(component(p, userinfo_byte)?),
            ),
            None => (Some(component(u, userinfo_byte)?), None),
        },
        None => (None, None),
    };
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        let Some((lit, after)) = rest.split_once(']') else {
            return Err(UrlError::BadHost(hostport.to_owned()));
        };
        if lit.is_empty()
            || !lit
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(UrlError::BadHost(hostport.to_owned()));
        }
        let port = match after {
            "" => "",
            p => p
                .strip_prefix(':')
                .ok_or_else(|| UrlError::BadHost(hostport.to_owned()))?,
        };
        (Host::Ipv6(lit.to_ascii_lowercase()), port)
    } else {
        let (h, p) = hostport.rsplit_once(':').unwrap_or((hostport, ""));
        (parse_host(h)?, p)
    };
    let port = match port {
        "" => None,
        p if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .map_err(|_| UrlError::BadPort(p.to_owned()))?,
        ),
        p => return Err(UrlError::BadPort(p.to_owned())),
    };
    Ok((user, password, host, port))
}

/// `IPv4address / reg-name` (RFC 3986 §3.2.2); a name made of digits and
/// dots only must be a valid dotted quad.
fn parse_host(h: &str) -> Result<Host, UrlError> {
    if !h.is_empty() && h.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return h
            .parse::<Ipv4Addr>()
            .map(Host::Ipv4)
            .map_err(|_| UrlError::BadHost(h.to_owned()));
    }
    let ok = h
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=%".contains(&b));
    if !ok {
        return Err(UrlError::BadHost(h.to_owned()));
    }
    Ok(Host::Name(h.to_ascii_lowercase()))
}

/// Removes `.` and `..` segments (RFC 3986 §5.2.4), e.g. `/a/b/../c/./d`
/// → `/a/c/d`; `..` never climbs above the root.
pub fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut out = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(r) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = r;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] };
            match out.rfind('/') {
                Some(i) => out.truncate(i),
                None => out.clear(),
            }
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    out
}

impl Url {
    /// Parses an absolute URL of any scheme (RFC 3986 §4.3). Surrounding
    /// whitespace is ignored.
    pub fn parse(s: &str) -> Result<Url, UrlError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(UrlError::Empty);
        }
        let p = split(s);
        let Some(scheme) = p.scheme else {
            return Err(UrlError::NoScheme(s.to_owned()));
        };
        let scheme = parse_scheme(scheme)?;
        let mut url = Url {
            scheme,
            user: None,
            password: None,
            host: None,
            port: None,
            path: remove_dot_segments(&component(p.path, is_path_byte)?),
            query: p.query.map(|q| component(q, query_byte)).transpose()?,
            fragment: p.fragment.map(|f| component(f, query_byte)).transpose()?,
        };
        if let Some(a) = p.authority {
            let (user, password, host, port) = parse_authority(a)?;
            (url.user, url.password, url.host, url.port) = (user, password, Some(host), port);
        }
        Ok(url)
    }

    /// Parses a URL the browser can fetch: `http` or `https` with a
    /// non-empty host. Other schemes are recognised and refused with the
    /// reason ([`UrlError::Unsupported`]: "ftp is not supported by vnet's
    /// browser: no FTP client (only http and https)").
    pub fn parse_http(s: &str) -> Result<Url, UrlError> {
        let url = Url::parse(s)?;
        url.check_http()?;
        Ok(url)
    }

    /// Fails unless this URL can be fetched over HTTP or HTTPS.
    pub fn check_http(&self) -> Result<(), UrlError> {
        if let Some(reason) = self.scheme.unsupported_reason() {
            return Err(UrlError::Unsupported {
                scheme: self.scheme.to_string(),
                reason,
            });
        }
        match &self.host {
            None => Err(UrlError::NoHost),
            Some(Host::Name(n)) if n.is_empty() => Err(UrlError::NoHost),
            Some(_) => Ok(()),
        }
    }

    /// Whether fetching this URL takes TLS (`https`).
    pub fn is_https(&self) -> bool {
        self.scheme == Scheme::Https
    }

    /// The port written, else the scheme's default (80 for http).
    pub fn port_or_default(&self) -> Option<u16> {
        self.port.or_else(|| self.scheme.default_port())
    }

    /// The origin-form request-target (RFC 9112 §3.2.1: `absolute-path [
    /// "?" query ]`): the path, `/` if empty ("If the target URI's path
    /// component is empty, the client MUST send "/" as the path"), and the
    /// query. The fragment is never sent.
    pub fn request_target(&self) -> String {
        let mut t = if self.path.is_empty() {
            "/".to_owned()
        } else {
            self.path.clone()
        };
        if let Some(q) = &self.query {
            t.push('?');
            t.push_str(q);
        }
        t
    }

    /// The `Host` header value (RFC 9110 §7.2: `uri-host [ ":" port ]`),
    /// with the port only when it is not the scheme's default.
    pub fn host_header(&self) -> String {
        let host = self.host.as_ref().map(Host::to_string).unwrap_or_default();
        match self.port {
            Some(p) if Some(p) != self.scheme.default_port() => format!("{host}:{p}"),
            _ => host,
        }
    }

    /// The URL without its fragment.
    pub fn without_fragment(&self) -> Url {
        Url {
            fragment: None,
            ..self.clone()
        }
    }

    /// Resolves a reference (absolute, or relative like `../img/a.png`,
    /// `//host/x`, `?q`, `#f`) against this base URL (RFC 3986 §5.2.2).
    pub fn join(&self, reference: &str) -> Result<Url, UrlError> {
        let r = reference.trim();
        let p = split(r);
        if p.scheme.is_some() {
            return Url::parse(r);
        }
        let query = p.query.map(|q| component(q, query_byte)).transpose()?;
        let fragment = p.fragment.map(|f| component(f, query_byte)).transpose()?;
        let rpath = component(p.path, is_path_byte)?;
        let mut t = Url {
            fragment,
            ..self.clone()
        };
        if let Some(a) = p.authority {
            let (user, password, host, port) = parse_authority(a)?;
            (t.user, t.password, t.host, t.port) = (user, password, Some(host), port);
            t.path = remove_dot_segments(&rpath);
            t.query = query;
        } else if rpath.is_empty() {
            if query.is_some() {
                t.query = query;
            }
        } else {
            t.path = if rpath.starts_with('/') {
                remove_dot_segments(&rpath)
            } else {
                remove_dot_segments(&self.merge(&rpath))
            };
            t.query = query;
        }
        Ok(t)
    }

    /// RFC 3986 §5.2.3: the base path up to its last `/`, then the
    /// reference path (`/` + it when the base has an authority and an
    /// empty path).
    fn merge(&self, rpath: &str) -> String {
        if self.host.is_some() && self.path.is_empty() {
            return format!("/{rpath}");
        }
        match self.path.rfind('/') {
            Some(i) => format!("{}{rpath}", &self.path[..=i]),
            None => rpath.to_owned(),
        }
    }
}

impl fmt::Display for Url {
    /// Recomposes the URL (RFC 3986 §5.3).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme)?;
        if let Some(host) = &self.host {
            f.write_str("//")?;
            if let Some(u) = &self.user {
                f.write_str(u)?;
                if let Some(p) = &self.password {
                    write!(f, ":{p}")?;
                }
                f.write_str("@")?;
            }
            write!(f, "{host}")?;
            if let Some(p) = self.port {
                write!(f, ":{p}")?;
            }
        } else if self.path.starts_with("//") {
            // Without an authority a path cannot start with "//" (RFC 3986
            // §3.3): "/." keeps it a path, and parsing removes the dot again.
            f.write_str("/.")?;
        }
        f.write_str(&self.path)?;
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        if let Some(fr) = &self.fragment {
            write!(f, "#{fr}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Url {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<Url, UrlError> {
        Url::parse(s)
    }
}
