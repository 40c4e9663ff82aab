//! Byte ranges (RFC 9110 §14): the `Range` request header, the
//! `Content-Range` response header, and which part of a representation a
//! range selects.
//!
//! ```
//! use vnet_wire::http::{RangeSpec, parse_range};
//!
//! // RFC 9110 §14.1.2: "The first 500 bytes".
//! let specs = parse_range(b"bytes=0-499").unwrap();
//! assert_eq!(specs, vec![RangeSpec::FromTo(0, 499)]);
//! assert_eq!(specs[0].resolve(10_000), Some((0, 499)));
//! ```

use std::fmt;
use thiserror::Error;

/// Most range-specs accepted in one `Range` field: a request asking for
/// more is refused as a whole (RFC 9110 §14.2: "a server MAY ignore the
/// Range header field", e.g. when "a client requests an unusually large
/// number of ranges").
pub const MAX_RANGES: usize = 64;

/// Longest `Range` value parsed (bytes).
pub const MAX_RANGE_FIELD: usize = 1024;

/// One `int-range` or `suffix-range` of the `bytes` unit (RFC 9110
/// §14.1.1). Positions are inclusive, counted from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// `first-pos "-" last-pos`.
    FromTo(u64, u64),
    /// `first-pos "-"`: from there to the end.
    From(u64),
    /// `"-" suffix-length`: the last so many bytes.
    Suffix(u64),
}

/// Why a `Range` field is not a byte-range set this parser takes (the
/// server then ignores the field and answers 200 with the whole
/// representation, RFC 9110 §14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RangeError {
    /// The range unit is not `bytes` (RFC 9110 §14.1: a server MUST
    /// ignore a Range "that contains a range unit it does not understand").
    #[error("range unit is not bytes")]
    UnknownUnit,
    /// The value does not follow the grammar of §14.1.1.
    #[error("malformed range set")]
    Malformed,
    /// More than [`MAX_RANGES`] ranges, or longer than [`MAX_RANGE_FIELD`].
    #[error("too many ranges")]
    TooMany,
}

fn number(s: &[u8]) -> Result<u64, RangeError> {
    if s.is_empty() || s.len() > 19 || !s.iter().all(u8::is_ascii_digit) {
        return Err(RangeError::Malformed);
    }
    s.iter()
        .try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or(RangeError::Malformed)
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Parses a `Range` field value (RFC 9110 §14.2: `ranges-specifier =
/// range-unit "=" range-set`; `range-set = 1#range-spec`). The unit is
/// matched case-insensitively (§14.1: "Range unit names are
/// case-insensitive"); empty list elements are skipped (§5.6.1). An
/// `int-range` whose last-pos is below its first-pos is invalid (§14.1.1),
/// and so is the whole set.
pub fn parse_range(value: &[u8]) -> Result<Vec<RangeSpec>, RangeError> {
    if value.len() > MAX_RANGE_FIELD {
        return Err(RangeError::TooMany);
    }
    let value = trim(value);
    let eq = value
        .iter()
        .position(|&b| b == b'=')
        .ok_or(RangeError::Malformed)?;
    if !value[..eq].eq_ignore_ascii_case(b"bytes") {
        return Err(if value[..eq].is_empty() {
            RangeError::Malformed
        } else {
            RangeError::UnknownUnit
        });
    }
    let mut specs = Vec::new();
    for element in value[eq + 1..].split(|&b| b == b',').map(trim) {
        if element.is_empty() {
            continue;
        }
        if specs.len() == MAX_RANGES {
            return Err(RangeError::TooMany);
        }
        let dash = element
            .iter()
            .position(|&b| b == b'-')
            .ok_or(RangeError::Malformed)?;
        let (first, last) = (&element[..dash], &element[dash + 1..]);
        let spec = match (first.is_empty(), last.is_empty()) {
            (true, true) => return Err(RangeError::Malformed),
            (true, false) => RangeSpec::Suffix(number(last)?),
            (false, true) => RangeSpec::From(number(first)?),
            (false, false) => {
                let (a, b) = (number(first)?, number(last)?);
                if b < a {
                    return Err(RangeError::Malformed);
                }
                RangeSpec::FromTo(a, b)
            }
        };
        specs.push(spec);
    }
    if specs.is_empty() {
        return Err(RangeError::Malformed);
    }
    Ok(specs)
}

impl RangeSpec {
    /// The inclusive positions `(first, last)` this range selects from a
    /// representation of `len` bytes, or `None` when it is unsatisfiable
    /// (RFC 9110 §14.1.1: an int-range is satisfiable "if the first-pos is
    /// less than the current length", a suffix-range "if the
    /// suffix-length is not zero"; a last-pos at or beyond the length, or a
    /// suffix longer than it, is cut to the representation).
    pub fn resolve(self, len: u64) -> Option<(u64, u64)> {
        match self {
            RangeSpec::FromTo(a, b) if a < len => Some((a, b.min(len - 1))),
            RangeSpec::From(a) if a < len => Some((a, len - 1)),
            RangeSpec::Suffix(n) if n > 0 && len > 0 => Some((len - n.min(len), len - 1)),
            _ => None,
        }
    }
}

impl fmt::Display for RangeSpec {
    /// The range-spec as it is written in a `Range` field.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RangeSpec::FromTo(a, b) => write!(f, "{a}-{b}"),
            RangeSpec::From(a) => write!(f, "{a}-"),
            RangeSpec::Suffix(n) => write!(f, "-{n}"),
        }
    }
}

/// The `Range` field value for `specs`: `bytes=0-99,-5`.
pub fn range_value(specs: &[RangeSpec]) -> String {
    let list: Vec<String> = specs.iter().map(ToString::to_string).collect();
    format!("bytes={}", list.join(","))
}

/// A `Content-Range` value (RFC 9110 §14.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentRange {
    /// `bytes first-last/complete-length` (of a 206), the length `None`
    /// when written `*` (unknown).
    Bytes {
        /// First position, inclusive.
        first: u64,
        /// Last position, inclusive.
        last: u64,
        /// The whole representation's length, if known.
        complete: Option<u64>,
    },
    /// `bytes */complete-length` (of a 416: "a server generating a 416
    /// … response to a byte-range request SHOULD send a Content-Range
    /// header field with an unsatisfied-range value").
    Unsatisfied(u64),
}

impl fmt::Display for ContentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentRange::Bytes {
                first,
                last,
                complete: Some(n),
            } => write!(f, "bytes {first}-{last}/{n}"),
            ContentRange::Bytes {
                first,
                last,
                complete: None,
            } => write!(f, "bytes {first}-{last}/*"),
            ContentRange::Unsatisfied(n) => write!(f, "bytes */{n}"),
        }
    }
}

impl ContentRange {
    /// Parses a `Content-Range` value (RFC 9110 §14.4: `range-unit SP (
    /// range-resp / unsatisfied-range )`, `range-resp = incl-range "/" (
    /// complete-length / "*" )`). A range whose last position is below its
    /// first, or not below a known complete length, is invalid ("A
    /// Content-Range field value is invalid if it contains a range-resp
    /// that has a last-pos value less than its first-pos value, or a
    /// complete-length value less than or equal to its last-pos value").
    pub fn parse(value: &[u8]) -> Result<ContentRange, RangeError> {
        let value = trim(value);
        if value.len() > MAX_RANGE_FIELD {
            return Err(RangeError::TooMany);
        }
        let sp = value
            .iter()
            .position(|&b| b == b' ')
            .ok_or(RangeError::Malformed)?;
        if !value[..sp].eq_ignore_ascii_case(b"bytes") {
            return Err(RangeError::UnknownUnit);
        }
        let rest = &value[sp + 1..];
        let slash = rest
            .iter()
            .position(|&b| b == b'/')
            .ok_or(RangeError::Malformed)?;
        let (range, length) = (&rest[..slash], &rest[slash + 1..]);
        if range == b"*" {
            return Ok(ContentRange::Unsatisfied(number(length)?));
        }
        let dash = range
            .iter()
            .position(|&b| b == b'-')
            .ok_or(RangeError::Malformed)?;
        let (first, last) = (number(&range[..dash])?, number(&range[dash + 1..])?);
        let complete = match length {
            b"*" => None,
            n => Some(number(n)?),
        };
        if last < first || complete.is_some_and(|n| n <= last) {
            return Err(RangeError::Malformed);
        }
        Ok(ContentRange::Bytes {
            first,
            last,
            complete,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Range value, what it parses to, and what it selects.
    type Case<'a> = (&'a [u8], &'a [RangeSpec], &'a [(u64, u64)]);

    #[test]
    fn rfc_9110_examples() {
        use RangeSpec::*;
        // §14.1.2's examples, on a 10000-byte representation.
        let cases: [Case<'_>; 7] = [
            (b"bytes=0-499", &[FromTo(0, 499)], &[(0, 499)]),
            (b"bytes=500-999", &[FromTo(500, 999)], &[(500, 999)]),
            (b"bytes=-500", &[Suffix(500)], &[(9500, 9999)]),
            (b"bytes=9500-", &[From(9500)], &[(9500, 9999)]),
            (
                b"bytes=0-0,-1",
                &[FromTo(0, 0), Suffix(1)],
                &[(0, 0), (9999, 9999)],
            ),
            (
                b"bytes= 0-999, 4500-5499, -1000",
                &[FromTo(0, 999), FromTo(4500, 5499), Suffix(1000)],
                &[(0, 999), (4500, 5499), (9000, 9999)],
            ),
            (
                b"Bytes=500-600,601-999",
                &[FromTo(500, 600), FromTo(601, 999)],
                &[(500, 600), (601, 999)],
            ),
        ];
        for (value, specs, resolved) in cases {
            let parsed = parse_range(value).unwrap();
            assert_eq!(parsed, specs, "{}", String::from_utf8_lossy(value));
            let got: Vec<_> = parsed.iter().filter_map(|s| s.resolve(10_000)).collect();
            assert_eq!(got, resolved);
        }
    }

    #[test]
    fn satisfiability() {
        assert_eq!(RangeSpec::From(10).resolve(10), None);
        assert_eq!(RangeSpec::FromTo(5, 1_000_000).resolve(10), Some((5, 9)));
        assert_eq!(RangeSpec::Suffix(0).resolve(10), None);
        assert_eq!(RangeSpec::Suffix(50).resolve(10), Some((0, 9)));
        assert_eq!(RangeSpec::Suffix(1).resolve(0), None);
        assert_eq!(RangeSpec::FromTo(0, 0).resolve(0), None);
    }

    #[test]
    fn refused_values() {
        for (bad, why) in [
            (&b"bytes=5-1"[..], RangeError::Malformed),
            (b"bytes=", RangeError::Malformed),
            (b"bytes=-", RangeError::Malformed),
            (b"bytes=a-b", RangeError::Malformed),
            (b"bytes 0-1", RangeError::Malformed),
            (b"=0-1", RangeError::Malformed),
            (b"bytes=99999999999999999999-", RangeError::Malformed),
            (b"items=0-1", RangeError::UnknownUnit),
            (b"bytes=+1-2", RangeError::Malformed),
        ] {
            assert_eq!(
                parse_range(bad),
                Err(why),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let many = format!("bytes={}", vec!["0-1"; MAX_RANGES + 1].join(","));
        assert_eq!(parse_range(many.as_bytes()), Err(RangeError::TooMany));
    }

    #[test]
    fn content_range_values() {
        // RFC 9110 §14.4's examples.
        let cases = [
            (
                "bytes 42-1233/1234",
                ContentRange::Bytes {
                    first: 42,
                    last: 1233,
                    complete: Some(1234),
                },
            ),
            (
                "bytes 42-1233/*",
                ContentRange::Bytes {
                    first: 42,
                    last: 1233,
                    complete: None,
                },
            ),
            ("bytes */1234", ContentRange::Unsatisfied(1234)),
        ];
        for (text, cr) in cases {
            assert_eq!(ContentRange::parse(text.as_bytes()), Ok(cr));
            assert_eq!(cr.to_string(), text);
        }
        assert!(ContentRange::parse(b"bytes 5-4/10").is_err());
        assert!(ContentRange::parse(b"bytes 0-10/10").is_err());
        assert!(ContentRange::parse(b"lines 0-1/10").is_err());
    }
}
