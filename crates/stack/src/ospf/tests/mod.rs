//! OSPF on virtual time: routers joined by simulated segments that
//! deliver every packet at once, with ways to lose packets, silence an
//! interface and stop a router.

mod adjacency;
mod flooding;
mod robustness;
mod spf;

use super::*;
use std::collections::{BTreeSet, VecDeque};

pub(super) fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().unwrap()
}

pub(super) fn addr(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// An interface with lab timers: Hello 1 s, dead 4 s, RxmtInterval 5 s.
pub(super) fn iface(port: usize, address: &str) -> OspfInterface {
    let mut i = OspfInterface::new(port, cidr(address));
    i.hello_interval = 1;
    i.dead_interval = 4;
    i
}

/// A passive stub network.
pub(super) fn stub(port: usize, address: &str) -> OspfInterface {
    let mut i = iface(port, address);
    i.passive = true;
    i
}

/// Decides whether a packet is lost: (now, sender, output).
type Dropper = Box<dyn FnMut(Instant, usize, &OspfOutput) -> bool>;

pub(super) struct Net {
    pub now: Instant,
    pub routers: Vec<Ospf>,
    /// Per router: destination → (via, port, cost), from the RouteChanges.
    pub fib: Vec<BTreeMap<Ipv4Cidr, (Ipv4Addr, usize, u32)>>,
    /// Members of each segment: (router, port).
    segments: Vec<Vec<(usize, usize)>>,
    /// Interfaces (router, port) whose packets are lost both ways.
    pub silent: BTreeSet<(usize, usize)>,
    /// Stopped routers: not polled, deaf and mute.
    pub stopped: Vec<bool>,
    pub drop: Option<Dropper>,
    /// Every packet sent: (time, router, output, delivered).
    pub sent: Vec<(Instant, usize, OspfOutput, bool)>,
}

impl Net {
    pub fn new(configs: Vec<OspfConfig>, segments: Vec<Vec<(usize, usize)>>) -> Net {
        let mut net = Net {
            now: Instant::ZERO,
            routers: Vec::new(),
            fib: vec![BTreeMap::new(); configs.len()],
            segments,
            silent: BTreeSet::new(),
            stopped: vec![false; configs.len()],
            drop: None,
            sent: Vec::new(),
        };
        let mut pending = VecDeque::new();
        for (r, config) in configs.into_iter().enumerate() {
            let mut actions = OspfActions::default();
            net.routers
                .push(Ospf::new(config, Instant::ZERO, &mut actions));
            pending.push_back((r, actions));
        }
        net.settle(pending);
        net
    }

    fn address(&self, r: usize, port: usize) -> Option<Ipv4Addr> {
        let c = self.routers[r].config();
        let i = c.interfaces.iter().find(|i| i.port == port)?;
        Some(i.address.address())
    }

    /// Applies actions and delivers packets until nothing is left.
    pub fn settle(&mut self, mut pending: VecDeque<(usize, OspfActions)>) {
        let mut steps = 0;
        while let Some((r, actions)) = pending.pop_front() {
            steps += 1;
            assert!(steps < 100_000, "packets never stop at {}", self.now);
            for change in actions.routes {
                match change {
                    RouteChange::Install {
                        destination,
                        via,
                        port,
                        cost,
                    } => {
                        self.fib[r].insert(destination, (via, port, cost));
                    }
                    RouteChange::Withdraw { destination } => {
                        self.fib[r].remove(&destination);
                    }
                }
            }
            for out in actions.send {
                let lost = self.stopped[r]
                    || self.silent.contains(&(r, out.port))
                    || self.drop.as_mut().is_some_and(|d| d(self.now, r, &out));
                self.sent.push((self.now, r, out.clone(), !lost));
                if lost {
                    continue;
                }
                let Some(from) = self.address(r, out.port) else {
                    continue;
                };
                let Some(segment) = self.segments.iter().find(|s| s.contains(&(r, out.port)))
                else {
                    continue;
                };
                for &(peer, port) in segment.clone().iter() {
                    let multicast = out.to.is_multicast();
                    if peer == r
                        || self.stopped[peer]
                        || self.silent.contains(&(peer, port))
                        || !(multicast || self.address(peer, port) == Some(out.to))
                    {
                        continue;
                    }
                    let mut actions = OspfActions::default();
                    let now = self.now;
                    self.routers[peer].receive(now, port, from, out.to, &out.packet, &mut actions);
                    pending.push_back((peer, actions));
                }
            }
        }
    }

    /// Runs every timer up to `until`.
    pub fn run_until(&mut self, until: Instant) {
        let mut rounds = 0;
        loop {
            let next = (0..self.routers.len())
                .filter(|r| !self.stopped[*r])
                .filter_map(|r| self.routers[r].poll_at())
                .min();
            let Some(at) = next.filter(|&t| t <= until) else {
                break;
            };
            rounds += 1;
            assert!(rounds < 1_000_000, "timers never stop at {}", self.now);
            self.now = self.now.max(at);
            let mut pending = VecDeque::new();
            for r in 0..self.routers.len() {
                if self.stopped[r] {
                    continue;
                }
                let mut actions = OspfActions::default();
                self.routers[r].poll(self.now, &mut actions);
                pending.push_back((r, actions));
            }
            self.settle(pending);
        }
        self.now = self.now.max(until);
    }

    pub fn run_for(&mut self, secs: u64) {
        let until = self.now + Duration::from_secs(secs);
        self.run_until(until);
    }

    /// Runs until `done` holds (checked after every step), at most
    /// `secs` seconds; returns the time it took.
    pub fn run_until_true(&mut self, secs: u64, done: impl Fn(&Net) -> bool) -> Option<Duration> {
        let start = self.now;
        let end = start + Duration::from_secs(secs);
        while !done(self) {
            if self.now >= end {
                return None;
            }
            let next = (0..self.routers.len())
                .filter(|r| !self.stopped[*r])
                .filter_map(|r| self.routers[r].poll_at())
                .min()
                .unwrap_or(end)
                .min(end)
                .max(self.now);
            self.run_until(next);
        }
        Some(self.now - start)
    }

    pub fn link(&mut self, r: usize, port: usize, up: bool) {
        let mut actions = OspfActions::default();
        self.routers[r].set_link(self.now, port, up, &mut actions);
        self.settle(VecDeque::from([(r, actions)]));
    }

    pub fn shutdown(&mut self, r: usize) {
        let mut actions = OspfActions::default();
        self.routers[r].shutdown(self.now, &mut actions);
        self.settle(VecDeque::from([(r, actions)]));
        self.stopped[r] = true;
    }

    pub fn route(&self, r: usize, destination: &str) -> Option<(Ipv4Addr, usize, u32)> {
        self.fib[r].get(&cidr(destination)).copied()
    }

    /// The state of router `r`'s neighbour `rid`.
    pub fn state(&self, r: usize, rid: &str) -> Option<NeighbourState> {
        self.routers[r]
            .neighbours(self.now)
            .into_iter()
            .find(|n| n.router_id == addr(rid))
            .map(|n| n.state)
    }

    /// Whether every router's every neighbour is Full or (between two
    /// DROthers) 2-Way.
    pub fn converged(&self) -> bool {
        self.routers.iter().all(|o| {
            let waiting = o
                .interfaces()
                .iter()
                .any(|i| i.state == InterfaceState::Waiting);
            let views = o.neighbours(self.now);
            !waiting
                && !views.is_empty()
                && views.iter().all(|n| {
                    n.state == NeighbourState::Full
                        || (n.state == NeighbourState::TwoWay && n.role == "DROther")
                })
        })
    }

    /// The types of the packets router `r` sent (1 Hello … 5 LSAck).
    pub fn kinds_sent(&self, r: usize) -> BTreeSet<u8> {
        self.sent
            .iter()
            .filter(|(_, s, _, _)| *s == r)
            .map(|(_, _, o, _)| o.packet[1])
            .collect()
    }
}

pub(super) fn config(rid: &str, interfaces: Vec<OspfInterface>) -> OspfConfig {
    OspfConfig::new(addr(rid), interfaces)
}

/// One line per packet sent, for debugging failed tests.
#[allow(dead_code)]
pub(super) fn dump(net: &Net) {
    use vnet_wire::ospf::{OspfBody, OspfPacket};
    for (t, r, o, delivered) in &net.sent {
        let what = match OspfPacket::parse(&o.packet).map(|p| p.body) {
            Ok(OspfBody::Hello(h)) => {
                format!("Hello dr={} bdr={} nbrs={:?}", h.dr, h.bdr, h.neighbors)
            }
            Ok(OspfBody::DatabaseDescription(d)) => format!(
                "DD flags={:#x} seq={:#x} headers={:?}",
                d.flags.0,
                d.sequence,
                d.lsa_headers
                    .iter()
                    .map(|h| (h.id, h.seq, h.age))
                    .collect::<Vec<_>>()
            ),
            Ok(OspfBody::LinkStateRequest(k)) => {
                format!("LSR {:?}", k.iter().map(|k| k.id).collect::<Vec<_>>())
            }
            Ok(OspfBody::LinkStateUpdate(l)) => format!(
                "LSU {:?}",
                l.iter()
                    .map(|l| (l.header.ls_type, l.header.id, l.header.seq, l.header.age))
                    .collect::<Vec<_>>()
            ),
            Ok(OspfBody::LinkStateAck(h)) => format!(
                "Ack {:?}",
                h.iter().map(|h| (h.id, h.seq, h.age)).collect::<Vec<_>>()
            ),
            Err(e) => format!("?? {e}"),
        };
        eprintln!(
            "{t} r{r} port{} -> {} {}{}",
            o.port,
            o.to,
            what,
            if *delivered { "" } else { " [lost]" }
        );
    }
}
