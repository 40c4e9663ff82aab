//! ARP for Ethernet and IPv4 (RFC 826).
//!
//! Only the Ethernet/IPv4 combination is supported (hardware type 1, protocol
//! type 0x0800, address lengths 6 and 4), so the packet is always
//! [`PACKET_LEN`] bytes and its fields sit at fixed offsets.

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::check_len;
use crate::ethernet::{EtherType, EthernetAddress};
use crate::{Result, WireError, be16, set_be16};

/// Length of an Ethernet/IPv4 ARP packet: 8 fixed octets + 2×(6+4).
pub const PACKET_LEN: usize = 28;
/// `ar$hrd` for Ethernet (RFC 826 "Packet format"; IANA hardware type 1).
pub const HARDWARE_ETHERNET: u16 = 1;

/// The ARP opcode `ar$op` (RFC 826 "Packet format").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOperation {
    /// 1: `ares_op$REQUEST`.
    Request,
    /// 2: `ares_op$REPLY`.
    Reply,
    /// Any other value (e.g. RARP), kept verbatim.
    Unknown(u16),
}

impl From<u16> for ArpOperation {
    fn from(v: u16) -> Self {
        match v {
            1 => ArpOperation::Request,
            2 => ArpOperation::Reply,
            other => ArpOperation::Unknown(other),
        }
    }
}

impl From<ArpOperation> for u16 {
    fn from(op: ArpOperation) -> u16 {
        match op {
            ArpOperation::Request => 1,
            ArpOperation::Reply => 2,
            ArpOperation::Unknown(v) => v,
        }
    }
}

impl fmt::Display for ArpOperation {
    /// `request`, `reply` or `operation N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArpOperation::Request => f.write_str("request"),
            ArpOperation::Reply => f.write_str("reply"),
            ArpOperation::Unknown(v) => write!(f, "operation {v}"),
        }
    }
}

mod field {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SHA: usize = 8;
    pub const SPA: usize = 14;
    pub const THA: usize = 18;
    pub const TPA: usize = 24;
}

/// A read/write view of an Ethernet/IPv4 ARP packet (RFC 826 "Packet format").
///
/// The address accessors assume 6-byte hardware and 4-byte protocol addresses;
/// [`ArpRepr::parse`] rejects packets where that is not so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

fn ipv4_at(b: &[u8], at: usize) -> Ipv4Addr {
    match b.get(at..at + 4) {
        Some(s) => Ipv4Addr::new(s[0], s[1], s[2], s[3]),
        None => Ipv4Addr::UNSPECIFIED,
    }
}

fn mac_at(b: &[u8], at: usize) -> EthernetAddress {
    b.get(at..)
        .and_then(EthernetAddress::from_bytes)
        .unwrap_or_default()
}

fn put(b: &mut [u8], at: usize, v: &[u8]) {
    if let Some(s) = b.get_mut(at..at + v.len()) {
        s.copy_from_slice(v);
    }
}

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// Wraps `buffer` without checking it; accessors on a short buffer return
    /// zeros instead of panicking.
    pub const fn new_unchecked(buffer: T) -> Self {
        ArpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Fails with [`WireError::Truncated`] if the buffer is shorter than
    /// [`PACKET_LEN`]. Extra bytes (Ethernet padding) are allowed.
    pub fn check_len(&self) -> Result<()> {
        check_len("ARP packet", PACKET_LEN, self.buffer.as_ref().len())
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// `ar$hrd`, hardware address space (1 = Ethernet).
    pub fn hardware_type(&self) -> u16 {
        be16(self.buffer.as_ref(), field::HTYPE)
    }

    /// `ar$pro`, protocol address space (an EtherType; 0x0800 = IPv4).
    pub fn protocol_type(&self) -> EtherType {
        EtherType::from(be16(self.buffer.as_ref(), field::PTYPE))
    }

    /// `ar$hln`, hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref().get(field::HLEN).copied().unwrap_or(0)
    }

    /// `ar$pln`, protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref().get(field::PLEN).copied().unwrap_or(0)
    }

    /// `ar$op`, the opcode.
    pub fn operation(&self) -> ArpOperation {
        ArpOperation::from(be16(self.buffer.as_ref(), field::OPER))
    }

    /// `ar$sha`, sender hardware address.
    pub fn source_hardware_addr(&self) -> EthernetAddress {
        mac_at(self.buffer.as_ref(), field::SHA)
    }

    /// `ar$spa`, sender protocol address.
    pub fn source_protocol_addr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), field::SPA)
    }

    /// `ar$tha`, target hardware address.
    pub fn target_hardware_addr(&self) -> EthernetAddress {
        mac_at(self.buffer.as_ref(), field::THA)
    }

    /// `ar$tpa`, target protocol address.
    pub fn target_protocol_addr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    /// Sets `ar$hrd`.
    pub fn set_hardware_type(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::HTYPE, v);
    }

    /// Sets `ar$pro`.
    pub fn set_protocol_type(&mut self, v: EtherType) {
        set_be16(self.buffer.as_mut(), field::PTYPE, v.into());
    }

    /// Sets `ar$hln`.
    pub fn set_hardware_len(&mut self, v: u8) {
        put(self.buffer.as_mut(), field::HLEN, &[v]);
    }

    /// Sets `ar$pln`.
    pub fn set_protocol_len(&mut self, v: u8) {
        put(self.buffer.as_mut(), field::PLEN, &[v]);
    }

    /// Sets `ar$op`.
    pub fn set_operation(&mut self, op: ArpOperation) {
        set_be16(self.buffer.as_mut(), field::OPER, op.into());
    }

    /// Sets `ar$sha`.
    pub fn set_source_hardware_addr(&mut self, a: EthernetAddress) {
        put(self.buffer.as_mut(), field::SHA, &a.0);
    }

    /// Sets `ar$spa`.
    pub fn set_source_protocol_addr(&mut self, a: Ipv4Addr) {
        put(self.buffer.as_mut(), field::SPA, &a.octets());
    }

    /// Sets `ar$tha`.
    pub fn set_target_hardware_addr(&mut self, a: EthernetAddress) {
        put(self.buffer.as_mut(), field::THA, &a.0);
    }

    /// Sets `ar$tpa`.
    pub fn set_target_protocol_addr(&mut self, a: Ipv4Addr) {
        put(self.buffer.as_mut(), field::TPA, &a.octets());
    }
}

/// A parsed Ethernet/IPv4 ARP packet (RFC 826).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    /// `ar$op`.
    pub operation: ArpOperation,
    /// `ar$sha`.
    pub source_hardware_addr: EthernetAddress,
    /// `ar$spa`.
    pub source_protocol_addr: Ipv4Addr,
    /// `ar$tha` (all zeros in a request, RFC 826 leaves it unspecified).
    pub target_hardware_addr: EthernetAddress,
    /// `ar$tpa`.
    pub target_protocol_addr: Ipv4Addr,
}

impl ArpRepr {
    /// Parses an Ethernet/IPv4 ARP packet.
    ///
    /// Fails with [`WireError::Unsupported`] naming the field if `ar$hrd != 1`,
    /// `ar$pro != 0x0800`, `ar$hln != 6` or `ar$pln != 4` (RFC 826: "?Do I have
    /// the hardware type in ar$hrd? ... the protocol type in ar$pro?").
    pub fn parse<T: AsRef<[u8]>>(packet: &ArpPacket<T>) -> Result<ArpRepr> {
        packet.check_len()?;
        const WHAT: &str = "ARP packet";
        let unsupported = |field, value: u64| WireError::Unsupported {
            what: WHAT,
            field,
            value,
        };
        if packet.hardware_type() != HARDWARE_ETHERNET {
            return Err(unsupported("hardware type", packet.hardware_type().into()));
        }
        if packet.protocol_type() != EtherType::Ipv4 {
            let p: u16 = packet.protocol_type().into();
            return Err(unsupported("protocol type", p.into()));
        }
        if packet.hardware_len() != 6 {
            return Err(unsupported("hardware length", packet.hardware_len().into()));
        }
        if packet.protocol_len() != 4 {
            return Err(unsupported("protocol length", packet.protocol_len().into()));
        }
        Ok(ArpRepr {
            operation: packet.operation(),
            source_hardware_addr: packet.source_hardware_addr(),
            source_protocol_addr: packet.source_protocol_addr(),
            target_hardware_addr: packet.target_hardware_addr(),
            target_protocol_addr: packet.target_protocol_addr(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes: [`PACKET_LEN`].
    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// Writes the packet (hardware type Ethernet, protocol IPv4).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ArpPacket<T>) {
        packet.set_hardware_type(HARDWARE_ETHERNET);
        packet.set_protocol_type(EtherType::Ipv4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(self.source_hardware_addr);
        packet.set_source_protocol_addr(self.source_protocol_addr);
        packet.set_target_hardware_addr(self.target_hardware_addr);
        packet.set_target_protocol_addr(self.target_protocol_addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> [u8; PACKET_LEN] {
        let mut b = [0u8; PACKET_LEN];
        ArpRepr {
            operation: ArpOperation::Reply,
            source_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            source_protocol_addr: Ipv4Addr::new(10, 0, 0, 1),
            target_hardware_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
            target_protocol_addr: Ipv4Addr::new(10, 0, 0, 2),
        }
        .emit(&mut ArpPacket::new_unchecked(&mut b[..]));
        b
    }

    #[test]
    fn unsupported_fields_are_named() {
        let cases: [(usize, u8, &str, u64); 4] = [
            (1, 6, "hardware type", 6),
            (2, 0x86, "protocol type", 0x86dd),
            (4, 8, "hardware length", 8),
            (5, 16, "protocol length", 16),
        ];
        for (at, v, field, value) in cases {
            let mut b = sample();
            b[at] = v;
            if at == 2 {
                b[3] = 0xdd;
            }
            assert_eq!(
                ArpRepr::parse(&ArpPacket::new_checked(&b[..]).unwrap()),
                Err(WireError::Unsupported {
                    what: "ARP packet",
                    field,
                    value
                })
            );
        }
    }

    #[test]
    fn unknown_operation_parses() {
        let mut b = sample();
        b[7] = 3; // RARP request
        let r = ArpRepr::parse(&ArpPacket::new_checked(&b[..]).unwrap()).unwrap();
        assert_eq!(r.operation, ArpOperation::Unknown(3));
        assert_eq!(u16::from(r.operation), 3);
    }

    #[test]
    fn truncated_and_padded() {
        assert_eq!(
            ArpPacket::new_checked(&sample()[..27]),
            Err(WireError::Truncated {
                what: "ARP packet",
                needed: 28,
                available: 27
            })
        );
        let mut padded = sample().to_vec();
        padded.extend_from_slice(&[0; 18]);
        let p = ArpPacket::new_checked(&padded[..]).unwrap();
        assert_eq!(p.target_protocol_addr(), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(p.hardware_len(), 6);
        assert_eq!(p.protocol_type(), EtherType::Ipv4);
    }
}
