//! Layer-2 learning bridge (IEEE 802.1D-2004 §7.8 learning, §7.9 aging),
//! used by the switch device. No IP here.

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
}

impl MacTable {
    /// An empty table.
    pub fn new(cfg: MacTableConfig) -> Self {
        Self {
            cfg,
            map: HashMap::new(),
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
        before - self.map.len()
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

/// The forwarding decision of a bridge for one frame (IEEE 802.1D §7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchDecision {
    /// Send out of this port only.
    Forward(usize),
    /// Send out of every port except the ingress one (unknown unicast,
    /// broadcast, multicast).
    Flood,
    /// Drop: the destination is on the ingress port.
    Filter,
}

/// Counters of a [`Bridge`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BridgeCounters {
    /// Frames forwarded to a single port.
    pub forwarded: u64,
    /// Frames flooded.
    pub flooded: u64,
    /// Frames filtered (destination on the ingress port).
    pub filtered: u64,
    /// New addresses learned.
    pub learned: u64,
    /// Stations seen moving to another port.
    pub moved: u64,
    /// Source addresses not learned because the table was full.
    pub table_full: u64,
}

/// A transparent learning bridge: learn the source, then forward, flood or filter.
#[derive(Debug, Clone)]
pub struct Bridge {
    /// The filtering database.
    pub table: MacTable,
    counters: BridgeCounters,
}

impl Bridge {
    /// A bridge with an empty table.
    pub fn new(cfg: MacTableConfig) -> Self {
        Self {
            table: MacTable::new(cfg),
            counters: BridgeCounters::default(),
        }
    }

    /// The counters.
    pub fn counters(&self) -> &BridgeCounters {
        &self.counters
    }

    /// Learns `src` on `in_port` and decides where a frame to `dst` goes.
    ///
    /// When the table is full new sources are not learned and frames to
    /// unknown destinations are flooded, as real switches do.
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
            SwitchDecision::Flood
        } else {
            match self.table.lookup(now, dst) {
                Some(p) if p == in_port => SwitchDecision::Filter,
                Some(p) => SwitchDecision::Forward(p),
                None => SwitchDecision::Flood,
            }
        };
        match decision {
            SwitchDecision::Forward(_) => self.counters.forwarded += 1,
            SwitchDecision::Flood => self.counters.flooded += 1,
            SwitchDecision::Filter => self.counters.filtered += 1,
        }
        (decision, learned)
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
        let mut b = Bridge::new(MacTableConfig {
            capacity: 2,
            aging: Duration::from_secs(300),
        });
        let t0 = Instant::ZERO;
        b.decide(t0, 1, mac(9), mac(1));
        b.decide(t0, 2, mac(9), mac(2));
        let (d, l) = b.decide(t0, 3, mac(1), mac(3));
        assert_eq!(l, LearnOutcome::TableFull);
        assert_eq!(d, SwitchDecision::Forward(1));
        let (d, _) = b.decide(t0, 1, mac(3), mac(1));
        assert_eq!(d, SwitchDecision::Flood);
        assert_eq!(b.counters().table_full, 1);
        // Once an old entry ages out, space is reclaimed.
        let later = Instant::from_secs(400);
        let (_, l) = b.decide(later, 3, mac(1), mac(3));
        assert_eq!(l, LearnOutcome::Learned);
    }

    #[test]
    fn filter_and_sorted_entries() {
        let mut b = Bridge::new(MacTableConfig::default());
        let t0 = Instant::ZERO;
        b.decide(t0, 2, EthernetAddress::BROADCAST, mac(5));
        b.decide(t0, 1, EthernetAddress::BROADCAST, mac(7));
        b.decide(t0, 1, EthernetAddress::BROADCAST, mac(6));
        let (d, _) = b.decide(t0, 1, mac(6), mac(7));
        assert_eq!(d, SwitchDecision::Filter);
        let ports: Vec<(usize, u8)> = b
            .table
            .entries(t0)
            .iter()
            .map(|e| (e.port, e.mac.0[5]))
            .collect();
        assert_eq!(ports, vec![(1, 6), (1, 7), (2, 5)]);
        assert_eq!(b.table.flush_port(1), 2);
    }
}
