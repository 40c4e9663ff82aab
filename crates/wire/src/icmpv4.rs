//! ICMP for IPv4 (RFC 792), with the next-hop MTU of "fragmentation needed"
//! messages (RFC 1191 §4).

use core::fmt;

use crate::error::check_len;
use crate::ip::checksum;
use crate::{Result, WireError, be16, set_be16};

/// Length of the ICMP header: type, code, checksum and the 4-byte
/// "rest of header" (RFC 792).
pub const HEADER_LEN: usize = 8;

/// The ICMP Type field (RFC 792).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Message {
    /// 0: Echo Reply.
    EchoReply,
    /// 3: Destination Unreachable.
    DstUnreachable,
    /// 11: Time Exceeded.
    TimeExceeded,
    /// 8: Echo.
    EchoRequest,
    /// Any other type (redirect, timestamp, ...), kept verbatim.
    Unknown(u8),
}

impl From<u8> for Message {
    fn from(v: u8) -> Self {
        match v {
            0 => Message::EchoReply,
            3 => Message::DstUnreachable,
            8 => Message::EchoRequest,
            11 => Message::TimeExceeded,
            other => Message::Unknown(other),
        }
    }
}

impl From<Message> for u8 {
    fn from(m: Message) -> u8 {
        match m {
            Message::EchoReply => 0,
            Message::DstUnreachable => 3,
            Message::EchoRequest => 8,
            Message::TimeExceeded => 11,
            Message::Unknown(v) => v,
        }
    }
}

impl fmt::Display for Message {
    /// The RFC 792 message name, or `type N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::EchoReply => f.write_str("echo reply"),
            Message::DstUnreachable => f.write_str("destination unreachable"),
            Message::TimeExceeded => f.write_str("time exceeded"),
            Message::EchoRequest => f.write_str("echo request"),
            Message::Unknown(v) => write!(f, "type {v}"),
        }
    }
}

/// Codes of Destination Unreachable (RFC 792 "Destination Unreachable
/// Message", codes 0-5; RFC 1122 §3.2.2.1, codes 6-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DstUnreachable {
    /// 0: net unreachable.
    NetUnreachable,
    /// 1: host unreachable.
    HostUnreachable,
    /// 2: protocol unreachable.
    ProtoUnreachable,
    /// 3: port unreachable.
    PortUnreachable,
    /// 4: fragmentation needed and DF set (carries the next-hop MTU,
    /// RFC 1191 §4).
    FragRequired,
    /// 5: source route failed.
    SrcRouteFailed,
    /// 6: destination network unknown (RFC 1122 §3.2.2.1).
    DstNetUnknown,
    /// 7: destination host unknown (RFC 1122 §3.2.2.1).
    DstHostUnknown,
    /// Any other code, kept verbatim.
    Unknown(u8),
}

impl From<u8> for DstUnreachable {
    fn from(v: u8) -> Self {
        match v {
            0 => DstUnreachable::NetUnreachable,
            1 => DstUnreachable::HostUnreachable,
            2 => DstUnreachable::ProtoUnreachable,
            3 => DstUnreachable::PortUnreachable,
            4 => DstUnreachable::FragRequired,
            5 => DstUnreachable::SrcRouteFailed,
            6 => DstUnreachable::DstNetUnknown,
            7 => DstUnreachable::DstHostUnknown,
            other => DstUnreachable::Unknown(other),
        }
    }
}

impl From<DstUnreachable> for u8 {
    fn from(c: DstUnreachable) -> u8 {
        match c {
            DstUnreachable::NetUnreachable => 0,
            DstUnreachable::HostUnreachable => 1,
            DstUnreachable::ProtoUnreachable => 2,
            DstUnreachable::PortUnreachable => 3,
            DstUnreachable::FragRequired => 4,
            DstUnreachable::SrcRouteFailed => 5,
            DstUnreachable::DstNetUnknown => 6,
            DstUnreachable::DstHostUnknown => 7,
            DstUnreachable::Unknown(v) => v,
        }
    }
}

/// Codes of Time Exceeded (RFC 792 "Time Exceeded Message").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeExceeded {
    /// 0: time to live exceeded in transit.
    TtlExpired,
    /// 1: fragment reassembly time exceeded.
    FragExpired,
    /// Any other code, kept verbatim.
    Unknown(u8),
}

impl From<u8> for TimeExceeded {
    fn from(v: u8) -> Self {
        match v {
            0 => TimeExceeded::TtlExpired,
            1 => TimeExceeded::FragExpired,
            other => TimeExceeded::Unknown(other),
        }
    }
}

impl From<TimeExceeded> for u8 {
    fn from(c: TimeExceeded) -> u8 {
        match c {
            TimeExceeded::TtlExpired => 0,
            TimeExceeded::FragExpired => 1,
            TimeExceeded::Unknown(v) => v,
        }
    }
}

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const ECHO_IDENT: usize = 4;
    pub const ECHO_SEQNO: usize = 6;
    pub const MTU: usize = 6;
    pub const REST: core::ops::Range<usize> = 4..8;
    pub const DATA: usize = 8;
}

/// A read/write view of an ICMPv4 message (RFC 792).
///
/// The message is the whole buffer: build the view over the IPv4 payload
/// (which already excludes Ethernet padding), since the checksum covers
/// every byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icmpv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Icmpv4Packet<T> {
    /// Wraps `buffer` without checking it; accessors on a short buffer return
    /// zeros instead of panicking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Icmpv4Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Fails with [`WireError::Truncated`] if the buffer is shorter than the
    /// 8-byte header.
    pub fn check_len(&self) -> Result<()> {
        check_len("ICMPv4 header", HEADER_LEN, self.buffer.as_ref().len())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Type.
    pub fn msg_type(&self) -> Message {
        Message::from(self.buffer.as_ref().get(field::TYPE).copied().unwrap_or(0))
    }

    /// Code.
    pub fn msg_code(&self) -> u8 {
        self.buffer.as_ref().get(field::CODE).copied().unwrap_or(0)
    }

    /// Checksum as stored.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Identifier of an echo message (RFC 792 "Echo or Echo Reply Message").
    pub fn echo_ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_IDENT)
    }

    /// Sequence number of an echo message (RFC 792).
    pub fn echo_seq_no(&self) -> u16 {
        be16(self.buffer.as_ref(), field::ECHO_SEQNO)
    }

    /// Next-Hop MTU of a "fragmentation needed" message: the low-order 16
    /// bits of the formerly unused field (RFC 1191 §4).
    pub fn next_hop_mtu(&self) -> u16 {
        be16(self.buffer.as_ref(), field::MTU)
    }

    /// The 4 bytes after the checksum ("rest of header").
    pub fn rest_of_header(&self) -> [u8; 4] {
        match self.buffer.as_ref().get(field::REST) {
            Some(s) => [s[0], s[1], s[2], s[3]],
            None => [0; 4],
        }
    }

    /// Everything after the 8-byte header: echo data, or the invoking
    /// datagram's "Internet Header + 64 bits of Original Data Datagram"
    /// (RFC 792) for error messages.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(field::DATA..).unwrap_or(&[])
    }

    /// True if the checksum verifies over the whole message (RFC 792
    /// "Checksum": "the 16-bit one's complement of the one's complement sum of
    /// the ICMP message starting with the ICMP Type").
    pub fn verify_checksum(&self) -> bool {
        let b = self.buffer.as_ref();
        b.len() >= HEADER_LEN && checksum::data(b) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Icmpv4Packet<T> {
    /// Sets Type.
    pub fn set_msg_type(&mut self, m: Message) {
        if let Some(x) = self.buffer.as_mut().get_mut(field::TYPE) {
            *x = m.into();
        }
    }

    /// Sets Code.
    pub fn set_msg_code(&mut self, c: u8) {
        if let Some(x) = self.buffer.as_mut().get_mut(field::CODE) {
            *x = c;
        }
    }

    /// Sets the Checksum field verbatim.
    pub fn set_checksum(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    /// Sets the echo Identifier.
    pub fn set_echo_ident(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::ECHO_IDENT, v);
    }

    /// Sets the echo Sequence Number.
    pub fn set_echo_seq_no(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::ECHO_SEQNO, v);
    }

    /// Sets the Next-Hop MTU (RFC 1191 §4); bytes 4-5 are left alone
    /// (they must be zero, see [`set_rest_of_header`](Self::set_rest_of_header)).
    pub fn set_next_hop_mtu(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::MTU, v);
    }

    /// Sets the 4 bytes after the checksum.
    pub fn set_rest_of_header(&mut self, v: [u8; 4]) {
        if let Some(s) = self.buffer.as_mut().get_mut(field::REST) {
            s.copy_from_slice(&v);
        }
    }

    /// The data after the header, mutably.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(field::DATA..)
            .unwrap_or(&mut [])
    }

    /// Computes and stores the checksum over the whole buffer (RFC 792
    /// "Checksum": computed with the checksum field zero; an odd length is
    /// padded with a zero byte, RFC 1071 §4.1).
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::data(self.buffer.as_ref());
        self.set_checksum(!sum);
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Icmpv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed ICMPv4 message (RFC 792).
///
/// Messages that do not fit the typed variants (other types, echo messages
/// with a non-zero code) parse as [`Icmpv4Repr::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icmpv4Repr<'a> {
    /// Type 8 code 0: Echo (RFC 792).
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence Number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Type 0 code 0: Echo Reply (RFC 792).
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence Number.
        seq_no: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Type 3: Destination Unreachable (RFC 792).
    DstUnreachable {
        /// The code.
        reason: DstUnreachable,
        /// Next-Hop MTU for code 4 (RFC 1191 §4); 0 otherwise.
        next_hop_mtu: u16,
        /// The invoking datagram: "Internet Header + 64 bits of Original Data
        /// Datagram" (RFC 792), or more (RFC 1812 §4.3.2.3).
        invoking: &'a [u8],
    },
    /// Type 11: Time Exceeded (RFC 792).
    TimeExceeded {
        /// The code.
        reason: TimeExceeded,
        /// The invoking datagram (IP header + leading payload bytes).
        invoking: &'a [u8],
    },
    /// Any other message, kept verbatim.
    Other {
        /// Type.
        msg_type: u8,
        /// Code.
        msg_code: u8,
        /// The 4 bytes after the checksum.
        rest_of_header: [u8; 4],
        /// The bytes after the header.
        data: &'a [u8],
    },
}

impl<'a> Icmpv4Repr<'a> {
    /// Parses a message and verifies its checksum ([`WireError::BadChecksum`],
    /// RFC 792 "Checksum").
    ///
    /// The returned representation borrows from the view's buffer, not from
    /// the view, so the view may be a temporary.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Icmpv4Packet<&'a T>) -> Result<Icmpv4Repr<'a>> {
        let bytes: &'a [u8] = packet.buffer.as_ref();
        Self::parse_bytes(bytes)
    }

    /// Checks, verifies and parses `bytes` as one ICMPv4 message (a shortcut
    /// for [`Icmpv4Packet::new_checked`] followed by [`parse`](Self::parse)).
    pub fn parse_bytes(bytes: &'a [u8]) -> Result<Icmpv4Repr<'a>> {
        let packet = Icmpv4Packet::new_checked(bytes)?;
        if !packet.verify_checksum() {
            return Err(WireError::BadChecksum { what: "ICMPv4" });
        }
        let data: &'a [u8] = bytes.get(field::DATA..).unwrap_or(&[]);
        let code = packet.msg_code();
        Ok(match (packet.msg_type(), code) {
            (Message::EchoRequest, 0) => Icmpv4Repr::EchoRequest {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            (Message::EchoReply, 0) => Icmpv4Repr::EchoReply {
                ident: packet.echo_ident(),
                seq_no: packet.echo_seq_no(),
                data,
            },
            (Message::DstUnreachable, c) => Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(c),
                next_hop_mtu: packet.next_hop_mtu(),
                invoking: data,
            },
            (Message::TimeExceeded, c) => Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::from(c),
                invoking: data,
            },
            (m, c) => Icmpv4Repr::Other {
                msg_type: m.into(),
                msg_code: c,
                rest_of_header: packet.rest_of_header(),
                data,
            },
        })
    }

    /// The bytes after the header (echo data or invoking datagram).
    pub fn data(&self) -> &'a [u8] {
        match *self {
            Icmpv4Repr::EchoRequest { data, .. }
            | Icmpv4Repr::EchoReply { data, .. }
            | Icmpv4Repr::Other { data, .. } => data,
            Icmpv4Repr::DstUnreachable { invoking, .. }
            | Icmpv4Repr::TimeExceeded { invoking, .. } => invoking,
        }
    }

    /// Length of the emitted message: 8-byte header plus data.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data().len()
    }

    /// Writes the message and fills the checksum.
    ///
    /// The view should be exactly [`buffer_len`](Self::buffer_len) bytes long,
    /// as the checksum covers the whole buffer; data that does not fit is cut
    /// (never panics). Unused header bytes are zeroed (RFC 792: "unused").
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Icmpv4Packet<T>) {
        let (msg_type, code, rest) = match *self {
            Icmpv4Repr::EchoRequest { ident, seq_no, .. } => {
                (Message::EchoRequest, 0, echo_rest(ident, seq_no))
            }
            Icmpv4Repr::EchoReply { ident, seq_no, .. } => {
                (Message::EchoReply, 0, echo_rest(ident, seq_no))
            }
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                ..
            } => {
                let m = next_hop_mtu.to_be_bytes();
                (Message::DstUnreachable, reason.into(), [0, 0, m[0], m[1]])
            }
            Icmpv4Repr::TimeExceeded { reason, .. } => {
                (Message::TimeExceeded, reason.into(), [0; 4])
            }
            Icmpv4Repr::Other {
                msg_type,
                msg_code,
                rest_of_header,
                ..
            } => (Message::from(msg_type), msg_code, rest_of_header),
        };
        packet.set_msg_type(msg_type);
        packet.set_msg_code(code);
        packet.set_rest_of_header(rest);
        let src = self.data();
        let dst = packet.data_mut();
        let n = src.len().min(dst.len());
        dst[..n].copy_from_slice(&src[..n]);
        packet.fill_checksum();
    }
}

fn echo_rest(ident: u16, seq_no: u16) -> [u8; 4] {
    let i = ident.to_be_bytes();
    let s = seq_no.to_be_bytes();
    [i[0], i[1], s[0], s[1]]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit(repr: &Icmpv4Repr<'_>) -> Vec<u8> {
        let mut b = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
        b
    }

    #[test]
    fn frag_required_carries_mtu() {
        let invoking = [
            0x45u8, 0, 0, 28, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, 0, 1, 0, 2, 0,
            8, 0, 0,
        ];
        let repr = Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::FragRequired,
            next_hop_mtu: 576,
            invoking: &invoking,
        };
        let b = emit(&repr);
        assert_eq!(&b[..2], &[3, 4]);
        assert_eq!(&b[4..8], &[0, 0, 0x02, 0x40]); // RFC 1191 §4: unused(16) | MTU(16)
        let p = Icmpv4Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.next_hop_mtu(), 576);
        assert_eq!(Icmpv4Repr::parse(&p).unwrap(), repr);
    }

    #[test]
    fn odd_length_echo_and_codes() {
        let repr = Icmpv4Repr::EchoReply {
            ident: 7,
            seq_no: 9,
            data: b"abc",
        };
        let b = emit(&repr);
        assert_eq!(b.len(), 11);
        assert_eq!(Icmpv4Repr::parse_bytes(&b).unwrap(), repr);

        // An echo request with a non-zero code is not an echo (RFC 792: code 0).
        let mut odd = emit(&Icmpv4Repr::EchoRequest {
            ident: 1,
            seq_no: 2,
            data: &[],
        });
        odd[1] = 5;
        Icmpv4Packet::new_unchecked(&mut odd[..]).fill_checksum();
        assert_eq!(
            Icmpv4Repr::parse_bytes(&odd).unwrap(),
            Icmpv4Repr::Other {
                msg_type: 8,
                msg_code: 5,
                rest_of_header: [0, 1, 0, 2],
                data: &[]
            }
        );

        let te = Icmpv4Repr::TimeExceeded {
            reason: TimeExceeded::Unknown(9),
            invoking: b"xyz",
        };
        assert_eq!(Icmpv4Repr::parse_bytes(&emit(&te)).unwrap(), te);
        let du = Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::Unknown(13),
            next_hop_mtu: 0,
            invoking: &[],
        };
        assert_eq!(Icmpv4Repr::parse_bytes(&emit(&du)).unwrap(), du);
        for c in 0..=255u8 {
            assert_eq!(u8::from(DstUnreachable::from(c)), c);
            assert_eq!(u8::from(TimeExceeded::from(c)), c);
            assert_eq!(u8::from(Message::from(c)), c);
        }
    }

    #[test]
    fn bad_checksum_and_truncation() {
        let mut b = emit(&Icmpv4Repr::EchoRequest {
            ident: 1,
            seq_no: 1,
            data: b"ping",
        });
        b[9] ^= 0xff;
        assert_eq!(
            Icmpv4Repr::parse_bytes(&b),
            Err(WireError::BadChecksum { what: "ICMPv4" })
        );
        assert_eq!(
            Icmpv4Repr::parse_bytes(&b[..7]),
            Err(WireError::Truncated {
                what: "ICMPv4 header",
                needed: 8,
                available: 7
            })
        );
    }

    #[test]
    fn repr_outlives_temporary_view() {
        let b = emit(&Icmpv4Repr::EchoRequest {
            ident: 1,
            seq_no: 1,
            data: b"ping",
        });
        let repr = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(repr.data(), b"ping");
    }
}
