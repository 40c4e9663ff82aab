//! Property tests: no input bytes make a parser panic, and every
//! representation survives emit → parse unchanged.

use std::net::Ipv4Addr;

use proptest::prelude::*;
use vnet_wire::arp::{self, ArpOperation, ArpPacket, ArpRepr};
use vnet_wire::ethernet::{self, EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
use vnet_wire::icmpv4::{DstUnreachable, Icmpv4Packet, Icmpv4Repr, TimeExceeded};
use vnet_wire::ip::{IpProtocol, Ipv4Cidr, checksum};
use vnet_wire::ipv4::{self, Ipv4Packet, Ipv4Repr};
use vnet_wire::udp::{UdpPacket, UdpRepr};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn mac() -> impl Strategy<Value = EthernetAddress> {
    any::<[u8; 6]>().prop_map(EthernetAddress)
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

/// IPv4-looking garbage: a plausible first byte and total length so the
/// checked paths are reached often, then arbitrary bytes.
fn ipv4_like() -> impl Strategy<Value = Vec<u8>> {
    (0x40u8..0x50, bytes(120)).prop_map(|(vihl, mut b)| {
        if !b.is_empty() {
            b[0] = vihl;
        }
        if b.len() >= 4 {
            let n = b.len() as u16;
            b[2..4].copy_from_slice(&n.to_be_bytes());
        }
        b
    })
}

fn touch_ethernet(b: &[u8]) {
    if let Ok(f) = EthernetFrame::new_checked(b) {
        let _ = (f.dst_addr(), f.src_addr(), f.ethertype(), f.payload().len());
        let r = EthernetRepr::parse(&f).expect("checked frame parses");
        assert_eq!(r.buffer_len(), ethernet::HEADER_LEN);
        let _ = (r.dst_addr.to_string(), r.ethertype.to_string());
    }
    let _ = ethernet::check_fcs(b);
    let _ = ethernet::fcs(b);
}

fn touch_arp(b: &[u8]) {
    if let Ok(p) = ArpPacket::new_checked(b) {
        let _ = (
            p.hardware_type(),
            p.protocol_type(),
            p.hardware_len(),
            p.protocol_len(),
        );
        let _ = (
            p.operation(),
            p.source_hardware_addr(),
            p.source_protocol_addr(),
        );
        let _ = (p.target_hardware_addr(), p.target_protocol_addr());
        let _ = ArpRepr::parse(&p);
    }
}

fn touch_ipv4(b: &[u8]) {
    if let Ok(p) = Ipv4Packet::new_checked(b) {
        let _ = (
            p.version(),
            p.header_len(),
            p.dscp(),
            p.ecn(),
            p.dscp_ecn(),
            p.total_len(),
        );
        let _ = (
            p.ident(),
            p.dont_frag(),
            p.more_frags(),
            p.reserved_flag(),
            p.frag_offset(),
        );
        let _ = (
            p.hop_limit(),
            p.next_header(),
            p.checksum(),
            p.src_addr(),
            p.dst_addr(),
        );
        let _ = (
            p.verify_checksum(),
            p.options().len(),
            p.payload().len(),
            p.header().len(),
        );
        assert_eq!(
            p.header_len() + p.payload().len(),
            usize::from(p.total_len())
        );
        if let Ok(r) = Ipv4Repr::parse(&p) {
            assert_eq!(r.payload_len, p.payload().len());
        }
        let mut owned = b.to_vec();
        let mut m = Ipv4Packet::new_checked(&mut owned[..]).expect("same bytes");
        m.decrement_hop_limit();
        let _ = (m.payload_mut().len(), m.options_mut().len());
    }
}

fn touch_icmp(b: &[u8]) {
    if let Ok(p) = Icmpv4Packet::new_checked(b) {
        let _ = (
            p.msg_type(),
            p.msg_code(),
            p.checksum(),
            p.echo_ident(),
            p.echo_seq_no(),
        );
        let _ = (
            p.next_hop_mtu(),
            p.rest_of_header(),
            p.data().len(),
            p.verify_checksum(),
        );
        if let Ok(r) = Icmpv4Repr::parse(&p) {
            assert_eq!(r.buffer_len(), b.len());
        }
    }
    let _ = Icmpv4Repr::parse_bytes(b);
}

fn touch_udp(b: &[u8], src: Ipv4Addr, dst: Ipv4Addr) {
    if let Ok(p) = UdpPacket::new_checked(b) {
        let _ = (
            p.src_port(),
            p.dst_port(),
            p.len(),
            p.is_empty(),
            p.checksum(),
        );
        assert_eq!(p.payload().len() + 8, usize::from(p.len()));
        let _ = p.verify_checksum(src, dst);
        let _ = UdpRepr::parse(&p, src, dst);
    }
}

/// Every accessor and setter on an *unchecked* view of any bytes must not
/// panic either.
fn touch_unchecked(b: &[u8]) {
    let mut v = b.to_vec();
    let mut e = EthernetFrame::new_unchecked(&mut v[..]);
    let _ = (e.dst_addr(), e.src_addr(), e.ethertype(), e.payload().len());
    e.set_ethertype(EtherType::Arp);
    let _ = e.payload_mut().len();

    let mut v = b.to_vec();
    let mut a = ArpPacket::new_unchecked(&mut v[..]);
    let _ = (
        a.operation(),
        a.source_hardware_addr(),
        a.target_protocol_addr(),
    );
    a.set_target_protocol_addr(Ipv4Addr::LOCALHOST);

    let mut v = b.to_vec();
    let mut i = Ipv4Packet::new_unchecked(&mut v[..]);
    let _ = (
        i.payload().len(),
        i.options().len(),
        i.verify_checksum(),
        i.frag_offset(),
    );
    i.fill_checksum();
    i.decrement_hop_limit();
    let _ = (i.payload_mut().len(), i.options_mut().len());

    let mut v = b.to_vec();
    let mut c = Icmpv4Packet::new_unchecked(&mut v[..]);
    let _ = (c.data().len(), c.verify_checksum(), c.rest_of_header());
    c.fill_checksum();

    let mut v = b.to_vec();
    let mut u = UdpPacket::new_unchecked(&mut v[..]);
    let _ = (
        u.payload().len(),
        u.verify_checksum(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST),
    );
    u.fill_checksum(Ipv4Addr::LOCALHOST, Ipv4Addr::BROADCAST);
    let _ = u.payload_mut().len();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_bytes_never_panic(b in bytes(200), src in ip(), dst in ip()) {
        touch_ethernet(&b);
        touch_arp(&b);
        touch_ipv4(&b);
        touch_icmp(&b);
        touch_udp(&b, src, dst);
        touch_unchecked(&b);
    }

    #[test]
    fn ipv4_like_bytes_never_panic(b in ipv4_like()) {
        touch_ipv4(&b);
        touch_unchecked(&b);
    }

    #[test]
    fn udp_like_bytes_never_panic(mut b in bytes(64), src in ip(), dst in ip()) {
        if b.len() >= 6 {
            let n = b.len() as u16;
            b[4..6].copy_from_slice(&n.to_be_bytes());
        }
        touch_udp(&b, src, dst);
    }

    #[test]
    fn ethernet_round_trip(src in mac(), dst in mac(), t in any::<u16>(), payload in bytes(64)) {
        let repr = EthernetRepr { src_addr: src, dst_addr: dst, ethertype: EtherType::from(t) };
        let mut buf = vec![0u8; repr.buffer_len() + payload.len()];
        let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
        repr.emit(&mut f);
        f.payload_mut().copy_from_slice(&payload);
        let f = EthernetFrame::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(EthernetRepr::parse(&f).unwrap(), repr);
        prop_assert_eq!(f.payload(), &payload[..]);
        prop_assert_eq!(u16::from(repr.ethertype), t);
        // Text form of the address round-trips too.
        prop_assert_eq!(src.to_string().parse::<EthernetAddress>().unwrap(), src);
    }

    #[test]
    fn fcs_round_trip(frame in bytes(120), flip in any::<(usize, u8)>()) {
        let mut buf = frame.clone();
        buf.resize(frame.len().max(ethernet::MIN_FRAME_LEN) + ethernet::FCS_LEN, 0xAA);
        let n = ethernet::pad_and_append_fcs(&mut buf, frame.len());
        prop_assert_eq!(n, buf.len());
        let got = ethernet::check_fcs(&buf).unwrap();
        prop_assert_eq!(&got[..frame.len()], &frame[..]);
        prop_assert!(got[frame.len()..].iter().all(|&b| b == 0));
        // A CRC-32 detects every single-byte error.
        let (at, x) = flip;
        if x != 0 {
            let at = at % n;
            buf[at] ^= x;
            let bad = ethernet::check_fcs(&buf);
            prop_assert!(bad.is_err(), "corruption at {} undetected", at);
        }
    }

    #[test]
    fn arp_round_trip(op in any::<u16>(), sha in mac(), spa in ip(), tha in mac(), tpa in ip()) {
        let repr = ArpRepr {
            operation: ArpOperation::from(op),
            source_hardware_addr: sha,
            source_protocol_addr: spa,
            target_hardware_addr: tha,
            target_protocol_addr: tpa,
        };
        let mut buf = [0u8; arp::PACKET_LEN];
        repr.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        prop_assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(&buf[..]).unwrap()).unwrap(), repr);
    }

    #[test]
    fn ipv4_round_trip(
        src in ip(), dst in ip(), proto in any::<u8>(), payload_len in 0usize..=65515,
        hop_limit in any::<u8>(), ident in any::<u16>(), dont_frag in any::<bool>(),
        more_frags in any::<bool>(), frag_units in 0u16..8192, dscp_ecn in any::<u8>(),
    ) {
        let repr = Ipv4Repr {
            src_addr: src, dst_addr: dst, next_header: IpProtocol::from(proto), payload_len,
            hop_limit, ident, dont_frag, more_frags, frag_offset: frag_units * 8, dscp_ecn,
        };
        let mut buf = vec![0u8; repr.total_len()];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        prop_assert!(p.verify_checksum());
        prop_assert_eq!(p.header_len(), ipv4::HEADER_LEN);
        prop_assert_eq!(Ipv4Repr::parse(&p).unwrap(), repr);
    }

    #[test]
    fn ipv4_decrement_matches_full_recompute(
        header in prop::array::uniform20(any::<u8>()), ttl in 1u8..=255,
    ) {
        let mut b = header.to_vec();
        b[0] = 0x45;
        b[2..4].copy_from_slice(&20u16.to_be_bytes());
        b[8] = ttl;
        let mut p = Ipv4Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        p.decrement_hop_limit();
        prop_assert!(p.verify_checksum());
        let incremental = p.checksum();
        p.fill_checksum();
        prop_assert_eq!(incremental, p.checksum());
    }

    #[test]
    fn icmp_round_trip(
        kind in 0u8..5, a in any::<u16>(), b in any::<u16>(), code in any::<u8>(),
        msg_type in any::<u8>(), rest in any::<[u8; 4]>(), data in bytes(100),
    ) {
        let repr = match kind {
            0 => Icmpv4Repr::EchoRequest { ident: a, seq_no: b, data: &data },
            1 => Icmpv4Repr::EchoReply { ident: a, seq_no: b, data: &data },
            2 => Icmpv4Repr::DstUnreachable { reason: DstUnreachable::from(code), next_hop_mtu: a, invoking: &data },
            3 => Icmpv4Repr::TimeExceeded { reason: TimeExceeded::from(code), invoking: &data },
            _ => {
                // Types that have a typed variant would parse as that variant.
                prop_assume!(msg_type != 3 && msg_type != 11);
                prop_assume!(!((msg_type == 0 || msg_type == 8) && code == 0));
                Icmpv4Repr::Other { msg_type, msg_code: code, rest_of_header: rest, data: &data }
            }
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        let p = Icmpv4Packet::new_checked(&buf[..]).unwrap();
        prop_assert!(p.verify_checksum());
        prop_assert_eq!(Icmpv4Repr::parse(&p).unwrap(), repr);
    }

    #[test]
    fn udp_round_trip(
        src_port in any::<u16>(), dst_port in any::<u16>(), src in ip(), dst in ip(),
        payload in bytes(300), padding in 0usize..8,
    ) {
        let repr = UdpRepr { src_port, dst_port };
        let mut buf = vec![0u8; repr.buffer_len(payload.len()) + padding];
        repr.emit_with_payload(&mut UdpPacket::new_unchecked(&mut buf[..]), src, dst, &payload);
        let p = UdpPacket::new_checked(&buf[..]).unwrap();
        prop_assert_ne!(p.checksum(), 0);
        prop_assert!(p.verify_checksum(src, dst));
        prop_assert_eq!(UdpRepr::parse(&p, src, dst).unwrap(), repr);
        prop_assert_eq!(p.payload(), &payload[..]);
    }

    #[test]
    fn cidr_properties(addr in ip(), len in 0u8..=32, other in ip()) {
        let c = Ipv4Cidr::new(addr, len).unwrap();
        prop_assert_eq!(c.to_string().parse::<Ipv4Cidr>().unwrap(), c);
        prop_assert!(c.contains(addr));
        prop_assert!(c.contains(c.broadcast()));
        prop_assert_eq!(c.network().network(), c.network());
        prop_assert_eq!(c.contains(other), c.network().contains(other));
        let host = Ipv4Cidr::new(other, 32).unwrap();
        prop_assert_eq!(c.overlaps(&host), c.contains(other));
        prop_assert_eq!(u32::from(c.netmask()).count_ones(), u32::from(len));
    }

    #[test]
    fn cidr_from_str_never_panics(s in ".{0,24}") {
        let _ = s.parse::<Ipv4Cidr>();
        let _ = s.parse::<EthernetAddress>();
    }

    #[test]
    fn checksum_split_combines(b in bytes(200), split in any::<usize>()) {
        let at = (split % (b.len() + 1)) & !1; // even offset
        let whole = checksum::data(&b);
        let parts = checksum::combine(&[checksum::data(&b[..at]), checksum::data(&b[at..])]);
        // 0x0000 and 0xffff are the two representations of zero.
        prop_assert!(whole == parts || (whole | parts) == 0xffff && (whole & parts) == 0);
    }
}
