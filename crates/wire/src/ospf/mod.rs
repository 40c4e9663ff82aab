//! OSPF version 2 packets (RFC 2328 Appendix A), carried directly in IP
//! as protocol 89.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |   Version #   |     Type      |         Packet length         |
//! |                          Router ID                            |
//! |                           Area ID                             |
//! |           Checksum            |             AuType            |
//! |                       Authentication                          |
//! |                       Authentication                          |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The common header (§A.3.1) is followed by a Hello, Database
//! Description, Link State Request, Link State Update or Link State
//! Acknowledgment body ([`packets`]). The checksum is the IP checksum of
//! the whole packet but the 64-bit authentication field (§D.4.1); with
//! cryptographic authentication (§D.4.3) it is not computed, and the
//! message digest follows the packet, outside the packet length.
//!
//! LSAs ([`lsa`]) carry their own Fletcher checksum ([`fletcher`],
//! §12.1.7), which the codec leaves for the receiver to check
//! ([`Lsa::checksum_ok`]): §13 discards one bad LSA, not the packet.
//!
//! As for RIP, DNS and DHCP the representation is owned: [`OspfPacket`]
//! with [`OspfPacket::parse`] and [`OspfPacket::emit`].

use core::net::Ipv4Addr;

use crate::ip::checksum;
use crate::{Result, WireError};

pub mod fletcher;
pub mod lsa;
pub mod packets;
mod reader;

pub use lsa::{
    FLAG_B, FLAG_E, FLAG_V, LSA_HEADER_LEN, LinkType, LsType, Lsa, LsaBody, LsaHeader, LsaKey,
    NetworkLsa, Options, RouterLink, RouterLsa, TosMetric,
};
pub use packets::{DatabaseDescription, DdFlags, Hello};

/// The IP protocol number of OSPF (RFC 2328 §A.1).
pub const IP_PROTOCOL: u8 = 89;
/// AllSPFRouters: every OSPF router listens (§A.1).
pub const ALL_SPF_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 5);
/// AllDRouters: the DR and BDR listen (§A.1).
pub const ALL_D_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 6);
/// The OSPF version this module speaks.
pub const VERSION: u8 = 2;
/// Bytes of the common header (§A.3.1).
pub const HEADER_LEN: usize = 24;
/// LSRefreshTime: a router re-originates its LSAs this often (seconds,
/// Appendix B).
pub const LS_REFRESH_TIME: u16 = 1800;
/// MinLSInterval: least time between two originations of one LSA (s).
pub const MIN_LS_INTERVAL: u16 = 5;
/// MinLSArrival: least time between two accepted instances of one LSA
/// from flooding (s).
pub const MIN_LS_ARRIVAL: u16 = 1;
/// MaxAge: an LSA this old is flushed from every database (s).
pub const MAX_AGE: u16 = 3600;
/// CheckAge: how often a database checks its LSAs' checksums (s).
pub const CHECK_AGE: u16 = 300;
/// MaxAgeDiff: two instances whose ages differ by more are different (s).
pub const MAX_AGE_DIFF: u16 = 900;
/// InitialSequenceNumber (§12.1.6): the first instance's sequence number,
/// the most negative one but `0x80000000` (reserved).
pub const INITIAL_SEQUENCE: u32 = 0x8000_0001;
/// MaxSequenceNumber (§12.1.6).
pub const MAX_SEQUENCE: u32 = 0x7fff_ffff;

/// AuType 0: no authentication (§D.1).
pub const AUTH_NULL: u16 = 0;
/// AuType 1: a clear-text password (§D.2).
pub const AUTH_SIMPLE: u16 = 1;
/// AuType 2: a keyed message digest after the packet (§D.3).
pub const AUTH_CRYPTOGRAPHIC: u16 = 2;

/// The authentication of a packet (AuType and the 64-bit field, §D).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OspfAuth {
    /// AuType 0. The field "can contain anything" and is not examined
    /// (§D.4.1); it is sent as zeros.
    Null,
    /// AuType 1: the password, NUL-padded to 8 bytes (§D.4.2).
    Simple([u8; 8]),
    /// AuType 2 (§D.4.3), parsed but not verified: the key, the
    /// non-decreasing sequence number and the digest after the packet.
    Cryptographic {
        /// Which shared key made the digest.
        key_id: u8,
        /// The cryptographic sequence number.
        seq: u32,
        /// The message digest (16 bytes for keyed MD5); its length is the
        /// "Auth Data Len" field.
        digest: Vec<u8>,
    },
    /// Any other AuType, with its 8 bytes.
    Unknown {
        /// The AuType.
        au_type: u16,
        /// The authentication field.
        data: [u8; 8],
    },
}

impl OspfAuth {
    /// A simple password (cut at 8 bytes, NUL-padded).
    pub fn simple(password: &str) -> OspfAuth {
        let mut data = [0u8; 8];
        let n = password.len().min(8);
        data[..n].copy_from_slice(&password.as_bytes()[..n]);
        OspfAuth::Simple(data)
    }

    /// The AuType field.
    pub fn au_type(&self) -> u16 {
        match self {
            OspfAuth::Null => AUTH_NULL,
            OspfAuth::Simple(_) => AUTH_SIMPLE,
            OspfAuth::Cryptographic { .. } => AUTH_CRYPTOGRAPHIC,
            OspfAuth::Unknown { au_type, .. } => *au_type,
        }
    }

    fn field(&self) -> [u8; 8] {
        match self {
            OspfAuth::Null => [0; 8],
            OspfAuth::Simple(data) | OspfAuth::Unknown { data, .. } => *data,
            OspfAuth::Cryptographic {
                key_id,
                seq,
                digest,
            } => {
                let s = seq.to_be_bytes();
                [0, 0, *key_id, digest.len() as u8, s[0], s[1], s[2], s[3]]
            }
        }
    }
}

/// The body of a packet, by type (§A.3.1: 1 to 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OspfBody {
    /// Type 1 (§A.3.2).
    Hello(Hello),
    /// Type 2 (§A.3.3).
    DatabaseDescription(DatabaseDescription),
    /// Type 3 (§A.3.4): the LSAs asked for.
    LinkStateRequest(Vec<LsaKey>),
    /// Type 4 (§A.3.5): the LSAs sent.
    LinkStateUpdate(Vec<Lsa>),
    /// Type 5 (§A.3.6): headers of the LSAs acknowledged.
    LinkStateAck(Vec<LsaHeader>),
}

impl OspfBody {
    /// The Type field.
    pub fn packet_type(&self) -> u8 {
        match self {
            OspfBody::Hello(_) => 1,
            OspfBody::DatabaseDescription(_) => 2,
            OspfBody::LinkStateRequest(_) => 3,
            OspfBody::LinkStateUpdate(_) => 4,
            OspfBody::LinkStateAck(_) => 5,
        }
    }

    /// The name of the type, as tshark shows it.
    pub fn name(&self) -> &'static str {
        match self {
            OspfBody::Hello(_) => "Hello",
            OspfBody::DatabaseDescription(_) => "DB Description",
            OspfBody::LinkStateRequest(_) => "LS Request",
            OspfBody::LinkStateUpdate(_) => "LS Update",
            OspfBody::LinkStateAck(_) => "LS Acknowledge",
        }
    }

    fn buffer_len(&self) -> usize {
        match self {
            OspfBody::Hello(h) => h.buffer_len(),
            OspfBody::DatabaseDescription(d) => d.buffer_len(),
            OspfBody::LinkStateRequest(k) => 12 * k.len(),
            OspfBody::LinkStateUpdate(l) => 4 + l.iter().map(Lsa::buffer_len).sum::<usize>(),
            OspfBody::LinkStateAck(h) => LSA_HEADER_LEN * h.len(),
        }
    }

    fn emit(&self, out: &mut Vec<u8>) {
        match self {
            OspfBody::Hello(h) => h.emit(out),
            OspfBody::DatabaseDescription(d) => d.emit(out),
            OspfBody::LinkStateRequest(k) => packets::emit_requests(k, out),
            OspfBody::LinkStateUpdate(l) => packets::emit_update(l, out),
            OspfBody::LinkStateAck(h) => {
                for h in h {
                    h.emit(out);
                }
            }
        }
    }
}

/// An OSPFv2 packet: the common header's fields and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OspfPacket {
    /// The sender's router ID.
    pub router_id: Ipv4Addr,
    /// The area of the interface it was sent on (0.0.0.0: the backbone).
    pub area_id: Ipv4Addr,
    /// Authentication.
    pub auth: OspfAuth,
    /// The body.
    pub body: OspfBody,
}

/// The checksum a packet's header must carry (§D.4.1): the IP checksum
/// over `packet` (the header and body, `Packet length` bytes) leaving out
/// the authentication field, the checksum field counted as zero. `None`
/// if `packet` is shorter than a header.
pub fn packet_checksum(packet: &[u8]) -> Option<u16> {
    let head = packet.get(..12)?;
    let autype = packet.get(14..16)?;
    let body = packet.get(HEADER_LEN..)?;
    Some(!checksum::combine(&[
        checksum::data(head),
        checksum::data(autype),
        checksum::data(body),
    ]))
}

impl OspfPacket {
    /// Parses an OSPF packet (the IP payload). Checks the version (2), the
    /// type (1–5), the packet length, and the checksum unless the
    /// authentication is cryptographic; bytes after the packet length
    /// (and its digest) are ignored.
    pub fn parse(bytes: &[u8]) -> Result<OspfPacket> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "OSPF header",
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let be16 = |at: usize| u16::from_be_bytes([bytes[at], bytes[at + 1]]);
        let addr =
            |at: usize| Ipv4Addr::new(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
        if bytes[0] != VERSION {
            return Err(WireError::Unsupported {
                what: "OSPF header",
                field: "version",
                value: bytes[0].into(),
            });
        }
        let length = usize::from(be16(2));
        if length < HEADER_LEN {
            return Err(malformed("packet length", length as u64));
        }
        let Some(packet) = bytes.get(..length) else {
            return Err(WireError::Truncated {
                what: "OSPF packet",
                needed: length,
                available: bytes.len(),
            });
        };
        let mut field = [0u8; 8];
        field.copy_from_slice(&bytes[16..24]);
        let au_type = be16(14);
        let auth = match au_type {
            AUTH_NULL => OspfAuth::Null,
            AUTH_SIMPLE => OspfAuth::Simple(field),
            AUTH_CRYPTOGRAPHIC => {
                let digest_len = usize::from(field[3]);
                let Some(digest) = bytes.get(length..length + digest_len) else {
                    return Err(WireError::Truncated {
                        what: "OSPF message digest",
                        needed: length + digest_len,
                        available: bytes.len(),
                    });
                };
                OspfAuth::Cryptographic {
                    key_id: field[2],
                    seq: u32::from_be_bytes([field[4], field[5], field[6], field[7]]),
                    digest: digest.to_vec(),
                }
            }
            au_type => OspfAuth::Unknown {
                au_type,
                data: field,
            },
        };
        if au_type != AUTH_CRYPTOGRAPHIC && packet_checksum(packet) != Some(be16(12)) {
            return Err(WireError::BadChecksum {
                what: "OSPF packet",
            });
        }
        let body = &packet[HEADER_LEN..];
        let body = match bytes[1] {
            1 => OspfBody::Hello(Hello::read(body)?),
            2 => OspfBody::DatabaseDescription(DatabaseDescription::read(body)?),
            3 => OspfBody::LinkStateRequest(packets::read_requests(body)?),
            4 => OspfBody::LinkStateUpdate(packets::read_update(body)?),
            5 => OspfBody::LinkStateAck(packets::read_acks(body)?),
            other => return Err(malformed("type", other.into())),
        };
        Ok(OspfPacket {
            router_id: addr(4),
            area_id: addr(8),
            auth,
            body,
        })
    }

    /// Bytes of the packet as the Packet length field counts them (the
    /// header and body, not a message digest).
    pub fn packet_len(&self) -> usize {
        HEADER_LEN + self.body.buffer_len()
    }

    /// The packet as bytes, checksum computed (0 with cryptographic
    /// authentication, whose digest is appended as given).
    pub fn emit(&self) -> Vec<u8> {
        let length = self.packet_len();
        let mut out = Vec::with_capacity(length + 16);
        out.push(VERSION);
        out.push(self.body.packet_type());
        out.extend_from_slice(&(length as u16).to_be_bytes());
        out.extend_from_slice(&self.router_id.octets());
        out.extend_from_slice(&self.area_id.octets());
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&self.auth.au_type().to_be_bytes());
        out.extend_from_slice(&self.auth.field());
        self.body.emit(&mut out);
        match &self.auth {
            OspfAuth::Cryptographic { digest, .. } => out.extend_from_slice(digest),
            _ => {
                if let Some(sum) = packet_checksum(&out) {
                    out[12..14].copy_from_slice(&sum.to_be_bytes());
                }
            }
        }
        out
    }
}

fn malformed(field: &'static str, value: u64) -> WireError {
    WireError::Malformed {
        what: "OSPF header",
        field,
        value,
    }
}

#[cfg(test)]
mod tests;
