use super::*;
use proptest::prelude::*;

/// A RIPv2 response as a router sends it (RFC 2453 §4), assembled byte by
/// byte from the RFC's layout: two routes, 10.0.12.0/30 at metric 1 and
/// 10.0.3.0/24 at metric 2 via the sender.
const RESPONSE: [u8; 44] = [
    0x02, 0x02, 0x00, 0x00, // command 2 (response), version 2, zero
    0x00, 0x02, 0x00, 0x00, // AFI 2 (IP), route tag 0
    10, 0, 12, 0, // IP address
    255, 255, 255, 252, // subnet mask /30
    0, 0, 0, 0, // next hop: the sender
    0, 0, 0, 1, // metric 1
    0x00, 0x02, 0x00, 0x07, // AFI 2, route tag 7
    10, 0, 3, 0, // IP address
    255, 255, 255, 0, // /24
    10, 0, 23, 2, // next hop
    0, 0, 0, 2, // metric 2
];

#[test]
fn parses_a_response() {
    let m = RipMessage::parse(&RESPONSE).unwrap();
    assert_eq!(m.command, RipCommand::Response);
    assert_eq!(m.version, 2);
    assert_eq!(m.auth, None);
    assert_eq!(m.entries.len(), 2);
    let e = m.entries[1];
    assert_eq!(e.family, AFI_INET);
    assert_eq!(e.tag, 7);
    assert_eq!(e.address, Ipv4Addr::new(10, 0, 3, 0));
    assert_eq!(e.prefix_len(), Some(24));
    assert_eq!(e.next_hop, Ipv4Addr::new(10, 0, 23, 2));
    assert_eq!(e.metric, 2);
    assert_eq!(m.entries[0].prefix_len(), Some(30));
    assert_eq!(m.emit(), RESPONSE.to_vec());
}

#[test]
fn parses_the_whole_table_request() {
    // RFC 2453 §3.9.1: one entry, AFI 0, metric 16.
    let bytes = [
        1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16,
    ];
    let m = RipMessage::parse(&bytes).unwrap();
    assert_eq!(m.command, RipCommand::Request);
    assert_eq!(m.entries, vec![RipEntry::whole_table()]);
    let built = RipMessage {
        command: RipCommand::Request,
        version: 2,
        auth: None,
        entries: vec![RipEntry::whole_table()],
    };
    assert_eq!(built.emit(), bytes.to_vec());
}

#[test]
fn parses_simple_password_authentication() {
    // RFC 2453 §4.1: AFI 0xFFFF, type 2, the password NUL-padded to 16.
    let mut bytes = vec![2, 2, 0, 0, 0xff, 0xff, 0, 2];
    bytes.extend_from_slice(b"vnet-lab\0\0\0\0\0\0\0\0");
    bytes.extend_from_slice(&RESPONSE[4..24]);
    let m = RipMessage::parse(&bytes).unwrap();
    assert_eq!(m.auth, Some(RipAuth::simple("vnet-lab")));
    assert_eq!(m.entries.len(), 1);
    assert_eq!(m.emit(), bytes);
}

#[test]
fn refuses_truncated_and_ragged_messages() {
    assert!(matches!(
        RipMessage::parse(&[2, 2]),
        Err(WireError::Truncated { needed: 4, .. })
    ));
    let err = RipMessage::parse(&RESPONSE[..30]).unwrap_err();
    assert_eq!(err.to_string(), "malformed RIP message: length = 30");
}

#[test]
fn a_mask_with_holes_has_no_prefix_length() {
    let mut e = RipEntry::whole_table();
    e.mask = Ipv4Addr::new(255, 0, 255, 0);
    assert_eq!(e.prefix_len(), None);
    e.mask = Ipv4Addr::new(255, 255, 255, 255);
    assert_eq!(e.prefix_len(), Some(32));
    e.mask = Ipv4Addr::UNSPECIFIED;
    assert_eq!(e.prefix_len(), Some(0));
}

fn entry() -> impl Strategy<Value = RipEntry> {
    (
        any::<u16>().prop_filter("not auth", |f| *f != AFI_AUTH),
        any::<u16>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(family, tag, a, m, n, metric)| RipEntry {
            family,
            tag,
            address: a.into(),
            mask: m.into(),
            next_hop: n.into(),
            metric,
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(m) = RipMessage::parse(&bytes) {
            // Whatever parses emits to the same bytes (bar the zero field).
            let mut expected = bytes.clone();
            expected[2] = 0;
            expected[3] = 0;
            prop_assert_eq!(m.emit(), expected);
        }
    }

    #[test]
    fn emit_then_parse_round_trips(
        command in any::<u8>(),
        version in any::<u8>(),
        password in proptest::option::of("[a-z]{0,16}"),
        entries in proptest::collection::vec(entry(), 0..=MAX_ENTRIES),
    ) {
        let m = RipMessage {
            command: RipCommand::from(command),
            version,
            auth: password.map(|p| RipAuth::simple(&p)),
            entries,
        };
        let bytes = m.emit();
        prop_assert_eq!(bytes.len(), m.buffer_len());
        prop_assert_eq!(RipMessage::parse(&bytes).unwrap(), m);
    }
}
