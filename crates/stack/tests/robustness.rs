//! Input that is wrong, hostile or not for us: counted, never a panic.

mod common;

use common::*;
use core::time::Duration;
use proptest::prelude::*;
use std::net::Ipv4Addr;
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, StackConfig};
use vnet_wire::ethernet::EthernetAddress;

#[test]
fn link_layer_filtering_and_counters() {
    let mut lab = Lab::three(1500);
    let mut other = ipv4_frame(
        mac(9, 9),
        mac(1, 0),
        A_IP,
        R_IP0,
        1,
        1,
        false,
        0,
        64,
        &[8, 0, 0, 0, 0, 0, 0, 0],
    );
    lab.inject(R, 0, other.clone());
    other[0] = 0x01; // multicast destination
    lab.inject(R, 0, other);
    let mut unknown = ipv4_frame(mac(2, 0), mac(1, 0), A_IP, R_IP0, 1, 1, false, 0, 64, &[]);
    unknown[12..14].copy_from_slice(&[0x86, 0xdd]);
    lab.inject(R, 0, unknown);
    lab.inject(R, 0, vec![0; 10]);
    lab.inject(R, 7, vec![0; 60]);
    let mut bad_sum = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        R_IP0,
        17,
        1,
        false,
        0,
        64,
        &[0; 8],
    );
    bad_sum[24] ^= 0xff;
    lab.inject(R, 0, bad_sum);
    let mut bad_len = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        R_IP0,
        17,
        1,
        false,
        0,
        64,
        &[0; 8],
    );
    bad_len[16..18].copy_from_slice(&500u16.to_be_bytes());
    lab.inject(R, 0, bad_len);
    let c = lab.nodes[R].counters();
    assert_eq!(c.rx_not_our_mac, 2);
    assert_eq!(c.rx_unknown_ethertype, 1);
    assert_eq!(c.rx_malformed, 2);
    assert_eq!(c.ip_bad_checksum, 1);
    assert_eq!(c.ip_bad_header, 1);
    assert!(lab.captured.is_empty());
}

#[test]
fn host_does_not_forward() {
    let mut lab = Lab::three(1500);
    let f = ipv4_frame(
        mac(3, 0),
        mac(2, 1),
        A_IP,
        Ipv4Addr::new(10, 0, 9, 9),
        17,
        1,
        false,
        0,
        64,
        &[0; 8],
    );
    lab.inject(B, 0, f);
    assert_eq!(lab.nodes[B].counters().ip_not_for_us, 1);
    assert!(lab.captured.is_empty());
}

#[test]
fn no_icmp_error_about_icmp_errors_fragments_or_broadcasts() {
    let mut lab = Lab::three(1500);
    let unrouted = Ipv4Addr::new(192, 168, 1, 1);
    // An ICMP error (type 3) to an unrouted destination: no Net Unreachable back.
    let err_msg = [3u8, 1, 0xfc, 0xfe, 0, 0, 0, 0];
    let f = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        unrouted,
        1,
        1,
        false,
        0,
        64,
        &err_msg,
    );
    lab.inject(R, 0, f);
    // A non-initial fragment to an unrouted destination.
    let f = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        unrouted,
        17,
        2,
        false,
        8,
        64,
        &[0; 8],
    );
    lab.inject(R, 0, f);
    // Sent as link-layer broadcast.
    let f = ipv4_frame(
        EthernetAddress::BROADCAST,
        mac(1, 0),
        A_IP,
        R_IP0,
        17,
        3,
        false,
        0,
        64,
        &udp_no_checksum(1, 2, &[]),
    );
    lab.inject(R, 0, f);
    // To the subnet broadcast address (UDP to a closed port).
    let bcast = Ipv4Addr::new(10, 0, 1, 255);
    let f = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        bcast,
        17,
        4,
        false,
        0,
        64,
        &udp_no_checksum(1, 2, &[]),
    );
    lab.inject(R, 0, f);
    // Broadcast echo request: ignored (RFC 1122 §3.2.2.6).
    let echo = [8u8, 0, 0xf7, 0xff, 0, 0, 0, 0];
    let f = ipv4_frame(
        EthernetAddress::BROADCAST,
        mac(1, 0),
        A_IP,
        Ipv4Addr::BROADCAST,
        1,
        5,
        false,
        0,
        64,
        &echo,
    );
    lab.inject(R, 0, f);
    let c = lab.nodes[R].counters();
    assert_eq!(c.icmp_errors_sent, 0);
    assert_eq!(c.icmp_errors_suppressed, 4);
    assert_eq!(c.icmp_echo_replies_sent, 0);
    assert!(lab.captured.is_empty(), "{:?}", lab.captured);
}

#[test]
fn unknown_protocol_gets_protocol_unreachable() {
    let mut lab = Lab::three(1500);
    let h = lab.nodes[A].ping_open().unwrap();
    lab.with(A, |s, now, tx| {
        s.ping_send(now, h, R_IP0, 1, &[], Default::default(), tx)
    })
    .unwrap();
    lab.nodes[A].ping_recv(h).unwrap();
    let f = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        R_IP0,
        89, // OSPF: not implemented (TCP, 6, is answered by TCP itself)
        9,
        false,
        0,
        64,
        &[0; 20],
    );
    lab.inject(R, 0, f);
    assert_eq!(lab.nodes[R].counters().unknown_protocol, 1);
    let last = &lab.captured.last().unwrap().frame;
    assert_eq!(&last[34..36], &[3, 2], "ICMP type 3 code 2");
}

#[test]
fn static_neighbour_and_routes() {
    let mut r = NetStack::new(
        StackConfig::router(),
        vec![
            iface(2, 0, "10.0.1.1/24", 1500),
            iface(2, 1, "10.0.2.1/24", 1500),
        ],
    );
    assert!(
        r.add_route(
            "172.16.0.0/12".parse().unwrap(),
            Ipv4Addr::new(10, 0, 2, 254)
        )
        .is_ok()
    );
    let err = r
        .add_route("172.16.0.0/12".parse().unwrap(), Ipv4Addr::new(10, 9, 9, 9))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "gateway 10.9.9.9 is not on a directly connected network"
    );
    assert_eq!(r.routes()[0].destination.prefix_len(), 24);
    assert_eq!(r.routes().last().unwrap().destination.prefix_len(), 12);
    r.add_static_neighbor(1, Ipv4Addr::new(10, 0, 2, 254), mac(7, 7));
    let mut out = Vec::new();
    let mut f = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        Ipv4Addr::new(172, 16, 5, 5),
        17,
        1,
        false,
        0,
        9,
        &[0; 8],
    );
    r.receive(Instant::from_secs(100_000), 0, &mut f, &mut out);
    assert_eq!(out.len(), 1);
    let (port, frame) = &out[0];
    assert_eq!(*port, 1);
    assert_eq!(&frame[0..6], &mac(7, 7).0);
    assert_eq!(&frame[6..12], &mac(2, 1).0);
    assert_eq!(frame[22], 8, "TTL decremented");
    validate_frame(frame, false);
    let e = r.arp_entries(Instant::from_secs(100_000));
    assert_eq!(e[0].state, vnet_stack::ArpState::Static);
    assert_eq!(e[0].expires_in, None);
}

#[test]
fn arp_entry_expires_and_is_re_resolved() {
    let mut lab = Lab::three(1500);
    let h = lab.nodes[A].ping_open().unwrap();
    lab.with(A, |s, now, tx| {
        s.ping_send(now, h, R_IP0, 1, &[], Default::default(), tx)
    })
    .unwrap();
    lab.advance(Duration::from_secs(61));
    assert!(lab.nodes[A].arp_entries(lab.now).is_empty());
    lab.with(A, |s, now, tx| {
        s.ping_send(now, h, R_IP0, 2, &[], Default::default(), tx)
    })
    .unwrap();
    assert_eq!(lab.arp_frames_from(A), 2);
    assert_eq!(lab.nodes[A].ping_recv(h).map(|_| ()), Some(()));
}

fn host() -> NetStack {
    let mut s = NetStack::new(
        StackConfig::default(),
        vec![iface(3, 0, "10.0.2.2/24", 576)],
    );
    s.add_route("0.0.0.0/0".parse().unwrap(), R_IP1).unwrap();
    let _ = s.udp_bind(53);
    let _ = s.ping_open();
    s
}

fn router() -> NetStack {
    let mut r = NetStack::new(
        StackConfig::router(),
        vec![
            iface(2, 0, "10.0.1.1/24", 1500),
            iface(2, 1, "10.0.2.1/24", 576),
        ],
    );
    r.add_route("10.9.0.0/16".parse().unwrap(), B_IP).unwrap();
    r.add_static_neighbor(1, B_IP, mac(3, 0));
    r
}

/// Frames worth fuzzing: raw bytes, or a valid Ethernet + IPv4 header
/// (checksum right) around arbitrary fields and payload, or ARP.
fn frame_strategy(our: EthernetAddress) -> impl Strategy<Value = Vec<u8>> {
    let raw = proptest::collection::vec(any::<u8>(), 0..1600);
    let ip = (
        any::<bool>(),
        prop_oneof![Just(1u8), Just(6), Just(17), any::<u8>()],
        any::<u16>(),
        any::<bool>(),
        0u16..8192,
        0u8..4,
        prop_oneof![
            Just(A_IP),
            Just(B_IP),
            Just(R_IP0),
            Just(Ipv4Addr::BROADCAST),
            Just(Ipv4Addr::new(10, 9, 1, 1)),
            any::<u32>().prop_map(Ipv4Addr::from)
        ],
        prop_oneof![Just(A_IP), any::<u32>().prop_map(Ipv4Addr::from)],
        proptest::collection::vec(any::<u8>(), 0..3000),
    )
        .prop_map(
            move |(bcast, proto, ident, mf, off, ttl, dst, src, payload)| {
                let dmac = if bcast {
                    EthernetAddress::BROADCAST
                } else {
                    our
                };
                ipv4_frame(
                    dmac,
                    mac(1, 0),
                    src,
                    dst,
                    proto,
                    ident,
                    mf,
                    off * 8,
                    ttl,
                    &payload,
                )
            },
        );
    let arp = (any::<u16>(), any::<[u8; 28]>()).prop_map(move |(op, mut body)| {
        body[..8].copy_from_slice(&[0, 1, 8, 0, 6, 4, (op >> 8) as u8, op as u8]);
        let mut f = Vec::from(EthernetAddress::BROADCAST.0);
        f.extend_from_slice(&mac(1, 0).0);
        f.extend_from_slice(&[0x08, 0x06]);
        f.extend_from_slice(&body);
        f
    });
    prop_oneof![raw, ip, arp]
}

fn fuzz(mut stack: NetStack, port_count: usize, frames: Vec<(usize, Vec<u8>)>) {
    let mut t = Instant::ZERO;
    for (port, mut f) in frames {
        let mut out = Vec::new();
        stack.receive(t, port % (port_count + 1), &mut f, &mut out);
        t += Duration::from_millis(700);
        stack.poll(t, &mut out);
        for (p, frame) in &out {
            assert!(*p < port_count);
            validate_frame(frame, false);
        }
    }
    let mut out = Vec::new();
    stack.poll(t + Duration::from_secs(100), &mut out);
    assert_eq!(stack.reassembly_usage(), (0, 0));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_frames_never_panic_host(frames in proptest::collection::vec((0usize..2, frame_strategy(mac(3, 0))), 1..24)) {
        fuzz(host(), 1, frames);
    }

    #[test]
    fn arbitrary_frames_never_panic_router(frames in proptest::collection::vec((0usize..3, frame_strategy(mac(2, 0))), 1..24)) {
        fuzz(router(), 2, frames);
    }
}
