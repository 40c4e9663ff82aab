//! SYN cookies (RFC 4987 §3.6): a listener whose backlog is full of
//! half-open connections from forged sources still completes handshakes,
//! statelessly, and rejects ACKs with wrong or expired cookies.

mod common;

use common::sim::{A_IP, B_IP, Sim, config};
use common::{ipv4_frame, mac};
use core::time::Duration;
use std::net::{Ipv4Addr, SocketAddrV4};
use vnet_stack::StackError;
use vnet_stack::TcpHandle;
use vnet_stack::tcp::TcpState::*;
use vnet_wire::tcp::{TcpFlags, TcpPacket, TcpRepr, TcpTimestamps};

const A: usize = 0;
const B: usize = 1;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn pair() -> Sim {
    let mut sim = Sim::direct(config(1), config(2), 1);
    sim.capture = true;
    sim
}

/// A frame from `src` to B:80 carrying `repr`.
fn to_b(src: SocketAddrV4, mut repr: TcpRepr, payload: &[u8]) -> Vec<u8> {
    repr.src_port = src.port();
    repr.dst_port = 80;
    repr.payload_len = payload.len();
    let mut seg = vec![0u8; repr.buffer_len()];
    repr.emit_with_payload(
        &mut TcpPacket::new_unchecked(&mut seg[..]),
        *src.ip(),
        B_IP,
        payload,
    );
    ipv4_frame(
        mac(2, 0),
        mac(1, 0),
        *src.ip(),
        B_IP,
        6,
        1,
        false,
        0,
        64,
        &seg,
    )
}

fn inject(sim: &mut Sim, src: SocketAddrV4, repr: TcpRepr) {
    let mut f = to_b(src, repr, &[]);
    sim.with(B, |s, now, tx| s.receive(now, 0, &mut f, tx));
}

/// A SYN as Linux sends it: MSS, window scale, timestamps.
fn syn(seq: u32, mss: Option<u16>) -> TcpRepr {
    let mut r = TcpRepr::new(0, 0, seq, TcpFlags::SYN);
    r.mss = mss;
    r.window = 64240;
    r.window_scale = Some(7);
    r.timestamps = Some(TcpTimestamps {
        tsval: 12345,
        tsecr: 0,
    });
    r
}

fn ack(seq: u32, ack: u32) -> TcpRepr {
    let mut r = TcpRepr::new(0, 0, seq, TcpFlags::ACK);
    r.ack = Some(ack);
    r.window = 8192;
    r
}

/// `hping3 -S --rand-source`: SYNs from forged, unreachable sources
/// (TEST-NET-2; B has no route back, so nobody ever completes them).
fn flood(sim: &mut Sim, ids: core::ops::Range<u32>) {
    for i in ids {
        let src = SocketAddrV4::new(
            Ipv4Addr::new(198, 51, (100 + i / 250) as u8, (1 + i % 250) as u8),
            1024 + i as u16,
        );
        inject(sim, src, syn(i.wrapping_mul(7919), Some(1460)));
    }
}

/// Segments B sent to port `port`, oldest first.
fn from_b_to(sim: &Sim, port: u16) -> Vec<TcpRepr> {
    sim.segments_from(B)
        .into_iter()
        .map(|(_, r)| r)
        .filter(|r| r.dst_port == port)
        .collect()
}

fn recv_all(sim: &mut Sim, n: usize, h: TcpHandle, into: &mut Vec<u8>) {
    let mut buf = [0u8; 8192];
    loop {
        match sim.with(n, |s, now, tx| s.tcp_recv(now, h, &mut buf, tx)) {
            Ok(0) | Err(StackError::WouldBlock) => return,
            Ok(k) => into.extend_from_slice(&buf[..k]),
            Err(e) => panic!("recv: {e}"),
        }
    }
}

fn pattern(len: usize, salt: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 13) as u8)
        .collect()
}

#[test]
fn full_backlog_answers_with_a_cookie_and_the_connection_carries_data() {
    let mut sim = pair();
    let l = sim.nodes[B].tcp_listen(80, 4).unwrap();
    flood(&mut sim, 0..50);
    let cnt = sim.nodes[B].counters().clone();
    assert_eq!(cnt.tcp_backlog_full, 46);
    assert_eq!(cnt.tcp_syncookies_sent, 46);
    assert_eq!(
        sim.nodes[B].tcp_socket_count(),
        5,
        "listener + 4 half-open: the overflow kept no state"
    );

    // A real client connects while the backlog is still full.
    let c = sim
        .with(A, |s, now, tx| {
            s.tcp_connect(now, SocketAddrV4::new(B_IP, 80), tx)
        })
        .unwrap();
    let port = sim.nodes[A].tcp_info(c).unwrap().local.port();
    assert!(sim.run_until(ms(500), |s| s.nodes[A].tcp_state(c) == Some(Established)));
    sim.run_for(ms(5));
    let srv = sim.nodes[B].tcp_accept(l).expect("accepted via a cookie");
    assert_eq!(sim.nodes[B].tcp_state(srv), Some(Established));
    let cnt = sim.nodes[B].counters();
    assert_eq!(cnt.tcp_syncookies_sent, 47);
    assert_eq!(cnt.tcp_syncookies_ok, 1);
    assert_eq!(cnt.tcp_syncookies_failed, 0);

    // The cookie SYN-ACK: our MSS, no window scale, no timestamps.
    let synack = from_b_to(&sim, port)[0];
    assert_eq!(synack.flags, TcpFlags::SYN | TcpFlags::ACK);
    assert_eq!(synack.mss, Some(1460));
    assert_eq!(synack.window_scale, None);
    assert_eq!(synack.timestamps, None);
    assert_eq!(synack.window, 65535);
    assert_eq!(
        sim.nodes[B].tcp_info(srv).unwrap().mss,
        1460,
        "from the cookie"
    );
    assert_eq!(sim.nodes[A].tcp_info(c).unwrap().mss, 1460);

    // Data both ways, byte-exact, on raw 16-bit windows.
    let up = pattern(150_000, 1);
    let down = pattern(90_000, 2);
    let n = sim
        .with(A, |s, now, tx| s.tcp_send(now, c, &up, tx))
        .unwrap();
    assert_eq!(n, up.len());
    let n = sim
        .with(B, |s, now, tx| s.tcp_send(now, srv, &down, tx))
        .unwrap();
    assert_eq!(n, down.len());
    let (mut got_up, mut got_down) = (Vec::new(), Vec::new());
    let done = sim.run_until(Duration::from_secs(10), |s| {
        recv_all(s, B, srv, &mut got_up);
        recv_all(s, A, c, &mut got_down);
        got_up.len() == up.len() && got_down.len() == down.len()
    });
    assert!(done, "{} / {} bytes", got_up.len(), got_down.len());
    assert!(got_up == up, "client → server bytes differ");
    assert!(got_down == down, "server → client bytes differ");
    for (node, h) in [(A, c), (B, srv)] {
        let info = sim.nodes[node].tcp_info(h).unwrap();
        assert!(info.snd_wnd <= 65535, "unscaled window: {}", info.snd_wnd);
        assert_eq!(info.retransmissions, 0, "node {node}");
    }
    // Neither side used timestamps or scaled windows after the handshake.
    assert!(
        sim.segments_from(A)
            .iter()
            .filter(|(_, r)| r.dst_port == 80 && r.src_port == port)
            .filter(|(_, r)| !r.flags.contains(TcpFlags::SYN))
            .all(|(_, r)| r.timestamps.is_none())
    );
    assert!(from_b_to(&sim, port).iter().all(|r| r.timestamps.is_none()));

    // And it closes cleanly.
    sim.with(A, |s, now, tx| s.tcp_close(now, c, tx));
    sim.run_for(ms(50));
    let mut rest = Vec::new();
    recv_all(&mut sim, B, srv, &mut rest);
    sim.with(B, |s, now, tx| s.tcp_close(now, srv, tx));
    assert!(sim.run_until(ms(500), |s| s.nodes[A].tcp_state(c) == Some(TimeWait)));
}

#[test]
fn wrong_or_expired_cookies_are_reset_and_counted() {
    let mut sim = pair();
    let _l = sim.nodes[B].tcp_listen(80, 4).unwrap();
    let client = |port| SocketAddrV4::new(A_IP, port);

    // No overflow yet: an ACK at the listener is reset, no cookie checked.
    inject(&mut sim, client(40000), ack(1, 2));
    assert_eq!(sim.nodes[B].counters().tcp_syncookies_failed, 0);
    assert_eq!(sim.nodes[B].counters().tcp_rst_sent, 1);

    flood(&mut sim, 0..5);
    assert_eq!(sim.nodes[B].counters().tcp_syncookies_sent, 1);
    // A genuine cookie for A:40001 (A has no such socket: it resets the
    // SYN-ACK, which the listener ignores).
    inject(&mut sim, client(40001), syn(1000, Some(1460)));
    sim.run_for(ms(10));
    let cookie = from_b_to(&sim, 40001)[0].seq;

    // A wrong cookie: an unacceptable ACK in LISTEN, <SEQ=SEG.ACK><CTL=RST>.
    inject(&mut sim, client(40001), ack(1001, cookie.wrapping_add(2)));
    sim.run_for(ms(10));
    let cnt = sim.nodes[B].counters();
    assert_eq!(cnt.tcp_syncookies_failed, 1);
    assert_eq!(cnt.tcp_syncookies_ok, 0);
    let rst = *from_b_to(&sim, 40001).last().unwrap();
    assert_eq!(rst.flags, TcpFlags::RST);
    assert_eq!(rst.seq, cookie.wrapping_add(2));
    // The right cookie with the wrong client ISN fails too.
    inject(&mut sim, client(40001), ack(2001, cookie.wrapping_add(1)));
    assert_eq!(sim.nodes[B].counters().tcp_syncookies_failed, 2);
    assert_eq!(sim.nodes[B].tcp_socket_count(), 5, "no connection made");

    // 130 s later (two 64 s periods) the genuine cookie has expired. A
    // fresh overflow keeps cookie checking on.
    sim.run_for(Duration::from_secs(130));
    flood(&mut sim, 100..105);
    inject(&mut sim, client(40001), ack(1001, cookie.wrapping_add(1)));
    sim.run_for(ms(10));
    let cnt = sim.nodes[B].counters();
    assert_eq!(cnt.tcp_syncookies_failed, 3);
    assert_eq!(cnt.tcp_syncookies_ok, 0);
    let rst = *from_b_to(&sim, 40001).last().unwrap();
    assert_eq!(rst.flags, TcpFlags::RST);
    assert_eq!(rst.seq, cookie.wrapping_add(1));

    // Control: a fresh cookie completed the same way is accepted.
    inject(&mut sim, client(40002), syn(5000, Some(1460)));
    sim.run_for(ms(10));
    let fresh = from_b_to(&sim, 40002)[0].seq;
    inject(&mut sim, client(40002), ack(5001, fresh.wrapping_add(1)));
    assert_eq!(sim.nodes[B].counters().tcp_syncookies_ok, 1);
    assert_eq!(sim.nodes[B].counters().tcp_syncookies_failed, 3);
}

#[test]
fn cookie_mss_is_the_largest_table_entry_not_above_the_clients() {
    let mut sim = pair();
    let l = sim.nodes[B].tcp_listen(80, 1).unwrap();
    flood(&mut sim, 0..2);
    let cases = [
        (Some(1460), 1460),
        (Some(9000), 1460),
        (Some(1459), 1440),
        (Some(1440), 1440),
        (Some(1300), 1220),
        (Some(1220), 1220),
        (Some(1000), 536),
        (None, 536),
    ];
    for (i, &(client_mss, want)) in cases.iter().enumerate() {
        let port = 41000 + i as u16;
        let src = SocketAddrV4::new(A_IP, port);
        let isn = 7000 * i as u32;
        inject(&mut sim, src, syn(isn, client_mss));
        sim.run_for(ms(10));
        let synack = from_b_to(&sim, port)[0];
        assert_eq!(synack.ack, Some(isn + 1));
        assert_eq!(synack.mss, Some(1460), "our MSS in the SYN-ACK");
        inject(&mut sim, src, ack(isn + 1, synack.seq.wrapping_add(1)));
        let srv = sim.nodes[B].tcp_accept(l).expect("accepted via a cookie");
        let info = sim.nodes[B].tcp_info(srv).unwrap();
        assert_eq!(info.remote, src);
        assert_eq!(info.mss, want, "client MSS {client_mss:?}");
    }
    assert_eq!(
        sim.nodes[B].counters().tcp_syncookies_ok,
        cases.len() as u64
    );
}

#[test]
fn lost_cookie_ack_is_recovered_by_the_first_data_segment() {
    let mut sim = pair();
    let l = sim.nodes[B].tcp_listen(80, 2).unwrap();
    flood(&mut sim, 0..3);
    let src = SocketAddrV4::new(A_IP, 42000);
    inject(&mut sim, src, syn(9000, Some(1460)));
    sim.run_for(ms(10));
    let cookie = from_b_to(&sim, 42000)[0].seq;
    // The pure ACK was lost; the request that followed it arrives.
    let mut f = to_b(
        src,
        ack(9001, cookie.wrapping_add(1)),
        b"GET / HTTP/1.0\r\n\r\n",
    );
    sim.with(B, |s, now, tx| s.receive(now, 0, &mut f, tx));
    let srv = sim.nodes[B].tcp_accept(l).expect("accepted via a cookie");
    let mut got = Vec::new();
    recv_all(&mut sim, B, srv, &mut got);
    assert_eq!(got, b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(sim.nodes[B].counters().tcp_syncookies_ok, 1);
}

#[test]
fn valid_cookie_meeting_a_full_accept_queue_is_dropped() {
    let mut sim = pair();
    let l = sim.nodes[B].tcp_listen(80, 1).unwrap();
    flood(&mut sim, 0..2);
    let complete = |sim: &mut Sim, port: u16| {
        let src = SocketAddrV4::new(A_IP, port);
        inject(sim, src, syn(100, Some(1460)));
        sim.run_for(ms(10));
        let cookie = from_b_to(sim, port)[0].seq;
        inject(sim, src, ack(101, cookie.wrapping_add(1)));
    };
    complete(&mut sim, 43000);
    let full = sim.nodes[B].counters().tcp_backlog_full;
    let sockets = sim.nodes[B].tcp_socket_count();
    // The application has not accepted the first one: the second valid
    // cookie is dropped (Linux `ListenOverflows`), no state is kept.
    complete(&mut sim, 43001);
    let cnt = sim.nodes[B].counters();
    assert_eq!(cnt.tcp_syncookies_ok, 1);
    assert_eq!(cnt.tcp_syncookies_failed, 0);
    assert_eq!(cnt.tcp_backlog_full, full + 2, "its SYN and its ACK");
    assert_eq!(sim.nodes[B].tcp_socket_count(), sockets);
    assert!(sim.nodes[B].tcp_accept(l).is_some());
    assert_eq!(sim.nodes[B].tcp_accept(l), None);
}
