//! DNS known-answer tests: real messages captured off the wire, decoded
//! field by field against what the capture's publisher (or dig) printed,
//! then re-encoded: our compressor makes the same choices as the servers
//! did, so re-encoding reproduces the captured bytes exactly. Plus the
//! hostile inputs the parser must refuse.

use std::net::Ipv4Addr;

use vnet_wire::WireError;
use vnet_wire::dns::{
    DnsMessage, DnsName, MAX_UDP_LEN, Opcode, Rcode, Record, RecordClass, RecordData, RecordType,
};
use vnet_wire::ethernet::EthernetFrame;
use vnet_wire::ipv4::Ipv4Packet;
use vnet_wire::udp::UdpPacket;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

fn n(s: &str) -> DnsName {
    s.parse().unwrap()
}

/// Parses `b`, checks it re-encodes to exactly `b`, and returns it.
fn parse_exact(b: &[u8]) -> DnsMessage {
    let m = DnsMessage::parse(b).unwrap();
    assert_eq!(m.emit(MAX_UDP_LEN), b, "re-encoding differs for {m:#?}");
    m
}

/// The UDP payload of a captured Ethernet/IPv4/UDP frame, after checking
/// the IPv4 and UDP checksums, so the capture is known to be intact.
fn udp_payload(frame: &[u8]) -> Vec<u8> {
    let eth = EthernetFrame::new_checked(frame).unwrap();
    let ip = Ipv4Packet::new_checked(eth.payload()).unwrap();
    assert!(ip.verify_checksum());
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    assert!(udp.verify_checksum(ip.src_addr(), ip.dst_addr()));
    udp.payload().to_vec()
}

/// `dig www.example.com` as BIND's dig sends it: RD and AD set, one
/// question, an EDNS(0) OPT record offering 4096 octets (hex published with
/// a DNS-from-scratch walkthrough).
const DIG_QUERY: &str = "c998 0120 0001 0000 0000 0001
    03 777777 07 6578616d706c65 03 636f6d 00 0001 0001
    00 0029 1000 00000000 0000";

/// A resolver's answer for www.example.com A, exported from Wireshark:
/// 93.184.216.34, TTL 85109, the owner compressed to a pointer to offset 12.
const EXAMPLE_RESPONSE: &str = "44cb 8180 0001 0001 0000 0000
    03 777777 07 6578616d706c65 03 636f6d 00 0001 0001
    c00c 0001 0001 00014c75 0004 5db8d822";

include!("captures/dns.rs");

/// Same source as [`GMAIL_MX_FRAME`]: the PTR record of 216.239.34.10.
const PTR_FRAME: &str = "c417fe127d75 586d8f78ad40 0800
    45400064000040003a11e8ff 445747e6 c0a80a64
    0035 c35a 0050 6431
    803881800001000100000000023130023334033233390332313607696e2d616464720461727061
    00000c0001c00c000c0001000151800010036e733206676f6f676c6503636f6d00";

#[test]
fn dig_query() {
    let m = parse_exact(&hex(DIG_QUERY));
    let h = m.header;
    assert_eq!(h.id, 0xc998);
    assert!(!h.qr && h.rd && h.ad && !h.cd && !h.aa && !h.tc && !h.ra && !h.z);
    assert_eq!((h.opcode, h.rcode), (Opcode::Query, Rcode::NoError));
    assert_eq!(m.questions.len(), 1);
    let q = &m.questions[0];
    assert_eq!(
        (&q.name, q.qtype, q.qclass),
        (&n("www.example.com"), RecordType::A, RecordClass::In)
    );
    assert_eq!(m.additionals.len(), 1);
    let opt = &m.additionals[0];
    assert!(opt.name.is_root());
    assert_eq!(
        (opt.rtype(), opt.class, opt.ttl),
        (RecordType::Opt, RecordClass::Unknown(4096), 0)
    );
    assert_eq!(
        opt.data,
        RecordData::Unknown {
            rtype: RecordType::Opt,
            data: vec![]
        }
    );
}

#[test]
fn example_com_response_with_compression() {
    let b = hex(EXAMPLE_RESPONSE);
    let m = parse_exact(&b);
    assert_eq!(m.header.id, 0x44cb);
    assert!(m.header.qr && m.header.rd && m.header.ra && !m.header.aa);
    assert_eq!(
        m.answers,
        vec![Record::new(
            n("www.example.com"),
            85109,
            RecordData::A(Ipv4Addr::new(93, 184, 216, 34))
        )]
    );
    // Built from scratch, the same response encodes to the same bytes.
    let mut built = DnsMessage::response_to(&DnsMessage::query(
        0x44cb,
        n("www.example.com"),
        RecordType::A,
    ));
    built.header.ra = true;
    built.answers = m.answers.clone();
    assert_eq!(built.emit(MAX_UDP_LEN), b);
}

#[test]
fn gmail_mx_response() {
    let b = udp_payload(&hex(GMAIL_MX_FRAME));
    assert_eq!(b.len(), 182);
    let m = parse_exact(&b);
    assert_eq!(m.header.id, 59334);
    assert_eq!(m.questions[0].name, n("gmail.com"));
    assert_eq!(m.questions[0].qtype, RecordType::Mx);
    let mx: Vec<(u16, String)> = m
        .answers
        .iter()
        .map(|r| {
            assert_eq!(
                (r.name.to_string().as_str(), r.ttl, r.class),
                ("gmail.com.", 3450, RecordClass::In)
            );
            match &r.data {
                RecordData::Mx {
                    preference,
                    exchange,
                } => (*preference, format!("{exchange:#}")),
                d => panic!("not MX: {d:?}"),
            }
        })
        .collect();
    let want = [
        (20, "alt2.gmail-smtp-in.l.google.com"),
        (5, "gmail-smtp-in.l.google.com"),
        (30, "alt3.gmail-smtp-in.l.google.com"),
        (10, "alt1.gmail-smtp-in.l.google.com"),
        (40, "alt4.gmail-smtp-in.l.google.com"),
    ];
    assert_eq!(mx, want.map(|(p, s)| (p, s.to_string())));
    assert!(m.authorities.is_empty());
    let glue = [
        Record::new(
            n("gmail-smtp-in.l.google.com"),
            204,
            RecordData::A(Ipv4Addr::new(74, 125, 115, 27)),
        ),
        Record::new(
            n("alt4.gmail-smtp-in.l.google.com"),
            84,
            RecordData::A(Ipv4Addr::new(74, 125, 127, 27)),
        ),
    ];
    assert_eq!(m.additionals, glue);
}

#[test]
fn cname_with_soa_in_authority() {
    let m = parse_exact(&udp_payload(&hex(CNAME_SOA_FRAME)));
    assert_eq!(m.header.id, 56138);
    assert_eq!(
        m.answers,
        vec![Record::new(
            n("ipv6.google.com"),
            604766,
            RecordData::Cname(n("ipv6.l.google.com"))
        )]
    );
    let soa = RecordData::Soa {
        mname: n("ns3.google.com"),
        rname: n("dns-admin.google.com"),
        serial: 1474165,
        refresh: 900,
        retry: 900,
        expire: 1800,
        minimum: 60,
    };
    assert_eq!(m.authorities, vec![Record::new(n("l.google.com"), 60, soa)]);
    assert_eq!(m.negative_ttl(), Some(60));
}

#[test]
fn txt_and_ptr_responses() {
    let m = parse_exact(&udp_payload(&hex(GMAIL_TXT_FRAME)));
    assert_eq!(m.header.id, 16966);
    assert_eq!(
        m.answers,
        vec![Record::new(
            n("gmail.com"),
            300,
            RecordData::Txt(vec![b"v=spf1 redirect=_spf.google.com".to_vec()])
        )]
    );

    let m = parse_exact(&udp_payload(&hex(PTR_FRAME)));
    assert_eq!(m.header.id, 32824);
    assert_eq!(m.questions[0].name, n("10.34.239.216.in-addr.arpa"));
    assert_eq!(
        m.answers,
        vec![Record::new(
            n("10.34.239.216.in-addr.arpa"),
            86400,
            RecordData::Ptr(n("ns2.google.com"))
        )]
    );
}

#[test]
fn nxdomain_with_soa_and_negative_ttl() {
    let m = parse_exact(&hex(NXDOMAIN));
    assert_eq!(m.header.rcode, Rcode::NxDomain);
    assert_eq!(m.header.rcode.to_string(), "NXDOMAIN");
    assert!(m.answers.is_empty());
    let soa = &m.authorities[0];
    assert_eq!(soa.name, n("com"));
    assert_eq!(soa.ttl, 900);
    assert_eq!(
        soa.data,
        RecordData::Soa {
            mname: n("a.gtld-servers.net"),
            rname: n("nstld.verisign-grs.com"),
            serial: 0x6ac9_763b,
            refresh: 1800,
            retry: 900,
            expire: 604800,
            minimum: 900,
        }
    );
    // RFC 2308 §5: min(SOA TTL, SOA MINIMUM).
    assert_eq!(m.negative_ttl(), Some(900));
    assert_eq!(m.additionals[0].class, RecordClass::Unknown(512));
}

fn header(qd: u16, an: u16) -> Vec<u8> {
    let mut b = vec![0x12, 0x34, 0x81, 0x80];
    for c in [qd, an, 0, 0] {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b
}

#[test]
fn pointer_loops_are_refused() {
    // The question name is a pointer to itself.
    let mut b = header(1, 0);
    b.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    let e = DnsMessage::parse(&b).unwrap_err();
    assert_eq!(
        e,
        WireError::Malformed {
            what: "DNS name",
            field: "compression pointer",
            value: 12
        }
    );

    // Two names pointing at each other: 12 -> "a" then @16, 16 -> @12.
    let mut b = header(2, 0);
    b.extend_from_slice(&[1, b'a', 0xc0, 0x10, 0xc0, 0x0c, 0, 1, 0, 1]);
    assert!(DnsMessage::parse(&b).is_err());

    // Backwards pointer that lands before a forward-reading label leading to
    // it again: every pointer is "backwards" from itself, yet it loops.
    // @12: label of 2 ("\x01x" is read as len 2), @15: pointer to 13.
    let mut b = header(1, 0);
    b.extend_from_slice(&[2, 1, b'x', 0xc0, 0x0d, 0, 1, 0, 1]);
    assert!(matches!(
        DnsMessage::parse(&b),
        Err(WireError::Malformed {
            field: "compression pointer",
            ..
        })
    ));

    // A forward pointer, and a pointer into the header.
    let mut b = header(1, 0);
    b.extend_from_slice(&[0xc0, 0x0e, 0, 0, 1, 0, 1]);
    assert!(DnsMessage::parse(&b).is_err());
    let mut b = header(1, 0);
    b.extend_from_slice(&[0xc0, 0x02, 0, 1, 0, 1]);
    assert!(DnsMessage::parse(&b).is_err());
}

/// A message whose first record (type 65280) carries, as opaque RDATA, the
/// root name at offset 23 and then 200 pointers, each to the previous one;
/// the second record's owner is a pointer to pointer number `from`.
fn pointer_chain(from: u16) -> Vec<u8> {
    let mut b = header(0, 2);
    b.extend_from_slice(&[0, 0xff, 0x00, 0, 1, 0, 0, 0, 0]);
    b.extend_from_slice(&(1u16 + 400).to_be_bytes());
    assert_eq!(b.len(), 23);
    b.push(0);
    for i in 0..200u16 {
        let target = if i == 0 { 23 } else { 24 + 2 * (i - 1) };
        b.extend_from_slice(&(0xc000 | target).to_be_bytes());
    }
    b.extend_from_slice(&(0xc000 | (24 + 2 * from)).to_be_bytes());
    b.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
    b
}

#[test]
fn long_pointer_chains_are_bounded() {
    // Every jump is legal (strictly backwards), but 1 + 200 jumps is more
    // than any real name needs.
    assert_eq!(
        DnsMessage::parse(&pointer_chain(199)).unwrap_err(),
        WireError::Malformed {
            what: "DNS name",
            field: "compression pointer count",
            value: 128
        }
    );
    // 1 + 100 jumps are tolerated and lead to the root name.
    let m = DnsMessage::parse(&pointer_chain(99)).unwrap();
    assert!(m.answers[1].name.is_root());
}

#[test]
fn over_long_names_are_refused() {
    // Five labels of 63 octets: 5 * 64 + 1 = 321 > 255.
    let mut b = header(1, 0);
    for _ in 0..5 {
        b.push(63);
        b.extend_from_slice(&[b'a'; 63]);
    }
    b.extend_from_slice(&[0, 0, 1, 0, 1]);
    assert_eq!(
        DnsMessage::parse(&b).unwrap_err(),
        WireError::Malformed {
            what: "DNS name",
            field: "length",
            value: 257
        }
    );
    // The same through compression: each name is legal alone, the
    // concatenation is not. @12: 63+63+63 octets + root (193 octets);
    // then a question with one more 63-octet label pointing at it.
    let mut b = header(2, 0);
    for _ in 0..3 {
        b.push(63);
        b.extend_from_slice(&[b'b'; 63]);
    }
    b.extend_from_slice(&[0, 0, 1, 0, 1]);
    b.push(63);
    b.extend_from_slice(&[b'c'; 63]);
    b.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    assert!(matches!(
        DnsMessage::parse(&b),
        Err(WireError::Malformed {
            field: "length",
            ..
        })
    ));
    // Text names are checked too.
    let long = vec!["x".repeat(63); 4].join(".");
    assert!(long.parse::<DnsName>().is_err());
}

#[test]
fn reserved_label_types_are_refused() {
    for (first, unsupported) in [(0x41u8, true), (0x81, false)] {
        let mut b = header(1, 0);
        b.extend_from_slice(&[first, 0, 0, 1, 0, 1]);
        let e = DnsMessage::parse(&b).unwrap_err();
        assert_eq!(
            matches!(
                e,
                WireError::Unsupported {
                    field: "label type",
                    ..
                }
            ),
            unsupported,
            "{e:?}"
        );
        assert!(matches!(
            e,
            WireError::Unsupported { .. } | WireError::Malformed { .. }
        ));
    }
}

#[test]
fn rdata_length_must_match_the_type() {
    let resp = hex(EXAMPLE_RESPONSE);
    // RDLENGTH 5 for an A record, with one extra octet present.
    let mut b = resp.clone();
    let rdlen_at = b.len() - 6;
    b[rdlen_at + 1] = 5;
    b.push(0);
    assert_eq!(
        DnsMessage::parse(&b).unwrap_err(),
        WireError::Malformed {
            what: "DNS A record",
            field: "rdlength",
            value: 5
        }
    );
    // RDLENGTH past the end of the message.
    let mut b = resp.clone();
    b[rdlen_at + 1] = 9;
    assert!(matches!(
        DnsMessage::parse(&b),
        Err(WireError::Truncated {
            what: "DNS RDATA",
            ..
        })
    ));
    // An MX whose exchange runs past RDLENGTH.
    let mut b = udp_payload(&hex(GMAIL_MX_FRAME));
    // First answer: owner c00c at 27, RDLENGTH at 37..39 = 0x0020.
    assert_eq!(&b[37..39], &[0, 0x20]);
    b[38] = 0x10;
    assert!(matches!(
        DnsMessage::parse(&b),
        Err(WireError::Malformed {
            what: "DNS MX record",
            ..
        }) | Err(WireError::Truncated { .. })
    ));
}

#[test]
fn huge_counts_do_not_allocate() {
    let mut b = header(0xffff, 0xffff);
    b.extend_from_slice(&[0; 100]);
    assert!(matches!(
        DnsMessage::parse(&b),
        Err(WireError::Truncated {
            what: "DNS message",
            ..
        })
    ));
}

#[test]
fn truncated_udp_answer_sets_tc() {
    // A response with 40 MX records of distinct exchanges cannot fit in 512.
    let mut m = DnsMessage::response_to(&DnsMessage::query(7, n("example.com"), RecordType::Mx));
    for i in 0..40 {
        let exchange = n(&format!("mail-server-number-{i}.example.com"));
        m.answers.push(Record::new(
            n("example.com"),
            60,
            RecordData::Mx {
                preference: i,
                exchange,
            },
        ));
    }
    let b = m.emit(MAX_UDP_LEN);
    assert!(b.len() <= MAX_UDP_LEN);
    let p = DnsMessage::parse(&b).unwrap();
    assert!(p.header.tc);
    assert!(!p.answers.is_empty() && p.answers.len() < 40);
    assert_eq!(p.answers[..], m.answers[..p.answers.len()]);
    assert!(!DnsMessage::parse(&m.emit(usize::MAX)).unwrap().header.tc);
}
