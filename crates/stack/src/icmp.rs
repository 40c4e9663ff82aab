//! ICMP error semantics: when an error may be sent (RFC 1122 §3.2.2,
//! RFC 1812 §4.3.2.7), what it quotes (RFC 792, RFC 1812 §4.3.2.3), and how
//! a received error is mapped back to the datagram that caused it.

use core::fmt;
use std::net::Ipv4Addr;
use vnet_wire::icmpv4::{DstUnreachable, Icmpv4Repr, TimeExceeded};
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::{self, Ipv4Packet};

/// Largest ICMP error datagram a router sends: "as much of the original
/// datagram as possible without the length of the ICMP datagram exceeding
/// 576 bytes" (RFC 1812 §4.3.2.3).
pub const MAX_ERROR_DATAGRAM: usize = 576;

/// An ICMP error reported to a socket, with the wording `ping` (iputils)
/// prints for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum IcmpError {
    /// Type 3 code 0 (RFC 792): no route to the destination network.
    NetUnreachable,
    /// Type 3 code 1: the last hop could not resolve the destination (ARP failed).
    HostUnreachable,
    /// Type 3 code 2: the destination does not implement the protocol.
    ProtocolUnreachable,
    /// Type 3 code 3: no socket on the destination port (RFC 1122 §4.1.3.1).
    PortUnreachable,
    /// Type 3 code 4: too big for the next hop and DF set; `mtu` is the
    /// next-hop MTU (RFC 1191 §4; 0 from routers predating RFC 1191).
    FragmentationNeeded {
        /// Next-hop MTU.
        mtu: u16,
    },
    /// Type 11 code 0: TTL reached zero in transit (RFC 1812 §5.3.1).
    TtlExceeded,
    /// Type 11 code 1: the destination gave up reassembling (RFC 792).
    ReassemblyTimeExceeded,
    /// Any other error type/code.
    Other {
        /// ICMP type.
        msg_type: u8,
        /// ICMP code.
        code: u8,
    },
}

impl IcmpError {
    /// The ICMP error for a received message type/code, with the next-hop
    /// MTU field (only used by type 3 code 4).
    pub fn from_type_code(msg_type: u8, code: u8, next_hop_mtu: u16) -> Self {
        match (msg_type, code) {
            (3, 0) => IcmpError::NetUnreachable,
            (3, 1) => IcmpError::HostUnreachable,
            (3, 2) => IcmpError::ProtocolUnreachable,
            (3, 3) => IcmpError::PortUnreachable,
            (3, 4) => IcmpError::FragmentationNeeded { mtu: next_hop_mtu },
            (11, 0) => IcmpError::TtlExceeded,
            (11, 1) => IcmpError::ReassemblyTimeExceeded,
            (msg_type, code) => IcmpError::Other { msg_type, code },
        }
    }
}

impl fmt::Display for IcmpError {
    /// Exactly as iputils `ping` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IcmpError::NetUnreachable => f.write_str("Destination Net Unreachable"),
            IcmpError::HostUnreachable => f.write_str("Destination Host Unreachable"),
            IcmpError::ProtocolUnreachable => f.write_str("Destination Protocol Unreachable"),
            IcmpError::PortUnreachable => f.write_str("Destination Port Unreachable"),
            IcmpError::FragmentationNeeded { mtu } => {
                write!(f, "Frag needed and DF set (mtu = {mtu})")
            }
            IcmpError::TtlExceeded => f.write_str("Time to live exceeded"),
            IcmpError::ReassemblyTimeExceeded => f.write_str("Frag reassembly time exceeded"),
            IcmpError::Other { msg_type, code } => {
                write!(f, "Bad ICMP type: {msg_type}, code: {code}")
            }
        }
    }
}

/// An error this stack sends: the typed message without its quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    Unreachable(DstUnreachable, u16),
    TimeExceeded(TimeExceeded),
}

impl ErrorKind {
    /// The message quoting `invoking`.
    pub(crate) fn repr(self, invoking: &[u8]) -> Icmpv4Repr<'_> {
        match self {
            ErrorKind::Unreachable(reason, next_hop_mtu) => Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                invoking,
            },
            ErrorKind::TimeExceeded(reason) => Icmpv4Repr::TimeExceeded { reason, invoking },
        }
    }
}

/// ICMP query types (RFC 792, RFC 950): echo, timestamp, information,
/// address mask, router advertisement/solicitation (RFC 1256). Every other
/// type is treated as an error message, as Linux does.
fn is_icmp_query(msg_type: u8) -> bool {
    matches!(msg_type, 0 | 8 | 9 | 10 | 13 | 14 | 15 | 16 | 17 | 18)
}

/// Whether `addr` "does not define a single host" (RFC 1122 §3.2.2): zero
/// network, loopback, limited broadcast, multicast or class E.
pub(crate) fn is_non_host_source(addr: Ipv4Addr) -> bool {
    let o = addr.octets();
    o[0] == 0 || o[0] == 127 || addr.is_broadcast() || addr.is_multicast() || o[0] >= 240
}

/// Whether an ICMP error may be sent about `packet` (a checked IPv4 packet).
///
/// RFC 1122 §3.2.2 / RFC 1812 §4.3.2.7: an ICMP error MUST NOT be sent in
/// response to
/// * an ICMP error message,
/// * a datagram destined to an IP broadcast or multicast address
///   (`dst_is_broadcast` says whether the destination is one of the
///   broadcast addresses this stack knows),
/// * a datagram sent as a link-layer broadcast or multicast (`link_broadcast`),
/// * a non-initial fragment,
/// * a datagram whose source does not define a single host.
pub(crate) fn may_send_error(packet: &[u8], link_broadcast: bool, dst_is_broadcast: bool) -> bool {
    let p = Ipv4Packet::new_unchecked(packet);
    if link_broadcast
        || dst_is_broadcast
        || p.dst_addr().is_multicast()
        || p.dst_addr().is_broadcast()
    {
        return false;
    }
    if p.frag_offset() != 0 || is_non_host_source(p.src_addr()) {
        return false;
    }
    if p.next_header() == IpProtocol::Icmp {
        let hlen = p.header_len();
        match packet.get(hlen) {
            Some(&t) if is_icmp_query(t) => {}
            _ => return false, // an ICMP error, or too short to tell
        }
    }
    true
}

/// How many bytes of `packet` an error quotes: at least the header and 8
/// bytes of data (RFC 792), at most what fits in a 576-byte ICMP datagram
/// (RFC 1812 §4.3.2.3); never beyond the packet's Total Length.
pub(crate) fn quote_len(packet: &[u8]) -> usize {
    let p = Ipv4Packet::new_unchecked(packet);
    let total = usize::from(p.total_len()).min(packet.len());
    total.min(MAX_ERROR_DATAGRAM - ipv4::HEADER_LEN - vnet_wire::icmpv4::HEADER_LEN)
}

/// The fields of a quoted ("invoking") datagram a socket needs.
///
/// The quote is usually truncated, so it is read by hand rather than with
/// a checked [`Ipv4Packet`] (whose Total Length would exceed the quote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quoted {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: IpProtocol,
    /// Fragment offset: only offset 0 carries the transport header.
    pub frag_offset: u16,
    /// The first 8 bytes of the quoted payload (RFC 792 guarantees them).
    pub head: [u8; 8],
}

impl Quoted {
    /// Parses the start of an invoking datagram; `None` if it is not an
    /// IPv4 header followed by at least 8 bytes.
    pub(crate) fn parse(invoking: &[u8]) -> Option<Quoted> {
        let p = Ipv4Packet::new_unchecked(invoking);
        let hlen = p.header_len();
        if invoking.len() < ipv4::HEADER_LEN || p.version() != 4 || hlen < ipv4::HEADER_LEN {
            return None;
        }
        let head: [u8; 8] = invoking.get(hlen..hlen + 8)?.try_into().ok()?;
        Some(Quoted {
            src: p.src_addr(),
            dst: p.dst_addr(),
            proto: p.next_header(),
            frag_offset: p.frag_offset(),
            head,
        })
    }

    /// For a quoted ICMP Echo Request: its (ident, seq).
    pub(crate) fn echo(&self) -> Option<(u16, u16)> {
        (self.proto == IpProtocol::Icmp && self.frag_offset == 0 && self.head[0] == 8).then(|| {
            (
                u16::from_be_bytes([self.head[4], self.head[5]]),
                u16::from_be_bytes([self.head[6], self.head[7]]),
            )
        })
    }

    /// For a quoted TCP segment: its (source port, destination port)
    /// (RFC 9293 §3.1: the first 8 bytes hold ports and sequence number).
    pub(crate) fn tcp_ports(&self) -> Option<(u16, u16)> {
        (self.proto == IpProtocol::Tcp && self.frag_offset == 0).then(|| {
            (
                u16::from_be_bytes([self.head[0], self.head[1]]),
                u16::from_be_bytes([self.head[2], self.head[3]]),
            )
        })
    }

    /// For a quoted UDP datagram: its (source port, destination port).
    pub(crate) fn udp_ports(&self) -> Option<(u16, u16)> {
        (self.proto == IpProtocol::Udp && self.frag_offset == 0).then(|| {
            (
                u16::from_be_bytes([self.head[0], self.head[1]]),
                u16::from_be_bytes([self.head[2], self.head[3]]),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(src: [u8; 4], dst: [u8; 4], proto: u8, frag: u16, first: u8) -> Vec<u8> {
        let mut v = vec![0u8; 28];
        v[0] = 0x45;
        v[2..4].copy_from_slice(&28u16.to_be_bytes());
        v[6..8].copy_from_slice(&(frag / 8).to_be_bytes());
        v[8] = 64;
        v[9] = proto;
        v[12..16].copy_from_slice(&src);
        v[16..20].copy_from_slice(&dst);
        v[20] = first;
        v
    }

    #[test]
    fn rules() {
        let ok = packet([10, 0, 0, 1], [10, 0, 1, 1], 17, 0, 0);
        assert!(may_send_error(&ok, false, false));
        assert!(!may_send_error(&ok, true, false));
        assert!(!may_send_error(&ok, false, true));
        assert!(!may_send_error(
            &packet([10, 0, 0, 1], [10, 0, 1, 1], 17, 8, 0),
            false,
            false
        ));
        assert!(!may_send_error(
            &packet([0, 0, 0, 0], [10, 0, 1, 1], 17, 0, 0),
            false,
            false
        ));
        assert!(!may_send_error(
            &packet([127, 0, 0, 1], [10, 0, 1, 1], 17, 0, 0),
            false,
            false
        ));
        assert!(!may_send_error(
            &packet([255, 255, 255, 255], [10, 0, 1, 1], 17, 0, 0),
            false,
            false
        ));
        assert!(!may_send_error(
            &packet([224, 0, 0, 1], [10, 0, 1, 1], 17, 0, 0),
            false,
            false
        ));
        assert!(!may_send_error(
            &packet([10, 0, 0, 1], [224, 0, 0, 5], 17, 0, 0),
            false,
            false
        ));
        assert!(!may_send_error(
            &packet([10, 0, 0, 1], [255, 255, 255, 255], 17, 0, 0),
            false,
            false
        ));
        // ICMP: queries yes, errors no.
        assert!(may_send_error(
            &packet([10, 0, 0, 1], [10, 0, 1, 1], 1, 0, 8),
            false,
            false
        ));
        assert!(!may_send_error(
            &packet([10, 0, 0, 1], [10, 0, 1, 1], 1, 0, 3),
            false,
            false
        ));
        assert!(!may_send_error(
            &packet([10, 0, 0, 1], [10, 0, 1, 1], 1, 0, 11),
            false,
            false
        ));
    }

    #[test]
    fn quote_is_bounded() {
        let mut big = vec![0u8; 1500];
        big[0] = 0x45;
        big[2..4].copy_from_slice(&1500u16.to_be_bytes());
        assert_eq!(quote_len(&big), 548);
        assert_eq!(quote_len(&packet([1, 1, 1, 1], [2, 2, 2, 2], 17, 0, 0)), 28);
    }

    #[test]
    fn quoted_parse() {
        let mut p = packet([10, 0, 0, 1], [10, 0, 1, 1], 1, 0, 8);
        p[24..28].copy_from_slice(&[0x12, 0x34, 0, 7]);
        let q = Quoted::parse(&p).unwrap();
        assert_eq!(q.echo(), Some((0x1234, 7)));
        assert_eq!(q.udp_ports(), None);
        assert!(Quoted::parse(&p[..27]).is_none());
        assert_eq!(
            IcmpError::FragmentationNeeded { mtu: 576 }.to_string(),
            "Frag needed and DF set (mtu = 576)"
        );
        assert_eq!(
            IcmpError::from_type_code(3, 4, 576),
            IcmpError::FragmentationNeeded { mtu: 576 }
        );
    }
}
