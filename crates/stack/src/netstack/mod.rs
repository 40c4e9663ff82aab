//! The IPv4 stack itself: one sans-IO [`NetStack`] per device, used by
//! hosts (forwarding off) and routers (forwarding on), like Linux with
//! `ip_forward`.
//!
//! The code is split by path:
//! * `input` — Ethernet demultiplexing, ARP, IPv4 header validation;
//! * `forward` — the RFC 1812 forwarding path (in place, no allocation);
//! * `local` — reassembly and delivery to ICMP and UDP sockets;
//! * `output` — routing, fragmentation and ARP resolution of what we send,
//!   including ICMP errors;
//! * `sockets` — the public ping / UDP socket API;
//! * `tcp` — the public TCP socket API and the glue between the TCP
//!   sockets and IP (input demultiplexing, output, timers, ICMP errors).

mod forward;
mod input;
mod local;
mod output;
mod raw;
mod sockets;
mod tcp;

use crate::arp::{ArpAction, ArpCache, ArpEntry};
use crate::config::{InterfaceConfig, MIN_MTU, StackConfig};
use crate::counters::StackCounters;
use crate::error::StackError;
use crate::frag::Reassembler;
use crate::route::{Route, RouteKind, RoutingTable};
use crate::socket::ping::PingSockets;
use crate::socket::raw::RawSockets;
use crate::socket::udp::UdpSockets;
use crate::tcp::table::TcpSockets;
use crate::time::Instant;
use crate::transmit::Transmit;
use std::collections::VecDeque;
use std::net::Ipv4Addr;
use vnet_wire::ethernet::EthernetAddress;
use vnet_wire::icmpv4::TimeExceeded;
use vnet_wire::ip::Ipv4Cidr;

/// Packets queued for delivery to ourselves (`ping` of an own address),
/// processed before the API call returns; the bound stops loops.
const LOOPBACK_QUEUE: usize = 64;

/// A sans-IO IPv4 stack: ARP, IPv4 (with forwarding when configured),
/// fragmentation and reassembly, ICMP, and ping / UDP sockets.
///
/// Frames come in through [`NetStack::receive`], timers run in
/// [`NetStack::poll`] (call it at [`NetStack::poll_at`]), and everything the
/// stack sends goes to the [`Transmit`] passed to each call.
#[derive(Debug)]
pub struct NetStack {
    config: StackConfig,
    interfaces: Vec<InterfaceConfig>,
    routes: RoutingTable,
    arp: ArpCache,
    reassembler: Reassembler,
    pings: PingSockets,
    udps: UdpSockets,
    raws: RawSockets,
    tcp: TcpSockets,
    counters: StackCounters,
    next_ident: u16,
    /// Reused buffer for fragments, so fragmenting does not allocate.
    scratch: Vec<u8>,
    /// IP packets sent to one of our own addresses.
    loopback: VecDeque<Vec<u8>>,
    /// Path MTUs learned from ICMP "fragmentation needed" (RFC 1191).
    pmtu: crate::pmtu::PmtuCache,
    /// Multicast groups joined.
    groups: Vec<Ipv4Addr>,
}

/// Most multicast groups a stack joins.
pub const MAX_GROUPS: usize = 8;

impl NetStack {
    /// A stack with these interfaces (port `i` is `interfaces[i]`); a
    /// connected route is added for each interface address (RFC 1812 §5.2.4.1).
    /// MTUs below 68 are raised to 68 (RFC 791 §3.2).
    pub fn new(config: StackConfig, interfaces: Vec<InterfaceConfig>) -> Self {
        let mut interfaces = interfaces;
        for i in interfaces.iter_mut() {
            if i.mtu < MIN_MTU {
                tracing::warn!(interface = %i.name, mtu = i.mtu, "MTU below {MIN_MTU}, raised");
                i.mtu = MIN_MTU;
            }
        }
        let mut stack = Self {
            arp: ArpCache::new(config.arp),
            reassembler: Reassembler::new(config.reassembly),
            pings: PingSockets::new(config.max_ping_sockets, config.socket_queue_len),
            udps: UdpSockets::new(config.max_udp_sockets, config.socket_queue_len),
            raws: RawSockets::new(config.socket_queue_len),
            tcp: TcpSockets::new(config.tcp),
            config,
            interfaces,
            routes: RoutingTable::new(),
            counters: StackCounters::default(),
            next_ident: 1,
            scratch: Vec::new(),
            loopback: VecDeque::new(),
            pmtu: crate::pmtu::PmtuCache::default(),
            groups: Vec::new(),
        };
        for port in 0..stack.interfaces.len() {
            stack.add_connected_route(port);
        }
        stack
    }

    fn add_connected_route(&mut self, port: usize) {
        if let Some(a) = self.interfaces[port].address {
            self.routes.add(Route {
                destination: a.network(),
                via: None,
                port,
                kind: RouteKind::Connected,
            });
        }
    }

    /// The configuration.
    pub fn config(&self) -> &StackConfig {
        &self.config
    }

    /// The interfaces, indexed by port.
    pub fn interfaces(&self) -> &[InterfaceConfig] {
        &self.interfaces
    }

    /// Changes the address of `port` (e.g. after DHCP): its connected route
    /// and dynamic ARP entries are replaced.
    pub fn set_interface_address(
        &mut self,
        port: usize,
        address: Option<Ipv4Cidr>,
    ) -> Result<(), StackError> {
        if port >= self.interfaces.len() {
            return Err(StackError::NoSuchPort { port });
        }
        self.routes
            .remove_where(|r| r.port == port && r.kind == RouteKind::Connected);
        self.interfaces[port].address = address;
        self.add_connected_route(port);
        self.counters.arp_queue_dropped += self.arp.flush_port(port) as u64;
        Ok(())
    }

    /// Adds a static route to `destination` through the gateway `via`
    /// (replacing any route to the same network). The egress port is that of
    /// the connected network containing `via` (RFC 1812 §5.2.4.1).
    pub fn add_route(&mut self, destination: Ipv4Cidr, via: Ipv4Addr) -> Result<(), StackError> {
        let port = self
            .routes
            .routes()
            .iter()
            .find(|r| r.kind == RouteKind::Connected && r.destination.contains(via))
            .map(|r| r.port)
            .ok_or(StackError::GatewayUnreachable { via })?;
        self.routes.add(Route {
            destination: destination.network(),
            via: Some(via),
            port,
            kind: RouteKind::Static,
        });
        Ok(())
    }

    /// Installs a route a routing protocol learned (`route.kind` says
    /// which). A connected or static route to the same network wins
    /// (administrative distance): the learned one is then not installed
    /// and `false` returned.
    pub fn install_dynamic_route(&mut self, mut route: Route) -> bool {
        route.destination = route.destination.network();
        // Administrative distance: a route of a more trusted kind stays
        // (connected 0, static 1, OSPF 110, RIP 120).
        let shadowed = self.routes.routes().iter().any(|r| {
            r.destination == route.destination && r.kind.distance() < route.kind.distance()
        });
        if !shadowed {
            self.routes.add(route);
        }
        !shadowed
    }

    /// Removes the route of kind `kind` to `destination`, leaving a route of
    /// another kind alone; returns whether one was removed.
    pub fn withdraw_dynamic_route(&mut self, destination: Ipv4Cidr, kind: RouteKind) -> bool {
        let destination = destination.network();
        let found = self
            .routes
            .routes()
            .iter()
            .any(|r| r.destination == destination && r.kind == kind);
        if found {
            self.routes.remove(destination);
        }
        found
    }

    /// Accepts IPv4 multicast to `group` (and frames to its Ethernet
    /// address, RFC 1112 §6.4) on every interface, as a socket joining the
    /// group does (RIPv2's 224.0.0.9). At most [`MAX_GROUPS`] groups.
    pub fn join_multicast(&mut self, group: Ipv4Addr) -> Result<(), StackError> {
        if !group.is_multicast() {
            return Err(StackError::NotMulticast { group });
        }
        if !self.groups.contains(&group) {
            if self.groups.len() >= MAX_GROUPS {
                return Err(StackError::TooManyGroups { limit: MAX_GROUPS });
            }
            self.groups.push(group);
        }
        Ok(())
    }

    /// Whether `group` was joined ([`NetStack::join_multicast`]).
    pub(crate) fn joined(&self, group: Ipv4Addr) -> bool {
        self.groups.contains(&group)
    }

    /// Removes the route to `destination`; returns it if there was one.
    pub fn remove_route(&mut self, destination: Ipv4Cidr) -> Option<Route> {
        self.routes.remove(destination)
    }

    /// The routing table, longest prefix first.
    pub fn routes(&self) -> &[Route] {
        self.routes.routes()
    }

    /// Path MTUs learned and still live (`ip route`, `ip route get`).
    pub fn path_mtus(&self, now: Instant) -> Vec<crate::pmtu::PmtuEntry> {
        self.pmtu.entries(now)
    }

    /// Adds a static ARP entry (never expires nor changes, RFC 1122 §2.3.2.1).
    /// Packets already waiting for it are not sent until the next call that
    /// has a transmitter; see [`NetStack::add_static_neighbor_now`].
    pub fn add_static_neighbor(&mut self, port: usize, ip: Ipv4Addr, mac: EthernetAddress) {
        let dropped = self.arp.add_static(port, ip, mac).len();
        self.counters.arp_queue_dropped += dropped as u64;
    }

    /// Like [`NetStack::add_static_neighbor`], sending the packets that were
    /// waiting for the address.
    pub fn add_static_neighbor_now(
        &mut self,
        port: usize,
        ip: Ipv4Addr,
        mac: EthernetAddress,
        tx: &mut dyn Transmit,
    ) {
        let queue = self.arp.add_static(port, ip, mac);
        self.flush_pending(port, mac, queue, tx);
    }

    /// The ARP cache, sorted by port then address.
    pub fn arp_entries(&self, now: Instant) -> Vec<ArpEntry> {
        self.arp.entries(now)
    }

    /// The counters.
    pub fn counters(&self) -> &StackCounters {
        &self.counters
    }

    /// Datagrams being reassembled and the bytes they hold.
    pub fn reassembly_usage(&self) -> (usize, usize) {
        (self.reassembler.in_progress(), self.reassembler.bytes())
    }

    /// Packets waiting for ARP resolution.
    pub fn arp_queued(&self) -> usize {
        self.arp.queued()
    }

    /// Bound UDP ports, ascending.
    pub fn udp_ports(&self) -> Vec<u16> {
        self.udps.ports()
    }

    /// Runs the timers: ARP retries and failures (RFC 1122 §2.3.2.1), ARP
    /// entry expiry, reassembly timeouts (RFC 791 §3.2), and the TCP
    /// timers (RFC 6298 retransmission, persist, delayed ACK, TIME-WAIT).
    pub fn poll(&mut self, now: Instant, tx: &mut dyn Transmit) {
        for action in self.arp.poll(now) {
            match action {
                ArpAction::Request { port, ip } => self.send_arp_request(port, ip, tx),
                ArpAction::Failed { port, ip, queue } => {
                    self.counters.arp_resolution_failed += 1;
                    self.arp_failed(now, port, ip, queue, tx);
                }
            }
        }
        for expired in self.reassembler.poll(now) {
            self.counters.reassembly_timeouts += 1;
            if let Some(invoking) = expired.invoking {
                // RFC 792: code 1 only if fragment zero is available.
                self.send_icmp_error(
                    now,
                    expired.in_port,
                    &invoking,
                    false,
                    crate::icmp::ErrorKind::TimeExceeded(TimeExceeded::FragExpired),
                    tx,
                );
            }
        }
        self.tcp.poll(now, &mut self.counters);
        self.flush_tcp(now, tx);
        self.drain_loopback(now, tx);
    }

    /// When [`NetStack::poll`] next has work to do, if ever.
    pub fn poll_at(&self) -> Option<Instant> {
        [
            self.arp.poll_at(),
            self.reassembler.poll_at(),
            self.tcp.poll_at(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// A fresh IP identification (RFC 791 §3.1; RFC 6864 §4.1: unique per
    /// source/destination/protocol while fragments may be in flight).
    fn next_ident(&mut self) -> u16 {
        let id = self.next_ident;
        self.next_ident = self.next_ident.wrapping_add(1);
        id
    }

    /// Whether `addr` is an address of one of our interfaces.
    fn is_our_address(&self, addr: Ipv4Addr) -> bool {
        self.interfaces
            .iter()
            .any(|i| i.address.is_some_and(|a| a.address() == addr))
    }

    /// The port whose address is `addr`.
    fn port_of_address(&self, addr: Ipv4Addr) -> Option<usize> {
        self.interfaces
            .iter()
            .position(|i| i.address.is_some_and(|a| a.address() == addr))
    }

    /// The address of `port`.
    fn address_of(&self, port: usize) -> Option<Ipv4Addr> {
        self.interfaces.get(port)?.address.map(|a| a.address())
    }

    /// Whether `addr` is the directed broadcast address of `cidr` (only for
    /// prefixes shorter than /31, RFC 3021).
    fn is_subnet_broadcast(cidr: Option<Ipv4Cidr>, addr: Ipv4Addr) -> bool {
        cidr.is_some_and(|c| c.prefix_len() < 31 && c.broadcast() == addr)
    }

    /// Whether `addr` is a broadcast address we know of: limited broadcast
    /// or the directed broadcast of one of our networks (RFC 1122 §3.2.1.3).
    fn is_broadcast_addr(&self, addr: Ipv4Addr) -> bool {
        addr.is_broadcast()
            || self
                .interfaces
                .iter()
                .any(|i| Self::is_subnet_broadcast(i.address, addr))
    }
}
