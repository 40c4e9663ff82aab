//! The interface state machine (RFC 2328 §9.1–§9.3), Hellos (§9.5,
//! §10.5) and the election of the Designated Router and its Backup
//! (§9.4).

use super::neighbour::{NbrEvent, Neighbour, NeighbourState};
use super::{InterfaceView, NetworkType, Ospf, OspfActions, OspfInterface};
use crate::time::Instant;
use core::time::Duration;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use vnet_wire::ospf::{self, Hello, LsaHeader, Options, OspfBody};

/// The states of an interface (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InterfaceState {
    /// Not usable: no packets, no links in the Router-LSA.
    Down,
    /// Looped back: advertised as a host route only.
    Loopback,
    /// Listening for a DR and BDR before electing (RouterDeadInterval).
    Waiting,
    /// A point-to-point link (no election).
    PointToPoint,
    /// On a broadcast network, neither DR nor BDR.
    DrOther,
    /// The Backup Designated Router.
    Backup,
    /// The Designated Router.
    Dr,
}

impl InterfaceState {
    /// The name FRR's `show ip ospf interface` uses.
    pub fn name(self) -> &'static str {
        match self {
            InterfaceState::Down => "Down",
            InterfaceState::Loopback => "Loopback",
            InterfaceState::Waiting => "Waiting",
            InterfaceState::PointToPoint => "Point-To-Point",
            InterfaceState::DrOther => "DROther",
            InterfaceState::Backup => "Backup",
            InterfaceState::Dr => "DR",
        }
    }
}

/// An interface's data (§9).
#[derive(Debug, Clone)]
pub(super) struct Iface {
    pub cfg: OspfInterface,
    /// The link is up (the caller says so with `set_link`).
    pub up: bool,
    pub state: InterfaceState,
    /// The DR's and the BDR's interface addresses (0.0.0.0: none).
    pub dr: Ipv4Addr,
    pub bdr: Ipv4Addr,
    pub hello_at: Option<Instant>,
    pub wait_at: Option<Instant>,
    /// Delayed acknowledgements (§13.5) and when they go.
    pub delayed_acks: Vec<LsaHeader>,
    pub ack_at: Option<Instant>,
    /// The neighbours heard on this interface, by router ID.
    pub neighbours: BTreeMap<Ipv4Addr, Neighbour>,
}

impl Iface {
    pub fn new(cfg: OspfInterface) -> Iface {
        Iface {
            cfg,
            up: true,
            state: InterfaceState::Down,
            dr: Ipv4Addr::UNSPECIFIED,
            bdr: Ipv4Addr::UNSPECIFIED,
            hello_at: None,
            wait_at: None,
            delayed_acks: Vec::new(),
            ack_at: None,
            neighbours: BTreeMap::new(),
        }
    }

    pub fn address(&self) -> Ipv4Addr {
        self.cfg.address.address()
    }

    /// Packets are sent and accepted here.
    pub fn active(&self) -> bool {
        !self.cfg.passive && !matches!(self.state, InterfaceState::Down | InterfaceState::Loopback)
    }

    pub fn is_dr_or_backup(&self) -> bool {
        matches!(self.state, InterfaceState::Dr | InterfaceState::Backup)
    }

    pub fn p2p(&self) -> bool {
        self.cfg.network == NetworkType::PointToPoint
    }

    pub fn rxmt(&self) -> Duration {
        Duration::from_secs(u64::from(self.cfg.rxmt_interval))
    }

    /// HelloInterval (at least a second, whatever the configuration).
    pub fn hello_interval(&self) -> Duration {
        Duration::from_secs(u64::from(self.cfg.hello_interval.max(1)))
    }

    pub fn dead(&self) -> Duration {
        Duration::from_secs(u64::from(self.cfg.dead_interval))
    }

    /// Where floods and delayed acknowledgements go (§13.3, §13.5): all
    /// routers from the DR and BDR and on point-to-point links, else the
    /// DR and BDR.
    pub fn flood_to(&self) -> Ipv4Addr {
        if self.p2p() || self.is_dr_or_backup() {
            ospf::ALL_SPF_ROUTERS
        } else {
            ospf::ALL_D_ROUTERS
        }
    }

    /// Where packets for one neighbour go (§8.1): its address, but
    /// AllSPFRouters on a point-to-point link.
    pub fn unicast(&self, neighbour: Ipv4Addr) -> Ipv4Addr {
        if self.p2p() {
            ospf::ALL_SPF_ROUTERS
        } else {
            neighbour
        }
    }

    /// LSA headers that fit in one DD packet, LSAs bytes in one update.
    pub fn payload_room(&self) -> usize {
        // IP header 20, OSPF header 24, the packet's own fixed part 8.
        usize::from(self.cfg.mtu)
            .saturating_sub(20 + 24 + 8)
            .max(20)
    }

    /// The neighbour that is the DR, if we know it.
    pub fn dr_neighbour(&self) -> Option<&Neighbour> {
        self.neighbours.values().find(|n| n.address == self.dr)
    }

    pub fn next_timer(&self) -> Option<Instant> {
        let own = [self.hello_at, self.wait_at, self.ack_at];
        let nbrs = self.neighbours.values().flat_map(Neighbour::timers);
        own.into_iter().flatten().chain(nbrs).min()
    }

    pub fn view(&self) -> InterfaceView {
        InterfaceView {
            port: self.cfg.port,
            address: self.cfg.address,
            network: self.cfg.network,
            state: self.state,
            cost: self.cfg.cost,
            dr: self.dr,
            bdr: self.bdr,
            neighbours: self.neighbours.len(),
            adjacent: self
                .neighbours
                .values()
                .filter(|n| n.state == NeighbourState::Full)
                .count(),
        }
    }
}

/// One router of the election (§9.4): a neighbour in state 2-Way or
/// higher, or ourselves.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    router_id: Ipv4Addr,
    address: Ipv4Addr,
    priority: u8,
    dr: Ipv4Addr,
    bdr: Ipv4Addr,
}

impl Candidate {
    /// The best by priority, then router ID (§9.4 steps 2 and 3).
    fn best<'a>(it: impl Iterator<Item = &'a Candidate>) -> Option<&'a Candidate> {
        it.max_by_key(|c| (c.priority, c.router_id))
    }
}

/// §9.4 steps 2 and 3: the BDR, then the DR, as interface addresses.
fn elect_once(cands: &[Candidate]) -> (Ipv4Addr, Ipv4Addr) {
    let eligible = || cands.iter().filter(|c| c.priority > 0);
    let not_dr = || eligible().filter(|c| c.dr != c.address);
    let bdr = Candidate::best(not_dr().filter(|c| c.bdr == c.address))
        .or_else(|| Candidate::best(not_dr()))
        .map_or(Ipv4Addr::UNSPECIFIED, |c| c.address);
    let dr = Candidate::best(eligible().filter(|c| c.dr == c.address)).map_or(bdr, |c| c.address);
    (dr, bdr)
}

impl Ospf {
    /// InterfaceUp (§9.3): Hellos start; a point-to-point link is up at
    /// once, a broadcast network waits for a DR (or, priority 0, is
    /// DROther). Passive and loopback interfaces only advertise.
    pub(super) fn interface_up(&mut self, now: Instant, i: usize, actions: &mut OspfActions) {
        let iface = &mut self.ifaces[i];
        if !iface.up {
            return;
        }
        let me = iface.address();
        iface.state = match (iface.cfg.loopback, iface.cfg.passive, iface.cfg.network) {
            (true, _, _) => InterfaceState::Loopback,
            (_, _, NetworkType::PointToPoint) => InterfaceState::PointToPoint,
            (_, true, _) => {
                // Alone on the network: it is its own DR (as FRR shows).
                iface.dr = me;
                InterfaceState::Dr
            }
            (_, false, _) if iface.cfg.priority == 0 => InterfaceState::DrOther,
            _ => {
                iface.wait_at = Some(now + iface.dead());
                InterfaceState::Waiting
            }
        };
        if iface.active() {
            self.send_hello(i, actions);
            let iface = &mut self.ifaces[i];
            iface.hello_at = Some(now + iface.hello_interval());
        }
        self.spf_due = true;
    }

    /// InterfaceDown (§9.3): every neighbour is killed, the interface
    /// forgets its DR and timers.
    pub(super) fn interface_down(&mut self, now: Instant, i: usize, actions: &mut OspfActions) {
        // Down first, so that the neighbours' going does not start an
        // election here.
        self.ifaces[i].state = InterfaceState::Down;
        let rids: Vec<Ipv4Addr> = self.ifaces[i].neighbours.keys().copied().collect();
        for rid in rids {
            self.nbr_event(now, i, rid, NbrEvent::KillNbr, actions);
        }
        let iface = &mut self.ifaces[i];
        iface.dr = Ipv4Addr::UNSPECIFIED;
        iface.bdr = Ipv4Addr::UNSPECIFIED;
        iface.hello_at = None;
        iface.wait_at = None;
        iface.ack_at = None;
        iface.delayed_acks.clear();
        self.spf_due = true;
    }

    /// The interface's timers and its neighbours'.
    pub(super) fn poll_interface(&mut self, now: Instant, i: usize, actions: &mut OspfActions) {
        if self.ifaces[i].hello_at.is_some_and(|t| t <= now) {
            self.send_hello(i, actions);
            let iface = &mut self.ifaces[i];
            iface.hello_at = Some(now + iface.hello_interval());
        }
        if self.ifaces[i].wait_at.is_some_and(|t| t <= now) {
            // WaitTimer (§9.3).
            self.ifaces[i].wait_at = None;
            self.elect(now, i, actions);
        }
        if self.ifaces[i].ack_at.is_some_and(|t| t <= now) {
            self.send_delayed_acks(i, actions);
        }
        let rids: Vec<Ipv4Addr> = self.ifaces[i].neighbours.keys().copied().collect();
        for rid in rids {
            self.poll_neighbour(now, i, rid, actions);
        }
    }

    /// A Hello out of interface `i` (§9.5): our view of the DR, the BDR
    /// and every neighbour heard within RouterDeadInterval.
    pub(super) fn send_hello(&mut self, i: usize, actions: &mut OspfActions) {
        let iface = &self.ifaces[i];
        let hello = Hello {
            network_mask: iface.cfg.address.netmask(),
            hello_interval: iface.cfg.hello_interval,
            options: Options(Options::E),
            priority: iface.cfg.priority,
            dead_interval: iface.cfg.dead_interval,
            dr: iface.dr,
            bdr: iface.bdr,
            neighbors: iface.neighbours.keys().copied().collect(),
        };
        self.send(i, ospf::ALL_SPF_ROUTERS, OspfBody::Hello(hello), actions);
    }

    /// A Hello from `rid` at `src` (§10.5).
    pub(super) fn receive_hello(
        &mut self,
        now: Instant,
        i: usize,
        src: Ipv4Addr,
        rid: Ipv4Addr,
        hello: &Hello,
        actions: &mut OspfActions,
    ) {
        let iface = &self.ifaces[i];
        // The parameters that must agree (§10.5); the mask only matters
        // on broadcast networks.
        let mask_ok = iface.p2p() || hello.network_mask == iface.cfg.address.netmask();
        if !mask_ok
            || hello.hello_interval != iface.cfg.hello_interval
            || hello.dead_interval != iface.cfg.dead_interval
            || !hello.options.external()
        {
            self.counters.bad_packets += 1;
            return;
        }
        let dead = iface.dead();
        let (p2p, state) = (iface.p2p(), iface.state);
        let n = self.ifaces[i]
            .neighbours
            .entry(rid)
            .or_insert_with(|| Neighbour::new(rid, src, now + dead));
        let established = n.state >= NeighbourState::TwoWay;
        let was = (n.priority, n.declares_dr(), n.declares_bdr());
        n.address = src;
        n.priority = hello.priority;
        n.options = hello.options;
        if !p2p {
            n.dr = hello.dr;
            n.bdr = hello.bdr;
        }
        n.inactivity_at = now + dead;
        let now_is = (n.priority, n.declares_dr(), n.declares_bdr());
        self.nbr_event(now, i, rid, NbrEvent::HelloReceived, actions);
        if !hello.neighbors.contains(&self.config.router_id) {
            self.nbr_event(now, i, rid, NbrEvent::OneWayReceived, actions);
            return;
        }
        self.nbr_event(now, i, rid, NbrEvent::TwoWayReceived, actions);
        if p2p {
            return;
        }
        let Some(n) = self.ifaces[i].neighbours.get(&rid) else {
            return;
        };
        let (_, declares_dr, declares_bdr) = now_is;
        if state == InterfaceState::Waiting {
            // BackupSeen (§10.5): a BDR, or a DR without a BDR, exists.
            if declares_bdr || (declares_dr && n.bdr == Ipv4Addr::UNSPECIFIED) {
                self.ifaces[i].wait_at = None;
                self.elect(now, i, actions);
            }
        } else if was != now_is && established {
            // NeighborChange: its priority or claim to be DR/BDR changed.
            self.neighbour_change(now, i, actions);
        }
    }

    /// NeighborChange (§9.2, §9.3): a new election where there is one.
    pub(super) fn neighbour_change(&mut self, now: Instant, i: usize, actions: &mut OspfActions) {
        if matches!(
            self.ifaces[i].state,
            InterfaceState::DrOther | InterfaceState::Backup | InterfaceState::Dr
        ) && !self.ifaces[i].cfg.passive
        {
            self.elect(now, i, actions);
        }
    }

    /// The DR election (§9.4) and its consequences: the new interface
    /// state, AdjOK? for every neighbour when the DR or BDR changed, and
    /// a Hello with the new view.
    pub(super) fn elect(&mut self, now: Instant, i: usize, actions: &mut OspfActions) {
        let iface = &self.ifaces[i];
        let me = iface.address();
        let mut own = Candidate {
            router_id: self.config.router_id,
            address: me,
            priority: iface.cfg.priority,
            dr: iface.dr,
            bdr: iface.bdr,
        };
        let others: Vec<Candidate> = iface
            .neighbours
            .values()
            .filter(|n| n.state >= NeighbourState::TwoWay)
            .map(|n| Candidate {
                router_id: n.router_id,
                address: n.address,
                priority: n.priority,
                dr: n.dr,
                bdr: n.bdr,
            })
            .collect();
        let run = |own: Candidate| {
            let mut all = others.clone();
            all.push(own);
            elect_once(&all)
        };
        let (mut dr, mut bdr) = run(own);
        // Step 4: if we became or stopped being DR or BDR, once more with
        // our new view.
        let role = |dr: Ipv4Addr, bdr: Ipv4Addr| (dr == me, bdr == me);
        if role(dr, bdr) != role(own.dr, own.bdr) {
            own.dr = dr;
            own.bdr = bdr;
            (dr, bdr) = run(own);
        }
        let iface = &mut self.ifaces[i];
        let changed = (dr, bdr) != (iface.dr, iface.bdr);
        iface.dr = dr;
        iface.bdr = bdr;
        iface.state = if dr == me {
            InterfaceState::Dr
        } else if bdr == me {
            InterfaceState::Backup
        } else {
            InterfaceState::DrOther
        };
        if changed {
            tracing::debug!(port = iface.cfg.port, %dr, %bdr, "ospf: DR election");
            // Tell the others at once rather than at the next Hello, so
            // that views that disagree (a DR also taken for BDR, §9.4
            // step 3) settle within one round.
            let rids: Vec<Ipv4Addr> = iface
                .neighbours
                .values()
                .filter(|n| n.state >= NeighbourState::TwoWay)
                .map(|n| n.router_id)
                .collect();
            self.send_hello(i, actions);
            for rid in rids {
                self.nbr_event(now, i, rid, NbrEvent::AdjOk, actions);
            }
        }
        self.spf_due = true;
    }
}
