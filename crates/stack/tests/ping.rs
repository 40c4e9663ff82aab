//! End-to-end ICMP echo: ARP, forwarding, fragmentation, reassembly, and the
//! ICMP errors a ping socket sees.

mod common;

use common::*;
use core::time::Duration;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};
use vnet_stack::{ArpState, IcmpError, PingEvent, SendOptions, StackError};

fn ping(
    lab: &mut Lab,
    from: usize,
    dst: Ipv4Addr,
    seq: u16,
    len: usize,
    opts: SendOptions,
) -> Vec<PingEvent> {
    let h = lab.with(from, |s, _, _| s.ping_open().unwrap());
    lab.with(from, |s, now, tx| {
        s.ping_send(now, h, dst, seq, &vec![0xa5; len], opts, tx)
    })
    .unwrap();
    let mut events = Vec::new();
    while let Some(e) = lab.nodes[from].ping_recv(h) {
        events.push(e);
    }
    lab.nodes[from].ping_close(h);
    events
}

#[test]
fn arp_resolution_then_ping_reply() {
    let mut lab = Lab::three(1500);
    let ev = ping(&mut lab, A, R_IP0, 1, 56, SendOptions::default());
    assert_eq!(
        ev,
        vec![PingEvent::Reply {
            from: R_IP0,
            seq: 1,
            ttl: 64,
            len: 56
        }]
    );
    // One request from A, one reply from R; R learned A from the request.
    assert_eq!(lab.arp_frames_from(A), 1);
    assert_eq!(lab.arp_frames_from(R), 1);
    let a_arp = lab.nodes[A].arp_entries(lab.now);
    assert_eq!(a_arp.len(), 1);
    assert_eq!(
        (a_arp[0].ip, a_arp[0].mac, a_arp[0].state),
        (R_IP0, Some(mac(2, 0)), ArpState::Reachable)
    );
    assert_eq!(a_arp[0].expires_in, Some(Duration::from_secs(60)));
    assert_eq!(lab.nodes[R].arp_entries(lab.now)[0].ip, A_IP);
    let c = lab.nodes[A].counters();
    assert_eq!((c.arp_requests_sent, c.icmp_rx, c.ip_tx), (1, 1, 1));
    assert_eq!(lab.nodes[R].counters().arp_replies_sent, 1);
    // The second ping needs no ARP.
    ping(&mut lab, A, R_IP0, 2, 56, SendOptions::default());
    assert_eq!(lab.arp_frames_from(A), 1);
}

#[test]
fn ping_through_router_and_router_addresses() {
    let mut lab = Lab::three(1500);
    let ev = ping(&mut lab, A, B_IP, 7, 56, SendOptions::default());
    assert_eq!(
        ev,
        vec![PingEvent::Reply {
            from: B_IP,
            seq: 7,
            ttl: 63,
            len: 56
        }]
    );
    assert_eq!(lab.nodes[R].counters().ip_forwarded, 2);
    // The router answers on its far address too.
    let ev = ping(&mut lab, A, R_IP1, 8, 10, SendOptions::default());
    assert!(matches!(
        ev[..],
        [PingEvent::Reply {
            from: R_IP1,
            seq: 8,
            ..
        }]
    ));
    // And pings as a host itself.
    let ev = ping(&mut lab, R, B_IP, 9, 10, SendOptions::default());
    assert!(matches!(
        ev[..],
        [PingEvent::Reply {
            from: B_IP,
            seq: 9,
            ttl: 64,
            ..
        }]
    ));
    // Loopback: a stack pings its own address.
    let ev = ping(&mut lab, A, A_IP, 10, 100, SendOptions::default());
    assert!(matches!(
        ev[..],
        [PingEvent::Reply {
            from: A_IP,
            seq: 10,
            len: 100,
            ..
        }]
    ));
}

#[test]
fn big_ping_is_fragmented_and_reassembled() {
    let mut lab = Lab::three(576);
    let ev = ping(&mut lab, A, B_IP, 1, 4000, SendOptions::default());
    assert_eq!(
        ev,
        vec![PingEvent::Reply {
            from: B_IP,
            seq: 1,
            ttl: 63,
            len: 4000
        }]
    );
    let (a, r, b) = (
        lab.nodes[A].counters(),
        lab.nodes[R].counters(),
        lab.nodes[B].counters(),
    );
    assert_eq!(a.fragments_created, 3); // 4028 bytes over MTU 1500
    assert!(r.fragments_created > 0, "router fragments to 576");
    assert_eq!(b.reassembled, 1);
    assert_eq!(b.fragments_created, 8); // the reply: 4008 bytes of ICMP in 552-byte pieces
    assert_eq!(a.reassembled, 1);
    // Every frame on the B link fits its MTU.
    for c in lab
        .captured
        .iter()
        .filter(|c| c.node == B || (c.node == R && c.port == 1))
    {
        assert!(c.frame.len() - 14 <= 576);
    }
    assert_eq!(lab.nodes[B].reassembly_usage(), (0, 0));
}

#[test]
fn dont_fragment_too_big() {
    let mut lab = Lab::three(576);
    let df = SendOptions {
        ttl: None,
        dont_frag: true,
    };
    let ev = ping(&mut lab, A, B_IP, 3, 1000, df);
    assert_eq!(
        ev,
        vec![PingEvent::Error {
            from: R_IP0,
            seq: 3,
            error: IcmpError::FragmentationNeeded { mtu: 576 }
        }]
    );
    assert_eq!(
        IcmpError::FragmentationNeeded { mtu: 576 }.to_string(),
        "Frag needed and DF set (mtu = 576)"
    );
    assert_eq!(lab.nodes[R].counters().frag_needed_df, 1);
    // Locally: DF and larger than our own MTU fails synchronously.
    let h = lab.nodes[A].ping_open().unwrap();
    let err = lab
        .with(A, |s, now, tx| {
            s.ping_send(now, h, B_IP, 4, &[0; 2000], df, tx)
        })
        .unwrap_err();
    assert_eq!(
        err,
        StackError::MessageTooLong {
            len: 2028,
            mtu: 1500
        }
    );
    let err = lab
        .with(A, |s, now, tx| {
            s.ping_send(now, h, B_IP, 4, &vec![0; 70_000], df, tx)
        })
        .unwrap_err();
    assert!(matches!(
        err,
        StackError::PayloadTooLarge {
            len: 70_000,
            max: 65_507
        }
    ));
}

#[test]
fn ttl_expires_at_router() {
    let mut lab = Lab::three(1500);
    let ttl1 = SendOptions {
        ttl: Some(1),
        dont_frag: false,
    };
    let ev = ping(&mut lab, A, B_IP, 5, 56, ttl1);
    assert_eq!(
        ev,
        vec![PingEvent::Error {
            from: R_IP0,
            seq: 5,
            error: IcmpError::TtlExceeded
        }]
    );
    assert_eq!(lab.nodes[R].counters().ttl_exceeded, 1);
    let ttl2 = SendOptions {
        ttl: Some(2),
        dont_frag: false,
    };
    let ev = ping(&mut lab, A, B_IP, 6, 56, ttl2);
    assert!(matches!(
        ev[..],
        [PingEvent::Reply {
            from: B_IP,
            seq: 6,
            ..
        }]
    ));
}

#[test]
fn unrouted_destination() {
    let mut lab = Lab::three(1500);
    let ev = ping(
        &mut lab,
        A,
        Ipv4Addr::new(192, 168, 9, 9),
        1,
        56,
        SendOptions::default(),
    );
    assert_eq!(
        ev,
        vec![PingEvent::Error {
            from: R_IP0,
            seq: 1,
            error: IcmpError::NetUnreachable
        }]
    );
    assert_eq!(lab.nodes[R].counters().no_route, 1);
    // A stack without a route fails synchronously.
    let h = lab.nodes[R].ping_open().unwrap();
    let dst = Ipv4Addr::new(192, 168, 9, 9);
    let err = lab
        .with(R, |s, now, tx| {
            s.ping_send(now, h, dst, 1, &[], SendOptions::default(), tx)
        })
        .unwrap_err();
    assert_eq!(err, StackError::NoRoute { dst });
}

#[test]
fn arp_failure_on_host_reports_host_unreachable_after_three_requests() {
    let mut lab = Lab::three(1500);
    let h = lab.nodes[A].ping_open().unwrap();
    let absent = Ipv4Addr::new(10, 0, 1, 77);
    lab.with(A, |s, now, tx| {
        s.ping_send(now, h, absent, 1, &[1; 8], SendOptions::default(), tx)
    })
    .unwrap();
    assert_eq!(lab.nodes[A].arp_queued(), 1);
    assert_eq!(
        lab.nodes[A].poll_at(),
        Some(lab.now + Duration::from_secs(1))
    );
    lab.advance(Duration::from_millis(2_900));
    assert_eq!(lab.nodes[A].ping_recv(h), None);
    lab.advance(Duration::from_millis(200));
    assert_eq!(
        lab.nodes[A].ping_recv(h),
        Some(PingEvent::Error {
            from: A_IP,
            seq: 1,
            error: IcmpError::HostUnreachable
        })
    );
    let c = lab.nodes[A].counters();
    assert_eq!((c.arp_requests_sent, c.arp_resolution_failed), (3, 1));
    assert_eq!(lab.nodes[A].arp_queued(), 0);
    assert!(lab.nodes[A].arp_entries(lab.now).is_empty());
    assert_eq!(lab.nodes[A].poll_at(), None);
}

#[test]
fn arp_failure_on_router_sends_icmp_host_unreachable() {
    let mut lab = Lab::three(1500);
    let h = lab.nodes[A].ping_open().unwrap();
    let absent = Ipv4Addr::new(10, 0, 2, 99);
    lab.with(A, |s, now, tx| {
        s.ping_send(now, h, absent, 4, &[1; 8], SendOptions::default(), tx)
    })
    .unwrap();
    lab.advance(Duration::from_secs(4));
    assert_eq!(
        lab.nodes[A].ping_recv(h),
        Some(PingEvent::Error {
            from: R_IP0,
            seq: 4,
            error: IcmpError::HostUnreachable
        })
    );
    // R learned A from its request, so all three requests are for .99.
    assert_eq!(lab.nodes[R].counters().arp_requests_sent, 3);
    assert_eq!(lab.nodes[R].counters().icmp_errors_sent, 1);
}

#[test]
fn arp_queue_is_bounded() {
    let mut lab = Lab::three(1500);
    let h = lab.nodes[A].ping_open().unwrap();
    let absent = Ipv4Addr::new(10, 0, 1, 77);
    for seq in 0..20 {
        lab.with(A, |s, now, tx| {
            s.ping_send(now, h, absent, seq, &[1; 8], SendOptions::default(), tx)
        })
        .unwrap();
    }
    assert_eq!(lab.nodes[A].arp_queued(), 8);
    assert_eq!(lab.nodes[A].counters().arp_queue_dropped, 12);
    assert_eq!(lab.nodes[A].counters().arp_requests_sent, 1);
    lab.advance(Duration::from_secs(4));
    let mut seqs = Vec::new();
    while let Some(PingEvent::Error { seq, .. }) = lab.nodes[A].ping_recv(h) {
        seqs.push(seq);
    }
    assert_eq!(
        seqs,
        (12..20).collect::<Vec<_>>(),
        "the oldest were dropped"
    );
}

struct CountWake(AtomicUsize);
impl Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn waker_is_woken_on_reply() {
    let mut lab = Lab::three(1500);
    let counter = Arc::new(CountWake(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let h = lab.nodes[A].ping_open().unwrap();
    lab.nodes[A].ping_register_waker(h, &waker);
    lab.with(A, |s, now, tx| {
        s.ping_send(now, h, R_IP0, 1, &[], SendOptions::default(), tx)
    })
    .unwrap();
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    // Registering while an event waits wakes at once.
    lab.nodes[A].ping_register_waker(h, &waker);
    assert_eq!(counter.0.load(Ordering::SeqCst), 2);
    assert!(lab.nodes[A].ping_recv(h).is_some());
    lab.nodes[A].ping_close(h);
    assert_eq!(lab.nodes[A].ping_recv(h), None);
    let err = lab
        .with(A, |s, now, tx| {
            s.ping_send(now, h, R_IP0, 1, &[], SendOptions::default(), tx)
        })
        .unwrap_err();
    assert_eq!(err, StackError::BadHandle);
}
