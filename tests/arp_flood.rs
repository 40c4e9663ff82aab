//! ARP flood against a real router process (RFC 826 merge rule, RFC 1122
//! §2.3.2.1): the test owns both cables of the router, plays host A
//! (10.0.1.2) and host B (10.0.2.2), and floods B's cable with forged ARP
//! requests for the router — half from senders outside the subnet — while
//! A pings B through the router. The router must keep answering, never
//! cache the off-subnet senders, and never lose B's entry.

mod common;

use common::http;
use common::single_device::{Device, datagram, start};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use vnet_cable::Envelope;
use vnet_topology::device::DeviceKind;
use vnet_wire::ethernet::{self, EthernetAddress};

const R_MAC: [EthernetAddress; 2] = [
    EthernetAddress([0x02, 0, 0, 0, 0, 1]),
    EthernetAddress([0x02, 0, 0, 0, 0, 2]),
];
const A_MAC: EthernetAddress = EthernetAddress([0x02, 0xaa, 0, 0, 0, 2]);
const B_MAC: EthernetAddress = EthernetAddress([0x02, 0xbb, 0, 0, 0, 2]);
const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);
const R_IP0: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
const R_IP1: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 1);

/// Starts a router whose cable peers are `peers` (its MACs are `R_MAC`).
fn start_router(peers: &[&UdpSocket], addresses: &[&str]) -> (Device, Vec<SocketAddr>) {
    let addresses: Vec<Option<&str>> = addresses.iter().copied().map(Some).collect();
    start(DeviceKind::Router, peers, &addresses)
}

/// One frame from a cable (envelope and FCS checked), or None on timeout.
fn recv_frame(sock: &UdpSocket) -> Option<Vec<u8>> {
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).ok()?;
    let (_, off) = Envelope::decode(&buf[..n]).ok()?;
    let frame = ethernet::check_fcs(&buf[off..n]).ok()?;
    Some(frame.to_vec())
}

fn arp(
    dst: EthernetAddress,
    op: u16,
    sha: EthernetAddress,
    spa: Ipv4Addr,
    tha: EthernetAddress,
    tpa: Ipv4Addr,
) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&sha.0);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4]);
    f.extend_from_slice(&op.to_be_bytes());
    f.extend_from_slice(&sha.0);
    f.extend_from_slice(&spa.octets());
    f.extend_from_slice(&tha.0);
    f.extend_from_slice(&tpa.octets());
    f
}

fn ones_complement(b: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in b.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

/// An ICMP echo (request `ty` 8, reply 0) in an Ethernet frame.
fn echo(
    dst: EthernetAddress,
    src_mac: EthernetAddress,
    src: Ipv4Addr,
    to: Ipv4Addr,
    ty: u8,
    id: u16,
    seq: u16,
) -> Vec<u8> {
    let mut icmp = vec![ty, 0, 0, 0];
    icmp.extend_from_slice(&id.to_be_bytes());
    icmp.extend_from_slice(&seq.to_be_bytes());
    icmp.extend_from_slice(&[0x5a; 16]);
    let c = ones_complement(&icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&((20 + icmp.len()) as u16).to_be_bytes());
    ip[8] = 64;
    ip[9] = 1;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&to.octets());
    let c = ones_complement(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let mut f = Vec::new();
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src_mac.0);
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&ip);
    f.extend_from_slice(&icmp);
    f
}

fn device_counter(dev: &Device, name: &str) -> u64 {
    let (status, body) = http("GET", dev.admin, "/status");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    v["device"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("{name} in {v}"))
}

/// Host B: answers ARP for its address and echo requests, until `stop`.
fn host_b(sock: UdpSocket, router: SocketAddr, stop: Arc<AtomicBool>) {
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    while !stop.load(Ordering::Relaxed) {
        let Some(f) = recv_frame(&sock) else {
            continue;
        };
        if f.len() < 42 {
            continue;
        }
        let reply = match &f[12..14] {
            [0x08, 0x06] if f[20..22] == [0, 1] && f[38..42] == B_IP.octets() => arp(
                R_MAC[1],
                2,
                B_MAC,
                B_IP,
                R_MAC[1],
                Ipv4Addr::new(f[28], f[29], f[30], f[31]),
            ),
            [0x08, 0x00] if f[0..6] == B_MAC.0 && f[23] == 1 && f[34] == 8 => {
                let src = Ipv4Addr::new(f[26], f[27], f[28], f[29]);
                let id = u16::from_be_bytes([f[38], f[39]]);
                let seq = u16::from_be_bytes([f[40], f[41]]);
                echo(R_MAC[1], B_MAC, B_IP, src, 0, id, seq)
            }
            _ => continue,
        };
        let _ = sock.send_to(&datagram(&reply), router);
    }
}

#[test]
fn ping_through_router_survives_an_arp_flood() {
    let a = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let b = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let (dev, locals) = start_router(&[&a, &b], &["10.0.1.1/24", "10.0.2.1/24"]);
    let stop = Arc::new(AtomicBool::new(false));
    let responder = {
        let (sock, stop) = (b.try_clone().expect("clone"), stop.clone());
        let router = locals[1];
        std::thread::spawn(move || host_b(sock, router, stop))
    };
    // The flood comes in through B's cable (the router only accepts
    // datagrams from its peer): requests for the router, half from senders
    // outside 10.0.2.0/24, at about 5,000 frames a second.
    let flooder = {
        let (sock, stop) = (b.try_clone().expect("clone"), stop.clone());
        let router = locals[1];
        std::thread::spawn(move || {
            let mut sent = 0u32;
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..50 {
                    sent += 1;
                    let spa = if sent.is_multiple_of(2) {
                        Ipv4Addr::from(0xac10_0000 | (sent & 0xf_ffff)) // 172.16.0.0/12
                    } else {
                        Ipv4Addr::new(10, 0, 2, 3 + (sent % 250) as u8)
                    };
                    let [_, x, y, z] = sent.to_be_bytes();
                    let sha = EthernetAddress([0x02, 0xf1, 0, x, y, z]);
                    let f = arp(
                        EthernetAddress::BROADCAST,
                        1,
                        sha,
                        spa,
                        EthernetAddress([0; 6]),
                        R_IP1,
                    );
                    let _ = sock.send_to(&datagram(&f), router);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            sent
        })
    };

    // Host A: resolve the router, then ping B through it.
    a.set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let req = arp(
        EthernetAddress::BROADCAST,
        1,
        A_MAC,
        A_IP,
        EthernetAddress([0; 6]),
        R_IP0,
    );
    a.send_to(&datagram(&req), locals[0]).expect("send");
    let count = 100u16;
    let mut replies = 0;
    for seq in 0..count {
        a.send_to(
            &datagram(&echo(R_MAC[0], A_MAC, A_IP, B_IP, 8, 0x77, seq)),
            locals[0],
        )
        .expect("send");
        let deadline = Instant::now() + Duration::from_millis(100);
        while Instant::now() < deadline {
            match recv_frame(&a) {
                Some(f)
                    if f.len() >= 42
                        && f[12..14] == [0x08, 0x00]
                        && f[34] == 0
                        && f[40..42] == seq.to_be_bytes() =>
                {
                    replies += 1;
                    break;
                }
                Some(_) => {}
                None => break,
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let flooded = flooder.join().expect("flooder");
    responder.join().expect("responder");

    assert!(flooded > 5_000, "the flood ran: {flooded} frames");
    assert!(
        replies * 100 >= u32::from(count) * 95,
        "{replies}/{count} echo replies during the flood"
    );
    assert!(device_counter(&dev, "arp_ignored_offlink") > 0);
    // B was resolved once: its entry was never evicted.
    assert_eq!(device_counter(&dev, "arp_requests_sent"), 1);
}
