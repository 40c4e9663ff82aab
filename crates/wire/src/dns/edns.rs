//! EDNS(0): the OPT pseudo-record (RFC 6891 §6).
//!
//! An OPT record lives in the additional section. Its fields are reused:
//!
//! ```text
//! NAME   the root (0)                       RFC 6891 §6.1.2
//! TYPE   OPT (41)
//! CLASS  requestor's UDP payload size       §6.2.3
//! TTL    EXTENDED-RCODE(8) VERSION(8) DO(1) Z(15)   §6.1.3, RFC 3225
//! RDATA  {OPTION-CODE(16) OPTION-LENGTH(16) OPTION-DATA}*   §6.1.2
//! ```
//!
//! [`Edns::from_record`] reads one and [`Edns::to_record`] builds one;
//! options are kept verbatim (codes this implementation does not know, DNS
//! cookies of RFC 7873 among them, are carried and otherwise ignored, as
//! §6.1.2 asks). [`DnsMessage::edns`] finds the OPT of a message and
//! refuses more than one (§6.1.1: FORMERR).

use super::message::DnsMessage;
use super::name::DnsName;
use super::record::{Record, RecordClass, RecordData, RecordType};
use crate::{Result, WireError, be16};

/// The EDNS version this implementation speaks (RFC 6891 §6.1.3).
pub const EDNS_VERSION: u8 = 0;
/// The upper 8 bits of the 12-bit RCODE BADVERS (16, RFC 6891 §9): a
/// response to a query of an unknown EDNS version carries this in
/// EXTENDED-RCODE and 0 in the header's RCODE.
pub const BADVERS_EXTENDED: u8 = 1;
/// Option code of a DNS cookie (RFC 7873 §4).
pub const OPTION_COOKIE: u16 = 10;
/// Smallest payload size a requestor may advertise; values below are
/// treated as 512 (RFC 6891 §6.2.5).
pub const MIN_PAYLOAD: u16 = 512;

/// One EDNS option (RFC 6891 §6.1.2), kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EdnsOption {
    /// OPTION-CODE (IANA "DNS EDNS0 Option Codes").
    pub code: u16,
    /// OPTION-DATA.
    pub data: Vec<u8>,
}

/// The contents of an OPT pseudo-record (RFC 6891 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edns {
    /// The sender's UDP payload size (the OPT record's CLASS, §6.2.3).
    pub udp_payload_size: u16,
    /// EXTENDED-RCODE: the upper 8 bits of the 12-bit RCODE (§6.1.3).
    pub extended_rcode: u8,
    /// VERSION (§6.1.3); 0 is the only one defined.
    pub version: u8,
    /// DO: DNSSEC answers OK (RFC 3225 §3).
    pub dnssec_ok: bool,
    /// The other 15 flag bits (Z), kept as received (§6.1.4 says to send 0).
    pub z: u16,
    /// The options, in order.
    pub options: Vec<EdnsOption>,
}

impl Default for Edns {
    /// Version 0, no flags, no options, a 1232-octet payload size (the DNS
    /// flag day 2020 value, which avoids IP fragmentation).
    fn default() -> Self {
        Edns {
            udp_payload_size: 1232,
            extended_rcode: 0,
            version: EDNS_VERSION,
            dnssec_ok: false,
            z: 0,
            options: Vec::new(),
        }
    }
}

impl Edns {
    /// EDNS with `udp_payload_size` and nothing else set.
    pub fn with_payload_size(udp_payload_size: u16) -> Edns {
        Edns {
            udp_payload_size,
            ..Edns::default()
        }
    }

    /// Reads an OPT record (RFC 6891 §6.1.2). Refuses a record that is not
    /// of type OPT, whose owner is not the root, or whose options overrun
    /// the RDATA ([`WireError::Malformed`] / [`WireError::Truncated`]).
    pub fn from_record(record: &Record) -> Result<Edns> {
        let RecordData::Unknown {
            rtype: RecordType::Opt,
            data,
        } = &record.data
        else {
            return Err(WireError::Malformed {
                what: "EDNS OPT record",
                field: "type",
                value: u16::from(record.rtype()).into(),
            });
        };
        if !record.name.is_root() {
            return Err(WireError::Malformed {
                what: "EDNS OPT record",
                field: "owner label count",
                value: record.name.label_count() as u64,
            });
        }
        let ttl = record.ttl;
        Ok(Edns {
            udp_payload_size: u16::from(record.class),
            extended_rcode: (ttl >> 24) as u8,
            version: (ttl >> 16) as u8,
            dnssec_ok: ttl & 0x8000 != 0,
            z: (ttl & 0x7fff) as u16,
            options: parse_options(data)?,
        })
    }

    /// The OPT record carrying these values (RFC 6891 §6.1.2). Option data
    /// longer than 65535 octets is cut to fit its 16-bit length.
    pub fn to_record(&self) -> Record {
        let ttl = u32::from(self.extended_rcode) << 24
            | u32::from(self.version) << 16
            | if self.dnssec_ok { 0x8000 } else { 0 }
            | u32::from(self.z & 0x7fff);
        let mut data = Vec::new();
        for o in &self.options {
            let len = o.data.len().min(usize::from(u16::MAX));
            data.extend_from_slice(&o.code.to_be_bytes());
            data.extend_from_slice(&(len as u16).to_be_bytes());
            data.extend_from_slice(&o.data[..len]);
        }
        Record {
            name: DnsName::root(),
            class: RecordClass::from(self.udp_payload_size),
            ttl,
            data: RecordData::Unknown {
                rtype: RecordType::Opt,
                data,
            },
        }
    }

    /// The largest UDP response the sender accepts: its payload size, at
    /// least 512 (RFC 6891 §6.2.5), at most `cap`.
    pub fn response_limit(&self, cap: usize) -> usize {
        usize::from(self.udp_payload_size.max(MIN_PAYLOAD)).min(cap.max(512))
    }

    /// The option with `code`, if present.
    pub fn option(&self, code: u16) -> Option<&EdnsOption> {
        self.options.iter().find(|o| o.code == code)
    }
}

/// Reads `{OPTION-CODE OPTION-LENGTH OPTION-DATA}*` (RFC 6891 §6.1.2).
pub fn parse_options(b: &[u8]) -> Result<Vec<EdnsOption>> {
    let mut options = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        crate::error::check_len("EDNS option header", pos + 4, b.len())?;
        let code = be16(b, pos);
        let len = usize::from(be16(b, pos + 2));
        let start = pos + 4;
        crate::error::check_len("EDNS option data", start + len, b.len())?;
        options.push(EdnsOption {
            code,
            data: b[start..start + len].to_vec(),
        });
        pos = start + len;
    }
    Ok(options)
}

impl DnsMessage {
    /// The EDNS of the message: `Ok(None)` without an OPT record; an error
    /// for more than one OPT (RFC 6891 §6.1.1: "the responder MUST
    /// consider the request invalid and return FORMERR") or a malformed one.
    pub fn edns(&self) -> Result<Option<Edns>> {
        let mut opts = self
            .additionals
            .iter()
            .filter(|r| r.rtype() == RecordType::Opt);
        let Some(first) = opts.next() else {
            return Ok(None);
        };
        if opts.next().is_some() {
            return Err(WireError::Malformed {
                what: "DNS message",
                field: "OPT record count",
                value: 2,
            });
        }
        Edns::from_record(first).map(Some)
    }

    /// Replaces any OPT record with `edns` (appended to the additional
    /// section), or removes it with `None`.
    pub fn set_edns(&mut self, edns: Option<&Edns>) {
        self.additionals.retain(|r| r.rtype() != RecordType::Opt);
        if let Some(e) = edns {
            self.additionals.push(e.to_record());
        }
    }

    /// The 12-bit RCODE: the header's 4 bits plus EXTENDED-RCODE of the OPT
    /// record, if any (RFC 6891 §6.1.3). 16 is BADVERS.
    pub fn full_rcode(&self) -> u16 {
        let low = u16::from(u8::from(self.header.rcode));
        let high = self
            .edns()
            .ok()
            .flatten()
            .map_or(0, |e| u16::from(e.extended_rcode));
        high << 4 | low
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::{MAX_UDP_LEN, Question};

    #[test]
    fn opt_record_known_answer() {
        // dig 9.18's default OPT: payload 1232, version 0, no flags, a
        // cookie option of 8 octets.
        let bytes: &[u8] = b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x0c\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08";
        let mut q = DnsMessage::query(7, "example.com".parse().expect("name"), RecordType::A);
        let edns = Edns {
            options: vec![EdnsOption {
                code: OPTION_COOKIE,
                data: vec![1, 2, 3, 4, 5, 6, 7, 8],
            }],
            ..Edns::default()
        };
        q.set_edns(Some(&edns));
        let wire = q.emit(MAX_UDP_LEN);
        assert!(wire.ends_with(bytes), "{wire:02x?}");
        assert_eq!(&wire[10..12], b"\x00\x01", "ARCOUNT 1");
        let back = DnsMessage::parse(&wire).expect("parses");
        assert_eq!(back.edns(), Ok(Some(edns)));
    }

    #[test]
    fn flags_version_and_extended_rcode() {
        let e = Edns {
            udp_payload_size: 4096,
            extended_rcode: BADVERS_EXTENDED,
            version: 1,
            dnssec_ok: true,
            z: 0x1234,
            options: Vec::new(),
        };
        let r = e.to_record();
        assert_eq!(r.ttl, 0x0101_9234);
        assert_eq!(u16::from(r.class), 4096);
        assert_eq!(Edns::from_record(&r), Ok(e.clone()));
        let mut m = DnsMessage::default();
        m.set_edns(Some(&e));
        assert_eq!(m.full_rcode(), 16, "BADVERS");
        m.set_edns(None);
        assert_eq!(m.edns(), Ok(None));
    }

    #[test]
    fn bad_options_and_duplicate_opts_are_refused() {
        assert!(parse_options(&[0, 10, 0, 8, 1, 2]).is_err());
        assert!(parse_options(&[0, 10, 0]).is_err());
        assert_eq!(parse_options(&[]), Ok(Vec::new()));
        let mut m = DnsMessage::default();
        m.additionals.push(Edns::default().to_record());
        m.additionals.push(Edns::default().to_record());
        assert!(m.edns().is_err());
        let mut not_root = Edns::default().to_record();
        not_root.name = "x".parse().expect("name");
        assert!(Edns::from_record(&not_root).is_err());
        let a = Record::new(
            DnsName::root(),
            1,
            RecordData::A(core::net::Ipv4Addr::LOCALHOST),
        );
        assert!(Edns::from_record(&a).is_err());
        let _ = Question::new(DnsName::root(), RecordType::A);
    }

    #[test]
    fn response_limit_is_clamped() {
        assert_eq!(Edns::with_payload_size(100).response_limit(4096), 512);
        assert_eq!(Edns::with_payload_size(1232).response_limit(4096), 1232);
        assert_eq!(Edns::with_payload_size(65535).response_limit(4096), 4096);
    }
}
