//! Request and response heads: start line plus header section (RFC 9112
//! §2–§5), parsed from a buffer that may hold only part of them.

use super::headers::{is_tchar, is_value_byte, trim_ows};
use super::{Headers, HttpError, reason_phrase};
use std::fmt;

/// The result of parsing a head from a buffer that may be incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse<T> {
    /// The head is complete.
    Complete {
        /// The parsed head.
        head: T,
        /// Bytes it occupied, including the empty line that ends it; the
        /// body (if any) starts here.
        len: usize,
    },
    /// The buffer ends inside the head: read more and parse again (the
    /// buffered part is within the [`Limits`]).
    Incomplete,
}

/// Size limits on a head, so a peer cannot make the reader buffer without
/// bound (RFC 9112 §2.3: "A recipient … MUST be able to parse … a
/// reasonable length"; RFC 9112 §3: 414 for a request-target longer than the
/// server will parse; RFC 6585 §5: 431 for oversized header fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest start line (request line or status line), without its CRLF.
    pub max_start_line: usize,
    /// Longest header section, field lines and their line ends included.
    pub max_header_section: usize,
    /// Most header field lines.
    pub max_fields: usize,
}

impl Default for Limits {
    /// 8 KiB start line (RFC 9110 §4.1 recommends supporting at least
    /// 8000 octets of URI), 16 KiB of header fields, 100 fields.
    fn default() -> Limits {
        Limits {
            max_start_line: 8 * 1024,
            max_header_section: 16 * 1024,
            max_fields: 100,
        }
    }
}

/// The HTTP versions this codec speaks (RFC 9112 §2.3: `HTTP-version =
/// HTTP-name "/" DIGIT "." DIGIT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// HTTP/1.0 (RFC 1945).
    Http10,
    /// HTTP/1.1 (RFC 9112).
    Http11,
}

impl Version {
    /// `"HTTP/1.0"` or `"HTTP/1.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request method (RFC 9110 §9). "The method token is case-sensitive"
/// (§9.1), so `get` is an unknown method, not GET.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET (§9.3.1).
    Get,
    /// HEAD (§9.3.2).
    Head,
    /// POST (§9.3.3).
    Post,
    /// PUT (§9.3.4).
    Put,
    /// DELETE (§9.3.5).
    Delete,
    /// CONNECT (§9.3.6).
    Connect,
    /// OPTIONS (§9.3.7).
    Options,
    /// TRACE (§9.3.8).
    Trace,
    /// Any other token (e.g. PATCH, RFC 5789).
    Other(String),
}

impl Method {
    /// The method from its token (which the caller has checked is a token).
    pub fn from_token(t: &str) -> Method {
        match t {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "CONNECT" => Method::Connect,
            "OPTIONS" => Method::Options,
            "TRACE" => Method::Trace,
            other => Method::Other(other.to_owned()),
        }
    }

    /// The method token.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Connect => "CONNECT",
            Method::Options => "OPTIONS",
            Method::Trace => "TRACE",
            Method::Other(s) => s,
        }
    }

    /// Idempotent methods (RFC 9110 §9.2.2) may be retried automatically
    /// on a new connection when one closes before the response (RFC 9112
    /// §9.3.1).
    pub fn is_idempotent(&self) -> bool {
        matches!(
            self,
            Method::Get
                | Method::Head
                | Method::Put
                | Method::Delete
                | Method::Options
                | Method::Trace
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request head (RFC 9112 §3: `request-line = method SP request-target
/// SP HTTP-version`, then the header section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// The request-target as sent (RFC 9112 §3.2), still percent-encoded:
    /// visible ASCII only (when emitting, the caller keeps it so).
    pub target: String,
    /// The protocol version.
    pub version: Version,
    /// The header fields.
    pub headers: Headers,
}

impl RequestHead {
    /// A request without header fields.
    pub fn new(method: Method, target: impl Into<String>, version: Version) -> RequestHead {
        RequestHead {
            method,
            target: target.into(),
            version,
            headers: Headers::new(),
        }
    }

    /// The request-target split at the first `?` into path and query
    /// (RFC 9112 §3.2.1: `origin-form = absolute-path [ "?" query ]`).
    pub fn path_and_query(&self) -> (&str, Option<&str>) {
        match self.target.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.target.as_str(), None),
        }
    }

    /// Writes the head: request line, fields, empty line (RFC 9112 §2.1).
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.target.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.version.as_str().as_bytes());
        out.extend_from_slice(b"\r\n");
        self.headers.emit(out);
        out.extend_from_slice(b"\r\n");
    }

    /// The head as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.emit(&mut out);
        out
    }
}

/// A response head (RFC 9112 §4: `status-line = HTTP-version SP
/// status-code SP [ reason-phrase ]`, then the header section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The protocol version.
    pub version: Version,
    /// The three-digit status code (RFC 9110 §15).
    pub status: u16,
    /// The reason phrase ("A client SHOULD ignore the reason-phrase
    /// content", RFC 9112 §4); non-UTF-8 octets are replaced.
    pub reason: String,
    /// The header fields.
    pub headers: Headers,
}

impl ResponseHead {
    /// An HTTP/1.1 response with the standard reason phrase and no fields.
    pub fn new(status: u16) -> ResponseHead {
        ResponseHead {
            version: Version::Http11,
            status,
            reason: reason_phrase(status).to_owned(),
            headers: Headers::new(),
        }
    }

    /// Writes the head: status line, fields, empty line (RFC 9112 §2.1).
    /// A reason phrase holding CR or LF is left out rather than sent.
    pub fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.version.as_str().as_bytes());
        out.extend_from_slice(format!(" {:03} ", self.status).as_bytes());
        if self.reason.bytes().all(is_value_byte) {
            out.extend_from_slice(self.reason.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        self.headers.emit(out);
        out.extend_from_slice(b"\r\n");
    }

    /// The head as bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        self.emit(&mut out);
        out
    }
}

/// Parses a request head with the default [`Limits`].
pub fn parse_request_head(buf: &[u8]) -> Result<Parse<RequestHead>, HttpError> {
    parse_request_head_with(buf, &Limits::default())
}

/// Parses a request head from the start of `buf`.
///
/// Leading empty lines are skipped (RFC 9112 §2.2: a server "SHOULD ignore
/// at least one empty line (CRLF) received prior to the request-line"); a
/// bare LF ends a line like CRLF (§2.2: "a recipient MAY recognize a single
/// LF as a line terminator"); a bare CR, whitespace before a colon (§5.1),
/// or a folded line (§5.2, `obs-fold`) are rejected.
pub fn parse_request_head_with(
    buf: &[u8],
    limits: &Limits,
) -> Result<Parse<RequestHead>, HttpError> {
    let Some((line, mut pos)) = start_line(buf, limits)? else {
        return Ok(Parse::Incomplete);
    };
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::malformed(
            "request line",
            "not METHOD SP TARGET SP VERSION",
        ));
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(HttpError::malformed(
            "request line",
            "method is not a token",
        ));
    }
    if target.is_empty() || !target.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(HttpError::malformed(
            "request line",
            "request-target is empty or not visible ASCII",
        ));
    }
    let version = parse_version(version)?;
    let Some(headers) = header_section(buf, &mut pos, limits)? else {
        return Ok(Parse::Incomplete);
    };
    Ok(Parse::Complete {
        head: RequestHead {
            method: Method::from_token(&String::from_utf8_lossy(method)),
            target: String::from_utf8_lossy(target).into_owned(),
            version,
            headers,
        },
        len: pos,
    })
}

/// Parses a response head with the default [`Limits`].
pub fn parse_response_head(buf: &[u8]) -> Result<Parse<ResponseHead>, HttpError> {
    parse_response_head_with(buf, &Limits::default())
}

/// Parses a response head from the start of `buf` (same line rules as
/// [`parse_request_head_with`]). A missing reason phrase is accepted, with
/// or without the space before it (RFC 9112 §4: the reason-phrase is
/// optional).
pub fn parse_response_head_with(
    buf: &[u8],
    limits: &Limits,
) -> Result<Parse<ResponseHead>, HttpError> {
    let Some((line, mut pos)) = start_line(buf, limits)? else {
        return Ok(Parse::Incomplete);
    };
    let (version, rest) = match line.iter().position(|&b| b == b' ') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => {
            return Err(HttpError::malformed("status line", "not VERSION SP STATUS"));
        }
    };
    let version = parse_version(version)?;
    let (code, reason) = match rest.get(3) {
        None => (rest, &[][..]),
        Some(b' ') => (&rest[..3], &rest[4..]),
        Some(_) => {
            return Err(HttpError::malformed(
                "status line",
                "status code is not 3 digits",
            ));
        }
    };
    let status = match code {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => {
            return Err(HttpError::malformed(
                "status line",
                "status code is not 3 digits",
            ));
        }
    };
    if !reason.iter().all(|&b| is_value_byte(b)) {
        return Err(HttpError::malformed(
            "status line",
            "reason phrase holds a control character",
        ));
    }
    let Some(headers) = header_section(buf, &mut pos, limits)? else {
        return Ok(Parse::Incomplete);
    };
    Ok(Parse::Complete {
        head: ResponseHead {
            version,
            status,
            reason: String::from_utf8_lossy(reason).into_owned(),
            headers,
        },
        len: pos,
    })
}

/// Most leading empty lines skipped before a start line.
const MAX_LEADING_EMPTY_LINES: usize = 8;

/// Finds the start line: `Ok(None)` if incomplete, else the line (without
/// its line end) and where the header section starts.
fn start_line<'a>(buf: &'a [u8], limits: &Limits) -> Result<Option<(&'a [u8], usize)>, HttpError> {
    let mut start = 0;
    for _ in 0..MAX_LEADING_EMPTY_LINES {
        match &buf[start..] {
            [b'\r', b'\n', ..] => start += 2,
            [b'\n', ..] => start += 1,
            [b'\r'] => return Ok(None),
            _ => break,
        }
    }
    match next_line(buf, start)? {
        Some((line, next)) => {
            if line.len() > limits.max_start_line {
                return Err(HttpError::StartLineTooLong {
                    limit: limits.max_start_line,
                });
            }
            if line.is_empty() {
                return Err(HttpError::malformed("start line", "too many empty lines"));
            }
            Ok(Some((line, next)))
        }
        None if buf.len() - start > limits.max_start_line + 1 => Err(HttpError::StartLineTooLong {
            limit: limits.max_start_line,
        }),
        None => Ok(None),
    }
}

/// The line starting at `from` without its CRLF or LF, and where the next
/// one starts; `Ok(None)` when no line end has arrived yet. A CR anywhere
/// but right before the LF is a bare CR (RFC 9112 §2.2) and rejected.
fn next_line(buf: &[u8], from: usize) -> Result<Option<(&[u8], usize)>, HttpError> {
    let rest = buf.get(from..).unwrap_or_default();
    let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
        if rest.iter().rev().skip(1).any(|&b| b == b'\r') {
            return Err(HttpError::malformed("message head", "bare CR"));
        }
        return Ok(None);
    };
    let line = match &rest[..lf] {
        [line @ .., b'\r'] => line,
        line => line,
    };
    if line.contains(&b'\r') {
        return Err(HttpError::malformed("message head", "bare CR"));
    }
    Ok(Some((line, from + lf + 1)))
}

/// `HTTP-version = HTTP-name "/" DIGIT "." DIGIT` (RFC 9112 §2.3);
/// `HTTP-name` is case-sensitive.
fn parse_version(v: &[u8]) -> Result<Version, HttpError> {
    match v {
        b"HTTP/1.1" => Ok(Version::Http11),
        b"HTTP/1.0" => Ok(Version::Http10),
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Err(HttpError::UnsupportedVersion {
                major: major - b'0',
                minor: minor - b'0',
            })
        }
        _ => Err(HttpError::malformed("HTTP version", "not HTTP/DIGIT.DIGIT")),
    }
}

/// Parses field lines from `*pos` up to and including the empty line;
/// `Ok(None)` if it has not arrived yet. On success `*pos` is the end of
/// the head.
fn header_section(
    buf: &[u8],
    pos: &mut usize,
    limits: &Limits,
) -> Result<Option<Headers>, HttpError> {
    let section_start = *pos;
    let mut at = *pos;
    let mut headers = Headers::new();
    loop {
        let Some((line, next)) = next_line(buf, at)? else {
            if buf.len() - section_start > limits.max_header_section {
                return Err(HttpError::HeaderSectionTooLarge {
                    limit: limits.max_header_section,
                });
            }
            return Ok(None);
        };
        if next - section_start > limits.max_header_section {
            return Err(HttpError::HeaderSectionTooLarge {
                limit: limits.max_header_section,
            });
        }
        at = next;
        if line.is_empty() {
            *pos = at;
            return Ok(Some(headers));
        }
        if headers.len() >= limits.max_fields {
            return Err(HttpError::TooManyFields {
                limit: limits.max_fields,
            });
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            return Err(HttpError::malformed(
                "header field",
                "line folding (obs-fold) or whitespace before the first field",
            ));
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            return Err(HttpError::malformed("header field", "no colon"));
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(HttpError::malformed(
                "header field",
                "name is not a token (or whitespace before the colon)",
            ));
        }
        let value = trim_ows(value);
        if !value.iter().all(|&b| is_value_byte(b)) {
            return Err(HttpError::malformed(
                "header field",
                "value holds a control character",
            ));
        }
        headers.push_unchecked(String::from_utf8_lossy(name).into_owned(), value.to_vec());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(b: &[u8]) -> Result<Parse<RequestHead>, HttpError> {
        parse_request_head(b)
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let full = b"\r\nGET /a?b=c HTTP/1.1\r\nHost: x\r\nAccept:  */*  \r\n\r\nBODY";
        for cut in 0..full.len() - 4 {
            assert_eq!(req(&full[..cut]), Ok(Parse::Incomplete), "cut at {cut}");
        }
        let Ok(Parse::Complete { head, len }) = req(full) else {
            panic!("complete")
        };
        assert_eq!(len, full.len() - 4);
        assert_eq!(head.path_and_query(), ("/a", Some("b=c")));
        assert_eq!(head.headers.get_str("accept"), Some("*/*"));
    }

    #[test]
    fn limits_and_errors_map_to_statuses() {
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(9000));
        assert_eq!(req(long.as_bytes()).unwrap_err().status(), 414);
        // Also before the line end has arrived.
        assert_eq!(req(&long.as_bytes()[..8500]).unwrap_err().status(), 414);
        let many: String = (0..101).map(|i| format!("X-{i}: v\r\n")).collect();
        let r = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(
            req(r.as_bytes()).unwrap_err(),
            HttpError::TooManyFields { limit: 100 }
        );
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n", "v".repeat(17000));
        assert_eq!(req(big.as_bytes()).unwrap_err().status(), 431);
        assert_eq!(req(&big.as_bytes()[..16500]).unwrap_err().status(), 431);
        assert_eq!(req(b"GET / HTTP/2.0\r\n\r\n").unwrap_err().status(), 505);
        assert_eq!(req(b"GET / HTTP/1.1 \r\n\r\n").unwrap_err().status(), 400);
        for bad in [
            &b"GET / HTTP/1.1\r\nHost : x\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
            b"GET / http/1.1\r\n\r\n",
            b"GET  / HTTP/1.1\r\n\r\n",
            b"G(T / HTTP/1.1\r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            b"GET /\r\n\r\n",
        ] {
            assert_eq!(
                req(bad).map_err(|e| e.status()),
                Err(400),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn response_status_lines() {
        let r = parse_response_head(b"HTTP/1.0 404\r\nServer: x\r\n\r\n").unwrap();
        let Parse::Complete { head, .. } = r else {
            panic!()
        };
        assert_eq!(
            (head.version, head.status, head.reason.as_str()),
            (Version::Http10, 404, "")
        );
        let Parse::Complete { head, .. } = parse_response_head(b"HTTP/1.1 200 \r\n\r\n").unwrap()
        else {
            panic!()
        };
        assert_eq!(head.status, 200);
        assert!(parse_response_head(b"HTTP/1.1 20 OK\r\n\r\n").is_err());
        assert!(parse_response_head(b"HTTP/1.1 2000 OK\r\n\r\n").is_err());
        let emitted = ResponseHead::new(301).to_bytes();
        assert_eq!(emitted, b"HTTP/1.1 301 Moved Permanently\r\n\r\n");
    }
}
