//! UDP sockets end to end.

mod common;

use common::*;
use std::net::SocketAddrV4;
use vnet_stack::{IcmpError, SendOptions, StackError, UdpEvent};

#[test]
fn datagram_round_trip() {
    let mut lab = Lab::three(576);
    let server = lab.nodes[B].udp_bind(7).unwrap();
    let client = lab.nodes[A].udp_bind(0).unwrap();
    let cport = lab.nodes[A].udp_local_port(client).unwrap();
    assert!(cport >= 49152);
    let payload = vec![0x42u8; 3000]; // fragmented by A and by R
    lab.with(A, |s, now, tx| {
        s.udp_send_to(
            now,
            client,
            SocketAddrV4::new(B_IP, 7),
            &payload,
            SendOptions::default(),
            tx,
        )
    })
    .unwrap();
    let Some(UdpEvent::Datagram { from, payload: got }) = lab.nodes[B].udp_recv(server) else {
        panic!("no datagram")
    };
    assert_eq!(from, SocketAddrV4::new(A_IP, cport));
    assert_eq!(got, payload);
    lab.with(B, |s, now, tx| {
        s.udp_send_to(now, server, from, b"pong", SendOptions::default(), tx)
    })
    .unwrap();
    assert_eq!(
        lab.nodes[A].udp_recv(client),
        Some(UdpEvent::Datagram {
            from: SocketAddrV4::new(B_IP, 7),
            payload: b"pong".to_vec()
        })
    );
    assert_eq!(lab.nodes[A].counters().udp_tx, 1);
    assert_eq!(lab.nodes[B].counters().udp_rx, 1);
}

#[test]
fn closed_port_reports_port_unreachable() {
    let mut lab = Lab::three(1500);
    let client = lab.nodes[A].udp_bind(5353).unwrap();
    let dst = SocketAddrV4::new(B_IP, 9999);
    lab.with(A, |s, now, tx| {
        s.udp_send_to(now, client, dst, b"hello", SendOptions::default(), tx)
    })
    .unwrap();
    assert_eq!(
        lab.nodes[A].udp_recv(client),
        Some(UdpEvent::Error {
            from: B_IP,
            original_dst: dst,
            error: IcmpError::PortUnreachable
        })
    );
    assert_eq!(lab.nodes[B].counters().udp_no_port, 1);
    assert_eq!(lab.nodes[B].counters().icmp_errors_sent, 1);
}

#[test]
fn bind_rules_and_queue_bound() {
    let mut lab = Lab::three(1500);
    let s = lab.nodes[B].udp_bind(53).unwrap();
    assert_eq!(
        lab.nodes[B].udp_bind(53).unwrap_err(),
        StackError::PortInUse { port: 53 }
    );
    assert_eq!(lab.nodes[B].udp_ports(), vec![53]);
    let c = lab.nodes[A].udp_bind(0).unwrap();
    for i in 0..70u8 {
        lab.with(A, |st, now, tx| {
            st.udp_send_to(
                now,
                c,
                SocketAddrV4::new(B_IP, 53),
                &[i],
                SendOptions::default(),
                tx,
            )
        })
        .unwrap();
    }
    assert_eq!(lab.nodes[B].udp_pending(s), 64);
    assert_eq!(lab.nodes[B].counters().udp_queue_full, 6);
    lab.nodes[B].udp_close(s);
    assert_eq!(lab.nodes[B].udp_recv(s), None);
    assert!(lab.nodes[B].udp_bind(53).is_ok());
    let err = lab
        .with(A, |st, now, tx| {
            st.udp_send_to(
                now,
                c,
                SocketAddrV4::new(B_IP, 53),
                &vec![0; 65_508],
                SendOptions::default(),
                tx,
            )
        })
        .unwrap_err();
    assert_eq!(
        err,
        StackError::PayloadTooLarge {
            len: 65_508,
            max: 65_507
        }
    );
}

#[test]
fn bad_checksum_is_dropped_and_zero_checksum_accepted() {
    let mut lab = Lab::three(1500);
    let s = lab.nodes[R].udp_bind(9).unwrap();
    let mut udp = udp_no_checksum(1000, 9, b"abc");
    let f = ipv4_frame(mac(2, 0), mac(1, 0), A_IP, R_IP0, 17, 1, false, 0, 64, &udp);
    lab.inject(R, 0, f);
    assert!(matches!(
        lab.nodes[R].udp_recv(s),
        Some(UdpEvent::Datagram { .. })
    ));
    udp[6..8].copy_from_slice(&[0x12, 0x34]);
    let f = ipv4_frame(mac(2, 0), mac(1, 0), A_IP, R_IP0, 17, 2, false, 0, 64, &udp);
    lab.inject(R, 0, f);
    assert_eq!(lab.nodes[R].udp_recv(s), None);
    assert_eq!(lab.nodes[R].counters().udp_bad_checksum, 1);
}
