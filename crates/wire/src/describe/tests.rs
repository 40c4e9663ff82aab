//! Tests of [`super`]: the summaries and layer lists of every protocol.

use super::*;
use crate::dhcp::DhcpOption;
use crate::dns::{DnsName, Rcode, Record};
use crate::http::{Method, RequestHead, ResponseHead, Version};
use crate::icmpv4::Icmpv4Repr;
use crate::ipv4::Ipv4Repr;
use crate::udp::UdpRepr;
use crate::{arp, ethernet};
use proptest::prelude::*;

// ------------------------------------------------------------ builders

const HOST_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 1, 100]);
const ROUTER_MAC: EthernetAddress = EthernetAddress([2, 0, 0, 0, 1, 1]);
const HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 100);
const ROUTER: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 1);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 3, 10);
const RESOLVER: Ipv4Addr = Ipv4Addr::new(10, 0, 2, 53);

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

fn eth(ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0u8; ethernet::HEADER_LEN + payload.len()];
    let mut f = EthernetFrame::new_unchecked(&mut b[..]);
    ethernet::EthernetRepr {
        src_addr: HOST_MAC,
        dst_addr: ROUTER_MAC,
        ethertype,
    }
    .emit(&mut f);
    f.payload_mut().copy_from_slice(payload);
    b
}

fn ip_repr(src: Ipv4Addr, dst: Ipv4Addr, proto: IpProtocol, len: usize) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: proto,
        payload_len: len,
        hop_limit: 64,
        ident: 42,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
        dscp_ecn: 0,
    }
}

/// An Ethernet frame carrying `repr` and `payload` (20-byte header).
fn ipv4_frame(repr: Ipv4Repr, payload: &[u8]) -> Vec<u8> {
    let mut ip = vec![0u8; repr.buffer_len() + payload.len()];
    let mut p = Ipv4Packet::new_unchecked(&mut ip[..]);
    repr.emit(&mut p);
    p.payload_mut().copy_from_slice(payload);
    eth(EtherType::Ipv4, &ip)
}

fn icmp_frame(src: Ipv4Addr, dst: Ipv4Addr, repr: Icmpv4Repr<'_>) -> Vec<u8> {
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit(&mut Icmpv4Packet::new_unchecked(&mut b[..]));
    ipv4_frame(ip_repr(src, dst, IpProtocol::Icmp, b.len()), &b)
}

fn udp_frame(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, data: &[u8]) -> Vec<u8> {
    let r = UdpRepr {
        src_port: sport,
        dst_port: dport,
    };
    let mut b = vec![0u8; r.buffer_len(data.len())];
    r.emit_with_payload(&mut UdpPacket::new_unchecked(&mut b[..]), src, dst, data);
    ipv4_frame(ip_repr(src, dst, IpProtocol::Udp, b.len()), &b)
}

fn tcp_frame(src: Ipv4Addr, dst: Ipv4Addr, repr: TcpRepr, data: &[u8]) -> Vec<u8> {
    let repr = TcpRepr {
        payload_len: data.len(),
        ..repr
    };
    let mut b = vec![0u8; repr.buffer_len()];
    repr.emit_with_payload(&mut TcpPacket::new_unchecked(&mut b[..]), src, dst, data);
    ipv4_frame(ip_repr(src, dst, IpProtocol::Tcp, b.len()), &b)
}

fn seg(sport: u16, dport: u16, flags: TcpFlags, ack: Option<u32>) -> TcpRepr {
    TcpRepr {
        ack,
        window: 64240,
        ..TcpRepr::new(sport, dport, 1000, flags)
    }
}

#[track_caller]
fn check(frame: &[u8], proto: &str, layer: &str, text: &str) {
    let s = describe(frame);
    assert_eq!(s.text, text);
    assert_eq!((s.proto, s.layer), (proto, layer), "{}", s.text);
}

fn name(s: &str) -> DnsName {
    s.parse().unwrap()
}

// ------------------------------------------------------------ fixtures

/// From tests/known_answers.rs: an ARP request produced by Scapy, decoded
/// by it as `psrc=192.168.83.67 op=who-has pdst=1.2.3.4`.
const ARP_REQUEST: &str = "ffffffffffff 3c219c714891 0806 0001 0800 06 04 0001 3c219c714891 c0a85343 000000000000 01020304";

/// From tests/known_answers.rs: a real ICMP echo request (Wireshark
/// export), 192.168.50.99 → 144.118.67.10, id 0x4859, seq 0, TTL 64.
const PING_REQUEST: &str = "a036bc62ed50 c889f3ea9314 0800
    4500 0054 2aec 0000 4001 8931 c0a83263 9076430a
    0800 7bda 4859 0000 650e01ee0000e1cc
    08090a0b0c0d0e0f 1011121314151617 18191a1b1c1d1e1f 2021222324252627
    28292a2b2c2d2e2f 3031323334353637";

/// From tests/known_answers.rs: a DNS query for `example.com A IN` from
/// 10.0.1.10:53219 to 10.0.2.53:53.
const DNS_QUERY: &str = "02766e000201 02766e000101 0800
    4500 0039 1c46 4000 4011 0730 0a00010a 0a000235
    cfe3 0035 0025 a7bc
    a122 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001";

// GMAIL_MX_FRAME, CNAME_SOA_FRAME, GMAIL_TXT_FRAME, NXDOMAIN.
include!("../../tests/captures/dns.rs");

// ------------------------------------------------------------ L2

#[test]
fn arp_request_from_a_real_capture() {
    check(
        &hex(ARP_REQUEST),
        "arp",
        "L2",
        "ARP who-has 1.2.3.4 tell 192.168.83.67",
    );
}

#[test]
fn arp_request_and_reply_emitted() {
    let emit = |op, sha, spa, tha, tpa| {
        let mut b = [0u8; arp::PACKET_LEN];
        ArpRepr {
            operation: op,
            source_hardware_addr: sha,
            source_protocol_addr: spa,
            target_hardware_addr: tha,
            target_protocol_addr: tpa,
        }
        .emit(&mut ArpPacket::new_unchecked(&mut b[..]));
        // Padded to the minimum frame size, as on the wire.
        let mut f = eth(EtherType::Arp, &b);
        f.resize(ethernet::MIN_FRAME_LEN, 0);
        f
    };
    let zero = EthernetAddress([0; 6]);
    check(
        &emit(ArpOperation::Request, HOST_MAC, HOST, zero, ROUTER),
        "arp",
        "L2",
        "ARP who-has 10.0.1.1 tell 10.0.1.100",
    );
    check(
        &emit(ArpOperation::Reply, ROUTER_MAC, ROUTER, HOST_MAC, HOST),
        "arp",
        "L2",
        "ARP 10.0.1.1 is-at 02:00:00:00:01:01",
    );
    check(
        &emit(ArpOperation::Unknown(3), ROUTER_MAC, ROUTER, HOST_MAC, HOST),
        "arp",
        "L2",
        "ARP operation 3 10.0.1.1 (02:00:00:00:01:01) → 10.0.1.100",
    );
}

#[test]
fn unknown_ethertype_short_frame_and_malformed_arp() {
    check(
        &eth(EtherType::Ipv6, &[0x60; 40]),
        "eth",
        "L2",
        "Ethernet 02:00:00:00:01:64 → 02:00:00:00:01:01 type 0x86dd",
    );
    check(
        &eth(EtherType::Unknown(0x88cc), &[]),
        "eth",
        "L2",
        "Ethernet 02:00:00:00:01:64 → 02:00:00:00:01:01 type 0x88cc",
    );
    check(
        &[],
        "eth",
        "L2",
        "Ethernet frame of 0 bytes [malformed eth]",
    );
    check(
        &[0xff; 13],
        "eth",
        "L2",
        "Ethernet frame of 13 bytes [malformed eth]",
    );
    let mut a = hex(ARP_REQUEST);
    a[15] = 6; // hardware type 6 (IEEE 802)
    check(
        &a,
        "eth",
        "L2",
        "Ethernet 3c:21:9c:71:48:91 → ff:ff:ff:ff:ff:ff type 0x0806 [malformed arp]",
    );
    check(
        &a[..30],
        "eth",
        "L2",
        "Ethernet 3c:21:9c:71:48:91 → ff:ff:ff:ff:ff:ff type 0x0806 [malformed arp]",
    );
}

// ------------------------------------------------------------ L3

#[test]
fn icmp_echo_from_a_real_capture() {
    check(
        &hex(PING_REQUEST),
        "icmp",
        "L3",
        "ICMP echo request 192.168.50.99 → 144.118.67.10 id=18521 seq=0 ttl=64",
    );
}

#[test]
fn icmp_messages_emitted() {
    let data = [0u8; 28];
    check(
        &icmp_frame(
            HOST,
            SERVER,
            Icmpv4Repr::EchoRequest {
                ident: 1,
                seq_no: 3,
                data: b"ping",
            },
        ),
        "icmp",
        "L3",
        "ICMP echo request 10.0.1.100 → 10.0.3.10 id=1 seq=3 ttl=64",
    );
    check(
        &icmp_frame(
            SERVER,
            HOST,
            Icmpv4Repr::EchoReply {
                ident: 1,
                seq_no: 3,
                data: b"ping",
            },
        ),
        "icmp",
        "L3",
        "ICMP echo reply 10.0.3.10 → 10.0.1.100 id=1 seq=3 ttl=64",
    );
    check(
        &icmp_frame(
            ROUTER,
            HOST,
            Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::TtlExpired,
                invoking: &data,
            },
        ),
        "icmp",
        "L3",
        "ICMP time exceeded 10.0.1.1 → 10.0.1.100",
    );
    check(
        &icmp_frame(
            HOST,
            SERVER,
            Icmpv4Repr::TimeExceeded {
                reason: TimeExceeded::FragExpired,
                invoking: &data,
            },
        ),
        "icmp",
        "L3",
        "ICMP time exceeded (reassembly) 10.0.1.100 → 10.0.3.10",
    );
    check(
        &icmp_frame(
            SERVER,
            HOST,
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::PortUnreachable,
                next_hop_mtu: 0,
                invoking: &data,
            },
        ),
        "icmp",
        "L3",
        "ICMP destination unreachable (port) 10.0.3.10 → 10.0.1.100",
    );
    check(
        &icmp_frame(
            ROUTER,
            HOST,
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::FragRequired,
                next_hop_mtu: 576,
                invoking: &data,
            },
        ),
        "icmp",
        "L3",
        "ICMP destination unreachable (frag needed, mtu 576) 10.0.1.1 → 10.0.1.100",
    );
    check(
        &icmp_frame(
            ROUTER,
            HOST,
            Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::HostUnreachable,
                next_hop_mtu: 0,
                invoking: &data,
            },
        ),
        "icmp",
        "L3",
        "ICMP destination unreachable (host) 10.0.1.1 → 10.0.1.100",
    );
    check(
        &icmp_frame(
            ROUTER,
            HOST,
            Icmpv4Repr::Other {
                msg_type: 5,
                msg_code: 1,
                rest_of_header: [10, 0, 1, 2],
                data: &data,
            },
        ),
        "icmp",
        "L3",
        "ICMP type 5 code 1 10.0.1.1 → 10.0.1.100",
    );
}

#[test]
fn ipv4_fragments_are_not_parsed_further() {
    // First fragment: MF set, offset 0; its bytes would parse as ICMP.
    let first = Ipv4Repr {
        more_frags: true,
        dont_frag: false,
        ..ip_repr(HOST, SERVER, IpProtocol::Icmp, 24)
    };
    check(
        &ipv4_frame(first, &[8; 24]),
        "ip",
        "L3",
        "IPv4 fragment 10.0.1.100 → 10.0.3.10 id=0x002a off=0 len=24 proto=ICMP",
    );
    // Last fragment: offset 1480, MF clear; not a UDP header.
    let last = Ipv4Repr {
        frag_offset: 1480,
        dont_frag: false,
        ..ip_repr(HOST, SERVER, IpProtocol::Udp, 8)
    };
    check(
        &ipv4_frame(last, &[0xff; 8]),
        "ip",
        "L3",
        "IPv4 fragment 10.0.1.100 → 10.0.3.10 id=0x002a off=1480 len=8 proto=UDP",
    );
}

#[test]
fn unknown_ip_protocol_and_malformed_ip() {
    check(
        &ipv4_frame(ip_repr(HOST, SERVER, IpProtocol::Unknown(89), 4), b"ospf"),
        "ip",
        "L3",
        "IPv4 10.0.1.100 → 10.0.3.10 proto=89 ttl=64 len=4",
    );
    // Cut inside the datagram: the IPv4 total length no longer fits.
    let f = udp_frame(HOST, 5353, RESOLVER, 9, b"hello");
    check(
        &f[..f.len() - 1],
        "eth",
        "L2",
        "Ethernet 02:00:00:00:01:64 → 02:00:00:00:01:01 type 0x0800 [malformed ip]",
    );
    let mut v6 = f.clone();
    v6[14] = 0x65;
    assert_eq!(describe(&v6).text, describe(&f[..20]).text);
    assert!(describe(&v6).text.ends_with("type 0x0800 [malformed ip]"));
}

#[test]
fn bad_checksums_are_flagged_not_fatal() {
    let mut f = icmp_frame(
        HOST,
        SERVER,
        Icmpv4Repr::EchoRequest {
            ident: 1,
            seq_no: 3,
            data: b"ping",
        },
    );
    let icmp_at = 14 + 20;
    f[icmp_at + 8] ^= 0xff;
    check(
        &f,
        "icmp",
        "L3",
        "ICMP echo request 10.0.1.100 → 10.0.3.10 id=1 seq=3 ttl=64 [bad icmp checksum]",
    );
    f[14 + 4] ^= 0xff; // IPv4 identification
    assert!(
        describe(&f)
            .text
            .ends_with("[bad icmp checksum] [bad ip checksum]")
    );

    let mut u = udp_frame(HOST, 5353, RESOLVER, 9, b"hello");
    let last = u.len() - 1;
    u[last] ^= 1;
    check(
        &u,
        "udp",
        "L4",
        "UDP 10.0.1.100:5353 → 10.0.2.53:9 len=5 [bad udp checksum]",
    );
    let mut t = tcp_frame(HOST, SERVER, seg(49152, 22, TcpFlags::SYN, None), &[]);
    t[14 + 20 + 4] ^= 1; // sequence number
    check(
        &t,
        "tcp",
        "L4",
        "TCP 10.0.1.100:49152 → 10.0.3.10:22 [SYN] seq=16778216 win=64240 len=0 [bad tcp checksum]",
    );
}

// ------------------------------------------------------------ L4

#[test]
fn udp_datagrams() {
    check(
        &udp_frame(HOST, 5353, RESOLVER, 9, b"hello, world"),
        "udp",
        "L4",
        "UDP 10.0.1.100:5353 → 10.0.2.53:9 len=12",
    );
    // Ethernet padding after a short datagram is not payload.
    let mut f = udp_frame(HOST, 1000, SERVER, 2000, b"x");
    f.resize(ethernet::MIN_FRAME_LEN, 0);
    check(
        &f,
        "udp",
        "L4",
        "UDP 10.0.1.100:1000 → 10.0.3.10:2000 len=1",
    );
    // A UDP Length below 8 inside a good IPv4 packet.
    let mut bad = udp_frame(HOST, 1000, SERVER, 2000, b"x");
    bad[14 + 20 + 5] = 3;
    check(
        &bad,
        "ip",
        "L3",
        "IPv4 10.0.1.100 → 10.0.3.10 proto=UDP ttl=64 len=9 [malformed udp]",
    );
}

#[test]
fn tcp_segments() {
    check(
        &tcp_frame(HOST, SERVER, seg(49152, 80, TcpFlags::SYN, None), &[]),
        "tcp",
        "L4",
        "TCP 10.0.1.100:49152 → 10.0.3.10:80 [SYN] seq=1000 win=64240 len=0",
    );
    check(
        &tcp_frame(SERVER, HOST, seg(80, 49152, TcpFlags::SYN, Some(1001)), &[]),
        "tcp",
        "L4",
        "TCP 10.0.3.10:80 → 10.0.1.100:49152 [SYN, ACK] seq=1000 ack=1001 win=64240 len=0",
    );
    let fin_psh = TcpFlags::FIN | TcpFlags::PSH;
    check(
        &tcp_frame(HOST, SERVER, seg(49152, 22, fin_psh, Some(7)), b"bye"),
        "tcp",
        "L4",
        "TCP 10.0.1.100:49152 → 10.0.3.10:22 [FIN, PSH, ACK] seq=1000 ack=7 win=64240 len=3",
    );
    check(
        &tcp_frame(HOST, SERVER, seg(49152, 22, TcpFlags::RST, None), &[]),
        "tcp",
        "L4",
        "TCP 10.0.1.100:49152 → 10.0.3.10:22 [RST] seq=1000 win=64240 len=0",
    );
    check(
        &tcp_frame(HOST, SERVER, seg(1, 2, TcpFlags::NONE, None), &[]),
        "tcp",
        "L4",
        "TCP 10.0.1.100:1 → 10.0.3.10:2 [none] seq=1000 win=64240 len=0",
    );
    // With options (MSS, SACK-permitted, timestamps, window scale).
    let syn = TcpRepr {
        mss: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        timestamps: Some(crate::tcp::TcpTimestamps { tsval: 1, tsecr: 0 }),
        ..seg(49152, 443, TcpFlags::SYN, None)
    };
    check(
        &tcp_frame(HOST, SERVER, syn, &[]),
        "tcp",
        "L4",
        "TCP 10.0.1.100:49152 → 10.0.3.10:443 [SYN] seq=1000 win=64240 len=0",
    );
    // Data Offset 4 is no TCP header.
    let mut bad = tcp_frame(HOST, SERVER, seg(1, 2, TcpFlags::SYN, None), &[]);
    bad[14 + 20 + 12] = 0x40;
    check(
        &bad,
        "ip",
        "L3",
        "IPv4 10.0.1.100 → 10.0.3.10 proto=TCP ttl=64 len=20 [malformed tcp]",
    );
}

// ------------------------------------------------------------ L7: HTTP

fn psh_ack(sport: u16, dport: u16) -> TcpRepr {
    seg(sport, dport, TcpFlags::PSH, Some(1))
}

#[test]
fn http_request_and_response_heads() {
    let mut req = RequestHead::new(Method::Get, "/img/a.png", Version::Http11);
    req.headers.append("Host", "www.example.com").unwrap();
    check(
        &tcp_frame(HOST, SERVER, psh_ack(49152, 80), &req.to_bytes()),
        "http",
        "L7",
        "HTTP GET /img/a.png HTTP/1.1 (10.0.1.100:49152 → 10.0.3.10:80)",
    );
    let mut resp = ResponseHead::new(200).to_bytes();
    resp.extend_from_slice(b"<html></html>");
    check(
        &tcp_frame(SERVER, HOST, psh_ack(80, 49152), &resp),
        "http",
        "L7",
        "HTTP 200 OK (10.0.3.10:80 → 10.0.1.100:49152)",
    );
    // Port 8080, and a head whose fields arrive in a later segment.
    check(
        &tcp_frame(
            SERVER,
            HOST,
            psh_ack(8080, 49153),
            b"HTTP/1.0 404 Not Found\r\nContent-Le",
        ),
        "http",
        "L7",
        "HTTP 404 Not Found (10.0.3.10:8080 → 10.0.1.100:49153)",
    );
    check(
        &tcp_frame(
            HOST,
            SERVER,
            psh_ack(49153, 8080),
            b"POST /form?a=1 HTTP/1.0\n",
        ),
        "http",
        "L7",
        "HTTP POST /form?a=1 HTTP/1.0 (10.0.1.100:49153 → 10.0.3.10:8080)",
    );
    // No reason phrase.
    check(
        &tcp_frame(SERVER, HOST, psh_ack(80, 49152), b"HTTP/1.1 204\r\n\r\n"),
        "http",
        "L7",
        "HTTP 204 (10.0.3.10:80 → 10.0.1.100:49152)",
    );
}

#[test]
fn http_lookalikes_stay_tcp() {
    // Body bytes, a start line cut before its end, another port.
    for (sport, dport, data) in [
        (80, 49152, &b"<html><body>hello</body></html>"[..]),
        (49152, 80, b"GET /index.html HTT"),
        (49152, 81, b"GET / HTTP/1.1\r\n\r\n"),
        (49152, 80, b"\r\nGET / HTTP/1.1\r\n\r\n"),
    ] {
        let s = describe(&tcp_frame(HOST, SERVER, psh_ack(sport, dport), data));
        assert_eq!((s.proto, s.layer), ("tcp", "L4"), "{}", s.text);
        assert!(s.text.starts_with("TCP "), "{}", s.text);
        assert!(
            s.text.ends_with(&format!(" len={}", data.len())),
            "{}",
            s.text
        );
    }
}

#[test]
fn malformed_http_is_flagged() {
    for data in [
        &b"GET / HTTP/2.0\r\n\r\n"[..],
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
        b"G@T / HTTP/1.1\r\n\r\n",
    ] {
        let s = describe(&tcp_frame(HOST, SERVER, psh_ack(49152, 80), data));
        assert_eq!(
            s.text,
            format!(
                "TCP 10.0.1.100:49152 → 10.0.3.10:80 [PSH, ACK] seq=1000 ack=1 win=64240 len={} [malformed http]",
                data.len()
            )
        );
        assert_eq!((s.proto, s.layer), ("tcp", "L4"));
    }
}

// ------------------------------------------------------------ L7: DNS

#[test]
fn dns_query_from_a_real_capture() {
    check(
        &hex(DNS_QUERY),
        "dns",
        "L7",
        "DNS query A example.com (id 0xa122)",
    );
}

#[test]
fn dns_responses_from_real_captures() {
    check(
        &hex(GMAIL_MX_FRAME),
        "dns",
        "L7",
        "DNS response MX gmail.com → 20 alt2.gmail-smtp-in.l.google.com, \
         5 gmail-smtp-in.l.google.com, 30 alt3.gmail-smtp-in.l.google.com +2 more \
         (NOERROR, 5 answers)",
    );
    check(
        &hex(CNAME_SOA_FRAME),
        "dns",
        "L7",
        "DNS response A ipv6.google.com → CNAME ipv6.l.google.com \
         (NOERROR, 1 answer, 1 authority)",
    );
    check(
        &hex(GMAIL_TXT_FRAME),
        "dns",
        "L7",
        "DNS response TXT gmail.com → \"v=spf1 redirect=_spf.google.com\" (NOERROR, 1 answer)",
    );
    check(
        &udp_frame(RESOLVER, 53, HOST, 5353, &hex(NXDOMAIN)),
        "dns",
        "L7",
        "DNS response MX no-such-domain-4815.com → NXDOMAIN (0 answers, 1 authority)",
    );
}

#[test]
fn dns_messages_emitted() {
    let q = DnsMessage::query(0x1a2b, name("www.example.com"), RecordType::A);
    check(
        &udp_frame(HOST, 5353, RESOLVER, 53, &q.emit(dns::MAX_UDP_LEN)),
        "dns",
        "L7",
        "DNS query A www.example.com (id 0x1a2b)",
    );
    let mut r = DnsMessage::response_to(&q);
    r.header.aa = true;
    r.answers.push(Record::new(
        name("www.example.com"),
        300,
        RecordData::A(SERVER),
    ));
    check(
        &udp_frame(RESOLVER, 53, HOST, 5353, &r.emit(dns::MAX_UDP_LEN)),
        "dns",
        "L7",
        "DNS response A www.example.com → 10.0.3.10 (NOERROR, 1 answer, aa)",
    );

    // A referral from a root server: NS records and glue, no answer.
    let mut referral = DnsMessage::response_to(&DnsMessage::query(7, name("com"), RecordType::Ns));
    for ns in ["a.gtld-servers.net", "b.gtld-servers.net"] {
        referral
            .authorities
            .push(Record::new(name("com"), 172800, RecordData::Ns(name(ns))));
    }
    referral.additionals.push(Record::new(
        name("a.gtld-servers.net"),
        172800,
        RecordData::A(Ipv4Addr::new(192, 5, 6, 30)),
    ));
    check(
        &udp_frame(RESOLVER, 53, HOST, 5353, &referral.emit(dns::MAX_UDP_LEN)),
        "dns",
        "L7",
        "DNS response NS com → referral (0 answers, 2 authority)",
    );

    // NODATA: NOERROR, no answer, the zone's SOA.
    let mut nodata = DnsMessage::response_to(&DnsMessage::query(
        8,
        name("www.example.com"),
        RecordType::Aaaa,
    ));
    nodata.header.aa = true;
    nodata.authorities.push(Record::new(
        name("example.com"),
        300,
        RecordData::Soa {
            mname: name("ns.example.com"),
            rname: name("admin.example.com"),
            serial: 1,
            refresh: 2,
            retry: 3,
            expire: 4,
            minimum: 60,
        },
    ));
    check(
        &udp_frame(RESOLVER, 53, HOST, 5353, &nodata.emit(dns::MAX_UDP_LEN)),
        "dns",
        "L7",
        "DNS response AAAA www.example.com → no data (NOERROR, 0 answers, 1 authority, aa)",
    );

    // SERVFAIL, truncated.
    let mut fail = DnsMessage::response_to(&q);
    fail.header.rcode = Rcode::ServFail;
    fail.header.tc = true;
    check(
        &udp_frame(RESOLVER, 53, HOST, 5353, &fail.emit(dns::MAX_UDP_LEN)),
        "dns",
        "L7",
        "DNS response A www.example.com → SERVFAIL (0 answers, tc)",
    );
}

#[test]
fn malformed_dns_is_flagged() {
    check(
        &udp_frame(HOST, 5353, RESOLVER, 53, &[1, 2, 3]),
        "udp",
        "L4",
        "UDP 10.0.1.100:5353 → 10.0.2.53:53 len=3 [malformed dns]",
    );
    // A question name pointing at itself.
    let mut loopy = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    loopy.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    check(
        &udp_frame(HOST, 5353, RESOLVER, 53, &loopy),
        "udp",
        "L4",
        "UDP 10.0.1.100:5353 → 10.0.2.53:53 len=18 [malformed dns]",
    );
}

// ------------------------------------------------------------ L7: DHCP

#[test]
fn dhcp_exchange() {
    let bcast = Ipv4Addr::BROADCAST;
    let any = Ipv4Addr::UNSPECIFIED;
    let xid = 0x3903_f326;
    let discover = DhcpMessage::client(xid, HOST_MAC, DhcpMessageType::Discover);
    check(
        &udp_frame(any, 68, bcast, 67, &discover.emit()),
        "dhcp",
        "L7",
        "DHCP DISCOVER xid 0x3903f326 from 02:00:00:00:01:64",
    );
    let reply = |kind| {
        let mut m = DhcpMessage::reply_to(&discover, kind);
        if kind != DhcpMessageType::Nak {
            m.yiaddr = HOST;
        }
        m.options.push(DhcpOption::ServerIdentifier(ROUTER));
        udp_frame(ROUTER, 67, bcast, 68, &m.emit())
    };
    check(
        &reply(DhcpMessageType::Offer),
        "dhcp",
        "L7",
        "DHCP OFFER 10.0.1.100 xid 0x3903f326",
    );
    let mut request = DhcpMessage::client(xid, HOST_MAC, DhcpMessageType::Request);
    request.options.push(DhcpOption::RequestedIp(HOST));
    request.options.push(DhcpOption::ServerIdentifier(ROUTER));
    check(
        &udp_frame(any, 68, bcast, 67, &request.emit()),
        "dhcp",
        "L7",
        "DHCP REQUEST 10.0.1.100 xid 0x3903f326 from 02:00:00:00:01:64",
    );
    check(
        &reply(DhcpMessageType::Ack),
        "dhcp",
        "L7",
        "DHCP ACK 10.0.1.100 xid 0x3903f326",
    );
    check(
        &reply(DhcpMessageType::Nak),
        "dhcp",
        "L7",
        "DHCP NAK xid 0x3903f326",
    );
    let mut release = DhcpMessage::client(xid, HOST_MAC, DhcpMessageType::Release);
    release.ciaddr = HOST;
    check(
        &udp_frame(HOST, 68, ROUTER, 67, &release.emit()),
        "dhcp",
        "L7",
        "DHCP RELEASE 10.0.1.100 xid 0x3903f326 from 02:00:00:00:01:64",
    );
    // A renewal: unicast REQUEST with ciaddr and no option 50.
    let mut renew = DhcpMessage::client(7, HOST_MAC, DhcpMessageType::Request);
    renew.ciaddr = HOST;
    check(
        &udp_frame(HOST, 68, ROUTER, 67, &renew.emit()),
        "dhcp",
        "L7",
        "DHCP REQUEST 10.0.1.100 xid 0x00000007 from 02:00:00:00:01:64",
    );
    // Plain BOOTP (no message type option).
    let mut bootp = DhcpMessage::client(9, HOST_MAC, DhcpMessageType::Discover);
    bootp.options.clear();
    check(
        &udp_frame(any, 68, bcast, 67, &bootp.emit()),
        "dhcp",
        "L7",
        "DHCP BOOTREQUEST xid 0x00000009 from 02:00:00:00:01:64",
    );
}

#[test]
fn malformed_dhcp_is_flagged() {
    let mut b = DhcpMessage::client(1, HOST_MAC, DhcpMessageType::Discover).emit();
    b[236] = 0; // magic cookie
    check(
        &udp_frame(Ipv4Addr::UNSPECIFIED, 68, Ipv4Addr::BROADCAST, 67, &b),
        "udp",
        "L4",
        "UDP 0.0.0.0:68 → 255.255.255.255:67 len=300 [malformed dhcp]",
    );
}

// ------------------------------------------------------------ properties

/// proto and layer agree with the table in the module docs.
fn consistent(s: &FrameSummary) -> bool {
    let layer = match s.proto {
        "eth" | "arp" => "L2",
        "ip" | "icmp" => "L3",
        "udp" | "tcp" => "L4",
        "dns" | "dhcp" | "http" | "tls" => "L7",
        _ => return false,
    };
    s.layer == layer && !s.text.is_empty() && !s.text.contains(['\n', '\r'])
}

/// A well-formed Ethernet + IPv4 header with `payload`, any protocol,
/// sometimes a fragment.
fn ip_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(1u8), Just(6u8), Just(17u8), any::<u8>()],
        any::<bool>(),
        0u16..4,
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(proto, mf, off, payload)| {
            let r = Ipv4Repr {
                more_frags: mf && off == 0,
                frag_offset: if off == 3 { 1480 } else { 0 },
                ..ip_repr(HOST, SERVER, IpProtocol::from(proto), payload.len())
            };
            ipv4_frame(r, &payload)
        })
}

/// A valid UDP or TCP frame on a port some application parser claims,
/// with a payload that is random or starts like that application (a
/// whole DNS or DHCP message, which their parsers accept with trailing
/// octets).
fn app_frame() -> impl Strategy<Value = Vec<u8>> {
    let mut dns = DnsMessage::response_to(&DnsMessage::query(
        1,
        name("www.example.com"),
        RecordType::A,
    ));
    dns.answers.push(Record::new(
        name("www.example.com"),
        300,
        RecordData::A(SERVER),
    ));
    let dhcp = DhcpMessage::client(1, HOST_MAC, DhcpMessageType::Discover);
    let prefix = prop_oneof![
        Just(Vec::new()),
        Just(b"GET / HTTP/1.1\r\n".to_vec()),
        Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
        Just(dns.emit(dns::MAX_UDP_LEN)),
        Just(dhcp.emit()),
        Just(vec![22, 3, 1, 0, 40, 1, 0, 0, 36, 3, 3]),
    ];
    (
        prop_oneof![
            Just(53u16),
            Just(67),
            Just(68),
            Just(80),
            Just(8080),
            Just(443),
            Just(8443)
        ],
        any::<bool>(),
        prefix,
        prop::collection::vec(any::<u8>(), 0..400),
    )
        .prop_map(|(port, tcp, mut data, rest)| {
            data.extend_from_slice(&rest);
            if tcp {
                tcp_frame(HOST, SERVER, psh_ack(49152, port), &data)
            } else {
                udp_frame(HOST, 49152, SERVER, port, &data)
            }
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1600)) {
        let s = describe(&bytes);
        prop_assert!(consistent(&s), "{s:?}");
    }

    #[test]
    fn arbitrary_ip_payloads_never_panic(frame in ip_frame()) {
        let s = describe(&frame);
        prop_assert!(consistent(&s), "{s:?}");
        prop_assert!(s.proto != "eth" && s.proto != "arp", "{s:?}");
    }

    #[test]
    fn arbitrary_app_payloads_never_panic(frame in app_frame(), cut in any::<prop::sample::Index>()) {
        let s = describe(&frame);
        prop_assert!(consistent(&s), "{s:?}");
        prop_assert!(s.layer == "L4" || s.layer == "L7", "{s:?}");
        // Any prefix (a truncated capture) is described too.
        let s = describe(&frame[..cut.index(frame.len() + 1)]);
        prop_assert!(consistent(&s), "{s:?}");
    }

    #[test]
    fn arbitrary_corruption_never_panics(
        frame in app_frame(), at in any::<prop::sample::Index>(), byte in any::<u8>(),
    ) {
        let mut frame = frame;
        let i = at.index(frame.len());
        frame[i] = byte;
        prop_assert!(consistent(&describe(&frame)));
    }

    /// etherparse as an oracle: the addresses, ports, lengths and TCP
    /// numbers in the text are the ones etherparse reads from the frame.
    #[test]
    fn etherparse_agrees_on_tcp_and_udp(
        smac in any::<[u8; 6]>(), dmac in any::<[u8; 6]>(),
        src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(), ttl in 1u8..,
        sport in 1024u16.., dport in 1024u16.., seq in any::<u32>(), ack in any::<Option<u32>>(),
        win in any::<u16>(), syn in any::<bool>(), fin in any::<bool>(), tcp in any::<bool>(),
        data in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        for alt in [HTTP_ALT_PORT, tls::HTTPS_ALT_PORT] {
            prop_assume!(sport != alt && dport != alt);
        }
        let b = etherparse::PacketBuilder::ethernet2(smac, dmac).ipv4(src, dst, ttl);
        let mut frame = Vec::new();
        if tcp {
            let mut t = b.tcp(sport, dport, seq, win);
            if syn { t = t.syn(); }
            if fin { t = t.fin(); }
            if let Some(a) = ack { t = t.ack(a); }
            t.write(&mut frame, &data).unwrap();
        } else {
            b.udp(sport, dport).write(&mut frame, &data).unwrap();
        }
        let s = describe(&frame);

        let p = etherparse::SlicedPacket::from_ethernet(&frame).unwrap();
        let Some(etherparse::NetSlice::Ipv4(ip)) = &p.net else { panic!("no IPv4: {p:?}") };
        let (esrc, edst) = (ip.header().source_addr(), ip.header().destination_addr());
        match &p.transport {
            Some(etherparse::TransportSlice::Tcp(t)) => {
                prop_assert_eq!((s.proto, s.layer), ("tcp", "L4"));
                let mut want = format!(
                    "TCP {esrc}:{} → {edst}:{} [", t.source_port(), t.destination_port()
                );
                let names = [(t.syn(), "SYN"), (t.fin(), "FIN"), (t.ack(), "ACK")];
                let on: Vec<&str> = names.iter().filter(|f| f.0).map(|f| f.1).collect();
                want += if on.is_empty() { "none" } else { "" };
                want += &on.join(", ");
                want += &format!("] seq={}", t.sequence_number());
                if t.ack() {
                    want += &format!(" ack={}", t.acknowledgment_number());
                }
                want += &format!(" win={} len={}", t.window_size(), t.payload().len());
                prop_assert_eq!(s.text, want);
            }
            Some(etherparse::TransportSlice::Udp(u)) => {
                prop_assert_eq!((s.proto, s.layer), ("udp", "L4"));
                let want = format!(
                    "UDP {esrc}:{} → {edst}:{} len={}",
                    u.source_port(), u.destination_port(), u.payload().len()
                );
                prop_assert_eq!(s.text, want);
            }
            other => panic!("unexpected transport {other:?}"),
        }
    }
}
