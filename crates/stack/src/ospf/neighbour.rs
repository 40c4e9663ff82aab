//! Neighbours: the neighbour state machine (RFC 2328 §10.1–§10.4), the
//! Database Exchange (§10.6, §10.8) and Link State Requests (§10.7,
//! §10.9).

use super::interface::Iface;
use super::{NeighbourView, Ospf, OspfActions};
use crate::time::Instant;
use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
use vnet_wire::ospf::{
    self, DatabaseDescription, DdFlags, LSA_HEADER_LEN, LsType, LsaHeader, LsaKey, Options,
    OspfBody,
};

/// The states of a neighbour (§10.1; Attempt is for NBMA networks only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeighbourState {
    /// Nothing heard recently.
    Down,
    /// A Hello was heard, without us in it.
    Init,
    /// Two-way communication: each lists the other in its Hellos.
    TwoWay,
    /// Deciding who is master of the Database Exchange.
    ExStart,
    /// Sending DD packets.
    Exchange,
    /// Requesting the LSAs the neighbour has and we lack.
    Loading,
    /// Fully adjacent: the databases are synchronised.
    Full,
}

impl NeighbourState {
    /// The name FRR's `show ip ospf neighbor` uses.
    pub fn name(self) -> &'static str {
        match self {
            NeighbourState::Down => "Down",
            NeighbourState::Init => "Init",
            NeighbourState::TwoWay => "2-Way",
            NeighbourState::ExStart => "ExStart",
            NeighbourState::Exchange => "Exchange",
            NeighbourState::Loading => "Loading",
            NeighbourState::Full => "Full",
        }
    }
}

/// The events of the neighbour state machine (§10.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NbrEvent {
    HelloReceived,
    TwoWayReceived,
    OneWayReceived,
    NegotiationDone,
    ExchangeDone,
    LoadingDone,
    /// AdjOK?: should an adjacency be (still) formed?
    AdjOk,
    SeqNumberMismatch,
    BadLsReq,
    KillNbr,
    InactivityTimer,
}

/// A neighbour's data (§10).
#[derive(Debug, Clone)]
pub(super) struct Neighbour {
    pub router_id: Ipv4Addr,
    pub address: Ipv4Addr,
    pub priority: u8,
    /// The options of its Hellos.
    pub options: Options,
    /// The DR and BDR it declares (interface addresses).
    pub dr: Ipv4Addr,
    pub bdr: Ipv4Addr,
    pub state: NeighbourState,
    pub inactivity_at: Instant,
    /// We are master of the Database Exchange.
    pub master: bool,
    pub dd_seq: u32,
    /// The options of its DD packets, recorded at NegotiationDone.
    pub dd_options: Options,
    /// The flags, options and sequence number of its last DD packet.
    pub last_rx_dd: Option<(u8, u8, u32)>,
    /// Our last DD packet, kept for retransmission (master) or to answer
    /// a duplicate (slave).
    pub last_tx_dd: Option<DatabaseDescription>,
    pub dd_rxmt_at: Option<Instant>,
    /// Database summary list: LSAs still to describe.
    pub summary: VecDeque<LsaKey>,
    /// Link state request list: LSAs it has newer than ours.
    pub requests: BTreeMap<LsaKey, LsaHeader>,
    /// The LSAs asked for in the outstanding request.
    pub lsr_sent: Vec<LsaKey>,
    pub lsr_rxmt_at: Option<Instant>,
    /// Link state retransmission list: LSAs flooded and not acknowledged.
    pub rxmt: BTreeMap<LsaKey, LsaHeader>,
    pub lsu_rxmt_at: Option<Instant>,
}

impl Neighbour {
    pub fn new(router_id: Ipv4Addr, address: Ipv4Addr, inactivity_at: Instant) -> Neighbour {
        Neighbour {
            router_id,
            address,
            priority: 0,
            options: Options::default(),
            dr: Ipv4Addr::UNSPECIFIED,
            bdr: Ipv4Addr::UNSPECIFIED,
            state: NeighbourState::Down,
            inactivity_at,
            master: true,
            dd_seq: 0,
            dd_options: Options::default(),
            last_rx_dd: None,
            last_tx_dd: None,
            dd_rxmt_at: None,
            summary: VecDeque::new(),
            requests: BTreeMap::new(),
            lsr_sent: Vec::new(),
            lsr_rxmt_at: None,
            rxmt: BTreeMap::new(),
            lsu_rxmt_at: None,
        }
    }

    pub fn declares_dr(&self) -> bool {
        self.dr == self.address
    }

    pub fn declares_bdr(&self) -> bool {
        self.bdr == self.address
    }

    pub fn timers(&self) -> impl Iterator<Item = Instant> {
        [
            Some(self.inactivity_at),
            self.dd_rxmt_at,
            self.lsr_rxmt_at,
            self.lsu_rxmt_at,
        ]
        .into_iter()
        .flatten()
    }

    /// Clears the adjacency's lists (§10.3: leaving ExStart or higher).
    fn clear_lists(&mut self) {
        self.summary.clear();
        self.requests.clear();
        self.lsr_sent.clear();
        self.rxmt.clear();
        self.last_rx_dd = None;
        self.dd_rxmt_at = None;
        self.lsr_rxmt_at = None;
        self.lsu_rxmt_at = None;
    }

    pub fn view(&self, iface: &Iface, now: Instant) -> NeighbourView {
        let role = if iface.p2p() {
            "-"
        } else if self.address == iface.dr {
            "DR"
        } else if self.address == iface.bdr {
            "Backup"
        } else {
            "DROther"
        };
        NeighbourView {
            port: iface.cfg.port,
            router_id: self.router_id,
            address: self.address,
            priority: self.priority,
            state: self.state,
            role,
            dead_in: self.inactivity_at - now,
            retransmit: self.rxmt.len(),
            requests: self.requests.len(),
        }
    }
}

impl Ospf {
    fn neighbour(&mut self, i: usize, rid: Ipv4Addr) -> Option<&mut Neighbour> {
        self.ifaces[i].neighbours.get_mut(&rid)
    }

    /// Whether an adjacency should form with `rid` (§10.4): always on a
    /// point-to-point link; on a broadcast network when either end is the
    /// DR or the BDR.
    fn adjacency_wanted(&self, i: usize, rid: Ipv4Addr) -> bool {
        let iface = &self.ifaces[i];
        let Some(n) = iface.neighbours.get(&rid) else {
            return false;
        };
        iface.p2p() || iface.is_dr_or_backup() || n.address == iface.dr || n.address == iface.bdr
    }

    /// Runs the neighbour state machine (§10.3).
    pub(super) fn nbr_event(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        event: NbrEvent,
        actions: &mut OspfActions,
    ) {
        use NbrEvent::*;
        use NeighbourState::*;
        let wanted = self.adjacency_wanted(i, rid);
        let Some(n) = self.neighbour(i, rid) else {
            return;
        };
        let old = n.state;
        match (event, old) {
            (KillNbr | InactivityTimer, _) => {
                self.ifaces[i].neighbours.remove(&rid);
            }
            (HelloReceived, Down) => n.state = Init,
            (TwoWayReceived, Init) | (AdjOk, TwoWay) if wanted => {
                self.start_exstart(now, i, rid, actions)
            }
            (TwoWayReceived, Init) => n.state = TwoWay,
            (OneWayReceived, s) if s >= TwoWay => {
                n.clear_lists();
                n.state = Init;
            }
            (NegotiationDone, ExStart) => {
                n.state = Exchange;
                self.fill_summary(now, i, rid);
            }
            (ExchangeDone, Exchange) => {
                n.dd_rxmt_at = None;
                n.state = if n.requests.is_empty() { Full } else { Loading };
            }
            (LoadingDone, Loading) => n.state = Full,
            (AdjOk, s) if s >= ExStart && !wanted => {
                n.clear_lists();
                n.state = TwoWay;
            }
            (SeqNumberMismatch | BadLsReq, s) if s >= Exchange => {
                self.start_exstart(now, i, rid, actions)
            }
            _ => {}
        }
        let new = self.ifaces[i]
            .neighbours
            .get(&rid)
            .map_or(Down, |n| n.state);
        if new == old {
            return;
        }
        let port = self.ifaces[i].cfg.port;
        tracing::debug!(port, neighbour = %rid, from = old.name(), to = new.name(), ?event, "ospf: neighbour state");
        if (old == Full) != (new == Full) {
            // The Router-LSA (and, as DR, the Network-LSA) change; `finish`
            // originates them.
            self.spf_due = true;
        }
        if (old >= TwoWay) != (new >= TwoWay) {
            self.neighbour_change(now, i, actions);
        }
    }

    /// Enters ExStart (§10.3): a new DD sequence number, ourselves as
    /// master, and the first, empty DD packet (I, M and MS set).
    fn start_exstart(&mut self, now: Instant, i: usize, rid: Ipv4Addr, actions: &mut OspfActions) {
        let seq = self.dd_sequence();
        let iface = &self.ifaces[i];
        let mtu = iface.cfg.mtu;
        let Some(n) = self.neighbour(i, rid) else {
            return;
        };
        n.clear_lists();
        n.state = NeighbourState::ExStart;
        n.master = true;
        n.dd_seq = if n.dd_seq == 0 {
            seq
        } else {
            n.dd_seq.wrapping_add(1)
        };
        n.last_tx_dd = Some(DatabaseDescription {
            mtu,
            options: Options(Options::E),
            flags: DdFlags::new(true, true, true),
            sequence: n.dd_seq,
            lsa_headers: Vec::new(),
        });
        self.resend_dd(now, i, rid, actions);
    }

    /// NegotiationDone (§10.3): the whole database goes into the summary
    /// list, but LSAs at MaxAge go onto the retransmission list (§14).
    fn fill_summary(&mut self, now: Instant, i: usize, rid: Ipv4Addr) {
        let rxmt = self.ifaces[i].rxmt();
        let (mut summary, mut old) = (VecDeque::new(), BTreeMap::new());
        for (key, e) in self.lsdb.iter() {
            if e.age(now) >= ospf::MAX_AGE {
                old.insert(*key, e.header(now));
            } else {
                summary.push_back(*key);
            }
        }
        let Some(n) = self.neighbour(i, rid) else {
            return;
        };
        n.summary = summary;
        if !old.is_empty() {
            n.rxmt.extend(old);
            n.lsu_rxmt_at.get_or_insert(now + rxmt);
        }
    }

    /// Sends our last DD packet again; the master rearms its timer.
    fn resend_dd(&mut self, now: Instant, i: usize, rid: Ipv4Addr, actions: &mut OspfActions) {
        let rxmt = self.ifaces[i].rxmt();
        let Some(n) = self.neighbour(i, rid) else {
            return;
        };
        let Some(dd) = n.last_tx_dd.clone() else {
            return;
        };
        n.dd_rxmt_at = n.master.then_some(now + rxmt);
        let address = n.address;
        let to = self.ifaces[i].unicast(address);
        self.send(i, to, OspfBody::DatabaseDescription(dd), actions);
    }

    /// The next DD packet of the exchange: as many headers from the
    /// summary list as fit, M set while more remain.
    fn send_next_dd(&mut self, now: Instant, i: usize, rid: Ipv4Addr, actions: &mut OspfActions) {
        let room = self.ifaces[i].payload_room() / LSA_HEADER_LEN;
        let mtu = self.ifaces[i].cfg.mtu;
        let Some(n) = self.ifaces[i].neighbours.get_mut(&rid) else {
            return;
        };
        let mut headers = Vec::new();
        while headers.len() < room {
            let Some(key) = n.summary.pop_front() else {
                break;
            };
            // An LSA gone meanwhile is skipped.
            if let Some(e) = self.lsdb.get(&key) {
                headers.push(e.header(now));
            }
        }
        n.last_tx_dd = Some(DatabaseDescription {
            mtu,
            options: Options(Options::E),
            flags: DdFlags::new(false, !n.summary.is_empty(), n.master),
            sequence: n.dd_seq,
            lsa_headers: headers,
        });
        self.resend_dd(now, i, rid, actions);
    }

    /// A DD packet from `rid` (§10.6).
    pub(super) fn receive_dd(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        dd: &DatabaseDescription,
        actions: &mut OspfActions,
    ) {
        use NeighbourState::*;
        // §10.6: a packet larger than our MTU could not reach us whole.
        if dd.mtu > self.ifaces[i].cfg.mtu {
            tracing::debug!(neighbour = %rid, mtu = dd.mtu, "ospf: DD MTU mismatch");
            self.counters.bad_packets += 1;
            return;
        }
        let mut state = self.ifaces[i]
            .neighbours
            .get(&rid)
            .map_or(Down, |n| n.state);
        if state == Init {
            self.nbr_event(now, i, rid, NbrEvent::TwoWayReceived, actions);
            state = self.ifaces[i]
                .neighbours
                .get(&rid)
                .map_or(Down, |n| n.state);
        }
        let me = self.config.router_id;
        let Some(n) = self.neighbour(i, rid) else {
            return;
        };
        let this = (dd.flags.0, dd.options.0, dd.sequence);
        let duplicate = n.last_rx_dd == Some(this);
        let f = dd.flags;
        match state {
            ExStart => {
                let empty = dd.lsa_headers.is_empty();
                if f.init() && f.more() && f.master() && empty && rid > me {
                    // It is master; we are slave and follow its numbers.
                    n.master = false;
                    n.dd_seq = dd.sequence;
                    n.dd_rxmt_at = None;
                } else if !f.init() && !f.master() && dd.sequence == n.dd_seq && rid < me {
                    // Its answer to our first packet: we are master.
                } else {
                    return;
                }
                n.dd_options = dd.options;
                self.nbr_event(now, i, rid, NbrEvent::NegotiationDone, actions);
                self.accept_dd(now, i, rid, dd, actions);
            }
            Exchange => {
                if duplicate {
                    if !n.master {
                        self.resend_dd(now, i, rid, actions);
                    }
                    return;
                }
                let expected = if n.master {
                    n.dd_seq
                } else {
                    n.dd_seq.wrapping_add(1)
                };
                if f.master() == n.master
                    || f.init()
                    || dd.options != n.dd_options
                    || dd.sequence != expected
                {
                    self.nbr_event(now, i, rid, NbrEvent::SeqNumberMismatch, actions);
                    return;
                }
                self.accept_dd(now, i, rid, dd, actions);
            }
            Loading | Full => {
                if !duplicate {
                    self.nbr_event(now, i, rid, NbrEvent::SeqNumberMismatch, actions);
                } else if !n.master {
                    self.resend_dd(now, i, rid, actions);
                }
            }
            Down | Init | TwoWay => {}
        }
    }

    /// A DD packet accepted as next in sequence (§10.6, the end): its
    /// headers fill the request list, then the master sends the next
    /// packet or the slave its answer, until neither has more.
    fn accept_dd(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        dd: &DatabaseDescription,
        actions: &mut OspfActions,
    ) {
        let mut wanted = Vec::new();
        for h in &dd.lsa_headers {
            if !known_type(h.ls_type) {
                self.nbr_event(now, i, rid, NbrEvent::SeqNumberMismatch, actions);
                return;
            }
            let newer = self
                .lsdb
                .get(&h.key())
                .is_none_or(|e| super::compare(h, &e.header(now)).is_gt());
            if newer {
                wanted.push(*h);
            }
        }
        let Some(n) = self.neighbour(i, rid) else {
            return;
        };
        n.last_rx_dd = Some((dd.flags.0, dd.options.0, dd.sequence));
        n.requests.extend(wanted.iter().map(|h| (h.key(), *h)));
        let we_had_more = n.last_tx_dd.as_ref().is_some_and(|d| d.flags.more());
        if n.master {
            n.dd_seq = n.dd_seq.wrapping_add(1);
            if !we_had_more && !dd.flags.more() {
                self.nbr_event(now, i, rid, NbrEvent::ExchangeDone, actions);
            } else {
                self.send_next_dd(now, i, rid, actions);
            }
        } else {
            n.dd_seq = dd.sequence;
            self.send_next_dd(now, i, rid, actions);
            let we_have_more = self
                .neighbour(i, rid)
                .and_then(|n| n.last_tx_dd.as_ref())
                .is_some_and(|d| d.flags.more());
            if !dd.flags.more() && !we_have_more {
                self.nbr_event(now, i, rid, NbrEvent::ExchangeDone, actions);
            }
        }
        self.request_more(now, i, rid, actions);
    }

    /// Sends a Link State Request (§10.9) when LSAs are wanted and no
    /// request is outstanding; in Loading, an empty list is LoadingDone.
    pub(super) fn request_more(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        actions: &mut OspfActions,
    ) {
        use NeighbourState::*;
        let rxmt = self.ifaces[i].rxmt();
        let room = (self.ifaces[i].payload_room() + 8) / 12;
        let Some(n) = self.neighbour(i, rid) else {
            return;
        };
        if !matches!(n.state, Exchange | Loading) {
            return;
        }
        if n.requests.is_empty() {
            n.lsr_sent.clear();
            n.lsr_rxmt_at = None;
            if n.state == Loading {
                self.nbr_event(now, i, rid, NbrEvent::LoadingDone, actions);
            }
            return;
        }
        if n.lsr_sent.iter().any(|k| n.requests.contains_key(k)) {
            return;
        }
        self.send_lsr(now, i, rid, room, rxmt, actions);
    }

    fn send_lsr(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        room: usize,
        rxmt: core::time::Duration,
        actions: &mut OspfActions,
    ) {
        let Some(n) = self.neighbour(i, rid) else {
            return;
        };
        let keys: Vec<LsaKey> = n.requests.keys().take(room.max(1)).copied().collect();
        n.lsr_sent = keys.clone();
        n.lsr_rxmt_at = Some(now + rxmt);
        let address = n.address;
        let to = self.ifaces[i].unicast(address);
        self.send(i, to, OspfBody::LinkStateRequest(keys), actions);
    }

    /// A Link State Request (§10.7): the LSAs asked for, in updates sent
    /// to the neighbour; one we lack is BadLSReq.
    pub(super) fn receive_lsr(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        keys: &[LsaKey],
        actions: &mut OspfActions,
    ) {
        use NeighbourState::*;
        let Some(n) = self.ifaces[i].neighbours.get(&rid) else {
            return;
        };
        if !matches!(n.state, Exchange | Loading | Full) {
            return;
        }
        let address = n.address;
        let to = self.ifaces[i].unicast(address);
        let delay = self.ifaces[i].cfg.transmit_delay;
        let mut lsas = Vec::with_capacity(keys.len());
        for key in keys {
            let Some(e) = self.lsdb.get(key) else {
                self.nbr_event(now, i, rid, NbrEvent::BadLsReq, actions);
                return;
            };
            lsas.push(super::flood::for_sending(e.current(now), delay));
        }
        self.send_lsas(i, to, lsas, actions);
    }

    /// A neighbour's timers (§10.3 InactivityTimer, §10.8 DD
    /// retransmission, §10.9 request retransmission, §13.6 LSA
    /// retransmission).
    pub(super) fn poll_neighbour(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        actions: &mut OspfActions,
    ) {
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        let Some(n) = self.ifaces[i].neighbours.get(&rid) else {
            return;
        };
        if n.inactivity_at <= now {
            self.nbr_event(now, i, rid, NbrEvent::InactivityTimer, actions);
            return;
        }
        let (dd, lsr, lsu) = (due(n.dd_rxmt_at), due(n.lsr_rxmt_at), due(n.lsu_rxmt_at));
        if dd {
            self.resend_dd(now, i, rid, actions);
        }
        if lsr {
            let rxmt = self.ifaces[i].rxmt();
            let room = (self.ifaces[i].payload_room() + 8) / 12;
            let Some(n) = self.neighbour(i, rid) else {
                return;
            };
            n.lsr_rxmt_at = None;
            let asking = matches!(n.state, NeighbourState::Exchange | NeighbourState::Loading);
            if asking && !n.requests.is_empty() {
                self.send_lsr(now, i, rid, room, rxmt, actions);
            } else {
                self.request_more(now, i, rid, actions);
            }
        }
        if lsu {
            self.retransmit(now, i, rid, actions);
        }
    }
}

/// LS types this router floods: the five of RFC 2328 §A.4.1.
pub(super) fn known_type(t: LsType) -> bool {
    !matches!(t, LsType::Unknown(_))
}
