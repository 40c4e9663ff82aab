//! Whole DNS messages (RFC 1035 §4.1): parsing with hostile-input limits and
//! emitting with name compression (§4.1.4) and truncation (§4.2.1).

use super::header::{DnsHeader, HEADER_LEN};
use super::name::{Compressor, DnsName};
use super::record::{Question, Record, RecordData, RecordType};
use crate::error::check_len;
use crate::{Result, be16};

/// Largest message carried over UDP without EDNS (RFC 1035 §2.3.4 "UDP
/// messages 512 octets or less", §4.2.1).
pub const MAX_UDP_LEN: usize = 512;

/// Smallest encoded question: the root name (1 octet), QTYPE and QCLASS.
const MIN_QUESTION_LEN: usize = 5;
/// Smallest encoded record: the root name, TYPE, CLASS, TTL and RDLENGTH.
const MIN_RECORD_LEN: usize = 11;

/// A DNS message (RFC 1035 §4.1): header and four sections. The section
/// counts of the wire header are the lengths of the vectors.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct DnsMessage {
    /// Header fields other than the counts.
    pub header: DnsHeader,
    /// The question section (RFC 1035 §4.1.2).
    pub questions: Vec<Question>,
    /// The answer section (RFC 1035 §4.1.3).
    pub answers: Vec<Record>,
    /// The authority section: NS records of a referral, or the SOA of a
    /// negative answer (RFC 2308 §2).
    pub authorities: Vec<Record>,
    /// The additional section: glue addresses, the EDNS OPT record.
    pub additionals: Vec<Record>,
}

impl DnsMessage {
    /// A recursive query (RD set, RFC 1035 §4.1.1) for `name` / `qtype` in
    /// class IN with transaction `id`.
    pub fn query(id: u16, name: DnsName, qtype: RecordType) -> DnsMessage {
        DnsMessage {
            header: DnsHeader {
                id,
                rd: true,
                ..DnsHeader::default()
            },
            questions: vec![Question::new(name, qtype)],
            ..DnsMessage::default()
        }
    }

    /// An empty response to `query`: same ID, OPCODE, RD and CD, QR set,
    /// RCODE NOERROR and the question section copied (RFC 1035 §4.1.1: the
    /// ID is "copied \[into\] the corresponding reply", RD "is copied into the
    /// response"; RFC 4035 §3.2.2 for CD).
    pub fn response_to(query: &DnsMessage) -> DnsMessage {
        DnsMessage {
            header: DnsHeader {
                id: query.header.id,
                qr: true,
                opcode: query.header.opcode,
                rd: query.header.rd,
                cd: query.header.cd,
                ..DnsHeader::default()
            },
            questions: query.questions.clone(),
            ..DnsMessage::default()
        }
    }

    /// Parses a message (RFC 1035 §4.1).
    ///
    /// Refuses, without panicking or allocating in proportion to the counts:
    /// a buffer shorter than the header or than the counts need at their
    /// smallest (5 octets a question, 11 a record) ([`WireError::Truncated`]);
    /// bad names (see the [module docs](super)); RDATA whose length does not
    /// fit its type ([`WireError::Malformed`]). Octets after the last record
    /// are ignored.
    ///
    /// [`WireError::Truncated`]: crate::WireError::Truncated
    /// [`WireError::Malformed`]: crate::WireError::Malformed
    pub fn parse(b: &[u8]) -> Result<DnsMessage> {
        check_len("DNS header", HEADER_LEN, b.len())?;
        let header = DnsHeader::read(b);
        let qd = usize::from(be16(b, 4));
        let an = usize::from(be16(b, 6));
        let ns = usize::from(be16(b, 8));
        let ar = usize::from(be16(b, 10));
        let least = HEADER_LEN + qd * MIN_QUESTION_LEN + (an + ns + ar) * MIN_RECORD_LEN;
        check_len("DNS message", least, b.len())?;
        let mut pos = HEADER_LEN;
        let mut questions = Vec::with_capacity(qd);
        for _ in 0..qd {
            let (q, p) = Question::read(b, pos)?;
            questions.push(q);
            pos = p;
        }
        let mut section = |n: usize| -> Result<Vec<Record>> {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                let (r, p) = Record::read(b, pos)?;
                v.push(r);
                pos = p;
            }
            Ok(v)
        };
        let answers = section(an)?;
        let authorities = section(ns)?;
        let additionals = section(ar)?;
        Ok(DnsMessage {
            header,
            questions,
            answers,
            authorities,
            additionals,
        })
    }

    /// Encodes the message in at most `max_len` octets ([`MAX_UDP_LEN`] for
    /// plain UDP, RFC 1035 §4.2.1; the EDNS payload size of the query when it
    /// has one, RFC 6891 §6.2.5; `usize::MAX` for no limit).
    ///
    /// Names are compressed (RFC 1035 §4.1.4): each owner name, question name
    /// and name inside NS/CNAME/PTR/MX/SOA data whose suffix was already
    /// written (octet for octet, case included) becomes a pointer.
    ///
    /// Entries are written in order — questions, answers, authorities,
    /// additionals — and the first one that does not fit is dropped with
    /// everything after it: whole records only, the counts match what was
    /// written, and TC is set (RFC 1035 §4.1.1 "TrunCation - specifies that
    /// this message was truncated due to length greater than that permitted
    /// on the transmission channel"). A record whose RDATA exceeds 65535
    /// octets cannot be encoded and is dropped the same way. The 12-octet
    /// header is always written, even if `max_len` is smaller.
    ///
    /// An EDNS OPT record survives truncation when it fits at all: the
    /// other records are cut to leave room for it and it is written last
    /// (RFC 6891 §7: "the OPT RR MUST be included" in a truncated response).
    pub fn emit(&self, max_len: usize) -> Vec<u8> {
        let (out, truncated) = self.emit_within(max_len);
        let is_opt = |r: &&Record| r.rtype() == RecordType::Opt;
        if !truncated || !self.additionals.iter().any(|r| is_opt(&r)) {
            return out;
        }
        let mut rest = self.clone();
        rest.additionals.retain(|r| !is_opt(&r));
        let mut opts = Vec::new();
        for r in self.additionals.iter().filter(is_opt) {
            // The root owner never compresses: a fresh compressor suffices.
            if r.write(&mut opts, &mut Compressor::default()) {
                continue;
            }
            return out;
        }
        let count = self.additionals.iter().filter(is_opt).count() as u16;
        let (mut out, _) = rest.emit_within(max_len.saturating_sub(opts.len()));
        if out.len() + opts.len() <= max_len {
            out.extend_from_slice(&opts);
            let ar = be16(&out, 10).saturating_add(count);
            out[10..12].copy_from_slice(&ar.to_be_bytes());
        }
        let flags = self.header.flags(true);
        out[2..4].copy_from_slice(&flags.to_be_bytes());
        out
    }

    /// [`DnsMessage::emit`] without keeping the OPT record: the bytes and
    /// whether anything was dropped.
    fn emit_within(&self, max_len: usize) -> (Vec<u8>, bool) {
        let mut out = Vec::with_capacity(max_len.clamp(HEADER_LEN, MAX_UDP_LEN));
        out.extend_from_slice(&[0; HEADER_LEN]);
        let mut comp = Compressor::default();
        let mut counts = [0u16; 4];
        let mut truncated = false;

        // Writes one entry; on overflow undoes it and reports `false`.
        let mut push =
            |out: &mut Vec<u8>,
             count: &mut u16,
             write: &dyn Fn(&mut Vec<u8>, &mut Compressor) -> bool| {
                let mark = out.len();
                if *count == u16::MAX || !write(out, &mut comp) || out.len() > max_len {
                    out.truncate(mark);
                    comp.forget_from(mark);
                    return false;
                }
                *count += 1;
                true
            };

        'sections: {
            for q in &self.questions {
                if !push(&mut out, &mut counts[0], &|o, c| {
                    q.write(o, c);
                    true
                }) {
                    truncated = true;
                    break 'sections;
                }
            }
            let sections = [&self.answers, &self.authorities, &self.additionals];
            for (i, records) in sections.into_iter().enumerate() {
                for r in records {
                    if !push(&mut out, &mut counts[i + 1], &|o, c| r.write(o, c)) {
                        truncated = true;
                        break 'sections;
                    }
                }
            }
        }

        out[0..2].copy_from_slice(&self.header.id.to_be_bytes());
        let flags = self.header.flags(self.header.tc || truncated);
        out[2..4].copy_from_slice(&flags.to_be_bytes());
        for (i, c) in counts.iter().enumerate() {
            out[4 + 2 * i..6 + 2 * i].copy_from_slice(&c.to_be_bytes());
        }
        (out, truncated)
    }

    /// The TTL for caching this negative answer (NXDOMAIN or NODATA): the
    /// smaller of the TTL of the SOA record in the authority section and its
    /// MINIMUM field (RFC 2308 §5); `None` without such an SOA, in which case
    /// the answer should not be cached (RFC 2308 §5).
    pub fn negative_ttl(&self) -> Option<u32> {
        self.authorities.iter().find_map(|r| match r.data {
            RecordData::Soa { minimum, .. } => Some(r.ttl.min(minimum)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use core::net::Ipv4Addr;

    use super::*;
    use crate::WireError;
    use crate::dns::{Rcode, RecordClass};

    fn n(s: &str) -> DnsName {
        s.parse().unwrap()
    }

    fn a(name: &str, last: u8) -> Record {
        Record::new(n(name), 300, RecordData::A(Ipv4Addr::new(192, 0, 2, last)))
    }

    #[test]
    fn query_and_response_helpers() {
        let q = DnsMessage::query(0xbeef, n("www.example.com"), RecordType::A);
        let b = q.emit(MAX_UDP_LEN);
        assert_eq!(
            b,
            b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01"
        );
        let mut r = DnsMessage::response_to(&q);
        assert!(r.header.qr && r.header.rd);
        assert_eq!(r.header.id, 0xbeef);
        assert_eq!(r.questions, q.questions);
        r.answers.push(a("www.example.com", 1));
        let b = r.emit(MAX_UDP_LEN);
        // The answer's owner is a pointer to the question name at offset 12.
        assert_eq!(&b[33..35], b"\xc0\x0c");
        assert_eq!(DnsMessage::parse(&b).unwrap(), r);
    }

    #[test]
    fn truncation_drops_whole_records_and_sets_tc() {
        let mut m = DnsMessage::query(1, n("big.example"), RecordType::A);
        m.header.qr = true;
        for i in 0..100 {
            m.answers.push(a("big.example", i));
        }
        m.additionals.push(a("glue.example", 1));
        let full = m.emit(usize::MAX);
        assert_eq!(DnsMessage::parse(&full).unwrap(), m);
        // Header 12 + question 17 + 100 answers of 16 (owner a pointer) +
        // glue of 21 ("\x04glue" and a pointer to "example").
        assert_eq!(full.len(), 12 + 17 + 1600 + 21);
        let b = m.emit(MAX_UDP_LEN);
        assert!(b.len() <= MAX_UDP_LEN);
        let p = DnsMessage::parse(&b).unwrap();
        assert!(p.header.tc);
        assert_eq!(p.answers.len(), (512 - 29) / 16);
        assert_eq!(p.answers[..], m.answers[..p.answers.len()]);
        assert!(p.additionals.is_empty());
        // Fits exactly: no TC.
        let exact = m.emit(full.len());
        assert_eq!(exact, full);
        assert!(!DnsMessage::parse(&exact).unwrap().header.tc);
        // Smaller than the header: header only, TC set, no counts.
        let tiny = m.emit(3);
        assert_eq!(tiny.len(), 12);
        let p = DnsMessage::parse(&tiny).unwrap();
        assert!(p.header.tc && p.questions.is_empty());
    }

    #[test]
    fn truncation_forgets_dropped_suffixes() {
        // The dropped record introduced "new.example"; the kept ones must not
        // point into the part that was cut away.
        let mut m = DnsMessage::default();
        m.answers.push(a("x.example", 1));
        m.answers.push(Record::new(
            n("a.new.example"),
            1,
            RecordData::Txt(vec![vec![0; 400]]),
        ));
        let b = m.emit(100);
        let p = DnsMessage::parse(&b).unwrap();
        assert_eq!(p.answers.len(), 1);
        assert!(p.header.tc);
    }

    #[test]
    fn oversized_rdata_is_dropped() {
        let mut m = DnsMessage::default();
        m.answers.push(Record::new(
            n("x"),
            1,
            RecordData::Unknown {
                rtype: RecordType::Unknown(65280),
                data: vec![0; 70_000],
            },
        ));
        let p = DnsMessage::parse(&m.emit(usize::MAX)).unwrap();
        assert!(p.answers.is_empty() && p.header.tc);
    }

    #[test]
    fn counts_beyond_the_buffer_are_refused_early() {
        let mut b = vec![0u8; 12];
        b[4..12].copy_from_slice(&[0xff; 8]);
        assert_eq!(
            DnsMessage::parse(&b),
            Err(WireError::Truncated {
                what: "DNS message",
                needed: 12 + 65535 * 5 + 3 * 65535 * 11,
                available: 12
            })
        );
        assert!(matches!(
            DnsMessage::parse(&b[..11]),
            Err(WireError::Truncated { .. })
        ));
    }

    #[test]
    fn negative_ttl_is_min_of_soa_ttl_and_minimum() {
        let mut m = DnsMessage::default();
        m.header.rcode = Rcode::NxDomain;
        assert_eq!(m.negative_ttl(), None);
        m.authorities.push(Record {
            name: n("example"),
            class: RecordClass::In,
            ttl: 3600,
            data: RecordData::Soa {
                mname: n("ns.example"),
                rname: n("admin.example"),
                serial: 1,
                refresh: 2,
                retry: 3,
                expire: 4,
                minimum: 300,
            },
        });
        assert_eq!(m.negative_ttl(), Some(300));
        m.authorities[0].ttl = 60;
        assert_eq!(m.negative_ttl(), Some(60));
    }
}
