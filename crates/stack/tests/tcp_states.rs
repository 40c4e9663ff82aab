//! Connection establishment and termination, checked state by state
//! against RFC 9293 §3.5 (Figures 6–7) and §3.6 (Figures 12–13), and the
//! failure paths: refused, timed out, backlog full, TIME-WAIT.

mod common;

use common::sim::{A_IP, B_IP, Sim, config};
use core::time::Duration;
use std::net::SocketAddrV4;
use vnet_stack::tcp::TcpState::{self, *};
use vnet_stack::{StackConfig, StackError, TcpError, TcpHandle};

const A: usize = 0;
const B: usize = 1;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn pair_with(a: StackConfig, b: StackConfig) -> Sim {
    let mut sim = Sim::direct(a, b, 1);
    sim.capture = true;
    sim
}

fn pair() -> Sim {
    pair_with(config(1), config(2))
}

fn state(sim: &Sim, n: usize, h: TcpHandle) -> Option<TcpState> {
    sim.nodes[n].tcp_state(h)
}

/// Listener on B:80, connection from A; returns (client, listener, server).
fn establish(sim: &mut Sim) -> (TcpHandle, TcpHandle, TcpHandle) {
    let l = sim.nodes[B].tcp_listen(80, 4).unwrap();
    let c = sim
        .with(A, |s, now, tx| {
            s.tcp_connect(now, SocketAddrV4::new(B_IP, 80), tx)
        })
        .unwrap();
    assert_eq!(state(sim, A, c), Some(SynSent));
    assert!(sim.run_until(secs(5), |s| s.nodes[A].tcp_state(c) == Some(Established)));
    sim.run_for(Duration::from_millis(10));
    let srv = sim.nodes[B].tcp_accept(l).expect("accepted");
    assert_eq!(state(sim, B, srv), Some(Established));
    (c, l, srv)
}

fn recv_all(sim: &mut Sim, n: usize, h: TcpHandle) -> Result<Vec<u8>, StackError> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match sim.with(n, |s, now, tx| s.tcp_recv(now, h, &mut buf, tx)) {
            Ok(0) => return Ok(out),
            Ok(k) => out.extend_from_slice(&buf[..k]),
            Err(StackError::WouldBlock) => return Ok(out),
            Err(e) => return Err(e),
        }
    }
}

#[test]
fn open_and_close_follow_rfc_9293() {
    let mut sim = pair();
    let (c, l, srv) = establish(&mut sim);
    // Figure 6: the three-way handshake.
    let syn = &sim.segments_from(A)[0].1;
    assert_eq!(syn.flags.to_string(), "S");
    assert_eq!(syn.mss, Some(1460), "MSS = MTU 1500 - 40");
    assert_eq!(syn.window_scale, Some(3), "256 KiB buffer needs shift 3");
    assert!(syn.timestamps.is_some());
    let synack = &sim.segments_from(B)[0].1;
    assert_eq!(synack.flags.to_string(), "S.");
    assert_eq!(synack.ack, Some(syn.seq.wrapping_add(1)));
    assert_eq!(
        sim.segments_from(A)[1].1.ack,
        Some(synack.seq.wrapping_add(1))
    );
    assert_ne!(syn.seq, 0, "the ISN comes from RFC 6528, not a constant");

    // Figure 12: A closes first.
    sim.with(A, |s, now, tx| s.tcp_shutdown(now, c, tx))
        .unwrap();
    assert_eq!(state(&sim, A, c), Some(FinWait1));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(state(&sim, A, c), Some(FinWait2));
    assert_eq!(state(&sim, B, srv), Some(CloseWait));
    assert_eq!(recv_all(&mut sim, B, srv), Ok(vec![]), "EOF");
    sim.with(B, |s, now, tx| s.tcp_shutdown(now, srv, tx))
        .unwrap();
    assert_eq!(state(&sim, B, srv), Some(LastAck));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(state(&sim, A, c), Some(TimeWait));
    assert_eq!(state(&sim, B, srv), Some(Closed));
    sim.run_for(secs(61));
    assert_eq!(state(&sim, A, c), Some(Closed));

    assert_eq!(
        sim.nodes[A].tcp_state_history(c),
        vec![
            Closed,
            SynSent,
            Established,
            FinWait1,
            FinWait2,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        sim.nodes[B].tcp_state_history(srv),
        vec![Listen, SynReceived, Established, CloseWait, LastAck, Closed]
    );
    assert_eq!(sim.nodes[B].tcp_state_history(l), vec![Closed, Listen]);
    for (n, h) in [(A, c), (B, srv), (B, l)] {
        sim.with(n, |s, now, tx| s.tcp_close(now, h, tx));
        assert_eq!(sim.nodes[n].tcp_state(h), None, "released");
    }
    assert_eq!(sim.nodes[A].tcp_socket_count(), 0);
    assert_eq!(sim.nodes[B].tcp_socket_count(), 0);
    let ca = sim.nodes[A].counters();
    assert_eq!(
        (
            ca.tcp_conn_opened,
            ca.tcp_conn_established,
            ca.tcp_conn_closed
        ),
        (1, 1, 1)
    );
    let cb = sim.nodes[B].counters();
    assert_eq!(
        (
            cb.tcp_conn_accepted,
            cb.tcp_conn_closed,
            cb.tcp_conn_aborted
        ),
        (1, 1, 0)
    );
}

#[test]
fn simultaneous_open() {
    let mut sim = pair();
    // RFC 9293 Figure 7: both SYNs cross on the wire.
    let a = sim
        .with(A, |s, now, tx| {
            s.tcp_connect_from(now, 5000, SocketAddrV4::new(B_IP, 6000), tx)
        })
        .unwrap();
    let b = sim
        .with(B, |s, now, tx| {
            s.tcp_connect_from(now, 6000, SocketAddrV4::new(A_IP, 5000), tx)
        })
        .unwrap();
    assert!(sim.run_until(secs(5), |s| {
        s.nodes[A].tcp_state(a) == Some(Established) && s.nodes[B].tcp_state(b) == Some(Established)
    }));
    for (n, h) in [(A, a), (B, b)] {
        assert_eq!(
            sim.nodes[n].tcp_state_history(h),
            vec![Closed, SynSent, SynReceived, Established]
        );
    }
    // Data flows both ways afterwards.
    sim.with(A, |s, now, tx| s.tcp_send(now, a, b"ping", tx))
        .unwrap();
    sim.with(B, |s, now, tx| s.tcp_send(now, b, b"pong", tx))
        .unwrap();
    sim.run_for(Duration::from_millis(50));
    assert_eq!(recv_all(&mut sim, B, b).unwrap(), b"ping");
    assert_eq!(recv_all(&mut sim, A, a).unwrap(), b"pong");
}

#[test]
fn simultaneous_close() {
    let mut sim = pair();
    let (c, _, srv) = establish(&mut sim);
    // RFC 9293 Figure 13: both FINs cross on the wire.
    sim.with(A, |s, now, tx| s.tcp_shutdown(now, c, tx))
        .unwrap();
    sim.with(B, |s, now, tx| s.tcp_shutdown(now, srv, tx))
        .unwrap();
    sim.run_for(Duration::from_millis(20));
    assert_eq!(state(&sim, A, c), Some(TimeWait));
    assert_eq!(state(&sim, B, srv), Some(TimeWait));
    sim.run_for(secs(61));
    assert_eq!(
        sim.nodes[A].tcp_state_history(c),
        vec![
            Closed,
            SynSent,
            Established,
            FinWait1,
            Closing,
            TimeWait,
            Closed
        ]
    );
    assert_eq!(
        sim.nodes[B].tcp_state_history(srv),
        vec![
            Listen,
            SynReceived,
            Established,
            FinWait1,
            Closing,
            TimeWait,
            Closed
        ]
    );
}

#[test]
fn half_close_keeps_receiving() {
    let mut sim = pair();
    let (c, _, srv) = establish(&mut sim);
    sim.with(A, |s, now, tx| s.tcp_send(now, c, b"request", tx))
        .unwrap();
    sim.with(A, |s, now, tx| s.tcp_shutdown(now, c, tx))
        .unwrap();
    assert_eq!(
        sim.with(A, |s, now, tx| s.tcp_send(now, c, b"more", tx)),
        Err(StackError::Shutdown)
    );
    sim.run_for(Duration::from_millis(20));
    assert_eq!(recv_all(&mut sim, B, srv).unwrap(), b"request");
    assert_eq!(state(&sim, B, srv), Some(CloseWait));
    let reply = vec![7u8; 100_000];
    let mut sent = 0;
    let mut got = Vec::new();
    while got.len() < reply.len() {
        if sent < reply.len()
            && let Ok(n) = sim.with(B, |s, now, tx| s.tcp_send(now, srv, &reply[sent..], tx))
        {
            sent += n;
        }
        sim.run_for(Duration::from_millis(5));
        got.extend(recv_all(&mut sim, A, c).unwrap());
    }
    assert_eq!(got, reply);
    assert_eq!(state(&sim, A, c), Some(FinWait2));
    sim.with(B, |s, now, tx| s.tcp_close(now, srv, tx));
    sim.run_for(Duration::from_millis(20));
    assert_eq!(recv_all(&mut sim, A, c), Ok(vec![]));
    assert_eq!(state(&sim, A, c), Some(TimeWait));
}

#[test]
fn syn_to_closed_port_is_refused() {
    let mut sim = pair();
    let c = sim
        .with(A, |s, now, tx| {
            s.tcp_connect(now, SocketAddrV4::new(B_IP, 81), tx)
        })
        .unwrap();
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.nodes[A].tcp_error(c), Some(TcpError::Refused));
    assert_eq!(state(&sim, A, c), Some(Closed));
    assert_eq!(
        sim.nodes[A].tcp_state_history(c),
        vec![Closed, SynSent, Closed]
    );
    assert_eq!(
        sim.with(A, |s, now, tx| s.tcp_send(now, c, b"x", tx)),
        Err(StackError::Connection(TcpError::Refused))
    );
    // RFC 9293 §3.10.7.1: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    let syn = &sim.segments_from(A)[0].1;
    let rst = &sim.segments_from(B)[0].1;
    assert_eq!(rst.flags.to_string(), "R.");
    assert_eq!((rst.seq, rst.ack), (0, Some(syn.seq.wrapping_add(1))));
    assert_eq!(sim.nodes[B].counters().tcp_no_socket, 1);
    assert_eq!(sim.nodes[B].counters().tcp_rst_sent, 1);
    assert_eq!(sim.nodes[A].counters().tcp_rst_rx, 1);
    assert_eq!(sim.nodes[A].counters().tcp_conn_aborted, 1);
    sim.with(A, |s, now, tx| s.tcp_close(now, c, tx));
    assert_eq!(sim.nodes[A].tcp_socket_count(), 0);
}

#[test]
fn syn_retries_exhausted_times_out() {
    let mut sim = pair();
    sim.set_down(0, true);
    let start = sim.now;
    let c = sim
        .with(A, |s, now, tx| {
            s.tcp_connect(now, SocketAddrV4::new(B_IP, 80), tx)
        })
        .unwrap();
    assert!(sim.run_until(secs(300), |s| s.nodes[A].tcp_error(c).is_some()));
    assert_eq!(sim.nodes[A].tcp_error(c), Some(TcpError::TimedOut));
    // Six retransmissions (Linux tcp_syn_retries) 1, 2, 4, 8, 16, 32 s
    // apart, then 60 s (the maximum RTO, RFC 6298 §2.5) before giving up.
    assert_eq!(sim.now - start, secs(123));
    assert_eq!(sim.nodes[A].counters().tcp_retransmissions, 6);
    // ARP never resolved: the soft error says why.
    let info = sim.nodes[A].tcp_info(c).unwrap();
    assert_eq!(
        info.soft_error,
        Some(vnet_stack::IcmpError::HostUnreachable)
    );
}

#[test]
fn data_retries_exhausted_times_out() {
    let mut cfg = config(1);
    cfg.tcp.max_retries = 4;
    let mut sim = pair_with(cfg, config(2));
    let (c, _, srv) = establish(&mut sim);
    sim.set_down(0, true);
    sim.with(A, |s, now, tx| s.tcp_send(now, c, b"into the void", tx))
        .unwrap();
    let start = sim.now;
    assert!(sim.run_until(secs(60), |s| s.nodes[A].tcp_error(c).is_some()));
    assert_eq!(sim.nodes[A].tcp_error(c), Some(TcpError::TimedOut));
    assert_eq!(sim.nodes[A].counters().tcp_rto_timeouts, 4);
    // 200 ms minimum RTO doubled each time: 0.2 + 0.4 + 0.8 + 1.6 + 3.2 s.
    let took = sim.now - start;
    assert!(
        took >= Duration::from_millis(6200) && took < Duration::from_millis(6400),
        "{took:?}"
    );
    assert_eq!(
        state(&sim, B, srv),
        Some(Established),
        "B never heard of it"
    );
    assert_eq!(
        sim.with(A, |s, now, tx| s.tcp_recv(now, c, &mut [0; 4], tx)),
        Err(StackError::Connection(TcpError::TimedOut))
    );
}

#[test]
fn listen_backlog_full_drops_syns() {
    // Without SYN cookies (they answer an overflow instead: tcp_syncookies.rs).
    let mut b = config(2);
    b.tcp.syn_cookies = false;
    let mut sim = pair_with(config(1), b);
    let l = sim.nodes[B].tcp_listen(80, 2).unwrap();
    let clients: Vec<TcpHandle> = (0..4)
        .map(|_| {
            sim.with(A, |s, now, tx| {
                s.tcp_connect(now, SocketAddrV4::new(B_IP, 80), tx)
            })
            .unwrap()
        })
        .collect();
    sim.run_for(Duration::from_millis(100));
    let established = |sim: &Sim| {
        clients
            .iter()
            .filter(|&&c| sim.nodes[A].tcp_state(c) == Some(Established))
            .count()
    };
    assert_eq!(established(&sim), 2);
    assert_eq!(sim.nodes[B].counters().tcp_backlog_full, 2);
    assert_eq!(sim.nodes[B].tcp_info(l).unwrap().recv_queue, 2);
    let first = sim.nodes[B].tcp_accept(l).unwrap();
    let second = sim.nodes[B].tcp_accept(l).unwrap();
    assert_ne!(first, second);
    assert_eq!(sim.nodes[B].tcp_accept(l), None);
    // The dropped SYNs are retransmitted after the 1 s initial RTO.
    sim.run_for(Duration::from_millis(1100));
    assert_eq!(established(&sim), 4);
    assert!(sim.nodes[B].tcp_accept(l).is_some());
    assert!(sim.nodes[B].tcp_accept(l).is_some());
    // Closing the listener resets nothing already accepted.
    sim.with(B, |s, now, tx| s.tcp_close(now, l, tx));
    assert_eq!(state(&sim, B, first), Some(Established));
}

#[test]
fn time_wait_lasts_two_msl() {
    let mut cfg = config(1);
    cfg.tcp.msl = secs(5);
    let mut sim = pair_with(cfg, config(2));
    let (c, _, srv) = establish(&mut sim);
    sim.with(A, |s, now, tx| s.tcp_shutdown(now, c, tx))
        .unwrap();
    sim.run_for(Duration::from_millis(10));
    sim.with(B, |s, now, tx| s.tcp_close(now, srv, tx));
    assert!(sim.run_until(secs(1), |s| s.nodes[A].tcp_state(c) == Some(TimeWait)));
    let entered = sim.now;
    assert!(sim.run_until(secs(30), |s| s.nodes[A].tcp_state(c) == Some(Closed)));
    assert_eq!(sim.now - entered, secs(10), "2 x MSL");
    // A SYN to the old 4-tuple after TIME-WAIT meets no connection.
    assert_eq!(sim.nodes[B].tcp_socket_count(), 1);
}

#[test]
fn retransmitted_fin_in_time_wait_is_acked() {
    let mut sim = pair();
    let (c, _, srv) = establish(&mut sim);
    sim.with(A, |s, now, tx| s.tcp_shutdown(now, c, tx))
        .unwrap();
    sim.run_for(Duration::from_millis(10));
    // A's ACK of B's FIN is lost: B retransmits its FIN, A (in TIME-WAIT)
    // acknowledges it again (RFC 9293 §3.10.7.4, TIME-WAIT: "Acknowledge
    // it, and restart the 2 MSL timeout").
    sim.set_down_dir(0, 0, true);
    sim.with(B, |s, now, tx| s.tcp_shutdown(now, srv, tx))
        .unwrap();
    sim.run_for(Duration::from_millis(100));
    assert_eq!(state(&sim, A, c), Some(TimeWait));
    assert_eq!(state(&sim, B, srv), Some(LastAck));
    sim.set_down_dir(0, 0, false);
    assert!(sim.run_until(secs(5), |s| s.nodes[B].tcp_state(srv) == Some(Closed)));
    assert!(sim.nodes[B].counters().tcp_retransmissions >= 1);
    assert_eq!(state(&sim, A, c), Some(TimeWait));
}

#[test]
fn close_with_unread_data_resets() {
    let mut sim = pair();
    let (c, _, srv) = establish(&mut sim);
    sim.with(A, |s, now, tx| s.tcp_send(now, c, b"unread", tx))
        .unwrap();
    sim.run_for(Duration::from_millis(10));
    sim.with(B, |s, now, tx| s.tcp_close(now, srv, tx));
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.nodes[A].tcp_error(c), Some(TcpError::Reset));
    assert_eq!(
        sim.with(A, |s, now, tx| s.tcp_recv(now, c, &mut [0; 4], tx)),
        Err(StackError::Connection(TcpError::Reset))
    );
    assert_eq!(
        sim.nodes[B].tcp_socket_count(),
        1,
        "only the listener is left"
    );
}

#[test]
fn abort_resets_the_peer() {
    let mut sim = pair();
    let (c, _, srv) = establish(&mut sim);
    sim.with(A, |s, now, tx| s.tcp_abort(now, c, tx));
    assert_eq!(sim.nodes[A].tcp_state(c), None);
    sim.run_for(Duration::from_millis(10));
    assert_eq!(sim.nodes[B].tcp_error(srv), Some(TcpError::Reset));
    assert_eq!(
        sim.nodes[B].tcp_state_history(srv),
        vec![Listen, SynReceived, Established, Closed]
    );
}
