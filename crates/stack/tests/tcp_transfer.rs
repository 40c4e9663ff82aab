//! 8 MiB bulk transfers that must arrive byte-exact (SHA-256 of what was
//! sent equals SHA-256 of what was read) under every impairment the
//! emulator offers: the headline "kill a link and watch TCP recover".

mod common;

use common::sim::{A_IP, B_IP, Impair, RB_IP, Reader, Report, Sim, config, transfer};
use core::time::Duration;
use std::net::SocketAddrV4;
use vnet_stack::time::Instant;

const MIB: usize = 1024 * 1024;
const TOTAL: usize = 8 * MIB;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn direct(seed: u64, imp: Impair) -> Sim {
    let mut sim = Sim::direct(config(1), config(2), seed);
    sim.impair(0, imp);
    sim
}

fn run(sim: &mut Sim, reader: Reader) -> Report {
    let r = transfer(
        sim,
        0,
        1,
        SocketAddrV4::new(B_IP, 5001),
        TOTAL,
        &reader,
        Duration::from_secs(3600),
        |_, _| None,
    );
    print_report(&r);
    r
}

fn print_report(r: &Report) {
    println!(
        "{} bytes in {:.3} s virtual, {} frames; sender: {} segments, {} retransmissions ({} fast, {} RTO, {} SACK recoveries, {} TLP), {} probes; receiver: {} ooo queued, {} bad checksums",
        r.bytes,
        r.virtual_time.as_secs_f64(),
        r.frames,
        r.sender.tcp_tx,
        r.sender.tcp_retransmissions,
        r.sender.tcp_fast_retransmits,
        r.sender.tcp_rto_timeouts,
        r.sender.tcp_sack_recoveries,
        r.sender.tcp_tlp_probes,
        r.sender.tcp_window_probes,
        r.receiver.tcp_ooo_queued,
        r.receiver.tcp_bad_checksum,
    );
}

fn lossy(loss: f64) -> Impair {
    Impair {
        loss,
        ..Impair::delay(ms(1))
    }
}

#[test]
fn clean_direct() {
    let mut sim = direct(1, Impair::delay(ms(1)));
    let r = run(&mut sim, Reader::default());
    assert_eq!(r.sender.tcp_retransmissions, 0);
    assert_eq!(r.sender.tcp_conn_opened, 1);
    assert_eq!(r.receiver.tcp_conn_accepted, 1);
    // Window scaling lets more than 64 KiB fly: 8 MiB at 2 ms RTT in well
    // under a second of virtual time.
    assert!(
        r.virtual_time < Duration::from_secs(1),
        "{:?}",
        r.virtual_time
    );
}

#[test]
fn clean_via_router() {
    let mut sim = Sim::via_router(config(1), config(2), 2);
    let r = transfer(
        &mut sim,
        0,
        2,
        SocketAddrV4::new(RB_IP, 80),
        TOTAL,
        &Reader::default(),
        Duration::from_secs(600),
        |_, _| None,
    );
    print_report(&r);
    assert_eq!(r.sender.tcp_retransmissions, 0);
    assert!(sim.nodes[1].counters().ip_forwarded > 8000);
}

#[test]
fn loss_5_percent() {
    let mut sim = direct(3, lossy(0.05));
    let r = run(&mut sim, Reader::default());
    assert!(r.sender.tcp_fast_retransmits > 0);
    assert!(r.receiver.tcp_ooo_queued > 0);
}

#[test]
fn loss_5_percent_via_router() {
    let mut sim = Sim::via_router(config(7), config(8), 4);
    sim.impair(1, lossy(0.05));
    let r = transfer(
        &mut sim,
        0,
        2,
        SocketAddrV4::new(RB_IP, 80),
        TOTAL,
        &Reader::default(),
        Duration::from_secs(3600),
        |_, _| None,
    );
    print_report(&r);
    assert!(r.sender.tcp_retransmissions > 0);
}

#[test]
fn loss_20_percent() {
    let mut sim = direct(5, lossy(0.20));
    let r = run(&mut sim, Reader::default());
    assert!(r.sender.tcp_rto_timeouts > 0);
    assert!(r.sender.tcp_fast_retransmits > 0);
}

#[test]
fn duplication_10_percent() {
    let mut sim = direct(
        6,
        Impair {
            dup: 0.10,
            ..Impair::delay(ms(1))
        },
    );
    run(&mut sim, Reader::default());
    assert!(sim.link_stats(0)[0].duplicated > 500);
}

#[test]
fn reordering() {
    let mut sim = direct(
        7,
        Impair {
            reorder: 0.05,
            reorder_delay: ms(3),
            ..Impair::delay(ms(1))
        },
    );
    let r = run(&mut sim, Reader::default());
    assert!(r.receiver.tcp_ooo_queued > 100);
}

#[test]
fn corruption_1_percent() {
    let mut sim = direct(
        8,
        Impair {
            corrupt: 0.01,
            ..Impair::delay(ms(1))
        },
    );
    let r = run(&mut sim, Reader::default());
    // Every flipped bit in a data segment is caught by the TCP checksum.
    assert!(
        r.receiver.tcp_bad_checksum > 20,
        "{}",
        r.receiver.tcp_bad_checksum
    );
    assert!(r.sender.tcp_retransmissions > 0);
}

#[test]
fn delay_50ms_with_jitter() {
    let mut sim = direct(
        9,
        Impair {
            jitter: ms(10),
            ..Impair::delay(ms(50))
        },
    );
    let r = run(&mut sim, Reader::default());
    assert_eq!(r.sender.tcp_rto_timeouts, 0);
    // RTT ≥ 100 ms: slow start needs a few round trips.
    assert!(r.virtual_time > Duration::from_secs(1));
}

#[test]
fn slow_reader_zero_window() {
    let mut sim = direct(10, Impair::delay(ms(1)));
    let reader = Reader {
        chunk: 32 * 1024,
        interval: Some(ms(20)),
        pauses: vec![
            (2 * MIB, Duration::from_secs(3)),
            (5 * MIB, Duration::from_secs(5)),
        ],
    };
    let r = run(&mut sim, reader);
    // The sender filled the 256 KiB window and probed it while closed.
    assert!(
        r.sender.tcp_window_probes >= 2,
        "{}",
        r.sender.tcp_window_probes
    );
    assert_eq!(r.sender.tcp_rto_timeouts, 0);
    assert!(r.virtual_time > Duration::from_secs(8));
}

#[test]
fn link_down_10s_mid_transfer() {
    let mut sim = direct(11, Impair::delay(ms(1)));
    let mut down_at: Option<Instant> = None;
    let mut up = false;
    let r = transfer(
        &mut sim,
        0,
        1,
        SocketAddrV4::new(B_IP, 5001),
        TOTAL,
        &Reader::default(),
        Duration::from_secs(600),
        |sim, received| {
            if down_at.is_none() && received >= 3 * MIB {
                sim.set_down(0, true);
                down_at = Some(sim.now);
            }
            let back = down_at? + Duration::from_secs(10);
            if !up && sim.now >= back {
                sim.set_down(0, false);
                up = true;
            }
            (!up).then_some(back)
        },
    );
    print_report(&r);
    assert!(up);
    // 0.2 + 0.4 + ... + 6.4 s: at least five backed-off timeouts.
    assert!(
        r.sender.tcp_rto_timeouts >= 5,
        "{}",
        r.sender.tcp_rto_timeouts
    );
    assert!(r.virtual_time > Duration::from_secs(10));
    let _ = A_IP;
}
