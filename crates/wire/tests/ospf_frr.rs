//! Known answers for `vnet_wire::ospf` from real OSPF packets.
//!
//! Captured from FRR 8.4.4 (`ospfd`, Debian bookworm) on a veth pair
//! between two network namespaces: `ospfA` (router ID 1.1.1.1,
//! 10.99.0.1/30 on `va`) and `ospfB` (2.2.2.2, 10.99.0.2/30 on `vb`),
//! each with a passive stub network on a second veth (10.99.1.0/24,
//! 10.99.2.0/24) and a /32 on its loopback (10.99.11.1, 10.99.22.2), all
//! in area 0, `ip ospf hello-interval 2` and `dead-interval 8`. zebra and
//! ospfd ran as in `tests/common/frr.rs` (config, pid file and vty socket
//! in a per-namespace directory), until the neighbours were Full and
//! another 12 s, captured with `ip netns exec ospfA tshark -i va -f 'ip
//! proto 89'`. Four runs: the broadcast network (the default), a simple
//! password, keyed MD5, and `ip ospf network point-to-point`.
//!
//! Each constant is the IP payload of one frame (IP protocol 89); the
//! expected values are tshark 4.0's decode of the same frame (`tshark -V
//! -Y ospf`): tshark is the oracle, including its "[correct]" for the
//! packet checksums and the LSA checksums FRR computed.

use std::net::Ipv4Addr;
use vnet_wire::ospf::{
    self, DdFlags, LinkType, LsType, Lsa, LsaBody, LsaHeader, LsaKey, NetworkLsa, Options,
    OspfAuth, OspfBody, OspfPacket, RouterLink, fletcher,
};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

fn a(s: &str) -> Ipv4Addr {
    s.parse().expect("test address")
}

fn parse(s: &str) -> OspfPacket {
    OspfPacket::parse(&hex(s)).expect("a captured packet parses")
}

// ------------------------------------------------------------ captures

/// Frame 1, 10.99.0.1 -> 224.0.0.5: the first Hello, no neighbour heard yet.
const HELLO_EMPTY: &str = "\
    0201002c0101010100000000f9c800000000000000000000fffffffc00020201000000080000000000000000";

/// Frame 3, 10.99.0.1 -> 224.0.0.5: a Hello naming the neighbour 2.2.2.2.
const HELLO_SEEN: &str = "\
    020100300101010100000000f5c000000000000000000000fffffffc0002020100000008000000000000000002020202";

/// Frame 26, 10.99.0.2 -> 224.0.0.5: after the election, DR 10.99.0.2, BDR 10.99.0.1.
const HELLO_ELECTED: &str = "\
    020100300202020200000000e0f700000000000000000000fffffffc00020201000000080a6300020a63000101010101";

/// Frame 9, 10.99.0.1 -> 10.99.0.2: the first DD packet (I, M, MS), ExStart.
const DD_FIRST: &str = "\
    0202002001010101000000004f050000000000000000000005dc0207093f9bb4";

/// Frame 12, 10.99.0.1 -> 10.99.0.2: a DD packet with one LSA header (Exchange).
const DD_HEADERS: &str = "\
    020200340101010100000000d6e20000000000000000000005dc0200093f9bb400000201010101010101010180000004\
    f1cf003c";

/// Frame 14, 10.99.0.2 -> 10.99.0.1: the LS Request for 1.1.1.1's Router-LSA.
const LSR: &str = "\
    020300240202020200000000f5cf00000000000000000000000000010101010101010101";

/// Frame 17, 10.99.0.1 -> 224.0.0.6: 1.1.1.1 floods its Router-LSA (three stub links) to the DR.
const LSU_OWN: &str = "\
    020400580101010100000000504b000000000000000000000000000100010201010101010101010180000004f1cf003c\
    000000030a630100ffffff000300000a0a630b01ffffffff030000000a630000fffffffc0300000a";

/// Frame 20, 10.99.0.2 -> 224.0.0.5: the DR floods its new Router-LSA (a transit link) and the Network-LSA.
const LSU_DR: &str = "\
    020400780202020200000000363f000000000000000000000000000200010201020202020202020280000005df58003c\
    000000030a630200ffffff000300000a0a631602ffffffff030000000a6300020a6300020200000a000102020a630002\
    02020202800000017a5f0020fffffffc0101010102020202";

/// Frame 23, 10.99.0.1 -> 224.0.0.5: a delayed acknowledgment of two LSAs.
const LSACK: &str = "\
    020500400101010100000000b9810000000000000000000000010201020202020202020280000004acff003c00010202\
    0a63000202020202800000017a5f0020";

/// Frame 43, 10.99.0.2 -> 224.0.0.5: ospfd shutting down flushes its Network-LSA (age MaxAge).
const LSU_FLUSH: &str = "\
    0204003c0202020200000000dabb00000000000000000000000000010e1002020a63000202020202800000017a5f0020\
    fffffffc0101010102020202";

/// Frame 3 of the simple-password run (`ip ospf authentication-key vnetlab`).
const HELLO_SIMPLE: &str = "\
    020100300101010100000000f5bf0001766e65746c616200fffffffc0002020100000008000000000000000002020202";

/// Frame 3 of the keyed-MD5 run (`ip ospf message-digest-key 1 md5 vnetlab`): 48 bytes of packet, then the 16-byte digest.
const HELLO_MD5: &str = "\
    02010030010101010000000000000002000001106b119af4fffffffc0002020100000008000000000000000002020202\
    711580833619525d3bed8731231a799c";

/// Frame 20 of the keyed-MD5 run: three LSAs and the digest.
const LSU_MD5: &str = "\
    020400b4020202020000000000000002000001106b119afe0000000300010201020202020202020280000004acff003c\
    000000030a630200ffffff000300000a0a631602ffffffff030000000a630000fffffffc0300000a0001020102020202\
    0202020280000005df58003c000000030a630200ffffff000300000a0a631602ffffffff030000000a6300020a630002\
    0200000a000102020a63000202020202800000017a5f0020fffffffc0101010102020202d54ac752740005e78826a0e8\
    a5733b0d";

/// Frame 12 of the point-to-point run (`ip ospf network point-to-point`): two instances of 2.2.2.2's Router-LSA, the second with a point-to-point link.
const LSU_P2P: &str = "\
    020400a002020202000000004ffc000000000000000000000000000200020201020202020202020280000003aefe003c\
    000000030a630200ffffff000300000a0a631602ffffffff030000000a630000fffffffc0300000a0001020102020202\
    020202028000000459c70048000000040a630200ffffff000300000a0a631602ffffffff03000000010101010a630002\
    0100000a0a630000fffffffc0300000a";

const ALL: [&str; 14] = [
    HELLO_EMPTY,
    HELLO_SEEN,
    HELLO_ELECTED,
    DD_FIRST,
    DD_HEADERS,
    LSR,
    LSU_OWN,
    LSU_DR,
    LSACK,
    LSU_FLUSH,
    HELLO_SIMPLE,
    HELLO_MD5,
    LSU_MD5,
    LSU_P2P,
];

// ------------------------------------------------------------ whole packets

#[test]
fn every_capture_re_emits_to_its_bytes() {
    for capture in ALL {
        let bytes = hex(capture);
        let packet = OspfPacket::parse(&bytes).expect("parses");
        assert_eq!(packet.emit(), bytes, "{:?}", packet.body.name());
        // The header's length (the digest is outside it, §D.4.3).
        let length = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        assert_eq!(packet.packet_len(), length);
    }
}

#[test]
fn packet_checksums_verify_and_a_flipped_bit_is_caught() {
    for capture in ALL {
        let bytes = hex(capture);
        let packet = OspfPacket::parse(&bytes).unwrap();
        if matches!(packet.auth, OspfAuth::Cryptographic { .. }) {
            // tshark: "Checksum: 0x0000 (None)".
            assert_eq!(&bytes[12..14], &[0, 0]);
            continue;
        }
        let length = packet.packet_len();
        assert_eq!(
            ospf::packet_checksum(&bytes[..length]),
            Some(u16::from_be_bytes([bytes[12], bytes[13]]))
        );
        let mut bad = bytes.clone();
        bad[length - 1] ^= 0x01;
        assert!(OspfPacket::parse(&bad).is_err());
        // The authentication field is outside the checksum (§D.4.1).
        let mut other_password = bytes;
        other_password[16] ^= 0xff;
        assert!(OspfPacket::parse(&other_password).is_ok());
    }
}

#[test]
fn every_captured_lsa_checksum_verifies() {
    let mut seen = 0;
    for capture in ALL {
        if let OspfBody::LinkStateUpdate(lsas) = parse(capture).body {
            for lsa in lsas {
                assert!(lsa.checksum_ok(), "{:?}", lsa.header);
                let bytes = lsa.emit();
                assert!(fletcher::verify(&bytes));
                assert_eq!(fletcher::compute(&bytes), Ok(lsa.header.checksum));
                assert_eq!(Lsa::parse(&bytes).as_ref(), Ok(&lsa));
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 1 + 2 + 1 + 3 + 2);
}

// ------------------------------------------------------------ Hello

#[test]
fn hellos_decode_as_tshark_shows_them() {
    let p = parse(HELLO_EMPTY);
    assert_eq!(p.router_id, a("1.1.1.1"));
    assert_eq!(p.area_id, a("0.0.0.0"));
    assert_eq!(p.auth, OspfAuth::Null);
    assert_eq!(p.packet_len(), 44);
    let OspfBody::Hello(h) = p.body else {
        panic!("a Hello: {p:?}")
    };
    assert_eq!(h.network_mask, a("255.255.255.252"));
    assert_eq!(h.hello_interval, 2);
    assert_eq!(h.options, Options(0x02));
    assert!(h.options.external());
    assert_eq!(h.priority, 1);
    assert_eq!(h.dead_interval, 8);
    assert_eq!((h.dr, h.bdr), (a("0.0.0.0"), a("0.0.0.0")));
    assert!(h.neighbors.is_empty());

    let OspfBody::Hello(h) = parse(HELLO_SEEN).body else {
        panic!("a Hello")
    };
    assert_eq!(h.neighbors, vec![a("2.2.2.2")]);

    let p = parse(HELLO_ELECTED);
    assert_eq!(p.router_id, a("2.2.2.2"));
    let OspfBody::Hello(h) = p.body else {
        panic!("a Hello")
    };
    assert_eq!(h.dr, a("10.99.0.2"));
    assert_eq!(h.bdr, a("10.99.0.1"));
    assert_eq!(h.neighbors, vec![a("1.1.1.1")]);
}

// ------------------------------------------------------------ DD

#[test]
fn database_descriptions_decode_as_tshark_shows_them() {
    let p = parse(DD_FIRST);
    assert_eq!(p.body.packet_type(), 2);
    let OspfBody::DatabaseDescription(dd) = p.body else {
        panic!("a DD packet")
    };
    assert_eq!(dd.mtu, 1500);
    assert_eq!(dd.options, Options(0x02));
    // "DB Description: 0x07, (I) Init, (M) More, (MS) Master".
    assert_eq!(dd.flags, DdFlags(0x07));
    assert!(dd.flags.init() && dd.flags.more() && dd.flags.master());
    assert_eq!(dd.flags, DdFlags::new(true, true, true));
    assert_eq!(dd.sequence, 155_163_572);
    assert!(dd.lsa_headers.is_empty());

    let OspfBody::DatabaseDescription(dd) = parse(DD_HEADERS).body else {
        panic!("a DD packet")
    };
    assert_eq!(dd.flags, DdFlags(0x00));
    assert_eq!(dd.sequence, 155_163_572);
    assert_eq!(
        dd.lsa_headers,
        vec![LsaHeader {
            age: 0,
            options: Options(0x02),
            ls_type: LsType::Router,
            id: a("1.1.1.1"),
            adv_router: a("1.1.1.1"),
            seq: 0x8000_0004,
            checksum: 0xf1cf,
            length: 60,
        }]
    );
}

// ------------------------------------------------------------ LSR, LSAck

#[test]
fn a_link_state_request_decodes_as_tshark_shows_it() {
    let p = parse(LSR);
    assert_eq!(p.router_id, a("2.2.2.2"));
    assert_eq!(
        p.body,
        OspfBody::LinkStateRequest(vec![LsaKey {
            ls_type: LsType::Router,
            id: a("1.1.1.1"),
            adv_router: a("1.1.1.1"),
        }])
    );
}

#[test]
fn an_acknowledgment_decodes_as_tshark_shows_it() {
    let OspfBody::LinkStateAck(headers) = parse(LSACK).body else {
        panic!("an LSAck")
    };
    let summary: Vec<_> = headers
        .iter()
        .map(|h| {
            (
                h.age,
                h.ls_type,
                h.id,
                h.adv_router,
                h.seq,
                h.checksum,
                h.length,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                1,
                LsType::Router,
                a("2.2.2.2"),
                a("2.2.2.2"),
                0x8000_0004,
                0xacff,
                60
            ),
            (
                1,
                LsType::Network,
                a("10.99.0.2"),
                a("2.2.2.2"),
                0x8000_0001,
                0x7a5f,
                32
            ),
        ]
    );
}

// ------------------------------------------------------------ LSU

fn stub(id: &str, mask: &str, metric: u16) -> RouterLink {
    RouterLink {
        link_id: a(id),
        link_data: a(mask),
        link_type: LinkType::Stub,
        metric,
        tos: Vec::new(),
    }
}

#[test]
fn a_router_lsa_with_stub_links_decodes_as_tshark_shows_it() {
    let OspfBody::LinkStateUpdate(lsas) = parse(LSU_OWN).body else {
        panic!("an LSU")
    };
    let [lsa] = lsas.as_slice() else {
        panic!("one LSA: {lsas:?}")
    };
    assert_eq!(lsa.header.age, 1);
    assert_eq!(lsa.header.key().adv_router, a("1.1.1.1"));
    assert_eq!(lsa.header.seq, 0x8000_0004);
    assert_eq!((lsa.header.checksum, lsa.header.length), (0xf1cf, 60));
    let LsaBody::Router(router) = &lsa.body else {
        panic!("a Router-LSA body")
    };
    assert_eq!(router.flags, 0);
    assert_eq!(
        router.links,
        vec![
            stub("10.99.1.0", "255.255.255.0", 10),
            stub("10.99.11.1", "255.255.255.255", 0),
            stub("10.99.0.0", "255.255.255.252", 10),
        ]
    );
}

#[test]
fn the_drs_update_carries_a_transit_link_and_the_network_lsa() {
    let p = parse(LSU_DR);
    assert_eq!(p.router_id, a("2.2.2.2"));
    let OspfBody::LinkStateUpdate(lsas) = p.body else {
        panic!("an LSU")
    };
    assert_eq!(lsas.len(), 2);
    assert_eq!(lsas[0].header.seq, 0x8000_0005);
    assert_eq!(lsas[0].header.checksum, 0xdf58);
    let LsaBody::Router(router) = &lsas[0].body else {
        panic!("a Router-LSA body")
    };
    assert_eq!(
        router.links[2],
        RouterLink {
            link_id: a("10.99.0.2"),
            link_data: a("10.99.0.2"),
            link_type: LinkType::Transit,
            metric: 10,
            tos: Vec::new(),
        }
    );
    let network = &lsas[1];
    assert_eq!(network.header.ls_type, LsType::Network);
    assert_eq!(network.header.id, a("10.99.0.2"));
    assert_eq!(network.header.adv_router, a("2.2.2.2"));
    assert_eq!(network.header.seq, ospf::INITIAL_SEQUENCE);
    assert_eq!(
        (network.header.checksum, network.header.length),
        (0x7a5f, 32)
    );
    assert_eq!(
        network.body,
        LsaBody::Network(NetworkLsa {
            mask: a("255.255.255.252"),
            routers: vec![a("1.1.1.1"), a("2.2.2.2")],
        })
    );
}

#[test]
fn a_flushed_lsa_has_max_age_and_still_verifies() {
    let OspfBody::LinkStateUpdate(lsas) = parse(LSU_FLUSH).body else {
        panic!("an LSU")
    };
    let [lsa] = lsas.as_slice() else {
        panic!("one LSA")
    };
    assert_eq!(lsa.header.age, ospf::MAX_AGE);
    assert_eq!(
        lsa.header.checksum, 0x7a5f,
        "the checksum of the age-1 copy"
    );
    assert!(lsa.checksum_ok());
}

#[test]
fn a_point_to_point_link_names_the_neighbour() {
    let OspfBody::LinkStateUpdate(lsas) = parse(LSU_P2P).body else {
        panic!("an LSU")
    };
    assert_eq!(lsas[1].header.length, 72);
    assert_eq!(lsas[1].header.checksum, 0x59c7);
    let LsaBody::Router(router) = &lsas[1].body else {
        panic!("a Router-LSA body")
    };
    assert_eq!(router.links.len(), 4);
    assert_eq!(
        router.links[2],
        RouterLink {
            link_id: a("1.1.1.1"),
            link_data: a("10.99.0.2"),
            link_type: LinkType::PointToPoint,
            metric: 10,
            tos: Vec::new(),
        }
    );
    assert_eq!(router.links[3], stub("10.99.0.0", "255.255.255.252", 10));
}

// ------------------------------------------------------------ authentication

#[test]
fn a_simple_password_is_read_from_the_header() {
    let p = parse(HELLO_SIMPLE);
    // "Auth Type: Simple password (1)", "Auth Data (Simple): vnetlab".
    assert_eq!(p.auth, OspfAuth::simple("vnetlab"));
    assert_eq!(p.auth.au_type(), ospf::AUTH_SIMPLE);
}

#[test]
fn a_message_digest_follows_the_packet() {
    let bytes = hex(HELLO_MD5);
    let p = OspfPacket::parse(&bytes).unwrap();
    assert_eq!(p.packet_len(), 48);
    assert_eq!(bytes.len(), 48 + 16);
    assert_eq!(
        p.auth,
        OspfAuth::Cryptographic {
            key_id: 1,
            seq: 1_796_315_892,
            digest: hex("711580833619525d3bed8731231a799c"),
        }
    );
    let OspfBody::Hello(h) = &p.body else {
        panic!("a Hello")
    };
    assert_eq!(h.neighbors, vec![a("2.2.2.2")]);
    // Without its digest the packet is cut short.
    assert!(OspfPacket::parse(&bytes[..60]).is_err());

    let p = parse(LSU_MD5);
    assert_eq!(p.packet_len(), 180);
    let OspfAuth::Cryptographic { seq, digest, .. } = &p.auth else {
        panic!("cryptographic")
    };
    assert_eq!(*seq, 1_796_315_902);
    assert_eq!(digest, &hex("d54ac752740005e78826a0e8a5733b0d"));
    let OspfBody::LinkStateUpdate(lsas) = p.body else {
        panic!("an LSU")
    };
    let checksums: Vec<u16> = lsas.iter().map(|l| l.header.checksum).collect();
    assert_eq!(checksums, vec![0xacff, 0xdf58, 0x7a5f]);
}

#[test]
fn the_protocol_constants() {
    assert_eq!(ospf::IP_PROTOCOL, 89);
    assert_eq!(ospf::ALL_SPF_ROUTERS, a("224.0.0.5"));
    assert_eq!(ospf::ALL_D_ROUTERS, a("224.0.0.6"));
    assert_eq!(
        (ospf::LS_REFRESH_TIME, ospf::MAX_AGE, ospf::MAX_AGE_DIFF),
        (1800, 3600, 900)
    );
    assert_eq!(ospf::INITIAL_SEQUENCE as i32, -0x7fff_ffff);
}
