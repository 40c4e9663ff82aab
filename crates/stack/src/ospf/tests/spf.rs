//! The shortest-path calculation (§16.1) over hand-built databases, and
//! routes that follow the topology in the simulator.

use super::*;
use crate::ospf::spf::{Attachment, shortest_paths};
use vnet_wire::ospf::{
    INITIAL_SEQUENCE, LinkType, LsType, Lsa, LsaBody, LsaHeader, NetworkLsa, Options, RouterLink,
    RouterLsa,
};

fn header(ls_type: LsType, id: &str, adv: &str) -> LsaHeader {
    LsaHeader {
        age: 1,
        options: Options(Options::E),
        ls_type,
        id: addr(id),
        adv_router: addr(adv),
        seq: INITIAL_SEQUENCE,
        checksum: 0,
        length: 0,
    }
}

fn l(t: LinkType, id: &str, data: &str, metric: u16) -> RouterLink {
    RouterLink {
        link_id: addr(id),
        link_data: addr(data),
        link_type: t,
        metric,
        tos: Vec::new(),
    }
}

fn router(id: &str, links: Vec<RouterLink>) -> Lsa {
    Lsa::new(
        header(LsType::Router, id, id),
        LsaBody::Router(RouterLsa { flags: 0, links }),
    )
}

fn network(dr_addr: &str, adv: &str, mask: &str, routers: &[&str]) -> Lsa {
    Lsa::new(
        header(LsType::Network, dr_addr, adv),
        LsaBody::Network(NetworkLsa {
            mask: addr(mask),
            routers: routers.iter().map(|r| addr(r)).collect(),
        }),
    )
}

/// A route as (destination, cost, [(port, gateway)]).
type Row = (String, u32, Vec<(usize, Option<Ipv4Addr>)>);

fn table(routes: &BTreeMap<Ipv4Cidr, OspfRoute>) -> Vec<Row> {
    routes
        .values()
        .map(|r| {
            (
                r.destination.to_string(),
                r.cost,
                r.next_hops.iter().map(|h| (h.port, h.via)).collect(),
            )
        })
        .collect()
}

use LinkType::{PointToPoint as P2p, Stub, Transit};

/// A ring of four routers on point-to-point links with unequal costs:
///
/// ```text
///         cost 1          cost 2
///   R1 ───────────── R2 ───────────── R3
///    │ 4 (R1 side)                     │ 3
///    │ 1 (R4 side)                     │
///   R4 ────────────────────────────────┘
/// ```
///
/// R1 .1 on 10.0.12.0/30 (port 0) and .2 on 10.0.41.0/30 (port 1); each
/// Rk has the stub 10.k.0.0/24 at cost 1 (R1's on port 2).
fn ring() -> Vec<Lsa> {
    vec![
        router(
            "1.1.1.1",
            vec![
                l(P2p, "2.2.2.2", "10.0.12.1", 1),
                l(Stub, "10.0.12.0", "255.255.255.252", 1),
                l(P2p, "4.4.4.4", "10.0.41.2", 4),
                l(Stub, "10.0.41.0", "255.255.255.252", 4),
                l(Stub, "10.1.0.0", "255.255.255.0", 1),
            ],
        ),
        router(
            "2.2.2.2",
            vec![
                l(P2p, "1.1.1.1", "10.0.12.2", 1),
                l(Stub, "10.0.12.0", "255.255.255.252", 1),
                l(P2p, "3.3.3.3", "10.0.23.1", 2),
                l(Stub, "10.0.23.0", "255.255.255.252", 2),
                l(Stub, "10.2.0.0", "255.255.255.0", 1),
            ],
        ),
        router(
            "3.3.3.3",
            vec![
                l(P2p, "2.2.2.2", "10.0.23.2", 2),
                l(Stub, "10.0.23.0", "255.255.255.252", 2),
                l(P2p, "4.4.4.4", "10.0.34.1", 3),
                l(Stub, "10.0.34.0", "255.255.255.252", 3),
                l(Stub, "10.3.0.0", "255.255.255.0", 1),
            ],
        ),
        router(
            "4.4.4.4",
            vec![
                l(P2p, "3.3.3.3", "10.0.34.2", 3),
                l(Stub, "10.0.34.0", "255.255.255.252", 3),
                l(P2p, "1.1.1.1", "10.0.41.1", 1),
                l(Stub, "10.0.41.0", "255.255.255.252", 1),
                l(Stub, "10.4.0.0", "255.255.255.0", 1),
            ],
        ),
    ]
}

fn r1_interfaces() -> Vec<Attachment> {
    vec![
        Attachment {
            port: 0,
            address: cidr("10.0.12.1/30"),
        },
        Attachment {
            port: 1,
            address: cidr("10.0.41.2/30"),
        },
        Attachment {
            port: 2,
            address: cidr("10.1.0.1/24"),
        },
    ]
}

#[test]
fn a_ring_of_four_gives_the_hand_computed_table() {
    let routes = shortest_paths(addr("1.1.1.1"), &ring(), &r1_interfaces());
    let via_r2 = vec![(0, Some(addr("10.0.12.2")))];
    let via_r4 = vec![(1, Some(addr("10.0.41.1")))];
    // D(R2) = 1; D(R3) = 1 + 2 = 3 (not 4 + 3); D(R4) = 4 (not 1+2+3).
    let expected = vec![
        ("10.0.12.0/30".to_string(), 1, vec![(0, None)]),
        ("10.0.23.0/30".to_string(), 3, via_r2.clone()), // R2's stub: 1 + 2
        ("10.0.34.0/30".to_string(), 6, via_r2.clone()), // R3's: 3 + 3 (R4's: 4 + 3)
        ("10.0.41.0/30".to_string(), 4, vec![(1, None)]),
        ("10.1.0.0/24".to_string(), 1, vec![(2, None)]),
        ("10.2.0.0/24".to_string(), 2, via_r2.clone()),
        ("10.3.0.0/24".to_string(), 4, via_r2),
        ("10.4.0.0/24".to_string(), 5, via_r4),
    ];
    assert_eq!(table(&routes), expected);
}

#[test]
fn links_without_a_link_back_and_max_age_lsas_are_not_used() {
    let mut lsas = ring();
    // R4 no longer lists R1: the R1–R4 link is gone both ways (§16.1
    // step 2(b)), and R4 is reached the long way round.
    if let LsaBody::Router(r) = &mut lsas[3].body {
        r.links.retain(|l| l.link_id != addr("1.1.1.1"));
    }
    let routes = shortest_paths(addr("1.1.1.1"), &lsas, &r1_interfaces());
    let r4 = &routes[&cidr("10.4.0.0/24")];
    assert_eq!(r4.cost, 1 + 2 + 3 + 1);
    assert_eq!(r4.gateway(), Some((0, addr("10.0.12.2"))));
    // R3's LSA at MaxAge: R3 and everything behind it are unreachable.
    lsas[2].header.age = ospf::MAX_AGE;
    let routes = shortest_paths(addr("1.1.1.1"), &lsas, &r1_interfaces());
    assert!(!routes.contains_key(&cidr("10.3.0.0/24")));
    assert!(!routes.contains_key(&cidr("10.4.0.0/24")));
    assert!(routes.contains_key(&cidr("10.2.0.0/24")));
}

/// R1, R2 and R3 on the LAN 10.0.0.0/24 (DR: R3, 10.0.0.3); R2 and R3
/// both reach R4 over point-to-point links of cost 5: two equal-cost next
/// hops across the LAN (§16.1.1, a network next to the root).
#[test]
fn a_transit_network_gives_next_hops_on_the_lan_and_equal_costs_merge() {
    let lsas = vec![
        router("1.1.1.1", vec![l(Transit, "10.0.0.3", "10.0.0.1", 10)]),
        router(
            "2.2.2.2",
            vec![
                l(Transit, "10.0.0.3", "10.0.0.2", 10),
                l(P2p, "4.4.4.4", "10.0.24.1", 5),
            ],
        ),
        router(
            "3.3.3.3",
            vec![
                l(Transit, "10.0.0.3", "10.0.0.3", 10),
                l(P2p, "4.4.4.4", "10.0.34.1", 5),
            ],
        ),
        router(
            "4.4.4.4",
            vec![
                l(P2p, "2.2.2.2", "10.0.24.2", 5),
                l(P2p, "3.3.3.3", "10.0.34.2", 5),
                l(Stub, "10.4.0.0", "255.255.255.0", 1),
            ],
        ),
        network(
            "10.0.0.3",
            "3.3.3.3",
            "255.255.255.0",
            &["3.3.3.3", "1.1.1.1", "2.2.2.2"],
        ),
    ];
    let attached = [Attachment {
        port: 7,
        address: cidr("10.0.0.1/24"),
    }];
    let routes = shortest_paths(addr("1.1.1.1"), &lsas, &attached);
    assert_eq!(
        table(&routes),
        vec![
            ("10.0.0.0/24".to_string(), 10, vec![(7, None)]),
            (
                "10.4.0.0/24".to_string(),
                10 + 5 + 1,
                vec![(7, Some(addr("10.0.0.2"))), (7, Some(addr("10.0.0.3")))]
            ),
        ]
    );
}

/// The same ring, run: routes follow the costs, and when the R1–R2 link
/// goes silent the dead interval takes it down and traffic goes round.
fn running_ring() -> Net {
    let costs = [1u16, 2, 3, 4];
    let mut configs = Vec::new();
    // Segment k joins router k (port 1, .1) and router k+1 (port 0, .2).
    for k in 0..4u8 {
        let prev = (k + 3) % 4;
        let mut west = iface(0, &format!("10.1.{prev}.2/30"));
        west.cost = costs[usize::from(prev)];
        west.network = NetworkType::PointToPoint;
        let mut east = iface(1, &format!("10.1.{k}.1/30"));
        east.cost = costs[usize::from(k)];
        east.network = NetworkType::PointToPoint;
        let rid = format!("{0}.{0}.{0}.{0}", k + 1);
        configs.push(config(
            &rid,
            vec![west, east, stub(2, &format!("10.2.{k}.1/24"))],
        ));
    }
    let segments = (0..4).map(|k| vec![(k, 1), ((k + 1) % 4, 0)]).collect();
    Net::new(configs, segments)
}

#[test]
fn a_ring_converges_and_reroutes_after_the_dead_interval() {
    let mut net = running_ring();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(6); // MinLSInterval holds the Router-LSAs with the links 5 s.
    // r0 → r2's stub: east via r1 (1 + 2) beats west via r3 (4 + 3).
    assert_eq!(
        net.route(0, "10.2.2.0/24"),
        Some((addr("10.1.0.2"), 1, 1 + 2 + 10))
    );
    assert_eq!(
        net.route(0, "10.2.1.0/24"),
        Some((addr("10.1.0.2"), 1, 1 + 10))
    );
    // The link r0–r1 goes silent: no Hello crosses it any more.
    net.silent.insert((0, 1));
    net.silent.insert((1, 0));
    net.run_for(3);
    assert!(net.route(0, "10.2.1.0/24").is_some(), "not dead yet");
    let took = net
        .run_until_true(3, |n| {
            n.route(0, "10.2.1.0/24").map(|r| r.0) == Some(addr("10.1.3.1"))
        })
        .expect("rerouted");
    assert!(took <= Duration::from_secs(2));
    // West round the ring: r0 → r3 (4) → r2 (3) → r1 (2), + 10.
    assert_eq!(
        net.route(0, "10.2.1.0/24"),
        Some((addr("10.1.3.1"), 0, 4 + 3 + 2 + 10))
    );
    assert_eq!(
        net.route(1, "10.2.0.0/24").map(|r| r.0),
        Some(addr("10.1.1.2"))
    );
    // The link comes back: the short way again.
    net.silent.clear();
    net.run_until_true(10, |n| n.route(0, "10.2.1.0/24").map(|r| r.2) == Some(11))
        .expect("back");
}

#[test]
fn an_interface_going_down_withdraws_its_network_everywhere() {
    let mut net = running_ring();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(6);
    assert!(net.route(0, "10.2.2.0/24").is_some());
    net.link(2, 2, false); // r2's stub network
    net.run_for(6); // MinLSInterval may hold the new Router-LSA 5 s.
    for r in [0, 1, 3] {
        assert_eq!(net.route(r, "10.2.2.0/24"), None, "router {r}");
    }
    net.link(2, 2, true);
    net.run_for(6);
    assert_eq!(net.route(0, "10.2.2.0/24").map(|r| r.2), Some(13));
}

/// FRR's database and FRR's routing table as the oracle: the three LSAs
/// ospfd 8.4 held at the end of the broadcast run of
/// `crates/wire/tests/ospf_frr.rs` (1.1.1.1's Router-LSA 0x80000006,
/// 2.2.2.2's 0x80000005, 2.2.2.2's Network-LSA; captured in LS Updates),
/// and `show ip ospf route` on 1.1.1.1 (va 10.99.0.1/30, d0
/// 10.99.1.1/24, lo 10.99.11.1/32):
///
/// ```text
/// N    10.99.0.0/30          [10] area: 0.0.0.0  directly attached to va
/// N    10.99.1.0/24          [10] area: 0.0.0.0  directly attached to d0
/// N    10.99.2.0/24          [20] area: 0.0.0.0  via 10.99.0.2, va
/// N    10.99.11.1/32         [0] area: 0.0.0.0   directly attached to lo
/// N    10.99.22.2/32         [10] area: 0.0.0.0  via 10.99.0.2, va
/// ```
#[test]
fn frrs_database_gives_frrs_routing_table() {
    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    let lsas: Vec<Lsa> = [
        "00010201010101010101010180000006fc50003c000000030a630100ffffff000300000a0a630b01ffffffff030000000a6300020a6300010200000a",
        "00010201020202020202020280000005df58003c000000030a630200ffffff000300000a0a631602ffffffff030000000a6300020a6300020200000a",
        "000102020a63000202020202800000017a5f0020fffffffc0101010102020202",
    ]
    .iter()
    .map(|h| Lsa::parse(&hex(h)).unwrap())
    .collect();
    assert!(lsas.iter().all(Lsa::checksum_ok));
    let attached = [
        Attachment {
            port: 0,
            address: cidr("10.99.0.1/30"),
        },
        Attachment {
            port: 1,
            address: cidr("10.99.1.1/24"),
        },
        Attachment {
            port: 2,
            address: cidr("10.99.11.1/32"),
        },
    ];
    let routes = shortest_paths(addr("1.1.1.1"), &lsas, &attached);
    let via = vec![(0, Some(addr("10.99.0.2")))];
    assert_eq!(
        table(&routes),
        vec![
            ("10.99.0.0/30".to_string(), 10, vec![(0, None)]),
            ("10.99.1.0/24".to_string(), 10, vec![(1, None)]),
            ("10.99.2.0/24".to_string(), 20, via.clone()),
            ("10.99.11.1/32".to_string(), 0, vec![(2, None)]),
            ("10.99.22.2/32".to_string(), 10, via),
        ]
    );
}
