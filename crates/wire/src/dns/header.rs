//! The DNS message header (RFC 1035 §4.1.1), without the section counts,
//! which [`DnsMessage`](super::DnsMessage) derives from its sections.

use core::fmt;

use crate::be16;

/// Length of the fixed header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;

/// The OPCODE field (RFC 1035 §4.1.1; IANA "DNS OpCodes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Opcode {
    /// 0, a standard query (QUERY).
    #[default]
    Query,
    /// 2, a server status request (STATUS).
    Status,
    /// 4, a zone change notification (NOTIFY, RFC 1996).
    Notify,
    /// 5, a dynamic update (UPDATE, RFC 2136).
    Update,
    /// Any other 4-bit value (1 was the obsolete IQUERY, RFC 3425).
    Unknown(u8),
}

impl From<u8> for Opcode {
    /// Reads the low 4 bits.
    fn from(v: u8) -> Self {
        match v & 0x0f {
            0 => Opcode::Query,
            2 => Opcode::Status,
            4 => Opcode::Notify,
            5 => Opcode::Update,
            v => Opcode::Unknown(v),
        }
    }
}

impl From<Opcode> for u8 {
    /// The 4-bit value; an `Unknown` above 15 is cut to its low 4 bits.
    fn from(o: Opcode) -> u8 {
        match o {
            Opcode::Query => 0,
            Opcode::Status => 2,
            Opcode::Notify => 4,
            Opcode::Update => 5,
            Opcode::Unknown(v) => v & 0x0f,
        }
    }
}

/// The RCODE field (RFC 1035 §4.1.1; RFC 2136 §2.2 for 6–10). Only the 4
/// header bits: EDNS extended codes (RFC 6891 §6.1.3) are not combined in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Rcode {
    /// 0, no error condition.
    #[default]
    NoError,
    /// 1, format error: the server could not interpret the query.
    FormErr,
    /// 2, server failure: the server could not process the query.
    ServFail,
    /// 3, name error: the queried name does not exist (NXDOMAIN, RFC 2308
    /// §2.1); meaningful from an authoritative server.
    NxDomain,
    /// 4, not implemented: the server does not support this kind of query.
    NotImp,
    /// 5, refused, for policy reasons.
    Refused,
    /// Any other 4-bit value.
    Unknown(u8),
}

impl From<u8> for Rcode {
    /// Reads the low 4 bits.
    fn from(v: u8) -> Self {
        match v & 0x0f {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            v => Rcode::Unknown(v),
        }
    }
}

impl From<Rcode> for u8 {
    /// The 4-bit value; an `Unknown` above 15 is cut to its low 4 bits.
    fn from(r: Rcode) -> u8 {
        match r {
            Rcode::NoError => 0,
            Rcode::FormErr => 1,
            Rcode::ServFail => 2,
            Rcode::NxDomain => 3,
            Rcode::NotImp => 4,
            Rcode::Refused => 5,
            Rcode::Unknown(v) => v & 0x0f,
        }
    }
}

impl fmt::Display for Rcode {
    /// The mnemonic as `dig` prints it (`NOERROR`, `NXDOMAIN`, ...).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Rcode::NoError => "NOERROR",
            Rcode::FormErr => "FORMERR",
            Rcode::ServFail => "SERVFAIL",
            Rcode::NxDomain => "NXDOMAIN",
            Rcode::NotImp => "NOTIMP",
            Rcode::Refused => "REFUSED",
            Rcode::Unknown(v) => return write!(f, "RCODE{v}"),
        };
        f.write_str(s)
    }
}

/// The header fields of a message other than the four counts
/// (RFC 1035 §4.1.1). Every bit survives parse → emit, including Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DnsHeader {
    /// ID: copied from a query into its response.
    pub id: u16,
    /// QR: `false` for a query, `true` for a response.
    pub qr: bool,
    /// OPCODE.
    pub opcode: Opcode,
    /// AA: the responding server is an authority for the name.
    pub aa: bool,
    /// TC: the message was truncated to fit the transport
    /// (RFC 1035 §4.2.1). [`DnsMessage::emit`](super::DnsMessage::emit) also
    /// sets it when it has to drop records.
    pub tc: bool,
    /// RD: recursion desired.
    pub rd: bool,
    /// RA: recursion available.
    pub ra: bool,
    /// Z: reserved, "must be zero" (RFC 1035 §4.1.1); kept as received.
    pub z: bool,
    /// AD: authentic data (RFC 4035 §3.2.3; RFC 6840 §5.7 lets a query set it
    /// to ask for the bit in the response, as `dig` does).
    pub ad: bool,
    /// CD: checking disabled (RFC 4035 §3.2.2).
    pub cd: bool,
    /// RCODE.
    pub rcode: Rcode,
}

impl DnsHeader {
    /// Decodes the first 12 octets; the caller checked the length.
    pub(crate) fn read(b: &[u8]) -> DnsHeader {
        let flags = be16(b, 2);
        let bit = |m: u16| flags & m != 0;
        DnsHeader {
            id: be16(b, 0),
            qr: bit(0x8000),
            opcode: Opcode::from((flags >> 11) as u8),
            aa: bit(0x0400),
            tc: bit(0x0200),
            rd: bit(0x0100),
            ra: bit(0x0080),
            z: bit(0x0040),
            ad: bit(0x0020),
            cd: bit(0x0010),
            rcode: Rcode::from(flags as u8),
        }
    }

    /// The 16-bit flags word (second header word), with `tc` as given.
    pub(crate) fn flags(&self, tc: bool) -> u16 {
        let bit = |b: bool, m: u16| if b { m } else { 0 };
        bit(self.qr, 0x8000)
            | u16::from(u8::from(self.opcode)) << 11
            | bit(self.aa, 0x0400)
            | bit(tc, 0x0200)
            | bit(self.rd, 0x0100)
            | bit(self.ra, 0x0080)
            | bit(self.z, 0x0040)
            | bit(self.ad, 0x0020)
            | bit(self.cd, 0x0010)
            | u16::from(u8::from(self.rcode))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for v in 0..16u8 {
            assert_eq!(u8::from(Opcode::from(v)), v);
            assert_eq!(u8::from(Rcode::from(v)), v);
        }
        assert_eq!(Rcode::from(3), Rcode::NxDomain);
        assert_eq!(Rcode::NxDomain.to_string(), "NXDOMAIN");
        assert_eq!(Rcode::Unknown(9).to_string(), "RCODE9");
        assert_eq!(u8::from(Opcode::Unknown(0x13)), 3);
    }

    #[test]
    fn every_flag_bit() {
        for flags in [0x0000u16, 0xffff, 0x8180, 0x0120, 0x8583, 0x7a5a] {
            let b = [0x12, 0x34, (flags >> 8) as u8, flags as u8];
            let h = DnsHeader::read(&b);
            assert_eq!(h.flags(h.tc), flags, "{flags:#06x}");
        }
        let h = DnsHeader::read(&[0, 1, 0x81, 0x83]);
        assert!(h.qr && h.rd && h.ra && !h.aa && !h.tc);
        assert_eq!(h.rcode, Rcode::NxDomain);
    }
}
