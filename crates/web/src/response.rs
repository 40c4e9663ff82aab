//! A response being built by the server: its head, its body (in memory or
//! a file to stream), whether the connection closes after it; error pages;
//! opening a file to serve, with its validators.

use crate::conditional::{self, Fnv1a, Outcome, Validators};
use crate::file_cache::Stamp;
use crate::files::Refused;
use crate::server::SERVER_NAME;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use vnet_wire::http::date::imf_fixdate;
use vnet_wire::http::{ContentRange, RequestHead, ResponseHead};

/// Files up to this size are read whole and sent with the head in one write.
pub(crate) const SMALL_FILE: u64 = 256 * 1024;

pub(crate) enum Body {
    Empty,
    Bytes(Vec<u8>),
    /// A small file, shared with the file cache.
    Shared(Arc<[u8]>),
    File {
        file: std::fs::File,
        len: u64,
    },
}

pub(crate) struct Response {
    pub head: ResponseHead,
    pub body: Body,
    /// The connection cannot carry another request after this one.
    pub close: bool,
}

impl Body {
    /// The body when it is in memory (sent with the head in one write).
    pub fn in_memory(&self) -> Option<&[u8]> {
        match self {
            Body::Bytes(b) => Some(b),
            Body::Shared(b) => Some(b),
            Body::Empty | Body::File { .. } => None,
        }
    }

    /// Bytes `first..=last` of this body (the caller checked the bounds
    /// against the body's length).
    pub fn slice(self, first: u64, last: u64) -> io::Result<Body> {
        let n = last - first + 1;
        match self {
            Body::Shared(b) => b
                .get(first as usize..=last as usize)
                .map(|s| Body::Bytes(s.to_vec()))
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range")),
            Body::Bytes(b) => b
                .get(first as usize..=last as usize)
                .map(|s| Body::Bytes(s.to_vec()))
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "range")),
            Body::File { mut file, .. } => {
                file.seek(SeekFrom::Start(first))?;
                Ok(Body::File { file, len: n })
            }
            Body::Empty => Ok(Body::Empty),
        }
    }
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            head: ResponseHead::new(status),
            body: Body::Empty,
            close: false,
        }
    }

    pub fn body_len(&self) -> u64 {
        match &self.body {
            Body::File { len, .. } => *len,
            body => body.in_memory().map_or(0, |b| b.len() as u64),
        }
    }

    /// Adds a header this server generates; values are ours, never raw input.
    pub fn header(&mut self, name: &str, value: impl AsRef<[u8]>) {
        if let Err(e) = self.head.headers.append(name, value) {
            tracing::warn!(header = name, error = %e, "dropped an invalid response header");
        }
    }
}

/// Escapes text for HTML element content.
fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A response with a small HTML page explaining `status`.
pub(crate) fn error_page(status: u16, detail: &str) -> Response {
    let mut r = Response::new(status);
    let title = format!("{status} {}", r.head.reason);
    let html = format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head>\n<body><h1>{title}</h1>\n<p>{}</p>\n<hr><p>{SERVER_NAME}</p></body></html>\n",
        escape_html(detail)
    );
    r.header("Content-Type", "text/html; charset=utf-8");
    r.body = Body::Bytes(html.into_bytes());
    r
}

/// A file opened to send.
pub(crate) struct Opened {
    pub body: Body,
    pub meta: std::fs::Metadata,
    /// The FNV-1a hash of the whole content.
    pub hash: u64,
}

impl Opened {
    /// The file's validators at Unix time `now`.
    pub fn validators(&self, now: u64) -> Validators {
        Validators::new(
            self.meta.len(),
            Stamp::of(&self.meta).mtime_ns(),
            self.hash,
            now,
        )
    }
}

/// Opens a file to send: small files are read whole, larger ones streamed;
/// with the metadata it had when opened and its content hash (for the
/// ETag: `known_hash` says what it was for this file's stamp, if known, or
/// else the file is read through once and rewound). Reads are made in place
/// (see [`crate::files::resolve`]): local files, page cache, one chunk at a
/// time.
pub(crate) fn open(
    path: &std::path::Path,
    known_hash: impl FnOnce(&Stamp) -> Option<u64>,
) -> io::Result<Opened> {
    let mut file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let len = meta.len();
    if len <= SMALL_FILE {
        let mut data = Vec::with_capacity(len as usize);
        (&mut file).take(SMALL_FILE + 1).read_to_end(&mut data)?;
        let mut h = Fnv1a::default();
        h.update(&data);
        let body = Body::Shared(Arc::from(data));
        return Ok(Opened {
            body,
            meta,
            hash: h.finish(),
        });
    }
    let hash = match known_hash(&Stamp::of(&meta)) {
        Some(h) => h,
        None => {
            let mut h = Fnv1a::default();
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                match file.read(&mut chunk)? {
                    0 => break,
                    n => h.update(&chunk[..n]),
                }
            }
            file.seek(SeekFrom::Start(0))?;
            h.finish()
        }
    };
    Ok(Opened {
        body: Body::File { file, len },
        meta,
        hash,
    })
}

/// 405 with the methods the resource allows (RFC 9110 §15.5.6: "The
/// origin server MUST generate an Allow header field").
pub(crate) fn not_allowed(allow: &str, detail: &str) -> Response {
    let mut r = error_page(405, detail);
    r.header("Allow", allow);
    r
}

/// The answer to `OPTIONS` on a resource: 204 with `Allow` (RFC 9110
/// §9.3.7).
pub(crate) fn options(allow: &str) -> Response {
    let mut r = Response::new(204);
    r.header("Allow", allow);
    r
}

/// The error page for a path that is not served.
pub(crate) fn refused_page(refused: &Refused) -> Response {
    let detail = match refused {
        Refused::BadPath(why) => format!("Refused path: {why}."),
        Refused::NotFound => "Nothing here.".to_owned(),
        Refused::OutsideRoot => "This path leads outside the document root.".to_owned(),
    };
    error_page(refused.status(), &detail)
}

/// The response for a file of `content_type` with `body` and validators
/// `v`, as the request's preconditions and range select it
/// ([`conditional::evaluate`]): 200, 206 with `Content-Range`, 304
/// without a body, 412, or 416 with `Content-Range: bytes */len`. Every
/// one but 412 carries `ETag`, `Last-Modified` and `Accept-Ranges: bytes`
/// (RFC 9110 §14.3, §15.4.5: a 304 carries the fields a 200 would have
/// had among ETag, Date, Cache-Control…).
pub(crate) fn representation(
    request: &RequestHead,
    content_type: &str,
    body: Body,
    v: &Validators,
) -> Response {
    let len = match &body {
        Body::File { len, .. } => *len,
        b => b.in_memory().map_or(0, |b| b.len() as u64),
    };
    let outcome = conditional::evaluate(&request.method, &request.headers, v, len);
    let mut r = match outcome {
        Outcome::PreconditionFailed => {
            return error_page(412, "A precondition of the request does not hold.");
        }
        Outcome::NotModified => Response::new(304),
        Outcome::Unsatisfiable => {
            let mut r = error_page(416, "The requested range is not inside the file.");
            r.header("Content-Range", ContentRange::Unsatisfied(len).to_string());
            r
        }
        Outcome::Full => {
            let mut r = Response::new(200);
            r.header("Content-Type", content_type);
            r.body = body;
            r
        }
        Outcome::Partial { first, last } => match body.slice(first, last) {
            Ok(part) => {
                let mut r = Response::new(206);
                r.header("Content-Type", content_type);
                let cr = ContentRange::Bytes {
                    first,
                    last,
                    complete: Some(len),
                };
                r.header("Content-Range", cr.to_string());
                r.body = part;
                r
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot seek in the file");
                return error_page(404, "The file cannot be read.");
            }
        },
    };
    r.header("Last-Modified", imf_fixdate(v.last_modified));
    r.header("ETag", v.etag.to_bytes());
    r.header("Accept-Ranges", "bytes");
    r
}
