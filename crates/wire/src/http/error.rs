//! Why an HTTP message could not be parsed or framed.

use thiserror::Error;

/// An HTTP message (head or body) that cannot be accepted.
///
/// Each variant maps to the status code a server answers with
/// ([`HttpError::status`]); after any of them a server closes the
/// connection, because it can no longer tell where the next message starts
/// (RFC 9112 §6.3: "the server MUST close the connection after sending the
/// 400 (Bad Request) response").
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    /// The request line (or a response's status line) is longer than the
    /// limit. RFC 9112 §3: "A server that receives a request-target longer
    /// than any URI it wishes to parse MUST respond with a 414 (URI Too
    /// Long) status code".
    #[error("start line longer than {limit} bytes")]
    StartLineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The header section is longer than the limit (RFC 6585 §5: 431
    /// Request Header Fields Too Large).
    #[error("header section longer than {limit} bytes")]
    HeaderSectionTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// More header fields than the limit (431).
    #[error("more than {limit} header fields")]
    TooManyFields {
        /// The limit, in fields.
        limit: usize,
    },
    /// The message violates the grammar of RFC 9112 (400).
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// The element, e.g. `"request line"`.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A well-formed HTTP version other than 1.0 and 1.1 (RFC 9110 §15.6.6:
    /// 505 HTTP Version Not Supported).
    #[error("HTTP/{major}.{minor} is not supported")]
    UnsupportedVersion {
        /// Major version digit.
        major: u8,
        /// Minor version digit.
        minor: u8,
    },
    /// Content-Length is not a number, or several disagree (RFC 9112 §6.3
    /// item 5: "the message framing is invalid").
    #[error("invalid Content-Length")]
    InvalidContentLength,
    /// Transfer-Encoding with a coding other than `chunked` (RFC 9112 §6.1:
    /// "A server that receives a request message with a transfer coding it
    /// does not understand SHOULD respond with 501 (Not Implemented)").
    #[error("unsupported transfer coding")]
    UnsupportedTransferCoding,
    /// Both Transfer-Encoding and Content-Length, or Transfer-Encoding in an
    /// HTTP/1.0 message: RFC 9112 §6.1 says such framing is "faulty" and
    /// §6.3 item 3 that it "ought to be handled as an error" (request
    /// smuggling).
    #[error("ambiguous message framing: {reason}")]
    AmbiguousFraming {
        /// Which rule was broken.
        reason: &'static str,
    },
    /// The body is longer than the caller's limit (RFC 9110 §15.5.14: 413
    /// Content Too Large).
    #[error("body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The chunked transfer coding is malformed (RFC 9112 §7.1) (400).
    #[error("malformed chunked body: {reason}")]
    BadChunk {
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl HttpError {
    /// The status code a server answers this error with.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::StartLineTooLong { .. } => 414,
            HttpError::HeaderSectionTooLarge { .. } | HttpError::TooManyFields { .. } => 431,
            HttpError::UnsupportedVersion { .. } => 505,
            HttpError::UnsupportedTransferCoding => 501,
            HttpError::BodyTooLarge { .. } => 413,
            HttpError::Malformed { .. }
            | HttpError::InvalidContentLength
            | HttpError::AmbiguousFraming { .. }
            | HttpError::BadChunk { .. } => 400,
        }
    }

    pub(crate) fn malformed(what: &'static str, reason: &'static str) -> HttpError {
        HttpError::Malformed { what, reason }
    }
}
