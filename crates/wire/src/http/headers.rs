//! Header fields (RFC 9110 §5, RFC 9112 §5).

use super::HttpError;

/// RFC 9110 §5.6.2: `tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" /
/// "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a `token` (RFC 9110 §5.6.2: `token = 1*tchar`), the
/// syntax of methods and field names.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// RFC 9110 §5.5: `field-vchar = VCHAR / obs-text`, with SP and HTAB
/// allowed inside a value. CR, LF, NUL and the other controls are not.
pub(crate) fn is_value_byte(b: u8) -> bool {
    b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80
}

/// One header field: a case-insensitive name and a value (RFC 9110 §5.1,
/// §5.5). The value is raw bytes because RFC 9110 §5.5 allows `obs-text`
/// (octets above 0x7F); [`Header::value_str`] views it as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Field name as it was written (compare with `eq_ignore_ascii_case`).
    pub name: String,
    /// Field value without leading or trailing whitespace (RFC 9112 §5.1:
    /// "OWS occurring before the first non-whitespace octet of the field
    /// line value, or after the last non-whitespace octet, is excluded").
    pub value: Vec<u8>,
}

impl Header {
    /// The value as UTF-8 text, if it is.
    pub fn value_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.value).ok()
    }
}

/// The header section of a message: an ordered list of fields. Names are
/// matched case-insensitively (RFC 9110 §5.1: "Field names are
/// case-insensitive"); order and repetitions are kept, as RFC 9110 §5.3
/// requires of a recipient that may combine repeated fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    fields: Vec<Header>,
}

impl Headers {
    /// An empty header section.
    pub fn new() -> Headers {
        Headers::default()
    }

    /// Number of field lines.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there is no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.fields.iter()
    }

    /// Adds a field at the end. The name must be a token and the value
    /// must hold no CR, LF or other control (RFC 9110 §5.5: "Field values
    /// containing CR, LF, or NUL characters are invalid and dangerous"), so
    /// nothing can be smuggled into the emitted message; surrounding
    /// whitespace is trimmed.
    pub fn append(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), HttpError> {
        if !is_token(name) {
            return Err(HttpError::malformed("header field", "name is not a token"));
        }
        let value = trim_ows(value.as_ref());
        if !value.iter().all(|&b| is_value_byte(b)) {
            return Err(HttpError::malformed(
                "header field",
                "value holds a control character",
            ));
        }
        self.push_unchecked(name.to_owned(), value.to_vec());
        Ok(())
    }

    /// Replaces every field named `name` by one with `value`.
    pub fn set(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<(), HttpError> {
        let mut fresh = Headers::new();
        fresh.append(name, value)?;
        self.remove(name);
        self.fields.extend(fresh.fields);
        Ok(())
    }

    /// Removes every field named `name`.
    pub fn remove(&mut self, name: &str) {
        self.fields.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }

    pub(crate) fn push_unchecked(&mut self, name: String, value: Vec<u8>) {
        self.fields.push(Header { name, value });
    }

    /// The value of the first field named `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// The value of the first field named `name`, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The values of every field named `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.fields
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// Whether a field named `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// How many fields are named `name`.
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// The comma-separated list elements of every field named `name`,
    /// trimmed, empty ones skipped (RFC 9110 §5.6.1: "a recipient MUST
    /// parse and ignore a reasonable number of empty list elements").
    pub fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.get_all(name)
            .flat_map(|v| v.split(|&b| b == b','))
            .map(trim_ows)
            .filter(|e| !e.is_empty())
    }

    /// Whether the list header `name` holds `token`, compared
    /// case-insensitively (`Connection: close`, RFC 9110 §7.6.1:
    /// "connection options are case-insensitive").
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.list(name)
            .any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
    }

    /// Writes every field line as `name: value\r\n` (RFC 9112 §5).
    pub fn emit(&self, out: &mut Vec<u8>) {
        for h in &self.fields {
            out.extend_from_slice(h.name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(&h.value);
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Strips optional whitespace (RFC 9110 §5.6.3: `OWS = *( SP / HTAB )`).
pub(crate) fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_lists_split() {
        let mut h = Headers::new();
        h.append("Connection", "Keep-Alive, ,Upgrade").unwrap();
        h.append("connection", " close ").unwrap();
        assert!(h.has_token("CONNECTION", "keep-alive"));
        assert!(h.has_token("Connection", "CLOSE"));
        assert_eq!(h.list("connection").count(), 3);
        assert_eq!(h.count("Connection"), 2);
        assert_eq!(h.get_str("CONNECTION"), Some("Keep-Alive, ,Upgrade"));
    }

    #[test]
    fn append_refuses_injection() {
        let mut h = Headers::new();
        assert!(h.append("X", "a\r\nSet-Cookie: x").is_err());
        assert!(h.append("Bad Name", "v").is_err());
        assert!(h.append("", "v").is_err());
        assert!(h.append("X", "a\0").is_err());
        h.set("Server", "a").unwrap();
        h.set("server", "b").unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h.get_str("SERVER"), Some("b"));
    }
}
