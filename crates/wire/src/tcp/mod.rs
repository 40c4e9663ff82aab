//! TCP segments over IPv4 (RFC 9293 §3.1) and their options: Maximum
//! Segment Size (RFC 9293 §3.2), Window Scale and Timestamps (RFC 7323 §2,
//! §3), SACK-Permitted and SACK (RFC 2018 §2, §3).
//!
//! TCP has no length field: a segment is the whole IP payload, so the view
//! is built over exactly that slice (the caller trims Ethernet padding with
//! the IPv4 Total Length first).

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::check_len;
use crate::ip::{IpProtocol, checksum};
use crate::{Result, WireError, be16, set_be16};

mod flags;
mod option;

pub use flags::TcpFlags;
use option::kind;
pub use option::{TcpOption, TcpOptionIter, TcpTimestamps};

/// Reads a big-endian `u32` at `at`; 0 if out of range.
fn be32(b: &[u8], at: usize) -> u32 {
    match b.get(at..at + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}

/// Length of the TCP header without options (RFC 9293 §3.1, Data Offset 5).
pub const HEADER_LEN: usize = 20;
/// Largest TCP header: Data Offset 15 words (RFC 9293 §3.1).
pub const MAX_HEADER_LEN: usize = 60;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const DATA_OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

/// A read/write view of a TCP segment (RFC 9293 §3.1).
///
/// [`new_checked`](Self::new_checked) guarantees buffer ≥ 20 bytes and
/// 20 ≤ Data Offset × 4 ≤ buffer length. The segment is the whole buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    /// Wraps `buffer` without checking it; accessors on a malformed buffer
    /// return zeros or empty slices instead of panicking.
    pub const fn new_unchecked(buffer: T) -> Self {
        TcpPacket { buffer }
    }

    /// Wraps `buffer` after [`check_len`](Self::check_len).
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the buffer holds the fixed header ([`WireError::Truncated`]),
    /// that Data Offset is at least 5 ([`WireError::Malformed`]; RFC 9293
    /// §3.1: "The number of 32-bit words in the TCP header") and that the
    /// header fits the buffer ([`WireError::Truncated`]).
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        check_len("TCP header", HEADER_LEN, len)?;
        let off = self.data_offset();
        if off < 5 {
            return Err(WireError::Malformed {
                what: "TCP header",
                field: "data offset",
                value: off.into(),
            });
        }
        check_len("TCP header", self.header_len(), len)
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

    /// Sequence Number (RFC 9293 §3.1).
    pub fn seq_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ)
    }

    /// Acknowledgment Number, meaningful only with ACK (RFC 9293 §3.1).
    pub fn ack_number(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK)
    }

    /// Data Offset in 32-bit words (RFC 9293 §3.1).
    pub fn data_offset(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(field::DATA_OFF)
            .map_or(0, |b| b >> 4)
    }

    /// Header length in bytes (Data Offset × 4), 20..=60 when checked.
    pub fn header_len(&self) -> usize {
        usize::from(self.data_offset()) * 4
    }

    /// The four reserved bits (RFC 9293 §3.1: "A set of control bits
    /// reserved for future use. Must be zero in generated segments").
    pub fn reserved(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(field::DATA_OFF)
            .map_or(0, |b| b & 0x0f)
    }

    /// The control bits.
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(self.buffer.as_ref().get(field::FLAGS).copied().unwrap_or(0))
    }

    /// FIN bit.
    pub fn fin(&self) -> bool {
        self.flags().contains(TcpFlags::FIN)
    }

    /// SYN bit.
    pub fn syn(&self) -> bool {
        self.flags().contains(TcpFlags::SYN)
    }

    /// RST bit.
    pub fn rst(&self) -> bool {
        self.flags().contains(TcpFlags::RST)
    }

    /// PSH bit.
    pub fn psh(&self) -> bool {
        self.flags().contains(TcpFlags::PSH)
    }

    /// ACK bit.
    pub fn ack(&self) -> bool {
        self.flags().contains(TcpFlags::ACK)
    }

    /// URG bit.
    pub fn urg(&self) -> bool {
        self.flags().contains(TcpFlags::URG)
    }

    /// ECE bit (RFC 3168).
    pub fn ece(&self) -> bool {
        self.flags().contains(TcpFlags::ECE)
    }

    /// CWR bit (RFC 3168).
    pub fn cwr(&self) -> bool {
        self.flags().contains(TcpFlags::CWR)
    }

    /// Window, unscaled as on the wire (RFC 9293 §3.1; scaled per RFC 7323 §2.3).
    pub fn window_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WINDOW)
    }

    /// Checksum as stored.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Urgent Pointer (RFC 9293 §3.1).
    pub fn urgent_at(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT)
    }

    /// The option bytes between the fixed header and the data.
    pub fn options(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = self.header_len().min(b.len());
        b.get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// An iterator over the options.
    pub fn options_iter(&self) -> TcpOptionIter<'_> {
        TcpOptionIter::new(self.options())
    }

    /// The data after the header.
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        b.get(self.header_len().max(HEADER_LEN)..).unwrap_or(&[])
    }

    /// Sequence space the segment occupies: data length plus one for SYN and
    /// one for FIN (RFC 9293 §3.4 "SEG.LEN").
    pub fn segment_len(&self) -> usize {
        self.payload().len() + usize::from(self.syn()) + usize::from(self.fin())
    }

    fn sum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> u16 {
        let b = self.buffer.as_ref();
        checksum::combine(&[
            checksum::pseudo_header_v4(src, dst, IpProtocol::Tcp, b.len() as u32),
            checksum::data(b),
        ])
    }

    /// True if the checksum verifies over the IPv4 pseudo-header, header and
    /// data (RFC 9293 §3.1 "Checksum"; unlike UDP, 0 is not special).
    pub fn verify_checksum(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.buffer.as_ref().len() >= HEADER_LEN && self.sum(src, dst) == 0xffff
    }
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    /// Sets Source Port.
    pub fn set_src_port(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::SRC_PORT, v);
    }

    /// Sets Destination Port.
    pub fn set_dst_port(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::DST_PORT, v);
    }

    /// Sets Sequence Number.
    pub fn set_seq_number(&mut self, v: u32) {
        put32(self.buffer.as_mut(), field::SEQ, v);
    }

    /// Sets Acknowledgment Number.
    pub fn set_ack_number(&mut self, v: u32) {
        put32(self.buffer.as_mut(), field::ACK, v);
    }

    /// Sets the header length in bytes (a multiple of 4, 20..=60); the
    /// reserved bits are cleared.
    pub fn set_header_len(&mut self, len: usize) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::DATA_OFF) {
            *b = (((len / 4).min(15) as u8) << 4) & 0xf0;
        }
    }

    /// Sets the control bits.
    pub fn set_flags(&mut self, flags: TcpFlags) {
        if let Some(b) = self.buffer.as_mut().get_mut(field::FLAGS) {
            *b = flags.0;
        }
    }

    /// Sets Window.
    pub fn set_window_len(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::WINDOW, v);
    }

    /// Sets the Checksum field verbatim.
    pub fn set_checksum(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::CHECKSUM, v);
    }

    /// Sets Urgent Pointer.
    pub fn set_urgent_at(&mut self, v: u16) {
        set_be16(self.buffer.as_mut(), field::URGENT, v);
    }

    /// Computes and stores the checksum over the IPv4 pseudo-header
    /// (RFC 9293 §3.1: source, destination, zero, PTCL = 6, TCP length),
    /// header and data: the whole buffer is the segment.
    pub fn fill_checksum(&mut self, src: Ipv4Addr, dst: Ipv4Addr) {
        self.set_checksum(0);
        let c = !self.sum(src, dst);
        self.set_checksum(c);
    }

    /// The option bytes, mutably.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let end = self.header_len();
        let b = self.buffer.as_mut();
        let end = end.min(b.len());
        b.get_mut(HEADER_LEN..end).unwrap_or(&mut [])
    }

    /// The data after the header, mutably.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len().max(HEADER_LEN);
        self.buffer.as_mut().get_mut(start..).unwrap_or(&mut [])
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for TcpPacket<T> {
    fn as_ref(&self) -> &[u8] {
        self.buffer.as_ref()
    }
}

/// A parsed TCP header (RFC 9293 §3.1) with the options vnet understands.
/// The data is read with [`TcpPacket::payload`].
///
/// `ack` is `Some` exactly when the ACK bit is set: [`parse`](Self::parse)
/// fills it from the ACK flag and [`emit`](Self::emit) sets the ACK flag
/// from it, whatever `flags` says about ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr {
    /// Source Port.
    pub src_port: u16,
    /// Destination Port.
    pub dst_port: u16,
    /// Sequence Number.
    pub seq: u32,
    /// Acknowledgment Number when ACK is set.
    pub ack: Option<u32>,
    /// Control bits (ACK mirrors `ack`).
    pub flags: TcpFlags,
    /// Window as on the wire (unscaled, RFC 7323 §2.3).
    pub window: u16,
    /// Urgent Pointer (meaningful with URG).
    pub urgent: u16,
    /// Maximum Segment Size option (RFC 9293 §3.7.1).
    pub mss: Option<u16>,
    /// Window Scale option: the raw shift count (RFC 7323 §2.2; values
    /// above 14 are kept here, the stack uses 14, §2.3).
    pub window_scale: Option<u8>,
    /// SACK-Permitted option present (RFC 2018 §2).
    pub sack_permitted: bool,
    /// SACK option blocks (RFC 2018 §3): `(left edge, right edge)` pairs,
    /// the used ones first. [`parse`](Self::parse) fills them in the order
    /// they appear; [`emit`](Self::emit) writes the leading `Some` entries
    /// that fit the 40-byte option space beside the other options (see
    /// [`sack_blocks_fit`](Self::sack_blocks_fit)), and no SACK option if
    /// there are none.
    pub sack_blocks: [Option<(u32, u32)>; 4],
    /// Timestamps option (RFC 7323 §3.2).
    pub timestamps: Option<TcpTimestamps>,
    /// Length of the data.
    pub payload_len: usize,
}

impl TcpRepr {
    /// A header with no options, window 0, no data.
    pub const fn new(src_port: u16, dst_port: u16, seq: u32, flags: TcpFlags) -> Self {
        TcpRepr {
            src_port,
            dst_port,
            seq,
            ack: None,
            flags,
            window: 0,
            urgent: 0,
            mss: None,
            window_scale: None,
            sack_permitted: false,
            sack_blocks: [None; 4],
            timestamps: None,
            payload_len: 0,
        }
    }

    /// Parses a segment received from `src` for `dst`: the checksum must
    /// verify ([`WireError::BadChecksum`], RFC 9293 §3.1), the options must
    /// be well formed ([`WireError::Malformed`]); unknown options are
    /// skipped (RFC 9293 §3.2).
    pub fn parse<T: AsRef<[u8]>>(
        packet: &TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
    ) -> Result<TcpRepr> {
        packet.check_len()?;
        if !packet.verify_checksum(src, dst) {
            return Err(WireError::BadChecksum { what: "TCP" });
        }
        Self::parse_unverified(packet)
    }

    /// [`parse`](Self::parse) without the checksum check (for segments
    /// quoted in ICMP errors, or already verified).
    pub fn parse_unverified<T: AsRef<[u8]>>(packet: &TcpPacket<T>) -> Result<TcpRepr> {
        packet.check_len()?;
        let flags = packet.flags();
        let mut repr = TcpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            seq: packet.seq_number(),
            ack: flags.contains(TcpFlags::ACK).then(|| packet.ack_number()),
            flags,
            window: packet.window_len(),
            urgent: packet.urgent_at(),
            mss: None,
            window_scale: None,
            sack_permitted: false,
            sack_blocks: [None; 4],
            timestamps: None,
            payload_len: packet.payload().len(),
        };
        for opt in packet.options_iter() {
            match opt? {
                TcpOption::EndOfList => break,
                TcpOption::MaxSegmentSize(v) => repr.mss = Some(v),
                TcpOption::WindowScale(v) => repr.window_scale = Some(v),
                TcpOption::SackPermitted => repr.sack_permitted = true,
                TcpOption::Timestamps(t) => repr.timestamps = Some(t),
                TcpOption::Sack(blocks) => repr.sack_blocks = blocks,
                TcpOption::NoOperation | TcpOption::Unknown { .. } => {}
            }
        }
        Ok(repr)
    }

    /// Bytes of the options other than SACK blocks, padded to 4 bytes:
    /// MSS 4, SACK-Permitted + Timestamps 12 (or 4 / 12 alone with NOP
    /// padding), Window Scale 4 (NOP + 3).
    fn base_options_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        n += match (self.sack_permitted, self.timestamps.is_some()) {
            (true, true) | (false, true) => 12,
            (true, false) => 4,
            (false, false) => 0,
        };
        if self.window_scale.is_some() {
            n += 4;
        }
        n
    }

    /// How many SACK blocks fit in the 40 bytes of option space (RFC 9293
    /// §3.1: Data Offset ≤ 15 words) beside the other options: each block
    /// takes 8 bytes plus 4 for NOP, NOP, kind and length (RFC 2018 §3: at
    /// most 4 blocks, 3 with Timestamps).
    pub fn sack_blocks_fit(&self) -> usize {
        let room = (MAX_HEADER_LEN - HEADER_LEN).saturating_sub(self.base_options_len());
        (room.saturating_sub(4) / 8).min(4)
    }

    /// The SACK blocks [`emit`](Self::emit) writes: the leading `Some`
    /// entries of [`sack_blocks`](Self::sack_blocks), cut to
    /// [`sack_blocks_fit`](Self::sack_blocks_fit).
    fn emitted_sack_blocks(&self) -> usize {
        let used = self.sack_blocks.iter().take_while(|b| b.is_some()).count();
        used.min(self.sack_blocks_fit())
    }

    /// Bytes of options [`emit`](Self::emit) writes, padded to 4 bytes:
    /// MSS 4, SACK-Permitted + Timestamps 12 (or 4 / 12 alone with NOP
    /// padding), Window Scale 4 (NOP + 3), SACK 4 + 8 per block (NOP, NOP,
    /// kind, length, blocks).
    pub fn options_len(&self) -> usize {
        let blocks = self.emitted_sack_blocks();
        self.base_options_len() + if blocks > 0 { 4 + 8 * blocks } else { 0 }
    }

    /// Header length: 20 plus [`options_len`](Self::options_len).
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// Header plus data.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Sequence space the segment occupies (RFC 9293 §3.4 "SEG.LEN").
    pub fn segment_len(&self) -> usize {
        self.payload_len
            + usize::from(self.flags.contains(TcpFlags::SYN))
            + usize::from(self.flags.contains(TcpFlags::FIN))
    }

    fn emit_options(&self, b: &mut [u8]) {
        let mut opts = [0u8; MAX_HEADER_LEN - HEADER_LEN];
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            let end = (n + bytes.len()).min(opts.len());
            opts[n..end].copy_from_slice(&bytes[..end - n]);
            n = end;
        };
        if let Some(mss) = self.mss {
            put(&[kind::MSS, 4]);
            put(&mss.to_be_bytes());
        }
        match (self.sack_permitted, self.timestamps) {
            (sack, Some(t)) => {
                if sack {
                    put(&[kind::SACK_PERMITTED, 2]);
                } else {
                    put(&[kind::NOP, kind::NOP]);
                }
                put(&[kind::TIMESTAMPS, 10]);
                put(&t.tsval.to_be_bytes());
                put(&t.tsecr.to_be_bytes());
            }
            (true, None) => put(&[kind::NOP, kind::NOP, kind::SACK_PERMITTED, 2]),
            (false, None) => {}
        }
        if let Some(ws) = self.window_scale {
            put(&[kind::NOP, kind::WINDOW_SCALE, 3, ws]);
        }
        let blocks = self.emitted_sack_blocks();
        if blocks > 0 {
            // Linux's layout: NOP, NOP, then the option (RFC 2018 §3).
            put(&[kind::NOP, kind::NOP, kind::SACK, (2 + 8 * blocks) as u8]);
            for &(left, right) in self.sack_blocks.iter().take(blocks).flatten() {
                put(&left.to_be_bytes());
                put(&right.to_be_bytes());
            }
        }
        let n = n.min(b.len());
        b[..n].copy_from_slice(&opts[..n]);
    }

    /// Writes header and options, lets `fill` write the data (the slice is
    /// everything after the header, normally `payload_len` bytes), then
    /// fills the checksum for `src` → `dst` over the whole buffer.
    ///
    /// The buffer must be exactly [`buffer_len`](Self::buffer_len) bytes
    /// (TCP has no length field); nothing panics otherwise.
    pub fn emit<T, F>(&self, packet: &mut TcpPacket<T>, src: Ipv4Addr, dst: Ipv4Addr, fill: F)
    where
        T: AsRef<[u8]> + AsMut<[u8]>,
        F: FnOnce(&mut [u8]),
    {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq);
        packet.set_ack_number(self.ack.unwrap_or(0));
        packet.set_header_len(self.header_len());
        packet.set_flags(self.flags.with(TcpFlags::ACK, self.ack.is_some()));
        packet.set_window_len(self.window);
        packet.set_urgent_at(self.urgent);
        packet.set_checksum(0);
        self.emit_options(packet.options_mut());
        fill(packet.payload_mut());
        packet.fill_checksum(src, dst);
    }

    /// [`emit`](Self::emit) copying `payload` as the data.
    pub fn emit_with_payload<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut TcpPacket<T>,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
    ) {
        self.emit(packet, src, dst, |buf| {
            let n = buf.len().min(payload.len());
            buf[..n].copy_from_slice(&payload[..n]);
        });
    }
}

impl fmt::Display for TcpRepr {
    /// tcpdump style: `1234 > 80: Flags [S], seq 1, win 64240, options [mss 1460], length 0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} > {}: Flags [{}], seq {}",
            self.src_port, self.dst_port, self.flags, self.seq
        )?;
        if let Some(a) = self.ack {
            write!(f, ", ack {a}")?;
        }
        write!(f, ", win {}", self.window)?;
        if let Some(m) = self.mss {
            write!(f, ", mss {m}")?;
        }
        if let Some(w) = self.window_scale {
            write!(f, ", wscale {w}")?;
        }
        for (l, r) in self.sack_blocks.iter().flatten() {
            write!(f, ", sack {l}:{r}")?;
        }
        write!(f, ", length {}", self.payload_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn syn() -> TcpRepr {
        TcpRepr {
            ack: None,
            window: 64240,
            mss: Some(1460),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some(TcpTimestamps { tsval: 1, tsecr: 0 }),
            ..TcpRepr::new(40000, 80, 0x1234_5678, TcpFlags::SYN)
        }
    }

    fn emit(r: &TcpRepr, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; r.header_len() + payload.len()];
        r.emit_with_payload(&mut TcpPacket::new_unchecked(&mut b[..]), SRC, DST, payload);
        b
    }

    #[test]
    fn emit_parse_round_trip() {
        let r = syn();
        assert_eq!(r.options_len(), 20);
        let b = emit(&r, &[]);
        assert_eq!(b.len(), 40);
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert!(p.syn() && !p.ack());
        assert_eq!(TcpRepr::parse(&p, SRC, DST).unwrap(), r);
        let mut d = TcpRepr {
            ack: Some(7),
            payload_len: 5,
            ..TcpRepr::new(1, 2, 3, TcpFlags::PSH)
        };
        let b = emit(&d, b"hello");
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload(), b"hello");
        assert!(p.ack() && p.psh());
        d.flags = TcpFlags::PSH | TcpFlags::ACK;
        assert_eq!(TcpRepr::parse(&p, SRC, DST).unwrap(), d);
        assert_eq!(p.segment_len(), 5);
        assert_eq!(d.segment_len(), 5);
    }

    #[test]
    fn bad_checksum_and_lengths() {
        let mut b = emit(&syn(), &[]);
        b[5] ^= 1;
        let p = TcpPacket::new_checked(&b[..]).unwrap();
        assert_eq!(
            TcpRepr::parse(&p, SRC, DST),
            Err(WireError::BadChecksum { what: "TCP" })
        );
        assert!(TcpPacket::new_checked(&b[..19]).is_err());
        assert!(TcpPacket::new_checked(&b[..39]).is_err());
        b[12] = 0x40;
        assert_eq!(
            TcpPacket::new_checked(&b[..]),
            Err(WireError::Malformed {
                what: "TCP header",
                field: "data offset",
                value: 4
            })
        );
    }

    #[test]
    fn options_unknown_skipped_and_malformed_rejected() {
        // kind 30 (MPTCP) with 4 data bytes, then MSS, then EOL.
        let opts = [30, 6, 1, 2, 3, 4, 2, 4, 0x05, 0xb4, 0, 0];
        let v: Vec<_> = TcpOptionIter::new(&opts).collect();
        assert_eq!(
            v,
            vec![
                Ok(TcpOption::Unknown {
                    kind: 30,
                    data: &[1, 2, 3, 4]
                }),
                Ok(TcpOption::MaxSegmentSize(1460)),
                Ok(TcpOption::EndOfList)
            ]
        );
        for bad in [&[2u8, 0][..], &[2, 1], &[8, 40], &[2, 3, 0], &[77]] {
            let v: Vec<_> = TcpOptionIter::new(bad).collect();
            assert!(matches!(v.last(), Some(Err(_))), "{bad:?}: {v:?}");
        }
        let sack = [1, 1, 5, 10, 0, 0, 0, 1, 0, 0, 0, 9];
        let v: Vec<_> = TcpOptionIter::new(&sack).filter_map(|o| o.ok()).collect();
        assert_eq!(v[2], TcpOption::Sack([Some((1, 9)), None, None, None]));
    }

    #[test]
    fn flags_display() {
        assert_eq!((TcpFlags::SYN | TcpFlags::ACK).to_string(), "S.");
        assert_eq!(TcpFlags::NONE.to_string(), "none");
        assert_eq!((TcpFlags::FIN | TcpFlags::PSH).to_string(), "FP");
        assert!(syn().to_string().contains("Flags [S]"));
    }
}
