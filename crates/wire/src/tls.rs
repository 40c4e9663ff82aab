//! A TLS dissector (sans-IO): the record layer of TLS 1.2 and 1.3, the
//! handshake message headers, and summaries of ClientHello and ServerHello,
//! enough to say in one line what a TCP segment to port 443 carries.
//!
//! * [`parse_records`] walks the records of a TCP payload (RFC 8446 §5.1,
//!   RFC 5246 §6.2.1); the last one may continue in the next segment.
//! * [`parse_handshakes`] walks the handshake messages of a Handshake
//!   record's fragment (RFC 8446 §4, RFC 5246 §7.4).
//! * [`ClientHello`] and [`ServerHello`] read the fields a trace cares about
//!   (RFC 8446 §4.1.2, §4.1.3, §4.2): SNI (RFC 6066 §3), ALPN (RFC 7301),
//!   versions, cipher suites, groups and key shares.
//! * [`summary`] writes the one-line text of [`describe`](crate::describe),
//!   e.g. `TLS 1.2 Server Hello TLS 1.3 TLS_AES_256_GCM_SHA384 x25519`.
//!
//! Nothing is decrypted: after the handshake keys are in use, records are
//! named for what is on the wire (TLS 1.3 sends its encrypted handshake as
//! Application Data records, RFC 8446 §5.2). No input makes anything here
//! panic.
//!
//! ```
//! use vnet_wire::tls::{self, ContentType};
//!
//! let bytes = tls::emit_record(ContentType::ChangeCipherSpec, 0x0303, &[1]).unwrap();
//! assert!(tls::looks_like_tls(&bytes));
//! assert_eq!(tls::summary(&bytes).unwrap(), "TLS 1.2 Change Cipher Spec");
//! ```

use thiserror::Error;

mod names;
mod summary;

pub use names::{CipherSuite, ContentType, HandshakeType, NamedGroup, ProtocolVersion, is_grease};
pub use summary::summary;

/// The HTTPS port (RFC 9110 §4.2.2: "the default port is 443").
pub const HTTPS_PORT: u16 = 443;
/// The alternative HTTPS port (IANA "pcsync-https", commonly HTTPS).
pub const HTTPS_ALT_PORT: u16 = 8443;
/// Length of a record header: type, legacy_record_version, length
/// (RFC 8446 §5.1).
pub const RECORD_HEADER_LEN: usize = 5;
/// The longest record fragment allowed (RFC 8446 §5.2: "The length MUST NOT
/// exceed 2^14 + 256 bytes"; RFC 5246 §6.2.3 allows 2^14 + 2048 for TLS 1.2
/// ciphertext, which no common cipher reaches).
pub const MAX_RECORD_LEN: usize = (1 << 14) + 256;
/// Length of a handshake message header: msg_type, uint24 length
/// (RFC 8446 §4).
pub const HANDSHAKE_HEADER_LEN: usize = 4;
/// The `random` of a ServerHello that is a HelloRetryRequest (RFC 8446
/// §4.1.3: "the special value of the SHA-256 of 'HelloRetryRequest'").
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Why TLS bytes could not be dissected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlsError {
    /// The bytes end before the structure does (it may continue in the next
    /// TCP segment or record).
    #[error("{what} truncated")]
    Truncated {
        /// The structure, e.g. `"TLS record header"`.
        what: &'static str,
    },
    /// A record longer than [`MAX_RECORD_LEN`] (RFC 8446 §5.2: the receiver
    /// "MUST terminate the connection with a \"record_overflow\" alert").
    #[error("TLS record length {length} exceeds 2^14 + 256")]
    RecordTooLong {
        /// The record's length field.
        length: u16,
    },
    /// Lengths or values that contradict each other or the RFC.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// The structure, e.g. `"ClientHello"`.
        what: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

fn malformed(what: &'static str, reason: &'static str) -> TlsError {
    TlsError::Malformed { what, reason }
}

// ---------------------------------------------------------------- records

/// A record header (RFC 8446 §5.1 `TLSPlaintext`/`TLSCiphertext`; RFC 5246
/// §6.2.1): "type", "legacy_record_version" and "length" of the fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    /// The record's content type.
    pub content_type: ContentType,
    /// `legacy_record_version`: 0x0303, or 0x0301 in an initial
    /// ClientHello (RFC 8446 §5.1).
    pub version: u16,
    /// Length of the fragment that follows the header.
    pub length: u16,
}

impl RecordHeader {
    /// Reads the header at the start of `data`: [`TlsError::Truncated`]
    /// below 5 bytes, [`TlsError::RecordTooLong`] past [`MAX_RECORD_LEN`].
    pub fn parse(data: &[u8]) -> Result<RecordHeader, TlsError> {
        let Some(&[t, v0, v1, l0, l1]) = data.first_chunk::<RECORD_HEADER_LEN>() else {
            return Err(TlsError::Truncated {
                what: "TLS record header",
            });
        };
        let length = u16::from_be_bytes([l0, l1]);
        if usize::from(length) > MAX_RECORD_LEN {
            return Err(TlsError::RecordTooLong { length });
        }
        Ok(RecordHeader {
            content_type: ContentType::from(t),
            version: u16::from_be_bytes([v0, v1]),
            length,
        })
    }

    /// The 5 header bytes.
    pub fn to_bytes(&self) -> [u8; RECORD_HEADER_LEN] {
        let [v0, v1] = self.version.to_be_bytes();
        let [l0, l1] = self.length.to_be_bytes();
        [u8::from(self.content_type), v0, v1, l0, l1]
    }
}

/// Builds a record (RFC 8446 §5.1): header and `fragment`; fails with
/// [`TlsError::RecordTooLong`] past [`MAX_RECORD_LEN`].
pub fn emit_record(
    content_type: ContentType,
    version: u16,
    fragment: &[u8],
) -> Result<Vec<u8>, TlsError> {
    let length = u16::try_from(fragment.len())
        .ok()
        .filter(|&l| usize::from(l) <= MAX_RECORD_LEN)
        .ok_or(TlsError::RecordTooLong { length: u16::MAX })?;
    let header = RecordHeader {
        content_type,
        version,
        length,
    };
    let mut b = Vec::with_capacity(RECORD_HEADER_LEN + fragment.len());
    b.extend_from_slice(&header.to_bytes());
    b.extend_from_slice(fragment);
    Ok(b)
}

/// One record of a TCP payload (RFC 8446 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Its header.
    pub header: RecordHeader,
    /// The fragment bytes present: all `header.length` of them, or fewer
    /// when the record continues in the next segment.
    pub fragment: &'a [u8],
    /// Whether the whole fragment is present.
    pub complete: bool,
}

/// The records of a TCP payload that starts at a record boundary
/// ([`parse_records`]).
///
/// Yields each record; at a header cut short by the end of the data
/// ([`TlsError::Truncated`]) or a length past [`MAX_RECORD_LEN`] it yields
/// the error and stops, since the next boundary is then unknown.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, TlsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let header = match RecordHeader::parse(self.rest) {
            Ok(h) => h,
            Err(e) => {
                self.rest = &[];
                return Some(Err(e));
            }
        };
        let body = self.rest.get(RECORD_HEADER_LEN..).unwrap_or_default();
        let (fragment, rest) = body.split_at(body.len().min(usize::from(header.length)));
        self.rest = rest;
        Some(Ok(Record {
            header,
            fragment,
            complete: fragment.len() == usize::from(header.length),
        }))
    }
}

/// Walks the records in `data` (RFC 8446 §5.1: records are back to back in
/// the stream; the last may be incomplete).
pub fn parse_records(data: &[u8]) -> Records<'_> {
    Records { rest: data }
}

/// Whether `data` plausibly starts with a TLS record: a content type from
/// 20 to 24, a version 3.0 to 3.4 (SSL 3.0 to TLS 1.3), and a length of at
/// most [`MAX_RECORD_LEN`], zero only for Application Data (RFC 8446 §5.1:
/// "Zero-length fragments of Application Data MAY be sent").
///
/// A segment that continues a record from an earlier one cannot be
/// recognised reliably and usually fails this test.
pub fn looks_like_tls(data: &[u8]) -> bool {
    let Ok(h) = RecordHeader::parse(data) else {
        return false;
    };
    matches!(u8::from(h.content_type), 20..=24)
        && (0x0300..=0x0304).contains(&h.version)
        && (h.length > 0 || h.content_type == ContentType::ApplicationData)
}

// ---------------------------------------------------------------- handshake

/// One handshake message (RFC 8446 §4: `msg_type`, uint24 `length`, body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeMessage<'a> {
    /// Its type.
    pub msg_type: HandshakeType,
    /// The body length the header declares.
    pub length: u32,
    /// The body bytes present, all `length` of them unless the message
    /// continues in the next record (RFC 8446 §5.1: "Handshake messages MAY
    /// be fragmented across several such records") or segment.
    pub body: &'a [u8],
    /// Whether the whole body is present.
    pub complete: bool,
}

/// The handshake messages of a Handshake record's fragment (RFC 8446 §4,
/// [`parse_handshakes`]); a header cut short yields
/// [`TlsError::Truncated`] and ends the walk.
#[derive(Debug, Clone)]
pub struct Handshakes<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Handshakes<'a> {
    type Item = Result<HandshakeMessage<'a>, TlsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(&[t, l0, l1, l2]) = self.rest.first_chunk::<HANDSHAKE_HEADER_LEN>() else {
            self.rest = &[];
            return Some(Err(TlsError::Truncated {
                what: "handshake header",
            }));
        };
        let length = u32::from_be_bytes([0, l0, l1, l2]);
        let after = self.rest.get(HANDSHAKE_HEADER_LEN..).unwrap_or_default();
        let want = usize::try_from(length).unwrap_or(usize::MAX);
        let (body, rest) = after.split_at(after.len().min(want));
        self.rest = rest;
        Some(Ok(HandshakeMessage {
            msg_type: HandshakeType::from(t),
            length,
            body,
            complete: body.len() == want,
        }))
    }
}

/// Walks the handshake messages in a Handshake record's fragment (RFC 8446
/// §5.1: several may share a record; the last may continue in the next).
pub fn parse_handshakes(fragment: &[u8]) -> Handshakes<'_> {
    Handshakes { rest: fragment }
}

/// A bounded reader over a vector whose declared length may exceed the
/// bytes present (a message cut by the end of a segment): reading past the
/// declared length is [`TlsError::Malformed`], past the bytes present
/// [`TlsError::Truncated`].
struct Reader<'a> {
    data: &'a [u8],
    len: usize,
    pos: usize,
    what: &'static str,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8], len: usize, what: &'static str) -> Self {
        let data = data.get(..len).unwrap_or(data);
        Reader {
            data,
            len,
            pos: 0,
            what,
        }
    }

    fn is_done(&self) -> bool {
        self.pos >= self.len
    }

    fn take(&mut self, n: usize, reason: &'static str) -> Result<&'a [u8], TlsError> {
        if n > self.len.saturating_sub(self.pos) {
            return Err(malformed(self.what, reason));
        }
        let start = self.pos;
        self.pos += n;
        self.data
            .get(start..self.pos)
            .ok_or(TlsError::Truncated { what: self.what })
    }

    fn u8(&mut self, reason: &'static str) -> Result<u8, TlsError> {
        self.take(1, reason)
            .map(|b| b.first().copied().unwrap_or(0))
    }

    fn u16(&mut self, reason: &'static str) -> Result<u16, TlsError> {
        let b = self.take(2, reason)?;
        Ok(crate::be16(b, 0))
    }

    /// A vector with a `len_bytes`-octet length prefix (RFC 8446 §3.4),
    /// as a reader of its own; the outer reader moves past it.
    fn vec(&mut self, len_bytes: usize, reason: &'static str) -> Result<Reader<'a>, TlsError> {
        let n = match len_bytes {
            1 => usize::from(self.u8(reason)?),
            _ => usize::from(self.u16(reason)?),
        };
        if n > self.len.saturating_sub(self.pos) {
            return Err(malformed(self.what, reason));
        }
        let data = self.data.get(self.pos..).unwrap_or_default();
        self.pos += n;
        Ok(Reader::new(data, n, self.what))
    }

    /// A non-empty vector of `u16` code points (RFC 8446 §4.1.2
    /// `cipher_suites<2..2^16-2>`, §4.2.1, §4.2.7).
    fn u16_list(&mut self, len_bytes: usize, reason: &'static str) -> Result<Vec<u16>, TlsError> {
        let mut r = self.vec(len_bytes, reason)?;
        if r.len % 2 != 0 || r.len == 0 {
            return Err(malformed(self.what, reason));
        }
        let mut v = Vec::with_capacity(r.len / 2);
        while !r.is_done() {
            v.push(r.u16(reason)?);
        }
        Ok(v)
    }

    /// Fails unless every declared byte has been read.
    fn end(&self, reason: &'static str) -> Result<(), TlsError> {
        if self.pos == self.len {
            Ok(())
        } else {
            Err(malformed(self.what, reason))
        }
    }
}

/// Walks the `extensions` that end a hello (RFC 8446 §4.2: `Extension
/// extensions<8..2^16-1>`), calling `ext(type, data)` for each one present
/// whole; returns whether all of them were present.
fn hello_extensions(
    r: &mut Reader<'_>,
    mut ext: impl FnMut(u16, &mut Reader<'_>) -> Result<(), TlsError>,
) -> Result<bool, TlsError> {
    if r.is_done() {
        // RFC 5246 §7.4.1.2: a TLS 1.2 hello may end without extensions.
        return Ok(true);
    }
    let mut step = |r: &mut Reader<'_>| -> Result<bool, TlsError> {
        let mut exts = r.vec(2, "extensions length")?;
        r.end("bytes after the extensions")?;
        while !exts.is_done() {
            let ty = exts.u16("extension header")?;
            let mut data = exts.vec(2, "extension length")?;
            if data.data.len() < data.len {
                // Cut by the end of the segment: keep what was read.
                return Ok(false);
            }
            ext(ty, &mut data)?;
            data.end("extension longer than its contents")?;
        }
        Ok(true)
    };
    match step(r) {
        Err(TlsError::Truncated { .. }) => Ok(false),
        other => other,
    }
}

/// Extension types read by the hello summaries (RFC 8446 §4.2).
mod ext {
    pub const SERVER_NAME: u16 = 0;
    pub const SUPPORTED_GROUPS: u16 = 10;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
    pub const KEY_SHARE: u16 = 51;
}

/// `opaque ProtocolName<1..2^8-1>` (RFC 7301 §3.1), lossily as text.
fn protocol_name(r: &mut Reader<'_>) -> Result<String, TlsError> {
    let mut p = r.vec(1, "ALPN protocol name")?;
    if p.len == 0 {
        return Err(malformed(p.what, "empty ALPN protocol name"));
    }
    let b = p.take(p.len, "ALPN protocol name")?;
    Ok(String::from_utf8_lossy(b).into_owned())
}

/// What a ClientHello offers (RFC 8446 §4.1.2; RFC 5246 §7.4.1.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// `legacy_version` (0x0303 for TLS 1.2 and 1.3 clients).
    pub legacy_version: u16,
    /// Length of `legacy_session_id` (0 to 32).
    pub session_id_len: u8,
    /// `cipher_suites`, in the client's order of preference.
    pub cipher_suites: Vec<u16>,
    /// The `host_name` of the server_name extension (RFC 6066 §3), lossily
    /// decoded.
    pub server_name: Option<String>,
    /// The supported_versions extension (RFC 8446 §4.2.1).
    pub supported_versions: Vec<u16>,
    /// The supported_groups extension (RFC 8446 §4.2.7).
    pub supported_groups: Vec<u16>,
    /// The groups of the key_share extension's `client_shares` (RFC 8446
    /// §4.2.8).
    pub key_share_groups: Vec<u16>,
    /// The application_layer_protocol_negotiation extension's
    /// `protocol_name_list` (RFC 7301 §3.1), lossily decoded.
    pub alpn: Vec<String>,
    /// Whether every extension was present; `false` for a hello read by
    /// [`parse_partial`](Self::parse_partial) from a prefix.
    pub complete: bool,
}

impl ClientHello {
    /// Reads a complete ClientHello body (after the 4-byte handshake
    /// header).
    pub fn parse(body: &[u8]) -> Result<ClientHello, TlsError> {
        Self::parse_partial(body, body.len())
    }

    /// Reads the first bytes, `present`, of a body of `length` bytes: the
    /// extensions present are read (a cut one is dropped) and
    /// [`complete`](Self::complete) tells whether any were missing.
    /// Fails with [`TlsError::Truncated`] if the fixed part up to the
    /// compression methods is cut, [`TlsError::Malformed`] if a length
    /// contradicts `length` or another length.
    pub fn parse_partial(present: &[u8], length: usize) -> Result<ClientHello, TlsError> {
        let mut r = Reader::new(present, length, "ClientHello");
        let mut h = ClientHello {
            legacy_version: r.u16("no legacy_version")?,
            ..ClientHello::default()
        };
        r.take(32, "no random")?;
        let sid = r.vec(1, "legacy_session_id")?;
        if sid.len > 32 {
            return Err(malformed("ClientHello", "legacy_session_id over 32 bytes"));
        }
        h.session_id_len = sid.len as u8;
        h.cipher_suites = r.u16_list(2, "cipher_suites")?;
        let mut comp = r.vec(1, "legacy_compression_methods")?;
        if comp.len == 0 {
            return Err(malformed("ClientHello", "no compression method"));
        }
        comp.take(comp.len, "legacy_compression_methods")?;
        h.complete = hello_extensions(&mut r, |ty, d| {
            match ty {
                ext::SERVER_NAME => {
                    let mut list = d.vec(2, "server_name list")?;
                    while !list.is_done() {
                        let name_type = list.u8("server_name entry")?;
                        let mut name = list.vec(2, "server_name host_name")?;
                        let bytes = name.take(name.len, "server_name host_name")?;
                        if name_type == 0 && h.server_name.is_none() {
                            h.server_name = Some(String::from_utf8_lossy(bytes).into_owned());
                        }
                    }
                }
                ext::SUPPORTED_GROUPS => h.supported_groups = d.u16_list(2, "supported_groups")?,
                ext::SUPPORTED_VERSIONS => {
                    h.supported_versions = d.u16_list(1, "supported_versions")?
                }
                ext::ALPN => {
                    let mut list = d.vec(2, "ALPN protocol_name_list")?;
                    let mut names = Vec::new();
                    while !list.is_done() {
                        names.push(protocol_name(&mut list)?);
                    }
                    h.alpn = names;
                }
                ext::KEY_SHARE => {
                    let mut list = d.vec(2, "key_share client_shares")?;
                    let mut groups = Vec::new();
                    while !list.is_done() {
                        groups.push(list.u16("key_share entry")?);
                        list.vec(2, "key_share key_exchange")?;
                    }
                    h.key_share_groups = groups;
                }
                _ => {
                    d.take(d.len, "extension data")?;
                }
            }
            Ok(())
        })?;
        Ok(h)
    }
}

/// What a ServerHello selects (RFC 8446 §4.1.3; RFC 5246 §7.4.1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// `legacy_version` (0x0303 in TLS 1.3).
    pub legacy_version: u16,
    /// Length of `legacy_session_id_echo` (0 to 32).
    pub session_id_len: u8,
    /// The selected `cipher_suite`.
    pub cipher_suite: u16,
    /// The negotiated version: the supported_versions extension if present
    /// (RFC 8446 §4.2.1), else `legacy_version`.
    pub selected_version: u16,
    /// The key_share extension's group (RFC 8446 §4.2.8): the server's
    /// share, or in a HelloRetryRequest the `selected_group`.
    pub key_share_group: Option<u16>,
    /// The ALPN protocol selected (RFC 7301 §3.1; TLS 1.2 only: TLS 1.3
    /// sends it encrypted).
    pub alpn: Option<String>,
    /// Whether `random` is [`HELLO_RETRY_REQUEST_RANDOM`]: this is a
    /// HelloRetryRequest (RFC 8446 §4.1.3).
    pub hello_retry_request: bool,
    /// Whether every extension was present (see
    /// [`ClientHello::parse_partial`]).
    pub complete: bool,
}

impl ServerHello {
    /// Reads a complete ServerHello body (after the 4-byte handshake
    /// header).
    pub fn parse(body: &[u8]) -> Result<ServerHello, TlsError> {
        Self::parse_partial(body, body.len())
    }

    /// Reads the first bytes, `present`, of a body of `length` bytes, as
    /// [`ClientHello::parse_partial`] does.
    pub fn parse_partial(present: &[u8], length: usize) -> Result<ServerHello, TlsError> {
        let mut r = Reader::new(present, length, "ServerHello");
        let legacy_version = r.u16("no legacy_version")?;
        let hrr = r.take(32, "no random")? == HELLO_RETRY_REQUEST_RANDOM;
        let sid = r.vec(1, "legacy_session_id_echo")?;
        if sid.len > 32 {
            return Err(malformed(
                "ServerHello",
                "legacy_session_id_echo over 32 bytes",
            ));
        }
        let mut h = ServerHello {
            legacy_version,
            session_id_len: sid.len as u8,
            cipher_suite: r.u16("no cipher_suite")?,
            selected_version: legacy_version,
            hello_retry_request: hrr,
            ..ServerHello::default()
        };
        r.u8("no legacy_compression_method")?;
        h.complete = hello_extensions(&mut r, |ty, d| {
            match ty {
                ext::SUPPORTED_VERSIONS => h.selected_version = d.u16("selected_version")?,
                ext::KEY_SHARE => {
                    h.key_share_group = Some(d.u16("key_share group")?);
                    if !hrr {
                        d.vec(2, "key_share key_exchange")?;
                    }
                }
                ext::ALPN => {
                    let mut list = d.vec(2, "ALPN protocol_name_list")?;
                    h.alpn = Some(protocol_name(&mut list)?);
                    list.end("ALPN selects one protocol")?;
                }
                _ => {
                    d.take(d.len, "extension data")?;
                }
            }
            Ok(())
        })?;
        Ok(h)
    }
}
