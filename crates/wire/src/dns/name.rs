//! Domain names (RFC 1035 §2.3.4, §3.1) and their wire encoding, with
//! message compression (RFC 1035 §4.1.4).

use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::str::FromStr;
use std::collections::HashMap;

use crate::error::check_len;
use crate::{AddrParseError, Result, WireError};

/// Longest name on the wire, length octets and the root label included
/// (RFC 1035 §2.3.4 "names - 255 octets or less").
pub const MAX_NAME_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4 "labels - 63 octets or less").
pub const MAX_LABEL_LEN: usize = 63;
/// Most compression pointers followed while reading one name. A name has at
/// most 127 labels, so a legitimate encoder never needs more jumps than that.
pub const MAX_POINTER_JUMPS: usize = 127;

/// The 12-octet message header (RFC 1035 §4.1.1): no name can live there, so
/// a pointer into it is refused.
const HEADER_LEN: usize = 12;

/// A domain name: a sequence of labels, the root label implied
/// (RFC 1035 §3.1).
///
/// * Every name is absolute: `"www.example.com"` and `"www.example.com."`
///   parse to the same name.
/// * Comparison, hashing and ordering ignore ASCII case (RFC 1035 §2.3.3,
///   RFC 4343 §3); the case of each label is kept as given, so a query's
///   spelling is echoed back exactly. Ordering is the canonical DNS order of
///   RFC 4034 §6.1 (label by label from the right).
/// * Invariants, checked by every constructor: each label is 1–63 octets and
///   the encoded name, root label included, is at most 255 octets
///   (RFC 1035 §2.3.4). Labels may hold any octets (RFC 2181 §11).
#[derive(Clone, Default)]
pub struct DnsName {
    /// Uncompressed wire form without the final root (zero) octet: length
    /// octet, label, length octet, label, ...
    wire: Vec<u8>,
}

impl DnsName {
    /// The root name `.`, which has no labels.
    pub const fn root() -> DnsName {
        DnsName { wire: Vec::new() }
    }

    /// Builds a name from its labels, most specific first (`["www",
    /// "example", "com"]`).
    ///
    /// Fails with [`WireError::Malformed`] on an empty label (only the root
    /// label may be empty, RFC 1035 §3.1), a label over 63 octets or a name
    /// over 255 octets (RFC 1035 §2.3.4).
    pub fn from_labels<I, L>(labels: I) -> Result<DnsName>
    where
        I: IntoIterator<Item = L>,
        L: AsRef<[u8]>,
    {
        let mut name = DnsName::root();
        for label in labels {
            name.push_label(label.as_ref())?;
        }
        Ok(name)
    }

    fn push_label(&mut self, label: &[u8]) -> Result<()> {
        if label.is_empty() || label.len() > MAX_LABEL_LEN {
            return Err(WireError::Malformed {
                what: "DNS name",
                field: "label length",
                value: label.len() as u64,
            });
        }
        let total = self.wire.len() + 1 + label.len() + 1;
        if total > MAX_NAME_LEN {
            return Err(WireError::Malformed {
                what: "DNS name",
                field: "length",
                value: total as u64,
            });
        }
        self.wire.push(label.len() as u8);
        self.wire.extend_from_slice(label);
        Ok(())
    }

    /// The labels, most specific first; the root name has none.
    pub fn labels(&self) -> impl Iterator<Item = &[u8]> + '_ {
        let mut rest = &self.wire[..];
        core::iter::from_fn(move || {
            let (&len, tail) = rest.split_first()?;
            let (label, tail) = tail.split_at_checked(usize::from(len))?;
            rest = tail;
            Some(label)
        })
    }

    /// Number of labels (0 for the root).
    pub fn label_count(&self) -> usize {
        self.labels().count()
    }

    /// True for the root name `.`.
    pub fn is_root(&self) -> bool {
        self.wire.is_empty()
    }

    /// Octets of the uncompressed wire encoding, root label included
    /// (RFC 1035 §3.1); at most [`MAX_NAME_LEN`].
    pub fn wire_len(&self) -> usize {
        self.wire.len() + 1
    }

    /// The uncompressed wire encoding, ending with the root (zero) octet
    /// (RFC 1035 §3.1).
    pub fn to_wire(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.wire_len());
        v.extend_from_slice(&self.wire);
        v.push(0);
        v
    }

    /// The name with its first label removed (`www.example.com` →
    /// `example.com`); `None` for the root.
    pub fn parent(&self) -> Option<DnsName> {
        let (&len, _) = self.wire.split_first()?;
        let wire = self.wire.get(1 + usize::from(len)..)?.to_vec();
        Some(DnsName { wire })
    }

    /// The name with `label` prepended (`example.com` + `www` →
    /// `www.example.com`); fails as [`from_labels`](Self::from_labels) does.
    pub fn child(&self, label: impl AsRef<[u8]>) -> Result<DnsName> {
        let mut name = DnsName::from_labels([label])?;
        let total = name.wire.len() + self.wire.len() + 1;
        if total > MAX_NAME_LEN {
            return Err(WireError::Malformed {
                what: "DNS name",
                field: "length",
                value: total as u64,
            });
        }
        name.wire.extend_from_slice(&self.wire);
        Ok(name)
    }

    /// True if `self` equals `zone` or lies below it, comparing whole labels
    /// without regard to ASCII case: `www.example.com` is a subdomain of
    /// `example.com`, of `com` and of the root, and of itself; `wwwexample.com`
    /// is not a subdomain of `example.com` (RFC 1034 §3.1: the domain "is a
    /// subdomain of another domain if it is contained within that domain").
    pub fn is_subdomain_of(&self, zone: &DnsName) -> bool {
        let mut at = 0;
        while self.wire.len() - at > zone.wire.len() {
            at += 1 + usize::from(self.wire[at]);
        }
        self.wire.len() - at == zone.wire.len() && self.wire[at..].eq_ignore_ascii_case(&zone.wire)
    }

    /// A copy with every label in ASCII lower case.
    pub fn to_lowercase(&self) -> DnsName {
        DnsName {
            wire: self.wire.to_ascii_lowercase(),
        }
    }

    /// Writes the name as text: labels separated by dots, `.` and `\` inside
    /// a label escaped with a backslash and octets outside `!`..`~` written
    /// as `\DDD` (RFC 1035 §5.1).
    fn write_text(&self, f: &mut fmt::Formatter<'_>, trailing_dot: bool) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &c in label {
                match c {
                    b'.' | b'\\' => write!(f, "\\{}", c as char)?,
                    0x21..=0x7e => write!(f, "{}", c as char)?,
                    _ => write!(f, "\\{c:03}")?,
                }
            }
        }
        if trailing_dot {
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl PartialEq for DnsName {
    /// ASCII case-insensitive (RFC 4343 §3). Length octets are at most 63, so
    /// they are never letters and a byte-wise case-insensitive comparison of
    /// the encodings compares label by label.
    fn eq(&self, other: &Self) -> bool {
        self.wire.eq_ignore_ascii_case(&other.wire)
    }
}

impl Eq for DnsName {}

impl Hash for DnsName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.wire.len());
        for &b in &self.wire {
            state.write_u8(b.to_ascii_lowercase());
        }
    }
}

impl Ord for DnsName {
    /// Canonical DNS name order (RFC 4034 §6.1): compare the rightmost labels
    /// first, each as lower-cased octet strings; a name sorts before its
    /// subdomains.
    fn cmp(&self, other: &Self) -> Ordering {
        let a: Vec<&[u8]> = self.labels().collect();
        let b: Vec<&[u8]> = other.labels().collect();
        for (x, y) in a.iter().rev().zip(b.iter().rev()) {
            let x = x.iter().map(u8::to_ascii_lowercase);
            let y = y.iter().map(u8::to_ascii_lowercase);
            match x.cmp(y) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        a.len().cmp(&b.len())
    }
}

impl PartialOrd for DnsName {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for DnsName {
    /// Fully qualified, with the trailing dot: `www.example.com.` (the master
    /// file form, RFC 1035 §5.1, as `dig` prints it); the root is `.`. The
    /// alternate form `{:#}` omits the trailing dot: `www.example.com`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_text(f, !f.alternate())
    }
}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DnsName(\"{self}\")")
    }
}

impl FromStr for DnsName {
    type Err = AddrParseError;

    /// Parses dotted text; a trailing dot is optional (`example.com` and
    /// `example.com.` are the same name) and `.` or the empty string is the
    /// root. `\.` and `\\` put a dot or backslash inside a label and `\DDD`
    /// is the octet with decimal value DDD (RFC 1035 §5.1). Empty labels
    /// (`a..b`, `.a`), labels over 63 octets and names over 255 octets are
    /// refused (RFC 1035 §2.3.4).
    fn from_str(s: &str) -> core::result::Result<Self, Self::Err> {
        const WHAT: &str = "DNS name";
        if s.is_empty() || s == "." {
            return Ok(DnsName::root());
        }
        let mut name = DnsName::root();
        let mut label = Vec::new();
        let mut bytes = s.bytes();
        let finish = |name: &mut DnsName, label: &mut Vec<u8>| {
            if label.is_empty() {
                return Err(AddrParseError::new(WHAT, s, "empty label"));
            }
            name.push_label(label).map_err(|e| match e {
                WireError::Malformed {
                    field: "label length",
                    ..
                } => AddrParseError::new(WHAT, s, "label longer than 63 octets"),
                _ => AddrParseError::new(WHAT, s, "name longer than 255 octets"),
            })?;
            label.clear();
            Ok(())
        };
        let mut ended_with_dot = false;
        while let Some(c) = bytes.next() {
            ended_with_dot = false;
            match c {
                b'.' => {
                    finish(&mut name, &mut label)?;
                    ended_with_dot = true;
                }
                b'\\' => {
                    let e = bytes
                        .next()
                        .ok_or_else(|| AddrParseError::new(WHAT, s, "dangling backslash"))?;
                    if e.is_ascii_digit() {
                        let d2 = bytes.next().filter(u8::is_ascii_digit);
                        let d3 = bytes.next().filter(u8::is_ascii_digit);
                        let (Some(d2), Some(d3)) = (d2, d3) else {
                            return Err(AddrParseError::new(WHAT, s, "\\DDD needs three digits"));
                        };
                        let v = u32::from(e - b'0') * 100
                            + u32::from(d2 - b'0') * 10
                            + u32::from(d3 - b'0');
                        let v = u8::try_from(v)
                            .map_err(|_| AddrParseError::new(WHAT, s, "\\DDD above 255"))?;
                        label.push(v);
                    } else {
                        label.push(e);
                    }
                }
                _ => label.push(c),
            }
        }
        if !ended_with_dot {
            finish(&mut name, &mut label)?;
        }
        Ok(name)
    }
}

/// Reads a possibly compressed name starting at `start` in the whole message
/// `msg` (RFC 1035 §4.1.4). Returns the name and the offset just past its
/// encoding at `start` (past the first pointer, or past the root octet).
///
/// Hostile input is bounded:
/// * a pointer must point strictly before the first octet of the labels being
///   read (its own name segment), so every jump moves backwards past
///   everything read so far and no loop is possible; pointers into the
///   12-octet header are refused too ([`WireError::Malformed`]);
/// * at most [`MAX_POINTER_JUMPS`] pointers are followed;
/// * the decoded name may not exceed 255 octets (RFC 1035 §2.3.4);
/// * label types `0b01` (extended labels, RFC 6891 §5: no longer used) are
///   [`WireError::Unsupported`] and `0b10` (reserved, RFC 1035 §4.1.4) is
///   [`WireError::Malformed`].
pub(crate) fn read_name(msg: &[u8], start: usize) -> Result<(DnsName, usize)> {
    let mut wire = Vec::new();
    let mut pos = start;
    let mut segment_start = start;
    let mut end = None;
    let mut jumps = 0;
    loop {
        check_len("DNS name", pos + 1, msg.len())?;
        let len = msg[pos];
        match len >> 6 {
            0b00 if len == 0 => {
                let end = end.unwrap_or(pos + 1);
                return Ok((DnsName { wire }, end));
            }
            0b00 => {
                let l = usize::from(len);
                check_len("DNS name", pos + 1 + l, msg.len())?;
                let total = wire.len() + 1 + l + 1;
                if total > MAX_NAME_LEN {
                    return Err(WireError::Malformed {
                        what: "DNS name",
                        field: "length",
                        value: total as u64,
                    });
                }
                wire.extend_from_slice(&msg[pos..pos + 1 + l]);
                pos += 1 + l;
            }
            0b11 => {
                check_len("DNS name", pos + 2, msg.len())?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, msg[pos + 1]]));
                if target >= segment_start || target < HEADER_LEN {
                    return Err(WireError::Malformed {
                        what: "DNS name",
                        field: "compression pointer",
                        value: target as u64,
                    });
                }
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    return Err(WireError::Malformed {
                        what: "DNS name",
                        field: "compression pointer count",
                        value: jumps as u64,
                    });
                }
                end.get_or_insert(pos + 2);
                pos = target;
                segment_start = target;
            }
            0b01 => {
                return Err(WireError::Unsupported {
                    what: "DNS name",
                    field: "label type",
                    value: u64::from(len),
                });
            }
            _ => {
                return Err(WireError::Malformed {
                    what: "DNS name",
                    field: "label type",
                    value: u64::from(len),
                });
            }
        }
    }
}

/// Largest offset a compression pointer can hold (14 bits, RFC 1035 §4.1.4).
const MAX_POINTER: usize = 0x3fff;

/// Remembers where names were written so later names can point at them
/// (RFC 1035 §4.1.4). Suffixes are matched octet for octet, case included,
/// so compression never changes a name's spelling.
#[derive(Debug, Default)]
pub(crate) struct Compressor {
    suffixes: HashMap<Vec<u8>, u16>,
}

impl Compressor {
    /// Appends `name` to `out`, replacing its longest suffix already written
    /// with a pointer, and remembers the new suffixes it wrote.
    pub(crate) fn write(&mut self, out: &mut Vec<u8>, name: &DnsName) {
        let wire = &name.wire;
        let base = out.len();
        let mut at = 0;
        let mut pointer = None;
        while at < wire.len() {
            if let Some(&off) = self.suffixes.get(&wire[at..]) {
                pointer = Some(off);
                break;
            }
            at += 1 + usize::from(wire[at]);
        }
        let written = at.min(wire.len());
        out.extend_from_slice(&wire[..written]);
        match pointer {
            Some(off) => out.extend_from_slice(&(0xc000 | off).to_be_bytes()),
            None => out.push(0),
        }
        let mut i = 0;
        while i < written {
            let off = base + i;
            if off <= MAX_POINTER {
                self.suffixes
                    .entry(wire[i..].to_vec())
                    .or_insert(off as u16);
            }
            i += 1 + usize::from(wire[i]);
        }
    }

    /// Forgets every suffix written at or after `len` (the message was cut
    /// back to `len` octets).
    pub(crate) fn forget_from(&mut self, len: usize) {
        self.suffixes.retain(|_, off| usize::from(*off) < len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> DnsName {
        s.parse().unwrap()
    }

    #[test]
    fn text_round_trip_and_trailing_dot() {
        assert_eq!(n("www.example.com"), n("www.example.com."));
        assert_eq!(n("www.example.com").to_string(), "www.example.com.");
        assert_eq!(format!("{:#}", n("www.example.com.")), "www.example.com");
        assert_eq!(n(".").to_string(), ".");
        assert_eq!(format!("{:#}", DnsName::root()), ".");
        assert!(n("").is_root());
        let odd = DnsName::from_labels([&b"a.b"[..], b"c\\d", b"\x00 \xff"]).unwrap();
        assert_eq!(odd.to_string(), "a\\.b.c\\\\d.\\000\\032\\255.");
        assert_eq!(
            n(&odd.to_string()).labels().collect::<Vec<_>>(),
            odd.labels().collect::<Vec<_>>()
        );
        assert_eq!(format!("{:?}", n("a.b")), "DnsName(\"a.b.\")");
    }

    #[test]
    fn text_errors() {
        for bad in ["a..b", ".a", "a\\", "a\\25", "a\\256", "..", "a\\1x3"] {
            assert!(bad.parse::<DnsName>().is_err(), "{bad}");
        }
        let l63 = "a".repeat(63);
        assert!(l63.parse::<DnsName>().is_ok());
        let e = format!("{l63}a.com").parse::<DnsName>().unwrap_err();
        assert_eq!(e.reason, "label longer than 63 octets");
        // 4 labels of 63 + 4 length octets + root = 257 > 255.
        let long = [l63.as_str(); 4].join(".");
        let e = long.parse::<DnsName>().unwrap_err();
        assert_eq!(e.reason, "name longer than 255 octets");
        // 3 x 63 + 61: 3*64 + 62 + 1 = 255 exactly.
        let max = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
        assert_eq!(n(&max).wire_len(), 255);
        assert!(n(&max).child("x").is_err());
    }

    #[test]
    fn case_insensitive_eq_hash_order() {
        use std::collections::HashSet;
        assert_eq!(n("WWW.Example.COM"), n("www.example.com"));
        let set: HashSet<DnsName> = [n("A.b"), n("a.B")].into_iter().collect();
        assert_eq!(set.len(), 1);
        // RFC 4034 §6.1 example order (subset).
        let sorted = [
            "example",
            "a.example",
            "yljkjljk.a.example",
            "Z.a.example",
            "zABC.a.EXAMPLE",
            "z.example",
            "\\001.z.example",
            "*.z.example",
            "\\200.z.example",
        ];
        let names: Vec<DnsName> = sorted.iter().map(|s| n(s)).collect();
        for w in names.windows(2) {
            assert!(w[0] < w[1], "{} < {}", w[0], w[1]);
        }
        // Case is preserved in the labels.
        assert_eq!(n("WwW.x").labels().next(), Some(&b"WwW"[..]));
        assert_eq!(n("WwW.x").to_lowercase().labels().next(), Some(&b"www"[..]));
    }

    #[test]
    fn parent_child_subdomain() {
        let www = n("www.example.com");
        assert_eq!(www.parent(), Some(n("example.com")));
        assert_eq!(n("com").parent(), Some(DnsName::root()));
        assert_eq!(DnsName::root().parent(), None);
        assert_eq!(n("example.com").child("www").unwrap(), www);
        assert!(www.is_subdomain_of(&n("EXAMPLE.com")));
        assert!(www.is_subdomain_of(&www));
        assert!(www.is_subdomain_of(&DnsName::root()));
        assert!(!n("wwwexample.com").is_subdomain_of(&n("example.com")));
        assert!(!n("example.com").is_subdomain_of(&www));
        assert!(!n("example.org").is_subdomain_of(&n("example.com")));
        assert_eq!(www.label_count(), 3);
        assert_eq!(www.wire_len(), 17);
        assert_eq!(www.to_wire(), b"\x03www\x07example\x03com\x00");
        assert!(DnsName::from_labels([b""]).is_err());
    }

    #[test]
    fn read_with_pointers() {
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(b"\x07example\x03com\x00"); // at 12
        msg.extend_from_slice(b"\x03www\xc0\x0c"); // at 25
        msg.extend_from_slice(b"\xc0\x19"); // at 31 -> 25
        let (name, end) = read_name(&msg, 25).unwrap();
        assert_eq!((name, end), (n("www.example.com"), 31));
        let (name, end) = read_name(&msg, 31).unwrap();
        assert_eq!((name, end), (n("www.example.com"), 33));
        // Forward pointer and self pointer.
        msg.extend_from_slice(b"\xc0\x24\xc0\x23");
        assert!(read_name(&msg, 33).is_err());
        assert!(read_name(&msg, 35).is_err());
        // Pointer into the header.
        assert!(read_name(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00], 12).is_err());
        // Truncated.
        assert!(matches!(
            read_name(&msg[..20], 12),
            Err(WireError::Truncated { .. })
        ));
        assert!(matches!(
            read_name(&[0xc0], 0),
            Err(WireError::Truncated { .. })
        ));
        assert!(matches!(
            read_name(&[0x40], 0),
            Err(WireError::Unsupported { .. })
        ));
        assert!(matches!(
            read_name(&[0x80], 0),
            Err(WireError::Malformed { .. })
        ));
    }

    #[test]
    fn compressor_reuses_suffixes() {
        let mut out = vec![0u8; 12];
        let mut c = Compressor::default();
        c.write(&mut out, &n("www.example.com"));
        c.write(&mut out, &n("mail.example.com"));
        c.write(&mut out, &n("www.example.com"));
        c.write(&mut out, &n("WWW.example.com"));
        assert_eq!(&out[12..29], b"\x03www\x07example\x03com\x00");
        assert_eq!(&out[29..36], b"\x04mail\xc0\x10");
        assert_eq!(&out[36..38], b"\xc0\x0c");
        assert_eq!(&out[38..44], b"\x03WWW\xc0\x10");
        for (at, want) in [
            (12, "www.example.com"),
            (29, "mail.example.com"),
            (36, "www.example.com"),
            (38, "WWW.example.com"),
        ] {
            let (got, _) = read_name(&out, at).unwrap();
            assert_eq!(
                got.labels().collect::<Vec<_>>(),
                n(want).labels().collect::<Vec<_>>()
            );
        }
        c.forget_from(29);
        let len = out.len();
        c.write(&mut out, &n("mail.example.com"));
        assert_eq!(&out[len..], b"\x04mail\xc0\x10");
    }
}
