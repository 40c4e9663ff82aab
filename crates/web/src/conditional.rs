//! Validators of served files and the evaluation of conditional and
//! range requests (RFC 9110 §8.8, §13.2, §14), without I/O: the server
//! hands in the request head, the file's validators and length, and gets
//! back which response to build.
//!
//! * **`ETag`** (strong, §8.8.3): `"<length hex>-<mtime hex>-<hash hex>"`
//!   — the file's length, its modification time in nanoseconds since the
//!   Unix epoch, and the 64-bit FNV-1a hash of its content. Length and
//!   mtime change with almost every edit; the content hash makes the tag
//!   change even for an edit of the same length within one tick of the
//!   file system's coarse clock, and keeps it equal for a byte-identical
//!   copy only when mtime is equal too. Strong, because two responses
//!   with the same tag are byte-identical (the hash and the length say so
//!   for any practical purpose), which range requests need.
//! * **`Last-Modified`** (§8.8.2): the file's mtime in whole seconds,
//!   never later than the response's `Date` (§8.8.2.1).
//!
//! Evaluation follows §13.2.2's order: `If-Match` (412 unless a strong
//! match), else `If-Unmodified-Since` (412 if modified since); then
//! `If-None-Match` (304 for GET/HEAD on a weak match), and only without
//! it `If-Modified-Since` (304 if not modified since); then `Range` for a
//! GET, gated by `If-Range`. Unparsable precondition fields are treated
//! as absent; an unparsable `Range` is ignored (200, whole file), and so is
//! one with more than one range: multi-range requests are answered 200
//! with the whole representation, which §14.2 allows ("a server MAY
//! ignore the Range header field") and spares the `multipart/byteranges`
//! body. A range nobody can satisfy gets 416 (§15.5.17).

use vnet_wire::http::date::parse_http_date;
use vnet_wire::http::{EntityTag, EtagList, Headers, IfRange, Method, parse_range};

/// The validators of one version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// The strong entity-tag.
    pub etag: EntityTag,
    /// Modification time, Unix seconds (already capped at "now").
    pub last_modified: u64,
}

/// 64-bit FNV-1a, a small non-cryptographic hash (enough to tell
/// versions of one file apart; nobody gains from forging an ETag of a
/// file they can already read).
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Fnv1a {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub fn finish(self) -> u64 {
        self.0
    }
}

impl Validators {
    /// The validators of a file of `len` bytes modified at `mtime_ns`
    /// (nanoseconds since the epoch) whose content hashes to `hash`, served
    /// at Unix time `now`.
    pub fn new(len: u64, mtime_ns: i128, hash: u64, now: u64) -> Validators {
        let opaque = format!("{len:x}-{:x}-{hash:016x}", mtime_ns.max(0));
        let secs = u64::try_from(mtime_ns.max(0) / 1_000_000_000).unwrap_or(0);
        Validators {
            // The opaque-tag is hex digits and dashes: always valid.
            etag: EntityTag {
                weak: false,
                opaque: opaque.into_bytes(),
            },
            last_modified: secs.min(now),
        }
    }
}

/// What to answer for a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 200 with the whole file.
    Full,
    /// 206 with bytes `first..=last`.
    Partial {
        /// First byte, inclusive.
        first: u64,
        /// Last byte, inclusive.
        last: u64,
    },
    /// 304 Not Modified: no body.
    NotModified,
    /// 412 Precondition Failed.
    PreconditionFailed,
    /// 416 Range Not Satisfiable.
    Unsatisfiable,
}

fn date_field(headers: &Headers, name: &str) -> Option<u64> {
    // "A recipient MUST ignore the If-Modified-Since header field if the
    // received field value is not a valid HTTP-date, or if the field value
    // has more than one member" (§13.1.3); likewise If-Unmodified-Since.
    if headers.count(name) != 1 {
        return None;
    }
    headers.get_str(name).and_then(parse_http_date)
}

fn etag_list(headers: &Headers, name: &str) -> Option<EtagList> {
    if !headers.contains(name) {
        return None;
    }
    EtagList::parse(headers.get_all(name)).ok()
}

/// Evaluates the preconditions and the range of a `method` request with
/// `headers` for a file of `len` bytes with validators `v` (see the module
/// documentation for the order and the policies).
pub fn evaluate(method: &Method, headers: &Headers, v: &Validators, len: u64) -> Outcome {
    let get_or_head = matches!(method, Method::Get | Method::Head);
    if let Some(list) = etag_list(headers, "if-match") {
        if !list.matches_strong(&v.etag) {
            return Outcome::PreconditionFailed;
        }
    } else if let Some(since) = date_field(headers, "if-unmodified-since")
        && v.last_modified > since
    {
        return Outcome::PreconditionFailed;
    }
    if let Some(list) = etag_list(headers, "if-none-match") {
        if list.matches_weak(&v.etag) {
            return if get_or_head {
                Outcome::NotModified
            } else {
                Outcome::PreconditionFailed
            };
        }
    } else if get_or_head
        && let Some(since) = date_field(headers, "if-modified-since")
        && v.last_modified <= since
    {
        return Outcome::NotModified;
    }
    if *method != Method::Get || headers.count("range") != 1 {
        return Outcome::Full;
    }
    if headers.contains("if-range") {
        let holds = headers.count("if-range") == 1
            && headers
                .get("if-range")
                .and_then(|value| IfRange::parse(value).ok())
                .is_some_and(|c| c.holds(&v.etag, Some(v.last_modified)));
        if !holds {
            return Outcome::Full;
        }
    }
    let Some(specs) = headers.get("range").and_then(|r| parse_range(r).ok()) else {
        return Outcome::Full;
    };
    match specs.as_slice() {
        [one] => match one.resolve(len) {
            Some((first, last)) => Outcome::Partial { first, last },
            None => Outcome::Unsatisfiable,
        },
        many if many.iter().all(|s| s.resolve(len).is_none()) => Outcome::Unsatisfiable,
        _ => Outcome::Full,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_wire::http::date::imf_fixdate;

    const LEN: u64 = 1000;

    fn v() -> Validators {
        Validators::new(LEN, 784_111_777_000_000_123, 0xabc, 2_000_000_000)
    }

    fn eval(method: Method, fields: &[(&str, &str)]) -> Outcome {
        let mut h = Headers::new();
        for (n, val) in fields {
            h.append(n, val).unwrap();
        }
        evaluate(&method, &h, &v(), LEN)
    }

    #[test]
    fn etag_and_last_modified() {
        let v = v();
        assert_eq!(
            v.etag.to_string(),
            "\"3e8-ae1b981bc490a7b-0000000000000abc\""
        );
        assert_eq!(
            imf_fixdate(v.last_modified),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        // A future mtime is capped at now.
        assert_eq!(Validators::new(1, 5_000_000_000, 0, 3).last_modified, 3);
        let mut h = Fnv1a::default();
        h.update(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c, "FNV-1a 64 of \"a\"");
    }

    #[test]
    fn if_none_match_and_if_modified_since() {
        use Method::*;
        let tag = v().etag.to_string();
        let weak = format!("W/{tag}");
        let lm = imf_fixdate(v().last_modified);
        let older = imf_fixdate(v().last_modified - 1);
        assert_eq!(eval(Get, &[("If-None-Match", &tag)]), Outcome::NotModified);
        assert_eq!(
            eval(Head, &[("If-None-Match", &weak)]),
            Outcome::NotModified
        );
        assert_eq!(
            eval(Get, &[("If-None-Match", "\"x\", *")]),
            Outcome::Full,
            "malformed: absent"
        );
        assert_eq!(eval(Get, &[("If-None-Match", "*")]), Outcome::NotModified);
        assert_eq!(
            eval(Get, &[("If-Modified-Since", &lm)]),
            Outcome::NotModified
        );
        assert_eq!(eval(Get, &[("If-Modified-Since", &older)]), Outcome::Full);
        assert_eq!(
            eval(Get, &[("If-Modified-Since", "yesterday")]),
            Outcome::Full
        );
        // If-None-Match takes precedence (§13.2.2): a mismatch means 200
        // even though the date says "not modified".
        assert_eq!(
            eval(
                Get,
                &[("If-None-Match", "\"other\""), ("If-Modified-Since", &lm)]
            ),
            Outcome::Full
        );
        assert_eq!(
            eval(Post, &[("If-None-Match", &tag)]),
            Outcome::PreconditionFailed
        );
    }

    #[test]
    fn if_match_and_if_unmodified_since() {
        use Method::*;
        let tag = v().etag.to_string();
        assert_eq!(eval(Get, &[("If-Match", &tag)]), Outcome::Full);
        assert_eq!(
            eval(Get, &[("If-Match", "\"nope\"")]),
            Outcome::PreconditionFailed
        );
        assert_eq!(
            eval(Get, &[("If-Match", &format!("W/{tag}"))]),
            Outcome::PreconditionFailed
        );
        let older = imf_fixdate(v().last_modified - 1);
        assert_eq!(
            eval(Get, &[("If-Unmodified-Since", &older)]),
            Outcome::PreconditionFailed
        );
    }

    #[test]
    fn ranges() {
        use Method::*;
        let p = |first, last| Outcome::Partial { first, last };
        assert_eq!(eval(Get, &[("Range", "bytes=0-99")]), p(0, 99));
        assert_eq!(eval(Get, &[("Range", "bytes=900-")]), p(900, 999));
        assert_eq!(eval(Get, &[("Range", "bytes=-10")]), p(990, 999));
        assert_eq!(eval(Get, &[("Range", "bytes=990-5000")]), p(990, 999));
        assert_eq!(
            eval(Get, &[("Range", "bytes=1000-")]),
            Outcome::Unsatisfiable
        );
        assert_eq!(
            eval(Get, &[("Range", "bytes=2000-,3000-")]),
            Outcome::Unsatisfiable
        );
        assert_eq!(
            eval(Get, &[("Range", "bytes=0-1,5-6")]),
            Outcome::Full,
            "multi-range: 200"
        );
        assert_eq!(
            eval(Get, &[("Range", "bytes=5-1")]),
            Outcome::Full,
            "invalid: ignored"
        );
        assert_eq!(eval(Get, &[("Range", "pages=1-2")]), Outcome::Full);
        assert_eq!(eval(Head, &[("Range", "bytes=0-99")]), Outcome::Full);
        // If-Range: a strong tag or the exact date keeps the range.
        let tag = v().etag.to_string();
        let lm = imf_fixdate(v().last_modified);
        let r = ("Range", "bytes=0-9");
        assert_eq!(eval(Get, &[r, ("If-Range", &tag)]), p(0, 9));
        assert_eq!(eval(Get, &[r, ("If-Range", &lm)]), p(0, 9));
        assert_eq!(eval(Get, &[r, ("If-Range", "\"old\"")]), Outcome::Full);
        assert_eq!(
            eval(Get, &[r, ("If-Range", &format!("W/{tag}"))]),
            Outcome::Full
        );
        let older = imf_fixdate(v().last_modified - 1);
        assert_eq!(eval(Get, &[r, ("If-Range", &older)]), Outcome::Full);
        // A 304 outranks a range.
        assert_eq!(
            eval(Get, &[r, ("If-None-Match", &tag)]),
            Outcome::NotModified
        );
    }
}
