//! hickory-proto as an independent oracle for the DNS codec, both ways:
//! messages we emit must decode in hickory to the same content, and
//! messages hickory emits must decode in ours to the same content.

use hickory_proto::op::{Message, MessageType, Metadata, OpCode, Query, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, NULL, PTR, SOA, TXT};
use hickory_proto::rr::{self, DNSClass, Name, RData};
use proptest::prelude::*;
use vnet_wire::dns::{
    DnsHeader, DnsMessage, DnsName, MAX_UDP_LEN, Opcode, Question, Rcode, Record, RecordClass,
    RecordData, RecordType,
};

#[path = "support/dns_strategies.rs"]
mod strategies;

use strategies::{Profile, message};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

// ---- ours -> hickory ----

fn h_name(n: &DnsName) -> Name {
    Name::from_labels(n.labels()).expect("hickory accepts the name")
}

fn h_rdata(d: &RecordData) -> RData {
    match d {
        RecordData::A(a) => RData::A(A(*a)),
        RecordData::Aaaa(a) => RData::AAAA(AAAA(*a)),
        RecordData::Ns(n) => RData::NS(NS(h_name(n))),
        RecordData::Cname(n) => RData::CNAME(CNAME(h_name(n))),
        RecordData::Ptr(n) => RData::PTR(PTR(h_name(n))),
        RecordData::Mx {
            preference,
            exchange,
        } => RData::MX(MX::new(*preference, h_name(exchange))),
        RecordData::Soa {
            mname,
            rname,
            serial,
            refresh,
            retry,
            expire,
            minimum,
        } => RData::SOA(SOA::new(
            h_name(mname),
            h_name(rname),
            *serial,
            *refresh as i32,
            *retry as i32,
            *expire as i32,
            *minimum,
        )),
        RecordData::Txt(strings) => {
            RData::TXT(TXT::from_bytes(strings.iter().map(Vec::as_slice).collect()))
        }
        RecordData::Unknown { rtype, data } => RData::Unknown {
            code: u16::from(*rtype).into(),
            rdata: NULL::with(data.clone()),
        },
    }
}

fn h_record(r: &Record) -> rr::Record {
    let mut h = rr::Record::from_rdata(h_name(&r.name), r.ttl, h_rdata(&r.data));
    h.dns_class = DNSClass::from(u16::from(r.class));
    h
}

fn to_hickory(m: &DnsMessage) -> Message {
    let h = &m.header;
    let kind = if h.qr {
        MessageType::Response
    } else {
        MessageType::Query
    };
    let mut md = Metadata::new(h.id, kind, OpCode::from_u8(u8::from(h.opcode)));
    md.authoritative = h.aa;
    md.truncation = h.tc;
    md.recursion_desired = h.rd;
    md.recursion_available = h.ra;
    md.authentic_data = h.ad;
    md.checking_disabled = h.cd;
    md.response_code = ResponseCode::from(0, u8::from(h.rcode));
    let mut out = Message::new(h.id, kind, md.op_code);
    out.metadata = md;
    for q in &m.questions {
        let mut hq = Query::query(h_name(&q.name), u16::from(q.qtype).into());
        hq.set_query_class(DNSClass::from(u16::from(q.qclass)));
        out.add_query(hq);
    }
    out.add_answers(m.answers.iter().map(h_record));
    out.add_authorities(m.authorities.iter().map(h_record));
    out.add_additionals(m.additionals.iter().map(h_record));
    out
}

// ---- hickory -> ours ----

fn o_name(n: &Name) -> DnsName {
    DnsName::from_labels(n.iter()).expect("valid name")
}

fn o_rdata(d: &RData) -> RecordData {
    try_o_rdata(d).unwrap_or_else(|| panic!("unexpected hickory rdata {d:?}"))
}

/// Our equivalent of hickory's RDATA, for the types both model the same way.
fn try_o_rdata(d: &RData) -> Option<RecordData> {
    Some(match d {
        RData::A(a) => RecordData::A(a.0),
        RData::AAAA(a) => RecordData::Aaaa(a.0),
        RData::NS(n) => RecordData::Ns(o_name(&n.0)),
        RData::CNAME(n) => RecordData::Cname(o_name(&n.0)),
        RData::PTR(n) => RecordData::Ptr(o_name(&n.0)),
        RData::MX(mx) => RecordData::Mx {
            preference: mx.preference,
            exchange: o_name(&mx.exchange),
        },
        RData::SOA(s) => RecordData::Soa {
            mname: o_name(&s.mname),
            rname: o_name(&s.rname),
            serial: s.serial,
            refresh: s.refresh as u32,
            retry: s.retry as u32,
            expire: s.expire as u32,
            minimum: s.minimum,
        },
        RData::TXT(t) => RecordData::Txt(t.txt_data.iter().map(|s| s.to_vec()).collect()),
        RData::Unknown { code, rdata } => RecordData::Unknown {
            rtype: RecordType::from(u16::from(*code)),
            data: rdata.anything.clone(),
        },
        _ => return None,
    })
}

fn o_record(r: &rr::Record) -> Record {
    Record {
        name: o_name(&r.name),
        class: RecordClass::from(u16::from(r.dns_class)),
        ttl: r.ttl,
        data: o_rdata(&r.data),
    }
}

fn from_hickory(m: &Message) -> DnsMessage {
    let md = &m.metadata;
    DnsMessage {
        header: DnsHeader {
            id: md.id,
            qr: md.message_type == MessageType::Response,
            opcode: Opcode::from(u8::from(md.op_code)),
            aa: md.authoritative,
            tc: md.truncation,
            rd: md.recursion_desired,
            ra: md.recursion_available,
            z: false,
            ad: md.authentic_data,
            cd: md.checking_disabled,
            rcode: Rcode::from(u16::from(md.response_code) as u8),
        },
        questions: m
            .queries
            .iter()
            .map(|q| Question {
                name: o_name(q.name()),
                qtype: RecordType::from(u16::from(q.query_type())),
                qclass: RecordClass::from(u16::from(q.query_class())),
            })
            .collect(),
        answers: m.answers.iter().map(o_record).collect(),
        authorities: m.authorities.iter().map(o_record).collect(),
        additionals: m.additionals.iter().map(o_record).collect(),
    }
}

/// Our reading of hickory's decoded message, if hickory modelled every part
/// of it the way we do (no EDNS or signature pulled out of the additional
/// section, no RFC 2136 empty-RDATA records, no types we keep opaque but
/// hickory decodes).
fn try_from_hickory(m: &Message) -> Option<DnsMessage> {
    if m.edns.is_some() || m.signature.is_some() {
        return None;
    }
    let all = m.answers.iter().chain(&m.authorities).chain(&m.additionals);
    for r in all {
        try_o_rdata(&r.data)?;
        if let RData::Unknown { code, .. } = &r.data {
            // Types we decode but hickory keeps opaque (none expected).
            if !matches!(RecordType::from(u16::from(*code)), RecordType::Unknown(_)) {
                return None;
            }
        }
    }
    Some(from_hickory(m))
}

/// A valid message with a few octets overwritten.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        message(Profile::Hickory),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    )
        .prop_map(|(m, edits)| {
            let mut b = m.emit(usize::MAX);
            for (i, v) in edits {
                let at = i.index(b.len());
                b[at] = v;
            }
            b
        })
}

/// Case-sensitive name equality across a whole message (our `==` on names
/// ignores ASCII case).
fn same_spelling(a: &DnsMessage, b: &DnsMessage) -> bool {
    let names = |m: &DnsMessage| -> Vec<Vec<Vec<u8>>> {
        let mut v: Vec<&DnsName> = m.questions.iter().map(|q| &q.name).collect();
        v.extend(
            m.answers
                .iter()
                .chain(&m.authorities)
                .chain(&m.additionals)
                .map(|r| &r.name),
        );
        v.iter()
            .map(|n| n.labels().map(<[u8]>::to_vec).collect())
            .collect()
    };
    names(a) == names(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Ours emits (compressed), hickory parses to the same content.
    #[test]
    fn hickory_parses_what_we_emit(m in message(Profile::Hickory)) {
        let b = m.emit(usize::MAX);
        let h = Message::from_vec(&b).map_err(|e| TestCaseError::fail(format!("hickory: {e}")))?;
        let back = from_hickory(&h);
        prop_assert_eq!(&back, &m);
        prop_assert!(same_spelling(&back, &m));
    }

    /// Hickory emits (with its own compression), ours parses to the same
    /// content.
    #[test]
    fn we_parse_what_hickory_emits(m in message(Profile::Hickory)) {
        let b = to_hickory(&m).to_vec().map_err(|e| TestCaseError::fail(format!("hickory: {e}")))?;
        let ours = DnsMessage::parse(&b).map_err(|e| TestCaseError::fail(format!("ours: {e}")))?;
        prop_assert_eq!(&ours, &m);
        prop_assert!(same_spelling(&ours, &m));
    }

    /// Truncated output is still a message hickory reads, with TC set.
    #[test]
    fn hickory_parses_truncated_output(m in message(Profile::Hickory)) {
        let b = m.emit(MAX_UDP_LEN);
        let h = Message::from_vec(&b).map_err(|e| TestCaseError::fail(format!("hickory: {e}")))?;
        prop_assert_eq!(from_hickory(&h), DnsMessage::parse(&b).unwrap());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Differential parsing of damaged messages: whenever both decoders
    /// accept the same bytes, they must agree on the content.
    #[test]
    fn damaged_messages_decode_alike(b in mutated()) {
        if let (Ok(mut ours), Ok(theirs)) = (DnsMessage::parse(&b), Message::from_vec(&b))
            && let Some(theirs) = try_from_hickory(&theirs)
        {
            ours.header.z = false;
            prop_assert_eq!(ours, theirs);
        }
    }
}

/// The real captures of `dns_known_answers.rs` decode the same in both.
#[test]
fn real_messages_agree() {
    for msg in [
        // www.example.com A response (Wireshark export).
        "44cb8180000100010000000003777777076578616d706c6503636f6d0000010001c00c0001000100014c7500045db8d822",
        // gmail.com MX with glue (Net::Frame::Layer::DNS capture).
        "e7c68180000100050000000205676d61696c03636f6d00000f0001c00c000f000100000d7a
        0020001404616c74320d676d61696c2d736d74702d696e016c06676f6f676c65c012c00c000f
        000100000d7a00040005c02ec00c000f000100000d7a0009001e04616c7433c02ec00c000f00
        0100000d7a0009000a04616c7431c02ec00c000f000100000d7a0009002804616c7434c02ec0
        2e00010001000000cc00044a7d731bc08f000100010000005400044a7d7f1b",
        // ipv6.google.com: CNAME and SOA in authority.
        "db4a81800001000100010000046970763606676f6f676c6503636f6d0000010001c00c00050001
        00093a5e00090469707636016cc011c032000600010000003c0026036e7333c01109646e732d61
        646d696ec01100167e750000038400000384000007080000003c",
    ] {
        let b = hex(msg);
        let ours = DnsMessage::parse(&b).unwrap();
        let theirs = from_hickory(&Message::from_vec(&b).unwrap());
        assert_eq!(ours, theirs);
        // And each side reads the other's re-encoding.
        let again = Message::from_vec(&ours.emit(MAX_UDP_LEN)).unwrap();
        assert_eq!(from_hickory(&again), ours);
        assert_eq!(
            DnsMessage::parse(&to_hickory(&ours).to_vec().unwrap()).unwrap(),
            ours
        );
    }
}
