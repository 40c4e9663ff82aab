//! Mapping a request path to a file under the document root, so that no
//! path escapes it, and the media type of a file.
//!
//! Two independent guards (defence in depth):
//!
//! 1. **Lexical**: the raw path is split on `/` *before* percent-decoding
//!    (RFC 3986 §2.4: "the components and subcomponents … must be
//!    separated before the percent-encoded octets within those components
//!    can be safely decoded"); every decoded segment must then not be `.`
//!    or `..` (`%2e%2e` included), nor hold `/` (`%2f`), `\`, NUL or other
//!    controls. Empty segments (`//`) are skipped, so an "absolute" path
//!    such as `//etc/passwd` stays under the root.
//! 2. **Canonical**: the joined path is canonicalized (symlinks resolved)
//!    and must still start with the canonical root; a symlink pointing out
//!    of the root is refused with 403. The canonical path is what gets
//!    opened.

use std::path::{Path, PathBuf};
use vnet_wire::http::Url;
use vnet_wire::http::percent_decode;

/// Where a request path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A regular file under the root (canonical path) and its media type.
    File {
        /// Canonical path of the file.
        path: PathBuf,
        /// `Content-Type` value.
        content_type: &'static str,
    },
    /// A directory named without its trailing slash: redirect to this
    /// path (the request path plus `/`), so relative links in its index
    /// resolve inside it.
    AddSlash(String),
}

/// Why a path is not served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The path is malformed or tries to leave the root (400).
    BadPath(&'static str),
    /// Nothing servable there (404).
    NotFound,
    /// It resolves (through a symlink) to outside the root (403).
    OutsideRoot,
}

impl Refused {
    /// The status code answered.
    pub fn status(&self) -> u16 {
        match self {
            Refused::BadPath(_) => 400,
            Refused::NotFound => 404,
            Refused::OutsideRoot => 403,
        }
    }
}

/// The decoded segments of a request path, or why it is refused (the
/// lexical guard described in the module docs).
pub fn path_segments(raw: &str) -> Result<Vec<String>, Refused> {
    if !raw.starts_with('/') {
        return Err(Refused::BadPath("the path does not start with /"));
    }
    let mut segments = Vec::new();
    for seg in raw.split('/') {
        if seg.is_empty() {
            continue;
        }
        let decoded =
            percent_decode(seg).map_err(|_| Refused::BadPath("invalid percent-encoding"))?;
        if decoded.contains(&b'/') {
            return Err(Refused::BadPath("an encoded slash (%2F) in a segment"));
        }
        if decoded.contains(&b'\\') {
            return Err(Refused::BadPath("a backslash in the path"));
        }
        if decoded.iter().any(|&b| b < 0x20 || b == 0x7f) {
            return Err(Refused::BadPath("a control character in the path"));
        }
        let text =
            String::from_utf8(decoded).map_err(|_| Refused::BadPath("the path is not UTF-8"))?;
        if text == "." || text == ".." {
            return Err(Refused::BadPath("a dot segment (. or ..) in the path"));
        }
        segments.push(text);
    }
    Ok(segments)
}

/// The path and query of a request-target in origin-form (RFC 9112
/// §3.2.1) or absolute-form (§3.2.2: "A server MUST accept the
/// absolute-form in requests").
pub(crate) fn target_path(target: &str) -> Option<(String, Option<String>)> {
    if target.starts_with('/') {
        let (p, q) = match target.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned())),
            None => (target, None),
        };
        return Some((p.to_owned(), q));
    }
    let url = Url::parse_http(target).ok()?;
    let path = if url.path.is_empty() {
        "/".to_owned()
    } else {
        url.path
    };
    Some((path, url.query))
}

/// Resolves the raw (still percent-encoded) request path `raw` under the
/// canonical `root`: a file, a directory's `index.html`, or a redirect
/// for a directory without its trailing slash.
///
/// File system calls are made in place, not through `tokio::fs`: the
/// served tree is local, each call takes microseconds, while `tokio::fs`
/// hands every call to a blocking thread and back (two thread switches per
/// call, which dominated a keep-alive request's latency).
pub fn resolve(root: &Path, raw: &str) -> Result<Resolved, Refused> {
    let segments = path_segments(raw)?;
    let mut path = root.to_path_buf();
    path.extend(&segments);
    let canonical = inside(root, &path)?;
    let meta = std::fs::metadata(&canonical).map_err(|_| Refused::NotFound)?;
    if meta.is_dir() {
        if !raw.ends_with('/') {
            return Ok(Resolved::AddSlash(format!("{raw}/")));
        }
        let index = inside(root, &canonical.join("index.html"))?;
        let meta = std::fs::metadata(&index).map_err(|_| Refused::NotFound)?;
        if !meta.is_file() {
            return Err(Refused::NotFound);
        }
        return Ok(Resolved::File {
            path: index,
            content_type: "text/html; charset=utf-8",
        });
    }
    if !meta.is_file() {
        return Err(Refused::NotFound);
    }
    let content_type = content_type(&canonical);
    Ok(Resolved::File {
        path: canonical,
        content_type,
    })
}

/// Canonicalizes `path` and checks it is `root` or below it.
fn inside(root: &Path, path: &Path) -> Result<PathBuf, Refused> {
    let canonical = std::fs::canonicalize(path).map_err(|_| Refused::NotFound)?;
    if canonical.starts_with(root) {
        Ok(canonical)
    } else {
        tracing::warn!(path = %path.display(), target_path = %canonical.display(), "refused: resolves outside the document root");
        Err(Refused::OutsideRoot)
    }
}

/// The media type of a file by its extension (RFC 9110 §8.3; text types
/// declare UTF-8, JavaScript is `text/javascript` per RFC 9239).
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_guard() {
        assert_eq!(
            path_segments("/a//b/%20c/"),
            Ok(vec!["a".into(), "b".into(), " c".into()])
        );
        for bad in [
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2e/x",
            "/.",
            "/..%2fetc%2fpasswd",
            "/a%2Fb",
            "/..\\..\\etc\\passwd",
            "/a%5c..%5cb",
            "/a%00.html",
            "/%zz",
            "etc/passwd",
            "/%ff",
        ] {
            assert!(
                matches!(path_segments(bad), Err(Refused::BadPath(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn media_types() {
        let t = |p: &str| content_type(Path::new(p));
        assert_eq!(t("/a/index.HTML"), "text/html; charset=utf-8");
        assert_eq!(t("s.css"), "text/css; charset=utf-8");
        assert_eq!(t("x.js"), "text/javascript; charset=utf-8");
        assert_eq!(t("a.png"), "image/png");
        assert_eq!(t("a.jpeg"), "image/jpeg");
        assert_eq!(t("a.jpg"), "image/jpeg");
        assert_eq!(t("a.svg"), "image/svg+xml");
        assert_eq!(t("a.txt"), "text/plain; charset=utf-8");
        assert_eq!(t("a.json"), "application/json");
        assert_eq!(t("a.bin"), "application/octet-stream");
        assert_eq!(t("Makefile"), "application/octet-stream");
    }
}
