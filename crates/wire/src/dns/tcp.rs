//! DNS over TCP framing (RFC 1035 §4.2.2, RFC 7766 §8): every message is
//! preceded by a two-octet length field, most significant octet first.
//!
//! [`TcpFramer`] is sans-IO: feed it bytes as they arrive, in chunks of any
//! size, and take whole messages out. It never holds more than one frame
//! (2 + `max_len` octets): [`TcpFramer::push`] takes only what fits, and
//! a frame announcing more than `max_len` octets is an error (the caller
//! closes the connection). [`frame`] prefixes a message for sending.
//!
//! ```
//! use vnet_wire::dns::{TcpFramer, frame};
//!
//! let mut wire = frame(b"first").unwrap();
//! wire.extend(frame(b"second").unwrap());
//! let mut framer = TcpFramer::new(512);
//! let mut out = Vec::new();
//! let mut input = &wire[..];
//! while !input.is_empty() {
//!     let n = framer.push(&input[..input.len().min(3)]);
//!     input = &input[n..];
//!     while let Some(m) = framer.next_message().unwrap() {
//!         out.push(m);
//!     }
//! }
//! assert_eq!(out, [b"first".to_vec(), b"second".to_vec()]);
//! ```

/// Largest DNS message a TCP frame can carry: the length field is 16 bits.
pub const MAX_TCP_MESSAGE: usize = u16::MAX as usize;

/// Why a frame could not be built or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The peer announced a message longer than this side accepts.
    #[error("DNS/TCP frame of {len} octets exceeds the limit of {max}")]
    TooLong {
        /// The announced length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A message longer than a 16-bit length field can announce.
    #[error("DNS message of {0} octets does not fit a TCP frame (at most 65535)")]
    TooBig(usize),
}

/// `message` prefixed with its two-octet length (RFC 1035 §4.2.2).
pub fn frame(message: &[u8]) -> Result<Vec<u8>, FrameError> {
    let len = u16::try_from(message.len()).map_err(|_| FrameError::TooBig(message.len()))?;
    let mut out = Vec::with_capacity(message.len() + 2);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(message);
    Ok(out)
}

/// Reassembles length-prefixed DNS messages from a TCP byte stream.
#[derive(Debug, Clone)]
pub struct TcpFramer {
    buf: Vec<u8>,
    max_len: usize,
}

impl TcpFramer {
    /// A framer accepting messages of at most `max_len` octets (capped at
    /// [`MAX_TCP_MESSAGE`]).
    pub fn new(max_len: usize) -> TcpFramer {
        TcpFramer {
            buf: Vec::new(),
            max_len: max_len.min(MAX_TCP_MESSAGE),
        }
    }

    /// Takes as many of `bytes` as fit in one frame's worth of buffer and
    /// returns how many; the caller offers the rest after draining
    /// [`TcpFramer::next_message`]. Takes nothing while a complete message
    /// waits or the buffered length is over the limit.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let room = (self.max_len + 2).saturating_sub(self.buf.len());
        let n = bytes.len().min(room);
        self.buf.extend_from_slice(&bytes[..n]);
        n
    }

    /// The next complete message, `Ok(None)` when more bytes are needed, or
    /// an error when the announced length exceeds the limit (the stream
    /// cannot be resynchronised: close it).
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FrameError> {
        let [hi, lo, ..] = self.buf[..] else {
            return Ok(None);
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if len > self.max_len {
            return Err(FrameError::TooLong {
                len,
                max: self.max_len,
            });
        }
        if self.buf.len() < 2 + len {
            return Ok(None);
        }
        let message = self.buf[2..2 + len].to_vec();
        self.buf.drain(..2 + len);
        Ok(Some(message))
    }

    /// Octets buffered: a partial frame (or, between calls, whole ones not
    /// yet taken). Non-zero at end of stream means the peer stopped mid-frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_known_bytes() {
        assert_eq!(frame(b"abc"), Ok(b"\x00\x03abc".to_vec()));
        assert_eq!(frame(&[]), Ok(vec![0, 0]));
        assert_eq!(
            frame(&vec![0; 65536]),
            Err(FrameError::TooBig(65536)),
            "the length field is 16 bits"
        );
    }

    #[test]
    fn pipelined_messages_byte_by_byte() {
        let mut wire = frame(b"one").expect("frame");
        wire.extend(frame(b"").expect("frame"));
        wire.extend(frame(b"three").expect("frame"));
        let mut f = TcpFramer::new(100);
        let mut got = Vec::new();
        for b in &wire {
            assert_eq!(f.push(std::slice::from_ref(b)), 1);
            while let Some(m) = f.next_message().expect("ok") {
                got.push(m);
            }
        }
        assert_eq!(got, [b"one".to_vec(), vec![], b"three".to_vec()]);
        assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn oversized_frames_are_refused_and_the_buffer_is_bounded() {
        let mut f = TcpFramer::new(4);
        assert_eq!(f.push(b"\x00\x05hello"), 6, "at most 2 + 4 octets held");
        assert_eq!(
            f.next_message(),
            Err(FrameError::TooLong { len: 5, max: 4 })
        );
        let mut f = TcpFramer::new(4);
        assert_eq!(f.push(b"\x00\x02hi\x00\x02yo"), 6);
        assert_eq!(f.next_message(), Ok(Some(b"hi".to_vec())));
        assert_eq!(f.next_message(), Ok(None));
        assert_eq!(f.push(b"yo"), 2, "the rest of the second frame");
        assert_eq!(f.next_message(), Ok(Some(b"yo".to_vec())));
    }
}
