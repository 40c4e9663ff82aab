//! The forwarding path of a router (RFC 1812 §5.2, §5.3).

use super::NetStack;
use crate::icmp::ErrorKind;
use crate::time::Instant;
use crate::transmit::{Transmit, trace_event};
use vnet_wire::ethernet;
use vnet_wire::icmpv4::{DstUnreachable, TimeExceeded};
use vnet_wire::ipv4::Ipv4Packet;
use vnet_wire::trace::Direction;

impl NetStack {
    /// Forwards the datagram in `frame` (Ethernet header + a checked IPv4
    /// packet, trimmed to its Total Length) that arrived on `in_port`.
    ///
    /// In order: link-layer broadcasts are not forwarded (RFC 1812 §5.3.4);
    /// martian destinations are dropped (§5.3.7); TTL ≤ 1 → ICMP Time
    /// Exceeded (§5.3.1); no route → ICMP Net Unreachable (§5.2.7.1, §5.3.5);
    /// too big for the egress MTU → Fragmentation Needed with the next-hop
    /// MTU if DF is set (§5.2.6, RFC 1191 §4), otherwise fragmented
    /// (RFC 791 §3.2). The TTL is decremented with an incremental checksum
    /// update (RFC 1624 §3), and the Ethernet addresses are rewritten in
    /// place. With the next hop resolved and no fragmentation, nothing is
    /// allocated.
    pub(super) fn forward(
        &mut self,
        now: Instant,
        in_port: usize,
        frame: &mut [u8],
        link_broadcast: bool,
        tx: &mut dyn Transmit,
    ) {
        const H: usize = ethernet::HEADER_LEN;
        if link_broadcast {
            self.counters.ip_not_for_us += 1;
            return;
        }
        let p = Ipv4Packet::new_unchecked(&frame[H..]);
        let (src, dst) = (p.src_addr(), p.dst_addr());
        let d = dst.octets();
        // RFC 1812 §5.3.7: never forward to or from 0/8, 127/8 or class E.
        if d[0] == 0 || d[0] == 127 || d[0] >= 240 || src.octets()[0] == 0 {
            self.counters.ip_martian += 1;
            return;
        }
        if p.hop_limit() <= 1 {
            self.counters.ttl_exceeded += 1;
            trace_event!(
                tx,
                now,
                "ip.forward",
                "L3",
                "ip",
                Some(Direction::Out),
                format!(
                    "TTL {} expires here: ICMP Time Exceeded to {src}",
                    p.hop_limit()
                ),
                [("ip.ttl_before", p.hop_limit())]
            );
            self.send_icmp_error(
                now,
                in_port,
                &frame[H..],
                false,
                ErrorKind::TimeExceeded(TimeExceeded::TtlExpired),
                tx,
            );
            return;
        }
        let Some(route) = self.routes.lookup(dst) else {
            self.counters.no_route += 1;
            trace_event!(
                tx,
                now,
                "ip.forward",
                "L3",
                "ip",
                Some(Direction::Out),
                format!("no route to {dst}: ICMP Net Unreachable to {src}"),
                [("ip.dst", dst.to_string())]
            );
            self.send_icmp_error(
                now,
                in_port,
                &frame[H..],
                false,
                ErrorKind::Unreachable(DstUnreachable::NetUnreachable, 0),
                tx,
            );
            return;
        };
        let (out_port, next_hop) = (route.port, route.next_hop(dst));
        let route_dst = route.destination;
        let out = &self.interfaces[out_port];
        // RFC 2644: directed broadcasts are not forwarded by default.
        if Self::is_subnet_broadcast(out.address, dst) {
            self.counters.ip_not_for_us += 1;
            return;
        }
        let mtu = usize::from(out.mtu);
        let total = frame.len() - H;
        if total > mtu && p.dont_frag() {
            self.counters.frag_needed_df += 1;
            trace_event!(
                tx,
                now,
                "ip.forward",
                "L3",
                "ip",
                Some(Direction::Out),
                format!(
                    "{total} bytes > MTU {mtu} of {} with DF set: ICMP Fragmentation Needed to {src}",
                    out.name
                ),
                [("ip.len", total), ("ip.mtu", mtu)]
            );
            self.send_icmp_error(
                now,
                in_port,
                &frame[H..],
                false,
                ErrorKind::Unreachable(DstUnreachable::FragRequired, out.mtu),
                tx,
            );
            return;
        }
        let ttl = p.hop_limit();
        trace_event!(
            tx,
            now,
            "ip.forward",
            "L3",
            "ip",
            Some(Direction::Out),
            format!(
                "route {route_dst} → next hop {next_hop} out {}, TTL {ttl}→{}",
                out.name,
                ttl - 1
            ),
            [
                ("ip.route", route_dst.to_string()),
                ("ip.next_hop", next_hop.to_string()),
                ("ip.out_iface", out.name.clone()),
                ("ip.ttl_before", ttl),
                ("ip.ttl_after", ttl - 1)
            ]
        );
        Ipv4Packet::new_unchecked(&mut frame[H..]).decrement_hop_limit();
        self.counters.ip_forwarded += 1;
        if total <= mtu {
            self.output_ip_frame(now, out_port, next_hop, frame, Some(in_port), tx);
        } else {
            self.output_fragmented(now, out_port, next_hop, &frame[H..], Some(in_port), tx);
        }
    }
}
