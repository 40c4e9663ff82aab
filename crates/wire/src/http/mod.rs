//! HTTP/1.1 message syntax (RFC 9112) and URLs (RFC 3986), sans-IO.
//!
//! What a web server and a browser need, and nothing that touches a socket
//! or a clock:
//!
//! * [`parse_request_head`] / [`parse_response_head`] read a message head
//!   from a byte buffer that may be incomplete: they answer
//!   [`Parse::Incomplete`] ("read more and call again") or
//!   [`Parse::Complete`] with the head and how many bytes it took. Limits
//!   are checked on incomplete input too, so a peer can never make the
//!   caller buffer more than [`Limits`] allows;
//! * [`RequestHead::emit`] / [`ResponseHead::emit`] write heads;
//! * [`request_framing`] / [`response_framing`] apply the message body
//!   length rules of RFC 9112 §6.3, and [`ChunkedDecoder`] /
//!   [`encode_chunk`] handle the chunked transfer coding (§7.1);
//! * [`keep_alive`] is the persistence rule of RFC 9112 §9.3;
//! * [`Url`] parses `http://user:pass@host:port/path?query#frag` and
//!   resolves relative references (RFC 3986 §5.2); [`percent_decode`]
//!   undoes percent-encoding (§2.1);
//! * [`date`] formats the `Date` header (RFC 9110 §5.6.7) and access-log
//!   timestamps from a Unix time given by the caller, and parses the three
//!   HTTP-date forms ([`date::parse_http_date`]);
//! * [`parse_range`] / [`ContentRange`] read and write byte ranges (RFC
//!   9110 §14); [`EntityTag`], [`EtagList`] and [`IfRange`] are the
//!   validators of conditional requests (§8.8, §13).
//!
//! Errors are [`HttpError`]s; [`HttpError::status`] is the status code a
//! server answers with (400, 413, 414, 431, 501, 505). Nothing here panics
//! on input bytes.
//!
//! ```
//! use vnet_wire::http::{parse_request_head, Method, Parse, Version};
//!
//! let bytes = b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
//! let Ok(Parse::Complete { head, len }) = parse_request_head(bytes) else { panic!() };
//! assert_eq!((head.method, head.target.as_str(), head.version), (Method::Get, "/index.html", Version::Http11));
//! assert_eq!(head.headers.get_str("host"), Some("www.example.com"));
//! assert_eq!(len, bytes.len());
//! ```

mod body;
mod chunked;
pub mod date;
mod error;
mod head;
mod headers;
mod percent;
mod ranges;
mod status;
mod url;
mod validators;

pub use body::{BodyFraming, keep_alive, request_framing, response_framing};
pub use chunked::{
    ChunkedDecoder, DecodeProgress, MAX_CHUNK_LINE, MAX_TRAILER_SECTION, encode_chunk,
    encode_last_chunk,
};
pub use error::HttpError;
pub use head::{
    Limits, Method, Parse, RequestHead, ResponseHead, Version, parse_request_head,
    parse_request_head_with, parse_response_head, parse_response_head_with,
};
pub use headers::{Header, Headers, is_token};
pub use percent::{percent_decode, percent_encode_path};
pub use ranges::{
    ContentRange, MAX_RANGE_FIELD, MAX_RANGES, RangeError, RangeSpec, parse_range, range_value,
};
pub use status::reason_phrase;
pub use url::{Host, Scheme, Url, UrlError, remove_dot_segments};
pub use validators::{EntityTag, EtagList, IfRange, MAX_ETAG_LEN, MAX_ETAGS, ValidatorError};

/// The well-known HTTP port (RFC 9110 §4.2.1: "the default port is 80").
pub const PORT: u16 = 80;
