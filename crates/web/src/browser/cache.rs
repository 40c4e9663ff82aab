//! The browser's HTTP cache (RFC 9111), kept for one browser session
//! (every visit of one `browse --repeat N`), and how a download reports
//! its progress.
//!
//! Rules, simpler than a real browser's and chosen so that revalidation is
//! visible:
//!
//! * **Stored**: a 200 response to a plain GET (no `Range`, no extra
//!   headers) that carries a validator (`ETag` or `Last-Modified`) and no
//!   `Cache-Control: no-store` (RFC 9111 §3, §5.2.2.5). At most
//!   [`MAX_ENTRIES`] responses and [`MAX_BYTES`] of bodies; the oldest
//!   stored goes first.
//! * **Always revalidated**: a stored response is never reused without
//!   asking the server (as if it said `Cache-Control: no-cache`,
//!   §5.2.2.4). vnet's server sends no `Cache-Control` or `Expires`, so a
//!   browser could use a heuristic freshness lifetime (§4.2.2, typically
//!   10 % of the time since Last-Modified) and send nothing at all; vnet's
//!   browser asks every time, so every reuse shows on the wire and in the
//!   report as a `304`.
//! * **Revalidation** (§4.3.1): `If-None-Match` with the stored `ETag`,
//!   and `If-Modified-Since` with the stored `Last-Modified`. A `304`
//!   makes the stored body the response's (its header fields updated by
//!   the 304's, §4.3.4); a `200` replaces the entry.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use vnet_wire::http::{Headers, ResponseHead};

/// Most responses stored.
pub const MAX_ENTRIES: usize = 256;
/// Most body bytes stored in all.
pub const MAX_BYTES: usize = 32 << 20;

/// A stored response.
#[derive(Debug, Clone)]
pub struct Stored {
    /// Its head (status 200).
    pub head: ResponseHead,
    /// Its body.
    pub body: Vec<u8>,
}

impl Stored {
    /// The conditional header fields that revalidate it.
    pub fn conditions(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(tag) = self.head.headers.get_str("etag") {
            out.push(("If-None-Match", tag.to_owned()));
        }
        if let Some(lm) = self.head.headers.get_str("last-modified") {
            out.push(("If-Modified-Since", lm.to_owned()));
        }
        out
    }
}

/// The cache of one browser session (see the module documentation).
#[derive(Debug, Default)]
pub struct HttpCache {
    entries: HashMap<String, Stored>,
    order: VecDeque<String>,
    bytes: usize,
}

impl HttpCache {
    /// The response stored for `url`.
    pub fn get(&self, url: &str) -> Option<&Stored> {
        self.entries.get(url)
    }

    /// Stores a 200 response for `url` if the rules allow it; else forgets
    /// what was stored for `url`.
    pub fn store(&mut self, url: &str, head: &ResponseHead, body: &[u8]) {
        self.remove(url);
        let h = &head.headers;
        let storable = head.status == 200
            && (h.contains("etag") || h.contains("last-modified"))
            && !h.has_token("cache-control", "no-store")
            && body.len() <= MAX_BYTES;
        if !storable {
            return;
        }
        while self.entries.len() >= MAX_ENTRIES || self.bytes + body.len() > MAX_BYTES {
            let Some(oldest) = self.order.front().cloned() else {
                break;
            };
            self.remove(&oldest);
        }
        self.bytes += body.len();
        self.order.push_back(url.to_owned());
        let stored = Stored {
            head: head.clone(),
            body: body.to_vec(),
        };
        self.entries.insert(url.to_owned(), stored);
    }

    /// The stored response for `url`, freshened by a 304's header fields
    /// (RFC 9111 §4.3.4: "use other header fields provided in the 304 …
    /// response to replace all instances of the corresponding header
    /// fields in the stored response"; Content-Length excepted, which
    /// describes the stored body).
    pub fn freshen(&mut self, url: &str, not_modified: &Headers) -> Option<Stored> {
        let stored = self.entries.get_mut(url)?;
        for f in not_modified.iter() {
            if f.name.eq_ignore_ascii_case("content-length") {
                continue;
            }
            stored.head.headers.set(&f.name, &f.value).ok();
        }
        Some(stored.clone())
    }

    fn remove(&mut self, url: &str) {
        if let Some(e) = self.entries.remove(url) {
            self.bytes -= e.body.len();
            self.order.retain(|k| k != url);
        }
    }

    /// Responses stored.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Where a download reports how far it is: `(bytes received, bytes
/// expected if known)`, at most every [`PROGRESS_EVERY`].
#[derive(Clone)]
pub struct Progress(pub Arc<dyn Fn(u64, Option<u64>) + Send + Sync>);

/// How often a body download reports progress.
pub const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress(..)")
    }
}

impl PartialEq for Progress {
    fn eq(&self, other: &Progress) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Progress {}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(fields: &[(&str, &str)]) -> ResponseHead {
        let mut h = ResponseHead::new(200);
        for (n, v) in fields {
            h.headers.append(n, v).unwrap();
        }
        h
    }

    #[test]
    fn stores_only_validated_responses_and_freshens() {
        let mut c = HttpCache::default();
        c.store("u", &head(&[]), b"x");
        assert!(c.is_empty(), "no validator");
        c.store(
            "u",
            &head(&[("ETag", "\"1\""), ("Cache-Control", "no-store")]),
            b"x",
        );
        assert!(c.is_empty());
        c.store("u", &head(&[("ETag", "\"1\""), ("Date", "old")]), b"body");
        let s = c.get("u").unwrap();
        assert_eq!(s.conditions(), vec![("If-None-Match", "\"1\"".to_owned())]);
        let mut fresh = Headers::new();
        fresh.append("Date", "new").unwrap();
        fresh.append("Content-Length", "0").unwrap();
        let s = c.freshen("u", &fresh).unwrap();
        assert_eq!(s.head.headers.get_str("date"), Some("new"));
        assert_eq!(s.body, b"body");
        assert!(!s.head.headers.contains("content-length"));
        for i in 0..MAX_ENTRIES + 3 {
            c.store(&i.to_string(), &head(&[("Last-Modified", "x")]), b"b");
        }
        assert_eq!(c.len(), MAX_ENTRIES);
    }
}
