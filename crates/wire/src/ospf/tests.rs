//! Unit tests of the pieces; the captured packets are in
//! `crates/wire/tests/ospf_frr.rs`, the properties in `ospf_props.rs`.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// FRR's Network-LSA for 10.99.0.0/30 (ospfd 8.4, tshark: "Checksum:
/// 0x7a5f"), and the same LSA aged to MaxAge: the age is not covered.
#[test]
fn fletcher_matches_frr() {
    let mut lsa = hex("000102020a63000202020202800000017a5f0020fffffffc0101010102020202");
    assert_eq!(fletcher::compute(&lsa), Ok(0x7a5f));
    assert!(fletcher::verify(&lsa));
    lsa[0..2].copy_from_slice(&MAX_AGE.to_be_bytes());
    assert!(fletcher::verify(&lsa));
    lsa[31] ^= 1;
    assert!(!fletcher::verify(&lsa));
    assert_eq!(
        fletcher::fill(&mut lsa),
        Ok(fletcher::compute(&lsa).unwrap())
    );
    assert!(fletcher::verify(&lsa));
    assert!(!fletcher::verify(&lsa[..10]));
    assert!(fletcher::compute(&lsa[..17]).is_err());
}

#[test]
fn a_zero_checksum_never_verifies() {
    // Both check octets are 1..=255 (ISO 8473 Annex C: 0 means "not
    // computed"), so a zeroed field is always wrong.
    let mut lsa = vec![0u8; 20];
    lsa[19] = 20;
    assert!(!fletcher::verify(&lsa));
    let sum = fletcher::compute(&lsa).unwrap();
    assert!(sum >> 8 != 0 && sum & 0xff != 0);
}

#[test]
fn header_errors_name_the_field() {
    assert!(matches!(
        OspfPacket::parse(&[2, 1, 0]),
        Err(WireError::Truncated { needed: 24, .. })
    ));
    let mut hello = hex(
        "020100300101010100000000f5c000000000000000000000fffffffc000202010000000800000000000000000202020201",
    );
    assert!(
        OspfPacket::parse(&hello).is_ok(),
        "a trailing byte is ignored"
    );
    hello[0] = 3;
    assert_eq!(
        OspfPacket::parse(&hello).unwrap_err().to_string(),
        "unsupported OSPF header: version = 3"
    );
    hello[0] = 2;
    hello[3] = 20;
    assert_eq!(
        OspfPacket::parse(&hello).unwrap_err().to_string(),
        "malformed OSPF header: packet length = 20"
    );
    hello[3] = 0x40;
    assert!(matches!(
        OspfPacket::parse(&hello),
        Err(WireError::Truncated { needed: 64, .. })
    ));
    hello[3] = 0x30;
    hello[40] ^= 0x80;
    assert_eq!(
        OspfPacket::parse(&hello),
        Err(WireError::BadChecksum {
            what: "OSPF packet"
        })
    );
}

#[test]
fn a_router_lsa_with_a_reserved_byte_set_is_kept_raw() {
    let header = LsaHeader {
        age: 1,
        options: Options(Options::E),
        ls_type: LsType::Router,
        id: Ipv4Addr::new(1, 1, 1, 1),
        adv_router: Ipv4Addr::new(1, 1, 1, 1),
        seq: INITIAL_SEQUENCE,
        checksum: 0,
        length: 0,
    };
    // flags 0, reserved 1 (!), no links.
    let lsa = Lsa::new(header, LsaBody::Raw(vec![0, 1, 0, 0]));
    let parsed = Lsa::parse(&lsa.emit()).unwrap();
    assert_eq!(parsed, lsa);
    assert!(parsed.checksum_ok());
    // The same with the reserved byte clear decodes.
    let lsa = Lsa::new(header, LsaBody::Raw(vec![0, 0, 0, 0]));
    assert_eq!(
        Lsa::parse(&lsa.emit()).unwrap().body,
        LsaBody::Router(RouterLsa::default())
    );
    // A link count beyond the body.
    let lsa = Lsa::new(header, LsaBody::Raw(vec![0, 0, 0, 1]));
    assert!(matches!(
        Lsa::parse(&lsa.emit()).unwrap().body,
        LsaBody::Raw(_)
    ));
}

#[test]
fn lsa_lengths_are_checked() {
    let mut bytes = hex("000102020a63000202020202800000017a5f0020fffffffc0101010102020202");
    bytes[19] = 19;
    assert_eq!(
        Lsa::parse(&bytes).unwrap_err().to_string(),
        "malformed LSA header: length = 19"
    );
    bytes[19] = 36;
    assert!(matches!(
        Lsa::parse(&bytes),
        Err(WireError::Truncated { .. })
    ));
    bytes[19] = 28;
    assert!(Lsa::parse(&bytes).is_err(), "4 bytes left over");
}

#[test]
fn an_update_may_not_claim_more_lsas_than_it_has() {
    let packet = OspfPacket {
        router_id: Ipv4Addr::new(1, 1, 1, 1),
        area_id: Ipv4Addr::UNSPECIFIED,
        auth: OspfAuth::Null,
        body: OspfBody::LinkStateUpdate(Vec::new()),
    };
    let mut bytes = packet.emit();
    bytes[27] = 0xff; // 255 LSAs, none there
    let sum = packet_checksum(&bytes).unwrap();
    bytes[12..14].copy_from_slice(&sum.to_be_bytes());
    assert!(matches!(
        OspfPacket::parse(&bytes),
        Err(WireError::Truncated { .. })
    ));
}

#[test]
fn simple_passwords_are_cut_and_padded() {
    assert_eq!(OspfAuth::simple("lab"), OspfAuth::Simple(*b"lab\0\0\0\0\0"));
    assert_eq!(
        OspfAuth::simple("0123456789"),
        OspfAuth::Simple(*b"01234567")
    );
    assert_eq!(OspfAuth::simple("x").au_type(), AUTH_SIMPLE);
}
