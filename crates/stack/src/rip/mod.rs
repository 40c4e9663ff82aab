//! RIP version 2 (RFC 2453) as a sans-IO state machine.
//!
//! [`Rip`] keeps the RIP routing database of one router: its connected
//! networks and the routes its neighbours advertise, with the timers of
//! RFC 2453 §3.8 (timeout, then garbage collection). It is driven like the
//! rest of the stack: [`Rip::receive`] with each RIP message that arrived
//! (UDP port 520), [`Rip::poll`] at [`Rip::poll_at`], and
//! [`Rip::set_link`] when an interface goes down or up. Each call fills a
//! [`RipActions`]: the messages to send (on which port, to whom) and the
//! changes to make to the forwarding table. Nothing here sends, sleeps or
//! reads a clock, so every timer is tested on virtual time.
//!
//! What it implements: periodic updates to 224.0.0.9 (§3.8, §4.5),
//! triggered updates of changed routes with a hold-down between them
//! (§3.10.1), split horizon with poisoned reverse (§3.4.3), metric 16 =
//! infinity (§3.6), requests for the whole table at start-up and their
//! answers (§3.9.1), the input checks of §3.9.2 (source port 520, a sender
//! on the receiving interface's network, valid addresses and metrics) and
//! simple-password authentication (§4.1).

mod update;

use crate::time::Instant;
use core::time::Duration;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use vnet_wire::ip::Ipv4Cidr;
use vnet_wire::rip::{self, INFINITY, RipAuth, RipCommand, RipEntry, RipMessage};

#[cfg(test)]
mod tests;

/// The timers of RFC 2453 §3.8 and §3.10.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RipTimers {
    /// Between periodic updates (RFC default 30 s).
    pub update: Duration,
    /// A route not refreshed for this long is deleted (RFC default 180 s).
    pub timeout: Duration,
    /// A deleted route is still advertised (metric 16) for this long
    /// before it is forgotten (RFC default 120 s).
    pub garbage: Duration,
    /// Least time between two triggered updates (RFC: a random 1–5 s;
    /// vnet uses a fixed value so runs are reproducible).
    pub triggered_holddown: Duration,
}

impl Default for RipTimers {
    fn default() -> Self {
        RipTimers {
            update: Duration::from_secs(30),
            timeout: Duration::from_secs(180),
            garbage: Duration::from_secs(120),
            triggered_holddown: Duration::from_secs(1),
        }
    }
}

/// One interface RIP runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RipInterface {
    /// The stack's port index.
    pub port: usize,
    /// The interface address and prefix (its connected network).
    pub address: Ipv4Cidr,
    /// Added to the metric of routes learned here (RFC 2453 §3.6; 1).
    pub cost: u32,
    /// Learn on this interface but send nothing (a stub network).
    pub passive: bool,
    /// The simple password required on and sent with every message.
    pub password: Option<String>,
}

/// How updates treat routes learned on the interface they go out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SplitHorizon {
    /// Advertise them back with metric 16 (RFC 2453 §3.4.3, recommended).
    #[default]
    PoisonedReverse,
    /// Leave them out.
    Simple,
    /// Advertise them unchanged (only to show why the others exist).
    Off,
}

/// Configuration of [`Rip`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RipConfig {
    /// Timers.
    pub timers: RipTimers,
    /// The interfaces RIP runs on.
    pub interfaces: Vec<RipInterface>,
    /// Split horizon mode.
    pub split_horizon: SplitHorizon,
}

/// Where a route came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RipSource {
    /// A network of one of our interfaces.
    Connected,
    /// Advertised by this neighbour.
    Neighbour(Ipv4Addr),
}

/// One route of the RIP database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RipRoute {
    /// The destination network.
    pub destination: Ipv4Cidr,
    /// Hops to it: 1 for a connected network, [`INFINITY`] while deleted.
    pub metric: u32,
    /// The next hop (`None` for a connected network).
    pub via: Option<Ipv4Addr>,
    /// The egress port.
    pub port: usize,
    /// Where it came from.
    pub source: RipSource,
    /// When it was last installed or refreshed.
    pub updated: Instant,
    /// When it times out (learned routes that are alive).
    pub expires: Option<Instant>,
    /// When a deleted route is forgotten (garbage collection running).
    pub forget_at: Option<Instant>,
    /// Changed since the last update (RFC 2453 §3.10.1 "route change flag").
    changed: bool,
}

/// A change for the forwarding table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteChange {
    /// Use this route for `destination` (add or replace).
    Install {
        /// The destination network.
        destination: Ipv4Cidr,
        /// The next hop.
        via: Ipv4Addr,
        /// The egress port.
        port: usize,
        /// Its RIP metric.
        metric: u32,
    },
    /// Stop using RIP's route to `destination`.
    Withdraw {
        /// The destination network.
        destination: Ipv4Cidr,
    },
}

/// A RIP message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RipOutput {
    /// Out of this port.
    pub port: usize,
    /// To this address: [`rip::MULTICAST`] for updates, the requester for
    /// an answer.
    pub to: Ipv4Addr,
    /// To this UDP port.
    pub to_port: u16,
    /// The UDP payload.
    pub message: Vec<u8>,
}

/// What one call asks the caller to do.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RipActions {
    /// Messages to send.
    pub send: Vec<RipOutput>,
    /// Changes to the forwarding table, in order.
    pub routes: Vec<RouteChange>,
}

/// What RIP knows of a neighbour (for `vnet show ROUTER rip`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RipNeighbour {
    /// The port it is heard on.
    pub port: usize,
    /// When its last valid message arrived.
    pub last_heard: Instant,
    /// Messages from it that were dropped whole.
    pub bad_messages: u64,
    /// Route entries from it that were ignored.
    pub bad_routes: u64,
}

/// Counters of one RIP instance.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RipCounters {
    /// Responses accepted.
    pub responses_in: u64,
    /// Requests answered.
    pub requests_in: u64,
    /// Messages dropped whole (bad source, port, version, authentication).
    pub bad_messages: u64,
    /// Route entries ignored (bad address, mask or metric).
    pub bad_routes: u64,
    /// Periodic updates sent (one per interface).
    pub updates_out: u64,
    /// Triggered updates sent (one per interface).
    pub triggered_out: u64,
}

/// RIP on one router.
#[derive(Debug, Clone)]
pub struct Rip {
    config: RipConfig,
    routes: BTreeMap<(u32, u8), RipRoute>,
    neighbours: BTreeMap<Ipv4Addr, RipNeighbour>,
    link_up: Vec<bool>,
    next_update: Instant,
    /// A triggered update is wanted.
    triggered: bool,
    /// No triggered update before this.
    holddown_until: Instant,
    counters: RipCounters,
}

fn key(c: &Ipv4Cidr) -> (u32, u8) {
    (u32::from(c.address()), c.prefix_len())
}

impl Rip {
    /// Starts RIP at `now`: connected routes for every interface, and a
    /// request for the whole table out of each one (RFC 2453 §3.9.1).
    pub fn new(config: RipConfig, now: Instant, actions: &mut RipActions) -> Rip {
        let ports = config.interfaces.iter().map(|i| i.port + 1).max();
        let mut rip = Rip {
            link_up: vec![true; ports.unwrap_or(0)],
            next_update: now + config.timers.update,
            config,
            routes: BTreeMap::new(),
            neighbours: BTreeMap::new(),
            triggered: false,
            holddown_until: now,
            counters: RipCounters::default(),
        };
        for i in 0..rip.config.interfaces.len() {
            let iface = rip.config.interfaces[i].clone();
            rip.add_connected(&iface, now);
            rip.request_table(&iface, actions);
        }
        rip
    }

    /// The configuration.
    pub fn config(&self) -> &RipConfig {
        &self.config
    }

    /// The routes, by destination.
    pub fn routes(&self) -> impl Iterator<Item = &RipRoute> {
        self.routes.values()
    }

    /// The neighbours heard so far.
    pub fn neighbours(&self) -> impl Iterator<Item = (&Ipv4Addr, &RipNeighbour)> {
        self.neighbours.iter()
    }

    /// Counters.
    pub fn counters(&self) -> RipCounters {
        self.counters
    }

    /// When [`Rip::poll`] has work: the next update, a pending triggered
    /// update, or a route's timer.
    pub fn poll_at(&self) -> Option<Instant> {
        let mut at = self.next_update;
        if self.triggered {
            at = at.min(self.holddown_until);
        }
        for r in self.routes.values() {
            for t in [r.expires, r.forget_at].into_iter().flatten() {
                at = at.min(t);
            }
        }
        Some(at)
    }

    fn add_connected(&mut self, iface: &RipInterface, now: Instant) {
        let destination = iface.address.network();
        self.routes.insert(
            key(&destination),
            RipRoute {
                destination,
                metric: 1,
                via: None,
                port: iface.port,
                source: RipSource::Connected,
                updated: now,
                expires: None,
                forget_at: None,
                changed: true,
            },
        );
    }

    fn request_table(&mut self, iface: &RipInterface, actions: &mut RipActions) {
        if iface.passive || !self.is_up(iface.port) {
            return;
        }
        let message = RipMessage {
            command: RipCommand::Request,
            version: 2,
            auth: iface.password.as_deref().map(RipAuth::simple),
            entries: vec![RipEntry::whole_table()],
        };
        actions.send.push(RipOutput {
            port: iface.port,
            to: rip::MULTICAST,
            to_port: rip::PORT,
            message: message.emit(),
        });
    }

    fn is_up(&self, port: usize) -> bool {
        self.link_up.get(port).copied().unwrap_or(false)
    }

    fn interface(&self, port: usize) -> Option<&RipInterface> {
        self.config.interfaces.iter().find(|i| i.port == port)
    }

    /// Handles a RIP message `payload` from `from:from_port` received on
    /// `port` (RFC 2453 §3.9). Invalid messages and entries are counted and
    /// ignored.
    pub fn receive(
        &mut self,
        now: Instant,
        port: usize,
        from: Ipv4Addr,
        from_port: u16,
        payload: &[u8],
        actions: &mut RipActions,
    ) {
        let Some(iface) = self.interface(port).cloned() else {
            return;
        };
        let message = match RipMessage::parse(payload) {
            Ok(m) if self.acceptable(&iface, from, &m) => m,
            _ => return self.bad_message(from, port, now),
        };
        match message.command {
            RipCommand::Request => self.answer_request(&iface, from, from_port, &message, actions),
            // §3.9.2: responses must come from port 520.
            RipCommand::Response if from_port == rip::PORT => {
                self.counters.responses_in += 1;
                let neighbour = self.neighbour(from, port, now);
                neighbour.last_heard = now;
                for entry in &message.entries {
                    self.learn(now, &iface, from, entry, actions);
                }
            }
            _ => self.bad_message(from, port, now),
        }
    }

    fn neighbour(&mut self, from: Ipv4Addr, port: usize, now: Instant) -> &mut RipNeighbour {
        self.neighbours.entry(from).or_insert(RipNeighbour {
            port,
            last_heard: now,
            bad_messages: 0,
            bad_routes: 0,
        })
    }

    fn bad_message(&mut self, from: Ipv4Addr, port: usize, now: Instant) {
        self.counters.bad_messages += 1;
        if self
            .interface(port)
            .is_some_and(|i| i.address.contains(from))
        {
            self.neighbour(from, port, now).bad_messages += 1;
        }
    }

    /// The whole-message checks of RFC 2453 §3.9.2 and §4.1: a version, a
    /// sender on this interface's network that is not ourselves, and the
    /// configured password (or none when none is configured).
    fn acceptable(&self, iface: &RipInterface, from: Ipv4Addr, m: &RipMessage) -> bool {
        let on_link = iface.address.contains(from) && from != iface.address.address();
        let auth_ok = match (&iface.password, &m.auth) {
            (None, None) => true,
            (Some(p), Some(a)) => *a == RipAuth::simple(p),
            _ => false,
        };
        m.version >= 1 && on_link && auth_ok && self.is_up(iface.port)
    }

    /// Checks one entry (RFC 2453 §3.9.2): IPv4 family, a contiguous mask,
    /// no host bits, not loopback, multicast or class E, metric 1..=16.
    fn valid_destination(entry: &RipEntry) -> Option<Ipv4Cidr> {
        let len = entry.prefix_len()?;
        let cidr = Ipv4Cidr::new(entry.address, len).ok()?;
        let a = entry.address;
        let ok = entry.family == rip::AFI_INET
            && (1..=INFINITY).contains(&entry.metric)
            && cidr.network().address() == a
            && !a.is_loopback()
            && !a.is_multicast()
            && a.octets()[0] < 240
            && !(a.octets()[0] == 0 && len != 0);
        ok.then_some(cidr)
    }

    /// Applies one advertised route (RFC 2453 §3.9.2, the part after the
    /// checks).
    fn learn(
        &mut self,
        now: Instant,
        iface: &RipInterface,
        from: Ipv4Addr,
        entry: &RipEntry,
        actions: &mut RipActions,
    ) {
        let Some(destination) = Self::valid_destination(entry) else {
            self.counters.bad_routes += 1;
            self.neighbour(from, iface.port, now).bad_routes += 1;
            return;
        };
        let metric = entry.metric.saturating_add(iface.cost).min(INFINITY);
        // §4.4: a next hop on our network (and not us) is used as given.
        let via = if entry.next_hop != Ipv4Addr::UNSPECIFIED
            && iface.address.contains(entry.next_hop)
            && entry.next_hop != iface.address.address()
        {
            entry.next_hop
        } else {
            from
        };
        let timeout = now + self.config.timers.timeout;
        let learned = RipRoute {
            destination,
            metric,
            via: Some(via),
            port: iface.port,
            source: RipSource::Neighbour(from),
            updated: now,
            expires: Some(timeout),
            forget_at: None,
            changed: true,
        };
        let Some(route) = self.routes.get_mut(&key(&destination)) else {
            if metric < INFINITY {
                self.install(learned, actions);
            }
            return;
        };
        if route.source == RipSource::Connected && route.forget_at.is_none() {
            return;
        }
        let same_router = route.source == RipSource::Neighbour(from);
        if same_router && metric < INFINITY && metric == route.metric && route.via == Some(via) {
            // A refresh (§3.9.2: "reinitialize the timeout").
            route.expires = Some(timeout);
            route.updated = now;
            return;
        }
        if (same_router && metric != route.metric) || metric < route.metric {
            if metric >= INFINITY {
                self.start_deletion(destination, now, actions);
            } else {
                self.install(learned, actions);
            }
        }
    }

    fn install(&mut self, route: RipRoute, actions: &mut RipActions) {
        if let Some(via) = route.via {
            actions.routes.push(RouteChange::Install {
                destination: route.destination,
                via,
                port: route.port,
                metric: route.metric,
            });
        }
        self.routes.insert(key(&route.destination), route);
        self.triggered = true;
    }

    /// The deletion process (RFC 2453 §3.8): metric 16, the garbage timer,
    /// a triggered update, and the route out of the forwarding table.
    fn start_deletion(&mut self, destination: Ipv4Cidr, now: Instant, actions: &mut RipActions) {
        let garbage = self.config.timers.garbage;
        let Some(route) = self.routes.get_mut(&key(&destination)) else {
            return;
        };
        if route.forget_at.is_some() {
            return;
        }
        route.metric = INFINITY;
        route.expires = None;
        route.forget_at = Some(now + garbage);
        route.changed = true;
        route.updated = now;
        if route.via.is_some() {
            actions.routes.push(RouteChange::Withdraw { destination });
        }
        self.triggered = true;
    }

    /// Runs the timers: expired routes start deletion, forgotten ones go,
    /// and periodic or triggered updates are sent when due.
    pub fn poll(&mut self, now: Instant, actions: &mut RipActions) {
        let expired: Vec<Ipv4Cidr> = self
            .routes
            .values()
            .filter(|r| r.expires.is_some_and(|t| t <= now))
            .map(|r| r.destination)
            .collect();
        for destination in expired {
            self.start_deletion(destination, now, actions);
        }
        self.routes
            .retain(|_, r| r.forget_at.is_none_or(|t| t > now));
        if now >= self.next_update {
            self.send_updates(false, actions);
            self.next_update = now + self.config.timers.update;
            self.triggered = false;
            self.holddown_until = now + self.config.timers.triggered_holddown;
        } else if self.triggered && now >= self.holddown_until {
            self.send_updates(true, actions);
            self.triggered = false;
            self.holddown_until = now + self.config.timers.triggered_holddown;
        }
    }

    /// An interface went down or came up. Down: its connected network and
    /// every route through it start deletion. Up: the connected network
    /// returns, the neighbours are asked for their tables and sent ours.
    pub fn set_link(&mut self, now: Instant, port: usize, up: bool, actions: &mut RipActions) {
        let Some(iface) = self.interface(port).cloned() else {
            return;
        };
        if port >= self.link_up.len() || self.link_up[port] == up {
            return;
        }
        self.link_up[port] = up;
        if up {
            self.add_connected(&iface, now);
            self.triggered = true;
            self.request_table(&iface, actions);
            // The neighbour may have come up after us and missed the
            // request: offer it the whole table at once.
            self.send_table(&iface, actions);
            return;
        }
        let gone: Vec<Ipv4Cidr> = self
            .routes
            .values()
            .filter(|r| r.port == port && r.forget_at.is_none())
            .map(|r| r.destination)
            .collect();
        for destination in gone {
            self.start_deletion(destination, now, actions);
        }
        self.neighbours.retain(|_, n| n.port != port);
    }
}
