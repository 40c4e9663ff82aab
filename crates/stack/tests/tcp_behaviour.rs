//! TCP details seen on the wire: Nagle, delayed ACKs, option negotiation,
//! MSS from the MTU, Path MTU Discovery, RFC 5961 defences, wakers,
//! loopback connections, and fuzzing with well-formed segments.

mod common;

use common::sim::{B_IP, RB_IP, Reader, Sim, config, transfer};
use common::{iface, ipv4_frame, mac, validate_frame};
use core::time::Duration;
use proptest::prelude::*;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};
use vnet_stack::tcp::TcpState::*;
use vnet_stack::time::Instant;
use vnet_stack::{NetStack, StackConfig, StackError, TcpError, TcpHandle};
use vnet_wire::tcp::{TcpFlags, TcpPacket, TcpRepr, TcpTimestamps};

const A: usize = 0;
const B: usize = 1;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn establish(sim: &mut Sim) -> (TcpHandle, TcpHandle) {
    common::sim::establish(sim, ms(5))
}

fn data_segments(sim: &Sim, n: usize) -> Vec<(Instant, TcpRepr)> {
    sim.segments_from(n)
        .into_iter()
        .filter(|(_, s)| s.payload_len > 0)
        .collect()
}

fn drain(sim: &mut Sim, n: usize, h: TcpHandle) -> usize {
    let mut buf = [0u8; 65536];
    let mut total = 0;
    while let Ok(k) = sim.with(n, |s, now, tx| s.tcp_recv(now, h, &mut buf, tx)) {
        if k == 0 {
            break;
        }
        total += k;
    }
    total
}

#[test]
fn nagle_coalesces_small_writes_until_acked() {
    for nodelay in [false, true] {
        let mut sim = Sim::direct(config(1), config(2), 1);
        let (c, _) = establish(&mut sim);
        sim.nodes[A].tcp_set_nodelay(c, nodelay);
        sim.capture = true;
        for _ in 0..6 {
            sim.with(A, |s, now, tx| s.tcp_send(now, c, b"x", tx))
                .unwrap();
        }
        sim.run_for(ms(100));
        let segs = data_segments(&sim, A);
        if nodelay {
            assert_eq!(segs.len(), 6, "TCP_NODELAY sends each write");
        } else {
            // RFC 896: the first byte goes at once, the other five wait
            // for its ACK (delayed by B: 40 ms) and leave together.
            assert_eq!(segs.len(), 2);
            assert_eq!(segs[1].1.payload_len, 5);
            assert!(segs[1].0 - segs[0].0 >= ms(40));
        }
    }
}

#[test]
fn delayed_ack_and_every_second_segment() {
    let mut sim = Sim::direct(config(1), config(2), 1);
    let (c, srv) = establish(&mut sim);
    sim.capture = true;
    let t0 = sim.now;
    sim.with(A, |s, now, tx| s.tcp_send(now, c, &[1; 100], tx))
        .unwrap();
    sim.run_for(ms(100));
    let acks = sim.segments_from(B);
    assert_eq!(acks.len(), 1);
    // Arrives after 1 ms, acknowledged 40 ms later (RFC 1122 §4.2.3.2).
    assert_eq!(acks[0].0 - t0, ms(41));
    assert_eq!(drain(&mut sim, B, srv), 100);

    sim.captured.clear();
    let t1 = sim.now;
    sim.with(A, |s, now, tx| s.tcp_send(now, c, &[2; 2 * 1448], tx))
        .unwrap();
    sim.run_for(ms(100));
    let acks = sim.segments_from(B);
    assert_eq!(acks.len(), 1, "one ACK for two full-sized segments");
    assert_eq!(acks[0].0 - t1, ms(1), "sent at once (RFC 5681 §4.2)");
    let segs = data_segments(&sim, A);
    assert_eq!(
        segs.iter().map(|s| s.1.payload_len).collect::<Vec<_>>(),
        vec![1448, 1448]
    );
    assert!(segs[0].1.timestamps.is_some());
}

#[test]
fn options_are_negotiated() {
    // B turns window scaling and timestamps off: A must not use them.
    let mut cb = config(2);
    cb.tcp.window_scaling = false;
    cb.tcp.timestamps = false;
    let mut sim = Sim::direct(config(1), cb, 1);
    sim.capture = true;
    let (c, srv) = establish(&mut sim);
    let synack = &sim.segments_from(B)[0].1;
    assert_eq!((synack.window_scale, synack.timestamps), (None, None));
    assert_eq!(synack.window, 65535);
    let data = vec![0u8; 300_000];
    let (mut sent, mut got) = (0, 0);
    let mut rounds = 0;
    while got < 300_000 {
        if let Ok(n) = sim.with(A, |s, now, tx| s.tcp_send(now, c, &data[sent..], tx)) {
            sent += n;
        }
        sim.run_for(ms(2));
        got += drain(&mut sim, B, srv);
        rounds += 1;
        assert!(
            rounds < 10_000,
            "stalled at {got}: {:?} / {:?}",
            sim.nodes[A].tcp_info(c),
            sim.nodes[B].tcp_info(srv)
        );
    }
    let info = sim.nodes[A].tcp_info(c).unwrap();
    assert_eq!(info.mss, 1460);
    assert!(info.snd_wnd <= 65535, "unscaled window: {}", info.snd_wnd);
    for (_, s) in data_segments(&sim, A) {
        assert!(s.timestamps.is_none());
        assert!(s.payload_len <= 1460);
    }
}

#[test]
fn mss_follows_the_mtu() {
    let a = NetStack::new(config(1), vec![iface(1, 0, "10.0.0.1/24", 1500)]);
    let b = NetStack::new(config(2), vec![iface(2, 0, "10.0.0.2/24", 576)]);
    let mut sim = Sim::new(vec![a, b], 1);
    sim.link((0, 0), (1, 0), common::sim::Impair::delay(ms(1)));
    sim.capture = true;
    let (c, srv) = establish(&mut sim);
    assert_eq!(sim.segments_from(B)[0].1.mss, Some(536));
    assert_eq!(sim.nodes[A].tcp_info(c).unwrap().mss, 536);
    assert_eq!(sim.nodes[B].tcp_info(srv).unwrap().mss, 536);
}

#[test]
fn path_mtu_discovery() {
    // R's link to B has MTU 576 but B itself announces 1460: A's full-sized
    // segments (DF set) earn an ICMP "fragmentation needed" from R, and A
    // lowers its MSS (RFC 1191).
    let mut sim = Sim::via_router(config(1), config(2), 3);
    let r = NetStack::new(
        StackConfig::router(),
        vec![
            iface(3, 0, "10.0.1.1/24", 1500),
            iface(3, 1, "10.0.2.1/24", 576),
        ],
    );
    sim.nodes[1] = r;
    let report = transfer(
        &mut sim,
        0,
        2,
        SocketAddrV4::new(RB_IP, 80),
        1 << 20,
        &Reader::default(),
        Duration::from_secs(60),
        |_, _| None,
    );
    assert!(sim.nodes[1].counters().frag_needed_df > 0);
    let info = &sim.nodes[0].tcp_sockets()[0];
    assert_eq!(info.state, TimeWait);
    assert_eq!(info.mss, 536);
    assert_eq!(report.sender.tcp_rto_timeouts, 0, "no timeout needed");

    // RFC 1191 §6.3: the path MTU is cached for the destination, so the
    // next connection starts small and never hits the router's limit.
    let now = sim.now;
    let cached = sim.nodes[0].path_mtus(now);
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!((cached[0].dst, cached[0].mtu), (RB_IP, 576));
    let refused = sim.nodes[1].counters().frag_needed_df;
    transfer(
        &mut sim,
        0,
        2,
        SocketAddrV4::new(RB_IP, 81),
        256 << 10,
        &Reader::default(),
        Duration::from_secs(60),
        |_, _| None,
    );
    assert_eq!(
        sim.nodes[1].counters().frag_needed_df,
        refused,
        "the second connection used the cached path MTU"
    );
    // Ten minutes later the entry has aged out (a larger MTU is tried again).
    let later = sim.now + Duration::from_secs(601);
    assert!(sim.nodes[0].path_mtus(later).is_empty());
}

/// Builds a frame from B (10.0.0.2:80, MAC of B) to A carrying `repr`.
fn forged(to_port: u16, mut repr: TcpRepr, payload: &[u8]) -> Vec<u8> {
    repr.src_port = 80;
    repr.dst_port = to_port;
    repr.payload_len = payload.len();
    let mut seg = vec![0u8; repr.buffer_len()];
    repr.emit_with_payload(
        &mut TcpPacket::new_unchecked(&mut seg[..]),
        B_IP,
        Ipv4Addr::new(10, 0, 0, 1),
        payload,
    );
    ipv4_frame(
        mac(1, 0),
        mac(2, 0),
        B_IP,
        Ipv4Addr::new(10, 0, 0, 1),
        6,
        7,
        false,
        0,
        64,
        &seg,
    )
}

#[test]
fn rfc5961_blind_reset_and_syn_get_challenge_acks() {
    let mut sim = Sim::direct(config(1), config(2), 1);
    sim.capture = true;
    let (c, _) = establish(&mut sim);
    let port = sim.nodes[A].tcp_info(c).unwrap().local.port();
    // A's RCV.NXT is the sequence number of B's last pure ACK.
    let last = sim.segments_from(B).last().unwrap().1;
    let rcv_nxt = last.seq.wrapping_add(last.segment_len() as u32);
    let inject = |sim: &mut Sim, repr: TcpRepr| {
        let mut f = forged(port, repr, &[]);
        sim.with(A, |s, now, tx| s.receive(now, 0, &mut f, tx));
    };
    let before = sim.segments_from(A).len();
    // In window but not exact: challenge ACK (RFC 5961 §3.2).
    inject(
        &mut sim,
        TcpRepr::new(0, 0, rcv_nxt.wrapping_add(1000), TcpFlags::RST),
    );
    assert_eq!(sim.nodes[A].tcp_state(c), Some(Established));
    assert_eq!(sim.segments_from(A).len(), before + 1);
    // Out of window: silently dropped.
    inject(
        &mut sim,
        TcpRepr::new(0, 0, rcv_nxt.wrapping_add(1 << 30), TcpFlags::RST),
    );
    assert_eq!(sim.segments_from(A).len(), before + 1);
    // A SYN in a synchronized state: challenge ACK (RFC 5961 §4.2).
    inject(
        &mut sim,
        TcpRepr::new(0, 0, rcv_nxt.wrapping_add(5), TcpFlags::SYN),
    );
    assert_eq!(sim.nodes[A].tcp_state(c), Some(Established));
    assert_eq!(sim.segments_from(A).len(), before + 2);
    // The exact sequence number resets.
    inject(&mut sim, TcpRepr::new(0, 0, rcv_nxt, TcpFlags::RST));
    assert_eq!(sim.nodes[A].tcp_error(c), Some(TcpError::Reset));
    assert_eq!(sim.nodes[A].counters().tcp_rst_rx, 1);
}

#[test]
fn bad_checksum_is_dropped_and_counted() {
    let mut sim = Sim::direct(config(1), config(2), 1);
    sim.capture = true;
    let (c, _) = establish(&mut sim);
    let port = sim.nodes[A].tcp_info(c).unwrap().local.port();
    let last = sim.segments_from(B).last().unwrap().1;
    let mut data = TcpRepr::new(0, 0, last.seq.wrapping_add(1), TcpFlags::PSH);
    data.ack = last.ack;
    data.window = 1000;
    let mut f = forged(port, data, b"evil");
    let n = f.len();
    f[n - 1] ^= 0x20;
    sim.with(A, |s, now, tx| s.receive(now, 0, &mut f, tx));
    assert_eq!(sim.nodes[A].counters().tcp_bad_checksum, 1);
    assert_eq!(
        sim.with(A, |s, now, tx| s.tcp_recv(now, c, &mut [0; 8], tx)),
        Err(StackError::WouldBlock)
    );
}

struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> (Arc<Counter>, Waker) {
    let c = Arc::new(Counter(AtomicUsize::new(0)));
    (c.clone(), Waker::from(c))
}

#[test]
fn wakers_fire_on_data_space_accept_and_state_changes() {
    let mut sim = Sim::direct(config(1), config(2), 1);
    let l = sim.nodes[B].tcp_listen(80, 4).unwrap();
    let (accepted, w) = counter();
    sim.nodes[B].tcp_register_recv_waker(l, &w);
    let c = sim
        .with(A, |s, now, tx| {
            s.tcp_connect(now, SocketAddrV4::new(B_IP, 80), tx)
        })
        .unwrap();
    let (connected, w) = counter();
    sim.nodes[A].tcp_register_send_waker(c, &w);
    sim.run_for(ms(10));
    assert_eq!(
        connected.0.load(Ordering::SeqCst),
        1,
        "ESTABLISHED wakes the writer"
    );
    assert_eq!(
        accepted.0.load(Ordering::SeqCst),
        1,
        "a connection to accept"
    );
    let srv = sim.nodes[B].tcp_accept(l).unwrap();
    let (readable, w) = counter();
    sim.nodes[B].tcp_register_recv_waker(srv, &w);
    assert_eq!(readable.0.load(Ordering::SeqCst), 0);
    sim.with(A, |s, now, tx| s.tcp_send(now, c, b"hello", tx))
        .unwrap();
    sim.run_for(ms(10));
    assert_eq!(readable.0.load(Ordering::SeqCst), 1);
    // A full send buffer: the writer is woken when ACKs free space.
    let big = vec![0u8; 1 << 20];
    let n = sim
        .with(A, |s, now, tx| s.tcp_send(now, c, &big, tx))
        .unwrap();
    assert_eq!(
        n,
        256 * 1024 - 5,
        "bounded send buffer (\"hello\" is unacknowledged)"
    );
    assert_eq!(
        sim.with(A, |s, now, tx| s.tcp_send(now, c, &big, tx)),
        Err(StackError::WouldBlock)
    );
    let (space, w) = counter();
    sim.nodes[A].tcp_register_send_waker(c, &w);
    sim.run_for(ms(10));
    drain(&mut sim, B, srv);
    sim.run_for(ms(10));
    assert!(space.0.load(Ordering::SeqCst) >= 1);
    // Registering when already ready wakes at once.
    let (now_ready, w) = counter();
    sim.nodes[A].tcp_register_send_waker(c, &w);
    assert_eq!(now_ready.0.load(Ordering::SeqCst), 1);
}

#[test]
fn loopback_connection() {
    let stack = NetStack::new(config(1), vec![iface(1, 0, "10.0.0.1/24", 1500)]);
    let mut sim = Sim::new(vec![stack], 1);
    let me = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 7);
    let l = sim.nodes[0].tcp_listen(7, 1).unwrap();
    let c = sim
        .with(0, |s, now, tx| s.tcp_connect(now, me, tx))
        .unwrap();
    assert_eq!(
        sim.nodes[0].tcp_state(c),
        Some(Established),
        "loopback is instant"
    );
    let srv = sim.nodes[0].tcp_accept(l).unwrap();
    let info = sim.nodes[0].tcp_info(c).unwrap();
    assert_eq!(info.mss, 65495, "MTU 65535 - 40, like Linux lo");
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let (mut sent, mut got) = (0, Vec::new());
    let mut buf = vec![0u8; 65536];
    while got.len() < data.len() {
        if sent < data.len()
            && let Ok(n) = sim.with(0, |s, now, tx| s.tcp_send(now, c, &data[sent..], tx))
        {
            sent += n;
        }
        while let Ok(n) = sim.with(0, |s, now, tx| s.tcp_recv(now, srv, &mut buf, tx)) {
            got.extend_from_slice(&buf[..n]);
        }
        sim.run_for(ms(50));
    }
    assert!(got == data);
}

/// Fuzz: a handshake forged by hand, then arbitrary but well-formed
/// segments (valid checksum, sequence numbers near the window) at the
/// connection and at the listener. Nothing panics, every emitted frame is
/// valid, and the socket table stays bounded.
/// (to the listener?, flags, seq offset, ack offset, window, timestamps?, payload)
type FuzzSeg = (bool, u8, i32, i32, u16, bool, Vec<u8>);

fn fuzz(segs: Vec<FuzzSeg>) {
    let mut b = NetStack::new(config(9), vec![iface(2, 0, "10.0.0.2/24", 1500)]);
    b.add_static_neighbor(0, Ipv4Addr::new(10, 0, 0, 1), mac(1, 0));
    let _l = b.tcp_listen(80, 2).unwrap();
    let peer = Ipv4Addr::new(10, 0, 0, 1);
    let frame = |repr: TcpRepr, payload: &[u8]| {
        let mut seg = vec![0u8; repr.buffer_len()];
        repr.emit_with_payload(
            &mut TcpPacket::new_unchecked(&mut seg[..]),
            peer,
            B_IP,
            payload,
        );
        ipv4_frame(mac(2, 0), mac(1, 0), peer, B_IP, 6, 1, false, 0, 64, &seg)
    };
    let mut t = Instant::ZERO;
    let mut out = Vec::new();
    let mut syn = TcpRepr::new(40000, 80, 1000, TcpFlags::SYN);
    syn.mss = Some(1460);
    syn.window = 65535;
    syn.window_scale = Some(7);
    syn.timestamps = Some(TcpTimestamps { tsval: 1, tsecr: 0 });
    b.receive(t, 0, &mut frame(syn, &[]), &mut out);
    let synack = out
        .iter()
        .find_map(|(_, f)| {
            common::sim::Captured {
                at: t,
                node: 0,
                frame: f.clone(),
            }
            .tcp()
        })
        .expect("SYN-ACK");
    let iss = synack.seq;
    let (mut rcv, snd) = (1001u32, iss.wrapping_add(1));
    let mut ack = TcpRepr::new(40000, 80, rcv, TcpFlags::ACK);
    ack.ack = Some(snd);
    ack.window = 1000;
    b.receive(t, 0, &mut frame(ack, &[]), &mut out);
    for (to_listener, flags, dseq, dack, window, ts, payload) in segs {
        let (sport, seq) = if to_listener {
            (40001, dseq as u32)
        } else {
            (40000, rcv.wrapping_add(dseq as u32))
        };
        let mut r = TcpRepr::new(sport, 80, seq, TcpFlags(flags));
        r.ack = TcpFlags(flags)
            .contains(TcpFlags::ACK)
            .then(|| snd.wrapping_add(dack as u32));
        r.window = window;
        r.timestamps = ts.then_some(TcpTimestamps {
            tsval: t.total_millis() as u32,
            tsecr: 0,
        });
        b.receive(t, 0, &mut frame(r, &payload), &mut out);
        if !to_listener && dseq == 0 && !payload.is_empty() && flags & 0x04 == 0 {
            rcv = rcv.wrapping_add(payload.len() as u32);
        }
        t += Duration::from_millis(37);
        b.poll(t, &mut out);
    }
    for (_, f) in &out {
        validate_frame(f, true);
    }
    b.poll(t + Duration::from_secs(3600), &mut out);
    assert!(b.tcp_socket_count() <= 4);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn well_formed_segments_never_panic(segs in prop::collection::vec(
        (any::<bool>(), any::<u8>(), -70_000i32..70_000, -3000i32..3000, any::<u16>(), any::<bool>(),
         prop::collection::vec(any::<u8>(), 0..1500)), 1..40)) {
        fuzz(segs);
    }
}

#[test]
fn api_errors() {
    let mut sim = Sim::direct(config(1), config(2), 1);
    let l = sim.nodes[B].tcp_listen(80, 1).unwrap();
    assert_eq!(
        sim.nodes[B].tcp_listen(80, 1),
        Err(StackError::PortInUse { port: 80 })
    );
    assert_eq!(
        sim.with(B, |s, now, tx| s.tcp_send(now, l, b"x", tx)),
        Err(StackError::NotConnected)
    );
    assert_eq!(
        sim.with(A, |s, now, tx| s.tcp_connect(
            now,
            SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 80),
            tx
        )),
        Err(StackError::NoRoute {
            dst: Ipv4Addr::new(192, 0, 2, 1)
        })
    );
    let (c, srv) = {
        let c = sim
            .with(A, |s, now, tx| {
                s.tcp_connect(now, SocketAddrV4::new(B_IP, 80), tx)
            })
            .unwrap();
        // Data written in SYN-SENT is queued and sent once ESTABLISHED.
        assert_eq!(
            sim.with(A, |s, now, tx| s.tcp_send(now, c, b"early", tx)),
            Ok(5)
        );
        sim.run_for(ms(10));
        (c, sim.nodes[B].tcp_accept(l).unwrap())
    };
    assert_eq!(drain(&mut sim, B, srv), 5);
    let all = sim.nodes[B].tcp_sockets();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].state, Listen);
    assert_eq!(all[1].remote, sim.nodes[A].tcp_info(c).unwrap().local);
    let mut cfg = config(3);
    cfg.tcp.max_sockets = 1;
    let mut small = NetStack::new(cfg, vec![iface(5, 0, "10.0.0.5/24", 1500)]);
    small.tcp_listen(1, 1).unwrap();
    assert_eq!(small.tcp_listen(2, 1), Err(StackError::TooManySockets));
}
