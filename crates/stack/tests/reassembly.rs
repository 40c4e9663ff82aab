//! Reassembly timeouts and bounds, seen from outside the stack.

mod common;

use common::*;
use core::time::Duration;
use vnet_stack::{IcmpError, UdpEvent};

#[test]
fn timeout_drops_counts_and_reports_to_source() {
    let mut lab = Lab::three(1500);
    let client = lab.nodes[A].udp_bind(4000).unwrap();
    // Resolve A <-> R first so R can answer.
    let h = lab.nodes[A].ping_open().unwrap();
    lab.with(A, |s, now, tx| {
        s.ping_send(now, h, R_IP0, 1, &[], Default::default(), tx)
    })
    .unwrap();
    // Only the first fragment of a UDP datagram to R arrives.
    let udp = udp_no_checksum(4000, 9, &[7; 40]);
    let first = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        R_IP0,
        17,
        77,
        true,
        0,
        64,
        &udp[..24],
    );
    lab.inject(R, 0, first);
    assert_eq!(lab.nodes[R].counters().fragments_received, 1);
    assert_eq!(lab.nodes[R].reassembly_usage().0, 1);
    lab.advance(Duration::from_secs(29));
    assert_eq!(lab.nodes[R].counters().reassembly_timeouts, 0);
    lab.advance(Duration::from_secs(1));
    assert_eq!(lab.nodes[R].counters().reassembly_timeouts, 1);
    assert_eq!(lab.nodes[R].reassembly_usage(), (0, 0));
    // RFC 792: Time Exceeded code 1 goes back to the source.
    assert_eq!(
        lab.nodes[A].udp_recv(client),
        Some(UdpEvent::Error {
            from: R_IP0,
            original_dst: "10.0.1.1:9".parse().unwrap(),
            error: IcmpError::ReassemblyTimeExceeded
        })
    );
    // Without the first fragment, no ICMP.
    let sent = lab.nodes[R].counters().icmp_errors_sent;
    let later = ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        A_IP,
        R_IP0,
        17,
        78,
        false,
        24,
        64,
        &udp[24..],
    );
    lab.inject(R, 0, later);
    lab.advance(Duration::from_secs(31));
    assert_eq!(lab.nodes[R].counters().reassembly_timeouts, 2);
    assert_eq!(lab.nodes[R].counters().icmp_errors_sent, sent);
}

#[test]
fn flood_of_fragments_is_bounded() {
    let mut lab = Lab::three(1500);
    for ident in 0..2000u16 {
        let f = ipv4_frame(
            mac(3, 0),
            mac(2, 1),
            R_IP1,
            B_IP,
            17,
            ident,
            true,
            0,
            64,
            &[0u8; 1400],
        );
        lab.inject(B, 0, f);
        let (n, bytes) = lab.nodes[B].reassembly_usage();
        assert!(n <= 64 && bytes <= 1 << 20, "{n} datagrams, {bytes} bytes");
    }
    let c = lab.nodes[B].counters();
    assert_eq!(c.fragments_received, 2000);
    assert!(c.reassembly_overflow >= 2000 - 64);
    assert_eq!(c.reassembled, 0);
}
