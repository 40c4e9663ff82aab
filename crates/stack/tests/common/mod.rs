//! A tiny deterministic "wire" for integration tests: stacks joined by
//! point-to-point links, frames moved synchronously, time advanced by hand.
//! Every frame a stack emits is checked with etherparse as an oracle.
#![allow(dead_code)]

pub mod sim;

use core::time::Duration;
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use vnet_stack::time::Instant;
use vnet_stack::{InterfaceConfig, NetStack, StackConfig};
use vnet_wire::ethernet::EthernetAddress;

/// RFC 1071 sum over `b`, independent of the stack's code.
fn ones_sum(b: &[u8]) -> u16 {
    let mut s: u32 = 0;
    for c in b.chunks(2) {
        s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Checks a frame emitted by a stack with etherparse: Ethernet, ARP length,
/// IPv4 header checksum and lengths, and (for unfragmented datagrams) the
/// ICMP, UDP and TCP checksums. With `transport` false only the IP layer is
/// checked (forwarded packets carry whatever transport bytes they came with).
pub fn validate_frame(frame: &[u8], transport: bool) {
    use etherparse::{EtherType, Ethernet2Slice, IpNumber, Ipv4Slice, UdpSlice};
    let eth = Ethernet2Slice::from_slice_without_fcs(frame).expect("ethernet");
    match eth.ether_type() {
        EtherType::ARP => {
            let arp = etherparse::ArpPacketSlice::from_slice(eth.payload_slice()).expect("arp");
            assert_eq!(arp.hw_addr_size(), 6);
            assert_eq!(eth.payload_slice().len(), 28);
        }
        EtherType::IPV4 => {
            // The header alone first: forwarded payloads are arbitrary bytes
            // (etherparse would also parse e.g. an IPsec AH header in them).
            let h = etherparse::Ipv4HeaderSlice::from_slice(eth.payload_slice())
                .expect("ipv4 header")
                .to_header();
            assert_eq!(
                h.header_checksum,
                h.calc_header_checksum(),
                "IPv4 header checksum"
            );
            assert_eq!(
                usize::from(h.total_len),
                eth.payload_slice().len(),
                "no trailing bytes"
            );
            if !transport || h.is_fragmenting_payload() {
                return;
            }
            let ip = Ipv4Slice::from_slice(eth.payload_slice()).expect("ipv4");
            let payload = ip.payload().payload;
            match ip.payload_ip_number() {
                IpNumber::ICMP => {
                    etherparse::Icmpv4Slice::from_slice(payload).expect("icmp");
                    assert_eq!(ones_sum(payload), 0xffff, "ICMP checksum");
                }
                IpNumber::UDP => {
                    let u = UdpSlice::from_slice(payload).expect("udp");
                    assert_eq!(usize::from(u.length()), payload.len());
                    let want = u
                        .to_header()
                        .calc_checksum_ipv4(&h, u.payload())
                        .expect("udp checksum");
                    assert_eq!(u.checksum(), want, "UDP checksum");
                }
                IpNumber::TCP => {
                    let t = etherparse::TcpSlice::from_slice(payload).expect("tcp");
                    let want = t
                        .to_header()
                        .calc_checksum_ipv4(&h, t.payload())
                        .expect("tcp checksum");
                    assert_eq!(t.checksum(), want, "TCP checksum");
                    assert!(h.dont_fragment, "TCP segments carry DF (RFC 1191)");
                }
                // A raw socket's protocol (OSPF): its checksum is the
                // protocol's own business, not the stack's.
                IpNumber::OSPFIGP => {}
                other => panic!("unexpected protocol {other:?}"),
            }
        }
        other => panic!("unexpected ethertype {other:?}"),
    }
}

/// A frame seen on a link.
#[derive(Debug, Clone)]
pub struct Captured {
    pub node: usize,
    pub port: usize,
    pub frame: Vec<u8>,
}

/// Stacks joined by links.
pub struct Lab {
    pub nodes: Vec<NetStack>,
    links: Vec<((usize, usize), (usize, usize))>,
    pub now: Instant,
    pub captured: Vec<Captured>,
    pending: VecDeque<(usize, usize, Vec<u8>)>,
    /// Check transport checksums of emitted frames.
    pub check_transport: bool,
}

pub fn mac(node: u8, port: u8) -> EthernetAddress {
    EthernetAddress([0x02, 0x76, 0x6e, 0x00, node, port])
}

pub fn iface(node: u8, port: u8, cidr: &str, mtu: u16) -> InterfaceConfig {
    InterfaceConfig {
        name: format!("eth{port}"),
        mac: mac(node, port),
        address: Some(cidr.parse().unwrap()),
        mtu,
    }
}

pub const A: usize = 0;
pub const R: usize = 1;
pub const B: usize = 2;
pub const A_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 2);
pub const R_IP0: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
pub const R_IP1: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 1);
pub const B_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 2);

impl Lab {
    pub fn new(nodes: Vec<NetStack>) -> Self {
        Self {
            nodes,
            links: Vec::new(),
            now: Instant::ZERO,
            captured: Vec::new(),
            pending: VecDeque::new(),
            check_transport: true,
        }
    }

    /// host A (10.0.1.2/24) — router R (10.0.1.1/24 | 10.0.2.1/24, MTU `mtu`) — host B (10.0.2.2/24, MTU `mtu`).
    pub fn three(mtu: u16) -> Self {
        let mut a = NetStack::new(
            StackConfig::default(),
            vec![iface(1, 0, "10.0.1.2/24", 1500)],
        );
        a.add_route("0.0.0.0/0".parse().unwrap(), R_IP0).unwrap();
        let r = NetStack::new(
            StackConfig::router(),
            vec![
                iface(2, 0, "10.0.1.1/24", 1500),
                iface(2, 1, "10.0.2.1/24", mtu),
            ],
        );
        let mut b = NetStack::new(
            StackConfig::default(),
            vec![iface(3, 0, "10.0.2.2/24", mtu)],
        );
        b.add_route("0.0.0.0/0".parse().unwrap(), R_IP1).unwrap();
        let mut lab = Lab::new(vec![a, r, b]);
        lab.link((A, 0), (R, 0));
        lab.link((R, 1), (B, 0));
        lab
    }

    pub fn link(&mut self, a: (usize, usize), b: (usize, usize)) {
        self.links.push((a, b));
    }

    fn peer(&self, end: (usize, usize)) -> Option<(usize, usize)> {
        self.links.iter().find_map(|&(x, y)| {
            if x == end {
                Some(y)
            } else if y == end {
                Some(x)
            } else {
                None
            }
        })
    }

    fn emitted(&mut self, node: usize, out: Vec<(usize, Vec<u8>)>) {
        for (port, frame) in out {
            // Transport checksums are ours only for datagrams we originate.
            let originated = frame.len() >= 34 && frame[12..14] == [0x08, 0x00] && {
                let src = Ipv4Addr::new(frame[26], frame[27], frame[28], frame[29]);
                self.nodes[node]
                    .interfaces()
                    .iter()
                    .any(|i| i.address.is_some_and(|a| a.address() == src))
            };
            let transport = self.check_transport && originated;
            validate_frame(&frame, transport);
            self.captured.push(Captured {
                node,
                port,
                frame: frame.clone(),
            });
            self.pending.push_back((node, port, frame));
        }
    }

    /// Moves frames until every link is idle.
    pub fn run(&mut self) {
        let mut budget = 100_000;
        while let Some((node, port, mut frame)) = self.pending.pop_front() {
            budget -= 1;
            assert!(budget > 0, "frames keep flowing: a loop?");
            let Some((peer, pport)) = self.peer((node, port)) else {
                continue;
            };
            let mut out = Vec::new();
            self.nodes[peer].receive(self.now, pport, &mut frame, &mut out);
            self.emitted(peer, out);
        }
    }

    /// Runs `f` on node `n` with a transmitter, then moves the frames.
    pub fn with<T>(
        &mut self,
        n: usize,
        f: impl FnOnce(&mut NetStack, Instant, &mut Vec<(usize, Vec<u8>)>) -> T,
    ) -> T {
        let mut out = Vec::new();
        let r = f(&mut self.nodes[n], self.now, &mut out);
        self.emitted(n, out);
        self.run();
        r
    }

    /// Injects a frame as if it arrived at `node`/`port`.
    pub fn inject(&mut self, node: usize, port: usize, mut frame: Vec<u8>) {
        let mut out = Vec::new();
        self.nodes[node].receive(self.now, port, &mut frame, &mut out);
        self.emitted(node, out);
        self.run();
    }

    /// Advances time by `d` in 100 ms steps, polling every stack.
    pub fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while self.now < end {
            self.now = (self.now + Duration::from_millis(100)).min(end);
            for n in 0..self.nodes.len() {
                let mut out = Vec::new();
                let now = self.now;
                self.nodes[n].poll(now, &mut out);
                self.emitted(n, out);
            }
            self.run();
        }
    }

    /// Frames emitted by `node` with EtherType ARP.
    pub fn arp_frames_from(&self, node: usize) -> usize {
        self.captured
            .iter()
            .filter(|c| c.node == node && c.frame[12..14] == [0x08, 0x06])
            .count()
    }
}

/// Builds an Ethernet + IPv4 frame by hand (header checksum filled).
#[allow(clippy::too_many_arguments)]
pub fn ipv4_frame(
    dst_mac: EthernetAddress,
    src_mac: EthernetAddress,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    ident: u16,
    mf: bool,
    offset: u16,
    ttl: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst_mac.0);
    f.extend_from_slice(&src_mac.0);
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + payload.len()) as u16;
    let flags = (if mf { 0x2000 } else { 0 }) | (offset / 8);
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&ident.to_be_bytes());
    h[6..8].copy_from_slice(&flags.to_be_bytes());
    h[8] = ttl;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let c = !ones_sum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&h);
    f.extend_from_slice(payload);
    f
}

/// A UDP header + payload with checksum 0 ("none", RFC 768).
pub fn udp_no_checksum(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(payload);
    v
}
