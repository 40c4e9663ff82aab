//! Local delivery: reassembly (RFC 791 §3.2), ICMP (RFC 792, RFC 1122
//! §3.2.2), UDP (RFC 768, RFC 1122 §4.1.3) and TCP (RFC 9293, in `tcp.rs`).

use super::NetStack;
use super::output::Outgoing;
use crate::frag::Reassembly;
use crate::icmp::{ErrorKind, IcmpError};
use crate::socket::ping::PingEvent;
use crate::socket::udp::UdpEvent;
use crate::time::Instant;
use crate::transmit::{Transmit, trace_event};
use std::net::SocketAddrV4;
use vnet_wire::WireError;
use vnet_wire::icmpv4::{DstUnreachable, Icmpv4Packet, Icmpv4Repr};
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::Ipv4Packet;
use vnet_wire::trace::Direction;
use vnet_wire::udp::{UdpPacket, UdpRepr};

impl NetStack {
    /// A datagram (or fragment) for us: `packet` is a checked IPv4 packet
    /// with a valid checksum, trimmed to its Total Length.
    pub(super) fn local_input(
        &mut self,
        now: Instant,
        in_port: usize,
        packet: &[u8],
        link_broadcast: bool,
        dst_broadcast: bool,
        tx: &mut dyn Transmit,
    ) {
        let p = Ipv4Packet::new_unchecked(packet);
        if !p.more_frags() && p.frag_offset() == 0 {
            self.deliver(now, in_port, packet, link_broadcast, dst_broadcast, tx);
            return;
        }
        self.counters.fragments_received += 1;
        match self.reassembler.process(now, in_port, packet) {
            Reassembly::Incomplete => {
                trace_event!(
                    tx,
                    now,
                    "ip.reassembly",
                    "L3",
                    "ip",
                    Some(Direction::In),
                    format!(
                        "fragment id={} offset={}: held for reassembly",
                        p.ident(),
                        usize::from(p.frag_offset())
                    ),
                    [("ip.id", p.ident())]
                );
            }
            Reassembly::Complete(whole) => {
                self.counters.reassembled += 1;
                trace_event!(
                    tx,
                    now,
                    "ip.reassembly",
                    "L3",
                    "ip",
                    Some(Direction::In),
                    format!(
                        "last fragment of id={}: datagram of {} bytes reassembled",
                        p.ident(),
                        whole.len()
                    ),
                    [("ip.id", p.ident()), ("ip.len", whole.len())]
                );
                self.deliver(now, in_port, &whole, link_broadcast, dst_broadcast, tx);
            }
            Reassembly::Malformed => self.counters.reassembly_malformed += 1,
            Reassembly::Overflow(n) => self.counters.reassembly_overflow += n.max(1),
        }
    }

    /// Demultiplexes a whole datagram to its protocol (RFC 1122 §3.2.1.1).
    fn deliver(
        &mut self,
        now: Instant,
        in_port: usize,
        packet: &[u8],
        link_broadcast: bool,
        dst_broadcast: bool,
        tx: &mut dyn Transmit,
    ) {
        self.counters.ip_delivered += 1;
        match Ipv4Packet::new_unchecked(packet).next_header() {
            IpProtocol::Icmp => self.icmp_input(now, in_port, packet, dst_broadcast, tx),
            IpProtocol::Udp => {
                self.udp_input(now, in_port, packet, link_broadcast, dst_broadcast, tx)
            }
            IpProtocol::Tcp => self.tcp_input(now, packet, link_broadcast || dst_broadcast, tx),
            IpProtocol::Unknown(proto) if self.raw_input(in_port, proto, packet) => {}
            IpProtocol::Unknown(_) => {
                self.counters.unknown_protocol += 1;
                // RFC 1122 §3.2.2.1: a host SHOULD send Protocol Unreachable.
                self.send_icmp_error(
                    now,
                    in_port,
                    packet,
                    link_broadcast || dst_broadcast,
                    ErrorKind::Unreachable(DstUnreachable::ProtoUnreachable, 0),
                    tx,
                );
            }
        }
    }

    /// ICMP for us: answer echo requests, route replies and errors to sockets.
    fn icmp_input(
        &mut self,
        now: Instant,
        in_port: usize,
        packet: &[u8],
        dst_broadcast: bool,
        tx: &mut dyn Transmit,
    ) {
        self.counters.icmp_rx += 1;
        let ip = Ipv4Packet::new_unchecked(packet);
        let (src, dst, ttl) = (ip.src_addr(), ip.dst_addr(), ip.hop_limit());
        let repr = match Icmpv4Repr::parse(&Icmpv4Packet::new_unchecked(ip.payload())) {
            Ok(r) => r,
            Err(_) => {
                self.counters.icmp_bad += 1;
                return;
            }
        };
        let _ = in_port;
        match repr {
            Icmpv4Repr::EchoRequest {
                ident,
                seq_no,
                data,
            } => {
                // RFC 1122 §3.2.2.6: a broadcast echo request MAY be ignored
                // (Linux: icmp_echo_ignore_broadcasts = 1).
                if dst_broadcast {
                    return;
                }
                trace_event!(
                    tx,
                    now,
                    "icmp.in",
                    "L3",
                    "icmp",
                    Some(Direction::In),
                    format!("echo request id={ident} seq={seq_no} from {src}: echo reply sent"),
                    [("icmp.id", ident), ("icmp.seq", seq_no)]
                );
                self.send_echo_reply(now, src, dst, ident, seq_no, data, tx);
            }
            Icmpv4Repr::EchoReply {
                ident,
                seq_no,
                data,
            } => match self.pings.by_ident(ident) {
                Some(s) => {
                    let ev = PingEvent::Reply {
                        from: src,
                        seq: seq_no,
                        ttl,
                        len: data.len(),
                    };
                    if !s.queue.push(ev) {
                        self.counters.ping_queue_full += 1;
                    }
                }
                None => self.counters.icmp_unmatched += 1,
            },
            Icmpv4Repr::DstUnreachable {
                reason,
                next_hop_mtu,
                invoking,
            } => {
                let error = IcmpError::from_type_code(3, reason.into(), next_hop_mtu);
                self.deliver_icmp_error(now, src, error, invoking, tx);
            }
            Icmpv4Repr::TimeExceeded { reason, invoking } => {
                let error = IcmpError::from_type_code(11, reason.into(), 0);
                self.deliver_icmp_error(now, src, error, invoking, tx);
            }
            // Parameter Problem (RFC 792) also quotes the datagram.
            Icmpv4Repr::Other {
                msg_type: msg_type @ 12,
                msg_code,
                data,
                ..
            } => {
                let error = IcmpError::from_type_code(msg_type, msg_code, 0);
                self.deliver_icmp_error(now, src, error, data, tx)
            }
            // Redirects, timestamps, router discovery: not implemented.
            Icmpv4Repr::Other { .. } => {}
        }
    }

    /// RFC 792 Echo Reply; RFC 1122 §3.2.2.6: the data is returned
    /// unchanged and the source is the request's specific destination. The
    /// reply is fragmented if needed (DF clear).
    #[allow(clippy::too_many_arguments)]
    fn send_echo_reply(
        &mut self,
        now: Instant,
        to: std::net::Ipv4Addr,
        our_addr: std::net::Ipv4Addr,
        ident: u16,
        seq_no: u16,
        data: &[u8],
        tx: &mut dyn Transmit,
    ) {
        let repr = Icmpv4Repr::EchoReply {
            ident,
            seq_no,
            data,
        };
        let mut msg = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut msg[..]));
        let Ok(mut eg) = self.egress(to) else { return };
        eg.src = our_addr;
        let out = Outgoing {
            proto: IpProtocol::Icmp,
            ttl: self.config.default_ttl,
            dont_frag: false,
            payload: &msg,
        };
        if self.send_datagram(now, &eg, out, tx).is_ok() {
            self.counters.icmp_tx += 1;
            self.counters.icmp_echo_replies_sent += 1;
        }
    }

    /// UDP for us (RFC 768; RFC 1122 §4.1.3.4 checksum, §4.1.3.1 Port Unreachable).
    fn udp_input(
        &mut self,
        now: Instant,
        in_port: usize,
        packet: &[u8],
        link_broadcast: bool,
        dst_broadcast: bool,
        tx: &mut dyn Transmit,
    ) {
        self.counters.udp_rx += 1;
        let ip = Ipv4Packet::new_unchecked(packet);
        let (src, dst) = (ip.src_addr(), ip.dst_addr());
        let udp = match UdpPacket::new_checked(ip.payload()) {
            Ok(u) => u,
            Err(_) => {
                self.counters.udp_malformed += 1;
                return;
            }
        };
        let repr = match UdpRepr::parse(&udp, src, dst) {
            Ok(r) => r,
            Err(WireError::BadChecksum { .. }) => {
                self.counters.udp_bad_checksum += 1;
                return;
            }
            Err(_) => {
                self.counters.udp_malformed += 1;
                return;
            }
        };
        let trace = tx.trace();
        trace_event!(
            tx,
            now,
            "udp.in",
            "L4",
            "udp",
            Some(Direction::In),
            format!(
                "{src}:{} → port {}: {}",
                repr.src_port,
                repr.dst_port,
                if self.udps.by_port(repr.dst_port).is_some() {
                    "delivered to the socket"
                } else {
                    "no socket: ICMP Port Unreachable"
                }
            ),
            [
                ("udp.src_port", repr.src_port),
                ("udp.dst_port", repr.dst_port),
                ("udp.len", udp.payload().len())
            ]
        );
        match self.udps.by_port(repr.dst_port) {
            Some(s) => {
                let ev = UdpEvent::Datagram {
                    from: SocketAddrV4::new(src, repr.src_port),
                    payload: udp.payload().to_vec(),
                };
                let meta = crate::socket::udp::UdpMeta {
                    in_port: Some(in_port),
                    dst: Some(dst),
                    trace,
                };
                if !s.queue.push((ev, meta)) {
                    self.counters.udp_queue_full += 1;
                }
            }
            None => {
                self.counters.udp_no_port += 1;
                self.send_icmp_error(
                    now,
                    in_port,
                    packet,
                    link_broadcast || dst_broadcast,
                    ErrorKind::Unreachable(DstUnreachable::PortUnreachable, 0),
                    tx,
                );
            }
        }
    }
}
