//! ARP cache hardening: on-link senders only (RFC 1122 §2.3.2.1), the
//! RFC 826 merge rule (only a request for us creates an entry; anything
//! from a known sender refreshes it), and a flood that must not evict the
//! neighbours we talk to. Deterministic, on virtual time.

mod common;

use common::*;
use core::time::Duration;
use std::net::Ipv4Addr;
use vnet_stack::{ArpState, NetStack, PingEvent, SendOptions, StackConfig};
use vnet_wire::ethernet::EthernetAddress;

const REQUEST: u16 = 1;
const REPLY: u16 = 2;

/// An Ethernet + ARP (Ethernet/IPv4) frame built by hand.
fn arp_frame(
    dst: EthernetAddress,
    op: u16,
    sha: EthernetAddress,
    spa: Ipv4Addr,
    tha: EthernetAddress,
    tpa: Ipv4Addr,
) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&sha.0);
    f.extend_from_slice(&[0x08, 0x06]);
    f.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sha.0);
    f.extend_from_slice(&spa.octets());
    f.extend_from_slice(&tha.0);
    f.extend_from_slice(&tpa.octets());
    f
}

/// A request from `spa`/`sha` for `tpa`, broadcast.
fn request(sha: EthernetAddress, spa: Ipv4Addr, tpa: Ipv4Addr) -> Vec<u8> {
    let zero = EthernetAddress([0; 6]);
    arp_frame(EthernetAddress::BROADCAST, REQUEST, sha, spa, zero, tpa)
}

/// A reply from `spa`/`sha` to `tpa`/`tha`, unicast to `tha`.
fn reply(sha: EthernetAddress, spa: Ipv4Addr, tha: EthernetAddress, tpa: Ipv4Addr) -> Vec<u8> {
    arp_frame(tha, REPLY, sha, spa, tha, tpa)
}

fn entry(
    s: &NetStack,
    now: vnet_stack::time::Instant,
    ip: Ipv4Addr,
) -> Option<vnet_stack::ArpEntry> {
    s.arp_entries(now).into_iter().find(|e| e.ip == ip)
}

#[test]
fn off_subnet_sender_creates_no_entry() {
    let mut lab = Lab::three(1500);
    let stranger = Ipv4Addr::new(192, 0, 2, 7);
    lab.inject(A, 0, request(mac(9, 9), stranger, A_IP));
    assert!(lab.nodes[A].arp_entries(lab.now).is_empty());
    assert_eq!(lab.nodes[A].counters().arp_ignored_offlink, 1);
    // The request for our address is still answered (RFC 826), only not cached.
    assert_eq!(lab.nodes[A].counters().arp_replies_sent, 1);

    // Nor for the subnet's broadcast or network address, a multicast
    // address, 0.0.0.0 (an RFC 5227 probe) or our own address.
    for spa in [
        Ipv4Addr::new(10, 0, 1, 255),
        Ipv4Addr::new(10, 0, 1, 0),
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::BROADCAST,
        Ipv4Addr::UNSPECIFIED,
        A_IP,
    ] {
        lab.inject(A, 0, request(mac(9, 9), spa, A_IP));
        assert!(lab.nodes[A].arp_entries(lab.now).is_empty(), "{spa}");
    }
    assert_eq!(lab.nodes[A].counters().arp_ignored_offlink, 5);
}

#[test]
fn unsolicited_arp_creates_nothing_but_refreshes_existing_entries() {
    let mut lab = Lab::three(1500);
    let a_mac = mac(1, 0);
    let n7 = Ipv4Addr::new(10, 0, 1, 7);
    // A reply we never asked for, even addressed to us.
    lab.inject(A, 0, reply(mac(9, 7), n7, a_mac, A_IP));
    // Gratuitous ARP, as a request and as a reply.
    let n8 = Ipv4Addr::new(10, 0, 1, 8);
    lab.inject(A, 0, request(mac(9, 8), n8, n8));
    lab.inject(A, 0, reply(mac(9, 8), n8, EthernetAddress::BROADCAST, n8));
    // A request for another station.
    lab.inject(A, 0, request(mac(9, 9), Ipv4Addr::new(10, 0, 1, 9), R_IP0));
    assert!(lab.nodes[A].arp_entries(lab.now).is_empty());
    assert_eq!(lab.nodes[A].counters().arp_ignored_unsolicited, 4);
    assert_eq!(lab.nodes[A].counters().arp_replies_sent, 0);

    // A request for us creates the entry (the sender will talk to us).
    lab.inject(A, 0, request(mac(9, 7), n7, A_IP));
    assert_eq!(
        entry(&lab.nodes[A], lab.now, n7).unwrap().mac,
        Some(mac(9, 7))
    );

    // Merge: once it exists, an unsolicited reply updates it...
    lab.now += Duration::from_secs(50);
    lab.inject(A, 0, reply(mac(9, 17), n7, a_mac, A_IP));
    let e = entry(&lab.nodes[A], lab.now, n7).unwrap();
    assert_eq!(
        (e.mac, e.state, e.expires_in),
        (
            Some(mac(9, 17)),
            ArpState::Reachable,
            Some(Duration::from_secs(60))
        )
    );
    // ...and so does a request for another target, or a gratuitous ARP.
    lab.now += Duration::from_secs(50);
    lab.inject(A, 0, request(mac(9, 27), n7, R_IP0));
    let e = entry(&lab.nodes[A], lab.now, n7).unwrap();
    assert_eq!(
        (e.mac, e.expires_in),
        (Some(mac(9, 27)), Some(Duration::from_secs(60)))
    );
    lab.now += Duration::from_secs(50);
    lab.inject(A, 0, request(mac(9, 37), n7, n7));
    let e = entry(&lab.nodes[A], lab.now, n7).unwrap();
    assert_eq!(
        (e.mac, e.expires_in),
        (Some(mac(9, 37)), Some(Duration::from_secs(60)))
    );
    assert_eq!(lab.nodes[A].counters().arp_ignored_unsolicited, 4);
}

#[test]
fn reply_to_our_request_completes_the_entry() {
    let mut lab = Lab::three(1500);
    let h = lab.nodes[A].ping_open().unwrap();
    lab.with(A, |s, now, tx| {
        s.ping_send(now, h, R_IP0, 1, &[], SendOptions::default(), tx)
    })
    .unwrap();
    assert!(matches!(
        lab.nodes[A].ping_recv(h),
        Some(PingEvent::Reply { seq: 1, .. })
    ));
    let e = entry(&lab.nodes[A], lab.now, R_IP0).unwrap();
    assert_eq!((e.mac, e.state), (Some(mac(2, 0)), ArpState::Reachable));
    assert_eq!(lab.nodes[A].counters().arp_ignored_unsolicited, 0);
}

/// 10,000 requests for our address from distinct on-link senders (and a
/// few gratuitous ARPs), while we ping our neighbour N every 100 ms: the
/// table fills up, but N's entry is never evicted and our packets to N
/// never wait for resolution again.
#[test]
fn flood_never_evicts_a_neighbour_in_use() {
    let us_ip = Ipv4Addr::new(10, 0, 0, 1);
    let n_ip = Ipv4Addr::new(10, 0, 0, 2);
    let us = NetStack::new(
        StackConfig::default(),
        vec![iface(1, 0, "10.0.0.1/16", 1500)],
    );
    let n = NetStack::new(
        StackConfig::default(),
        vec![iface(2, 0, "10.0.0.2/16", 1500)],
    );
    let capacity = us.config().arp.capacity;
    let mut lab = Lab::new(vec![us, n]);
    lab.link((0, 0), (1, 0));
    let h = lab.nodes[0].ping_open().unwrap();

    let mut sent = 0u32;
    let mut replies = 0;
    for round in 0..100u16 {
        lab.with(0, |s, now, tx| {
            s.ping_send(now, h, n_ip, round, &[0; 8], SendOptions::default(), tx)
        })
        .unwrap();
        assert_eq!(lab.nodes[0].arp_queued(), 0, "round {round}: queued");
        assert_eq!(
            lab.nodes[0].counters().arp_requests_sent,
            1,
            "round {round}: N resolved again"
        );
        while let Some(ev) = lab.nodes[0].ping_recv(h) {
            assert!(matches!(ev, PingEvent::Reply { from, .. } if from == n_ip));
            replies += 1;
        }
        for _ in 0..100 {
            sent += 1;
            let host = 2 + sent; // 10.0.0.3 upwards, distinct, on-link
            let spa = Ipv4Addr::from(u32::from(us_ip) & 0xffff_0000 | host);
            let sha = EthernetAddress([
                0x02,
                0xf1,
                0,
                (host >> 16) as u8,
                (host >> 8) as u8,
                host as u8,
            ]);
            let frame = if sent.is_multiple_of(10) {
                request(sha, spa, spa) // gratuitous
            } else {
                request(sha, spa, us_ip)
            };
            lab.inject(0, 0, frame);
        }
        lab.captured.clear();
        lab.advance(Duration::from_millis(100));
        let e = entry(&lab.nodes[0], lab.now, n_ip).expect("N evicted");
        assert_eq!(e.state, ArpState::Reachable);
    }
    assert_eq!(sent, 10_000);
    assert_eq!(replies, 100);
    let c = lab.nodes[0].counters();
    assert_eq!(c.arp_requests_sent, 1);
    assert_eq!(c.arp_ignored_unsolicited, 1_000);
    assert_eq!(c.arp_table_full, 9_000 - (capacity as u64 - 1));
    assert_eq!(lab.nodes[0].arp_entries(lab.now).len(), capacity);
}

/// The scenario of the finding: a ping through a router while ARP floods
/// the router's interface towards the server; the router's entry for the
/// server must survive (a small table makes a /24 enough to fill it).
#[test]
fn flood_on_router_keeps_ping_through_it_working() {
    let mut a = NetStack::new(
        StackConfig::default(),
        vec![iface(1, 0, "10.0.1.2/24", 1500)],
    );
    a.add_route("0.0.0.0/0".parse().unwrap(), R_IP0).unwrap();
    let mut rc = StackConfig::router();
    rc.arp.capacity = 32;
    let r = NetStack::new(
        rc,
        vec![
            iface(2, 0, "10.0.1.1/24", 1500),
            iface(2, 1, "10.0.2.1/24", 1500),
        ],
    );
    let mut b = NetStack::new(
        StackConfig::default(),
        vec![iface(3, 0, "10.0.2.2/24", 1500)],
    );
    b.add_route("0.0.0.0/0".parse().unwrap(), R_IP1).unwrap();
    let mut lab = Lab::new(vec![a, r, b]);
    lab.link((A, 0), (R, 0));
    lab.link((R, 1), (B, 0));
    let h = lab.nodes[A].ping_open().unwrap();
    let mut replies = 0;
    let mut host = 3u8;
    for seq in 0..50u16 {
        lab.with(A, |s, now, tx| {
            s.ping_send(now, h, B_IP, seq, &[0; 8], SendOptions::default(), tx)
        })
        .unwrap();
        while let Some(ev) = lab.nodes[A].ping_recv(h) {
            assert!(matches!(ev, PingEvent::Reply { from, .. } if from == B_IP));
            replies += 1;
        }
        for _ in 0..10 {
            // Half the senders off-subnet, half on-link and asking for R.
            let (spa, tpa) = if host.is_multiple_of(2) {
                (Ipv4Addr::new(192, 0, 2, host), R_IP1)
            } else {
                (Ipv4Addr::new(10, 0, 2, host), R_IP1)
            };
            lab.inject(
                R,
                1,
                request(EthernetAddress([2, 0xf1, 0, 0, 0, host]), spa, tpa),
            );
            host = if host == 250 { 3 } else { host + 1 };
        }
        lab.advance(Duration::from_millis(100));
    }
    assert_eq!(replies, 50);
    let c = lab.nodes[R].counters();
    // R resolved B once (it learned A from A's request for it).
    assert_eq!(c.arp_requests_sent, 1, "B's entry was evicted");
    assert_eq!(c.arp_ignored_offlink, 250, "{c:?}");
    assert!(c.arp_table_full > 0, "{c:?}");
}
