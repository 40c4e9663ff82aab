//! Message body length (RFC 9112 §6.3) and connection persistence (§9.3).

use super::{Headers, HttpError, Method, RequestHead, ResponseHead, Version};

/// How the body of a message is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    /// No body at all.
    None,
    /// Exactly this many octets follow the head (`Content-Length`).
    ContentLength(u64),
    /// The chunked transfer coding (RFC 9112 §7.1) follows.
    Chunked,
    /// The body runs until the server closes the connection (responses
    /// only, RFC 9112 §6.3 item 8).
    Close,
}

/// The body length of a request (RFC 9112 §6.3).
///
/// * `Transfer-Encoding` with `chunked` as its only coding → chunked;
///   chunked not last → 400 (item 4: "the server MUST respond with the 400
///   (Bad Request) status code and then close the connection"); other
///   codings → 501 (§6.1);
/// * `Transfer-Encoding` together with `Content-Length`, or in an HTTP/1.0
///   request, is refused as ambiguous (§6.1: "A server MAY reject a request
///   that contains both Content-Length and Transfer-Encoding or process
///   such a request in accordance with the Transfer-Encoding alone", and an
///   HTTP/1.0 message with Transfer-Encoding has "faulty" framing): this is
///   how request smuggling is stopped;
/// * a valid `Content-Length` → that many octets (item 6), where repeated
///   identical values count as one and differing or non-numeric ones are
///   an error (item 5);
/// * otherwise no body (item 7).
pub fn request_framing(head: &RequestHead) -> Result<BodyFraming, HttpError> {
    let h = &head.headers;
    if h.contains("transfer-encoding") {
        if head.version == Version::Http10 {
            return Err(HttpError::AmbiguousFraming {
                reason: "Transfer-Encoding in an HTTP/1.0 request",
            });
        }
        if h.contains("content-length") {
            return Err(HttpError::AmbiguousFraming {
                reason: "both Transfer-Encoding and Content-Length",
            });
        }
        let codings: Vec<&[u8]> = h.list("transfer-encoding").collect();
        return match codings.as_slice() {
            [only] if only.eq_ignore_ascii_case(b"chunked") => Ok(BodyFraming::Chunked),
            [.., last] if last.eq_ignore_ascii_case(b"chunked") => {
                if codings[..codings.len() - 1]
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(b"chunked"))
                {
                    Err(HttpError::malformed(
                        "Transfer-Encoding",
                        "chunked applied more than once",
                    ))
                } else {
                    Err(HttpError::UnsupportedTransferCoding)
                }
            }
            _ => Err(HttpError::malformed(
                "Transfer-Encoding",
                "chunked is not the final coding",
            )),
        };
    }
    Ok(match content_length(h)? {
        Some(0) | None => BodyFraming::None,
        Some(n) => BodyFraming::ContentLength(n),
    })
}

/// The body length of a response to a `method` request (RFC 9112 §6.3):
///
/// 1. responses to HEAD, and 1xx, 204 and 304 responses, have none;
/// 2. a 2xx response to CONNECT turns the connection into a tunnel
///    (treated as [`BodyFraming::Close`]);
/// 3. `Transfer-Encoding` ending in `chunked` → chunked, overriding any
///    `Content-Length`; other codings → read until close (item 4);
/// 4. an invalid `Content-Length` is an unrecoverable error (item 5);
/// 5. a valid one gives the length (item 6);
/// 6. otherwise the body runs until the server closes (item 8).
pub fn response_framing(head: &ResponseHead, method: &Method) -> Result<BodyFraming, HttpError> {
    let status = head.status;
    if *method == Method::Head || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(BodyFraming::None);
    }
    if *method == Method::Connect && (200..300).contains(&status) {
        return Ok(BodyFraming::Close);
    }
    let h = &head.headers;
    if h.contains("transfer-encoding") {
        if head.version == Version::Http10 {
            return Err(HttpError::AmbiguousFraming {
                reason: "Transfer-Encoding in an HTTP/1.0 response",
            });
        }
        let last = h.list("transfer-encoding").last();
        return Ok(match last {
            Some(c) if c.eq_ignore_ascii_case(b"chunked") => BodyFraming::Chunked,
            _ => BodyFraming::Close,
        });
    }
    Ok(match content_length(h)? {
        Some(0) => BodyFraming::None,
        Some(n) => BodyFraming::ContentLength(n),
        None => BodyFraming::Close,
    })
}

/// The `Content-Length` of a header section (RFC 9110 §8.6:
/// `Content-Length = 1*DIGIT`). Several fields, or a list, with one value
/// repeated count as that value ("a recipient MAY … replace the duplicated
/// field-values with a single valid Content-Length"); anything else is
/// [`HttpError::InvalidContentLength`].
pub(crate) fn content_length(h: &Headers) -> Result<Option<u64>, HttpError> {
    let mut found: Option<u64> = None;
    if h.contains("content-length") && h.list("content-length").next().is_none() {
        return Err(HttpError::InvalidContentLength);
    }
    for v in h.list("content-length") {
        if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
            return Err(HttpError::InvalidContentLength);
        }
        let n = v.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        match found {
            Some(prev) if prev != n => return Err(HttpError::InvalidContentLength),
            _ => found = Some(n),
        }
    }
    Ok(found)
}

/// Whether the connection stays open after this message (RFC 9112 §9.3):
///
/// * "If the close connection option is present …, the connection will
///   not persist after the current response";
/// * "otherwise, if the received protocol is HTTP/1.1 (or later), the
///   connection will persist";
/// * "otherwise, if the received protocol is HTTP/1.0, the 'keep-alive'
///   connection option is present …, the connection will persist";
/// * "otherwise, the connection will close".
pub fn keep_alive(version: Version, headers: &Headers) -> bool {
    if headers.has_token("connection", "close") {
        return false;
    }
    match version {
        Version::Http11 => true,
        Version::Http10 => headers.has_token("connection", "keep-alive"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Parse, parse_request_head, parse_response_head};

    fn req(text: &str) -> RequestHead {
        match parse_request_head(text.as_bytes()) {
            Ok(Parse::Complete { head, .. }) => head,
            other => panic!("{other:?}"),
        }
    }

    fn resp(text: &str) -> ResponseHead {
        match parse_response_head(text.as_bytes()) {
            Ok(Parse::Complete { head, .. }) => head,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn request_bodies() {
        let f = |t: &str| request_framing(&req(t));
        assert_eq!(f("GET / HTTP/1.1\r\n\r\n"), Ok(BodyFraming::None));
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"),
            Ok(BodyFraming::None)
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 12\r\ncontent-length: 12, 12\r\n\r\n"),
            Ok(BodyFraming::ContentLength(12))
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(BodyFraming::Chunked)
        );
        let status = |t: &str| f(t).map_err(|e| e.status());
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            Err(400)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
            Err(501)
        );
        assert_eq!(
            status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"),
            Err(400)
        );
    }

    #[test]
    fn response_bodies() {
        let get = Method::Get;
        let f = |t: &str, m: &Method| response_framing(&resp(t), m);
        assert_eq!(
            f(
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                &Method::Head
            ),
            Ok(BodyFraming::None)
        );
        assert_eq!(
            f(
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
                &get
            ),
            Ok(BodyFraming::None)
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", &get),
            Ok(BodyFraming::ContentLength(5))
        );
        assert_eq!(
            f(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                &get
            ),
            Ok(BodyFraming::Chunked)
        );
        assert_eq!(f("HTTP/1.0 200 OK\r\n\r\n", &get), Ok(BodyFraming::Close));
        assert!(f("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", &get).is_err());
    }

    #[test]
    fn persistence() {
        let h = |v: &str| {
            let mut h = Headers::new();
            h.append("Connection", v).unwrap();
            h
        };
        assert!(keep_alive(Version::Http11, &Headers::new()));
        assert!(!keep_alive(Version::Http11, &h("Close")));
        assert!(!keep_alive(Version::Http10, &Headers::new()));
        assert!(keep_alive(Version::Http10, &h("Keep-Alive")));
        assert!(!keep_alive(Version::Http10, &h("keep-alive, close")));
    }
}
