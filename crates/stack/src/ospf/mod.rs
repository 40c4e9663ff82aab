//! OSPF version 2 (RFC 2328) in a single area, the backbone (area 0), as
//! a sans-IO state machine.
//!
//! [`Ospf`] is one router's OSPF: its interfaces with their state
//! machines and DR election (§9), its neighbours and their adjacencies
//! (§10), the link state database with reliable flooding (§12–§14) and
//! the shortest-path tree that turns it into routes (§16.1). It is driven
//! like [`crate::rip::Rip`]: [`Ospf::receive`] with every packet of IP
//! protocol 89 (the IP payload, its source and destination addresses),
//! [`Ospf::poll`] at [`Ospf::poll_at`], and [`Ospf::set_link`] when an
//! interface goes down or up. Each call fills an [`OspfActions`]: the
//! packets to send (out of which port, to which address) and the changes
//! to make to the forwarding table. Nothing here sends, sleeps or reads a
//! clock; every timer runs on the `now` it is given.
//!
//! What it implements: Hellos and the DR/BDR election on broadcast and
//! point-to-point networks (§9.4, §10.5); the neighbour state machine
//! from Down to Full (§10.3) with the Database Exchange (master/slave,
//! DD sequence numbers, the MTU check, §10.6–§10.8), Link State Requests
//! (§10.7, §10.9); reliable flooding with retransmission lists, implied,
//! delayed and direct acknowledgements (§13, §13.3, §13.5–§13.7) and
//! MinLSArrival; the origination of the Router-LSA and, as DR, the
//! Network-LSA (§12.4) with MinLSInterval, refresh every LSRefreshTime
//! and premature ageing; ageing to MaxAge and flushing (§14); Dijkstra
//! over Router- and Network-LSAs to stub and transit networks, with the
//! next hops of §16.1.1 (equal-cost next hops are all kept). Null and
//! simple-password authentication (§D.2); cryptographic authentication,
//! virtual links, other areas, summary and AS-external LSAs are not.
//!
//! The caller wraps each [`OspfOutput`] in an IPv4 header: protocol 89,
//! the interface's address as source, TTL 1 (§A.1), IP precedence
//! "internetwork control" (TOS 0xc0).

mod flood;
mod interface;
mod lsdb;
mod neighbour;
mod originate;
pub mod spf;

#[cfg(test)]
mod tests;

use crate::time::Instant;
use core::time::Duration;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use vnet_wire::ip::Ipv4Cidr;
use vnet_wire::ospf::{self, LsaHeader, LsaKey, OspfAuth, OspfBody, OspfPacket};

use interface::Iface;
pub use interface::InterfaceState;
pub use lsdb::compare;
pub use neighbour::NeighbourState;
pub use spf::{NextHop, OspfRoute};

/// How an interface's network behaves (RFC 2328 §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NetworkType {
    /// A LAN: Hellos multicast, a DR and a BDR elected, a Network-LSA.
    #[default]
    Broadcast,
    /// A link to exactly one other router: no election, everything sent
    /// to AllSPFRouters.
    PointToPoint,
}

/// One interface OSPF runs on (the per-interface parameters of RFC 2328
/// §9 and Appendix C.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OspfInterface {
    /// The stack's port index.
    pub port: usize,
    /// The interface address and prefix.
    pub address: Ipv4Cidr,
    /// Broadcast or point-to-point.
    pub network: NetworkType,
    /// The output cost of the interface (Router-LSA link metric).
    pub cost: u16,
    /// Router priority in the DR election (0: never DR or BDR).
    pub priority: u8,
    /// Seconds between Hellos (RFC default 10).
    pub hello_interval: u16,
    /// Seconds of silence before a neighbour is declared down (40).
    pub dead_interval: u32,
    /// Seconds between retransmissions of unacknowledged LSAs, DD
    /// packets and requests (5).
    pub rxmt_interval: u16,
    /// InfTransDelay: seconds added to LSAs' age when sent (1).
    pub transmit_delay: u16,
    /// The largest IP datagram sent unfragmented (the DD MTU field).
    pub mtu: u16,
    /// Advertise the network but send and accept nothing on it.
    pub passive: bool,
    /// A loopback interface: advertised as a host route (§9.1 Loopback).
    pub loopback: bool,
    /// Simple-password authentication (§D.2), else none.
    pub password: Option<String>,
}

impl OspfInterface {
    /// An interface with the RFC's default parameters (Appendix C.3) and
    /// cost 10 (FRR's for a 100 Mbit/s reference).
    pub fn new(port: usize, address: Ipv4Cidr) -> OspfInterface {
        OspfInterface {
            port,
            address,
            network: NetworkType::Broadcast,
            cost: 10,
            priority: 1,
            hello_interval: 10,
            dead_interval: 40,
            rxmt_interval: 5,
            transmit_delay: 1,
            mtu: 1500,
            passive: false,
            loopback: false,
            password: None,
        }
    }
}

/// Configuration of [`Ospf`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OspfConfig {
    /// The router ID (§C.1): unique in the AS, usually an address of the
    /// router.
    pub router_id: Ipv4Addr,
    /// The interfaces in area 0.
    pub interfaces: Vec<OspfInterface>,
    /// How long acknowledgements wait to be sent together (§13.5: less
    /// than RxmtInterval).
    pub ack_delay: Duration,
}

impl OspfConfig {
    /// A router with these interfaces and a 1 s acknowledgement delay.
    pub fn new(router_id: Ipv4Addr, interfaces: Vec<OspfInterface>) -> OspfConfig {
        OspfConfig {
            router_id,
            interfaces,
            ack_delay: Duration::from_secs(1),
        }
    }
}

/// An OSPF packet to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OspfOutput {
    /// Out of this port.
    pub port: usize,
    /// To AllSPFRouters, AllDRouters or a neighbour's address.
    pub to: Ipv4Addr,
    /// The IP payload (protocol 89).
    pub packet: Vec<u8>,
}

/// A change for the forwarding table. Only routes through a gateway are
/// OSPF's to install: directly attached networks are the interfaces' own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteChange {
    /// Use this route for `destination` (add or replace).
    Install {
        /// The destination network.
        destination: Ipv4Cidr,
        /// The next hop (the first of equal-cost ones).
        via: Ipv4Addr,
        /// The egress port.
        port: usize,
        /// The path cost.
        cost: u32,
    },
    /// Stop using OSPF's route to `destination`.
    Withdraw {
        /// The destination network.
        destination: Ipv4Cidr,
    },
}

/// What one call asks the caller to do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct OspfActions {
    /// Packets to send.
    pub send: Vec<OspfOutput>,
    /// Changes to the forwarding table, in order.
    pub routes: Vec<RouteChange>,
}

/// Counters of one OSPF instance.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct OspfCounters {
    /// Packets that passed the checks of §8.2, by type (Hello, DD, LSR,
    /// LSU, LSAck); a Hello with mismatched parameters (§10.5) is also
    /// counted in `bad_packets`.
    pub packets_in: [u64; 5],
    /// Packets sent, by type.
    pub packets_out: [u64; 5],
    /// Packets dropped whole (parse, checksum, area, authentication,
    /// unknown neighbour, mismatched Hello parameters).
    pub bad_packets: u64,
    /// LSAs dropped for a bad checksum or type (§13 steps 1–2).
    pub bad_lsas: u64,
    /// LSAs sent again from a retransmission list (§13.6).
    pub retransmissions: u64,
    /// Instances of our own LSAs originated (§12.4).
    pub originated: u64,
    /// Shortest-path calculations (§16).
    pub spf_runs: u64,
}

/// One neighbour, for `vnet show ROUTER ospf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighbourView {
    /// The port it is heard on.
    pub port: usize,
    /// Its router ID.
    pub router_id: Ipv4Addr,
    /// Its interface address.
    pub address: Ipv4Addr,
    /// Its router priority.
    pub priority: u8,
    /// The state of our conversation.
    pub state: NeighbourState,
    /// Whether it is the DR, the BDR or neither on that network.
    pub role: &'static str,
    /// Time left before it is declared down.
    pub dead_in: Duration,
    /// LSAs it has not acknowledged yet.
    pub retransmit: usize,
    /// LSAs we still ask it for.
    pub requests: usize,
}

/// One interface, for `vnet show ROUTER ospf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceView {
    /// The port.
    pub port: usize,
    /// Its address.
    pub address: Ipv4Cidr,
    /// Broadcast or point-to-point.
    pub network: NetworkType,
    /// The interface state (§9.1).
    pub state: InterfaceState,
    /// The output cost.
    pub cost: u16,
    /// The DR's interface address (0.0.0.0: none).
    pub dr: Ipv4Addr,
    /// The BDR's interface address (0.0.0.0: none).
    pub bdr: Ipv4Addr,
    /// Neighbours heard.
    pub neighbours: usize,
    /// Neighbours Full.
    pub adjacent: usize,
}

/// OSPF on one router.
#[derive(Debug, Clone)]
pub struct Ospf {
    config: OspfConfig,
    ifaces: Vec<Iface>,
    lsdb: lsdb::Lsdb,
    routes: BTreeMap<Ipv4Cidr, OspfRoute>,
    /// The database changed: the routes must be computed again.
    spf_due: bool,
    /// When each of our LSAs was last originated (MinLSInterval).
    originated: BTreeMap<LsaKey, Instant>,
    /// A deferred origination (MinLSInterval) is due then.
    origination_due: Option<Instant>,
    /// Leaving: our LSAs are flushed, no new ones are originated.
    shut_down: bool,
    /// The next DD sequence number to start an exchange with.
    next_dd_seq: u32,
    counters: OspfCounters,
}

impl Ospf {
    /// Starts OSPF at `now`: every interface comes up (InterfaceUp,
    /// §9.3), sends its first Hello, and the Router-LSA is originated.
    pub fn new(config: OspfConfig, now: Instant, actions: &mut OspfActions) -> Ospf {
        let ifaces = config.interfaces.iter().cloned().map(Iface::new).collect();
        // Unique-ish start values (§10.8: "the initial DD sequence number
        // ... should be unique"), reproducible on virtual time.
        let seed =
            u32::from(config.router_id).wrapping_mul(0x9e37_79b9) ^ now.total_millis() as u32;
        let mut ospf = Ospf {
            config,
            ifaces,
            lsdb: lsdb::Lsdb::default(),
            routes: BTreeMap::new(),
            spf_due: true,
            originated: BTreeMap::new(),
            origination_due: None,
            shut_down: false,
            next_dd_seq: seed,
            counters: OspfCounters::default(),
        };
        for i in 0..ospf.ifaces.len() {
            ospf.interface_up(now, i, actions);
        }
        ospf.finish(now, actions);
        ospf
    }

    /// The router ID.
    pub fn router_id(&self) -> Ipv4Addr {
        self.config.router_id
    }

    /// The configuration.
    pub fn config(&self) -> &OspfConfig {
        &self.config
    }

    /// Counters.
    pub fn counters(&self) -> OspfCounters {
        self.counters
    }

    /// The interfaces.
    pub fn interfaces(&self) -> Vec<InterfaceView> {
        self.ifaces.iter().map(Iface::view).collect()
    }

    /// The neighbours, by port then router ID.
    pub fn neighbours(&self, now: Instant) -> Vec<NeighbourView> {
        self.ifaces
            .iter()
            .flat_map(|iface| iface.neighbours.values().map(|n| n.view(iface, now)))
            .collect()
    }

    /// The headers of the database, with their ages at `now`, in key
    /// order (LS type, Link State ID, Advertising Router).
    pub fn lsdb(&self, now: Instant) -> Vec<LsaHeader> {
        self.lsdb.headers(now)
    }

    /// One LSA of the database, with its age at `now`.
    pub fn lsa(&self, key: &LsaKey, now: Instant) -> Option<ospf::Lsa> {
        self.lsdb.get(key).map(|e| e.current(now))
    }

    /// The routing table of the last shortest-path calculation, directly
    /// attached networks included.
    pub fn routes(&self) -> impl Iterator<Item = &OspfRoute> {
        self.routes.values()
    }

    fn iface_by_port(&self, port: usize) -> Option<usize> {
        self.ifaces.iter().position(|i| i.cfg.port == port)
    }

    /// Handles an OSPF packet (the IP payload) from `src` to `dst`
    /// received on `port` (§8.2). Packets failing the checks of §8.2
    /// (version, checksum, area, authentication, a destination of
    /// AllDRouters on a router that is neither DR nor BDR, a source off
    /// the network or ourselves) are counted and dropped.
    pub fn receive(
        &mut self,
        now: Instant,
        port: usize,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        payload: &[u8],
        actions: &mut OspfActions,
    ) {
        let Some(i) = self.iface_by_port(port) else {
            return;
        };
        let packet = match OspfPacket::parse(payload) {
            Ok(p) if self.acceptable(i, src, dst, &p) => p,
            _ => {
                self.counters.bad_packets += 1;
                return;
            }
        };
        let rid = packet.router_id;
        let kind = usize::from(packet.body.packet_type() - 1);
        let known = self.ifaces[i].neighbours.contains_key(&rid);
        match packet.body {
            OspfBody::Hello(hello) => self.receive_hello(now, i, src, rid, &hello, actions),
            _ if !known => {
                self.counters.bad_packets += 1;
                return;
            }
            OspfBody::DatabaseDescription(dd) => self.receive_dd(now, i, rid, &dd, actions),
            OspfBody::LinkStateRequest(keys) => self.receive_lsr(now, i, rid, &keys, actions),
            OspfBody::LinkStateUpdate(lsas) => self.receive_lsu(now, i, rid, lsas, actions),
            OspfBody::LinkStateAck(headers) => self.receive_ack(i, rid, &headers),
        }
        self.counters.packets_in[kind] += 1;
        self.finish(now, actions);
    }

    /// The whole-packet checks of §8.2 past the codec's (version,
    /// checksum): our area, our authentication, not from ourselves, a
    /// source on the network, AllDRouters only to the DR and BDR.
    fn acceptable(&self, i: usize, src: Ipv4Addr, dst: Ipv4Addr, p: &OspfPacket) -> bool {
        let iface = &self.ifaces[i];
        let auth_ok = match &iface.cfg.password {
            None => p.auth == OspfAuth::Null,
            Some(password) => p.auth == OspfAuth::simple(password),
        };
        let on_link =
            iface.cfg.network == NetworkType::PointToPoint || iface.cfg.address.contains(src);
        let to_us = dst != ospf::ALL_D_ROUTERS || iface.is_dr_or_backup();
        iface.active()
            && p.area_id == Ipv4Addr::UNSPECIFIED
            && p.router_id != self.config.router_id
            && src != iface.cfg.address.address()
            && auth_ok
            && on_link
            && to_us
    }

    /// Runs the timers due at `now`: Hellos, the wait timer, delayed
    /// acknowledgements, inactivity timers, retransmissions, LSA ageing
    /// and refresh, deferred originations.
    pub fn poll(&mut self, now: Instant, actions: &mut OspfActions) {
        for i in 0..self.ifaces.len() {
            self.poll_interface(now, i, actions);
        }
        for key in self.lsdb.newly_max_aged(now) {
            // §14: an LSA reaching MaxAge is flooded, then flushed.
            if let Some(e) = self.lsdb.get_mut(&key) {
                e.flushing = true;
            }
            self.spf_due = true;
            let lsa = self.lsdb.get(&key).map(|e| e.current(now));
            if let Some(lsa) = lsa {
                self.flood(now, &lsa, None, actions);
            }
        }
        self.finish(now, actions);
    }

    /// When [`Ospf::poll`] has work next.
    pub fn poll_at(&self) -> Option<Instant> {
        let mut at: Option<Instant> = None;
        let mut take = |t: Option<Instant>| {
            if let Some(t) = t {
                at = Some(at.map_or(t, |a| a.min(t)));
            }
        };
        for iface in &self.ifaces {
            take(iface.next_timer());
        }
        take(self.lsdb.next_max_age());
        take(self.next_refresh());
        take(self.origination_due);
        at
    }

    /// An interface went down or came up (InterfaceDown / InterfaceUp,
    /// §9.3): down kills its neighbours, and both change the Router-LSA.
    pub fn set_link(&mut self, now: Instant, port: usize, up: bool, actions: &mut OspfActions) {
        let Some(i) = self.iface_by_port(port) else {
            return;
        };
        if self.ifaces[i].up == up {
            return;
        }
        if up {
            self.ifaces[i].up = true;
            self.interface_up(now, i, actions);
        } else {
            self.interface_down(now, i, actions);
            self.ifaces[i].up = false;
        }
        self.finish(now, actions);
    }

    /// Leaves the area gracefully: our LSAs are flushed (premature ageing,
    /// §14.1), as FRR does when ospfd stops; then the caller stops
    /// calling. Neighbours drop the routes through us at once instead of
    /// after RouterDeadInterval.
    pub fn shutdown(&mut self, now: Instant, actions: &mut OspfActions) {
        self.shut_down = true;
        self.finish(now, actions);
    }

    /// What every entry point does last: originate our LSAs if they
    /// changed, forget flushed LSAs, compute the routes if the database
    /// changed.
    fn finish(&mut self, now: Instant, actions: &mut OspfActions) {
        self.originate(now, actions);
        self.remove_flushed();
        if self.spf_due {
            self.spf_due = false;
            self.run_spf(now, actions);
        }
    }

    /// Sends `body` out of interface `i` to `to`.
    fn send(&mut self, i: usize, to: Ipv4Addr, body: OspfBody, actions: &mut OspfActions) {
        let iface = &self.ifaces[i];
        let auth = match &iface.cfg.password {
            Some(p) => OspfAuth::simple(p),
            None => OspfAuth::Null,
        };
        self.counters.packets_out[usize::from(body.packet_type() - 1)] += 1;
        let packet = OspfPacket {
            router_id: self.config.router_id,
            area_id: Ipv4Addr::UNSPECIFIED,
            auth,
            body,
        };
        actions.send.push(OspfOutput {
            port: iface.cfg.port,
            to,
            packet: packet.emit(),
        });
    }

    /// A fresh DD sequence number.
    fn dd_sequence(&mut self) -> u32 {
        self.next_dd_seq = self.next_dd_seq.wrapping_add(0x0001_0001);
        self.next_dd_seq
    }

    /// Runs the shortest-path calculation and reports what changed in the
    /// routes through a gateway.
    fn run_spf(&mut self, now: Instant, actions: &mut OspfActions) {
        self.counters.spf_runs += 1;
        let attached: Vec<spf::Attachment> = self
            .ifaces
            .iter()
            .filter(|i| i.active() || i.state == InterfaceState::Loopback)
            .map(|i| spf::Attachment {
                port: i.cfg.port,
                address: i.cfg.address,
            })
            .collect();
        let lsas: Vec<ospf::Lsa> = self
            .lsdb
            .iter()
            .map(|(_, e)| e.current(now))
            .filter(|l| l.header.age < ospf::MAX_AGE)
            .collect();
        let routes = spf::shortest_paths(self.config.router_id, &lsas, &attached);
        let installed = |r: &OspfRoute| r.gateway().map(|(port, via)| (port, via, r.cost));
        for (dst, old) in &self.routes {
            if routes.get(dst).and_then(installed).is_none() && installed(old).is_some() {
                actions
                    .routes
                    .push(RouteChange::Withdraw { destination: *dst });
            }
        }
        for (dst, new) in &routes {
            let Some((port, via, cost)) = installed(new) else {
                continue;
            };
            if self.routes.get(dst).and_then(installed) != Some((port, via, cost)) {
                actions.routes.push(RouteChange::Install {
                    destination: *dst,
                    via,
                    port,
                    cost,
                });
            }
        }
        self.routes = routes;
    }
}
