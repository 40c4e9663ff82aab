//! etherparse 0.21 as an independent oracle: what we emit, etherparse reads
//! identically (addresses, lengths, fragment fields, valid checksums), and
//! what etherparse builds, we read identically.

use std::net::Ipv4Addr;

use etherparse::icmpv4::{DestUnreachableHeader, TimeExceededCode};
use etherparse::{
    ArpHardwareId, ArpPacket as EpArp, ArpPacketSlice, Ethernet2Header, IcmpEchoHeader,
    Icmpv4Header, Icmpv4Slice, Icmpv4Type, IpDscp, IpEcn, IpFragOffset, IpNumber, Ipv4Header,
    Ipv4Options, PacketBuilder, UdpHeader,
};
use proptest::prelude::*;
use vnet_wire::arp::{ArpOperation, ArpPacket, ArpRepr};
use vnet_wire::ethernet::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
use vnet_wire::icmpv4::{self, DstUnreachable, Icmpv4Packet, Icmpv4Repr, TimeExceeded};
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use vnet_wire::udp::{UdpPacket, UdpRepr};

fn mac() -> impl Strategy<Value = EthernetAddress> {
    any::<[u8; 6]>().prop_map(EthernetAddress)
}

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn payload(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

#[allow(clippy::too_many_arguments)]
fn ipv4_repr(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: IpProtocol,
    payload_len: usize,
    ttl: u8,
    ident: u16,
    df: bool,
    mf: bool,
    frag_offset: u16,
    dscp_ecn: u8,
) -> Ipv4Repr {
    Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        next_header: proto,
        payload_len,
        hop_limit: ttl,
        ident,
        dont_frag: df,
        more_frags: mf,
        frag_offset,
        dscp_ecn,
    }
}

/// Builds Ethernet + IPv4 + UDP with our emitters.
fn our_udp_frame(eth: EthernetRepr, ip: Ipv4Repr, udp: UdpRepr, data: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; 14 + ip.total_len()];
    let mut f = EthernetFrame::new_unchecked(&mut buf[..]);
    eth.emit(&mut f);
    let mut p = Ipv4Packet::new_unchecked(f.payload_mut());
    ip.emit(&mut p);
    let mut u = UdpPacket::new_unchecked(p.payload_mut());
    udp.emit_with_payload(&mut u, ip.src_addr, ip.dst_addr, data);
    buf
}

fn assert_ipv4_matches(ours: &Ipv4Repr, h: &Ipv4Header) {
    assert_eq!(h.source, ours.src_addr.octets());
    assert_eq!(h.destination, ours.dst_addr.octets());
    assert_eq!(h.protocol.0, u8::from(ours.next_header));
    assert_eq!(usize::from(h.total_len), ours.total_len());
    assert_eq!(h.time_to_live, ours.hop_limit);
    assert_eq!(h.identification, ours.ident);
    assert_eq!(h.dont_fragment, ours.dont_frag);
    assert_eq!(h.more_fragments, ours.more_frags);
    assert_eq!(h.fragment_offset.byte_offset(), ours.frag_offset);
    assert_eq!((h.dscp.value() << 2) | h.ecn.value(), ours.dscp_ecn);
    assert_eq!(h.header_checksum, h.calc_header_checksum(), "IPv4 checksum");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn our_udp_frames_read_by_etherparse(
        smac in mac(), dmac in mac(), src in ip(), dst in ip(), ttl in any::<u8>(),
        ident in any::<u16>(), df in any::<bool>(), dscp_ecn in any::<u8>(),
        sport in any::<u16>(), dport in any::<u16>(), data in payload(200),
    ) {
        let eth = EthernetRepr { src_addr: smac, dst_addr: dmac, ethertype: EtherType::Ipv4 };
        let ip = ipv4_repr(src, dst, IpProtocol::Udp, 8 + data.len(), ttl, ident, df, false, 0, dscp_ecn);
        let udp = UdpRepr { src_port: sport, dst_port: dport };
        let frame = our_udp_frame(eth, ip, udp, &data);

        let (e, rest) = Ethernet2Header::from_slice(&frame).unwrap();
        prop_assert_eq!(e.source, smac.0);
        prop_assert_eq!(e.destination, dmac.0);
        prop_assert_eq!(e.ether_type, etherparse::EtherType::IPV4);
        let (h, rest) = Ipv4Header::from_slice(rest).unwrap();
        assert_ipv4_matches(&ip, &h);
        let (u, rest) = UdpHeader::from_slice(rest).unwrap();
        prop_assert_eq!((u.source_port, u.destination_port), (sport, dport));
        prop_assert_eq!(usize::from(u.length), 8 + data.len());
        prop_assert_eq!(rest, &data[..]);
        let expected = u.calc_checksum_ipv4_raw(src.octets(), dst.octets(), &data).unwrap();
        prop_assert_eq!(u.checksum, expected, "UDP checksum");
    }

    #[test]
    fn our_fragment_headers_read_by_etherparse(
        src in ip(), dst in ip(), proto in any::<u8>(), len in 0usize..1480, ttl in any::<u8>(),
        ident in any::<u16>(), df in any::<bool>(), mf in any::<bool>(), units in 0u16..8192,
        dscp_ecn in any::<u8>(),
    ) {
        let ip = ipv4_repr(src, dst, IpProtocol::from(proto), len, ttl, ident, df, mf, units * 8, dscp_ecn);
        let mut buf = vec![0u8; ip.total_len()];
        ip.emit(&mut Ipv4Packet::new_unchecked(&mut buf[..]));
        let (h, rest) = Ipv4Header::from_slice(&buf).unwrap();
        assert_ipv4_matches(&ip, &h);
        prop_assert_eq!(h.fragment_offset.value(), units);
        prop_assert_eq!(rest.len(), len);
    }

    #[test]
    fn etherparse_ipv4_headers_read_by_us(
        src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(), proto in any::<u8>(), len in 0u16..1480,
        ttl in any::<u8>(), ident in any::<u16>(), df in any::<bool>(), mf in any::<bool>(),
        units in 0u16..8192, dscp in 0u8..64, ecn in 0u8..4, options in prop::sample::select(vec![0usize, 4, 8, 40]),
    ) {
        let mut h = Ipv4Header {
            dscp: IpDscp::try_new(dscp).unwrap(),
            ecn: IpEcn::try_new(ecn).unwrap(),
            identification: ident,
            dont_fragment: df,
            more_fragments: mf,
            fragment_offset: IpFragOffset::try_new(units).unwrap(),
            time_to_live: ttl,
            protocol: IpNumber(proto),
            source: src,
            destination: dst,
            ..Default::default()
        };
        h.options = Ipv4Options::try_from(&vec![1u8; options][..]).unwrap();
        h.set_payload_len(usize::from(len)).unwrap();
        h.header_checksum = h.calc_header_checksum();
        let mut bytes = h.to_bytes().to_vec();
        bytes.resize(bytes.len() + usize::from(len), 0x5a);

        let p = Ipv4Packet::new_checked(&bytes[..]).unwrap();
        prop_assert_eq!(p.header_len(), 20 + options);
        prop_assert_eq!(p.options().len(), options);
        let r = Ipv4Repr::parse(&p).unwrap();
        prop_assert_eq!(r.payload_len, usize::from(len));
        prop_assert_eq!(p.dscp(), dscp);
        prop_assert_eq!(p.ecn(), ecn);
        assert_ipv4_matches(&Ipv4Repr { payload_len: usize::from(len) + options, ..r }, &h);
    }

    #[test]
    fn etherparse_udp_frames_read_by_us(
        smac in any::<[u8; 6]>(), dmac in any::<[u8; 6]>(), src in any::<[u8; 4]>(),
        dst in any::<[u8; 4]>(), ttl in any::<u8>(), sport in any::<u16>(), dport in any::<u16>(),
        data in payload(200),
    ) {
        let mut frame = Vec::new();
        PacketBuilder::ethernet2(smac, dmac)
            .ipv4(src, dst, ttl)
            .udp(sport, dport)
            .write(&mut frame, &data)
            .unwrap();
        let f = EthernetFrame::new_checked(&frame[..]).unwrap();
        let e = EthernetRepr::parse(&f).unwrap();
        prop_assert_eq!(e, EthernetRepr {
            src_addr: EthernetAddress(smac), dst_addr: EthernetAddress(dmac), ethertype: EtherType::Ipv4,
        });
        let p = Ipv4Packet::new_checked(f.payload()).unwrap();
        let ip = Ipv4Repr::parse(&p).unwrap();
        prop_assert_eq!((ip.src_addr, ip.dst_addr), (Ipv4Addr::from(src), Ipv4Addr::from(dst)));
        prop_assert_eq!(ip.hop_limit, ttl);
        prop_assert_eq!(ip.next_header, IpProtocol::Udp);
        prop_assert_eq!(ip.payload_len, 8 + data.len());
        let u = UdpPacket::new_checked(p.payload()).unwrap();
        let r = UdpRepr::parse(&u, ip.src_addr, ip.dst_addr).unwrap();
        prop_assert_eq!(r, UdpRepr { src_port: sport, dst_port: dport });
        prop_assert_eq!(u.payload(), &data[..]);
    }

    #[test]
    fn our_icmp_read_by_etherparse(
        kind in 0u8..4, a in any::<u16>(), b in any::<u16>(), code in 0u8..16, data in payload(100),
    ) {
        let repr = match kind {
            0 => Icmpv4Repr::EchoRequest { ident: a, seq_no: b, data: &data },
            1 => Icmpv4Repr::EchoReply { ident: a, seq_no: b, data: &data },
            2 => Icmpv4Repr::DstUnreachable {
                reason: DstUnreachable::from(code),
                next_hop_mtu: if code == 4 { a } else { 0 },
                invoking: &data,
            },
            _ => Icmpv4Repr::TimeExceeded { reason: TimeExceeded::from(code % 2), invoking: &data },
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut buf[..]));
        let s = Icmpv4Slice::from_slice(&buf).unwrap();
        let expected_type = match repr {
            Icmpv4Repr::EchoRequest { .. } => Icmpv4Type::EchoRequest(IcmpEchoHeader { id: a, seq: b }),
            Icmpv4Repr::EchoReply { .. } => Icmpv4Type::EchoReply(IcmpEchoHeader { id: a, seq: b }),
            Icmpv4Repr::DstUnreachable { next_hop_mtu, .. } => match DestUnreachableHeader::from_values(code, next_hop_mtu) {
                Some(h) => Icmpv4Type::DestinationUnreachable(h),
                None => Icmpv4Type::Unknown { type_u8: 3, code_u8: code, bytes5to8: [0; 4] },
            },
            _ => Icmpv4Type::TimeExceeded(if code % 2 == 0 {
                TimeExceededCode::TtlExceededInTransit
            } else {
                TimeExceededCode::FragmentReassemblyTimeExceeded
            }),
        };
        prop_assert_eq!(s.icmp_type(), expected_type.clone());
        prop_assert_eq!(s.payload(), &data[..]);
        let want = Icmpv4Header::with_checksum(expected_type, &data).checksum;
        prop_assert_eq!(s.checksum(), want, "ICMP checksum");
    }

    #[test]
    fn etherparse_icmp_echo_read_by_us(
        src in any::<[u8; 4]>(), dst in any::<[u8; 4]>(), id in any::<u16>(), seq in any::<u16>(),
        reply in any::<bool>(), data in payload(100),
    ) {
        let mut frame = Vec::new();
        let b = PacketBuilder::ethernet2([2; 6], [4; 6]).ipv4(src, dst, 64);
        let b = if reply { b.icmpv4_echo_reply(id, seq) } else { b.icmpv4_echo_request(id, seq) };
        b.write(&mut frame, &data).unwrap();
        let f = EthernetFrame::new_checked(&frame[..]).unwrap();
        let p = Ipv4Packet::new_checked(f.payload()).unwrap();
        prop_assert_eq!(Ipv4Repr::parse(&p).unwrap().next_header, IpProtocol::Icmp);
        let got = Icmpv4Repr::parse(&Icmpv4Packet::new_checked(p.payload()).unwrap()).unwrap();
        let want = if reply {
            Icmpv4Repr::EchoReply { ident: id, seq_no: seq, data: &data }
        } else {
            Icmpv4Repr::EchoRequest { ident: id, seq_no: seq, data: &data }
        };
        prop_assert_eq!(got, want);
    }

    #[test]
    fn etherparse_frag_needed_read_by_us(mtu in any::<u16>(), data in payload(60)) {
        let t = Icmpv4Type::DestinationUnreachable(DestUnreachableHeader::FragmentationNeeded { next_hop_mtu: mtu });
        let h = Icmpv4Header::with_checksum(t, &data);
        let mut bytes = h.to_bytes().to_vec();
        bytes.extend_from_slice(&data);
        let got = Icmpv4Repr::parse_bytes(&bytes).unwrap();
        prop_assert_eq!(got, Icmpv4Repr::DstUnreachable {
            reason: DstUnreachable::FragRequired, next_hop_mtu: mtu, invoking: &data,
        });
    }

    #[test]
    fn arp_both_ways(
        op in 1u16..3, sha in any::<[u8; 6]>(), spa in any::<[u8; 4]>(), tha in any::<[u8; 6]>(),
        tpa in any::<[u8; 4]>(),
    ) {
        let ours = ArpRepr {
            operation: ArpOperation::from(op),
            source_hardware_addr: EthernetAddress(sha),
            source_protocol_addr: Ipv4Addr::from(spa),
            target_hardware_addr: EthernetAddress(tha),
            target_protocol_addr: Ipv4Addr::from(tpa),
        };
        // Ours -> etherparse.
        let mut buf = [0u8; 28];
        ours.emit(&mut ArpPacket::new_unchecked(&mut buf[..]));
        let theirs = ArpPacketSlice::from_slice(&buf).unwrap().to_packet().try_eth_ipv4().unwrap();
        prop_assert_eq!(theirs.operation.0, op);
        prop_assert_eq!((theirs.sender_mac, theirs.sender_ipv4), (sha, spa));
        prop_assert_eq!((theirs.target_mac, theirs.target_ipv4), (tha, tpa));

        // etherparse -> ours, inside an Ethernet frame.
        let pkt = EpArp::new(
            ArpHardwareId::ETHERNET, etherparse::EtherType::IPV4, etherparse::ArpOperation(op),
            &sha, &spa, &tha, &tpa,
        ).unwrap();
        let mut frame = Vec::new();
        PacketBuilder::ethernet2(sha, [0xff; 6]).arp(pkt).write(&mut frame).unwrap();
        let f = EthernetFrame::new_checked(&frame[..]).unwrap();
        prop_assert_eq!(f.ethertype(), EtherType::Arp);
        prop_assert_eq!(ArpRepr::parse(&ArpPacket::new_checked(f.payload()).unwrap()).unwrap(), ours);
    }
}

#[test]
fn icmp_header_len_agrees() {
    assert_eq!(icmpv4::HEADER_LEN, Icmpv4Header::MIN_LEN);
    assert_eq!(vnet_wire::udp::HEADER_LEN, UdpHeader::LEN);
    assert_eq!(vnet_wire::ipv4::HEADER_LEN, Ipv4Header::MIN_LEN);
    assert_eq!(vnet_wire::ethernet::HEADER_LEN, Ethernet2Header::LEN);
    assert_eq!(
        vnet_wire::arp::PACKET_LEN,
        etherparse::ArpEthIpv4Packet::LEN
    );
}
