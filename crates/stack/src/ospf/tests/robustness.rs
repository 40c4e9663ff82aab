//! Whatever a neighbour sends, OSPF neither panics nor spins: random
//! packets from a Full neighbour, in any order, at any time.

use super::*;
use proptest::prelude::*;
use vnet_wire::ospf::{
    DatabaseDescription, DdFlags, Hello, LinkType, LsType, Lsa, LsaBody, LsaHeader, LsaKey,
    NetworkLsa, Options, OspfAuth, OspfBody, OspfPacket, RouterLink, RouterLsa,
};

/// Addresses from a small pool, so that packets name real routers,
/// networks and LSAs often.
fn addr_pool() -> impl Strategy<Value = Ipv4Addr> {
    prop_oneof![
        Just(addr("1.1.1.1")),
        Just(addr("2.2.2.2")),
        Just(addr("10.99.0.1")),
        Just(addr("10.99.0.2")),
        Just(addr("0.0.0.0")),
        any::<u32>().prop_map(Ipv4Addr::from),
    ]
}

fn header() -> impl Strategy<Value = LsaHeader> {
    (
        prop_oneof![Just(0u16), Just(ospf::MAX_AGE), any::<u16>()],
        1u8..=6,
        addr_pool(),
        addr_pool(),
        prop_oneof![Just(ospf::INITIAL_SEQUENCE), any::<u32>()],
        any::<u16>(),
    )
        .prop_map(|(age, t, id, adv_router, seq, checksum)| LsaHeader {
            age,
            options: Options(Options::E),
            ls_type: LsType::from(t),
            id,
            adv_router,
            seq,
            checksum,
            length: 20,
        })
}

fn lsa() -> impl Strategy<Value = Lsa> {
    let link =
        (addr_pool(), addr_pool(), 1u8..=4, any::<u16>()).prop_map(|(id, data, t, m)| RouterLink {
            link_id: id,
            link_data: data,
            link_type: LinkType::from(t),
            metric: m,
            tos: Vec::new(),
        });
    (
        header(),
        proptest::collection::vec(link, 0..4),
        proptest::collection::vec(addr_pool(), 0..3),
        any::<bool>(),
    )
        .prop_map(|(mut h, links, routers, corrupt)| {
            let body = match h.ls_type {
                LsType::Router => LsaBody::Router(RouterLsa { flags: 0, links }),
                LsType::Network => LsaBody::Network(NetworkLsa {
                    mask: addr("255.255.255.252"),
                    routers,
                }),
                _ => LsaBody::Raw(vec![0; 4]),
            };
            if h.ls_type == LsType::Router {
                h.id = h.adv_router;
            }
            let mut lsa = Lsa::new(h, body);
            if corrupt {
                lsa.header.checksum ^= 1;
            }
            lsa
        })
}

fn body() -> impl Strategy<Value = OspfBody> {
    let hello = (
        any::<u8>(),
        addr_pool(),
        addr_pool(),
        proptest::collection::vec(addr_pool(), 0..3),
    )
        .prop_map(|(priority, dr, bdr, neighbors)| {
            OspfBody::Hello(Hello {
                network_mask: addr("255.255.255.252"),
                hello_interval: 1,
                options: Options(Options::E),
                priority,
                dead_interval: 4,
                dr,
                bdr,
                neighbors,
            })
        });
    let dd = (
        any::<u8>(),
        prop_oneof![Just(0u32), any::<u32>()],
        proptest::collection::vec(header(), 0..3),
        1400u16..1600,
    )
        .prop_map(|(flags, sequence, lsa_headers, mtu)| {
            OspfBody::DatabaseDescription(DatabaseDescription {
                mtu,
                options: Options(Options::E),
                flags: DdFlags(flags & 7),
                sequence,
                lsa_headers,
            })
        });
    let lsr = proptest::collection::vec(header(), 0..3).prop_map(|h| {
        OspfBody::LinkStateRequest(h.iter().map(LsaHeader::key).collect::<Vec<LsaKey>>())
    });
    let lsu = proptest::collection::vec(lsa(), 0..3).prop_map(OspfBody::LinkStateUpdate);
    let ack = proptest::collection::vec(header(), 0..3).prop_map(OspfBody::LinkStateAck);
    prop_oneof![hello, dd, lsr, lsu, ack]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_packets_from_a_neighbour_never_break_ospf(
        steps in proptest::collection::vec((body(), 0u64..3000, any::<bool>()), 1..30),
    ) {
        let mut net = Net::new(
            vec![
                config("1.1.1.1", vec![iface(0, "10.99.0.1/30"), stub(1, "10.99.1.1/24")]),
                config("2.2.2.2", vec![iface(0, "10.99.0.2/30"), stub(1, "10.99.2.1/24")]),
            ],
            vec![vec![(0, 0), (1, 0)]],
        );
        net.run_for(10);
        for (body, millis, multicast) in steps {
            let packet = OspfPacket {
                router_id: addr("2.2.2.2"),
                area_id: Ipv4Addr::UNSPECIFIED,
                auth: OspfAuth::Null,
                body,
            };
            let to = if multicast { ospf::ALL_SPF_ROUTERS } else { addr("10.99.0.1") };
            let mut actions = OspfActions::default();
            let now = net.now;
            net.routers[0].receive(now, 0, addr("10.99.0.2"), to, &packet.emit(), &mut actions);
            net.settle(VecDeque::from([(0, actions)]));
            // The timers run on (`run_until` fails on a timer that never
            // moves forward).
            net.run_for(millis / 1000);
            let next = net.routers[0].poll_at();
            prop_assert!(next.is_some_and(|t| t >= net.now), "{next:?} at {}", net.now);
        }
        // And the two still (or again) agree in the end.
        net.run_for(60);
        prop_assert!(net.converged());
    }
}
