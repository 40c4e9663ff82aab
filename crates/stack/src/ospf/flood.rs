//! Receiving and flooding LSAs (RFC 2328 §13): Link State Updates,
//! reliable flooding with retransmission lists (§13.3, §13.6),
//! acknowledgements (§13.5, §13.7), and the flushing of LSAs at MaxAge
//! (§14).

use super::interface::InterfaceState;
use super::neighbour::{NbrEvent, NeighbourState, known_type};
use super::{Ospf, OspfActions, compare};
use crate::time::Instant;
use core::cmp::Ordering;
use core::time::Duration;
use std::net::Ipv4Addr;
use vnet_wire::ospf::{self, Lsa, LsaHeader, LsaKey, OspfBody};

/// MinLSArrival (Appendix B): an LSA is accepted from flooding at most
/// once a second.
const MIN_LS_ARRIVAL: Duration = Duration::from_secs(ospf::MIN_LS_ARRIVAL as u64);

/// The LSA as it goes out of an interface: aged by InfTransDelay (§13.3
/// step 5), at most MaxAge.
pub(super) fn for_sending(mut lsa: Lsa, delay: u16) -> Lsa {
    lsa.header.age = lsa.header.age.saturating_add(delay).min(ospf::MAX_AGE);
    lsa
}

impl Ospf {
    /// Sends `lsas` out of interface `i` to `to`, in as many updates as
    /// the MTU needs.
    pub(super) fn send_lsas(
        &mut self,
        i: usize,
        to: Ipv4Addr,
        lsas: Vec<Lsa>,
        actions: &mut OspfActions,
    ) {
        let room = self.ifaces[i].payload_room() + 4;
        let mut chunk: Vec<Lsa> = Vec::new();
        let mut size = 0;
        for lsa in lsas {
            let len = lsa.buffer_len();
            if !chunk.is_empty() && size + len > room {
                let full = core::mem::take(&mut chunk);
                self.send(i, to, OspfBody::LinkStateUpdate(full), actions);
                size = 0;
            }
            size += len;
            chunk.push(lsa);
        }
        if !chunk.is_empty() {
            self.send(i, to, OspfBody::LinkStateUpdate(chunk), actions);
        }
    }

    /// A Link State Update from `rid` (§13): each LSA in turn, then any
    /// request that is now answered lets the next one go.
    pub(super) fn receive_lsu(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        lsas: Vec<Lsa>,
        actions: &mut OspfActions,
    ) {
        let state = self.ifaces[i].neighbours.get(&rid).map(|n| n.state);
        if state.is_none_or(|s| s < NeighbourState::Exchange) {
            return;
        }
        for lsa in lsas {
            if !self.receive_lsa(now, i, rid, lsa, actions) {
                break;
            }
        }
        // Flooding may have answered requests of any neighbour.
        let pending: Vec<(usize, Ipv4Addr)> = self
            .ifaces
            .iter()
            .enumerate()
            .flat_map(|(j, iface)| iface.neighbours.keys().map(move |r| (j, *r)))
            .collect();
        for (j, r) in pending {
            self.request_more(now, j, r, actions);
        }
    }

    /// One LSA of an update (§13 steps 1–8). Returns false when the rest
    /// of the update must be dropped (BadLSReq).
    fn receive_lsa(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        lsa: Lsa,
        actions: &mut OspfActions,
    ) -> bool {
        // Steps 1 and 2: a valid checksum and a known type.
        if !lsa.checksum_ok() || !known_type(lsa.header.ls_type) {
            self.counters.bad_lsas += 1;
            return true;
        }
        let key = lsa.header.key();
        let iface = &self.ifaces[i];
        let Some(n) = iface.neighbours.get(&rid) else {
            return false;
        };
        let from_dr = n.address == iface.dr;
        let on_request_list = n.requests.contains_key(&key);
        let backup = iface.state == InterfaceState::Backup;
        let db = self.lsdb.get(&key);
        // Step 4: a MaxAge LSA we do not have, while nobody is exchanging
        // databases: acknowledge it and forget it.
        if lsa.header.age >= ospf::MAX_AGE && db.is_none() && !self.exchanging() {
            self.direct_ack(i, rid, lsa.header, actions);
            return true;
        }
        let order = db.map(|e| compare(&lsa.header, &e.header(now)));
        match order {
            None | Some(Ordering::Greater) => {
                // Step 5a: MinLSArrival.
                if db.is_some_and(|e| now - e.installed < MIN_LS_ARRIVAL) {
                    return true;
                }
                // 5c, 5b, 5d: the old instance leaves the retransmission
                // lists, the new one is flooded and installed.
                self.forget_instance(&key);
                let back = self.flood(now, &lsa, Some((i, rid)), actions);
                let header = lsa.header;
                if self.lsdb.install(lsa, now) {
                    self.spf_due = true;
                }
                // 5e (§13.5).
                if !back && (!backup || from_dr) {
                    self.delayed_ack(now, i, header);
                }
                // 5f: a self-originated LSA we did not originate is
                // replaced or flushed by `originate` (§13.4).
            }
            Some(Ordering::Equal) | Some(Ordering::Less) if on_request_list => {
                // Step 6.
                self.nbr_event(now, i, rid, NbrEvent::BadLsReq, actions);
                return false;
            }
            Some(Ordering::Equal) => {
                // Step 7: an implied acknowledgement, or a duplicate.
                let implied = self.ifaces[i]
                    .neighbours
                    .get_mut(&rid)
                    .and_then(|n| n.rxmt.remove(&key))
                    .is_some();
                if !implied {
                    self.direct_ack(i, rid, lsa.header, actions);
                } else if backup && from_dr {
                    self.delayed_ack(now, i, lsa.header);
                }
            }
            Some(Ordering::Less) => {
                // Step 8: ours is newer: send it back, once a MinLSArrival.
                let Some(e) = self.lsdb.get_mut(&key) else {
                    return true;
                };
                if e.age(now) >= ospf::MAX_AGE && e.lsa.header.seq == ospf::MAX_SEQUENCE {
                    return true;
                }
                if e.sent_back.is_some_and(|t| now - t < MIN_LS_ARRIVAL) {
                    return true;
                }
                e.sent_back = Some(now);
                let delay = self.ifaces[i].cfg.transmit_delay;
                let ours = for_sending(e.current(now), delay);
                let to = self.ifaces[i].unicast(n_address(self, i, rid));
                self.send_lsas(i, to, vec![ours], actions);
            }
        }
        true
    }

    /// Some neighbour is in Exchange or Loading (§13 step 4, §14).
    fn exchanging(&self) -> bool {
        self.ifaces.iter().any(|iface| {
            iface
                .neighbours
                .values()
                .any(|n| matches!(n.state, NeighbourState::Exchange | NeighbourState::Loading))
        })
    }

    /// Removes every instance of `key` from the retransmission lists.
    pub(super) fn forget_instance(&mut self, key: &LsaKey) {
        for iface in &mut self.ifaces {
            for n in iface.neighbours.values_mut() {
                n.rxmt.remove(key);
                if n.rxmt.is_empty() {
                    n.lsu_rxmt_at = None;
                }
            }
        }
    }

    /// Floods `lsa` (§13.3) out of every interface with a neighbour that
    /// needs it, except back to the DR/BDR it came from; `from` is the
    /// interface and neighbour it came from (none for our own). Returns
    /// whether it went back out of the receiving interface.
    pub(super) fn flood(
        &mut self,
        now: Instant,
        lsa: &Lsa,
        from: Option<(usize, Ipv4Addr)>,
        actions: &mut OspfActions,
    ) -> bool {
        let key = lsa.header.key();
        let mut back = false;
        for j in 0..self.ifaces.len() {
            let iface = &mut self.ifaces[j];
            if !iface.active() {
                continue;
            }
            let rxmt = iface.rxmt();
            let mut added = false;
            for (r, n) in iface.neighbours.iter_mut() {
                if n.state < NeighbourState::Exchange {
                    continue;
                }
                // (b) A neighbour still asking for it.
                if let Some(asked) = n.requests.get(&key) {
                    match compare(&lsa.header, asked) {
                        Ordering::Less => continue,
                        Ordering::Equal => {
                            n.requests.remove(&key);
                            continue;
                        }
                        Ordering::Greater => {
                            n.requests.remove(&key);
                        }
                    }
                }
                // (c) Not back to the sender.
                if from == Some((j, *r)) {
                    continue;
                }
                // (d)
                n.rxmt.insert(key, lsa.header);
                n.lsu_rxmt_at.get_or_insert(now + rxmt);
                added = true;
            }
            if !added {
                continue;
            }
            if let Some((_, frid)) = from.filter(|(fi, _)| *fi == j) {
                let sender = iface.neighbours.get(&frid).map(|n| n.address);
                let via_dr = sender.is_some_and(|a| a == iface.dr || a == iface.bdr);
                // (3) and (4): the DR has flooded it to everyone already;
                // a BDR leaves the flooding to the DR.
                if via_dr || iface.state == InterfaceState::Backup {
                    continue;
                }
                back = true;
            }
            let to = iface.flood_to();
            let out = for_sending(lsa.clone(), iface.cfg.transmit_delay);
            self.send_lsas(j, to, vec![out], actions);
        }
        back
    }

    fn delayed_ack(&mut self, now: Instant, i: usize, header: LsaHeader) {
        let delay = self.config.ack_delay;
        let iface = &mut self.ifaces[i];
        iface.delayed_acks.push(header);
        iface.ack_at.get_or_insert(now + delay);
    }

    fn direct_ack(
        &mut self,
        i: usize,
        rid: Ipv4Addr,
        header: LsaHeader,
        actions: &mut OspfActions,
    ) {
        let to = self.ifaces[i].unicast(n_address(self, i, rid));
        self.send(i, to, OspfBody::LinkStateAck(vec![header]), actions);
    }

    /// The delayed acknowledgements of interface `i`, together (§13.5).
    pub(super) fn send_delayed_acks(&mut self, i: usize, actions: &mut OspfActions) {
        let iface = &mut self.ifaces[i];
        iface.ack_at = None;
        let headers = core::mem::take(&mut iface.delayed_acks);
        let to = iface.flood_to();
        let per_packet = (iface.payload_room() + 8) / ospf::LSA_HEADER_LEN;
        for chunk in headers.chunks(per_packet.max(1)) {
            self.send(i, to, OspfBody::LinkStateAck(chunk.to_vec()), actions);
        }
    }

    /// A Link State Acknowledgment (§13.7): acknowledged instances leave
    /// the neighbour's retransmission list.
    pub(super) fn receive_ack(&mut self, i: usize, rid: Ipv4Addr, headers: &[LsaHeader]) {
        let Some(n) = self.ifaces[i].neighbours.get_mut(&rid) else {
            return;
        };
        if n.state < NeighbourState::Exchange {
            return;
        }
        for h in headers {
            let key = h.key();
            if n.rxmt.get(&key).is_some_and(|x| compare(h, x).is_eq()) {
                n.rxmt.remove(&key);
            }
        }
        if n.rxmt.is_empty() {
            n.lsu_rxmt_at = None;
        }
    }

    /// The retransmission timer of a neighbour (§13.6): every LSA it has
    /// not acknowledged, sent to it directly.
    pub(super) fn retransmit(
        &mut self,
        now: Instant,
        i: usize,
        rid: Ipv4Addr,
        actions: &mut OspfActions,
    ) {
        let rxmt = self.ifaces[i].rxmt();
        let delay = self.ifaces[i].cfg.transmit_delay;
        let Some(n) = self.ifaces[i].neighbours.get_mut(&rid) else {
            return;
        };
        let lsdb = &self.lsdb;
        n.rxmt.retain(|k, _| lsdb.get(k).is_some());
        let lsas: Vec<Lsa> = n
            .rxmt
            .keys()
            .filter_map(|k| lsdb.get(k))
            .map(|e| for_sending(e.current(now), delay))
            .collect();
        n.lsu_rxmt_at = (!lsas.is_empty()).then_some(now + rxmt);
        let address = n.address;
        let to = self.ifaces[i].unicast(address);
        self.counters.retransmissions += lsas.len() as u64;
        self.send_lsas(i, to, lsas, actions);
    }

    /// Forgets LSAs at MaxAge once no neighbour must acknowledge them and
    /// none is exchanging databases (§14).
    pub(super) fn remove_flushed(&mut self) {
        let flushed: Vec<LsaKey> = self
            .lsdb
            .iter()
            .filter(|(_, e)| e.flushing)
            .map(|(k, _)| *k)
            .collect();
        if flushed.is_empty() || self.exchanging() {
            return;
        }
        for key in flushed {
            let pending = self
                .ifaces
                .iter()
                .any(|iface| iface.neighbours.values().any(|n| n.rxmt.contains_key(&key)));
            if !pending {
                self.lsdb.remove(&key);
                self.originated.remove(&key);
                self.spf_due = true;
            }
        }
    }
}

/// The address of neighbour `rid` on interface `i` (0.0.0.0 if gone).
fn n_address(ospf: &Ospf, i: usize, rid: Ipv4Addr) -> Ipv4Addr {
    ospf.ifaces[i]
        .neighbours
        .get(&rid)
        .map_or(Ipv4Addr::UNSPECIFIED, |n| n.address)
}
