//! The cable envelope: the hand-written, versioned header in front of every
//! Ethernet frame carried in a UDP datagram.
//!
//! ```text
//! offset size field
//!      0    2 magic        "VN" (0x56 0x4E)
//!      2    1 version      1
//!      3    1 flags        bit 0: trace context present; bits 1-7 reserved (sent as 0, ignored on receive)
//!      4    4 seq          per-direction sequence number, big-endian, starts at 0, wraps
//!      8   25 trace ctx    only when flags bit 0 is set:
//!                          16 B trace id, 8 B parent span id, 1 B trace flags (W3C Trace Context)
//!  8|33    n frame        the Ethernet frame, including its 4-byte FCS
//! ```
//!
//! A fixed header keeps the emulated frame byte-exact, is trivially
//! dissectable, and never changes shape with a serializer's version.

use thiserror::Error;

/// The two magic bytes that open every envelope.
pub const MAGIC: [u8; 2] = *b"VN";
/// The envelope version this code emits and accepts.
pub const VERSION: u8 = 1;
/// Flag bit: a trace context follows the fixed header.
pub const FLAG_TRACE_CONTEXT: u8 = 0x01;
/// Length of the fixed part of the header.
pub const FIXED_HEADER_LEN: usize = 8;
/// Length of the optional trace context.
pub const TRACE_CONTEXT_LEN: usize = 25;
/// Longest header: fixed part plus trace context.
pub const MAX_HEADER_LEN: usize = FIXED_HEADER_LEN + TRACE_CONTEXT_LEN;

pub use vnet_wire::trace::TraceContext;

/// Why a datagram is not a valid envelope.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EnvelopeError {
    /// Shorter than the header it announces.
    #[error("envelope truncated: {len} bytes, header needs {needed}")]
    Truncated {
        /// Datagram length.
        len: usize,
        /// Bytes the header needs.
        needed: usize,
    },
    /// The first two bytes are not "VN".
    #[error("envelope magic is {found:02x?}, expected \"VN\"")]
    BadMagic {
        /// What was found.
        found: [u8; 2],
    },
    /// A version this build does not understand.
    #[error("envelope version {found} is not supported (this build speaks version {VERSION})")]
    UnsupportedVersion {
        /// Version byte found.
        found: u8,
    },
}

/// A decoded envelope header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    /// Sequence number of this datagram in its direction.
    pub seq: u32,
    /// Trace context, when present.
    pub trace: Option<TraceContext>,
}

impl Envelope {
    /// Length of this header on the wire.
    pub fn header_len(&self) -> usize {
        if self.trace.is_some() {
            MAX_HEADER_LEN
        } else {
            FIXED_HEADER_LEN
        }
    }

    /// Decodes a datagram; returns the header and the offset where the frame starts.
    pub fn decode(datagram: &[u8]) -> Result<(Envelope, usize), EnvelopeError> {
        if datagram.len() < FIXED_HEADER_LEN {
            return Err(EnvelopeError::Truncated {
                len: datagram.len(),
                needed: FIXED_HEADER_LEN,
            });
        }
        let magic = [datagram[0], datagram[1]];
        if magic != MAGIC {
            return Err(EnvelopeError::BadMagic { found: magic });
        }
        if datagram[2] != VERSION {
            return Err(EnvelopeError::UnsupportedVersion { found: datagram[2] });
        }
        let flags = datagram[3];
        let seq = u32::from_be_bytes([datagram[4], datagram[5], datagram[6], datagram[7]]);
        if flags & FLAG_TRACE_CONTEXT == 0 {
            return Ok((Envelope { seq, trace: None }, FIXED_HEADER_LEN));
        }
        if datagram.len() < MAX_HEADER_LEN {
            return Err(EnvelopeError::Truncated {
                len: datagram.len(),
                needed: MAX_HEADER_LEN,
            });
        }
        let mut trace = TraceContext::default();
        trace.trace_id.copy_from_slice(&datagram[8..24]);
        trace.span_id.copy_from_slice(&datagram[24..32]);
        trace.flags = datagram[32];
        Ok((
            Envelope {
                seq,
                trace: Some(trace),
            },
            MAX_HEADER_LEN,
        ))
    }

    /// Writes this header at the start of `buf`; returns its length.
    /// `buf` must hold at least [`Envelope::header_len`] bytes.
    pub fn encode(&self, buf: &mut [u8]) -> usize {
        buf[0..2].copy_from_slice(&MAGIC);
        buf[2] = VERSION;
        buf[3] = if self.trace.is_some() {
            FLAG_TRACE_CONTEXT
        } else {
            0
        };
        buf[4..8].copy_from_slice(&self.seq.to_be_bytes());
        if let Some(trace) = &self.trace {
            buf[8..24].copy_from_slice(&trace.trace_id);
            buf[24..32].copy_from_slice(&trace.span_id);
            buf[32] = trace.flags;
        }
        self.header_len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_answer_without_trace() {
        let env = Envelope {
            seq: 0x0102_0304,
            trace: None,
        };
        let mut buf = [0u8; MAX_HEADER_LEN];
        let n = env.encode(&mut buf);
        assert_eq!(&buf[..n], &[0x56, 0x4e, 1, 0, 1, 2, 3, 4]);
        assert_eq!(Envelope::decode(&buf[..n]), Ok((env, 8)));
    }

    #[test]
    fn known_answer_with_trace() {
        let trace = TraceContext {
            trace_id: [0xaa; 16],
            span_id: [0xbb; 8],
            flags: 1,
        };
        let env = Envelope {
            seq: 7,
            trace: Some(trace),
        };
        let mut buf = [0u8; MAX_HEADER_LEN];
        assert_eq!(env.encode(&mut buf), 33);
        assert_eq!(&buf[..8], &[0x56, 0x4e, 1, 1, 0, 0, 0, 7]);
        assert_eq!(&buf[8..24], &[0xaa; 16]);
        assert_eq!(&buf[24..32], &[0xbb; 8]);
        assert_eq!(buf[32], 1);
        assert_eq!(Envelope::decode(&buf), Ok((env, 33)));
    }

    #[test]
    fn rejects_bad_magic_version_and_truncation() {
        assert_eq!(
            Envelope::decode(b"XN\x01\x00\0\0\0\0"),
            Err(EnvelopeError::BadMagic { found: *b"XN" })
        );
        assert_eq!(
            Envelope::decode(b"VN\x02\x00\0\0\0\0"),
            Err(EnvelopeError::UnsupportedVersion { found: 2 })
        );
        assert_eq!(
            Envelope::decode(b"VN\x01"),
            Err(EnvelopeError::Truncated { len: 3, needed: 8 })
        );
        assert_eq!(
            Envelope::decode(b"VN\x01\x01\0\0\0\0abc"),
            Err(EnvelopeError::Truncated {
                len: 11,
                needed: 33
            })
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = Envelope::decode(&bytes);
        }

        #[test]
        fn encode_decode_round_trips(seq in any::<u32>(), traced in any::<bool>(),
                                     id in any::<[u8; 16]>(), span in any::<[u8; 8]>(), flags in any::<u8>()) {
            let env = Envelope { seq, trace: traced.then_some(TraceContext { trace_id: id, span_id: span, flags }) };
            let mut buf = [0u8; MAX_HEADER_LEN];
            let n = env.encode(&mut buf);
            prop_assert_eq!(Envelope::decode(&buf[..n]), Ok((env, n)));
        }
    }
}
