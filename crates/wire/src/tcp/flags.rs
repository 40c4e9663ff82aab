//! The control bits of the TCP header (RFC 9293 §3.1, RFC 3168 §23.2).

use core::fmt;

/// The eight control bits of RFC 9293 §3.1 ("Control bits") and RFC 3168
/// §23.2 (ECE, CWR), as one byte (byte 13 of the header).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No bits set.
    pub const NONE: TcpFlags = TcpFlags(0);
    /// FIN: "No more data from sender" (RFC 9293 §3.1).
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// SYN: "Synchronize sequence numbers" (RFC 9293 §3.1).
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// RST: "Reset the connection" (RFC 9293 §3.1).
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// PSH: "Push function" (RFC 9293 §3.1).
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// ACK: "Acknowledgment field is significant" (RFC 9293 §3.1).
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// URG: "Urgent pointer field is significant" (RFC 9293 §3.1).
    pub const URG: TcpFlags = TcpFlags(0x20);
    /// ECE: ECN-Echo (RFC 3168 §6.1).
    pub const ECE: TcpFlags = TcpFlags(0x40);
    /// CWR: Congestion Window Reduced (RFC 3168 §6.1).
    pub const CWR: TcpFlags = TcpFlags(0x80);

    /// True if every bit of `other` is set in `self`.
    pub const fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any bit of `other` is set in `self`.
    pub const fn intersects(self, other: TcpFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// `self` with the bits of `other` set.
    pub const fn union(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | other.0)
    }

    /// `self` with the bits of `other` cleared.
    pub const fn without(self, other: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 & !other.0)
    }

    /// `self` with `other` set or cleared according to `on`.
    pub const fn with(self, other: TcpFlags, on: bool) -> TcpFlags {
        if on {
            self.union(other)
        } else {
            self.without(other)
        }
    }
}

impl core::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        self.union(rhs)
    }
}

impl core::ops::BitOrAssign for TcpFlags {
    fn bitor_assign(&mut self, rhs: TcpFlags) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for TcpFlags {
    /// tcpdump style: `S.` for SYN+ACK, `F.`, `R`, `P.`, `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(TcpFlags, char); 8] = [
            (TcpFlags::SYN, 'S'),
            (TcpFlags::FIN, 'F'),
            (TcpFlags::RST, 'R'),
            (TcpFlags::PSH, 'P'),
            (TcpFlags::URG, 'U'),
            (TcpFlags::ECE, 'E'),
            (TcpFlags::CWR, 'W'),
            (TcpFlags::ACK, '.'),
        ];
        if self.0 == 0 {
            return f.write_str("none");
        }
        for (flag, c) in NAMES {
            if self.contains(flag) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}
