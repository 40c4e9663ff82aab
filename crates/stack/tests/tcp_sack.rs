//! Selective acknowledgment (RFC 2018), SACK-based loss recovery
//! (RFC 6675) and the tail loss probe (RFC 8985 §7), seen on the wire of
//! the deterministic simulation: negotiation, the blocks a receiver sends,
//! several losses in one window repaired without a timeout, random loss,
//! and a lost last segment. Each scenario also runs without SACK (or
//! without the probe) to show the test tells the two apart.

mod common;

use common::sim::{B_IP, Captured, Impair, Reader, Report, Sim, config, transfer};
use core::time::Duration;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddrV4;
use std::rc::Rc;
use vnet_stack::tcp::TcpState::*;
use vnet_stack::time::Instant;
use vnet_stack::{StackConfig, TcpHandle};
use vnet_wire::tcp::{TcpFlags, TcpRepr};

const A: usize = 0;
const B: usize = 1;
const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
/// Data per full segment: MSS 1460 less 12 bytes of Timestamps.
const SEG: usize = 1448;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn cfg(seed: u8, sack: bool, tlp: bool) -> StackConfig {
    let mut c = config(seed);
    c.tcp.sack = sack;
    c.tcp.tail_loss_probe = tlp;
    c
}

/// Two hosts, `delay` each way.
fn sim(sack: bool, tlp: bool, delay: Duration, seed: u64) -> Sim {
    let mut s = Sim::direct(cfg(1, sack, tlp), cfg(2, sack, tlp), seed);
    s.impair(0, Impair::delay(delay));
    s
}

fn establish(sim: &mut Sim) -> (TcpHandle, TcpHandle) {
    common::sim::establish(sim, ms(100))
}

fn tcp(node: usize, frame: &[u8]) -> Option<TcpRepr> {
    Captured {
        at: Instant::ZERO,
        node,
        frame: frame.to_vec(),
    }
    .tcp()
}

/// Drops the first transmission of the data segments from A whose index
/// (in order of first transmission) is in `which`; returns the sequence
/// numbers dropped.
fn drop_first_sends(sim: &mut Sim, which: &[usize]) -> Rc<RefCell<Vec<u32>>> {
    let dropped = Rc::new(RefCell::new(Vec::new()));
    let seen = RefCell::new(HashSet::new());
    let which: HashSet<usize> = which.iter().copied().collect();
    let d = dropped.clone();
    sim.drop_if = Some(Box::new(move |node, frame| {
        if node != A {
            return false;
        }
        let Some(t) = tcp(node, frame) else {
            return false;
        };
        if t.payload_len == 0 {
            return false;
        }
        let mut seen = seen.borrow_mut();
        if !seen.insert(t.seq) {
            return false;
        }
        if which.contains(&(seen.len() - 1)) {
            d.borrow_mut().push(t.seq);
            return true;
        }
        false
    }));
    dropped
}

/// Transmissions of each data sequence number A sent.
fn sends_by_seq(sim: &Sim) -> HashMap<u32, usize> {
    let mut m = HashMap::new();
    for (_, t) in sim.segments_from(A) {
        if t.payload_len > 0 {
            *m.entry(t.seq).or_default() += 1;
        }
    }
    m
}

fn run_transfer(sim: &mut Sim, total: usize) -> Report {
    let r = transfer(
        sim,
        A,
        B,
        SocketAddrV4::new(B_IP, 5001),
        total,
        &Reader::default(),
        Duration::from_secs(3600),
        |_, _| None,
    );
    println!(
        "{} bytes in {:.3} s virtual: {} retransmissions ({} fast, {} RTO, {} SACK recoveries, {} SACK retransmits, {} TLP)",
        r.bytes,
        r.virtual_time.as_secs_f64(),
        r.sender_retransmissions,
        r.sender.tcp_fast_retransmits,
        r.sender.tcp_rto_timeouts,
        r.sender.tcp_sack_recoveries,
        r.sender.tcp_sack_retransmits,
        r.sender.tcp_tlp_probes,
    );
    r
}

#[test]
fn sack_permitted_is_negotiated() {
    // (A offers, B offers) → (SYN carries it, SYN-ACK carries it).
    for (a, b, want) in [
        (true, true, (true, true)),
        (true, false, (true, false)),
        (false, true, (false, false)),
        (false, false, (false, false)),
    ] {
        let mut sim = Sim::direct(cfg(1, a, true), cfg(2, b, true), 1);
        sim.capture = true;
        establish(&mut sim);
        let syn = sim.segments_from(A)[0].1;
        let syn_ack = sim.segments_from(B)[0].1;
        assert_eq!(syn.flags, TcpFlags::SYN);
        assert!(syn_ack.flags.contains(TcpFlags::SYN | TcpFlags::ACK));
        assert_eq!(
            (syn.sack_permitted, syn_ack.sack_permitted),
            want,
            "A {a}, B {b}"
        );
        // Out-of-order data: SACK blocks only if both sides agreed.
        let (c, _) = establish_again(&mut sim);
        sim.captured.clear();
        drop_first_sends(&mut sim, &[0]);
        sim.with(A, |s, now, tx| s.tcp_send(now, c, &[7; 4 * SEG], tx))
            .unwrap();
        sim.run_for(ms(500));
        let blocks = sim
            .segments_from(B)
            .iter()
            .filter(|(_, t)| t.sack_blocks[0].is_some())
            .count();
        assert_eq!(blocks > 0, a && b, "A {a}, B {b}: {blocks} ACKs with SACK");
    }
}

/// A second connection on a simulation that already has a listener on 80.
fn establish_again(sim: &mut Sim) -> (TcpHandle, TcpHandle) {
    let l = sim.nodes[B].tcp_listen(81, 4).unwrap();
    let c = sim
        .with(A, |s, now, tx| {
            s.tcp_connect(now, SocketAddrV4::new(B_IP, 81), tx)
        })
        .unwrap();
    assert!(
        sim.run_until(Duration::from_secs(5), |s| s.nodes[A].tcp_state(c)
            == Some(Established))
    );
    sim.run_for(ms(10));
    (c, sim.nodes[B].tcp_accept(l).unwrap())
}

#[test]
fn receiver_sack_blocks_most_recent_first() {
    let mut sim = sim(true, true, ms(1), 1);
    let (c, _) = establish(&mut sim);
    sim.capture = true;
    // One flight of 10 segments (RFC 6928 initial window); 1, 4 and 7 lost.
    let dropped = drop_first_sends(&mut sim, &[1, 4, 7]);
    sim.with(A, |s, now, tx| s.tcp_send(now, c, &[1; 10 * SEG], tx))
        .unwrap();
    sim.run_for(ms(500));
    let base = sim
        .segments_from(A)
        .iter()
        .find(|(_, t)| t.payload_len > 0)
        .unwrap()
        .1
        .seq;
    let s = |k: usize| base.wrapping_add((k * SEG) as u32);
    assert_eq!(*dropped.borrow(), vec![s(1), s(4), s(7)]);
    let acks: Vec<(u32, Vec<(u32, u32)>)> = sim
        .segments_from(B)
        .iter()
        .filter_map(|(_, t)| Some((t.ack?, t.sack_blocks.iter().flatten().copied().collect())))
        .collect();
    // RFC 2018 §4: the first block holds the segment that just arrived,
    // then the most recently reported ones; at most 3 with Timestamps.
    let want = vec![
        (s(1), vec![(s(2), s(3))]),
        (s(1), vec![(s(2), s(4))]),
        (s(1), vec![(s(5), s(6)), (s(2), s(4))]),
        (s(1), vec![(s(5), s(7)), (s(2), s(4))]),
        (s(1), vec![(s(8), s(9)), (s(5), s(7)), (s(2), s(4))]),
        (s(1), vec![(s(8), s(10)), (s(5), s(7)), (s(2), s(4))]),
        // The retransmissions fill the holes one by one.
        (s(4), vec![(s(8), s(10)), (s(5), s(7))]),
        (s(7), vec![(s(8), s(10))]),
        (s(10), vec![]),
    ];
    let got: Vec<_> = acks.into_iter().filter(|(a, _)| *a != base).collect();
    assert_eq!(got, want);
    // All three holes were resent at once, each once, without a timeout.
    let sends = sends_by_seq(&sim);
    for k in [1, 4, 7] {
        assert_eq!(sends[&s(k)], 2, "segment {k}");
    }
    let counters = sim.nodes[A].counters();
    assert_eq!(counters.tcp_rto_timeouts, 0);
    assert_eq!(counters.tcp_sack_recoveries, 1);
    assert_eq!(counters.tcp_sack_retransmits, 3);
}

/// 1 MiB over 20 ms each way; the first transmissions of data segments
/// `drops` (indices in order of first transmission) are lost.
fn multi_loss(sack: bool, drops: &[usize]) -> (Report, Vec<u32>, HashMap<u32, usize>) {
    let mut sim = sim(sack, true, ms(20), 3);
    sim.capture = true;
    let dropped = drop_first_sends(&mut sim, drops);
    let r = run_transfer(&mut sim, MIB);
    let dropped = dropped.borrow().clone();
    assert_eq!(dropped.len(), drops.len());
    (r, dropped, sends_by_seq(&sim))
}

/// With 20 ms each way, slow start sends data segments 46..=78 (33 of
/// them) together in its fourth round trip: drops among them are
/// non-adjacent losses in one window.
const THREE_DROPS: [usize; 3] = [50, 60, 70];
const TEN_DROPS: [usize; 10] = [47, 50, 53, 56, 59, 62, 65, 68, 71, 74];

/// SACK repairs every hole of the window in one recovery, each lost
/// segment retransmitted exactly once, with no timeout.
fn assert_clean_sack_recovery(drops: &[usize]) -> Report {
    let (r, dropped, sends) = multi_loss(true, drops);
    assert_eq!(r.sender.tcp_rto_timeouts, 0, "no timeout");
    assert_eq!(r.sender.tcp_sack_recoveries, 1, "one recovery");
    for seq in &dropped {
        assert_eq!(sends[seq], 2, "seq {seq} retransmitted exactly once");
    }
    assert_eq!(r.sender_retransmissions, drops.len() as u64);
    assert_eq!(r.sender.tcp_sack_retransmits, drops.len() as u64);
    r
}

#[test]
fn several_losses_in_one_window_without_timeout() {
    let three = assert_clean_sack_recovery(&THREE_DROPS);
    let ten = assert_clean_sack_recovery(&TEN_DROPS);

    // Without SACK, NewReno (RFC 6582) repairs one hole per round trip:
    // three holes still fit before the retransmission timer...
    let (n3, _, _) = multi_loss(false, &THREE_DROPS);
    assert_eq!(n3.sender.tcp_sack_recoveries, 0);
    assert!(n3.virtual_time > three.virtual_time);
    // ...ten do not: the timer (restarted only on the first partial ACK)
    // fires and the sender goes back N.
    let (n10, _, _) = multi_loss(false, &TEN_DROPS);
    assert!(
        n10.sender.tcp_rto_timeouts >= 1 && n10.sender_retransmissions > ten.sender_retransmissions,
        "without SACK: {} RTOs, {} retransmissions",
        n10.sender.tcp_rto_timeouts,
        n10.sender_retransmissions
    );
    assert!(n10.virtual_time > ten.virtual_time);
}

#[test]
fn random_loss_far_fewer_timeouts_with_sack() {
    let run = |sack: bool| {
        let mut sim = sim(sack, true, ms(20), 42);
        sim.impair(
            0,
            Impair {
                loss: 0.05,
                ..Impair::delay(ms(20))
            },
        );
        run_transfer(&mut sim, 2 * MIB)
    };
    let with = run(true);
    let without = run(false);
    assert!(with.sender.tcp_sack_recoveries > 0);
    assert_eq!(without.sender.tcp_sack_recoveries, 0);
    assert!(
        with.sender.tcp_rto_timeouts * 3 <= without.sender.tcp_rto_timeouts,
        "RTOs with SACK {}, without {}",
        with.sender.tcp_rto_timeouts,
        without.sender.tcp_rto_timeouts
    );
    assert!(with.virtual_time < without.virtual_time);
}

/// A sends five segments and the last one is lost; returns A's counters
/// and when B had everything.
fn tail_loss(tlp: bool) -> (vnet_stack::StackCounters, Duration) {
    let mut sim = sim(true, tlp, ms(20), 5);
    let (c, srv) = establish(&mut sim);
    drop_first_sends(&mut sim, &[4]);
    let t0 = sim.now;
    sim.with(A, |s, now, tx| s.tcp_send(now, c, &[9; 5 * SEG], tx))
        .unwrap();
    let mut got = 0;
    let mut buf = vec![0u8; 16 * KIB];
    let done = sim.run_until(Duration::from_secs(5), |s| {
        while let Ok(n) = s.with(B, |st, now, tx| st.tcp_recv(now, srv, &mut buf, tx)) {
            if n == 0 {
                break;
            }
            got += n;
        }
        got == 5 * SEG
    });
    assert!(done, "{got} bytes");
    let at = sim.now - t0;
    sim.run_for(Duration::from_secs(2));
    (sim.nodes[A].counters().clone(), at)
}

#[test]
fn tail_loss_probe_repairs_a_lost_last_segment() {
    let (c, at) = tail_loss(true);
    println!(
        "with TLP: repaired after {at:?}, {} probes, {} RTOs",
        c.tcp_tlp_probes, c.tcp_rto_timeouts
    );
    assert_eq!(c.tcp_tlp_probes, 1);
    assert_eq!(c.tcp_rto_timeouts, 0);
    assert_eq!(c.tcp_retransmissions, 1);
    // PTO = 2·SRTT (SRTT ≈ 40 ms) after the last send, then a round trip.
    let (n, late) = tail_loss(false);
    println!(
        "without: repaired after {late:?}, {} RTOs",
        n.tcp_rto_timeouts
    );
    assert_eq!(n.tcp_tlp_probes, 0);
    assert_eq!(n.tcp_rto_timeouts, 1);
    assert!(late > at);
}

#[test]
fn lost_retransmission_is_sent_again_without_timeout() {
    // Segment 50 and its first retransmission are both lost; the data
    // sent after the retransmission is SACKed, which shows it lost.
    let mut sim = sim(true, true, ms(20), 3);
    sim.capture = true;
    let first = RefCell::new(None);
    let sends = RefCell::new(0);
    let seen = RefCell::new(HashSet::new());
    sim.drop_if = Some(Box::new(move |node, frame| {
        let Some(t) = tcp(node, frame).filter(|t| node == A && t.payload_len > 0) else {
            return false;
        };
        let mut seen = seen.borrow_mut();
        if seen.insert(t.seq) && seen.len() == 51 {
            *first.borrow_mut() = Some(t.seq);
        }
        if *first.borrow() == Some(t.seq) {
            *sends.borrow_mut() += 1;
            return *sends.borrow() <= 2;
        }
        false
    }));
    let r = run_transfer(&mut sim, MIB);
    assert_eq!(r.sender.tcp_rto_timeouts, 0);
    assert_eq!(r.sender.tcp_sack_recoveries, 1);
    assert_eq!(r.sender_retransmissions, 2);
}

#[test]
fn four_blocks_without_timestamps() {
    let mut ca = cfg(1, true, true);
    ca.tcp.timestamps = false;
    let mut sim = Sim::direct(ca, cfg(2, true, true), 1);
    let (c, _) = establish(&mut sim);
    sim.capture = true;
    drop_first_sends(&mut sim, &[1, 3, 5, 7, 9]);
    sim.with(A, |s, now, tx| s.tcp_send(now, c, &[1; 10 * 1460], tx))
        .unwrap();
    sim.run_for(ms(500));
    let most = sim
        .segments_from(B)
        .iter()
        .map(|(_, t)| {
            assert!(t.timestamps.is_none());
            t.sack_blocks.iter().flatten().count()
        })
        .max();
    // RFC 2018 §3: 4 blocks fit in 40 bytes without Timestamps.
    assert_eq!(most, Some(4));
    assert_eq!(sim.nodes[A].counters().tcp_rto_timeouts, 0);
}

/// The case that motivated SACK: 20 MiB over 5 % loss and 20 ms each way,
/// with and without SACK (figures printed; `--ignored` to run).
#[test]
#[ignore]
fn twenty_mib_five_percent_loss() {
    for sack in [true, false] {
        let mut sim = sim(sack, true, ms(20), 42);
        sim.impair(
            0,
            Impair {
                loss: 0.05,
                ..Impair::delay(ms(20))
            },
        );
        let r = run_transfer(&mut sim, 20 * MIB);
        println!(
            "SACK {sack}: {:.0} KiB/s",
            r.bytes as f64 / 1024.0 / r.virtual_time.as_secs_f64()
        );
    }
}
