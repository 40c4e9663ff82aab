//! Questions and resource records (RFC 1035 §3.2, §4.1.2, §4.1.3) and the
//! RDATA of the common types (RFC 1035 §3.3, §3.4; RFC 3596 §2.2).

use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::name::{Compressor, DnsName, read_name};
use crate::error::check_len;
use crate::{Result, WireError, be16};

/// The TYPE / QTYPE field (RFC 1035 §3.2.2, §3.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordType {
    /// 1, a host address (RFC 1035 §3.4.1).
    A,
    /// 2, an authoritative name server (RFC 1035 §3.3.11).
    Ns,
    /// 5, the canonical name for an alias (RFC 1035 §3.3.1).
    Cname,
    /// 6, marks the start of a zone of authority (RFC 1035 §3.3.13).
    Soa,
    /// 12, a domain name pointer (RFC 1035 §3.3.12).
    Ptr,
    /// 15, mail exchange (RFC 1035 §3.3.9).
    Mx,
    /// 16, text strings (RFC 1035 §3.3.14).
    Txt,
    /// 28, an IPv6 host address (RFC 3596 §2.1).
    Aaaa,
    /// 41, the EDNS(0) OPT pseudo-record (RFC 6891 §6.1.1); its RDATA is
    /// kept as [`RecordData::Unknown`].
    Opt,
    /// 255, the QTYPE `*`: a request for all records (RFC 1035 §3.2.3).
    Any,
    /// Any other value, kept verbatim.
    Unknown(u16),
}

impl From<u16> for RecordType {
    fn from(v: u16) -> Self {
        match v {
            1 => RecordType::A,
            2 => RecordType::Ns,
            5 => RecordType::Cname,
            6 => RecordType::Soa,
            12 => RecordType::Ptr,
            15 => RecordType::Mx,
            16 => RecordType::Txt,
            28 => RecordType::Aaaa,
            41 => RecordType::Opt,
            255 => RecordType::Any,
            v => RecordType::Unknown(v),
        }
    }
}

impl From<RecordType> for u16 {
    fn from(t: RecordType) -> u16 {
        match t {
            RecordType::A => 1,
            RecordType::Ns => 2,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Ptr => 12,
            RecordType::Mx => 15,
            RecordType::Txt => 16,
            RecordType::Aaaa => 28,
            RecordType::Opt => 41,
            RecordType::Any => 255,
            RecordType::Unknown(v) => v,
        }
    }
}

impl fmt::Display for RecordType {
    /// The mnemonic (`A`, `AAAA`, `MX`, ...) or `TYPE<n>` for unknown types
    /// (RFC 3597 §5).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            RecordType::A => "A",
            RecordType::Ns => "NS",
            RecordType::Cname => "CNAME",
            RecordType::Soa => "SOA",
            RecordType::Ptr => "PTR",
            RecordType::Mx => "MX",
            RecordType::Txt => "TXT",
            RecordType::Aaaa => "AAAA",
            RecordType::Opt => "OPT",
            RecordType::Any => "ANY",
            RecordType::Unknown(v) => return write!(f, "TYPE{v}"),
        };
        f.write_str(s)
    }
}

/// The CLASS / QCLASS field (RFC 1035 §3.2.4, §3.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum RecordClass {
    /// 1, the Internet.
    #[default]
    In,
    /// 3, the CHAOS class.
    Ch,
    /// 4, Hesiod.
    Hs,
    /// 254, NONE (RFC 2136 §1.3).
    None,
    /// 255, the QCLASS `*`: any class (RFC 1035 §3.2.5).
    Any,
    /// Any other value, kept verbatim (an OPT record carries its UDP payload
    /// size here, RFC 6891 §6.1.2).
    Unknown(u16),
}

impl From<u16> for RecordClass {
    fn from(v: u16) -> Self {
        match v {
            1 => RecordClass::In,
            3 => RecordClass::Ch,
            4 => RecordClass::Hs,
            254 => RecordClass::None,
            255 => RecordClass::Any,
            v => RecordClass::Unknown(v),
        }
    }
}

impl From<RecordClass> for u16 {
    fn from(c: RecordClass) -> u16 {
        match c {
            RecordClass::In => 1,
            RecordClass::Ch => 3,
            RecordClass::Hs => 4,
            RecordClass::None => 254,
            RecordClass::Any => 255,
            RecordClass::Unknown(v) => v,
        }
    }
}

impl fmt::Display for RecordClass {
    /// `IN`, `CH`, `HS`, `NONE`, `ANY` or `CLASS<n>` (RFC 3597 §5).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            RecordClass::In => "IN",
            RecordClass::Ch => "CH",
            RecordClass::Hs => "HS",
            RecordClass::None => "NONE",
            RecordClass::Any => "ANY",
            RecordClass::Unknown(v) => return write!(f, "CLASS{v}"),
        };
        f.write_str(s)
    }
}

/// An entry of the question section (RFC 1035 §4.1.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Question {
    /// QNAME.
    pub name: DnsName,
    /// QTYPE.
    pub qtype: RecordType,
    /// QCLASS.
    pub qclass: RecordClass,
}

impl Question {
    /// A question for `name`, `qtype`, class IN.
    pub fn new(name: DnsName, qtype: RecordType) -> Question {
        Question {
            name,
            qtype,
            qclass: RecordClass::In,
        }
    }

    pub(crate) fn read(msg: &[u8], pos: usize) -> Result<(Question, usize)> {
        let (name, p) = read_name(msg, pos)?;
        check_len("DNS question", p + 4, msg.len())?;
        let q = Question {
            name,
            qtype: be16(msg, p).into(),
            qclass: be16(msg, p + 2).into(),
        };
        Ok((q, p + 4))
    }

    pub(crate) fn write(&self, out: &mut Vec<u8>, c: &mut Compressor) {
        c.write(out, &self.name);
        out.extend_from_slice(&u16::from(self.qtype).to_be_bytes());
        out.extend_from_slice(&u16::from(self.qclass).to_be_bytes());
    }
}

/// A resource record of the answer, authority or additional section
/// (RFC 1035 §4.1.3). Its TYPE is implied by [`data`](Self::data).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// NAME, the owner.
    pub name: DnsName,
    /// CLASS.
    pub class: RecordClass,
    /// TTL in seconds, as on the wire. RFC 2181 §8 asks receivers to treat
    /// values with the top bit set as zero; that is left to the cache.
    pub ttl: u32,
    /// TYPE and RDATA.
    pub data: RecordData,
}

impl Record {
    /// A record of class IN.
    pub fn new(name: DnsName, ttl: u32, data: RecordData) -> Record {
        Record {
            name,
            class: RecordClass::In,
            ttl,
            data,
        }
    }

    /// The record's TYPE.
    pub fn rtype(&self) -> RecordType {
        self.data.rtype()
    }

    pub(crate) fn read(msg: &[u8], pos: usize) -> Result<(Record, usize)> {
        let (name, p) = read_name(msg, pos)?;
        check_len("DNS resource record", p + 10, msg.len())?;
        let rtype = RecordType::from(be16(msg, p));
        let class = RecordClass::from(be16(msg, p + 2));
        let ttl = u32::from(be16(msg, p + 4)) << 16 | u32::from(be16(msg, p + 6));
        let rdlen = usize::from(be16(msg, p + 8));
        let start = p + 10;
        check_len("DNS RDATA", start + rdlen, msg.len())?;
        let data = RecordData::read(msg, rtype, start, start + rdlen)?;
        let r = Record {
            name,
            class,
            ttl,
            data,
        };
        Ok((r, start + rdlen))
    }

    /// Writes the record; `false` (with `out` possibly extended) if its RDATA
    /// is longer than the 16-bit RDLENGTH allows.
    pub(crate) fn write(&self, out: &mut Vec<u8>, c: &mut Compressor) -> bool {
        c.write(out, &self.name);
        out.extend_from_slice(&u16::from(self.rtype()).to_be_bytes());
        out.extend_from_slice(&u16::from(self.class).to_be_bytes());
        out.extend_from_slice(&self.ttl.to_be_bytes());
        let len_at = out.len();
        out.extend_from_slice(&[0, 0]);
        self.data.write(out, c);
        match u16::try_from(out.len() - len_at - 2) {
            Ok(n) => {
                out[len_at..len_at + 2].copy_from_slice(&n.to_be_bytes());
                true
            }
            Err(_) => false,
        }
    }
}

/// The TYPE and RDATA of a record (RFC 1035 §3.3, §3.4; RFC 3596 §2.2).
///
/// Names inside NS, CNAME, PTR, MX and SOA data are compressed on emit, as
/// RFC 1035 §4.1.4 and RFC 3597 §4 allow for these well-known types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RecordData {
    /// A: a 32-bit IPv4 address (RFC 1035 §3.4.1).
    A(Ipv4Addr),
    /// AAAA: a 128-bit IPv6 address (RFC 3596 §2.2).
    Aaaa(Ipv6Addr),
    /// NS: NSDNAME, a host authoritative for the owner's zone (RFC 1035
    /// §3.3.11).
    Ns(DnsName),
    /// CNAME: the canonical name of the owner, an alias (RFC 1035 §3.3.1).
    Cname(DnsName),
    /// MX (RFC 1035 §3.3.9).
    Mx {
        /// PREFERENCE: lower values are preferred.
        preference: u16,
        /// EXCHANGE: the mail host.
        exchange: DnsName,
    },
    /// SOA (RFC 1035 §3.3.13); `minimum` is also the negative-caching TTL
    /// (RFC 2308 §4).
    Soa {
        /// MNAME: the primary name server of the zone.
        mname: DnsName,
        /// RNAME: the mailbox of the person responsible, as a name.
        rname: DnsName,
        /// SERIAL: the zone's version number.
        serial: u32,
        /// REFRESH interval, seconds.
        refresh: u32,
        /// RETRY interval, seconds.
        retry: u32,
        /// EXPIRE limit, seconds.
        expire: u32,
        /// MINIMUM: the TTL for negative answers (RFC 2308 §4).
        minimum: u32,
    },
    /// TXT: one or more character-strings (RFC 1035 §3.3.14). On emit a
    /// string over 255 octets is split into 255-octet strings, and an empty
    /// list gives empty RDATA (which parses back as an empty list).
    Txt(Vec<Vec<u8>>),
    /// PTR: a name pointing elsewhere in the name space (RFC 1035 §3.3.12).
    Ptr(DnsName),
    /// Any other type, RDATA kept verbatim (RFC 3597 §2). Using it with one
    /// of the types above writes the bytes as given; they then parse back as
    /// that type's variant.
    Unknown {
        /// TYPE.
        rtype: RecordType,
        /// RDATA.
        data: Vec<u8>,
    },
}

impl RecordData {
    /// The record TYPE this data belongs to.
    pub fn rtype(&self) -> RecordType {
        match self {
            RecordData::A(_) => RecordType::A,
            RecordData::Aaaa(_) => RecordType::Aaaa,
            RecordData::Ns(_) => RecordType::Ns,
            RecordData::Cname(_) => RecordType::Cname,
            RecordData::Mx { .. } => RecordType::Mx,
            RecordData::Soa { .. } => RecordType::Soa,
            RecordData::Txt(_) => RecordType::Txt,
            RecordData::Ptr(_) => RecordType::Ptr,
            RecordData::Unknown { rtype, .. } => *rtype,
        }
    }

    /// Decodes `msg[start..end]` as RDATA of `rtype`. Names may point back
    /// into `msg` but must end exactly at `end`; fixed-size data must have
    /// its exact size ([`WireError::Malformed`] with field `"rdlength"`).
    fn read(msg: &[u8], rtype: RecordType, start: usize, end: usize) -> Result<RecordData> {
        let msg = msg.get(..end).unwrap_or(msg);
        let rdata = msg.get(start..).unwrap_or(&[]);
        let what = match rtype {
            RecordType::A => "DNS A record",
            RecordType::Aaaa => "DNS AAAA record",
            RecordType::Ns => "DNS NS record",
            RecordType::Cname => "DNS CNAME record",
            RecordType::Ptr => "DNS PTR record",
            RecordType::Mx => "DNS MX record",
            RecordType::Soa => "DNS SOA record",
            RecordType::Txt => "DNS TXT record",
            _ => "DNS record",
        };
        let bad_len = || WireError::Malformed {
            what,
            field: "rdlength",
            value: rdata.len() as u64,
        };
        // A name that must fill the RDATA up to `end`.
        let name_to_end = |at: usize| -> Result<DnsName> {
            let (name, p) = read_name(msg, at)?;
            if p != end {
                return Err(bad_len());
            }
            Ok(name)
        };
        Ok(match rtype {
            RecordType::A => {
                let a: [u8; 4] = rdata.try_into().map_err(|_| bad_len())?;
                RecordData::A(Ipv4Addr::from(a))
            }
            RecordType::Aaaa => {
                let a: [u8; 16] = rdata.try_into().map_err(|_| bad_len())?;
                RecordData::Aaaa(Ipv6Addr::from(a))
            }
            RecordType::Ns => RecordData::Ns(name_to_end(start)?),
            RecordType::Cname => RecordData::Cname(name_to_end(start)?),
            RecordType::Ptr => RecordData::Ptr(name_to_end(start)?),
            RecordType::Mx => {
                if rdata.len() < 3 {
                    return Err(bad_len());
                }
                RecordData::Mx {
                    preference: be16(msg, start),
                    exchange: name_to_end(start + 2)?,
                }
            }
            RecordType::Soa => {
                let (mname, p) = read_name(msg, start)?;
                let (rname, p) = read_name(msg, p)?;
                if end.checked_sub(p) != Some(20) {
                    return Err(bad_len());
                }
                let n =
                    |i: usize| u32::from(be16(msg, p + i)) << 16 | u32::from(be16(msg, p + i + 2));
                RecordData::Soa {
                    mname,
                    rname,
                    serial: n(0),
                    refresh: n(4),
                    retry: n(8),
                    expire: n(12),
                    minimum: n(16),
                }
            }
            RecordType::Txt => {
                let mut strings = Vec::new();
                let mut rest = rdata;
                while let Some((&len, tail)) = rest.split_first() {
                    let (s, tail) = tail
                        .split_at_checked(usize::from(len))
                        .ok_or_else(bad_len)?;
                    strings.push(s.to_vec());
                    rest = tail;
                }
                RecordData::Txt(strings)
            }
            rtype => RecordData::Unknown {
                rtype,
                data: rdata.to_vec(),
            },
        })
    }

    fn write(&self, out: &mut Vec<u8>, c: &mut Compressor) {
        match self {
            RecordData::A(a) => out.extend_from_slice(&a.octets()),
            RecordData::Aaaa(a) => out.extend_from_slice(&a.octets()),
            RecordData::Ns(n) | RecordData::Cname(n) | RecordData::Ptr(n) => c.write(out, n),
            RecordData::Mx {
                preference,
                exchange,
            } => {
                out.extend_from_slice(&preference.to_be_bytes());
                c.write(out, exchange);
            }
            RecordData::Soa {
                mname,
                rname,
                serial,
                refresh,
                retry,
                expire,
                minimum,
            } => {
                c.write(out, mname);
                c.write(out, rname);
                for v in [serial, refresh, retry, expire, minimum] {
                    out.extend_from_slice(&v.to_be_bytes());
                }
            }
            RecordData::Txt(strings) => {
                for s in strings {
                    if s.is_empty() {
                        out.push(0);
                    }
                    for chunk in s.chunks(255) {
                        out.push(chunk.len() as u8);
                        out.extend_from_slice(chunk);
                    }
                }
            }
            RecordData::Unknown { data, .. } => out.extend_from_slice(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_and_class_numbers() {
        for v in 0..=300u16 {
            assert_eq!(u16::from(RecordType::from(v)), v);
            assert_eq!(u16::from(RecordClass::from(v)), v);
        }
        assert_eq!(RecordType::from(28), RecordType::Aaaa);
        assert_eq!(RecordType::Aaaa.to_string(), "AAAA");
        assert_eq!(RecordType::Unknown(65280).to_string(), "TYPE65280");
        assert_eq!(RecordClass::In.to_string(), "IN");
        assert_eq!(RecordClass::Unknown(4096).to_string(), "CLASS4096");
        assert_eq!(RecordClass::default(), RecordClass::In);
    }

    fn rdata(rtype: RecordType, bytes: &[u8]) -> Result<RecordData> {
        let mut msg = vec![0u8; 12];
        msg.extend_from_slice(bytes);
        RecordData::read(&msg, rtype, 12, msg.len())
    }

    #[test]
    fn rdata_lengths_are_checked() {
        assert!(rdata(RecordType::A, &[1, 2, 3]).is_err());
        assert!(rdata(RecordType::A, &[1, 2, 3, 4, 5]).is_err());
        assert_eq!(
            rdata(RecordType::A, &[1, 2, 3, 4]).unwrap(),
            RecordData::A(Ipv4Addr::new(1, 2, 3, 4))
        );
        assert!(rdata(RecordType::Aaaa, &[0; 15]).is_err());
        assert!(rdata(RecordType::Ns, b"\x01a\x00\x00").is_err());
        assert!(rdata(RecordType::Mx, b"\x00\x01").is_err());
        assert!(rdata(RecordType::Soa, b"\x00\x00\x00").is_err());
        assert!(rdata(RecordType::Soa, &[0; 23]).is_err());
        assert!(rdata(RecordType::Soa, &[0; 22]).is_ok());
        assert!(rdata(RecordType::Txt, b"\x05abc").is_err());
        assert_eq!(
            rdata(RecordType::Txt, b"").unwrap(),
            RecordData::Txt(vec![])
        );
        assert_eq!(
            rdata(RecordType::Txt, b"\x02ab\x00").unwrap(),
            RecordData::Txt(vec![b"ab".to_vec(), vec![]])
        );
        assert_eq!(
            rdata(RecordType::Unknown(99), b"xyz").unwrap(),
            RecordData::Unknown {
                rtype: RecordType::Unknown(99),
                data: b"xyz".to_vec()
            }
        );
    }

    #[test]
    fn long_txt_strings_are_split() {
        let mut out = Vec::new();
        RecordData::Txt(vec![vec![b'x'; 300], vec![]]).write(&mut out, &mut Compressor::default());
        assert_eq!(out.len(), 1 + 255 + 1 + 45 + 1);
        assert_eq!(out[0], 255);
        assert_eq!(out[256], 45);
        assert_eq!(out[302], 0);
    }
}
