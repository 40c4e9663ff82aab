//! The chunked transfer coding (RFC 9112 §7.1): an incremental decoder and
//! an encoder.
//!
//! ```text
//! chunked-body   = *chunk last-chunk trailer-section CRLF
//! chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size     = 1*HEXDIG
//! last-chunk     = 1*("0") [ chunk-ext ] CRLF
//! trailer-section = *( field-line CRLF )
//! ```

use super::HttpError;

/// Longest chunk-size line accepted, extensions included (RFC 9112 §7.1.1:
/// "A recipient MUST … limit the total length of chunk extensions received
/// … to a reasonable length").
pub const MAX_CHUNK_LINE: usize = 4096;

/// Longest trailer section accepted; its fields are skipped (RFC 9112
/// §7.1.2: "A recipient that removes the chunked coding from a message MAY
/// selectively retain or discard the received trailer fields").
pub const MAX_TRAILER_SECTION: usize = 16 * 1024;

/// Most hex digits in a chunk size (a `u64`).
const MAX_SIZE_DIGITS: u8 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size,
    /// Inside chunk extensions, up to the line end.
    Extension,
    /// Saw CR after the size line; LF must follow.
    SizeLf,
    /// This many data octets of the current chunk remain.
    Data(u64),
    /// After chunk data: CR (or a bare LF) expected.
    DataCr,
    /// After chunk data and CR: LF expected.
    DataLf,
    /// At the start of a trailer line (or of the final empty line).
    TrailerStart,
    /// Inside a trailer field line.
    TrailerLine,
    /// Saw CR ending a trailer line; LF must follow.
    TrailerLineLf,
    /// Saw CR of the final empty line; LF must follow.
    EndLf,
    /// The whole chunked body has been read.
    Done,
}

/// How far one [`ChunkedDecoder::decode`] call got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeProgress {
    /// Input octets consumed. When `done`, the rest of the input belongs to
    /// the next message.
    pub consumed: usize,
    /// Whether the last chunk and trailer section have been read.
    pub done: bool,
}

/// An incremental decoder of a chunked body: feed it whatever arrived and
/// it appends the chunk data to an output buffer, keeping its state
/// between calls. The size line is bounded by [`MAX_CHUNK_LINE`], the
/// trailers by [`MAX_TRAILER_SECTION`], and the decoded body by the limit
/// given to [`ChunkedDecoder::new`] (checked against each chunk's declared
/// size, before its data arrives).
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    size: u64,
    digits: u8,
    line_len: usize,
    trailer_len: usize,
    total: u64,
    limit: u64,
}

impl ChunkedDecoder {
    /// A decoder for a body of at most `limit` decoded octets.
    pub fn new(limit: u64) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size,
            size: 0,
            digits: 0,
            line_len: 0,
            trailer_len: 0,
            total: 0,
            limit,
        }
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decoded octets so far.
    pub fn decoded_len(&self) -> u64 {
        self.total
    }

    /// Decodes from `input`, appending chunk data to `out`.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<DecodeProgress, HttpError> {
        let mut i = 0;
        while i < input.len() && self.state != State::Done {
            if let State::Data(left) = self.state {
                let avail = (input.len() - i) as u64;
                let n = left.min(avail) as usize;
                out.extend_from_slice(&input[i..i + n]);
                i += n;
                self.state = if left - n as u64 == 0 {
                    State::DataCr
                } else {
                    State::Data(left - n as u64)
                };
                continue;
            }
            self.step(input[i])?;
            i += 1;
        }
        Ok(DecodeProgress {
            consumed: i,
            done: self.state == State::Done,
        })
    }

    fn bad(reason: &'static str) -> HttpError {
        HttpError::BadChunk { reason }
    }

    fn step(&mut self, b: u8) -> Result<(), HttpError> {
        match self.state {
            State::Size | State::Extension => {
                self.line_len += 1;
                if self.line_len > MAX_CHUNK_LINE {
                    return Err(Self::bad("chunk-size line too long"));
                }
            }
            State::TrailerStart | State::TrailerLine => {
                self.trailer_len += 1;
                if self.trailer_len > MAX_TRAILER_SECTION {
                    return Err(Self::bad("trailer section too long"));
                }
            }
            _ => {}
        }
        match (self.state, b) {
            (State::Size, b) if b.is_ascii_hexdigit() => {
                if self.digits >= MAX_SIZE_DIGITS {
                    return Err(Self::bad("chunk size too large"));
                }
                let d = (b as char).to_digit(16).unwrap_or(0);
                self.size = (self.size << 4) | u64::from(d);
                self.digits += 1;
            }
            (State::Size, b';' | b' ' | b'\t') if self.digits > 0 => self.state = State::Extension,
            (State::Size, b'\r') if self.digits > 0 => self.state = State::SizeLf,
            (State::Size, b'\n') if self.digits > 0 => self.end_size_line()?,
            (State::Size, _) => return Err(Self::bad("chunk size is not hexadecimal")),
            (State::Extension, b'\r') => self.state = State::SizeLf,
            (State::Extension, b'\n') => self.end_size_line()?,
            (State::Extension, b) if b == b'\t' || (b >= 0x20 && b != 0x7f) => {}
            (State::Extension, _) => return Err(Self::bad("control character in chunk extension")),
            (State::SizeLf, b'\n') => self.end_size_line()?,
            (State::SizeLf, _) => return Err(Self::bad("bare CR in chunk-size line")),
            (State::DataCr, b'\r') => self.state = State::DataLf,
            (State::DataCr | State::DataLf, b'\n') => self.state = State::Size,
            (State::DataCr | State::DataLf, _) => {
                return Err(Self::bad("chunk data not followed by CRLF"));
            }
            (State::TrailerStart, b'\r') => self.state = State::EndLf,
            (State::TrailerStart | State::EndLf, b'\n') => self.state = State::Done,
            (State::TrailerLine, b'\r') => self.state = State::TrailerLineLf,
            (State::TrailerLine | State::TrailerLineLf, b'\n') => self.state = State::TrailerStart,
            (State::TrailerStart | State::TrailerLine, b)
                if b == b'\t' || (b >= 0x20 && b != 0x7f) =>
            {
                self.state = State::TrailerLine;
            }
            (State::TrailerStart | State::TrailerLine, _) => {
                return Err(Self::bad("control character in trailer"));
            }
            (State::TrailerLineLf | State::EndLf, _) => {
                return Err(Self::bad("bare CR in trailer"));
            }
            (State::Data(_) | State::Done, _) => {}
        }
        Ok(())
    }

    fn end_size_line(&mut self) -> Result<(), HttpError> {
        let size = self.size;
        self.size = 0;
        self.digits = 0;
        self.line_len = 0;
        if size == 0 {
            self.state = State::TrailerStart;
            return Ok(());
        }
        match self.total.checked_add(size) {
            Some(t) if t <= self.limit => self.total = t,
            _ => return Err(HttpError::BodyTooLarge { limit: self.limit }),
        }
        self.state = State::Data(size);
        Ok(())
    }
}

/// Appends `data` as one chunk: size in hex, CRLF, data, CRLF. Empty data
/// writes nothing (a zero-size chunk would end the body: use
/// [`encode_last_chunk`] for that).
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk and an empty trailer section: `0\r\n\r\n`.
pub fn encode_last_chunk(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9112 §7.1.3 decoding, fed one byte at a time and whole.
    #[test]
    fn decodes_bytewise_and_whole() {
        let body = b"4\r\nWiki\r\n5;ext=\"1\"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\nNEXT";
        let mut whole = ChunkedDecoder::new(1 << 20);
        let mut out = Vec::new();
        let p = whole.decode(body, &mut out).unwrap();
        assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.");
        assert_eq!((p.consumed, p.done), (body.len() - 4, true));
        let mut bytewise = ChunkedDecoder::new(1 << 20);
        let mut out2 = Vec::new();
        let mut used = 0;
        for b in body.chunks(1) {
            if bytewise.is_done() {
                break;
            }
            used += bytewise.decode(b, &mut out2).unwrap().consumed;
        }
        assert_eq!((out2, used), (out, body.len() - 4));
    }

    #[test]
    fn rejects_bad_input_and_enforces_limits() {
        let bad = |b: &[u8], limit: u64| {
            let mut d = ChunkedDecoder::new(limit);
            d.decode(b, &mut Vec::new()).map(|_| ())
        };
        assert!(bad(b"x\r\n", 100).is_err());
        assert!(bad(b"\r\n", 100).is_err());
        assert!(bad(b"3\r\nabcX", 100).is_err());
        assert!(bad(b"11111111111111111\r\n", u64::MAX).is_err());
        assert_eq!(
            bad(b"65\r\n", 100),
            Err(HttpError::BodyTooLarge { limit: 100 })
        );
        let long_ext = format!("1;{}\r\n", "a".repeat(MAX_CHUNK_LINE));
        assert!(bad(long_ext.as_bytes(), 100).is_err());
        let long_trailer = format!("0\r\nX: {}\r\n\r\n", "a".repeat(MAX_TRAILER_SECTION));
        assert!(bad(long_trailer.as_bytes(), 100).is_err());
    }

    #[test]
    fn encoder_round_trips() {
        let mut enc = Vec::new();
        encode_chunk(b"hello ", &mut enc);
        encode_chunk(b"", &mut enc);
        encode_chunk(&[7u8; 300], &mut enc);
        encode_last_chunk(&mut enc);
        assert!(enc.starts_with(b"6\r\nhello \r\n12c\r\n"));
        let mut d = ChunkedDecoder::new(1000);
        let mut out = Vec::new();
        assert!(d.decode(&enc, &mut out).unwrap().done);
        assert_eq!(out.len(), 306);
    }
}
