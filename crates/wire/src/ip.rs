//! Pieces shared by the IP-layer codecs: the protocol number, IPv4 prefixes
//! and the Internet checksum (RFC 1071).

use core::fmt;
use core::net::Ipv4Addr;
use core::str::FromStr;

use crate::{AddrParseError, Result, WireError};

/// The IPv4 "Protocol" field (RFC 791 §3.1; IANA "Assigned Internet Protocol
/// Numbers").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpProtocol {
    /// 1: Internet Control Message Protocol (RFC 792).
    Icmp,
    /// 6: Transmission Control Protocol (RFC 9293).
    Tcp,
    /// 17: User Datagram Protocol (RFC 768).
    Udp,
    /// Any other value, kept verbatim.
    Unknown(u8),
}

impl From<u8> for IpProtocol {
    fn from(v: u8) -> Self {
        match v {
            1 => IpProtocol::Icmp,
            6 => IpProtocol::Tcp,
            17 => IpProtocol::Udp,
            other => IpProtocol::Unknown(other),
        }
    }
}

impl From<IpProtocol> for u8 {
    fn from(p: IpProtocol) -> u8 {
        match p {
            IpProtocol::Icmp => 1,
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
            IpProtocol::Unknown(v) => v,
        }
    }
}

impl fmt::Display for IpProtocol {
    /// `ICMP`, `TCP`, `UDP`, or `protocol 89` for other numbers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpProtocol::Icmp => f.write_str("ICMP"),
            IpProtocol::Tcp => f.write_str("TCP"),
            IpProtocol::Udp => f.write_str("UDP"),
            IpProtocol::Unknown(v) => write!(f, "protocol {v}"),
        }
    }
}

/// An IPv4 address with a prefix length (RFC 4632 §3.1 notation), e.g. an
/// interface address `10.0.1.1/24`.
///
/// The host bits are kept: [`address`](Self::address) is the address as
/// written, [`network`](Self::network) zeroes the host bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Cidr {
    address: Ipv4Addr,
    prefix_len: u8,
}

impl Ipv4Cidr {
    /// Builds a prefix; fails with [`WireError::Malformed`] if
    /// `prefix_len > 32`.
    pub fn new(address: Ipv4Addr, prefix_len: u8) -> Result<Ipv4Cidr> {
        if prefix_len > 32 {
            return Err(WireError::Malformed {
                what: "IPv4 CIDR",
                field: "prefix length",
                value: prefix_len.into(),
            });
        }
        Ok(Ipv4Cidr {
            address,
            prefix_len,
        })
    }

    /// The address as given (host bits included).
    pub const fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The prefix length, 0..=32.
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    fn mask_bits(&self) -> u32 {
        match self.prefix_len {
            0 => 0,
            n => u32::MAX << (32 - u32::from(n.min(32))),
        }
    }

    /// The netmask, e.g. `255.255.255.0` for `/24`.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask_bits())
    }

    /// The network: the same prefix with host bits zeroed (`10.0.1.0/24`).
    pub fn network(&self) -> Ipv4Cidr {
        Ipv4Cidr {
            address: Ipv4Addr::from(u32::from(self.address) & self.mask_bits()),
            prefix_len: self.prefix_len,
        }
    }

    /// The directed broadcast address: host bits all ones (RFC 919 §7,
    /// RFC 1812 §4.2.3.1). For `/32` this is the address itself.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) | !self.mask_bits())
    }

    /// True if `addr` lies inside this prefix.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        let m = self.mask_bits();
        u32::from(addr) & m == u32::from(self.address) & m
    }

    /// True if the two prefixes share at least one address (one contains the
    /// other's network).
    pub fn overlaps(&self, other: &Ipv4Cidr) -> bool {
        let m = self.mask_bits() & other.mask_bits();
        u32::from(self.address) & m == u32::from(other.address) & m
    }
}

impl fmt::Display for Ipv4Cidr {
    /// `10.0.1.1/24`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = AddrParseError;

    /// Parses `a.b.c.d/len` with `len` in 0..=32.
    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        const WHAT: &str = "IPv4 CIDR";
        let (addr, len) = s
            .split_once('/')
            .ok_or_else(|| AddrParseError::new(WHAT, s, "expected address/prefix-length"))?;
        let address: Ipv4Addr = addr
            .parse()
            .map_err(|_| AddrParseError::new(WHAT, s, "bad IPv4 address"))?;
        if len.is_empty() || len.len() > 2 || !len.bytes().all(|c| c.is_ascii_digit()) {
            return Err(AddrParseError::new(WHAT, s, "bad prefix length"));
        }
        let prefix_len: u8 = len
            .parse()
            .map_err(|_| AddrParseError::new(WHAT, s, "bad prefix length"))?;
        Ipv4Cidr::new(address, prefix_len)
            .map_err(|_| AddrParseError::new(WHAT, s, "prefix length above 32"))
    }
}

/// The Internet checksum (RFC 1071).
///
/// All functions return the folded 16-bit one's complement **sum**; the value
/// stored in a header is its complement (`!sum`), and a header verifies when
/// the sum over it, checksum field included, is `0xffff` (RFC 1071 §1).
pub mod checksum {
    use core::net::Ipv4Addr;

    use super::IpProtocol;

    fn fold(mut sum: u64) -> u16 {
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    /// One's complement sum of `bytes` taken as big-endian 16-bit words; an
    /// odd final byte is padded with a zero byte (RFC 1071 §4.1). Not inverted.
    ///
    /// Summed 64 bits at a time with end-around carry, then folded: RFC 1071
    /// §2 (C), "parallel summation" (the one's complement sum over wider
    /// words folds to the same 16-bit sum). Four times fewer additions than
    /// word by word; the checksum was a tenth of a TCP sender's CPU.
    pub fn data(bytes: &[u8]) -> u16 {
        let add = |sum: u64, w: u64| {
            let (s, carry) = sum.overflowing_add(w);
            s + u64::from(carry)
        };
        let mut sum: u64 = 0;
        let mut wide = bytes.chunks_exact(8);
        for c in &mut wide {
            sum = add(
                sum,
                u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            );
        }
        let mut words = wide.remainder().chunks_exact(2);
        for w in &mut words {
            sum = add(sum, u64::from(u16::from_be_bytes([w[0], w[1]])));
        }
        if let [last] = words.remainder() {
            sum = add(sum, u64::from(*last) << 8);
        }
        fold(sum)
    }

    /// One's complement sum of partial sums (RFC 1071 §2 (B): the sum is
    /// associative, so partial sums can be combined).
    pub fn combine(sums: &[u16]) -> u16 {
        fold(sums.iter().map(|&s| u64::from(s)).sum())
    }

    /// Sum of the IPv4 pseudo-header used by UDP (RFC 768 "Fields") and TCP:
    /// source, destination, zero, protocol, length.
    pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, proto: IpProtocol, length: u32) -> u16 {
        let s = src.octets();
        let d = dst.octets();
        let words = [
            u16::from_be_bytes([s[0], s[1]]),
            u16::from_be_bytes([s[2], s[3]]),
            u16::from_be_bytes([d[0], d[1]]),
            u16::from_be_bytes([d[2], d[3]]),
            u16::from(u8::from(proto)),
            (length >> 16) as u16,
            length as u16,
        ];
        combine(&words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn protocol_numbers() {
        for (v, p) in [
            (1, IpProtocol::Icmp),
            (6, IpProtocol::Tcp),
            (17, IpProtocol::Udp),
            (89, IpProtocol::Unknown(89)),
        ] {
            assert_eq!(IpProtocol::from(v), p);
            assert_eq!(u8::from(p), v);
        }
        assert_eq!(IpProtocol::Udp.to_string(), "UDP");
        assert_eq!(IpProtocol::Unknown(89).to_string(), "protocol 89");
    }

    #[test]
    fn cidr_arithmetic() {
        let c = cidr("10.0.1.1/24");
        assert_eq!(c.to_string(), "10.0.1.1/24");
        assert_eq!(c.address(), Ipv4Addr::new(10, 0, 1, 1));
        assert_eq!(c.prefix_len(), 24);
        assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(c.network(), cidr("10.0.1.0/24"));
        assert_eq!(c.broadcast(), Ipv4Addr::new(10, 0, 1, 255));
        assert!(c.contains(Ipv4Addr::new(10, 0, 1, 200)));
        assert!(!c.contains(Ipv4Addr::new(10, 0, 2, 1)));
        assert!(c.overlaps(&cidr("10.0.0.0/16")));
        assert!(cidr("10.0.0.0/16").overlaps(&c));
        assert!(!c.overlaps(&cidr("10.0.2.0/24")));

        let all = cidr("0.0.0.0/0");
        assert_eq!(all.netmask(), Ipv4Addr::UNSPECIFIED);
        assert!(all.contains(Ipv4Addr::new(8, 8, 8, 8)));
        assert_eq!(all.broadcast(), Ipv4Addr::BROADCAST);
        let host = cidr("192.0.2.7/32");
        assert_eq!(host.netmask(), Ipv4Addr::BROADCAST);
        assert_eq!(host.broadcast(), Ipv4Addr::new(192, 0, 2, 7));
        assert!(host.contains(Ipv4Addr::new(192, 0, 2, 7)));
        assert!(!host.contains(Ipv4Addr::new(192, 0, 2, 8)));
        assert_eq!(cidr("172.16.5.4/12").network(), cidr("172.16.0.0/12"));
    }

    #[test]
    fn cidr_errors() {
        assert_eq!(
            Ipv4Cidr::new(Ipv4Addr::LOCALHOST, 33),
            Err(WireError::Malformed {
                what: "IPv4 CIDR",
                field: "prefix length",
                value: 33
            })
        );
        for bad in [
            "10.0.1.1",
            "10.0.1.1/33",
            "10.0.1/24",
            "10.0.1.1/",
            "10.0.1.1/+4",
            "x/8",
            "10.0.1.1/024",
            "10.0.1.1/24/1",
        ] {
            let e = bad.parse::<Ipv4Cidr>().unwrap_err();
            assert_eq!(e.text, bad);
            assert!(e.to_string().contains(&format!("{bad:?}")), "{e}");
        }
        assert_eq!(cidr("10.0.1.1/08").prefix_len(), 8);
    }

    /// The word-by-word sum of RFC 1071 §4.1, as a reference.
    fn reference_sum(bytes: &[u8]) -> u16 {
        let mut sum: u64 = 0;
        for w in bytes.chunks(2) {
            sum += u64::from(w[0]) << 8 | u64::from(w.get(1).copied().unwrap_or(0));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    proptest::proptest! {
        #[test]
        fn wide_sum_equals_the_word_sum(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000)) {
            proptest::prop_assert_eq!(checksum::data(&bytes), reference_sum(&bytes));
        }
    }

    #[test]
    fn wide_sum_carries_end_around() {
        // All ones overflow the 64-bit accumulator many times over.
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 1500, 9001] {
            let bytes = vec![0xffu8; len];
            assert_eq!(checksum::data(&bytes), reference_sum(&bytes), "len {len}");
        }
    }

    #[test]
    fn checksum_helpers() {
        assert_eq!(checksum::data(&[]), 0);
        // Odd length: the last byte is the high half of a word (RFC 1071 §4.1).
        assert_eq!(checksum::data(&[0x12]), 0x1200);
        assert_eq!(checksum::data(&[0xff, 0xff, 0x00, 0x01]), 0x0001);
        assert_eq!(checksum::combine(&[0xffff, 0x0001]), 0x0001);
        let ph = checksum::pseudo_header_v4(
            Ipv4Addr::new(192, 168, 0, 1),
            Ipv4Addr::new(192, 168, 0, 2),
            IpProtocol::Udp,
            12,
        );
        // c0a8 + 0001 + c0a8 + 0002 + 0011 + 000c
        assert_eq!(
            ph,
            checksum::data(&[0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 2, 0, 0x11, 0, 0x0c])
        );
    }
}
