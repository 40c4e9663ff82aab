//! The send path: routing of what this stack originates, IPv4 header
//! construction (RFC 791 §3.1), fragmentation (§3.2), ARP resolution with
//! queueing (RFC 1122 §2.3.2.2), and ICMP error generation (RFC 792,
//! RFC 1812 §4.3.2).

use super::{LOOPBACK_QUEUE, NetStack};
use crate::arp::Pending;
use crate::error::StackError;
use crate::frag::{self, MAX_DATAGRAM_LEN};
use crate::icmp::{self, ErrorKind, IcmpError, Quoted};
use crate::time::Instant;
use crate::transmit::{Transmit, trace_event};
use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use vnet_wire::ethernet::{self, EtherType, EthernetAddress, EthernetFrame};
use vnet_wire::icmpv4::{DstUnreachable, Icmpv4Packet};
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::{self, Ipv4Packet, Ipv4Repr};
use vnet_wire::trace::Direction;

const H: usize = ethernet::HEADER_LEN;

/// Where a datagram to some destination goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Egress {
    /// The final destination.
    pub dst: Ipv4Addr,
    /// Egress port (for loopback: the port owning the address).
    pub port: usize,
    /// The next hop: the gateway, or the destination itself.
    pub next_hop: Ipv4Addr,
    /// Source address to use: the egress interface's address (or the
    /// destination itself for loopback).
    pub src: Ipv4Addr,
    /// Egress MTU.
    pub mtu: usize,
    /// The destination is one of our own addresses.
    pub local: bool,
}

/// What an IP datagram we originate carries.
#[derive(Debug, Clone, Copy)]
pub(super) struct Outgoing<'a> {
    pub proto: IpProtocol,
    pub ttl: u8,
    pub dont_frag: bool,
    /// The transport message (header included).
    pub payload: &'a [u8],
}

/// The Ethernet multicast address of an IPv4 group (RFC 1112 §6.4).
fn multicast_mac(ip: Ipv4Addr) -> EthernetAddress {
    let o = ip.octets();
    EthernetAddress([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
}

impl NetStack {
    /// Routes `dst` (RFC 1812 §5.2.4.3); the source is the egress interface's
    /// address (RFC 1122 §3.3.4.3 lets a host choose it).
    pub(super) fn egress(&mut self, dst: Ipv4Addr) -> Result<Egress, StackError> {
        if let Some(port) = self.port_of_address(dst) {
            return Ok(Egress {
                dst,
                port,
                next_hop: dst,
                src: dst,
                mtu: MAX_DATAGRAM_LEN,
                local: true,
            });
        }
        let Some(route) = self.routes.lookup(dst) else {
            self.counters.no_route += 1;
            return Err(StackError::NoRoute { dst });
        };
        let port = route.port;
        // Limited broadcast goes on the link of the chosen route, not to a gateway.
        let next_hop = if dst.is_broadcast() {
            dst
        } else {
            route.next_hop(dst)
        };
        let Some(src) = self.address_of(port) else {
            self.counters.tx_no_address += 1;
            return Err(StackError::NoAddress { port });
        };
        Ok(Egress {
            dst,
            port,
            next_hop,
            src,
            mtu: usize::from(self.interfaces[port].mtu),
            local: false,
        })
    }

    /// Builds and sends one datagram from `eg.src` to `eg.dst`: fragments it
    /// to the egress MTU unless DF is requested, in which case it fails with
    /// [`StackError::MessageTooLong`] (Linux `EMSGSIZE`).
    pub(super) fn send_datagram(
        &mut self,
        now: Instant,
        eg: &Egress,
        out: Outgoing<'_>,
        tx: &mut dyn Transmit,
    ) -> Result<(), StackError> {
        let total = ipv4::HEADER_LEN + out.payload.len();
        if total > MAX_DATAGRAM_LEN {
            return Err(StackError::PayloadTooLarge {
                len: out.payload.len(),
                max: MAX_DATAGRAM_LEN - ipv4::HEADER_LEN,
            });
        }
        if !eg.local && total > eg.mtu && out.dont_frag {
            return Err(StackError::MessageTooLong {
                len: total,
                mtu: eg.mtu as u16,
            });
        }
        let repr = Ipv4Repr {
            src_addr: eg.src,
            dst_addr: eg.dst,
            next_header: out.proto,
            payload_len: out.payload.len(),
            hop_limit: out.ttl,
            ident: self.next_ident(),
            dont_frag: out.dont_frag,
            more_frags: false,
            frag_offset: 0,
            dscp_ecn: 0,
        };
        let mut frame = vec![0u8; H + total];
        repr.emit(&mut Ipv4Packet::new_unchecked(&mut frame[H..]));
        frame[H + ipv4::HEADER_LEN..].copy_from_slice(out.payload);
        self.counters.ip_tx += 1;
        if eg.local {
            if self.loopback.len() < LOOPBACK_QUEUE {
                frame.drain(..H);
                self.loopback.push_back(frame);
            }
        } else if total <= eg.mtu {
            self.output_ip_frame(now, eg.port, eg.next_hop, &mut frame, None, tx);
        } else {
            self.output_fragmented(now, eg.port, eg.next_hop, &frame[H..], None, tx);
        }
        Ok(())
    }

    /// Fills in the Ethernet header of `frame` (header + IPv4 packet) and
    /// sends it to `next_hop` on `port`, or queues it while ARP resolves the
    /// next hop (RFC 1122 §2.3.2.2). `in_port` is the ingress port of a
    /// forwarded packet, `None` for ours. Allocates only when queueing.
    pub(super) fn output_ip_frame(
        &mut self,
        now: Instant,
        port: usize,
        next_hop: Ipv4Addr,
        frame: &mut [u8],
        in_port: Option<usize>,
        tx: &mut dyn Transmit,
    ) {
        let iface = &self.interfaces[port];
        {
            let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
            eth.set_src_addr(iface.mac);
            eth.set_ethertype(EtherType::Ipv4);
        }
        let dst_mac =
            if next_hop.is_broadcast() || Self::is_subnet_broadcast(iface.address, next_hop) {
                Some(EthernetAddress::BROADCAST)
            } else if next_hop.is_multicast() {
                Some(multicast_mac(next_hop))
            } else {
                self.arp.lookup(now, port, next_hop)
            };
        match dst_mac {
            Some(mac) => {
                trace_event!(
                    tx,
                    now,
                    "eth.out",
                    "L2",
                    "eth",
                    Some(Direction::Out),
                    format!(
                        "next hop {next_hop} is {mac} (ARP cache hit), out {}",
                        self.interfaces[port].name
                    ),
                    [
                        ("eth.dst", mac.to_string()),
                        ("ip.next_hop", next_hop.to_string())
                    ]
                );
                EthernetFrame::new_unchecked(&mut frame[..]).set_dst_addr(mac);
                tx.transmit(port, frame);
            }
            None => {
                let r = self.arp.enqueue(now, port, next_hop, frame, in_port);
                trace_event!(
                    tx,
                    now,
                    "arp.miss",
                    "L2",
                    "arp",
                    Some(Direction::Out),
                    format!(
                        "ARP cache miss for {next_hop}: frame queued{}",
                        if r.send_request {
                            ", who-has request broadcast"
                        } else {
                            " behind a pending request"
                        }
                    ),
                    [("ip.next_hop", next_hop.to_string())]
                );
                self.counters.arp_queue_dropped += r.dropped;
                self.counters.arp_table_full += u64::from(r.table_full);
                if r.send_request {
                    self.send_arp_request(port, next_hop, tx);
                }
            }
        }
    }

    /// Fragments `packet` to the MTU of `port` (RFC 791 §3.2) and sends each
    /// fragment, reusing the stack's scratch buffer.
    pub(super) fn output_fragmented(
        &mut self,
        now: Instant,
        port: usize,
        next_hop: Ipv4Addr,
        packet: &[u8],
        in_port: Option<usize>,
        tx: &mut dyn Transmit,
    ) {
        let mut scratch = core::mem::take(&mut self.scratch);
        let mtu = usize::from(self.interfaces[port].mtu);
        let n = frag::fragment(packet, mtu, &mut scratch, H, |f| {
            self.output_ip_frame(now, port, next_hop, f, in_port, tx);
        });
        self.scratch = scratch;
        self.counters.fragments_created += n as u64;
        trace_event!(
            tx,
            now,
            "ip.fragment",
            "L3",
            "ip",
            Some(Direction::Out),
            format!(
                "{} bytes > MTU {mtu} of {}: {n} fragments (RFC 791 §3.2)",
                packet.len(),
                self.interfaces[port].name
            ),
            [
                ("ip.len", packet.len()),
                ("ip.mtu", mtu),
                ("ip.fragments", n)
            ]
        );
    }

    /// Sends the packets that waited for `mac` on `port`.
    pub(super) fn flush_pending(
        &mut self,
        port: usize,
        mac: EthernetAddress,
        queue: VecDeque<Pending>,
        tx: &mut dyn Transmit,
    ) {
        for mut p in queue {
            if p.frame.len() >= H {
                EthernetFrame::new_unchecked(&mut p.frame[..]).set_dst_addr(mac);
                tx.transmit(port, &p.frame);
            }
        }
    }

    /// ARP gave up on `ip` (RFC 1122 §2.3.2.1): the waiting packets are
    /// dropped; forwarded ones earn their source an ICMP Host Unreachable
    /// (RFC 1812 §5.2.7.1), ours a `HostUnreachable` event on the owning socket.
    pub(super) fn arp_failed(
        &mut self,
        now: Instant,
        port: usize,
        ip: Ipv4Addr,
        queue: VecDeque<Pending>,
        tx: &mut dyn Transmit,
    ) {
        tracing::debug!(port, %ip, dropped = queue.len(), "ARP resolution failed");
        for p in queue {
            let Some(packet) = p.frame.get(H..) else {
                continue;
            };
            match p.in_port {
                None => {
                    let from = self.address_of(port).unwrap_or(Ipv4Addr::UNSPECIFIED);
                    self.deliver_icmp_error(now, from, IcmpError::HostUnreachable, packet, tx);
                }
                Some(in_port) => self.send_icmp_error(
                    now,
                    in_port,
                    packet,
                    false,
                    ErrorKind::Unreachable(DstUnreachable::HostUnreachable, 0),
                    tx,
                ),
            }
        }
    }

    /// Sends an ICMP error about `offending` (a checked IPv4 packet that
    /// arrived on `in_port`), if RFC 1812 §4.3.2.7 allows it. The source is
    /// the address of `in_port` (the interface the packet arrived on); the
    /// quote is the header and as much data as fits in 576 bytes
    /// (RFC 1812 §4.3.2.3).
    pub(super) fn send_icmp_error(
        &mut self,
        now: Instant,
        in_port: usize,
        offending: &[u8],
        link_broadcast: bool,
        kind: ErrorKind,
        tx: &mut dyn Transmit,
    ) {
        let p = Ipv4Packet::new_unchecked(offending);
        let dst_broadcast = self.is_broadcast_addr(p.dst_addr());
        if !icmp::may_send_error(offending, link_broadcast, dst_broadcast) {
            self.counters.icmp_errors_suppressed += 1;
            return;
        }
        let Some(src) = self.address_of(in_port) else {
            self.counters.tx_no_address += 1;
            return;
        };
        let quote = &offending[..icmp::quote_len(offending)];
        let repr = kind.repr(quote);
        let mut msg = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Icmpv4Packet::new_unchecked(&mut msg[..]));
        let Ok(mut eg) = self.egress(p.src_addr()) else {
            return;
        };
        if !eg.local {
            eg.src = src;
        }
        let out = Outgoing {
            proto: IpProtocol::Icmp,
            ttl: self.config.default_ttl,
            dont_frag: false,
            payload: &msg,
        };
        if self.send_datagram(now, &eg, out, tx).is_ok() {
            self.counters.icmp_tx += 1;
            self.counters.icmp_errors_sent += 1;
        }
    }

    /// Hands an ICMP error to the socket that sent the quoted datagram
    /// (RFC 1122 §3.2.2: "MUST be passed to the transport layer"; §4.1.3.3).
    pub(super) fn deliver_icmp_error(
        &mut self,
        now: Instant,
        from: Ipv4Addr,
        error: IcmpError,
        invoking: &[u8],
        tx: &mut dyn Transmit,
    ) {
        let Some(q) = Quoted::parse(invoking) else {
            self.counters.icmp_unmatched += 1;
            return;
        };
        // RFC 1191 §6.3: remember the path's MTU for later traffic too.
        if let IcmpError::FragmentationNeeded { mtu } = error {
            self.pmtu.learn(now, q.dst, mtu);
        }
        let delivered = if let Some((ident, seq)) = q.echo() {
            match self.pings.by_ident(ident) {
                Some(s) => {
                    if !s.queue.push(crate::PingEvent::Error { from, seq, error }) {
                        self.counters.ping_queue_full += 1;
                    }
                    true
                }
                None => false,
            }
        } else if let Some((sport, dport)) = q.udp_ports() {
            match self.udps.by_port(sport) {
                Some(s) => {
                    let ev = crate::UdpEvent::Error {
                        from,
                        original_dst: SocketAddrV4::new(q.dst, dport),
                        error,
                    };
                    if !s.queue.push((ev, crate::socket::udp::UdpMeta::default())) {
                        self.counters.udp_queue_full += 1;
                    }
                    true
                }
                None => false,
            }
        } else if let Some((sport, dport)) = q.tcp_ports() {
            let local = SocketAddrV4::new(q.src, sport);
            let remote = SocketAddrV4::new(q.dst, dport);
            let taken = self
                .tcp
                .icmp_error(now, &mut self.counters, local, remote, error);
            self.flush_tcp(now, tx);
            taken
        } else {
            false
        };
        if !delivered {
            self.counters.icmp_unmatched += 1;
        }
    }

    /// Delivers the packets we sent to ourselves (bounded, so a reply to a
    /// reply cannot loop).
    pub(super) fn drain_loopback(&mut self, now: Instant, tx: &mut dyn Transmit) {
        for _ in 0..LOOPBACK_QUEUE {
            let Some(packet) = self.loopback.pop_front() else {
                return;
            };
            let dst = Ipv4Packet::new_unchecked(&packet[..]).dst_addr();
            let port = self.port_of_address(dst).unwrap_or(0);
            self.counters.ip_rx += 1;
            self.local_input(now, port, &packet, false, false, tx);
        }
    }
}
