//! Known-answer tests: real captures, RFC examples and check values whose
//! expected numbers come from outside this crate.

use std::net::Ipv4Addr;

use vnet_wire::WireError;
use vnet_wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use vnet_wire::ethernet::{self, EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
use vnet_wire::icmpv4::{Icmpv4Packet, Icmpv4Repr, Message};
use vnet_wire::ip::{IpProtocol, checksum};
use vnet_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use vnet_wire::udp::{UdpPacket, UdpRepr};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("test hex"))
        .collect()
}

/// An ARP request as produced by Scapy and decoded by it as
/// `hwsrc=3c:21:9c:71:48:91 psrc=192.168.83.67 op=who-has pdst=1.2.3.4`.
const ARP_REQUEST: &str = "ffffffffffff 3c219c714891 0806 0001 0800 06 04 0001 3c219c714891 c0a85343 000000000000 01020304";

/// A real ICMP echo request frame (Wireshark export of a ping capture):
/// 192.168.50.99 -> 144.118.67.10, IP checksum 0x8931, ICMP checksum 0x7bda,
/// id 0x4859, seq 0, 56 bytes of data (8-byte timestamp + 0x08..=0x37).
const PING_REQUEST: &str = "a036bc62ed50 c889f3ea9314 0800
    4500 0054 2aec 0000 4001 8931 c0a83263 9076430a
    0800 7bda 4859 0000 650e01ee0000e1cc
    08090a0b0c0d0e0f 1011121314151617 18191a1b1c1d1e1f 2021222324252627
    28292a2b2c2d2e2f 3031323334353637";

/// A DNS query for `example.com A IN` from 10.0.1.10:53219 to 10.0.2.53:53.
/// Checksums (IPv4 0x0730, UDP 0xa7bc) were computed with an independent
/// Python implementation of RFC 1071 and agree with etherparse.
const DNS_QUERY: &str = "02766e000201 02766e000101 0800
    4500 0039 1c46 4000 4011 0730 0a00010a 0a000235
    cfe3 0035 0025 a7bc
    a122 0100 0001 0000 0000 0000 07 6578616d706c65 03 636f6d 00 0001 0001";

#[test]
fn crc32_check_value() {
    // The CRC-32 (IEEE 802.3) check value of "123456789" (Rocksoft catalogue).
    assert_eq!(ethernet::fcs(b"123456789"), 0xCBF4_3926);
}

#[test]
fn fcs_of_padded_arp_request_and_residue() {
    let frame = hex(ARP_REQUEST);
    assert_eq!(frame.len(), 42);
    let mut buf = frame.clone();
    buf.resize(64, 0xAA);
    let wire_len = ethernet::pad_and_append_fcs(&mut buf, frame.len());
    assert_eq!(wire_len, 64);
    assert!(buf[42..60].iter().all(|&b| b == 0), "zero padding");
    // Computed with zlib.crc32 over the 60 padded bytes; stored LSB first.
    assert_eq!(&buf[60..64], &[0xdc, 0x94, 0xc6, 0x4a]);
    // Running the CRC over frame + FCS yields the CRC-32 residue 0x2144DF1C.
    assert_eq!(ethernet::fcs(&buf[..64]), 0x2144_DF1C);
    assert_eq!(ethernet::check_fcs(&buf).unwrap(), &buf[..60]);

    buf[20] ^= 0x01;
    assert!(matches!(
        ethernet::check_fcs(&buf),
        Err(WireError::BadFcs {
            expected: 0x4ac6_94dc,
            ..
        })
    ));
    assert!(matches!(
        ethernet::check_fcs(&buf[..17]),
        Err(WireError::Truncated {
            needed: 18,
            available: 17,
            ..
        })
    ));
}

#[test]
fn real_arp_request() {
    let bytes = hex(ARP_REQUEST);
    let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
    let eth = EthernetRepr::parse(&frame).unwrap();
    assert_eq!(eth.dst_addr, EthernetAddress::BROADCAST);
    assert_eq!(eth.src_addr.to_string(), "3c:21:9c:71:48:91");
    assert_eq!(eth.ethertype, EtherType::Arp);
    let arp = ArpRepr::parse(&ArpPacket::new_checked(frame.payload()).unwrap()).unwrap();
    assert_eq!(
        arp,
        ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: "3c:21:9c:71:48:91".parse().unwrap(),
            source_protocol_addr: Ipv4Addr::new(192, 168, 83, 67),
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: Ipv4Addr::new(1, 2, 3, 4),
        }
    );
    // Re-emitting gives the same bytes.
    let mut out = vec![0u8; 42];
    let mut f = EthernetFrame::new_unchecked(&mut out[..]);
    eth.emit(&mut f);
    arp.emit(&mut ArpPacket::new_unchecked(f.payload_mut()));
    assert_eq!(out, bytes);
}

#[test]
fn real_ping_echo_request() {
    let bytes = hex(PING_REQUEST);
    assert_eq!(bytes.len(), 98);
    let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
    assert_eq!(frame.ethertype(), EtherType::Ipv4);
    let ip = Ipv4Packet::new_checked(frame.payload()).unwrap();
    assert_eq!(ip.checksum(), 0x8931);
    assert!(ip.verify_checksum());
    let ip_repr = Ipv4Repr::parse(&ip).unwrap();
    assert_eq!(
        ip_repr,
        Ipv4Repr {
            src_addr: Ipv4Addr::new(192, 168, 50, 99),
            dst_addr: Ipv4Addr::new(144, 118, 67, 10),
            next_header: IpProtocol::Icmp,
            payload_len: 64,
            hop_limit: 64,
            ident: 0x2aec,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
            dscp_ecn: 0,
        }
    );
    let icmp = Icmpv4Packet::new_checked(ip.payload()).unwrap();
    assert_eq!(icmp.msg_type(), Message::EchoRequest);
    assert_eq!(icmp.checksum(), 0x7bda);
    assert!(icmp.verify_checksum());
    let repr = Icmpv4Repr::parse(&icmp).unwrap();
    let Icmpv4Repr::EchoRequest {
        ident,
        seq_no,
        data,
    } = repr
    else {
        panic!("not an echo request: {repr:?}");
    };
    assert_eq!((ident, seq_no, data.len()), (0x4859, 0, 56));
    assert_eq!(&data[8..], &(0x08u8..=0x37).collect::<Vec<_>>()[..]);

    // Emitting the same representations reproduces the capture byte for byte.
    let mut out = vec![0u8; 98];
    let mut f = EthernetFrame::new_unchecked(&mut out[..]);
    EthernetRepr::parse(&frame).unwrap().emit(&mut f);
    let mut ipp = Ipv4Packet::new_unchecked(f.payload_mut());
    ip_repr.emit(&mut ipp);
    repr.emit(&mut Icmpv4Packet::new_unchecked(ipp.payload_mut()));
    assert_eq!(out, bytes);
}

#[test]
fn ipv4_header_checksum_example() {
    // The header used as the worked example of RFC 791 §3.1 checksums on
    // Wikipedia ("IPv4 header checksum"): checksum 0xb861.
    let mut h = hex("4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7");
    let p = Ipv4Packet::new_unchecked(&h[..]);
    assert!(p.verify_checksum());
    h[10] = 0;
    h[11] = 0;
    let mut p = Ipv4Packet::new_unchecked(&mut h[..]);
    assert!(!p.verify_checksum());
    p.fill_checksum();
    assert_eq!(p.checksum(), 0xb861);
}

#[test]
fn rfc1071_example_sum() {
    // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
    let b = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(checksum::data(&b), 0xddf2);
    assert_eq!(!checksum::data(&b), 0x220d);
    // Partial sums combine (RFC 1071 §2 (B)), also across an odd split when the
    // split is at an even offset.
    assert_eq!(
        checksum::combine(&[checksum::data(&b[..4]), checksum::data(&b[4..])]),
        0xddf2
    );
}

#[test]
fn dns_query_over_udp() {
    let bytes = hex(DNS_QUERY);
    let frame = EthernetFrame::new_checked(&bytes[..]).unwrap();
    let ip = Ipv4Packet::new_checked(frame.payload()).unwrap();
    let ip_repr = Ipv4Repr::parse(&ip).unwrap();
    assert_eq!(ip_repr.next_header, IpProtocol::Udp);
    assert!(ip_repr.dont_frag);
    let udp = UdpPacket::new_checked(ip.payload()).unwrap();
    assert_eq!(udp.checksum(), 0xa7bc);
    let repr = UdpRepr::parse(&udp, ip_repr.src_addr, ip_repr.dst_addr).unwrap();
    assert_eq!(
        repr,
        UdpRepr {
            src_port: 53219,
            dst_port: 53
        }
    );
    assert_eq!(udp.payload().len(), 29);
    assert_eq!(&udp.payload()[13..24], b"example\x03com");
    // Wrong pseudo-header address: the checksum no longer verifies.
    assert_eq!(
        UdpRepr::parse(&udp, Ipv4Addr::new(10, 0, 1, 11), ip_repr.dst_addr),
        Err(WireError::BadChecksum { what: "UDP" })
    );

    let mut out = vec![0u8; bytes.len()];
    let mut f = EthernetFrame::new_unchecked(&mut out[..]);
    EthernetRepr::parse(&frame).unwrap().emit(&mut f);
    let mut ipp = Ipv4Packet::new_unchecked(f.payload_mut());
    ip_repr.emit(&mut ipp);
    let mut u = UdpPacket::new_unchecked(ipp.payload_mut());
    repr.emit_with_payload(&mut u, ip_repr.src_addr, ip_repr.dst_addr, udp.payload());
    assert_eq!(out, bytes);
}

#[test]
fn dns_query_padded_to_min_frame() {
    // 71 bytes is above the minimum, so build a short frame: a 1-byte UDP
    // payload, padded by the NIC to 60 bytes; IPv4/UDP must ignore the padding.
    let mut buf = vec![0u8; 64];
    let frame_len = 14 + 20 + 8 + 1;
    {
        let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr {
            src_addr: EthernetAddress([2, 0, 0, 0, 0, 1]),
            dst_addr: EthernetAddress([2, 0, 0, 0, 0, 2]),
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut f);
        let repr = Ipv4Repr {
            src_addr: Ipv4Addr::new(10, 0, 0, 1),
            dst_addr: Ipv4Addr::new(10, 0, 0, 2),
            next_header: IpProtocol::Udp,
            payload_len: 9,
            hop_limit: 64,
            ident: 1,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
            dscp_ecn: 0,
        };
        let mut ip = Ipv4Packet::new_unchecked(&mut f.payload_mut()[..29]);
        repr.emit(&mut ip);
        let mut u = UdpPacket::new_unchecked(ip.payload_mut());
        UdpRepr {
            src_port: 1000,
            dst_port: 2000,
        }
        .emit_with_payload(&mut u, repr.src_addr, repr.dst_addr, b"x");
    }
    let wire_len = ethernet::pad_and_append_fcs(&mut buf, frame_len);
    assert_eq!(wire_len, 64);
    let frame = ethernet::check_fcs(&buf[..wire_len]).unwrap();
    assert_eq!(frame.len(), 60);
    let f = EthernetFrame::new_checked(frame).unwrap();
    assert_eq!(f.payload().len(), 46);
    let ip = Ipv4Packet::new_checked(f.payload()).unwrap();
    assert_eq!(ip.payload().len(), 9);
    let u = UdpPacket::new_checked(ip.payload()).unwrap();
    assert!(UdpRepr::parse(&u, ip.src_addr(), ip.dst_addr()).is_ok());
    assert_eq!(u.payload(), b"x");
}
