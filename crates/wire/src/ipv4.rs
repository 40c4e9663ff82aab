//! IPv4 headers (RFC 791 §3.1).

use core::net::Ipv4Addr;

use crate::error::check_len;
use crate::ip::{IpProtocol, checksum};
use crate::{Result, WireError, be16, set_be16};

/// Minimum header length: IHL = 5 words (RFC 791 §3.1 "Internet Header Length").
pub const HEADER_LEN: usize = 20;
/// Largest header: IHL = 15 words (RFC 791 §3.1).
pub const MAX_HEADER_LEN: usize = 60;

mod field {
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// A read/write view of an IPv4 packet (RFC 791 §3.1).
///
/// [`new_checked`](Self::new_checked) guarantees: buffer ≥ 20 bytes,
/// version 4, IHL ≥ 5, and header length ≤ total length ≤ buffer length.
/// Bytes past the total length (Ethernet padding) are ignored by
/// [`payload`](Self::payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn get_u8(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

fn set_u8(b: &mut [u8], at: usize, v: u8) {
    if let Some(x) = b.get_mut(at) {
        *x = v;
    }
}

fn ipv4_at(b: &[u8], at: usize) -> Ipv4Addr {
    match b.get(at..at + 4) {
        Some(s) => Ipv4Addr::new(s[0], s[1], s[2], s[3]),
        None => Ipv4Addr::UNSPECIFIED,
    }
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps `buffer` without checking it; accessors on a malformed buffer
    /// return zeros or empty slices instead of panicking.
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv4Packet { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the invariants listed on the type (RFC 791 §3.1: "Version: 4",
    /// "the minimum value for a correct header is 5", "Total Length is the
    /// length of the datagram ... including internet header and data").
    ///
    /// Errors: [`WireError::Truncated`] for a short buffer,
    /// [`WireError::Unsupported`] for version ≠ 4, [`WireError::Malformed`]
    /// for IHL < 5 or total length < header length.
    pub fn check_len(&self) -> Result<()> {
        const WHAT: &str = "IPv4 header";
        let len = self.buffer.as_ref().len();
        check_len(WHAT, HEADER_LEN, len)?;
        if self.version() != 4 {
            return Err(WireError::Unsupported {
                what: WHAT,
                field: "version",
                value: self.version().into(),
            });
        }
        let ihl = get_u8(self.buffer.as_ref(), field::VER_IHL) & 0x0f;
        if ihl < 5 {
            return Err(WireError::Malformed {
                what: WHAT,
                field: "ihl",
                value: ihl.into(),
            });
        }
        let header_len = self.header_len();
        check_len(WHAT, header_len, len)?;
        let total = usize::from(self.total_len());
        if total < header_len {
            return Err(WireError::Malformed {
                what: WHAT,
                field: "total length",
                value: total as u64,
            });
        }
        check_len("IPv4 packet", total, len)
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version (RFC 791 §3.1), 4 in a checked packet.
    pub fn version(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::VER_IHL) >> 4
    }

    /// Header length in bytes: IHL × 4 (RFC 791 §3.1), 20..=60.
    pub fn header_len(&self) -> usize {
        usize::from(get_u8(self.buffer.as_ref(), field::VER_IHL) & 0x0f) * 4
    }

    /// Differentiated Services Code Point: the upper 6 bits of the former
    /// Type of Service octet (RFC 2474 §3).
    pub fn dscp(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::DSCP_ECN) >> 2
    }

    /// Explicit Congestion Notification: the lower 2 bits (RFC 3168 §5).
    pub fn ecn(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::DSCP_ECN) & 0x03
    }

    /// The whole DSCP/ECN (former Type of Service) octet.
    pub fn dscp_ecn(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::DSCP_ECN)
    }

    /// Total Length: header plus data, in bytes (RFC 791 §3.1).
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Identification, used to group fragments (RFC 791 §3.1).
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    /// The DF ("Don't Fragment") flag (RFC 791 §3.1 "Flags", bit 1).
    pub fn dont_frag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_DF != 0
    }

    /// The MF ("More Fragments") flag (RFC 791 §3.1 "Flags", bit 2).
    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & FLAG_MF != 0
    }

    /// The reserved flag bit 0, which "must be zero" (RFC 791 §3.1).
    pub fn reserved_flag(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x8000 != 0
    }

    /// Fragment offset in **bytes** (the field counts 8-octet units,
    /// RFC 791 §3.1 "Fragment Offset"), so always a multiple of 8.
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buffer.as_ref(), field::FLG_OFF) & OFFSET_MASK) << 3
    }

    /// Time to Live (RFC 791 §3.1).
    pub fn hop_limit(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::TTL)
    }

    /// Protocol of the payload (RFC 791 §3.1 "Protocol").
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(get_u8(self.buffer.as_ref(), field::PROTOCOL))
    }

    /// Header Checksum as stored (RFC 791 §3.1).
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Source Address.
    pub fn src_addr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), field::SRC)
    }

    /// Destination Address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        ipv4_at(self.buffer.as_ref(), field::DST)
    }

    /// The header bytes, options included (empty if the buffer is too short).
    pub fn header(&self) -> &[u8] {
        self.buffer.as_ref().get(..self.header_len()).unwrap_or(&[])
    }

    /// True if the header checksum verifies: the one's complement sum of the
    /// header is all ones (RFC 791 §3.1 "Header Checksum", RFC 1071 §1).
    pub fn verify_checksum(&self) -> bool {
        let h = self.header();
        !h.is_empty() && checksum::data(h) == 0xffff
    }

    /// The options, bytes 20..header_len (RFC 791 §3.1 "Options").
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }

    /// The payload, bytes header_len..total_len: trailing Ethernet padding is
    /// excluded.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.total_len()).min(b.len());
        b.get(self.header_len()..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    /// Sets the version nibble.
    pub fn set_version(&mut self, v: u8) {
        let b = self.buffer.as_mut();
        let old = get_u8(b, field::VER_IHL);
        set_u8(b, field::VER_IHL, (old & 0x0f) | (v << 4));
    }

    /// Sets the header length in bytes (stored as IHL = `len / 4`).
    pub fn set_header_len(&mut self, len: usize) {
        let b = self.buffer.as_mut();
        let old = get_u8(b, field::VER_IHL);
        let ihl = ((len / 4) & 0x0f) as u8;
        set_u8(b, field::VER_IHL, (old & 0xf0) | ihl);
    }

    /// Sets the DSCP (6 bits).
    pub fn set_dscp(&mut self, v: u8) {
        let b = self.buffer.as_mut();
        let old = get_u8(b, field::DSCP_ECN);
        set_u8(b, field::DSCP_ECN, (old & 0x03) | (v << 2));
    }

    /// Sets the ECN (2 bits).
    pub fn set_ecn(&mut self, v: u8) {
        let b = self.buffer.as_mut();
        let old = get_u8(b, field::DSCP_ECN);
        set_u8(b, field::DSCP_ECN, (old & !0x03) | (v & 0x03));
    }

    /// Sets the whole DSCP/ECN octet.
    pub fn set_dscp_ecn(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::DSCP_ECN, v);
    }

    /// Sets Total Length.
    pub fn set_total_len(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::LENGTH, v);
    }

    /// Sets Identification.
    pub fn set_ident(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::IDENT, v);
    }

    fn set_flag(&mut self, flag: u16, on: bool) {
        let b = self.buffer.as_mut();
        let old = be16(b, field::FLG_OFF);
        let new = if on { old | flag } else { old & !flag };
        set_be16(b, field::FLG_OFF, new);
    }

    /// Sets or clears DF.
    pub fn set_dont_frag(&mut self, on: bool) {
        self.set_flag(FLAG_DF, on);
    }

    /// Sets or clears MF.
    pub fn set_more_frags(&mut self, on: bool) {
        self.set_flag(FLAG_MF, on);
    }

    /// Sets or clears the reserved flag (RFC 791: must be zero).
    pub fn set_reserved_flag(&mut self, on: bool) {
        self.set_flag(0x8000, on);
    }

    /// Sets the fragment offset from a byte count; it is stored in 8-octet
    /// units, so the low 3 bits of `bytes` are dropped (RFC 791 §3.1).
    pub fn set_frag_offset(&mut self, bytes: u16) {
        let b = self.buffer.as_mut();
        let old = be16(b, field::FLG_OFF);
        set_be16(b, field::FLG_OFF, (old & !OFFSET_MASK) | (bytes >> 3));
    }

    /// Sets Time to Live.
    pub fn set_hop_limit(&mut self, v: u8) {
        set_u8(self.buffer.as_mut(), field::TTL, v);
    }

    /// Sets Protocol.
    pub fn set_next_header(&mut self, p: IpProtocol) {
        set_u8(self.buffer.as_mut(), field::PROTOCOL, p.into());
    }

    /// Sets the Header Checksum field verbatim.
    pub fn set_checksum(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    /// Sets Source Address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        if let Some(s) = self.buffer.as_mut().get_mut(field::SRC..field::SRC + 4) {
            s.copy_from_slice(&a.octets());
        }
    }

    /// Sets Destination Address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        if let Some(s) = self.buffer.as_mut().get_mut(field::DST..field::DST + 4) {
            s.copy_from_slice(&a.octets());
        }
    }

    /// Computes and stores the header checksum: "the 16 bit one's complement
    /// of the one's complement sum of all 16 bit words in the header. For
    /// purposes of computing the checksum, the value of the checksum field is
    /// zero" (RFC 791 §3.1).
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = checksum::data(self.header());
        self.set_checksum(!sum);
    }

    /// Decrements TTL by one and patches the checksum incrementally
    /// (RFC 1624 §3, eqn. 3), as a router does when forwarding (RFC 1812
    /// §5.3.1). Returns the new TTL; a TTL of 0 is left untouched.
    pub fn decrement_hop_limit(&mut self) -> u8 {
        let ttl = self.hop_limit();
        if ttl == 0 {
            return 0;
        }
        // The TTL is the high byte of the 16-bit word TTL|Protocol.
        let old_word = u16::from_be_bytes([ttl, u8::from(self.next_header())]);
        let new_word = old_word - 0x0100;
        self.set_hop_limit(ttl - 1);
        // HC' = ~(~HC + ~m + m')
        let hc = self.checksum();
        let sum = checksum::combine(&[!hc, !old_word, new_word]);
        self.set_checksum(!sum);
        ttl - 1
    }

    /// The options, mutably.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..end)
            .unwrap_or(&mut [])
    }

    /// The payload (header_len..total_len, cut to the buffer), mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        let end = usize::from(self.total_len());
        let b = self.buffer.as_mut();
        let end = end.min(b.len());
        b.get_mut(start..end).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Ipv4Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed IPv4 header (RFC 791 §3.1). Options are not represented:
/// [`emit`](Self::emit) always writes a 20-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    /// Source Address.
    pub src_addr: Ipv4Addr,
    /// Destination Address.
    pub dst_addr: Ipv4Addr,
    /// Protocol.
    pub next_header: IpProtocol,
    /// Bytes of data after the header: Total Length − header length.
    pub payload_len: usize,
    /// Time to Live.
    pub hop_limit: u8,
    /// Identification.
    pub ident: u16,
    /// DF flag.
    pub dont_frag: bool,
    /// MF flag.
    pub more_frags: bool,
    /// Fragment offset in bytes, a multiple of 8 (RFC 791 §3.1).
    pub frag_offset: u16,
    /// The DSCP/ECN octet (RFC 2474 §3, RFC 3168 §5).
    pub dscp_ecn: u8,
}

impl Ipv4Repr {
    /// Parses the header of a checked packet and verifies its checksum
    /// ([`WireError::BadChecksum`], RFC 791 §3.1 "Header Checksum").
    /// Options are skipped; `payload_len` excludes them.
    pub fn parse<T: AsRef<[u8]>>(packet: &Ipv4Packet<T>) -> Result<Ipv4Repr> {
        packet.check_len()?;
        if !packet.verify_checksum() {
            return Err(WireError::BadChecksum {
                what: "IPv4 header",
            });
        }
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.total_len()) - packet.header_len(),
            hop_limit: packet.hop_limit(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
            dscp_ecn: packet.dscp_ecn(),
        })
    }

    /// Header bytes [`emit`](Self::emit) writes: [`HEADER_LEN`] (the payload
    /// is not included, as in smoltcp; see [`total_len`](Self::total_len)).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus payload: the Total Length this header announces.
    pub const fn total_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes a 20-byte header (IHL 5, no options) and fills its checksum.
    ///
    /// Total Length is `20 + payload_len`, saturated at 65535 (the caller must
    /// keep datagrams within RFC 791 limits); `frag_offset` is rounded down
    /// to a multiple of 8. The payload bytes are not touched.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Ipv4Packet<T>) {
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN);
        packet.set_dscp_ecn(self.dscp_ecn);
        let total = u16::try_from(self.total_len()).unwrap_or(u16::MAX);
        packet.set_total_len(total);
        packet.set_ident(self.ident);
        packet.set_reserved_flag(false);
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset);
        packet.set_hop_limit(self.hop_limit);
        packet.set_next_header(self.next_header);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.fill_checksum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr() -> Ipv4Repr {
        Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 1, 2),
            dst_addr: Ipv4Addr::new(10, 0, 2, 2),
            next_header: IpProtocol::Udp,
            payload_len: 4,
            hop_limit: 64,
            ident: 0xbeef,
            dont_frag: false,
            more_frags: true,
            frag_offset: 1480,
            dscp_ecn: 0xb8,
        }
    }

    fn emitted() -> Vec<u8> {
        let mut b = vec![0u8; 24];
        repr().emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
        b
    }

    #[test]
    fn emit_parse_fields() {
        let b = emitted();
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.dscp(), 46); // EF
        assert_eq!(p.ecn(), 0);
        assert_eq!(p.total_len(), 24);
        assert_eq!(p.frag_offset(), 1480);
        assert_eq!(&b[6..8], &[0x20, 0xb9]); // MF | 185 (= 1480 / 8)
        assert!(p.more_frags() && !p.dont_frag() && !p.reserved_flag());
        assert!(p.verify_checksum());
        assert_eq!(Ipv4Repr::parse(&p).unwrap(), repr());
        assert_eq!(repr().buffer_len(), 20);
        assert_eq!(repr().total_len(), 24);
    }

    #[test]
    fn check_len_errors() {
        let b = emitted();
        let t = |buf: &[u8]| Ipv4Packet::new_checked(buf).map(|_| ());
        assert!(matches!(
            t(&b[..19]),
            Err(WireError::Truncated { needed: 20, .. })
        ));
        assert!(matches!(
            t(&b[..23]),
            Err(WireError::Truncated {
                needed: 24,
                available: 23,
                ..
            })
        ));
        let mut v6 = b.clone();
        v6[0] = 0x65;
        assert_eq!(
            t(&v6),
            Err(WireError::Unsupported {
                what: "IPv4 header",
                field: "version",
                value: 6
            })
        );
        let mut ihl = b.clone();
        ihl[0] = 0x44;
        assert_eq!(
            t(&ihl),
            Err(WireError::Malformed {
                what: "IPv4 header",
                field: "ihl",
                value: 4
            })
        );
        let mut long_ihl = b.clone();
        long_ihl[0] = 0x47; // 28-byte header in a 24-byte buffer
        assert!(matches!(
            t(&long_ihl),
            Err(WireError::Truncated { needed: 28, .. })
        ));
        let mut short_total = b.clone();
        short_total[3] = 19;
        assert_eq!(
            t(&short_total),
            Err(WireError::Malformed {
                what: "IPv4 header",
                field: "total length",
                value: 19
            })
        );
        let mut bad_sum = b.clone();
        bad_sum[8] = 1;
        assert_eq!(
            Ipv4Repr::parse(&Ipv4Packet::new_checked(&bad_sum[..]).unwrap()),
            Err(WireError::BadChecksum {
                what: "IPv4 header"
            })
        );
    }

    #[test]
    fn options_and_padding() {
        // 24-byte header (one NOP-padded option word), 2 bytes of payload,
        // then 4 bytes of Ethernet padding.
        let mut b = [0u8; 30];
        {
            let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
            p.set_version(4);
            p.set_header_len(24);
            p.set_total_len(26);
            p.set_hop_limit(1);
            p.set_next_header(IpProtocol::Unknown(253));
            p.options_mut().copy_from_slice(&[1, 1, 1, 0]);
            p.payload_mut().copy_from_slice(b"hi");
            p.fill_checksum();
        }
        b[26..].copy_from_slice(&[0xee; 4]);
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.options(), &[1, 1, 1, 0]);
        assert_eq!(p.payload(), b"hi");
        let r = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.payload_len, 2);
        assert_eq!(r.next_header, IpProtocol::Unknown(253));
    }

    #[test]
    fn decrement_hop_limit_patches_checksum() {
        for ttl in [1u8, 2, 64, 128, 255] {
            let mut r = repr();
            r.hop_limit = ttl;
            let mut b = [0u8; 24];
            r.emit(&mut Ipv4Packet::new_unchecked(&mut b[..]));
            let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
            assert_eq!(p.decrement_hop_limit(), ttl - 1);
            assert!(p.verify_checksum(), "ttl {ttl}");
            let patched = p.checksum();
            p.fill_checksum();
            assert_eq!(patched, p.checksum());
        }
        let mut b = emitted();
        let mut p = Ipv4Packet::new_unchecked(&mut b[..]);
        p.set_hop_limit(0);
        p.fill_checksum();
        assert_eq!(p.decrement_hop_limit(), 0);
        assert!(p.verify_checksum());
    }

    #[test]
    fn unchecked_garbage_does_not_panic() {
        let p = Ipv4Packet::new_unchecked(&[0x4f, 0, 0xff, 0xff][..]);
        assert!(p.payload().is_empty());
        assert!(p.options().is_empty());
        assert!(!p.verify_checksum());
        assert_eq!(p.src_addr(), Ipv4Addr::UNSPECIFIED);
    }
}
