//! This router's own LSAs (RFC 2328 §12.4): the Router-LSA (§12.4.1)
//! and, on networks where it is DR, the Network-LSA (§12.4.2).
//!
//! Rather than react to each event of §12.4 one by one, every entry
//! point ends by computing what our LSAs should say now and comparing
//! with the database: a new or changed LSA is originated (at most once
//! per MinLSInterval), an LSA of ours that should no longer exist is
//! flushed by premature ageing (§14.1), and an unchanged one is
//! refreshed when it reaches LSRefreshTime (§12.4 event (1)). The same
//! comparison handles §13.4: an LSA of ours that arrives by flooding
//! (from before a restart) is replaced by a newer instance if its
//! contents are wrong, or flushed if we no longer originate it.

use super::interface::InterfaceState;
use super::neighbour::NeighbourState;
use super::{Ospf, OspfActions};
use crate::time::Instant;
use core::time::Duration;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use vnet_wire::ospf::{
    self, LinkType, LsType, Lsa, LsaBody, LsaHeader, LsaKey, NetworkLsa, Options, RouterLink,
    RouterLsa,
};

/// MinLSInterval (Appendix B).
const MIN_LS_INTERVAL: Duration = Duration::from_secs(ospf::MIN_LS_INTERVAL as u64);

fn link(link_id: Ipv4Addr, link_data: Ipv4Addr, link_type: LinkType, metric: u16) -> RouterLink {
    RouterLink {
        link_id,
        link_data,
        link_type,
        metric,
        tos: Vec::new(),
    }
}

impl Ospf {
    /// Our LSAs as they should be now (§12.4.1, §12.4.2).
    fn desired(&self) -> BTreeMap<LsaKey, LsaBody> {
        let me = self.config.router_id;
        let mut links = Vec::new();
        let mut out = BTreeMap::new();
        for iface in &self.ifaces {
            let cost = iface.cfg.cost;
            let addr = iface.address();
            let net = iface.cfg.address.network();
            let stub = link(net.address(), net.netmask(), LinkType::Stub, cost);
            let full = || {
                iface
                    .neighbours
                    .values()
                    .filter(|n| n.state == NeighbourState::Full)
            };
            match iface.state {
                InterfaceState::Down => {}
                // §12.4.1.1 / the Loopback state: a host route, cost 0.
                InterfaceState::Loopback => {
                    links.push(link(addr, Ipv4Addr::BROADCAST, LinkType::Stub, 0));
                }
                // §12.4.1.1: a link to the neighbour when Full, and the
                // subnet as a stub network either way.
                InterfaceState::PointToPoint => {
                    for n in full() {
                        links.push(link(n.router_id, addr, LinkType::PointToPoint, cost));
                    }
                    links.push(stub);
                }
                // §12.4.1.2: a transit network once adjacent to its DR
                // (or DR with an adjacency), else a stub network.
                _ => {
                    let dr = iface.state == InterfaceState::Dr;
                    let transit = if dr {
                        full().next().is_some()
                    } else {
                        iface
                            .dr_neighbour()
                            .is_some_and(|n| n.state == NeighbourState::Full)
                    };
                    if transit && iface.state != InterfaceState::Waiting {
                        links.push(link(iface.dr, addr, LinkType::Transit, cost));
                    } else {
                        links.push(stub);
                    }
                    if dr && transit {
                        let mut routers: Vec<Ipv4Addr> = full().map(|n| n.router_id).collect();
                        routers.insert(0, me);
                        let key = LsaKey {
                            ls_type: LsType::Network,
                            id: addr,
                            adv_router: me,
                        };
                        let body = NetworkLsa {
                            mask: iface.cfg.address.netmask(),
                            routers,
                        };
                        out.insert(key, LsaBody::Network(body));
                    }
                }
            }
        }
        let key = LsaKey {
            ls_type: LsType::Router,
            id: me,
            adv_router: me,
        };
        out.insert(key, LsaBody::Router(RouterLsa { flags: 0, links }));
        out
    }

    /// Originates, refreshes and flushes our LSAs as the state requires.
    pub(super) fn originate(&mut self, now: Instant, actions: &mut OspfActions) {
        if self.origination_due.is_some_and(|t| t <= now) {
            self.origination_due = None;
        }
        let me = self.config.router_id;
        let desired = if self.shut_down {
            BTreeMap::new()
        } else {
            self.desired()
        };
        let mut keys: Vec<LsaKey> = desired.keys().copied().collect();
        keys.extend(
            self.lsdb
                .iter()
                .map(|(k, _)| *k)
                .filter(|k| k.adv_router == me && !desired.contains_key(k)),
        );
        for key in keys {
            let db = self.lsdb.get(&key);
            match (desired.get(&key), db) {
                (Some(body), None) => {
                    self.originate_one(now, key, body.clone(), ospf::INITIAL_SEQUENCE, actions);
                }
                (Some(body), Some(e)) => {
                    let stale = e.flushing
                        || e.lsa.body != *body
                        || e.lsa.header.options != Options(Options::E)
                        || e.age(now) >= ospf::LS_REFRESH_TIME;
                    if stale {
                        let seq = e.lsa.header.seq.wrapping_add(1);
                        self.originate_one(now, key, body.clone(), seq, actions);
                    }
                }
                (None, Some(e)) if !e.flushing => {
                    // §14.1: premature ageing.
                    let mut lsa = e.current(now);
                    lsa.header.age = ospf::MAX_AGE;
                    self.install_own(now, lsa, actions);
                }
                _ => {}
            }
        }
    }

    /// Originates one instance, unless MinLSInterval has not passed since
    /// the last one (then it is due when it has).
    fn originate_one(
        &mut self,
        now: Instant,
        key: LsaKey,
        body: LsaBody,
        seq: u32,
        actions: &mut OspfActions,
    ) {
        if let Some(&last) = self.originated.get(&key) {
            let at = last + MIN_LS_INTERVAL;
            if now < at {
                self.origination_due = Some(self.origination_due.map_or(at, |t| t.min(at)));
                return;
            }
        }
        if seq == ospf::INITIAL_SEQUENCE.wrapping_sub(1) {
            // §12.1.6: past MaxSequenceNumber the LSA must be flushed
            // first; 2^32 originations do not happen in a lab.
            tracing::warn!(?key, "ospf: LS sequence number wrapped; not originated");
            return;
        }
        let header = LsaHeader {
            age: 0,
            options: Options(Options::E),
            ls_type: key.ls_type,
            id: key.id,
            adv_router: key.adv_router,
            seq,
            checksum: 0,
            length: 0,
        };
        self.originated.insert(key, now);
        self.counters.originated += 1;
        self.install_own(now, Lsa::new(header, body), actions);
    }

    /// Installs and floods an LSA of ours.
    fn install_own(&mut self, now: Instant, lsa: Lsa, actions: &mut OspfActions) {
        let key = lsa.header.key();
        self.forget_instance(&key);
        if self.lsdb.install(lsa.clone(), now) {
            self.spf_due = true;
        }
        self.flood(now, &lsa, None, actions);
    }

    /// When one of our LSAs reaches LSRefreshTime.
    pub(super) fn next_refresh(&self) -> Option<Instant> {
        let me = self.config.router_id;
        self.lsdb
            .iter()
            .filter(|(k, e)| k.adv_router == me && !e.flushing)
            .map(|(k, e)| {
                let refresh = e.reaches(ospf::LS_REFRESH_TIME);
                // Not before MinLSInterval lets it happen.
                self.originated
                    .get(k)
                    .map_or(refresh, |&t| refresh.max(t + MIN_LS_INTERVAL))
            })
            .min()
    }
}
