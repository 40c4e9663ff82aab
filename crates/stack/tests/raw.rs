//! Raw IP sockets: a routing protocol's datagrams (OSPF, IP protocol 89)
//! to a link-local group and to a neighbour, received with their header
//! fields; protocols the stack owns are refused; without a socket the
//! stack answers Protocol Unreachable as before.

mod common;

use common::*;
use std::net::Ipv4Addr;
use vnet_stack::{RawDatagram, StackError};

const OSPF: u8 = 89;
const ALL_SPF_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 5);

#[test]
fn multicast_and_unicast_datagrams_reach_the_raw_socket() {
    let mut lab = Lab::three(1500);
    lab.nodes[R].join_multicast(ALL_SPF_ROUTERS).unwrap();
    let at_r = lab.nodes[R].raw_open(OSPF).unwrap();
    let at_a = lab.nodes[A].raw_open(OSPF).unwrap();
    lab.with(A, |s, now, tx| {
        s.raw_send_via(now, at_a, 0, ALL_SPF_ROUTERS, 1, b"hello", tx)
    })
    .unwrap();
    let frame = &lab
        .captured
        .iter()
        .find(|c| c.node == A)
        .expect("A sent a frame")
        .frame;
    // RFC 1112 §6.4: 224.0.0.5 maps to 01:00:5e:00:00:05; TTL 1, protocol 89.
    assert_eq!(frame[..6], [0x01, 0x00, 0x5e, 0x00, 0x00, 0x05]);
    assert_eq!((frame[14 + 8], frame[14 + 9]), (1, OSPF));
    assert_eq!(
        lab.nodes[R].raw_recv(at_r),
        Some(RawDatagram {
            src: A_IP,
            dst: ALL_SPF_ROUTERS,
            in_port: 0,
            ttl: 1,
            payload: b"hello".to_vec(),
        })
    );
    // Unicast to the neighbour, the way an OSPF router sends an LSU.
    lab.with(R, |s, now, tx| {
        s.raw_send_via(now, at_r, 0, A_IP, 1, b"lsu", tx)
    })
    .unwrap();
    let got = lab.nodes[A].raw_recv(at_a).expect("unicast datagram");
    assert_eq!(
        (got.src, got.dst, got.payload.as_slice()),
        (R_IP0, A_IP, &b"lsu"[..])
    );
    assert_eq!(lab.nodes[R].counters().raw_rx, 1);
    assert_eq!(lab.nodes[R].counters().raw_tx, 1);
    // The datagram was not forwarded to B (link-local, TTL 1).
    assert!(lab.captured.iter().all(|c| c.node != R || c.port != 1));
}

#[test]
fn own_protocols_and_duplicates_are_refused() {
    let mut lab = Lab::three(1500);
    for proto in [1u8, 6, 17] {
        assert!(matches!(
            lab.nodes[A].raw_open(proto),
            Err(StackError::RawProtocol { .. })
        ));
    }
    lab.nodes[A].raw_open(OSPF).unwrap();
    let e = lab.nodes[A].raw_open(OSPF).unwrap_err();
    assert!(e.to_string().contains("89"), "{e}");
}

#[test]
fn without_a_socket_the_protocol_is_unreachable() {
    let mut lab = Lab::three(1500);
    let at_a = lab.nodes[A].raw_open(OSPF).unwrap();
    lab.with(A, |s, now, tx| {
        s.raw_send_via(now, at_a, 0, R_IP0, 1, b"x", tx)
    })
    .unwrap();
    assert_eq!(lab.nodes[R].counters().unknown_protocol, 1);
    assert_eq!(lab.nodes[R].counters().raw_rx, 0);
}
