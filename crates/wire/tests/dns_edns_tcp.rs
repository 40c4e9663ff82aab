//! EDNS(0) OPT records (RFC 6891) and the DNS-over-TCP framer (RFC 1035
//! §4.2.2): known answers, properties, and hickory-proto as an oracle both
//! ways for the OPT record.

use hickory_proto::op::{Edns as HEdns, Message, MessageType, OpCode, Query};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption as HOption};
use hickory_proto::rr::{Name, RecordType as HType};
use proptest::prelude::*;
use vnet_wire::dns::{
    DnsMessage, DnsName, Edns, EdnsOption, FrameError, MAX_UDP_LEN, OPTION_COOKIE, Record,
    RecordData, RecordType, TcpFramer, frame,
};

fn query_with(edns: &Edns) -> DnsMessage {
    let name: DnsName = "www.example.com".parse().expect("name");
    let mut q = DnsMessage::query(0x1234, name, RecordType::A);
    q.set_edns(Some(edns));
    q
}

/// Options with codes hickory keeps verbatim (unknown to it, or cookies).
fn option() -> impl Strategy<Value = EdnsOption> {
    (
        prop_oneof![Just(OPTION_COOKIE), 65001u16..65534],
        prop::collection::vec(any::<u8>(), 0..40),
    )
        .prop_map(|(code, data)| EdnsOption { code, data })
}

fn edns() -> impl Strategy<Value = Edns> {
    (
        512u16..,
        any::<u8>(),
        any::<bool>(),
        0u16..0x8000,
        prop::collection::vec(option(), 0..4),
    )
        .prop_map(|(udp_payload_size, version, dnssec_ok, z, options)| Edns {
            udp_payload_size,
            extended_rcode: 0,
            version,
            dnssec_ok,
            z,
            options,
        })
}

#[test]
fn dig_cookie_query_known_bytes() {
    // The additional section of `dig www.example.com` (BIND 9.18): OPT,
    // payload 1232, version 0, no flags, an 8-octet client cookie.
    let bytes: &[u8] = &[
        0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
        0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04,
    ];
    let e = Edns {
        options: vec![EdnsOption {
            code: OPTION_COOKIE,
            data: vec![0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4],
        }],
        ..Edns::default()
    };
    let wire = query_with(&e).emit(MAX_UDP_LEN);
    assert!(wire.ends_with(bytes));
    let h = Message::from_vec(&wire).expect("hickory decodes");
    let he = h.edns.as_ref().expect("hickory sees the OPT");
    assert_eq!((he.max_payload(), he.version()), (1232, 0));
    assert_eq!(
        he.option(EdnsCode::Cookie),
        Some(&HOption::Unknown(
            10,
            vec![0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]
        ))
    );
}

#[test]
fn truncated_responses_keep_their_opt() {
    let mut m = query_with(&Edns::default());
    m.header.qr = true;
    for i in 0..60u8 {
        m.answers.push(Record::new(
            "www.example.com".parse().expect("name"),
            300,
            RecordData::A(core::net::Ipv4Addr::new(10, 0, 0, i)),
        ));
    }
    let b = m.emit(512);
    assert!(b.len() <= 512);
    let p = DnsMessage::parse(&b).expect("parses");
    assert!(p.header.tc);
    assert_eq!(p.edns(), Ok(Some(Edns::default())), "the OPT survives");
    assert!(p.answers.len() < 60);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn opt_round_trips_through_our_codec(e in edns(), ext in any::<u8>()) {
        let e = Edns { extended_rcode: ext, ..e };
        let wire = query_with(&e).emit(usize::MAX);
        let back = DnsMessage::parse(&wire).expect("parses");
        prop_assert_eq!(back.edns(), Ok(Some(e.clone())));
        prop_assert_eq!(Edns::from_record(&e.to_record()), Ok(e));
    }

    #[test]
    fn hickory_reads_our_opt(e in edns()) {
        let wire = query_with(&e).emit(usize::MAX);
        let h = Message::from_vec(&wire).expect("hickory decodes");
        let he = h.edns.as_ref().expect("OPT");
        prop_assert_eq!(he.max_payload(), e.udp_payload_size);
        prop_assert_eq!(he.version(), e.version);
        prop_assert_eq!(he.flags().dnssec_ok, e.dnssec_ok);
        prop_assert_eq!(he.flags().z, e.z);
        let opts: Vec<(u16, Vec<u8>)> = he
            .options()
            .as_ref()
            .iter()
            .map(|(c, o)| match o {
                HOption::Unknown(_, data) => (u16::from(*c), data.clone()),
                other => (u16::from(*c), format!("{other:?}").into_bytes()),
            })
            .collect();
        let ours: Vec<(u16, Vec<u8>)> = e.options.iter().map(|o| (o.code, o.data.clone())).collect();
        prop_assert_eq!(opts, ours);
    }

    #[test]
    fn we_read_hickorys_opt(e in edns()) {
        let mut h = Message::new(0x4321, MessageType::Query, OpCode::Query);
        h.add_query(Query::query(Name::from_ascii("www.example.com.").expect("name"), HType::A));
        let mut he = HEdns::new();
        he.set_max_payload(e.udp_payload_size);
        he.set_version(e.version);
        he.set_dnssec_ok(e.dnssec_ok);
        he.flags_mut().z = e.z;
        for o in &e.options {
            he.options_mut().insert(HOption::Unknown(o.code, o.data.clone()));
        }
        h.set_edns(he);
        let wire = h.to_vec().expect("hickory encodes");
        let ours = DnsMessage::parse(&wire).expect("we decode");
        prop_assert_eq!(ours.edns(), Ok(Some(e)));
    }

    #[test]
    fn arbitrary_options_never_panic(b in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(opts) = vnet_wire::dns::parse_options(&b) {
            let total: usize = opts.iter().map(|o| 4 + o.data.len()).sum();
            prop_assert_eq!(total, b.len());
        }
    }

    #[test]
    fn framer_reassembles_any_chunking(
        messages in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8),
        chunk in 1usize..700,
    ) {
        let mut wire = Vec::new();
        for m in &messages {
            wire.extend(frame(m).expect("fits"));
        }
        let mut f = TcpFramer::new(300);
        let mut got = Vec::new();
        let mut input = &wire[..];
        while !input.is_empty() {
            let n = f.push(&input[..input.len().min(chunk)]);
            input = &input[n..];
            prop_assert!(f.buffered() <= 302);
            while let Some(m) = f.next_message().expect("within the limit") {
                got.push(m);
            }
        }
        prop_assert_eq!(got, messages);
        prop_assert_eq!(f.buffered(), 0);
    }

    #[test]
    fn framer_never_panics_and_stays_bounded(b in prop::collection::vec(any::<u8>(), 0..2000), max in 0usize..600) {
        let mut f = TcpFramer::new(max);
        let mut input = &b[..];
        'outer: while !input.is_empty() {
            let n = f.push(input);
            input = &input[n..];
            prop_assert!(f.buffered() <= max + 2);
            loop {
                match f.next_message() {
                    Ok(Some(m)) => prop_assert!(m.len() <= max),
                    Ok(None) => break,
                    Err(FrameError::TooLong { len, .. }) => {
                        prop_assert!(len > max);
                        break 'outer;
                    }
                    Err(e) => prop_assert!(false, "{e}"),
                }
            }
            if n == 0 {
                break;
            }
        }
    }
}
