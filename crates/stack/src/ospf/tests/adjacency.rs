//! Hellos, the DR election and the neighbour state machine up to Full.

use super::*;
use vnet_wire::ospf::{LsType, OspfBody, OspfPacket};

/// A (1.1.1.1) and B (2.2.2.2) on 10.99.0.0/30, each with a stub network:
/// the lab of the FRR captures in `crates/wire/tests/ospf_frr.rs`.
fn pair(network: NetworkType, lab_timers: bool) -> Net {
    let mk = |port, a: &str| {
        let mut i = if lab_timers {
            iface(port, a)
        } else {
            OspfInterface::new(port, cidr(a))
        };
        i.network = network;
        i
    };
    Net::new(
        vec![
            config(
                "1.1.1.1",
                vec![mk(0, "10.99.0.1/30"), stub(1, "10.99.1.1/24")],
            ),
            config(
                "2.2.2.2",
                vec![mk(0, "10.99.0.2/30"), stub(1, "10.99.2.1/24")],
            ),
        ],
        vec![vec![(0, 0), (1, 0)]],
    )
}

#[test]
fn two_routers_reach_full_on_a_broadcast_network_with_rfc_timers() {
    let mut net = pair(NetworkType::Broadcast, false);
    // The first Hellos cross at 0 s, each listing nobody: Init.
    assert_eq!(net.state(0, "2.2.2.2"), Some(NeighbourState::Init));
    net.run_for(11);
    assert_eq!(net.state(0, "2.2.2.2"), Some(NeighbourState::TwoWay));
    assert_eq!(
        net.routers[0].interfaces()[0].state,
        InterfaceState::Waiting
    );
    // The wait timer is RouterDeadInterval (40 s); then the election,
    // ExStart, Exchange, Loading and Full follow at once.
    net.run_for(28);
    assert_eq!(net.state(0, "2.2.2.2"), Some(NeighbourState::TwoWay));
    net.run_for(1);
    assert_eq!(net.now, Instant::from_secs(40));
    assert_eq!(net.state(0, "2.2.2.2"), Some(NeighbourState::Full));
    assert_eq!(net.state(1, "1.1.1.1"), Some(NeighbourState::Full));
    let a = &net.routers[0].interfaces()[0];
    assert_eq!((a.dr, a.bdr), (addr("10.99.0.2"), addr("10.99.0.1")));
    assert_eq!(a.state, InterfaceState::Backup);
    assert_eq!(net.routers[1].interfaces()[0].state, InterfaceState::Dr);
    // Two Router-LSAs and B's Network-LSA, the same on both.
    net.run_for(6);
    let headers = net.routers[0].lsdb(net.now);
    let kinds: Vec<(LsType, Ipv4Addr)> = headers.iter().map(|h| (h.ls_type, h.id)).collect();
    assert_eq!(
        kinds,
        vec![
            (LsType::Router, addr("1.1.1.1")),
            (LsType::Router, addr("2.2.2.2")),
            (LsType::Network, addr("10.99.0.2")),
        ]
    );
    let same = |h: &Vec<vnet_wire::ospf::LsaHeader>| -> Vec<(u32, u16)> {
        h.iter().map(|h| (h.seq, h.checksum)).collect()
    };
    assert_eq!(same(&headers), same(&net.routers[1].lsdb(net.now)));
    // Every packet type went by.
    assert_eq!(net.kinds_sent(0), BTreeSet::from([1, 2, 3, 4, 5]));
    assert_eq!(
        net.route(0, "10.99.2.0/24"),
        Some((addr("10.99.0.2"), 0, 20)),
        "B's stub network: cost 10 to the LAN, 10 beyond"
    );
    assert_eq!(
        net.route(1, "10.99.1.0/24"),
        Some((addr("10.99.0.1"), 0, 20))
    );
    assert_eq!(net.route(0, "10.99.0.0/30"), None, "directly attached");
    let own = net.routers[0]
        .routes()
        .find(|r| r.destination == cidr("10.99.0.0/30"))
        .unwrap();
    assert_eq!(own.next_hops, vec![NextHop { port: 0, via: None }]);
}

#[test]
fn the_database_exchange_follows_rfc_2328_section_10_8() {
    let mut net = pair(NetworkType::Broadcast, true);
    net.run_for(6);
    assert!(net.converged());
    // B (the higher router ID) is master: its DD packets carry MS, and A
    // answers each with B's sequence number.
    let dds: Vec<(usize, DatabaseDescriptionSummary)> = net
        .sent
        .iter()
        .filter_map(
            |(_, r, o, _)| match OspfPacket::parse(&o.packet).ok()?.body {
                OspfBody::DatabaseDescription(d) => Some((
                    *r,
                    (
                        d.flags.init(),
                        d.flags.more(),
                        d.flags.master(),
                        d.sequence,
                        d.lsa_headers.len(),
                    ),
                )),
                _ => None,
            },
        )
        .collect();
    let (_, first_b) = dds.iter().find(|(r, _)| *r == 1).unwrap();
    assert_eq!(
        (first_b.0, first_b.1, first_b.2),
        (true, true, true),
        "I, M, MS"
    );
    let seq = first_b.3;
    let a_answers: Vec<_> = dds.iter().filter(|(r, d)| *r == 0 && !d.2).collect();
    assert!(!a_answers.is_empty(), "{dds:?}");
    assert_eq!(
        a_answers[0].1.3, seq,
        "the slave echoes the master's sequence"
    );
    assert!(a_answers[0].1.4 > 0, "with its LSA headers");
    let last = dds.last().unwrap().1;
    assert!(!last.1, "the exchange ends with M clear: {dds:?}");
    assert!(
        net.routers[0].counters().packets_out[2] >= 1,
        "A requested LSAs"
    );
}

type DatabaseDescriptionSummary = (bool, bool, bool, u32, usize);

#[test]
fn a_point_to_point_link_needs_no_election() {
    let mut net = pair(NetworkType::PointToPoint, true);
    let took = net.run_until_true(10, |n| n.converged()).expect("Full");
    assert!(took < Duration::from_secs(2), "no wait timer: {took:?}");
    let a = &net.routers[0].interfaces()[0];
    assert_eq!(a.state, InterfaceState::PointToPoint);
    assert_eq!(
        (a.dr, a.bdr),
        (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)
    );
    // Everything went to AllSPFRouters.
    assert!(
        net.sent
            .iter()
            .all(|(_, _, o, _)| o.to == ospf::ALL_SPF_ROUTERS)
    );
    // The Router-LSAs with the link wait out MinLSInterval (5 s) after
    // the first ones.
    net.run_for(6);
    let lsdb = net.routers[0].lsdb(net.now);
    assert!(
        lsdb.iter().all(|h| h.ls_type == LsType::Router),
        "no Network-LSA"
    );
    assert_eq!(
        net.route(0, "10.99.2.0/24"),
        Some((addr("10.99.0.2"), 0, 20))
    );
}

/// Four routers on one LAN: r1 priority 10, r2 and r3 priority 1, r4
/// priority 0.
fn lan(priorities: [u8; 4]) -> Net {
    let configs = (0..4)
        .map(|k| {
            let mut i = iface(0, &format!("10.0.0.{}/24", k + 1));
            i.priority = priorities[k];
            config(&format!("{0}.{0}.{0}.{0}", k + 1), vec![i])
        })
        .collect();
    Net::new(configs, vec![(0..4).map(|k| (k, 0)).collect()])
}

#[test]
fn the_election_picks_by_priority_then_router_id() {
    let mut net = lan([10, 1, 1, 0]);
    net.run_for(14);
    for r in 0..4 {
        let i = &net.routers[r].interfaces()[0];
        assert_eq!(
            (i.dr, i.bdr),
            (addr("10.0.0.1"), addr("10.0.0.3")),
            "router {r}: DR by priority, BDR by router ID among priority 1"
        );
    }
    let states: Vec<InterfaceState> = net
        .routers
        .iter()
        .map(|o| o.interfaces()[0].state)
        .collect();
    use InterfaceState::*;
    assert_eq!(states, vec![Dr, DrOther, Backup, DrOther]);
    assert!(net.converged());
    // DROthers are only 2-Way with each other (§10.4).
    assert_eq!(net.state(1, "4.4.4.4"), Some(NeighbourState::TwoWay));
    assert_eq!(net.state(1, "1.1.1.1"), Some(NeighbourState::Full));
    assert_eq!(net.state(3, "3.3.3.3"), Some(NeighbourState::Full));
    // The DR's Network-LSA lists everyone.
    let key = vnet_wire::ospf::LsaKey {
        ls_type: LsType::Network,
        id: addr("10.0.0.1"),
        adv_router: addr("1.1.1.1"),
    };
    let lsa = net.routers[3].lsa(&key, net.now).expect("Network-LSA");
    let vnet_wire::ospf::LsaBody::Network(n) = lsa.body else {
        panic!("{lsa:?}")
    };
    assert_eq!(n.routers.len(), 4);
}

#[test]
fn equal_priorities_elect_the_highest_router_ids() {
    let mut net = lan([1, 1, 1, 1]);
    net.run_for(8);
    let i = &net.routers[0].interfaces()[0];
    assert_eq!((i.dr, i.bdr), (addr("10.0.0.4"), addr("10.0.0.3")));
}

#[test]
fn a_higher_priority_newcomer_does_not_preempt_the_dr() {
    // r1 (priority 10) is off during the first election...
    let mut net = lan([10, 1, 1, 0]);
    net.stopped[0] = true;
    net.run_for(10);
    let i = &net.routers[1].interfaces()[0];
    assert_eq!((i.dr, i.bdr), (addr("10.0.0.3"), addr("10.0.0.2")));
    // ... then starts: in Waiting it hears a DR and a BDR (BackupSeen)
    // and accepts them (§9.4: "no preemption").
    let cfg = net.routers[0].config().clone();
    let mut actions = OspfActions::default();
    net.routers[0] = Ospf::new(cfg, net.now, &mut actions);
    net.stopped[0] = false;
    net.settle(VecDeque::from([(0, actions)]));
    net.run_for(10);
    for r in 0..4 {
        let i = &net.routers[r].interfaces()[0];
        assert_eq!(
            (i.dr, i.bdr),
            (addr("10.0.0.3"), addr("10.0.0.2")),
            "router {r}: the DR stays"
        );
    }
    assert_eq!(
        net.routers[0].interfaces()[0].state,
        InterfaceState::DrOther
    );
    assert!(net.converged());
}

#[test]
fn the_bdr_takes_over_when_the_dr_dies() {
    let mut net = lan([1, 1, 1, 1]);
    net.run_for(8);
    net.stopped[3] = true; // the DR, 4.4.4.4
    net.run_for(6);
    let i = &net.routers[0].interfaces()[0];
    assert_eq!((i.dr, i.bdr), (addr("10.0.0.3"), addr("10.0.0.2")));
    assert_eq!(net.routers[2].interfaces()[0].state, InterfaceState::Dr);
    assert_eq!(net.state(0, "4.4.4.4"), None, "dead and gone");
    assert_eq!(net.state(0, "3.3.3.3"), Some(NeighbourState::Full));
}

#[test]
fn mismatched_hello_parameters_make_no_neighbour() {
    let mut b = iface(0, "10.99.0.2/30");
    b.hello_interval = 2;
    let mut net = Net::new(
        vec![
            config("1.1.1.1", vec![iface(0, "10.99.0.1/30")]),
            config("2.2.2.2", vec![b]),
        ],
        vec![vec![(0, 0), (1, 0)]],
    );
    net.run_for(10);
    assert!(net.routers[0].neighbours(net.now).is_empty());
    assert!(net.routers[0].counters().bad_packets > 0);
}

#[test]
fn an_mtu_mismatch_stops_the_exchange() {
    let mut b = iface(0, "10.99.0.2/30");
    b.mtu = 1400;
    let mut net = Net::new(
        vec![
            config("1.1.1.1", vec![iface(0, "10.99.0.1/30")]),
            config("2.2.2.2", vec![b]),
        ],
        vec![vec![(0, 0), (1, 0)]],
    );
    net.run_for(20);
    // B refuses A's DD packets (MTU 1500 > 1400, §10.6).
    let state = net.state(1, "1.1.1.1").unwrap();
    assert!(state < NeighbourState::Full, "{state:?}");
    assert!(net.routers[1].counters().bad_packets > 0);
}

#[test]
fn a_password_is_required_when_configured() {
    let mut a = iface(0, "10.99.0.1/30");
    a.password = Some("vnetlab".into());
    let mut b = iface(0, "10.99.0.2/30");
    b.password = Some("other".into());
    let mut net = Net::new(
        vec![
            config("1.1.1.1", vec![a]),
            config("2.2.2.2", vec![b.clone()]),
        ],
        vec![vec![(0, 0), (1, 0)]],
    );
    net.run_for(6);
    assert!(net.routers[0].neighbours(net.now).is_empty());
    b.password = Some("vnetlab".into());
    let mut net = Net::new(
        vec![
            config(
                "1.1.1.1",
                vec![net.routers[0].config().interfaces[0].clone()],
            ),
            config("2.2.2.2", vec![b]),
        ],
        vec![vec![(0, 0), (1, 0)]],
    );
    net.run_for(6);
    assert!(net.converged());
}

/// FRR's Hellos from the captures (2.2.2.2, Hello 2 s, dead 8 s) move a
/// neighbour to Init, then to 2-Way once it lists us.
#[test]
fn frr_hellos_are_understood() {
    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    let mut i = OspfInterface::new(0, cidr("10.99.0.1/30"));
    i.hello_interval = 2;
    i.dead_interval = 8;
    let mut a = OspfActions::default();
    let mut ospf = Ospf::new(config("1.1.1.1", vec![i]), Instant::ZERO, &mut a);
    let first = hex(
        "0201002c0202020200000000f7c600000000000000000000fffffffc00020201000000080000000000000000",
    );
    let seen = hex(
        "020100300202020200000000e0f700000000000000000000fffffffc00020201000000080a6300020a63000101010101",
    );
    let now = Instant::from_secs(1);
    let from = addr("10.99.0.2");
    ospf.receive(now, 0, from, ospf::ALL_SPF_ROUTERS, &first, &mut a);
    let n = &ospf.neighbours(now)[0];
    assert_eq!(
        (n.router_id, n.state),
        (addr("2.2.2.2"), NeighbourState::Init)
    );
    ospf.receive(now, 0, from, ospf::ALL_SPF_ROUTERS, &seen, &mut a);
    let n = &ospf.neighbours(now)[0];
    assert_eq!(n.state, NeighbourState::TwoWay);
    assert_eq!(n.dead_in, Duration::from_secs(8));
    // It claims DR with us as BDR: not BackupSeen (that needs no BDR),
    // so we wait out the wait timer (8 s), then agree and form the
    // adjacency.
    assert_eq!(ospf.interfaces()[0].state, InterfaceState::Waiting);
    let later = Instant::from_secs(8);
    assert_eq!(
        ospf.poll_at(),
        Some(Instant::from_secs(2)),
        "the next Hello"
    );
    let mut a = OspfActions::default();
    ospf.poll(later, &mut a);
    assert_eq!(ospf.interfaces()[0].state, InterfaceState::Backup);
    assert_eq!(ospf.interfaces()[0].dr, from);
    assert_eq!(ospf.neighbours(later)[0].state, NeighbourState::ExStart);
    // Our first DD packet, unicast to it: I, M, MS.
    let dd = a
        .send
        .iter()
        .find_map(|o| match OspfPacket::parse(&o.packet).ok()?.body {
            OspfBody::DatabaseDescription(d) => Some((o.to, d)),
            _ => None,
        })
        .expect("a DD packet");
    assert_eq!(dd.0, from);
    assert_eq!(dd.1.flags.0, 0x07);
    assert_eq!(dd.1.mtu, 1500);
}

#[test]
fn three_routers_on_a_lan_elect_by_priority_then_router_id_and_reach_full() {
    // r2 (2.2.2.2) has priority 2: DR although r3 has the highest ID;
    // r3 is BDR (priority 1, higher ID than r1).
    let configs = (0..3)
        .map(|k| {
            let mut i = iface(0, &format!("10.0.0.{}/24", k + 1));
            i.priority = [1, 2, 1][k];
            let rid = format!("{0}.{0}.{0}.{0}", k + 1);
            config(&rid, vec![i, stub(1, &format!("10.{}.0.1/24", k + 1))])
        })
        .collect();
    let mut net = Net::new(configs, vec![(0..3).map(|k| (k, 0)).collect()]);
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    for r in 0..3 {
        let i = &net.routers[r].interfaces()[0];
        assert_eq!(
            (i.dr, i.bdr),
            (addr("10.0.0.2"), addr("10.0.0.3")),
            "router {r}"
        );
    }
    // With a DR and a BDR among three, everyone is adjacent to everyone.
    for r in 0..3 {
        assert!(
            net.routers[r]
                .neighbours(net.now)
                .iter()
                .all(|n| n.state == NeighbourState::Full)
        );
    }
    net.run_for(6);
    assert_eq!(net.route(0, "10.3.0.0/24"), Some((addr("10.0.0.3"), 0, 20)));
    assert_eq!(net.route(2, "10.1.0.0/24"), Some((addr("10.0.0.1"), 0, 20)));
    let views = net.routers[0].neighbours(net.now);
    let roles: Vec<(Ipv4Addr, &str)> = views.iter().map(|n| (n.router_id, n.role)).collect();
    assert_eq!(
        roles,
        vec![(addr("2.2.2.2"), "DR"), (addr("3.3.3.3"), "Backup")]
    );
    // After all that, the timers are in the future: the next Hello.
    let next = net.routers[0].poll_at().unwrap();
    assert!(next > net.now && next <= net.now + Duration::from_secs(1));
}
