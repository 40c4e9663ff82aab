//! The receive path: Ethernet demultiplexing (RFC 894), ARP (RFC 826) and
//! IPv4 header validation (RFC 791 §3.1, RFC 1812 §5.2.2).

use super::NetStack;
use crate::arp::Learned;
use crate::time::Instant;
use crate::transmit::{Transmit, trace_event};
use std::net::Ipv4Addr;
use vnet_wire::arp::{ArpOperation, ArpPacket, ArpRepr, PACKET_LEN as ARP_LEN};
use vnet_wire::ethernet::{self, EtherType, EthernetAddress, EthernetFrame, EthernetRepr};
use vnet_wire::ip::Ipv4Cidr;
use vnet_wire::ipv4::Ipv4Packet;
use vnet_wire::trace::Direction;

/// Whether `addr` may never appear as the source of a datagram on the wire:
/// limited broadcast, multicast, loopback or class E (RFC 1122 §3.2.1.3,
/// RFC 1812 §5.3.7). `0.0.0.0` is allowed here (DHCP clients use it).
fn is_martian_source(addr: Ipv4Addr) -> bool {
    let o = addr.octets();
    addr.is_broadcast() || addr.is_multicast() || o[0] == 127 || o[0] >= 240
}

impl NetStack {
    /// Processes one Ethernet frame (WITHOUT FCS) received on `port`.
    ///
    /// Frames to our MAC or broadcast are accepted (IEEE 802.3 §3.2.3;
    /// multicast groups are not joined); EtherType ARP and IPv4 are handled
    /// (RFC 894), anything else is counted and dropped. Forwarded packets are
    /// rewritten in place in `frame` and transmitted from it: when the next
    /// hop is resolved and no fragmentation is needed, this path does not
    /// allocate. Never panics, whatever the bytes.
    pub fn receive(&mut self, now: Instant, port: usize, frame: &mut [u8], tx: &mut dyn Transmit) {
        let Some(iface) = self.interfaces.get(port) else {
            self.counters.rx_malformed += 1;
            return;
        };
        let our_mac = iface.mac;
        let Ok(eth) = EthernetFrame::new_checked(&frame[..]) else {
            self.counters.rx_malformed += 1;
            return;
        };
        let dst = eth.dst_addr();
        // A joined group's frames count as link-layer multicast: accepted,
        // never forwarded (RFC 1812 §5.3.4).
        let link_broadcast = dst.is_broadcast() || self.joined_mac(dst);
        if dst != our_mac && !link_broadcast {
            self.counters.rx_not_our_mac += 1;
            trace_event!(
                tx,
                now,
                "eth.in",
                "L2",
                "eth",
                Some(Direction::In),
                format!("dropped: destination {dst} is not our MAC {our_mac}"),
                [("eth.dst", dst.to_string())]
            );
            return;
        }
        trace_event!(
            tx,
            now,
            "eth.in",
            "L2",
            "eth",
            Some(Direction::In),
            format!(
                "accepted on {} ({}): {} → {}, type {:?}",
                iface.name,
                if link_broadcast {
                    "broadcast"
                } else {
                    "our MAC"
                },
                eth.src_addr(),
                dst,
                eth.ethertype()
            ),
            [
                ("eth.src", eth.src_addr().to_string()),
                ("eth.dst", dst.to_string())
            ]
        );
        match eth.ethertype() {
            EtherType::Arp => self.arp_input(now, port, tx, &frame[ethernet::HEADER_LEN..]),
            EtherType::Ipv4 => self.ipv4_input(now, port, frame, link_broadcast, tx),
            _ => self.counters.rx_unknown_ethertype += 1,
        }
        self.drain_loopback(now, tx);
    }

    /// RFC 826 "Packet Reception", with RFC 1122 §2.3.2 refinements.
    ///
    /// What the sender of a packet may do to the cache:
    /// * it must be a unicast address of the receiving interface's subnet
    ///   (not its network or broadcast address, not one of ours, not
    ///   `0.0.0.0`): we only ever resolve next hops on the connected
    ///   network (RFC 1122 §3.3.1.1, the local/remote decision), so an entry
    ///   for any other sender is useless, and lets a flood of forged senders
    ///   fill the table; such packets are counted in `arp_ignored_offlink`;
    /// * RFC 826 merge rule ([`crate::arp::ArpCache::learn`]): an existing
    ///   entry is updated by any valid packet of its owner (RFC 1122
    ///   §2.3.2.1: the timeout "should be restarted when the cache entry is
    ///   'refreshed' (by observing the source fields, regardless of target
    ///   address, of an ARP broadcast from the system in question)"); a
    ///   new entry is created only by a request whose target is our
    ///   address (the sender is about to talk to us). A reply to one of our requests finds its
    ///   incomplete entry and completes it. Unsolicited replies, gratuitous
    ///   ARP and requests for other targets create nothing
    ///   (`arp_ignored_unsolicited`), and a full table creates nothing
    ///   either (`arp_table_full`): received ARP never evicts an entry.
    ///
    /// A request for our address is answered whatever its sender, cached or
    /// not (RFC 826: "?Am I the target protocol address? Yes: [...] Send
    /// the packet to the (new) target hardware address").
    fn arp_input(&mut self, now: Instant, port: usize, tx: &mut dyn Transmit, payload: &[u8]) {
        self.counters.arp_rx += 1;
        let repr = match ArpPacket::new_checked(payload).and_then(|p| ArpRepr::parse(&p)) {
            Ok(r) => r,
            Err(_) => {
                self.counters.arp_malformed += 1;
                return;
            }
        };
        let our_mac = self.interfaces[port].mac;
        let Some(cidr) = self.interfaces[port].address else {
            return; // no address: nothing to learn, nothing to answer
        };
        let our_ip = cidr.address();
        let (spa, sha) = (repr.source_protocol_addr, repr.source_hardware_addr);
        if sha == our_mac || !sha.is_unicast() {
            return; // our own frame looped back, or a bogus sender
        }
        let tpa = repr.target_protocol_addr;
        let targeted = tpa == our_ip;
        if spa == our_ip {
            tracing::warn!(port, ip = %spa, mac = %sha, "ARP: another station claims our address");
        } else if spa.is_unspecified() || self.is_our_address(spa) {
            // An RFC 5227 probe, or our address on another interface:
            // nothing to learn.
        } else if !Self::arp_sender_on_link(cidr, spa) {
            self.counters.arp_ignored_offlink += 1;
            trace_arp_in(tx, now, &repr, || {
                format!("sender not on {}, not learned", cidr.network())
            });
        } else {
            let create = targeted && repr.operation == ArpOperation::Request;
            let out = self.arp.learn(now, port, spa, sha, create);
            let what = match out.learned {
                Learned::Updated => "refreshed",
                Learned::Created => "learned",
                Learned::Static => "static entry kept",
                Learned::Unsolicited => {
                    self.counters.arp_ignored_unsolicited += 1;
                    "unsolicited, not learned"
                }
                Learned::TableFull => {
                    self.counters.arp_table_full += 1;
                    "table full, not learned"
                }
            };
            let released = out.queue.len();
            trace_arp_in(tx, now, &repr, || {
                format!("{what} the sender, {released} queued frame(s) released")
            });
            self.flush_pending(port, sha, out.queue, tx);
        }
        if targeted && repr.operation == ArpOperation::Request {
            let ip = our_ip;
            let reply = ArpRepr {
                operation: ArpOperation::Reply,
                source_hardware_addr: our_mac,
                source_protocol_addr: ip,
                target_hardware_addr: sha,
                target_protocol_addr: spa,
            };
            trace_event!(
                tx,
                now,
                "arp.reply",
                "L2",
                "arp",
                Some(Direction::Out),
                format!("{ip} is us: reply {ip} is-at {our_mac} to {spa}"),
                [("arp.tpa", spa.to_string())]
            );
            self.send_arp(port, sha, &reply, tx);
            self.counters.arp_replies_sent += 1;
        }
    }

    /// Whether `spa` may have an ARP entry on an interface with address
    /// `cidr`: a unicast address of its subnet, neither the network nor the
    /// directed broadcast address (except on /31 links, RFC 3021), nor a
    /// martian (RFC 1122 §3.2.1.3).
    fn arp_sender_on_link(cidr: Ipv4Cidr, spa: Ipv4Addr) -> bool {
        cidr.contains(spa)
            && !spa.is_unspecified()
            && !is_martian_source(spa)
            && !(cidr.prefix_len() < 31
                && (spa == cidr.broadcast() || spa == cidr.network().address()))
    }

    /// Sends `repr` in a frame to `dst` out of `port` (no allocation).
    pub(super) fn send_arp(
        &mut self,
        port: usize,
        dst: EthernetAddress,
        repr: &ArpRepr,
        tx: &mut dyn Transmit,
    ) {
        let mut buf = [0u8; ethernet::HEADER_LEN + ARP_LEN];
        let mut eth = EthernetFrame::new_unchecked(&mut buf[..]);
        EthernetRepr {
            src_addr: self.interfaces[port].mac,
            dst_addr: dst,
            ethertype: EtherType::Arp,
        }
        .emit(&mut eth);
        repr.emit(&mut ArpPacket::new_unchecked(eth.payload_mut()));
        tx.transmit(port, &buf);
    }

    /// Broadcasts a request for `target` on `port` (RFC 826).
    pub(super) fn send_arp_request(
        &mut self,
        port: usize,
        target: Ipv4Addr,
        tx: &mut dyn Transmit,
    ) {
        let Some(ip) = self.address_of(port) else {
            self.counters.tx_no_address += 1;
            return;
        };
        let req = ArpRepr {
            operation: ArpOperation::Request,
            source_hardware_addr: self.interfaces[port].mac,
            source_protocol_addr: ip,
            target_hardware_addr: EthernetAddress([0; 6]),
            target_protocol_addr: target,
        };
        self.send_arp(port, EthernetAddress::BROADCAST, &req, tx);
        self.counters.arp_requests_sent += 1;
    }

    /// RFC 791 §3.2 / RFC 1812 §5.2.2 checks, then local delivery or forwarding.
    fn ipv4_input(
        &mut self,
        now: Instant,
        port: usize,
        frame: &mut [u8],
        link_broadcast: bool,
        tx: &mut dyn Transmit,
    ) {
        self.counters.ip_rx += 1;
        let total = {
            let Ok(p) = Ipv4Packet::new_checked(&frame[ethernet::HEADER_LEN..]) else {
                self.counters.ip_bad_header += 1;
                return;
            };
            if !p.verify_checksum() {
                self.counters.ip_bad_checksum += 1;
                trace_event!(
                    tx,
                    now,
                    "ip.in",
                    "L3",
                    "ip",
                    Some(Direction::In),
                    "dropped: bad header checksum".to_string(),
                    []
                );
                return;
            }
            usize::from(p.total_len())
        };
        // Ethernet padding after Total Length is not part of the datagram.
        let frame = &mut frame[..ethernet::HEADER_LEN + total];
        let p = Ipv4Packet::new_unchecked(&frame[ethernet::HEADER_LEN..]);
        let (src, dst) = (p.src_addr(), p.dst_addr());
        if is_martian_source(src) || self.is_our_address(src) {
            self.counters.ip_martian += 1;
            return;
        }
        let ingress = self.interfaces[port].address;
        let dst_broadcast = dst.is_broadcast()
            || Self::is_subnet_broadcast(ingress, dst)
            || (dst.is_multicast() && self.joined(dst));
        let ours = dst_broadcast || self.is_our_address(dst);
        trace_event!(
            tx,
            now,
            "ip.in",
            "L3",
            "ip",
            Some(Direction::In),
            format!(
                "{src} → {dst} ttl={} len={total}: {}",
                p.hop_limit(),
                if ours {
                    "for us"
                } else if self.config.forwarding {
                    "to forward"
                } else {
                    "not for us, dropped"
                }
            ),
            [
                ("ip.src", src.to_string()),
                ("ip.dst", dst.to_string()),
                ("ip.ttl", p.hop_limit()),
                ("ip.len", total)
            ]
        );
        if ours {
            self.local_input(
                now,
                port,
                &frame[ethernet::HEADER_LEN..],
                link_broadcast,
                dst_broadcast,
                tx,
            );
        } else if self.config.forwarding && !dst.is_multicast() {
            self.forward(now, port, frame, link_broadcast, tx);
        } else {
            self.counters.ip_not_for_us += 1;
        }
    }
}

impl NetStack {
    /// Whether `mac` is the Ethernet address of a joined group (RFC 1112
    /// §6.4: 01:00:5e and the group's low 23 bits).
    fn joined_mac(&self, mac: EthernetAddress) -> bool {
        let m = mac.0;
        m[..3] == [0x01, 0x00, 0x5e]
            && self.groups.iter().any(|g| {
                let o = g.octets();
                [o[1] & 0x7f, o[2], o[3]] == m[3..]
            })
    }
}

/// The `arp.in` trace event of a received ARP packet: what became of its
/// sender (`outcome`, built only when the packet is traced).
fn trace_arp_in(
    tx: &mut dyn Transmit,
    now: Instant,
    repr: &ArpRepr,
    outcome: impl FnOnce() -> String,
) {
    let (spa, sha, tpa) = (
        repr.source_protocol_addr,
        repr.source_hardware_addr,
        repr.target_protocol_addr,
    );
    trace_event!(
        tx,
        now,
        "arp.in",
        "L2",
        "arp",
        Some(Direction::In),
        format!(
            "{:?} from {spa} ({sha}) for {tpa}: {}",
            repr.operation,
            outcome()
        ),
        [
            ("arp.spa", spa.to_string()),
            ("arp.sha", sha.to_string()),
            ("arp.tpa", tpa.to_string())
        ]
    );
}
