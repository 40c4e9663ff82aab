//! `traceroute -T`: TCP SYN probes, built and read the way Linux
//! traceroute's raw sockets do it.
//!
//! vnet's TCP has no per-connection TTL and keeps the ICMP errors about a
//! connection to itself, so the probe does not go through it: each SYN is
//! an Ethernet frame built here (60 bytes of IP: a 40-byte TCP header with
//! MSS, SACK-permitted, timestamps and window scale, as Linux's) and sent
//! on the egress interface towards the route's next hop; the answers are
//! read from a copy of what that interface receives
//! ([`DeviceHandle::received_frames`]). A router's Time Exceeded quotes
//! the SYN (ports and sequence number, RFC 792); the destination answers
//! with a SYN-ACK (open port) or a RST (closed), either acknowledging the
//! probe's sequence number + 1, and ends the trace. The host's stack then
//! resets the SYN-ACK it has no connection for, as the kernel does.

use super::traceroute::Answer;
use crate::Host;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;
use tokio::time::Instant;
use vnet_runtime::net::PingSocket;
use vnet_runtime::{DeviceHandle, ReceivedFrames};
use vnet_stack::{IcmpError, SendOptions, StackError};
use vnet_wire::ethernet::{EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
use vnet_wire::ip::IpProtocol;
use vnet_wire::ipv4::{Ipv4Packet, Ipv4Repr};
use vnet_wire::tcp::{TcpFlags, TcpPacket, TcpRepr, TcpTimestamps};

/// Ethernet header length.
const ETH_LEN: usize = 14;
/// How often the neighbour table is looked at while ARP resolves.
const ARP_POLL: Duration = Duration::from_millis(10);

/// Where a probe leaves: interface, addresses, next hop.
#[derive(Debug, Clone, Copy)]
struct Egress {
    port: usize,
    src: Ipv4Addr,
    src_mac: EthernetAddress,
    next_hop: Ipv4Addr,
}

/// One probe on its way: what its answers must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Probe {
    src: SocketAddrV4,
    dst: SocketAddrV4,
    seq: u32,
}

/// Sends SYN probes to one destination and reads what answers them.
pub(crate) struct TcpProber {
    handle: DeviceHandle<Host>,
    frames: ReceivedFrames,
    dst: SocketAddrV4,
    port: usize,
    sport: u16,
    next_seq: u32,
    ident: u16,
    /// Echo requests to the next hop make the stack resolve its MAC.
    arp_trigger: PingSocket<Host>,
}

impl TcpProber {
    /// Prepares probes to `dst`: the route (else `NoRoute`), a source port
    /// and sequence numbers nobody predicts, the receive copy.
    pub(crate) fn open(handle: &DeviceHandle<Host>, dst: SocketAddrV4) -> Result<Self, String> {
        let eg = egress(handle, *dst.ip()).map_err(|e| e.to_string())?;
        let frames = handle
            .received_frames(eg.port)
            .ok_or_else(|| format!("no interface {}", eg.port))?;
        let arp_trigger = PingSocket::open(handle).map_err(|e| e.to_string())?;
        let random = random_u64();
        Ok(TcpProber {
            handle: handle.clone(),
            frames,
            dst,
            port: eg.port,
            sport: 32768 + (random % 28232) as u16,
            next_seq: (random >> 16) as u32,
            ident: (random >> 48) as u16,
            arp_trigger,
        })
    }

    /// Sends one SYN with `ttl` and waits until `deadline` for its answer.
    pub(crate) async fn probe(
        &mut self,
        ttl: u8,
        deadline: Instant,
    ) -> Result<Option<(Ipv4Addr, Answer)>, StackError> {
        let eg = egress(&self.handle, *self.dst.ip())?;
        if eg.port != self.port {
            return Ok(None);
        }
        let Some(next_mac) = self.neighbour(&eg, deadline).await else {
            return Ok(None);
        };
        let probe = Probe {
            src: SocketAddrV4::new(eg.src, self.sport),
            dst: self.dst,
            seq: self.next_seq,
        };
        self.next_seq = self.next_seq.wrapping_add(1);
        self.ident = self.ident.wrapping_add(1);
        let frame = syn_frame(&probe, ttl, self.ident, eg.src_mac, next_mac);
        self.handle.with(|_, _, tx| tx.transmit(eg.port, &frame));
        loop {
            let frame = tokio::select! {
                f = self.frames.next() => f,
                _ = tokio::time::sleep_until(deadline) => return Ok(None),
            };
            let Some(frame) = frame else {
                return Ok(None);
            };
            if let Some(answer) = answer_to(&frame, &probe) {
                return Ok(Some(answer));
            }
        }
    }

    /// The next hop's MAC from the neighbour table, resolving it (an echo
    /// request to it sets ARP going) if it is not there yet.
    async fn neighbour(&self, eg: &Egress, deadline: Instant) -> Option<EthernetAddress> {
        let mut asked = false;
        loop {
            let known = self.handle.with(|host, now, _| {
                host.stack.arp_entries(now).into_iter().find_map(|e| {
                    (e.port == eg.port && e.ip == eg.next_hop)
                        .then_some(e.mac)
                        .flatten()
                })
            });
            if known.is_some() {
                return known;
            }
            if !asked {
                asked = true;
                let opts = SendOptions {
                    ttl: Some(1),
                    dont_frag: false,
                };
                let _ = self.arp_trigger.send(eg.next_hop, 0, &[], opts);
            }
            if Instant::now() + ARP_POLL >= deadline {
                return None;
            }
            tokio::time::sleep(ARP_POLL).await;
        }
    }
}

/// The route to `dst`: the longest matching prefix (RFC 1812 §5.2.4.3).
fn egress(handle: &DeviceHandle<Host>, dst: Ipv4Addr) -> Result<Egress, StackError> {
    handle.with(|host, _, _| {
        let stack = &host.stack;
        let route = stack
            .routes()
            .iter()
            .filter(|r| r.destination.contains(dst))
            .max_by_key(|r| r.destination.prefix_len())
            .ok_or(StackError::NoRoute { dst })?;
        let iface = stack
            .interfaces()
            .get(route.port)
            .ok_or(StackError::NoRoute { dst })?;
        let src = iface
            .address
            .map(|a| a.address())
            .ok_or(StackError::NoAddress { port: route.port })?;
        Ok(Egress {
            port: route.port,
            src,
            src_mac: iface.mac,
            next_hop: route.next_hop(dst),
        })
    })
}

/// A SYN as Linux traceroute -T sends it, in an Ethernet frame.
fn syn_frame(
    probe: &Probe,
    ttl: u8,
    ident: u16,
    src_mac: EthernetAddress,
    dst_mac: EthernetAddress,
) -> Vec<u8> {
    let mut tcp = TcpRepr::new(probe.src.port(), probe.dst.port(), probe.seq, TcpFlags::SYN);
    tcp.window = 64240;
    tcp.mss = Some(1460);
    tcp.sack_permitted = true;
    tcp.timestamps = Some(TcpTimestamps {
        tsval: probe.seq,
        tsecr: 0,
    });
    tcp.window_scale = Some(7);
    let ip = Ipv4Repr {
        src_addr: *probe.src.ip(),
        dst_addr: *probe.dst.ip(),
        next_header: IpProtocol::Tcp,
        payload_len: tcp.buffer_len(),
        hop_limit: ttl,
        ident,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
        dscp_ecn: 0,
    };
    let mut frame = vec![0u8; ETH_LEN + ip.total_len()];
    EthernetRepr {
        src_addr: src_mac,
        dst_addr: dst_mac,
        ethertype: EtherType::Ipv4,
    }
    .emit(&mut EthernetFrame::new_unchecked(&mut frame[..]));
    ip.emit(&mut Ipv4Packet::new_unchecked(&mut frame[ETH_LEN..]));
    let segment = &mut frame[ETH_LEN + 20..];
    tcp.emit(
        &mut TcpPacket::new_unchecked(segment),
        *probe.src.ip(),
        *probe.dst.ip(),
        |_| {},
    );
    frame
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn addr(b: &[u8], at: usize) -> Option<Ipv4Addr> {
    let o: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(Ipv4Addr::from(o))
}

/// An IPv4 packet's header fields and payload: (protocol, source,
/// destination, payload). `None` if it is not a well-formed IPv4 header.
fn ipv4(packet: &[u8]) -> Option<(u8, Ipv4Addr, Ipv4Addr, &[u8])> {
    let first = *packet.first()?;
    let header_len = usize::from(first & 0x0f) * 4;
    if first >> 4 != 4 || header_len < 20 {
        return None;
    }
    let total = usize::from(be16(packet, 2)?).min(packet.len());
    let payload = packet.get(header_len..total.max(header_len))?;
    Some((
        *packet.get(9)?,
        addr(packet, 12)?,
        addr(packet, 16)?,
        payload,
    ))
}

/// What `frame` (an Ethernet frame as received) says about `probe`, if it
/// is an answer to it: a Time Exceeded or Unreachable quoting it, or the
/// destination's SYN-ACK or RST acknowledging it.
pub(crate) fn answer_to(frame: &[u8], probe: &Probe) -> Option<(Ipv4Addr, Answer)> {
    if be16(frame, 12)? != 0x0800 {
        return None;
    }
    let (proto, from, to, payload) = ipv4(frame.get(ETH_LEN..)?)?;
    if to != *probe.src.ip() {
        return None;
    }
    match proto {
        1 => {
            let (msg_type, code) = (*payload.first()?, *payload.get(1)?);
            if !matches!(msg_type, 3 | 11 | 12) {
                return None;
            }
            let (inner_proto, inner_src, inner_dst, quoted) = ipv4(payload.get(8..)?)?;
            let quotes_probe = inner_proto == 6
                && inner_src == *probe.src.ip()
                && inner_dst == *probe.dst.ip()
                && be16(quoted, 0)? == probe.src.port()
                && be16(quoted, 2)? == probe.dst.port()
                && be32(quoted, 4)? == probe.seq;
            if !quotes_probe {
                return None;
            }
            let mtu = be16(payload, 6).unwrap_or(0);
            let answer = match IcmpError::from_type_code(msg_type, code, mtu) {
                IcmpError::TtlExceeded => Answer::Hop,
                other => Answer::Unreachable(other),
            };
            Some((from, answer))
        }
        6 => {
            let flags = *payload.get(13)?;
            let syn_ack = flags & 0x12 == 0x12;
            let rst = flags & 0x04 != 0;
            let answers_probe = from == *probe.dst.ip()
                && be16(payload, 0)? == probe.dst.port()
                && be16(payload, 2)? == probe.src.port()
                && (syn_ack || rst)
                && flags & 0x10 != 0
                && be32(payload, 8)? == probe.seq.wrapping_add(1);
            answers_probe.then_some((from, Answer::Reached))
        }
        _ => None,
    }
}

/// Unpredictable bits for the source port and first sequence number
/// (RFC 6528's aim, without its hash: nothing here needs to be stable).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> Probe {
        Probe {
            src: SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 100), 40000),
            dst: SocketAddrV4::new(Ipv4Addr::new(10, 0, 3, 10), 80),
            seq: 0x1234_5678,
        }
    }

    const MAC_A: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 1]);
    const MAC_B: EthernetAddress = EthernetAddress([2, 0, 0, 0, 0, 2]);

    /// An IPv4 packet in an Ethernet frame, checksums left zero (the
    /// matcher reads fields only).
    fn ip_frame(proto: u8, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        f.extend(ip_packet(proto, src, dst, payload));
        f
    }

    fn ip_packet(proto: u8, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 20];
        p[0] = 0x45;
        p[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
        p[8] = 64;
        p[9] = proto;
        p[12..16].copy_from_slice(&src.octets());
        p[16..20].copy_from_slice(&dst.octets());
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn the_syn_is_60_bytes_of_ip_with_linux_options() {
        let p = probe();
        let frame = syn_frame(&p, 3, 7, MAC_A, MAC_B);
        assert_eq!(frame.len(), 14 + 60);
        let ip = Ipv4Packet::new_checked(&frame[14..]).expect("ipv4");
        let repr = Ipv4Repr::parse(&ip).expect("checksum verifies");
        assert_eq!(repr.hop_limit, 3);
        assert_eq!(repr.next_header, IpProtocol::Tcp);
        let tcp = TcpPacket::new_checked(&frame[34..]).expect("tcp");
        let seg = TcpRepr::parse(&tcp, *p.src.ip(), *p.dst.ip()).expect("checksum verifies");
        assert_eq!(seg.flags, TcpFlags::SYN);
        assert_eq!((seg.src_port, seg.dst_port, seg.seq), (40000, 80, p.seq));
        assert_eq!(seg.mss, Some(1460));
        assert!(seg.sack_permitted);
        // The frame is a valid IPv4 TCP SYN for an independent parser too.
        let parsed = etherparse::SlicedPacket::from_ethernet(&frame).expect("etherparse");
        match parsed.transport {
            Some(etherparse::TransportSlice::Tcp(t)) => {
                assert!(t.syn() && !t.ack());
                assert_eq!(t.sequence_number(), p.seq);
            }
            other => panic!("not TCP: {other:?}"),
        }
    }

    #[test]
    fn a_time_exceeded_quoting_the_probe_is_a_hop() {
        let p = probe();
        let router = Ipv4Addr::new(10, 0, 1, 1);
        let syn = syn_frame(&p, 1, 7, MAC_A, MAC_B);
        let mut icmp = vec![11, 0, 0, 0, 0, 0, 0, 0];
        icmp.extend_from_slice(&syn[14..14 + 28]); // IP header + 8 bytes, RFC 792
        let frame = ip_frame(1, router, *p.src.ip(), &icmp);
        assert_eq!(answer_to(&frame, &p), Some((router, Answer::Hop)));
        // Another probe's sequence number: not ours.
        let other = Probe {
            seq: p.seq + 1,
            ..p
        };
        assert_eq!(answer_to(&frame, &other), None);
        // A host unreachable quoting it.
        icmp[0] = 3;
        icmp[1] = 1;
        let frame = ip_frame(1, router, *p.src.ip(), &icmp);
        assert_eq!(
            answer_to(&frame, &p),
            Some((router, Answer::Unreachable(IcmpError::HostUnreachable)))
        );
    }

    fn reply(p: &Probe, flags: u8, ack: u32) -> Vec<u8> {
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&p.dst.port().to_be_bytes());
        tcp[2..4].copy_from_slice(&p.src.port().to_be_bytes());
        tcp[8..12].copy_from_slice(&ack.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp[13] = flags;
        ip_frame(6, *p.dst.ip(), *p.src.ip(), &tcp)
    }

    #[test]
    fn a_syn_ack_or_rst_acknowledging_the_probe_reaches_the_destination() {
        let p = probe();
        let dst = *p.dst.ip();
        assert_eq!(
            answer_to(&reply(&p, 0x12, p.seq + 1), &p),
            Some((dst, Answer::Reached))
        );
        assert_eq!(
            answer_to(&reply(&p, 0x14, p.seq + 1), &p),
            Some((dst, Answer::Reached))
        );
        assert_eq!(answer_to(&reply(&p, 0x12, p.seq), &p), None, "wrong ack");
        assert_eq!(answer_to(&reply(&p, 0x10, p.seq + 1), &p), None, "bare ACK");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = answer_to(&bytes, &probe());
        }
    }
}
