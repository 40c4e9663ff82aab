//! TCP options (RFC 9293 §3.2): MSS (§3.7.1), Window Scale and
//! Timestamps (RFC 7323), SACK-Permitted and SACK (RFC 2018).

use super::be32;
use crate::{Result, WireError, be16};

/// Option kinds (RFC 9293 §3.2; IANA "TCP Option Kind Numbers").
pub(super) mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const SACK: u8 = 5;
    pub const TIMESTAMPS: u8 = 8;
}

/// The Timestamps option (RFC 7323 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpTimestamps {
    /// TSval: the sender's timestamp clock.
    pub tsval: u32,
    /// TSecr: the TSval being echoed (valid only with ACK).
    pub tsecr: u32,
}

/// One TCP option as found in a header (RFC 9293 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// Kind 0, End of Option List: nothing after it is read.
    EndOfList,
    /// Kind 1, No-Operation (padding between options).
    NoOperation,
    /// Kind 2, Maximum Segment Size (RFC 9293 §3.7.1), SYN only.
    MaxSegmentSize(u16),
    /// Kind 3, Window Scale shift count (RFC 7323 §2.2), SYN only.
    WindowScale(u8),
    /// Kind 4, SACK-Permitted (RFC 2018 §2), SYN only.
    SackPermitted,
    /// Kind 5, SACK blocks (RFC 2018 §3): up to four `(left, right)` edges;
    /// unused entries are `None`.
    Sack([Option<(u32, u32)>; 4]),
    /// Kind 8, Timestamps (RFC 7323 §3.2).
    Timestamps(TcpTimestamps),
    /// Any other kind with its data (length byte excluded), skipped by the
    /// stack (RFC 9293 §3.2: "MUST ignore without error any TCP option it
    /// does not implement").
    Unknown {
        /// The option kind.
        kind: u8,
        /// The option data after kind and length.
        data: &'a [u8],
    },
}

/// Iterates over the options of a header; yields `Err` once and stops if an
/// option's length is impossible (RFC 9293 §3.2: an implementation "MUST
/// be prepared to handle an illegal option length (e.g., zero)").
#[derive(Debug, Clone)]
pub struct TcpOptionIter<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> TcpOptionIter<'a> {
    /// Iterates over `options`, the bytes between the fixed header and the data.
    pub fn new(options: &'a [u8]) -> Self {
        Self {
            rest: options,
            done: false,
        }
    }
}

fn malformed_option(kind: u8) -> WireError {
    WireError::Malformed {
        what: "TCP option",
        field: "length",
        value: kind.into(),
    }
}

impl<'a> Iterator for TcpOptionIter<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let (&k, after) = self.rest.split_first()?;
        match k {
            kind::END => {
                self.done = true;
                return Some(Ok(TcpOption::EndOfList));
            }
            kind::NOP => {
                self.rest = after;
                return Some(Ok(TcpOption::NoOperation));
            }
            _ => {}
        }
        let len = match after.first() {
            Some(&l) if usize::from(l) >= 2 && usize::from(l) <= self.rest.len() => usize::from(l),
            _ => {
                self.done = true;
                return Some(Err(malformed_option(k)));
            }
        };
        let data = &self.rest[2..len];
        self.rest = &self.rest[len..];
        let opt = match (k, data.len()) {
            (kind::MSS, 2) => TcpOption::MaxSegmentSize(be16(data, 0)),
            (kind::WINDOW_SCALE, 1) => TcpOption::WindowScale(data[0]),
            (kind::SACK_PERMITTED, 0) => TcpOption::SackPermitted,
            (kind::SACK, n) if n % 8 == 0 && n <= 32 => {
                let mut blocks = [None; 4];
                for (i, b) in blocks.iter_mut().enumerate().take(n / 8) {
                    *b = Some((be32(data, i * 8), be32(data, i * 8 + 4)));
                }
                TcpOption::Sack(blocks)
            }
            (kind::TIMESTAMPS, 8) => TcpOption::Timestamps(TcpTimestamps {
                tsval: be32(data, 0),
                tsecr: be32(data, 4),
            }),
            (kind::MSS | kind::WINDOW_SCALE | kind::SACK_PERMITTED | kind::SACK, _)
            | (kind::TIMESTAMPS, _) => {
                self.done = true;
                return Some(Err(malformed_option(k)));
            }
            (kind, _) => TcpOption::Unknown { kind, data },
        };
        Some(Ok(opt))
    }
}
