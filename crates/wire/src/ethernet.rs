//! Ethernet II frames (RFC 894, IEEE 802.3 §3.2) and the frame check sequence
//! (IEEE 802.3 §3.2.9).
//!
//! A frame here is the bytes from the destination address up to the end of the
//! payload **without** the FCS; the cable pads it to [`MIN_FRAME_LEN`] and
//! appends the FCS with [`pad_and_append_fcs`], and checks it on reception with
//! [`check_fcs`].

use core::fmt;
use core::str::FromStr;

use crate::error::check_len;
use crate::{AddrParseError, Result, WireError, be16, set_be16};

/// Length of the Ethernet II header: destination, source, EtherType
/// (RFC 894 "Frame Format").
pub const HEADER_LEN: usize = 14;
/// Minimum frame length without the FCS: 64 octets minus the 4-octet FCS
/// (IEEE 802.3 §3.2.7 / §4.2.3.3 minFrameSize; RFC 894 "the data field ... is a
/// minimum of 46 octets").
pub const MIN_FRAME_LEN: usize = 60;
/// Length of the frame check sequence (IEEE 802.3 §3.2.9).
pub const FCS_LEN: usize = 4;
/// Maximum payload of a standard frame (RFC 894: "a maximum of 1500 octets").
/// Views do not enforce it: users may configure jumbo MTUs up to 9000.
pub const MAX_PAYLOAD_LEN: usize = 1500;

/// A 48-bit IEEE 802 MAC address (IEEE 802.3 §3.2.3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct EthernetAddress(pub [u8; 6]);

impl EthernetAddress {
    /// The broadcast address `ff:ff:ff:ff:ff:ff` (IEEE 802.3 §3.2.3 c).
    pub const BROADCAST: EthernetAddress = EthernetAddress([0xff; 6]);

    /// Builds an address from the first 6 bytes of `bytes`; `None` if shorter.
    pub fn from_bytes(bytes: &[u8]) -> Option<EthernetAddress> {
        let a: [u8; 6] = bytes.get(..6)?.try_into().ok()?;
        Some(EthernetAddress(a))
    }

    /// The six octets, in transmission order.
    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// True for `ff:ff:ff:ff:ff:ff` (IEEE 802.3 §3.2.3 c).
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True when the I/G bit (least significant bit of the first octet) is set:
    /// a group address, which includes broadcast (IEEE 802.3 §3.2.3 a).
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// True for an individual (non-group) address (IEEE 802.3 §3.2.3 a).
    pub const fn is_unicast(&self) -> bool {
        !self.is_multicast()
    }

    /// True when the U/L bit (second least significant bit of the first octet)
    /// is set: a locally administered address (IEEE 802 §8.2).
    pub const fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

impl fmt::Display for EthernetAddress {
    /// Lower-case, colon separated: `02:76:6e:00:01:01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for EthernetAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EthernetAddress({self})")
    }
}

impl FromStr for EthernetAddress {
    type Err = AddrParseError;

    /// Parses six hexadecimal octets separated by `:` or `-`
    /// (`02:76:6e:00:01:01`, `02-76-6E-00-01-01`).
    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        const WHAT: &str = "MAC address";
        let sep = if s.contains('-') { '-' } else { ':' };
        let mut out = [0u8; 6];
        let mut n = 0;
        for part in s.split(sep) {
            if n == 6 {
                return Err(AddrParseError::new(WHAT, s, "more than 6 octets"));
            }
            if part.is_empty() || part.len() > 2 || !part.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(AddrParseError::new(
                    WHAT,
                    s,
                    "octets must be 1-2 hex digits",
                ));
            }
            out[n] = u8::from_str_radix(part, 16)
                .map_err(|_| AddrParseError::new(WHAT, s, "octets must be 1-2 hex digits"))?;
            n += 1;
        }
        if n != 6 {
            return Err(AddrParseError::new(WHAT, s, "expected 6 octets"));
        }
        Ok(EthernetAddress(out))
    }
}

impl From<[u8; 6]> for EthernetAddress {
    fn from(a: [u8; 6]) -> Self {
        EthernetAddress(a)
    }
}

/// The EtherType field (RFC 894; IEEE 802 numbers registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EtherType {
    /// `0x0800` Internet Protocol version 4 (RFC 894).
    Ipv4,
    /// `0x0806` Address Resolution Protocol (RFC 826).
    Arp,
    /// `0x86DD` Internet Protocol version 6 (RFC 2464).
    Ipv6,
    /// Any other value, kept verbatim.
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(v: u16) -> Self {
        match v {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x86DD => EtherType::Ipv6,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(t: EtherType) -> u16 {
        match t {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Ipv6 => 0x86DD,
            EtherType::Unknown(v) => v,
        }
    }
}

impl fmt::Display for EtherType {
    /// `IPv4`, `ARP`, `IPv6`, or `0x88cc` for unknown values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EtherType::Ipv4 => f.write_str("IPv4"),
            EtherType::Arp => f.write_str("ARP"),
            EtherType::Ipv6 => f.write_str("IPv6"),
            EtherType::Unknown(v) => write!(f, "{v:#06x}"),
        }
    }
}

mod field {
    pub const DST: core::ops::Range<usize> = 0..6;
    pub const SRC: core::ops::Range<usize> = 6..12;
    pub const ETHERTYPE: usize = 12;
    pub const PAYLOAD: usize = 14;
}

/// A read/write view of an Ethernet II frame without FCS (RFC 894).
///
/// The payload is everything after the 14-byte header, including any padding
/// added to reach the minimum frame size; frames longer than
/// `HEADER_LEN + MAX_PAYLOAD_LEN` are accepted (jumbo frames).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wraps `buffer` without checking its length. Accessors on a buffer
    /// shorter than [`HEADER_LEN`] return zeros instead of panicking.
    pub const fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let f = Self::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// Fails with [`WireError::Truncated`] if the buffer is shorter than the
    /// 14-byte header.
    pub fn check_len(&self) -> Result<()> {
        check_len("Ethernet header", HEADER_LEN, self.buffer.as_ref().len())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The header length, always [`HEADER_LEN`].
    pub const fn header_len() -> usize {
        HEADER_LEN
    }

    /// Destination MAC address (RFC 894 octets 0-5).
    pub fn dst_addr(&self) -> EthernetAddress {
        let b = self.buffer.as_ref();
        EthernetAddress::from_bytes(b.get(field::DST).unwrap_or(&[])).unwrap_or_default()
    }

    /// Source MAC address (RFC 894 octets 6-11).
    pub fn src_addr(&self) -> EthernetAddress {
        let b = self.buffer.as_ref();
        EthernetAddress::from_bytes(b.get(field::SRC).unwrap_or(&[])).unwrap_or_default()
    }

    /// EtherType (RFC 894 octets 12-13).
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(be16(self.buffer.as_ref(), field::ETHERTYPE))
    }

    /// The payload: everything after the header (empty if the buffer is short).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(field::PAYLOAD..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, addr: EthernetAddress) {
        if let Some(s) = self.buffer.as_mut().get_mut(field::DST) {
            s.copy_from_slice(&addr.0);
        }
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, addr: EthernetAddress) {
        if let Some(s) = self.buffer.as_mut().get_mut(field::SRC) {
            s.copy_from_slice(&addr.0);
        }
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        set_be16(self.buffer.as_mut(), field::ETHERTYPE, t.into());
    }

    /// The payload, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(field::PAYLOAD..)
            .unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for EthernetFrame<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// The parsed Ethernet II header (RFC 894).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    /// Source address.
    pub src_addr: EthernetAddress,
    /// Destination address.
    pub dst_addr: EthernetAddress,
    /// EtherType of the payload.
    pub ethertype: EtherType,
}

impl EthernetRepr {
    /// Reads the header of `frame`.
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr> {
        frame.check_len()?;
        Ok(EthernetRepr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes: the header, [`HEADER_LEN`].
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into `frame` (the payload is left untouched).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut EthernetFrame<T>) {
        frame.set_dst_addr(self.dst_addr);
        frame.set_src_addr(self.src_addr);
        frame.set_ethertype(self.ethertype);
    }
}

/// The Ethernet FCS of `frame`: CRC-32 with polynomial 0x04C11DB7, initial
/// value and final XOR 0xFFFFFFFF, reflected (IEEE 802.3 §3.2.9), computed over
/// destination address through the end of the (padded) payload.
///
/// On the wire the FCS is stored least significant byte first, which is how
/// Wireshark expects it.
pub fn fcs(frame: &[u8]) -> u32 {
    crc32fast::hash(frame)
}

/// Checks the trailing 4-byte FCS of `wire` (IEEE 802.3 §3.2.9) and returns
/// the frame without it.
///
/// Fails with [`WireError::Truncated`] if `wire` is shorter than
/// `HEADER_LEN + FCS_LEN`, and with [`WireError::BadFcs`] on a mismatch.
pub fn check_fcs(wire: &[u8]) -> Result<&[u8]> {
    check_len("Ethernet frame with FCS", HEADER_LEN + FCS_LEN, wire.len())?;
    let (frame, trailer) = wire.split_at(wire.len() - FCS_LEN);
    let expected = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let computed = fcs(frame);
    if expected == computed {
        Ok(frame)
    } else {
        Err(WireError::BadFcs { expected, computed })
    }
}

/// Pads `buf[..frame_len]` with zeros to [`MIN_FRAME_LEN`] (IEEE 802.3
/// §3.2.7 / RFC 894 "the data field ... is padded with octets of zero") and
/// appends the FCS (§3.2.9); returns the total length on the wire.
///
/// # Panics
///
/// Only if `buf` is too short: the caller guarantees
/// `buf.len() >= max(frame_len, MIN_FRAME_LEN) + FCS_LEN`.
pub fn pad_and_append_fcs(buf: &mut [u8], frame_len: usize) -> usize {
    let len = frame_len.max(MIN_FRAME_LEN);
    assert!(
        buf.len() >= len + FCS_LEN,
        "pad_and_append_fcs: buffer of {} bytes cannot hold a {}-byte frame plus FCS",
        buf.len(),
        len
    );
    buf[frame_len..len].fill(0);
    let crc = fcs(&buf[..len]);
    buf[len..len + FCS_LEN].copy_from_slice(&crc.to_le_bytes());
    len + FCS_LEN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_text_round_trip_and_flags() {
        let a: EthernetAddress = "02:76:6e:00:01:01".parse().unwrap();
        assert_eq!(a, EthernetAddress([0x02, 0x76, 0x6e, 0x00, 0x01, 0x01]));
        assert_eq!(a.to_string(), "02:76:6e:00:01:01");
        assert_eq!(format!("{a:?}"), "EthernetAddress(02:76:6e:00:01:01)");
        assert_eq!("02-76-6E-00-01-01".parse::<EthernetAddress>().unwrap(), a);
        assert!(a.is_unicast() && a.is_local() && !a.is_multicast() && !a.is_broadcast());
        let b = EthernetAddress::BROADCAST;
        assert!(b.is_broadcast() && b.is_multicast() && !b.is_unicast());
        let m = EthernetAddress([0x01, 0x00, 0x5e, 0, 0, 1]);
        assert!(m.is_multicast() && !m.is_broadcast() && !m.is_local());
        assert!(!EthernetAddress([0x00, 0x1b, 0x21, 1, 2, 3]).is_local());
    }

    #[test]
    fn address_parse_errors_name_the_text() {
        for bad in [
            "",
            "02:76:6e:00:01",
            "02:76:6e:00:01:01:02",
            "02:76:6e:00:01:zz",
            "0276:6e:00:01:01:01",
            "02:76:6e::01:01",
        ] {
            let e = bad.parse::<EthernetAddress>().unwrap_err();
            assert_eq!(e.text, bad);
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        }
    }

    #[test]
    fn ethertype_conversions() {
        for (v, t) in [
            (0x0800, EtherType::Ipv4),
            (0x0806, EtherType::Arp),
            (0x86dd, EtherType::Ipv6),
            (0x88cc, EtherType::Unknown(0x88cc)),
        ] {
            assert_eq!(EtherType::from(v), t);
            assert_eq!(u16::from(t), v);
        }
        assert_eq!(EtherType::Unknown(0x88cc).to_string(), "0x88cc");
        assert_eq!(EtherType::Arp.to_string(), "ARP");
    }

    #[test]
    fn frame_view_and_repr() {
        assert_eq!(
            EthernetFrame::new_checked(&[0u8; 13][..]),
            Err(WireError::Truncated {
                what: "Ethernet header",
                needed: 14,
                available: 13
            })
        );
        let mut buf = [0u8; 20];
        let repr = EthernetRepr {
            src_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            dst_addr: EthernetAddress::BROADCAST,
            ethertype: EtherType::Unknown(0x1234),
        };
        let mut f = EthernetFrame::new_checked(&mut buf[..]).unwrap();
        repr.emit(&mut f);
        f.payload_mut().copy_from_slice(b"abcdef");
        let f = EthernetFrame::new_checked(&buf[..]).unwrap();
        assert_eq!(EthernetRepr::parse(&f).unwrap(), repr);
        assert_eq!(f.payload(), b"abcdef");
        assert_eq!(repr.buffer_len(), HEADER_LEN);
    }

    #[test]
    fn unchecked_short_buffer_does_not_panic() {
        let f = EthernetFrame::new_unchecked(&[1u8, 2, 3][..]);
        assert_eq!(f.dst_addr(), EthernetAddress([0; 6]));
        assert_eq!(f.ethertype(), EtherType::Unknown(0));
        assert!(f.payload().is_empty());
        let mut b = [0u8; 3];
        let mut f = EthernetFrame::new_unchecked(&mut b[..]);
        f.set_ethertype(EtherType::Ipv4);
        f.set_src_addr(EthernetAddress::BROADCAST);
        assert!(f.payload_mut().is_empty());
    }

    #[test]
    fn pad_and_fcs_long_frame_is_not_padded() {
        let mut buf = vec![0x55u8; 104];
        assert_eq!(pad_and_append_fcs(&mut buf, 100), 104);
        assert_eq!(check_fcs(&buf).unwrap().len(), 100);
    }

    #[test]
    #[should_panic(expected = "pad_and_append_fcs")]
    fn pad_and_fcs_panics_on_short_buffer() {
        let mut buf = [0u8; 63];
        pad_and_append_fcs(&mut buf, 20);
    }
}
