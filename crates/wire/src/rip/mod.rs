//! RIP version 2 messages (RFC 2453 §4), carried in UDP port 520.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------+---------------+-------------------------------+
//! |  command (1)  |  version (1)  |       must be zero (2)        |
//! +---------------+---------------+-------------------------------+
//! | Address Family Identifier (2) |        Route Tag (2)          |
//! |                         IP Address (4)                        |
//! |                         Subnet Mask (4)                       |
//! |                         Next Hop (4)                          |
//! |                         Metric (4)                            |
//! +---------------------------------------------------------------+
//! (1 to 25 route entries of 20 bytes)
//! ```
//!
//! An entry whose family is `0xFFFF` is an authentication entry (RFC 2453
//! §4.1; the simple password is type 2, RFC 4822's keyed MD5 type 3 with
//! a trailer, kept verbatim). Messages are small and built entry by entry,
//! so, as for DNS and DHCP, the representation is owned: [`RipMessage`]
//! with [`RipMessage::parse`] and [`RipMessage::emit`].

use core::net::Ipv4Addr;

use crate::{Result, WireError};

/// The UDP port of RIP (RFC 2453 §3.6).
pub const PORT: u16 = 520;
/// The RIPv2 multicast group (RFC 2453 §4.5: "224.0.0.9").
pub const MULTICAST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 9);
/// The metric that means unreachable (RFC 2453 §3.6).
pub const INFINITY: u32 = 16;
/// Most route entries in one message (RFC 2453 §3.6: 25, so a message
/// stays within 512 bytes of UDP payload).
pub const MAX_ENTRIES: usize = 25;
/// Bytes of the header.
pub const HEADER_LEN: usize = 4;
/// Bytes of one entry.
pub const ENTRY_LEN: usize = 20;
/// Address family of IPv4 route entries (RFC 2453 §4; BSD's AF_INET).
pub const AFI_INET: u16 = 2;
/// Address family that marks an authentication entry (RFC 2453 §4.1).
pub const AFI_AUTH: u16 = 0xFFFF;
/// Authentication type "simple password" (RFC 2453 §4.1).
pub const AUTH_SIMPLE: u16 = 2;

/// The command field (RFC 2453 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RipCommand {
    /// 1: asks for all or part of a routing table.
    Request,
    /// 2: carries routes (periodic, triggered, or an answer).
    Response,
    /// Anything else, kept verbatim (RFC 2453 §3.9: ignored).
    Unknown(u8),
}

impl From<u8> for RipCommand {
    fn from(v: u8) -> Self {
        match v {
            1 => RipCommand::Request,
            2 => RipCommand::Response,
            other => RipCommand::Unknown(other),
        }
    }
}

impl From<RipCommand> for u8 {
    fn from(c: RipCommand) -> u8 {
        match c {
            RipCommand::Request => 1,
            RipCommand::Response => 2,
            RipCommand::Unknown(v) => v,
        }
    }
}

/// One route entry (RFC 2453 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RipEntry {
    /// Address family identifier: [`AFI_INET`], or 0 in a request for
    /// the whole table (RFC 2453 §3.9.1).
    pub family: u16,
    /// Route tag (RFC 2453 §4.2), carried along unchanged.
    pub tag: u16,
    /// The destination network.
    pub address: Ipv4Addr,
    /// Its mask (RFC 2453 §4.3); contiguous in every message vnet sends.
    pub mask: Ipv4Addr,
    /// Where to send traffic for it; 0.0.0.0 means "via the sender"
    /// (RFC 2453 §4.4).
    pub next_hop: Ipv4Addr,
    /// 1..=15, or [`INFINITY`].
    pub metric: u32,
}

impl RipEntry {
    /// The request for the whole table (RFC 2453 §3.9.1: one entry,
    /// family 0, metric infinity).
    pub fn whole_table() -> RipEntry {
        RipEntry {
            family: 0,
            tag: 0,
            address: Ipv4Addr::UNSPECIFIED,
            mask: Ipv4Addr::UNSPECIFIED,
            next_hop: Ipv4Addr::UNSPECIFIED,
            metric: INFINITY,
        }
    }

    /// The prefix length of a contiguous mask, or `None` for a mask with
    /// holes (which vnet ignores, RFC 2453 §4.3 allows only contiguous ones
    /// in practice).
    pub fn prefix_len(&self) -> Option<u8> {
        let bits = u32::from(self.mask);
        let len = bits.leading_ones();
        (bits.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
    }

    fn parse(b: &[u8]) -> RipEntry {
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        RipEntry {
            family: u16_at(0),
            tag: u16_at(2),
            address: Ipv4Addr::from(u32_at(4)),
            mask: Ipv4Addr::from(u32_at(8)),
            next_hop: Ipv4Addr::from(u32_at(12)),
            metric: u32_at(16),
        }
    }

    fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.family.to_be_bytes());
        out.extend_from_slice(&self.tag.to_be_bytes());
        out.extend_from_slice(&self.address.octets());
        out.extend_from_slice(&self.mask.octets());
        out.extend_from_slice(&self.next_hop.octets());
        out.extend_from_slice(&self.metric.to_be_bytes());
    }
}

/// An authentication entry (RFC 2453 §4.1): its type and 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RipAuth {
    /// [`AUTH_SIMPLE`] for a clear-text password (NUL-padded), else
    /// another type kept verbatim.
    pub kind: u16,
    /// The password or the type's data.
    pub data: [u8; 16],
}

impl RipAuth {
    /// A simple password, NUL-padded (longer ones are cut at 16 bytes).
    pub fn simple(password: &str) -> RipAuth {
        let mut data = [0u8; 16];
        let bytes = password.as_bytes();
        let n = bytes.len().min(16);
        data[..n].copy_from_slice(&bytes[..n]);
        RipAuth {
            kind: AUTH_SIMPLE,
            data,
        }
    }
}

/// A RIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RipMessage {
    /// Request or response.
    pub command: RipCommand,
    /// 2 for RIPv2 (vnet sends 2; 1 is parsed too, RFC 2453 §4).
    pub version: u8,
    /// The authentication entry, when the first entry is one.
    pub auth: Option<RipAuth>,
    /// The route entries (after the authentication entry, if any).
    pub entries: Vec<RipEntry>,
}

impl RipMessage {
    /// Parses a RIP message (the UDP payload). The "must be zero" field
    /// is not checked (RFC 2453 §4 lets RIPv2 ignore it); the length must
    /// be the header plus whole entries.
    pub fn parse(bytes: &[u8]) -> Result<RipMessage> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "RIP header",
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        let body = &bytes[HEADER_LEN..];
        if !body.len().is_multiple_of(ENTRY_LEN) {
            return Err(WireError::Malformed {
                what: "RIP message",
                field: "length",
                value: bytes.len() as u64,
            });
        }
        let mut auth = None;
        let mut entries = Vec::with_capacity(body.len() / ENTRY_LEN);
        for (i, chunk) in body.chunks_exact(ENTRY_LEN).enumerate() {
            let family = u16::from_be_bytes([chunk[0], chunk[1]]);
            if family == AFI_AUTH && i == 0 {
                let mut data = [0u8; 16];
                data.copy_from_slice(&chunk[4..20]);
                auth = Some(RipAuth {
                    kind: u16::from_be_bytes([chunk[2], chunk[3]]),
                    data,
                });
                continue;
            }
            entries.push(RipEntry::parse(chunk));
        }
        Ok(RipMessage {
            command: RipCommand::from(bytes[0]),
            version: bytes[1],
            auth,
            entries,
        })
    }

    /// Bytes [`RipMessage::emit`] produces.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + ENTRY_LEN * (self.entries.len() + usize::from(self.auth.is_some()))
    }

    /// The message as bytes (the caller keeps to [`MAX_ENTRIES`]).
    pub fn emit(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer_len());
        out.push(self.command.into());
        out.push(self.version);
        out.extend_from_slice(&[0, 0]);
        if let Some(auth) = &self.auth {
            out.extend_from_slice(&AFI_AUTH.to_be_bytes());
            out.extend_from_slice(&auth.kind.to_be_bytes());
            out.extend_from_slice(&auth.data);
        }
        for entry in &self.entries {
            entry.emit(&mut out);
        }
        out
    }
}

#[cfg(test)]
mod tests;
