//! Layer-2 learning bridge (IEEE 802.1D-2004 §7.7 forwarding, §7.8
//! learning, §7.9 the filtering database and its ageing), used by the switch
//! device. No IP here, and no frames either: [`Bridge::decide`] takes the
//! two addresses and says where the frame goes; the caller transmits it.

use crate::time::Instant;
use core::time::Duration;
use serde::Serialize;
use std::collections::HashMap;
use vnet_wire::ethernet::EthernetAddress;

/// Configuration of a [`MacTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacTableConfig {
    /// Maximum number of entries (the "CAM" size). Default 1024.
    pub capacity: usize,
    /// Ageing time (IEEE 802.1D §7.9.2 recommends 300 s). Default 300 s.
    pub aging: Duration,
}

impl Default for MacTableConfig {
    fn default() -> Self {
        Self {
            capacity: 1024,
            aging: Duration::from_secs(300),
        }
    }
}

/// What [`MacTable::learn`] did with a source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnOutcome {
    /// A new entry was created.
    Learned,
    /// The entry existed on the same port; its age was reset.
    Refreshed,
    /// The entry existed on another port and now points at the new one
    /// (the station moved).
    Moved {
        /// The port it was on.
        from: usize,
    },
    /// The table is full: the address was not learned (frames to it are flooded).
    TableFull,
    /// The source is a group address, which is never learned (802.1D §7.8).
    Ignored,
}

/// One entry, as shown by `show mac`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacEntry {
    /// The station address.
    pub mac: EthernetAddress,
    /// The port it was last seen on.
    pub port: usize,
    /// Time since it was last seen.
    pub age: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    port: usize,
    last_seen: Instant,
}

/// The filtering database of a learning bridge (IEEE 802.1D §7.9).
///
/// Bounded by [`MacTableConfig::capacity`]; an entry expires `aging` after
/// it was last refreshed. Expired entries are ignored by lookups at once and
/// removed by [`MacTable::expire`] (or when space is needed).
#[derive(Debug, Clone)]
pub struct MacTable {
    cfg: MacTableConfig,
    map: HashMap<EthernetAddress, Slot>,
    /// Entries removed by ageing so far, by `expire` or to make space.
    aged_out: u64,
}

impl MacTable {
    /// An empty table.
    pub fn new(cfg: MacTableConfig) -> Self {
        Self {
            cfg,
            map: HashMap::new(),
            aged_out: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &MacTableConfig {
        &self.cfg
    }

    fn expired(&self, now: Instant, slot: &Slot) -> bool {
        now >= slot.last_seen + self.cfg.aging
    }

    /// Records that `mac` was seen as a source on `port` at `now`
    /// (IEEE 802.1D §7.8: the learning process).
    pub fn learn(&mut self, now: Instant, mac: EthernetAddress, port: usize) -> LearnOutcome {
        if mac.is_multicast() {
            return LearnOutcome::Ignored;
        }
        let aging = self.cfg.aging;
        if let Some(slot) = self.map.get_mut(&mac) {
            let was_live = now < slot.last_seen + aging;
            let from = slot.port;
            slot.port = port;
            slot.last_seen = now;
            return match (was_live, from == port) {
                (false, _) => LearnOutcome::Learned,
                (true, true) => LearnOutcome::Refreshed,
                (true, false) => LearnOutcome::Moved { from },
            };
        }
        if self.map.len() >= self.cfg.capacity {
            self.expire(now);
            if self.map.len() >= self.cfg.capacity {
                return LearnOutcome::TableFull;
            }
        }
        self.map.insert(
            mac,
            Slot {
                port,
                last_seen: now,
            },
        );
        LearnOutcome::Learned
    }

    /// The port `mac` was last seen on, unless the entry has aged out.
    pub fn lookup(&self, now: Instant, mac: EthernetAddress) -> Option<usize> {
        let slot = self.map.get(&mac)?;
        (!self.expired(now, slot)).then_some(slot.port)
    }

    /// Removes aged-out entries (IEEE 802.1D §7.9.2); returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        let aging = self.cfg.aging;
        let before = self.map.len();
        self.map.retain(|_, s| now < s.last_seen + aging);
        let removed = before - self.map.len();
        self.aged_out = self.aged_out.saturating_add(removed as u64);
        removed
    }

    /// How many entries ageing has removed so far, by [`MacTable::expire`]
    /// or by [`MacTable::learn`] making space in a full table.
    pub fn aged_out(&self) -> u64 {
        self.aged_out
    }

    /// Live entries sorted by port, then address.
    pub fn entries(&self, now: Instant) -> Vec<MacEntry> {
        let mut v: Vec<MacEntry> = self
            .map
            .iter()
            .filter(|(_, s)| !self.expired(now, s))
            .map(|(mac, s)| MacEntry {
                mac: *mac,
                port: s.port,
                age: now - s.last_seen,
            })
            .collect();
        v.sort_by_key(|e| (e.port, e.mac));
        v
    }

    /// Number of stored entries (expired ones not yet removed included).
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Removes every entry learned on `port` (e.g. when its link goes down,
    /// IEEE 802.1D §7.9.4 "flushing").
    pub fn flush_port(&mut self, port: usize) -> usize {
        let before = self.map.len();
        self.map.retain(|_, s| s.port != port);
        before - self.map.len()
    }

    /// When the next entry ages out, if any.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.map
            .values()
            .map(|s| s.last_seen + self.cfg.aging)
            .min()
    }
}

/// Why a [`Bridge`] floods a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloodReason {
    /// The destination is a group address (broadcast or multicast).
    Group,
    /// The destination is not in the table (never seen, aged out, flushed,
    /// or not learned because the table was full), or it was learned on a
    /// port whose link is down.
    Unknown,
}

/// The forwarding decision of a bridge for one frame (IEEE 802.1D §7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchDecision {
    /// Send out of this port only (it is up and not the ingress port).
    Forward(usize),
    /// Send out of every port that is up except the ingress one
    /// ([`Bridge::flood_ports`]).
    Flood(FloodReason),
    /// Drop: the destination is on the ingress port.
    Filter,
}

/// Counters of a [`Bridge`]. Their names are the JSON names the switch
/// reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BridgeCounters {
    /// Frames sent to exactly one known port.
    pub forwarded: u64,
    /// Frames flooded (broadcast, multicast or unknown destination).
    pub flooded: u64,
    /// Frames dropped because the destination is on the ingress port.
    pub filtered: u64,
    /// New addresses learned.
    pub learned: u64,
    /// Addresses that moved to another port.
    pub moved: u64,
    /// Addresses not learned because the table was full.
    pub table_full: u64,
    /// Entries removed by ageing.
    pub aged_out: u64,
    /// Entries removed because the link of their port went down.
    pub macs_flushed: u64,
}

/// A transparent learning bridge (IEEE 802.1D without spanning tree): learn
/// the source, then forward, flood or filter, never sending out of a port
/// whose link is down.
#[derive(Debug, Clone)]
pub struct Bridge {
    table: MacTable,
    port_up: Vec<bool>,
    counters: BridgeCounters,
}

impl Bridge {
    /// A bridge with `ports` ports, all up, and an empty table.
    pub fn new(cfg: MacTableConfig, ports: usize) -> Self {
        Self {
            table: MacTable::new(cfg),
            port_up: vec![true; ports],
            counters: BridgeCounters::default(),
        }
    }

    /// The filtering database.
    pub fn table(&self) -> &MacTable {
        &self.table
    }

    /// The counters.
    pub fn counters(&self) -> BridgeCounters {
        BridgeCounters {
            aged_out: self.table.aged_out(),
            ..self.counters
        }
    }

    /// Whether `port` exists and its link is up.
    pub fn is_port_up(&self, port: usize) -> bool {
        self.port_up.get(port).copied().unwrap_or(false)
    }

    /// Records that the link of `port` went up or down. When it goes down,
    /// every address learned on it is removed from the filtering database
    /// (IEEE 802.1D §7.9), as on a topology change: those stations are
    /// flooded to until they are learned again. Returns how many, at most
    /// the table's capacity. Unknown ports are ignored.
    pub fn set_port_up(&mut self, port: usize, up: bool) -> usize {
        let Some(state) = self.port_up.get_mut(port) else {
            return 0;
        };
        *state = up;
        if up {
            return 0;
        }
        let flushed = self.table.flush_port(port);
        self.counters.macs_flushed = self.counters.macs_flushed.saturating_add(flushed as u64);
        flushed
    }

    /// The ports a frame that came in on `in_port` is flooded to: every port
    /// that is up, except `in_port`, in port order.
    pub fn flood_ports(&self, in_port: usize) -> impl Iterator<Item = usize> + '_ {
        self.port_up
            .iter()
            .enumerate()
            .filter(move |&(port, &up)| up && port != in_port)
            .map(|(port, _)| port)
    }

    /// Learns `src` on `in_port` and decides where a frame to `dst` goes.
    ///
    /// Group destinations are flooded. A known destination on the ingress
    /// port is filtered; on another port that is up, the frame is forwarded
    /// there; otherwise (unknown, or its port is down) it is flooded. When
    /// the table is full new sources are not learned and frames to them are
    /// flooded, as real switches do.
    pub fn decide(
        &mut self,
        now: Instant,
        in_port: usize,
        dst: EthernetAddress,
        src: EthernetAddress,
    ) -> (SwitchDecision, LearnOutcome) {
        let learned = self.table.learn(now, src, in_port);
        match learned {
            LearnOutcome::Learned => self.counters.learned += 1,
            LearnOutcome::Moved { .. } => self.counters.moved += 1,
            LearnOutcome::TableFull => self.counters.table_full += 1,
            LearnOutcome::Refreshed | LearnOutcome::Ignored => {}
        }
        let decision = if dst.is_multicast() {
            SwitchDecision::Flood(FloodReason::Group)
        } else {
            match self.table.lookup(now, dst) {
                Some(p) if p == in_port => SwitchDecision::Filter,
                Some(p) if self.is_port_up(p) => SwitchDecision::Forward(p),
                _ => SwitchDecision::Flood(FloodReason::Unknown),
            }
        };
        match decision {
            SwitchDecision::Forward(_) => self.counters.forwarded += 1,
            SwitchDecision::Flood(_) => self.counters.flooded += 1,
            SwitchDecision::Filter => self.counters.filtered += 1,
        }
        (decision, learned)
    }

    /// Removes aged-out entries (IEEE 802.1D §7.9.2); returns how many.
    pub fn expire(&mut self, now: Instant) -> usize {
        self.table.expire(now)
    }

    /// When the next entry ages out, if any.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.table.next_expiry()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(n: u8) -> EthernetAddress {
        EthernetAddress([0x02, 0, 0, 0, 0, n])
    }

    fn table(capacity: usize) -> MacTable {
        MacTable::new(MacTableConfig {
            capacity,
            aging: Duration::from_secs(300),
        })
    }

    #[test]
    fn learn_refresh_move() {
        let mut t = table(8);
        let t0 = Instant::ZERO;
        assert_eq!(t.learn(t0, mac(1), 1), LearnOutcome::Learned);
        assert_eq!(t.learn(t0, mac(1), 1), LearnOutcome::Refreshed);
        assert_eq!(t.learn(t0, mac(1), 2), LearnOutcome::Moved { from: 1 });
        assert_eq!(t.lookup(t0, mac(1)), Some(2));
        assert_eq!(
            t.learn(t0, EthernetAddress::BROADCAST, 1),
            LearnOutcome::Ignored
        );
        assert_eq!(
            t.learn(t0, EthernetAddress([0x01, 0, 0x5e, 0, 0, 1]), 1),
            LearnOutcome::Ignored
        );
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn aging() {
        let mut t = table(8);
        t.learn(Instant::ZERO, mac(1), 1);
        t.learn(Instant::from_secs(100), mac(2), 3);
        assert_eq!(t.next_expiry(), Some(Instant::from_secs(300)));
        assert_eq!(t.lookup(Instant::from_secs(299), mac(1)), Some(1));
        assert_eq!(t.lookup(Instant::from_secs(300), mac(1)), None);
        let e = t.entries(Instant::from_secs(300));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].age, Duration::from_secs(200));
        assert_eq!(t.expire(Instant::from_secs(300)), 1);
        assert_eq!(t.len(), 1);
        // An expired entry re-learned counts as new.
        t.learn(Instant::from_secs(1000), mac(2), 3);
        assert_eq!(
            t.learn(Instant::from_secs(1000), mac(2), 3),
            LearnOutcome::Refreshed
        );
    }

    #[test]
    fn full_table_floods_new_and_keeps_old() {
        let mut b = Bridge::new(
            MacTableConfig {
                capacity: 2,
                aging: Duration::from_secs(300),
            },
            4,
        );
        let t0 = Instant::ZERO;
        b.decide(t0, 1, mac(9), mac(1));
        b.decide(t0, 2, mac(9), mac(2));
        let (d, l) = b.decide(t0, 3, mac(1), mac(3));
        assert_eq!(l, LearnOutcome::TableFull);
        assert_eq!(d, SwitchDecision::Forward(1));
        let (d, _) = b.decide(t0, 1, mac(3), mac(1));
        assert_eq!(d, SwitchDecision::Flood(FloodReason::Unknown));
        assert_eq!(b.counters().table_full, 1);
        // Once an old entry ages out, space is reclaimed, and the entries
        // removed to make it count as aged out.
        let later = Instant::from_secs(400);
        let (_, l) = b.decide(later, 3, mac(1), mac(3));
        assert_eq!(l, LearnOutcome::Learned);
        assert_eq!(b.counters().aged_out, 2);
        assert_eq!(b.table().len(), 1);
    }

    #[test]
    fn filter_and_sorted_entries() {
        let mut b = Bridge::new(MacTableConfig::default(), 3);
        let t0 = Instant::ZERO;
        let (d, _) = b.decide(t0, 2, EthernetAddress::BROADCAST, mac(5));
        assert_eq!(d, SwitchDecision::Flood(FloodReason::Group));
        b.decide(t0, 1, EthernetAddress::BROADCAST, mac(7));
        b.decide(t0, 1, EthernetAddress::BROADCAST, mac(6));
        let (d, _) = b.decide(t0, 1, mac(6), mac(7));
        assert_eq!(d, SwitchDecision::Filter);
        let ports: Vec<(usize, u8)> = b
            .table()
            .entries(t0)
            .iter()
            .map(|e| (e.port, e.mac.0[5]))
            .collect();
        assert_eq!(ports, vec![(1, 6), (1, 7), (2, 5)]);
        assert_eq!(b.counters().filtered, 1);
        assert_eq!(b.counters().flooded, 3);
    }

    #[test]
    fn link_down_flushes_its_port_and_is_never_flooded_to() {
        let mut b = Bridge::new(MacTableConfig::default(), 3);
        let t0 = Instant::ZERO;
        b.decide(t0, 0, EthernetAddress::BROADCAST, mac(1));
        b.decide(t0, 1, EthernetAddress::BROADCAST, mac(2));
        b.decide(t0, 1, EthernetAddress::BROADCAST, mac(3));
        assert_eq!(b.flood_ports(0).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(b.set_port_up(1, false), 2);
        assert!(!b.is_port_up(1));
        assert_eq!(b.counters().macs_flushed, 2);
        assert_eq!(b.table().len(), 1);
        assert_eq!(b.flood_ports(0).collect::<Vec<_>>(), vec![2]);
        let (d, _) = b.decide(t0, 0, mac(2), mac(1));
        assert_eq!(d, SwitchDecision::Flood(FloodReason::Unknown));
        // Learned again on the down port (its receive side may still work):
        // frames to it are flooded, not forwarded into the dead link.
        b.decide(t0, 1, EthernetAddress::BROADCAST, mac(2));
        let (d, _) = b.decide(t0, 0, mac(2), mac(1));
        assert_eq!(d, SwitchDecision::Flood(FloodReason::Unknown));
        // Up again: no flush, forwarding resumes.
        assert_eq!(b.set_port_up(1, true), 0);
        let (d, _) = b.decide(t0, 0, mac(2), mac(1));
        assert_eq!(d, SwitchDecision::Forward(1));
        // Unknown ports are ignored and count as down.
        assert_eq!(b.set_port_up(9, false), 0);
        assert!(!b.is_port_up(9));
        assert_eq!(b.counters().macs_flushed, 2);
    }
}
