//! Percent-encoding (RFC 3986 §2.1).

use super::HttpError;

/// Decodes `%XX` triplets (RFC 3986 §2.1: `pct-encoded = "%" HEXDIG
/// HEXDIG`). A `%` not followed by two hex digits is an error. `+` is left
/// as is: it means space only in HTML form data, not in a path.
///
/// The result is bytes, not text: `%2F` decodes to `/` and `%00` to NUL,
/// so a caller mapping a path to files must check decoded segments itself.
pub fn percent_decode(s: &str) -> Result<Vec<u8>, HttpError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |j: usize| b.get(j).and_then(|&c| (c as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                }
                _ => {
                    return Err(HttpError::malformed(
                        "percent-encoding",
                        "% not followed by two hex digits",
                    ));
                }
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

/// Whether `b` may appear unencoded in a path (RFC 3986 §3.3: `pchar =
/// unreserved / pct-encoded / sub-delims / ":" / "@"`, plus the `/`
/// separator).
pub(crate) fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b)
}

/// Percent-encodes every octet of `path` that is not allowed unencoded in
/// a path (RFC 3986 §2.1, uppercase hex as §2.1 recommends). `/` is kept,
/// so the caller encodes segment by segment if a segment holds one.
pub fn percent_encode_path(path: &[u8]) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path {
        if is_path_byte(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_encodes() {
        assert_eq!(percent_decode("/a%20b/%2e%2E/%2F").unwrap(), b"/a b/..//");
        assert!(percent_decode("/%zz").is_err());
        assert!(percent_decode("/%2").is_err());
        assert_eq!(
            percent_encode_path(b"/a b/\xc3\xa9?#"),
            "/a%20b/%C3%A9%3F%23"
        );
        assert_eq!(
            percent_decode(&percent_encode_path(b"/x y%z")).unwrap(),
            b"/x y%z"
        );
    }
}
