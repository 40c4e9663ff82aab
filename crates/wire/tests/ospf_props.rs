//! Properties of `vnet_wire::ospf`: no input bytes make it panic, every
//! packet it can build parses back to itself, and every LSA it seals
//! carries a Fletcher checksum that verifies (RFC 2328 §12.1.7).

use proptest::prelude::*;
use std::net::Ipv4Addr;
use vnet_wire::ospf::{
    self, DatabaseDescription, DdFlags, Hello, LinkType, LsType, Lsa, LsaBody, LsaHeader, LsaKey,
    NetworkLsa, Options, OspfAuth, OspfBody, OspfPacket, RouterLink, RouterLsa, TosMetric,
    fletcher,
};

fn addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn header(ls_type: LsType) -> impl Strategy<Value = LsaHeader> {
    (
        any::<u16>(),
        any::<u8>(),
        addr(),
        addr(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
    )
        .prop_map(
            move |(age, options, id, adv_router, seq, checksum, length)| LsaHeader {
                age,
                options: Options(options),
                ls_type,
                id,
                adv_router,
                seq,
                checksum,
                length,
            },
        )
}

fn any_header() -> impl Strategy<Value = LsaHeader> {
    any::<u8>().prop_flat_map(|t| header(LsType::from(t)))
}

fn link() -> impl Strategy<Value = RouterLink> {
    (
        addr(),
        addr(),
        any::<u8>(),
        any::<u16>(),
        proptest::collection::vec((any::<u8>(), any::<u16>()), 0..3),
    )
        .prop_map(|(link_id, link_data, t, metric, tos)| RouterLink {
            link_id,
            link_data,
            link_type: LinkType::from(t),
            metric,
            tos: tos
                .into_iter()
                .map(|(tos, metric)| TosMetric { tos, metric })
                .collect(),
        })
}

/// LSAs as [`Lsa::new`] seals them: Router- and Network-LSAs, and raw
/// bodies of the other types.
fn lsa() -> impl Strategy<Value = Lsa> {
    let router = (
        header(LsType::Router),
        any::<u8>(),
        proptest::collection::vec(link(), 0..6),
    )
        .prop_map(|(h, flags, links)| Lsa::new(h, LsaBody::Router(RouterLsa { flags, links })));
    let network = (
        header(LsType::Network),
        addr(),
        proptest::collection::vec(addr(), 0..6),
    )
        .prop_map(|(h, mask, routers)| Lsa::new(h, LsaBody::Network(NetworkLsa { mask, routers })));
    let raw = (
        any::<u8>().prop_filter("not 1 or 2", |t| !matches!(t, 1 | 2)),
        proptest::collection::vec(any::<u8>(), 0..40),
    )
        .prop_flat_map(|(t, body)| {
            header(LsType::from(t)).prop_map(move |h| Lsa::new(h, LsaBody::Raw(body.clone())))
        });
    prop_oneof![router, network, raw]
}

fn auth() -> impl Strategy<Value = OspfAuth> {
    prop_oneof![
        Just(OspfAuth::Null),
        any::<[u8; 8]>().prop_map(OspfAuth::Simple),
        (
            any::<u8>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..32)
        )
            .prop_map(|(key_id, seq, digest)| OspfAuth::Cryptographic {
                key_id,
                seq,
                digest
            }),
        (
            any::<u16>().prop_filter("unknown", |t| *t > 2),
            any::<[u8; 8]>()
        )
            .prop_map(|(au_type, data)| OspfAuth::Unknown { au_type, data }),
    ]
}

fn body() -> impl Strategy<Value = OspfBody> {
    let hello = (
        (addr(), any::<u16>(), any::<u8>(), any::<u8>(), any::<u32>()),
        (addr(), addr(), proptest::collection::vec(addr(), 0..8)),
    )
        .prop_map(
            |((mask, hi, options, priority, dead), (dr, bdr, neighbors))| {
                OspfBody::Hello(Hello {
                    network_mask: mask,
                    hello_interval: hi,
                    options: Options(options),
                    priority,
                    dead_interval: dead,
                    dr,
                    bdr,
                    neighbors,
                })
            },
        );
    let dd = (
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<u32>(),
        proptest::collection::vec(any_header(), 0..6),
    )
        .prop_map(|(mtu, options, flags, sequence, lsa_headers)| {
            OspfBody::DatabaseDescription(DatabaseDescription {
                mtu,
                options: Options(options),
                flags: DdFlags(flags),
                sequence,
                lsa_headers,
            })
        });
    let lsr = proptest::collection::vec((any::<u8>(), addr(), addr()), 0..8).prop_map(|keys| {
        OspfBody::LinkStateRequest(
            keys.into_iter()
                .map(|(t, id, adv_router)| LsaKey {
                    ls_type: LsType::from(t),
                    id,
                    adv_router,
                })
                .collect(),
        )
    });
    let lsu = proptest::collection::vec(lsa(), 0..5).prop_map(OspfBody::LinkStateUpdate);
    let ack = proptest::collection::vec(any_header(), 0..8).prop_map(OspfBody::LinkStateAck);
    prop_oneof![hello, dd, lsr, lsu, ack]
}

fn packet() -> impl Strategy<Value = OspfPacket> {
    (addr(), addr(), auth(), body()).prop_map(|(router_id, area_id, auth, body)| OspfPacket {
        router_id,
        area_id,
        auth,
        body,
    })
}

/// Writes the right checksum into `bytes` (when its length field lets
/// one be computed), so that mutated packets get past the check.
fn fix_checksum(bytes: &mut [u8]) {
    if bytes.len() < ospf::HEADER_LEN {
        return;
    }
    let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]])).min(bytes.len());
    if let Some(sum) = ospf::packet_checksum(&bytes[..length]) {
        bytes[12..14].copy_from_slice(&sum.to_be_bytes());
    }
}

/// Whatever parses, emits to something that parses back to it.
fn round_trips(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(p) = OspfPacket::parse(bytes) {
        let emitted = p.emit();
        let again = OspfPacket::parse(&emitted);
        prop_assert_eq!(again.as_ref(), Ok(&p));
        if let OspfBody::LinkStateUpdate(lsas) = &p.body {
            for lsa in lsas {
                // Checked or not, an LSA re-emits to its bytes.
                let _ = lsa.checksum_ok();
                let bytes = lsa.emit();
                let parsed = Lsa::parse(&bytes);
                prop_assert_eq!(parsed.as_ref(), Ok(lsa));
            }
        }
    }
    Ok(())
}

/// A captured packet of each type (from `ospf_frr.rs`): the first Hello,
/// the DD with a header, the request, the DR's update, the ack.
const SEEDS: [&str; 5] = [
    "020100300101010100000000f5c000000000000000000000fffffffc0002020100000008000000000000000002020202",
    "020200340101010100000000d6e20000000000000000000005dc0200093f9bb400000201010101010101010180000004f1cf003c",
    "020300240202020200000000f5cf00000000000000000000000000010101010101010101",
    "020400780202020200000000363f000000000000000000000000000200010201020202020202020280000005df58003c000000030a630200ffffff000300000a0a631602ffffffff030000000a6300020a6300020200000a000102020a63000202020202800000017a5f0020fffffffc0101010102020202",
    "020500400101010100000000b9810000000000000000000000010201020202020202020280000004acff003c000102020a63000202020202800000017a5f0020",
];

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn the_seeds_are_valid_packets() {
    for seed in SEEDS {
        let bytes = hex(seed);
        assert_eq!(OspfPacket::parse(&bytes).unwrap().emit(), bytes);
    }
}

/// The seed corpus of the `ospf` fuzz target (`fuzz/corpus/ospf/`, the
/// captures of `ospf_frr.rs`) holds valid packets that re-emit exactly.
#[test]
fn the_fuzz_corpus_is_valid_packets() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/ospf");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/ospf") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("seed");
        let packet = OspfPacket::parse(&bytes).expect("a seed parses");
        assert_eq!(packet.emit(), bytes);
        count += 1;
    }
    assert_eq!(count, 14);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        round_trips(&bytes)?;
        let _ = Lsa::parse(&bytes);
        let _ = LsaHeader::parse(&bytes);
        let _ = fletcher::verify(&bytes);
    }

    #[test]
    fn arbitrary_bodies_behind_a_valid_header_never_panic(
        ty in 1u8..=5,
        auth in 0u16..=3,
        body in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = vec![2, ty, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&auth.to_be_bytes());
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&body);
        let len = (bytes.len() as u16).to_be_bytes();
        bytes[2..4].copy_from_slice(&len);
        fix_checksum(&mut bytes);
        round_trips(&bytes)?;
    }

    #[test]
    fn mutated_captures_never_panic(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = hex(SEEDS[seed]);
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        fix_checksum(&mut bytes);
        round_trips(&bytes)?;
        let end = cut.index(bytes.len() + 1);
        round_trips(&bytes[..end])?;
    }

    #[test]
    fn built_packets_round_trip(p in packet()) {
        let bytes = p.emit();
        let digest = match &p.auth {
            OspfAuth::Cryptographic { digest, .. } => digest.len(),
            _ => 0,
        };
        prop_assert_eq!(bytes.len(), p.packet_len() + digest);
        prop_assert_eq!(OspfPacket::parse(&bytes), Ok(p));
    }

    #[test]
    fn sealed_lsas_verify_at_any_age(lsa in lsa(), age in any::<u16>()) {
        let bytes = lsa.emit();
        prop_assert!(lsa.checksum_ok());
        prop_assert!(fletcher::verify(&bytes));
        prop_assert_eq!(usize::from(lsa.header.length), bytes.len());
        let parsed = Lsa::parse(&bytes).unwrap();
        prop_assert_eq!(&parsed, &lsa);
        // The age is outside the checksum (§12.1.7).
        let mut aged = lsa.clone();
        aged.header.age = age;
        prop_assert!(aged.checksum_ok());
        // Any other one-byte change is caught: it moves C0 by 1..=254
        // modulo 255 (only 0x00 <-> 0xff, a change of 255, is invisible to
        // a Fletcher checksum modulo 255).
        let i = 2 + usize::from(age) % (bytes.len() - 2);
        if bytes[i] != 0xff {
            let mut changed = bytes.clone();
            changed[i] += 1;
            prop_assert!(!fletcher::verify(&changed));
        }
    }
}
