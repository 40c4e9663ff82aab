//! UDP datagrams over IPv4 (RFC 768).

use core::net::Ipv4Addr;

use crate::error::check_len;
use crate::ip::{IpProtocol, checksum};
use crate::{Result, WireError, be16, set_be16};

/// Length of the UDP header (RFC 768 "Format").
pub const HEADER_LEN: usize = 8;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
}

/// A read/write view of a UDP datagram (RFC 768).
///
/// [`new_checked`](Self::new_checked) guarantees 8 ≤ Length ≤ buffer length;
/// bytes past Length are ignored by [`payload`](Self::payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Wraps `buffer` without checking it; accessors on a malformed buffer
    /// return zeros or empty slices instead of panicking.
    pub const fn new_unchecked(buffer: T) -> Self {
        UdpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the buffer holds the header and that Length ("the length in
    /// octets of this user datagram including this header and the data. (This
    /// means the minimum value of the length is eight.)", RFC 768) is at least
    /// 8 ([`WireError::Malformed`]) and fits the buffer
    /// ([`WireError::Truncated`]).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        check_len("UDP header", HEADER_LEN, len)?;
        let field_len = usize::from(self.len());
        if field_len < HEADER_LEN {
            return Err(WireError::Malformed {
                what: "UDP header",
                field: "length",
                value: field_len as u64,
            });
        }
        check_len("UDP datagram", field_len, len)
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source Port.
    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }

    /// Destination Port.
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }

    /// Length: header plus data (RFC 768).
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// True if Length announces no data (Length ≤ 8).
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// Checksum as stored; 0 means "no checksum" (RFC 768).
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// The datagram (header and data) as Length announces it; empty if the
    /// view is malformed.
    fn datagram(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(..usize::from(self.len()))
            .unwrap_or(&[])
    }

    /// The data, bytes 8..Length.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.len()).min(b.len());
        b.get(HEADER_LEN..end).unwrap_or(&[])
    }

    fn sum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let d = self.datagram();
        checksum::combine(&[
            checksum::pseudo_header_v4(src, dst, IpProtocol::Udp, d.len() as u32),
            checksum::data(d),
        ])
    }

    /// True if the checksum is absent (0, "the transmitter generated no
    /// checksum", RFC 768) or verifies over the pseudo header, header and data
    /// (RFC 768 "Fields").
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        if self.datagram().len() < HEADER_LEN {
            return false;
        }
        self.checksum() == 0 || self.sum(src, dst) == 0xffff
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    /// Sets Source Port.
    pub fn set_src_port(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::SRC_PORT, v);
    }

    /// Sets Destination Port.
    pub fn set_dst_port(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::DST_PORT, v);
    }

    /// Sets Length.
    pub fn set_len(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::LENGTH, v);
    }

    /// Sets the Checksum field verbatim.
    pub fn set_checksum(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    /// Computes and stores the checksum over the pseudo header, header and
    /// data (bytes up to Length); a computed 0 is sent as `0xffff`, since 0
    /// means "no checksum" (RFC 768 "If the computed checksum is zero, it is
    /// transmitted as all ones").
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = !self.sum(src, dst);
        self.set_checksum(if c == 0 { 0xffff } else { c });
    }

    /// The data (8..Length, cut to the buffer), mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = usize::from(self.len());
        let b = self.buffer.as_mut();
        let end = end.min(b.len());
        b.get_mut(HEADER_LEN..end).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for UdpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed UDP header (RFC 768). The data is read with
/// [`UdpPacket::payload`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    /// Source Port.
    pub src_port: u16,
    /// Destination Port.
    pub dst_port: u16,
}

impl UdpRepr {
    /// Parses a datagram received from `src` for `dst`. A zero checksum means
    /// none was sent and is accepted; otherwise it must verify
    /// ([`WireError::BadChecksum`], RFC 768 "Fields").
    pub fn parse<T: AsRef<[u8]>>(
        packet: &UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<UdpRepr> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(WireError::BadChecksum { what: "UDP" });
        }
        Ok(UdpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
        })
    }

    /// The header length, [`HEADER_LEN`].
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus `payload_len` data bytes.
    pub const fn buffer_len(&self, payload_len: usize) -> usize {
        HEADER_LEN + payload_len
    }

    /// Writes the header with Length = 8 + `payload_len`, lets `fill` write
    /// the data (the slice handed to it is `payload_len` bytes, or what fits
    /// in the buffer), then fills the checksum for `src` → `dst`; a computed
    /// 0 is sent as `0xffff` (RFC 768).
    ///
    /// The caller keeps `8 + payload_len ≤ 65535` and the buffer at least
    /// that long; Length saturates at 65535 and nothing panics otherwise.
    pub fn emit<T, F>(
        &self,
        packet: &mut UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload_len: usize,
        fill: F,
    ) where
        T: AsRef<[u8]> + AsMut<[u8]>,
        F: FnOnce(&mut [u8]),
    {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        let len = u16::try_from(HEADER_LEN + payload_len).unwrap_or(u16::MAX);
        packet.set_len(len);
        fill(packet.payload_mut());
        packet.fill_checksum(src, dst);
    }

    /// [`emit`](Self::emit) copying `payload` as the data.
    pub fn emit_with_payload<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut UdpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        self.emit(packet, src, dst, payload.len(), |buf| {
            let n = buf.len().min(payload.len());
            buf[..n].copy_from_slice(&payload[..n]);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 2);

    fn emit(payload: &[u8]) -> Vec<u8> {
        let repr = UdpRepr {
            src_port: 48896,
            dst_port: 53,
        };
        let mut b = vec![0u8; repr.buffer_len(payload.len())];
        repr.emit_with_payload(&mut UdpPacket::new_unchecked(&mut b[..]), SRC, DST, payload);
        b
    }

    #[test]
    fn emit_and_parse() {
        let b = emit(&[0xaa, 0x00, 0x00, 0xff]);
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.len(), 12);
        assert!(!p.is_empty());
        assert_eq!(p.payload(), &[0xaa, 0, 0, 0xff]);
        assert!(p.verify_checksum(SRC, DST));
        assert_eq!(
            UdpRepr::parse(&p, SRC, DST).unwrap(),
            UdpRepr {
                src_port: 48896,
                dst_port: 53
            }
        );
    }

    #[test]
    fn zero_checksum_means_none() {
        let mut b = emit(b"hello");
        b[6] = 0;
        b[7] = 0;
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert!(UdpRepr::parse(&p, SRC, Ipv4Addr::new(1, 1, 1, 1)).is_ok());
    }

    #[test]
    fn computed_zero_is_sent_as_all_ones() {
        // Make the datagram sum to 0xffff with the checksum field zero: the
        // data word is chosen as the complement of the rest (RFC 768).
        let mut b = emit(&[0, 0]);
        let c = UdpPacket::new_unchecked(&b[..]).checksum();
        b[8..10].copy_from_slice(&c.to_be_bytes());
        let mut p = UdpPacket::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(SRC, DST);
        assert_eq!(p.checksum(), 0xffff);
        assert!(p.verify_checksum(SRC, DST));
    }

    #[test]
    fn length_checks_and_padding() {
        let b = emit(b"abc");
        assert!(matches!(
            UdpPacket::new_checked(&b[..7]),
            Err(WireError::Truncated {
                what: "UDP header",
                needed: 8,
                available: 7
            })
        ));
        assert!(matches!(
            UdpPacket::new_checked(&b[..10]),
            Err(WireError::Truncated {
                what: "UDP datagram",
                needed: 11,
                available: 10
            })
        ));
        let mut short = b.clone();
        short[5] = 7;
        assert_eq!(
            UdpPacket::new_checked(&short[..]),
            Err(WireError::Malformed {
                what: "UDP header",
                field: "length",
                value: 7
            })
        );
        let mut padded = b.clone();
        padded.extend_from_slice(&[0xff; 5]);
        let p = UdpPacket::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload(), b"abc");
        assert!(UdpRepr::parse(&p, SRC, DST).is_ok());
        let mut corrupt = b.clone();
        corrupt[9] ^= 1;
        assert_eq!(
            UdpRepr::parse(&UdpPacket::new_checked(&corrupt[..]).unwrap(), SRC, DST),
            Err(WireError::BadChecksum { what: "UDP" })
        );
    }

    #[test]
    fn emit_with_closure() {
        let repr = UdpRepr {
            src_port: 1,
            dst_port: 2,
        };
        let mut b = [0u8; 12];
        repr.emit(
            &mut UdpPacket::new_unchecked(&mut b[..]),
            SRC,
            DST,
            4,
            |p| p.copy_from_slice(b"data"),
        );
        let p = UdpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload(), b"data");
        assert!(UdpRepr::parse(&p, SRC, DST).is_ok());
        assert_eq!(repr.header_len(), 8);
    }
}
