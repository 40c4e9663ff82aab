//! Validators and preconditions (RFC 9110 §8.8, §13): entity tags, the
//! lists of `If-Match` / `If-None-Match`, and `If-Range`.
//!
//! ```
//! use vnet_wire::http::{EntityTag, EtagList};
//!
//! // RFC 9110 §13.1.2's example.
//! let list = EtagList::parse([&b"\"xyzzy\", \"r2d2xxxx\", \"c3piozzzz\""[..]]).unwrap();
//! let tag = EntityTag::strong("r2d2xxxx").unwrap();
//! assert!(list.matches_weak(&tag));
//! ```

use super::date::parse_http_date;
use std::fmt;
use thiserror::Error;

/// Most entity-tags accepted in one precondition list.
pub const MAX_ETAGS: usize = 64;
/// Longest opaque-tag accepted (bytes, quotes excluded).
pub const MAX_ETAG_LEN: usize = 256;

/// Why a validator field could not be parsed (vnet's server then treats
/// the precondition as absent; an unparsable `If-Range` makes it ignore
/// the `Range`, so the whole representation is sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ValidatorError {
    /// Not the grammar of RFC 9110 §8.8.3 / §13.1.
    #[error("malformed entity-tag list")]
    Malformed,
    /// More than [`MAX_ETAGS`] tags or a tag over [`MAX_ETAG_LEN`].
    #[error("entity-tag list too long")]
    TooLong,
}

/// `etagc = %x21 / %x23-7E / obs-text` (RFC 9110 §8.8.3).
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

/// An entity-tag (RFC 9110 §8.8.3: `entity-tag = [ weak ] opaque-tag`,
/// `weak = %s"W/"`, `opaque-tag = DQUOTE *etagc DQUOTE`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityTag {
    /// Whether it carries the weakness indicator `W/`.
    pub weak: bool,
    /// The opaque-tag without its quotes.
    pub opaque: Vec<u8>,
}

impl EntityTag {
    /// A strong tag, if `opaque` holds only `etagc` octets.
    pub fn strong(opaque: &str) -> Option<EntityTag> {
        let ok = opaque.len() <= MAX_ETAG_LEN && opaque.bytes().all(is_etagc);
        ok.then(|| EntityTag {
            weak: false,
            opaque: opaque.as_bytes().to_vec(),
        })
    }

    /// Parses one entity-tag at the start of `v`; the rest after it.
    fn parse_prefix(v: &[u8]) -> Result<(EntityTag, &[u8]), ValidatorError> {
        let (weak, v) = match v {
            [b'W', b'/', rest @ ..] => (true, rest),
            _ => (false, v),
        };
        let [b'"', rest @ ..] = v else {
            return Err(ValidatorError::Malformed);
        };
        let end = rest
            .iter()
            .position(|&b| b == b'"')
            .ok_or(ValidatorError::Malformed)?;
        let opaque = &rest[..end];
        if !opaque.iter().all(|&b| is_etagc(b)) {
            return Err(ValidatorError::Malformed);
        }
        if opaque.len() > MAX_ETAG_LEN {
            return Err(ValidatorError::TooLong);
        }
        let tag = EntityTag {
            weak,
            opaque: opaque.to_vec(),
        };
        Ok((tag, &rest[end + 1..]))
    }

    /// Parses a field value that is exactly one entity-tag (`ETag`,
    /// `If-Range`), surrounding whitespace allowed.
    pub fn parse(value: &[u8]) -> Result<EntityTag, ValidatorError> {
        let (tag, rest) = EntityTag::parse_prefix(super::headers::trim_ows(value))?;
        if rest.is_empty() {
            Ok(tag)
        } else {
            Err(ValidatorError::Malformed)
        }
    }

    /// Strong comparison (RFC 9110 §8.8.3.2): both strong, same opaque-tag.
    pub fn strong_eq(&self, other: &EntityTag) -> bool {
        !self.weak && !other.weak && self.opaque == other.opaque
    }

    /// The tag as written in a field value, byte for byte (obs-text kept;
    /// [`fmt::Display`] shows it lossily as UTF-8).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.opaque.len() + 4);
        if self.weak {
            out.extend_from_slice(b"W/");
        }
        out.push(b'"');
        out.extend_from_slice(&self.opaque);
        out.push(b'"');
        out
    }

    /// Weak comparison (§8.8.3.2): same opaque-tag, weakness ignored.
    pub fn weak_eq(&self, other: &EntityTag) -> bool {
        self.opaque == other.opaque
    }
}

impl fmt::Display for EntityTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.weak {
            f.write_str("W/")?;
        }
        write!(f, "\"{}\"", String::from_utf8_lossy(&self.opaque))
    }
}

/// The value of `If-Match` or `If-None-Match` (RFC 9110 §13.1.1,
/// §13.1.2: `"*" / #entity-tag`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagList {
    /// `*`: any current representation.
    Any,
    /// The listed tags.
    Tags(Vec<EntityTag>),
}

impl EtagList {
    /// Parses every field line of one precondition (a list may be split
    /// across lines, RFC 9110 §5.3). Commas may appear inside an
    /// opaque-tag, so tags are read one by one rather than split on
    /// commas; empty list elements are skipped (§5.6.1).
    pub fn parse<'a>(
        values: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<EtagList, ValidatorError> {
        let mut tags = Vec::new();
        let mut star = false;
        for value in values {
            let mut v = super::headers::trim_ows(value);
            if v == b"*" {
                star = true;
                continue;
            }
            loop {
                while let [b',' | b' ' | b'\t', rest @ ..] = v {
                    v = rest;
                }
                if v.is_empty() {
                    break;
                }
                if tags.len() == MAX_ETAGS {
                    return Err(ValidatorError::TooLong);
                }
                let (tag, rest) = EntityTag::parse_prefix(v)?;
                tags.push(tag);
                v = super::headers::trim_ows(rest);
                match v {
                    [] => break,
                    [b',', ..] => {}
                    _ => return Err(ValidatorError::Malformed),
                }
            }
        }
        match (star, tags.is_empty()) {
            (true, true) => Ok(EtagList::Any),
            (false, false) => Ok(EtagList::Tags(tags)),
            // "*" mixed with tags, or nothing at all.
            _ => Err(ValidatorError::Malformed),
        }
    }

    /// Whether the list matches `current` by weak comparison (how
    /// `If-None-Match` is evaluated, RFC 9110 §13.1.2).
    pub fn matches_weak(&self, current: &EntityTag) -> bool {
        match self {
            EtagList::Any => true,
            EtagList::Tags(tags) => tags.iter().any(|t| t.weak_eq(current)),
        }
    }

    /// Whether the list matches `current` by strong comparison (how
    /// `If-Match` is evaluated, RFC 9110 §13.1.1).
    pub fn matches_strong(&self, current: &EntityTag) -> bool {
        match self {
            EtagList::Any => true,
            EtagList::Tags(tags) => tags.iter().any(|t| t.strong_eq(current)),
        }
    }
}

impl EtagList {
    /// The list as written in a field value, byte for byte.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            EtagList::Any => b"*".to_vec(),
            EtagList::Tags(tags) => tags
                .iter()
                .map(EntityTag::to_bytes)
                .collect::<Vec<_>>()
                .join(&b", "[..]),
        }
    }
}

impl fmt::Display for EtagList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtagList::Any => f.write_str("*"),
            EtagList::Tags(tags) => {
                for (i, t) in tags.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                Ok(())
            }
        }
    }
}

/// The value of `If-Range` (RFC 9110 §13.1.5: `entity-tag / HTTP-date`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfRange {
    /// An entity-tag, compared strongly.
    Tag(EntityTag),
    /// An HTTP-date (Unix seconds), which must equal the Last-Modified.
    Date(u64),
}

impl IfRange {
    /// Parses an `If-Range` value: a quoted (or `W/`) tag, else a date.
    pub fn parse(value: &[u8]) -> Result<IfRange, ValidatorError> {
        let v = super::headers::trim_ows(value);
        if v.starts_with(b"\"") || v.starts_with(b"W/") {
            return EntityTag::parse(v).map(IfRange::Tag);
        }
        std::str::from_utf8(v)
            .ok()
            .and_then(parse_http_date)
            .map(IfRange::Date)
            .ok_or(ValidatorError::Malformed)
    }

    /// Whether the condition holds for a representation with `etag` and
    /// `last_modified` (RFC 9110 §13.1.5: a tag must match by strong
    /// comparison — a weak tag never does; a date must match the
    /// Last-Modified exactly, and only a strong date validator counts,
    /// which the caller vouches for by passing `last_modified`).
    pub fn holds(&self, etag: &EntityTag, last_modified: Option<u64>) -> bool {
        match self {
            IfRange::Tag(t) => t.strong_eq(etag),
            IfRange::Date(d) => last_modified == Some(*d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(weak: bool, s: &str) -> EntityTag {
        EntityTag {
            weak,
            opaque: s.as_bytes().to_vec(),
        }
    }

    #[test]
    fn rfc_9110_comparison_table() {
        // §8.8.3.2: W/"1" vs W/"1": no match strong, match weak; W/"1" vs
        // W/"2": neither; W/"1" vs "1": weak only; "1" vs "1": both.
        let cases = [
            (tag(true, "1"), tag(true, "1"), false, true),
            (tag(true, "1"), tag(true, "2"), false, false),
            (tag(true, "1"), tag(false, "1"), false, true),
            (tag(false, "1"), tag(false, "1"), true, true),
        ];
        for (a, b, strong, weak) in cases {
            assert_eq!((a.strong_eq(&b), a.weak_eq(&b)), (strong, weak), "{a} {b}");
        }
    }

    #[test]
    fn entity_tags_of_rfc_9110() {
        // §8.8.3's examples.
        assert_eq!(EntityTag::parse(b"\"xyzzy\""), Ok(tag(false, "xyzzy")));
        assert_eq!(EntityTag::parse(b"W/\"xyzzy\""), Ok(tag(true, "xyzzy")));
        assert_eq!(EntityTag::parse(b"\"\""), Ok(tag(false, "")));
        for bad in [
            &b"xyzzy"[..],
            b"\"a",
            b"w/\"a\"",
            b"\"a\"b",
            b"\"a\" \"b\"",
            b"\"a\"\"",
        ] {
            assert!(
                EntityTag::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(tag(true, "a,b").to_string(), "W/\"a,b\"");
    }

    #[test]
    fn lists_of_rfc_9110() {
        // §13.1.1 and §13.1.2's examples.
        let l = |v: &[u8]| EtagList::parse([v]);
        assert_eq!(l(b"*"), Ok(EtagList::Any));
        assert_eq!(
            l(b"\"xyzzy\", \"r2d2xxxx\", \"c3piozzzz\""),
            Ok(EtagList::Tags(vec![
                tag(false, "xyzzy"),
                tag(false, "r2d2xxxx"),
                tag(false, "c3piozzzz")
            ]))
        );
        assert_eq!(
            l(b"W/\"xyzzy\", W/\"r2d2xxxx\""),
            Ok(EtagList::Tags(vec![
                tag(true, "xyzzy"),
                tag(true, "r2d2xxxx")
            ]))
        );
        // A comma inside a tag, empty elements, two field lines.
        assert_eq!(
            EtagList::parse([&b" ,\"a,b\" ,,"[..], b"W/\"c\""]),
            Ok(EtagList::Tags(vec![tag(false, "a,b"), tag(true, "c")]))
        );
        for bad in [&b""[..], b"*, \"a\"", b"\"a\" \"b\"", b"a", b"\"a\",b"] {
            assert!(l(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let w = EtagList::parse([&b"W/\"v1\""[..]]).unwrap();
        assert!(w.matches_weak(&tag(false, "v1")));
        assert!(!w.matches_strong(&tag(false, "v1")));
    }

    #[test]
    fn if_range_values() {
        assert_eq!(
            IfRange::parse(b"\"xyzzy\""),
            Ok(IfRange::Tag(tag(false, "xyzzy")))
        );
        assert_eq!(
            IfRange::parse(b"Sun, 06 Nov 1994 08:49:37 GMT"),
            Ok(IfRange::Date(784_111_777))
        );
        assert!(IfRange::parse(b"yesterday").is_err());
        let current = tag(false, "v1");
        assert!(IfRange::parse(b"\"v1\"").unwrap().holds(&current, None));
        assert!(!IfRange::parse(b"W/\"v1\"").unwrap().holds(&current, None));
        assert!(IfRange::Date(5).holds(&current, Some(5)));
        assert!(!IfRange::Date(5).holds(&current, Some(6)));
        assert!(!IfRange::Date(5).holds(&current, None));
    }
}
