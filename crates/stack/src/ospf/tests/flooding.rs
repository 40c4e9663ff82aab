//! Reliable flooding (§13): retransmission of lost LSAs, refresh, ageing
//! and flushing.

use super::*;
use vnet_wire::ospf::{LsType, LsaKey, OspfBody, OspfPacket};

/// A — B — C on two /30s (broadcast), each with a stub network.
fn line() -> Net {
    Net::new(
        vec![
            config(
                "1.1.1.1",
                vec![iface(0, "10.0.12.1/30"), stub(1, "10.0.1.1/24")],
            ),
            config(
                "2.2.2.2",
                vec![iface(0, "10.0.12.2/30"), iface(1, "10.0.23.1/30")],
            ),
            config(
                "3.3.3.3",
                vec![iface(0, "10.0.23.2/30"), stub(1, "10.0.3.1/24")],
            ),
        ],
        vec![vec![(0, 0), (1, 0)], vec![(1, 1), (2, 0)]],
    )
}

fn router_key(rid: &str) -> LsaKey {
    LsaKey {
        ls_type: LsType::Router,
        id: addr(rid),
        adv_router: addr(rid),
    }
}

fn is_update(o: &OspfOutput) -> bool {
    o.packet.get(1) == Some(&4)
}

fn seq_at(net: &Net, r: usize, rid: &str) -> Option<u32> {
    net.routers[r]
        .lsa(&router_key(rid), net.now)
        .map(|l| l.header.seq)
}

#[test]
fn a_line_of_three_synchronises_and_routes_end_to_end() {
    let mut net = line();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(1);
    let a = net.routers[0].lsdb(net.now);
    for r in 1..3 {
        let other = net.routers[r].lsdb(net.now);
        let ids = |h: &[vnet_wire::ospf::LsaHeader]| -> Vec<(LsaKey, u32)> {
            h.iter().map(|h| (h.key(), h.seq)).collect()
        };
        assert_eq!(ids(&a), ids(&other), "router {r} has the same database");
    }
    assert_eq!(a.len(), 3 + 2, "three Router-LSAs, two Network-LSAs");
    assert_eq!(
        net.route(0, "10.0.3.0/24"),
        Some((addr("10.0.12.2"), 0, 30))
    );
    assert_eq!(
        net.route(2, "10.0.1.0/24"),
        Some((addr("10.0.23.1"), 0, 30))
    );
    assert_eq!(
        net.route(0, "10.0.23.0/30"),
        Some((addr("10.0.12.2"), 0, 20))
    );
}

#[test]
fn a_lost_update_is_retransmitted_after_rxmt_interval() {
    let mut net = line();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(10);
    let before = seq_at(&net, 1, "3.3.3.3").unwrap();
    // C's stub goes down; C's first update towards B is lost.
    let lost = std::rc::Rc::new(std::cell::Cell::new(None));
    let record = lost.clone();
    net.drop = Some(Box::new(move |now, r, o| {
        let first = r == 2 && is_update(o) && record.get().is_none();
        if first {
            record.set(Some(now));
        }
        first
    }));
    net.link(2, 1, false);
    let t0 = net.now;
    assert_eq!(lost.get(), Some(t0), "the flood was dropped");
    assert_eq!(seq_at(&net, 2, "3.3.3.3"), Some(before + 1));
    assert_eq!(seq_at(&net, 1, "3.3.3.3"), Some(before), "B missed it");
    net.run_for(4);
    assert_eq!(
        seq_at(&net, 1, "3.3.3.3"),
        Some(before),
        "not before RxmtInterval"
    );
    net.run_for(1);
    assert_eq!(
        seq_at(&net, 1, "3.3.3.3"),
        Some(before + 1),
        "retransmitted at 5 s"
    );
    assert_eq!(
        seq_at(&net, 0, "3.3.3.3"),
        Some(before + 1),
        "and flooded on"
    );
    assert_eq!(net.routers[2].counters().retransmissions, 1);
    // The retransmission went to B directly, and B acknowledged it.
    let resent = net
        .sent
        .iter()
        .find(|(t, r, o, _)| *r == 2 && *t == t0 + Duration::from_secs(5) && is_update(o))
        .expect("a retransmission");
    assert_eq!(resent.2.to, addr("10.0.23.1"));
    // B acknowledges it (a delayed acknowledgement, §13.5).
    net.run_for(1);
    let c = &net.routers[2].neighbours(net.now)[0];
    assert_eq!(c.retransmit, 0, "acknowledged");
    assert_eq!(net.route(0, "10.0.3.0/24"), None);
}

#[test]
fn acknowledgements_empty_the_retransmission_lists() {
    let mut net = line();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(3);
    for r in 0..3 {
        for n in net.routers[r].neighbours(net.now) {
            assert_eq!((n.retransmit, n.requests), (0, 0), "router {r}: {n:?}");
        }
    }
    // Nothing is retransmitted on a quiet network.
    let sent = net.sent.len();
    net.run_for(20);
    let updates = net.sent[sent..]
        .iter()
        .filter(|(_, _, o, _)| is_update(o))
        .count();
    assert_eq!(updates, 0);
    assert_eq!(net.routers[1].counters().retransmissions, 0);
}

#[test]
fn lsas_are_refreshed_every_ls_refresh_time() {
    let mut net = line();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(100);
    let seq = seq_at(&net, 0, "3.3.3.3").unwrap();
    let age = |net: &Net| {
        net.routers[0]
            .lsa(&router_key("3.3.3.3"), net.now)
            .unwrap()
            .header
            .age
    };
    assert!(age(&net) >= 95, "ages in A's database: {}", age(&net));
    net.run_for(1800);
    assert_eq!(seq_at(&net, 0, "3.3.3.3"), Some(seq + 1), "C refreshed it");
    assert!(age(&net) < 200);
    assert!(
        net.routers[0]
            .lsdb(net.now)
            .iter()
            .all(|h| h.age < ospf::MAX_AGE)
    );
    assert_eq!(net.route(0, "10.0.3.0/24").map(|r| r.2), Some(30));
}

#[test]
fn a_flushed_lsa_removes_its_routes_at_once() {
    let mut net = line();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(10);
    assert!(net.route(0, "10.0.3.0/24").is_some());
    // C leaves: it floods its LSAs at MaxAge (§14.1), as FRR's ospfd
    // does when it stops, and goes silent.
    net.shutdown(2);
    let flush = net
        .sent
        .iter()
        .rev()
        .find(|(_, r, o, _)| *r == 2 && is_update(o))
        .expect("C flooded");
    let OspfBody::LinkStateUpdate(lsas) = OspfPacket::parse(&flush.2.packet).unwrap().body else {
        panic!("an update")
    };
    assert!(lsas.iter().all(|l| l.header.age == ospf::MAX_AGE));
    // No dead interval to wait for: the route goes with the flush.
    assert_eq!(net.route(0, "10.0.3.0/24"), None);
    assert_eq!(net.route(1, "10.0.3.0/24"), None);
    // Once acknowledged, the flushed LSAs leave the databases (§14):
    // at once in A, which floods them to nobody; in B when A's delayed
    // acknowledgement comes.
    assert_eq!(seq_at(&net, 0, "3.3.3.3"), None);
    assert!(seq_at(&net, 1, "3.3.3.3").is_some());
    net.run_for(1);
    assert_eq!(seq_at(&net, 1, "3.3.3.3"), None);
}

#[test]
fn an_unrefreshed_lsa_ages_out_of_the_database() {
    let mut net = line();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(10);
    // C stops without a word.
    net.stopped[2] = true;
    net.run_for(5);
    assert_eq!(net.route(0, "10.0.3.0/24"), None, "B dropped C after 4 s");
    assert!(seq_at(&net, 0, "3.3.3.3").is_some(), "the LSA stays");
    let age = net.routers[0]
        .lsa(&router_key("3.3.3.3"), net.now)
        .unwrap()
        .header
        .age;
    net.run_for(u64::from(ospf::MAX_AGE - age) - 2);
    assert!(seq_at(&net, 0, "3.3.3.3").is_some(), "not MaxAge yet");
    net.run_for(3);
    assert_eq!(seq_at(&net, 0, "3.3.3.3"), None, "flushed at MaxAge");
    assert_eq!(seq_at(&net, 1, "3.3.3.3"), None);
}

#[test]
fn a_restarted_router_takes_its_lsas_back() {
    let mut net = line();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(20);
    let before = seq_at(&net, 0, "3.3.3.3").unwrap();
    // C crashes and comes back with an empty database: its new Router-LSA
    // starts at InitialSequenceNumber, older than the copies around it;
    // it learns its old instance in the exchange and goes one past it
    // (§13.4).
    net.stopped[2] = true;
    net.run_for(2);
    let cfg = net.routers[2].config().clone();
    let mut actions = OspfActions::default();
    net.routers[2] = Ospf::new(cfg, net.now, &mut actions);
    net.stopped[2] = false;
    net.settle(VecDeque::from([(2, actions)]));
    net.run_until_true(20, |n| n.converged())
        .expect("converges again");
    net.run_for(6);
    let after = seq_at(&net, 0, "3.3.3.3").unwrap();
    assert!(after as i32 > before as i32, "{after:#x} > {before:#x}");
    assert_eq!(seq_at(&net, 2, "3.3.3.3"), Some(after));
    assert_eq!(net.route(0, "10.0.3.0/24").map(|r| r.2), Some(30));
}

#[test]
fn an_lsa_with_a_bad_checksum_is_dropped() {
    let mut net = line();
    net.run_until_true(10, |n| n.converged())
        .expect("converges");
    net.run_for(10);
    // B sends A a copy of C's Router-LSA, one sequence number ahead and
    // with a body byte changed after sealing.
    let mut lsa = net.routers[1].lsa(&router_key("3.3.3.3"), net.now).unwrap();
    lsa.header.seq += 1;
    lsa.seal();
    if let vnet_wire::ospf::LsaBody::Router(r) = &mut lsa.body {
        r.links[0].metric += 1;
    }
    let packet = OspfPacket {
        router_id: addr("2.2.2.2"),
        area_id: Ipv4Addr::UNSPECIFIED,
        auth: vnet_wire::ospf::OspfAuth::Null,
        body: OspfBody::LinkStateUpdate(vec![lsa]),
    };
    let before = seq_at(&net, 0, "3.3.3.3");
    let mut actions = OspfActions::default();
    net.routers[0].receive(
        net.now,
        0,
        addr("10.0.12.2"),
        ospf::ALL_SPF_ROUTERS,
        &packet.emit(),
        &mut actions,
    );
    assert_eq!(seq_at(&net, 0, "3.3.3.3"), before, "§13 step 1");
    assert_eq!(net.routers[0].counters().bad_lsas, 1);
    assert!(actions.send.is_empty(), "not acknowledged either");
}
